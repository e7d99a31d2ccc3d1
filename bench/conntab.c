/*
 * bench/conntab.c: cost of the admission-control helpers, one core.
 *
 *   parse4 / parse6   vw_pkt_parse() of a 802.1Q-tagged TCPv4 SYN (IP and
 *                     TCP options) / of a TCPv6 SYN behind a hop-by-hop header
 *   clamp             vw_tcp_clamp_mss() on that SYN, MSS 1460 -> 1400 and
 *                     back (two calls: both rewrite)
 *   rst               vw_tcp_build_rst() for it
 *   hit N             vw_ct_lookup() of known UDP connections in random
 *                     order, N entries in a table made for N (load 3/8 to
 *                     3/4 depending on N's rounding), keys made beforehand
 *   hit N full        the same with the table filled to its maximum (3/4)
 *   churn N           a new connection admitted and an old one expired per
 *                     step (lookup NEW + vw_ct_sweep() of 8 slots), steady
 *                     state around N entries: the worst case of every packet
 *                     opening a connection (the hand turns in about N/4 to
 *                     N/2 steps, so entries are freed soon after expiring)
 *   sweep 100k        ns per slot of a vw_ct_sweep() turn over the 100k
 *                     table (262144 slots), nothing to free
 * Figures are ns per operation over the thread's CPU time, median of RUNS
 * runs.  Usage: conntab [-r RUNS]
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datapath/conntab.h"
#include "datapath/pktparse.h"
#include "datapath/tcpops.h"

#define MAX_RUNS 15

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static volatile uint32_t sink;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A TCP SYN: IPv4 with a tag and 4 bytes of IP options, or IPv6 behind a
 * hop-by-hop header; MSS, SACK-permitted, timestamps, window scale. */
static uint32_t syn(uint8_t *f, int ipv6)
{
	static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
					  1, 3, 3, 7 };
	uint32_t l3, l4;

	memset(f, 0, 256);
	f[0] = f[6] = 2;
	if (ipv6) {
		l3 = 14;
		put16(f + 12, 0x86dd);
		f[l3] = 0x60;
		put16(f + l3 + 4, 8 + 40);
		f[l3 + 6] = 0;
		f[l3 + 7] = 64;
		f[l3 + 8] = f[l3 + 24] = 0xfd;
		f[l3 + 23] = 1;
		f[l3 + 39] = 2;
		f[l3 + 40] = 6;
		f[l3 + 42] = 1;
		f[l3 + 43] = 4;
		l4 = l3 + 48;
	} else {
		l3 = 18;
		put16(f + 12, 0x8100);
		put16(f + 14, 100);
		put16(f + 16, 0x0800);
		f[l3] = 0x46;
		put16(f + l3 + 2, 24 + 40);
		f[l3 + 8] = 64;
		f[l3 + 9] = 6;
		f[l3 + 12] = 10;
		f[l3 + 15] = 1;
		f[l3 + 16] = 10;
		f[l3 + 19] = 2;
		memset(f + l3 + 20, 1, 4);
		l4 = l3 + 24;
	}
	put16(f + l4, 40000);
	put16(f + l4 + 2, 80);
	f[l4 + 12] = 10 << 4;
	f[l4 + 13] = VW_TCP_SYN;
	memcpy(f + l4 + 20, opts, sizeof(opts));
	return l4 + 40;
}

struct keyed {
	struct vw_ct_key k;
	int dir;
};

static struct keyed *make_keys(uint32_t n)
{
	struct keyed *v = malloc(n * sizeof(*v));
	struct vw_pktinfo pi;
	uint32_t i;

	if (!v)
		exit(1);
	memset(&pi, 0, sizeof(pi));
	pi.ipver = 4;
	pi.proto = 17;
	pi.l4 = 34;
	pi.src[10] = pi.src[11] = pi.dst[10] = pi.dst[11] = 0xff;
	for (i = 0; i < n; i++) {
		uint32_t a = rnd(), b = rnd();

		memcpy(pi.src + 12, &a, 4);
		memcpy(pi.dst + 12, &b, 4);
		pi.sport = (uint16_t)rnd();
		pi.dport = (uint16_t)(i & 0xffff);
		v[i].dir = vw_ct_key_make(&v[i].k, &pi);
	}
	return v;
}

#define OPS 4000000u

/* ns per lookup of n known entries (the table made for cap), random order */
static double bench_hit(uint32_t cap, uint32_t n)
{
	struct keyed *keys = make_keys(n);
	uint32_t *order = malloc(OPS * sizeof(*order)), i;
	struct vw_conntab t;
	double t0, t1;

	if (!order || vw_ct_init(&t, cap, 4, 12345, NULL))
		exit(1);
	for (i = 0; i < n; i++)
		if (vw_ct_lookup(&t, &keys[i].k, keys[i].dir, 0, i & 3, VW_CT_NOLIMIT, 1) != VW_CT_NEW)
			exit(2);
	for (i = 0; i < OPS; i++)
		order[i] = rnd() % n;
	t0 = cpu_ns();
	for (i = 0; i < OPS; i++) {
		const struct keyed *k = &keys[order[i]];

		sink += vw_ct_lookup(&t, &k->k, k->dir, 0, order[i] & 3, VW_CT_NOLIMIT, 2);
	}
	t1 = cpu_ns();
	vw_ct_fini(&t);
	free(order);
	free(keys);
	return (t1 - t0) / OPS;
}

/* ns per slot of full sweeps over a table of n live entries */
static double bench_sweep(uint32_t n)
{
	struct keyed *keys = make_keys(n);
	struct vw_conntab t;
	double t0, t1;
	uint32_t i;

	if (vw_ct_init(&t, n, 1, 5, NULL))
		exit(1);
	for (i = 0; i < n; i++)
		vw_ct_lookup(&t, &keys[i].k, keys[i].dir, 0, 0, VW_CT_NOLIMIT, 1);
	t0 = cpu_ns();
	for (i = 0; i < 20; i++)
		sink += vw_ct_sweep(&t, 2, vw_ct_slots(&t));
	t1 = cpu_ns();
	i = vw_ct_slots(&t);
	vw_ct_fini(&t);
	free(keys);
	return (t1 - t0) / (20.0 * i);
}

/* ns per (admit one + sweep 8 slots), about n entries alive */
static double bench_churn(uint32_t n)
{
	struct keyed *keys = make_keys(OPS);
	struct vw_conntab t;
	struct vw_ct_timeouts to = { 1, 1, 1, 1, n };  /* UDP: alive for n steps */
	uint64_t now;
	double t0, t1;
	uint32_t i;

	if (vw_ct_init(&t, n + n / 4, 1, 99, &to))
		exit(1);
	for (now = 0; now < 2 * n; now++)  /* reach the steady state */
		vw_ct_lookup(&t, &keys[now].k, keys[now].dir, 0, 0, VW_CT_NOLIMIT, now),
		vw_ct_sweep(&t, now, 8);
	t0 = cpu_ns();
	for (i = 2 * n; i < OPS; i++, now++) {
		sink += vw_ct_lookup(&t, &keys[i].k, keys[i].dir, 0, 0, VW_CT_NOLIMIT, now);
		sink += vw_ct_sweep(&t, now, 8);
	}
	t1 = cpu_ns();
	if (t.stats.full || t.n > t.max - 64)
		fprintf(stderr, "churn %u: %llu FULL, %u entries of %u\n", n,
			(unsigned long long)t.stats.full, t.n, t.max);
	vw_ct_fini(&t);
	free(keys);
	return (t1 - t0) / (OPS - 2 * n);
}

static double bench_pkt(int what, int ipv6)
{
	uint8_t f[256], r[VW_TCP_RST_MAX];
	struct vw_pktinfo pi;
	uint32_t len = syn(f, ipv6), i;
	double t0, t1;

	if (vw_pkt_parse(f, len, &pi))
		exit(3);
	t0 = cpu_ns();
	for (i = 0; i < OPS; i++) {
		switch (what) {
		case 0:
			sink += (uint32_t)vw_pkt_parse(f, len, &pi) + pi.sport;
			break;
		case 1:
			sink += (uint32_t)vw_tcp_clamp_mss(f, len, 0, &pi, (i & 1) ? 1460 : 1400);
			break;
		default:
			sink += (uint32_t)vw_tcp_build_rst(r, sizeof(r), f, len, &pi) + r[60];
		}
		__asm__ volatile("" ::: "memory");
	}
	t1 = cpu_ns();
	return (t1 - t0) / OPS;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "parse4", "parse6", "clamp", "rst", "hit 1k", "hit 1k full",
				       "hit 100k", "hit 100k full", "churn 1k", "churn 100k", "sweep 100k" };
	enum { NCASES = sizeof(names) / sizeof(names[0]) };
	double v[NCASES][MAX_RUNS];
	int runs = 5, r, c, opt;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r' || (runs = atoi(optarg)) < 1 || runs > MAX_RUNS) {
			fprintf(stderr, "usage: conntab [-r RUNS (1-%d)]\n", MAX_RUNS);
			return 2;
		}
	}
	for (r = 0; r < runs; r++) {
		v[0][r] = bench_pkt(0, 0);
		v[1][r] = bench_pkt(0, 1);
		v[2][r] = bench_pkt(1, 0);
		v[3][r] = bench_pkt(2, 0);
		v[4][r] = bench_hit(1000, 1000);
		v[5][r] = bench_hit(1000, 1536);
		v[6][r] = bench_hit(100000, 100000);
		v[7][r] = bench_hit(100000, 196608);
		v[8][r] = bench_churn(1000);
		v[9][r] = bench_churn(100000);
		v[10][r] = bench_sweep(100000);
	}
	printf("%-16s %10s  (median of %d runs, thread CPU time)\n", "case", "ns/op", runs);
	for (c = 0; c < NCASES; c++)
		printf("%-16s %10.1f\n", names[c], median(v[c], runs));
	return 0;
}
