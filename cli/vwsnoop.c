/*
 * vwsnoop: packet capture on any vwire link (the snoop analogue).  It asks
 * vwired for the internal command "snoop", whose reply is followed by a
 * pcap stream (nanosecond timestamps) on the same connection, reads it with
 * libpcap and either writes it to a file (-w) or prints one line per frame.
 * The stream ends with a trailer record (len 0) that tells why and how many
 * frames the daemon dropped (observability/capture.h).  SIGINT or SIGTERM
 * half-closes the connection: the daemon then ends the stream the same way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <pcap/pcap.h>

#include "cli/output.h"
#include "lib/vwire.h"
#include "lib/bytes.h"

#define PROG "vwsnoop"
#define USAGE "usage: " PROG " [--socket PATH] -l LINK [-d in|out|both] [-c COUNT] [-w FILE] [EXPRESSION]"

static volatile sig_atomic_t stop_fd = -1;

struct snoop {
	pcap_dumper_t *dump;
	bool dump_stdout;
	uint64_t count, got, drops;
	char end[32];
	bool ended;
	pcap_t *p;
};

static int usage_error(const char *fmt, const char *arg)
{
	return out_usage_error(PROG, USAGE, fmt, arg);
}

static int help(void)
{
	printf(USAGE "\n\n"
	       "  -l LINK       the VNIC, etherstub, phys link, aggregation or tunnel to\n"
	       "                capture on\n"
	       "  -d DIR        in: what the link receives, out: what it sends, both\n"
	       "                (default; an etherstub: every frame its VNICs send)\n"
	       "  -c COUNT      stop after COUNT frames\n"
	       "  -w FILE       write a pcap file (nanosecond timestamps; '-': stdout)\n"
	       "  EXPRESSION    a libpcap filter (pcap-filter(7)), e.g. 'icmp or arp'\n");
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	/* asks the daemon to end the stream: it sends the trailer, then EOF */
	if (stop_fd >= 0)
		shutdown(stop_fd, SHUT_WR);
}

/* ---- one-line summaries ---- */

static void mac_str(const uint8_t *m, char *s)
{
	sprintf(s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *icmp_name(unsigned type)
{
	switch (type) {
	case 0: return "echo reply";
	case 3: return "unreachable";
	case 5: return "redirect";
	case 8: return "echo request";
	case 11: return "time exceeded";
	default: return NULL;
	}
}

static const char *icmp6_name(unsigned type)
{
	switch (type) {
	case 1: return "unreachable";
	case 2: return "packet too big";
	case 3: return "time exceeded";
	case 128: return "echo request";
	case 129: return "echo reply";
	case 130: return "multicast listener query";
	case 131: return "multicast listener report";
	case 133: return "router solicitation";
	case 134: return "router advertisement";
	case 135: return "neighbor solicitation";
	case 136: return "neighbor advertisement";
	case 143: return "multicast listener report v2";
	default: return NULL;
	}
}

/* TCP, UDP or ICMP after the addresses ("src > dst"); l4 has n bytes. */
static void print_l4(unsigned proto, const char *src, const char *dst, const uint8_t *l4, size_t n, bool v6)
{
	if ((proto == 6 || proto == 17) && n >= 4) {
		printf("%s.%u > %s.%u: ", src, vw_get16(l4), dst, vw_get16(l4 + 2));
		if (proto == 17 || n < 14) {
			printf(proto == 17 ? "UDP" : "TCP");
			return;
		}
		{
			static const char fl[] = "FSRPAUEW";
			char f[12];
			int i, k = 0;
			uint8_t b = l4[13];

			for (i = 0; i < 8; i++)
				if ((b >> i & 1) && i != 4)
					f[k++] = fl[i];
			if (b & 0x10)
				f[k++] = '.';
			f[k] = 0;
			printf("TCP [%s], seq %u", f, vw_get32(l4 + 4));
			if (b & 0x10)
				printf(", ack %u", vw_get32(l4 + 8));
		}
		return;
	}
	printf("%s > %s: ", src, dst);
	if ((proto == 1 && !v6) || (proto == 58 && v6)) {
		const char *name = n ? (v6 ? icmp6_name(l4[0]) : icmp_name(l4[0])) : NULL;

		printf("%s ", v6 ? "ICMP6" : "ICMP");
		if (name)
			printf("%s", name);
		else if (n >= 2)
			printf("type %u code %u", l4[0], l4[1]);
		else
			printf("truncated");
		if (n >= 8 && ((!v6 && (l4[0] == 0 || l4[0] == 8)) || (v6 && (l4[0] == 128 || l4[0] == 129))))
			printf(", id %u, seq %u", vw_get16(l4 + 4), vw_get16(l4 + 6));
		if (v6 && n >= 24 && (l4[0] == 135 || l4[0] == 136)) {
			char t[INET6_ADDRSTRLEN];

			printf(", %s %s", l4[0] == 135 ? "who has" : "tgt is", inet_ntop(AF_INET6, l4 + 8, t, sizeof(t)));
		}
		return;
	}
	printf("proto %u", proto);
}

static void print_frame(const struct pcap_pkthdr *h, const uint8_t *d)
{
	const struct timespec ts = { h->ts.tv_sec, h->ts.tv_usec }; /* nanoseconds: see pcap_fopen */
	size_t n = h->caplen, off = 14;
	char t[32], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct tm tm;
	uint16_t type;

	localtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	printf("%s.%09ld ", t, ts.tv_nsec);
	if (n < 14) {
		printf("truncated frame, length %u\n", h->len);
		return;
	}
	type = vw_get16(d + 12);
	while ((type == 0x8100 || type == 0x88a8) && n >= off + 4) {
		printf("vlan %u, ", vw_get16(d + off) & 0xfff);
		type = vw_get16(d + off + 2);
		off += 4;
	}
	if (type == 0x0800 && n >= off + 20 && (d[off] >> 4) == 4) {
		const uint8_t *ip = d + off;
		size_t hl = (size_t)(ip[0] & 15) * 4;

		inet_ntop(AF_INET, ip + 12, a, sizeof(a));
		inet_ntop(AF_INET, ip + 16, b, sizeof(b));
		printf("IP ");
		if (vw_get16(ip + 6) & 0x1fff) /* a later fragment: no L4 header */
			printf("%s > %s: fragment", a, b);
		else
			print_l4(ip[9], a, b, ip + hl, n > off + hl ? n - off - hl : 0, false);
	} else if (type == 0x86dd && n >= off + 40) {
		const uint8_t *ip = d + off;
		size_t l4 = off + 40;
		unsigned nh = ip[6];

		inet_ntop(AF_INET6, ip + 8, a, sizeof(a));
		inet_ntop(AF_INET6, ip + 24, b, sizeof(b));
		/* hop-by-hop (MLD reports), routing and destination options */
		while ((nh == 0 || nh == 43 || nh == 60) && n >= l4 + 8) {
			nh = d[l4];
			l4 += (size_t)(d[l4 + 1] + 1) * 8;
		}
		printf("IP6 ");
		print_l4(nh, a, b, d + l4, n > l4 ? n - l4 : 0, true);
	} else if (type == 0x0806 && n >= off + 28) {
		const uint8_t *arp = d + off;
		unsigned op = vw_get16(arp + 6);

		inet_ntop(AF_INET, arp + 14, a, sizeof(a));
		inet_ntop(AF_INET, arp + 24, b, sizeof(b));
		if (op == 1) {
			printf("ARP who-has %s tell %s", b, a);
		} else if (op == 2) {
			char m[18];

			mac_str(arp + 8, m);
			printf("ARP %s is-at %s", a, m);
		} else {
			printf("ARP op %u", op);
		}
	} else {
		char s[18], t2[18];

		mac_str(d + 6, s);
		mac_str(d, t2);
		printf("%s > %s, ethertype 0x%04x", s, t2, type);
	}
	printf(", length %u\n", h->len);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *d)
{
	struct snoop *s = (struct snoop *)user;

	if (!h->len) { /* the trailer: "vwsnoop end=REASON drops=N" */
		char text[128];
		const char *p;

		snprintf(text, sizeof(text), "%.*s", (int)h->caplen, (const char *)d);
		if ((p = strstr(text, "end=")))
			sscanf(p + 4, "%31s", s->end);
		if ((p = strstr(text, "drops=")))
			s->drops = strtoull(p + 6, NULL, 10);
		s->ended = true;
		pcap_breakloop(s->p);
		return;
	}
	if (s->count && s->got >= s->count)
		return;
	s->got++;
	if (s->dump) {
		struct timespec now;
		static int64_t flushed_ms;
		int64_t ms;

		pcap_dump((u_char *)s->dump, h, d);
		/* to stdout at once (a pipe to tshark); to a file at least every
		 * 100 ms, so it can be read while the capture runs */
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (s->dump_stdout || ms - flushed_ms >= 100) {
			pcap_dump_flush(s->dump);
			flushed_ms = ms;
		}
	} else {
		print_frame(h, d);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *link = NULL, *dir = NULL, *count = NULL, *file = NULL;
	char err[512], errbuf[PCAP_ERRBUF_SIZE], *words[10], *expr = NULL;
	struct snoop s = { 0 };
	struct vw_handle *h = NULL;
	struct vw_reply rep;
	struct sigaction sa;
	vw_status_t st;
	size_t elen = 0;
	int ch, i, nw = 0, fd = -1, rc = 0;
	FILE *in;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":l:d:c:w:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S': sock = optarg; break;
		case 'l': link = optarg; break;
		case 'd': dir = optarg; break;
		case 'c': count = optarg; break;
		case 'w': file = optarg; break;
		case 'h': return help();
		default:
			return out_getopt_error(PROG, USAGE, ch, longopts, argv);
		}
	}
	if (!link)
		return usage_error("%s", "option '-l LINK' is required");
	if (dir && strcmp(dir, "in") && strcmp(dir, "out") && strcmp(dir, "both")) {
		fprintf(stderr, PROG ": invalid direction '%s' (in, out or both)\n", dir);
		return 1;
	}
	if (count && !vw_uint_parse(count, 1, UINT32_MAX, &s.count)) {
		fprintf(stderr, PROG ": invalid count '%s' (1 to %u)\n", count, UINT32_MAX);
		return 1;
	}
	/* the expression's words, as tcpdump takes them */
	for (i = optind; i < argc; i++)
		elen += strlen(argv[i]) + 1;
	if (elen) {
		expr = calloc(1, elen);
		if (!expr)
			return 1;
		for (i = optind; i < argc; i++) {
			if (i > optind)
				strcat(expr, " ");
			strcat(expr, argv[i]);
		}
	}
	words[nw++] = "snoop";
	words[nw++] = "-l";
	words[nw++] = (char *)link;
	if (dir) {
		words[nw++] = "-d";
		words[nw++] = (char *)dir;
	}
	if (count) {
		words[nw++] = "-c";
		words[nw++] = (char *)count;
	}
	if (expr) {
		words[nw++] = "-f";
		words[nw++] = expr;
	}
	st = vw_open(sock, &h, err, sizeof(err));
	if (st != VW_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		free(expr);
		return 1;
	}
	st = vw_call_stream(h, nw, words, &rep, &fd);
	free(expr);
	if (st != VW_OK || rep.status != VW_OK) {
		if (st == VW_E_INVAL)
			fprintf(stderr, PROG ": arguments must not contain line breaks\n");
		else if (st != VW_OK)
			fprintf(stderr, PROG ": %s: %s\n", vw_socket_path(sock), vw_strstatus(st));
		else
			fprintf(stderr, PROG ": %s\n", *rep.message ? rep.message : vw_strstatus(rep.status));
		vw_reply_free(&rep);
		vw_close(h);
		return 1;
	}
	vw_reply_free(&rep);
	/* the daemon watches the link from here on */
	fprintf(stderr, "capturing on %s, direction %s\n", link, dir ? dir : "both");
	in = fdopen(dup(fd), "r");
	s.p = in ? pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, errbuf) : NULL;
	if (!s.p) {
		fprintf(stderr, PROG ": cannot read the capture: %s\n", in ? errbuf : strerror(errno));
		vw_close(h);
		return 1;
	}
	if (file) {
		s.dump = pcap_dump_open(s.p, file);
		if (!s.dump) {
			fprintf(stderr, PROG ": %s\n", pcap_geterr(s.p));
			pcap_close(s.p);
			vw_close(h);
			return 1;
		}
		s.dump_stdout = !strcmp(file, "-");
	} else {
		setvbuf(stdout, NULL, _IOLBF, 0);
	}
	stop_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART; /* libpcap's reads go on until the trailer */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (pcap_loop(s.p, -1, on_frame, (u_char *)&s) == PCAP_ERROR && !s.ended)
		fprintf(stderr, PROG ": %s\n", pcap_geterr(s.p));
	if (s.dump) {
		pcap_dump_flush(s.dump);
		pcap_dump_close(s.dump);
	}
	pcap_close(s.p);
	vw_close(h);
	fflush(stdout);
	if (!s.ended) {
		fprintf(stderr, PROG ": the connection to vwired was lost\n");
		rc = 1;
	} else if (!strcmp(s.end, "shutdown")) {
		fprintf(stderr, PROG ": vwired stopped\n");
		rc = 1;
	} else if (!strcmp(s.end, "deleted") || !strcmp(s.end, "detached")) {
		fprintf(stderr, PROG ": %s was %s\n", link, s.end);
		rc = 1;
	}
	fprintf(stderr, "%lu packet%s captured, %lu dropped\n", (unsigned long)s.got, s.got == 1 ? "" : "s",
		(unsigned long)s.drops);
	return rc;
}
