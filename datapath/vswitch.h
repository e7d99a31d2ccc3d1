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
 * Every change builds a new immutable forwarding table (struct vw_fdb) that
 * is published with a release store; workers read it once per batch with an
 * acquire load and never lock.  The old table is freed after a grace period
 * (datapath/rcu.h), so a worker may finish a batch with the table it began.
 */
#ifndef VW_VSWITCH_H
#define VW_VSWITCH_H

#include "datapath/port.h"

#define VW_MAX_DSTS 256 /* destinations queued per batch before a flush */

struct vw_fdb;

struct vw_switch {
	char name[16];
	struct vw_fdb *fdb; /* published table; atomic pointer */
	/* control thread only: */
	struct vw_port **ports;
	unsigned nports, cap;
	struct vw_port *uplink;
	/* multicast groups joined, per VNIC port: parallel to ports[] */
	struct vw_mcast { uint8_t (*macs)[6]; unsigned n; } *mcast;
};

/* Per-worker forwarding scratch: queues of packets per destination. */
struct vw_fwd_queue {
	struct vw_port *port;
	bool tag;
	unsigned n;
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
 * VNIC's (VID, MAC) is taken on this switch or it already has an uplink. */
int vw_switch_attach(struct vw_switch *sw, struct vw_port *port);
/* Removes the port.  The caller must wait a grace period before freeing it. */
void vw_switch_detach(struct vw_switch *sw, struct vw_port *port);
/* Sets the multicast groups a VNIC port has joined (replaces the old set;
 * -EINVAL if one is not a multicast address); republishes only when the set
 * changed. */
int vw_switch_set_mcast(struct vw_switch *sw, struct vw_port *port, const uint8_t (*macs)[6], unsigned n);

/* An eventfd the workers write to when a VNIC's multicast membership may
 * have changed (they saw it send an MLD or IGMP report; the port's
 * mcast_dirty is set).  Set by the control thread before workers start. */
extern int vw_switch_event_fd;

/* Worker side: forwards a batch of n <= VW_BATCH packets received from port
 * in.  Every packet is back in f->pool when it returns. */
void vw_switch_input(struct vw_fwd *f, struct vw_port *in, struct vw_pkt **pkts, int n);

#endif
