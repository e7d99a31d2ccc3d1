/*
 * Aggregation backend: the uplink of a link aggregation (IEEE 802.1AX), one
 * switch port over up to VW_AGGR_MAX member interfaces, each read and
 * written through a packet socket of its own (a port of port_packet.c's,
 * which this backend drives but never attaches anywhere).  What the switch
 * sends leaves on one distributing member, chosen by a hash of the frame's
 * headers (the policy: L2, L3, L4 or a mix), so every frame of one
 * connection takes the same member and none is reordered; broadcast and
 * unknown unicast too leave on exactly one.  What comes in is taken from
 * the collecting members only; a member that is not collecting has its
 * frames read and dropped, counted.  Slow Protocols frames (LACP, marker:
 * ethertype 0x8809) never reach the switch: the control thread reads them
 * on a socket of its own (objects/aggr.c).
 *
 * Which members collect and distribute is the control thread's to say
 * (LACP, carrier: vw_aggr_member_state); it publishes an immutable member
 * set with a release store, and workers load it once per burst.  A set
 * replaced, or a member removed, is freed only after a grace period
 * (datapath/rcu.h).  The port's fd is an epoll set of the members' sockets,
 * so the worker that polls the port is woken when any has frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "datapath/port.h"
#include "datapath/port_aggr.h"
#include "datapath/rcu.h"

struct aggr_member {
	struct vw_port *p; /* its packet socket */
	int ifindex;
	struct vw_aggr_mstats st[VW_MAX_WORKERS];
};

/* What workers see: replaced whole, never changed in place. */
struct aggr_set {
	unsigned policy;                        /* VW_AGGR_L2 | L3 | L4 */
	struct aggr_member *m[VW_AGGR_MAX];     /* by member index; NULL: none */
	bool coll[VW_AGGR_MAX];
	unsigned ndist;
	uint8_t dist[VW_AGGR_MAX];              /* the distributing members */
};

struct aggr_priv {
	struct aggr_set *set;                   /* published */
	/* control thread only: */
	struct aggr_member *m[VW_AGGR_MAX];
	bool coll[VW_AGGR_MAX], distr[VW_AGGR_MAX];
	unsigned policy;
	/* the polling worker only: where the next burst starts */
	unsigned next;
};

static inline unsigned me(void)
{
	return vw_worker_self >= 0 ? (unsigned)vw_worker_self % VW_MAX_WORKERS : 0;
}

/* ---- the hash that picks a member ---- */

static inline uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

static uint32_t load_be(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/* murmur3's finalizer: every input bit moves every output bit, so the
 * remainder by a member count is even */
static inline uint32_t fmix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static uint32_t hash_headers(const uint8_t *f, uint32_t len, unsigned policy)
{
	uint32_t h = 0x5bd1e995, off = 14, i;
	uint16_t type;
	uint8_t proto = 0;
	bool first = true; /* not a later fragment: ports are there */

	if (len < 14)
		return h;
	if (policy & VW_AGGR_L2)
		for (i = 0; i < 12; i += 4)
			h = mix(h, load_be(f + i, 4));
	type = (uint16_t)load_be(f + 12, 2);
	while ((type == 0x8100 || type == 0x88a8) && off + 4 <= len) {
		type = (uint16_t)load_be(f + off + 2, 2);
		off += 4;
	}
	if (!(policy & (VW_AGGR_L3 | VW_AGGR_L4)))
		return h;
	if (type == 0x0800 && off + 20 <= len) {
		const uint8_t *ip = f + off;

		proto = ip[9];
		first = !(load_be(ip + 6, 2) & 0x1fff);
		if (policy & VW_AGGR_L3)
			h = mix(mix(h, load_be(ip + 12, 4)), load_be(ip + 16, 4));
		off += (uint32_t)(ip[0] & 0xf) * 4;
	} else if (type == 0x86dd && off + 40 <= len) {
		const uint8_t *ip = f + off;

		proto = ip[6];
		if (policy & VW_AGGR_L3)
			for (i = 8; i < 40; i += 4)
				h = mix(h, load_be(ip + i, 4));
		off += 40;
	} else {
		return h;
	}
	if ((policy & VW_AGGR_L4) && first && (proto == 6 || proto == 17 || proto == 132) && off + 4 <= len)
		h = mix(h, load_be(f + off, 4));
	return h;
}

uint32_t vw_aggr_hash(const uint8_t *f, uint32_t len, unsigned policy)
{
	return fmix(hash_headers(f, len, policy));
}

/* ---- datapath ---- */

static bool is_slow_proto(const struct vw_pkt *pkt)
{
	return pkt->len >= 14 && pkt->data[12] == 0x88 && pkt->data[13] == 0x09;
}

static int aggr_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	struct aggr_priv *ap = port->priv;
	const struct aggr_set *s = vw_rcu_deref(&ap->set);
	unsigned k, start = ap->next, w = me();
	int got = 0;

	for (k = 0; k < VW_AGGR_MAX && got < n; k++) {
		unsigned i = (start + k) % VW_AGGR_MAX;
		struct aggr_member *m = s->m[i];
		struct vw_aggr_mstats *st;
		int r, j, keep = 0;

		if (!m)
			continue;
		r = m->p->ops->rx_burst(m->p, pool, pkts + got, n - got);
		if (r <= 0)
			continue;
		st = &m->st[w];
		for (j = 0; j < r; j++) {
			struct vw_pkt *pkt = pkts[got + j];

			if (is_slow_proto(pkt)) {
				st->rx_slow++;
				vw_pkt_free(pool, pkt);
			} else if (!s->coll[i]) {
				st->drop_notcoll++;
				vw_pkt_free(pool, pkt);
			} else {
				st->rx_pkts++;
				st->rx_bytes += pkt->len;
				pkts[got + keep++] = pkt;
			}
		}
		got += keep;
	}
	/* the next burst starts with the next member: none is starved */
	ap->next = (start + 1) % VW_AGGR_MAX;
	return got;
}

static int aggr_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct aggr_priv *ap = port->priv;
	const struct aggr_set *s = vw_rcu_deref(&ap->set);
	struct vw_pkt *by[VW_AGGR_MAX][VW_BATCH];
	unsigned cnt[VW_AGGR_MAX] = { 0 }, w = me(), d;
	int i, sent = 0;

	if (!s->ndist)
		return 0;
	if (n > VW_BATCH)
		n = VW_BATCH;
	for (i = 0; i < n; i++) {
		unsigned pick = s->ndist == 1 ? 0 : vw_aggr_hash(pkts[i]->data, pkts[i]->len, s->policy) % s->ndist;

		by[pick][cnt[pick]++] = pkts[i];
	}
	for (d = 0; d < s->ndist; d++) {
		struct aggr_member *m;
		struct vw_aggr_mstats *st;
		int r;
		unsigned j;

		if (!cnt[d])
			continue;
		m = s->m[s->dist[d]];
		st = &m->st[w];
		r = m->p->ops->write(m->p, by[d], (int)cnt[d], tag);
		for (j = 0; j < (unsigned)r; j++) {
			st->tx_pkts++;
			st->tx_bytes += by[d][j]->len + (tag && by[d][j]->vid ? 4 : 0);
		}
		st->drop_txerr += cnt[d] - (unsigned)r;
		sent += r;
	}
	return sent;
}

static void member_free(struct aggr_member *m)
{
	if (!m)
		return;
	vw_port_destroy(m->p);
	free(m);
}

static void aggr_close(struct vw_port *port)
{
	struct aggr_priv *ap = port->priv;
	unsigned i;

	if (!ap)
		return;
	for (i = 0; i < VW_AGGR_MAX; i++)
		member_free(ap->m[i]);
	free(ap->set);
	free(ap);
	if (port->fd >= 0)
		close(port->fd);
}

static const struct vw_port_ops aggr_ops = {
	.kind = "aggr",
	.rx_burst = aggr_rx,
	.write = aggr_write,
	.close = aggr_close,
};

/* ---- control thread ---- */

/* Publishes what the control thread's fields say; the old set is freed
 * after a grace period.  0 or -ENOMEM (the old set stays). */
static int publish(struct vw_port *port)
{
	struct aggr_priv *ap = port->priv;
	struct aggr_set *s = calloc(1, sizeof(*s)), *old = ap->set;
	unsigned i;

	if (!s)
		return -ENOMEM;
	s->policy = ap->policy;
	for (i = 0; i < VW_AGGR_MAX; i++) {
		s->m[i] = ap->m[i];
		s->coll[i] = ap->m[i] && ap->coll[i];
		if (ap->m[i] && ap->distr[i])
			s->dist[s->ndist++] = (uint8_t)i;
	}
	vw_rcu_publish(&ap->set, s);
	vw_rcu_synchronize();
	free(old);
	return 0;
}

struct vw_port *vw_aggr_open(const char *name, unsigned policy, int *err)
{
	struct vw_port *port = calloc(1, sizeof(*port));
	struct aggr_priv *ap = calloc(1, sizeof(*ap));

	if (!port || !ap || !(ap->set = calloc(1, sizeof(*ap->set)))) {
		*err = -ENOMEM;
		goto fail;
	}
	port->fd = epoll_create1(EPOLL_CLOEXEC);
	if (port->fd < 0) {
		*err = -errno;
		goto fail;
	}
	ap->policy = ap->set->policy = policy;
	port->priv = ap;
	port->ops = &aggr_ops;
	port->uplink = true;
	/* the kernel fast path does not pick members: all its frames are ours */
	port->slow_only = VW_SLOW_BACKEND;
	port->nq = 1;
	port->qfd[0] = port->fd;
	strncpy(port->name, name, sizeof(port->name) - 1);
	*err = 0;
	return port;
fail:
	if (ap)
		free(ap->set);
	free(ap);
	free(port);
	return NULL;
}

bool vw_aggr_is(const struct vw_port *port)
{
	return port && port->ops == &aggr_ops;
}

int vw_aggr_member_set(struct vw_port *port, unsigned idx, struct vw_port *member, int ifindex)
{
	struct aggr_priv *ap = port->priv;
	struct epoll_event ev = { .events = EPOLLIN };
	struct aggr_member *m;
	int rc;

	if (idx >= VW_AGGR_MAX || ap->m[idx])
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ifindex = ifindex;
	m->p = member;
	ev.data.u32 = idx;
	if (member->fd >= 0 && epoll_ctl(port->fd, EPOLL_CTL_ADD, member->fd, &ev) < 0) {
		rc = -errno;
		free(m);
		return rc;
	}
	/* neither collecting nor distributing until told */
	ap->m[idx] = m;
	ap->coll[idx] = ap->distr[idx] = false;
	if ((rc = publish(port))) {
		ap->m[idx] = NULL;
		if (member->fd >= 0)
			epoll_ctl(port->fd, EPOLL_CTL_DEL, member->fd, NULL);
		free(m);
	}
	return rc;
}

int vw_aggr_member_add(struct vw_port *port, unsigned idx, const char *ifname, int ifindex)
{
	struct vw_port *p;
	int rc;

	if (idx >= VW_AGGR_MAX)
		return -EINVAL;
	p = vw_packet_open(ifname, &rc);
	if (!p)
		return rc;
	if ((rc = vw_aggr_member_set(port, idx, p, ifindex)))
		vw_port_destroy(p);
	return rc;
}

void vw_aggr_member_del(struct vw_port *port, unsigned idx)
{
	struct aggr_priv *ap = port->priv;
	struct aggr_member *m;

	if (idx >= VW_AGGR_MAX || !(m = ap->m[idx]))
		return;
	ap->m[idx] = NULL;
	/* on failure the worker may go on reading the member: keep it */
	if (publish(port)) {
		ap->m[idx] = m;
		return;
	}
	if (m->p->fd >= 0)
		epoll_ctl(port->fd, EPOLL_CTL_DEL, m->p->fd, NULL);
	member_free(m);
}

int vw_aggr_member_state(struct vw_port *port, unsigned idx, bool collecting, bool distributing)
{
	struct aggr_priv *ap = port->priv;

	if (idx >= VW_AGGR_MAX || !ap->m[idx])
		return -EINVAL;
	if (ap->coll[idx] == collecting && ap->distr[idx] == distributing)
		return 0;
	ap->coll[idx] = collecting;
	ap->distr[idx] = distributing;
	return publish(port);
}

int vw_aggr_set_policy(struct vw_port *port, unsigned policy)
{
	struct aggr_priv *ap = port->priv;
	unsigned old = ap->policy;
	int rc;

	if (old == policy)
		return 0;
	ap->policy = policy;
	if ((rc = publish(port)))
		ap->policy = old;
	return rc;
}

void vw_aggr_member_stats(const struct vw_port *port, unsigned idx, struct vw_aggr_mstats *sum)
{
	const struct aggr_priv *ap = port->priv;
	const struct aggr_member *m;
	unsigned w;

	memset(sum, 0, sizeof(*sum));
	if (idx >= VW_AGGR_MAX || !(m = ap->m[idx]))
		return;
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		sum->rx_pkts += m->st[w].rx_pkts;
		sum->rx_bytes += m->st[w].rx_bytes;
		sum->tx_pkts += m->st[w].tx_pkts;
		sum->tx_bytes += m->st[w].tx_bytes;
		sum->rx_slow += m->st[w].rx_slow;
		sum->drop_notcoll += m->st[w].drop_notcoll;
		sum->drop_txerr += m->st[w].drop_txerr;
	}
}
