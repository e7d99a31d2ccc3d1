/*
 * TCP option handling (datapath/tcpops.c): the MSS clamp and the RST that
 * refuses a connection, on a frame the packet parser accepted, or (mode
 * bit 2) with a vw_pktinfo made of input bytes that need not match the
 * frame at all, which the functions must refuse rather than read past it.
 *
 * Input: mss (2 bytes, big-endian), mode, RST buffer size, then the frame
 * (or the vw_pktinfo, then the frame).  Mode bits: 1 the frame carries
 * NEEDS_CSUM; 2 store a right TCP checksum first; 4 a made-up vw_pktinfo.
 *
 * Checked: the clamp changes only MSS option values (as the receiver reads
 * the options) and the checksum field; afterwards no MSS option the
 * receiver reads is above mss; a right checksum stays right (a
 * NEEDS_CSUM frame's field is left alone); a second clamp changes nothing.
 * A RST is built exactly when the SYN is one to answer and the buffer is
 * big enough; it parses back as RST|ACK with addresses and ports swapped,
 * the SYN's sequence number acknowledged and right checksums; on an error
 * nothing is written.
 */
#include <errno.h>
#include <linux/virtio_net.h>

#include "fuzz/frame.h"
#include "datapath/tcpops.h"
#include "lib/bytes.h"

#define M_NEEDS_CSUM 1
#define M_FIX_CSUM 2
#define M_RAW_INFO 4

/* The MSS values a receiver reads (Linux tcp_parse_options): offsets of
 * each value into at[], up to max; returns how many. */
static int mss_options(const uint8_t *f, const struct vw_pktinfo *pi, uint32_t *at, int max)
{
	uint32_t o = pi->l4 + 20u, end = pi->l4 + pi->l4hlen;
	int n = 0;

	while (o < end) {
		uint8_t kind = f[o], sz;

		if (kind == 0)
			break;
		if (kind == 1) {
			o++;
			continue;
		}
		if (o + 2 > end)
			break;
		sz = f[o + 1];
		if (sz < 2 || o + sz > end)
			break;
		if (kind == 2 && sz == 4 && n < max)
			at[n++] = o + 2;
		o += sz;
	}
	return n;
}

static int ip_mcast(const struct vw_pktinfo *pi, const uint8_t *a)
{
	if (pi->ipver == 6)
		return a[0] == 0xff;
	return (a[12] & 0xf0) == 0xe0 || (a[12] == 0xff && a[13] == 0xff && a[14] == 0xff && a[15] == 0xff);
}

static void check_clamp(uint8_t *f, uint32_t len, uint8_t mode, const struct vw_pktinfo *pi, uint16_t mss)
{
	uint8_t vflags = mode & M_NEEDS_CSUM ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0;
	uint32_t at[32], csum_at = pi->l4 + 16u, i;
	int n, k, rc, above = 0, ok_before;
	uint8_t *old = malloc(len);

	if (!old)
		return;
	if (mode & M_FIX_CSUM)
		fuzz_l4_csum_set(f, pi);
	memcpy(old, f, len);
	ok_before = fuzz_l4_csum_ok(f, pi);
	n = mss_options(f, pi, at, 32);
	for (k = 0; k < n; k++)
		above |= vw_get16(f + at[k]) > mss;
	rc = vw_tcp_clamp_mss(f, len, vflags, pi, mss);
	FUZZ_CHECK(rc == 0 || rc == 1, "clamp returned %d for a parsed TCP frame", rc);
	if (!(f[pi->l4 + 13] & VW_TCP_SYN)) {
		FUZZ_CHECK(rc == 0 && !memcmp(old, f, len), "a segment without SYN was changed");
		free(old);
		return;
	}
	FUZZ_CHECK(rc == above, "clamp says %d, an MSS above %u: %d", rc, mss, above);
	for (i = 0; i < len; i++) {
		if (old[i] == f[i] || i == csum_at || i == csum_at + 1)
			continue;
		for (k = 0; k < n && !(i >= at[k] && i < at[k] + 2); k++)
			;
		FUZZ_CHECK(k < n, "byte %u changed, not an MSS value or the checksum", i);
	}
	for (k = 0; k < n; k++)
		FUZZ_CHECK(vw_get16(f + at[k]) <= mss, "MSS %u left above %u", vw_get16(f + at[k]), mss);
	if (vflags)
		FUZZ_CHECK(!memcmp(old + csum_at, f + csum_at, 2), "NEEDS_CSUM frame's checksum field changed");
	else if (ok_before)
		FUZZ_CHECK(fuzz_l4_csum_ok(f, pi), "a right checksum went wrong");
	memcpy(old, f, len);
	FUZZ_CHECK(vw_tcp_clamp_mss(f, len, vflags, pi, mss) == 0 && !memcmp(old, f, len), "second clamp changed it");
	free(old);
}

static void check_rst(const uint8_t *f, uint32_t len, const struct vw_pktinfo *pi, uint32_t cap)
{
	uint8_t out[VW_TCP_RST_MAX + 8], fl = f[pi->l4 + 13];
	struct vw_pktinfo r;
	uint32_t seq, ack, need = pi->l3 + (pi->ipver == 4 ? 20u : 40u) + 20u;
	int rc, answer;

	memset(out, 0xa5, sizeof(out));
	rc = vw_tcp_build_rst(out, cap, f, len, pi);
	answer = (fl & (VW_TCP_SYN | VW_TCP_ACK | VW_TCP_RST)) == VW_TCP_SYN && pi->frag == VW_FRAG_NONE &&
		 !(f[6] & 1) && !ip_mcast(pi, pi->src) && !ip_mcast(pi, pi->dst);
	if (rc < 0) {
		FUZZ_CHECK(!answer || (rc == -ENOSPC && cap < need), "no RST (%d) for a SYN to answer, cap %u", rc, cap);
		for (uint32_t i = 0; i < sizeof(out); i++)
			FUZZ_CHECK(out[i] == 0xa5, "an error (%d) wrote byte %u", rc, i);
		return;
	}
	FUZZ_CHECK(answer && (uint32_t)rc == need && (uint32_t)rc <= cap, "RST of %d bytes (cap %u, answer %d)", rc,
		   cap, answer);
	for (uint32_t i = (uint32_t)rc; i < sizeof(out); i++)
		FUZZ_CHECK(out[i] == 0xa5, "RST of %d bytes wrote byte %u", rc, i);
	FUZZ_CHECK(vw_pkt_parse(out, (uint32_t)rc, &r) == VW_PP_OK, "the RST does not parse");
	FUZZ_CHECK(r.ipver == pi->ipver && r.proto == VW_IPPROTO_TCP && r.ntags == pi->ntags && r.l4hlen == 20,
		   "RST headers: ipver %u proto %u tags %u", r.ipver, r.proto, r.ntags);
	FUZZ_CHECK(r.tcp_flags == (VW_TCP_RST | VW_TCP_ACK), "RST flags %#x", r.tcp_flags);
	FUZZ_CHECK(r.sport == pi->dport && r.dport == pi->sport, "ports not swapped");
	FUZZ_CHECK(!memcmp(r.src, pi->dst, 16) && !memcmp(r.dst, pi->src, 16), "addresses not swapped");
	FUZZ_CHECK(!memcmp(out, f + 6, 6) && !memcmp(out + 6, f, 6), "MACs not swapped");
	seq = vw_get32(f + pi->l4 + 4);
	ack = seq + 1 + (fl & VW_TCP_FIN ? 1 : 0) + (pi->ip_end - pi->l4 - pi->l4hlen);
	FUZZ_CHECK(vw_get32(out + r.l4 + 8) == ack, "ack %u, expected %u", vw_get32(out + r.l4 + 8), ack);
	FUZZ_CHECK(fuzz_l4_csum_ok(out, &r), "RST TCP checksum wrong");
	if (r.ipver == 4)
		FUZZ_CHECK(fuzz_ipv4_csum_ok(out, &r), "RST IPv4 header checksum wrong");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vw_pktinfo pi;
	uint16_t mss;
	uint8_t mode, *f, out[VW_TCP_RST_MAX];
	uint32_t len, cap;

	if (size < 4 || size > 65536 + 64)
		return 0;
	mss = (uint16_t)(data[0] << 8 | data[1]);
	mode = data[2];
	cap = data[3];
	data += 4;
	size -= 4;
	if (mode & M_RAW_INFO) {
		if (size < sizeof(pi))
			return 0;
		memcpy(&pi, data, sizeof(pi));
		data += sizeof(pi);
		size -= sizeof(pi);
	}
	len = (uint32_t)size;
	f = malloc(len ? len : 1);
	if (!f)
		return 0;
	memcpy(f, data, len);
	if (mode & M_RAW_INFO) {
		/* only must not read or write out of bounds */
		vw_tcp_clamp_mss(f, len, mode & M_NEEDS_CSUM ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0, &pi, mss);
		vw_tcp_build_rst(out, cap < sizeof(out) ? cap : sizeof(out), f, len, &pi);
	} else if (vw_pkt_parse(f, len, &pi) == VW_PP_OK && pi.ipver && pi.proto == VW_IPPROTO_TCP && pi.l4) {
		check_rst(f, len, &pi, cap);
		if (!mss)
			FUZZ_CHECK(vw_tcp_clamp_mss(f, len, 0, &pi, 0) == -EINVAL, "mss 0 accepted");
		else
			check_clamp(f, len, mode, &pi, mss);
	}
	free(f);
	return 0;
}
