/*
 * The flow classifier.  Read datapath/flow.h first for the lookup and the
 * threading rules.  Building runs on the control thread; lookups and counts
 * on workers, with no lock, no allocation and no write but to the calling
 * worker's own counters.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "datapath/flow.h"
#include "datapath/pktparse.h"

#define NW 5 /* 64-bit words in a key */

_Static_assert(sizeof(struct vw_flow_key) == NW * 8, "the key is five words");

/*
 * A subtable (the shape of DPDK's rte_hash, with OVS's miniflows):
 *
 *   ents    one entry per flow of the subtable: the words of its value
 *           that its mask has bits in (a local_ip flow: 3 of the key's 5),
 *           then the pointer to its counters; a power of two of bytes
 *           (16 to 64), so an entry never straddles two lines and 10,000
 *           flows of a kind take 160 to 640 KB
 *   bkts    a power of two of 64-byte buckets of 8 slots, each slot a
 *           16-bit tag (16 more bits of the hash; 0: empty) and the
 *           position of its entry; at most half the slots are used
 *   ids     the flow index of each entry, read only to return it
 *
 * A probe reads the key's home bucket, compares its 8 tags at once and
 * reads an entry only on a tag hit (a false one: at most 1 probe in
 * 8,000).  A full bucket spills into the next one and says so (more), so
 * a probe nearly always ends at its home bucket, hit or miss: one bucket
 * line and, on a hit, one entry line, with the same branches whatever the
 * number of flows.  Batches (vw_flowtab_lookup_batch, vw_flowtab_count)
 * hash every key and prefetch its bucket, then match the tags and prefetch
 * the entries, then compare: the cache misses of a large table overlap
 * instead of adding up.
 */
#define FT_SLOTS 8
#define FT_CHUNK 32 /* keys in flight in a batch: 16 and 64 measured slower */

_Static_assert(FT_CHUNK <= 65536, "batch positions are 16-bit");

struct ft_bkt {
	uint16_t tag[FT_SLOTS];
	uint32_t pos[FT_SLOTS];
	uint32_t more; /* some key whose probe passes here lives further on */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct ft_bkt) == 64, "a bucket is a line");

struct ft_sub {
	uint64_t mask[NW];
	uint8_t wbits;    /* the words the mask has bits in (bit i: word i) */
	uint8_t nw;       /* how many */
	uint8_t eshift;   /* an entry is 1 << eshift words */
	uint32_t bmask;   /* buckets - 1 */
	uint32_t bits;    /* mask bits: the most specific subtable goes first */
	struct ft_bkt *bkts;
	uint64_t *ents;
	uint32_t *ids;
};

struct vw_flowtab {
	unsigned nsub, nent;
	struct ft_sub *subs;
	/* every subtable's buckets, entries and ids: one allocation each */
	struct ft_bkt *bkts;
	uint64_t *ents;
	uint32_t *ids;
};

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* 64 x 64 -> 128-bit multiply, folded: every input bit reaches every
 * output bit (the core of wyhash). */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The bucket comes from the low bits, the tag from the top 16. */
static inline uint64_t ft_hash(const uint64_t *m)
{
	uint64_t a = mum(m[0] ^ 0xa0761d6478bd642fULL, m[1] ^ 0xe7037ed1a0b428dbULL);
	uint64_t b = mum(m[2] ^ 0x8ebc6af09c88c6e3ULL, m[3] ^ 0x589965cc75374cc3ULL);

	return mum(a ^ m[4] ^ 0x1d8e4e27c47d124fULL, b ^ 0xa0761d6478bd642fULL);
}

uint64_t vw_flow_key_hash(const struct vw_flow_key *k)
{
	return ft_hash(k->w);
}

/* Never 0 (an empty slot); the lost bit costs nothing that matters. */
static inline uint16_t ft_tag(uint64_t h)
{
	return (uint16_t)(h >> 48 | 1);
}

/* The slots of b whose tag is t: slot i as bit 2i (what SSE2 gives). */
static inline unsigned tag_match(const struct ft_bkt *b, uint16_t t)
{
#ifdef __SSE2__
	__m128i x = _mm_cmpeq_epi16(_mm_load_si128((const __m128i *)b->tag), _mm_set1_epi16((short)t));

	return (unsigned)_mm_movemask_epi8(x) & 0x5555;
#else
	const uint64_t lo7 = 0x7fff7fff7fff7fffULL, rep = t * 0x0001000100010001ULL;
	uint64_t w[2];
	unsigned i, m = 0;

	memcpy(w, b->tag, sizeof(w));
	for (i = 0; i < 2; i++) {
		uint64_t x = w[i] ^ rep;

		/* bit 15 of each 16-bit lane that is zero, exactly */
		x = ~(((x & lo7) + lo7) | x | lo7) >> 15;
		/* lane l of word i -> bit 8i + 2l */
		m |= (unsigned)((x * 0x0001000400100040ULL) >> 48 & 0x55) << (8 * i);
	}
	return m;
#endif
}

#define MATCH_SLOT(m) (__builtin_ctz(m) >> 1)

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

void vw_flow_stats_tm(const struct vw_flow_stats *s, uint64_t *refused, uint64_t *clamped)
{
	int w;

	*refused = *clamped = 0;
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		*refused += __atomic_load_n(&s->w[w].refused, __ATOMIC_RELAXED);
		*clamped += __atomic_load_n(&s->w[w].clamped, __ATOMIC_RELAXED);
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
	if (!ft)
		return;
	free(ft->subs);
	free(ft->bkts);
	free(ft->ents);
	free(ft->ids);
	free(ft);
}

unsigned vw_flowtab_nsub(const struct vw_flowtab *ft)
{
	return ft ? ft->nsub : 0;
}

/* Room for n 64-byte lines, zeroed. */
static void *lines_alloc(size_t n)
{
	void *p = aligned_alloc(64, (n ? n : 1) * 64);

	if (p)
		memset(p, 0, (n ? n : 1) * 64);
	return p;
}

/* The lines n entries of 1 << eshift words take. */
static size_t ent_lines(size_t n, unsigned eshift)
{
	return ((n << eshift) + 7) / 8;
}

static inline struct vw_flow_stats *ent_stats(const struct ft_sub *sub, const uint64_t *e)
{
	return (struct vw_flow_stats *)(uintptr_t)e[sub->nw];
}

struct vw_flowtab *vw_flowtab_build(const struct vw_flow_attrs *attrs, struct vw_flow_stats *const *stats, unsigned n)
{
	struct vw_flowtab *ft = calloc(1, sizeof(*ft));
	struct vw_flow_key *m = calloc(n ? n : 1, sizeof(*m)), *v = calloc(n ? n : 1, sizeof(*v));
	uint32_t *count = calloc(n ? n : 1, sizeof(*count)), *subof = calloc(n ? n : 1, sizeof(*subof));
	size_t nb = 0, nl = 0, ni = 0;
	unsigned i, s, k, x;

	if (!ft || !m || !v || !count || !subof || !(ft->subs = calloc(n ? n : 1, sizeof(*ft->subs))) ||
	    !(ft->ids = calloc(n ? n : 1, sizeof(*ft->ids))))
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
	/* sizes: at most half the slots used, so few buckets spill; entries
	 * of nw words and the counters' pointer, rounded to a power of two */
	for (s = 0; s < ft->nsub; s++) {
		struct ft_sub *sub = &ft->subs[s];
		uint32_t size = 1;

		while (size * FT_SLOTS < 2 * count[s])
			size <<= 1;
		sub->bmask = size - 1;
		nb += size;
		for (k = 0; k < NW; k++)
			if (sub->mask[k]) {
				sub->wbits |= (uint8_t)(1u << k);
				sub->nw++;
			}
		while ((1u << sub->eshift) < sub->nw + 1u)
			sub->eshift++;
		nl += ent_lines(count[s], sub->eshift);
	}
	if (!(ft->bkts = lines_alloc(nb)) || !(ft->ents = lines_alloc(nl)))
		goto fail;
	for (nb = nl = 0, s = 0; s < ft->nsub; s++) {
		struct ft_sub *sub = &ft->subs[s];

		sub->bkts = ft->bkts + nb;
		sub->ents = ft->ents + nl * 8;
		sub->ids = ft->ids + ni;
		nb += sub->bmask + 1;
		nl += ent_lines(count[s], sub->eshift);
		ni += count[s];
		count[s] = 0; /* now: entries placed */
	}
	for (i = 0; i < n; i++) {
		struct ft_sub *sub = &ft->subs[subof[i]];
		uint32_t pos = count[subof[i]]++;
		uint64_t h = ft_hash(v[i].w), *e = sub->ents + ((size_t)pos << sub->eshift);
		uint32_t j = (uint32_t)h & sub->bmask;
		struct ft_bkt *b;

		for (x = 0, k = 0; k < NW; k++)
			if (sub->wbits & (1u << k))
				e[x++] = v[i].w[k];
		e[x] = (uintptr_t)(stats ? stats[i] : NULL);
		sub->ids[pos] = i;
		/* the first free slot from the home bucket on */
		for (;;) {
			b = &sub->bkts[j];
			for (k = 0; k < FT_SLOTS && b->tag[k]; k++)
				;
			if (k < FT_SLOTS)
				break;
			b->more = 1;
			j = (j + 1) & sub->bmask;
		}
		b->tag[k] = ft_tag(h);
		b->pos[k] = pos;
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

static inline void mask_key(uint64_t *m, const struct vw_flow_key *k, const struct ft_sub *sub)
{
	m[0] = k->w[0] & sub->mask[0];
	m[1] = k->w[1] & sub->mask[1];
	m[2] = k->w[2] & sub->mask[2];
	m[3] = k->w[3] & sub->mask[3];
	m[4] = k->w[4] & sub->mask[4];
}

/* Whether entry e holds masked key m: one branch per key word, the same
 * for every probe of the subtable, and m stays in registers. */
static inline bool ent_eq(const struct ft_sub *sub, const uint64_t *e, const uint64_t *m)
{
	uint64_t d = 0;

	if (sub->wbits & 1)
		d |= *e++ ^ m[0];
	if (sub->wbits & 2)
		d |= *e++ ^ m[1];
	if (sub->wbits & 4)
		d |= *e++ ^ m[2];
	if (sub->wbits & 8)
		d |= *e++ ^ m[3];
	if (sub->wbits & 16)
		d |= *e ^ m[4];
	return !d;
}

/* The position of masked key m in sub, from its bucket b on, whose tag
 * matches are match; -1 when none. */
static inline int sub_probe(const struct ft_sub *sub, const struct ft_bkt *b, uint16_t tag, unsigned match,
			    const uint64_t *m)
{
	for (;;) {
		for (; match; match &= match - 1) {
			uint32_t pos = b->pos[MATCH_SLOT(match)];

			if (ent_eq(sub, sub->ents + ((size_t)pos << sub->eshift), m))
				return (int)pos;
		}
		if (__builtin_expect(!b->more, 1))
			return -1;
		b = &sub->bkts[(uint32_t)(b - sub->bkts + 1) & sub->bmask];
		match = tag_match(b, tag);
	}
}

int vw_flowtab_lookup(const struct vw_flowtab *ft, const struct vw_flow_key *k)
{
	unsigned s;

	if (!ft || !k->family)
		return -1;
	for (s = 0; s < ft->nsub; s++) {
		const struct ft_sub *sub = &ft->subs[s];
		const struct ft_bkt *b;
		uint64_t m[NW], h;
		int pos;

		mask_key(m, k, sub);
		h = ft_hash(m);
		b = &sub->bkts[(uint32_t)h & sub->bmask];
		if ((pos = sub_probe(sub, b, ft_tag(h), tag_match(b, ft_tag(h)), m)) >= 0)
			return (int)sub->ids[pos];
	}
	return -1;
}

/*
 * Looks n <= FT_CHUNK keys up in passes over the batch, per subtable: hash
 * and prefetch the bucket, match the tags and prefetch the entry, compare.
 * Each pass finds the lines the previous one asked for in cache.  Fills
 * id[] (flow index or -1) when id, else st[] (the flow's counters or NULL),
 * prefetching worker w's counters to be written.
 */
static inline void ft_find_batch(const struct vw_flowtab *ft, const struct vw_flow_key *k, unsigned n, int *id,
				 struct vw_flow_stats **st, int w)
{
	const struct ft_bkt *b[FT_CHUNK];
	uint16_t todo[FT_CHUNK], tag[FT_CHUNK], match[FT_CHUNK];
	unsigned nt = 0, s, j, i;

	for (i = 0; i < n; i++) {
		if (id)
			id[i] = -1;
		else
			st[i] = NULL;
		if (k[i].family)
			todo[nt++] = (uint16_t)i;
	}
	for (s = 0; s < ft->nsub && nt; s++) {
		/* a copy: the stores below cannot be taken for changes to it */
		const struct ft_sub sub = ft->subs[s];
		uint64_t m[NW], h;
		unsigned left = 0;

		for (j = 0; j < nt; j++) {
			mask_key(m, &k[todo[j]], &sub);
			h = ft_hash(m);
			b[j] = &sub.bkts[(uint32_t)h & sub.bmask];
			tag[j] = ft_tag(h);
			__builtin_prefetch(b[j]);
		}
		for (j = 0; j < nt; j++) {
			match[j] = (uint16_t)tag_match(b[j], tag[j]);
			if (match[j])
				__builtin_prefetch(sub.ents + ((size_t)b[j]->pos[MATCH_SLOT(match[j])] << sub.eshift));
		}
		for (j = 0; j < nt; j++) {
			int pos;

			mask_key(m, &k[todo[j]], &sub);
			if ((pos = sub_probe(&sub, b[j], tag[j], match[j], m)) < 0) {
				todo[left++] = todo[j];
			} else if (id) {
				id[todo[j]] = (int)sub.ids[pos];
			} else if ((st[todo[j]] = ent_stats(&sub, sub.ents + ((size_t)pos << sub.eshift)))) {
				if (w >= 0)
					__builtin_prefetch(&st[todo[j]]->w[w], 1);
				else
					__builtin_prefetch(st[todo[j]]); /* its cls */
			}
		}
		nt = left;
	}
}

void vw_flowtab_lookup_batch(const struct vw_flowtab *ft, const struct vw_flow_key *k, unsigned n, int *id)
{
	unsigned i, c;

	if (!ft) {
		for (i = 0; i < n; i++)
			id[i] = -1;
		return;
	}
	for (; n; k += c, id += c, n -= c) {
		c = n < FT_CHUNK ? n : FT_CHUNK;
		ft_find_batch(ft, k, c, id, NULL, -1);
	}
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

/* Keys of c <= FT_CHUNK frames (family 0: not IP, no flow) and their
 * flows' counters; w >= 0 prefetches worker w's slot of them to count. */
static void classify_chunk(const struct vw_flowtab *ft, struct vw_pkt *const *pkts, unsigned c, bool sent,
			   struct vw_flow_key *k, struct vw_flow_stats **st, int w)
{
	unsigned i;

	for (i = 0; i < c; i++)
		vw_flow_key_from_frame(pkts[i]->data, pkts[i]->len, sent, &k[i]);
	if (ft)
		ft_find_batch(ft, k, c, NULL, st, w);
	else
		memset(st, 0, c * sizeof(*st));
}

void vw_flowtab_classify(const struct vw_flowtab *ft, struct vw_pkt *const *pkts, unsigned n, bool sent,
			 struct vw_flow_key *k, struct vw_flow_stats **st)
{
	unsigned c;

	for (; n; pkts += c, k += c, st += c, n -= c) {
		c = n < FT_CHUNK ? n : FT_CHUNK;
		classify_chunk(ft, pkts, c, sent, k, st, -1);
	}
}

void vw_flowtab_count(const struct vw_flowtab *ft, int w, struct vw_pkt *const *pkts, unsigned n, bool sent)
{
	struct vw_flow_key k[FT_CHUNK];
	struct vw_flow_stats *st[FT_CHUNK];
	unsigned i, c;

	for (; n; pkts += c, n -= c) {
		c = n < FT_CHUNK ? n : FT_CHUNK;
		classify_chunk(ft, pkts, c, sent, k, st, w);
		for (i = 0; i < c; i++) {
			if (!st[i])
				continue;
			if (sent) {
				st[i]->w[w].opkts++;
				st[i]->w[w].obytes += pkts[i]->len;
			} else {
				st[i]->w[w].ipkts++;
				st[i]->w[w].ibytes += pkts[i]->len;
			}
		}
	}
}
