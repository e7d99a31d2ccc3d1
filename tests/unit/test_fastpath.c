// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel fast path's decisions (datapath/bpf/vw_fast.bpf.c), run in the
 * kernel with BPF_PROG_TEST_RUN on crafted frames: the test loads the
 * object with libbpf, fills vw_ports and vw_fdb, and checks the verdict, the
 * decision the program wrote to vw_last (loaded with vw_fast_debug set: a
 * test run cannot show where a redirect goes) and the per-CPU counters; and
 * what vw_sock, the uplink's socket filter, says of the same frames.
 * Skipped, saying why, where BPF cannot be loaded (not root, no BPF).
 *
 * Switch 1: VNICs A, B (VID 10), C (VID 20), E (VID 0), S (VID 10, marked
 * slow), J (VID 10, mtu 9000; the others 1500), the uplink U (mtu 1500), the
 * slow-path channels of A and of S (S's zone end in the daemon's namespace).
 * Switch 2: D (VID 10), no uplink.  Every test starts from these maps
 * (setup), so a test may change them.
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

/* LO: the loopback device, which a socket filter's test run gives the skb
 * (sock()); the uplink is in vw_ports under LO too */
enum { LO = 1, IF_A = 101, IF_B, IF_C, IF_S, IF_D, IF_E, IF_J, IF_U = 110,
       IF_SLOW_A = 201, IF_SLOW_S = 204 };
enum { SL_A = 1, SL_B, SL_C, SL_S, SL_D, SL_E, SL_J, SL_SLOW_A, SL_SLOW_S, SL_U, SL_MAX = SL_U };

#define MAC(last) { 2, 8, 0x20, 0, 0, last }
#define MAC_GW { 0x52, 0x54, 0, 0, 0, 1 }
static const uint8_t mac_a[6] = MAC(0xa);
static const uint8_t mac_b[6] = MAC(0xb);
static const uint8_t mac_c[6] = MAC(0xc);
static const uint8_t mac_d[6] = MAC(0xd);
static const uint8_t mac_e[6] = MAC(0xe);
static const uint8_t mac_j[6] = MAC(0x9);
static const uint8_t mac_s[6] = MAC(0x5);
static const uint8_t mac_gw[6] = MAC_GW;   /* behind the uplink */
static const uint8_t mac_bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_mc[6] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t mac_unknown[6] = MAC(0x99);
static const uint8_t mac_none[6];   /* the uplink's key in vw_fdb */

#define VNIC(s, v, sl, m) .sw = s, .vid = v, .kind = VW_FAST_VNIC, .slot = sl, .mtu = m
#define UPLINK { .sw = 1, .kind = VW_FAST_UPLINK, .slot = SL_U, .mtu = 1500 }

static const struct {
	uint32_t ifindex;
	struct vw_fast_port p;
} ports0[] = {
	{ IF_A, { VNIC(1, 10, SL_A, 1500), .slow_ifindex = IF_SLOW_A } },
	{ IF_B, { VNIC(1, 10, SL_B, 1500) } },
	{ IF_C, { VNIC(1, 20, SL_C, 1500) } },
	{ IF_E, { VNIC(1, 0, SL_E, 1500) } },
	{ IF_S, { VNIC(1, 10, SL_S, 1500), .flags = VW_FAST_PORT_SLOW, .slow_ifindex = IF_SLOW_S } },
	{ IF_J, { VNIC(1, 10, SL_J, 9000) } },
	{ IF_D, { VNIC(2, 10, SL_D, 1500) } },
	{ IF_U, UPLINK },
	{ LO, UPLINK },
	{ IF_SLOW_A, { .sw = 1, .kind = VW_FAST_CHAN, .slow_ifindex = IF_A, .slot = SL_SLOW_A } },
	{ IF_SLOW_S, { .sw = 1, .kind = VW_FAST_CHAN, .flags = VW_FAST_PORT_SAMENS,
		       .slow_ifindex = IF_S, .slot = SL_SLOW_S } },
};

static const struct {
	struct vw_fast_fdb_key k;
	struct vw_fast_fdb_val v;
} fdb0[] = {
	{ { 1, 10, MAC(0xa) }, { .ifindex = IF_A, .slot = SL_A, .mtu = 1500 } },
	{ { 1, 10, MAC(0xb) }, { .ifindex = IF_B, .slot = SL_B, .mtu = 1500 } },
	{ { 1, 20, MAC(0xc) }, { .ifindex = IF_C, .slot = SL_C, .mtu = 1500 } },
	{ { 1, 0, MAC(0xe) }, { .ifindex = IF_E, .slot = SL_E, .mtu = 1500 } },
	{ { 1, 10, MAC(0x5) }, { .ifindex = IF_S, .slot = SL_S, .flags = VW_FAST_FDB_SLOW, .mtu = 1500 } },
	{ { 1, 10, MAC(0x9) }, { .ifindex = IF_J, .slot = SL_J, .mtu = 9000 } },
	{ { 2, 10, MAC(0xd) }, { .ifindex = IF_D, .slot = SL_D, .mtu = 1500 } },
	/* the switch's uplink, and a MAC the daemon knows to be behind it */
	{ { 1, VW_FAST_VID_UPLINK, { 0 } }, { .ifindex = IF_U, .slot = SL_U, .flags = VW_FAST_FDB_UPLINK } },
	{ { 1, 10, MAC_GW }, { .ifindex = IF_U, .slot = SL_U, .flags = VW_FAST_FDB_UPLINK } },
};

static struct {
	struct bpf_object *obj;
	int prog, sock, ports, fdb, stats, last;
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

static int prog_fd(const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(fx.obj, name);

	assert_non_null(prog);
	return bpf_program__fd(prog);
}

static int group_setup(void **state)
{
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
	fx.prog = prog_fd("vw_fast");
	fx.sock = prog_fd("vw_sock");
	fx.ports = bpf_object__find_map_fd_by_name(fx.obj, "vw_ports");
	fx.fdb = bpf_object__find_map_fd_by_name(fx.obj, "vw_fdb");
	fx.stats = bpf_object__find_map_fd_by_name(fx.obj, "vw_stats");
	fx.last = bpf_object__find_map_fd_by_name(fx.obj, "vw_last");
	assert_true(fx.ports >= 0 && fx.fdb >= 0 && fx.stats >= 0 && fx.last >= 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx.obj)
		bpf_object__close(fx.obj);
	return 0;
}

/* Empties a hash map */
static void clear(int map)
{
	uint8_t key[64];

	while (bpf_map_get_next_key(map, NULL, key) == 0)
		assert_int_equal(bpf_map_delete_elem(map, key), 0);
}

static void fill(void)
{
	size_t i;

	clear(fx.ports);
	clear(fx.fdb);
	for (i = 0; i < sizeof(ports0) / sizeof(ports0[0]); i++)
		assert_int_equal(bpf_map_update_elem(fx.ports, &ports0[i].ifindex, &ports0[i].p, BPF_ANY), 0);
	for (i = 0; i < sizeof(fdb0) / sizeof(fdb0[0]); i++)
		assert_int_equal(bpf_map_update_elem(fx.fdb, &fdb0[i].k, &fdb0[i].v, BPF_ANY), 0);
}

/* Changes the flags and mtu of vw_fdb's entry (sw, vid, mac) */
static void fdb_set(uint32_t sw, uint16_t vid, const uint8_t *mac, uint16_t flags, uint32_t mtu)
{
	struct vw_fast_fdb_key k = { .sw = sw, .vid = vid };
	struct vw_fast_fdb_val v;

	memcpy(k.mac, mac, 6);
	assert_int_equal(bpf_map_lookup_elem(fx.fdb, &k, &v), 0);
	v.flags = flags;
	v.mtu = mtu;
	assert_int_equal(bpf_map_update_elem(fx.fdb, &k, &v, BPF_EXIST), 0);
}

static void fdb_del(uint32_t sw, uint16_t vid, const uint8_t *mac)
{
	struct vw_fast_fdb_key k = { .sw = sw, .vid = vid };

	memcpy(k.mac, mac, 6);
	assert_int_equal(bpf_map_delete_elem(fx.fdb, &k), 0);
}

static void port_set_flags(uint32_t ifindex, uint8_t flags)
{
	struct vw_fast_port p;

	assert_int_equal(bpf_map_lookup_elem(fx.ports, &ifindex, &p), 0);
	p.flags = flags;
	assert_int_equal(bpf_map_update_elem(fx.ports, &ifindex, &p, BPF_EXIST), 0);
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

/* Each test starts with the maps above, zero counters and no decision */
static int setup(void **state)
{
	(void)state;
	if (fx.obj) {
		fill();
		zero(fx.stats, 0, SL_MAX, sizeof(struct vw_fast_stats));
		zero(fx.last, 0, 0, sizeof(struct vw_fast_decision));
	}
	return 0;
}

/* The longest frame a test sends: a test run takes a page less the skb's
 * head- and tailroom (about 3.7 KB), so frames longer than a 1500-byte mtu
 * fit, not a 9000-byte mtu's */
#define FRAME_MAX 3072
#define IP_LEN 60   /* the IP packet frame() puts in */

/* A frame dst <- src, with an 802.1Q tag when tpid is not 0, IPv4 inside;
 * zeroes up to FRAME_MAX, so a test may send it longer */
static size_t frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t tpid, uint16_t vid,
		    uint16_t inner)
{
	size_t n = 12;

	memset(buf, 0, FRAME_MAX);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (tpid) {
		buf[n++] = tpid >> 8, buf[n++] = tpid & 0xff;
		buf[n++] = vid >> 8, buf[n++] = vid & 0xff;
	}
	buf[n++] = inner >> 8, buf[n++] = inner & 0xff;
	buf[n] = 0x45;
	return n + IP_LEN;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = v & 0xff;
}

/* An IP packet's headers, what vw_fast reads of a super-frame's to find its
 * segments' length: IP version, IP header length, L4 protocol, L4 header
 * length (TCP: data offset 8, 32 bytes, as with timestamps) */
struct hdrs {
	uint8_t ver, iph, proto, l4;
};

static const struct hdrs tcp4 = { 4, 20, 6, 32 }, tcp6 = { 6, 40, 6, 32 }, udp4 = { 4, 20, 17, 8 },
			 udp6 = { 6, 40, 17, 8 }, tcp4_opt = { 4, 24, 6, 32 }, icmp4 = { 4, 20, 1, 8 };

/* An untagged frame dst <- src whose IP packet (headers h) is ip bytes long */
static size_t ip_frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, const struct hdrs *h, size_t ip)
{
	size_t n = frame(buf, dst, src, 0, 0, h->ver == 4 ? 0x0800 : 0x86dd) - IP_LEN;
	uint8_t *l3 = buf + n, *l4 = l3 + h->iph;

	if (h->ver == 4) {
		l3[0] = 0x40 | h->iph / 4;
		put16(l3 + 2, ip);
		l3[9] = h->proto;
	} else {
		l3[0] = 0x60;
		put16(l3 + 4, ip - 40);
		l3[6] = h->proto;
	}
	if (h->proto == 6)
		l4[12] = (uint8_t)(h->l4 / 4 << 4);
	else if (h->proto == 17)
		put16(l4 + 4, ip - h->iph);
	return n + ip;
}

struct run {
	int verdict;
	struct vw_fast_decision d;
	uint8_t out[FRAME_MAX];
	uint32_t out_len;
};

/* The segments of a super-frame of IP length ip, headers h, gso bytes each */
static uint32_t segs(const struct hdrs *h, size_t ip, uint16_t gso)
{
	return gso ? (uint32_t)((ip - h->iph - h->l4 + gso - 1) / gso) : 0;
}

/*
 * vw_fast's verdict on a frame into in_ifindex; a super-frame (GSO) of
 * gso-byte segments when gso is not 0.  The test run copies the context's
 * gso_size and gso_segs into the skb (net/bpf/test_run.c,
 * convert___skb_to_skb) and asks for nothing else (no gso_type): what the
 * program reads of a super-frame is gso_size and the headers.
 */
static struct run run_gso(uint32_t in_ifindex, uint8_t *buf, size_t len, uint16_t gso, uint32_t nsegs)
{
	struct __sk_buff ctx = { .ingress_ifindex = in_ifindex, .gso_size = gso, .gso_segs = nsegs };
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

static struct run run(uint32_t in_ifindex, uint8_t *buf, size_t len)
{
	return run_gso(in_ifindex, buf, len, 0, 0);
}

#define SOCK_READ 0x7fffffff   /* vw_sock: the packet socket reads the frame */

/*
 * vw_sock's verdict on a frame the uplink received.  BPF_PROG_TEST_RUN runs
 * a socket filter on an skb of the loopback device (ctx->ifindex may name
 * another device only if it exists, and the uplink does not), so the
 * program's skb->ifindex is LO, the uplink's second key in vw_ports.  The
 * run pulls the Ethernet header first (eth_type_trans: a socket filter's
 * data starts at the network header), where a SOCK_RAW packet socket's
 * filter sees the frame from its MAC header on: 14 bytes put in front make
 * up for it.
 */
static uint32_t sock(const uint8_t *f, size_t n)
{
	uint8_t buf[14 + FRAME_MAX] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)(14 + n),
		    .repeat = 1);

	memcpy(buf + 14, f, n);
	assert_int_equal(bpf_prog_test_run_opts(fx.sock, &o), 0);
	return o.retval;
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

/* The counters of every slot */
struct all_stats {
	struct vw_fast_stats s[SL_MAX + 1];
};

static struct all_stats all_stats(void)
{
	struct all_stats a;
	uint32_t slot;

	for (slot = 0; slot <= SL_MAX; slot++)
		a.s[slot] = stats(slot);
	return a;
}

/* No counter of any slot moved since was */
static void assert_unchanged(const struct all_stats *was)
{
	struct all_stats now = all_stats();

	assert_memory_equal(&now, was, sizeof(now));
}

/* No counter of any slot moved since setup */
static void assert_no_counters(void)
{
	const struct all_stats none = { 0 };

	assert_unchanged(&none);
}

/* The counters of a frame's port and of its destination before it is sent */
struct counted {
	uint32_t from, to;
	struct vw_fast_stats f, t;
};

static struct counted before(uint32_t from, uint32_t to)
{
	return (struct counted){ from, to, stats(from), stats(to) };
}

/* Since c, one frame went the fast path, rx bytes received from c.from, tx
 * bytes delivered to c.to, and none to the slow path */
static void assert_counted(struct counted c, uint64_t rx, uint64_t tx)
{
	struct vw_fast_stats f = stats(c.from), t = stats(c.to);

	assert_int_equal(f.rx_fast_frames - c.f.rx_fast_frames, 1);
	assert_int_equal(f.rx_fast_bytes - c.f.rx_fast_bytes, rx);
	assert_int_equal(t.tx_fast_frames - c.t.tx_fast_frames, 1);
	assert_int_equal(t.tx_fast_bytes - c.t.tx_fast_bytes, tx);
	assert_int_equal(f.slow_frames, c.f.slow_frames);
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
	uint8_t f[FRAME_MAX];
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

static void assert_drop(struct run r, uint16_t why)
{
	assert_int_equal(r.verdict, TC_ACT_SHOT);
	assert_int_equal(r.d.how, VW_FAST_HOW_DROP);
	assert_int_equal(r.d.drop, why);
}

/* An untagged IPv4 frame dst <- src into port in */
static struct run send_ip(uint32_t in, const uint8_t *dst, const uint8_t *src, size_t *len)
{
	uint8_t f[FRAME_MAX];

	*len = frame(f, dst, src, 0, 0, 0x0800);
	return run(in, f, *len);
}

/* VNIC in (VID vid, counters' slot) sends to dst, which the switch does not
 * know in its VID: out the uplink with the VID's tag (none for VID 0) */
static void unknown_to_uplink(uint32_t in, uint32_t slot, uint16_t vid, const uint8_t *dst,
			      const uint8_t *src)
{
	struct counted c = before(slot, SL_U);
	uint8_t f[FRAME_MAX];
	size_t n = frame(f, dst, src, 0, 0, 0x0800);
	struct run r = run(in, f, n);

	assert_fast(r, VW_FAST_HOW_UPLINK, IF_U, vid);
	/* bpf_skb_vlan_push puts the tag in the skb's metadata (the device
	 * inserts it), which a test run does not return: the data is the frame
	 * as it was, the tag is in the decision and in the bytes counted */
	assert_int_equal(r.out_len, n);
	assert_memory_equal(r.out, f, n);
	assert_counted(c, n, vid ? n + 4 : n);
}

static void test_known_unicast(void **state)
{
	uint8_t f[FRAME_MAX];
	size_t n = frame(f, mac_b, mac_a, 0, 0, 0x0800);
	struct counted c;
	struct run r;

	(void)state;
	NEED_BPF();
	c = before(SL_A, SL_B);
	r = run(IF_A, f, n);
	assert_fast(r, VW_FAST_HOW_PEER, IF_B, 0);
	assert_int_equal(r.out_len, n);   /* the frame as it was */
	assert_memory_equal(r.out, f, n);
	assert_counted(c, n, n);
	assert_int_equal(stats(SL_B).rx_fast_frames, 0);

	/* B's zone end in the daemon's namespace: bpf_redirect, not _peer (a
	 * test run returns TC_ACT_REDIRECT for both), to the same host end */
	fdb_set(1, 10, mac_b, VW_FAST_FDB_SAMENS, 1500);
	c = before(SL_A, SL_B);
	assert_fast(run(IF_A, f, n), VW_FAST_HOW_PEER, IF_B, 0);
	assert_counted(c, n, n);
}

/* Unknown unicast from a VNIC goes to the switch's uplink, the VID's tag
 * pushed; the uplink marked slow: the slow path; no uplink: dropped */
static void test_unknown_unicast(void **state)
{
	size_t n;

	(void)state;
	NEED_BPF();
	unknown_to_uplink(IF_A, SL_A, 10, mac_unknown, mac_a);
	unknown_to_uplink(IF_E, SL_E, 0, mac_unknown, mac_e);
	/* a MAC the daemon put in vw_fdb as behind the uplink: the same */
	unknown_to_uplink(IF_A, SL_A, 10, mac_gw, mac_a);
	/* the uplink's entry marked slow */
	fdb_set(1, VW_FAST_VID_UPLINK, mac_none, VW_FAST_FDB_UPLINK | VW_FAST_FDB_SLOW, 0);
	n = slow_case(IF_A, mac_unknown, mac_a, 0, 0, 0x0800, IF_SLOW_A);
	assert_int_equal(stats(SL_A).slow_frames, 1);
	assert_int_equal(stats(SL_A).slow_bytes, n);
	assert_int_equal(stats(SL_U).tx_fast_frames, 3);
	/* switch 2 has no uplink */
	assert_drop(send_ip(IF_D, mac_unknown, mac_d, &n), VW_FAST_DROP_UNKNOWN);
	assert_int_equal(stats(SL_D).drops[VW_FAST_DROP_UNKNOWN], 1);
	assert_int_equal(stats(SL_D).rx_fast_frames + stats(SL_D).slow_frames, 0);
}

/* C is on the switch but in VID 20, D in VID 10 of another switch: A's
 * frames to them are unknown unicast in A's (switch, VID), so they go to the
 * uplink, or nowhere without one; never to C or D */
static void test_vid_mismatch(void **state)
{
	size_t n;

	(void)state;
	NEED_BPF();
	unknown_to_uplink(IF_A, SL_A, 10, mac_c, mac_a);
	unknown_to_uplink(IF_A, SL_A, 10, mac_d, mac_a);
	unknown_to_uplink(IF_C, SL_C, 20, mac_a, mac_c);
	assert_drop(send_ip(IF_D, mac_a, mac_d, &n), VW_FAST_DROP_UNKNOWN);
	fdb_del(1, VW_FAST_VID_UPLINK, mac_none);
	assert_drop(send_ip(IF_A, mac_c, mac_a, &n), VW_FAST_DROP_UNKNOWN);
	assert_int_equal(stats(SL_A).drops[VW_FAST_DROP_UNKNOWN], 1);
	assert_int_equal(stats(SL_D).drops[VW_FAST_DROP_UNKNOWN], 1);
	assert_int_equal(stats(SL_C).tx_fast_frames, 0);
	assert_int_equal(stats(SL_D).tx_fast_frames, 0);
	assert_int_equal(stats(SL_A).tx_fast_frames, 0);
}

/* A VNIC as a sender or destination; the uplink as a destination, known by
 * a MAC the switch does not know */
struct vnic {
	uint32_t ifindex, slot, slow;   /* host end, counters, slow path (0: none) */
	const uint8_t *mac;
	uint16_t vid;
};

static const struct vnic vn_a = { IF_A, SL_A, IF_SLOW_A, mac_a, 10 }, vn_b = { IF_B, SL_B, 0, mac_b, 10 },
			 vn_j = { IF_J, SL_J, 0, mac_j, 10 }, vn_up = { IF_U, SL_U, 0, mac_unknown, 0 };

enum { SLOW, FAST };

/* from sends to an IP packet (headers h) ip bytes long, a super-frame of
 * gso-byte segments when gso is not 0: on the fast path (to the uplink: with
 * from's tag) or to from's slow path, counted either way */
static void sends(const struct vnic *from, const struct vnic *to, const struct hdrs *h, size_t ip,
		  uint16_t gso, int fast)
{
	uint8_t f[FRAME_MAX];
	size_t n = ip_frame(f, to->mac, from->mac, h, ip);
	struct counted c = before(from->slot, to->slot);
	struct run r = run_gso(from->ifindex, f, n, gso, segs(h, ip, gso));
	int up = to->ifindex == IF_U;
	struct vw_fast_stats s;

	if (fast) {
		assert_fast(r, up ? VW_FAST_HOW_UPLINK : VW_FAST_HOW_PEER, to->ifindex, up ? from->vid : 0);
		assert_counted(c, n, up && from->vid ? n + 4 : n);
		return;
	}
	assert_slow(r, from->slow);
	s = stats(from->slot);
	assert_int_equal(s.slow_frames - c.f.slow_frames, 1);
	assert_int_equal(s.slow_bytes - c.f.slow_bytes, n);
	assert_int_equal(s.rx_fast_frames, c.f.rx_fast_frames);
	assert_int_equal(stats(to->slot).tx_fast_frames, c.t.tx_fast_frames);
}

/* An IP packet of exactly mtu bytes from -> to goes the fast path, one byte
 * more the slow path */
static void mtu_edge(const struct vnic *from, const struct vnic *to, const struct hdrs *h, size_t mtu)
{
	sends(from, to, h, mtu, 0, FAST);
	sends(from, to, h, mtu + 1, 0, SLOW);
}

/* A frame whose IP packet is longer than the smaller of the sender's mtu and
 * the destination's (0: not checked) goes to the slow path, which drops it
 * and counts it; a shorter one goes the fast path whatever the mtus are */
static void test_mtu(void **state)
{
	(void)state;
	NEED_BPF();
	mtu_edge(&vn_a, &vn_b, &tcp4, 1500);
	mtu_edge(&vn_a, &vn_b, &tcp6, 1500);
	sends(&vn_j, &vn_b, &tcp4, IP_LEN, 0, FAST);   /* 9000 -> 1500 */
	mtu_edge(&vn_j, &vn_b, &tcp4, 1500);
	mtu_edge(&vn_b, &vn_j, &tcp4, 1500);           /* 1500 -> 9000: B's own */
	/* to the uplink (mtu 0): the sender's alone */
	mtu_edge(&vn_a, &vn_up, &tcp4, 1500);
	sends(&vn_j, &vn_up, &tcp4, FRAME_MAX - 14, 0, FAST);
	/* a destination's mtu unknown (0), or larger than the sender's */
	fdb_set(1, 10, mac_b, 0, 0);
	sends(&vn_j, &vn_b, &tcp4, FRAME_MAX - 14, 0, FAST);
	mtu_edge(&vn_b, &vn_j, &tcp4, 1500);
	fdb_set(1, 10, mac_b, 0, 2000);
	mtu_edge(&vn_j, &vn_b, &tcp4, 2000);
	fdb_set(1, 10, mac_b, 0, 1400);
	mtu_edge(&vn_a, &vn_b, &tcp4, 1400);
}

/*
 * A super-frame (GSO: TSO, GRO, a veth's) is checked by its segments: IP
 * and TCP or UDP headers plus gso_size, as the slow path checks it.  The
 * super-frames are longer than any mtu here, so one taken whole goes to the
 * slow path: the fast cases show the program saw gso_size.
 */
static void test_gso(void **state)
{
	static const struct {
		const struct hdrs *h;
		uint16_t gso;   /* the longest segments a 1500-byte mtu takes */
	} cases[] = {
		{ &tcp4, 1448 }, { &tcp6, 1428 }, { &udp4, 1472 }, { &udp6, 1452 }, { &tcp4_opt, 1444 },
	};
	const size_t ip = FRAME_MAX - 14;
	size_t i;

	(void)state;
	NEED_BPF();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hdrs *h = cases[i].h;
		uint16_t gso = cases[i].gso;

		assert_int_equal(h->iph + h->l4 + gso, 1500);
		sends(&vn_a, &vn_b, h, ip, gso, FAST);
		sends(&vn_a, &vn_b, h, ip, gso + 1, SLOW);
		sends(&vn_j, &vn_b, h, ip, gso, FAST);   /* 9000 -> 1500 */
		sends(&vn_j, &vn_b, h, ip, gso + 1, SLOW);
		sends(&vn_b, &vn_j, h, ip, gso + 1, SLOW);   /* B's own 1500 */
		sends(&vn_a, &vn_up, h, ip, gso, FAST);
		sends(&vn_a, &vn_up, h, ip, gso + 1, SLOW);
	}
	/* neither TCP nor UDP: the whole frame counts */
	sends(&vn_a, &vn_b, &icmp4, ip, 1000, SLOW);
	/* a super-frame shorter than a segment: its own length */
	sends(&vn_a, &vn_b, &tcp4, 1500, 1460, FAST);
	sends(&vn_a, &vn_b, &tcp4, 1501, 1460, SLOW);
}

static void test_tagged_from_vnic(void **state)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };
	uint8_t f[FRAME_MAX];
	unsigned i;

	(void)state;
	NEED_BPF();
	for (i = 0; i < 3; i++) {
		size_t n = frame(f, mac_b, mac_a, tpids[i], 10, 0x0800);

		assert_drop(run(IF_A, f, n), VW_FAST_DROP_TAGGED);
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
	/* B has no slow-path channel: the frame goes on up its host end */
	slow_case(IF_B, mac_bc, mac_b, 0, 0, 0x0806, 0);
	assert_int_equal(stats(SL_A).slow_frames, 2);
	assert_int_equal(stats(SL_A).slow_bytes, 2 * n);
	assert_int_equal(stats(SL_B).slow_frames, 1);
	assert_int_equal(stats(SL_U).tx_fast_frames, 0);
}

/* S has something only userspace does (maxbw): every frame it sends and
 * every frame sent to it goes to the sender's slow path; so does a frame a
 * VNIC sends to itself */
static void test_vnic_slow(void **state)
{

	(void)state;
	NEED_BPF();
	slow_case(IF_S, mac_b, mac_s, 0, 0, 0x0800, IF_SLOW_S);
	/* even a tagged one: userspace drops it and counts it there */
	slow_case(IF_S, mac_b, mac_s, 0x8100, 10, 0x0800, IF_SLOW_S);
	slow_case(IF_A, mac_s, mac_a, 0, 0, 0x0800, IF_SLOW_A);
	slow_case(IF_A, mac_a, mac_a, 0, 0, 0x0800, IF_SLOW_A);
	assert_int_equal(stats(SL_S).slow_frames, 2);
	assert_int_equal(stats(SL_S).drops[VW_FAST_DROP_TAGGED], 0);
	assert_int_equal(stats(SL_S).rx_fast_frames + stats(SL_S).tx_fast_frames, 0);
	assert_int_equal(stats(SL_A).slow_frames, 2);
	assert_int_equal(stats(SL_A).tx_fast_frames, 0);
	assert_int_equal(stats(SL_B).tx_fast_frames, 0);
}

/* What userspace writes to a VNIC's slow-path channel goes into the VNIC's
 * zone, whatever it is, counted by userspace */
static void test_channel(void **state)
{
	static const struct {
		uint32_t in, to;
		const uint8_t *dst;
	} cases[] = {
		{ IF_SLOW_A, IF_A, mac_a }, { IF_SLOW_A, IF_A, mac_bc },
		{ IF_SLOW_S, IF_S, mac_s }, { IF_SLOW_S, IF_S, mac_mc },
	};
	size_t i, n;

	(void)state;
	NEED_BPF();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = send_ip(cases[i].in, cases[i].dst, mac_gw, &n);

		assert_fast(r, VW_FAST_HOW_CHAN, cases[i].to, 0);
		assert_int_equal(r.out_len, n);
	}
	assert_no_counters();
}

/* A frame from the uplink to VNIC dst (counters' slot), its IP packet ip
 * bytes long: vw_sock keeps it from the packet socket, vw_fast sends it to
 * dst with its tag popped */
static void uplink_fast(const uint8_t *dst, uint16_t tpid, uint16_t vid, uint32_t to, uint32_t slot,
			size_t ip)
{
	struct counted c = before(SL_U, slot);
	uint8_t f[FRAME_MAX], want[FRAME_MAX];
	size_t n = frame(f, dst, mac_gw, tpid, vid, 0x0800) - IP_LEN + ip;
	size_t wn = frame(want, dst, mac_gw, 0, 0, 0x0800) - IP_LEN + ip;
	struct run r;

	assert_int_equal(sock(f, n), 0);
	r = run(IF_U, f, n);
	assert_fast(r, VW_FAST_HOW_PEER, to, vid);
	assert_int_equal(r.out_len, wn);
	assert_memory_equal(r.out, want, wn);
	assert_counted(c, n, wn);   /* received with its tag, delivered without */
}

/* uplink -> a VNIC of the frame's VID (untagged: VID 0), the tag popped */
static void test_uplink_in(void **state)
{
	(void)state;
	NEED_BPF();
	uplink_fast(mac_b, 0x8100, 10, IF_B, SL_B, IP_LEN);
	uplink_fast(mac_e, 0, 0, IF_E, SL_E, IP_LEN);
	fdb_set(1, 10, mac_b, VW_FAST_FDB_SAMENS, 1500);
	uplink_fast(mac_b, 0x8100, 10, IF_B, SL_B, IP_LEN);
}

/* A frame from the uplink that the fast path leaves to the uplink's packet
 * socket: vw_fast lets it go on up (TC_ACT_OK), vw_sock lets the socket
 * read it, and nothing is counted (the userspace path counts it).  len:
 * the frame's length, 0 for frame()'s */
static void uplink_slow(const uint8_t *dst, uint16_t tpid, uint16_t vid, uint16_t inner, size_t len)
{
	uint8_t f[FRAME_MAX];
	size_t n = frame(f, dst, mac_gw, tpid, vid, inner);
	struct all_stats was = all_stats();

	if (len)
		n = len;
	assert_slow(run(IF_U, f, n), 0);
	assert_int_equal(sock(f, n), SOCK_READ);
	assert_unchanged(&was);
}

static void test_uplink_slow(void **state)
{
	(void)state;
	NEED_BPF();
	/* B is in VID 10: untagged (VID 0) and VID 20 frames are not for it */
	uplink_slow(mac_b, 0, 0, 0x0800, 0);
	uplink_slow(mac_b, 0x8100, 20, 0x0800, 0);
	uplink_slow(mac_unknown, 0x8100, 10, 0x0800, 0);
	uplink_slow(mac_bc, 0x8100, 10, 0x0806, 0);
	uplink_slow(mac_mc, 0, 0, 0x86dd, 0);
	/* a tag in the tag, outer tags other than 802.1Q: userspace drops them */
	uplink_slow(mac_b, 0x8100, 10, 0x8100, 0);
	uplink_slow(mac_b, 0x88a8, 10, 0x0800, 0);
	uplink_slow(mac_b, 0x88a8, 10, 0x8100, 0);
	uplink_slow(mac_b, 0x9100, 10, 0x0800, 0);
	/* to a VNIC marked slow; to a MAC behind the uplink itself */
	uplink_slow(mac_s, 0x8100, 10, 0x0800, 0);
	uplink_slow(mac_gw, 0x8100, 10, 0x0800, 0);
	/* shorter than an Ethernet header and a tag */
	uplink_slow(mac_b, 0x8100, 10, 0x0800, 16);
	/* the uplink marked slow (a capture on it...) */
	port_set_flags(IF_U, VW_FAST_PORT_SLOW);
	port_set_flags(LO, VW_FAST_PORT_SLOW);
	uplink_slow(mac_b, 0x8100, 10, 0x0800, 0);
}

/* From the uplink only the destination's mtu counts (the wire brought the
 * frame): an IP packet longer (the tag is not part of it) is left to
 * userspace, which drops it */
static void test_uplink_mtu(void **state)
{
	(void)state;
	NEED_BPF();
	uplink_fast(mac_b, 0x8100, 10, IF_B, SL_B, 1500);
	uplink_slow(mac_b, 0x8100, 10, 0x0800, 18 + 1501);
	uplink_fast(mac_e, 0, 0, IF_E, SL_E, 1500);
	uplink_slow(mac_e, 0, 0, 0x0800, 14 + 1501);
	uplink_fast(mac_j, 0x8100, 10, IF_J, SL_J, FRAME_MAX - 18);
	fdb_set(1, 10, mac_b, 0, 1400);
	uplink_fast(mac_b, 0x8100, 10, IF_B, SL_B, 1400);
	uplink_slow(mac_b, 0x8100, 10, 0x0800, 18 + 1401);
	fdb_set(1, 10, mac_b, 0, 0);   /* not checked */
	uplink_fast(mac_b, 0x8100, 10, IF_B, SL_B, FRAME_MAX - 18);
}

/* vw_sock on a device that is not an uplink: every frame read */
static void test_sock_not_uplink(void **state)
{
	const struct vw_fast_port vnic = { VNIC(1, 10, SL_A, 1500) };
	const uint32_t lo = LO;
	uint8_t f[FRAME_MAX];
	size_t n = frame(f, mac_b, mac_gw, 0x8100, 10, 0x0800);

	(void)state;
	NEED_BPF();
	assert_int_equal(sock(f, n), 0);   /* as the uplink: for the fast path */
	assert_int_equal(bpf_map_update_elem(fx.ports, &lo, &vnic, BPF_EXIST), 0);
	assert_int_equal(sock(f, n), SOCK_READ);
	assert_int_equal(bpf_map_delete_elem(fx.ports, &lo), 0);
	assert_int_equal(sock(f, n), SOCK_READ);
}

/* A device that is not a port: left alone.  A runt (shorter than an
 * Ethernet header) cannot be sent: BPF_PROG_TEST_RUN refuses one (and an
 * IPv4 frame shorter than its IP header), so the shortest it takes, a bare
 * Ethernet header of another type, is not dropped */
static void test_not_ours_and_runt(void **state)
{
	uint8_t f[FRAME_MAX];
	size_t n = frame(f, mac_b, mac_a, 0, 0, 0x88b5);
	struct run r;

	(void)state;
	NEED_BPF();
	r = run(999, f, n);
	assert_int_equal(r.verdict, TC_ACT_OK);
	assert_int_equal(r.d.how, VW_FAST_HOW_NONE);
	assert_fast(run(IF_A, f, 14), VW_FAST_HOW_PEER, IF_B, 0);
	assert_int_equal(stats(SL_A).drops[VW_FAST_DROP_RUNT], 0);
	assert_int_equal(stats(SL_A).rx_fast_bytes, 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_known_unicast, setup),
		cmocka_unit_test_setup(test_unknown_unicast, setup),
		cmocka_unit_test_setup(test_vid_mismatch, setup),
		cmocka_unit_test_setup(test_mtu, setup),
		cmocka_unit_test_setup(test_gso, setup),
		cmocka_unit_test_setup(test_tagged_from_vnic, setup),
		cmocka_unit_test_setup(test_broadcast_multicast, setup),
		cmocka_unit_test_setup(test_vnic_slow, setup),
		cmocka_unit_test_setup(test_channel, setup),
		cmocka_unit_test_setup(test_uplink_in, setup),
		cmocka_unit_test_setup(test_uplink_slow, setup),
		cmocka_unit_test_setup(test_uplink_mtu, setup),
		cmocka_unit_test_setup(test_sock_not_uplink, setup),
		cmocka_unit_test_setup(test_not_ours_and_runt, setup),
	};
	int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);

	if (!fx.obj && fx.why[0])
		printf("test_fastpath: skipped: %s\n", fx.why);
	return rc;
}
