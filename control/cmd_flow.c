/*
 * Handlers of the flow commands and flow statistics (control/handlers.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "control/handlers.h"
#include "objects/flow.h"
#include "objects/link.h"

/* ---- flows ---- */

int do_add_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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

int do_remove_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	bool temporary = vw_cmd_opt(c, 't') != NULL;

	(void)out;
	if (c->noperand)
		return flow_remove(c->operand[0], temporary, err, errlen);
	return flow_remove_link(vw_cmd_opt(c, 'l'), temporary, err, errlen);
}

int do_set_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int n = vw_cmd_optall(c, 'p', lists, VW_CMD_MAXOPT);

	(void)out;
	return flowprop_set(c->operand[0], lists, n, vw_cmd_opt(c, 't') != NULL, err, errlen);
}

int do_reset_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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

int do_show_flow(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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

int do_show_flowprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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

int do_flowstats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
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
