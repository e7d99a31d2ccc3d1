/*
 * The flow classifier.  Read datapath/flow.h first for the lookup and the
 * threading rules.  Building runs on the control thread; lookups and counts
 * on workers, with no lock, no allocation and no write but to the calling
 * worker's own counters.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/flow.h"
#include "datapath/pktparse.h"

#define NW 5 /* 64-bit words in a key */

_Static_assert(sizeof(struct vw_flow_key) == NW * 8, "the key is five words");

/* One slot per flow, its whole entry inline, so a probe that hits costs
 * one cache line: the flow's value (already masked), its counters and its
 * index.  used 0: empty.  Probing is linear and ends on an empty slot. */
struct ft_slot {
	uint64_t val[NW];
	struct vw_flow_stats *stats;
	uint32_t id;   /* the index it was given to vw_flowtab_build */
	uint32_t used;
} __attribute__((aligned(64)));

struct ft_sub {
	uint64_t mask[NW];
	uint32_t smask; /* slots - 1 */
	uint32_t bits;  /* mask bits: the most specific subtable goes first */
	struct ft_slot *slots;
};

struct vw_flowtab {
	unsigned nsub, nent;
	struct ft_sub *subs;
};

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static inline uint64_t ft_hash(const uint64_t *m)
{
	uint64_t h = 0x243f6a8885a308d3ULL;
	int i;

	for (i = 0; i < NW; i++) {
		h = (h ^ m[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

struct vw_flow_stats *vw_flow_stats_new(void)
{
	struct vw_flow_stats *s = aligned_alloc(64, sizeof(*s));

	if (s)
		memset(s, 0, sizeof(*s));
	return s;
}

void vw_flow_stats_sum(const struct vw_flow_stats *s, uint64_t *ipkts, uint64_t *ibytes, uint64_t *opkts,
		       uint64_t *obytes)
{
	int w;

	*ipkts = *ibytes = *opkts = *obytes = 0;
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		*ipkts += __atomic_load_n(&s->w[w].ipkts, __ATOMIC_RELAXED);
		*ibytes += __atomic_load_n(&s->w[w].ibytes, __ATOMIC_RELAXED);
		*opkts += __atomic_load_n(&s->w[w].opkts, __ATOMIC_RELAXED);
		*obytes += __atomic_load_n(&s->w[w].obytes, __ATOMIC_RELAXED);
	}
}

/* ---- compiling ---- */

/* An address prefix as mask and value bytes of a key address. */
static void prefix_bytes(const struct vw_prefix *p, uint8_t *m, uint8_t *v)
{
	unsigned off = 0, i;

	if (p->family == AF_INET) {
		memset(m, 0xff, 12);
		memcpy(v, v4mapped, 12);
		off = 12;
	}
	for (i = 0; i < p->plen; i++)
		m[off + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (i = 0; off + i < 16; i++)
		v[off + i] = p->addr.bytes[i] & m[off + i];
}

static void compile(const struct vw_flow_attrs *a, struct vw_flow_key *m, struct vw_flow_key *v)
{
	int fam = vw_flow_attrs_family(a);

	memset(m, 0, sizeof(*m));
	memset(v, 0, sizeof(*v));
	if (fam) {
		m->family = 0xff;
		v->family = fam == AF_INET6 ? 6 : 4;
	}
	if (a->mask & VW_FA_LOCAL_IP)
		prefix_bytes(&a->local, m->laddr, v->laddr);
	if (a->mask & VW_FA_REMOTE_IP)
		prefix_bytes(&a->remote, m->raddr, v->raddr);
	if (a->mask & VW_FA_TRANSPORT) {
		m->proto = 0xff;
		v->proto = a->proto;
	}
	if (a->mask & VW_FA_LOCAL_PORT) {
		m->lport = 0xffff;
		v->lport = a->lport;
	}
	if (a->mask & VW_FA_REMOTE_PORT) {
		m->rport = 0xffff;
		v->rport = a->rport;
	}
	if (a->mask & VW_FA_DSFIELD) {
		m->dsfield = a->dsmask;
		v->dsfield = a->dsfield & a->dsmask;
	}
}

static int sub_cmp(const void *x, const void *y)
{
	const struct ft_sub *a = x, *b = y;

	return a->bits != b->bits ? (a->bits > b->bits ? -1 : 1) : memcmp(a->mask, b->mask, sizeof(a->mask));
}

void vw_flowtab_free(struct vw_flowtab *ft)
{
	unsigned i;

	if (!ft)
		return;
	for (i = 0; i < ft->nsub; i++)
		free(ft->subs[i].slots);
	free(ft->subs);
	free(ft);
}

unsigned vw_flowtab_nsub(const struct vw_flowtab *ft)
{
	return ft ? ft->nsub : 0;
}

struct vw_flowtab *vw_flowtab_build(const struct vw_flow_attrs *attrs, struct vw_flow_stats *const *stats, unsigned n)
{
	struct vw_flowtab *ft = calloc(1, sizeof(*ft));
	struct vw_flow_key *m = calloc(n ? n : 1, sizeof(*m)), *v = calloc(n ? n : 1, sizeof(*v));
	uint32_t *count = calloc(n ? n : 1, sizeof(*count)), *subof = calloc(n ? n : 1, sizeof(*subof));
	unsigned i, s, k;

	if (!ft || !m || !v || !count || !subof || !(ft->subs = calloc(n ? n : 1, sizeof(*ft->subs))))
		goto fail;
	/* each flow's mask and value; the distinct masks become subtables */
	for (i = 0; i < n; i++) {
		compile(&attrs[i], &m[i], &v[i]);
		for (s = 0; s < ft->nsub && memcmp(ft->subs[s].mask, m[i].w, sizeof(m[i].w)); s++)
			;
		if (s == ft->nsub) {
			memcpy(ft->subs[s].mask, m[i].w, sizeof(m[i].w));
			for (k = 0; k < NW; k++)
				ft->subs[s].bits += (uint32_t)__builtin_popcountll(m[i].w[k]);
			ft->nsub++;
		}
	}
	qsort(ft->subs, ft->nsub, sizeof(*ft->subs), sub_cmp);
	for (i = 0; i < n; i++) {
		for (s = 0; memcmp(ft->subs[s].mask, m[i].w, sizeof(m[i].w)); s++)
			;
		subof[i] = s;
		count[s]++;
	}
	/* at most half full: a probe mostly ends at its first slot */
	for (s = 0; s < ft->nsub; s++) {
		uint32_t size = 4;

		while (size < 2 * count[s])
			size <<= 1;
		ft->subs[s].smask = size - 1;
		ft->subs[s].slots = aligned_alloc(64, size * sizeof(struct ft_slot));
		if (!ft->subs[s].slots)
			goto fail;
		memset(ft->subs[s].slots, 0, size * sizeof(struct ft_slot));
	}
	for (i = 0; i < n; i++) {
		struct ft_sub *sub = &ft->subs[subof[i]];
		uint32_t j = (uint32_t)ft_hash(v[i].w) & sub->smask;
		struct ft_slot *sl;

		while (sub->slots[j].used)
			j = (j + 1) & sub->smask;
		sl = &sub->slots[j];
		memcpy(sl->val, v[i].w, sizeof(sl->val));
		sl->stats = stats ? stats[i] : NULL;
		sl->id = i;
		sl->used = 1;
	}
	ft->nent = n;
	free(m);
	free(v);
	free(count);
	free(subof);
	return ft;
fail:
	free(m);
	free(v);
	free(count);
	free(subof);
	vw_flowtab_free(ft);
	return NULL;
}

/* ---- lookups ---- */

static inline const struct ft_slot *ft_find(const struct vw_flowtab *ft, const struct vw_flow_key *k)
{
	unsigned s;

	if (!k->family)
		return NULL;
	for (s = 0; s < ft->nsub; s++) {
		const struct ft_sub *sub = &ft->subs[s];
		uint64_t m[NW];
		uint32_t j;
		int i;

		for (i = 0; i < NW; i++)
			m[i] = k->w[i] & sub->mask[i];
		for (j = (uint32_t)ft_hash(m) & sub->smask; sub->slots[j].used; j = (j + 1) & sub->smask) {
			const struct ft_slot *e = &sub->slots[j];

			if (!((e->val[0] ^ m[0]) | (e->val[1] ^ m[1]) | (e->val[2] ^ m[2]) | (e->val[3] ^ m[3]) |
			      (e->val[4] ^ m[4])))
				return e;
		}
	}
	return NULL;
}

int vw_flowtab_lookup(const struct vw_flowtab *ft, const struct vw_flow_key *k)
{
	const struct ft_slot *e = ft ? ft_find(ft, k) : NULL;

	return e ? (int)e->id : -1;
}

static bool addr_in(const struct vw_prefix *p, const uint8_t *addr)
{
	const uint8_t *a = addr;
	unsigned i;

	if (p->family == AF_INET) {
		if (memcmp(addr, v4mapped, 12))
			return false;
		a = addr + 12;
	}
	for (i = 0; i < p->plen; i++)
		if ((a[i / 8] ^ p->addr.bytes[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

bool vw_flow_match(const struct vw_flow_attrs *a, const struct vw_flow_key *k)
{
	int fam = vw_flow_attrs_family(a);

	if (!k->family)
		return false;
	if (fam && k->family != (fam == AF_INET6 ? 6 : 4))
		return false;
	if ((a->mask & VW_FA_TRANSPORT) && k->proto != a->proto)
		return false;
	if ((a->mask & VW_FA_LOCAL_IP) && !addr_in(&a->local, k->laddr))
		return false;
	if ((a->mask & VW_FA_REMOTE_IP) && !addr_in(&a->remote, k->raddr))
		return false;
	if ((a->mask & VW_FA_LOCAL_PORT) && k->lport != a->lport)
		return false;
	if ((a->mask & VW_FA_REMOTE_PORT) && k->rport != a->rport)
		return false;
	if ((a->mask & VW_FA_DSFIELD) && ((k->dsfield ^ a->dsfield) & a->dsmask))
		return false;
	return true;
}

bool vw_flow_key_from_frame(const uint8_t *frame, uint32_t len, bool sent, struct vw_flow_key *k)
{
	struct vw_pktinfo pi;

	k->w[4] = 0;
	if (vw_pkt_parse(frame, len, &pi) != VW_PP_OK || !pi.ipver)
		return false;
	memcpy(k->laddr, sent ? pi.src : pi.dst, 16);
	memcpy(k->raddr, sent ? pi.dst : pi.src, 16);
	k->lport = sent ? pi.sport : pi.dport;
	k->rport = sent ? pi.dport : pi.sport;
	k->family = pi.ipver;
	k->proto = pi.proto;
	k->dsfield = pi.dsfield;
	return true;
}

struct vw_flow_stats *vw_flowtab_find(const struct vw_flowtab *ft, const struct vw_flow_key *k)
{
	const struct ft_slot *e = ft_find(ft, k);

	return e ? e->stats : NULL;
}

void vw_flowtab_count(const struct vw_flowtab *ft, int w, struct vw_pkt *const *pkts, unsigned n, bool sent)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		const struct vw_pkt *pkt = pkts[i];
		struct vw_flow_key k;
		const struct ft_slot *e;

		if (!vw_flow_key_from_frame(pkt->data, pkt->len, sent, &k) || !(e = ft_find(ft, &k)) || !e->stats)
			continue;
		if (sent) {
			e->stats->w[w].opkts++;
			e->stats->w[w].obytes += pkt->len;
		} else {
			e->stats->w[w].ipkts++;
			e->stats->w[w].ibytes += pkt->len;
		}
	}
}
