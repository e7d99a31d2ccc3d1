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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/plan_impl.h"

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

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
		plan_prop_get(e, 'C', names[i], v, sizeof(v));
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
		plan_prop_get(d, cls[i], keys[i], va, sizeof(va));
		plan_prop_get(c, cls[i], keys[i], vb, sizeof(vb));
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
		p->steps = plan_realloc(p->steps, sizeof(*p->steps) * (size_t)p->cap);
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
	s->undo = plan_realloc(s->undo, sizeof(*s->undo) * (size_t)(s->nundo + 1));
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
	case K_ACCT: return plan_cmd_words("stop-accounting", NULL);
	case K_ZONE: return plan_cmd_words("delete-zone", e->name, NULL);
	case K_STUB: return plan_cmd_words("delete-etherstub", e->name, NULL);
	case K_AGGR: return plan_cmd_words("delete-aggr", e->name, NULL);
	case K_TUNNEL: return plan_cmd_words("delete-tunnel", e->name, NULL);
	case K_VNIC: return plan_cmd_words("delete-vnic", e->name, NULL);
	case K_FLOW: return plan_cmd_words("remove-flow", e->name, NULL);
	case K_VNM: return plan_cmd_words("delete-vnm", e->name, NULL);
	case K_MIRROR: return plan_cmd_words("delete-mirror", e->name, NULL);
	case K_EXPORTER: return plan_cmd_words("delete-exporter", e->name, NULL);
	case K_ADDR:
		snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(e->name, " "), e->name);
		return plan_cmd_words("delete-addr", "-a", addr, e->name + strcspn(e->name, " ") + 1, NULL);
	case K_PHYS:
		for (i = 0; i < e->nprops && used < sizeof(keys); i++)
			used += (size_t)snprintf(keys + used, sizeof(keys) - used, "%s%s", used ? "," : "",
						 e->props[i].k);
		if (!used)
			return (struct plan_cmd){ 0, NULL };
		return plan_cmd_words("reset-linkprop", "-p", keys, e->name, NULL);
	default:
		return (struct plan_cmd){ 0, NULL };
	}
}

/* Steps that make e (its own lines), each undone by deleting e. */
static void steps_create(struct plan *p, const struct ent *e, char *label, int line)
{
	int i;

	for (i = 0; i < e->ncmds; i++) {
		struct plan_step *s = step_add(p, i ? NULL : label, line, plan_cmd_make(e->cmds[i].argc, e->cmds[i].argv));

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
		step_undo(s, plan_cmd_make(e->cmds[i].argc, e->cmds[i].argv));
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
			return plan_cmd_words(cls == 'L' ? "reset-linkprop" : "reset-flowprop", "-p", k, e->name, NULL);
		snprintf(kv, sizeof(kv), "%s=%s", k, v);
		return plan_cmd_words(cls == 'L' ? "set-linkprop" : "set-flowprop", "-p", kv, e->name, NULL);
	case 'V':
		if (!*v)
			return plan_cmd_words("reset-vnmprop", "-p", k, e->name, NULL);
		copy = plan_strdup(v);
		kv[0] = '\0';
		for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			used += (size_t)snprintf(kv + used, sizeof(kv) - used, "%s%s=%s", used ? "," : "", k, t);
		free(copy);
		return plan_cmd_words("set-vnmprop", "-p", kv, e->name, NULL);
	default: /* 'A' */
		return plan_cmd_words("modify-aggr", aggr_flag(k), v, e->name, NULL);
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

/* For each member in list but not in other: `verb -l MEMBER NAME`, undone
 * by `undo -l MEMBER NAME`; the first step takes the label *first. */
static void steps_members(struct plan *p, const struct ent *d, const char *list, const char *other, const char *verb,
			  const char *undo, char **first)
{
	char *copy = plan_strdup(list), *save = NULL, *t;
	struct plan_step *s;

	for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!list_has(other, t)) {
			s = step_add(p, *first, d->line, plan_cmd_words(verb, "-l", t, d->name, NULL));
			step_undo(s, plan_cmd_words(undo, "-l", t, d->name, NULL));
			*first = NULL;
		}
	free(copy);
}

/* Steps that change c (the daemon's) into d (the file's), in place. */
static void steps_change(struct plan *p, const struct ent *d, const struct ent *c)
{
	char cls[2 * MAXPROPS], want[4096], have[4096], label[8192];
	const char *keys[2 * MAXPROPS];
	int n = prop_keys(d, c, cls, keys, 2 * MAXPROPS), i, used;
	char *first = NULL;

	used = snprintf(label, sizeof(label), "change %s %s:", plan_kind_name[d->kind], d->name);
	for (i = 0; i < n; i++) {
		plan_prop_get(d, cls[i], keys[i], want, sizeof(want));
		plan_prop_get(c, cls[i], keys[i], have, sizeof(have));
		if (!strcmp(want, have))
			continue;
		if (used < (int)sizeof(label))
			used += snprintf(label + used, sizeof(label) - (size_t)used, "%s %s %s -> %s",
					 first ? "," : "", keys[i], *have ? have : "(default)", *want ? want : "(default)");
		first = label;
	}
	first = plan_strdup(label);
	for (i = 0; i < n; i++) {
		struct plan_step *s;

		plan_prop_get(d, cls[i], keys[i], want, sizeof(want));
		plan_prop_get(c, cls[i], keys[i], have, sizeof(have));
		if (!strcmp(want, have))
			continue;
		if (cls[i] != 'M') {
			s = step_add(p, first, d->line, prop_cmd(d, cls[i], keys[i], want));
			step_undo(s, prop_cmd(c, cls[i], keys[i], have));
			first = NULL;
			continue;
		}
		/* members: the new ones join before the old ones leave */
		steps_members(p, d, want, have, "add-aggr", "remove-aggr", &first);
		steps_members(p, d, have, want, "remove-aggr", "add-aggr", &first);
	}
	free(first);
}

/* The identity as the plan shows it. */
static char *ident_text(const struct ent *e)
{
	char co[1024];

	create_only(e, co, sizeof(co));
	if (e->kind == K_VNIC)
		return plan_printf("%s%s -m %s%s%s", e->ident, co, e->mactype, *e->macpfx ? "/" : "", e->macpfx);
	return plan_strdup(e->ident);
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

			if (!c->gone || !plan_ent_key(c, key, sizeof(key)))
				continue;
			for (j = 0; j < cur->n; j++) {
				struct ent *e = cur->e[j];

				if (e->gone || !plan_refers(e, key))
					continue;
				if (c->pruned) {
					if (e->peer && plan_refers(e->peer, key))
						return FAIL("%s:%d: %s needs %s %s, which --prune deletes: the file does "
							    "not create it",
							    file, e->peer->line, e->peer->name, plan_kind_name[c->kind], c->name);
					if (e->peer)
						continue; /* the change moves it off first */
					e->gone = e->pruned = true;
					snprintf(e->why, sizeof(e->why), " (%s %s is deleted)", plan_kind_name[c->kind],
						 c->name);
				} else {
					e->gone = true;
					snprintf(e->why, sizeof(e->why), " (%s %s is replaced)", plan_kind_name[c->kind],
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
		struct ent *d = want->e[i], *c = plan_find(cur, d->kind, d->name);

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
					    *c->why ? plan_printf("replace %s %s%s", plan_kind_name[k], c->name, c->why)
						    : plan_printf("replace %s %s: %s (was %s)", plan_kind_name[k], c->name, now, was));
				free(now);
				free(was);
			} else {
				step_delete(p, c, plan_printf("recreate %s %s%s", plan_kind_name[k], c->name, c->why));
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
				steps_create(p, d, plan_printf("create %s %s", plan_kind_name[k], d->name), d->line);
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
				step_delete(p, c, plan_printf("delete %s %s%s", plan_kind_name[k], c->name, c->why));
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
	rc = plan_model_read(&want, file, text, len, vars, nvars, err, errlen);
	if (!rc)
		rc = plan_model_read(&have, have.file, cur, curlen, NULL, 0, err, errlen);
	if (!rc)
		rc = make(&want, &have, prune, p, err, errlen);
	plan_model_free(&want);
	plan_model_free(&have);
	if (rc)
		plan_free(p);
	return rc;
}

void plan_free(struct plan *p)
{
	int i, j;

	for (i = 0; i < p->n; i++) {
		free(p->steps[i].label);
		plan_cmd_free(&p->steps[i].run);
		for (j = 0; j < p->steps[i].nundo; j++)
			plan_cmd_free(&p->steps[i].undo[j]);
		free(p->steps[i].undo);
	}
	free(p->steps);
	memset(p, 0, sizeof(*p));
}
