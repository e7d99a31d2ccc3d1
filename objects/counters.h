/*
 * A link's counters as `vwstat` shows them, summed from its ports: a VNIC's
 * port (what it received is what the switch delivered to it), a phys link's
 * uplink, an etherstub's uplink and every port of its switch.
 */
#ifndef VW_COUNTERS_H
#define VW_COUNTERS_H

#include <stdint.h>
#include "datapath/port.h"

struct vw_link;

/* The port counters, summed into s, and IPKTS, RBYTES, OPKTS, OBYTES in c. */
void link_port_stats(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4]);
/* IPKTS, RBYTES, OPKTS, OBYTES only: what accounting samples. */
void link_counters(const struct vw_link *l, uint64_t c[4]);

#endif
