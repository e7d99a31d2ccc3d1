/*
 * Table-driven output shared by vwadm and vwstat, and usage errors of the
 * getopt CLIs (see output.h).
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/output.h"

static int add_field(struct out *o, const struct out_field *f, char *err, size_t errlen)
{
	if (o->n == OUT_MAXFIELDS) {
		snprintf(err, errlen, "too many fields");
		return -1;
	}
	o->f[o->n++] = f;
	return 0;
}

static const struct out_field *find_field(const struct out_field *tab, const char *name, size_t len)
{
	for (; tab->name; tab++)
		if (strlen(tab->name) == len && !strncasecmp(tab->name, name, len))
			return tab;
	return NULL;
}

int out_init(struct out *o, const struct out_field *tab, const char *list, const char *deflt, enum out_mode mode,
	     FILE *fp, char *err, size_t errlen)
{
	const char *p;

	memset(o, 0, sizeof(*o));
	o->mode = mode;
	o->fp = fp;
	if (!list)
		list = deflt;
	if (!list || !strcasecmp(list, "all")) {
		for (; tab->name; tab++)
			if (add_field(o, tab, err, errlen) < 0)
				return -1;
		return 0;
	}
	for (p = list;; p++) {
		size_t len = strcspn(p, ",");
		const struct out_field *f = find_field(tab, p, len);

		if (!f) {
			snprintf(err, errlen, "unknown field '%.*s'", (int)len, p);
			return -1;
		}
		if (add_field(o, f, err, errlen) < 0)
			return -1;
		p += len;
		if (!*p)
			return 0;
	}
}

void out_begin(struct out *o)
{
	o->nrows = 0;
	if (o->mode == OUT_JSON)
		fputc('[', o->fp);
}

void out_end(struct out *o)
{
	if (o->mode == OUT_JSON)
		fputs("]\n", o->fp);
	fflush(o->fp);
}

static const char *value(const struct out_field *f, const char *v, const char *empty)
{
	if (v && *v)
		return v;
	return f->none ? f->none : empty;
}

static const char unit_letters[] = "RKMGTP";

int out_unit_parse(const char *s)
{
	const char *p;

	if (!s[0] || s[1] || !(p = strchr(unit_letters, toupper((unsigned char)s[0]))))
		return -2;
	return (int)(p - unit_letters);
}

void out_human(char *buf, size_t len, uint64_t v, unsigned base, int unit)
{
	uint64_t div = 1, h;
	int u;

	if (unit == OUT_UNIT_RAW || (unit == OUT_UNIT_AUTO && v < base)) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	if (unit == OUT_UNIT_AUTO) {
		for (u = 1, div = base; u < OUT_UNIT_MAX && v / div >= base; u++)
			div *= base;
	} else {
		for (u = 0; u < unit; u++)
			div *= base;
	}
	/* hundredths of the unit; (v % div) * 100 < 1024^5 * 100 cannot overflow */
	h = v / div * 100 + ((v % div) * 100 + div / 2) / div;
	if (unit == OUT_UNIT_AUTO && h >= (uint64_t)base * 100 && u < OUT_UNIT_MAX) {
		div *= base;
		u++;
		h = v / div * 100 + ((v % div) * 100 + div / 2) / div;
	}
	snprintf(buf, len, "%" PRIu64 ".%02" PRIu64 "%c", h / 100, h % 100, unit_letters[u]);
}

static void table_line(struct out *o, const char *const *vals)
{
	char buf[32];
	uint64_t n;
	int i;

	for (i = 0; i < o->n; i++) {
		const struct out_field *f = o->f[i];
		const char *v = vals ? value(f, vals[i], "--") : f->name;

		if (vals && (f->flags & OUT_F_SCALE) && o->unit != OUT_UNIT_RAW && vw_uint_parse(v, 0, UINT64_MAX, &n)) {
			out_human(buf, sizeof(buf), n, f->flags & OUT_F_BYTES ? 1024 : 1000, o->unit);
			v = buf;
		}

		if (i)
			fputc(' ', o->fp);
		if (f->flags & OUT_F_NUM)
			fprintf(o->fp, "%*s", f->width, v);
		else if (i == o->n - 1)
			fputs(v, o->fp);
		else
			fprintf(o->fp, "%-*s", f->width, v);
	}
	fputc('\n', o->fp);
}

static void parsable_line(struct out *o, const char *const *vals)
{
	bool escape = o->n > 1;
	int i;

	for (i = 0; i < o->n; i++) {
		const char *v = value(o->f[i], vals[i], "");

		if (i)
			fputc(':', o->fp);
		for (; *v; v++) {
			if (escape && (*v == ':' || *v == '\\'))
				fputc('\\', o->fp);
			fputc(*v, o->fp);
		}
	}
	fputc('\n', o->fp);
}

static bool is_number(const char *v)
{
	if (!*v || (v[0] == '0' && v[1]))
		return false;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v))
			return false;
	return true;
}

static void json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void json_object(struct out *o, const char *const *vals)
{
	int i;

	fputs(o->nrows ? ",{" : "{", o->fp);
	for (i = 0; i < o->n; i++) {
		const struct out_field *f = o->f[i];
		const char *v = value(f, vals[i], "");
		const char *c;

		if (i)
			fputc(',', o->fp);
		fputc('"', o->fp);
		for (c = f->name; *c; c++)
			fputc(tolower((unsigned char)*c), o->fp);
		fputs("\":", o->fp);
		if ((f->flags & OUT_F_NUM) && !*v)
			fputs("null", o->fp);
		else if ((f->flags & OUT_F_NUM) && is_number(v))
			fputs(v, o->fp);
		else
			json_string(o->fp, v);
	}
	fputc('}', o->fp);
}

void out_row(struct out *o, const char *const *vals)
{
	switch (o->mode) {
	case OUT_TABLE:
		if (!o->nrows)
			table_line(o, NULL);
		table_line(o, vals);
		break;
	case OUT_PARSABLE:
		parsable_line(o, vals);
		break;
	case OUT_JSON:
		json_object(o, vals);
		break;
	}
	o->nrows++;
}

void out_record(struct out *o, const struct vw_record *r)
{
	const char *vals[OUT_MAXFIELDS];
	int i;

	for (i = 0; i < o->n; i++)
		vals[i] = vw_record_get(r, o->f[i]->key);
	out_row(o, vals);
}

int out_usage_error(const char *prog, const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s\n", usage);
	return 2;
}

int out_getopt_error(const char *prog, const char *usage, int ch, const struct option *longopts,
		     char **argv)
{
	const char *opt = argv[optind - 1];
	char buf[64];

	if (optopt) {   /* a short option, or a long one getopt knows */
		snprintf(buf, sizeof(buf), "-%c", optopt);
		for (; longopts && longopts->name; longopts++)
			if (longopts->val == optopt && !strncmp(opt, "--", 2))
				snprintf(buf, sizeof(buf), "--%s", longopts->name);
		opt = buf;
	}
	return out_usage_error(prog, usage, ch == ':' ? "option '%s' needs a value" : "unknown option '%s'",
			       opt);
}
