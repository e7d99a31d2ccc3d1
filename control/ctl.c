/*
 * The control socket.  One epoll loop on the control thread serves every
 * client (non-blocking; a request is read whole before it runs, a reply is
 * written as the client takes it), the signals that stop the daemon, a
 * one-second housekeeping timer, the reap of deleted VNICs' Linux faces
 * (a timeout of the wait; objects/link.c) and the rounds of the VNICs'
 * announcements (objects/announce.c).  A client that sends garbage gets
 * one error reply and is disconnected; one that goes away mid-request is
 * forgotten.
 *
 * Clients are held to deadlines, checked on the one-second tick: a request
 * must arrive whole, and a reply be taken, within the request timeout
 * (10 s), and a connection with nothing to do is closed after the idle
 * timeout (60 s).  Of the 128 slots, 8 are kept for root; when the table is
 * full a newcomer takes the slot of the longest-idle client (one with no
 * request in progress) rather than being turned away, so idle connections
 * cannot lock the administrator out.  What a client may run is decided by
 * its credentials (SO_PEERCRED, control/access.c) against the command
 * table's privilege (lib/cmd.c); docs/protocol.md, "Permissions" and
 * "Timeouts".
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include "control/access.h"
#include "control/ctl.h"
#include "datapath/vswitch.h"
#include "objects/aggr.h"
#include "objects/announce.h"
#include "objects/link.h"
#include "observability/loop.h"

#define MAX_CLIENTS 128
#define ROOT_SLOTS 8 /* of MAX_CLIENTS, for root only */
#define MAX_ARGS 256

struct client {
	int fd;
	struct vw_buf in, out;
	size_t sent;
	bool closing; /* close once the reply is out */
	bool root;
	unsigned privs;     /* 1 << VW_PRIV_x it may run */
	int slot;           /* in clients[] */
	int64_t last;       /* ms: last byte received or reply completed */
	int64_t in_since;   /* ms: first byte of the request in in (0: none) */
	int64_t out_since;  /* ms: reply waiting for the client (0: none) */
	struct client *next_dead;
};

static int lfd = -1, epfd = -1, sigfd = -1, tfd = -1;
static char sockpath[108];
static struct client *clients[MAX_CLIENTS];
static unsigned nclients, nroot;
/* Clients gone during this round of events, freed after it: an event
 * later in the round may still name one (fd -1). */
static struct client *dead;

/* vwired --client-timeout, --socket-group */
static int req_timeout = 10, idle_timeout = 60; /* seconds */
static bool sock_group;
static gid_t sock_gid;

/* Tags for epoll data: the fixed fds are told apart by address. */
static int tag_listen, tag_signal, tag_timer, tag_mcast, tag_aggr;

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

static int ctl_add_poll(int fd, void (*fn)(void), int (*timeout)(void))
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

static void ctl_del_poll(int fd)
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

static int ctl_take_client(void (*fn)(int fd, const char *reply, size_t len, void *arg), void *arg)
{
	if (!cur_client)
		return -ENOTCONN;
	take_fn = fn;
	take_arg = arg;
	return 0;
}

/* A command the daemon runs for itself (the metrics server's queries). */
static void ctl_run_command(int argc, char *const argv[], struct vw_buf *out)
{
	ctl_handle(argc, argv, out, false);
}

const struct loop_ops ctl_loop = { ctl_add_poll, ctl_del_poll, ctl_take_client, ctl_run_command };

int ctl_set_timeouts(const char *spec, char *err, size_t errlen)
{
	char buf[64], *comma;
	uint64_t req, idle;

	snprintf(buf, sizeof(buf), "%s", spec);
	comma = strchr(buf, ',');
	if (comma)
		*comma++ = 0;
	if (strlen(spec) >= sizeof(buf) || !vw_uint_parse(buf, 1, 86400, &req) ||
	    (comma && !vw_uint_parse(comma, 1, 86400, &idle))) {
		snprintf(err, errlen, "invalid client timeout '%s' (SECONDS[,IDLE_SECONDS], 1-86400 each)", spec);
		return -EINVAL;
	}
	req_timeout = (int)req;
	idle_timeout = comma ? (int)idle : 6 * (int)req;
	return 0;
}

int ctl_set_group(const char *group, char *err, size_t errlen)
{
	struct group *gr = getgrnam(group);
	uint64_t v;

	if (gr) {
		sock_gid = gr->gr_gid;
	} else if (vw_uint_parse(group, 0, 0x7fffffff, &v)) {
		sock_gid = (gid_t)v;
	} else {
		snprintf(err, errlen, "unknown group '%s'", group);
		return -EINVAL;
	}
	sock_group = true;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_extra(void *p)
{
	return p >= (void *)extras && p < (void *)(extras + MAX_EXTRA);
}

/*
 * Group reports (MLD, IGMP) a VNIC sent: its zone's groups are read again
 * (objects/vnic.c), at once, but not more often than every MCAST_GAP_MS:
 * one read of a zone's list costs as much as the zone has devices, and a
 * burst of new VNICs reports each within a few milliseconds; a report that
 * comes sooner is taken with the next read.
 */
#define MCAST_GAP_MS 50
static int64_t mcast_last;
static bool mcast_due;

static void mcast_reports(void)
{
	int64_t now = now_ms();

	if (!mcast_due || now - mcast_last < MCAST_GAP_MS)
		return;
	mcast_due = false;
	mcast_last = now;
	vnic_refresh_mcast_dirty();
}

static int mcast_timeout(void)
{
	int64_t left = mcast_last + MCAST_GAP_MS - now_ms();

	return !mcast_due ? -1 : left < 0 ? 0 : (int)left;
}

/* The sooner of two waits in ms, -1 meaning none */
static int soonest(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* The loop's wait: the soonest of the reap's, the group reports', the
 * aggregations' LACP timers, the VNICs' announcements and the extra
 * descriptors'. */
static int loop_timeout(void)
{
	int a = soonest(soonest(vnic_reap_timeout(), mcast_timeout()), aggr_timeout()), i;

	a = soonest(a, announce_timeout());
	for (i = 0; i < MAX_EXTRA; i++)
		a = soonest(a, extras[i].fn && extras[i].timeout ? extras[i].timeout() : -1);
	return a;
}

int ctl_listen(const char *path, char *err, size_t errlen)
{
	int fd = access_listen(path, sock_group, sock_gid, err, errlen);

	if (fd < 0)
		return fd;
	lfd = fd;
	snprintf(sockpath, sizeof(sockpath), "%s", path);
	return 0;
}

void ctl_close(void)
{
	struct stat st;

	if (lfd >= 0) {
		close(lfd);
		/* ours, unless something else was put in its place meanwhile */
		if (lstat(sockpath, &st) == 0 && S_ISSOCK(st.st_mode))
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

/* Forgets the client (its connection is closed or given away). */
static void client_forget(struct client *cl)
{
	clients[cl->slot] = NULL;
	nclients--;
	if (cl->root)
		nroot--;
	cl->fd = -1;
	cl->next_dead = dead;
	dead = cl;
}

static void clients_reap(void)
{
	while (dead) {
		struct client *cl = dead;

		dead = cl->next_dead;
		vw_buf_free(&cl->in);
		vw_buf_free(&cl->out);
		free(cl);
	}
}

static void client_free(struct client *cl)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	client_forget(cl);
}

/* Closes a client the daemon gives up on, telling it why in one message
 * (status 11) if its socket takes it; the library knows this message as
 * the one thing a daemon sends unasked, and connects again. */
static void client_drop(struct client *cl, const char *why)
{
	struct vw_buf b = { 0 };

	vw_buf_kv(&b, "status", "%d", (int)VW_E_PROTO);
	vw_buf_kv(&b, "message", "vwired: %s", why);
	vw_buf_printf(&b, "\n");
	if (b.p && send(cl->fd, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		errno = 0;
	vw_buf_free(&b);
	client_free(cl);
}

/* Nothing in progress: no request begun, no reply owed, nothing sent that
 * the daemon has not read yet. */
static bool client_idle(const struct client *cl)
{
	int pending = 0;

	return !cl->in.len && !cl->out.len && !cl->closing && ioctl(cl->fd, FIONREAD, &pending) == 0 && !pending;
}

/*
 * A slot for a new client: non-root clients may hold all but ROOT_SLOTS;
 * when there is none, the longest-idle client a newcomer may displace (root
 * any, others only another non-root) is closed to make room.  false when
 * every candidate is busy.
 */
static bool make_room(bool root)
{
	struct client *victim = NULL;
	int i;

	if (nclients < MAX_CLIENTS && (root || nclients - nroot < MAX_CLIENTS - ROOT_SLOTS))
		return true;
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *cl = clients[i];

		if (cl && (root || !cl->root) && client_idle(cl) && (!victim || cl->last < victim->last))
			victim = cl;
	}
	if (!victim)
		return false;
	client_drop(victim, "idle connection closed to make room for another client");
	return true;
}

static void client_accept(void)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *cl;
		unsigned privs;
		bool root;

		if (fd < 0)
			return;
		privs = access_peer(fd, &root);
		if (!make_room(root) || !(cl = calloc(1, sizeof(*cl)))) {
			static const char busy[] = "status=8\nmessage=vwired: too many clients connected; try again\n\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				errno = 0;
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->root = root;
		cl->privs = privs;
		cl->last = now_ms();
		ev.data.ptr = cl;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(cl);
			continue;
		}
		for (i = 0; clients[i]; i++)
			;
		cl->slot = i;
		clients[i] = cl;
		nclients++;
		if (root)
			nroot++;
	}
}

/* On the tick: clients past their deadlines are closed. */
static void client_deadlines(void)
{
	int64_t now = now_ms(), req = (int64_t)req_timeout * 1000, idle = (int64_t)idle_timeout * 1000;
	char why[96];
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *cl = clients[i];

		if (!cl)
			continue;
		if (cl->out_since && now - cl->out_since >= req) {
			client_free(cl); /* it does not read: nothing to tell it */
		} else if (cl->in_since && now - cl->in_since >= req) {
			snprintf(why, sizeof(why), "request not complete after %d s; connection closed", req_timeout);
			client_drop(cl, why);
		} else if (!cl->in.len && !cl->out.len && now - cl->last >= idle) {
			snprintf(why, sizeof(why), "connection idle for %d s; closed", idle_timeout);
			client_drop(cl, why);
		}
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
	client_forget(cl); /* a stream has no deadlines: it is the command's */
}

int ctl_parse_request(char *buf, size_t len, int *argc, char **argv, int max, const char **why)
{
	size_t i = 0;

	*argc = 0;
	if (memchr(buf, 0, len)) {
		*why = "malformed request";
		return -1;
	}
	while (i < len) {
		char *line = buf + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i;

		i += n + 1;
		if (!n) /* empty lines are skipped */
			continue;
		line[n] = 0;
		if (n < 4 || strncmp(line, "arg=", 4) || *argc == max) {
			*why = *argc == max ? "too many words in request" : "malformed request";
			return -1;
		}
		argv[(*argc)++] = line + 4;
	}
	argv[*argc] = NULL;
	return 0;
}

/* Runs the request that ends at in.p[end]; returns false if it was garbage. */
static bool client_request(struct client *cl, size_t end)
{
	const struct vw_cmddef *def;
	char *argv[MAX_ARGS + 1];
	const char *why;
	int argc;

	cl->in.p[end] = 0;
	if (ctl_parse_request(cl->in.p, end, &argc, argv, MAX_ARGS, &why) < 0) {
		reply_error(cl, why);
		return false;
	}
	/* the one permission check (lib/cmd.c's table says what each
	 * command needs); a command the grammar does not know is left to
	 * ctl_handle to refuse */
	def = argc ? vw_cmd_find(argv[0]) : NULL;
	if (def && !(cl->privs & 1u << def->priv)) {
		vw_buf_kv(&cl->out, "status", "%d", (int)VW_E_PERM);
		vw_buf_kv(&cl->out, "message", "permission denied: '%s' needs %s", def->name, vw_priv_needs(def->priv));
		vw_buf_printf(&cl->out, "\n");
		return true;
	}
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
		cl->out_since = 0;
		cl->last = now_ms();
		if (cl->closing) {
			client_free(cl);
			return;
		}
		ev.events = EPOLLIN;
	} else {
		if (!cl->out_since)
			cl->out_since = now_ms();
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
	cl->last = now_ms();
	if (!cl->in.len)
		cl->in_since = cl->last;
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
			/* what is left is a new request, begun now */
			cl->in_since = cl->in.len ? now_ms() : 0;
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
	ev.data.ptr = &tag_aggr; /* LACP and the members' carrier */
	if (aggr_poll_fd() >= 0)
		epoll_ctl(epfd, EPOLL_CTL_ADD, aggr_poll_fd(), &ev);
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
				client_deadlines();
				tick = true;
			} else if (is_extra(p)) {
				((struct extra *)p)->due = true;
			} else if (p == &tag_aggr) {
				aggr_poll();
			} else if (p == &tag_mcast) {
				uint64_t n;

				if (read(vw_switch_event_fd, &n, sizeof(n)) > 0)
					mcast_due = true;
			} else if (((struct client *)p)->fd < 0) {
				continue; /* closed earlier in this round */
			} else if (evs[i].events & EPOLLOUT) {
				client_flush(p);
			} else {
				client_input(p);
			}
		}
		clients_reap();
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
		mcast_reports();
		if (!aggr_timeout())
			aggr_poll();
		announce_run();
	}
}
