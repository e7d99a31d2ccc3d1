#!/usr/bin/env bash
# Link property maxbw on a VNIC (issue 4): each direction is held to the
# limit by shaping, live, and the limit survives a restart.
#   - iperf3 TCP into and out of the limited VNIC settles near the limit
#     (a band wide enough for a shared machine: the accuracy figures belong
#     to bench/qos, not to a test);
#   - ping through maxbw=1M and 100K works with no loss (no one-MTU floor);
#   - a live change takes effect, and reset-linkprop lifts the limit;
#   - what a user reads back: show-linkprop, export, after a restart;
#   - bad values are refused with one line and change nothing.
VWT_OWN="vwtq"
. "$(dirname "$0")/lib.sh"

ZA=vwtqza ZB=vwtqzb STUB=vwtqs VA=vwtqa VB=vwtqb
A4=10.200.31.1 B4=10.200.31.2

# tcp_mbps SRC_NS DST_NS DST_ADDR SECS: iperf3 goodput in Mb/s (integer)
tcp_mbps() { echo $(($(tcp_kbps "$@") / 1000)); }

# within DESC MBPS LIMIT: goodput between 80% and 102% of the limit
# (TCP/IP headers take about 4.5% of the wire rate with 1500-byte frames)
within() {
	expect_ge "$1: $2 Mb/s is at least 80% of the limit" "$2" $(($3 * 80 / 100))
	expect_ge "$1: $2 Mb/s is at most 102% of the limit" $(($3 * 102 / 100)) "$2"
}

vw_start
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB with maxbw=20M" vwadm create-vnic -l $STUB -p zone=$ZB,maxbw=20M $VB
check "address on $VA" vwadm create-addr -a $A4/24 $VA
check "address on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $B4
expect_eq "show-linkprop shows maxbw 20M on $VB" "maxbw:20M:--" "$(vwadm show-linkprop -c -o property,value,default -p maxbw $VB)"
expect_eq "show-linkprop shows no maxbw on $VA" "maxbw:--:--" "$(vwadm show-linkprop -c -o property,value,default -p maxbw $VA)"

r=$(tcp_mbps $ZA $ZB $B4 5)
log "---- maxbw=20M, into $VB: $r Mb/s"
within "TCP into $VB at maxbw=20M" "$r" 20
r=$(tcp_mbps $ZB $ZA $A4 5)
log "---- maxbw=20M, out of $VB: $r Mb/s"
within "TCP out of $VB at maxbw=20M" "$r" 20

check "maxbw=5M on $VB, live" vwadm set-linkprop -p maxbw=5M $VB
r=$(tcp_mbps $ZA $ZB $B4 5)
log "---- maxbw=5M, into $VB: $r Mb/s"
within "TCP into $VB after the change to 5M" "$r" 5

for bw in 1M 100K; do
	check "maxbw=$bw on $VB" vwadm set-linkprop -p maxbw=$bw $VB
	check "20 pings through $VB at maxbw=$bw, none lost" \
		ip netns exec $ZA ping -n -q -c 20 -i 0.1 -W 2 $B4
done

check "reset maxbw on $VB" vwadm reset-linkprop -p maxbw $VB
expect_eq "show-linkprop after reset: no maxbw" "maxbw:--" "$(vwadm show-linkprop -c -o property,value -p maxbw $VB)"
r=$(tcp_mbps $ZA $ZB $B4 3)
log "---- no maxbw, into $VB: $r Mb/s"
expect_ge "TCP into $VB after the reset is far above the old limit" "$r" 200

# persistence: the limit is in the state file and comes back
check "maxbw=30M on $VB (persistent)" vwadm set-linkprop -p maxbw=30M $VB
check "export names maxbw=30M" bash -c "$VW_BIN/vwadm export | grep -q -- '-p zone=$ZB,maxbw=30M $VB'"
check "temporary maxbw=8M on $VB" vwadm set-linkprop -t -p maxbw=8M $VB
check "export still names maxbw=30M" bash -c "$VW_BIN/vwadm export | grep -q -- '-p zone=$ZB,maxbw=30M $VB'"
vw_kill9
vw_start
wait_ping 10 $ZA $B4
expect_eq "after a restart $VB has maxbw 30M" "maxbw:30M" "$(vwadm show-linkprop -c -o property,value -p maxbw $VB)"
r=$(tcp_mbps $ZA $ZB $B4 5)
log "---- maxbw=30M after restart, into $VB: $r Mb/s"
within "TCP into $VB at maxbw=30M after a restart" "$r" 30

# bad values: refused, nothing changed
before=$(vwadm export)
check_fail "maxbw=0 refused" vwadm set-linkprop -p maxbw=0 $VB
check_fail "maxbw=fast refused" vwadm set-linkprop -p maxbw=fast $VB
check_fail "maxbw=1K (below 10K) refused" vwadm set-linkprop -p maxbw=1K $VB
check_fail "maxbw=200G refused" vwadm set-linkprop -p maxbw=200G $VB
check_fail "maxbw on an etherstub refused" vwadm set-linkprop -p maxbw=10M $STUB
check_fail "create-vnic with maxbw=junk refused" vwadm create-vnic -l $STUB -p maxbw=junk vwtqc
expect_eq "the error names the value" "vwadm: $VB: invalid maxbw 'fast' (10K to 100G; a bare number is Mb/s)" \
	"$(vwadm set-linkprop -p maxbw=fast $VB 2>&1)"
expect_eq "nothing changed" "$before" "$(vwadm export)"

check "delete $VB while limited" vwadm delete-vnic $VB
# a daemon stopped with a limited VNIC that has frames queued
check "maxbw=1M on $VA" vwadm set-linkprop -p maxbw=1M $VA
vw_bg ip netns exec $ZA ping -n -q -f -c 2000 -s 1400 $B4
sleep 1
vw_stop
expect_eq "vwired exited with status 0 on SIGTERM with a limited VNIC busy" 0 "$VW_STOP_STATUS"
faces_after_stop $ZA $VA

