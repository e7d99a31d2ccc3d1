#!/usr/bin/env bash
# A network in a box: the vwire demo that `make demo` runs.
#
# Builds, on one machine and with nothing but vwire, what would otherwise
# take a rack: four "hosts" (zones), one virtual switch (an etherstub) and
# two VLANs, then shows that traffic flows inside a VLAN and never across.
#
#                        etherstub demo-stub0
#        +--------------+-------------+--------------+
#   VLAN 200        VLAN 200       VLAN 300       VLAN 300
#   demo-web1       demo-web2      demo-db1       demo-db2      (zones)
#   10.10.0.11      10.10.0.12     10.10.0.21     10.10.0.22    (one /24)
#
# It runs its own daemon on a private socket and state directory, so an
# installed vwired (/run/vwire/vwired.sock) is never touched, and on exit
# (success, failure or Ctrl-C) it removes everything it made.
#
# Run it as root from the top of the source tree, after `make`.
# Exit status: 0 if every check held, 1 otherwise (130 if interrupted).
set -u

cd "$(dirname "$0")/.."
export PATH="$PWD/build:$PATH"
export VWIRE_SOCKET=/tmp/vwire-demo.sock
STATE=/tmp/vwire-demo.state

STUB=demo-stub0
SUBNET=10.10.0
# zone  VNIC  VLAN  address (host part)
HOSTS=(
	"demo-web1 demo-web1-0 200 11"
	"demo-web2 demo-web2-0 200 12"
	"demo-db1  demo-db1-0  300 21"
	"demo-db2  demo-db2-0  300 22"
)

daemon_pid= iperf_pid= snoop_pid= started=0 failed=0

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B= G= R= N=; fi

say() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
# Prints a command, as typed at a prompt, then runs it.
run() { printf '%s$ %s%s\n' "$B" "$*" "$N"; "$@"; }
good() { printf '%s%s%s\n' "$G" "$*" "$N"; }
bad() { printf '%s%s%s\n' "$R" "$*" "$N"; failed=1; }
die() { printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

cleanup() {
	local h zone vnic
	trap - EXIT
	trap "" INT TERM
	[ "$started" = 1 ] || return
	say "Cleaning up"
	[ -n "$iperf_pid" ] && kill "$iperf_pid" 2>/dev/null && wait "$iperf_pid" 2>/dev/null
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		for h in "${HOSTS[@]}"; do
			read -r zone vnic _ <<<"$h"
			vwadm delete-vnic "$vnic" 2>/dev/null
			vwadm delete-zone "$zone" 2>/dev/null
		done
		vwadm delete-etherstub "$STUB" 2>/dev/null
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	# Zones outlive the daemon: remove any that a failed step left behind.
	for h in "${HOSTS[@]}"; do
		read -r zone _ <<<"$h"
		[ -e "/run/netns/$zone" ] && ip netns delete "$zone" 2>/dev/null
	done
	rm -rf "$STATE" "$VWIRE_SOCKET"
	echo "removed the zones, the links, the daemon and $STATE"
}

[ "$(id -u)" = 0 ] || die "must run as root (it creates zones and TAP devices); try: sudo make demo"
for p in vwired vwadm vwstat vwsnoop; do
	[ -x "build/$p" ] || die "build/$p is missing; run 'make' first"
done
for p in ip ping iperf3; do
	command -v "$p" >/dev/null || die "'$p' is missing; 'make demo' installs it (scripts/install-deps.sh)"
done
if vwadm show-link >/dev/null 2>&1; then
	die "a daemon already answers on $VWIRE_SOCKET (is another demo running?)"
fi
for h in "${HOSTS[@]}"; do
	read -r zone _ <<<"$h"
	[ -e "/run/netns/$zone" ] && die "zone $zone already exists; remove it with 'ip netns delete $zone'"
done

started=1
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Starting a private vwired"
rm -rf "$STATE" "$VWIRE_SOCKET"
mkdir -p "$STATE"
printf '%s$ vwired -f --socket %s --state-dir %s &%s\n' "$B" "$VWIRE_SOCKET" "$STATE" "$N"
vwired -f --socket "$VWIRE_SOCKET" --state-dir "$STATE" 2>"$STATE/vwired.log" &
daemon_pid=$!
for _ in $(seq 50); do
	vwadm show-link >/dev/null 2>&1 && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
if ! vwadm show-link >/dev/null 2>&1; then
	cat "$STATE/vwired.log" >&2
	die "the daemon did not start"
fi
echo "(every vwadm and vwstat below talks to it through VWIRE_SOCKET=$VWIRE_SOCKET)"

say "One virtual switch, four zones, one VNIC per zone"
run vwadm create-etherstub "$STUB" || exit 1
for h in "${HOSTS[@]}"; do
	read -r zone vnic vid ip <<<"$h"
	run vwadm create-zone "$zone" || exit 1
	run vwadm create-vnic -l "$STUB" -v "$vid" -p zone="$zone" "$vnic" || exit 1
	run vwadm create-addr -a "$SUBNET.$ip/24" "$vnic" || exit 1
done

say "What we built"
run vwadm show-link
run vwadm show-vnic
run vwadm show-zone
run vwadm show-addr

say "Inside a VLAN, zones reach each other"
ping_ok() {   # zone address
	run ip netns exec "$1" ping -c 3 -i 0.2 -W 2 -q "$2"
}
if ping_ok demo-web1 $SUBNET.12; then good "ok: demo-web1 reaches demo-web2 (both VLAN 200)"
else bad "FAILED: demo-web1 cannot reach demo-web2"; fi
if ping_ok demo-db1 $SUBNET.22; then good "ok: demo-db1 reaches demo-db2 (both VLAN 300)"
else bad "FAILED: demo-db1 cannot reach demo-db2"; fi

say "Across VLANs, nothing gets through (the same subnet, but another VLAN)"
ping_fails() {   # zone address
	! run ip netns exec "$1" ping -c 1 -W 1 -q "$2"
}
if ping_fails demo-web1 $SUBNET.21; then good "expected: demo-web1 (VLAN 200) cannot reach demo-db1 (VLAN 300)"
else bad "FAILED: a frame crossed from VLAN 200 to VLAN 300"; fi
if ping_fails demo-db2 $SUBNET.12; then good "expected: demo-db2 (VLAN 300) cannot reach demo-web2 (VLAN 200)"
else bad "FAILED: a frame crossed from VLAN 300 to VLAN 200"; fi

say "TCP through the virtual switch: iperf3 from demo-web1 to demo-web2"
printf '%s$ ip netns exec demo-web2 iperf3 -s -1 &%s\n' "$B" "$N"
ip netns exec demo-web2 iperf3 -s -1 >/dev/null 2>&1 &
iperf_pid=$!
for _ in $(seq 50); do
	ip netns exec demo-web2 ss -ltn 2>/dev/null | grep -q ':5201 ' && break
	sleep 0.1
done
printf '%s$ ip netns exec demo-web1 iperf3 -c %s -t 2 -f m%s\n' "$B" $SUBNET.12 "$N"
# (under a timeout, so a broken path cannot hang the demo)
if timeout --foreground 30 ip netns exec demo-web1 iperf3 -c $SUBNET.12 -t 2 -f m; then good "ok: TCP flows inside VLAN 200"
else bad "FAILED: iperf3 from demo-web1 to demo-web2"; fi
kill "$iperf_pid" 2>/dev/null   # a server whose client never came
wait "$iperf_pid" 2>/dev/null
iperf_pid=

say "The traffic, counted by the switch (packets and bytes per link)"
run vwstat

say "Seeing inside the box: vwsnoop on demo-web1-0 while it pings demo-web2"
printf '%s$ vwsnoop -l demo-web1-0 -c 4 icmp &%s\n' "$B" "$N"
timeout 20 vwsnoop -l demo-web1-0 -c 4 icmp >"$STATE/snoop.out" 2>"$STATE/snoop.err" &
snoop_pid=$!
for _ in $(seq 50); do grep -q "capturing on" "$STATE/snoop.err" && break; sleep 0.1; done
ip netns exec demo-web1 ping -c 2 -i 0.2 -W 2 -q $SUBNET.12 >/dev/null
wait "$snoop_pid"
cat "$STATE/snoop.out"
if [ "$(grep -c "ICMP echo" "$STATE/snoop.out")" = 4 ]; then good "ok: the two requests and two replies, seen on the VNIC"
else bad "FAILED: vwsnoop did not show the 4 frames: $(cat "$STATE/snoop.err")"; fi

say "The whole configuration as a vWire file (what the daemon saves and replays)"
run vwadm export

if ! kill -0 "$daemon_pid" 2>/dev/null; then
	bad "FAILED: the daemon is gone; its log:"
	cat "$STATE/vwired.log"
fi
if [ "$failed" = 0 ]; then
	say "All checks held"
else
	say "Some checks FAILED (see above)"
fi
exit "$failed"
