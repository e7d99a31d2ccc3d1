/*
 * Flows (SPEC §4): named subsets of one link's traffic, with attributes
 * (lib/flow.c), properties and per-flow counters.  The model side; the
 * datapath side is datapath/flow.h.
 *
 * Threading and errors as in objects/link.h: everything here belongs to the
 * control thread; functions return 0 or a negative errno with a one-line
 * reason naming the flow in err, and a failed call changes nothing.
 *
 * A flow lives on a VNIC or a phys link.  Its link's port carries the
 * compiled table of the link's live flows (rebuilt and republished on every
 * change); a phys link that is not attached (no VNIC over it) keeps its
 * flows, which are published when it is attached again.  A VNIC's flows go
 * away with it.
 */
#ifndef VW_OBJ_FLOW_H
#define VW_OBJ_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "datapath/flow.h"
#include "lib/vwire.h"

struct vw_link;

struct vw_flow {
	struct vw_flow *next;
	char name[VW_FLOWNAME_MAX + 1];
	char link[VW_LINKNAME_MAX + 1];
	struct vw_flow_attrs attrs;
	struct vw_flowprops props;       /* in effect */
	struct vw_flowprops props_saved; /* persistent */
	bool temporary; /* added with -t: not saved */
	bool live;      /* false: removed with -t, still in the saved state */
	uint16_t cls;   /* its class in the link's shaping once it needed one */
	struct vw_flow_stats *stats;
};

extern struct vw_flow *vw_flows;

struct vw_flow *flow_find(const char *name);
/* A live flow (show-flow, show-flowprop and statistics see only those). */
struct vw_flow *flow_find_live(const char *name);

/* add-flow: attrs is the -a text; props the -p lists. */
int flow_add(const char *name, const char *link, const char *attrs, const char *const *props, int nprops,
	     bool temporary, char *err, size_t errlen);
/* remove-flow NAME; with temporary, a persistent flow stays in the saved
 * state (it is back after a restart). */
int flow_remove(const char *name, bool temporary, char *err, size_t errlen);
/* remove-flow -l LINK: every flow of the link. */
int flow_remove_link(const char *link, bool temporary, char *err, size_t errlen);
/* set-flowprop (lists of PROP=VAL) and reset-flowprop (lists of PROP). */
int flowprop_set(const char *name, const char *const *lists, int nlists, bool temporary, char *err, size_t errlen);
int flowprop_reset(const char *name, const char *const *lists, int nlists, bool temporary, char *err,
		   size_t errlen);

/*
 * The configuration-only rule on guarantees (who names the flow in err): the guarantees of a link's
 * flows must not sum over the link's maxbw.  f is the flow being changed
 * (its guarantee taken as guarantee; NULL for none), skip a flow to leave
 * out.  A link without maxbw takes any sum.
 */
int flow_check_guarantees(const char *who, const char *link, const struct vw_flow *f, uint64_t guarantee, char *err,
			  size_t errlen);

/* Whether link names a link flows may be on: a VNIC, or a phys link
 * (attached or not); -errno with a reason otherwise. */
int flow_link_check(const char *link, const char *who, char *err, size_t errlen);

/* Who hears of a flow just before it is freed (removed, or gone with its
 * VNIC), its counters final: what accounting samples.  One watcher (NULL:
 * none); control thread. */
void flow_watch(void (*fn)(const struct vw_flow *f, void *arg), void *arg);

/* Appends the persistent flows as vWire lines (objects/state.c). */
void flows_export(struct vw_buf *out);

#endif
