/*
 * The client side of the control protocol (see "client side" in vwire.h for
 * the wire format) and the text buffer both sides build messages with.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "lib/vwire.h"

struct vw_handle {
	int fd;
	struct sockaddr_un sun; /* to connect again (vw_call) */
};

void vw_buf_free(struct vw_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool buf_reserve(struct vw_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	for (cap = b->cap ? b->cap : 256; cap < b->len + more + 1; cap *= 2)
		;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void buf_vprintf(struct vw_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void vw_buf_append(struct vw_buf *b, const void *p, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

void vw_buf_printf(struct vw_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void vw_buf_kv(struct vw_buf *b, const char *key, const char *fmt, ...)
{
	size_t start;
	va_list ap;

	vw_buf_printf(b, "%s=", key);
	start = b->len;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
	for (; start < b->len; start++)
		if ((unsigned char)b->p[start] < 0x20)
			b->p[start] = ' ';
	vw_buf_printf(b, "\n");
}

const char *vw_socket_path(const char *override)
{
	const char *env = getenv("VWIRE_SOCKET");

	if (override && *override)
		return override;
	if (env && *env)
		return env;
	return VW_DEFAULT_SOCKET;
}

/* Why connect() failed, for a person: only a missing socket or one nobody
 * listens on means there is no daemon. */
static vw_status_t connect_error(const char *path, int e, char *err, size_t errlen)
{
	struct stat st;
	struct group *gr;
	char who[160];

	if (e == ENOENT || e == ECONNREFUSED) {
		snprintf(err, errlen, "no daemon at %s (%s); start one with 'vwired' or set VWIRE_SOCKET", path,
			 strerror(e));
		return VW_E_NODAEMON;
	}
	if (e != EACCES && e != EPERM) {
		snprintf(err, errlen, "cannot connect to vwired at %s: %s", path, strerror(e));
		return VW_E_SYS;
	}
	if (stat(path, &st) < 0)
		snprintf(who, sizeof(who), "a directory on the way is closed to you");
	else if (!(st.st_mode & 0020))
		snprintf(who, sizeof(who), "the socket is for root only");
	else if ((gr = getgrgid(st.st_gid)))
		snprintf(who, sizeof(who), "the socket is for root and group %s", gr->gr_name);
	else
		snprintf(who, sizeof(who), "the socket is for root and group %u", (unsigned)st.st_gid);
	snprintf(err, errlen, "cannot connect to vwired at %s: %s (%s; ask an administrator for access)", path,
		 strerror(e), who);
	return VW_E_PERM;
}

static int dial(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	/* a daemon that stops answering must not hang its clients forever */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 60 }, sizeof(struct timeval));
	return fd;
}

vw_status_t vw_open(const char *sockpath, struct vw_handle **hp, char *err, size_t errlen)
{
	const char *path = vw_socket_path(sockpath);
	struct vw_handle *h;
	vw_status_t st;

	if (strlen(path) >= sizeof(h->sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: '%s'", path);
		return VW_E_INVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return VW_E_NOMEM;
	}
	h->sun.sun_family = AF_UNIX;
	strcpy(h->sun.sun_path, path);
	h->fd = dial(&h->sun);
	if (h->fd < 0) {
		st = connect_error(path, -h->fd, err, errlen);
		free(h);
		return st;
	}
	*hp = h;
	return VW_OK;
}

/*
 * The daemon closes a connection that stays idle too long, or that it needs
 * the slot of, and says so first (docs/protocol.md, "Timeouts"); it sends
 * nothing else unasked.  Such a connection is replaced before a request
 * goes out.  A plain end of stream (the daemon stopped) is left for the
 * request to find.
 */
static void reconnect_if_dropped(struct vw_handle *h)
{
	struct pollfd p = { .fd = h->fd, .events = POLLIN };
	char c;
	int fd;

	if (poll(&p, 1, 0) != 1 || recv(h->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
		return;
	fd = dial(&h->sun);
	if (fd < 0)
		return;
	close(h->fd);
	h->fd = fd;
}

void vw_close(struct vw_handle *h)
{
	if (!h)
		return;
	close(h->fd);
	free(h);
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads until the blank line that ends a message. */
static char *read_message(int fd)
{
	struct vw_buf b = { 0 };

	for (;;) {
		ssize_t r;

		if (!buf_reserve(&b, 4096) || b.len > VW_MSG_MAX)
			break;
		r = recv(fd, b.p + b.len, 4096, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b.len += (size_t)r;
		b.p[b.len] = 0;
		if ((b.len == 1 && b.p[0] == '\n') || (b.len >= 2 && !strcmp(b.p + b.len - 2, "\n\n")))
			return b.p;
	}
	vw_buf_free(&b);
	return NULL;
}

static bool record_add_kv(struct vw_record *r, char *k, char *v)
{
	char **keys = realloc(r->keys, (size_t)(r->n + 1) * sizeof(char *));
	char **vals;

	if (!keys)
		return false;
	r->keys = keys;
	vals = realloc(r->vals, (size_t)(r->n + 1) * sizeof(char *));
	if (!vals)
		return false;
	r->vals = vals;
	r->keys[r->n] = k;
	r->vals[r->n] = v;
	r->n++;
	return true;
}

vw_status_t vw_reply_parse(char *raw, struct vw_reply *rep)
{
	char *line, *save = NULL;
	bool have_status = false;

	for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			return VW_E_PROTO;
		*eq = 0;
		if (!strcmp(line, "record")) {
			struct vw_record *recs = realloc(rep->recs, (size_t)(rep->nrec + 1) * sizeof(*recs));

			if (!recs)
				return VW_E_NOMEM;
			rep->recs = recs;
			memset(&recs[rep->nrec], 0, sizeof(recs[0]));
			recs[rep->nrec++].type = eq + 1;
		} else if (!strcmp(line, "status")) {
			long st = strtol(eq + 1, NULL, 10);

			rep->status = st >= 0 && st < VW_E_COUNT ? (vw_status_t)st : VW_E_PROTO;
			have_status = true;
		} else if (!strcmp(line, "message")) {
			rep->message = eq + 1;
		} else if (rep->nrec) {
			if (!record_add_kv(&rep->recs[rep->nrec - 1], line, eq + 1))
				return VW_E_NOMEM;
		} else {
			return VW_E_PROTO;
		}
	}
	return have_status ? VW_OK : VW_E_PROTO;
}

/* Reads exactly one message: what follows it (a stream) stays unread. */
static char *read_message_exact(int fd)
{
	struct vw_buf b = { 0 };

	for (;;) {
		char *end = NULL;
		ssize_t r;
		size_t take;

		if (!buf_reserve(&b, 4096) || b.len > VW_MSG_MAX)
			break;
		r = recv(fd, b.p + b.len, 4096, MSG_PEEK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b.p[b.len + (size_t)r] = 0;
		/* the message ends at the first empty line, which may straddle
		 * what was read before */
		if (b.len == 0 && b.p[0] == '\n')
			end = b.p;
		else if ((end = memmem(b.p + (b.len ? b.len - 1 : 0), (size_t)r + (b.len ? 1 : 0), "\n\n", 2)))
			end++;
		take = end ? (size_t)(end - (b.p + b.len)) + 1 : (size_t)r;
		r = recv(fd, b.p + b.len, take, 0);
		if (r != (ssize_t)take)
			break;
		b.len += take;
		b.p[b.len] = 0;
		if (end)
			return b.p;
	}
	vw_buf_free(&b);
	return NULL;
}

static vw_status_t call(struct vw_handle *h, int argc, char *const argv[], struct vw_reply *rep, bool stream)
{
	struct vw_buf b = { 0 };
	vw_status_t st;
	bool sent;
	int i;

	memset(rep, 0, sizeof(*rep));
	rep->message = "";
	for (i = 0; i < argc; i++) {
		if (strpbrk(argv[i], "\n\r")) {
			vw_buf_free(&b);
			return VW_E_INVAL;
		}
		vw_buf_printf(&b, "arg=%s\n", argv[i]);
	}
	vw_buf_printf(&b, "\n");
	if (b.oom || b.len > VW_REQ_MAX) {
		st = b.oom ? VW_E_NOMEM : VW_E_USAGE;
		vw_buf_free(&b);
		return st;
	}
	reconnect_if_dropped(h);
	/* a daemon that refuses the connection (too many clients) says why
	 * before closing: read its answer even when the send failed */
	sent = write_all(h->fd, b.p, b.len);
	vw_buf_free(&b);
	rep->raw = stream ? read_message_exact(h->fd) : read_message(h->fd);
	if (!rep->raw)
		return sent ? VW_E_PROTO : VW_E_NODAEMON;
	st = vw_reply_parse(rep->raw, rep);
	if (st != VW_OK) {
		vw_reply_free(rep);
		rep->message = "";
	}
	return st;
}

vw_status_t vw_call(struct vw_handle *h, int argc, char *const argv[], struct vw_reply *rep)
{
	return call(h, argc, argv, rep, false);
}

vw_status_t vw_call_stream(struct vw_handle *h, int argc, char *const argv[], struct vw_reply *rep, int *fd)
{
	vw_status_t st = call(h, argc, argv, rep, true);

	if (st == VW_OK && rep->status == VW_OK) {
		/* a capture may be quiet for as long as it likes */
		setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ 0, 0 }, sizeof(struct timeval));
		*fd = h->fd;
	}
	return st;
}

void vw_reply_free(struct vw_reply *rep)
{
	int i;

	for (i = 0; i < rep->nrec; i++) {
		free(rep->recs[i].keys);
		free(rep->recs[i].vals);
	}
	free(rep->recs);
	free(rep->raw);
	memset(rep, 0, sizeof(*rep));
	rep->message = "";
}

const char *vw_record_get(const struct vw_record *r, const char *key)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->keys[i], key))
			return r->vals[i];
	return NULL;
}
