/*
 * The virtual switch engine.  Read datapath/vswitch.h first for the policy
 * and the threading rules.
 *
 * Forwarding works in two passes over a batch, as netmap's VALE does: pass
 * one classifies every frame and queues it on its destinations (a broadcast
 * frame is queued on several, sharing one buffer); pass two hands each
 * destination its whole queue in one tx_burst.  Then every buffer goes back
 * to the worker's pool.
 *
 * The forwarding table is one open-addressing hash keyed on (VID, MAC):
 * a VNIC's unicast address maps to that VNIC, (VID, ff:ff:ff:ff:ff:ff) to the
 * VID's broadcast domain, and (VID, group) to the members of a multicast
 * group.  Lookups cost the same whatever the number of VNICs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "datapath/rcu.h"
#include "datapath/vnet.h"
#include "datapath/vswitch.h"

#define ETH_HLEN_ 14
#define KEY_USED (1ULL << 63)

struct vw_fdb_entry {
	uint64_t key; /* KEY_USED | vid << 48 | mac; 0: empty slot */
	uint32_t nports;
	struct vw_port **ports;
};

struct vw_fdb {
	uint32_t mask;
	struct vw_port *uplink;
	struct vw_fdb_entry *slots;
	struct vw_port **portv; /* storage for every entry's port list */
};

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline uint64_t fdb_key(uint16_t vid, const uint8_t *mac)
{
	return KEY_USED | (uint64_t)vid << 48 | (uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 |
	       (uint64_t)mac[2] << 24 | (uint64_t)mac[3] << 16 | (uint64_t)mac[4] << 8 | mac[5];
}

static inline uint32_t fdb_hash(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (uint32_t)key;
}

static inline const struct vw_fdb_entry *fdb_lookup(const struct vw_fdb *fdb, uint64_t key)
{
	uint32_t i = fdb_hash(key) & fdb->mask;

	for (;;) {
		const struct vw_fdb_entry *e = &fdb->slots[i];

		if (e->key == key)
			return e;
		if (!e->key)
			return NULL;
		i = (i + 1) & fdb->mask;
	}
}

/* ---- control side: building tables ---- */

struct pair {
	uint64_t key;
	struct vw_port *port;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void fdb_free(struct vw_fdb *fdb)
{
	if (!fdb)
		return;
	free(fdb->slots);
	free(fdb->portv);
	free(fdb);
}

static struct vw_fdb *fdb_build(const struct vw_switch *sw)
{
	struct vw_fdb *fdb;
	struct pair *pairs;
	size_t np = 0, cap = 0, i, j, nkeys = 0, size;
	unsigned p;

	for (p = 0; p < sw->nports; p++)
		cap += 2 + sw->mcast[p].n;
	pairs = malloc((cap ? cap : 1) * sizeof(*pairs));
	fdb = calloc(1, sizeof(*fdb));
	if (!pairs || !fdb)
		goto fail;
	for (p = 0; p < sw->nports; p++) {
		struct vw_port *port = sw->ports[p];
		unsigned m;

		pairs[np++] = (struct pair){ fdb_key(port->vid, port->mac), port };
		pairs[np++] = (struct pair){ fdb_key(port->vid, bcast_mac), port };
		for (m = 0; m < sw->mcast[p].n; m++)
			pairs[np++] = (struct pair){ fdb_key(port->vid, sw->mcast[p].macs[m]), port };
	}
	qsort(pairs, np, sizeof(*pairs), pair_cmp);
	for (i = 0; i < np; i++)
		if (!i || pairs[i].key != pairs[i - 1].key)
			nkeys++;
	for (size = 16; size < nkeys * 2; size <<= 1)
		;
	fdb->mask = size - 1;
	fdb->uplink = sw->uplink;
	fdb->slots = calloc(size, sizeof(*fdb->slots));
	fdb->portv = malloc((np ? np : 1) * sizeof(*fdb->portv));
	if (!fdb->slots || !fdb->portv)
		goto fail;
	for (i = 0; i < np; i = j) {
		uint32_t h = fdb_hash(pairs[i].key) & fdb->mask;
		struct vw_fdb_entry *e;

		while (fdb->slots[h].key)
			h = (h + 1) & fdb->mask;
		e = &fdb->slots[h];
		e->key = pairs[i].key;
		e->ports = &fdb->portv[i];
		for (j = i; j < np && pairs[j].key == pairs[i].key; j++) {
			/* a port that joined a group twice is listed once */
			if (j == i || pairs[j].port != pairs[j - 1].port)
				e->ports[e->nports++] = pairs[j].port;
		}
	}
	free(pairs);
	return fdb;
fail:
	free(pairs);
	fdb_free(fdb);
	return NULL;
}

static int switch_publish(struct vw_switch *sw)
{
	struct vw_fdb *fdb = fdb_build(sw), *old;

	if (!fdb)
		return -ENOMEM;
	old = sw->fdb;
	vw_rcu_publish(&sw->fdb, fdb);
	vw_rcu_synchronize();
	fdb_free(old);
	return 0;
}

struct vw_switch *vw_switch_new(const char *name)
{
	struct vw_switch *sw = calloc(1, sizeof(*sw));

	if (!sw)
		return NULL;
	strncpy(sw->name, name, sizeof(sw->name) - 1);
	if (switch_publish(sw)) {
		free(sw);
		return NULL;
	}
	return sw;
}

void vw_switch_free(struct vw_switch *sw)
{
	if (!sw)
		return;
	fdb_free(sw->fdb);
	free(sw->ports);
	free(sw->mcast);
	free(sw);
}

static int port_index(const struct vw_switch *sw, const struct vw_port *port)
{
	unsigned i;

	for (i = 0; i < sw->nports; i++)
		if (sw->ports[i] == port)
			return (int)i;
	return -1;
}

int vw_switch_attach(struct vw_switch *sw, struct vw_port *port)
{
	unsigned i;
	int err;

	if (port->uplink) {
		if (sw->uplink)
			return -EEXIST;
		sw->uplink = port;
		port->sw = sw;
		err = switch_publish(sw);
		if (err)
			sw->uplink = NULL;
		return err;
	}
	for (i = 0; i < sw->nports; i++)
		if (sw->ports[i]->vid == port->vid && !memcmp(sw->ports[i]->mac, port->mac, 6))
			return -EEXIST;
	if (sw->nports == sw->cap) {
		unsigned cap = sw->cap ? sw->cap * 2 : 8;
		struct vw_port **ports = realloc(sw->ports, cap * sizeof(*ports));
		struct vw_mcast *mcast;

		if (!ports)
			return -ENOMEM;
		sw->ports = ports;
		mcast = realloc(sw->mcast, cap * sizeof(*mcast));
		if (!mcast)
			return -ENOMEM;
		sw->mcast = mcast;
		sw->cap = cap;
	}
	sw->ports[sw->nports] = port;
	sw->mcast[sw->nports] = (struct vw_mcast){ NULL, 0 };
	sw->nports++;
	port->sw = sw;
	err = switch_publish(sw);
	if (err)
		sw->nports--;
	return err;
}

void vw_switch_detach(struct vw_switch *sw, struct vw_port *port)
{
	int i;

	if (port == sw->uplink) {
		sw->uplink = NULL;
	} else {
		i = port_index(sw, port);
		if (i < 0)
			return;
		free(sw->mcast[i].macs);
		sw->ports[i] = sw->ports[sw->nports - 1];
		sw->mcast[i] = sw->mcast[sw->nports - 1];
		sw->nports--;
	}
	/* On failure to allocate the new table, drop forwarding entirely
	 * rather than keep the port reachable. */
	if (switch_publish(sw)) {
		struct vw_fdb *old = sw->fdb;

		vw_rcu_publish(&sw->fdb, NULL);
		vw_rcu_synchronize();
		fdb_free(old);
	}
}

int vw_switch_set_mcast(struct vw_switch *sw, struct vw_port *port, const uint8_t (*macs)[6], unsigned n)
{
	int i = port_index(sw, port);
	uint8_t (*copy)[6] = NULL;
	struct vw_mcast old;
	unsigned k;
	int err;

	if (i < 0)
		return -ENOENT;
	for (k = 0; k < n; k++)
		if (!(macs[k][0] & 1))
			return -EINVAL;
	if (sw->mcast[i].n == n && (!n || !memcmp(sw->mcast[i].macs, macs, n * 6)))
		return 0;
	if (n) {
		copy = malloc(n * 6);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, macs, n * 6);
	}
	old = sw->mcast[i];
	sw->mcast[i] = (struct vw_mcast){ copy, n };
	err = switch_publish(sw);
	if (err) {
		sw->mcast[i] = old;
		free(copy);
		return err;
	}
	free(old.macs);
	return 0;
}

/* ---- worker side: forwarding ---- */

int vw_fwd_init(struct vw_fwd *f, int worker, unsigned nbufs)
{
	memset(f, 0, sizeof(*f));
	f->worker = worker;
	return vw_pool_init(&f->pool, nbufs);
}

void vw_fwd_fini(struct vw_fwd *f)
{
	vw_pool_fini(&f->pool);
}

static void fwd_flush(struct vw_fwd *f)
{
	unsigned d, i;

	for (d = 0; d < f->ndst; d++) {
		struct vw_fwd_queue *q = &f->dst[d];
		struct vw_port_stats *st = &q->port->stats[f->worker];
		int sent = q->port->ops->tx_burst(q->port, q->pkts, (int)q->n, q->tag);

		if (sent < 0)
			sent = 0;
		for (i = 0; i < (unsigned)sent; i++)
			st->tx_bytes += q->pkts[i]->len + (q->tag && q->pkts[i]->vid ? 4 : 0);
		st->tx_pkts += (unsigned)sent;
		st->drop_txerr += q->n - (unsigned)sent;
	}
	f->ndst = 0;
}

/* Queues pkt on port; flushes first when the destination table is full. */
static inline void fwd_enqueue(struct vw_fwd *f, struct vw_port *port, struct vw_pkt *pkt)
{
	unsigned slot = port->fwd_slot[f->worker];
	struct vw_fwd_queue *q;

	if (slot < f->ndst && f->dst[slot].port == port) {
		q = &f->dst[slot];
	} else {
		if (f->ndst == VW_MAX_DSTS)
			fwd_flush(f);
		port->fwd_slot[f->worker] = (uint16_t)f->ndst;
		q = &f->dst[f->ndst++];
		q->port = port;
		q->tag = port->uplink;
		q->n = 0;
	}
	q->pkts[q->n++] = pkt;
}

static inline bool is_vlan_ethertype(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

/*
 * Works out the frame's VID: from the VNIC, or from the uplink's 802.1Q tag
 * (stripped here).  Returns false, counting why, when the frame must go.
 */
static inline bool classify_vid(struct vw_port *in, struct vw_port_stats *st, struct vw_pkt *pkt)
{
	uint16_t type = (uint16_t)(pkt->data[12] << 8 | pkt->data[13]);

	if (!in->uplink) {
		if (is_vlan_ethertype(type)) {
			st->drop_tagged++;
			return false;
		}
		pkt->vid = in->vid;
		return true;
	}
	if (type == 0x8100) {
		uint16_t inner;

		if (pkt->len < ETH_HLEN_ + 4) {
			st->drop_runt++;
			return false;
		}
		inner = (uint16_t)(pkt->data[16] << 8 | pkt->data[17]);
		if (is_vlan_ethertype(inner)) {
			st->drop_vlan++;
			return false;
		}
		pkt->vid = (uint16_t)((pkt->data[14] << 8 | pkt->data[15]) & 0xfff);
		memmove(pkt->data + 4, pkt->data, 12);
		pkt->data += 4;
		pkt->len -= 4;
		vw_vnet_shift(&pkt->vnet, -4);
		return true;
	}
	if (is_vlan_ethertype(type)) {
		st->drop_vlan++;
		return false;
	}
	pkt->vid = 0;
	return true;
}

int vw_switch_event_fd = -1;

/*
 * MLDv2 reports go to 33:33:00:00:00:16 (ff02::16), IGMPv3 reports to
 * 01:00:5e:00:00:16 (224.0.0.22): a VNIC's stack sends one whenever it joins
 * or leaves a group, which is when the control thread should re-read the
 * VNIC's multicast list rather than wait for its next poll.
 */
static inline bool is_mcast_report(const uint8_t *d)
{
	return d[5] == 0x16 && !d[3] && !d[4] &&
	       ((d[0] == 0x33 && d[1] == 0x33 && !d[2]) || (d[0] == 0x01 && !d[1] && d[2] == 0x5e));
}

/* Once per batch at most, and only when the port was not already marked:
 * the control thread has a wake-up pending for it then. */
static void vw_switch_notify(struct vw_port *port)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&port->mcast_dirty, 1, __ATOMIC_ACQ_REL))
		return;
	if (vw_switch_event_fd >= 0 && write(vw_switch_event_fd, &one, sizeof(one)) < 0)
		return; /* the counter is full: a wake-up is pending anyway */
}

void vw_switch_input(struct vw_fwd *f, struct vw_port *in, struct vw_pkt **pkts, int n)
{
	const struct vw_fdb *fdb = vw_rcu_deref(&in->sw->fdb);
	struct vw_port_stats *st = &in->stats[f->worker];
	bool report = false;
	int i;

	st->rx_batches++;
	f->ndst = 0;
	for (i = 0; i < n; i++) {
		struct vw_pkt *pkt = pkts[i];
		const struct vw_fdb_entry *e;
		unsigned queued = 0, k;
		const uint8_t *dst;

		if (pkt->len < ETH_HLEN_) {
			st->drop_runt++;
			continue;
		}
		st->rx_pkts++;
		st->rx_bytes += pkt->len;
		if (!classify_vid(in, st, pkt) || !fdb)
			continue;
		dst = pkt->data;
		e = fdb_lookup(fdb, fdb_key(pkt->vid, dst));
		if (dst[0] & 1) {
			/* broadcast and multicast: the VID's members but the sender */
			if (e)
				for (k = 0; k < e->nports; k++)
					if (e->ports[k] != in) {
						fwd_enqueue(f, e->ports[k], pkt);
						queued++;
					}
			if (!in->uplink && fdb->uplink) {
				fwd_enqueue(f, fdb->uplink, pkt);
				queued++;
			}
			report |= !in->uplink && is_mcast_report(dst);
			if (!queued) {
				if (in->uplink && !fdb_lookup(fdb, fdb_key(pkt->vid, bcast_mac)))
					st->drop_vlan++;
				else
					st->drop_unknown++;
			}
			continue;
		}
		if (e && e->ports[0] != in)
			fwd_enqueue(f, e->ports[0], pkt);
		else if (!in->uplink && fdb->uplink && !e)
			fwd_enqueue(f, fdb->uplink, pkt);
		else if (in->uplink && !fdb_lookup(fdb, fdb_key(pkt->vid, bcast_mac)))
			st->drop_vlan++;
		else
			st->drop_unknown++;
	}
	fwd_flush(f);
	for (i = 0; i < n; i++)
		vw_pkt_free(&f->pool, pkts[i]);
	if (report)
		vw_switch_notify(in);
}
