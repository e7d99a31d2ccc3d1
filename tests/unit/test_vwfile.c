/*
 * Unit tests for lib/vwfile.c: the vWire file reader and word quoting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vwire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct vw_vardef test_vars[] = {
	{ "LINK", "eth0" },
	{ "BW", "100M" },
	{ "SPACED", "a b" },
	{ "EMPTY", "" },
	{ "QUOTES", "it's \"x\" ${LINK}" },
	{ "_x9", "under" },
};

struct reader {
	struct vw_vwfile *f;
	int argc, lineno;
	char **argv;
	char err[256];
};

static void rd_open(struct reader *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->f = vw_vwfile_open_mem(text, text ? strlen(text) : 0, "test.vw", test_vars,
				  ARRAY_SIZE(test_vars));
	assert_non_null(r->f);
}

static int rd_next(struct reader *r)
{
	r->argc = -1;
	r->argv = NULL;
	r->lineno = -1;
	r->err[0] = '\0';
	return vw_vwfile_next(r->f, &r->argc, &r->argv, &r->lineno, r->err,
			      sizeof(r->err));
}

/* Expects a command on line `line` with the NULL-terminated words given. */
static void expect_cmd(struct reader *r, int line, ...)
{
	const char *w;
	va_list ap;
	int i = 0;

	if (rd_next(r) != 1)
		fail_msg("expected a command on line %d, got \"%s\"", line,
			 r->err);
	assert_int_equal(r->lineno, line);
	va_start(ap, line);
	while ((w = va_arg(ap, const char *))) {
		assert_true(i < r->argc);
		assert_string_equal(r->argv[i], w);
		i++;
	}
	va_end(ap);
	assert_int_equal(r->argc, i);
	assert_null(r->argv[i]);
}

static void expect_err(struct reader *r, const char *msg)
{
	assert_int_equal(rd_next(r), -1);
	assert_string_equal(r->err, msg);
}

static void expect_end(struct reader *r)
{
	assert_int_equal(rd_next(r), 0);
	assert_int_equal(rd_next(r), 0);
	vw_vwfile_close(r->f);
}

static void test_simple(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "create-vnic -l eth0 vnic0\n"
		    "delete-vnic vnic0\n");
	expect_cmd(&r, 1, "create-vnic", "-l", "eth0", "vnic0", NULL);
	expect_cmd(&r, 2, "delete-vnic", "vnic0", NULL);
	expect_end(&r);
}

static void test_empty(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "");
	expect_end(&r);
	rd_open(&r, "\n\n   \n\t\n# only a comment\n   # another\n");
	expect_end(&r);
	rd_open(&r, NULL);
	expect_end(&r);
}

static void test_blanks(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "\n"
		    "  \t a \t\tb   c\t\n"
		    "\n"
		    "d");
	expect_cmd(&r, 2, "a", "b", "c", NULL);
	expect_cmd(&r, 4, "d", NULL);
	expect_end(&r);
}

static void test_comments(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "# header\n"
		    "a b # trailing comment 'with \"quotes\n"
		    "c#d e#\n"
		    "f '#g' \"#h\" \\#i\n"
		    "\t# indented comment\n"
		    "j #\n"
		    "k ${LINK}#l\n");
	expect_cmd(&r, 2, "a", "b", NULL);
	expect_cmd(&r, 3, "c#d", "e#", NULL);
	expect_cmd(&r, 4, "f", "#g", "#h", "#i", NULL);
	expect_cmd(&r, 6, "j", NULL);
	expect_cmd(&r, 7, "k", "eth0#l", NULL);
	expect_end(&r);
}

static void test_continuation(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "create-vnic \\\n"
		    "  -l eth0 \\\n"
		    "  vnic0\n"
		    "x\\\n"
		    "y\n"
		    "\n"
		    "\\\n"
		    "z\n"
		    "'quoted \\\n"
		    "across' \"and \\\n"
		    "this\"\n"
		    "last \\");
	expect_cmd(&r, 1, "create-vnic", "-l", "eth0", "vnic0", NULL);
	expect_cmd(&r, 4, "x" "y", NULL);
	expect_cmd(&r, 8, "z", NULL);
	expect_cmd(&r, 9, "quoted across", "and this", NULL);
	/* a continuation into the end of the file: the line is not there */
	expect_err(&r, "test.vw:12: '\\' at the end of the file continues a line that is not there");
	expect_end(&r);
	rd_open(&r, "create-etherstub st0 \\\n");
	expect_err(&r, "test.vw:1: '\\' at the end of the file continues a line that is not there");
	expect_end(&r);
}

static void test_continued_comment(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "a # comment \\\n"
		    "still comment\n"
		    "b\n"
		    "# c \\\\\n"
		    "d\n");
	expect_cmd(&r, 1, "a", NULL);
	expect_cmd(&r, 3, "b", NULL);
	expect_cmd(&r, 5, "d", NULL);
	expect_end(&r);
}

static void test_escapes(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "a\\ b c\\\\ \\'d\\\" \\$e \\${LINK}\n"
		    "x \\\\\n"
		    "y\n");
	expect_cmd(&r, 1, "a b", "c\\", "'d\"", "$e", "${LINK}", NULL);
	expect_cmd(&r, 2, "x", "\\", NULL);
	expect_cmd(&r, 3, "y", NULL);
	expect_end(&r);
}

static void test_single_quotes(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "'a b' 'c\"d' '${LINK}' 'e\\f' '' x'y z'w 'it'\\''s'\n"
		    "'#' '\t'\n");
	expect_cmd(&r, 1, "a b", "c\"d", "${LINK}", "e\\f", "", "xy zw",
		   "it's", NULL);
	expect_cmd(&r, 2, "#", "\t", NULL);
	expect_end(&r);
}

static void test_double_quotes(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "\"a b\" \"c'd\" \"${LINK} up\" \"\" "
		    "\"e\\\"f\" \"g\\\\h\" \"i\\$j\" \"k\\n\" \"$x\" \"a\"'b'c\n");
	expect_cmd(&r, 1, "a b", "c'd", "eth0 up", "", "e\"f", "g\\h", "i$j",
		   "k\\n", "$x", "abc", NULL);
	expect_end(&r);
}

static void test_variables(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "set ${LINK} maxbw=${BW}\n"
		    "pre${LINK}post ${SPACED} \"${SPACED}\"\n"
		    "e ${EMPTY} \"${EMPTY}\" x${EMPTY}y\n"
		    "q ${QUOTES}\n"
		    "u ${_x9}${_x9}\n"
		    "$ $LINK a$ ${LINK}$\n");
	expect_cmd(&r, 1, "set", "eth0", "maxbw=100M", NULL);
	expect_cmd(&r, 2, "preeth0post", "a b", "a b", NULL);
	expect_cmd(&r, 3, "e", "", "", "xy", NULL);
	expect_cmd(&r, 4, "q", "it's \"x\" ${LINK}", NULL);
	expect_cmd(&r, 5, "u", "underunder", NULL);
	expect_cmd(&r, 6, "$", "$LINK", "a$", "eth0$", NULL);
	expect_end(&r);
}

static void test_undefined_variable(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "a\n"
		    "b ${NOPE} c\n"
		    "d\n"
		    "e \\\n"
		    "  \"x ${ALSO_NOPE}\" \\\n"
		    "  f\n"
		    "g\n"
		    "h ${link}\n");
	expect_cmd(&r, 1, "a", NULL);
	expect_err(&r, "test.vw:2: undefined variable 'NOPE'");
	expect_cmd(&r, 3, "d", NULL);
	expect_err(&r, "test.vw:5: undefined variable 'ALSO_NOPE'");
	expect_cmd(&r, 7, "g", NULL);
	expect_err(&r, "test.vw:8: undefined variable 'link'");
	expect_end(&r);
}

static void test_bad_variable(void **state)
{
	static const char *const bad[] = {
		"a ${}\n", "a ${LINK\n", "a ${1X}\n", "a ${LI NK}\n",
		"a \"${LINK-x}\"\n", "a ${",
	};
	struct reader r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		rd_open(&r, bad[i]);
		expect_err(&r, "test.vw:1: bad variable reference");
		expect_end(&r);
	}
}

static void test_unterminated_quote(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "a\n"
		    "b 'open\n"
		    "c\n"
		    "d \"open\n"
		    "e \\\n"
		    "  f 'x\n"
		    "g\n"
		    "h \"never closed");
	expect_cmd(&r, 1, "a", NULL);
	expect_err(&r, "test.vw:2: unterminated quote");
	expect_cmd(&r, 3, "c", NULL);
	expect_err(&r, "test.vw:4: unterminated quote");
	expect_err(&r, "test.vw:6: unterminated quote");
	expect_cmd(&r, 7, "g", NULL);
	expect_err(&r, "test.vw:8: unterminated quote");
	expect_end(&r);
}

/* A quote opened on one line and continued names the line it opened on. */
static void test_unterminated_continued(void **state)
{
	struct reader r;

	(void)state;
	rd_open(&r, "a 'one \\\n"
		    "two\n"
		    "b\n");
	expect_err(&r, "test.vw:1: unterminated quote");
	expect_cmd(&r, 3, "b", NULL);
	expect_end(&r);
}

static void test_error_buffer(void **state)
{
	struct vw_vwfile *f;
	char small[8], **argv;
	int argc, line;

	(void)state;
	f = vw_vwfile_open_mem("x ${NOPE}\ny\n", 12, "f", NULL, 0);
	assert_non_null(f);
	memset(small, 'z', sizeof(small));
	assert_int_equal(vw_vwfile_next(f, &argc, &argv, &line, small,
					sizeof(small)), -1);
	assert_string_equal(small, "f:1: un");
	assert_int_equal(vw_vwfile_next(f, &argc, &argv, &line, NULL, 0), 1);
	assert_int_equal(argc, 1);
	assert_string_equal(argv[0], "y");
	assert_int_equal(line, 2);
	assert_int_equal(vw_vwfile_next(f, &argc, &argv, NULL, NULL, 0), 0);
	vw_vwfile_close(f);
	vw_vwfile_close(NULL);
}

/* The reader keeps its own copies of the text, the name and the variables. */
static void test_copies(void **state)
{
	char *text = strdup("cmd ${V}\n");
	char *name = strdup("copy.vw");
	char *vname = strdup("V"), *vval = strdup("value");
	struct vw_vardef *vars = malloc(sizeof(*vars));
	struct vw_vwfile *f;
	char err[64], **argv;
	int argc, line;

	(void)state;
	assert_non_null(vars);
	vars->name = vname;
	vars->value = vval;
	f = vw_vwfile_open_mem(text, strlen(text), name, vars, 1);
	assert_non_null(f);
	free(text);
	free(name);
	free(vname);
	free(vval);
	free(vars);
	assert_int_equal(vw_vwfile_next(f, &argc, &argv, &line, err,
					sizeof(err)), 1);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "value");
	vw_vwfile_close(f);

	f = vw_vwfile_open_mem("${V}", 4, NULL, NULL, 0);
	assert_non_null(f);
	assert_int_equal(vw_vwfile_next(f, &argc, &argv, &line, err,
					sizeof(err)), -1);
	assert_string_equal(err, "-:1: undefined variable 'V'");
	vw_vwfile_close(f);
}

static void test_large(void **state)
{
	const int nwords = 2000, wlen = 300;
	size_t len = (size_t)nwords * (wlen + 1) + 64;
	char *text = malloc(len), *p = text;
	struct reader r;
	int i;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < nwords; i++) {
		memset(p, 'a' + i % 26, wlen);
		p += wlen;
		*p++ = i % 10 == 9 ? '\t' : ' ';
	}
	strcpy(p, "\\\nend ${LINK}\nnext\n");
	rd_open(&r, text);
	free(text);
	assert_int_equal(rd_next(&r), 1);
	assert_int_equal(r.argc, nwords + 2);
	for (i = 0; i < nwords; i++) {
		assert_int_equal(strlen(r.argv[i]), wlen);
		assert_int_equal(r.argv[i][0], 'a' + i % 26);
	}
	assert_string_equal(r.argv[nwords], "end");
	assert_string_equal(r.argv[nwords + 1], "eth0");
	assert_null(r.argv[nwords + 2]);
	expect_cmd(&r, 3, "next", NULL);
	expect_end(&r);
}

/* ---- bytes, not C strings: a NUL byte is an error of its line ---- */

static void rd_open_len(struct reader *r, const char *text, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->f = vw_vwfile_open_mem(text, len, "test.vw", test_vars, ARRAY_SIZE(test_vars));
	assert_non_null(r->f);
}

#define RD_OPEN_BYTES(r, lit) rd_open_len(r, lit, sizeof(lit) - 1)

/* Finding 1 of issue 11: a NUL at a line boundary ended the text there. */
static void test_nul_line_start(void **state)
{
	struct reader r;

	(void)state;
	RD_OPEN_BYTES(&r, "a 1\n\0create-vnic x\nb 2\nc 3\n");
	expect_cmd(&r, 1, "a", "1", NULL);
	expect_err(&r, "test.vw:2: NUL byte in line");
	expect_cmd(&r, 3, "b", "2", NULL);
	expect_cmd(&r, 4, "c", "3", NULL);
	expect_end(&r);
}

static void test_nul_everywhere(void **state)
{
	struct reader r;

	(void)state;
	RD_OPEN_BYTES(&r, "w a\0b\n"           /* 1: in a word */
			  "'q\0'\n"             /* 2: in single quotes */
			  "\"d\0\"\n"           /* 3: in double quotes */
			  "# comment \0 x\n"    /* 4: in a comment */
			  "x \\\0\n"            /* 5: escaped */
			  "v ${LI\0NK}\n"       /* 6: in a variable's name */
			  "\"e \\\0\"\n"        /* 7: escaped in double quotes */
			  "ok\n"                /* 8 */
			  "k 'a \\\n\0b'\n"     /* 9-10: on a continued line */
			  "end\0");             /* 11: last, no newline */
	expect_err(&r, "test.vw:1: NUL byte in line");
	expect_err(&r, "test.vw:2: NUL byte in line");
	expect_err(&r, "test.vw:3: NUL byte in line");
	expect_err(&r, "test.vw:4: NUL byte in line");
	expect_err(&r, "test.vw:5: NUL byte in line");
	expect_err(&r, "test.vw:6: NUL byte in line");
	expect_err(&r, "test.vw:7: NUL byte in line");
	expect_cmd(&r, 8, "ok", NULL);
	expect_err(&r, "test.vw:10: NUL byte in line");
	expect_err(&r, "test.vw:11: NUL byte in line");
	expect_end(&r);
}

/* The length is the end, whatever follows it in memory. */
static void test_len_is_the_end(void **state)
{
	struct reader r;

	(void)state;
	rd_open_len(&r, "a b\nc d\n", 6);
	expect_cmd(&r, 1, "a", "b", NULL);
	expect_cmd(&r, 2, "c", NULL);
	expect_end(&r);
	rd_open_len(&r, "x 'open", 4);
	expect_err(&r, "test.vw:1: unterminated quote");
	expect_end(&r);
	rd_open_len(&r, "x \\", 3);
	expect_err(&r, "test.vw:1: '\\' at the end of the file continues a line that is not there");
	expect_end(&r);
	rd_open_len(&r, "${LINK}x", 6);
	expect_err(&r, "test.vw:1: bad variable reference");
	expect_end(&r);
	rd_open_len(&r, NULL, 10);
	expect_end(&r);
}

/* ---- quoting ---- */

static void test_quote_plain(void **state)
{
	static const char *const plain[] = {
		"eth0", "maxbw=100M", "a,b", "-l", "10.0.0.1/24", "{x}",
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(plain); i++) {
		assert_ptr_equal(vw_word_quote(plain[i], buf, sizeof(buf)), buf);
		assert_string_equal(buf, plain[i]);
	}
	assert_string_equal(vw_word_quote("a b", buf, sizeof(buf)), "'a b'");
	assert_string_equal(vw_word_quote("", buf, sizeof(buf)), "''");
	assert_string_equal(vw_word_quote("#x", buf, sizeof(buf)), "'#x'");
	assert_string_equal(vw_word_quote("a$", buf, sizeof(buf)), "'a$'");
	assert_string_equal(vw_word_quote("${X}", buf, sizeof(buf)), "'${X}'");
	assert_string_equal(vw_word_quote("a\\b", buf, sizeof(buf)), "'a\\b'");
	assert_string_equal(vw_word_quote("a\"b", buf, sizeof(buf)), "'a\"b'");
	assert_string_equal(vw_word_quote("it's", buf, sizeof(buf)),
			    "'it'\\''s'");
	assert_string_equal(vw_word_quote("\t", buf, sizeof(buf)), "'\t'");
}

static void test_quote_buffer(void **state)
{
	char buf[16];

	(void)state;
	assert_non_null(vw_word_quote("abcdefg", buf, 8));
	assert_null(vw_word_quote("abcdefgh", buf, 8));
	assert_non_null(vw_word_quote("a bcde", buf, 9));
	assert_string_equal(buf, "'a bcde'");
	assert_null(vw_word_quote("a bcdef", buf, 8));
	assert_null(vw_word_quote("a bcde", buf, 8));
	assert_non_null(vw_word_quote("'", buf, 7));
	assert_string_equal(buf, "''\\'''");
	assert_null(vw_word_quote("'", buf, 6));
	assert_null(vw_word_quote("", buf, 2));
	assert_null(vw_word_quote("x", buf, 1));
	assert_null(vw_word_quote("x", buf, 0));
	assert_null(vw_word_quote("a\nb", buf, sizeof(buf)));
	assert_null(vw_word_quote("\n", buf, sizeof(buf)));
}

/* Every quoted word reads back as itself, alone and in a line. */
static void test_quote_round_trip(void **state)
{
	static const char *const words[] = {
		"plain", "", " ", "a b", "\t", "'", "''", "\"", "\\", "\\\\",
		"#", "a#b", "$", "${LINK}", "${NOPE}", "$LINK", "it's",
		"'quoted'", "\"dq\"", "mix 'of' \"all\" \\ # $ {}",
		"trailing\\", "\\'", "'\\", "a\\\tb", "x=y,z=w", "\r",
	};
	char line[4096], buf[256];
	struct reader r;
	size_t i;
	int n;

	(void)state;
	line[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(words); i++) {
		assert_non_null(vw_word_quote(words[i], buf, sizeof(buf)));
		rd_open(&r, buf);
		assert_int_equal(rd_next(&r), 1);
		assert_int_equal(r.argc, 1);
		assert_string_equal(r.argv[0], words[i]);
		expect_end(&r);
		strcat(line, buf);
		strcat(line, i % 2 ? " \\\n " : " ");
	}

	rd_open(&r, line);
	assert_int_equal(rd_next(&r), 1);
	assert_int_equal(r.argc, (int)ARRAY_SIZE(words));
	for (n = 0; n < r.argc; n++)
		assert_string_equal(r.argv[n], words[n]);
	expect_end(&r);
}

/* Round trips of every short word over a small, nasty alphabet. */
static void test_quote_exhaustive(void **state)
{
	static const char alpha[] = " \t'\"#$\\{}a";
	const int k = sizeof(alpha) - 1;
	char w[5], buf[64];
	struct reader r;
	int len, idx, total, i, v;

	(void)state;
	for (len = 0; len <= 4; len++) {
		total = 1;
		for (i = 0; i < len; i++)
			total *= k;
		for (idx = 0; idx < total; idx++) {
			v = idx;
			for (i = 0; i < len; i++) {
				w[i] = alpha[v % k];
				v /= k;
			}
			w[len] = '\0';
			assert_non_null(vw_word_quote(w, buf, sizeof(buf)));
			rd_open(&r, buf);
			if (rd_next(&r) != 1 || r.argc != 1 ||
			    strcmp(r.argv[0], w))
				fail_msg("\"%s\" -> [%s] did not read back", w,
					 buf);
			expect_end(&r);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_blanks),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_continued_comment),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_single_quotes),
		cmocka_unit_test(test_double_quotes),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_undefined_variable),
		cmocka_unit_test(test_bad_variable),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_unterminated_continued),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_nul_line_start),
		cmocka_unit_test(test_nul_everywhere),
		cmocka_unit_test(test_len_is_the_end),
		cmocka_unit_test(test_quote_plain),
		cmocka_unit_test(test_quote_buffer),
		cmocka_unit_test(test_quote_round_trip),
		cmocka_unit_test(test_quote_exhaustive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
