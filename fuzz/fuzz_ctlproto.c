/*
 * The control protocol (lib/client.c; wire format in lib/vwire.h and
 * docs/protocol.md), through a real Unix socket: the harness plays the
 * daemon on a socket of its own (/tmp/vwfuzz.XXXXXX/s) and the library is
 * the client, from vw_open() to vw_close().
 *
 * Input: a mode byte, then (mode bit 1 clear) the daemon's bytes as they
 * are, or (bit 1 set) pieces separated by NULs from which the harness
 * builds both a request's words and a well-formed reply.  Mode bit 2: the
 * call is vw_call_stream(), as vwsnoop makes it.
 *
 * Checked, daemon's bytes: vw_call() and vw_reply_parse() take any bytes
 * (ASan, LeakSanitizer), and what they accept is a reply whose status is a
 * known code and whose keys and values hold no line break or '=' in a key;
 * the request on the wire is "arg=WORD" lines and an empty line; a stream
 * call leaves exactly the bytes after the reply's empty line on the
 * connection.  Built replies: the words of a request reach the daemon
 * unchanged (or the call refuses a word with a line break and sends
 * nothing), and the records, fields, status and message the daemon wrote
 * with vw_buf_kv() come back unchanged (control characters as blanks).
 */
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "fuzz/fuzz.h"
#include "lib/vwire.h"

#define M_BUILD 1
#define M_STREAM 2
#define MAXPIECES 64

static char dir[] = "/tmp/vwfuzz.XXXXXX", path[64];
static int lfd = -1;

static void cleanup(void)
{
	if (lfd >= 0)
		close(lfd);
	unlink(path);
	rmdir(dir);
}

/* A run that crashed exits without cleanup(): remove the sockets of such
 * runs, which no process answers on any more. */
static void sweep_stale(void)
{
	glob_t g;
	size_t i;

	if (glob("/tmp/vwfuzz.*/s", 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char *slash;

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", g.gl_pathv[i]);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno == ECONNREFUSED) {
			unlink(g.gl_pathv[i]);
			slash = strrchr(g.gl_pathv[i], '/');
			*slash = 0;
			rmdir(g.gl_pathv[i]);
		}
		if (fd >= 0)
			close(fd);
	}
	globfree(&g);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	(void)argc;
	(void)argv;
	sweep_stale();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lfd, 4) < 0) {
		perror(path);
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

/* Everything until end of file, NUL-terminated; *n its length. */
static char *recv_all(int fd, size_t *n)
{
	struct vw_buf b = { 0 };
	char chunk[4096];
	ssize_t r;

	vw_buf_printf(&b, "%s", "");
	while ((r = recv(fd, chunk, sizeof(chunk), 0)) > 0) {
		vw_buf_append(&b, chunk, (size_t)r);
		FUZZ_CHECK(!b.oom, "out of memory");
	}
	*n = b.len;
	return b.p;
}

/* A reply vw_reply_parse() accepted: nothing in it that could not have
 * been on one line of the wire. */
static void check_reply(const struct vw_reply *rep)
{
	int i, k;

	FUZZ_CHECK(rep->status >= VW_OK && rep->status < VW_E_COUNT, "status %d", rep->status);
	FUZZ_CHECK(rep->message && !strchr(rep->message, '\n'), "message");
	FUZZ_CHECK(rep->nrec >= 0 && (rep->nrec == 0 || rep->recs), "%d records", rep->nrec);
	for (i = 0; i < rep->nrec; i++) {
		const struct vw_record *r = &rep->recs[i];

		FUZZ_CHECK(r->type && !strchr(r->type, '\n'), "record %d type", i);
		for (k = 0; k < r->n; k++) {
			FUZZ_CHECK(!strchr(r->keys[k], '=') && !strchr(r->keys[k], '\n') && !strchr(r->vals[k], '\n'),
				   "record %d field %d", i, k);
			FUZZ_CHECK(strcmp(r->keys[k], "record") && strcmp(r->keys[k], "status") &&
					   strcmp(r->keys[k], "message"),
				   "reserved key '%s' in a record", r->keys[k]);
		}
		if (r->n)
			FUZZ_CHECK(vw_record_get(r, r->keys[0]) == r->vals[0], "vw_record_get");
	}
}

/* The request the client sent for words, as the daemon's reader wants it. */
static void check_request(const char *req, size_t n, int argc, char **argv)
{
	struct vw_buf want = { 0 };
	int i;

	for (i = 0; i < argc; i++)
		vw_buf_printf(&want, "arg=%s\n", argv[i]);
	vw_buf_printf(&want, "\n");
	FUZZ_CHECK(!want.oom && n == want.len && !memcmp(req, want.p, n), "request on the wire is not the words");
	vw_buf_free(&want);
}

/* The daemon's side of one connection, on a thread of its own: it reads
 * the request up to its empty line (or the end), and only then sends its
 * reply, as vwired does (a client takes bytes that come before its request
 * for a notice that the daemon dropped it, and reconnects); then it reads
 * whatever else comes until the client closes. */
struct fake_daemon {
	int fd;
	const char *reply;
	size_t rlen;
	struct vw_buf req;
};

static bool request_whole(const struct vw_buf *b)
{
	return (b->len == 1 && b->p[0] == '\n') || (b->len >= 2 && !memcmp(b->p + b->len - 2, "\n\n", 2));
}

static void *fake_daemon_run(void *arg)
{
	struct fake_daemon *d = arg;
	const char *p = d->reply;
	size_t n = d->rlen;
	char chunk[4096];
	bool replied = false;
	ssize_t r;

	vw_buf_printf(&d->req, "%s", "");
	for (;;) {
		if (!replied && request_whole(&d->req)) {
			while (n) {
				ssize_t w = send(d->fd, p, n, MSG_NOSIGNAL);

				if (w <= 0)
					break; /* the client went away first */
				p += w;
				n -= (size_t)w;
			}
			shutdown(d->fd, SHUT_WR);
			replied = true;
		}
		r = recv(d->fd, chunk, sizeof(chunk), 0);
		if (r <= 0)
			break;
		vw_buf_append(&d->req, chunk, (size_t)r);
		FUZZ_CHECK(!d->req.oom, "out of memory");
	}
	return NULL;
}

/* One call: reply (rlen bytes) is what the daemon sends; returns the
 * client's status, with *rep filled, and the request in *req. */
static vw_status_t call(int argc, char **argv, const char *reply, size_t rlen, bool stream, struct vw_reply *rep,
			char **req, size_t *reqlen, char **rest, size_t *restlen)
{
	struct fake_daemon d = { .reply = reply, .rlen = rlen };
	struct vw_handle *h;
	pthread_t t;
	char err[256];
	vw_status_t st;
	int cfd = -1;

	*rest = NULL;
	*restlen = 0;
	FUZZ_CHECK(vw_open(path, &h, err, sizeof(err)) == VW_OK, "vw_open: %s", err);
	d.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	FUZZ_CHECK(d.fd >= 0, "accept: %s", strerror(errno));
	FUZZ_CHECK(pthread_create(&t, NULL, fake_daemon_run, &d) == 0, "pthread_create");
	if (stream)
		st = vw_call_stream(h, argc, argv, rep, &cfd);
	else
		st = vw_call(h, argc, argv, rep);
	if (cfd >= 0)
		*rest = recv_all(cfd, restlen);
	vw_close(h);
	pthread_join(t, NULL);
	close(d.fd);
	*req = d.req.p;
	*reqlen = d.req.len;
	return st;
}

/* Mode bit 1 clear: the daemon's bytes as they are. */
static void raw_reply(const uint8_t *data, size_t size, bool stream)
{
	static char *words[] = { "show-vnic", "-p", NULL };
	struct vw_reply rep = { 0 };
	char *copy = fuzz_strndup(data, size), *req, *rest;
	size_t reqlen, restlen;
	vw_status_t st;

	if (!copy)
		return;
	/* the parser alone, on the bytes up to the first NUL, as the
	 * daemon's own reader (observability/metrics.c) calls it */
	rep.message = "";
	st = vw_reply_parse(copy, &rep);
	FUZZ_CHECK(st == VW_OK || st == VW_E_PROTO || st == VW_E_NOMEM, "vw_reply_parse: %d", st);
	if (st == VW_OK)
		check_reply(&rep);
	rep.raw = NULL;
	vw_reply_free(&rep);
	free(copy);

	st = call(2, words, (const char *)data, size, stream, &rep, &req, &reqlen, &rest, &restlen);
	check_request(req, reqlen, 2, words);
	if (st == VW_OK) {
		check_reply(&rep);
		if (stream && rep.status == VW_OK) {
			/* the reply ends at the first empty line */
			const char *end = size && data[0] == '\n' ? (const char *)data
								  : memmem(data, size, "\n\n", 2);

			FUZZ_CHECK(end, "a reply without its empty line was taken");
			if (end != (const char *)data)
				end++;
			end++;
			FUZZ_CHECK(rest && restlen == size - (size_t)(end - (const char *)data) && !memcmp(rest, end, restlen),
				   "the stream after the reply is not what the daemon sent");
		}
	} else {
		FUZZ_CHECK(st == VW_E_PROTO || st == VW_E_NOMEM, "vw_call: %d", st);
	}
	free(rest);
	free(req);
	vw_reply_free(&rep);
}

/* The key vw_buf_kv() gets: a name no reply line could misread. */
static void key_of(const char *piece, size_t n, char *key, size_t cap)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < cap; i++)
		if ((piece[i] >= 'a' && piece[i] <= 'z') || piece[i] == '_' || piece[i] == '-')
			key[k++] = piece[i];
	key[k] = 0;
	if (!k || !strcmp(key, "record") || !strcmp(key, "status") || !strcmp(key, "message")) {
		memmove(key + 1, key, k + 1);
		key[0] = 'k';
	}
}

static bool same_text(const char *got, const char *sent)
{
	for (; *sent; got++, sent++)
		if (*got != ((unsigned char)*sent < 0x20 ? ' ' : *sent))
			return false;
	return !*got;
}

/* Mode bit 1 set: a request and a reply built from the pieces. */
static void built_reply(const uint8_t *data, size_t size, bool stream)
{
	char *s = fuzz_strndup(data, size), *pieces[MAXPIECES], key[64], *req, *rest, *eq;
	struct vw_buf out = { 0 };
	struct vw_reply rep = { 0 };
	int n = 0, i, rec = -1, field = 0;
	size_t at = 0, reqlen, restlen;
	bool bad_word = false;
	unsigned status;
	vw_status_t st;

	if (!s || !size) {
		free(s);
		return;
	}
	status = (unsigned char)s[0] % VW_E_COUNT;
	for (at = 1; at <= size && n < MAXPIECES; at += strlen(s + at) + 1)
		pieces[n++] = s + at;
	for (i = 0; i < n; i++) {
		if (pieces[i][0] == 'R') {
			vw_buf_kv(&out, "record", "%s", pieces[i] + 1);
			rec = 0;
			continue;
		}
		if (rec < 0)
			continue; /* fields belong to a record */
		eq = strchr(pieces[i], '=');
		key_of(pieces[i], eq ? (size_t)(eq - pieces[i]) : strlen(pieces[i]), key, sizeof(key));
		vw_buf_kv(&out, key, "%s", eq ? eq + 1 : "");
	}
	vw_buf_kv(&out, "status", "%u", status);
	vw_buf_kv(&out, "message", "%s", n ? pieces[0] : "");
	vw_buf_printf(&out, "\n");
	if (out.oom)
		goto out;
	rec = -1;
	for (i = 0; i < n; i++)
		bad_word |= strpbrk(pieces[i], "\n\r") != NULL;

	st = call(n, pieces, out.p, out.len, stream, &rep, &req, &reqlen, &rest, &restlen);
	if (bad_word) {
		FUZZ_CHECK(st == VW_E_INVAL && reqlen == 0, "a word with a line break was sent (%d)", st);
	} else {
		size_t want = 0;

		for (i = 0; i < n; i++)
			want += 5 + strlen(pieces[i]);
		if (want + 1 > VW_REQ_MAX) {
			FUZZ_CHECK(st == VW_E_USAGE && reqlen == 0, "a request over VW_REQ_MAX was sent (%d)", st);
		} else {
			check_request(req, reqlen, n, pieces);
			FUZZ_CHECK(st == VW_OK, "a well-formed reply refused: %d", st);
			check_reply(&rep);
			FUZZ_CHECK(rep.status == status, "status %d, sent %u", rep.status, status);
			FUZZ_CHECK(same_text(rep.message, n ? pieces[0] : ""), "message '%s'", rep.message);
			for (i = 0; i < n; i++) {
				if (pieces[i][0] == 'R') {
					rec++;
					field = 0;
					FUZZ_CHECK(rec < rep.nrec && same_text(rep.recs[rec].type, pieces[i] + 1),
						   "record %d", rec);
					continue;
				}
				if (rec < 0)
					continue; /* not sent */
				eq = strchr(pieces[i], '=');
				key_of(pieces[i], eq ? (size_t)(eq - pieces[i]) : strlen(pieces[i]), key, sizeof(key));
				FUZZ_CHECK(field < rep.recs[rec].n && !strcmp(rep.recs[rec].keys[field], key) &&
						   same_text(rep.recs[rec].vals[field], eq ? eq + 1 : ""),
					   "record %d field %d (%s)", rec, field, key);
				field++;
			}
			FUZZ_CHECK(rec + 1 == rep.nrec, "%d records, sent %d", rep.nrec, rec + 1);
			if (stream && rep.status == VW_OK)
				FUZZ_CHECK(restlen == 0, "bytes after the reply");
		}
	}
	free(rest);
	free(req);
	vw_reply_free(&rep);
out:
	vw_buf_free(&out);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 32768)
		return 0;
	if (data[0] & M_BUILD)
		built_reply(data + 1, size - 1, data[0] & M_STREAM);
	else
		raw_reply(data + 1, size - 1, data[0] & M_STREAM);
	return 0;
}
