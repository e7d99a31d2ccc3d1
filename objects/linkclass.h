/*
 * What the link class files (objects/vnic.c, etherstub.c, phys.c) share
 * with objects/link.c, and nothing else includes: the list of links, the
 * notifications, and helpers more than one class uses.
 */
#ifndef VW_LINKCLASS_H
#define VW_LINKCLASS_H

#include "datapath/shaper.h"
#include "objects/link.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

/* Appends l to vw_links (lists and exports keep creation order). */
void link_insert(struct vw_link *l);
void link_unlink(struct vw_link *l);
/* A name a new link may take: valid, and no link's nor Linux interface's. */
int link_check_name(const char *name, char *err, size_t errlen);
/* Tells the watchers (link_watch). */
void link_notify(struct vw_link *l, struct vw_port *port, enum vw_link_event ev);
/* Tells the subscribers (link_subscribe); the first refusal stops it. */
int link_changed(enum vw_link_change ev, struct vw_link *l, const char *name, uint64_t bps, char *err,
		 size_t errlen);
/* Shapes l's port at bps if it has one, once the subscribers accept the
 * maxbw; err: "NAME: cannot set maxbw: ...". */
int link_shape(struct vw_link *l, uint64_t bps, char *err, size_t errlen);
/* The class that takes unknown names takes name into the model, for a
 * VNIC over it (a phys link is attached); NULL with err and *rc. */
struct vw_link *link_adopt(const char *name, char *err, size_t errlen, int *rc);
/* A link over l went. */
void link_release(struct vw_link *l);
/* Holds each direction of l's port to bps bits/s by shaping (0: no limit;
 * live, queued frames kept), and keeps the value. */
int link_set_maxbw(struct vw_link *l, uint64_t bps, char *err, size_t errlen);
/* Adds port p's counters to sum. */
void link_stats_add(struct vw_port_stats *sum, const struct vw_port *p);
/* show-link's mtu and state of the Linux interface name in zone. */
void link_face_state(const char *zone, const char *name, unsigned *mtu, const char **state);
/* The workers on the CPUs of set, as a mask; each CPU must be online and
 * run one (else -EINVAL with the first bad CPU named). */
int cpus_workers(const char *name, const struct vw_cpuset *set, uint32_t *mask, char *err, size_t errlen);
/* Hooks that several classes share: props_of for a class that keeps its
 * properties in the link itself (l->prop, l->saved); port and counters for
 * one whose port is its switch's uplink (phys, aggr, tunnel). */
struct vw_linkprops *link_props_own(struct vw_link *l, bool saved, bool create);
struct vw_port *uplink_port(const struct vw_link *l, struct vw_switch **sw);
void uplink_counters(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4]);
/* A class's shaped hook for an uplink (phys, aggr, tunnel): adds to its port's
 * new shaping the egress class of each VNIC over it with a priority other
 * than medium. */
int uplink_vnic_classes(struct vw_link *l, char *err, size_t errlen);
/* Adds the VNIC's addresses to its face where it lives. */
int addrs_apply(struct vw_link *l, char *err, size_t errlen);

static inline enum vw_shaper_prio shaper_prio(enum vw_priority p)
{
	return p == VW_PRIO_HIGH ? VW_SHAPER_HIGH : p == VW_PRIO_LOW ? VW_SHAPER_LOW : VW_SHAPER_MEDIUM;
}

#endif
