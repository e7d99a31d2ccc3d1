// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel fast path's decisions (datapath/bpf/vw_fast.bpf.c), run in the
 * kernel with BPF_PROG_TEST_RUN on crafted frames: the test loads the
 * object with libbpf, fills vw_ports and vw_fdb, and checks the verdict, the
 * decision the program wrote to vw_last (loaded with vw_fast_debug set: a
 * test run cannot show where a redirect goes) and the per-CPU counters.
 * Skipped, saying why, where BPF cannot be loaded (not root, no BPF).
 *
 * One switch (1) with VNICs A, B (VID 10), C (VID 20), E (VID 0), S (VID 10,
 * marked slow), the uplink U; a second switch (2) with D (VID 10).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/bpf/vw_fast.h"

#ifndef VW_FAST_OBJ
#define VW_FAST_OBJ "build/bpf/vw_fast.bpf.o"
#endif

enum { IF_A = 101, IF_B, IF_C, IF_S, IF_D, IF_E, IF_U = 110, IF_SLOW_A = 201, IF_SLOW_S = 204 };
enum { SL_A = 1, SL_B, SL_C, SL_S, SL_D, SL_E, SL_U = 10 };

static const uint8_t mac_a[6] = { 2, 8, 0x20, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 2, 8, 0x20, 0, 0, 0xb };
static const uint8_t mac_c[6] = { 2, 8, 0x20, 0, 0, 0xc };
static const uint8_t mac_d[6] = { 2, 8, 0x20, 0, 0, 0xd };
static const uint8_t mac_s[6] = { 2, 8, 0x20, 0, 0, 0x5 };
static const uint8_t mac_gw[6] = { 0x52, 0x54, 0, 0, 0, 1 };   /* behind the uplink */
static const uint8_t mac_bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_mc[6] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t mac_unknown[6] = { 2, 8, 0x20, 0, 0, 0x99 };

static struct {
	struct bpf_object *obj;
	int prog, ports, fdb, stats, last;
	int ncpu;
	char why[256];   /* why the tests are skipped */
} fx;

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		vsnprintf(fx.why, sizeof(fx.why), fmt, ap);
	return 0;
}

static int set_debug(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		const uint32_t on = 1;   /* vw_fast_debug, the only read-only global */

		if (strstr(bpf_map__name(m), ".rodata"))
			return bpf_map__set_initial_value(m, &on, sizeof(on));
	}
	return -ENOENT;
}

static void add_port(uint32_t ifindex, uint8_t kind, uint32_t sw, uint16_t vid, uint8_t flags,
		     uint32_t slow, uint32_t slot)
{
	struct vw_fast_port p = { .sw = sw, .vid = vid, .kind = kind, .flags = flags,
				  .slow_ifindex = slow, .slot = slot };

	assert_int_equal(bpf_map_update_elem(fx.ports, &ifindex, &p, BPF_ANY), 0);
}

static void add_fdb(uint32_t sw, uint16_t vid, const uint8_t *mac, uint32_t ifindex, uint32_t slot,
		    uint16_t flags)
{
	struct vw_fast_fdb_key k = { .sw = sw, .vid = vid };
	struct vw_fast_fdb_val v = { .ifindex = ifindex, .slot = slot, .flags = flags };

	memcpy(k.mac, mac, 6);
	assert_int_equal(bpf_map_update_elem(fx.fdb, &k, &v, BPF_ANY), 0);
}

static int group_setup(void **state)
{
	struct bpf_program *prog;
	int err;

	(void)state;
	libbpf_set_print(quiet);
	fx.ncpu = libbpf_num_possible_cpus();
	fx.obj = bpf_object__open_file(VW_FAST_OBJ, NULL);
	if (!fx.obj) {
		snprintf(fx.why, sizeof(fx.why), "cannot open %s: %s", VW_FAST_OBJ, strerror(errno));
		return 0;
	}
	err = set_debug(fx.obj);
	if (!err)
		err = bpf_object__load(fx.obj);
	if (err) {
		char msg[200];

		snprintf(msg, sizeof(msg), "cannot load %s: %s", VW_FAST_OBJ, strerror(-err));
		if (!fx.why[0] || err == -EPERM)
			snprintf(fx.why, sizeof(fx.why), "%s%s", msg,
				 err == -EPERM ? " (needs root and BPF)" : "");
		bpf_object__close(fx.obj);
		fx.obj = NULL;
		return 0;
	}
	prog = bpf_object__find_program_by_name(fx.obj, "vw_fast");
	assert_non_null(prog);
	fx.prog = bpf_program__fd(prog);
	fx.ports = bpf_object__find_map_fd_by_name(fx.obj, "vw_ports");
	fx.fdb = bpf_object__find_map_fd_by_name(fx.obj, "vw_fdb");
	fx.stats = bpf_object__find_map_fd_by_name(fx.obj, "vw_stats");
	fx.last = bpf_object__find_map_fd_by_name(fx.obj, "vw_last");
	assert_true(fx.ports >= 0 && fx.fdb >= 0 && fx.stats >= 0 && fx.last >= 0);

	add_port(IF_A, VW_FAST_VNIC, 1, 10, 0, IF_SLOW_A, SL_A);
	add_port(IF_B, VW_FAST_VNIC, 1, 10, 0, 0, SL_B);
	add_port(IF_C, VW_FAST_VNIC, 1, 20, 0, 0, SL_C);
	add_port(IF_E, VW_FAST_VNIC, 1, 0, 0, 0, SL_E);
	add_port(IF_S, VW_FAST_VNIC, 1, 10, VW_FAST_PORT_SLOW, IF_SLOW_S, SL_S);
	add_port(IF_D, VW_FAST_VNIC, 2, 10, 0, 0, SL_D);
	add_port(IF_U, VW_FAST_UPLINK, 1, 0, 0, 0, SL_U);
	add_fdb(1, 10, mac_a, IF_A, SL_A, 0);
	add_fdb(1, 10, mac_b, IF_B, SL_B, 0);
	add_fdb(1, 20, mac_c, IF_C, SL_C, 0);
	add_fdb(1, 10, mac_s, IF_S, SL_S, VW_FAST_FDB_SLOW);
	add_fdb(2, 10, mac_d, IF_D, SL_D, 0);
	add_fdb(1, 10, mac_gw, IF_U, SL_U, VW_FAST_FDB_UPLINK);
	add_fdb(1, 0, mac_gw, IF_U, SL_U, VW_FAST_FDB_UPLINK);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.obj)
		bpf_object__close(fx.obj);
	return 0;
}

/* Zeroes the per-CPU entries of map from key first to last */
static void zero(int map, uint32_t first, uint32_t last, size_t value_size)
{
	void *z = calloc((size_t)fx.ncpu, (value_size + 7) & ~7UL);
	uint32_t k;

	for (k = first; k <= last; k++)
		assert_int_equal(bpf_map_update_elem(map, &k, z, BPF_ANY), 0);
	free(z);
}

/* Each test starts with zero counters and no decision */
static int setup(void **state)
{
	(void)state;
	if (fx.obj) {
		zero(fx.stats, 0, SL_U, sizeof(struct vw_fast_stats));
		zero(fx.last, 0, 0, sizeof(struct vw_fast_decision));
	}
	return 0;
}

/* A frame dst <- src, with an 802.1Q tag when tpid is not 0, IPv4 inside */
static size_t frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t tpid, uint16_t vid,
		    uint16_t inner)
{
	size_t n = 12;

	memset(buf, 0, 128);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (tpid) {
		buf[n++] = tpid >> 8, buf[n++] = tpid & 0xff;
		buf[n++] = vid >> 8, buf[n++] = vid & 0xff;
	}
	buf[n++] = inner >> 8, buf[n++] = inner & 0xff;
	buf[n] = 0x45;
	return n + 60;
}

struct run {
	int verdict;
	struct vw_fast_decision d;
	uint8_t out[128];
	uint32_t out_len;
};

static struct run run(uint32_t in_ifindex, uint8_t *buf, size_t len)
{
	struct __sk_buff ctx = { .ingress_ifindex = in_ifindex };
	struct run r = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)len,
		    .data_out = r.out, .data_size_out = sizeof(r.out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	size_t dsz = (sizeof(struct vw_fast_decision) + 7) & ~7UL;
	uint8_t *last = calloc((size_t)fx.ncpu, dsz);
	uint32_t k = 0;
	int c, seen = 0;

	assert_int_equal(bpf_prog_test_run_opts(fx.prog, &o), 0);
	r.verdict = (int)o.retval;
	r.out_len = o.data_size_out;
	assert_int_equal(bpf_map_lookup_elem(fx.last, &k, last), 0);
	for (c = 0; c < fx.ncpu; c++) {
		struct vw_fast_decision d;

		memcpy(&d, last + (size_t)c * dsz, sizeof(d));
		if (d.seq) {
			r.d = d;
			seen++;
		}
	}
	free(last);
	assert_int_equal(seen, 1);
	assert_int_equal(r.d.seq, 1);
	assert_int_equal(r.d.verdict, r.verdict);
	zero(fx.last, 0, 0, sizeof(struct vw_fast_decision));   /* for the next run */
	return r;
}

/* The counters of a slot, summed over CPUs */
static struct vw_fast_stats stats(uint32_t slot)
{
	struct vw_fast_stats *all = calloc((size_t)fx.ncpu, sizeof(*all)), s = { 0 };
	int c, i;

	assert_int_equal(bpf_map_lookup_elem(fx.stats, &slot, all), 0);
	for (c = 0; c < fx.ncpu; c++) {
		s.rx_fast_frames += all[c].rx_fast_frames;
		s.rx_fast_bytes += all[c].rx_fast_bytes;
		s.tx_fast_frames += all[c].tx_fast_frames;
		s.tx_fast_bytes += all[c].tx_fast_bytes;
		s.slow_frames += all[c].slow_frames;
		s.slow_bytes += all[c].slow_bytes;
		for (i = 0; i < VW_FAST_DROP_MAX; i++)
			s.drops[i] += all[c].drops[i];
	}
	free(all);
	return s;
}

#define NEED_BPF() do { if (!fx.obj) skip(); } while (0)

static void assert_slow(struct run r, uint32_t target)
{
	assert_int_equal(r.d.how, VW_FAST_HOW_SLOW);
	assert_int_equal(r.d.target, target);
	assert_int_equal(r.verdict, target ? TC_ACT_REDIRECT : TC_ACT_OK);
}

/* Sends frame(dst, src, tpid, vid, inner) into port in, checks that it goes
 * to in's slow path target; returns the frame's length */
static size_t slow_case(uint32_t in, const uint8_t *dst, const uint8_t *src, uint16_t tpid,
			uint16_t vid, uint16_t inner, uint32_t target)
{
	uint8_t f[128];
	size_t n = frame(f, dst, src, tpid, vid, inner);

	assert_slow(run(in, f, n), target);
	return n;
}

/* A redirect on the fast path: how, to which ifindex, the tag pushed or popped */
static void assert_fast(struct run r, uint16_t how, uint32_t target, uint16_t vid)
{
	assert_int_equal(r.verdict, TC_ACT_REDIRECT);
	assert_int_equal(r.d.how, how);
	assert_int_equal(r.d.target, target);
	assert_int_equal(r.d.vid, vid);
}

static void test_known_unicast(void **state)
{
	uint8_t f[128];
	size_t n = frame(f, mac_b, mac_a, 0, 0, 0x0800);
	struct run r;
	struct vw_fast_stats a, b;

	(void)state;
	NEED_BPF();
	r = run(IF_A, f, n);
	assert_fast(r, VW_FAST_HOW_PEER, IF_B, 0);
	assert_int_equal(r.out_len, n);   /* the frame as it was */
	assert_memory_equal(r.out, f, n);
	a = stats(SL_A), b = stats(SL_B);
	assert_int_equal(a.rx_fast_frames, 1);
	assert_int_equal(a.rx_fast_bytes, n);
	assert_int_equal(a.slow_frames, 0);
	assert_int_equal(b.tx_fast_frames, 1);
	assert_int_equal(b.tx_fast_bytes, n);
	assert_int_equal(b.rx_fast_frames, 0);
}

/* C is on the switch but in VID 20, D in VID 10 of another switch: A's
 * frames to them are unknown unicast in A's (switch, VID), so they go to A's
 * slow path (which sends them to the uplink, as SPEC §3 says) */
static void test_vid_mismatch(void **state)
{
	struct vw_fast_stats a;

	(void)state;
	NEED_BPF();
	slow_case(IF_A, mac_c, mac_a, 0, 0, 0x0800, IF_SLOW_A);
	slow_case(IF_A, mac_d, mac_a, 0, 0, 0x0800, IF_SLOW_A);
	/* and C's to A */
	slow_case(IF_C, mac_a, mac_c, 0, 0, 0x0800, 0);
	a = stats(SL_A);
	assert_int_equal(a.slow_frames, 2);
	assert_int_equal(a.rx_fast_frames, 0);
	assert_int_equal(stats(SL_C).tx_fast_frames, 0);
	assert_int_equal(stats(SL_D).tx_fast_frames, 0);
	assert_int_equal(stats(SL_A).tx_fast_frames, 0);
}

static void test_tagged_from_vnic(void **state)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };
	uint8_t f[128];
	unsigned i;

	(void)state;
	NEED_BPF();
	for (i = 0; i < 3; i++) {
		size_t n = frame(f, mac_b, mac_a, tpids[i], 10, 0x0800);
		struct run r = run(IF_A, f, n);

		assert_int_equal(r.verdict, TC_ACT_SHOT);
		assert_int_equal(r.d.how, VW_FAST_HOW_DROP);
		assert_int_equal(r.d.drop, VW_FAST_DROP_TAGGED);
	}
	assert_int_equal(stats(SL_A).drops[VW_FAST_DROP_TAGGED], 3);
	assert_int_equal(stats(SL_A).rx_fast_frames, 0);
	assert_int_equal(stats(SL_B).tx_fast_frames, 0);
}

static void test_broadcast_multicast(void **state)
{
	size_t n;

	(void)state;
	NEED_BPF();
	n = slow_case(IF_A, mac_bc, mac_a, 0, 0, 0x0806, IF_SLOW_A);
	n = slow_case(IF_A, mac_mc, mac_a, 0, 0, 0x86dd, IF_SLOW_A);
	/* from the uplink: no slow target, the frame goes on up its stack */
	n = slow_case(IF_U, mac_bc, mac_gw, 0x8100, 10, 0x0806, 0);
	assert_int_equal(stats(SL_A).slow_frames, 2);
	assert_int_equal(stats(SL_U).slow_frames, 1);
	assert_int_equal(stats(SL_U).slow_bytes, n);
}

static void test_unknown_unicast(void **state)
{
	uint8_t f[128];
	size_t n = frame(f, mac_unknown, mac_a, 0, 0, 0x0800);

	(void)state;
	NEED_BPF();
	assert_slow(run(IF_A, f, n), IF_SLOW_A);
	assert_slow(run(IF_B, f, n), 0);
	n = slow_case(IF_U, mac_unknown, mac_gw, 0x8100, 10, 0x0800, 0);
	assert_int_equal(stats(SL_A).slow_frames, 1);
	assert_int_equal(stats(SL_A).slow_bytes, n - 4);
	assert_int_equal(stats(SL_B).slow_frames, 1);
	assert_int_equal(stats(SL_U).slow_frames, 1);
}

/* VNIC -> a MAC behind the uplink: the VID's tag pushed (none for VID 0) */
static void test_uplink_out(void **state)
{
	uint8_t f[128];
	size_t n = frame(f, mac_gw, mac_a, 0, 0, 0x0800);
	struct run r;

	(void)state;
	NEED_BPF();
	r = run(IF_A, f, n);
	assert_fast(r, VW_FAST_HOW_UPLINK, IF_U, 10);
	r = run(IF_E, f, n);
	assert_fast(r, VW_FAST_HOW_UPLINK, IF_U, 0);
	assert_int_equal(r.out_len, n);
	assert_memory_equal(r.out, f, n);
	assert_int_equal(stats(SL_A).rx_fast_frames, 1);
	assert_int_equal(stats(SL_E).rx_fast_frames, 1);
	assert_int_equal(stats(SL_U).tx_fast_frames, 2);
	assert_int_equal(stats(SL_U).tx_fast_bytes, (n + 4) + n);   /* A's with its tag */
}

/* uplink -> a VNIC of the frame's VID, the tag popped; never to another VID,
 * never back to an uplink */
static void test_uplink_in(void **state)
{
	uint8_t f[128], want[128];
	size_t n = frame(f, mac_b, mac_gw, 0x8100, 10, 0x0800), wn;
	struct run r;

	(void)state;
	NEED_BPF();
	r = run(IF_U, f, n);
	assert_fast(r, VW_FAST_HOW_PEER, IF_B, 10);
	wn = frame(want, mac_b, mac_gw, 0, 0, 0x0800);
	assert_int_equal(r.out_len, wn);
	assert_memory_equal(r.out, want, wn);
	assert_int_equal(stats(SL_U).rx_fast_frames, 1);
	assert_int_equal(stats(SL_U).rx_fast_bytes, n);   /* with its tag, B's without */
	assert_int_equal(stats(SL_B).tx_fast_frames, 1);
	assert_int_equal(stats(SL_B).tx_fast_bytes, wn);

	/* B is in VID 10: untagged (VID 0) and VID 20 frames do not reach it */
	n = slow_case(IF_U, mac_b, mac_gw, 0, 0, 0x0800, 0);
	n = slow_case(IF_U, mac_b, mac_gw, 0x8100, 20, 0x0800, 0);
	/* to a MAC behind the uplink itself: not back out */
	n = slow_case(IF_U, mac_gw, mac_unknown, 0x8100, 10, 0x0800, 0);
	/* a tag in the tag, and a non-802.1Q outer tag: dropped, as by the switch */
	n = frame(f, mac_b, mac_gw, 0x8100, 10, 0x8100);
	r = run(IF_U, f, n);
	assert_int_equal(r.verdict, TC_ACT_SHOT);
	assert_int_equal(r.d.drop, VW_FAST_DROP_VLAN);
	n = frame(f, mac_b, mac_gw, 0x88a8, 10, 0x0800);
	r = run(IF_U, f, n);
	assert_int_equal(r.verdict, TC_ACT_SHOT);
	assert_int_equal(r.d.drop, VW_FAST_DROP_VLAN);
	assert_int_equal(stats(SL_U).slow_frames, 3);
	assert_int_equal(stats(SL_U).drops[VW_FAST_DROP_VLAN], 2);
	assert_int_equal(stats(SL_B).tx_fast_frames, 1);
}

/* S has something only userspace does (maxbw): every frame it sends and
 * every frame sent to it goes to the sender's slow path */
static void test_vnic_slow(void **state)
{

	(void)state;
	NEED_BPF();
	slow_case(IF_S, mac_b, mac_s, 0, 0, 0x0800, IF_SLOW_S);
	/* even a tagged one: userspace drops it and counts it there */
	slow_case(IF_S, mac_b, mac_s, 0x8100, 10, 0x0800, IF_SLOW_S);
	slow_case(IF_A, mac_s, mac_a, 0, 0, 0x0800, IF_SLOW_A);
	slow_case(IF_U, mac_s, mac_gw, 0x8100, 10, 0x0800, 0);
	assert_int_equal(stats(SL_S).slow_frames, 2);
	assert_int_equal(stats(SL_S).drops[VW_FAST_DROP_TAGGED], 0);
	assert_int_equal(stats(SL_S).rx_fast_frames + stats(SL_S).tx_fast_frames, 0);
	assert_int_equal(stats(SL_A).slow_frames, 1);
	assert_int_equal(stats(SL_B).tx_fast_frames, 0);
}

/* A device that is not a port: left alone; a runt from a port: dropped */
static void test_not_ours_and_runt(void **state)
{
	uint8_t f[128];
	size_t n = frame(f, mac_b, mac_a, 0, 0, 0x0800);
	struct run r;

	(void)state;
	NEED_BPF();
	r = run(999, f, n);
	assert_int_equal(r.verdict, TC_ACT_OK);
	assert_int_equal(r.d.how, VW_FAST_HOW_NONE);
	n = frame(f, mac_b, mac_gw, 0x8100, 10, 0x0800);
	r = run(IF_U, f, 16);
	assert_int_equal(r.verdict, TC_ACT_SHOT);
	assert_int_equal(r.d.drop, VW_FAST_DROP_RUNT);
	assert_int_equal(stats(SL_U).drops[VW_FAST_DROP_RUNT], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_known_unicast, setup),
		cmocka_unit_test_setup(test_vid_mismatch, setup),
		cmocka_unit_test_setup(test_tagged_from_vnic, setup),
		cmocka_unit_test_setup(test_broadcast_multicast, setup),
		cmocka_unit_test_setup(test_unknown_unicast, setup),
		cmocka_unit_test_setup(test_uplink_out, setup),
		cmocka_unit_test_setup(test_uplink_in, setup),
		cmocka_unit_test_setup(test_vnic_slow, setup),
		cmocka_unit_test_setup(test_not_ours_and_runt, setup),
	};
	int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);

	if (!fx.obj && fx.why[0])
		printf("test_fastpath: skipped: %s\n", fx.why);
	return rc;
}
