/*
 * GSO cutting and checksum completion (datapath/gso.c): a frame and the
 * virtio-net header that came with it, cut by vw_gso_segment() (or, mode
 * bit 2, by vw_gso_cut() on a copy with an 802.1Q tag inserted).
 *
 * Input: the 12-byte virtio_net_hdr_v1 as the kernel writes it
 * (little-endian), a mode byte, a VID (2 bytes, big-endian), the frame.
 * Mode bits: 1 make the frame and header agree first, as a sending stack
 * would (IP lengths, IPv4 header checksum, csum_start/csum_offset on the
 * TCP/UDP checksum holding the pseudo-header sum, hdr_len, a gso_type that
 * matches the packet when the input's is not NONE); 2 vw_gso_cut() with the
 * VID; 4 at most 4 segments.
 *
 * Checked: errors change nothing; one segment is the frame itself, done in
 * place (and then carries right checksums if it was consistent); several
 * segments each hold the headers and at most gso_size bytes of payload
 * (all but the last exactly gso_size), their payloads put together are the
 * super-frame's, and each parses with its own IP length, a right IPv4
 * header checksum and TCP/UDP checksum, TCP sequence numbers advancing by
 * the payload before them, CWR only on the first segment and FIN/PSH only
 * on the last.
 */
#include <endian.h>
#include <errno.h>

#include "fuzz/frame.h"
#include "datapath/gso.h"
#include "datapath/vnet.h"
#include "lib/bytes.h"

#define M_CONSISTENT 1
#define M_CUT 2
#define M_FEWSEGS 4

static uint8_t scratch[VW_GSO_SCRATCH];
static struct vw_seg segs[VW_GSO_SEGS_MAX];
static struct vw_gso_scratch gs;

/* As a sending stack leaves a frame with offloads (see mode bit 1); false
 * when the frame is not a TCP/UDP packet that could be made so. */
static bool make_consistent(uint8_t *f, uint32_t len, struct virtio_net_hdr_v1 *h)
{
	struct vw_pktinfo pi;
	uint32_t l3 = VW_ETH_HLEN, c;
	int tags;

	for (tags = 0; tags < 2 && l3 + 4 <= len; tags++) {
		uint16_t t = vw_get16(f + l3 - 2);

		if (t != VW_ETHERTYPE_8021Q && t != VW_ETHERTYPE_8021AD)
			break;
		l3 += 4;
	}
	if (l3 > len)
		return false;
	if (vw_get16(f + l3 - 2) == VW_ETHERTYPE_IPV4 && l3 + 20 <= len && len - l3 <= 0xffff)
		vw_put16(f + l3 + 2, (uint16_t)(len - l3));
	else if (vw_get16(f + l3 - 2) == VW_ETHERTYPE_IPV6 && l3 + 40 <= len && len - l3 - 40 <= 0xffff)
		vw_put16(f + l3 + 4, (uint16_t)(len - l3 - 40));
	if (vw_pkt_parse(f, len, &pi) != VW_PP_OK || !pi.l4 || pi.ip_end != len ||
	    (pi.proto != VW_IPPROTO_TCP && pi.proto != VW_IPPROTO_UDP))
		return false;
	if (pi.ipver == 4) {
		f[pi.l3 + 10] = f[pi.l3 + 11] = 0;
		c = (uint16_t)~ref_fold(ref_sum(f + pi.l3, (f[pi.l3] & 0xfu) * 4, 0));
		vw_put16(f + pi.l3 + 10, (uint16_t)c);
	}
	c = pi.l4 + (pi.proto == VW_IPPROTO_TCP ? 16u : 6u);
	vw_put16(f + c, ref_fold(fuzz_pseudo_sum(f, &pi)));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = htole16(pi.l4);
	h->csum_offset = htole16(pi.proto == VW_IPPROTO_TCP ? 16 : 6);
	h->hdr_len = htole16(pi.l4 + pi.l4hlen);
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		if (pi.proto == VW_IPPROTO_UDP)
			h->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
		else
			h->gso_type = (uint8_t)((pi.ipver == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) |
						(h->gso_type & VIRTIO_NET_HDR_GSO_ECN));
	}
	return true;
}

/* A single frame, in place: right checksums when it was consistent. */
static void check_one(const uint8_t *f, uint32_t len, const struct virtio_net_hdr_v1 *before,
		      const struct virtio_net_hdr_v1 *after, int consistent)
{
	static const struct virtio_net_hdr_v1 zero;
	struct vw_pktinfo pi;

	if (!vw_vnet_has_work(before)) {
		FUZZ_CHECK(!memcmp(before, after, sizeof(*after)), "header of a frame without offloads changed");
		return;
	}
	FUZZ_CHECK(!memcmp(after, &zero, sizeof(zero)), "header not cleared after the work was done");
	if (!consistent || vw_pkt_parse(f, len, &pi) != VW_PP_OK || !pi.l4 || pi.ip_end != len ||
	    (pi.proto != VW_IPPROTO_TCP && pi.proto != VW_IPPROTO_UDP))
		return;
	FUZZ_CHECK(fuzz_l4_csum_ok(f, &pi), "checksum wrong after completion (%u bytes)", len);
	if (pi.ipver == 4)
		FUZZ_CHECK(fuzz_ipv4_csum_ok(f, &pi), "IPv4 header checksum wrong after completion");
}

static void check_segs(const uint8_t *f, uint32_t len, const struct virtio_net_hdr_v1 *h, struct vw_seg *sg, int n,
		       size_t cap)
{
	uint32_t mss = le16toh(h->gso_size), hlen, seq0 = 0, total = 0, i;
	struct vw_pktinfo p0, pi;
	int parsed;
	size_t bytes = 0;

	FUZZ_CHECK(mss && sg[0].len > mss, "first segment %u bytes, mss %u", sg[0].len, mss);
	hlen = sg[0].len - mss;
	FUZZ_CHECK(hlen >= VW_ETH_HLEN + 20 && hlen < len, "header length %u of a %u-byte frame", hlen, len);
	parsed = vw_pkt_parse(f, hlen, &p0) == VW_PP_OK || vw_pkt_parse(sg[0].data, sg[0].len, &p0) == VW_PP_OK;
	if (parsed && p0.proto == VW_IPPROTO_TCP)
		seq0 = vw_get32(f + p0.l4 + 4);
	for (i = 0; i < (uint32_t)n; i++) {
		uint32_t plen = sg[i].len - hlen;

		bytes += sg[i].len;
		FUZZ_CHECK(sg[i].len > hlen && plen <= mss, "segment %u: %u bytes, headers %u, mss %u", i, sg[i].len,
			   hlen, mss);
		FUZZ_CHECK(i + 1 == (uint32_t)n || plen == mss, "segment %u of %d has %u bytes of payload, mss %u", i, n,
			   plen, mss);
		FUZZ_CHECK(!memcmp(sg[i].data + hlen, f + hlen + total, plen), "segment %u payload differs", i);
		FUZZ_CHECK(!memcmp(sg[i].data, f, VW_ETH_HLEN - 2), "segment %u MACs differ", i);
		total += plen;
		if (vw_pkt_parse(sg[i].data, sg[i].len, &pi) != VW_PP_OK)
			continue; /* more IPv6 extension headers than the parser walks */
		FUZZ_CHECK(pi.ip_end == sg[i].len && pi.l4 + pi.l4hlen == hlen, "segment %u: ip_end %u, headers %u+%u", i,
			   pi.ip_end, pi.l4, pi.l4hlen);
		FUZZ_CHECK(fuzz_l4_csum_ok(sg[i].data, &pi), "segment %u: wrong L4 checksum", i);
		if (pi.ipver == 4)
			FUZZ_CHECK(fuzz_ipv4_csum_ok(sg[i].data, &pi), "segment %u: wrong IPv4 checksum", i);
		if (pi.proto == VW_IPPROTO_TCP) {
			uint8_t fl = sg[i].data[pi.l4 + 13], orig = f[pi.l4 + 13];

			FUZZ_CHECK(!parsed || vw_get32(sg[i].data + pi.l4 + 4) == seq0 + i * mss, "segment %u: seq", i);
			FUZZ_CHECK(!(fl & VW_TCP_CWR) || (i == 0 && (orig & VW_TCP_CWR)), "segment %u: CWR", i);
			FUZZ_CHECK(!(fl & (VW_TCP_FIN | VW_TCP_PSH)) || i + 1 == (uint32_t)n, "segment %u: FIN/PSH", i);
			FUZZ_CHECK((fl & ~(VW_TCP_CWR | VW_TCP_FIN | VW_TCP_PSH)) == (orig & ~(VW_TCP_CWR | VW_TCP_FIN | VW_TCP_PSH)),
				   "segment %u: flags %#x from %#x", i, fl, orig);
		} else if (pi.proto == VW_IPPROTO_UDP) {
			FUZZ_CHECK(vw_get16(sg[i].data + pi.l4 + 4) == sg[i].len - pi.l4, "segment %u: UDP length", i);
		}
	}
	FUZZ_CHECK(hlen + total == len, "payloads add up to %u of %u", total, len - hlen);
	FUZZ_CHECK(bytes <= cap, "%zu bytes of segments in %zu of scratch", bytes, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr_v1 h, h0;
	uint8_t mode, *f, *frame;
	bool consistent = false;
	uint16_t vid;
	uint32_t len;
	int n, max;

	if (size < sizeof(h) + 3 || size > sizeof(h) + 3 + 65536 + 64)
		return 0;
	memcpy(&h, data, sizeof(h));
	mode = data[sizeof(h)];
	vid = (uint16_t)((data[sizeof(h) + 1] << 8 | data[sizeof(h) + 2]) & 0xfff);
	data += sizeof(h) + 3;
	len = (uint32_t)(size - sizeof(h) - 3);
	f = malloc(len ? len : 1);
	if (!f)
		return 0;
	memcpy(f, data, len);
	if (mode & M_CONSISTENT)
		consistent = make_consistent(f, len, &h);
	max = mode & M_FEWSEGS ? 4 : VW_GSO_SEGS_MAX;
	h0 = h;
	if (mode & M_CUT) {
		uint8_t *copy = malloc(len ? len : 1);
		uint32_t clen;

		if (!copy) {
			free(f);
			return 0;
		}
		memcpy(copy, f, len);
		n = vw_gso_cut(&h, f, len, vid, &gs, max);
		FUZZ_CHECK(!memcmp(copy, f, len), "vw_gso_cut changed the caller's frame");
		free(copy);
		if (n == -EINVAL && len + 4 > sizeof(gs.frame)) {
			free(f);
			return 0;
		}
		/* what vw_gso_segment() got: the tagged copy, header shifted */
		clen = vid && len >= 12 ? len + 4 : len;
		frame = gs.frame;
		if (vid && len >= 12)
			vw_vnet_shift(&h0, 4);
		if (n > 1) {
			FUZZ_CHECK(!memcmp(&h0, &h, sizeof(h)), "header changed although segments were made");
			check_segs(frame, clen, &h0, gs.segs, n, sizeof(gs.out));
		} else if (n == 1) {
			FUZZ_CHECK(gs.segs[0].data == frame && gs.segs[0].len == clen, "one segment is not the frame");
			check_one(frame, clen, &h0, &h, consistent);
		}
	} else {
		uint8_t *copy = malloc(len ? len : 1);

		if (!copy) {
			free(f);
			return 0;
		}
		memcpy(copy, f, len);
		n = vw_gso_segment(&h, f, len, scratch, sizeof(scratch), segs, max);
		if (n < 0 || n > 1) {
			FUZZ_CHECK(!memcmp(copy, f, len) && !memcmp(&h0, &h, sizeof(h)), "frame or header changed (%d)", n);
		}
		if (n > 1)
			check_segs(f, len, &h, segs, n, sizeof(scratch));
		else if (n == 1) {
			FUZZ_CHECK(segs[0].data == f && segs[0].len == len, "one segment is not the frame");
			if (!vw_vnet_has_work(&h0))
				FUZZ_CHECK(!memcmp(copy, f, len), "frame without offloads changed");
			check_one(f, len, &h0, &h, consistent);
		}
		free(copy);
	}
	FUZZ_CHECK(n == -EINVAL || n == -EOPNOTSUPP || n == -ENOSPC || (n >= 1 && n <= max), "returned %d (max %d)", n,
		   max);
	free(f);
	return 0;
}
