/*
 * Handlers of the VNM commands (SPEC §4: create-vnm, delete-vnm, show-vnm
 * [-x], set-vnmprop, reset-vnmprop); the VNMs themselves: objects/vnm.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "control/handlers.h"
#include "objects/vnm.h"
#include "observability/loop.h"

int do_create_vnm(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *props[VW_CMD_MAXOPT];
	int np = vw_cmd_optall(c, 'p', props, VW_CMD_MAXOPT);

	static bool checking;
	int rc;

	(void)out;
	rc = vnm_create(c->operand[0], vw_cmd_opt(c, 'T'), vw_cmd_opt(c, 'l'), props, np, vw_cmd_opt(c, 't') != NULL,
			err, errlen);
	/* the lb's health check runs on the loop from the first VNM on */
	if (!rc && !checking && vnm_health_fd() >= 0)
		checking = loop_add_poll(vnm_health_fd(), vnm_health_tick, NULL) == 0;
	return rc;
}

int do_delete_vnm(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return vnm_delete(c->operand[0], err, errlen);
}

int do_set_vnmprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *props[VW_CMD_MAXOPT];
	int np = vw_cmd_optall(c, 'p', props, VW_CMD_MAXOPT);

	(void)out;
	return vnm_setprop(c->operand[0], props, np, false, err, errlen);
}

int do_reset_vnmprop(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *props[VW_CMD_MAXOPT];
	int np = vw_cmd_optall(c, 'p', props, VW_CMD_MAXOPT);

	(void)out;
	return vnm_setprop(c->operand[0], props, np, true, err, errlen);
}

static bool vnm_exists(const char *n)
{
	return vnm_find(n) != NULL;
}

static void elem(struct vw_buf *out, struct vnm *v, const char *listing, const char *element, const char *what,
		 const char *state, const char *key)
{
	uint64_t p = 0, b = 0;

	vw_buf_kv(out, "record", "vnmelem");
	vw_buf_kv(out, "vnm", "%s", v->name);
	vw_buf_kv(out, "element", "%s", element);
	vw_buf_kv(out, "what", "%s", what);
	vw_buf_kv(out, "state", "%s", state);
	if (!key) {
		vw_buf_kv(out, "pkts", "-");
		vw_buf_kv(out, "bytes", "-");
		return;
	}
	vnm_counts(v, listing, key, &p, &b);
	vw_buf_kv(out, "pkts", "%llu", (unsigned long long)p);
	vw_buf_kv(out, "bytes", "%llu", (unsigned long long)b);
}

/* show-vnm -x: a row per route, NAT, backend and rule, with counters */
static void show_elements(struct vw_buf *out, struct vnm *v)
{
	char *listing = vnm_table_list(v), w[256], k[32], d[64], g[64];
	const struct vnm_props *p = &v->p;
	int i;

	for (i = 0; i < p->nroutes; i++) {
		const struct vnm_route *r = &p->routes[i];

		inet_ntop(r->gw.family, &r->gw.addr, g, sizeof(g));
		snprintf(w, sizeof(w), "%s@%s", r->dst.plen ? vw_prefix_format(&r->dst, d) : "default", g);
		elem(out, v, listing, "route", w, vnm_route_present(v, r) ? "ok" : "missing", NULL);
	}
	switch (v->type) {
	case VNM_NAT:
		snprintf(w, sizeof(w), "%s>%s masquerade", p->inside, p->outside);
		elem(out, v, listing, "nat", w, "active", "nat:out");
		snprintf(w, sizeof(w), "%s>%s new dropped", p->outside, p->inside);
		elem(out, v, listing, "nat", w, "active", "nat:in");
		break;
	case VNM_LB:
		snprintf(w, sizeof(w), "vip %s dnat %s", vnm_ep_format(&p->vip, d, sizeof(d)),
			 p->algo == VNM_HASH ? "hash" : "rr");
		elem(out, v, listing, "nat", w, "active", "nat:vip");
		elem(out, v, listing, "nat", "masquerade to backends", "active", "nat:snat");
		elem(out, v, listing, "nat", "refused (no backend up)", "active", "nat:refused");
		for (i = 0; i < p->nbackends; i++) {
			snprintf(k, sizeof(k), "backend:%d", i);
			elem(out, v, listing, "backend", vnm_ep_format(&p->backends[i], w, sizeof(w)),
			     v->hc[i].up ? "up" : "down", k);
		}
		break;
	case VNM_FIREWALL:
		for (i = 0; i < p->nrules; i++) {
			snprintf(k, sizeof(k), "rule:%d", i);
			snprintf(w, sizeof(w), "%s %s", p->rules[i].deny ? "deny" : "allow", p->rules[i].text);
			elem(out, v, listing, "rule", w, "active", k);
		}
		elem(out, v, listing, "rule", p->policy_allow ? "policy allow" : "policy deny", "active", "policy");
		break;
	default:
		break;
	}
	free(listing);
}

int do_show_vnm(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	int rc = check_operands(c, vnm_exists, "VNM", err, errlen);
	bool x = vw_cmd_opt(c, 'x') != NULL;
	struct vnm *v;

	if (rc)
		return rc;
	for (v = vw_vnms; v; v = v->next) {
		char links[VNM_MAX_LINKS * (VW_LINKNAME_MAX + 1)] = "", props[8192];
		int i;

		if (!in_operands(c, v->name))
			continue;
		if (x) {
			show_elements(out, v);
			continue;
		}
		for (i = 0; i < v->nlinks; i++)
			snprintf(links + strlen(links), sizeof(links) - strlen(links), "%s%s", i ? "," : "", v->links[i]);
		vnm_props_format(&v->p, props, sizeof(props));
		vw_buf_kv(out, "record", "vnm");
		vw_buf_kv(out, "vnm", "%s", v->name);
		vw_buf_kv(out, "type", "%s", vnm_type_name(v->type));
		vw_buf_kv(out, "zone", "%s", v->name);
		vw_buf_kv(out, "links", "%s", links);
		vw_buf_kv(out, "props", "%s", props[0] ? props + 4 : "");
		vw_buf_kv(out, "state", "%s", v->state);
	}
	return 0;
}
