/*
 * Unit tests for the pure parts of the VNMs (objects/vnm.h): property
 * values and their checks against a VNM's surroundings, the canonical text
 * export writes, the nftables table's text, reading counters back, and the
 * health check's state machine on made-up time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "objects/vnm.h"

static int parse(enum vnm_type t, const char *list, struct vnm_props *p, char *err)
{
	unsigned replaced = 0;

	return vnm_props_parse("z", t, list, p, &replaced, err, 256);
}

static void test_parse_ok(void **state)
{
	struct vnm_props p = { 0 };
	char err[256] = "", out[1024];

	(void)state;
	assert_int_equal(parse(VNM_LB, "vip=10.0.0.1:80,backends=10.1.0.1:8080+[fd00::1]:80,algo=hash,check=none", &p, err), 0);
	assert_int_equal(p.nbackends, 2);
	assert_int_equal(p.backends[1].ip.family, AF_INET6);
	assert_int_equal(p.backends[1].port, 80);
	assert_int_equal(p.algo, VNM_HASH);
	assert_int_equal(p.check, VNM_CHECK_NONE);
	assert_true(vnm_props_format(&p, out, sizeof(out)));
	assert_string_equal(out, " -p vip=10.0.0.1:80,backends=10.1.0.1:8080+[fd00::1]:80,algo=hash,check=none");

	memset(&p, 0, sizeof(p));
	assert_int_equal(parse(VNM_ROUTER, "route=default@10.0.0.254+fd00:1::/64@fd00::fe", &p, err), 0);
	assert_int_equal(p.nroutes, 2);
	assert_int_equal(p.routes[0].dst.plen, 0);
	assert_int_equal(p.routes[0].dst.family, AF_INET);
	assert_true(vnm_props_format(&p, out, sizeof(out)));
	assert_string_equal(out, " -p route=default@10.0.0.254+fd00:1::/64@fd00::fe");

	/* canonical order whatever the order given; rules in their order */
	memset(&p, 0, sizeof(p));
	assert_int_equal(parse(VNM_FIREWALL, "deny=transport=udp,allow=transport=tcp+local_port=80,policy=allow,"
					     "allow=transport=icmp", &p, err), 0);
	assert_true(vnm_props_format(&p, out, sizeof(out)));
	assert_string_equal(out, " -p policy=allow,allow=transport=tcp+local_port=80,allow=transport=icmp,"
				 "deny=transport=udp");
	/* allow= again replaces the allow list, keeps the deny list */
	assert_int_equal(parse(VNM_FIREWALL, "allow=transport=udp+local_port=53", &p, err), 0);
	assert_int_equal(p.nrules, 2);
	assert_true(vnm_props_format(&p, out, sizeof(out)));
	assert_string_equal(out, " -p policy=allow,allow=transport=udp+local_port=53,deny=transport=udp");
	assert_int_equal(vnm_props_reset("z", VNM_FIREWALL, "deny", &p, err, 256), 0);
	assert_int_equal(p.nrules, 1);
}

static void test_parse_bad(void **state)
{
	static const struct {
		enum vnm_type t;
		const char *list, *word;
	} bad[] = {
		{ VNM_LB, "vip=10.0.0.1", "10.0.0.1" },
		{ VNM_LB, "vip=fd00::1:80", "fd00::1:80" },
		{ VNM_LB, "backends=10.0.0.1:0", "10.0.0.1:0" },
		{ VNM_LB, "backends=10.0.0.1:80+10.0.0.1:80", "given twice" },
		{ VNM_LB, "algo=wrr", "wrr" },
		{ VNM_LB, "check=http", "http" },
		{ VNM_LB, "inside=a", "inside" },
		{ VNM_ROUTER, "route=10.0.0.1/24@10.0.0.254", "host bits" },
		{ VNM_ROUTER, "route=10.0.0.0/24", "10.0.0.0/24" },
		{ VNM_ROUTER, "route=fd00::/64@10.0.0.1", "mixes" },
		{ VNM_ROUTER, "colour=red", "colour" },
		{ VNM_FIREWALL, "allow=transport=tcp+bogus=1", "bogus" },
		{ VNM_FIREWALL, "allow=local_port=80", "local_port=80" },
		{ VNM_FIREWALL, "policy=maybe", "maybe" },
		{ VNM_FIREWALL, "policy=allow,policy=deny", "given twice" },
		{ VNM_NAT, "inside=-x", "-x" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vnm_props p = { 0 };
		char err[256] = "";

		assert_int_not_equal(parse(bad[i].t, bad[i].list, &p, err), 0);
		if (!strstr(err, bad[i].word) || strncmp(err, "z: ", 3) || strchr(err, '\n'))
			fail_msg("%s: error '%s' does not name '%s'", bad[i].list, err, bad[i].word);
	}
}

static void env_add(struct vnm_env *env, const char *link, const char *addr)
{
	int i;

	for (i = 0; i < env->nlinks && strcmp(env->links[i], link); i++)
		;
	if (i == env->nlinks)
		env->links[env->nlinks++] = link;
	assert_true(vw_prefix_parse(addr, false, &env->addrs[env->naddrs]));
	env->link[env->naddrs++] = link;
}

static void test_check(void **state)
{
	struct vnm_env env = { 0 };
	struct vnm_props p = { 0 };
	char err[256];

	(void)state;
	env_add(&env, "in0", "10.0.1.1/24");
	env_add(&env, "out0", "10.0.2.1/24");
	assert_int_equal(parse(VNM_LB, "vip=10.0.1.1:80,backends=10.0.2.10:80+10.0.3.10:80", &p, err), 0);
	assert_int_not_equal(vnm_props_check("z", VNM_LB, &p, &env, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "10.0.3.10:80"));
	/* reachable through a route of the VNM */
	assert_int_equal(parse(VNM_LB, "route=10.0.3.0/24@10.0.2.254", &p, err), 0);
	assert_int_equal(vnm_props_check("z", VNM_LB, &p, &env, err, sizeof(err)), 0);
	/* the vip must be one of its addresses */
	assert_int_equal(parse(VNM_LB, "vip=10.0.1.2:80", &p, err), 0);
	assert_int_not_equal(vnm_props_check("z", VNM_LB, &p, &env, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "10.0.1.2:80"));
	/* a gateway off every subnet */
	memset(&p, 0, sizeof(p));
	assert_int_equal(parse(VNM_ROUTER, "route=default@10.9.9.9", &p, err), 0);
	assert_int_not_equal(vnm_props_check("z", VNM_ROUTER, &p, &env, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "10.9.9.9"));
	/* nat: both sides required, among the links, not the same */
	memset(&p, 0, sizeof(p));
	assert_int_equal(parse(VNM_NAT, "inside=in0", &p, err), 0);
	assert_int_not_equal(vnm_props_check("z", VNM_NAT, &p, &env, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "outside"));
	assert_int_equal(parse(VNM_NAT, "outside=in0", &p, err), 0);
	assert_int_not_equal(vnm_props_check("z", VNM_NAT, &p, &env, err, sizeof(err)), 0);
	assert_int_equal(parse(VNM_NAT, "outside=eth9", &p, err), 0);
	assert_int_not_equal(vnm_props_check("z", VNM_NAT, &p, &env, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "eth9"));
	assert_int_equal(parse(VNM_NAT, "outside=out0", &p, err), 0);
	assert_int_equal(vnm_props_check("z", VNM_NAT, &p, &env, err, sizeof(err)), 0);
	/* a required property cannot be reset */
	assert_int_not_equal(vnm_props_reset("z", VNM_NAT, "inside", &p, err, sizeof(err)), 0);
}

static char *text_of(struct vnm *v)
{
	struct vw_buf b = { 0 };

	vnm_nft_text(v, &b);
	assert_false(b.oom);
	return b.p;
}

static void test_nft_text(void **state)
{
	struct vnm *v = calloc(1, sizeof(*v));
	char err[256], *t;

	(void)state;
	snprintf(v->name, sizeof(v->name), "z");
	v->type = VNM_LB;
	vnm_hc_reset(v);
	assert_int_equal(parse(VNM_LB, "vip=10.0.1.1:80,backends=10.0.2.10:8080+10.0.2.11:8080", &v->p, err), 0);
	t = text_of(v);
	/* one transaction: make sure it exists, delete, make anew */
	assert_memory_equal(t, "table inet vwire_vnm {}\ndelete table inet vwire_vnm\ntable inet vwire_vnm {\n", 71);
	assert_non_null(strstr(t, "ip daddr 10.0.1.1 tcp dport 80 counter dnat ip to numgen inc mod 2 map "
				  "{ 0 : 10.0.2.10 . 8080, 1 : 10.0.2.11 . 8080 } comment \"nat:vip\""));
	assert_non_null(strstr(t, "ct status dnat counter masquerade"));
	free(t);
	/* one down: only the other, hashed */
	v->hc[0].up = false;
	v->p.algo = VNM_HASH;
	t = text_of(v);
	assert_non_null(strstr(t, "dnat ip to jhash ip saddr mod 1 map { 0 : 10.0.2.11 . 8080 }"));
	free(t);
	/* all down: no dnat, the vip refuses */
	v->hc[1].up = false;
	t = text_of(v);
	assert_null(strstr(t, "dnat ip to"));
	assert_non_null(strstr(t, "ip daddr 10.0.1.1 tcp dport 80 counter reject with tcp reset"));
	free(t);

	memset(&v->p, 0, sizeof(v->p));
	v->type = VNM_FIREWALL;
	assert_int_equal(parse(VNM_FIREWALL, "allow=transport=tcp+local_port=80+remote_ip=10.0.0.0/8,"
					     "deny=transport=icmp,deny=dsfield=0x28:0xfc", &v->p, err), 0);
	t = text_of(v);
	assert_non_null(strstr(t, "policy drop;"));
	assert_non_null(strstr(t, "meta l4proto tcp ip saddr 10.0.0.0/8 th dport 80 counter accept comment \"rule:0\""));
	assert_non_null(strstr(t, "meta l4proto icmp counter drop comment \"rule:1\""));
	/* a DS field with no address: a rule for each family */
	assert_non_null(strstr(t, "meta nfproto ipv4 @nh,8,8 & 0xfc == 0x28 counter drop comment \"rule:2\""));
	assert_non_null(strstr(t, "meta nfproto ipv6 @nh,4,8 & 0xfc == 0x28 counter drop comment \"rule:2\""));
	/* deny rules before allow rules */
	assert_true(strstr(t, "rule:1") < strstr(t, "rule:0"));
	free(t);

	memset(&v->p, 0, sizeof(v->p));
	v->type = VNM_NAT;
	assert_int_equal(parse(VNM_NAT, "inside=in0,outside=out0", &v->p, err), 0);
	t = text_of(v);
	assert_non_null(strstr(t, "iifname \"in0\" oifname \"out0\" counter masquerade comment \"nat:out\""));
	assert_non_null(strstr(t, "iifname \"out0\" oifname \"in0\" counter drop comment \"nat:in\""));
	free(t);
	free(v);
}

static void count_cb(const char *key, uint64_t pkts, uint64_t bytes, void *arg)
{
	char *out = arg;

	sprintf(out + strlen(out), "%s=%llu/%llu;", key, (unsigned long long)pkts, (unsigned long long)bytes);
}

static void test_counters_parse(void **state)
{
	const char *listing = "table inet vwire_vnm {\n"
			      "\tchain forward {\n"
			      "\t\tmeta l4proto tcp th dport 80 counter packets 12 bytes 3400 accept comment \"rule:0\"\n"
			      "\t\tcounter packets 5 bytes 300 comment \"policy\"\n"
			      "\t\tct state established,related accept\n"
			      "\t}\n}\n";
	char out[256] = "";

	(void)state;
	vnm_nft_counters_parse(listing, count_cb, out);
	assert_string_equal(out, "rule:0=12/3400;policy=5/300;");
}

static void test_health(void **state)
{
	struct vnm_hc h = { .up = true, .fd = -1 };

	(void)state;
	/* no probe: nothing happens */
	assert_false(vnm_hc_step(&h, VNM_PROBE_PENDING, 5000));
	/* a probe pending within its second, then a success: still up */
	h.fd = 7, h.sent_ms = 1000;
	assert_false(vnm_hc_step(&h, VNM_PROBE_PENDING, 1999));
	assert_int_equal(h.fd, 7);
	assert_false(vnm_hc_step(&h, VNM_PROBE_OK, 1999));
	assert_true(h.up);
	assert_int_equal(h.fd, -1);
	/* one refusal takes it out */
	h.fd = 8, h.sent_ms = 2000;
	assert_true(vnm_hc_step(&h, VNM_PROBE_FAIL, 2001));
	assert_false(h.up);
	/* no answer: out once the probe is a second old */
	h.up = true;
	h.fd = 9, h.sent_ms = 3000;
	assert_false(vnm_hc_step(&h, VNM_PROBE_PENDING, 3999));
	assert_true(vnm_hc_step(&h, VNM_PROBE_PENDING, 4000));
	assert_false(h.up);
	assert_int_equal(h.fd, -1);
	/* the first success puts it back */
	h.fd = 10, h.sent_ms = 5000;
	assert_true(vnm_hc_step(&h, VNM_PROBE_OK, 5010));
	assert_true(h.up);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_nft_text),
		cmocka_unit_test(test_counters_parse),
		cmocka_unit_test(test_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
