/*
 * Handlers of what observes the datapath: link statistics (vwstat), mirrors
 * and captures (control/handlers.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "control/handlers.h"
#include "datapath/port_vhost.h"
#include "datapath/shape.h"
#include "datapath/vhost.h"
#include "datapath/worker.h"
#include "objects/link.h"
#include "objects/netlink.h"
#include "observability/mirror.h"
#include "observability/capture.h"

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
		if (link_has_face(fd->links[i]) && !strcmp(fd->links[i]->name, li->name) &&
		    !strcmp(fd->links[i]->prop.zone, fd->zone))
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

static void stats_record(struct vw_buf *out, const struct vw_link *l, uint64_t face_drops)
{
	struct vw_port_stats s = { 0 };
	struct vw_shape_stats so = { 0 }, si = { 0 };
	struct vw_virtq_stats vq = { 0 };
	struct vw_vhost_ctl_stats vc = { 0 };
	struct vw_vhost *vm = link_port(l) ? vw_port_vhost_dev(link_port(l)) : NULL;
	uint64_t ip, ib, op, ob, idrops, odrops, shape_out, shape_in, c[4];

	link_port_stats(l, &s, c);
	/* a VM's face: the guest's frames its rings could not give (bad
	 * chains, too long) are dropped at the face; frames for the guest
	 * with no buffer are already in DROP_TXERR */
	if (vm) {
		vw_vhost_stats(vm, &vq, &vc);
		face_drops += vq.bad_chain + vq.too_long;
	}
	ip = c[0], ib = c[1], op = c[2], ob = c[3];
	if (link_port(l)) {
		vw_shape_stats(link_port(l), VW_SHAPE_OUT, &so);
		vw_shape_stats(link_port(l), VW_SHAPE_IN, &si);
	}
	shape_out = so.drop_codel + so.drop_limit + so.drop_nobuf + so.drop_bad;
	shape_in = si.drop_codel + si.drop_limit + si.drop_nobuf + si.drop_bad;
	idrops = s.drop_tagged + s.drop_vlan + s.drop_unknown + s.drop_runt + s.drop_nobuf + face_drops + shape_out +
		 s.drop_restricted + s.drop_macspoof + s.drop_ipspoof + s.drop_dhcpspoof + s.drop_mtu;
	odrops = s.drop_txerr + shape_in;
	vw_buf_kv(out, "record", "stats");
	vw_buf_kv(out, "link", "%s", l->name);
	vw_buf_kv(out, "class", "%s", l->cls->name);
	vw_buf_kv(out, "over", "%s", l->over ? l->over->name : "");
	vw_buf_kv(out, "zone", "%s", l->prop.zone);
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
	/* of IPKTS and OPKTS, what the kernel fast path switched; a link with
	 * a face received what the switch delivered to it */
	vw_buf_kv(out, "fast_ipkts", "%lu", l->cls->has_face ? s.fast_tx_pkts : s.fast_rx_pkts);
	vw_buf_kv(out, "fast_opkts", "%lu", l->cls->has_face ? s.fast_rx_pkts : s.fast_tx_pkts);
	/* a VM's vhost-user device (0 for other links) */
	vw_buf_kv(out, "vm_calls", "%lu", vq.calls);
	vw_buf_kv(out, "vm_noroom", "%lu", vq.no_room);
	vw_buf_kv(out, "vm_badframes", "%lu", vq.bad_chain + vq.too_long);
	vw_buf_kv(out, "vm_connects", "%lu", vc.connects);
	vw_buf_kv(out, "vm_errors", "%lu", vc.errors);
}

int do_stats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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
		stats_record(out, links[k], drops ? drops[k] : 0);
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
		vw_buf_kv(out, "yields", "%lu", ws.yields);
		vw_buf_kv(out, "batches", "%lu", ws.batches);
		vw_buf_kv(out, "pkts", "%lu", ws.pkts);
	}
	return 0;
}

/* ---- mirrors ---- */

int do_create_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return mirror_create(c->operand[0], vw_cmd_opt(c, 'l'), vw_cmd_opt(c, 'd'), vw_cmd_opt(c, 'f'),
			     vw_cmd_opt(c, 't'), err, errlen);
}

int do_delete_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return mirror_delete(c->operand[0], err, errlen);
}

int do_show_mirror(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	return mirror_show(c->operand, c->noperand, out, err, errlen);
}

/* ---- capture (observability/capture.c) ---- */

int do_snoop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return capture_snoop(c, err, errlen);
}
