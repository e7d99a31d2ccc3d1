/*
 * Unit tests for datapath/mcsnoop.c: the IGMPv3 and MLDv2 reports a
 * virtual machine sends, as Linux builds them (IPv4 with the router alert
 * option, IPv6 with a hop-by-hop router alert), parsed into joins and
 * leaves; the mailbox workers fill and the control thread drains; the
 * group set's MACs; and every malformed or cut frame refused or read
 * without reading past its end (the ASan build checks that).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/mcsnoop.h"

struct rec {
	uint8_t type;
	uint16_t nsrc;
	uint8_t group[16]; /* 4 bytes used for IPv4 */
};

/* The records after a report's 8-byte header at p, groups glen bytes
 * long, each with its sources; where they end. */
static uint8_t *put_records(uint8_t *p, const struct rec *r, int n, int glen)
{
	int i, s;

	p[-1] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		p[0] = r[i].type;
		p[2] = (uint8_t)(r[i].nsrc >> 8);
		p[3] = (uint8_t)r[i].nsrc;
		memcpy(p + 4, r[i].group, (size_t)glen);
		p += 4 + glen;
		for (s = 0; s < r[i].nsrc; s++, p += glen)
			p[0] = 0x20, p[glen - 1] = (uint8_t)(s + 1);
	}
	return p;
}

/* An IGMPv3 report from 10.0.0.5 to 224.0.0.22 with the records given. */
static uint32_t igmp3(uint8_t *f, const struct rec *r, int n)
{
	uint8_t *ip = f + 14, *p;
	uint32_t len;

	memset(f, 0, 2048);
	memcpy(f, "\x01\x00\x5e\x00\x00\x16\x02\x00\x00\x00\x00\x05\x08\x00", 14);
	ip[0] = 0x46; /* IHL 6: the router alert option */
	ip[8] = 1;
	ip[9] = 2;
	memcpy(ip + 12, "\x0a\x00\x00\x05\xe0\x00\x00\x16", 8);
	memcpy(ip + 20, "\x94\x04\x00\x00", 4);
	p = ip + 24;
	p[0] = 0x22;
	p = put_records(p + 8, r, n, 4);
	len = (uint32_t)(p - f);
	ip[2] = (uint8_t)((len - 14) >> 8);
	ip[3] = (uint8_t)(len - 14);
	return len;
}

/* An MLDv2 report from fe80::5 to ff02::16, hop-by-hop router alert first. */
static uint32_t mld2(uint8_t *f, const struct rec *r, int n)
{
	uint8_t *ip = f + 14, *p;
	uint32_t len;

	memset(f, 0, 2048);
	memcpy(f, "\x33\x33\x00\x00\x00\x16\x02\x00\x00\x00\x00\x05\x86\xdd", 14);
	ip[0] = 0x60;
	ip[6] = 0; /* hop-by-hop */
	ip[7] = 1;
	ip[8] = 0xfe, ip[9] = 0x80, ip[23] = 5;
	ip[24] = 0xff, ip[25] = 0x02, ip[39] = 0x16;
	p = ip + 40;
	memcpy(p, "\x3a\x00\x05\x02\x00\x00\x01\x00", 8); /* next 58, router alert, PadN */
	p += 8;
	p[0] = 143;
	p = put_records(p + 8, r, n, 16);
	len = (uint32_t)(p - f);
	ip[4] = (uint8_t)((len - 54) >> 8);
	ip[5] = (uint8_t)(len - 54);
	return len;
}

struct seen {
	int n;
	uint8_t group[8][16];
	bool join[8];
};

static void see(void *arg, const uint8_t group[16], bool join)
{
	struct seen *s = arg;

	if (s->n < 8) {
		memcpy(s->group[s->n], group, 16);
		s->join[s->n++] = join;
	}
}

static const uint8_t v6grp[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0x12, 0x34, 0x56 };
static const uint8_t v6grp2[16] = { 0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 };

static void test_parse_igmp3(void **state)
{
	static uint8_t f[2048];
	struct rec r[4] = { { 4, 0, { 239, 1, 2, 3 } },  /* CHANGE_TO_EXCLUDE {}: join */
			    { 3, 0, { 239, 1, 2, 4 } },  /* CHANGE_TO_INCLUDE {}: leave */
			    { 5, 2, { 232, 9, 9, 9 } },  /* ALLOW {2 sources}: join */
			    { 6, 1, { 232, 9, 9, 8 } } }; /* BLOCK: ignored */
	const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct seen s = { 0 };
	uint32_t len = igmp3(f, r, 4);

	(void)state;
	assert_int_equal(vw_snoop_parse(f, len, see, &s), 3);
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.group[0], mapped, 12);
	assert_memory_equal(s.group[0] + 12, "\xef\x01\x02\x03", 4);
	assert_true(s.join[0]);
	assert_memory_equal(s.group[1] + 12, "\xef\x01\x02\x04", 4);
	assert_false(s.join[1]);
	assert_memory_equal(s.group[2] + 12, "\xe8\x09\x09\x09", 4);
	assert_true(s.join[2]);
}

static void test_parse_mld2(void **state)
{
	static uint8_t f[2048];
	struct rec r[3] = { { 2, 0, { 0 } }, { 1, 0, { 0 } }, { 1, 3, { 0 } } };
	struct seen s = { 0 };
	uint32_t len;

	(void)state;
	memcpy(r[0].group, v6grp, 16);  /* MODE_IS_EXCLUDE {}: join */
	memcpy(r[1].group, v6grp2, 16); /* MODE_IS_INCLUDE {}: leave */
	memcpy(r[2].group, v6grp2, 16); /* MODE_IS_INCLUDE {3}: join */
	len = mld2(f, r, 3);
	assert_int_equal(vw_snoop_parse(f, len, see, &s), 3);
	assert_memory_equal(s.group[0], v6grp, 16);
	assert_true(s.join[0]);
	assert_false(s.join[1]);
	assert_true(s.join[2]);
}

static void test_not_reports(void **state)
{
	static uint8_t f[2048], g[2048];
	struct rec r = { 4, 0, { 239, 1, 1, 1 } };
	struct seen s = { 0 };
	uint32_t len = igmp3(f, &r, 1), l6, cut;

	(void)state;
	memcpy(g, f, len);
	g[14 + 24] = 0x16; /* an IGMPv2 report */
	assert_int_equal(vw_snoop_parse(g, len, see, &s), -1);
	memcpy(g, f, len);
	g[14 + 9] = 17; /* UDP */
	assert_int_equal(vw_snoop_parse(g, len, see, &s), -1);
	memcpy(g, f, len);
	g[14 + 6] = 0x20; /* a fragment */
	assert_int_equal(vw_snoop_parse(g, len, see, &s), -1);
	memcpy(g, f, len);
	g[12] = 0x88, g[13] = 0xcc; /* LLDP */
	assert_int_equal(vw_snoop_parse(g, len, see, &s), -1);
	assert_int_equal(s.n, 0);
	/* every prefix of a report, IPv4 and IPv6: refused, or the records
	 * that fit read; never past the end (ASan) */
	for (cut = 0; cut <= len; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);

		memcpy(c, f, cut);
		s.n = 0;
		assert_true(vw_snoop_parse(c, cut, see, &s) <= 1);
		free(c);
	}
	{
		struct rec r6[2] = { { 2, 5, { 0 } }, { 4, 0, { 0 } } };

		memcpy(r6[0].group, v6grp, 16);
		memcpy(r6[1].group, v6grp2, 16);
		l6 = mld2(f, r6, 2);
	}
	for (cut = 0; cut <= l6; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);

		memcpy(c, f, cut);
		s.n = 0;
		assert_true(vw_snoop_parse(c, cut, see, &s) <= 2);
		free(c);
	}
	/* a record count far beyond the frame, and a hop-by-hop header
	 * longer than the frame */
	f[14 + 48 + 7] = 0xff;
	assert_true(vw_snoop_parse(f, l6, see, &s) <= 2);
	f[14 + 41] = 0xff;
	assert_int_equal(vw_snoop_parse(f, l6, see, &s), -1);
}

static void test_mailbox(void **state)
{
	static uint8_t f[2048];
	struct vw_snoop *sn = calloc(1, sizeof(*sn));
	struct rec r4 = { 4, 0, { 239, 129, 2, 3 } }, r6 = { 2, 0, { 0 } };
	uint8_t macs[8][6];
	uint32_t len;
	int i;

	(void)state;
	assert_non_null(sn);
	assert_false(vw_snoop_drain(sn));
	len = igmp3(f, &r4, 1);
	vw_snoop_put(sn, f, len);
	vw_snoop_put(sn, f, len); /* the guest repeats it */
	memcpy(r6.group, v6grp, 16);
	len = mld2(f, &r6, 1);
	vw_snoop_put(sn, f, len);
	assert_true(vw_snoop_drain(sn));
	assert_int_equal(sn->reports, 3);
	assert_int_equal(sn->ngroups, 2);
	assert_int_equal(vw_snoop_macs(sn, macs, 8), 2);
	/* 239.129.2.3: the low 23 bits */
	assert_memory_equal(macs[0], "\x01\x00\x5e\x01\x02\x03", 6);
	assert_memory_equal(macs[1], "\x33\x33\xff\x12\x34\x56", 6);
	/* nothing new: no change */
	vw_snoop_put(sn, f, len);
	assert_false(vw_snoop_drain(sn));
	/* the IPv6 group left */
	r6.type = 3;
	len = mld2(f, &r6, 1);
	vw_snoop_put(sn, f, len);
	assert_true(vw_snoop_drain(sn));
	assert_int_equal(vw_snoop_macs(sn, macs, 8), 1);
	/* more reports than slots before a drain: the oldest are lost,
	 * counted, and the newest read */
	for (i = 0; i < VW_SNOOP_SLOTS + 4; i++) {
		struct rec r = { 4, 0, { 239, 0, 0, (uint8_t)(10 + i) } };

		len = igmp3(f, &r, 1);
		vw_snoop_put(sn, f, len);
	}
	assert_true(vw_snoop_drain(sn));
	assert_int_equal(sn->lost, 4);
	assert_int_equal(sn->ngroups, 1 + VW_SNOOP_SLOTS);
	/* the set is bounded: joins beyond it are counted, not kept */
	for (i = 0; i < VW_SNOOP_GROUPS; i++) {
		struct rec r = { 4, 0, { 239, 1, (uint8_t)(i >> 8), (uint8_t)i } };

		len = igmp3(f, &r, 1);
		vw_snoop_put(sn, f, len);
		vw_snoop_drain(sn);
	}
	assert_int_equal(sn->ngroups, VW_SNOOP_GROUPS);
	assert_true(sn->full > 0);
	free(sn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_igmp3),
		cmocka_unit_test(test_parse_mld2),
		cmocka_unit_test(test_not_reports),
		cmocka_unit_test(test_mailbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
