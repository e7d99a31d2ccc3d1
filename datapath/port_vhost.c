/*
 * VM port backend: a VNIC whose face is a guest's virtio-net device, served
 * over vhost-user (datapath/vhost.h, datapath/virtq.h).  What the guest
 * sends (its transmit rings) is read by rx_burst; what the switch delivers
 * is written into its receive rings.
 *
 * Workers and queues: the port has one kick set per worker (an epoll set
 * holding the kick eventfds of the transmit rings that worker polls), and
 * these are the port's queues (port->qfd[w]), so a worker's own epoll set
 * sleeps on them like on a TAP queue.  Transmit ring of pair q is polled by
 * worker q % nworkers; worker w writes to receive ring w % (running
 * receive rings), shared without a lock when there are fewer of them than
 * workers (datapath/virtq.h).
 *
 * Polling and sleeping: when a transmit ring has work its worker turns the
 * guest's kicks off (VRING_USED_F_NO_NOTIFY) and leaves the kick eventfd's
 * count as it is: level-triggered, the kick set stays readable, so the
 * worker comes back to the ring every iteration without a system call.
 * Once the ring has been empty for the workers' polling window
 * (vwired --poll-us; none while the worker yields its CPU: worker.c), the worker reads
 * the eventfd (clearing it), turns kicks on, and looks at the ring once
 * more: empty, it sleeps until the guest kicks; not empty, it turns kicks
 * off again and writes the eventfd itself to go on polling.  An idle guest
 * costs no CPU.
 *
 * Offloads: frames keep their virtio-net header both ways.  A frame whose
 * offload the guest did not negotiate (a super-frame for a guest without
 * GUEST_TSO, a checksum left to fill for one without GUEST_CSUM) is cut or
 * completed in software first (datapath/gso.h), in a per-worker scratch
 * made once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/gso.h"
#include "datapath/mcsnoop.h"
#include "datapath/vnet.h"
#include "datapath/port.h"
#include "datapath/port_vhost.h"
#include "datapath/worker.h"

/* port->priv */
struct vhost_port {
	struct vw_vhost *dev;
	unsigned next[VW_MAX_WORKERS]; /* worker w's first ring next time */
};

static __thread struct vw_gso_scratch *vh_scratch;

static int self_worker(const struct vw_vhost *dev)
{
	int w = vw_worker_self;

	return w < 0 ? 0 : w % vw_vhost_nworkers(dev);
}

/* One transmit ring of worker w: frames, and the polling state. */
static int tx_ring(struct vw_virtq *vq, struct vw_pool *pool, struct vw_pkt **pkts, int n,
		   struct vw_virtq_stats *st)
{
	uint64_t v = 1, now;
	int taken, got = vw_virtq_pop(vq, pool, pkts, n, st, &taken);

	if (taken) {
		if (!vq->polling) {
			/* polling from now on: kicks off, and the kick set
			 * kept readable (the guest may not have kicked this
			 * ring: another one of the set woke us) */
			vw_virtq_notify_off(vq);
			vq->polling = true;
			if (write(vq->kickfd, &v, sizeof(v)) < 0)
				v = 0;
		}
		vq->idle_since = 0;
		return got;
	}
	if (vq->broken) {
		/* not served until set up again: sleep, never spin on it */
		if (vq->polling && read(vq->kickfd, &v, sizeof(v)) < 0)
			v = 0;
		vq->polling = false;
		return got;
	}
	if (vq->polling) {
		now = vw_mono_ns();
		if (!vq->idle_since)
			vq->idle_since = now;
		if (now - vq->idle_since < vw_workers_poll() && !vw_worker_contended)
			return got;
	}
	/* idle: clear the kick, ask for kicks, look once more */
	if (read(vq->kickfd, &v, sizeof(v)) < 0)
		v = 0;
	if (vw_virtq_notify_on(vq)) {
		vq->polling = false;
		return got;
	}
	vw_virtq_notify_off(vq);
	vq->polling = true;
	vq->idle_since = 0;
	v = 1;
	if (write(vq->kickfd, &v, sizeof(v)) < 0)
		v = 0;
	return got;
}

static int vhost_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	struct vhost_port *vp = port->priv;
	const struct vw_vhost_map *m = vw_vhost_map(vp->dev);
	int w = self_worker(vp->dev), got = 0;
	struct vw_virtq_stats *st = vw_vhost_wstats(vp->dev, w);
	unsigned j, nt, start;

	if (!m || !(nt = m->ntx[w]))
		return 0;
	start = vp->next[w]++;
	for (j = 0; j < nt && got < n; j++)
		got += tx_ring(m->tx[w][(start + j) % nt], pool, pkts + got, n - got, st);
	return got;
}

/* Whether the guest takes frame h's offload as it is. */
static bool guest_takes(uint64_t feat, const struct virtio_net_hdr_v1 *h)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !(feat & (1ull << VIRTIO_NET_F_GUEST_CSUM)))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(feat & (1ull << VIRTIO_NET_F_GUEST_ECN)))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return feat & (1ull << VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return feat & (1ull << VIRTIO_NET_F_GUEST_TSO6);
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		return (feat & (1ull << VIRTIO_NET_F_GUEST_USO4)) && (feat & (1ull << VIRTIO_NET_F_GUEST_USO6));
	}
	return false;
}

/* Frame f from pkt as it goes to the guest, with the 802.1Q tag t (its
 * four bytes, the caller's) put back when asked. */
static void frame_of(struct vw_vq_frame *f, struct vw_pkt *pkt, bool tag, uint64_t feat, uint8_t t[4])
{
	f->hdr = pkt->vnet;
	if (!(feat & (1ull << VIRTIO_NET_F_GUEST_CSUM)))
		f->hdr.flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	if (tag && pkt->vid && pkt->len >= 12) {
		t[0] = 0x81;
		t[1] = 0x00;
		t[2] = (uint8_t)(pkt->vid >> 8);
		t[3] = (uint8_t)pkt->vid;
		f->np = 3;
		f->p[0] = pkt->data;
		f->l[0] = 12;
		f->p[1] = t;
		f->l[1] = 4;
		f->p[2] = pkt->data + 12;
		f->l[2] = pkt->len - 12;
		vw_vnet_shift(&f->hdr, 4);
		return;
	}
	f->np = 1;
	f->p[0] = pkt->data;
	f->l[0] = pkt->len;
}

/* A frame the guest cannot take as it is: cut or completed on a copy,
 * then pushed; whether it got through. */
static bool push_soft(struct vw_virtq *vq, struct vw_pkt *pkt, bool tag, struct vw_virtq_stats *st)
{
	struct virtio_net_hdr_v1 h = pkt->vnet;
	int n, i;

	if (!vh_scratch && !(vh_scratch = calloc(1, sizeof(*vh_scratch))))
		return false;
	n = vw_gso_cut(&h, pkt->data, pkt->len, tag ? pkt->vid : 0, vh_scratch, VW_GSO_SEGS_MAX);
	if (n <= 0)
		return false;
	{
		struct vw_vq_frame f[VW_GSO_SEGS_MAX];

		for (i = 0; i < n; i++) {
			memset(&f[i].hdr, 0, sizeof(f[i].hdr));
			if (n == 1)
				f[i].hdr = h; /* completed in place: what is left of it */
			f[i].np = 1;
			f[i].p[0] = vh_scratch->segs[i].data;
			f[i].l[0] = vh_scratch->segs[i].len;
		}
		return vw_virtq_push(vq, f, n, st) == n;
	}
}

static int vhost_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct vhost_port *vp = port->priv;
	const struct vw_vhost_map *m = vw_vhost_map(vp->dev);
	int w = self_worker(vp->dev), i, k = 0, sent = 0;
	struct vw_virtq_stats *st = vw_vhost_wstats(vp->dev, w);
	struct vw_vq_frame f[VW_BATCH];
	uint8_t tags[VW_BATCH][4];
	struct vw_virtq *vq;

	if (!m || !m->nrx)
		return 0;
	vq = m->rx[(unsigned)w % m->nrx];
	for (i = 0; i < n; i++) {
		if (!guest_takes(m->features, &pkts[i]->vnet)) {
			if (k)
				sent += vw_virtq_push(vq, f, k, st);
			k = 0;
			sent += push_soft(vq, pkts[i], tag, st);
			continue;
		}
		frame_of(&f[k], pkts[i], tag, m->features, tags[k]);
		k++;
		if (k == VW_BATCH) {
			sent += vw_virtq_push(vq, f, k, st);
			k = 0;
		}
	}
	if (k)
		sent += vw_virtq_push(vq, f, k, st);
	return sent;
}

static void vhost_close(struct vw_port *port)
{
	struct vhost_port *vp = port->priv;

	vw_vhost_close(vp->dev);
	__atomic_fetch_sub(&vw_vm_ports, 1, __ATOMIC_RELAXED);
	free(port->snoop);
	free(vp);
}

static int vhost_steer(struct vw_port *port, int q)
{
	struct vhost_port *vp = port->priv;

	return vw_vhost_steer(vp->dev, q);
}

static const struct vw_port_ops vhost_ops = {
	.kind = "vhost-user",
	.rx_burst = vhost_rx,
	.write = vhost_write,
	.close = vhost_close,
	.steer = vhost_steer,
};

static struct vw_port *port_of(struct vw_vhost *dev)
{
	struct vw_port *port = calloc(1, sizeof(*port));
	struct vhost_port *vp = calloc(1, sizeof(*vp));
	struct vw_snoop *snoop = calloc(1, sizeof(*snoop));
	int w;

	if (!port || !vp || !snoop) {
		free(port);
		free(vp);
		free(snoop);
		vw_vhost_close(dev);
		return NULL;
	}
	vp->dev = dev;
	port->ops = &vhost_ops;
	port->priv = vp;
	port->snoop = snoop; /* the guest's group reports */
	__atomic_fetch_add(&vw_vm_ports, 1, __ATOMIC_RELAXED);
	port->nq = vw_vhost_nworkers(dev);
	for (w = 0; w < port->nq; w++)
		port->qfd[w] = vw_vhost_kickfd(dev, w);
	port->fd = port->qfd[0];
	port->worker = -1;
	return port;
}

struct vw_port *vw_port_vhost_open(const char *sock_path, bool client, int nworkers, char *err, size_t errlen)
{
	struct vw_vhost *dev = vw_vhost_open(sock_path, client, nworkers, err, errlen);
	struct vw_port *port;

	if (!dev)
		return NULL;
	port = port_of(dev);
	if (!port)
		snprintf(err, errlen, "vhost-user %s: %s", sock_path, strerror(ENOMEM));
	return port;
}

struct vw_port *vw_port_vhost_open_fd(int fd, int nworkers)
{
	struct vw_vhost *dev = vw_vhost_open_fd(fd, nworkers);

	return dev ? port_of(dev) : NULL;
}

struct vw_vhost *vw_port_vhost_dev(struct vw_port *port)
{
	return port->ops == &vhost_ops ? ((struct vhost_port *)port->priv)->dev : NULL;
}
