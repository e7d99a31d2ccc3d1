/*
 * Unit tests for observability/mirror.c: the GRE and ERSPAN type II headers
 * byte for byte, and the mirror's observer on an in-memory port: direction,
 * the libpcap filter (on the frame as on the link, tag included), copies as
 * on the link, and a full ring dropping (counted) rather than waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/observe.h"
#include "observability/mirror.h"

static const uint8_t DST[6] = { 0x02, 0x08, 0x20, 0, 0, 2 }, SRC[6] = { 0x02, 0x08, 0x20, 0, 0, 1 };

/* An Ethernet + IPv4 frame of protocol proto (1 ICMP, 17 UDP) with len
 * bytes in all, its payload bytes set to fill. */
static struct vw_pkt *frame(uint8_t proto, uint32_t len, uint8_t fill)
{
	struct vw_pkt *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->data = p->buf;
	p->len = len;
	memset(p->data, fill, len);
	memcpy(p->data, DST, 6);
	memcpy(p->data + 6, SRC, 6);
	p->data[12] = 0x08;
	p->data[13] = 0x00;
	p->data[14] = 0x45;
	p->data[15] = 0;
	p->data[16] = (uint8_t)((len - 14) >> 8);
	p->data[17] = (uint8_t)(len - 14);
	p->data[22] = 64;
	p->data[23] = proto;
	memcpy(p->data + 26, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	return p;
}

static void test_encap_gre(void **state)
{
	uint8_t h[16], f[64] = { 0 };

	(void)state;
	assert_int_equal(vw_mirror_encap(h, VW_MIRROR_GRE, false, 0, 0, 0, f, sizeof(f)), 4);
	assert_memory_equal(h, ((uint8_t[]){ 0x00, 0x00, 0x65, 0x58 }), 4);
	assert_int_equal(vw_mirror_encap(h, VW_MIRROR_GRE, true, 0x01020304, 0, 0, f, sizeof(f)), 8);
	assert_memory_equal(h, ((uint8_t[]){ 0x20, 0x00, 0x65, 0x58, 1, 2, 3, 4 }), 8);
}

static void test_encap_erspan(void **state)
{
	uint8_t h[16], f[64] = { 0 };

	(void)state;
	/* untagged: VLAN 0, En 0; S bit and the sequence number */
	assert_int_equal(vw_mirror_encap(h, VW_MIRROR_ERSPAN, false, 0, 5, 7, f, sizeof(f)), 16);
	assert_memory_equal(h, ((uint8_t[]){ 0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 7,
					     0x10, 0x00, 0x00, 0x05, 0, 0, 0, 0 }), 16);
	/* tagged VID 10, PCP 3: VLAN 10, CoS 3, En 3 (tag in the frame) */
	f[12] = 0x81, f[13] = 0x00, f[14] = 0x60, f[15] = 10;
	assert_int_equal(vw_mirror_encap(h, VW_MIRROR_ERSPAN, false, 0, 1023, 0xa1b2c3d4, f, sizeof(f)), 16);
	assert_memory_equal(h, ((uint8_t[]){ 0x10, 0x00, 0x88, 0xbe, 0xa1, 0xb2, 0xc3, 0xd4,
					     0x10, 0x0a, 0x7b, 0xff, 0, 0, 0, 0 }), 16);
}

static void next_is(struct vw_mirror *m, int w, const uint8_t *want, uint32_t len)
{
	const uint8_t *f;
	uint32_t l;

	assert_true(vw_mirror_test_next(m, w, &f, &l));
	assert_int_equal(l, len);
	assert_memory_equal(f, want, len);
}

static void test_observer(void **state)
{
	struct vw_port *port = calloc(1, sizeof(*port));
	struct vw_pkt *icmp = frame(1, 98, 0xaa), *udp = frame(17, 120, 0xbb), *pk[2] = { icmp, udp };
	struct vw_mirror *m, *mi, *mf;
	uint64_t copied, drops;
	char err[256];
	const uint8_t *f;
	uint32_t l;
	uint8_t tagged[128];

	(void)state;
	m = vw_mirror_test_new(port, VW_OBS_IN | VW_OBS_OUT, NULL, err, sizeof(err));
	assert_non_null(m);
	mi = vw_mirror_test_new(port, VW_OBS_IN, NULL, err, sizeof(err));
	assert_non_null(mi);
	mf = vw_mirror_test_new(port, VW_OBS_IN | VW_OBS_OUT, "vlan 10 and icmp", err, sizeof(err));
	assert_non_null(mf);
	assert_null(vw_mirror_test_new(port, VW_OBS_IN, "icmp and bogus", err, sizeof(err)));
	assert_non_null(strstr(err, "bad filter 'icmp and bogus'"));

	/* sent by the link: the both-ways mirror on worker 1, not the in one */
	vw_obs_run(port, 1, VW_OBS_OUT, pk, 2, false);
	next_is(m, 1, icmp->data, icmp->len);
	next_is(m, 1, udp->data, udp->len);
	assert_false(vw_mirror_test_next(m, 1, &f, &l));
	assert_false(vw_mirror_test_next(m, 0, &f, &l));
	assert_false(vw_mirror_test_next(mi, 1, &f, &l));
	assert_false(vw_mirror_test_next(mf, 1, &f, &l)); /* no tag */

	/* received, with VID 10 on the link: copies carry the tag */
	icmp->vid = udp->vid = 10;
	vw_obs_run(port, 0, VW_OBS_IN, pk, 2, true);
	memcpy(tagged, icmp->data, 12);
	memcpy(tagged + 12, ((uint8_t[]){ 0x81, 0x00, 0x00, 10 }), 4);
	memcpy(tagged + 16, icmp->data + 12, icmp->len - 12);
	next_is(m, 0, tagged, icmp->len + 4);
	next_is(mi, 0, tagged, icmp->len + 4);
	next_is(mf, 0, tagged, icmp->len + 4); /* and only that one */
	assert_false(vw_mirror_test_next(mf, 0, &f, &l));
	assert_true(vw_mirror_test_next(m, 0, &f, &l));
	assert_int_equal(l, udp->len + 4);

	vw_mirror_test_counts(m, &copied, &drops);
	assert_int_equal(copied, 4);
	assert_int_equal(drops, 0);
	vw_mirror_test_counts(mf, &copied, &drops);
	assert_int_equal(copied, 1);
	vw_mirror_test_free(m);
	vw_mirror_test_free(mi);
	vw_mirror_test_free(mf);
	assert_null(port->obs);
	free(icmp);
	free(udp);
	free(port);
}

/* Nobody drains: the ring fills, further copies are dropped and counted;
 * drained, it takes frames again, across its end, intact. */
static void test_ring_full(void **state)
{
	struct vw_port *port = calloc(1, sizeof(*port));
	struct vw_pkt *big = frame(17, 60000, 0x11);
	struct vw_mirror *m;
	uint64_t copied, drops, fit;
	char err[256];
	const uint8_t *f;
	uint32_t l;
	int i;

	(void)state;
	m = vw_mirror_test_new(port, VW_OBS_OUT, NULL, err, sizeof(err));
	assert_non_null(m);
	for (i = 0; i < 100; i++)
		vw_obs_run(port, 2, VW_OBS_OUT, &big, 1, false);
	vw_mirror_test_counts(m, &fit, &drops);
	assert_int_equal(fit, VW_MIRROR_RING / 60024); /* record: 24-byte header, 8-byte aligned */
	assert_int_equal(drops, 100 - fit);
	for (i = 0; i < (int)fit; i++)
		assert_true(vw_mirror_test_next(m, 2, &f, &l));
	assert_false(vw_mirror_test_next(m, 2, &f, &l));
	for (i = 0; i < 100; i++) {
		big->data[100] = (uint8_t)i;
		vw_obs_run(port, 2, VW_OBS_OUT, &big, 1, false);
		next_is(m, 2, big->data, 60000);
	}
	vw_mirror_test_counts(m, &copied, &drops);
	assert_int_equal(copied, fit + 100);
	assert_int_equal(drops, 100 - fit);
	vw_mirror_test_free(m);
	free(big);
	free(port);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encap_gre),
		cmocka_unit_test(test_encap_erspan),
		cmocka_unit_test(test_observer),
		cmocka_unit_test(test_ring_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
