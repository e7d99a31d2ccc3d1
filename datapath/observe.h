/*
 * Observation points on a port: what captures (vwsnoop), mirrors and flow
 * meters (IPFIX) hook into.  An observer is given every frame its port's
 * link receives or sends, in the link's terms:
 *
 *   VW_OBS_IN   frames the link receives: what the switch delivers to a
 *               VNIC, or what an uplink reads from the wire;
 *   VW_OBS_OUT  frames the link sends: what a VNIC sends into the switch,
 *               or what an uplink puts on the wire.
 *
 * These match vwstat's IPKTS and OPKTS.  Where the frames are seen:
 *   - sent by a VNIC, or read from the wire: on entry to the switch
 *     (vw_switch_input), before the VLAN rules, as they arrived (an uplink's
 *     frames with their 802.1Q tag);
 *   - delivered to a port: when the port took them (fwd_flush), or, for a
 *     port shaped on that side (maxbw, flows), when its shaper writes them
 *     out, so frames the shaper drops are not seen.
 *
 * Threading: the control thread adds and removes observers; workers call
 * them.  The set is an array published with RCU, loaded once per batch and
 * only when some port has observers (vw_obs_ports != 0): without any, a
 * batch pays one load of a read-mostly word.  An observer's fn runs on any
 * worker, concurrently with itself on others: it must keep per-worker state
 * (w is the worker, 0..VW_MAX_WORKERS-1), must not block, and must not keep
 * a pointer to a frame after it returns (the buffers are reused).
 */
#ifndef VW_OBSERVE_H
#define VW_OBSERVE_H

#include <stdbool.h>
#include "datapath/port.h"

#define VW_OBS_IN 1u
#define VW_OBS_OUT 2u

struct vw_obs;
/*
 * Called with n >= 1 frames of one direction (dir is VW_OBS_IN or
 * VW_OBS_OUT) that the observer asked for.  With tagged set, a frame whose
 * vid is not 0 is on the link with an 802.1Q tag for that VID that is not
 * in its data (the switch adds it on the way out): an observer that wants
 * the frame as on the wire inserts it (vw_obs_copy does).
 */
typedef void (*vw_obs_fn)(struct vw_obs *obs, int w, struct vw_port *port, unsigned dir, struct vw_pkt **pkts,
			  int n, bool tagged);

/* Embedded in the observer's own struct (container_of to get it back). */
struct vw_obs {
	vw_obs_fn fn;
	unsigned dir; /* VW_OBS_IN | VW_OBS_OUT: what it wants */
};

/* What a port's obs pointer refers to. */
struct vw_obs_set {
	unsigned n;
	unsigned dir; /* union of the observers' dir */
	struct vw_obs *obs[];
};

/* Ports that have observers, on any switch (workers read it per batch). */
extern unsigned vw_obs_ports;

/*
 * Control thread.  Adds obs to port's observers (-EEXIST if it is there,
 * -ENOMEM), or removes it (-ENOENT if it is not there); once vw_obs_del()
 * returns, no worker is inside obs->fn for this port or will call it again,
 * so the caller may free obs.  A port must have no observer when it is
 * destroyed.
 */
int vw_obs_add(struct vw_port *port, struct vw_obs *obs);
int vw_obs_del(struct vw_port *port, struct vw_obs *obs);
/* How many observers port has. */
unsigned vw_obs_count(const struct vw_port *port);

/* Worker side, called by the switch and the shapers: gives pkts[0..n-1],
 * frames of direction dir on port, to the observers that want them. */
void vw_obs_run(struct vw_port *port, int w, unsigned dir, struct vw_pkt **pkts, int n, bool tagged);

static inline void vw_obs_hook(struct vw_port *port, int w, unsigned dir, struct vw_pkt **pkts, int n, bool tagged)
{
	if (__builtin_expect(__atomic_load_n(&vw_obs_ports, __ATOMIC_RELAXED) != 0, 0) && n > 0)
		vw_obs_run(port, w, dir, pkts, n, tagged);
}

/*
 * Copies the frame as it is on the link into buf (room bytes), inserting its
 * 802.1Q tag when tagged and pkt->vid != 0; at most room bytes are copied.
 * Returns the frame's full length on the link (which may exceed room: the
 * copy is then truncated).
 */
uint32_t vw_obs_copy(const struct vw_pkt *pkt, bool tagged, uint8_t *buf, uint32_t room);

/* The frame's length on the link. */
static inline uint32_t vw_obs_len(const struct vw_pkt *pkt, bool tagged)
{
	return pkt->len + (tagged && pkt->vid ? 4u : 0u);
}

#endif
