/*
 * The JSON API (api.h).  Each path runs the commands whose records it
 * shows, through the control loop (loop_run_command) as a client's request
 * would, and turns the records into JSON: an array of objects, one per
 * record, with the records' own keys (the lower-case names of vwadm's and
 * vwstat's fields).  /api/links joins show-link with each class's own
 * show-* command and the link's properties; /api/flows show-flow with the
 * flows' counters and properties; /api/history reads the accounting file
 * as vwstat show-history does (lib/history.c makes the same JSON).
 *
 * Writes (POST /api/command) exist only when vwired was started with
 * --http-write FILE, and need "Authorization: Bearer" with the file's
 * secret, a Host that is an address or localhost and no foreign Origin;
 * docs/design.md, "The web console".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "lib/history.h"
#include "observability/api.h"
#include "observability/json.h"
#include "observability/loop.h"

#define TOKEN_MAX 256
static char token[TOKEN_MAX + 1];
static size_t token_len;

/* ---- running commands ---- */

/* The HTTP status for a failed command's verdict. */
static unsigned status_code(vw_status_t st)
{
	return st == VW_E_NOENT ? 404 : st == VW_E_INVAL || st == VW_E_USAGE ? 400 : st == VW_OK ? 200 : 409;
}

/*
 * Runs argv (NULL-terminated) and parses its reply into rep (free it with
 * vw_reply_free, whatever the result): 200, or the status of the failure
 * with its message as one line in out.
 */
static unsigned run(const char *const argv[], struct vw_reply *rep, struct vw_buf *out)
{
	struct vw_buf b = { 0 };
	int argc = 0;

	while (argv[argc])
		argc++;
	loop_run_command(argc, (char *const *)argv, &b);
	memset(rep, 0, sizeof(*rep));
	rep->message = "";
	rep->raw = b.p; /* vw_reply_free frees it */
	if (b.oom || !b.p) {
		vw_buf_printf(out, "%s\n", b.oom ? "out of memory" : "no answer from the daemon");
		return b.oom ? 500 : 503;
	}
	if (vw_reply_parse(b.p, rep) != VW_OK) {
		vw_buf_printf(out, "malformed reply to %s\n", argv[0]);
		return 500;
	}
	if (rep->status != VW_OK) {
		vw_buf_printf(out, "%s\n", *rep->message ? rep->message : "failed");
		return status_code(rep->status);
	}
	return 200;
}

/* The records of rep of type t, as an array (counters as numbers). */
static void records_out(struct vw_buf *o, const struct vw_reply *rep, const char *t, bool counters)
{
	int i, n = 0;

	vw_buf_printf(o, "[");
	for (i = 0; i < rep->nrec; i++) {
		if (strcmp(rep->recs[i].type, t))
			continue;
		vw_buf_printf(o, "%s\n{", n++ ? "," : "");
		json_fields(o, &rep->recs[i], counters, true);
		vw_buf_printf(o, "}");
	}
	vw_buf_printf(o, "%s]", n ? "\n" : "");
}

static const struct vw_record *find_rec(const struct vw_reply *rep, const char *type, const char *key,
					const char *val)
{
	int i;

	for (i = 0; i < rep->nrec; i++) {
		const char *v;

		if (!strcmp(rep->recs[i].type, type) && (v = vw_record_get(&rep->recs[i], key)) && !strcmp(v, val))
			return &rep->recs[i];
	}
	return NULL;
}

static bool in_list(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(k, *list))
			return true;
	return false;
}

/*
 * The fields of r (a second record about the object base describes) after
 * base's: those in skip (the keys that join them) are left out, and one
 * base has too is given as TYPE_KEY (vnic_state, tunnel_mtu), so that
 * base's fields keep their own meaning.
 */
static void join_fields(struct vw_buf *o, const struct vw_record *base, const struct vw_record *r,
			const char *const *skip, bool counters)
{
	int i;

	for (i = 0; i < r->n; i++) {
		const char *k = r->keys[i];

		if (in_list(k, skip))
			continue;
		vw_buf_printf(o, ",");
		if (vw_record_get(base, k)) {
			char name[64];

			snprintf(name, sizeof(name), "%s_%s", r->type, k);
			json_str(o, name);
		} else {
			json_str(o, k);
		}
		vw_buf_printf(o, ":");
		json_value(o, r->vals[i], counters && !json_name_key(k));
	}
}

/* "props":{PROPERTY:VALUE,...} of the records of type t whose key is name. */
static void props_out(struct vw_buf *o, const struct vw_reply *rep, const char *t, const char *key, const char *name)
{
	int i, n = 0;

	vw_buf_printf(o, ",\"props\":{");
	for (i = 0; i < rep->nrec; i++) {
		const struct vw_record *r = &rep->recs[i];
		const char *who = vw_record_get(r, key), *p = vw_record_get(r, "property"), *v = vw_record_get(r, "value");

		if (strcmp(r->type, t) || !who || strcmp(who, name) || !p || !v)
			continue;
		vw_buf_printf(o, "%s", n++ ? "," : "");
		json_str(o, p);
		vw_buf_printf(o, ":");
		json_str(o, v);
	}
	vw_buf_printf(o, "}");
}

/* ---- query parameters ---- */

/* Every parameter of q is one of allowed (NULL-terminated); else 400. */
static unsigned params_check(const struct api_query *q, const char *const *allowed, struct vw_buf *out)
{
	int i;

	for (i = 0; i < q->n; i++)
		if (!in_list(q->key[i], allowed)) {
			vw_buf_printf(out, "unknown query parameter '%s'\n", q->key[i]);
			return 400;
		}
	return 0;
}

/* The name= values of q after the words of cmd, in argv (room for
 * API_MAXARGS + 4). */
static void with_names(const char **argv, const char *const *cmd, const struct api_query *q)
{
	int n = 0, i;

	for (; *cmd; cmd++)
		argv[n++] = *cmd;
	for (i = 0; i < q->n; i++)
		if (!strcmp(q->key[i], "name"))
			argv[n++] = q->val[i];
	argv[n] = NULL;
}

/* A parameter's only value (NULL: absent); 400 when given twice. */
static unsigned param_one(const struct api_query *q, const char *key, const char **val, struct vw_buf *out)
{
	int i;

	*val = NULL;
	for (i = 0; i < q->n; i++) {
		if (strcmp(q->key[i], key))
			continue;
		if (*val) {
			vw_buf_printf(out, "query parameter '%s' given twice\n", key);
			return 400;
		}
		*val = q->val[i];
	}
	return 0;
}

/* ---- the paths ---- */

/* A list of one command's records: /api/zones is show-zone's. */
static const struct list_path {
	const char *path;
	const char *cmd[3];
	const char *rectype;
	bool counters;
} lists[] = {
	{ "/api/vnics", { "show-vnic" }, "vnic", false },
	{ "/api/etherstubs", { "show-etherstub" }, "etherstub", false },
	{ "/api/phys", { "show-phys" }, "phys", false },
	{ "/api/aggrs", { "show-aggr" }, "aggr", false },
	{ "/api/aggrports", { "show-aggr", "-x" }, "aggrport", false },
	{ "/api/tunnels", { "show-tunnel" }, "tunnel", false },
	{ "/api/vnms", { "show-vnm" }, "vnm", false },
	{ "/api/zones", { "show-zone" }, "zone", false },
	{ "/api/addrs", { "show-addr" }, "addr", false },
	{ "/api/linkprops", { "show-linkprop" }, "linkprop", false },
	{ "/api/flowprops", { "show-flowprop" }, "flowprop", false },
	{ "/api/mirrors", { "show-mirror" }, "mirror", true },
	{ "/api/exporters", { "show-exporter" }, "exporter", true },
	{ "/api/accounting", { "show-accounting" }, "accounting", false },
	{ "/api/workers", { "stats" }, "worker", true },
	{ "/api/aggrstats", { "aggrstats" }, "aggrstat", true },
};

static const char *const names_only[] = { "name", NULL };

static unsigned get_list(const struct list_path *l, const struct api_query *q, struct vw_buf *out)
{
	const char *argv[API_MAXARGS + 4];
	struct vw_reply rep;
	unsigned code = params_check(q, names_only, out);

	if (code)
		return code;
	with_names(argv, l->cmd, q);
	code = run(argv, &rep, out);
	if (code == 200)
		records_out(out, &rep, l->rectype, l->counters);
	vw_reply_free(&rep);
	return code;
}

/*
 * /api/links: show-link's records, each with its class's own record
 * (show-vnic, show-etherstub, show-aggr, show-tunnel, show-phys) joined and
 * its properties (show-linkprop) as "props".
 */
static unsigned get_links(const struct api_query *q, struct vw_buf *out)
{
	static const char *const link_cmd[] = { "show-link", NULL }, *const prop_cmd[] = { "show-linkprop", NULL };
	static const char *const joined[][2] = { { "show-vnic", "vnic" }, { "show-etherstub", "etherstub" },
						 { "show-aggr", "aggr" }, { "show-tunnel", "tunnel" },
						 { "show-phys", "phys" } };
	static const char *const skip[] = { "link", "over", "zone", NULL };
	enum { NJ = sizeof(joined) / sizeof(joined[0]) };
	const char *argv[API_MAXARGS + 4];
	struct vw_reply links, props, cls[NJ];
	unsigned code = params_check(q, names_only, out);
	int i, j, n = 0;

	if (code)
		return code;
	memset(cls, 0, sizeof(cls));
	with_names(argv, link_cmd, q);
	code = run(argv, &links, out);
	with_names(argv, prop_cmd, q);
	if (code == 200)
		code = run(argv, &props, out);
	else
		memset(&props, 0, sizeof(props));
	for (j = 0; j < NJ; j++) {
		const char *cmd[] = { joined[j][0], NULL };

		if (code == 200)
			code = run(cmd, &cls[j], out);
	}
	if (code == 200) {
		vw_buf_printf(out, "[");
		for (i = 0; i < links.nrec; i++) {
			const struct vw_record *l = &links.recs[i];
			const char *name = vw_record_get(l, "link"), *c = vw_record_get(l, "class");

			if (strcmp(l->type, "link") || !name || !c)
				continue;
			vw_buf_printf(out, "%s\n{", n++ ? "," : "");
			json_fields(out, l, false, true);
			for (j = 0; j < NJ; j++) {
				const struct vw_record *r;

				if (strcmp(c, joined[j][1]))
					continue;
				r = find_rec(&cls[j], joined[j][1], "link", name);
				if (r)
					join_fields(out, l, r, skip, false);
			}
			props_out(out, &props, "linkprop", "link", name);
			vw_buf_printf(out, "}");
		}
		vw_buf_printf(out, "%s]", n ? "\n" : "");
	}
	vw_reply_free(&links);
	vw_reply_free(&props);
	for (j = 0; j < NJ; j++)
		vw_reply_free(&cls[j]);
	return code;
}

/* /api/flows: show-flow's records with their counters (flowstats) and
 * properties (show-flowprop). */
static unsigned get_flows(const struct api_query *q, struct vw_buf *out)
{
	static const char *const flow_cmd[] = { "show-flow", NULL }, *const stat_cmd[] = { "flowstats", NULL };
	static const char *const prop_cmd[] = { "show-flowprop", NULL };
	static const char *const skip[] = { "flow", "link", NULL };
	const char *argv[API_MAXARGS + 4];
	struct vw_reply flows, stats, props;
	unsigned code = params_check(q, names_only, out);
	int i, n = 0;

	if (code)
		return code;
	memset(&stats, 0, sizeof(stats));
	memset(&props, 0, sizeof(props));
	with_names(argv, flow_cmd, q);
	code = run(argv, &flows, out);
	if (code == 200)
		code = run(stat_cmd, &stats, out);
	if (code == 200)
		code = run(prop_cmd, &props, out);
	if (code == 200) {
		vw_buf_printf(out, "[");
		for (i = 0; i < flows.nrec; i++) {
			const struct vw_record *f = &flows.recs[i], *s;
			const char *name = vw_record_get(f, "flow");

			if (strcmp(f->type, "flow") || !name)
				continue;
			vw_buf_printf(out, "%s\n{", n++ ? "," : "");
			json_fields(out, f, false, true);
			s = find_rec(&stats, "flowstats", "flow", name);
			if (s)
				join_fields(out, f, s, skip, true);
			props_out(out, &props, "flowprop", "flow", name);
			vw_buf_printf(out, "}");
		}
		vw_buf_printf(out, "%s]", n ? "\n" : "");
	}
	vw_reply_free(&flows);
	vw_reply_free(&stats);
	vw_reply_free(&props);
	return code;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* /api/stats: {"time": ms since the epoch when the counters were read,
 * "links": vwstat's records, "flows": vwstat show-flow's}. */
static unsigned get_stats(const struct api_query *q, struct vw_buf *out)
{
	static const char *const stat_cmd[] = { "stats", NULL }, *const flow_cmd[] = { "flowstats", NULL };
	const char *argv[API_MAXARGS + 4];
	struct vw_reply links, flows;
	unsigned code = params_check(q, names_only, out);
	int64_t t;

	if (code)
		return code;
	memset(&flows, 0, sizeof(flows));
	with_names(argv, stat_cmd, q);
	code = run(argv, &links, out);
	t = wall_ms();
	if (code == 200)
		code = run(flow_cmd, &flows, out);
	if (code == 200) {
		vw_buf_printf(out, "{\"time\":%lld,\"links\":", (long long)t);
		records_out(out, &links, "stats", true);
		vw_buf_printf(out, ",\n\"flows\":");
		records_out(out, &flows, "flowstats", true);
		vw_buf_printf(out, "}\n");
	}
	vw_reply_free(&links);
	vw_reply_free(&flows);
	return code;
}

/* The accounting file and whether accounting is on (show-accounting). */
static unsigned accounting_file(char *path, size_t len, bool *on, struct vw_buf *out)
{
	static const char *const cmd[] = { "show-accounting", NULL };
	struct vw_reply rep;
	const struct vw_record *r;
	unsigned code = run(cmd, &rep, out);

	if (code == 200) {
		r = rep.nrec ? &rep.recs[0] : NULL;
		if (!r || !vw_record_get(r, "file") || !*vw_record_get(r, "file")) {
			vw_buf_printf(out, "accounting has no history file\n");
			code = 404;
		} else {
			snprintf(path, len, "%s", vw_record_get(r, "file"));
			*on = vw_record_get(r, "state") && !strcmp(vw_record_get(r, "state"), "on");
		}
	}
	vw_reply_free(&rep);
	return code;
}

/*
 * /api/history?name=LINK&start=TIME&end=TIME&interval=1: what vwstat
 * show-history -s START -e END [-i] -F json NAME... prints (times as
 * show-history takes them: epoch seconds, -10m, ...; default the whole
 * history up to now).
 */
static unsigned get_history(const struct api_query *q, struct vw_buf *out)
{
	static const char *const allowed[] = { "name", "start", "end", "interval", NULL };
	static const char *const sum_keys[] = { "name", "duration", "ipkts", "rbytes", "opkts", "obytes", "bandwidth" };
	static const char *const iv_keys[] = { "name", "start", "end", "rbytes", "obytes", "bandwidth" };
	const char *s, *e, *iv, *names[API_MAXARGS];
	int64_t now = hist_now_ms(), from = 0, to = now;
	char path[4096], err[512];
	struct hist_result r;
	bool interval, on = false;
	sqlite3 *db;
	unsigned code;
	int i, n = 0, rc;

	if ((code = params_check(q, allowed, out)) || (code = param_one(q, "start", &s, out)) ||
	    (code = param_one(q, "end", &e, out)) || (code = param_one(q, "interval", &iv, out)))
		return code;
	if (s && !hist_time_parse(s, now, &from)) {
		vw_buf_printf(out, "invalid start '%s' (epoch seconds, YYYY-MM-DD HH:MM:SS or -10m)\n", s);
		return 400;
	}
	if (e && !hist_time_parse(e, now, &to)) {
		vw_buf_printf(out, "invalid end '%s' (epoch seconds, YYYY-MM-DD HH:MM:SS or -10m)\n", e);
		return 400;
	}
	if (from >= to) {
		vw_buf_printf(out, "the start is not before the end\n");
		return 400;
	}
	if (iv && strcmp(iv, "0") && strcmp(iv, "1")) {
		vw_buf_printf(out, "invalid interval '%s' (0 or 1)\n", iv);
		return 400;
	}
	interval = iv && !strcmp(iv, "1");
	for (i = 0; i < q->n; i++)
		if (!strcmp(q->key[i], "name")) {
			if (!vw_linkname_valid(q->val[i]) && !vw_flowname_valid(q->val[i])) {
				vw_buf_printf(out, "invalid name '%s'\n", q->val[i]);
				return 400;
			}
			names[n++] = q->val[i];
		}
	code = accounting_file(path, sizeof(path), &on, out);
	if (code != 200)
		return code;
	db = hist_open(path, true, err, sizeof(err));
	if (!db) {
		vw_buf_printf(out, "%s%s\n", err, on ? "" : " (accounting is off)");
		return 404;
	}
	rc = hist_query(db, from, to, (char *const *)names, n, &r, err, sizeof(err));
	sqlite3_close(db);
	if (rc) {
		vw_buf_printf(out, "%s\n", err);
		return 404;
	}
	if (interval)
		hist_json(out, iv_keys, sizeof(iv_keys) / sizeof(iv_keys[0]), r.iv, r.niv, true);
	else
		hist_json(out, sum_keys, sizeof(sum_keys) / sizeof(sum_keys[0]), r.sum, r.nsum, false);
	hist_result_free(&r);
	return 200;
}

/* /api/info: what the page needs to know of the daemon. */
static unsigned get_info(const struct api_query *q, struct vw_buf *out)
{
	static const char *const none[] = { NULL };
	char path[4096];
	bool on = false;
	unsigned code = params_check(q, none, out);
	struct vw_buf ignore = { 0 };

	if (code)
		return code;
	accounting_file(path, sizeof(path), &on, &ignore);
	vw_buf_free(&ignore);
	vw_buf_printf(out, "{\"write\":%s,\"accounting\":%s,\"time\":%lld}\n", api_write_enabled() ? "true" : "false",
		      on ? "true" : "false", (long long)wall_ms());
	return 200;
}

unsigned api_get(const char *path, const struct api_query *q, struct vw_buf *out)
{
	static const struct {
		const char *path;
		unsigned (*fn)(const struct api_query *, struct vw_buf *);
	} special[] = {
		{ "/api/links", get_links },	 { "/api/flows", get_flows }, { "/api/stats", get_stats },
		{ "/api/history", get_history }, { "/api/info", get_info },
	};
	size_t i;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (!strcmp(path, special[i].path))
			return special[i].fn(q, out);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (!strcmp(path, lists[i].path))
			return get_list(&lists[i], q, out);
	vw_buf_printf(out, "no such API path '%s'\n", path);
	return 404;
}

/* ---- writes ---- */

int api_write_parse(const char *file, char *err, size_t errlen)
{
	char buf[TOKEN_MAX + 2];
	struct stat st;
	ssize_t n;
	size_t i;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		snprintf(err, errlen, "--http-write: %s: %s", file, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		snprintf(err, errlen, "--http-write: %s: %s", file,
			 !S_ISREG(st.st_mode) ? "not a regular file" : "others may read it (chmod 600)");
		close(fd);
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "--http-write: %s: %s", file, strerror(errno));
		return -EIO;
	}
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	for (i = 0; i < (size_t)n; i++)
		if (buf[i] <= ' ' || buf[i] > '~')
			break;
	if (n < 16 || n > TOKEN_MAX || i < (size_t)n) {
		snprintf(err, errlen, "--http-write: %s: the credential must be one line of 16 to %d printable "
			 "characters without blanks", file, TOKEN_MAX);
		return -EINVAL;
	}
	memcpy(token, buf, (size_t)n + 1);
	token_len = (size_t)n;
	return 0;
}

bool api_write_enabled(void)
{
	return token_len > 0;
}

/* Compares in time that does not depend on where they differ. */
static bool token_equal(const char *given)
{
	size_t n = strlen(given), i;
	unsigned char d = n != token_len;

	for (i = 0; i < token_len; i++)
		d |= (unsigned char)(token[i] ^ (i < n ? given[i] : 0));
	return !d;
}

/* host[:port] of a Host header: an IPv4 address, [IPv6] or localhost. */
static bool host_is_local_name(const char *host, size_t len)
{
	char h[64];
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon;

	if (len && host[0] == '[') {
		const char *end = memchr(host, ']', len);

		if (!end || (size_t)(end - host) - 1 >= sizeof(h))
			return false;
		if (end + 1 != host + len && (end[1] != ':' || !end[2]))
			return false;
		memcpy(h, host + 1, (size_t)(end - host) - 1);
		h[end - host - 1] = 0;
		return inet_pton(AF_INET6, h, &a6) == 1;
	}
	colon = memchr(host, ':', len);
	if (colon)
		len = (size_t)(colon - host);
	if (!len || len >= sizeof(h))
		return false;
	memcpy(h, host, len);
	h[len] = 0;
	return inet_pton(AF_INET, h, &a4) == 1 || !strcasecmp(h, "localhost");
}

bool api_host_ok(const char *host, const char *origin)
{
	if (!host || !host_is_local_name(host, strlen(host)))
		return false;
	if (!origin)
		return true;
	return !strncasecmp(origin, "http://", 7) && !strcasecmp(origin + 7, host);
}

unsigned api_write_check(const char *authorization, const char *host, const char *origin, struct vw_buf *out)
{
	if (!api_write_enabled()) {
		vw_buf_printf(out, "read-only: vwired was not started with --http-write\n");
		return 403;
	}
	if (!api_host_ok(host, origin)) {
		vw_buf_printf(out, "refused: Host must be an address or localhost, and Origin that host\n");
		return 403;
	}
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) || !token_equal(authorization + 7)) {
		vw_buf_printf(out, "%s\n", authorization ? "wrong credential" : "no credential (Authorization: Bearer ...)");
		return 401;
	}
	return 0;
}

#define CMD_MAXWORDS 256

unsigned api_command(const char *body, size_t len, struct vw_buf *out)
{
	struct vw_buf b = { 0 }, words = { 0 };
	struct vw_vwfile *f;
	struct vw_reply rep;
	const struct vw_cmddef *def;
	char err[512], **argv, *copy[CMD_MAXWORDS + 1], *p;
	int argc, r, i, first = 0;
	unsigned code;

	f = vw_vwfile_open_mem(body, len, "command", NULL, 0);
	if (!f) {
		vw_buf_printf(out, "out of memory\n");
		return 500;
	}
	r = vw_vwfile_next(f, &argc, &argv, NULL, err, sizeof(err));
	if (r > 0 && argc > 1 && !strcmp(argv[0], "vwadm"))
		first = 1;
	/* the words, kept: argv is the reader's until its next call */
	for (i = first; r > 0 && i < argc; i++)
		vw_buf_append(&words, argv[i], strlen(argv[i]) + 1);
	if (r > 0 && argc - first > CMD_MAXWORDS)
		r = -2;
	else if (r > 0 && vw_vwfile_next(f, &i, &argv, NULL, err, sizeof(err)) != 0)
		r = -3;
	vw_vwfile_close(f);
	if (r <= 0 || words.oom) {
		code = words.oom ? 500 : 400;
		vw_buf_printf(out, "%s\n", words.oom ? "out of memory" : r == -2 ? "too many words" :
				  r == -3 ? "one command per request" : r ? err : "no command");
		vw_buf_free(&words);
		return code;
	}
	argc -= first;
	for (i = 0, p = words.p; i < argc; i++, p += strlen(p) + 1)
		copy[i] = p;
	copy[argc] = NULL;
	def = vw_cmd_find(copy[0]);
	if (def && (def->id == VW_CMD_APPLY || def->out == VW_OUT_STREAM || def->priv == VW_PRIV_CAPTURE)) {
		vw_buf_printf(out, "%s: not over HTTP (use vwadm)\n", def->name);
		vw_buf_free(&words);
		return 400;
	}
	loop_run_command(argc, copy, &b);
	vw_buf_free(&words);
	memset(&rep, 0, sizeof(rep));
	rep.message = "";
	rep.raw = b.p;
	if (b.oom || !b.p || vw_reply_parse(b.p, &rep) != VW_OK) {
		vw_reply_free(&rep);
		vw_buf_printf(out, "no answer from the daemon\n");
		return 500;
	}
	code = status_code(rep.status);
	vw_buf_printf(out, "{\"status\":%d,\"message\":", (int)rep.status);
	json_str(out, rep.message);
	vw_buf_printf(out, ",\"records\":[");
	for (i = 0; i < rep.nrec; i++) {
		vw_buf_printf(out, "%s\n{\"record\":", i ? "," : "");
		json_str(out, rep.recs[i].type);
		json_fields(out, &rep.recs[i], false, false);
		vw_buf_printf(out, "}");
	}
	vw_buf_printf(out, "]}\n");
	vw_reply_free(&rep);
	return code;
}
