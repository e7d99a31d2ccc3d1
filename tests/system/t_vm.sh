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
# traffic; a flow, vwsnoop, a mirror, an IPFIX exporter and the accounting
# history see a guest's traffic; a guest resets its NIC and goes on; a
# guest with two queue pairs uses both; a vwired restart during a zone's
# ping of a guest: the guests keep running (no second boot) and traffic
# resumes, in both vhost modes.
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
# hist_bytes LINK: received + sent bytes in the accounting history
hist_bytes() {
	vwstat show-history -f "$VW_TMP/acct.db" -F csv -o name,rbytes,obytes "$1" 2>/dev/null |
		awk -F, -v n="$1" '$1 == n { b += $2 + $3 } END { printf "%d\n", b }'
}
NFPORT=24753
M1=02:08:20:17:00:01 M2=02:08:20:17:00:02 M3=02:08:20:17:00:03 M4=02:08:20:17:00:04

vw_start --workers 2
check "accounting on, every second" vwadm start-accounting -i 1 -f "$VW_TMP/acct.db"
check "etherstub vwt3s" vwadm create-etherstub vwt3s
check "zone vwt3z" vwadm create-zone vwt3z
check "zone VNIC vwt3z0" vwadm create-vnic -l vwt3s -p zone=vwt3z vwt3z0
check "its address" vwadm create-addr -a 10.217.0.1/24 vwt3z0
check "and an IPv6 one" vwadm create-addr -a fd00:217::1/64 vwt3z0
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
GUEST_MAC=$M1 guest_start vwt3g1 'vw.ip=10.217.0.11/24 vw.stay=1 vw.cmd="ip -6 addr add fd00:217::11/64 dev eth0; iperf3 -s -D"' \
	"${GUEST_NETDEV[@]}"
gwait "guest vwt3g1 boots within ${boot_max}s" vwt3g1 VWGUEST-STAY "$boot_max"
wait_until 10 "vwt3n1 running" state_is vwt3n1 running
# an IPv6 address not made from the guest's MAC: neighbour discovery
# reaches it only because vwired learnt the guest's solicited-node group
# from its MLDv2 report
zping6() { ip netns exec vwt3z ping -6 -n -q -c 1 -W 1 fd00:217::11 >/dev/null; }
wait_until 15 "the zone pings the guest's static IPv6 address fd00:217::11 (its group learnt from the guest's MLD report)" zping6
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

# What a VM port shows to the observability tools while the zone sends to
# guest vwt3g1: a flow, a capture (vwsnoop), a mirror to a zone's VNIC
# (tshark there), an IPFIX exporter (nfcapd) and the accounting history
check "a flow on vwt3n1: TCP to its port 5201" vwadm add-flow -t -l vwt3n1 -a transport=tcp,local_port=5201 vwt3f1
check "zone vwt3m, the mirror's destination" vwadm create-zone vwt3m
check "its VNIC vwt3m0 (no address)" vwadm create-vnic -t -l vwt3s -p zone=vwt3m vwt3m0
check "mirror vwt3n1 to vwt3m0" vwadm create-mirror -l vwt3n1 -f "tcp port 5201" -t vwt3m0 vwt3mr
mkdir -p "$VW_TMP/nf"
vw_bg nfcapd -w "$VW_TMP/nf" -p $NFPORT -b 127.0.0.1 -t 3600
nfcapd_pid=$VW_BG_PID
wait_until 10 "nfcapd listening on 127.0.0.1:$NFPORT" bash -c "ss -Hlun 'sport = :$NFPORT' | grep -q $NFPORT"
check "IPFIX exporter on vwt3n1" vwadm create-exporter -T ipfix -a collector=127.0.0.1:$NFPORT,idle=2 -l vwt3n1 vwt3x1
vw_bg ip netns exec vwt3m tshark -n -q -i vwt3m0 -f "tcp port 5201" -w "$VW_TMP/mirror.pcap" >"$VW_TMP/mirror.log" 2>&1
mirror_pid=$VW_BG_PID
wait_until 30 "tshark captures on vwt3m0" grep -q "Capture started" "$VW_TMP/mirror.log"
vw_bg "$VW_BIN/vwsnoop" --socket "$VW_SOCK" -l vwt3n1 -c 200 -w "$VW_TMP/snoop.pcap" "tcp port 5201"
snoop_pid=$VW_BG_PID
wait_until 10 "vwsnoop attached to vwt3n1" bash -c "[ -n \"\$(vwadm show-link -p -o link vwt3n1)\" ] && sleep 0.5"
acct0=$(hist_bytes vwt3n1)
zgj=$(ip netns exec vwt3z iperf3 -c 10.217.0.11 -t 3 -J)
zg=$(kbps_of "$zgj")
zgb=$(python3 -c 'import json, sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bytes"]))' <<<"$zgj")
log "---- TCP zone -> guest $zg kb/s, $zgb bytes of payload"
expect_ge "zone -> guest TCP carried traffic (kb/s)" "$zg" 10000
read -r fi fo < <(vwstat show-flow -p -o rbytes,obytes vwt3f1 | tr ':' ' ')
log "---- flow vwt3f1: rbytes $fi obytes $fo"
expect_ge "flow vwt3f1 counted the transfer: its bytes >= iperf3's payload" $((fi + fo)) "$zgb"
expect_ge "  and not more than 1.1 x the payload plus headers" $((zgb * 11 / 10 + 2000000 - fi - fo)) 0
wait_until 15 "vwsnoop wrote its 200 frames and exited" _vw_dead "$snoop_pid"
snoop_dir() { tshark -n -r "$VW_TMP/snoop.pcap" -Y "ip.src == $1 && ip.dst == $2 && tcp.port == 5201" 2>/dev/null | wc -l; }
sz=$(snoop_dir 10.217.0.1 10.217.0.11) sg=$(snoop_dir 10.217.0.11 10.217.0.1)
log "---- vwsnoop: $sz frames zone -> guest, $sg guest -> zone"
expect_eq "vwsnoop -l vwt3n1 -w: tshark reads its 200 frames, all of the transfer" 200 $((sz + sg))
expect_ge "  the zone's segments to the guest" "$sz" 1
expect_ge "  and the guest's acknowledgements" "$sg" 1
wait_until 10 "the mirror's copies reached vwt3m0" bash -c \
	"[ \$(tshark -n -r '$VW_TMP/mirror.pcap' -Y 'ip.dst == 10.217.0.11 && tcp.dstport == 5201' 2>/dev/null | wc -l) -ge 100 ]"
vw_bg_stop "$mirror_pid" INT
read -r mp md < <(vwadm show-mirror -p -o pkts,drops vwt3mr | tr ':' ' ')
read -r fp < <(vwstat show-flow -p -o ipkts,opkts vwt3f1 | awk -F: '{ print $1 + $2 }')
log "---- mirror: $mp frames copied, $md dropped (the zone's TAP full); the flow had $fp"
expect_ge "show-mirror: every frame of the flow copied or counted as dropped (PKTS + DROPS >= the flow's frames)" $((mp + md)) "$fp"
expect_ge "  and no more (<= 1.01 x)" $((fp * 101 / 100 - mp - md)) 0
check "delete the exporter (sends what it holds)" vwadm delete-exporter vwt3x1
sleep 1 # the last datagrams over loopback; nothing asserted on time
vw_bg_stop "$nfcapd_pid" TERM
nfdump -R "$VW_TMP/nf" -q -N -o csv >"$VW_TMP/flows.csv" 2>/dev/null || true
read -r nflows nbytes < <(awk -F, 'NF > 12 && $1 ~ /^[0-9]/ && $4 == "10.217.0.1" && $5 == "10.217.0.11" && $7 == 5201 { f++; b += $13 } END { printf "%d %d\n", f, b }' "$VW_TMP/flows.csv")
log "---- IPFIX: $nflows records zone -> guest:5201, $nbytes bytes"
expect_ge "IPFIX: nfdump has the zone -> guest TCP flow" "$nflows" 1
expect_ge "  with at least the payload's bytes" "$nbytes" "$zgb"
acct_grew() { [ $(($(hist_bytes vwt3n1) - acct0)) -ge "$zgb" ]; }
wait_until 10 "the accounting history counted the transfer on vwt3n1 (show-history's bytes grew by >= the payload)" acct_grew
check "remove the flow and the mirror" bash -c "vwadm remove-flow vwt3f1 && vwadm delete-mirror vwt3mr"

# maxbw on a guest's VNIC: what the guest receives is held to it
check "maxbw=50M on vwt3n1" vwadm set-linkprop -p maxbw=50M vwt3n1
held=$(kbps_of "$(ip netns exec vwt3z iperf3 -c 10.217.0.11 -t 4 -J)")
log "---- zone -> guest with maxbw=50M: $held kb/s"
expect_ge "zone -> guest under maxbw=50M still flows (kb/s)" "$held" 25000
expect_ge "and stays at most 55M (55000 - kb/s >= 0)" $((55000 - held)) 0
check "reset maxbw" vwadm reset-linkprop -p maxbw vwt3n1

# VLAN 10: the guest there reaches VLAN 10 only; then it resets its NIC
# (the driver unbound and bound again: the device is reset, its rings
# stopped and set up again on the same connection) and reaches it again.
# At the same time guest vwt3g4, two queue pairs (mq): with both in use
# (ethtool -L) and transmit steering off (frames hashed over both queues
# by flow), 12 TCP streams to the zone use both pairs both ways.
check "VM VNIC vwt3n4 for a guest with two queue pairs" vwadm create-vnic -t -l vwt3s -m $M4 -p face=vhost-user vwt3n4
iperf3_server vwt3z 5202 10.217.0.1
guest_vhost_args "$(vwadm show-vnic -p -o socket vwt3n3)" server
reset='echo VWPRERESET; sleep 2; d=$(basename $(readlink /sys/class/net/eth0/device)); echo $d >/sys/bus/virtio/drivers/virtio_net/unbind; echo $d >/sys/bus/virtio/drivers/virtio_net/bind; ip link set eth0 up; ip addr add 10.217.0.13/24 dev eth0; n=0; until ping -c 1 -W 1 10.217.0.23 >/dev/null || [ $n -ge 10 ]; do n=$((n + 1)); done; echo VWRESET; ping -c 3 -W 2 10.217.0.23'
GUEST_MAC=$M3 guest_start vwt3g3 \
	"vw.ip=10.217.0.13/24 vw.stay=1 vw.cmd=\"ping -c 3 -W 2 10.217.0.23; ping -c 2 -W 1 10.217.0.1; ping -c 2 -W 1 10.217.0.11; $reset; true\"" \
	"${GUEST_NETDEV[@]}"
guest_vhost_args "$(vwadm show-vnic -p -o socket vwt3n4)" server 2
mq='ethtool -L eth0 combined 2 && for f in /sys/class/net/eth0/queues/tx-*/xps_cpus; do echo 0 >$f; done; iperf3 -c 10.217.0.1 -p 5202 -P 12 -t 3 | tail -4; ethtool -S eth0 | grep -E "[rt]x_queue_[01]_packets"'
GUEST_MAC=$M4 guest_start vwt3g4 "vw.ip=10.217.0.14/24 vw.stay=1 vw.cmd=\"$mq\"" "${GUEST_NETDEV[@]}"
gwait "guest vwt3g3 boots and pings within $((boot_max + 40))s" vwt3g3 VWPRERESET $((boot_max + 40))
ran=$(grep -c 'vwt3n3: virtual machine running' "$VW_TMP/vwired.log")
gwait "guest vwt3g3 resets its NIC and pings within 30s" vwt3g3 VWGUEST-END 30
out=$(guest_result vwt3g3)
expect_eq "vwt3g3 (VLAN 10) reaches the zone on VLAN 10, not the zone or guest of VLAN 0" \
	"3 packets transmitted, 3 packets received
2 packets transmitted, 0 packets received
2 packets transmitted, 0 packets received" "$(sed '/VWRESET/,$d' <<<"$out" | grep -o '[0-9]* packets transmitted, [0-9]* packets received')"
expect_eq "after resetting its NIC vwt3g3 reaches the zone on VLAN 10 again" "3 packets transmitted, 3 packets received" \
	"$(sed '1,/VWRESET/d' <<<"$out" | grep -o '[0-9]* packets transmitted, [0-9]* packets received')"
expect_ge "vwired saw the reset: vwt3n3's rings stopped and set up again (running once more)" \
	"$(grep -c 'vwt3n3: virtual machine running' "$VW_TMP/vwired.log")" $((ran + 1))
expect_eq "  on the same connection (VM_CONNECTS 1, VM_ERRORS 0), running" "1:0:running" \
	"$(vwstat -p -o vm_connects,vm_errors vwt3n3):$(vwadm show-vnic -p -o state vwt3n3)"
gwait "guest vwt3g4 (two queue pairs) boots and runs 12 streams within $((boot_max + 60))s" vwt3g4 VWGUEST-END $((boot_max + 60))
out=$(guest_result vwt3g4)
log "---- vwt3g4: $(tr '\n' ' ' <<<"$out")"
expect_eq "vwt3g4's commands exit 0" 0 "$(guest_status vwt3g4)"
expect_ge "its 12 streams reached the zone (receiver's Mbit/s)" \
	"$(awk '/SUM.*receiver/ { v = $6; if ($7 ~ /^G/) v *= 1000; if ($7 ~ /^K/) v /= 1000; printf "%d", v }' <<<"$out")" 10
for q in tx_queue_0 tx_queue_1 rx_queue_0 rx_queue_1; do
	expect_ge "the guest's $q carried frames (ethtool -S)" "$(awk -v k="${q}_packets:" '$1 == k { print $2 }' <<<"$out")" 100
done
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
