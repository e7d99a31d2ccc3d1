/*
 * Shaping a VNIC's traffic (link property maxbw, each direction held to the
 * rate): the datapath side of datapath/shaper.h.
 *
 * A shaped port has one owner worker for both directions, and each
 * direction a shaper (struct vw_shaper) that only the owner touches, which
 * the port reaches through one of its hooks (struct vw_port_hook,
 * datapath/port.h); the backend knows nothing of it:
 *
 *   out  frames the VNIC sends: the port's rx hook.  The port's backend
 *        steers all of them to the owner's queue (its steer op, for a TAP
 *        vw_tap_steer), or the owner is the port's only poller, so only
 *        the owner reads them; it queues them in the shaper instead of
 *        forwarding them, and forwards them (vw_switch_input) when the
 *        shaper lets them go.
 *   in   frames delivered to the VNIC, by any worker: the port's tx hook.
 *        It copies each frame into a buffer of the calling worker's pool
 *        and hands the pointer to the owner through a ring of its own (one
 *        per worker, single producer, single consumer: datapath/spsc.h),
 *        then wakes the owner; the owner queues it and writes it to the
 *        port (vw_port_write, whatever its backend) when the shaper lets it
 *        go.  Copying frees the switch's batch at once, whatever the
 *        fan-out.
 *
 * Buffers go back to the pool they came from: a worker that is done with
 * another worker's buffer puts it on a return ring (one per pair of
 * workers, sized above a pool so it never fills), and every worker drains
 * its return rings into its pool once per loop (vw_worker_pkt_release,
 * datapath/worker.h).
 * Super-frames longer than the shaper's largest item at the rate (about
 * 1 ms of the link) are cut into Ethernet frames first (datapath/gso.h), so
 * low rates stay accurate and a ping does not wait behind 64 KiB.
 *
 * The control thread creates, changes and removes shaping
 * (vw_shape_set); changes run on the owner through vw_worker_call, so the
 * shaper itself needs no lock.
 *
 * An uplink (a phys link's AF_PACKET port) is shaped the same way, its owner
 * being the one worker that polls it: "out" is what it receives from the
 * wire (read only by that worker, copied out of the receive ring and
 * queued), "in" what the switch sends to the wire (any worker; handed over
 * as above).  The uplink's "in" shaper has one class per VNIC with a
 * priority other than medium (link property priority), the VNIC's port's
 * uplink_class; every other frame goes to class 0 (medium).  The class is
 * picked by the worker that hands the frame over, from the port whose batch
 * it is forwarding (vw_switch_src).
 */
#ifndef VW_SHAPE_H
#define VW_SHAPE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "datapath/port.h"
#include "datapath/shaper.h"

enum { VW_SHAPE_OUT, VW_SHAPE_IN };

/* Counters of one direction, summed by the control thread. */
struct vw_shape_stats {
	uint64_t pkts, bytes;   /* frames the shaper let go */
	uint64_t drop_codel;    /* dropped by CoDel: waited too long */
	uint64_t drop_limit;    /* queue full (bytes) */
	uint64_t drop_nobuf;    /* no buffer to copy into, or a full hand-over ring */
	uint64_t drop_bad;      /* a super-frame that could not be cut */
	uint32_t qlen;          /* frames queued now */
	uint64_t qbytes;
};

/* Flows with traffic properties get a class each (datapath/shaper.h), at
 * most VW_SHAPE_MAX_CLASSES - 1 of them per link, VW_SHAPE_MAX_FAIR of
 * them with fairness=conn. */
#define VW_SHAPE_MAX_CLASSES 1024
#define VW_SHAPE_MAX_FAIR 16

struct vw_flow_stats;

/* One class: a flow, by the counters its table entries point to (the
 * owner sets its cls, so classification needs no other lookup).  The same
 * configuration holds each direction. */
struct vw_shape_class {
	uint16_t id; /* 1..VW_SHAPE_MAX_CLASSES-1, stable while the flow lives */
	bool shaped; /* a class of the shaper, with cfg */
	struct vw_shaper_class_cfg cfg;
	uint16_t mss;     /* MSS clamp on SYNs both ways; 0: none */
	uint32_t maxconn; /* connections admitted at once; 0: no limit */
	struct vw_flow_stats *flow;
};

/* What a link's shaping is: the rate of each direction (bits/s; 0: none,
 * classes only) and its classes. */
struct vw_shape_conf {
	uint64_t rate;
	int n;
	const struct vw_shape_class *cls;
};

/* Any thread: whether vw_shape_set would take conf.  0 or -errno with a
 * one-line reason. */
int vw_shape_check(const struct vw_shape_conf *conf, char *err, size_t errlen);
/* Control thread.  Creates shaping for both directions of a port whose
 * backend steers its queues (a TAP: choosing its owner) or of a port with
 * one queue (an uplink; its owner: the worker polling it),
 * changes existing shaping (queued frames stay; a
 * removed class's frames go to the default class), or with conf NULL
 * removes it (queued frames are sent on as they are: nothing is lost by
 * turning shaping off).  A flow removed from the classes has its cls back
 * at 0 when this returns; only then may its counters be freed.  0, or
 * -errno with a one-line reason in err (nothing changed). */
int vw_shape_set(struct vw_port *port, const struct vw_shape_conf *conf, char *err, size_t errlen);
/* An uplink's egress shaper has a class per VNIC with a priority other
 * than medium, ids VW_SHAPE_UPLINK_FIRST..VW_SHAPE_MAX_CLASSES-1 (the top
 * of the range, away from the ids flows are numbered from); class 0, the
 * default, is medium. */
#define VW_SHAPE_UPLINK_VNICS 255
#define VW_SHAPE_UPLINK_FIRST (VW_SHAPE_MAX_CLASSES - VW_SHAPE_UPLINK_VNICS)
/* Control thread: adds or changes class id of the uplink's egress shaper
 * with priority prio (enum vw_shaper_prio), or removes it with prio < 0
 * (its queued frames move to class 0).  Does nothing when the uplink is
 * not shaped.  0 or -errno with a reason. */
int vw_shape_uplink_class(struct vw_port *uplink, int id, int prio, char *err, size_t errlen);
/* Control thread: the counters of one direction (all zero without). */
void vw_shape_stats(const struct vw_port *port, int dir, struct vw_shape_stats *st);

#endif
