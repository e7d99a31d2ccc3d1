/*
 * The command grammar (lib/cmd.c) and the value parsers behind it
 * (lib/parse.c, lib/flow.c): the input is a command line, split into
 * words at blanks, newlines and NULs, as vw_cmd_parse() gets it from vwadm
 * or the control socket.  Every word is then also given to each value
 * parser (a word like "cpus=0-3,mtu=1400" also as a property list).
 *
 * Checked: a parsed command meets its table entry (known options,
 * operands within bounds, required options present, values pointing into
 * argv); a refusal comes with a reason; every value a parser accepts
 * prints in a form that parses back to the same value (bandwidths, MACs,
 * prefixes, CPU lists, numbers, flow attributes and properties).
 */
#include <inttypes.h>
#include <sys/socket.h>

#include "fuzz/fuzz.h"
#include "lib/vwire.h"

#define MAXWORDS 64

static void check_cmd(int argc, char **argv)
{
	char err[256] = "";
	struct vw_cmd c;
	vw_status_t st = vw_cmd_parse(argc, argv, &c, err, sizeof(err));
	int i, k;

	if (st != VW_OK) {
		FUZZ_CHECK(st == VW_E_USAGE && err[0], "refused with status %d and reason '%s'", st, err);
		return;
	}
	FUZZ_CHECK(c.def && c.def == vw_cmd_find(argv[0]), "wrong table entry");
	FUZZ_CHECK(c.nopt >= 0 && c.nopt <= VW_CMD_MAXOPT, "%d options", c.nopt);
	FUZZ_CHECK(c.noperand >= c.def->min_operands && c.noperand <= VW_CMD_MAXOPERAND &&
			   (c.def->max_operands < 0 || c.noperand <= c.def->max_operands),
		   "%s: %d operands", c.def->name, c.noperand);
	for (i = 0; i < c.nopt; i++) {
		const char *spec = strchr(c.def->opts, c.opt[i].opt);
		bool in_argv = false;

		FUZZ_CHECK(c.opt[i].opt != ':' && spec, "%s: option '%c' not in '%s'", c.def->name, c.opt[i].opt,
			   c.def->opts);
		FUZZ_CHECK(c.opt[i].val, "option without a value pointer");
		if (spec[1] != ':') {
			FUZZ_CHECK(!c.opt[i].val[0], "flag -%c with a value", c.opt[i].opt);
			continue;
		}
		for (k = 1; k < argc; k++)
			in_argv |= c.opt[i].val >= argv[k] && c.opt[i].val <= argv[k] + strlen(argv[k]);
		FUZZ_CHECK(in_argv, "value of -%c does not point into argv", c.opt[i].opt);
		if (!strchr(c.def->repeat, c.opt[i].opt))
			for (k = 0; k < i; k++)
				FUZZ_CHECK(c.opt[k].opt != c.opt[i].opt, "-%c given twice", c.opt[i].opt);
	}
	for (i = 0; c.def->required[i]; i++)
		FUZZ_CHECK(vw_cmd_opt(&c, c.def->required[i]), "required -%c missing", c.def->required[i]);
	{
		const char *vals[VW_CMD_MAXOPT];

		for (i = 0; i < c.nopt; i++) {
			int n = vw_cmd_optall(&c, c.opt[i].opt, vals, VW_CMD_MAXOPT);

			FUZZ_CHECK(n >= 1 && vals[n - 1] == vw_cmd_opt(&c, c.opt[i].opt), "optall/opt disagree");
		}
	}
}

static void check_bw(const char *w)
{
	char buf[32];
	uint64_t v, v2;

	if (!vw_bw_parse(w, &v))
		return;
	FUZZ_CHECK(v > 0 && v <= 10000000000000ULL, "'%s' is %" PRIu64, w, v);
	vw_bw_format(v, buf);
	FUZZ_CHECK(strlen(buf) < sizeof(buf) && vw_bw_parse(buf, &v2) && v2 == v, "'%s' = %" PRIu64 " prints as '%s'",
		   w, v, buf);
}

static void check_mac(const char *w)
{
	uint8_t m[6], m2[6], p[6];
	char buf[18];
	int len;

	if (vw_mac_parse(w, m)) {
		vw_mac_format(m, buf);
		FUZZ_CHECK(vw_mac_parse(buf, m2) && !memcmp(m, m2, 6), "MAC '%s' prints as '%s'", w, buf);
		FUZZ_CHECK(vw_mac_is_multicast(m) == (m[0] & 1), "multicast bit");
	}
	if (vw_macprefix_parse(w, p, &len))
		FUZZ_CHECK(len >= 1 && len <= 5, "MAC prefix '%s' of %d octets", w, len);
}

static void check_prefix(const char *w)
{
	struct vw_prefix p, p2;
	char buf[64];
	int host;

	for (host = 0; host < 2; host++) {
		if (!vw_prefix_parse(w, host, &p))
			continue;
		FUZZ_CHECK((p.family == AF_INET && p.plen <= 32) || (p.family == AF_INET6 && p.plen <= 128),
			   "'%s': family %d, length %u", w, p.family, p.plen);
		vw_prefix_format(&p, buf);
		FUZZ_CHECK(vw_prefix_parse(buf, false, &p2) && vw_prefix_equal(&p, &p2), "prefix '%s' prints as '%s'", w,
			   buf);
		FUZZ_CHECK(host || strchr(w, '/'), "'%s' taken without a length", w);
	}
}

static void check_numbers(const char *w)
{
	static struct vw_cpuset s, s2;
	static char buf[8192];
	uint64_t v;
	uint16_t vid;

	if (vw_uint_parse(w, 0, UINT64_MAX, &v)) {
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		FUZZ_CHECK(!strcmp(buf, w), "number '%s' is %s", w, buf);
	}
	if (vw_vid_parse(w, &vid))
		FUZZ_CHECK(vid >= 1 && vid <= VW_VID_MAX, "VID '%s' is %u", w, vid);
	if (vw_cpulist_parse(w, &s)) {
		FUZZ_CHECK(!vw_cpuset_empty(&s), "CPU list '%s' is empty", w);
		FUZZ_CHECK(vw_cpulist_format(&s, buf, sizeof(buf)), "CPU list '%s' does not print", w);
		FUZZ_CHECK(vw_cpulist_parse(buf, &s2) && !memcmp(&s, &s2, sizeof(s)), "CPU list '%s' prints as '%s'", w,
			   buf);
	}
}

static void check_names(const char *w)
{
	size_t n = strlen(w);

	if (vw_linkname_valid(w))
		FUZZ_CHECK(n >= 1 && n <= VW_LINKNAME_MAX, "link name of %zu chars", n);
	if (vw_zonename_valid(w))
		FUZZ_CHECK(n >= 1 && n <= VW_ZONENAME_MAX, "zone name of %zu chars", n);
	if (vw_flowname_valid(w))
		FUZZ_CHECK(n >= 1 && n <= VW_FLOWNAME_MAX, "flow name of %zu chars", n);
}

static void check_flow(const char *w)
{
	char err[512] = "", buf[256], err2[512];
	struct vw_flow_attrs a, b;
	const struct vw_flowpropdef *tab;
	int n, i;

	if (vw_flow_attrs_parse(w, &a, err, sizeof(err))) {
		vw_flow_attrs_format(&a, buf, sizeof(buf));
		FUZZ_CHECK(vw_flow_attrs_parse(buf, &b, err2, sizeof(err2)) && vw_flow_attrs_equal(&a, &b),
			   "attributes '%s' print as '%s' (%s)", w, buf, err2);
		FUZZ_CHECK(vw_flow_attrs_overlap(&a, &b), "'%s' does not overlap itself", w);
	} else {
		FUZZ_CHECK(err[0], "attributes '%s' refused without a reason", w);
	}
	tab = vw_flowprop_table(&n);
	for (i = 0; i < n; i++) {
		struct vw_flowprops p = { 0 }, q = { 0 };
		char v[32], v2[32];

		err[0] = 0;
		if (!vw_flowprop_parse(&tab[i], w, &p, err, sizeof(err))) {
			FUZZ_CHECK(err[0] && !(p.set & 1u << tab[i].id), "%s '%s' refused without a reason", tab[i].name,
				   w);
			continue;
		}
		vw_flowprop_format(&tab[i], &p, v, sizeof(v));
		FUZZ_CHECK(vw_flowprop_parse(&tab[i], v, &q, err, sizeof(err)), "%s '%s' prints as '%s'", tab[i].name,
			   w, v);
		vw_flowprop_format(&tab[i], &q, v2, sizeof(v2));
		FUZZ_CHECK(!strcmp(v, v2), "%s '%s': '%s' then '%s'", tab[i].name, w, v, v2);
	}
}

static void check_lists(const char *w)
{
	static const char *const lists[] = { "cpus", "allowed-ips", NULL };
	char *keys[16], *vals[16], *copy = strdup(w);
	int n, i;

	if (!copy)
		return;
	n = vw_proplist_split(copy, keys, vals, 16, lists);
	FUZZ_CHECK(n >= -1 && n <= 16, "%d pairs", n);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(keys[i][0] && !strchr(keys[i], ',') && !strchr(keys[i], '='), "key '%s' of '%s'", keys[i],
			   w);
	strcpy(copy, w);
	n = vw_kvlist_split(copy, keys, vals, 16);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(keys[i][0] && !strchr(vals[i], ','), "pair '%s'='%s' of '%s'", keys[i], vals[i], w);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *argv[MAXWORDS + 1];
	int argc, i;

	if (size > 4096)
		return 0;
	s = fuzz_strndup(data, size);
	if (!s)
		return 0;
	argc = fuzz_split(s, size, argv, MAXWORDS);
	argv[argc] = NULL;
	check_cmd(argc, argv);
	for (i = 0; i < argc; i++) {
		check_bw(argv[i]);
		check_mac(argv[i]);
		check_prefix(argv[i]);
		check_numbers(argv[i]);
		check_names(argv[i]);
		check_flow(argv[i]);
		check_lists(argv[i]);
	}
	free(s);
	return 0;
}
