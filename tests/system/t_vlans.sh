#!/usr/bin/env bash
# Four zones on one etherstub, two VNICs with VID 200 and two with VID 300,
# all four in 10.200.1.0/24 so that only the VLANs separate them: each VLAN
# works, nothing crosses, and a capture in a VLAN-300 zone sees none of the
# VLAN-200 frames (broadcast ARP included) but does see its own VLAN's.
VWT_OWN="vwtv"
. "$(dirname "$0")/lib.sh"

STUB=vwtvs
# zone VNIC VID address
NODES=(
	"vwtva1 vwtv200a 200 10.200.1.1"
	"vwtva2 vwtv200b 200 10.200.1.2"
	"vwtvb1 vwtv300a 300 10.200.1.3"
	"vwtvb2 vwtv300b 300 10.200.1.4"
)

vw_start
check "create etherstub $STUB" vwadm create-etherstub $STUB
for n in "${NODES[@]}"; do
	read -r z v vid a <<<"$n"
	check "create zone $z" vwadm create-zone "$z"
	check "create VNIC $v -v $vid in $z" vwadm create-vnic -l $STUB -v "$vid" -p zone="$z" "$v"
	check "address $a/24 on $v" vwadm create-addr -a "$a/24" "$v"
	check "$v is up in $z" ip -n "$z" link show "$v" up
done
expect_eq "show-vnic shows the VIDs" "vwtv200a:200:vwtva1
vwtv200b:200:vwtva2
vwtv300a:300:vwtvb1
vwtv300b:300:vwtvb2" "$(vwadm show-vnic -p -o link,vid,zone)"
check "the VNICs' Linux faces are plain (untagged) links, no VLAN device" \
	bash -c "! ip -n vwtva1 -d link show vwtv200a | grep -q 'vlan protocol'"
mac() { vwadm show-vnic -p -o macaddress "$1" | tr -d '\\'; }
MAC_A1=$(mac vwtv200a) MAC_A2=$(mac vwtv200b) MAC_B1=$(mac vwtv300a) MAC_B2=$(mac vwtv300b)

log "---- reachability inside each VLAN"
wait_ping 10 vwtva1 10.200.1.2
wait_ping 10 vwtva2 10.200.1.1
wait_ping 10 vwtvb1 10.200.1.4
wait_ping 10 vwtvb2 10.200.1.3

log "---- nothing across the VLANs"
for pair in "vwtva1 10.200.1.3" "vwtva1 10.200.1.4" "vwtva2 10.200.1.3" "vwtva2 10.200.1.4" \
	"vwtvb1 10.200.1.1" "vwtvb1 10.200.1.2" "vwtvb2 10.200.1.1" "vwtvb2 10.200.1.2"; do
	read -r z a <<<"$pair"
	check_fail "no ping from $z (VLAN $( [[ $z == vwtva* ]] && echo 200 || echo 300)) to $a (other VLAN)" \
		ip netns exec "$z" ping -n -q -c 2 -i 0.2 -W 1 "$a"
done
check "ARP from vwtva1 never resolved 10.200.1.3 (other VLAN)" \
	bash -c "! ip -n vwtva1 neigh show 10.200.1.3 | grep -q lladdr"
check "ARP from vwtvb1 never resolved 10.200.1.1 (other VLAN)" \
	bash -c "! ip -n vwtvb1 neigh show 10.200.1.1 | grep -q lladdr"

log "---- capture in VLAN-300 zone vwtvb1 while VLAN 200 talks"
PCAP=$VW_TMP/vlan300.pcap
capture_start vwtvb1 vwtv300a "$PCAP"
check "flush vwtva1's neighbours so it broadcasts ARP again" ip -n vwtva1 neigh flush all
check "flush vwtva2's neighbours" ip -n vwtva2 neigh flush all
check "VLAN 200: 5 pings vwtva1 -> vwtva2 (after a broadcast ARP)" \
	ip netns exec vwtva1 ping -n -q -c 5 -i 0.05 -W 1 10.200.1.2
check "VLAN 200: broadcast ping from vwtva2" \
	bash -c "ip netns exec vwtva2 ping -n -q -b -c 3 -i 0.05 -W 1 10.200.1.255 || true"
check_fail "VLAN 200: vwtva1 asks ARP (broadcast) for 10.200.1.3, a VLAN-300 address: no answer" \
	ip netns exec vwtva1 ping -n -q -c 1 -W 1 10.200.1.3
check "flush vwtvb2's neighbours so it broadcasts ARP" ip -n vwtvb2 neigh flush all
check "VLAN 300: 5 pings vwtvb2 -> vwtvb1 (its own VLAN)" \
	ip netns exec vwtvb2 ping -n -q -c 5 -i 0.05 -W 1 10.200.1.3
# Stop only once vwtvb2's frames are in: they were sent after VLAN 200's.
wait_until 10 "the capture holds vwtvb2's echo requests" \
	bash -c "[ \$(tshark -n -r '$PCAP' -Y 'icmp.type == 8 && eth.src == $MAC_B2' 2>/dev/null | wc -l) -ge 1 ]"
capture_stop
log "---- $(capture_count "$PCAP" frame) frames captured on vwtv300a ($(tail -1 "$PCAP.log"))"
expect_eq "no frame from VLAN-200 MAC $MAC_A1 reached VLAN 300" 0 "$(capture_count "$PCAP" "eth.src == $MAC_A1")"
expect_eq "no frame from VLAN-200 MAC $MAC_A2 reached VLAN 300" 0 "$(capture_count "$PCAP" "eth.src == $MAC_A2")"
expect_eq "no VLAN-200 ARP (10.200.1.1/.2) seen in VLAN 300" 0 \
	"$(capture_count "$PCAP" "arp.src.proto_ipv4 == 10.200.1.1 || arp.src.proto_ipv4 == 10.200.1.2")"
expect_eq "no VLAN-200 IP traffic seen in VLAN 300" 0 \
	"$(capture_count "$PCAP" "ip.src == 10.200.1.1 || ip.src == 10.200.1.2")"
expect_eq "no 802.1Q-tagged frame on the VNIC's face" 0 "$(capture_count "$PCAP" vlan)"
expect_ge "VLAN 300's own echo requests from vwtvb2 were seen" \
	"$(capture_count "$PCAP" "icmp.type == 8 && eth.src == $MAC_B2 && ip.dst == 10.200.1.3")" 1
expect_ge "VLAN 300's own broadcast ARP from vwtvb2 was seen" \
	"$(capture_count "$PCAP" "arp.opcode == 1 && eth.src == $MAC_B2 && eth.dst == ff:ff:ff:ff:ff:ff")" 1

expect_eq "every captured frame came from a VLAN-300 VNIC" 0 \
	"$(capture_count "$PCAP" "eth.src != $MAC_B2 && eth.src != $MAC_B1")"
