#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "datapath/rcu.h"
#include "datapath/vswitch.h"
#include "datapath/worker.h"

#define POOL_BUFS 512

struct worker {
	int id;
	int epfd;
	int stopfd;
	pthread_t thread;
	unsigned nports; /* control thread only */
	uint64_t spin_ns;
	struct vw_worker_stats st;
	struct vw_fwd fwd;
};

static struct worker *workers[VW_MAX_WORKERS];
static int nworkers;
static uint64_t spin_ns = VW_POLL_NS_DEFAULT;

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vw_workers_set_poll(uint64_t ns)
{
	spin_ns = ns;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];
	struct vw_pkt *pkts[VW_BATCH];
	uint64_t now = 0, last_work = 0;

	vw_worker_self = w->id;
	for (;;) {
		bool poll = now - last_work < w->spin_ns;
		int i, n, work = 0;

		/* adaptive polling: sleep in epoll while idle; keep polling
		 * for a short while after the last frame, when the next one
		 * (a reply, the rest of a burst) is likely to come at once */
		if (poll) {
			n = epoll_wait(w->epfd, evs, 64, 0);
		} else {
			vw_rcu_offline(w->id);
			n = epoll_wait(w->epfd, evs, 64, -1);
			vw_rcu_online(w->id);
			if (n > 0)
				w->st.wakeups++;
		}
		if (n < 0 && errno != EINTR)
			break;
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct vw_port *port = evs[i].data.ptr;
			int got;

			if (!port)
				goto out;
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
			vw_switch_input(&w->fwd, port, pkts, got);
		}
		if (work)
			last_work = now;
		else if (poll)
			w->st.polls++;
		vw_rcu_quiesce(w->id);
	}
out:
	vw_rcu_offline(w->id);
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	vw_fwd_fini(&w->fwd);
	free(w);
}

int vw_workers_start(int n)
{
	int i, err;

	if (n < 1 || n > VW_MAX_WORKERS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		if (!w)
			return -ENOMEM;
		w->id = i;
		w->spin_ns = spin_ns;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		err = vw_fwd_init(&w->fwd, i, POOL_BUFS);
		if (w->epfd < 0 || w->stopfd < 0 || err ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev) < 0) {
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
		pthread_setname_np(w->thread, "vwired-dp");
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
		if (!best || workers[i]->nports < best->nports)
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

void vw_worker_get_stats(int i, struct vw_worker_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (i < 0 || i >= nworkers)
		return;
	st->wakeups = __atomic_load_n(&workers[i]->st.wakeups, __ATOMIC_RELAXED);
	st->batches = __atomic_load_n(&workers[i]->st.batches, __ATOMIC_RELAXED);
	st->pkts = __atomic_load_n(&workers[i]->st.pkts, __ATOMIC_RELAXED);
	st->polls = __atomic_load_n(&workers[i]->st.polls, __ATOMIC_RELAXED);
	st->nports = workers[i]->nports;
}
