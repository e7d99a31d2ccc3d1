/*
 * TAP backend: a VNIC's Linux face.  Opened with IFF_VNET_HDR and with the
 * offloads a virtio NIC would offer (checksum, TSO for IPv4 and IPv6 with
 * ECN, and UDP segmentation where the kernel has it), so the zone's stack
 * hands us whole TCP/UDP super-frames (up to 64 KiB) with their
 * virtio-net header, and takes them back the same way (datapath/vnet.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/if_tun.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "datapath/port.h"
#include "datapath/shape.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20 /* kernels from 6.2 on; older ones refuse it */
#define TUN_F_USO6 0x40
#endif
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

static int tap_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	int got = 0, fd = vw_port_fd(port, vw_worker_self);

	while (got < n) {
		struct vw_pkt *pkt = vw_pkt_alloc(pool);
		struct iovec iov[2];
		ssize_t r;

		if (!pkt)
			break;
		iov[0] = (struct iovec){ &pkt->vnet, sizeof(pkt->vnet) };
		iov[1] = (struct iovec){ pkt->buf, sizeof(pkt->buf) };
		r = readv(fd, iov, 2);
		if (r < (ssize_t)sizeof(pkt->vnet)) {
			vw_pkt_free(pool, pkt);
			break;
		}
		pkt->len = (uint32_t)(r - (ssize_t)sizeof(pkt->vnet));
		pkts[got++] = pkt;
	}
	return got;
}

int vw_tap_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	int i, sent = 0, fd = vw_port_fd(port, vw_worker_self);

	for (i = 0; i < n; i++) {
		struct vw_pkt *pkt = pkts[i];
		uint8_t vtag[4] = { 0x81, 0x00, (uint8_t)(pkt->vid >> 8), (uint8_t)pkt->vid };
		struct iovec iov[4];
		int niov = 0;

		iov[niov++] = (struct iovec){ &pkt->vnet, sizeof(pkt->vnet) };
		if (tag && pkt->vid) {
			iov[niov++] = (struct iovec){ pkt->data, 12 };
			iov[niov++] = (struct iovec){ vtag, 4 };
			iov[niov++] = (struct iovec){ pkt->data + 12, pkt->len - 12 };
		} else {
			iov[niov++] = (struct iovec){ pkt->data, pkt->len };
		}
		if (writev(fd, iov, niov) > 0)
			sent++;
	}
	return sent;
}

static int tap_tx(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct vw_shape *sh = __atomic_load_n(&port->shape[VW_SHAPE_IN], __ATOMIC_ACQUIRE);

	if (__builtin_expect(sh != NULL, 0))
		return vw_shape_in_tx(sh, pkts, n, tag);
	return vw_tap_write(port, pkts, n, tag);
}

static void tap_close(struct vw_port *port)
{
	int q;

	for (q = 0; q < port->nq; q++)
		close(port->qfd[q]);
}

static const struct vw_port_ops tap_ops = {
	.kind = "tap",
	.rx_burst = tap_rx,
	.tx_burst = tap_tx,
	.close = tap_close,
};

/* A steering program that sends every frame to one queue: two eBPF
 * instructions, r0 = queue; exit.  tun takes the result modulo its number of
 * queues. */
static int steer_prog_load(int queue)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = queue },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = 2;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

int vw_tap_steer(struct vw_port *port, int queue)
{
	int pfd = -1, err = 0;

	if (port->ops != &tap_ops || queue >= port->nq)
		return -EINVAL;
	if (queue >= 0) {
		pfd = steer_prog_load(queue);
		if (pfd < 0)
			return pfd;
	}
	/* the program belongs to the device: set through any of its queues;
	 * the device keeps its own reference, so ours is closed at once */
	if (ioctl(port->fd, TUNSETSTEERINGEBPF, &pfd) < 0)
		err = -errno;
	if (pfd >= 0)
		close(pfd);
	return err;
}

/* Opens one queue of the device (the first creates it). */
static int tap_open_queue(const char *name, bool multi)
{
	struct ifreq ifr = { 0 };
	int hdrsz = sizeof(struct virtio_net_hdr_v1);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0 ||
	    (ioctl(fd, TUNSETOFFLOAD, TAP_OFFLOADS | TUN_F_USO4 | TUN_F_USO6) < 0 &&
	     ioctl(fd, TUNSETOFFLOAD, TAP_OFFLOADS) < 0)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int tap_set_mac(const char *name, const uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		err = -errno;
	close(s);
	return err;
}

struct vw_port *vw_tap_open(const char *name, const uint8_t mac[6], int nq, int *err)
{
	struct vw_port *port;
	int q;

	if (nq < 1 || nq > VW_MAX_WORKERS) {
		*err = -EINVAL;
		return NULL;
	}
	/* TUNSETIFF on an existing persistent device would attach to it:
	 * refuse a name that is taken by anything else. */
	if (if_nametoindex(name)) {
		*err = -EEXIST;
		return NULL;
	}
	port = calloc(1, sizeof(*port));
	if (!port) {
		*err = -ENOMEM;
		return NULL;
	}
	for (q = 0; q < nq; q++) {
		int fd = tap_open_queue(name, nq > 1);

		if (fd < 0) {
			*err = fd;
			goto fail;
		}
		port->qfd[port->nq++] = fd;
	}
	port->fd = port->qfd[0];
	*err = tap_set_mac(name, mac);
	if (*err)
		goto fail;
	port->ops = &tap_ops;
	strncpy(port->name, name, sizeof(port->name) - 1);
	memcpy(port->mac, mac, 6);
	return port;
fail:
	tap_close(port);
	free(port);
	return NULL;
}
