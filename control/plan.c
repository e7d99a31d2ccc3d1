/*
 * The plan of `vwadm apply`.  Both sides, the file and the daemon's export,
 * are read into objects (struct ent): a key (kind and name), an identity
 * (what no command changes in place: a VNIC's link, VID and MAC, a flow's
 * attributes, a tunnel's addresses...) and properties (what set-linkprop,
 * set-flowprop, set-vnmprop, modify-aggr and add-/remove-aggr change live),
 * both in canonical text so that "maxbw=100" and "maxbw=100M" are equal.
 *
 * Comparing them gives, per object the file names: nothing to do, a change
 * in place (one command per property), or a replacement (delete, create)
 * when its identity differs.  A replaced or deleted object takes what
 * depends on it along (the addresses of a VNIC, the VNICs over an
 * etherstub...): those are made again after, as the file says or, when the
 * file does not name them, as they were.  With prune, the objects the file
 * does not name, of the kinds it names, are deleted.
 *
 * The steps run in four phases: (1) deletions for replacements, dependents
 * first; (2) creations, in replay order (zones before the VNICs in them);
 * (3) changes in place; (4) deletions of what the file does not name.
 * Every step carries the commands that undo it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/plan.h"
#include "lib/history.h"
#include "objects/link.h"
#include "objects/vnm.h"
#include "observability/accounting.h"

/* In replay order: what a kind refers to comes before it. */
enum kind { K_ACCT, K_ZONE, K_STUB, K_PHYS, K_AGGR, K_TUNNEL, K_VNIC, K_ADDR, K_FLOW, K_VNM, K_MIRROR, K_EXPORTER, NKINDS };
static const char *const kind_name[NKINDS] = { "accounting", "zone", "etherstub", "phys", "aggr", "tunnel",
					       "vnic", "addr", "flow", "vnm", "mirror", "exporter" };

#define MAXPROPS 64
#define MAXREFS 64

struct prop {
	char cls; /* L link, F flow, V vnm, A aggr option (-P -L -T), M aggr members,
		   * C a link property set at creation only (part of the identity) */
	char *k, *v;
};

struct ent {
	enum kind kind;
	char *name;
	char *ident;
	char mactype[8], macpfx[24]; /* a VNIC's -m: random/auto/fixed, and the prefix (or address) */
	int line;
	struct prop props[MAXPROPS];
	int nprops;
	char *refs[MAXREFS]; /* "l:LINK", "z:ZONE" */
	int nrefs;
	struct vnm_props *vnm; /* a VNM's properties as parsed (its V properties are their text) */
	enum vnm_type vnmtype;
	struct plan_cmd *cmds; /* the commands that make it, in order */
	int ncmds, ccap;
	struct ent *peer;
	enum { ST_SAME, ST_CREATE, ST_CHANGE, ST_REPLACE } st; /* the file's objects */
	bool partial;                                          /* set-linkprop of a link made elsewhere */
	bool gone, pruned, recreate;                           /* the daemon's */
	char why[96];
};

struct model {
	struct ent **e;
	int n, cap;
	const char *file;
	bool desired;
};

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static bool is_link(enum kind k)
{
	return k == K_STUB || k == K_PHYS || k == K_AGGR || k == K_TUNNEL || k == K_VNIC;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fprintf(stderr, "vwired: out of memory\n");
		abort();
	}
	return d;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "vwired: out of memory\n");
		abort();
	}
	return p;
}

static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fprintf(stderr, "vwired: out of memory\n");
		abort();
	}
	va_end(ap);
	return s;
}

static struct plan_cmd cmd_make(int argc, char *const argv[])
{
	struct plan_cmd c = { argc, xrealloc(NULL, sizeof(char *) * (size_t)(argc + 1)) };
	int i;

	for (i = 0; i < argc; i++)
		c.argv[i] = xstrdup(argv[i]);
	c.argv[argc] = NULL;
	return c;
}

/* A command from words, NULL-terminated. */
static struct plan_cmd cmd_words(const char *w0, ...)
{
	const char *w[32];
	va_list ap;
	int n = 0;

	w[n++] = w0;
	va_start(ap, w0);
	while (n < 31 && (w[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	return cmd_make(n, (char *const *)w);
}

static void cmd_free(struct plan_cmd *c)
{
	int i;

	for (i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	c->argv = NULL;
	c->argc = 0;
}

char *plan_cmd_text(const struct plan_cmd *c, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < c->argc && used < len; i++) {
		char q[1024];

		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "",
					 vw_word_quote(c->argv[i], q, sizeof(q)) ? q : c->argv[i]);
	}
	return buf;
}

/* ---- objects ---- */

static void props_clear(struct ent *e)
{
	int i;

	for (i = 0; i < e->nprops; i++) {
		free(e->props[i].k);
		free(e->props[i].v);
	}
	e->nprops = 0;
}

static void ent_free(struct ent *e)
{
	int i;

	free(e->name);
	free(e->ident);
	free(e->vnm);
	props_clear(e);
	for (i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	for (i = 0; i < e->ncmds; i++)
		cmd_free(&e->cmds[i]);
	free(e->cmds);
	free(e);
}

static void model_free(struct model *m)
{
	int i;

	for (i = 0; i < m->n; i++)
		ent_free(m->e[i]);
	free(m->e);
	m->e = NULL;
	m->n = m->cap = 0;
}

static bool same_group(enum kind a, enum kind b)
{
	return a == b || (is_link(a) && is_link(b));
}

static struct ent *find(const struct model *m, enum kind k, const char *name)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (same_group(m->e[i]->kind, k) && !strcmp(m->e[i]->name, name))
			return m->e[i];
	return NULL;
}

static struct ent *ent_add(struct model *m, enum kind k, const char *name, int line)
{
	struct ent *e = calloc(1, sizeof(*e));

	if (!e)
		abort();
	e->kind = k;
	e->name = xstrdup(name);
	e->ident = xstrdup("");
	e->line = line;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->e = xrealloc(m->e, sizeof(*m->e) * (size_t)m->cap);
	}
	m->e[m->n++] = e;
	return e;
}

static void ent_cmd(struct ent *e, const struct plan_cmd *c)
{
	if (e->ncmds == e->ccap) {
		e->ccap = e->ccap ? 2 * e->ccap : 4;
		e->cmds = xrealloc(e->cmds, sizeof(*e->cmds) * (size_t)e->ccap);
	}
	e->cmds[e->ncmds++] = cmd_make(c->argc, c->argv);
}

static void ent_ref(struct ent *e, char type, const char *name)
{
	if (e->nrefs < MAXREFS && name && *name)
		e->refs[e->nrefs++] = xprintf("%c:%s", type, name);
}

static bool refers(const struct ent *e, const char *key)
{
	int i;

	for (i = 0; i < e->nrefs; i++)
		if (!strcmp(e->refs[i], key))
			return true;
	return false;
}

/* What others call it by ("l:NAME", "z:NAME"); NULL: nothing refers to it. */
static const char *ent_key(const struct ent *e, char *buf, size_t len)
{
	if (is_link(e->kind))
		snprintf(buf, len, "l:%s", e->name);
	else if (e->kind == K_ZONE)
		snprintf(buf, len, "z:%s", e->name);
	else
		return NULL;
	return buf;
}

/* Sets property k of class cls (an empty v: back to its default, removed);
 * several=true appends (a VNM's allow=, deny=). */
static void prop_set(struct ent *e, char cls, const char *k, const char *v, bool several)
{
	int i, j;

	if (!several)
		for (i = 0; i < e->nprops; i++)
			if (e->props[i].cls == cls && !strcmp(e->props[i].k, k)) {
				if (*v) { /* a new value, in the same place */
					free(e->props[i].v);
					e->props[i].v = xstrdup(v);
					return;
				}
				free(e->props[i].k);
				free(e->props[i].v);
				for (j = i; j + 1 < e->nprops; j++)
					e->props[j] = e->props[j + 1];
				e->nprops--;
				i--;
			}
	if (*v && e->nprops < MAXPROPS) {
		e->props[e->nprops].cls = cls;
		e->props[e->nprops].k = xstrdup(k);
		e->props[e->nprops].v = xstrdup(v);
		e->nprops++;
	}
}

/* The values of property k, joined with ',' in order ("" when unset). */
static void prop_get(const struct ent *e, char cls, const char *k, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < e->nprops && used < len; i++)
		if (e->props[i].cls == cls && !strcmp(e->props[i].k, k))
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", e->props[i].v);
}

/* ---- reading commands into objects ---- */

struct reader {
	struct model *m;
	const char *file;
	int line;
	char *err;
	size_t errlen;
};

#define RFAIL(r, ...)                                                                                      \
	({                                                                                                 \
		char _m[2048];                                                                              \
		snprintf(_m, sizeof(_m), __VA_ARGS__);                                                     \
		snprintf((r)->err, (r)->errlen, "%s:%d: %s", (r)->file, (r)->line, _m);                     \
		-EINVAL;                                                                                   \
	})

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A comma list, its items sorted, those in drop[] left out. */
static char *list_canon(const char *list, const char *const *drop)
{
	char *copy = xstrdup(list), *items[256], *save = NULL, *t;
	size_t len = strlen(list) + 2, used = 0;
	char *out = xrealloc(NULL, len);
	int n = 0, i;

	out[0] = '\0';
	for (t = strtok_r(copy, ",", &save); t && n < 256; t = strtok_r(NULL, ",", &save)) {
		const char *const *d;

		for (d = drop; d && *d && strcmp(*d, t); d++)
			;
		if (!d || !*d)
			items[n++] = t;
	}
	qsort(items, (size_t)n, sizeof(items[0]), cmp_str);
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", items[i]);
	free(copy);
	return out;
}

static int link_props(struct reader *r, struct ent *e, const char *list, bool several_ok)
{
	char *copy = xstrdup(list), *keys[64], *vals[64], canon[VW_MAX_ALLOWED * 48], why[256];
	int n = vw_proplist_split(copy, keys, vals, 64, linkprop_lists), i, rc = 0;

	(void)several_ok;
	if (n < 0)
		rc = RFAIL(r, "%s: invalid property list '%s' (PROP=VAL[,...])", e->name, list);
	for (i = 0; i < n && !rc; i++) {
		if (!linkprop_canon(e->name, keys[i], vals[i], canon, sizeof(canon), why, sizeof(why)))
			rc = RFAIL(r, "%s", why);
		else if (!strcmp(keys[i], "face") || !strncmp(keys[i], "vhost-", 6))
			prop_set(e, 'C', keys[i], canon, false); /* set at creation only: what the VNIC is */
		else {
			prop_set(e, 'L', keys[i], canon, false);
			if (!strcmp(keys[i], "zone"))
				ent_ref(e, 'z', canon);
		}
	}
	free(copy);
	return rc;
}

static int flow_props(struct reader *r, struct ent *e, const char *list)
{
	char *copy = xstrdup(list), *keys[32], *vals[32], canon[64], why[256];
	int n = vw_kvlist_split(copy, keys, vals, 32), i, rc = 0;

	if (n < 0)
		rc = RFAIL(r, "%s: invalid property list '%s' (PROP=VAL[,...])", e->name, list);
	for (i = 0; i < n && !rc; i++) {
		const struct vw_flowpropdef *pd = vw_flowprop_find(keys[i]);
		struct vw_flowprops p;

		memset(&p, 0, sizeof(p));
		if (!pd)
			rc = RFAIL(r, "%s: unknown flow property '%s'", e->name, keys[i]);
		else if (!vw_flowprop_parse(pd, vals[i], &p, why, sizeof(why)))
			rc = RFAIL(r, "%s: %s", e->name, why);
		else
			prop_set(e, 'F', keys[i], vw_flowprop_format(pd, &p, canon, sizeof(canon)), false);
	}
	free(copy);
	return rc;
}

/* A VNM's properties: parsed as the daemon parses them (a later allow= list
 * replaces an earlier one), kept as the text the daemon exports. */
static int vnm_props(struct reader *r, struct ent *e, const char *list)
{
	char why[512], text[8192], *keys[VNM_MAX_RULES + 16], *vals[VNM_MAX_RULES + 16];
	unsigned replaced = 0;
	int i, n;

	if (vnm_props_parse(e->name, e->vnmtype, list, e->vnm, &replaced, why, sizeof(why)))
		return RFAIL(r, "%s", why);
	props_clear(e);
	if (!vnm_props_format(e->vnm, text, sizeof(text)) || strncmp(text, " -p ", 4))
		return 0;
	n = vw_kvlist_split(text + 4, keys, vals, (int)(sizeof(keys) / sizeof(keys[0])));
	for (i = 0; i < n; i++)
		prop_set(e, 'V', keys[i], vals[i], true);
	return 0;
}

static const char *canon_policy(const char *p, char *buf, size_t len)
{
	bool l2 = false, l3 = false, l4 = false;
	char *copy = xstrdup(p), *save = NULL, *t;

	for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		l2 |= !strcasecmp(t, "L2");
		l3 |= !strcasecmp(t, "L3");
		l4 |= !strcasecmp(t, "L4");
	}
	free(copy);
	snprintf(buf, len, "%s%s%s%s%s", l2 ? "L2" : "", l2 && (l3 || l4) ? "," : "", l3 ? "L3" : "",
		 l3 && l4 ? "," : "", l4 ? "L4" : "");
	return buf;
}

static void aggr_members(struct ent *e, const char *const *add, int nadd, const char *const *del, int ndel)
{
	char cur[4096], *items[128], *save = NULL, *t, out[4096];
	size_t used = 0;
	int n = 0, i, j;

	prop_get(e, 'M', "members", cur, sizeof(cur));
	for (t = strtok_r(cur, ",", &save); t && n < 128; t = strtok_r(NULL, ",", &save))
		items[n++] = t;
	for (i = 0; i < nadd && n < 128; i++) {
		for (j = 0; j < n && strcmp(items[j], add[i]); j++)
			;
		if (j == n)
			items[n++] = (char *)add[i];
	}
	for (i = 0; i < ndel; i++)
		for (j = 0; j < n; j++)
			if (!strcmp(items[j], del[i]))
				items[j--] = items[--n];
	qsort(items, (size_t)n, sizeof(items[0]), cmp_str);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", i ? "," : "", items[i]);
	prop_set(e, 'M', "members", out, false);
}

static int aggr_opts(struct reader *r, struct ent *e, const struct vw_cmd *c)
{
	const char *P = vw_cmd_opt(c, 'P'), *L = vw_cmd_opt(c, 'L'), *T = vw_cmd_opt(c, 'T');
	char buf[32];

	if (P) {
		if (!*canon_policy(P, buf, sizeof(buf)))
			return RFAIL(r, "%s: invalid policy '%s' (L2, L3, L4 or a list of them)", e->name, P);
		prop_set(e, 'A', "policy", buf, false);
	}
	if (L) {
		snprintf(buf, sizeof(buf), "%s", L);
		lower(buf);
		prop_set(e, 'A', "lacp-mode", buf, false);
	}
	if (T) {
		snprintf(buf, sizeof(buf), "%s", T);
		lower(buf);
		prop_set(e, 'A', "lacp-timer", buf, false);
	}
	return 0;
}

static int vnic_ident(struct reader *r, struct ent *e, const struct vw_cmd *c)
{
	const char *m = vw_cmd_opt(c, 'm'), *pfx = vw_cmd_opt(c, 'r'), *v = vw_cmd_opt(c, 'v');
	uint8_t mac[6];
	char *end;
	unsigned long vid = 0;
	int plen;

	if (v) {
		vid = strtoul(v, &end, 10);
		if (!*v || *end || vid > VW_VID_MAX)
			return RFAIL(r, "%s: invalid VID '%s'", e->name, v);
	}
	if (!m || !strcasecmp(m, "random") || !strcasecmp(m, "auto")) {
		snprintf(e->mactype, sizeof(e->mactype), "%s", m && !strcasecmp(m, "auto") ? "auto" : "random");
		if (pfx && !vw_macprefix_parse(pfx, mac, &plen) && !(plen = 0, vw_mac_parse(pfx, mac) && (plen = 6)))
			return RFAIL(r, "%s: invalid MAC prefix '%s'", e->name, pfx);
		if (!pfx) {
			if (!strcmp(e->mactype, "random"))
				snprintf(e->macpfx, sizeof(e->macpfx), "02:08:20");
		} else {
			snprintf(e->macpfx, sizeof(e->macpfx), "%s", pfx);
			lower(e->macpfx);
		}
	} else {
		if (!vw_mac_parse(m, mac))
			return RFAIL(r, "%s: invalid MAC address '%s'", e->name, m);
		snprintf(e->mactype, sizeof(e->mactype), "fixed");
		vw_mac_format(mac, e->macpfx);
	}
	free(e->ident);
	e->ident = xprintf("-l %s -v %lu", vw_cmd_opt(c, 'l'), vid);
	ent_ref(e, 'l', vw_cmd_opt(c, 'l'));
	return 0;
}

static void accounting_ident(struct ent *e, const struct vw_cmd *c)
{
	const char *i = vw_cmd_opt(c, 'i'), *f = vw_cmd_opt(c, 'f'), *rt = vw_cmd_opt(c, 'r');
	char file[4096], ret[32];
	int64_t ms = ACCT_DEFAULT_RETENTION;

	if (!f)
		f = accounting_default_file(file, sizeof(file));
	if (rt && !hist_duration_parse(rt, &ms))
		ms = -1;
	free(e->ident);
	e->ident = xprintf("-i %s -f %s -r %s", i ? i : "20", f,
			   ms < 0 ? rt : hist_duration_format(ms, ret, sizeof(ret)));
}

static void mirror_ident(struct ent *e, const struct vw_cmd *c)
{
	const char *l = vw_cmd_opt(c, 'l'), *d = vw_cmd_opt(c, 'd'), *f = vw_cmd_opt(c, 'f'), *t = vw_cmd_opt(c, 't');
	char *copy = xstrdup(l), *save = NULL, *s;

	for (s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
		ent_ref(e, 'l', s);
	free(copy);
	if (t && !strchr(t, ':'))
		ent_ref(e, 'l', t);
	free(e->ident);
	e->ident = xprintf("-l %s -d %s -f '%s' -t %s", l ? l : "", d && strcmp(d, "both") ? d : "both", f ? f : "",
			   t ? t : "");
}

static void exporter_ident(struct ent *e, const struct vw_cmd *c)
{
	static const char *const defaults[] = { "active=60", "idle=15", "template=60", "domain=1", NULL };
	const char *l = vw_cmd_opt(c, 'l'), *T = vw_cmd_opt(c, 'T'), *a = vw_cmd_opt(c, 'a');
	char *attrs = list_canon(a ? a : "", defaults), *links = list_canon(l ? l : "", NULL), *save = NULL, *s;
	char *copy = xstrdup(links);

	for (s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
		ent_ref(e, 'l', s);
	free(copy);
	free(e->ident);
	e->ident = xprintf("-T %s -a %s -l %s", T ? T : "", attrs, links);
	free(attrs);
	free(links);
}

static void tunnel_ident(struct ent *e, const struct vw_cmd *c)
{
	static const char *const defaults[] = { "dstport=4789", NULL };
	const char *T = vw_cmd_opt(c, 'T'), *a = vw_cmd_opt(c, 'a'), *p = vw_cmd_opt(c, 'p');
	char *attrs = list_canon(a ? a : "", defaults), *props = list_canon(p ? p : "", NULL);

	free(e->ident);
	e->ident = xprintf("-T %s -a %s -p %s", T ? T : "", attrs, props);
	lower(e->ident);
	free(attrs);
	free(props);
}

/* The link a set-linkprop (or add-aggr...) line names, made by an earlier line. */
static struct ent *named_before(struct reader *r, enum kind k, const char *name, const char *cmd)
{
	struct ent *e = find(r->m, k, name);

	if (!e)
		RFAIL(r, "%s: %s: no %s of that name is created before this line", name, cmd, kind_name[k]);
	return e;
}

static int read_cmd(struct reader *r, struct plan_cmd *pc)
{
	struct model *m = r->m;
	const char *name, *opt_t;
	char why[512], buf[256];
	struct vw_cmd c;
	struct ent *e, *old;
	enum kind k;
	int rc = 0;

	if (vw_cmd_parse(pc->argc, pc->argv, &c, why, sizeof(why)) != VW_OK)
		return RFAIL(r, "%s", why);
	name = c.noperand ? c.operand[0] : "";
	opt_t = strchr(c.def->opts, 't');
	if (m->desired && opt_t && opt_t[1] != ':' && vw_cmd_opt(&c, 't'))
		return RFAIL(r, "%s %s: -t has no place in a vWire file: it holds the persistent configuration", c.def->name,
			     name);
	switch (c.def->id) {
	case VW_CMD_CREATE_ZONE: k = K_ZONE; break;
	case VW_CMD_CREATE_ETHERSTUB: k = K_STUB; break;
	case VW_CMD_CREATE_VNIC: k = K_VNIC; break;
	case VW_CMD_CREATE_AGGR: k = K_AGGR; break;
	case VW_CMD_CREATE_TUNNEL: k = K_TUNNEL; break;
	case VW_CMD_CREATE_ADDR: k = K_ADDR; break;
	case VW_CMD_ADD_FLOW: k = K_FLOW; break;
	case VW_CMD_CREATE_MIRROR: k = K_MIRROR; break;
	case VW_CMD_CREATE_EXPORTER: k = K_EXPORTER; break;
	case VW_CMD_START_ACCOUNTING: k = K_ACCT; name = "on"; break;
	default:
		k = !strcmp(c.def->name, "create-vnm") ? K_VNM : NKINDS;
		break;
	}
	if (k == K_ADDR) {
		struct vw_prefix p;
		char a[64];

		if (!vw_prefix_parse(vw_cmd_opt(&c, 'a'), true, &p))
			return RFAIL(r, "%s: invalid address '%s'", name, vw_cmd_opt(&c, 'a'));
		snprintf(buf, sizeof(buf), "%s %s", vw_prefix_format(&p, a), name);
		name = buf;
	}
	if (k != NKINDS) {
		if ((old = find(m, k, name)))
			return RFAIL(r, "%s: %s twice (first on line %d)", name,
				     k == K_ACCT ? "started" : "created", old->line);
		e = ent_add(m, k, name, r->line);
		ent_cmd(e, pc);
		switch (k) {
		case K_VNIC:
			if ((rc = vnic_ident(r, e, &c)))
				return rc;
			{
				const char *ps[16];
				int i, n = vw_cmd_optall(&c, 'p', ps, 16);

				for (i = 0; i < n && !rc; i++)
					rc = link_props(r, e, ps[i], false);
			}
			return rc;
		case K_AGGR: {
			const char *ls[64];
			int n = vw_cmd_optall(&c, 'l', ls, 64);

			prop_set(e, 'A', "policy", "L4", false);
			prop_set(e, 'A', "lacp-mode", "off", false);
			prop_set(e, 'A', "lacp-timer", "short", false);
			aggr_members(e, ls, n, NULL, 0);
			return aggr_opts(r, e, &c);
		}
		case K_TUNNEL:
			tunnel_ident(e, &c);
			return 0;
		case K_ADDR:
			ent_ref(e, 'l', c.operand[0]);
			return 0;
		case K_FLOW: {
			struct vw_flow_attrs a;
			char text[256];

			if (!vw_flow_attrs_parse(vw_cmd_opt(&c, 'a'), &a, why, sizeof(why)))
				return RFAIL(r, "%s: %s", name, why);
			free(e->ident);
			e->ident = xprintf("-l %s -a %s", vw_cmd_opt(&c, 'l'),
					   vw_flow_attrs_format(&a, text, sizeof(text)));
			ent_ref(e, 'l', vw_cmd_opt(&c, 'l'));
			return vw_cmd_opt(&c, 'p') ? flow_props(r, e, vw_cmd_opt(&c, 'p')) : 0;
		}
		case K_VNM: {
			const char *T = vw_cmd_opt(&c, 'T'), *l = vw_cmd_opt(&c, 'l');
			char *copy = xstrdup(l), *save = NULL, *s;

			for (s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
				ent_ref(e, 'l', s);
			free(copy);
			ent_ref(e, 'z', name);
			free(e->ident);
			e->ident = xprintf("-T %s -l %s", T ? T : "", l ? l : "");
			if (vnm_type_parse(T, &e->vnmtype) < 0)
				return RFAIL(r, "%s: unknown VNM type '%s' (router, nat, lb or firewall)", name, T);
			e->vnm = calloc(1, sizeof(*e->vnm));
			if (!e->vnm)
				abort();
			return vw_cmd_opt(&c, 'p') ? vnm_props(r, e, vw_cmd_opt(&c, 'p')) : 0;
		}
		case K_MIRROR:
			mirror_ident(e, &c);
			return 0;
		case K_EXPORTER:
			exporter_ident(e, &c);
			return 0;
		case K_ACCT:
			accounting_ident(e, &c);
			return 0;
		default:
			return 0;
		}
	}
	/* lines that change an object made before */
	switch (c.def->id) {
	case VW_CMD_SET_LINKPROP: {
		const char *ps[16];
		int i, n = vw_cmd_optall(&c, 'p', ps, 16);

		if (!(e = find(m, K_PHYS, name)))
			e = ent_add(m, K_PHYS, name, r->line);
		ent_cmd(e, pc);
		for (i = 0; i < n && !rc; i++)
			rc = link_props(r, e, ps[i], false);
		return rc;
	}
	case VW_CMD_SET_FLOWPROP:
		if (!(e = named_before(r, K_FLOW, name, c.def->name)))
			return -EINVAL;
		ent_cmd(e, pc);
		return flow_props(r, e, vw_cmd_opt(&c, 'p'));
	case VW_CMD_ADD_AGGR:
	case VW_CMD_REMOVE_AGGR: {
		const char *ls[64];
		int n = vw_cmd_optall(&c, 'l', ls, 64);

		if (!(e = named_before(r, K_AGGR, name, c.def->name)) || e->kind != K_AGGR)
			return e ? RFAIL(r, "%s: not an aggregation", name) : -EINVAL;
		ent_cmd(e, pc);
		if (c.def->id == VW_CMD_ADD_AGGR)
			aggr_members(e, ls, n, NULL, 0);
		else
			aggr_members(e, NULL, 0, ls, n);
		return 0;
	}
	case VW_CMD_MODIFY_AGGR:
		if (!(e = named_before(r, K_AGGR, name, c.def->name)) || e->kind != K_AGGR)
			return e ? RFAIL(r, "%s: not an aggregation", name) : -EINVAL;
		ent_cmd(e, pc);
		return aggr_opts(r, e, &c);
	default:
		break;
	}
	if (!strcmp(c.def->name, "set-vnmprop")) {
		if (!(e = named_before(r, K_VNM, name, c.def->name)))
			return -EINVAL;
		ent_cmd(e, pc);
		return vnm_props(r, e, vw_cmd_opt(&c, 'p'));
	}
	return RFAIL(r, "'%s' has no place in a vWire file: it describes objects (create-*, add-flow, "
			"add-aggr, modify-aggr, set-*prop, start-accounting; --prune deletes what it does not name)",
		     c.def->name);
}

static int model_read(struct model *m, const char *file, const char *text, size_t len, const struct vw_vardef *vars,
		      int nvars, char *err, size_t errlen)
{
	struct vw_vwfile *f = vw_vwfile_open_mem(text, len, file, vars, nvars);
	struct reader r = { m, file, 0, err, errlen };
	char **argv;
	int argc, rc = 0, got;

	if (!f)
		return FAIL("%s: out of memory", file);
	while ((got = vw_vwfile_next(f, &argc, &argv, &r.line, err, errlen)) != 0) {
		struct plan_cmd pc;

		if (got < 0) {
			rc = -EINVAL;
			break;
		}
		pc = cmd_make(argc, argv);
		rc = read_cmd(&r, &pc);
		cmd_free(&pc);
		if (rc)
			break;
	}
	vw_vwfile_close(f);
	return rc;
}

/* ---- comparing ---- */

static bool mac_matches(const struct ent *want, const struct ent *have)
{
	if (strcmp(want->mactype, have->mactype))
		return false;
	if (!strcmp(want->mactype, "fixed"))
		return !strcmp(want->macpfx, have->macpfx);
	return !strncmp(have->macpfx, want->macpfx, strlen(want->macpfx));
}

/* The creation-only properties, in the order of the link property table. */
static void create_only(const struct ent *e, char *buf, size_t len)
{
	static const char *const names[] = { "face", "vhost-socket", "vhost-mode" };
	size_t used = 0, i;
	char v[512];

	buf[0] = '\0';
	for (i = 0; i < 3 && used < len; i++) {
		prop_get(e, 'C', names[i], v, sizeof(v));
		if (*v)
			used += (size_t)snprintf(buf + used, len - used, " %s=%s", names[i], v);
	}
}

static bool ident_same(const struct ent *d, const struct ent *c)
{
	char a[1024], b[1024];

	create_only(d, a, sizeof(a));
	create_only(c, b, sizeof(b));
	if (d->kind != c->kind || strcmp(d->ident, c->ident) || strcmp(a, b))
		return false;
	return d->kind != K_VNIC || mac_matches(d, c);
}

/* The property names of both, once each, in order of appearance. */
static int prop_keys(const struct ent *a, const struct ent *b, char cls[], const char *keys[], int max)
{
	const struct ent *both[2] = { a, b };
	int n = 0, s, i, j;

	for (s = 0; s < (a->partial ? 1 : 2); s++)
		for (i = 0; i < both[s]->nprops; i++) {
			for (j = 0; j < n; j++)
				if (cls[j] == both[s]->props[i].cls && !strcmp(keys[j], both[s]->props[i].k))
					break;
			if (j == n && n < max && both[s]->props[i].cls != 'C') {
				cls[n] = both[s]->props[i].cls;
				keys[n++] = both[s]->props[i].k;
			}
		}
	return n;
}

static bool props_same(const struct ent *d, const struct ent *c)
{
	char cls[2 * MAXPROPS], va[4096], vb[4096];
	const char *keys[2 * MAXPROPS];
	int n = prop_keys(d, c, cls, keys, 2 * MAXPROPS), i;

	for (i = 0; i < n; i++) {
		prop_get(d, cls[i], keys[i], va, sizeof(va));
		prop_get(c, cls[i], keys[i], vb, sizeof(vb));
		if (strcmp(va, vb))
			return false;
	}
	return true;
}

/* ---- steps ---- */

static struct plan_step *step_add(struct plan *p, char *label, int line, struct plan_cmd run)
{
	struct plan_step *s;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->steps = xrealloc(p->steps, sizeof(*p->steps) * (size_t)p->cap);
	}
	s = &p->steps[p->n++];
	memset(s, 0, sizeof(*s));
	s->label = label;
	s->line = line;
	s->run = run;
	return s;
}

static void step_undo(struct plan_step *s, struct plan_cmd u)
{
	s->undo = xrealloc(s->undo, sizeof(*s->undo) * (size_t)(s->nundo + 1));
	s->undo[s->nundo++] = u;
}

/* The command that deletes e; argc 0 when there is none (a phys link
 * without properties). */
static struct plan_cmd delete_cmd(const struct ent *e)
{
	char keys[1024] = "", addr[64];
	size_t used = 0;
	int i;

	switch (e->kind) {
	case K_ACCT: return cmd_words("stop-accounting", NULL);
	case K_ZONE: return cmd_words("delete-zone", e->name, NULL);
	case K_STUB: return cmd_words("delete-etherstub", e->name, NULL);
	case K_AGGR: return cmd_words("delete-aggr", e->name, NULL);
	case K_TUNNEL: return cmd_words("delete-tunnel", e->name, NULL);
	case K_VNIC: return cmd_words("delete-vnic", e->name, NULL);
	case K_FLOW: return cmd_words("remove-flow", e->name, NULL);
	case K_VNM: return cmd_words("delete-vnm", e->name, NULL);
	case K_MIRROR: return cmd_words("delete-mirror", e->name, NULL);
	case K_EXPORTER: return cmd_words("delete-exporter", e->name, NULL);
	case K_ADDR:
		snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(e->name, " "), e->name);
		return cmd_words("delete-addr", "-a", addr, e->name + strcspn(e->name, " ") + 1, NULL);
	case K_PHYS:
		for (i = 0; i < e->nprops && used < sizeof(keys); i++)
			used += (size_t)snprintf(keys + used, sizeof(keys) - used, "%s%s", used ? "," : "",
						 e->props[i].k);
		if (!used)
			return (struct plan_cmd){ 0, NULL };
		return cmd_words("reset-linkprop", "-p", keys, e->name, NULL);
	default:
		return (struct plan_cmd){ 0, NULL };
	}
}

/* Steps that make e (its own lines), each undone by deleting e. */
static void steps_create(struct plan *p, const struct ent *e, char *label, int line)
{
	int i;

	for (i = 0; i < e->ncmds; i++) {
		struct plan_step *s = step_add(p, i ? NULL : label, line, cmd_make(e->cmds[i].argc, e->cmds[i].argv));

		if (!i) {
			struct plan_cmd u = delete_cmd(e);

			if (u.argc)
				step_undo(s, u);
		}
	}
	if (!e->ncmds)
		free(label);
}

/* The step that deletes e, undone by its own lines. */
static void step_delete(struct plan *p, const struct ent *e, char *label)
{
	struct plan_cmd run = delete_cmd(e);
	struct plan_step *s;
	int i;

	if (!run.argc) {
		free(label);
		return;
	}
	s = step_add(p, label, 0, run);
	for (i = 0; i < e->ncmds; i++)
		step_undo(s, cmd_make(e->cmds[i].argc, e->cmds[i].argv));
}

static const char *aggr_flag(const char *k)
{
	return !strcmp(k, "policy") ? "-P" : !strcmp(k, "lacp-mode") ? "-L" : "-T";
}

/* The command that gives property k the value v on e ("" : its default). */
static struct plan_cmd prop_cmd(const struct ent *e, char cls, const char *k, const char *v)
{
	char kv[4200], *copy, *save = NULL, *t;
	size_t used = 0;

	switch (cls) {
	case 'L':
	case 'F':
		if (!*v)
			return cmd_words(cls == 'L' ? "reset-linkprop" : "reset-flowprop", "-p", k, e->name, NULL);
		snprintf(kv, sizeof(kv), "%s=%s", k, v);
		return cmd_words(cls == 'L' ? "set-linkprop" : "set-flowprop", "-p", kv, e->name, NULL);
	case 'V':
		if (!*v)
			return cmd_words("reset-vnmprop", "-p", k, e->name, NULL);
		copy = xstrdup(v);
		kv[0] = '\0';
		for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			used += (size_t)snprintf(kv + used, sizeof(kv) - used, "%s%s=%s", used ? "," : "", k, t);
		free(copy);
		return cmd_words("set-vnmprop", "-p", kv, e->name, NULL);
	default: /* 'A' */
		return cmd_words("modify-aggr", aggr_flag(k), v, e->name, NULL);
	}
}

/* Whether the comma list has item t. */
static bool list_has(const char *list, const char *t)
{
	size_t n = strlen(t);
	const char *s = list;

	while ((s = strstr(s, t))) {
		if ((s == list || s[-1] == ',') && (s[n] == ',' || !s[n]))
			return true;
		s += n;
	}
	return false;
}

/* Steps that change c (the daemon's) into d (the file's), in place. */
static void steps_change(struct plan *p, const struct ent *d, const struct ent *c)
{
	char cls[2 * MAXPROPS], want[4096], have[4096], label[8192];
	const char *keys[2 * MAXPROPS];
	int n = prop_keys(d, c, cls, keys, 2 * MAXPROPS), i, used;
	char *first = NULL;

	used = snprintf(label, sizeof(label), "change %s %s:", kind_name[d->kind], d->name);
	for (i = 0; i < n; i++) {
		prop_get(d, cls[i], keys[i], want, sizeof(want));
		prop_get(c, cls[i], keys[i], have, sizeof(have));
		if (!strcmp(want, have))
			continue;
		if (used < (int)sizeof(label))
			used += snprintf(label + used, sizeof(label) - (size_t)used, "%s %s %s -> %s",
					 first ? "," : "", keys[i], *have ? have : "(default)", *want ? want : "(default)");
		first = label;
	}
	first = xstrdup(label);
	for (i = 0; i < n; i++) {
		struct plan_step *s;
		char *copy, *save = NULL, *t;

		prop_get(d, cls[i], keys[i], want, sizeof(want));
		prop_get(c, cls[i], keys[i], have, sizeof(have));
		if (!strcmp(want, have))
			continue;
		if (cls[i] != 'M') {
			s = step_add(p, first, d->line, prop_cmd(d, cls[i], keys[i], want));
			step_undo(s, prop_cmd(c, cls[i], keys[i], have));
			first = NULL;
			continue;
		}
		/* members: the new ones join before the old ones leave */
		copy = xstrdup(want);
		for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (!list_has(have, t)) {
				s = step_add(p, first, d->line, cmd_words("add-aggr", "-l", t, d->name, NULL));
				step_undo(s, cmd_words("remove-aggr", "-l", t, d->name, NULL));
				first = NULL;
			}
		free(copy);
		copy = xstrdup(have);
		for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (!list_has(want, t)) {
				s = step_add(p, first, d->line, cmd_words("remove-aggr", "-l", t, d->name, NULL));
				step_undo(s, cmd_words("add-aggr", "-l", t, d->name, NULL));
				first = NULL;
			}
		free(copy);
	}
	free(first);
}

/* The identity as the plan shows it. */
static char *ident_text(const struct ent *e)
{
	char co[1024];

	create_only(e, co, sizeof(co));
	if (e->kind == K_VNIC)
		return xprintf("%s%s -m %s%s%s", e->ident, co, e->mactype, *e->macpfx ? "/" : "", e->macpfx);
	return xstrdup(e->ident);
}

/* Marks what depends on the objects that go; 0, or an error naming a file
 * line whose object needs one that --prune deletes. */
static int cascade(struct model *cur, const char *file, char *err, size_t errlen)
{
	bool more = true;
	char key[128];
	int i, j;

	while (more) {
		more = false;
		for (i = 0; i < cur->n; i++) {
			struct ent *c = cur->e[i];

			if (!c->gone || !ent_key(c, key, sizeof(key)))
				continue;
			for (j = 0; j < cur->n; j++) {
				struct ent *e = cur->e[j];

				if (e->gone || !refers(e, key))
					continue;
				if (c->pruned) {
					if (e->peer && refers(e->peer, key))
						return FAIL("%s:%d: %s needs %s %s, which --prune deletes: the file does "
							    "not create it",
							    file, e->peer->line, e->peer->name, kind_name[c->kind], c->name);
					if (e->peer)
						continue; /* the change moves it off first */
					e->gone = e->pruned = true;
					snprintf(e->why, sizeof(e->why), " (%s %s is deleted)", kind_name[c->kind],
						 c->name);
				} else {
					e->gone = true;
					snprintf(e->why, sizeof(e->why), " (%s %s is replaced)", kind_name[c->kind],
						 c->name);
					if (e->peer)
						e->peer->st = ST_REPLACE;
					else
						e->recreate = true;
				}
				more = true;
			}
		}
	}
	return 0;
}

static int make(struct model *want, struct model *cur, bool prune, struct plan *p, char *err, size_t errlen)
{
	bool kinds[NKINDS] = { false };
	int i, k, rc;

	for (i = 0; i < want->n; i++) {
		struct ent *d = want->e[i], *c = find(cur, d->kind, d->name);

		if (!c) {
			d->st = ST_CREATE;
			continue;
		}
		d->peer = c;
		c->peer = d;
		if (d->kind == K_PHYS && c->kind != K_PHYS) {
			/* set-linkprop of a link made, not by the file, but before it: the
			 * file names those properties only */
			d->partial = true;
			d->kind = c->kind;
			d->st = props_same(d, c) ? ST_SAME : ST_CHANGE;
		} else if (!ident_same(d, c)) {
			d->st = ST_REPLACE;
			c->gone = true;
		} else {
			d->st = props_same(d, c) ? ST_SAME : ST_CHANGE;
		}
	}
	for (i = 0; i < want->n; i++)
		if (!want->e[i]->partial)
			kinds[want->e[i]->kind] = true;
	for (i = 0; prune && i < cur->n; i++) {
		struct ent *c = cur->e[i];

		if (!c->peer && kinds[c->kind])
			c->gone = c->pruned = true;
	}
	if ((rc = cascade(cur, want->file, err, errlen)))
		return rc;

	/* 1: deletions for replacements, dependents first */
	for (k = NKINDS - 1; k >= 0; k--)
		for (i = cur->n - 1; i >= 0; i--) {
			struct ent *c = cur->e[i];

			if (c->kind != (enum kind)k || !c->gone || c->pruned)
				continue;
			if (c->peer && c->peer->st == ST_REPLACE) {
				char *now = ident_text(c->peer), *was = ident_text(c);

				step_delete(p, c,
					    *c->why ? xprintf("replace %s %s%s", kind_name[k], c->name, c->why)
						    : xprintf("replace %s %s: %s (was %s)", kind_name[k], c->name, now, was));
				free(now);
				free(was);
			} else {
				step_delete(p, c, xprintf("recreate %s %s%s", kind_name[k], c->name, c->why));
			}
			p->count[PLAN_REPLACE]++;
		}
	/* 2: creations, in replay order */
	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < want->n; i++) {
			struct ent *d = want->e[i];

			if (d->kind != (enum kind)k)
				continue;
			if (d->st == ST_CREATE) {
				steps_create(p, d, xprintf("create %s %s", kind_name[k], d->name), d->line);
				p->count[PLAN_CREATE]++;
			} else if (d->st == ST_REPLACE) {
				steps_create(p, d, NULL, d->line);
			}
		}
		for (i = 0; i < cur->n; i++)
			if (cur->e[i]->kind == (enum kind)k && cur->e[i]->recreate)
				steps_create(p, cur->e[i], NULL, 0);
	}
	/* 3: changes in place */
	for (k = 0; k < NKINDS; k++)
		for (i = 0; i < want->n; i++) {
			struct ent *d = want->e[i];

			if (d->kind == (enum kind)k && d->st == ST_CHANGE) {
				steps_change(p, d, d->peer);
				p->count[PLAN_CHANGE]++;
			}
		}
	/* 4: what the file does not name */
	for (k = NKINDS - 1; k >= 0; k--)
		for (i = cur->n - 1; i >= 0; i--) {
			struct ent *c = cur->e[i];

			if (c->kind == (enum kind)k && c->pruned) {
				step_delete(p, c, xprintf("delete %s %s%s", kind_name[k], c->name, c->why));
				p->count[PLAN_DELETE]++;
			}
		}
	for (i = 0; i < want->n; i++)
		p->same += want->e[i]->st == ST_SAME;
	return 0;
}

int plan_make(const char *file, const char *text, size_t len, const struct vw_vardef *vars, int nvars,
	      const char *cur, size_t curlen, bool prune, struct plan *p, char *err, size_t errlen)
{
	struct model want = { .file = file, .desired = true }, have = { .file = "(the daemon's configuration)" };
	int rc;

	memset(p, 0, sizeof(*p));
	rc = model_read(&want, file, text, len, vars, nvars, err, errlen);
	if (!rc)
		rc = model_read(&have, have.file, cur, curlen, NULL, 0, err, errlen);
	if (!rc)
		rc = make(&want, &have, prune, p, err, errlen);
	model_free(&want);
	model_free(&have);
	if (rc)
		plan_free(p);
	return rc;
}

void plan_free(struct plan *p)
{
	int i, j;

	for (i = 0; i < p->n; i++) {
		free(p->steps[i].label);
		cmd_free(&p->steps[i].run);
		for (j = 0; j < p->steps[i].nundo; j++)
			cmd_free(&p->steps[i].undo[j]);
		free(p->steps[i].undo);
	}
	free(p->steps);
	memset(p, 0, sizeof(*p));
}
