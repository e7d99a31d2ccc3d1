#!/usr/bin/env bash
# A QEMU test guest (tests/guest, issue 16) on QEMU's tap backend, plugged
# into a Linux bridge with a zone: the guest boots within a bounded time,
# pings the zone and runs a short iperf3 to it, and the zone pings the
# guest.  No vwired: this checks the guest side the vhost-user tests and
# bench/vm stand on (the image, /init, guest.sh, the accelerator probe).
#   namespace vwtdn: bridge vwtdbr, tap vwtdt1 (the guest's), veth vwtdv
#   zone vwtdz: eth0 10.216.0.1/24        guest vwtdg1: 10.216.0.10/24
# GUEST_BOOT_MAX (s, default 60 with TCG, 20 with KVM) bounds the boot.
VWT_OWN="vwtd"
. "$(dirname "$0")/lib.sh"
. "$VW_ROOT/tests/guest/guest.sh"

command -v qemu-system-x86_64 >/dev/null || fail "no qemu-system-x86_64 (scripts/install-deps.sh)"
check "guest image built or up to date (tests/guest/mkguest.sh)" guest_build
guest_accel >/dev/null   # in this shell: the answer is kept in GUEST_ACCEL
boot_max=${GUEST_BOOT_MAX:-$([ "$GUEST_ACCEL" = kvm ] && echo 20 || echo 60)}

# gwait DESC NAME MARKER SECS: guest_wait as a check (in this shell, so
# GUEST_WAITED_MS is kept)
gwait() {
	VW_NCHECK=$((VW_NCHECK + 1))
	guest_wait "$2" "$3" "$4" || fail "$1"
	log "ok   - $1 (${GUEST_WAITED_MS} ms after QEMU started)"
}

check "namespace vwtdn" ip netns add vwtdn
check "no IPv6 in vwtdn" ip netns exec vwtdn sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
check "bridge vwtdbr in vwtdn" ip -n vwtdn link add vwtdbr type bridge stp_state 0 forward_delay 0
check "vwtdbr up" ip -n vwtdn link set vwtdbr up
check "zone vwtdz" ip netns add vwtdz
check "loopback up in vwtdz" ip -n vwtdz link set lo up
check "veth vwtdv (port of vwtdbr) -- eth0 in vwtdz" ip -n vwtdn link add vwtdv type veth peer name eth0 netns vwtdz
check "vwtdv is a port of vwtdbr, up" ip -n vwtdn link set vwtdv master vwtdbr up
check "10.216.0.1/24 on the zone's eth0" ip -n vwtdz addr add 10.216.0.1/24 dev eth0
check "the zone's eth0 up" ip -n vwtdz link set eth0 up
check "tap vwtdt1, a port of vwtdbr" guest_tap vwtdn vwtdt1 vwtdbr

iperf3_server vwtdz 5201 10.216.0.1
guest_tap_args vwtdt1
GUEST_NETNS=vwtdn guest_start vwtdg1 \
	'vw.ip=10.216.0.10/24 vw.stay=1 vw.cmd="ping -c 3 -W 2 10.216.0.1 && iperf3 -c 10.216.0.1 -t 3 -J"' \
	"${GUEST_NETDEV[@]}"
gwait "guest vwtdg1 boots within ${boot_max}s (its eth0 up)" vwtdg1 VWGUEST-READY "$boot_max"
boot_ms=$GUEST_WAITED_MS
log "---- boot time ($GUEST_ACCEL): ${boot_ms} ms from QEMU's start to eth0 up in /init"
gwait "the guest's ping and iperf3 finish within 60s" vwtdg1 VWGUEST-END 60
out=$(guest_result vwtdg1)
expect_eq "ping and iperf3 in the guest exit 0" 0 "$(guest_status vwtdg1)"
expect_eq "3 pings from the guest answered by the zone" 1 \
	"$(grep -c '3 packets transmitted, 3 packets received' <<<"$out" || true)"
kbps=$(python3 -c '
import json, sys
t = sys.stdin.read()
j, _ = json.JSONDecoder().raw_decode(t[t.index("{"):])
print(int(j["end"]["sum_received"]["bits_per_second"] / 1e3))' <<<"$out")
log "---- guest -> zone TCP over tap + bridge ($GUEST_ACCEL): $kbps kb/s"
expect_ge "iperf3 guest -> zone carried something (kb/s)" "$kbps" 1000
gwait "the guest stays up (vw.stay=1)" vwtdg1 VWGUEST-STAY 10
wait_ping 10 vwtdz 10.216.0.10
pid=$(guest_pid vwtdg1)
expect_eq "QEMU's process name is the guest's (sweep.sh finds it)" vwtdg1 "$(cat "/proc/$pid/comm")"
guest_stop vwtdg1
check "QEMU $pid is gone after guest_stop" _vw_dead "$pid"
log "---- boot ${boot_ms} ms, iperf3 ${kbps} kb/s, accelerator $GUEST_ACCEL"
