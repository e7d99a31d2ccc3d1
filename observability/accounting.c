/*
 * Accounting: every interval (a timerfd in the control loop) the daemon
 * reads each link's counters with link_counters() (what `vwstat` shows) and
 * each flow's with vw_flow_stats_sum() (what `vwstat show-flow` shows), and
 * writes what changed since the last sample as one row per link or flow,
 * all in one transaction.  Rows hold deltas, so totals are sums:
 *   - a series starts at its link's creation (counters from 0) or, for what
 *     exists when accounting starts, at the counters of that moment;
 *   - a VNIC's port going away (deletion) is sampled first, so nothing is
 *     lost; the etherstub above it, whose counters sum its VNICs' ports, is
 *     rebased by the VNIC's share;
 *   - a counter that goes back anyway (a flow re-created between samples)
 *     starts a new count from 0.
 * Deleted links and flows keep their rows and are marked deleted.  Rows
 * older than the retention are pruned once a minute.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sqlite3.h>

#include "datapath/flow.h"
#include "objects/flow.h"
#include "objects/link.h"
#include "observability/accounting.h"
#include "lib/history.h"
#include "observability/loop.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)
#define PRUNE_MS 60000

struct series {
	char name[32];
	char cls[12];
	bool flow;
	bool used;
	int64_t id;
	int64_t t_prev;   /* end of the last interval */
	uint64_t last[4]; /* counters at t_prev (or the port's last reading) */
	uint64_t pend[4]; /* traffic since t_prev not yet written */
	unsigned gen;
};

static struct {
	bool on;
	char path[4096];
	unsigned interval; /* seconds */
	int64_t retention; /* ms */
	sqlite3 *db;
	sqlite3_stmt *ins_sample, *ins_name, *end_name, *upd_session;
	int64_t session;
	int tfd;
	uint64_t samples, errors;
	int64_t t_prev, last_prune;
	unsigned gen;
	struct series *tab; /* open addressing on (flow, name) */
	size_t cap, used;
} A = { .tfd = -1, .interval = ACCT_DEFAULT_INTERVAL, .retention = ACCT_DEFAULT_RETENTION };

/* ---- the series table ---- */

static size_t slot_of(const char *name, bool flow)
{
	uint64_t h = 1469598103934665603ULL ^ flow;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (size_t)h & (A.cap - 1);
}

static struct series *series_find(const char *name, bool flow)
{
	size_t i;

	if (!A.cap)
		return NULL;
	for (i = slot_of(name, flow); A.tab[i].used || A.tab[i].id; i = (i + 1) & (A.cap - 1))
		if (A.tab[i].used && A.tab[i].flow == flow && !strcmp(A.tab[i].name, name))
			return &A.tab[i];
	return NULL;
}

static void table_put(struct series *tab, size_t cap, const struct series *s)
{
	size_t i;

	for (i = slot_of(s->name, s->flow) & (cap - 1); tab[i].used || tab[i].id; i = (i + 1) & (cap - 1))
		;
	tab[i] = *s;
}

/* A slot freed keeps id -1 as a tombstone, so probes go on past it. */
static struct series *series_add(const struct series *s)
{
	if ((A.used + 1) * 2 > A.cap) {
		size_t ncap = A.cap ? A.cap * 2 : 256, i, oldcap = A.cap;
		struct series *n = calloc(ncap, sizeof(*n)), *old = A.tab;

		if (!n)
			return NULL;
		A.tab = n, A.cap = ncap;
		for (i = 0; i < oldcap; i++)
			if (old[i].used)
				table_put(n, ncap, &old[i]);
		free(old);
	}
	table_put(A.tab, A.cap, s);
	A.used++;
	return series_find(s->name, s->flow);
}

static void series_forget(struct series *s)
{
	memset(s, 0, sizeof(*s));
	s->id = -1;
	A.used--;
}

/* ---- writing ---- */

static void db_error(const char *what)
{
	/* the daemon keeps going; show-accounting counts the failures */
	if (!A.errors++)
		fprintf(stderr, "vwired: %s: %s: %s\n", A.path, what, sqlite3_errmsg(A.db));
}

static bool step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		db_error("cannot write");
	return rc == SQLITE_DONE;
}

static void exec(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(A.db, sql, NULL, NULL, &msg) != SQLITE_OK)
		db_error(sql);
	sqlite3_free(msg);
}

static struct series *series_new(const char *name, bool flow, const char *cls, int64_t first, const uint64_t base[4])
{
	struct series s = { .flow = flow, .used = true, .t_prev = first };

	snprintf(s.name, sizeof(s.name), "%s", name);
	snprintf(s.cls, sizeof(s.cls), "%s", cls);
	if (base)
		memcpy(s.last, base, sizeof(s.last));
	sqlite3_bind_int64(A.ins_name, 1, A.session);
	sqlite3_bind_text(A.ins_name, 2, s.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(A.ins_name, 3, s.cls, -1, SQLITE_STATIC);
	sqlite3_bind_int64(A.ins_name, 4, first);
	if (!step(A.ins_name))
		return NULL;
	s.id = sqlite3_last_insert_rowid(A.db);
	s.gen = A.gen;
	return series_add(&s);
}

/* Adds the counters' change since the last reading to what is pending. */
static void series_read(struct series *s, const uint64_t c[4])
{
	bool reset = false;
	int k;

	for (k = 0; k < 4; k++)
		reset |= c[k] < s->last[k];
	for (k = 0; k < 4; k++) {
		s->pend[k] += reset ? c[k] : c[k] - s->last[k];
		s->last[k] = c[k];
	}
}

static void series_emit(struct series *s, int64_t t1)
{
	int k;

	if (s->pend[0] | s->pend[1] | s->pend[2] | s->pend[3]) {
		sqlite3_bind_int64(A.ins_sample, 1, t1);
		sqlite3_bind_int64(A.ins_sample, 2, s->id);
		sqlite3_bind_int64(A.ins_sample, 3, s->t_prev);
		for (k = 0; k < 4; k++)
			sqlite3_bind_int64(A.ins_sample, 4 + k, (int64_t)s->pend[k]);
		step(A.ins_sample);
		memset(s->pend, 0, sizeof(s->pend));
	}
	s->t_prev = t1;
}

static void series_end(struct series *s, int64_t t, bool deleted)
{
	series_emit(s, t);
	sqlite3_bind_int64(A.end_name, 1, t);
	sqlite3_bind_int(A.end_name, 2, deleted);
	sqlite3_bind_int64(A.end_name, 3, s->id);
	step(A.end_name);
	series_forget(s);
}

/* Milliseconds now, never before the last sample (rows are keyed by time). */
static int64_t now_ms(void)
{
	int64_t t = hist_now_ms();

	return t > A.t_prev ? t : A.t_prev + 1;
}

static void prune(int64_t now)
{
	char sql[1024];
	int64_t cut = now - A.retention;

	snprintf(sql, sizeof(sql),
		 "DELETE FROM samples WHERE t1 < %1$lld;"
		 "DELETE FROM names WHERE id IN (SELECT n.id FROM names n JOIN sessions s ON s.id = n.session"
		 " WHERE coalesce(n.last, s.last) < %1$lld);"
		 "UPDATE names SET first = %1$lld WHERE first < %1$lld;"
		 "DELETE FROM sessions WHERE last < %1$lld AND id != %2$lld;"
		 "UPDATE sessions SET start = %1$lld WHERE start < %1$lld;",
		 (long long)cut, (long long)A.session);
	exec(sql);
	A.last_prune = now;
}

/* One sample of every link and flow, in one transaction. */
static void sample(void)
{
	int64_t now = now_ms();
	struct vw_link *l;
	struct vw_flow *f;
	size_t i;

	A.gen++;
	exec("BEGIN");
	for (l = vw_links; l; l = l->next) {
		struct series *s = series_find(l->name, false);
		const char *cls = l->cls->name;
		uint64_t c[4];

		if (s && strcmp(s->cls, cls)) { /* re-created as another class */
			series_end(s, now, true);
			s = NULL;
		}
		/* new since the last sample: all its traffic is in this interval */
		if (!s && !(s = series_new(l->name, false, cls, A.t_prev, NULL)))
			continue;
		link_counters(l, c);
		series_read(s, c);
		s->gen = A.gen;
		series_emit(s, now);
	}
	for (f = vw_flows; f; f = f->next) {
		struct series *s;
		uint64_t c[4];

		if (!f->live)
			continue;
		s = series_find(f->name, true);
		if (!s && !(s = series_new(f->name, true, "flow", A.t_prev, NULL)))
			continue;
		vw_flow_stats_sum(f->stats, &c[0], &c[1], &c[2], &c[3]);
		series_read(s, c);
		s->gen = A.gen;
		series_emit(s, now);
	}
	/* gone without a word (flows, a released phys): ended now */
	for (i = 0; i < A.cap; i++)
		if (A.tab[i].used && A.tab[i].gen != A.gen)
			series_end(&A.tab[i], now, true);
	sqlite3_bind_int64(A.upd_session, 1, now);
	sqlite3_bind_int64(A.upd_session, 2, A.session);
	step(A.upd_session);
	if (now - A.last_prune >= PRUNE_MS)
		prune(now);
	exec("COMMIT");
	if (!sqlite3_get_autocommit(A.db)) /* the commit failed: drop it */
		exec("ROLLBACK");
	A.t_prev = now;
	A.samples++;
}

static void on_timer(void)
{
	uint64_t ticks;

	if (A.on && read(A.tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
		sample();
}

/*
 * Links' ports going away: sample them first.  A VNIC's share of its
 * etherstub's counters leaves with its port, so the etherstub is rebased.
 */
static void on_link(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg)
{
	struct series *s = series_find(l->name, false);
	int64_t now = now_ms();
	uint64_t c[4];

	(void)port, (void)arg;
	if (ev == VW_LINK_PORT_UP) {
		/* a new link: counted from 0, from now */
		if (!s)
			series_new(l->name, false, l->cls->name, now, NULL);
		return;
	}
	if (!s)
		return;
	exec("BEGIN");
	if (ev == VW_LINK_PORT_DOWN) {
		link_counters(l, c);
		series_read(s, c);
		memset(s->last, 0, sizeof(s->last)); /* a next port counts from 0 */
		if (link_on_portless(l)) {
			struct series *e = series_find(l->over->name, false);
			uint64_t ce[4], share[4] = { c[2], c[3], c[0], c[1] };
			int k;

			if (e) {
				link_counters(l->over, ce);
				series_read(e, ce);
				for (k = 0; k < 4; k++)
					e->last[k] = ce[k] > share[k] ? ce[k] - share[k] : 0;
			}
		}
		if (l->cls->on_demand) /* released with its last VNIC */
			series_end(s, now, true);
	} else {
		series_end(s, now, true);
	}
	exec("COMMIT");
}

/* A flow about to be freed: its last counts, then its series ends (a flow
 * removed between two samples loses nothing, nor one added since the last
 * sample, which no sample has seen yet). */
static void on_flow_gone(const struct vw_flow *f, void *arg)
{
	struct series *s;
	uint64_t c[4];

	(void)arg;
	vw_flow_stats_sum(f->stats, &c[0], &c[1], &c[2], &c[3]);
	s = series_find(f->name, true);
	if (!s && !(c[0] | c[1] | c[2] | c[3]))
		return;         /* never sampled and nothing counted */
	exec("BEGIN");
	if (!s && !(s = series_new(f->name, true, "flow", A.t_prev, NULL))) {
		exec("COMMIT");
		return;
	}
	series_read(s, c);
	series_end(s, now_ms(), true);
	exec("COMMIT");
}

/* ---- commands ---- */

static void acct_close(void)
{
	sqlite3_finalize(A.ins_sample);
	sqlite3_finalize(A.ins_name);
	sqlite3_finalize(A.end_name);
	sqlite3_finalize(A.upd_session);
	A.ins_sample = A.ins_name = A.end_name = A.upd_session = NULL;
	sqlite3_close(A.db);
	A.db = NULL;
	if (A.tfd >= 0) {
		loop_del_poll(A.tfd);
		close(A.tfd);
	}
	A.tfd = -1;
	link_unwatch(on_link, NULL);
	flow_watch(NULL, NULL);
	free(A.tab);
	A.tab = NULL;
	A.cap = A.used = 0;
	A.on = false;
}

/* vwired --state-dir: the history file's default directory */
static char state_dir[PATH_MAX] = VW_DEFAULT_STATE_DIR;

void accounting_set_dir(const char *dir)
{
	snprintf(state_dir, sizeof(state_dir), "%s", dir);
}

static const char *default_path(char *buf, size_t len)
{
	snprintf(buf, len, "%.*s/%s", (int)strlen(state_dir), state_dir, HIST_DEFAULT_FILE);
	return buf;
}

const char *accounting_default_file(char *buf, size_t len)
{
	return default_path(buf, len);
}

int accounting_start_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *iv = vw_cmd_opt(c, 'i'), *file = vw_cmd_opt(c, 'f'), *ret = vw_cmd_opt(c, 'r');
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	char path[sizeof(A.path)];
	int64_t retention = ACCT_DEFAULT_RETENTION, now;
	uint64_t interval = ACCT_DEFAULT_INTERVAL;
	struct vw_link *l;
	struct vw_flow *f;
	const char *p;
	int rc;

	(void)out;
	if (A.on) {
		ERR("accounting is already on (%s); stop-accounting first", A.path);
		return -EALREADY;
	}
	if (iv && !vw_uint_parse(iv, 1, 3600, &interval)) {
		ERR("invalid interval '%s' (1-3600 seconds)", iv);
		return -EINVAL;
	}
	if (ret && (!hist_duration_parse(ret, &retention) || retention < 60000)) {
		ERR("invalid retention '%s' (a duration such as 7d, 12h or 90m, at least 1m)", ret);
		return -EINVAL;
	}
	if (file) {
		if (file[0] != '/') {
			ERR("%s: the history file must be an absolute path", file);
			return -EINVAL;
		}
		for (p = file; *p; p++)
			if ((unsigned char)*p <= ' ') {
				ERR("%s: the history file name must not contain spaces", file);
				return -EINVAL;
			}
		if (strlen(file) >= sizeof(path)) {
			ERR("history file name too long");
			return -ENAMETOOLONG;
		}
		snprintf(path, sizeof(path), "%s", file);
	} else {
		default_path(path, sizeof(path));
		p = strrchr(path, '/');
		if (p && p != path) { /* the state directory may not exist yet */
			char dir[sizeof(path)];

			snprintf(dir, sizeof(dir), "%.*s", (int)(p - path), path);
			mkdir(dir, 0755);
		}
	}
	A.db = hist_open(path, false, err, errlen);
	if (!A.db)
		return -EINVAL;
	snprintf(A.path, sizeof(A.path), "%s", path);
	rc = sqlite3_prepare_v2(A.db, "INSERT INTO samples VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &A.ins_sample, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(A.db, "INSERT INTO names(session, name, class, first) VALUES(?1, ?2, ?3, ?4)", -1,
					&A.ins_name, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(A.db, "UPDATE names SET last = ?1, deleted = ?2 WHERE id = ?3", -1, &A.end_name,
					NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(A.db, "UPDATE sessions SET last = ?1 WHERE id = ?2", -1, &A.upd_session, NULL);
	A.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	its.it_interval.tv_sec = its.it_value.tv_sec = (time_t)interval;
	if (rc != SQLITE_OK || A.tfd < 0 || timerfd_settime(A.tfd, 0, &its, NULL) < 0 ||
	    link_watch(on_link, NULL) < 0) {
		ERR("%s: cannot start accounting: %s", path, rc != SQLITE_OK ? sqlite3_errmsg(A.db) : strerror(errno));
		acct_close();
		return -EIO;
	}
	flow_watch(on_flow_gone, NULL);
	A.interval = (unsigned)interval;
	A.retention = retention;
	A.samples = A.errors = 0;
	A.gen = 0;
	A.t_prev = 0;
	now = now_ms();
	/* the session, and what exists now counted from its present counters */
	exec("BEGIN");
	{
		sqlite3_stmt *st;
		char sql[128];

		snprintf(sql, sizeof(sql), "INSERT INTO sessions(start, last) VALUES(%lld, %lld)", (long long)now,
			 (long long)now);
		rc = sqlite3_prepare_v2(A.db, sql, -1, &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(st);
	}
	A.session = sqlite3_last_insert_rowid(A.db);
	for (l = vw_links; l && rc == SQLITE_OK; l = l->next) {
		uint64_t cnt[4];

		link_counters(l, cnt);
		if (!series_new(l->name, false, l->cls->name, now, cnt))
			rc = SQLITE_ERROR;
	}
	for (f = vw_flows; f && rc == SQLITE_OK; f = f->next) {
		uint64_t cnt[4];

		if (!f->live)
			continue;
		vw_flow_stats_sum(f->stats, &cnt[0], &cnt[1], &cnt[2], &cnt[3]);
		if (!series_new(f->name, true, "flow", now, cnt))
			rc = SQLITE_ERROR;
	}
	if (rc != SQLITE_OK || sqlite3_exec(A.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ERR("%s: cannot write: %s", path, sqlite3_errmsg(A.db));
		sqlite3_exec(A.db, "ROLLBACK", NULL, NULL, NULL);
		acct_close();
		return -EIO;
	}
	A.t_prev = A.last_prune = now;
	A.on = true;
	loop_add_poll(A.tfd, on_timer, NULL);
	prune(now);
	return 0;
}

/* The last sample, and the session and its open series closed. */
static void finish(bool stopped)
{
	char sql[256];
	int64_t now;

	sample();
	now = A.t_prev;
	snprintf(sql, sizeof(sql),
		 "BEGIN; UPDATE names SET last = %1$lld WHERE session = %2$lld AND last IS NULL;"
		 "UPDATE sessions SET last = %1$lld, stopped = %3$d WHERE id = %2$lld; COMMIT",
		 (long long)now, (long long)A.session, stopped);
	exec(sql);
	acct_close();
}

int accounting_stop_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	(void)c, (void)out;
	if (!A.on) {
		ERR("accounting is not on");
		return -EALREADY;
	}
	finish(true);
	return 0;
}

void accounting_shutdown(void)
{
	if (A.on)
		finish(false);
}

int accounting_show_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	char buf[sizeof(A.path)], d[32];

	(void)c, (void)err, (void)errlen;
	vw_buf_kv(out, "record", "accounting");
	vw_buf_kv(out, "state", "%s", A.on ? "on" : "off");
	/* when off: the last file used, else where it would go */
	vw_buf_kv(out, "file", "%s", A.path[0] ? A.path : default_path(buf, sizeof(buf)));
	vw_buf_kv(out, "interval", "%u", A.interval);
	vw_buf_kv(out, "retention", "%s", hist_duration_format(A.retention, d, sizeof(d)));
	vw_buf_kv(out, "samples", "%lu", A.samples);
	vw_buf_kv(out, "errors", "%lu", A.errors);
	return 0;
}

void accounting_export(struct vw_buf *out)
{
	char d[32];

	if (A.on)
		vw_buf_printf(out, "start-accounting -i %u -f %s -r %s\n", A.interval, A.path,
			      hist_duration_format(A.retention, d, sizeof(d)));
}
