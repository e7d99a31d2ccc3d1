/*
 * Datapath workers: run-to-completion threads, each with its own epoll set,
 * buffer pool and forwarding scratch.  A worker sleeps in epoll_wait while
 * its ports are idle, reads a batch from each ready port and forwards it
 * (vw_switch_input) before it reads the next.
 *
 * Threading: vw_workers_start/stop and vw_worker_{add,del}_port are called by
 * the control thread only.  Adding a port assigns it to the worker with the
 * fewest ports; after vw_worker_del_port returns, no worker polls the port,
 * but one may still be transmitting to it until a grace period has passed.
 */
#ifndef VW_WORKER_H
#define VW_WORKER_H

#include "datapath/port.h"
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds: the time workers, tasks and shapers use. */
static inline uint64_t vw_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* After its last frame a worker keeps polling its ports (epoll with no
 * timeout) this long before it sleeps again: replies and the rest of a
 * burst then find it awake, and an idle worker costs nothing. */
#define VW_POLL_NS_DEFAULT (50 * 1000)
/* Sets the polling window for workers started afterwards (0: never poll). */
void vw_workers_set_poll(uint64_t ns);
/* The polling window (ns). */
uint64_t vw_workers_poll(void);

/* Starts n workers (1..VW_MAX_WORKERS). 0 or -errno. */
int vw_workers_start(int n);
void vw_workers_stop(void);
int vw_workers_count(void);

/* Worker i runs on the i-th CPU, modulo their number, of those the daemon
 * may use (its affinity when the workers start), so several workers may
 * share one.  vw_worker_cpu: the CPU worker w is pinned to, -1 if it could
 * not be pinned or does not exist.  vw_workers_on_cpu: the workers pinned to
 * cpu, as a mask (bit w), 0 if none. */
int vw_worker_cpu(int w);
uint32_t vw_workers_on_cpu(int cpu);

int vw_worker_add_port(struct vw_port *port);
/* The same, for a port with one queue, among the workers of mask (bit w;
 * 0: all): the one of them with the fewest ports (-ENODEV: none). */
int vw_worker_add_port_in(struct vw_port *port, uint32_t mask);
/* No wait: the worker may still be reading the port (a batch it had
 * already been woken for) until a grace period (vw_rcu_synchronize) has
 * passed, so only then may another worker be given it. */
void vw_worker_del_port(struct vw_port *port);

/* Runs fn(arg) on worker w's own thread, between two batches, and returns
 * once it has run.  Control thread only; fn must be short (it holds up the
 * worker's traffic).  This is how the owner of per-worker state (a shaper's
 * queues) is changed without a lock.  0 or -EINVAL (no such worker). */
int vw_worker_call(int w, void (*fn)(void *arg), void *arg);

/* Timed work a worker owns, such as a shaper's queue: after every batch the
 * worker calls run(t, now) for each task with due <= now, and sleeps no
 * longer than until the earliest due.  run() sets due again (UINT64_MAX:
 * nothing pending) and returns how many frames it moved (non-zero keeps the
 * worker polling).  Added and removed only on the worker's own thread
 * (from vw_worker_call, or from run() itself). */
struct vw_task {
	uint64_t due;
	int (*run)(struct vw_task *t, uint64_t now);
	struct vw_task *next;
};
void vw_worker_task_add(struct vw_task *t);
/* Makes worker w run all its tasks soon (from any worker: it wakes w). */
void vw_worker_kick(int w);
/* The worker whose pool buf belongs to, or -1. */
int vw_worker_pool_of(const void *buf);
/* Buffers a worker keeps past a batch (a shaper's copies) may end on
 * another worker, and go back to the pool they came from through a return
 * ring per pair of workers (sized above a pool, so it never fills), which
 * every worker drains into its pool once per loop.  vw_worker_returns_init
 * makes the rings (control thread, once, before the first such buffer;
 * 0 or -ENOMEM); vw_worker_pkt_release gives a buffer the calling worker is
 * done with back, whichever pool it is from. */
int vw_worker_returns_init(void);
void vw_worker_pkt_release(struct vw_pkt *pkt);
/* The calling worker's forwarding scratch and pool (NULL elsewhere). */
struct vw_fwd;
extern __thread struct vw_fwd *vw_worker_fwd;
/* The calling worker does not poll now: it waited for a CPU (worker.c,
 * "Polling yields to runnable work"); a backend that polls on its own
 * (a VM's rings) stops too. */
extern __thread bool vw_worker_contended;
/* VM ports open (datapath/port_vhost.c): polling yields only while there
 * are some. */
extern int vw_vm_ports;
void vw_worker_task_del(struct vw_task *t);

/* Per-worker counters for vwstat's lanes. */
struct vw_worker_stats {
	uint64_t wakeups;  /* returns from a sleeping epoll_wait with events */
	uint64_t polls;    /* polls that found nothing while awake */
	uint64_t yields;   /* times it stopped polling because it had waited
			    * for a CPU (other threads wanted it) */
	uint64_t batches;  /* bursts forwarded */
	uint64_t pkts;     /* frames received */
	unsigned nports;
};
void vw_worker_get_stats(int w, struct vw_worker_stats *st);

#endif
