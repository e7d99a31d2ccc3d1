/*
 * Command handlers: one small function per vwadm subcommand.  Each takes the
 * parsed command, makes its object calls and writes records; the verdict is
 * written by ctl_handle().  Handlers return 0 or a negative errno with a
 * one-line reason in err.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "control/ctl.h"
#include "datapath/shape.h"
#include "datapath/worker.h"
#include "objects/flow.h"
#include "objects/link.h"
#include "objects/netlink.h"
#include "observability/accounting.h"
#include "observability/mirror.h"
#include "observability/ipfix.h"
#include "observability/capture.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)
#define MAXWORDS 64

typedef int (*handler_fn)(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

static bool in_operands(const struct vw_cmd *c, const char *name)
{
	int i;

	if (!c->noperand)
		return true;
	for (i = 0; i < c->noperand; i++)
		if (!strcmp(c->operand[i], name))
			return true;
	return false;
}

/* Every operand of a show command must name something that exists. */
static int check_operands(const struct vw_cmd *c, bool (*exists)(const char *), const char *what, char *err,
			  size_t errlen)
{
	int i;

	for (i = 0; i < c->noperand; i++)
		if (!exists(c->operand[i])) {
			ERR("%s: no such %s", c->operand[i], what);
			return -ENOENT;
		}
	return 0;
}

static bool link_exists(const char *n)
{
	return link_find(n) != NULL;
}

/* ---- etherstubs ---- */

static int do_create_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return etherstub_create(c->operand[0], vw_cmd_opt(c, 't') != NULL, err, errlen);
}

static int do_delete_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return etherstub_delete(c->operand[0], err, errlen);
}

static bool etherstub_exists(const char *n)
{
	struct vw_link *l = link_find(n);

	return l && l->cls == VW_CLASS_ETHERSTUB;
}

static int do_show_etherstub(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_link *l;
	int rc = check_operands(c, etherstub_exists, "etherstub", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		if (l->cls != VW_CLASS_ETHERSTUB || !in_operands(c, l->name))
			continue;
		vw_buf_kv(out, "record", "etherstub");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "vnics", "%u", l->nvnics);
	}
	return 0;
}

/* ---- VNICs ---- */

/* Properties of create-vnic that are set once the VNIC exists (their values
 * checked before). */
struct vnic_later {
	const char *protection, *allowed;
};

static int vnic_props(const struct vw_cmd *c, const char *name, struct vnic_spec *s, struct vnic_later *later,
		      char *buf, size_t buflen, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int nl = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT), i, used = 0;

	for (i = 0; i < nl; i++) {
		char *keys[16], *vals[16], *copy = buf + used;
		size_t len = strlen(lists[i]) + 1;
		int n, k;

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
		for (k = 0; k < n; k++) {
			const struct vw_propdef *pd = linkprop_find(keys[k]);
			uint64_t v;

			if ((!strcmp(keys[k], "zone") && s->zone) || (!strcmp(keys[k], "mtu") && s->mtu) ||
			    (!strcmp(keys[k], "maxbw") && s->maxbw) ||
			    (!strcmp(keys[k], "priority") && s->has_priority) ||
			    (!strcmp(keys[k], "cpus") && !vw_cpuset_empty(&s->cpus)) ||
			    (!strcmp(keys[k], "protection") && later->protection) ||
			    (!strcmp(keys[k], "allowed-ips") && later->allowed)) {
				ERR("%s: property '%s' given twice", name, keys[k]);
				return -EINVAL;
			}
			if (!pd) {
				ERR("%s: unknown property '%s'", name, keys[k]);
				return -EINVAL;
			}
			if (!pd->implemented) {
				ERR("%s: property '%s' is not supported yet", name, keys[k]);
				return -EOPNOTSUPP;
			}
			if (!strcmp(keys[k], "zone")) {
				if (!vw_zonename_valid(vals[k])) {
					ERR("%s: invalid zone name '%s'", name, vals[k]);
					return -EINVAL;
				}
				s->zone = vals[k];
			} else if (!strcmp(keys[k], "maxbw")) {
				if (!linkprop_maxbw_parse(name, vals[k], &s->maxbw, err, errlen))
					return -EINVAL;
			} else if (!strcmp(keys[k], "cpus")) {
				if (!linkprop_cpus_parse(name, vals[k], &s->cpus, err, errlen))
					return -EINVAL;
			} else if (!strcmp(keys[k], "protection")) {
				uint32_t flags;

				if (!linkprop_protection_parse(name, vals[k], &flags, err, errlen))
					return -EINVAL;
				later->protection = vals[k];
			} else if (!strcmp(keys[k], "allowed-ips")) {
				struct vw_prefix nets[VW_MAX_ALLOWED];
				int nn;

				if (!linkprop_allowed_parse(name, vals[k], nets, &nn, err, errlen))
					return -EINVAL;
				later->allowed = vals[k];
			} else if (!strcmp(keys[k], "priority")) {
				if (strcmp(vals[k], "high") && strcmp(vals[k], "medium") && strcmp(vals[k], "low")) {
					ERR("%s: invalid priority '%s' (high, medium or low)", name, vals[k]);
					return -EINVAL;
				}
				s->priority = !strcmp(vals[k], "high") ? VW_PRIO_HIGH :
					      !strcmp(vals[k], "low") ? VW_PRIO_LOW : VW_PRIO_MEDIUM;
				s->has_priority = true;
			} else {
				if (!vw_uint_parse(vals[k], 68, 9000, &v)) {
					ERR("%s: invalid mtu '%s' (68-9000)", name, vals[k]);
					return -EINVAL;
				}
				s->mtu = (unsigned)v;
			}
		}
	}
	return 0;
}

static int do_create_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vnic_spec s = { 0 };
	struct vnic_later later = { NULL, NULL };
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
	rc = vnic_props(c, s.name, &s, &later, propbuf, sizeof(propbuf), err, errlen);
	if (rc)
		return rc;
	rc = vnic_create(&s, err, errlen);
	if (!rc && (later.protection || later.allowed)) {
		/* checked above: only a failure to publish can stop them */
		struct vw_link *l = link_find(s.name);
		char why[256];

		if ((later.allowed && (rc = linkprop_set(l, "allowed-ips", later.allowed, s.temporary, err, errlen))) ||
		    (later.protection &&
		     (rc = linkprop_set(l, "protection", later.protection, s.temporary, err, errlen))))
			vnic_delete(s.name, why, sizeof(why));
	}
	return rc;
}

static int do_delete_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	if (mirror_check_delete(c->operand[0], err, errlen))
		return -EBUSY;
	return vnic_delete(c->operand[0], err, errlen);
}

static bool vnic_exists(const char *n)
{
	struct vw_link *l = link_find(n);

	return l && l->cls == VW_CLASS_VNIC;
}

static const char *mactype_name(enum vw_mactype t)
{
	return t == VW_MAC_FIXED ? "fixed" : t == VW_MAC_AUTO ? "auto" : "random";
}

static int do_show_vnic(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *over = vw_cmd_opt(c, 'l');
	struct vw_link *l;
	char mac[18];
	int rc = check_operands(c, vnic_exists, "VNIC", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		if (l->cls != VW_CLASS_VNIC || !in_operands(c, l->name) || (over && strcmp(over, l->over->name)))
			continue;
		vw_buf_kv(out, "record", "vnic");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "over", "%s", l->over->name);
		vw_buf_kv(out, "macaddress", "%s", vw_mac_format(l->mac, mac));
		vw_buf_kv(out, "macaddrtype", "%s", mactype_name(l->mactype));
		vw_buf_kv(out, "vid", "%u", l->vid);
		vw_buf_kv(out, "zone", "%s", l->zone);
		vw_buf_kv(out, "state", "up");
	}
	return 0;
}

/* ---- links and phys ---- */

static int do_show_link(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_link *l;
	int rc = check_operands(c, link_exists, "link", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		struct nl_link_info li = { 0 };

		if (!in_operands(c, l->name))
			continue;
		vw_buf_kv(out, "record", "link");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "class", "%s", link_class_name(l->cls));
		if (l->cls == VW_CLASS_ETHERSTUB) {
			vw_buf_kv(out, "mtu", "9000");
			vw_buf_kv(out, "state", "unknown");
		} else {
			bool ok = nl_link_get(l->cls == VW_CLASS_VNIC ? l->zone : NULL, l->name, &li) == 0;

			vw_buf_kv(out, "mtu", "%u", ok ? li.mtu : 0);
			vw_buf_kv(out, "state", "%s", ok && (li.flags & IFF_UP) ? "up" : "down");
		}
		vw_buf_kv(out, "over", "%s", l->over ? l->over->name : "");
		vw_buf_kv(out, "zone", "%s", l->cls == VW_CLASS_VNIC ? l->zone : "");
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
	struct vw_link *l = link_find(li->name);

	if (li->loopback || !strcmp(li->kind, "tun") || (l && l->cls != VW_CLASS_PHYS) || !in_operands(w->c, li->name))
		return 0;
	w->found++;
	vw_buf_kv(w->out, "record", "phys");
	vw_buf_kv(w->out, "link", "%s", li->name);
	vw_buf_kv(w->out, "media", "Ethernet");
	vw_buf_kv(w->out, "state", "%s", li->flags & IFF_UP ? "up" : "down");
	vw_buf_kv(w->out, "mtu", "%u", li->mtu);
	vw_buf_kv(w->out, "device", "%s", li->kind[0] ? li->kind : "nic");
	vw_buf_kv(w->out, "attached", "%s", l ? "yes" : "no");
	return 0;
}

static int do_show_phys(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct phys_walk w = { c, out, 0 };
	int i, rc;

	for (i = 0; i < c->noperand; i++) {
		struct nl_link_info li;
		struct vw_link *l = link_find(c->operand[i]);

		if (!vw_linkname_valid(c->operand[i]) || nl_link_get(NULL, c->operand[i], &li) < 0 || li.loopback ||
		    !strcmp(li.kind, "tun") || (l && l->cls != VW_CLASS_PHYS)) {
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
	struct vw_link *l = linkprop_link(name); /* a phys need not be attached */

	if (!l)
		ERR("%s: no such link", name);
	return l;
}

static int do_set_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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
		const struct vw_propdef *pd = linkprop_find(keys[k]);
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
		if (!pd->implemented) {
			ERR("%s: property '%s' is not supported yet", l->name, keys[k]);
			return -EOPNOTSUPP;
		}
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

static int do_reset_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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
			int rc = linkprop_set(l, p, NULL, temporary, err, errlen);

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
	return linkprop_link(n) != NULL;
}

static void show_props(struct vw_buf *out, const struct vw_link *l, const struct vw_propdef *pds, int npd,
		       const char *want)
{
	int i;

	for (i = 0; i < npd; i++) {
		/* allowed-ips: up to 32 IPv6 subnets */
		char cur[VW_MAX_ALLOWED * 48], def[sizeof(cur)], saved[sizeof(cur)], key[64];

		snprintf(key, sizeof(key), ",%s,", pds[i].name);
		if (!pds[i].implemented || (want && !strstr(want, key)) || !linkprop_applies(l, pds[i].name))
			continue;
		linkprop_get(l, pds[i].name, cur, def, saved, sizeof(cur));
		vw_buf_kv(out, "record", "linkprop");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "property", "%s", pds[i].name);
		vw_buf_kv(out, "perm", "rw");
		vw_buf_kv(out, "value", "%s", cur);
		vw_buf_kv(out, "default", "%s", def);
		vw_buf_kv(out, "possible", "%s", pds[i].possible);
	}
}

static int do_show_linkprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int nl = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT), npd, i, rc;
	const struct vw_propdef *pds = linkprop_table(&npd);
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
			const struct vw_propdef *pd = linkprop_find(p);
			size_t used = strlen(want);

			if (!pd || !pd->implemented) {
				ERR("%s: %s property '%s'", c->noperand ? c->operand[0] : "show-linkprop",
				    pd ? "not supported yet:" : "unknown", p);
				return pd ? -EOPNOTSUPP : -EINVAL;
			}
			snprintf(want + used, sizeof(want) - used, ",%s,", p);
		}
	}
	/* VNICs and phys links, attached or only named by a property */
	for (l = vw_links; l; l = l->next)
		if (in_operands(c, l->name) && l->cls != VW_CLASS_ETHERSTUB)
			show_props(out, l, pds, npd, nl ? want : NULL);
	for (pp = vw_physprops; pp; pp = pp->next)
		if (!link_find(pp->name) && in_operands(c, pp->name) && (l = linkprop_link(pp->name)))
			show_props(out, l, pds, npd, nl ? want : NULL);
	for (i = 0; i < c->noperand; i++)
		if (!link_find(c->operand[i]) && !physprop_find(c->operand[i]) && (l = linkprop_link(c->operand[i])))
			show_props(out, l, pds, npd, nl ? want : NULL);
	return 0;
}

/* ---- zones and addresses ---- */

static int do_create_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return zone_add(c->operand[0], err, errlen);
}

static int do_delete_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return zone_remove(c->operand[0], vw_cmd_opt(c, 'f') != NULL, err, errlen);
}

static bool zone_known(const char *n)
{
	return zone_find(n) != NULL;
}

static int do_show_zone(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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
			if (l->cls == VW_CLASS_VNIC && !strcmp(l->zone, z->name))
				vw_buf_printf(&names, "%s%s", names.len ? "," : "", l->name);
		vw_buf_kv(out, "record", "zone");
		vw_buf_kv(out, "zone", "%s", z->name);
		vw_buf_kv(out, "vnics", "%s", names.p ? names.p : "");
		vw_buf_free(&names);
	}
	return 0;
}

static int do_create_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return addr_create(c->operand[0], vw_cmd_opt(c, 'a'), err, errlen);
}

static int do_delete_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return addr_delete(c->operand[0], vw_cmd_opt(c, 'a'), err, errlen);
}

static int do_show_addr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_link *l;
	char a[64];
	int i, rc = check_operands(c, vnic_exists, "VNIC", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		if (l->cls != VW_CLASS_VNIC || !in_operands(c, l->name))
			continue;
		for (i = 0; i < l->naddr; i++) {
			vw_buf_kv(out, "record", "addr");
			vw_buf_kv(out, "link", "%s", l->name);
			vw_buf_kv(out, "zone", "%s", l->zone);
			vw_buf_kv(out, "addr", "%s", vw_prefix_format(&l->addrs[i].p, a));
			vw_buf_kv(out, "state", "ok");
		}
	}
	return 0;
}

/* ---- export and statistics ---- */

static int do_export(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_buf b = { 0 };
	char *line, *save = NULL;

	(void)c;
	state_export(&b);
	if (b.oom) {
		vw_buf_free(&b);
		ERR("export: out of memory");
		return -ENOMEM;
	}
	for (line = b.p ? strtok_r(b.p, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		vw_buf_kv(out, "record", "line");
		vw_buf_kv(out, "text", "%s", line);
	}
	vw_buf_free(&b);
	return 0;
}

static void stats_add(struct vw_port_stats *sum, const struct vw_port *p)
{
	struct vw_port_stats s;
	uint64_t *d = (uint64_t *)sum, *x = (uint64_t *)&s;
	size_t i;

	vw_port_stats_sum(p, &s);
	for (i = 0; i <= offsetof(struct vw_port_stats, drop_txerr) / 8; i++)
		d[i] += x[i];
}

/*
 * Frames a VNIC's stack sent that its TAP face could not queue for vwired
 * (the worker did not read them in time): the kernel counts them as the
 * TAP's tx_dropped.  Read once per zone for all the VNICs in it.
 */
struct face_drops {
	const char *zone;
	const struct vw_link **links;
	uint64_t *drops;
	unsigned n;
};

static int face_drops_one(const struct nl_link_info *li, void *arg)
{
	struct face_drops *fd = arg;
	unsigned i;

	for (i = 0; i < fd->n; i++)
		if (fd->links[i]->cls == VW_CLASS_VNIC && !strcmp(fd->links[i]->name, li->name) &&
		    !strcmp(fd->links[i]->zone, fd->zone))
			fd->drops[i] = li->tx_dropped;
	return 0;
}

static void face_drops_zone(const char *zone, void *arg)
{
	struct face_drops fd = *(struct face_drops *)arg;

	fd.zone = zone;
	nl_link_foreach(zone, face_drops_one, &fd);
}

/* drops[i] for links[i] (0 for what is not a VNIC), one dump per zone. */
static uint64_t *face_drops_read(const struct vw_link **links, unsigned n)
{
	struct face_drops fd = { NULL, links, calloc(n ? n : 1, sizeof(uint64_t)), n };

	if (fd.drops)
		vnic_foreach_zone(face_drops_zone, &fd);
	return fd.drops;
}

/* A link's port counters, summed, and IPKTS, RBYTES, OPKTS, OBYTES in c. */
static void link_port_stats(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4])
{
	unsigned i;

	if (l->cls == VW_CLASS_VNIC) {
		stats_add(s, l->port);
		/* what the VNIC received is what the switch delivered to it */
		c[0] = s->tx_pkts, c[1] = s->tx_bytes, c[2] = s->rx_pkts, c[3] = s->rx_bytes;
		return;
	}
	if (l->uplink)
		stats_add(s, l->uplink);
	if (l->cls == VW_CLASS_ETHERSTUB)
		for (i = 0; i < l->sw->nports; i++)
			stats_add(s, l->sw->ports[i]);
	c[0] = s->rx_pkts, c[1] = s->rx_bytes, c[2] = s->tx_pkts, c[3] = s->tx_bytes;
}

void link_counters(const struct vw_link *l, uint64_t c[4])
{
	struct vw_port_stats s = { 0 };

	link_port_stats(l, &s, c);
}

static void stats_record(struct vw_buf *out, const struct vw_link *l, uint64_t face_drops)
{
	struct vw_port_stats s = { 0 };
	struct vw_shape_stats so = { 0 }, si = { 0 };
	uint64_t ip, ib, op, ob, idrops, odrops, shape_out, shape_in, c[4];

	link_port_stats(l, &s, c);
	ip = c[0], ib = c[1], op = c[2], ob = c[3];
	if (l->cls == VW_CLASS_VNIC) {
		vw_shape_stats(l->port, VW_SHAPE_OUT, &so);
		vw_shape_stats(l->port, VW_SHAPE_IN, &si);
	} else if (l->uplink) {
		vw_shape_stats(l->uplink, VW_SHAPE_OUT, &so);
		vw_shape_stats(l->uplink, VW_SHAPE_IN, &si);
	}
	shape_out = so.drop_codel + so.drop_limit + so.drop_nobuf + so.drop_bad;
	shape_in = si.drop_codel + si.drop_limit + si.drop_nobuf + si.drop_bad;
	idrops = s.drop_tagged + s.drop_vlan + s.drop_unknown + s.drop_runt + s.drop_nobuf + face_drops + shape_out +
		 s.drop_restricted + s.drop_macspoof + s.drop_ipspoof + s.drop_dhcpspoof + s.drop_mtu;
	odrops = s.drop_txerr + shape_in;
	vw_buf_kv(out, "record", "stats");
	vw_buf_kv(out, "link", "%s", l->name);
	vw_buf_kv(out, "class", "%s", link_class_name(l->cls));
	vw_buf_kv(out, "over", "%s", l->over ? l->over->name : "");
	vw_buf_kv(out, "zone", "%s", l->zone);
	vw_buf_kv(out, "ipkts", "%lu", ip);
	vw_buf_kv(out, "rbytes", "%lu", ib);
	vw_buf_kv(out, "opkts", "%lu", op);
	vw_buf_kv(out, "obytes", "%lu", ob);
	vw_buf_kv(out, "idrops", "%lu", idrops);
	vw_buf_kv(out, "odrops", "%lu", odrops);
	vw_buf_kv(out, "batches", "%lu", s.rx_batches);
	vw_buf_kv(out, "drop_tagged", "%lu", s.drop_tagged);
	vw_buf_kv(out, "drop_vlan", "%lu", s.drop_vlan);
	vw_buf_kv(out, "drop_unknown", "%lu", s.drop_unknown);
	vw_buf_kv(out, "drop_runt", "%lu", s.drop_runt);
	vw_buf_kv(out, "drop_nobuf", "%lu", s.drop_nobuf);
	vw_buf_kv(out, "drop_macspoof", "%lu", s.drop_macspoof);
	vw_buf_kv(out, "drop_ipspoof", "%lu", s.drop_ipspoof);
	vw_buf_kv(out, "drop_dhcpspoof", "%lu", s.drop_dhcpspoof);
	vw_buf_kv(out, "drop_restricted", "%lu", s.drop_restricted);
	vw_buf_kv(out, "drop_mtu", "%lu", s.drop_mtu);
	vw_buf_kv(out, "drop_txerr", "%lu", s.drop_txerr);
	vw_buf_kv(out, "drop_face", "%lu", face_drops);
	vw_buf_kv(out, "drop_shape", "%lu", shape_out);
	vw_buf_kv(out, "odrop_shape", "%lu", shape_in);
	vw_buf_kv(out, "drop_codel", "%lu", so.drop_codel + si.drop_codel);
	vw_buf_kv(out, "drop_qfull", "%lu", so.drop_limit + si.drop_limit);
	vw_buf_kv(out, "qlen_out", "%u", so.qlen);
	vw_buf_kv(out, "qlen_in", "%u", si.qlen);
}

static int do_stats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const struct vw_link **links;
	struct vw_link *l;
	uint64_t *drops;
	unsigned n = 0, k = 0;
	int w, rc = check_operands(c, link_exists, "link", err, errlen);

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next)
		if (in_operands(c, l->name))
			n++;
	links = calloc(n ? n : 1, sizeof(*links));
	if (!links) {
		ERR("stats: out of memory");
		return -ENOMEM;
	}
	for (l = vw_links; l; l = l->next)
		if (in_operands(c, l->name))
			links[k++] = l;
	drops = face_drops_read(links, n);
	for (k = 0; k < n; k++)
		stats_record(out, links[k], drops && links[k]->cls == VW_CLASS_VNIC ? drops[k] : 0);
	free(drops);
	free(links);
	for (w = 0; w < vw_workers_count(); w++) {
		struct vw_worker_stats ws;

		vw_worker_get_stats(w, &ws);
		vw_buf_kv(out, "record", "worker");
		vw_buf_kv(out, "worker", "%d", w);
		vw_buf_kv(out, "ports", "%u", ws.nports);
		vw_buf_kv(out, "wakeups", "%lu", ws.wakeups);
		vw_buf_kv(out, "polls", "%lu", ws.polls);
		vw_buf_kv(out, "batches", "%lu", ws.batches);
		vw_buf_kv(out, "pkts", "%lu", ws.pkts);
	}
	return 0;
}

/* ---- flows ---- */

static int do_add_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *alists[VW_CMD_MAXOPT], *plists[VW_CMD_MAXOPT];
	int na = vw_cmd_optall(c, 'a', alists, VW_CMD_MAXOPT), np = vw_cmd_optall(c, 'p', plists, VW_CMD_MAXOPT), i;
	char attrs[1024] = "";

	(void)out;
	/* -a may be given more than once: one list */
	for (i = 0; i < na; i++) {
		size_t used = strlen(attrs);

		if (used + strlen(alists[i]) + 2 > sizeof(attrs)) {
			ERR("%s: attribute list too long", c->operand[0]);
			return -EINVAL;
		}
		snprintf(attrs + used, sizeof(attrs) - used, "%s%s", used ? "," : "", alists[i]);
	}
	return flow_add(c->operand[0], vw_cmd_opt(c, 'l'), attrs, plists, np, vw_cmd_opt(c, 't') != NULL, err, errlen);
}

static int do_remove_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	bool temporary = vw_cmd_opt(c, 't') != NULL;

	(void)out;
	if (c->noperand)
		return flow_remove(c->operand[0], temporary, err, errlen);
	return flow_remove_link(vw_cmd_opt(c, 'l'), temporary, err, errlen);
}

static int do_set_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int n = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT);

	(void)out;
	return flowprop_set(c->operand[0], lists, n, vw_cmd_opt(c, 't') != NULL, err, errlen);
}

static int do_reset_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int n = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT);

	(void)out;
	return flowprop_reset(c->operand[0], lists, n, vw_cmd_opt(c, 't') != NULL, err, errlen);
}

static bool flow_exists(const char *n)
{
	return flow_find_live(n) != NULL;
}

/* The flows a show command lists: its operands (each must be a live flow)
 * and -l LINK (which must be a link flows can be on, or carry flows). */
static int flow_selection(const struct vw_cmd *c, const char **link, char *err, size_t errlen)
{
	struct vw_flow *f;
	int rc = check_operands(c, flow_exists, "flow", err, errlen);

	*link = vw_cmd_opt(c, 'l');
	if (rc || !*link)
		return rc;
	for (f = vw_flows; f && strcmp(f->link, *link); f = f->next)
		;
	if (f || link_find(*link) || flow_link_check(*link, *link, err, errlen) == 0)
		return 0;
	ERR("%s: no such link", *link);
	return -ENOENT;
}

static bool flow_selected(const struct vw_cmd *c, const char *link, const struct vw_flow *f)
{
	return f->live && in_operands(c, f->name) && (!link || !strcmp(link, f->link));
}

static int do_show_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *link;
	struct vw_flow *f;
	int rc = flow_selection(c, &link, err, errlen);

	if (rc)
		return rc;
	for (f = vw_flows; f; f = f->next) {
		const struct vw_flow_attrs *a = &f->attrs;
		char ip[160] = "", p[64], attrs[256];

		if (!flow_selected(c, link, f))
			continue;
		/* as flowadm shows it: LCL:/RMT: before the address */
		if (a->mask & VW_FA_LOCAL_IP)
			snprintf(ip, sizeof(ip), "LCL:%s", vw_prefix_format(&a->local, p));
		if (a->mask & VW_FA_REMOTE_IP) {
			size_t used = strlen(ip);

			snprintf(ip + used, sizeof(ip) - used, "%sRMT:%s", used ? "," : "", vw_prefix_format(&a->remote, p));
		}
		vw_buf_kv(out, "record", "flow");
		vw_buf_kv(out, "flow", "%s", f->name);
		vw_buf_kv(out, "link", "%s", f->link);
		vw_buf_kv(out, "ipaddr", "%s", ip);
		vw_buf_kv(out, "proto", "%s", a->mask & VW_FA_TRANSPORT ? vw_flow_proto_name(a->proto) : "");
		if (a->mask & VW_FA_LOCAL_PORT)
			vw_buf_kv(out, "lport", "%u", a->lport);
		else
			vw_buf_kv(out, "lport", "%s", "");
		if (a->mask & VW_FA_REMOTE_PORT)
			vw_buf_kv(out, "rport", "%u", a->rport);
		else
			vw_buf_kv(out, "rport", "%s", "");
		if (a->mask & VW_FA_DSFIELD)
			vw_buf_kv(out, "dsfield", "0x%02x:0x%02x", a->dsfield, a->dsmask);
		else
			vw_buf_kv(out, "dsfield", "%s", "");
		vw_buf_kv(out, "attrs", "%s", vw_flow_attrs_format(a, attrs, sizeof(attrs)));
		vw_buf_kv(out, "temporary", "%s", f->temporary ? "yes" : "no");
	}
	return 0;
}

static int do_show_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT], *link;
	int nl = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT), npd, i, rc;
	const struct vw_flowpropdef *pds = vw_flowprop_table(&npd);
	unsigned want = 0;
	struct vw_flow *f;

	for (i = 0; i < nl; i++) {
		char buf[512], *p, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", lists[i]);
		for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			const struct vw_flowpropdef *pd = vw_flowprop_find(p);

			if (!pd) {
				ERR("%s: unknown property '%s'", c->noperand ? c->operand[0] : "show-flowprop", p);
				return -EINVAL;
			}
			want |= 1u << pd->id;
		}
	}
	rc = flow_selection(c, &link, err, errlen);
	if (rc)
		return rc;
	for (f = vw_flows; f; f = f->next) {
		if (!flow_selected(c, link, f))
			continue;
		for (i = 0; i < npd; i++) {
			char v[64];

			if (want && !(want & (1u << pds[i].id)))
				continue;
			vw_buf_kv(out, "record", "flowprop");
			vw_buf_kv(out, "flow", "%s", f->name);
			vw_buf_kv(out, "property", "%s", pds[i].name);
			vw_buf_kv(out, "value", "%s", vw_flowprop_format(&pds[i], &f->props, v, sizeof(v)));
			vw_buf_kv(out, "default", "%s", pds[i].deflt);
			vw_buf_kv(out, "possible", "%s", pds[i].possible);
		}
	}
	return 0;
}

static int do_flowstats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *link;
	struct vw_flow *f;
	int rc = flow_selection(c, &link, err, errlen);

	if (rc)
		return rc;
	for (f = vw_flows; f; f = f->next) {
		uint64_t ip, ib, op, ob, refused, clamped;

		if (!flow_selected(c, link, f))
			continue;
		vw_flow_stats_sum(f->stats, &ip, &ib, &op, &ob);
		vw_buf_kv(out, "record", "flowstats");
		vw_buf_kv(out, "flow", "%s", f->name);
		vw_buf_kv(out, "link", "%s", f->link);
		vw_buf_kv(out, "ipkts", "%lu", ip);
		vw_buf_kv(out, "rbytes", "%lu", ib);
		vw_buf_kv(out, "opkts", "%lu", op);
		vw_buf_kv(out, "obytes", "%lu", ob);
		vw_buf_kv(out, "conns", "%u", __atomic_load_n(&f->stats->conns, __ATOMIC_RELAXED));
		vw_flow_stats_tm(f->stats, &refused, &clamped);
		vw_buf_kv(out, "refused", "%lu", refused);
		vw_buf_kv(out, "clamped", "%lu", clamped);
		vw_buf_kv(out, "drops", "%lu", __atomic_load_n(&f->stats->drops, __ATOMIC_RELAXED));
	}
	return 0;
}

/* ---- mirrors ---- */

static int do_create_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return mirror_create(c->operand[0], vw_cmd_opt(c, 'l'), vw_cmd_opt(c, 'd'), vw_cmd_opt(c, 'f'),
			     vw_cmd_opt(c, 't'), err, errlen);
}

static int do_delete_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return mirror_delete(c->operand[0], err, errlen);
}

static int do_show_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	return mirror_show(c->operand, c->noperand, out, err, errlen);
}

/* ---- capture (observability/capture.c) ---- */

static int do_snoop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return capture_snoop(c, err, errlen);
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	handler_fn fn;
	bool changes; /* may change the persistent state */
	bool on_link; /* its operand names a link */
} handlers[] = {
	{ "create-etherstub", do_create_etherstub, true, false },
	{ "delete-etherstub", do_delete_etherstub, true, true },
	{ "show-etherstub", do_show_etherstub, false, false },
	{ "create-vnic", do_create_vnic, true, false },
	{ "delete-vnic", do_delete_vnic, true, true },
	{ "show-vnic", do_show_vnic, false, false },
	{ "show-link", do_show_link, false, false },
	{ "show-phys", do_show_phys, false, false },
	{ "set-linkprop", do_set_linkprop, true, true },
	{ "reset-linkprop", do_reset_linkprop, true, true },
	{ "show-linkprop", do_show_linkprop, false, false },
	{ "create-zone", do_create_zone, true, false },
	{ "delete-zone", do_delete_zone, true, false },
	{ "show-zone", do_show_zone, false, false },
	{ "create-addr", do_create_addr, true, true },
	{ "delete-addr", do_delete_addr, true, true },
	{ "show-addr", do_show_addr, false, false },
	{ "export", do_export, false, false },
	{ "stats", do_stats, false, false },
	{ "add-flow", do_add_flow, true, false },
	{ "remove-flow", do_remove_flow, true, false },
	{ "set-flowprop", do_set_flowprop, true, false },
	{ "reset-flowprop", do_reset_flowprop, true, false },
	{ "show-flow", do_show_flow, false, false },
	{ "show-flowprop", do_show_flowprop, false, false },
	{ "flowstats", do_flowstats, false, false },
	/* accounting (observability/accounting.c) */
	{ "start-accounting", accounting_start_cmd, true, false },
	{ "stop-accounting", accounting_stop_cmd, true, false },
	{ "show-accounting", accounting_show_cmd, false, false },
	{ "create-mirror", do_create_mirror, true, false },
	{ "delete-mirror", do_delete_mirror, true, false },
	{ "show-mirror", do_show_mirror, false, false },
	{ "create-exporter", exporter_create_cmd, true, false },
	{ "delete-exporter", exporter_delete_cmd, true, false },
	{ "show-exporter", exporter_show_cmd, false, false },
	{ "snoop", do_snoop, false, false },
};

void ctl_handle(int argc, char *const argv[], struct vw_buf *out, bool restoring)
{
	struct vw_cmd c;
	char err[512] = "";
	vw_status_t st;
	size_t i, mark = out->len;
	int rc = -EOPNOTSUPP;
	struct vw_link *l;
	const char *opt_t;
	bool temporary;

	st = vw_cmd_parse(argc, argv, &c, err, sizeof(err));
	if (st != VW_OK)
		goto done;
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(handlers[i].name, c.def->name))
			break;
	if (i == sizeof(handlers) / sizeof(handlers[0])) {
		snprintf(err, sizeof(err), "%s: not supported yet", c.def->name);
		st = VW_E_NOTSUP;
		goto done;
	}
	/* a command on a temporary link changes nothing that is saved; -t
	 * means temporary only where it is a flag (create-mirror's -t DEST
	 * takes a value) */
	opt_t = strchr(c.def->opts, 't');
	temporary = (opt_t && opt_t[1] != ':' && vw_cmd_opt(&c, 't')) ||
		    (handlers[i].on_link && c.noperand && (l = link_find(c.operand[0])) && l->temporary);
	rc = handlers[i].fn(&c, out, err, sizeof(err));
	if (rc) {
		out->len = mark; /* no partial records with an error */
		st = vw_errno2status(-rc);
		goto done;
	}
	if (handlers[i].changes && !restoring && !temporary) {
		rc = state_save(err, sizeof(err));
		st = rc ? VW_E_SYS : VW_OK;
	}
done:
	if (st != VW_OK)
		out->len = mark;
	vw_buf_kv(out, "status", "%d", (int)st);
	vw_buf_kv(out, "message", "%s", st == VW_OK ? "" : err);
	vw_buf_printf(out, "\n");
}
