/*
 * Handlers of the tunnel commands (SPEC §4: create-tunnel, delete-tunnel,
 * show-tunnel [-x]); the tunnels themselves: objects/tunnel.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "control/handlers.h"
#include "objects/tunnel.h"
#include "objects/vxlan.h"

int do_create_tunnel(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *attrs[VW_CMD_MAXOPT], *props[VW_CMD_MAXOPT];
	int na = vw_cmd_optall(c, 'a', attrs, VW_CMD_MAXOPT), np = vw_cmd_optall(c, 'p', props, VW_CMD_MAXOPT), rc;
	struct tunnel_spec s;

	(void)out;
	rc = tunnel_spec_parse(c->operand[0], vw_cmd_opt(c, 'T'), attrs, na, props, np, &s, err, errlen);
	if (rc)
		return rc;
	s.temporary = vw_cmd_opt(c, 't') != NULL;
	return tunnel_create(&s, err, errlen);
}

int do_delete_tunnel(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)out;
	return tunnel_delete(c->operand[0], err, errlen);
}

static bool tunnel_exists(const char *n)
{
	struct vw_link *l = link_find(n);

	return l && tunnel_is(l);
}

struct fdb_out {
	struct vw_buf *out;
	const char *link;
};

static int fdb_one(const struct vxlan_fdb *e, void *arg)
{
	struct fdb_out *fo = arg;
	char ab[64];
	static const uint8_t zero[6];

	vw_buf_kv(fo->out, "record", "tunnelfdb");
	vw_buf_kv(fo->out, "link", "%s", fo->link);
	vw_buf_kv(fo->out, "macaddress", "%s",
		  memcmp(e->mac, zero, 6) ? vw_mac_format(e->mac, (char[18]){ 0 }) : "flood");
	vw_buf_kv(fo->out, "remote", "%s", tunnel_addr_format(&e->remote, ab));
	vw_buf_kv(fo->out, "type", "%s", e->permanent ? "static" : "learned");
	vw_buf_kv(fo->out, "idle", "%u", e->idle_s);
	return 0;
}

static int count_learned(const struct vxlan_fdb *e, void *arg)
{
	*(int *)arg += !e->permanent;
	return 0;
}

/* show-tunnel: one record per tunnel; -x: its forwarding table (the static
 * remotes, "flood", and what it learned) */
int do_show_tunnel(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	int rc = check_operands(c, tunnel_exists, "tunnel", err, errlen);
	bool x = vw_cmd_opt(c, 'x') != NULL;
	struct vw_link *l;

	if (rc)
		return rc;
	for (l = vw_links; l; l = l->next) {
		char ab[64], remotes[TUNNEL_MAX_REMOTES * 48] = "";
		struct tunnel_info ti;
		int learned = 0;
		unsigned i;

		if (!tunnel_is(l) || !in_operands(c, l->name))
			continue;
		tunnel_info(l, &ti);
		if (x) {
			struct fdb_out fo = { out, l->name };

			if ((rc = vxlan_fdb_walk(ti.ifindex, fdb_one, &fo)) < 0) {
				ERR("%s: cannot read its forwarding table: %s", l->name, strerror(-rc));
				return rc;
			}
			continue;
		}
		for (i = 0; i < ti.nremotes; i++)
			snprintf(remotes + strlen(remotes), sizeof(remotes) - strlen(remotes), "%s%s", i ? "," : "",
				 tunnel_addr_format(&ti.remotes[i], ab));
		vw_buf_kv(out, "record", "tunnel");
		vw_buf_kv(out, "link", "%s", l->name);
		vw_buf_kv(out, "type", "vxlan");
		vw_buf_kv(out, "vni", "%u", ti.vni);
		vw_buf_kv(out, "local", "%s", tunnel_addr_format(&ti.local, ab));
		vw_buf_kv(out, "dstport", "%u", ti.port);
		vw_buf_kv(out, "remotes", "%s", remotes);
		vw_buf_kv(out, "mtu", "%u", ti.mtu);
		vw_buf_kv(out, "underlay", "%s", ti.underlay);
		vw_buf_kv(out, "vnics", "%u", l->nvnics);
		vw_buf_kv(out, "learned", "%d", vxlan_fdb_walk(ti.ifindex, count_learned, &learned) < 0 ? -1 : learned);
	}
	return 0;
}
