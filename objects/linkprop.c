/*
 * Link properties (SPEC §4).  Properties that later work will bring are
 * listed so that setting one is refused by name rather than accepted and
 * ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "objects/link.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

static const struct vw_propdef props[] = {
	{ "zone", true, "--" },
	{ "mtu", true, "68-9000" },
	{ "maxbw", true, "--" },
	{ "priority", false, "high,medium,low" },
	{ "cpus", true, "--" },
	{ "protection", false, "mac-nospoof,ip-nospoof,dhcp-nospoof,restricted" },
	{ "allowed-ips", false, "--" },
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

const char *const linkprop_lists[] = { "cpus", NULL };

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
	if (l->cls != VW_CLASS_VNIC) {
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
	} else if (!strcmp(prop, "mtu")) {
		snprintf(cur, len, "%u", l->mtu ? l->mtu : 1500);
		snprintf(def, len, "1500");
		if (l->mtu_saved)
			snprintf(saved, len, "%u", l->mtu_saved);
	}
}

void linkprop_save(const struct vw_link *l, struct linkprop_undo *u)
{
	memcpy(u->zone, l->zone, sizeof(u->zone));
	memcpy(u->zone_saved, l->zone_saved, sizeof(u->zone_saved));
	u->mtu = l->mtu;
	u->mtu_saved = l->mtu_saved;
	u->maxbw = l->maxbw;
	u->maxbw_saved = l->maxbw_saved;
	u->cpus = l->cpus;
	u->cpus_saved = l->cpus_saved;
}

void linkprop_undo(struct vw_link *l, const struct linkprop_undo *u)
{
	char err[256];

	if (l->cls != VW_CLASS_VNIC)
		return;
	if (strcmp(l->zone, u->zone))
		vnic_set_zone(l, u->zone, err, sizeof(err));
	if (l->mtu != u->mtu)
		vnic_set_mtu(l, u->mtu, err, sizeof(err));
	if (memcmp(&l->cpus, &u->cpus, sizeof(l->cpus)))
		vnic_set_cpus(l, &u->cpus, err, sizeof(err));
	if (l->maxbw != u->maxbw)
		vnic_set_maxbw(l, u->maxbw, err, sizeof(err));
	l->cpus_saved = u->cpus_saved;
	l->maxbw_saved = u->maxbw_saved;
	memcpy(l->zone_saved, u->zone_saved, sizeof(l->zone_saved));
	l->mtu_saved = u->mtu_saved;
}
