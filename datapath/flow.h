/*
 * The flow classifier: which of a link's flows (SPEC §4) a packet belongs
 * to, and per-flow, per-worker counters.
 *
 * A link's flows are compiled into one immutable table (struct vw_flowtab),
 * built by the control thread and published on the link's port RCU-style
 * (vw_switch_set_flows(), datapath/vswitch.h): a worker loads port->flows
 * with one acquire load per batch; the control thread publishes a new table,
 * waits for a grace period and only then frees the old one.
 *
 * Lookup, as Crossbow's flow tables do it: every flow is a (mask, value)
 * pair over the 40-byte key below; flows with the same mask (the same
 * attribute combination and the same prefix lengths) share one hash table,
 * a "subtable".  A lookup masks the key once per subtable and probes that
 * subtable's hash, so its cost depends on the number of distinct masks
 * present, never on the number of flows (a probe reads one bucket line
 * and, on a hit, one entry line; see datapath/flow.c).  Subtables are
 * probed from the most specific mask (most bits) to the least; since the
 * flows of one link never overlap, at most one flow can match and the
 * order changes only how soon a hit returns, not which flow it finds.
 *
 * Counters: each flow has a struct vw_flow_stats owned by the control thread
 * (objects/flow.c), shared by every table that holds the flow, so a flow's
 * counts survive the rebuilds that adding or removing other flows causes.
 * Worker w writes only w[w], with plain stores; the control thread sums the
 * slots with relaxed loads, as for port statistics.
 */
#ifndef VW_FLOW_H
#define VW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath/pkt.h"
#include "datapath/port.h"
#include "lib/vwire.h"

/*
 * What a flow can match on, from the link's point of view: local is the
 * source of a frame the link sends, the destination of one it receives.
 * IPv4 addresses are IPv4-mapped (::ffff:a.b.c.d).  A frame that is not IP
 * (family 0) or whose headers do not parse matches no flow.
 */
struct vw_flow_key {
	union {
		struct {
			uint8_t laddr[16];
			uint8_t raddr[16];
			uint16_t lport, rport; /* host order; 0 when absent */
			uint8_t family;        /* 4 or 6; 0: not IP */
			uint8_t proto;
			uint8_t dsfield;       /* DSCP << 2 | ECN */
			uint8_t pad;           /* 0 */
		};
		uint64_t w[5];
	};
};

struct vw_flow_stats {
	/* The flow's class in its link's shaper (datapath/shape.h); 0, the
	 * link's default class, while the flow has no traffic property.
	 * Written and read only by the link's owner worker. */
	uint16_t cls;
	uint32_t conns; /* connections counted against maxconn (owner, now and then) */
	uint64_t drops; /* its class's queue drops, both ways (owner, now and then) */
	struct {
		uint64_t ipkts, ibytes; /* the link received */
		uint64_t opkts, obytes; /* the link sent */
		uint64_t refused;       /* connections refused by maxconn */
		uint64_t clamped;       /* SYNs whose MSS was clamped */
	} __attribute__((aligned(64))) w[VW_MAX_WORKERS];
};

struct vw_flowtab;

/* Allocates zeroed counters (64-byte aligned); free with free(). */
struct vw_flow_stats *vw_flow_stats_new(void);
/* Sums every worker's slot (control thread). */
void vw_flow_stats_sum(const struct vw_flow_stats *s, uint64_t *ipkts, uint64_t *ibytes, uint64_t *opkts,
		       uint64_t *obytes);
/* The same for the traffic-management counters. */
void vw_flow_stats_tm(const struct vw_flow_stats *s, uint64_t *refused, uint64_t *clamped);

/*
 * Compiles n flows (their attributes, and the counters each one counts in)
 * into a table.  Flow i is reported by lookups as i.  The flows must not
 * overlap (vw_flow_attrs_overlap); if two do, which one a packet of both
 * finds is unspecified.  NULL when out of memory.
 */
struct vw_flowtab *vw_flowtab_build(const struct vw_flow_attrs *attrs, struct vw_flow_stats *const *stats, unsigned n);
void vw_flowtab_free(struct vw_flowtab *ft);
/* Subtables (distinct masks) in the table. */
unsigned vw_flowtab_nsub(const struct vw_flowtab *ft);

/* The index of the flow the key belongs to, or -1. */
int vw_flowtab_lookup(const struct vw_flowtab *ft, const struct vw_flow_key *k);
/* The same for n keys: id[i] = vw_flowtab_lookup(ft, &k[i]).  Cheaper per
 * key than n single lookups on a large table: the memory accesses of
 * several keys overlap (hash all, prefetch, then probe). */
void vw_flowtab_lookup_batch(const struct vw_flowtab *ft, const struct vw_flow_key *k, unsigned n, int *id);

/* The hash the table uses on a (masked) key; every bit of the key moves
 * every bit of the hash.  Exposed for the tests. */
uint64_t vw_flow_key_hash(const struct vw_flow_key *k);


/* The reference: whether the key meets every attribute (a linear scan of
 * these is what the table must agree with). */
bool vw_flow_match(const struct vw_flow_attrs *a, const struct vw_flow_key *k);

/* Fills k from an Ethernet frame (datapath/pktparse.h); sent: the link sent
 * it (local = source), else it received it (local = destination).  false
 * when the frame is not IP or does not parse (k->family is then 0). */
bool vw_flow_key_from_frame(const uint8_t *frame, uint32_t len, bool sent, struct vw_flow_key *k);

/*
 * Classifies n frames as vw_flowtab_count does, without counting: fills
 * k[i] (vw_flow_key_from_frame; family 0 when not IP) and st[i], the
 * counters (and so the cls) of frame i's flow, or NULL.  ft may be NULL.
 */
void vw_flowtab_classify(const struct vw_flowtab *ft, struct vw_pkt *const *pkts, unsigned n, bool sent,
			 struct vw_flow_key *k, struct vw_flow_stats **st);

/*
 * Worker w: classifies n frames and counts each that belongs to a flow
 * (packets and bytes, in the direction sent gives).  Frames that match no
 * flow are not counted anywhere.
 */
void vw_flowtab_count(const struct vw_flowtab *ft, int w, struct vw_pkt *const *pkts, unsigned n, bool sent);

#endif
