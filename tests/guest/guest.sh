# tests/guest/guest.sh: QEMU test guests for system tests and benchmarks
# (issue 16).  Source it (bash); after tests/system/lib.sh in a test, so its
# EXIT trap runs after the guests are stopped.
#
#   guest_build              build the image if an input changed (mkguest.sh)
#   guest_accel              kvm or tcg (probed once per run; GUEST_ACCEL=tcg
#                            or kvm skips the probe)
#   guest_tap NS TAP BRIDGE  a persistent TAP in namespace NS, a port of
#                            BRIDGE (there already), up; QEMU attaches to it
#   guest_tap_args TAP       GUEST_NETDEV=(the -netdev of QEMU's tap backend)
#   guest_vhost_args SOCK MODE [QUEUES]
#                            GUEST_NETDEV=(chardev + vhost-user netdev), MODE
#                            being vwired's vhost-mode: server (vwired
#                            listens on SOCK, QEMU connects and reconnects)
#                            or client (QEMU listens on SOCK, vwired
#                            connects); GUEST_DEVOPTS gets mq=on for QUEUES > 1
#   guest_start NAME KERNEL_ARGS NETDEV_ARGS...
#                            boot guest NAME in the background, its serial
#                            console in $GUEST_DIR/NAME.log; NETDEV_ARGS
#                            define netdev n0 ("${GUEST_NETDEV[@]}").
#                            GUEST_NETNS=NS runs QEMU in namespace NS (a tap
#                            must be in QEMU's namespace); GUEST_MAC sets the
#                            MAC (default: one derived from NAME)
#   guest_wait NAME MARKER SECS   wait until the console shows MARKER (a
#                            fixed string); fails (1) after SECS or as soon
#                            as QEMU exits, printing the console's tail;
#                            GUEST_WAITED_MS: ms from guest_start to MARKER
#   guest_result NAME        the command's output (between VWGUEST-BEGIN and
#                            VWGUEST-END, no CRs)
#   guest_status NAME        its exit status (the N of VWGUEST-END status=N)
#   guest_pid NAME           QEMU's pid           guest_log NAME   its console
#   guest_stop NAME          SIGTERM, SIGKILL after 5 s, reaped
#   guest_stop_all           every guest this shell started (done at exit)
# Guests are QEMU processes started by this shell: -name NAME,process=NAME
# (so their comm is NAME: name them with the test's vwt prefix and
# tests/system/sweep.sh finds leftovers), a pid file, and PR_SET_PDEATHSIG
# (setpriv --pdeathsig KILL): a guest dies with the shell that started it,
# even a SIGKILLed one.  Call guest_start from the main shell, not from a
# $(...) or a pipeline (whose exit would kill the guest at once).
# The kernel command line gets console=ttyS0 quiet panic=-1 and KERNEL_ARGS
# (tests/guest/init: vw.ip=, vw.gw=, vw.mtu=, vw.route=, vw.cmd="...",
# vw.stay=1).

GUEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GUEST_IMG=${GUEST_IMG:-$GUEST_ROOT/build/guest}
GUEST_DIR=${GUEST_DIR:-${VW_TMP:-/tmp/vwguest.$$}/guests}
GUEST_QEMU=${GUEST_QEMU:-qemu-system-x86_64}
GUEST_ACCEL=${GUEST_ACCEL:-}
GUEST_NETDEV=()
GUEST_DEVOPTS=
declare -A GUEST_PIDS=() GUEST_T0=()

_guest_ms() { echo $(($(date +%s%N) / 1000000)); }
_guest_alive() {
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

guest_build() {
	local out
	out=$(bash "$GUEST_ROOT/tests/guest/mkguest.sh" "$GUEST_IMG" 2>&1) || {
		printf '%s\n' "$out" >&2
		return 1
	}
	case "$out" in *"up to date"*) ;; *) printf '%s\n' "$out" ;; esac
}

guest_log() { printf '%s/%s.log' "$GUEST_DIR" "$1"; }
guest_pid() { printf '%s' "${GUEST_PIDS[$1]:-}"; }

# A locally administered MAC from NAME: 52:54:00 and 3 bytes of its CRC.
_guest_mac() {
	local c
	c=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
	printf '52:54:00:%02x:%02x:%02x' $(((c >> 16) & 255)) $(((c >> 8) & 255)) $((c & 255))
}

# _guest_accel_args: QEMU's accelerator options for GUEST_ACCEL.
_guest_accel_args() {
	case "$GUEST_ACCEL" in
	kvm) echo "-accel kvm -cpu host" ;;
	*) echo "-accel tcg,thread=multi" ;;
	esac
}

# guest_accel: KVM only if /dev/kvm is there and a guest really boots with
# it within 20 s (a nested PVM that hangs after the kernel's first stage
# does not); TCG otherwise.  Once per run: the answer stays in GUEST_ACCEL
# (exported, so child scripts inherit it).
guest_accel() {
	local why pid
	if [ -z "$GUEST_ACCEL" ]; then
		if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
			GUEST_ACCEL=tcg why="no usable /dev/kvm"
		else
			GUEST_ACCEL=kvm
			guest_start vwguest-kvmprobe "vw.cmd=true" -nic none >/dev/null 2>&1 || true
			if guest_wait vwguest-kvmprobe VWGUEST-END 20 >/dev/null 2>&1; then
				why="a KVM guest booted in ${GUEST_WAITED_MS} ms"
			else
				GUEST_ACCEL=tcg why="a KVM guest did not finish booting within 20 s"
			fi
			guest_stop vwguest-kvmprobe >/dev/null 2>&1 || true
		fi
		export GUEST_ACCEL
		echo "guest: accelerator $GUEST_ACCEL ($why)" >&2
	fi
	echo "$GUEST_ACCEL"
}

# guest_tap NS TAP BRIDGE: a persistent TAP in NS, port of BRIDGE, up.
guest_tap() {
	ip -n "$1" tuntap add dev "$2" mode tap &&
		ip -n "$1" link set "$2" master "$3" up
}

guest_tap_args() {
	GUEST_NETDEV=(-netdev "tap,id=n0,ifname=$1,script=no,downscript=no,vhost=off")
	GUEST_DEVOPTS=
}

guest_vhost_args() {
	local sock=$1 mode=$2 q=${3:-1} chr
	case "$mode" in
	server) chr="socket,id=c0,path=$sock,reconnect=1" ;;   # vwired serves: QEMU is the client
	client) chr="socket,id=c0,path=$sock,server=on,wait=on" ;;  # vwired connects to QEMU; the guest starts once it has
	*) echo "guest_vhost_args: mode is server or client (vwired's vhost-mode), not '$mode'" >&2; return 2 ;;
	esac
	# QEMU 7.2 under TCG dies (SIGSEGV in msix_set_vector_notifiers, at
	# vhost_net_start) when a vhost-user device uses MSI-X: legacy
	# interrupts there (vectors=0)
	[ -n "$GUEST_ACCEL" ] || guest_accel >/dev/null
	if [ "$q" -gt 1 ]; then
		GUEST_NETDEV=(-chardev "$chr" -netdev "vhost-user,id=n0,chardev=c0,queues=$q")
		GUEST_DEVOPTS=",mq=on,vectors=$([ "$GUEST_ACCEL" = kvm ] && echo $((2 * q + 2)) || echo 0)"
	else
		GUEST_NETDEV=(-chardev "$chr" -netdev "vhost-user,id=n0,chardev=c0")
		GUEST_DEVOPTS=$([ "$GUEST_ACCEL" = kvm ] || echo ",vectors=0")
	fi
}

# guest_cmdline NAME KERNEL_ARGS NETDEV_ARGS...: QEMU's command line, one
# argument a line (guest_start runs it; printed for the record).
guest_cmdline() {
	local name=$1 kargs=$2 mac=${GUEST_MAC:-$(_guest_mac "$1")} dev=() a
	shift 2
	# a netdev n0 needs its device; "-nic none" (no NIC) needs none
	for a in "$@"; do case "$a" in *id=n0*) dev=(-device "virtio-net-pci,netdev=n0,mac=$mac$GUEST_DEVOPTS") ;; esac; done
	# shellcheck disable=SC2046
	printf '%s\n' "$GUEST_QEMU" -name "$name,process=$name" -pidfile "$GUEST_DIR/$name.pid" \
		-nodefaults -no-user-config -display none -no-reboot -monitor none \
		$(_guest_accel_args) -smp 1 -m 256 \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$GUEST_IMG/vmlinuz" -initrd "$GUEST_IMG/initrd.img" \
		-append "console=ttyS0 quiet panic=-1 $kargs" \
		-chardev "file,id=s0,path=$GUEST_DIR/$name.log" -serial chardev:s0 \
		"$@" "${dev[@]}"
}

guest_start() {
	local name=$1 pid
	local -a cmd pre=()
	[ -z "${GUEST_PIDS[$name]:-}" ] || { echo "guest_start: guest $name is running" >&2; return 1; }
	if [ -n "${VWT_OWN:-}" ] && declare -F _vw_own >/dev/null && [ "$name" != vwguest-kvmprobe ]; then
		_vw_own "$name" || { echo "guest_start: $name is not named with a prefix of VWT_OWN ($VWT_OWN)" >&2; return 1; }
	fi
	[ -s "$GUEST_IMG/vmlinuz" ] || guest_build || return 1
	[ -n "$GUEST_ACCEL" ] || guest_accel >/dev/null
	mkdir -p "$GUEST_DIR"
	rm -f "$GUEST_DIR/$name.log" "$GUEST_DIR/$name.pid"
	mapfile -t cmd < <(guest_cmdline "$@")
	[ -z "${GUEST_NETNS:-}" ] || pre=(nsenter "--net=/run/netns/$GUEST_NETNS")
	printf '%q ' "${pre[@]}" "${cmd[@]}" >"$GUEST_DIR/$name.cmd"
	GUEST_T0[$name]=$(_guest_ms)
	setpriv --pdeathsig KILL "${pre[@]}" "${cmd[@]}" </dev/null >"$GUEST_DIR/$name.err" 2>&1 &
	pid=$!
	GUEST_PIDS[$name]=$pid
	echo "guest: $name started (QEMU pid $pid, $GUEST_ACCEL${GUEST_NETNS:+, in namespace $GUEST_NETNS})"
}

_guest_tail() {
	echo "  guest $1: QEMU: $(cat "$GUEST_DIR/$1.cmd" 2>/dev/null)"
	sed 's/^/  guest stderr: /' "$GUEST_DIR/$1.err" 2>/dev/null | grep -v 'module ui-ui' | tail -5
	tr -d '\r' <"$(guest_log "$1")" 2>/dev/null | tail -15 | sed "s/^/  guest $1 console: /"
}

guest_wait() {
	local name=$1 marker=$2 secs=$3 pid=${GUEST_PIDS[$1]:-} deadline log
	log=$(guest_log "$name")
	[ -n "$pid" ] || { echo "guest_wait: no guest $name" >&2; return 1; }
	deadline=$(($(_guest_ms) + secs * 1000))
	while ! grep -qF -- "$marker" "$log" 2>/dev/null; do
		if ! _guest_alive "$pid"; then
			grep -qF -- "$marker" "$log" 2>/dev/null && break
			echo "guest_wait: guest $name (QEMU $pid) exited before '$marker'" >&2
			_guest_tail "$name" >&2
			return 1
		fi
		if [ "$(_guest_ms)" -ge $deadline ]; then
			echo "guest_wait: no '$marker' from guest $name within ${secs}s" >&2
			_guest_tail "$name" >&2
			return 1
		fi
		sleep 0.1
	done
	GUEST_WAITED_MS=$(($(_guest_ms) - ${GUEST_T0[$name]}))
	return 0
}

guest_result() {
	tr -d '\r' <"$(guest_log "$1")" | awk '/^VWGUEST-END status=/ { p = 0 } p { print } /^VWGUEST-BEGIN/ { p = 1 }'
}

guest_status() {
	tr -d '\r' <"$(guest_log "$1")" | sed -n 's/^VWGUEST-END status=\([0-9]*\).*/\1/p' | tail -1
}

guest_stop() {
	local name=$1 pid=${GUEST_PIDS[$1]:-} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do _guest_alive "$pid" || break; sleep 0.1; done
	! _guest_alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "GUEST_PIDS[$name]"
	return 0
}

guest_stop_all() {
	local n
	for n in "${!GUEST_PIDS[@]}"; do guest_stop "$n"; done
	return 0
}

# Stop the guests at exit, then run whatever EXIT trap was there (lib.sh's
# cleanup, which reads the exit status first: it is kept for it, with
# errexit and the ERR trap off, or `(exit 1)` would end the trap before the
# cleanup ran and leave the test's daemon and namespaces behind).
# (trap -p straight in $(...): in a pipeline it would print a subshell's traps)
_guest_prev_trap=$(trap -p EXIT)
_guest_prev_trap=${_guest_prev_trap#trap -- \'}
_guest_prev_trap=${_guest_prev_trap%\' EXIT}
# shellcheck disable=SC2064
trap "_guest_rc=\$?; set +e; trap - ERR; guest_stop_all; (exit \$_guest_rc); ${_guest_prev_trap:-exit \$_guest_rc}" EXIT
