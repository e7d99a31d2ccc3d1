/*
 * TCP helpers for traffic management (SPEC §4 flow properties `mss` and
 * `maxconn`): the MSS clamp on SYNs and the RST that refuses a connection.
 *
 * Both take a frame already parsed by vw_pkt_parse() (pktparse.h) and
 * trust nothing in it: offsets are checked against the frame's length
 * again, so a vw_pktinfo that does not match the frame gets -EINVAL, not a
 * stray read.  No state, no allocation; safe to call from any worker.
 */
#ifndef VW_TCPOPS_H
#define VW_TCPOPS_H

#include <stdint.h>

#include "datapath/pktparse.h"

/*
 * MSS clamp ("MTU per policy"): if frame is a TCP SYN or SYN-ACK whose MSS
 * option announces more than mss, the option is rewritten to mss.  Call it
 * for both directions of a flow that has the property.  The options are
 * walked as the receiving stack walks them (Linux tcp_parse_options()):
 * EOL ends them, NOP is one byte, an option with a length below 2 or
 * running past the TCP header ends the walk, and only 4-byte MSS options
 * count -- so exactly the MSS the receiver will read is clamped (every one
 * of them, should there be several; the receiver keeps the last).
 *
 * A SYN without an MSS option is left alone: the receiver then assumes 536
 * (IPv4) or 1220 (IPv6) bytes, below any sensible clamp.
 *
 * The TCP checksum is updated incrementally (RFC 1624, eqn. 3), wherever
 * the option lies (an odd offset too), so a checksum that was wrong stays
 * wrong; unless vnet_flags has VIRTIO_NET_HDR_F_NEEDS_CSUM (see tcpops.c
 * for why the field is then left alone).
 *
 * Returns 1 if the frame was changed, 0 if not (not a SYN, no option above
 * mss, options cut short), -EINVAL if pi does not describe a TCP header
 * within len bytes of frame or mss is 0.
 */
int vw_tcp_clamp_mss(uint8_t *frame, uint32_t len, uint8_t vnet_flags,
		     const struct vw_pktinfo *pi, uint16_t mss);

/* The RST's length for a SYN parsed into pi: buffers need at least this. */
#define VW_TCP_RST_MAX (VW_ETH_HLEN + 8 + 40 + 20)

/*
 * Builds in out (cap bytes) the frame a host refusing the connection would
 * send for the SYN in syn (len bytes, parsed into pi), as Linux's
 * tcp_v4_send_reset()/tcp_v6_send_reset() does for a closed port:
 *   Ethernet  source and destination swapped, the same VLAN tags;
 *   IPv4      addresses swapped, TOS 0, ID 0, DF, TTL 64, no options;
 *   IPv6      addresses swapped, traffic class and flow label 0, hop limit
 *             64, no extension headers;
 *   TCP       ports swapped, RST|ACK, seq 0, ack = the SYN's seq + 1 (the
 *             SYN) + 1 if it had FIN + its payload length, window 0, no
 *             options.
 * Checksums (IPv4 header, TCP) are complete: send it with an all-zero
 * virtio-net header.  The frame is not padded to 60 bytes.
 *
 * Returns its length, or -EINVAL when syn is not something to answer:
 * not IPv4/IPv6 TCP as pi says, a fragment, flags other than SYN without
 * ACK and RST, a multicast or broadcast address (Ethernet source, IPv4
 * 224/4 or 255.255.255.255, IPv6 ff00::/8) as either end; -ENOSPC when cap
 * is too small.  Nothing is written on an error.
 */
int vw_tcp_build_rst(uint8_t *out, uint32_t cap, const uint8_t *syn, uint32_t len,
		     const struct vw_pktinfo *pi);

#endif
