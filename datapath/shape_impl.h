/*
 * Shaping as a port hook: what its packet path (datapath/shape.c) and its
 * control side (datapath/shape_conf.c) share; no other file includes this.
 */
#ifndef VW_SHAPE_IMPL_H
#define VW_SHAPE_IMPL_H

#include <stdint.h>
#include <time.h>

#include "datapath/conntab.h"
#include "datapath/flow.h"
#include "datapath/shape.h"
#include "datapath/shaper.h"
#include "datapath/spsc.h"
#include "datapath/worker.h"

#define HANDOFF_RING 256  /* frames in flight from one worker to an owner */
#define SHAPER_ITEMS 512  /* frames a shaper may hold, per direction */
#define MAX_SEGS 64       /* frames one super-frame may be cut into */
#define CT_CONNS 16384    /* connections a link's maxconn flows may have */
#define CT_SWEEP 64       /* connection slots looked at per run */
#define COPY_NS (100 * 1000 * 1000) /* how often counts reach the flows */
struct vw_shape {
	struct vw_task task; /* first: the owner's timed work */
	struct vw_port_hook hook; /* attached to the port's direction dir */
	struct vw_port *port;
	struct vw_shaper *sh;
	int dir, owner;
	uint64_t rate;
	uint32_t max_item;
	/* the owner's, per id: the flow (NULL: no such flow id), whether the
	 * shaper has class id (a flow's, or an uplink's egress class of a
	 * VNIC), the flow's MSS clamp and connection limit (0: none) */
	struct vw_flow_stats *flow_of[VW_SHAPE_MAX_CLASSES];
	uint8_t shaped[VW_SHAPE_MAX_CLASSES];
	uint16_t mss[VW_SHAPE_MAX_CLASSES];
	uint32_t maxconn[VW_SHAPE_MAX_CLASSES];
	int nflows;
	/* connections of the flows with maxconn, both directions (the out
	 * direction's shape owns it) */
	struct vw_conntab *ct;
	uint64_t copied;                           /* when tend() last copied */
	uint64_t drops_seen[VW_SHAPE_MAX_CLASSES]; /* class drops already counted */
	struct vw_spsc in[VW_MAX_WORKERS]; /* in: hand-over from worker w */
	struct vw_shape_stats st;          /* the shaper's counters, copied by the owner */
	/* frames a worker could not copy or cut (the owner's own included) */
	struct {
		uint64_t nobuf, bad;
	} __attribute__((aligned(64))) prod[VW_MAX_WORKERS];
};

/* The packet path (datapath/shape.c) that the control side installs. */
void shape_send_on(struct vw_shape *sh, void **items, int n);
unsigned shape_take_handed(struct vw_shape *sh, void **items, unsigned max);
bool shape_out_take(struct vw_port_hook *h, struct vw_port *port, struct vw_fwd *f, struct vw_pkt **pkts, int n,
		     uint64_t now);
int shape_in_tx(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);
int shape_run(struct vw_task *t, uint64_t now);
void shape_on_drop(void *arg, void *item, uint32_t bytes, int why);
int shape_uplink_tx(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag);

#endif
