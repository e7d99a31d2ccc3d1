/*
 * Frame checks shared by the datapath harnesses (fuzz_tcpops.c,
 * fuzz_gso.c): checksums verified from scratch with the plain reference sum
 * of fuzz.h, on a frame parsed by vw_pkt_parse().
 */
#ifndef VW_FUZZ_FRAME_H
#define VW_FUZZ_FRAME_H

#include "fuzz/fuzz.h"
#include "datapath/pktparse.h"

/* The pseudo-header's sum for the transport header at pi->l4, up to ip_end. */
static inline uint32_t fuzz_pseudo_sum(const uint8_t *f, const struct vw_pktinfo *pi)
{
	uint32_t l4len = pi->ip_end - pi->l4, s;

	if (pi->ipver == 4)
		s = ref_sum(pi->src + 12, 4, 0) + ref_sum(pi->dst + 12, 4, 0);
	else
		s = ref_sum(pi->src, 16, 0) + ref_sum(pi->dst, 16, 0);
	(void)f;
	return s + pi->proto + (l4len & 0xffff) + (l4len >> 16);
}

/* Whether the TCP or UDP checksum of the packet is right (a UDP checksum
 * of 0 is "none", which is right too). */
static inline int fuzz_l4_csum_ok(const uint8_t *f, const struct vw_pktinfo *pi)
{
	uint32_t s = fuzz_pseudo_sum(f, pi);

	if (pi->proto == VW_IPPROTO_UDP && f[pi->l4 + 6] == 0 && f[pi->l4 + 7] == 0)
		return 1;
	return ref_fold(ref_sum(f + pi->l4, pi->ip_end - pi->l4, s)) == 0xffff;
}

/* Stores the right TCP/UDP checksum (offset 16 or 6 in its header). */
static inline void fuzz_l4_csum_set(uint8_t *f, const struct vw_pktinfo *pi)
{
	uint32_t at = pi->l4 + (pi->proto == VW_IPPROTO_TCP ? 16u : 6u);
	uint16_t c;

	f[at] = f[at + 1] = 0;
	c = (uint16_t)~ref_fold(ref_sum(f + pi->l4, pi->ip_end - pi->l4, fuzz_pseudo_sum(f, pi)));
	if (pi->proto == VW_IPPROTO_UDP && !c)
		c = 0xffff;
	f[at] = (uint8_t)(c >> 8);
	f[at + 1] = (uint8_t)c;
}

static inline int fuzz_ipv4_csum_ok(const uint8_t *f, const struct vw_pktinfo *pi)
{
	return ref_fold(ref_sum(f + pi->l3, (f[pi->l3] & 0xfu) * 4, 0)) == 0xffff;
}

#endif
