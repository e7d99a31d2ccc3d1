/*
 * Phys links: a Linux interface VNICs go over (a link class,
 * objects/link.h).  It is attached, an AF_PACKET port on a switch of its
 * own, while it has VNICs; its properties (maxbw, cpus) are kept by name
 * whether it is attached or not, and applied when it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/fastpath.h"
#include "datapath/rcu.h"
#include "datapath/worker.h"
#include "datapath/shape.h"
#include "objects/aggr.h"
#include "objects/linkclass.h"
#include "objects/netlink.h"

extern const struct vw_link_class phys_class;

bool phys_candidate(const char *name, const struct nl_link_info *li)
{
	struct vw_link *l = link_find(name);

	return !li->loopback && strcmp(li->kind, "tun") && (!l || l->cls == &phys_class);
}

/* A phys link not attached, as a scratch object. */
static struct vw_link *phys_named(const char *name)
{
	static struct vw_link scratch;
	struct nl_link_info li;

	if (!vw_linkname_valid(name) || nl_link_get(NULL, name, &li) < 0 || !phys_candidate(name, &li))
		return NULL;
	memset(&scratch, 0, sizeof(scratch));
	snprintf(scratch.name, sizeof(scratch.name), "%s", name);
	scratch.cls = &phys_class;
	scratch.temporary = true;
	return &scratch;
}

/* ---- phys: attached while it has VNICs ---- */

/* The workers the phys's cpus name (0: any; so too when they cannot be
 * used any more, with the reason on stderr: the phys is attached anyway). */
static uint32_t phys_workers(const char *name)
{
	struct vw_physprop *p = physprop_find(name);
	uint32_t mask = 0;
	char why[256];

	if (p && !vw_cpuset_empty(&p->prop.cpus) && cpus_workers(name, &p->prop.cpus, &mask, why, sizeof(why))) {
		fprintf(stderr, "vwired: %s; its uplink is read by any worker\n", why);
		mask = 0;
	}
	return mask;
}

static struct vw_link *phys_adopt(const char *name, char *err, size_t errlen, int *rc)
{
	struct nl_link_info li;
	struct vw_link *l;
	const char *aggr = aggr_member_of(name);
	uint32_t wmask;

	if (aggr) {
		ERR("%s: is a member of aggregation %s; create the VNIC over %s", name, aggr, aggr);
		*rc = -EBUSY;
		return NULL;
	}
	*rc = nl_link_get(NULL, name, &li);
	if (*rc < 0) {
		ERR("%s: no such link", name);
		*rc = -ENOENT;
		return NULL;
	}
	if (li.loopback || !strcmp(li.kind, "tun")) {
		ERR("%s: cannot create a VNIC over a %s device", name, li.loopback ? "loopback" : "tun");
		*rc = -EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		*rc = -ENOMEM;
		ERR("%s: out of memory", name);
		return NULL;
	}
	strcpy(l->name, name);
	l->cls = &phys_class;
	l->temporary = true; /* phys links are not configuration */
	l->sw = vw_switch_new(name);
	l->uplink = vw_packet_open(name, rc);
	if (!l->sw || !l->uplink) {
		ERR("%s: cannot attach: %s", name, strerror(l->uplink ? ENOMEM : -*rc));
		goto fail;
	}
	wmask = phys_workers(name);
	if ((*rc = vw_switch_attach(l->sw, l->uplink)) || (*rc = vw_worker_add_port_in(l->uplink, wmask))) {
		ERR("%s: cannot attach: %s", name, strerror(-*rc));
		vw_switch_detach(l->sw, l->uplink);
		goto fail;
	}
	/* the kernel fast path switches what needs nothing more between the
	 * phys and its VNICs */
	if (wmask)
		l->uplink->slow_only |= VW_SLOW_CPUS; /* its cpus: read by those workers */
	if ((*rc = vw_fast_uplink_add(l->uplink, li.ifindex, li.mtu))) {
		ERR("%s: cannot attach the kernel fast path: %s", name, strerror(-*rc));
		vw_worker_del_port(l->uplink);
		vw_switch_detach(l->sw, l->uplink);
		goto fail;
	}
	nl_link_set_up(NULL, name, true);
	link_insert(l);
	link_changed(VW_LINK_ATTACHING, l, name, 0, NULL, 0);
	link_notify(l, l->uplink, VW_LINK_PORT_UP);
	{
		struct vw_physprop *p = physprop_find(name);
		char why[256];

		/* best effort, as flows: the phys is attached anyway */
		if (p && p->prop.maxbw && link_shape(l, p->prop.maxbw, why, sizeof(why)))
			fprintf(stderr, "vwired: %s\n", why);
	}
	return l;
fail:
	vw_port_destroy(l->uplink);
	vw_switch_free(l->sw);
	free(l);
	if (!*rc)
		*rc = -ENOMEM;
	return NULL;
}

static void phys_detach(struct vw_link *l)
{
	link_changed(VW_LINK_DETACHING, l, l->name, 0, NULL, 0); /* its flows stay, for the next VNIC */
	link_notify(l, l->uplink, VW_LINK_PORT_DOWN);
	vw_shape_set(l->uplink, NULL, NULL, 0); /* maxbw stays, for the next attach */
	vw_worker_del_port(l->uplink);
	vw_switch_detach(l->sw, l->uplink);
	vw_port_destroy(l->uplink);
	vw_switch_free(l->sw);
	link_unlink(l);
	free(l);
}

static void phys_release(struct vw_link *l)
{
	if (!l->nvnics)
		phys_detach(l);
}

/* ---- phys link properties: kept by name, attached or not ---- */

struct vw_physprop *vw_physprops;

struct vw_physprop *physprop_find(const char *name)
{
	struct vw_physprop *p;

	for (p = vw_physprops; p; p = p->next)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

/* Drops the entry once it holds nothing. */
static void physprop_gc(struct vw_physprop *p)
{
	static const struct vw_linkprops none;
	struct vw_physprop **pp;

	if (memcmp(&p->prop, &none, sizeof(none)) || memcmp(&p->saved, &none, sizeof(none)))
		return;
	for (pp = &vw_physprops; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			free(p);
			return;
		}
}

static struct vw_physprop *physprop_new(const char *name)
{
	struct vw_physprop *p = calloc(1, sizeof(*p)), **pp = &vw_physprops;

	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	while (*pp) /* appended: exports keep the order */
		pp = &(*pp)->next;
	*pp = p;
	return p;
}

/*
 * Hands the uplink to one of the workers of mask (0: any), unless the one
 * that polls it is among them: out of the old worker's epoll set, a grace
 * period (it may be reading a batch it was woken for), into the new one's.
 * Frames that come meanwhile wait in the socket (its epoll is
 * level-triggered, so the new worker is woken for them at once).  A shaped
 * uplink's owner is its reader: shaping goes off first (what it held is
 * sent on) and comes back on the new worker.
 */
static int uplink_move(struct vw_link *l, uint32_t mask, char *err, size_t errlen)
{
	struct vw_port *port = l->uplink;
	struct vw_physprop *p = physprop_find(l->name);
	bool shaped = port->shape[VW_SHAPE_IN] != NULL;
	int old = port->worker, rc, rc2 = 0;
	char why[256];

	if (!mask || old < 0 || (mask & (1u << old)))
		return 0;
	if (shaped)
		vw_shape_set(port, NULL, NULL, 0);
	vw_worker_del_port(port);
	vw_rcu_synchronize();
	rc = vw_worker_add_port_in(port, mask);
	if (rc) {
		ERR("%s: cannot set cpus: %s", l->name, strerror(-rc));
		vw_worker_add_port_in(port, 1u << old); /* back where it was */
	}
	if (shaped) /* maxbw, or flows with properties */
		rc2 = link_shape(l, p ? p->prop.maxbw : 0, why, sizeof(why));
	if (rc2 && !rc) {
		ERR("%s", why);
		rc = rc2;
	}
	return rc;
}

/* cpus: the uplink is read by a worker on one of them (the one with the
 * fewest ports), live when it is attached; one that already does keeps it.
 * Each CPU must be online and run a worker, as for a VNIC. */
static int phys_set_cpus(struct vw_link *l, const struct vw_cpuset *set, char *err, size_t errlen)
{
	uint32_t mask = 0;
	int rc;

	if (!vw_cpuset_empty(set) && (rc = cpus_workers(l->name, set, &mask, err, errlen)))
		return rc;
	rc = l->uplink ? uplink_move(l, mask, err, errlen) : 0;
	if (!rc && l->uplink) /* the workers it names read its frames */
		vw_fast_port_hold(l->uplink, VW_SLOW_CPUS, mask != 0);
	return rc;
}

static struct vw_linkprops *phys_props(struct vw_link *l, bool saved, bool create)
{
	struct vw_physprop *p = physprop_find(l->name);

	if (!p && create)
		p = physprop_new(l->name);
	return p ? (saved ? &p->saved : &p->prop) : NULL;
}

static void phys_props_done(struct vw_link *l)
{
	struct vw_physprop *p = physprop_find(l->name);

	if (p)
		physprop_gc(p);
}

static const char *const phys_props_taken[] = { "maxbw", "cpus", NULL };


static void phys_state(const struct vw_link *l, unsigned *mtu, const char **state)
{
	link_face_state(NULL, l->name, mtu, state);
}


/* Phys links' properties, kept whether attached or not: exported before the
 * VNICs, so their first VNIC attaches the phys shaped already. */
static void phys_export(struct vw_buf *out)
{
	struct vw_physprop *p;

	for (p = vw_physprops; p; p = p->next) {
		struct vw_buf b = { 0 };

		if (linkprop_export(&phys_class, &p->saved, &b))
			vw_buf_printf(out, "set-linkprop%s %s\n", b.p, p->name);
		vw_buf_free(&b);
	}
}

const struct vw_link_class phys_class = {
	.name = "phys",
	.on_demand = true,
	.flow_ids = VW_SHAPE_UPLINK_FIRST - 1,
	.props = phys_props_taken,
	.props_of = phys_props,
	.props_done = phys_props_done,
	.set_cpus = phys_set_cpus,
	.port = uplink_port,
	.named = phys_named,
	.adopt = phys_adopt,
	.release = phys_release,
	.shaped = uplink_vnic_classes,
	.state = phys_state,
	.counters = uplink_counters,
	.destroy = phys_detach,
	.export = phys_export,
};
