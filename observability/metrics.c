/*
 * The HTTP listener (vwired --metrics or --http ADDR:PORT): /metrics for
 * Prometheus, the web console's page at / and its JSON API under /api/
 * (observability/api.c).  libmicrohttpd without a thread of its own (its
 * epoll descriptor sits in the control loop and MHD_run runs there), so the
 * handler reads the model on the thread that owns it.  The text is made
 * from the records of the same "stats" and "flowstats" commands vwstat
 * asks for, so a scrape shows vwstat's numbers by construction.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "observability/api.h"
#include "observability/loop.h"
#include "observability/metrics.h"
#include "observability/web.h"

static struct sockaddr_storage maddr;
static socklen_t maddrlen;
static char mspec[128];
static struct MHD_Daemon *mhd;

int metrics_parse(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&maddr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&maddr;
	char host[64];
	const char *colon, *h = spec;
	size_t hl;
	uint64_t port;

	colon = strrchr(spec, ':');
	if (!colon || colon == spec || !vw_uint_parse(colon + 1, 1, 65535, &port)) {
		snprintf(err, errlen, "invalid --metrics '%s' (ADDRESS:PORT, e.g. 127.0.0.1:9464)", spec);
		return -EINVAL;
	}
	hl = (size_t)(colon - spec);
	if (*h == '[' && colon[-1] == ']')
		h++, hl -= 2;
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	memcpy(host, h, hl);
	host[hl] = 0;
	memset(&maddr, 0, sizeof(maddr));
	if (h == spec && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		maddrlen = sizeof(*s4);
	} else if (h != spec && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		maddrlen = sizeof(*s6);
	} else {
		snprintf(err, errlen, "invalid --metrics '%s': '%s' is not an IP address", spec, host);
		return -EINVAL;
	}
	snprintf(mspec, sizeof(mspec), "%s", spec);
	return 0;
}

/* ---- records to metrics ---- */

enum { GAUGE, COUNTER };

static const struct family {
	const char *rectype, *key, *name;
	int type;
	const char *help;
	const char *fixed; /* labels of this series within its family */
} families[] = {
	{ "stats", "ipkts", "vwire_link_rx_packets_total", COUNTER, "Frames the link received (vwstat IPKTS).", NULL },
	{ "stats", "rbytes", "vwire_link_rx_bytes_total", COUNTER, "Bytes the link received (vwstat RBYTES).", NULL },
	{ "stats", "opkts", "vwire_link_tx_packets_total", COUNTER, "Frames the link sent (vwstat OPKTS).", NULL },
	{ "stats", "obytes", "vwire_link_tx_bytes_total", COUNTER, "Bytes the link sent (vwstat OBYTES).", NULL },
	{ "stats", "fast_ipkts", "vwire_link_fast_packets_total", COUNTER,
	  "Of the link's frames, those the kernel fast path switched (vwstat FAST_IPKTS, FAST_OPKTS).",
	  "direction=\"rx\"" },
	{ "stats", "fast_opkts", "vwire_link_fast_packets_total", COUNTER, NULL, "direction=\"tx\"" },
	{ "stats", "drop_tagged", "vwire_link_drops_total", COUNTER,
	  "Frames dropped, by direction and cause; the rx causes add up to vwstat IDROPS, the tx ones to ODROPS.",
	  "direction=\"rx\",cause=\"tagged\"" },
	{ "stats", "drop_vlan", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"vlan\"" },
	{ "stats", "drop_unknown", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"unknown\"" },
	{ "stats", "drop_runt", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"runt\"" },
	{ "stats", "drop_nobuf", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"nobuf\"" },
	{ "stats", "drop_face", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"face\"" },
	{ "stats", "drop_macspoof", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"macspoof\"" },
	{ "stats", "drop_ipspoof", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"ipspoof\"" },
	{ "stats", "drop_dhcpspoof", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"dhcpspoof\"" },
	{ "stats", "drop_restricted", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"restricted\"" },
	{ "stats", "drop_mtu", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"mtu\"" },
	{ "stats", "drop_shape", "vwire_link_drops_total", COUNTER, NULL, "direction=\"rx\",cause=\"shape\"" },
	{ "stats", "drop_txerr", "vwire_link_drops_total", COUNTER, NULL, "direction=\"tx\",cause=\"txerr\"" },
	{ "stats", "odrop_shape", "vwire_link_drops_total", COUNTER, NULL, "direction=\"tx\",cause=\"shape\"" },
	{ "flowstats", "ipkts", "vwire_flow_rx_packets_total", COUNTER, "Frames of the flow received (vwstat show-flow IPKTS).", NULL },
	{ "flowstats", "rbytes", "vwire_flow_rx_bytes_total", COUNTER, "Bytes of the flow received (RBYTES).", NULL },
	{ "flowstats", "opkts", "vwire_flow_tx_packets_total", COUNTER, "Frames of the flow sent (OPKTS).", NULL },
	{ "flowstats", "obytes", "vwire_flow_tx_bytes_total", COUNTER, "Bytes of the flow sent (OBYTES).", NULL },
	{ "flowstats", "refused", "vwire_flow_refused_total", COUNTER, "Connections of the flow refused (REFUSED).", NULL },
	{ "flowstats", "clamped", "vwire_flow_clamped_total", COUNTER, "TCP segments of the flow clamped (CLAMPED).", NULL },
	{ "flowstats", "drops", "vwire_flow_drops_total", COUNTER, "Frames of the flow dropped (DROPS).", NULL },
	{ "flowstats", "conns", "vwire_flow_connections", GAUGE, "Connections of the flow open now (CONNS).", NULL },
	{ "worker", "ports", "vwire_worker_ports", GAUGE, "Ports the datapath worker reads (vwstat -w).", NULL },
	{ "worker", "wakeups", "vwire_worker_wakeups_total", COUNTER, "Times the worker woke from its wait.", NULL },
	{ "worker", "polls", "vwire_worker_polls_total", COUNTER, "Busy-poll rounds of the worker.", NULL },
	{ "worker", "batches", "vwire_worker_batches_total", COUNTER, "Batches of frames the worker read.", NULL },
	{ "worker", "pkts", "vwire_worker_packets_total", COUNTER, "Frames the worker read.", NULL },
	{ "mirror", "pkts", "vwire_mirror_packets_total", COUNTER, "Frames the mirror sent (vwadm show-mirror PKTS).", NULL },
	{ "mirror", "bytes", "vwire_mirror_bytes_total", COUNTER, "Bytes of the frames the mirror sent (BYTES).", NULL },
	{ "mirror", "drops", "vwire_mirror_drops_total", COUNTER, "Frames the mirror could not copy or send (DROPS).", NULL },
	{ "exporter", "records", "vwire_exporter_records_total", COUNTER,
	  "IPFIX data records sent (show-exporter RECORDS).", NULL },
	{ "exporter", "messages", "vwire_exporter_messages_total", COUNTER, "IPFIX messages sent (MESSAGES).", NULL },
	{ "exporter", "drops", "vwire_exporter_drops_total", COUNTER, "Flow records lost (DROPS).", NULL },
	{ "exporter", "flows", "vwire_exporter_flows", GAUGE, "Flows in the exporter's caches now (FLOWS).", NULL },
};

/* The labels of each record type: record keys, named as the labels. */
static const char *const *rec_labels(const char *rectype)
{
	static const char *const stats[] = { "link", "class", NULL };
	static const char *const flow[] = { "flow", "link", NULL };
	static const char *const worker[] = { "worker", NULL };
	static const char *const mirror[] = { "mirror", NULL };
	static const char *const exporter[] = { "exporter", NULL };

	if (!strcmp(rectype, "mirror"))
		return mirror;
	if (!strcmp(rectype, "exporter"))
		return exporter;
	return !strcmp(rectype, "stats") ? stats : !strcmp(rectype, "flowstats") ? flow : worker;
}

static void label_value(struct vw_buf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			vw_buf_printf(o, "\\%c", *v);
		else
			vw_buf_printf(o, "%c", *v);
	}
}

/* One series per record of f's type that has f's key. */
static void family_out(struct vw_buf *o, const struct family *f, const struct vw_reply *rep)
{
	int r, i;

	for (r = 0; r < rep->nrec; r++) {
		const struct vw_record *rec = &rep->recs[r];
		const char *const *lab = rec_labels(f->rectype);
		const char *v, *sep = "";

		if (strcmp(rec->type, f->rectype) || !(v = vw_record_get(rec, f->key)))
			continue;
		vw_buf_printf(o, "%s{", f->name);
		for (i = 0; lab[i]; i++) {
			const char *lv = vw_record_get(rec, lab[i]);

			if (!lv)
				continue;
			vw_buf_printf(o, "%s%s=\"", sep, lab[i]);
			label_value(o, lv);
			vw_buf_printf(o, "\"");
			sep = ",";
		}
		if (f->fixed)
			vw_buf_printf(o, "%s%s", sep, f->fixed);
		vw_buf_printf(o, "} %s\n", v);
	}
}

static void metrics_text(struct vw_buf *o)
{
	static char *const stats[] = { "stats", NULL }, *const flows[] = { "flowstats", NULL };
	static char *const mirrors[] = { "show-mirror", NULL };
	static char *const exps[] = { "show-exporter", NULL };
	struct vw_buf recs = { 0 };
	struct vw_reply rep = { 0 };
	size_t i;

	loop_run_command(1, stats, &recs);
	loop_run_command(1, flows, &recs);
	loop_run_command(1, mirrors, &recs);
	loop_run_command(1, exps, &recs);
	rep.message = "";
	rep.raw = recs.p; /* vw_reply_free frees it */
	if (recs.oom || !recs.p || vw_reply_parse(recs.p, &rep) != VW_OK) {
		vw_reply_free(&rep);
		o->oom = true;
		return;
	}
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const struct family *f = &families[i];

		if (!i || strcmp(f->name, families[i - 1].name)) {
			vw_buf_printf(o, "# HELP %s %s\n", f->name, f->help);
			vw_buf_printf(o, "# TYPE %s %s\n", f->name, f->type == COUNTER ? "counter" : "gauge");
		}
		family_out(o, f, &rep);
	}
	vw_reply_free(&rep);
}

/* ---- HTTP ---- */

/* A request's state between the calls MHD makes for it: a write's body. */
struct request {
	struct vw_buf body;
	bool too_big;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct api_query *q = cls;

	(void)kind;
	if (q->n == API_MAXARGS) {
		q->n++; /* one too many: refused */
		return MHD_NO;
	}
	if (q->n < API_MAXARGS) {
		q->key[q->n] = key;
		q->val[q->n++] = value ? value : "";
	}
	return MHD_YES;
}

/* GET: /metrics, the API, or one of the console's files. */
static unsigned get(struct MHD_Connection *conn, const char *url, struct vw_buf *o, const char **type)
{
	const struct web_asset *a;
	struct api_query q = { 0 };

	if (!strcmp(url, "/metrics")) {
		metrics_text(o);
		*type = "text/plain; version=0.0.4; charset=utf-8";
		return MHD_HTTP_OK;
	}
	if (!strncmp(url, "/api/", 5)) {
		unsigned code;

		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, &q);
		if (q.n > API_MAXARGS) {
			vw_buf_printf(o, "too many query parameters (at most %d)\n", API_MAXARGS);
			return MHD_HTTP_BAD_REQUEST;
		}
		code = api_get(url, &q, o);
		if (code == MHD_HTTP_OK)
			*type = "application/json";
		return code;
	}
	a = web_asset_find(url);
	if (!a) {
		vw_buf_printf(o, "no such page '%s' (the console is at /, metrics at /metrics, the API under /api/)\n", url);
		return MHD_HTTP_NOT_FOUND;
	}
	vw_buf_append(o, a->data, a->len);
	*type = a->type;
	return MHD_HTTP_OK;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned code, struct vw_buf *o, const char *type,
			       bool page)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (o->oom) {
		vw_buf_free(o);
		return MHD_NO; /* closes the connection */
	}
	resp = MHD_create_response_from_buffer(o->len, o->p ? o->p : (char *)"", o->p ? MHD_RESPMEM_MUST_FREE
										  : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		vw_buf_free(o);
		return MHD_NO;
	}
	if (!type) /* an answer made as text: JSON when it is an object or array */
		type = o->p && (o->p[0] == '{' || o->p[0] == '[') ? "application/json" : "text/plain; charset=utf-8";
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vwired\"");
	if (page) { /* the console: its own files only, never in a frame */
		MHD_add_response_header(resp, "Content-Security-Policy",
					"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	} else {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/*
 * Called by MHD once with a request's headers (*state NULL), and for a
 * POST again with each part of its body and once more at its end.  A write
 * is checked before its body is read; a refused one is answered at once.
 */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **state)
{
	struct request *rq = *state;
	struct vw_buf o = { 0 };
	const char *type = NULL;
	unsigned code;

	(void)cls, (void)version;
	if (rq) { /* a write whose checks passed: its body, then its run */
		if (*upload_len) {
			if (rq->body.len + *upload_len > API_BODY_MAX)
				rq->too_big = true;
			else
				vw_buf_append(&rq->body, upload, *upload_len);
			*upload_len = 0;
			return MHD_YES;
		}
		if (rq->too_big || rq->body.oom) {
			vw_buf_printf(&o, "the command is longer than %d bytes\n", API_BODY_MAX);
			return respond(conn, MHD_HTTP_CONTENT_TOO_LARGE, &o, NULL, false);
		}
		code = api_command(rq->body.p ? rq->body.p : "", rq->body.len, &o);
		return respond(conn, code, &o, NULL, false);
	}
	if (*upload_len) /* a body nobody wants: drop it */
		*upload_len = 0;
	if (!strcmp(method, "POST") && !strcmp(url, "/api/command")) {
		code = api_write_check(header(conn, MHD_HTTP_HEADER_AUTHORIZATION), header(conn, MHD_HTTP_HEADER_HOST),
				       header(conn, "Origin"), &o);
		if (code)
			return respond(conn, code, &o, NULL, false);
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*state = rq;
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		vw_buf_printf(&o, "only GET (and POST to /api/command)\n");
		return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, &o, NULL, false);
	}
	code = get(conn, url, &o, &type);
	return respond(conn, code, &o, code == MHD_HTTP_OK ? type : NULL,
		       code == MHD_HTTP_OK && strcmp(url, "/metrics") && strncmp(url, "/api/", 5));
}

static void request_done(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode why)
{
	struct request *rq = *state;

	(void)cls, (void)conn, (void)why;
	if (rq) {
		vw_buf_free(&rq->body);
		free(rq);
		*state = NULL;
	}
}

static void metrics_run(void)
{
	MHD_run(mhd);
}

/* Milliseconds until MHD has work of its own (a connection's timeout). */
static int metrics_timeout(void)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(mhd, &t) != MHD_YES)
		return -1;
	return t > 1000 ? 1000 : (int)t;
}

int metrics_start(char *err, size_t errlen)
{
	const union MHD_DaemonInfo *di;
	int fd, one = 1;

	if (!maddrlen && api_write_enabled()) {
		snprintf(err, errlen, "--http-write needs a listener (--http ADDRESS:PORT)");
		return -EINVAL;
	}
	if (!maddrlen)
		return 0;
	/* our own socket: a bad address or a port in use is one clear line */
	fd = socket(maddr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&maddr, maddrlen) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		snprintf(err, errlen, "metrics: cannot listen on %s: %s", mspec, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, NULL,
			       MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_NOTIFY_COMPLETED, request_done,
			       NULL, MHD_OPTION_END);
	di = mhd ? MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di) {
		snprintf(err, errlen, "metrics: cannot start the HTTP server on %s", mspec);
		if (mhd)
			MHD_stop_daemon(mhd);
		mhd = NULL;
		close(fd);
		return -EIO;
	}
	loop_add_poll(di->epoll_fd, metrics_run, metrics_timeout);
	return 0;
}

void metrics_stop(void)
{
	if (mhd) {
		MHD_stop_daemon(mhd);
		mhd = NULL;
	}
}
