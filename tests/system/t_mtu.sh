#!/usr/bin/env bash
# MTU enforced by the switch (issue 11, finding 5).  Zone A raises its own
# VNIC's MTU to 9000 behind the daemon's back (ip link set ... mtu 9000);
# its 9000-byte packets (9014-byte frames) must not reach B, whose MTU is
# 1500, and are counted DROP_MTU on A; show-linkprop still says 1500 for
# both, and that is what the switch enforces.  1500-byte packets and TCP
# (super-frames whose segments fit) still flow.  With mtu=9000 set on both
# VNICs by the property, jumbo frames pass; with it on B only, A's
# (property 1500) are still dropped.
VWT_OWN="vwtmt"
. "$(dirname "$0")/lib.sh"

ZA=vwtmtza ZB=vwtmtzb STUB=vwtmts VA=vwtmta VB=vwtmtb
A4=10.89.0.1 B4=10.89.0.2

c() { vw_counter "$1" "$2"; }
# jping COUNT SIZE: pings A -> B with SIZE bytes of payload, never
# fragmented; prints how many were answered.
jping() {
	{ ip netns exec $ZA ping -n -q -M do -c "$1" -i 0.2 -W 1 -s "$2" $B4 2>&1 || true; } |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

vw_start
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $B4
expect_eq "1472-byte pings (1514-byte frames) pass" 3 "$(jping 3 1472)"

# zone A raises its own MTU
check "zone $ZA sets its VNIC's MTU to 9000" ip -n $ZA link set dev $VA mtu 9000
expect_eq "show-linkprop still says 1500 for both" "$VA:1500
$VB:1500" "$(vwadm show-linkprop -c -o link,value -p mtu $VA $VB)"
# (the delivery is checked first: it is what the daemon of the issue got wrong)
d0=$(c $VA drop_mtu || true) b0=$(c $VB rbytes) bi0=$(c $VB ipkts)
got=$(jping 3 8972)
b1=$(c $VB rbytes) bi1=$(c $VB ipkts)
log "---- 9000-byte pings: $got of 3 answered; $VB received $((bi1 - bi0)) frames, $((b1 - b0)) bytes"
expect_eq "no 9000-byte ping from A is answered" 0 "$got"
check "$VB received no 9014-byte frame (RBYTES grew by less than 9014)" test $((b1 - b0)) -lt 9014
d1=$(c $VA drop_mtu)
expect_eq "the 3 frames are counted DROP_MTU on $VA" 3 $((d1 - d0))
check "vwstat -t shows DROP_MTU" bash -c "$VW_BIN/vwstat -t $VA | head -1 | grep -q DROP_MTU"
expect_ge "IDROPS includes them" "$(c $VA idrops)" 3
expect_eq "1472-byte pings still pass" 3 "$(jping 3 1472)"
d0=$(c $VA drop_mtu)
iperf3_server $ZB 5201 $B4
check "iperf3 TCP $ZA -> $ZB for 2 s (super-frames of 1448-byte segments)" \
	bash -c "ip netns exec $ZA iperf3 -c $B4 -t 2 -J > '$VW_TMP/iperf3.json'"
kbps=$(goodput "$VW_TMP/iperf3.json")
log "---- iperf3 $ZA -> $ZB: $kbps kb/s"
expect_ge "iperf3 moved data" "$kbps" 1000
expect_eq "no TCP frame dropped for its size" 0 $(($(c $VA drop_mtu) - d0))
iperf3_server $ZA 5202 $A4
check "iperf3 TCP $ZB -> $ZA for 2 s" \
	bash -c "ip netns exec $ZB iperf3 -c $A4 -p 5202 -t 2 -J > '$VW_TMP/iperf3r.json'"
expect_ge "iperf3 moved data back" "$(goodput "$VW_TMP/iperf3r.json")" 1000

# the property is what counts: B at 9000 takes jumbo frames, but A's
# property is still 1500 (its face's 9000 is ignored)
check "set mtu=9000 on $VB" vwadm set-linkprop -p mtu=9000 $VB
d0=$(c $VA drop_mtu)
expect_eq "A (property 1500) still cannot send 9000-byte packets" 0 "$(jping 2 8972)"
expect_eq "... counted" 2 $(($(c $VA drop_mtu) - d0))
check "set mtu=9000 on $VA" vwadm set-linkprop -p mtu=9000 $VA
expect_eq "show-linkprop says 9000 for both" "$VA:9000
$VB:9000" "$(vwadm show-linkprop -c -o link,value -p mtu $VA $VB)"
expect_eq "with both at 9000, 9000-byte pings pass" 3 "$(jping 3 8972)"
# B lowered again: the switch follows at once
check "reset mtu on $VB" vwadm reset-linkprop -p mtu $VB
d0=$(c $VA drop_mtu)
expect_eq "B back at 1500: A's 9000-byte pings fail again" 0 "$(jping 2 8972)"
expect_eq "... counted on A" 2 $(($(c $VA drop_mtu) - d0))
# a frame of exactly B's MTU still passes from A (property 9000 now)
expect_eq "1472-byte pings pass" 3 "$(jping 3 1472)"
# restart: the enforced MTU comes back with the property
vw_stop
vw_start
check "zone $ZA's face back at 9000 after the restart" ip -n $ZA link set dev $VA mtu 9000
expect_eq "after a restart: mtu 9000 on A, 1500 on B" "$VA:9000
$VB:1500" "$(vwadm show-linkprop -c -o link,value -p mtu $VA $VB)"
wait_ping 10 $ZA $B4
d0=$(c $VA drop_mtu)
expect_eq "after a restart: 9000-byte pings to B fail" 0 "$(jping 2 8972)"
expect_eq "... counted" 2 $(($(c $VA drop_mtu) - d0))
vw_stop
log "PASS t_mtu ($VW_NCHECK checks)"
