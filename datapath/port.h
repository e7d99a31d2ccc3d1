/*
 * A switch port: the datapath's view of one VNIC (its TAP face) or of a
 * switch's uplink (a phys interface through AF_PACKET).
 *
 * Threading: a port is polled by exactly one worker (port->worker), but any
 * worker may transmit to it, so tx_burst must be safe to call concurrently
 * (TAP writes and AF_PACKET sends are).  Statistics are kept per worker:
 * every counter is written only by one worker w, with plain stores, and read
 * by the control thread, which sums the slots (a torn 64-bit read cannot
 * happen on the 64-bit machines we build for).  What a port counts as a
 * destination (tx) lives in its switch's per-worker arrays while it is
 * attached, so forwarding to it never touches struct vw_port.  The control thread creates and frees
 * ports; it frees one only after removing it from every switch snapshot and
 * every epoll set and waiting for a grace period (datapath/rcu.h).
 */
#ifndef VW_PORT_H
#define VW_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include "datapath/pkt.h"

#define VW_MAX_WORKERS 8

struct vw_port;
struct vw_switch;
struct vw_shape;
struct vw_flowtab;
struct vw_obs_set;
struct vw_protect;

/* Counters in the switch's terms: "rx" is what the switch received from the
 * port, "tx" what it delivered to the port. */
struct vw_port_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t tx_pkts, tx_bytes;
	uint64_t rx_batches;    /* bursts read from the port */
	uint64_t drop_tagged;   /* tagged frame sent by a VNIC's client */
	uint64_t drop_vlan;     /* frame for a VLAN with no VNIC, or double-tagged */
	uint64_t drop_unknown;  /* no destination: unknown unicast with no uplink */
	uint64_t drop_runt;     /* shorter than an Ethernet header */
	uint64_t drop_nobuf;    /* no free buffer to receive into */
	/* link protection (datapath/protect.h), by the check that failed */
	uint64_t drop_restricted, drop_macspoof, drop_ipspoof, drop_dhcpspoof;
	uint64_t drop_mtu;      /* longer than its own or a destination's MTU
				 * allows: one per destination refused */
	/* last: vw_port_stats_sum() sums every field up to this one */
	uint64_t drop_txerr;    /* the port could not take a frame sent to it */
} __attribute__((aligned(64)));

struct vw_port_ops {
	const char *kind;
	/* Receives up to n frames into buffers taken from pool; returns how
	 * many (0 when none is waiting).  Never blocks. */
	int (*rx_burst)(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n);
	/* Sends n frames; with tag set, each frame whose vid is not 0 goes out
	 * with an 802.1Q tag for it.  Returns how many were taken.  Never
	 * blocks; may be called by several workers at once. */
	int (*tx_burst)(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);
	/* Releases the port's resources (fd, private data); may be NULL. */
	void (*close)(struct vw_port *port);
};

struct vw_port {
	const struct vw_port_ops *ops;
	struct vw_switch *sw;
	char name[16];
	int fd;          /* polled by the worker; -1 for in-memory ports */
	int worker;      /* the worker that polls it; -1: every worker, one
			  * queue each (a multi-queue TAP) */
	int nq;          /* queues: qfd[0..nq-1], qfd[0] == fd */
	int qfd[VW_MAX_WORKERS];
	/* The workers that may read what a multi-queue TAP's stack sends (bit
	 * w: queue w), from the link's cpus property; 0: all.  Set by the
	 * control thread (vw_tap_allow); a shaped VNIC's owner is one of them. */
	uint32_t workers_allowed;
	bool uplink;     /* the switch's uplink (trunk) rather than a VNIC */
	uint16_t vid;    /* a VNIC's VLAN, 0 for none */
	uint8_t mcast_dirty; /* set by a worker: the VNIC sent an MLD/IGMP report */
	uint8_t mac[6];  /* a VNIC's address */
	/* A VNIC's class in its uplink's egress shaper (link property
	 * priority; 0: the default class).  Set by the control thread, read
	 * by workers forwarding the VNIC's frames to a shaped uplink. */
	uint16_t uplink_class;
	void *priv;      /* the backend's own state */
	/* 1 + the port's index in its switch's per-worker destination arrays
	 * (datapath/vswitch.c); 0 while it is not attached.  Set by the
	 * control thread, read by workers. */
	uint32_t swid;
	/* The link's flow table (datapath/flow.h), NULL when it has no flow.
	 * Published by vw_switch_set_flows(); workers load it once per batch. */
	struct vw_flowtab *flows;
	/* Captures, mirrors and meters watching the link (datapath/observe.h),
	 * NULL when none.  Published by vw_obs_add()/vw_obs_del(). */
	struct vw_obs_set *obs;
	/* Link protection of a VNIC (datapath/protect.h), NULL when none.
	 * Published by vw_protect_publish(); workers load it once per batch. */
	struct vw_protect *prot;
	/* A VNIC's MTU (link property mtu): frames it sends or is given whose
	 * IP packets (a super-frame's segments) are longer are dropped; 0 for
	 * an uplink (not checked).  Set with vw_switch_set_mtu(). */
	uint32_t mtu;
	/* Unused by the engine since the per-destination scratch moved into
	 * the switch's per-worker arrays; kept so that code which sets it
	 * still builds (a stale value here cannot misroute anything). */
	uint16_t fwd_slot[VW_MAX_WORKERS];
	/* stats[w]: what worker w counted for the port as a source (rx_*,
	 * drop_*), plus the tx_* and drop_txerr of the port's past
	 * attachments.  While the port is attached, its live tx counters are
	 * in the switch's per-worker arrays; vw_port_stats_sum() adds both. */
	struct vw_port_stats stats[VW_MAX_WORKERS];
	/* traffic shaping of the frames the VNIC sends ([0]) and of those
	 * delivered to it ([1]); NULL: none (datapath/shape.h) */
	struct vw_shape *shape[2];
};

/* The worker the calling thread is (0..), or -1 on any other thread.  A
 * backend with one queue per worker uses it to pick its queue. */
extern __thread int vw_worker_self;

/* The descriptor worker w (-1: any other thread) reads and writes: its own
 * queue of a multi-queue port, else the port's only one. */
static inline int vw_port_fd(const struct vw_port *port, int w)
{
	return w >= 0 && port->nq > 1 ? port->qfd[w % port->nq] : port->fd;
}

/* Sum of every worker's counters. */
void vw_port_stats_sum(const struct vw_port *port, struct vw_port_stats *sum);

/* Backends (datapath/port_tap.c, datapath/port_packet.c). */
/* A TAP device named name, with IFF_VNET_HDR, non-blocking, its MAC set,
 * and nq queues (IFF_MULTI_QUEUE when nq > 1): worker w polls and writes
 * queue w.  The device lives in the caller's network namespace and exists as
 * long as the port is open. */
struct vw_port *vw_tap_open(const char *name, const uint8_t mac[6], int nq, int *err);
/* Steers every frame the TAP's stack sends to queue q (so only worker q
 * reads the VNIC's traffic), or with q < 0 back to the port's own steering:
 * flows spread over the queues of port->workers_allowed, or the kernel's
 * per-flow choice when that is 0.  0 or -errno (-EINVAL: not a TAP, or no
 * such queue). */
int vw_tap_steer(struct vw_port *port, int q);
/* Sets port->workers_allowed (0 or every queue: all) and steers the TAP's
 * frames to those queues only, each flow to one of them, unless the port is
 * shaped (its steering then goes to the shaper's owner, which the caller
 * keeps among them).  0 or -errno, the port unchanged (-EINVAL: not a TAP,
 * or no such queue). */
int vw_tap_allow(struct vw_port *port, uint32_t mask);
/* An AF_PACKET socket on an existing interface, promiscuous, ignoring the
 * frames it sends itself. */
struct vw_port *vw_packet_open(const char *ifname, int *err);
/* Writes frames to a TAP as they are, bypassing its shaper (which uses it). */
int vw_tap_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);
/* The same for an uplink: sends frames to the wire past its shaper. */
int vw_packet_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);
/* Closes and frees a port made by either. */
void vw_port_destroy(struct vw_port *port);

#endif
