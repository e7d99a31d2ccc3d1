/*
 * A switch port: the datapath's view of one VNIC (a TAP: its face, or with
 * the kernel fast path its slow-path channel, datapath/fastpath.h) or of a
 * switch's uplink (a phys interface through AF_PACKET).
 *
 * A port is two things kept apart, as netmap's VALE keeps its engine apart
 * from its policy (struct netmap_bdg_ops):
 *
 *   - its backend (struct vw_port_ops: port_tap.c, port_packet.c, or an
 *     in-memory one in the unit tests) only reads and writes frames: a
 *     burst in, a burst out as it is, and, for a backend with one queue per
 *     worker, steering its frames to one queue.  A backend knows nothing of
 *     shaping, observation or any other per-port work.
 *   - per-port work attaches through hooks (struct vw_port_hook), one per
 *     direction, embedded in the state of whoever attaches it: the worker hands what it read from the port to the rx
 *     hook before the switch sees it (vw_port_hook), and the switch
 *     delivers to a port through its tx hook, or straight to the backend's
 *     write when there is none (vw_port_tx).  The shaper (datapath/shape.h)
 *     is such a hook and sends what it lets go with vw_port_write, whatever
 *     the backend; a mirror to a link writes the same way.
 *
 * Threading: a port is polled by exactly one worker (port->worker), but any
 * worker may transmit to it, so write must be safe to call concurrently
 * (TAP writes and AF_PACKET sends are).  Hooks are published by the control
 * thread with a release store (vw_port_hook_set) and loaded by workers with
 * one acquire load per batch; whoever removes a hook waits a grace period
 * (datapath/rcu.h) before freeing it.  Statistics are kept per worker:
 * every counter is written only by one worker w, with plain stores, and read
 * by the control thread, which sums the slots (a torn 64-bit read cannot
 * happen on the 64-bit machines we build for).  What a port counts as a
 * destination (tx) lives in its switch's per-worker arrays while it is
 * attached, so forwarding to it touches nothing of struct vw_port but its
 * tx hook and what its backend's write reads.  The control thread creates
 * and frees ports; it frees one only after removing it from every switch
 * snapshot and every epoll set and waiting for a grace period.
 */
#ifndef VW_PORT_H
#define VW_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include "datapath/pkt.h"

#define VW_MAX_WORKERS 8

struct vw_port;
struct vw_fwd;
struct vw_switch;
struct vw_shape;
struct vw_flowtab;
struct vw_snoop;
struct vw_obs_set;
struct vw_protect;
struct vw_fast_ref;

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
	/* of rx_pkts and tx_pkts, the frames the kernel fast path switched
	 * (datapath/fastpath.h); the rest took the userspace datapath */
	uint64_t fast_rx_pkts, fast_tx_pkts;
	/* last: vw_port_stats_sum() sums every field up to this one */
	uint64_t drop_txerr;    /* the port could not take a frame sent to it */
} __attribute__((aligned(64)));

/* A backend: I/O only.  rx_burst and write are always set. */
struct vw_port_ops {
	const char *kind;
	/* Receives up to n frames into buffers taken from pool; returns how
	 * many (0 when none is waiting).  Never blocks. */
	int (*rx_burst)(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n);
	/* Sends n frames as they are; with tag set, each frame whose vid is
	 * not 0 goes out with an 802.1Q tag for it.  Returns how many were
	 * taken.  Never blocks; may be called by several workers at once.
	 * The switch calls it through vw_port_tx (the tx hook first, if any),
	 * a hook through vw_port_write. */
	int (*write)(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);
	/* Releases the port's resources (fd, private data); may be NULL. */
	void (*close)(struct vw_port *port);
	/* A port with one queue per worker (nq > 1): steers every frame its
	 * far side sends to queue q (so only worker q reads them), or with
	 * q < 0 back to the port's own steering.  0 or -errno.  NULL: the
	 * backend cannot (then only its one poller reads it). */
	int (*steer)(struct vw_port *port, int q);
};

/* Per-port work in one direction of a port (shaping; any later kind),
 * embedded in its owner's state.  A hook sets the function of the
 * direction it is attached to. */
enum { VW_HOOK_RX, VW_HOOK_TX };
struct vw_port_hook {
	/* VW_HOOK_RX: the n frames the polling worker just read from the
	 * port, before the switch sees them.  true: the hook took them (they
	 * are its own now); false: the worker forwards them as usual. */
	bool (*rx)(struct vw_port_hook *h, struct vw_port *port, struct vw_fwd *f, struct vw_pkt **pkts, int n,
		   uint64_t now);
	/* VW_HOOK_TX: frames the switch delivers to the port, in place of the
	 * backend's write, from any worker; returns how many it took, as
	 * write does.  The caller frees the batch afterwards, so the hook
	 * copies what it keeps.  The switch does not show these frames to the
	 * port's observers: the hook does, when it writes them out. */
	int (*tx)(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);
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
	/* The switch's uplink (trunk) rather than a VNIC: topology, which says
	 * which way "sent" is for shaping and observation; never a choice of
	 * backend, whose ops alone say how frames are read and written. */
	bool uplink;
	/* Why every frame to and from the port must take the userspace
	 * datapath, beyond what is published on it (VW_SLOW_*; 0: none):
	 * never on the kernel fast path while any is set.  Control thread
	 * only (vw_fast_port_hold). */
	uint8_t slow_only;
	uint16_t vid;    /* a VNIC's VLAN, 0 for none */
	uint8_t mcast_dirty; /* set by a worker: the VNIC sent an MLD/IGMP report */
	/* A VM's VNIC: the reports it sends are copied here for the control
	 * thread (datapath/mcsnoop.h); NULL for the others. */
	struct vw_snoop *snoop;
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
	/* hook[VW_HOOK_RX], hook[VW_HOOK_TX]: NULL when none; published by
	 * vw_port_hook_set().  Here, after the fields the switch reads per
	 * batch, so that those keep their cache lines. */
	struct vw_port_hook *hook[2];
	/* The port's kernel fast-path state (datapath/fastpath.h), NULL when
	 * its frames all take the userspace datapath.  Control thread only. */
	struct vw_fast_ref *fast;
	/* stats[w]: what worker w counted for the port as a source (rx_*,
	 * drop_*), plus the tx_* and drop_txerr of the port's past
	 * attachments.  While the port is attached, its live tx counters are
	 * in the switch's per-worker arrays; vw_port_stats_sum() adds both. */
	struct vw_port_stats stats[VW_MAX_WORKERS];
	/* The shaper's state of the frames the VNIC sends ([0]) and of those
	 * delivered to it ([1]); NULL: none (datapath/shape.h).  Control
	 * thread only: workers reach the shaper through hook[]. */
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

/* port->slow_only */
#define VW_SLOW_BACKEND 0x1 /* its backend must see them (an uplink that
			     * segments and checksums in software) */
#define VW_SLOW_CPUS    0x2 /* the link's cpus name the workers that read
			     * them (the kernel switches on the sender's CPU) */

/* Sum of every worker's counters. */
void vw_port_stats_sum(const struct vw_port *port, struct vw_port_stats *sum);

/* Worker side: the port's hook of direction dir (VW_HOOK_*), NULL if none;
 * one acquire load, once per batch. */
static inline struct vw_port_hook *vw_port_hook(const struct vw_port *port, int dir)
{
	return __atomic_load_n(&port->hook[dir], __ATOMIC_ACQUIRE);
}

/* Frames out through the backend as they are, past any hook. */
static inline int vw_port_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	return port->ops->write(port, pkts, n, tag);
}

/* Frames delivered to the port: its tx hook takes them if it has one, else
 * the backend writes them. */
static inline int vw_port_tx(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct vw_port_hook *h = vw_port_hook(port, VW_HOOK_TX);

	if (__builtin_expect(h != NULL, 0))
		return h->tx(h, port, pkts, n, tag);
	return vw_port_write(port, pkts, n, tag);
}

/* vw_port_tx as a function: what a switch calls to deliver to a port with
 * a tx hook (struct vw_dst's tx, datapath/vswitch.c). */
int vw_port_tx_hooked(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);

/* Control thread: what a switch's entry for the port holds
 * (datapath/vswitch.c): vw_port_tx_hooked while the port has a tx hook,
 * else NULL (the worker then reads the backend's write from the port the
 * first time it delivers to it, and keeps it), so delivering to a port
 * without a hook touches the worker's own entry only, never the port. */
static inline int (*vw_port_tx_set(const struct vw_port *port))(struct vw_port *, struct vw_pkt **, int, bool)
{
	return __atomic_load_n(&port->hook[VW_HOOK_TX], __ATOMIC_RELAXED) ? vw_port_tx_hooked : NULL;
}

/* Control thread: attaches h (NULL: detaches) to direction dir, with a
 * release store, and for the tx direction has the port's switch deliver
 * through it (vw_switch_port_tx_changed).  After detaching, a worker may
 * still be inside the old hook until a grace period has passed
 * (vw_rcu_synchronize). */
void vw_port_hook_set(struct vw_port *port, int dir, struct vw_port_hook *h);

/* Control thread: steers the port's frames to queue q (q < 0: back to its
 * own steering) where its backend has queues to steer; 0 when it has one
 * queue (its poller reads everything), -EINVAL when it cannot. */
int vw_port_steer(struct vw_port *port, int q);

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
 * such queue).  The TAP's steer op. */
int vw_tap_steer(struct vw_port *port, int q);
/* Sets port->workers_allowed (0 or every queue: all) and steers the TAP's
 * frames to those queues only, each flow to one of them, unless they are
 * steered to one queue (vw_tap_steer with q >= 0: a shaper's owner, which
 * the caller keeps among them; its q < 0 then steers to the new set).
 * 0 or -errno, the port unchanged (-EINVAL: not a TAP, or no such queue). */
int vw_tap_allow(struct vw_port *port, uint32_t mask);
/* An AF_PACKET socket on an existing interface, promiscuous, ignoring the
 * frames it sends itself. */
struct vw_port *vw_packet_open(const char *ifname, int *err);
/* Closes and frees a port made by either. */
void vw_port_destroy(struct vw_port *port);

#endif
