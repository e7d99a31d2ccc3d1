/*
 * Etherstubs: a virtual switch with no port of its own, for VNICs to talk
 * to each other (a link class, objects/link.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/linkclass.h"

extern const struct vw_link_class etherstub_class;

bool etherstub_is(const struct vw_link *l)
{
	return l->cls == &etherstub_class;
}

int etherstub_create(const char *name, bool temporary, char *err, size_t errlen)
{
	struct vw_link *l;
	int rc = link_check_name(name, err, errlen);

	if (rc)
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->sw = vw_switch_new(name))) {
		free(l);
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	strcpy(l->name, name);
	l->cls = &etherstub_class;
	l->temporary = temporary;
	link_insert(l);
	return 0;
}

static void etherstub_destroy(struct vw_link *l)
{
	link_notify(l, NULL, VW_LINK_DELETED);
	link_unlink(l);
	vw_switch_free(l->sw);
	free(l);
}

int etherstub_delete(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name);

	if (!l || !etherstub_is(l)) {
		ERR("%s: no such etherstub", name);
		return -ENOENT;
	}
	if (l->nvnics) {
		ERR("%s: etherstub has %u VNIC%s; delete them first", name, l->nvnics, l->nvnics == 1 ? "" : "s");
		return -EBUSY;
	}
	etherstub_destroy(l);
	return 0;
}

static void etherstub_state(const struct vw_link *l, unsigned *mtu, const char **state)
{
	(void)l;
	*mtu = 9000;
	*state = "unknown";
}

/* Its switch's ports: what its VNICs sent and were sent. */
static void etherstub_counters(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4])
{
	unsigned i;

	for (i = 0; i < l->sw->nports; i++)
		link_stats_add(s, l->sw->ports[i]);
	c[0] = s->rx_pkts, c[1] = s->rx_bytes, c[2] = s->tx_pkts, c[3] = s->tx_bytes;
}

static void etherstub_export(struct vw_buf *out)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		if (etherstub_is(l) && !l->temporary)
			vw_buf_printf(out, "create-etherstub %s\n", l->name);
}

const struct vw_link_class etherstub_class = {
	.name = "etherstub",
	.configured = true,
	.portless = true,
	.state = etherstub_state,
	.counters = etherstub_counters,
	.destroy = etherstub_destroy,
	.export = etherstub_export,
};
