/*
 * A link's counters, from its ports' (objects/counters.h).
 */
#include <stddef.h>

#include "objects/counters.h"
#include "objects/link.h"

static void stats_add(struct vw_port_stats *sum, const struct vw_port *p)
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
