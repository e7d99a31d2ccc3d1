/*
 * vwstat: link, flow and datapath worker statistics (the dlstat and
 * flowstat analogue).  It asks vwired for the internal command "stats" (or
 * "flowstats" for show-flow) and prints the "stats", "worker" or
 * "flowstats" records of the reply: totals once, or with -i the change of
 * every counter over each interval.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/history.h"
#include "cli/output.h"
#include "lib/vwire.h"

#define PROG "vwstat"
#define USAGE \
	"usage: " PROG " [--socket PATH] [show-link] [-r|-t|-w] [-i SECONDS] [-c COUNT]" \
	" [-o FIELD,...] [-p] [-F json] [-u R|K|M|G|T|P] [LINK...]\n" \
	"       " PROG " [--socket PATH] show-flow [-i SECONDS] [-c COUNT] [-o FIELD,...] [-p] [-F json]" \
	" [-u R|K|M|G|T|P] [-l LINK] [FLOW...]\n" \
	"       " PROG " [--socket PATH] show-aggr [-L] [-i SECONDS] [-c COUNT] [-o FIELD,...] [-p] [-F json]" \
	" [-u R|K|M|G|T|P] [AGGR...]\n" \
	"       " PROG " [--socket PATH] show-history [-f FILE] [-s TIME] [-e TIME] [-i] [-o FIELD,...]" \
	" [-F table|csv|json|gnuplot|svg] [-u R|K|M|G|T|P] [NAME...]"

static const struct out_field link_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "CLASS", "class", 9, 0, NULL },
	{ "OVER", "over", 12, 0, NULL },
	{ "ZONE", "zone", 12, 0, NULL },
	{ "IPKTS", "ipkts", 10, OUT_F_COUNTER, NULL },
	{ "RBYTES", "rbytes", 12, OUT_F_BCOUNTER, NULL },
	{ "OPKTS", "opkts", 10, OUT_F_COUNTER, NULL },
	{ "OBYTES", "obytes", 12, OUT_F_BCOUNTER, NULL },
	{ "IDROPS", "idrops", 8, OUT_F_COUNTER, NULL },
	{ "ODROPS", "odrops", 8, OUT_F_COUNTER, NULL },
	{ "BATCHES", "batches", 10, OUT_F_COUNTER, NULL },
	{ "DROP_TAGGED", "drop_tagged", 11, OUT_F_COUNTER, NULL },
	{ "DROP_VLAN", "drop_vlan", 9, OUT_F_COUNTER, NULL },
	{ "DROP_UNKNOWN", "drop_unknown", 12, OUT_F_COUNTER, NULL },
	{ "DROP_RUNT", "drop_runt", 9, OUT_F_COUNTER, NULL },
	{ "DROP_NOBUF", "drop_nobuf", 10, OUT_F_COUNTER, NULL },
	{ "DROP_MACSPOOF", "drop_macspoof", 13, OUT_F_COUNTER, NULL },
	{ "DROP_IPSPOOF", "drop_ipspoof", 12, OUT_F_COUNTER, NULL },
	{ "DROP_DHCPSPOOF", "drop_dhcpspoof", 14, OUT_F_COUNTER, NULL },
	{ "DROP_RESTRICTED", "drop_restricted", 15, OUT_F_COUNTER, NULL },
	{ "DROP_MTU", "drop_mtu", 8, OUT_F_COUNTER, NULL },
	{ "DROP_TXERR", "drop_txerr", 10, OUT_F_COUNTER, NULL },
	{ "DROP_FACE", "drop_face", 9, OUT_F_COUNTER, NULL },
	{ "DROP_SHAPE", "drop_shape", 10, OUT_F_COUNTER, NULL },
	{ "ODROP_SHAPE", "odrop_shape", 11, OUT_F_COUNTER, NULL },
	{ "DROP_CODEL", "drop_codel", 10, OUT_F_COUNTER, NULL },
	{ "DROP_QFULL", "drop_qfull", 10, OUT_F_COUNTER, NULL },
	{ "QLEN_OUT", "qlen_out", 8, OUT_F_NUM, NULL },
	{ "QLEN_IN", "qlen_in", 7, OUT_F_NUM, NULL },
	{ "FAST_IPKTS", "fast_ipkts", 10, OUT_F_COUNTER, NULL },
	{ "FAST_OPKTS", "fast_opkts", 10, OUT_F_COUNTER, NULL },
	{ "VM_CALLS", "vm_calls", 10, OUT_F_COUNTER, NULL },
	{ "VM_NOROOM", "vm_noroom", 9, OUT_F_COUNTER, NULL },
	{ "VM_BADFRAMES", "vm_badframes", 12, OUT_F_COUNTER, NULL },
	{ "VM_CONNECTS", "vm_connects", 11, OUT_F_COUNTER, NULL },
	{ "VM_ERRORS", "vm_errors", 9, OUT_F_COUNTER, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field worker_fields[] = {
	{ "WORKER", "worker", 6, OUT_F_NUM, NULL },
	{ "PORTS", "ports", 6, OUT_F_NUM, NULL },
	{ "WAKEUPS", "wakeups", 12, OUT_F_COUNTER, NULL },
	{ "POLLS", "polls", 12, OUT_F_COUNTER, NULL },
	{ "YIELDS", "yields", 8, OUT_F_COUNTER, NULL },
	{ "BATCHES", "batches", 12, OUT_F_COUNTER, NULL },
	{ "PKTS", "pkts", 12, OUT_F_COUNTER, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct out_field flow_fields[] = {
	{ "FLOW", "flow", 14, 0, NULL },
	{ "LINK", "link", 12, 0, NULL },
	{ "IPKTS", "ipkts", 10, OUT_F_COUNTER, NULL },
	{ "RBYTES", "rbytes", 12, OUT_F_BCOUNTER, NULL },
	{ "OPKTS", "opkts", 10, OUT_F_COUNTER, NULL },
	{ "OBYTES", "obytes", 12, OUT_F_BCOUNTER, NULL },
	{ "CONNS", "conns", 7, 0, NULL },
	{ "REFUSED", "refused", 9, OUT_F_COUNTER, NULL },
	{ "CLAMPED", "clamped", 9, OUT_F_COUNTER, NULL },
	{ "DROPS", "drops", 9, OUT_F_COUNTER, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

/* vwstat show-aggr: an aggregation's members (a member is in one only) */
static const struct out_field aggr_fields[] = {
	{ "LINK", "link", 12, 0, NULL },
	{ "PORT", "port", 12, 0, NULL },
	{ "IPKTS", "ipkts", 10, OUT_F_COUNTER, NULL },
	{ "RBYTES", "rbytes", 12, OUT_F_BCOUNTER, NULL },
	{ "OPKTS", "opkts", 10, OUT_F_COUNTER, NULL },
	{ "OBYTES", "obytes", 12, OUT_F_BCOUNTER, NULL },
	{ "IDROPS", "idrops", 8, OUT_F_COUNTER, NULL },
	{ "ODROPS", "odrops", 8, OUT_F_COUNTER, NULL },
	{ "LACP_IN", "lacp_in", 8, OUT_F_COUNTER, NULL },
	{ "LACP_OUT", "lacp_out", 8, OUT_F_COUNTER, NULL },
	{ "MARKER_IN", "marker_in", 9, OUT_F_COUNTER, NULL },
	{ "MALFORMED", "malformed", 9, OUT_F_COUNTER, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

/* What is shown: a record type, its key field and its columns. */
struct view {
	const char *rectype;
	const char *key;
	const struct out_field *fields;
	const char *deflt;
};

static const struct view view_link = { "stats", "link", link_fields, "link,ipkts,rbytes,opkts,obytes" };
static const struct view view_rx = { "stats", "link", link_fields,
				     "link,ipkts,rbytes,idrops,drop_face,drop_shape,drop_tagged,drop_vlan,drop_unknown,batches" };
/* what a VNIC sent that link protection or the MTU refused shows with what
 * it sent (they are part of IDROPS) */
static const struct view view_tx = { "stats", "link", link_fields,
				     "link,opkts,obytes,odrops,drop_txerr,odrop_shape,qlen_in,drop_macspoof,drop_ipspoof,"
				     "drop_dhcpspoof,drop_restricted,drop_mtu" };
static const struct view view_worker = { "worker", "worker", worker_fields, NULL };
static const struct view view_flow = { "flowstats", "flow", flow_fields, "flow,ipkts,rbytes,opkts,obytes" };
static const struct view view_aggr = { "aggrstat", "port", aggr_fields, "link,port,ipkts,rbytes,opkts,obytes,idrops,odrops" };
static const struct view view_aggr_lacp = { "aggrstat", "port", aggr_fields, "link,port,lacp_in,lacp_out,marker_in,malformed" };

struct opts {
	const char *sock;
	const struct view *view;
	const char *fields;
	bool parsable, json;
	bool interval_set;
	struct timespec interval;
	unsigned long count; /* 0: forever */
	int unit;            /* table units of counters, OUT_UNIT_* */
	const char *link;    /* show-flow -l */
	int nlinks;
	char **links;
};

static int usage_error(const char *fmt, const char *arg)
{
	return out_usage_error(PROG, USAGE, fmt, arg);
}

static int help(void)
{
	const struct out_field *f;

	printf(USAGE "\n\n"
	       "  -r            receive detail      -t            transmit detail\n"
	       "  -w, --workers datapath worker lanes\n"
	       "  -i SECONDS    one output per interval (deltas), -c COUNT times\n"
	       "  -o FIELDS     columns (or 'all'); -p parsable (needs -o); -F json\n"
	       "  -u UNIT       table counters in R (raw), K, M, G, T or P; default: scaled\n"
	       "                to fit (bytes by 1024, other counts by 1000)\n"
	       "  -l LINK       show-flow: the flows of LINK only\n\n"
	       "link fields:");
	for (f = link_fields; f->name; f++)
		printf(" %s", f->name);
	printf("\nflow fields:");
	for (f = flow_fields; f->name; f++)
		printf(" %s", f->name);
	printf("\naggr fields:");
	for (f = aggr_fields; f->name; f++)
		printf(" %s", f->name);
	printf("\nworker fields:");
	for (f = worker_fields; f->name; f++)
		printf(" %s", f->name);
	printf("\nhistory fields:");
	for (f = history_fields(); f->name; f++)
		printf(" %s", f->name);
	printf("\n");
	return 0;
}

/* A positive number of seconds: digits with an optional decimal fraction. */
static bool interval_parse(const char *s, struct timespec *ts)
{
	unsigned long long sec = 0;
	long nsec = 0, scale = 100000000;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		sec = sec * 10 + (unsigned)(*p - '0');
		if (sec > 100000000ULL)
			return false;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			nsec += (*p - '0') * scale;
		if (p[-1] == '.')
			return false;
	}
	if (*p || (!sec && !nsec))
		return false;
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = nsec;
	return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "workers", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *interval = NULL, *count = NULL, *format = NULL, *unit = NULL;
	bool rx = false, tx = false, workers = false, flows = false, aggrs = false, lacp = false;
	uint64_t n;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":rtwLi:c:o:pF:u:l:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S': o->sock = optarg; break;
		case 'r': rx = true; break;
		case 't': tx = true; break;
		case 'w': workers = true; break;
		case 'L': lacp = true; break;
		case 'i': interval = optarg; break;
		case 'c': count = optarg; break;
		case 'o': o->fields = optarg; break;
		case 'p': o->parsable = true; break;
		case 'F': format = optarg; break;
		case 'l': o->link = optarg; break;
		case 'u': unit = optarg; break;
		case 'h': return -1;
		default:
			return out_getopt_error(PROG, USAGE, ch, longopts, argv);
		}
	}
	o->links = argv + optind;
	o->nlinks = argc - optind;
	if (o->nlinks && !strcmp(o->links[0], "show-link")) {
		o->links++;
		o->nlinks--;
	} else if (o->nlinks && !strcmp(o->links[0], "show-flow")) {
		o->links++;
		o->nlinks--;
		flows = true;
	} else if (o->nlinks && !strcmp(o->links[0], "show-aggr")) {
		o->links++;
		o->nlinks--;
		aggrs = true;
	}

	if (lacp && !aggrs)
		return usage_error("%s", "-L applies to show-aggr only");
	if (aggrs && (rx || tx || workers || o->link))
		return usage_error("%s", "-r, -t, -w and -l do not apply to show-aggr");
	if (flows && (rx || tx || workers))
		return usage_error("%s", "-r, -t and -w apply to links, not to show-flow");
	if (o->link && !flows)
		return usage_error("%s", "-l applies to show-flow only");
	if (rx + tx + workers > 1)
		return usage_error("%s", "-r, -t and -w cannot be combined");
	if (workers && o->nlinks)
		return usage_error("-w takes no LINK operand ('%s')", o->links[0]);
	if (count && !interval)
		return usage_error("%s", "-c requires -i");
	if (o->parsable && !o->fields)
		return usage_error("%s", "-p requires -o");
	if (format && !strcmp(format, "json"))
		o->json = true;
	else if (format && strcmp(format, "table")) {
		fprintf(stderr, PROG ": invalid format '%s' (table or json)\n", format);
		return 1;
	}
	if (o->parsable && o->json)
		return usage_error("%s", "-p and -F json cannot be combined");
	o->unit = OUT_UNIT_AUTO;
	if (unit && (o->unit = out_unit_parse(unit)) < OUT_UNIT_AUTO) {
		fprintf(stderr, PROG ": invalid unit '%s' (R, K, M, G, T or P)\n", unit);
		return 2;
	}
	if (interval) {
		if (!interval_parse(interval, &o->interval)) {
			fprintf(stderr, PROG ": invalid interval '%s'\n", interval);
			return 1;
		}
		o->interval_set = true;
	}
	if (count) {
		if (!vw_uint_parse(count, 1, UINT32_MAX, &n)) {
			fprintf(stderr, PROG ": invalid count '%s'\n", count);
			return 1;
		}
		o->count = (unsigned long)n;
	}
	o->view = aggrs ? (lacp ? &view_aggr_lacp : &view_aggr) : flows ? &view_flow : workers ? &view_worker : rx ? &view_rx : tx ? &view_tx : &view_link;
	return 0;
}

static bool wanted(const struct opts *o, const char *link)
{
	int i;

	if (!o->nlinks)
		return true;
	for (i = 0; i < o->nlinks; i++)
		if (link && !strcmp(o->links[i], link))
			return true;
	return false;
}

/* Every LINK operand must name a link of the reply. */
static int check_links(const struct opts *o, const struct vw_reply *rep)
{
	int i, k;

	for (i = 0; i < o->nlinks; i++) {
		for (k = 0; k < rep->nrec; k++) {
			const char *link = vw_record_get(&rep->recs[k], "link");

			if (!strcmp(rep->recs[k].type, "stats") && link && !strcmp(link, o->links[i]))
				break;
		}
		if (k == rep->nrec) {
			fprintf(stderr, PROG ": %s: no such link\n", o->links[i]);
			return 1;
		}
	}
	return 0;
}

static const struct vw_record *find_record(const struct vw_reply *rep, const struct view *v, const char *name)
{
	int i;

	for (i = 0; rep && name && i < rep->nrec; i++) {
		const char *k = vw_record_get(&rep->recs[i], v->key);

		if (!strcmp(rep->recs[i].type, v->rectype) && k && !strcmp(k, name))
			return &rep->recs[i];
	}
	return NULL;
}

static bool counter(const char *s, uint64_t *v)
{
	return s && vw_uint_parse(s, 0, UINT64_MAX, v);
}

/*
 * Prints one sample: totals, or with prev the change since prev (a record
 * missing from prev is new, so all of its count is new; a counter that went
 * down belongs to a link re-created since, likewise).
 */
static void print_sample(struct out *out, const struct opts *o, const struct vw_reply *rep,
			 const struct vw_reply *prev)
{
	char buf[OUT_MAXFIELDS][24];
	const char *vals[OUT_MAXFIELDS];
	int i, k;

	out_begin(out);
	for (i = 0; i < rep->nrec; i++) {
		const struct vw_record *r = &rep->recs[i], *p;
		const char *name = vw_record_get(r, o->view->key);

		/* the daemon picks the aggregations named */
		if (strcmp(r->type, o->view->rectype) ||
		    (o->view == &view_worker || o->view->fields == aggr_fields ? false : !wanted(o, name)))
			continue;
		p = prev ? find_record(prev, o->view, name) : NULL;
		for (k = 0; k < out->n; k++) {
			const struct out_field *f = out->f[k];
			uint64_t cur, old = 0;

			vals[k] = vw_record_get(r, f->key);
			if (!prev || !(f->flags & OUT_F_DELTA) || !counter(vals[k], &cur))
				continue;
			if (p && counter(vw_record_get(p, f->key), &old) && old <= cur)
				cur -= old;
			snprintf(buf[k], sizeof(buf[k]), "%llu", (unsigned long long)cur);
			vals[k] = buf[k];
		}
		out_row(out, vals);
	}
	out_end(out);
}

static int sample(struct vw_handle *h, const struct opts *o, char **req, struct vw_reply *rep)
{
	vw_status_t st = vw_call(h, o->nlinks + 1 + (o->link ? 2 : 0), req, rep);

	if (st != VW_OK) {
		if (st == VW_E_INVAL)
			fprintf(stderr, PROG ": arguments must not contain line breaks\n");
		else
			fprintf(stderr, PROG ": %s: %s\n", vw_socket_path(o->sock),
				st == VW_E_NODAEMON ? "lost the connection to the daemon"
						    : "malformed reply from the daemon");
		return 1;
	}
	if (rep->status != VW_OK) {
		fprintf(stderr, PROG ": %s\n", *rep->message ? rep->message : vw_strstatus(rep->status));
		st = rep->status;
		vw_reply_free(rep);
		return vw_status_exit(st);
	}
	/* the daemon checks FLOW operands itself */
	if (o->view != &view_worker && o->view != &view_flow && o->view->fields != aggr_fields && check_links(o, rep)) {
		vw_reply_free(rep);
		return 1;
	}
	return 0;
}

static void timespec_add(struct timespec *t, const struct timespec *d)
{
	t->tv_sec += d->tv_sec;
	t->tv_nsec += d->tv_nsec;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int run(const struct opts *o, struct out *out)
{
	struct vw_reply prev, cur;
	struct vw_handle *h;
	struct timespec next;
	char err[512], **req;
	unsigned long n;
	vw_status_t st;
	int i, rc;

	req = calloc((size_t)o->nlinks + 4, sizeof(*req));
	if (!req) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	req[0] = o->view == &view_flow ? "flowstats" : o->view->fields == aggr_fields ? "aggrstats" : "stats";
	for (i = 0; i < o->nlinks; i++)
		req[i + 1] = o->links[i];
	if (o->link) {
		req[o->nlinks + 1] = "-l";
		req[o->nlinks + 2] = (char *)o->link;
	}
	st = vw_open(o->sock, &h, err, sizeof(err));
	if (st != VW_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		free(req);
		return vw_status_exit(st);
	}
	rc = sample(h, o, req, &prev);
	if (!rc && !o->interval_set) {
		print_sample(out, o, &prev, NULL);
		vw_reply_free(&prev);
	} else if (!rc) {
		clock_gettime(CLOCK_MONOTONIC, &next);
		for (n = 0; !o->count || n < o->count; n++) {
			timespec_add(&next, &o->interval);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
				;
			rc = sample(h, o, req, &cur);
			if (rc)
				break;
			print_sample(out, o, &cur, &prev);
			vw_reply_free(&prev);
			prev = cur;
			if (ferror(stdout))
				break;
		}
		vw_reply_free(&prev);
	}
	vw_close(h);
	free(req);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct out out;
	char err[256];
	int rc;

	/* show-history reads a file, not the daemon's counters */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			o.sock = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--socket=", 9)) {
			o.sock = argv[i] + 9;
			continue;
		}
		if (!strcmp(argv[i], "show-history"))
			return history_main(o.sock, argc - i, argv + i);
		break;
	}
	rc = parse_args(argc, argv, &o);
	if (rc < 0)
		return help();
	if (rc)
		return rc;
	if (out_init(&out, o.view->fields, o.fields, o.view->deflt,
		     o.json ? OUT_JSON : o.parsable ? OUT_PARSABLE : OUT_TABLE, stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	out.unit = o.unit;
	rc = run(&o, &out);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": standard output: %s\n", strerror(errno));
		return 1;
	}
	return rc;
}
