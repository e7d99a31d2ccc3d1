/*
 * The Link Aggregation Control Protocol (IEEE 802.1AX-2014 clause 6.4) of
 * one aggregation: one aggregator and up to LACP_MAX_PORTS member ports.
 * The Linux kernel here has no bonding driver, so, as in Crossbow, LACP is
 * vwire's own.  This is the protocol engine only: the LACPDU and Marker PDU
 * codecs, the Receive, Periodic Transmission, Mux (coupled control) and
 * Transmit machines and the Selection Logic.  It does no I/O, reads no
 * clock and keeps no global state; the caller (the aggregation object and
 * its datapath) moves the frames and applies the verdicts.
 *
 * Time: every call that can move a machine takes `now`, milliseconds on any
 * clock that never goes back (CLOCK_MONOTONIC).  Timers are absolute times
 * compared with it, so a call made late fires what is due at once.
 *
 * Threading: none inside.  One struct lacp belongs to one thread (the
 * caller's), which makes every call on it; calls on different instances are
 * independent.
 *
 * Driving it from a poll loop:
 *
 *	deadline = lacp_run(l, now, send, arg);
 *	loop: poll(..., timeout = deadline - now)
 *	      a Slow Protocols frame (ethertype 0x8809) on member i:
 *	          n = lacp_rx(l, i, frame, len, now, out, sizeof(out));
 *	          if (n > 0) send out[0..n) on member i (a Marker Response)
 *	      carrier change on member i: lacp_carrier(l, i, up, now)
 *	      configuration: lacp_port_add/del, lacp_set_mode/timer/system
 *	      then, and when the deadline has come:
 *	          deadline = lacp_run(l, now, send, arg);
 *	          apply lacp_collecting()/lacp_distributing() of each member
 *
 * Only lacp_run() sends LACPDUs; every other call settles the machines at
 * `now` (so lacp_collecting() and lacp_distributing() are current when it
 * returns: a carrier loss stops the member in the lacp_carrier() call
 * itself) and may leave an LACPDU to send, so call lacp_run() after it.
 * Calling lacp_run() before its deadline is harmless.
 *
 * Mode LACP_OFF is a static aggregation: no LACPDU is sent or used, and a
 * member collects and distributes whenever its carrier is up.
 */
#ifndef VW_OBJ_LACP_H
#define VW_OBJ_LACP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LACP_MAX_PORTS 8

/* Slow Protocols (802.3 Annex 57A) */
#define LACP_ETHERTYPE 0x8809
#define LACP_SUBTYPE_LACP 1
#define LACP_SUBTYPE_MARKER 2
/* An LACPDU or Marker PDU is 110 octets after the 14-octet Ethernet
 * header: a 124-octet frame, 128 with the FCS (which is not ours). */
#define LACP_PDU_LEN 110
#define LACP_FRAME_LEN 124

/* Actor_State and Partner_State bits (802.1AX-2014 6.4.2.3) */
#define LACP_STATE_ACTIVITY 0x01     /* active LACP (else passive) */
#define LACP_STATE_TIMEOUT 0x02      /* short timeout (else long) */
#define LACP_STATE_AGGREGATION 0x04  /* aggregatable (else individual) */
#define LACP_STATE_SYNC 0x08         /* in sync: attached to the right aggregator */
#define LACP_STATE_COLLECTING 0x10
#define LACP_STATE_DISTRIBUTING 0x20
#define LACP_STATE_DEFAULTED 0x40    /* partner information is the defaults */
#define LACP_STATE_EXPIRED 0x80      /* the Receive machine is in EXPIRED */

/* Timing (802.1AX-2014 6.4.4), milliseconds */
#define LACP_FAST_PERIODIC_MS 1000
#define LACP_SLOW_PERIODIC_MS 30000
#define LACP_SHORT_TIMEOUT_MS 3000
#define LACP_LONG_TIMEOUT_MS 90000
#define LACP_AGGREGATE_WAIT_MS 2000
#define LACP_TX_MAX 3 /* LACPDUs per member in any LACP_FAST_PERIODIC_MS */

/* The Actor_Port_Priority of every member (none is configured). */
#define LACP_PORT_PRIO 0x00ff

enum lacp_mode { LACP_OFF, LACP_ACTIVE, LACP_PASSIVE };
enum lacp_timer { LACP_SHORT, LACP_LONG };

struct lacp_actor_cfg {
	uint8_t sys_mac[6];     /* the aggregation's MAC: the System ID with sys_prio */
	uint16_t sys_prio;
	uint16_t key;           /* the Actor key of every member */
	enum lacp_mode mode;
	enum lacp_timer timer;  /* the Timeout asked of the partner */
};

/* One side of a link as an LACPDU carries it: an Actor or Partner TLV. */
struct lacp_peer {
	uint16_t sys_prio;
	uint8_t sys_mac[6];
	uint16_t key;
	uint16_t port_prio;
	uint16_t port_no;
	uint8_t state; /* LACP_STATE_* */
};

/* A decoded LACPDU (the fields this engine uses; reserved octets dropped). */
struct lacp_pdu {
	uint8_t version;
	struct lacp_peer actor, partner;
	uint16_t collector_max_delay; /* tens of microseconds */
};

struct lacp;

/* A new aggregation with no member; NULL if out of memory or cfg's mode or
 * timer is not one of the enums'. */
struct lacp *lacp_new(const struct lacp_actor_cfg *cfg);
void lacp_free(struct lacp *l);

/*
 * Member idx (0..LACP_MAX_PORTS-1) joins: mac is its own address (the
 * source of its LACPDUs and Marker Responses), port_no its Actor port
 * number (not 0, unique in the system), carrier its link state.  Returns 0,
 * -EINVAL (idx out of range, port_no 0) or -EEXIST (idx in use).
 */
int lacp_port_add(struct lacp *l, unsigned idx, const uint8_t mac[6], uint16_t port_no, bool carrier,
		  uint64_t now);
/* Member idx leaves (nothing if it is not a member); the others' selection
 * is settled again at now. */
void lacp_port_del(struct lacp *l, unsigned idx, uint64_t now);
/* Member idx's carrier went up or down.  Down takes it out at once:
 * lacp_collecting() and lacp_distributing() are false when this returns. */
void lacp_carrier(struct lacp *l, unsigned idx, bool up, uint64_t now);

/* modify-aggr -L, -T: take effect at now on every member (an LACPDU saying
 * so is due at the next lacp_run()).  0, or -EINVAL for a value not of the
 * enum (nothing changed). */
int lacp_set_mode(struct lacp *l, enum lacp_mode mode, uint64_t now);
int lacp_set_timer(struct lacp *l, enum lacp_timer timer, uint64_t now);
/* A new System ID (the aggregation's MAC changed): every member is
 * unselected and goes through Aggregate_Wait_Time again, as its partner
 * sees a new system. */
void lacp_set_system(struct lacp *l, const uint8_t sys_mac[6], uint16_t sys_prio, uint64_t now);

/*
 * A Slow Protocols frame received on member idx: the whole Ethernet frame
 * from its destination address (the FCS may be there or not; octets after
 * the PDU are ignored).  An LACPDU is processed; a Marker Information PDU
 * gets its Marker Response built in out (a whole frame from the member's
 * MAC); a Marker Response and the other Slow Protocols (OAM, ...) are
 * counted and ignored; anything malformed is counted and changes nothing.
 * Returns the length of the frame to send back on member idx from out, 0
 * when there is none, -EBADMSG for a malformed frame (counted: nothing to
 * do), -ENOENT when idx is not a member, -ENOSPC when outlen is below
 * LACP_FRAME_LEN and a Marker Response was due (it is not sent).
 */
int lacp_rx(struct lacp *l, unsigned idx, const uint8_t *frame, size_t len, uint64_t now, uint8_t *out,
	    size_t outlen);

/* Where lacp_run() hands each LACPDU: a whole frame of LACP_FRAME_LEN octets
 * for member idx, valid during the call only.  It must not call into l. */
typedef void lacp_send_fn(void *arg, unsigned idx, const uint8_t *frame, size_t len);

/*
 * Runs the timers and the machines at now and sends the LACPDUs due
 * (at most LACP_TX_MAX per member in any LACP_FAST_PERIODIC_MS; one held
 * back goes at the first moment the limit allows).  Returns when it must
 * run next if nothing else happens: a time after now, or UINT64_MAX when no
 * timer runs.
 */
uint64_t lacp_run(struct lacp *l, uint64_t now, lacp_send_fn *send, void *arg);

/* Whether the datapath may take frames received on member idx (collecting)
 * and send on it (distributing).  False for a non-member.  Coupled control:
 * the two are the same, kept apart for the interface's sake. */
bool lacp_collecting(const struct lacp *l, unsigned idx);
bool lacp_distributing(const struct lacp *l, unsigned idx);

/* What show-aggr -L and vwstat print of a member. */
struct lacp_port_info {
	bool member;                 /* false: idx is not a member, the rest is 0 */
	bool carrier;
	bool selected;               /* the Selection Logic chose it for the aggregator */
	bool collecting, distributing;
	uint8_t mac[6];
	struct lacp_peer actor;      /* what its LACPDUs say of it */
	struct lacp_peer partner;    /* the partner's operational values (defaults if none) */
	const char *rx_state;        /* "CURRENT", "EXPIRED", "DEFAULTED", "LACP_DISABLED", "PORT_DISABLED" */
	const char *mux_state;       /* "DETACHED", "WAITING", "ATTACHED", "COLLECTING_DISTRIBUTING" */
	const char *periodic_state;  /* "NO_PERIODIC", "FAST_PERIODIC", "SLOW_PERIODIC" */
	uint64_t rx_lacpdu;          /* valid LACPDUs received (used or not) */
	uint64_t tx_lacpdu;
	uint64_t rx_marker;          /* Marker Information PDUs received */
	uint64_t tx_marker_resp;     /* Marker Responses built */
	uint64_t rx_marker_resp;     /* Marker Responses received (ignored: we send no marker) */
	uint64_t rx_unknown;         /* other Slow Protocols (subtypes 3..10) */
	uint64_t rx_malformed;       /* frames refused, nothing changed */
	uint64_t rx_looped;          /* LACPDUs with our own System ID: ignored */
};

/* In mode LACP_OFF the machines rest in LACP_DISABLED, DETACHED and
 * NO_PERIODIC; collecting and distributing follow the carrier. */
void lacp_port_info(const struct lacp *l, unsigned idx, struct lacp_port_info *out);

/*
 * The LACPDU codec, used by the engine and open to vwsnoop and the tests.
 * lacp_pdu_build() writes the whole frame (destination the Slow Protocols
 * group address 01:80:c2:00:00:02, source src, reserved octets 0) and
 * returns LACP_FRAME_LEN, or -ENOSPC if len is smaller.  lacp_pdu_parse()
 * takes a whole frame and returns 0 or -EBADMSG: a short frame, another
 * ethertype or subtype, version 0, or a wrong TLV type or length.  A
 * version above 1 is read as version 1 (the standard's rule for later
 * versions; their extra TLVs are not checked).
 */
int lacp_pdu_build(uint8_t *f, size_t len, const uint8_t src[6], const struct lacp_pdu *pdu);
int lacp_pdu_parse(const uint8_t *f, size_t len, struct lacp_pdu *pdu);

#endif
