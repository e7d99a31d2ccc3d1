/*
 * Unit tests for datapath/conntab.c: the connection table for admission
 * control.  The state machine and the limits are checked case by case, and
 * the whole table against a brute-force model (a plain array searched
 * linearly) over long random sequences of opens, closes, resets, timeouts,
 * sweeps and flushes: every verdict, every flow's count and the number of
 * entries must agree after every step.  Small tables make long clusters, so
 * the backward-shift deletion and the wrap-around are exercised.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/conntab.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define S 1000000000ull
#define SYN VW_TCP_SYN
#define ACK VW_TCP_ACK
#define FIN VW_TCP_FIN
#define RST VW_TCP_RST

#include "tests/unit/rng.h"

/* A packet's parse result: enough for vw_ct_key_make(). */
static struct vw_pktinfo pkt(int ipv6, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
			     uint16_t dport)
{
	struct vw_pktinfo pi;

	memset(&pi, 0, sizeof(pi));
	pi.ipver = ipv6 ? 6 : 4;
	pi.proto = proto;
	pi.l3 = 14;
	pi.l4 = ipv6 ? 54 : 34;
	if (ipv6) {
		pi.src[0] = pi.dst[0] = 0xfd;
	} else {
		pi.src[10] = pi.src[11] = pi.dst[10] = pi.dst[11] = 0xff;
	}
	memcpy(pi.src + 12, &src, 4);
	memcpy(pi.dst + 12, &dst, 4);
	pi.sport = sport;
	pi.dport = dport;
	return pi;
}

static struct vw_pktinfo reverse(const struct vw_pktinfo *p)
{
	struct vw_pktinfo r = *p;

	memcpy(r.src, p->dst, 16);
	memcpy(r.dst, p->src, 16);
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

/* The verdict for packet pi (its own direction) with flags. */
static enum vw_ct_verdict ct(struct vw_conntab *t, const struct vw_pktinfo *pi, uint8_t flags,
			     uint32_t flow, uint32_t limit, uint64_t now)
{
	struct vw_ct_key k;
	int dir = vw_ct_key_make(&k, pi);

	assert_true(dir == 0 || dir == 1);
	return vw_ct_lookup(t, &k, dir, flags, flow, limit, now);
}

/* Checks the table's own bookkeeping: n, counts, every entry reachable
 * from its home slot without crossing a free one. */
static void check_table(const struct vw_conntab *t)
{
	uint32_t *cnt = calloc(t->nflows, sizeof(*cnt)), i, n = 0;

	assert_non_null(cnt);
	for (i = 0; i <= t->mask; i++) {
		const struct vw_ct_entry *e = &t->slot[i];
		uint32_t j;

		if (e->state == VW_CT_S_FREE)
			continue;
		n++;
		assert_true(e->state <= VW_CT_S_UDP);
		assert_true(e->flow < t->nflows);
		if (e->state != VW_CT_S_CLOSED)
			cnt[e->flow]++;
		for (j = e->hash & t->mask; j != i; j = (j + 1) & t->mask)
			assert_int_not_equal(t->slot[j].state, VW_CT_S_FREE);
	}
	assert_int_equal(n, t->n);
	for (i = 0; i < t->nflows; i++)
		assert_int_equal(cnt[i], t->count[i]);
	free(cnt);
}

static void test_key(void **state)
{
	struct vw_pktinfo p = pkt(0, 6, 0x0100000a, 0x0200000a, 40000, 80), r = reverse(&p);
	struct vw_ct_key k1, k2;
	int d1, d2;

	(void)state;
	d1 = vw_ct_key_make(&k1, &p);
	d2 = vw_ct_key_make(&k2, &r);
	assert_int_equal(d1 + d2, 1);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	/* same address both ways: the ports decide */
	p = pkt(1, 17, 7, 7, 5000, 53);
	r = reverse(&p);
	d1 = vw_ct_key_make(&k1, &p);
	d2 = vw_ct_key_make(&k2, &r);
	assert_int_equal(d1, 1);
	assert_int_equal(d2, 0);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(k1.pa, 53);
	/* identical ends: direction 0 */
	p = pkt(0, 17, 7, 7, 53, 53);
	assert_int_equal(vw_ct_key_make(&k1, &p), 0);
	/* no transport header */
	p.l4 = 0;
	assert_int_equal(vw_ct_key_make(&k1, &p), -1);
	p.l4 = 34;
	p.ipver = 0;
	assert_int_equal(vw_ct_key_make(&k1, &p), -1);
}

static void test_tcp_lifecycle(void **state)
{
	struct vw_pktinfo c = pkt(0, 6, 0x0100000a, 0x0200000a, 40000, 80), s = reverse(&c);
	struct vw_conntab t;
	uint64_t now = 1000 * S;

	(void)state;
	assert_int_equal(vw_ct_init(&t, 100, 4, 42, NULL), 0);
	assert_int_equal(ct(&t, &c, SYN, 1, 10, now), VW_CT_NEW);
	assert_int_equal(vw_ct_count(&t, 1), 1);
	assert_int_equal(ct(&t, &c, SYN, 1, 10, now + 1), VW_CT_EXISTING);  /* retransmitted */
	assert_int_equal(ct(&t, &s, SYN | ACK, 1, 10, now + 2), VW_CT_EXISTING);
	assert_int_equal(ct(&t, &c, ACK, 1, 10, now + 3), VW_CT_EXISTING);
	assert_int_equal(ct(&t, &c, FIN | ACK, 1, 10, now + 4), VW_CT_EXISTING);
	assert_int_equal(vw_ct_count(&t, 1), 1);  /* half-closed still counts */
	assert_int_equal(ct(&t, &c, FIN | ACK, 1, 10, now + 5), VW_CT_EXISTING);  /* again */
	assert_int_equal(vw_ct_count(&t, 1), 1);
	assert_int_equal(ct(&t, &s, FIN | ACK, 1, 10, now + 6), VW_CT_EXISTING);
	assert_int_equal(vw_ct_count(&t, 1), 0);  /* both FINs: closed */
	assert_int_equal(t.n, 1);                 /* lingering */
	assert_int_equal(ct(&t, &c, ACK, 1, 10, now + 7), VW_CT_EXISTING);
	assert_int_equal(vw_ct_count(&t, 1), 0);
	/* the linger runs from the close, not from the last ACK */
	assert_int_equal(vw_ct_sweep(&t, now + 6 + 2 * S - 1, vw_ct_slots(&t)), 0);
	assert_int_equal(vw_ct_sweep(&t, now + 6 + 2 * S, vw_ct_slots(&t)), 1);
	assert_int_equal(t.n, 0);

	/* a RST from either side closes at once */
	assert_int_equal(ct(&t, &c, SYN, 1, 10, now), VW_CT_NEW);
	assert_int_equal(ct(&t, &s, RST | ACK, 1, 10, now + 1), VW_CT_EXISTING);
	assert_int_equal(vw_ct_count(&t, 1), 0);
	/* a new SYN on the lingering entry is a new connection */
	assert_int_equal(ct(&t, &c, SYN, 1, 10, now + 2), VW_CT_NEW);
	assert_int_equal(vw_ct_count(&t, 1), 1);
	assert_int_equal(t.n, 1);
	/* ... opened by the other side this time */
	assert_int_equal(ct(&t, &c, RST, 1, 10, now + 3), VW_CT_EXISTING);
	assert_int_equal(ct(&t, &s, SYN, 1, 10, now + 4), VW_CT_NEW);
	assert_int_equal(ct(&t, &c, SYN | ACK, 1, 10, now + 5), VW_CT_EXISTING);
	assert_int_equal(t.slot[0].state + t.slot[t.mask].state >= 0, 1);
	check_table(&t);

	/* RST and FIN with no entry: no entry made */
	vw_ct_fini(&t);
	assert_int_equal(vw_ct_init(&t, 100, 4, 42, NULL), 0);
	assert_int_equal(ct(&t, &c, RST, 1, 10, now), VW_CT_UNTRACKED);
	assert_int_equal(ct(&t, &c, FIN | ACK, 1, 10, now), VW_CT_UNTRACKED);
	assert_int_equal(ct(&t, &c, RST | ACK, 1, 0, now), VW_CT_UNTRACKED);
	assert_int_equal(t.n, 0);
	/* a mid-stream packet is picked up; the other side's makes it established */
	assert_int_equal(ct(&t, &c, ACK, 1, 10, now), VW_CT_NEW);
	assert_int_equal(vw_ct_count(&t, 1), 1);
	assert_int_equal(ct(&t, &s, ACK, 1, 10, now + 9 * S), VW_CT_EXISTING);
	assert_int_equal(ct(&t, &c, ACK, 1, 10, now + 9 * S + 299 * S), VW_CT_EXISTING);
	assert_int_equal(vw_ct_count(&t, 1), 1);
	vw_ct_fini(&t);
}

static void test_limits(void **state)
{
	struct vw_conntab t;
	struct vw_pktinfo p[8];
	uint64_t now = 5 * S;
	int i;

	(void)state;
	assert_int_equal(vw_ct_init(&t, 1000, 3, 7, NULL), 0);
	for (i = 0; i < 8; i++)
		p[i] = pkt(i & 1, 6, 0x0100000a, 0x0200000a, (uint16_t)(40000 + i), 443);
	for (i = 0; i < 3; i++)
		assert_int_equal(ct(&t, &p[i], SYN, 0, 3, now), VW_CT_NEW);
	assert_int_equal(ct(&t, &p[3], SYN, 0, 3, now), VW_CT_REFUSE);
	assert_int_equal(ct(&t, &p[3], ACK, 0, 3, now), VW_CT_REFUSE);  /* no pickup either */
	assert_int_equal(t.stats.refused, 2);
	assert_int_equal(vw_ct_count(&t, 0), 3);
	assert_int_equal(t.n, 3);
	/* the admitted ones carry on; other flows are not affected */
	assert_int_equal(ct(&t, &p[1], ACK, 0, 3, now), VW_CT_EXISTING);
	assert_int_equal(ct(&t, &p[3], SYN, 1, 3, now), VW_CT_NEW);
	/* the same 5-tuple in two flows is two connections */
	assert_int_equal(ct(&t, &p[0], SYN, 1, 3, now), VW_CT_NEW);
	assert_int_equal(vw_ct_count(&t, 1), 2);
	/* one closes: room for one more */
	assert_int_equal(ct(&t, &p[2], RST, 0, 3, now), VW_CT_EXISTING);
	assert_int_equal(ct(&t, &p[3], SYN, 0, 3, now), VW_CT_NEW);
	assert_int_equal(ct(&t, &p[4], SYN, 0, 3, now), VW_CT_REFUSE);
	/* a SYN reusing a closed entry is refused over the limit too */
	assert_int_equal(ct(&t, &p[2], SYN, 0, 3, now), VW_CT_REFUSE);
	/* a lowered limit refuses new ones, keeps what is there */
	assert_int_equal(ct(&t, &p[4], SYN, 0, 1, now), VW_CT_REFUSE);
	assert_int_equal(ct(&t, &p[1], ACK, 0, 1, now), VW_CT_EXISTING);
	/* maxconn 0 refuses everything new */
	assert_int_equal(ct(&t, &p[5], SYN, 2, 0, now), VW_CT_REFUSE);
	/* no limit */
	for (i = 0; i < 8; i++)
		assert_int_equal(ct(&t, &p[i], SYN, 2, VW_CT_NOLIMIT, now), VW_CT_NEW);
	assert_int_equal(vw_ct_count(&t, 2), 8);
	/* UDP: new 5-tuples over the limit refused, known ones pass */
	for (i = 0; i < 8; i++)
		p[i].proto = 17;
	assert_int_equal(ct(&t, &p[0], 0, 2, 9, now), VW_CT_NEW);
	assert_int_equal(ct(&t, &p[1], 0, 2, 9, now), VW_CT_REFUSE);
	p[0] = reverse(&p[0]);
	assert_int_equal(ct(&t, &p[0], 0, 2, 9, now), VW_CT_EXISTING);
	assert_int_equal(vw_ct_count(&t, 2), 9);
	/* bad arguments */
	assert_int_equal(ct(&t, &p[0], 0, 3, 9, now), VW_CT_INVAL);
	{
		struct vw_ct_key k;

		vw_ct_key_make(&k, &p[0]);
		assert_int_equal(vw_ct_lookup(&t, &k, 2, 0, 0, 9, now), VW_CT_INVAL);
	}
	check_table(&t);
	/* flush a flow */
	assert_int_equal(vw_ct_flush_flow(&t, 2), 9);
	assert_int_equal(vw_ct_count(&t, 2), 0);
	assert_int_equal(vw_ct_count(&t, 0), 3);
	assert_int_equal(vw_ct_count(&t, 7), 0);
	check_table(&t);
	vw_ct_fini(&t);

	assert_int_equal(vw_ct_init(&t, 0, 1, 0, NULL), -EINVAL);
	assert_int_equal(vw_ct_init(&t, 10, 0, 0, NULL), -EINVAL);
	assert_int_equal(vw_ct_init(&t, (1u << 24) + 1, 1, 0, NULL), -EINVAL);
}

static void test_timeouts(void **state)
{
	static const struct {
		uint8_t proto;
		uint8_t flags[3];  /* from c, s, c; 0xff: none */
		uint64_t to;
	} cases[] = {
		{ 6, { SYN, 0xff, 0xff }, 10 * S },              /* half-open */
		{ 6, { ACK, 0xff, 0xff }, 10 * S },              /* picked up */
		{ 6, { SYN, SYN | ACK, ACK }, 300 * S },         /* established */
		{ 6, { SYN, SYN | ACK, FIN | ACK }, 60 * S },    /* closing */
		{ 6, { SYN, FIN | ACK, FIN | ACK }, 2 * S },     /* closed: linger */
		{ 6, { SYN, RST, 0xff }, 2 * S },
		{ 17, { 0, 0xff, 0xff }, 30 * S },
		{ 17, { 0, 0, 0 }, 30 * S },
		{ 132, { 0, 0xff, 0xff }, 30 * S },              /* anything else: as UDP */
	};
	struct vw_ct_timeouts to = { 1, 2, 3, 4, 5 };
	struct vw_conntab t;
	unsigned i, j;

	(void)state;
	assert_int_equal(vw_ct_init(&t, 10, 1, 1, NULL), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vw_pktinfo c = pkt((int)(i & 1), cases[i].proto, 1, 2, (uint16_t)(i + 1), 80);
		struct vw_pktinfo s = reverse(&c);
		uint64_t now = 77 * S, last = 0;

		for (j = 0; j < 3; j++) {
			if (cases[i].flags[j] == 0xff)
				continue;
			assert_true(ct(&t, j & 1 ? &s : &c, cases[i].flags[j], 0, 100, now) < VW_CT_REFUSE);
			last = now;
			now += S;
		}
		/* a full turn one ns early frees nothing, on time frees it */
		assert_int_equal(vw_ct_sweep(&t, last + cases[i].to - 1, vw_ct_slots(&t)), 0);
		assert_int_equal(t.n, 1);
		assert_int_equal(vw_ct_sweep(&t, last + cases[i].to, vw_ct_slots(&t)), 1);
		assert_int_equal(t.n, 0);
		assert_int_equal(vw_ct_count(&t, 0), 0);
	}
	/* a clock that goes back expires nothing */
	{
		struct vw_pktinfo c = pkt(0, 17, 1, 2, 1, 2);
		uint64_t expired = t.stats.expired;

		assert_int_equal(ct(&t, &c, 0, 0, 100, 1000 * S), VW_CT_NEW);
		assert_int_equal(vw_ct_sweep(&t, 0, vw_ct_slots(&t)), 0);
		/* an expired entry met by a lookup is replaced: a new connection */
		assert_int_equal(ct(&t, &c, 0, 0, 100, 1030 * S), VW_CT_NEW);
		assert_int_equal(t.stats.expired, expired + 1);
		assert_int_equal(vw_ct_count(&t, 0), 1);
	}
	vw_ct_fini(&t);

	/* configured timeouts */
	assert_int_equal(vw_ct_init(&t, 10, 1, 1, &to), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vw_pktinfo c = pkt(0, cases[i].proto, 1, 2, (uint16_t)(i + 1), 80);
		struct vw_pktinfo s = reverse(&c);
		uint64_t want = cases[i].to == 10 * S ? 1 : cases[i].to == 300 * S ? 2 :
				cases[i].to == 60 * S ? 3 : cases[i].to == 2 * S ? 4 : 5;

		for (j = 0; j < 3; j++)
			if (cases[i].flags[j] != 0xff)
				ct(&t, j & 1 ? &s : &c, cases[i].flags[j], 0, 100, 100);
		assert_int_equal(vw_ct_sweep(&t, 100 + want - 1, vw_ct_slots(&t)), 0);
		assert_int_equal(vw_ct_sweep(&t, 100 + want, vw_ct_slots(&t)), 1);
	}
	vw_ct_fini(&t);
}

static void test_full(void **state)
{
	struct vw_conntab t;
	struct vw_pktinfo p;
	uint32_t i, max;

	(void)state;
	assert_int_equal(vw_ct_init(&t, 12, 2, 3, NULL), 0);
	assert_int_equal(vw_ct_slots(&t), 16);
	max = t.max;
	assert_true(max >= 12);
	for (i = 0; i < max; i++) {
		p = pkt(0, 17, i, 99, 1, 2);
		assert_int_equal(ct(&t, &p, 0, i & 1, VW_CT_NOLIMIT, 0), VW_CT_NEW);
	}
	p = pkt(0, 17, 1000, 99, 1, 2);
	assert_int_equal(ct(&t, &p, 0, 0, VW_CT_NOLIMIT, S), VW_CT_FULL);
	assert_int_equal(t.stats.full, 1);
	/* known ones still pass; the over-limit verdict comes before "full" */
	p = pkt(0, 17, 3, 99, 1, 2);
	assert_int_equal(ct(&t, &p, 0, 1, VW_CT_NOLIMIT, 20 * S), VW_CT_EXISTING);
	p = pkt(0, 17, 1000, 99, 1, 2);
	assert_int_equal(ct(&t, &p, 0, 0, 1, S), VW_CT_REFUSE);
	check_table(&t);
	/* once the others have timed out, a lookup makes room by itself */
	assert_int_equal(ct(&t, &p, 0, 0, VW_CT_NOLIMIT, 31 * S), VW_CT_NEW);
	assert_int_equal(vw_ct_count(&t, 0), 1);
	assert_int_equal(vw_ct_count(&t, 1), 1);  /* the one refreshed at 20 s */
	assert_int_equal(t.n, 2);
	check_table(&t);
	vw_ct_fini(&t);
}

/* ---- the brute-force model ---- */

struct m_entry {
	struct vw_pktinfo a;  /* the packet that made it, as sent */
	uint32_t flow;
	int state;            /* VW_CT_S_* */
	int orig;             /* 1: opened by the side that sent a */
	int fin_a, fin_b;     /* FIN seen from a's sender, from the other */
	uint64_t last;
};

struct model {
	struct m_entry e[512];
	int n;
	uint32_t count[8];
	struct vw_ct_timeouts to;
};

static int same_ends(const struct vw_pktinfo *x, const struct vw_pktinfo *y)
{
	return !memcmp(x->src, y->src, 16) && !memcmp(x->dst, y->dst, 16) &&
	       x->sport == y->sport && x->dport == y->dport;
}

/* The entry of p (either direction) in flow; *fwd: p goes as the entry's a. */
static int m_find(const struct model *m, const struct vw_pktinfo *p, uint32_t flow, int *fwd)
{
	struct vw_pktinfo r = reverse(p);
	int i;

	for (i = 0; i < m->n; i++) {
		if (m->e[i].flow != flow || m->e[i].a.proto != p->proto)
			continue;
		if (same_ends(&m->e[i].a, p)) {
			*fwd = 1;
			return i;
		}
		if (same_ends(&m->e[i].a, &r)) {
			*fwd = 0;
			return i;
		}
	}
	return -1;
}

static uint64_t m_timeout(const struct model *m, int state)
{
	return state == VW_CT_S_OPENING ? m->to.opening_ns : state == VW_CT_S_EST ? m->to.est_ns :
	       state == VW_CT_S_CLOSING ? m->to.closing_ns : state == VW_CT_S_CLOSED ? m->to.linger_ns :
	       m->to.udp_ns;
}

static void m_remove(struct model *m, int i)
{
	if (m->e[i].state != VW_CT_S_CLOSED)
		m->count[m->e[i].flow]--;
	m->e[i] = m->e[--m->n];
}

static int m_expired(const struct model *m, int i, uint64_t now)
{
	return now >= m->e[i].last && now - m->e[i].last >= m_timeout(m, m->e[i].state);
}

static enum vw_ct_verdict m_packet(struct model *m, const struct vw_pktinfo *p, uint8_t fl,
				   uint32_t flow, uint32_t limit, uint64_t now)
{
	int fwd, i = m_find(m, p, flow, &fwd);
	struct m_entry *e;

	if (i >= 0 && m_expired(m, i, now)) {
		m_remove(m, i);
		i = -1;
	}
	if (i < 0) {
		if (p->proto == 6 && (fl & (RST | FIN)))
			return VW_CT_UNTRACKED;
		if (m->count[flow] >= limit)
			return VW_CT_REFUSE;
		e = &m->e[m->n++];
		memset(e, 0, sizeof(*e));
		e->a = *p;
		e->flow = flow;
		e->state = p->proto == 6 ? VW_CT_S_OPENING : VW_CT_S_UDP;
		e->orig = 1;
		e->last = now;
		m->count[flow]++;
		return VW_CT_NEW;
	}
	e = &m->e[i];
	if (p->proto != 6) {
		e->last = now;
		return VW_CT_EXISTING;
	}
	if (e->state == VW_CT_S_CLOSED) {
		if ((fl & (SYN | ACK | RST)) != SYN)
			return VW_CT_EXISTING;
		if (m->count[flow] >= limit)
			return VW_CT_REFUSE;
		m->count[flow]++;
		e->state = VW_CT_S_OPENING;
		e->orig = fwd;
		e->fin_a = e->fin_b = 0;
		e->last = now;
		return VW_CT_NEW;
	}
	e->last = now;
	if (fl & RST) {
		e->state = VW_CT_S_CLOSED;
		m->count[flow]--;
		return VW_CT_EXISTING;
	}
	if (e->state == VW_CT_S_OPENING && fwd != e->orig)
		e->state = VW_CT_S_EST;
	if (fl & FIN) {
		if (fwd)
			e->fin_a = 1;
		else
			e->fin_b = 1;
		if (e->fin_a && e->fin_b) {
			e->state = VW_CT_S_CLOSED;
			m->count[flow]--;
		} else {
			e->state = VW_CT_S_CLOSING;
		}
	}
	return VW_CT_EXISTING;
}

static void m_expire_all(struct model *m, uint64_t now)
{
	int i;

	for (i = 0; i < m->n;)
		if (m_expired(m, i, now))
			m_remove(m, i);
		else
			i++;
}

static void m_flush(struct model *m, uint32_t flow)
{
	int i;

	for (i = 0; i < m->n;)
		if (m->e[i].flow == flow)
			m_remove(m, i);
		else
			i++;
}

/*
 * steps random packets over ntuples 5-tuples and nflows flows, in a table
 * for capacity entries: every verdict and count compared with the model.
 * A 5-tuple k belongs to flow k % nflows, or to the next flow: 2 * ntuples
 * (5-tuple, flow) pairs at most, which must fit without a FULL.
 */
static void run_model(uint32_t capacity, int ntuples, uint32_t nflows, int steps, uint64_t seed)
{
	static const uint8_t flags[] = { SYN, SYN, SYN | ACK, ACK, ACK, ACK | 8, FIN | ACK, FIN | ACK,
					 RST, RST | ACK, SYN | RST };
	struct vw_pktinfo *tup = calloc((size_t)ntuples, sizeof(*tup));
	struct model *m = calloc(1, sizeof(*m));
	uint32_t limit[8];
	struct vw_conntab t;
	uint64_t now = 1000 * S;
	int i, f, sweeps = 0, hist[VW_CT_INVAL + 1] = { 0 };

	assert_non_null(tup);
	assert_non_null(m);
	assert_true(nflows <= 8);
	assert_int_equal(vw_ct_init(&t, capacity, nflows, seed, NULL), 0);
	assert_true((uint32_t)ntuples * (nflows > 1 ? 2 : 1) <= t.max);
	m->to = t.to;
	for (i = 0; i < ntuples; i++)
		tup[i] = pkt(i % 3 == 0, i % 4 == 0 ? 17 : 6, rnd() % 4, rnd() % 4,
			     (uint16_t)(rnd() % 8), (uint16_t)(rnd() % 3));
	for (f = 0; f < (int)nflows; f++)
		limit[f] = f == 0 && nflows > 1 ? VW_CT_NOLIMIT : 1 + rnd() % 6;

	for (i = 0; i < steps; i++) {
		int k = (int)(rnd() % (uint32_t)ntuples);
		uint32_t flow = (uint32_t)k % nflows, r = rnd() % 100;
		struct vw_pktinfo p = rnd() & 1 ? tup[k] : reverse(&tup[k]);
		uint8_t fl = flags[rnd() % ARRAY_SIZE(flags)];
		enum vw_ct_verdict want, got;

		if (rnd() % 10 == 0)
			flow = (flow + 1) % nflows;  /* the same 5-tuple in another flow */
		r = rnd() % 1000;
		now += r < 600 ? rnd() % 1000 : r < 900 ? rnd() % (3 * S) : r < 990 ? rnd() % (40 * S) :
		       rnd() % (400 * S);
		want = m_packet(m, &p, fl, flow, limit[flow], now);
		got = ct(&t, &p, fl, flow, limit[flow], now);
		assert_int_equal(got, want);
		hist[got]++;
		for (f = 0; f < (int)nflows; f++)
			assert_int_equal(vw_ct_count(&t, (uint32_t)f), m->count[f]);
		assert_int_equal(t.n, (uint32_t)m->n);

		r = rnd() % 100;
		if (r < 3) {  /* a full turn of the hand */
			m_expire_all(m, now);
			vw_ct_sweep(&t, now, vw_ct_slots(&t));
			sweeps++;
		} else if (r == 3 && rnd() % 20 == 0) {
			f = (int)(rnd() % nflows);
			m_flush(m, (uint32_t)f);
			vw_ct_flush_flow(&t, (uint32_t)f);
		} else if (r == 4) {  /* flow 0 keeps no limit, if there are others */
			f = nflows > 1 ? (int)(1 + rnd() % (nflows - 1)) : 0;
			limit[f] = rnd() % 7;
		}
		if (r < 5) {
			check_table(&t);
			for (f = 0; f < (int)nflows; f++)
				assert_int_equal(vw_ct_count(&t, (uint32_t)f), m->count[f]);
			assert_int_equal(t.n, (uint32_t)m->n);
		}
	}
	/* every verdict but FULL and INVAL happened (the model has no FULL:
	 * a full table makes room by sweeping wherever its hand is) */
	assert_int_equal(hist[VW_CT_FULL], 0);
	print_message("model %u/%d/%u: new %d existing %d refuse %d untracked %d\n", capacity, ntuples,
		      nflows, hist[VW_CT_NEW], hist[VW_CT_EXISTING], hist[VW_CT_REFUSE], hist[VW_CT_UNTRACKED]);
	for (i = VW_CT_NEW; i <= VW_CT_UNTRACKED; i++)
		if (i != VW_CT_FULL)
			assert_true(hist[i] > steps / 100);
	assert_true(sweeps > 10);
	check_table(&t);
	vw_ct_fini(&t);
	free(m);
	free(tup);
}

static void test_model(void **state)
{
	(void)state;
	/* a roomy table, a tight one (16 slots, up to 12 entries), and many
	 * seeds: clusters wrap around the end of the table */
	run_model(200, 150, 4, 200000, 1);
	run_model(12, 6, 3, 100000, 2);
	run_model(12, 12, 1, 50000, 3);
	run_model(100, 40, 3, 50000, 0xdeadbeef);
}

/* Incremental sweeps (a few slots per packet) keep the bookkeeping exact,
 * and one full turn later nothing past its timeout is left. */
static void test_sweep_incremental(void **state)
{
	struct vw_conntab t;
	uint64_t now = S;
	uint32_t freed = 0;
	int i;

	(void)state;
	assert_int_equal(vw_ct_init(&t, 3000, 5, 99, NULL), 0);
	for (i = 0; i < 300000; i++) {
		struct vw_pktinfo p = pkt(rnd() & 1, rnd() % 3 ? 6 : 17, rnd() % 64, rnd() % 64,
					  (uint16_t)(rnd() % 16), 80);
		static const uint8_t fl[] = { SYN, ACK, FIN, RST, SYN | ACK };

		now += rnd() % (S / 100);
		ct(&t, &p, fl[rnd() % 5], rnd() % 5, 400, now);
		freed += vw_ct_sweep(&t, now, 3);
		if (i % 1000 == 0)
			check_table(&t);
	}
	assert_true(freed > 10000);
	assert_true(t.n > 100);
	check_table(&t);
	vw_ct_sweep(&t, now, vw_ct_slots(&t));
	for (i = 0; i <= (int)t.mask; i++) {
		const struct vw_ct_entry *e = &t.slot[i];
		uint64_t to = e->state == VW_CT_S_OPENING ? t.to.opening_ns : e->state == VW_CT_S_EST ?
			      t.to.est_ns : e->state == VW_CT_S_CLOSING ? t.to.closing_ns :
			      e->state == VW_CT_S_CLOSED ? t.to.linger_ns : t.to.udp_ns;

		if (e->state != VW_CT_S_FREE)
			assert_true(now - e->last < to);
	}
	/* much later, k slots at a time: a call moves the hand k slots or
	 * frees k entries, so everything goes within (slots + n) / k calls */
	now += 1000 * S;
	for (i = (int)((vw_ct_slots(&t) + t.n) / 7 + 1); i > 0; i--)
		vw_ct_sweep(&t, now, 7);
	assert_int_equal(t.n, 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(vw_ct_count(&t, (uint32_t)i), 0);
	vw_ct_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_tcp_lifecycle),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_sweep_incremental),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
