/*
 * Accounting history (SPEC §4 start-accounting, §6 vwstat show-history):
 * the SQLite file the daemon samples links and flows into, and what reads
 * it.  Linked into vwired (observability/accounting.c writes) and vwstat
 * (reads, read-only).
 *
 * Schema (times are integer milliseconds since the epoch):
 *   vwire_history(key, value)  format=vwire-history, version=1
 *   sessions(id, start, last, stopped)   one per start-accounting or daemon
 *                              start; last is the time of its last sample
 *   names(id, session, name, class, first, last, deleted)
 *                              one per series: a link or flow from its
 *                              first sample until it was deleted
 *                              (deleted=1) or its session ended (last NULL
 *                              while it runs: read the session's last)
 *   samples(t1, id, t0, ipkts, rbytes, opkts, obytes)
 *                              the traffic of series id over (t0, t1];
 *                              an interval with no traffic has no row
 */
#ifndef VW_HISTORY_H
#define VW_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_FORMAT "vwire-history"
#define HIST_VERSION 1
#define HIST_DEFAULT_FILE "history.db" /* in the state directory */

struct sqlite3;

/* Opens (creating the schema when the file is new or empty) a history
 * file; readonly opens an existing one only.  NULL with a one-line reason
 * in err ("FILE: not a vwire history file"). */
struct sqlite3 *hist_open(const char *path, bool readonly, char *err, size_t errlen);

/*
 * A time for -s/-e, in ms since the epoch, local time:
 *   "YYYY-MM-DD HH:MM[:SS]" (or with 'T'), "YYYY-MM-DD", "HH:MM[:SS]"
 *   (today), epoch seconds ("1764180000", "@1764180000"), "now", and
 *   relative "-10m" (s, m, h, d, w before now).
 */
bool hist_time_parse(const char *s, int64_t now_ms, int64_t *ms);
/* A duration: N with s, m, h, d or w (bare: seconds); in ms. */
bool hist_duration_parse(const char *s, int64_t *ms);
/* Formats a duration the way hist_duration_parse reads it ("7d", "90m"). */
const char *hist_duration_format(int64_t ms, char *buf, size_t len);
int64_t hist_now_ms(void);

/* One series' totals or one interval. */
struct hist_row {
	char name[32];
	char cls[12];
	bool deleted;
	int64_t t0, t1;   /* interval (or, for a summary, the first and last sample) */
	int64_t duration; /* summary: ms sampled within the range */
	uint64_t ipkts, rbytes, opkts, obytes;
};

struct hist_result {
	struct hist_row *sum; /* one per (name, class), sorted by name */
	int nsum;
	struct hist_row *iv;  /* intervals, sorted by name then time */
	int niv;
};

/*
 * Reads [from, to] (ms; a sample counts when its interval ends in
 * (from, to]) for the names given (all when n == 0).  -1 with a reason in
 * err (a name never sampled included).
 */
int hist_query(struct sqlite3 *db, int64_t from, int64_t to, char *const *names, int n, struct hist_result *r,
	       char *err, size_t errlen);
void hist_result_free(struct hist_result *r);

/* Bits per second of bytes over ms (0 for an empty interval). */
uint64_t hist_bps(uint64_t bytes, int64_t ms);

/*
 * A field of a row as CSV and JSON give it (exact: times and durations in
 * seconds with milliseconds, bandwidth in bit/s, counters whole): name,
 * class, deleted (yes|no), start, end, duration, ipkts, rbytes, opkts,
 * obytes, bandwidth.  interval: r is one interval (its duration is t1 - t0).
 */
const char *hist_field(const struct hist_row *r, const char *key, bool interval, char *buf, size_t len);
/* name, class and deleted are text; the rest numbers. */
bool hist_field_is_text(const char *key);
struct vw_buf;
/* The rows as vwstat show-history -F json prints them: an array of objects
 * with the nkeys fields keys, counters and times as numbers. */
void hist_json(struct vw_buf *o, const char *const *keys, int nkeys, const struct hist_row *rows, int n,
	       bool interval);

#endif
