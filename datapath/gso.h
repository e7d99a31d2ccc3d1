/*
 * Software offload fallback: segmentation (GSO) and checksum completion for
 * destinations that cannot take a frame's offload metadata -- a phys uplink
 * opened without a virtio-net header, a port mirror, a capture.
 *
 * A frame in the datapath may carry a virtio-net header (datapath/vnet.h)
 * saying that its TCP/UDP checksum is still to be filled in (NEEDS_CSUM,
 * csum_start/csum_offset) or that it is a super-frame to be cut into
 * gso_size-byte segments (TCPV4, TCPV6, UDP_L4 a.k.a. USO, with the ECN
 * bit for TCP).  vw_gso_segment() turns such a frame into frames a device
 * without offloads can send, with the semantics of the Linux kernel's
 * software GSO (tcp_gso_segment, __udp_gso_segment, skb_checksum_help):
 *
 *   TCP   every segment gets gso_size bytes of payload (the last one what is
 *         left), its sequence number advanced by the bytes before it, CWR
 *         only on the first segment, FIN and PSH only on the last;
 *   UDP   (UDP_L4) every segment is a datagram of its own: UDP length and
 *         checksum of its own (a computed 0 is sent as 0xffff);
 *   IP    IPv4 total length, ID (+1 per segment) and header checksum; IPv6
 *         payload length (hop-by-hop and destination options headers may
 *         sit between the IPv6 and the TCP/UDP header);
 *   L2    the Ethernet header is copied as it is, with up to two VLAN tags
 *         (802.1Q or 802.1ad) in front of the IP header: the header's offsets
 *         count from the first byte of the frame and include the tags.
 *
 * Segment checksums are computed from scratch (pseudo-header, L4 header,
 * payload); the value the sender left in the checksum field is not used, so
 * a GRO super-frame received from an uplink (DATA_VALID, no NEEDS_CSUM) is
 * cut as well as one a zone's stack sent.  A frame with NEEDS_CSUM and no
 * GSO is completed in place as the kernel does: the Internet checksum of the
 * bytes from csum_start to the end of the frame (or of the IP packet, when
 * the frame is longer) is stored at csum_start + csum_offset; the field
 * holds the pseudo-header sum the sender put there.
 *
 * Not handled: UFO (gso_type VIRTIO_NET_HDR_GSO_UDP, which cuts one UDP
 * datagram into IP fragments; Linux guests no longer send it) and IPv6
 * routing headers (the pseudo-header would take the final destination):
 * both -EOPNOTSUPP.  Tunnels (a TCP/UDP header inside another) are not
 * recognised: the outer header must be the TCP/UDP one.
 *
 * Threading: no state, no allocation; scratch belongs to the caller (one per
 * worker, VW_GSO_SCRATCH bytes and VW_GSO_SEGS_MAX segments are enough for
 * every super-frame a vw_pkt holds with gso_size >= 256).
 */
#ifndef VW_GSO_H
#define VW_GSO_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>
#include "datapath/pkt.h"

#define VW_GSO_SCRATCH (96 * 1024)
#define VW_GSO_SEGS_MAX 256

struct vw_seg {
	uint8_t *data; /* first byte of the Ethernet frame */
	uint32_t len;
};

/*
 * Turns frame (len bytes) with the offload metadata *vnet into frames
 * without offloads, described in segs[0..max-1].  Returns their number, or:
 *   -EINVAL      the header does not match the frame: an offset outside it
 *                (csum_start, csum_start + csum_offset + 2, hdr_len), an odd
 *                csum_offset, gso_size 0, an unknown gso_type, ECN on UDP, a
 *                GSO frame that is not IPv4/IPv6 + TCP/UDP as its gso_type
 *                says (or is an IPv4 fragment, or whose checksum offsets are
 *                not on its TCP/UDP checksum), a truncated header;
 *   -EOPNOTSUPP  UFO, or an IPv6 routing header in a GSO frame;
 *   -ENOSPC      more than max segments, or more than cap bytes of scratch.
 * On an error nothing has been written, neither frame nor scratch nor *vnet.
 *
 * Returns 1 with segs[0] = { frame, len } when the frame needs no cutting:
 * if it needed a checksum (NEEDS_CSUM, or a GSO frame whose payload fits in
 * one segment), that was done in place and *vnet was cleared, so the frame
 * is now an ordinary one for every destination, offloading or not.  A frame
 * with no offload (flags 0 or DATA_VALID, gso_type NONE) is left alone.
 * Returns n > 1 with the segments written one after the other into scratch;
 * the frame and *vnet are left alone (an offloading destination can still
 * take the super-frame), and the segments go out with an all-zero
 * virtio-net header.  Call it before the frame is queued anywhere with a
 * copy of its old header, since the in-place case changes the frame.
 */
int vw_gso_segment(struct virtio_net_hdr_v1 *vnet, uint8_t *frame, uint32_t len,
		   uint8_t *scratch, size_t cap, struct vw_seg *segs, int max);

/*
 * Per-worker scratch of vw_gso_cut(): the copy of the frame, and the
 * segments cut from it.  About 160 KiB; allocate one per thread.
 */
struct vw_gso_scratch {
	struct vw_seg segs[VW_GSO_SEGS_MAX];
	uint8_t frame[VW_PKT_DATA_MAX + 4];
	uint8_t out[VW_GSO_SCRATCH];
};

/*
 * vw_gso_segment() on a copy: for a frame that may be going to other
 * destinations too, and so must not change.  The copy gets an 802.1Q tag
 * for vid (0: none) first; *vnet is the caller's copy of the frame's
 * header, updated as vw_gso_segment() updates it.  Returns what that
 * returns (the frames in s->segs, pointing into s), or -EINVAL when the
 * frame is too long for the scratch.
 */
int vw_gso_cut(struct virtio_net_hdr_v1 *vnet, const uint8_t *frame, uint32_t len, uint16_t vid,
	       struct vw_gso_scratch *s, int max);

/*
 * The Internet checksum (RFC 1071), for captures and mirrors too.  A
 * partial sum is a 32-bit one's complement sum of 16-bit words as they lie
 * in memory (no byte swapping); partial sums of consecutive pieces add up as
 * long as every piece but the last has an even length.  vw_csum_fold()
 * gives the checksum to store as it is (memcpy) into the frame.
 */
uint32_t vw_csum_partial(const void *buf, size_t len, uint32_t sum);
/* vw_csum_partial() of src while copying it to dst (one pass). */
uint32_t vw_csum_copy(void *dst, const void *src, size_t len, uint32_t sum);
/* Pseudo-header sums: addresses as they lie in the IP header, proto an IP
 * protocol number, len the TCP/UDP length (header and payload). */
uint32_t vw_csum_pseudo4(const uint8_t *saddr, const uint8_t *daddr, uint8_t proto, uint32_t len);
uint32_t vw_csum_pseudo6(const uint8_t *saddr, const uint8_t *daddr, uint8_t proto, uint32_t len);

static inline uint16_t vw_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The length of the longest frame this one turns into: len, or for a GSO
 * super-frame its headers (Ethernet, IP, TCP with options or UDP) plus
 * gso_size, at most len.  A super-frame whose headers do not parse is taken
 * at len.  What the switch's MTU checks compare (datapath/vswitch.h).
 */
uint32_t vw_gso_seglen(const struct virtio_net_hdr_v1 *vnet, const uint8_t *frame, uint32_t len);

#endif
