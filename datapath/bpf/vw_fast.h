/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel fast path's maps (vw_fast.bpf.c): their keys and values, shared
 * by the BPF program and the userspace that fills and reads them (the
 * daemon's loader, tests/unit/test_fastpath.c).  Only fixed-size
 * <linux/types.h> fields, laid out without padding, so both compilers agree.
 *
 * Every ifindex is one of the daemon's namespace, where the program runs at
 * TC ingress: a VNIC's host end of its veth pair, a phys uplink, a slow-path
 * channel.  A VNIC is known by its host end's ifindex: bpf_redirect_peer()
 * to it puts a frame into the VNIC's zone end.
 */
#ifndef VW_FAST_H
#define VW_FAST_H

#include <linux/types.h>

#define VW_FAST_MAX_PORTS 16384  /* ports in vw_ports; slots of vw_stats */
#define VW_FAST_MAX_FDB   65536  /* entries of vw_fdb */

enum vw_fast_kind {
	VW_FAST_VNIC = 1,    /* a VNIC's host end: frames the zone sent */
	VW_FAST_UPLINK = 2,  /* a phys uplink: frames from the wire */
	VW_FAST_CHAN = 3,    /* a VNIC's slow-path channel (its TAP): frames the
	                      * userspace datapath wrote toward the zone */
};

/* vw_fast_port.flags */
#define VW_FAST_PORT_SLOW   0x1  /* every frame of this port goes to its slow path */
#define VW_FAST_PORT_SAMENS 0x2  /* a channel whose VNIC's zone end is in the
                                  * daemon's own namespace: bpf_redirect to
                                  * the host end's egress, not _peer */

/* vw_ports: ingress ifindex (__u32) -> the port */
struct vw_fast_port {
	__u32 sw;            /* switch id: frames never pass between switches */
	__u16 vid;           /* a VNIC's VID (0: untagged); unused for an uplink */
	__u8 kind;           /* enum vw_fast_kind */
	__u8 flags;          /* VW_FAST_PORT_* */
	__u32 slow_ifindex;  /* a VNIC: where the slow path reads its frames
	                      * (its channel); 0: TC_ACT_OK, the frame goes on
	                      * up the stack of the device it came in on.  A
	                      * channel: the VNIC's host end, where its frames
	                      * go.  An uplink: unused (its packet socket reads
	                      * what the program leaves, TC_ACT_OK) */
	__u32 slot;          /* index of the port's counters in vw_stats */
	__u32 mtu;           /* the longest IP packet the port sends (a VNIC's
	                      * mtu, an uplink device's); 0: unknown */
	__u32 pad;
};

/* vw_fdb: (switch, VID, MAC) -> where a frame to that MAC goes.  The key
 * (switch, VW_FAST_VID_UPLINK, 00:00:00:00:00:00) is the switch's uplink,
 * where a VNIC's unknown unicast goes (SPEC §3); none: such a frame is
 * dropped, as on an etherstub */
#define VW_FAST_VID_UPLINK 0xffff
struct vw_fast_fdb_key {
	__u32 sw;
	__u16 vid;
	__u8 mac[6];
};

/* vw_fast_fdb_val.flags */
#define VW_FAST_FDB_UPLINK 0x1  /* ifindex is the switch's uplink: bpf_redirect
                                 * with the VID's tag pushed; else a VNIC's
                                 * host end: bpf_redirect_peer */
#define VW_FAST_FDB_SLOW   0x2  /* the destination needs userspace (maxbw, a
                                 * capture...): frames to it take the slow path */
#define VW_FAST_FDB_SAMENS 0x4  /* a VNIC whose zone end is in the daemon's
                                 * namespace: bpf_redirect to its host end's
                                 * egress (bpf_redirect_peer needs another
                                 * namespace) */

struct vw_fast_fdb_val {
	__u32 ifindex;
	__u32 slot;          /* the destination's counters in vw_stats */
	__u16 flags;         /* VW_FAST_FDB_* */
	__u16 pad;
	__u32 mtu;           /* the longest IP packet the destination takes (a
	                      * super-frame's segments); a longer frame goes to
	                      * the slow path, which drops and counts it; 0: not
	                      * checked (an uplink) */
};

enum vw_fast_drop {
	VW_FAST_DROP_TAGGED,  /* a tagged frame from a VNIC (SPEC §3) */
	VW_FAST_DROP_RUNT,    /* shorter than its Ethernet (and 802.1Q) header */
	VW_FAST_DROP_HELPER,  /* bpf_skb_vlan_push or _pop failed */
	VW_FAST_DROP_UNKNOWN, /* unknown unicast from a VNIC of a switch with no uplink */
	VW_FAST_DROP_MAX
};

/* vw_stats: per-CPU counters of a port, at its slot (summed by userspace) */
struct vw_fast_stats {
	__u64 rx_fast_frames;  /* frames the port sent that the fast path switched */
	__u64 rx_fast_bytes;
	__u64 tx_fast_frames;  /* frames the fast path delivered to the port */
	__u64 tx_fast_bytes;
	__u64 slow_frames;     /* frames the port sent that went to the slow path
	                        * (counted again there: not added to the totals) */
	__u64 slow_bytes;
	__u64 drops[VW_FAST_DROP_MAX];
};

/* vw_last (one per-CPU entry): the last decision, written only when the
 * program was loaded with vw_fast_debug set (the unit tests) */
enum vw_fast_how {
	VW_FAST_HOW_NONE,    /* not a port of ours: TC_ACT_OK */
	VW_FAST_HOW_PEER,    /* bpf_redirect_peer to a VNIC */
	VW_FAST_HOW_UPLINK,  /* bpf_redirect to an uplink */
	VW_FAST_HOW_SLOW,    /* to the slow path (redirect, or TC_ACT_OK) */
	VW_FAST_HOW_DROP,
	VW_FAST_HOW_CHAN,    /* from a slow-path channel into its VNIC's zone */
};

struct vw_fast_decision {
	__u32 seq;       /* decisions made on this CPU */
	__s32 verdict;   /* the program's return value */
	__u32 target;    /* ifindex redirected to, 0 for none */
	__u16 how;       /* enum vw_fast_how */
	__u16 vid;       /* the tag pushed (to an uplink) or popped (from one) */
	__u16 drop;      /* enum vw_fast_drop, for VW_FAST_HOW_DROP */
	__u16 pad;
};

#endif
