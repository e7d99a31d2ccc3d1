// SPDX-License-Identifier: GPL-2.0
/*
 * bench/compare's far end of a tagged phys uplink: this kernel has no 802.1Q
 * module (no `ip link add ... type vlan`) and no tc vlan action (act_vlan),
 * so the outside namespace tags and untags with these two TC programs on
 * its veth end, loaded by tc (cls_bpf, direct action):
 *
 *   section push (egress)   every frame leaves tagged with VLANTAG_VID
 *   section pop  (ingress)  a frame tagged VLANTAG_VID arrives untagged;
 *                           other frames pass as they are (the stack drops
 *                           a frame with a tag it has no VLAN device for)
 *
 * The tag stays in the skb's metadata (veth offloads it), so GSO
 * super-frames keep their size both ways, as through a VLAN device.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The VID bench/compare gives the tagged VNICs (its PHYS_VID). */
#ifndef VLANTAG_VID
#define VLANTAG_VID 10
#endif

char LICENSE[] SEC("license") = "GPL";

SEC("push")
int vlantag_push(struct __sk_buff *skb)
{
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), VLANTAG_VID) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("pop")
int vlantag_pop(struct __sk_buff *skb)
{
	/* the receive path moved the tag into the metadata before TC ingress */
	if (skb->vlan_present && (skb->vlan_tci & 0x0fff) == VLANTAG_VID && bpf_skb_vlan_pop(skb) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}
