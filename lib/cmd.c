/*
 * The vwadm grammar (SPEC §4): one table serves the CLI (usage, parsing
 * before anything is sent), the daemon (parsing what it receives) and vWire
 * files (every line is one of these commands).
 */
#include <stdio.h>
#include <string.h>

#include "lib/vwire.h"

#define SHOW "po:"

static const struct vw_cmddef cmds[] = {
	{ "create-etherstub", "t", "", 1, 1, "[-t] NAME", true, "" },
	{ "delete-etherstub", "", "", 1, 1, "NAME", true, "" },
	{ "show-etherstub", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "" },
	{ "create-vnic", "tl:m:r:v:p:", "p", 1, 1,
	  "[-t] -l LINK [-m MAC|random|auto] [-r PREFIX] [-v VID] [-p PROP=VAL[,...]] NAME", true, "l" },
	{ "delete-vnic", "", "", 1, 1, "NAME", true, "" },
	{ "show-vnic", SHOW "l:", "", 0, -1, "[-p] [-o FIELD,...] [-l LINK] [NAME...]", true, "" },
	{ "show-link", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [LINK...]", true, "" },
	{ "show-phys", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [LINK...]", true, "" },
	{ "set-linkprop", "tp:", "p", 1, 1, "[-t] -p PROP=VAL[,...] LINK", true, "p" },
	{ "reset-linkprop", "tp:", "p", 1, 1, "[-t] -p PROP[,...] LINK", true, "p" },
	{ "show-linkprop", "cp:o:", "p", 0, -1, "[-c] [-o FIELD,...] [-p PROP[,...]] [LINK...]", true, "" },
	{ "create-zone", "", "", 1, 1, "NAME", true, "" },
	{ "delete-zone", "f", "", 1, 1, "[-f] NAME", true, "" },
	{ "show-zone", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "" },
	{ "create-addr", "a:", "", 1, 1, "-a ADDR/PREFIX LINK", true, "a" },
	{ "delete-addr", "a:", "", 1, 1, "-a ADDR/PREFIX LINK", true, "a" },
	{ "show-addr", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [LINK...]", true, "" },
	{ "export", "o:", "", 0, 0, "[-o FILE]", true, "" },
	{ "create-aggr", "tl:P:L:T:", "l", 1, 1,
	  "[-t] -l LINK -l LINK... [-P L2|L3|L4[,...]] [-L off|active|passive] [-T short|long] NAME", false, "l" },
	{ "add-aggr", "tl:", "l", 1, 1, "[-t] -l LINK [-l LINK...] NAME", false, "l" },
	{ "remove-aggr", "tl:", "l", 1, 1, "[-t] -l LINK [-l LINK...] NAME", false, "l" },
	{ "delete-aggr", "t", "", 1, 1, "[-t] NAME", false, "" },
	{ "show-aggr", "xL" SHOW, "", 0, -1, "[-x|-L] [-p] [-o FIELD,...] [NAME...]", false, "" },
	{ "create-tunnel", "tT:a:p:", "a", 1, 1,
	  "[-t] -T vxlan -a local=IP,remote=IP[,remote=IP...] [-p vni=N[,dstport=P]] NAME", false, "Ta" },
	{ "delete-tunnel", "t", "", 1, 1, "[-t] NAME", false, "" },
	{ "show-tunnel", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", false, "" },
	{ "add-flow", "tl:a:p:", "ap", 1, 1, "[-t] -l LINK -a ATTR=VAL[,...] [-p PROP=VAL[,...]] NAME", true, "la" },
	{ "remove-flow", "tl:", "", 0, 1, "[-t] NAME | -l LINK", true, "" },
	{ "set-flowprop", "tp:", "p", 1, 1, "[-t] -p PROP=VAL[,...] FLOW", true, "p" },
	{ "reset-flowprop", "tp:", "p", 1, 1, "[-t] -p PROP[,...] FLOW", true, "p" },
	{ "show-flow", SHOW "l:", "", 0, -1, "[-p] [-o FIELD,...] [-l LINK] [FLOW...]", true, "" },
	{ "show-flowprop", "cp:o:l:", "p", 0, -1, "[-c] [-o FIELD,...] [-p PROP[,...]] [-l LINK] [FLOW...]", true, "" },
	{ "start-accounting", "i:f:r:", "", 0, 0, "[-i SECONDS] [-f FILE] [-r DURATION]", true, "" },
	{ "stop-accounting", "", "", 0, 0, "", true, "" },
	{ "show-accounting", SHOW, "", 0, 0, "[-p] [-o FIELD,...]", true, "" },
	{ "create-mirror", "l:d:f:t:", "", 1, 1, "-l LINK[,LINK...] [-d in|out|both] [-f FILTER] -t DEST NAME", true, "lt" },
	{ "delete-mirror", "", "", 1, 1, "NAME", true, "" },
	{ "show-mirror", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "" },
	{ "create-exporter", "T:a:l:", "", 1, 1, "-T ipfix -a collector=IP:PORT[,active=S,idle=S,template=S,domain=N,cache=FLOWS] [-l LINK,...] NAME", true, "Ta" },
	{ "delete-exporter", "", "", 1, 1, "NAME", true, "" },
	{ "show-exporter", SHOW, "", 0, -1, "[-p] [-o FIELD,...] [NAME...]", true, "" },
	{ "apply", "nD:", "D", 1, 1, "[-n] [-D VAR=VALUE]... FILE", false, "" },
	/* internal, for vwstat */
	{ "stats", "", "", 0, -1, NULL, true, "" },
	{ "flowstats", "l:", "", 0, -1, NULL, true, "" },
	/* internal, for vwsnoop: the reply is followed by a pcap stream */
	{ "snoop", "l:d:c:f:", "", 0, 0, NULL, true, "l" },
};

const struct vw_cmddef *vw_cmd_table(int *n)
{
	*n = (int)(sizeof(cmds) / sizeof(cmds[0]));
	return cmds;
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
	if (!strcmp(def->name, "remove-flow") && (c->noperand == 1) == (vw_cmd_opt(c, 'l') != NULL)) {
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
