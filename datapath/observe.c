/* Observation points on a port (datapath/observe.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "datapath/fastpath.h"
#include "datapath/observe.h"
#include "datapath/rcu.h"

unsigned vw_obs_ports;

void vw_obs_run(struct vw_port *port, int w, unsigned dir, struct vw_pkt **pkts, int n, bool tagged)
{
	const struct vw_obs_set *set = vw_rcu_deref(&port->obs);
	unsigned i;

	/* w < 0: the control thread flushing a shaper it removes; its frames
	 * go unobserved rather than into a worker's state */
	if (!set || !(set->dir & dir) || w < 0 || w >= VW_MAX_WORKERS)
		return;
	for (i = 0; i < set->n; i++) {
		struct vw_obs *o = set->obs[i];

		if (o->dir & dir)
			o->fn(o, w, port, dir, pkts, n, tagged);
	}
}

unsigned vw_obs_count(const struct vw_port *port)
{
	return port->obs ? port->obs->n : 0;
}

/* Publishes a set made of the old one plus add, minus del. */
static int obs_replace(struct vw_port *port, struct vw_obs *add, struct vw_obs *del)
{
	struct vw_obs_set *old = port->obs, *set = NULL;
	unsigned n = old ? old->n : 0, i, m = 0;

	if (n + (add != NULL) - (del != NULL) > 0) {
		set = calloc(1, sizeof(*set) + (n + 1) * sizeof(set->obs[0]));
		if (!set)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			if (old->obs[i] != del) {
				set->obs[m++] = old->obs[i];
				set->dir |= old->obs[i]->dir;
			}
		if (add) {
			set->obs[m++] = add;
			set->dir |= add->dir;
		}
		set->n = m;
	}
	vw_rcu_publish(&port->obs, set);
	vw_fast_port_sync(port); /* an observed port takes the slow path */
	if (!old && set)
		__atomic_add_fetch(&vw_obs_ports, 1, __ATOMIC_RELEASE);
	else if (old && !set)
		__atomic_sub_fetch(&vw_obs_ports, 1, __ATOMIC_RELEASE);
	if (old) {
		vw_rcu_synchronize();
		free(old);
	}
	return 0;
}

static bool obs_has(const struct vw_port *port, const struct vw_obs *obs)
{
	unsigned i;

	for (i = 0; port->obs && i < port->obs->n; i++)
		if (port->obs->obs[i] == obs)
			return true;
	return false;
}

int vw_obs_add(struct vw_port *port, struct vw_obs *obs)
{
	if (obs_has(port, obs))
		return -EEXIST;
	return obs_replace(port, obs, NULL);
}

int vw_obs_del(struct vw_port *port, struct vw_obs *obs)
{
	if (!obs_has(port, obs))
		return -ENOENT;
	return obs_replace(port, NULL, obs);
}

uint32_t vw_obs_copy(const struct vw_pkt *pkt, bool tagged, uint8_t *buf, uint32_t room)
{
	uint32_t len = vw_obs_len(pkt, tagged), n = len < room ? len : room;

	if (len == pkt->len) {
		memcpy(buf, pkt->data, n);
		return len;
	}
	/* dst and src MACs, the tag, then the rest */
	{
		uint8_t hdr[16];
		uint32_t h = n < 16 ? n : 16;

		memcpy(hdr, pkt->data, 12);
		hdr[12] = 0x81;
		hdr[13] = 0x00;
		hdr[14] = (uint8_t)(pkt->vid >> 8 & 0x0f);
		hdr[15] = (uint8_t)pkt->vid;
		memcpy(buf, hdr, h);
		if (n > 16)
			memcpy(buf + 16, pkt->data + 12, n - 16);
	}
	return len;
}
