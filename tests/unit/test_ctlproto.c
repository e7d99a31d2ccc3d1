/*
 * Unit tests for the control socket's request parser (control/ctl.c) and
 * the privilege each command needs (lib/cmd.c's table).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "control/ctl.h"
#include "lib/vwire.h"

/* parse TEXT: its argc, argv in av (av[0..]); -1 and why on error */
static int parse(const char *text, int max, char **av, int *ac, const char **why, char *buf, size_t len)
{
	size_t n = strlen(text);

	assert_true(n < len);
	memcpy(buf, text, n + 1);
	return ctl_parse_request(buf, n, ac, av, max, why);
}

static void test_request_ok(void **state)
{
	char buf[256], *av[9];
	const char *why = NULL;
	int ac = -1;

	(void)state;
	assert_int_equal(parse("arg=show-link\narg=-p\narg=\narg=a=b\n", 8, av, &ac, &why, buf, sizeof(buf)), 0);
	assert_int_equal(ac, 4);
	assert_string_equal(av[0], "show-link");
	assert_string_equal(av[1], "-p");
	assert_string_equal(av[2], "");
	assert_string_equal(av[3], "a=b");
	assert_null(av[4]);
	/* an empty request, and empty lines, are no words */
	assert_int_equal(parse("", 8, av, &ac, &why, buf, sizeof(buf)), 0);
	assert_int_equal(ac, 0);
	assert_null(av[0]);
	assert_int_equal(parse("\narg=x\n\n", 8, av, &ac, &why, buf, sizeof(buf)), 0);
	assert_int_equal(ac, 1);
	assert_string_equal(av[0], "x");
	/* the last line may lack its line break */
	assert_int_equal(parse("arg=x\narg=y", 8, av, &ac, &why, buf, sizeof(buf)), 0);
	assert_int_equal(ac, 2);
	assert_string_equal(av[1], "y");
	/* exactly max words */
	assert_int_equal(parse("arg=1\narg=2\n", 2, av, &ac, &why, buf, sizeof(buf)), 0);
	assert_int_equal(ac, 2);
}

static void test_request_bad(void **state)
{
	static const char *const bad[] = { "garbage\n", "arg\n", "ar=x\n", "foo=bar\n", "arg=x\nARG=y\n", " arg=x\n" };
	char buf[256], *av[9];
	const char *why;
	size_t i;
	int ac;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(parse(bad[i], 8, av, &ac, &why, buf, sizeof(buf)), -1);
		assert_string_equal(why, "malformed request");
	}
	assert_int_equal(parse("arg=1\narg=2\narg=3\n", 2, av, &ac, &why, buf, sizeof(buf)), -1);
	assert_string_equal(why, "too many words in request");
	/* a NUL inside is malformed, not the end of the request */
	memcpy(buf, "arg=x\0arg=y\n", 13);
	assert_int_equal(ctl_parse_request(buf, 12, &ac, av, 8, &why), -1);
	assert_string_equal(why, "malformed request");
}

/* Every command has its class: read-only ones are the show-* commands,
 * export and vwstat's; snoop is a capture; everything else changes. */
static enum vw_priv expected(const char *c)
{
	if (!strncmp(c, "show-", 5) || !strcmp(c, "export") || !strcmp(c, "stats") || !strcmp(c, "flowstats") ||
	    !strcmp(c, "aggrstats"))
		return VW_PRIV_READ;
	return !strcmp(c, "snoop") ? VW_PRIV_CAPTURE : VW_PRIV_ADMIN;
}

static void test_privileges(void **state)
{
	const struct vw_cmddef *tab;
	int i, n;

	(void)state;
	tab = vw_cmd_table(&n);
	for (i = 0; i < n; i++) {
		if (tab[i].priv != expected(tab[i].name))
			fail_msg("%s: privilege %d, expected %d", tab[i].name, tab[i].priv, expected(tab[i].name));
	}
	assert_int_equal(vw_cmd_find("create-vnic")->priv, VW_PRIV_ADMIN);
	assert_string_equal(vw_priv_needs(VW_PRIV_ADMIN), "root or CAP_NET_ADMIN");
	assert_string_equal(vw_priv_needs(VW_PRIV_CAPTURE), "root or CAP_NET_RAW");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_privileges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
