/*
 * Command dispatch: finds a command's handler (control/handlers.h), runs it,
 * saves the persistent state after a change and writes the verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "control/apply.h"
#include "control/ctl.h"
#include "control/handlers.h"
#include "control/persist.h"
#include "objects/link.h"
#include "observability/accounting.h"
#include "observability/ipfix.h"

bool in_operands(const struct vw_cmd *c, const char *name)
{
	int i;

	if (!c->noperand)
		return true;
	for (i = 0; i < c->noperand; i++)
		if (!strcmp(c->operand[i], name))
			return true;
	return false;
}

/* Every operand of a show command must name something that exists. */
int check_operands(const struct vw_cmd *c, bool (*exists)(const char *), const char *what, char *err,
			  size_t errlen)
{
	int i;

	for (i = 0; i < c->noperand; i++)
		if (!exists(c->operand[i])) {
			ERR("%s: no such %s", c->operand[i], what);
			return -ENOENT;
		}
	return 0;
}

bool link_exists(const char *n)
{
	return link_find(n) != NULL;
}

/* ---- export and statistics ---- */

int do_export(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_buf b = { 0 };
	char *line, *save = NULL;

	(void)c;
	state_export(&b);
	if (b.oom) {
		vw_buf_free(&b);
		ERR("export: out of memory");
		return -ENOMEM;
	}
	for (line = b.p ? strtok_r(b.p, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		vw_buf_kv(out, "record", "line");
		vw_buf_kv(out, "text", "%s", line);
	}
	vw_buf_free(&b);
	return 0;
}

/* ---- dispatch ---- */

/* Each command's handler, by id (lib/cmd.c has its grammar); NULL: not
 * implemented. */
static const struct handler {
	handler_fn fn;
	bool changes; /* may change the persistent state */
	bool on_link; /* its operand names a link */
} handlers[VW_CMD_COUNT] = {
	[VW_CMD_CREATE_ETHERSTUB] = { do_create_etherstub, true, false },
	[VW_CMD_DELETE_ETHERSTUB] = { do_delete_etherstub, true, true },
	[VW_CMD_SHOW_ETHERSTUB] = { do_show_etherstub, false, false },
	[VW_CMD_CREATE_VNIC] = { do_create_vnic, true, false },
	[VW_CMD_DELETE_VNIC] = { do_delete_vnic, true, true },
	[VW_CMD_SHOW_VNIC] = { do_show_vnic, false, false },
	[VW_CMD_SHOW_LINK] = { do_show_link, false, false },
	[VW_CMD_SHOW_PHYS] = { do_show_phys, false, false },
	[VW_CMD_SET_LINKPROP] = { do_set_linkprop, true, true },
	[VW_CMD_RESET_LINKPROP] = { do_reset_linkprop, true, true },
	[VW_CMD_SHOW_LINKPROP] = { do_show_linkprop, false, false },
	[VW_CMD_CREATE_ZONE] = { do_create_zone, true, false },
	[VW_CMD_DELETE_ZONE] = { do_delete_zone, true, false },
	[VW_CMD_SHOW_ZONE] = { do_show_zone, false, false },
	[VW_CMD_CREATE_ADDR] = { do_create_addr, true, true },
	[VW_CMD_DELETE_ADDR] = { do_delete_addr, true, true },
	[VW_CMD_SHOW_ADDR] = { do_show_addr, false, false },
	[VW_CMD_EXPORT] = { do_export, false, false },
	[VW_CMD_APPLY] = { do_apply, false, false }, /* saves once, itself */
	[VW_CMD_ADD_FLOW] = { do_add_flow, true, false },
	[VW_CMD_REMOVE_FLOW] = { do_remove_flow, true, false },
	[VW_CMD_SET_FLOWPROP] = { do_set_flowprop, true, false },
	[VW_CMD_RESET_FLOWPROP] = { do_reset_flowprop, true, false },
	[VW_CMD_SHOW_FLOW] = { do_show_flow, false, false },
	[VW_CMD_SHOW_FLOWPROP] = { do_show_flowprop, false, false },
	[VW_CMD_CREATE_AGGR] = { do_create_aggr, true, false },
	[VW_CMD_ADD_AGGR] = { do_add_aggr, true, true },
	[VW_CMD_REMOVE_AGGR] = { do_remove_aggr, true, true },
	[VW_CMD_MODIFY_AGGR] = { do_modify_aggr, true, true },
	[VW_CMD_DELETE_AGGR] = { do_delete_aggr, true, true },
	[VW_CMD_SHOW_AGGR] = { do_show_aggr, false, false },
	[VW_CMD_CREATE_TUNNEL] = { do_create_tunnel, true, false },
	[VW_CMD_DELETE_TUNNEL] = { do_delete_tunnel, true, true },
	[VW_CMD_SHOW_TUNNEL] = { do_show_tunnel, false, false },
	[VW_CMD_CREATE_VNM] = { do_create_vnm, true, false },
	[VW_CMD_DELETE_VNM] = { do_delete_vnm, true, false },
	[VW_CMD_SHOW_VNM] = { do_show_vnm, false, false },
	[VW_CMD_SET_VNMPROP] = { do_set_vnmprop, true, false },
	[VW_CMD_RESET_VNMPROP] = { do_reset_vnmprop, true, false },
	/* accounting (observability/accounting.c) */
	[VW_CMD_START_ACCOUNTING] = { accounting_start_cmd, true, false },
	[VW_CMD_STOP_ACCOUNTING] = { accounting_stop_cmd, true, false },
	[VW_CMD_SHOW_ACCOUNTING] = { accounting_show_cmd, false, false },
	[VW_CMD_CREATE_MIRROR] = { do_create_mirror, true, false },
	[VW_CMD_DELETE_MIRROR] = { do_delete_mirror, true, false },
	[VW_CMD_SHOW_MIRROR] = { do_show_mirror, false, false },
	[VW_CMD_CREATE_EXPORTER] = { exporter_create_cmd, true, false },
	[VW_CMD_DELETE_EXPORTER] = { exporter_delete_cmd, true, false },
	[VW_CMD_SHOW_EXPORTER] = { exporter_show_cmd, false, false },
	/* internal: vwstat, vwsnoop */
	[VW_CMD_STATS] = { do_stats, false, false },
	[VW_CMD_FLOWSTATS] = { do_flowstats, false, false },
	[VW_CMD_AGGRSTATS] = { do_aggrstats, false, false },
	[VW_CMD_SNOOP] = { do_snoop, false, false },
};

bool ctl_handles(enum vw_cmd_id id)
{
	return (unsigned)id < VW_CMD_COUNT && handlers[id].fn;
}

int ctl_exec(int argc, char *const argv[], char *err, size_t errlen)
{
	struct vw_buf out = { 0 };
	struct vw_cmd c;
	int rc;

	if (vw_cmd_parse(argc, argv, &c, err, errlen) != VW_OK)
		return -EINVAL;
	if (!handlers[c.def->id].fn || c.def->id == VW_CMD_APPLY) {
		snprintf(err, errlen, "%s: not possible here", c.def->name);
		return -EOPNOTSUPP;
	}
	rc = handlers[c.def->id].fn(&c, &out, err, errlen);
	vw_buf_free(&out);
	return rc;
}

void ctl_handle(int argc, char *const argv[], struct vw_buf *out, bool restoring)
{
	struct vw_cmd c;
	char err[512] = "";
	vw_status_t st;
	const struct handler *h;
	size_t mark = out->len;
	int rc = -EOPNOTSUPP;
	struct vw_link *l;
	const char *opt_t;
	bool temporary;

	st = vw_cmd_parse(argc, argv, &c, err, sizeof(err));
	if (st != VW_OK)
		goto done;
	h = &handlers[c.def->id];
	if (!h->fn) {
		snprintf(err, sizeof(err), "%s: not supported yet", c.def->name);
		st = VW_E_NOTSUP;
		goto done;
	}
	/* a command on a temporary link changes nothing that is saved; -t
	 * means temporary only where it is a flag (create-mirror's -t DEST
	 * takes a value) */
	opt_t = strchr(c.def->opts, 't');
	temporary = (opt_t && opt_t[1] != ':' && vw_cmd_opt(&c, 't')) ||
		    (h->on_link && c.noperand && (l = link_find(c.operand[0])) && l->temporary);
	rc = h->fn(&c, out, err, sizeof(err));
	if (rc) {
		out->len = mark; /* no partial records with an error */
		st = vw_errno2status(-rc);
		goto done;
	}
	if (h->changes && !restoring && !temporary) {
		rc = state_save(err, sizeof(err));
		st = rc ? VW_E_SYS : VW_OK;
	}
done:
	if (st != VW_OK)
		out->len = mark;
	vw_buf_kv(out, "status", "%d", (int)st);
	vw_buf_kv(out, "message", "%s", st == VW_OK ? "" : err);
	vw_buf_printf(out, "\n");
}
