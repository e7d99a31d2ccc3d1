/*
 * The packet parser (datapath/pktparse.c, vw_pkt_parse): the input is one
 * Ethernet frame.  Besides "reads nothing at or past len" (ASan: the
 * frame is a heap copy of exactly len bytes), it checks what the header
 * promises: offsets in order and within the frame, fields that are 0 when
 * absent, and that Ethernet padding after the IP packet changes nothing.
 */
#include "fuzz/fuzz.h"
#include "datapath/pktparse.h"

static void check_info(const struct vw_pktinfo *pi, uint32_t len)
{
	FUZZ_CHECK(pi->ntags <= 2, "ntags %u", pi->ntags);
	FUZZ_CHECK(pi->l3 == VW_ETH_HLEN + 4u * pi->ntags, "l3 %u with %u tags", pi->l3, pi->ntags);
	FUZZ_CHECK(pi->l3 <= len, "l3 %u past %u", pi->l3, len);
	if (!pi->ipver) {
		FUZZ_CHECK(pi->ethertype != VW_ETHERTYPE_IPV4 && pi->ethertype != VW_ETHERTYPE_IPV6,
			   "IP ethertype %#x without ipver", pi->ethertype);
		FUZZ_CHECK(!pi->l4 && !pi->sport && !pi->dport && !pi->proto, "non-IP frame has L4 fields");
		return;
	}
	FUZZ_CHECK(pi->ipver == 4 || pi->ipver == 6, "ipver %u", pi->ipver);
	FUZZ_CHECK((pi->ipver == 4) == (pi->ethertype == VW_ETHERTYPE_IPV4), "ipver %u, ethertype %#x", pi->ipver,
		   pi->ethertype);
	FUZZ_CHECK(pi->ip_end >= pi->l3 + (pi->ipver == 4 ? 20u : 40u) && pi->ip_end <= len, "ip_end %u (l3 %u, len %u)",
		   pi->ip_end, pi->l3, len);
	FUZZ_CHECK(pi->frag <= VW_FRAG_LATER, "frag %u", pi->frag);
	if (!pi->l4) {
		FUZZ_CHECK(pi->frag == VW_FRAG_LATER, "no l4 but not a later fragment");
		FUZZ_CHECK(!pi->sport && !pi->dport && !pi->l4hlen && !pi->tcp_flags, "later fragment has L4 fields");
		return;
	}
	FUZZ_CHECK(pi->frag != VW_FRAG_LATER, "later fragment with l4 %u", pi->l4);
	FUZZ_CHECK(pi->l4 >= pi->l3 + (pi->ipver == 4 ? 20u : 40u), "l4 %u inside the IP header (l3 %u)", pi->l4,
		   pi->l3);
	FUZZ_CHECK((uint32_t)pi->l4 + pi->l4hlen <= pi->ip_end, "L4 header %u+%u past ip_end %u", pi->l4, pi->l4hlen,
		   pi->ip_end);
	switch (pi->proto) {
	case VW_IPPROTO_TCP:
		FUZZ_CHECK(pi->l4hlen >= 20 && pi->l4hlen <= 60 && !(pi->l4hlen & 3), "TCP header length %u",
			   pi->l4hlen);
		break;
	case VW_IPPROTO_UDP:
		FUZZ_CHECK(pi->l4hlen == 8, "UDP header length %u", pi->l4hlen);
		break;
	case VW_IPPROTO_SCTP:
		FUZZ_CHECK(pi->l4hlen == 12, "SCTP header length %u", pi->l4hlen);
		break;
	default:
		FUZZ_CHECK(!pi->l4hlen && !pi->sport && !pi->dport, "unknown protocol %u has ports", pi->proto);
	}
	if (pi->proto != VW_IPPROTO_TCP)
		FUZZ_CHECK(!pi->tcp_flags, "tcp_flags on protocol %u", pi->proto);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vw_pktinfo pi, again;
	uint8_t *f, *padded;
	uint32_t len;
	int rc, rc2;

	if (size > 65536 + 64)
		return 0;
	len = (uint32_t)size;
	f = malloc(len ? len : 1);
	if (!f)
		return 0;
	memcpy(f, data, len);
	rc = vw_pkt_parse(f, len, &pi);
	FUZZ_CHECK(rc == VW_PP_OK || rc == VW_PP_TRUNC || rc == VW_PP_BAD || rc == VW_PP_DEEP, "return %d", rc);
	FUZZ_CHECK(!memcmp(f, data, len), "the parser wrote into the frame");
	if (rc == VW_PP_OK) {
		check_info(&pi, len);
		/* the same packet without its padding, or with more of it */
		if (pi.ipver) {
			rc2 = vw_pkt_parse(f, pi.ip_end, &again);
			FUZZ_CHECK(rc2 == VW_PP_OK && !memcmp(&pi, &again, sizeof(pi)),
				   "cut at ip_end %u: rc %d, info differs", pi.ip_end, rc2);
			padded = calloc(1, len + 60);
			if (padded) {
				memcpy(padded, f, len);
				rc2 = vw_pkt_parse(padded, len + 60, &again);
				FUZZ_CHECK(rc2 == VW_PP_OK && !memcmp(&pi, &again, sizeof(pi)),
					   "60 bytes of padding: rc %d, info differs", rc2);
				free(padded);
			}
		}
	} else if (len >= VW_ETH_HLEN) {
		/* an error is about the headers: more bytes after the frame's
		 * end can only make a truncated frame parse */
		padded = calloc(1, len + 60);
		if (padded) {
			memcpy(padded, f, len);
			rc2 = vw_pkt_parse(padded, len + 60, &again);
			if (rc != VW_PP_TRUNC)
				FUZZ_CHECK(rc2 == rc, "error %d became %d with padding", rc, rc2);
			free(padded);
		}
	}
	free(f);
	return 0;
}
