// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel fast path (maps: vw_fast.h).  Two programs:
 *
 * vw_fast, at TC ingress of every VNIC host end, phys uplink and slow-path
 * channel of the daemon's namespace, switches, per SPEC §3, only what needs
 * nothing but switching:
 *
 *   VNIC -> VNIC of the same switch and VID, known unicast: bpf_redirect_peer
 *   VNIC -> unknown unicast: the VID's 802.1Q tag pushed (VID 0: none),
 *           bpf_redirect to the switch's uplink (none: dropped, counted)
 *   uplink -> known VNIC of the frame's VID: its tag popped, bpf_redirect_peer
 *   channel -> the frame userspace wrote goes into the channel's VNIC's zone
 *
 * and drops, counted, a tagged frame from a VNIC (as datapath/vswitch.c's
 * classify_vid).  A VNIC's other frames go to its slow path, the userspace
 * datapath, through its channel: broadcast, multicast, a port or
 * destination marked slow, a frame longer than the sender's or the
 * destination's MTU allows (the slow path drops and counts it), a frame to
 * itself.  An uplink's other frames are left alone (TC_ACT_OK): its packet
 * socket has seen them already and the userspace datapath takes them from
 * there, as without the fast path.
 *
 * vw_sock, the socket filter of an uplink's packet socket, keeps that socket
 * from reading the frames vw_fast will redirect (a packet socket sees a
 * frame before TC ingress does): both decide with uplink_target().
 *
 * The VID is part of the forwarding key, so no frame crosses VIDs, and the
 * switch id too, so none crosses switches.  Per frame: two or three hash
 * lookups, one or two per-CPU counter slots; no lock, no loop.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "datapath/bpf/vw_fast.h"

char LICENSE[] SEC("license") = "GPL";

/* set before load by whoever wants vw_last filled (the unit tests); the
 * verifier removes the code when it is 0 */
const volatile __u32 vw_fast_debug = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VW_FAST_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vw_fast_port);
} vw_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VW_FAST_MAX_FDB);
	__type(key, struct vw_fast_fdb_key);
	__type(value, struct vw_fast_fdb_val);
} vw_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VW_FAST_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vw_fast_stats);
} vw_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vw_fast_decision);
} vw_last SEC(".maps");

/* An Ethernet header with room for one 802.1Q tag after the addresses */
struct eth_tag {
	__u8 dst[ETH_ALEN];
	__u8 src[ETH_ALEN];
	__be16 proto;
	__be16 tci;   /* when proto is a VLAN type */
	__be16 inner; /* the type after the tag */
};

static __always_inline int is_vlan(__be16 proto)
{
	return proto == bpf_htons(0x8100) || proto == bpf_htons(0x88a8) ||
	       proto == bpf_htons(0x9100);
}

static __always_inline int note(int verdict, __u32 how, __u32 target, __u16 vid, __u16 drop)
{
	if (vw_fast_debug) {
		__u32 k = 0;
		struct vw_fast_decision *d = bpf_map_lookup_elem(&vw_last, &k);

		if (d) {
			d->seq++;
			d->verdict = verdict;
			d->how = how;
			d->target = target;
			d->vid = vid;
			d->drop = drop;
		}
	}
	return verdict;
}

static __always_inline int drop(struct vw_fast_stats *st, enum vw_fast_drop why)
{
	if (st)
		st->drops[why]++;
	return note(TC_ACT_SHOT, VW_FAST_HOW_DROP, 0, 0, why);
}

static __always_inline int to_slow(struct __sk_buff *skb, const struct vw_fast_port *in,
				   struct vw_fast_stats *st)
{
	__u32 target = in->slow_ifindex;

	if (st) {
		st->slow_frames++;
		st->slow_bytes += skb->len;
	}
	if (!target)
		return note(TC_ACT_OK, VW_FAST_HOW_SLOW, 0, 0, 0);
	return note(bpf_redirect(target, 0), VW_FAST_HOW_SLOW, target, 0, 0);
}

/* Bytes as the userspace switch counts them (datapath/vswitch.c): received
 * with the tag an uplink's frame came with, sent with the tag put on toward
 * an uplink */
static __always_inline void count_fast(struct vw_fast_stats *st, const struct vw_fast_fdb_val *to,
				       __u32 rx_len, __u32 tx_len)
{
	__u32 slot = to->slot;
	struct vw_fast_stats *dst = bpf_map_lookup_elem(&vw_stats, &slot);

	if (st) {
		st->rx_fast_frames++;
		st->rx_fast_bytes += rx_len;
	}
	if (dst) {
		dst->tx_fast_frames++;
		dst->tx_fast_bytes += tx_len;
	}
}

/*
 * The longest IP packet the frame carries, its L2 header being l2 bytes:
 * its own length, or for a super-frame (GSO) its segments' (IP and TCP or
 * UDP headers plus gso_size), what datapath/vswitch.c checks against a
 * port's MTU.  A header it cannot read counts as the whole frame.
 */
static __always_inline __u32 ip_len(struct __sk_buff *skb, __u32 l2)
{
	__u32 len = skb->len - l2, gso = skb->gso_size, iph, l4;
	__u8 b[10];

	if (!gso || bpf_skb_load_bytes(skb, l2, b, sizeof(b)) < 0)
		return len;
	if (b[0] >> 4 == 4)
		iph = (b[0] & 0xf) * 4, l4 = b[9];
	else if (b[0] >> 4 == 6)
		iph = 40, l4 = b[6];
	else
		return len;
	if (l4 == 17) {
		l4 = 8;
	} else if (l4 == 6) {
		if (bpf_skb_load_bytes(skb, l2 + iph + 12, b, 1) < 0)
			return len;
		l4 = (b[0] >> 4) * 4;
	} else {
		return len;
	}
	return iph + l4 + gso < len ? iph + l4 + gso : len;
}

/* The smaller of two MTUs, 0 meaning none */
static __always_inline __u32 min_mtu(__u32 a, __u32 b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* Longer than mtu allows (0: not checked): the slow path drops it, counted */
static __always_inline int too_long(struct __sk_buff *skb, __u32 l2, __u32 mtu)
{
	return mtu && ip_len(skb, l2) > mtu;
}

/* Into a VNIC's zone: from the other side of its veth pair, unless its zone
 * end is in this namespace (then through the host end's egress) */
static __always_inline int to_vnic(const struct vw_fast_fdb_val *to, __u16 vid)
{
	if (to->flags & VW_FAST_FDB_SAMENS)
		return note(bpf_redirect(to->ifindex, 0), VW_FAST_HOW_PEER, to->ifindex, vid, 0);
	return note(bpf_redirect_peer(to->ifindex, 0), VW_FAST_HOW_PEER, to->ifindex, vid, 0);
}

/* A frame a zone sent through its VNIC: untagged, switched on the VNIC's VID */
static __always_inline int from_vnic(struct __sk_buff *skb, const struct vw_fast_port *in,
				     struct vw_fast_stats *st, const struct eth_tag *eth)
{
	struct vw_fast_fdb_key key = { .sw = in->sw, .vid = in->vid };
	const struct vw_fast_fdb_val *to;
	__u32 len = skb->len;

	if (skb->vlan_present || is_vlan(eth->proto))
		return drop(st, VW_FAST_DROP_TAGGED);
	if (eth->dst[0] & 1)
		return to_slow(skb, in, st);
	__builtin_memcpy(key.mac, eth->dst, ETH_ALEN);
	to = bpf_map_lookup_elem(&vw_fdb, &key);
	if (!to) {
		/* unknown unicast: to the switch's uplink, or nowhere */
		struct vw_fast_fdb_key up = { .sw = in->sw, .vid = VW_FAST_VID_UPLINK };

		to = bpf_map_lookup_elem(&vw_fdb, &up);
		if (!to)
			return drop(st, VW_FAST_DROP_UNKNOWN);
	}
	if ((to->flags & VW_FAST_FDB_SLOW) || to->ifindex == skb->ingress_ifindex ||
	    too_long(skb, ETH_HLEN, min_mtu(in->mtu, to->mtu)))
		return to_slow(skb, in, st);
	if (to->flags & VW_FAST_FDB_UPLINK) {
		if (in->vid && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), in->vid))
			return drop(st, VW_FAST_DROP_HELPER);
		count_fast(st, to, len, in->vid ? len + 4 : len);
		return note(bpf_redirect(to->ifindex, 0), VW_FAST_HOW_UPLINK, to->ifindex, in->vid, 0);
	}
	count_fast(st, to, len, len);
	return to_vnic(to, 0);
}

/*
 * Where a frame from the wire goes on the fast path: a VNIC of the frame's
 * VID that needs nothing else, or NULL (the userspace datapath takes it from
 * the uplink's packet socket, and drops what it must).  The 802.1Q tag is in
 * the skb's metadata when the kernel's receive path took it out (always,
 * before packet sockets and TC ingress of a real device see a frame), else
 * still in the frame (BPF_PROG_TEST_RUN): both are read.  Reads the frame
 * with bpf_skb_load_bytes, which a socket filter may use.
 */
static __always_inline const struct vw_fast_fdb_val *uplink_target(struct __sk_buff *skb,
								     const struct vw_fast_port *in,
								     __u16 *vid, int *tagged)
{
	struct vw_fast_fdb_key key = { .sw = in->sw };
	const struct vw_fast_fdb_val *to;
	struct eth_tag eth;
	__u32 l2 = ETH_HLEN;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0)
		return 0;
	if (skb->vlan_present) {
		if (skb->vlan_proto != bpf_htons(ETH_P_8021Q) || is_vlan(eth.proto))
			return 0;
		key.vid = skb->vlan_tci & 0xfff;
		*tagged = 1;
	} else if (eth.proto == bpf_htons(ETH_P_8021Q)) {
		if (is_vlan(eth.inner))
			return 0;
		key.vid = bpf_ntohs(eth.tci) & 0xfff;
		*tagged = 1;
		l2 += 4;
	} else if (is_vlan(eth.proto)) {
		return 0;
	}
	if (eth.dst[0] & 1)
		return 0;
	__builtin_memcpy(key.mac, eth.dst, ETH_ALEN);
	to = bpf_map_lookup_elem(&vw_fdb, &key);
	if (!to || (to->flags & (VW_FAST_FDB_SLOW | VW_FAST_FDB_UPLINK)) || too_long(skb, l2, to->mtu))
		return 0;
	*vid = key.vid;
	return to;
}

static __always_inline int from_uplink(struct __sk_buff *skb, const struct vw_fast_port *in,
				       struct vw_fast_stats *st)
{
	const struct vw_fast_fdb_val *to;
	__u32 len = skb->len;
	__u16 vid = 0;
	int tagged = 0;

	to = uplink_target(skb, in, &vid, &tagged);
	if (!to)
		return note(TC_ACT_OK, VW_FAST_HOW_SLOW, 0, 0, 0);
	if (tagged && bpf_skb_vlan_pop(skb))
		return drop(st, VW_FAST_DROP_HELPER);
	count_fast(st, to, len, skb->len);
	return to_vnic(to, vid);
}

SEC("tc")
int vw_fast(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 ifindex = skb->ingress_ifindex;
	const struct vw_fast_port *in;
	struct vw_fast_stats *st;
	struct eth_tag *eth = data;
	__u32 slot;

	in = bpf_map_lookup_elem(&vw_ports, &ifindex);
	if (!in)
		return note(TC_ACT_OK, VW_FAST_HOW_NONE, 0, 0, 0);
	if (in->kind == VW_FAST_CHAN) {
		__u32 to = in->slow_ifindex;

		if (in->flags & VW_FAST_PORT_SAMENS)
			return note(bpf_redirect(to, 0), VW_FAST_HOW_CHAN, to, 0, 0);
		return note(bpf_redirect_peer(to, 0), VW_FAST_HOW_CHAN, to, 0, 0);
	}
	slot = in->slot;
	st = bpf_map_lookup_elem(&vw_stats, &slot);
	if (in->kind == VW_FAST_UPLINK) {
		if (in->flags & VW_FAST_PORT_SLOW)
			return note(TC_ACT_OK, VW_FAST_HOW_SLOW, 0, 0, 0);
		return from_uplink(skb, in, st);
	}
	if ((void *)&eth->tci > end)
		return drop(st, VW_FAST_DROP_RUNT);
	if (in->flags & VW_FAST_PORT_SLOW)
		return to_slow(skb, in, st);
	if (in->kind == VW_FAST_VNIC)
		return from_vnic(skb, in, st, eth);
	return to_slow(skb, in, st);
}

/* An uplink's packet socket: 0 (not read) for a frame vw_fast redirects */
SEC("socket")
int vw_sock(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	const struct vw_fast_port *in = bpf_map_lookup_elem(&vw_ports, &ifindex);
	__u16 vid = 0;
	int tagged = 0;

	if (!in || in->kind != VW_FAST_UPLINK || (in->flags & VW_FAST_PORT_SLOW))
		return 0x7fffffff;
	return uplink_target(skb, in, &vid, &tagged) ? 0 : 0x7fffffff;
}
