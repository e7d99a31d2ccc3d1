#!/usr/bin/env bash
# The kernel fast path as a user sees it: two zones on an etherstub switch
# in the kernel (vwstat's FAST_IPKTS/FAST_OPKTS count their frames, and the
# host's devices are grouped and named); a VNIC moves to the slow path when
# it gets maxbw or a capture and back when it loses them, live: a running
# ping -i 0.005 loses nothing through the moves, maxbw limits a TCP stream
# while it is set, and the capture sees the frames; the metrics carry the
# fast-path counts.  With VWT_FASTPATH=off there is nothing to check.
VWT_OWN="vwtf"
. "$(dirname "$0")/lib.sh"

ZA=vwtfza ZB=vwtfzb STUB=vwtfs VA=vwtfa VB=vwtfb
A4=10.200.31.1 B4=10.200.31.2

vw_start
if ! vw_fast; then
	log "---- the kernel fast path is off in this run: nothing to check"
	exit 0
fi
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address on $VA" vwadm create-addr -a $A4/24 $VA
check "address on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $B4

check "$VA's face in $ZA is a veth end" bash -c "ip -n $ZA -d link show $VA | grep -qw veth"
check "its host end is in group 30327 with an alias naming it" \
	bash -c "ip -d link show group 30327 | grep -q 'alias vwire VNIC $VA: host end'"
check "so is its slow-path TAP" bash -c "ip -d link show group 30327 | grep -q 'alias vwire VNIC $VA: slow path'"
check "the host end has no IPv6 address" bash -c "! ip -6 addr show \$(ip -o link show group 30327 | \
	awk -F': ' '/host end/ && /$VA/ { sub(/@.*/, \"\", \$2); print \$2 }') | grep -q inet6"

fast() { vwstat -p -o fast_opkts "$1"; }
f0=$(fast $VA) o0=$(vw_counter $VA opkts)
check "20 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 20 -i 0.01 -W 1 $B4
f1=$(fast $VA) o1=$(vw_counter $VA opkts)
log "---- $VA: OPKTS +$((o1 - o0)), FAST_OPKTS +$((f1 - f0))"
expect_ge "the kernel switched $VA's echo requests (FAST_OPKTS)" $((f1 - f0)) 20
expect_ge "OPKTS counts them too" $((o1 - o0)) $((f1 - f0))
expect_ge "$VB's FAST_IPKTS counts them as received" "$(vwstat -p -o fast_ipkts $VB)" 20

log "---- maxbw takes $VA to the slow path, where the limit holds"
iperf3_server $ZB 5321 $B4
check "maxbw=20M on $VA" vwadm set-linkprop -p maxbw=20M $VA
sleep 0.5
f2=$(fast $VA)
check "iperf3 from $ZA for 2 s with maxbw" bash -c \
	"ip netns exec $ZA iperf3 -c $B4 -p 5321 -t 2 -J > '$VW_TMP/iperf.json'"
f3=$(fast $VA)
bps=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$VW_TMP/iperf.json")
log "---- with maxbw=20M: $((bps / 1000000)) Mbit/s; FAST_OPKTS +$((f3 - f2))"
expect_eq "with maxbw, none of $VA's frames took the fast path" 0 $((f3 - f2))
check "and maxbw held ($((bps / 1000000)) Mbit/s <= 22)" test "$bps" -le 22000000
check "reset maxbw on $VA" vwadm reset-linkprop -p maxbw $VA

# the moves themselves, under a ping that no bulk stream shares a shaper
# with (a saturated limit drops what exceeds it, by design)
log "---- moving $VA between the paths under a running ping -i 0.005"
ip netns exec $ZA ping -n -i 0.005 -c 1600 -W 2 $B4 > "$VW_TMP/ping" 2>&1 &
PING=$!
sleep 0.5
check "maxbw=20M on $VA" vwadm set-linkprop -p maxbw=20M $VA
sleep 0.5
f2=$(fast $VA)
sleep 0.5
expect_eq "with maxbw, none of $VA's pings took the fast path" 0 $(($(fast $VA) - f2))
check "reset maxbw on $VA" vwadm reset-linkprop -p maxbw $VA
sleep 0.3
f4=$(fast $VA)
sleep 0.5
expect_ge "without maxbw, $VA's frames take the fast path again" $(($(fast $VA) - f4)) 10

vw_bg "$VW_BIN/vwsnoop" -l $VA -w "$VW_TMP/cap.pcap"
SNOOP=$VW_BG_PID
sleep 0.5
f5=$(fast $VA)
sleep 0.5
expect_eq "with a capture on $VA, none of its frames took the fast path" 0 $(($(fast $VA) - f5))
vw_bg_stop $SNOOP INT
check "the capture saw $VA's frames" bash -c "[ \$(tshark -r '$VW_TMP/cap.pcap' 2>/dev/null | wc -l) -ge 50 ]"
sleep 0.3
f6=$(fast $VA)
sleep 0.5
expect_ge "the capture over, $VA's frames take the fast path again" $(($(fast $VA) - f6)) 10
wait $PING || true
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$VW_TMP/ping")
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$VW_TMP/ping")
log "---- ping through the moves: $got of $sent answered"
expect_eq "no ping lost while $VA moved between the paths" "$sent" "$got"

check "the metrics would carry the fast-path counts: stats has fast_ipkts" \
	bash -c "vwstat -p -o link,fast_ipkts,fast_opkts | grep -q '^$VB:'"
vw_stop
