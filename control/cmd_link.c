/*
 * Handlers of the link commands: etherstubs, VNICs, links and phys links,
 * their properties, zones and addresses (control/handlers.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "control/handlers.h"
#include "datapath/vhost.h"
#include "objects/link.h"
#include "objects/netlink.h"
#include "objects/vnm.h"
#include "observability/loop.h"
#include "observability/mirror.h"

/* ---- etherstubs ---- */

int do_create_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return etherstub_create(c->operand[0], vw_cmd_opt(c, 't') != NULL, err, errlen);
}

int do_delete_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return etherstub_delete(c->operand[0], err, errlen);
}

static bool etherstub_exists(const char *n)
{
	struct vw_link *l = link_find(n);

	return l && etherstub_is(l);
}

int do_show_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_link *l;
	int rc = check_operands(c, etherstub_exists, "etherstub", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		if (!etherstub_is(l) || !in_operands(c, l->name))
			continue;
		vw_buf_kv(out, "record", "etherstub");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "vnics", "%u", l->nvnics);
	}
	return 0;
}

/* ---- VNICs ---- */

static int vnic_props(const struct vw_cmd *c, const char *name, struct vnic_spec *s, char *buf, size_t buflen,
		      char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int nl = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT), i, used = 0;
	unsigned given = 0;

	for (i = 0; i < nl; i++) {
		char *keys[16], *vals[16], *copy = buf + used;
		size_t len = strlen(lists[i]) + 1;
		int n, k, rc;

		if (used + len > buflen) {
			ERR("%s: property list too long", name);
			return -EINVAL;
		}
		memcpy(copy, lists[i], len);
		used += len;
		n = vw_proplist_split(copy, keys, vals, 16, linkprop_lists);
		if (n < 0) {
			ERR("%s: invalid property list '%s' (PROP=VAL[,...] expected)", name, lists[i]);
			return -EINVAL;
		}
		for (k = 0; k < n; k++)
			if ((rc = linkprop_parse(name, keys[k], vals[k], &s->props, &given, err, errlen)))
				return rc;
	}
	return 0;
}

static bool vhost_serving;

int do_create_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vnic_spec s = { 0 };
	char propbuf[4096];
	const char *vid = vw_cmd_opt(c, 'v');
	int rc;

	(void)out;
	s.name = c->operand[0];
	s.over = vw_cmd_opt(c, 'l');
	s.mac = vw_cmd_opt(c, 'm');
	s.prefix = vw_cmd_opt(c, 'r');
	s.temporary = vw_cmd_opt(c, 't') != NULL;
	if (!vw_linkname_valid(s.name)) {
		ERR("%s: invalid link name (1-15 of A-Z a-z 0-9 _ . -, starting with a letter)", s.name);
		return -EINVAL;
	}
	if (vid && !vw_vid_parse(vid, &s.vid)) {
		ERR("%s: invalid VLAN ID '%s' (1-4094)", s.name, vid);
		return -EINVAL;
	}
	if (s.prefix && s.mac && strcmp(s.mac, "random") && strcmp(s.mac, "auto")) {
		ERR("%s: -r applies only to -m random or -m auto", s.name);
		return -EINVAL;
	}
	rc = vnic_props(c, s.name, &s, propbuf, sizeof(propbuf), err, errlen);
	if (rc)
		return rc;
	rc = vnic_create(&s, err, errlen);
	/* the vhost-user protocol of every VM's VNIC runs on the loop, from
	 * the first on */
	if (!rc && s.props.face == VW_FACE_VHOST && !vhost_serving && vw_vhost_ctl_fd() >= 0)
		vhost_serving = loop_add_poll(vw_vhost_ctl_fd(), vw_vhost_ctl_run, vw_vhost_ctl_timeout) == 0;
	return rc;
}

int do_delete_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	if (mirror_check_delete(c->operand[0], err, errlen))
		return -EBUSY;
	if (vnm_check_link(c->operand[0], NULL, err, errlen))
		return -EBUSY;
	return vnic_delete(c->operand[0], err, errlen);
}

static bool vnic_exists(const char *n)
{
	struct vw_link *l = link_find(n);

	return l && vnic_is(l);
}

static const char *mactype_name(enum vw_mactype t)
{
	return t == VW_MAC_FIXED ? "fixed" : t == VW_MAC_AUTO ? "auto" : "random";
}

int do_show_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *over = vw_cmd_opt(c, 'l');
	struct vw_link *l;
	char mac[18];
	int rc = check_operands(c, vnic_exists, "VNIC", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		if (!vnic_is(l) || !in_operands(c, l->name) || (over && strcmp(over, l->over->name)))
			continue;
		vw_buf_kv(out, "record", "vnic");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "over", "%s", l->over->name);
		vw_buf_kv(out, "macaddress", "%s", vw_mac_format(l->mac, mac));
		vw_buf_kv(out, "macaddrtype", "%s", mactype_name(l->mactype));
		vw_buf_kv(out, "vid", "%u", l->vid);
		vw_buf_kv(out, "zone", "%s", l->prop.zone);
		/* a VM's VNIC: its connection (disconnected, connected, running) */
		vw_buf_kv(out, "state", "%s", vnic_is_vm(l) ? vnic_vm_state(l) : "up");
		vw_buf_kv(out, "face", "%s", vnic_is_vm(l) ? "vhost-user" : "netdev");
		vw_buf_kv(out, "socket", "%s", vnic_is_vm(l) ? vnic_vm_socket(l) : "");
	}
	return 0;
}

/* ---- links and phys ---- */

int do_show_link(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_link *l;
	int rc = check_operands(c, link_exists, "link", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		const char *state;
		unsigned mtu;

		if (!in_operands(c, l->name))
			continue;
		link_state(l, &mtu, &state);
		vw_buf_kv(out, "record", "link");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "class", "%s", l->cls->name);
		vw_buf_kv(out, "mtu", "%u", mtu);
		vw_buf_kv(out, "state", "%s", state);
		vw_buf_kv(out, "over", "%s", l->over ? l->over->name : "");
		vw_buf_kv(out, "zone", "%s", l->prop.zone);
	}
	return 0;
}

struct phys_walk {
	const struct vw_cmd *c;
	struct vw_buf *out;
	int found;
};

static int phys_one(const struct nl_link_info *li, void *arg)
{
	struct phys_walk *w = arg;
	if (!phys_candidate(li->name, li) || !in_operands(w->c, li->name))
		return 0;
	w->found++;
	vw_buf_kv(w->out, "record", "phys");
	vw_buf_kv(w->out, "link", "%s", li->name);
	vw_buf_kv(w->out, "media", "Ethernet");
	vw_buf_kv(w->out, "state", "%s", li->flags & IFF_UP ? "up" : "down");
	vw_buf_kv(w->out, "mtu", "%u", li->mtu);
	vw_buf_kv(w->out, "device", "%s", li->kind[0] ? li->kind : "nic");
	vw_buf_kv(w->out, "attached", "%s", link_find(li->name) ? "yes" : "no");
	return 0;
}

int do_show_phys(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct phys_walk w = { c, out, 0 };
	int i, rc;

	for (i = 0; i < c->noperand; i++) {
		struct nl_link_info li;

		if (!vw_linkname_valid(c->operand[i]) || nl_link_get(NULL, c->operand[i], &li) < 0 ||
		    !phys_candidate(c->operand[i], &li)) {
			ERR("%s: no such phys link", c->operand[i]);
			return -ENOENT;
		}
	}
	rc = nl_link_foreach(NULL, phys_one, &w);
	if (rc < 0) {
		ERR("show-phys: cannot list links: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* ---- link properties ---- */

static struct vw_link *prop_link(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_named(name); /* a phys need not be attached */

	if (!l)
		ERR("%s: no such link", name);
	return l;
}

int do_set_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	struct vw_link *l = prop_link(c->operand[0], err, errlen);
	bool temporary = vw_cmd_opt(c, 't') != NULL;
	char buf[4096], *keys[16], *vals[16];
	struct linkprop_undo undo;
	size_t used = 0;
	int nl, i, n = 0, k;

	(void)out;
	if (!l)
		return -ENOENT;
	linkprop_save(l, &undo);
	nl = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT);
	/* each -p on its own: a list value does not run on into the next */
	for (i = 0; i < nl; i++) {
		size_t len = strlen(lists[i]) + 1;
		int got = -1;

		if (used + len <= sizeof(buf)) {
			memcpy(buf + used, lists[i], len);
			got = vw_proplist_split(buf + used, keys + n, vals + n, 16 - n, linkprop_lists);
			used += len;
		}
		if (got <= 0) {
			ERR("%s: invalid property list (PROP=VAL[,...] expected)", l->name);
			return -EINVAL;
		}
		n += got;
	}
	if (n <= 0) {
		ERR("%s: invalid property list (PROP=VAL[,...] expected)", l->name);
		return -EINVAL;
	}
	/* refuse unknown, unsupported and repeated names before changing
	 * anything */
	for (k = 0; k < n; k++) {
		const struct vw_linkprop *pd = linkprop_find(keys[k]);
		int j;

		for (j = 0; j < k; j++)
			if (!strcmp(keys[j], keys[k])) {
				ERR("%s: property '%s' given twice", l->name, keys[k]);
				return -EINVAL;
			}
		if (!pd) {
			ERR("%s: unknown property '%s'", l->name, keys[k]);
			return -EINVAL;
		}
		if (!linkprop_implemented(pd)) {
			ERR("%s: property '%s' is not supported yet", l->name, keys[k]);
			return -EOPNOTSUPP;
		}
		if (!strcmp(keys[k], "zone") && vnm_check_link(l->name, vals[k], err, errlen))
			return -EBUSY;
	}
	for (k = 0; k < n; k++) {
		int rc = linkprop_set(l, keys[k], vals[k], temporary, err, errlen);

		if (rc) {
			linkprop_undo(l, &undo);
			return rc;
		}
	}
	return 0;
}

int do_reset_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	struct vw_link *l = prop_link(c->operand[0], err, errlen);
	bool temporary = vw_cmd_opt(c, 't') != NULL;
	struct linkprop_undo undo;
	int nl, i;

	(void)out;
	if (!l)
		return -ENOENT;
	linkprop_save(l, &undo);
	nl = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT);
	for (i = 0; i < nl; i++) {
		char buf[512], *p, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", lists[i]);
		for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			int rc = !strcmp(p, "zone") ? vnm_check_link(l->name, "", err, errlen) : 0;

			if (!rc)
				rc = linkprop_set(l, p, NULL, temporary, err, errlen);

			if (rc) {
				linkprop_undo(l, &undo);
				return rc;
			}
		}
	}
	return 0;
}

static bool prop_link_exists(const char *n)
{
	return link_named(n) != NULL;
}

static void show_props(struct vw_buf *out, struct vw_link *l, const char *want)
{
	const struct vw_linkprop *pd;
	int i;

	for (i = 0; (pd = linkprop_nth(i)); i++) {
		/* allowed-ips: up to 32 IPv6 subnets */
		char cur[VW_MAX_ALLOWED * 48], def[sizeof(cur)], saved[sizeof(cur)], key[64];

		snprintf(key, sizeof(key), ",%s,", linkprop_name(pd));
		if (!linkprop_implemented(pd) || (want && !strstr(want, key)) || !linkprop_applies(l, pd))
			continue;
		linkprop_get(l, pd, cur, def, saved, sizeof(cur));
		vw_buf_kv(out, "record", "linkprop");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "property", "%s", linkprop_name(pd));
		vw_buf_kv(out, "perm", "rw");
		vw_buf_kv(out, "value", "%s", cur);
		vw_buf_kv(out, "default", "%s", def);
		vw_buf_kv(out, "possible", "%s", linkprop_possible(pd));
	}
}

int do_show_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int nl = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT), i, rc;
	char want[512] = "";
	struct vw_physprop *pp;
	struct vw_link *l;

	rc = check_operands(c, prop_link_exists, "link", err, errlen);
	if (rc)
		return rc;
	for (i = 0; i < nl; i++) {
		char buf[512], *p, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", lists[i]);
		for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			const struct vw_linkprop *pd = linkprop_find(p);
			size_t used = strlen(want);

			if (!pd || !linkprop_implemented(pd)) {
				ERR("%s: %s property '%s'", c->noperand ? c->operand[0] : "show-linkprop",
				    pd ? "not supported yet:" : "unknown", p);
				return pd ? -EOPNOTSUPP : -EINVAL;
			}
			snprintf(want + used, sizeof(want) - used, ",%s,", p);
		}
	}
	/* VNICs and phys links, attached or only named by a property */
	for (l = vw_links; l; l = l->next)
		if (in_operands(c, l->name))
			show_props(out, l, nl ? want : NULL);
	for (pp = vw_physprops; pp; pp = pp->next)
		if (!link_find(pp->name) && in_operands(c, pp->name) && (l = link_named(pp->name)))
			show_props(out, l, nl ? want : NULL);
	for (i = 0; i < c->noperand; i++)
		if (!link_find(c->operand[i]) && !physprop_find(c->operand[i]) && (l = link_named(c->operand[i])))
			show_props(out, l, nl ? want : NULL);
	return 0;
}

/* ---- zones and addresses ---- */

int do_create_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return zone_add(c->operand[0], err, errlen);
}

int do_delete_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	if (vnm_check_zone(c->operand[0], err, errlen))
		return -EBUSY;
	return zone_remove(c->operand[0], vw_cmd_opt(c, 'f') != NULL, vw_cmd_opt(c, 'k') != NULL, err, errlen);
}

static bool zone_known(const char *n)
{
	return zone_find(n) != NULL;
}

int do_show_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_zone *z;
	int rc = check_operands(c, zone_known, "zone", err, errlen);

	if (rc)
		return rc;
	for (z = vw_zones; z; z = z->next) {
		struct vw_buf names = { 0 };
		struct vw_link *l;

		if (!in_operands(c, z->name))
			continue;
		for (l = vw_links; l; l = l->next)
			if (link_has_face(l) && !strcmp(l->prop.zone, z->name))
				vw_buf_printf(&names, "%s%s", names.len ? "," : "", l->name);
		vw_buf_kv(out, "record", "zone");
		vw_buf_kv(out, "zone", "%s", z->name);
		vw_buf_kv(out, "vnics", "%s", names.p ? names.p : "");
		vw_buf_free(&names);
	}
	return 0;
}

int do_create_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return addr_create(c->operand[0], vw_cmd_opt(c, 'a'), err, errlen);
}

int do_delete_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return addr_delete(c->operand[0], vw_cmd_opt(c, 'a'), err, errlen);
}

int do_show_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_link *l;
	char a[64];
	int i, rc = check_operands(c, vnic_exists, "VNIC", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		if (!vnic_is(l) || !in_operands(c, l->name))
			continue;
		for (i = 0; i < l->naddr; i++) {
			vw_buf_kv(out, "record", "addr");
			vw_buf_kv(out, "link", "%s", l->name);
			vw_buf_kv(out, "zone", "%s", l->prop.zone);
			vw_buf_kv(out, "addr", "%s", vw_prefix_format(&l->addrs[i].p, a));
			vw_buf_kv(out, "state", "ok");
		}
	}
	return 0;
}
