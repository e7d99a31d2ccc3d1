/*
 * Unit tests for the state file's format (objects/statefile.c), its CRC-32
 * (lib/crc32.c) and state_save() (control/persist.c): a file is taken only
 * when it is whole, and every problem names its line.
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
#include <errno.h>
#include <sys/stat.h>

#include "control/persist.h"
#include "objects/statefile.h"

#define BODY                                                                                                   \
	"create-zone z1\n"                                                                                     \
	"create-etherstub stub0\n"                                                                             \
	"create-vnic -l stub0 -m 02:00:00:00:00:01 -p zone=z1 rtvnic\n"                                        \
	"create-addr -a 10.0.0.1/24 rtvnic\n"

struct msgs {
	int n;
	char m[16][512];
};

static void collect(void *arg, const char *msg)
{
	struct msgs *ms = arg;

	if (ms->n < 16)
		snprintf(ms->m[ms->n], sizeof(ms->m[0]), "%s", msg);
	ms->n++;
}

/* A whole file as the daemon writes it: header, body, end line. */
static struct vw_buf sealed(const char *body)
{
	struct vw_buf b = { 0 };

	vw_buf_printf(&b, "%s%s", STATEFILE_HEADER, body);
	assert_true(statefile_seal(&b));
	return b;
}

static int check(const char *buf, size_t len, struct statefile *sf, struct msgs *ms)
{
	memset(ms, 0, sizeof(*ms));
	return statefile_check(buf, len, "S", sf, collect, ms);
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(vw_crc32(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(vw_crc32(0, "", 0), 0);
	/* in pieces as at once */
	assert_int_equal(vw_crc32(vw_crc32(0, "1234", 4), "56789", 5), 0xcbf43926);
}

static void test_whole(void **state)
{
	struct vw_buf b = sealed(BODY);
	struct statefile sf;
	struct msgs ms;
	char end[64];
	size_t body;

	(void)state;
	body = strstr(b.p, "# end: ") - b.p;
	snprintf(end, sizeof(end), "# end: 5 lines, crc32 %08x\n", vw_crc32(0, b.p, body));
	assert_string_equal(b.p + body, end);
	assert_int_equal(check(b.p, b.len, &sf, &ms), 0);
	assert_false(sf.unsealed);
	assert_int_equal(sf.ncmds, 4);
	assert_int_equal(sf.cmds[2].line, 4);
	assert_int_equal(sf.cmds[2].argc, 8);
	assert_string_equal(sf.cmds[2].argv[7], "rtvnic");
	assert_null(sf.cmds[2].argv[8]);
	assert_non_null(strstr(b.p, "\n# end: 5 lines, crc32 "));
	statefile_free(&sf);
	vw_buf_free(&b);
}

/* Finding 1 of issue 11: a NUL at a line boundary hid every line after it. */
static void test_nul(void **state)
{
	struct vw_buf b = sealed(BODY);
	struct statefile sf;
	struct msgs ms;
	char *p = malloc(b.len + 1), *at = strstr(b.p, "create-vnic");
	size_t off = at - b.p;

	(void)state;
	memcpy(p, b.p, off);
	p[off] = '\0';
	memcpy(p + off + 1, at, b.len - off);
	assert_int_equal(check(p, b.len + 1, &sf, &ms), 2);
	assert_string_equal(ms.m[0], "S:4: NUL byte in line");
	assert_non_null(strstr(ms.m[1], "S:6: the end line says 5 lines"));
	/* the lines after it are still read (for --force-state) */
	assert_int_equal(sf.ncmds, 3);
	assert_string_equal(sf.cmds[2].argv[0], "create-addr");
	assert_int_equal(sf.cmds[2].line, 5);
	statefile_free(&sf);
	free(p);
	vw_buf_free(&b);
}

/* Finding 2 of issue 11: a file cut inside a name was taken as complete. */
static void test_cut(void **state)
{
	struct vw_buf b = sealed(BODY);
	struct statefile sf;
	struct msgs ms;
	size_t cut = strstr(b.p, "rtvnic\n") + 3 - b.p, len;

	(void)state;
	/* inside a name: "... zone=z1 rtv" */
	assert_int_equal(check(b.p, cut, &sf, &ms), 1);
	assert_string_equal(ms.m[0], "S:4: the last line has no newline: the file is cut short");
	statefile_free(&sf);
	/* at every length short of the whole file */
	for (len = 0; len < b.len; len++) {
		assert_true(check(b.p, len, &sf, &ms) >= 1);
		statefile_free(&sf);
	}
	/* at a line boundary: the end line is missing */
	cut = strstr(b.p, "create-addr") - b.p;
	assert_int_equal(check(b.p, cut, &sf, &ms), 1);
	assert_string_equal(ms.m[0], "S:4: no end line after this one: the file is cut short");
	statefile_free(&sf);
	vw_buf_free(&b);
}

static void test_damaged(void **state)
{
	struct vw_buf b = sealed(BODY);
	struct statefile sf;
	struct msgs ms;
	char *x = strstr(b.p, "z1");
	static const char *const bad_ends[] = {
		"# end: 5 lines\n", "# end: x lines, crc32 00000000\n", "# end: 5 lines, crc32 0000000\n",
		"# end: 5 lines, crc32 0000000g\n", "# end: 5 lines, crc32 00000000 \n",
		"# end: 05 lines, crc32 00000000\n", /* fuzz_state: taken whole, yet not what sealing writes */
	};
	size_t i;

	(void)state;
	x[1] = '2'; /* one byte changed */
	assert_int_equal(check(b.p, b.len, &sf, &ms), 1);
	assert_non_null(strstr(ms.m[0], "S:6: the end line says 5 lines, crc32 "));
	assert_non_null(strstr(ms.m[0], "the file is damaged"));
	statefile_free(&sf);
	vw_buf_free(&b);
	/* a line added after the end line */
	b = sealed(BODY);
	vw_buf_printf(&b, "create-zone z9\n");
	assert_int_equal(check(b.p, b.len, &sf, &ms), 1);
	assert_string_equal(ms.m[0], "S:7: no end line after this one: the file is cut short");
	statefile_free(&sf);
	vw_buf_free(&b);
	for (i = 0; i < sizeof(bad_ends) / sizeof(bad_ends[0]); i++) {
		b = (struct vw_buf){ 0 };
		vw_buf_printf(&b, "%s%s%s", STATEFILE_HEADER, BODY, bad_ends[i]);
		assert_int_equal(check(b.p, b.len, &sf, &ms), 1);
		assert_string_equal(ms.m[0], "S:6: malformed end line (expected '# end: N lines, crc32 XXXXXXXX')");
		statefile_free(&sf);
		vw_buf_free(&b);
	}
}

/* An earlier version's file (its own header, no end line) is taken, but
 * flagged; an empty file never is. */
static void test_unsealed(void **state)
{
	static const char old[] = "# vwire configuration, written by vwired; `vwadm export` prints it\n" BODY;
	struct statefile sf;
	struct msgs ms;

	(void)state;
	assert_int_equal(check(old, sizeof(old) - 1, &sf, &ms), 0);
	assert_true(sf.unsealed);
	assert_int_equal(sf.ncmds, 4);
	statefile_free(&sf);
	/* cut inside a line: no */
	assert_int_equal(check(old, sizeof(old) - 3, &sf, &ms), 1);
	statefile_free(&sf);
	assert_int_equal(check("", 0, &sf, &ms), 1);
	assert_string_equal(ms.m[0], "S:1: empty file: cut short (vwired never writes an empty one)");
	statefile_free(&sf);
}

/* Lines that do not parse, or are not commands, are problems of their lines. */
static void test_bad_lines(void **state)
{
	struct vw_buf b = sealed("create-zone z1\n"
				 "create-vnic 'unterminated\n"
				 "no-such-command x\n"
				 "create-vnic -l\n"
				 "create-zone z2\n");
	struct statefile sf;
	struct msgs ms;

	(void)state;
	assert_int_equal(check(b.p, b.len, &sf, &ms), 3);
	assert_string_equal(ms.m[0], "S:3: unterminated quote");
	assert_non_null(strstr(ms.m[1], "S:4: "));
	assert_non_null(strstr(ms.m[1], "no-such-command"));
	assert_non_null(strstr(ms.m[2], "S:5: "));
	assert_int_equal(sf.ncmds, 2);
	assert_string_equal(sf.cmds[1].argv[1], "z2");
	statefile_free(&sf);
	vw_buf_free(&b);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = malloc(1 << 16);

	assert_non_null(f);
	*len = fread(p, 1, 1 << 16, f);
	fclose(f);
	return p;
}

/* state_save() writes a file that passes the check, leaves no .new, and
 * names the step that failed. */
static void test_save(void **state)
{
	char dir[] = "/tmp/vw_test_state.XXXXXX", path[256], err[512], *p;
	struct statefile sf;
	struct msgs ms;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	state_set_dir(dir);
	assert_int_equal(state_save(err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/vwire.conf", dir);
	p = slurp(path, &len);
	assert_int_equal(check(p, len, &sf, &ms), 0);
	assert_false(sf.unsealed);
	assert_memory_equal(p, STATEFILE_HEADER, strlen(STATEFILE_HEADER));
	statefile_free(&sf);
	free(p);
	snprintf(path, sizeof(path), "%s/vwire.conf.new", dir);
	assert_int_equal(access(path, F_OK), -1);

	/* the state directory cannot be made: a file is in its way */
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/sub", dir);
	state_set_dir(path);
	assert_int_equal(state_save(err, sizeof(err)), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/file/sub/vwire.conf: cannot save state: cannot create directory %s/file/sub: "
		 "Not a directory", dir, dir);
	assert_string_equal(err, path);

	/* the temporary file cannot be made: a directory is in its way; the
	 * old file stays */
	state_set_dir(dir);
	snprintf(path, sizeof(path), "%s/vwire.conf.new", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(state_save(err, sizeof(err)), -EISDIR);
	snprintf(path, sizeof(path), "%s/vwire.conf: cannot save state: open vwire.conf.new: Is a directory", dir);
	assert_string_equal(err, path);
	snprintf(path, sizeof(path), "%s/vwire.conf.new", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/vwire.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/file", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_unsealed),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_save),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
