/*
 * Unit tests for the accounting history (lib/history.c): the
 * times and durations show-history and start-accounting take, and the
 * queries over a history file: totals, per-interval rows, time ranges,
 * deleted names, a name in two series.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "lib/history.h"

/* 2026-11-26 12:00:00 UTC */
#define NOON 1795694400000LL

static int setup_utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void test_time_parse(void **state)
{
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {
		{ "2026-11-26 12:00:00", NOON },
		{ "2026-11-26T11:59:30", NOON - 30000 },
		{ "2026-11-26 12:01", NOON + 60000 },
		{ "2026-11-26", NOON - 12 * 3600000LL },
		{ "10:30", NOON - 90 * 60000LL },
		{ "13:00:05", NOON + 3605000 },
		{ "1795694400", NOON },
		{ "@1795694400", NOON },
		{ "@0", 0 },
		{ "now", NOON + 123 },
		{ "-10m", NOON + 123 - 600000 },
		{ "-2h", NOON + 123 - 7200000 },
		{ "-30", NOON + 123 - 30000 },
		{ "-1d", NOON + 123 - 86400000 },
	};
	static const char *const bad[] = { "", "yesterday", "25:00", "12:60", "12", "2026-13-01", "2026-02-30",
					   "2026-11-26 12:00:00x", "-", "-10x", "-m", "1:2", "12345", "2026-11-26 1:00" };
	size_t i;
	int64_t v;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		if (!hist_time_parse(ok[i].s, NOON + 123, &v) || v != ok[i].want)
			fail_msg("'%s': got %lld, want %lld", ok[i].s, (long long)v, (long long)ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hist_time_parse(bad[i], NOON, &v))
			fail_msg("'%s' accepted (%lld)", bad[i], (long long)v);
}

static void test_duration(void **state)
{
	char buf[32];
	int64_t v;

	(void)state;
	assert_true(hist_duration_parse("7d", &v));
	assert_int_equal(v, 7 * 86400000LL);
	assert_true(hist_duration_parse("90m", &v));
	assert_int_equal(v, 5400000);
	assert_true(hist_duration_parse("45", &v));
	assert_int_equal(v, 45000);
	assert_true(hist_duration_parse("2w", &v));
	assert_int_equal(v, 14 * 86400000LL);
	assert_false(hist_duration_parse("0", &v));
	assert_false(hist_duration_parse("7x", &v));
	assert_false(hist_duration_parse("7dd", &v));
	assert_false(hist_duration_parse("-7d", &v));
	assert_false(hist_duration_parse("", &v));
	assert_string_equal(hist_duration_format(7 * 86400000LL, buf, sizeof(buf)), "1w");
	assert_string_equal(hist_duration_format(3 * 86400000LL, buf, sizeof(buf)), "3d");
	assert_string_equal(hist_duration_format(5400000, buf, sizeof(buf)), "90m");
	assert_string_equal(hist_duration_format(61000, buf, sizeof(buf)), "61s");
	assert_int_equal(hist_bps(1000, 1000), 8000);
	assert_int_equal(hist_bps(1000, 0), 0);
}

static char path[64];

static sqlite3 *fixture(void)
{
	char err[256];
	sqlite3 *db;
	int fd;

	snprintf(path, sizeof(path), "/tmp/vwt_unit_hist_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	db = hist_open(path, false, err, sizeof(err));
	if (!db)
		fail_msg("%s", err);
	/* session 1 from t=0 to 10 s: a (deleted at 6 s), stub; session 2
	 * from 20 s, last sample at 25 s (a crash: no end): a again */
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO sessions VALUES(1, 0, 10000, 1), (2, 20000, 25000, 0);"
				      "INSERT INTO names VALUES(1, 1, 'a', 'vnic', 0, 6000, 1),"
				      " (2, 1, 'stub', 'etherstub', 0, 10000, 0), (3, 2, 'a', 'vnic', 20000, NULL, 0);"
				      "INSERT INTO samples VALUES(1000, 1, 0, 1, 100, 2, 200), (2000, 1, 1000, 3, 300, 4, 400),"
				      " (6000, 1, 5000, 5, 500, 6, 600), (2000, 2, 0, 10, 1000, 10, 1000),"
				      " (22000, 3, 21000, 7, 700, 8, 800);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	return db;
}

static void fixture_done(sqlite3 *db)
{
	char wal[80], shm[80];

	sqlite3_close(db);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	unlink(path);
	unlink(wal);
	unlink(shm);
}

static void test_query(void **state)
{
	struct hist_result r;
	char err[256];
	char *names[] = { "a" }, *none[] = { "zz" };
	sqlite3 *db = fixture(), *ro;

	(void)state;
	assert_int_equal(hist_query(db, 0, 100000, NULL, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nsum, 2);
	assert_string_equal(r.sum[0].name, "a");
	assert_int_equal(r.sum[0].ipkts, 1 + 3 + 5 + 7);
	assert_int_equal(r.sum[0].obytes, 200 + 400 + 600 + 800);
	assert_int_equal(r.sum[0].duration, 6000 + 5000); /* both series */
	assert_false(r.sum[0].deleted);                   /* the latest series lives */
	assert_string_equal(r.sum[1].name, "stub");
	assert_int_equal(r.sum[1].rbytes, 1000);
	assert_int_equal(r.sum[1].duration, 10000);
	assert_int_equal(r.niv, 5);
	assert_string_equal(r.iv[0].name, "a");
	assert_int_equal(r.iv[0].t0, 0);
	assert_int_equal(r.iv[0].t1, 1000);
	assert_int_equal(r.iv[3].t1, 22000);
	assert_string_equal(r.iv[4].name, "stub");
	hist_result_free(&r);

	/* a range: samples ending in (1000, 6000]; durations clipped */
	assert_int_equal(hist_query(db, 1000, 6000, names, 1, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nsum, 1);
	assert_int_equal(r.sum[0].ipkts, 3 + 5);
	assert_int_equal(r.sum[0].duration, 5000);
	assert_true(r.sum[0].deleted);
	assert_int_equal(r.niv, 2);
	hist_result_free(&r);

	assert_int_equal(hist_query(db, 0, 100000, none, 1, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "zz: no history in the selected time range");

	/* read-only, as vwstat opens it */
	ro = hist_open(path, true, err, sizeof(err));
	assert_non_null(ro);
	assert_int_equal(hist_query(ro, 15000, 100000, NULL, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nsum, 1);
	assert_int_equal(r.sum[0].opkts, 8);
	hist_result_free(&r);
	sqlite3_close(ro);
	fixture_done(db);
}

static void test_open_refuses(void **state)
{
	char err[256], p[64] = "/tmp/vwt_unit_hist_XXXXXX";
	sqlite3 *db;
	int fd = mkstemp(p);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, world\n", 13), 13);
	close(fd);
	assert_null(hist_open(p, false, err, sizeof(err)));
	assert_non_null(strstr(err, "not a vwire history file"));
	unlink(p);
	/* another SQLite file */
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(hist_open(p, false, err, sizeof(err)));
	assert_non_null(strstr(err, "not a vwire history file"));
	unlink(p);
	/* read-only needs an existing history */
	assert_null(hist_open(p, true, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	assert_null(hist_open("/nonexistent/dir/h.db", false, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_open_refuses),
	};

	return cmocka_run_group_tests(tests, setup_utc, NULL);
}
