/*
 * Group reports of virtual machines: the mailbox workers fill and the
 * control thread drains, and the IGMPv3/MLDv2 parser (datapath/mcsnoop.h).
 */
#include <stddef.h>
#include <string.h>

#include "datapath/mcsnoop.h"

/* ---- the mailbox ---- */

void vw_snoop_put(struct vw_snoop *s, const uint8_t *frame, uint32_t len)
{
	uint32_t c = __atomic_fetch_add(&s->head, 1, __ATOMIC_RELAXED);
	struct vw_snoop_slot *sl = &s->slot[c % VW_SNOOP_SLOTS];

	if (len > VW_SNOOP_FRAME)
		len = VW_SNOOP_FRAME;
	__atomic_store_n(&sl->seq, 2 * c + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* odd before the bytes */
	sl->len = (uint16_t)len;
	memcpy(sl->data, frame, len);
	__atomic_store_n(&sl->seq, 2 * c + 2, __ATOMIC_RELEASE);
}

struct fold {
	struct vw_snoop *s;
	bool changed;
};

static int group_find(const struct vw_snoop *s, const uint8_t g[16])
{
	unsigned i;

	for (i = 0; i < s->ngroups; i++)
		if (!memcmp(s->groups[i], g, 16))
			return (int)i;
	return -1;
}

static void fold_record(void *arg, const uint8_t group[16], bool join)
{
	struct fold *f = arg;
	struct vw_snoop *s = f->s;
	int i = group_find(s, group);

	if (join && i < 0) {
		if (s->ngroups == VW_SNOOP_GROUPS) {
			s->full++;
			return;
		}
		memcpy(s->groups[s->ngroups++], group, 16);
		f->changed = true;
	} else if (!join && i >= 0) {
		memmove(s->groups[i], s->groups[i + 1], (s->ngroups - (unsigned)i - 1) * 16);
		s->ngroups--;
		f->changed = true;
	}
}

bool vw_snoop_drain(struct vw_snoop *s)
{
	static uint8_t copy[VW_SNOOP_FRAME];
	struct fold f = { s, false };
	uint32_t head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);

	while (s->tail != head) {
		const struct vw_snoop_slot *sl = &s->slot[s->tail % VW_SNOOP_SLOTS];
		uint32_t want = 2 * s->tail + 2, seq = __atomic_load_n(&sl->seq, __ATOMIC_ACQUIRE), len;

		if (seq == want) {
			len = sl->len <= VW_SNOOP_FRAME ? sl->len : VW_SNOOP_FRAME;
			memcpy(copy, sl->data, len);
			__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the bytes before the second look */
			if (__atomic_load_n(&sl->seq, __ATOMIC_RELAXED) == want) {
				s->reports++;
				vw_snoop_parse(copy, len, fold_record, &f);
			} else {
				s->lost++; /* overwritten while read */
			}
		} else if ((int32_t)(seq - want) > 0) {
			s->lost++; /* a later claim took the slot */
		} else {
			break; /* still being written: its worker wakes us after */
		}
		s->tail++;
	}
	return f.changed;
}

unsigned vw_snoop_macs(const struct vw_snoop *s, uint8_t (*macs)[6], unsigned max)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned i, j, n = 0;

	for (i = 0; i < s->ngroups && n < max; i++) {
		const uint8_t *g = s->groups[i];
		uint8_t m[6];

		if (!memcmp(g, v4mapped, 12)) {
			m[0] = 0x01, m[1] = 0x00, m[2] = 0x5e;
			m[3] = g[13] & 0x7f, m[4] = g[14], m[5] = g[15];
		} else {
			m[0] = 0x33, m[1] = 0x33;
			memcpy(m + 2, g + 12, 4);
		}
		for (j = 0; j < n && memcmp(macs[j], m, 6); j++)
			;
		if (j == n)
			memcpy(macs[n++], m, 6);
	}
	return n;
}

/* ---- the parser ---- */

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 3376 4.2.12 / RFC 3810 5.2.12 record types */
enum { IS_INCLUDE = 1, IS_EXCLUDE, TO_INCLUDE, TO_EXCLUDE, ALLOW, BLOCK };

/* The records of a report body (after its 8-byte header) whose groups are
 * glen bytes long (4 or 16). */
static int records(const uint8_t *p, const uint8_t *end, unsigned nrec, unsigned glen,
		   void (*fn)(void *arg, const uint8_t group[16], bool join), void *arg)
{
	int done = 0;

	while (nrec--) {
		uint8_t g[16] = { 0 };
		unsigned type, nsrc;
		size_t size;

		if (end - p < (ptrdiff_t)(4 + glen))
			break;
		type = p[0];
		nsrc = be16(p + 2);
		size = 4 + glen + (size_t)nsrc * glen + (size_t)p[1] * 4;
		if (glen == 4) {
			g[10] = g[11] = 0xff;
			memcpy(g + 12, p + 4, 4);
		} else {
			memcpy(g, p + 4, 16);
		}
		if (type == IS_EXCLUDE || type == TO_EXCLUDE || ((type == IS_INCLUDE || type == TO_INCLUDE || type == ALLOW) && nsrc)) {
			fn(arg, g, true);
			done++;
		} else if (type == IS_INCLUDE || type == TO_INCLUDE) {
			fn(arg, g, false);
			done++;
		}
		if ((size_t)(end - p) < size)
			break;
		p += size;
	}
	return done;
}

int vw_snoop_parse(const uint8_t *frame, uint32_t len, void (*fn)(void *arg, const uint8_t group[16], bool join),
		   void *arg)
{
	const uint8_t *end = frame + len, *ip = frame + 14, *p;
	uint16_t type;

	if (len < 14 + 20)
		return -1;
	type = be16(frame + 12);
	if (type == 0x0800) {
		unsigned ihl = (ip[0] & 15u) * 4, tot = be16(ip + 2);

		if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 2 || tot < ihl + 8 || (be16(ip + 6) & 0x3fff))
			return -1;
		if ((size_t)(end - ip) > tot)
			end = ip + tot;
		p = ip + ihl;
		if (end - p < 8 || p[0] != 0x22)
			return -1;
		return records(p + 8, end, be16(p + 6), 4, fn, arg);
	}
	if (type == 0x86dd) {
		uint8_t nh;
		unsigned hops = 0;

		if (len < 14 + 40 || (ip[0] >> 4) != 6)
			return -1;
		if ((size_t)(end - ip) > 40u + be16(ip + 4))
			end = ip + 40 + be16(ip + 4);
		nh = ip[6];
		p = ip + 40;
		/* hop-by-hop (the router alert MLD carries) and destination
		 * options, a few at most */
		while ((nh == 0 || nh == 60) && hops++ < 4) {
			size_t ext;

			if (end - p < 8)
				return -1;
			ext = ((size_t)p[1] + 1) * 8;
			if ((size_t)(end - p) < ext)
				return -1;
			nh = p[0];
			p += ext;
		}
		if (nh != 58 || end - p < 8 || p[0] != 143)
			return -1;
		return records(p + 8, end, be16(p + 6), 16, fn, arg);
	}
	return -1;
}
