/*
 * vwstat show-history: reads the accounting history file (SQLite, written
 * by the daemon, lib/history.h) directly and read-only, and
 * prints per-name summaries or, with -i, the stored intervals, as a table,
 * CSV, JSON, gnuplot data blocks or an SVG chart of bandwidth over time.
 * Without -f the file is the one the daemon names in show-accounting (its
 * state directory may have been moved with --state-dir); with no daemon,
 * the default state directory's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "cli/history.h"
#include "cli/output.h"
#include "lib/vwire.h"
#include "lib/history.h"

#define PROG "vwstat"
#define HUSAGE \
	"usage: " PROG " [--socket PATH] show-history [-f FILE] [-s TIME] [-e TIME] [-i] [-o FIELD,...]" \
	" [-F table|csv|json|gnuplot|svg] [-u R|K|M|G|T|P] [NAME...]"

static const struct out_field sum_fields[] = {
	{ "NAME", "name", 15, 0, NULL },
	{ "CLASS", "class", 9, 0, NULL },
	{ "DELETED", "deleted", 7, 0, NULL },
	{ "START", "start", 19, OUT_F_NUM, NULL },
	{ "END", "end", 19, OUT_F_NUM, NULL },
	{ "DURATION", "duration", 9, OUT_F_NUM, NULL },
	{ "IPKTS", "ipkts", 10, OUT_F_NUM | OUT_F_SCALE, NULL },
	{ "RBYTES", "rbytes", 10, OUT_F_NUM | OUT_F_SCALE | OUT_F_BYTES, NULL },
	{ "OPKTS", "opkts", 10, OUT_F_NUM | OUT_F_SCALE, NULL },
	{ "OBYTES", "obytes", 10, OUT_F_NUM | OUT_F_SCALE | OUT_F_BYTES, NULL },
	{ "BANDWIDTH", "bandwidth", 12, OUT_F_NUM, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

const struct out_field *history_fields(void)
{
	return sum_fields;
}

#define SUM_DEFAULT "name,duration,ipkts,rbytes,opkts,obytes,bandwidth"
#define IV_DEFAULT "name,start,end,rbytes,obytes,bandwidth"

enum fmt { F_TABLE, F_CSV, F_JSON, F_GNUPLOT, F_SVG };

/* The daemon's history file, or the default one when no daemon answers. */
static void daemon_file(const char *sock, char *path, size_t len)
{
	char *argv[] = { "show-accounting", NULL }, err[256];
	struct vw_handle *h;
	struct vw_reply rep;
	int i;

	snprintf(path, len, "%s/%s", VW_DEFAULT_STATE_DIR, HIST_DEFAULT_FILE);
	if (vw_open(sock, &h, err, sizeof(err)) != VW_OK)
		return;
	if (vw_call(h, 1, argv, &rep) == VW_OK) {
		for (i = 0; i < rep.nrec; i++) {
			const char *f = vw_record_get(&rep.recs[i], "file");

			if (!strcmp(rep.recs[i].type, "accounting") && f && *f)
				snprintf(path, len, "%s", f);
		}
		vw_reply_free(&rep);
	}
	vw_close(h);
}

static const char *local_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* "1.58 Mbps", as dlstat prints bandwidth. */
static const char *bw_human(uint64_t bps, char *buf, size_t len)
{
	static const char *const u[] = { "bps", "Kbps", "Mbps", "Gbps", "Tbps" };
	double v = (double)bps;
	int i = 0;

	while (v >= 1000 && i < 4)
		v /= 1000, i++;
	if (i)
		snprintf(buf, len, "%.2f %s", v, u[i]);
	else
		snprintf(buf, len, "%llu %s", (unsigned long long)bps, u[0]);
	return buf;
}

/* The value of field key for row r: readable in the table, exact else
 * (hist_field). */
static const char *value(const struct hist_row *r, const char *key, bool table, bool interval, char *buf, size_t len)
{
	if (table && (!strcmp(key, "start") || !strcmp(key, "end")))
		return local_time(!strcmp(key, "start") ? r->t0 : r->t1, buf, len);
	if (table && !strcmp(key, "duration")) {
		int64_t d = interval ? r->t1 - r->t0 : r->duration;

		snprintf(buf, len, "%llds", (long long)((d + 500) / 1000));
		return buf;
	}
	if (table && !strcmp(key, "bandwidth"))
		return bw_human(hist_bps(r->rbytes + r->obytes, interval ? r->t1 - r->t0 : r->duration), buf, len);
	return hist_field(r, key, interval, buf, len);
}

/* table (output.c), CSV with a header line, or a JSON array of objects
 * whose counters, times and durations are numbers (hist_json) */
static void print_rows(struct out *o, enum fmt fmt, const struct hist_row *rows, int n, bool interval)
{
	char bufs[OUT_MAXFIELDS][64];
	const char *vals[OUT_MAXFIELDS];
	int i, k;

	if (fmt == F_JSON) {
		struct vw_buf b = { 0 };

		for (k = 0; k < o->n; k++)
			vals[k] = o->f[k]->key;
		hist_json(&b, vals, o->n, rows, n, interval);
		if (b.p)
			fwrite(b.p, 1, b.len, stdout);
		vw_buf_free(&b);
		return;
	}
	if (fmt == F_CSV) {
		for (k = 0; k < o->n; k++)
			printf("%s%s", k ? "," : "", o->f[k]->key);
		printf("\n");
	} else {
		out_begin(o);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < o->n; k++)
			vals[k] = value(&rows[i], o->f[k]->key, fmt == F_TABLE, interval, bufs[k], sizeof(bufs[k]));
		if (fmt == F_TABLE) {
			out_row(o, vals);
			continue;
		}
		for (k = 0; k < o->n; k++)
			printf("%s%s", k ? "," : "", vals[k]);
		printf("\n");
	}
	if (fmt == F_TABLE)
		out_end(o);
}

/* The intervals of summary s: [*first, *end) of r->iv. */
static int ivs_of(const struct hist_result *r, const struct hist_row *s, int *first)
{
	int i = 0, n;

	while (i < r->niv && (strcmp(r->iv[i].name, s->name) || strcmp(r->iv[i].cls, s->cls)))
		i++;
	*first = i;
	for (n = 0; i + n < r->niv && !strcmp(r->iv[i + n].name, s->name) && !strcmp(r->iv[i + n].cls, s->cls); n++)
		;
	return n;
}

static void print_gnuplot(const struct hist_result *r, const char *file, int64_t from, int64_t to)
{
	char a[32], b[32];
	int i, j, first, n;

	printf("# vwire accounting history %s, %s to %s\n", file, local_time(from, a, sizeof(a)),
	       local_time(to, b, sizeof(b)));
	printf("# one data block per name (plot ... index N); columns:\n"
	       "# start end (epoch seconds) rbytes obytes bandwidth (bit/s)\n");
	for (i = 0; i < r->nsum; i++) {
		const struct hist_row *s = &r->sum[i];

		printf("%s# %s %s%s (index %d)\n", i ? "\n\n" : "", s->name, s->cls, s->deleted ? " deleted" : "", i);
		n = ivs_of(r, s, &first);
		if (!n) /* gnuplot wants no empty block */
			printf("%s %s 0 0 0\n", hist_field(s, "start", false, a, sizeof(a)), hist_field(s, "end", false, b, sizeof(b)));
		for (j = first; j < first + n; j++) {
			const struct hist_row *v = &r->iv[j];

			printf("%s %s %llu %llu %llu\n", hist_field(v, "start", true, a, sizeof(a)), hist_field(v, "end", true, b, sizeof(b)),
			       (unsigned long long)v->rbytes, (unsigned long long)v->obytes,
			       (unsigned long long)hist_bps(v->rbytes + v->obytes, v->t1 - v->t0));
		}
	}
}

/* ---- SVG ---- */

#define SW 960
#define SH 480
#define ML 90  /* left margin: y labels */
#define MR 200 /* right: legend */
#define MT 50
#define MB 60

static const char *const colors[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
				      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

static void xml_text(const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", stdout); break;
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		default: putchar(*s);
		}
}

/* 1, 2 or 5 times a power of ten, at least v. */
static double nice(double v)
{
	double p = 1;

	while (p * 10 <= v)
		p *= 10;
	while (p > v && p > 1e-9)
		p /= 10;
	return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

static void print_svg(const struct hist_result *r, const char *file, int64_t from, int64_t to)
{
	static const char *const units[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
	int64_t x0 = INT64_MAX, x1 = 0;
	double ymax = 0, scale = 1, step, top;
	char a[32], b[32];
	int i, j, u = 0, first, n;

	for (i = 0; i < r->nsum; i++) {
		x0 = r->sum[i].t0 < x0 ? r->sum[i].t0 : x0;
		x1 = r->sum[i].t1 > x1 ? r->sum[i].t1 : x1;
	}
	if (!r->nsum)
		x0 = from, x1 = to;
	if (x1 <= x0)
		x1 = x0 + 1000;
	for (i = 0; i < r->niv; i++) {
		double bps = (double)hist_bps(r->iv[i].rbytes + r->iv[i].obytes, r->iv[i].t1 - r->iv[i].t0);

		ymax = bps > ymax ? bps : ymax;
	}
	while (ymax / scale >= 1000 && u < 4)
		scale *= 1000, u++;
	step = nice(ymax / scale / 5 > 0 ? ymax / scale / 5 : 0.2);
	top = step * 5;
	while (top < ymax / scale)
		top += step;
/* an interval begun before the range is drawn from its start */
#define X(t) (ML + (double)(((t) < x0 ? x0 : (t)) - x0) * (SW - ML - MR) / (double)(x1 - x0))
#define Y(v) (SH - MB - (v) / scale / top * (SH - MT - MB))
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
	       " font-family=\"sans-serif\" font-size=\"12\">\n",
	       SW, SH, SW, SH);
	printf("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SW, SH);
	printf("<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">Bandwidth per link, %s to %s</text>\n",
	       (SW - MR + ML) / 2, local_time(x0, a, sizeof(a)), local_time(x1, b, sizeof(b)));
	printf("<desc>");
	xml_text(file);
	printf("</desc>\n");
	/* grid and y axis */
	for (i = 0; i <= (int)(top / step + 0.5); i++) {
		double v = i * step * scale;

		printf("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, Y(v), SW - MR, Y(v));
		printf("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, Y(v) + 4, i * step);
	}
	printf("<text transform=\"translate(20,%d) rotate(-90)\" text-anchor=\"middle\">bandwidth (%s)</text>\n",
	       (SH - MB + MT) / 2, units[u]);
	/* x axis: six times */
	for (i = 0; i <= 5; i++) {
		int64_t t = x0 + (x1 - x0) * i / 5;
		time_t tt = (time_t)(t / 1000);
		struct tm tm;

		localtime_r(&tt, &tm);
		strftime(a, sizeof(a), "%H:%M:%S", &tm);
		printf("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", X(t), MT, X(t), SH - MB);
		printf("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", X(t), SH - MB + 18, a);
	}
	printf("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (local)</text>\n", (SW - MR + ML) / 2, SH - 14);
	printf("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", ML, SH - MB, SW - MR, SH - MB);
	printf("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", ML, MT, ML, SH - MB);
	/* one line per name: steps over its intervals, 0 where none */
	for (i = 0; i < r->nsum; i++) {
		const struct hist_row *s = &r->sum[i];
		const char *c = colors[i % 10];
		int64_t prev = s->t0;

		n = ivs_of(r, s, &first);
		printf("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"", c,
		       s->deleted ? " stroke-dasharray=\"4 2\"" : "");
		for (j = first; j < first + n; j++) {
			const struct hist_row *v = &r->iv[j];
			double bps = (double)hist_bps(v->rbytes + v->obytes, v->t1 - v->t0);

			if (v->t0 > prev)
				printf("%.1f,%.1f %.1f,%.1f ", X(prev), Y(0.0), X(v->t0), Y(0.0));
			printf("%.1f,%.1f %.1f,%.1f ", X(v->t0), Y(bps), X(v->t1), Y(bps));
			prev = v->t1;
		}
		if (prev < s->t1 || !n)
			printf("%.1f,%.1f %.1f,%.1f", X(prev), Y(0.0), X(s->t1 > prev ? s->t1 : prev), Y(0.0));
		printf("\"><title>");
		xml_text(s->name);
		printf("</title></polyline>\n");
		printf("<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>\n", SW - MR + 16, MT + 16 * i + 4,
		       c);
		printf("<text x=\"%d\" y=\"%d\">", SW - MR + 36, MT + 16 * i + 10);
		xml_text(s->name);
		printf("%s</text>\n", s->deleted ? " (deleted)" : "");
	}
	printf("</svg>\n");
#undef X
#undef Y
}

int history_main(const char *sock, int argc, char **argv)
{
	const char *file = NULL, *s = NULL, *e = NULL, *format = "table", *fields = NULL, *unit = NULL;
	static const char *const fmts[] = { "table", "csv", "json", "gnuplot", "svg" };
	char path[4096], err[512];
	struct hist_result r;
	bool interval = false;
	int64_t now = hist_now_ms(), from = 0, to = now;
	enum fmt fmt = F_TABLE;
	struct out o;
	sqlite3 *db;
	size_t k;
	int ch, rc;

	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, ":f:s:e:F:io:u:")) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 's': s = optarg; break;
		case 'e': e = optarg; break;
		case 'F': format = optarg; break;
		case 'i': interval = true; break;
		case 'o': fields = optarg; break;
		case 'u': unit = optarg; break;
		default: return out_getopt_error(PROG, HUSAGE, ch, NULL, argv);
		}
	}
	for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]) && strcmp(fmts[k], format); k++)
		;
	if (k == sizeof(fmts) / sizeof(fmts[0])) {
		fprintf(stderr, PROG ": invalid format '%s' (table, csv, json, gnuplot or svg)\n", format);
		return 2;
	}
	fmt = (enum fmt)k;
	if (s && !hist_time_parse(s, now, &from)) {
		fprintf(stderr, PROG ": invalid time '%s' (YYYY-MM-DD HH:MM:SS, HH:MM, epoch seconds or -10m)\n", s);
		return 2;
	}
	if (e && !hist_time_parse(e, now, &to)) {
		fprintf(stderr, PROG ": invalid time '%s' (YYYY-MM-DD HH:MM:SS, HH:MM, epoch seconds or -10m)\n", e);
		return 2;
	}
	if (from >= to) {
		fprintf(stderr, PROG ": the start time is not before the end time\n");
		return 2;
	}
	if (out_init(&o, sum_fields, fields, interval ? IV_DEFAULT : SUM_DEFAULT, OUT_TABLE,
		     stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	o.unit = OUT_UNIT_AUTO;
	if (unit && (o.unit = out_unit_parse(unit)) < OUT_UNIT_AUTO) {
		fprintf(stderr, PROG ": invalid unit '%s' (R, K, M, G, T or P)\n", unit);
		return 2;
	}
	if (!file) {
		daemon_file(sock, path, sizeof(path));
		file = path;
	}
	db = hist_open(file, true, err, sizeof(err));
	if (!db) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	rc = hist_query(db, from, to, argv + optind, argc - optind, &r, err, sizeof(err));
	sqlite3_close(db);
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	if (fmt == F_GNUPLOT)
		print_gnuplot(&r, file, from, to);
	else if (fmt == F_SVG)
		print_svg(&r, file, from, to);
	else if (interval)
		print_rows(&o, fmt, r.iv, r.niv, true);
	else
		print_rows(&o, fmt, r.sum, r.nsum, false);
	hist_result_free(&r);
	return 0;
}
