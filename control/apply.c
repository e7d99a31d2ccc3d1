/*
 * vwadm apply: runs the plan (control/plan.c) through the handlers every
 * command goes through, without saving after each.  On the first error the
 * steps done are undone, last first, and nothing is saved; at the end the
 * state file is saved once (and should that fail, everything is undone
 * too).  A crash part way leaves the state file as it was before: the
 * restart replays the old configuration.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/apply.h"
#include "control/ctl.h"
#include "control/persist.h"
#include "control/plan.h"

#define MAXVARS 64

static void line_out(struct vw_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_out(struct vw_buf *out, const char *fmt, ...)
{
	char text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	vw_buf_kv(out, "record", "line");
	vw_buf_kv(out, "text", "%s", text);
}

/* Undoes steps [0, n) last first; the first failure goes into why. */
static void undo(const struct plan *p, int n, char *why, size_t whylen)
{
	char err[512], cmd[1024];
	int i, j;

	for (i = n - 1; i >= 0; i--)
		for (j = 0; j < p->steps[i].nundo; j++)
			if (ctl_exec(p->steps[i].undo[j].argc, p->steps[i].undo[j].argv, err, sizeof(err)) && !*why)
				snprintf(why, whylen, "%.300s: %.200s", plan_cmd_text(&p->steps[i].undo[j], cmd, sizeof(cmd)),
					 err);
}

/* The label of the object step i belongs to. */
static const char *label_of(const struct plan *p, int i)
{
	while (i > 0 && !p->steps[i].label)
		i--;
	return p->steps[i].label ? p->steps[i].label : "";
}

static void summary(struct vw_buf *out, const char *file, const struct plan *p, bool dry)
{
	if (!p->n) {
		line_out(out, "%s: nothing to change (%d object%s as the file says)", file, p->same,
			 p->same == 1 ? "" : "s");
		return;
	}
	line_out(out, "%s: %d %s, %d %s, %d %s, %d %s; %d as the file says", file, p->count[PLAN_CREATE],
		 dry ? "to create" : "created", p->count[PLAN_CHANGE], dry ? "to change" : "changed",
		 p->count[PLAN_REPLACE], dry ? "to replace" : "replaced", p->count[PLAN_DELETE],
		 dry ? "to delete" : "deleted", p->same);
}

int do_apply(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *file = c->operand[0], *defs[MAXVARS];
	struct vw_vardef vars[MAXVARS];
	struct vw_buf cur = { 0 };
	char names[MAXVARS][64], why[512] = "", cmd[1024];
	struct plan p;
	char *text;
	long len;
	int nvars, i, rc = 0;

	if (c->noperand < 2) {
		snprintf(err, errlen, "apply: %s: the file's text did not come with the request (use vwadm apply)", file);
		return -EINVAL;
	}
	nvars = vw_cmd_optall(c, 'D', defs, MAXVARS);
	for (i = 0; i < nvars; i++) {
		const char *eq = strchr(defs[i], '=');

		if (!eq || eq == defs[i] || eq - defs[i] >= (long)sizeof(names[0])) {
			snprintf(err, errlen, "apply: invalid -D '%s' (VAR=VALUE)", defs[i]);
			return -EINVAL;
		}
		snprintf(names[i], sizeof(names[i]), "%.*s", (int)(eq - defs[i]), defs[i]);
		vars[i].name = names[i];
		vars[i].value = eq + 1;
	}
	text = strdup(c->operand[1]);
	if (!text) {
		snprintf(err, errlen, "apply: out of memory");
		return -ENOMEM;
	}
	if ((len = vw_text_unescape(text)) < 0) {
		free(text);
		snprintf(err, errlen, "apply: %s: the file's text came garbled", file);
		return -EINVAL;
	}
	state_export(&cur);
	if (cur.oom) {
		free(text);
		vw_buf_free(&cur);
		snprintf(err, errlen, "apply: out of memory");
		return -ENOMEM;
	}
	rc = plan_make(file, text, (size_t)len, vars, nvars, cur.p ? cur.p : "", cur.len, vw_cmd_opt(c, 'P') != NULL,
		       &p, err, errlen);
	free(text);
	vw_buf_free(&cur);
	if (rc)
		return rc;
	if (vw_cmd_opt(c, 'n')) {
		for (i = 0; i < p.n; i++)
			if (p.steps[i].label)
				line_out(out, "%s", p.steps[i].label);
		summary(out, file, &p, true);
		plan_free(&p);
		return 0;
	}
	for (i = 0; i < p.n; i++) {
		char e[512] = "";

		if ((rc = ctl_exec(p.steps[i].run.argc, p.steps[i].run.argv, e, sizeof(e))) == 0)
			continue;
		if (p.steps[i].line)
			snprintf(err, errlen, "%s:%d: %s", file, p.steps[i].line, e);
		else
			snprintf(err, errlen, "%s: %s: %s: %s", file, label_of(&p, i),
				 plan_cmd_text(&p.steps[i].run, cmd, sizeof(cmd)), e);
		break;
	}
	if (!rc && p.n)
		rc = state_save(err, errlen);
	if (rc) {
		size_t l;

		undo(&p, i, why, sizeof(why));
		l = strlen(err);
		snprintf(err + l, errlen - l, "%s%s", *why ? "; undoing failed too: " : "; nothing changed",
			 why);
		plan_free(&p);
		return rc;
	}
	for (i = 0; i < p.n; i++)
		if (p.steps[i].label)
			line_out(out, "%s", p.steps[i].label);
	summary(out, file, &p, false);
	plan_free(&p);
	return 0;
}
