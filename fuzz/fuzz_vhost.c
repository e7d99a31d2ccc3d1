/*
 * The vhost-user back-end (datapath/vhost.c, virtq.c, port_vhost.c) under
 * a hostile front-end and a hostile guest: the input is a script of
 * operations run against a port over a socketpair, with guest memory from
 * memfd_create (tests/unit/vhostpeer.h lays it out).  The first byte says
 * whether the script starts from a device set up as QEMU sets one up (one
 * queue pair, rings running) or from a bare connection.  Then, each
 * operation a byte and its arguments:
 *
 *   0  a message: request, flags, payload size (<= 255) and payload, with
 *      0, 1 or 2 fds (the guest memory's memfd, or eventfds) by flags
 *   1  guest memory written: an offset into the rings' area and bytes (the
 *      guest rewriting descriptors, indexes, flags under us)
 *   2  the worker reads the port (rx_burst)
 *   3  the switch writes a frame to the port, with a header from the input
 *   4  the guest sends a frame (a well-formed chain)
 *   5  the guest posts receive buffers
 *
 * Checked: nothing crashes or leaks; a frame read is no longer than a
 * buffer; after a connection is dropped no ring runs.
 */
#include "fuzz/fuzz.h"
#include "datapath/pkt.h"
#include "datapath/port.h"
#include "datapath/port_vhost.h"
#include "tests/unit/vhostpeer.h"

#define FUZZ_MEM (2u << 20)

struct in {
	const uint8_t *p;
	size_t n;
};

static int take(struct in *in)
{
	if (!in->n)
		return -1;
	in->n--;
	return *in->p++;
}

static size_t take_bytes(struct in *in, void *dst, size_t len)
{
	if (len > in->n)
		len = in->n;
	memcpy(dst, in->p, len);
	in->p += len;
	in->n -= len;
	return len;
}

static void drain(struct vpeer *p)
{
	uint8_t b[512];

	while (recv(p->sock, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

static void setup_qemu(struct vpeer *p, struct vw_vhost *dev)
{
	vpeer_send64(p, VHOST_USER_SET_PROTOCOL_FEATURES, 0, VW_VHOST_PROTOCOL_FEATURES);
	vpeer_send64(p, VHOST_USER_SET_FEATURES, 0, VW_VHOST_FEATURES);
	vpeer_mem_table(p, 0);
	vpeer_ring(p, 0, 0);
	vpeer_ring(p, 1, 0);
	vpeer_state(p, VHOST_USER_SET_VRING_ENABLE, 0, 0, 1);
	vpeer_state(p, VHOST_USER_SET_VRING_ENABLE, 0, 1, 1);
	vw_vhost_run(dev);
	drain(p);
}

static void op_message(struct in *in, struct vpeer *p, struct vw_vhost *dev)
{
	uint8_t pl[256];
	int req = take(in), flags = take(in), size = take(in), fds[2], nfds, i;

	if (req < 0 || flags < 0 || size < 0)
		return;
	size = (int)take_bytes(in, pl, (size_t)size);
	nfds = (flags >> 4) % 3;
	for (i = 0; i < nfds; i++)
		fds[i] = (flags & 0x40) ? dup(p->memfd) : eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vpeer_send(p, (uint32_t)req, (uint32_t)(flags & 0x8), pl, (uint32_t)size, fds, nfds);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	vw_vhost_run(dev);
	drain(p);
}

static void op_poke(struct in *in, struct vpeer *p)
{
	uint8_t b[64];
	int hi = take(in), lo = take(in), len = take(in);
	uint32_t off;

	if (hi < 0 || lo < 0 || len < 0)
		return;
	/* rings 0 and 1: 0x00000..0x1ffff */
	off = ((uint32_t)(hi & 0x1f) << 12) | (uint32_t)lo << 4;
	len = (int)take_bytes(in, b, (size_t)(len % 64));
	memcpy(p->mem + off, b, (size_t)len);
}

static void op_read(struct vw_port *port, struct vw_pool *pool)
{
	struct vw_pkt *pkts[VW_BATCH];
	int n = port->ops->rx_burst(port, pool, pkts, VW_BATCH), i;

	FUZZ_CHECK(n >= 0 && n <= VW_BATCH, "rx_burst returned %d", n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(pkts[i]->len <= VW_PKT_DATA_MAX, "frame of %u bytes", pkts[i]->len);
		vw_pkt_free(pool, pkts[i]);
	}
}

static void op_write(struct in *in, struct vw_port *port, struct vw_pool *pool)
{
	struct vw_pkt *pkt = vw_pkt_alloc(pool);
	int hi = take(in), lo = take(in), tag = take(in);
	uint32_t len, i;

	if (!pkt)
		return;
	if (hi < 0 || lo < 0 || tag < 0) {
		vw_pkt_free(pool, pkt);
		return;
	}
	len = ((uint32_t)hi << 8 | (uint32_t)lo) * 3 % VW_PKT_DATA_MAX;
	memset(&pkt->vnet, 0, sizeof(pkt->vnet));
	take_bytes(in, &pkt->vnet, sizeof(pkt->vnet));
	i = (uint32_t)take_bytes(in, pkt->data, len < 128 ? len : 128);
	for (; i < len; i++)
		pkt->data[i] = (uint8_t)i;
	pkt->len = len;
	pkt->vid = (uint16_t)(tag & 0xf);
	FUZZ_CHECK(port->ops->write(port, &pkt, 1, tag & 0x80) <= 1, "write took more than it was given");
	vw_pkt_free(pool, pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct vpeer p;
	struct vw_port *port;
	struct vw_vhost *dev;
	struct vw_pool pool;
	int sv[2], mode, op, steps = 0;

	if (size > 8192 || (mode = take(&in)) < 0)
		return 0;
	vw_vhost_log = 0;
	vw_worker_self = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (vpeer_init(&p, sv[0], FUZZ_MEM) < 0 || vw_pool_init(&pool, 128) < 0)
		abort();
	port = vw_port_vhost_open_fd(sv[1], 1);
	if (!port)
		abort();
	dev = vw_port_vhost_dev(port);
	if (mode & 1)
		setup_qemu(&p, dev);
	while ((op = take(&in)) >= 0 && steps++ < 256) {
		switch (op % 6) {
		case 0:
			op_message(&in, &p, dev);
			break;
		case 1:
			op_poke(&in, &p);
			break;
		case 2:
			op_read(port, &pool);
			break;
		case 3:
			op_write(&in, port, &pool);
			break;
		case 4: {
			uint8_t frame[200], h[12] = { 0 };
			int len = take(&in);

			if (len < 0)
				break;
			memset(frame, len, sizeof(frame));
			vpeer_tx(&p, 1, h, 12, frame, (uint32_t)len % 200, 1 + len % 3);
			break;
		}
		case 5: {
			int room = take(&in);

			if (room < 0)
				break;
			vpeer_rx_post(&p, 0, 16u * (uint32_t)room + 1, 1 + room % 4);
			break;
		}
		}
		if (vw_vhost_state(dev) == VW_VHOST_DISCONNECTED) {
			FUZZ_CHECK(!vw_vhost_map(dev), "rings still published after the connection dropped");
			break;
		}
	}
	vw_port_destroy(port);
	vpeer_fini(&p);
	vw_pool_fini(&pool);
	return 0;
}
