// SPDX-License-Identifier: GPL-2.0
/*
 * Per-port work through port hooks (datapath/port.h): a port of a third
 * backend, unknown to datapath/shape.c and observability/mirror.c (here an
 * in-memory one whose descriptor is an eventfd, so a real worker polls it),
 * is shaped both ways and mirrored, and its frames reach it through its own
 * write op.  Also: the switch delivers to a port's tx hook instead of its
 * backend, and leaves showing those frames to observers to the hook.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "datapath/observe.h"
#include "datapath/port.h"
#include "datapath/rcu.h"
#include "datapath/shape.h"
#include "datapath/vswitch.h"
#include "datapath/worker.h"
#include "observability/mirror.h"

#define NFRAMES 40
#define FLEN 200

/* ---- the third backend: frames in from a queue the test fills, out into
 * counters (any worker may write: a lock; a test is no hot path) ---- */

struct memport {
	struct vw_port port;
	pthread_mutex_t lock;
	uint8_t in[4 * NFRAMES][FLEN];
	int nin, next;
	unsigned written;    /* frames write took */
	uint64_t wbytes;
	uint8_t last[FLEN];  /* the last frame written */
};

static int mem_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	struct memport *m = (struct memport *)port;
	uint64_t v;
	int got = 0;

	pthread_mutex_lock(&m->lock);
	while (got < n && m->next < m->nin) {
		struct vw_pkt *pkt = vw_pkt_alloc(pool);

		if (!pkt)
			break;
		memcpy(pkt->data, m->in[m->next++], FLEN);
		pkt->len = FLEN;
		memset(&pkt->vnet, 0, sizeof(pkt->vnet));
		pkts[got++] = pkt;
	}
	if (m->next == m->nin) /* all read: the descriptor is not readable */
		(void)!read(port->fd, &v, sizeof(v));
	pthread_mutex_unlock(&m->lock);
	return got;
}

static int mem_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct memport *m = (struct memport *)port;
	int i;

	(void)tag;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < n; i++) {
		m->wbytes += pkts[i]->len;
		if (pkts[i]->len <= FLEN)
			memcpy(m->last, pkts[i]->data, pkts[i]->len);
	}
	m->written += (unsigned)n;
	pthread_mutex_unlock(&m->lock);
	return n;
}

static void mem_close(struct vw_port *port)
{
	close(port->fd);
}

static const struct vw_port_ops mem_ops = {
	.kind = "mem",
	.rx_burst = mem_rx,
	.write = mem_write,
	.close = mem_close,
};

static struct memport *mem_open(const char *name, uint8_t last)
{
	struct memport *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	pthread_mutex_init(&m->lock, NULL);
	m->port.ops = &mem_ops;
	m->port.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(m->port.fd >= 0);
	m->port.nq = 1;
	m->port.qfd[0] = m->port.fd;
	memcpy(m->port.mac, (uint8_t[]){ 0x02, 0x00, 0x00, 0x00, 0x00, last }, 6);
	strncpy(m->port.name, name, sizeof(m->port.name) - 1);
	return m;
}

/* Queues n frames from m to dst's address and wakes m's poller. */
static void mem_send(struct memport *m, const struct memport *dst, int n)
{
	uint64_t one = 1;
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < n; i++) {
		uint8_t *f = m->in[m->nin++];

		memset(f, 0, FLEN);
		memcpy(f, dst->port.mac, 6);
		memcpy(f + 6, m->port.mac, 6);
		f[12] = 0x88, f[13] = 0xb5; /* local experimental */
		f[14] = (uint8_t)i;
	}
	pthread_mutex_unlock(&m->lock);
	assert_int_equal(write(m->port.fd, &one, sizeof(one)), sizeof(one));
}

static unsigned mem_written(struct memport *m)
{
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->written;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* Waits (up to 5 s) until *fn says done. */
static bool wait_for(bool (*fn)(void *), void *arg)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int i;

	for (i = 0; i < 2500; i++) {
		if (fn(arg))
			return true;
		nanosleep(&ts, NULL);
	}
	return fn(arg);
}

static struct memport *waited;
static bool all_written(void *arg)
{
	return mem_written(waited) >= *(unsigned *)arg;
}

struct st_want {
	struct vw_port *port;
	int dir;
	uint64_t pkts;
};
static bool shaped_all(void *arg)
{
	struct st_want *w = arg;
	struct vw_shape_stats st;

	vw_shape_stats(w->port, w->dir, &st);
	return st.pkts >= w->pkts;
}

struct mirror_want {
	struct vw_mirror *m;
	uint64_t copied;
};
static bool mirrored_all(void *arg)
{
	struct mirror_want *w = arg;
	uint64_t copied, drops;

	vw_mirror_test_counts(w->m, &copied, &drops);
	return copied >= w->copied;
}

/* A and B on one switch, both shaped both ways; B mirrored (frames
 * delivered to it) to C.  Every frame goes A -> A's out shaper -> switch ->
 * B's in shaper -> B's write; the mirror sees it as B's shaper writes it
 * and sends it to C through C's write. */
static void test_third_backend(void **state)
{
	struct memport *a = mem_open("mema", 1), *b = mem_open("memb", 2), *c = mem_open("memc", 3);
	struct vw_shape_conf conf = { .rate = 1000ull * 1000 * 1000, .n = 0 };
	struct st_want want;
	struct vw_switch *sw;
	struct vw_mirror *m;
	uint64_t copied, drops;
	unsigned n = NFRAMES;
	char err[256];

	(void)state;
	assert_int_equal(vw_workers_start(1), 0);
	sw = vw_switch_new("memsw");
	assert_non_null(sw);
	assert_int_equal(vw_switch_attach(sw, &a->port), 0);
	assert_int_equal(vw_switch_attach(sw, &b->port), 0);
	assert_int_equal(vw_worker_add_port(&a->port), 0);
	assert_int_equal(vw_worker_add_port(&b->port), 0);
	assert_int_equal(vw_shape_set(&a->port, &conf, err, sizeof(err)), 0);
	assert_int_equal(vw_shape_set(&b->port, &conf, err, sizeof(err)), 0);
	assert_non_null(a->port.hook[VW_HOOK_RX]);
	assert_non_null(b->port.hook[VW_HOOK_TX]);
	m = vw_mirror_test_new(&b->port, VW_OBS_IN, NULL, err, sizeof(err));
	assert_non_null(m);

	mem_send(a, b, NFRAMES);
	waited = b;
	assert_true(wait_for(all_written, &n));
	assert_int_equal(mem_written(b), NFRAMES);
	assert_int_equal(b->wbytes, (uint64_t)NFRAMES * FLEN);
	assert_int_equal(b->last[14], NFRAMES - 1); /* in order */
	assert_int_equal(mem_written(a), 0);
	/* both shapers let every frame go */
	want = (struct st_want){ &a->port, VW_SHAPE_OUT, NFRAMES };
	assert_true(wait_for(shaped_all, &want));
	want = (struct st_want){ &b->port, VW_SHAPE_IN, NFRAMES };
	assert_true(wait_for(shaped_all, &want));

	/* the mirror saw each frame once, as B's shaper wrote it, and sends it
	 * to C through C's backend */
	assert_true(wait_for(mirrored_all, &(struct mirror_want){ m, NFRAMES }));
	vw_mirror_test_counts(m, &copied, &drops);
	assert_int_equal(copied, NFRAMES);
	assert_int_equal(drops, 0);
	assert_int_equal(vw_mirror_test_send(m, &c->port, err, sizeof(err)), 0);
	assert_int_equal(mem_written(c), NFRAMES);
	assert_int_equal(c->wbytes, (uint64_t)NFRAMES * FLEN);
	assert_memory_equal(c->last, b->last, FLEN);

	/* shaping off: the hooks go, frames go straight to the backend, and
	 * the switch shows them to the mirror itself */
	assert_int_equal(vw_shape_set(&a->port, NULL, err, sizeof(err)), 0);
	assert_int_equal(vw_shape_set(&b->port, NULL, err, sizeof(err)), 0);
	assert_null(a->port.hook[VW_HOOK_RX]);
	assert_null(b->port.hook[VW_HOOK_TX]);
	mem_send(a, b, NFRAMES);
	n = 2 * NFRAMES;
	assert_true(wait_for(all_written, &n));
	assert_int_equal(mem_written(b), 2 * NFRAMES);
	assert_true(wait_for(mirrored_all, &(struct mirror_want){ m, 2 * NFRAMES }));
	vw_mirror_test_counts(m, &copied, &drops);
	assert_int_equal(copied, 2 * NFRAMES);

	vw_mirror_test_free(m);
	vw_worker_del_port(&a->port);
	vw_worker_del_port(&b->port);
	vw_switch_detach(sw, &a->port);
	vw_switch_detach(sw, &b->port);
	vw_rcu_synchronize();
	vw_workers_stop();
	vw_switch_free(sw);
	vw_port_destroy(&a->port);
	vw_port_destroy(&b->port);
	vw_port_destroy(&c->port);
}

/* ---- the switch and a tx hook, on the test's own thread ---- */

struct count_hook {
	struct vw_port_hook hook;
	int calls, frames;
};

static int count_tx(struct vw_port_hook *h, struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct count_hook *c = (struct count_hook *)h;

	(void)port, (void)pkts, (void)tag;
	c->calls++;
	c->frames += n;
	return n;
}

/* A tx hook takes what the switch delivers, one call per batch, in place
 * of the backend's write, and the switch does not show those frames to
 * the port's observers. */
static void test_tx_hook(void **state)
{
	struct memport *a = mem_open("mema", 1), *b = mem_open("memb", 2);
	struct count_hook ch = { .hook.tx = count_tx };
	struct vw_pkt *pkts[8];
	struct vw_switch *sw = vw_switch_new("hooksw");
	struct vw_mirror *m;
	struct vw_fwd f;
	uint64_t copied, drops;
	char err[256];
	int i;

	(void)state;
	assert_non_null(sw);
	assert_int_equal(vw_fwd_init(&f, 0, 64), 0);
	assert_int_equal(vw_switch_attach(sw, &a->port), 0);
	assert_int_equal(vw_switch_attach(sw, &b->port), 0);
	m = vw_mirror_test_new(&b->port, VW_OBS_IN, NULL, err, sizeof(err));
	assert_non_null(m);
	vw_port_hook_set(&b->port, VW_HOOK_TX, &ch.hook);
	mem_send(a, b, 8);
	assert_int_equal(mem_rx(&a->port, &f.pool, pkts, 8), 8);
	vw_switch_input(&f, &a->port, pkts, 8);
	assert_int_equal(ch.calls, 1);
	assert_int_equal(ch.frames, 8);
	assert_int_equal(mem_written(b), 0);
	vw_mirror_test_counts(m, &copied, &drops);
	assert_int_equal(copied, 0);
	/* detached: the backend again, and the mirror sees them */
	vw_port_hook_set(&b->port, VW_HOOK_TX, NULL);
	mem_send(a, b, 8);
	assert_int_equal(mem_rx(&a->port, &f.pool, pkts, 8), 8);
	vw_switch_input(&f, &a->port, pkts, 8);
	assert_int_equal(ch.calls, 1);
	assert_int_equal(mem_written(b), 8);
	vw_mirror_test_counts(m, &copied, &drops);
	assert_int_equal(copied, 8);
	for (i = 0; i < 8; i++) /* the pool got every buffer back */
		assert_non_null(vw_pkt_alloc(&f.pool));

	vw_mirror_test_free(m);
	vw_switch_detach(sw, &a->port);
	vw_switch_detach(sw, &b->port);
	vw_switch_free(sw);
	vw_fwd_fini(&f);
	vw_port_destroy(&a->port);
	vw_port_destroy(&b->port);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_hook),
		cmocka_unit_test(test_third_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
