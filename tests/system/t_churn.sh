#!/usr/bin/env bash
# Churn: 100 VNICs created and deleted (one at a time, then 100 at once and
# deleted in bulk), a third of them in zones, some with VIDs and addresses.
# Afterwards no TAP device is left, and the daemon's threads and open file
# descriptors are back to what they were.
# A deleted VNIC is gone at once from vwadm, from the switch (its MAC can
# be used again) and by name from Linux; its face, renamed and taken down,
# is unregistered in a batch shortly after (objects/link.c): checked with a
# bounded wait, and the same names are created again right after deletion.
# Last, a SIGTERM right after deletions leaves nothing behind.
VWT_OWN="vwtc"
. "$(dirname "$0")/lib.sh"

STUB=vwtcs ZONES=(vwtcz0 vwtcz1 vwtcz2)
N=100

vw_start
check "create etherstub $STUB" vwadm create-etherstub $STUB
for z in "${ZONES[@]}"; do check "create zone $z" vwadm create-zone "$z"; done
# A VNIC that stays all along, so the switch is never empty.
check "VNIC vwtckeep in ${ZONES[0]}" vwadm create-vnic -l $STUB -p zone=${ZONES[0]} vwtckeep
check "address on vwtckeep" vwadm create-addr -a 10.200.7.254/24 vwtckeep

threads() { ls "/proc/$VW_PID/task" | wc -l; }
fds() { ls "/proc/$VW_PID/fd" | wc -l; }
vnic_devices() {   # VNIC devices of this test, in the host and in the zones
	{
		ip -o link show
		for z in "${ZONES[@]}"; do ip -n "$z" -o link show; done
	} | awk -F': ' '{ sub("@.*", "", $2); print $2 }' | grep '^vwtc[0-9]' || true
}
# Faces that daemon PID retired and has not unregistered yet: named _vw
# and its pid in 6 hex digits (objects/link.c), in the host or a zone.
retired_devices() {
	local pfx
	pfx=$(printf '_vw%06x' $((${1:-$VW_PID} & 0xffffff)))
	{
		ip -o link show
		for z in "${ZONES[@]}"; do ip -n "$z" -o link show; done
	} | awk -F': ' '{ sub("@.*", "", $2); print $2 }' | grep "^$pfx" || true
}
none_retired() { [ -z "$(retired_devices)" ]; }
# reaped DESC: every retired face unregistered within a bounded wait; then
# one command, so the daemon has also finished closing their fds (it
# reaps between two commands).
reaped() {
	wait_until 2 "$1" none_retired
	vwadm show-link >/dev/null
}
# create_one I: VNIC vwtcI, every third in a zone, every fifth with a VID,
# every twelfth (all in zones) with an address: its own subnet, but vwtc12
# (zone vwtcz1) shares vwtckeep's, for a ping across the switch.
create_one() {
	local i=$1 args=(-l $STUB) addr
	((i % 3 == 0)) && args+=(-p zone=${ZONES[$((i / 3 % 3))]})
	((i % 5 == 0)) && args+=(-v $((i + 10)))
	vwadm create-vnic "${args[@]}" "vwtc$i" || return 1
	if ((i % 12 == 0)); then
		addr=10.200.$((100 + i)).1/24
		((i == 12)) && addr=10.200.7.13/24
		vwadm create-addr -a $addr "vwtc$i" || return 1
	fi
}

# One create+delete first, so that anything made once and kept (a worker's
# buffers, a zone's netlink socket) exists before the baseline is taken.
check "warm-up create" create_one 0
check "warm-up delete" vwadm delete-vnic vwtc0
reaped "its face unregistered within 2 s"
T0=$(threads) F0=$(fds)
log "---- baseline: $T0 threads, $F0 open fds (pid $VW_PID)"

log "---- $N iterations of create + delete"
for ((i = 0; i < N; i++)); do
	create_one $i || fail "iteration $i: create vwtc$i failed"
	vwadm delete-vnic "vwtc$i" >/dev/null || fail "iteration $i: delete vwtc$i failed"
done
log "ok   - $N VNICs created and deleted one after the other"
VW_NCHECK=$((VW_NCHECK + 1))
expect_eq "no VNIC device left after the create+delete loop" "" "$(vnic_devices)"
reaped "every retired face unregistered within 2 s"
expect_eq "threads back to the baseline" "$T0" "$(threads)"
expect_eq "open fds back to the baseline" "$F0" "$(fds)"

log "---- delete, then the same name and MAC at once"
check "create vwtc12 (zone ${ZONES[1]}, address 10.200.7.13)" create_one 12
MAC12=$(vwadm show-vnic -p -o macaddress vwtc12 | tr -d '\\')
wait_ping 10 ${ZONES[0]} 10.200.7.13
check "delete vwtc12" vwadm delete-vnic vwtc12
check_fail "show-vnic vwtc12 fails at once" vwadm show-vnic vwtc12
expect_eq "show-link no longer lists vwtc12" "" "$(vwadm show-link -p -o link | grep -x vwtc12 || true)"
check_fail "the zone no longer has a device vwtc12" ip -n ${ZONES[1]} link show vwtc12
check "vwtc12 created again at once with the same MAC (the switch forgot it)" \
	vwadm create-vnic -l $STUB -m "$MAC12" -p zone=${ZONES[1]} vwtc12
check "its address again" vwadm create-addr -a 10.200.7.13/24 vwtc12
wait_ping 10 ${ZONES[0]} 10.200.7.13
reaped "the old face of vwtc12 unregistered within 2 s"
expect_eq "one vwtc12 in the zone" "vwtc12" \
	"$(ip -n ${ZONES[1]} -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^vwtc' || true)"
check "delete vwtc12" vwadm delete-vnic vwtc12
# the next vwtc12 has another MAC for the same address: forget this one
ip -n ${ZONES[0]} neigh flush dev vwtckeep

log "---- create $N, then delete $N"
for ((i = 0; i < N; i++)); do
	create_one $i || fail "create vwtc$i failed"
done
log "ok   - $N VNICs created"
VW_NCHECK=$((VW_NCHECK + 1))
expect_eq "show-vnic lists $N + 1 VNICs" $((N + 1)) "$(vwadm show-vnic -p -o link | wc -l)"
expect_eq "$N VNIC devices vwtc0..vwtc$((N - 1)) exist (host and zones)" $N "$(vnic_devices | wc -l)"
expect_eq "the zone ${ZONES[1]} holds its share" \
	"$(for ((i = 0; i < N; i++)); do ((i % 3 == 0 && i / 3 % 3 == 1)) && echo vwtc$i; done | sort)" \
	"$(ip -n ${ZONES[1]} -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^vwtc[0-9]' | sort)"
expect_eq "etherstub counts $N + 1 VNICs" $((N + 1)) "$(vwadm show-etherstub -p -o vnics $STUB)"
wait_ping 10 ${ZONES[0]} 10.200.7.13
for ((i = N - 1; i >= 0; i--)); do
	vwadm delete-vnic "vwtc$i" >/dev/null || fail "delete vwtc$i failed"
done
log "ok   - $N VNICs deleted"
VW_NCHECK=$((VW_NCHECK + 1))
expect_eq "no VNIC device left" "" "$(vnic_devices)"
expect_eq "show-vnic lists only vwtckeep" "vwtckeep" "$(vwadm show-vnic -p -o link)"

log "---- the same $N names created again at once, and deleted"
for ((i = 0; i < N; i++)); do
	create_one $i || fail "create vwtc$i again failed"
done
log "ok   - $N VNICs created again"
VW_NCHECK=$((VW_NCHECK + 1))
expect_eq "$N VNIC devices again" $N "$(vnic_devices | wc -l)"
ip -n ${ZONES[0]} neigh flush dev vwtckeep # vwtc12 has a new MAC
wait_ping 10 ${ZONES[0]} 10.200.7.13
for ((i = 0; i < N; i++)); do
	vwadm delete-vnic "vwtc$i" >/dev/null || fail "delete vwtc$i failed"
done
log "ok   - $N VNICs deleted"
VW_NCHECK=$((VW_NCHECK + 1))
expect_eq "no VNIC device left" "" "$(vnic_devices)"
reaped "every retired face unregistered within 2 s"
expect_eq "show-vnic lists only vwtckeep" "vwtckeep" "$(vwadm show-vnic -p -o link)"
expect_eq "etherstub counts 1 VNIC" 1 "$(vwadm show-etherstub -p -o vnics $STUB)"
expect_eq "export holds only the survivors" "create-zone vwtcz0
create-zone vwtcz1
create-zone vwtcz2
create-etherstub $STUB
create-vnic -l $STUB -m random -r $(vwadm show-vnic -p -o macaddress vwtckeep | tr -d '\\') -p zone=vwtcz0 vwtckeep
create-addr -a 10.200.7.254/24 vwtckeep" "$(vwadm export)"
expect_eq "threads back to the baseline ($T0)" "$T0" "$(threads)"
expect_eq "open fds back to the baseline ($F0)" "$F0" "$(fds)"

log "---- a zone deleted right after its VNIC"
check "create zone vwtcz3" vwadm create-zone vwtcz3
check "VNIC vwtc3 in it" vwadm create-vnic -l $STUB -p zone=vwtcz3 vwtc3
check "delete vwtc3" vwadm delete-vnic vwtc3
check "delete zone vwtcz3 at once" vwadm delete-zone vwtcz3
check_fail "the zone is gone" ip netns exec vwtcz3 true
expect_eq "open fds back to the baseline ($F0)" "$F0" "$(fds)"

log "---- SIGTERM right after deletions"
for ((i = 0; i < 30; i++)); do
	create_one $i || fail "create vwtc$i failed"
done
for ((i = 0; i < 30; i++)); do
	vwadm delete-vnic "vwtc$i" >/dev/null || fail "delete vwtc$i failed"
done
PID=$VW_PID
log "---- $(retired_devices | wc -l) retired faces not yet unregistered at SIGTERM"
vw_stop
expect_eq "the daemon exited with status 0" 0 "$VW_STOP_STATUS"
expect_eq "no VNIC device left after its exit" "" "$(vnic_devices)"
expect_eq "no retired face left after its exit" "" "$(retired_devices $PID)"
faces_after_stop ${ZONES[0]} vwtckeep
