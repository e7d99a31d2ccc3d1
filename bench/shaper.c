/*
 * bench/shaper.c: cost of datapath/shaper.c per item, and its rate accuracy
 * over full 10 s windows.
 *
 * Cost: items of 1514 bytes are enqueued in batches of 32 to random classes
 * (and random connections), then dequeued; the fake clock advances by the
 * time the batch takes at the root's rate, so the shaper runs saturated with
 * a short queue.  Figures are ns of thread CPU time per item (one enqueue
 * plus its dequeue), median of RUNS runs of 2M items.  Cases:
 *   nolimit   root without a limit (queueing alone)
 *   root      root 10 Gb/s, classes without guarantee or ceiling
 *   guar      root 10 Gb/s, each class a guarantee of 10G/(2 classes) and a
 *             ceiling of 10G/classes*4 (the heap of waiting classes in use)
 *   fair      as root, every class with fairness=conn (at most 64 fair)
 *   prio      as root, classes spread over the three priorities
 *   over      as fair, each class with a 1 MiB limit, offered twice the
 *             root's rate from a new connection per item: a fair class
 *             stays at its limit with up to 692 connections of one item
 *             queued, and every second item is refused (no connection
 *             is fat; with 1,000 classes the 4,096 item slots run out
 *             first)
 * each with 1 and 1,000 classes.
 *
 * Accuracy (-a): a greedy source of one item size, the worker waking up to
 * 20 us late, achieved/configured rate over the 10 s after a 1 s warm-up.
 * Usage: shaper [-r RUNS] [-a] [-c CPU]
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

#include "datapath/shaper.h"

#define MAX_RUNS 15
#define BATCH 32
#define ITEMS (2 * 1000 * 1000)

static uint32_t rng = 0x12345678;

static uint32_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint64_t drops;
static void on_drop(void *arg, void *item, uint32_t bytes, int why)
{
	(void)arg, (void)item, (void)bytes, (void)why;
	drops++;
}

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum { C_NOLIMIT, C_ROOT, C_GUAR, C_FAIR, C_PRIO, C_OVER, NCASES };
static const char *const case_names[NCASES] = { "nolimit", "root", "guar", "fair", "prio", "over" };

static struct vw_shaper *make(int kind, int ncls, int *ids)
{
	struct vw_shaper_cfg cfg = {
		.maxbw = kind == C_NOLIMIT ? 0 : 10000000000ULL,
		.max_items = 4096,
		.max_classes = (uint32_t)ncls + 1,
		.max_fair = 64,
		.drop = on_drop,
	};
	struct vw_shaper *s;
	char err[128];
	int i;

	if (vw_shaper_create(&cfg, 0, &s, err, sizeof(err))) {
		fprintf(stderr, "shaper: %s\n", err);
		exit(1);
	}
	for (i = 0; i < ncls; i++) {
		struct vw_shaper_class_cfg c = { 0 };

		if (kind == C_GUAR) {
			c.guarantee = cfg.maxbw / 2 / (uint64_t)ncls;
			c.maxbw = cfg.maxbw / (uint64_t)ncls * 4;
		}
		if (kind == C_FAIR || kind == C_OVER)
			c.fair_conn = i < 64;
		if (kind == C_OVER)
			c.limit = 1 << 20;
		if (kind == C_PRIO)
			c.priority = (enum vw_shaper_prio)(i % 3);
		ids[i] = i + 1;
		if (vw_shaper_class_add(s, ids[i], &c, 0, err, sizeof(err))) {
			fprintf(stderr, "shaper: class: %s\n", err);
			exit(1);
		}
	}
	return s;
}

static double cost(int kind, int ncls)
{
	static int ids[1000];
	static char buf[BATCH];
	void *items[BATCH];
	uint32_t bytes[BATCH];
	struct vw_shaper *s = make(kind, ncls, ids);
	uint64_t now = 0, step = 1514ULL * 8 * BATCH / 10;   /* ns per batch at 10G */
	long out = 0, in = 0, want = ITEMS / 10 * 9;
	double t0;
	int i, n;

	if (kind == C_OVER) {           /* twice the rate: half goes */
		step /= 2;
		want /= 2;
	}
	t0 = cpu_ns();
	while (in < ITEMS) {
		for (i = 0; i < BATCH; i++, in++)
			vw_shaper_enqueue(s, ids[xorshift() % (uint32_t)ncls], xorshift(), &buf[i], 1514, now);
		now += step;
		while ((n = vw_shaper_dequeue(s, now, items, bytes, BATCH)) > 0)
			out += n;
	}
	t0 = cpu_ns() - t0;
	vw_shaper_destroy(s);
	if (out < want)
		fprintf(stderr, "shaper: %s/%d: only %ld of %ld items out\n",
			case_names[kind], ncls, out, in);
	return t0 / (double)in;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Greedy source, achieved/configured - 1 over [1 s, 11 s). */
static double accuracy(uint64_t rate, uint32_t size)
{
	struct vw_shaper_cfg cfg = {
		.maxbw = rate, .max_items = 64, .max_classes = 1, .drop = on_drop,
	};
	static char buf;
	void *items[64];
	uint32_t bytes[64];
	struct vw_shaper *s;
	uint64_t now = 0, t0 = 1000000000ULL, t1 = 11000000000ULL, got = 0, next;
	char err[128];
	int i, n;

	if (vw_shaper_create(&cfg, 0, &s, err, sizeof(err))) {
		fprintf(stderr, "shaper: %s\n", err);
		exit(1);
	}
	while (now < t1 + 1000000) {
		do {
			while (vw_shaper_enqueue(s, 0, 0, &buf, size, now) == 0)
				;
			n = vw_shaper_dequeue(s, now, items, bytes, 64);
			if (now >= t0 && now < t1)
				for (i = 0; i < n; i++)
					got += bytes[i];
		} while (n > 0);
		next = vw_shaper_next_time(s);
		now = next + xorshift() % 20001;
	}
	vw_shaper_destroy(s);
	return (double)got * 8 / 10 / (double)rate - 1;
}

static const char *rate_str(uint64_t r)
{
	static char b[16];

	if (r >= 1000000000)
		snprintf(b, sizeof(b), "%lluG", (unsigned long long)(r / 1000000000));
	else if (r >= 1000000)
		snprintf(b, sizeof(b), "%lluM", (unsigned long long)(r / 1000000));
	else
		snprintf(b, sizeof(b), "%lluK", (unsigned long long)(r / 1000));
	return b;
}

static void usage(void)
{
	fprintf(stderr, "usage: shaper [-r RUNS] [-a] [-c CPU]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const int ncls[2] = { 1, 1000 };
	double res[NCASES][2][MAX_RUNS];
	int runs = 5, acc = 0, opt, k, c, r;

	while ((opt = getopt(argc, argv, "r:ac:")) != -1) {
		switch (opt) {
		case 'r':
			runs = atoi(optarg);
			if (runs < 1 || runs > MAX_RUNS)
				usage();
			break;
		case 'a':
			acc = 1;
			break;
		case 'c': {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(atoi(optarg), &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				perror("sched_setaffinity");
			break;
		}
		default:
			usage();
		}
	}
	for (r = 0; r < runs; r++)
		for (c = 0; c < NCASES; c++)
			for (k = 0; k < 2; k++)
				res[c][k][r] = cost(c, ncls[k]);
	printf("ns per item (enqueue + dequeue), 1514-byte items, median of %d runs of %d items\n",
	       runs, ITEMS);
	printf("%-8s %10s %12s\n", "case", "1 class", "1000 classes");
	for (c = 0; c < NCASES; c++) {
		for (k = 0; k < 2; k++)
			qsort(res[c][k], (size_t)runs, sizeof(double), cmp_d);
		printf("%-8s %10.1f %12.1f\n", case_names[c], res[c][0][runs / 2],
		       res[c][1][runs / 2]);
	}
	if (acc) {
		static const uint64_t rates[] = { 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
						  1000000000ULL, 5000000000ULL };
		static const uint32_t sizes[] = { 64, 1514, 9014, 65536 };
		size_t i, j;

		printf("\nachieved/configured - 1 over 10 s, greedy, wake-ups up to 20 us late "
		       "('-': above vw_shaper_max_item)\n%-6s", "rate");
		for (j = 0; j < 4; j++)
			printf(" %8u B", sizes[j]);
		printf("   max item\n");
		for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
			uint32_t mi = vw_shaper_max_item(rates[i]);

			printf("%-6s", rate_str(rates[i]));
			for (j = 0; j < 4; j++)
				if (sizes[j] > mi)
					printf(" %10s", "-");
				else
					printf(" %+9.3f%%", accuracy(rates[i], sizes[j]) * 100);
			printf("   %u B: %+.3f%%\n", mi, accuracy(rates[i], mi) * 100);
			fflush(stdout);
		}
	}
	return 0;
}
