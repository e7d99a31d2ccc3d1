#!/usr/bin/env bash
# VXLAN interop (issue 14): a vwire tunnel against the two VXLAN
# implementations it must work with, on one underlay LAN (vwtilan,
# 10.236.0.0/24):
#   vwtiv  vwired: tunnel vwtit0 (VNI 100, local 10.236.0.1, remotes .2 and
#          .3), a zone vwtizv with a VNIC over it, 10.236.1.1/24;
#   vwtik  the Linux kernel's own: a vxlan device (id 100, local .2,
#          remote .1, dstport 4789) and a veth to zone vwtizk
#          (10.236.1.2/24), both ports of a Linux bridge;
#   vwtio  Open vSwitch, userspace datapath (a private instance): bridge
#          vwtiop holds the underlay address .3 and the port to the LAN,
#          bridge vwtioi a VXLAN port (remote_ip .1, key 100) and an
#          internal port moved into zone vwtizo (10.236.1.3/24): OVS's
#          userspace ("native") tunnelling, which routes and resolves the
#          remote through the bridge that holds the underlay address.
# Checked: pings both ways between the vwire zone and each peer's; TCP
# (iperf3) both ways with each; a capture on vwire's underlay decoded by
# tshark as VXLAN with VNI 100 from and to both peers; each side learned
# the other's MAC against the right underlay address (vwadm show-tunnel
# -x, bridge fdb, ovs-appctl fdb/show).  OVS's tunnel state is printed
# (ovs/route/show, tnl/ports/show, tnl/arp/show).
#
# OVS's port to the LAN is an OVS internal port (a TAP) moved into the
# LAN's namespace and made a port of its bridge, not a veth: a veth hands
# OVS the frames a Linux sender left with partial checksums as they are
# (the outer UDP checksum computed for an inner TCP checksum still to be
# filled in), and OVS 3.1's tunnel pop drops them
# (datapath_drop_tunnel_pop_error), with or without userspace TSO; a TAP
# that takes no offloads makes the kernel fill in both checksums and cut
# super-frames before OVS reads them, as a NIC would.
VWT_OWN="vwti"
. "$(dirname "$0")/lib.sh"

V=vwtiv K=vwtik O=vwtio LAN=vwtilan
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"
command -v tshark >/dev/null || fail "tshark is not installed (make deps)"

log "---- vwire"
host_start $V
host_lan $LAN $V:vwtiuv
check "$V: underlay address 10.236.0.1/24" ip -n $V addr add 10.236.0.1/24 dev vwtiuv
check "$V: create-tunnel VNI 100, remotes 10.236.0.2 (kernel), 10.236.0.3 (OVS)" \
	hvwadm $V create-tunnel -T vxlan -a local=10.236.0.1,remote=10.236.0.2,remote=10.236.0.3 -p vni=100 vwtit0
check "$V: zone vwtizv" hvwadm $V create-zone vwtizv
check "$V: VNIC vwtivv over the tunnel" hvwadm $V create-vnic -l vwtit0 -p zone=vwtizv vwtivv
check "$V: 10.236.1.1/24" hvwadm $V create-addr -a 10.236.1.1/24 vwtivv

log "---- the Linux kernel: vxlan device and bridge"
check "create namespace $K" ip netns add $K
host_lan $LAN $K:vwtiuk
check "$K: underlay address 10.236.0.2/24" ip -n $K addr add 10.236.0.2/24 dev vwtiuk
check "$K: ip link add vwtikx type vxlan id 100 local 10.236.0.2 remote 10.236.0.1 dstport 4789 dev vwtiuk" \
	ip -n $K link add vwtikx type vxlan id 100 local 10.236.0.2 remote 10.236.0.1 dstport 4789 dev vwtiuk
check "$K: bridge vwtikb" ip -n $K link add vwtikb type bridge stp_state 0
check "zone vwtizk" ip netns add vwtizk
check "$K: veth vwtikv -- vwtizk's eth0" ip -n $K link add vwtikv type veth peer name eth0 netns vwtizk
check "$K: vxlan device and veth are ports of the bridge" \
	bash -c "ip -n $K link set vwtikx master vwtikb && ip -n $K link set vwtikv master vwtikb"
check "$K: all up" bash -c "for d in vwtikx vwtikv vwtikb; do ip -n $K link set \$d up || exit 1; done"
check "vwtizk: MTU 1450, 10.236.1.2/24, up" bash -c "ip -n vwtizk link set eth0 mtu 1450 &&
	ip -n vwtizk addr add 10.236.1.2/24 dev eth0 && ip -n vwtizk link set eth0 up && ip -n vwtizk link set lo up"

log "---- Open vSwitch: userspace datapath, native tunnelling"
ovs_start $O
check "OVS: underlay bridge vwtiop" ovs_vsctl $O add-br vwtiop -- set bridge vwtiop datapath_type=netdev
check "OVS: its port to the LAN, vwtiuo (internal: a TAP)" \
	ovs_vsctl $O add-port vwtiop vwtiuo -- set interface vwtiuo type=internal
wait_until 10 "OVS made vwtiuo" ip -n $O link show vwtiuo
check "vwtiuo moved into the LAN, a port of its bridge" bash -c "ip -n $O link set vwtiuo netns $LAN &&
	ip -n $LAN link set vwtiuo master vwtbr up"
check "OVS: underlay address 10.236.0.3/24 on vwtiop" ip -n $O addr add 10.236.0.3/24 dev vwtiop
check "OVS: vwtiop up" ip -n $O link set vwtiop up
check "OVS: integration bridge vwtioi" ovs_vsctl $O add-br vwtioi -- set bridge vwtioi datapath_type=netdev
check "OVS: VXLAN port vwtiox (remote_ip 10.236.0.1, local_ip 10.236.0.3, key 100)" \
	ovs_vsctl $O add-port vwtioi vwtiox -- set interface vwtiox type=vxlan options:remote_ip=10.236.0.1 \
	options:local_ip=10.236.0.3 options:key=100
check "OVS: internal port vwtioz for the zone" ovs_vsctl $O add-port vwtioi vwtioz -- set interface vwtioz type=internal
wait_until 10 "OVS made vwtioz" ip -n $O link show vwtioz
check "zone vwtizo" ip netns add vwtizo
check "vwtioz moved into vwtizo: MTU 1450, 10.236.1.3/24, up" bash -c "ip -n $O link set vwtioz netns vwtizo &&
	ip -n vwtizo link set vwtioz mtu 1450 && ip -n vwtizo addr add 10.236.1.3/24 dev vwtioz &&
	ip -n vwtizo link set vwtioz up && ip -n vwtizo link set lo up"
wait_until 10 "OVS routes 10.236.0.1 through vwtiop (its cache of the kernel's routes)" \
	bash -c "$(declare -f ovs_appctl _ovs_run _ovs_dir); VW_TMP='$VW_TMP'; ovs_appctl $O ovs/route/lookup 10.236.0.1 | grep -q vwtiop"

log "---- pings"
capture_start $V vwtiuv "$VW_TMP/underlay.pcap"
wait_ping 10 vwtizv 10.236.1.2
wait_ping 10 vwtizv 10.236.1.3
check "3 pings vwire -> kernel" ip netns exec vwtizv ping -n -q -c 3 -i 0.05 -W 1 10.236.1.2
check "3 pings kernel -> vwire" ip netns exec vwtizk ping -n -q -c 3 -i 0.05 -W 1 10.236.1.1
check "3 pings vwire -> OVS" ip netns exec vwtizv ping -n -q -c 3 -i 0.05 -W 1 10.236.1.3
check "3 pings OVS -> vwire" ip netns exec vwtizo ping -n -q -c 3 -i 0.05 -W 1 10.236.1.1
check "a full-size DF ping (1450 bytes) vwire -> kernel" ip netns exec vwtizv ping -n -q -c 2 -i 0.05 -W 1 -M do -s 1422 10.236.1.2
check "a full-size DF ping (1450 bytes) vwire -> OVS" ip netns exec vwtizv ping -n -q -c 2 -i 0.05 -W 1 -M do -s 1422 10.236.1.3
wait_until 10 "the capture holds the last echo replies from OVS's zone" \
	bash -c "[ \$(tshark -n -r '$VW_TMP/underlay.pcap' -Y 'icmp.type == 0 && ip.src == 10.236.1.3 && ip.len == 1450' 2>/dev/null | wc -l) -ge 2 ]"
capture_stop
tshark -n -r "$VW_TMP/underlay.pcap" -d udp.port==4789,vxlan -T fields -E occurrence=a -e vxlan.vni -e icmp.type \
	-e udp.dstport -e ip.src -e ip.dst >"$VW_TMP/underlay.txt" 2>/dev/null
log "---- $(wc -l <"$VW_TMP/underlay.txt") frames captured on $V's underlay; tshark's decoding of an echo request to each peer:"
for peer in 10.236.1.2 10.236.1.3; do
	tshark -n -r "$VW_TMP/underlay.pcap" -d udp.port==4789,vxlan -V -Y "icmp.type == 8 && ip.dst == $peer" 2>/dev/null |
		awk '/^Frame / { n++ } n == 1' | grep -E '^(Internet|User|Virtual)|VXLAN Network Identifier' | _indent
done
# frames COND: frames of the capture matching an awk condition on vni,
# icmp, port, outer and inner source and destination
frames() { awk -F "\t" "BEGIN { n = 0 } { vni = \$1; icmp = \$2; port = \$3; split(\$4, s, \",\"); split(\$5, d, \",\")
	osrc = s[1]; odst = d[1]; src = s[2]; dst = d[2] } $1 { n++ } END { print n }" "$VW_TMP/underlay.txt"; }
expect_ge "echo requests vwire -> kernel: VXLAN, VNI 100, 10.236.0.1 -> .2" \
	"$(frames 'vni == 100 && icmp == 8 && port == 4789 && osrc == "10.236.0.1" && odst == "10.236.0.2" && dst == "10.236.1.2"')" 3
expect_ge "echo replies kernel -> vwire: VXLAN, VNI 100, 10.236.0.2 -> .1" \
	"$(frames 'vni == 100 && icmp == 0 && icmp != "" && osrc == "10.236.0.2" && odst == "10.236.0.1" && src == "10.236.1.2"')" 3
expect_ge "echo requests vwire -> OVS: VXLAN, VNI 100, 10.236.0.1 -> .3" \
	"$(frames 'vni == 100 && icmp == 8 && port == 4789 && osrc == "10.236.0.1" && odst == "10.236.0.3" && dst == "10.236.1.3"')" 3
expect_ge "echo replies OVS -> vwire: VXLAN, VNI 100, 10.236.0.3 -> .1" \
	"$(frames 'vni == 100 && icmp == 0 && icmp != "" && osrc == "10.236.0.3" && odst == "10.236.0.1" && src == "10.236.1.3"')" 3
expect_eq "every UDP datagram on the underlay is VXLAN with VNI 100" 0 \
	"$(frames 'port != "" && (port != 4789 || vni != 100)')"

log "---- what each side learned"
log "---- vwadm show-tunnel -x"
hvwadm $V show-tunnel -x | _indent
fdb=$(hvwadm $V show-tunnel -x -p -o macaddress,remote,type vwtit0 | tr -d '\\')
mk=$(ip -n vwtizk -j link show eth0 | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["address"])')
mo=$(ip -n vwtizo -j link show vwtioz | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["address"])')
mv=$(hvwadm $V show-vnic -p -o macaddress vwtivv | tr -d '\\')
check "vwire learned the kernel zone's MAC $mk at 10.236.0.2" grep -qx "$mk:10.236.0.2:learned" <<<"$fdb"
check "vwire learned the OVS zone's MAC $mo at 10.236.0.3" grep -qx "$mo:10.236.0.3:learned" <<<"$fdb"
log "---- bridge fdb show dev vwtikx ($K)"
bridge -n $K fdb show dev vwtikx | _indent
check "the kernel's vxlan device learned the VNIC's MAC $mv at 10.236.0.1" \
	bash -c "bridge -n $K fdb show dev vwtikx | grep -q '^$mv dst 10.236.0.1 '"
log "---- ovs-appctl fdb/show vwtioi"
ofdb=$(ovs_appctl $O fdb/show vwtioi)
_indent <<<"$ofdb"
port=$(ovs_vsctl $O get interface vwtiox ofport)
check "OVS learned the VNIC's MAC $mv on its VXLAN port (OpenFlow port $port)" \
	awk -v p="$port" -v m="$mv" '$1 == p && $3 == m { f = 1 } END { exit !f }' <<<"$ofdb"
for c in ovs/route/show tnl/ports/show tnl/arp/show; do
	log "---- ovs-appctl $c"
	ovs_appctl $O $c | _indent
done

log "---- TCP both ways with each peer"
tcp() {   # DESC FROM TO ADDR PORT MIN-KBPS
	local k
	k=$(tcp_kbps "$2" "$3" "$4" 2 "$5")
	log "---- TCP $1: $((k / 1000)) Mbit/s"
	expect_ge "TCP $1 (kbit/s)" "$k" "$6"
}
tcp "vwire -> kernel" vwtizv vwtizk 10.236.1.2 5201 1000000
tcp "kernel -> vwire" vwtizk vwtizv 10.236.1.1 5202 1000000
tcp "vwire -> OVS" vwtizv vwtizo 10.236.1.3 5203 100000
tcp "OVS -> vwire" vwtizo vwtizv 10.236.1.1 5204 100000
log "---- ovs-appctl coverage/show: tunnel drops"
ovs_appctl $O coverage/show | grep -E 'drop|tunnel' | _indent || log "    (none)"
