#!/usr/bin/env bash
# VNICs over a phys: a veth pair made by the test, vwtp0 in the host as the
# uplink, vwtp1 in namespace vwtfar as "the wire's far end".  One VNIC
# untagged (far end: vwtp1 itself), one with VID 100 (far end: VLAN device
# vwtp1.100).  A capture on vwtp1 shows the tag on the wire.  show-phys shows
# vwtp0 attached while it has VNICs, detached after.
VWT_OWN="vwtp vwtfar"
. "$(dirname "$0")/lib.sh"

FAR=vwtfar Z0=vwtpz0 Z1=vwtpz1 V0=vwtpv0 V1=vwtpv1
far_side $FAR vwtp 10.200.3.1
far_vlan $FAR vwtp1 100 10.200.4.1

vw_start
expect_eq "show-phys: vwtp0 is a veth, not attached yet" "vwtp0:Ethernet:veth:no" \
	"$(vwadm show-phys -p -o link,media,device,attached vwtp0)"
check "create zone $Z0" vwadm create-zone $Z0
check "create zone $Z1" vwadm create-zone $Z1
check "create VNIC $V0 over phys vwtp0 in $Z0 (no VID)" vwadm create-vnic -l vwtp0 -p zone=$Z0 $V0
check "create VNIC $V1 over phys vwtp0 in $Z1 with VID 100" vwadm create-vnic -l vwtp0 -v 100 -p zone=$Z1 $V1
check "address 10.200.3.2/24 on $V0" vwadm create-addr -a 10.200.3.2/24 $V0
check "address 10.200.4.2/24 on $V1" vwadm create-addr -a 10.200.4.2/24 $V1
expect_eq "show-phys: vwtp0 attached" "vwtp0:yes" "$(vwadm show-phys -p -o link,attached vwtp0)"
expect_eq "show-phys lists vwtp0 (no operand)" "vwtp0:yes" \
	"$(vwadm show-phys -p -o link,attached | grep '^vwtp0:')"
expect_eq "show-link: vwtp0 is class phys" "vwtp0:phys" "$(vwadm show-link -p -o link,class vwtp0)"
expect_eq "show-vnic: both over vwtp0" "$V0:vwtp0:0:$Z0
$V1:vwtp0:100:$Z1" "$(vwadm show-vnic -p -o link,over,vid,zone)"
check "vwtp0 is up" ip link show vwtp0 up

# traffic MODE: pings both ways, untagged and in VID 100, with the tags right
# on the wire and vwstat counting; MODE names the uplink's receive path.
traffic() {
	local mode=$1 PCAP=$VW_TMP/wire-$1.pcap
	# ARP afresh each time: faces that outlive a daemon restart (the
	# kernel fast path) keep their neighbours
	ip -n $Z0 neigh flush all; ip -n $Z1 neigh flush all; ip -n $FAR neigh flush all
	capture_start $FAR vwtp1 "$PCAP"
	wait_ping 10 $Z0 10.200.3.1
	wait_ping 10 $Z1 10.200.4.1
	check "5 untagged pings $Z0 -> far end succeed" ip netns exec $Z0 ping -n -q -c 5 -i 0.05 -W 1 10.200.3.1
	check "5 VID-100 pings $Z1 -> far end vwtp1.100 succeed" ip netns exec $Z1 ping -n -q -c 5 -i 0.05 -W 1 10.200.4.1
	check "far end pings $V0 back" ip netns exec $FAR ping -n -q -c 3 -i 0.05 -W 1 10.200.3.2
	check "far end pings $V1 back over vwtp1.100" ip netns exec $FAR ping -n -q -c 3 -i 0.05 -W 1 10.200.4.2
	wait_until 10 "the capture holds the last echo replies from $V1" \
		bash -c "[ \$(tshark -n -r '$PCAP' -Y 'icmp.type == 0 && ip.src == 10.200.4.2' 2>/dev/null | wc -l) -ge 3 ]"
	capture_stop
	log "---- $(capture_count "$PCAP" frame) frames captured on vwtp1 ($(tail -1 "$PCAP.log"))"
	expect_ge "VID-100 echo requests on the wire carry 802.1Q tag 100" \
		"$(capture_count "$PCAP" "vlan.id == 100 && icmp.type == 8 && ip.src == 10.200.4.2")" 1
	expect_ge "VID-100 echo replies to $V1 carry tag 100" \
		"$(capture_count "$PCAP" "vlan.id == 100 && icmp.type == 0 && ip.dst == 10.200.4.2")" 1
	expect_ge "VID-100 ARP from $V1 carries tag 100" \
		"$(capture_count "$PCAP" "vlan.id == 100 && arp.src.proto_ipv4 == 10.200.4.2")" 1
	expect_eq "no VID-100 traffic went untagged" 0 \
		"$(capture_count "$PCAP" "!vlan && (ip.addr == 10.200.4.2 || arp.src.proto_ipv4 == 10.200.4.2)")"
	expect_eq "no VID-100 frame carries a tag other than 100" 0 \
		"$(capture_count "$PCAP" "vlan && vlan.id != 100")"
	expect_ge "untagged VNIC's echo requests are on the wire untagged" \
		"$(capture_count "$PCAP" "!vlan && icmp.type == 8 && ip.src == 10.200.3.2")" 1
	expect_ge "untagged VNIC's ARP is on the wire untagged" \
		"$(capture_count "$PCAP" "!vlan && arp.src.proto_ipv4 == 10.200.3.2")" 1
	expect_eq "the untagged VNIC's traffic carries no tag" 0 \
		"$(capture_count "$PCAP" "vlan && (ip.addr == 10.200.3.2 || arp.src.proto_ipv4 == 10.200.3.2)")"
	expect_ge "vwstat counted frames sent by $V1" "$(vw_counter $V1 opkts)" 5
	expect_ge "vwstat counted frames received from the wire on vwtp0" "$(vw_counter vwtp0 ipkts)" 10
}

expect_ge "the daemon logged that uplink vwtp0 reads a TPACKET_V2 receive ring" \
	"$(grep -c 'uplink vwtp0: TPACKET_V2 receive ring, sendmmsg, vnet headers' "$VW_TMP/vwired.log")" 1
traffic ring

vw_stop
VWIRE_UPLINK_RING=0 vw_start
expect_eq "the daemon logged that uplink vwtp0 reads with recvmmsg (VWIRE_UPLINK_RING=0)" 1 \
	"$(grep -c 'uplink vwtp0: recvmmsg/sendmmsg, vnet headers (no ring: VWIRE_UPLINK_RING=0)' "$VW_TMP/vwired.log")"
expect_eq "show-vnic after the restart: both VNICs back over vwtp0" "$V0:vwtp0:0:$Z0
$V1:vwtp0:100:$Z1" "$(vwadm show-vnic -p -o link,over,vid,zone)"
traffic recvmmsg

check "delete VNIC $V0" vwadm delete-vnic $V0
expect_eq "show-phys: vwtp0 still attached (VNIC $V1 left)" "vwtp0:yes" "$(vwadm show-phys -p -o link,attached vwtp0)"
check "delete VNIC $V1" vwadm delete-vnic $V1
expect_eq "show-phys: vwtp0 detached once it has no VNIC" "vwtp0:no" "$(vwadm show-phys -p -o link,attached vwtp0)"
check_fail "show-link no longer lists vwtp0" vwadm show-link vwtp0
check "the host's vwtp0 still exists (detaching does not delete it)" ip link show vwtp0
check "no VNIC left in $Z0" bash -c "! ip -n $Z0 -o link show | grep -q $V0"
check "no VNIC left in $Z1" bash -c "! ip -n $Z1 -o link show | grep -q $V1"
expect_eq "export holds no VNIC" "create-zone $Z0
create-zone $Z1" "$(vwadm export)"
