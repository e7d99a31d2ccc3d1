/*
 * AF_PACKET backend: a phys uplink.  Every frame carries a virtio-net header
 * both ways (PACKET_VNET_HDR), so a VNIC's TCP/UDP super-frame goes to the
 * interface whole and the kernel segments it (or the device does) on the way
 * out, and a GRO super-frame from the wire comes in whole.  The kernel hands
 * VLAN tags it stripped on receive to us beside the frame; we put them back
 * so the switch sees the frame as it was on the wire.  The socket ignores
 * the frames it sends itself (PACKET_IGNORE_OUTGOING) and runs the interface
 * promiscuous, since the VNICs' addresses are not its own.
 *
 * Receive: a TPACKET_V2 ring mapped into the daemon.  The kernel copies each
 * frame into a slot and wakes the socket's poller at once; the worker walks
 * the ready slots without a system call and hands the switch the frames
 * where they lie (pkt->data points into the slot), so a frame is copied once
 * on its way from the wire to a VNIC.  The slots of a batch go back to the
 * kernel when the worker next reads the port: by then vw_switch_input() has
 * returned, and every buffer of a batch is released when it returns.
 * TPACKET_V3 carries the same headers but wakes the poller only when a block
 * is full or its timer (1 ms at the least) retires it, which would add up to
 * a millisecond to every frame of an idle link (see docs/design.md).
 * When the ring cannot be set up, or VWIRE_UPLINK_RING=0 is in the
 * environment, frames are read with recvmmsg.  Send: sendmmsg in batches,
 * safe for several workers at once.  Shaping (link property maxbw) attaches
 * to the port through its hooks (datapath/port.h), not here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "datapath/gso.h"
#include "datapath/port.h"
#include "datapath/vnet.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define AUX_SPACE CMSG_SPACE(sizeof(struct tpacket_auxdata))
#define VNET_LEN sizeof(struct virtio_net_hdr) /* the packet socket's header size */

/* Ring geometry: a slot holds its header, the virtio-net header and a whole
 * super-frame; 15 slots to a 1 MiB block, 120 in all (8 MiB per uplink). */
#define RING_FRAME TPACKET_ALIGN(TPACKET2_HDRLEN + 64 + VW_PKT_DATA_MAX)
#define RING_BLOCK (1u << 20)
#define RING_BLOCKS 8u
#define RING_PER_BLOCK (RING_BLOCK / RING_FRAME)

struct packet_priv {
	/* receive state: used only by the worker that polls the port */
	bool soft;       /* no offloads: segment and checksum before sending */
	uint8_t *ring;   /* NULL: recvmmsg */
	unsigned nframes;
	unsigned head;   /* next slot to look at */
	unsigned held;   /* slots of the last batch, just before head */
	struct mmsghdr msgs[VW_BATCH];
	struct iovec iov[VW_BATCH][2];
	uint8_t cmsg[VW_BATCH][AUX_SPACE];
};

static struct vw_port_stats *my_stats(struct vw_port *port)
{
	return &port->stats[vw_worker_self >= 0 ? vw_worker_self : 0];
}

/* Puts back the 802.1Q (or other) tag the kernel stripped on receive; the
 * frame has room for it in front (headroom in a pool buffer, the header
 * space of a ring slot). */
static void insert_tag(struct vw_pkt *pkt, uint16_t tpid, uint16_t tci)
{
	if (pkt->len < 12)
		return;
	pkt->data -= 4;
	memmove(pkt->data, pkt->data + 4, 12);
	pkt->data[12] = (uint8_t)(tpid >> 8);
	pkt->data[13] = (uint8_t)tpid;
	pkt->data[14] = (uint8_t)(tci >> 8);
	pkt->data[15] = (uint8_t)tci;
	pkt->len += 4;
	vw_vnet_shift(&pkt->vnet, 4);
}

static uint16_t tag_tpid(uint32_t status, uint16_t tpid)
{
	return status & TP_STATUS_VLAN_TPID_VALID ? tpid : ETH_P_8021Q;
}

static void restore_tag(struct vw_pkt *pkt, const struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR((struct msghdr *)mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if (aux.tp_status & TP_STATUS_VLAN_VALID)
			insert_tag(pkt, tag_tpid(aux.tp_status, aux.tp_vlan_tpid), aux.tp_vlan_tci);
		return;
	}
}

static int packet_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	struct packet_priv *pp = port->priv;
	int i, got, have = 0, out = 0;

	for (have = 0; have < n; have++) {
		struct vw_pkt *pkt = vw_pkt_alloc(pool);

		if (!pkt)
			break;
		pkts[have] = pkt;
		memset(&pkt->vnet, 0, sizeof(pkt->vnet));
		pp->iov[have][0] = (struct iovec){ &pkt->vnet, VNET_LEN };
		pp->iov[have][1] = (struct iovec){ pkt->buf, sizeof(pkt->buf) };
		memset(&pp->msgs[have], 0, sizeof(pp->msgs[have]));
		pp->msgs[have].msg_hdr.msg_iov = pp->iov[have];
		pp->msgs[have].msg_hdr.msg_iovlen = 2;
		pp->msgs[have].msg_hdr.msg_control = pp->cmsg[have];
		pp->msgs[have].msg_hdr.msg_controllen = AUX_SPACE;
	}
	got = have ? recvmmsg(port->fd, pp->msgs, (unsigned)have, MSG_DONTWAIT, NULL) : 0;
	if (got < 0)
		got = 0;
	for (i = 0; i < got; i++) {
		struct vw_pkt *pkt = pkts[i];

		/* larger than a buffer (a GRO frame beyond 64 KiB): cut short */
		if (pp->msgs[i].msg_hdr.msg_flags & MSG_TRUNC || pp->msgs[i].msg_len < VNET_LEN) {
			my_stats(port)->drop_nobuf++;
			vw_pkt_free(pool, pkt);
			continue;
		}
		pkt->len = (uint32_t)(pp->msgs[i].msg_len - VNET_LEN);
		restore_tag(pkt, &pp->msgs[i].msg_hdr);
		pkts[out++] = pkt;
	}
	for (i = got; i < have; i++)
		vw_pkt_free(pool, pkts[i]);
	return out;
}

static inline struct tpacket2_hdr *ring_slot(const struct packet_priv *pp, unsigned i)
{
	return (struct tpacket2_hdr *)(pp->ring + (size_t)(i / RING_PER_BLOCK) * RING_BLOCK +
				       (size_t)(i % RING_PER_BLOCK) * RING_FRAME);
}

static int ring_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	struct packet_priv *pp = port->priv;
	unsigned i = (pp->head + pp->nframes - pp->held) % pp->nframes;
	bool released = pp->held;
	int got = 0;

	/* the last batch is done with: its slots go back to the kernel */
	for (; pp->held; pp->held--, i = i + 1 == pp->nframes ? 0 : i + 1)
		__atomic_store_n(&ring_slot(pp, i)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	while (got < n) {
		struct tpacket2_hdr *h = ring_slot(pp, pp->head);
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		struct vw_pkt *pkt;

		if (!(status & TP_STATUS_USER))
			break;
		if (h->tp_snaplen < h->tp_len || h->tp_mac < TPACKET2_HDRLEN + VNET_LEN ||
		    h->tp_mac + h->tp_snaplen > RING_FRAME) {
			/* larger than a slot: cut short, not worth sending on */
			my_stats(port)->drop_nobuf++;
			pkt = NULL;
		} else if (!(pkt = vw_pkt_alloc(pool))) {
			break;
		}
		pp->head = pp->head + 1 == pp->nframes ? 0 : pp->head + 1;
		pp->held++;
		if (!pkt)
			continue;
		pkt->data = (uint8_t *)h + h->tp_mac;
		pkt->len = h->tp_snaplen;
		memset(&pkt->vnet, 0, sizeof(pkt->vnet));
		memcpy(&pkt->vnet, pkt->data - VNET_LEN, VNET_LEN);
		if (status & TP_STATUS_VLAN_VALID)
			insert_tag(pkt, tag_tpid(status, h->tp_vlan_tpid), h->tp_vlan_tci);
		pkts[got++] = pkt;
	}
	/* Woken with nothing to read and nothing given back: an error (link
	 * down) is pending, which no read clears on a ring; clear it, or the
	 * poller would keep waking. */
	if (!got && !released) {
		int err;
		socklen_t len = sizeof(err);

		getsockopt(port->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	}
	return got;
}

/* Sends n messages of msgs, skipping one the kernel refuses outright (too
 * big, say); stops early when the socket has no room.  How many went. */
static int send_msgs(int fd, struct mmsghdr *msgs, int n)
{
	int sent = 0, done = 0;

	while (sent < n) {
		int r = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), MSG_DONTWAIT);

		if (r > 0) {
			sent += r;
			done += r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != ENOBUFS) {
			sent++;
			continue;
		}
		break;
	}
	return done;
}

/* Per-worker scratch of the software offload path: the cut (on a copy,
 * since the frame may be shared with other destinations) and the messages
 * of its segments. */
struct soft_scratch {
	struct virtio_net_hdr_v1 zero; /* the header every segment goes with */
	struct mmsghdr msgs[VW_GSO_SEGS_MAX];
	struct iovec iov[VW_GSO_SEGS_MAX][2];
	struct vw_gso_scratch cut;
};

static __thread struct soft_scratch *soft_scratch;

/* A frame with offload work (a super-frame, a checksum to fill in) to an
 * uplink that takes none: segments and checksums in software and sends the
 * wire frames.  True when all of them went. */
static bool soft_send(struct vw_port *port, struct vw_pkt *pkt, bool tag)
{
	struct soft_scratch *ss = soft_scratch;
	struct virtio_net_hdr_v1 vnet = pkt->vnet;
	int i, n;

	if (!ss) {
		/* once per thread: the worker's first such frame */
		ss = soft_scratch = calloc(1, sizeof(*ss));
		if (!ss)
			return false;
	}
	n = vw_gso_cut(&vnet, pkt->data, pkt->len, tag ? pkt->vid : 0, &ss->cut, VW_GSO_SEGS_MAX);
	if (n <= 0)
		return false;
	memset(ss->msgs, 0, sizeof(ss->msgs[0]) * (size_t)n);
	for (i = 0; i < n; i++) {
		ss->iov[i][0] = (struct iovec){ &ss->zero, VNET_LEN };
		ss->iov[i][1] = (struct iovec){ ss->cut.segs[i].data, ss->cut.segs[i].len };
		ss->msgs[i].msg_hdr.msg_iov = ss->iov[i];
		ss->msgs[i].msg_hdr.msg_iovlen = 2;
	}
	return send_msgs(port->fd, ss->msgs, n) == n;
}

static int packet_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct packet_priv *pp = port->priv;
	struct mmsghdr msgs[VW_BATCH];
	struct iovec iov[VW_BATCH][4];
	struct virtio_net_hdr_v1 vnet[VW_BATCH];
	uint8_t vtag[VW_BATCH][4];
	int i, m = 0, sent = 0;

	if (n > VW_BATCH)
		n = VW_BATCH;
	for (i = 0; i < n; i++) {
		struct vw_pkt *pkt = pkts[i];
		int niov = 0;

		if (pp->soft && vw_vnet_has_work(&pkt->vnet)) {
			/* keep the order: what is queued goes first */
			sent += send_msgs(port->fd, msgs, m);
			m = 0;
			sent += soft_send(port, pkt, tag);
			continue;
		}
		memset(&msgs[m], 0, sizeof(msgs[m]));
		iov[m][niov++] = (struct iovec){ &pkt->vnet, VNET_LEN };
		if (tag && pkt->vid) {
			vtag[m][0] = 0x81;
			vtag[m][1] = 0x00;
			vtag[m][2] = (uint8_t)(pkt->vid >> 8);
			vtag[m][3] = (uint8_t)pkt->vid;
			/* the frame is shared with other destinations: shift a
			 * copy of its header */
			vnet[m] = pkt->vnet;
			vw_vnet_shift(&vnet[m], 4);
			iov[m][0].iov_base = &vnet[m];
			iov[m][niov++] = (struct iovec){ pkt->data, 12 };
			iov[m][niov++] = (struct iovec){ vtag[m], 4 };
			iov[m][niov++] = (struct iovec){ pkt->data + 12, pkt->len - 12 };
		} else {
			iov[m][niov++] = (struct iovec){ pkt->data, pkt->len };
		}
		msgs[m].msg_hdr.msg_iov = iov[m];
		msgs[m].msg_hdr.msg_iovlen = (size_t)niov;
		m++;
	}
	return sent + send_msgs(port->fd, msgs, m);
}

static void packet_close(struct vw_port *port)
{
	struct packet_priv *pp = port->priv;

	if (pp && pp->ring)
		munmap(pp->ring, (size_t)RING_BLOCK * RING_BLOCKS);
	if (port->fd >= 0)
		close(port->fd);
	free(port->priv);
}

static const struct vw_port_ops packet_ops = {
	.kind = "packet",
	.rx_burst = packet_rx,
	.write = packet_write,
	.close = packet_close,
};

static const struct vw_port_ops ring_ops = {
	.kind = "packet",
	.rx_burst = ring_rx,
	.write = packet_write,
	.close = packet_close,
};

/* The receive ring, set up before the socket is bound so that no frame is
 * queued the other way first.  0 or -errno. */
static int ring_setup(int fd, struct packet_priv *pp)
{
	int version = TPACKET_V2;
	struct tpacket_req req = {
		.tp_block_size = RING_BLOCK,
		.tp_block_nr = RING_BLOCKS,
		.tp_frame_size = RING_FRAME,
		.tp_frame_nr = RING_BLOCKS * RING_PER_BLOCK,
	};
	void *map;

	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return -errno;
	map = mmap(NULL, (size_t)RING_BLOCK * RING_BLOCKS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	pp->ring = map;
	pp->nframes = req.tp_frame_nr;
	return 0;
}

/* One socket on ifindex, with a receive ring when ring is set. */
static int packet_socket(int ifindex, bool ring, struct packet_priv *pp, int *err)
{
	struct sockaddr_ll sll = { 0 };
	struct packet_mreq mr = { 0 };
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0) {
		*err = -errno;
		return -1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	mr.mr_ifindex = ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    (ring && (*err = ring_setup(fd, pp)) < 0) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		if (!ring || *err >= 0)
			*err = -errno;
		if (pp->ring)
			munmap(pp->ring, (size_t)RING_BLOCK * RING_BLOCKS);
		pp->ring = NULL;
		close(fd);
		return -1;
	}
	*err = 0;
	return fd;
}

struct vw_port *vw_packet_open(const char *ifname, int *err)
{
	struct vw_port *port = calloc(1, sizeof(*port));
	struct packet_priv *pp = calloc(1, sizeof(*pp));
	const char *env = getenv("VWIRE_UPLINK_RING");
	const char *off = getenv("VWIRE_UPLINK_OFFLOAD");
	bool ring = !env || strcmp(env, "0") != 0;
	int ifindex = (int)if_nametoindex(ifname), rerr = 0;

	if (!port || !pp) {
		*err = -ENOMEM;
		goto fail;
	}
	port->fd = -1;
	port->priv = pp;
	if (!ifindex) {
		*err = -ENODEV;
		goto fail;
	}
	if (ring) {
		port->fd = packet_socket(ifindex, true, pp, &rerr);
		ring = port->fd >= 0;
	}
	if (!ring)
		port->fd = packet_socket(ifindex, false, pp, err);
	if (port->fd < 0)
		goto fail;
	pp->soft = off && strcmp(off, "0") == 0;
	if (ring)
		fprintf(stderr, "vwired: uplink %s: TPACKET_V2 receive ring, sendmmsg, vnet headers%s\n", ifname,
			pp->soft ? "; sends without offloads (VWIRE_UPLINK_OFFLOAD=0): segments and checksums in software" : "");
	else
		fprintf(stderr, "vwired: uplink %s: recvmmsg/sendmmsg, vnet headers (no ring: %s)%s\n", ifname,
			rerr ? strerror(-rerr) : "VWIRE_UPLINK_RING=0",
			pp->soft ? "; sends without offloads (VWIRE_UPLINK_OFFLOAD=0): segments and checksums in software" : "");
	port->ops = ring ? &ring_ops : &packet_ops;
	port->uplink = true;
	port->slow_only = pp->soft ? VW_SLOW_BACKEND : 0;
	port->nq = 1;
	port->qfd[0] = port->fd;
	strncpy(port->name, ifname, sizeof(port->name) - 1);
	*err = 0;
	return port;
fail:
	if (port && port->fd >= 0)
		close(port->fd);
	free(pp);
	free(port);
	return NULL;
}
