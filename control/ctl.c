/*
 * The control socket.  One epoll loop on the control thread serves every
 * client (non-blocking; a request is read whole before it runs, a reply is
 * written as the client takes it), the signals that stop the daemon, a
 * one-second housekeeping timer, and the reap of deleted VNICs' Linux faces
 * (a timeout of the wait; objects/link.c).  A client that sends garbage gets
 * one error reply and is disconnected; one that goes away mid-request is
 * forgotten.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "control/ctl.h"
#include "datapath/vswitch.h"
#include "objects/link.h"

#define MAX_CLIENTS 128
#define MAX_ARGS 256

struct client {
	int fd;
	struct vw_buf in, out;
	size_t sent;
	bool closing; /* close once the reply is out */
};

static int lfd = -1, epfd = -1, sigfd = -1, tfd = -1;
static char sockpath[108];
static unsigned nclients;

/* Tags for epoll data: the fixed fds are told apart by address. */
static int tag_listen, tag_signal, tag_timer, tag_mcast;

/* Extra descriptors (the metrics server's, the accounting timer, the
 * captures' timer): a few, each in a fixed slot (fn NULL: free), which is
 * its epoll data. */
#define MAX_EXTRA 8
static struct extra {
	int fd;
	void (*fn)(void);
	int (*timeout)(void);
	bool due;
} extras[MAX_EXTRA];

/* The client whose request runs, and who takes its connection. */
static struct client *cur_client;
static void (*take_fn)(int fd, const char *reply, size_t len, void *arg);
static void *take_arg;

int ctl_add_poll(int fd, void (*fn)(void), int (*timeout)(void))
{
	struct epoll_event ev = { .events = EPOLLIN };
	int i;

	for (i = 0; i < MAX_EXTRA && extras[i].fn; i++)
		;
	if (i == MAX_EXTRA)
		return -ENOSPC;
	/* added while the loop runs (accounting or a capture started by a
	 * command): into the set now */
	if (epfd >= 0) {
		ev.data.ptr = &extras[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	extras[i] = (struct extra){ fd, fn, timeout, false };
	return 0;
}

void ctl_del_poll(int fd)
{
	int i;

	for (i = 0; i < MAX_EXTRA; i++)
		if (extras[i].fn && extras[i].fd == fd) {
			if (epfd >= 0)
				epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
			extras[i] = (struct extra){ 0 };
			return;
		}
}

int ctl_take_client(void (*fn)(int fd, const char *reply, size_t len, void *arg), void *arg)
{
	if (!cur_client)
		return -ENOTCONN;
	take_fn = fn;
	take_arg = arg;
	return 0;
}

static bool is_extra(void *p)
{
	return p >= (void *)extras && p < (void *)(extras + MAX_EXTRA);
}

/* The loop's wait: the soonest of the reap's and the extra descriptors'. */
static int loop_timeout(void)
{
	int a = vnic_reap_timeout(), i;

	for (i = 0; i < MAX_EXTRA; i++) {
		int b = extras[i].fn && extras[i].timeout ? extras[i].timeout() : -1;

		a = a < 0 ? b : b < 0 ? a : a < b ? a : b;
	}
	return a;
}

int ctl_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)], *slash;
	int probe;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: '%s'", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		snprintf(err, errlen, "another vwired is running on %s", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path); /* a stale socket left by a daemon that died */
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lfd, SOMAXCONN) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		if (lfd >= 0)
			close(lfd);
		lfd = -1;
		return -e;
	}
	chmod(path, 0600);
	snprintf(sockpath, sizeof(sockpath), "%s", path);
	return 0;
}

void ctl_close(void)
{
	if (lfd >= 0) {
		close(lfd);
		unlink(sockpath);
	}
	lfd = -1;
	if (epfd >= 0)
		close(epfd);
	if (sigfd >= 0)
		close(sigfd);
	if (tfd >= 0)
		close(tfd);
	epfd = sigfd = tfd = -1;
}

static void client_free(struct client *cl)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	vw_buf_free(&cl->in);
	vw_buf_free(&cl->out);
	free(cl);
	nclients--;
}

static void client_accept(void)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *cl;

		if (fd < 0)
			return;
		if (nclients >= MAX_CLIENTS || !(cl = calloc(1, sizeof(*cl)))) {
			static const char busy[] = "status=8\nmessage=vwired: too many clients connected; try again\n\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				errno = 0;
			close(fd);
			continue;
		}
		cl->fd = fd;
		ev.data.ptr = cl;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(cl);
			continue;
		}
		nclients++;
	}
}

static void reply_error(struct client *cl, const char *msg)
{
	vw_buf_kv(&cl->out, "status", "%d", (int)VW_E_PROTO);
	vw_buf_kv(&cl->out, "message", "%s", msg);
	vw_buf_printf(&cl->out, "\n");
	cl->closing = true;
}

/* Gives the client's connection, with its reply, to the command that took
 * it (ctl_take_client), and forgets the client without closing it. */
static void client_give(struct client *cl)
{
	void (*fn)(int, const char *, size_t, void *) = take_fn;

	take_fn = NULL;
	epoll_ctl(epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	fn(cl->fd, cl->out.p ? cl->out.p : "", cl->out.len, take_arg);
	vw_buf_free(&cl->in);
	vw_buf_free(&cl->out);
	free(cl);
	nclients--;
}

/* Runs the request that ends at in.p[end]; returns false if it was garbage. */
static bool client_request(struct client *cl, size_t end)
{
	char *argv[MAX_ARGS + 1], *line, *save = NULL;
	int argc = 0;

	cl->in.p[end] = 0;
	for (line = strtok_r(cl->in.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "arg=", 4) || argc == MAX_ARGS) {
			reply_error(cl, argc == MAX_ARGS ? "too many words in request" : "malformed request");
			return false;
		}
		argv[argc++] = line + 4;
	}
	argv[argc] = NULL;
	cur_client = cl;
	ctl_handle(argc, argv, &cl->out, false);
	cur_client = NULL;
	return true;
}

static void client_flush(struct client *cl)
{
	struct epoll_event ev = { .data.ptr = cl };

	while (cl->sent < cl->out.len) {
		ssize_t w = send(cl->fd, cl->out.p + cl->sent, cl->out.len - cl->sent, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			client_free(cl);
			return;
		}
		cl->sent += (size_t)w;
	}
	if (cl->sent == cl->out.len) {
		cl->sent = cl->out.len = 0;
		if (cl->closing) {
			client_free(cl);
			return;
		}
		ev.events = EPOLLIN;
	} else {
		ev.events = EPOLLOUT;
	}
	epoll_ctl(epfd, EPOLL_CTL_MOD, cl->fd, &ev);
}

static void client_input(struct client *cl)
{
	char buf[4096];
	ssize_t r;

	if (cl->out.len) /* one request at a time: finish the reply first */
		return;
	r = recv(cl->fd, buf, sizeof(buf), 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		client_free(cl);
		return;
	}
	vw_buf_printf(&cl->in, "%.*s", (int)r, buf);
	if (memchr(buf, 0, (size_t)r) || cl->in.oom || cl->in.len > VW_REQ_MAX) {
		reply_error(cl, "malformed request");
	} else {
		char *end;

		/* a message ends with an empty line */
		while (!cl->closing && cl->in.len) {
			size_t n;

			if (cl->in.p[0] == '\n') {
				end = cl->in.p;
			} else {
				end = strstr(cl->in.p, "\n\n");
				if (!end)
					break;
				end++;
			}
			n = (size_t)(end - cl->in.p) + 1;
			if (!client_request(cl, (size_t)(end - cl->in.p)))
				break;
			if (take_fn) { /* the connection is the command's now */
				client_give(cl);
				return;
			}
			memmove(cl->in.p, cl->in.p + n, cl->in.len - n + 1);
			cl->in.len -= n;
		}
	}
	if (cl->out.len)
		client_flush(cl);
}

int ctl_run(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || sigfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		return -errno;
	ev.data.ptr = &tag_listen;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &tag_signal;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	ev.data.ptr = &tag_timer;
	epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.ptr = &tag_mcast;
	epoll_ctl(epfd, EPOLL_CTL_ADD, vw_switch_event_fd, &ev);
	for (int i = 0; i < MAX_EXTRA; i++) {
		if (!extras[i].fn)
			continue;
		ev.data.ptr = &extras[i];
		epoll_ctl(epfd, EPOLL_CTL_ADD, extras[i].fd, &ev);
	}
	for (;;) {
		struct epoll_event evs[32];
		/* wakes for the reap of deleted VNICs' faces when one is due */
		int i, n = epoll_wait(epfd, evs, 32, loop_timeout());
		bool tick = n == 0;

		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &tag_listen) {
				client_accept();
			} else if (p == &tag_signal) {
				return 0;
			} else if (p == &tag_timer) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					vnic_refresh_mcast(NULL);
				tick = true;
			} else if (is_extra(p)) {
				((struct extra *)p)->due = true;
			} else if (p == &tag_mcast) {
				uint64_t n;

				if (read(vw_switch_event_fd, &n, sizeof(n)) > 0)
					vnic_refresh_mcast_dirty();
			} else if (evs[i].events & EPOLLOUT) {
				client_flush(p);
			} else {
				client_input(p);
			}
		}
		/* the extras due now; an fn may add or remove extras: one
		 * added runs next time, one removed not at all */
		{
			bool run[MAX_EXTRA];
			int k;

			for (k = 0; k < MAX_EXTRA; k++) {
				run[k] = extras[k].fn && (extras[k].due || tick);
				extras[k].due = false;
			}
			for (k = 0; k < MAX_EXTRA; k++)
				if (run[k] && extras[k].fn)
					extras[k].fn();
		}
		if (!vnic_reap_timeout())
			vnic_reap();
	}
}
