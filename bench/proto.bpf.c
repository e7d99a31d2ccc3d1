// SPDX-License-Identifier: GPL-2.0
/*
 * The least a TC fast path can do, as the prototype of issue 13 did: the
 * destination MAC looked up in one hash map, the frame handed with
 * bpf_redirect_peer to the zone behind the host end found there, anything
 * else left to the stack.  No VLANs, switches, counters or MTU checks.
 * bench/fastproto runs it beside the Linux bridge and vwire's own program
 * (datapath/bpf/vw_fast.bpf.c), to tell what vwire's program costs from
 * what the design costs.  Loaded and fed by bench/proto_load.c.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct proto_mac {
	__u8 a[ETH_ALEN];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct proto_mac);
	__type(value, __u32);
} proto_fdb SEC(".maps");

SEC("tc")
int proto(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct proto_mac k = { 0 };
	__u32 *to;

	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	__builtin_memcpy(k.a, eth->h_dest, ETH_ALEN);
	to = bpf_map_lookup_elem(&proto_fdb, &k);
	if (!to)
		return TC_ACT_OK;
	return bpf_redirect_peer(*to, 0);
}
