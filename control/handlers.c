/*
 * Command dispatch: finds a command's handler (control/handlers.h), runs it,
 * saves the persistent state after a change and writes the verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

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

static const struct {
	const char *name;
	handler_fn fn;
	bool changes; /* may change the persistent state */
	bool on_link; /* its operand names a link */
} handlers[] = {
	{ "create-etherstub", do_create_etherstub, true, false },
	{ "delete-etherstub", do_delete_etherstub, true, true },
	{ "show-etherstub", do_show_etherstub, false, false },
	{ "create-vnic", do_create_vnic, true, false },
	{ "delete-vnic", do_delete_vnic, true, true },
	{ "show-vnic", do_show_vnic, false, false },
	{ "show-link", do_show_link, false, false },
	{ "show-phys", do_show_phys, false, false },
	{ "set-linkprop", do_set_linkprop, true, true },
	{ "reset-linkprop", do_reset_linkprop, true, true },
	{ "show-linkprop", do_show_linkprop, false, false },
	{ "create-zone", do_create_zone, true, false },
	{ "delete-zone", do_delete_zone, true, false },
	{ "show-zone", do_show_zone, false, false },
	{ "create-addr", do_create_addr, true, true },
	{ "delete-addr", do_delete_addr, true, true },
	{ "show-addr", do_show_addr, false, false },
	{ "export", do_export, false, false },
	{ "stats", do_stats, false, false },
	{ "add-flow", do_add_flow, true, false },
	{ "remove-flow", do_remove_flow, true, false },
	{ "set-flowprop", do_set_flowprop, true, false },
	{ "reset-flowprop", do_reset_flowprop, true, false },
	{ "show-flow", do_show_flow, false, false },
	{ "show-flowprop", do_show_flowprop, false, false },
	{ "flowstats", do_flowstats, false, false },
	/* accounting (observability/accounting.c) */
	{ "start-accounting", accounting_start_cmd, true, false },
	{ "stop-accounting", accounting_stop_cmd, true, false },
	{ "show-accounting", accounting_show_cmd, false, false },
	{ "create-mirror", do_create_mirror, true, false },
	{ "delete-mirror", do_delete_mirror, true, false },
	{ "show-mirror", do_show_mirror, false, false },
	{ "create-exporter", exporter_create_cmd, true, false },
	{ "delete-exporter", exporter_delete_cmd, true, false },
	{ "show-exporter", exporter_show_cmd, false, false },
	{ "snoop", do_snoop, false, false },
};

void ctl_handle(int argc, char *const argv[], struct vw_buf *out, bool restoring)
{
	struct vw_cmd c;
	char err[512] = "";
	vw_status_t st;
	size_t i, mark = out->len;
	int rc = -EOPNOTSUPP;
	struct vw_link *l;
	const char *opt_t;
	bool temporary;

	st = vw_cmd_parse(argc, argv, &c, err, sizeof(err));
	if (st != VW_OK)
		goto done;
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(handlers[i].name, c.def->name))
			break;
	if (i == sizeof(handlers) / sizeof(handlers[0])) {
		snprintf(err, sizeof(err), "%s: not supported yet", c.def->name);
		st = VW_E_NOTSUP;
		goto done;
	}
	/* a command on a temporary link changes nothing that is saved; -t
	 * means temporary only where it is a flag (create-mirror's -t DEST
	 * takes a value) */
	opt_t = strchr(c.def->opts, 't');
	temporary = (opt_t && opt_t[1] != ':' && vw_cmd_opt(&c, 't')) ||
		    (handlers[i].on_link && c.noperand && (l = link_find(c.operand[0])) && l->temporary);
	rc = handlers[i].fn(&c, out, err, sizeof(err));
	if (rc) {
		out->len = mark; /* no partial records with an error */
		st = vw_errno2status(-rc);
		goto done;
	}
	if (handlers[i].changes && !restoring && !temporary) {
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
