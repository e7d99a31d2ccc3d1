/*
 * Unit tests for the human units of vwstat's table (cli/output.c).  The
 * unit tests link the library and the daemon's code, not the CLIs', so the
 * file under test is compiled in here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.c"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct human_case {
	uint64_t v;
	unsigned base;
	int unit;
	const char *want;
};

static void check_cases(const struct human_case *t, size_t n)
{
	char buf[32];
	size_t i;

	for (i = 0; i < n; i++) {
		out_human(buf, sizeof(buf), t[i].v, t[i].base, t[i].unit);
		if (strcmp(buf, t[i].want))
			fail_msg("%llu base %u unit %d: got '%s', want '%s'", (unsigned long long)t[i].v,
				 t[i].base, t[i].unit, buf, t[i].want);
	}
}

static void test_human_auto(void **state)
{
	static const struct human_case t[] = {
		{ 0, 1000, OUT_UNIT_AUTO, "0" },
		{ 0, 1024, OUT_UNIT_AUTO, "0" },
		{ 999, 1000, OUT_UNIT_AUTO, "999" },
		{ 1000, 1000, OUT_UNIT_AUTO, "1.00K" },
		{ 1000, 1024, OUT_UNIT_AUTO, "1000" },
		{ 1023, 1024, OUT_UNIT_AUTO, "1023" },
		{ 1024, 1024, OUT_UNIT_AUTO, "1.00K" },
		{ 1234, 1000, OUT_UNIT_AUTO, "1.23K" },
		{ 1235, 1000, OUT_UNIT_AUTO, "1.24K" },	/* half rounds up */
		{ 1236, 1000, OUT_UNIT_AUTO, "1.24K" },
		{ 1536, 1024, OUT_UNIT_AUTO, "1.50K" },
		{ 999994, 1000, OUT_UNIT_AUTO, "999.99K" },
		{ 999995, 1000, OUT_UNIT_AUTO, "1.00M" },	/* 1000.00K moves up */
		{ 1000000, 1000, OUT_UNIT_AUTO, "1.00M" },
		{ 1048575, 1024, OUT_UNIT_AUTO, "1.00M" },
		{ 1048576, 1024, OUT_UNIT_AUTO, "1.00M" },
		{ 1234567, 1000, OUT_UNIT_AUTO, "1.23M" },
		{ 5ULL * 1024 * 1024 * 1024, 1024, OUT_UNIT_AUTO, "5.00G" },
		{ 1000000000000ULL, 1000, OUT_UNIT_AUTO, "1.00T" },
		{ 1000000000000000ULL, 1000, OUT_UNIT_AUTO, "1.00P" },
		/* P is the largest unit: more is printed as thousands of P */
		{ UINT64_MAX, 1000, OUT_UNIT_AUTO, "18446.74P" },
		{ UINT64_MAX, 1024, OUT_UNIT_AUTO, "16384.00P" },
	};

	(void)state;
	check_cases(t, ARRAY_SIZE(t));
}

static void test_human_fixed(void **state)
{
	static const struct human_case t[] = {
		{ 0, 1000, OUT_UNIT_RAW, "0" },
		{ 1234567, 1000, OUT_UNIT_RAW, "1234567" },
		{ UINT64_MAX, 1024, OUT_UNIT_RAW, "18446744073709551615" },
		{ 0, 1000, 1, "0.00K" },
		{ 999, 1000, 1, "1.00K" },
		{ 4, 1000, 1, "0.00K" },
		{ 5, 1000, 1, "0.01K" },
		{ 1234567, 1000, 1, "1234.57K" },
		{ 1234567, 1024, 1, "1205.63K" },
		{ 1234567, 1000, 2, "1.23M" },
		{ 1234567, 1024, 2, "1.18M" },
		{ 1234567, 1000, 3, "0.00G" },
		{ 5000000000ULL, 1000, 3, "5.00G" },
		{ 5000000000000ULL, 1000, 4, "5.00T" },
		{ 5000000000000ULL, 1000, 5, "0.01P" },
		{ 2ULL * 1024 * 1024 * 1024, 1024, 3, "2.00G" },
		{ UINT64_MAX, 1000, 1, "18446744073709551.62K" },
		{ UINT64_MAX, 1024, 1, "18014398509481984.00K" },
	};

	(void)state;
	check_cases(t, ARRAY_SIZE(t));
}

static void test_unit_parse(void **state)
{
	(void)state;
	assert_int_equal(out_unit_parse("R"), OUT_UNIT_RAW);
	assert_int_equal(out_unit_parse("r"), OUT_UNIT_RAW);
	assert_int_equal(out_unit_parse("K"), 1);
	assert_int_equal(out_unit_parse("m"), 2);
	assert_int_equal(out_unit_parse("G"), 3);
	assert_int_equal(out_unit_parse("T"), 4);
	assert_int_equal(out_unit_parse("P"), 5);
	assert_int_equal(out_unit_parse(""), -2);
	assert_int_equal(out_unit_parse("KB"), -2);
	assert_int_equal(out_unit_parse("X"), -2);
	assert_int_equal(out_unit_parse("1"), -2);
}

/* The table scales counters only; parsable and JSON keep the exact integer. */
static void test_table_units(void **state)
{
	static const struct out_field tab[] = {
		{ "LINK", "link", 6, 0, NULL },
		{ "IPKTS", "ipkts", 8, OUT_F_COUNTER, NULL },
		{ "RBYTES", "rbytes", 8, OUT_F_BCOUNTER, NULL },
		{ "QLEN", "qlen", 6, OUT_F_NUM, NULL },
		{ NULL, NULL, 0, 0, NULL },
	};
	const char *row[] = { "v0", "1500", "2097152", "5000" };
	static const struct {
		enum out_mode mode;
		int unit;
		const char *want;
	} t[] = {
		{ OUT_TABLE, OUT_UNIT_AUTO, "LINK      IPKTS   RBYTES   QLEN\nv0        1.50K    2.00M   5000\n" },
		{ OUT_TABLE, OUT_UNIT_RAW, "LINK      IPKTS   RBYTES   QLEN\nv0         1500  2097152   5000\n" },
		{ OUT_TABLE, 1, "LINK      IPKTS   RBYTES   QLEN\nv0        1.50K 2048.00K   5000\n" },
		{ OUT_PARSABLE, OUT_UNIT_AUTO, "v0:1500:2097152:5000\n" },
		{ OUT_JSON, OUT_UNIT_AUTO, "[{\"link\":\"v0\",\"ipkts\":1500,\"rbytes\":2097152,\"qlen\":5000}]\n" },
	};
	char err[64], *buf;
	struct out o;
	size_t i, len;
	FILE *fp;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		fp = open_memstream(&buf, &len);
		assert_non_null(fp);
		assert_int_equal(out_init(&o, tab, NULL, NULL, t[i].mode, fp, err, sizeof(err)), 0);
		o.unit = t[i].unit;
		out_begin(&o);
		out_row(&o, row);
		out_end(&o);
		fclose(fp);
		assert_string_equal(buf, t[i].want);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human_auto),
		cmocka_unit_test(test_human_fixed),
		cmocka_unit_test(test_unit_parse),
		cmocka_unit_test(test_table_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
