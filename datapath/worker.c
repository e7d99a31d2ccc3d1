#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "datapath/rcu.h"
#include "datapath/spsc.h"
#include "datapath/vswitch.h"
#include "datapath/worker.h"

/* buffers per worker: a batch of every port, plus frames hooks hold
 * (mapped without reserving memory: only pages in use count) */
#define POOL_BUFS 2048
#define RETURN_RING 4096 /* above a pool's size: never fills */

/* epoll marks for the two eventfds (ports use their own pointer) */
static char mark_stop, mark_call;

struct worker {
	int id;
	int epfd;
	int stopfd;
	int callfd;     /* the control thread has put a call in the mailbox */
	/* mailbox: written by the control thread, run by the worker */
	void (*call_fn)(void *arg);
	void *call_arg;
	uint64_t call_req, call_done;
	struct vw_task *tasks; /* the worker's timed work (its own thread only) */
	bool kicked;           /* run every task in this iteration */
	pthread_t thread;
	int cpu;         /* the CPU it is pinned to; -1: not pinned */
	unsigned nports; /* control thread only */
	uint64_t spin_ns;
	/* polling yields to runnable work: its thread's run-queue wait
	 * (/proc/thread-self/schedstat), read once per window */
	int schedfd;
	uint64_t sched_at, sched_wait;
	struct vw_worker_stats st;
	struct vw_fwd fwd;
};

static struct worker *workers[VW_MAX_WORKERS];
__thread struct vw_fwd *vw_worker_fwd;
__thread bool vw_worker_contended;
int vw_vm_ports;

/* ret[a][b]: buffers of worker b's pool that worker a is done with */
static struct vw_spsc ret[VW_MAX_WORKERS][VW_MAX_WORKERS];
static int ret_ready;

int vw_worker_returns_init(void)
{
	int a, b;

	if (ret_ready)
		return 0;
	for (a = 0; a < VW_MAX_WORKERS; a++)
		for (b = 0; b < VW_MAX_WORKERS; b++)
			if (vw_spsc_init(&ret[a][b], RETURN_RING) < 0)
				return -ENOMEM;
	__atomic_store_n(&ret_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

void vw_worker_pkt_release(struct vw_pkt *pkt)
{
	int self = vw_worker_self, from;

	if (self < 0 || !vw_worker_fwd)
		return; /* not a worker: the daemon is stopping, pools go with it */
	from = vw_worker_pool_of(pkt);

	if (from < 0)
		return; /* not a pool buffer: cannot happen */
	if (from == self)
		vw_pkt_free(&vw_worker_fwd->pool, pkt);
	else
		vw_spsc_put(&ret[self][from], (void **)&pkt, 1);
}

/* Puts buffers other workers are done with back into w's pool. */
static void returns_reclaim(struct worker *w)
{
	int n = vw_workers_count(), a;
	void *p[64];

	if (!__atomic_load_n(&ret_ready, __ATOMIC_ACQUIRE))
		return;
	for (a = 0; a < n; a++) {
		unsigned got, i;

		if (a == w->id)
			continue;
		while ((got = vw_spsc_get(&ret[a][w->id], p, 64)) > 0)
			for (i = 0; i < got; i++)
				vw_pkt_free(&w->fwd.pool, p[i]);
	}
}
static int nworkers;
static uint64_t spin_ns = VW_POLL_NS_DEFAULT;

void vw_workers_set_poll(uint64_t ns)
{
	spin_ns = ns;
}

uint64_t vw_workers_poll(void)
{
	return spin_ns;
}

/* The earliest time a task of w is due (UINT64_MAX: none). */
static uint64_t tasks_due(const struct worker *w)
{
	const struct vw_task *t;
	uint64_t due = UINT64_MAX;

	for (t = w->tasks; t; t = t->next)
		if (t->due < due)
			due = t->due;
	return due;
}

/* Runs the tasks that are due; how many frames they moved. */
static int tasks_run(struct worker *w, uint64_t now)
{
	struct vw_task *t, *next;
	bool all = w->kicked;
	int work = 0;

	w->kicked = false;
	for (t = w->tasks; t; t = next) {
		next = t->next; /* run() may remove its own task */
		if (all || t->due <= now)
			work += t->run(t, now);
	}
	return work;
}

/* Runs the control thread's call, if one is waiting. */
static void run_call(struct worker *w)
{
	uint64_t req = __atomic_load_n(&w->call_req, __ATOMIC_ACQUIRE);

	if (req == w->call_done)
		return;
	w->call_fn(w->call_arg);
	__atomic_store_n(&w->call_done, req, __ATOMIC_RELEASE);
}

/*
 * Polling yields to runnable work.  A worker that keeps polling after its
 * last frame takes a whole CPU while traffic flows; on a machine with as
 * many busy threads as CPUs (guests' vCPUs, the zones' own stacks) that
 * CPU is taken from them, and the traffic the worker waits for comes
 * slower.  The kernel says how long this thread waited for a CPU
 * (schedstat's run-queue delay): once per window the worker compares it
 * with the window, and while it waited more than CONTEND_PCT of it, it
 * does not poll (it sleeps in epoll until a frame comes, as it does when
 * idle), then looks again.  A lone worker on a quiet machine waits for
 * nothing and polls as before.  This holds while virtual machines are on
 * the switch (vw_vm_ports): their vCPUs are the busy threads, and that is
 * where it was measured (bench/vm); without them polling is as it was.
 */
#define CONTEND_WINDOW_NS (10 * 1000 * 1000ull)
#define CONTEND_PCT 5

static void contention_check(struct worker *w, uint64_t now)
{
	char buf[96];
	unsigned long long run, wait;
	ssize_t r;

	if (w->schedfd < 0 || now - w->sched_at < CONTEND_WINDOW_NS)
		return;
	r = pread(w->schedfd, buf, sizeof(buf) - 1, 0);
	if (r <= 0)
		return;
	buf[r] = 0;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return;
	if (w->sched_at) {
		bool c = (wait - w->sched_wait) * 100 > CONTEND_PCT * (now - w->sched_at);

		/* only while guests run: their vCPUs are the busy threads a
		 * polling worker takes a CPU from, and the gain was measured
		 * there (bench/vm); elsewhere polling stays as it was */
		c = c && __atomic_load_n(&vw_vm_ports, __ATOMIC_RELAXED) > 0;
		if (c && !vw_worker_contended)
			w->st.yields++;
		vw_worker_contended = c;
	}
	w->sched_at = now;
	w->sched_wait = wait;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];
	struct vw_pkt *pkts[VW_BATCH];
	uint64_t now = 0, last_work = 0;

	vw_worker_self = w->id;
	vw_worker_fwd = &w->fwd;
	w->schedfd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	for (;;) {
		bool poll = !vw_worker_contended && now - last_work < w->spin_ns;
		uint64_t due = tasks_due(w);
		int i, n, work = 0;

		/* adaptive polling: sleep in epoll while idle; keep polling
		 * for a short while after the last frame, when the next one
		 * (a reply, the rest of a burst) is likely to come at once.
		 * Timed work (a shaper's next frame) bounds the sleep. */
		/* a task that kicked this worker during the last tasks_run
		 * (a shaper handing frames to another task of the same
		 * worker) is run now, not after the next event */
		if (poll || due <= now || w->kicked) {
			n = epoll_wait(w->epfd, evs, 64, 0);
		} else {
			uint64_t epoch = __atomic_load_n(&vw_rcu_epoch, __ATOMIC_ACQUIRE);
			struct timespec ts, *tp = NULL;

			if (due != UINT64_MAX) {
				ts.tv_sec = (time_t)((due - now) / 1000000000u);
				ts.tv_nsec = (long)((due - now) % 1000000000u);
				tp = &ts;
			}
			vw_rcu_offline(w->id);
			n = epoll_pwait2(w->epfd, evs, 64, tp, NULL);
			vw_rcu_online(w->id);
			/* These events were taken offline: a grace period begun
			 * since (a port taken out of this set, then freed) did
			 * not wait for them, so they may name a freed port.
			 * Take them again, online (the set is level-triggered:
			 * nothing is lost).  A grace period begun later waits
			 * for this iteration's quiescent state. */
			if (n > 0 && __atomic_load_n(&vw_rcu_epoch, __ATOMIC_SEQ_CST) != epoch)
				n = epoll_wait(w->epfd, evs, 64, 0);
			if (n > 0)
				w->st.wakeups++;
		}
		if (n < 0 && errno != EINTR)
			break;
		now = vw_mono_ns();
		for (i = 0; i < n; i++) {
			struct vw_port *port = evs[i].data.ptr;
			struct vw_port_hook *hook;
			int got;

			if ((void *)port == &mark_stop)
				goto out;
			if ((void *)port == &mark_call) {
				uint64_t v;

				/* a call, or frames handed over: run every task */
				if (read(w->callfd, &v, sizeof(v)) >= 0)
					w->kicked = true;
				continue;
			}
			got = port->ops->rx_burst(port, &w->fwd.pool, pkts, VW_BATCH);
			if (got <= 0) {
				/* a TAP whose device went away (its zone was
				 * deleted under it) stays in error: stop polling
				 * it rather than spin; the control thread still
				 * owns and later frees the port.  An uplink's
				 * errors (link down) are cleared by the read. */
				if (!port->uplink && (evs[i].events & (EPOLLERR | EPOLLHUP)))
					epoll_ctl(w->epfd, EPOLL_CTL_DEL, vw_port_fd(port, w->id), NULL);
				continue;
			}
			w->st.batches++;
			w->st.pkts += (unsigned)got;
			work += got;
			/* per-port work on what was read (shaping): its hook */
			hook = vw_port_hook(port, VW_HOOK_RX);
			if (__builtin_expect(hook != NULL, 0) && hook->rx(hook, port, &w->fwd, pkts, got, now))
				continue;
			vw_switch_input(&w->fwd, port, pkts, got);
		}
		work += tasks_run(w, now);
		run_call(w);
		returns_reclaim(w);
		if (work)
			last_work = now;
		else if (poll)
			w->st.polls++;
		if (w->spin_ns)
			contention_check(w, now);
		vw_rcu_quiesce(w->id);
	}
out:
	if (w->schedfd >= 0)
		close(w->schedfd);
	vw_rcu_offline(w->id);
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	if (w->callfd >= 0)
		close(w->callfd);
	vw_fwd_fini(&w->fwd);
	free(w);
}

/*
 * Pins worker i to the i-th CPU (modulo their number) of those the daemon
 * may run on, so that a link's cpus property names the workers that process
 * it (vw_workers_on_cpu).  Returns the CPU, or -1 if it cannot be pinned
 * (the worker then runs where the scheduler puts it).
 */
static int worker_pin(pthread_t t, int i)
{
	cpu_set_t avail, one;
	int c, k = 0, n;

	if (sched_getaffinity(0, sizeof(avail), &avail) < 0 || !(n = CPU_COUNT(&avail)))
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &avail) || k++ != i % n)
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		return pthread_setaffinity_np(t, sizeof(one), &one) ? -1 : c;
	}
	return -1;
}

int vw_workers_start(int n)
{
	char name[16];
	int i, err;

	if (n < 1 || n > VW_MAX_WORKERS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &mark_stop };
		struct epoll_event cev = { .events = EPOLLIN, .data.ptr = &mark_call };

		if (!w)
			return -ENOMEM;
		w->id = i;
		w->spin_ns = spin_ns;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w->callfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		err = vw_fwd_init(&w->fwd, i, POOL_BUFS);
		if (w->epfd < 0 || w->stopfd < 0 || w->callfd < 0 || err ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev) < 0 ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->callfd, &cev) < 0) {
			err = err ? err : -errno;
			worker_free(w);
			return err;
		}
		vw_rcu_offline(i);
		err = -pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			worker_free(w);
			return err;
		}
		w->cpu = worker_pin(w->thread, i);
		snprintf(name, sizeof(name), "vw-worker-%u", (unsigned)i % 10000u);
		pthread_setname_np(w->thread, name);
		workers[i] = w;
		nworkers = i + 1;
		__atomic_store_n(&vw_rcu_nworkers, nworkers, __ATOMIC_RELEASE);
	}
	return 0;
}

void vw_workers_stop(void)
{
	int i;

	for (i = 0; i < nworkers; i++) {
		uint64_t one = 1;

		if (write(workers[i]->stopfd, &one, sizeof(one)) < 0)
			continue;
	}
	for (i = 0; i < nworkers; i++) {
		pthread_join(workers[i]->thread, NULL);
		worker_free(workers[i]);
		workers[i] = NULL;
	}
	nworkers = 0;
	__atomic_store_n(&vw_rcu_nworkers, 0, __ATOMIC_RELEASE);
}

int vw_workers_count(void)
{
	return nworkers;
}

int vw_worker_add_port(struct vw_port *port)
{
	return vw_worker_add_port_in(port, 0);
}

int vw_worker_add_port_in(struct vw_port *port, uint32_t mask)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = port };
	struct worker *best = NULL;
	int i;

	if (port->nq > 1) {
		/* one queue per worker: every worker polls the port */
		if (port->nq != nworkers)
			return -EINVAL;
		for (i = 0; i < nworkers; i++)
			if (epoll_ctl(workers[i]->epfd, EPOLL_CTL_ADD, vw_port_fd(port, i), &ev) < 0) {
				int err = -errno;

				while (i--)
					epoll_ctl(workers[i]->epfd, EPOLL_CTL_DEL, vw_port_fd(port, i), NULL);
				return err;
			}
		for (i = 0; i < nworkers; i++)
			workers[i]->nports++;
		port->worker = -1;
		return 0;
	}

	for (i = 0; i < nworkers; i++)
		if ((!mask || (mask & (1u << i))) && (!best || workers[i]->nports < best->nports))
			best = workers[i];
	if (!best)
		return -ENODEV;
	port->worker = best->id;
	if (epoll_ctl(best->epfd, EPOLL_CTL_ADD, port->fd, &ev) < 0)
		return -errno;
	best->nports++;
	return 0;
}

void vw_worker_del_port(struct vw_port *port)
{
	struct worker *w;
	int i;

	if (port->worker == -1 && port->nq > 1) {
		for (i = 0; i < port->nq && i < nworkers; i++) {
			epoll_ctl(workers[i]->epfd, EPOLL_CTL_DEL, vw_port_fd(port, i), NULL);
			workers[i]->nports--;
		}
		return;
	}
	if (port->worker < 0 || port->worker >= nworkers)
		return;
	w = workers[port->worker];
	/* the worker may have dropped a dead port from its set already */
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, port->fd, NULL);
	w->nports--;
}

int vw_worker_cpu(int i)
{
	return i >= 0 && i < nworkers ? workers[i]->cpu : -1;
}

uint32_t vw_workers_on_cpu(int cpu)
{
	uint32_t mask = 0;
	int i;

	for (i = 0; i < nworkers; i++)
		if (cpu >= 0 && workers[i]->cpu == cpu)
			mask |= 1u << i;
	return mask;
}

void vw_worker_get_stats(int i, struct vw_worker_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (i < 0 || i >= nworkers)
		return;
	st->wakeups = __atomic_load_n(&workers[i]->st.wakeups, __ATOMIC_RELAXED);
	st->batches = __atomic_load_n(&workers[i]->st.batches, __ATOMIC_RELAXED);
	st->pkts = __atomic_load_n(&workers[i]->st.pkts, __ATOMIC_RELAXED);
	st->polls = __atomic_load_n(&workers[i]->st.polls, __ATOMIC_RELAXED);
	st->yields = __atomic_load_n(&workers[i]->st.yields, __ATOMIC_RELAXED);
	st->nports = workers[i]->nports;
}

int vw_worker_call(int i, void (*fn)(void *arg), void *arg)
{
	struct worker *w;
	uint64_t one = 1, req;
	struct timespec nap = { 0, 20000 };

	if (i < 0 || i >= nworkers)
		return -EINVAL;
	w = workers[i];
	w->call_fn = fn;
	w->call_arg = arg;
	req = w->call_req + 1;
	__atomic_store_n(&w->call_req, req, __ATOMIC_RELEASE);
	if (write(w->callfd, &one, sizeof(one)) < 0)
		return -errno;
	/* a call is short and rare (a property change): wait for it */
	while (__atomic_load_n(&w->call_done, __ATOMIC_ACQUIRE) != req)
		nanosleep(&nap, NULL);
	return 0;
}

void vw_worker_task_add(struct vw_task *t)
{
	struct worker *w;

	if (vw_worker_self < 0 || vw_worker_self >= nworkers)
		return;
	w = workers[vw_worker_self];
	t->next = w->tasks;
	w->tasks = t;
}

void vw_worker_task_del(struct vw_task *t)
{
	struct vw_task **pp;

	if (vw_worker_self < 0 || vw_worker_self >= nworkers)
		return;
	for (pp = &workers[vw_worker_self]->tasks; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

void vw_worker_kick(int i)
{
	uint64_t one = 1;

	if (i < 0 || i >= nworkers)
		return;
	if (i == vw_worker_self) {
		workers[i]->kicked = true;
		return;
	}
	if (write(workers[i]->callfd, &one, sizeof(one)) < 0)
		return;
}

int vw_worker_pool_of(const void *buf)
{
	int i;

	for (i = 0; i < nworkers; i++) {
		const struct vw_pool *p = &workers[i]->fwd.pool;

		if ((const char *)buf >= (const char *)p->mem && (const char *)buf < (const char *)p->mem + p->memlen)
			return i;
	}
	return -1;
}
