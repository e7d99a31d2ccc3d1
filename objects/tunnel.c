/*
 * Tunnels (SPEC §2, §4: create-tunnel -T vxlan, delete-tunnel,
 * show-tunnel): a link class (objects/link.h) that carries Ethernet between
 * hosts, VXLAN (RFC 7348).  Its face is a kernel VXLAN device of the
 * tunnel's name in the daemon's namespace (objects/vxlan.c), and that
 * device is the uplink of the tunnel's switch exactly as a phys interface
 * is a phys link's (an AF_PACKET port, the kernel fast path's program at its
 * TC ingress): VNICs over the tunnel are on one L2 segment with those of the
 * same VNI on the other hosts.  The kernel encapsulates, segments super-
 * frames after encapsulation (UDP tunnel GSO), floods broadcast, multicast
 * and unknown unicast to the static remotes (head-end replication) and
 * learns MAC -> remote from what it receives; vwire's switch sees a plain
 * Ethernet uplink whose tagged frames keep their tags inside.
 *
 * MTU: the device's is its underlay's (the interface that holds the local
 * address) less the encapsulation (50 bytes over IPv4, 70 over IPv6); a
 * VNIC over the tunnel gets it by default and may not have more, a VNIC
 * with a VID 4 bytes less: its frames carry their 802.1Q tag inside the
 * encapsulation, and a full-size tagged frame would make an outer packet 4
 * bytes longer than the underlay's MTU (the kernel would fragment it).
 *
 * The device lives as long as the tunnel: delete-tunnel, and the daemon's
 * exit, remove it (a restart re-creates it from the saved configuration).
 * A daemon that was killed leaves it: its alias names the tunnel and the
 * daemon (its state file, as a VNIC face's does), and the next daemon
 * removes it, at the replay's create-tunnel of that name (which makes it
 * anew) or after the replay (tunnel_leftovers_del) if no tunnel has it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "datapath/fastpath.h"
#include "datapath/shape.h"
#include "datapath/worker.h"
#include "objects/linkclass.h"
#include "objects/netlink.h"
#include "objects/tunnel.h"
#include "objects/vxlan.h"

extern const struct vw_link_class tunnel_class;

#define VLAN_TAG_LEN 4 /* an 802.1Q tag */

struct vw_tunnel {
	uint32_t vni;
	struct vw_prefix local;
	uint16_t port;
	unsigned nremotes;
	struct vw_prefix remotes[TUNNEL_MAX_REMOTES];
	int ifindex;        /* the VXLAN device */
	unsigned mtu;       /* the device's */
	char underlay[IFNAMSIZ];
};

bool tunnel_is(const struct vw_link *l)
{
	return l->cls == &tunnel_class;
}

char *tunnel_addr_format(const struct vw_prefix *p, char buf[64])
{
	if ((p->family != AF_INET && p->family != AF_INET6) || !inet_ntop(p->family, &p->addr, buf, 64))
		strcpy(buf, "?");
	return buf;
}

/* ---- -a and -p ---- */

static int kv_list(const char *name, const char *list, struct tunnel_spec *s, bool props, char *err, size_t errlen)
{
	char buf[1024], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf)) {
		ERR("%s: attribute list too long", name);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');
		uint64_t n;

		if (!v || v == tok || !v[1]) {
			ERR("%s: invalid %s '%s' (NAME=VALUE expected)", name, props ? "property" : "attribute", tok);
			return -EINVAL;
		}
		*v++ = 0;
		if (!props && !strcmp(tok, "local")) {
			if (!vw_prefix_parse(v, true, &s->local) || s->local.plen != (s->local.family == AF_INET ? 32 : 128)) {
				ERR("%s: invalid local address '%s'", name, v);
				return -EINVAL;
			}
			s->has_local = true;
		} else if (!props && !strcmp(tok, "remote")) {
			struct vw_prefix r;

			if (!vw_prefix_parse(v, true, &r) || r.plen != (r.family == AF_INET ? 32 : 128)) {
				ERR("%s: invalid remote address '%s'", name, v);
				return -EINVAL;
			}
			if (s->nremotes == TUNNEL_MAX_REMOTES) {
				ERR("%s: at most %d remotes", name, TUNNEL_MAX_REMOTES);
				return -EINVAL;
			}
			s->remotes[s->nremotes++] = r;
		} else if (!strcmp(tok, "dstport")) {
			if (!vw_uint_parse(v, 1, 65535, &n)) {
				ERR("%s: invalid dstport '%s' (1-65535)", name, v);
				return -EINVAL;
			}
			s->port = (uint16_t)n;
		} else if (props && !strcmp(tok, "vni")) {
			if (!vw_uint_parse(v, 0, VXLAN_VNI_MAX, &n)) {
				if (v[strspn(v, "0123456789")])
					ERR("%s: invalid VNI '%s' (0-%u)", name, v, VXLAN_VNI_MAX);
				else
					ERR("%s: VNI '%s' out of range (0-%u)", name, v, VXLAN_VNI_MAX);
				return -EINVAL;
			}
			s->vni = (uint32_t)n;
			s->has_vni = true;
		} else {
			ERR("%s: unknown %s '%s' (%s)", name, props ? "property" : "attribute", tok,
			    props ? "vni, dstport" : "local, remote, dstport");
			return -EINVAL;
		}
	}
	return 0;
}

int tunnel_spec_parse(const char *name, const char *type, const char *const *attrs, int nattrs,
		      const char *const *props, int nprops, struct tunnel_spec *s, char *err, size_t errlen)
{
	int i, rc;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->port = VXLAN_PORT;
	if (strcmp(type, "vxlan")) {
		ERR("%s: unknown tunnel type '%s' (vxlan)", name, type);
		return -EINVAL;
	}
	for (i = 0; i < nattrs; i++)
		if ((rc = kv_list(name, attrs[i], s, false, err, errlen)))
			return rc;
	for (i = 0; i < nprops; i++)
		if ((rc = kv_list(name, props[i], s, true, err, errlen)))
			return rc;
	if (!s->has_local) {
		ERR("%s: no local address (-a local=IP)", name);
		return -EINVAL;
	}
	if (!s->has_vni) {
		ERR("%s: no VNI (-p vni=N)", name);
		return -EINVAL;
	}
	for (i = 0; i < (int)s->nremotes; i++) {
		char ab[64];
		int j;

		for (j = 0; j < i; j++)
			if (vw_prefix_equal(&s->remotes[j], &s->remotes[i])) {
				ERR("%s: remote %s given twice", name, tunnel_addr_format(&s->remotes[i], ab));
				return -EINVAL;
			}
		if (s->remotes[i].family != s->local.family) {
			ERR("%s: remote and local addresses of different families", name);
			return -EINVAL;
		}
		if (vw_prefix_equal(&s->remotes[i], &s->local)) {
			ERR("%s: a remote is the local address", name);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- devices a killed daemon left ---- */

static void tunnel_alias(const char *name, char buf[192])
{
	snprintf(buf, 192, "vwire tunnel %s, %s", name, vnic_owner());
}

/* Removes li if it is a tunnel's device that this daemon (its state file)
 * made in an earlier run and no live tunnel has. */
static int left_del(const struct nl_link_info *li, void *arg)
{
	struct vw_link *l = link_find(li->name);
	char alias[192];

	(void)arg;
	if (strcmp(li->kind, "vxlan"))
		return 0;
	tunnel_alias(li->name, alias);
	if (strncmp(li->alias, alias, sizeof(li->alias) - 1) || (l && tunnel_is(l) && l->tun->ifindex == li->ifindex))
		return 0;
	if (nl_link_del_index(NULL, li->ifindex, li->name) == 0)
		fprintf(stderr, "vwired: removed %s, a tunnel's VXLAN device left by an earlier daemon\n", li->name);
	return 0;
}

void tunnel_leftovers_del(void)
{
	nl_link_foreach(NULL, left_del, NULL);
}

/* ---- create and delete ---- */

static void tunnel_free(struct vw_link *l)
{
	if (l->uplink) {
		vw_fast_port_del(l->uplink);
		vw_worker_del_port(l->uplink);
		vw_switch_detach(l->sw, l->uplink);
		vw_port_destroy(l->uplink);
	}
	if (l->tun && l->tun->ifindex > 0)
		nl_link_del(NULL, l->name);
	vw_switch_free(l->sw);
	free(l->tun);
	free(l);
}

int tunnel_create(const struct tunnel_spec *s, char *err, size_t errlen)
{
	struct nl_link_info ul;
	struct vw_tunnel *t;
	struct vw_link *l, *o;
	char ab[64];
	unsigned i;
	int rc, under;

	if (!link_find(s->name) && nl_link_get(NULL, s->name, &ul) == 0)
		left_del(&ul, NULL);
	rc = link_check_name(s->name, err, errlen);
	if (rc)
		return rc;
	for (o = vw_links; o; o = o->next)
		if (tunnel_is(o) && o->tun->vni == s->vni && o->tun->port == s->port &&
		    vw_prefix_equal(&o->tun->local, &s->local)) {
			ERR("%s: tunnel %s has local %s, port %u and VNI %u already", s->name, o->name,
			    tunnel_addr_format(&s->local, ab), s->port, s->vni);
			return -EEXIST;
		}
	under = vxlan_addr_owner(&s->local);
	if (under < 0 || !if_indextoname((unsigned)under, ul.name) || nl_link_get(NULL, ul.name, &ul) < 0) {
		ERR("%s: local address %s is not on this host", s->name, tunnel_addr_format(&s->local, ab));
		return -EADDRNOTAVAIL;
	}
	l = calloc(1, sizeof(*l));
	t = calloc(1, sizeof(*t));
	if (!l || !t) {
		free(l);
		free(t);
		ERR("%s: out of memory", s->name);
		return -ENOMEM;
	}
	l->tun = t;
	strcpy(l->name, s->name);
	l->cls = &tunnel_class;
	l->temporary = s->temporary;
	t->vni = s->vni;
	t->local = s->local;
	t->port = s->port;
	t->nremotes = s->nremotes;
	memcpy(t->remotes, s->remotes, sizeof(t->remotes[0]) * s->nremotes);
	snprintf(t->underlay, sizeof(t->underlay), "%s", ul.name);
	t->mtu = ul.mtu - (s->local.family == AF_INET ? VXLAN_OVERHEAD4 : VXLAN_OVERHEAD6);
	rc = vxlan_create(&(struct vxlan_conf){ .name = s->name, .vni = s->vni, .local = s->local, .port = s->port,
						.link = ul.ifindex, .mtu = t->mtu });
	if (rc) {
		ERR("%s: cannot create its VXLAN device: %s", s->name,
		    rc == -EEXIST ? "another device has this VNI, local address and port" : strerror(-rc));
		free(t);
		free(l);
		return rc;
	}
	t->ifindex = nl_link_index(NULL, s->name);
	for (i = 0; i < t->nremotes && t->ifindex > 0; i++)
		if ((rc = vxlan_remote_add(t->ifindex, &t->remotes[i]))) {
			ERR("%s: cannot add remote %s: %s", s->name, tunnel_addr_format(&t->remotes[i], ab), strerror(-rc));
			tunnel_free(l);
			return rc;
		}
	{
		char alias[192];

		tunnel_alias(s->name, alias);
		nl_link_plumbing(s->name, 0, alias); /* no IPv6 of its own */
	}
	if (t->ifindex <= 0 || (rc = nl_link_set_up(NULL, s->name, true)) < 0) {
		ERR("%s: cannot set its device up: %s", s->name, strerror(t->ifindex <= 0 ? ENODEV : -rc));
		tunnel_free(l);
		return rc < 0 ? rc : -ENODEV;
	}
	l->sw = vw_switch_new(s->name);
	l->uplink = l->sw ? vw_packet_open(s->name, &rc) : NULL;
	if (!l->sw || !l->uplink) {
		ERR("%s: cannot attach: %s", s->name, strerror(l->sw ? -rc : ENOMEM));
		tunnel_free(l);
		return l->sw ? rc : -ENOMEM;
	}
	if ((rc = vw_switch_attach(l->sw, l->uplink)) || (rc = vw_worker_add_port_in(l->uplink, 0))) {
		ERR("%s: cannot attach: %s", s->name, strerror(-rc));
		vw_switch_detach(l->sw, l->uplink);
		vw_port_destroy(l->uplink);
		l->uplink = NULL;
		tunnel_free(l);
		return rc;
	}
	if ((rc = vw_fast_uplink_add(l->uplink, t->ifindex, t->mtu))) {
		ERR("%s: cannot attach the kernel fast path: %s", s->name, strerror(-rc));
		tunnel_free(l);
		return rc;
	}
	link_insert(l);
	link_changed(VW_LINK_ATTACHING, l, l->name, 0, NULL, 0);
	link_notify(l, l->uplink, VW_LINK_PORT_UP);
	return 0;
}

static void tunnel_destroy(struct vw_link *l)
{
	link_notify(l, l->uplink, VW_LINK_PORT_DOWN);
	vw_shape_set(l->uplink, NULL, NULL, 0);
	link_notify(l, NULL, VW_LINK_DELETED);
	link_unlink(l);
	tunnel_free(l);
}

int tunnel_delete(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name);

	if (!l || !tunnel_is(l)) {
		ERR("%s: no such tunnel", name);
		return -ENOENT;
	}
	if (l->nvnics) {
		ERR("%s: tunnel has %u VNIC%s; delete them first", name, l->nvnics, l->nvnics == 1 ? "" : "s");
		return -EBUSY;
	}
	link_changed(VW_LINK_DELETING, l, l->name, 0, NULL, 0);
	tunnel_destroy(l);
	return 0;
}

/* ---- what show-tunnel shows ---- */

void tunnel_info(const struct vw_link *l, struct tunnel_info *ti)
{
	const struct vw_tunnel *t = l->tun;

	memset(ti, 0, sizeof(*ti));
	ti->vni = t->vni;
	ti->local = t->local;
	ti->port = t->port;
	ti->nremotes = t->nremotes;
	memcpy(ti->remotes, t->remotes, sizeof(t->remotes[0]) * t->nremotes);
	ti->mtu = t->mtu;
	ti->ifindex = t->ifindex;
	snprintf(ti->underlay, sizeof(ti->underlay), "%s", t->underlay);
}

/* ---- the link class ---- */

static const char *const tunnel_props_taken[] = { "maxbw", NULL };



static void tunnel_state(const struct vw_link *l, unsigned *mtu, const char **state)
{
	link_face_state(NULL, l->name, mtu, state);
}


static unsigned tunnel_vnic_mtu(const struct vw_link *l, uint16_t vid)
{
	return l->tun->mtu - (vid ? VLAN_TAG_LEN : 0);
}

static int tunnel_delete_link(struct vw_link *l, char *err, size_t errlen)
{
	return tunnel_delete(l->name, err, errlen);
}

static void tunnel_export(struct vw_buf *out)
{
	struct vw_link *l;
	unsigned i;

	for (l = vw_links; l; l = l->next) {
		const struct vw_tunnel *t;
		struct vw_buf b = { 0 };
		char ab[64];

		if (!tunnel_is(l) || l->temporary)
			continue;
		t = l->tun;
		vw_buf_printf(out, "create-tunnel -T vxlan -a local=%s", tunnel_addr_format(&t->local, ab));
		for (i = 0; i < t->nremotes; i++)
			vw_buf_printf(out, ",remote=%s", tunnel_addr_format(&t->remotes[i], ab));
		if (t->port != VXLAN_PORT)
			vw_buf_printf(out, ",dstport=%u", t->port);
		vw_buf_printf(out, " -p vni=%u %s\n", t->vni, l->name);
		if (linkprop_export(&tunnel_class, &l->saved, &b))
			vw_buf_printf(out, "set-linkprop%s %s\n", b.p, l->name);
		vw_buf_free(&b);
	}
}

const struct vw_link_class tunnel_class = {
	.name = "tunnel",
	.configured = true,
	.flow_ids = VW_SHAPE_UPLINK_FIRST - 1,
	.props = tunnel_props_taken,
	.props_of = link_props_own,
	.port = uplink_port,
	.shaped = uplink_vnic_classes,
	.state = tunnel_state,
	.counters = uplink_counters,
	.vnic_mtu = tunnel_vnic_mtu,
	.delete = tunnel_delete_link,
	.destroy = tunnel_destroy,
	.export = tunnel_export,
};
