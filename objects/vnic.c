/*
 * VNICs (a link class, objects/link.h).
 *
 * A VNIC is a Linux face in its zone plus a port on the virtual switch of
 * the link it is over.  Without the kernel fast path the face is a TAP
 * device, which is the port: created in the daemon's namespace, attached,
 * polled by a worker, then moved to its zone and set up.  With it
 * (datapath/fastpath.h) the face is the zone end of a veth pair, created
 * in the zone, and the port is a TAP that stays in the daemon's namespace
 * as the VNIC's slow-path channel (see fast_face_open).  Deleting runs the
 * same steps backwards, and every failure on the way in undoes what was
 * done, so a failed command changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>

#include "datapath/fastpath.h"
#include "datapath/worker.h"
#include "datapath/shape.h"
#include "objects/announce.h"
#include "objects/linkclass.h"
#include "objects/netlink.h"
#include "objects/netns.h"

extern const struct vw_link_class vnic_class;

bool vnic_is(const struct vw_link *l)
{
	return l->cls == &vnic_class;
}

/* What the link under a VNIC carries at most for it (a tunnel's MTU, less
 * the tag of a VID); 0: no limit */
static unsigned over_mtu(const struct vw_link *l)
{
	return l->over && l->over->cls->vnic_mtu ? l->over->cls->vnic_mtu(l->over, l->vid) : 0;
}

/* The MTU of the VNIC's face: its property's, else what the link under it
 * gives by default; 0: the kernel's default (1500) */
static unsigned vnic_face_mtu(const struct vw_link *l)
{
	return l->prop.mtu ? l->prop.mtu : over_mtu(l);
}

static bool mac_in_use(const uint8_t mac[6], const struct vw_link *over, uint16_t vid)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		if (vnic_is(l) && l->over == over && l->vid == vid && !memcmp(l->mac, mac, 6))
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
static void face_del(struct vw_link *l);

static void vnic_unplumb(struct vw_link *l)
{
	vnic_class_drop(l);
	vw_shape_set(l->port, NULL, NULL, 0);
	vw_worker_del_port(l->port);
	vw_switch_detach(l->over->sw, l->port);
	vw_port_destroy(l->port); /* closing the TAP removes its device */
	l->port = NULL;
	face_del(l); /* and its peer, the face */
}

/*
 * ---- the fast path's face ----
 *
 * The zone end of a veth pair carries the VNIC's name, MAC and MTU in its
 * zone; the host end (vwhN) and the slow-path channel (vwcN, a TAP with
 * the VNIC's MAC, read and written by the workers as a TAP face is) stay in
 * the daemon's namespace, where the fast path's program runs on both (and
 * where bpf_redirect_peer needs them: in the same namespace as the phys
 * uplinks).  Both are in netdev group VW_FACE_GROUP (`ip link show group
 * 30327`), with an alias naming their VNIC, and without IPv6 addresses, so
 * that their stacks never send a frame of their own.
 */
#define VW_FACE_GROUP 0x7677 /* "vw" */

static unsigned face_seq;
static char face_owner[96] = "";

void vnic_set_owner(const char *owner)
{
	snprintf(face_owner, sizeof(face_owner), "%s", owner);
}

const char *vnic_owner(void)
{
	return face_owner;
}

/* Removes the VNIC's veth pair through its host end, if that is still
 * the device this daemon made (its name may be another daemon's now). */
static void face_del(struct vw_link *l)
{
	if (*l->host_end)
		nl_link_del_index(NULL, l->host_ifindex, l->host_end);
}

/* Group, alias, no address; a multi-queue TAP's qdisc away (vnic_face_up
 * says why); up. */
static int plumbing_up(const char *dev, const char *what, const struct vw_link *l, bool tap, int nq)
{
	char alias[192];
	int rc;

	snprintf(alias, sizeof(alias), "vwire VNIC %s: %s, %s", l->name, what, face_owner);
	if ((rc = nl_link_plumbing(dev, VW_FACE_GROUP, alias)) < 0 ||
	    (tap && nq > 1 && (rc = nl_qdisc_noqueue(NULL, dev)) < 0))
		return rc;
	return nl_link_set_up(NULL, dev, true);
}

/* ---- faces left by an earlier daemon ---- */

struct face_left {
	int ifindex;
	char name[16];
	bool taken;
};

static struct face_left *left;
static unsigned nleft;

static int scan_one(const struct nl_link_info *li, void *arg)
{
	struct face_left *n;

	size_t a = strlen(li->alias), o = strlen(face_owner);

	(void)arg;
	/* our own: "..., OWNER" */
	if (li->group != VW_FACE_GROUP || strcmp(li->kind, "veth") || a < o + 2 ||
	    strcmp(li->alias + a - o, face_owner) || strncmp(li->alias + a - o - 2, ", ", 2))
		return 0;
	n = realloc(left, (nleft + 1) * sizeof(*left));
	if (!n)
		return -ENOMEM;
	left = n;
	left[nleft].ifindex = li->ifindex;
	left[nleft].taken = false;
	snprintf(left[nleft++].name, sizeof(left->name), "%s", li->name);
	return 0;
}

int vnic_adopt_scan(void)
{
	free(left);
	left = NULL;
	nleft = 0;
	nl_link_foreach(NULL, scan_one, NULL);
	return nleft ? left[0].ifindex : 0;
}

void vnic_adopt_done(void)
{
	unsigned i;

	for (i = 0; i < nleft; i++)
		if (!left[i].taken && nl_link_del_index(NULL, left[i].ifindex, left[i].name) == 0)
			fprintf(stderr, "vwired: removed %s, a VNIC face left by an earlier daemon that is not configured\n",
				left[i].name);
	free(left);
	left = NULL;
	nleft = 0;
	vw_fast_purge();
}

/* The face an earlier daemon left for this VNIC in zone: a veth end of
 * that name whose peer is one of the listed host ends; NULL: none. */
static struct face_left *face_left_for(const struct vw_link *l, const char *zone, struct nl_link_info *li)
{
	unsigned i;

	if (!nleft || nl_link_get(zone, l->name, li) < 0 || strcmp(li->kind, "veth") || li->link <= 0)
		return NULL;
	for (i = 0; i < nleft; i++)
		if (!left[i].taken && left[i].ifindex == li->link)
			return &left[i];
	return NULL;
}

/* Takes over the face f: the VNIC's address is put back should it differ. */
static int face_adopt(struct vw_link *l, const char *zone, struct face_left *f, const struct nl_link_info *li)
{
	int rc = memcmp(li->mac, l->mac, 6) ? nl_link_set_mac(zone, l->name, l->mac) : 0;

	if (rc < 0)
		return rc;
	f->taken = true;
	strcpy(l->host_end, f->name);
	l->host_ifindex = f->ifindex;
	l->adopted = true;
	return 0;
}

/* The channel and the veth pair (made, or taken over), the face in zone;
 * the port (the channel) or NULL with *rcp and err set. */
static struct vw_port *fast_face_open(struct vw_link *l, const char *zone, char *err, size_t errlen, int *rcp)
{
	char chan[16], host[16];
	struct nl_link_info li;
	struct face_left *f = face_left_for(l, zone, &li);
	struct vw_port *port;
	int rc;

	do {
		face_seq++;
		snprintf(chan, sizeof(chan), "vwc%u", face_seq);
		snprintf(host, sizeof(host), "vwh%u", face_seq);
	} while (if_nametoindex(chan) || if_nametoindex(host));
	port = vw_tap_open(chan, l->mac, vw_workers_count(), &rc);
	if (!port) {
		ERR("%s: cannot create its slow-path TAP %s: %s", l->name, chan, strerror(-rc));
		*rcp = rc;
		return NULL;
	}
	rc = plumbing_up(chan, "slow path", l, true, port->nq);
	if (rc < 0) {
		ERR("%s: cannot set up its slow-path TAP %s: %s", l->name, chan, strerror(-rc));
		goto fail_port;
	}
	if (f) {
		rc = face_adopt(l, zone, f, &li);
		if (rc < 0) {
			ERR("%s: cannot take over its face left in zone %s: %s", l->name, zone, strerror(-rc));
			goto fail_port;
		}
		return port;
	}
	rc = nl_veth_create(&(struct nl_veth){ .host = host, .name = l->name, .zone = zone, .mac = l->mac,
					       .mtu = vnic_face_mtu(l) });
	if (rc < 0) {
		ERR("%s: cannot create its veth pair%s%s: %s", l->name, *zone ? " in zone " : "", zone,
		    strerror(-rc));
		goto fail_port;
	}
	strcpy(l->host_end, host);
	l->host_ifindex = nl_link_index(NULL, host);
	rc = l->host_ifindex < 0 ? l->host_ifindex : plumbing_up(host, "host end", l, false, 0);
	if (rc < 0) {
		ERR("%s: cannot set up its host end %s: %s", l->name, host, strerror(-rc));
		nl_link_del(NULL, host); /* made just now: ours */
		*l->host_end = '\0';
		goto fail_port;
	}
	return port;
fail_port:
	vw_port_destroy(port);
	*rcp = rc;
	return NULL;
}

/* The switch port is attached: the fast path takes the VNIC's frames. */
static int fast_face_enter(struct vw_link *l, const char *zone, char *err, size_t errlen)
{
	int rc;

	if (!*l->host_end)
		return 0;
	rc = vw_fast_vnic_add(l->port, l->host_ifindex, zone_is_host(zone));
	if (rc < 0)
		ERR("%s: cannot enter the kernel fast path: %s", l->name, strerror(-rc));
	return rc;
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

	if (!*l->host_end && l->port->nq > 1 && (rc = nl_qdisc_noqueue(l->prop.zone, l->name)) < 0) {
		ERR("%s: cannot remove its queueing discipline: %s", l->name, strerror(-rc));
		return rc;
	}
	if (vnic_face_mtu(l) && (rc = nl_link_set_mtu(l->prop.zone, l->name, vnic_face_mtu(l))) < 0) {
		ERR("%s: cannot set mtu %u: %s", l->name, vnic_face_mtu(l), strerror(-rc));
		return rc;
	}
	rc = nl_link_set_up(l->prop.zone, l->name, true);
	if (rc < 0)
		ERR("%s: cannot set up%s%s: %s", l->name, *l->prop.zone ? " in zone " : "", l->prop.zone, strerror(-rc));
	return rc;
}

int vnic_create(const struct vnic_spec *s, char *err, size_t errlen)
{
	struct vw_link *over, *l;
	int rc = link_check_name(s->name, err, errlen);

	if (rc)
		return rc;
	over = link_find(s->over);
	if (over && !over->sw) {
		ERR("%s: cannot create a VNIC over VNIC '%s'", s->name, s->over);
		return -EINVAL;
	}
	if (over && over->temporary && over->cls->configured && !s->temporary) {
		ERR("%s: '%s' is temporary; a VNIC over it must be too (-t)", s->name, s->over);
		return -EINVAL;
	}
	rc = vnic_vm_check(s, err, errlen);
	if (rc)
		return rc;
	if (*s->props.zone && !zone_exists(s->props.zone)) {
		ERR("%s: no such zone '%s'", s->name, s->props.zone);
		return -ENOENT;
	}
	if (!over) {
		if (!vw_linkname_valid(s->over) || nl_link_index(NULL, s->over) < 0) {
			ERR("%s: no such link '%s'", s->name, s->over);
			return -ENOENT;
		}
		over = link_adopt(s->over, err, errlen, &rc);
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
	l->cls = &vnic_class;
	l->temporary = s->temporary;
	l->over = over;
	l->vid = s->vid;
	l->prop.mtu = l->saved.mtu = s->props.mtu;
	if (over_mtu(l) && s->props.mtu > over_mtu(l)) {
		ERR("%s: mtu %u is more than %s carries%s (%u)", s->name, s->props.mtu, over->name,
		    l->vid ? " tagged" : "", over_mtu(l));
		rc = -EINVAL;
		goto fail_free;
	}
	rc = vnic_pick_mac(s, over, l->mac, &l->mactype, err, errlen);
	if (rc)
		goto fail_free;
	if (mac_in_use(l->mac, over, l->vid)) {
		char mb[18];

		ERR("%s: MAC address %s is already in use on '%s'", s->name, vw_mac_format(l->mac, mb), over->name);
		rc = -EEXIST;
		goto fail_free;
	}
	if (s->props.face == VW_FACE_VHOST) {
		l->port = vnic_vm_open(l, s, err, errlen, &rc);
		if (!l->port)
			goto fail_free;
	} else if (vw_fast_enabled()) {
		l->port = fast_face_open(l, s->props.zone, err, errlen, &rc);
		if (!l->port)
			goto fail_free;
	} else {
		l->port = vw_tap_open(l->name, l->mac, vw_workers_count(), &rc);
		if (!l->port) {
			ERR("%s: cannot create TAP device: %s", s->name, strerror(-rc));
			goto fail_free;
		}
	}
	l->port->vid = l->vid;
	l->port->mtu = vnic_face_mtu(l) ? vnic_face_mtu(l) : 1500; /* the switch enforces it */
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
	if (vnic_is_vm(l)) {
		rc = vnic_vm_groups(l);
		if (rc < 0) {
			ERR("%s: cannot join its multicast groups: %s", s->name, strerror(-rc));
			goto fail_plumb;
		}
		rc = vw_fast_vm_add(l->port);
		if (rc < 0) {
			ERR("%s: cannot enter the kernel fast path's tables: %s", s->name, strerror(-rc));
			goto fail_plumb;
		}
		goto plumbed;
	}
	rc = fast_face_enter(l, s->props.zone, err, errlen);
	if (rc < 0)
		goto fail_plumb;
	if (*s->props.zone && *l->host_end) { /* the fast face is there already */
		strcpy(l->prop.zone, s->props.zone);
		strcpy(l->saved.zone, s->props.zone);
	} else if (*s->props.zone) {
		rc = nl_link_move(NULL, l->name, s->props.zone);
		if (rc < 0) {
			ERR("%s: cannot move to zone '%s': %s", s->name, s->props.zone, strerror(-rc));
			goto fail_plumb;
		}
		strcpy(l->prop.zone, s->props.zone);
		strcpy(l->saved.zone, s->props.zone);
	}
	rc = vnic_face_up(l, err, errlen);
	if (rc < 0)
		goto fail_plumb;
plumbed:
	if (!vw_cpuset_empty(&s->props.cpus)) {
		/* before maxbw: the shaper's owner is one of these CPUs' workers */
		rc = vnic_set_cpus(l, &s->props.cpus, err, errlen);
		if (rc < 0)
			goto fail_plumb;
		l->saved.cpus = s->props.cpus;
	}
	if (s->props.maxbw) {
		rc = link_set_maxbw(l, s->props.maxbw, err, errlen);
		if (rc < 0)
			goto fail_plumb;
		l->saved.maxbw = s->props.maxbw;
	}
	if (s->props.priority != VW_PRIO_MEDIUM) {
		rc = vnic_set_priority(l, s->props.priority, err, errlen);
		if (rc < 0)
			goto fail_plumb;
		l->saved.priority = s->props.priority;
	}
	l->prop.protect = l->saved.protect = s->props.protect;
	l->prop.nallowed = l->saved.nallowed = s->props.nallowed;
	memcpy(l->prop.allowed, s->props.allowed, sizeof(l->prop.allowed));
	memcpy(l->saved.allowed, s->props.allowed, sizeof(l->saved.allowed));
	rc = vnic_protect_apply(l, err, errlen);
	if (rc < 0)
		goto fail_plumb;
	over->nvnics++;
	link_insert(l);
	/* its groups come with the next read of its zone's list, within
	 * control/ctl.c's MCAST_GAP_MS: a burst of new VNICs in one zone costs
	 * a few reads of the list rather than one each */
	link_notify(l, l->port, VW_LINK_PORT_UP);
	if (!vnic_is_vm(l)) { /* a guest announces itself */
		vw_switch_mcast_changed(l->port);
		announce_vnic(l); /* the network learns where its MAC is now */
	}
	return 0;
fail_plumb:
	vnic_unplumb(l);
	goto fail_free;
fail_port:
	vw_port_destroy(l->port);
	face_del(l);
fail_free:
	free(l);
fail_phys:
	link_release(over);
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
	bool chan; /* the port is a slow-path channel, retired in the daemon's namespace */
};

static struct vnic_grave *graves;
static unsigned ngraves, grave_seq;
static struct timespec grave_first;

/* This daemon's netdev group for retired faces, shared with nothing else. */
static uint32_t grave_group(void)
{
	return 0x76770000u | ((uint32_t)getpid() & 0xffff);
}

/* Takes a device down, out of the way (a name no vwire link can have: it
 * starts with '_', unique per daemon and retirement) and into the group. */
static int retire_dev(const char *zone, const char *name)
{
	struct nl_retire r = { .group = grave_group() };

	snprintf(r.newname, sizeof(r.newname), "_vw%06x%06x", (unsigned)getpid() & 0xffffff,
		 ++grave_seq & 0xffffff);
	return nl_link_retire(zone, name, &r);
}

/* The VNIC's face (with the fast path, its veth pair goes with it) unless
 * keep_face, and its port's TAP; the slow way should retiring fail. */
static void vnic_retire(struct vw_link *l, bool keep_face)
{
	struct vnic_grave *g;
	bool chan = *l->host_end != '\0';

	if (vnic_is_vm(l)) { /* no device: the socket closes */
		vw_port_destroy(l->port);
		return;
	}
	g = calloc(1, sizeof(*g));
	if (!g || (!keep_face && retire_dev(l->prop.zone, l->name) < 0) ||
	    (chan && retire_dev(NULL, l->port->name) < 0)) {
		free(g);
		if (chan && !keep_face)
			face_del(l);
		vw_port_destroy(l->port); /* unregistered as it closes */
		return;
	}
	g->port = l->port;
	g->chan = chan && !keep_face;
	snprintf(g->zone, sizeof(g->zone), "%s", keep_face ? "" : l->prop.zone);
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
	bool chans = false;

	for (g = graves; g; g = g->next) {
		for (e = graves; e != g && strcmp(e->zone, g->zone); e = e->next)
			;
		if (e == g)
			nl_link_del_group(g->zone, grave_group());
		chans |= g->chan && *g->zone;
	}
	if (chans) /* the channels, in the daemon's namespace */
		nl_link_del_group(NULL, grave_group());
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

/* Out of the model and the datapath; its face retired unless keep_face */
static void vnic_remove(struct vw_link *l, bool keep_face)
{
	struct vw_link *over = l->over;

	link_changed(VW_LINK_DELETING, l, l->name, 0, NULL, 0); /* its flows go with it, as in Crossbow */
	link_notify(l, l->port, VW_LINK_PORT_DOWN);
	link_notify(l, NULL, VW_LINK_DELETED);
	link_unlink(l);
	/* out of the datapath first: after the detach's grace period no
	 * worker reads the TAP or forwards to its MAC */
	vnic_class_drop(l);
	vw_shape_set(l->port, NULL, NULL, 0);
	vw_worker_del_port(l->port);
	vw_switch_detach(over->sw, l->port);
	vnic_retire(l, keep_face);
	l->port = NULL;
	over->nvnics--;
	link_release(over);
	free(l);
}

int vnic_delete(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name);

	if (!l || !vnic_is(l)) {
		ERR("%s: no such VNIC", name);
		return -ENOENT;
	}
	vnic_remove(l, false);
	return 0;
}

/* Daemon exit: a configured VNIC on the fast path keeps its face, and the
 * kernel keeps switching its frames, until the next daemon takes it over. */
static bool vnic_leave(struct vw_link *l)
{
	if (!*l->host_end || l->temporary || !vw_fast_enabled())
		return false;
	vnic_remove(l, true);
	return true;
}

int vnic_set_zone(struct vw_link *l, const char *zone, char *err, size_t errlen)
{
	int rc;

	if (!strcmp(l->prop.zone, zone))
		return 0;
	if (vnic_is_vm(l)) {
		ERR("%s: a VNIC with face=vhost-user is in no zone: its face is a virtual machine's", l->name);
		return -EINVAL;
	}
	if (*zone && !zone_exists(zone)) {
		ERR("%s: no such zone '%s'", l->name, zone);
		return -ENOENT;
	}
	rc = nl_link_move(l->prop.zone, l->name, zone);
	if (rc < 0) {
		ERR("%s: cannot move to zone '%s': %s", l->name, *zone ? zone : "(host)", strerror(-rc));
		return rc;
	}
	snprintf(l->prop.zone, sizeof(l->prop.zone), "%s", zone);
	if (l->port)
		vw_fast_vnic_samens(l->port, zone_is_host(zone));
	rc = vnic_face_up(l, err, errlen);
	if (rc < 0)
		return rc;
	rc = addrs_apply(l, err, errlen);
	vnic_refresh_mcast(l);
	if (!rc)
		announce_vnic(l);
	return rc;
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
		int rc2 = link_changed(VW_LINK_SHAPE, l, l->name, l->prop.maxbw, why, whylen);

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
		l->prop.cpus = *set;
	else
		memset(&l->prop.cpus, 0, sizeof(l->prop.cpus));
	/* the workers it names read its frames: the userspace datapath */
	vw_fast_port_hold(l->port, VW_SLOW_CPUS, !vw_cpuset_empty(&l->prop.cpus));
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
		if (vnic_is(v) && v->over == phys && v->port && v->port->uplink_class)
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
	struct vw_link *phys = l->over && link_port(l->over) ? l->over : NULL; /* an egress */
	uint16_t id = l->port->uplink_class;
	char why[200] = "";
	int rc;

	if (!phys || prio == VW_PRIO_MEDIUM) {
		/* over an etherstub the value is only kept: no egress to share */
		vnic_class_drop(l);
		l->prop.priority = (uint8_t)prio;
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
	l->prop.priority = (uint8_t)prio;
	return 0;
}

int vnic_set_mtu(struct vw_link *l, unsigned mtu, char *err, size_t errlen)
{
	unsigned cap = over_mtu(l), eff = mtu ? mtu : cap ? cap : 1500;
	int rc;

	if (cap && mtu > cap) {
		ERR("%s: mtu %u is more than %s carries%s (%u)", l->name, mtu, l->over->name, l->vid ? " tagged" : "",
		    cap);
		return -EINVAL;
	}
	rc = vnic_is_vm(l) ? 0 : nl_link_set_mtu(l->prop.zone, l->name, eff);
	if (rc < 0) {
		ERR("%s: cannot set mtu %u: %s", l->name, mtu, strerror(-rc));
		return rc;
	}
	l->prop.mtu = mtu;
	vw_switch_set_mtu(l->over->sw, l->port, eff);
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
	return vnic_is(l) && !vnic_is_vm(l) && l->port && !strcmp(l->prop.zone, zone) &&
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
		if (vnic_is(only))
			mcast_refresh_zone(only->prop.zone, only, false);
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
		if (!vnic_is(l))
			continue;
		for (e = vw_links; e != l; e = e->next)
			if (vnic_is(e) && !strcmp(e->prop.zone, l->prop.zone))
				break;
		if (e == l)
			fn(l->prop.zone, arg);
	}
}

void vnic_refresh_mcast_dirty(void)
{
	struct vw_link *l, *e;

	for (l = vw_links; l; l = l->next)
		if (vnic_is(l) && l->port && __atomic_exchange_n(&l->port->mcast_dirty, 0, __ATOMIC_ACQ_REL)) {
			if (vnic_is_vm(l))
				vnic_vm_groups(l); /* from its reports; no kernel to ask */
			else
				l->mcast_pending = true;
		}
	/* one read per zone for all its marked VNICs, not one per VNIC:
	 * a burst of new interfaces reports at about the same time */
	for (l = vw_links; l; l = l->next) {
		if (!vnic_is(l) || !l->mcast_pending)
			continue;
		for (e = vw_links; e != l; e = e->next)
			if (vnic_is(e) && e->mcast_pending && !strcmp(e->prop.zone, l->prop.zone))
				break;
		if (e == l)
			mcast_refresh_zone(l->prop.zone, NULL, true);
	}
}


/* ---- the class ---- */

static struct vw_port *vnic_port(const struct vw_link *l, struct vw_switch **sw)
{
	*sw = l->over ? l->over->sw : NULL;
	return l->port;
}

static void vnic_state(const struct vw_link *l, unsigned *mtu, const char **state)
{
	link_face_state(l->prop.zone, l->name, mtu, state);
}

static void vnic_counters(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4])
{
	link_stats_add(s, l->port);
	/* what the VNIC received is what the switch delivered to it */
	c[0] = s->tx_pkts, c[1] = s->tx_bytes, c[2] = s->rx_pkts, c[3] = s->rx_bytes;
}


static const char *const vnic_props_taken[] = { "zone", "mtu", "maxbw", "priority", "cpus", "protection",
						 "allowed-ips", "face", "vhost-socket", "vhost-mode", NULL };

static int vnic_delete_link(struct vw_link *l, char *err, size_t errlen)
{
	return vnic_delete(l->name, err, errlen);
}

static void vnic_destroy(struct vw_link *l)
{
	char err[256];

	vnic_delete(l->name, err, sizeof(err));
}

static void vnic_export(struct vw_buf *out)
{
	struct vw_link *l;
	char mac[18], a[64];
	int i;

	for (l = vw_links; l; l = l->next) {
		if (!vnic_is(l) || l->temporary)
			continue;
		/* a random (or auto) address is kept as the whole-address prefix
		 * of a random one, so it stays random and stays the same */
		if (l->mactype == VW_MAC_FIXED)
			vw_buf_printf(out, "create-vnic -l %s -m %s", l->over->name, vw_mac_format(l->mac, mac));
		else
			vw_buf_printf(out, "create-vnic -l %s -m %s -r %s", l->over->name,
				      l->mactype == VW_MAC_AUTO ? "auto" : "random", vw_mac_format(l->mac, mac));
		if (l->vid)
			vw_buf_printf(out, " -v %u", l->vid);
		linkprop_export(&vnic_class, &l->saved, out);
		vw_buf_printf(out, " %s\n", l->name);
		for (i = 0; i < l->naddr; i++)
			vw_buf_printf(out, "create-addr -a %s %s\n", vw_prefix_format(&l->addrs[i].p, a), l->name);
	}
}

const struct vw_link_class vnic_class = {
	.name = "vnic",
	.has_face = true,
	.configured = true,
	.flow_ids = VW_SHAPE_MAX_CLASSES - 1,
	.props = vnic_props_taken,
	.props_of = link_props_own,
	.set_cpus = vnic_set_cpus,
	.port = vnic_port,
	.state = vnic_state,
	.counters = vnic_counters,
	.delete = vnic_delete_link,
	.leave = vnic_leave,
	.destroy = vnic_destroy,
	.export = vnic_export,
};
