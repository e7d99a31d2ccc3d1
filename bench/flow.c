/*
 * bench/flow.c: the flow classifier's cost per packet with 1, 100 and
 * 10,000 flows on the link (issue 4 wants 1 and 10,000 within 10%).
 *
 * Flow sets (every flow of a set has the same attribute combination, so one
 * subtable, and the 1-flow table also has one: the same work per packet):
 *   lip     local_ip=10.x.y.z (/32, IPv4; Crossbow's per-host flows);
 *           1 flow: local_ip=10.0.0.0/8
 *   port    transport=tcp,local_port=P;  1 flow: transport=tcp
 *
 * Traffic, NKEYS distinct-or-not 60-byte TCP/IPv4 frames, the same for
 * every table size so that only the table differs:
 *   hit     every frame belongs to a flow (hit rate 100%, checked):
 *           with 10,000 flows every flow twice, in random order, so the
 *           lookups spread over the whole table; the 1-flow table gets the
 *           very same frames (its one flow holds all of them); with 100
 *           flows each of them 200 times, in random order
 *   miss    no frame belongs to a flow (hit rate 0%, checked): hosts and
 *           ports no flow names, against the same 100- and 10,000-flow
 *           tables; the 1-flow table is local_ip=11.0.0.1 or transport=udp
 * Measures:
 *   single  vw_flowtab_lookup() per key (keys extracted beforehand): what
 *           a caller with one frame at a time pays
 *   batch   vw_flowtab_lookup_batch() on 64 keys at a time
 *   count   vw_flowtab_count() on 64 frames at a time: parse + lookup +
 *           counters, what the datapath does per frame of a link with flows
 * A run of a (set, measure, traffic) takes its three table sizes in turn,
 * a pass (every key once) each, until each has had RUN_MS of thread CPU
 * time, so that a machine that slows down for a while (it is shared)
 * slows the three down alike; the median of RUNS runs is printed.
 * Environment: RUNS (default 5), RUN_MS (default 200).  With four
 * arguments (SET MEASURE TRAFFIC FLOWS, e.g. "lip single hit 10000") only
 * that case runs, for 10 x RUN_MS, which is what `perf stat` wants.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datapath/flow.h"

#define NFLOWS 10000
#define NKEYS (2 * NFLOWS)
#define MISS0 (2 * NFLOWS) /* the first flow number of the miss frames */
#define NSIZES 3
#define BATCH VW_BATCH

static const unsigned sizes[NSIZES] = { 1, 100, NFLOWS };
static const char *const sets[] = { "lip", "port" }, *const measures[] = { "single", "batch", "count" },
		  *const traffics[] = { "hit", "miss" };

/* per traffic kind (hit over 10,000 flows, hit over 100, miss) */
struct traffic {
	struct vw_pkt *pkts[NKEYS];
	struct vw_flow_key keys[NKEYS];
	uint8_t (*frames)[64];
};
static struct traffic tr[3];

static long long cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The 60-byte TCP/IPv4 frame of flow number f: the link sends it from
 * 10.(f+1)/32, port 1000+f.  Not inlined: p has only the metadata part of
 * a struct vw_pkt, which the compiler would see. */
static void __attribute__((noinline)) frame(struct vw_pkt *p, uint8_t *fr, unsigned f)
{
	uint32_t host = f + 1;

	memset(fr, 0, 60);
	memcpy(fr, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	fr[14] = 0x45;
	put16(fr + 16, 46);
	fr[22] = 64;
	fr[23] = 6;
	fr[26] = 10, fr[27] = (uint8_t)(host >> 16), fr[28] = (uint8_t)(host >> 8), fr[29] = (uint8_t)host;
	fr[30] = 192, fr[31] = 168, fr[32] = 0, fr[33] = 1;
	put16(fr + 34, 1000 + f);
	put16(fr + 36, 443);
	fr[46] = 0x50;
	p->data = fr;
	p->len = 60;
}

/* NKEYS flow numbers: first + 0..n-1, each NKEYS/n times, shuffled. */
static void traffic_make(struct traffic *t, unsigned first, unsigned n)
{
	static unsigned f[NKEYS];
	unsigned i;

	for (i = 0; i < NKEYS; i++)
		f[i] = first + i % n;
	for (i = NKEYS - 1; i > 0; i--) {
		unsigned r = (unsigned)random() % (i + 1), x = f[i];

		f[i] = f[r];
		f[r] = x;
	}
	t->frames = aligned_alloc(64, NKEYS * 64);
	for (i = 0; i < NKEYS; i++) {
		/* only the metadata: the frames are in one compact array */
		t->pkts[i] = aligned_alloc(64, (offsetof(struct vw_pkt, head) + 63) & ~(size_t)63);
		frame(t->pkts[i], t->frames[i], f[i]);
		vw_flow_key_from_frame(t->pkts[i]->data, t->pkts[i]->len, true, &t->keys[i]);
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One pass of a measure over the NKEYS / BATCH * BATCH keys of t. */
static int pass(const struct vw_flowtab *ft, const struct traffic *t, int measure)
{
	int id[BATCH], sink = 0;
	unsigned i, j;

	switch (measure) {
	case 0:
		for (i = 0; i < NKEYS / BATCH * BATCH; i++)
			sink += vw_flowtab_lookup(ft, &t->keys[i]);
		break;
	case 1:
		for (i = 0; i + BATCH <= NKEYS; i += BATCH) {
			vw_flowtab_lookup_batch(ft, t->keys + i, BATCH, id);
			for (j = 0; j < BATCH; j += 16)
				sink += id[j];
		}
		break;
	default:
		for (i = 0; i + BATCH <= NKEYS; i += BATCH)
			vw_flowtab_count(ft, 0, t->pkts + i, BATCH, true);
		break;
	}
	return sink;
}

/* ns per packet of a measure on nt tables (1, 100 and 10,000 flows), in
 * passes taken in turn until each has had ns of CPU time: a machine that
 * slows down for a while slows all of them down alike. */
static void run(const struct vw_flowtab *const *ft, const struct traffic *const *t, int nt, int measure, long long ns,
		double *res)
{
	long long el[NSIZES] = { 0 }, t0;
	unsigned long n = 0;
	volatile int sink = 0;
	int z;

	do {
		for (z = 0; z < nt; z++) {
			t0 = cpu_ns();
			sink += pass(ft[z], t[z], measure);
			el[z] += cpu_ns() - t0;
		}
		n += NKEYS / BATCH * BATCH;
	} while (el[0] < ns);
	(void)sink;
	for (z = 0; z < nt; z++)
		res[z] = (double)el[z] / (double)n;
}

static int find(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

int main(int argc, char **argv)
{
	static struct vw_flow_attrs attrs[NFLOWS];
	static struct vw_flow_stats *stats[NFLOWS];
	static const char *const one[2][2] = { { "local_ip=10.0.0.0/8", "local_ip=11.0.0.1" },
					       { "transport=tcp", "transport=udp" } };
	/* [set][traffic][size] */
	const struct vw_flowtab *ft[2][2][NSIZES];
	const struct traffic *tof[2][NSIZES];
	double hit[2][2][NSIZES];
	int runs = getenv("RUNS") ? atoi(getenv("RUNS")) : 5, s, m, k, z, r;
	long long run_ns = (getenv("RUN_MS") ? atoll(getenv("RUN_MS")) : 200) * 1000000LL;
	double *res;
	struct vw_flow_attrs x;
	char err[256], a[128];
	unsigned i;

	if (runs < 1 || run_ns <= 0 || (argc != 1 && argc != 5)) {
		fprintf(stderr, "usage: flow [SET MEASURE TRAFFIC FLOWS]   (environment: RUNS, RUN_MS)\n");
		return 2;
	}
	srandom(1);
	for (i = 0; i < NFLOWS; i++)
		stats[i] = vw_flow_stats_new();
	traffic_make(&tr[0], 0, NFLOWS);
	traffic_make(&tr[1], 0, 100);
	traffic_make(&tr[2], MISS0, NKEYS);
	for (z = 0; z < NSIZES; z++) {
		tof[0][z] = &tr[z == 1];
		tof[1][z] = &tr[2];
	}
	for (s = 0; s < 2; s++) {
		for (i = 0; i < NFLOWS; i++) {
			if (s == 0)
				snprintf(a, sizeof(a), "local_ip=10.%u.%u.%u", (i + 1) >> 16, ((i + 1) >> 8) & 0xff, (i + 1) & 0xff);
			else
				snprintf(a, sizeof(a), "transport=tcp,local_port=%u", 1000 + i);
			if (!vw_flow_attrs_parse(a, &attrs[i], err, sizeof(err))) {
				fprintf(stderr, "%s: %s\n", a, err);
				return 1;
			}
		}
		for (z = 1; z < NSIZES; z++)
			ft[s][0][z] = ft[s][1][z] = vw_flowtab_build(attrs, stats, sizes[z]);
		for (k = 0; k < 2; k++) {
			if (!vw_flow_attrs_parse(one[s][k], &x, err, sizeof(err)))
				return 1;
			ft[s][k][0] = vw_flowtab_build(&x, stats, 1);
		}
		for (k = 0; k < 2; k++)
			for (z = 0; z < NSIZES; z++) {
				unsigned h = 0;

				if (!ft[s][k][z] || vw_flowtab_nsub(ft[s][k][z]) != 1)
					return 1;
				for (i = 0; i < NKEYS; i++)
					h += vw_flowtab_lookup(ft[s][k][z], &tof[k][z]->keys[i]) >= 0;
				hit[s][k][z] = 100.0 * h / NKEYS;
				if (hit[s][k][z] != (k ? 0 : 100)) {
					fprintf(stderr, "%s %s %u flows: hit rate %.1f%%\n", sets[s], traffics[k], sizes[z],
						hit[s][k][z]);
					return 1;
				}
			}
	}
	if (argc == 5) {
		s = find(sets, 2, argv[1]), m = find(measures, 3, argv[2]), k = find(traffics, 2, argv[3]);
		for (z = 0; z < NSIZES && sizes[z] != (unsigned)atoi(argv[4]); z++)
			;
		if (s < 0 || m < 0 || k < 0 || z == NSIZES) {
			fprintf(stderr, "flow: no case %s %s %s %s\n", argv[1], argv[2], argv[3], argv[4]);
			return 2;
		}
		{
			double v;

			run(&ft[s][k][z], &tof[k][z], 1, m, 10 * run_ns, &v);
			printf("%s %s %s %u flows (hit rate %.0f%%): %.2f ns/pkt\n", sets[s], measures[m], traffics[k],
			       sizes[z], hit[s][k][z], v);
		}
		return 0;
	}
	/* [set][measure][traffic][size][run] */
	res = malloc(2 * 3 * 2 * NSIZES * (size_t)runs * sizeof(*res));
#define RES(s, m, k, z) (res + ((((size_t)(s) * 3 + (m)) * 2 + (k)) * NSIZES + (z)) * (size_t)runs)
	for (r = 0; r < runs; r++)
		for (s = 0; s < 2; s++)
			for (m = 0; m < 3; m++)
				for (k = 0; k < 2; k++) {
					double v[NSIZES];

					run(ft[s][k], tof[k], NSIZES, m, run_ns, v);
					for (z = 0; z < NSIZES; z++)
						RES(s, m, k, z)[r] = v[z];
				}
	printf("ns/packet, median of %d runs of %lld ms; %d keys; hit: hit rate 100%%, miss: 0%%\n", runs,
	       run_ns / 1000000, NKEYS);
	printf("%-5s %-7s %-5s %9s %9s %9s %8s\n", "SET", "MEASURE", "TRAF", "1", "100", "10000", "10000/1");
	for (s = 0; s < 2; s++)
		for (m = 0; m < 3; m++)
			for (k = 0; k < 2; k++) {
				double med[NSIZES];

				for (z = 0; z < NSIZES; z++) {
					qsort(RES(s, m, k, z), (size_t)runs, sizeof(double), cmp_d);
					med[z] = RES(s, m, k, z)[runs / 2];
				}
				printf("%-5s %-7s %-5s %9.2f %9.2f %9.2f %8.3f\n", sets[s], measures[m], traffics[k], med[0],
				       med[1], med[2], med[2] / med[0]);
			}
	free(res);
	return 0;
}
