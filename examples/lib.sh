# shellcheck shell=bash
# Shell helpers shared by the examples' run.sh (wan-branch, consolidate,
# tenants, webfarm): bash only, sourced from the top of the tree, after the
# script's own `cd "$(dirname "$0")/../.."`:
#
#   . examples/lib.sh
#
# What a run.sh sets, after sourcing this (which gives them the defaults):
#   BIN        where vwired, vwadm, vwstat, vwsnoop are (default $PWD/build)
#   NETNS      the namespaces it makes, zones and hosts, space separated:
#              removed by remove_leftovers and at exit
#   FILES      (array) sockets and state dirs: removed likewise
#   SCRATCH    its scratch dir ('' for none): made empty by
#              remove_leftovers; at exit removed, or kept and "kept DIR"
#              printed if KEEP is 1
#   KEEP       1 keeps SCRATCH at exit
#   BG         (array) background pids of its own: SIGTERM at exit, then
#              SIGKILL if still there after 10 s
#   DIE_TAIL   how many last lines of each daemon's log die shows (default
#              all)
#
# Checks before anything is made (each exits 1 with a line on stderr):
#   need_root WHY            not root: "$0: needs root (WHY)"
#   need_cmds CMD...         a CMD not in PATH (scripts/install-deps.sh)
#   need_build PROG...       a PROG not in $BIN: make -s all (exit 1 if that fails)
#
# Time and waiting:
#   now_ms                   milliseconds since the epoch
#   poll SECS CMD...         run CMD (output discarded) every 0.1 s until it
#                            succeeds; 1 if it did not within SECS seconds
#   alive PID / dead PID     whether process PID is there (a zombie is dead)
#
# Output:
#   die MSG                  "$0: MSG" and the logs given to die_log on
#                            stderr (each line "  LABEL: ..."), exit 1
#   die_log LABEL FILE       a daemon's log for die to show
#   indent [N]               stdin to stdout, each line after N spaces (2)
#   stamp                    "YYYY-MM-DD HH:MM UTC; vwire DESCRIBE", for
#                            the first line of a report
#
# Daemons ("hosts": a network namespace with a vwired of its own):
#   host_ns H                network namespace H, lo up (dies if it cannot)
#   host_start H SOCK STATE LOG [ARG...]
#                            network namespace H (host_ns, if it is not
#                            there yet) and vwired -f in it on socket SOCK
#                            and state dir STATE, stderr appended to LOG,
#                            ARGs added; waits until it answers (1 if not
#                            within 10 s: the caller says so, with
#                            HOST_PID[H]).  It gets the network namespace only
#                            (nsenter --net): under `ip netns exec` it would
#                            have a mount namespace of its own, where the
#                            /run/netns mounts of the zones it creates would
#                            stay, unseen by anyone else.
#   daemon_start H SOCK STATE LOG [ARG...]
#                            the same in the script's own network namespace;
#                            H only names the daemon (hv, hs, host_stop)
#   HOST_PID[H] HOST_SOCK[H] the daemon's pid and socket
#   hv H ARG... / hs H ARG...   vwadm / vwstat on H's daemon
#   host_stop H              SIGTERM to H's daemon, SIGKILL if it has not
#                            exited within 10 s; reaped
#   host_link HA IFA HB IFB  a veth pair, IFA in namespace HA and IFB in HB,
#                            both up (1 if not)
#
# Clean-up:
#   remove_netns NS...       kills every process in the namespaces NS, then
#                            deletes them (a host's veth ends go with it)
#   remove_leftovers         what an interrupted run left: NETNS, FILES and
#                            SCRATCH removed; SCRATCH made again, empty
#   cleanup_at_exit          traps: at exit (however it comes: the end, die,
#                            Ctrl-C: status 130, SIGTERM: 143) the BG
#                            processes and the daemons are stopped, NETNS
#                            and FILES removed, SCRATCH removed or kept;
#                            the exit status stays the script's

BIN=$PWD/build NETNS='' SCRATCH='' KEEP='' DIE_TAIL=''
FILES=() BG=()
declare -A HOST_PID=() HOST_SOCK=()
_EX_HOSTS=()                    # the daemons, in the order they started
_EX_LOG_LABEL=() _EX_LOG_FILE=()

need_root() { [ "$(id -u)" = 0 ] || { echo "$0: needs root ($1)" >&2; exit 1; }; }
need_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "$0: $c is needed (scripts/install-deps.sh)" >&2; exit 1; }
	done
}
need_build() {
	local p
	for p in "$@"; do
		[ -x "$BIN/$p" ] || { make -s all || exit 1; return 0; }
	done
}

now_ms() { date +%s%3N; }
poll() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt $end ] || return 1
		sleep 0.1
	done
}
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }
dead() { ! alive "$1"; }

die_log() { _EX_LOG_LABEL+=("$1"); _EX_LOG_FILE+=("$2"); }
die() {
	local i
	echo "$0: $*" >&2
	for i in "${!_EX_LOG_FILE[@]}"; do
		[ -s "${_EX_LOG_FILE[$i]}" ] &&
			sed "s|^|  ${_EX_LOG_LABEL[$i]}: |" "${_EX_LOG_FILE[$i]}" | tail -n "${DIE_TAIL:-+1}" >&2
	done
	exit 1
}
indent() {
	local pad
	printf -v pad '%*s' "${1:-2}" ''
	sed "s/^/$pad/"
}
stamp() { echo "$(date -u '+%Y-%m-%d %H:%M UTC'); vwire $(git describe --always --dirty 2>/dev/null || echo '?')"; }

# _ex_vwired H SOCK STATE LOG NSENTER... -- ARG...: starts the daemon
# (under the NSENTER words, if any), records it, waits for an answer
_ex_vwired() {
	local h=$1 sock=$2 state=$3 log=$4
	local -a pre=()
	shift 4
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	"${pre[@]}" "$BIN/vwired" -f --socket "$sock" --state-dir "$state" "$@" 2>>"$log" &
	HOST_PID[$h]=$!
	HOST_SOCK[$h]=$sock
	_EX_HOSTS+=("$h")
	poll 10 hv "$h" show-link
}
host_ns() { ip netns add "$1" && ip -n "$1" link set lo up || die "cannot make namespace $1"; }
host_start() {
	[ -e "/run/netns/$1" ] || host_ns "$1"
	_ex_vwired "${@:1:4}" nsenter --net="/run/netns/$1" -- "${@:5}"
}
daemon_start() { _ex_vwired "${@:1:4}" -- "${@:5}"; }
hv() { "$BIN/vwadm" --socket "${HOST_SOCK[$1]}" "${@:2}"; }
hs() { "$BIN/vwstat" --socket "${HOST_SOCK[$1]}" "${@:2}"; }
host_stop() {
	local pid=${HOST_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	poll 10 dead "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "HOST_PID[$1]"
}
host_link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

remove_netns() {
	local ns pid
	for ns in "$@"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
	return 0
}
remove_leftovers() {
	# shellcheck disable=SC2086 # one name a word
	remove_netns $NETNS
	rm -rf "${FILES[@]}" ${SCRATCH:+"$SCRATCH"}
	[ -z "$SCRATCH" ] || mkdir -p "$SCRATCH"
}
_ex_cleanup() {
	local rc=$? pid h i
	trap - EXIT INT TERM
	for pid in "${BG[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for h in "${_EX_HOSTS[@]}"; do [ -z "${HOST_PID[$h]:-}" ] || kill -TERM "${HOST_PID[$h]}" 2>/dev/null; done
	for i in "${!_EX_HOSTS[@]}"; do host_stop "${_EX_HOSTS[$i]}"; done
	for pid in "${BG[@]}"; do
		poll 10 dead "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# shellcheck disable=SC2086 # one name a word
	remove_netns $NETNS
	rm -rf "${FILES[@]}"
	if [ -n "$SCRATCH" ]; then
		if [ "$KEEP" = 1 ]; then echo "kept $SCRATCH"; else rm -rf "$SCRATCH"; fi
	fi
	exit $rc
}
cleanup_at_exit() {
	trap _ex_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
