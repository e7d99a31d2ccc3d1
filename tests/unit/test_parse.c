/*
 * Unit tests for lib/status.c and lib/parse.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/vwire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- status ---- */

static void test_strstatus(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(vw_strstatus(VW_E_NOENT), "object not found");
	assert_string_equal(vw_strstatus(VW_E_EXIST), "object already exists");
	assert_string_equal(vw_strstatus(VW_E_BUSY), "object busy");
	assert_string_equal(vw_strstatus(VW_E_NOTSUP), "operation not supported");
	assert_string_equal(vw_strstatus(VW_E_NODAEMON), "no daemon");
	for (i = 0; i < VW_E_COUNT; i++) {
		assert_non_null(vw_strstatus(i));
		assert_true(strlen(vw_strstatus(i)) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(vw_strstatus(i), vw_strstatus(j));
	}
	assert_non_null(vw_strstatus(VW_E_COUNT));
	assert_non_null(vw_strstatus((vw_status_t)-1));
	assert_non_null(vw_strstatus((vw_status_t)1000));
}

static void test_errno2status(void **state)
{
	static const struct {
		int err;
		vw_status_t st;
	} t[] = {
		{ 0, VW_OK },
		{ ENOENT, VW_E_NOENT },
		{ ENODEV, VW_E_NOENT },
		{ EEXIST, VW_E_EXIST },
		{ EBUSY, VW_E_BUSY },
		{ EINVAL, VW_E_INVAL },
		{ EPERM, VW_E_PERM },
		{ EACCES, VW_E_PERM },
		{ ENOMEM, VW_E_NOMEM },
		{ ENOSPC, VW_E_NOMEM },
		{ ENOBUFS, VW_E_NOMEM },
		{ EOPNOTSUPP, VW_E_NOTSUP },
		{ ENOTSUP, VW_E_NOTSUP },
		{ EIO, VW_E_SYS },
		{ EBADF, VW_E_SYS },
		{ ECONNREFUSED, VW_E_SYS },
		{ 99999, VW_E_SYS },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		assert_int_equal(vw_errno2status(t[i].err), t[i].st);
		assert_int_equal(vw_errno2status(-t[i].err), t[i].st);
	}
}

static void test_status_exit(void **state)
{
	int i;

	(void)state;
	assert_int_equal(vw_status_exit(VW_OK), 0);
	assert_int_equal(vw_status_exit(VW_E_USAGE), 2);
	for (i = 1; i < VW_E_COUNT; i++)
		if (i != VW_E_USAGE)
			assert_int_equal(vw_status_exit(i), 1);
}

/* ---- names ---- */

static void test_linkname(void **state)
{
	static const char *const good[] = {
		"a", "eth0", "vnic0", "A", "a_b", "a.b", "a-b", "z9",
		"abcdefghijklmno", "l.0-_X",
	};
	static const char *const bad[] = {
		"", "0eth", "_a", ".a", "-a", "abcdefghijklmnop", "a b",
		"a/b", "a:b", "eth0\n", " eth0", "eth0 ", "a@b", "\xc3\xa9t",
		"a\tb",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(vw_linkname_valid(good[i]));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(vw_linkname_valid(bad[i]));
	assert_false(vw_linkname_valid(NULL));
}

static void test_flow_zone_names(void **state)
{
	char n31[32], n32[33];

	(void)state;
	memset(n31, 'f', 31);
	n31[31] = '\0';
	memset(n32, 'f', 32);
	n32[32] = '\0';

	assert_true(vw_flowname_valid("http-in"));
	assert_true(vw_flowname_valid("abcdefghijklmnop"));
	assert_true(vw_flowname_valid(n31));
	assert_false(vw_flowname_valid(n32));
	assert_false(vw_flowname_valid(""));
	assert_false(vw_flowname_valid("1flow"));
	assert_false(vw_flowname_valid("flow one"));
	assert_false(vw_flowname_valid(NULL));

	assert_true(vw_zonename_valid("red"));
	assert_true(vw_zonename_valid("zone.1_a-b"));
	assert_true(vw_zonename_valid(n31));
	assert_false(vw_zonename_valid(n32));
	assert_false(vw_zonename_valid(""));
	assert_false(vw_zonename_valid("9red"));
	assert_false(vw_zonename_valid("red/blue"));
	assert_false(vw_zonename_valid(".."));
	assert_false(vw_zonename_valid(NULL));
}

/* ---- MAC addresses ---- */

static void test_mac_parse(void **state)
{
	static const struct {
		const char *s;
		uint8_t mac[6];
	} good[] = {
		{ "02:08:20:aa:bb:cc", { 0x02, 0x08, 0x20, 0xaa, 0xbb, 0xcc } },
		{ "02-08-20-AA-BB-CC", { 0x02, 0x08, 0x20, 0xaa, 0xbb, 0xcc } },
		{ "2:8:20:a:b:c", { 0x02, 0x08, 0x20, 0x0a, 0x0b, 0x0c } },
		{ "0:0:0:0:0:0", { 0, 0, 0, 0, 0, 0 } },
		{ "ff:ff:ff:ff:ff:ff", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "Fe:dC:0:1:23:45", { 0xfe, 0xdc, 0x00, 0x01, 0x23, 0x45 } },
	};
	static const char *const bad[] = {
		"", "02:08:20:aa:bb", "02:08:20:aa:bb:cc:dd",
		"02:08:20-aa:bb:cc", "02-08-20-aa-bb:cc", "002:08:20:aa:bb:cc",
		"02:08:20:aa:bb:ccc", "02:08:20:aa:bb:", ":02:08:20:aa:bb:cc",
		"02:08:20:aa:bb:cc:", "02::20:aa:bb:cc", "02:08:20:aa:bb:gg",
		"02.08.20.aa.bb.cc", "020820aabbcc", " 02:08:20:aa:bb:cc",
		"02:08:20:aa:bb:cc ", "02 :08:20:aa:bb:cc", "0x2:08:20:aa:bb:cc",
		"+2:08:20:aa:bb:cc", "02:08:20:aa:bb:c\n",
	};
	uint8_t mac[6], orig[6] = { 1, 2, 3, 4, 5, 6 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		memset(mac, 0x55, sizeof(mac));
		assert_true(vw_mac_parse(good[i].s, mac));
		assert_memory_equal(mac, good[i].mac, 6);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(mac, orig, 6);
		assert_false(vw_mac_parse(bad[i], mac));
		assert_memory_equal(mac, orig, 6);
	}
	assert_false(vw_mac_parse(NULL, mac));
}

static void test_macprefix_parse(void **state)
{
	uint8_t p[6];
	int len;

	(void)state;
	assert_true(vw_macprefix_parse(VW_MAC_PREFIX_DEFAULT, p, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(p, "\x02\x08\x20", 3);

	assert_true(vw_macprefix_parse("2", p, &len));
	assert_int_equal(len, 1);
	assert_int_equal(p[0], 2);

	assert_true(vw_macprefix_parse("aa-bb-cc-dd-ee", p, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(p, "\xaa\xbb\xcc\xdd\xee", 5);

	len = 42;
	assert_false(vw_macprefix_parse("aa:bb:cc:dd:ee:ff", p, &len));
	assert_false(vw_macprefix_parse("", p, &len));
	assert_false(vw_macprefix_parse("02:08:", p, &len));
	assert_false(vw_macprefix_parse("02:08-20", p, &len));
	assert_false(vw_macprefix_parse("123", p, &len));
	assert_false(vw_macprefix_parse("xy", p, &len));
	assert_false(vw_macprefix_parse(NULL, p, &len));
	assert_int_equal(len, 42);
}

static void test_mac_format(void **state)
{
	static const uint8_t m1[6] = { 0x02, 0x08, 0x20, 0xaa, 0x0b, 0xcc };
	static const uint8_t m2[6] = { 0, 0, 0, 0, 0, 0 };
	static const uint8_t m3[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char buf[18];
	uint8_t back[6];

	(void)state;
	assert_ptr_equal(vw_mac_format(m1, buf), buf);
	assert_string_equal(buf, "02:08:20:aa:0b:cc");
	assert_string_equal(vw_mac_format(m2, buf), "00:00:00:00:00:00");
	assert_string_equal(vw_mac_format(m3, buf), "ff:ff:ff:ff:ff:ff");
	assert_true(vw_mac_parse(vw_mac_format(m1, buf), back));
	assert_memory_equal(back, m1, 6);
}

static void test_mac_multicast(void **state)
{
	uint8_t mac[6];

	(void)state;
	assert_true(vw_mac_parse("01:00:5e:00:00:01", mac));
	assert_true(vw_mac_is_multicast(mac));
	assert_true(vw_mac_parse("ff:ff:ff:ff:ff:ff", mac));
	assert_true(vw_mac_is_multicast(mac));
	assert_true(vw_mac_parse("33:33:00:00:00:01", mac));
	assert_true(vw_mac_is_multicast(mac));
	assert_true(vw_mac_parse("02:08:20:00:00:01", mac));
	assert_false(vw_mac_is_multicast(mac));
	assert_true(vw_mac_parse("fe:ff:ff:ff:ff:ff", mac));
	assert_false(vw_mac_is_multicast(mac));
}

/* ---- numbers ---- */

static void test_uint_parse(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(vw_uint_parse("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(vw_uint_parse("10", 0, 10, &v));
	assert_int_equal(v, 10);
	assert_true(vw_uint_parse("5", 5, 5, &v));
	assert_int_equal(v, 5);
	assert_true(vw_uint_parse("18446744073709551615", 0, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	assert_true(vw_uint_parse("1234567890", 0, UINT64_MAX, &v));
	assert_true(v == 1234567890);

	v = 77;
	assert_false(vw_uint_parse("18446744073709551616", 0, UINT64_MAX, &v));
	assert_false(vw_uint_parse("99999999999999999999", 0, UINT64_MAX, &v));
	assert_false(vw_uint_parse("11", 0, 10, &v));
	assert_false(vw_uint_parse("4", 5, 10, &v));
	assert_false(vw_uint_parse("", 0, 10, &v));
	assert_false(vw_uint_parse("+1", 0, 10, &v));
	assert_false(vw_uint_parse("-1", 0, 10, &v));
	assert_false(vw_uint_parse("-0", 0, 10, &v));
	assert_false(vw_uint_parse(" 1", 0, 10, &v));
	assert_false(vw_uint_parse("1 ", 0, 10, &v));
	assert_false(vw_uint_parse("1x", 0, 10, &v));
	assert_false(vw_uint_parse("0x1", 0, 10, &v));
	assert_false(vw_uint_parse("01", 0, 10, &v));
	assert_false(vw_uint_parse("00", 0, 10, &v));
	assert_false(vw_uint_parse("1.0", 0, 10, &v));
	assert_false(vw_uint_parse("1e1", 0, 100, &v));
	assert_false(vw_uint_parse("\n1", 0, 10, &v));
	assert_false(vw_uint_parse(NULL, 0, 10, &v));
	assert_int_equal(v, 77);
}

static void test_vid_parse(void **state)
{
	static const char *const bad[] = {
		"0", "4095", "4096", "65536", "65537", "-1", "+1", "", " 1",
		"1 ", "0x10", "010", "1a", "1.0", "99999999999999999999999",
	};
	uint16_t vid;
	size_t i;

	(void)state;
	assert_true(vw_vid_parse("1", &vid));
	assert_int_equal(vid, 1);
	assert_true(vw_vid_parse("100", &vid));
	assert_int_equal(vid, 100);
	assert_true(vw_vid_parse("4094", &vid));
	assert_int_equal(vid, 4094);
	vid = 7;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(vw_vid_parse(bad[i], &vid));
	assert_false(vw_vid_parse(NULL, &vid));
	assert_int_equal(vid, 7);
}

/* ---- bandwidth ---- */

static void test_bw_parse_good(void **state)
{
	static const struct {
		const char *s;
		uint64_t bps;
	} t[] = {
		{ "1", 1000000 },
		{ "100", 100000000 },
		{ "0.5", 500000 },
		{ "1.5", 1500000 },
		{ "0.000001", 1 },
		{ "1K", 1000 },
		{ "1k", 1000 },
		{ "100K", 100000 },
		{ "1.5K", 1500 },
		{ "0.001K", 1 },
		{ "0.999K", 999 },
		{ "1.000K", 1000 },
		{ "2.50000000000000000000K", 2500 },
		{ "1M", 1000000 },
		{ "1m", 1000000 },
		{ "1.5M", 1500000 },
		{ "1.25M", 1250000 },
		{ "0.000001M", 1 },
		{ "10G", 10000000000ULL },
		{ "10g", 10000000000ULL },
		{ "0.5G", 500000000 },
		{ "1.000000001G", 1000000001 },
		{ "0.000000001G", 1 },
		{ "10000G", 10000000000000ULL },
		{ "10000000M", 10000000000000ULL },
		{ "10000000000K", 10000000000000ULL },
		{ "9999.999999999G", 9999999999999ULL },
		{ "0.0010K", 1 },
	};
	uint64_t bps;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		bps = 0;
		if (!vw_bw_parse(t[i].s, &bps))
			fail_msg("rejected \"%s\"", t[i].s);
		if (bps != t[i].bps)
			fail_msg("\"%s\": got %llu", t[i].s,
				 (unsigned long long)bps);
	}
}

static void test_bw_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "0", "0K", "0.0M", "0.0000G", "0.0001K", "0.0000001",
		"0.0000000001G", "1.0001K", "1.5.5M", "-1M", "+1M", " 1M",
		"1M ", "1 M", "1MB", "1Mbps", "1KK", "1T", "1b", "K", "M", ".5M",
		"5.M", "1.", ".", "1,5M", "1e6", "0x10", "01M", "00.5M",
		"10000.000000001G", "10001G", "10000000001K", "10000001",
		"18446744073709551616", "99999999999999999999999999M",
		"1e3K", "1\n", "nan", "inf",
	};
	uint64_t bps = 42;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (vw_bw_parse(bad[i], &bps))
			fail_msg("accepted \"%s\" as %llu", bad[i],
				 (unsigned long long)bps);
	assert_false(vw_bw_parse(NULL, &bps));
	assert_int_equal(bps, 42);
}

static void test_bw_format(void **state)
{
	static const struct {
		uint64_t bps;
		const char *s;
	} t[] = {
		{ 1, "0.001K" },
		{ 10, "0.01K" },
		{ 999, "0.999K" },
		{ 1000, "1K" },
		{ 1500, "1.5K" },
		{ 1001, "1.001K" },
		{ 100000, "100K" },
		{ 500000, "500K" },
		{ 1000000, "1M" },
		{ 1250000, "1.25M" },
		{ 1125000, "1125K" },
		{ 1500000, "1.5M" },
		{ 123456789, "123456.789K" },
		{ 250000000, "250M" },
		{ 2500000000ULL, "2.5G" },
		{ 10000000000ULL, "10G" },
		{ 1000000001, "1000000.001K" },
		{ 10000000000000ULL, "10000G" },
		{ UINT64_MAX, "18446744073709551.615K" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		assert_ptr_equal(vw_bw_format(t[i].bps, buf), buf);
		assert_string_equal(buf, t[i].s);
	}
}

static void bw_round_trip(uint64_t bps)
{
	char buf[32];
	uint64_t back = 0;

	vw_bw_format(bps, buf);
	if (!vw_bw_parse(buf, &back) || back != bps)
		fail_msg("%llu -> \"%s\" -> %llu", (unsigned long long)bps, buf,
			 (unsigned long long)back);
}

static void test_bw_round_trip(void **state)
{
	static const uint64_t mant[] = { 1, 2, 3, 5, 7, 9, 11, 15, 25, 99,
					 125, 999, 1001, 12345 };
	uint64_t x = 88172645463325252ULL, p;
	size_t i;
	int n;

	(void)state;
	for (p = 1; p <= 10000000000000ULL; p *= 10)
		for (i = 0; i < ARRAY_SIZE(mant); i++)
			if (mant[i] * p <= 10000000000000ULL)
				bw_round_trip(mant[i] * p);
	for (p = 1; p < 100000; p++)
		bw_round_trip(p);
	for (n = 0; n < 100000; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bw_round_trip(x % 10000000000000ULL + 1);
	}
	bw_round_trip(10000000000000ULL);
	bw_round_trip(9999999999999ULL);
}

/* More shortest-form choices, and zero (which parse rejects). */
static void test_bw_format_shortest(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(vw_bw_format(2000000000000ULL, buf), "2000G");
	assert_string_equal(vw_bw_format(20000, buf), "20K");
	assert_string_equal(vw_bw_format(20000000, buf), "20M");
	assert_string_equal(vw_bw_format(20100000, buf), "20.1M");
	assert_string_equal(vw_bw_format(100000000, buf), "100M");
	assert_string_equal(vw_bw_format(0, buf), "0");
}

/* ---- addresses ---- */

static void test_prefix_parse_v4(void **state)
{
	struct vw_prefix p;
	char buf[64];

	(void)state;
	assert_true(vw_prefix_parse("10.0.0.1/24", false, &p));
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.plen, 24);
	assert_int_equal(p.addr.v4.s_addr, htonl(0x0a000001));
	assert_string_equal(vw_prefix_format(&p, buf), "10.0.0.1/24");

	assert_true(vw_prefix_parse("0.0.0.0/0", false, &p));
	assert_int_equal(p.plen, 0);
	assert_true(vw_prefix_parse("255.255.255.255/32", false, &p));
	assert_int_equal(p.plen, 32);
	assert_string_equal(vw_prefix_format(&p, buf), "255.255.255.255/32");

	assert_false(vw_prefix_parse("10.0.0.1", false, &p));
	assert_true(vw_prefix_parse("10.0.0.1", true, &p));
	assert_int_equal(p.plen, 32);
	assert_string_equal(vw_prefix_format(&p, buf), "10.0.0.1/32");
}

static void test_prefix_parse_v6(void **state)
{
	struct vw_prefix p;
	char buf[64];

	(void)state;
	assert_true(vw_prefix_parse("fd00::1/64", false, &p));
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.plen, 64);
	assert_int_equal(p.addr.bytes[0], 0xfd);
	assert_int_equal(p.addr.bytes[15], 1);
	assert_string_equal(vw_prefix_format(&p, buf), "fd00::1/64");

	assert_true(vw_prefix_parse("FD00:0000:0:0::0001/64", false, &p));
	assert_string_equal(vw_prefix_format(&p, buf), "fd00::1/64");

	assert_true(vw_prefix_parse("::/0", false, &p));
	assert_string_equal(vw_prefix_format(&p, buf), "::/0");

	assert_true(vw_prefix_parse("::ffff:10.0.0.1/128", false, &p));
	assert_int_equal(p.family, AF_INET6);
	assert_string_equal(vw_prefix_format(&p, buf), "::ffff:10.0.0.1/128");

	assert_true(vw_prefix_parse(
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", false, &p));
	assert_string_equal(vw_prefix_format(&p, buf),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");

	assert_false(vw_prefix_parse("fe80::1", false, &p));
	assert_true(vw_prefix_parse("fe80::1", true, &p));
	assert_int_equal(p.plen, 128);
	assert_string_equal(vw_prefix_format(&p, buf), "fe80::1/128");
}

static void test_prefix_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "/24", "10.0.0.1/", "10.0.0.1/24x", "10.0.0.1/33",
		"10.0.0.256/24", "10.0.0/24", "10.0.0.1.1/24", "10.0.0.1/-1",
		"10.0.0.1/+24", "10.0.0.1/ 24", " 10.0.0.1/24", "10.0.0.1 /24",
		"10.0.0.1/24 ", "10.0.0.1/024", "10.0.0.1/24/24",
		"10.0.0.1//24", "010.0.0.1/24", "0x0a.0.0.1/24", "fd00::1/129",
		"fd00::1/", "fd00:::1/64", "fd00::g/64", "fe80::1%eth0/64",
		"fd00::1/64x", "hello", "10.0.0.1/99999999999999999999999",
		"1:2:3:4:5:6:7:8:9/64",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/64",
	};
	struct vw_prefix p, orig;
	size_t i;

	(void)state;
	memset(&orig, 0xa5, sizeof(orig));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		p = orig;
		if (vw_prefix_parse(bad[i], true, &p))
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&p, &orig, sizeof(p));
	}
	assert_false(vw_prefix_parse(NULL, true, &p));
}

static void test_ifaddr_unusable(void **state)
{
	static const struct {
		const char *addr, *why;
	} cases[] = {
		{ "10.0.0.1/24", NULL },
		{ "192.168.1.255/24", NULL },   /* a subnet's broadcast: Linux takes it */
		{ "fd00::1/64", NULL },
		{ "fe80::1/64", NULL },
		{ "0.0.0.0/0", "an unspecified address" },
		{ "0.0.0.0/8", "an unspecified address" },
		{ "224.0.0.1/4", "a multicast address" },
		{ "239.1.2.3/24", "a multicast address" },
		{ "255.255.255.255/32", "the broadcast address" },
		{ "127.0.0.1/8", "a loopback address" },
		{ "127.9.9.9/32", "a loopback address" },
		{ "::/0", "an unspecified address" },
		{ "::1/128", "a loopback address" },
		{ "ff02::1/16", "a multicast address" },
		{ "10.0.0.1/0", "a prefix of length 0" },
		{ "fd00::1/0", "a prefix of length 0" },
	};
	struct vw_prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why;

		assert_true(vw_prefix_parse(cases[i].addr, false, &p));
		why = vw_ifaddr_unusable(&p);
		if (!cases[i].why)
			assert_null(why);
		else
			assert_string_equal(why, cases[i].why);
	}
}

static void test_prefix_equal(void **state)
{
	struct vw_prefix a, b;

	(void)state;
	assert_true(vw_prefix_parse("10.0.0.1/24", false, &a));
	assert_true(vw_prefix_parse("10.0.0.1/24", false, &b));
	assert_true(vw_prefix_equal(&a, &b));
	assert_true(vw_prefix_parse("10.0.0.1/25", false, &b));
	assert_false(vw_prefix_equal(&a, &b));
	assert_true(vw_prefix_parse("10.0.0.2/24", false, &b));
	assert_false(vw_prefix_equal(&a, &b));
	assert_true(vw_prefix_parse("::a00:1/24", false, &b));
	assert_false(vw_prefix_equal(&a, &b));

	assert_true(vw_prefix_parse("fd00::1/64", false, &a));
	assert_true(vw_prefix_parse("fd00:0::0:1/64", false, &b));
	assert_true(vw_prefix_equal(&a, &b));
	assert_true(vw_prefix_parse("fd00::2/64", false, &b));
	assert_false(vw_prefix_equal(&a, &b));
}

static void test_prefix_format_round_trip(void **state)
{
	static const char *const t[] = {
		"10.0.0.1/24", "192.168.100.200/16", "0.0.0.0/0",
		"fd00::1/64", "2001:db8::/32", "fe80::1:2:3:4/10", "::1/128",
		"1:2:3:4:5:6:7:8/100",
	};
	struct vw_prefix a, b;
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		assert_true(vw_prefix_parse(t[i], false, &a));
		assert_string_equal(vw_prefix_format(&a, buf), t[i]);
		assert_true(vw_prefix_parse(buf, false, &b));
		assert_true(vw_prefix_equal(&a, &b));
	}
}

/* ---- property lists ---- */

static void test_kvlist_split(void **state)
{
	char *k[4], *v[4];
	char s1[] = "a=1,b=2";
	char s2[] = "maxbw=100M";
	char s3[] = "a=,b=x=y,c=3,d=4";
	char s4[] = "a=1,b=2,c=3,d=4,e=5";
	char s5[] = "a=1,b=2";

	(void)state;
	assert_int_equal(vw_kvlist_split(s1, k, v, 4), 2);
	assert_string_equal(k[0], "a");
	assert_string_equal(v[0], "1");
	assert_string_equal(k[1], "b");
	assert_string_equal(v[1], "2");

	assert_int_equal(vw_kvlist_split(s2, k, v, 4), 1);
	assert_string_equal(k[0], "maxbw");
	assert_string_equal(v[0], "100M");

	assert_int_equal(vw_kvlist_split(s3, k, v, 4), 4);
	assert_string_equal(k[0], "a");
	assert_string_equal(v[0], "");
	assert_string_equal(k[1], "b");
	assert_string_equal(v[1], "x=y");
	assert_string_equal(k[3], "d");
	assert_string_equal(v[3], "4");

	assert_int_equal(vw_kvlist_split(s4, k, v, 4), -1);
	assert_int_equal(vw_kvlist_split(s5, k, v, 1), -1);
}

static void test_kvlist_split_bad(void **state)
{
	static const char *const bad[] = {
		"", "a", "=1", "a=1,", ",a=1", "a=1,,b=2", "a=1,b",
		"a=1,=2", ",", "=",
	};
	char buf[32], *k[4], *v[4];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strcpy(buf, bad[i]);
		if (vw_kvlist_split(buf, k, v, 4) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	strcpy(buf, "a=1");
	assert_int_equal(vw_kvlist_split(buf, k, v, 0), -1);
	assert_int_equal(vw_kvlist_split(NULL, k, v, 4), -1);
}

static void test_proplist_split(void **state)
{
	static const char *const lists[] = { "cpus", NULL };
	char *k[4], *v[4];
	char s1[] = "cpus=0,2-3,mtu=1400";
	char s2[] = "mtu=1400,cpus=1";
	char s3[] = "zone=z1,cpus=0,1";

	(void)state;
	assert_int_equal(vw_proplist_split(s1, k, v, 4, lists), 2);
	assert_string_equal(k[0], "cpus");
	assert_string_equal(v[0], "0,2-3");
	assert_string_equal(k[1], "mtu");
	assert_string_equal(v[1], "1400");
	assert_int_equal(vw_proplist_split(s2, k, v, 4, lists), 2);
	assert_string_equal(v[1], "1");
	assert_int_equal(vw_proplist_split(s3, k, v, 4, lists), 2);
	assert_string_equal(k[1], "cpus");
	assert_string_equal(v[1], "0,1");
	/* empty items are the value's: its parser refuses them */
	strcpy(s3, "cpus=0,,1");
	assert_int_equal(vw_proplist_split(s3, k, v, 4, lists), 1);
	assert_string_equal(v[0], "0,,1");
	strcpy(s3, "cpus=0,");
	assert_int_equal(vw_proplist_split(s3, k, v, 4, lists), 1);
	assert_string_equal(v[0], "0,");
}

static void test_proplist_split_bad(void **state)
{
	static const char *const lists[] = { "cpus", NULL };
	/* a bare piece continues only a list property's value */
	static const char *const bad[] = {
		"", "cpus", "1,cpus=0", "mtu=1400,1", "mtu=1,,cpus=0", "mtu=1,", ",cpus=0",
		"zone=z,cpus", "=1", "a=1,=2",
	};
	char buf[32], *k[4], *v[4];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strcpy(buf, bad[i]);
		if (vw_proplist_split(buf, k, v, 4, lists) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	strcpy(buf, "cpus=0,1");
	assert_int_equal(vw_proplist_split(buf, k, v, 4, NULL), -1); /* no list property */
	strcpy(buf, "a=1,b=2");
	assert_int_equal(vw_proplist_split(buf, k, v, 1, lists), -1);
}

/* ---- CPU lists ---- */

static void test_cpulist(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "0", "0" },
		{ "1", "1" },
		{ "0,1", "0-1" },
		{ "0-1", "0-1" },
		{ "1,0", "0-1" },
		{ "0-3,8,10-11", "0-3,8,10-11" },
		{ "5,3,4,3-4", "3-5" },
		{ "2-2", "2" },
		{ "0,2,4", "0,2,4" },
		{ "1023", "1023" },
		{ "62-65", "62-65" },
	};
	struct vw_cpuset set;
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&set, 0xa5, sizeof(set)); /* replaced, not added to */
		if (!vw_cpulist_parse(t[i].in, &set))
			fail_msg("refused \"%s\"", t[i].in);
		assert_string_equal(vw_cpulist_format(&set, buf, sizeof(buf)), t[i].out);
	}
	assert_true(vw_cpulist_parse("0-3,8", &set));
	assert_true(vw_cpuset_has(&set, 0) && vw_cpuset_has(&set, 3) && vw_cpuset_has(&set, 8));
	assert_false(vw_cpuset_has(&set, 4) || vw_cpuset_has(&set, 7) || vw_cpuset_has(&set, 9));
	assert_false(vw_cpuset_has(&set, VW_CPUS_MAX));
	assert_false(vw_cpuset_empty(&set));
	memset(&set, 0, sizeof(set));
	assert_true(vw_cpuset_empty(&set));
	assert_string_equal(vw_cpulist_format(&set, buf, sizeof(buf)), "");
	/* too long for the buffer */
	assert_true(vw_cpulist_parse("0,2,4,6", &set));
	assert_null(vw_cpulist_format(&set, buf, 7));
	assert_string_equal(vw_cpulist_format(&set, buf, 8), "0,2,4,6");
}

static void test_cpulist_bad(void **state)
{
	static const char *const bad[] = {
		"", "abc", "1-0", "3-2", "-1", "1-", "-", ",", "0,", ",0", "0,,1", " 0", "0 ", "0 ,1",
		"01", "00", "+1", "0x1", "1.5", "1024", "0-1024", "99999999999999999999", "0-1-2",
		"0:2", "a-1", "1-b", "0;1",
	};
	struct vw_cpuset set;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (vw_cpulist_parse(bad[i], &set))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(vw_cpulist_parse(NULL, &set));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strstatus),
		cmocka_unit_test(test_errno2status),
		cmocka_unit_test(test_status_exit),
		cmocka_unit_test(test_linkname),
		cmocka_unit_test(test_flow_zone_names),
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_macprefix_parse),
		cmocka_unit_test(test_mac_format),
		cmocka_unit_test(test_mac_multicast),
		cmocka_unit_test(test_uint_parse),
		cmocka_unit_test(test_vid_parse),
		cmocka_unit_test(test_bw_parse_good),
		cmocka_unit_test(test_bw_parse_bad),
		cmocka_unit_test(test_bw_format),
		cmocka_unit_test(test_bw_round_trip),
		cmocka_unit_test(test_bw_format_shortest),
		cmocka_unit_test(test_prefix_parse_v4),
		cmocka_unit_test(test_prefix_parse_v6),
		cmocka_unit_test(test_prefix_parse_bad),
		cmocka_unit_test(test_ifaddr_unusable),
		cmocka_unit_test(test_prefix_equal),
		cmocka_unit_test(test_prefix_format_round_trip),
		cmocka_unit_test(test_kvlist_split),
		cmocka_unit_test(test_kvlist_split_bad),
		cmocka_unit_test(test_proplist_split),
		cmocka_unit_test(test_proplist_split_bad),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_cpulist_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
