/*
 * The virtual switch: one per etherstub or uplink that has VNICs.
 *
 * Policy (SPEC §3): frames are classified on (VID, destination MAC).  A
 * VNIC's frames belong to its VID (they must arrive untagged); the uplink's
 * carry their VID in an 802.1Q tag (none: VID 0).  Known unicast goes to
 * that VNIC; broadcast to every other VNIC of the VID (and the uplink);
 * multicast to the VNICs of the VID that joined the group (and the uplink);
 * unknown unicast from a VNIC to the uplink, or nowhere.  Nothing from the
 * uplink goes back to it, and no frame crosses into another VID.
 *
 * Threading: the control thread owns struct vw_switch and its port list
 * and is the only one to call the functions below except vw_switch_input().
 * The forwarding table (struct vw_fdb) is an open-addressing hash that the
 * control thread changes in place, one entry at a time, while workers read
 * it without locks: a new entry's value is written before its key (release),
 * a removed key becomes a tombstone, a member list is appended to in place
 * (its length stored last) and replaced whole when it must grow or shrink.
 * Nothing a worker may still hold is reused or freed before a grace period
 * (datapath/rcu.h): a tombstone or a free port index is reused, and a
 * replaced list or table freed, only after vw_rcu_synchronize().  So attach
 * and detach cost does not depend on the number of ports (the table is
 * rebuilt only when it must grow or shrink, amortized).  Workers read the
 * table's header once per batch with an acquire load.
 *
 * Per destination, a worker touches only its own arrays, indexed by the
 * port's small index (port->swid - 1): the port and what delivering to it
 * calls (its tx hook, set by the control thread when the port is attached
 * and whenever the hook changes; else its backend's write, read from
 * port->ops the first time the worker delivers to the port and kept), its
 * tx counters (one 32-byte entry), and its queue slot in the batch; never
 * the port itself.  A port's ops must not change once it has carried
 * traffic.
 */
#ifndef VW_VSWITCH_H
#define VW_VSWITCH_H

#include "datapath/port.h"

#define VW_MAX_DSTS 256 /* destinations queued per batch before a flush */

struct vw_fdb;
struct vw_swrec;

struct vw_switch {
	char name[16];
	struct vw_fdb *fdb; /* published table; atomic pointer */
	uint32_t fast_id;   /* the switch's id in the kernel fast path's maps */
	/* control thread only: */
	struct vw_port **ports; /* the VNIC ports, in no particular order */
	unsigned nports, cap;
	struct vw_port *uplink;
	struct vw_swrec *rec; /* per port index: port, positions, groups */
	uint32_t nrec, caprec; /* indices handed out (high water), room */
	uint32_t free_id;      /* first free index (a list through rec) */
	void **garbage;        /* to free after the next grace period */
	unsigned ngarbage, capgarbage;
	unsigned rebuilds; /* times the table or the arrays were replaced */
};

/* Per-worker forwarding scratch: queues of packets per destination. */
struct vw_fwd_queue {
	uint32_t id; /* the destination's index in its switch */
	bool tag;
	unsigned n;
	uint64_t bytes; /* on the wire, tag included */
	struct vw_pkt *pkts[VW_BATCH];
};

struct vw_fwd {
	int worker;
	unsigned ndst;
	struct vw_pool pool;
	struct vw_fwd_queue dst[VW_MAX_DSTS];
};

int vw_fwd_init(struct vw_fwd *f, int worker, unsigned nbufs);
void vw_fwd_fini(struct vw_fwd *f);

struct vw_switch *vw_switch_new(const char *name);
/* Frees the switch; it must have no ports and no worker may use it. */
void vw_switch_free(struct vw_switch *sw);
/* Adds a VNIC port (port->uplink false) or the uplink. -EEXIST if the
 * VNIC's (VID, MAC) is taken on this switch or it already has an uplink,
 * -EBUSY if the port is attached already, -EINVAL for a VNIC with a
 * multicast MAC. */
int vw_switch_attach(struct vw_switch *sw, struct vw_port *port);
/* Removes the port.  The caller must wait a grace period before freeing it. */
void vw_switch_detach(struct vw_switch *sw, struct vw_port *port);
/* Sets the multicast groups a VNIC port has joined (replaces the old set;
 * -EINVAL if one is not a multicast address, -ENOENT if the port is not a
 * VNIC of this switch).  Order and repeats do not matter, and the broadcast
 * address is every VNIC's already; the table changes only when the set
 * does. */
int vw_switch_set_mcast(struct vw_switch *sw, struct vw_port *port, const uint8_t (*macs)[6], unsigned n);

/*
 * Publishes ft as the port's flow table (NULL: no flows) and returns the old
 * one once no worker can hold it any more (after a grace period), for the
 * caller to free.  While any port of the switch has a table, workers
 * classify what crosses the switch: what a port sends on receive, what it
 * is given on delivery (vw_switch_input); otherwise one branch per batch is
 * all flows cost.  Control thread.
 */
struct vw_flowtab *vw_switch_set_flows(struct vw_switch *sw, struct vw_port *port, struct vw_flowtab *ft);

/*
 * Sets a VNIC port's MTU (0: not checked).  Workers then drop, counting
 * drop_mtu on the sender, a frame longer than mtu + 14 that the port sends
 * or that would be delivered to it; a GSO super-frame is judged by its
 * segments (headers + gso_size, vw_gso_seglen()).  Control thread; the port
 * may be attached or not.
 */
void vw_switch_set_mtu(struct vw_switch *sw, struct vw_port *port, uint32_t mtu);

/* Adds port's live tx counters (what the switch delivered to it while
 * attached) to sum; vw_port_stats_sum() calls it.  Control thread. */
void vw_switch_stats_add(const struct vw_port *port, struct vw_port_stats *sum);

/* For tests: checks the table built by in-place updates against one built
 * from scratch from the switch's ports and groups (same keys, same members,
 * no duplicates, every key reachable), and the port bookkeeping.  0, or
 * -EINVAL with the first difference in why. */
int vw_switch_verify(const struct vw_switch *sw, char *why, size_t len);

/* An eventfd the workers write to when a VNIC's multicast membership may
 * have changed (they saw it send an MLD or IGMP report; the port's
 * mcast_dirty is set).  Set by the control thread before workers start. */
extern int vw_switch_event_fd;
/* Marks the port's multicast membership for a re-read (mcast_dirty) and
 * wakes the control thread, unless it was marked already: what a worker does
 * when it sees a group report, and the control thread for a new VNIC. */
void vw_switch_mcast_changed(struct vw_port *port);

/* Worker side: forwards a batch of n <= VW_BATCH packets received from port
 * in.  Every packet is back in f->pool when it returns. */
void vw_switch_input(struct vw_fwd *f, struct vw_port *in, struct vw_pkt **pkts, int n);
/* Control thread: the port's tx hook changed (vw_port_hook_set calls it);
 * every worker delivers to it through its hook, or its backend, from now
 * on.  Nothing to do for a port that is not attached. */
void vw_switch_port_tx_changed(struct vw_port *port);
/* The port whose batch the calling worker is forwarding, while it is in
 * vw_switch_input() (NULL outside): a destination's tx hook may read it
 * (a shaped uplink picks the egress class of the VNIC it comes from). */
extern __thread struct vw_port *vw_switch_src;

#endif
