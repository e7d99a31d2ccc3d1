// SPDX-License-Identifier: GPL-2.0
/*
 * The vhost-user back-end (datapath/vhost.c, virtq.c, port_vhost.c)
 * against a scripted front-end (tests/unit/vhostpeer.h): the handshake as
 * QEMU makes it, frames both ways through the port's ops with their
 * virtio-net headers, merged receive buffers, used indexes and calls,
 * REPLY_ACK, GET_VRING_BASE, a guest that resets its device, the peer
 * going away and coming back (server and client mode), multiqueue, the
 * worker's polling and sleeping on the kick, and bad messages and bad
 * guest memory, each an error and never a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "datapath/pkt.h"
#include "datapath/port.h"
#include "datapath/port_vhost.h"
#include "tests/unit/vhostpeer.h"

/* the rings' flags (VRING_USED_F_NO_NOTIFY, VRING_AVAIL_F_NO_INTERRUPT);
 * test_event_idx negotiates event indexes */
#define NEG_FEATURES (VW_VHOST_FEATURES & ~(1ull << VIRTIO_RING_F_EVENT_IDX))

struct fixture {
	struct vpeer p;
	struct vw_port *port;
	struct vw_vhost *dev;
	struct vw_pool pool;
	int states[8];
	int nstates;
};

static void on_state(void *arg, enum vw_vhost_state st)
{
	struct fixture *f = arg;

	if (f->nstates < 8)
		f->states[f->nstates++] = (int)st;
}

static void run(struct fixture *f)
{
	vw_vhost_run(f->dev);
}

/* The handshake QEMU makes for nqp queue pairs, with features feat. */
static void negotiate(struct fixture *f, uint64_t feat, int nqp, bool protocol)
{
	uint64_t v;
	uint32_t req;
	int i;

	assert_int_equal(vpeer_send(&f->p, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0), 0);
	run(f);
	assert_int_equal(vpeer_recv(&f->p, &req, &v, 8), 8);
	assert_int_equal(req, VHOST_USER_GET_FEATURES);
	assert_int_equal(v, VW_VHOST_FEATURES);
	if (protocol) {
		vpeer_send(&f->p, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0);
		run(f);
		assert_int_equal(vpeer_recv(&f->p, NULL, &v, 8), 8);
		assert_int_equal(v, VW_VHOST_PROTOCOL_FEATURES);
		vpeer_send64(&f->p, VHOST_USER_SET_PROTOCOL_FEATURES, 0, v);
		vpeer_send(&f->p, VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0);
		run(f);
		assert_int_equal(vpeer_recv(&f->p, NULL, &v, 8), 8);
		assert_int_equal(v, VW_VHOST_MAX_QP);
	}
	vpeer_send(&f->p, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0);
	vpeer_send64(&f->p, VHOST_USER_SET_FEATURES, 0,
		     protocol ? feat | (1ull << VHOST_USER_F_PROTOCOL_FEATURES)
			      : feat & ~(1ull << VHOST_USER_F_PROTOCOL_FEATURES));
	assert_int_equal(vpeer_mem_table(&f->p, 0), 0);
	for (i = 0; i < 2 * nqp; i++)
		assert_int_equal(vpeer_ring(&f->p, i, 0), 0);
	if (protocol)
		for (i = 0; i < 2 * nqp; i++)
			vpeer_state(&f->p, VHOST_USER_SET_VRING_ENABLE, 0, (uint32_t)i, 1);
	run(f);
	assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_RUNNING);
	/* the device woke each transmit ring's worker once as it started */
	for (i = 1; i < 2 * nqp; i += 2)
		vpeer_count(f->p.kick[i]);
}

static int setup_fd(void **state, int nworkers)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vpeer_init(&f->p, sv[0], PEER_MEM), 0);
	f->port = vw_port_vhost_open_fd(sv[1], nworkers);
	assert_non_null(f->port);
	f->dev = vw_port_vhost_dev(f->port);
	vw_vhost_set_notify(f->dev, on_state, f);
	assert_int_equal(vw_pool_init(&f->pool, 256), 0);
	vw_worker_self = 0;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_fd(state, 1);
}

static int setup2(void **state)
{
	return setup_fd(state, 2);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vw_port_destroy(f->port);
	vpeer_fini(&f->p);
	vw_pool_fini(&f->pool);
	free(f);
	return 0;
}

static void fill(uint8_t *b, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(seed + i * 7);
	if (len >= 14) {
		memset(b, 0xff, 6); /* broadcast, from 02:.. */
		b[6] = 0x02;
		b[12] = 0x08;
		b[13] = 0x00;
	}
}

static void free_pkts(struct fixture *f, struct vw_pkt **pkts, int n)
{
	while (n--)
		vw_pkt_free(&f->pool, pkts[n]);
}

/* ---- frames both ways ---- */

static void test_guest_tx(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				       .hdr_len = 66, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	static uint8_t frame[9000];
	struct vw_pkt *pkts[VW_BATCH];
	int n, split;

	negotiate(f, NEG_FEATURES, 1, true);
	fill(frame, sizeof(frame), 1);
	for (split = 1; split <= 3; split++)
		vpeer_tx(&f->p, 1, &h, 12, frame, 1000 * (uint32_t)split, split);
	n = f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH);
	assert_int_equal(n, 3);
	for (split = 1; split <= 3; split++) {
		struct vw_pkt *pkt = pkts[split - 1];

		assert_int_equal(pkt->len, 1000 * split);
		assert_memory_equal(pkt->data, frame, pkt->len);
		assert_int_equal(pkt->vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
		assert_int_equal(pkt->vnet.gso_size, 1448);
		assert_int_equal(pkt->vnet.csum_start, 34);
		assert_int_equal(pkt->vnet.csum_offset, 16);
		assert_int_equal(pkt->vnet.hdr_len, 66);
	}
	free_pkts(f, pkts, n);
	/* chains given back, in one used update and one call */
	assert_int_equal(vpeer_used(&f->p, 1)->idx, 3);
	assert_int_equal(vpeer_used(&f->p, 1)->ring[0].id, 0);
	assert_int_equal(vpeer_used(&f->p, 1)->ring[1].id, 1);
	assert_int_equal(vpeer_used(&f->p, 1)->ring[2].id, 3);
	assert_int_equal(vpeer_count(f->p.call[1]), 1);
	/* a guest that asks for no interrupt gets none */
	vpeer_avail(&f->p, 1)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	vpeer_tx(&f->p, 1, &h, 12, frame, 60, 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
	free_pkts(f, pkts, 1);
	assert_int_equal(vpeer_used(&f->p, 1)->idx, 4);
	assert_int_equal(vpeer_count(f->p.call[1]), 0);
	/* a super-frame of 64 KiB crosses whole */
	vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 3);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
	assert_int_equal(pkts[0]->len, sizeof(frame));
	free_pkts(f, pkts, 1);
}

/* Writes frames to the port as the switch does. */
static int port_write(struct fixture *f, const uint8_t *frame, uint32_t len, const struct virtio_net_hdr_v1 *h, int n)
{
	struct vw_pkt *pkts[VW_BATCH];
	int i, sent;

	for (i = 0; i < n; i++) {
		pkts[i] = vw_pkt_alloc(&f->pool);
		memcpy(pkts[i]->data, frame, len);
		pkts[i]->len = len;
		pkts[i]->vnet = *h;
	}
	sent = f->port->ops->write(f->port, pkts, n, false);
	free_pkts(f, pkts, n);
	return sent;
}

/* The guest's copy of received frame from used entries [from, from+k). */
static uint32_t gather(struct fixture *f, uint16_t from, int k, uint8_t *out)
{
	struct vring_used *u = vpeer_used(&f->p, 0);
	uint32_t len = 0;
	int j;

	for (j = 0; j < k; j++) {
		struct vring_used_elem e = u->ring[(uint16_t)(from + j) % f->p.num];
		struct vring_desc *d = &vpeer_desc(&f->p, 0)[e.id];

		assert_true(e.len <= d->len);
		memcpy(out + len, f->p.mem + d->addr, e.len);
		len += e.len;
	}
	return len;
}

static void test_guest_rx_merged(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
				       .hdr_len = 86, .gso_size = 1428, .csum_start = 54, .csum_offset = 16 };
	static uint8_t frame[5000], got[12 + 5000 + 4096];
	struct virtio_net_hdr_v1 gh;
	uint32_t len;

	negotiate(f, NEG_FEATURES, 1, true);
	fill(frame, sizeof(frame), 9);
	vpeer_rx_post(&f->p, 0, 2048, 8);
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 2), 2);
	/* each frame over three buffers: 2048 + 2048 + 916 */
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 6);
	assert_int_equal(vpeer_used(&f->p, 0)->ring[0].len, 2048);
	assert_int_equal(vpeer_used(&f->p, 0)->ring[2].len, 12 + 5000 - 4096);
	len = gather(f, 0, 3, got);
	assert_int_equal(len, 12 + sizeof(frame));
	memcpy(&gh, got, 12);
	assert_int_equal(gh.num_buffers, 3);
	assert_int_equal(gh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(gh.gso_size, 1428);
	assert_int_equal(gh.csum_start, 54);
	assert_memory_equal(got + 12, frame, sizeof(frame));
	assert_int_equal(gather(f, 3, 3, got), 12 + sizeof(frame));
	assert_memory_equal(got + 12, frame, sizeof(frame));
	/* one call for the batch */
	assert_int_equal(vpeer_count(f->p.call[0]), 1);
	/* two buffers left: the next super-frame does not fit, and is dropped
	 * without taking them; a small frame still fits */
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 1), 0);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 6);
	memset(&h, 0, sizeof(h));
	assert_int_equal(port_write(f, frame, 100, &h, 1), 1);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 7);
	assert_int_equal(vpeer_used(&f->p, 0)->ring[6].len, 112);
}

static void test_guest_rx_unmerged(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { 0 }, gh;
	static uint8_t frame[3000], got[8192];
	struct vw_virtq_stats rs;
	struct vw_vhost_ctl_stats cs;

	negotiate(f, NEG_FEATURES & ~(1ull << VIRTIO_NET_F_MRG_RXBUF), 1, false);
	fill(frame, sizeof(frame), 3);
	vpeer_rx_post(&f->p, 0, 1600, 1);
	vpeer_rx_post(&f->p, 0, 4096, 1);
	/* 3000 bytes: the 1600-byte buffer is too small and kept, the frame
	 * goes to the next whole; then 1000 bytes fit the small one */
	assert_int_equal(port_write(f, frame, 3000, &h, 1), 0);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 0);
	vw_vhost_stats(f->dev, &rs, &cs);
	assert_int_equal(rs.no_room, 1);
	assert_int_equal(port_write(f, frame, 1000, &h, 1), 1);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 1);
	assert_int_equal(gather(f, 0, 1, got), 12 + 1000);
	memcpy(&gh, got, 12);
	assert_int_equal(gh.num_buffers, 1);
	assert_memory_equal(got + 12, frame, 1000);
}

/* A guest without offloads gets a super-frame cut into segments. */
static void test_guest_rx_soft_gso(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				       .hdr_len = 54, .gso_size = 1000, .csum_start = 34, .csum_offset = 16 };
	uint8_t frame[54 + 3000] = { 0 };
	uint64_t feat = NEG_FEATURES & ~((1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6) |
					 (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_ECN) |
					 (1ull << VIRTIO_NET_F_GUEST_USO4) | (1ull << VIRTIO_NET_F_GUEST_USO6));
	int i;

	negotiate(f, feat, 1, true);
	/* Ethernet, IPv4 (20), TCP (20) */
	memset(frame, 0xff, 6);
	frame[6] = 2;
	frame[12] = 0x08;
	frame[14] = 0x45;
	frame[16] = (uint8_t)((sizeof(frame) - 14) >> 8);
	frame[17] = (uint8_t)(sizeof(frame) - 14);
	frame[22] = 64;
	frame[23] = 6;
	frame[46] = 0x50;
	frame[47] = 0x18;
	vpeer_rx_post(&f->p, 0, 2048, 8);
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 1), 1);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 3);
	for (i = 0; i < 3; i++) {
		struct virtio_net_hdr_v1 gh;
		struct vring_used_elem e = vpeer_used(&f->p, 0)->ring[i];

		memcpy(&gh, f->p.mem + vpeer_desc(&f->p, 0)[e.id].addr, 12);
		assert_int_equal(gh.gso_type, 0);
		assert_int_equal(gh.flags, 0);
		assert_int_equal(e.len, 12 + 54 + 1000);
	}
}

/* ---- the protocol ---- */

static void test_reply_ack(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 99;

	negotiate(f, NEG_FEATURES, 1, true);
	vpeer_state(&f->p, VHOST_USER_SET_VRING_NUM, VHOST_USER_FLAG_NEED_REPLY, 2, 128);
	run(f);
	assert_int_equal(vpeer_recv(&f->p, NULL, &v, 8), 8);
	assert_int_equal(v, 0);
	/* a request that has a reply of its own gets only that */
	vpeer_send(&f->p, VHOST_USER_GET_FEATURES, VHOST_USER_FLAG_NEED_REPLY, NULL, 0, NULL, 0);
	run(f);
	assert_int_equal(vpeer_recv(&f->p, NULL, &v, 8), 8);
	assert_int_equal(v, VW_VHOST_FEATURES);
	assert_int_equal(vpeer_recv(&f->p, NULL, &v, 8), -1);
	/* a bad one: failure acknowledged, then the connection dropped */
	vpeer_state(&f->p, VHOST_USER_SET_VRING_NUM, VHOST_USER_FLAG_NEED_REPLY, 2, 100);
	run(f);
	assert_int_equal(vpeer_recv(&f->p, NULL, &v, 8), 8);
	assert_int_equal(v, 1);
	assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_DISCONNECTED);
}

static void test_get_vring_base_and_reset(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[100];
	struct vw_pkt *pkts[VW_BATCH];
	uint32_t st[2];
	int i;

	negotiate(f, NEG_FEATURES, 1, true);
	fill(frame, sizeof(frame), 5);
	for (i = 0; i < 5; i++)
		vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 5);
	free_pkts(f, pkts, 5);
	vpeer_rx_post(&f->p, 0, 2048, 4);
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 3), 3);
	/* the guest resets its device: QEMU stops every ring */
	vpeer_state(&f->p, VHOST_USER_GET_VRING_BASE, 0, 1, 0);
	run(f);
	assert_int_equal(vpeer_recv(&f->p, NULL, st, 8), 8);
	assert_int_equal(st[0], 1);
	assert_int_equal(st[1], 5);
	assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_CONNECTED);
	/* stopped: what the guest sends now stays in its ring */
	vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 0);
	assert_int_equal(vpeer_used(&f->p, 1)->idx, 5);
	vpeer_state(&f->p, VHOST_USER_GET_VRING_BASE, 0, 0, 0);
	run(f);
	assert_int_equal(vpeer_recv(&f->p, NULL, st, 8), 8);
	assert_int_equal(st[1], 3);
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 1), 0);
	/* a second negotiation, on fresh rings and a new memory table */
	close(f->p.memfd);
	munmap(f->p.mem, f->p.size);
	f->p.memfd = memfd_create("guest2", MFD_CLOEXEC);
	assert_int_equal(ftruncate(f->p.memfd, PEER_MEM), 0);
	f->p.mem = mmap(NULL, PEER_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, f->p.memfd, 0);
	memset(f->p.desc, 0, sizeof(f->p.desc));
	memset(f->p.buf, 0, sizeof(f->p.buf));
	vpeer_send64(&f->p, VHOST_USER_SET_FEATURES, 0, NEG_FEATURES & ~(1ull << VIRTIO_NET_F_MRG_RXBUF));
	vpeer_mem_table(&f->p, 0);
	vpeer_ring(&f->p, 0, 0);
	vpeer_ring(&f->p, 1, 0);
	run(f);
	assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_RUNNING);
	vpeer_count(f->p.kick[1]);
	vpeer_tx(&f->p, 1, &h, 12, frame, 60, 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
	assert_memory_equal(pkts[0]->data, frame, 60);
	free_pkts(f, pkts, 1);
	assert_int_equal(vpeer_used(&f->p, 1)->idx, 1);
	/* RESET_OWNER: everything dropped, the connection kept */
	vpeer_send(&f->p, VHOST_USER_RESET_OWNER, 0, NULL, 0, NULL, 0);
	run(f);
	assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_CONNECTED);
	assert_null(vw_vhost_map(f->dev));
}

/* The worker polls a busy ring with kicks off, and sleeps on the kick
 * once it has been idle: the kick set is then not readable. */
static void test_poll_then_sleep(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[64] = { 0 };
	struct vw_pkt *pkts[VW_BATCH];
	struct pollfd pfd = { .fd = f->port->fd, .events = POLLIN };
	struct timespec nap = { 0, 200000 };
	uint64_t one = 1;

	negotiate(f, NEG_FEATURES, 1, true);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(write(f->p.kick[1], &one, 8), 8);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
	free_pkts(f, pkts, 1);
	assert_int_equal(vpeer_used(&f->p, 1)->flags, VRING_USED_F_NO_NOTIFY);
	/* polling: readable without a kick, a frame found without one */
	assert_int_equal(poll(&pfd, 1, 0), 1);
	vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
	free_pkts(f, pkts, 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	nanosleep(&nap, NULL);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 0);
	/* idle: kicks on, nothing to wake the worker */
	assert_int_equal(vpeer_used(&f->p, 1)->flags, 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	/* the guest kicks for its next frame */
	vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(write(f->p.kick[1], &one, 8), 8);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
	free_pkts(f, pkts, 1);
}

/* Event indexes (VIRTIO_RING_F_EVENT_IDX): the guest is interrupted only
 * when the used index passes the used_event it wrote after its avail
 * ring, whatever its flags; while the worker polls a transmit ring the
 * guest is not asked to kick, and once it sleeps avail_event (after the
 * used ring) asks for a kick at the next entry. */
static void test_event_idx(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[64] = { 0 };
	struct vw_pkt *pkts[VW_BATCH];
	struct timespec nap = { 0, 200000 };
	volatile uint16_t *tx_used_event, *tx_avail_event, *rx_used_event;
	int i;

	negotiate(f, VW_VHOST_FEATURES, 1, true);
	tx_used_event = (volatile uint16_t *)&vpeer_avail(&f->p, 1)->ring[f->p.num];
	tx_avail_event = (volatile uint16_t *)&vpeer_used(&f->p, 1)->ring[f->p.num];
	rx_used_event = (volatile uint16_t *)&vpeer_avail(&f->p, 0)->ring[f->p.num];
	/* started: a kick asked for at the first entry */
	assert_int_equal(*tx_avail_event, 0);
	/* the guest wants to hear when entry 5 is used: not after 0..2 */
	*tx_used_event = 5;
	for (i = 0; i < 3; i++)
		vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 3);
	free_pkts(f, pkts, 3);
	assert_int_equal(vpeer_count(f->p.call[1]), 0);
	/* polling: avail_event stays behind, so the guest does not kick */
	assert_int_equal(*tx_avail_event, 0);
	/* the flag asking for no interrupt is not looked at: 3..5 pass 5 */
	vpeer_avail(&f->p, 1)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	for (i = 0; i < 3; i++)
		vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 3);
	free_pkts(f, pkts, 3);
	assert_int_equal(vpeer_used(&f->p, 1)->idx, 6);
	assert_int_equal(vpeer_count(f->p.call[1]), 1);
	/* idle: the worker asks for a kick at entry 6 */
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 0);
	nanosleep(&nap, NULL);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 0);
	assert_int_equal(*tx_avail_event, 6);
	/* receive ring: an interrupt once the second buffer is used */
	vpeer_rx_post(&f->p, 0, 2048, 4);
	*rx_used_event = 1;
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 1), 1);
	assert_int_equal(vpeer_count(f->p.call[0]), 0);
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 1), 1);
	assert_int_equal(vpeer_count(f->p.call[0]), 1);
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 1), 1);
	assert_int_equal(vpeer_count(f->p.call[0]), 0);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 3);
}

static void test_multiqueue(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[80];
	struct vw_pkt *pkts[VW_BATCH];
	int w;

	negotiate(f, NEG_FEATURES, 2, true);
	fill(frame, sizeof(frame), 7);
	vpeer_tx(&f->p, 1, &h, 12, frame, 70, 1);
	vpeer_tx(&f->p, 3, &h, 12, frame, 80, 1);
	vpeer_rx_post(&f->p, 0, 2048, 2);
	vpeer_rx_post(&f->p, 2, 2048, 2);
	for (w = 0; w < 2; w++) {
		vw_worker_self = w;
		/* worker w polls transmit ring 2w+1 only */
		assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
		assert_int_equal(pkts[0]->len, w ? 80 : 70);
		free_pkts(f, pkts, 1);
		/* and writes to receive ring 2w */
		assert_int_equal(port_write(f, frame, 60, &h, 1), 1);
		assert_int_equal(vpeer_used(&f->p, 2 * w)->idx, 1);
	}
	vw_worker_self = 0;
	/* the guest disables its second pair: both workers write to the first */
	vpeer_state(&f->p, VHOST_USER_SET_VRING_ENABLE, 0, 2, 0);
	vpeer_state(&f->p, VHOST_USER_SET_VRING_ENABLE, 0, 3, 0);
	run(f);
	vw_worker_self = 1;
	assert_int_equal(port_write(f, frame, 60, &h, 1), 1);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 2);
	assert_int_equal(vpeer_used(&f->p, 2)->idx, 1);
	vw_worker_self = 0;
}

/* ---- disconnect and reconnect over a real socket ---- */

static int unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 2), 0);
	return fd;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void reconnect_cycle(bool client)
{
	struct fixture fx = { 0 }, *f = &fx;
	char dir[] = "/tmp/vwvhostXXXXXX", path[128], err[256];
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[60] = { 1 };
	struct vw_pkt *pkts[VW_BATCH];
	int round, lfd = -1, ctl;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.sock", dir);
	if (client)
		lfd = unix_listen(path);
	f->port = vw_port_vhost_open(path, client, 1, err, sizeof(err));
	assert_non_null(f->port);
	f->dev = vw_port_vhost_dev(f->port);
	vw_vhost_set_notify(f->dev, on_state, f);
	assert_int_equal(vw_pool_init(&f->pool, 64), 0);
	ctl = vw_vhost_ctl_fd();
	assert_true(ctl >= 0);
	for (round = 0; round < 2; round++) {
		int s;

		if (client) {
			/* the device connected at open, then retries every second */
			if (round) {
				struct pollfd pfd = { .fd = lfd, .events = POLLIN };

				assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_DISCONNECTED);
				assert_true(vw_vhost_ctl_timeout() >= 0);
				while (poll(&pfd, 1, 0) == 0) {
					struct timespec nap = { 0, 20000000 };

					nanosleep(&nap, NULL);
					vw_vhost_ctl_run();
				}
			}
			s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		} else {
			s = unix_connect(path);
			vw_vhost_ctl_run();
		}
		assert_true(s >= 0);
		assert_int_equal(vpeer_init(&f->p, s, PEER_MEM), 0);
		assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_CONNECTED);
		negotiate(f, NEG_FEATURES, 1, true);
		vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
		assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
		free_pkts(f, pkts, 1);
		/* the front-end goes away */
		vpeer_fini(&f->p);
		vw_vhost_ctl_run();
		assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_DISCONNECTED);
		assert_null(vw_vhost_map(f->dev));
	}
	/* told of each: (connected,) running, ..., disconnected; a client
	 * connected as it opened, before it had anyone to tell */
	assert_int_equal(f->states[client ? 0 : 1], VW_VHOST_RUNNING);
	assert_int_equal(f->states[f->nstates - 1], VW_VHOST_DISCONNECTED);
	vw_port_destroy(f->port);
	vw_pool_fini(&f->pool);
	if (lfd >= 0)
		close(lfd);
	unlink(path);
	rmdir(dir);
}

static void test_reconnect_server(void **state)
{
	(void)state;
	reconnect_cycle(false);
}

static void test_reconnect_client(void **state)
{
	(void)state;
	reconnect_cycle(true);
}

/* ---- bad messages: each an error, the connection dropped ---- */

static void expect_dropped(struct fixture *f, uint64_t errors)
{
	struct vw_virtq_stats rs;
	struct vw_vhost_ctl_stats cs;

	run(f);
	assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_DISCONNECTED);
	vw_vhost_stats(f->dev, &rs, &cs);
	assert_int_equal(cs.errors, errors);
}

static void bad_case(int which)
{
	void *st;
	struct fixture *f;
	uint64_t v = 0;
	int fds[10], i;

	setup(&st);
	f = st;
	vw_vhost_log = 0;
	switch (which) {
	case 0: /* wrong size */
		vpeer_send(&f->p, VHOST_USER_SET_FEATURES, 0, &v, 4, NULL, 0);
		break;
	case 1: /* payload beyond the largest message */
		vpeer_send(&f->p, VHOST_USER_SET_VRING_ADDR, 0, (uint8_t[400]){ 0 }, 400, NULL, 0);
		break;
	case 2: /* an fd where none belongs */
		vpeer_send(&f->p, VHOST_USER_SET_FEATURES, 0, &v, 8, &f->p.memfd, 1);
		break;
	case 3: /* two fds for a kick */
		for (i = 0; i < 2; i++)
			fds[i] = eventfd(0, EFD_CLOEXEC);
		vpeer_send(&f->p, VHOST_USER_SET_VRING_KICK, 0, &v, 8, fds, 2);
		close(fds[0]);
		close(fds[1]);
		break;
	case 4: /* more fds than any message has */
		for (i = 0; i < 10; i++)
			fds[i] = eventfd(0, EFD_CLOEXEC);
		vpeer_send(&f->p, VHOST_USER_SET_VRING_CALL, 0, &v, 8, fds, 10);
		for (i = 0; i < 10; i++)
			close(fds[i]);
		break;
	case 5: /* ring size 0 */
		vpeer_state(&f->p, VHOST_USER_SET_VRING_NUM, 0, 0, 0);
		break;
	case 6: /* not a power of two */
		vpeer_state(&f->p, VHOST_USER_SET_VRING_NUM, 0, 0, 1000);
		break;
	case 7: /* beyond 32768 */
		vpeer_state(&f->p, VHOST_USER_SET_VRING_NUM, 0, 0, 65536);
		break;
	case 8: { /* a ring outside guest memory */
		uint8_t a[40] = { 0 };
		uint64_t addr[3] = { PEER_UVA + PEER_MEM, PEER_UVA, PEER_UVA + 0x1000 };

		vpeer_mem_table(&f->p, 0);
		vpeer_state(&f->p, VHOST_USER_SET_VRING_NUM, 0, 1, 256);
		memcpy(a + 8, addr, sizeof(addr));
		a[0] = 1;
		vpeer_send(&f->p, VHOST_USER_SET_VRING_ADDR, 0, a, 40, NULL, 0);
		break;
	}
	case 9: { /* a region larger than its file */
		uint8_t pl[40] = { 1 };
		uint64_t r[4] = { 0, PEER_MEM * 2ull, PEER_UVA, 0 };

		memcpy(pl + 8, r, sizeof(r));
		vpeer_send(&f->p, VHOST_USER_SET_MEM_TABLE, 0, pl, 40, &f->p.memfd, 1);
		break;
	}
	case 10: /* regions and fds that do not match */
		vpeer_send(&f->p, VHOST_USER_SET_MEM_TABLE, 0, (uint8_t[72]){ 2 }, 72, &f->p.memfd, 1);
		break;
	case 11: /* unknown request */
		vpeer_send(&f->p, 99, 0, NULL, 0, NULL, 0);
		break;
	case 12: /* ring index out of range */
		vpeer_state(&f->p, VHOST_USER_SET_VRING_BASE, 0, VW_VHOST_NVQ, 0);
		break;
	case 13: /* features never offered */
		vpeer_send64(&f->p, VHOST_USER_SET_FEATURES, 0, 1ull << 63);
		break;
	case 14: /* a kick that is no eventfd */
		vpeer_send(&f->p, VHOST_USER_SET_VRING_KICK, 0, &v, 8, &f->p.memfd, 1);
		break;
	case 15: /* wrong version */
		vpeer_send(&f->p, VHOST_USER_GET_FEATURES, 2, NULL, 0, NULL, 0);
		break;
	}
	expect_dropped(f, 1);
	vw_vhost_log = 1;
	teardown(&st);
}

static void test_bad_messages(void **state)
{
	int i;

	(void)state;
	for (i = 0; i <= 15; i++)
		bad_case(i);
}

/* A message cut short by the peer's end: a disconnection, no error. */
static void test_truncated(void **state)
{
	struct fixture *f = *state;
	uint32_t h[4] = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 8, 0 };

	assert_int_equal(send(f->p.sock, h, sizeof(h), 0), (ssize_t)sizeof(h));
	run(f);
	assert_int_equal(vw_vhost_state(f->dev), VW_VHOST_CONNECTED);
	shutdown(f->p.sock, SHUT_WR);
	expect_dropped(f, 0);
}

/* ---- bad guest memory: counted drops, the ring goes on ---- */

static void test_bad_chains(void **state)
{
	struct fixture *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[60] = { 0 };
	struct vw_pkt *pkts[VW_BATCH];
	struct vring_desc *d;
	struct vw_virtq_stats rs;
	struct vw_vhost_ctl_stats cs;
	uint16_t head;

	negotiate(f, NEG_FEATURES, 1, true);
	d = vpeer_desc(&f->p, 1);
	/* a loop */
	head = vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 2);
	d[head + 1].flags = VRING_DESC_F_NEXT;
	d[head + 1].next = head;
	/* outside memory */
	head = vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	d[head].addr = PEER_MEM + 4096;
	/* straddling the end of memory */
	head = vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	d[head].addr = PEER_MEM - 20;
	/* a next index out of range */
	head = vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	d[head].flags = VRING_DESC_F_NEXT;
	d[head].next = 300;
	/* an indirect table (not offered) */
	head = vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	d[head].flags = VRING_DESC_F_INDIRECT;
	/* a head out of range */
	vpeer_make_avail(&f->p, 1, 999);
	/* a frame without a whole header */
	head = vpeer_tx(&f->p, 1, &h, 12, frame, 0, 1);
	d[head].len = 6;
	/* and a good one */
	vpeer_tx(&f->p, 1, &h, 12, frame, sizeof(frame), 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 1);
	free_pkts(f, pkts, 1);
	vw_vhost_stats(f->dev, &rs, &cs);
	assert_int_equal(rs.bad_chain, 7);
	/* every chain with a valid head given back */
	assert_int_equal(vpeer_used(&f->p, 1)->idx, 7);
	/* receive side: a chain the device may not write, one outside
	 * memory; both given back empty, the frame in the third */
	vpeer_rx_post(&f->p, 0, 2048, 3);
	d = vpeer_desc(&f->p, 0);
	d[0].flags = 0;
	d[1].addr = PEER_MEM - 100;
	assert_int_equal(port_write(f, frame, sizeof(frame), &h, 1), 1);
	assert_int_equal(vpeer_used(&f->p, 0)->idx, 3);
	assert_int_equal(vpeer_used(&f->p, 0)->ring[0].len, 0);
	assert_int_equal(vpeer_used(&f->p, 0)->ring[1].len, 0);
	assert_int_equal(vpeer_used(&f->p, 0)->ring[2].len, 12 + sizeof(frame));
	/* an avail index far ahead: the ring is broken, no more served */
	vpeer_avail(&f->p, 1)->idx = (uint16_t)(vpeer_avail(&f->p, 1)->idx + 1000);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 0);
	vw_vhost_stats(f->dev, &rs, &cs);
	assert_int_equal(rs.broken, 1);
	assert_int_equal(f->port->ops->rx_burst(f->port, &f->pool, pkts, VW_BATCH), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_rx_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_rx_unmerged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_rx_soft_gso, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_vring_base_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_then_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiqueue, setup2, teardown),
		cmocka_unit_test(test_reconnect_server),
		cmocka_unit_test(test_reconnect_client),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chains, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
