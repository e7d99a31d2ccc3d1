/*
 * An IPFIX exporter as observability/ipfix.c (its meter and thread) and
 * observability/exporter.c (its commands) share it; no other file includes
 * this.
 */
#ifndef VW_IPFIX_IMPL_H
#define VW_IPFIX_IMPL_H

#include <pthread.h>
#include <time.h>

#include "datapath/worker.h"
#include "observability/ipfix.h"

#define BUCKET 8          /* flows per bucket */
#define IPFIX_DEFAULT_BUCKETS 8192 /* 65,536 flows per worker */
#define MAX_LINKS 32      /* -l LINK,... of one exporter */

struct pw;

struct ipfix_exp {
	struct ipfix_conf conf;
	int nworkers;
	unsigned nb;      /* buckets per worker */
	struct pw *pw;
	int fd;
	pthread_t thr;
	bool started;
	int stop;
	/* the thread sleeps on wake_fd when every ring is empty (sleeping
	 * set); a worker that put records writes to it, once per batch */
	int wake_fd;
	int sleeping;
	uint32_t seq;     /* data records sent, mod 2^32 (the exporter thread's) */
	uint64_t records, messages, send_drops; /* written by the thread */
	struct ipfix_enc *msgs; /* BATCH_MSGS of them */
	/* the command side (control thread) */
	struct ipfix_exp *next;
	char name[VW_LINKNAME_MAX + 1];
	char collector[64];
	bool all;                       /* no -l: every VNIC */
	int nlinks;
	char links[MAX_LINKS][VW_LINKNAME_MAX + 1];
	struct ipfix_tap *taps;
	bool tasks;
};

static inline uint64_t mono_ms(void)
{
	return vw_mono_ns() / 1000000;
}

/* Starts e's sweep task on every worker (e->tasks: at least one runs). */
void ipfix_start_tasks(struct ipfix_exp *e);
/* Ends the flows of t (NULL: all) on every worker, in the worker's thread;
 * with untask, stops e's sweep tasks too. */
void ipfix_flush_all(struct ipfix_exp *e, const struct ipfix_tap *t, bool untask);

#endif
