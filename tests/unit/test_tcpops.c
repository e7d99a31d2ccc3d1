/*
 * Unit tests for datapath/pktparse.c (vw_pkt_parse) and datapath/tcpops.c
 * (MSS clamp, connection-refusing RST).  Frames are built here from a
 * small description, so every field the parser reports is known in
 * advance; checksums are verified by the plain reference implementation
 * below (16-bit big-endian words, one at a time), not by the code under
 * test.  Every parse of a cut or mutated frame reads a heap copy of exactly
 * its length, so an over-read is an ASan error in `make asan`.
 *
 * With VWT_TCPOPS_PCAP=FILE set, the SYNs, the RSTs built for them and the
 * clamped SYNs are also written to FILE (pcap) for
 * tests/system/t_tcpops_pcap.sh to have tshark check them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "tests/unit/frametest.h"
#include "datapath/gso.h"
#include "datapath/pktparse.h"
#include "datapath/tcpops.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- reference checksum (the rest is in tests/unit/frametest.h) ---- */

/* Pseudo-header sum; src/dst are where the IP header keeps them. */
static uint32_t ref_pseudo(const uint8_t *src, const uint8_t *dst, int alen, uint8_t proto, uint32_t l4len)
{
	return ref_sum(src, alen, 0) + ref_sum(dst, alen, 0) + proto + (l4len >> 16) + (l4len & 0xffff);
}

/* The TCP/UDP checksum over [l4, end) verifies. */
static int l4_csum_ok(const uint8_t *f, uint32_t l3, uint32_t l4, uint32_t end, int ipv6, uint8_t proto)
{
	const uint8_t *ip = f + l3;
	uint32_t s = ipv6 ? ref_pseudo(ip + 8, ip + 24, 16, proto, end - l4) :
			    ref_pseudo(ip + 12, ip + 16, 4, proto, end - l4);

	return ref_fold(ref_sum(f + l4, end - l4, s)) == 0xffff;
}

static int ip4_csum_ok(const uint8_t *ip)
{
	return ref_fold(ref_sum(ip, (ip[0] & 0xfu) * 4, 0)) == 0xffff;
}

static uint64_t rng = 0x1234567887654321ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* ---- frames ---- */

#define FRAG_ATOMIC 3 /* IPv6 fragment header, offset 0, no M: a whole packet */

struct fs {
	int ntags;            /* 0, 1, 2 */
	uint16_t tpid[2];     /* outer first; 0: 0x8100 */
	int ipv6;
	uint8_t proto;
	int v4opt;            /* IPv4 option bytes, a multiple of 4 */
	int nexts;            /* IPv6 extension headers before the transport */
	uint8_t exts[12];     /* their types: 0, 43, 60 (16 bytes each) */
	int frag;             /* VW_FRAG_FIRST, VW_FRAG_LATER, FRAG_ATOMIC */
	const uint8_t *opts;  /* TCP options */
	int optlen;           /* a multiple of 4 */
	int payload;
	int pad;              /* Ethernet padding after the IP packet */
	uint8_t flags;        /* TCP */
	uint32_t seq;
	uint16_t sport, dport;
	uint8_t ds;
	int bad_csum;         /* L4 checksum off by one */
};

struct frame {
	uint8_t buf[2048];
	uint32_t len;
	struct vw_pktinfo exp; /* what vw_pkt_parse() must say */
};

static const uint8_t mac_d[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_s[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t ip4_s[4] = { 10, 0, 0, 1 }, ip4_d[4] = { 192, 168, 7, 200 };
static const uint8_t ip6_s[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t ip6_d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd };

static void build(const struct fs *s, struct frame *f)
{
	uint8_t *p = f->buf, *ip;
	uint32_t off = 12, l4 = 0, thl = 0, end, i;
	uint8_t proto = s->proto;
	struct vw_pktinfo *e = &f->exp;

	memset(f, 0, sizeof(*f));
	memcpy(p, mac_d, 6);
	memcpy(p + 6, mac_s, 6);
	for (i = 0; i < (uint32_t)s->ntags; i++) {
		vw_put16(p + off, s->tpid[i] ? s->tpid[i] : 0x8100);
		vw_put16(p + off + 2, (uint16_t)(0x2000 | (100 + i)));
		off += 4;
	}
	vw_put16(p + off, s->ipv6 ? 0x86dd : 0x0800);
	e->ethertype = s->ipv6 ? 0x86dd : 0x0800;
	e->ntags = (uint8_t)s->ntags;
	e->l3 = (uint16_t)(off + 2);
	e->ipver = s->ipv6 ? 6 : 4;
	e->proto = proto;
	e->dsfield = s->ds;
	e->ttl = 61;
	ip = p + e->l3;
	if (s->ipv6) {
		uint8_t *nh = ip + 6;
		int n;

		ip[0] = (uint8_t)(0x60 | s->ds >> 4);
		ip[1] = (uint8_t)(s->ds << 4 | 0x5);
		ip[7] = 61;
		memcpy(ip + 8, ip6_s, 16);
		memcpy(ip + 24, ip6_d, 16);
		memcpy(e->src, ip6_s, 16);
		memcpy(e->dst, ip6_d, 16);
		off = e->l3 + 40u;
		for (n = 0; n < s->nexts; n++) {
			*nh = s->exts[n];
			nh = p + off;
			memset(p + off, 0, 16);
			p[off + 1] = 1;  /* 16 bytes */
			p[off + 2] = 1;  /* PadN over the rest */
			p[off + 3] = 12;
			off += 16;
		}
		if (s->frag) {
			*nh = 44;
			nh = p + off;
			memset(p + off, 0, 8);
			vw_put16(p + off + 2, s->frag == VW_FRAG_LATER ? 185 << 3 :
					   s->frag == VW_FRAG_FIRST ? 1 : 0);
			vw_put32(p + off + 4, 0xabcd1234);
			off += 8;
			e->frag = s->frag == FRAG_ATOMIC ? VW_FRAG_NONE : (uint8_t)s->frag;
		}
		*nh = proto;
	} else {
		uint32_t ihl = 20 + (uint32_t)s->v4opt;

		ip[0] = (uint8_t)(0x40 | ihl / 4);
		ip[1] = s->ds;
		vw_put16(ip + 4, 0x7777);
		vw_put16(ip + 6, s->frag == VW_FRAG_LATER ? 185 : s->frag == VW_FRAG_FIRST ? 0x2000 : 0x4000);
		ip[8] = 61;
		ip[9] = proto;
		memcpy(ip + 12, ip4_s, 4);
		memcpy(ip + 16, ip4_d, 4);
		for (i = 20; i < ihl; i++)
			ip[i] = 1;  /* NOP options */
		memcpy(e->src + 10, "\xff\xff", 2);
		memcpy(e->src + 12, ip4_s, 4);
		memcpy(e->dst + 10, "\xff\xff", 2);
		memcpy(e->dst + 12, ip4_d, 4);
		off = e->l3 + ihl;
		e->frag = s->frag == FRAG_ATOMIC ? VW_FRAG_NONE : (uint8_t)s->frag;
	}
	l4 = off;
	if (s->frag != VW_FRAG_LATER) {
		e->l4 = (uint16_t)l4;
		if (proto == 6) {
			thl = 20 + (uint32_t)s->optlen;
			vw_put32(p + l4 + 4, s->seq);
			vw_put32(p + l4 + 8, 0x5a5a0001);
			p[l4 + 12] = (uint8_t)(thl / 4 << 4);
			p[l4 + 13] = s->flags;
			vw_put16(p + l4 + 14, 64240);
			if (s->optlen)
				memcpy(p + l4 + 20, s->opts, (size_t)s->optlen);
			e->tcp_flags = s->flags;
		} else if (proto == 17) {
			thl = 8;
		} else if (proto == 132) {
			thl = 12;
			vw_put32(p + l4 + 4, 0x01020304);
		} else {
			p[l4] = 8;  /* ICMP echo, or whatever: not parsed */
		}
		if (thl) {
			vw_put16(p + l4, s->sport);
			vw_put16(p + l4 + 2, s->dport);
			e->sport = s->sport;
			e->dport = s->dport;
			e->l4hlen = (uint16_t)thl;
		}
	}
	for (i = 0; i < (uint32_t)s->payload; i++)
		p[l4 + thl + i] = (uint8_t)(i * 7 + 3);
	end = l4 + thl + (uint32_t)s->payload;
	if (proto == 17 && s->frag != VW_FRAG_LATER)
		vw_put16(p + l4 + 4, (uint16_t)(end - l4));
	if (s->ipv6)
		vw_put16(ip + 4, (uint16_t)(end - e->l3 - 40));
	else
		vw_put16(ip + 2, (uint16_t)(end - e->l3));
	if (!s->ipv6)
		vw_put16(ip + 10, (uint16_t)~ref_fold(ref_sum(ip, (ip[0] & 0xfu) * 4, 0)));
	if ((proto == 6 || proto == 17) && !s->frag) {
		uint32_t co = l4 + (proto == 6 ? 16 : 6);
		uint32_t ps = s->ipv6 ? ref_pseudo(ip + 8, ip + 24, 16, proto, end - l4) :
					ref_pseudo(ip + 12, ip + 16, 4, proto, end - l4);

		vw_put16(p + co, (uint16_t)(~ref_fold(ref_sum(p + l4, end - l4, ps)) + (s->bad_csum ? 1 : 0)));
	}
	e->ip_end = end;
	for (i = 0; i < (uint32_t)s->pad; i++)
		p[end + i] = 0xee;
	f->len = end + (uint32_t)s->pad;
	assert_true(f->len <= sizeof(f->buf));
}

/* vw_pkt_parse() of the first n bytes of f, read from a heap copy of
 * exactly n bytes. */
static int parse_n(const uint8_t *f, uint32_t n, struct vw_pktinfo *pi)
{
	uint8_t *c = malloc(n ? n : 1);
	int rc;

	assert_non_null(c);
	memcpy(c, f, n);
	rc = vw_pkt_parse(c, n, pi);
	free(c);
	return rc;
}

static void check_info(const struct vw_pktinfo *got, const struct vw_pktinfo *exp)
{
	assert_memory_equal(got->src, exp->src, 16);
	assert_memory_equal(got->dst, exp->dst, 16);
	assert_int_equal(got->ip_end, exp->ip_end);
	assert_int_equal(got->l3, exp->l3);
	assert_int_equal(got->l4, exp->l4);
	assert_int_equal(got->l4hlen, exp->l4hlen);
	assert_int_equal(got->ethertype, exp->ethertype);
	assert_int_equal(got->sport, exp->sport);
	assert_int_equal(got->dport, exp->dport);
	assert_int_equal(got->ntags, exp->ntags);
	assert_int_equal(got->ipver, exp->ipver);
	assert_int_equal(got->proto, exp->proto);
	assert_int_equal(got->dsfield, exp->dsfield);
	assert_int_equal(got->tcp_flags, exp->tcp_flags);
	assert_int_equal(got->frag, exp->frag);
	assert_int_equal(got->ttl, exp->ttl);
}

/* Parses f whole, checks every field, then every cut: a cut inside the IP
 * packet is VW_PP_TRUNC, a cut in the padding changes nothing. */
static void check_parse_and_cuts(const struct frame *f)
{
	struct vw_pktinfo pi;
	uint32_t n;

	assert_int_equal(parse_n(f->buf, f->len, &pi), VW_PP_OK);
	check_info(&pi, &f->exp);
	for (n = 0; n < f->len; n++) {
		int rc = parse_n(f->buf, n, &pi);

		if (n < f->exp.ip_end) {
			assert_int_equal(rc, VW_PP_TRUNC);
		} else {
			assert_int_equal(rc, VW_PP_OK);
			check_info(&pi, &f->exp);
		}
	}
}

static const uint8_t opts_ts[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0 };

static void test_parse_families(void **state)
{
	static const uint8_t protos[] = { 6, 17, 132, 1, 47 };
	static const uint16_t tags[][2] = { { 0, 0 }, { 0x8100, 0 }, { 0x88a8, 0x8100 },
					    { 0x8100, 0x8100 }, { 0x88a8, 0 } };
	static const int ntags[] = { 0, 1, 2, 2, 1 };
	static const uint8_t ext_sets[][3] = { { 0 }, { 0 }, { 0, 60 }, { 43 }, { 0, 43, 60 } };
	static const int ext_n[] = { 0, 1, 2, 1, 3 };
	struct frame f;
	unsigned t, v, pr, o, fr, pl, pad, cases = 0;

	(void)state;
	for (t = 0; t < ARRAY_SIZE(ntags); t++)
	for (v = 0; v < 2; v++)
	for (pr = 0; pr < ARRAY_SIZE(protos); pr++)
	for (o = 0; o < ARRAY_SIZE(ext_n); o++)
	for (fr = 0; fr < 4; fr++)
	for (pl = 0; pl < 2; pl++)
	for (pad = 0; pad < 2; pad++) {
		struct fs s = {
			.ntags = ntags[t], .tpid = { tags[t][0], tags[t][1] }, .ipv6 = (int)v,
			.proto = protos[pr] == 1 && v ? 58 : protos[pr],
			.v4opt = (int)o * 4, .nexts = v ? ext_n[o] : 0,
			.frag = (int)fr, .payload = pl ? 9 : 0, .pad = pad ? 11 : 0,
			.flags = VW_TCP_SYN | VW_TCP_ECE, .seq = 77,
			.sport = (uint16_t)(1000 + cases), .dport = 443, .ds = 0xb9,
			.opts = opts_ts, .optlen = o & 1 ? 12 : 0,
		};

		if (fr == FRAG_ATOMIC && !v)
			continue;
		memcpy(s.exts, ext_sets[o], 3);
		build(&s, &f);
		check_parse_and_cuts(&f);
		cases++;
	}
	assert_true(cases > 1000);
}

static void test_parse_not_ip(void **state)
{
	uint8_t f[64] = { 0 };
	struct vw_pktinfo pi;
	uint32_t n;

	(void)state;
	/* ARP, untagged then behind an 802.1ad + 802.1Q pair */
	vw_put16(f + 12, 0x0806);
	assert_int_equal(parse_n(f, 42, &pi), VW_PP_OK);
	assert_int_equal(pi.ipver, 0);
	assert_int_equal(pi.ethertype, 0x0806);
	assert_int_equal(pi.l3, 14);
	assert_int_equal(pi.l4, 0);
	for (n = 0; n < 14; n++)
		assert_int_equal(parse_n(f, n, &pi), VW_PP_TRUNC);
	assert_int_equal(parse_n(f, 14, &pi), VW_PP_OK);

	vw_put16(f + 12, 0x88a8);
	vw_put16(f + 16, 0x8100);
	vw_put16(f + 20, 0x88cc);  /* LLDP */
	for (n = 0; n < 22; n++)
		assert_int_equal(parse_n(f, n, &pi), VW_PP_TRUNC);
	assert_int_equal(parse_n(f, 22, &pi), VW_PP_OK);
	assert_int_equal(pi.ntags, 2);
	assert_int_equal(pi.ethertype, 0x88cc);
	assert_int_equal(pi.l3, 22);

	/* A third tag is not walked: it is the ethertype. */
	vw_put16(f + 20, 0x8100);
	assert_int_equal(parse_n(f, 60, &pi), VW_PP_OK);
	assert_int_equal(pi.ethertype, 0x8100);
	assert_int_equal(pi.ipver, 0);
}

static void test_parse_bad(void **state)
{
	struct fs s4 = { .proto = 6, .flags = VW_TCP_SYN, .sport = 1, .dport = 2, .payload = 4 };
	struct fs s6 = s4;
	struct vw_pktinfo pi;
	struct frame f;
	uint32_t l3, l4;
	int i;

	(void)state;
	s6.ipv6 = 1;

	/* IPv4: version 6 behind ethertype 0x0800, IHL < 5, total length
	 * shorter than the header, TCP data offset < 5 or past the packet,
	 * UDP header past the packet */
	build(&s4, &f);
	l3 = f.exp.l3, l4 = f.exp.l4;
	f.buf[l3] = 0x65;
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	f.buf[l3] = 0x44;
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	build(&s4, &f);
	vw_put16(f.buf + l3 + 2, 19);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	vw_put16(f.buf + l3 + 2, 0);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	vw_put16(f.buf + l3 + 2, 39);  /* TCP header cut by the IP length */
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	build(&s4, &f);
	f.buf[l4 + 12] = 4 << 4;
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	f.buf[l4 + 12] = 7 << 4;  /* 28 bytes, the packet has 24 */
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	s4.proto = 17;
	s4.payload = 0;
	build(&s4, &f);
	vw_put16(f.buf + l3 + 2, 27);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	/* IP length longer than the frame: cut */
	build(&s4, &f);
	vw_put16(f.buf + l3 + 2, (uint16_t)(f.len - l3 + 1));
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_TRUNC);

	/* IPv6: version 4 behind 0x86dd, payload length past the frame, an
	 * extension header running past the packet or cut below 8 bytes */
	build(&s6, &f);
	l3 = f.exp.l3;
	f.buf[l3] = 0x40;
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	build(&s6, &f);
	vw_put16(f.buf + l3 + 4, (uint16_t)(f.len - l3 - 40 + 1));
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_TRUNC);
	s6.nexts = 1;
	s6.exts[0] = 60;
	build(&s6, &f);
	f.buf[l3 + 40 + 1] = 5;  /* 48 bytes, the packet has 16 + 24 */
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	vw_put16(f.buf + l3 + 4, 4);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);
	vw_put16(f.buf + l3 + 4, 0);  /* "jumbogram": ends after the header */
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_BAD);

	/* a fragment header cut by the payload length (read under ASan from a
	 * copy ending there) */
	s6.nexts = 0;
	s6.frag = VW_FRAG_FIRST;
	build(&s6, &f);
	vw_put16(f.buf + l3 + 4, 4);
	assert_int_equal(parse_n(f.buf, l3 + 44, &pi), VW_PP_BAD);
	s6.frag = 0;

	/* VW_PP_EXTHDR_MAX extension headers are walked, one more is not */
	for (i = 0; i < 10; i++)
		s6.exts[i] = 60;
	s6.nexts = VW_PP_EXTHDR_MAX;
	build(&s6, &f);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_OK);
	check_info(&pi, &f.exp);
	s6.nexts = VW_PP_EXTHDR_MAX + 1;
	build(&s6, &f);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_DEEP);
	s6.nexts = VW_PP_EXTHDR_MAX - 1;
	s6.frag = VW_FRAG_FIRST;  /* the fragment header counts */
	build(&s6, &f);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_OK);
	s6.nexts = VW_PP_EXTHDR_MAX;
	build(&s6, &f);
	assert_int_equal(parse_n(f.buf, f.len, &pi), VW_PP_DEEP);
}

/* Random frames, randomly damaged: any code, never a read past the end,
 * and on success offsets that hold together. */
static void test_parse_fuzz(void **state)
{
	static const uint8_t protos[] = { 6, 17, 132, 58, 1, 0, 43, 44, 60 };
	struct vw_pktinfo pi;
	struct frame f;
	int i, ok = 0, rcs[4] = { 0 };

	(void)state;
	for (i = 0; i < 60000; i++) {
		struct fs s = {
			.ntags = (int)(rnd() % 3), .ipv6 = (int)(rnd() & 1),
			.proto = protos[rnd() % ARRAY_SIZE(protos)], .v4opt = (int)(rnd() % 3) * 4,
			.nexts = (int)(rnd() % 3), .frag = (int)(rnd() % 4),
			.payload = (int)(rnd() % 40), .pad = (int)(rnd() % 8),
			.flags = (uint8_t)rnd(), .opts = opts_ts, .optlen = (int)(rnd() % 4) * 4,
			.sport = (uint16_t)rnd(), .dport = (uint16_t)rnd(),
		};
		uint32_t n, k, flips = rnd() % 6;
		int rc;

		if (s.proto == 0 || s.proto == 43 || s.proto == 44 || s.proto == 60)
			s.proto = 6;
		s.exts[0] = (uint8_t)(rnd() % 2 ? 0 : 60);
		s.exts[1] = 43;
		if (s.frag == FRAG_ATOMIC && !s.ipv6)
			s.frag = 0;
		build(&s, &f);
		for (k = 0; k < flips; k++) {  /* mostly in the headers */
			uint32_t at = rnd() % (rnd() % 2 ? 80 : f.len);

			if (at < f.len)
				f.buf[at] = (uint8_t)rnd();
		}
		n = rnd() % 4 ? f.len : rnd() % (f.len + 1);
		rc = parse_n(f.buf, n, &pi);
		assert_true(rc <= 0 && rc >= VW_PP_DEEP);
		rcs[-rc]++;
		if (rc)
			continue;
		ok++;
		assert_true(pi.l3 <= n && pi.l3 >= 14 && pi.ntags <= 2);
		if (!pi.ipver)
			continue;
		assert_true(pi.ip_end <= n);
		if (pi.l4) {
			assert_true(pi.l4 > pi.l3 && pi.l4 + pi.l4hlen <= pi.ip_end);
			if (pi.proto == 6)
				assert_true(pi.l4hlen >= 20);
		}
	}
	assert_true(ok > 10000);
	assert_true(rcs[1] > 1000 && rcs[2] > 1000);
}

/* ---- MSS clamp ---- */

/* A SYN with options opts, parsed. */
static void syn_frame(struct frame *f, struct vw_pktinfo *pi, int ipv6, int ntags, uint8_t flags,
		      const uint8_t *opts, int optlen)
{
	struct fs s = { .ntags = ntags, .tpid = { 0x88a8, 0x8100 }, .ipv6 = ipv6, .proto = 6,
			.flags = flags, .seq = 0x10203040, .sport = 40000, .dport = 80,
			.opts = opts, .optlen = optlen, .v4opt = ipv6 ? 0 : 4, .nexts = ipv6 };

	build(&s, f);
	assert_int_equal(vw_pkt_parse(f->buf, f->len, pi), VW_PP_OK);
}

static int tcp_csum_ok(const struct frame *f, const struct vw_pktinfo *pi)
{
	return l4_csum_ok(f->buf, pi->l3, pi->l4, pi->ip_end, pi->ipver == 6, 6);
}

static void test_mss_basic(void **state)
{
	static const uint8_t o[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 0, 0 };  /* MSS 1460, WS, SACK ok */
	struct vw_pktinfo pi;
	struct frame f, orig;
	int v, t, fl;

	(void)state;
	for (v = 0; v < 2; v++)
	for (t = 0; t < 3; t++)
	for (fl = 0; fl < 2; fl++) {
		uint8_t flags = fl ? VW_TCP_SYN | VW_TCP_ACK : VW_TCP_SYN;

		syn_frame(&f, &pi, v, t, flags, o, sizeof(o));
		orig = f;
		pcap_write(f.buf, f.len);
		assert_true(tcp_csum_ok(&f, &pi));
		/* at or above the announced MSS: nothing to do */
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1460), 0);
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 9000), 0);
		assert_memory_equal(f.buf, orig.buf, f.len);
		/* below it: the option says 1200, the checksum still holds */
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1200), 1);
		assert_int_equal(vw_get16(f.buf + pi.l4 + 22), 1200);
		assert_true(tcp_csum_ok(&f, &pi));
		if (!v)
			assert_true(ip4_csum_ok(f.buf + pi.l3));
		/* nothing else changed but the option and the checksum */
		memcpy(f.buf + pi.l4 + 22, orig.buf + pi.l4 + 22, 2);
		memcpy(f.buf + pi.l4 + 16, orig.buf + pi.l4 + 16, 2);
		assert_memory_equal(f.buf, orig.buf, f.len);
		vw_put16(f.buf + pi.l4 + 22, 1200);
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1200), 0);
		syn_frame(&f, &pi, v, t, flags, o, sizeof(o));
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 536), 1);
		pcap_write(f.buf, f.len);
	}

	/* not a SYN: left alone even with an MSS option */
	syn_frame(&f, &pi, 0, 0, VW_TCP_ACK, o, sizeof(o));
	orig = f;
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1000), 0);
	assert_memory_equal(f.buf, orig.buf, f.len);
	/* no MSS option: left alone */
	syn_frame(&f, &pi, 1, 0, VW_TCP_SYN, o + 4, 8);
	orig = f;
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1000), 0);
	assert_memory_equal(f.buf, orig.buf, f.len);
	syn_frame(&f, &pi, 1, 0, VW_TCP_SYN, NULL, 0);
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1000), 0);
}

/* The MSS option at every position the header allows, behind NOPs and
 * other options, IPv4 and IPv6, the clamp to every kind of value. */
static void test_mss_positions(void **state)
{
	static const uint8_t fill[][10] = {
		{ 1 }, { 3, 3, 7 }, { 4, 2 }, { 8, 10, 1, 2, 3, 4, 5, 6, 7, 8 },
	};
	static const int fill_len[] = { 1, 3, 2, 10 };
	struct vw_pktinfo pi;
	struct frame f;
	uint8_t o[40];
	int pos, v, n = 0, odd = 0;

	(void)state;
	for (v = 0; v < 2; v++)
	for (pos = 0; pos <= 36; pos++) {
		int at = 0, k = 0, optlen = (pos + 4 + 3) & ~3;
		uint16_t want = (uint16_t)(1000 + rnd() % 60000), lim = (uint16_t)(1 + rnd() % want);

		/* fill up to pos with random whole options, then NOPs */
		while (at < pos) {
			k = (int)(rnd() % ARRAY_SIZE(fill));
			if (at + fill_len[k] > pos)
				k = 0;
			memcpy(o + at, fill[k], (size_t)fill_len[k]);
			at += fill_len[k];
		}
		o[pos] = 2;
		o[pos + 1] = 4;
		vw_put16(o + pos + 2, want);
		memset(o + pos + 4, 0, sizeof(o) - (size_t)pos - 4);  /* EOL */
		syn_frame(&f, &pi, v, (int)(rnd() % 3), VW_TCP_SYN, o, optlen);
		assert_true(tcp_csum_ok(&f, &pi));
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, lim), want > lim);
		assert_int_equal(vw_get16(f.buf + pi.l4 + 20 + pos + 2), want > lim ? lim : want);
		assert_true(tcp_csum_ok(&f, &pi));
		pcap_write(f.buf, f.len);
		odd += (pos & 1) && want > lim;
		n++;
	}
	assert_true(odd > 10);

	/* Random checksums, random values, many times: the incremental update
	 * always equals a recomputation.  And a checksum that was wrong stays
	 * wrong (by the same amount). */
	for (n = 0; n < 20000; n++) {
		uint16_t want = (uint16_t)rnd(), lim = (uint16_t)(1 + rnd() % 65535);
		int pos = (int)(rnd() % 37), bad = (int)(rnd() % 8 == 0);
		struct fs s = { .ipv6 = (int)(rnd() & 1), .proto = 6, .flags = VW_TCP_SYN,
				.seq = rnd(), .sport = (uint16_t)rnd(), .dport = (uint16_t)rnd(),
				.payload = (int)(rnd() % 5), .opts = o, .bad_csum = bad };

		memset(o, 1, sizeof(o));
		o[pos] = 2;
		o[pos + 1] = 4;
		vw_put16(o + pos + 2, want);
		s.optlen = (pos + 4 + 3) & ~3;
		build(&s, &f);
		f.buf[f.exp.l3 + (s.ipv6 ? 9 : 13)] = (uint8_t)rnd();  /* vary the sum */
		vw_put16(f.buf + f.exp.l4 + 16, 0);
		vw_put16(f.buf + f.exp.l4 + 16, (uint16_t)(~ref_fold(ref_sum(f.buf + f.exp.l4, f.exp.ip_end - f.exp.l4,
			s.ipv6 ? ref_pseudo(f.buf + f.exp.l3 + 8, f.buf + f.exp.l3 + 24, 16, 6, f.exp.ip_end - f.exp.l4) :
				 ref_pseudo(f.buf + f.exp.l3 + 12, f.buf + f.exp.l3 + 16, 4, 6, f.exp.ip_end - f.exp.l4))) + bad));
		assert_int_equal(vw_pkt_parse(f.buf, f.len, &pi), VW_PP_OK);
		assert_int_equal(tcp_csum_ok(&f, &pi), !bad);
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, lim), want > lim);
		assert_int_equal(tcp_csum_ok(&f, &pi), !bad);
		if (bad) {  /* undo the error: then it verifies */
			vw_put16(f.buf + pi.l4 + 16, (uint16_t)(vw_get16(f.buf + pi.l4 + 16) - 1));
			if (!tcp_csum_ok(&f, &pi))  /* 0x0000 / 0xffff are the same sum */
				vw_put16(f.buf + pi.l4 + 16, (uint16_t)(vw_get16(f.buf + pi.l4 + 16) - 1));
			assert_true(tcp_csum_ok(&f, &pi));
		}
	}
}

/* With NEEDS_CSUM the field is the pseudo-header seed: left alone, and the
 * checksum completed afterwards (vw_gso_segment(), as the kernel would)
 * covers the new MSS. */
static void test_mss_needs_csum(void **state)
{
	static const uint8_t o[] = { 1, 2, 4, 0x23, 0x28, 1, 1, 0 };  /* MSS 9000 at an odd offset */
	struct virtio_net_hdr_v1 vnet;
	struct vw_seg seg;
	struct vw_pktinfo pi;
	struct frame f;
	uint8_t seed[2];
	int v;

	(void)state;
	for (v = 0; v < 2; v++) {
		uint32_t ps;

		syn_frame(&f, &pi, v, 1, VW_TCP_SYN, o, sizeof(o));
		ps = v ? ref_pseudo(f.buf + pi.l3 + 8, f.buf + pi.l3 + 24, 16, 6, pi.ip_end - pi.l4) :
			 ref_pseudo(f.buf + pi.l3 + 12, f.buf + pi.l3 + 16, 4, 6, pi.ip_end - pi.l4);
		vw_put16(f.buf + pi.l4 + 16, ref_fold(ps));
		memcpy(seed, f.buf + pi.l4 + 16, 2);
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, VIRTIO_NET_HDR_F_NEEDS_CSUM, &pi, 1400), 1);
		assert_int_equal(vw_get16(f.buf + pi.l4 + 23), 1400);
		assert_memory_equal(f.buf + pi.l4 + 16, seed, 2);
		memset(&vnet, 0, sizeof(vnet));
		vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vnet.csum_start = htole16(pi.l4);
		vnet.csum_offset = htole16(16);
		assert_int_equal(vw_gso_segment(&vnet, f.buf, f.len, NULL, 0, &seg, 1), 1);
		assert_true(tcp_csum_ok(&f, &pi));
		pcap_write(f.buf, f.len);
	}
}

static void test_mss_malformed(void **state)
{
	static const struct {
		uint8_t o[12];
		int len;
		int changed;
	} cases[] = {
		{ { 2, 4, 5, 0xb4 }, 4, 1 },                         /* control */
		{ { 3, 0, 2, 4, 5, 0xb4, 0, 0 }, 8, 0 },             /* length 0 ends the walk */
		{ { 3, 1, 2, 4, 5, 0xb4, 0, 0 }, 8, 0 },             /* length 1 too */
		{ { 0, 2, 4, 5, 0xb4, 0, 0, 0 }, 8, 0 },             /* EOL first */
		{ { 8, 13, 0, 0, 0, 0, 0, 0, 2, 4, 5, 0xb4 }, 12, 0 }, /* past the header, hides MSS */
		{ { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4 }, 12, 0 },   /* MSS cut by the header's end */
		{ { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2 }, 12, 0 },   /* kind with no length byte */
		{ { 2, 3, 5, 2, 5, 5, 0xb4, 0, 0, 0, 0, 0 }, 12, 0 },/* MSS of length 3 and 5 */
		{ { 2, 4, 5, 0xb4, 3, 0, 0, 0 }, 8, 1 },             /* junk after it: still clamped */
		{ { 2, 4, 5, 0xb4, 2, 4, 0x23, 0x28 }, 8, 1 },       /* two: both */
	};
	uint8_t o[40] = { 0 };
	struct vw_pktinfo pi, bad;
	struct frame f, orig;
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		syn_frame(&f, &pi, (int)(i & 1), 0, VW_TCP_SYN, cases[i].o, cases[i].len);
		orig = f;
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1000), cases[i].changed);
		if (!cases[i].changed)
			assert_memory_equal(f.buf, orig.buf, f.len);
		assert_true(tcp_csum_ok(&f, &pi));
	}
	syn_frame(&f, &pi, 0, 0, VW_TCP_SYN, cases[9].o, 8);
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 1000), 1);
	assert_int_equal(vw_get16(f.buf + pi.l4 + 22), 1000);
	assert_int_equal(vw_get16(f.buf + pi.l4 + 26), 1000);

	/* The options end where the header does, not where the frame does:
	 * a frame cut right after a 40-byte option area is read to its end only. */
	memset(o, 1, sizeof(o));
	o[36] = 2;
	o[37] = 4;
	vw_put16(o + 38, 1460);
	syn_frame(&f, &pi, 1, 2, VW_TCP_SYN, o, 40);
	{
		uint8_t *c = malloc(f.len);

		assert_non_null(c);
		memcpy(c, f.buf, f.len);
		assert_int_equal(pi.l4 + pi.l4hlen, f.len);
		assert_int_equal(vw_tcp_clamp_mss(c, f.len, 0, &pi, 1000), 1);
		assert_int_equal(vw_get16(c + f.len - 2), 1000);
		free(c);
	}

	/* An MSS option running past the header into the payload is not
	 * read: the payload is not the option's value. */
	{
		struct fs s = { .proto = 6, .flags = VW_TCP_SYN, .opts = cases[5].o, .optlen = 12,
				.payload = 8, .sport = 1, .dport = 2 };

		build(&s, &f);
		orig = f;
		assert_int_equal(vw_pkt_parse(f.buf, f.len, &pi), VW_PP_OK);
		assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 100), 0);
		assert_memory_equal(f.buf, orig.buf, f.len);
	}

	/* A vw_pktinfo that does not fit the frame: refused */
	syn_frame(&f, &pi, 0, 0, VW_TCP_SYN, cases[0].o, 4);
	bad = pi;
	assert_int_equal(vw_tcp_clamp_mss(f.buf, pi.l4 + pi.l4hlen - 1, 0, &bad, 1000), -EINVAL);
	bad.proto = 17;
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &bad, 1000), -EINVAL);
	bad = pi;
	bad.l4hlen = 19;
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &bad, 1000), -EINVAL);
	bad = pi;
	bad.l4 = 0;
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &bad, 1000), -EINVAL);
	assert_int_equal(vw_tcp_clamp_mss(f.buf, f.len, 0, &pi, 0), -EINVAL);
}

/* ---- RST ---- */

static void check_rst(const struct frame *syn, const struct vw_pktinfo *sp, const uint8_t *r, int rlen,
		      uint32_t want_ack)
{
	struct vw_pktinfo rp;
	const uint8_t *ip, *th;
	uint32_t l3 = sp->l3;

	assert_int_equal(rlen, l3 + (sp->ipver == 4 ? 20 : 40) + 20);
	assert_memory_equal(r, syn->buf + 6, 6);
	assert_memory_equal(r + 6, syn->buf, 6);
	assert_memory_equal(r + 12, syn->buf + 12, l3 - 12);  /* tags, ethertype */
	ip = r + l3;
	if (sp->ipver == 4) {
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ip[1], 0);
		assert_int_equal(vw_get16(ip + 2), 40);
		assert_int_equal(vw_get16(ip + 4), 0);
		assert_int_equal(vw_get16(ip + 6), 0x4000);
		assert_int_equal(ip[8], 64);
		assert_int_equal(ip[9], 6);
		assert_memory_equal(ip + 12, syn->buf + l3 + 16, 4);
		assert_memory_equal(ip + 16, syn->buf + l3 + 12, 4);
		assert_true(ip4_csum_ok(ip));
		th = ip + 20;
	} else {
		assert_int_equal(vw_get32(ip), 0x60000000);
		assert_int_equal(vw_get16(ip + 4), 20);
		assert_int_equal(ip[6], 6);
		assert_int_equal(ip[7], 64);
		assert_memory_equal(ip + 8, syn->buf + l3 + 24, 16);
		assert_memory_equal(ip + 24, syn->buf + l3 + 8, 16);
		th = ip + 40;
	}
	assert_int_equal(vw_get16(th), sp->dport);
	assert_int_equal(vw_get16(th + 2), sp->sport);
	assert_int_equal(vw_get32(th + 4), 0);
	assert_int_equal(vw_get32(th + 8), want_ack);
	assert_int_equal(th[12], 5 << 4);
	assert_int_equal(th[13], VW_TCP_RST | VW_TCP_ACK);
	assert_int_equal(vw_get16(th + 14), 0);
	assert_int_equal(vw_get16(th + 18), 0);
	assert_true(l4_csum_ok(r, l3, (uint32_t)(th - r), (uint32_t)rlen, sp->ipver == 6, 6));
	/* and it parses back as what it is */
	assert_int_equal(parse_n(r, (uint32_t)rlen, &rp), VW_PP_OK);
	assert_int_equal(rp.tcp_flags, VW_TCP_RST | VW_TCP_ACK);
	assert_memory_equal(rp.src, sp->dst, 16);
	assert_memory_equal(rp.dst, sp->src, 16);
	assert_int_equal(rp.ntags, sp->ntags);
}

static void test_rst(void **state)
{
	static const uint32_t seqs[] = { 0x10203040, 0xffffffff, 0xfffffff0, 0 };
	struct vw_pktinfo pi;
	struct frame f;
	uint8_t r[VW_TCP_RST_MAX + 8];
	int v, t, o, pl, fin, si, n = 0;

	(void)state;
	for (v = 0; v < 2; v++)
	for (t = 0; t < 3; t++)
	for (o = 0; o < 2; o++)
	for (pl = 0; pl < 2; pl++)
	for (fin = 0; fin < 2; fin++)
	for (si = 0; si < (int)ARRAY_SIZE(seqs); si++) {
		struct fs s = { .ntags = t, .tpid = { 0x88a8, 0x8100 }, .ipv6 = v, .proto = 6,
				.v4opt = o * 8, .nexts = o, .exts = { 0 }, .opts = opts_ts,
				.optlen = o * 12, .payload = pl * 13, .pad = (t == 0) * 6,
				.flags = (uint8_t)(VW_TCP_SYN | (fin ? VW_TCP_FIN : 0)),
				.seq = seqs[si], .sport = (uint16_t)(30000 + n), .dport = 22 };
		int rlen;

		build(&s, &f);
		assert_int_equal(vw_pkt_parse(f.buf, f.len, &pi), VW_PP_OK);
		memset(r, 0xaa, sizeof(r));
		rlen = vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &pi);
		check_rst(&f, &pi, r, rlen, seqs[si] + 1 + (uint32_t)fin + (uint32_t)s.payload);
		assert_int_equal(r[rlen], 0xaa);
		pcap_write(f.buf, f.len);
		pcap_write(r, (uint32_t)rlen);
		n++;
		/* exactly enough room; one byte less is -ENOSPC, nothing written */
		assert_int_equal(vw_tcp_build_rst(r, (uint32_t)rlen, f.buf, f.len, &pi), rlen);
		memset(r, 0xaa, sizeof(r));
		assert_int_equal(vw_tcp_build_rst(r, (uint32_t)rlen - 1, f.buf, f.len, &pi), -ENOSPC);
		assert_int_equal(r[0], 0xaa);
	}
}

static void test_rst_refused(void **state)
{
	static const uint8_t flags[] = { VW_TCP_ACK, VW_TCP_SYN | VW_TCP_ACK, VW_TCP_SYN | VW_TCP_RST,
					 VW_TCP_RST, 0, VW_TCP_FIN };
	struct vw_pktinfo pi, bad;
	struct frame f;
	uint8_t r[VW_TCP_RST_MAX];
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		struct fs s = { .proto = 6, .flags = flags[i], .sport = 1, .dport = 2 };

		build(&s, &f);
		assert_int_equal(vw_pkt_parse(f.buf, f.len, &pi), VW_PP_OK);
		assert_int_equal(vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &pi), -EINVAL);
	}
	for (i = 0; i < 10; i++) {
		struct fs s = { .proto = 6, .flags = VW_TCP_SYN, .sport = 1, .dport = 2, .ipv6 = (int)(i & 1) };

		build(&s, &f);
		switch (i / 2) {
		case 0:  /* multicast / broadcast destination */
			if (s.ipv6)
				f.buf[f.exp.l3 + 24] = 0xff;
			else
				memset(f.buf + f.exp.l3 + 16, 0xff, 4);
			break;
		case 1:  /* multicast source */
			if (s.ipv6)
				f.buf[f.exp.l3 + 8] = 0xff;
			else
				f.buf[f.exp.l3 + 12] = 239;
			break;
		case 2:  /* multicast Ethernet source */
			f.buf[6] = 0x01;
			break;
		case 3:  /* a fragment */
			s.frag = VW_FRAG_FIRST;
			build(&s, &f);
			break;
		case 4:  /* not TCP */
			s.proto = 17;
			build(&s, &f);
			break;
		}
		assert_int_equal(vw_pkt_parse(f.buf, f.len, &pi), VW_PP_OK);
		assert_int_equal(vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &pi), -EINVAL);
	}
	/* IPv4 224/4 other than the broadcast address */
	{
		struct fs s = { .proto = 6, .flags = VW_TCP_SYN, .sport = 1, .dport = 2 };

		build(&s, &f);
		f.buf[f.exp.l3 + 16] = 224;
		assert_int_equal(vw_pkt_parse(f.buf, f.len, &pi), VW_PP_OK);
		assert_int_equal(vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &pi), -EINVAL);
		f.buf[f.exp.l3 + 16] = 223;
		assert_int_equal(vw_pkt_parse(f.buf, f.len, &pi), VW_PP_OK);
		assert_true(vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &pi) > 0);
		/* a vw_pktinfo that does not fit the frame */
		bad = pi;
		assert_int_equal(vw_tcp_build_rst(r, sizeof(r), f.buf, pi.ip_end - 1, &bad), -EINVAL);
		bad.ipver = 6;
		assert_int_equal(vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &bad), -EINVAL);
		bad = pi;
		bad.l3 = 15;
		assert_int_equal(vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &bad), -EINVAL);
		bad = pi;
		bad.ip_end = (uint32_t)pi.l4 + 10;
		assert_int_equal(vw_tcp_build_rst(r, sizeof(r), f.buf, f.len, &bad), -EINVAL);
	}
}

/* Random frames, damaged: the clamp and the RST builder accept whatever
 * the parser accepted and never read or write past the frame. */
static void test_tcpops_fuzz(void **state)
{
	uint8_t o[40], r[VW_TCP_RST_MAX];
	struct vw_pktinfo pi;
	struct frame f;
	int i, rsts = 0, clamps = 0;

	(void)state;
	for (i = 0; i < 50000; i++) {
		struct fs s = { .ntags = (int)(rnd() % 3), .ipv6 = (int)(rnd() & 1), .proto = 6,
				.nexts = (int)(rnd() % 2), .payload = (int)(rnd() % 8),
				.flags = rnd() % 2 ? VW_TCP_SYN : (uint8_t)rnd(), .opts = o,
				.optlen = (int)(rnd() % 11) * 4, .sport = (uint16_t)rnd(), .dport = 80 };
		uint32_t k, n;
		uint8_t *c;
		int rc;

		for (k = 0; k < sizeof(o); k++)
			o[k] = (uint8_t)(rnd() % 4 ? 1 + rnd() % 4 : rnd());
		k = rnd() % 37;  /* an MSS option somewhere, mostly */
		memcpy(o + k, "\x02\x04\xff\xff", 4);
		build(&s, &f);
		for (k = rnd() % 3; k > 0; k--)
			f.buf[rnd() % f.len] = (uint8_t)rnd();
		n = rnd() % 8 ? f.len : rnd() % (f.len + 1);
		c = malloc(n ? n : 1);
		assert_non_null(c);
		memcpy(c, f.buf, n);
		if (vw_pkt_parse(c, n, &pi) == VW_PP_OK && pi.proto == 6 && pi.l4) {
			rc = vw_tcp_clamp_mss(c, n, (uint8_t)(rnd() & 1), &pi, (uint16_t)(1 + rnd() % 1500));
			assert_true(rc == 0 || rc == 1);
			clamps += rc;
			rc = vw_tcp_build_rst(r, sizeof(r), c, n, &pi);
			assert_true(rc == -EINVAL || (rc > 0 && rc <= (int)sizeof(r)));
			rsts += rc > 0;
		}
		free(c);
	}
	assert_true(clamps > 1000 && rsts > 1000);
}

static int setup(void **state)
{
	(void)state;
	pcap_open("VWT_TCPOPS_PCAP");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return pcap_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_families),
		cmocka_unit_test(test_parse_not_ip),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_fuzz),
		cmocka_unit_test(test_mss_basic),
		cmocka_unit_test(test_mss_positions),
		cmocka_unit_test(test_mss_needs_csum),
		cmocka_unit_test(test_mss_malformed),
		cmocka_unit_test(test_rst),
		cmocka_unit_test(test_rst_refused),
		cmocka_unit_test(test_tcpops_fuzz),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
