/*
 * The plan of `vwadm apply`: reading a vWire text (the file, or the
 * daemon's export) into objects (struct ent, control/plan_impl.h): a key
 * (kind and name), an identity (what no command changes in place: a VNIC's
 * link, VID and MAC, a flow's attributes, a tunnel's addresses...) and
 * properties (what set-linkprop, set-flowprop, set-vnmprop, modify-aggr and
 * add-/remove-aggr change live), both in canonical text, through each
 * value's own parser, so that "maxbw=100" and "maxbw=100M" are equal and
 * defaults left out equal defaults written.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/plan_impl.h"
#include "lib/history.h"
#include "objects/link.h"
#include "objects/vnm.h"
#include "observability/accounting.h"

const char *const plan_kind_name[NKINDS] = { "accounting", "zone", "etherstub", "phys", "aggr", "tunnel",
					       "vnic", "addr", "flow", "vnm", "mirror", "exporter" };

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static bool is_link(enum kind k)
{
	return k == K_STUB || k == K_PHYS || k == K_AGGR || k == K_TUNNEL || k == K_VNIC;
}

char *plan_strdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fprintf(stderr, "vwired: out of memory\n");
		abort();
	}
	return d;
}

void *plan_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "vwired: out of memory\n");
		abort();
	}
	return p;
}

char *plan_printf(const char *fmt, ...)
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

struct plan_cmd plan_cmd_make(int argc, char *const argv[])
{
	struct plan_cmd c = { argc, plan_realloc(NULL, sizeof(char *) * (size_t)(argc + 1)) };
	int i;

	for (i = 0; i < argc; i++)
		c.argv[i] = plan_strdup(argv[i]);
	c.argv[argc] = NULL;
	return c;
}

/* A command from words, NULL-terminated. */
struct plan_cmd plan_cmd_words(const char *w0, ...)
{
	const char *w[32];
	va_list ap;
	int n = 0;

	w[n++] = w0;
	va_start(ap, w0);
	while (n < 31 && (w[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	return plan_cmd_make(n, (char *const *)w);
}

void plan_cmd_free(struct plan_cmd *c)
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
		plan_cmd_free(&e->cmds[i]);
	free(e->cmds);
	free(e);
}

void plan_model_free(struct model *m)
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

struct ent *plan_find(const struct model *m, enum kind k, const char *name)
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
	e->name = plan_strdup(name);
	e->ident = plan_strdup("");
	e->line = line;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->e = plan_realloc(m->e, sizeof(*m->e) * (size_t)m->cap);
	}
	m->e[m->n++] = e;
	return e;
}

static void ent_cmd(struct ent *e, const struct plan_cmd *c)
{
	if (e->ncmds == e->ccap) {
		e->ccap = e->ccap ? 2 * e->ccap : 4;
		e->cmds = plan_realloc(e->cmds, sizeof(*e->cmds) * (size_t)e->ccap);
	}
	e->cmds[e->ncmds++] = plan_cmd_make(c->argc, c->argv);
}

static void ent_ref(struct ent *e, char type, const char *name)
{
	if (e->nrefs < MAXREFS && name && *name)
		e->refs[e->nrefs++] = plan_printf("%c:%s", type, name);
}

bool plan_refers(const struct ent *e, const char *key)
{
	int i;

	for (i = 0; i < e->nrefs; i++)
		if (!strcmp(e->refs[i], key))
			return true;
	return false;
}

/* What others call it by ("l:NAME", "z:NAME"); NULL: nothing refers to it. */
const char *plan_ent_key(const struct ent *e, char *buf, size_t len)
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
					e->props[i].v = plan_strdup(v);
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
		e->props[e->nprops].k = plan_strdup(k);
		e->props[e->nprops].v = plan_strdup(v);
		e->nprops++;
	}
}

/* The values of property k, joined with ',' in order ("" when unset). */
void plan_prop_get(const struct ent *e, char cls, const char *k, char *buf, size_t len)
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
	char *copy = plan_strdup(list), *items[256], *save = NULL, *t;
	size_t len = strlen(list) + 2, used = 0;
	char *out = plan_realloc(NULL, len);
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
	char *copy = plan_strdup(list), *keys[64], *vals[64], canon[VW_MAX_ALLOWED * 48], why[256];
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
	char *copy = plan_strdup(list), *keys[32], *vals[32], canon[64], why[256];
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
	char *copy = plan_strdup(p), *save = NULL, *t;

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

	plan_prop_get(e, 'M', "members", cur, sizeof(cur));
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
	e->ident = plan_printf("-l %s -v %lu", vw_cmd_opt(c, 'l'), vid);
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
	e->ident = plan_printf("-i %s -f %s -r %s", i ? i : "20", f,
			   ms < 0 ? rt : hist_duration_format(ms, ret, sizeof(ret)));
}

static void mirror_ident(struct ent *e, const struct vw_cmd *c)
{
	const char *l = vw_cmd_opt(c, 'l'), *d = vw_cmd_opt(c, 'd'), *f = vw_cmd_opt(c, 'f'), *t = vw_cmd_opt(c, 't');
	char *copy = plan_strdup(l), *save = NULL, *s;

	for (s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
		ent_ref(e, 'l', s);
	free(copy);
	if (t && !strchr(t, ':'))
		ent_ref(e, 'l', t);
	free(e->ident);
	e->ident = plan_printf("-l %s -d %s -f '%s' -t %s", l ? l : "", d && strcmp(d, "both") ? d : "both", f ? f : "",
			   t ? t : "");
}

static void exporter_ident(struct ent *e, const struct vw_cmd *c)
{
	static const char *const defaults[] = { "active=60", "idle=15", "template=60", "domain=1", NULL };
	const char *l = vw_cmd_opt(c, 'l'), *T = vw_cmd_opt(c, 'T'), *a = vw_cmd_opt(c, 'a');
	char *attrs = list_canon(a ? a : "", defaults), *links = list_canon(l ? l : "", NULL), *save = NULL, *s;
	char *copy = plan_strdup(links);

	for (s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
		ent_ref(e, 'l', s);
	free(copy);
	free(e->ident);
	e->ident = plan_printf("-T %s -a %s -l %s", T ? T : "", attrs, links);
	free(attrs);
	free(links);
}

static void tunnel_ident(struct ent *e, const struct vw_cmd *c)
{
	static const char *const defaults[] = { "dstport=4789", NULL };
	const char *T = vw_cmd_opt(c, 'T'), *a = vw_cmd_opt(c, 'a'), *p = vw_cmd_opt(c, 'p');
	char *attrs = list_canon(a ? a : "", defaults), *props = list_canon(p ? p : "", NULL);

	free(e->ident);
	e->ident = plan_printf("-T %s -a %s -p %s", T ? T : "", attrs, props);
	lower(e->ident);
	free(attrs);
	free(props);
}

/* The link a set-linkprop (or add-aggr...) line names, made by an earlier line. */
static struct ent *named_before(struct reader *r, enum kind k, const char *name, const char *cmd)
{
	struct ent *e = plan_find(r->m, k, name);

	if (!e)
		RFAIL(r, "%s: %s: no %s of that name is created before this line", name, cmd, plan_kind_name[k]);
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
	/* a name the daemon would refuse is the file's error, here, with its
	 * line; and a name that starts like an option could not be given to
	 * the delete that undoes it */
	if (k != NKINDS && k != K_ADDR && k != K_ACCT) {
		bool ok = k == K_ZONE || k == K_VNM ? vw_zonename_valid(name)
			  : k == K_FLOW || k == K_MIRROR ? vw_flowname_valid(name)
							 : vw_linkname_valid(name);

		if (!ok)
			return RFAIL(r, "%s: invalid name '%s' (letters, digits, '_', '.', '-', starting with a letter)",
				     c.def->name, name);
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
		if ((old = plan_find(m, k, name)))
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
			e->ident = plan_printf("-l %s -a %s", vw_cmd_opt(&c, 'l'),
					   vw_flow_attrs_format(&a, text, sizeof(text)));
			ent_ref(e, 'l', vw_cmd_opt(&c, 'l'));
			return vw_cmd_opt(&c, 'p') ? flow_props(r, e, vw_cmd_opt(&c, 'p')) : 0;
		}
		case K_VNM: {
			const char *T = vw_cmd_opt(&c, 'T'), *l = vw_cmd_opt(&c, 'l');
			char *copy = plan_strdup(l), *save = NULL, *s;

			for (s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
				ent_ref(e, 'l', s);
			free(copy);
			ent_ref(e, 'z', name);
			free(e->ident);
			e->ident = plan_printf("-T %s -l %s", T ? T : "", l ? l : "");
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

		if (!(e = plan_find(m, K_PHYS, name)))
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

int plan_model_read(struct model *m, const char *file, const char *text, size_t len, const struct vw_vardef *vars,
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
		pc = plan_cmd_make(argc, argv);
		rc = read_cmd(&r, &pc);
		plan_cmd_free(&pc);
		if (rc)
			break;
	}
	vw_vwfile_close(f);
	return rc;
}

