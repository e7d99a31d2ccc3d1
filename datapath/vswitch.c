/*
 * The virtual switch engine.  Read datapath/vswitch.h first for the policy
 * and the threading rules.
 *
 * Forwarding works in passes over a batch, as netmap's VALE does, so that
 * the cache misses of different frames overlap instead of queueing behind
 * each other: pass one classifies every frame and works out its key and
 * hash; pass two looks every key up (independent loads, which the core
 * overlaps on its own: explicit prefetches measured slower, see
 * docs/benchmarks-engine.md); pass three queues every frame on its
 * destinations (a broadcast frame on several, sharing one buffer).  Then
 * each destination gets its whole queue in one call (its tx hook, else its
 * backend's write: vw_port_tx in datapath/port.h), and every buffer goes
 * back to the worker's pool.  Per destination the worker touches only its
 * own 32-byte entry (struct vw_dst), never the port.
 *
 * The forwarding table is one open-addressing hash (linear probing) keyed on
 * (VID, MAC): a VNIC's unicast address maps to the VNIC's index, (VID,
 * ff:ff:ff:ff:ff:ff) to the list of the VID's VNICs, and (VID, group) to the
 * list of a multicast group's members.  Lookups cost the same whatever the
 * number of VNICs, and so do attach and detach (amortized: the table and
 * the lists are replaced only when they must grow or shrink).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/fastpath.h"
#include "datapath/flow.h"
#include "datapath/gso.h"
#include "datapath/mcsnoop.h"
#include "datapath/observe.h"
#include "datapath/protect.h"
#include "datapath/rcu.h"
#include "datapath/vnet.h"
#include "datapath/vswitch.h"

#define ETH_HLEN_ 14
#define KEY_USED (1ULL << 63)
#define KEY_TOMB (1ULL << 62)  /* a removed key: lookups probe past it */
#define KEY_GROUP (1ULL << 40) /* the MAC's I/G bit: the value is a list */
#define NO_ID UINT32_MAX
#define NO_VAL UINT64_MAX
#define MIN_SLOTS 16u
#define MIN_IDS 16u

struct vw_slot {
	uint64_t key; /* KEY_USED | vid << 48 | mac; 0: never used; KEY_TOMB */
	uint64_t val; /* unicast: the port's index; group: struct vw_members * */
};

/* A group's members (for broadcast: the VID's VNICs), by port index.
 * Appended to in place: id[n] is written before n (release).  A member that
 * leaves becomes NO_ID; the list is replaced whole (compacted) when it is
 * full or mostly holes.  Workers skip NO_ID. */
struct vw_members {
	uint32_t n;    /* entries written */
	uint32_t cap;
	uint32_t live; /* entries that are not NO_ID (control thread only) */
	uint32_t id[];
};

typedef int (*tx_fn)(struct vw_port *, struct vw_pkt **, int, bool);

/* What worker w touches per destination: one 32-byte entry of its own, not
 * the port.  tx is what delivering to the port calls: vw_port_tx_hooked
 * while the port has a tx hook (set by the control thread when the port
 * takes the index and whenever its tx hook changes:
 * vw_switch_port_tx_changed), else the backend's write, read from port->ops
 * the first time the worker delivers to the port (NULL before). */
struct vw_dst {
	struct vw_port *port;
	tx_fn tx;
	uint64_t tx_pkts, tx_bytes;
};

struct vw_fdb {
	uint32_t mask;
	uint32_t uplink; /* the uplink's index, NO_ID: none; atomic */
	struct vw_slot *slots;
	uint32_t cap;         /* indices the per-worker arrays hold */
	uint32_t used, tombs; /* control thread only */
	uint32_t flowports;   /* ports with a flow table; atomic */
	/* the shortest longest frame a VNIC of the switch takes (its MTU +
	 * 14), UINT32_MAX: none limited; frames no longer skip the MTU
	 * checks; atomic */
	uint32_t minlen;
	struct vw_dst *dst[VW_MAX_WORKERS];
	uint16_t *qslot[VW_MAX_WORKERS]; /* the index's queue in the batch */
	uint64_t *txerr[VW_MAX_WORKERS]; /* drop_txerr: rarely written */
};

/* Control side, per port index. */
struct vw_swrec {
	struct vw_port *port; /* NULL: free, on the list through next_free */
	uint64_t ukey;        /* (VID, MAC) as attached: what detach removes */
	uint16_t vid;
	uint32_t pos;         /* in sw->ports */
	uint32_t bpos;        /* in its VID's broadcast list */
	uint32_t next_free;
	unsigned nmc;
	uint8_t (*mc)[6]; /* groups joined, each once */
	uint32_t *mcpos;  /* position in each group's list */
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

/* Control side: the slot holding key, NULL if absent. */
static struct vw_slot *fdb_find(const struct vw_fdb *fdb, uint64_t key)
{
	uint32_t i = fdb_hash(key) & fdb->mask;

	for (;;) {
		struct vw_slot *s = &fdb->slots[i];

		if (s->key == key)
			return s;
		if (!s->key)
			return NULL;
		i = (i + 1) & fdb->mask;
	}
}

/* Worker side: the value of key, probing from slot i; NO_VAL if absent.
 * The key is loaded relaxed and the value after an acquire fence, which
 * lets the probe loop keep slots and mask in registers. */
static inline uint64_t fdb_get(const struct vw_slot *slots, uint32_t mask, uint64_t key, uint32_t i)
{
	for (;;) {
		uint64_t k = __atomic_load_n(&slots[i].key, __ATOMIC_RELAXED);

		if (k == key) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			return __atomic_load_n(&slots[i].val, __ATOMIC_RELAXED);
		}
		if (!k)
			return NO_VAL;
		i = (i + 1) & mask;
	}
}

static inline bool fdb_has(const struct vw_slot *slots, uint32_t mask, uint64_t key)
{
	return fdb_get(slots, mask, key, fdb_hash(key) & mask) != NO_VAL;
}

static inline struct vw_members *slot_list(const struct vw_slot *s)
{
	return (struct vw_members *)(uintptr_t)__atomic_load_n(&s->val, __ATOMIC_ACQUIRE);
}

/* ---- control side ---- */

/* Frees what was unpublished, once no worker can hold it any more. */
static void sync_and_free(struct vw_switch *sw)
{
	unsigned i;

	vw_rcu_synchronize();
	for (i = 0; i < sw->ngarbage; i++)
		free(sw->garbage[i]);
	sw->ngarbage = 0;
}

/* p is no longer reachable from the table; freed after a grace period.
 * Never fails: without room to remember it, waits for the grace now. */
static void garbage_push(struct vw_switch *sw, void *p)
{
	if (sw->ngarbage == sw->capgarbage) {
		unsigned cap = sw->capgarbage ? sw->capgarbage * 2 : 16;
		void **g = realloc(sw->garbage, cap * sizeof(*g));

		if (!g) {
			sync_and_free(sw);
			free(p);
			return;
		}
		sw->garbage = g;
		sw->capgarbage = cap;
	}
	sw->garbage[sw->ngarbage++] = p;
}

static void fdb_free(struct vw_fdb *fdb)
{
	int w;

	if (!fdb)
		return;
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		free(fdb->dst[w]);
		free(fdb->qslot[w]);
		free(fdb->txerr[w]);
	}
	free(fdb->slots);
	free(fdb);
}

/* Per-worker arrays for cap indices in fdb (fdb->dst[] etc. replaced). */
static int fdb_alloc_arrays(struct vw_fdb *fdb, uint32_t cap)
{
	size_t dlen = ((size_t)cap * sizeof(struct vw_dst) + 63) & ~(size_t)63;
	int w;

	for (w = 0; w < VW_MAX_WORKERS; w++) {
		fdb->dst[w] = aligned_alloc(64, dlen);
		fdb->qslot[w] = calloc(cap, sizeof(uint16_t));
		fdb->txerr[w] = calloc(cap, sizeof(uint64_t));
		if (!fdb->dst[w] || !fdb->qslot[w] || !fdb->txerr[w]) {
			for (; w >= 0; w--) {
				free(fdb->dst[w]);
				free(fdb->qslot[w]);
				free(fdb->txerr[w]);
				fdb->dst[w] = NULL, fdb->qslot[w] = NULL, fdb->txerr[w] = NULL;
			}
			return -ENOMEM;
		}
		memset(fdb->dst[w], 0, dlen);
	}
	fdb->cap = cap;
	return 0;
}

/* Inserts a key that is not in the table; the value is visible before the
 * key.  The caller has made room (fdb_room). */
static void slot_insert(struct vw_fdb *fdb, uint64_t key, uint64_t val)
{
	uint32_t i = fdb_hash(key) & fdb->mask;
	struct vw_slot *s;

	while (fdb->slots[i].key & KEY_USED)
		i = (i + 1) & fdb->mask;
	s = &fdb->slots[i];
	if (s->key == KEY_TOMB)
		fdb->tombs--;
	fdb->used++;
	__atomic_store_n(&s->val, val, __ATOMIC_RELAXED);
	__atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
}

/* The slot stays a tombstone: reusing it before a grace period could hand a
 * worker that matched the old key the new key's value. */
static void slot_remove(struct vw_fdb *fdb, struct vw_slot *s)
{
	__atomic_store_n(&s->key, KEY_TOMB, __ATOMIC_RELEASE);
	fdb->used--;
	fdb->tombs++;
}

/* Replaces the table's slots with size fresh ones holding the same keys
 * (tombstones dropped); the lists are shared, not copied. */
static int fdb_rehash(struct vw_switch *sw, uint32_t size)
{
	struct vw_fdb *old = sw->fdb, *fdb = malloc(sizeof(*fdb));
	struct vw_slot *slots = aligned_alloc(64, size * sizeof(*slots));
	uint32_t i;

	if (!fdb || !slots) {
		free(fdb);
		free(slots);
		return -ENOMEM;
	}
	memset(slots, 0, size * sizeof(*slots));
	*fdb = *old;
	fdb->slots = slots;
	fdb->mask = size - 1;
	fdb->used = fdb->tombs = 0;
	for (i = 0; i <= old->mask; i++)
		if (old->slots[i].key & KEY_USED)
			slot_insert(fdb, old->slots[i].key, old->slots[i].val);
	vw_rcu_publish(&sw->fdb, fdb);
	garbage_push(sw, old->slots);
	garbage_push(sw, old);
	sw->rebuilds++;
	return 0;
}

/* Room for k more keys, keeping the load (tombstones included) at most
 * LOAD_MAX/8, so every probe ends on an empty slot and most end at the
 * first: a rehash makes the table at least REHASH_X times the keys, so
 * size/8 inserts at least come before the next one. */
#ifndef LOAD_MAX
#define LOAD_MAX 4
#endif
#ifndef REHASH_X
#define REHASH_X 4
#endif
static int fdb_room(struct vw_switch *sw, unsigned k)
{
	const struct vw_fdb *fdb = sw->fdb;
	uint32_t size = fdb->mask + 1;

	if ((uint64_t)(fdb->used + fdb->tombs + k) * 8 <= (uint64_t)size * LOAD_MAX)
		return 0;
	for (size = MIN_SLOTS; size < REHASH_X * ((uint64_t)fdb->used + k); size <<= 1)
		;
	return fdb_rehash(sw, size);
}

/* After removals: a table at most 1/16 full shrinks (best effort). */
static void fdb_maybe_shrink(struct vw_switch *sw)
{
	const struct vw_fdb *fdb = sw->fdb;
	uint32_t size;

	if (fdb->mask + 1 <= MIN_SLOTS || (uint64_t)fdb->used * 16 > fdb->mask + 1)
		return;
	for (size = MIN_SLOTS; size < REHASH_X * (uint64_t)fdb->used; size <<= 1)
		;
	fdb_rehash(sw, size);
}

/* Adds the tx counters of index id, as counted in fdb's arrays, to the
 * port's own (the workers no longer write either) and clears them. */
static void fold_counters(struct vw_fdb *fdb, uint32_t id, struct vw_port *port)
{
	int w;

	for (w = 0; w < VW_MAX_WORKERS; w++) {
		struct vw_dst *d = &fdb->dst[w][id];

		port->stats[w].tx_pkts += d->tx_pkts;
		port->stats[w].tx_bytes += d->tx_bytes;
		port->stats[w].drop_txerr += fdb->txerr[w][id];
		d->tx_pkts = d->tx_bytes = 0;
		fdb->txerr[w][id] = 0;
	}
}

/* Room for one more port index: the records and every worker's arrays. */
static int ids_room(struct vw_switch *sw)
{
	struct vw_fdb *old = sw->fdb, *fdb;
	uint32_t cap, i;
	int w;

	if (sw->free_id != NO_ID || sw->nrec < sw->caprec)
		return 0;
	cap = sw->caprec ? sw->caprec * 2 : MIN_IDS;
	if (cap <= sw->caprec)
		return -ENOSPC;
	{
		struct vw_swrec *rec = realloc(sw->rec, cap * sizeof(*rec));

		if (!rec)
			return -ENOMEM;
		sw->rec = rec;
	}
	if (old->cap < cap) {
		fdb = malloc(sizeof(*fdb));
		if (!fdb)
			return -ENOMEM;
		*fdb = *old;
		if (fdb_alloc_arrays(fdb, cap)) {
			free(fdb);
			return -ENOMEM;
		}
		for (w = 0; w < VW_MAX_WORKERS; w++)
			for (i = 0; i < old->cap; i++) {
				fdb->dst[w][i].port = old->dst[w][i].port;
				fdb->dst[w][i].tx = old->dst[w][i].tx;
			}
		vw_rcu_publish(&sw->fdb, fdb);
		vw_rcu_synchronize();
		/* the old arrays are quiet now: their counts go to the ports */
		for (i = 0; i < sw->nrec; i++)
			if (sw->rec[i].port)
				fold_counters(old, i, sw->rec[i].port);
		for (w = 0; w < VW_MAX_WORKERS; w++) {
			free(old->dst[w]);
			free(old->qslot[w]);
			free(old->txerr[w]);
		}
		free(old);
		sw->rebuilds++;
	}
	sw->caprec = cap;
	return 0;
}

/* Takes an index (ids_room first) and points every worker's entry at port. */
static uint32_t id_take(struct vw_switch *sw, struct vw_port *port)
{
	struct vw_fdb *fdb = sw->fdb;
	uint32_t id;
	int w;

	if (sw->free_id != NO_ID) {
		id = sw->free_id;
		sw->free_id = sw->rec[id].next_free;
	} else {
		id = sw->nrec++;
	}
	memset(&sw->rec[id], 0, sizeof(sw->rec[id]));
	sw->rec[id].port = port;
	sw->rec[id].next_free = NO_ID;
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		fdb->dst[w][id] = (struct vw_dst){ port, vw_port_tx_set(port), 0, 0 };
		fdb->txerr[w][id] = 0;
	}
	return id;
}

/* After a grace period: the index's counts go to its port, and it is free. */
static void id_release(struct vw_switch *sw, uint32_t id)
{
	struct vw_swrec *r = &sw->rec[id];

	fold_counters(sw->fdb, id, r->port);
	free(r->mc);
	free(r->mcpos);
	memset(r, 0, sizeof(*r));
	r->next_free = sw->free_id;
	sw->free_id = id;
}

static void key_mac(uint64_t key, uint8_t mac[6])
{
	int i;

	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(key >> (40 - 8 * i));
}

/* Records that port index id sits at position pos of key's list. */
static void set_pos(struct vw_switch *sw, uint64_t key, uint32_t id, uint32_t pos)
{
	struct vw_swrec *r = &sw->rec[id];
	uint8_t mac[6];
	unsigned g;

	key_mac(key, mac);
	if (!memcmp(mac, bcast_mac, 6)) {
		r->bpos = pos;
		return;
	}
	for (g = 0; g < r->nmc; g++)
		if (!memcmp(r->mc[g], mac, 6)) {
			r->mcpos[g] = pos;
			return;
		}
}

static struct vw_members *members_new(uint32_t cap)
{
	struct vw_members *m = malloc(sizeof(*m) + cap * sizeof(m->id[0]));

	if (m)
		*m = (struct vw_members){ 0, cap, 0 };
	return m;
}

/* Replaces slot s's list by a copy without its holes and with room for at
 * least more entries. */
static int members_compact(struct vw_switch *sw, struct vw_slot *s, uint32_t more)
{
	struct vw_members *old = slot_list(s), *m;
	uint32_t cap = 4, k;

	while (cap < 2 * (old->live + more))
		cap <<= 1;
	m = members_new(cap);
	if (!m)
		return -ENOMEM;
	for (k = 0; k < old->n; k++)
		if (old->id[k] != NO_ID) {
			set_pos(sw, s->key, old->id[k], m->n);
			m->id[m->n++] = old->id[k];
		}
	m->live = old->live;
	__atomic_store_n(&s->val, (uint64_t)(uintptr_t)m, __ATOMIC_RELEASE);
	garbage_push(sw, old);
	return 0;
}

static int members_room(struct vw_switch *sw, struct vw_slot *s)
{
	const struct vw_members *m = slot_list(s);

	return m->n < m->cap ? 0 : members_compact(sw, s, 1);
}

/* Appends id (members_room first); returns its position. */
static uint32_t members_append(struct vw_members *m, uint32_t id)
{
	uint32_t pos = m->n;

	__atomic_store_n(&m->id[pos], id, __ATOMIC_RELAXED);
	__atomic_store_n(&m->n, pos + 1, __ATOMIC_RELEASE);
	m->live++;
	return pos;
}

/* Adds id to key's list, creating it with m (preallocated) if absent.
 * Returns the position; *used tells whether m was taken. */
static uint32_t group_join(struct vw_switch *sw, uint64_t key, uint32_t id, struct vw_members *m, bool *used)
{
	struct vw_slot *s = fdb_find(sw->fdb, key);

	*used = !s;
	if (s)
		return members_append(slot_list(s), id);
	members_append(m, id);
	slot_insert(sw->fdb, key, (uint64_t)(uintptr_t)m);
	return 0;
}

/* Removes the member at pos of key's list; the key goes with its last
 * member.  A list that is mostly holes is compacted (best effort). */
static void group_leave(struct vw_switch *sw, uint64_t key, uint32_t pos)
{
	struct vw_slot *s = fdb_find(sw->fdb, key);
	struct vw_members *m;

	if (!s)
		return;
	m = slot_list(s);
	__atomic_store_n(&m->id[pos], NO_ID, __ATOMIC_RELAXED);
	if (--m->live == 0) {
		slot_remove(sw->fdb, s);
		garbage_push(sw, m);
	} else if (m->n >= 16 && m->live * 4 < m->n) {
		members_compact(sw, s, 0);
	}
}

static int ports_room(struct vw_switch *sw)
{
	unsigned cap;
	struct vw_port **ports;

	if (sw->nports < sw->cap)
		return 0;
	cap = sw->cap ? sw->cap * 2 : 8;
	ports = realloc(sw->ports, cap * sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	sw->ports = ports;
	sw->cap = cap;
	return 0;
}

/* The port's index on sw, or NO_ID if it is not attached to sw. */
static uint32_t port_id(const struct vw_switch *sw, const struct vw_port *port)
{
	uint32_t id = port->swid - 1;

	if (!port->swid || id >= sw->nrec || sw->rec[id].port != port)
		return NO_ID;
	return id;
}

/* A switch's id in the fast path's maps: the same for the same name in the
 * next daemon, which takes the maps over while they switch (FNV-1a) */
static uint32_t fast_id(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name)
		h = (h ^ (uint8_t)*name++) * 16777619u;
	return h ? h : 1;
}

struct vw_switch *vw_switch_new(const char *name)
{
	struct vw_switch *sw = calloc(1, sizeof(*sw));
	struct vw_fdb *fdb = calloc(1, sizeof(*fdb));

	if (!sw || !fdb || !(fdb->slots = aligned_alloc(64, MIN_SLOTS * sizeof(*fdb->slots))) ||
	    fdb_alloc_arrays(fdb, MIN_IDS)) {
		fdb_free(fdb);
		free(sw);
		return NULL;
	}
	strncpy(sw->name, name, sizeof(sw->name) - 1);
	memset(fdb->slots, 0, MIN_SLOTS * sizeof(*fdb->slots));
	fdb->mask = MIN_SLOTS - 1;
	fdb->uplink = NO_ID;
	fdb->minlen = UINT32_MAX;
	sw->free_id = NO_ID;
	sw->fdb = fdb;
	sw->fast_id = fast_id(name);
	return sw;
}

void vw_switch_free(struct vw_switch *sw)
{
	uint32_t i;

	if (!sw)
		return;
	if (sw->ngarbage)
		sync_and_free(sw);
	for (i = 0; i <= sw->fdb->mask; i++)
		if ((sw->fdb->slots[i].key & (KEY_USED | KEY_GROUP)) == (KEY_USED | KEY_GROUP))
			free(slot_list(&sw->fdb->slots[i]));
	for (i = 0; i < sw->nrec; i++) {
		free(sw->rec[i].mc);
		free(sw->rec[i].mcpos);
	}
	fdb_free(sw->fdb);
	free(sw->rec);
	free(sw->garbage);
	free(sw->ports);
	free(sw);
}

/* Recomputes the table's minlen from the VNICs' MTUs. */
static void minlen_update(struct vw_switch *sw)
{
	uint32_t min = UINT32_MAX, m;
	unsigned i;

	for (i = 0; i < sw->nports; i++) {
		m = __atomic_load_n(&sw->ports[i]->mtu, __ATOMIC_RELAXED);
		if (m && m + 14 < min)
			min = m + 14;
	}
	__atomic_store_n(&sw->fdb->minlen, min, __ATOMIC_RELEASE);
}

void vw_switch_set_mtu(struct vw_switch *sw, struct vw_port *port, uint32_t mtu)
{
	/* lower: the port's limit before the switch's; higher: after */
	__atomic_store_n(&port->mtu, mtu, __ATOMIC_RELEASE);
	if (sw && port_id(sw, port) != NO_ID)
		minlen_update(sw);
	vw_fast_port_sync(port);
}

static int attach_uplink(struct vw_switch *sw, struct vw_port *port)
{
	uint32_t id;
	int err;

	if (sw->uplink)
		return -EEXIST;
	err = ids_room(sw);
	if (err)
		return err;
	id = id_take(sw, port);
	sw->uplink = port;
	port->sw = sw;
	__atomic_store_n(&port->swid, id + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&sw->fdb->uplink, id, __ATOMIC_RELEASE);
	return 0;
}

static int attach_vnic(struct vw_switch *sw, struct vw_port *port)
{
	uint64_t ukey = fdb_key(port->vid, port->mac), bkey = fdb_key(port->vid, bcast_mac);
	struct vw_members *nb = NULL;
	struct vw_slot *bs;
	struct vw_swrec *r;
	bool used;
	uint32_t id;
	int err;

	if (port->mac[0] & 1)
		return -EINVAL;
	if (fdb_find(sw->fdb, ukey))
		return -EEXIST;
	/* everything that can fail first: each step leaves a working table */
	err = ids_room(sw);
	if (!err)
		err = ports_room(sw);
	if (!err)
		err = fdb_room(sw, 2);
	if (!err) {
		bs = fdb_find(sw->fdb, bkey);
		if (bs)
			err = members_room(sw, bs);
		else if (!(nb = members_new(4)))
			err = -ENOMEM;
	}
	if (err)
		goto out;

	id = id_take(sw, port);
	r = &sw->rec[id];
	r->ukey = ukey;
	r->vid = port->vid;
	r->pos = sw->nports;
	sw->ports[sw->nports++] = port;
	port->sw = sw;
	__atomic_store_n(&port->swid, id + 1, __ATOMIC_RELAXED);
	slot_insert(sw->fdb, ukey, id);
	r->bpos = group_join(sw, bkey, id, nb, &used);
	if (!used)
		free(nb);
	minlen_update(sw);
out:
	if (sw->ngarbage)
		sync_and_free(sw);
	return err;
}

int vw_switch_attach(struct vw_switch *sw, struct vw_port *port)
{
	if (port->swid)
		return port_id(sw, port) != NO_ID ? -EEXIST : -EBUSY;
	return port->uplink ? attach_uplink(sw, port) : attach_vnic(sw, port);
}

void vw_switch_detach(struct vw_switch *sw, struct vw_port *port)
{
	uint32_t id = port_id(sw, port);
	struct vw_swrec *r;
	unsigned g;

	if (id == NO_ID)
		return;
	vw_fast_port_del(port); /* out of the kernel's tables first */
	r = &sw->rec[id];
	if (port == sw->uplink) {
		__atomic_store_n(&sw->fdb->uplink, NO_ID, __ATOMIC_RELEASE);
		sw->uplink = NULL;
	} else {
		struct vw_slot *s = fdb_find(sw->fdb, r->ukey);
		struct vw_port *last = sw->ports[sw->nports - 1];

		if (s)
			slot_remove(sw->fdb, s);
		for (g = 0; g < r->nmc; g++)
			group_leave(sw, fdb_key(r->vid, r->mc[g]), r->mcpos[g]);
		group_leave(sw, fdb_key(r->vid, bcast_mac), r->bpos);
		sw->ports[r->pos] = last;
		sw->rec[last->swid - 1].pos = r->pos;
		sw->nports--;
		fdb_maybe_shrink(sw);
		minlen_update(sw);
	}
	/* a worker that reads 0 here sees the port gone from every list */
	__atomic_store_n(&port->swid, 0, __ATOMIC_RELEASE);
	sync_and_free(sw);
	id_release(sw, id);
}

static bool mac_in(const uint8_t (*set)[6], unsigned n, const uint8_t *mac, unsigned *at)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!memcmp(set[i], mac, 6)) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

int vw_switch_set_mcast(struct vw_switch *sw, struct vw_port *port, const uint8_t (*macs)[6], unsigned n)
{
	uint32_t id = port_id(sw, port);
	uint8_t (*set)[6] = NULL;
	uint32_t *pos = NULL;
	struct vw_members **fresh = NULL;
	struct vw_swrec *r;
	unsigned k, m = 0, nadd = 0, ndel = 0, at;
	int err = 0;

	if (id == NO_ID || port->uplink)
		return -ENOENT;
	for (k = 0; k < n; k++)
		if (!(macs[k][0] & 1))
			return -EINVAL;
	r = &sw->rec[id];
	/* the new set, each group once */
	if (n) {
		set = malloc(n * sizeof(*set));
		pos = malloc(n * sizeof(*pos));
		fresh = calloc(n, sizeof(*fresh));
		if (!set || !pos || !fresh) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (k = 0; k < n; k++)
		/* the broadcast address is every VNIC's already */
		if (memcmp(macs[k], bcast_mac, 6) && !mac_in(set, m, macs[k], NULL)) {
			memcpy(set[m++], macs[k], 6);
			nadd += !mac_in(r->mc, r->nmc, macs[k], NULL);
		}
	for (k = 0; k < r->nmc; k++)
		ndel += !mac_in(set, m, r->mc[k], NULL);
	if (!nadd && !ndel)
		goto out;

	/* what can fail first */
	err = fdb_room(sw, nadd);
	for (k = 0; k < m && !err; k++) {
		struct vw_slot *s;

		if (mac_in(r->mc, r->nmc, set[k], NULL))
			continue;
		s = fdb_find(sw->fdb, fdb_key(r->vid, set[k]));
		if (s)
			err = members_room(sw, s);
		else if (!(fresh[k] = members_new(4)))
			err = -ENOMEM;
	}
	if (err)
		goto out;

	/* joins before leaves: a tombstone made now must not be reused now */
	for (k = 0; k < m; k++) {
		bool used;

		if (mac_in(r->mc, r->nmc, set[k], &at)) {
			pos[k] = r->mcpos[at];
			continue;
		}
		pos[k] = group_join(sw, fdb_key(r->vid, set[k]), id, fresh[k], &used);
		if (used)
			fresh[k] = NULL;
	}
	for (k = 0; k < r->nmc; k++)
		if (!mac_in(set, m, r->mc[k], NULL))
			group_leave(sw, fdb_key(r->vid, r->mc[k]), r->mcpos[k]);
	free(r->mc);
	free(r->mcpos);
	r->mc = m ? set : NULL;
	r->mcpos = m ? pos : NULL;
	r->nmc = m;
	if (m)
		set = NULL, pos = NULL;
	if (ndel) {
		fdb_maybe_shrink(sw);
		sync_and_free(sw);
	}
out:
	if (sw->ngarbage)
		sync_and_free(sw);
	for (k = 0; fresh && k < n; k++)
		free(fresh[k]);
	free(fresh);
	free(set);
	free(pos);
	return err;
}

struct vw_flowtab *vw_switch_set_flows(struct vw_switch *sw, struct vw_port *port, struct vw_flowtab *ft)
{
	struct vw_flowtab *old = port->flows;
	uint32_t n = sw->fdb->flowports;

	if (ft && !old)
		n++;
	else if (!ft && old)
		n--;
	/* the table first, then the count that makes workers look at it; a
	 * worker that still sees the old count for a batch misses at most
	 * that batch's counts */
	vw_rcu_publish(&port->flows, ft);
	__atomic_store_n(&sw->fdb->flowports, n, __ATOMIC_RELEASE);
	vw_fast_port_sync(port); /* a port with flows takes the slow path */
	if (old)
		vw_rcu_synchronize();
	return old;
}

void vw_switch_port_tx_changed(struct vw_port *port)
{
	struct vw_switch *sw = port->sw;
	uint32_t id;
	int w;

	if (!port->swid || !sw || (id = port_id(sw, port)) == NO_ID)
		return;
	for (w = 0; w < VW_MAX_WORKERS; w++)
		__atomic_store_n(&sw->fdb->dst[w][id].tx, vw_port_tx_set(port), __ATOMIC_RELEASE);
}

void vw_switch_stats_add(const struct vw_port *port, struct vw_port_stats *sum)
{
	const struct vw_switch *sw = port->sw;
	const struct vw_fdb *fdb;
	uint32_t id;
	int w;

	if (!port->swid || !sw || (id = port_id(sw, port)) == NO_ID)
		return;
	fdb = sw->fdb;
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		sum->tx_pkts += __atomic_load_n(&fdb->dst[w][id].tx_pkts, __ATOMIC_RELAXED);
		sum->tx_bytes += __atomic_load_n(&fdb->dst[w][id].tx_bytes, __ATOMIC_RELAXED);
		sum->drop_txerr += __atomic_load_n(&fdb->txerr[w][id], __ATOMIC_RELAXED);
	}
}

/* ---- checking the table against one built from scratch ---- */

struct vpair {
	uint64_t key;
	uint32_t id;
};

static int vpair_cmp(const void *a, const void *b)
{
	const struct vpair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

#define VFAIL(...)                                      \
	do {                                            \
		snprintf(why, len, __VA_ARGS__);        \
		err = -EINVAL;                          \
		goto out;                               \
	} while (0)

int vw_switch_verify(const struct vw_switch *sw, char *why, size_t len)
{
	const struct vw_fdb *fdb = sw->fdb;
	struct vpair *pairs = NULL;
	uint32_t *ids = NULL, id, i, j, k, nfree = 0, nvnic = 0, nkeys = 0, used = 0, tombs = 0;
	size_t np = 0, cap = 0;
	int err = 0, w;

	if (len)
		why[0] = 0;
	for (id = sw->free_id; id != NO_ID; id = sw->rec[id].next_free) {
		if (id >= sw->nrec || sw->rec[id].port || ++nfree > sw->nrec)
			VFAIL("free list broken at index %u", id);
	}
	for (id = 0; id < sw->nrec; id++)
		if (sw->rec[id].port)
			cap += 2 + sw->rec[id].nmc;
	pairs = malloc((cap ? cap : 1) * sizeof(*pairs));
	ids = malloc((sw->nrec ? sw->nrec : 1) * sizeof(*ids));
	if (!pairs || !ids)
		VFAIL("out of memory");
	/* the reference: every (key, port) pair, sorted, as a fresh build has */
	for (id = 0; id < sw->nrec; id++) {
		const struct vw_swrec *r = &sw->rec[id];
		const struct vw_port *p = r->port;

		if (!p)
			continue;
		if (p->swid != id + 1 || p->sw != sw)
			VFAIL("port %s: swid %u, index %u", p->name, p->swid, id);
		if (fdb->cap < sw->nrec || sw->caprec < sw->nrec)
			VFAIL("arrays hold %u indices, %u in use", fdb->cap, sw->nrec);
		for (w = 0; w < VW_MAX_WORKERS; w++)
			if (fdb->dst[w][id].port != p ||
			    (fdb->dst[w][id].tx && fdb->dst[w][id].tx != vw_port_tx_hooked && fdb->dst[w][id].tx != p->ops->write))
				VFAIL("port %s: worker %d's entry names another port", p->name, w);
		if (p->uplink) {
			if (sw->uplink != p || fdb->uplink != id)
				VFAIL("uplink %s not published as index %u", p->name, id);
			continue;
		}
		nvnic++;
		if (r->pos >= sw->nports || sw->ports[r->pos] != p)
			VFAIL("port %s: not at %u in the port list", p->name, r->pos);
		pairs[np++] = (struct vpair){ fdb_key(p->vid, p->mac), id };
		pairs[np++] = (struct vpair){ fdb_key(p->vid, bcast_mac), id };
		for (k = 0; k < r->nmc; k++) {
			if (!(r->mc[k][0] & 1) || !memcmp(r->mc[k], bcast_mac, 6) || mac_in(r->mc, k, r->mc[k], NULL))
				VFAIL("port %s: group %u not multicast or listed twice", p->name, k);
			pairs[np++] = (struct vpair){ fdb_key(p->vid, r->mc[k]), id };
		}
	}
	if (nvnic != sw->nports)
		VFAIL("%u VNIC ports in the records, %u in the list", nvnic, sw->nports);
	if (!sw->uplink && fdb->uplink != NO_ID)
		VFAIL("no uplink, but index %u published", fdb->uplink);
	qsort(pairs, np, sizeof(*pairs), vpair_cmp);
	for (i = 0; i < np; i = j) {
		uint64_t key = pairs[i].key;
		const struct vw_slot *s = fdb_find(fdb, key);
		uint32_t n = 0;

		for (j = i; j < np && pairs[j].key == key; j++)
			;
		nkeys++;
		if (!s)
			VFAIL("key %016llx missing", (unsigned long long)key);
		if (!(key & KEY_GROUP)) {
			if (j - i != 1)
				VFAIL("unicast key %016llx on %u ports", (unsigned long long)key, j - i);
			if (s->val != pairs[i].id)
				VFAIL("key %016llx maps to %llu, not %u", (unsigned long long)key,
				      (unsigned long long)s->val, pairs[i].id);
			continue;
		}
		{
			const struct vw_members *m = slot_list(s);
			uint8_t mac[6];
			bool bc;

			key_mac(key, mac);
			bc = !memcmp(mac, bcast_mac, 6);
			if (m->n > m->cap)
				VFAIL("key %016llx: list of %u in %u", (unsigned long long)key, m->n, m->cap);
			for (k = 0; k < m->n; k++) {
				const struct vw_swrec *r;
				unsigned at;

				if (m->id[k] == NO_ID)
					continue;
				if (m->id[k] >= sw->nrec || !(r = &sw->rec[m->id[k]])->port)
					VFAIL("key %016llx lists a free index %u", (unsigned long long)key, m->id[k]);
				if (bc ? r->bpos != k
				       : !mac_in(r->mc, r->nmc, mac, &at) || r->mcpos[at] != k)
					VFAIL("key %016llx: %s recorded at another position than %u",
					      (unsigned long long)key, r->port->name, k);
				ids[n++] = m->id[k];
				if (n > j - i)
					break;
			}
			if (n != m->live)
				VFAIL("key %016llx: %u live members, %u counted", (unsigned long long)key, n, m->live);
			if (n != j - i)
				VFAIL("key %016llx: %u members, a fresh build has %u", (unsigned long long)key, n, j - i);
			qsort(ids, n, sizeof(*ids), u32_cmp);
			for (k = 0; k < n; k++)
				if (ids[k] != pairs[i + k].id)
					VFAIL("key %016llx: members differ from a fresh build", (unsigned long long)key);
		}
	}
	for (i = 0; i <= fdb->mask; i++) {
		used += !!(fdb->slots[i].key & KEY_USED);
		tombs += fdb->slots[i].key == KEY_TOMB;
	}
	if (used != nkeys || used != fdb->used)
		VFAIL("%u keys in the table (%u counted), a fresh build has %u", used, fdb->used, nkeys);
	if (tombs != fdb->tombs)
		VFAIL("%u tombstones, %u counted", tombs, fdb->tombs);
	if ((uint64_t)(used + tombs) * 8 > (uint64_t)(fdb->mask + 1) * LOAD_MAX)
		VFAIL("table too full: %u + %u of %u", used, tombs, fdb->mask + 1);
out:
	free(pairs);
	free(ids);
	return err;
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

/* What one batch forwards with: the worker's own arrays of the switch. */
struct batch {
	struct vw_dst *dst;
	uint16_t *qslot;
	uint64_t *txerr;
	uint32_t uplink;
	uint32_t minlen; /* the table's */
	bool flows; /* some port of the switch has flows */
};

/* Counts the frames delivered to a port that has flows: what the link
 * received (a VNIC) or sent (the uplink, toward the wire). */
static void __attribute__((noinline)) flows_delivered(const struct vw_fwd *f, const struct vw_fwd_queue *q,
						       const struct vw_dst *e, unsigned sent)
{
	const struct vw_flowtab *ft = vw_rcu_deref(&e->port->flows);

	if (ft)
		vw_flowtab_count(ft, f->worker, q->pkts, sent, q->tag);
}

/* Gives the frames the port's backend took to its observers (a tx hook
 * shows them itself, when it writes them out). */
static void __attribute__((noinline)) obs_delivered(const struct vw_fwd *f, const struct vw_fwd_queue *q,
						    struct vw_port *port, unsigned sent)
{
	if (!vw_port_hook(port, VW_HOOK_TX))
		vw_obs_hook(port, f->worker, port->uplink ? VW_OBS_OUT : VW_OBS_IN, (struct vw_pkt **)q->pkts,
			    (int)sent, q->tag);
}

/* The first delivery to a port without a tx hook: its backend's write, kept
 * in the entry unless the control thread has put a hook there meanwhile. */
static tx_fn __attribute__((noinline, cold)) dst_write(struct vw_dst *e)
{
	tx_fn none = NULL, tx = e->port->ops->write;

	__atomic_compare_exchange_n(&e->tx, &none, tx, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return tx;
}

static void fwd_flush(struct vw_fwd *f, const struct batch *b)
{
	const bool obs = __atomic_load_n(&vw_obs_ports, __ATOMIC_RELAXED) != 0;
	unsigned d, i;

	for (d = 0; d < f->ndst; d++) {
		struct vw_fwd_queue *q = &f->dst[d];
		struct vw_dst *e = &b->dst[q->id];
		uint64_t bytes = q->bytes;
		struct vw_pkt **pkts = q->pkts;
		/* vw_port_tx_hooked while the port has a tx hook (set by the
		 * control thread), else the backend's write, read from the port
		 * the first time */
		tx_fn tx = __atomic_load_n(&e->tx, __ATOMIC_RELAXED);
		int sent;

		if (__builtin_expect(!tx, 0))
			tx = dst_write(e);
		sent = tx(e->port, pkts, (int)q->n, q->tag);

		if (sent < 0)
			sent = 0;
		if ((unsigned)sent < q->n) {
			for (i = 0, bytes = 0; i < (unsigned)sent; i++)
				bytes += pkts[i]->len + (q->tag && pkts[i]->vid ? 4 : 0);
			b->txerr[q->id] += q->n - (unsigned)sent;
		}
		e->tx_pkts += (unsigned)sent;
		e->tx_bytes += bytes;
		if (__builtin_expect(b->flows, 0))
			flows_delivered(f, q, e, (unsigned)sent);
		if (__builtin_expect(obs, 0))
			obs_delivered(f, q, e->port, (unsigned)sent);
	}
	f->ndst = 0;
}

/* Queues pkt on destination id; flushes first when the table is full.  The
 * slot remembered for id is trusted only if that queue is id's. */
static inline void fwd_enqueue(struct vw_fwd *f, const struct batch *b, uint32_t id, struct vw_pkt *pkt)
{
	unsigned slot = b->qslot[id];
	struct vw_fwd_queue *q;

	if (!(slot < f->ndst && f->dst[slot].id == id)) {
		if (f->ndst == VW_MAX_DSTS)
			fwd_flush(f, b);
		slot = f->ndst++;
		b->qslot[id] = (uint16_t)slot;
		q = &f->dst[slot];
		q->id = id;
		q->tag = id == b->uplink;
		q->n = 0;
		q->bytes = 0;
	}
	q = &f->dst[slot];
	q->pkts[q->n++] = pkt;
	q->bytes += pkt->len + (q->tag && pkt->vid ? 4 : 0);
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
		{
			uint8_t mac2[12]; /* fixed size: inlined, no libc call */

			memcpy(mac2, pkt->data, 12);
			memcpy(pkt->data + 4, mac2, 12);
		}
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

/* Whether a frame whose longest segment is seg bytes is too long for
 * destination id (a VNIC whose MTU is set). */
static inline bool too_long(const struct batch *b, uint32_t id, uint32_t seg)
{
	uint32_t mtu = __atomic_load_n(&b->dst[id].port->mtu, __ATOMIC_RELAXED);

	return mtu && seg > mtu + ETH_HLEN_;
}

/* Link protection of a VNIC's frame: false, counting why, when it must go. */
static bool __attribute__((noinline)) protect_pass(const struct vw_protect *prot, struct vw_port_stats *st,
						   const struct vw_pkt *pkt)
{
	switch (vw_protect_check(prot, pkt->data, pkt->len)) {
	case VW_PROT_PASS:
		return true;
	case VW_PROT_DROP_RESTRICTED:
		st->drop_restricted++;
		break;
	case VW_PROT_DROP_MAC:
		st->drop_macspoof++;
		break;
	case VW_PROT_DROP_IP:
		st->drop_ipspoof++;
		break;
	case VW_PROT_DROP_DHCP:
		st->drop_dhcpspoof++;
		break;
	}
	return false;
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
void vw_switch_mcast_changed(struct vw_port *port)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&port->mcast_dirty, 1, __ATOMIC_ACQ_REL))
		return;
	if (vw_switch_event_fd >= 0 && write(vw_switch_event_fd, &one, sizeof(one)) < 0)
		return; /* the counter is full: a wake-up is pending anyway */
}

/* Counts the frames the input port's link sent (a VNIC), or received (the
 * uplink, from the wire), that passed the VLAN rules (key[i] != 0). */
static void flows_sent(struct vw_port *in, int w, struct vw_pkt **pkts, const uint64_t *key, int n)
{
	const struct vw_flowtab *ft = vw_rcu_deref(&in->flows);
	struct vw_pkt *ok[VW_BATCH];
	unsigned m = 0;
	int i;

	if (!ft)
		return;
	for (i = 0; i < n; i++)
		if (key[i])
			ok[m++] = pkts[i];
	vw_flowtab_count(ft, w, ok, m, !in->uplink);
}

__thread struct vw_port *vw_switch_src;

void vw_switch_input(struct vw_fwd *f, struct vw_port *in, struct vw_pkt **pkts, int n)
{
	const struct vw_fdb *fdb = vw_rcu_deref(&in->sw->fdb);
	const int w = f->worker;
	struct vw_port_stats *st = &in->stats[w];
	struct batch b = { fdb->dst[w], fdb->qslot[w], fdb->txerr[w], __atomic_load_n(&fdb->uplink, __ATOMIC_ACQUIRE),
			   __atomic_load_n(&fdb->minlen, __ATOMIC_ACQUIRE),
			   __atomic_load_n(&fdb->flowports, __ATOMIC_ACQUIRE) != 0 };
	const struct vw_protect *prot = vw_rcu_deref(&in->prot);
	const uint32_t inmtu = __atomic_load_n(&in->mtu, __ATOMIC_ACQUIRE);
	const uint32_t inmax = inmtu ? inmtu + ETH_HLEN_ : UINT32_MAX;
	/* frames no longer than this need no MTU check at all */
	const uint32_t lim = inmax < b.minlen ? inmax : b.minlen;
	/* the sender's own index: never a destination (0 - 1: none) */
	uint32_t self = __atomic_load_n(&in->swid, __ATOMIC_ACQUIRE) - 1;
	const struct vw_slot *slots = fdb->slots;
	const uint32_t mask = fdb->mask;
	uint64_t key[VW_BATCH], val[VW_BATCH];
	uint32_t hash[VW_BATCH], seg[VW_BATCH];
	bool report = false;
	int i;

	st->rx_batches++;
	f->ndst = 0;
	vw_switch_src = in;
	vw_obs_hook(in, w, in->uplink ? VW_OBS_IN : VW_OBS_OUT, pkts, n, false);
	/* pass one: classify, key and hash */
	for (i = 0; i < n; i++) {
		struct vw_pkt *pkt = pkts[i];

		key[i] = 0;
		if (pkt->len < ETH_HLEN_) {
			st->drop_runt++;
			continue;
		}
		st->rx_pkts++;
		st->rx_bytes += pkt->len;
		if (!classify_vid(in, st, pkt))
			continue;
		if (__builtin_expect(prot != NULL, 0) && !protect_pass(prot, st, pkt))
			continue;
		/* a super-frame is judged by the frames it is cut into */
		seg[i] = pkt->len;
		if (__builtin_expect(pkt->len > lim, 0)) {
			seg[i] = vw_gso_seglen(&pkt->vnet, pkt->data, pkt->len);
			if (seg[i] > inmax) {
				st->drop_mtu++;
				continue;
			}
		}
		key[i] = fdb_key(pkt->vid, pkt->data);
		hash[i] = fdb_hash(key[i]) & mask;
	}
	if (__builtin_expect(b.flows, 0))
		flows_sent(in, w, pkts, key, n);
	/* pass two: look up */
	for (i = 0; i < n; i++) {
		if (!key[i])
			continue;
		val[i] = fdb_get(slots, mask, key[i], hash[i]);
	}
	/* pass three: queue on the destinations */
	for (i = 0; i < n; i++) {
		struct vw_pkt *pkt = pkts[i];
		unsigned queued = 0, k;

		if (!key[i])
			continue;
		if (key[i] & KEY_GROUP) {
			/* broadcast and multicast: the VID's members but the sender */
			const struct vw_members *m = val[i] != NO_VAL ? (const struct vw_members *)(uintptr_t)val[i] : NULL;
			uint32_t cnt = m ? __atomic_load_n(&m->n, __ATOMIC_ACQUIRE) : 0;

			for (k = 0; k < cnt; k++) {
				uint32_t id = __atomic_load_n(&m->id[k], __ATOMIC_RELAXED);

				if (id != NO_ID && id != self) {
					if (__builtin_expect(seg[i] > b.minlen, 0) && too_long(&b, id, seg[i])) {
						st->drop_mtu++;
						queued++; /* it had a destination */
						continue;
					}
					fwd_enqueue(f, &b, id, pkt);
					queued++;
				}
			}
			if (!in->uplink && b.uplink != NO_ID) {
				fwd_enqueue(f, &b, b.uplink, pkt);
				queued++;
			}
			if (!in->uplink && is_mcast_report(pkt->data)) {
				report = true;
				/* a VM's: its groups are known only from it */
				if (in->snoop)
					vw_snoop_put(in->snoop, pkt->data, pkt->len);
			}
			if (!queued) {
				if (in->uplink && !fdb_has(slots, mask, fdb_key(pkt->vid, bcast_mac)))
					st->drop_vlan++;
				else
					st->drop_unknown++;
			}
			continue;
		}
		if (val[i] != NO_VAL && (uint32_t)val[i] != self) {
			if (__builtin_expect(seg[i] > b.minlen, 0) && too_long(&b, (uint32_t)val[i], seg[i]))
				st->drop_mtu++;
			else
				fwd_enqueue(f, &b, (uint32_t)val[i], pkt);
		}
		else if (!in->uplink && b.uplink != NO_ID && val[i] == NO_VAL)
			fwd_enqueue(f, &b, b.uplink, pkt);
		else if (in->uplink && !fdb_has(slots, mask, fdb_key(pkt->vid, bcast_mac)))
			st->drop_vlan++;
		else
			st->drop_unknown++;
	}
	fwd_flush(f, &b);
	vw_switch_src = NULL;
	for (i = 0; i < n; i++)
		vw_pkt_free(&f->pool, pkts[i]);
	if (report)
		vw_switch_mcast_changed(in);
}
