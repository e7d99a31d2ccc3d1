#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "datapath/fastpath.h"
#include "datapath/port.h"
#include "datapath/vswitch.h"

__thread int vw_worker_self = -1;

void vw_port_stats_sum(const struct vw_port *port, struct vw_port_stats *sum)
{
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)sum;
	size_t i, nf = offsetof(struct vw_port_stats, drop_txerr) / sizeof(uint64_t) + 1;
	int w;

	memset(sum, 0, sizeof(*sum));
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		src = (const uint64_t *)&port->stats[w];
		for (i = 0; i < nf; i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
	vw_switch_stats_add(port, sum);
	vw_fast_stats_add(port, sum);
}

int vw_port_steer(struct vw_port *port, int q)
{
	if (port->nq <= 1)
		return 0;
	return port->ops->steer ? port->ops->steer(port, q) : -EINVAL;
}

void vw_port_destroy(struct vw_port *port)
{
	if (!port)
		return;
	free(port->prot); /* no worker holds it: the port is gone from all */
	if (port->ops && port->ops->close)
		port->ops->close(port);
	else if (port->fd >= 0)
		close(port->fd);
	free(port);
}

int vw_port_tx_hooked(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	return vw_port_tx(port, pkts, n, tag);
}

void vw_port_hook_set(struct vw_port *port, int dir, struct vw_port_hook *h)
{
	__atomic_store_n(&port->hook[dir], h, __ATOMIC_RELEASE);
	if (dir == VW_HOOK_TX)
		vw_switch_port_tx_changed(port);
	vw_fast_port_sync(port); /* a hooked port's frames take the slow path */
}
