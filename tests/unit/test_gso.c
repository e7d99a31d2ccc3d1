/*
 * Unit tests for datapath/gso.c: software segmentation and checksum
 * completion.  Super-frames are built here, cut by vw_gso_segment(), and
 * every segment is checked field by field against the super-frame, with
 * checksums verified by the simple reference implementation below (16-bit
 * big-endian words, one at a time), and the payload reassembled.
 *
 * With VWT_GSO_PCAP=FILE set, every frame produced by the valid cases is
 * also written to FILE (pcap), for tests/system/t_gso_pcap.sh to have
 * tshark check the checksums independently.  Every case uses its own TCP/UDP
 * source port, so each is one stream to tshark.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/frametest.h"
#include "datapath/gso.h"
#include "datapath/vnet.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define F_CWR 0x80
#define F_ECE 0x40
#define F_ACK 0x10
#define F_PSH 0x08
#define F_FIN 0x01

#define SEQ0 0xfffff000u   /* wraps while a super-frame is cut */
#define ACK0 0x01020304u

/* ---- reference checksum (the rest is in tests/unit/frametest.h) ---- */

/* Pseudo-header sum; ip points at the IPv4 or IPv6 header. */
static uint32_t ref_pseudo(const uint8_t *ip, int ipv6, uint8_t proto, uint32_t l4len)
{
	uint32_t s;

	if (ipv6)
		s = ref_sum(ip + 8, 32, 0) + (l4len >> 16) + (l4len & 0xffff);
	else
		s = ref_sum(ip + 12, 8, 0) + l4len;
	return s + proto;
}

/* ---- super-frames ---- */

struct spec {
	int ipv6;
	uint8_t proto;        /* 6 or 17 */
	int tags;             /* 0, 1 (802.1Q), 2 (802.1ad then 802.1Q) */
	uint32_t payload;
	uint16_t mss;         /* 0: no GSO */
	uint8_t tcp_flags;    /* 0: ACK */
	int ecn;              /* VIRTIO_NET_HDR_GSO_ECN in gso_type */
	int opts;             /* IPv4: 4 bytes of options; IPv6: a hop-by-hop header; TCP: timestamps */
	int no_csum;          /* no NEEDS_CSUM (a GRO frame from an uplink) */
	int garbage_seed;     /* checksum field not the pseudo-header sum */
	uint16_t ip_id;
};

struct frame {
	uint8_t *data;        /* malloc'd, exactly len bytes */
	uint32_t len;
	uint32_t l3, l4, hlen;
	struct virtio_net_hdr_v1 vnet;
};

static uint16_t next_port = 20000;

static uint8_t pattern(uint32_t k)
{
	return (uint8_t)((k * 2654435761u) >> 24);
}

/* Payload ending where the IP header's 16-bit length still holds it. */
static uint32_t max_payload(const struct spec *s)
{
	uint32_t l4h = s->proto == 6 ? (s->opts ? 32 : 20) : 8;

	return 65535 - l4h - (s->ipv6 ? (s->opts ? 8 : 0) : (s->opts ? 24 : 20));
}

static void build(const struct spec *s, struct frame *f)
{
	uint32_t off = 12, l4len, i;
	uint8_t *p, *ip, *l4;
	uint32_t gso;

	f->len = 14 + 4 * s->tags + (s->ipv6 ? 40 + (s->opts ? 8 : 0) : 20 + (s->opts ? 4 : 0)) +
		 (s->proto == 6 ? 20 + (s->opts ? 12 : 0) : 8) + s->payload;
	p = f->data = malloc(f->len);
	assert_non_null(p);
	memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (s->tags == 2) {
		vw_put16(p + off, 0x88a8);
		vw_put16(p + off + 2, 10);
		off += 4;
	}
	if (s->tags >= 1) {
		vw_put16(p + off, 0x8100);
		vw_put16(p + off + 2, 0x6000 | 100);
		off += 4;
	}
	vw_put16(p + off, s->ipv6 ? 0x86dd : 0x0800);
	f->l3 = off + 2;
	ip = p + f->l3;
	if (s->ipv6) {
		memcpy(ip, "\x60\x00\x12\x34", 4);
		ip[6] = s->opts ? 0 : s->proto;
		ip[7] = 64;
		memcpy(ip + 8, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
		memcpy(ip + 24, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02", 16);
		f->l4 = f->l3 + 40;
		if (s->opts) {  /* hop-by-hop, one PadN option */
			memcpy(ip + 40, "\x00\x00\x01\x04\x00\x00\x00\x00", 8);
			ip[40] = s->proto;
			f->l4 += 8;
		}
		vw_put16(ip + 4, (uint16_t)(f->len - f->l3 - 40));
	} else {
		uint32_t ihl = s->opts ? 24 : 20;

		ip[0] = (uint8_t)(0x40 | ihl / 4);
		ip[1] = 0x02;  /* ECT(0) */
		vw_put16(ip + 2, (uint16_t)(f->len - f->l3));
		vw_put16(ip + 4, s->ip_id);
		vw_put16(ip + 6, 0x4000);  /* DF */
		ip[8] = 64;
		ip[9] = s->proto;
		memset(ip + 10, 0, 2);
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		if (s->opts)
			memcpy(ip + 20, "\x01\x01\x01\x00", 4);
		vw_put16(ip + 10, (uint16_t)~ref_fold(ref_sum(ip, ihl, 0)));
		f->l4 = f->l3 + ihl;
	}
	l4 = p + f->l4;
	vw_put16(l4, next_port++);
	if (s->proto == 6) {
		uint32_t thlen = s->opts ? 32 : 20;

		vw_put16(l4 + 2, 40000);
		vw_put32(l4 + 4, SEQ0);
		vw_put32(l4 + 8, ACK0);
		l4[12] = (uint8_t)(thlen / 4 << 4);
		l4[13] = s->tcp_flags ? s->tcp_flags : F_ACK;
		vw_put16(l4 + 14, 0xfff0);
		vw_put16(l4 + 18, 0);
		if (s->opts)
			memcpy(l4 + 20, "\x01\x01\x08\x0a\x00\x00\x10\x00\x00\x00\x20\x00", 12);
		f->hlen = f->l4 + thlen;
	} else {
		vw_put16(l4 + 2, 40001);
		vw_put16(l4 + 4, (uint16_t)(f->len - f->l4));
		f->hlen = f->l4 + 8;
	}
	for (i = 0; i < s->payload; i++)
		p[f->hlen + i] = pattern(i);

	/* What a Linux sender leaves in the checksum field: the folded,
	 * uncomplemented pseudo-header sum with the whole L4 length. */
	l4len = f->len - f->l4;
	vw_put16(l4 + (s->proto == 6 ? 16 : 6),
	      s->garbage_seed ? 0xdead : ref_fold(ref_pseudo(ip, s->ipv6, s->proto, l4len)));

	memset(&f->vnet, 0, sizeof(f->vnet));
	if (!s->no_csum) {
		f->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		f->vnet.csum_start = htole16((uint16_t)f->l4);
		f->vnet.csum_offset = htole16(s->proto == 6 ? 16 : 6);
	}
	if (s->mss) {
		gso = s->proto == 17 ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		      s->ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		f->vnet.gso_type = (uint8_t)(gso | (s->ecn ? VIRTIO_NET_HDR_GSO_ECN : 0));
		f->vnet.gso_size = htole16(s->mss);
		f->vnet.hdr_len = htole16((uint16_t)f->hlen);
	}
}

/* The L4 checksum of a frame verifies (and, for UDP, is not 0). */
static void check_l4_csum(const uint8_t *p, uint32_t len, uint32_t l3, uint32_t l4, int ipv6, uint8_t proto)
{
	uint32_t l4len = len - l4;

	assert_int_equal(ref_fold(ref_sum(p + l4, l4len, ref_pseudo(p + l3, ipv6, proto, l4len))), 0xffff);
	if (proto == 17)
		assert_int_not_equal(vw_get16(p + l4 + 6), 0);
}

static void check_ip4_csum(const uint8_t *ip)
{
	assert_int_equal(ref_fold(ref_sum(ip, (ip[0] & 0xfu) * 4, 0)), 0xffff);
}

/* Checks segs[0..n-1] against the super-frame f (as built: orig). */
static void check_segments(const struct spec *s, const struct frame *f, const uint8_t *orig,
			   const struct vw_seg *segs, int n)
{
	uint32_t want_n = s->payload > s->mss ? (s->payload + s->mss - 1) / s->mss : 1;
	uint32_t off = 0, plen;
	uint8_t fl0 = s->proto == 6 ? orig[f->l4 + 13] : 0;
	int i;

	assert_int_equal(n, want_n);
	for (i = 0; i < n; i++) {
		const uint8_t *p = segs[i].data, *ip = p + f->l3, *oip = orig + f->l3;
		const uint8_t *l4 = p + f->l4, *ol4 = orig + f->l4;

		pcap_write(p, segs[i].len);
		plen = s->payload - off < s->mss ? s->payload - off : s->mss;
		assert_int_equal(segs[i].len, f->hlen + plen);
		assert_memory_equal(p, orig, f->l3);  /* MACs, tags, ethertype */
		if (s->ipv6) {
			assert_memory_equal(ip, oip, 4);
			assert_int_equal(vw_get16(ip + 4), segs[i].len - f->l3 - 40);
			assert_memory_equal(ip + 6, oip + 6, f->l4 - f->l3 - 6);  /* next, hops, addresses, ext */
		} else {
			assert_memory_equal(ip, oip, 2);
			assert_int_equal(vw_get16(ip + 2), segs[i].len - f->l3);
			assert_int_equal(vw_get16(ip + 4), (uint16_t)(s->ip_id + i));
			assert_memory_equal(ip + 6, oip + 6, 4);   /* flags, TTL, protocol */
			assert_memory_equal(ip + 12, oip + 12, f->l4 - f->l3 - 12);  /* addresses, options */
			check_ip4_csum(ip);
		}
		if (s->proto == 6) {
			uint8_t fl = fl0;

			if (i > 0)
				fl &= (uint8_t)~F_CWR;
			if (i < n - 1)
				fl &= (uint8_t)~(F_FIN | F_PSH);
			assert_memory_equal(l4, ol4, 4);
			assert_int_equal(vw_get32(l4 + 4), (uint32_t)(SEQ0 + off));
			assert_memory_equal(l4 + 8, ol4 + 8, 5);  /* ack, data offset */
			assert_int_equal(l4[13], fl);
			assert_memory_equal(l4 + 14, ol4 + 14, 2);  /* window */
			assert_memory_equal(l4 + 18, ol4 + 18, f->hlen - f->l4 - 18);  /* urgent, options */
		} else {
			assert_memory_equal(l4, ol4, 4);
			assert_int_equal(vw_get16(l4 + 4), 8 + plen);
		}
		check_l4_csum(p, segs[i].len, f->l3, f->l4, s->ipv6, s->proto);
		assert_memory_equal(p + f->hlen, orig + f->hlen + off, plen);
		off += plen;
	}
	assert_int_equal(off, s->payload);
}

/* Builds, cuts and checks one super-frame; scratch and segs exactly as big
 * as the cut needs, so ASan sees any write past them. */
static void run_case(const struct spec *s)
{
	struct frame f;
	struct virtio_net_hdr_v1 vnet;
	uint32_t want_n = s->payload > s->mss ? (s->payload + s->mss - 1) / s->mss : 1;
	size_t cap;
	uint8_t *orig, *scratch;
	struct vw_seg *segs;
	int n;

	build(s, &f);
	orig = malloc(f.len);
	assert_non_null(orig);
	memcpy(orig, f.data, f.len);
	cap = (size_t)want_n * f.hlen + s->payload;
	scratch = malloc(cap);
	segs = malloc(want_n * sizeof(*segs));
	assert_non_null(scratch);
	assert_non_null(segs);
	vnet = f.vnet;

	n = vw_gso_segment(&vnet, f.data, f.len, scratch, cap, segs, (int)want_n);
	check_segments(s, &f, orig, segs, n);
	if (n > 1) {
		/* the super-frame stays whole for destinations that take it */
		assert_memory_equal(f.data, orig, f.len);
		assert_memory_equal(&vnet, &f.vnet, sizeof(vnet));
		assert_ptr_equal(segs[0].data, scratch);
	} else {
		assert_ptr_equal(segs[0].data, f.data);
		assert_int_equal(vnet.flags, 0);
		assert_int_equal(vnet.gso_type, 0);
	}
	free(segs);
	free(scratch);
	free(orig);
	free(f.data);
}

/* Every tagging, several MSS (1448, odd ones, one dividing the payload
 * exactly, a tiny one) and payloads up to a 64 KiB IP packet. */
static void run_family(int ipv6, uint8_t proto)
{
	static const struct {
		uint16_t mss;
		uint32_t payload;  /* 0: the largest */
	} sizes[] = {
		{ 1448, 0 }, { 1448, 1448 * 20 }, { 1337, 0 }, { 1000, 60001 },
		{ 536, 30000 }, { 8948, 0 }, { 7, 100 }, { 1448, 1449 },
	};
	struct spec s;
	size_t i;
	int tags, opts;

	for (tags = 0; tags <= 2; tags++)
		for (opts = 0; opts <= 1; opts++)
			for (i = 0; i < ARRAY_SIZE(sizes); i++) {
				memset(&s, 0, sizeof(s));
				s.ipv6 = ipv6;
				s.proto = proto;
				s.tags = tags;
				s.opts = opts;
				s.mss = sizes[i].mss;
				s.ip_id = (uint16_t)(0xfff0 + i);  /* wraps too */
				s.payload = sizes[i].payload ? sizes[i].payload : max_payload(&s);
				s.tcp_flags = F_ACK | F_PSH;
				run_case(&s);
			}
}

static void test_tcp4(void **state)
{
	(void)state;
	run_family(0, 6);
}

static void test_tcp6(void **state)
{
	(void)state;
	run_family(1, 6);
}

static void test_uso4(void **state)
{
	(void)state;
	run_family(0, 17);
}

static void test_uso6(void **state)
{
	(void)state;
	run_family(1, 17);
}

/* CWR only on the first segment, FIN and PSH only on the last, ECE and ACK
 * on all (check_segments() computes what each segment must carry; here the
 * rule is spelled out once more on the result). */
static void test_tcp_flags(void **state)
{
	struct spec s = { .proto = 6, .payload = 10000, .mss = 1448, .ecn = 1,
			  .tcp_flags = F_CWR | F_ECE | F_ACK | F_PSH | F_FIN };
	static uint8_t scratch[VW_GSO_SCRATCH];
	struct vw_seg segs[16];
	struct frame f;
	uint8_t *orig;
	int ipv6, tags, n, i;

	(void)state;
	for (ipv6 = 0; ipv6 <= 1; ipv6++)
		for (tags = 0; tags <= 1; tags++) {
			s.ipv6 = ipv6;
			s.tags = tags;
			build(&s, &f);
			orig = malloc(f.len);
			assert_non_null(orig);
			memcpy(orig, f.data, f.len);
			n = vw_gso_segment(&f.vnet, f.data, f.len, scratch, sizeof(scratch), segs, 16);
			check_segments(&s, &f, orig, segs, n);
			assert_int_equal(n, 7);
			for (i = 0; i < n; i++) {
				uint8_t fl = segs[i].data[f.l4 + 13];

				assert_int_equal(!!(fl & F_CWR), i == 0);
				assert_int_equal(!!(fl & F_FIN), i == n - 1);
				assert_int_equal(!!(fl & F_PSH), i == n - 1);
				assert_int_equal(fl & (F_ECE | F_ACK), F_ECE | F_ACK);
			}
			free(orig);
			free(f.data);
		}
}

/* A GRO super-frame from an uplink (no NEEDS_CSUM), and one whose sender
 * left something else than the pseudo-header sum in the checksum field:
 * segment checksums do not depend on it. */
static void test_no_csum_flag(void **state)
{
	struct spec s = { .payload = 20000, .mss = 1448, .tcp_flags = F_ACK };
	int ipv6, garbage;

	(void)state;
	for (ipv6 = 0; ipv6 <= 1; ipv6++)
		for (garbage = 0; garbage <= 1; garbage++) {
			s.ipv6 = ipv6;
			s.no_csum = !garbage;
			s.garbage_seed = garbage;
			s.proto = 6;
			run_case(&s);
			s.proto = 17;
			run_case(&s);
		}
}

/* A GSO frame whose payload fits in one segment is not really GSO: it is
 * completed in place and its header cleared. */
static void test_gso_one_segment(void **state)
{
	struct spec s = { .mss = 1448, .tcp_flags = F_ACK | F_PSH | F_FIN | F_CWR, .ecn = 1 };
	int ipv6, udp;
	uint32_t payloads[] = { 0, 1, 100, 1448 };
	size_t i;

	(void)state;
	for (ipv6 = 0; ipv6 <= 1; ipv6++)
		for (udp = 0; udp <= 1; udp++)
			for (i = 0; i < ARRAY_SIZE(payloads); i++) {
				s.ipv6 = ipv6;
				s.proto = udp ? 17 : 6;
				s.ecn = !udp;
				s.tags = (int)i % 3;
				s.payload = payloads[i];
				run_case(&s);
			}
}

/* ---- checksum only ---- */

/* A frame with NEEDS_CSUM and no GSO: completed in place, header cleared,
 * nothing else touched. */
static void csum_case(struct spec *s, int pad)
{
	struct frame f;
	struct vw_seg segs[1];
	uint8_t scratch[1], *buf, *orig;
	uint32_t len, coff;
	int n;

	build(s, &f);
	/* Ethernet padding after the IP packet, not covered by the checksum */
	len = f.len + (uint32_t)pad;
	buf = malloc(len);
	orig = malloc(len);
	assert_non_null(buf);
	assert_non_null(orig);
	memcpy(buf, f.data, f.len);
	memset(buf + f.len, 0x5a, (size_t)pad);
	memcpy(orig, buf, len);

	n = vw_gso_segment(&f.vnet, buf, len, scratch, sizeof(scratch), segs, 1);
	assert_int_equal(n, 1);
	assert_ptr_equal(segs[0].data, buf);
	assert_int_equal(segs[0].len, len);
	assert_int_equal(f.vnet.flags, 0);
	pcap_write(buf, len);
	check_l4_csum(buf, f.len, f.l3, f.l4, s->ipv6, s->proto);
	coff = f.l4 + (s->proto == 6 ? 16 : 6);
	assert_memory_equal(buf, orig, coff);
	assert_memory_equal(buf + coff + 2, orig + coff + 2, len - coff - 2);
	free(orig);
	free(buf);
	free(f.data);
}

static void test_csum_only(void **state)
{
	struct spec s = { .tcp_flags = F_ACK | F_PSH };
	uint32_t payloads[] = { 0, 1, 6, 1000, 1401, 9000, 65000 };
	int ipv6, udp, tags;
	size_t i;

	(void)state;
	for (ipv6 = 0; ipv6 <= 1; ipv6++)
		for (udp = 0; udp <= 1; udp++)
			for (tags = 0; tags <= 2; tags++)
				for (i = 0; i < ARRAY_SIZE(payloads); i++) {
					s.ipv6 = ipv6;
					s.proto = udp ? 17 : 6;
					s.tags = tags;
					s.opts = (int)i & 1;
					s.payload = payloads[i];
					csum_case(&s, 0);
					if (s.payload < 10)
						csum_case(&s, 20);
				}
}

/* Makes the UDP checksum of the datagram at l4 (l4len bytes) come out 0 by
 * choosing its last two payload bytes (l4len even). */
static void make_zero_csum(uint8_t *frame, uint32_t l3, uint32_t l4, uint32_t l4len, int ipv6,
			   uint8_t *target)
{
	uint8_t save[2];
	uint16_t sum;

	memcpy(save, frame + l4 + 6, 2);
	memset(frame + l4 + 6, 0, 2);
	memset(target, 0, 2);
	sum = ref_fold(ref_sum(frame + l4, l4len, ref_pseudo(frame + l3, ipv6, 17, l4len)));
	vw_put16(target, (uint16_t)~sum);
	memcpy(frame + l4 + 6, save, 2);
}

/* A UDP checksum computing to 0 goes out as 0xffff (0 is "none"). */
static void test_udp_zero_csum(void **state)
{
	static uint8_t scratch[VW_GSO_SCRATCH];
	struct vw_seg segs[16];
	struct frame f;
	struct spec s = { .proto = 17 };
	int ipv6, tags, n;
	uint32_t l4len, seglen;

	(void)state;
	for (ipv6 = 0; ipv6 <= 1; ipv6++)
		for (tags = 0; tags <= 1; tags++) {
			s.ipv6 = ipv6;
			s.tags = tags;
			/* checksum only */
			s.mss = 0;
			s.payload = 100;
			build(&s, &f);
			l4len = f.len - f.l4;
			make_zero_csum(f.data, f.l3, f.l4, l4len, ipv6, f.data + f.len - 2);
			/* the pseudo-header seed is the same: the length did not change */
			n = vw_gso_segment(&f.vnet, f.data, f.len, scratch, sizeof(scratch), segs, 16);
			assert_int_equal(n, 1);
			assert_int_equal(vw_get16(f.data + f.l4 + 6), 0xffff);
			check_l4_csum(f.data, f.len, f.l3, f.l4, ipv6, 17);
			pcap_write(f.data, f.len);
			free(f.data);

			/* USO: the third of five 1000-byte datagrams */
			s.mss = 1000;
			s.payload = 4500;
			build(&s, &f);
			seglen = 8 + 1000;
			{
				/* a copy of what segment 2 will be, to choose its bytes */
				uint32_t tmp_len = f.hlen + 1000;
				uint8_t *tmp = malloc(tmp_len);

				assert_non_null(tmp);
				memcpy(tmp, f.data, f.hlen);
				memcpy(tmp + f.hlen, f.data + f.hlen + 2000, 1000);
				vw_put16(tmp + f.l4 + 4, (uint16_t)seglen);
				make_zero_csum(tmp, f.l3, f.l4, seglen, ipv6, tmp + tmp_len - 2);
				memcpy(f.data + f.hlen + 2998, tmp + tmp_len - 2, 2);
				free(tmp);
			}
			{
				uint8_t *orig = malloc(f.len);

				assert_non_null(orig);
				memcpy(orig, f.data, f.len);
				n = vw_gso_segment(&f.vnet, f.data, f.len, scratch, sizeof(scratch), segs, 16);
				check_segments(&s, &f, orig, segs, n);
				assert_int_equal(n, 5);
				assert_int_equal(vw_get16(segs[2].data + f.l4 + 6), 0xffff);
				free(orig);
			}
			free(f.data);
		}
}

/* Frames with no offload to finish pass untouched. */
static void test_plain(void **state)
{
	struct spec s = { .proto = 6, .payload = 500 };
	struct vw_seg segs[1];
	uint8_t scratch[1];
	struct frame f;
	uint8_t *orig;
	int flags;

	(void)state;
	for (flags = 0; flags <= VIRTIO_NET_HDR_F_DATA_VALID; flags += VIRTIO_NET_HDR_F_DATA_VALID) {
		build(&s, &f);
		memset(&f.vnet, 0, sizeof(f.vnet));
		f.vnet.flags = (uint8_t)flags;
		orig = malloc(f.len);
		assert_non_null(orig);
		memcpy(orig, f.data, f.len);
		assert_int_equal(vw_gso_segment(&f.vnet, f.data, f.len, scratch, 1, segs, 1), 1);
		assert_ptr_equal(segs[0].data, f.data);
		assert_int_equal(segs[0].len, f.len);
		assert_memory_equal(f.data, orig, f.len);
		assert_int_equal(f.vnet.flags, flags);
		/* no room for even one frame */
		assert_int_equal(vw_gso_segment(&f.vnet, f.data, f.len, scratch, 1, segs, 0), -ENOSPC);
		free(orig);
		free(f.data);
	}
}

/* ---- bad headers ---- */

/* Calls vw_gso_segment on frame (len bytes, copied into a buffer of exactly
 * that size) and checks the error and that nothing was written. */
static void expect_error(const struct virtio_net_hdr_v1 *vnet, const uint8_t *frame, uint32_t len,
			 size_t cap, int max, int want)
{
	struct virtio_net_hdr_v1 v = *vnet;
	uint8_t *buf = malloc(len ? len : 1), *scratch = malloc(cap ? cap : 1);
	struct vw_seg *segs = malloc((max > 0 ? (size_t)max : 1) * sizeof(*segs));
	struct vw_seg canary = { (uint8_t *)0x1, 0x5a5a5a5a };
	int i;

	assert_non_null(buf);
	assert_non_null(scratch);
	assert_non_null(segs);
	memcpy(buf, frame, len);
	memset(scratch, 0xa5, cap);
	for (i = 0; i < max; i++)
		segs[i] = canary;
	assert_int_equal(vw_gso_segment(&v, buf, len, scratch, cap, segs, max), want);
	assert_memory_equal(buf, frame, len);
	assert_memory_equal(&v, vnet, sizeof(v));
	for (size_t k = 0; k < cap; k++)
		assert_int_equal(scratch[k], 0xa5);
	for (i = 0; i < max; i++)
		assert_memory_equal(&segs[i], &canary, sizeof(canary));
	free(segs);
	free(scratch);
	free(buf);
}

enum { BASE_TCP4, BASE_TCP6, BASE_UDP4, BASE_UDP6, BASE_CSUM4 };

static void base(int which, int tags, struct frame *f)
{
	struct spec s = { .tags = tags, .payload = 3000, .mss = 1000, .tcp_flags = F_ACK };

	s.ipv6 = which == BASE_TCP6 || which == BASE_UDP6;
	s.proto = which == BASE_UDP4 || which == BASE_UDP6 ? 17 : 6;
	if (which == BASE_CSUM4) {
		s.mss = 0;
		s.payload = 200;
	}
	build(&s, f);
}

#define EXPECT(want, ...) do {							\
	struct frame f_;							\
	base(which, tags, &f_);							\
	{ struct frame *f = &f_; struct virtio_net_hdr_v1 *v = &f->vnet;	\
	  uint32_t len = f->len; (void)v; __VA_ARGS__;				\
	  expect_error(v, f->data, len, VW_GSO_SCRATCH, 64, want); }		\
	free(f_.data);								\
} while (0)

static void test_bad_headers(void **state)
{
	int which = BASE_TCP4, tags;

	(void)state;
	for (tags = 0; tags <= 2; tags++) {
		which = BASE_TCP4;
		/* shorter than an Ethernet header */
		EXPECT(-EINVAL, len = 13);
		EXPECT(-EINVAL, len = 0);
		/* hdr_len beyond the frame */
		EXPECT(-EINVAL, v->hdr_len = htole16((uint16_t)(f->len + 1)));
		/* checksum offsets: before the network header, beyond the frame, odd */
		EXPECT(-EINVAL, v->csum_start = htole16(13));
		EXPECT(-EINVAL, v->csum_start = htole16(0xffff));
		EXPECT(-EINVAL, v->csum_offset = htole16(17));
		EXPECT(-EINVAL, v->csum_offset = htole16((uint16_t)(f->len - f->l4)));
		/* checksum offsets not on the TCP checksum of a GSO frame */
		EXPECT(-EINVAL, v->csum_start = htole16((uint16_t)(f->l4 + 4)));
		EXPECT(-EINVAL, v->csum_start = htole16((uint16_t)(f->l4 - 4)));
		EXPECT(-EINVAL, v->csum_offset = htole16(6));
		/* GSO size and type */
		EXPECT(-EINVAL, v->gso_size = 0);
		EXPECT(-EINVAL, v->gso_type = 2);
		EXPECT(-EINVAL, v->gso_type = 7);
		EXPECT(-EINVAL, v->gso_type = 0x7f);
		EXPECT(-EINVAL, v->gso_type = VIRTIO_NET_HDR_GSO_TCPV6);
		EXPECT(-EINVAL, v->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4);
		EXPECT(-EOPNOTSUPP, v->gso_type = VIRTIO_NET_HDR_GSO_UDP);
		/* not IP */
		EXPECT(-EINVAL, vw_put16(f->data + f->l3 - 2, 0x0806));
		EXPECT(-EINVAL, vw_put16(f->data + f->l3 - 2, 0x8100));  /* one tag too many */
		/* IPv4 header: version, IHL, fragments, protocol, truncated */
		EXPECT(-EINVAL, f->data[f->l3] = 0x65);
		EXPECT(-EINVAL, f->data[f->l3] = 0x44);
		EXPECT(-EINVAL, f->data[f->l3] = 0x4f; len = f->l3 + 40; v->flags = 0; v->hdr_len = 0);
		EXPECT(-EINVAL, f->data[f->l3 + 6] |= 0x20);   /* MF */
		EXPECT(-EINVAL, f->data[f->l3 + 7] = 1);       /* fragment offset */
		EXPECT(-EINVAL, f->data[f->l3 + 9] = 17);
		EXPECT(-EINVAL, f->data[f->l3 + 9] = 1);
		EXPECT(-EINVAL, len = f->l3 + 19; v->flags = 0; v->hdr_len = 0);
		EXPECT(-EINVAL, len = f->l3 - 1; v->flags = 0; v->hdr_len = 0);
		/* TCP header: data offset too small, beyond the frame, truncated */
		EXPECT(-EINVAL, f->data[f->l4 + 12] = 0x40);
		EXPECT(-EINVAL, f->data[f->l4 + 12] = 0xf0; len = f->l4 + 40; v->hdr_len = 0);
		EXPECT(-EINVAL, len = f->l4 + 19; v->flags = 0; v->hdr_len = 0);
		/* ECN on UDP */
		which = BASE_UDP4;
		EXPECT(-EINVAL, v->gso_type |= VIRTIO_NET_HDR_GSO_ECN);
		EXPECT(-EINVAL, v->csum_offset = htole16(16));
		EXPECT(-EINVAL, len = f->l4 + 7; v->flags = 0; v->hdr_len = 0);
		EXPECT(-EINVAL, v->gso_type = VIRTIO_NET_HDR_GSO_TCPV4);
		/* IPv6: version, protocol, ext header beyond the frame, routing, fragment */
		which = BASE_TCP6;
		EXPECT(-EINVAL, v->gso_type = VIRTIO_NET_HDR_GSO_TCPV4);
		EXPECT(-EINVAL, f->data[f->l3] = 0x40);
		EXPECT(-EINVAL, f->data[f->l3 + 6] = 17);
		EXPECT(-EINVAL, f->data[f->l3 + 6] = 44);
		EXPECT(-EINVAL, f->data[f->l3 + 6] = 0; f->data[f->l4 + 1] = 255; len = f->l4 + 100;
		       v->flags = 0; v->hdr_len = 0);
		EXPECT(-EINVAL, f->data[f->l3 + 6] = 60; len = f->l4 + 7; v->flags = 0; v->hdr_len = 0);
		EXPECT(-EOPNOTSUPP, f->data[f->l3 + 6] = 43; v->flags = 0);
		EXPECT(-EINVAL, len = f->l3 + 39; v->flags = 0; v->hdr_len = 0);
		which = BASE_UDP6;
		EXPECT(-EINVAL, v->gso_type = VIRTIO_NET_HDR_GSO_TCPV6);
		/* checksum only: offsets beyond the frame */
		which = BASE_CSUM4;
		EXPECT(-EINVAL, v->csum_start = htole16((uint16_t)len));
		EXPECT(-EINVAL, v->csum_start = htole16((uint16_t)(len - 1)); v->csum_offset = 0);
		EXPECT(-EINVAL, v->csum_offset = htole16((uint16_t)(len - f->l4)));
		EXPECT(-EINVAL, v->csum_offset = htole16(0xfffe));
		EXPECT(-EINVAL, v->csum_offset = htole16(15));  /* odd */
		EXPECT(-EINVAL, v->hdr_len = htole16((uint16_t)(len + 1)));
	}

	/* segments longer than an IP packet can be */
	for (which = 0; which <= 1; which++) {
		struct spec s = { .ipv6 = which, .proto = 6, .payload = 65501, .mss = 65500 };
		struct frame f;

		build(&s, &f);
		expect_error(&f.vnet, f.data, f.len, VW_GSO_SCRATCH * 2, 2, -EINVAL);
		free(f.data);
	}
}

/* Too few segments or too little scratch: -ENOSPC, nothing written; exactly
 * enough: done. */
static void test_no_room(void **state)
{
	struct spec s = { .proto = 6, .payload = 3000, .mss = 1000, .tcp_flags = F_ACK };
	struct frame f;
	size_t need;
	int udp;

	(void)state;
	for (udp = 0; udp <= 1; udp++) {
		s.proto = udp ? 17 : 6;
		build(&s, &f);
		need = 3 * f.hlen + 3000;
		expect_error(&f.vnet, f.data, f.len, need, 2, -ENOSPC);
		expect_error(&f.vnet, f.data, f.len, need - 1, 3, -ENOSPC);
		expect_error(&f.vnet, f.data, f.len, 0, 3, -ENOSPC);
		expect_error(&f.vnet, f.data, f.len, need, 0, -ENOSPC);
		free(f.data);
		run_case(&s);  /* exactly need bytes, 3 segments */
	}
}

/* Random damage to headers and lengths: only the documented results, and
 * (under ASan) no access outside the buffers. */
static void test_fuzz(void **state)
{
	static uint8_t scratch[VW_GSO_SCRATCH];
	struct vw_seg segs[64];
	uint32_t rnd = 12345, i, len;
	int which, n, k;

	(void)state;
	for (i = 0; i < 4000; i++) {
		struct frame f;
		uint8_t *buf;

		which = (int)(i % 5);
		base(which, (int)(i / 5 % 3), &f);
		len = f.len;
		for (k = 0; k < 3; k++) {
			rnd = rnd * 1103515245 + 12345;
			switch (rnd >> 28) {
			case 0: len = (rnd >> 8) % (f.len + 1); break;
			case 1: f.vnet.csum_start = htole16((uint16_t)(rnd >> 8)); break;
			case 2: f.vnet.csum_offset = htole16((uint16_t)(rnd >> 8) % 64); break;
			case 3: f.vnet.gso_size = htole16((uint16_t)(rnd >> 8) % 2048); break;
			case 4: f.vnet.gso_type = (uint8_t)(rnd >> 8); break;
			case 5: f.vnet.hdr_len = htole16((uint16_t)(rnd >> 8) % 128); break;
			case 6: f.vnet.flags ^= VIRTIO_NET_HDR_F_NEEDS_CSUM; break;
			default: f.data[(rnd >> 8) % f.hlen] = (uint8_t)(rnd >> 16); break;
			}
		}
		buf = malloc(len ? len : 1);
		assert_non_null(buf);
		memcpy(buf, f.data, len);
		n = vw_gso_segment(&f.vnet, buf, len, scratch, sizeof(scratch), segs, 64);
		assert_true(n == -EINVAL || n == -EOPNOTSUPP || n == -ENOSPC || (n >= 1 && n <= 64));
		for (k = 0; k < n; k++) {
			if (n == 1 && segs[0].data == buf) {
				assert_int_equal(segs[0].len, len);
			} else {
				assert_true(segs[k].data >= scratch);
				assert_true(segs[k].data + segs[k].len <= scratch + sizeof(scratch));
			}
		}
		free(buf);
		free(f.data);
	}
}

/* ---- the checksum helpers against the reference ---- */

static void test_csum_helpers(void **state)
{
	static uint8_t buf[4096 + 16], dst[4096 + 16];
	uint32_t rnd = 1, len, off, split;
	uint16_t want, got;
	int i;

	(void)state;
	for (i = 0; i < (int)sizeof(buf); i++) {
		rnd = rnd * 1103515245 + 12345;
		buf[i] = (uint8_t)(rnd >> 16);
	}
	buf[100] = buf[101] = 0xff;
	for (i = 0; i < 3000; i++) {
		rnd = rnd * 1103515245 + 12345;
		len = (rnd >> 8) % 4096;
		off = (rnd >> 4) % 16;  /* unaligned starts too */
		want = (uint16_t)~ref_fold(ref_sum(buf + off, len, 0));
		got = vw_csum_fold(vw_csum_partial(buf + off, len, 0));
		/* stored as it is, the checksum reads big-endian like the reference */
		assert_int_equal(vw_get16((uint8_t *)&got), want);
		memset(dst, 0, sizeof(dst));
		got = vw_csum_fold(vw_csum_copy(dst + off, buf + off, len, 0));
		assert_int_equal(vw_get16((uint8_t *)&got), want);
		assert_memory_equal(dst + off, buf + off, len);
		/* two pieces, the first of even length */
		split = len ? ((rnd >> 12) % len) & ~1u : 0;
		got = vw_csum_fold(vw_csum_partial(buf + off + split, len - split,
						   vw_csum_partial(buf + off, split, 0)));
		assert_int_equal(vw_get16((uint8_t *)&got), want);
	}
	/* all ones: the sum of many 0xffff stays 0xffff, checksum 0 */
	memset(buf, 0xff, sizeof(buf));
	got = vw_csum_fold(vw_csum_partial(buf, sizeof(buf), 0));
	assert_int_equal(got, 0);
	/* pseudo-headers */
	{
		uint8_t ip4[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 192, 168, 1, 2, 10, 250, 3, 4 };
		uint8_t ip6[40] = { 0x60 };

		for (i = 0; i < 32; i++)
			ip6[8 + i] = (uint8_t)(i * 37 + 200);
		got = vw_csum_fold(vw_csum_pseudo4(ip4 + 12, ip4 + 16, 6, 1480));
		assert_int_equal(vw_get16((uint8_t *)&got), (uint16_t)~ref_fold(ref_pseudo(ip4, 0, 6, 1480)));
		got = vw_csum_fold(vw_csum_pseudo6(ip6 + 8, ip6 + 24, 17, 70000));
		assert_int_equal(vw_get16((uint8_t *)&got), (uint16_t)~ref_fold(ref_pseudo(ip6, 1, 17, 70000)));
	}
}

static int setup(void **state)
{
	(void)state;
	pcap_open("VWT_GSO_PCAP");
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
		cmocka_unit_test(test_csum_helpers),
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_uso4),
		cmocka_unit_test(test_uso6),
		cmocka_unit_test(test_tcp_flags),
		cmocka_unit_test(test_no_csum_flag),
		cmocka_unit_test(test_gso_one_segment),
		cmocka_unit_test(test_csum_only),
		cmocka_unit_test(test_udp_zero_csum),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
