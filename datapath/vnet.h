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
#include <string.h>
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

/* Work left for whoever sends the frame: a checksum or segmentation. */
static inline bool vw_vnet_has_work(const struct virtio_net_hdr_v1 *h)
{
	return (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || vw_vnet_is_gso(h);
}

/* Copies an Ethernet frame of len bytes to dst with an 802.1Q tag for vid
 * after its addresses (none when vid is 0, or the frame is too short to
 * have them), moving h's offsets with the tag.  dst holds len + 4 bytes.
 * Returns the copy's length. */
static inline uint32_t vw_frame_copy(uint8_t *dst, const uint8_t *src, uint32_t len, uint16_t vid,
				     struct virtio_net_hdr_v1 *h)
{
	if (!vid || len < 12) {
		memcpy(dst, src, len);
		return len;
	}
	memcpy(dst, src, 12);
	dst[12] = 0x81;
	dst[13] = 0x00;
	dst[14] = (uint8_t)(vid >> 8);
	dst[15] = (uint8_t)vid;
	memcpy(dst + 16, src + 12, len - 12);
	vw_vnet_shift(h, 4);
	return len + 4;
}

#endif
