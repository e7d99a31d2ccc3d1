/*
 * bench/gso.c: software segmentation and checksum throughput, one core.
 *
 * Cases (each a frame built once, then handed to vw_gso_segment() over and
 * over with a fresh copy of its virtio-net header; the super-frame is not
 * modified by a cut, so it needs no rebuilding):
 *   tcp4      TCPv4 super-frame, timestamps option, 65483 bytes of payload
 *             (a full 64 KiB IP packet), MSS 1448: 46 segments;
 *   tcp6-vlan the same over IPv6 with an 802.1Q tag (65503 bytes);
 *   uso4      UDPv4, 65507 bytes, gso_size 1472: 45 datagrams;
 *   csum1500  a 1514-byte TCPv4 frame with NEEDS_CSUM, completed in place
 *             (its header restored each time);
 *   memcpy    the floor: one memcpy of the tcp4 super-frame's bytes.
 * Figures are Gbit/s of super-frame bytes in (the frame as the zone sent
 * it), over the thread's CPU time, median of RUNS runs of about 0.3 s,
 * interleaved.  Usage: gso [-r RUNS] [-c CPU]
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datapath/gso.h"
#include "datapath/vnet.h"

#define MAX_RUNS 15

struct bcase {
	const char *name;
	uint8_t frame[65600];
	uint32_t len;
	struct virtio_net_hdr_v1 vnet;
	int expect;     /* segments per call */
	double gbps[MAX_RUNS];
};

static uint8_t scratch[VW_GSO_SCRATCH];
static uint8_t sink[65600];
static struct vw_seg segs[VW_GSO_SEGS_MAX];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An Ethernet + IP + TCP/UDP frame with payload bytes of pattern. */
static void build(struct bcase *c, int ipv6, int tag, int udp, uint32_t payload, uint16_t mss)
{
	uint8_t *p = c->frame, *ip;
	uint32_t l3 = 14 + (tag ? 4 : 0), l4, hlen, i;

	memset(p, 0, 12);
	p[0] = p[6] = 2;
	if (tag) {
		put16(p + 12, 0x8100);
		put16(p + 14, 100);
	}
	put16(p + l3 - 2, ipv6 ? 0x86dd : 0x0800);
	ip = p + l3;
	l4 = l3 + (ipv6 ? 40 : 20);
	hlen = l4 + (udp ? 8 : 32);
	c->len = hlen + payload;
	memset(ip, 0, l4 - l3);
	if (ipv6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(c->len - l3 - 40));
		ip[6] = udp ? 17 : 6;
		ip[7] = 64;
		ip[8] = ip[24] = 0xfd;
		ip[23] = 1;
		ip[39] = 2;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(c->len - l3));
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = udp ? 17 : 6;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	}
	memset(p + l4, 0, hlen - l4);
	put16(p + l4, 40000);
	put16(p + l4 + 2, 5201);
	if (udp) {
		put16(p + l4 + 4, (uint16_t)(c->len - l4));
	} else {
		p[l4 + 12] = 0x80;  /* 32 bytes: timestamps */
		p[l4 + 13] = 0x18;
		put16(p + l4 + 14, 512);
		memcpy(p + l4 + 20, "\x01\x01\x08\x0a\x00\x00\x10\x00\x00\x00\x20\x00", 12);
	}
	for (i = 0; i < payload; i++)
		p[hlen + i] = (uint8_t)(i * 2654435761u >> 24);
	memset(&c->vnet, 0, sizeof(c->vnet));
	c->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	c->vnet.csum_start = htole16((uint16_t)l4);
	c->vnet.csum_offset = htole16(udp ? 6 : 16);
	if (mss) {
		c->vnet.gso_type = udp ? VIRTIO_NET_HDR_GSO_UDP_L4 :
				   ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		c->vnet.gso_size = htole16(mss);
		c->vnet.hdr_len = htole16((uint16_t)hlen);
		c->expect = (int)((payload + mss - 1) / mss);
	} else {
		c->expect = 1;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Gbit/s of frame bytes over about 0.3 s of CPU time. */
static double run(struct bcase *c, bool copy_only)
{
	struct virtio_net_hdr_v1 v;
	uint64_t iters = 0;
	uint8_t save[2];
	uint32_t coff = le16toh(c->vnet.csum_start) + le16toh(c->vnet.csum_offset);
	double t0 = now(), t;
	int i, n;

	memcpy(save, c->frame + coff, 2);
	do {
		for (i = 0; i < 256; i++) {
			if (copy_only) {
				memcpy(sink, c->frame, c->len);
				__asm__ volatile("" : : "r"(sink) : "memory");
				continue;
			}
			v = c->vnet;
			n = vw_gso_segment(&v, c->frame, c->len, scratch, sizeof(scratch), segs,
					   VW_GSO_SEGS_MAX);
			if (n != c->expect) {
				fprintf(stderr, "gso: %s: %d segments, expected %d\n", c->name, n, c->expect);
				exit(1);
			}
			if (c->expect == 1)  /* completed in place: put the seed back */
				memcpy(c->frame + coff, save, 2);
		}
		iters += 256;
		t = now() - t0;
	} while (t < 0.3);
	return (double)iters * c->len * 8 / t / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct bcase cases[5];
	int runs = 5, cpu = -1, opt, r, i;
	const int ncases = 5;

	while ((opt = getopt(argc, argv, "r:c:")) != -1) {
		switch (opt) {
		case 'r': runs = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: gso [-r RUNS] [-c CPU]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "gso: -r takes 1..%d\n", MAX_RUNS);
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("gso: sched_setaffinity");
	}
	cases[0].name = "tcp4";
	build(&cases[0], 0, 0, 0, 65535 - 20 - 32, 1448);
	cases[1].name = "tcp6-vlan";
	build(&cases[1], 1, 1, 0, 65535 - 32, 1448);
	cases[2].name = "uso4";
	build(&cases[2], 0, 0, 1, 65535 - 20 - 8, 1472);
	cases[3].name = "csum1500";
	build(&cases[3], 0, 0, 0, 1500 - 20 - 32, 0);
	cases[4].name = "memcpy";
	build(&cases[4], 0, 0, 0, 65535 - 20 - 32, 1448);

	for (i = 0; i < ncases; i++)
		run(&cases[i], i == 4);  /* warm-up */
	for (r = 0; r < runs; r++)
		for (i = 0; i < ncases; i++)
			cases[i].gbps[r] = run(&cases[i], i == 4);
	for (i = 0; i < ncases; i++) {
		qsort(cases[i].gbps, (size_t)runs, sizeof(double), cmp);
		printf("RESULT gso case=%s frame=%u segs=%d gbps=%.1f (min %.1f max %.1f, %d runs)\n",
		       cases[i].name, cases[i].len, cases[i].expect, cases[i].gbps[runs / 2],
		       cases[i].gbps[0], cases[i].gbps[runs - 1], runs);
	}
	return 0;
}
