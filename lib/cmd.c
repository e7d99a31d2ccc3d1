/*
 * The vwadm grammar (SPEC §4): one table serves the CLI (usage, parsing
 * before anything is sent), the daemon (parsing what it receives) and vWire
 * files (every line is one of these commands), and says who may run each
 * command over the control socket (priv: the daemon's only permission
 * table; control/ctl.c checks it against the client's credentials).
 */
#include <stdio.h>
#include <string.h>

#include "lib/vwire.h"

#define SHOW "po:"
/* the entry of id, at its index */
#define CMD(id, ...) [id] = { id, __VA_ARGS__ }

static const struct vw_cmddef cmds[] = {
	CMD(VW_CMD_CREATE_ETHERSTUB, "create-etherstub", "t", "", 1, 1, "[-t] NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_ETHERSTUB, "delete-etherstub", "", "", 1, 1, "NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_ETHERSTUB, "show-etherstub", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_CREATE_VNIC, "create-vnic", "tl:m:r:v:p:", "p", 1, 1,
	  "[-t] -l LINK [-m MAC|random|auto] [-r PREFIX] [-v VID] [-p PROP=VAL[,...]] NAME", true, "l", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_VNIC, "delete-vnic", "", "", 1, 1, "NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_VNIC, "show-vnic", SHOW "l:", "", 0, -1, "[-p] [-o FIELD,...] [-l LINK] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_SHOW_LINK, "show-link", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [LINK...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_SHOW_PHYS, "show-phys", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [LINK...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_SET_LINKPROP, "set-linkprop", "tp:", "p", 1, 1, "[-t] -p PROP=VAL[,...] LINK", true, "p", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_RESET_LINKPROP, "reset-linkprop", "tp:", "p", 1, 1, "[-t] -p PROP[,...] LINK", true, "p", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_LINKPROP, "show-linkprop", "cp:o:", "p", 0, -1, "[-c] [-o FIELD,...] [-p PROP[,...]] [LINK...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_CREATE_ZONE, "create-zone", "", "", 1, 1, "NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_ZONE, "delete-zone", "fk", "", 1, 1, "[-f] [-k] NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_ZONE, "show-zone", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_CREATE_ADDR, "create-addr", "a:", "", 1, 1, "-a ADDR/PREFIX LINK", true, "a", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_ADDR, "delete-addr", "a:", "", 1, 1, "-a ADDR/PREFIX LINK", true, "a", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_ADDR, "show-addr", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [LINK...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_EXPORT, "export", "o:", "", 0, 0, "[-o FILE]", true, "", VW_PRIV_READ, VW_OUT_LINES),
	CMD(VW_CMD_CREATE_AGGR, "create-aggr", "tl:P:L:T:", "l", 1, 1,
	  "[-t] -l LINK -l LINK... [-P L2|L3|L4[,...]] [-L off|active|passive] [-T short|long] NAME", true, "l", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_ADD_AGGR, "add-aggr", "tl:", "l", 1, 1, "[-t] -l LINK [-l LINK...] NAME", true, "l", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_REMOVE_AGGR, "remove-aggr", "tl:", "l", 1, 1, "[-t] -l LINK [-l LINK...] NAME", true, "l", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_MODIFY_AGGR, "modify-aggr", "tP:L:T:", "", 1, 1,
	  "[-t] [-P L2|L3|L4[,...]] [-L off|active|passive] [-T short|long] NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_AGGR, "delete-aggr", "t", "", 1, 1, "[-t] NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_AGGR, "show-aggr", "xL" SHOW, "", 0, -1, "[-x|-L] [-p] [-o FIELD,...] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_CREATE_TUNNEL, "create-tunnel", "tT:a:p:", "ap", 1, 1,
	  "[-t] -T vxlan -a local=IP[,remote=IP...][,dstport=P] -p vni=N NAME", true, "Tap", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_TUNNEL, "delete-tunnel", "", "", 1, 1, "NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_TUNNEL, "show-tunnel", "x" SHOW, "", 0, -1, "[-x] [-p] [-o FIELD,...] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_CREATE_VNM, "create-vnm", "tT:l:p:", "p", 1, 1,
	  "[-t] -T router|nat|lb|firewall -l VNIC[,VNIC...] [-p PROP=VAL[,...]] NAME", true, "Tl", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_VNM, "delete-vnm", "", "", 1, 1, "NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_VNM, "show-vnm", "x" SHOW, "", 0, -1, "[-x] [-p] [-o FIELD,...] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_SET_VNMPROP, "set-vnmprop", "p:", "p", 1, 1, "-p PROP=VAL[,...] NAME", true, "p", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_RESET_VNMPROP, "reset-vnmprop", "p:", "p", 1, 1, "-p PROP[,...] NAME", true, "p", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_ADD_FLOW, "add-flow", "tl:a:p:", "ap", 1, 1, "[-t] -l LINK -a ATTR=VAL[,...] [-p PROP=VAL[,...]] NAME", true, "la", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_REMOVE_FLOW, "remove-flow", "tl:", "", 0, 1, "[-t] NAME | -l LINK", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SET_FLOWPROP, "set-flowprop", "tp:", "p", 1, 1, "[-t] -p PROP=VAL[,...] FLOW", true, "p", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_RESET_FLOWPROP, "reset-flowprop", "tp:", "p", 1, 1, "[-t] -p PROP[,...] FLOW", true, "p", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_FLOW, "show-flow", SHOW "l:", "", 0, -1, "[-p] [-o FIELD,...] [-l LINK] [FLOW...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_SHOW_FLOWPROP, "show-flowprop", "cp:o:l:", "p", 0, -1, "[-c] [-o FIELD,...] [-p PROP[,...]] [-l LINK] [FLOW...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_START_ACCOUNTING, "start-accounting", "i:f:r:", "", 0, 0, "[-i SECONDS] [-f FILE] [-r DURATION]", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_STOP_ACCOUNTING, "stop-accounting", "", "", 0, 0, "", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_ACCOUNTING, "show-accounting", SHOW, "", 0, 0, "[-p] [-o FIELD,...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_CREATE_MIRROR, "create-mirror", "l:d:f:t:", "", 1, 1, "-l LINK[,LINK...] [-d in|out|both] [-f FILTER] -t DEST NAME", true, "lt", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_MIRROR, "delete-mirror", "", "", 1, 1, "NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_MIRROR, "show-mirror", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	CMD(VW_CMD_CREATE_EXPORTER, "create-exporter", "T:a:l:", "", 1, 1, "-T ipfix -a collector=IP:PORT[,active=S,idle=S,template=S,domain=N,cache=FLOWS] [-l LINK,...] NAME", true, "Ta", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_DELETE_EXPORTER, "delete-exporter", "", "", 1, 1, "NAME", true, "", VW_PRIV_ADMIN, VW_OUT_NONE),
	CMD(VW_CMD_SHOW_EXPORTER, "show-exporter", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "", VW_PRIV_READ, VW_OUT_TABLE),
	/* the client sends the file's text as a second operand (vw_text_escape) */
	CMD(VW_CMD_APPLY, "apply", "nPD:", "D", 1, 2, "[-n] [--prune] [-D VAR=VALUE]... FILE", true, "", VW_PRIV_ADMIN, VW_OUT_LINES),
	/* internal, for vwstat */
	CMD(VW_CMD_STATS, "stats", "", "", 0, -1, NULL, true, "", VW_PRIV_READ, VW_OUT_RECORDS),
	CMD(VW_CMD_FLOWSTATS, "flowstats", "l:", "", 0, -1, NULL, true, "", VW_PRIV_READ, VW_OUT_RECORDS),
	CMD(VW_CMD_AGGRSTATS, "aggrstats", "", "", 0, -1, NULL, true, "", VW_PRIV_READ, VW_OUT_RECORDS),
	/* internal, for vwsnoop: the reply is followed by a pcap stream */
	CMD(VW_CMD_SNOOP, "snoop", "l:d:c:f:", "", 0, 0, NULL, true, "l", VW_PRIV_CAPTURE, VW_OUT_STREAM),
};

_Static_assert(sizeof(cmds) / sizeof(cmds[0]) == VW_CMD_COUNT, "a command id without its entry");

const char *vw_priv_needs(enum vw_priv p)
{
	switch (p) {
	case VW_PRIV_READ:
		return "access to the control socket";
	case VW_PRIV_CAPTURE:
		return "root or CAP_NET_RAW";
	default:
		return "root or CAP_NET_ADMIN";
	}
}

const struct vw_cmddef *vw_cmd_table(int *n)
{
	*n = (int)(sizeof(cmds) / sizeof(cmds[0]));
	return cmds;
}

const struct vw_cmddef *vw_cmd_def(enum vw_cmd_id id)
{
	return (unsigned)id < sizeof(cmds) / sizeof(cmds[0]) ? &cmds[id] : NULL;
}

const struct vw_cmddef *vw_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

vw_status_t vw_cmd_parse(int argc, char *const argv[], struct vw_cmd *c, char *err, size_t errlen)
{
	const struct vw_cmddef *def;
	bool opts_done = false;
	int i;

	memset(c, 0, sizeof(*c));
	if (argc < 1) {
		snprintf(err, errlen, "missing subcommand");
		return VW_E_USAGE;
	}
	def = vw_cmd_find(argv[0]);
	if (!def) {
		snprintf(err, errlen, "unknown subcommand '%s'", argv[0]);
		return VW_E_USAGE;
	}
	c->def = def;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *spec;
		char o;
		int k;

		if (opts_done || a[0] != '-' || !a[1]) {
			if (c->noperand == VW_CMD_MAXOPERAND) {
				snprintf(err, errlen, "%s: too many operands", def->name);
				return VW_E_USAGE;
			}
			c->operand[c->noperand++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			opts_done = true;
			continue;
		}
		o = a[1];
		spec = o != ':' ? strchr(def->opts, o) : NULL;
		if (!spec) {
			snprintf(err, errlen, "%s: unknown option '-%c'", def->name, o);
			return VW_E_USAGE;
		}
		if (!strchr(def->repeat, o))
			for (k = 0; k < c->nopt; k++)
				if (c->opt[k].opt == o) {
					snprintf(err, errlen, "%s: option '-%c' given twice", def->name, o);
					return VW_E_USAGE;
				}
		if (c->nopt == VW_CMD_MAXOPT) {
			snprintf(err, errlen, "%s: too many options", def->name);
			return VW_E_USAGE;
		}
		c->opt[c->nopt].opt = o;
		if (spec[1] == ':') {
			if (a[2]) {
				c->opt[c->nopt].val = a + 2;
			} else if (i + 1 < argc) {
				c->opt[c->nopt].val = argv[++i];
			} else {
				snprintf(err, errlen, "%s: option '-%c' needs a value", def->name, o);
				return VW_E_USAGE;
			}
		} else {
			if (a[2]) {
				snprintf(err, errlen, "%s: option '-%c' takes no value", def->name, o);
				return VW_E_USAGE;
			}
			c->opt[c->nopt].val = "";
		}
		c->nopt++;
	}
	for (i = 0; def->required && def->required[i]; i++)
		if (!vw_cmd_opt(c, def->required[i])) {
			snprintf(err, errlen, "%s: option '-%c' is required", def->name, def->required[i]);
			return VW_E_USAGE;
		}
	/* remove-flow takes a flow or -l LINK, exactly one of them */
	if (def->id == VW_CMD_REMOVE_FLOW && (c->noperand == 1) == (vw_cmd_opt(c, 'l') != NULL)) {
		snprintf(err, errlen, "%s: give either a flow name or -l LINK", def->name);
		return VW_E_USAGE;
	}
	if (c->noperand < def->min_operands) {
		snprintf(err, errlen, "%s: missing operand", def->name);
		return VW_E_USAGE;
	}
	if (def->max_operands >= 0 && c->noperand > def->max_operands) {
		snprintf(err, errlen, "%s: unexpected operand '%s'", def->name, c->operand[def->max_operands]);
		return VW_E_USAGE;
	}
	return VW_OK;
}

const char *vw_cmd_opt(const struct vw_cmd *c, char opt)
{
	const char *v = NULL;
	int i;

	for (i = 0; i < c->nopt; i++)
		if (c->opt[i].opt == opt)
			v = c->opt[i].val;
	return v;
}

int vw_cmd_optall(const struct vw_cmd *c, char opt, const char **vals, int max)
{
	int i, n = 0;

	for (i = 0; i < c->nopt && n < max; i++)
		if (c->opt[i].opt == opt)
			vals[n++] = c->opt[i].val;
	return n;
}
