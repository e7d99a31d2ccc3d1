/*
 * Unit tests for flows: attribute and property parsing (lib/flow.c), the
 * overlap rule against a brute-force search over packets, and the
 * classifier (datapath/flow.c) against a linear scan of the flows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/flow.h"
#include "lib/vwire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct vw_flow_attrs attrs(const char *s)
{
	struct vw_flow_attrs a;
	char err[256];

	if (!vw_flow_attrs_parse(s, &a, err, sizeof(err)))
		fail_msg("'%s' refused: %s", s, err);
	return a;
}

/* ---- parsing ---- */

static void test_attrs_parse_good(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "local_ip=10.1.2.3", "local_ip=10.1.2.3/32" },
		{ "remote_ip=10.1.0.0/16", "remote_ip=10.1.0.0/16" },
		{ "local_ip=fd00::/8", "local_ip=fd00::/8" },
		{ "remote_ip=fd00:1::1", "remote_ip=fd00:1::1/128" },
		{ "transport=tcp", "transport=tcp" },
		{ "transport=icmpv6", "transport=icmpv6" },
		{ "transport=sctp,local_port=5201", "transport=sctp,local_port=5201" },
		{ "remote_port=53,transport=udp", "transport=udp,remote_port=53" },
		{ "dsfield=0x28", "dsfield=0x28" },
		{ "dsfield=28:fc", "dsfield=0x28:0xfc" },
		{ "dsfield=0x2e:0xff", "dsfield=0x2e" },
		{ "local_ip=0.0.0.0/0", "local_ip=0.0.0.0/0" },
		{ "transport=tcp,local_ip=10.0.0.0/8,remote_ip=10.2.0.0/16,local_port=1,remote_port=65535,dsfield=0x20:0xe0",
		  "transport=tcp,local_ip=10.0.0.0/8,remote_ip=10.2.0.0/16,local_port=1,remote_port=65535,dsfield=0x20:0xe0" },
	};
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct vw_flow_attrs a = attrs(t[i].in), b;

		assert_string_equal(vw_flow_attrs_format(&a, buf, sizeof(buf)), t[i].out);
		b = attrs(buf); /* the canonical text parses back to the same */
		assert_true(vw_flow_attrs_equal(&a, &b));
	}
	assert_int_equal(vw_flow_attrs_family(&(struct vw_flow_attrs){ 0 }), 0);
	{
		struct vw_flow_attrs a = attrs("remote_ip=fd00::/8");

		assert_int_equal(vw_flow_attrs_family(&a), AF_INET6);
	}
}

static void test_attrs_parse_bad(void **state)
{
	static const struct {
		const char *in, *err;
	} t[] = {
		{ "", "invalid attribute list '' (ATTR=VAL[,...] expected)" },
		{ "transport", "invalid attribute list 'transport' (ATTR=VAL[,...] expected)" },
		{ "=tcp", "invalid attribute list '=tcp' (ATTR=VAL[,...] expected)" },
		{ "foo=1", "unknown attribute 'foo' (transport, local_ip, remote_ip, local_port, remote_port, dsfield)" },
		{ "transport=tcp,transport=udp", "attribute 'transport' given twice" },
		{ "transport=igmp", "invalid transport 'igmp' (tcp, udp, sctp, icmp or icmpv6)" },
		{ "transport=TCP", "invalid transport 'TCP' (tcp, udp, sctp, icmp or icmpv6)" },
		{ "transport=6", "invalid transport '6' (tcp, udp, sctp, icmp or icmpv6)" },
		{ "local_ip=10.0.0.256", "invalid local_ip '10.0.0.256' (an IPv4 or IPv6 address or subnet expected)" },
		{ "local_ip=10.0.0.1/33", "invalid local_ip '10.0.0.1/33' (an IPv4 or IPv6 address or subnet expected)" },
		{ "remote_ip=fd00::/129", "invalid remote_ip 'fd00::/129' (an IPv4 or IPv6 address or subnet expected)" },
		{ "remote_ip=host", "invalid remote_ip 'host' (an IPv4 or IPv6 address or subnet expected)" },
		{ "local_ip=10.1.2.3/24", "invalid local_ip '10.1.2.3/24': host bits set (10.1.2.0/24?)" },
		{ "local_ip=fd00::1/64", "invalid local_ip 'fd00::1/64': host bits set (fd00::/64?)" },
		{ "transport=tcp,local_port=0", "invalid local_port '0' (1-65535)" },
		{ "transport=tcp,local_port=65536", "invalid local_port '65536' (1-65535)" },
		{ "transport=tcp,remote_port=http", "invalid remote_port 'http' (1-65535)" },
		{ "transport=tcp,remote_port=-1", "invalid remote_port '-1' (1-65535)" },
		{ "local_port=80", "local_port requires transport tcp, udp or sctp" },
		{ "remote_port=80", "remote_port requires transport tcp, udp or sctp" },
		{ "transport=icmp,local_port=80", "local_port requires transport tcp, udp or sctp" },
		{ "dsfield=0x100", "invalid dsfield '0x100' (VALUE[:MASK], hexadecimal bytes such as 0x28:0xfc)" },
		{ "dsfield=zz", "invalid dsfield 'zz' (VALUE[:MASK], hexadecimal bytes such as 0x28:0xfc)" },
		{ "dsfield=0x28:", "invalid dsfield '0x28:' (VALUE[:MASK], hexadecimal bytes such as 0x28:0xfc)" },
		{ "dsfield=0x28:0", "invalid dsfield '0x28:0': the mask must not be 0" },
		{ "dsfield=0x29:0xfc", "invalid dsfield '0x29:0xfc': the value has bits outside the mask" },
		{ "local_ip=10.0.0.0/8,remote_ip=fd00::/8", "local_ip and remote_ip must be of the same address family" },
		{ "transport=icmp,local_ip=fd00::/8", "transport 'icmp' is IPv4's; use icmpv6 with IPv6 addresses" },
		{ "transport=icmpv6,remote_ip=10.0.0.0/8", "transport 'icmpv6' is IPv6's; use icmp with IPv4 addresses" },
	};
	struct vw_flow_attrs a;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		err[0] = 0;
		if (vw_flow_attrs_parse(t[i].in, &a, err, sizeof(err)))
			fail_msg("'%s' accepted", t[i].in);
		assert_string_equal(err, t[i].err);
	}
	assert_false(vw_flow_attrs_parse(NULL, &a, err, sizeof(err)));
}

static void test_props_parse(void **state)
{
	static const struct {
		const char *prop, *val, *out;
	} good[] = {
		{ "maxbw", "100K", "100K" },   { "maxbw", "10", "10M" },        { "maxbw", "1.5G", "1.5G" },
		{ "guarantee", "2M", "2M" },   { "priority", "high", "high" },  { "priority", "low", "low" },
		{ "priority", "medium", "medium" }, { "maxconn", "1", "1" },    { "maxconn", "4294967295", "4294967295" },
		{ "mss", "536", "536" },       { "mss", "65495", "65495" },     { "mss", "1220", "1220" },
		{ "fairness", "conn", "conn" }, { "fairness", "none", "none" },
	};
	static const struct {
		const char *prop, *val, *err;
	} bad[] = {
		{ "maxbw", "0", "invalid maxbw '0' (a rate such as 100K, 10M, 1.5G; a bare number is Mb/s)" },
		{ "maxbw", "10X", "invalid maxbw '10X' (a rate such as 100K, 10M, 1.5G; a bare number is Mb/s)" },
		{ "guarantee", "-1", "invalid guarantee '-1' (a rate such as 100K, 10M, 1.5G; a bare number is Mb/s)" },
		{ "priority", "urgent", "invalid priority 'urgent' (high, medium or low)" },
		{ "priority", "HIGH", "invalid priority 'HIGH' (high, medium or low)" },
		{ "maxconn", "0", "invalid maxconn '0' (1-4294967295)" },
		{ "maxconn", "4294967296", "invalid maxconn '4294967296' (1-4294967295)" },
		{ "maxconn", "ten", "invalid maxconn 'ten' (1-4294967295)" },
		{ "mss", "535", "invalid mss '535' (536-65495)" },
		{ "mss", "65496", "invalid mss '65496' (536-65495)" },
		{ "fairness", "fair", "invalid fairness 'fair' (conn or none)" },
	};
	char err[256], buf[64];
	size_t i;
	int n, k;
	const struct vw_flowpropdef *tab = vw_flowprop_table(&n);

	(void)state;
	assert_int_equal(n, VW_FP_COUNT);
	for (k = 0; k < n; k++) {
		assert_ptr_equal(vw_flowprop_find(tab[k].name), &tab[k]);
		/* the shaper's properties are enforced; admission control and
		 * the MSS clamp are not wired in yet */
		assert_int_equal(tab[k].enforced, tab[k].id != VW_FP_MAXCONN && tab[k].id != VW_FP_MSS);
	}
	assert_null(vw_flowprop_find("cpus"));
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		struct vw_flowprops p = { 0 };
		const struct vw_flowpropdef *pd = vw_flowprop_find(good[i].prop);

		if (!vw_flowprop_parse(pd, good[i].val, &p, err, sizeof(err)))
			fail_msg("%s=%s refused: %s", good[i].prop, good[i].val, err);
		assert_true(p.set & (1u << pd->id));
		assert_string_equal(vw_flowprop_format(pd, &p, buf, sizeof(buf)), good[i].out);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vw_flowprops p = { 0 };

		assert_false(vw_flowprop_parse(vw_flowprop_find(bad[i].prop), bad[i].val, &p, err, sizeof(err)));
		assert_string_equal(err, bad[i].err);
		assert_int_equal(p.set, 0);
	}
	{
		struct vw_flowprops p = { 0 };

		assert_string_equal(vw_flowprop_format(vw_flowprop_find("mss"), &p, buf, sizeof(buf)), "");
	}
}

/* ---- a small universe of flows and packets ---- */

static void key_addr(uint8_t *dst, const char *a)
{
	if (strchr(a, ':')) {
		assert_int_equal(inet_pton(AF_INET6, a, dst), 1);
	} else {
		memset(dst, 0, 10);
		dst[10] = dst[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, a, dst + 12), 1);
	}
}

/* Every valid combination of these values. */
static struct vw_flow_attrs *universe(unsigned *n)
{
	static const char *const tr[] = { NULL, "tcp", "udp", "icmp", "icmpv6" };
	static const char *const lip[] = { NULL, "10.0.0.0/8", "10.1.2.3", "11.0.0.0/8", "fd00::/8", "fd00:1::1" };
	static const char *const rip[] = { NULL, "10.0.0.0/8", "fd00::/8" };
	static const char *const lp[] = { NULL, "80", "81" };
	static const char *const rp[] = { NULL, "80" };
	static const char *const ds[] = { NULL, "0x28:0xfc", "0x20:0xe0", "0x2c" };
	struct vw_flow_attrs *u = malloc(ARRAY_SIZE(tr) * ARRAY_SIZE(lip) * ARRAY_SIZE(rip) * ARRAY_SIZE(lp) *
					 ARRAY_SIZE(rp) * ARRAY_SIZE(ds) * sizeof(*u));
	size_t a, b, c, d, e, f;
	char s[256], err[256];

	*n = 0;
	for (a = 0; a < ARRAY_SIZE(tr); a++)
	for (b = 0; b < ARRAY_SIZE(lip); b++)
	for (c = 0; c < ARRAY_SIZE(rip); c++)
	for (d = 0; d < ARRAY_SIZE(lp); d++)
	for (e = 0; e < ARRAY_SIZE(rp); e++)
	for (f = 0; f < ARRAY_SIZE(ds); f++) {
		s[0] = 0;
#define ADD(name, v) if (v) snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%s=%s", *s ? "," : "", name, v)
		ADD("transport", tr[a]);
		ADD("local_ip", lip[b]);
		ADD("remote_ip", rip[c]);
		ADD("local_port", lp[d]);
		ADD("remote_port", rp[e]);
		ADD("dsfield", ds[f]);
#undef ADD
		if (*s && vw_flow_attrs_parse(s, &u[*n], err, sizeof(err)))
			(*n)++;
	}
	return u;
}

/* Packets that witness every intersection of the universe's values (one
 * point inside each prefix, each port, DS values meeting each pair of
 * DS constraints that agree), and some that match nothing. */
static struct vw_flow_key *witnesses(unsigned *n)
{
	static const char *const l4[] = { "10.1.2.3", "11.0.0.1", "12.0.0.1" }, *const r4[] = { "10.0.0.1", "12.0.0.1" };
	static const char *const l6[] = { "fd00:1::1", "fe80::1" }, *const r6[] = { "fd00::1", "fe80::1" };
	static const uint8_t pr[] = { 6, 17, 58, 1 }, ds[] = { 0x28, 0x2c, 0x00 };
	static const uint16_t lp[] = { 80, 81, 0 }, rp[] = { 80, 0 };
	struct vw_flow_key *k = calloc(1000, sizeof(*k));
	size_t fam, a, b, c, d, e, f;

	*n = 0;
	for (fam = 0; fam < 2; fam++)
	for (a = 0; a < (fam ? ARRAY_SIZE(l6) : ARRAY_SIZE(l4)); a++)
	for (b = 0; b < (fam ? ARRAY_SIZE(r6) : ARRAY_SIZE(r4)); b++)
	for (c = 0; c < ARRAY_SIZE(pr); c++)
	for (d = 0; d < ARRAY_SIZE(lp); d++)
	for (e = 0; e < ARRAY_SIZE(rp); e++)
	for (f = 0; f < ARRAY_SIZE(ds); f++) {
		struct vw_flow_key *x = &k[(*n)++];

		assert_true(*n <= 1000);
		key_addr(x->laddr, fam ? l6[a] : l4[a]);
		key_addr(x->raddr, fam ? r6[b] : r4[b]);
		x->family = fam ? 6 : 4;
		x->proto = pr[c];
		x->lport = lp[d];
		x->rport = rp[e];
		x->dsfield = ds[f];
	}
	return k;
}

static void test_overlap_exhaustive(void **state)
{
	unsigned nu, nk, i, j, w, words, overlaps = 0;
	struct vw_flow_attrs *u = universe(&nu);
	struct vw_flow_key *k = witnesses(&nk);
	uint64_t *bits;

	(void)state;
	assert_true(nu > 500);
	words = (nk + 63) / 64;
	bits = calloc((size_t)nu * words, sizeof(*bits));
	/* which witness packets each flow matches */
	for (i = 0; i < nu; i++) {
		bool any = false;

		for (j = 0; j < nk; j++)
			if (vw_flow_match(&u[i], &k[j])) {
				bits[(size_t)i * words + j / 64] |= 1ULL << (j % 64);
				any = true;
			}
		assert_true(any); /* every flow matches some packet */
	}
	for (i = 0; i < nu; i++)
		for (j = 0; j < nu; j++) {
			bool brute = false, o = vw_flow_attrs_overlap(&u[i], &u[j]);

			for (w = 0; w < words && !brute; w++)
				brute = bits[(size_t)i * words + w] & bits[(size_t)j * words + w];
			if (o != brute) {
				char a[256], b[256];

				fail_msg("overlap(%s, %s) = %d, a packet matching both %s", vw_flow_attrs_format(&u[i], a, 256),
					 vw_flow_attrs_format(&u[j], b, 256), o, brute ? "exists" : "does not exist");
			}
			overlaps += o;
		}
	/* neither trivially true nor trivially false */
	assert_true(overlaps > nu && overlaps < (uint64_t)nu * nu / 2 * 2);
	free(bits);
	free(u);
	free(k);
}

/* Picks flows of the universe in a shuffled order, keeping each that
 * overlaps none kept so far; every witness packet then finds the one
 * flow the linear scan finds (or none). */
static void test_classify_universe(void **state)
{
	unsigned nu, nk, round;
	struct vw_flow_attrs *u = universe(&nu), *kept = malloc(nu * sizeof(*kept));
	struct vw_flow_key *k = witnesses(&nk);

	(void)state;
	srandom(7);
	for (round = 0; round < 200; round++) {
		unsigned n = 0, i, j, hits = 0;
		struct vw_flowtab *ft;

		for (i = nu - 1; i > 0; i--) {
			unsigned r = (unsigned)random() % (i + 1);
			struct vw_flow_attrs t = u[i];

			u[i] = u[r];
			u[r] = t;
		}
		for (i = 0; i < nu; i++) {
			for (j = 0; j < n && !vw_flow_attrs_overlap(&u[i], &kept[j]); j++)
				;
			if (j == n)
				kept[n++] = u[i];
		}
		ft = vw_flowtab_build(kept, NULL, n);
		assert_non_null(ft);
		for (i = 0; i < nk; i++) {
			int want = -1, got = vw_flowtab_lookup(ft, &k[i]);

			for (j = 0; j < n; j++)
				if (vw_flow_match(&kept[j], &k[i])) {
					assert_int_equal(want, -1); /* never two */
					want = (int)j;
				}
			assert_int_equal(got, want);
			hits += got >= 0;
		}
		assert_true(hits > 0);
		vw_flowtab_free(ft);
	}
	free(u);
	free(kept);
	free(k);
}

/* ---- random flows, 1 to 10,000 of them ---- */

static uint64_t rnd(void)
{
	return (uint64_t)random() << 31 ^ (uint64_t)random();
}

/* A random flow of the given kind (0: IPv4 local_ip, 1: IPv6 remote_ip,
 * 2: transport+local_port, 3: any combination). */
static void random_flow(struct vw_flow_attrs *a, int kind)
{
	static const uint8_t pr[] = { 6, 17, 132, 1, 58 };
	int fam = rnd() % 2 ? AF_INET6 : AF_INET;
	char s[256], err[256], addr[64];
	struct vw_prefix p;
	unsigned i;

	for (;;) {
		s[0] = 0;
		memset(&p, 0, sizeof(p));
		p.family = fam;
		/* addresses from a small space, so that prefixes nest and meet */
		if (fam == AF_INET) {
			p.addr.bytes[0] = 10;
			p.addr.bytes[1] = (uint8_t)(rnd() % 4);
			p.addr.bytes[2] = (uint8_t)rnd();
			p.addr.bytes[3] = (uint8_t)rnd();
			p.plen = (uint8_t)(kind == 3 ? 8 + rnd() % 25 : 16 + rnd() % 17);
		} else {
			p.addr.bytes[0] = 0xfd;
			p.addr.bytes[1] = (uint8_t)(rnd() % 4);
			for (i = 2; i < 16; i++)
				p.addr.bytes[i] = (uint8_t)rnd();
			p.plen = (uint8_t)(kind == 3 ? 8 + rnd() % 121 : 16 + rnd() % 113);
		}
		for (i = p.plen; i < (fam == AF_INET ? 32u : 128u); i++)
			p.addr.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		vw_prefix_format(&p, addr);
		switch (kind) {
		case 0:
			p.family = AF_INET;
			p.addr.bytes[0] = 10;
			vw_prefix_format(&p, addr);
			snprintf(s, sizeof(s), "local_ip=%s", fam == AF_INET ? addr : "10.0.0.0/32");
			break;
		case 1:
			snprintf(s, sizeof(s), "remote_ip=%s", fam == AF_INET6 ? addr : "fd00::1");
			break;
		case 2:
			snprintf(s, sizeof(s), "transport=%s,local_port=%u", rnd() % 2 ? "tcp" : "udp", 1 + (unsigned)(rnd() % 65535));
			break;
		default: {
			uint8_t proto = pr[rnd() % 5];
			const char *name = vw_flow_proto_name(proto);

			if (rnd() % 2)
				snprintf(s + strlen(s), sizeof(s) - strlen(s), ",transport=%s", name);
			if (rnd() % 2)
				snprintf(s + strlen(s), sizeof(s) - strlen(s), ",%s=%s", rnd() % 2 ? "local_ip" : "remote_ip", addr);
			if (rnd() % 3 == 0)
				snprintf(s + strlen(s), sizeof(s) - strlen(s), ",local_port=%u", 1 + (unsigned)(rnd() % 4));
			if (rnd() % 3 == 0)
				snprintf(s + strlen(s), sizeof(s) - strlen(s), ",remote_port=%u", 1 + (unsigned)(rnd() % 4));
			if (rnd() % 3 == 0) {
				uint8_t m = (uint8_t)(0xff << (rnd() % 8)), v = (uint8_t)rnd() & m;

				snprintf(s + strlen(s), sizeof(s) - strlen(s), ",dsfield=0x%02x:0x%02x", v, m);
			}
			break;
		}
		}
		if (vw_flow_attrs_parse(s[0] == ',' ? s + 1 : s, a, err, sizeof(err)))
			return;
	}
}

/* A key that matches flow a (unconstrained fields random), or a random one. */
static void random_key(struct vw_flow_key *k, const struct vw_flow_attrs *a)
{
	static const uint8_t pr[] = { 6, 17, 132, 1, 58, 47 };
	int fam = a ? vw_flow_attrs_family(a) : 0;
	unsigned i;

	memset(k, 0, sizeof(*k));
	if (!fam)
		fam = rnd() % 2 ? AF_INET6 : AF_INET;
	k->family = fam == AF_INET6 ? 6 : 4;
	for (i = 0; i < 16; i++) {
		k->laddr[i] = (uint8_t)rnd();
		k->raddr[i] = (uint8_t)rnd();
	}
	k->laddr[0] = k->raddr[0] = fam == AF_INET6 ? 0xfd : 0;
	k->laddr[1] = k->raddr[1] = (uint8_t)(rnd() % 4);
	if (fam == AF_INET) {
		memset(k->laddr, 0, 10);
		memset(k->raddr, 0, 10);
		k->laddr[10] = k->laddr[11] = k->raddr[10] = k->raddr[11] = 0xff;
		k->laddr[12] = k->raddr[12] = 10;
		k->laddr[13] = k->raddr[13] = (uint8_t)(rnd() % 4);
	}
	k->proto = pr[rnd() % 6];
	k->lport = (uint16_t)(rnd() % 5);
	k->rport = (uint16_t)(rnd() % 5);
	k->dsfield = (uint8_t)rnd();
	if (!a)
		return;
	if (a->mask & VW_FA_TRANSPORT)
		k->proto = a->proto;
	if (a->mask & VW_FA_LOCAL_PORT)
		k->lport = a->lport;
	if (a->mask & VW_FA_REMOTE_PORT)
		k->rport = a->rport;
	if (a->mask & VW_FA_DSFIELD)
		k->dsfield = (uint8_t)((k->dsfield & ~a->dsmask) | a->dsfield);
	for (i = 0; i < 2; i++) {
		const struct vw_prefix *p = i ? &a->remote : &a->local;
		uint8_t *addr = i ? k->raddr : k->laddr;
		unsigned off = p->family == AF_INET ? 12 : 0, b;

		if (!(a->mask & (i ? VW_FA_REMOTE_IP : VW_FA_LOCAL_IP)))
			continue;
		for (b = 0; b < p->plen; b++) {
			uint8_t bit = (uint8_t)(0x80 >> (b % 8));

			addr[off + b / 8] = (uint8_t)((addr[off + b / 8] & ~bit) | (p->addr.bytes[b / 8] & bit));
		}
	}
	assert_true(vw_flow_match(a, k));
}

static void check_random(unsigned want, int kind, unsigned nkeys)
{
	struct vw_flow_attrs *f = malloc(want * sizeof(*f)), c;
	unsigned n = 0, tries = 0, i, j, hits = 0;
	struct vw_flowtab *ft;

	while (n < want && tries++ < want * 20) {
		random_flow(&c, kind);
		for (j = 0; j < n && !vw_flow_attrs_overlap(&c, &f[j]); j++)
			;
		if (j == n)
			f[n++] = c;
	}
	ft = vw_flowtab_build(f, NULL, n);
	assert_non_null(ft);
	for (i = 0; i < nkeys; i++) {
		struct vw_flow_key k;
		int want_id = -1, got;

		random_key(&k, i % 4 ? &f[rnd() % n] : NULL);
		got = vw_flowtab_lookup(ft, &k);
		for (j = 0; j < n; j++)
			if (vw_flow_match(&f[j], &k)) {
				assert_int_equal(want_id, -1);
				want_id = (int)j;
			}
		assert_int_equal(got, want_id);
		hits += got >= 0;
	}
	if (kind != 3)
		assert_true(n >= want / 2);
	assert_true(hits >= nkeys / 2);
	/* a packet that is not IP matches nothing */
	{
		struct vw_flow_key k = { 0 };

		assert_int_equal(vw_flowtab_lookup(ft, &k), -1);
	}
	vw_flowtab_free(ft);
	free(f);
}

static void test_classify_random(void **state)
{
	int kind;

	(void)state;
	srandom(11);
	for (kind = 0; kind < 4; kind++) {
		check_random(1, kind, 2000);
		check_random(30, kind, 2000);
		check_random(1000, kind, 2000);
	}
	check_random(10000, 0, 1000);
	check_random(10000, 1, 1000);
	check_random(10000, 2, 1000);
	check_random(300, 3, 3000);
}

static void test_classify_empty(void **state)
{
	struct vw_flowtab *ft = vw_flowtab_build(NULL, NULL, 0);
	struct vw_flow_key k;

	(void)state;
	assert_non_null(ft);
	random_key(&k, NULL);
	assert_int_equal(vw_flowtab_lookup(ft, &k), -1);
	assert_int_equal(vw_flowtab_lookup(NULL, &k), -1);
	assert_int_equal(vw_flowtab_nsub(ft), 0);
	vw_flowtab_free(ft);
}

/* ---- frames ---- */

/* An Ethernet + IPv4 or IPv6 + TCP/UDP frame from src:sport to dst:dport. */
static unsigned frame(uint8_t *f, bool v6, uint8_t proto, const char *src, const char *dst, uint16_t sport,
		      uint16_t dport, uint8_t tos, bool tag)
{
	unsigned off = 12, l4len = proto == 6 ? 20 : 8, iplen;

	memset(f, 0, 200);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (tag) {
		f[off] = 0x81, f[off + 2] = 0, f[off + 3] = 5;
		off += 4;
	}
	f[off] = v6 ? 0x86 : 0x08;
	f[off + 1] = v6 ? 0xdd : 0x00;
	off += 2;
	if (v6) {
		f[off] = (uint8_t)(0x60 | tos >> 4);
		f[off + 1] = (uint8_t)(tos << 4);
		f[off + 4] = 0, f[off + 5] = (uint8_t)(l4len + 10);
		f[off + 6] = proto;
		f[off + 7] = 64;
		inet_pton(AF_INET6, src, f + off + 8);
		inet_pton(AF_INET6, dst, f + off + 24);
		iplen = 40;
	} else {
		f[off] = 0x45;
		f[off + 1] = tos;
		f[off + 3] = (uint8_t)(20 + l4len + 10);
		f[off + 8] = 64;
		f[off + 9] = proto;
		inet_pton(AF_INET, src, f + off + 12);
		inet_pton(AF_INET, dst, f + off + 16);
		iplen = 20;
	}
	off += iplen;
	f[off] = (uint8_t)(sport >> 8), f[off + 1] = (uint8_t)sport;
	f[off + 2] = (uint8_t)(dport >> 8), f[off + 3] = (uint8_t)dport;
	if (proto == 6)
		f[off + 12] = 0x50;
	else
		f[off + 5] = (uint8_t)(l4len + 10);
	return off + l4len + 10;
}

static void test_key_from_frame(void **state)
{
	uint8_t f[200], want[16];
	struct vw_flow_key k;
	unsigned len;

	(void)state;
	len = frame(f, false, 6, "10.0.0.1", "10.0.0.2", 40000, 5201, 0x28, false);
	assert_true(vw_flow_key_from_frame(f, len, true, &k));
	key_addr(want, "10.0.0.1");
	assert_memory_equal(k.laddr, want, 16);
	key_addr(want, "10.0.0.2");
	assert_memory_equal(k.raddr, want, 16);
	assert_int_equal(k.lport, 40000);
	assert_int_equal(k.rport, 5201);
	assert_int_equal(k.family, 4);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.dsfield, 0x28);
	assert_int_equal(k.pad, 0);
	/* received: local is the destination */
	assert_true(vw_flow_key_from_frame(f, len, false, &k));
	key_addr(want, "10.0.0.2");
	assert_memory_equal(k.laddr, want, 16);
	assert_int_equal(k.lport, 5201);
	assert_int_equal(k.rport, 40000);

	len = frame(f, true, 17, "fd00::1", "fd00::2", 53, 1234, 0xb8, true);
	assert_true(vw_flow_key_from_frame(f, len, false, &k));
	key_addr(want, "fd00::2");
	assert_memory_equal(k.laddr, want, 16);
	assert_int_equal(k.family, 6);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.lport, 1234);
	assert_int_equal(k.rport, 53);
	assert_int_equal(k.dsfield, 0xb8);

	/* ARP, and cut frames: not IP, no flow */
	memset(f, 0, 64);
	f[12] = 0x08, f[13] = 0x06;
	assert_false(vw_flow_key_from_frame(f, 60, true, &k));
	assert_int_equal(k.family, 0);
	len = frame(f, false, 6, "10.0.0.1", "10.0.0.2", 1, 2, 0, false);
	assert_false(vw_flow_key_from_frame(f, 20, true, &k));
	assert_int_equal(k.family, 0);
}

/* vw_flowtab_count: each frame counted once, in its flow and direction. */
static void test_count(void **state)
{
	struct vw_flow_attrs a[2] = { attrs("transport=tcp,local_port=5201"), attrs("transport=icmp") };
	struct vw_flow_stats *st[2] = { vw_flow_stats_new(), vw_flow_stats_new() };
	struct vw_flowtab *ft = vw_flowtab_build(a, st, 2);
	static struct vw_pkt p[4];
	struct vw_pkt *pk[4] = { &p[0], &p[1], &p[2], &p[3] };
	uint64_t ip, ib, op, ob;
	int i;

	(void)state;
	assert_non_null(ft);
	for (i = 0; i < 4; i++)
		p[i].data = p[i].buf;
	/* the server (port 5201) sends two segments, a client's one arrives,
	 * and a UDP datagram belongs to no flow */
	p[0].len = frame(p[0].data, false, 6, "10.0.0.2", "10.0.0.1", 5201, 40000, 0, false);
	p[1].len = frame(p[1].data, false, 6, "10.0.0.2", "10.0.0.1", 5201, 40000, 0, false);
	p[2].len = frame(p[2].data, false, 17, "10.0.0.2", "10.0.0.1", 5201, 40000, 0, false);
	p[3].len = frame(p[3].data, false, 1, "10.0.0.2", "10.0.0.1", 0, 0, 0, false);
	vw_flowtab_count(ft, 3, pk, 4, true);
	p[0].len = frame(p[0].data, false, 6, "10.0.0.1", "10.0.0.2", 40000, 5201, 0, false);
	vw_flowtab_count(ft, 1, pk, 1, false);
	vw_flow_stats_sum(st[0], &ip, &ib, &op, &ob);
	assert_int_equal(op, 2);
	assert_int_equal(ob, 2 * p[1].len);
	assert_int_equal(ip, 1);
	assert_int_equal(ib, p[0].len);
	assert_int_equal(st[0]->w[3].opkts, 2);
	assert_int_equal(st[0]->w[1].ipkts, 1);
	vw_flow_stats_sum(st[1], &ip, &ib, &op, &ob);
	assert_int_equal(op, 1);
	assert_int_equal(ip + ib, 0);
	vw_flowtab_free(ft);
	free(st[0]);
	free(st[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attrs_parse_good),
		cmocka_unit_test(test_attrs_parse_bad),
		cmocka_unit_test(test_props_parse),
		cmocka_unit_test(test_overlap_exhaustive),
		cmocka_unit_test(test_classify_universe),
		cmocka_unit_test(test_classify_random),
		cmocka_unit_test(test_classify_empty),
		cmocka_unit_test(test_key_from_frame),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
