/*
 * Unit tests of the capture engine (observability/capture.c): an observer on
 * in-memory ports, fed batches through vw_obs_run() as the switch does, read
 * back as pcap records.  The filter selects, the direction selects, a tagged
 * frame is captured (and filtered) as on the link, a full ring counts its
 * drops and takes frames again once read, the workers' rings are merged by
 * time.  vw_rcu_nworkers stays 0, so vw_rcu_synchronize() returns at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datapath/observe.h"
#include "datapath/pkt.h"
#include "observability/capture.h"

static struct vw_pkt *pkts[256];
static struct vw_port *port;

static int setup(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		if (!(pkts[i] = calloc(1, sizeof(struct vw_pkt))))
			return -1;
	port = calloc(1, sizeof(*port));
	return port ? 0 : -1;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		free(pkts[i]);
	free(port);
	return 0;
}

/* An IPv4 frame of len bytes with protocol proto; seq in its last bytes. */
static struct vw_pkt *frame(int i, uint8_t proto, uint32_t len, uint32_t seq)
{
	struct vw_pkt *p = pkts[i];
	uint8_t *d = p->buf;

	memset(p, 0, offsetof(struct vw_pkt, head));
	p->data = d;
	p->len = len;
	memset(d, 0, len);
	memcpy(d, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	d[14] = 0x45;
	d[14 + 2] = (uint8_t)((len - 14) >> 8);
	d[14 + 3] = (uint8_t)(len - 14);
	d[14 + 8] = 64;
	d[14 + 9] = proto;
	memcpy(d + 14 + 12, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	memcpy(d + len - 4, &seq, 4);
	return p;
}

/* Reads every record: their count, and the bytes in buf. */
static uint64_t read_all(struct vw_cap *c, uint8_t *buf, size_t room, size_t *used)
{
	uint64_t n;

	*used = vw_cap_read(c, buf, room, 0, &n);
	return n;
}

static uint32_t rec_u32(const uint8_t *rec, int i)
{
	uint32_t v;

	memcpy(&v, rec + 4 * i, 4);
	return v;
}

/* The filter runs on each frame: only ICMP is kept, whole and stamped now. */
static void test_filter(void **state)
{
	static uint8_t buf[1 << 16];
	char err[256];
	struct vw_cap *c = vw_cap_new("icmp", 256u << 10, err, sizeof(err));
	struct vw_pkt *b[3];
	struct timespec now;
	size_t used;

	(void)state;
	assert_non_null(c);
	assert_int_equal(vw_cap_add_port(c, port, VW_OBS_IN | VW_OBS_OUT), 0);
	assert_int_equal(vw_obs_count(port), 1);
	b[0] = frame(0, 17, 60, 1);
	b[1] = frame(1, 1, 98, 2);
	b[2] = frame(2, 6, 74, 3);
	clock_gettime(CLOCK_REALTIME, &now);
	vw_obs_run(port, 0, VW_OBS_OUT, b, 3, false);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), 1);
	assert_int_equal(used, 16 + 98);
	assert_int_equal(rec_u32(buf, 2), 98); /* caplen */
	assert_int_equal(rec_u32(buf, 3), 98); /* len */
	assert_true(rec_u32(buf, 0) >= (uint32_t)now.tv_sec && rec_u32(buf, 0) <= (uint32_t)now.tv_sec + 5);
	assert_true(rec_u32(buf, 1) < 1000000000u);
	assert_memory_equal(buf + 16, b[1]->data, 98);
	assert_int_equal(vw_cap_drops(c), 0);
	vw_cap_free(c);
	assert_int_equal(vw_obs_count(port), 0);
	assert_int_equal(vw_obs_ports, 0);
}

/* A capture of one direction sees only that one; no filter: everything. */
static void test_direction(void **state)
{
	static uint8_t buf[1 << 16];
	char err[256];
	struct vw_cap *c = vw_cap_new(NULL, 256u << 10, err, sizeof(err));
	struct vw_pkt *b[2];
	size_t used;

	(void)state;
	assert_non_null(c);
	assert_int_equal(vw_cap_add_port(c, port, VW_OBS_IN), 0);
	assert_int_equal(vw_cap_add_port(c, port, VW_OBS_IN), -EEXIST);
	b[0] = frame(0, 17, 60, 1);
	b[1] = frame(1, 1, 98, 2);
	vw_obs_run(port, 0, VW_OBS_OUT, b, 2, false);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), 0);
	vw_obs_run(port, 1, VW_OBS_IN, b, 2, false);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), 2);
	assert_memory_equal(buf + 16, b[0]->data, 60);
	assert_memory_equal(buf + 16 + 60 + 16, b[1]->data, 98);
	assert_int_equal(vw_cap_del_port(c, port), 0);
	assert_int_equal(vw_cap_del_port(c, port), -ENOENT);
	vw_obs_run(port, 1, VW_OBS_IN, b, 2, false);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), 0);
	vw_cap_free(c);
}

/* A frame the switch tags on the way out is captured, and filtered, with
 * its tag. */
static void test_tagged(void **state)
{
	static uint8_t buf[1 << 16];
	char err[256];
	struct vw_cap *c = vw_cap_new("vlan 10 and icmp", 256u << 10, err, sizeof(err));
	struct vw_pkt *b[2];
	size_t used;

	(void)state;
	assert_non_null(c);
	assert_int_equal(vw_cap_add_port(c, port, VW_OBS_OUT), 0);
	b[0] = frame(0, 1, 98, 1);
	b[0]->vid = 10;
	b[1] = frame(1, 1, 98, 2);
	b[1]->vid = 11;
	vw_obs_run(port, 0, VW_OBS_OUT, b, 2, true);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), 1);
	assert_int_equal(rec_u32(buf, 3), 102);
	assert_memory_equal(buf + 16, b[0]->data, 12);
	assert_memory_equal(buf + 16 + 12, "\x81\x00\x00\x0a", 4);
	assert_memory_equal(buf + 16 + 16, b[0]->data + 12, 86);
	vw_cap_free(c);
}

/* A full ring drops and counts; read, it takes frames again, across its
 * end, intact. */
static void test_ring_full(void **state)
{
	static uint8_t buf[512 << 10];
	char err[256];
	struct vw_cap *c = vw_cap_new(NULL, 256u << 10, err, sizeof(err));
	struct vw_pkt *b[200];
	uint32_t i, fit = (256u << 10) / (16 + 1504);
	size_t used, off;

	(void)state;
	assert_non_null(c);
	assert_int_equal(vw_cap_add_port(c, port, VW_OBS_OUT), 0);
	for (i = 0; i < 200; i++)
		b[i] = frame((int)i, 17, 1500, i);
	vw_obs_run(port, 2, VW_OBS_OUT, b, 200, false);
	assert_int_equal(vw_cap_drops(c), 200 - fit);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), fit);
	assert_int_equal(used, fit * (16 + 1500));
	/* again: the ring's end is passed with a wrap */
	vw_obs_run(port, 2, VW_OBS_OUT, b, 40, false);
	vw_obs_run(port, 2, VW_OBS_OUT, b + 40, 40, false);
	assert_int_equal(vw_cap_drops(c), 200 - fit);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), 80);
	for (i = 0, off = 0; i < 80; i++, off += 16 + 1500) {
		assert_int_equal(rec_u32(buf + off, 2), 1500);
		assert_memory_equal(buf + off + 16, b[i]->data, 1500);
	}
	/* a reader with little room takes what fits, or max records */
	vw_obs_run(port, 2, VW_OBS_OUT, b, 3, false);
	{
		uint64_t n;

		assert_int_equal(vw_cap_read(c, buf, 16 + 1500 + 10, 0, &n), 16 + 1500);
		assert_int_equal(n, 1);
		assert_int_equal(vw_cap_read(c, buf, sizeof(buf), 1, &n), 16 + 1500);
		assert_int_equal(n, 1);
		assert_int_equal(vw_cap_read(c, NULL, 0, 0, &n), 0);
		assert_int_equal(n, 1);
	}
	vw_cap_free(c);
}

/* Records of several workers come out oldest first. */
static void test_merge(void **state)
{
	static uint8_t buf[1 << 16];
	char err[256];
	struct vw_cap *c = vw_cap_new(NULL, 256u << 10, err, sizeof(err));
	struct vw_pkt *b[3];
	size_t used;

	(void)state;
	assert_non_null(c);
	assert_int_equal(vw_cap_add_port(c, port, VW_OBS_IN | VW_OBS_OUT), 0);
	b[0] = frame(0, 17, 60, 1);
	b[1] = frame(1, 17, 60, 2);
	b[2] = frame(2, 17, 60, 3);
	vw_obs_run(port, 3, VW_OBS_OUT, &b[0], 1, false);
	nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	vw_obs_run(port, 0, VW_OBS_IN, &b[1], 1, false);
	nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	vw_obs_run(port, 3, VW_OBS_OUT, &b[2], 1, false);
	assert_int_equal(read_all(c, buf, sizeof(buf), &used), 3);
	assert_memory_equal(buf + 16, b[0]->data, 60);
	assert_memory_equal(buf + (16 + 60) + 16, b[1]->data, 60);
	assert_memory_equal(buf + 2 * (16 + 60) + 16, b[2]->data, 60);
	vw_cap_free(c);
}

/* A bad filter: no capture, the libpcap error on one line. */
static void test_bad_filter(void **state)
{
	char err[256];
	uint8_t hdr[24];

	(void)state;
	assert_null(vw_cap_new("icmp and", 256u << 10, err, sizeof(err)));
	assert_true(!strncmp(err, "bad filter 'icmp and': ", 23));
	assert_null(strchr(err, '\n'));
	assert_null(vw_cap_new(NULL, 100000, err, sizeof(err)));
	vw_cap_file_header(hdr);
	assert_memory_equal(hdr, "\x4d\x3c\xb2\xa1\x02\x00\x04\x00", 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_filter, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
