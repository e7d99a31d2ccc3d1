/*
 * Packet buffers and per-worker buffer pools.
 *
 * Ownership: every buffer belongs to exactly one pool, and every pool to one
 * worker thread; only that thread allocates from it or frees to it, so the
 * pool needs no lock.  A packet is owned by whoever holds the pointer within
 * one run of vw_switch_input() and is back in its pool when that returns;
 * the one exception is a shaped VNIC's queue (datapath/shape.h), which holds
 * its own copies and hands another worker's buffers back to it through a
 * return ring, never to a foreign pool.
 *
 * Layout of a buffer: the struct, then VW_PKT_HEADROOM bytes (room for a
 * virtio-net header in front of the frame and for a VLAN tag), then room for
 * a whole GSO super-frame (64 KiB), so TAP faces opened with IFF_VNET_HDR can
 * hand over segmentation-offload frames with their metadata intact.
 */
#ifndef VW_PKT_H
#define VW_PKT_H

#include <stdint.h>
#include <stddef.h>
#include <linux/virtio_net.h>

#define VW_PKT_HEADROOM 64
#define VW_PKT_DATA_MAX (65536 + 64) /* a GSO super-frame and its L2 header */
#define VW_BATCH 64                  /* packets read from one port at a time */

struct vw_pkt {
	uint8_t *data;    /* first byte of the Ethernet frame */
	uint32_t len;     /* frame length */
	uint16_t vid;     /* VLAN of the frame once classified (0: untagged) */
	uint16_t cls;     /* a copy handed to a shaped uplink: its egress class
			   * (datapath/shape.c); unused elsewhere */
	struct virtio_net_hdr_v1 vnet; /* offload metadata (all zero: none) */
	uint8_t head[VW_PKT_HEADROOM];
	uint8_t buf[VW_PKT_DATA_MAX];
};

struct vw_pool {
	struct vw_pkt **free; /* stack of free buffers */
	unsigned nfree;
	unsigned size;
	void *mem;
	size_t memlen;
};

/* Maps size buffers (pages are only touched when used). 0 or -errno. */
int vw_pool_init(struct vw_pool *p, unsigned size);
void vw_pool_fini(struct vw_pool *p);

static inline struct vw_pkt *vw_pkt_alloc(struct vw_pool *p)
{
	struct vw_pkt *pkt;

	if (!p->nfree)
		return NULL;
	pkt = p->free[--p->nfree];
	pkt->data = pkt->buf;
	pkt->len = 0;
	pkt->vid = 0;
	return pkt;
}

static inline void vw_pkt_free(struct vw_pool *p, struct vw_pkt *pkt)
{
	p->free[p->nfree++] = pkt;
}

#endif
