/*
 * Unit tests of the frames a VNIC is announced with (objects/announce.c):
 * the gratuitous ARP, the unsolicited neighbour advertisement (its ICMPv6
 * checksum against the reference sum) and QEMU's RARP frame, byte by byte.
 * VWT_ANNOUNCE_PCAP=FILE writes them to a pcap file, for tshark.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <arpa/inet.h>

#include "lib/vwire.h"
#include "objects/announce.h"
#include "tests/unit/frametest.h"

static const uint8_t MAC[6] = { 0x02, 0x08, 0x20, 0x11, 0x22, 0x33 };

static struct vw_prefix prefix(const char *s)
{
	struct vw_prefix p;

	assert_true(vw_prefix_parse(s, false, &p));
	return p;
}

/* f is len bytes, with guard bytes after it that must stay untouched */
static size_t build(uint8_t *f, const struct vw_prefix *p)
{
	size_t len;

	memset(f, 0xa5, VW_ANNOUNCE_FRAME_MAX + 16);
	len = announce_frame(f, MAC, p);
	assert_true(len <= VW_ANNOUNCE_FRAME_MAX);
	for (size_t i = VW_ANNOUNCE_FRAME_MAX; i < VW_ANNOUNCE_FRAME_MAX + 16; i++)
		assert_int_equal(f[i], 0xa5);
	pcap_write(f, (uint32_t)len);
	return len;
}

static void test_garp(void **state)
{
	static const uint8_t want[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x08, 0x20, 0x11, 0x22, 0x33, 0x08, 0x06, /* Ethernet */
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,                                         /* request */
		0x02, 0x08, 0x20, 0x11, 0x22, 0x33, 10, 234, 0, 10,                               /* sender */
		0, 0, 0, 0, 0, 0, 10, 234, 0, 10,                                                 /* target */
		/* padding to 60 */
	};
	struct vw_prefix p = prefix("10.234.0.10/24");
	uint8_t f[VW_ANNOUNCE_FRAME_MAX + 16];

	(void)state;
	assert_int_equal(build(f, &p), 60);
	assert_memory_equal(f, want, 60);
}

static void test_na(void **state)
{
	static const uint8_t want[86] = {
		0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x08, 0x20, 0x11, 0x22, 0x33, 0x86, 0xdd, /* Ethernet */
		0x60, 0, 0, 0, 0x00, 32, 58, 255,                                                 /* IPv6 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,                    /* source */
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                          /* ff02::1 */
		136, 0, 0xb6, 0xc1, 0x20, 0, 0, 0,                                                /* NA, O */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,                    /* target */
		2, 1, 0x02, 0x08, 0x20, 0x11, 0x22, 0x33,                                         /* TLLA */
	};
	struct vw_prefix p = prefix("2001:db8::10/64");
	uint8_t f[VW_ANNOUNCE_FRAME_MAX + 16];

	(void)state;
	assert_int_equal(build(f, &p), 86);
	assert_memory_equal(f, want, 86);
	/* the checksum over the pseudo-header (source, destination, length,
	 * next header) and the ICMPv6 message sums to 0xffff */
	{
		uint32_t s = ref_sum(f + 22, 32, 0); /* both addresses */

		s += 32 + 58;
		s = ref_sum(f + 54, 32, s);
		assert_int_equal(ref_fold(s), 0xffff);
	}
}

/* Another address and a link-local one: the checksum still adds up. */
static void test_na_sums(void **state)
{
	static const char *const addrs[] = { "fe80::8:20ff:fe11:2233/64", "fd00:1:2:3:4:5:6:7/128", "::ffff:0:1/96" };
	uint8_t f[VW_ANNOUNCE_FRAME_MAX + 16];

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct vw_prefix p = prefix(addrs[i]);
		uint32_t s;

		assert_int_equal(build(f, &p), 86);
		assert_memory_equal(f + 22, p.addr.bytes, 16);
		assert_memory_equal(f + 62, p.addr.bytes, 16);
		s = ref_sum(f + 22, 32, 32 + 58);
		assert_int_equal(ref_fold(ref_sum(f + 54, 32, s)), 0xffff);
	}
}

static void test_rarp(void **state)
{
	static const uint8_t want[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x08, 0x20, 0x11, 0x22, 0x33, 0x80, 0x35, /* Ethernet */
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03,                                         /* reverse request */
		0x02, 0x08, 0x20, 0x11, 0x22, 0x33, 0, 0, 0, 0,                                   /* sender */
		0x02, 0x08, 0x20, 0x11, 0x22, 0x33, 0, 0, 0, 0,                                   /* target */
	};
	uint8_t f[VW_ANNOUNCE_FRAME_MAX + 16];

	(void)state;
	assert_int_equal(build(f, NULL), 60);
	assert_memory_equal(f, want, 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garp),
		cmocka_unit_test(test_na),
		cmocka_unit_test(test_na_sums),
		cmocka_unit_test(test_rarp),
	};
	int rc;

	pcap_open("VWT_ANNOUNCE_PCAP");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	return pcap_close() ? 1 : rc;
}
