/*
 * The link objects' part of the persistent state (control/persist.c): zones,
 * etherstubs, phys links' properties, VNICs and their addresses, as vWire
 * lines (SPEC §5), in the order they are replayed.
 */
#include <stdio.h>

#include "objects/link.h"

void links_export(struct vw_buf *out)
{
	struct vw_physprop *p;
	struct vw_zone *z;
	struct vw_link *l;
	char mac[18], a[64];
	int i;

	for (z = vw_zones; z; z = z->next)
		vw_buf_printf(out, "create-zone %s\n", z->name);
	for (l = vw_links; l; l = l->next)
		if (l->cls == VW_CLASS_ETHERSTUB && !l->temporary)
			vw_buf_printf(out, "create-etherstub %s\n", l->name);
	/* phys links' properties, kept whether attached or not: before the
	 * VNICs, so their first VNIC attaches the phys shaped already */
	for (p = vw_physprops; p; p = p->next) {
		const char *sep = " -p ";
		char b[32], c[512];

		if (!p->maxbw_saved && vw_cpuset_empty(&p->cpus_saved))
			continue;
		vw_buf_printf(out, "set-linkprop");
		if (p->maxbw_saved) {
			vw_buf_printf(out, "%smaxbw=%s", sep, vw_bw_format(p->maxbw_saved, b));
			sep = ",";
		}
		/* last: its value has commas of its own */
		if (!vw_cpuset_empty(&p->cpus_saved) && vw_cpulist_format(&p->cpus_saved, c, sizeof(c)))
			vw_buf_printf(out, "%scpus=%s", sep, c);
		vw_buf_printf(out, " %s\n", p->name);
	}
	for (l = vw_links; l; l = l->next) {
		const char *sep = " -p ";

		if (l->cls != VW_CLASS_VNIC || l->temporary)
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
		if (l->zone_saved[0]) {
			vw_buf_printf(out, "%szone=%s", sep, l->zone_saved);
			sep = ",";
		}
		if (l->mtu_saved) {
			vw_buf_printf(out, "%smtu=%u", sep, l->mtu_saved);
			sep = ",";
		}
		if (l->maxbw_saved) {
			char b[32];

			vw_buf_printf(out, "%smaxbw=%s", sep, vw_bw_format(l->maxbw_saved, b));
			sep = ",";
		}
		if (l->priority_saved) {
			vw_buf_printf(out, "%spriority=%s", sep, l->priority_saved == VW_PRIO_HIGH ? "high" : "low");
			sep = ",";
		}
		linkprop_protect_export(l, out, &sep);
		if (!vw_cpuset_empty(&l->cpus_saved)) {
			char c[512];

			/* last: its value has commas of its own */
			if (vw_cpulist_format(&l->cpus_saved, c, sizeof(c)))
				vw_buf_printf(out, "%scpus=%s", sep, c);
		}
		vw_buf_printf(out, " %s\n", l->name);
		for (i = 0; i < l->naddr; i++)
			vw_buf_printf(out, "create-addr -a %s %s\n", vw_prefix_format(&l->addrs[i].p, a), l->name);
	}
}
