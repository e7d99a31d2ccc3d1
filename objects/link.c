/*
 * Links: etherstubs, VNICs and the phys interfaces they are created over.
 * Read objects/link.h first for the threading and error rules.
 *
 * A VNIC is a TAP device (its Linux face) plus a port on the virtual switch
 * of the link it is over.  Creating one goes: TAP in the host namespace,
 * switch port attached, polled by a worker, then moved to its zone and set
 * up.  Deleting runs the same steps backwards, and every failure on the way
 * in undoes what was done, so a failed command changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "datapath/rcu.h"
#include "datapath/worker.h"
#include "datapath/shape.h"
#include "datapath/shaper.h"
#include "objects/flow.h"
#include "objects/link.h"
#include "objects/netlink.h"

struct vw_link *vw_links;
struct vw_zone *vw_zones;

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

const char *link_class_name(enum vw_class c)
{
	switch (c) {
	case VW_CLASS_PHYS:
		return "phys";
	case VW_CLASS_ETHERSTUB:
		return "etherstub";
	case VW_CLASS_VNIC:
		return "vnic";
	}
	return "?";
}

struct vw_link *link_find(const char *name)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		if (!strcmp(l->name, name))
			return l;
	return NULL;
}

/* Appends, so lists and exports keep creation order. */
static void link_insert(struct vw_link *l)
{
	struct vw_link **pp = &vw_links;

	while (*pp)
		pp = &(*pp)->next;
	*pp = l;
}

static void link_unlink(struct vw_link *l)
{
	struct vw_link **pp;

	for (pp = &vw_links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			return;
		}
}

static int check_new_name(const char *name, char *err, size_t errlen)
{
	if (!vw_linkname_valid(name)) {
		ERR("%s: invalid link name (1-15 of A-Z a-z 0-9 _ . -, starting with a letter)", name);
		return -EINVAL;
	}
	if (link_find(name)) {
		ERR("%s: link already exists", name);
		return -EEXIST;
	}
	if (if_nametoindex(name)) {
		ERR("%s: name is taken by a Linux interface", name);
		return -EEXIST;
	}
	return 0;
}

/* ---- watchers of links' ports (link_watch) ---- */

static struct {
	vw_link_watch_fn fn;
	void *arg;
} watchers[8];

int link_watch(vw_link_watch_fn fn, void *arg)
{
	unsigned i;

	for (i = 0; i < sizeof(watchers) / sizeof(watchers[0]); i++)
		if (!watchers[i].fn) {
			watchers[i].fn = fn;
			watchers[i].arg = arg;
			return 0;
		}
	return -ENOSPC;
}

void link_unwatch(vw_link_watch_fn fn, void *arg)
{
	unsigned i;

	for (i = 0; i < sizeof(watchers) / sizeof(watchers[0]); i++)
		if (watchers[i].fn == fn && watchers[i].arg == arg)
			watchers[i].fn = NULL;
}

static void link_notify(struct vw_link *l, struct vw_port *port, enum vw_link_event ev)
{
	unsigned i;

	for (i = 0; i < sizeof(watchers) / sizeof(watchers[0]); i++)
		if (watchers[i].fn)
			watchers[i].fn(l, port, ev, watchers[i].arg);
}

int etherstub_create(const char *name, bool temporary, char *err, size_t errlen)
{
	struct vw_link *l;
	int rc = check_new_name(name, err, errlen);

	if (rc)
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->sw = vw_switch_new(name))) {
		free(l);
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	strcpy(l->name, name);
	l->cls = VW_CLASS_ETHERSTUB;
	l->temporary = temporary;
	link_insert(l);
	return 0;
}

int etherstub_delete(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name);

	if (!l || l->cls != VW_CLASS_ETHERSTUB) {
		ERR("%s: no such etherstub", name);
		return -ENOENT;
	}
	if (l->nvnics) {
		ERR("%s: etherstub has %u VNIC%s; delete them first", name, l->nvnics, l->nvnics == 1 ? "" : "s");
		return -EBUSY;
	}
	link_notify(l, NULL, VW_LINK_DELETED);
	link_unlink(l);
	vw_switch_free(l->sw);
	free(l);
	return 0;
}

/* ---- phys: attached while it has VNICs ---- */

static int uplink_shape(struct vw_link *l, uint64_t bps, char *err, size_t errlen);
static int cpus_workers(const char *name, const struct vw_cpuset *set, uint32_t *mask, char *err, size_t errlen);

/* The workers the phys's cpus name (0: any; so too when they cannot be
 * used any more, with the reason on stderr: the phys is attached anyway). */
static uint32_t phys_workers(const char *name)
{
	struct vw_physprop *p = physprop_find(name);
	uint32_t mask = 0;
	char why[256];

	if (p && !vw_cpuset_empty(&p->cpus) && cpus_workers(name, &p->cpus, &mask, why, sizeof(why))) {
		fprintf(stderr, "vwired: %s; its uplink is read by any worker\n", why);
		mask = 0;
	}
	return mask;
}

static struct vw_link *phys_get(const char *name, char *err, size_t errlen, int *rc)
{
	struct nl_link_info li;
	struct vw_link *l = link_find(name);

	if (l)
		return l;
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
	l->cls = VW_CLASS_PHYS;
	l->temporary = true; /* phys links are not configuration */
	l->sw = vw_switch_new(name);
	l->uplink = vw_packet_open(name, rc);
	if (!l->sw || !l->uplink) {
		ERR("%s: cannot attach: %s", name, strerror(l->uplink ? ENOMEM : -*rc));
		goto fail;
	}
	if ((*rc = vw_switch_attach(l->sw, l->uplink)) || (*rc = vw_worker_add_port_in(l->uplink, phys_workers(name)))) {
		ERR("%s: cannot attach: %s", name, strerror(-*rc));
		vw_switch_detach(l->sw, l->uplink);
		goto fail;
	}
	nl_link_set_up(NULL, name, true);
	link_insert(l);
	flows_link_attached(l);
	link_notify(l, l->uplink, VW_LINK_PORT_UP);
	{
		struct vw_physprop *p = physprop_find(name);
		char why[256];

		/* best effort, as flows: the phys is attached anyway */
		if (p && p->maxbw && uplink_shape(l, p->maxbw, why, sizeof(why)))
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

static void phys_put(struct vw_link *l)
{
	if (l->cls != VW_CLASS_PHYS || l->nvnics)
		return;
	flows_link_detaching(l); /* they stay, and come back with the next VNIC */
	link_notify(l, l->uplink, VW_LINK_PORT_DOWN);
	vw_shape_set(l->uplink, NULL, NULL, 0); /* maxbw stays, for the next attach */
	vw_worker_del_port(l->uplink);
	vw_switch_detach(l->sw, l->uplink);
	vw_port_destroy(l->uplink);
	vw_switch_free(l->sw);
	link_unlink(l);
	free(l);
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
	struct vw_physprop **pp;

	if (p->maxbw || p->maxbw_saved || !vw_cpuset_empty(&p->cpus) || !vw_cpuset_empty(&p->cpus_saved))
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

static enum vw_shaper_prio shaper_prio(enum vw_priority p)
{
	return p == VW_PRIO_HIGH ? VW_SHAPER_HIGH : p == VW_PRIO_LOW ? VW_SHAPER_LOW : VW_SHAPER_MEDIUM;
}

uint64_t link_maxbw(const char *name)
{
	const struct vw_link *l = link_find(name);
	const struct vw_physprop *p;

	if (l && l->cls == VW_CLASS_VNIC)
		return l->maxbw;
	return (p = physprop_find(name)) ? p->maxbw : 0;
}

int phys_vnic_classes(struct vw_link *l, char *err, size_t errlen)
{
	char why[200] = "";
	struct vw_link *v;
	int rc;

	for (v = vw_links; v; v = v->next)
		if (v->cls == VW_CLASS_VNIC && v->over == l && v->port && v->port->uplink_class &&
		    (rc = vw_shape_uplink_class(l->uplink, v->port->uplink_class, shaper_prio(v->priority), why,
						sizeof(why)))) {
			ERR("%s: %s", v->name, why);
			return rc;
		}
	return 0;
}

/* Shapes an attached phys's uplink at bps (0: not), with its flows' classes
 * and a class for each of its VNICs that has a priority other than medium
 * (flows_shape). */
static int uplink_shape(struct vw_link *l, uint64_t bps, char *err, size_t errlen)
{
	char why[200] = "";
	int rc = flows_check_link_maxbw(l->name, bps, err, errlen);

	if (rc)
		return rc;
	rc = flows_shape(l, bps, why, sizeof(why));
	if (rc)
		ERR("%s: cannot set maxbw: %s", l->name, why[0] ? why : strerror(-rc));
	return rc;
}

int phys_set_maxbw(const char *name, uint64_t bps, bool temporary, char *err, size_t errlen)
{
	struct vw_physprop *p = physprop_find(name);
	struct vw_link *l = link_find(name);
	int rc;

	if ((rc = flows_check_link_maxbw(name, bps, err, errlen)))
		return rc;
	if (!p && bps && !(p = physprop_new(name))) {
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	if (!p)
		return 0;
	if (l && l->cls == VW_CLASS_PHYS && l->uplink && (rc = uplink_shape(l, bps, err, errlen))) {
		physprop_gc(p);
		return rc;
	}
	p->maxbw = bps;
	if (!temporary)
		p->maxbw_saved = bps;
	physprop_gc(p);
	return 0;
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
		rc2 = uplink_shape(l, p ? p->maxbw : 0, why, sizeof(why));
	if (rc2 && !rc) {
		ERR("%s", why);
		rc = rc2;
	}
	return rc;
}

int phys_set_cpus(const char *name, const struct vw_cpuset *set, bool temporary, char *err, size_t errlen)
{
	struct vw_physprop *p = physprop_find(name);
	struct vw_link *l = link_find(name);
	bool empty = !set || vw_cpuset_empty(set);
	uint32_t mask = 0;
	int rc;

	if (!empty && (rc = cpus_workers(name, set, &mask, err, errlen)))
		return rc;
	if (!p && !empty && !(p = physprop_new(name))) {
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	if (!p)
		return 0;
	if (l && l->cls == VW_CLASS_PHYS && l->uplink && (rc = uplink_move(l, mask, err, errlen))) {
		physprop_gc(p);
		return rc;
	}
	if (empty)
		memset(&p->cpus, 0, sizeof(p->cpus));
	else
		p->cpus = *set;
	if (!temporary)
		p->cpus_saved = p->cpus;
	physprop_gc(p);
	return 0;
}

void phys_restore_cpus(const char *name, const struct vw_cpuset *cpus, const struct vw_cpuset *saved)
{
	struct vw_physprop *p = physprop_find(name);
	char err[256];

	if (!p || memcmp(&p->cpus, cpus, sizeof(*cpus)))
		phys_set_cpus(name, cpus, true, err, sizeof(err)); /* the live value */
	p = physprop_find(name);
	if (!p && !vw_cpuset_empty(saved))
		p = physprop_new(name);
	if (p) {
		p->cpus_saved = *saved;
		physprop_gc(p);
	}
}

void phys_restore_maxbw(const char *name, uint64_t bps, uint64_t saved)
{
	struct vw_physprop *p;
	char err[256];

	phys_set_maxbw(name, bps, true, err, sizeof(err)); /* the live value */
	p = physprop_find(name);
	if (!p && saved)
		p = physprop_new(name);
	if (p) {
		p->maxbw_saved = saved;
		physprop_gc(p);
	}
}

/* ---- VNICs ---- */

static bool mac_in_use(const uint8_t mac[6], const struct vw_link *over, uint16_t vid)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		if (l->cls == VW_CLASS_VNIC && l->over == over && l->vid == vid && !memcmp(l->mac, mac, 6))
			return true;
	return false;
}

static int vnic_pick_mac(const struct vnic_spec *s, struct vw_link *over, uint8_t mac[6], enum vw_mactype *type,
			 char *err, size_t errlen)
{
	uint8_t prefix[6];
	int plen, tries;

	if (s->mac && strcmp(s->mac, "random") && strcmp(s->mac, "auto")) {
		if (!vw_mac_parse(s->mac, mac)) {
			ERR("%s: invalid MAC address '%s'", s->name, s->mac);
			return -EINVAL;
		}
		if (vw_mac_is_multicast(mac) || !memcmp(mac, "\0\0\0\0\0\0", 6)) {
			ERR("%s: MAC address '%s' is not a unicast address", s->name, s->mac);
			return -EINVAL;
		}
		*type = VW_MAC_FIXED;
		return 0;
	}
	*type = s->mac && !strcmp(s->mac, "auto") ? VW_MAC_AUTO : VW_MAC_RANDOM;
	/* a whole address as the prefix is how the saved state brings a
	 * random address back (objects/state.c) */
	plen = 6;
	if (!vw_macprefix_parse(s->prefix ? s->prefix : VW_MAC_PREFIX_DEFAULT, prefix, &plen) &&
	    !(s->prefix && vw_mac_parse(s->prefix, prefix))) {
		ERR("%s: invalid MAC prefix '%s'", s->name, s->prefix);
		return -EINVAL;
	}
	if (prefix[0] & 1) {
		ERR("%s: MAC prefix '%s' is a multicast prefix", s->name, s->prefix);
		return -EINVAL;
	}
	for (tries = 0; tries < 100; tries++) {
		if (getrandom(mac, 6, 0) != 6)
			return -EIO;
		memcpy(mac, prefix, (size_t)plen);
		if (!mac_in_use(mac, over, s->vid))
			return 0;
		if (plen == 6)
			break;
	}
	ERR("%s: no free MAC address with prefix '%s'", s->name, s->prefix ? s->prefix : VW_MAC_PREFIX_DEFAULT);
	return -EEXIST;
}

static void vnic_class_drop(struct vw_link *l);

static void vnic_unplumb(struct vw_link *l)
{
	vnic_class_drop(l);
	vw_shape_set(l->port, NULL, NULL, 0);
	vw_worker_del_port(l->port);
	vw_switch_detach(l->over->sw, l->port);
	vw_port_destroy(l->port); /* closing the TAP removes its device */
	l->port = NULL;
}

static int addrs_apply(struct vw_link *l, char *err, size_t errlen)
{
	char buf[64];
	int i, rc;

	for (i = 0; i < l->naddr; i++) {
		rc = nl_addr_add(l->zone, l->name, &l->addrs[i].p);
		if (rc < 0 && rc != -EEXIST) {
			ERR("%s: cannot add address %s: %s", l->name, vw_prefix_format(&l->addrs[i].p, buf), strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/*
 * Brings the VNIC's Linux face up where it now lives.  Moving a link to
 * another namespace takes it down and drops its queueing discipline, so this
 * runs after every move: no qdisc (a multi-queue TAP would otherwise get one
 * pfifo_fast per possible queue), the MTU, then up.
 */
static int vnic_face_up(struct vw_link *l, char *err, size_t errlen)
{
	int rc = 0;

	if (l->port->nq > 1 && (rc = nl_qdisc_noqueue(l->zone, l->name)) < 0) {
		ERR("%s: cannot remove its queueing discipline: %s", l->name, strerror(-rc));
		return rc;
	}
	if (l->mtu && (rc = nl_link_set_mtu(l->zone, l->name, l->mtu)) < 0) {
		ERR("%s: cannot set mtu %u: %s", l->name, l->mtu, strerror(-rc));
		return rc;
	}
	rc = nl_link_set_up(l->zone, l->name, true);
	if (rc < 0)
		ERR("%s: cannot set up%s%s: %s", l->name, *l->zone ? " in zone " : "", l->zone, strerror(-rc));
	return rc;
}

int vnic_create(const struct vnic_spec *s, char *err, size_t errlen)
{
	struct vw_link *over, *l;
	int rc = check_new_name(s->name, err, errlen);

	if (rc)
		return rc;
	over = link_find(s->over);
	if (over && over->cls == VW_CLASS_VNIC) {
		ERR("%s: cannot create a VNIC over VNIC '%s'", s->name, s->over);
		return -EINVAL;
	}
	if (over && over->temporary && over->cls == VW_CLASS_ETHERSTUB && !s->temporary) {
		ERR("%s: '%s' is temporary; a VNIC over it must be too (-t)", s->name, s->over);
		return -EINVAL;
	}
	if (s->zone && *s->zone && !zone_exists(s->zone)) {
		ERR("%s: no such zone '%s'", s->name, s->zone);
		return -ENOENT;
	}
	if (!over) {
		if (!vw_linkname_valid(s->over) || nl_link_index(NULL, s->over) < 0) {
			ERR("%s: no such link '%s'", s->name, s->over);
			return -ENOENT;
		}
		over = phys_get(s->over, err, errlen, &rc);
		if (!over)
			return rc;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		ERR("%s: out of memory", s->name);
		rc = -ENOMEM;
		goto fail_phys;
	}
	strcpy(l->name, s->name);
	l->cls = VW_CLASS_VNIC;
	l->temporary = s->temporary;
	l->over = over;
	l->vid = s->vid;
	l->mtu = l->mtu_saved = s->mtu;
	rc = vnic_pick_mac(s, over, l->mac, &l->mactype, err, errlen);
	if (rc)
		goto fail_free;
	if (mac_in_use(l->mac, over, l->vid)) {
		char mb[18];

		ERR("%s: MAC address %s is already in use on '%s'", s->name, vw_mac_format(l->mac, mb), over->name);
		rc = -EEXIST;
		goto fail_free;
	}
	l->port = vw_tap_open(l->name, l->mac, vw_workers_count(), &rc);
	if (!l->port) {
		ERR("%s: cannot create TAP device: %s", s->name, strerror(-rc));
		goto fail_free;
	}
	l->port->vid = l->vid;
	l->port->mtu = l->mtu ? l->mtu : 1500; /* the switch enforces it */
	rc = vw_switch_attach(over->sw, l->port);
	if (rc) {
		ERR("%s: cannot attach to '%s': %s", s->name, over->name, strerror(-rc));
		goto fail_port;
	}
	rc = vw_worker_add_port(l->port);
	if (rc) {
		ERR("%s: cannot start polling: %s", s->name, strerror(-rc));
		vw_switch_detach(over->sw, l->port);
		goto fail_port;
	}
	if (s->zone && *s->zone) {
		rc = nl_link_move(NULL, l->name, s->zone);
		if (rc < 0) {
			ERR("%s: cannot move to zone '%s': %s", s->name, s->zone, strerror(-rc));
			goto fail_plumb;
		}
		strcpy(l->zone, s->zone);
		strcpy(l->zone_saved, s->zone);
	}
	rc = vnic_face_up(l, err, errlen);
	if (rc < 0)
		goto fail_plumb;
	if (!vw_cpuset_empty(&s->cpus)) {
		/* before maxbw: the shaper's owner is one of these CPUs' workers */
		rc = vnic_set_cpus(l, &s->cpus, err, errlen);
		if (rc < 0)
			goto fail_plumb;
		l->cpus_saved = s->cpus;
	}
	if (s->maxbw) {
		rc = vnic_set_maxbw(l, s->maxbw, err, errlen);
		if (rc < 0)
			goto fail_plumb;
		l->maxbw_saved = s->maxbw;
	}
	if (s->priority != VW_PRIO_MEDIUM) {
		rc = vnic_set_priority(l, s->priority, err, errlen);
		if (rc < 0)
			goto fail_plumb;
		l->priority_saved = s->priority;
	}
	over->nvnics++;
	link_insert(l);
	vnic_refresh_mcast(l);
	link_notify(l, l->port, VW_LINK_PORT_UP);
	return 0;
fail_plumb:
	vnic_unplumb(l);
	goto fail_free;
fail_port:
	vw_port_destroy(l->port);
fail_free:
	free(l);
fail_phys:
	phys_put(over);
	return rc;
}

/*
 * ---- retired VNICs ----
 *
 * Unregistering a Linux device waits for RCU grace periods, about 20 ms
 * each, and closing the last fd of a TAP does it one device at a time.  So a
 * deleted VNIC's face is retired instead: taken down, renamed to a private
 * name (its own is free at once) and put in this daemon's netdev group, its
 * fds kept open.  vnic_reap() then removes every retired face of a zone with
 * one RTM_DELLINK by group (one kernel batch) and closes their fds, which
 * costs nothing more once the device is gone.  The control loop reaps at
 * most VW_REAP_DELAY_MS after the first retirement; so do zone removal and
 * daemon exit.  Should the daemon die meanwhile, the kernel closes the fds
 * and the faces go the slow way.
 */
#define VW_REAP_DELAY_MS 100
#define VW_GRAVES_MAX 256 /* reaped at once beyond this: each holds fds */

struct vnic_grave {
	struct vnic_grave *next;
	struct vw_port *port;
	char zone[VW_ZONENAME_MAX + 1];
};

static struct vnic_grave *graves;
static unsigned ngraves, grave_seq;
static struct timespec grave_first;

/* This daemon's netdev group for retired faces, shared with nothing else. */
static uint32_t grave_group(void)
{
	return 0x76770000u | ((uint32_t)getpid() & 0xffff);
}

static void vnic_retire(struct vw_port *port, const char *zone)
{
	struct vnic_grave *g = calloc(1, sizeof(*g));
	struct nl_retire r = { .group = grave_group() };

	/* a name no vwire link can have (it starts with '_'), unique per
	 * daemon and retirement */
	snprintf(r.newname, sizeof(r.newname), "_vw%06x%06x", (unsigned)getpid() & 0xffffff,
		 ++grave_seq & 0xffffff);
	if (!g || nl_link_retire(zone, port->name, &r) < 0) {
		free(g);
		vw_port_destroy(port); /* the slow way: unregistered as it closes */
		return;
	}
	g->port = port;
	snprintf(g->zone, sizeof(g->zone), "%s", zone);
	g->next = graves;
	graves = g;
	if (!ngraves++)
		clock_gettime(CLOCK_MONOTONIC, &grave_first);
	if (ngraves >= VW_GRAVES_MAX)
		vnic_reap();
}

void vnic_reap(void)
{
	struct vnic_grave *g, *e;

	/* one batch per zone; should one fail, closing the fds below still
	 * removes those faces, one by one */
	for (g = graves; g; g = g->next) {
		for (e = graves; e != g && strcmp(e->zone, g->zone); e = e->next)
			;
		if (e == g)
			nl_link_del_group(g->zone, grave_group());
	}
	while ((g = graves)) {
		graves = g->next;
		vw_port_destroy(g->port);
		free(g);
	}
	ngraves = 0;
}

int vnic_reap_timeout(void)
{
	struct timespec now;
	long ms;

	if (!ngraves)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - grave_first.tv_sec) * 1000 + (now.tv_nsec - grave_first.tv_nsec) / 1000000;
	return ms >= VW_REAP_DELAY_MS ? 0 : (int)(VW_REAP_DELAY_MS - ms);
}

int vnic_delete(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name), *over;

	if (!l || l->cls != VW_CLASS_VNIC) {
		ERR("%s: no such VNIC", name);
		return -ENOENT;
	}
	over = l->over;
	flows_link_deleted(l); /* a VNIC's flows go with it, as in Crossbow */
	link_notify(l, l->port, VW_LINK_PORT_DOWN);
	link_notify(l, NULL, VW_LINK_DELETED);
	link_unlink(l);
	/* out of the datapath first: after the detach's grace period no
	 * worker reads the TAP or forwards to its MAC */
	vnic_class_drop(l);
	vw_shape_set(l->port, NULL, NULL, 0);
	vw_worker_del_port(l->port);
	vw_switch_detach(over->sw, l->port);
	vnic_retire(l->port, l->zone);
	l->port = NULL;
	over->nvnics--;
	phys_put(over);
	free(l);
	return 0;
}

int vnic_set_zone(struct vw_link *l, const char *zone, char *err, size_t errlen)
{
	int rc;

	if (!strcmp(l->zone, zone))
		return 0;
	if (*zone && !zone_exists(zone)) {
		ERR("%s: no such zone '%s'", l->name, zone);
		return -ENOENT;
	}
	rc = nl_link_move(l->zone, l->name, zone);
	if (rc < 0) {
		ERR("%s: cannot move to zone '%s': %s", l->name, *zone ? zone : "(host)", strerror(-rc));
		return rc;
	}
	snprintf(l->zone, sizeof(l->zone), "%s", zone);
	rc = vnic_face_up(l, err, errlen);
	if (rc < 0)
		return rc;
	rc = addrs_apply(l, err, errlen);
	vnic_refresh_mcast(l);
	return rc;
}

int vnic_set_maxbw(struct vw_link *l, uint64_t bps, char *err, size_t errlen)
{
	char why[200] = "";
	int rc = flows_check_link_maxbw(l->name, bps, err, errlen);

	if (rc)
		return rc;
	rc = flows_shape(l, bps, why, sizeof(why));
	if (rc) {
		ERR("%s: cannot set maxbw: %s", l->name, why[0] ? why : strerror(-rc));
		return rc;
	}
	l->maxbw = bps;
	return 0;
}

/* The CPUs online (/sys/devices/system/cpu/online; failing that, those the
 * workers run on). */
static void cpus_online(struct vw_cpuset *set)
{
	char buf[4096];
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	int w;

	if (f)
		fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (vw_cpulist_parse(buf, set))
		return;
	memset(set, 0, sizeof(*set));
	for (w = 0; w < vw_workers_count(); w++)
		if (vw_worker_cpu(w) >= 0)
			vw_cpuset_add(set, (unsigned)vw_worker_cpu(w));
}

/* The workers on the CPUs of set, as a mask; each CPU must be online and
 * run one (else -EINVAL with the first bad CPU named). */
static int cpus_workers(const char *name, const struct vw_cpuset *set, uint32_t *mask, char *err, size_t errlen)
{
	struct vw_cpuset online, busy = { { 0 } };
	char list[256];
	unsigned c;
	int w;

	cpus_online(&online);
	for (w = 0; w < vw_workers_count(); w++)
		if (vw_worker_cpu(w) >= 0)
			vw_cpuset_add(&busy, (unsigned)vw_worker_cpu(w));
	*mask = 0;
	for (c = 0; c < VW_CPUS_MAX; c++) {
		if (!vw_cpuset_has(set, c))
			continue;
		if (!vw_cpuset_has(&online, c)) {
			ERR("%s: CPU %u is not online (online: %s)", name, c,
			    vw_cpulist_format(&online, list, sizeof(list)) ? list : "?");
			return -EINVAL;
		}
		if (!vw_workers_on_cpu((int)c)) {
			if (vw_cpuset_empty(&busy))
				ERR("%s: no datapath worker runs on CPU %u (workers are not pinned to CPUs)", name, c);
			else
				ERR("%s: no datapath worker runs on CPU %u (workers run on %s)", name, c,
				    vw_cpulist_format(&busy, list, sizeof(list)) ? list : "?");
			return -EINVAL;
		}
		*mask |= vw_workers_on_cpu((int)c);
	}
	return 0;
}

/* Restricts the port's readers to mask; a shaped VNIC's shaping is made
 * again so that its owner is among them (what it held is sent on, and its
 * flows' connection counts start again). */
static int port_allow(struct vw_link *l, uint32_t mask, char *why, size_t whylen)
{
	bool shaped = l->port->shape[0] != NULL;
	int rc;

	if (shaped)
		vw_shape_set(l->port, NULL, NULL, 0);
	rc = vw_tap_allow(l->port, mask);
	if (rc)
		snprintf(why, whylen, "cannot steer the TAP's frames: %s", strerror(-rc));
	if (shaped) {
		int rc2 = flows_shape(l, l->maxbw, why, whylen);

		rc = rc ? rc : rc2;
	}
	return rc;
}

int vnic_set_cpus(struct vw_link *l, const struct vw_cpuset *set, char *err, size_t errlen)
{
	uint32_t mask = 0, all = (1u << l->port->nq) - 1, old = l->port->workers_allowed;
	char why[200] = "", why2[200];
	int rc;

	if (set && !vw_cpuset_empty(set)) {
		rc = cpus_workers(l->name, set, &mask, err, errlen);
		if (rc)
			return rc;
	}
	if (mask == all)
		mask = 0;
	if (mask != old) {
		rc = port_allow(l, mask, why, sizeof(why));
		if (rc) {
			port_allow(l, old, why2, sizeof(why2)); /* as it was */
			ERR("%s: cannot set cpus: %s", l->name, why[0] ? why : strerror(-rc));
			return rc;
		}
	}
	if (set)
		l->cpus = *set;
	else
		memset(&l->cpus, 0, sizeof(l->cpus));
	return 0;
}

/*
 * Priority: a class of the phys's egress shaper per VNIC whose priority is
 * not medium (medium VNICs share class 0), numbered per phys link from
 * VW_SHAPE_UPLINK_FIRST
 * (port->uplink_class).  The class exists while the phys has a maxbw; the
 * number is kept regardless, so setting maxbw later finds it.
 */
static uint16_t uplink_class_free(const struct vw_link *phys)
{
	uint8_t used[VW_SHAPE_MAX_CLASSES / 8] = { 0 };
	const struct vw_link *v;
	unsigned id;

	for (v = vw_links; v; v = v->next)
		if (v->cls == VW_CLASS_VNIC && v->over == phys && v->port && v->port->uplink_class)
			used[v->port->uplink_class / 8] |= (uint8_t)(1u << (v->port->uplink_class % 8));
	for (id = VW_SHAPE_UPLINK_FIRST; id < VW_SHAPE_MAX_CLASSES; id++)
		if (!(used[id / 8] >> (id % 8) & 1))
			return (uint16_t)id;
	return 0;
}

/* The VNIC's frames go back to class 0 and its class is removed (queued
 * frames move to class 0). */
static void vnic_class_drop(struct vw_link *l)
{
	uint16_t id = l->port ? l->port->uplink_class : 0;
	char why[200];

	if (!id)
		return;
	__atomic_store_n(&l->port->uplink_class, 0, __ATOMIC_RELAXED);
	vw_shape_uplink_class(l->over->uplink, id, -1, why, sizeof(why));
}

int vnic_set_priority(struct vw_link *l, enum vw_priority prio, char *err, size_t errlen)
{
	struct vw_link *phys = l->over && l->over->cls == VW_CLASS_PHYS ? l->over : NULL;
	uint16_t id = l->port->uplink_class;
	char why[200] = "";
	int rc;

	if (!phys || prio == VW_PRIO_MEDIUM) {
		/* over an etherstub the value is only kept: no egress to share */
		vnic_class_drop(l);
		l->priority = (uint8_t)prio;
		return 0;
	}
	if (!id && !(id = uplink_class_free(phys))) {
		ERR("%s: cannot set priority: '%s' has %d VNICs with a priority other than medium already", l->name,
		    phys->name, VW_SHAPE_UPLINK_VNICS);
		return -ENOSPC;
	}
	rc = vw_shape_uplink_class(phys->uplink, id, shaper_prio(prio), why, sizeof(why));
	if (rc) {
		ERR("%s: cannot set priority: %s", l->name, why[0] ? why : strerror(-rc));
		return rc;
	}
	/* the class exists before frames are marked with it */
	__atomic_store_n(&l->port->uplink_class, id, __ATOMIC_RELAXED);
	l->priority = (uint8_t)prio;
	return 0;
}

int vnic_set_mtu(struct vw_link *l, unsigned mtu, char *err, size_t errlen)
{
	int rc = nl_link_set_mtu(l->zone, l->name, mtu ? mtu : 1500);

	if (rc < 0) {
		ERR("%s: cannot set mtu %u: %s", l->name, mtu, strerror(-rc));
		return rc;
	}
	l->mtu = mtu;
	vw_switch_set_mtu(l->over->sw, l->port, mtu ? mtu : 1500);
	return 0;
}

/* Multicast lists of one zone's VNICs, gathered from one read of the
 * zone's list. */
struct mcast_gather {
	const char *zone;
	struct vw_link *only;
	struct vw_link **links;
	unsigned nlinks;
	uint8_t (*macs)[VW_MAX_MCAST][6];
	unsigned *n;
};

static int mcast_gather_one(const char *ifname, const uint8_t mac[6], void *arg)
{
	struct mcast_gather *g = arg;
	unsigned i;

	for (i = 0; i < g->nlinks; i++)
		if (!strcmp(g->links[i]->name, ifname)) {
			if (g->n[i] < VW_MAX_MCAST)
				memcpy(g->macs[i][g->n[i]++], mac, 6);
			break;
		}
	return 0;
}

/* only: that VNIC; else with pending, those marked mcast_pending; else all */
static bool vnic_wants_refresh(const struct vw_link *l, const char *zone, const struct vw_link *only, bool pending)
{
	return l->cls == VW_CLASS_VNIC && l->port && !strcmp(l->zone, zone) &&
	       (only ? l == only : !pending || l->mcast_pending);
}

/* Re-reads the groups of the VNICs in one zone (or just only, or just those
 * pending), with one read of the zone's list. */
static void mcast_refresh_zone(const char *zone, struct vw_link *only, bool pending)
{
	struct mcast_gather g = { .zone = zone, .only = only };
	struct vw_link *l;
	unsigned i = 0;

	for (l = vw_links; l; l = l->next)
		if (vnic_wants_refresh(l, zone, only, pending))
			g.nlinks++;
	if (!g.nlinks)
		return;
	g.links = calloc(g.nlinks, sizeof(*g.links));
	g.macs = calloc(g.nlinks, sizeof(*g.macs));
	g.n = calloc(g.nlinks, sizeof(*g.n));
	if (g.links && g.macs && g.n) {
		for (l = vw_links; l; l = l->next)
			if (vnic_wants_refresh(l, zone, only, pending))
				g.links[i++] = l;
		if (nl_mcast_dump(zone, mcast_gather_one, &g) == 0)
			for (i = 0; i < g.nlinks; i++)
				vw_switch_set_mcast(g.links[i]->over->sw, g.links[i]->port,
						    (const uint8_t(*)[6])g.macs[i], g.n[i]);
	}
	for (l = vw_links; l && pending; l = l->next)
		if (vnic_wants_refresh(l, zone, NULL, true))
			l->mcast_pending = false;
	free(g.links);
	free(g.macs);
	free(g.n);
}

static void mcast_refresh_one_zone(const char *zone, void *arg)
{
	(void)arg;
	mcast_refresh_zone(zone, NULL, false);
}

void vnic_refresh_mcast(struct vw_link *only)
{

	if (only) {
		if (only->cls == VW_CLASS_VNIC)
			mcast_refresh_zone(only->zone, only, false);
		return;
	}
	/* one read of each zone's list, rather than one per VNIC */
	vnic_foreach_zone(mcast_refresh_one_zone, NULL);
}

void vnic_foreach_zone(void (*fn)(const char *zone, void *arg), void *arg)
{
	struct vw_link *l, *e;

	/* a zone is visited when its first VNIC comes up in the list */
	for (l = vw_links; l; l = l->next) {
		if (l->cls != VW_CLASS_VNIC)
			continue;
		for (e = vw_links; e != l; e = e->next)
			if (e->cls == VW_CLASS_VNIC && !strcmp(e->zone, l->zone))
				break;
		if (e == l)
			fn(l->zone, arg);
	}
}

void vnic_refresh_mcast_dirty(void)
{
	struct vw_link *l, *e;

	for (l = vw_links; l; l = l->next)
		if (l->cls == VW_CLASS_VNIC && l->port && __atomic_exchange_n(&l->port->mcast_dirty, 0, __ATOMIC_ACQ_REL))
			l->mcast_pending = true;
	/* one read per zone for all its marked VNICs, not one per VNIC:
	 * a burst of new interfaces reports at about the same time */
	for (l = vw_links; l; l = l->next) {
		if (l->cls != VW_CLASS_VNIC || !l->mcast_pending)
			continue;
		for (e = vw_links; e != l; e = e->next)
			if (e->cls == VW_CLASS_VNIC && e->mcast_pending && !strcmp(e->zone, l->zone))
				break;
		if (e == l)
			mcast_refresh_zone(l->zone, NULL, true);
	}
}

/* ---- addresses ---- */

static struct vw_link *addr_link(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name);

	if (!l || l->cls != VW_CLASS_VNIC) {
		ERR("%s: no such VNIC", name);
		return NULL;
	}
	return l;
}

static int addr_index(const struct vw_link *l, const struct vw_prefix *p)
{
	int i;

	for (i = 0; i < l->naddr; i++)
		if (vw_prefix_equal(&l->addrs[i].p, p))
			return i;
	return -1;
}

int addr_create(const char *name, const char *addr, char *err, size_t errlen)
{
	struct vw_link *l = addr_link(name, err, errlen);
	struct vw_prefix p;
	const char *why;
	int rc;

	if (!l)
		return -ENOENT;
	if (!vw_prefix_parse(addr, false, &p)) {
		ERR("%s: invalid address '%s' (ADDR/PREFIX expected)", name, addr);
		return -EINVAL;
	}
	if ((why = vw_ifaddr_unusable(&p))) {
		ERR("%s: '%s' is %s, not an interface address", name, addr, why);
		return -EINVAL;
	}
	if (addr_index(l, &p) >= 0) {
		ERR("%s: address %s already exists", name, addr);
		return -EEXIST;
	}
	if (l->naddr == VW_MAX_ADDRS) {
		ERR("%s: too many addresses (at most %d)", name, VW_MAX_ADDRS);
		return -ENOSPC;
	}
	rc = nl_addr_add(l->zone, l->name, &p);
	if (rc < 0) {
		ERR("%s: cannot add address %s: %s", name, addr, strerror(-rc));
		return rc;
	}
	l->addrs[l->naddr++].p = p;
	vnic_protect_apply(l, err, errlen); /* ip-nospoof allows it now */
	vnic_refresh_mcast(l);
	return 0;
}

int addr_delete(const char *name, const char *addr, char *err, size_t errlen)
{
	struct vw_link *l = addr_link(name, err, errlen);
	struct vw_prefix p;
	int i, rc;

	if (!l)
		return -ENOENT;
	if (!vw_prefix_parse(addr, false, &p)) {
		ERR("%s: invalid address '%s' (ADDR/PREFIX expected)", name, addr);
		return -EINVAL;
	}
	i = addr_index(l, &p);
	if (i < 0) {
		ERR("%s: no such address %s", name, addr);
		return -ENOENT;
	}
	rc = nl_addr_del(l->zone, l->name, &p);
	if (rc < 0 && rc != -EADDRNOTAVAIL) {
		ERR("%s: cannot delete address %s: %s", name, addr, strerror(-rc));
		return rc;
	}
	l->addrs[i] = l->addrs[--l->naddr];
	vnic_protect_apply(l, err, errlen);
	vnic_refresh_mcast(l);
	return 0;
}

/* ---- zones ---- */

struct vw_zone *zone_find(const char *name)
{
	struct vw_zone *z;

	for (z = vw_zones; z; z = z->next)
		if (!strcmp(z->name, name))
			return z;
	return NULL;
}

int zone_add(const char *name, char *err, size_t errlen)
{
	struct vw_zone *z, **pp;
	int rc;

	if (!vw_zonename_valid(name)) {
		ERR("%s: invalid zone name (1-31 of A-Z a-z 0-9 _ . -, starting with a letter)", name);
		return -EINVAL;
	}
	if (zone_find(name)) {
		ERR("%s: zone already exists", name);
		return -EEXIST;
	}
	z = calloc(1, sizeof(*z));
	if (!z) {
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	strcpy(z->name, name);
	/* a namespace left by an earlier run, or made with `ip netns add`,
	 * is taken over as it is */
	if (!zone_exists(name)) {
		rc = zone_create(name);
		if (rc < 0) {
			ERR("%s: cannot create zone: %s", name, strerror(-rc));
			free(z);
			return rc;
		}
		z->created = true;
	}
	for (pp = &vw_zones; *pp; pp = &(*pp)->next)
		;
	*pp = z;
	return 0;
}

int zone_remove(const char *name, bool force, char *err, size_t errlen)
{
	struct vw_zone *z = zone_find(name), **pp;
	struct vw_link *l;
	int rc;

	if (!z) {
		ERR("%s: no such zone", name);
		return -ENOENT;
	}
	for (l = vw_links; l; l = l->next) {
		if (l->cls != VW_CLASS_VNIC || strcmp(l->zone, name))
			continue;
		if (!force) {
			ERR("%s: zone holds VNIC '%s' (move it, or use -f)", name, l->name);
			return -EBUSY;
		}
	}
	for (l = vw_links; l; l = l->next) {
		if (l->cls != VW_CLASS_VNIC || strcmp(l->zone, name))
			continue;
		rc = vnic_set_zone(l, "", err, errlen);
		if (rc)
			return rc;
		l->zone_saved[0] = 0;
	}
	vnic_reap(); /* retired faces may still be in it */
	rc = zone_delete(name);
	if (rc < 0 && rc != -ENOENT) {
		ERR("%s: cannot delete zone: %s", name, strerror(-rc));
		return rc;
	}
	for (pp = &vw_zones; *pp != z; pp = &(*pp)->next)
		;
	*pp = z->next;
	free(z);
	return 0;
}

static void destroy_all(bool undo);

void links_destroy_all(void)
{
	destroy_all(false);
}

void links_undo_all(void)
{
	destroy_all(true);
}

static void destroy_all(bool undo)
{
	struct vw_link *l, *next;
	char err[256];

	flows_destroy_all();
	for (l = vw_links; l; l = next) {
		next = l->next;
		if (l->cls == VW_CLASS_VNIC) {
			vnic_delete(l->name, err, sizeof(err));
			next = vw_links;
		}
	}
	vnic_reap();
	while (vw_links) {
		l = vw_links;
		if (l->cls == VW_CLASS_ETHERSTUB)
			link_notify(l, NULL, VW_LINK_DELETED);
		vw_links = l->next;
		vw_switch_free(l->sw);
		free(l);
	}
	while (vw_physprops) {
		struct vw_physprop *p = vw_physprops;

		vw_physprops = p->next;
		free(p);
	}
	while (vw_zones) {
		struct vw_zone *z = vw_zones;

		vw_zones = z->next;
		if (undo && z->created)
			zone_delete(z->name);
		free(z);
	}
}
