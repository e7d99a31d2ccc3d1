#!/usr/bin/env bash
# A vwire aggregation with LACP against Open vSwitch's: host vwtoa runs
# vwired, namespace vwtob a private OVS (userspace datapath) with a bond
# (balance-tcp, lacp=active, fast timers) over the two veth pairs between
# them.  Checked from both sides: OVS's lacp/show and bond/show (both
# members current, attached, enabled; the partner, vwired, in sync,
# collecting and distributing) and vwadm show-aggr -L; a zone over the
# aggregation pings and sends TCP to OVS's bridge port; a member's carrier
# lost on the OVS side moves the traffic to the other member.  The
# transcripts are in the log.
VWT_OWN="vwto"
. "$(dirname "$0")/lib.sh"

A=vwtoa O=vwtob
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"

host_start $A
ovs_start $O
host_link $A vwtop0 $O vwtop0
host_link $A vwtop1 $O vwtop1
# OVS reads its veth ports with vnet headers (userspace TSO), as it must for
# frames a Linux sender left with partial checksums: a veth does not fill
# them in, and OVS's own docs have it so (see docs/design.md, aggregations)
check "OVS: userspace TSO (vnet headers on its ports)" ovs_vsctl $O set Open_vSwitch . other_config:userspace-tso-enable=true
check "OVS: bridge vwtobr (userspace datapath)" ovs_vsctl $O add-br vwtobr -- set bridge vwtobr datapath_type=netdev
check "OVS: LACP bond over vwtop0, vwtop1" ovs_vsctl $O add-bond vwtobr vwtobond vwtop0 vwtop1 \
	bond_mode=balance-tcp lacp=active other_config:lacp-time=fast
check "OVS: 10.233.0.2/24 on the bridge's port" ip -n $O addr add 10.233.0.2/24 dev vwtobr
check "OVS: bridge port up" ip -n $O link set vwtobr up
check "vwired: create-aggr -L active -T short" hvwadm $A create-aggr -L active -T short -l vwtop0 -l vwtop1 vwtoag
check "vwired: zone" hvwadm $A create-zone vwtoza
check "vwired: VNIC over the aggregation" hvwadm $A create-vnic -l vwtoag -p zone=vwtoza vwtova
check "vwired: 10.233.0.1/24" hvwadm $A create-addr -a 10.233.0.1/24 vwtova

# ovs_member_ok PORT: OVS's lacp/show says PORT is current and attached and
# its partner (vwired) in sync, collecting and distributing
ovs_member_ok() {
	ovs_appctl $O lacp/show vwtobond | awk -v p="$1" '
		/^member: / { cur = ($2 == p ":"); if (cur && $3 == "current" && $4 == "attached") ok1 = 1 }
		cur && /partner state:/ && /synchronized/ && /collecting/ && /distributing/ { ok2 = 1 }
		END { exit !(ok1 && ok2) }'
}
wait_until 15 "OVS: LACP negotiated, both members current and attached, vwired in sync, collecting, distributing" \
	bash -c "$(declare -f ovs_member_ok ovs_appctl _ovs_run _ovs_dir); VW_TMP='$VW_TMP' O=$O; ovs_member_ok vwtop0 && ovs_member_ok vwtop1"
wait_until 10 "vwired: both members in sync, collecting, distributing" \
	bash -c "[ \"\$(hvwadm $A show-aggr -L -p -o port,sync,coll,dist vwtoag)\" = 'vwtop0:yes:yes:yes
vwtop1:yes:yes:yes' ]"
log "---- ovs-appctl lacp/show vwtobond"
ovs_appctl $O lacp/show vwtobond | _indent
log "---- ovs-appctl bond/show vwtobond"
ovs_appctl $O bond/show vwtobond | _indent
log "---- vwadm show-aggr -L -o all"
hvwadm $A show-aggr -L -o all | _indent
check "OVS: lacp_status negotiated" bash -c "$(declare -f ovs_appctl _ovs_run _ovs_dir); VW_TMP='$VW_TMP'; ovs_appctl $O bond/show vwtobond | grep -q 'lacp_status: negotiated'"
expect_eq "OVS: both members enabled" 2 \
	"$(ovs_appctl $O bond/show vwtobond | grep -c -E '^member vwtop[01]: enabled')"
expect_eq "vwired sees OVS's system as partner of both members" 1 \
	"$(hvwadm $A show-aggr -L -p -o partnersystem vwtoag | sort -u | wc -l)"

wait_ping 10 vwtoza 10.233.0.2
check "10 pings, vwire zone -> OVS" ip netns exec vwtoza ping -n -q -c 10 -i 0.02 -W 1 10.233.0.2
check "10 pings, OVS -> vwire zone" ip netns exec $O ping -n -q -c 10 -i 0.02 -W 1 10.233.0.1
vw_bg ip netns exec $O iperf3 -s -p 5201 >/dev/null 2>&1
wait_until 5 "iperf3 server up on the OVS side" bash -c "ip netns exec $O ss -ltn | grep -q ':5201'"
check "TCP, 4 connections, vwire -> OVS" ip netns exec vwtoza iperf3 -c 10.233.0.2 -p 5201 -t 1 -P 4 -b 100M
check "TCP, 4 connections, OVS -> vwire" ip netns exec vwtoza iperf3 -c 10.233.0.2 -p 5201 -t 1 -P 4 -b 100M -R
log "---- vwstat show-aggr"
hvwstat $A show-aggr | _indent

log "---- the carrier of one member lost on the OVS side"
ip netns exec vwtoza ping -n -D -i 0.01 -W 1 -w 3 10.233.0.2 >"$VW_TMP/ping.txt" 2>&1 &
pp=$!
sleep 1
check "OVS side: vwtop1 down" ip -n $O link set vwtop1 down
wait "$pp" || true
GAP=$(awk -F'[][]' '/bytes from/ { t = $2 * 1000; if (last && t - last > max) max = t - last; last = t } END { printf "%d", max }' "$VW_TMP/ping.txt")
log "---- longest ping gap ${GAP} ms; $(grep -o '[0-9]* packets transmitted, [0-9]* received' "$VW_TMP/ping.txt")"
expect_ge "the longest ping gap is under 1.5 s (it was ${GAP} ms)" 1500 "$GAP"
expect_eq "vwired: vwtop1 down, vwtop0 attached" "vwtop0:attached
vwtop1:down" "$(hvwadm $A show-aggr -x -p -o port,portstate vwtoag)"
check "pings over vwtop0 alone" ip netns exec vwtoza ping -n -q -c 5 -i 0.02 -W 1 10.233.0.2
