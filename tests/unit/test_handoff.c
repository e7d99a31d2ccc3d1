// SPDX-License-Identifier: GPL-2.0
/*
 * Handing frames between workers: the SPSC pointer ring (datapath/spsc.h)
 * and steering a TAP's frames to one queue (vw_tap_steer).  The TAP tests
 * need root; the device they make is named vwtho<pid> and goes away with
 * its file descriptors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "datapath/port.h"
#include "datapath/spsc.h"
#include "datapath/worker.h"
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void *ptr(uintptr_t i)
{
	return (void *)(i + 1);
}

static void test_spsc_basic(void **state)
{
	struct vw_spsc r;
	void *in[8], *out[8];
	unsigned i, round;

	(void)state;
	assert_int_equal(vw_spsc_init(&r, 3), -1);
	assert_int_equal(vw_spsc_init(&r, 0), -1);
	assert_int_equal(vw_spsc_init(&r, 4), 0);
	assert_true(vw_spsc_empty(&r));
	assert_int_equal(vw_spsc_get(&r, out, 8), 0);
	/* wrap the indices many times: full, partial, empty */
	for (round = 0; round < 1000; round++) {
		for (i = 0; i < 8; i++)
			in[i] = ptr(round * 8 + i);
		assert_int_equal(vw_spsc_put(&r, in, 8), 4); /* only 4 fit */
		assert_int_equal(vw_spsc_put(&r, in + 4, 1), 0);
		assert_false(vw_spsc_empty(&r));
		assert_int_equal(vw_spsc_get(&r, out, 3), 3);
		assert_ptr_equal(out[0], in[0]);
		assert_ptr_equal(out[2], in[2]);
		assert_int_equal(vw_spsc_put(&r, in + 4, 4), 3);
		assert_int_equal(vw_spsc_get(&r, out, 8), 4);
		for (i = 0; i < 4; i++)
			assert_ptr_equal(out[i], in[3 + i]);
		assert_true(vw_spsc_empty(&r));
	}
	vw_spsc_fini(&r);
}

#define STRESS_N 4000000u

static void *producer(void *arg)
{
	struct vw_spsc *r = arg;
	uintptr_t next = 0;
	void *p[32];

	while (next < STRESS_N) {
		unsigned n = (unsigned)(next % 31) + 1, i, done = 0;

		if (n > STRESS_N - next)
			n = (unsigned)(STRESS_N - next);
		for (i = 0; i < n; i++)
			p[i] = ptr(next + i);
		while (done < n)
			done += vw_spsc_put(r, p + done, n - done);
		next += n;
	}
	return NULL;
}

/* Two threads: every pointer arrives once, in order. */
static void test_spsc_threads(void **state)
{
	struct vw_spsc r;
	pthread_t t;
	uintptr_t expect = 0;
	unsigned bad = 0;
	void *p[64];

	(void)state;
	assert_int_equal(vw_spsc_init(&r, 256), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
	while (expect < STRESS_N) {
		unsigned n = vw_spsc_get(&r, p, (unsigned)(expect % 63) + 1), i;

		for (i = 0; i < n; i++, expect++)
			bad += p[i] != ptr(expect);
	}
	pthread_join(t, NULL);
	assert_int_equal(bad, 0);
	assert_true(vw_spsc_empty(&r));
	vw_spsc_fini(&r);
}

/* ---- TAP steering ------------------------------------------------------ */

static char tapname[IFNAMSIZ];
static struct vw_port *tap;
static int psock = -1;

/* A TAP of nq queues named PREFIX<pid>, up, and a packet socket bound to
 * it: frames sent on the socket leave through the TAP device, as the
 * zone's stack would send them (the kernel picks a queue for each). */
static int tap_make(const char *prefix, uint8_t last, int nq, char *name, size_t len, struct vw_port **port,
		    int *ps)
{
	const uint8_t mac[6] = { 0x02, 0x76, 0x77, 0x00, 0x00, last };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	char path[96];
	int err, s, ok;
	FILE *f;

	snprintf(name, len, "%s%d", prefix, (int)getpid() % 100000);
	*port = vw_tap_open(name, mac, nq, &err);
	if (!*port)
		return -1;
	/* no IPv6 on it: the kernel's own router solicitations and MLD
	 * reports, sent at any time after it comes up, are not the test's */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	if ((f = fopen(path, "we"))) {
		fputs("1", f);
		fclose(f);
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
	if (s >= 0)
		close(s);
	if (!ok)
		return -1;
	*ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sll.sll_ifindex = (int)if_nametoindex(name);
	sll.sll_protocol = htons(ETH_P_ALL);
	return *ps >= 0 && bind(*ps, (struct sockaddr *)&sll, sizeof(sll)) == 0 ? 0 : -1;
}

static int tap_setup(void **state)
{
	(void)state;
	return tap_make("vwtho", 0x01, 2, tapname, sizeof(tapname), &tap, &psock);
}

static int tap_teardown(void **state)
{
	(void)state;
	if (psock >= 0)
		close(psock);
	if (tap)
		vw_port_destroy(tap);
	return 0;
}

/* Sends n IPv4/UDP frames of n different flows (source ports) through the
 * TAP device, then counts what each of its two queues holds. */
static void send_and_count(int n, int got[2])
{
	uint8_t f[64] = { 0 }, buf[70000];
	int i, q;

	for (i = 0; i < n; i++) {
		memset(f, 0xff, 6);                       /* broadcast */
		memcpy(f + 6, "\x02\x76\x77\x00\x00\x01", 6);
		f[12] = 0x08;                             /* IPv4 */
		f[14] = 0x45;
		f[17] = 46;                               /* total length */
		f[22] = 64;
		f[23] = 17;                               /* UDP */
		memcpy(f + 26, "\x0a\xd3\x00\x01\x0a\xd3\x00\x02", 8);
		f[34] = (uint8_t)(i >> 8);                /* source port: the flow */
		f[35] = (uint8_t)i;
		f[36] = 0x13;
		f[37] = 0x89;
		f[39] = 26;
		assert_int_equal(send(psock, f, sizeof(f), 0), (ssize_t)sizeof(f));
	}
	for (q = 0; q < 2; q++) {
		got[q] = 0;
		/* what the device sent: the vnet header, then the frame */
		while (read(tap->qfd[q], buf, sizeof(buf)) > 0)
			got[q]++;
	}
}

static void test_tap_steer(void **state)
{
	int got[2];

	(void)state;
	send_and_count(0, got); /* whatever the kernel sent on its own */
	assert_int_equal(vw_tap_steer(tap, 1), 0);
	send_and_count(64, got);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 64);
	assert_int_equal(vw_tap_steer(tap, 0), 0);
	send_and_count(64, got);
	assert_int_equal(got[0], 64);
	assert_int_equal(got[1], 0);
	/* back to the kernel's choice per flow: 64 flows land on both */
	assert_int_equal(vw_tap_steer(tap, -1), 0);
	send_and_count(64, got);
	assert_int_equal(got[0] + got[1], 64);
	assert_true(got[0] > 0 && got[1] > 0);
}

static void test_tap_steer_bad(void **state)
{
	static const struct vw_port_ops other = { .kind = "mem" };
	struct vw_port fake = { .ops = &other, .nq = 1, .fd = -1 };

	(void)state;
	assert_int_equal(vw_tap_steer(tap, 2), -EINVAL); /* it has 2 queues */
	assert_int_equal(vw_tap_steer(&fake, 0), -EINVAL);
}

/* ---- steering to a set of queues (a link's cpus) ------------------------ */

static struct vw_port *tap4;
static int psock4 = -1;

static int tap4_setup(void **state)
{
	char name[IFNAMSIZ];

	(void)state;
	return tap_make("vwthm", 0x02, 4, name, sizeof(name), &tap4, &psock4);
}

static int tap4_teardown(void **state)
{
	(void)state;
	if (psock4 >= 0)
		close(psock4);
	if (tap4)
		vw_port_destroy(tap4);
	return 0;
}

enum { F_UDP4, F_TCP4, F_UDP6, F_TCP6, F_OPT4, F_FRAG4, F_ICMP4, F_ARP, F_SHORT, F_KINDS };

/* Frame i of a kind (i picks the flow: the source port, or an address);
 * returns its length. */
static size_t make_frame(uint8_t *f, int kind, int i)
{
	size_t len = 0;

	memset(f, 0, 128);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x76\x77\x00\x00\x02", 6);
	switch (kind) {
	case F_UDP4: case F_TCP4: case F_OPT4: case F_FRAG4: case F_ICMP4: {
		int ihl = kind == F_OPT4 ? 24 : 20;
		uint8_t *l4 = f + 14 + ihl;

		f[12] = 0x08;
		f[14] = (uint8_t)(0x40 | ihl / 4);
		f[17] = (uint8_t)(ihl + 32);
		f[22] = 64;
		f[23] = kind == F_TCP4 ? 6 : kind == F_ICMP4 ? 1 : 17;
		if (kind == F_FRAG4) {
			f[20] = 0x20 | (uint8_t)(i & 0x1f); /* MF, a later piece */
			f[21] = 0x40;
		}
		memcpy(f + 26, "\x0a\xd3\x00\x01\x0a\xd3\x00\x02", 8);
		if (kind == F_ICMP4) {
			f[29] = (uint8_t)i;       /* the flow: the source address */
			l4[0] = 8;
			l4[2] = (uint8_t)(i * 7); /* checksum: must not matter */
		} else {
			l4[0] = (uint8_t)(i >> 8); /* the flow: the source port */
			l4[1] = (uint8_t)i;
			l4[2] = 0x13;
			l4[3] = 0x89;
		}
		len = 14 + (size_t)ihl + 32;
		break;
	}
	case F_UDP6: case F_TCP6:
		f[12] = 0x86;
		f[13] = 0xdd;
		f[14] = 0x60;
		f[19] = 32;
		f[20] = kind == F_TCP6 ? 6 : 17;
		f[21] = 64;
		f[22] = 0xfd;
		f[37] = 1;
		f[38] = 0xfd;
		f[53] = 2;
		f[54] = (uint8_t)(i >> 8);
		f[55] = (uint8_t)i;
		f[56] = 0x13;
		f[57] = 0x89;
		len = 14 + 40 + 32;
		break;
	case F_ARP:
		f[12] = 0x08;
		f[13] = 0x06;
		f[41] = (uint8_t)i;
		len = 60;
		break;
	default: /* shorter than an IPv4 header: nothing to hash */
		f[12] = 0x08;
		f[14] = 0x45;
		len = 20;
		break;
	}
	return len;
}

/* Sends n frames of a kind (n flows) through tap4 and counts what each of
 * its queues holds. */
static void send4(int kind, int n, int got[4])
{
	uint8_t f[128], buf[70000];
	int i, q;

	for (i = 0; i < n; i++) {
		size_t len = make_frame(f, kind, i);

		assert_int_equal(send(psock4, f, len, 0), (ssize_t)len);
	}
	for (q = 0; q < 4; q++) {
		got[q] = 0;
		while (read(tap4->qfd[q], buf, sizeof(buf)) > 0)
			got[q]++;
	}
}

/* Every kind of frame lands on the allowed queues only; flows of UDP and
 * TCP (no skb hash from a packet socket: the program hashes the headers)
 * spread over all of them, and the same flow always lands on one queue. */
static void test_tap_allow(void **state)
{
	static const uint32_t masks[] = { 0xa, 0xd, 0x6, 0x4, 0x1 };
	int got[4], again[4], m, kind, q;

	(void)state;
	send4(F_ARP, 0, got); /* whatever the kernel sent on its own */
	for (m = 0; m < (int)ARRAY_SIZE(masks); m++) {
		uint32_t mask = masks[m];

		assert_int_equal(vw_tap_allow(tap4, mask), 0);
		assert_int_equal(tap4->workers_allowed, mask);
		for (kind = 0; kind < F_KINDS; kind++) {
			int total = 0;

			send4(kind, 64, got);
			for (q = 0; q < 4; q++) {
				total += got[q];
				if (!(mask & (1u << q)) && got[q])
					fail_msg("mask %#x, kind %d: %d frames on queue %d", mask, kind, got[q], q);
				if ((mask & (1u << q)) && !got[q] && kind <= F_ICMP4 && kind != F_FRAG4)
					fail_msg("mask %#x, kind %d: no flow on queue %d", mask, kind, q);
			}
			assert_int_equal(total, 64);
		}
		/* one flow, many frames: one queue */
		for (q = 0; q < 4; q++)
			again[q] = 0;
		for (kind = 0; kind < 16; kind++) {
			send4(F_UDP4, 1, got);
			for (q = 0; q < 4; q++)
				again[q] += got[q];
		}
		for (q = 0, kind = 0; q < 4; q++)
			kind += again[q] > 0;
		assert_int_equal(kind, 1);
	}
	/* shaping's one queue, then back to the allowed set */
	assert_int_equal(vw_tap_allow(tap4, 0x6), 0);
	assert_int_equal(vw_tap_steer(tap4, 3), 0);
	send4(F_UDP4, 64, got);
	assert_int_equal(got[3], 64);
	assert_int_equal(vw_tap_steer(tap4, -1), 0);
	send4(F_UDP4, 64, got);
	assert_true(got[0] == 0 && got[3] == 0 && got[1] > 0 && got[2] > 0);
	/* every queue, or none given: the kernel's own choice (no program) */
	assert_int_equal(vw_tap_allow(tap4, 0xf), 0);
	assert_int_equal(tap4->workers_allowed, 0);
	send4(F_UDP4, 64, got);
	assert_int_equal(got[0] + got[1] + got[2] + got[3], 64);
	assert_true(got[0] > 0 && got[1] > 0 && got[2] > 0 && got[3] > 0);
	/* a queue it does not have: refused, nothing changed */
	assert_int_equal(vw_tap_allow(tap4, 0x2), 0);
	assert_int_equal(vw_tap_allow(tap4, 0x12), -EINVAL);
	assert_int_equal(tap4->workers_allowed, 0x2);
	send4(F_UDP6, 64, got);
	assert_int_equal(got[1], 64);
	assert_int_equal(vw_tap_allow(tap4, 0), 0);
}

/* ---- calls into a worker, and timed tasks -------------------------------- */

static int seen_self = -2;

static void record_self(void *arg)
{
	(void)arg;
	seen_self = vw_worker_self;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct tick {
	struct vw_task task;
	uint64_t start, period, fired[5];
	int runs, worker;
};

static int tick_run(struct vw_task *t, uint64_t now)
{
	struct tick *k = (struct tick *)t;

	k->fired[k->runs++] = now;
	k->worker = vw_worker_self;
	if (k->runs == 5) {
		t->due = UINT64_MAX;
		vw_worker_task_del(t);
	} else {
		t->due = k->start + (uint64_t)(k->runs + 1) * k->period;
	}
	return 0;
}

static void tick_add(void *arg)
{
	struct tick *k = arg;

	k->start = mono_ns();
	k->task.due = k->start + k->period;
	vw_worker_task_add(&k->task);
}

/* Worker w runs on the (w mod n)-th CPU the process may use, under its
 * name vw-worker-W, and vw_workers_on_cpu maps CPUs back to workers. */
static void check_pinning(int n)
{
	cpu_set_t avail;
	int w, c, k, ncpu, named = 0;
	char path[300], comm[32];
	DIR *d;
	struct dirent *e;

	assert_int_equal(sched_getaffinity(0, sizeof(avail), &avail), 0);
	ncpu = CPU_COUNT(&avail);
	for (w = 0; w < n; w++) {
		for (c = 0, k = -1; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &avail) && ++k == w % ncpu)
				break;
		assert_int_equal(vw_worker_cpu(w), c);
		assert_true(vw_workers_on_cpu(c) & (1u << w));
	}
	assert_int_equal(vw_worker_cpu(n), -1);
	assert_int_equal(vw_workers_on_cpu(-1), 0);
	assert_int_equal(vw_workers_on_cpu(CPU_SETSIZE + 5), 0);
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((e = readdir(d))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "vw-worker-", 10))
			named++;
		fclose(f);
	}
	closedir(d);
	assert_int_equal(named, n);
}

/* A call runs on the worker named; a task wakes a sleeping worker when it
 * is due (never early) and can remove itself. */
static void test_worker_call_and_tasks(void **state)
{
	struct tick k = { .task.run = tick_run, .period = 3000000 };
	int i;

	(void)state;
	assert_int_equal(vw_workers_start(2), 0);
	check_pinning(2);
	assert_int_equal(vw_worker_call(1, record_self, NULL), 0);
	assert_int_equal(seen_self, 1);
	assert_int_equal(vw_worker_call(0, record_self, NULL), 0);
	assert_int_equal(seen_self, 0);
	assert_int_equal(vw_worker_call(2, record_self, NULL), -EINVAL);
	assert_int_equal(vw_worker_call(1, tick_add, &k), 0);
	for (i = 0; i < 400 && __atomic_load_n(&k.runs, __ATOMIC_ACQUIRE) < 5; i++)
		usleep(5000);
	assert_int_equal(k.runs, 5);
	assert_int_equal(k.worker, 1);
	for (i = 0; i < 5; i++)
		assert_true(k.fired[i] >= k.start + (uint64_t)(i + 1) * k.period);
	vw_workers_stop();
}

int main(void)
{
	const struct CMUnitTest spsc[] = {
		cmocka_unit_test(test_spsc_basic),
		cmocka_unit_test(test_spsc_threads),
	};
	const struct CMUnitTest steer[] = {
		cmocka_unit_test(test_tap_steer),
		cmocka_unit_test(test_tap_steer_bad),
	};
	const struct CMUnitTest steer4[] = {
		cmocka_unit_test(test_tap_allow),
	};
	const struct CMUnitTest workers[] = {
		cmocka_unit_test(test_worker_call_and_tasks),
	};
	int fails = cmocka_run_group_tests_name("spsc", spsc, NULL, NULL);

	fails += cmocka_run_group_tests_name("workers", workers, NULL, NULL);

	fails += cmocka_run_group_tests_name("tap steering", steer, tap_setup, tap_teardown);
	return fails + cmocka_run_group_tests_name("tap steering to a set", steer4, tap4_setup, tap4_teardown);
}
