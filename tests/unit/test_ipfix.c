/*
 * Unit tests for observability/ipfix.c: the IPFIX encoding byte by byte
 * (message header, template set, data record layout), and the meter end to
 * end without a daemon: frames go into the observer's function, timeouts
 * are swept with a clock the test chooses, and the exporter thread's
 * messages are read from a UDP socket on 127.0.0.1 and decoded here:
 * counts, GSO segments, end reasons, sequence numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "datapath/pkt.h"
#include "datapath/pktparse.h"
#include "datapath/vnet.h"
#include "observability/ipfix.h"
#include "lib/bytes.h"

/* ---- encoding ---- */

static void test_header_templates(void **state)
{
	static struct ipfix_enc m;
	const uint8_t *b = m.buf;
	size_t len, off;
	int t;

	(void)state;
	ipfix_enc_begin(&m);
	ipfix_enc_templates(&m);
	len = ipfix_enc_finish(&m, 0x11223344, 7, 9);
	assert_int_equal(vw_get16(b), 10);
	assert_int_equal(vw_get16(b + 2), len);
	assert_int_equal(vw_get32(b + 4), 0x11223344);
	assert_int_equal(vw_get32(b + 8), 7);
	assert_int_equal(vw_get32(b + 12), 9);
	/* one template set (id 2) with both templates, 17 fields each */
	assert_int_equal(vw_get16(b + 16), 2);
	assert_int_equal(vw_get16(b + 18), len - 16);
	assert_int_equal(len, 16 + 4 + 2 * (4 + 17 * 4));
	off = 20;
	for (t = 0; t < 2; t++) {
		assert_int_equal(vw_get16(b + off), t ? 257 : 256);
		assert_int_equal(vw_get16(b + off + 2), 17);
		/* source and destination addresses: IPv4 8/12, IPv6 27/28 */
		assert_int_equal(vw_get16(b + off + 4), t ? 27 : 8);
		assert_int_equal(vw_get16(b + off + 6), t ? 16 : 4);
		assert_int_equal(vw_get16(b + off + 8), t ? 28 : 12);
		assert_int_equal(vw_get16(b + off + 10), t ? 16 : 4);
		/* packetDeltaCount 8 bytes, flowStartMilliseconds, ... */
		assert_int_equal(vw_get16(b + off + 4 + 5 * 4), 2);
		assert_int_equal(vw_get16(b + off + 4 + 5 * 4 + 2), 8);
		assert_int_equal(vw_get16(b + off + 4 + 7 * 4), 152);
		assert_int_equal(vw_get16(b + off + 4 + 15 * 4), 136);
		/* interfaceName, variable length */
		assert_int_equal(vw_get16(b + off + 4 + 16 * 4), 82);
		assert_int_equal(vw_get16(b + off + 4 + 16 * 4 + 2), 65535);
		off += 4 + 17 * 4;
	}
}

static void test_record_layout(void **state)
{
	static struct ipfix_enc m;
	struct ipfix_rec r = { 0 };
	const uint8_t *b = m.buf, *d;
	size_t len;

	(void)state;
	r.ipver = 4;
	r.src[10] = r.src[11] = 0xff;
	r.src[12] = 10, r.src[15] = 1;
	r.dst[12] = 10, r.dst[15] = 2;
	r.sport = 1234, r.dport = 53, r.proto = 17;
	r.pkts = 3, r.octets = 300;
	r.first_ms = 1000, r.last_ms = 1500;
	memcpy(r.smac, "\x02\x08\x20\x00\x00\x01", 6);
	memcpy(r.dmac, "\x02\x08\x20\x00\x00\x02", 6);
	r.vlan = 12, r.dir = VW_OBS_OUT, r.reason = IPFIX_END_IDLE, r.ifindex = 5;
	strcpy(r.name, "vnic0");
	ipfix_enc_begin(&m);
	assert_true(ipfix_enc_record(&m, &r, 1700000000000ll));
	r.dir = VW_OBS_IN;
	assert_true(ipfix_enc_record(&m, &r, 1700000000000ll));
	len = ipfix_enc_finish(&m, 1, 0, 1);
	assert_int_equal(m.nrec, 2);
	/* one data set, template 256, two records of 69 + 1 + 5 bytes */
	assert_int_equal(vw_get16(b + 16), 256);
	assert_int_equal(vw_get16(b + 18), 4 + 2 * 75);
	assert_int_equal(len, 16 + 4 + 2 * 75);
	d = b + 20;
	assert_memory_equal(d, "\x0a\x00\x00\x01", 4);
	assert_memory_equal(d + 4, "\x0a\x00\x00\x02", 4);
	assert_int_equal(vw_get16(d + 8), 1234);
	assert_int_equal(vw_get16(d + 10), 53);
	assert_int_equal(d[12], 17);
	assert_int_equal(vw_get64(d + 13), 3);
	assert_int_equal(vw_get64(d + 21), 300);
	assert_int_equal(vw_get64(d + 29), 1700000001000ull);
	assert_int_equal(vw_get64(d + 37), 1700000001500ull);
	assert_memory_equal(d + 45, r.smac, 6);
	assert_memory_equal(d + 51, r.dmac, 6);
	assert_int_equal(vw_get16(d + 57), 12);
	assert_int_equal(vw_get32(d + 59), 0); /* ingress: the link sent it */
	assert_int_equal(vw_get32(d + 63), 5); /* egress */
	assert_int_equal(d[67], 1);         /* flowDirection egress */
	assert_int_equal(d[68], 1);         /* idle timeout */
	assert_int_equal(d[69], 5);
	assert_memory_equal(d + 70, "vnic0", 5);
	d += 75;
	assert_int_equal(vw_get32(d + 59), 5);
	assert_int_equal(vw_get32(d + 63), 0);
	assert_int_equal(d[67], 0);
}

static void test_message_full(void **state)
{
	static struct ipfix_enc m;
	struct ipfix_rec r = { 0 };
	int n = 0;

	(void)state;
	r.ipver = 6;
	strcpy(r.name, "abcdefghijklmno");
	ipfix_enc_begin(&m);
	while (ipfix_enc_record(&m, &r, 0))
		n++;
	/* 4-byte set header, 93 + 1 + 15 per IPv6 record: 13 fit in 1472 */
	assert_int_equal(n, (IPFIX_MSG_MAX - 16 - 4) / 109);
	assert_true(ipfix_enc_finish(&m, 0, 0, 0) <= IPFIX_MSG_MAX);
}

/* ---- the meter, end to end ---- */

struct got {
	int fd;
	uint32_t seq;   /* next expected sequence number */
	int templates, msgs, nrec;
	struct dec {
		uint8_t ipver, proto, dir, reason;
		uint16_t sport, dport, vlan;
		uint64_t pkts, octets, start, end;
		uint32_t in, out;
		char name[16];
	} rec[64];
};

static int collector(struct sockaddr_in *sa)
{
	struct timeval tv = { 5, 0 }; /* a safety net: the thread sends at once */
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &sl), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads messages until g holds want data records (templates come first). */
static void collect(struct got *g, int want)
{
	uint8_t b[2048];

	while (g->nrec < want) {
		ssize_t n = recv(g->fd, b, sizeof(b), 0);
		size_t off = 16;
		int before = g->nrec;

		assert_true(n >= 16);
		assert_int_equal(vw_get16(b), 10);
		assert_int_equal(vw_get16(b + 2), n);
		assert_int_equal(vw_get32(b + 8), g->seq);
		assert_int_equal(vw_get32(b + 12), 42);
		g->msgs++;
		while (off + 4 <= (size_t)n) {
			uint16_t id = vw_get16(b + off), sl = vw_get16(b + off + 2);
			size_t p = off + 4;

			assert_true(sl >= 4 && off + sl <= (size_t)n);
			if (id == 2) {
				g->templates++;
			} else {
				assert_true(id == 256 || id == 257);
				while (p < off + sl) {
					struct dec *d = &g->rec[g->nrec++];
					size_t al = id == 257 ? 16 : 4;

					assert_true(g->nrec <= 64);
					p += 2 * al;
					d->ipver = id == 257 ? 6 : 4;
					d->sport = vw_get16(b + p), d->dport = vw_get16(b + p + 2);
					d->proto = b[p + 4];
					d->pkts = vw_get64(b + p + 5), d->octets = vw_get64(b + p + 13);
					d->start = vw_get64(b + p + 21), d->end = vw_get64(b + p + 29);
					d->vlan = vw_get16(b + p + 49);
					d->in = vw_get32(b + p + 51), d->out = vw_get32(b + p + 55);
					d->dir = b[p + 59], d->reason = b[p + 60];
					memcpy(d->name, b + p + 62, b[p + 61]);
					d->name[b[p + 61]] = 0;
					p += 62 + b[p + 61];
				}
				assert_int_equal(p, off + sl);
			}
			off += sl;
		}
		g->seq += (uint32_t)(g->nrec - before);
	}
}

static struct vw_pkt *frame(int ipv6, uint8_t proto, uint16_t sport, uint16_t dport, uint32_t paylen, uint8_t flags)
{
	struct vw_pkt *p = calloc(1, sizeof(*p));
	uint8_t *f;
	uint32_t l4 = proto == VW_IPPROTO_TCP ? 20 : 8, ip = ipv6 ? 40 : 20, o = 14;

	assert_non_null(p);
	p->data = f = p->buf;
	memcpy(f, "\x02\x08\x20\x00\x00\x02\x02\x08\x20\x00\x00\x01", 12);
	vw_put16(f + 12, ipv6 ? 0x86dd : 0x0800);
	if (ipv6) {
		f[o] = 0x60;
		vw_put16(f + o + 4, (uint16_t)(l4 + paylen));
		f[o + 6] = proto;
		f[o + 7] = 64;
		f[o + 8] = 0xfd, f[o + 23] = 1;
		f[o + 24] = 0xfd, f[o + 39] = 2;
	} else {
		f[o] = 0x45;
		vw_put16(f + o + 2, (uint16_t)(ip + l4 + paylen));
		f[o + 8] = 64;
		f[o + 9] = proto;
		vw_put32(f + o + 12, 0x0a000001);
		vw_put32(f + o + 16, 0x0a000002);
	}
	o += ip;
	vw_put16(f + o, sport);
	vw_put16(f + o + 2, dport);
	if (proto == VW_IPPROTO_TCP) {
		f[o + 12] = 5 << 4;
		f[o + 13] = flags;
	} else {
		vw_put16(f + o + 4, (uint16_t)(8 + paylen));
	}
	p->len = o + l4 + paylen;
	return p;
}

struct rig {
	struct got g;
	struct ipfix_exp *e;
	struct ipfix_tap tap;
};

static void rig_up(struct rig *r, unsigned nbuckets, unsigned active, unsigned idle)
{
	struct ipfix_conf c = { .active_s = active, .idle_s = idle, .template_s = 3600, .domain = 42,
				.nbuckets = nbuckets, .ringsize = 64 };
	struct sockaddr_in sa;
	char err[128];

	memset(r, 0, sizeof(*r));
	r->g.fd = collector(&sa);
	memcpy(&c.collector, &sa, sizeof(sa));
	c.collen = sizeof(sa);
	r->e = ipfix_new(&c, 1, err, sizeof(err));
	assert_non_null(r->e);
	ipfix_tap_init(&r->tap, r->e, NULL, "vnic0", 3, 7);
}

static void rig_down(struct rig *r)
{
	ipfix_free(r->e);
	close(r->g.fd);
}

static void meter(struct rig *r, unsigned dir, struct vw_pkt *p, int times, uint64_t now)
{
	int i;

	for (i = 0; i < times; i++)
		ipfix_meter(&r->tap, 0, dir, &p, 1, false, now);
	free(p);
}

static void test_counting_timeouts(void **state)
{
	struct ipfix_stats st;
	struct rig r;

	(void)state;
	rig_up(&r, 64, 10, 2);
	/* 5 UDP datagrams out, 3 in: two flows (direction is in the key) */
	meter(&r, VW_OBS_OUT, frame(0, VW_IPPROTO_UDP, 1000, 2000, 100, 0), 5, 1000);
	meter(&r, VW_OBS_IN, frame(0, VW_IPPROTO_UDP, 2000, 1000, 50, 0), 3, 1500);
	/* IPv6: its own template */
	meter(&r, VW_OBS_OUT, frame(1, VW_IPPROTO_UDP, 1000, 2000, 10, 0), 2, 1500);
	ipfix_get_stats(r.e, &st);
	assert_int_equal(st.flows, 3);
	/* not idle yet at 2999 (last seen 1000 + 2 s) */
	assert_int_equal(ipfix_sweep(r.e, 0, 2999, 64), 0);
	assert_int_equal(ipfix_sweep(r.e, 0, 3000, 64), 1);
	assert_int_equal(ipfix_sweep(r.e, 0, 3500, 64), 2);
	collect(&r.g, 3);
	assert_true(r.g.templates >= 1);
	for (int i = 0; i < 3; i++) {
		struct dec *d = &r.g.rec[i];

		assert_int_equal(d->reason, IPFIX_END_IDLE);
		assert_string_equal(d->name, "vnic0");
		assert_int_equal(d->vlan, 7);
		assert_int_equal(d->proto, 17);
		if (d->ipver == 6) {
			assert_int_equal(d->pkts, 2);
			assert_int_equal(d->octets, 2 * (40 + 8 + 10));
		} else if (d->dir == 1) {
			assert_int_equal(d->pkts, 5);
			assert_int_equal(d->octets, 5 * 128);
			assert_int_equal(d->sport, 1000);
			assert_int_equal(d->out, 3);
			assert_int_equal(d->in, 0);
			assert_int_equal(d->end - d->start, 0);
		} else {
			assert_int_equal(d->pkts, 3);
			assert_int_equal(d->octets, 3 * 78);
			assert_int_equal(d->in, 3);
		}
	}
	/* active timeout: a flow that keeps going is reported every 10 s */
	meter(&r, VW_OBS_OUT, frame(0, VW_IPPROTO_UDP, 1, 2, 0, 0), 1, 10000);
	meter(&r, VW_OBS_OUT, frame(0, VW_IPPROTO_UDP, 1, 2, 0, 0), 1, 11000);
	meter(&r, VW_OBS_OUT, frame(0, VW_IPPROTO_UDP, 1, 2, 0, 0), 1, 20000);
	collect(&r.g, 4);
	assert_int_equal(r.g.rec[3].reason, IPFIX_END_ACTIVE);
	assert_int_equal(r.g.rec[3].pkts, 2);
	ipfix_get_stats(r.e, &st);
	assert_int_equal(st.flows, 1);
	/* forced end (exporter or link deleted) */
	assert_int_equal(ipfix_flush(r.e, 0, NULL, 20000), 1);
	collect(&r.g, 5);
	assert_int_equal(r.g.rec[4].reason, IPFIX_END_FORCED);
	assert_int_equal(r.g.rec[4].pkts, 1);
	ipfix_get_stats(r.e, &st);
	assert_int_equal(st.flows, 0);
	assert_int_equal(st.drops, 0);
	rig_down(&r);
	/* the counters of the thread are read after it stopped */
	assert_int_equal(r.g.seq, 5);
}

static void test_gso_fin(void **state)
{
	struct vw_pkt *p;
	struct rig r;

	(void)state;
	rig_up(&r, 64, 60, 15);
	/* a TCP super-frame of 3000 bytes cut at 1000: 3 segments on the wire */
	p = frame(0, VW_IPPROTO_TCP, 40000, 80, 3000, VW_TCP_ACK);
	p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	p->vnet.gso_size = htole16(1000);
	meter(&r, VW_OBS_OUT, p, 1, 100);
	/* and a last one of 2500 cut at 1000: 3 more (1000, 1000, 500) */
	p = frame(0, VW_IPPROTO_TCP, 40000, 80, 2500, VW_TCP_ACK);
	p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	p->vnet.gso_size = htole16(1000);
	meter(&r, VW_OBS_OUT, p, 1, 150);
	/* FIN ends the flow at once: no timeout */
	meter(&r, VW_OBS_OUT, frame(0, VW_IPPROTO_TCP, 40000, 80, 0, VW_TCP_FIN | VW_TCP_ACK), 1, 200);
	collect(&r.g, 1);
	assert_int_equal(r.g.rec[0].reason, IPFIX_END_FIN);
	assert_int_equal(r.g.rec[0].pkts, 7);
	assert_int_equal(r.g.rec[0].octets, 3000 + 3 * 40 + 2500 + 3 * 40 + 40);
	assert_int_equal(r.g.rec[0].end - r.g.rec[0].start, 100);
	/* RST too, in the other direction */
	meter(&r, VW_OBS_IN, frame(0, VW_IPPROTO_TCP, 80, 40000, 0, VW_TCP_RST), 1, 300);
	collect(&r.g, 2);
	assert_int_equal(r.g.rec[1].reason, IPFIX_END_FIN);
	assert_int_equal(r.g.rec[1].pkts, 1);
	rig_down(&r);
}

static void test_evict_ring(void **state)
{
	struct ipfix_stats st;
	struct rig r;
	int i, five = 0;

	(void)state;
	/* one bucket of 8: the 9th flow ends the least recently seen one */
	rig_up(&r, 1, 60, 15);
	for (i = 0; i < 9; i++)
		meter(&r, VW_OBS_OUT, frame(0, VW_IPPROTO_UDP, (uint16_t)(100 + i), 53, 10, 0), 1, 1000 + (uint64_t)i);
	collect(&r.g, 1);
	assert_int_equal(r.g.rec[0].reason, IPFIX_END_LACK);
	assert_int_equal(r.g.rec[0].sport, 100);
	ipfix_get_stats(r.e, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.flows, 8);
	assert_int_equal(ipfix_flush(r.e, 0, &r.tap, 2000), 8);
	collect(&r.g, 9);
	for (i = 1; i < 9; i++)
		five += r.g.rec[i].reason == IPFIX_END_FORCED;
	assert_int_equal(five, 8);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_templates),
		cmocka_unit_test(test_record_layout),
		cmocka_unit_test(test_message_full),
		cmocka_unit_test(test_counting_timeouts),
		cmocka_unit_test(test_gso_fin),
		cmocka_unit_test(test_evict_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
