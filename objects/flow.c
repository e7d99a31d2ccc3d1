/*
 * Flows: the model side.  Read objects/flow.h first.
 *
 * Every change that alters a link's live flows rebuilds the link's table
 * from them and publishes it on the link's port (vw_switch_set_flows waits
 * for the grace period); only then are the old table and a removed flow's
 * counters freed.  Anything that can fail is checked before the model
 * changes, so a failed command changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/shape.h"
#include "datapath/vswitch.h"
#include "objects/flow.h"
#include "objects/link.h"
#include "objects/netlink.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)
#define MAXPROPS 16

struct vw_flow *vw_flows;

struct vw_flow *flow_find(const char *name)
{
	struct vw_flow *f;

	for (f = vw_flows; f; f = f->next)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

struct vw_flow *flow_find_live(const char *name)
{
	struct vw_flow *f = flow_find(name);

	return f && f->live ? f : NULL;
}

/* The switch and port a link's table goes on; false when it has none (a
 * phys link that is not attached). */
static bool flow_port(const char *link, struct vw_switch **sw, struct vw_port **port)
{
	struct vw_link *l = link_find(link);

	return l && (*port = link_port_sw(l, sw)) && *sw;
}

/* ---- shaping: a link's flows with traffic properties are classes of its
 * shaper (datapath/shape.h) ---- */

#define TRAFFIC_PROPS ((1u << VW_FP_MAXBW) | (1u << VW_FP_GUARANTEE))

/* Whether a flow with these properties needs a class of its own. */
static bool needs_class(const struct vw_flowprops *p)
{
	return (p->set & TRAFFIC_PROPS) ||
	       ((p->set & (1u << VW_FP_PRIORITY)) && p->priority != VW_PRIO_MEDIUM) ||
	       ((p->set & (1u << VW_FP_FAIRNESS)) && p->fairness == VW_FAIR_CONN);
}

/* Whether the link's owner worker must look at the flow's frames. */
static bool needs_id(const struct vw_flowprops *p)
{
	return needs_class(p) || (p->set & ((1u << VW_FP_MAXCONN) | (1u << VW_FP_MSS)));
}

static bool is_fair(const struct vw_flowprops *p)
{
	return (p->set & (1u << VW_FP_FAIRNESS)) && p->fairness == VW_FAIR_CONN;
}

static void class_cfg(const struct vw_flowprops *p, struct vw_shaper_class_cfg *c)
{
	memset(c, 0, sizeof(*c));
	if (p->set & (1u << VW_FP_MAXBW))
		c->maxbw = p->maxbw;
	if (p->set & (1u << VW_FP_GUARANTEE))
		c->guarantee = p->guarantee;
	c->priority = VW_SHAPER_MEDIUM;
	if (p->set & (1u << VW_FP_PRIORITY))
		c->priority = p->priority == VW_PRIO_HIGH ? VW_SHAPER_HIGH
			      : p->priority == VW_PRIO_LOW ? VW_SHAPER_LOW
							   : VW_SHAPER_MEDIUM;
	c->fair_conn = is_fair(p);
}

/* The link a link's shaping goes on: a VNIC, or an attached phys (its
 * uplink); NULL for any other. */
static struct vw_link *shaped_link(const char *link)
{
	struct vw_link *l = link_find(link);

	return l && link_port(l) ? l : NULL;
}

/* Flow ids a link may give: a phys link's uplink keeps the top of the
 * range for its VNICs' egress classes (datapath/shape.h). */
static int max_ids(const char *link)
{
	const struct vw_link *l = link_find(link);

	return l && l->cls->flow_ids ? (int)l->cls->flow_ids : VW_SHAPE_UPLINK_FIRST - 1;
}

static uint64_t guarantee_sum(const char *link, const struct vw_flow *skip)
{
	const struct vw_flow *o;
	uint64_t sum = 0;

	for (o = vw_flows; o; o = o->next)
		if (o != skip && o->live && !strcmp(o->link, link) && (o->props.set & (1u << VW_FP_GUARANTEE)))
			sum += o->props.guarantee;
	return sum;
}

/* Whether link may take maxbw bps: not below the sum of its flows'
 * guarantees (VW_LINK_MAXBW).  0 or -EINVAL with a reason. */
static int flows_check_link_maxbw(const char *link, uint64_t bps, char *err, size_t errlen)
{
	uint64_t sum = guarantee_sum(link, NULL);
	char a[32], b[32];

	if (bps && sum > bps) {
		ERR("%s: cannot set maxbw %s: the guarantees of its flows sum to %s", link, vw_bw_format(bps, b),
		    vw_bw_format(sum, a));
		return -EINVAL;
	}
	return 0;
}

/* Applies the shaping of a link's port (a VNIC's, an attached phys's
 * uplink): maxbw each way, and for each of its live flows with properties
 * an id in its shaping: a class of the shaper for maxbw, guarantee, a
 * priority other than medium, fairness=conn; the MSS clamp and the
 * connection limit.  Shaping is off when there is neither.  Also the way a
 * link's maxbw changes the rate (VW_LINK_SHAPE).  0 or -errno with a
 * reason (nothing changed). */
static int flows_shape(struct vw_link *l, uint64_t maxbw, char *err, size_t errlen)
{
	static struct vw_shape_class cls[VW_SHAPE_MAX_CLASSES];
	static uint8_t used[VW_SHAPE_MAX_CLASSES];
	struct vw_shape_conf conf = { .rate = maxbw, .cls = cls };
	struct vw_port *port = link_port(l);
	int max = max_ids(l->name), rc;
	struct vw_flow *f;
	unsigned id = 1;
	bool was;

	if (!port)
		return 0;
	was = port->shape[0] != NULL;
	memset(used, 0, sizeof(used));
	for (f = vw_flows; f; f = f->next)
		if (!strcmp(f->link, l->name) && f->cls)
			used[f->cls] = 1;
	for (f = vw_flows; f; f = f->next) {
		if (!f->live || strcmp(f->link, l->name) || !needs_id(&f->props))
			continue;
		if (conf.n == max) {
			ERR("%s: more than %d flows with properties", l->name, max);
			return -ENOSPC;
		}
		if (!f->cls) { /* a class id for as long as the flow lives */
			while (id <= (unsigned)max && used[id])
				id++;
			if (id > (unsigned)max) {
				ERR("%s: more than %d flows with properties", l->name, max);
				return -ENOSPC;
			}
			used[id] = 1;
			f->cls = (uint16_t)id;
		}
		cls[conf.n].id = f->cls;
		cls[conf.n].flow = f->stats;
		cls[conf.n].shaped = needs_class(&f->props);
		class_cfg(&f->props, &cls[conf.n].cfg);
		cls[conf.n].mss = f->props.set & (1u << VW_FP_MSS) ? f->props.mss : 0;
		cls[conf.n].maxconn = f->props.set & (1u << VW_FP_MAXCONN) ? f->props.maxconn : 0;
		conf.n++;
	}
	rc = vw_shape_set(port, maxbw || conf.n ? &conf : NULL, err, errlen);
	if (!rc && l->cls->shaped && !was && port->shape[0] && (rc = l->cls->shaped(l, err, errlen)))
		vw_shape_set(port, NULL, NULL, 0);
	return rc;
}

/* Rebuilds and publishes the table of the link's live flows, and the
 * classes of its shaping (before the table, so a new flow's class exists
 * when the table sends frames to it; a removed flow's class goes before its
 * counters may be freed).  A failure changes nothing. */
static int flows_publish(const char *link, char *err, size_t errlen)
{
	struct vw_flow_attrs *attrs;
	struct vw_flow_stats **stats;
	struct vw_flowtab *ft = NULL;
	struct vw_switch *sw;
	struct vw_port *port;
	struct vw_link *l;
	struct vw_flow *f;
	unsigned n = 0;

	if (!flow_port(link, &sw, &port))
		return 0;
	for (f = vw_flows; f; f = f->next)
		n += f->live && !strcmp(f->link, link);
	attrs = calloc(n ? n : 1, sizeof(*attrs));
	stats = calloc(n ? n : 1, sizeof(*stats));
	if (!attrs || !stats)
		goto nomem;
	n = 0;
	for (f = vw_flows; f; f = f->next)
		if (f->live && !strcmp(f->link, link)) {
			attrs[n] = f->attrs;
			stats[n++] = f->stats;
		}
	if (n && !(ft = vw_flowtab_build(attrs, stats, n)))
		goto nomem;
	free(attrs);
	free(stats);
	if ((l = shaped_link(link))) {
		char why[200] = "";
		int rc = flows_shape(l, link_maxbw(link), why, sizeof(why));

		if (rc) {
			vw_flowtab_free(ft);
			ERR("%s", why);
			return rc;
		}
	}
	vw_flowtab_free(vw_switch_set_flows(sw, port, ft));
	return 0;
nomem:
	free(attrs);
	free(stats);
	ERR("out of memory");
	return -ENOMEM;
}

static void flow_unlink(struct vw_flow *f)
{
	struct vw_flow **pp;

	for (pp = &vw_flows; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			return;
		}
}

static void flow_insert(struct vw_flow *f)
{
	struct vw_flow **pp = &vw_flows;

	while (*pp)
		pp = &(*pp)->next;
	*pp = f;
}

int flow_link_check(const char *link, const char *who, char *err, size_t errlen)
{
	struct vw_link *l = link_find(link);

	if (l && l->cls->portless) {
		ERR("%s: '%s' is an etherstub; flows go on VNICs and phys links", who, link);
		return -EINVAL;
	}
	if (l)
		return 0;
	/* a phys link need not be attached to carry flows */
	if (!link_named(link)) {
		ERR("%s: no such link '%s'", who, link);
		return -ENOENT;
	}
	return 0;
}

int flow_check_guarantees(const char *who, const char *link, const struct vw_flow *f, uint64_t guarantee, char *err,
			  size_t errlen)
{
	uint64_t sum = guarantee + guarantee_sum(link, f), max = link_maxbw(link);
	char a[32], b[32];

	if (max && sum > max) {
		ERR("%s: the guarantees of the flows on '%s' would sum to %s, over its maxbw %s", who, link,
		    vw_bw_format(sum, a), vw_bw_format(max, b));
		return -EINVAL;
	}
	return 0;
}

/* The rules that need the link's other flows, for flow f (NULL: a new
 * one) taking properties p. */
static int props_check_link(const char *who, const char *link, const struct vw_flow *f,
			    const struct vw_flowprops *p, char *err, size_t errlen)
{
	const struct vw_flow *o;
	int ncls = needs_id(p), nfair = is_fair(p), max = max_ids(link);

	for (o = vw_flows; o; o = o->next)
		if (o != f && o->live && !strcmp(o->link, link)) {
			ncls += needs_id(&o->props);
			nfair += is_fair(&o->props);
		}
	if (ncls > max) {
		ERR("%s: '%s' would have more than %d flows with properties", who, link, max);
		return -ENOSPC;
	}
	if (nfair > VW_SHAPE_MAX_FAIR) {
		ERR("%s: '%s' would have more than %d flows with fairness=conn", who, link, VW_SHAPE_MAX_FAIR);
		return -ENOSPC;
	}
	if (p->set & (1u << VW_FP_GUARANTEE))
		return flow_check_guarantees(who, link, f, p->guarantee, err, errlen);
	return 0;
}

/*
 * Parses PROP=VAL lists into *p (which holds the flow's values so far):
 * unknown, repeated and not enforced properties and bad values are refused,
 * then the rules that need only configuration are checked.
 */
static int props_apply(const char *who, const char *link, const struct vw_flow *f, const char *const *lists, int nl,
		       struct vw_flowprops *p, char *err, size_t errlen)
{
	char buf[4096], *keys[MAXPROPS], *vals[MAXPROPS], a[32], b[32];
	int i, k, n;

	buf[0] = 0;
	for (i = 0; i < nl; i++) {
		size_t used = strlen(buf);

		if (used + strlen(lists[i]) + 2 > sizeof(buf)) {
			ERR("%s: property list too long", who);
			return -EINVAL;
		}
		snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? "," : "", lists[i]);
	}
	n = vw_kvlist_split(buf, keys, vals, MAXPROPS);
	if (n <= 0) {
		ERR("%s: invalid property list (PROP=VAL[,...] expected)", who);
		return -EINVAL;
	}
	for (k = 0; k < n; k++) {
		int j;

		for (j = 0; j < k; j++)
			if (!strcmp(keys[j], keys[k])) {
				ERR("%s: property '%s' given twice", who, keys[k]);
				return -EINVAL;
			}
	}
	for (k = 0; k < n; k++) {
		const struct vw_flowpropdef *pd = vw_flowprop_find(keys[k]);

		if (!pd) {
			ERR("%s: unknown property '%s'", who, keys[k]);
			return -EINVAL;
		}
		if (!pd->enforced) {
			ERR("%s: property '%s' is not supported yet", who, keys[k]);
			return -EOPNOTSUPP;
		}
	}
	for (k = 0; k < n; k++) {
		char why[256];

		if (!vw_flowprop_parse(vw_flowprop_find(keys[k]), vals[k], p, why, sizeof(why))) {
			ERR("%s: %s", who, why);
			return -EINVAL;
		}
	}
	if ((p->set & (1u << VW_FP_GUARANTEE)) && (p->set & (1u << VW_FP_MAXBW)) && p->guarantee > p->maxbw) {
		ERR("%s: guarantee %s is over the flow's maxbw %s", who, vw_bw_format(p->guarantee, a),
		    vw_bw_format(p->maxbw, b));
		return -EINVAL;
	}
	return props_check_link(who, link, f, p, err, errlen);
}

int flow_add(const char *name, const char *link, const char *attrs, const char *const *props, int nprops,
	     bool temporary, char *err, size_t errlen)
{
	struct vw_flow_attrs a;
	struct vw_flowprops p = { 0 };
	struct vw_link *l;
	struct vw_flow *f, *o;
	char why[256], oa[256];
	int rc;

	if (!vw_flowname_valid(name)) {
		ERR("%s: invalid flow name (1-31 of A-Z a-z 0-9 _ . -, starting with a letter)", name);
		return -EINVAL;
	}
	if ((o = flow_find(name))) {
		ERR("%s: flow already exists%s", name, o->live ? "" : " (removed with -t; it is in the saved state)");
		return -EEXIST;
	}
	rc = flow_link_check(link, name, err, errlen);
	if (rc)
		return rc;
	l = link_find(link);
	if (l && l->cls->configured && l->temporary && !temporary) {
		ERR("%s: '%s' is temporary; a flow on it must be too (-t)", name, link);
		return -EINVAL;
	}
	if (!vw_flow_attrs_parse(attrs, &a, why, sizeof(why))) {
		ERR("%s: %s", name, why);
		return -EINVAL;
	}
	if (nprops && (rc = props_apply(name, link, NULL, props, nprops, &p, err, errlen)))
		return rc;
	/* every flow the link has or will have again after a restart */
	for (o = vw_flows; o; o = o->next)
		if (!strcmp(o->link, link) && vw_flow_attrs_overlap(&a, &o->attrs)) {
			ERR("%s: overlaps flow '%s' (%s) on '%s'", name, o->name, vw_flow_attrs_format(&o->attrs, oa, sizeof(oa)),
			    link);
			return -EEXIST;
		}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->stats = vw_flow_stats_new())) {
		free(f);
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->link, sizeof(f->link), "%s", link);
	f->attrs = a;
	f->props = f->props_saved = p;
	f->temporary = temporary;
	f->live = true;
	flow_insert(f);
	rc = flows_publish(link, why, sizeof(why));
	if (rc) {
		flow_unlink(f);
		free(f->stats);
		free(f);
		ERR("%s: %s", name, why);
	}
	return rc;
}

static void (*watch_fn)(const struct vw_flow *f, void *arg);
static void *watch_arg;

void flow_watch(void (*fn)(const struct vw_flow *f, void *arg), void *arg)
{
	watch_fn = fn;
	watch_arg = arg;
}

static void flow_gone(struct vw_flow *f)
{
	if (watch_fn)
		watch_fn(f, watch_arg);
	flow_unlink(f);
	free(f->stats);
	free(f);
}

/* Takes the flows marked doomed out of the model and their link's tables,
 * or, with keep, only out of the tables (they stay as saved, not live). */
static int flows_drop(const char *link, struct vw_flow **doomed, int n, bool keep, char *err, size_t errlen)
{
	int i, rc;

	char why[200];

	for (i = 0; i < n; i++)
		doomed[i]->live = false;
	rc = flows_publish(link, why, sizeof(why));
	if (rc) {
		for (i = 0; i < n; i++)
			doomed[i]->live = true;
		ERR("%s: %s", n ? doomed[0]->name : link, why);
		return rc;
	}
	for (i = 0; i < n; i++) {
		if (keep && !doomed[i]->temporary)
			continue;
		flow_gone(doomed[i]);
	}
	return 0;
}

int flow_remove(const char *name, bool temporary, char *err, size_t errlen)
{
	struct vw_flow *f = temporary ? flow_find_live(name) : flow_find(name);

	if (!f) {
		ERR("%s: no such flow", name);
		return -ENOENT;
	}
	return flows_drop(f->link, &f, 1, temporary, err, errlen);
}

int flow_remove_link(const char *link, bool temporary, char *err, size_t errlen)
{
	struct vw_flow **doomed, *f;
	int n = 0, rc;

	rc = flow_link_check(link, link, err, errlen);
	if (rc == -ENOENT) {
		/* the flows of a phys link that has gone from Linux */
		for (f = vw_flows; f && strcmp(f->link, link); f = f->next)
			;
		if (f)
			rc = 0;
		else
			ERR("%s: no such link", link);
	}
	if (rc)
		return rc;
	for (f = vw_flows; f; f = f->next)
		n += !strcmp(f->link, link);
	doomed = calloc(n ? (size_t)n : 1, sizeof(*doomed));
	if (!doomed) {
		ERR("%s: out of memory", link);
		return -ENOMEM;
	}
	n = 0;
	for (f = vw_flows; f; f = f->next)
		if (!strcmp(f->link, link) && (f->live || !temporary))
			doomed[n++] = f;
	rc = flows_drop(link, doomed, n, temporary, err, errlen);
	free(doomed);
	return rc;
}

/* The flow's properties become p, applied to its link's shaping; on
 * failure they stay as they were. */
static int props_commit(struct vw_flow *f, const struct vw_flowprops *p, char *err, size_t errlen)
{
	struct vw_flowprops old = f->props;
	struct vw_link *l = shaped_link(f->link);
	char why[200];
	int rc;

	f->props = *p;
	if (l && (rc = flows_shape(l, link_maxbw(f->link), why, sizeof(why)))) {
		f->props = old;
		ERR("%s: %s", f->name, why);
		return rc;
	}
	return 0;
}

int flowprop_set(const char *name, const char *const *lists, int nlists, bool temporary, char *err, size_t errlen)
{
	struct vw_flow *f = flow_find_live(name);
	struct vw_flowprops p, ps;
	int rc;

	if (!f) {
		ERR("%s: no such flow", name);
		return -ENOENT;
	}
	p = f->props;
	rc = props_apply(name, f->link, f, lists, nlists, &p, err, errlen);
	if (rc)
		return rc;
	ps = f->props_saved;
	/* the saved values take what is set now, and keep the rest */
	if (!temporary && !f->temporary && (rc = props_apply(name, f->link, f, lists, nlists, &ps, err, errlen)))
		return rc;
	rc = props_commit(f, &p, err, errlen);
	if (!rc && !temporary && !f->temporary)
		f->props_saved = ps;
	return rc;
}

int flowprop_reset(const char *name, const char *const *lists, int nlists, bool temporary, char *err,
		   size_t errlen)
{
	struct vw_flow *f = flow_find_live(name);
	struct vw_flowprops p;
	unsigned clear = 0;
	int i, rc;

	if (!f) {
		ERR("%s: no such flow", name);
		return -ENOENT;
	}
	for (i = 0; i < nlists; i++) {
		char buf[512], *s, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", lists[i]);
		for (s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
			const struct vw_flowpropdef *pd = vw_flowprop_find(s);

			if (!pd) {
				ERR("%s: unknown property '%s'", name, s);
				return -EINVAL;
			}
			if (!pd->enforced) {
				ERR("%s: property '%s' is not supported yet", name, s);
				return -EOPNOTSUPP;
			}
			clear |= 1u << pd->id;
		}
	}
	p = f->props;
	p.set &= ~clear;
	rc = props_commit(f, &p, err, errlen);
	if (!rc && !temporary && !f->temporary)
		f->props_saved.set &= ~clear;
	return rc;
}

/* ---- what links do (link_subscribe) ---- */

static void flows_link_attached(struct vw_link *l)
{
	char why[200];

	flows_publish(l->name, why, sizeof(why)); /* best effort: the phys is attached anyway */
}

static void flows_link_detaching(struct vw_link *l)
{
	struct vw_switch *sw;
	struct vw_port *port = link_port_sw(l, &sw);

	if (port && sw)
		vw_flowtab_free(vw_switch_set_flows(sw, port, NULL));
}

static void flows_link_deleted(struct vw_link *l)
{
	struct vw_switch *sw;
	struct vw_port *port = link_port_sw(l, &sw);
	struct vw_flow *f, *next;

	if (port && sw) {
		vw_shape_set(port, NULL, NULL, 0); /* its classes hold the counters */
		vw_flowtab_free(vw_switch_set_flows(sw, port, NULL));
	}
	for (f = vw_flows; f; f = next) {
		next = f->next;
		if (!strcmp(f->link, l->name))
			flow_gone(f);
	}
}

static void flows_destroy_all(void)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next) {
		struct vw_switch *sw;
		struct vw_port *port = link_port_sw(l, &sw);

		if (!port)
			continue;
		vw_shape_set(port, NULL, NULL, 0); /* its classes hold the counters */
		if (sw && port->flows)
			vw_flowtab_free(vw_switch_set_flows(sw, port, NULL));
	}
	while (vw_flows) {
		struct vw_flow *f = vw_flows;

		vw_flows = f->next;
		free(f->stats);
		free(f);
	}
}

/* The flows follow links, and make their ports' shaping. */
static int flows_on_link(enum vw_link_change ev, struct vw_link *l, const char *name, uint64_t bps, char *err,
			 size_t errlen)
{
	switch (ev) {
	case VW_LINK_ATTACHING:
		flows_link_attached(l);
		break;
	case VW_LINK_DETACHING:
		flows_link_detaching(l);
		break;
	case VW_LINK_DELETING:
		flows_link_deleted(l);
		break;
	case VW_LINK_MAXBW:
		return flows_check_link_maxbw(name, bps, err, errlen);
	case VW_LINK_SHAPE:
		return flows_shape(l, bps, err, errlen);
	case VW_LINKS_ENDING:
		flows_destroy_all();
		break;
	}
	return 0;
}

/* Subscribed before main(): no link exists without its flows' hooks. */
__attribute__((constructor)) static void flows_subscribe(void)
{
	link_subscribe(flows_on_link);
}

void flows_export(struct vw_buf *out)
{
	const struct vw_flowpropdef *pds;
	struct vw_flow *f;
	char a[256], v[64];
	int npd, i;

	pds = vw_flowprop_table(&npd);
	for (f = vw_flows; f; f = f->next) {
		const char *sep = " -p ";

		if (f->temporary)
			continue;
		vw_buf_printf(out, "add-flow -l %s -a %s", f->link, vw_flow_attrs_format(&f->attrs, a, sizeof(a)));
		for (i = 0; i < npd; i++)
			if (f->props_saved.set & (1u << pds[i].id)) {
				vw_buf_printf(out, "%s%s=%s", sep, pds[i].name,
					      vw_flowprop_format(&pds[i], &f->props_saved, v, sizeof(v)));
				sep = ",";
			}
		vw_buf_printf(out, " %s\n", f->name);
	}
}
