/*
 * virtio-net header helpers: the offload metadata that travels with a frame
 * between TAP faces (IFF_VNET_HDR) and AF_PACKET uplinks (PACKET_VNET_HDR).
 *
 * Frames keep their offload state across the switch: a TCP or UDP
 * super-frame (GSO) or a frame whose checksum is still to be filled in
 * (NEEDS_CSUM) is handed to its destinations as it came, and the kernel on
 * the far side finishes the work, or never needs to (another TAP face takes
 * the super-frame whole).  When the switch inserts or strips an 802.1Q tag
 * the header offsets (csum_start, hdr_len) move by four bytes with it.
 * Headers are little-endian, as the kernel writes them on every machine we
 * build for (legacy virtio byte order on x86 and arm64).
 */
#ifndef VW_VNET_H
#define VW_VNET_H

#include <endian.h>
#include <stdbool.h>
#include <linux/virtio_net.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* Moves the header's offsets by delta bytes (+4: a tag was inserted before
 * the network header; -4: one was removed). */
static inline void vw_vnet_shift(struct virtio_net_hdr_v1 *h, int delta)
{
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		h->csum_start = htole16((uint16_t)(le16toh(h->csum_start) + delta));
	if (h->hdr_len)
		h->hdr_len = htole16((uint16_t)(le16toh(h->hdr_len) + delta));
}

static inline bool vw_vnet_is_gso(const struct virtio_net_hdr_v1 *h)
{
	return (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
}

#endif
