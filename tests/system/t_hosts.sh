#!/usr/bin/env bash
# vwire across hosts: each "host" a namespace with a vwired of its own
# (host_start), hosts joined by veth pairs (host_link) and by a Linux bridge
# in a namespace of its own, the physical LAN (host_lan).
#   - vwtha and vwthb, one wire vwthpa -- vwthpb: on each, a zone with a VNIC
#     over the wire (10.230.0.1, .2/24) and a zone with a VID-7 VNIC over it
#     (10.230.0.11, .12/24: the same subnet, only the VLAN separates them);
#     pings cross between the two daemons both ways, VID 7 tagged on the
#     wire, and nothing crosses between the VLAN and the untagged zones;
#   - vwthb's daemon restarts (SIGTERM, then on its saved state): pings again;
#   - vwthc joins, and the three hosts get a second phys each on the LAN
#     vwthlan (10.230.1.1-3/24): the three zones ping each other; vwthc's
#     daemon is killed with SIGKILL and restarts: its zone pings again.
VWT_OWN="vwth"
. "$(dirname "$0")/lib.sh"

A=vwtha B=vwthb C=vwthc LAN=vwthlan

host_start $A
host_start $B
host_link $A vwthpa $B vwthpb

# zone NAME HOST PHYS VNIC ADDR [VID]: a zone of HOST with a VNIC over PHYS.
zone() {
	local z=$1 h=$2 phys=$3 v=$4 a=$5 vid=${6:-}
	check "host $h: create zone $z" hvwadm "$h" create-zone "$z"
	if [ -n "$vid" ]; then
		check "host $h: VNIC $v over $phys with VID $vid in $z" \
			hvwadm "$h" create-vnic -l "$phys" -v "$vid" -p zone="$z" "$v"
	else
		check "host $h: VNIC $v over $phys in $z" hvwadm "$h" create-vnic -l "$phys" -p zone="$z" "$v"
	fi
	check "host $h: address $a/24 on $v" hvwadm "$h" create-addr -a "$a/24" "$v"
	check "$v is up in zone $z (entered from outside host $h)" ip -n "$z" link show "$v" up
}

zone vwthza $A vwthpa vwthva 10.230.0.1
zone vwthzb $B vwthpb vwthvb 10.230.0.2
zone vwthya $A vwthpa vwthwa 10.230.0.11 7
zone vwthyb $B vwthpb vwthwb 10.230.0.12 7

expect_eq "host $A: show-vnic" "vwthva:vwthpa:0:vwthza
vwthwa:vwthpa:7:vwthya" "$(hvwadm $A show-vnic -p -o link,over,vid,zone)"
expect_eq "host $B: show-vnic (each daemon sees its own VNICs only)" "vwthvb:vwthpb:0:vwthzb
vwthwb:vwthpb:7:vwthyb" "$(hvwadm $B show-vnic -p -o link,over,vid,zone)"
expect_eq "host $A: its phys vwthpa is attached" "vwthpa:yes" "$(hvwadm $A show-phys -p -o link,attached vwthpa)"
check_fail "host $A's daemon does not see host $B's phys" hvwadm $A show-phys vwthpb
# A VNIC's devices: its face in its zone (a TAP without the fast path);
# with the fast path, its veth's host end vwhN and slow-path TAP vwcN, in
# its host's namespace, with an alias naming the VNIC.
if host_fast $A; then
	check "host $A's daemon made vwthva's host-end devices in $A" \
		bash -c "ip -n $A -o link show | grep -q 'alias vwire VNIC vwthva'"
fi
check "no VNIC device of this test is in our namespace" \
	bash -c "! ip -o link show | grep -q -e 'alias vwire VNIC vwth' -e ': vwth'"

log "---- across the wire between two daemons"
capture_start $B vwthpb "$VW_TMP/wire.pcap"
wait_ping 10 vwthza 10.230.0.2
wait_ping 10 vwthzb 10.230.0.1
wait_ping 10 vwthya 10.230.0.12
wait_ping 10 vwthyb 10.230.0.11
check "3 pings $A -> $B untagged" ip netns exec vwthza ping -n -q -c 3 -i 0.05 -W 1 10.230.0.2
check "3 pings $B -> $A in VID 7" ip netns exec vwthyb ping -n -q -c 3 -i 0.05 -W 1 10.230.0.11
check_fail "no ping from the untagged zone on $A to the VID-7 zone on $B" \
	ip netns exec vwthza ping -n -q -c 2 -i 0.2 -W 1 10.230.0.12
wait_until 10 "the capture holds the last echo replies from 10.230.0.11" \
	bash -c "[ \$(tshark -n -r '$VW_TMP/wire.pcap' -Y 'icmp.type == 0 && ip.src == 10.230.0.11' 2>/dev/null | wc -l) -ge 3 ]"
capture_stop
# One pass of tshark over the capture: VID, ICMP type, IP source and
# destination, ARP sender address of each frame; frames COND counts those
# matching an awk condition on them.
tshark -n -r "$VW_TMP/wire.pcap" -T fields -e vlan.id -e icmp.type -e ip.src -e ip.dst \
	-e arp.src.proto_ipv4 >"$VW_TMP/wire.txt" 2>/dev/null
log "---- $(wc -l <"$VW_TMP/wire.txt") frames captured on vwthpb"
frames() { awk -F "\t" "BEGIN { n = 0 } { vid = \$1; icmp = \$2; src = \$3; dst = \$4; arp = \$5 } $1 { n++ } END { print n }" \
	"$VW_TMP/wire.txt"; }
expect_ge "VID-7 echo requests on the wire carry tag 7" \
	"$(frames 'vid == 7 && icmp == 8 && src == "10.230.0.12"')" 3
expect_ge "VID-7 echo replies on the wire carry tag 7" \
	"$(frames 'vid == 7 && icmp == 0 && icmp != "" && src == "10.230.0.11"')" 3
expect_eq "no VID-7 address's traffic went untagged" 0 \
	"$(frames 'vid == "" && (src ~ /^10.230.0.1[12]$/ || dst ~ /^10.230.0.1[12]$/ || arp ~ /^10.230.0.1[12]$/)')"
expect_ge "untagged echo requests on the wire" "$(frames 'vid == "" && icmp == 8 && src == "10.230.0.1"')" 3
expect_eq "no tag other than 7 on the wire" 0 "$(frames 'vid != "" && vid != 7')"
expect_ge "host $B counted frames received on its phys" "$(hvwstat $B -p -o ipkts vwthpb)" 6

log "---- host $B's daemon restarts"
host_stop $B
expect_eq "host $B's daemon exited cleanly" 0 "$VW_STOP_STATUS"
host_start $B
expect_eq "host $B: show-vnic after the restart" "vwthvb:vwthpb:0:vwthzb
vwthwb:vwthpb:7:vwthyb" "$(hvwadm $B show-vnic -p -o link,over,vid,zone)"
for z in vwthza vwthzb vwthya vwthyb; do ip -n $z neigh flush all; done
wait_ping 10 vwthza 10.230.0.2
wait_ping 10 vwthzb 10.230.0.1
wait_ping 10 vwthyb 10.230.0.11
wait_ping 10 vwthya 10.230.0.12

log "---- three hosts on a LAN"
host_start $C
host_lan $LAN $A:vwthla $B:vwthlb $C:vwthlc
zone vwthxa $A vwthla vwthua 10.230.1.1
zone vwthxb $B vwthlb vwthub 10.230.1.2
zone vwthxc $C vwthlc vwthuc 10.230.1.3
for p in "a 2" "a 3" "b 1" "b 3" "c 1" "c 2"; do
	read -r from to <<<"$p"
	wait_ping 10 "vwthx$from" "10.230.1.$to"
done
for h in "$A vwthua" "$B vwthub" "$C vwthuc"; do
	read -r h v <<<"$h"
	mac=$(hvwadm "$h" show-vnic -p -o macaddress "$v" | tr -d '\\')
	check "the LAN's bridge learnt $v's MAC $mac" bash -c "bridge -n $LAN fdb show br vwtbr | grep -q '^$mac '"
done

log "---- host $C's daemon killed with SIGKILL, then restarted"
host_kill9 $C
host_start $C
expect_eq "host $C: show-vnic after the restart" "vwthuc:vwthlc:0:vwthxc" \
	"$(hvwadm $C show-vnic -p -o link,over,vid,zone)"
ip -n vwthxc neigh flush all
wait_ping 10 vwthxc 10.230.1.1
wait_ping 10 vwthxc 10.230.1.2
wait_ping 10 vwthxa 10.230.1.3
