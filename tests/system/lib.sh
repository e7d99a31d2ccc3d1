# Common helpers for the vwire system tests; sourced by tests/system/t_*.sh.
#
#   VWT_OWN="vwtx vwtfoo"   (set before sourcing) name prefixes of the zones,
#                           namespaces and links this test creates; cleanup
#                           removes exactly those.  Every prefix starts "vwt".
#   . "$(dirname "$0")/lib.sh"
#
# Provides:
#   vw_start [ARGS]      start vwired -f on this test's socket and state dir,
#                        wait until its socket answers (VW_PID is its pid)
#   vw_stop              SIGTERM, check it exits within 10 s; its exit status
#                        is left in VW_STOP_STATUS
#   vw_kill9             kill -9 the daemon and reap it
#   vwadm / vwstat       the built CLIs (VWIRE_SOCKET is exported)
#   check DESC CMD...    CMD must succeed      check_fail DESC CMD...  must fail
#   expect_eq DESC EXPECTED ACTUAL             expect_ge DESC ACTUAL MIN
#   soft_expect_eq DESC EXPECTED ACTUAL  record a mismatch, go on; soft_done
#   fail MSG
#   wait_until SECS DESC CMD...  poll CMD (every 0.1 s) until it succeeds
#   vw_bg CMD...         run CMD in the background; killed at exit (VW_BG_PID)
#   zping ZONE ADDR      one ping from ZONE (1 s timeout); wait_ping SECS ZONE ADDR
#   capture_start ZONE|- IFACE FILE / capture_stop   tshark capture to FILE
#   vw_counter LINK FIELD   one vwstat counter
# Names: socket /tmp/vwt_NAME.sock, state /tmp/vwt_NAME.state, scratch dir
# $VW_TMP=/tmp/vwt_NAME.tmp, where NAME is the script's name without t_
# (VWT_KEEP=1 keeps $VW_TMP, with captures and the daemon's log, at exit).
# VWT_FASTPATH=off runs every daemon with --fastpath=off (the userspace
# datapath alone); tests/run.sh reruns the forwarding tests that way.
# vw_fast says whether this run's daemons use the kernel fast path.
# Every test runs with set -eEu -o pipefail; an unexpected failing command is
# reported with its line, and the EXIT trap cleans up whatever happened.

set -eEu -o pipefail

VW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VW_BIN=$VW_ROOT/build
VW_TEST=$(basename "$0" .sh)
VW_TEST=${VW_TEST#t_}
VW_SOCK=/tmp/vwt_$VW_TEST.sock
VW_STATE=/tmp/vwt_$VW_TEST.state
VW_TMP=/tmp/vwt_$VW_TEST.tmp
VW_PID=
VW_BG_PIDS=()
VW_BG_PID=
VW_CAP_PID=
VW_NCHECK=0
VW_FAILED=0
VWT_OWN=${VWT_OWN:-}
export VWIRE_SOCKET=$VW_SOCK
export LC_ALL=C

for _p in $VWT_OWN; do
	case "$_p" in vwt?*) ;; *) echo "lib.sh: VWT_OWN prefix '$_p' does not start with vwt" >&2; exit 2 ;; esac
done

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: system tests need root" >&2
	exit 1
fi
for _b in vwired vwadm vwstat; do
	[ -x "$VW_BIN/$_b" ] || { echo "FAIL: $VW_BIN/$_b is not built (make all)" >&2; exit 1; }
done

vwadm() { "$VW_BIN/vwadm" "$@"; }
vwstat() { "$VW_BIN/vwstat" "$@"; }
export VW_BIN
export -f vwadm vwstat   # usable in bash -c "..." checks too

log() { printf '%s\n' "$*"; }

# The line of the test script that led here.
_vw_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [ "${BASH_SOURCE[$i]}" = "$0" ]; then
			printf '  at %s line %s\n' "$0" "${BASH_LINENO[$((i - 1))]}"
			return
		fi
	done
}

# _vw_fail_msg TEXT: print TEXT and where the test was, and exit 1.
_vw_fail_msg() {
	printf '%s\n' "$1" >&2
	_vw_where >&2
	VW_FAILED=1
	exit 1
}

fail() { _vw_fail_msg "FAIL: $*"; }

_vw_on_err() {   # ERR trap: a command outside check/expect failed
	local rc=$1 line=$2 cmd=$3
	[ "$VW_FAILED" = 1 ] && exit 1
	[ "$BASH_SUBSHELL" -gt 0 ] && exit "$rc"   # the parent shell reports it
	VW_FAILED=1
	printf 'FAIL: unexpected failure (exit %d) of: %s\n  at %s line %s\n' "$rc" "$cmd" "$0" "$line" >&2
	exit 1
}
trap '_vw_on_err $? $LINENO "$BASH_COMMAND"' ERR

_vw_show_cmd() { local a s=; for a in "$@"; do s+=" $(printf '%q' "$a")"; done; printf '%s' "${s# }"; }
_indent() { sed 's/^/    /'; }

# check DESC CMD...: CMD must exit 0.
check() {
	local desc=$1 out rc=0
	shift
	VW_NCHECK=$((VW_NCHECK + 1))
	out=$("$@" 2>&1) || rc=$?
	if [ $rc = 0 ]; then
		log "ok   - $desc"
	else
		_vw_fail_msg "$(printf 'FAIL - %s\n  command: %s\n  exit %d, output:\n%s' "$desc" "$(_vw_show_cmd "$@")" $rc \
			"$(_indent <<<"$out")")"
	fi
}

# check_fail DESC CMD...: CMD must exit non-zero.
check_fail() {
	local desc=$1 out rc=0
	shift
	VW_NCHECK=$((VW_NCHECK + 1))
	out=$("$@" 2>&1) || rc=$?
	if [ $rc != 0 ]; then
		log "ok   - $desc"
	else
		_vw_fail_msg "$(printf 'FAIL - %s\n  command: %s\n  succeeded but should have failed; output:\n%s' "$desc" \
			"$(_vw_show_cmd "$@")" "$(_indent <<<"$out")")"
	fi
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	VW_NCHECK=$((VW_NCHECK + 1))
	if [ "$2" = "$3" ]; then
		log "ok   - $1"
		return 0
	fi
	_vw_fail_msg "$(
		printf 'FAIL - %s\n  expected:\n%s\n  actual:\n%s\n' "$1" "$(_indent <<<"$2")" "$(_indent <<<"$3")"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/  diff: /' || true
	)"
}

# soft_expect_eq DESC EXPECTED ACTUAL: like expect_eq, but a mismatch is
# only recorded and the test goes on; soft_done fails if any was recorded.
VW_SOFT_FAILS=()
soft_expect_eq() {
	VW_NCHECK=$((VW_NCHECK + 1))
	if [ "$2" = "$3" ]; then
		log "ok   - $1"
	else
		printf 'FAIL - %s\n  expected:\n%s\n  actual:\n%s\n' "$1" "$(_indent <<<"$2")" "$(_indent <<<"$3")" >&2
		VW_SOFT_FAILS+=("$1")
	fi
}
soft_done() {
	[ ${#VW_SOFT_FAILS[@]} = 0 ] && return 0
	_vw_fail_msg "$(printf 'FAIL: %d check(s) failed:\n' ${#VW_SOFT_FAILS[@]}; printf '  - %s\n' "${VW_SOFT_FAILS[@]}")"
}

# expect_ge DESC ACTUAL MIN (integers)
expect_ge() {
	VW_NCHECK=$((VW_NCHECK + 1))
	if [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ]; then
		log "ok   - $1 ($2 >= $3)"
	else
		_vw_fail_msg "$(printf 'FAIL - %s: %s is not >= %s' "$1" "$2" "$3")"
	fi
}

_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_until SECS DESC CMD...: poll until CMD succeeds, fail after SECS.
wait_until() {
	local secs=$1 desc=$2 deadline out rc
	shift 2
	VW_NCHECK=$((VW_NCHECK + 1))
	deadline=$(($(_now_ms) + secs * 1000))
	while :; do
		rc=0
		out=$("$@" 2>&1) || rc=$?
		if [ $rc = 0 ]; then
			log "ok   - $desc"
			return 0
		fi
		if [ "$(_now_ms)" -ge $deadline ]; then
			_vw_fail_msg "$(printf 'FAIL - %s (not true within %ss)\n  command: %s\n  last exit %d, output:\n%s' \
				"$desc" "$secs" "$(_vw_show_cmd "$@")" $rc "$(_indent <<<"$out")")"
		fi
		sleep 0.1
	done
}

# _poll SECS CMD...: silent; returns 1 on timeout.
_poll() {
	local secs=$1 deadline
	shift
	deadline=$(($(_now_ms) + secs * 1000))
	until "$@" >/dev/null 2>&1; do
		[ "$(_now_ms)" -ge $deadline ] && return 1
		sleep 0.05
	done
	return 0
}

# A live (not zombie) process.
_vw_alive() {
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
_vw_dead() { ! _vw_alive "$1"; }

# vw_start [EXTRA ARGS]: a foreground daemon run in the background, so its
# pid is known and its stderr kept in $VW_TMP/vwired.log.
vw_start() {
	local deadline rc=0
	[ -z "$VW_PID" ] || fail "vw_start: daemon $VW_PID is already running"
	mkdir -p "$VW_TMP"
	"$VW_BIN/vwired" -f --socket "$VW_SOCK" --state-dir "$VW_STATE" --fastpath="${VWT_FASTPATH:-on}" "$@" \
		2>>"$VW_TMP/vwired.log" &
	VW_PID=$!
	deadline=$(($(_now_ms) + 10000))
	until vwadm show-link >/dev/null 2>&1; do
		if _vw_dead "$VW_PID"; then
			wait "$VW_PID" || rc=$?
			VW_PID=
			fail "vwired exited (status $rc) before answering; its log: $(cat "$VW_TMP/vwired.log")"
		fi
		[ "$(_now_ms)" -lt $deadline ] || fail "vwired (pid $VW_PID) did not answer on $VW_SOCK within 10s"
		sleep 0.05
	done
	log "---- vwired started (pid $VW_PID, socket $VW_SOCK)"
}

# vw_fast: true when this run's daemons switch with the kernel fast path
# (not turned off, and the kernel could load it: the daemon says so once).
vw_fast() {
	[ "${VWT_FASTPATH:-on}" = on ] && ! grep -q 'kernel fast path off' "$VW_TMP/vwired.log" 2>/dev/null
}

# faces_after_stop ZONE LINK...: after the daemon stopped, a configured
# VNIC's face stays in its zone with the kernel fast path (the kernel goes
# on switching; the next daemon takes it over), and its TAP is gone with the
# daemon without it.
faces_after_stop() {
	local z=$1 l
	shift
	for l in "$@"; do
		if vw_fast; then
			check "$l stays in $z after the daemon stopped (kernel fast path)" ip -n "$z" link show "$l"
		else
			check "no TAP device $l left in $z" bash -c "! ip -n $z -o link show | grep -q $l"
		fi
	done
}

# vw_stop: SIGTERM; the daemon must exit within 10 s.  Its exit status is
# left in VW_STOP_STATUS (t_restart checks that a stop is orderly).
vw_stop() {
	local pid=$VW_PID
	[ -n "$pid" ] || fail "vw_stop: no daemon running"
	kill -TERM "$pid"
	VW_NCHECK=$((VW_NCHECK + 1))
	_poll 10 _vw_dead "$pid" || fail "vwired (pid $pid) still running 10s after SIGTERM"
	VW_STOP_STATUS=0
	wait "$pid" || VW_STOP_STATUS=$?
	VW_PID=
	log "ok   - vwired (pid $pid) exited after SIGTERM (status $VW_STOP_STATUS)"
}

# vw_kill9: SIGKILL and reap.
vw_kill9() {
	local pid=$VW_PID
	[ -n "$pid" ] || fail "vw_kill9: no daemon running"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	VW_PID=
	log "---- vwired (pid $pid) killed with SIGKILL"
}

# vw_bg CMD...: a background process killed at exit; its pid in VW_BG_PID.
vw_bg() {
	"$@" &
	VW_BG_PID=$!
	VW_BG_PIDS+=("$VW_BG_PID")
}

# vw_bg_stop PID [SIGNAL]: stop one background process and reap it.
vw_bg_stop() {
	local pid=$1 sig=${2:-TERM}
	kill -"$sig" "$pid" 2>/dev/null || true
	_poll 10 _vw_dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

zping() { ip netns exec "$1" ping -n -q -c 1 -W 1 "$2"; }

# wait_ping SECS ZONE ADDR: poll until one ping from ZONE to ADDR succeeds.
wait_ping() { wait_until "$1" "ping $3 from zone $2" zping "$2" "$3"; }

# capture_start ZONE|- IFACE FILE: tshark on IFACE in namespace ZONE ("-":
# the host) writing pcap FILE; returns once tshark is capturing.
capture_start() {
	local zone=$1 ifc=$2 file=$3
	local -a pre=()
	[ "$zone" = - ] || pre=(ip netns exec "$zone")
	rm -f "$file" "$file.log"
	vw_bg "${pre[@]}" tshark -n -q -i "$ifc" -w "$file" >"$file.log" 2>&1
	VW_CAP_PID=$VW_BG_PID
	# tshark prints "Capturing on" before dumpcap has opened the interface;
	# "Capture started" comes once dumpcap captures and writes the file.
	_poll 30 grep -q "Capture started" "$file.log" || fail "tshark did not start capturing on $ifc: $(cat "$file.log")"
	log "---- capturing on $ifc in ${zone/#-/the host} (tshark pid $VW_CAP_PID)"
}

# capture_stop: end the last capture (tshark writes its file out on SIGINT).
capture_stop() {
	[ -n "$VW_CAP_PID" ] || return 0
	vw_bg_stop "$VW_CAP_PID" INT
	VW_CAP_PID=
}

# capture_count FILE FILTER: frames of FILE matching a display filter.
capture_count() { tshark -n -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }

# vw_counter LINK FIELD: one vwstat counter of LINK.
vw_counter() { vwstat -p -o "$2" "$1"; }

# iperf3_server NS PORT ADDR: a one-shot iperf3 server in namespace NS on
# ADDR:PORT; returns once it listens.
iperf3_server() {
	vw_bg ip netns exec "$1" iperf3 -s -1 -p "$2" -B "$3" --logfile "$VW_TMP/iperf3-server-$2.log"
	wait_until 10 "iperf3 server listening on $3:$2 in $1" \
		bash -c "ip netns exec $1 ss -Hltn 'sport = :$2' | grep -q $2" >&2
}

# goodput FILE: an iperf3 -J report's goodput at the receiver, kb/s (integer).
goodput() {
	python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e3))' "$1"
}

# tcp_kbps SRC_NS DST_NS DST_ADDR SECS [PORT]: one TCP stream from SRC_NS to
# DST_ADDR in DST_NS for SECS seconds; its goodput at the receiver, kb/s.
tcp_kbps() {
	local port=${5:-5201} j=$VW_TMP/iperf3-${5:-5201}.json
	rm -f "$j"
	iperf3_server "$2" "$port" "$3"
	ip netns exec "$1" iperf3 -c "$3" -p "$port" -t "$4" -J >"$j" || fail "iperf3 $1 -> $3:$port failed: $(tail -3 "$j")"
	goodput "$j"
}

# far_side NS P ADDR: a veth pair P0/P1 whose P1 end is in a new namespace
# NS with ADDR/24 (the far side of a wire; P0, in the host, plays a phys).
far_side() {
	check "create veth pair ${2}0/${2}1" ip link add "${2}0" type veth peer name "${2}1"
	check "create namespace $1" ip netns add "$1"
	check "move ${2}1 into $1" ip link set "${2}1" netns "$1"
	check "address $3/24 on ${2}1" ip -n "$1" addr add "$3/24" dev "${2}1"
	check "${2}1 up" ip -n "$1" link set "${2}1" up
	check "loopback up in $1" ip -n "$1" link set lo up
}

# far_vlan NS IF VID ADDR: a VLAN sub-interface IF.VID with ADDR/24 in NS:
# the kernel's 802.1Q device, or a userspace one (vlan_if.py) where the
# kernel has none.
far_vlan() {
	local ns=$1 ifc=$2 vid=$3 sub=$2.$3
	mkdir -p "$VW_TMP"
	if ip -n "$ns" link add link "$ifc" name "$sub" type vlan id "$vid" 2>"$VW_TMP/vlan.err"; then
		log "ok   - VLAN device $sub on $ifc (kernel 802.1Q)"
	elif grep -q "Unknown device type" "$VW_TMP/vlan.err"; then
		log "---- kernel without 802.1Q ($(cat "$VW_TMP/vlan.err")): userspace $sub (vlan_if.py)"
		vw_bg ip netns exec "$ns" python3 "$VW_ROOT/tests/system/vlan_if.py" "$ifc" "$sub" "$vid" >"$VW_TMP/vlan_if.log" 2>&1
		wait_until 10 "userspace VLAN interface $sub (VID $vid on $ifc) is up" ip -n "$ns" link show "$sub"
	else
		fail "cannot create VLAN device $sub: $(cat "$VW_TMP/vlan.err")"
	fi
	check "address $4/24 on $sub" ip -n "$ns" addr add "$4/24" dev "$sub"
	check "$sub up" ip -n "$ns" link set "$sub" up
}

# need_cpus: the CPUs the daemon may use (it inherits ours) as C0 and C1
# (worker i runs on the i-th), ONLINE (the kernel's list of CPUs online)
# and OFF, a CPU past the last one online;
# skips the test (exit 0) with fewer than 2.
need_cpus() {
	local cpus
	read -r -a cpus <<<"$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
	if [ ${#cpus[@]} -lt 2 ]; then
		log "---- skipped: needs 2 CPUs (has ${#cpus[@]})"
		exit 0
	fi
	C0=${cpus[0]} C1=${cpus[1]}
	ONLINE=$(cat /sys/devices/system/cpu/online)
	OFF=$((${ONLINE##*[-,]} + 1)) # past the last CPU online
}

# wpkts W: the frames datapath worker W has read so far.
wpkts() { vwstat -w -p -o worker,pkts | awk -F: -v w="$1" '$1 == w { print $2 }'; }

# cpus_of LINK: the link's cpus property as show-linkprop gives it.
cpus_of() { vwadm show-linkprop -c -o value -p cpus "$1"; }

# Zones/namespaces and host links named with this test's prefixes.
_vw_remove_own() {
	local p ns l pid
	for p in $VWT_OWN; do
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
			case "$ns" in "$p"*)
				for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
				ip netns del "$ns" 2>/dev/null ;;
			esac
		done
		for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
			case "$l" in "$p"*) ip link del "$l" 2>/dev/null ;; esac
		done
	done
	return 0
}

# Cleanup, even after a failure: background processes, the daemon, own zones
# and links, temp files.
_vw_cleanup() {
	local rc=$? pid
	trap - ERR
	set +eE
	for pid in "${VW_BG_PIDS[@]}"; do
		_vw_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	if [ -n "$VW_PID" ] && _vw_alive "$VW_PID"; then
		kill -TERM "$VW_PID" 2>/dev/null
		_poll 10 _vw_dead "$VW_PID" || kill -KILL "$VW_PID" 2>/dev/null
		wait "$VW_PID" 2>/dev/null
	fi
	for pid in "${VW_BG_PIDS[@]}"; do
		_poll 3 _vw_dead "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	_vw_remove_own
	if [ $rc != 0 ] && [ -s "$VW_TMP/vwired.log" ]; then
		sed 's/^/  vwired log: /' "$VW_TMP/vwired.log" >&2
	fi
	rm -rf "$VW_SOCK" "$VW_STATE"
	if [ "${VWT_KEEP:-}" = 1 ]; then
		log "---- kept $VW_TMP (VWT_KEEP=1)"
	else
		rm -rf "$VW_TMP"
	fi
	if [ $rc = 0 ]; then
		log "PASS: $VW_TEST ($VW_NCHECK checks)"
	else
		log "FAILED: $VW_TEST (exit $rc after $VW_NCHECK checks)"
	fi
	exit $rc
}
trap _vw_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start from a clean slate: leftovers of an earlier run of this same test.
_vw_remove_own
rm -rf "$VW_SOCK" "$VW_STATE" "$VW_TMP"
mkdir -p "$VW_TMP"
