/*
 * Unit tests for datapath/port_aggr.c, the uplink port of a link
 * aggregation, over in-memory members: which member a frame leaves on (one
 * per connection, spread over the distributing ones, none when none
 * distributes), what comes in (collecting members only; LACP frames never),
 * the counters, and the hash policies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/pkt.h"
#include "datapath/port.h"
#include "datapath/port_aggr.h"

/* An in-memory member: what it was given to send, and frames to hand in */
struct mem {
	struct vw_port port;
	unsigned sent;            /* frames written */
	uint32_t sent_hash[512];  /* a tag of each (its first payload byte) */
	uint8_t in[16][128];      /* frames waiting to be read */
	unsigned in_len[16], nin;
};

static int mem_rx(struct vw_port *port, struct vw_pool *pool, struct vw_pkt **pkts, int n)
{
	struct mem *m = port->priv;
	int got = 0;

	while (m->nin && got < n) {
		struct vw_pkt *pkt = vw_pkt_alloc(pool);

		assert_non_null(pkt);
		m->nin--;
		pkt->data = pkt->buf;
		memcpy(pkt->data, m->in[m->nin], m->in_len[m->nin]);
		pkt->len = m->in_len[m->nin];
		pkts[got++] = pkt;
	}
	return got;
}

static int mem_write(struct vw_port *port, struct vw_pkt **pkts, int n, bool tag)
{
	struct mem *m = port->priv;
	int i;

	(void)tag;
	for (i = 0; i < n; i++) {
		assert_true(m->sent < 512);
		m->sent_hash[m->sent++] = pkts[i]->data[54];
	}
	return n;
}

static const struct vw_port_ops mem_ops = { .kind = "mem", .rx_burst = mem_rx, .write = mem_write };

static struct mem *mem_new(void)
{
	struct mem *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->port.ops = &mem_ops;
	m->port.fd = -1;
	m->port.priv = m;
	return m;
}

/* An IPv4 TCP frame between two addresses and ports; its byte 54 carries
 * flow, so the tests can tell which flow a sent frame belongs to. */
static void tcp_frame(uint8_t *f, unsigned flow, uint16_t sport, uint16_t dport, uint32_t dst)
{
	memset(f, 0, 64);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = 0, f[17] = 50;
	f[23] = 6;
	f[26] = 10, f[27] = 0, f[28] = 0, f[29] = 1;
	f[30] = (uint8_t)(dst >> 24), f[31] = (uint8_t)(dst >> 16), f[32] = (uint8_t)(dst >> 8), f[33] = (uint8_t)dst;
	f[34] = (uint8_t)(sport >> 8), f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8), f[37] = (uint8_t)dport;
	f[54] = (uint8_t)flow;
}

struct fx {
	struct vw_port *aggr;
	struct mem *m[3];
	struct vw_pool pool;
	struct vw_pkt *pk[VW_BATCH];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	int err, i;

	assert_non_null(fx);
	fx->aggr = vw_aggr_open("aggr0", VW_AGGR_L4, &err);
	assert_non_null(fx->aggr);
	assert_true(vw_aggr_is(fx->aggr));
	assert_true(fx->aggr->uplink);
	assert_int_equal(fx->aggr->slow_only, VW_SLOW_BACKEND);
	for (i = 0; i < 3; i++) {
		fx->m[i] = mem_new();
		assert_int_equal(vw_aggr_member_set(fx->aggr, (unsigned)i, &fx->m[i]->port, 10 + i), 0);
	}
	assert_int_equal(vw_pool_init(&fx->pool, 256), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vw_port_destroy(fx->aggr); /* the members with it */
	vw_pool_fini(&fx->pool);
	free(fx);
	return 0;
}

/* Sends one frame of each of n flows (flow i: source port 1000 + i), each
 * repeated reps times, in one burst per repetition. */
static void send_flows(struct fx *fx, unsigned n, unsigned reps, int expect)
{
	unsigned r, i;

	for (r = 0; r < reps; r++) {
		for (i = 0; i < n; i++) {
			fx->pk[i] = vw_pkt_alloc(&fx->pool);
			fx->pk[i]->data = fx->pk[i]->buf;
			tcp_frame(fx->pk[i]->data, i, (uint16_t)(1000 + i), 80, 0x0a000002);
			fx->pk[i]->len = 64;
		}
		assert_int_equal(vw_port_write(fx->aggr, fx->pk, (int)n, false), expect < 0 ? (int)n : expect);
		for (i = 0; i < n; i++)
			vw_pkt_free(&fx->pool, fx->pk[i]);
	}
}

/* Which member each flow left on: -1 none, -2 more than one */
static void flows_by_member(struct fx *fx, unsigned n, int *where)
{
	unsigned i, k, f;

	for (f = 0; f < n; f++)
		where[f] = -1;
	for (i = 0; i < 3; i++)
		for (k = 0; k < fx->m[i]->sent; k++) {
			f = fx->m[i]->sent_hash[k];
			assert_true(f < n);
			if (where[f] == -1)
				where[f] = (int)i;
			else if (where[f] != (int)i)
				where[f] = -2;
		}
}

static void test_nothing_distributes(void **state)
{
	struct fx *fx = *state;
	struct vw_aggr_mstats st;

	send_flows(fx, 4, 1, 0); /* refused: the switch counts them */
	assert_int_equal(fx->m[0]->sent + fx->m[1]->sent + fx->m[2]->sent, 0);
	vw_aggr_member_stats(fx->aggr, 0, &st);
	assert_int_equal(st.tx_pkts, 0);
}

static void test_one_connection_one_member(void **state)
{
	struct fx *fx = *state;
	int where[32], used[3] = { 0 };
	unsigned f;

	assert_int_equal(vw_aggr_member_state(fx->aggr, 0, true, true), 0);
	assert_int_equal(vw_aggr_member_state(fx->aggr, 1, true, true), 0);
	assert_int_equal(vw_aggr_member_state(fx->aggr, 2, true, true), 0);
	send_flows(fx, 32, 5, -1);
	flows_by_member(fx, 32, where);
	for (f = 0; f < 32; f++) {
		assert_true(where[f] >= 0); /* sent, on exactly one member */
		used[where[f]]++;
	}
	/* 32 connections over 3 members: every member carries some */
	assert_true(used[0] > 0 && used[1] > 0 && used[2] > 0);
	assert_int_equal(fx->m[0]->sent + fx->m[1]->sent + fx->m[2]->sent, 32 * 5);
}

static void test_failover_moves_traffic(void **state)
{
	struct fx *fx = *state;
	int where[32];
	unsigned f;

	assert_int_equal(vw_aggr_member_state(fx->aggr, 0, true, true), 0);
	assert_int_equal(vw_aggr_member_state(fx->aggr, 1, true, true), 0);
	send_flows(fx, 32, 1, -1);
	assert_int_equal(fx->m[2]->sent, 0); /* not distributing */
	assert_true(fx->m[0]->sent > 0 && fx->m[1]->sent > 0);
	/* member 1 stops distributing (carrier lost): all on member 0 */
	assert_int_equal(vw_aggr_member_state(fx->aggr, 1, false, false), 0);
	fx->m[0]->sent = fx->m[1]->sent = 0;
	send_flows(fx, 32, 2, -1);
	flows_by_member(fx, 32, where);
	for (f = 0; f < 32; f++)
		assert_int_equal(where[f], 0);
	/* a member removed takes nothing more */
	assert_int_equal(vw_aggr_member_state(fx->aggr, 1, true, true), 0);
	vw_aggr_member_del(fx->aggr, 0);
	fx->m[1]->sent = 0;
	send_flows(fx, 8, 1, -1);
	assert_int_equal(fx->m[1]->sent, 8);
	fx->m[0] = NULL; /* freed with the member */
}

static void test_policy_l2_l3(void **state)
{
	struct fx *fx = *state;
	uint8_t a[64], b[64];

	/* L2 alone: the ports and addresses do not matter */
	tcp_frame(a, 0, 1000, 80, 0x0a000002);
	tcp_frame(b, 0, 2000, 443, 0x0a000099);
	assert_int_equal(vw_aggr_hash(a, 64, VW_AGGR_L2), vw_aggr_hash(b, 64, VW_AGGR_L2));
	/* L3: the addresses do, the ports not */
	tcp_frame(b, 0, 2000, 443, 0x0a000002);
	assert_int_equal(vw_aggr_hash(a, 64, VW_AGGR_L3), vw_aggr_hash(b, 64, VW_AGGR_L3));
	tcp_frame(b, 0, 1000, 80, 0x0a000003);
	assert_int_not_equal(vw_aggr_hash(a, 64, VW_AGGR_L3), vw_aggr_hash(b, 64, VW_AGGR_L3));
	/* L4: the ports do */
	tcp_frame(b, 0, 1001, 80, 0x0a000002);
	assert_int_not_equal(vw_aggr_hash(a, 64, VW_AGGR_L4), vw_aggr_hash(b, 64, VW_AGGR_L4));
	/* a short or odd frame hashes without reading past its end */
	assert_int_equal(vw_aggr_hash(a, 10, VW_AGGR_L4), vw_aggr_hash(b, 10, VW_AGGR_L4));
	vw_aggr_hash(a, 20, VW_AGGR_L2 | VW_AGGR_L3 | VW_AGGR_L4);
	/* the policy changes live */
	assert_int_equal(vw_aggr_set_policy(fx->aggr, VW_AGGR_L2), 0);
	assert_int_equal(vw_aggr_member_state(fx->aggr, 0, true, true), 0);
	assert_int_equal(vw_aggr_member_state(fx->aggr, 1, true, true), 0);
	send_flows(fx, 32, 1, -1); /* one MAC pair: one member */
	assert_true((fx->m[0]->sent == 32) != (fx->m[1]->sent == 32));
}

static void test_receive(void **state)
{
	struct fx *fx = *state;
	struct vw_aggr_mstats st;
	int got, i;

	/* member 0 collects, member 1 does not */
	assert_int_equal(vw_aggr_member_state(fx->aggr, 0, true, true), 0);
	for (i = 0; i < 3; i++) {
		tcp_frame(fx->m[0]->in[i], (unsigned)i, 1, 2, 3);
		fx->m[0]->in_len[i] = 64;
		tcp_frame(fx->m[1]->in[i], (unsigned)i, 1, 2, 3);
		fx->m[1]->in_len[i] = 64;
	}
	/* an LACPDU on member 0: not for the switch */
	fx->m[0]->in[3][12] = 0x88, fx->m[0]->in[3][13] = 0x09;
	fx->m[0]->in_len[3] = 124;
	fx->m[0]->nin = 4;
	fx->m[1]->nin = 3;
	got = fx->aggr->ops->rx_burst(fx->aggr, &fx->pool, fx->pk, VW_BATCH);
	assert_int_equal(got, 3);
	for (i = 0; i < got; i++)
		vw_pkt_free(&fx->pool, fx->pk[i]);
	assert_int_equal(fx->aggr->ops->rx_burst(fx->aggr, &fx->pool, fx->pk, VW_BATCH), 0);
	vw_aggr_member_stats(fx->aggr, 0, &st);
	assert_int_equal(st.rx_pkts, 3);
	assert_int_equal(st.rx_slow, 1);
	assert_int_equal(st.drop_notcoll, 0);
	vw_aggr_member_stats(fx->aggr, 1, &st);
	assert_int_equal(st.rx_pkts, 0);
	assert_int_equal(st.drop_notcoll, 3);
	/* a burst smaller than what waits: the rest comes next time */
	for (i = 0; i < 5; i++) {
		tcp_frame(fx->m[0]->in[i], (unsigned)i, 1, 2, 3);
		fx->m[0]->in_len[i] = 64;
	}
	fx->m[0]->nin = 5;
	got = fx->aggr->ops->rx_burst(fx->aggr, &fx->pool, fx->pk, 2);
	assert_int_equal(got, 2);
	for (i = 0; i < got; i++)
		vw_pkt_free(&fx->pool, fx->pk[i]);
	assert_int_equal(fx->m[0]->nin, 3);
}

static void test_bad_calls(void **state)
{
	struct fx *fx = *state;
	struct vw_aggr_mstats st;

	assert_int_equal(vw_aggr_member_state(fx->aggr, VW_AGGR_MAX, true, true), -EINVAL);
	assert_int_equal(vw_aggr_member_state(fx->aggr, 5, true, true), -EINVAL); /* no member 5 */
	struct mem *extra = mem_new();

	assert_int_equal(vw_aggr_member_set(fx->aggr, 1, &extra->port, 0), -EINVAL); /* taken */
	free(extra); /* not taken: still ours */
	vw_aggr_member_del(fx->aggr, 6); /* nothing */
	vw_aggr_member_stats(fx->aggr, 7, &st);
	assert_int_equal(st.tx_pkts + st.rx_pkts, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_distributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_connection_one_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_moves_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_l2_l3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
	};

	return cmocka_run_group_tests_name("aggr", tests, NULL, NULL);
}
