/*
 * The lb's health check (objects/vnm.h): every second, for each backend of
 * each lb with check=tcp, a non-blocking TCP connect to the backend's
 * IP:PORT from inside the lb's zone (the socket is made on a thread in the
 * zone and stays there).  A timer on the control loop looks at the probes
 * in flight every VNM_HC_STEP_MS: connected is a success, refused or
 * unreachable a failure, still connecting after VNM_HC_TIMEOUT_MS a failure.
 * One failure takes a backend out, one success puts it back; a change
 * rewrites the table (one transaction).  A backend that dies is out at most
 * interval + step after it died (well within 3 s).  Control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "objects/vnm.h"

#define VNM_HC_STEP_MS 100

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool vnm_hc_step(struct vnm_hc *h, enum vnm_probe r, int64_t now)
{
	bool was = h->up;

	if (r == VNM_PROBE_PENDING) {
		if (h->fd < 0 || now - h->sent_ms < VNM_HC_TIMEOUT_MS)
			return false;
		r = VNM_PROBE_FAIL;
	}
	h->fd = -1; /* the caller closes it */
	h->up = r == VNM_PROBE_OK;
	return h->up != was;
}

void vnm_hc_reset(struct vnm *v)
{
	int i;

	for (i = 0; i < VNM_MAX_BACKENDS; i++)
		v->hc[i] = (struct vnm_hc){ .up = true, .fd = -1 };
}

void vnm_hc_close(struct vnm *v)
{
	int i;

	for (i = 0; i < VNM_MAX_BACKENDS; i++)
		if (v->hc[i].fd >= 0) {
			close(v->hc[i].fd);
			v->hc[i].fd = -1;
		}
}

struct probe_job {
	struct vnm *v;
	int64_t now;
};

/* In the zone: a non-blocking connect to each backend that is due. */
static int probe_fn(void *arg)
{
	struct probe_job *j = arg;
	struct vnm *v = j->v;
	int i;

	for (i = 0; i < v->p.nbackends; i++) {
		struct vnm_hc *h = &v->hc[i];
		const struct vnm_ep *e = &v->p.backends[i];
		struct sockaddr_storage ss = { 0 };
		socklen_t sl;
		int fd;

		if (h->fd >= 0 || j->now < h->next_ms)
			continue;
		if (e->ip.family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(e->port);
			memcpy(&s6->sin6_addr, &e->ip.addr.v6, 16);
			sl = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			s4->sin_port = htons(e->port);
			s4->sin_addr = e->ip.addr.v4;
			sl = sizeof(*s4);
		}
		h->sent_ms = j->now;
		h->next_ms = j->now + VNM_HC_INTERVAL_MS;
		fd = socket(e->ip.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue; /* tried again at the next interval */
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
			/* refused at once: a closed socket reads as failed */
			shutdown(fd, SHUT_RDWR);
		}
		h->fd = fd;
	}
	return 0;
}

/* What the probe on fd says now. */
static enum vnm_probe probe_result(int fd)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int e = 0;
	socklen_t l = sizeof(e);

	if (poll(&p, 1, 0) <= 0)
		return VNM_PROBE_PENDING;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e || (p.revents & (POLLERR | POLLHUP)))
		return VNM_PROBE_FAIL;
	return VNM_PROBE_OK;
}

static void vnm_check_one(struct vnm *v, int64_t now)
{
	struct probe_job j = { v, now };
	bool changed = false;
	int i;

	for (i = 0; i < v->p.nbackends; i++) {
		struct vnm_hc *h = &v->hc[i];
		int fd = h->fd;

		if (fd < 0)
			continue;
		if (vnm_hc_step(h, probe_result(fd), now)) {
			char b[80];

			changed = true;
			fprintf(stderr, "vwired: %s: backend %s is %s\n", v->name,
				vnm_ep_format(&v->p.backends[i], b, sizeof(b)), h->up ? "up" : "down");
		}
		if (h->fd < 0)
			close(fd);
	}
	if (changed) {
		char err[256];

		vnm_counts_fold(v);
		if (vnm_table_write(v, err, sizeof(err)))
			snprintf(v->state, sizeof(v->state), "%s", err);
		else
			snprintf(v->state, sizeof(v->state), "ok");
	}
	for (i = 0; i < v->p.nbackends; i++)
		if (v->hc[i].fd < 0 && now >= v->hc[i].next_ms)
			break;
	if (i < v->p.nbackends)
		vnm_in_zone(v->name, probe_fn, &j);
}

static int timer_fd = -1;

void vnm_health_tick(void)
{
	int64_t now = now_ms();
	uint64_t n;
	struct vnm *v;

	if (read(timer_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	for (v = vw_vnms; v; v = v->next)
		if (v->type == VNM_LB && v->p.check == VNM_CHECK_TCP)
			vnm_check_one(v, now);
}

int vnm_health_fd(void)
{
	struct itimerspec its = { { 0, VNM_HC_STEP_MS * 1000000L }, { 0, VNM_HC_STEP_MS * 1000000L } };

	if (timer_fd >= 0)
		return timer_fd;
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer_fd < 0)
		return -errno;
	if (timerfd_settime(timer_fd, 0, &its, NULL) < 0) {
		close(timer_fd);
		timer_fd = -1;
		return -errno;
	}
	return timer_fd;
}
