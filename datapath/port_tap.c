/*
 * TAP backend: a VNIC's Linux face.  Opened with IFF_VNET_HDR and with the
 * offloads a virtio NIC would offer (checksum, TSO for IPv4 and IPv6 with
 * ECN, and UDP segmentation where the kernel has it), so the zone's stack
 * hands us whole TCP/UDP super-frames (up to 64 KiB) with their
 * virtio-net header, and takes them back the same way (datapath/vnet.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
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

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20 /* kernels from 6.2 on; older ones refuse it */
#define TUN_F_USO6 0x40
#endif
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

/* port->priv of a TAP; control thread only */
struct tap_priv {
	bool pinned; /* steered to one queue (vw_tap_steer with q >= 0) */
};

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

static int tap_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
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

static void tap_close(struct vw_port *port)
{
	int q;

	for (q = 0; q < port->nq; q++)
		close(port->qfd[q]);
	free(port->priv);
}

/*
 * TAP steering programs (TUNSETSTEERINGEBPF): socket-filter eBPF run on
 * every frame the device's stack sends; tun takes the result modulo its
 * number of queues.  To one queue: r0 = queue; exit.  Over a set of queues
 * (a link's cpus): each flow to one of them, by the skb's flow hash when the
 * stack set one (TCP does: the socket's txhash), else by a hash of the
 * frame's IPv4/IPv6 addresses and TCP/UDP ports (what a raw or UDP socket
 * sends has none), spread with a multiplicative hash and mapped onto the
 * allowed queues with a small jump table.  A load beyond the frame ends a
 * program with 0, which may not be an allowed queue: every load is behind a
 * length check.
 */
enum { L_PICK, L_MIX, L_V6, L_V4P, L_V6P, L_N };

struct bpf_asm {
	struct bpf_insn i[96];
	int n, label[L_N], fix[16], fixl[16], nfix;
};

static void emit(struct bpf_asm *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	a->i[a->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* A jump to label l, patched by asm_link. */
static void emit_jmp(struct bpf_asm *a, uint8_t code, uint8_t dst, uint8_t src, int32_t imm, int l)
{
	a->fix[a->nfix] = a->n;
	a->fixl[a->nfix++] = l;
	emit(a, code, dst, src, 0, imm);
}

static void asm_label(struct bpf_asm *a, int l)
{
	a->label[l] = a->n;
}

static void asm_link(struct bpf_asm *a)
{
	int k;

	for (k = 0; k < a->nfix; k++)
		a->i[a->fix[k]].off = (int16_t)(a->label[a->fixl[k]] - a->fix[k] - 1);
}

#define R0 BPF_REG_0
#define LDABS(sz, off) emit(&a, BPF_LD | BPF_ABS | (sz), 0, 0, 0, (off))
#define XOR_R8() emit(&a, BPF_ALU | BPF_XOR | BPF_X, BPF_REG_8, R0, 0, 0)

static int steer_prog_build(const int *q, int k, struct bpf_asm *out)
{
	struct bpf_asm a = { .n = 0 };
	int j, off;

	if (k == 1) {
		emit(&a, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, q[0]);
		emit(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		*out = a;
		return a.n;
	}
	/* r6 = skb (LD_ABS reads through it); r0 = skb->hash */
	emit(&a, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	emit(&a, BPF_LDX | BPF_MEM | BPF_W, R0, BPF_REG_6, offsetof(struct __sk_buff, hash), 0);
	emit_jmp(&a, BPF_JMP | BPF_JNE | BPF_K, R0, 0, 0, L_PICK);
	/* no hash: r8 = a hash of the headers, r7 = the frame's length */
	emit(&a, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_8, 0, 0, 0);
	emit(&a, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_6, offsetof(struct __sk_buff, len), 0);
	emit_jmp(&a, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_7, 0, 34, L_MIX);
	LDABS(BPF_H, 12);
	emit_jmp(&a, BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 0x86dd, L_V6);
	emit_jmp(&a, BPF_JMP | BPF_JNE | BPF_K, R0, 0, 0x0800, L_MIX);
	/* IPv4: addresses, then the ports of a TCP or UDP first fragment */
	LDABS(BPF_W, 26);
	XOR_R8();
	LDABS(BPF_W, 30);
	XOR_R8();
	LDABS(BPF_B, 23);
	emit_jmp(&a, BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 6, L_V4P);
	emit_jmp(&a, BPF_JMP | BPF_JNE | BPF_K, R0, 0, 17, L_MIX);
	asm_label(&a, L_V4P);
	LDABS(BPF_H, 20);
	emit(&a, BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, 0x3fff);
	emit_jmp(&a, BPF_JMP | BPF_JNE | BPF_K, R0, 0, 0, L_MIX);
	LDABS(BPF_B, 14);
	emit(&a, BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, 0xf);
	emit(&a, BPF_ALU | BPF_LSH | BPF_K, R0, 0, 0, 2);
	emit(&a, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, R0, 0, 0);
	emit(&a, BPF_ALU64 | BPF_ADD | BPF_K, R0, 0, 0, 14 + 4);
	emit_jmp(&a, BPF_JMP | BPF_JGT | BPF_X, R0, BPF_REG_7, 0, L_MIX);
	emit(&a, BPF_LD | BPF_IND | BPF_W, 0, BPF_REG_9, 0, 14);
	XOR_R8();
	emit_jmp(&a, BPF_JMP | BPF_JA, 0, 0, 0, L_MIX);
	/* IPv6: addresses, then the ports of TCP or UDP right behind */
	asm_label(&a, L_V6);
	emit_jmp(&a, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_7, 0, 54, L_MIX);
	for (off = 22; off < 54; off += 4) {
		LDABS(BPF_W, off);
		XOR_R8();
	}
	LDABS(BPF_B, 20);
	emit_jmp(&a, BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 6, L_V6P);
	emit_jmp(&a, BPF_JMP | BPF_JNE | BPF_K, R0, 0, 17, L_MIX);
	asm_label(&a, L_V6P);
	emit_jmp(&a, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_7, 0, 58, L_MIX);
	LDABS(BPF_W, 54);
	XOR_R8();
	asm_label(&a, L_MIX);
	emit(&a, BPF_ALU64 | BPF_MOV | BPF_X, R0, BPF_REG_8, 0, 0);
	/* spread the hash's bits (Fibonacci hashing), then pick a queue */
	asm_label(&a, L_PICK);
	emit(&a, BPF_ALU | BPF_MUL | BPF_K, R0, 0, 0, (int32_t)0x9e3779b1u);
	emit(&a, BPF_ALU | BPF_RSH | BPF_K, R0, 0, 0, 16);
	emit(&a, BPF_ALU | BPF_MOD | BPF_K, R0, 0, 0, k);
	for (j = 0; j < k - 1; j++) {
		emit(&a, BPF_JMP | BPF_JNE | BPF_K, R0, 0, 2, j);
		emit(&a, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, q[j]);
		emit(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	emit(&a, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, q[k - 1]);
	emit(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	asm_link(&a);
	*out = a;
	return a.n;
}

/* Loads the program that steers to the queues of mask (not 0). */
static int steer_prog_load(uint32_t mask)
{
	struct bpf_asm prog;
	union bpf_attr attr;
	int q[VW_MAX_WORKERS], k = 0, i, fd;

	for (i = 0; i < VW_MAX_WORKERS; i++)
		if (mask & (1u << i))
			q[k++] = i;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)prog.i;
	attr.insn_cnt = (uint32_t)steer_prog_build(q, k, &prog);
	attr.license = (uint64_t)(uintptr_t)"GPL";
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* Sets the device's steering: to the queues of mask, or none with 0. */
static int steer_set(struct vw_port *port, uint32_t mask)
{
	int pfd = -1, err = 0;

	if (mask) {
		pfd = steer_prog_load(mask);
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

static const struct vw_port_ops tap_ops = {
	.kind = "tap",
	.rx_burst = tap_rx,
	.write = tap_write,
	.close = tap_close,
	.steer = vw_tap_steer,
};

int vw_tap_steer(struct vw_port *port, int queue)
{
	struct tap_priv *tp = port->priv;
	int rc;

	if (port->ops != &tap_ops || queue >= port->nq)
		return -EINVAL;
	rc = steer_set(port, queue >= 0 ? 1u << queue : port->workers_allowed);
	if (!rc)
		tp->pinned = queue >= 0;
	return rc;
}

int vw_tap_allow(struct vw_port *port, uint32_t mask)
{
	uint32_t all = port->nq >= 32 ? ~0u : (1u << port->nq) - 1;
	int rc = 0;

	if (port->ops != &tap_ops || (mask & ~all))
		return -EINVAL;
	if (mask == all)
		mask = 0;
	if (!((struct tap_priv *)port->priv)->pinned && port->nq > 1)
		rc = steer_set(port, mask);
	if (!rc)
		port->workers_allowed = mask;
	return rc;
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
	if (port)
		port->priv = calloc(1, sizeof(struct tap_priv));
	if (!port || !port->priv) {
		free(port);
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
