/*
 * Software segmentation and checksum completion (see gso.h).
 *
 * Everything is validated before anything is written, so an error leaves
 * the frame, the scratch area and the header as they were.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "datapath/gso.h"
#include "datapath/pktparse.h"
#include "datapath/vnet.h"
#include "lib/bytes.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define VLAN_TAGS_MAX 2

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_DSTOPTS 60

#define TCP_CWR 0x80
#define TCP_PSH 0x08
#define TCP_FIN 0x01

/* ---- Internet checksum ---- */

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The accumulators take 32-bit halves of 64-bit words, so they cannot
 * overflow below 2^32 additions (16 GiB); the carries out of bit 31 go back
 * in once, here. */
static inline uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

#define HALVES(v) (((v) & 0xffffffff) + ((v) >> 32))

static inline uint64_t sum_tail(const uint8_t *p, size_t len, uint64_t s)
{
	uint16_t last = 0;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v = ld64(p);

		s += HALVES(v);
	}
	if (len >= 4) {
		s += ld32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		s += ld16(p);
		p += 2;
		len -= 2;
	}
	if (len) {  /* the first byte of a 16-bit word, the second one zero */
		memcpy(&last, p, 1);
		s += last;
	}
	return s;
}

uint32_t vw_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s0 = sum, s1 = 0;

	/* Two independent accumulators keep two adders busy. */
	for (; len >= 32; p += 32, len -= 32) {
		uint64_t a = ld64(p), b = ld64(p + 8), c = ld64(p + 16), d = ld64(p + 24);

		s0 += HALVES(a) + HALVES(b);
		s1 += HALVES(c) + HALVES(d);
	}
	return fold64(sum_tail(p, len, s0 + s1));
}

uint32_t vw_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
	const uint8_t *p = src;
	uint8_t *q = dst;
	uint64_t s0 = sum, s1 = 0;

	for (; len >= 32; p += 32, q += 32, len -= 32) {
		uint64_t a = ld64(p), b = ld64(p + 8), c = ld64(p + 16), d = ld64(p + 24);

		memcpy(q, &a, 8);
		memcpy(q + 8, &b, 8);
		memcpy(q + 16, &c, 8);
		memcpy(q + 24, &d, 8);
		s0 += HALVES(a) + HALVES(b);
		s1 += HALVES(c) + HALVES(d);
	}
	memcpy(q, p, len);
	return fold64(sum_tail(p, len, s0 + s1));
}

uint32_t vw_csum_pseudo4(const uint8_t *saddr, const uint8_t *daddr, uint8_t proto, uint32_t len)
{
	uint64_t s = (uint64_t)ld32(saddr) + ld32(daddr);

	s += htobe16(proto) + htobe16((uint16_t)len);
	return fold64(s);
}

uint32_t vw_csum_pseudo6(const uint8_t *saddr, const uint8_t *daddr, uint8_t proto, uint32_t len)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < 16; i += 4)
		s += (uint64_t)ld32(saddr + i) + ld32(daddr + i);
	s += (uint64_t)htobe32(len) + htobe32(proto);
	return fold64(s);
}

/* ---- header parsing ---- */

static inline void put_csum(uint8_t *p, uint16_t csum)
{
	memcpy(p, &csum, 2);
}

/* Where the headers of a GSO frame are. */
struct layout {
	uint32_t l3;    /* IP header */
	uint32_t l4;    /* TCP/UDP header */
	uint32_t hlen;  /* all headers: the payload starts here */
	uint8_t ipv6;
	uint8_t proto;
};

/* The network header's offset and ethertype, past up to two VLAN tags;
 * 0 when the frame ends inside its L2 header. */
static uint32_t parse_l2(const uint8_t *f, uint32_t len, uint16_t *type)
{
	uint32_t off = 12;
	int tags;

	for (tags = 0;; tags++) {
		if (off + 2 > len)
			return 0;
		*type = vw_get16(f + off);
		if ((*type != ETHERTYPE_8021Q && *type != ETHERTYPE_8021AD) || tags == VLAN_TAGS_MAX)
			return off + 2;
		off += 4;
	}
}

/* Fills lay->l3, l4, ipv6 and proto for a GSO frame. */
static int parse_ip(const uint8_t *f, uint32_t len, struct layout *lay)
{
	uint16_t type;
	uint32_t off = parse_l2(f, len, &type);
	uint8_t next;

	if (!off)
		return -EINVAL;
	lay->l3 = off;
	if (type == ETHERTYPE_IPV4) {
		uint32_t ihl;

		if (off + 20 > len || f[off] >> 4 != 4)
			return -EINVAL;
		ihl = (f[off] & 0xf) * 4u;
		if (ihl < 20 || off + ihl > len)
			return -EINVAL;
		if (vw_get16(f + off + 6) & 0x3fff)  /* MF or a fragment offset */
			return -EINVAL;
		lay->ipv6 = 0;
		lay->proto = f[off + 9];
		lay->l4 = off + ihl;
		return 0;
	}
	if (type != ETHERTYPE_IPV6)
		return -EINVAL;
	if (off + 40 > len || f[off] >> 4 != 6)
		return -EINVAL;
	next = f[off + 6];
	off += 40;
	while (next == PROTO_HOPOPTS || next == PROTO_DSTOPTS) {
		if (off + 8 > len)
			return -EINVAL;
		next = f[off];
		off += (f[off + 1] + 1u) * 8;
		if (off > len)
			return -EINVAL;
	}
	if (next == PROTO_ROUTING)
		return -EOPNOTSUPP;
	lay->ipv6 = 1;
	lay->proto = next;
	lay->l4 = off;
	return 0;
}

/* ---- segments ---- */

/*
 * Makes the headers at seg (a copy of the super-frame's, or the frame
 * itself) those of segment i of n, with plen bytes of payload at
 * seg + lay->hlen, and stores its L4 checksum.  payload_sum is the partial
 * sum of that payload.  seq is the segment's TCP sequence number.
 */
static void fix_headers(uint8_t *seg, const struct layout *lay, uint32_t plen,
			uint32_t i, uint32_t n, uint32_t seq, uint32_t payload_sum)
{
	uint8_t *ip = seg + lay->l3, *l4 = seg + lay->l4;
	uint32_t l4len = lay->hlen - lay->l4 + plen;
	uint32_t sum;
	uint16_t csum;

	if (lay->ipv6) {
		vw_put16(ip + 4, (uint16_t)(lay->hlen - lay->l3 - 40 + plen));
		sum = vw_csum_pseudo6(ip + 8, ip + 24, lay->proto, l4len);
	} else {
		vw_put16(ip + 2, (uint16_t)(lay->hlen - lay->l3 + plen));
		vw_put16(ip + 4, (uint16_t)(vw_get16(ip + 4) + i));
		memset(ip + 10, 0, 2);
		put_csum(ip + 10, vw_csum_fold(vw_csum_partial(ip, (ip[0] & 0xfu) * 4, 0)));
		sum = vw_csum_pseudo4(ip + 12, ip + 16, lay->proto, l4len);
	}
	if (lay->proto == PROTO_TCP) {
		l4[4] = (uint8_t)(seq >> 24);
		l4[5] = (uint8_t)(seq >> 16);
		l4[6] = (uint8_t)(seq >> 8);
		l4[7] = (uint8_t)seq;
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		if (i + 1 < n)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		memset(l4 + 16, 0, 2);
	} else {
		vw_put16(l4 + 4, (uint16_t)l4len);
		memset(l4 + 6, 0, 2);
	}
	sum = vw_csum_partial(l4, lay->hlen - lay->l4, sum);
	/* partial sums add with end-around carry */
	sum += payload_sum;
	sum += sum < payload_sum;
	csum = vw_csum_fold(sum);
	if (!csum)  /* 0 means "no checksum" to UDP; the same for TCP */
		csum = 0xffff;
	put_csum(l4 + (lay->proto == PROTO_TCP ? 16 : 6), csum);
}

/* NEEDS_CSUM without GSO: the kernel's skb_checksum_help(). */
static void csum_only(uint8_t *frame, uint32_t len, uint32_t start, uint32_t off)
{
	uint32_t end = len, l3, iplen = 0;
	uint16_t type, csum;

	/* Stop at the end of the IP packet, not at Ethernet padding. */
	l3 = parse_l2(frame, len, &type);
	if (l3 && type == ETHERTYPE_IPV4 && l3 + 20 <= len && frame[l3] >> 4 == 4)
		iplen = vw_get16(frame + l3 + 2);
	else if (l3 && type == ETHERTYPE_IPV6 && l3 + 40 <= len && frame[l3] >> 4 == 6)
		iplen = vw_get16(frame + l3 + 4) + 40u;
	if (iplen && l3 + iplen < len && l3 + iplen >= start + off + 2)
		end = l3 + iplen;

	csum = vw_csum_fold(vw_csum_partial(frame + start, end - start, 0));
	put_csum(frame + start + off, csum ? csum : 0xffff);
}

int vw_gso_segment(struct virtio_net_hdr_v1 *vnet, uint8_t *frame, uint32_t len,
		   uint8_t *scratch, size_t cap, struct vw_seg *segs, int max)
{
	uint8_t type = vnet->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool csum = vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	uint32_t start = le16toh(vnet->csum_start), off = le16toh(vnet->csum_offset);
	uint32_t mss = le16toh(vnet->gso_size), payload, n, i, seq, thlen;
	struct layout lay;
	uint8_t proto;
	size_t need;
	int err;

	if (max < 1)
		return -ENOSPC;
	if (!csum && type == VIRTIO_NET_HDR_GSO_NONE) {
		segs[0] = (struct vw_seg){ frame, len };
		return 1;
	}

	if (len < ETH_HLEN || le16toh(vnet->hdr_len) > len)
		return -EINVAL;
	if (csum && (start < ETH_HLEN || (off & 1) || start + off + 2 > len))
		return -EINVAL;
	switch (type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		csum_only(frame, len, start, off);
		memset(vnet, 0, sizeof(*vnet));
		segs[0] = (struct vw_seg){ frame, len };
		return 1;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		proto = PROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (vnet->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return -EINVAL;
		proto = PROTO_UDP;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
	if (!mss)
		return -EINVAL;

	err = parse_ip(frame, len, &lay);
	if (err)
		return err;
	if (lay.proto != proto || (type == VIRTIO_NET_HDR_GSO_TCPV4 && lay.ipv6) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 && !lay.ipv6))
		return -EINVAL;
	if (proto == PROTO_TCP) {
		if (lay.l4 + 20 > len)
			return -EINVAL;
		thlen = (frame[lay.l4 + 12] >> 4) * 4u;
		if (thlen < 20)
			return -EINVAL;
	} else {
		thlen = 8;
	}
	lay.hlen = lay.l4 + thlen;
	if (lay.hlen > len)
		return -EINVAL;
	if (csum && (start != lay.l4 || off != (proto == PROTO_TCP ? 16u : 6u)))
		return -EINVAL;

	payload = len - lay.hlen;
	n = payload > mss ? (payload + mss - 1) / mss : 1;
	/* every segment's IP length must fit its 16-bit field */
	if (lay.hlen - lay.l3 + (n > 1 ? mss : payload) > 0xffff)
		return -EINVAL;
	seq = (uint32_t)frame[lay.l4 + 4] << 24 | (uint32_t)frame[lay.l4 + 5] << 16 |
	      (uint32_t)frame[lay.l4 + 6] << 8 | frame[lay.l4 + 7];

	if (n == 1) {  /* fits in one segment: not really GSO */
		fix_headers(frame, &lay, payload, 0, 1, seq,
			    vw_csum_partial(frame + lay.hlen, payload, 0));
		memset(vnet, 0, sizeof(*vnet));
		segs[0] = (struct vw_seg){ frame, len };
		return 1;
	}

	need = (size_t)n * lay.hlen + payload;
	if (n > (uint32_t)max || need > cap)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		uint32_t plen = i + 1 < n ? mss : payload - i * mss;
		uint32_t psum;

		memcpy(scratch, frame, lay.hlen);
		psum = vw_csum_copy(scratch + lay.hlen, frame + lay.hlen + i * mss, plen, 0);
		fix_headers(scratch, &lay, plen, i, n, seq + i * mss, psum);
		segs[i] = (struct vw_seg){ scratch, lay.hlen + plen };
		scratch += lay.hlen + plen;
	}
	return (int)n;
}

int vw_gso_cut(struct virtio_net_hdr_v1 *vnet, const uint8_t *frame, uint32_t len, uint16_t vid,
	       struct vw_gso_scratch *s, int max)
{
	if (len + 4 > sizeof(s->frame))
		return -EINVAL;
	len = vw_frame_copy(s->frame, frame, len, vid, vnet);
	return vw_gso_segment(vnet, s->frame, len, s->out, sizeof(s->out), s->segs, max);
}

uint32_t vw_gso_seglen(const struct virtio_net_hdr_v1 *vnet, const uint8_t *frame, uint32_t len)
{
	struct vw_pktinfo pi;
	uint32_t seg;

	if (!vw_vnet_is_gso(vnet) || !vnet->gso_size)
		return len;
	if (vw_pkt_parse(frame, len, &pi) != VW_PP_OK || !pi.l4 ||
	    (pi.proto != VW_IPPROTO_TCP && pi.proto != VW_IPPROTO_UDP))
		return len;
	seg = pi.l4 + (pi.proto == VW_IPPROTO_TCP ? pi.l4hlen : 8u) + le16toh(vnet->gso_size);
	return seg < len ? seg : len;
}
