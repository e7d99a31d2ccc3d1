/*
 * Unit tests for datapath/shaper.c: deterministic simulations on a fake
 * clock.  Sources are greedy (keep a number of items queued), constant bit
 * rate, or TCP-like (AIMD window, fixed RTT, a loss halves the window at
 * most once per RTT).  The "worker" wakes when the shaper says (plus a
 * random lateness, as a real timer has), at every arrival and at every
 * returning acknowledgement.  All times are simulated: nothing here
 * depends on the speed of the machine.
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

#include "datapath/shaper.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define K 1000ULL
#define M 1000000ULL
#define G 1000000000ULL
#define NEVER UINT64_MAX
#define MAXFLOWS 16
#define MAXWIN 8
#define ACKRING 16384
#define BATCH 32

enum { SRC_GREEDY, SRC_CBR, SRC_TCP };

struct flow;

struct titem {
	struct flow *f;
	uint32_t bytes;
	uint64_t t;
	uint64_t seq;
	int state;          /* 1 queued, 0 free */
	struct titem *next_free;
};

struct flow {
	int kind, cls;
	uint32_t hash, size;
	uint32_t depth;              /* greedy: items kept queued */
	uint64_t period, next_send;  /* cbr */
	uint64_t start, stop;        /* sends in [start, stop) */
	double cwnd, ssthresh;       /* tcp */
	uint32_t inflight;
	uint64_t rtt, last_loss;
	uint64_t acks[ACKRING];
	uint32_t ack_h, ack_n;
	uint32_t queued;
	uint64_t seq_in, last_seq;
	bool any_out;
	uint64_t out_bytes, out_pkts, lost, refused;
	uint64_t win[MAXWIN];
	uint64_t *delay;             /* per-item sojourn, if recorded */
	uint32_t ndelay, maxdelay;
	uint64_t delay_from;         /* record only after this time */
};

struct sim {
	struct vw_shaper *s;
	uint64_t now, jitter;
	uint32_t rng;
	struct flow fl[MAXFLOWS];
	int nfl;
	uint64_t t0, win;
	int nwin;
	struct titem *pool, *free;
	uint32_t npool;
	uint64_t stuck, misorder;
	/* burst check: max over i <= k of out(i..k) - R (t_k - t_i) */
	uint64_t rate;
	double cum, minv, worst;
	uint64_t max_item;
};

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void item_free(struct sim *sim, struct titem *it)
{
	assert_int_equal(it->state, 1);
	it->state = 0;
	it->next_free = sim->free;
	sim->free = it;
}

static void flow_loss(struct sim *sim, struct flow *f)
{
	f->lost++;
	if (f->kind != SRC_TCP)
		return;
	f->inflight--;
	if (!f->last_loss || sim->now - f->last_loss > f->rtt) {
		f->cwnd /= 2;
		if (f->cwnd < 2)
			f->cwnd = 2;
		f->ssthresh = f->cwnd;
		f->last_loss = sim->now;
	}
}

static void sim_drop(void *arg, void *item, uint32_t bytes, int why)
{
	struct sim *sim = arg;
	struct titem *it = item;

	assert_int_equal(bytes, it->bytes);
	it->f->queued--;
	if (why == 0) {       /* vw_shaper_destroy() */
		item_free(sim, it);
		return;
	}
	assert_int_equal(why, VW_SHAPER_DROP_CODEL);
	flow_loss(sim, it->f);
	item_free(sim, it);
}

static int destroy_drops;
static void count_drop(void *arg, void *item, uint32_t bytes, int why)
{
	(void)arg, (void)item, (void)bytes;
	assert_int_equal(why, 0);
	destroy_drops++;
}

static void base_cfg(struct vw_shaper_cfg *cfg, uint64_t maxbw)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->maxbw = maxbw;
	cfg->max_items = 8192;
	cfg->max_classes = 16;
	cfg->max_fair = 2;
	cfg->seed = 0x1234567;
	cfg->drop = sim_drop;
}

static struct sim *sim_new(struct vw_shaper_cfg *cfg)
{
	struct sim *sim = calloc(1, sizeof(*sim));
	char err[128];
	uint32_t i;

	assert_non_null(sim);
	cfg->drop_arg = sim;
	assert_int_equal(vw_shaper_create(cfg, 0, &sim->s, err, sizeof(err)), 0);
	sim->npool = cfg->max_items + 64;
	sim->pool = calloc(sim->npool, sizeof(*sim->pool));
	assert_non_null(sim->pool);
	for (i = 0; i < sim->npool; i++)
		item_free(sim, (sim->pool[i].state = 1, &sim->pool[i]));
	sim->rng = 0x9e3779b9;
	sim->win = 10 * SEC;
	sim->nwin = 1;
	sim->minv = 0;
	return sim;
}

static void sim_free(struct sim *sim)
{
	int i;

	assert_int_equal(sim->stuck, 0);
	assert_int_equal(sim->misorder, 0);
	vw_shaper_destroy(sim->s);
	for (i = 0; i < sim->nfl; i++)
		free(sim->fl[i].delay);
	free(sim->pool);
	free(sim);
}

static struct flow *flow_add(struct sim *sim, int kind, int cls, uint32_t size)
{
	struct flow *f = &sim->fl[sim->nfl];

	assert_true(sim->nfl < MAXFLOWS);
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->cls = cls;
	f->size = size;
	f->hash = (uint32_t)(sim->nfl + 1) * 0x45d9f3bu;
	f->stop = NEVER;
	f->depth = 16;
	f->cwnd = 2;
	f->ssthresh = 1e9;
	f->rtt = 20 * MS;
	sim->nfl++;
	return f;
}

static void flow_record(struct flow *f, uint32_t n, uint64_t from)
{
	f->delay = calloc(n, sizeof(uint64_t));
	assert_non_null(f->delay);
	f->maxdelay = n;
	f->delay_from = from;
}

static void sim_send(struct sim *sim, struct flow *f)
{
	struct titem *it = sim->free;
	int rc;

	assert_non_null(it);
	sim->free = it->next_free;
	it->state = 1;
	it->f = f;
	it->bytes = f->size;
	it->t = sim->now;
	it->seq = ++f->seq_in;
	if (f->kind == SRC_TCP)
		f->inflight++;
	rc = vw_shaper_enqueue(sim->s, f->cls, f->hash, it, f->size, sim->now);
	if (rc) {
		f->refused++;
		flow_loss(sim, f);
		item_free(sim, it);
		return;
	}
	f->queued++;
}

static void sim_events(struct sim *sim)
{
	int i;

	for (i = 0; i < sim->nfl; i++) {
		struct flow *f = &sim->fl[i];
		bool on = sim->now >= f->start && sim->now < f->stop;

		switch (f->kind) {
		case SRC_GREEDY:
			while (on && f->queued < f->depth) {
				uint64_t r = f->refused;

				sim_send(sim, f);
				if (f->refused != r)
					break;
			}
			break;
		case SRC_CBR:
			if (f->next_send < f->start)
				f->next_send = f->start;
			while (on && f->next_send <= sim->now) {
				sim_send(sim, f);
				f->next_send += f->period;
			}
			break;
		case SRC_TCP:
			while (f->ack_n && f->acks[f->ack_h] <= sim->now) {
				f->ack_h = (f->ack_h + 1) % ACKRING;
				f->ack_n--;
				f->inflight--;
				if (f->cwnd < f->ssthresh)
					f->cwnd += 1;
				else
					f->cwnd += 1 / f->cwnd;
				if (f->cwnd > ACKRING / 2)
					f->cwnd = ACKRING / 2;
			}
			while (on && f->inflight < (uint32_t)f->cwnd) {
				uint64_t r = f->refused;

				sim_send(sim, f);
				if (f->refused != r)
					break;   /* lost; sent again later */
			}
			break;
		}
	}
}

static void sim_out(struct sim *sim, struct titem *it, uint32_t bytes)
{
	struct flow *f = it->f;
	uint64_t now = sim->now;
	double v;

	assert_int_equal(bytes, it->bytes);
	f->queued--;
	f->out_bytes += bytes;
	f->out_pkts++;
	if (f->any_out && it->seq <= f->last_seq)
		sim->misorder++;
	f->any_out = true;
	f->last_seq = it->seq;
	if (now >= sim->t0 && (now - sim->t0) / sim->win < (uint64_t)sim->nwin)
		f->win[(now - sim->t0) / sim->win] += bytes;
	if (f->delay && f->ndelay < f->maxdelay && it->t >= f->delay_from)
		f->delay[f->ndelay++] = now - it->t;
	if (f->kind == SRC_TCP) {
		assert_true(f->ack_n < ACKRING);
		f->acks[(f->ack_h + f->ack_n++) % ACKRING] = now + f->rtt;
	}
	if (sim->rate) {
		/* bytes (i..k) - R (t_k - t_i) = (cum_k - R t_k) - (cum_{i-1} - R t_i) */
		double rt = (double)now * (double)sim->rate / 8e9;

		if (sim->cum - rt < sim->minv || !sim->max_item)
			sim->minv = sim->cum - rt;
		sim->cum += bytes;
		v = sim->cum - rt - sim->minv;
		if (v > sim->worst)
			sim->worst = v;
		if (bytes > sim->max_item)
			sim->max_item = bytes;
	}
	item_free(sim, it);
}

static void sim_run(struct sim *sim, uint64_t until)
{
	void *items[BATCH];
	uint32_t bytes[BATCH];

	while (sim->now < until) {
		uint64_t next;
		int n, i, loops = 0;

		do {
			sim_events(sim);
			n = vw_shaper_dequeue(sim->s, sim->now, items, bytes, BATCH);
			for (i = 0; i < n; i++)
				sim_out(sim, items[i], bytes[i]);
		} while (n > 0 && ++loops < 1000);
		if (n > 0)
			continue;       /* a greedy source keeps it busy */
		next = vw_shaper_next_time(sim->s);
		if (next != NEVER && next <= sim->now)
			sim->stuck++;
		if (next != NEVER && sim->jitter)
			next += xorshift(&sim->rng) % (sim->jitter + 1);
		for (i = 0; i < sim->nfl; i++) {
			struct flow *f = &sim->fl[i];
			uint64_t t = NEVER;

			if (f->start > sim->now)
				t = f->start;
			else if (f->kind == SRC_CBR && f->next_send < f->stop)
				t = f->next_send > f->start ? f->next_send : f->start;
			else if (f->kind == SRC_TCP && f->ack_n)
				t = f->acks[f->ack_h];
			if (t < next)
				next = t;
		}
		if (next > until)
			next = until;
		sim->now = next > sim->now ? next : sim->now + 1;
	}
}

static double jain(const double *x, int n)
{
	double s = 0, s2 = 0;
	int i;

	for (i = 0; i < n; i++) {
		s += x[i];
		s2 += x[i] * x[i];
	}
	return s2 > 0 ? s * s / (n * s2) : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(struct flow *f, double p)
{
	uint32_t k;

	assert_true(f->ndelay > 0);
	qsort(f->delay, f->ndelay, sizeof(uint64_t), cmp_u64);
	k = (uint32_t)(p * (f->ndelay - 1) + 0.5);
	return f->delay[k];
}

/* Bits/s of flow f in window w. */
static double wrate(struct sim *sim, struct flow *f, int w)
{
	return (double)f->win[w] * 8e9 / (double)sim->win;
}

static int add_class(struct sim *sim, uint64_t g, uint64_t maxbw, int prio, bool fair)
{
	struct vw_shaper_class_cfg c = {
		.guarantee = g, .maxbw = maxbw, .priority = prio, .fair_conn = fair,
	};
	char err[128];
	int id = 1;

	while (vw_shaper_class_stats(sim->s, id, &(struct vw_shaper_stats){ 0 }) == 0)
		id++;
	if (vw_shaper_class_add(sim->s, id, &c, sim->now, err, sizeof(err)))
		fail_msg("class_add: %s", err);
	return id;
}

static const char *rate_str(uint64_t r)
{
	static char buf[4][16];
	static int k;
	char *b = buf[k++ & 3];

	if (r >= G)
		snprintf(b, 16, "%gG", (double)r / G);
	else if (r >= M)
		snprintf(b, 16, "%gM", (double)r / M);
	else
		snprintf(b, 16, "%gK", (double)r / K);
	return b;
}

/* ---- rate accuracy ---- */

/* Achieved/configured - 1 for a greedy source of size-byte items. */
static double accuracy(uint64_t rate, uint32_t size, uint64_t max_items)
{
	struct vw_shaper_cfg cfg;
	struct sim *sim;
	struct flow *f;
	uint64_t win, warm;
	double err;

	base_cfg(&cfg, rate);
	sim = sim_new(&cfg);
	f = flow_add(sim, SRC_GREEDY, 0, size);
	f->depth = 8;
	/* 10 s, or fewer when that is more than max_items items (the error
	 * is one item per window whatever its length) */
	win = 10 * SEC;
	if ((double)win * rate / 8e9 / size > (double)max_items)
		win = (uint64_t)((double)max_items * size * 8e9 / rate);
	if (win < 20 * MS)
		win = 20 * MS;
	warm = win / 10 > 20 * MS ? win / 10 : 20 * MS;
	sim->jitter = 20000;   /* wakes up to 20 us late */
	sim->t0 = warm;
	sim->win = win;
	sim_run(sim, warm + win + MS);
	err = (double)f->win[0] * 8e9 / (double)win / (double)rate - 1;
	sim_free(sim);
	return err;
}

static void test_rate_accuracy(void **state)
{
	static const uint64_t rates[] = { 100 * K, 1 * M, 10 * M, 100 * M, 1 * G, 5 * G, 10 * G };
	static const uint32_t sizes[] = { 64, 512, 1514, 9014, 65536 };
	char line[256];
	size_t i, j;
	int n;

	(void)state;
	print_message("rate accuracy, greedy source, wakes up to 20 us late "
		      "(achieved/configured - 1; '-' = bigger than vw_shaper_max_item)\n");
	n = snprintf(line, sizeof(line), "%-6s", "rate");
	for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %9u B", sizes[j]);
	print_message("%s   max item\n", line);
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint32_t mi = vw_shaper_max_item(rates[i]);

		n = snprintf(line, sizeof(line), "%-6s", rate_str(rates[i]));
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			double e;

			if (sizes[j] > mi) {
				n += snprintf(line + n, sizeof(line) - (size_t)n, " %11s", "-");
				continue;
			}
			e = accuracy(rates[i], sizes[j], 400000);
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %+10.3f%%", e * 100);
			if (e >= 0.02 || e <= -0.02)
				fail_msg("%s: %u B: %+.3f%%", line, sizes[j], e * 100);
		}
		if (mi != 1514 && mi != 65536) {
			double e = accuracy(rates[i], mi, 400000);

			print_message("%s   %6u B %+.3f%%\n", line, mi, e * 100);
			assert_true(e < 0.02 && e > -0.02);
		} else {
			print_message("%s   %6u B\n", line, mi);
		}
	}
}

static void test_max_item(void **state)
{
	(void)state;
	assert_int_equal(vw_shaper_max_item(100 * K), 1514);
	assert_int_equal(vw_shaper_max_item(1 * M), 1514);
	assert_int_equal(vw_shaper_max_item(100 * M), 12500);
	assert_int_equal(vw_shaper_max_item(1 * G), VW_SHAPER_ITEM_MAX > 125000 ? 125000 : VW_SHAPER_ITEM_MAX);
	assert_int_equal(vw_shaper_max_item(10 * G), VW_SHAPER_ITEM_MAX);
	assert_int_equal(vw_shaper_max_item(0), VW_SHAPER_ITEM_MAX);
}

/* ---- burst, ping, next_time ---- */

static void test_burst_bound(void **state)
{
	static const uint64_t rates[] = { 1 * M, 100 * M, 5 * G };
	size_t r;

	(void)state;
	for (r = 0; r < 3; r++) {
		struct vw_shaper_cfg cfg;
		struct sim *sim;
		struct flow *f;
		uint64_t burst = 2 * 1514 > rates[r] / 8000 ? 2 * 1514 : rates[r] / 8000;
		uint32_t mi = vw_shaper_max_item(rates[r]);
		int k;

		base_cfg(&cfg, rates[r]);
		sim = sim_new(&cfg);
		sim->rate = rates[r];
		sim->jitter = 100000;
		/* idle, then a greedy source that takes the whole burst at
		 * once, then TCP-like sources of mixed sizes on and off */
		f = flow_add(sim, SRC_GREEDY, 0, mi);
		f->start = 100 * MS;
		f->stop = 300 * MS;
		f->depth = (uint32_t)(burst / mi) + 4;
		for (k = 1; k < 4; k++) {
			f = flow_add(sim, SRC_TCP, 0, k == 1 ? 64 : k == 2 ? 1514 : mi);
			f->start = (uint64_t)(k + 3) * 100 * MS;
			f->stop = f->start + 700 * MS;
		}
		sim_run(sim, 2 * SEC);
		print_message("%-5s burst %7llu B: worst excess over rate x T %9.0f B "
			      "(bound: burst + one item = %llu B)\n",
			      rate_str(rates[r]), (unsigned long long)burst, sim->worst,
			      (unsigned long long)(burst + sim->max_item));
		assert_true(sim->worst <= (double)(burst + sim->max_item) + 1);
		assert_true(sim->worst >= (double)burst);  /* the burst is used */
		sim_free(sim);
	}
}

static void test_ping_1m(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper *s;
	void *items[4];
	uint32_t bytes[4];
	char err[128];
	int i, x[10];
	uint64_t now = 5 * SEC;

	(void)state;
	base_cfg(&cfg, 1 * M);
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	for (i = 0; i < 10; i++, now += SEC) {
		/* echo request out, echo reply back in: 98-byte frames */
		assert_int_equal(vw_shaper_enqueue(s, 0, 1, &x[i], 98, now), 0);
		assert_int_equal(vw_shaper_dequeue(s, now, items, bytes, 4), 1);
		assert_ptr_equal(items[0], &x[i]);
		assert_int_equal(vw_shaper_next_time(s), NEVER);
	}
	vw_shaper_destroy(s);
}

static void test_next_time(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper *s;
	void *items[8];
	uint32_t bytes[8];
	char err[128];
	int x[8], i;
	uint64_t now = SEC, t;

	(void)state;
	base_cfg(&cfg, 1 * M);    /* burst 3028 B */
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(vw_shaper_enqueue(s, 0, 1, &x[i], 1514, now), 0);
	/* full bucket 3028: two frames leave it at 0, a third takes it negative */
	assert_int_equal(vw_shaper_dequeue(s, now, items, bytes, 8), 3);
	assert_ptr_equal(items[2], &x[2]);
	t = vw_shaper_next_time(s);
	assert_in_range(t, now + 12112000, now + 12112001);    /* 1514 B at 1 Mb/s */
	assert_int_equal(vw_shaper_dequeue(s, t - 1, items, bytes, 8), 0);
	assert_int_equal(vw_shaper_next_time(s), t);
	assert_int_equal(vw_shaper_dequeue(s, t, items, bytes, 8), 1);
	assert_ptr_equal(items[0], &x[3]);
	assert_in_range(vw_shaper_next_time(s), t + 12111999, t + 12112001);
	/* a batch of one, then the rest */
	assert_int_equal(vw_shaper_dequeue(s, t + 100 * MS, items, bytes, 1), 1);
	assert_int_equal(vw_shaper_next_time(s), NEVER);
	/* no limit: everything at once, time going backwards is harmless */
	assert_int_equal(vw_shaper_set_rate(s, 0, t, err, sizeof(err)), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(vw_shaper_enqueue(s, 0, 1, &x[i], 60000, t - SEC), 0);
	assert_int_equal(vw_shaper_next_time(s), t + 100 * MS);
	assert_int_equal(vw_shaper_dequeue(s, 0, items, bytes, 8), 8);
	vw_shaper_destroy(s);
}

/* ---- CoDel, limits ---- */

static void test_codel_overload(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper_stats st;
	struct sim *sim;
	struct flow *f[4];
	uint64_t p50, p90;
	int k;

	(void)state;
	/* four TCP-like senders into a 10 Mb/s link: CoDel keeps the queue
	 * near its 5 ms target and drops at the head, the limit is never hit */
	base_cfg(&cfg, 10 * M);
	sim = sim_new(&cfg);
	for (k = 0; k < 4; k++)
		f[k] = flow_add(sim, SRC_TCP, 0, 1514);
	flow_record(f[0], 100000, 5 * SEC);
	sim_run(sim, 20 * SEC);
	assert_int_equal(vw_shaper_class_stats(sim->s, 0, &st), 0);
	p50 = pct(f[0], 0.5);
	p90 = pct(f[0], 0.9);
	print_message("CoDel, 4 TCP at 10M: %llu codel drops, %llu tail drops, sojourn p50 %.1f ms "
		      "p90 %.1f ms\n", (unsigned long long)st.drops[VW_SHAPER_DROP_CODEL],
		      (unsigned long long)st.drops[VW_SHAPER_DROP_LIMIT], p50 / 1e6, p90 / 1e6);
	assert_true(st.drops[VW_SHAPER_DROP_CODEL] > 20);
	assert_int_equal(st.drops[VW_SHAPER_DROP_LIMIT], 0);
	assert_true(p50 < 3 * 5 * MS);
	assert_true(p90 < 5 * 5 * MS);
	sim_free(sim);

	/* the same without CoDel (target 4 s): the queue fills to its limit */
	base_cfg(&cfg, 10 * M);
	cfg.codel_target = cfg.codel_interval = 4000000000u;
	sim = sim_new(&cfg);
	for (k = 0; k < 4; k++)
		f[k] = flow_add(sim, SRC_TCP, 0, 1514);
	flow_record(f[0], 100000, 5 * SEC);
	sim_run(sim, 20 * SEC);
	assert_int_equal(vw_shaper_class_stats(sim->s, 0, &st), 0);
	print_message("  without CoDel: %llu tail drops, sojourn p50 %.1f ms\n",
		      (unsigned long long)st.drops[VW_SHAPER_DROP_LIMIT], pct(f[0], 0.5) / 1e6);
	assert_int_equal(st.drops[VW_SHAPER_DROP_CODEL], 0);
	assert_true(pct(f[0], 0.5) > 5 * p50);
	sim_free(sim);

	/* unresponsive overload (twice the rate): CoDel drops, and so does
	 * the byte limit; the two are counted apart */
	base_cfg(&cfg, 10 * M);
	sim = sim_new(&cfg);
	f[0] = flow_add(sim, SRC_CBR, 0, 1250);
	f[0]->period = 500000;     /* 20 Mb/s */
	sim_run(sim, 10 * SEC);
	assert_int_equal(vw_shaper_class_stats(sim->s, 0, &st), 0);
	print_message("CoDel, 20M unresponsive into 10M: %llu codel drops, %llu tail drops\n",
		      (unsigned long long)st.drops[VW_SHAPER_DROP_CODEL],
		      (unsigned long long)st.drops[VW_SHAPER_DROP_LIMIT]);
	assert_true(st.drops[VW_SHAPER_DROP_CODEL] > 100);
	assert_int_equal(st.drops[VW_SHAPER_DROP_CODEL] + st.drops[VW_SHAPER_DROP_LIMIT],
			 f[0]->lost);
	sim_free(sim);
}

static void test_codel_short_burst(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper_stats st;
	struct sim *sim;
	struct flow *f;
	int k;

	(void)state;
	/* 60 frames at once into 10 Mb/s: 73 ms to drain, above target for
	 * less than an interval: no drop */
	base_cfg(&cfg, 10 * M);
	sim = sim_new(&cfg);
	f = flow_add(sim, SRC_CBR, 0, 1514);
	f->period = 1;
	f->start = SEC;
	f->stop = SEC + 60;
	sim_run(sim, 3 * SEC);
	assert_int_equal(vw_shaper_class_stats(sim->s, 0, &st), 0);
	assert_int_equal(st.drops[VW_SHAPER_DROP_CODEL], 0);
	assert_int_equal(f->out_pkts, 60);
	assert_true(st.sojourn > 60 * MS);
	/* the same burst every 200 ms: still none */
	for (k = 0; k < 10; k++) {
		f->start = f->next_send = 3 * SEC + (uint64_t)k * 200 * MS;
		f->stop = f->start + 60;
		sim_run(sim, f->start + 200 * MS);
	}
	assert_int_equal(f->out_pkts, 660);
	assert_int_equal(vw_shaper_class_stats(sim->s, 0, &st), 0);
	assert_int_equal(st.drops[VW_SHAPER_DROP_CODEL], 0);
	sim_free(sim);
}

static void test_limits(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper_stats st, rs;
	struct vw_shaper *s;
	char err[128];
	int x[32], i, id;
	struct vw_shaper_class_cfg c = { .limit = 10000, .priority = VW_SHAPER_LOW };

	(void)state;
	base_cfg(&cfg, 1 * M);
	cfg.max_items = 10;
	cfg.drop = count_drop;
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	id = 3;
	assert_int_equal(vw_shaper_class_add(s, id, &c, 0, err, sizeof(err)), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(vw_shaper_enqueue(s, id, 0, &x[i], 1514, 0), 0);
	assert_int_equal(vw_shaper_enqueue(s, id, 0, &x[6], 1514, 0), VW_SHAPER_DROP_LIMIT);
	assert_int_equal(vw_shaper_enqueue(s, id, 0, &x[7], 1000, 0), VW_SHAPER_DROP_LIMIT);
	assert_int_equal(vw_shaper_enqueue(s, id, 0, &x[8], 916, 0), 0);  /* exactly 10000 */
	/* slots: 7 used of 10 */
	for (i = 9; i < 12; i++)
		assert_int_equal(vw_shaper_enqueue(s, 0, 0, &x[i], 100, 0), 0);
	assert_int_equal(vw_shaper_enqueue(s, 0, 0, &x[12], 100, 0), VW_SHAPER_DROP_FULL);
	assert_int_equal(vw_shaper_class_stats(s, id, &st), 0);
	assert_int_equal(st.drops[VW_SHAPER_DROP_LIMIT], 2);
	assert_int_equal(st.drops[VW_SHAPER_DROP_CODEL], 0);
	assert_int_equal(st.drop_bytes, 2514);
	assert_int_equal(st.qlen, 7);
	assert_int_equal(st.qbytes, 10000);
	vw_shaper_root_stats(s, &rs);
	assert_int_equal(rs.drops[VW_SHAPER_DROP_LIMIT], 2);
	assert_int_equal(rs.drops[VW_SHAPER_DROP_FULL], 1);
	assert_int_equal(rs.qlen, 10);
	assert_int_equal(rs.qbytes, 10300);
	assert_string_equal(vw_shaper_drop_name(VW_SHAPER_DROP_LIMIT), "limit");
	assert_string_equal(vw_shaper_drop_name(VW_SHAPER_DROP_CODEL), "codel");
	vw_shaper_destroy(s);     /* the drop callback frees the rest */
}

/* Over its limit a fair class drops from the head of its fattest
 * connection and takes the arriving item. */
static void *limit_dropped[8];
static int limit_ndropped;
static void limit_drop(void *arg, void *item, uint32_t bytes, int why)
{
	(void)arg, (void)bytes;
	if (why == 0)
		return;
	assert_int_equal(why, VW_SHAPER_DROP_LIMIT);
	assert_true(limit_ndropped < 8);
	limit_dropped[limit_ndropped++] = item;
}

static void test_fair_limit(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper_stats st;
	struct vw_shaper *s;
	char err[128];
	void *out[16];
	uint32_t ob[16];
	int x[16], i, n, seen_b = 0, next = 2;
	struct vw_shaper_class_cfg c = { .limit = 10000, .fair_conn = true };

	(void)state;
	base_cfg(&cfg, 1 * M);
	cfg.drop = limit_drop;
	limit_ndropped = 0;
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(vw_shaper_class_add(s, 1, &c, 0, err, sizeof(err)), 0);
	/* connection A queues 6 frames (9084 bytes) */
	for (i = 0; i < 6; i++)
		assert_int_equal(vw_shaper_enqueue(s, 1, 0xa, &x[i], 1514, 0), 0);
	/* B's frame does not fit: A's oldest goes, B's is taken */
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xb, &x[6], 1514, 0), 0);
	assert_int_equal(limit_ndropped, 1);
	assert_ptr_equal(limit_dropped[0], &x[0]);
	/* A, still the fattest, pays for its own next frame too */
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xa, &x[7], 1514, 0), 0);
	assert_int_equal(limit_ndropped, 2);
	assert_ptr_equal(limit_dropped[1], &x[1]);
	/* an item bigger than the whole limit is refused, nothing dropped */
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xb, &x[8], 10001, 0), VW_SHAPER_DROP_LIMIT);
	assert_int_equal(limit_ndropped, 2);
	assert_int_equal(vw_shaper_class_stats(s, 1, &st), 0);
	assert_int_equal(st.drops[VW_SHAPER_DROP_LIMIT], 3);
	assert_int_equal(st.drop_bytes, 2 * 1514 + 10001);
	assert_int_equal(st.qlen, 6);
	assert_int_equal(st.qbytes, 6 * 1514);
	/* what is left comes out in each connection's order: A 2..5, 7, B 6 */
	for (n = 0, i = 1; i <= 100 && n < 6; i++)      /* 1 Mb/s: 12 ms a frame */
		n += vw_shaper_dequeue(s, (uint64_t)i * 10 * 1000000, out + n, ob + n, 16 - n);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		if (out[i] == &x[6]) {
			seen_b = 1;
			continue;
		}
		assert_ptr_equal(out[i], &x[next]);
		next = next == 5 ? 7 : next + 1;
	}
	assert_int_equal(seen_b, 1);
	assert_int_equal(next, 8);
	vw_shaper_destroy(s);

	/* when no connection has more than one frame queued, nobody built the
	 * queue: the arriving frame is refused */
	limit_ndropped = 0;
	c.limit = 5000;
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(vw_shaper_class_add(s, 1, &c, 0, err, sizeof(err)), 0);
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xa, &x[0], 1514, 0), 0);
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xb, &x[1], 1514, 0), 0);
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xa, &x[2], 1514, 0), 0);
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xc, &x[3], 1514, 0), 0);  /* A pays */
	assert_int_equal(limit_ndropped, 1);
	assert_ptr_equal(limit_dropped[0], &x[0]);
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xd, &x[4], 1514, 0), VW_SHAPER_DROP_LIMIT);
	assert_int_equal(limit_ndropped, 1);
	/* one connection grows past a frame again: it pays for the next */
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xb, &x[5], 100, 0), 0);
	assert_int_equal(limit_ndropped, 1);
	assert_int_equal(vw_shaper_enqueue(s, 1, 0xd, &x[6], 1514, 0), 0);
	assert_int_equal(limit_ndropped, 2);
	assert_ptr_equal(limit_dropped[1], &x[1]);
	assert_int_equal(vw_shaper_class_stats(s, 1, &st), 0);
	assert_int_equal(st.drops[VW_SHAPER_DROP_LIMIT], 3);
	vw_shaper_destroy(s);
}

static void test_bad_items(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper_stats rs;
	struct vw_shaper *s;
	char err[128];
	int x, id;
	struct vw_shaper_class_cfg c = { 0 };

	(void)state;
	base_cfg(&cfg, 1 * M);
	cfg.drop = count_drop;
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	id = 1;
	assert_int_equal(vw_shaper_class_add(s, id, &c, 0, err, sizeof(err)), 0);
	assert_int_equal(vw_shaper_enqueue(s, 0, 0, &x, 0, 0), VW_SHAPER_DROP_INVAL);
	assert_int_equal(vw_shaper_enqueue(s, 0, 0, &x, VW_SHAPER_ITEM_MAX + 1, 0), VW_SHAPER_DROP_INVAL);
	assert_int_equal(vw_shaper_enqueue(s, -1, 0, &x, 60, 0), VW_SHAPER_DROP_INVAL);
	assert_int_equal(vw_shaper_enqueue(s, 16, 0, &x, 60, 0), VW_SHAPER_DROP_INVAL);
	assert_int_equal(vw_shaper_enqueue(s, id + 1, 0, &x, 60, 0), VW_SHAPER_DROP_INVAL);
	assert_int_equal(vw_shaper_class_remove(s, id, 0, err, sizeof(err)), 0);
	assert_int_equal(vw_shaper_enqueue(s, id, 0, &x, 60, 0), VW_SHAPER_DROP_INVAL);
	assert_int_equal(vw_shaper_class_stats(s, id, &rs), -ENOENT);
	vw_shaper_root_stats(s, &rs);
	assert_int_equal(rs.drops[VW_SHAPER_DROP_INVAL], 6);
	assert_int_equal(rs.qlen, 0);
	/* destroy hands queued items to the callback */
	destroy_drops = 0;
	assert_int_equal(vw_shaper_enqueue(s, 0, 0, &x, 60, 0), 0);
	assert_int_equal(vw_shaper_enqueue(s, 0, 0, &x, 60, 0), 0);
	vw_shaper_destroy(s);
	assert_int_equal(destroy_drops, 2);
}

/* ---- priority ---- */

static void test_priority_order(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper *s;
	void *items[16];
	uint32_t bytes[16];
	char err[128];
	int x[3][5], cls[3], p, i, n = 0, got;
	uint64_t now = 0;

	(void)state;
	base_cfg(&cfg, 1 * M);
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	for (p = 2; p >= 0; p--) {
		struct vw_shaper_class_cfg c = { .priority = p };

		cls[p] = 3 - p;
		assert_int_equal(vw_shaper_class_add(s, cls[p], &c, 0, err, sizeof(err)), 0);
	}
	/* the bucket is full: take it down first, so that all queue */
	assert_int_equal(vw_shaper_enqueue(s, 0, 0, &x[0][0], 3028, 0), 0);
	assert_int_equal(vw_shaper_dequeue(s, 0, items, bytes, 16), 1);
	for (p = 2; p >= 0; p--)
		for (i = 0; i < 5; i++)
			assert_int_equal(vw_shaper_enqueue(s, cls[p], 0, &x[p][i], 1000, 0), 0);
	while (n < 15) {
		now = vw_shaper_next_time(s);
		got = vw_shaper_dequeue(s, now, items, bytes, 16);
		for (i = 0; i < got; i++, n++)
			assert_ptr_equal(items[i], &x[n / 5][n % 5]);
	}
	vw_shaper_destroy(s);
}

static void test_starvation_bound(void **state)
{
	struct vw_shaper_cfg cfg;
	struct sim *sim;
	struct flow *f[3];
	double r[3], tot;
	int p, c;

	(void)state;
	/* high and low greedy, no guarantees: low gets at least 1/16 */
	base_cfg(&cfg, 100 * M);
	sim = sim_new(&cfg);
	for (p = 0; p < 3; p += 2) {
		c = add_class(sim, 0, 0, p, false);
		f[p] = flow_add(sim, SRC_GREEDY, c, 1514);
	}
	sim->t0 = SEC;
	sim_run(sim, 11 * SEC + MS);
	r[0] = wrate(sim, f[0], 0);
	r[2] = wrate(sim, f[2], 0);
	print_message("high + low greedy at 100M: high %.2f%%, low %.2f%% (bound 1/16 = 6.25%%)\n",
		      r[0] / 1e6, r[2] / 1e6);
	assert_true(r[2] >= 100e6 / 16 * 0.99);
	assert_true(r[2] <= 100e6 / 16 * 1.1);
	assert_true(r[0] + r[2] > 99e6);
	sim_free(sim);

	/* three levels, TCP-like */
	base_cfg(&cfg, 100 * M);
	sim = sim_new(&cfg);
	for (p = 0; p < 3; p++) {
		c = add_class(sim, 0, 0, p, false);
		f[p] = flow_add(sim, SRC_TCP, c, 1514);
		flow_add(sim, SRC_TCP, c, 1514);
	}
	sim->t0 = SEC;
	sim_run(sim, 11 * SEC + MS);
	for (p = 0, tot = 0; p < 3; p++)
		tot += (r[p] = wrate(sim, f[p], 0) + wrate(sim, f[p] + 1, 0));
	print_message("high + medium + low TCP at 100M: %.2f / %.2f / %.2f Mb/s\n",
		      r[0] / 1e6, r[1] / 1e6, r[2] / 1e6);
	assert_true(tot > 98e6);
	assert_true(r[2] >= tot / 16 * 0.98);
	assert_true(r[1] >= (r[0] + r[1]) / 16 * 0.98);
	assert_true(r[0] > r[1] && r[1] >= r[2] * 0.9);
	sim_free(sim);
}

/* High-priority pings every 10 ms through a link saturated by low. */
static void prio_latency(bool separate, uint32_t bulk_size, uint64_t *p50, uint64_t *p99)
{
	struct vw_shaper_cfg cfg;
	struct sim *sim;
	struct flow *h;
	int k, lo = 0, hi = 0;

	base_cfg(&cfg, 100 * M);
	sim = sim_new(&cfg);
	sim->jitter = 50000;
	if (separate) {
		lo = add_class(sim, 0, 0, VW_SHAPER_LOW, false);
		hi = add_class(sim, 0, 0, VW_SHAPER_HIGH, false);
	}
	for (k = 0; k < 4; k++)
		flow_add(sim, SRC_TCP, lo, bulk_size);
	h = flow_add(sim, SRC_CBR, hi, 98);
	h->period = 10 * MS;
	h->start = h->next_send = SEC + 3 * MS;
	flow_record(h, 2000, 2 * SEC);
	sim_run(sim, 12 * SEC);
	assert_true(h->ndelay >= 990);
	*p50 = pct(h, 0.5);
	*p99 = pct(h, 0.99);
	assert_true(sim->fl[0].out_bytes > 0);
	sim_free(sim);
}

static void test_priority_latency(void **state)
{
	uint64_t p50, p99, f50, f99, s50, s99;

	(void)state;
	prio_latency(true, 1514, &p50, &p99);
	prio_latency(true, vw_shaper_max_item(100 * M), &s50, &s99);
	prio_latency(false, 1514, &f50, &f99);
	print_message("pings every 10 ms while 4 TCP saturate 100M: high/low classes p50 %.3f ms "
		      "p99 %.3f ms; with %u-byte super-frames p50 %.3f p99 %.3f; one FIFO class "
		      "p50 %.3f ms p99 %.3f ms\n", p50 / 1e6, p99 / 1e6,
		      vw_shaper_max_item(100 * M), s50 / 1e6, s99 / 1e6, f50 / 1e6, f99 / 1e6);
	assert_true(p99 <= 2 * MS);
	assert_true(s99 <= 2 * MS);
	assert_true(f99 > p99);
}

/* ---- guarantees and borrowing ---- */

struct gcase {
	const char *what;
	uint64_t g[2], ceil[2];
	int prio[2];
	bool on[2];
	double lo[2], hi[2];   /* Mb/s */
};

static void test_guarantee_borrow(void **state)
{
	static const struct gcase cases[] = {
		{ "30/70 both greedy", { 30 * M, 70 * M }, { 0, 0 }, { 1, 1 }, { 1, 1 },
		  { 29.5, 69.5 }, { 30.5, 70.5 } },
		{ "30/70, B idle", { 30 * M, 70 * M }, { 0, 0 }, { 1, 1 }, { 1, 0 },
		  { 98, 0 }, { 100.5, 0 } },
		{ "30/70, A idle", { 30 * M, 70 * M }, { 0, 0 }, { 1, 1 }, { 0, 1 },
		  { 0, 98 }, { 0, 100.5 } },
		{ "A 30 ceil 40, B 20", { 30 * M, 20 * M }, { 40 * M, 0 }, { 1, 1 }, { 1, 1 },
		  { 39, 59 }, { 40.1, 61 } },
		{ "A 30 ceil 40 alone", { 30 * M, 20 * M }, { 40 * M, 0 }, { 1, 1 }, { 1, 0 },
		  { 39, 0 }, { 40.1, 0 } },
		{ "A 10, B 50: excess shared", { 10 * M, 50 * M }, { 0, 0 }, { 1, 1 }, { 1, 1 },
		  { 29, 69 }, { 31, 71 } },
		{ "A 20 low, B 20 high", { 20 * M, 20 * M }, { 0, 0 }, { 2, 0 }, { 1, 1 },
		  { 20, 74 }, { 26, 80 } },
		{ "A 60 low, B none high", { 60 * M, 0 }, { 0, 0 }, { 2, 0 }, { 1, 1 },
		  { 60, 35 }, { 63, 40.1 } },
		{ "no guarantees, ceilings 10/20", { 0, 0 }, { 10 * M, 20 * M }, { 1, 1 }, { 1, 1 },
		  { 9.8, 19.6 }, { 10.05, 20.1 } },
	};
	size_t i;
	int k, tcp;

	(void)state;
	for (tcp = 0; tcp < 2; tcp++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct gcase *gc = &cases[i];
			struct vw_shaper_cfg cfg;
			struct sim *sim;
			struct flow *f[2][3];
			double r[2];
			int c[2], j;

			base_cfg(&cfg, 100 * M);
			sim = sim_new(&cfg);
			sim->jitter = 20000;
			for (k = 0; k < 2; k++) {
				c[k] = add_class(sim, gc->g[k], gc->ceil[k], gc->prio[k], false);
				for (j = 0; j < 3; j++) {
					f[k][j] = flow_add(sim, tcp ? SRC_TCP : SRC_GREEDY, c[k], 1514);
					if (!gc->on[k])
						f[k][j]->start = NEVER;
				}
			}
			sim->t0 = 2 * SEC;
			sim_run(sim, 12 * SEC + MS);
			for (k = 0; k < 2; k++)
				r[k] = (wrate(sim, f[k][0], 0) + wrate(sim, f[k][1], 0) +
					wrate(sim, f[k][2], 0)) / 1e6;
			print_message("%-30s %-6s A %6.2f  B %6.2f Mb/s\n", gc->what,
				      tcp ? "tcp" : "greedy", r[0], r[1]);
			for (k = 0; k < 2; k++) {
				assert_true(r[k] >= gc->lo[k]);
				assert_true(r[k] <= gc->hi[k]);
			}
			sim_free(sim);
		}
}

/* ---- fairness=conn ---- */

static void fairness(bool fair, bool tcp, double *jmin, double *jfifo_out)
{
	static const uint32_t sizes[] = { 64, 300, 1514, 9014, 576, 1514 };
	static const uint64_t rtts[] = { 10, 15, 20, 25, 30, 40 };
	struct vw_shaper_cfg cfg;
	struct sim *sim;
	double x[6], j;
	int k, w, c;

	(void)jfifo_out;
	base_cfg(&cfg, 20 * M);
	sim = sim_new(&cfg);
	c = add_class(sim, 0, 0, VW_SHAPER_MEDIUM, fair);
	for (k = 0; k < 6; k++) {
		struct flow *f = flow_add(sim, tcp ? SRC_TCP : SRC_GREEDY, c,
					  tcp ? 1514 : sizes[k]);

		f->rtt = rtts[k] * MS;
		f->depth = 16;
	}
	sim->t0 = 2 * SEC;
	sim->nwin = 3;
	sim_run(sim, 32 * SEC + MS);
	*jmin = 1;
	for (w = 0; w < 3; w++) {
		for (k = 0; k < 6; k++)
			x[k] = wrate(sim, &sim->fl[k], w);
		j = jain(x, 6);
		if (j < *jmin)
			*jmin = j;
		if (w == 0)
			print_message("  %s %s window 0: %.2f %.2f %.2f %.2f %.2f %.2f Mb/s, "
				      "Jain %.4f\n", fair ? "fair" : "fifo",
				      tcp ? "tcp (rtt 10..40 ms)" : "greedy (64..9014 B)",
				      x[0] / 1e6, x[1] / 1e6, x[2] / 1e6, x[3] / 1e6,
				      x[4] / 1e6, x[5] / 1e6, j);
	}
	sim_free(sim);
}

static void test_fairness(void **state)
{
	double jt, jg, ft, fg;

	(void)state;
	fairness(true, true, &jt, NULL);
	fairness(true, false, &jg, NULL);
	fairness(false, true, &ft, NULL);
	fairness(false, false, &fg, NULL);
	print_message("Jain's index, worst 10 s window of 3: fairness=conn TCP %.4f, "
		      "unequal sizes %.4f; without: TCP %.4f, unequal sizes %.4f\n", jt, jg, ft, fg);
	assert_true(jt >= 0.99);
	assert_true(jg >= 0.99);
}

/* Connections whose hashes all name the same bucket still get a bucket
 * each while there are free ones near it: equal shares, not halves. */
static void test_fairness_collide(void **state)
{
	struct vw_shaper_cfg cfg;
	struct sim *sim;
	double x[6], j;
	uint32_t x0;
	int k, c;

	(void)state;
	base_cfg(&cfg, 20 * M);
	cfg.fq_buckets = 8; /* hash >> 29: the same bucket for every hash below */
	sim = sim_new(&cfg);
	c = add_class(sim, 0, 0, VW_SHAPER_MEDIUM, true);
	for (k = 0, x0 = 1; k < 6; k++) {
		struct flow *f = flow_add(sim, SRC_TCP, c, 1514);

		f->rtt = (uint64_t)(10 + 5 * k) * MS;
		/* the next x with (x * 0x9e3779b1) >> 29 == 0: home bucket 0 */
		while ((uint32_t)(x0 * 0x9e3779b1u) >> 29)
			x0++;
		f->hash = cfg.seed ^ x0++;
	}
	sim->t0 = 2 * SEC;
	sim_run(sim, 12 * SEC + MS);
	for (k = 0; k < 6; k++)
		x[k] = wrate(sim, &sim->fl[k], 0);
	j = jain(x, 6);
	print_message("6 TCP, one home bucket of 8: Jain %.4f\n", j);
	assert_true(j >= 0.99);
	sim_free(sim);
}

/* Six connections of the seed's WAN test on 5.2 Mb/s. */
static void test_fairness_wan(void **state)
{
	struct vw_shaper_cfg cfg;
	struct sim *sim;
	double x[6], j;
	int k, c;

	(void)state;
	base_cfg(&cfg, 5200 * K);
	sim = sim_new(&cfg);
	c = add_class(sim, 0, 0, VW_SHAPER_MEDIUM, true);
	for (k = 0; k < 6; k++)
		flow_add(sim, SRC_TCP, c, 1514)->rtt = (uint64_t)(10 + 15 * k) * MS;
	sim->t0 = 2 * SEC;
	sim_run(sim, 12 * SEC + MS);
	for (k = 0; k < 6; k++)
		x[k] = wrate(sim, &sim->fl[k], 0);
	j = jain(x, 6);
	print_message("6 TCP, 5.2M, fairness=conn: Jain %.4f, total %.3f Mb/s\n", j,
		      (x[0] + x[1] + x[2] + x[3] + x[4] + x[5]) / 1e6);
	assert_true(j >= 0.99);
	sim_free(sim);
}

/* ---- live changes, flush ---- */

static void test_live_changes(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper_stats rs;
	struct sim *sim;
	struct flow *f[6];
	char err[128];
	int c[3], k;
	struct vw_shaper_class_cfg cc;
	uint64_t sent = 0, out = 0;

	(void)state;
	base_cfg(&cfg, 100 * M);
	sim = sim_new(&cfg);
	c[0] = add_class(sim, 20 * M, 0, VW_SHAPER_HIGH, true);
	c[1] = add_class(sim, 0, 50 * M, VW_SHAPER_LOW, false);
	c[2] = 0;
	for (k = 0; k < 6; k++) {
		f[k] = flow_add(sim, SRC_GREEDY, c[k % 3], k & 1 ? 1514 : 700);
		f[k]->depth = 20;
	}
	sim_run(sim, 20 * MS);
	assert_int_equal(vw_shaper_set_rate(sim->s, 10 * M, sim->now, err, sizeof(err)), -EINVAL);
	assert_int_equal(vw_shaper_set_rate(sim->s, 25 * M, sim->now, err, sizeof(err)), 0);
	sim_run(sim, 40 * MS);
	assert_int_equal(vw_shaper_set_rate(sim->s, 1 * G, sim->now, err, sizeof(err)), 0);
	sim_run(sim, 45 * MS);
	/* class 1: FIFO -> fair, guarantee, higher priority */
	cc = (struct vw_shaper_class_cfg){ .guarantee = 30 * M, .priority = VW_SHAPER_MEDIUM,
					   .fair_conn = true, .maxbw = 0 };
	assert_int_equal(vw_shaper_class_modify(sim->s, c[1], &cc, sim->now, err, sizeof(err)), 0);
	sim_run(sim, 60 * MS);
	assert_int_equal(vw_shaper_set_rate(sim->s, 40 * M, sim->now, err, sizeof(err)), -EINVAL);
	assert_int_equal(vw_shaper_set_rate(sim->s, 60 * M, sim->now, err, sizeof(err)), 0);
	/* class 0 (fair) -> FIFO: needs no fq set, frees one */
	cc = (struct vw_shaper_class_cfg){ .guarantee = 10 * M, .priority = VW_SHAPER_LOW };
	assert_int_equal(vw_shaper_class_modify(sim->s, c[0], &cc, sim->now, err, sizeof(err)), 0);
	sim_run(sim, 70 * MS);
	/* remove class 1 while it holds items: they move to the default class */
	for (k = 0; k < 6; k++)
		if (f[k]->cls == c[1])
			f[k]->stop = sim->now;
	vw_shaper_root_stats(sim->s, &rs);
	assert_true(rs.qlen > 0);
	assert_int_equal(vw_shaper_class_remove(sim->s, c[1], sim->now, err, sizeof(err)), 0);
	for (k = 0; k < 6; k++)
		if (f[k]->cls == c[1])
			f[k]->cls = 0;
	sim_run(sim, 80 * MS);
	for (k = 0; k < 6; k++)
		f[k]->stop = sim->now;
	sim_run(sim, 200 * MS);
	vw_shaper_root_stats(sim->s, &rs);
	assert_int_equal(rs.qlen, 0);
	for (k = 0; k < 6; k++) {
		sent += f[k]->seq_in;
		out += f[k]->out_pkts;
		assert_int_equal(f[k]->lost, 0);
	}
	assert_int_equal(out, sent);
	assert_int_equal(rs.pkts, sent);
	for (k = 1; k < VW_SHAPER_NDROP; k++)
		assert_int_equal(rs.drops[k], 0);
	sim_free(sim);      /* checks per-connection order */
}

static void test_live_rate_accuracy(void **state)
{
	struct vw_shaper_cfg cfg;
	struct sim *sim;
	char err[128];
	double r[2] = { 0, 0 };
	int k;

	(void)state;
	base_cfg(&cfg, 10 * M);
	sim = sim_new(&cfg);
	for (k = 0; k < 4; k++)
		flow_add(sim, SRC_TCP, 0, 1514);
	sim->t0 = SEC;
	sim->win = 4 * SEC;
	sim->nwin = 3;
	sim->jitter = 20000;
	sim_run(sim, 5 * SEC);
	assert_int_equal(vw_shaper_set_rate(sim->s, 20 * M, sim->now, err, sizeof(err)), 0);
	sim_run(sim, 13 * SEC + MS);
	for (k = 0; k < 4; k++) {
		r[0] += wrate(sim, &sim->fl[k], 0);
		r[1] += wrate(sim, &sim->fl[k], 2);
	}
	print_message("rate change 10M -> 20M under 4 TCP: %.3f then %.3f Mb/s\n", r[0] / 1e6,
		      r[1] / 1e6);
	assert_true(r[0] > 9.8e6 && r[0] < 10.2e6);
	assert_true(r[1] > 19.6e6 && r[1] < 20.4e6);
	sim_free(sim);
}

static void test_flush(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper *s;
	struct vw_shaper_stats rs;
	static int seen[3000];
	int x[3000], i, n, c[3], total = 0;
	void *items[7];
	uint32_t bytes[7];
	char err[128];

	(void)state;
	base_cfg(&cfg, 10 * M);
	cfg.drop = count_drop;
	cfg.dflt.fair_conn = true;
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	for (i = 1; i < 3; i++) {
		struct vw_shaper_class_cfg cc = { .fair_conn = i == 1, .guarantee = 1 * M,
						  .priority = i };

		c[i] = i;
		assert_int_equal(vw_shaper_class_add(s, c[i], &cc, 0, err, sizeof(err)), 0);
	}
	c[0] = 0;
	for (i = 0; i < 3000; i++)
		assert_int_equal(vw_shaper_enqueue(s, c[i % 3], (uint32_t)i * 7919u, &x[i], 100, 0), 0);
	n = vw_shaper_dequeue(s, 10 * MS, items, bytes, 7);
	for (i = 0; i < n; i++)
		seen[(int *)items[i] - x]++;
	total = n;
	while ((n = vw_shaper_flush(s, items, bytes, 7)) > 0) {
		for (i = 0; i < n; i++) {
			seen[(int *)items[i] - x]++;
			assert_int_equal(bytes[i], 100);
		}
		total += n;
	}
	assert_int_equal(total, 3000);
	for (i = 0; i < 3000; i++)
		assert_int_equal(seen[i], 1);
	vw_shaper_root_stats(s, &rs);
	assert_int_equal(rs.qlen, 0);
	assert_int_equal(rs.qbytes, 0);
	assert_int_equal(vw_shaper_next_time(s), NEVER);
	assert_int_equal(vw_shaper_dequeue(s, SEC, items, bytes, 7), 0);
	/* usable again afterwards */
	assert_int_equal(vw_shaper_enqueue(s, c[1], 1, &x[0], 100, SEC), 0);
	assert_int_equal(vw_shaper_dequeue(s, SEC, items, bytes, 7), 1);
	destroy_drops = 0;
	vw_shaper_destroy(s);
	assert_int_equal(destroy_drops, 0);
}

/* ---- configuration errors ---- */

static void expect_err(int rc, int want, const char *err, const char *msg)
{
	if (rc != want || !strstr(err, msg))
		fail_msg("got %d '%s', want %d '%s'", rc, err, want, msg);
}

static void test_bad_config(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper *s;
	struct vw_shaper_class_cfg cls[3] = {
		{ .guarantee = 50 * M }, { .guarantee = 40 * M }, { .guarantee = 30 * M },
	};
	struct vw_shaper_class_cfg c;
	char err[128];
	int id;

	(void)state;
	base_cfg(&cfg, 100 * M);
	assert_int_equal(vw_shaper_validate(&cfg, cls, 2, err, sizeof(err)), 0);
	expect_err(vw_shaper_validate(&cfg, cls, 3, err, sizeof(err)), -EINVAL, err,
		   "guarantees sum to 120M, over maxbw 100M");
	cfg.maxbw = 500;
	expect_err(vw_shaper_validate(&cfg, NULL, 0, err, sizeof(err)), -ERANGE, err,
		   "maxbw 500 out of range (1K to 100G)");
	cfg.maxbw = 200 * G;
	expect_err(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), -ERANGE, err,
		   "maxbw 200G out of range");
	assert_null(s);
	base_cfg(&cfg, 100 * M);
	cfg.fq_buckets = 1000;
	expect_err(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), -EINVAL, err,
		   "fq_buckets 1000 not a power of two");
	base_cfg(&cfg, 100 * M);
	cfg.max_items = 0;
	expect_err(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), -EINVAL, err, "max_items 0");
	base_cfg(&cfg, 100 * M);
	cfg.drop = NULL;
	expect_err(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), -EINVAL, err, "no drop callback");
	base_cfg(&cfg, 100 * M);
	cfg.dflt.guarantee = 150 * M;
	expect_err(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), -EINVAL, err,
		   "guarantees sum to 150M, over maxbw 100M");
	base_cfg(&cfg, 100 * M);
	cfg.max_fair = 0;
	expect_err(vw_shaper_validate(&cfg, &(struct vw_shaper_class_cfg){ .fair_conn = true }, 1,
				      err, sizeof(err)), -ENOSPC, err,
		   "too many fairness=conn classes (at most 0)");
	cfg.max_classes = 2;
	expect_err(vw_shaper_validate(&cfg, cls, 2, err, sizeof(err)), -ENOSPC, err,
		   "too many classes (at most 2)");

	base_cfg(&cfg, 100 * M);
	cfg.max_classes = 3;
	cfg.max_fair = 1;
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	c = (struct vw_shaper_class_cfg){ .guarantee = 60 * M, .maxbw = 50 * M };
	expect_err(vw_shaper_class_add(s, 1, &c, 0, err, sizeof(err)), -EINVAL, err,
		   "guarantee 60M above maxbw 50M");
	c = (struct vw_shaper_class_cfg){ .priority = 3 };
	expect_err(vw_shaper_class_add(s, 1, &c, 0, err, sizeof(err)), -EINVAL, err,
		   "priority 3 unknown");
	c = (struct vw_shaper_class_cfg){ .limit = 2000 };
	expect_err(vw_shaper_class_add(s, 1, &c, 0, err, sizeof(err)), -EINVAL, err,
		   "queue limit 2000 bytes below two frames (3028)");
	c = (struct vw_shaper_class_cfg){ .guarantee = 70 * M, .fair_conn = true };
	id = 1;
	assert_int_equal(vw_shaper_class_add(s, id, &c, 0, err, sizeof(err)), 0);
	expect_err(vw_shaper_class_add(s, id, &c, 0, err, sizeof(err)), -EEXIST, err,
		   "class 1 exists");
	c = (struct vw_shaper_class_cfg){ .guarantee = 31 * M };
	expect_err(vw_shaper_class_add(s, 2, &c, 0, err, sizeof(err)), -EINVAL, err,
		   "guarantees sum to 101M, over maxbw 100M");
	c = (struct vw_shaper_class_cfg){ .fair_conn = true };
	expect_err(vw_shaper_class_add(s, 2, &c, 0, err, sizeof(err)), -ENOSPC, err,
		   "too many fairness=conn classes (at most 1)");
	c = (struct vw_shaper_class_cfg){ .guarantee = 1500 * K };
	assert_int_equal(vw_shaper_class_add(s, 2, &c, 0, err, sizeof(err)), 0);
	expect_err(vw_shaper_class_add(s, 3, &c, 0, err, sizeof(err)), -ENOSPC, err,
		   "class id 3 out of range (1 to 2)");
	expect_err(vw_shaper_class_add(s, 0, &c, 0, err, sizeof(err)), -ENOSPC, err,
		   "class id 0 out of range (1 to 2)");
	expect_err(vw_shaper_set_rate(s, 50 * M, 0, err, sizeof(err)), -EINVAL, err,
		   "maxbw 50M below the sum of the guarantees 71.5M");
	c = (struct vw_shaper_class_cfg){ .guarantee = 99 * M };
	expect_err(vw_shaper_class_modify(s, 1, &c, 0, err, sizeof(err)), -EINVAL, err,
		   "guarantees sum to 100.5M, over maxbw 100M");
	expect_err(vw_shaper_class_modify(s, 7, &c, 0, err, sizeof(err)), -ENOENT, err, "no class 7");
	expect_err(vw_shaper_class_remove(s, 0, 0, err, sizeof(err)), -EINVAL, err,
		   "the default class cannot be removed");
	expect_err(vw_shaper_class_remove(s, -3, 0, err, sizeof(err)), -ENOENT, err, "no class -3");
	/* a refused change changed nothing: the guarantees still sum to 71.5M */
	expect_err(vw_shaper_set_rate(s, 71 * M, 0, err, sizeof(err)), -EINVAL, err,
		   "below the sum of the guarantees 71.5M");
	assert_int_equal(vw_shaper_set_rate(s, 71500 * K, 0, err, sizeof(err)), 0);
	/* the fair set is free again after removal */
	assert_int_equal(vw_shaper_class_remove(s, 1, 0, err, sizeof(err)), 0);
	c = (struct vw_shaper_class_cfg){ .fair_conn = true };
	assert_int_equal(vw_shaper_class_add(s, 1, &c, 0, err, sizeof(err)), 0);
	vw_shaper_destroy(s);
}

static void test_memsize(void **state)
{
	struct vw_shaper_cfg cfg;
	size_t big, small;

	(void)state;
	base_cfg(&cfg, 100 * M);
	cfg.max_items = 4096;
	cfg.max_classes = 1024;
	cfg.max_fair = 4;
	big = vw_shaper_memsize(&cfg);
	cfg.max_classes = 1;
	cfg.max_fair = 0;
	small = vw_shaper_memsize(&cfg);
	print_message("memory: 4096 items, 1024 classes, 4 fair classes of 1024 buckets: %zu KiB; "
		      "4096 items, 1 class, no fair: %zu KiB\n", big / 1024, small / 1024);
}

/* ---- random operations ---- */

#define RND_ITEMS 20000
static uint8_t rnd_state[RND_ITEMS];     /* 0 never, 1 queued, 2 out, 3 dropped */
static uint64_t rnd_drops, rnd_room;

static void rnd_drop(void *arg, void *item, uint32_t bytes, int why)
{
	uint8_t *st = item;

	(void)arg, (void)bytes;
	assert_int_equal(*st, 1);
	assert_true(why == VW_SHAPER_DROP_CODEL || why == VW_SHAPER_DROP_LIMIT || why == 0);
	*st = 3;
	rnd_drops++;
	rnd_room += why == VW_SHAPER_DROP_LIMIT;   /* a fair class's room */
}

/* Random configuration changes, traffic and time steps; every item comes
 * out, is dropped or is flushed exactly once, the counters add up, and the
 * shaper always makes progress at the time it asks to be called. */
static void test_random_ops(void **state)
{
	struct vw_shaper_cfg cfg;
	struct vw_shaper *s;
	struct vw_shaper_stats rs, cs;
	uint32_t rng = 12345, nitems = 0, bytes[64];
	void *items[64];
	bool used[16] = { true };
	char err[128];
	uint64_t now = 0, out = 0, refused = 0;
	int step, i, n;

	(void)state;
	if (getenv("VWT_SHAPER_SEED"))      /* for longer runs by hand */
		rng = (uint32_t)strtoul(getenv("VWT_SHAPER_SEED"), NULL, 0) | 1;
	memset(rnd_state, 0, sizeof(rnd_state));
	rnd_drops = rnd_room = 0;
	base_cfg(&cfg, 50 * M);
	cfg.drop = rnd_drop;
	cfg.max_items = 3000;
	cfg.max_classes = 16;
	cfg.max_fair = 3;
	cfg.fq_buckets = 64;
	assert_int_equal(vw_shaper_create(&cfg, 0, &s, err, sizeof(err)), 0);
	for (step = 0; step < 200000 && nitems < RND_ITEMS; step++) {
		uint32_t r = xorshift(&rng) % 1000;
		int id = (int)(xorshift(&rng) % 16);

		if (r >= 10 && r < 600 && xorshift(&rng) % 16)
			while (!used[id])       /* mostly to a class that exists */
				id = (id + 1) % 16;

		if (r < 5) {                    /* add or modify a class */
			struct vw_shaper_class_cfg c = {
				.guarantee = xorshift(&rng) % 3 ? 0 : (xorshift(&rng) % 20 + 1) * M,
				.maxbw = xorshift(&rng) % 3 ? 0 : (xorshift(&rng) % 60 + 1) * M,
				.priority = xorshift(&rng) % 3,
				.fair_conn = xorshift(&rng) % 2,
				.limit = xorshift(&rng) % 2 ? 0 : 3028 + xorshift(&rng) % 100000,
			};
			int rc = used[id] ? vw_shaper_class_modify(s, id, &c, now, err, sizeof(err))
					  : vw_shaper_class_add(s, id, &c, now, err, sizeof(err));

			if (!used[id] && rc == 0)
				used[id] = true;
		} else if (r < 7 && id) {       /* remove */
			if (used[id])
				assert_int_equal(vw_shaper_class_remove(s, id, now, err, sizeof(err)), 0);
			used[id] = false;
		} else if (r < 9) {             /* root rate */
			static const uint64_t rates[] = { 0, 1 * M, 10 * M, 50 * M, 100 * M, 1 * G };

			vw_shaper_set_rate(s, rates[xorshift(&rng) % 6], now, err, sizeof(err));
		} else if (r < 10) {            /* partial flush */
			n = vw_shaper_flush(s, items, bytes, (int)(xorshift(&rng) % 64) + 1);
			for (i = 0; i < n; i++) {
				assert_int_equal(*(uint8_t *)items[i], 1);
				*(uint8_t *)items[i] = 2;
				out++;
			}
		} else if (r < 600) {           /* enqueue */
			uint32_t b = xorshift(&rng) % 4 ? 64 + xorshift(&rng) % 1450
					: 1 + xorshift(&rng) % 65536;
			int rc = vw_shaper_enqueue(s, id, xorshift(&rng) % 8, &rnd_state[nitems], b, now);

			if (rc) {
				assert_true(rc == VW_SHAPER_DROP_INVAL ? !used[id] :
					    rc == VW_SHAPER_DROP_LIMIT || rc == VW_SHAPER_DROP_FULL);
				refused++;
			} else {
				rnd_state[nitems] = 1;
			}
			nitems++;
		} else {                        /* time passes; dequeue */
			uint64_t next = vw_shaper_next_time(s), before;

			if (r < 800 || next == NEVER)
				now += xorshift(&rng) % (2 * MS);
			else if (next > now)
				now = next;
			before = out + rnd_drops;
			do {
				n = vw_shaper_dequeue(s, now, items, bytes, (int)(xorshift(&rng) % 64) + 1);
				for (i = 0; i < n; i++) {
					assert_int_equal(*(uint8_t *)items[i], 1);
					*(uint8_t *)items[i] = 2;
					out++;
				}
			} while (n > 0 && xorshift(&rng) % 4);
			if (n == 0 && next != NEVER && now >= next)
				assert_true(out + rnd_drops > before);    /* progress */
			if (n == 0)
				assert_true(vw_shaper_next_time(s) > now);
		}
		vw_shaper_root_stats(s, &rs);
		{
			uint64_t q = 0, qb = 0;

			for (i = 0; i < 16; i++)
				if (vw_shaper_class_stats(s, i, &cs) == 0) {
					q += cs.qlen;
					qb += cs.qbytes;
				}
			assert_int_equal(q, rs.qlen);
			assert_int_equal(qb, rs.qbytes);
		}
	}
	while ((n = vw_shaper_flush(s, items, bytes, 64)) > 0)
		for (i = 0; i < n; i++) {
			assert_int_equal(*(uint8_t *)items[i], 1);
			*(uint8_t *)items[i] = 2;
			out++;
		}
	vw_shaper_root_stats(s, &rs);
	assert_int_equal(rs.qlen, 0);
	assert_int_equal(out + rnd_drops + refused, nitems);
	assert_int_equal(rs.drops[VW_SHAPER_DROP_CODEL], rnd_drops - rnd_room);
	assert_int_equal(rs.drops[VW_SHAPER_DROP_LIMIT] + rs.drops[VW_SHAPER_DROP_FULL] +
			 rs.drops[VW_SHAPER_DROP_INVAL], refused + rnd_room);
	for (i = 0; i < (int)nitems; i++)
		assert_true(rnd_state[i] != 1);
	print_message("random ops: %u items, %llu out or flushed, %llu CoDel drops, %llu dropped "
		      "for room, %llu refused\n",
		      nitems, (unsigned long long)out, (unsigned long long)(rnd_drops - rnd_room),
		      (unsigned long long)rnd_room,
		      (unsigned long long)refused);
	vw_shaper_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_item),
		cmocka_unit_test(test_next_time),
		cmocka_unit_test(test_ping_1m),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fair_limit),
		cmocka_unit_test(test_bad_items),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_memsize),
		cmocka_unit_test(test_priority_order),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_live_changes),
		cmocka_unit_test(test_live_rate_accuracy),
		cmocka_unit_test(test_burst_bound),
		cmocka_unit_test(test_codel_short_burst),
		cmocka_unit_test(test_codel_overload),
		cmocka_unit_test(test_starvation_bound),
		cmocka_unit_test(test_priority_latency),
		cmocka_unit_test(test_guarantee_borrow),
		cmocka_unit_test(test_fairness),
		cmocka_unit_test(test_fairness_wan),
		cmocka_unit_test(test_fairness_collide),
		cmocka_unit_test(test_rate_accuracy),
		cmocka_unit_test(test_random_ops),
	};

	if (getenv("VWT_SHAPER_ONLY"))
		cmocka_set_test_filter(getenv("VWT_SHAPER_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
