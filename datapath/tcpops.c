/*
 * MSS clamp and connection-refusing RST (see tcpops.h).
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "datapath/gso.h"
#include "datapath/tcpops.h"
#include "lib/bytes.h"

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOLEN_MSS 4

static inline uint16_t swab16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/* pi names a TCP header of l4hlen bytes, all within len. */
static int tcp_ok(const struct vw_pktinfo *pi, uint32_t len)
{
	return pi->ipver && pi->proto == VW_IPPROTO_TCP && pi->l4 >= VW_ETH_HLEN + 20 &&
	       pi->l4hlen >= 20 && (pi->l4hlen & 3) == 0 && pi->l4hlen <= 60 &&
	       (uint32_t)pi->l4 + pi->l4hlen <= len;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), one's complement sums.  The
 * checksum covers 16-bit words counted from the start of the TCP header
 * (the pseudo-header has an even length); a value at an odd offset spans
 * two words, which adds up to its byte-swapped value, so both old and new
 * are swapped then.
 */
static void csum_replace16(uint8_t *csum, uint16_t old, uint16_t new, int odd)
{
	uint32_t s;

	if (odd) {
		old = swab16(old);
		new = swab16(new);
	}
	s = (uint32_t)(uint16_t)~vw_get16(csum) + (uint16_t)~old + new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	vw_put16(csum, (uint16_t)~s);
}

int vw_tcp_clamp_mss(uint8_t *frame, uint32_t len, uint8_t vnet_flags,
		     const struct vw_pktinfo *pi, uint16_t mss)
{
	uint32_t l4, o, end;
	int changed = 0;

	if (!tcp_ok(pi, len) || !mss)
		return -EINVAL;
	l4 = pi->l4;
	if (!(frame[l4 + 13] & VW_TCP_SYN))
		return 0;
	end = l4 + pi->l4hlen;
	for (o = l4 + 20; o < end;) {
		uint8_t kind = frame[o], sz;
		uint16_t v;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			o++;
			continue;
		}
		if (o + 2 > end)
			break;
		sz = frame[o + 1];
		if (sz < 2 || o + sz > end)
			break;
		if (kind == TCPOPT_MSS && sz == TCPOLEN_MSS && (v = vw_get16(frame + o + 2)) > mss) {
			vw_put16(frame + o + 2, mss);
			/*
			 * With NEEDS_CSUM the field holds only the pseudo-header
			 * sum (addresses, protocol, length: nothing of the
			 * header itself); whoever completes the checksum
			 * (the kernel, a NIC, vw_gso_segment()) sums the
			 * header as it is by then, new MSS included.  Patching
			 * the field would corrupt that seed.
			 */
			if (!(vnet_flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
				csum_replace16(frame + l4 + 16, v, mss, (o + 2 - l4) & 1);
			changed = 1;
		}
		o += sz;
	}
	return changed;
}

static int ip_is_mcast(const struct vw_pktinfo *pi, const uint8_t *a)
{
	static const uint8_t bcast[4] = { 0xff, 0xff, 0xff, 0xff };

	if (pi->ipver == 6)
		return a[0] == 0xff;
	return (a[12] & 0xf0) == 0xe0 || !memcmp(a + 12, bcast, 4);
}

int vw_tcp_build_rst(uint8_t *out, uint32_t cap, const uint8_t *syn, uint32_t len,
		     const struct vw_pktinfo *pi)
{
	uint32_t l3 = pi->l3, l4, hl3, rlen, seq, ack, payload;
	uint8_t flags, *ip, *th;
	uint32_t sum;
	uint16_t csum;

	if (!tcp_ok(pi, len) || pi->ip_end > len || pi->frag != VW_FRAG_NONE ||
	    pi->ip_end < (uint32_t)pi->l4 + pi->l4hlen || l3 < VW_ETH_HLEN ||
	    l3 > VW_ETH_HLEN + 8 || (l3 - VW_ETH_HLEN) % 4 || pi->l4 <= l3)
		return -EINVAL;
	if ((pi->ipver == 4 && pi->ethertype != VW_ETHERTYPE_IPV4) ||
	    (pi->ipver == 6 && pi->ethertype != VW_ETHERTYPE_IPV6) ||
	    (pi->ipver != 4 && pi->ipver != 6))
		return -EINVAL;
	flags = syn[pi->l4 + 13];
	if ((flags & (VW_TCP_SYN | VW_TCP_ACK | VW_TCP_RST)) != VW_TCP_SYN)
		return -EINVAL;
	if ((syn[6] & 1) || ip_is_mcast(pi, pi->src) || ip_is_mcast(pi, pi->dst))
		return -EINVAL;
	hl3 = pi->ipver == 4 ? 20 : 40;
	rlen = l3 + hl3 + 20;
	if (rlen > cap)
		return -ENOSPC;

	l4 = pi->l4;
	payload = pi->ip_end - l4 - pi->l4hlen;
	seq = (uint32_t)vw_get16(syn + l4 + 4) << 16 | vw_get16(syn + l4 + 6);
	ack = seq + 1 + (flags & VW_TCP_FIN ? 1 : 0) + payload;

	memcpy(out, syn + 6, 6);
	memcpy(out + 6, syn, 6);
	memcpy(out + 12, syn + 12, l3 - 12);  /* tags and ethertype */

	ip = out + l3;
	th = ip + hl3;
	memset(th, 0, 20);
	memcpy(th, syn + l4 + 2, 2);
	memcpy(th + 2, syn + l4, 2);
	vw_put32(th + 8, ack);
	th[12] = 5 << 4;
	th[13] = VW_TCP_RST | VW_TCP_ACK;
	if (pi->ipver == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		vw_put16(ip + 2, 40);
		vw_put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = VW_IPPROTO_TCP;
		memcpy(ip + 12, pi->dst + 12, 4);
		memcpy(ip + 16, pi->src + 12, 4);
		csum = vw_csum_fold(vw_csum_partial(ip, 20, 0));
		memcpy(ip + 10, &csum, 2);
		sum = vw_csum_pseudo4(ip + 12, ip + 16, VW_IPPROTO_TCP, 20);
	} else {
		memset(ip, 0, 8);
		ip[0] = 0x60;
		vw_put16(ip + 4, 20);
		ip[6] = VW_IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, pi->dst, 16);
		memcpy(ip + 24, pi->src, 16);
		sum = vw_csum_pseudo6(ip + 8, ip + 24, VW_IPPROTO_TCP, 20);
	}
	csum = vw_csum_fold(vw_csum_partial(th, 20, sum));
	memcpy(th + 16, &csum, 2);
	return (int)rlen;
}
