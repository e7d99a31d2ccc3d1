/*
 * Shaping as a port hook (datapath/shape.h), its packet path: frames a
 * shaped port sends are taken from the worker (rx hook) or handed over
 * (tx hook) to the shaper's owner, queued in the traffic management engine
 * (datapath/shaper.h) and let go at the rate.  Setting it up is
 * datapath/shape_conf.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "datapath/conntab.h"
#include "datapath/flow.h"
#include "datapath/gso.h"
#include "datapath/rcu.h"
#include "datapath/observe.h"
#include "datapath/shape.h"
#include "datapath/shaper.h"
#include "datapath/spsc.h"
#include "datapath/tcpops.h"
#include "datapath/vnet.h"
#include "datapath/vswitch.h"
#include "datapath/worker.h"
#include "datapath/shape_impl.h"

/* Per-worker scratch for cutting super-frames (allocated on first use). */
static __thread struct vw_gso_scratch *cut;

/* Bytes a frame takes on the wire: a super-frame counts as the frames it
 * will be cut into, each with its own headers. */
static uint32_t wire_bytes(const struct vw_pkt *pkt)
{
	uint32_t hdr = pkt->vnet.hdr_len, gso = pkt->vnet.gso_size, nseg;

	if (!vw_vnet_is_gso(&pkt->vnet) || !gso || !hdr || hdr >= pkt->len)
		return pkt->len;
	nseg = (pkt->len - hdr + gso - 1) / gso;
	return pkt->len + (nseg - 1) * hdr;
}

/*
 * Makes the frames the shaper will queue from pkt, in out[]: pkt itself
 * when it fits and no copy is asked for; else copies (with pkt's VLAN tag
 * put in when tag is set) into buffers of pool, cut into Ethernet frames
 * when the frame is a super-frame longer than max.  Returns how many, or
 * -ENOBUFS / -EINVAL (a super-frame that cannot be cut).
 */
static int prepare(struct vw_pool *pool, struct vw_pkt *pkt, bool tag, uint32_t max, bool copy,
		   struct vw_pkt **out)
{
	struct virtio_net_hdr_v1 vnet = pkt->vnet;
	uint16_t vid = tag ? pkt->vid : 0;
	int n, i;

	/* a frame in an uplink's receive ring must leave it before the
	 * worker next reads the port */
	copy |= (uintptr_t)pkt->data < (uintptr_t)pkt->head ||
		(uintptr_t)pkt->data >= (uintptr_t)(pkt->buf + sizeof(pkt->buf));
	if (pkt->len <= max || !vw_vnet_is_gso(&vnet)) {
		struct vw_pkt *c;

		if (!copy && !vid) {
			out[0] = pkt;
			return 1;
		}
		if (pkt->len + (vid ? 4u : 0u) > sizeof(pkt->buf))
			return -EINVAL;
		c = vw_pkt_alloc(pool);
		if (!c)
			return -ENOBUFS;
		c->vnet = vnet;
		c->len = vw_frame_copy(c->buf, pkt->data, pkt->len, vid, &c->vnet);
		out[0] = c;
		return 1;
	}
	/* a super-frame too long for the rate: cut it (on a copy: the frame
	 * may be going to other destinations too) */
	if (!cut && !(cut = malloc(sizeof(*cut)))) /* once per worker */
		return -ENOBUFS;
	n = vw_gso_cut(&vnet, pkt->data, pkt->len, vid, cut, MAX_SEGS);
	if (n <= 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		struct vw_pkt *c = vw_pkt_alloc(pool);

		if (!c) {
			while (i--)
				vw_pkt_free(pool, out[i]);
			return -ENOBUFS;
		}
		memcpy(c->buf, cut->segs[i].data, cut->segs[i].len);
		c->len = cut->segs[i].len;
		/* a single frame keeps what the cut left (a checksum filled
		 * in clears the header); segments have no offload left */
		memset(&c->vnet, 0, sizeof(c->vnet));
		if (n == 1)
			c->vnet = vnet;
		out[i] = c;
	}
	return n;
}

/* Counts a frame prepare() could not make (it says why). */
static void prepare_failed(struct vw_shape *sh, int self, int why)
{
	if (why == -ENOBUFS)
		sh->prod[self].nobuf++;
	else
		sh->prod[self].bad++;
}

/* Writes frames to the port itself (its TAP, or the wire for an uplink),
 * shown to its observers as delivered to it. */
static void port_write(struct vw_port *port, struct vw_pkt **pkts, int n)
{
	vw_obs_hook(port, vw_worker_self, port->uplink ? VW_OBS_OUT : VW_OBS_IN, pkts, n, false);
	vw_port_write(port, pkts, n, false);
}

/* A frame's connection for fairness=conn: its 5-tuple without the DS
 * field, whose ECN bits change within a connection. */
static uint32_t conn_hash(struct vw_flow_key *k)
{
	k->dsfield = 0;
	return (uint32_t)vw_flow_key_hash(k);
}

/* Refuses a TCP connection as a closed port would: a RST back to where the
 * SYN came from (the port, VNIC or wire, for one it brought in; the switch
 * for one sent to it). */
static void send_rst(struct vw_shape *sh, const struct vw_pkt *syn, const struct vw_pktinfo *pi)
{
	struct vw_fwd *f = vw_worker_fwd;
	struct vw_pkt *rst = vw_pkt_alloc(&f->pool);
	int len;

	if (!rst)
		return;
	len = vw_tcp_build_rst(rst->buf, sizeof(rst->buf), syn->data, syn->len, pi);
	if (len <= 0) {
		vw_pkt_free(&f->pool, rst);
		return;
	}
	rst->len = (uint32_t)len;
	memset(&rst->vnet, 0, sizeof(rst->vnet));
	if (sh->dir == VW_SHAPE_OUT) {
		port_write(sh->port, &rst, 1);
		vw_pkt_free(&f->pool, rst);
	} else {
		vw_switch_input(f, sh->port, &rst, 1);
	}
}

/* The flow's mss and maxconn on one frame: false when it opens a
 * connection over the limit (answered with a RST if TCP, counted). */
static bool admit(struct vw_shape *sh, int id, struct vw_pkt *pkt, uint64_t now)
{
	struct vw_flow_stats *fs = sh->flow_of[id];
	struct vw_pktinfo pi;
	struct vw_ct_key k;
	int dir, self = vw_worker_self;
	enum vw_ct_verdict v;

	if (vw_pkt_parse(pkt->data, pkt->len, &pi) != VW_PP_OK || !pi.ipver)
		return true;
	if (sh->mss[id] && pi.proto == VW_IPPROTO_TCP && (pi.tcp_flags & VW_TCP_SYN) &&
	    vw_tcp_clamp_mss(pkt->data, pkt->len, pkt->vnet.flags, &pi, sh->mss[id]) > 0)
		fs->w[self].clamped++;
	if (!sh->maxconn[id] || !sh->ct || (dir = vw_ct_key_make(&k, &pi)) < 0)
		return true;
	v = vw_ct_lookup(sh->ct, &k, dir, pi.tcp_flags, (uint32_t)id, sh->maxconn[id], now);
	if (v != VW_CT_REFUSE && v != VW_CT_FULL)
		return true;
	fs->w[self].refused++;
	if (pi.proto == VW_IPPROTO_TCP && (pi.tcp_flags & (VW_TCP_SYN | VW_TCP_ACK)) == VW_TCP_SYN)
		send_rst(sh, pkt, &pi);
	return false;
}

/* Queues up to VW_BATCH frames, each in its flow's class (or the default
 * one), the flows looked up together (datapath/flow.h); a refused frame
 * is freed (the shaper counts why, or admit() did). */
static void enqueue(struct vw_shape *sh, struct vw_pkt **pkts, unsigned n, uint64_t now)
{
	const struct vw_flowtab *ft = sh->nflows ? vw_rcu_deref(&sh->port->flows) : NULL;
	/* what the link sent: a VNIC's out; an uplink's in, towards the wire */
	bool sent = sh->port->uplink ? sh->dir == VW_SHAPE_IN : sh->dir == VW_SHAPE_OUT;
	struct vw_flow_key k[VW_BATCH];
	struct vw_flow_stats *st[VW_BATCH];
	unsigned i;

	if (ft)
		vw_flowtab_classify(ft, pkts, n, sent, k, st);
	for (i = 0; i < n; i++) {
		struct vw_pkt *pkt = pkts[i];
		int id = ft && st[i] ? st[i]->cls : 0, cls = 0;
		uint32_t conn = id ? conn_hash(&k[i]) : 0;

		if (id && (sh->mss[id] || sh->maxconn[id]) && !admit(sh, id, pkt, now)) {
			vw_worker_pkt_release(pkt);
			continue;
		}
		if (sh->shaped[id])
			cls = id; /* the flow's class */
		else if (sh->port->uplink && sh->dir == VW_SHAPE_IN && pkt->cls < VW_SHAPE_MAX_CLASSES &&
			 sh->shaped[pkt->cls])
			cls = pkt->cls; /* the sending VNIC's */
		if (vw_shaper_enqueue(sh->sh, cls, conn, pkt, wire_bytes(pkt), now))
			vw_worker_pkt_release(pkt);
	}
}

/* Sends frames the shaper let go (or gives back): out into the switch as
 * the port's, in to the VNIC's TAP or the wire; either way the buffers go
 * home. */
void shape_send_on(struct vw_shape *sh, void **items, int n)
{
	int i;

	if (sh->dir == VW_SHAPE_OUT) {
		vw_switch_input(vw_worker_fwd, sh->port, (struct vw_pkt **)items, n);
		return;
	}
	port_write(sh->port, (struct vw_pkt **)items, n);
	for (i = 0; i < n; i++)
		vw_worker_pkt_release(items[i]);
}

/* What other workers handed over, in arrival order per worker. */
unsigned shape_take_handed(struct vw_shape *sh, void **items, unsigned max)
{
	int w, nw = vw_workers_count();
	unsigned got = 0;

	for (w = 0; w < nw && got < max; w++)
		got += vw_spsc_get(&sh->in[w], items + got, max - got);
	return got;
}

static inline struct vw_shape *of_hook(struct vw_port_hook *h)
{
	return (struct vw_shape *)((char *)h - offsetof(struct vw_shape, hook));
}

/* The out direction's rx hook: its owner takes the n frames it read from
 * the port (they are then the shaper's); another worker (a multi-queue
 * port's frames in flight while steering changes) forwards them as usual. */
bool shape_out_take(struct vw_port_hook *h, struct vw_port *port, struct vw_fwd *f, struct vw_pkt **pkts, int n,
		     uint64_t now)
{
	struct vw_shape *sh = of_hook(h);
	struct vw_pkt *segs[MAX_SEGS], *q[VW_BATCH];
	unsigned nq = 0;
	int i, j;

	(void)port;
	if (sh->owner != vw_worker_self)
		return false;
	for (i = 0; i < n; i++) {
		int k = prepare(&f->pool, pkts[i], false, sh->max_item, false, segs);

		if (k < 0) {
			prepare_failed(sh, vw_worker_self, k);
			vw_pkt_free(&f->pool, pkts[i]);
			continue;
		}
		if (segs[0] != pkts[i])
			vw_pkt_free(&f->pool, pkts[i]);
		for (j = 0; j < k; j++) {
			if (nq == VW_BATCH) {
				enqueue(sh, q, nq, now);
				nq = 0;
			}
			q[nq++] = segs[j];
		}
	}
	if (nq)
		enqueue(sh, q, nq, now);
	sh->task.due = now; /* let what may go leave at once */
	return true;
}

/* Copies (and cuts) frames for the owner, marked with egress class cls,
 * and hands them over through the calling worker's ring: what shape_in_tx and
 * shape_uplink_tx share. */
static int hand_over(struct vw_shape *sh, struct vw_pkt **pkts, int n, bool tag, uint16_t cls)
{
	int self = vw_worker_self, i, j, taken = 0;
	struct vw_pkt *segs[MAX_SEGS];
	struct vw_fwd *f = vw_worker_fwd;

	if (self < 0 || !f)
		return 0;
	for (i = 0; i < n; i++) {
		int k = prepare(&f->pool, pkts[i], tag, sh->max_item, true, segs);
		unsigned put;

		if (k < 0) {
			prepare_failed(sh, self, k);
			continue;
		}
		for (j = 0; j < k; j++)
			segs[j]->cls = cls;
		put = vw_spsc_put(&sh->in[self], (void **)segs, (unsigned)k);
		for (j = (int)put; j < k; j++) { /* the ring is full */
			sh->prod[self].nobuf++;
			vw_pkt_free(&f->pool, segs[j]);
		}
		taken++;
	}
	vw_worker_kick(sh->owner);
	return taken;
}

/* The in direction's tx hook of a VNIC: takes every frame (copies it),
 * returns n minus the frames it had to drop. */
int shape_in_tx(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	(void)port;
	return hand_over(of_hook(h), pkts, n, tag, 0);
}

/* Expires idle connections a little at a time, and now and then tells
 * the flows how many connections they have and what their classes
 * dropped (a class made again counts from 0: only increases are added). */
static void tend(struct vw_shape *sh, uint64_t now)
{
	struct vw_shaper_stats cs;
	int id;

	if (sh->ct && sh->dir == VW_SHAPE_OUT)
		vw_ct_sweep(sh->ct, now, CT_SWEEP);
	if (now - sh->copied < COPY_NS)
		return;
	sh->copied = now;
	for (id = 1; id < VW_SHAPE_MAX_CLASSES; id++) {
		struct vw_flow_stats *fs = sh->flow_of[id];

		if (!fs)
			continue;
		if (sh->ct && sh->maxconn[id] && sh->dir == VW_SHAPE_OUT)
			__atomic_store_n(&fs->conns, vw_ct_count(sh->ct, (uint32_t)id), __ATOMIC_RELAXED);
		if (sh->shaped[id] && !vw_shaper_class_stats(sh->sh, id, &cs)) {
			uint64_t d = cs.drops[VW_SHAPER_DROP_CODEL] + cs.drops[VW_SHAPER_DROP_LIMIT] +
				     cs.drops[VW_SHAPER_DROP_FULL];

			if (d > sh->drops_seen[id])
				__atomic_store_n(&fs->drops, fs->drops + d - sh->drops_seen[id], __ATOMIC_RELAXED);
			sh->drops_seen[id] = d;
		}
	}
}

/* The owner's timed work: take what other workers handed over, let go
 * what the rate allows, and say when to come back. */
int shape_run(struct vw_task *t, uint64_t now)
{
	struct vw_shape *sh = (struct vw_shape *)t;
	struct vw_shaper_stats rs;
	void *items[64];
	uint32_t bytes[64];
	unsigned got;
	int n;

	if (sh->dir == VW_SHAPE_IN)
		while ((got = shape_take_handed(sh, items, VW_BATCH)) > 0)
			enqueue(sh, (struct vw_pkt **)items, got, now);
	n = vw_shaper_dequeue(sh->sh, now, items, bytes, 64);
	if (n > 0)
		shape_send_on(sh, items, n);
	tend(sh, now);
	/* the shaper counts; the control thread may not ask it, so copy */
	vw_shaper_root_stats(sh->sh, &rs);
	sh->st.pkts = rs.pkts;
	sh->st.bytes = rs.bytes;
	sh->st.drop_codel = rs.drops[VW_SHAPER_DROP_CODEL];
	sh->st.drop_limit = rs.drops[VW_SHAPER_DROP_LIMIT] + rs.drops[VW_SHAPER_DROP_FULL];
	sh->st.drop_bad = rs.drops[VW_SHAPER_DROP_INVAL];
	sh->st.qlen = rs.qlen;
	sh->st.qbytes = rs.qbytes;
	t->due = vw_shaper_next_time(sh->sh);
	return n;
}

/* Queued items dropped: CoDel, room in a fair class (and, at destroy,
 * what is still queued: why 0). */
void shape_on_drop(void *arg, void *item, uint32_t bytes, int why)
{
	(void)arg, (void)bytes, (void)why;
	vw_worker_pkt_release(item);
}

/* ---- an uplink's egress: one class per VNIC with a priority ---------------
 *
 * The worker forwarding a VNIC's batch to a shaped uplink copies each frame
 * (as shape_in_tx) and marks the copy with the VNIC's class, which the
 * owner queues it in.  A class the owner does not have (removed, or not
 * added yet, while the frame was on its way) means class 0. */

/* The in direction's tx hook of an uplink. */
int shape_uplink_tx(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	const struct vw_port *src = vw_switch_src;

	(void)port;
	return hand_over(of_hook(h), pkts, n, tag, src ? __atomic_load_n(&src->uplink_class, __ATOMIC_RELAXED) : 0);
}

struct uplink_class_call {
	struct vw_shape *sh;
	int id, prio, rc;
	char err[200];
};

static void on_owner_class(void *arg)
{
	struct uplink_class_call *c = arg;
	struct vw_shaper_class_cfg cfg = { .priority = c->prio >= 0 ? (enum vw_shaper_prio)c->prio : VW_SHAPER_MEDIUM };
	uint64_t now = vw_mono_ns();
	struct vw_shape *sh = c->sh;

	if (c->prio < 0) {
		c->rc = sh->shaped[c->id] ? vw_shaper_class_remove(sh->sh, c->id, now, c->err, sizeof(c->err)) : 0;
		sh->shaped[c->id] = 0;
	} else if (sh->shaped[c->id]) {
		c->rc = vw_shaper_class_modify(sh->sh, c->id, &cfg, now, c->err, sizeof(c->err));
	} else {
		c->rc = vw_shaper_class_add(sh->sh, c->id, &cfg, now, c->err, sizeof(c->err));
		if (!c->rc)
			sh->shaped[c->id] = 1;
	}
	sh->task.due = now; /* the order of service may have changed */
}

int vw_shape_uplink_class(struct vw_port *uplink, int id, int prio, char *err, size_t errlen)
{
	struct uplink_class_call c = { .sh = uplink->shape[VW_SHAPE_IN], .id = id, .prio = prio };

	if (!c.sh || !uplink->uplink)
		return 0;
	if (id < VW_SHAPE_UPLINK_FIRST || id >= VW_SHAPE_MAX_CLASSES || prio >= VW_SHAPER_NPRIO) {
		snprintf(err, errlen, "no egress class %d", id);
		return -EINVAL;
	}
	vw_worker_call(c.sh->owner, on_owner_class, &c);
	if (c.rc)
		snprintf(err, errlen, "%s", c.err);
	return c.rc;
}
