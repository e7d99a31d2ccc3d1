/*
 * Connection table for admission control (SPEC §4 flow property `maxconn`).
 *
 * A fixed-capacity open-addressing hash (linear probing, deletion by
 * backward shift, no tombstones) of connections: TCP and UDP 5-tuples, one
 * entry for both directions, each owned by a flow id.  vw_ct_lookup() finds
 * a packet's connection or admits a new one if its flow is below its limit;
 * the table keeps the number of active connections of every flow id
 * exactly.  Everything is allocated by vw_ct_init(); lookups, updates and
 * expiry allocate nothing.
 *
 * TCP states (timeouts are idle times, configurable, defaults in brackets):
 *   OPENING   seen from one side only: a SYN, or a connection picked up in
 *             the middle (a non-SYN packet with no entry, e.g. after a
 *             restart or an idle expiry) [10 s, "half-open"]; a packet from
 *             the other side makes it
 *   EST       established [300 s];
 *   CLOSING   a FIN seen from one side (half-closed) [60 s];
 *   CLOSED    FINs seen from both sides, or a RST from either: no longer
 *             counted, and the entry is released after a linger [2 s] so
 *             that the last ACK or a retransmitted FIN does not look like a
 *             new connection.  A SYN for a CLOSED entry is a new connection
 *             (port reuse) and is admitted like one.
 * A RST or FIN for which there is no entry creates none (VW_CT_UNTRACKED).
 * UDP (and any other protocol given): UDP, counted, [30 s].
 *
 * Expiry is incremental: vw_ct_sweep() moves a clock hand over k slots,
 * freeing what has been idle too long; a lookup that meets an expired entry
 * frees it first.  So a flow's count can include connections that are past
 * their timeout but not yet swept: call vw_ct_sweep() once per batch (a few
 * slots per packet) and the delay is bounded by one turn of the hand.
 *
 * Threading: an instance is single-threaded: no locks, no atomics.  Its
 * owner calls every function, vw_ct_flush_flow() and vw_ct_count() included
 * (the control thread asks the owner, or reads counts that are only
 * approximately current).  See docs/design.md, "Admission control", for how
 * one table per link and several workers fit together.
 *
 * Hashing is keyed with a seed (give a random one) so that remote hosts
 * cannot choose 5-tuples that collide.
 */
#ifndef VW_CONNTAB_H
#define VW_CONNTAB_H

#include <stdint.h>

#include "datapath/pktparse.h"

#define VW_CT_NOLIMIT UINT32_MAX

/* A direction-independent 5-tuple: (a, pa) <= (b, pb) in memcmp order. */
struct vw_ct_key {
	uint8_t a[16]; /* as in vw_pktinfo: IPv4 as ::ffff:a.b.c.d */
	uint8_t b[16];
	uint16_t pa, pb;
	uint8_t proto;
	uint8_t pad[3];
};

/* One slot: a cache line. */
struct vw_ct_entry {
	struct vw_ct_key key; /* 40 bytes */
	uint32_t flow;
	uint32_t hash;        /* of key and flow: its home slot, and a filter */
	uint64_t last;        /* ns of the last packet (of the close when CLOSED) */
	uint8_t state;        /* VW_CT_S_*; FREE for an empty slot */
	uint8_t flags;        /* CT_ORIG_B, CT_FIN_A, CT_FIN_B (conntab.c) */
	uint8_t pad[6];
} __attribute__((aligned(64)));

enum {
	VW_CT_S_FREE = 0,
	VW_CT_S_OPENING,
	VW_CT_S_EST,
	VW_CT_S_CLOSING,
	VW_CT_S_CLOSED,
	VW_CT_S_UDP,
};

/* Verdicts of vw_ct_lookup(). */
enum vw_ct_verdict {
	VW_CT_NEW,       /* admitted: a new entry, counted for the flow */
	VW_CT_EXISTING,  /* a packet of a known connection */
	VW_CT_REFUSE,    /* a new connection over the flow's limit: nothing
			    stored; send a RST for a TCP SYN, else drop */
	VW_CT_FULL,      /* a new connection, but no room: nothing stored */
	VW_CT_UNTRACKED, /* a TCP RST or FIN with no entry: nothing stored */
	VW_CT_INVAL,     /* flow id >= nflows, or a bad key */
};

struct vw_ct_timeouts {
	uint64_t opening_ns; /* half-open, and picked up mid-stream: 10 s */
	uint64_t est_ns;     /* established: 300 s */
	uint64_t closing_ns; /* a FIN seen from one side: 60 s */
	uint64_t linger_ns;  /* closed, before the entry is freed: 2 s */
	uint64_t udp_ns;     /* UDP and others: 30 s */
};

struct vw_ct_stats {
	uint64_t admitted, refused, full, expired, closed;
};

struct vw_conntab {
	struct vw_ct_entry *slot;
	uint32_t *count;  /* active connections per flow id */
	uint32_t mask;    /* slots - 1 */
	uint32_t max;     /* entries allowed: 3/4 of the slots */
	uint32_t n;       /* entries in use, CLOSED ones too */
	uint32_t nflows;
	uint32_t hand;    /* next slot vw_ct_sweep() looks at */
	uint64_t seed;
	struct vw_ct_timeouts to;
	struct vw_ct_stats stats;
};

/*
 * Sets up a table for at least capacity connections (slots: the power of
 * two at or above 4/3 of it) and flow ids 0..nflows-1.  to == NULL takes
 * the defaults.  Returns 0, -EINVAL (capacity 0 or above 2^28, nflows 0),
 * or -ENOMEM.
 */
int vw_ct_init(struct vw_conntab *t, uint32_t capacity, uint32_t nflows, uint64_t seed,
	       const struct vw_ct_timeouts *to);
void vw_ct_fini(struct vw_conntab *t);

/*
 * Makes the direction-independent key of a parsed packet (pi->ipver 4 or
 * 6, l4 reached; ports are 0 for protocols without them).  Returns the
 * packet's direction: 0 if it was sent by (a, pa), 1 if by (b, pb); or -1
 * if pi has no transport header (not IP, a later fragment).
 */
int vw_ct_key_make(struct vw_ct_key *k, const struct vw_pktinfo *pi);

/*
 * The packet with key k, sent from side dir (vw_ct_key_make()), TCP flags
 * tcp_flags (ignored for other protocols), classified into flow whose
 * `maxconn` is limit (VW_CT_NOLIMIT: none), seen at now (monotonic ns):
 * finds its connection and updates it, or admits a new one.  Only a
 * packet that would open a connection is ever refused: a TCP SYN without
 * ACK, a TCP packet picked up mid-stream, a UDP packet of an unknown
 * 5-tuple.  The same 5-tuple in two flows is two connections.
 */
enum vw_ct_verdict vw_ct_lookup(struct vw_conntab *t, const struct vw_ct_key *k, int dir,
				uint8_t tcp_flags, uint32_t flow, uint32_t limit, uint64_t now);

/*
 * Looks at the next k slots (and, after freeing one, again at the same
 * slot, which the backward shift refilled); frees every entry idle beyond
 * its state's timeout at now.  Returns the number freed.  k = the number
 * of slots gives a full turn.
 */
uint32_t vw_ct_sweep(struct vw_conntab *t, uint64_t now, uint32_t k);

/* Frees every entry of flow (when the flow is removed or its id reused);
 * a whole pass over the table.  Returns the number freed. */
uint32_t vw_ct_flush_flow(struct vw_conntab *t, uint32_t flow);

/* Active (counted) connections of flow: every state but CLOSED. */
static inline uint32_t vw_ct_count(const struct vw_conntab *t, uint32_t flow)
{
	return flow < t->nflows ? t->count[flow] : 0;
}

static inline uint32_t vw_ct_slots(const struct vw_conntab *t)
{
	return t->mask + 1;
}

#endif
