// SPDX-License-Identifier: GPL-2.0
/*
 * objects/netlink.c against the running kernel.  Needs root.  Everything it
 * creates is named vwtnl<pid>X (zones and links alike) and is removed by the
 * group teardown even when a test fails; nothing else on the machine is
 * touched other than being read.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "objects/netlink.h"

static char zone_a[32], zone_b[32], zone_c[32];
static char veth_h[IFNAMSIZ], veth_z[IFNAMSIZ], tap[IFNAMSIZ];
static ino_t host_ns_ino;

static const uint8_t all_hosts_v4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t all_nodes_v6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

static ino_t thread_ns_ino(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return 0;
	return st.st_ino;
}

/* Every call into netlink.c must leave the thread in the host namespace. */
#define assert_in_host() assert_int_equal(thread_ns_ino(), host_ns_ino)

/* Runs a shell command; returns its exit status (or -1). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static struct vw_prefix prefix(const char *addr, int plen)
{
	struct vw_prefix p = { 0 };

	p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	p.plen = plen;
	if (inet_pton(p.family, addr, &p.addr) != 1)
		fail_msg("bad address %s", addr);
	return p;
}

static bool has_mac(uint8_t (*macs)[6], int n, const uint8_t mac[6])
{
	for (int i = 0; i < n; i++)
		if (!memcmp(macs[i], mac, 6))
			return true;
	return false;
}

static void cleanup(void)
{
	const char *zones[] = { zone_a, zone_b, zone_c };
	const char *links[] = { veth_h, veth_z, tap };

	for (size_t z = 0; z < 3; z++) {
		for (size_t l = 0; l < 3; l++)
			sh("ip -n %s link del %s >/dev/null 2>&1", zones[z], links[l]);
		if (zone_exists(zones[z]))
			zone_delete(zones[z]);
	}
	for (size_t l = 0; l < 3; l++)
		sh("ip link del %s >/dev/null 2>&1", links[l]);
}

static int group_setup(void **state)
{
	int pid = getpid();

	(void)state;
	snprintf(zone_a, sizeof(zone_a), "vwtnl%da", pid);
	snprintf(zone_b, sizeof(zone_b), "vwtnl%db", pid);
	snprintf(zone_c, sizeof(zone_c), "vwtnl%dc", pid);
	snprintf(veth_h, sizeof(veth_h), "vwtnl%dh", pid);
	snprintf(veth_z, sizeof(veth_z), "vwtnl%dz", pid);
	snprintf(tap, sizeof(tap), "vwtnl%dt", pid);
	host_ns_ino = thread_ns_ino();
	if (!host_ns_ino || nl_init() < 0)
		return -1;
	cleanup();

	if (zone_create(zone_a) < 0)
		goto err;
	if (sh("ip link add %s type veth peer name %s", veth_h, veth_z))
		goto err;
	if (sh("ip link set %s up", veth_h))
		goto err;
	return 0;
err:
	cleanup();
	nl_fini();
	return -1;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup();
	nl_fini();
	return 0;
}

/* Puts veth_z into zone_a (if it is not there yet) and sets it up. */
static void veth_in_zone_up(void)
{
	if (nl_link_index(NULL, veth_z) > 0)
		assert_int_equal(nl_link_move(NULL, veth_z, zone_a), 0);
	assert_int_equal(nl_link_set_up(zone_a, veth_z, true), 0);
	assert_in_host();
}

static void test_zone_lifecycle(void **state)
{
	char names[64][VW_ZONENAME_MAX + 1];
	struct nl_link_info li;
	bool seen_a = false, seen_b = false;
	int n;

	(void)state;
	assert_false(zone_exists(zone_b));
	assert_int_equal(zone_create(zone_b), 0);
	assert_in_host();
	assert_true(zone_exists(zone_b));
	assert_int_equal(zone_create(zone_b), -EEXIST);
	assert_in_host();

	/* iproute2 sees it as one of its own. */
	assert_int_equal(sh("ip netns exec %s true", zone_b), 0);
	assert_int_equal(sh("ip netns list | grep -qE '^%s( |$)'", zone_b), 0);

	/* lo comes up with the zone. */
	assert_int_equal(nl_link_get(zone_b, "lo", &li), 0);
	assert_in_host();
	assert_string_equal(li.name, "lo");
	assert_true(li.loopback);
	assert_true(li.flags & IFF_UP);
	assert_string_equal(li.kind, "");
	assert_int_equal(li.ifindex, 1);

	n = zone_list(names, 64);
	assert_true(n >= 2);
	for (int i = 0; i < n; i++) {
		if (i)
			assert_true(strcmp(names[i - 1], names[i]) < 0);
		seen_a |= !strcmp(names[i], zone_a);
		seen_b |= !strcmp(names[i], zone_b);
	}
	assert_true(seen_a);
	assert_true(seen_b);
	assert_int_equal(zone_list(names, 1), 1);
	assert_int_equal(zone_list(names, 0), 0);

	assert_int_equal(zone_delete(zone_b), 0);
	assert_false(zone_exists(zone_b));
	assert_int_equal(zone_delete(zone_b), -ENOENT);
	assert_int_not_equal(sh("ip netns list | grep -qE '^%s( |$)'", zone_b), 0);

	/* Not a file name in /run/netns. */
	assert_int_equal(zone_create("a/b"), -EINVAL);
	assert_int_equal(zone_create(".."), -EINVAL);
	assert_int_equal(zone_create(""), -EINVAL);
	assert_int_equal(zone_delete(".."), -EINVAL);

	/* A zone that does not exist. */
	assert_int_equal(nl_link_index(zone_b, "lo"), -ENOENT);
	assert_in_host();
}

/* A namespace made by `ip netns add` is a zone too. */
static void test_zone_iproute_compat(void **state)
{
	(void)state;
	assert_int_equal(sh("ip netns add %s", zone_c), 0);
	assert_true(zone_exists(zone_c));
	assert_int_equal(nl_link_index(zone_c, "lo"), 1);
	assert_in_host();
	assert_int_equal(zone_create(zone_c), -EEXIST);
	assert_int_equal(zone_delete(zone_c), 0);
	assert_int_not_equal(sh("ip netns list | grep -qE '^%s( |$)'", zone_c), 0);
}

static void test_link_move_and_set(void **state)
{
	const uint8_t mac[6] = { 0x02, 0x08, 0x20, 0xaa, 0xbb, 0xcc };
	struct nl_link_info li;
	int idx;

	(void)state;
	/* Back in the host if an earlier test moved it. */
	if (nl_link_index(NULL, veth_z) < 0)
		assert_int_equal(nl_link_move(zone_a, veth_z, NULL), 0);

	assert_int_equal(nl_link_get(NULL, veth_z, &li), 0);
	assert_string_equal(li.name, veth_z);
	assert_string_equal(li.kind, "veth");
	assert_false(li.loopback);
	assert_int_equal(li.ifindex, (int)if_nametoindex(veth_z));

	assert_int_equal(nl_link_set_up(NULL, veth_z, true), 0);
	assert_int_equal(nl_link_move(NULL, veth_z, zone_a), 0);
	assert_in_host();
	assert_int_equal(nl_link_index(NULL, veth_z), -ENODEV);
	idx = nl_link_index(zone_a, veth_z);
	assert_true(idx > 0);
	assert_in_host();

	/* Moving takes it down. */
	assert_int_equal(nl_link_get(zone_a, veth_z, &li), 0);
	assert_false(li.flags & IFF_UP);
	assert_int_equal(li.ifindex, idx);

	assert_int_equal(nl_link_set_mac(zone_a, veth_z, mac), 0);
	assert_int_equal(nl_link_set_mtu(zone_a, veth_z, 1400), 0);
	assert_int_equal(nl_link_set_up(zone_a, veth_z, true), 0);
	assert_in_host();
	assert_int_equal(nl_link_get(zone_a, veth_z, &li), 0);
	assert_memory_equal(li.mac, mac, 6);
	assert_int_equal(li.mtu, 1400);
	assert_true(li.flags & IFF_UP);
	assert_int_equal(sh("ip -n %s link show %s | grep -q 'mtu 1400.*state UP'", zone_a, veth_z), 0);
	assert_int_equal(sh("ip -n %s link show %s | grep -q 'link/ether 02:08:20:aa:bb:cc'", zone_a, veth_z), 0);

	/* Kernel errors come back as -errno. */
	assert_int_equal(nl_link_set_mtu(zone_a, "vwtnlnone", 1400), -ENODEV);
	assert_int_equal(nl_link_set_mtu(zone_a, veth_z, 10), -EINVAL);
	assert_int_equal(nl_link_move(NULL, "vwtnlnone", zone_a), -ENODEV);
	assert_int_equal(nl_link_move(NULL, veth_h, "vwtnlnozone"), -ENOENT);
	assert_int_equal(nl_link_get(zone_a, veth_h, &li), -ENODEV);
	assert_in_host();

	/* Out and in again: it keeps its settings but comes back down. */
	assert_int_equal(nl_link_move(zone_a, veth_z, NULL), 0);
	assert_int_equal(nl_link_get(NULL, veth_z, &li), 0);
	assert_false(li.flags & IFF_UP);
	assert_memory_equal(li.mac, mac, 6);
	assert_int_equal(li.mtu, 1400);
	assert_int_equal(nl_link_move(NULL, veth_z, zone_a), 0);
	assert_int_equal(nl_link_set_up(zone_a, veth_z, false), 0);
	assert_in_host();
}

static void test_addresses(void **state)
{
	struct vw_prefix p4 = prefix("10.77.0.1", 24);
	struct vw_prefix p31 = prefix("10.78.0.0", 31);
	struct vw_prefix p6 = prefix("fd77::1", 64);
	struct vw_prefix bad = p4;

	(void)state;
	veth_in_zone_up();

	assert_int_equal(nl_addr_add(zone_a, veth_z, &p4), 0);
	assert_int_equal(nl_addr_add(zone_a, veth_z, &p4), -EEXIST);
	assert_in_host();
	assert_int_equal(sh("ip -n %s -4 addr show dev %s | grep -q 'inet 10.77.0.1/24 brd 10.77.0.255 scope global'",
			    zone_a, veth_z), 0);
	assert_int_equal(nl_addr_add(zone_a, veth_z, &p31), 0);
	assert_int_equal(sh("ip -n %s -4 addr show dev %s | grep -q 'inet 10.78.0.0/31 scope'", zone_a, veth_z), 0);

	assert_int_equal(nl_addr_add(zone_a, veth_z, &p6), 0);
	assert_int_equal(nl_addr_add(zone_a, veth_z, &p6), -EEXIST);
	assert_in_host();
	assert_int_equal(sh("ip -n %s -6 addr show dev %s | grep 'inet6 fd77::1/64' | grep -q nodad", zone_a, veth_z), 0);
	/* Usable at once: no DAD, so not tentative, and it answers. */
	assert_int_not_equal(sh("ip -n %s -6 addr show dev %s | grep 'fd77::1/64' | grep -q tentative", zone_a, veth_z), 0);
	assert_int_equal(sh("ip netns exec %s ping -6 -c1 -W2 fd77::1 >/dev/null 2>&1", zone_a), 0);

	/* The host does not see them. */
	assert_int_not_equal(sh("ip addr show | grep -q 'fd77::1/64\\|10.77.0.1/24'"), 0);

	assert_int_equal(nl_addr_del(zone_a, veth_z, &p4), 0);
	assert_int_equal(nl_addr_del(zone_a, veth_z, &p31), 0);
	assert_int_equal(nl_addr_del(zone_a, veth_z, &p6), 0);
	assert_int_equal(nl_addr_del(zone_a, veth_z, &p4), -EADDRNOTAVAIL);
	assert_int_equal(nl_addr_del(zone_a, veth_z, &p6), -EADDRNOTAVAIL);
	assert_in_host();
	assert_int_not_equal(sh("ip -n %s addr show dev %s | grep -q '10.77.0.1\\|10.78.0.0\\|fd77::1'", zone_a, veth_z), 0);

	assert_int_equal(nl_addr_add(zone_a, "vwtnlnone", &p4), -ENODEV);
	assert_int_equal(nl_addr_add("vwtnlnozone", veth_z, &p4), -ENOENT);
	bad.plen = 33;
	assert_int_equal(nl_addr_add(zone_a, veth_z, &bad), -EINVAL);
	bad.family = AF_UNIX;
	assert_int_equal(nl_addr_add(zone_a, veth_z, &bad), -EINVAL);
	assert_in_host();
}

static void test_mcast(void **state)
{
	uint8_t macs[32][6];
	int n;

	(void)state;
	veth_in_zone_up();

	n = nl_mcast_list(zone_a, veth_z, macs, 32);
	assert_in_host();
	assert_true(n >= 2);
	assert_true(has_mac(macs, n, all_nodes_v6));
	assert_true(has_mac(macs, n, all_hosts_v4));
	assert_int_equal(nl_mcast_list(zone_a, veth_z, macs, 1), 1);

	/* The host end, seen from the host. */
	n = nl_mcast_list(NULL, veth_h, macs, 32);
	assert_true(n >= 2);
	assert_true(has_mac(macs, n, all_nodes_v6));

	/* lo has none; no such link; no such zone. */
	assert_int_equal(nl_mcast_list(zone_a, "lo", macs, 32), 0);
	assert_int_equal(nl_mcast_list(zone_a, veth_h, macs, 32), -ENODEV);
	assert_int_equal(nl_mcast_list("vwtnlnozone", veth_z, macs, 32), -ENOENT);
	assert_in_host();
}

struct seen {
	int count;
	bool lo, veth, tun;
	int stop_after;
};

static int collect(const struct nl_link_info *li, void *arg)
{
	struct seen *s = arg;

	s->count++;
	if (!strcmp(li->name, "lo")) {
		s->lo = li->loopback && !li->kind[0] && li->ifindex == 1;
	} else if (!strcmp(li->name, veth_z) || !strcmp(li->name, veth_h)) {
		s->veth = !strcmp(li->kind, "veth") && !li->loopback && li->mtu > 0;
	} else if (!strcmp(li->name, tap)) {
		s->tun = !strcmp(li->kind, "tun");
	}
	if (s->stop_after && s->count == s->stop_after)
		return 42;
	return 0;
}

static void test_link_list(void **state)
{
	struct seen s = { 0 };

	(void)state;
	veth_in_zone_up();

	assert_int_equal(nl_link_foreach(zone_a, collect, &s), 0);
	assert_in_host();
	assert_true(s.lo);
	assert_true(s.veth);
	assert_int_equal(s.count, 2);

	memset(&s, 0, sizeof(s));
	assert_int_equal(nl_link_foreach(NULL, collect, &s), 0);
	assert_true(s.lo);
	assert_true(s.veth);
	assert_true(s.count >= 2);

	/* fn's non-zero value stops the walk and is returned. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(nl_link_foreach(zone_a, collect, &s), 42);
	assert_int_equal(s.count, 1);
	assert_int_equal(nl_link_foreach("vwtnlnozone", collect, &s), -ENOENT);
	assert_in_host();
}

/* A persistent tap (no file attached) moves like any other link. */
static void test_tun_move(void **state)
{
	struct nl_link_info li;
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(sh("ip tuntap add dev %s mode tap", tap), 0);
	assert_int_equal(nl_link_get(NULL, tap, &li), 0);
	assert_string_equal(li.kind, "tun");
	assert_int_equal(nl_link_set_up(NULL, tap, true), 0);

	assert_int_equal(nl_link_move(NULL, tap, zone_a), 0);
	assert_in_host();
	assert_int_equal(nl_link_index(NULL, tap), -ENODEV);
	assert_int_equal(nl_link_get(zone_a, tap, &li), 0);
	assert_string_equal(li.kind, "tun");
	assert_false(li.flags & IFF_UP);
	assert_int_equal(nl_link_foreach(zone_a, collect, &s), 0);
	assert_true(s.tun);

	/* Up without a reader: no carrier, but it joins its groups. */
	assert_int_equal(nl_link_set_up(zone_a, tap, true), 0);
	assert_int_equal(nl_link_get(zone_a, tap, &li), 0);
	assert_true(li.flags & IFF_UP);
	assert_int_equal(sh("ip -n %s link del %s", zone_a, tap), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_lifecycle),
		cmocka_unit_test(test_zone_iproute_compat),
		cmocka_unit_test(test_link_move_and_set),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_mcast),
		cmocka_unit_test(test_link_list),
		cmocka_unit_test(test_tun_move),
	};

	if (geteuid() != 0) {
		printf("test_netlink: skipped, needs root\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
