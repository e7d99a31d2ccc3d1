/*
 * Unit tests of the virtual switch engine (datapath/vswitch.c) against the
 * switching rules of SPEC §3, with in-memory ports.
 *
 * Every port here is a struct mport: a struct vw_port whose write records
 * a copy of each frame it is handed, as the bytes would go on the wire (with
 * tag set and pkt->vid != 0, an 802.1Q tag 0x8100/VID goes in after the 12
 * MAC bytes, as the AF_PACKET uplink backend does).  Frames are built by the
 * helpers below, fed to vw_switch_input() as one batch, and each test then
 * asserts exactly which ports received which bytes and which counters moved
 * (every other port must have received nothing and have no counter moved).
 * After every call, every pool buffer must be back in the pool.
 *
 * The worker context is vw_fwd_init(&f, 0, 256); vw_rcu_nworkers stays 0,
 * so vw_rcu_synchronize() returns at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/pkt.h"
#include "datapath/port.h"
#include "datapath/observe.h"
#include "datapath/rcu.h"
#include "datapath/vnet.h"
#include "datapath/vswitch.h"

/* ------------------------------------------------------------------ */
/* frames                                                              */

#define FRAME_MAX 1600

struct fr {
	size_t len;
	uint8_t b[FRAME_MAX];
};

struct blob {
	size_t len;
	uint8_t *b;
};

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t GRP1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t GRP2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t GRP3[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e };
static const uint8_t UNKNOWN[6] = { 0x02, 0x99, 0x99, 0x99, 0x99, 0x99 };
static const uint8_t REMOTE[6] = { 0x02, 0xee, 0xee, 0xee, 0xee, 0x01 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* dst, src, then ntags (TPID, TCI) pairs, the ethertype, paylen bytes of a
 * payload derived from seed. */
static struct fr build(const uint8_t *dst, const uint8_t *src, const uint16_t *tags, unsigned ntags, uint16_t type,
		       size_t paylen, uint8_t seed)
{
	struct fr f;
	size_t off = 12, i;
	unsigned t;

	memset(&f, 0, sizeof(f));
	memcpy(f.b, dst, 6);
	memcpy(f.b + 6, src, 6);
	for (t = 0; t < ntags; t++) {
		put16(f.b + off, tags[2 * t]);
		put16(f.b + off + 2, tags[2 * t + 1]);
		off += 4;
	}
	put16(f.b + off, type);
	off += 2;
	assert_true(off + paylen <= FRAME_MAX);
	for (i = 0; i < paylen; i++)
		f.b[off + i] = (uint8_t)(seed * 31 + i);
	f.len = off + paylen;
	return f;
}

static struct fr eth(const uint8_t *dst, const uint8_t *src, uint16_t type, size_t paylen, uint8_t seed)
{
	return build(dst, src, NULL, 0, type, paylen, seed);
}

static struct fr eth1q(const uint8_t *dst, const uint8_t *src, uint16_t tpid, uint16_t tci, uint16_t type,
		       size_t paylen, uint8_t seed)
{
	uint16_t tags[2] = { tpid, tci };

	return build(dst, src, tags, 1, type, paylen, seed);
}

static struct fr eth2q(const uint8_t *dst, const uint8_t *src, uint16_t tpid1, uint16_t tci1, uint16_t tpid2,
		       uint16_t tci2, uint16_t type, size_t paylen, uint8_t seed)
{
	uint16_t tags[4] = { tpid1, tci1, tpid2, tci2 };

	return build(dst, src, tags, 2, type, paylen, seed);
}

/* The frame with an 802.1Q tag for vid inserted after the MACs. */
static struct fr tagged(const struct fr *f, uint16_t vid)
{
	struct fr t;

	assert_true(f->len >= 12 && f->len + 4 <= FRAME_MAX);
	memset(&t, 0, sizeof(t));
	memcpy(t.b, f->b, 12);
	put16(t.b + 12, 0x8100);
	put16(t.b + 14, vid);
	memcpy(t.b + 16, f->b + 12, f->len - 12);
	t.len = f->len + 4;
	return t;
}

/* The frame with its first tag (4 bytes after the MACs) removed. */
static struct fr untag(const struct fr *f)
{
	struct fr t;

	assert_true(f->len >= 16);
	memset(&t, 0, sizeof(t));
	memcpy(t.b, f->b, 12);
	memcpy(t.b + 12, f->b + 16, f->len - 16);
	t.len = f->len - 4;
	return t;
}

static void blob_push(struct blob **v, size_t *n, size_t *cap, const uint8_t *b, size_t len)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct blob *nv = realloc(*v, c * sizeof(**v));

		assert_non_null(nv);
		*v = nv;
		*cap = c;
	}
	(*v)[*n].b = malloc(len ? len : 1);
	assert_non_null((*v)[*n].b);
	memcpy((*v)[*n].b, b, len);
	(*v)[*n].len = len;
	(*n)++;
}

static void blobs_clear(struct blob *v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free(v[i].b);
	*n = 0;
}

/* ------------------------------------------------------------------ */
/* in-memory ports                                                     */

#define MAXG 8

struct mport {
	struct vw_port port;
	struct blob *got; /* frames handed to write and taken, wire bytes */
	size_t ngot, capgot;
	struct blob *exp; /* what the reference model expects (model tests) */
	size_t nexp, capexp;
	int accept; /* frames write takes per call; -1: all; -2: fails with -EIO */
	unsigned tx_calls;
	bool attached;
	uint8_t groups[MAXG][6]; /* multicast groups joined, as set */
	unsigned ngroups;
	/* expectation bookkeeping */
	struct vw_port_stats base;
	bool stats_checked, got_checked;
};

static int mock_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	(void)port;
	(void)pool;
	(void)pkts;
	(void)n;
	return 0;
}

static int mock_tx(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct mport *m = port->priv;
	int i, take = n;

	assert_true(n > 0 && n <= VW_BATCH);
	m->tx_calls++;
	if (m->accept == -2)
		return -EIO;
	if (m->accept >= 0 && take > m->accept)
		take = m->accept;
	for (i = 0; i < take; i++) {
		const struct vw_pkt *pkt = pkts[i];
		static uint8_t wire[VW_PKT_DATA_MAX + 4];
		size_t len = pkt->len;

		assert_true(pkt->len >= 14 && pkt->len <= VW_PKT_DATA_MAX);
		if (tag && pkt->vid) {
			memcpy(wire, pkt->data, 12);
			put16(wire + 12, 0x8100);
			put16(wire + 14, pkt->vid);
			memcpy(wire + 16, pkt->data + 12, pkt->len - 12);
			len += 4;
		} else {
			memcpy(wire, pkt->data, pkt->len);
		}
		blob_push(&m->got, &m->ngot, &m->capgot, wire, len);
	}
	return take;
}

static const struct vw_port_ops mock_ops = {
	.kind = "mock",
	.rx_burst = mock_rx,
	.write = mock_tx,
	.close = NULL,
};

/* ------------------------------------------------------------------ */
/* test context                                                        */

struct ctx {
	struct vw_fwd *f;
	struct vw_switch *sw;
	struct mport **ports;
	unsigned nports, cap;
	struct mport *up; /* the attached uplink, if any */
	unsigned pool0;
	void *scratch[2]; /* a test's own allocations, freed by teardown */
};

static struct ctx C;

/* the standard topology */
static struct mport *pA, *pB, *pE; /* VID 10 */
static struct mport *pC;           /* VID 20 */
static struct mport *pD, *pF;      /* VID 0 */
static struct mport *pU;           /* uplink */

static void mac_of(uint8_t mac[6], unsigned i)
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static struct mport *port_new(const char *name, bool uplink, uint16_t vid, const uint8_t *mac)
{
	struct mport *m = aligned_alloc(64, sizeof(*m));

	assert_non_null(m);
	memset(m, 0, sizeof(*m));
	m->port.ops = &mock_ops;
	m->port.fd = -1;
	m->port.uplink = uplink;
	m->port.vid = vid;
	if (mac)
		memcpy(m->port.mac, mac, 6);
	m->port.priv = m;
	snprintf(m->port.name, sizeof(m->port.name), "%s", name);
	m->accept = -1;
	if (C.nports == C.cap) {
		unsigned cap = C.cap ? C.cap * 2 : 16;
		struct mport **v = realloc(C.ports, cap * sizeof(*v));

		assert_non_null(v);
		C.ports = v;
		C.cap = cap;
	}
	C.ports[C.nports++] = m;
	return m;
}

static int port_attach(struct mport *m)
{
	int err = vw_switch_attach(C.sw, &m->port);

	if (!err) {
		m->attached = true;
		if (m->port.uplink)
			C.up = m;
	}
	return err;
}

static void port_detach(struct mport *m)
{
	vw_switch_detach(C.sw, &m->port);
	m->attached = false;
	m->ngroups = 0;
	if (C.up == m)
		C.up = NULL;
}

static struct mport *vnic(const char *name, uint16_t vid, const uint8_t *mac)
{
	struct mport *m = port_new(name, false, vid, mac);

	assert_int_equal(port_attach(m), 0);
	return m;
}

static struct mport *uplink(const char *name)
{
	struct mport *m = port_new(name, true, 0, NULL);

	assert_int_equal(port_attach(m), 0);
	return m;
}

static void join(struct mport *m, const uint8_t (*groups)[6], unsigned n)
{
	assert_true(n <= MAXG);
	assert_int_equal(vw_switch_set_mcast(C.sw, &m->port, groups, n), 0);
	if (n)
		memcpy(m->groups, groups, n * 6);
	m->ngroups = n;
}

static void topo(bool with_uplink)
{
	uint8_t mac[6];

	mac_of(mac, 0xa);
	pA = vnic("A", 10, mac);
	mac_of(mac, 0xb);
	pB = vnic("B", 10, mac);
	mac_of(mac, 0xe);
	pE = vnic("E", 10, mac);
	mac_of(mac, 0xc);
	pC = vnic("C", 20, mac);
	mac_of(mac, 0xd);
	pD = vnic("D", 0, mac);
	mac_of(mac, 0xf);
	pF = vnic("F", 0, mac);
	pU = with_uplink ? uplink("U") : NULL;
}

static int setup(void **state)
{
	(void)state;
	memset(&C, 0, sizeof(C));
	pA = pB = pC = pD = pE = pF = pU = NULL;
	C.f = malloc(sizeof(*C.f));
	if (!C.f)
		return -1;
	if (vw_fwd_init(C.f, 0, 256))
		return -1;
	C.pool0 = C.f->pool.nfree;
	if (C.pool0 != 256)
		return -1;
	C.sw = vw_switch_new("sw0");
	return C.sw ? 0 : -1;
}

static int teardown(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < C.nports; i++)
		if (C.ports[i]->attached)
			port_detach(C.ports[i]);
	vw_switch_free(C.sw);
	for (i = 0; i < C.nports; i++) {
		struct mport *m = C.ports[i];

		blobs_clear(m->got, &m->ngot);
		blobs_clear(m->exp, &m->nexp);
		free(m->got);
		free(m->exp);
		free(m);
	}
	free(C.ports);
	free(C.scratch[0]);
	free(C.scratch[1]);
	vw_fwd_fini(C.f);
	free(C.f);
	memset(&C, 0, sizeof(C));
	return 0;
}

/* ------------------------------------------------------------------ */
/* feeding frames and checking the outcome                             */

/* Feeds frames to the switch as one batch received from in. */
static void input(struct mport *in, const struct fr *frames, int n)
{
	struct vw_pkt *pkts[VW_BATCH];
	int i;

	assert_true(n >= 0 && n <= VW_BATCH);
	assert_int_equal(C.f->pool.nfree, C.pool0);
	for (i = 0; i < n; i++) {
		pkts[i] = vw_pkt_alloc(&C.f->pool);
		assert_non_null(pkts[i]);
		memcpy(pkts[i]->data, frames[i].b, frames[i].len);
		pkts[i]->len = (uint32_t)frames[i].len;
	}
	vw_switch_input(C.f, &in->port, pkts, n);
	/* every buffer is back in the pool */
	assert_int_equal(C.f->pool.nfree, C.pool0);
}

static void input1(struct mport *in, struct fr f)
{
	input(in, &f, 1);
}

/* Starts a step: snapshots every port's counters, forgets what was received. */
static void begin(void)
{
	unsigned i;

	for (i = 0; i < C.nports; i++) {
		struct mport *m = C.ports[i];

		vw_port_stats_sum(&m->port, &m->base);
		blobs_clear(m->got, &m->ngot);
		blobs_clear(m->exp, &m->nexp);
		m->tx_calls = 0;
		m->stats_checked = m->got_checked = false;
	}
}

#define ST(...) ((struct vw_port_stats){ __VA_ARGS__ })
#define stats_is(m, s) stats_is_((m), &(s))

#define CMP_FIELD(fld)                                                                                        \
	do {                                                                                                  \
		uint64_t moved_ = cur.fld - m->base.fld;                                                      \
		if (moved_ != d.fld)                                                                          \
			fail_msg("port %s: %s moved by %llu, expected %llu", m->port.name, #fld,               \
				 (unsigned long long)moved_, (unsigned long long)d.fld);                      \
	} while (0)

/* Asserts that port m's counters moved by exactly d since begin(). */
static void stats_is_(struct mport *m, const struct vw_port_stats *dp)
{
	const struct vw_port_stats d = *dp;
	struct vw_port_stats cur;

	vw_port_stats_sum(&m->port, &cur);
	CMP_FIELD(rx_pkts);
	CMP_FIELD(rx_bytes);
	CMP_FIELD(tx_pkts);
	CMP_FIELD(tx_bytes);
	CMP_FIELD(rx_batches);
	CMP_FIELD(drop_tagged);
	CMP_FIELD(drop_vlan);
	CMP_FIELD(drop_unknown);
	CMP_FIELD(drop_runt);
	CMP_FIELD(drop_nobuf);
	CMP_FIELD(drop_txerr);
	m->stats_checked = true;
}

static void got_n(struct mport *m, size_t n)
{
	if (m->ngot != n)
		fail_msg("port %s received %zu frames, expected %zu", m->port.name, m->ngot, n);
	m->got_checked = true;
}

static void got_frame(struct mport *m, size_t i, const struct fr *f)
{
	assert_true(i < m->ngot);
	if (m->got[i].len != f->len)
		fail_msg("port %s frame %zu: %zu bytes, expected %zu", m->port.name, i, m->got[i].len, f->len);
	if (memcmp(m->got[i].b, f->b, f->len))
		fail_msg("port %s frame %zu: bytes differ", m->port.name, i);
}

/* m received exactly the one frame f. */
static void got_only(struct mport *m, const struct fr *f)
{
	got_n(m, 1);
	got_frame(m, 0, f);
}

/* Every port not checked since begin() received nothing and has no counter
 * moved. */
static void rest_quiet(void)
{
	unsigned i;

	for (i = 0; i < C.nports; i++) {
		struct mport *m = C.ports[i];

		if (!m->got_checked && m->ngot)
			fail_msg("port %s received %zu unexpected frames", m->port.name, m->ngot);
		if (!m->stats_checked)
			stats_is(m, ST(.rx_pkts = 0));
	}
}

/* ------------------------------------------------------------------ */
/* a reference model of SPEC §3 for the bulk tests                     */

static bool is_vlan_type(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

static bool joined(const struct mport *m, const uint8_t *g)
{
	unsigned i;

	for (i = 0; i < m->ngroups; i++)
		if (!memcmp(m->groups[i], g, 6))
			return true;
	return false;
}

static void expect_on(struct mport *m, const struct fr *f)
{
	blob_push(&m->exp, &m->nexp, &m->capexp, f->b, f->len);
}

/* Appends to each port's expected list what frame f received from in must
 * produce there. */
static void model(struct mport *in, const struct fr *f)
{
	struct fr fr;
	uint16_t vid, type;
	unsigned i;

	if (f->len < 14)
		return;
	type = (uint16_t)(f->b[12] << 8 | f->b[13]);
	if (!in->port.uplink) {
		if (is_vlan_type(type))
			return;
		vid = in->port.vid;
		fr = *f;
	} else if (type == 0x8100) {
		if (f->len < 18 || is_vlan_type((uint16_t)(f->b[16] << 8 | f->b[17])))
			return;
		vid = (uint16_t)((f->b[14] << 8 | f->b[15]) & 0xfff);
		fr = untag(f);
	} else {
		if (is_vlan_type(type))
			return;
		vid = 0;
		fr = *f;
	}
	if (fr.b[0] & 1) {
		bool bc = !memcmp(fr.b, BCAST, 6);

		for (i = 0; i < C.nports; i++) {
			struct mport *m = C.ports[i];

			if (m->attached && !m->port.uplink && m != in && m->port.vid == vid && (bc || joined(m, fr.b)))
				expect_on(m, &fr);
		}
		if (!in->port.uplink && C.up) {
			struct fr t = tagged(&fr, vid);

			expect_on(C.up, vid ? &t : &fr);
		}
		return;
	}
	for (i = 0; i < C.nports; i++) {
		struct mport *m = C.ports[i];

		if (m->attached && !m->port.uplink && m->port.vid == vid && !memcmp(m->port.mac, fr.b, 6)) {
			if (m != in)
				expect_on(m, &fr);
			return;
		}
	}
	if (!in->port.uplink && C.up) {
		struct fr t = tagged(&fr, vid);

		expect_on(C.up, vid ? &t : &fr);
	}
}

/* Every port received exactly what the model expects, in order, and its tx
 * counters match. */
static void verify_model(void)
{
	unsigned i;
	size_t k;

	for (i = 0; i < C.nports; i++) {
		struct mport *m = C.ports[i];
		struct vw_port_stats cur;
		uint64_t bytes = 0;

		if (m->ngot != m->nexp)
			fail_msg("port %s received %zu frames, expected %zu", m->port.name, m->ngot, m->nexp);
		for (k = 0; k < m->nexp; k++) {
			if (m->got[k].len != m->exp[k].len || memcmp(m->got[k].b, m->exp[k].b, m->exp[k].len))
				fail_msg("port %s frame %zu differs from the expected one", m->port.name, k);
			bytes += m->exp[k].len;
		}
		vw_port_stats_sum(&m->port, &cur);
		assert_int_equal(cur.tx_pkts - m->base.tx_pkts, m->nexp);
		assert_int_equal(cur.tx_bytes - m->base.tx_bytes, bytes);
		assert_int_equal(cur.drop_txerr - m->base.drop_txerr, 0);
	}
}

/* ------------------------------------------------------------------ */
/* outbound from a VNIC: unicast                                       */

static void test_unicast_same_vid(void **state)
{
	struct fr f, g[3];

	(void)state;
	topo(true);

	/* A -> B, both VID 10: only B gets it, untagged; never the uplink */
	begin();
	f = eth(pB->port.mac, pA->port.mac, 0x0800, 46, 1);
	input1(pA, f);
	got_only(pB, &f);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* D -> F, both VID 0 */
	begin();
	f = eth(pF->port.mac, pD->port.mac, 0x86dd, 100, 2);
	input1(pD, f);
	got_only(pF, &f);
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 114));
	stats_is(pF, ST(.tx_pkts = 1, .tx_bytes = 114));
	rest_quiet();

	/* a batch for two VNICs: one write per destination, order kept */
	begin();
	g[0] = eth(pB->port.mac, pA->port.mac, 0x0800, 46, 3);
	g[1] = eth(pE->port.mac, pA->port.mac, 0x0800, 50, 4);
	g[2] = eth(pB->port.mac, pA->port.mac, 0x0800, 60, 5);
	input(pA, g, 3);
	got_n(pB, 2);
	got_frame(pB, 0, &g[0]);
	got_frame(pB, 1, &g[2]);
	got_only(pE, &g[1]);
	assert_int_equal(pB->tx_calls, 1);
	assert_int_equal(pE->tx_calls, 1);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 3, .rx_bytes = 60 + 64 + 74));
	stats_is(pB, ST(.tx_pkts = 2, .tx_bytes = 60 + 74));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* to its own MAC: not reflected to the sender, and not put on the
	 * wire either (the address is known, in the box); the engine counts it
	 * as drop_unknown */
	begin();
	input1(pA, eth(pA->port.mac, pA->port.mac, 0x0800, 46, 6));
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();

	/* an empty batch moves nothing but rx_batches */
	begin();
	input(pA, NULL, 0);
	stats_is(pA, ST(.rx_batches = 1));
	rest_quiet();
}

/* Unicast to a VNIC's MAC from another VID is unknown unicast: it goes to
 * the uplink with the sender's tag and never to the VNIC. */
static void test_unicast_other_vid_uplink(void **state)
{
	struct fr f, t;

	(void)state;
	topo(true);

	begin();
	f = eth(pC->port.mac, pA->port.mac, 0x0800, 46, 1); /* A (10) -> C's MAC (20) */
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	begin();
	f = eth(pA->port.mac, pC->port.mac, 0x0800, 46, 2); /* C (20) -> A's MAC (10) */
	input1(pC, f);
	t = tagged(&f, 20);
	got_only(pU, &t);
	stats_is(pC, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	begin();
	f = eth(pA->port.mac, pD->port.mac, 0x0800, 46, 3); /* D (0) -> A's MAC (10): untagged */
	input1(pD, f);
	got_only(pU, &f);
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	begin();
	f = eth(pD->port.mac, pB->port.mac, 0x0800, 46, 4); /* B (10) -> D's MAC (0) */
	input1(pB, f);
	t = tagged(&f, 10);
	got_only(pU, &t);
	stats_is(pB, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();
}

static void test_unicast_other_vid_etherstub(void **state)
{
	(void)state;
	topo(false);

	begin();
	input1(pA, eth(pC->port.mac, pA->port.mac, 0x0800, 46, 1));
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();

	begin();
	input1(pD, eth(pA->port.mac, pD->port.mac, 0x0800, 46, 2));
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();

	begin();
	input1(pC, eth(pD->port.mac, pC->port.mac, 0x0800, 46, 3));
	stats_is(pC, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();
}

static void test_unknown_unicast(void **state)
{
	struct fr f, t;

	(void)state;

	/* etherstub: no uplink, dropped */
	topo(false);
	begin();
	input1(pA, eth(UNKNOWN, pA->port.mac, 0x0800, 46, 1));
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();

	begin();
	input1(pD, eth(UNKNOWN, pD->port.mac, 0x0800, 46, 2));
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();

	/* with an uplink: to the uplink, tagged with the sender's VID */
	pU = uplink("U");
	begin();
	f = eth(UNKNOWN, pA->port.mac, 0x0800, 46, 3);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	begin();
	f = eth(UNKNOWN, pD->port.mac, 0x0800, 46, 4);
	input1(pD, f);
	got_only(pU, &f);
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* outbound from a VNIC: broadcast and multicast                       */

static void test_broadcast_fanout(void **state)
{
	struct fr f, t;

	(void)state;
	topo(true);

	/* A (10): B and E untagged, the uplink tagged 10; not A, C, D, F */
	begin();
	f = eth(BCAST, pA->port.mac, 0x0806, 46, 1);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pB, &f);
	got_only(pE, &f);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* D (0): F and the uplink, untagged */
	begin();
	f = eth(BCAST, pD->port.mac, 0x0806, 46, 2);
	input1(pD, f);
	got_only(pF, &f);
	got_only(pU, &f);
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pF, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* C, alone in VID 20: the uplink only */
	begin();
	f = eth(BCAST, pC->port.mac, 0x0806, 46, 3);
	input1(pC, f);
	t = tagged(&f, 20);
	got_only(pU, &t);
	stats_is(pC, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();
}

static void test_broadcast_etherstub(void **state)
{
	struct fr f;

	(void)state;
	topo(false);

	begin();
	f = eth(BCAST, pE->port.mac, 0x0806, 46, 1);
	input1(pE, f);
	got_only(pA, &f);
	got_only(pB, &f);
	stats_is(pE, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* C is alone in its VID: nobody to deliver to, counted as such */
	begin();
	input1(pC, eth(BCAST, pC->port.mac, 0x0806, 46, 2));
	stats_is(pC, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();
}

static void test_multicast_members(void **state)
{
	const uint8_t g1[1][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	const uint8_t g12[2][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb }, { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
	struct vw_fdb *before;
	struct fr f, t;

	(void)state;
	topo(true);
	join(pB, g1, 1);
	join(pC, g1, 1); /* VID 20 */
	join(pD, g1, 1); /* VID 0 */

	/* A -> G1: B (the member of VID 10) and the uplink */
	begin();
	f = eth(GRP1, pA->port.mac, 0x0800, 46, 1);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pB, &f);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* F -> G1 (VID 0): D and the uplink, untagged */
	begin();
	f = eth(GRP1, pF->port.mac, 0x0800, 46, 2);
	input1(pF, f);
	got_only(pD, &f);
	got_only(pU, &f);
	stats_is(pF, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pD, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* a group nobody joined: the uplink only */
	begin();
	f = eth(GRP3, pA->port.mac, 0x0800, 46, 3);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* membership changes: B leaves, E joins G1 and G2, A joins G1 */
	join(pB, NULL, 0);
	join(pE, g12, 2);
	join(pA, g1, 1);
	begin();
	f = eth(GRP1, pA->port.mac, 0x0800, 46, 4);
	input1(pA, f); /* not back to A, though it is a member */
	t = tagged(&f, 10);
	got_only(pE, &f);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	begin();
	f = eth(GRP2, pB->port.mac, 0x86dd, 46, 5);
	input1(pB, f);
	t = tagged(&f, 10);
	got_only(pE, &f);
	got_only(pU, &t);
	stats_is(pB, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* setting the same set again does not republish */
	before = C.sw->fdb;
	assert_int_equal(vw_switch_set_mcast(C.sw, &pE->port, g12, 2), 0);
	assert_ptr_equal(C.sw->fdb, before);
	assert_int_equal(vw_switch_set_mcast(C.sw, &pB->port, NULL, 0), 0);
	assert_ptr_equal(C.sw->fdb, before);

	/* not a port of this switch */
	{
		struct mport *x = port_new("X", false, 10, UNKNOWN);

		assert_int_equal(vw_switch_set_mcast(C.sw, &x->port, g1, 1), -ENOENT);
		assert_int_equal(vw_switch_set_mcast(C.sw, &pU->port, g1, 1), -ENOENT);
	}
}

static void test_multicast_etherstub(void **state)
{
	const uint8_t g1[1][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	struct fr f;

	(void)state;
	topo(false);
	join(pE, g1, 1);
	join(pC, g1, 1);

	begin();
	f = eth(GRP1, pA->port.mac, 0x0800, 46, 1);
	input1(pA, f);
	got_only(pE, &f);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* a group nobody joined, on an etherstub: no destination at all */
	begin();
	input1(pA, eth(GRP2, pA->port.mac, 0x0800, 46, 2));
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60, .drop_unknown = 1));
	rest_quiet();
}

/* A port that lists a group twice gets one copy; the broadcast address
 * listed as a group gives no second copy either. */
static void test_multicast_duplicate_join(void **state)
{
	const uint8_t dup[3][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb },
				    { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
				    { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	const uint8_t g1[1][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	const uint8_t bc[1][6] = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct fr f;

	(void)state;
	topo(false);
	join(pA, g1, 1);
	join(pB, dup, 3);
	join(pE, g1, 1);
	join(pD, bc, 1);

	begin();
	f = eth(GRP1, pA->port.mac, 0x0800, 46, 1);
	input1(pA, f);
	got_only(pB, &f);
	got_only(pE, &f);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	begin();
	f = eth(BCAST, pF->port.mac, 0x0806, 46, 2);
	input1(pF, f);
	got_only(pD, &f);
	stats_is(pF, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pD, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* inbound from the uplink                                             */

static void test_uplink_unicast(void **state)
{
	struct fr f, s;

	(void)state;
	topo(true);

	/* tagged 10 to A: A gets it untagged */
	begin();
	f = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 1);
	input1(pU, f);
	s = untag(&f);
	got_only(pA, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* PCP and DEI bits do not change the VID */
	begin();
	f = eth1q(pB->port.mac, REMOTE, 0x8100, 0xe000 | 0x1000 | 10, 0x0800, 46, 2);
	input1(pU, f);
	s = untag(&f);
	got_only(pB, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* tagged 20 to A's MAC: not delivered (VID 20 has C, so unknown) */
	begin();
	input1(pU, eth1q(pA->port.mac, REMOTE, 0x8100, 20, 0x0800, 46, 3));
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64, .drop_unknown = 1));
	rest_quiet();

	/* untagged to D (VID 0) */
	begin();
	f = eth(pD->port.mac, REMOTE, 0x0800, 46, 4);
	input1(pU, f);
	got_only(pD, &f);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pD, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* priority-tagged (VID 0, PCP 5) to D: delivered with the tag stripped */
	begin();
	f = eth1q(pD->port.mac, REMOTE, 0x8100, 0xa000, 0x0800, 46, 5);
	input1(pU, f);
	s = untag(&f);
	got_only(pD, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pD, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* untagged to A's MAC (A is VID 10), tagged 10 to D's MAC: not delivered */
	begin();
	{
		struct fr g[2] = { eth(pA->port.mac, REMOTE, 0x0800, 46, 6),
				   eth1q(pD->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 7) };

		input(pU, g, 2);
	}
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 2, .rx_bytes = 124, .drop_unknown = 2));
	rest_quiet();

	/* unknown MAC in a VID that has VNICs: nowhere, and not back out */
	begin();
	input1(pU, eth1q(UNKNOWN, REMOTE, 0x8100, 10, 0x0800, 46, 8));
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64, .drop_unknown = 1));
	rest_quiet();

	/* all of it in one batch */
	begin();
	{
		struct fr g[4] = { eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 9),
				   eth(pF->port.mac, REMOTE, 0x0800, 46, 10),
				   eth1q(pC->port.mac, REMOTE, 0x8100, 20, 0x0800, 46, 11),
				   eth1q(pC->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 12) };
		struct fr s0 = untag(&g[0]), s2 = untag(&g[2]);

		input(pU, g, 4);
		got_only(pA, &s0);
		got_only(pF, &g[1]);
		got_only(pC, &s2);
	}
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 4, .rx_bytes = 64 * 3 + 60, .drop_unknown = 1));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pF, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pC, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
}

static void test_uplink_broadcast_multicast(void **state)
{
	const uint8_t g1[1][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	struct fr f, s;

	(void)state;
	topo(true);

	/* broadcast tagged 10: A, B, E untagged; not C, D, F; not reflected */
	begin();
	f = eth1q(BCAST, REMOTE, 0x8100, 10, 0x0806, 46, 1);
	input1(pU, f);
	s = untag(&f);
	got_only(pA, &s);
	got_only(pB, &s);
	got_only(pE, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* untagged broadcast: VID 0 only */
	begin();
	f = eth(BCAST, REMOTE, 0x0806, 46, 2);
	input1(pU, f);
	got_only(pD, &f);
	got_only(pF, &f);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pD, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pF, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* priority-tagged broadcast: VID 0, stripped */
	begin();
	f = eth1q(BCAST, REMOTE, 0x8100, 0x2000, 0x0806, 46, 3);
	input1(pU, f);
	s = untag(&f);
	got_only(pD, &s);
	got_only(pF, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pD, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pF, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* broadcast tagged 20: C only */
	begin();
	f = eth1q(BCAST, REMOTE, 0x8100, 20, 0x0806, 46, 4);
	input1(pU, f);
	s = untag(&f);
	got_only(pC, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pC, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* multicast per VLAN domain: members of the frame's VID only */
	join(pB, g1, 1);
	join(pC, g1, 1);
	join(pF, g1, 1);
	begin();
	{
		struct fr g[4] = { eth1q(GRP1, REMOTE, 0x8100, 10, 0x0800, 46, 5),
				   eth(GRP1, REMOTE, 0x0800, 46, 6),
				   eth1q(GRP1, REMOTE, 0x8100, 20, 0x0800, 46, 7),
				   eth1q(GRP2, REMOTE, 0x8100, 10, 0x0800, 46, 8) /* no member */ };
		struct fr s0 = untag(&g[0]), s2 = untag(&g[2]);

		input(pU, g, 4);
		got_only(pB, &s0);
		got_only(pF, &g[1]);
		got_only(pC, &s2);
	}
	/* the group nobody in VID 10 joined has no destination: counted */
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 4, .rx_bytes = 64 * 3 + 60, .drop_unknown = 1));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pF, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pC, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* VLAN leak attempts                                                  */

static void test_vnic_tagged_dropped(void **state)
{
	struct fr g[9];

	(void)state;
	topo(true);

	begin();
	g[0] = eth1q(pB->port.mac, pA->port.mac, 0x8100, 10, 0x0800, 46, 1); /* its own VID */
	g[1] = eth1q(pC->port.mac, pA->port.mac, 0x8100, 20, 0x0800, 46, 2); /* into VID 20 */
	g[2] = eth1q(BCAST, pA->port.mac, 0x8100, 20, 0x0806, 46, 3);
	g[3] = eth1q(pB->port.mac, pA->port.mac, 0x8100, 0, 0x0800, 46, 4); /* priority tag */
	g[4] = eth1q(BCAST, pA->port.mac, 0x88a8, 20, 0x0806, 46, 5);    /* 802.1ad */
	g[5] = eth1q(pC->port.mac, pA->port.mac, 0x9100, 20, 0x0800, 46, 6);
	g[6] = eth2q(BCAST, pA->port.mac, 0x88a8, 10, 0x8100, 20, 0x0806, 46, 7); /* QinQ */
	g[7] = eth2q(pC->port.mac, pA->port.mac, 0x8100, 10, 0x8100, 20, 0x0800, 46, 8);
	g[8] = eth1q(GRP1, pA->port.mac, 0x8100, 20, 0x0800, 46, 9);
	input(pA, g, 9);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 9, .rx_bytes = 64 * 7 + 68 * 2, .drop_tagged = 9));
	rest_quiet();

	/* from VID 0 too, and on a minimal 18-byte tagged frame */
	begin();
	g[0] = eth1q(pA->port.mac, pD->port.mac, 0x8100, 10, 0x0800, 46, 10);
	g[1] = eth1q(BCAST, pD->port.mac, 0x88a8, 10, 0x0806, 46, 11);
	g[2] = eth1q(pF->port.mac, pD->port.mac, 0x8100, 0, 0x0800, 0, 12);
	g[3] = eth(BCAST, pD->port.mac, 0x8100, 0, 13); /* 14 bytes, TPID only */
	input(pD, g, 4);
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 4, .rx_bytes = 64 + 64 + 18 + 14, .drop_tagged = 4));
	rest_quiet();
}

static void test_uplink_vlan_drops(void **state)
{
	struct fr g[8];

	(void)state;
	topo(true);

	/* double-tagged and non-802.1Q outer tags from the uplink */
	begin();
	g[0] = eth2q(pA->port.mac, REMOTE, 0x8100, 10, 0x8100, 20, 0x0800, 46, 1);
	g[1] = eth2q(pC->port.mac, REMOTE, 0x8100, 20, 0x88a8, 20, 0x0800, 46, 2);
	g[2] = eth2q(BCAST, REMOTE, 0x8100, 10, 0x9100, 10, 0x0806, 46, 3);
	g[3] = eth2q(pA->port.mac, REMOTE, 0x88a8, 10, 0x8100, 10, 0x0800, 46, 4);
	g[4] = eth1q(BCAST, REMOTE, 0x88a8, 10, 0x0806, 46, 5);
	g[5] = eth1q(pD->port.mac, REMOTE, 0x9100, 0, 0x0800, 46, 6);
	g[6] = eth2q(pD->port.mac, REMOTE, 0x8100, 0, 0x8100, 0, 0x0800, 46, 7);
	input(pU, g, 7);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 7, .rx_bytes = 68 * 5 + 64 * 2, .drop_vlan = 7));
	rest_quiet();

	/* tagged for a VID with no VNIC: unicast (to a MAC that exists in another
	 * VID), broadcast, multicast */
	begin();
	g[0] = eth1q(pA->port.mac, REMOTE, 0x8100, 99, 0x0800, 46, 8);
	g[1] = eth1q(BCAST, REMOTE, 0x8100, 99, 0x0806, 46, 9);
	g[2] = eth1q(GRP1, REMOTE, 0x8100, 99, 0x0800, 46, 10);
	g[3] = eth1q(UNKNOWN, REMOTE, 0x8100, 4094, 0x0800, 46, 11);
	input(pU, g, 4);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 4, .rx_bytes = 64 * 4, .drop_vlan = 4));
	rest_quiet();

	/* untagged with no VID-0 VNIC */
	port_detach(pD);
	port_detach(pF);
	begin();
	g[0] = eth(BCAST, REMOTE, 0x0806, 46, 12);
	g[1] = eth(pA->port.mac, REMOTE, 0x0800, 46, 13);
	g[2] = eth1q(BCAST, REMOTE, 0x8100, 0, 0x0806, 46, 14);
	input(pU, g, 3);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 3, .rx_bytes = 60 + 60 + 64, .drop_vlan = 3));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* runts                                                               */

static void test_runts(void **state)
{
	struct fr g[6], f, s, t;

	(void)state;
	topo(true);

	/* shorter than an Ethernet header, from a VNIC: neither received nor
	 * forwarded */
	begin();
	g[0] = eth(BCAST, pA->port.mac, 0x0800, 0, 1);
	g[0].len = 0;
	g[1] = eth(BCAST, pA->port.mac, 0x0800, 0, 2);
	g[1].len = 6;
	g[2] = eth(pB->port.mac, pA->port.mac, 0x0800, 0, 3);
	g[2].len = 13;
	input(pA, g, 3);
	stats_is(pA, ST(.rx_batches = 1, .drop_runt = 3));
	rest_quiet();

	/* exactly 14 bytes is a frame */
	begin();
	f = eth(BCAST, pA->port.mac, 0x88b5, 0, 4);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pB, &f);
	got_only(pE, &f);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 14));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 14));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 14));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 18));
	rest_quiet();

	/* from the uplink: < 14 bytes */
	begin();
	g[0] = eth(pD->port.mac, REMOTE, 0x0800, 0, 5);
	g[0].len = 13;
	input(pU, g, 1);
	stats_is(pU, ST(.rx_batches = 1, .drop_runt = 1));
	rest_quiet();

	/* from the uplink: 0x8100 frames of 14..17 bytes (no room for the tag).
	 * Note: the engine counts these in rx_pkts/rx_bytes (they pass the
	 * 14-byte check first), unlike the < 14 runts above. */
	begin();
	for (unsigned i = 0; i < 4; i++) {
		g[i] = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 0, (uint8_t)(6 + i));
		g[i].len = 14 + i;
	}
	input(pU, g, 4);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 4, .rx_bytes = 14 + 15 + 16 + 17, .drop_runt = 4));
	rest_quiet();

	/* an 18-byte tagged frame is fine: a 14-byte frame to A */
	begin();
	f = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x88b5, 0, 10);
	assert_int_equal(f.len, 18);
	input1(pU, f);
	s = untag(&f);
	got_only(pA, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 18));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 14));
	rest_quiet();

	/* runts mixed with good frames in one batch */
	begin();
	g[0] = eth(pB->port.mac, pA->port.mac, 0x0800, 46, 11);
	g[1] = eth(pB->port.mac, pA->port.mac, 0x0800, 0, 12);
	g[1].len = 10;
	g[2] = eth(pE->port.mac, pA->port.mac, 0x0800, 46, 13);
	input(pA, g, 3);
	got_only(pB, &g[0]);
	got_only(pE, &g[2]);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 2, .rx_bytes = 120, .drop_runt = 1));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* attach / detach                                                     */

static void test_detach(void **state)
{
	const uint8_t g1[1][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	const uint8_t g2[1][6] = { { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
	struct fr f, t, s;

	(void)state;
	topo(true);
	join(pB, g1, 1);
	join(pF, g2, 1); /* the last VNIC: moves into B's slot below */

	/* B gone: its MAC is unknown, broadcasts and its groups skip it */
	port_detach(pB);
	begin();
	{
		struct fr g[3] = { eth(pB->port.mac, pA->port.mac, 0x0800, 46, 1),
				   eth(BCAST, pA->port.mac, 0x0806, 46, 2),
				   eth(GRP1, pA->port.mac, 0x0800, 46, 3) };
		struct fr t0 = tagged(&g[0], 10), t1 = tagged(&g[1], 10), t2 = tagged(&g[2], 10);

		input(pA, g, 3);
		got_only(pE, &g[1]);
		got_n(pU, 3);
		got_frame(pU, 0, &t0);
		got_frame(pU, 1, &t1);
		got_frame(pU, 2, &t2);
	}
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 3, .rx_bytes = 180));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 3, .tx_bytes = 192));
	rest_quiet();

	/* from the uplink too */
	begin();
	input1(pU, eth1q(pB->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 4));
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64, .drop_unknown = 1));
	rest_quiet();

	/* F kept its own membership (G2, not B's G1) through the swap */
	begin();
	{
		struct fr g[2] = { eth(GRP2, pD->port.mac, 0x0800, 46, 5), eth(GRP1, pD->port.mac, 0x0800, 46, 55) };

		input(pD, g, 2);
		got_only(pF, &g[0]);
		got_n(pU, 2);
		got_frame(pU, 0, &g[0]);
		got_frame(pU, 1, &g[1]);
	}
	stats_is(pD, ST(.rx_batches = 1, .rx_pkts = 2, .rx_bytes = 120));
	stats_is(pF, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 2, .tx_bytes = 120));
	rest_quiet();

	/* B back, without its old membership */
	assert_int_equal(port_attach(pB), 0);
	begin();
	{
		struct fr g[2] = { eth(pB->port.mac, pA->port.mac, 0x0800, 46, 6),
				   eth(GRP1, pA->port.mac, 0x0800, 46, 7) };
		struct fr t1 = tagged(&g[1], 10);

		input(pA, g, 2);
		got_only(pB, &g[0]);
		got_only(pU, &t1);
	}
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 2, .rx_bytes = 120));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* detaching a port that is not attached changes nothing */
	{
		struct mport *x = port_new("X", false, 10, UNKNOWN);
		struct vw_fdb *before = C.sw->fdb;

		vw_switch_detach(C.sw, &x->port);
		assert_ptr_equal(C.sw->fdb, before);
	}

	/* the uplink gone: unknown unicast dropped, broadcasts stay inside */
	port_detach(pU);
	begin();
	{
		struct fr g[2] = { eth(UNKNOWN, pA->port.mac, 0x0800, 46, 8), eth(BCAST, pA->port.mac, 0x0806, 46, 9) };

		input(pA, g, 2);
		got_only(pB, &g[1]);
		got_only(pE, &g[1]);
	}
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 2, .rx_bytes = 120, .drop_unknown = 1));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	/* and back */
	assert_int_equal(port_attach(pU), 0);
	begin();
	f = eth(UNKNOWN, pA->port.mac, 0x0800, 46, 10);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* B the last VNIC left, then none: nothing is delivered */
	port_detach(pA);
	port_detach(pE);
	port_detach(pC);
	port_detach(pD);
	port_detach(pF);
	begin();
	f = eth1q(BCAST, REMOTE, 0x8100, 10, 0x0806, 46, 11);
	input1(pU, f);
	s = untag(&f);
	got_only(pB, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
	port_detach(pB);
	begin();
	input1(pU, eth1q(BCAST, REMOTE, 0x8100, 10, 0x0806, 46, 12));
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64, .drop_vlan = 1));
	rest_quiet();
}

static void test_attach_rules(void **state)
{
	struct mport *dup, *a20, *u2;
	struct fr f, s, t;

	(void)state;
	topo(true);

	/* (VID, MAC) taken */
	dup = port_new("dup", false, 10, pA->port.mac);
	assert_int_equal(port_attach(dup), -EEXIST);
	assert_int_equal(vw_switch_set_mcast(C.sw, &dup->port, NULL, 0), -ENOENT);
	dup = port_new("dup0", false, 0, pD->port.mac);
	assert_int_equal(port_attach(dup), -EEXIST);

	/* the same MAC on another VID is a different VNIC */
	a20 = port_new("A20", false, 20, pA->port.mac);
	assert_int_equal(port_attach(a20), 0);

	/* a second uplink */
	u2 = port_new("U2", true, 0, NULL);
	assert_int_equal(port_attach(u2), -EEXIST);

	begin();
	f = eth(pA->port.mac, pB->port.mac, 0x0800, 46, 1); /* from VID 10 */
	input1(pB, f);
	got_only(pA, &f);
	stats_is(pB, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	begin();
	f = eth(pA->port.mac, pC->port.mac, 0x0800, 46, 2); /* from VID 20 */
	input1(pC, f);
	got_only(a20, &f);
	stats_is(pC, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(a20, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	begin();
	f = eth1q(pA->port.mac, REMOTE, 0x8100, 20, 0x0800, 46, 3);
	input1(pU, f);
	s = untag(&f);
	got_only(a20, &s);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(a20, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();

	begin();
	f = eth(BCAST, a20->port.mac, 0x0806, 46, 4);
	input1(a20, f);
	t = tagged(&f, 20);
	got_only(pC, &f);
	got_only(pU, &t);
	stats_is(a20, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pC, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* the refused uplink gets nothing; the first one still works */
	begin();
	f = eth(UNKNOWN, pA->port.mac, 0x0800, 46, 5);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(pU, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* after detaching the uplink, another one may attach */
	port_detach(pU);
	assert_int_equal(port_attach(u2), 0);
	begin();
	f = eth(UNKNOWN, pA->port.mac, 0x0800, 46, 6);
	input1(pA, f);
	t = tagged(&f, 10);
	got_only(u2, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(u2, ST(.tx_pkts = 1, .tx_bytes = 64));
	rest_quiet();

	/* a detached MAC can be reused on the same VID */
	port_detach(pB);
	dup = port_new("B2", false, 10, pB->port.mac);
	assert_int_equal(port_attach(dup), 0);
	begin();
	f = eth(pB->port.mac, pA->port.mac, 0x0800, 46, 7);
	input1(pA, f);
	got_only(dup, &f);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(dup, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* transmit errors                                                     */

static void test_txerr(void **state)
{
	struct fr g[3], f, t;

	(void)state;
	topo(true);

	/* B takes one of three */
	pB->accept = 1;
	begin();
	g[0] = eth(pB->port.mac, pA->port.mac, 0x0800, 46, 1);
	g[1] = eth(pB->port.mac, pA->port.mac, 0x0800, 50, 2);
	g[2] = eth(pB->port.mac, pA->port.mac, 0x0800, 54, 3);
	input(pA, g, 3);
	got_only(pB, &g[0]);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 3, .rx_bytes = 60 + 64 + 68));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60, .drop_txerr = 2));
	rest_quiet();

	/* a full uplink does not stop the broadcast reaching the VNICs */
	pB->accept = -1;
	pU->accept = 0;
	begin();
	f = eth(BCAST, pA->port.mac, 0x0806, 46, 4);
	input1(pA, f);
	got_only(pB, &f);
	got_only(pE, &f);
	got_n(pU, 0);
	assert_int_equal(pU->tx_calls, 1);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pE, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.drop_txerr = 1));
	rest_quiet();

	/* partial acceptance on the uplink: tx_bytes count the tag of the taken */
	pU->accept = 2;
	begin();
	g[0] = eth(UNKNOWN, pA->port.mac, 0x0800, 46, 5);
	g[1] = eth(UNKNOWN, pA->port.mac, 0x0800, 46, 6);
	g[2] = eth(UNKNOWN, pA->port.mac, 0x0800, 46, 7);
	input(pA, g, 3);
	got_n(pU, 2);
	t = tagged(&g[0], 10);
	got_frame(pU, 0, &t);
	t = tagged(&g[1], 10);
	got_frame(pU, 1, &t);
	stats_is(pA, ST(.rx_batches = 1, .rx_pkts = 3, .rx_bytes = 180));
	stats_is(pU, ST(.tx_pkts = 2, .tx_bytes = 128, .drop_txerr = 1));
	rest_quiet();

	/* a backend that fails outright */
	pU->accept = -1;
	pE->accept = -2;
	begin();
	f = eth1q(BCAST, REMOTE, 0x8100, 10, 0x0806, 46, 8);
	input1(pU, f);
	{
		struct fr s = untag(&f);

		got_only(pA, &s);
		got_only(pB, &s);
	}
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 1, .rx_bytes = 64));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pB, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pE, ST(.drop_txerr = 1));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* scale                                                               */

#define NMANY 300

/* More distinct destinations in one batch than VW_MAX_DSTS. */
static void test_many_destinations(void **state)
{
	const uint8_t g1[1][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	struct mport **v = C.scratch[0] = calloc(NMANY, sizeof(*v));
	struct mport *v20;
	struct fr *g = C.scratch[1] = calloc(VW_BATCH, sizeof(*g));
	uint8_t mac[6];
	unsigned i;

	(void)state;
	assert_true(NMANY > VW_MAX_DSTS);
	assert_non_null(v);
	assert_non_null(g);
	for (i = 0; i < NMANY; i++) {
		char name[16];

		snprintf(name, sizeof(name), "v%u", i);
		mac_of(mac, 0x1000 + i);
		v[i] = vnic(name, 10, mac);
		if (i % 3 == 0)
			join(v[i], g1, 1);
	}
	mac_of(mac, 0x2000);
	v20 = vnic("v20", 20, mac);
	pU = uplink("U");

	/* 64 broadcasts from a VNIC: 299 VNICs and the uplink get all 64 */
	begin();
	for (i = 0; i < VW_BATCH; i++)
		g[i] = eth(BCAST, v[0]->port.mac, 0x0806, 46 + i, (uint8_t)i);
	for (i = 0; i < VW_BATCH; i++)
		model(v[0], &g[i]);
	input(v[0], g, VW_BATCH);
	verify_model();
	assert_int_equal(v[1]->nexp, VW_BATCH);
	assert_int_equal(pU->nexp, VW_BATCH);
	assert_int_equal(v20->nexp, 0);

	/* 64 broadcasts from the uplink: all 300 VNICs of VID 10 */
	begin();
	for (i = 0; i < VW_BATCH; i++)
		g[i] = eth1q(BCAST, REMOTE, 0x8100, 10, 0x0806, 46 + i, (uint8_t)(100 + i));
	for (i = 0; i < VW_BATCH; i++)
		model(pU, &g[i]);
	input(pU, g, VW_BATCH);
	verify_model();
	assert_int_equal(v[0]->nexp, VW_BATCH);
	assert_int_equal(pU->nexp, 0);

	/* a mixed batch from the uplink */
	begin();
	for (i = 0; i < VW_BATCH; i++) {
		switch (i % 5) {
		case 0:
			g[i] = eth1q(BCAST, REMOTE, 0x8100, 10, 0x0806, 46, (uint8_t)i);
			break;
		case 1:
			g[i] = eth1q(v[(i * 37) % NMANY]->port.mac, REMOTE, 0x8100, 10, 0x0800, 46 + i, (uint8_t)i);
			break;
		case 2:
			g[i] = eth1q(GRP1, REMOTE, 0x8100, 10, 0x0800, 46, (uint8_t)i);
			break;
		case 3:
			g[i] = eth1q(v20->port.mac, REMOTE, 0x8100, 20, 0x0800, 46, (uint8_t)i);
			break;
		default:
			g[i] = eth1q(v[i]->port.mac, REMOTE, 0x8100, 20, 0x0800, 46, (uint8_t)i); /* wrong VID */
			break;
		}
		model(pU, &g[i]);
	}
	input(pU, g, VW_BATCH);
	verify_model();

	/* a mixed batch from a VNIC */
	begin();
	for (i = 0; i < VW_BATCH; i++) {
		switch (i % 4) {
		case 0:
			g[i] = eth(BCAST, v[5]->port.mac, 0x0806, 46, (uint8_t)i);
			break;
		case 1:
			g[i] = eth(v[(i * 53) % NMANY]->port.mac, v[5]->port.mac, 0x0800, 46 + i, (uint8_t)i);
			break;
		case 2:
			g[i] = eth(GRP1, v[5]->port.mac, 0x0800, 46, (uint8_t)i);
			break;
		default:
			g[i] = eth(v20->port.mac, v[5]->port.mac, 0x0800, 46, (uint8_t)i); /* other VID */
			break;
		}
		model(v[5], &g[i]);
	}
	input(v[5], g, VW_BATCH);
	verify_model();
}

#define NLARGE 4096

static void test_large_switch(void **state)
{
	static const uint16_t vids[8] = { 0, 1, 10, 20, 100, 1000, 2000, 4094 };
	struct mport **v = C.scratch[0] = calloc(NLARGE, sizeof(*v));
	struct fr *g = C.scratch[1] = calloc(VW_BATCH, sizeof(*g));
	unsigned i, k, n;
	uint64_t bytes;

	(void)state;
	assert_non_null(v);
	assert_non_null(g);
	srand(12345);
	for (i = 0; i < NLARGE; i++) {
		char name[16];
		uint8_t mac[6];
		unsigned j;
		bool again;

		snprintf(name, sizeof(name), "L%u", i);
		/* random unicast MACs, distinct over the whole switch */
		do {
			for (j = 0; j < 6; j++)
				mac[j] = (uint8_t)(rand() >> 7);
			mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
			again = false;
			for (j = 0; j < i && !again; j++)
				again = !memcmp(v[j]->port.mac, mac, 6);
		} while (again);
		v[i] = vnic(name, vids[i % 8], mac);
	}
	pU = uplink("U");

	/* from the uplink, to every VNIC with its VID */
	for (i = 0; i < NLARGE; i += n) {
		begin();
		n = NLARGE - i < VW_BATCH ? NLARGE - i : VW_BATCH;
		for (k = 0; k < n; k++) {
			struct mport *d = v[i + k];

			g[k] = d->port.vid ? eth1q(d->port.mac, REMOTE, 0x8100, d->port.vid, 0x0800, 46, (uint8_t)k)
					   : eth(d->port.mac, REMOTE, 0x0800, 46, (uint8_t)k);
			model(pU, &g[k]);
		}
		input(pU, g, (int)n);
		verify_model();
		for (k = 0; k < n; k++)
			assert_int_equal(v[i + k]->ngot, 1);
	}

	/* from the uplink, every MAC with the next VID in the list: nothing */
	for (i = 0; i < NLARGE; i += n) {
		begin();
		n = NLARGE - i < VW_BATCH ? NLARGE - i : VW_BATCH;
		bytes = 0;
		for (k = 0; k < n; k++) {
			struct mport *d = v[i + k];
			uint16_t vid = vids[(i + k + 1) % 8];

			g[k] = vid ? eth1q(d->port.mac, REMOTE, 0x8100, vid, 0x0800, 46, (uint8_t)k)
				   : eth(d->port.mac, REMOTE, 0x0800, 46, (uint8_t)k);
			bytes += g[k].len;
		}
		input(pU, g, (int)n);
		stats_is(pU, ST(.rx_batches = 1, .rx_pkts = n, .rx_bytes = bytes, .drop_unknown = n));
		rest_quiet();
	}

	/* VNIC to VNIC of the same VID (the one 8 further on), and to the MAC
	 * of a VNIC of another VID (to the uplink, tagged with the sender's) */
	begin();
	for (i = 0; i < NLARGE; i++) {
		struct mport *s = v[i];

		g[0] = eth(v[(i + 8) % NLARGE]->port.mac, s->port.mac, 0x0800, 46, (uint8_t)i);
		g[1] = eth(v[(i + 3) % NLARGE]->port.mac, s->port.mac, 0x0800, 46, (uint8_t)(i + 1));
		model(s, &g[0]);
		model(s, &g[1]);
		input(s, g, 2);
	}
	verify_model();
	for (i = 0; i < NLARGE; i++)
		got_n(v[i], 1);
	got_n(pU, NLARGE);
	for (i = 0; i < NLARGE; i++)
		stats_is(v[i], ST(.rx_batches = 1, .rx_pkts = 2, .rx_bytes = 120, .tx_pkts = 1, .tx_bytes = 60));
	stats_is(pU, ST(.tx_pkts = NLARGE, .tx_bytes = 64 * NLARGE - 4 * (NLARGE / 8)));
	rest_quiet();

	/* a broadcast in VID 4094 reaches its 512 VNICs and the uplink */
	begin();
	g[0] = eth(BCAST, v[7]->port.mac, 0x0806, 46, 3);
	model(v[7], &g[0]);
	input1(v[7], g[0]);
	verify_model();
	for (i = 0, n = 0; i < NLARGE; i++)
		n += (unsigned)v[i]->ngot;
	assert_int_equal(n, NLARGE / 8 - 1);
	assert_int_equal(pU->ngot, 1);
}

/* ------------------------------------------------------------------ */
/* A stale destination-slot cache never misroutes a frame.              */

/*
 * A port remembers its queue's slot in the worker's destination table from
 * an earlier batch.  The engine must trust it only when that slot holds this
 * port's queue in the current batch.  Here C's remembered slot is forced to
 * the slot A's queue takes: from the uplink, one batch of two frames, VID 10
 * to A and VID 20 to C; each must reach its own VNIC and nothing may leak
 * into the other VLAN.
 */
static void test_fwd_stale_slot(void **state)
{
	struct fr f, g[2], s0, s1;

	(void)state;
	topo(true);

	begin();
	f = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 1);
	input1(pU, f);
	s0 = untag(&f);
	got_only(pA, &s0);

	pC->port.fwd_slot[0] = 0;
	pA->port.fwd_slot[0] = 5;
	begin();
	g[0] = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 2);
	g[1] = eth1q(pC->port.mac, REMOTE, 0x8100, 20, 0x0800, 46, 3);
	input(pU, g, 2);
	s0 = untag(&g[0]);
	s1 = untag(&g[1]);
	got_only(pA, &s0);
	got_only(pC, &s1);
	stats_is(pU, ST(.rx_batches = 1, .rx_pkts = 2, .rx_bytes = 128));
	stats_is(pA, ST(.tx_pkts = 1, .tx_bytes = 60));
	stats_is(pC, ST(.tx_pkts = 1, .tx_bytes = 60));
	rest_quiet();
}

/* ------------------------------------------------------------------ */
/* The virtio-net header travels with the frame (datapath/vnet.h).      */

/*
 * Every port of these tests records, on each write, the virtio-net
 * header of every frame it is handed (then behaves as mock_tx).  A frame is
 * fed with a header; after the call, the header left in its (shared) buffer
 * is read back too: the buffer is in the pool again but not yet reused.
 * Tagged IPv4/TCP: Ethernet 14 + tag 4 + IPv4 20 + TCP 20.
 */
#define VREC_MAX 32

struct vrec {
	const struct vw_port *port;
	struct virtio_net_hdr_v1 vnet;
};

static struct vrec vrecs[VREC_MAX];
static unsigned nvrec;

static int vnet_rec_tx(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	int i;

	for (i = 0; i < n; i++) {
		assert_true(nvrec < VREC_MAX);
		vrecs[nvrec].port = port;
		vrecs[nvrec].vnet = pkts[i]->vnet;
		nvrec++;
	}
	return mock_tx(port, pkts, n, tag);
}

static const struct vw_port_ops vnet_rec_ops = {
	.kind = "mock-vnet",
	.rx_burst = mock_rx,
	.write = vnet_rec_tx,
	.close = NULL,
};

/* The standard topology, every port recording headers. */
static void vnet_topo(void)
{
	unsigned i;

	topo(true);
	for (i = 0; i < C.nports; i++)
		C.ports[i]->port.ops = &vnet_rec_ops;
}

static void vbegin(void)
{
	begin();
	nvrec = 0;
	memset(vrecs, 0, sizeof(vrecs));
}

static struct virtio_net_hdr_v1 vh(uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
				   uint16_t csum_start, uint16_t csum_offset)
{
	struct virtio_net_hdr_v1 h;

	memset(&h, 0, sizeof(h));
	h.flags = flags;
	h.gso_type = gso_type;
	h.hdr_len = htole16(hdr_len);
	h.gso_size = htole16(gso_size);
	h.csum_start = htole16(csum_start);
	h.csum_offset = htole16(csum_offset);
	h.num_buffers = htole16(0);
	return h;
}

/* Feeds frames f[0..n) from in, frame i with header h[i], as one batch;
 * left[i] receives the header each buffer holds once the switch is done. */
static void input_vnet(struct mport *in, const struct fr *f, const struct virtio_net_hdr_v1 *h, int n,
		       struct virtio_net_hdr_v1 *left)
{
	struct vw_pkt *pkts[VW_BATCH];
	int i;

	assert_true(n > 0 && n <= VW_BATCH);
	assert_int_equal(C.f->pool.nfree, C.pool0);
	for (i = 0; i < n; i++) {
		pkts[i] = vw_pkt_alloc(&C.f->pool);
		assert_non_null(pkts[i]);
		memcpy(pkts[i]->data, f[i].b, f[i].len);
		pkts[i]->len = (uint32_t)f[i].len;
		pkts[i]->vnet = h[i];
	}
	vw_switch_input(C.f, &in->port, pkts, n);
	assert_int_equal(C.f->pool.nfree, C.pool0);
	for (i = 0; left && i < n; i++)
		left[i] = pkts[i]->vnet;
}

static void vnet_eq(const char *what, const struct virtio_net_hdr_v1 *got, const struct virtio_net_hdr_v1 *exp)
{
	if (got->flags != exp->flags || got->gso_type != exp->gso_type || got->hdr_len != exp->hdr_len ||
	    got->gso_size != exp->gso_size || got->csum_start != exp->csum_start ||
	    got->csum_offset != exp->csum_offset || got->num_buffers != exp->num_buffers)
		fail_msg("%s: virtio-net header {flags %u gso_type 0x%x hdr_len %u gso_size %u csum_start %u "
			 "csum_offset %u}, expected {flags %u gso_type 0x%x hdr_len %u gso_size %u csum_start %u "
			 "csum_offset %u}",
			 what, got->flags, got->gso_type, le16toh(got->hdr_len), le16toh(got->gso_size),
			 le16toh(got->csum_start), le16toh(got->csum_offset), exp->flags, exp->gso_type,
			 le16toh(exp->hdr_len), le16toh(exp->gso_size), le16toh(exp->csum_start),
			 le16toh(exp->csum_offset));
}

/* Every port not checked since vbegin() was handed no frame. */
static void rest_quiet_frames(void)
{
	unsigned i;

	for (i = 0; i < C.nports; i++)
		if (!C.ports[i]->got_checked && C.ports[i]->ngot)
			fail_msg("port %s received %zu unexpected frames", C.ports[i]->port.name, C.ports[i]->ngot);
}

/* The header of the k-th frame port m was handed. */
static const struct virtio_net_hdr_v1 *vnet_got(const struct mport *m, unsigned k)
{
	unsigned i, left = k;

	for (i = 0; i < nvrec; i++)
		if (vrecs[i].port == &m->port && !left--)
			return &vrecs[i].vnet;
	fail_msg("port %s was handed no frame %u", m->port.name, k);
	return NULL;
}

/* From the uplink, tagged: the switch strips the tag and moves csum_start
 * and hdr_len back by 4; the GSO fields and csum_offset stay.  TCPv4, TCPv6
 * with ECN and UDP (USO) super-frame headers, one batch, two VLANs. */
static void test_vnet_uplink_tagged_shifted(void **state)
{
	struct fr f[3], e;
	struct virtio_net_hdr_v1 h[3], x[3], left[3];
	int i;

	(void)state;
	vnet_topo();
	vbegin();
	f[0] = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 1500, 1);
	h[0] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 14 + 4 + 20 + 20, 1448, 14 + 4 + 20, 16);
	x[0] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 14 + 20 + 20, 1448, 14 + 20, 16);
	f[1] = eth1q(pC->port.mac, REMOTE, 0x8100, 20, 0x86dd, 1500, 2);
	h[1] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 14 + 4 + 40 + 32,
		  1428, 14 + 4 + 40, 16);
	x[1] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 14 + 40 + 32,
		  1428, 14 + 40, 16);
	f[2] = eth1q(pB->port.mac, REMOTE, 0x8100, 10, 0x0800, 1500, 3);
	h[2] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, 14 + 4 + 20 + 8, 1472, 14 + 4 + 20, 6);
	x[2] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, 14 + 20 + 8, 1472, 14 + 20, 6);
	input_vnet(pU, f, h, 3, left);
	e = untag(&f[0]);
	got_only(pA, &e);
	vnet_eq("TCPv4 super-frame to A", vnet_got(pA, 0), &x[0]);
	e = untag(&f[1]);
	got_only(pC, &e);
	vnet_eq("TCPv6/ECN super-frame to C", vnet_got(pC, 0), &x[1]);
	e = untag(&f[2]);
	got_only(pB, &e);
	vnet_eq("UDP (USO) super-frame to B", vnet_got(pB, 0), &x[2]);
	for (i = 0; i < 3; i++)
		vnet_eq("header left in the buffer", &left[i], &x[i]);
	assert_int_equal(nvrec, 3);
	rest_quiet_frames();
}

/* A tagged broadcast from the uplink reaches every VNIC of its VLAN with
 * the header moved once (not once per destination). */
static void test_vnet_uplink_tagged_broadcast(void **state)
{
	struct fr f, e;
	struct virtio_net_hdr_v1 h, x, left;

	(void)state;
	vnet_topo();
	vbegin();
	f = eth1q(BCAST, REMOTE, 0x8100, 10, 0x0800, 200, 4);
	h = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 14 + 4 + 20, 6);
	x = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 14 + 20, 6);
	input_vnet(pU, &f, &h, 1, &left);
	e = untag(&f);
	got_only(pA, &e);
	got_only(pB, &e);
	got_only(pE, &e);
	vnet_eq("broadcast to A", vnet_got(pA, 0), &x);
	vnet_eq("broadcast to B", vnet_got(pB, 0), &x);
	vnet_eq("broadcast to E", vnet_got(pE, 0), &x);
	vnet_eq("header left in the buffer", &left, &x);
	rest_quiet_frames();
}

/* From the uplink, untagged: nothing is inserted or removed, the header
 * goes to the VNIC as it came. */
static void test_vnet_uplink_untagged_kept(void **state)
{
	struct fr f[2];
	struct virtio_net_hdr_v1 h[2], left[2];

	(void)state;
	vnet_topo();
	vbegin();
	f[0] = eth(pD->port.mac, REMOTE, 0x0800, 1500, 5);
	h[0] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 14 + 20 + 20, 1448, 14 + 20, 16);
	f[1] = eth(pF->port.mac, REMOTE, 0x86dd, 1500, 6);
	h[1] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, 14 + 40 + 8, 1452, 14 + 40, 6);
	input_vnet(pU, f, h, 2, left);
	got_only(pD, &f[0]);
	got_only(pF, &f[1]);
	vnet_eq("untagged TCPv4 super-frame to D", vnet_got(pD, 0), &h[0]);
	vnet_eq("untagged UDPv6 super-frame to F", vnet_got(pF, 0), &h[1]);
	vnet_eq("header left in the buffer", &left[0], &h[0]);
	vnet_eq("header left in the buffer", &left[1], &h[1]);
	rest_quiet_frames();
}

/* VNIC to VNIC (with and without a VID): the header is handed on as is. */
static void test_vnet_vnic_to_vnic_kept(void **state)
{
	struct fr f;
	struct virtio_net_hdr_v1 h, left;

	(void)state;
	vnet_topo();
	vbegin();
	f = eth(pB->port.mac, pA->port.mac, 0x0800, 1500, 7);
	h = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 14 + 20 + 32, 1448,
	       14 + 20, 16);
	input_vnet(pA, &f, &h, 1, &left);
	got_only(pB, &f);
	vnet_eq("A to B (VID 10)", vnet_got(pB, 0), &h);
	vnet_eq("header left in the buffer", &left, &h);
	rest_quiet_frames();

	vbegin();
	f = eth(pF->port.mac, pD->port.mac, 0x86dd, 1500, 8);
	h = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 14 + 40 + 20, 1440, 14 + 40, 16);
	input_vnet(pD, &f, &h, 1, &left);
	got_only(pF, &f);
	vnet_eq("D to F (no VID)", vnet_got(pF, 0), &h);
	vnet_eq("header left in the buffer", &left, &h);
	rest_quiet_frames();
}

/*
 * VNIC with a VID to the uplink: the switch hands the uplink's write the
 * frame with tag set and the header as the VNIC sent it.  Moving csum_start
 * and hdr_len for the tag is the uplink backend's job, on its own copy: the
 * buffer is shared with the other destinations of a broadcast, so the
 * switch must not move the header in it.
 */
static void test_vnet_vnic_to_uplink_unshifted(void **state)
{
	struct fr f, t;
	struct virtio_net_hdr_v1 h, left;

	(void)state;
	vnet_topo();

	/* unicast to a MAC behind the uplink */
	vbegin();
	f = eth(REMOTE, pA->port.mac, 0x0800, 1500, 9);
	h = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 14 + 20 + 20, 1448, 14 + 20, 16);
	input_vnet(pA, &f, &h, 1, &left);
	t = tagged(&f, 10);
	got_only(pU, &t);
	vnet_eq("A to the uplink", vnet_got(pU, 0), &h);
	vnet_eq("header left in the buffer", &left, &h);
	rest_quiet_frames();

	/* broadcast: B and E and the uplink share the buffer */
	vbegin();
	f = eth(BCAST, pA->port.mac, 0x0800, 300, 10);
	h = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP_L4, 14 + 20 + 8, 100, 14 + 20, 6);
	input_vnet(pA, &f, &h, 1, &left);
	t = tagged(&f, 10);
	got_only(pU, &t);
	got_only(pB, &f);
	got_only(pE, &f);
	vnet_eq("broadcast from A to the uplink", vnet_got(pU, 0), &h);
	vnet_eq("broadcast from A to B", vnet_got(pB, 0), &h);
	vnet_eq("broadcast from A to E", vnet_got(pE, 0), &h);
	vnet_eq("header left in the shared buffer", &left, &h);
	rest_quiet_frames();

	/* untagged VNIC to the uplink */
	vbegin();
	f = eth(REMOTE, pD->port.mac, 0x86dd, 1500, 11);
	h = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 14 + 40 + 20, 1440, 14 + 40, 16);
	input_vnet(pD, &f, &h, 1, &left);
	got_only(pU, &f);
	vnet_eq("D to the uplink", vnet_got(pU, 0), &h);
	vnet_eq("header left in the buffer", &left, &h);
	rest_quiet_frames();
}

/*
 * Only what the header says is meaningful moves with the tag: csum_start
 * only with NEEDS_CSUM, hdr_len only when not 0.  Tagged from the uplink:
 *   - no NEEDS_CSUM, hdr_len 0 (a stale csum_start): nothing moves;
 *   - DATA_VALID only (the checksum was checked): nothing moves;
 *   - NEEDS_CSUM, hdr_len 0 (checksum offload, no GSO): csum_start moves;
 *   - no NEEDS_CSUM, hdr_len set: hdr_len moves, csum_start does not.
 */
static void test_vnet_shift_only_meaningful(void **state)
{
	struct fr f[4], e;
	struct virtio_net_hdr_v1 h[4], x[4], left[4];
	int i;

	(void)state;
	vnet_topo();
	vbegin();
	for (i = 0; i < 4; i++)
		f[i] = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 100, (uint8_t)(12 + i));
	h[0] = vh(0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 14 + 4 + 20, 16);
	x[0] = h[0];
	h[1] = vh(VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	x[1] = h[1];
	h[2] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 14 + 4 + 20, 16);
	x[2] = vh(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 14 + 20, 16);
	h[3] = vh(0, VIRTIO_NET_HDR_GSO_NONE, 14 + 4 + 20 + 20, 0, 14 + 4 + 20, 0);
	x[3] = vh(0, VIRTIO_NET_HDR_GSO_NONE, 14 + 20 + 20, 0, 14 + 4 + 20, 0);
	input_vnet(pU, f, h, 4, left);
	got_n(pA, 4);
	for (i = 0; i < 4; i++) {
		char what[64];

		e = untag(&f[i]);
		got_frame(pA, (size_t)i, &e);
		snprintf(what, sizeof(what), "case %d to A", i);
		vnet_eq(what, vnet_got(pA, (unsigned)i), &x[i]);
		snprintf(what, sizeof(what), "case %d: header left in the buffer", i);
		vnet_eq(what, &left[i], &x[i]);
	}
	rest_quiet_frames();
}

/* ------------------------------------------------------------------ */
/* Incremental table updates (attach, detach, set_mcast in place).     */

/* The table, updated in place, equals one built from scratch. */
static void table_ok(void)
{
	char why[200];

	if (vw_switch_verify(C.sw, why, sizeof(why)))
		fail_msg("table differs from a fresh build: %s", why);
}

static uint64_t rnd_state;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

static const uint8_t POOL_GROUPS[6][6] = {
	{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb }, { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
	{ 0x33, 0x33, 0xff, 0x00, 0x00, 0x0a }, { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e },
	{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x16 }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
};

/* A random set of up to MAXG groups, with repeats and now and then the
 * broadcast address (which every VNIC has already). */
static void random_join(struct mport *m)
{
	uint8_t g[MAXG][6];
	unsigned n = rnd(MAXG + 1), k;

	for (k = 0; k < n; k++)
		memcpy(g[k], POOL_GROUPS[rnd(6)], 6);
	join(m, g, n);
}

/* Sum of every port's tx counters: moves only when frames are forwarded. */
static uint64_t tx_total(void)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 0; i < C.nports; i++) {
		struct vw_port_stats s;

		vw_port_stats_sum(&C.ports[i]->port, &s);
		t += s.tx_pkts + s.tx_bytes + s.drop_txerr;
	}
	return t;
}

/* One batch of random frames from a random attached port, checked against
 * the model: known, unknown and detached MACs, broadcast and groups, of
 * every VID (from the uplink, tagged or not). */
static void random_traffic(struct mport **v, unsigned nv, const uint16_t *vids, unsigned nvids)
{
	struct fr *g = C.scratch[1];
	struct mport *in = NULL;
	unsigned i, tries;

	for (tries = 0; tries < 64 && (!in || !in->attached); tries++)
		in = rnd(8) == 0 && C.up ? C.up : v[rnd(nv)];
	if (!in || !in->attached)
		return;
	begin();
	for (i = 0; i < VW_BATCH; i++) {
		const uint8_t *dst;
		unsigned r = rnd(8);
		uint16_t vid = vids[rnd(nvids)];

		if (r < 4)
			dst = v[rnd(nv)]->port.mac;
		else if (r < 6)
			dst = POOL_GROUPS[rnd(6)];
		else if (r < 7)
			dst = BCAST;
		else
			dst = UNKNOWN;
		if (in->port.uplink && vid)
			g[i] = eth1q(dst, REMOTE, 0x8100, vid, 0x0800, 46, (uint8_t)i);
		else
			g[i] = eth(dst, in->port.uplink ? REMOTE : in->port.mac, 0x0800, 46, (uint8_t)i);
		model(in, &g[i]);
	}
	input(in, g, VW_BATCH);
	verify_model();
}

/*
 * Random attaches, detaches, group changes and uplink changes in a fixed
 * pseudo-random order: after every one the table equals a fresh build, no
 * counter moved, and now and then a random batch is forwarded exactly as
 * the model says.
 */
static void test_incremental_random(void **state)
{
	static const uint16_t vids[3] = { 0, 10, 20 };
	enum { NV = 96, NOPS = 3000 };
	struct mport **v = C.scratch[0] = calloc(NV, sizeof(*v));
	struct mport *up;
	unsigned i, op;

	(void)state;
	assert_non_null(v);
	C.scratch[1] = calloc(VW_BATCH, sizeof(struct fr));
	assert_non_null(C.scratch[1]);
	rnd_state = 0x2545f4914f6cdd1dULL;
	for (i = 0; i < NV; i++) {
		char name[16];
		uint8_t mac[6];

		snprintf(name, sizeof(name), "r%u", i);
		/* every fourth MAC repeats on another VID: a different VNIC */
		mac_of(mac, 0x3000 + (i % 4 == 3 ? i - 1 : i));
		v[i] = port_new(name, false, vids[i % 3], mac);
	}
	up = port_new("U", true, 0, NULL);
	table_ok();
	for (op = 0; op < NOPS; op++) {
		struct mport *m = v[rnd(NV)];
		uint64_t before = tx_total();
		unsigned r = rnd(16);

		if (r < 7) {
			if (m->attached) {
				assert_int_equal(port_attach(m), -EEXIST);
			} else {
				assert_int_equal(port_attach(m), 0);
				if (rnd(2))
					random_join(m);
			}
		} else if (r < 11) {
			if (m->attached)
				port_detach(m);
			else
				vw_switch_detach(C.sw, &m->port); /* no-op */
		} else if (r < 14) {
			if (m->attached)
				random_join(m);
			else
				assert_int_equal(vw_switch_set_mcast(C.sw, &m->port, NULL, 0), -ENOENT);
		} else if (r < 15) {
			if (up->attached)
				port_detach(up);
			else
				assert_int_equal(port_attach(up), 0);
		} else {
			random_traffic(v, NV, vids, 3);
			continue;
		}
		table_ok();
		assert_int_equal(tx_total(), before);
	}
	/* everything off: the table is empty again */
	for (i = 0; i < NV; i++)
		if (v[i]->attached)
			port_detach(v[i]);
	if (up->attached)
		port_detach(up);
	table_ok();
	assert_int_equal(C.sw->nports, 0);
	/* and everything back, in another order: the same as a fresh build */
	for (i = NV; i-- > 0;)
		if (i % 2 == 0) {
			assert_int_equal(port_attach(v[i]), 0);
			random_join(v[i]);
		}
	assert_int_equal(port_attach(up), 0);
	table_ok();
	for (i = 0; i < 20; i++)
		random_traffic(v, NV, vids, 3);
}

/*
 * A switch of 16,384 VNICs: attached one by one with few table rebuilds
 * (the table grows by doubling, not on every attach), forwarding to all of
 * them, then detached in a random order with groups and re-attaches in
 * between, the table equal to a fresh build all along.
 */
#define NHUGE 16384

static void test_incremental_16k(void **state)
{
	struct mport **v = C.scratch[0] = calloc(NHUGE, sizeof(*v));
	struct fr *g = C.scratch[1] = calloc(VW_BATCH, sizeof(struct fr));
	unsigned *order = calloc(NHUGE, sizeof(*order));
	unsigned i, k, n, rebuilds;
	struct fr untagged;

	(void)state;
	assert_non_null(v);
	assert_non_null(g);
	assert_non_null(order);
	rnd_state = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < NHUGE; i++) {
		char name[16];
		uint8_t mac[6];

		snprintf(name, sizeof(name), "H%u", i);
		mac_of(mac, 0x100000 + i);
		v[i] = vnic(name, (uint16_t)(1 + i % 8), mac);
		if (i % 64 == 0)
			random_join(v[i]);
	}
	pU = uplink("U");
	table_ok();
	/* 16,385 attaches: a rebuild per doubling of the table or of the
	 * per-worker arrays, not one per attach */
	rebuilds = C.sw->rebuilds;
	assert_true(rebuilds <= 40);
	assert_int_equal(C.sw->nports, NHUGE);

	/* from the uplink to every VNIC, tagged with its VID */
	for (i = 0; i < NHUGE; i += n) {
		begin();
		n = NHUGE - i < VW_BATCH ? NHUGE - i : VW_BATCH;
		for (k = 0; k < n; k++) {
			struct mport *d = v[i + k];

			g[k] = eth1q(d->port.mac, REMOTE, 0x8100, d->port.vid, 0x0800, 46, (uint8_t)k);
		}
		input(pU, g, (int)n);
		for (k = 0; k < n; k++) {
			untagged = untag(&g[k]);
			got_only(v[i + k], &untagged);
		}
	}

	/* detach in a random order, re-attaching now and then */
	for (i = 0; i < NHUGE; i++)
		order[i] = i;
	for (i = NHUGE - 1; i > 0; i--) {
		unsigned j = rnd(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < NHUGE; i++) {
		struct mport *m = v[order[i]];

		port_detach(m);
		if (i % 7 == 0) {
			struct mport *b = v[order[rnd(i + 1)]];

			if (!b->attached) {
				assert_int_equal(port_attach(b), 0);
				random_join(b);
			}
		}
		if (i % 1024 == 0) {
			table_ok();
			begin();
			for (k = 0; k < VW_BATCH; k++) {
				struct mport *d = v[rnd(NHUGE)];

				g[k] = eth1q(k % 8 ? d->port.mac : BCAST, REMOTE, 0x8100, d->port.vid, 0x0800, 46,
					     (uint8_t)k);
				model(pU, &g[k]);
			}
			input(pU, g, VW_BATCH);
			verify_model();
		}
	}
	table_ok();
	for (i = 0; i < NHUGE; i++)
		if (v[i]->attached)
			port_detach(v[i]);
	table_ok();
	assert_int_equal(C.sw->nports, 0);
	free(order);
}

/* Attach refuses what it cannot take, and leaves the table as it was. */
static void test_attach_errors(void **state)
{
	static const uint8_t mcmac[6] = { 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
	struct vw_switch *other;
	struct mport *x;

	(void)state;
	topo(true);
	/* a VNIC with a multicast address */
	x = port_new("M", false, 10, mcmac);
	assert_int_equal(port_attach(x), -EINVAL);
	/* a port attached to another switch */
	other = vw_switch_new("sw1");
	assert_non_null(other);
	x = port_new("O", false, 10, UNKNOWN);
	assert_int_equal(vw_switch_attach(other, &x->port), 0);
	assert_int_equal(port_attach(x), -EBUSY);
	assert_int_equal(vw_switch_set_mcast(C.sw, &x->port, NULL, 0), -ENOENT);
	vw_switch_detach(C.sw, &x->port); /* not ours: nothing happens */
	assert_int_equal(vw_switch_verify(other, NULL, 0), 0);
	vw_switch_detach(other, &x->port);
	vw_switch_free(other);
	/* now it may come here */
	assert_int_equal(port_attach(x), 0);
	table_ok();
}

/* ------------------------------------------------------------------ */
/* A worker forwarding while the control thread changes the table.      */

/*
 * One thread forwards batches from the uplink as worker 0 (it announces a
 * quiescent state after each, as a worker does), the test thread attaches,
 * detaches and changes groups meanwhile.  Whatever it sees of a change in
 * progress, a VNIC must only get frames of its own VID, and a unicast frame
 * only if it is addressed to it.  Under ASan this also catches a table or
 * list freed while the worker may still read it.
 */
struct conc {
	struct vw_fwd *f;
	struct mport *up;
	struct fr *g;
	unsigned ng;
	int stop;
	uint64_t batches, bad, delivered;
};

static struct conc CC;

static int conc_tx(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	int i;

	(void)tag;
	for (i = 0; i < n; i++) {
		const uint8_t *d = pkts[i]->data;

		if (!port->uplink && (pkts[i]->vid != port->vid || (!(d[0] & 1) && memcmp(d, port->mac, 6))))
			__atomic_add_fetch(&CC.bad, 1, __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&CC.delivered, (uint64_t)n, __ATOMIC_RELAXED);
	return n;
}

static const struct vw_port_ops conc_ops = {
	.kind = "conc",
	.rx_burst = mock_rx,
	.write = conc_tx,
	.close = NULL,
};

static void *conc_worker(void *arg)
{
	unsigned next = 0;

	(void)arg;
	vw_worker_self = 0;
	vw_rcu_online(0);
	while (!__atomic_load_n(&CC.stop, __ATOMIC_ACQUIRE)) {
		struct vw_pkt *pkts[VW_BATCH];
		int i;

		for (i = 0; i < VW_BATCH; i++) {
			const struct fr *fr = &CC.g[next++ % CC.ng];

			pkts[i] = vw_pkt_alloc(&CC.f->pool);
			memcpy(pkts[i]->data, fr->b, fr->len);
			pkts[i]->len = (uint32_t)fr->len;
		}
		vw_switch_input(CC.f, &CC.up->port, pkts, VW_BATCH);
		__atomic_add_fetch(&CC.batches, 1, __ATOMIC_RELEASE);
		vw_rcu_quiesce(0);
	}
	vw_rcu_offline(0);
	return NULL;
}

/* Waits until the worker has forwarded a few more batches. */
static void conc_progress(void)
{
	uint64_t b = __atomic_load_n(&CC.batches, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&CC.batches, __ATOMIC_ACQUIRE) < b + 2)
		sched_yield();
}

static void test_concurrent_updates(void **state)
{
	static const uint16_t vids[4] = { 0, 10, 20, 30 };
	enum { NV = 200, NOPS = 4000 };
	struct mport **v = C.scratch[0] = calloc(NV, sizeof(*v));
	pthread_t th;
	unsigned i, op;

	(void)state;
	assert_non_null(v);
	memset(&CC, 0, sizeof(CC));
	CC.f = C.scratch[1] = malloc(sizeof(*CC.f));
	assert_non_null(CC.f);
	assert_int_equal(vw_fwd_init(CC.f, 0, 256), 0);
	CC.ng = 4 * NV;
	CC.g = calloc(CC.ng, sizeof(*CC.g));
	assert_non_null(CC.g);
	rnd_state = 0x853c49e6748fea9bULL;
	for (i = 0; i < NV; i++) {
		char name[16];
		uint8_t mac[6];

		snprintf(name, sizeof(name), "c%u", i);
		mac_of(mac, 0x5000 + i);
		v[i] = port_new(name, false, vids[i % 4], mac);
		v[i]->port.ops = &conc_ops;
	}
	CC.up = port_new("U", true, 0, NULL);
	CC.up->port.ops = &conc_ops;
	assert_int_equal(port_attach(CC.up), 0);
	/* frames to every VNIC, with its VID and with the next one's, plus
	 * broadcasts and groups of every VID */
	for (i = 0; i < CC.ng; i++) {
		struct mport *d = v[i % NV];
		uint16_t vid = i / NV == 1 ? vids[(i + 1) % 4] : d->port.vid;
		const uint8_t *dst = i / NV == 2 ? BCAST : i / NV == 3 ? POOL_GROUPS[i % 6] : d->port.mac;

		CC.g[i] = vid ? eth1q(dst, REMOTE, 0x8100, vid, 0x0800, 46, (uint8_t)i)
			      : eth(dst, REMOTE, 0x0800, 46, (uint8_t)i);
	}

	__atomic_store_n(&vw_rcu_nworkers, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_create(&th, NULL, conc_worker, NULL), 0);
	for (op = 0; op < NOPS; op++) {
		struct mport *m = v[rnd(NV)];

		if (!m->attached) {
			assert_int_equal(port_attach(m), 0);
			if (rnd(2))
				random_join(m);
		} else if (rnd(3)) {
			port_detach(m);
		} else {
			random_join(m);
		}
		if (op % 200 == 0)
			conc_progress();
	}
	conc_progress();
	__atomic_store_n(&CC.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	__atomic_store_n(&vw_rcu_nworkers, 0, __ATOMIC_RELEASE);

	assert_int_equal(CC.bad, 0);
	assert_true(CC.delivered > 0);
	assert_int_equal(CC.f->pool.nfree, 256);
	table_ok();
	vw_fwd_fini(CC.f);
	free(CC.g);
}

/* ------------------------------------------------------------------ */
/* observers (datapath/observe.h)                                      */

struct rec_obs {
	struct vw_obs obs;
	unsigned n[3]; /* by direction: [VW_OBS_IN], [VW_OBS_OUT] */
	struct fr last[3];
	int worker;
};

static void rec_obs_fn(struct vw_obs *o, int w, struct vw_port *port, unsigned dir, struct vw_pkt **pkts, int n,
		       bool tagged)
{
	struct rec_obs *r = (struct rec_obs *)o;
	int i;

	(void)port;
	r->worker = w;
	for (i = 0; i < n; i++) {
		r->last[dir].len = vw_obs_copy(pkts[i], tagged, r->last[dir].b, sizeof(r->last[dir].b));
		assert_int_equal(r->last[dir].len, vw_obs_len(pkts[i], tagged));
		r->n[dir]++;
	}
}

static void frame_is(const struct fr *got, const struct fr *want)
{
	assert_int_equal(got->len, want->len);
	assert_memory_equal(got->b, want->b, want->len);
}

/* Observers see what their link sends and receives, in the link's terms
 * and as on the link (an uplink's frames with their tag); one that wants
 * one direction sees only that one; once removed, nothing. */
static void test_observe(void **state)
{
	struct rec_obs a = { .obs = { rec_obs_fn, VW_OBS_IN | VW_OBS_OUT } };
	struct rec_obs b = { .obs = { rec_obs_fn, VW_OBS_IN } };
	struct rec_obs u = { .obs = { rec_obs_fn, VW_OBS_IN | VW_OBS_OUT } };
	struct fr f, t;

	(void)state;
	topo(true);
	assert_int_equal(vw_obs_add(&pA->port, &a.obs), 0);
	assert_int_equal(vw_obs_add(&pA->port, &a.obs), -EEXIST);
	assert_int_equal(vw_obs_add(&pB->port, &b.obs), 0);
	assert_int_equal(vw_obs_add(&pU->port, &u.obs), 0);
	assert_int_equal(vw_obs_count(&pA->port), 1);
	assert_int_equal(vw_obs_ports, 3);

	/* A -> B: A sent it, B received it */
	begin();
	f = eth(pB->port.mac, pA->port.mac, 0x0800, 46, 1);
	input1(pA, f);
	got_only(pB, &f);
	assert_int_equal(a.n[VW_OBS_OUT], 1);
	assert_int_equal(a.n[VW_OBS_IN], 0);
	frame_is(&a.last[VW_OBS_OUT], &f);
	assert_int_equal(b.n[VW_OBS_IN], 1);
	frame_is(&b.last[VW_OBS_IN], &f);
	assert_int_equal(a.worker, 0);

	/* B -> A: B's observer wants only what B receives */
	begin();
	f = eth(pA->port.mac, pB->port.mac, 0x0800, 46, 2);
	input1(pB, f);
	assert_int_equal(b.n[VW_OBS_OUT], 0);
	assert_int_equal(a.n[VW_OBS_IN], 1);
	frame_is(&a.last[VW_OBS_IN], &f);

	/* A to a remote MAC: on the wire with A's tag (VID 10) */
	begin();
	f = eth(REMOTE, pA->port.mac, 0x0800, 46, 3);
	input1(pA, f);
	t = eth1q(REMOTE, pA->port.mac, 0x8100, 10, 0x0800, 46, 3);
	assert_int_equal(a.n[VW_OBS_OUT], 2);
	assert_int_equal(u.n[VW_OBS_OUT], 1);
	frame_is(&u.last[VW_OBS_OUT], &t);

	/* from the wire, tagged 10, to A: the uplink received it tagged, A
	 * untagged */
	begin();
	f = eth1q(pA->port.mac, REMOTE, 0x8100, 10, 0x0800, 46, 4);
	input1(pU, f);
	assert_int_equal(u.n[VW_OBS_IN], 1);
	frame_is(&u.last[VW_OBS_IN], &f);
	t = untag(&f);
	assert_int_equal(a.n[VW_OBS_IN], 2);
	frame_is(&a.last[VW_OBS_IN], &t);

	/* a truncated copy still tells the frame's length */
	{
		uint8_t small[20];
		struct vw_pkt pkt;

		memset(&pkt, 0, sizeof(pkt));
		pkt.data = pkt.buf;
		t = untag(&f);
		memcpy(pkt.buf, t.b, t.len);
		pkt.len = (uint32_t)t.len;
		pkt.vid = 10;
		assert_int_equal(vw_obs_copy(&pkt, true, small, sizeof(small)), f.len);
		assert_memory_equal(small, f.b, sizeof(small));
		assert_int_equal(vw_obs_copy(&pkt, false, small, sizeof(small)), t.len);
	}

	/* removed: nothing more, and no port has observers */
	assert_int_equal(vw_obs_del(&pA->port, &a.obs), 0);
	assert_int_equal(vw_obs_del(&pA->port, &a.obs), -ENOENT);
	assert_int_equal(vw_obs_del(&pB->port, &b.obs), 0);
	assert_int_equal(vw_obs_del(&pU->port, &u.obs), 0);
	assert_int_equal(vw_obs_ports, 0);
	assert_null(pA->port.obs);
	begin();
	input1(pA, eth(pB->port.mac, pA->port.mac, 0x0800, 46, 5));
	assert_int_equal(a.n[VW_OBS_OUT], 2);
	assert_int_equal(b.n[VW_OBS_IN], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unicast_same_vid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unicast_other_vid_uplink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unicast_other_vid_etherstub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_fanout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_etherstub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multicast_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multicast_etherstub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multicast_duplicate_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_broadcast_multicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnic_tagged_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_vlan_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txerr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fwd_stale_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_uplink_tagged_shifted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_uplink_tagged_broadcast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_uplink_untagged_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_vnic_to_vnic_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_vnic_to_uplink_unshifted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_shift_only_meaningful, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incremental_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incremental_16k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_updates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
