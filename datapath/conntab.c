/*
 * Connection table for admission control (see conntab.h).
 *
 * Linear probing keeps a probe within one or two cache lines at the load
 * we allow (3/4); deletion shifts the rest of the cluster back instead of
 * leaving tombstones, so a table that churns through millions of short
 * connections never degrades and never needs a rebuild.  An entry's home
 * slot is its stored hash, so a shift needs no rehashing.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/conntab.h"

#define CT_ORIG_B 0x01 /* the side that opened (or was picked up) is b */
#define CT_FIN_A 0x02
#define CT_FIN_B 0x04

#define CT_CAPACITY_MAX (1u << 24)
#define CT_KEYLEN offsetof(struct vw_ct_key, pad)

_Static_assert(sizeof(struct vw_ct_entry) == 64, "a conntab entry is one cache line");
_Static_assert(offsetof(struct vw_ct_key, pa) == 32 && CT_KEYLEN == 37, "vw_ct_key layout");

static const struct vw_ct_timeouts ct_default_to = {
	.opening_ns = 10ull * 1000000000,
	.est_ns = 300ull * 1000000000,
	.closing_ns = 60ull * 1000000000,
	.linger_ns = 2ull * 1000000000,
	.udp_ns = 30ull * 1000000000,
};

/* ---- hashing ---- */

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* wyhash's multiply-and-fold: cheap, and with secret operands the
 * collisions depend on the seed. */
static inline uint64_t mum(uint64_t x, uint64_t y)
{
	__uint128_t r = (__uint128_t)x * y;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t ct_hash(const struct vw_conntab *t, const struct vw_ct_key *k, uint32_t flow)
{
	uint64_t s = t->seed, s1 = s * 0xa0761d6478bd642full, s2 = s ^ 0xe7037ed1a0b428dbull;
	uint64_t w = (uint64_t)k->pa | (uint64_t)k->pb << 16 | (uint64_t)k->proto << 32;
	uint64_t h;

	h = mum(ld64(k->a) ^ s1, ld64(k->a + 8) ^ s2);
	h += mum(ld64(k->b) ^ s2, ld64(k->b + 8) ^ s1);
	h = mum(h ^ w ^ s, flow ^ s1 ^ 0x8ebc6af09c88c6e3ull);
	return (uint32_t)(h ^ h >> 32);
}

/* ---- keys ---- */

int vw_ct_key_make(struct vw_ct_key *k, const struct vw_pktinfo *pi)
{
	int c;

	if (!pi->ipver || !pi->l4)
		return -1;
	c = memcmp(pi->src, pi->dst, 16);
	if (!c)
		c = (int)pi->sport - (int)pi->dport;
	memset(k, 0, sizeof(*k));
	k->proto = pi->proto;
	if (c <= 0) {
		memcpy(k->a, pi->src, 16);
		memcpy(k->b, pi->dst, 16);
		k->pa = pi->sport;
		k->pb = pi->dport;
		return 0;
	}
	memcpy(k->a, pi->dst, 16);
	memcpy(k->b, pi->src, 16);
	k->pa = pi->dport;
	k->pb = pi->sport;
	return 1;
}

/* ---- entries ---- */

static inline int counted(const struct vw_ct_entry *e)
{
	return e->state != VW_CT_S_CLOSED;
}

static uint64_t timeout(const struct vw_conntab *t, const struct vw_ct_entry *e)
{
	switch (e->state) {
	case VW_CT_S_OPENING:
		return t->to.opening_ns;
	case VW_CT_S_EST:
		return t->to.est_ns;
	case VW_CT_S_CLOSING:
		return t->to.closing_ns;
	case VW_CT_S_CLOSED:
		return t->to.linger_ns;
	default:
		return t->to.udp_ns;
	}
}

/* A clock that goes back (it should not) expires nothing. */
static inline int expired(const struct vw_conntab *t, const struct vw_ct_entry *e, uint64_t now)
{
	return now >= e->last && now - e->last >= timeout(t, e);
}

static void uncount(struct vw_conntab *t, struct vw_ct_entry *e)
{
	t->count[e->flow]--;
}

/* Frees slot i and shifts back the entries of its cluster that may move. */
static void ct_delete(struct vw_conntab *t, uint32_t i)
{
	uint32_t j = i;

	if (counted(&t->slot[i]))
		uncount(t, &t->slot[i]);
	t->n--;
	for (;;) {
		uint32_t home;

		j = (j + 1) & t->mask;
		if (t->slot[j].state == VW_CT_S_FREE)
			break;
		home = t->slot[j].hash & t->mask;
		/* j may move to i if i lies on its probe path: [home, j) */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
}

int vw_ct_init(struct vw_conntab *t, uint32_t capacity, uint32_t nflows, uint64_t seed,
	       const struct vw_ct_timeouts *to)
{
	uint32_t slots = 16;
	uint64_t x = seed;

	memset(t, 0, sizeof(*t));
	if (!capacity || capacity > CT_CAPACITY_MAX || !nflows)
		return -EINVAL;
	while ((uint64_t)slots * 3 / 4 < capacity)
		slots <<= 1;
	t->slot = aligned_alloc(64, (size_t)slots * sizeof(*t->slot));
	t->count = calloc(nflows, sizeof(*t->count));
	if (!t->slot || !t->count) {
		free(t->slot);
		free(t->count);
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	memset(t->slot, 0, (size_t)slots * sizeof(*t->slot));
	t->mask = slots - 1;
	t->max = slots / 4 * 3;
	t->nflows = nflows;
	t->seed = splitmix64(&x);
	t->to = to ? *to : ct_default_to;
	return 0;
}

void vw_ct_fini(struct vw_conntab *t)
{
	free(t->slot);
	free(t->count);
	memset(t, 0, sizeof(*t));
}

/* The slot of (k, flow) or, if absent, -1 with *hole its first free slot. */
static int64_t ct_find(const struct vw_conntab *t, const struct vw_ct_key *k, uint32_t flow,
		       uint32_t h, uint32_t *hole)
{
	uint32_t i = h & t->mask;

	/* Ends: the load is at most 3/4, so there is always a free slot. */
	for (;; i = (i + 1) & t->mask) {
		const struct vw_ct_entry *e = &t->slot[i];

		if (e->state == VW_CT_S_FREE) {
			*hole = i;
			return -1;
		}
		if (e->hash == h && e->flow == flow && !memcmp(&e->key, k, CT_KEYLEN))
			return i;
	}
}

/* A TCP packet of a known connection. */
static enum vw_ct_verdict tcp_update(struct vw_conntab *t, struct vw_ct_entry *e, int dir,
				     uint8_t fl, uint32_t limit, uint64_t now)
{
	uint8_t side_fin = dir ? CT_FIN_B : CT_FIN_A;

	if (e->state == VW_CT_S_CLOSED) {
		if ((fl & (VW_TCP_SYN | VW_TCP_ACK | VW_TCP_RST)) != VW_TCP_SYN)
			return VW_CT_EXISTING;  /* the tail of the old one */
		if (t->count[e->flow] >= limit) {
			t->stats.refused++;
			return VW_CT_REFUSE;
		}
		t->count[e->flow]++;
		t->stats.admitted++;
		e->state = VW_CT_S_OPENING;
		e->flags = dir ? CT_ORIG_B : 0;
		e->last = now;
		return VW_CT_NEW;
	}
	e->last = now;
	if (fl & VW_TCP_RST) {
		uncount(t, e);
		e->state = VW_CT_S_CLOSED;
		t->stats.closed++;
		return VW_CT_EXISTING;
	}
	if (e->state == VW_CT_S_OPENING && dir != (e->flags & CT_ORIG_B))
		e->state = VW_CT_S_EST;
	if (fl & VW_TCP_FIN) {
		e->flags |= side_fin;
		if ((e->flags & (CT_FIN_A | CT_FIN_B)) == (CT_FIN_A | CT_FIN_B)) {
			uncount(t, e);
			e->state = VW_CT_S_CLOSED;
			t->stats.closed++;
		} else {
			e->state = VW_CT_S_CLOSING;
		}
	}
	return VW_CT_EXISTING;
}

enum vw_ct_verdict vw_ct_lookup(struct vw_conntab *t, const struct vw_ct_key *k, int dir,
				uint8_t tcp_flags, uint32_t flow, uint32_t limit, uint64_t now)
{
	int tcp = k->proto == VW_IPPROTO_TCP;
	uint32_t h, hole;
	struct vw_ct_entry *e;
	int64_t i;

	if (flow >= t->nflows || (dir != 0 && dir != 1))
		return VW_CT_INVAL;
	dir = !!dir;
	h = ct_hash(t, k, flow);
	i = ct_find(t, k, flow, h, &hole);
	if (i >= 0) {
		e = &t->slot[i];
		if (!expired(t, e, now)) {
			if (!tcp) {
				e->last = now;
				return VW_CT_EXISTING;
			}
			return tcp_update(t, e, dir, tcp_flags, limit, now);
		}
		ct_delete(t, (uint32_t)i);
		t->stats.expired++;
		(void)ct_find(t, k, flow, h, &hole);
	}

	/* No entry: a new connection. */
	if (tcp && (tcp_flags & (VW_TCP_RST | VW_TCP_FIN)))
		return VW_CT_UNTRACKED;
	if (t->count[flow] >= limit) {
		t->stats.refused++;
		return VW_CT_REFUSE;
	}
	if (t->n >= t->max) {
		/* Make room if some entry nearby has run out its time. */
		if (!vw_ct_sweep(t, now, 64)) {
			t->stats.full++;
			return VW_CT_FULL;
		}
		(void)ct_find(t, k, flow, h, &hole);
	}
	e = &t->slot[hole];
	e->key = *k;
	memset(e->key.pad, 0, sizeof(e->key.pad));
	e->flow = flow;
	e->hash = h;
	e->last = now;
	e->state = tcp ? VW_CT_S_OPENING : VW_CT_S_UDP;
	e->flags = dir ? CT_ORIG_B : 0;
	t->n++;
	t->count[flow]++;
	t->stats.admitted++;
	return VW_CT_NEW;
}

uint32_t vw_ct_sweep(struct vw_conntab *t, uint64_t now, uint32_t k)
{
	uint32_t steps = 0, freed = 0;

	while (steps < k && freed < k) {
		struct vw_ct_entry *e = &t->slot[t->hand];

		if (e->state != VW_CT_S_FREE && expired(t, e, now)) {
			ct_delete(t, t->hand);  /* may refill this slot: look again */
			freed++;
			continue;
		}
		t->hand = (t->hand + 1) & t->mask;
		steps++;
	}
	t->stats.expired += freed;
	return freed;
}

uint32_t vw_ct_flush_flow(struct vw_conntab *t, uint32_t flow)
{
	uint32_t i = 0, freed = 0;

	while (i <= t->mask) {
		if (t->slot[i].state != VW_CT_S_FREE && t->slot[i].flow == flow) {
			ct_delete(t, i);
			freed++;
			continue;
		}
		i++;
	}
	return freed;
}
