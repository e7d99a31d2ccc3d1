/*
 * IPFIX export at high flow rates (bench/ipfix.c).  A worker-like thread
 * feeds the meter (ipfix_meter, the observer's work) with batches of 32
 * synthetic IPv4/UDP frames, each a new 5-tuple, paced to RATE new flows
 * per second (0: as fast as it goes), and sweeps the cache every 200 ms as
 * a worker's task does.  Each flow is one packet and ends on the idle
 * timeout (1 s).  The exporter thread sends to a UDP socket on 127.0.0.1
 * that a reader thread drains with recvmmsg, counting data records and
 * checking each message's sequence number against the records before it.
 * At the end every flow left is flushed (reason 4), and the records the
 * reader got are compared with the flows made.
 *
 *   build/bench/ipfix [-r RATE]... [-d SECONDS] [-n RUNS]
 *
 * Prints one line per run and the median of the runs per rate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datapath/pkt.h"
#include "observability/ipfix.h"

#define BATCH 32

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the collector side ---- */

struct reader {
	int fd;
	volatile int stop;
	uint64_t records, msgs, gaps, missing;
	uint32_t next_seq;
	bool have_seq;
};

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)g16(p) << 16 | g16(p + 2);
}

static void parse(struct reader *r, const uint8_t *b, size_t n)
{
	size_t off = 16;
	uint32_t seq, nrec = 0;

	if (n < 16 || g16(b) != 10 || g16(b + 2) != n)
		return;
	seq = g32(b + 8);
	while (off + 4 <= n) {
		uint16_t id = g16(b + off), sl = g16(b + off + 2);
		size_t p = off + 4;

		if (sl < 4 || off + sl > n)
			return;
		if (id == 256 || id == 257) {
			size_t al = id == 257 ? 16 : 4;

			while (p + 2 * al + 62 <= off + sl) {
				p += 2 * al + 61;
				p += 1 + b[p];
				nrec++;
			}
		}
		off += sl;
	}
	if (r->have_seq && seq != r->next_seq) {
		r->gaps++;
		r->missing += (uint32_t)(seq - r->next_seq);
	}
	r->have_seq = true;
	r->next_seq = seq + nrec;
	r->records += nrec;
	r->msgs++;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	static uint8_t bufs[64][2048];
	struct mmsghdr mh[64];
	struct iovec iov[64];
	int i;

	for (i = 0; i < 64; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&mh[i], 0, sizeof(mh[i]));
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int n = recvmmsg(r->fd, mh, 64, 0, NULL);

		if (n < 0) {
			if (r->stop)
				break; /* SO_RCVTIMEO passed with nothing more */
			continue;
		}
		for (i = 0; i < n; i++)
			parse(r, bufs[i], mh[i].msg_len);
	}
	return NULL;
}

/* ---- the worker side ---- */

static struct vw_pkt *pkts[BATCH];

static void frame_init(struct vw_pkt *p)
{
	uint8_t *f = p->buf;

	p->data = f;
	memcpy(f, "\x02\x08\x20\x00\x00\x02\x02\x08\x20\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = 0, f[17] = 50; /* 20 + 8 + 22 */
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, "\x0a\x00\x00\x00", 4);
	memcpy(f + 30, "\x0a\x80\x00\x01", 4);
	f[36] = 0x13, f[37] = 0x88; /* dport 5000 */
	f[38] = 0, f[39] = 30;
	p->len = 14 + 50;
}

/* flow i: source 10.(i >> 16 & 0x7f).x.x, port i & 0xffff: all distinct */
static void frame_set(struct vw_pkt *p, uint64_t i)
{
	uint8_t *f = p->buf;

	f[27] = (uint8_t)(i >> 32 & 0x7f);
	f[28] = (uint8_t)(i >> 24);
	f[29] = (uint8_t)(i >> 16);
	f[34] = (uint8_t)(i >> 8);
	f[35] = (uint8_t)i;
}

struct run {
	double rate, secs;
	uint64_t flows, records, msgs, gaps, missing, drops, evicted;
	double achieved, ns_per_pkt;
};

static void one_run(struct run *res)
{
	struct ipfix_conf c = { .active_s = 60, .idle_s = 1, .template_s = 60, .domain = 7, .nbuckets = 32768,
				.ringsize = 65536 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct reader r = { 0 };
	struct ipfix_stats st;
	struct ipfix_tap tap;
	struct ipfix_exp *e;
	struct timeval tv = { 0, 500000 };
	pthread_t rt;
	int sz = 256 << 20;
	char err[128];
	uint64_t t0, t, next_sweep, i = 0, meter_ns = 0;

	r.fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (r.fd < 0 || bind(r.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(r.fd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("collector socket");
		exit(1);
	}
	if (setsockopt(r.fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memcpy(&c.collector, &sa, sizeof(sa));
	c.collen = sizeof(sa);
	pthread_create(&rt, NULL, reader_main, &r);
	e = ipfix_new(&c, 1, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "ipfix_new: %s\n", err);
		exit(1);
	}
	ipfix_tap_init(&tap, e, NULL, "vwb0", 1, 0);
	t0 = now_ns();
	next_sweep = t0;
	for (;;) {
		uint64_t due, m0;
		int k;

		t = now_ns();
		if (t - t0 >= (uint64_t)(res->secs * 1e9))
			break;
		if (res->rate > 0) {
			due = (uint64_t)((double)(t - t0) * res->rate / 1e9);
			if (i + BATCH > due) {
				if (t >= next_sweep)
					goto sweep;
				continue;
			}
		}
		for (k = 0; k < BATCH; k++)
			frame_set(pkts[k], i + (uint64_t)k);
		i += BATCH;
		m0 = now_ns();
		ipfix_meter(&tap, 0, VW_OBS_OUT, pkts, BATCH, false, m0 / 1000000);
		meter_ns += now_ns() - m0;
		if (t < next_sweep)
			continue;
	sweep:
		/* as the worker's task: a fifth of the buckets every 200 ms */
		ipfix_sweep(e, 0, t / 1000000, 32768 / 5);
		next_sweep = t + 200000000;
	}
	res->achieved = (double)i / ((double)(now_ns() - t0) / 1e9);
	res->ns_per_pkt = i ? (double)meter_ns / (double)i : 0;
	ipfix_flush(e, 0, NULL, now_ns() / 1000000);
	ipfix_get_stats(e, &st);
	ipfix_free(e); /* sends what is left */
	r.stop = 1;
	pthread_join(rt, NULL);
	close(r.fd);
	res->flows = i;
	res->records = r.records;
	res->msgs = r.msgs;
	res->gaps = r.gaps;
	res->missing = r.missing;
	res->drops = st.drops;
	res->evicted = st.evicted;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double rates[16] = { 0 }, secs = 5;
	int nr = 0, runs = 3, o, k, j;

	while ((o = getopt(argc, argv, "r:d:n:")) != -1) {
		if (o == 'r' && nr < 16)
			rates[nr++] = atof(optarg);
		else if (o == 'd')
			secs = atof(optarg);
		else if (o == 'n')
			runs = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-r RATE]... [-d SECONDS] [-n RUNS]\n", argv[0]);
			return 2;
		}
	}
	if (!nr) {
		rates[0] = 100000, rates[1] = 200000, rates[2] = 400000, rates[3] = 0;
		nr = 4;
	}
	if (runs < 1 || runs > 15)
		runs = 3;
	for (k = 0; k < BATCH; k++) {
		pkts[k] = calloc(1, sizeof(*pkts[k]));
		frame_init(pkts[k]);
	}
	printf("%-10s %4s %12s %10s %10s %8s %6s %8s %8s %9s\n", "rate", "run", "achieved/s", "flows", "records",
	       "lost", "gaps", "drops", "evicted", "ns/pkt");
	for (k = 0; k < nr; k++) {
		double ach[15], ns[15], lost[15];

		for (j = 0; j < runs; j++) {
			struct run r = { .rate = rates[k], .secs = secs };

			one_run(&r);
			ach[j] = r.achieved;
			ns[j] = r.ns_per_pkt;
			lost[j] = (double)r.flows - (double)r.records;
			printf("%-10.0f %4d %12.0f %10lu %10lu %8.0f %6lu %8lu %8lu %9.1f\n", rates[k], j + 1, r.achieved,
			       r.flows, r.records, lost[j], r.gaps, r.drops, r.evicted, r.ns_per_pkt);
			fflush(stdout);
		}
		qsort(ach, (size_t)runs, sizeof(double), cmpd);
		qsort(ns, (size_t)runs, sizeof(double), cmpd);
		qsort(lost, (size_t)runs, sizeof(double), cmpd);
		printf("median     rate %s: %.0f flows/s, %.0f records lost, %.1f ns per packet metered\n",
		       rates[k] > 0 ? "paced" : "unpaced", ach[runs / 2], lost[runs / 2], ns[runs / 2]);
	}
	return 0;
}
