/*
 * One-pass header parser (see pktparse.h).
 *
 * Every read is preceded by a bound check against len (Ethernet and IP
 * headers) or against ip_end, which is itself checked to be <= len.
 */
#include <string.h>

#include "datapath/pktparse.h"
#include "lib/bytes.h"

#define PROTO_HOPOPTS 0
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_DSTOPTS 60

static inline int is_vlan(uint16_t type)
{
	return type == VW_ETHERTYPE_8021Q || type == VW_ETHERTYPE_8021AD;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Returns the offset of the transport header, or 0 with *err set. */
static uint32_t parse_ipv4(const uint8_t *f, uint32_t len, struct vw_pktinfo *pi, int *err)
{
	const uint8_t *ip = f + pi->l3;
	uint32_t ihl, tot;
	uint16_t frag;

	if (pi->l3 + 20u > len)
		goto trunc;
	ihl = (ip[0] & 0xfu) * 4;
	tot = vw_get16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < 20 || tot < ihl) {
		*err = VW_PP_BAD;
		return 0;
	}
	if (pi->l3 + tot > len)
		goto trunc;
	pi->ip_end = pi->l3 + tot;
	pi->ipver = 4;
	pi->dsfield = ip[1];
	pi->ttl = ip[8];
	pi->proto = ip[9];
	memcpy(pi->src, v4mapped, 12);
	memcpy(pi->src + 12, ip + 12, 4);
	memcpy(pi->dst, v4mapped, 12);
	memcpy(pi->dst + 12, ip + 16, 4);
	frag = vw_get16(ip + 6);
	if (frag & 0x1fff) {
		pi->frag = VW_FRAG_LATER;
		return 0;
	}
	if (frag & 0x2000)
		pi->frag = VW_FRAG_FIRST;
	return pi->l3 + ihl;
trunc:
	*err = VW_PP_TRUNC;
	return 0;
}

static uint32_t parse_ipv6(const uint8_t *f, uint32_t len, struct vw_pktinfo *pi, int *err)
{
	const uint8_t *ip = f + pi->l3;
	uint32_t off, end;
	uint8_t next;
	int n;

	if (pi->l3 + 40u > len) {
		*err = VW_PP_TRUNC;
		return 0;
	}
	if (ip[0] >> 4 != 6) {
		*err = VW_PP_BAD;
		return 0;
	}
	end = pi->l3 + 40u + vw_get16(ip + 4);
	if (end > len) {
		*err = VW_PP_TRUNC;
		return 0;
	}
	pi->ip_end = end;
	pi->ipver = 6;
	pi->dsfield = (uint8_t)((ip[0] & 0xf) << 4 | ip[1] >> 4);
	pi->ttl = ip[7];
	memcpy(pi->src, ip + 8, 16);
	memcpy(pi->dst, ip + 24, 16);
	next = ip[6];
	off = pi->l3 + 40u;
	for (n = 0;; n++) {
		const uint8_t *h = f + off;

		if (next != PROTO_HOPOPTS && next != PROTO_ROUTING &&
		    next != PROTO_DSTOPTS && next != PROTO_FRAGMENT)
			break;
		if (n == VW_PP_EXTHDR_MAX) {
			*err = VW_PP_DEEP;
			return 0;
		}
		if (off + 8 > end) {  /* every extension header is >= 8 bytes */
			*err = VW_PP_BAD;
			return 0;
		}
		if (next == PROTO_FRAGMENT) {
			uint16_t fo = vw_get16(h + 2);

			next = h[0];
			off += 8;
			if (fo & 0xfff8) {
				pi->proto = next;
				pi->frag = VW_FRAG_LATER;
				return 0;
			}
			if (fo & 1)
				pi->frag = VW_FRAG_FIRST;
			continue;
		}
		next = h[0];
		off += (h[1] + 1u) * 8;
		if (off > end) {
			*err = VW_PP_BAD;
			return 0;
		}
	}
	pi->proto = next;
	return off;
}

int vw_pkt_parse(const uint8_t *f, uint32_t len, struct vw_pktinfo *pi)
{
	uint32_t off, l4;
	uint16_t type;
	int err = VW_PP_OK;

	memset(pi, 0, sizeof(*pi));
	if (len < VW_ETH_HLEN)
		return VW_PP_TRUNC;
	type = vw_get16(f + 12);
	off = VW_ETH_HLEN;
	if (is_vlan(type)) {
		if (len < VW_ETH_HLEN + 4)
			return VW_PP_TRUNC;
		type = vw_get16(f + 16);
		off += 4;
		pi->ntags = 1;
		if (is_vlan(type)) {
			if (len < VW_ETH_HLEN + 8)
				return VW_PP_TRUNC;
			type = vw_get16(f + 20);
			off += 4;
			pi->ntags = 2;
		}
	}
	pi->ethertype = type;
	pi->l3 = (uint16_t)off;
	if (type == VW_ETHERTYPE_IPV4)
		l4 = parse_ipv4(f, len, pi, &err);
	else if (type == VW_ETHERTYPE_IPV6)
		l4 = parse_ipv6(f, len, pi, &err);
	else
		return VW_PP_OK;
	if (err || !l4)
		return err;

	/* Offsets fit 16 bits: at most 22 + 60 or 22 + 40 + 8 * 2048 bytes. */
	pi->l4 = (uint16_t)l4;
	switch (pi->proto) {
	case VW_IPPROTO_TCP: {
		uint32_t doff;

		if (l4 + 20 > pi->ip_end)
			return VW_PP_BAD;
		doff = (f[l4 + 12] >> 4) * 4u;
		if (doff < 20 || l4 + doff > pi->ip_end)
			return VW_PP_BAD;
		pi->l4hlen = (uint16_t)doff;
		pi->tcp_flags = f[l4 + 13];
		break;
	}
	case VW_IPPROTO_UDP:
		if (l4 + 8 > pi->ip_end)
			return VW_PP_BAD;
		pi->l4hlen = 8;
		break;
	case VW_IPPROTO_SCTP:
		if (l4 + 12 > pi->ip_end)
			return VW_PP_BAD;
		pi->l4hlen = 12;
		break;
	default:
		return VW_PP_OK;
	}
	pi->sport = vw_get16(f + l4);
	pi->dport = vw_get16(f + l4 + 2);
	return VW_PP_OK;
}
