/*
 * Unit tests for the web console's API (observability/api.c, json.c,
 * web.c): JSON strings and numbers, query parameters refused before any
 * command runs, the write path's credential, Host and Origin checks, the
 * history JSON that vwstat prints too (lib/history.c), the built-in files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/history.h"
#include "observability/api.h"
#include "observability/json.h"
#include "observability/web.h"

static char *str(const char *s)
{
	static struct vw_buf b;

	vw_buf_free(&b);
	json_str(&b, s);
	return b.p;
}

static void test_json_str(void **state)
{
	(void)state;
	assert_string_equal(str("plain"), "\"plain\"");
	assert_string_equal(str(""), "\"\"");
	assert_string_equal(str("a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(str("tab\there\x01"), "\"tab\\u0009here\\u0001\"");
	assert_string_equal(str("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\""); /* valid UTF-8 kept */
	assert_string_equal(str("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");
	assert_string_equal(str("\xc0\xaf"), "\"\\ufffd\\ufffd\"");           /* overlong */
	assert_string_equal(str("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
}

static void test_json_numbers(void **state)
{
	struct vw_buf b = { 0 };

	(void)state;
	assert_true(json_is_uint("0"));
	assert_true(json_is_uint("18446744073709551615"));
	assert_false(json_is_uint(""));
	assert_false(json_is_uint("007"));
	assert_false(json_is_uint("-1"));
	assert_false(json_is_uint("1.5"));
	assert_false(json_is_uint("100M"));
	json_value(&b, "42", true);
	json_value(&b, "42", false);
	json_value(&b, "x", true);
	assert_string_equal(b.p, "42\"42\"\"x\"");
	assert_true(json_name_key("link"));
	assert_false(json_name_key("rbytes"));
	vw_buf_free(&b);
}

static unsigned get(const char *path, const char *k, const char *v, char *line, size_t len)
{
	struct api_query q = { 0 };
	struct vw_buf b = { 0 };
	unsigned code;

	if (k) {
		q.key[0] = k, q.val[0] = v;
		q.n = 1;
	}
	code = api_get(path, &q, &b);
	snprintf(line, len, "%s", b.p ? b.p : "");
	vw_buf_free(&b);
	return code;
}

/* Paths and parameters refused before a command runs (there is no control
 * loop here: a command would answer 503). */
static void test_get_refusals(void **state)
{
	char line[256];

	(void)state;
	assert_int_equal(get("/api/nope", NULL, NULL, line, sizeof(line)), 404);
	assert_string_equal(line, "no such API path '/api/nope'\n");
	assert_int_equal(get("/api/links", "bogus", "1", line, sizeof(line)), 400);
	assert_string_equal(line, "unknown query parameter 'bogus'\n");
	assert_int_equal(get("/api/info", "name", "x", line, sizeof(line)), 400);
	assert_int_equal(get("/api/history", "start", "garbage", line, sizeof(line)), 400);
	assert_non_null(strstr(line, "invalid start 'garbage'"));
	assert_int_equal(get("/api/history", "end", "1", line, sizeof(line)), 400); /* before the start, 0 */
	assert_int_equal(get("/api/history", "interval", "yes", line, sizeof(line)), 400);
	assert_int_equal(get("/api/history", "name", "bad name", line, sizeof(line)), 400);
	assert_int_equal(get("/api/links", NULL, NULL, line, sizeof(line)), 503);
	assert_int_equal(strchr(line, '\n') - line, (long)strlen(line) - 1); /* one line */
}

static void test_host(void **state)
{
	(void)state;
	assert_true(api_host_ok("127.0.0.1:9464", NULL));
	assert_true(api_host_ok("127.0.0.1", NULL));
	assert_true(api_host_ok("[::1]:9464", NULL));
	assert_true(api_host_ok("localhost:9464", NULL));
	assert_true(api_host_ok("LOCALHOST:9464", "http://localhost:9464"));
	assert_true(api_host_ok("10.0.0.1:80", "http://10.0.0.1:80"));
	assert_false(api_host_ok(NULL, NULL));
	assert_false(api_host_ok("", NULL));
	assert_false(api_host_ok("evil.example:9464", NULL));
	assert_false(api_host_ok("127.0.0.1.evil.example", NULL));
	assert_false(api_host_ok("localhost.evil.example:9464", NULL));
	assert_false(api_host_ok("[::1", NULL));
	assert_false(api_host_ok("[::1]x", NULL));
	assert_false(api_host_ok("127.0.0.1:9464", "http://evil.example"));
	assert_false(api_host_ok("127.0.0.1:9464", "null"));
	assert_false(api_host_ok("127.0.0.1:9464", "https://127.0.0.1:9464"));
	assert_false(api_host_ok("127.0.0.1:9464", "http://127.0.0.1:9465"));
}

static int token_file(const char *text, mode_t mode, char *path)
{
	int fd;

	strcpy(path, "/tmp/vwtest_tokenXXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
	return 0;
}

static void test_write_credential(void **state)
{
	char path[64], err[256];
	struct vw_buf b = { 0 };
	const char *good = "0123456789abcdef0123";

	(void)state;
	assert_false(api_write_enabled());
	assert_int_equal(api_write_check("Bearer x", "127.0.0.1:1", NULL, &b), 403); /* writes off */
	vw_buf_free(&b);
	token_file("0123456789abcdef0123\n", 0644, path);
	assert_true(api_write_parse(path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "others may read it"));
	unlink(path);
	token_file("short\n", 0600, path);
	assert_true(api_write_parse(path, err, sizeof(err)) < 0);
	unlink(path);
	token_file("0123456789 abcdef0123\n", 0600, path);
	assert_true(api_write_parse(path, err, sizeof(err)) < 0);
	unlink(path);
	assert_true(api_write_parse("/nonexistent/token", err, sizeof(err)) < 0);
	assert_false(api_write_enabled());
	token_file("0123456789abcdef0123\n", 0600, path);
	assert_int_equal(api_write_parse(path, err, sizeof(err)), 0);
	unlink(path);
	assert_true(api_write_enabled());

	assert_int_equal(api_write_check(NULL, "127.0.0.1:1", NULL, &b), 401);
	assert_int_equal(api_write_check("Bearer 0123456789abcdef012", "127.0.0.1:1", NULL, &b), 401);
	assert_int_equal(api_write_check("Bearer 0123456789abcdef01234", "127.0.0.1:1", NULL, &b), 401);
	assert_int_equal(api_write_check("Basic 0123456789abcdef0123", "127.0.0.1:1", NULL, &b), 401);
	assert_int_equal(api_write_check("Bearer 0123456789abcdef0123", "evil.example:1", NULL, &b), 403);
	assert_int_equal(api_write_check("Bearer 0123456789abcdef0123", "127.0.0.1:1", "http://evil.example", &b), 403);
	vw_buf_free(&b);
	{
		char auth[64];

		snprintf(auth, sizeof(auth), "bearer %s", good);
		assert_int_equal(api_write_check(auth, "127.0.0.1:1", "http://127.0.0.1:1", &b), 0);
		assert_null(b.p);
	}
}

static void test_command_parse(void **state)
{
	struct vw_buf b = { 0 };

	(void)state;
	assert_int_equal(api_command("", 0, &b), 400);
	assert_string_equal(b.p, "no command\n");
	vw_buf_free(&b);
	assert_int_equal(api_command("a\nb\n", 4, &b), 400);
	assert_string_equal(b.p, "one command per request\n");
	vw_buf_free(&b);
	assert_int_equal(api_command("apply 'x y'", 11, &b), 400);
	assert_string_equal(b.p, "apply: not over HTTP (use vwadm)\n");
	vw_buf_free(&b);
	assert_int_equal(api_command("vwadm snoop -l x", 16, &b), 400);
	vw_buf_free(&b);
	assert_int_equal(api_command("show-link 'unterminated", 23, &b), 400);
	vw_buf_free(&b);
}

/* The history JSON: what vwstat show-history -F json prints. */
static void test_hist_json(void **state)
{
	static const char *const keys[] = { "name", "start", "end", "rbytes", "obytes", "bandwidth" };
	struct hist_row rows[2] = {
		{ .name = "v1", .cls = "vnic", .t0 = 1000, .t1 = 2500, .rbytes = 1000, .obytes = 500 },
		{ .name = "v1", .cls = "vnic", .t0 = 2500, .t1 = 3500, .rbytes = 0, .obytes = 125 },
	};
	struct vw_buf b = { 0 };

	(void)state;
	hist_json(&b, keys, 6, rows, 2, true);
	assert_string_equal(b.p, "[\n{\"name\":\"v1\",\"start\":1.000,\"end\":2.500,\"rbytes\":1000,\"obytes\":500,"
				 "\"bandwidth\":8000},\n{\"name\":\"v1\",\"start\":2.500,\"end\":3.500,\"rbytes\":0,"
				 "\"obytes\":125,\"bandwidth\":1000}\n]\n");
	vw_buf_free(&b);
	hist_json(&b, keys, 6, rows, 0, true);
	assert_string_equal(b.p, "[]\n");
	vw_buf_free(&b);
}

static void test_assets(void **state)
{
	const struct web_asset *a;

	(void)state;
	a = web_asset_find("/");
	assert_non_null(a);
	assert_string_equal(a->path, "/index.html");
	assert_string_equal(a->type, "text/html; charset=utf-8");
	assert_non_null(strstr((const char *)a->data, "console.js"));
	assert_int_equal(strlen((const char *)a->data), a->len);
	a = web_asset_find("/console.js");
	assert_non_null(a);
	assert_string_equal(a->type, "text/javascript; charset=utf-8");
	assert_non_null(web_asset_find("/console.css"));
	assert_null(web_asset_find("/nope"));
	assert_null(web_asset_find("/../index.html"));
	assert_null(web_asset_find(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_str),	 cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_get_refusals),	 cmocka_unit_test(test_host),
		cmocka_unit_test(test_write_credential), cmocka_unit_test(test_command_parse),
		cmocka_unit_test(test_hist_json),	 cmocka_unit_test(test_assets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
