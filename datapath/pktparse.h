/*
 * One-pass header parser for the flow classifier and the TCP helpers
 * (tcpops.h, conntab.h).
 *
 * vw_pkt_parse() reads an Ethernet frame -- untagged, or with one or two
 * VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, in any order) -- and fills a
 * struct vw_pktinfo with the offsets and fields a classifier asks for: the
 * ethertype after the tags, IPv4 or IPv6 addresses, protocol, DSCP/ECN
 * byte, fragment state, ports and TCP flags.  IPv6 extension headers
 * (hop-by-hop, routing, destination options, fragment) are skipped, at most
 * VW_PP_EXTHDR_MAX of them; that walk is the only loop.
 *
 * Cost: a few dozen byte loads and two 16-byte copies; no allocation, no
 * state.  Safety: nothing at or past len is read, whatever the frame says.
 * The IP header's length (IPv4 total length, IPv6 payload length) must fit
 * in the frame: bytes after it (Ethernet padding) are ignored, and every
 * header behind the IP header must end within it.  A GSO super-frame parses
 * like any frame (its IP length covers the whole super-frame).
 *
 * Fields not present are 0: ports of a non-TCP/UDP/SCTP packet or of a
 * later fragment, tcp_flags of anything but TCP, l4 of a later fragment.
 * An IPv6 payload length of 0 (a jumbogram) is taken as it is: the packet
 * ends after its header (no vw_pkt holds a jumbogram anyway).
 */
#ifndef VW_PKTPARSE_H
#define VW_PKTPARSE_H

#include <stdint.h>

#define VW_ETH_HLEN 14
#define VW_ETHERTYPE_IPV4 0x0800
#define VW_ETHERTYPE_IPV6 0x86dd
#define VW_ETHERTYPE_8021Q 0x8100
#define VW_ETHERTYPE_8021AD 0x88a8

#define VW_IPPROTO_ICMP 1
#define VW_IPPROTO_TCP 6
#define VW_IPPROTO_UDP 17
#define VW_IPPROTO_ICMPV6 58
#define VW_IPPROTO_SCTP 132

#define VW_TCP_FIN 0x01
#define VW_TCP_SYN 0x02
#define VW_TCP_RST 0x04
#define VW_TCP_PSH 0x08
#define VW_TCP_ACK 0x10
#define VW_TCP_URG 0x20
#define VW_TCP_ECE 0x40
#define VW_TCP_CWR 0x80

#define VW_PP_EXTHDR_MAX 8 /* IPv6 extension headers walked at most */

/* Return codes of vw_pkt_parse(): 0 or one of these (negative). */
enum {
	VW_PP_OK = 0,
	VW_PP_TRUNC = -1, /* the frame ends inside a header, or before the
			     IP length says the packet ends */
	VW_PP_BAD = -2,   /* impossible field: IP version that does not match
			     the ethertype, IHL < 5, IP length shorter than its
			     headers, TCP data offset < 5 or past the packet */
	VW_PP_DEEP = -3,  /* more than VW_PP_EXTHDR_MAX IPv6 extension headers */
};

enum {
	VW_FRAG_NONE = 0,  /* not a fragment (IPv6 atomic fragments too) */
	VW_FRAG_FIRST = 1, /* offset 0, more to come: has the ports */
	VW_FRAG_LATER = 2, /* offset > 0: no transport header */
};

struct vw_pktinfo {
	uint8_t src[16];    /* IPv6, or IPv4 as ::ffff:a.b.c.d (RFC 4291) */
	uint8_t dst[16];
	uint32_t ip_end;    /* offset just past the IP packet (<= frame length) */
	uint16_t l3;        /* network header: right after the ethertype */
	uint16_t l4;        /* transport header, 0 if not reached */
	uint16_t l4hlen;    /* its length: TCP with options, UDP 8, SCTP 12,
			       else 0 (the header is not parsed) */
	uint16_t ethertype; /* after the tags */
	uint16_t sport;     /* host order */
	uint16_t dport;
	uint8_t ntags;      /* VLAN tags before the network header: 0..2 */
	uint8_t ipver;      /* 4, 6, or 0 (not IP: only l3/ethertype/ntags) */
	uint8_t proto;      /* transport protocol (IPv6: after ext headers) */
	uint8_t dsfield;    /* IPv4 TOS / IPv6 traffic class: DSCP << 2 | ECN */
	uint8_t tcp_flags;  /* TCP byte 13: CWR ECE URG ACK PSH RST SYN FIN */
	uint8_t frag;       /* VW_FRAG_* */
	uint8_t ttl;        /* IPv4 TTL / IPv6 hop limit */
	uint8_t pad;
};

/*
 * Parses frame (len bytes).  Returns VW_PP_OK with *pi filled, or a
 * negative VW_PP_* code; then *pi is only partly filled and must not be
 * used.  A frame that is not IPv4/IPv6 (ARP, LLDP, ...) is VW_PP_OK with
 * ipver 0 as long as its Ethernet header and tags are complete.  An
 * unknown transport protocol is VW_PP_OK with l4 set and l4hlen 0.
 */
int vw_pkt_parse(const uint8_t *frame, uint32_t len, struct vw_pktinfo *pi);

#endif
