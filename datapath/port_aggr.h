/*
 * The uplink port of a link aggregation (datapath/port_aggr.c): frames out
 * on one distributing member by a hash of their headers, in from the
 * collecting members.  Control thread for everything but the port's ops
 * (and vw_aggr_hash, which is pure).
 */
#ifndef VW_PORT_AGGR_H
#define VW_PORT_AGGR_H

#include <stdbool.h>
#include <stdint.h>
#include "datapath/port.h"

#define VW_AGGR_MAX 8 /* members of one aggregation */

/* Distribution policy bits (create-aggr -P): what the hash covers */
#define VW_AGGR_L2 0x1 /* source and destination MAC */
#define VW_AGGR_L3 0x2 /* source and destination IP */
#define VW_AGGR_L4 0x4 /* TCP, UDP or SCTP ports */

/* One member's counters, in the aggregation's terms */
struct vw_aggr_mstats {
	uint64_t rx_pkts, rx_bytes;   /* taken in from it */
	uint64_t tx_pkts, tx_bytes;   /* sent on it */
	uint64_t rx_slow;             /* LACP and marker frames, left to the control thread */
	uint64_t drop_notcoll;        /* received while it was not collecting */
	uint64_t drop_txerr;          /* its socket would not take them */
};

/* A port with no member yet (all frames sent to it are refused until one
 * distributes).  Its kernel fast-path state says "slow": the fast path
 * hands its frames to userspace. */
struct vw_port *vw_aggr_open(const char *name, unsigned policy, int *err);
bool vw_aggr_is(const struct vw_port *port);
/* Opens member idx (0..VW_AGGR_MAX-1) on interface ifname: neither
 * collecting nor distributing.  0 or -errno (nothing changed). */
int vw_aggr_member_add(struct vw_port *port, unsigned idx, const char *ifname, int ifindex);
/* The same with a port already open (any backend; an in-memory one in the
 * unit tests), which the aggregation owns from now on (not on failure). */
int vw_aggr_member_set(struct vw_port *port, unsigned idx, struct vw_port *member, int ifindex);
/* Closes member idx; returns once no worker can be using it. */
void vw_aggr_member_del(struct vw_port *port, unsigned idx);
/* Whether member idx takes in (collecting) and sends (distributing)
 * frames; the workers see it when this returns.  0 or -errno. */
int vw_aggr_member_state(struct vw_port *port, unsigned idx, bool collecting, bool distributing);
int vw_aggr_set_policy(struct vw_port *port, unsigned policy);
/* Sum over the workers of member idx's counters (zero for no member). */
void vw_aggr_member_stats(const struct vw_port *port, unsigned idx, struct vw_aggr_mstats *sum);
/* The hash a frame is distributed by: over what policy names, from the
 * frame's own headers (outer VLAN tags skipped); a later IP fragment is
 * hashed without ports, so with L4 it may take another member than the
 * first (as Crossbow's and the bonding driver's layer3+4). */
uint32_t vw_aggr_hash(const uint8_t *frame, uint32_t len, unsigned policy);

#endif
