/*
 * Unit tests for objects/lacp.c: the LACP engine of one aggregation.
 *
 * The codec is checked byte by byte against a hand-written LACPDU and
 * Marker Response.  The machines are checked by wiring engines back to back
 * in memory (member i of one to member j of another), on fake time: the
 * simulation jumps from deadline to deadline as lacp_run() reports them,
 * delivering every frame sent at once, so any timer the engine forgets to
 * report shows as a test that never converges.  Always checked on the way:
 * a call to lacp_run() before its deadline with nothing new sends nothing
 * and reports the same deadline; a deadline is after now; no member sends
 * more than LACP_TX_MAX LACPDUs in any LACP_FAST_PERIODIC_MS; every LACPDU
 * sent parses back; a member that distributes is selected, up, attached and
 * sees its partner in sync.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "objects/lacp.h"

#define MAXNODES 3
#define MAXWIRES 8
#define MAXOUT 64
#define NEVER UINT64_MAX

/* One engine and what it sent. */
struct node {
	struct lacp *l;
	uint8_t id;
	uint64_t deadline;
	bool dirty; /* an event since its last lacp_run() */
	struct {
		unsigned idx;
		size_t n;
		uint8_t f[LACP_FRAME_LEN];
	} out[MAXOUT];
	int nout;
	unsigned ntx[LACP_MAX_PORTS];
	uint64_t txring[LACP_MAX_PORTS][LACP_TX_MAX]; /* last LACP_TX_MAX sends */
	uint64_t last_rx[LACP_MAX_PORTS];             /* last LACPDU delivered */
	uint8_t last_frame[LACP_MAX_PORTS][LACP_FRAME_LEN]; /* last LACPDU sent */
};

/* A cable: frames sent on one end reach the other unless it is down or
 * that direction is muted. */
struct wire {
	struct node *a, *b;
	unsigned ai, bi;
	bool down, mute_a, mute_b; /* mute_a: what a sends is lost */
};

static struct {
	uint64_t now;
	struct node node[MAXNODES];
	int nn;
	struct wire wire[MAXWIRES];
	int nw;
} W;

#include "tests/unit/rng.h"

static void world_reset(void)
{
	for (int i = 0; i < W.nn; i++)
		lacp_free(W.node[i].l);
	memset(&W, 0, sizeof(W));
}

static int teardown(void **state)
{
	(void)state;
	world_reset();
	return 0;
}

static struct node *node_new(uint8_t id, enum lacp_mode mode, enum lacp_timer timer)
{
	struct lacp_actor_cfg cfg = {
		.sys_mac = { 0x02, 0, 0, 0, 0, id },
		.sys_prio = 0x8000,
		.key = 0x1234,
		.mode = mode,
		.timer = timer,
	};
	struct node *n = &W.node[W.nn++];

	assert_true(W.nn <= MAXNODES);
	n->id = id;
	n->l = lacp_new(&cfg);
	assert_non_null(n->l);
	n->deadline = NEVER;
	n->dirty = true;
	return n;
}

static void member_mac(const struct node *n, unsigned idx, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x02, 0, 0, n->id, 0x01, (uint8_t)idx };

	memcpy(mac, m, 6);
}

static void port_add(struct node *n, unsigned idx, bool carrier)
{
	uint8_t mac[6];

	member_mac(n, idx, mac);
	assert_int_equal(lacp_port_add(n->l, idx, mac, (uint16_t)(idx + 1), carrier, W.now), 0);
	n->dirty = true;
}

static void carrier(struct node *n, unsigned idx, bool up)
{
	lacp_carrier(n->l, idx, up, W.now);
	n->dirty = true;
}

static struct wire *wire(struct node *a, unsigned ai, struct node *b, unsigned bi)
{
	struct wire *w = &W.wire[W.nw++];

	assert_true(W.nw <= MAXWIRES);
	*w = (struct wire){ .a = a, .ai = ai, .b = b, .bi = bi };
	return w;
}

static struct lacp_port_info info(const struct node *n, unsigned idx)
{
	struct lacp_port_info pi;

	lacp_port_info(n->l, idx, &pi);
	return pi;
}

static bool up(const struct node *n, unsigned idx)
{
	return lacp_collecting(n->l, idx) && lacp_distributing(n->l, idx);
}

/* What must hold of any member at any time. */
static void check_invariants(const struct node *n)
{
	for (unsigned i = 0; i < LACP_MAX_PORTS; i++) {
		struct lacp_port_info pi = info(n, i);

		assert_true(lacp_collecting(n->l, i) == lacp_distributing(n->l, i));
		if (!pi.member) {
			assert_false(lacp_collecting(n->l, i));
			continue;
		}
		if (pi.distributing)
			assert_true(pi.carrier);
		if (pi.distributing && strcmp(pi.rx_state, "LACP_DISABLED")) {
			assert_true(pi.selected);
			assert_string_equal(pi.mux_state, "COLLECTING_DISTRIBUTING");
			assert_true(pi.partner.state & LACP_STATE_SYNC);
			assert_int_equal(pi.actor.state & (LACP_STATE_SYNC | LACP_STATE_COLLECTING |
							   LACP_STATE_DISTRIBUTING),
					 LACP_STATE_SYNC | LACP_STATE_COLLECTING | LACP_STATE_DISTRIBUTING);
		}
		if (!pi.carrier)
			assert_false(pi.selected);
	}
}

static void on_send(void *arg, unsigned idx, const uint8_t *f, size_t len)
{
	struct node *n = arg;
	struct lacp_pdu pdu;
	uint8_t mac[6];
	unsigned k = n->ntx[idx];

	assert_true(idx < LACP_MAX_PORTS);
	assert_int_equal(len, LACP_FRAME_LEN);
	assert_int_equal(lacp_pdu_parse(f, len, &pdu), 0);
	member_mac(n, idx, mac);
	assert_memory_equal(f + 6, mac, 6);
	/* the rate limit, over a sliding window */
	if (k >= LACP_TX_MAX)
		assert_true(W.now - n->txring[idx][k % LACP_TX_MAX] >= LACP_FAST_PERIODIC_MS);
	n->txring[idx][k % LACP_TX_MAX] = W.now;
	n->ntx[idx]++;
	memcpy(n->last_frame[idx], f, len);
	assert_true(n->nout < MAXOUT);
	n->out[n->nout].idx = idx;
	n->out[n->nout].n = len;
	memcpy(n->out[n->nout].f, f, len);
	n->nout++;
}

static void run_node(struct node *n)
{
	int before = n->nout;
	uint64_t old = n->deadline, d = lacp_run(n->l, W.now, on_send, n);

	if (!n->dirty && W.now < old) {
		assert_int_equal(n->nout, before);
		assert_true(d == old);
	}
	assert_true(d > W.now);
	n->deadline = d;
	n->dirty = false;
	check_invariants(n);
}

/* A frame for member idx of n, as the datapath would hand it. */
static int inject(struct node *n, unsigned idx, const uint8_t *f, size_t len)
{
	uint8_t resp[LACP_FRAME_LEN];
	int rc = lacp_rx(n->l, idx, f, len, W.now, resp, sizeof(resp));

	n->dirty = true;
	if (rc > 0) {
		assert_true(n->nout < MAXOUT);
		n->out[n->nout].idx = idx;
		n->out[n->nout].n = (size_t)rc;
		memcpy(n->out[n->nout].f, resp, (size_t)rc);
		n->nout++;
	}
	check_invariants(n);
	return rc;
}

/* Moves every queued frame over its wire; whether any arrived. */
static bool deliver(void)
{
	bool any = false;

	for (int i = 0; i < W.nn; i++) {
		struct node *n = &W.node[i];
		int nout = n->nout;

		n->nout = 0;
		for (int k = 0; k < nout; k++) {
			for (int j = 0; j < W.nw; j++) {
				struct wire *w = &W.wire[j];
				struct node *to = NULL;
				unsigned ti = 0;

				if (w->down)
					continue;
				if (w->a == n && w->ai == n->out[k].idx && !w->mute_a) {
					to = w->b;
					ti = w->bi;
				} else if (w->b == n && w->bi == n->out[k].idx && !w->mute_b) {
					to = w->a;
					ti = w->ai;
				}
				if (!to)
					continue;
				if (inject(to, ti, n->out[k].f, n->out[k].n) == 0)
					to->last_rx[ti] = W.now;
				any = true;
			}
		}
	}
	return any;
}

/* Runs every engine at W.now and passes frames until none is left. */
static void settle(void)
{
	for (int round = 0;; round++) {
		assert_true(round < 100);
		for (int i = 0; i < W.nn; i++)
			run_node(&W.node[i]);
		if (!deliver())
			break;
	}
}

static uint64_t next_deadline(void)
{
	uint64_t d = NEVER;

	for (int i = 0; i < W.nn; i++)
		if (W.node[i].deadline < d)
			d = W.node[i].deadline;
	return d;
}

/* Runs from deadline to deadline until pred() holds (the time then) or
 * until limit (NEVER: pred() never held). */
static uint64_t sim_wait(bool (*pred)(void), uint64_t limit)
{
	settle();
	for (;;) {
		uint64_t next;

		if (pred && pred())
			return W.now;
		next = next_deadline();
		if (next > limit)
			break;
		W.now = next;
		settle();
	}
	W.now = limit;
	settle();
	return pred && pred() ? W.now : NEVER;
}

static void sim_until(uint64_t t)
{
	sim_wait(NULL, t);
}

/* Runs every engine every step ms, not only at deadlines. */
static void sim_steps(uint64_t t, uint64_t step)
{
	while (W.now + step <= t) {
		W.now += step;
		settle();
	}
}

/* Both ends of every wire up and not down. */
static bool wires_up(void)
{
	for (int j = 0; j < W.nw; j++) {
		const struct wire *w = &W.wire[j];

		if (!w->down && (!up(w->a, w->ai) || !up(w->b, w->bi)))
			return false;
	}
	return true;
}

/* n's members and their wires to m's members of the same index. */
static void pair(struct node *n, struct node *m, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		port_add(n, i, true);
		port_add(m, i, true);
		wire(n, i, m, i);
	}
}

/* Field by field: a struct's padding is not its value. */
static void peer_equal(const struct lacp_peer *x, const struct lacp_peer *y)
{
	assert_int_equal(x->sys_prio, y->sys_prio);
	assert_memory_equal(x->sys_mac, y->sys_mac, 6);
	assert_int_equal(x->key, y->key);
	assert_int_equal(x->port_prio, y->port_prio);
	assert_int_equal(x->port_no, y->port_no);
	assert_int_equal(x->state, y->state);
}

static void capture(void *arg, unsigned idx, const uint8_t *f, size_t len)
{
	uint8_t *buf = arg;

	assert_int_equal(idx, 0);
	assert_int_equal(len, LACP_FRAME_LEN);
	memcpy(buf, f, len);
}

/* The first LACPDU of a new active member: every octet as 802.1AX-2014
 * 6.4.2 lays it out. */
static void test_pdu_layout(void **state)
{
	static const uint8_t expect[LACP_FRAME_LEN] = {
		0x01, 0x80, 0xc2, 0x00, 0x00, 0x02,       /* Slow Protocols group address */
		0x02, 0x00, 0x00, 0x0a, 0x01, 0x00,       /* the member's MAC */
		0x88, 0x09,                               /* Slow Protocols */
		0x01, 0x01,                               /* LACP, version 1 */
		0x01, 0x14,                               /* Actor Information, 20 */
		0x80, 0x00,                               /* system priority */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,       /* system */
		0x12, 0x34,                               /* key */
		0x00, 0xff,                               /* port priority */
		0x00, 0x01,                               /* port */
		0xc7,                                     /* active short aggregatable defaulted expired */
		0x00, 0x00, 0x00,                         /* reserved */
		0x02, 0x14,                               /* Partner Information, 20 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02,                                     /* EXPIRED: partner short */
		0x00, 0x00, 0x00,
		0x03, 0x10,                               /* Collector Information, 16 */
		0x00, 0x00,                               /* max delay */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00,                               /* Terminator */
		/* 50 reserved octets of 0 */
	};
	struct lacp_pdu pdu, back;
	uint8_t f[LACP_FRAME_LEN], g[LACP_FRAME_LEN + 8];
	struct node *a;

	(void)state;
	a = node_new(0x0a, LACP_ACTIVE, LACP_SHORT);
	port_add(a, 0, true);
	memset(f, 0xee, sizeof(f));
	lacp_run(a->l, 0, capture, f);
	assert_memory_equal(f, expect, sizeof(expect));

	/* decode, encode: the same octets */
	assert_int_equal(lacp_pdu_parse(f, sizeof(f), &pdu), 0);
	assert_int_equal(pdu.version, 1);
	assert_int_equal(pdu.actor.sys_prio, 0x8000);
	assert_int_equal(pdu.actor.key, 0x1234);
	assert_int_equal(pdu.actor.port_prio, LACP_PORT_PRIO);
	assert_int_equal(pdu.actor.port_no, 1);
	assert_int_equal(pdu.actor.state, 0xc7);
	assert_int_equal(pdu.partner.state, LACP_STATE_TIMEOUT);
	memset(g, 0xee, sizeof(g));
	assert_int_equal(lacp_pdu_build(g, sizeof(g), f + 6, &pdu), LACP_FRAME_LEN);
	assert_memory_equal(g, expect, sizeof(expect));
	assert_int_equal(g[LACP_FRAME_LEN], 0xee);
	assert_int_equal(lacp_pdu_build(g, LACP_FRAME_LEN - 1, f + 6, &pdu), -ENOSPC);

	/* every field distinct, both ways */
	pdu = (struct lacp_pdu){
		.version = 1,
		.actor = { 0x0102, { 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 }, 0x090a, 0x0b0c, 0x0d0e, 0x3d },
		.partner = { 0x1112, { 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 }, 0x191a, 0x1b1c, 0x1d1e, 0xa2 },
		.collector_max_delay = 0x2122,
	};
	assert_int_equal(lacp_pdu_build(f, sizeof(f), f + 6, &pdu), LACP_FRAME_LEN);
	assert_int_equal(f[20], 0x03);
	assert_int_equal(f[32], 0x3d);
	assert_int_equal(f[40], 0x13);
	assert_int_equal(f[52], 0xa2);
	assert_int_equal(f[58], 0x21);
	memset(&back, 0, sizeof(back));
	assert_int_equal(lacp_pdu_parse(f, sizeof(f), &back), 0);
	assert_int_equal(back.version, 1);
	peer_equal(&back.actor, &pdu.actor);
	peer_equal(&back.partner, &pdu.partner);
	assert_int_equal(back.collector_max_delay, 0x2122);
	/* with an FCS or padding after it */
	memcpy(g, f, sizeof(f));
	assert_int_equal(lacp_pdu_parse(g, sizeof(g), &back), 0);
}

static void test_active_active(void **state)
{
	struct node *a, *b;
	struct lacp_port_info pi;
	uint64_t t;
	unsigned ntx;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	t = sim_wait(wires_up, 3000);
	/* no sooner than Aggregate_Wait_Time, no later than 3 s */
	assert_true(t >= LACP_AGGREGATE_WAIT_MS && t <= 3000);
	for (unsigned i = 0; i < 2; i++) {
		pi = info(a, i);
		assert_true(pi.member && pi.carrier && pi.selected);
		assert_string_equal(pi.rx_state, "CURRENT");
		assert_string_equal(pi.mux_state, "COLLECTING_DISTRIBUTING");
		assert_string_equal(pi.periodic_state, "FAST_PERIODIC");
		assert_int_equal(pi.actor.state, LACP_STATE_ACTIVITY | LACP_STATE_TIMEOUT | LACP_STATE_AGGREGATION |
							 LACP_STATE_SYNC | LACP_STATE_COLLECTING |
							 LACP_STATE_DISTRIBUTING);
		assert_int_equal(pi.actor.port_no, i + 1);
		assert_int_equal(pi.partner.port_no, i + 1);
		assert_int_equal(pi.partner.sys_mac[5], 2);
		assert_int_equal(pi.partner.key, 0x1234);
		assert_int_equal(pi.partner.state & (LACP_STATE_SYNC | LACP_STATE_DISTRIBUTING),
				 LACP_STATE_SYNC | LACP_STATE_DISTRIBUTING);
		assert_int_equal(pi.rx_malformed, 0);
		assert_true(pi.rx_lacpdu > 0 && pi.tx_lacpdu > 0);
	}
	/* it stays up, one LACPDU a second each */
	ntx = a->ntx[0];
	assert_int_equal(sim_wait(NULL, t + 60000), NEVER);
	assert_true(wires_up());
	assert_true(a->ntx[0] - ntx >= 59 && a->ntx[0] - ntx <= 61);
	assert_int_equal(info(a, 0).tx_lacpdu, a->ntx[0]);
	assert_int_equal(info(b, 1).rx_lacpdu, a->ntx[1]);
}

static void test_active_passive(void **state)
{
	struct node *a, *b;
	uint64_t t;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_PASSIVE, LACP_SHORT);
	/* the passive side alone for 10 s says nothing */
	port_add(b, 0, true);
	port_add(b, 1, true);
	wire(a, 0, b, 0);
	wire(a, 1, b, 1);
	sim_until(10000);
	assert_int_equal(b->ntx[0] + b->ntx[1], 0);
	assert_string_equal(info(b, 0).periodic_state, "NO_PERIODIC");
	assert_string_equal(info(b, 0).rx_state, "DEFAULTED");
	/* the active side comes */
	port_add(a, 0, true);
	port_add(a, 1, true);
	t = sim_wait(wires_up, 13000);
	assert_true(t != NEVER && t >= 12000);
	assert_true(b->ntx[0] > 0);
	assert_false(info(b, 0).actor.state & LACP_STATE_ACTIVITY);
	assert_true(info(a, 0).actor.state & LACP_STATE_ACTIVITY);
	assert_string_equal(info(b, 0).periodic_state, "FAST_PERIODIC");
	assert_false(info(a, 0).partner.state & LACP_STATE_ACTIVITY);
	sim_until(40000);
	assert_true(wires_up());

	/* the same with both sides there from the start, the active one
	 * added last */
	world_reset();
	b = node_new(2, LACP_PASSIVE, LACP_LONG);
	a = node_new(1, LACP_ACTIVE, LACP_LONG);
	pair(b, a, 2);
	t = sim_wait(wires_up, 3000);
	assert_true(t != NEVER);
	sim_until(200000);
	assert_true(wires_up());
}

static void test_passive_passive(void **state)
{
	struct node *a, *b;

	(void)state;
	a = node_new(1, LACP_PASSIVE, LACP_SHORT);
	b = node_new(2, LACP_PASSIVE, LACP_SHORT);
	pair(a, b, 2);
	sim_until(200000);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(a->ntx[i] + b->ntx[i], 0);
		assert_false(up(a, i) || up(b, i));
		assert_string_equal(info(a, i).periodic_state, "NO_PERIODIC");
		assert_string_equal(info(a, i).rx_state, "DEFAULTED");
		assert_false(info(a, i).selected);
	}
	/* a timer change does not make either speak */
	assert_int_equal(lacp_set_timer(a->l, LACP_LONG, W.now), 0);
	a->dirty = true;
	sim_until(300000);
	assert_int_equal(a->ntx[0] + a->ntx[1] + b->ntx[0] + b->ntx[1], 0);
	/* one turning active brings them up */
	assert_int_equal(lacp_set_mode(b->l, LACP_ACTIVE, W.now), 0);
	b->dirty = true;
	assert_true(sim_wait(wires_up, W.now + 3000) != NEVER);
}

static bool a0_down(void)
{
	return !up(&W.node[0], 0);
}

/* Member 0's partner falls silent: dropped exactly 3 s (short) or 90 s
 * (long) after its last LACPDU; member 1 unaffected. */
static void silent_partner(enum lacp_timer timer, uint64_t timeout)
{
	struct node *a, *b;
	uint64_t last, t;

	a = node_new(1, LACP_ACTIVE, timer);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	assert_true(sim_wait(wires_up, 3000) != NEVER);
	sim_until(100000);
	assert_true(wires_up());
	/* the partner's rate follows our Timeout */
	assert_string_equal(info(b, 0).periodic_state, timer == LACP_SHORT ? "FAST_PERIODIC" : "SLOW_PERIODIC");
	W.wire[0].mute_b = true;
	last = a->last_rx[0];
	t = sim_wait(a0_down, W.now + 200000);
	assert_int_equal(t, last + timeout);
	assert_string_equal(info(a, 0).rx_state, "EXPIRED");
	assert_false(info(a, 0).partner.state & LACP_STATE_SYNC);
	assert_true(info(a, 0).actor.state & LACP_STATE_EXPIRED);
	assert_true(up(a, 1) && up(b, 1));
	/* three more short seconds: defaulted, unselected, detached */
	sim_until(t + LACP_SHORT_TIMEOUT_MS);
	assert_string_equal(info(a, 0).rx_state, "DEFAULTED");
	assert_string_equal(info(a, 0).mux_state, "DETACHED");
	assert_false(info(a, 0).selected);
	assert_true(info(a, 0).actor.state & LACP_STATE_DEFAULTED);
	/* it speaks again: back within its periodic time, Aggregate_Wait_Time
	 * and a little */
	W.wire[0].mute_b = false;
	assert_true(sim_wait(wires_up, W.now + (timer == LACP_SHORT ? LACP_FAST_PERIODIC_MS : LACP_SLOW_PERIODIC_MS) +
						  LACP_AGGREGATE_WAIT_MS + 1000) != NEVER);
}

static void test_timeout_short(void **state)
{
	(void)state;
	silent_partner(LACP_SHORT, LACP_SHORT_TIMEOUT_MS);
}

static void test_timeout_long(void **state)
{
	(void)state;
	silent_partner(LACP_LONG, LACP_LONG_TIMEOUT_MS);
}

static bool a1_down(void)
{
	return !up(&W.node[0], 1);
}

static void test_carrier(void **state)
{
	struct node *a, *b;
	uint64_t t;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	assert_true(sim_wait(wires_up, 3000) != NEVER);
	/* out in the call itself, before any lacp_run() */
	carrier(a, 0, false);
	assert_false(lacp_collecting(a->l, 0));
	assert_false(lacp_distributing(a->l, 0));
	assert_false(info(a, 0).selected);
	assert_true(up(a, 1));
	W.wire[0].down = true;
	carrier(b, 0, false);
	assert_false(up(b, 0));
	t = W.now;
	/* the other member keeps going */
	assert_int_equal(sim_wait(a1_down, t + 20000), NEVER);
	assert_true(up(b, 1));
	assert_string_equal(info(a, 0).rx_state, "PORT_DISABLED");
	assert_string_equal(info(a, 0).periodic_state, "NO_PERIODIC");
	/* nothing sent on a member without carrier */
	assert_int_equal(info(a, 0).tx_lacpdu, a->ntx[0]);
	/* back */
	W.wire[0].down = false;
	carrier(a, 0, true);
	carrier(b, 0, true);
	t = sim_wait(wires_up, W.now + 4000);
	assert_true(t != NEVER);

	/* a member added without carrier waits for it */
	world_reset();
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	port_add(a, 3, false);
	port_add(b, 5, true);
	wire(a, 3, b, 5);
	sim_until(5000);
	assert_false(up(a, 3) || up(b, 5));
	assert_int_equal(a->ntx[3], 0);
	carrier(a, 3, true);
	assert_true(sim_wait(wires_up, W.now + 3000) != NEVER);
}

/* a's member 2 sees another system (c): not selected while b's two win. */
static void test_other_partner(void **state)
{
	struct node *a, *b, *c;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	c = node_new(3, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	port_add(a, 2, true);
	port_add(c, 0, true);
	wire(a, 2, c, 0);
	sim_until(10000);
	assert_true(up(a, 0) && up(a, 1) && up(b, 0) && up(b, 1));
	assert_false(up(a, 2) || up(c, 0));
	assert_false(info(a, 2).selected);
	assert_string_equal(info(a, 2).mux_state, "DETACHED");
	assert_string_equal(info(a, 2).rx_state, "CURRENT");
	assert_int_equal(info(a, 2).partner.sys_mac[5], 3);
	/* c's side is selected but a's says it is not in sync */
	assert_true(info(c, 0).selected);
	assert_string_equal(info(c, 0).mux_state, "ATTACHED");
	assert_false(info(c, 0).partner.state & LACP_STATE_SYNC);

	/* b's links go: the aggregator takes c */
	for (unsigned i = 0; i < 2; i++) {
		W.wire[i].down = true;
		carrier(a, i, false);
		carrier(b, i, false);
	}
	assert_true(sim_wait(wires_up, W.now + 3000) != NEVER);
	assert_true(info(a, 2).selected);

	/* a tie: the partner of the lowest member */
	world_reset();
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	c = node_new(3, LACP_ACTIVE, LACP_SHORT);
	port_add(a, 0, true);
	port_add(a, 1, true);
	port_add(c, 0, true);
	port_add(b, 0, true);
	wire(a, 0, c, 0);
	wire(a, 1, b, 0);
	sim_until(10000);
	assert_true(up(a, 0) && up(c, 0));
	assert_false(up(a, 1) || up(b, 0));

	/* the most members win over the lowest index */
	port_add(a, 2, true);
	port_add(b, 1, true);
	wire(a, 2, b, 1);
	sim_until(20000);
	assert_true(up(a, 1) && up(a, 2) && up(b, 0) && up(b, 1));
	assert_false(up(a, 0) || up(c, 0));
	assert_int_equal(info(a, 0).partner.sys_mac[5], 3);
	assert_false(info(a, 0).selected);
}

static void test_marker(void **state)
{
	static const uint8_t req[LACP_FRAME_LEN] = {
		0x01, 0x80, 0xc2, 0x00, 0x00, 0x02, 0x00, 0x11, 0x22, 0x33, 0x44, 0x66, 0x88, 0x09,
		0x02, 0x01,                         /* Marker, version 1 */
		0x01, 0x10,                         /* Marker Information, 16 */
		0x00, 0x07,                         /* requester port */
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, /* requester system */
		0xde, 0xad, 0xbe, 0xef,             /* transaction */
		0x5a, 0x5a,                         /* pad: not echoed */
		0x00, 0x00,                         /* Terminator */
	};
	static const uint8_t resp[LACP_FRAME_LEN] = {
		0x01, 0x80, 0xc2, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x88, 0x09,
		0x02, 0x01,
		0x02, 0x10,                         /* Marker Response, 16 */
		0x00, 0x07,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
		0xde, 0xad, 0xbe, 0xef,
		0x00, 0x00,
		0x00, 0x00,
	};
	uint8_t out[200], f[LACP_FRAME_LEN];
	struct lacp_port_info pi;
	struct node *a;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	port_add(a, 0, true);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(lacp_rx(a->l, 0, req, sizeof(req), 0, out, sizeof(out)), LACP_FRAME_LEN);
	assert_memory_equal(out, resp, sizeof(resp));
	assert_int_equal(out[LACP_FRAME_LEN], 0xee);
	/* too little room: no answer */
	assert_int_equal(lacp_rx(a->l, 0, req, sizeof(req), 0, out, LACP_FRAME_LEN - 1), -ENOSPC);
	/* a response is counted, not answered */
	memcpy(f, resp, sizeof(f));
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), 0, out, sizeof(out)), 0);
	/* a wrong length, a wrong TLV, a non-zero terminator, short */
	memcpy(f, req, sizeof(f));
	f[17] = 15;
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), 0, out, sizeof(out)), -EBADMSG);
	memcpy(f, req, sizeof(f));
	f[16] = 3;
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), 0, out, sizeof(out)), -EBADMSG);
	memcpy(f, req, sizeof(f));
	f[33] = 1;
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), 0, out, sizeof(out)), -EBADMSG);
	assert_int_equal(lacp_rx(a->l, 0, req, sizeof(req) - 1, 0, out, sizeof(out)), -EBADMSG);
	pi = info(a, 0);
	assert_int_equal(pi.rx_marker, 2);
	assert_int_equal(pi.tx_marker_resp, 1);
	assert_int_equal(pi.rx_marker_resp, 1);
	assert_int_equal(pi.rx_malformed, 4);
	assert_int_equal(pi.rx_lacpdu, 0);
	/* markers change no state */
	assert_string_equal(pi.rx_state, "EXPIRED");
	assert_string_equal(pi.mux_state, "DETACHED");
	/* a static aggregation answers too */
	assert_int_equal(lacp_set_mode(a->l, LACP_OFF, 0), 0);
	assert_int_equal(lacp_rx(a->l, 0, req, sizeof(req), 0, out, sizeof(out)), LACP_FRAME_LEN);
}

/* The state of a member without its counters. */
static void same_state(struct lacp_port_info a, struct lacp_port_info b)
{
	const struct lacp_port_info *x = &a, *y = &b;

	assert_int_equal(x->member, y->member);
	assert_int_equal(x->carrier, y->carrier);
	assert_int_equal(x->selected, y->selected);
	assert_int_equal(x->collecting, y->collecting);
	assert_int_equal(x->distributing, y->distributing);
	peer_equal(&x->actor, &y->actor);
	peer_equal(&x->partner, &y->partner);
	if (!x->member)
		return;
	assert_string_equal(x->rx_state, y->rx_state);
	assert_string_equal(x->mux_state, y->mux_state);
	assert_string_equal(x->periodic_state, y->periodic_state);
}

static void test_malformed(void **state)
{
	struct lacp_port_info before[2], pi;
	uint8_t good[LACP_FRAME_LEN], f[300], out[LACP_FRAME_LEN];
	static const size_t cuts[] = { 0, 1, 12, 13, 14, 15, 16, 40, 60, 73, 74, 110, 123 };
	static const struct {
		unsigned off;
		uint8_t val;
	} bad[] = {
		{ 12, 0x81 }, { 13, 0x00 },          /* ethertype */
		{ 14, 0 },    { 14, 11 }, { 14, 255 }, /* subtype */
		{ 15, 0 },                           /* version */
		{ 16, 0 },    { 16, 2 },  { 17, 19 }, { 17, 21 }, { 17, 0 }, /* Actor TLV */
		{ 36, 1 },    { 36, 3 },  { 37, 19 }, { 37, 255 },           /* Partner TLV */
		{ 56, 0 },    { 56, 4 },  { 57, 15 }, { 57, 17 },            /* Collector TLV */
		{ 72, 1 },    { 73, 1 },  { 72, 0xff },                      /* Terminator */
	};
	struct node *a, *b;
	unsigned nbad = 0, nmarker = 0;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	assert_true(sim_wait(wires_up, 3000) != NEVER);
	memcpy(good, b->last_frame[0], sizeof(good));
	before[0] = info(a, 0);
	before[1] = info(a, 1);

	for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
		assert_int_equal(inject(a, 0, good, cuts[k]), -EBADMSG);
		nbad++;
	}
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		memcpy(f, good, sizeof(good));
		f[bad[k].off] = bad[k].val;
		assert_int_equal(inject(a, 0, f, sizeof(good)), -EBADMSG);
		nbad++;
	}
	pi = info(a, 0);
	assert_int_equal(pi.rx_malformed, nbad);
	same_state(pi, before[0]);
	assert_true(up(a, 0) && up(a, 1));

	/* not malformed: another Slow Protocol, a later version with its own
	 * TLVs where version 1 has its Terminator */
	memcpy(f, good, sizeof(good));
	f[14] = 3;
	assert_int_equal(inject(a, 0, f, sizeof(good)), 0);
	assert_int_equal(info(a, 0).rx_unknown, 1);
	memcpy(f, good, sizeof(good));
	f[15] = 2;
	f[72] = 0x55;
	f[73] = 4;
	assert_int_equal(inject(a, 0, f, sizeof(good)), 0);
	assert_int_equal(info(a, 0).rx_lacpdu, before[0].rx_lacpdu + 1);
	same_state(info(a, 0), before[0]);

	/* random frames, some with a Slow Protocols header: counted, nothing
	 * moves (a valid PDU among them is out of reach of chance) */
	for (int k = 0; k < 20000; k++) {
		size_t len = rnd() % sizeof(f);
		unsigned idx = rnd() % 3; /* member 2 does not exist */
		int rc;

		for (size_t i = 0; i < len; i++)
			f[i] = (uint8_t)rnd();
		if (len > 14 && rnd() % 2) {
			f[12] = 0x88;
			f[13] = 0x09;
			f[14] = (uint8_t)(rnd() % 4);
			if (len > 18 && rnd() % 2) {
				f[15] = 1;
				f[16] = (uint8_t)(rnd() % 3);
				f[17] = rnd() % 2 ? 20 : 16;
			}
		}
		rc = lacp_rx(a->l, idx, f, len, W.now, out, sizeof(out));
		if (idx == 2) {
			assert_int_equal(rc, -ENOENT);
			continue;
		}
		assert_true(rc == -EBADMSG || rc == 0 || rc == LACP_FRAME_LEN);
		nbad += idx == 0 && rc == -EBADMSG;
		nmarker += rc == LACP_FRAME_LEN;
	}
	assert_int_equal(info(a, 0).rx_malformed, nbad);
	assert_int_equal(info(a, 0).tx_marker_resp + info(a, 1).tx_marker_resp, nmarker);
	same_state(info(a, 0), before[0]);
	same_state(info(a, 1), before[1]);
	a->dirty = true;
	settle();
	assert_true(wires_up());

	/* valid LACPDUs full of random values, as time goes by: whatever they
	 * do, the invariants hold, and the real partner wins back */
	for (int k = 0; k < 3000; k++) {
		memcpy(f, good, sizeof(good));
		for (unsigned i = 18; i < 36; i++)
			f[i] = (uint8_t)rnd();
		for (unsigned i = 38; i < 56; i++)
			f[i] = (uint8_t)rnd();
		if (rnd() % 4 == 0) { /* now and then our own System ID */
			static const uint8_t ours[8] = { 0x80, 0x00, 0x02, 0, 0, 0, 0, 1 };

			memcpy(f + 18, ours, sizeof(ours));
		}
		f[15] = (uint8_t)(1 + rnd() % 3);
		assert_int_equal(inject(a, rnd() % 2, f, sizeof(good)), 0);
		if (rnd() % 8 == 0)
			W.now += rnd() % 500;
		settle();
	}
	assert_true(info(a, 0).rx_looped > 0);
	assert_true(sim_wait(wires_up, W.now + 6000) != NEVER);
}

static void test_mode_change(void **state)
{
	struct node *a, *b;
	unsigned ntx;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	assert_true(sim_wait(wires_up, 3000) != NEVER);

	/* active -> off: a static aggregation, at once, and silent */
	assert_int_equal(lacp_set_mode(a->l, LACP_OFF, W.now), 0);
	a->dirty = true;
	assert_true(up(a, 0) && up(a, 1));
	assert_string_equal(info(a, 0).rx_state, "LACP_DISABLED");
	assert_string_equal(info(a, 0).periodic_state, "NO_PERIODIC");
	assert_false(info(a, 0).selected);
	ntx = a->ntx[0] + a->ntx[1];
	sim_until(W.now + 10000);
	assert_int_equal(a->ntx[0] + a->ntx[1], ntx);
	assert_true(up(a, 0) && up(a, 1));
	/* b hears nothing: drops them */
	assert_false(up(b, 0) || up(b, 1));
	/* LACPDUs heard while off are ignored */
	assert_true(info(a, 0).rx_lacpdu > 0);
	assert_string_equal(info(a, 0).rx_state, "LACP_DISABLED");
	/* static: the carrier decides */
	carrier(a, 1, false);
	assert_false(up(a, 1));
	carrier(a, 1, true);
	assert_true(up(a, 1));

	/* off -> active: out until LACP agrees, which is soon */
	assert_int_equal(lacp_set_mode(a->l, LACP_ACTIVE, W.now), 0);
	a->dirty = true;
	assert_false(up(a, 0) || up(a, 1));
	assert_true(sim_wait(wires_up, W.now + 3000) != NEVER);

	/* active -> passive with an active partner: stays up */
	assert_int_equal(lacp_set_mode(a->l, LACP_PASSIVE, W.now), 0);
	a->dirty = true;
	sim_until(W.now + 10000);
	assert_true(wires_up());
	assert_false(info(b, 0).partner.state & LACP_STATE_ACTIVITY);
	/* short -> long on a: b slows down, both stay up */
	assert_int_equal(lacp_set_timer(a->l, LACP_LONG, W.now), 0);
	a->dirty = true;
	sim_until(W.now + 100000);
	assert_true(wires_up());
	assert_string_equal(info(b, 0).periodic_state, "SLOW_PERIODIC");
	assert_int_equal(lacp_set_mode(a->l, (enum lacp_mode)7, W.now), -EINVAL);
	assert_int_equal(lacp_set_timer(a->l, (enum lacp_timer)7, W.now), -EINVAL);

	/* created off, turned active */
	world_reset();
	a = node_new(1, LACP_OFF, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 1);
	sim_until(5000);
	assert_int_equal(a->ntx[0], 0);
	assert_true(up(a, 0));
	assert_false(up(b, 0));
	assert_int_equal(lacp_set_mode(a->l, LACP_ACTIVE, W.now), 0);
	a->dirty = true;
	assert_true(sim_wait(wires_up, W.now + 3000) != NEVER);
}

static void test_rate_limit(void **state)
{
	uint8_t f[LACP_FRAME_LEN];
	struct node *a, *b;
	unsigned ntx;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 1);
	assert_true(sim_wait(wires_up, 3000) != NEVER);
	sim_until(10000);

	/* every 10 ms for 5 s, a PDU that gets our state wrong: each asks
	 * for an LACPDU; on_send() checks the sliding window */
	ntx = a->ntx[0];
	for (int k = 0; k < 500; k++) {
		memcpy(f, b->last_frame[0], sizeof(f));
		f[46] ^= (uint8_t)(k & 1); /* the partner's view of our key */
		inject(a, 0, f, sizeof(f));
		settle();
		W.now += 10;
	}
	/* held back, not dropped: three a second */
	assert_true(a->ntx[0] - ntx >= 14 && a->ntx[0] - ntx <= 16);

	/* a hundred timer changes in one millisecond: three go */
	sim_until(W.now + 5000);
	ntx = a->ntx[0];
	for (int k = 0; k < 100; k++) {
		lacp_set_timer(a->l, k & 1 ? LACP_SHORT : LACP_LONG, W.now);
		a->dirty = true;
		settle();
	}
	assert_true(a->ntx[0] - ntx <= LACP_TX_MAX);
	/* and the last word still goes out, when the limit allows */
	sim_until(W.now + 1000);
	assert_true(info(b, 0).partner.state & LACP_STATE_TIMEOUT);
	assert_true(wires_up());
}

/* Engines run every few ms rather than at their deadlines: run_node()
 * checks that nothing happens between them. */
static void test_steps(void **state)
{
	struct node *a, *b;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_PASSIVE, LACP_LONG);
	pair(a, b, 3);
	sim_steps(5000, 7);
	assert_true(wires_up());
	W.wire[1].mute_a = true;
	sim_steps(W.now + 100000, 13);
	/* b asked for long timeouts: its member 1 gives up after 90 s */
	assert_false(up(b, 1));
	assert_true(up(b, 0) && up(b, 2));
	lacp_port_del(a->l, 2, W.now);
	a->dirty = true;
	sim_steps(W.now + 100000, 11);
	assert_false(up(b, 2));
	assert_true(up(a, 0) && up(b, 0));
}

static void test_port_del(void **state)
{
	struct node *a, *b;
	struct lacp_port_info pi;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	assert_true(sim_wait(wires_up, 3000) != NEVER);
	lacp_port_del(a->l, 0, W.now);
	a->dirty = true;
	pi = info(a, 0);
	assert_false(pi.member);
	assert_null(pi.rx_state);
	assert_false(up(a, 0));
	assert_true(up(a, 1));
	sim_until(W.now + 5000);
	assert_false(up(b, 0));
	assert_true(up(a, 1) && up(b, 1));
	/* and back under another port number */
	assert_int_equal(lacp_port_add(a->l, 0, (uint8_t[]){ 2, 0, 0, 1, 1, 0 }, 9, true, W.now), 0);
	a->dirty = true;
	assert_true(sim_wait(wires_up, W.now + 4000) != NEVER);
	assert_int_equal(info(b, 0).partner.port_no, 9);
}

static void test_api(void **state)
{
	struct lacp_actor_cfg cfg = { .sys_mac = { 2, 0, 0, 0, 0, 1 }, .mode = LACP_ACTIVE, .timer = LACP_SHORT };
	const uint8_t mac[6] = { 2, 0, 0, 1, 1, 0 };
	uint8_t f[LACP_FRAME_LEN] = { 0 }, out[LACP_FRAME_LEN];
	struct lacp_port_info pi;
	struct lacp *l;

	(void)state;
	cfg.mode = (enum lacp_mode)3;
	assert_null(lacp_new(&cfg));
	cfg.mode = LACP_ACTIVE;
	cfg.timer = (enum lacp_timer)2;
	assert_null(lacp_new(&cfg));
	cfg.timer = LACP_SHORT;
	l = lacp_new(&cfg);
	assert_non_null(l);
	assert_int_equal(lacp_port_add(l, LACP_MAX_PORTS, mac, 1, true, 0), -EINVAL);
	assert_int_equal(lacp_port_add(l, 0, mac, 0, true, 0), -EINVAL);
	assert_int_equal(lacp_port_add(l, 7, mac, 1, true, 0), 0);
	assert_int_equal(lacp_port_add(l, 7, mac, 2, true, 0), -EEXIST);
	assert_int_equal(lacp_rx(l, 6, f, sizeof(f), 0, out, sizeof(out)), -ENOENT);
	assert_int_equal(lacp_rx(l, 99, f, sizeof(f), 0, out, sizeof(out)), -ENOENT);
	assert_false(lacp_collecting(l, 6));
	assert_false(lacp_distributing(l, 99));
	lacp_port_info(l, 99, &pi);
	assert_false(pi.member);
	lacp_carrier(l, 6, true, 0);
	lacp_port_del(l, 6, 0);
	lacp_port_del(l, 99, 0);
	/* nothing timed with no member */
	lacp_port_del(l, 7, 0);
	assert_true(lacp_run(l, 0, capture, f) == UINT64_MAX);
	lacp_free(l);
	lacp_free(NULL);
}

/* recordPDU's rule for the partner's Synchronization: it says so, sees us
 * as we are (or is individual), and one side at least is active. */
static void test_partner_sync(void **state)
{
	struct lacp_pdu pdu = { .version = 1 };
	uint8_t f[LACP_FRAME_LEN], out[LACP_FRAME_LEN];
	struct lacp_port_info pi;
	struct node *a;

	(void)state;
	a = node_new(1, LACP_PASSIVE, LACP_SHORT);
	port_add(a, 0, true);
	sim_until(1000);
	pi = info(a, 0);
	pdu.actor = (struct lacp_peer){ 0x8000, { 0x02, 0, 0, 0, 0, 9 }, 7, 0x80, 3,
					LACP_STATE_AGGREGATION | LACP_STATE_SYNC };
	pdu.partner = pi.actor;
	/* both passive: not in sync */
	assert_int_equal(lacp_pdu_build(f, sizeof(f), pdu.actor.sys_mac, &pdu), LACP_FRAME_LEN);
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), W.now, out, sizeof(out)), 0);
	assert_false(info(a, 0).partner.state & LACP_STATE_SYNC);
	assert_string_equal(info(a, 0).rx_state, "CURRENT");
	/* the partner active: in sync */
	pdu.actor.state |= LACP_STATE_ACTIVITY;
	lacp_pdu_build(f, sizeof(f), pdu.actor.sys_mac, &pdu);
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), W.now, out, sizeof(out)), 0);
	assert_true(info(a, 0).partner.state & LACP_STATE_SYNC);
	/* it sees another key of ours: not in sync */
	pdu.partner.key ^= 1;
	lacp_pdu_build(f, sizeof(f), pdu.actor.sys_mac, &pdu);
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), W.now, out, sizeof(out)), 0);
	assert_false(info(a, 0).partner.state & LACP_STATE_SYNC);
	/* ... unless it is an individual link */
	pdu.actor.state &= (uint8_t)~LACP_STATE_AGGREGATION;
	lacp_pdu_build(f, sizeof(f), pdu.actor.sys_mac, &pdu);
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), W.now, out, sizeof(out)), 0);
	assert_true(info(a, 0).partner.state & LACP_STATE_SYNC);
	/* which the aggregator does not take */
	assert_false(info(a, 0).selected);
	/* not saying it is in sync: not */
	pdu.actor.state &= (uint8_t)~LACP_STATE_SYNC;
	lacp_pdu_build(f, sizeof(f), pdu.actor.sys_mac, &pdu);
	assert_int_equal(lacp_rx(a->l, 0, f, sizeof(f), W.now, out, sizeof(out)), 0);
	assert_false(info(a, 0).partner.state & LACP_STATE_SYNC);
	assert_int_equal(info(a, 0).rx_lacpdu, 5);
}

/* Two members of one aggregation cabled together. */
static void test_looped(void **state)
{
	struct node *a;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	port_add(a, 0, true);
	port_add(a, 1, true);
	wire(a, 0, a, 1);
	sim_until(10000);
	assert_false(up(a, 0) || up(a, 1));
	assert_false(info(a, 0).selected || info(a, 1).selected);
	assert_true(info(a, 0).rx_looped > 0 && info(a, 0).rx_looped == info(a, 0).rx_lacpdu);
	assert_string_equal(info(a, 1).rx_state, "DEFAULTED");
}

static void test_set_system(void **state)
{
	const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	struct node *a, *b;

	(void)state;
	a = node_new(1, LACP_ACTIVE, LACP_SHORT);
	b = node_new(2, LACP_ACTIVE, LACP_SHORT);
	pair(a, b, 2);
	assert_true(sim_wait(wires_up, 3000) != NEVER);
	lacp_set_system(a->l, mac, 0x100, W.now);
	a->dirty = true;
	assert_false(up(a, 0) || up(a, 1));
	assert_true(sim_wait(wires_up, W.now + 4000) != NEVER);
	assert_memory_equal(info(b, 0).partner.sys_mac, mac, 6);
	assert_int_equal(info(b, 1).partner.sys_prio, 0x100);
	assert_memory_equal(info(a, 1).actor.sys_mac, mac, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pdu_layout, teardown),
		cmocka_unit_test_teardown(test_active_active, teardown),
		cmocka_unit_test_teardown(test_active_passive, teardown),
		cmocka_unit_test_teardown(test_passive_passive, teardown),
		cmocka_unit_test_teardown(test_timeout_short, teardown),
		cmocka_unit_test_teardown(test_timeout_long, teardown),
		cmocka_unit_test_teardown(test_carrier, teardown),
		cmocka_unit_test_teardown(test_other_partner, teardown),
		cmocka_unit_test_teardown(test_marker, teardown),
		cmocka_unit_test_teardown(test_malformed, teardown),
		cmocka_unit_test_teardown(test_mode_change, teardown),
		cmocka_unit_test_teardown(test_rate_limit, teardown),
		cmocka_unit_test_teardown(test_steps, teardown),
		cmocka_unit_test_teardown(test_port_del, teardown),
		cmocka_unit_test_teardown(test_api, teardown),
		cmocka_unit_test_teardown(test_partner_sync, teardown),
		cmocka_unit_test_teardown(test_looped, teardown),
		cmocka_unit_test_teardown(test_set_system, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
