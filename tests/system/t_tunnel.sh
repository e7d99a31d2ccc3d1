#!/usr/bin/env bash
# VXLAN tunnels (issue 14) between three hosts, each a namespace with a
# vwired of its own, on an underlay LAN (host_lan vwttlan: the hosts'
# interfaces vwttua/ub/uc with 10.235.0.1-3/24).  Each host has a tunnel
# vwttt0 (VNI 100, the other two as remotes), and zones with a VNIC over it
# untagged (10.235.1.1-3/24) and with VID 7 (10.235.1.11-13/24: the same
# subnet, only the VLAN separates them):
#   - every pair of hosts pings both ways, untagged and in VID 7; nothing
#     crosses between the VLAN and the untagged zones;
#   - show-tunnel's fields; show-tunnel -x: the flood entries (the static
#     remotes) and the other hosts' VNIC MACs learned against their hosts'
#     underlay addresses;
#   - a capture on the underlay, decoded by tshark: VXLAN, VNI 100, the
#     inner 802.1Q tag 7 on the VLAN zones' frames, none on the others;
#   - TCP across (iperf3): well above 1 Gbit/s, super-frames crossing the
#     switch whole and leaving on the underlay whole (encapsulated first,
#     segmented by the kernel's UDP tunnel GSO where a NIC needs it);
#   - MTU: a VNIC over the tunnel gets 1450 (the underlay's 1500 - 50) by
#     default, one with a VID 1446 (its tag rides inside); full-size DF
#     pings fit, one byte more does not, and nothing is fragmented on the
#     underlay; 1500 is refused at create-vnic and at set-linkprop;
#   - bad input (a local address not on the host, a VNI out of range, the
#     same local address, port and VNI twice, ...): one line naming the
#     tunnel, nothing changed;
#   - persistence: export has the create-tunnel line; a restart re-creates
#     the tunnel (its device is gone while the daemon is), pings again; so
#     does a restart after SIGKILL (which leaves the device behind);
#   - delete-tunnel refused while VNICs are over it, done after.
VWT_OWN="vwtt"
. "$(dirname "$0")/lib.sh"

A=vwtta B=vwttb C=vwttc LAN=vwttlan
H=($A $B $C)
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"
command -v tshark >/dev/null || fail "tshark is not installed (make deps)"

for h in "${H[@]}"; do host_start "$h"; done
host_lan $LAN $A:vwttua $B:vwttub $C:vwttuc
i=1
for h in "${H[@]}"; do
	check "host $h: underlay address 10.235.0.$i/24 on vwttu${h: -1}" ip -n "$h" addr add "10.235.0.$i/24" dev "vwttu${h: -1}"
	i=$((i + 1))
done
# remotes I: the underlay addresses of the hosts other than the I-th
remotes() { local j r=; for j in 1 2 3; do [ "$j" = "$1" ] || r+=",remote=10.235.0.$j"; done; printf '%s' "$r"; }
i=1
for h in "${H[@]}"; do
	check "host $h: create-tunnel VNI 100, local 10.235.0.$i$(remotes $i | tr , ' ')" \
		hvwadm "$h" create-tunnel -T vxlan -a "local=10.235.0.$i$(remotes $i)" -p vni=100 vwttt0
	i=$((i + 1))
done

expect_eq "host $A: show-tunnel" "vwttt0:vxlan:100:10.235.0.1:4789:10.235.0.2,10.235.0.3:1450:vwttua:0" \
	"$(hvwadm $A show-tunnel -p -o link,type,vni,local,dstport,remotes,mtu,underlay,vnics)"
expect_eq "host $A: show-tunnel's default fields" "LINK TYPE VNI LOCAL DSTPORT REMOTES MTU VNICS" \
	"$(hvwadm $A show-tunnel | head -1 | tr -s ' ')"
expect_eq "host $A: show-link: vwttt0, class tunnel, MTU 1450" "vwttt0:tunnel:1450:up" \
	"$(hvwadm $A show-link -p -o link,class,mtu,state vwttt0)"
check "host $A: the tunnel's face is a kernel VXLAN device, VNI 100, local 10.235.0.1, port 4789, learning" \
	bash -c "ip -n $A -d link show vwttt0 | grep -q 'vxlan id 100 local 10.235.0.1 dev vwttua .*dstport 4789' &&
		! ip -n $A -d link show vwttt0 | grep -q nolearning"

# zone HOST ZONE VNIC ADDR [VID]: a zone of HOST with a VNIC over vwttt0
zone() {
	local h=$1 z=$2 v=$3 a=$4 vid=${5:-}
	check "host $h: zone $z" hvwadm "$h" create-zone "$z"
	check "host $h: VNIC $v over vwttt0${vid:+ with VID $vid} in $z" \
		hvwadm "$h" create-vnic -l vwttt0 ${vid:+-v "$vid"} -p zone="$z" "$v"
	check "host $h: $a/24 on $v" hvwadm "$h" create-addr -a "$a/24" "$v"
}
i=1
for h in "${H[@]}"; do
	x=${h: -1}
	zone "$h" "vwttx$x" "vwttv$x" "10.235.1.$i"
	zone "$h" "vwtty$x" "vwttw$x" "10.235.1.$((i + 10))" 7
	i=$((i + 1))
done

log "---- MTU: the tunnel's by default, no more"
expect_eq "VNIC vwttva's face in its zone has MTU 1450" 1450 "$(ip netns exec vwttxa cat /sys/class/net/vwttva/mtu)"
expect_eq "show-link: vwttva's MTU 1450" "vwttva:1450" "$(hvwadm $A show-link -p -o link,mtu vwttva)"
expect_eq "VNIC vwttwa (VID 7)'s face has MTU 1446: its tag rides inside the tunnel" 1446 \
	"$(ip netns exec vwttya cat /sys/class/net/vwttwa/mtu)"
expect_eq "host $A: show-tunnel counts 2 VNICs" 2 "$(hvwadm $A show-tunnel -p -o vnics vwttt0)"

log "---- every pair, untagged and in VID 7"
capture_start $B vwttub "$VW_TMP/underlay.pcap"
for p in "a b 2" "a c 3" "b a 1" "b c 3" "c a 1" "c b 2"; do
	read -r from to n <<<"$p"
	wait_ping 10 "vwttx$from" "10.235.1.$n"
	wait_ping 10 "vwtty$from" "10.235.1.$((n + 10))"
done
check "3 pings $A -> $B untagged" ip netns exec vwttxa ping -n -q -c 3 -i 0.05 -W 1 10.235.1.2
check "3 pings $B -> $A in VID 7" ip netns exec vwttyb ping -n -q -c 3 -i 0.05 -W 1 10.235.1.11
check "a full-size DF ping (1450 bytes) $A -> $C" ip netns exec vwttxa ping -n -q -c 2 -i 0.05 -W 1 -M do -s 1422 10.235.1.3
check_fail "one byte more does not fit the VNIC's MTU" ip netns exec vwttxa ping -n -q -c 1 -W 1 -M do -s 1423 10.235.1.3
check "a full-size DF ping (1446 bytes) in VID 7 $B -> $C" ip netns exec vwttyb ping -n -q -c 2 -i 0.05 -W 1 -M do -s 1418 10.235.1.13
check_fail "one byte more does not fit the VID-7 VNIC's MTU" ip netns exec vwttyb ping -n -q -c 1 -W 1 -M do -s 1419 10.235.1.13
check_fail "no ping from the untagged zone on $A to the VID-7 zone on $B" \
	ip netns exec vwttxa ping -n -q -c 2 -i 0.2 -W 1 10.235.1.12
check_fail "nor from the VID-7 zone on $C to the untagged zone on $A" \
	ip netns exec vwttyc ping -n -q -c 2 -i 0.2 -W 1 10.235.1.1
wait_until 10 "the capture holds the last echo replies from 10.235.1.11" \
	bash -c "[ \$(tshark -n -r '$VW_TMP/underlay.pcap' -Y 'icmp.type == 0 && ip.src == 10.235.1.11' 2>/dev/null | wc -l) -ge 3 ]"
capture_stop
# One pass of tshark: VNI, inner VID, ICMP type, the outer UDP destination
# port and the IP sources (outer,inner)
tshark -n -r "$VW_TMP/underlay.pcap" -d udp.port==4789,vxlan -T fields -E occurrence=a -e vxlan.vni -e vlan.id \
	-e icmp.type -e udp.dstport -e ip.src >"$VW_TMP/underlay.txt" 2>/dev/null
log "---- $(wc -l <"$VW_TMP/underlay.txt") frames captured on $B's underlay vwttub; the first echo request in VID 7:"
tshark -n -r "$VW_TMP/underlay.pcap" -d udp.port==4789,vxlan -V -Y 'vlan.id == 7 && icmp.type == 8' 2>/dev/null |
	awk '/^Frame / { n++ } n == 1' | grep -E '^[A-Z0-9]|VXLAN Network Identifier|ID: 7|Src: |Dst: |Destination Port' | _indent
frames() { awk -F "\t" "BEGIN { n = 0 } { vni = \$1; vid = \$2; icmp = \$3; port = \$4; split(\$5, ips, \",\"); outer = ips[1]; src = ips[2] } $1 { n++ } END { print n }" \
	"$VW_TMP/underlay.txt"; }
expect_ge "VID-7 echo requests from $B: VXLAN, VNI 100, inner tag 7" \
	"$(frames 'vni == 100 && vid == 7 && icmp == 8 && src == "10.235.1.12" && outer == "10.235.0.2" && port == 4789')" 3
expect_ge "VID-7 echo replies from $A: VXLAN, VNI 100, inner tag 7" \
	"$(frames 'vni == 100 && vid == 7 && icmp == 0 && icmp != "" && src == "10.235.1.11" && outer == "10.235.0.1"')" 3
expect_ge "untagged echo requests from $A: VXLAN, VNI 100, no inner tag" \
	"$(frames 'vni == 100 && vid == "" && icmp == 8 && src == "10.235.1.1" && outer == "10.235.0.1"')" 3
expect_eq "no VID-7 address's traffic went untagged" 0 \
	"$(frames 'vni != "" && vid == "" && src ~ /^10.235.1.1[123]$/')"
expect_eq "nothing was fragmented on the underlay (every outer packet fit its MTU)" 0 \
	"$(tshark -n -r "$VW_TMP/underlay.pcap" -Y 'ip.flags.mf == 1 || ip.frag_offset > 0' 2>/dev/null | wc -l)"
expect_ge "full-size frames crossed: outer packets of 1500 bytes, untagged and in VID 7" \
	"$(tshark -n -r "$VW_TMP/underlay.pcap" -Y 'ip.len == 1500 && vxlan' 2>/dev/null | wc -l)" 4
expect_eq "every UDP datagram on the underlay is VXLAN with VNI 100 (the rest: the hosts' own ARP, IPv6)" 0 "$(frames 'port != "" && (port != 4789 || vni != 100)')"

log "---- show-tunnel -x: flood entries and what each tunnel learned"
mac_of() { hvwadm "$1" show-vnic -p -o macaddress "$2" | tr -d '\\'; }
fdb() { hvwadm "$1" show-tunnel -x -p -o macaddress,remote,type vwttt0 | tr -d '\\'; }
log "---- host $A: show-tunnel -x"
hvwadm $A show-tunnel -x | _indent
i=1
for h in "${H[@]}"; do
	x=${h: -1} t=$(fdb "$h")
	for j in 1 2 3; do
		[ "$j" = $i ] && continue
		check "host $h: flood entry for 10.235.0.$j" grep -qx "flood:10.235.0.$j:static" <<<"$t"
		o=${H[$((j - 1))]} y=${o: -1}
		for v in "vwttv$y" "vwttw$y"; do
			m=$(mac_of "$o" "$v")
			check "host $h: learned $o's $v ($m) at 10.235.0.$j" grep -qx "$m:10.235.0.$j:learned" <<<"$t"
		done
	done
	expect_eq "host $h: nothing else in its table (2 flood, 4 learned)" 6 "$(wc -l <<<"$t")"
	i=$((i + 1))
done
expect_eq "show-tunnel -x's fields" "LINK MACADDRESS REMOTE TYPE IDLE" \
	"$(hvwadm $A show-tunnel -x | head -1 | tr -s ' ')"
expect_ge "an idle time in seconds" "$(hvwadm $A show-tunnel -x -p -o idle | head -1)" 0

log "---- TCP across the tunnel with super-frames"
# underlay_tx HOST: bytes and packets its underlay interface sent
underlay_tx() { ip -n "$1" -s -j link show "vwttu${1: -1}" |
	python3 -c 'import json, sys; s = json.load(sys.stdin)[0]["stats64"]["tx"]; print(s["bytes"], s["packets"])'; }
read -r ob0 op0 <<<"$(hvwstat $A -p -o obytes,opkts vwttva | tr : ' ')"
read -r ub0 up0 <<<"$(underlay_tx $A)"
kbps=$(tcp_kbps vwttxa vwttxb 10.235.1.2 2)
read -r ob1 op1 <<<"$(hvwstat $A -p -o obytes,opkts vwttva | tr : ' ')"
read -r ub1 up1 <<<"$(underlay_tx $A)"
vb=$(((ob1 - ob0) / (op1 - op0 + 1))) ub=$(((ub1 - ub0) / (up1 - up0 + 1)))
log "---- TCP $A -> $B over the tunnel: $((kbps / 1000)) Mbit/s; bytes per frame: $vb out of the VNIC, $ub on the underlay"
expect_ge "TCP over the tunnel is well above 1 Gbit/s (kbit/s)" "$kbps" 1000000
expect_ge "super-frames leave the VNIC whole (bytes per frame)" "$vb" 8000
expect_ge "and go on the underlay whole, encapsulated, for the kernel to segment after (bytes per packet)" "$ub" 8000
kbps=$(tcp_kbps vwttyc vwttya 10.235.1.11 1 5202)
log "---- TCP $C -> $A in VID 7: $((kbps / 1000)) Mbit/s"
expect_ge "TCP in VID 7 over the tunnel is well above 1 Gbit/s (kbit/s)" "$kbps" 1000000

log "---- MTU refused above the tunnel's"
check "host $A: a zone for more VNICs" hvwadm $A create-zone vwttza
check_fail "create-vnic -p mtu=1500 over the tunnel is refused" hvwadm $A create-vnic -l vwttt0 -p zone=vwttza,mtu=1500 vwttv9
check_fail "no VNIC vwttv9 was made" hvwadm $A show-link vwttv9
check_fail "set-linkprop -p mtu=1500 is refused" hvwadm $A set-linkprop -p mtu=1500 vwttva
check_fail "set-linkprop -p mtu=1450 is refused for the VID-7 VNIC" hvwadm $A set-linkprop -p mtu=1450 vwttwa
expect_eq "vwttva keeps MTU 1450" 1450 "$(ip netns exec vwttxa cat /sys/class/net/vwttva/mtu)"
check "set-linkprop -p mtu=1400 is taken" hvwadm $A set-linkprop -t -p mtu=1400 vwttva
expect_eq "vwttva's face has MTU 1400" 1400 "$(ip netns exec vwttxa cat /sys/class/net/vwttva/mtu)"
check "reset-linkprop -p mtu" hvwadm $A reset-linkprop -t -p mtu vwttva
expect_eq "vwttva's face is back to the tunnel's 1450" 1450 "$(ip netns exec vwttxa cat /sys/class/net/vwttva/mtu)"
check "create-vnic -p mtu=1450 is taken" hvwadm $A create-vnic -t -l vwttt0 -p zone=vwttza,mtu=1450 vwttv9
check "delete it" hvwadm $A delete-vnic vwttv9

log "---- bad input: one line naming the tunnel, nothing changed"
before=$(hvwadm $A export)
vxlans() { ip -n $A -o link show type vxlan | awk -F': ' '{ print $2 }'; }
bad() {   # DESC NAME WORDS...: the command fails with one line naming NAME
	local out
	if out=$(hvwadm $A "${@:3}" 2>&1); then
		fail "$1: accepted: vwadm ${*:3}"
	fi
	VW_NCHECK=$((VW_NCHECK + 1))
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "$1: more than one line: $out"
	grep -q "$2" <<<"$out" || fail "$1: the message does not name $2: $out"
	log "ok   - $1: $out"
}
bad "a local address not on this host" vwttt1 create-tunnel -T vxlan -a local=10.235.0.9,remote=10.235.0.2 -p vni=101 vwttt1
bad "a local address of another host" vwttt1 create-tunnel -T vxlan -a local=10.235.0.2 -p vni=101 vwttt1
bad "a VNI out of range" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1 -p vni=16777216 vwttt1
bad "a VNI that is not a number" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1 -p vni=ten vwttt1
bad "the same local address, port and VNI as vwttt0" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1,remote=10.235.0.3 -p vni=100 vwttt1
bad "the same, the port given" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1,dstport=4789 -p vni=100 vwttt1
bad "an unknown tunnel type" vwttt1 create-tunnel -T gre -a local=10.235.0.1 -p vni=101 vwttt1
bad "no VNI" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1 -p dstport=4790 vwttt1
bad "a remote that is the local address" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1,remote=10.235.0.1 -p vni=101 vwttt1
bad "an invalid remote" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1,remote=10.235.0 -p vni=101 vwttt1
bad "a dstport out of range" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1,dstport=65536 -p vni=101 vwttt1
bad "an unknown attribute" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1,ttl=3 -p vni=101 vwttt1
bad "a name taken by a link" vwttva create-tunnel -T vxlan -a local=10.235.0.1 -p vni=101 vwttva
bad "a name taken by a Linux interface" vwttua create-tunnel -T vxlan -a local=10.235.0.1 -p vni=101 vwttua
bad "deleting a tunnel with VNICs" vwttt0 delete-tunnel vwttt0
bad "deleting no tunnel" vwttt9 delete-tunnel vwttt9
bad "deleting a VNIC with delete-tunnel" vwttva delete-tunnel vwttva
bad "show-tunnel of no tunnel" vwttt9 show-tunnel vwttt9
bad "a VNIC over the tunnel with MTU 1451" vwttv9 create-vnic -l vwttt0 -p mtu=1451 vwttv9
bad "a VNIC with a VID over the tunnel with MTU 1447" vwttv9 create-vnic -l vwttt0 -v 7 -p mtu=1447 vwttv9
bad "a remote given twice" vwttt1 create-tunnel -T vxlan -a local=10.235.0.1,remote=10.235.0.2,remote=10.235.0.2 -p vni=101 vwttt1
expect_eq "nothing changed (export)" "$before" "$(hvwadm $A export)"
expect_eq "no VXLAN device but vwttt0's in $A" vwttt0 "$(vxlans)"
check "but another VNI on the same local address and port is a tunnel of its own" \
	hvwadm $A create-tunnel -t -T vxlan -a local=10.235.0.1,remote=10.235.0.2 -p vni=101 vwttt1
check "and it goes" hvwadm $A delete-tunnel vwttt1
check_fail "with its device" ip -n $A link show vwttt1

log "---- persistence and a restart"
expect_eq "host $A: export has the tunnel" "create-tunnel -T vxlan -a local=10.235.0.1,remote=10.235.0.2,remote=10.235.0.3 -p vni=100 vwttt0" \
	"$(hvwadm $A export | grep tunnel)"
host_stop $A
expect_eq "host $A's daemon exited cleanly" 0 "$VW_STOP_STATUS"
check_fail "the tunnel's device went with the daemon" ip -n $A link show vwttt0
host_start $A
expect_eq "host $A: show-tunnel after the restart" "vwttt0:vxlan:100:10.235.0.1:4789:10.235.0.2,10.235.0.3:1450:vwttua:2" \
	"$(hvwadm $A show-tunnel -p -o link,type,vni,local,dstport,remotes,mtu,underlay,vnics)"
expect_eq "host $A: show-vnic after the restart" "vwttva:vwttt0:0:vwttxa
vwttwa:vwttt0:7:vwttya" "$(hvwadm $A show-vnic -p -o link,over,vid,zone)"
expect_eq "host $A: the flood entries are back" "flood:10.235.0.2:static
flood:10.235.0.3:static" "$(fdb $A | grep flood | sort)"
for z in vwttxa vwttya; do ip -n $z neigh flush all; done
wait_ping 10 vwttxa 10.235.1.2
wait_ping 10 vwttxa 10.235.1.3
wait_ping 10 vwttyb 10.235.1.11
wait_ping 10 vwttyc 10.235.1.11
check "3 pings $C -> $A untagged" ip netns exec vwttxc ping -n -q -c 3 -i 0.05 -W 1 10.235.1.1

log "---- host $B's daemon killed with SIGKILL: it leaves the device; the next one replaces it"
check "host $B: a temporary tunnel too (VNI 101)" hvwadm $B create-tunnel -t -T vxlan -a local=10.235.0.2 -p vni=101 vwttt1
host_kill9 $B
check "host $B: the tunnel's device is left" ip -n $B link show vwttt0
host_start $B
check "host $B: the new daemon replaced it (its own alias on the device)" \
	bash -c "ip -n $B -d link show vwttt0 | grep -q 'alias vwire tunnel vwttt0, '"
check_fail "host $B: and removed the temporary tunnel's" ip -n $B link show vwttt1
for z in vwttxb vwttyb; do ip -n $z neigh flush all; done
wait_ping 10 vwttxb 10.235.1.1
wait_ping 10 vwttyb 10.235.1.13
wait_ping 10 vwttxc 10.235.1.2

log "---- delete-tunnel"
check_fail "host $A: delete-tunnel refused with VNICs over it" hvwadm $A delete-tunnel vwttt0
check "host $A: delete its VNICs" bash -c "hvwadm $A delete-vnic vwttva && hvwadm $A delete-vnic vwttwa"
check "host $A: delete-tunnel" hvwadm $A delete-tunnel vwttt0
check_fail "host $A: the tunnel's device is gone" ip -n $A link show vwttt0
expect_eq "host $A: no tunnel left" "" "$(hvwadm $A show-tunnel -p -o link)"
expect_eq "host $A: nor in export" "" "$(hvwadm $A export | grep -e tunnel -e vwttt0 || true)"
