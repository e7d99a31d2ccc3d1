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

#define HANDOFF_RING 256  /* frames in flight from one worker to an owner */
#define SHAPER_ITEMS 512  /* frames a shaper may hold, per direction */
#define MAX_SEGS 64       /* frames one super-frame may be cut into */
#define CT_CONNS 16384    /* connections a link's maxconn flows may have */
#define CT_SWEEP 64       /* connection slots looked at per run */
#define COPY_NS (100 * 1000 * 1000) /* how often counts reach the flows */

struct vw_shape {
	struct vw_task task; /* first: the owner's timed work */
	struct vw_port_hook hook; /* attached to the port's direction dir */
	struct vw_port *port;
	struct vw_shaper *sh;
	int dir, owner;
	uint64_t rate;
	uint32_t max_item;
	/* the owner's, per id: the flow (NULL: no such flow id), whether the
	 * shaper has class id (a flow's, or an uplink's egress class of a
	 * VNIC), the flow's MSS clamp and connection limit (0: none) */
	struct vw_flow_stats *flow_of[VW_SHAPE_MAX_CLASSES];
	uint8_t shaped[VW_SHAPE_MAX_CLASSES];
	uint16_t mss[VW_SHAPE_MAX_CLASSES];
	uint32_t maxconn[VW_SHAPE_MAX_CLASSES];
	int nflows;
	/* connections of the flows with maxconn, both directions (the out
	 * direction's shape owns it) */
	struct vw_conntab *ct;
	uint64_t copied;                           /* when tend() last copied */
	uint64_t drops_seen[VW_SHAPE_MAX_CLASSES]; /* class drops already counted */
	struct vw_spsc in[VW_MAX_WORKERS]; /* in: hand-over from worker w */
	struct vw_shape_stats st;          /* the shaper's counters, copied by the owner */
	/* frames a worker could not copy or cut (the owner's own included) */
	struct {
		uint64_t nobuf, bad;
	} __attribute__((aligned(64))) prod[VW_MAX_WORKERS];
};

static unsigned owner_load[VW_MAX_WORKERS];

/* Per-worker scratch for cutting super-frames (allocated on first use). */
static __thread struct vw_gso_scratch *cut;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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
static void send_on(struct vw_shape *sh, void **items, int n)
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
static unsigned take_handed(struct vw_shape *sh, void **items, unsigned max)
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
static bool out_take(struct vw_port_hook *h, struct vw_port *port, struct vw_fwd *f, struct vw_pkt **pkts, int n,
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
 * and hands them over through the calling worker's ring: what in_tx and
 * uplink_tx share. */
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
static int in_tx(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
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
static int shape_run(struct vw_task *t, uint64_t now)
{
	struct vw_shape *sh = (struct vw_shape *)t;
	struct vw_shaper_stats rs;
	void *items[64];
	uint32_t bytes[64];
	unsigned got;
	int n;

	if (sh->dir == VW_SHAPE_IN)
		while ((got = take_handed(sh, items, VW_BATCH)) > 0)
			enqueue(sh, (struct vw_pkt **)items, got, now);
	n = vw_shaper_dequeue(sh->sh, now, items, bytes, 64);
	if (n > 0)
		send_on(sh, items, n);
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
static void on_drop(void *arg, void *item, uint32_t bytes, int why)
{
	(void)arg, (void)bytes, (void)why;
	vw_worker_pkt_release(item);
}

/* ---- an uplink's egress: one class per VNIC with a priority ---------------
 *
 * The worker forwarding a VNIC's batch to a shaped uplink copies each frame
 * (as in_tx) and marks the copy with the VNIC's class, which the
 * owner queues it in.  A class the owner does not have (removed, or not
 * added yet, while the frame was on its way) means class 0. */

/* The in direction's tx hook of an uplink. */
static int uplink_tx(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
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
	uint64_t now = mono_ns();
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

/* ---- control thread ----------------------------------------------------- */

struct shape_pair {
	struct vw_shape *sh[2];
	const struct vw_shape_conf *conf;
	struct vw_conntab *ct_new, *ct_old; /* installed / given back */
	bool want_ct;                       /* some flow has maxconn */
	int rc;
	char err[200];
};

/* Largest item at the lowest rate the configuration holds anything to. */
static uint32_t conf_max_item(const struct vw_shape_conf *c)
{
	uint64_t low = c->rate;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->cls[i].shaped && c->cls[i].cfg.maxbw && (!low || c->cls[i].cfg.maxbw < low))
			low = c->cls[i].cfg.maxbw;
	return vw_shaper_max_item(low);
}

static void on_owner_add(void *arg)
{
	struct shape_pair *p = arg;
	int d;

	for (d = 0; d < 2; d++) {
		p->sh[d]->task.due = UINT64_MAX;
		vw_worker_task_add(&p->sh[d]->task);
	}
}

/* Forgets flow id on one direction: its class goes (its queued frames
 * move to the default class), its connections are no longer counted. */
static void id_clear(struct vw_shape *sh, int id, uint64_t now)
{
	if (sh->shaped[id])
		vw_shaper_class_remove(sh->sh, id, now, NULL, 0);
	if (sh->ct && sh->maxconn[id])
		vw_ct_flush_flow(sh->ct, (uint32_t)id);
	sh->flow_of[id] = NULL;
	sh->shaped[id] = 0;
	sh->drops_seen[id] = 0;
	sh->mss[id] = 0;
	sh->maxconn[id] = 0;
}

/* Applies a checked configuration: the rate, the connection table, then
 * per flow id what went (first, so that its id is free), what changed and
 * what came; last, each flow's id, which makes classification find it. */
static void on_owner_conf(void *arg)
{
	struct shape_pair *p = arg;
	const struct vw_shape_conf *c = p->conf;
	const struct vw_shape_class *byid[VW_SHAPE_MAX_CLASSES] = { 0 };
	uint64_t now = mono_ns();
	char err[200];
	int d, i, id, rc;

	p->rc = 0;
	for (i = 0; i < c->n; i++)
		byid[c->cls[i].id] = &c->cls[i];
	for (d = 0; d < 2; d++) {
		struct vw_shape *sh = p->sh[d];

		rc = vw_shaper_set_rate(sh->sh, c->rate, now, err, sizeof(err));
		if (p->ct_new)
			sh->ct = p->ct_new;
		for (id = 1; id < VW_SHAPE_MAX_CLASSES; id++)
			if (sh->flow_of[id] && (!byid[id] || byid[id]->flow != sh->flow_of[id])) {
				sh->flow_of[id]->cls = 0;
				id_clear(sh, id, now);
			}
		for (i = 0; i < c->n && !rc; i++) {
			const struct vw_shape_class *k = &c->cls[i];

			if (k->shaped && sh->shaped[k->id])
				rc = vw_shaper_class_modify(sh->sh, k->id, &k->cfg, now, err, sizeof(err));
			else if (k->shaped)
				rc = vw_shaper_class_add(sh->sh, k->id, &k->cfg, now, err, sizeof(err));
			else if (sh->shaped[k->id])
				rc = vw_shaper_class_remove(sh->sh, k->id, now, err, sizeof(err));
			if (rc)
				break;
			if (sh->ct && sh->maxconn[k->id] && !k->maxconn)
				vw_ct_flush_flow(sh->ct, k->id);
			sh->flow_of[k->id] = k->flow;
			sh->shaped[k->id] = k->shaped;
			sh->mss[k->id] = k->mss;
			sh->maxconn[k->id] = k->maxconn;
		}
		if (rc && !p->rc) {
			p->rc = rc; /* cannot happen for a checked configuration */
			snprintf(p->err, sizeof(p->err), "%s", err);
		}
		if (!p->ct_new && sh->ct && !p->want_ct) {
			p->ct_old = sh->ct; /* the control thread frees it */
			sh->ct = NULL;
		}
		sh->rate = c->rate;
		sh->max_item = conf_max_item(c);
		sh->nflows = c->n;
		sh->task.due = now;
	}
	for (i = 0; i < c->n; i++)
		c->cls[i].flow->cls = c->cls[i].id;
}

/* Shaping off: what is queued or handed over is sent on as it is. */
static void on_owner_remove(void *arg)
{
	struct shape_pair *p = arg;
	void *items[64];
	uint32_t bytes[64];
	unsigned got;
	int d, n, id;

	for (d = 0; d < 2; d++) {
		struct vw_shape *sh = p->sh[d];

		vw_worker_task_del(&sh->task);
		for (id = 1; id < VW_SHAPE_MAX_CLASSES; id++)
			if (sh->flow_of[id])
				sh->flow_of[id]->cls = 0;
		/* the queue first: what was handed over came after it */
		while ((n = vw_shaper_flush(sh->sh, items, bytes, 64)) > 0)
			send_on(sh, items, n);
		if (d == VW_SHAPE_IN)
			while ((got = take_handed(sh, items, 64)) > 0)
				send_on(sh, items, (int)got);
		vw_shaper_destroy(sh->sh);
		sh->sh = NULL;
	}
}

static void ct_free(struct vw_conntab *ct)
{
	if (ct) {
		vw_ct_fini(ct);
		free(ct);
	}
}

static void shape_free(struct vw_shape *sh)
{
	int w;

	if (!sh)
		return;
	if (sh->sh)
		vw_shaper_destroy(sh->sh);
	if (sh->dir == VW_SHAPE_OUT)
		ct_free(sh->ct);
	for (w = 0; w < VW_MAX_WORKERS; w++)
		vw_spsc_fini(&sh->in[w]);
	free(sh);
}

static void shaper_cfg(struct vw_shaper_cfg *cfg, struct vw_shape *sh)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->maxbw = sh ? sh->rate : 0;
	cfg->max_items = SHAPER_ITEMS;
	cfg->max_classes = VW_SHAPE_MAX_CLASSES;
	cfg->max_fair = VW_SHAPE_MAX_FAIR;
	cfg->dflt.priority = VW_SHAPER_MEDIUM; /* traffic of no flow (no class) */
	cfg->drop = on_drop;
	cfg->drop_arg = sh;
	if (sh && getrandom(&cfg->seed, sizeof(cfg->seed), GRND_NONBLOCK) != sizeof(cfg->seed))
		cfg->seed = (uint32_t)(uintptr_t)sh;
}

int vw_shape_check(const struct vw_shape_conf *conf, char *err, size_t errlen)
{
	struct vw_shaper_class_cfg cls[VW_SHAPE_MAX_CLASSES];
	struct vw_shaper_cfg cfg;
	bool seen[VW_SHAPE_MAX_CLASSES] = { 0 };
	int i, n = 0;

	if (conf->n < 0 || conf->n >= VW_SHAPE_MAX_CLASSES) {
		snprintf(err, errlen, "too many flows with traffic properties (at most %d)", VW_SHAPE_MAX_CLASSES - 1);
		return -ENOSPC;
	}
	for (i = 0; i < conf->n; i++) {
		unsigned id = conf->cls[i].id;

		if (!id || id >= VW_SHAPE_MAX_CLASSES || seen[id] || !conf->cls[i].flow) {
			snprintf(err, errlen, "bad class %u", id);
			return -EINVAL;
		}
		seen[id] = true;
		if (conf->cls[i].shaped)
			cls[n++] = conf->cls[i].cfg;
	}
	shaper_cfg(&cfg, NULL);
	cfg.maxbw = conf->rate;
	return vw_shaper_validate(&cfg, cls, n, err, errlen);
}

/* Turns shaping off: queued frames go on, the port's steering goes back to
 * its own choice. */
static void shape_off(struct vw_port *port)
{
	struct shape_pair p = { .sh = { port->shape[VW_SHAPE_OUT], port->shape[VW_SHAPE_IN] } };
	int owner;

	if (!p.sh[0])
		return;
	owner = p.sh[0]->owner;
	vw_port_hook_set(port, VW_HOOK_RX, NULL);
	vw_port_hook_set(port, VW_HOOK_TX, NULL);
	port->shape[VW_SHAPE_OUT] = port->shape[VW_SHAPE_IN] = NULL;
	vw_port_steer(port, -1);
	/* no worker is inside the hooks for it after this */
	vw_rcu_synchronize();
	vw_worker_call(owner, on_owner_remove, &p);
	owner_load[owner]--;
	shape_free(p.sh[0]);
	shape_free(p.sh[1]);
}

int vw_shape_set(struct vw_port *port, const struct vw_shape_conf *conf, char *err, size_t errlen)
{
	struct shape_pair p = { .conf = conf };
	int d, w, nw = vw_workers_count(), owner, rc;

	if (!conf) {
		shape_off(port);
		return 0;
	}
	rc = vw_shape_check(conf, err, errlen);
	if (rc)
		return rc;
	p.sh[0] = port->shape[VW_SHAPE_OUT];
	p.sh[1] = port->shape[VW_SHAPE_IN];
	for (d = 0; d < conf->n; d++)
		p.want_ct |= conf->cls[d].maxconn != 0;
	if (p.want_ct && !(p.sh[0] && p.sh[0]->ct)) {
		uint64_t seed;

		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
			seed = (uint64_t)(uintptr_t)port ^ mono_ns();
		p.ct_new = calloc(1, sizeof(*p.ct_new));
		if (!p.ct_new || vw_ct_init(p.ct_new, CT_CONNS, VW_SHAPE_MAX_CLASSES, seed, NULL) < 0) {
			free(p.ct_new);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (p.sh[0]) {
		vw_worker_call(p.sh[0]->owner, on_owner_conf, &p);
		ct_free(p.ct_old);
		if (p.rc)
			snprintf(err, errlen, "%s", p.err);
		return p.rc;
	}
	/* the owner must be the only reader of the port: its one poller, or
	 * the queue its backend steers every frame to */
	if (!port->ops || nw < 1 || (port->nq > 1 ? !port->ops->steer : port->worker < 0)) {
		snprintf(err, errlen, "shaping needs a VNIC's TAP or a polled uplink, and a running worker");
		return -EINVAL;
	}
	if (vw_worker_returns_init()) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* a port with one reader: that reader owns its shaping; else the
	 * least loaded of the workers the link may use (cpus) */
	owner = port->nq > 1 ? -1 : port->worker;
	for (w = 0; w < nw && port->nq > 1; w++)
		if ((!port->workers_allowed || (port->workers_allowed & (1u << w))) &&
		    (owner < 0 || owner_load[w] < owner_load[owner]))
			owner = w;
	if (owner < 0)
		owner = 0;
	for (d = 0; d < 2; d++) {
		struct vw_shaper_cfg cfg;
		struct vw_shape *sh = calloc(1, sizeof(*sh));

		p.sh[d] = sh;
		if (!sh) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		sh->port = port;
		sh->dir = d;
		sh->owner = owner;
		sh->rate = conf->rate;
		sh->max_item = vw_shaper_max_item(conf->rate);
		sh->task.run = shape_run;
		if (d == VW_SHAPE_OUT)
			sh->hook.rx = out_take;
		else
			sh->hook.tx = port->uplink ? uplink_tx : in_tx;
		shaper_cfg(&cfg, sh);
		rc = vw_shaper_create(&cfg, mono_ns(), &sh->sh, err, errlen);
		if (rc)
			goto fail_rc;
		if (d == VW_SHAPE_IN)
			for (w = 0; w < nw; w++)
				if (vw_spsc_init(&sh->in[w], HANDOFF_RING) < 0) {
					snprintf(err, errlen, "out of memory");
					goto fail;
				}
	}
	vw_worker_call(owner, on_owner_add, &p);
	vw_worker_call(owner, on_owner_conf, &p); /* the classes */
	owner_load[owner]++;
	port->shape[VW_SHAPE_OUT] = p.sh[0];
	port->shape[VW_SHAPE_IN] = p.sh[1];
	vw_port_hook_set(port, VW_HOOK_TX, &p.sh[1]->hook);
	vw_port_hook_set(port, VW_HOOK_RX, &p.sh[0]->hook);
	if (vw_port_steer(port, owner) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot steer the TAP's frames to one queue");
		shape_off(port);
		return rc ? rc : -EIO;
	}
	return 0;
fail_rc:
	shape_free(p.sh[0]);
	shape_free(p.sh[1]);
	ct_free(p.ct_new);
	return rc;
fail:
	shape_free(p.sh[0]);
	shape_free(p.sh[1]);
	ct_free(p.ct_new);
	return -ENOMEM;
}

void vw_shape_stats(const struct vw_port *port, int dir, struct vw_shape_stats *st)
{
	const struct vw_shape *sh = port->shape[dir];
	int w;

	memset(st, 0, sizeof(*st));
	if (!sh)
		return;
	st->pkts = __atomic_load_n(&sh->st.pkts, __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&sh->st.bytes, __ATOMIC_RELAXED);
	st->drop_codel = __atomic_load_n(&sh->st.drop_codel, __ATOMIC_RELAXED);
	st->drop_limit = __atomic_load_n(&sh->st.drop_limit, __ATOMIC_RELAXED);
	st->drop_bad = __atomic_load_n(&sh->st.drop_bad, __ATOMIC_RELAXED);
	st->qlen = __atomic_load_n(&sh->st.qlen, __ATOMIC_RELAXED);
	st->qbytes = __atomic_load_n(&sh->st.qbytes, __ATOMIC_RELAXED);
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		st->drop_nobuf += __atomic_load_n(&sh->prod[w].nobuf, __ATOMIC_RELAXED);
		st->drop_bad += __atomic_load_n(&sh->prod[w].bad, __ATOMIC_RELAXED);
	}
}
