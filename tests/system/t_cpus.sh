#!/usr/bin/env bash
# Link property cpus on a VNIC: only the datapath workers on those CPUs read
# what the VNIC sends.
#   - each worker thread is named vw-worker-N and pinned to its CPU;
#   - with cpus set on both VNICs of a TCP stream, the other worker reads
#     nothing at all (vwstat -w), live, both ways round;
#   - with maxbw too, the shaper's owner is one of the allowed workers and
#     the stream runs at the limit;
#   - what a user reads back: show-linkprop, export, -t, reset, a restart;
#   - bad values are refused with one line and change nothing.
VWT_OWN="vwtu"
. "$(dirname "$0")/lib.sh"

ZA=vwtuza ZB=vwtuzb STUB=vwtus VA=vwtua VB=vwtub
A4=10.200.41.1 B4=10.200.41.2

need_cpus

# wpkts W: frames worker W has read so far

# tcp_mbps SRC_NS DST_NS DST_ADDR SECS: iperf3 goodput in Mb/s (integer)
tcp_mbps() { echo $(($(tcp_kbps "$@") / 1000)); }

# only_worker W DESC: a TCP stream each way between the zones, and only
# worker W reads a frame meanwhile (the other reads none at all).
only_worker() {
	local w=$1 other=$((1 - $1)) o0 w0 o1 w1 r
	zping $ZA $B4 >/dev/null # what was in flight before the change is read
	o0=$(wpkts $other) w0=$(wpkts "$w")
	r=$(tcp_mbps $ZA $ZB $B4 2)
	log "---- $2, $ZA -> $ZB: $r Mb/s"
	r=$(tcp_mbps $ZB $ZA $A4 2)
	log "---- $2, $ZB -> $ZA: $r Mb/s"
	o1=$(wpkts $other) w1=$(wpkts "$w")
	expect_eq "$2: worker $other read no frame" 0 $((o1 - o0))
	expect_ge "$2: worker $w read the streams" $((w1 - w0)) 1000
}

# within DESC MBPS LIMIT: goodput between 80% and 102% of the limit
within() {
	expect_ge "$1: $2 Mb/s is at least 80% of the limit" "$2" $(($3 * 80 / 100))
	expect_ge "$1: $2 Mb/s is at most 102% of the limit" $(($3 * 102 / 100)) "$2"
}


vw_start
for w in 0 1; do
	tid=$(grep -lx "vw-worker-$w" /proc/$VW_PID/task/*/comm | head -1 | cut -d/ -f5)
	[ -n "$tid" ] || fail "no thread named vw-worker-$w in vwired"
	eval "c=\$C$w"
	expect_eq "vw-worker-$w is pinned to CPU $c" "$c" "$(taskset -pc "$tid" | sed 's/.*: //')"
done

check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB with cpus=$C1" vwadm create-vnic -l $STUB -p zone=$ZB,cpus=$C1 $VB
check "address on $VA" vwadm create-addr -a $A4/24 $VA
check "address on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $B4
expect_eq "show-linkprop shows cpus $C1 on $VB" "cpus:$C1:--" "$(vwadm show-linkprop -c -o property,value,default -p cpus $VB)"
expect_eq "show-linkprop shows no cpus on $VA" "cpus:--:--" "$(vwadm show-linkprop -c -o property,value,default -p cpus $VA)"

check "cpus=$C1 on $VA, live" vwadm set-linkprop -p cpus=$C1 $VA
only_worker 1 "cpus=$C1 on both"
check "cpus=$C0 on both, live" vwadm set-linkprop -p cpus=$C0 $VA
check "cpus=$C0 on $VB" vwadm set-linkprop -p cpus=$C0 $VB
only_worker 0 "cpus=$C0 on both"
check "cpus=$C0,$C1 on $VB (a list)" vwadm set-linkprop -p cpus=$C0,$C1 $VB
expect_eq "show-linkprop shows the list as ranges" "$C0-$C1" "$(cpus_of $VB)"
r=$(tcp_mbps $ZA $ZB $B4 2)
log "---- cpus=$C0,$C1 on $VB: $r Mb/s"
expect_ge "TCP flows with every CPU allowed" "$r" 1

# with maxbw: the shaper's owner is an allowed worker.  Worker 0 would be
# picked with no cpus (the least loaded, first), so cpus=C1 must move it.
check "maxbw=20M on $VB" vwadm set-linkprop -p maxbw=20M $VB
check "cpus=$C1 on $VA" vwadm set-linkprop -p cpus=$C1 $VA
check "cpus=$C1 on $VB while it is shaped" vwadm set-linkprop -p cpus=$C1 $VB
zping $ZA $B4 >/dev/null
o0=$(wpkts 0)
r=$(tcp_mbps $ZA $ZB $B4 4)
log "---- maxbw=20M cpus=$C1, into $VB: $r Mb/s"
within "TCP into $VB at maxbw=20M with cpus=$C1" "$r" 20
r=$(tcp_mbps $ZB $ZA $A4 4)
log "---- maxbw=20M cpus=$C1, out of $VB: $r Mb/s"
within "TCP out of $VB at maxbw=20M with cpus=$C1" "$r" 20
expect_eq "with maxbw, worker 0 read no frame" 0 $(($(wpkts 0) - o0))

# persistence: in the state file, not for -t, back after a restart
check "export names maxbw and cpus" bash -c "$VW_BIN/vwadm export | grep -q -- '-p zone=$ZB,maxbw=20M,cpus=$C1 $VB'"
check "temporary cpus=$C0 on $VB" vwadm set-linkprop -t -p cpus=$C0 $VB
expect_eq "show-linkprop shows the temporary value" "$C0" "$(cpus_of $VB)"
check "export still names cpus=$C1" bash -c "$VW_BIN/vwadm export | grep -q -- '-p zone=$ZB,maxbw=20M,cpus=$C1 $VB'"
check "reset cpus on $VA" vwadm reset-linkprop -p cpus $VA
expect_eq "show-linkprop after reset: no cpus" "--" "$(cpus_of $VA)"
check "export has no cpus for $VA" bash -c "! $VW_BIN/vwadm export | grep -- 'cpus=.* $VA\$'"
check "cpus=$C1 on $VA again" vwadm set-linkprop -p cpus=$C1 $VA
vw_kill9
vw_start
wait_ping 10 $ZA $B4
expect_eq "after a restart $VB has cpus $C1" "$C1" "$(cpus_of $VB)"
expect_eq "after a restart $VA has cpus $C1" "$C1" "$(cpus_of $VA)"
expect_eq "after a restart $VB has maxbw 20M" "maxbw:20M" "$(vwadm show-linkprop -c -o property,value -p maxbw $VB)"
zping $ZA $B4 >/dev/null
o0=$(wpkts 0)
r=$(tcp_mbps $ZA $ZB $B4 4)
log "---- after a restart, into $VB: $r Mb/s"
within "TCP into $VB at maxbw=20M with cpus=$C1 after a restart" "$r" 20
expect_eq "after a restart, worker 0 read no frame" 0 $(($(wpkts 0) - o0))

# bad values: refused with the reason, nothing changed
before=$(vwadm export)
bad() { # bad MESSAGE VWADM-ARGS...
	local m=$1
	shift
	check_fail "refused: vwadm $*" vwadm "$@"
	expect_eq "the message for: vwadm $*" "$m" "$(vwadm "$@" 2>&1)"
}
bad "vwadm: $VB: CPU $OFF is not online (online: $ONLINE)" set-linkprop -p cpus=$OFF $VB
bad "vwadm: $VB: CPU $OFF is not online (online: $ONLINE)" set-linkprop -p cpus=$C0,$OFF $VB
bad "vwadm: $VB: invalid cpus 'abc' (a CPU list such as 0,2-3)" set-linkprop -p cpus=abc $VB
bad "vwadm: $VB: invalid cpus '1-0' (a CPU list such as 0,2-3)" set-linkprop -p cpus=1-0 $VB
bad "vwadm: $VB: invalid cpus '' (a CPU list such as 0,2-3)" set-linkprop -p cpus= $VB
bad "vwadm: $VB: invalid cpus '0,,1' (a CPU list such as 0,2-3)" set-linkprop -p cpus=0,,1 $VB
bad "vwadm: $VB: invalid cpus '0 1' (a CPU list such as 0,2-3)" set-linkprop -p "cpus=0 1" $VB
bad "vwadm: $VB: property 'cpus' given twice" set-linkprop -p cpus=$C0,cpus=$C1 $VB
bad "vwadm: $VB: invalid mtu 'x' (68-9000)" set-linkprop -p cpus=$C0,mtu=x $VB
bad "vwadm: $STUB: property 'cpus' applies only to VNICs and phys links" set-linkprop -p cpus=$C0 $STUB
bad "vwadm: vwtuc: invalid cpus 'abc' (a CPU list such as 0,2-3)" create-vnic -l $STUB -p cpus=abc vwtuc
bad "vwadm: vwtuc: CPU $OFF is not online (online: $ONLINE)" create-vnic -l $STUB -p cpus=$OFF vwtuc
bad "vwadm: vwtuc: property 'cpus' given twice" create-vnic -l $STUB -p cpus=$C0,cpus=$C0 vwtuc
expect_eq "nothing changed" "$before" "$(vwadm export)"
expect_eq "$VB still has cpus $C1" "$C1" "$(cpus_of $VB)"
check "no VNIC vwtuc" bash -c "! $VW_BIN/vwadm show-vnic vwtuc"
only_worker 1 "after the refusals"

# a CPU that is online but runs no worker
check "delete $VA" vwadm delete-vnic $VA
check "delete $VB" vwadm delete-vnic $VB
vw_stop
vw_start --workers 1
bad "vwadm: vwtuc: no datapath worker runs on CPU $C1 (workers run on $C0)" create-vnic -l $STUB -p cpus=$C1 vwtuc
check "create-vnic with cpus=$C0 on one worker" vwadm create-vnic -l $STUB -p cpus=$C0 vwtuc
expect_eq "show-linkprop shows it" "$C0" "$(cpus_of vwtuc)"
check "delete vwtuc" vwadm delete-vnic vwtuc
vw_stop
