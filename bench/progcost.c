/*
 * bench/progcost ID HOSTEND MAC [REPEAT]
 * What one run of a loaded TC program costs: BPF_PROG_TEST_RUN of program
 * ID (`tc filter show dev HOSTEND ingress` names it) on a 64-byte UDP frame
 * to MAC as if received on HOSTEND, REPEAT times (default 1,000,000), five
 * rounds; prints the median of the kernel's mean per run in ns.  The
 * programs' maps are the live ones; no frame is sent anywhere (the test run
 * reports a redirect, it does not do it).  bench/fastproto runs it for
 * vwire's program and the prototype's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

static int cmp(const void *a, const void *b)
{
	return (int)(*(const unsigned *)a - *(const unsigned *)b);
}

int main(int argc, char **argv)
{
	unsigned char frame[64] = { 0 };
	unsigned m[6], ns[5], ifindex;
	int fd, i, repeat = argc > 4 ? atoi(argv[4]) : 1000000;

	if (argc < 4 || repeat <= 0) {
		fprintf(stderr, "usage: %s ID HOSTEND MAC [REPEAT]\n", argv[0]);
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex || sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "%s: bad host end or MAC: %s %s\n", argv[0], argv[2], argv[3]);
		return 1;
	}
	fd = bpf_prog_get_fd_by_id((unsigned)atoi(argv[1]));
	if (fd < 0) {
		fprintf(stderr, "%s: no program %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < 6; i++)
		frame[i] = (unsigned char)m[i];
	frame[6] = 0x02;                         /* a local unicast source */
	frame[12] = 0x08;                        /* IPv4 */
	frame[14] = 0x45, frame[17] = 50;        /* IHL 5, length 50 */
	frame[22] = 64, frame[23] = 17;          /* TTL, UDP */
	for (i = 0; i < 5; i++) {
		struct __sk_buff ctx = { .ingress_ifindex = ifindex, .ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

		if (bpf_prog_test_run_opts(fd, &o)) {
			fprintf(stderr, "%s: test run failed: %s\n", argv[0], strerror(errno));
			return 1;
		}
		ns[i] = o.duration;
	}
	qsort(ns, 5, sizeof(ns[0]), cmp);
	printf("%u\n", ns[2]);
	return 0;
}
