// SPDX-License-Identifier: GPL-2.0
/*
 * A TC program for the system tests: drops Slow Protocols frames (LACP,
 * marker: ethertype 0x8809) and lets everything else through, so a test
 * can make an LACP partner fall silent on one link while data still flows
 * (t_aggr.sh: tc filter add dev IF egress bpf da obj drop_slow.bpf.o).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int drop_slow(struct __sk_buff *skb)
{
	return skb->protocol == bpf_htons(0x8809) ? TC_ACT_SHOT : TC_ACT_OK;
}
