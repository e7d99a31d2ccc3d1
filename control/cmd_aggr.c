/*
 * Handlers of the aggregation commands (SPEC §4: create-aggr, add-aggr,
 * remove-aggr, modify-aggr, delete-aggr, show-aggr [-x|-L]) and of vwstat
 * show-aggr (aggrstats); the aggregations themselves: objects/aggr.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/handlers.h"
#include "objects/aggr.h"

static int aggr_opts(const struct vw_cmd *c, const char *name, int *policy, int *mode, int *timer, char *err,
		     size_t errlen)
{
	const char *p = vw_cmd_opt(c, 'P'), *L = vw_cmd_opt(c, 'L'), *T = vw_cmd_opt(c, 'T');
	unsigned pol;

	if (p && aggr_policy_parse(p, &pol)) {
		ERR("%s: invalid policy '%s' (L2, L3, L4 or a list of them, as L3,L4)", name, p);
		return -EINVAL;
	}
	if (L && aggr_mode_parse(L, mode)) {
		ERR("%s: invalid LACP mode '%s' (off, active or passive)", name, L);
		return -EINVAL;
	}
	if (T && aggr_timer_parse(T, timer)) {
		ERR("%s: invalid LACP timer '%s' (short or long)", name, T);
		return -EINVAL;
	}
	if (p)
		*policy = (int)pol;
	return 0;
}

/* The -l values, each one link (a comma-separated list is taken too) */
static int aggr_links(const struct vw_cmd *c, const char *name, char *buf, size_t buflen, const char **links,
		      unsigned *n, char *err, size_t errlen)
{
	const char *lists[VW_CMD_MAXOPT];
	int nl = vw_cmd_optall(c, 'l', lists, VW_CMD_MAXOPT), i;
	size_t used = 0;

	*n = 0;
	for (i = 0; i < nl; i++) {
		size_t len = strlen(lists[i]) + 1;
		char *tok, *save = NULL;

		if (used + len > buflen) {
			ERR("%s: too many links", name);
			return -EINVAL;
		}
		memcpy(buf + used, lists[i], len);
		for (tok = strtok_r(buf + used, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (*n == VW_AGGR_MAX) {
				ERR("%s: at most %d links in an aggregation", name, VW_AGGR_MAX);
				return -EINVAL;
			}
			links[(*n)++] = tok;
		}
		used += len;
	}
	if (!*n) {
		ERR("%s: no link named (-l LINK)", name);
		return -EINVAL;
	}
	return 0;
}

int do_create_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct aggr_spec s = { .name = c->operand[0], .policy = VW_AGGR_L4, .mode = LACP_OFF, .timer = LACP_SHORT };
	int policy = VW_AGGR_L4, mode = LACP_OFF, timer = LACP_SHORT, rc;
	char buf[512];

	(void)out;
	if ((rc = aggr_opts(c, s.name, &policy, &mode, &timer, err, errlen)) ||
	    (rc = aggr_links(c, s.name, buf, sizeof(buf), s.members, &s.nmembers, err, errlen)))
		return rc;
	s.policy = (unsigned)policy;
	s.mode = (enum lacp_mode)mode;
	s.timer = (enum lacp_timer)timer;
	s.temporary = vw_cmd_opt(c, 't') != NULL;
	return aggr_create(&s, err, errlen);
}

/* add-aggr and remove-aggr: the -l links, then fn on them */
static int members_change(const struct vw_cmd *c, char *err, size_t errlen,
			  int (*fn)(const char *, const char *const *, unsigned, bool, char *, size_t))
{
	const char *links[VW_AGGR_MAX];
	unsigned n;
	char buf[512];
	int rc = aggr_links(c, c->operand[0], buf, sizeof(buf), links, &n, err, errlen);

	return rc ? rc : fn(c->operand[0], links, n, vw_cmd_opt(c, 't') != NULL, err, errlen);
}

int do_add_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return members_change(c, err, errlen, aggr_add);
}

int do_remove_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return members_change(c, err, errlen, aggr_remove);
}

int do_modify_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	int policy = 0, mode = -1, timer = -1, rc;

	(void)out;
	if ((rc = aggr_opts(c, c->operand[0], &policy, &mode, &timer, err, errlen)))
		return rc;
	if (!policy && mode < 0 && timer < 0) {
		ERR("%s: nothing to modify (-P, -L or -T)", c->operand[0]);
		return -EINVAL;
	}
	return aggr_modify(c->operand[0], policy, mode, timer, vw_cmd_opt(c, 't') != NULL, err, errlen);
}

int do_delete_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return aggr_delete(c->operand[0], err, errlen);
}

static bool aggr_exists(const char *n)
{
	struct vw_link *l = link_find(n);

	return l && aggr_is(l);
}

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

static void mac_kv(struct vw_buf *out, const char *key, const uint8_t mac[6])
{
	vw_buf_kv(out, key, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* show-aggr: one record per aggregation; -x: per member; -L: per member's LACP */
int do_show_aggr(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	bool x = vw_cmd_opt(c, 'x') != NULL, L = vw_cmd_opt(c, 'L') != NULL;
	int rc = check_operands(c, aggr_exists, "aggregation", err, errlen);
	struct vw_link *l;

	if (rc)
		return rc;
	if (x && L) {
		ERR("show-aggr: -x and -L cannot be used together");
		return -EINVAL;
	}
	for (l = vw_links; l; l = l->next) {
		struct aggr_info ai;
		char pol[16], members[VW_AGGR_MAX * 17] = "";
		unsigned i;

		if (!aggr_is(l) || !in_operands(c, l->name))
			continue;
		aggr_info(l, &ai);
		if (!x && !L) {
			for (i = 0; i < ai.nports; i++)
				snprintf(members + strlen(members), sizeof(members) - strlen(members), "%s%s",
					 i ? "," : "", ai.ports[i].name);
			vw_buf_kv(out, "record", "aggr");
			vw_buf_kv(out, "link", "%s", l->name);
			vw_buf_kv(out, "policy", "%s", aggr_policy_format(ai.policy, pol, sizeof(pol)));
			vw_buf_kv(out, "lacpactivity", "%s", ai.mode);
			vw_buf_kv(out, "lacptimer", "%s", ai.timer);
			vw_buf_kv(out, "ports", "%s", members);
			vw_buf_kv(out, "state", "%s", ai.up ? "up" : "down");
			vw_buf_kv(out, "vnics", "%u", l->nvnics);
			continue;
		}
		for (i = 0; i < ai.nports; i++) {
			const struct aggr_port_info *p = &ai.ports[i];

			vw_buf_kv(out, "record", x ? "aggrport" : "aggrlacp");
			vw_buf_kv(out, "link", "%s", l->name);
			vw_buf_kv(out, "port", "%s", p->name);
			if (x) {
				vw_buf_kv(out, "state", "%s", p->carrier ? "up" : "down");
				mac_kv(out, "address", p->mac);
				vw_buf_kv(out, "portstate", "%s",
					  p->distributing ? "attached" : p->carrier ? "standby" : "down");
				continue;
			}
			vw_buf_kv(out, "aggregatable", "%s", yesno(p->lacp.actor.state & LACP_STATE_AGGREGATION));
			vw_buf_kv(out, "sync", "%s", yesno(p->lacp.actor.state & LACP_STATE_SYNC));
			vw_buf_kv(out, "coll", "%s", yesno(p->lacp.actor.state & LACP_STATE_COLLECTING));
			vw_buf_kv(out, "dist", "%s", yesno(p->lacp.actor.state & LACP_STATE_DISTRIBUTING));
			vw_buf_kv(out, "defaulted", "%s", yesno(p->lacp.actor.state & LACP_STATE_DEFAULTED));
			vw_buf_kv(out, "expired", "%s", yesno(p->lacp.actor.state & LACP_STATE_EXPIRED));
			vw_buf_kv(out, "selected", "%s", yesno(p->lacp.selected));
			vw_buf_kv(out, "rxstate", "%s", p->lacp.rx_state ? p->lacp.rx_state : "");
			vw_buf_kv(out, "muxstate", "%s", p->lacp.mux_state ? p->lacp.mux_state : "");
			vw_buf_kv(out, "actorstate", "0x%02x", p->lacp.actor.state);
			vw_buf_kv(out, "partnerstate", "0x%02x", p->lacp.partner.state);
			mac_kv(out, "partnersystem", p->lacp.partner.sys_mac);
			vw_buf_kv(out, "partnerkey", "%u", p->lacp.partner.key);
			vw_buf_kv(out, "partnerport", "%u", p->lacp.partner.port_no);
		}
	}
	return 0;
}

/* vwstat show-aggr: every member's counters */
int do_aggrstats(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	int rc = check_operands(c, aggr_exists, "aggregation", err, errlen);
	struct vw_link *l;

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		struct aggr_info ai;
		unsigned i;

		if (!aggr_is(l) || !in_operands(c, l->name))
			continue;
		aggr_info(l, &ai);
		for (i = 0; i < ai.nports; i++) {
			const struct aggr_port_info *p = &ai.ports[i];

			vw_buf_kv(out, "record", "aggrstat");
			vw_buf_kv(out, "link", "%s", l->name);
			vw_buf_kv(out, "port", "%s", p->name);
			vw_buf_kv(out, "ipkts", "%llu", (unsigned long long)p->st.rx_pkts);
			vw_buf_kv(out, "rbytes", "%llu", (unsigned long long)p->st.rx_bytes);
			vw_buf_kv(out, "opkts", "%llu", (unsigned long long)p->st.tx_pkts);
			vw_buf_kv(out, "obytes", "%llu", (unsigned long long)p->st.tx_bytes);
			vw_buf_kv(out, "idrops", "%llu", (unsigned long long)p->st.drop_notcoll);
			vw_buf_kv(out, "odrops", "%llu", (unsigned long long)p->st.drop_txerr);
			vw_buf_kv(out, "lacp_in", "%llu", (unsigned long long)p->lacp.rx_lacpdu);
			vw_buf_kv(out, "lacp_out", "%llu", (unsigned long long)p->lacp.tx_lacpdu);
			vw_buf_kv(out, "marker_in", "%llu", (unsigned long long)p->lacp.rx_marker);
			vw_buf_kv(out, "malformed", "%llu", (unsigned long long)p->lacp.rx_malformed);
		}
	}
	return 0;
}
