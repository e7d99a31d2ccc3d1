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
# Several hosts (each a namespace with a vwired of its own):
#   host_start NAME [ARGS]  namespace NAME (a VWT_OWN prefix; lo up) if it is
#                        not there yet, vwired -f inside it on socket
#                        /tmp/vwt_TEST_NAME.sock, state /tmp/vwt_TEST_NAME.state,
#                        log $VW_TMP/NAME.log; waits until it answers
#                        (VW_HOST_PID[NAME] is its pid).  Again after
#                        host_stop: the same daemon restarts on its state.
#   host_stop NAME       SIGTERM, exit within 10 s (status in VW_STOP_STATUS)
#   host_kill9 NAME      kill -9 NAME's daemon and reap it
#   hvwadm NAME ARGS... / hvwstat NAME ARGS...   the CLIs against NAME's daemon
#   host_link HA IFA HB IFB  a veth pair, IFA in host HA and IFB in HB, both up:
#                        the hosts' "phys" links (create-vnic -l IFA)
#   host_lan NAME HOST:IF...  a Linux bridge (vwtbr) in namespace NAME, the
#                        physical LAN, with a veth to each HOST (its end IF,
#                        up); again with the same NAME adds more hosts
#   host_fast NAME       like vw_fast, for host NAME's daemon
#   Zones live in /run/netns whichever daemon made them, so their names must
#   differ across hosts; and any daemon can see (and take over with
#   create-zone, or put a VNIC into) any of them, other hosts' zones and the
#   host namespaces themselves included: keep each host to its own.  Each
#   daemon runs with only its network namespace changed (nsenter --net), not
#   under `ip netns exec`: that one gives it a mount namespace of its own,
#   slave to ours, where the /run/netns mounts of the zones it creates would
#   stay, unseen by anyone else.  A VNIC's devices (its veth's host end vwhN
#   and TAP vwcN, with the fast path) are in its host's namespace and go
#   with it.  The CLIs run outside (the socket is a file path).
# Open vSwitch (userspace datapath), e.g. as a peer of a host:
#   ovs_start NAME       namespace NAME (a VWT_OWN prefix) if not there yet, a
#                        private ovsdb-server and ovs-vswitchd in it (db,
#                        sockets, pid files, logs in $VW_TMP/ovs-NAME); bridges
#                        need datapath_type=netdev (no kernel module here).
#                        NAME's kernel answers ARP only on the device that has
#                        the address (arp_ignore=1), so an address on an
#                        internal port in NAME works; or move the port into a
#                        namespace of its own (a TAP: it goes on working)
#   ovs_vsctl NAME ARGS... / ovs_appctl NAME ARGS...   against that instance
#   ovs_stop NAME        stop both daemons (done at exit anyway)
# Names: socket /tmp/vwt_NAME.sock, state /tmp/vwt_NAME.state, scratch dir
# $VW_TMP=/tmp/vwt_NAME.tmp, where NAME is the script's name without t_
# (VWT_KEEP=1 keeps $VW_TMP, with captures and the daemon's log, at exit).
# The binaries are $VWT_BUILD's (default: build/ of this tree).
# VWT_FASTPATH=off runs every daemon with --fastpath=off (the userspace
# datapath alone); tests/run.sh reruns the forwarding tests that way.
# vw_fast says whether this run's daemons use the kernel fast path.
# Every test runs with set -eEu -o pipefail; an unexpected failing command is
# reported with its line, and the EXIT trap cleans up whatever happened.

set -eEu -o pipefail

VW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VW_BIN=${VWT_BUILD:-$VW_ROOT/build}
VW_TEST=$(basename "$0" .sh)
VW_TEST=${VW_TEST#t_}
VW_SOCK=/tmp/vwt_$VW_TEST.sock
VW_STATE=/tmp/vwt_$VW_TEST.state
VW_TMP=/tmp/vwt_$VW_TEST.tmp
VW_PID=
declare -A VW_HOST_PID=()   # host name -> its daemon's pid ("" once stopped)
VW_OVS=()                   # namespaces with a private OVS (ovs_start)
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
_host_sock() { printf '/tmp/vwt_%s_%s.sock' "$VW_TEST" "$1"; }
_host_state() { printf '/tmp/vwt_%s_%s.state' "$VW_TEST" "$1"; }
hvwadm() { "$VW_BIN/vwadm" --socket "$(_host_sock "$1")" "${@:2}"; }
hvwstat() { "$VW_BIN/vwstat" --socket "$(_host_sock "$1")" "${@:2}"; }
export VW_BIN VW_TEST
export -f vwadm vwstat _host_sock hvwadm hvwstat   # usable in bash -c "..." checks too

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

# judge_claims TEXT: every line "PASS <what>" or "FAIL <what>" of TEXT (an
# example's report: a tab or blanks after the verdict, leading blanks
# allowed) is one soft check (all are judged; soft_done then fails the test
# if any failed); VW_CLAIMS gets how many there were.
judge_claims() {
	local verdict what
	VW_CLAIMS=0
	while read -r verdict what; do
		case "$verdict" in PASS | FAIL) ;; *) continue ;; esac
		soft_expect_eq "$what" PASS "$verdict"
		VW_CLAIMS=$((VW_CLAIMS + 1))
	done <<<"$1"
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

# _vw_own NAME: NAME starts with one of VWT_OWN's prefixes.
_vw_own() {
	local p
	for p in $VWT_OWN; do
		case "$1" in "$p"*) return 0 ;; esac
	done
	return 1
}

# host_start NAME [VWIRED ARGS]: NAME's namespace (made on first use) and a
# vwired -f in it.  The daemon gets the network namespace only (nsenter
# --net): under `ip netns exec` it would have a mount namespace of its own,
# a slave of ours, and the /run/netns mount of each zone it creates would
# stay in there, so that the zone could not be entered from outside (an
# empty file in /run/netns: "setns: Invalid argument") nor by its next run.
# The first start of NAME in a test starts afresh (no state); later ones
# (after host_stop or host_kill9) restart on the state the last one left.
host_start() {
	local h=$1 sock state pid deadline rc=0
	shift
	_vw_own "$h" || fail "host_start: host $h is not named with a prefix of VWT_OWN ($VWT_OWN)"
	[ -z "${VW_HOST_PID[$h]:-}" ] || fail "host_start: host $h's daemon (pid ${VW_HOST_PID[$h]}) is already running"
	sock=$(_host_sock "$h") state=$(_host_state "$h")
	if [ -z "${VW_HOST_PID[$h]+set}" ]; then
		rm -rf "$sock" "$state"
		VW_HOST_PID[$h]=
	fi
	if [ ! -e "/run/netns/$h" ]; then
		check "create host namespace $h" ip netns add "$h"
		check "loopback up in host $h" ip -n "$h" link set lo up
	fi
	mkdir -p "$VW_TMP"
	nsenter --net="/run/netns/$h" "$VW_BIN/vwired" -f --socket "$sock" --state-dir "$state" \
		--fastpath="${VWT_FASTPATH:-on}" "$@" 2>>"$VW_TMP/$h.log" &
	pid=$!
	VW_HOST_PID[$h]=$pid
	deadline=$(($(_now_ms) + 10000))
	until hvwadm "$h" show-link >/dev/null 2>&1; do
		if _vw_dead "$pid"; then
			wait "$pid" || rc=$?
			VW_HOST_PID[$h]=
			fail "host $h: vwired exited (status $rc) before answering; its log: $(cat "$VW_TMP/$h.log")"
		fi
		[ "$(_now_ms)" -lt $deadline ] || fail "host $h: vwired (pid $pid) did not answer on $sock within 10s"
		sleep 0.05
	done
	log "---- host $h: vwired started (pid $pid, socket $sock)"
}

# host_stop NAME: SIGTERM; NAME's daemon must exit within 10 s.  Its exit
# status is left in VW_STOP_STATUS.
host_stop() {
	local h=$1 pid=${VW_HOST_PID[$1]:-}
	[ -n "$pid" ] || fail "host_stop: no daemon running on host $h"
	kill -TERM "$pid"
	VW_NCHECK=$((VW_NCHECK + 1))
	_poll 10 _vw_dead "$pid" || fail "host $h: vwired (pid $pid) still running 10s after SIGTERM"
	VW_STOP_STATUS=0
	wait "$pid" || VW_STOP_STATUS=$?
	VW_HOST_PID[$h]=
	log "ok   - host $h: vwired (pid $pid) exited after SIGTERM (status $VW_STOP_STATUS)"
}

# host_kill9 NAME: SIGKILL NAME's daemon and reap it.
host_kill9() {
	local h=$1 pid=${VW_HOST_PID[$1]:-}
	[ -n "$pid" ] || fail "host_kill9: no daemon running on host $h"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	VW_HOST_PID[$h]=
	log "---- host $h: vwired (pid $pid) killed with SIGKILL"
}

# host_fast NAME: true when NAME's daemon switches with the kernel fast path.
host_fast() {
	[ "${VWT_FASTPATH:-on}" = on ] && ! grep -q 'kernel fast path off' "$VW_TMP/$1.log" 2>/dev/null
}

# host_link HOSTA IFA HOSTB IFB: a veth pair made right in the two hosts'
# namespaces (it never appears in ours), both ends up.
host_link() {
	local ha=$1 ia=$2 hb=$3 ib=$4
	check "veth $ia (host $ha) -- $ib (host $hb)" \
		ip link add "$ia" netns "$ha" type veth peer name "$ib" netns "$hb"
	check "$ia up in host $ha" ip -n "$ha" link set "$ia" up
	check "$ib up in host $hb" ip -n "$hb" link set "$ib" up
}

# host_lan NAME HOST:IF...: bridge vwtbr in namespace NAME (made on first
# use; no STP, no IPv6, so it sends nothing of its own) and, for each
# HOST:IF, a veth from a port vwtlN of the bridge to IF in HOST, up.
host_lan() {
	local lan=$1 hi h ifc n
	shift
	_vw_own "$lan" || fail "host_lan: $lan is not named with a prefix of VWT_OWN ($VWT_OWN)"
	if [ ! -e "/run/netns/$lan" ]; then
		check "create LAN namespace $lan" ip netns add "$lan"
		check "no IPv6 in $lan" ip netns exec "$lan" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		check "bridge vwtbr in $lan" ip -n "$lan" link add vwtbr type bridge stp_state 0
		check "vwtbr up in $lan" ip -n "$lan" link set vwtbr up
	fi
	for hi in "$@"; do
		h=${hi%%:*} ifc=${hi#*:}
		[ "$h" != "$hi" ] && [ -n "$ifc" ] || fail "host_lan: '$hi' is not HOST:IF"
		n=$(ip -n "$lan" -o link show master vwtbr | wc -l)
		check "veth vwtl$n (LAN $lan) -- $ifc (host $h)" \
			ip link add "vwtl$n" netns "$lan" type veth peer name "$ifc" netns "$h"
		check "vwtl$n is a port of vwtbr, up" ip -n "$lan" link set "vwtl$n" master vwtbr up
		check "$ifc up in host $h" ip -n "$h" link set "$ifc" up
	done
}

# ---- Open vSwitch, userspace datapath: a private instance per namespace ----
_ovs_dir() { printf '%s/ovs-%s' "$VW_TMP" "$1"; }
# _ovs_run NAME CMD...: CMD with OVS's directories set to NAME's.
_ovs_run() {
	local d
	d=$(_ovs_dir "$1")
	env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" OVS_SYSCONFDIR="$d" "${@:2}"
}
ovs_vsctl() { _ovs_run "$1" ovs-vsctl --db="unix:$(_ovs_dir "$1")/db.sock" --timeout=20 "${@:2}"; }
ovs_appctl() { _ovs_run "$1" ovs-appctl -t "$(_ovs_dir "$1")/ovs-vswitchd.ctl" --timeout=20 "${@:2}"; }

# ovs_start NAME: namespace NAME (made if not there) with an ovsdb-server and
# an ovs-vswitchd of its own, both run in it (ip netns exec: OVS makes no
# namespace mounts, and it sees NAME's /sys).  Everything OVS writes is in
# $VW_TMP/ovs-NAME, nothing in /run/openvswitch; both daemons detach and
# leave pid files there.
ovs_start() {
	local ns=$1 d
	_vw_own "$ns" || fail "ovs_start: $ns is not named with a prefix of VWT_OWN ($VWT_OWN)"
	command -v ovs-vswitchd >/dev/null && command -v ovsdb-server >/dev/null || fail "ovs_start: Open vSwitch is not installed (openvswitch-switch)"
	d=$(_ovs_dir "$ns")
	if [ ! -e "/run/netns/$ns" ]; then
		check "create namespace $ns" ip netns add "$ns"
		check "loopback up in $ns" ip -n "$ns" link set lo up
	fi
	# An address on an internal port in NAME would otherwise be answered
	# for by NAME's kernel on the bridge's member veths as well (ARP
	# flux), with their MACs, to which OVS does not forward.
	check "in $ns, ARP answers only on the device with the address" ip netns exec "$ns" \
		sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	rm -rf "$d"
	mkdir -p "$d"
	VW_OVS+=("$ns")
	check "ovsdb-tool create $d/conf.db" _ovs_run "$ns" ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	check "ovsdb-server in $ns" _ovs_run "$ns" ip netns exec "$ns" ovsdb-server "$d/conf.db" \
		--remote="punix:$d/db.sock" --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
		--log-file="$d/ovsdb-server.log" --detach --no-chdir
	check "ovs-vsctl init ($ns)" ovs_vsctl "$ns" --no-wait init
	check "ovs-vswitchd in $ns" _ovs_run "$ns" ip netns exec "$ns" ovs-vswitchd "unix:$d/db.sock" \
		--pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" \
		--detach --no-chdir
	log "---- OVS in $ns: ovsdb-server $(cat "$d/ovsdb-server.pid"), ovs-vswitchd $(cat "$d/ovs-vswitchd.pid") ($d)"
}

# _ovs_pid NAME DAEMON: DAEMON's pid from its pid file, if it still runs.
_ovs_pid() {
	local p
	p=$(cat "$(_ovs_dir "$1")/$2.pid" 2>/dev/null) || return 1
	_vw_alive "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "${2:0:15}" ] && echo "$p"
}

# ovs_stop NAME: ovs-vswitchd exits (removing its ports), then ovsdb-server.
ovs_stop() {
	local ns=$1 p
	if p=$(_ovs_pid "$ns" ovs-vswitchd); then
		_ovs_run "$ns" ovs-appctl -t "$(_ovs_dir "$ns")/ovs-vswitchd.ctl" --timeout=10 exit --cleanup >/dev/null 2>&1 || true
		_poll 5 _vw_dead "$p" || kill -TERM "$p" 2>/dev/null
		_poll 5 _vw_dead "$p" || kill -KILL "$p" 2>/dev/null
	fi
	if p=$(_ovs_pid "$ns" ovsdb-server); then
		kill -TERM "$p" 2>/dev/null
		_poll 5 _vw_dead "$p" || kill -KILL "$p" 2>/dev/null
	fi
	return 0
}

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
	local rc=$? pid h
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
	for h in "${!VW_HOST_PID[@]}"; do
		pid=${VW_HOST_PID[$h]}
		[ -n "$pid" ] && _vw_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for h in "${!VW_HOST_PID[@]}"; do
		pid=${VW_HOST_PID[$h]}
		[ -n "$pid" ] || continue
		_poll 10 _vw_dead "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for h in "${VW_OVS[@]}"; do
		ovs_stop "$h"
	done
	for pid in "${VW_BG_PIDS[@]}"; do
		_poll 3 _vw_dead "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	_vw_remove_own
	if [ $rc != 0 ] && [ -s "$VW_TMP/vwired.log" ]; then
		sed 's/^/  vwired log: /' "$VW_TMP/vwired.log" >&2
	fi
	for h in "${!VW_HOST_PID[@]}"; do
		[ $rc != 0 ] && [ -s "$VW_TMP/$h.log" ] && sed "s/^/  host $h vwired log: /" "$VW_TMP/$h.log" >&2
		rm -rf "$(_host_sock "$h")" "$(_host_state "$h")"
	done
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
