// SPDX-License-Identifier: GPL-2.0
/*
 * vw_fast: the kernel fast path, a TC ingress program on every VNIC host
 * end and phys uplink of the daemon's namespace (maps: vw_fast.h).  It
 * switches, per SPEC §3, only what needs nothing but switching:
 *
 *   VNIC -> VNIC of the same switch and VID, known unicast: bpf_redirect_peer
 *   VNIC -> the switch's uplink (a MAC the daemon put in vw_fdb as behind
 *           it): the VID's 802.1Q tag pushed (VID 0: none), bpf_redirect
 *   uplink -> known VNIC of the frame's VID: its tag popped, bpf_redirect_peer
 *
 * and drops, counted, a tagged frame from a VNIC and a malformed frame from
 * an uplink (the same drops as datapath/vswitch.c's classify_vid).  All
 * else goes to the port's slow path, the userspace datapath: broadcast,
 * multicast, unknown unicast, a port or destination marked slow, a frame
 * from an uplink whose destination is an uplink (never back out).  The VID
 * is part of the forwarding key, so no frame crosses VIDs, and the switch id
 * too, so none crosses switches.
 *
 * Per frame: two hash lookups (port, destination), one or two per-CPU
 * counter slots; no lock, no loop.
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

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
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

/* A frame a zone sent through its VNIC: untagged, switched on the VNIC's VID */
static __always_inline int from_vnic(struct __sk_buff *skb, const struct vw_fast_port *in,
				     struct vw_fast_stats *st, struct ethhdr *eth)
{
	struct vw_fast_fdb_key key = { .sw = in->sw, .vid = in->vid };
	const struct vw_fast_fdb_val *to;
	__u32 len = skb->len;

	if (skb->vlan_present || is_vlan(eth->h_proto))
		return drop(st, VW_FAST_DROP_TAGGED);
	if (eth->h_dest[0] & 1)
		return to_slow(skb, in, st);
	__builtin_memcpy(key.mac, eth->h_dest, ETH_ALEN);
	to = bpf_map_lookup_elem(&vw_fdb, &key);
	if (!to || (to->flags & VW_FAST_FDB_SLOW) || to->ifindex == skb->ingress_ifindex)
		return to_slow(skb, in, st);
	if (to->flags & VW_FAST_FDB_UPLINK) {
		if (in->vid && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), in->vid))
			return drop(st, VW_FAST_DROP_HELPER);
		count_fast(st, to, len, in->vid ? len + 4 : len);
		return note(bpf_redirect(to->ifindex, 0), VW_FAST_HOW_UPLINK, to->ifindex, in->vid, 0);
	}
	count_fast(st, to, len, len);
	return note(bpf_redirect_peer(to->ifindex, 0), VW_FAST_HOW_PEER, to->ifindex, 0, 0);
}

/*
 * A frame from the wire.  Its 802.1Q tag is in the skb's metadata when the
 * kernel's receive path took it out (always, at TC ingress of a real
 * device), else still in the frame (BPF_PROG_TEST_RUN): both are read, and
 * bpf_skb_vlan_pop takes it from either place.
 */
static __always_inline int from_uplink(struct __sk_buff *skb, const struct vw_fast_port *in,
				       struct vw_fast_stats *st, struct ethhdr *eth, void *end)
{
	struct vw_fast_fdb_key key = { .sw = in->sw };
	const struct vw_fast_fdb_val *to;
	__u32 len = skb->len;
	int tagged = 0;

	if (skb->vlan_present) {
		if (skb->vlan_proto != bpf_htons(ETH_P_8021Q) || is_vlan(eth->h_proto))
			return drop(st, VW_FAST_DROP_VLAN);
		key.vid = skb->vlan_tci & 0xfff;
		tagged = 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr_ *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end)
			return drop(st, VW_FAST_DROP_RUNT);
		if (is_vlan(vh->proto))
			return drop(st, VW_FAST_DROP_VLAN);
		key.vid = bpf_ntohs(vh->tci) & 0xfff;
		tagged = 1;
	} else if (is_vlan(eth->h_proto)) {
		return drop(st, VW_FAST_DROP_VLAN);
	}
	if (eth->h_dest[0] & 1)
		return to_slow(skb, in, st);
	__builtin_memcpy(key.mac, eth->h_dest, ETH_ALEN);
	to = bpf_map_lookup_elem(&vw_fdb, &key);
	if (!to || (to->flags & (VW_FAST_FDB_SLOW | VW_FAST_FDB_UPLINK)))
		return to_slow(skb, in, st);
	if (tagged && bpf_skb_vlan_pop(skb))
		return drop(st, VW_FAST_DROP_HELPER);
	count_fast(st, to, len, skb->len);
	return note(bpf_redirect_peer(to->ifindex, 0), VW_FAST_HOW_PEER, to->ifindex, key.vid, 0);
}

SEC("tc")
int vw_fast(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 ifindex = skb->ingress_ifindex;
	const struct vw_fast_port *in;
	struct vw_fast_stats *st;
	struct ethhdr *eth = data;
	__u32 slot;

	in = bpf_map_lookup_elem(&vw_ports, &ifindex);
	if (!in)
		return note(TC_ACT_OK, VW_FAST_HOW_NONE, 0, 0, 0);
	slot = in->slot;
	st = bpf_map_lookup_elem(&vw_stats, &slot);
	if ((void *)(eth + 1) > end)
		return drop(st, VW_FAST_DROP_RUNT);
	if (in->flags & VW_FAST_PORT_SLOW)
		return to_slow(skb, in, st);
	if (in->kind == VW_FAST_VNIC)
		return from_vnic(skb, in, st, eth);
	if (in->kind == VW_FAST_UPLINK)
		return from_uplink(skb, in, st, eth, end);
	return to_slow(skb, in, st);
}
