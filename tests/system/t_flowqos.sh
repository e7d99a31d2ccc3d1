#!/usr/bin/env bash
# Flow traffic properties (issue 4): a flow's maxbw is a ceiling inside its
# link, priority decides who gets a saturated link's maxbw, a guarantee is
# kept even for a low-priority flow, and the rules on guarantees and
# fairness classes refuse what cannot hold.  (fairness=conn is measured by
# t_wan, the seed's WAN test.)
#   - one TCP stream in a flow with maxbw=5M settles near 5M on a 20M link;
#     set-flowprop changes it live; reset-flowprop lifts it;
#   - two TCP streams on a 20M link, one flow high and one low: high gets
#     most of it, low is not starved; low with guarantee=8M gets its 8M;
#   - guarantees summing over the link's maxbw, a maxbw below the sum, a
#     17th fairness=conn flow: refused, nothing changed;
#   - flows with properties survive a restart and still shape;
#   - removing a flow while its traffic is queued loses nothing.
VWT_OWN="vwtk"
. "$(dirname "$0")/lib.sh"

ZA=vwtkza ZB=vwtkzb STUB=vwtks VA=vwtka VB=vwtkb
A4=10.200.41.1 B4=10.200.41.2

# server PORT: an iperf3 server on PORT in zone B (one test each)
server() { iperf3_server $ZB "$1" $B4; }

# tcp PORT SECS: one TCP stream from A to B's PORT, kb/s
tcp() { tcp_kbps $ZA $ZB $B4 "$2" "$1"; }

# tcp2 SECS: streams to ports 5301 and 5302 at once; prints both, kb/s
tcp2() {
	local p1 p2
	server 5301
	server 5302
	ip netns exec $ZA iperf3 -c $B4 -p 5301 -t "$1" -J >"$VW_TMP/c5301.json" &
	p1=$!
	ip netns exec $ZA iperf3 -c $B4 -p 5302 -t "$1" -J >"$VW_TMP/c5302.json" &
	p2=$!
	wait $p1 || fail "iperf3 to port 5301 failed: $(tail -3 "$VW_TMP/c5301.json")"
	wait $p2 || fail "iperf3 to port 5302 failed: $(tail -3 "$VW_TMP/c5302.json")"
	echo "$(goodput "$VW_TMP/c5301.json") $(goodput "$VW_TMP/c5302.json")"
}

# within DESC KBPS LIMIT_MBPS: goodput between 80% and 102% of the limit
# (TCP/IP headers take about 4.5% of the wire rate with 1500-byte frames)
within() {
	expect_ge "$1: $2 kb/s is at least 80% of the limit" "$2" $(($3 * 800))
	expect_ge "$1: $2 kb/s is at most 102% of the limit" $(($3 * 1020)) "$2"
}

vw_start
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA with maxbw=20M" vwadm create-vnic -l $STUB -p zone=$ZA,maxbw=20M $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address on $VA" vwadm create-addr -a $A4/24 $VA
check "address on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $B4

log "---- a flow's maxbw is a ceiling inside the link's"
check "flow fcap: TCP to port 5301, maxbw=5M" vwadm add-flow -l $VA -a transport=tcp,remote_port=5301 -p maxbw=5M fcap
expect_eq "show-flowprop shows maxbw 5M" "fcap:maxbw:5M" "$(vwadm show-flowprop -c -o flow,property,value -p maxbw fcap)"
r=$(tcp 5301 5)
log "     fcap at maxbw=5M: $r kb/s"
within "TCP in flow fcap (maxbw=5M)" "$r" 5
r=$(tcp 5302 4)
log "     the same link outside the flow: $r kb/s"
within "TCP outside the flow, the link's 20M" "$r" 20
check "set-flowprop maxbw=2M, live" vwadm set-flowprop -p maxbw=2M fcap
r=$(tcp 5301 5)
log "     fcap at maxbw=2M: $r kb/s"
within "TCP in flow fcap after the change to 2M" "$r" 2
check "reset-flowprop maxbw" vwadm reset-flowprop -p maxbw fcap
r=$(tcp 5301 4)
log "     fcap without maxbw: $r kb/s"
within "TCP in flow fcap after the reset: the link's 20M" "$r" 20
check "remove-flow fcap" vwadm remove-flow fcap

log "---- UDP over a flow's maxbw: held to it, the excess dropped and counted"
check "flow fudp: udp to port 5301, maxbw=2M" vwadm add-flow -l $VA -a transport=udp,remote_port=5301 -p maxbw=2M fudp
server 5301
ip netns exec $ZA iperf3 -c $B4 -p 5301 -u -b 10M -l 1400 -t 4 -J >"$VW_TMP/u.json" ||
	fail "iperf3 UDP failed: $(tail -3 "$VW_TMP/u.json")"
r=$(goodput "$VW_TMP/u.json")
log "     fudp at maxbw=2M, offered 10M: $r kb/s"
# payload of 1400-byte datagrams is 94.5% of their 1442 bytes on the wire
within "UDP in flow fudp (maxbw=2M)" "$r" 2
wait_until 5 "vwstat show-flow shows fudp's drops" bash -c "[ \"\$($VW_BIN/vwstat show-flow -p -o drops fudp)\" -gt 1000 ]"
check "remove-flow fudp" vwadm remove-flow fudp

log "---- priority: two TCP streams on the 20M link"
check "flow fhi: port 5301, priority=high" vwadm add-flow -l $VA -a transport=tcp,remote_port=5301 -p priority=high fhi
check "flow flo: port 5302, priority=low" vwadm add-flow -l $VA -a transport=tcp,remote_port=5302 -p priority=low flo
read -r hi lo <<<"$(tcp2 6)"
log "     high $hi kb/s, low $lo kb/s"
expect_ge "high and low together fill at least 80% of 20M" $((hi + lo)) 16000
expect_ge "high gets at least 4 times what low gets" "$hi" $((4 * lo))
expect_ge "low is not starved: at least 1/32 of the link (the bound is 1/16)" "$lo" 625

log "---- guarantee: the low flow is guaranteed 8M"
check "set-flowprop guarantee=8M on flo" vwadm set-flowprop -p guarantee=8M flo
read -r hi lo <<<"$(tcp2 6)"
log "     high $hi kb/s, low (guarantee 8M) $lo kb/s"
expect_ge "low gets at least 80% of its 8M guarantee" "$lo" 6400
expect_ge "high still gets the rest, at least 80% of 12M" "$hi" 9600

log "---- traffic of no flow is medium: below a high flow"
check "remove-flow flo" vwadm remove-flow flo
read -r hi lo <<<"$(tcp2 6)"
log "     high $hi kb/s, no flow (medium) $lo kb/s"
expect_ge "the high flow gets at least 4 times what traffic of no flow gets" "$hi" $((4 * lo))
check "flow flo again: port 5302, priority=low, guarantee=8M" \
	vwadm add-flow -l $VA -a transport=tcp,remote_port=5302 -p priority=low,guarantee=8M flo

log "---- rules on guarantees and fairness classes"
before=$(vwadm export)
expect_eq "guarantees over the link's maxbw refused" \
	"vwadm: fhi: the guarantees of the flows on '$VA' would sum to 21M, over its maxbw 20M" \
	"$(vwadm set-flowprop -p guarantee=13M fhi 2>&1)"
expect_eq "a new flow's guarantee over the rest refused" \
	"vwadm: fx: the guarantees of the flows on '$VA' would sum to 21M, over its maxbw 20M" \
	"$(vwadm add-flow -l $VA -a transport=udp -p guarantee=13M fx 2>&1)"
expect_eq "the link's maxbw below its flows' guarantees refused" \
	"vwadm: $VA: cannot set maxbw 5M: the guarantees of its flows sum to 8M" \
	"$(vwadm set-linkprop -p maxbw=5M $VA 2>&1)"
for i in $(seq 1 16); do
	vwadm add-flow -t -l $VA -a transport=udp,remote_port=$((6000 + i)) -p fairness=conn ffair$i
done
expect_eq "a 17th flow with fairness=conn refused" \
	"vwadm: ffair17: '$VA' would have more than 16 flows with fairness=conn" \
	"$(vwadm add-flow -t -l $VA -a transport=udp,remote_port=6017 -p fairness=conn ffair17 2>&1)"
for i in $(seq 1 16); do
	vwadm remove-flow -t ffair$i
done
expect_eq "nothing changed" "$before" "$(vwadm export)"
expect_eq "maxbw still 20M" "maxbw:20M" "$(vwadm show-linkprop -c -o property,value -p maxbw $VA)"

log "---- restart: flows with properties come back and shape"
check "flow fcap again: port 5303, maxbw=3M (persistent)" \
	vwadm add-flow -l $VA -a transport=tcp,remote_port=5303 -p maxbw=3M fcap
check "export names fcap's maxbw" bash -c "$VW_BIN/vwadm export | grep -q -- '-p maxbw=3M fcap'"
vw_kill9
vw_start
wait_ping 10 $ZA $B4
expect_eq "after a restart fcap has maxbw 3M" "fcap:maxbw:3M" \
	"$(vwadm show-flowprop -c -o flow,property,value -p maxbw fcap)"
r=$(tcp 5303 5)
log "     fcap at maxbw=3M after the restart: $r kb/s"
within "TCP in flow fcap after a restart" "$r" 3
expect_ge "vwstat show-flow counted fcap's packets" "$(vwstat show-flow -p -o opkts fcap)" 1000

log "---- removing flows while their traffic is queued"
server 5303
ip netns exec $ZA iperf3 -c $B4 -p 5303 -t 4 -J >"$VW_TMP/cq.json" &
cq=$!
sleep 1.5
check "remove-flow fcap under load" vwadm remove-flow fcap
check "remove-flow -l $VA (fhi, flo) under load" vwadm remove-flow -l $VA
wait $cq || fail "iperf3 across the removal failed: $(tail -3 "$VW_TMP/cq.json")"
check "zone A still reaches B" ip netns exec $ZA ping -n -q -c 3 -i 0.2 -W 2 $B4
check "delete $VA" vwadm delete-vnic $VA
vw_stop
expect_eq "vwired exited with status 0" 0 "$VW_STOP_STATUS"
