#!/usr/bin/env bash
# maxbw on a phys link and priority on its VNICs (issue 4).  The phys is
# vwtu0, one end of a veth pair made by the test; the other end, vwtu1, is
# in namespace vwtufar ("the wire's far end").
#   - maxbw=20M on the phys, set before it is attached: TCP through the
#     uplink, each way, is held to it (iperf3's goodput at the receiver,
#     within 5% of 20M less the TCP/IP/Ethernet headers); a live change to
#     10M, a reset;
#   - two VNICs over the phys, one priority=high and one low, both sending
#     TCP out of the uplink at maxbw=20M: high gets most, low at least about
#     1/16 of the link; pings from the high VNIC through the saturated uplink
#     wait less than when both are medium (one FIFO queue);
#   - what a user reads back (show-linkprop, export, after a restart), -t,
#     the phys detached and attached again, bad values refused.
VWT_OWN="vwtu"
. "$(dirname "$0")/lib.sh"

FAR=vwtufar ZA=vwtuza ZB=vwtuzb VA=vwtua VB=vwtub STUB=vwtus PHYS=vwtu0
F4=10.200.41.1 A4=10.200.41.2 B4=10.200.41.3

far_side $FAR vwtu $F4
far_vlan $FAR vwtu1 100 10.200.42.1

# within DESC KBPS LIMIT_MBPS: goodput within 5% of what the limit leaves
# for TCP payload (1448 bytes of every 1514-byte frame on the wire)
within() {
	local expect=$(($3 * 1000 * 1448 / 1514))
	expect_ge "$1: $2 kb/s is at least 95% of $expect" "$2" $((expect * 95 / 100))
	expect_ge "$1: $2 kb/s is at most 105% of $expect" $((expect * 105 / 100)) "$2"
}
# rtt_median NS ADDR COUNT: median ping RTT in microseconds
rtt_median() {
	{ ip netns exec "$1" ping -n -c "$3" -i 0.05 -W 2 "$2" || true; } | python3 -c '
import re, sys
r = sorted(float(m.group(1)) for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read()))
print(int(r[len(r) // 2] * 1000) if r else 999999999)'
}

vw_start
log "---- maxbw on the phys before it is attached"
check "maxbw=20M on $PHYS (not attached yet)" vwadm set-linkprop -p maxbw=20M $PHYS
expect_eq "show-linkprop: $PHYS has maxbw 20M, and cpus (the other phys property) unset" "$PHYS:maxbw:20M:--
$PHYS:cpus:--:--" \
	"$(vwadm show-linkprop -c -o link,property,value,default $PHYS)"
expect_eq "export names it" "set-linkprop -p maxbw=20M $PHYS" "$(vwadm export)"
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create VNIC $VA over $PHYS in $ZA" vwadm create-vnic -l $PHYS -p zone=$ZA $VA
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
expect_eq "show-phys: $PHYS attached" "$PHYS:yes" "$(vwadm show-phys -p -o link,attached $PHYS)"
wait_ping 10 $ZA $F4
expect_eq "show-linkprop: $VA has priority medium by default" "priority:medium:medium:high,medium,low" \
	"$(vwadm show-linkprop -c -o property,value,default,possible -p priority $VA)"

r=$(tcp_kbps $ZA $FAR $F4 6)
log "---- maxbw=20M on $PHYS, $VA -> wire: $r kb/s"
within "TCP out of the uplink at maxbw=20M" "$r" 20
r=$(tcp_kbps $FAR $ZA $A4 6)
log "---- maxbw=20M on $PHYS, wire -> $VA: $r kb/s"
within "TCP into the uplink at maxbw=20M" "$r" 20
expect_ge "vwstat counts what the uplink's shaper dropped (a TCP sender at the limit)" \
	"$(vwstat -p -o odrop_shape $PHYS)" 0

check "maxbw=10M on $PHYS, live" vwadm set-linkprop -p maxbw=10M $PHYS
r=$(tcp_kbps $ZA $FAR $F4 6)
log "---- maxbw=10M on $PHYS, $VA -> wire: $r kb/s"
within "TCP out of the uplink after the change to 10M" "$r" 10
r=$(tcp_kbps $FAR $ZA $A4 6)
log "---- maxbw=10M on $PHYS, wire -> $VA: $r kb/s"
within "TCP into the uplink after the change to 10M" "$r" 10

check "reset maxbw on $PHYS" vwadm reset-linkprop -p maxbw $PHYS
expect_eq "show-linkprop after the reset: no maxbw" "maxbw:--" "$(vwadm show-linkprop -c -o property,value -p maxbw $PHYS)"
r=$(tcp_kbps $ZA $FAR $F4 3)
log "---- no maxbw, $VA -> wire: $r kb/s"
expect_ge "TCP out of the uplink after the reset is far above the old limit" "$r" 100000
r=$(tcp_kbps $FAR $ZA $A4 3)
log "---- no maxbw, wire -> $VA: $r kb/s"
expect_ge "TCP into the uplink after the reset is far above the old limit" "$r" 100000

log "---- a flow on the phys link: a ceiling inside an unlimited uplink"
check "flow fph on $PHYS: tcp, maxbw=5M, guarantee=4M" vwadm add-flow -l $PHYS -a transport=tcp -p maxbw=5M,guarantee=4M fph
r=$(tcp_kbps $ZA $FAR $F4 6)
log "---- flow fph at maxbw=5M, $VA -> wire: $r kb/s"
within "TCP out of the uplink in flow fph (maxbw=5M)" "$r" 5
r=$(tcp_kbps $FAR $ZA $A4 6)
log "---- flow fph at maxbw=5M, wire -> $VA: $r kb/s"
within "TCP into the uplink in flow fph (maxbw=5M)" "$r" 5
expect_eq "the phys's maxbw below its flows' guarantees refused" \
	"vwadm: $PHYS: cannot set maxbw 3M: the guarantees of its flows sum to 4M" \
	"$(vwadm set-linkprop -p maxbw=3M $PHYS 2>&1)"
expect_eq "show-flow counted fph both ways" "yes" \
	"$(vwstat show-flow -p -o ipkts,opkts fph | awk -F: '$1 > 1000 && $2 > 1000 {print "yes"}')"
check "remove-flow fph" vwadm remove-flow fph
r=$(tcp_kbps $ZA $FAR $F4 3)
log "---- without the flow, $VA -> wire: $r kb/s"
expect_ge "TCP out of the uplink without the flow is far above its limit" "$r" 100000

log "---- priority: two VNICs out of one limited uplink"
check "create VNIC $VB over $PHYS in $ZB with priority=low" vwadm create-vnic -l $PHYS -p zone=$ZB,priority=low $VB
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
check "maxbw=20M on $PHYS" vwadm set-linkprop -p maxbw=20M $PHYS
wait_ping 10 $ZB $F4
check "reset $VB to medium: both share one queue" vwadm reset-linkprop -p priority $VB

# both: A and B send TCP to the far end at once for SECS; "A B" in kb/s
both() {
	local ja=$VW_TMP/both-a.json jb=$VW_TMP/both-b.json pa
	rm -f "$ja" "$jb"
	iperf3_server $FAR 5201 $F4
	iperf3_server $FAR 5202 $F4
	vw_bg ip netns exec $ZA iperf3 -c $F4 -p 5201 -t "$1" -J --logfile "$ja"
	pa=$VW_BG_PID
	ip netns exec $ZB iperf3 -c $F4 -p 5202 -t "$1" -J >"$jb" || fail "iperf3 $ZB failed: $(tail -3 "$jb")"
	wait $pa || fail "iperf3 $ZA failed: $(tail -3 "$ja")"
	echo "$(goodput "$ja") $(goodput "$jb")"
}
# ping_loaded: median RTT (us) of pings from A while B saturates the uplink
ping_loaded() {
	local j=$VW_TMP/load-b.json pb
	rm -f "$j"
	iperf3_server $FAR 5202 $F4
	vw_bg ip netns exec $ZB iperf3 -c $F4 -p 5202 -t 8 -J --logfile "$j"
	pb=$VW_BG_PID
	sleep 2
	rtt_median $ZA $F4 80
	wait $pb || fail "iperf3 $ZB failed: $(tail -3 "$j")"
}

rtt_idle=$(rtt_median $ZA $F4 20)
rtt_fifo=$(ping_loaded)
read -r a b <<<"$(both 8)"
log "---- both medium (one FIFO queue): $VA $a kb/s, $VB $b kb/s; ping from $VA: idle ${rtt_idle} us, $VB saturating ${rtt_fifo} us"

check "priority=high on $VA, live" vwadm set-linkprop -p priority=high $VA
check "priority=low on $VB, live" vwadm set-linkprop -p priority=low $VB
expect_eq "show-linkprop: $VA high, $VB low" "$VA:priority:high
$VB:priority:low" "$(vwadm show-linkprop -c -o link,property,value -p priority $VA $VB)"
rtt_high=$(ping_loaded)
read -r a b <<<"$(both 8)"
log "---- $VA high, $VB low: $VA $a kb/s, $VB $b kb/s; ping from $VA with $VB saturating: ${rtt_high} us (FIFO: ${rtt_fifo} us)"
expect_ge "the high VNIC gets more than the low one ($a > $b kb/s)" "$a" $((b + 1))
expect_ge "the low VNIC is not starved: at least about 1/16 of 20M ($b kb/s)" "$b" 1000
expect_ge "high and low together fill most of the link ($((a + b)) kb/s)" $((a + b)) 17000
expect_ge "a high-priority ping through the saturated uplink waits less than in one FIFO queue" \
	"$rtt_fifo" "$rtt_high"

log "---- persistence, -t, restart"
check "temporary maxbw=5M on $PHYS" vwadm set-linkprop -t -p maxbw=5M $PHYS
expect_eq "show-linkprop: maxbw 5M now" "maxbw:5M" "$(vwadm show-linkprop -c -o property,value -p maxbw $PHYS)"
expect_eq "export: the persistent 20M, and the VNICs' priorities" "set-linkprop -p maxbw=20M $PHYS
priority=high $VA
priority=low $VB" "$(vwadm export | grep -oE "^set-linkprop.*|priority=[a-z]+ vwtu[ab]$")"
vw_kill9
# the uplink reads with recvmmsg from now on: frames in pool buffers, not
# in the ring, go into the shaper
VWIRE_UPLINK_RING=0 vw_start
expect_eq "the daemon logged that uplink $PHYS reads with recvmmsg" 1 \
	"$(grep -c "uplink $PHYS: recvmmsg/sendmmsg" "$VW_TMP/vwired.log")"
wait_ping 10 $ZA $F4
expect_eq "after a restart $PHYS has maxbw 20M" "maxbw:20M" "$(vwadm show-linkprop -c -o property,value -p maxbw $PHYS)"
expect_eq "after a restart $VA is high and $VB low" "$VA:high
$VB:low" "$(vwadm show-linkprop -c -o link,value -p priority $VA $VB)"
r=$(tcp_kbps $ZA $FAR $F4 6)
log "---- maxbw=20M after the restart, $VA -> wire: $r kb/s"
within "TCP out of the uplink at maxbw=20M after a restart" "$r" 20
read -r a b <<<"$(both 6)"
log "---- after the restart, $VA high, $VB low: $VA $a kb/s, $VB $b kb/s"
expect_ge "after the restart the high VNIC still gets more ($a > $b kb/s)" "$a" $((b + 1))

log "---- bad values"
before=$(vwadm export)
bad() {   # DESC EXPECTED-MESSAGE CMD...
	local desc=$1 msg=$2 out rc=0
	shift 2
	out=$(vwadm "$@" 2>&1) || rc=$?
	expect_eq "$desc: exit status 1" 1 "$rc"
	expect_eq "$desc: message" "$msg" "$out"
}
check "create etherstub $STUB" vwadm create-etherstub -t $STUB
before=$(vwadm export)
bad "priority=urgent" "vwadm: $VA: invalid priority 'urgent' (high, medium or low)" set-linkprop -p priority=urgent $VA
bad "create-vnic -p priority=urgent" "vwadm: vwtuc: invalid priority 'urgent' (high, medium or low)" \
	create-vnic -t -l $PHYS -p priority=urgent vwtuc
bad "priority given twice" "vwadm: vwtuc: property 'priority' given twice" \
	create-vnic -t -l $PHYS -p priority=low,priority=high vwtuc
bad "maxbw on an etherstub" "vwadm: $STUB: property 'maxbw' applies only to VNICs and phys links" \
	set-linkprop -p maxbw=10M $STUB
bad "priority on a phys" \
	"vwadm: $PHYS: property 'priority' applies only to VNICs (a phys link's egress serves its VNICs by theirs)" \
	set-linkprop -p priority=high $PHYS
bad "maxbw=junk on a phys" "vwadm: $PHYS: invalid maxbw 'junk' (10K to 100G; a bare number is Mb/s)" \
	set-linkprop -p maxbw=junk $PHYS
bad "maxbw on a phys that does not exist" "vwadm: vwtunone: no such link" set-linkprop -p maxbw=10M vwtunone
check "a VNIC with VID 100 over the limited $PHYS" vwadm create-vnic -t -l $PHYS -v 100 -p zone=$ZB,priority=high vwtuv
check "address 10.200.42.2/24 on it" vwadm create-addr -a 10.200.42.2/24 vwtuv
wait_ping 10 $ZB 10.200.42.1
check "10 pings through the limited uplink in VID 100 (tag put into the shaped copy)" \
	ip netns exec $ZB ping -n -q -c 10 -i 0.05 -W 2 10.200.42.1
check "delete it" vwadm delete-vnic vwtuv
bad "a change with one bad value changes nothing" "vwadm: $VA: invalid priority 'urgent' (high, medium or low)" \
	set-linkprop -p maxbw=1M,priority=urgent $VA
expect_eq "nothing changed" "$before" "$(vwadm export)"
expect_eq "$VA still high, no maxbw" "maxbw:--
priority:high" "$(vwadm show-linkprop -c -o property,value -p priority,maxbw $VA)"

log "---- detached and attached again"
check "delete $VA" vwadm delete-vnic $VA
check "delete $VB" vwadm delete-vnic $VB
expect_eq "show-phys: $PHYS detached" "$PHYS:no" "$(vwadm show-phys -p -o link,attached $PHYS)"
expect_eq "show-linkprop: the detached $PHYS keeps maxbw 20M" "$PHYS:maxbw:20M
$PHYS:cpus:--" \
	"$(vwadm show-linkprop -c -o link,property,value)"
check "create VNIC $VA again" vwadm create-vnic -l $PHYS -p zone=$ZA,priority=high $VA
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
wait_ping 10 $ZA $F4
r=$(tcp_kbps $FAR $ZA $A4 4)
log "---- attached again, maxbw=20M, wire -> $VA: $r kb/s"
within "TCP into the uplink at maxbw=20M, attached again" "$r" 20
check "delete $VA" vwadm delete-vnic $VA
check "reset maxbw on the detached $PHYS" vwadm reset-linkprop -p maxbw $PHYS
expect_eq "export holds no phys property any more" "" "$(vwadm export | grep set-linkprop || true)"

check "maxbw=1M on $PHYS, and a VNIC busy behind it" vwadm set-linkprop -t -p maxbw=1M $PHYS
check "create VNIC $VB again" vwadm create-vnic -t -l $PHYS -p zone=$ZB $VB
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZB $F4
vw_bg ip netns exec $ZB ping -n -q -f -c 2000 -s 1400 $F4
sleep 1
vw_stop
expect_eq "vwired exited with status 0 on SIGTERM with a limited uplink busy" 0 "$VW_STOP_STATUS"
