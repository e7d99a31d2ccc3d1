/*
 * Link properties (SPEC §4).  Properties that later work will bring are
 * listed so that setting one is refused by name rather than accepted and
 * ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "objects/link.h"
#include "objects/netlink.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

static const struct vw_propdef props[] = {
	{ "zone", true, "--" },
	{ "mtu", true, "68-9000" },
	{ "maxbw", true, "--" },
	{ "priority", true, "high,medium,low" },
	{ "cpus", true, "--" },
	{ "protection", true, "mac-nospoof,ip-nospoof,dhcp-nospoof,restricted" },
	{ "allowed-ips", true, "--" },
};

const struct vw_propdef *linkprop_table(int *n)
{
	*n = (int)(sizeof(props) / sizeof(props[0]));
	return props;
}

const struct vw_propdef *linkprop_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (!strcmp(props[i].name, name))
			return &props[i];
	return NULL;
}

const char *const linkprop_lists[] = { "cpus", "protection", "allowed-ips", NULL };

bool linkprop_cpus_parse(const char *name, const char *value, struct vw_cpuset *set, char *err, size_t errlen)
{
	if (vw_cpulist_parse(value, set))
		return true;
	ERR("%s: invalid cpus '%s' (a CPU list such as 0,2-3)", name, value);
	return false;
}

bool linkprop_maxbw_parse(const char *name, const char *value, uint64_t *bps, char *err, size_t errlen)
{
	if (vw_bw_parse(value, bps) && *bps >= 10000 && *bps <= 100000000000ULL)
		return true;
	ERR("%s: invalid maxbw '%s' (10K to 100G; a bare number is Mb/s)", name, value);
	return false;
}

static const char *const prio_names[] = { "medium", "high", "low" }; /* enum vw_priority */

struct vw_link *linkprop_link(const char *name)
{
	static struct vw_link scratch;
	struct vw_link *l = link_find(name);
	struct nl_link_info li;

	if (l)
		return l;
	/* a phys link need not be attached to carry properties */
	if (!vw_linkname_valid(name) || nl_link_get(NULL, name, &li) < 0 || li.loopback || !strcmp(li.kind, "tun"))
		return NULL;
	memset(&scratch, 0, sizeof(scratch));
	snprintf(scratch.name, sizeof(scratch.name), "%s", name);
	scratch.cls = VW_CLASS_PHYS;
	scratch.temporary = true;
	return &scratch;
}

bool linkprop_applies(const struct vw_link *l, const char *prop)
{
	if (l->cls == VW_CLASS_VNIC)
		return true;
	return l->cls == VW_CLASS_PHYS && (!strcmp(prop, "maxbw") || !strcmp(prop, "cpus"));
}

/* maxbw of a phys link: its uplink, both ways (objects/link.c). */
static int phys_maxbw(struct vw_link *l, const char *value, bool temporary, char *err, size_t errlen)
{
	uint64_t bps = 0;

	if (value && !linkprop_maxbw_parse(l->name, value, &bps, err, errlen))
		return -EINVAL;
	return phys_set_maxbw(l->name, bps, temporary, err, errlen);
}

/* cpus of a phys link: the worker that reads its uplink (objects/link.c). */
static int phys_cpus(struct vw_link *l, const char *value, bool temporary, char *err, size_t errlen)
{
	struct vw_cpuset set = { { 0 } };

	if (value && !linkprop_cpus_parse(l->name, value, &set, err, errlen))
		return -EINVAL;
	return phys_set_cpus(l->name, &set, temporary, err, errlen);
}

int linkprop_set(struct vw_link *l, const char *prop, const char *value, bool temporary, char *err, size_t errlen)
{
	const struct vw_propdef *pd = linkprop_find(prop);
	uint64_t v;
	int rc;

	if (!pd) {
		ERR("%s: unknown property '%s'", l->name, prop);
		return -EINVAL;
	}
	if (!pd->implemented) {
		ERR("%s: property '%s' is not supported yet", l->name, prop);
		return -EOPNOTSUPP;
	}
	if (l->cls == VW_CLASS_PHYS && !strcmp(prop, "maxbw"))
		return phys_maxbw(l, value, temporary, err, errlen);
	if (l->cls == VW_CLASS_PHYS && !strcmp(prop, "cpus"))
		return phys_cpus(l, value, temporary, err, errlen);
	if (l->cls != VW_CLASS_VNIC) {
		if (!strcmp(prop, "maxbw") || !strcmp(prop, "cpus"))
			ERR("%s: property '%s' applies only to VNICs and phys links", l->name, prop);
		else if (!strcmp(prop, "priority") && l->cls == VW_CLASS_PHYS)
			ERR("%s: property 'priority' applies only to VNICs (a phys link's egress serves its VNICs by theirs)",
			    l->name);
		else
			ERR("%s: property '%s' applies only to VNICs", l->name, prop);
		return -EINVAL;
	}
	if (!temporary && l->temporary) {
		/* a temporary link has nothing persistent to change */
		temporary = true;
	}
	if (!strcmp(prop, "zone")) {
		const char *zone = value ? value : "";

		if (*zone && !vw_zonename_valid(zone)) {
			ERR("%s: invalid zone name '%s'", l->name, zone);
			return -EINVAL;
		}
		rc = vnic_set_zone(l, zone, err, errlen);
		if (rc)
			return rc;
		if (!temporary)
			snprintf(l->zone_saved, sizeof(l->zone_saved), "%s", zone);
		return 0;
	}
	if (!strcmp(prop, "maxbw")) {
		uint64_t bps = 0;

		if (value && !linkprop_maxbw_parse(l->name, value, &bps, err, errlen))
			return -EINVAL;
		rc = vnic_set_maxbw(l, bps, err, errlen);
		if (rc)
			return rc;
		if (!temporary)
			l->maxbw_saved = bps;
		return 0;
	}
	if (!strcmp(prop, "cpus")) {
		struct vw_cpuset set = { { 0 } };

		if (value && !linkprop_cpus_parse(l->name, value, &set, err, errlen))
			return -EINVAL;
		rc = vnic_set_cpus(l, &set, err, errlen);
		if (rc)
			return rc;
		if (!temporary)
			l->cpus_saved = set;
		return 0;
	}
	if (!strcmp(prop, "protection")) {
		uint32_t flags = 0, old = l->protect;

		if (value && !linkprop_protection_parse(l->name, value, &flags, err, errlen))
			return -EINVAL;
		l->protect = flags;
		rc = vnic_protect_apply(l, err, errlen);
		if (rc) {
			l->protect = old;
			return rc;
		}
		if (!temporary)
			l->protect_saved = flags;
		return 0;
	}
	if (!strcmp(prop, "allowed-ips")) {
		struct vw_prefix nets[VW_MAX_ALLOWED], old[VW_MAX_ALLOWED];
		int n = 0, nold = l->nallowed;

		if (value && !linkprop_allowed_parse(l->name, value, nets, &n, err, errlen))
			return -EINVAL;
		memcpy(old, l->allowed, sizeof(old));
		memcpy(l->allowed, nets, (size_t)n * sizeof(nets[0]));
		l->nallowed = n;
		rc = vnic_protect_apply(l, err, errlen);
		if (rc) {
			memcpy(l->allowed, old, sizeof(old));
			l->nallowed = nold;
			return rc;
		}
		if (!temporary) {
			memcpy(l->allowed_saved, nets, (size_t)n * sizeof(nets[0]));
			l->nallowed_saved = n;
		}
		return 0;
	}
	if (!strcmp(prop, "priority")) {
		int p = VW_PRIO_MEDIUM;

		if (value) {
			for (p = 0; p < 3 && strcmp(value, prio_names[p]); p++)
				;
			if (p == 3) {
				ERR("%s: invalid priority '%s' (high, medium or low)", l->name, value);
				return -EINVAL;
			}
		}
		rc = vnic_set_priority(l, (enum vw_priority)p, err, errlen);
		if (rc)
			return rc;
		if (!temporary)
			l->priority_saved = (uint8_t)p;
		return 0;
	}
	/* mtu */
	v = 0;
	if (value && !vw_uint_parse(value, 68, 9000, &v)) {
		ERR("%s: invalid mtu '%s' (68-9000)", l->name, value);
		return -EINVAL;
	}
	rc = vnic_set_mtu(l, (unsigned)v, err, errlen);
	if (rc)
		return rc;
	if (!temporary)
		l->mtu_saved = (unsigned)v;
	return 0;
}

void linkprop_get(const struct vw_link *l, const char *prop, char *cur, char *def, char *saved, size_t len)
{
	*cur = *def = *saved = 0;
	if (l->cls == VW_CLASS_PHYS && !strcmp(prop, "maxbw")) {
		const struct vw_physprop *p = physprop_find(l->name);
		char b[32];

		snprintf(cur, len, "%s", p && p->maxbw ? vw_bw_format(p->maxbw, b) : "--");
		snprintf(def, len, "--");
		if (p && p->maxbw_saved)
			snprintf(saved, len, "%s", vw_bw_format(p->maxbw_saved, b));
		return;
	}
	if (l->cls == VW_CLASS_PHYS && !strcmp(prop, "cpus")) {
		const struct vw_physprop *p = physprop_find(l->name);

		/* "--": any worker reads the uplink */
		if (!p || vw_cpuset_empty(&p->cpus) || !vw_cpulist_format(&p->cpus, cur, len))
			snprintf(cur, len, "--");
		snprintf(def, len, "--");
		if (p && !vw_cpuset_empty(&p->cpus_saved) && !vw_cpulist_format(&p->cpus_saved, saved, len))
			*saved = 0;
		return;
	}
	if (l->cls != VW_CLASS_VNIC)
		return;
	if (!strcmp(prop, "zone")) {
		snprintf(cur, len, "%s", l->zone);
		snprintf(saved, len, "%s", l->zone_saved);
	} else if (!strcmp(prop, "maxbw")) {
		char b[32];

		snprintf(cur, len, "%s", l->maxbw ? vw_bw_format(l->maxbw, b) : "--");
		snprintf(def, len, "--");
		if (l->maxbw_saved)
			snprintf(saved, len, "%s", vw_bw_format(l->maxbw_saved, b));
	} else if (!strcmp(prop, "cpus")) {
		/* "--": every worker's CPU */
		if (vw_cpuset_empty(&l->cpus) || !vw_cpulist_format(&l->cpus, cur, len))
			snprintf(cur, len, "--");
		snprintf(def, len, "--");
		if (!vw_cpuset_empty(&l->cpus_saved) && !vw_cpulist_format(&l->cpus_saved, saved, len))
			*saved = 0;
	} else if (!strcmp(prop, "priority")) {
		snprintf(cur, len, "%s", prio_names[l->priority % 3]);
		snprintf(def, len, "medium");
		if (l->priority_saved)
			snprintf(saved, len, "%s", prio_names[l->priority_saved % 3]);
	} else if (!strcmp(prop, "protection")) {
		linkprop_protection_format(l->protect, cur, len);
		if (!*cur)
			snprintf(cur, len, "--");
		snprintf(def, len, "--");
		linkprop_protection_format(l->protect_saved, saved, len);
	} else if (!strcmp(prop, "allowed-ips")) {
		/* "--": the VNIC's own addresses */
		linkprop_allowed_format(l->allowed, l->nallowed, cur, len);
		if (!*cur)
			snprintf(cur, len, "--");
		snprintf(def, len, "--");
		linkprop_allowed_format(l->allowed_saved, l->nallowed_saved, saved, len);
	} else if (!strcmp(prop, "mtu")) {
		snprintf(cur, len, "%u", l->mtu ? l->mtu : 1500);
		snprintf(def, len, "1500");
		if (l->mtu_saved)
			snprintf(saved, len, "%u", l->mtu_saved);
	}
}

void linkprop_save(const struct vw_link *l, struct linkprop_undo *u)
{
	if (l->cls == VW_CLASS_PHYS) {
		const struct vw_physprop *p = physprop_find(l->name);

		memset(u, 0, sizeof(*u));
		u->maxbw = p ? p->maxbw : 0;
		u->maxbw_saved = p ? p->maxbw_saved : 0;
		if (p) {
			u->cpus = p->cpus;
			u->cpus_saved = p->cpus_saved;
		}
		return;
	}
	u->priority = l->priority;
	u->priority_saved = l->priority_saved;
	memcpy(u->zone, l->zone, sizeof(u->zone));
	memcpy(u->zone_saved, l->zone_saved, sizeof(u->zone_saved));
	u->mtu = l->mtu;
	u->mtu_saved = l->mtu_saved;
	u->maxbw = l->maxbw;
	u->maxbw_saved = l->maxbw_saved;
	u->cpus = l->cpus;
	u->cpus_saved = l->cpus_saved;
	u->protect = l->protect;
	u->protect_saved = l->protect_saved;
	u->nallowed = l->nallowed;
	u->nallowed_saved = l->nallowed_saved;
	memcpy(u->allowed, l->allowed, sizeof(u->allowed));
	memcpy(u->allowed_saved, l->allowed_saved, sizeof(u->allowed_saved));
}

void linkprop_undo(struct vw_link *l, const struct linkprop_undo *u)
{
	char err[256];

	if (l->cls == VW_CLASS_PHYS) {
		phys_restore_cpus(l->name, &u->cpus, &u->cpus_saved);
		phys_restore_maxbw(l->name, u->maxbw, u->maxbw_saved);
	}
	if (l->cls != VW_CLASS_VNIC)
		return;
	if (l->priority != u->priority)
		vnic_set_priority(l, (enum vw_priority)u->priority, err, sizeof(err));
	l->priority_saved = u->priority_saved;
	if (strcmp(l->zone, u->zone))
		vnic_set_zone(l, u->zone, err, sizeof(err));
	if (l->mtu != u->mtu)
		vnic_set_mtu(l, u->mtu, err, sizeof(err));
	if (memcmp(&l->cpus, &u->cpus, sizeof(l->cpus)))
		vnic_set_cpus(l, &u->cpus, err, sizeof(err));
	if (l->maxbw != u->maxbw)
		vnic_set_maxbw(l, u->maxbw, err, sizeof(err));
	if (l->protect != u->protect || l->nallowed != u->nallowed ||
	    memcmp(l->allowed, u->allowed, sizeof(l->allowed))) {
		l->protect = u->protect;
		l->nallowed = u->nallowed;
		memcpy(l->allowed, u->allowed, sizeof(l->allowed));
		vnic_protect_apply(l, err, sizeof(err));
	}
	l->protect_saved = u->protect_saved;
	l->nallowed_saved = u->nallowed_saved;
	memcpy(l->allowed_saved, u->allowed_saved, sizeof(l->allowed_saved));
	l->cpus_saved = u->cpus_saved;
	l->maxbw_saved = u->maxbw_saved;
	memcpy(l->zone_saved, u->zone_saved, sizeof(l->zone_saved));
	l->mtu_saved = u->mtu_saved;
}
