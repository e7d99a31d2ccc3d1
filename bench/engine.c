/*
 * bench/engine.c: the in-memory switch engine in Mpps, one core.
 *
 * One struct vw_switch with N VNIC ports (random locally administered MACs,
 * VID = 1 + i % 8) and one uplink port, all in-memory: their write only
 * counts the frames it is handed and takes them all.  No byte is copied on
 * the way out: the cost of handing a frame to a NIC ring, a TAP or an
 * AF_PACKET socket is elsewhere and is not measured here.
 *
 * Frames are built once (a table of NFRAMES 60-byte frames: 64 bytes on the
 * wire with the FCS, the classic "64-byte" frame size as pkt-gen sends it)
 * and reused.  For every batch the loop takes buffers from the worker's pool
 * (vw_pkt_alloc), points pkt->data at the next frames of the table and sets
 * pkt->len (the frame is not copied into the buffer, as a NIC's DMA would
 * not cost the CPU either; the VLAN strip moves pkt->data, so both are set
 * again each time), then calls vw_switch_input(), which classifies, looks
 * up, queues per destination, calls each destination's write once and
 * frees every buffer back to the pool.  So the allocation and freeing of
 * buffers is in the figure.
 *
 * Two sources:
 *   vnic    frames from VNIC 0 (VID 1) to random other VNICs of VID 1;
 *   uplink  802.1Q-tagged frames from the uplink to random VNICs of any
 *           VID, tagged with that VNIC's VID: VLAN strip + lookup.  The
 *           strip overwrites the first 16 bytes of the frame, so they are
 *           put back (one 16-byte copy per frame, in the figure).
 *
 * Each (source, N, batch) is run for a fixed time on one thread (pinned
 * with -c), after a warm-up, RUNS times, interleaved (run 1 of every case,
 * then run 2, ...); the median is reported.  The time is the thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID), so the figure is frames per second of one
 * core even when other processes share it; the RESULT lines also give the
 * figure over wall time.  Every run checks that every frame was delivered
 * exactly once.
 *
 * Diagnostics: -d K restricts the destinations to K VNICs (same fan-out
 * whatever N, so only the table and port working set grow); -C colours the
 * buffer pool (see pool_colour()).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "datapath/pkt.h"
#include "datapath/port.h"
#include "datapath/rcu.h"
#include "datapath/vswitch.h"

#define NFRAMES 4096 /* frames in the table, cycled through in order */
#define NVIDS 8
#define MAX_NS 16
#define MAX_BS 16
#define MAX_RUNS 15

enum { SRC_VNIC, SRC_UPLINK, NSRC };
static const char *src_name[NSRC] = { "vnic", "uplink" };

/* ---- in-memory ports ---- */

static uint64_t tx_frames, tx_calls;

static int count_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	(void)port, (void)pool, (void)pkts, (void)n;
	return 0;
}

/* The whole cost of a destination: count and take everything. */
static int count_tx(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	(void)port, (void)pkts, (void)tag;
	tx_frames += (unsigned)n;
	tx_calls++;
	return n;
}

static const struct vw_port_ops count_ops = {
	.kind = "bench",
	.rx_burst = count_rx,
	.write = count_tx,
	.close = NULL,
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct vw_port *port_alloc(bool uplink, uint16_t vid)
{
	struct vw_port *p = aligned_alloc(64, (sizeof(*p) + 63) & ~(size_t)63);

	if (!p) {
		perror("aligned_alloc");
		exit(1);
	}
	memset(p, 0, sizeof(*p));
	p->ops = &count_ops;
	p->fd = -1;
	p->uplink = uplink;
	p->vid = vid;
	return p;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* The CPU time of this thread: on a shared machine the thread may be
 * descheduled for part of a run, and the engine's cost per frame is what
 * it spends while it runs. */
static double cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* ---- one switch of N VNICs ---- */

struct bsw {
	unsigned n;
	struct vw_switch *sw;
	struct vw_port **vnics;
	struct vw_port *uplink;
	double build_s;
	/* frame tables, one per source */
	uint8_t (*frames[NSRC])[64];
	uint8_t (*pristine)[16]; /* the uplink frames' first 16 bytes */
	uint32_t len[NSRC];
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void frame_fill(uint8_t *b, const uint8_t *dst, const uint8_t *src, int vid)
{
	size_t off = 12, i;

	memset(b, 0, 64);
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (vid >= 0) {
		put16(b + 12, 0x8100);
		put16(b + 14, (uint16_t)vid);
		off = 16;
	}
	put16(b + off, 0x0800); /* an IPv4 frame; the payload is not looked at */
	for (i = off + 2; i < 64; i++)
		b[i] = (uint8_t)i;
}

static void bsw_build(struct bsw *b, unsigned n, unsigned ndst_limit)
{
	static const uint8_t src_remote[6] = { 0x02, 0xee, 0xee, 0xee, 0xee, 0x01 };
	struct vw_port **dsts;
	unsigned i, nd = 0;
	char name[16];
	double t0;
	int err;

	memset(b, 0, sizeof(*b));
	b->n = n;
	snprintf(name, sizeof(name), "bench%u", n);
	b->vnics = calloc(n, sizeof(*b->vnics));
	dsts = calloc(n, sizeof(*dsts));
	b->sw = vw_switch_new(name);
	if (!b->vnics || !dsts || !b->sw) {
		fprintf(stderr, "engine: out of memory\n");
		exit(1);
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct vw_port *p = port_alloc(false, (uint16_t)(1 + i % NVIDS));

		snprintf(p->name, sizeof(p->name), "vn%u", i);
		do {
			uint64_t r = rnd();

			memcpy(p->mac, &r, 6);
			p->mac[0] = (uint8_t)((p->mac[0] & 0xfc) | 0x02); /* unicast, local */
			err = vw_switch_attach(b->sw, p);
		} while (err == -EEXIST);
		if (err) {
			fprintf(stderr, "engine: attach: %s\n", strerror(-err));
			exit(1);
		}
		b->vnics[i] = p;
	}
	b->uplink = port_alloc(true, 0);
	snprintf(b->uplink->name, sizeof(b->uplink->name), "up");
	err = vw_switch_attach(b->sw, b->uplink);
	if (err) {
		fprintf(stderr, "engine: attach uplink: %s\n", strerror(-err));
		exit(1);
	}
	b->build_s = now_s() - t0;

	b->frames[SRC_VNIC] = aligned_alloc(64, NFRAMES * 64);
	b->frames[SRC_UPLINK] = aligned_alloc(64, NFRAMES * 64);
	b->pristine = malloc(NFRAMES * 16);
	if (!b->frames[SRC_VNIC] || !b->frames[SRC_UPLINK] || !b->pristine) {
		fprintf(stderr, "engine: out of memory\n");
		exit(1);
	}
	/* VNIC source: vnics[0] (VID 1) to the other VNICs of VID 1 */
	for (i = 1; i < n; i++)
		if (b->vnics[i]->vid == b->vnics[0]->vid && (!ndst_limit || nd < ndst_limit))
			dsts[nd++] = b->vnics[i];
	if (!nd) {
		fprintf(stderr, "engine: N=%u leaves VNIC 0 alone in its VID\n", n);
		exit(1);
	}
	for (i = 0; i < NFRAMES; i++) {
		struct vw_port *d = dsts[rnd() % nd];

		frame_fill(b->frames[SRC_VNIC][i], d->mac, b->vnics[0]->mac, -1);
	}
	b->len[SRC_VNIC] = 60;
	/* uplink source: tagged frames to any VNIC (or to the first K) */
	for (i = 0; i < NFRAMES; i++) {
		struct vw_port *d = b->vnics[rnd() % (ndst_limit && ndst_limit < n ? ndst_limit : n)];

		frame_fill(b->frames[SRC_UPLINK][i], d->mac, src_remote, d->vid);
		memcpy(b->pristine[i], b->frames[SRC_UPLINK][i], 16);
	}
	b->len[SRC_UPLINK] = 64;
	free(dsts);
}

/* ---- the measured loop ---- */

struct result {
	double mpps;      /* frames per second of the thread's CPU time */
	double mpps_wall; /* frames per second of wall time */
	double dsts_per_batch;
};

static struct result run(struct vw_fwd *f, struct bsw *b, int src, unsigned batch, double secs)
{
	struct vw_port *in = src == SRC_UPLINK ? b->uplink : b->vnics[0];
	uint8_t (*frames)[64] = b->frames[src];
	uint8_t (*pristine)[16] = b->pristine;
	uint32_t len = b->len[src];
	struct vw_pkt *pkts[VW_BATCH];
	uint64_t iters = 0, sent0, calls0, check;
	unsigned fi = 0, i;
	double t0, t1, c0, c1 = 0, deadline;
	struct result r;

	/* checks of the clock: about every 64 Ki frames */
	check = 65536 / batch;
	sent0 = tx_frames;
	calls0 = tx_calls;
	t0 = now_s();
	c0 = cpu_s();
	deadline = c0 + secs;
	for (;;) {
		for (i = 0; i < batch; i++) {
			struct vw_pkt *p = vw_pkt_alloc(&f->pool);

			if (src == SRC_UPLINK)
				memcpy(frames[fi], pristine[fi], 16);
			p->data = frames[fi];
			p->len = len;
			pkts[i] = p;
			fi = (fi + 1) & (NFRAMES - 1);
		}
		vw_switch_input(f, in, pkts, (int)batch);
		if (++iters % check == 0 && (c1 = cpu_s()) >= deadline)
			break;
	}
	t1 = now_s();
	if (tx_frames - sent0 != iters * batch || f->pool.nfree != f->pool.size) {
		fprintf(stderr, "engine: %s N=%u batch=%u: %llu frames in, %llu delivered, pool %u/%u\n", src_name[src],
			b->n, batch, (unsigned long long)(iters * batch), (unsigned long long)(tx_frames - sent0),
			f->pool.nfree, f->pool.size);
		exit(1);
	}
	r.mpps = (double)(iters * batch) / (c1 - c0) / 1e6;
	r.mpps_wall = (double)(iters * batch) / (t1 - t0) / 1e6;
	r.dsts_per_batch = (double)(tx_calls - calls0) / (double)iters;
	return r;
}

/*
 * Every pool buffer is 17 pages (69632 bytes) long, so the struct vw_pkt
 * headers of a batch all sit at the same offset in their page and compete
 * for the same L1 cache set.  With -C the bench hands the pool buffers of
 * its own whose starts are staggered by 3 cache lines per buffer (the
 * engine does not care where a buffer is), to measure what that costs.
 */
static void *colour_mem;
static size_t colour_len;

static void pool_colour(struct vw_pool *p)
{
	size_t stride = ((sizeof(struct vw_pkt) + 4095) & ~(size_t)4095) + 3 * 64;
	unsigned i;

	colour_len = stride * p->size + 4096;
	colour_mem = mmap(NULL, colour_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (colour_mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (i = 0; i < p->size; i++)
		p->free[p->size - 1 - i] = (struct vw_pkt *)((char *)colour_mem + i * stride);
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static unsigned parse_list(const char *s, unsigned *v, unsigned max, const char *what)
{
	unsigned n = 0;
	char *end;

	while (*s) {
		unsigned long x = strtoul(s, &end, 10);

		if (end == s || n == max || !x) {
			fprintf(stderr, "engine: bad %s list\n", what);
			exit(2);
		}
		v[n++] = (unsigned)x;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',') {
			fprintf(stderr, "engine: bad %s list\n", what);
			exit(2);
		}
	}
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: engine [-t SECONDS] [-r RUNS] [-n N,...] [-b BATCH,...] [-s vnic|uplink|both]\n"
		   "              [-c CPU] [-d K] [-C] [-q]\n"
		   "  -t  seconds per run (2)       -r  runs per case, median reported (3)\n"
		   "  -n  VNICs per switch (16,256,4096,16384)   -b  batch sizes (1,8,32,64)\n"
		   "  -s  frame source (both)       -c  pin to this CPU\n"
		   "  -d  only K destination VNICs  -C  colour the buffer pool (diagnostic)\n"
		   "  -q  print only the RESULT lines\n");
}

int main(int argc, char **argv)
{
	unsigned ns[MAX_NS] = { 16, 256, 4096, 16384 }, nn = 4;
	unsigned bs[MAX_BS] = { 1, 8, 32, 64 }, nb = 4;
	unsigned runs = 3, ndst = 0, i, j, r;
	double secs = 2.0;
	int c, cpu = -1, s, s0 = 0, s1 = NSRC;
	bool colour = false, quiet = false;
	static double res[NSRC][MAX_NS][MAX_BS][MAX_RUNS];
	static double dpb[NSRC][MAX_NS][MAX_BS];
	static double wall[NSRC][MAX_NS][MAX_BS][MAX_RUNS];
	struct bsw *sws;
	struct vw_fwd *f;

	while ((c = getopt(argc, argv, "t:r:n:b:s:c:d:Cqh")) != -1) {
		switch (c) {
		case 't':
			secs = atof(optarg);
			break;
		case 'r':
			runs = (unsigned)atoi(optarg);
			break;
		case 'n':
			nn = parse_list(optarg, ns, MAX_NS, "N");
			break;
		case 'b':
			nb = parse_list(optarg, bs, MAX_BS, "batch");
			break;
		case 's':
			if (!strcmp(optarg, "vnic"))
				s0 = SRC_VNIC, s1 = SRC_VNIC + 1;
			else if (!strcmp(optarg, "uplink"))
				s0 = SRC_UPLINK, s1 = SRC_UPLINK + 1;
			else if (strcmp(optarg, "both"))
				return usage(stderr), 2;
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'd':
			ndst = (unsigned)atoi(optarg);
			break;
		case 'C':
			colour = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (secs <= 0 || runs < 1 || runs > MAX_RUNS || optind < argc) {
		usage(stderr);
		return 2;
	}
	for (j = 0; j < nb; j++)
		if (bs[j] > VW_BATCH) {
			fprintf(stderr, "engine: batch %u > VW_BATCH (%d)\n", bs[j], VW_BATCH);
			return 2;
		}
	for (i = 0; i < nn; i++)
		if (ns[i] < 2 * NVIDS) {
			fprintf(stderr, "engine: N must be at least %d\n", 2 * NVIDS);
			return 2;
		}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			perror("engine: sched_setaffinity");
	}

	/* one worker (0); vw_rcu_nworkers stays 0, so publishing a table
	 * does not wait for a grace period */
	f = aligned_alloc(64, (sizeof(*f) + 63) & ~(size_t)63);
	if (!f || vw_fwd_init(f, 0, 256)) {
		fprintf(stderr, "engine: cannot make the worker context\n");
		return 1;
	}
	if (colour)
		pool_colour(&f->pool);

	sws = calloc(nn, sizeof(*sws));
	if (!sws)
		return 1;
	for (i = 0; i < nn; i++) {
		bsw_build(&sws[i], ns[i], ndst);
		if (!quiet)
			printf("# switch of %u VNICs + uplink built in %.3f s (%u attaches)\n", ns[i], sws[i].build_s,
			       ns[i] + 1);
	}
	if (!quiet) {
		printf("# %u run(s) of %.1f CPU-s per case, median reported; 60-byte frames (64 on the wire)%s%s\n", runs,
		       secs, colour ? "; coloured pool" : "", ndst ? "; destinations limited" : "");
		fflush(stdout);
	}

	/* warm-up: every case once, briefly */
	for (s = s0; s < s1; s++)
		for (i = 0; i < nn; i++)
			for (j = 0; j < nb; j++)
				run(f, &sws[i], s, bs[j], 0.05);
	for (r = 0; r < runs; r++)
		for (s = s0; s < s1; s++)
			for (i = 0; i < nn; i++)
				for (j = 0; j < nb; j++) {
					struct result x = run(f, &sws[i], s, bs[j], secs);

					res[s][i][j][r] = x.mpps;
					wall[s][i][j][r] = x.mpps_wall;
					dpb[s][i][j] = x.dsts_per_batch;
				}

	for (s = s0; s < s1; s++) {
		double med[MAX_NS][MAX_BS];

		for (i = 0; i < nn; i++)
			for (j = 0; j < nb; j++) {
				double v[MAX_RUNS], w[MAX_RUNS];

				memcpy(v, res[s][i][j], runs * sizeof(double));
				memcpy(w, wall[s][i][j], runs * sizeof(double));
				qsort(v, runs, sizeof(double), dbl_cmp);
				qsort(w, runs, sizeof(double), dbl_cmp);
				med[i][j] = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
				printf("RESULT src=%s n=%u batch=%u mpps=%.2f min=%.2f max=%.2f ns_per_pkt=%.1f "
				       "dsts_per_batch=%.1f wall_mpps=%.2f\n",
				       src_name[s], ns[i], bs[j], med[i][j], v[0], v[runs - 1], 1000.0 / med[i][j],
				       dpb[s][i][j], runs % 2 ? w[runs / 2] : (w[runs / 2 - 1] + w[runs / 2]) / 2);
			}
		if (quiet)
			continue;
		printf("\nsource %s: Mpps per CPU-second (median of %u), rows N, columns batch%s\n", src_name[s], runs,
		       s == SRC_VNIC ? "; frames from VNIC 0 to VNICs of its VID"
				     : "; tagged frames from the uplink to any VNIC");
		printf("%8s", "N");
		for (j = 0; j < nb; j++)
			printf(" %8u", bs[j]);
		printf("   dsts/batch at %u\n", bs[nb - 1]);
		for (i = 0; i < nn; i++) {
			printf("%8u", ns[i]);
			for (j = 0; j < nb; j++)
				printf(" %8.2f", med[i][j]);
			printf("   %.1f\n", dpb[s][i][nb - 1]);
		}
		for (j = 0; j < nb; j++) {
			double lo = 1e30, hi = 0;

			for (i = 0; i < nn; i++) {
				lo = med[i][j] < lo ? med[i][j] : lo;
				hi = med[i][j] > hi ? med[i][j] : hi;
			}
			printf("spread across N at batch %2u: (max-min)/max = (%.2f-%.2f)/%.2f = %.1f%%\n", bs[j], hi,
			       lo, hi, 100.0 * (hi - lo) / hi);
		}
	}
	/* detach every port, one by one, as deleting the VNICs would */
	for (i = 0; i < nn; i++) {
		double t0 = now_s();
		unsigned k;

		for (k = 0; k < sws[i].n; k++)
			vw_switch_detach(sws[i].sw, sws[i].vnics[k]);
		vw_switch_detach(sws[i].sw, sws[i].uplink);
		if (!quiet)
			printf("# switch of %u VNICs + uplink: %u detaches in %.3f s\n", sws[i].n, sws[i].n + 1,
			       now_s() - t0);
		vw_switch_free(sws[i].sw);
		for (k = 0; k < sws[i].n; k++)
			free(sws[i].vnics[k]);
		free(sws[i].uplink);
		free(sws[i].vnics);
		free(sws[i].frames[SRC_VNIC]);
		free(sws[i].frames[SRC_UPLINK]);
		free(sws[i].pristine);
	}
	free(sws);
	vw_fwd_fini(f);
	if (colour)
		munmap(colour_mem, colour_len);
	return 0;
}
