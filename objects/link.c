/*
 * Links: what every class of link shares (objects/link.h): the list, the
 * table of classes, the watchers and subscribers, a link's port and
 * counters, addresses, zones, and tearing everything down.  Each class is
 * a file of its own: objects/vnic.c, etherstub.c, phys.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "datapath/shape.h"
#include "datapath/worker.h"
#include "objects/announce.h"
#include "objects/linkclass.h"
#include "objects/netlink.h"

struct vw_link *vw_links;
struct vw_zone *vw_zones;

/* The classes, in the order their links are exported: a class's links are
 * replayed after those they go over. */
extern const struct vw_link_class etherstub_class, phys_class, aggr_class, tunnel_class, vnic_class;
static const struct vw_link_class *const classes[] = { &etherstub_class, &phys_class, &aggr_class, &tunnel_class,
							&vnic_class };
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

struct vw_link *link_find(const char *name)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		if (!strcmp(l->name, name))
			return l;
	return NULL;
}

void link_insert(struct vw_link *l)
{
	struct vw_link **pp = &vw_links;

	while (*pp)
		pp = &(*pp)->next;
	*pp = l;
}

void link_unlink(struct vw_link *l)
{
	struct vw_link **pp;

	for (pp = &vw_links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			return;
		}
}

int link_check_name(const char *name, char *err, size_t errlen)
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

void link_notify(struct vw_link *l, struct vw_port *port, enum vw_link_event ev)
{
	unsigned i;

	for (i = 0; i < sizeof(watchers) / sizeof(watchers[0]); i++)
		if (watchers[i].fn)
			watchers[i].fn(l, port, ev, watchers[i].arg);
}


/* ---- subscribers to links' changes (link_subscribe) ---- */

static vw_link_sub_fn subscribers[4];

int link_subscribe(vw_link_sub_fn fn)
{
	unsigned i;

	for (i = 0; i < sizeof(subscribers) / sizeof(subscribers[0]); i++)
		if (!subscribers[i]) {
			subscribers[i] = fn;
			return 0;
		}
	return -ENOSPC;
}

int link_changed(enum vw_link_change ev, struct vw_link *l, const char *name, uint64_t bps, char *err, size_t errlen)
{
	unsigned i;
	int rc;

	for (i = 0; i < sizeof(subscribers) / sizeof(subscribers[0]); i++)
		if (subscribers[i] && (rc = subscribers[i](ev, l, name, bps, err, errlen)))
			return rc;
	return 0;
}

int link_shape(struct vw_link *l, uint64_t bps, char *err, size_t errlen)
{
	char why[200] = "";
	int rc = link_changed(VW_LINK_MAXBW, l, l->name, bps, err, errlen);

	if (rc || !link_port(l))
		return rc;
	rc = link_changed(VW_LINK_SHAPE, l, l->name, bps, why, sizeof(why));
	if (rc)
		ERR("%s: cannot set maxbw: %s", l->name, why[0] ? why : strerror(-rc));
	return rc;
}

/* ---- what a link is, asked of its class ---- */

struct vw_port *link_port_sw(const struct vw_link *l, struct vw_switch **sw)
{
	struct vw_switch *dummy;

	return l->cls->port ? l->cls->port(l, sw ? sw : &dummy) : NULL;
}

struct vw_port *link_port(const struct vw_link *l)
{
	return link_port_sw(l, NULL);
}

bool link_has_face(const struct vw_link *l)
{
	return l->cls->has_face && l->prop.face == VW_FACE_NETDEV;
}

bool link_on_portless(const struct vw_link *l)
{
	return l->over && l->over->cls->portless;
}

struct vw_link *link_named(const char *name)
{
	struct vw_link *l = link_find(name);
	size_t i;

	for (i = 0; !l && i < NCLASSES; i++)
		if (classes[i]->named)
			l = classes[i]->named(name);
	return l;
}

struct vw_link *link_adopt(const char *name, char *err, size_t errlen, int *rc)
{
	size_t i;

	for (i = 0; i < NCLASSES; i++)
		if (classes[i]->adopt)
			return classes[i]->adopt(name, err, errlen, rc);
	ERR("%s: no such link", name);
	*rc = -ENOENT;
	return NULL;
}

void link_release(struct vw_link *l)
{
	if (l->cls->release)
		l->cls->release(l);
}

int link_set_maxbw(struct vw_link *l, uint64_t bps, char *err, size_t errlen)
{
	struct vw_linkprops *cur;
	int rc = link_shape(l, bps, err, errlen);

	if (rc)
		return rc;
	if (!(cur = l->cls->props_of(l, false, true))) {
		ERR("%s: out of memory", l->name);
		return -ENOMEM;
	}
	cur->maxbw = bps;
	return 0;
}

void link_stats_add(struct vw_port_stats *sum, const struct vw_port *p)
{
	struct vw_port_stats s;
	uint64_t *d = (uint64_t *)sum, *x = (uint64_t *)&s;
	size_t i;

	vw_port_stats_sum(p, &s);
	for (i = 0; i <= offsetof(struct vw_port_stats, drop_txerr) / 8; i++)
		d[i] += x[i];
}

void link_port_stats(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4])
{
	l->cls->counters(l, s, c);
}

void link_counters(const struct vw_link *l, uint64_t c[4])
{
	struct vw_port_stats s = { 0 };

	link_port_stats(l, &s, c);
}

void link_state(const struct vw_link *l, unsigned *mtu, const char **state)
{
	l->cls->state(l, mtu, state);
}

void link_face_state(const char *zone, const char *name, unsigned *mtu, const char **state)
{
	struct nl_link_info li = { 0 };
	bool ok = nl_link_get(zone, name, &li) == 0;

	*mtu = ok ? li.mtu : 0;
	*state = ok && (li.flags & IFF_UP) ? "up" : "down";
}

uint64_t link_maxbw(const char *name)
{
	const struct vw_link *l = link_find(name);
	const struct vw_physprop *p;

	if (l && !l->cls->on_demand)
		return l->prop.maxbw;
	return (p = physprop_find(name)) ? p->prop.maxbw : 0;
}

void links_export(struct vw_buf *out)
{
	struct vw_zone *z;
	size_t i;

	for (z = vw_zones; z; z = z->next)
		vw_buf_printf(out, "create-zone %s\n", z->name);
	for (i = 0; i < NCLASSES; i++)
		classes[i]->export(out);
}

/* Adds to the uplink's new shaping the egress class of each VNIC over it
 * with a priority other than medium. */
struct vw_linkprops *link_props_own(struct vw_link *l, bool saved, bool create)
{
	(void)create;
	return saved ? &l->saved : &l->prop;
}

struct vw_port *uplink_port(const struct vw_link *l, struct vw_switch **sw)
{
	*sw = l->sw;
	return l->uplink;
}

void uplink_counters(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4])
{
	if (l->uplink)
		link_stats_add(s, l->uplink);
	c[0] = s->rx_pkts, c[1] = s->rx_bytes, c[2] = s->tx_pkts, c[3] = s->tx_bytes;
}

int uplink_vnic_classes(struct vw_link *l, char *err, size_t errlen)
{
	char why[200] = "";
	struct vw_port *port;
	struct vw_link *v;
	int rc;

	for (v = vw_links; v; v = v->next)
		if (v->over == l && (port = link_port(v)) && port->uplink_class &&
		    (rc = vw_shape_uplink_class(l->uplink, port->uplink_class, shaper_prio(v->prop.priority), why,
						sizeof(why)))) {
			ERR("%s: %s", v->name, why);
			return rc;
		}
	return 0;
}

/* ---- CPUs a link's port is read on ---- */

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

int cpus_workers(const char *name, const struct vw_cpuset *set, uint32_t *mask, char *err, size_t errlen)
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

/* ---- addresses ---- */

int addrs_apply(struct vw_link *l, char *err, size_t errlen)
{
	char buf[64];
	int i, rc;

	for (i = 0; i < l->naddr; i++) {
		rc = nl_addr_add(l->prop.zone, l->name, &l->addrs[i].p);
		if (rc < 0 && rc != -EEXIST) {
			ERR("%s: cannot add address %s: %s", l->name, vw_prefix_format(&l->addrs[i].p, buf), strerror(-rc));
			return rc;
		}
	}
	return 0;
}


static struct vw_link *addr_link(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name);

	if (l && vnic_is(l) && vnic_is_vm(l)) {
		ERR("%s: a VNIC with face=vhost-user has no address here: the guest sets its own", name);
		return NULL;
	}
	if (!l || !link_has_face(l)) {
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
	rc = nl_addr_add(l->prop.zone, l->name, &p);
	if (rc == -EEXIST && l->adopted)
		rc = 0; /* the face kept it while no daemon ran */
	if (rc < 0) {
		ERR("%s: cannot add address %s: %s", name, addr, strerror(-rc));
		return rc;
	}
	l->addrs[l->naddr++].p = p;
	vnic_protect_apply(l, err, errlen); /* ip-nospoof allows it now */
	vnic_refresh_mcast(l);
	announce_vnic(l); /* the neighbours learn where the address is */
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
	rc = nl_addr_del(l->prop.zone, l->name, &p);
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

int zone_remove(const char *name, bool force, bool keep, char *err, size_t errlen)
{
	struct vw_zone *z = zone_find(name), **pp;
	struct vw_link *l;
	int rc;

	if (!z) {
		ERR("%s: no such zone", name);
		return -ENOENT;
	}
	for (l = vw_links; l; l = l->next) {
		if (!link_has_face(l) || strcmp(l->prop.zone, name))
			continue;
		if (!force) {
			ERR("%s: zone holds VNIC '%s' (move it, or use -f)", name, l->name);
			return -EBUSY;
		}
	}
	for (l = vw_links; l; l = l->next) {
		if (!link_has_face(l) || strcmp(l->prop.zone, name))
			continue;
		rc = vnic_set_zone(l, "", err, errlen);
		if (rc)
			return rc;
		l->saved.zone[0] = 0;
	}
	vnic_reap(); /* retired faces may still be in it */
	rc = keep ? 0 : zone_delete(name);
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

	link_changed(VW_LINKS_ENDING, NULL, NULL, 0, err, sizeof(err));
	/* those over another first: the others go with the last of them, or
	 * are left with none over them */
	for (l = vw_links; l; l = next) {
		next = l->next;
		if (l->over && !undo && l->cls->leave && l->cls->leave(l)) {
			next = vw_links;
		} else if (l->over && l->cls->delete) {
			l->cls->delete(l, err, sizeof(err));
			next = vw_links;
		}
	}
	vnic_reap();
	while ((l = vw_links))
		l->cls->destroy(l);
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
