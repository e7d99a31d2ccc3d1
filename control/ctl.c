/*
 * The control socket.  One epoll loop on the control thread serves every
 * client (non-blocking; a request is read whole before it runs, a reply is
 * written as the client takes it), the signals that stop the daemon, a
 * one-second housekeeping timer, and the reap of deleted VNICs' Linux faces
 * (a timeout of the wait; objects/link.c).  A client that sends garbage gets
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
 * its credentials (SO_PEERCRED) against the command table's privilege
 * (lib/cmd.c); docs/protocol.md, "Permissions" and "Timeouts".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "control/ctl.h"
#include "datapath/vswitch.h"
#include "objects/link.h"

#define MAX_CLIENTS 128
#define ROOT_SLOTS 8 /* of MAX_CLIENTS, for root only */
#define MAX_ARGS 256

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

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

static const char *file_kind(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symbolic link" :
	       S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a socket";
}

/* The socket as bound: mode 0600 root, or 0660 with group sock_gid.  bind
 * made it so (umask, group); a set-group-ID directory or a default ACL can
 * still change either, and nothing can connect before listen(), so it is
 * checked and put right here, on the socket itself, never through a
 * symbolic link. */
static int socket_perms(const char *path, char *err, size_t errlen)
{
	mode_t want = sock_group ? 0660 : 0600;
	gid_t gid = sock_group ? sock_gid : 0;
	struct stat st;

	int e;

	if (lstat(path, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot check %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) { /* replaced under us: not ours to remove */
		snprintf(err, errlen, "%s is %s, not the socket just bound", path, file_kind(st.st_mode));
		return -EEXIST;
	}
	if ((st.st_uid != 0 || st.st_gid != gid) && fchownat(AT_FDCWD, path, 0, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot give %s to root and group %u: %s", path, (unsigned)gid, strerror(e));
		return -e;
	}
	if ((st.st_mode & 07777) != want && fchmodat(AT_FDCWD, path, want, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot make %s mode %04o: %s", path, (unsigned)want, strerror(e));
		return -e;
	}
	return 0;
}

int ctl_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)], *slash;
	gid_t egid = getegid();
	struct stat st;
	mode_t mask;
	int probe, rc, e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: '%s'", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	/* only a socket is ever removed: a stale one left by a daemon that
	 * died; anything else at the path is someone's file */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is %s, not a socket; refusing to replace it", path,
				 file_kind(st.st_mode));
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "another vwired is running on %s", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(errno));
			return -errno;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "cannot use %s: %s", path, strerror(errno));
		return -errno;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -errno;
	}
	/* the socket is born with its final mode and group (no window in
	 * which the umask decides who may connect); still single-threaded
	 * here, so umask and the effective group are ours to change */
	if (sock_group && setegid(sock_gid) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create %s with group %u: %s", path, (unsigned)sock_gid, strerror(e));
		goto fail;
	}
	mask = umask(sock_group ? 0117 : 0177);
	rc = bind(lfd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(mask);
	if (sock_group && setegid(egid) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot restore the daemon's group: %s", strerror(e));
		if (rc == 0)
			unlink(path);
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		goto fail;
	}
	if ((rc = socket_perms(path, err, errlen)) < 0 || listen(lfd, SOMAXCONN) < 0) {
		e = rc < 0 ? -rc : errno;
		if (rc == 0)
			snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		if (rc != -EEXIST)
			unlink(path);
		goto fail;
	}
	snprintf(sockpath, sizeof(sockpath), "%s", path);
	return 0;
fail:
	close(lfd);
	lfd = -1;
	return -e;
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

/*
 * The capabilities of the process that connected, as an effective set, if
 * they count here: the process is in the daemon's user namespace (elsewhere
 * they are only over that namespace) and is the one that connected, with
 * the uid it connected with.  A pid can be reused once its process is gone:
 * the pidfd the kernel gives for the peer (SO_PEERPIDFD, Linux 6.5) proves
 * the process still existed after /proc was read.  Without it (older
 * kernels) a process that connects and exits at once leaves its pid to a
 * later one, which would have to have the same uid to be taken for it.
 */
static int peer_caps(int fd, const struct ucred *uc, uint64_t *capeff)
{
	char path[64], buf[4096], *p;
	struct stat a, b;
	socklen_t len = sizeof(int);
	int pidfd = -1, sfd, rc = -1;
	unsigned ruid, euid;
	unsigned long long cap;
	ssize_t n = -1;

	if (uc->pid <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		pidfd = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)uc->pid);
	sfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sfd >= 0) {
		n = read(sfd, buf, sizeof(buf) - 1);
		close(sfd);
	}
	if (n > 0) {
		buf[n] = 0;
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)uc->pid);
		if ((p = strstr(buf, "\nUid:")) && sscanf(p, "\nUid: %u %u", &ruid, &euid) == 2 && euid == uc->uid &&
		    (p = strstr(buf, "\nCapEff:")) && sscanf(p, "\nCapEff: %llx", &cap) == 1 && stat(path, &a) == 0 &&
		    stat("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*capeff = cap;
			rc = 0;
		}
	}
#ifdef SYS_pidfd_send_signal
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		rc = -1; /* gone: what was read may be another process's */
#endif
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

/* What the peer of fd may run (1 << VW_PRIV_x): uid 0 anything; anyone
 * else read-only commands (the socket's mode decides who gets that far),
 * changes with CAP_NET_ADMIN and captures with CAP_NET_RAW in its
 * effective set when it connected. */
static unsigned peer_privs(int fd, bool *root)
{
	unsigned privs = 1u << VW_PRIV_READ;
	socklen_t len = sizeof(struct ucred);
	struct ucred uc;
	uint64_t cap;

	*root = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return privs;
	if (uc.uid == 0) {
		*root = true;
		return privs | 1u << VW_PRIV_ADMIN | 1u << VW_PRIV_CAPTURE;
	}
	if (peer_caps(fd, &uc, &cap) == 0) {
		if (cap >> CAP_NET_ADMIN & 1)
			privs |= 1u << VW_PRIV_ADMIN;
		if (cap >> CAP_NET_RAW & 1)
			privs |= 1u << VW_PRIV_CAPTURE;
	}
	return privs;
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
		privs = peer_privs(fd, &root);
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
			} else if (p == &tag_mcast) {
				uint64_t n;

				if (read(vw_switch_event_fd, &n, sizeof(n)) > 0)
					vnic_refresh_mcast_dirty();
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
	}
}
