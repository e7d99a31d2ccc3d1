#!/usr/bin/env bash
# Virtual machines on VNICs (issue 16): QEMU test guests (tests/guest) on
# VNICs with face=vhost-user, a zone on the same etherstub.
#   etherstub vwt3s: zone vwt3z (vwt3z0 10.217.0.1/24), guests vwt3g1
#   (VNIC vwt3n1, vwired listens: vhost-mode=server, 10.217.0.11) and
#   vwt3g2 (vwt3n2, QEMU listens: vhost-mode=client, 10.217.0.12); on VLAN
#   10: zone vwt3y (vwt3y0 10.217.0.23/24) and guest vwt3g3 (vwt3n3,
#   10.217.0.13).
# Checks: ping and iperf3 guest -> guest, guest -> zone, zone -> guest; the
# guest on VLAN 10 reaches VLAN 10 only; maxbw on a guest's VNIC holds its
# traffic; a vwired restart during a zone's ping of a guest: the guests
# keep running (no second boot) and traffic resumes, in both vhost modes.
VWT_OWN="vwt3"
. "$(dirname "$0")/lib.sh"
. "$VW_ROOT/tests/guest/guest.sh"

command -v qemu-system-x86_64 >/dev/null || fail "no qemu-system-x86_64 (scripts/install-deps.sh)"
check "guest image built or up to date (tests/guest/mkguest.sh)" guest_build
guest_accel >/dev/null
boot_max=$([ "$GUEST_ACCEL" = kvm ] && echo 20 || echo 60)

gwait() {   # DESC NAME MARKER SECS
	VW_NCHECK=$((VW_NCHECK + 1))
	guest_wait "$2" "$3" "$4" || fail "$1"
	log "ok   - $1 (${GUEST_WAITED_MS} ms after QEMU started)"
}
# kbps_of TEXT [N]: the receiver's rate in the Nth (default 1st) iperf3 -J
# report in TEXT, kb/s
kbps_of() {
	python3 -c '
import json, sys
t, n, docs, i = sys.stdin.read(), int(sys.argv[1]), [], 0
d = json.JSONDecoder()
while len(docs) < n:
	i = t.index("{", i)
	j, i = d.raw_decode(t, i)
	docs.append(j)
print(int(docs[-1]["end"]["sum_received"]["bits_per_second"] / 1e3))' "${2:-1}" <<<"$1"
}
state_is() { [ "$(vwadm show-vnic -p -o state "$1")" = "$2" ]; }
M1=02:08:20:17:00:01 M2=02:08:20:17:00:02 M3=02:08:20:17:00:03

vw_start
check "etherstub vwt3s" vwadm create-etherstub vwt3s
check "zone vwt3z" vwadm create-zone vwt3z
check "zone VNIC vwt3z0" vwadm create-vnic -l vwt3s -p zone=vwt3z vwt3z0
check "its address" vwadm create-addr -a 10.217.0.1/24 vwt3z0
check "zone vwt3y" vwadm create-zone vwt3y
check "zone VNIC vwt3y0 on VLAN 10" vwadm create-vnic -l vwt3s -v 10 -p zone=vwt3y vwt3y0
check "its address" vwadm create-addr -a 10.217.0.23/24 vwt3y0
check "VM VNIC vwt3n1 (vwired listens)" vwadm create-vnic -l vwt3s -m $M1 -p face=vhost-user vwt3n1
check "VM VNIC vwt3n2 (vwired connects)" vwadm create-vnic -l vwt3s -m $M2 \
	-p face=vhost-user,vhost-mode=client,vhost-socket=$VW_TMP/g2.sock vwt3n2
check "VM VNIC vwt3n3 on VLAN 10" vwadm create-vnic -l vwt3s -m $M3 -v 10 -p face=vhost-user vwt3n3
S1=$(vwadm show-vnic -p -o socket vwt3n1)
expect_eq "show-vnic: face and socket (the default beside the control socket)" \
	"vwt3n1:vhost-user:$(dirname "$VW_SOCK")/vwt3n1.vhost:disconnected vwt3n2:vhost-user:$VW_TMP/g2.sock:disconnected" \
	"$(vwadm show-vnic -p -o link,face,socket,state vwt3n1 vwt3n2 | tr '\n' ' ' | sed 's/ $//')"
check_fail "a VM's VNIC takes no address" vwadm create-addr -a 10.217.0.99/24 vwt3n1
check_fail "nor a zone" vwadm set-linkprop -p zone=vwt3z vwt3n1
check_fail "its face is set at creation only" vwadm set-linkprop -p face=netdev vwt3n1

iperf3_server vwt3z 5201 10.217.0.1
guest_vhost_args "$S1" server
GUEST_MAC=$M1 guest_start vwt3g1 'vw.ip=10.217.0.11/24 vw.stay=1 vw.cmd="iperf3 -s -D"' "${GUEST_NETDEV[@]}"
gwait "guest vwt3g1 boots within ${boot_max}s" vwt3g1 VWGUEST-STAY "$boot_max"
wait_until 10 "vwt3n1 running" state_is vwt3n1 running
guest_vhost_args "$VW_TMP/g2.sock" client
GUEST_MAC=$M2 guest_start vwt3g2 \
	'vw.ip=10.217.0.12/24 vw.stay=1 vw.cmd="ping -c 3 -W 2 10.217.0.1 && ping -c 3 -W 2 10.217.0.11 && iperf3 -c 10.217.0.11 -t 3 -J && iperf3 -c 10.217.0.1 -t 3 -J"' \
	"${GUEST_NETDEV[@]}"
gwait "guest vwt3g2 boots, pings and runs iperf3 twice within $((boot_max + 60))s" vwt3g2 VWGUEST-END $((boot_max + 60))
out=$(guest_result vwt3g2)
expect_eq "vwt3g2's commands exit 0" 0 "$(guest_status vwt3g2)"
expect_eq "vwt3g2 -> zone and vwt3g2 -> vwt3g1: 3 pings answered each" 2 \
	"$(grep -c '3 packets transmitted, 3 packets received' <<<"$out" || true)"
gg=$(kbps_of "$out")
gz=$(kbps_of "$out" 2)
log "---- TCP guest -> guest $gg kb/s, guest -> zone $gz kb/s ($GUEST_ACCEL)"
expect_ge "guest -> guest TCP carried traffic (kb/s)" "$gg" 10000
expect_ge "guest -> zone TCP carried traffic (kb/s)" "$gz" 10000
wait_until 10 "vwt3n2 running (vwired connected to QEMU)" state_is vwt3n2 running
wait_ping 10 vwt3z 10.217.0.11
zg=$(kbps_of "$(ip netns exec vwt3z iperf3 -c 10.217.0.11 -t 3 -J)")
log "---- TCP zone -> guest $zg kb/s"
expect_ge "zone -> guest TCP carried traffic (kb/s)" "$zg" 10000

# maxbw on a guest's VNIC: what the guest receives is held to it
check "maxbw=50M on vwt3n1" vwadm set-linkprop -p maxbw=50M vwt3n1
held=$(kbps_of "$(ip netns exec vwt3z iperf3 -c 10.217.0.11 -t 4 -J)")
log "---- zone -> guest with maxbw=50M: $held kb/s"
expect_ge "zone -> guest under maxbw=50M still flows (kb/s)" "$held" 25000
expect_ge "and stays at most 55M (55000 - kb/s >= 0)" $((55000 - held)) 0
check "reset maxbw" vwadm reset-linkprop -p maxbw vwt3n1

# VLAN 10: the guest there reaches VLAN 10 only
guest_vhost_args "$(vwadm show-vnic -p -o socket vwt3n3)" server
GUEST_MAC=$M3 guest_start vwt3g3 \
	'vw.ip=10.217.0.13/24 vw.stay=1 vw.cmd="ping -c 3 -W 2 10.217.0.23; ping -c 2 -W 1 10.217.0.1; ping -c 2 -W 1 10.217.0.11; true"' \
	"${GUEST_NETDEV[@]}"
gwait "guest vwt3g3 boots and pings within $((boot_max + 30))s" vwt3g3 VWGUEST-END $((boot_max + 30))
out=$(guest_result vwt3g3)
expect_eq "vwt3g3 (VLAN 10) reaches the zone on VLAN 10, not the zone or guest of VLAN 0" \
	"3 packets transmitted, 3 packets received
2 packets transmitted, 0 packets received
2 packets transmitted, 0 packets received" "$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' <<<"$out")"
check_fail "the zone on VLAN 0 cannot reach vwt3g3" ip netns exec vwt3z ping -c 2 -W 1 -q 10.217.0.13
check "the zone on VLAN 10 can" ip netns exec vwt3y ping -c 2 -W 2 -q 10.217.0.13

# a restart of vwired while a zone pings both guests every 50 ms
vw_bg ip netns exec vwt3z ping -D -n -i 0.05 -c 400 -W 1 10.217.0.11 >"$VW_TMP/ping1.out" 2>&1
p1=$VW_BG_PID
vw_bg ip netns exec vwt3z ping -D -n -i 0.05 -c 400 -W 1 10.217.0.12 >"$VW_TMP/ping2.out" 2>&1
p2=$VW_BG_PID
sleep 3
vw_stop
vw_start
wait_until 20 "vwt3n1 running again (QEMU reconnected)" state_is vwt3n1 running
wait_until 20 "vwt3n2 running again (vwired reconnected to QEMU)" state_is vwt3n2 running
back=$(date +%s.%N)
wait "$p1" "$p2" 2>/dev/null || true
for g in 1 2; do
	read -r got after gap < <(python3 - "$VW_TMP/ping$g.out" "$back" <<'EOF'
import re, sys
ts = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", open(sys.argv[1]).read(), re.M)]
gaps = [b - a for a, b in zip(ts, ts[1:])]
print(len(ts), sum(t > float(sys.argv[2]) for t in ts), int(max(gaps) * 1000) if gaps else -1)
EOF
)
	log "---- restart: vwt3g$g answered $got of 400 pings ($after after both VNICs were running again), longest gap $gap ms"
	expect_ge "vwt3g$g answers again after the restart (pings answered after it)" "$after" 10
	expect_ge "vwt3g$g answered most pings (>= 300 of 400)" "$got" 300
done
expect_eq "the guests did not boot again" "1 1" \
	"$(grep -c VWGUEST-READY "$(guest_log vwt3g1)") $(grep -c VWGUEST-READY "$(guest_log vwt3g2)")"
wait_ping 10 vwt3z 10.217.0.11
wait_ping 10 vwt3z 10.217.0.12
guest_stop_all
vw_stop
