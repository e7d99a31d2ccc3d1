#!/usr/bin/env bash
# Link property cpus on a phys link (issue 4): its uplink is read by a
# datapath worker on one of those CPUs.  The phys is vwtx0, one end of a
# veth pair made by the test; the other end, vwtx1, is in namespace vwtxfar.
# Two workers, worker i pinned to the i-th CPU (t_cpus checks the pinning).
#   - cpus set before the phys is attached: with the VNIC's cpus on the
#     same CPU, the other worker reads no frame at all during TCP through
#     the uplink both ways (vwstat -w);
#   - a live change of the phys alone: the other worker now reads the
#     uplink's frames (it reads nothing else); then the VNIC too: the first
#     worker reads nothing;
#   - with maxbw=20M on the phys, a live cpus change moves its shaping with
#     the uplink: the rate still holds both ways, and pings through the
#     uplink while cpus changes back and forth all come back;
#   - show-linkprop, export, -t, reset, a restart; bad values refused with
#     one line and nothing changed.
VWT_OWN="vwtx"
. "$(dirname "$0")/lib.sh"

FAR=vwtxfar ZA=vwtxza VA=vwtxa STUB=vwtxs PHYS=vwtx0
F4=10.200.51.1 A4=10.200.51.2

need_cpus

far_side $FAR vwtx $F4
mkdir -p "$VW_TMP"


# within DESC KBPS LIMIT_MBPS: goodput within 5% of what the limit leaves
# for TCP payload (1448 bytes of every 1514-byte frame on the wire), as
# t_physqos
within() {
	local expect=$(($3 * 1000 * 1448 / 1514))
	expect_ge "$1: $2 kb/s is at least 95% of $expect" "$2" $((expect * 95 / 100))
	expect_ge "$1: $2 kb/s is at most 105% of $expect" $((expect * 105 / 100)) "$2"
}

# streams DESC SECS: TCP out of the uplink and into it, SECS each; sets
# OUT and IN (kb/s) and R0, R1: the frames workers 0 and 1 read meanwhile.
streams() {
	local a0 a1
	zping $ZA $F4 >/dev/null # what was in flight before a change is read
	a0=$(wpkts 0) a1=$(wpkts 1)
	OUT=$(tcp_kbps $ZA $FAR $F4 "$2")
	IN=$(tcp_kbps $FAR $ZA $A4 "$2")
	R0=$(($(wpkts 0) - a0)) R1=$(($(wpkts 1) - a1))
	log "---- $1: $VA -> wire $OUT kb/s, wire -> $VA $IN kb/s; worker 0 read $R0 frames, worker 1 $R1"
}
# only_worker W DESC: during the last streams, only worker W read frames
only_worker() {
	local n=$((1 - $1))
	eval "local other=\$R$n mine=\$R$1"
	expect_eq "$2: worker $n read no frame" 0 "$other"
	expect_ge "$2: worker $1 read the streams" "$mine" 1000
}

vw_start --workers 2
log "---- cpus on the phys before it is attached"
check "cpus=$C1 on $PHYS (not attached yet)" vwadm set-linkprop -p cpus=$C1 $PHYS
expect_eq "show-linkprop: $PHYS has cpus $C1" "$PHYS:cpus:$C1:--" \
	"$(vwadm show-linkprop -c -o link,property,value,default -p cpus $PHYS)"
expect_eq "show-linkprop lists maxbw and cpus for $PHYS" "maxbw:--
cpus:$C1" "$(vwadm show-linkprop -c -o property,value $PHYS)"
expect_eq "export names it" "set-linkprop -p cpus=$C1 $PHYS" "$(vwadm export)"
check "create zone $ZA" vwadm create-zone $ZA
check "create VNIC $VA over $PHYS in $ZA with cpus=$C1" vwadm create-vnic -l $PHYS -p zone=$ZA,cpus=$C1 $VA
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
expect_eq "show-phys: $PHYS attached" "$PHYS:yes" "$(vwadm show-phys -p -o link,attached $PHYS)"
wait_ping 10 $ZA $F4

streams "$PHYS and $VA on CPU $C1" 2
only_worker 1 "$PHYS and $VA on CPU $C1"

check "cpus=$C0 on $PHYS, live ($VA stays on $C1)" vwadm set-linkprop -p cpus=$C0 $PHYS
expect_eq "show-linkprop: $PHYS has cpus $C0" "$C0" "$(cpus_of $PHYS)"
streams "$PHYS on CPU $C0, $VA on $C1" 2
# worker 0 may read only the uplink now
expect_ge "$PHYS on CPU $C0: worker 0 reads the uplink's frames" "$R0" 1000
expect_ge "$VA on CPU $C1: worker 1 reads the VNIC's" "$R1" 1000

check "cpus=$C0 on $VA too" vwadm set-linkprop -p cpus=$C0 $VA
streams "$PHYS and $VA on CPU $C0" 2
only_worker 0 "$PHYS and $VA on CPU $C0"

log "---- with maxbw on the phys: its shaping moves with the uplink"
check "maxbw=20M on $PHYS" vwadm set-linkprop -p maxbw=20M $PHYS
streams "maxbw=20M, $PHYS and $VA on CPU $C0" 4
within "TCP out of the uplink at maxbw=20M on CPU $C0" "$OUT" 20
within "TCP into the uplink at maxbw=20M on CPU $C0" "$IN" 20
only_worker 0 "maxbw=20M, $PHYS and $VA on CPU $C0"
check "cpus=$C1 on $PHYS, live, shaped" vwadm set-linkprop -p cpus=$C1 $PHYS
check "cpus=$C1 on $VA" vwadm set-linkprop -p cpus=$C1 $VA
streams "maxbw=20M, $PHYS and $VA moved to CPU $C1" 4
within "TCP out of the uplink at maxbw=20M after the move to CPU $C1" "$OUT" 20
within "TCP into the uplink at maxbw=20M after the move to CPU $C1" "$IN" 20
only_worker 1 "maxbw=20M, $PHYS and $VA moved to CPU $C1"
expect_eq "show-linkprop: $PHYS has maxbw 20M and cpus $C1" "maxbw:20M
cpus:$C1" "$(vwadm show-linkprop -c -o property,value $PHYS)"

# pings through the shaped uplink while it moves from worker to worker
vw_bg ip netns exec $ZA ping -n -q -c 300 -i 0.02 -W 5 $F4
pp=$VW_BG_PID
for i in 1 2 3 4 5; do
	check "cpus=$C0 on $PHYS during pings ($i)" vwadm set-linkprop -t -p cpus=$C0 $PHYS
	sleep 0.4
	check "cpus=$C1 on $PHYS during pings ($i)" vwadm set-linkprop -t -p cpus=$C1 $PHYS
	sleep 0.4
done
rc=0
wait $pp || rc=$?
expect_eq "300 pings through the uplink moved 10 times, none lost (ping's exit status)" 0 "$rc"

log "---- persistence, -t, reset, restart"
check "temporary cpus=$C0 on $PHYS" vwadm set-linkprop -t -p cpus=$C0 $PHYS
expect_eq "show-linkprop: cpus $C0 now" "$C0" "$(cpus_of $PHYS)"
expect_eq "export: the persistent maxbw and cpus of $PHYS, before the VNIC" \
	"set-linkprop -p maxbw=20M,cpus=$C1 $PHYS" "$(vwadm export | grep "^set-linkprop")"
check "back to cpus=$C1 (temporarily)" vwadm set-linkprop -t -p cpus=$C1 $PHYS
vw_kill9
vw_start --workers 2
wait_ping 10 $ZA $F4
expect_eq "after a restart $PHYS has maxbw 20M and cpus $C1" "maxbw:20M
cpus:$C1" "$(vwadm show-linkprop -c -o property,value $PHYS)"
streams "after a restart, maxbw=20M, $PHYS and $VA on CPU $C1" 4
within "TCP out of the uplink at maxbw=20M after a restart" "$OUT" 20
within "TCP into the uplink at maxbw=20M after a restart" "$IN" 20
only_worker 1 "after a restart, $PHYS and $VA on CPU $C1"

log "---- bad values"
check "create etherstub $STUB" vwadm create-etherstub -t $STUB
before=$(vwadm export)
bad() { # bad MESSAGE VWADM-ARGS...
	local m=$1
	shift
	check_fail "refused: vwadm $*" vwadm "$@"
	expect_eq "the message for: vwadm $*" "$m" "$(vwadm "$@" 2>&1)"
}
bad "vwadm: $PHYS: CPU $OFF is not online (online: $ONLINE)" set-linkprop -p cpus=$OFF $PHYS
bad "vwadm: $PHYS: CPU $OFF is not online (online: $ONLINE)" set-linkprop -p cpus=$C0,$OFF $PHYS
bad "vwadm: $PHYS: invalid cpus 'abc' (a CPU list such as 0,2-3)" set-linkprop -p cpus=abc $PHYS
bad "vwadm: $PHYS: invalid cpus '1-0' (a CPU list such as 0,2-3)" set-linkprop -p cpus=1-0 $PHYS
bad "vwadm: $PHYS: invalid cpus '' (a CPU list such as 0,2-3)" set-linkprop -p cpus= $PHYS
bad "vwadm: $PHYS: property 'cpus' given twice" set-linkprop -p cpus=$C0,cpus=$C1 $PHYS
bad "vwadm: $PHYS: CPU $OFF is not online (online: $ONLINE)" set-linkprop -p maxbw=5M,cpus=$OFF $PHYS
bad "vwadm: $STUB: property 'cpus' applies only to VNICs and phys links" set-linkprop -p cpus=$C0 $STUB
bad "vwadm: vwtxnone: no such link" set-linkprop -p cpus=$C0 vwtxnone
expect_eq "nothing changed" "$before" "$(vwadm export)"
expect_eq "$PHYS still has maxbw 20M and cpus $C1" "maxbw:20M
cpus:$C1" "$(vwadm show-linkprop -c -o property,value $PHYS)"
streams "after the refusals" 2
only_worker 1 "after the refusals"

log "---- reset, detached"
check "reset cpus on $PHYS" vwadm reset-linkprop -p cpus $PHYS
expect_eq "show-linkprop after the reset: cpus --" "--" "$(cpus_of $PHYS)"
expect_eq "export: maxbw only" "set-linkprop -p maxbw=20M $PHYS" "$(vwadm export | grep "^set-linkprop")"
check "delete $VA" vwadm delete-vnic $VA
expect_eq "show-phys: $PHYS detached" "$PHYS:no" "$(vwadm show-phys -p -o link,attached $PHYS)"
check "cpus=$C0 on the detached $PHYS" vwadm set-linkprop -p cpus=$C0 $PHYS
check "reset maxbw and cpus on the detached $PHYS" vwadm reset-linkprop -p maxbw,cpus $PHYS
expect_eq "export holds no phys property any more" "" "$(vwadm export | grep set-linkprop || true)"

# a CPU that is online but runs no worker
vw_stop
vw_start --workers 1
bad "vwadm: $PHYS: no datapath worker runs on CPU $C1 (workers run on $C0)" set-linkprop -p cpus=$C1 $PHYS
expect_eq "show-linkprop: no cpus on $PHYS" "--" "$(cpus_of $PHYS)"
vw_stop
