/*
 * The accounting history file: schema, time parsing, and the queries
 * `vwstat show-history` makes (lib/history.h).  The writer is
 * observability/accounting.c in the daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "lib/history.h"
#include "lib/vwire.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS vwire_history(key TEXT PRIMARY KEY, value TEXT);"
	"INSERT OR IGNORE INTO vwire_history VALUES('format','" HIST_FORMAT "'),('version','1');"
	"CREATE TABLE IF NOT EXISTS sessions(id INTEGER PRIMARY KEY, start INTEGER NOT NULL,"
	" last INTEGER NOT NULL, stopped INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS names(id INTEGER PRIMARY KEY, session INTEGER NOT NULL,"
	" name TEXT NOT NULL, class TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER,"
	" deleted INTEGER NOT NULL DEFAULT 0);"
	/* in time order: appends, range reads and pruning walk the key */
	"CREATE TABLE IF NOT EXISTS samples(t1 INTEGER NOT NULL, id INTEGER NOT NULL, t0 INTEGER NOT NULL,"
	" ipkts INTEGER NOT NULL, rbytes INTEGER NOT NULL, opkts INTEGER NOT NULL, obytes INTEGER NOT NULL,"
	" PRIMARY KEY(t1, id)) WITHOUT ROWID;";

int64_t hist_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1: ours; 0: an empty database; -1: something else. */
static int hist_check(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc, ntables = 0, ours = 0;

	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ntables++;
		if (!strcmp((const char *)sqlite3_column_text(st, 0), "vwire_history"))
			ours = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (!ntables)
		return 0;
	if (!ours || sqlite3_prepare_v2(db, "SELECT value FROM vwire_history WHERE key='format'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), HIST_FORMAT);
	sqlite3_finalize(st);
	return rc ? 1 : -1;
}

sqlite3 *hist_open(const char *path, bool readonly, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	int ours;

	if (rc != SQLITE_OK) {
		if (readonly && rc == SQLITE_CANTOPEN)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
		else
			snprintf(err, errlen, "%s: cannot open: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 2000);
	ours = hist_check(db);
	if (ours < 0 || (readonly && !ours)) {
		snprintf(err, errlen, "%s: not a vwire history file", path);
		sqlite3_close(db);
		return NULL;
	}
	if (!readonly) {
		char *msg = NULL;

		/* WAL: a crash loses at most the last samples, never the file */
		if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "%s: cannot write: %s", path, msg ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			sqlite3_close(db);
			return NULL;
		}
	}
	return db;
}

/* ---- times ---- */

static bool unit_ms(char u, int64_t *ms)
{
	switch (u) {
	case 's': *ms = 1000; return true;
	case 'm': *ms = 60000; return true;
	case 'h': *ms = 3600000; return true;
	case 'd': *ms = 86400000; return true;
	case 'w': *ms = 7 * 86400000LL; return true;
	}
	return false;
}

bool hist_duration_parse(const char *s, int64_t *ms)
{
	char *end;
	unsigned long long n;
	int64_t u = 1000;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || n > 100000000ULL || (*end && (end[1] || !unit_ms(*end, &u))))
		return false;
	*ms = (int64_t)n * u;
	return *ms > 0;
}

const char *hist_duration_format(int64_t ms, char *buf, size_t len)
{
	static const struct { char u; int64_t ms; } units[] = {
		{ 'w', 7 * 86400000LL }, { 'd', 86400000 }, { 'h', 3600000 }, { 'm', 60000 }, { 's', 1000 },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%c", (long long)(ms / units[i].ms), units[i].u);
			return buf;
		}
	snprintf(buf, len, "%llds", (long long)(ms / 1000));
	return buf;
}

/* Reads exactly n digits as a number. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	while (n--) {
		if (**p < '0' || **p > '9')
			return false;
		*v = *v * 10 + (*(*p)++ - '0');
	}
	return true;
}

/* "HH:MM[:SS]" at *p, to the end of the string. */
static bool clock_parse(const char *p, struct tm *tm)
{
	int h, m, sec = 0;

	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &m))
		return false;
	if (*p == ':' && (p++, !digits(&p, 2, &sec)))
		return false;
	if (*p || h > 23 || m > 59 || sec > 60)
		return false;
	tm->tm_hour = h, tm->tm_min = m, tm->tm_sec = sec;
	return true;
}

bool hist_time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	time_t now = (time_t)(now_ms / 1000), t;
	struct tm tm;
	const char *p = s;
	int y, mo, d = 0;

	if (!strcmp(s, "now")) {
		*ms = now_ms;
		return true;
	}
	if (*s == '-') {
		int64_t d;

		if (!hist_duration_parse(s + 1, &d))
			return false;
		*ms = now_ms - d;
		return true;
	}
	if (*p == '@')
		p++;
	if (*p >= '0' && *p <= '9' && strspn(p, "0123456789") == strlen(p) && (p != s || strlen(p) > 8)) {
		unsigned long long v = strtoull(p, NULL, 10);

		if (strlen(p) > 12)
			return false;
		*ms = (int64_t)v * 1000;
		return true;
	}
	localtime_r(&now, &tm);
	tm.tm_isdst = -1;
	if (strlen(s) >= 10 && s[4] == '-') {
		if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d) ||
		    mo < 1 || mo > 12 || d < 1 || d > 31)
			return false;
		tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (*p && ((*p != ' ' && *p != 'T') || !clock_parse(p + 1, &tm)))
			return false;
	} else if (!clock_parse(s, &tm)) {
		return false;
	}
	t = mktime(&tm);
	if (t == (time_t)-1 || (d && tm.tm_mday != d)) /* mktime normalises Feb 31 */
		return false;
	*ms = (int64_t)t * 1000;
	return true;
}

uint64_t hist_bps(uint64_t bytes, int64_t ms)
{
	return ms > 0 ? (uint64_t)((long double)bytes * 8000.0L / (long double)ms + 0.5L) : 0;
}

static const char *seconds(int64_t ms, char *buf, size_t len)
{
	snprintf(buf, len, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
	return buf;
}

const char *hist_field(const struct hist_row *r, const char *key, bool interval, char *buf, size_t len)
{
	if (!strcmp(key, "name"))
		return r->name;
	if (!strcmp(key, "class"))
		return r->cls;
	if (!strcmp(key, "deleted"))
		return r->deleted ? "yes" : "no";
	if (!strcmp(key, "start"))
		return seconds(r->t0, buf, len);
	if (!strcmp(key, "end"))
		return seconds(r->t1, buf, len);
	if (!strcmp(key, "duration"))
		return seconds(interval ? r->t1 - r->t0 : r->duration, buf, len);
	if (!strcmp(key, "bandwidth"))
		snprintf(buf, len, "%llu",
			 (unsigned long long)hist_bps(r->rbytes + r->obytes, interval ? r->t1 - r->t0 : r->duration));
	else
		snprintf(buf, len, "%llu",
			 (unsigned long long)(!strcmp(key, "ipkts") ? r->ipkts : !strcmp(key, "rbytes") ? r->rbytes :
					      !strcmp(key, "opkts") ? r->opkts : r->obytes));
	return buf;
}

bool hist_field_is_text(const char *key)
{
	return !strcmp(key, "name") || !strcmp(key, "class") || !strcmp(key, "deleted");
}

void hist_json(struct vw_buf *o, const char *const *keys, int nkeys, const struct hist_row *rows, int n,
	       bool interval)
{
	char buf[64];
	int i, k;

	vw_buf_printf(o, "[");
	for (i = 0; i < n; i++) {
		/* names are [A-Za-z0-9_.-]: nothing to quote or escape */
		vw_buf_printf(o, "%s\n{", i ? "," : "");
		for (k = 0; k < nkeys; k++) {
			const char *v = hist_field(&rows[i], keys[k], interval, buf, sizeof(buf));

			if (hist_field_is_text(keys[k]))
				vw_buf_printf(o, "%s\"%s\":\"%s\"", k ? "," : "", keys[k], v);
			else
				vw_buf_printf(o, "%s\"%s\":%s", k ? "," : "", keys[k], v);
		}
		vw_buf_printf(o, "}");
	}
	vw_buf_printf(o, "%s]\n", n ? "\n" : "");
}

/* ---- queries ---- */

struct series {
	int64_t id, first, last;
	int sum; /* index in r->sum */
};

static int row_cmp(const void *a, const void *b)
{
	const struct hist_row *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (!c)
		c = strcmp(x->cls, y->cls);
	if (!c)
		c = x->t1 < y->t1 ? -1 : x->t1 > y->t1;
	return c;
}

static bool wanted(const char *name, char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return !n;
}

static int series_find(const struct series *s, int n, int64_t id)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (s[mid].id == id)
			return mid;
		if (s[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static void *grow(void *p, int n, int *cap, size_t size)
{
	void *q;

	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	q = realloc(p, (size_t)*cap * size);
	if (!q)
		free(p);
	return q;
}

int hist_query(sqlite3 *db, int64_t from, int64_t to, char *const *names, int n, struct hist_result *r, char *err,
	       size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct series *ser = NULL;
	int nser = 0, capser = 0, capsum = 0, capiv = 0, i, rc;

	memset(r, 0, sizeof(*r));
	/* series in id order (ids grow), spans clipped to the range */
	rc = sqlite3_prepare_v2(db,
				"SELECT n.id, n.name, n.class, n.first, coalesce(n.last, s.last), n.deleted"
				" FROM names n JOIN sessions s ON s.id = n.session ORDER BY n.id",
				-1, &st, NULL);
	while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1), *cls = (const char *)sqlite3_column_text(st, 2);
		int64_t first = sqlite3_column_int64(st, 3), last = sqlite3_column_int64(st, 4);
		struct hist_row *h;
		int k;

		if (!wanted(name, names, n) || last < from || first > to)
			continue;
		for (k = 0; k < r->nsum; k++)
			if (!strcmp(r->sum[k].name, name) && !strcmp(r->sum[k].cls, cls))
				break;
		if (k == r->nsum) {
			if (!(r->sum = grow(r->sum, r->nsum, &capsum, sizeof(*r->sum))))
				goto oom;
			h = &r->sum[r->nsum++];
			memset(h, 0, sizeof(*h));
			snprintf(h->name, sizeof(h->name), "%s", name);
			snprintf(h->cls, sizeof(h->cls), "%s", cls);
			h->t0 = INT64_MAX;
		}
		h = &r->sum[k];
		/* the latest series of a name says whether it was deleted */
		h->deleted = sqlite3_column_int(st, 5);
		if (first < from)
			first = from;
		if (last > to)
			last = to;
		if (last > first)
			h->duration += last - first;
		if (first < h->t0)
			h->t0 = first;
		if (last > h->t1)
			h->t1 = last;
		if (!(ser = grow(ser, nser, &capser, sizeof(*ser))))
			goto oom;
		ser[nser++] = (struct series){ sqlite3_column_int64(st, 0), first, last, k };
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_OK)
		goto dberr;
	for (i = 0; i < n; i++) {
		int k;

		for (k = 0; k < r->nsum && strcmp(r->sum[k].name, names[i]); k++)
			;
		if (k == r->nsum) {
			snprintf(err, errlen, "%s: no history in the selected time range", names[i]);
			goto fail;
		}
	}
	rc = sqlite3_prepare_v2(db,
				"SELECT id, t0, t1, ipkts, rbytes, opkts, obytes FROM samples"
				" WHERE t1 > ?1 AND t1 <= ?2 ORDER BY t1, id",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, from);
		sqlite3_bind_int64(st, 2, to);
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k = series_find(ser, nser, sqlite3_column_int64(st, 0));
		struct hist_row *s, *v;

		rc = SQLITE_OK;
		if (k < 0)
			continue;
		s = &r->sum[ser[k].sum];
		if (!(r->iv = grow(r->iv, r->niv, &capiv, sizeof(*r->iv))))
			goto oom;
		v = &r->iv[r->niv++];
		*v = *s;
		v->t0 = sqlite3_column_int64(st, 1);
		v->t1 = sqlite3_column_int64(st, 2);
		v->duration = v->t1 - v->t0;
		v->ipkts = (uint64_t)sqlite3_column_int64(st, 3);
		v->rbytes = (uint64_t)sqlite3_column_int64(st, 4);
		v->opkts = (uint64_t)sqlite3_column_int64(st, 5);
		v->obytes = (uint64_t)sqlite3_column_int64(st, 6);
		s->ipkts += v->ipkts, s->rbytes += v->rbytes, s->opkts += v->opkts, s->obytes += v->obytes;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		goto dberr;
	if (r->nsum)
		qsort(r->sum, (size_t)r->nsum, sizeof(*r->sum), row_cmp);
	if (r->niv)
		qsort(r->iv, (size_t)r->niv, sizeof(*r->iv), row_cmp);
	free(ser);
	return 0;
dberr:
	snprintf(err, errlen, "cannot read history: %s", sqlite3_errmsg(db));
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	sqlite3_finalize(st);
	free(ser);
	hist_result_free(r);
	return -1;
}

void hist_result_free(struct hist_result *r)
{
	free(r->sum);
	free(r->iv);
	memset(r, 0, sizeof(*r));
}
