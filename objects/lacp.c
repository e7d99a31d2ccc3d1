/*
 * The LACP engine of one aggregation (objects/lacp.h): 802.1AX-2014 6.4.
 *
 * Each member port runs the Receive (6.4.12), Periodic Transmission
 * (6.4.13), Mux with coupled control (6.4.15) and Transmit (6.4.16)
 * machines; the Selection Logic (6.4.14) is the aggregation's.  The state
 * of each machine is its state variable plus the timer that state runs:
 * current_while in CURRENT and EXPIRED, wait_while in WAITING,
 * periodic_at in FAST_PERIODIC and SLOW_PERIODIC; a timer is an absolute
 * time in ms and means nothing in the other states.  Transient states
 * (INITIALIZE, PERIODIC_TX) do their work and are left within the same
 * step, so no member ever rests in one.
 *
 * lacp_settle() evaluates every machine's transitions again and again
 * until none fires: the standard's machines run "at once" on any change,
 * so after every entry point the members are in a state from which no
 * transition is enabled at `now`.  lacp_deadline() is then the earliest
 * timer still ahead.
 *
 * One aggregator only: the Selection Logic chooses one partner (System ID
 * and key) for it, the one most members see, and selects the members that
 * see it; a member that sees another partner stays UNSELECTED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "objects/lacp.h"

/* Rounds of lacp_settle(): the machines settle within a few; the bound only
 * guards against a cycle that would be a bug. */
#define LACP_SETTLE_MAX 16

enum lacp_rx_state { RX_PORT_DISABLED, RX_EXPIRED, RX_LACP_DISABLED, RX_DEFAULTED, RX_CURRENT };
enum lacp_mux_state { MUX_DETACHED, MUX_WAITING, MUX_ATTACHED, MUX_COLL_DIST };
enum lacp_per_state { PER_NONE, PER_FAST, PER_SLOW };

static const char *const lacp_rx_names[] = {
	[RX_PORT_DISABLED] = "PORT_DISABLED", [RX_EXPIRED] = "EXPIRED", [RX_LACP_DISABLED] = "LACP_DISABLED",
	[RX_DEFAULTED] = "DEFAULTED",         [RX_CURRENT] = "CURRENT",
};
static const char *const lacp_mux_names[] = {
	[MUX_DETACHED] = "DETACHED",
	[MUX_WAITING] = "WAITING",
	[MUX_ATTACHED] = "ATTACHED",
	[MUX_COLL_DIST] = "COLLECTING_DISTRIBUTING",
};
static const char *const lacp_per_names[] = {
	[PER_NONE] = "NO_PERIODIC",
	[PER_FAST] = "FAST_PERIODIC",
	[PER_SLOW] = "SLOW_PERIODIC",
};

static const uint8_t lacp_group_addr[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x02 };

/* Frame offsets: Ethernet header, then the PDU (802.1AX-2014 6.4.2.2 and
 * 6.5.3.2).  TLV information starts two octets after its type. */
#define OFF_TYPE 12
#define OFF_SUBTYPE 14
#define OFF_VERSION 15
#define OFF_ACTOR 16      /* TLV type 1, length 20 */
#define OFF_PARTNER 36    /* TLV type 2, length 20 */
#define OFF_COLLECTOR 56  /* TLV type 3, length 16 */
#define OFF_TERM 72       /* TLV type 0, length 0; 50 reserved octets follow */
#define OFF_MARKER 16     /* TLV type 1 or 2, length 16 */
#define OFF_MARKER_TERM 32 /* TLV type 0, length 0; 90 reserved octets follow */

#define TLV_ACTOR 1
#define TLV_PARTNER 2
#define TLV_COLLECTOR 3
#define TLV_MARKER_INFO 1
#define TLV_MARKER_RESP 2

/* The bits update_NTT compares (6.4.9). */
#define LACP_STATE_NTT_BITS (LACP_STATE_ACTIVITY | LACP_STATE_TIMEOUT | LACP_STATE_SYNC | LACP_STATE_AGGREGATION)

struct lacp_counters {
	uint64_t rx_lacpdu, tx_lacpdu, rx_marker, tx_marker_resp, rx_marker_resp, rx_unknown, rx_malformed,
		rx_looped;
};

struct lacp_port {
	bool member;
	bool enabled;    /* Port_Enabled: the carrier */
	bool selected;   /* Selected: SELECTED, else UNSELECTED */
	bool ntt;
	bool port_moved;
	uint8_t mac[6];
	uint16_t port_no;
	uint8_t actor_state;     /* Actor_Oper_Port_State */
	struct lacp_peer partner; /* Partner_Oper_* */
	uint8_t rx, mux, per;     /* enum lacp_rx_state, lacp_mux_state, lacp_per_state */
	uint64_t current_while, wait_while, periodic_at;
	/* The times of the last LACP_TX_MAX LACPDUs sent: tx_n of them, the
	 * oldest at tx_at[tx_next] once there are LACP_TX_MAX. */
	uint64_t tx_at[LACP_TX_MAX];
	unsigned tx_n, tx_next;
	struct lacp_counters c;
};

struct lacp {
	struct lacp_actor_cfg cfg;
	struct lacp_port port[LACP_MAX_PORTS];
};

static void lacp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t lacp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- the codec ---- */

static void lacp_peer_put(uint8_t *p, const struct lacp_peer *v)
{
	lacp_put16(p, v->sys_prio);
	memcpy(p + 2, v->sys_mac, 6);
	lacp_put16(p + 8, v->key);
	lacp_put16(p + 10, v->port_prio);
	lacp_put16(p + 12, v->port_no);
	p[14] = v->state;
}

static void lacp_peer_get(const uint8_t *p, struct lacp_peer *v)
{
	v->sys_prio = lacp_get16(p);
	memcpy(v->sys_mac, p + 2, 6);
	v->key = lacp_get16(p + 8);
	v->port_prio = lacp_get16(p + 10);
	v->port_no = lacp_get16(p + 12);
	v->state = p[14];
}

static void lacp_eth_header(uint8_t *f, const uint8_t src[6])
{
	memcpy(f, lacp_group_addr, 6);
	memcpy(f + 6, src, 6);
	lacp_put16(f + OFF_TYPE, LACP_ETHERTYPE);
}

int lacp_pdu_build(uint8_t *f, size_t len, const uint8_t src[6], const struct lacp_pdu *pdu)
{
	if (len < LACP_FRAME_LEN)
		return -ENOSPC;
	memset(f, 0, LACP_FRAME_LEN);
	lacp_eth_header(f, src);
	f[OFF_SUBTYPE] = LACP_SUBTYPE_LACP;
	f[OFF_VERSION] = pdu->version;
	f[OFF_ACTOR] = TLV_ACTOR;
	f[OFF_ACTOR + 1] = 20;
	lacp_peer_put(f + OFF_ACTOR + 2, &pdu->actor);
	f[OFF_PARTNER] = TLV_PARTNER;
	f[OFF_PARTNER + 1] = 20;
	lacp_peer_put(f + OFF_PARTNER + 2, &pdu->partner);
	f[OFF_COLLECTOR] = TLV_COLLECTOR;
	f[OFF_COLLECTOR + 1] = 16;
	lacp_put16(f + OFF_COLLECTOR + 2, pdu->collector_max_delay);
	/* the Terminator TLV (0, 0) and the reserved octets are the zeros */
	return LACP_FRAME_LEN;
}

/* The frame is long enough for a PDU and is a Slow Protocols frame. */
static bool lacp_slow_frame(const uint8_t *f, size_t len)
{
	return len >= LACP_FRAME_LEN && lacp_get16(f + OFF_TYPE) == LACP_ETHERTYPE;
}

int lacp_pdu_parse(const uint8_t *f, size_t len, struct lacp_pdu *pdu)
{
	if (!lacp_slow_frame(f, len) || f[OFF_SUBTYPE] != LACP_SUBTYPE_LACP || f[OFF_VERSION] == 0)
		return -EBADMSG;
	if (f[OFF_ACTOR] != TLV_ACTOR || f[OFF_ACTOR + 1] != 20 || f[OFF_PARTNER] != TLV_PARTNER ||
	    f[OFF_PARTNER + 1] != 20 || f[OFF_COLLECTOR] != TLV_COLLECTOR || f[OFF_COLLECTOR + 1] != 16)
		return -EBADMSG;
	/* version 2 may put its own TLVs before the Terminator */
	if (f[OFF_VERSION] == 1 && (f[OFF_TERM] != 0 || f[OFF_TERM + 1] != 0))
		return -EBADMSG;
	pdu->version = f[OFF_VERSION];
	lacp_peer_get(f + OFF_ACTOR + 2, &pdu->actor);
	lacp_peer_get(f + OFF_PARTNER + 2, &pdu->partner);
	pdu->collector_max_delay = lacp_get16(f + OFF_COLLECTOR + 2);
	return 0;
}

/* ---- what the machines share ---- */

static bool lacp_enabled(const struct lacp *l)
{
	return l->cfg.mode != LACP_OFF;
}

static void lacp_actor(const struct lacp *l, const struct lacp_port *p, struct lacp_peer *a)
{
	a->sys_prio = l->cfg.sys_prio;
	memcpy(a->sys_mac, l->cfg.sys_mac, 6);
	a->key = l->cfg.key;
	a->port_prio = LACP_PORT_PRIO;
	a->port_no = p->port_no;
	a->state = p->actor_state;
}

/* The same port of the same system with the same key (the state aside). */
static bool lacp_peer_same(const struct lacp_peer *a, const struct lacp_peer *b)
{
	return a->sys_prio == b->sys_prio && !memcmp(a->sys_mac, b->sys_mac, 6) && a->key == b->key &&
	       a->port_prio == b->port_prio && a->port_no == b->port_no;
}

/* The same Link Aggregation Group on that side: System ID and key. */
static bool lacp_peer_same_lag(const struct lacp_peer *a, const struct lacp_peer *b)
{
	return a->sys_prio == b->sys_prio && !memcmp(a->sys_mac, b->sys_mac, 6) && a->key == b->key;
}

/* recordDefault: the partner's administrative values, all zero: a passive,
 * long-timeout, individual partner out of sync. */
static void lacp_record_default(struct lacp_port *p)
{
	memset(&p->partner, 0, sizeof(p->partner));
	p->actor_state |= LACP_STATE_DEFAULTED;
}

/* ---- Receive machine (6.4.12) ---- */

static void lacp_rx_port_disabled(struct lacp_port *p)
{
	p->rx = RX_PORT_DISABLED;
	p->partner.state &= (uint8_t)~LACP_STATE_SYNC;
}

/* INITIALIZE, then at once PORT_DISABLED. */
static void lacp_rx_initialize(struct lacp_port *p)
{
	p->selected = false;
	lacp_record_default(p);
	p->actor_state &= (uint8_t)~LACP_STATE_EXPIRED;
	p->port_moved = false;
	lacp_rx_port_disabled(p);
}

static void lacp_rx_expired(struct lacp_port *p, uint64_t now)
{
	p->rx = RX_EXPIRED;
	p->partner.state &= (uint8_t)~LACP_STATE_SYNC;
	p->partner.state |= LACP_STATE_TIMEOUT;
	p->current_while = now + LACP_SHORT_TIMEOUT_MS;
	p->actor_state |= LACP_STATE_EXPIRED;
}

static void lacp_rx_lacp_disabled(struct lacp_port *p)
{
	p->rx = RX_LACP_DISABLED;
	p->selected = false;
	lacp_record_default(p);
	p->partner.state &= (uint8_t)~LACP_STATE_AGGREGATION;
	p->actor_state &= (uint8_t)~LACP_STATE_EXPIRED;
}

static void lacp_rx_defaulted(struct lacp_port *p)
{
	static const struct lacp_peer admin;

	p->rx = RX_DEFAULTED;
	/* update_Default_Selected */
	if (!lacp_peer_same(&p->partner, &admin) ||
	    (p->partner.state & LACP_STATE_AGGREGATION) != (admin.state & LACP_STATE_AGGREGATION))
		p->selected = false;
	lacp_record_default(p);
	p->actor_state &= (uint8_t)~LACP_STATE_EXPIRED;
}

/* CURRENT on a received LACPDU: update_Selected, update_NTT, recordPDU. */
static void lacp_rx_current(const struct lacp *l, struct lacp_port *p, const struct lacp_pdu *pdu, uint64_t now)
{
	struct lacp_peer me;
	bool matched, active;

	lacp_actor(l, p, &me);
	if (!lacp_peer_same(&pdu->actor, &p->partner) ||
	    (pdu->actor.state & LACP_STATE_AGGREGATION) != (p->partner.state & LACP_STATE_AGGREGATION))
		p->selected = false;
	if (!lacp_peer_same(&pdu->partner, &me) ||
	    (pdu->partner.state & LACP_STATE_NTT_BITS) != (me.state & LACP_STATE_NTT_BITS))
		p->ntt = true;

	/* The partner is in sync if it says so and sees us as we are (or is
	 * an individual link), and one side at least is active. */
	matched = (lacp_peer_same(&pdu->partner, &me) &&
		   (pdu->partner.state & LACP_STATE_AGGREGATION) == (me.state & LACP_STATE_AGGREGATION)) ||
		  !(pdu->actor.state & LACP_STATE_AGGREGATION);
	active = (pdu->actor.state & LACP_STATE_ACTIVITY) ||
		 ((me.state & LACP_STATE_ACTIVITY) && (pdu->partner.state & LACP_STATE_ACTIVITY));
	p->partner = pdu->actor;
	if (!(matched && active))
		p->partner.state &= (uint8_t)~LACP_STATE_SYNC;
	p->actor_state &= (uint8_t)~LACP_STATE_DEFAULTED;

	p->rx = RX_CURRENT;
	p->current_while =
		now + (p->actor_state & LACP_STATE_TIMEOUT ? LACP_SHORT_TIMEOUT_MS : LACP_LONG_TIMEOUT_MS);
	p->actor_state &= (uint8_t)~LACP_STATE_EXPIRED;
}

/* One transition if one is enabled; LACP turned off makes a member leave
 * EXPIRED, DEFAULTED and CURRENT through PORT_DISABLED (the standard
 * leaves that to BEGIN). */
static bool lacp_rx_step(const struct lacp *l, struct lacp_port *p, uint64_t now)
{
	if (!p->enabled && !p->port_moved && p->rx != RX_PORT_DISABLED) {
		lacp_rx_port_disabled(p);
		return true;
	}
	switch (p->rx) {
	case RX_PORT_DISABLED:
		if (p->port_moved)
			lacp_rx_initialize(p);
		else if (p->enabled && lacp_enabled(l))
			lacp_rx_expired(p, now);
		else if (p->enabled)
			lacp_rx_lacp_disabled(p);
		else
			return false;
		return true;
	case RX_LACP_DISABLED:
		if (!lacp_enabled(l))
			return false;
		lacp_rx_port_disabled(p);
		return true;
	default:
		if (!lacp_enabled(l))
			lacp_rx_port_disabled(p);
		else if (p->rx == RX_EXPIRED && now >= p->current_while)
			lacp_rx_defaulted(p);
		else if (p->rx == RX_CURRENT && now >= p->current_while)
			lacp_rx_expired(p, now);
		else
			return false;
		return true;
	}
}

/* ---- Selection Logic (6.4.14), one aggregator ---- */

/* A member that could join an aggregation: up, running LACP, with a partner
 * heard from (not defaulted) that is willing to aggregate. */
static bool lacp_sel_eligible(const struct lacp *l, const struct lacp_port *p)
{
	return p->member && p->enabled && lacp_enabled(l) && (p->rx == RX_CURRENT || p->rx == RX_EXPIRED) &&
	       !(p->actor_state & LACP_STATE_DEFAULTED) && (p->partner.state & LACP_STATE_AGGREGATION);
}

/* The member whose partner the aggregator takes: the partner the most
 * eligible members see, on a tie the one of the lowest index; -1 if none. */
static int lacp_sel_choose(const struct lacp *l)
{
	int best = -1, best_n = 0;

	for (int i = 0; i < LACP_MAX_PORTS; i++) {
		int n = 0;

		if (!lacp_sel_eligible(l, &l->port[i]))
			continue;
		for (int j = 0; j < LACP_MAX_PORTS; j++)
			n += lacp_sel_eligible(l, &l->port[j]) &&
			     lacp_peer_same_lag(&l->port[i].partner, &l->port[j].partner);
		if (n > best_n) {
			best = i;
			best_n = n;
		}
	}
	return best;
}

/* A member is unselected as soon as it stops fitting, and selected again
 * only from DETACHED, so a change of partner always detaches it and makes
 * it wait Aggregate_Wait_Time again. */
static bool lacp_select(struct lacp *l)
{
	int best = lacp_sel_choose(l);
	bool moved = false;

	for (int i = 0; i < LACP_MAX_PORTS; i++) {
		struct lacp_port *p = &l->port[i];
		bool fits = best >= 0 && lacp_sel_eligible(l, p) &&
			    lacp_peer_same_lag(&p->partner, &l->port[best].partner);

		if (!p->member)
			continue;
		if (p->selected && !fits) {
			p->selected = false;
			moved = true;
		} else if (!p->selected && fits && p->mux == MUX_DETACHED) {
			p->selected = true;
			moved = true;
		}
	}
	return moved;
}

/* ---- Mux machine, coupled control (6.4.15) ---- */

static void lacp_mux_enter(struct lacp_port *p, enum lacp_mux_state s, uint64_t now)
{
	const uint8_t flags = LACP_STATE_SYNC | LACP_STATE_COLLECTING | LACP_STATE_DISTRIBUTING;

	p->mux = (uint8_t)s;
	p->actor_state &= (uint8_t)~flags;
	if (s == MUX_WAITING) {
		p->wait_while = now + LACP_AGGREGATE_WAIT_MS;
		return;
	}
	if (s == MUX_ATTACHED)
		p->actor_state |= LACP_STATE_SYNC;
	else if (s == MUX_COLL_DIST)
		p->actor_state |= flags;
	p->ntt = true;
}

/* Ready: every selected member in WAITING has waited its time. */
static bool lacp_mux_ready(const struct lacp *l, uint64_t now)
{
	for (int i = 0; i < LACP_MAX_PORTS; i++) {
		const struct lacp_port *q = &l->port[i];

		if (q->member && q->mux == MUX_WAITING && q->selected && now < q->wait_while)
			return false;
	}
	return true;
}

static bool lacp_mux_step(const struct lacp *l, struct lacp_port *p, uint64_t now)
{
	bool psync = p->partner.state & LACP_STATE_SYNC;

	switch (p->mux) {
	case MUX_DETACHED:
		if (!p->selected)
			return false;
		lacp_mux_enter(p, MUX_WAITING, now);
		return true;
	case MUX_WAITING:
		if (!p->selected)
			lacp_mux_enter(p, MUX_DETACHED, now);
		else if (lacp_mux_ready(l, now))
			lacp_mux_enter(p, MUX_ATTACHED, now);
		else
			return false;
		return true;
	case MUX_ATTACHED:
		if (p->selected && psync)
			lacp_mux_enter(p, MUX_COLL_DIST, now);
		else if (!p->selected)
			lacp_mux_enter(p, MUX_DETACHED, now);
		else
			return false;
		return true;
	default:
		if (p->selected && psync)
			return false;
		lacp_mux_enter(p, MUX_ATTACHED, now);
		return true;
	}
}

/* ---- Periodic Transmission machine (6.4.13) ---- */

static bool lacp_per_step(const struct lacp *l, struct lacp_port *p, uint64_t now)
{
	bool none = !p->enabled || !lacp_enabled(l) ||
		    (!(p->actor_state & LACP_STATE_ACTIVITY) && !(p->partner.state & LACP_STATE_ACTIVITY));
	bool fast = p->partner.state & LACP_STATE_TIMEOUT;

	if (none) {
		if (p->per == PER_NONE)
			return false;
		p->per = PER_NONE;
		return true;
	}
	switch (p->per) {
	case PER_NONE:
		p->per = PER_FAST;
		p->periodic_at = now + LACP_FAST_PERIODIC_MS;
		return true;
	case PER_FAST:
		if (!fast) {
			p->per = PER_SLOW;
			p->periodic_at = now + LACP_SLOW_PERIODIC_MS;
			return true;
		}
		if (now < p->periodic_at)
			return false;
		break;
	default:
		/* a partner now short goes to PERIODIC_TX at once */
		if (!fast && now < p->periodic_at)
			return false;
		break;
	}
	/* PERIODIC_TX, then FAST_PERIODIC or SLOW_PERIODIC */
	p->ntt = true;
	p->per = fast ? PER_FAST : PER_SLOW;
	p->periodic_at = now + (fast ? LACP_FAST_PERIODIC_MS : LACP_SLOW_PERIODIC_MS);
	return true;
}

/* ---- running them ---- */

/* Fires every enabled transition until none is; then, as the Transmit
 * machine wants, a member with no periodic transmission has nothing to
 * send. */
static void lacp_settle(struct lacp *l, uint64_t now)
{
	for (int round = 0; round < LACP_SETTLE_MAX; round++) {
		bool moved = false;

		for (int i = 0; i < LACP_MAX_PORTS; i++)
			if (l->port[i].member)
				moved |= lacp_rx_step(l, &l->port[i], now);
		moved |= lacp_select(l);
		for (int i = 0; i < LACP_MAX_PORTS; i++)
			if (l->port[i].member)
				moved |= lacp_mux_step(l, &l->port[i], now);
		for (int i = 0; i < LACP_MAX_PORTS; i++)
			if (l->port[i].member)
				moved |= lacp_per_step(l, &l->port[i], now);
		if (!moved)
			break;
	}
	for (int i = 0; i < LACP_MAX_PORTS; i++)
		if (l->port[i].per == PER_NONE)
			l->port[i].ntt = false;
}

static bool lacp_tx_allowed(const struct lacp_port *p, uint64_t now)
{
	return p->tx_n < LACP_TX_MAX || now >= p->tx_at[p->tx_next] + LACP_FAST_PERIODIC_MS;
}

static void lacp_tx(const struct lacp *l, struct lacp_port *p, unsigned idx, uint64_t now, lacp_send_fn *send,
		    void *arg)
{
	struct lacp_pdu pdu = { .version = 1 };
	uint8_t f[LACP_FRAME_LEN];

	lacp_actor(l, p, &pdu.actor);
	pdu.partner = p->partner;
	lacp_pdu_build(f, sizeof(f), p->mac, &pdu);
	p->ntt = false;
	p->tx_at[p->tx_next] = now;
	p->tx_next = (p->tx_next + 1) % LACP_TX_MAX;
	if (p->tx_n < LACP_TX_MAX)
		p->tx_n++;
	p->c.tx_lacpdu++;
	send(arg, idx, f, sizeof(f));
}

static void lacp_soonest(uint64_t *d, uint64_t t, uint64_t now)
{
	if (t > now && t < *d)
		*d = t;
}

/* The earliest timer ahead of now.  A timer at or before now has fired
 * (lacp_settle() left no transition enabled), but for a member in WAITING
 * whose own wait is over and which waits for the others. */
static uint64_t lacp_deadline(const struct lacp *l, uint64_t now)
{
	uint64_t d = UINT64_MAX;

	for (int i = 0; i < LACP_MAX_PORTS; i++) {
		const struct lacp_port *p = &l->port[i];

		if (!p->member)
			continue;
		if (p->rx == RX_CURRENT || p->rx == RX_EXPIRED)
			lacp_soonest(&d, p->current_while, now);
		if (p->mux == MUX_WAITING)
			lacp_soonest(&d, p->wait_while, now);
		if (p->per != PER_NONE)
			lacp_soonest(&d, p->periodic_at, now);
		if (p->ntt && p->per != PER_NONE && p->tx_n == LACP_TX_MAX)
			lacp_soonest(&d, p->tx_at[p->tx_next] + LACP_FAST_PERIODIC_MS, now);
	}
	return d;
}

uint64_t lacp_run(struct lacp *l, uint64_t now, lacp_send_fn *send, void *arg)
{
	lacp_settle(l, now);
	for (unsigned i = 0; i < LACP_MAX_PORTS; i++) {
		struct lacp_port *p = &l->port[i];

		if (p->member && p->ntt && p->per != PER_NONE && lacp_tx_allowed(p, now))
			lacp_tx(l, p, i, now, send, arg);
	}
	return lacp_deadline(l, now);
}

/* ---- the aggregation and its members ---- */

struct lacp *lacp_new(const struct lacp_actor_cfg *cfg)
{
	struct lacp *l;

	if ((unsigned)cfg->mode > LACP_PASSIVE || (unsigned)cfg->timer > LACP_LONG)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (l)
		l->cfg = *cfg;
	return l;
}

void lacp_free(struct lacp *l)
{
	free(l);
}

static uint8_t lacp_admin_state(const struct lacp *l)
{
	return (uint8_t)(LACP_STATE_AGGREGATION | (l->cfg.mode == LACP_ACTIVE ? LACP_STATE_ACTIVITY : 0) |
			 (l->cfg.timer == LACP_SHORT ? LACP_STATE_TIMEOUT : 0));
}

int lacp_port_add(struct lacp *l, unsigned idx, const uint8_t mac[6], uint16_t port_no, bool carrier,
		  uint64_t now)
{
	struct lacp_port *p;

	if (idx >= LACP_MAX_PORTS || port_no == 0)
		return -EINVAL;
	p = &l->port[idx];
	if (p->member)
		return -EEXIST;
	memset(p, 0, sizeof(*p));
	p->member = true;
	p->enabled = carrier;
	memcpy(p->mac, mac, 6);
	p->port_no = port_no;
	p->actor_state = lacp_admin_state(l);
	/* BEGIN */
	lacp_rx_initialize(p);
	lacp_mux_enter(p, MUX_DETACHED, now);
	p->per = PER_NONE;
	lacp_settle(l, now);
	return 0;
}

void lacp_port_del(struct lacp *l, unsigned idx, uint64_t now)
{
	if (idx >= LACP_MAX_PORTS || !l->port[idx].member)
		return;
	memset(&l->port[idx], 0, sizeof(l->port[idx]));
	lacp_settle(l, now);
}

void lacp_carrier(struct lacp *l, unsigned idx, bool up, uint64_t now)
{
	if (idx >= LACP_MAX_PORTS || !l->port[idx].member || l->port[idx].enabled == up)
		return;
	l->port[idx].enabled = up;
	lacp_settle(l, now);
}

/* An administrative change: the new actor state goes out at once. */
static void lacp_reconfigure(struct lacp *l, uint64_t now)
{
	const uint8_t admin = LACP_STATE_ACTIVITY | LACP_STATE_TIMEOUT;

	for (int i = 0; i < LACP_MAX_PORTS; i++) {
		struct lacp_port *p = &l->port[i];

		if (!p->member)
			continue;
		p->actor_state = (uint8_t)((p->actor_state & ~admin) | (lacp_admin_state(l) & admin));
		p->ntt = true;
	}
	lacp_settle(l, now);
}

int lacp_set_mode(struct lacp *l, enum lacp_mode mode, uint64_t now)
{
	if ((unsigned)mode > LACP_PASSIVE)
		return -EINVAL;
	l->cfg.mode = mode;
	lacp_reconfigure(l, now);
	return 0;
}

int lacp_set_timer(struct lacp *l, enum lacp_timer timer, uint64_t now)
{
	if ((unsigned)timer > LACP_LONG)
		return -EINVAL;
	l->cfg.timer = timer;
	lacp_reconfigure(l, now);
	return 0;
}

void lacp_set_system(struct lacp *l, const uint8_t sys_mac[6], uint16_t sys_prio, uint64_t now)
{
	memcpy(l->cfg.sys_mac, sys_mac, 6);
	l->cfg.sys_prio = sys_prio;
	for (int i = 0; i < LACP_MAX_PORTS; i++)
		l->port[i].selected = false;
	lacp_reconfigure(l, now);
}

/* ---- receiving ---- */

/* A valid LACPDU on member p (index idx). */
static void lacp_rx_lacpdu(struct lacp *l, unsigned idx, const struct lacp_pdu *pdu, uint64_t now)
{
	struct lacp_port *p = &l->port[idx];

	p->c.rx_lacpdu++;
	if (pdu->actor.sys_prio == l->cfg.sys_prio && !memcmp(pdu->actor.sys_mac, l->cfg.sys_mac, 6)) {
		p->c.rx_looped++;
		return;
	}
	if (p->rx != RX_EXPIRED && p->rx != RX_DEFAULTED && p->rx != RX_CURRENT)
		return;
	/* port_moved: a member down whose partner port now speaks here */
	for (unsigned i = 0; i < LACP_MAX_PORTS; i++) {
		struct lacp_port *q = &l->port[i];

		if (i != idx && q->member && q->rx == RX_PORT_DISABLED &&
		    !(q->actor_state & LACP_STATE_DEFAULTED) && q->partner.port_no == pdu->actor.port_no &&
		    q->partner.sys_prio == pdu->actor.sys_prio && !memcmp(q->partner.sys_mac, pdu->actor.sys_mac, 6))
			q->port_moved = true;
	}
	lacp_rx_current(l, p, pdu, now);
	lacp_settle(l, now);
}

/* A Marker PDU on member p: the response to an information PDU in out. */
static int lacp_rx_marker(struct lacp_port *p, const uint8_t *f, size_t len, uint8_t *out, size_t outlen)
{
	if (!lacp_slow_frame(f, len) || f[OFF_VERSION] == 0 || f[OFF_MARKER + 1] != 16 ||
	    (f[OFF_MARKER] != TLV_MARKER_INFO && f[OFF_MARKER] != TLV_MARKER_RESP) ||
	    (f[OFF_VERSION] == 1 && (f[OFF_MARKER_TERM] != 0 || f[OFF_MARKER_TERM + 1] != 0))) {
		p->c.rx_malformed++;
		return -EBADMSG;
	}
	if (f[OFF_MARKER] == TLV_MARKER_RESP) {
		p->c.rx_marker_resp++;
		return 0;
	}
	p->c.rx_marker++;
	if (outlen < LACP_FRAME_LEN)
		return -ENOSPC;
	memset(out, 0, LACP_FRAME_LEN);
	lacp_eth_header(out, p->mac);
	out[OFF_SUBTYPE] = LACP_SUBTYPE_MARKER;
	out[OFF_VERSION] = 1;
	out[OFF_MARKER] = TLV_MARKER_RESP;
	out[OFF_MARKER + 1] = 16;
	/* Requester_Port, Requester_System, Requester_Transaction_ID; the
	 * two Pad octets stay 0 */
	memcpy(out + OFF_MARKER + 2, f + OFF_MARKER + 2, 12);
	p->c.tx_marker_resp++;
	return LACP_FRAME_LEN;
}

int lacp_rx(struct lacp *l, unsigned idx, const uint8_t *frame, size_t len, uint64_t now, uint8_t *out,
	    size_t outlen)
{
	struct lacp_port *p;
	struct lacp_pdu pdu;

	if (idx >= LACP_MAX_PORTS || !l->port[idx].member)
		return -ENOENT;
	p = &l->port[idx];
	lacp_settle(l, now);
	if (len <= OFF_SUBTYPE || lacp_get16(frame + OFF_TYPE) != LACP_ETHERTYPE) {
		p->c.rx_malformed++;
		return -EBADMSG;
	}
	switch (frame[OFF_SUBTYPE]) {
	case LACP_SUBTYPE_LACP:
		if (lacp_pdu_parse(frame, len, &pdu) < 0) {
			p->c.rx_malformed++;
			return -EBADMSG;
		}
		lacp_rx_lacpdu(l, idx, &pdu, now);
		return 0;
	case LACP_SUBTYPE_MARKER:
		return lacp_rx_marker(p, frame, len, out, outlen);
	default:
		/* 3..10 are the other Slow Protocols (OAM, OSSP, ...) */
		if (frame[OFF_SUBTYPE] >= 3 && frame[OFF_SUBTYPE] <= 10) {
			p->c.rx_unknown++;
			return 0;
		}
		p->c.rx_malformed++;
		return -EBADMSG;
	}
}

/* ---- what the caller reads ---- */

bool lacp_collecting(const struct lacp *l, unsigned idx)
{
	const struct lacp_port *p;

	if (idx >= LACP_MAX_PORTS || !l->port[idx].member)
		return false;
	p = &l->port[idx];
	if (!lacp_enabled(l))
		return p->enabled;
	return p->enabled && p->mux == MUX_COLL_DIST;
}

bool lacp_distributing(const struct lacp *l, unsigned idx)
{
	return lacp_collecting(l, idx);
}

void lacp_port_info(const struct lacp *l, unsigned idx, struct lacp_port_info *out)
{
	const struct lacp_port *p;

	memset(out, 0, sizeof(*out));
	if (idx >= LACP_MAX_PORTS || !l->port[idx].member)
		return;
	p = &l->port[idx];
	out->member = true;
	out->carrier = p->enabled;
	out->selected = p->selected;
	out->collecting = lacp_collecting(l, idx);
	out->distributing = lacp_distributing(l, idx);
	memcpy(out->mac, p->mac, 6);
	lacp_actor(l, p, &out->actor);
	out->partner = p->partner;
	out->rx_state = lacp_rx_names[p->rx];
	out->mux_state = lacp_mux_names[p->mux];
	out->periodic_state = lacp_per_names[p->per];
	out->rx_lacpdu = p->c.rx_lacpdu;
	out->tx_lacpdu = p->c.tx_lacpdu;
	out->rx_marker = p->c.rx_marker;
	out->tx_marker_resp = p->c.tx_marker_resp;
	out->rx_marker_resp = p->c.rx_marker_resp;
	out->rx_unknown = p->c.rx_unknown;
	out->rx_malformed = p->c.rx_malformed;
	out->rx_looped = p->c.rx_looped;
}
