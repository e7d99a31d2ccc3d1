#!/usr/bin/env bash
# vwired as systemd runs it, for real: the Debian package installed on a
# Debian 12 whose PID 1 is systemd, a container (systemd-nspawn) booting
# this machine's own root read-only under an overlay in memory, on a network
# namespace of its own, so nothing of it reaches the host.  There:
#   dpkg -i enables and starts vwired.service (Type=notify: vwadm answers as
#   soon as dpkg returns); under the unit's hardening a zone-to-zone ping
#   crosses a VNIC pair (kernel fast path included where the kernel has it)
#   and `ip netns exec ZONE` works from outside the service (its zones are
#   not hidden in a mount namespace of its own); systemctl restart replays
#   the configuration; a SIGKILL gets it restarted (Restart=on-failure);
#   systemctl stop is clean (status 0); apt-get purge stops it and leaves no
#   state, unit, enabled link or fast-path device of it.
# Skipped when no systemd can boot in a container here (t_install then
# covers the unit with systemd-analyze verify and a run of its ExecStart).
VWT_OWN="vwt9"
. "$(dirname "$0")/lib.sh"

cd "$VW_ROOT"
for tool in systemd-nspawn dpkg-buildpackage dh unshare nsenter; do
	command -v $tool >/dev/null || fail "$tool is not installed (make deps installs it)"
done
MACHINE=vwt9svc
VERSION=$(dpkg-parsechangelog -S Version) ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB=$VW_ROOT/build/vwire_${VERSION}_${ARCH}.deb

# the programs make all built, packaged (as t_install does)
check "make deb DEB_OBJDIR=${VW_BIN#$VW_ROOT/}" bash -c "DEB_BUILD_OPTIONS=noddebs make -s deb DEB_OBJDIR='${VW_BIN#$VW_ROOT/}' \
	>'$VW_TMP/deb.log' 2>&1 || { tail -30 '$VW_TMP/deb.log'; exit 1; }"

# The container's root: / bound alone (no /dev, /proc, /run... under it),
# read-only, in a mount namespace held by a sleeping process; nspawn puts a
# tmpfs overlay over it (--volatile=overlay), so dpkg writes to memory.
vw_bg unshare -m --propagation private sleep 900
HOLD=$VW_BG_PID
wait_until 10 "a mount namespace for the container's root" \
	bash -c "[ \"\$(readlink /proc/$HOLD/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ]"
ROOT=$VW_TMP/root
mkdir -p "$ROOT"
check "/ bound read-only at $ROOT (in that namespace)" nsenter -t "$HOLD" -m sh -ec \
	"mount --bind / '$ROOT'; mount -o remount,bind,ro '$ROOT'"
# CAP_BPF, CAP_PERFMON and bpf(2): nspawn keeps them from a container
# otherwise, and the fast path needs them
vw_bg nsenter -t "$HOLD" -m systemd-nspawn -D "$ROOT" --volatile=overlay --private-network \
	--machine=$MACHINE --register=no --keep-unit --link-journal=no --console=passive \
	--capability=CAP_BPF,CAP_PERFMON --system-call-filter=bpf \
	-b -- systemd.unit=multi-user.target >"$VW_TMP/nspawn.log" 2>&1
NSPAWN=$VW_BG_PID
# the container's PID 1: systemd-nspawn's child (nsenter execs nspawn)
leader() { pgrep -P "$NSPAWN" -x systemd | head -1; }
booted() {
	local c
	c=$(leader) && [ -n "$c" ] || return 1
	nsenter -t "$c" -a systemctl is-system-running 2>/dev/null | grep -Eq '^(running|degraded)$'
}
if ! _poll 60 booted; then
	log "---- skipped: systemd did not boot in a container here; nspawn said:"
	_indent <"$VW_TMP/nspawn.log"
	exit 0
fi
C=$(leader)
log "---- container $MACHINE up, its systemd is pid $C here"
# at exit, whatever happened: the container powered off first (then lib.sh's
# clean-up stops nspawn and the namespace holder, if still there)
_svc_cleanup() {
	local rc=$?
	trap - ERR
	set +eE
	if kill -0 "$NSPAWN" 2>/dev/null; then
		nsenter -t "$C" -a systemctl poweroff >/dev/null 2>&1
		_poll 20 bash -c "! kill -0 $NSPAWN 2>/dev/null"
	fi
	(exit $rc)
	_vw_cleanup
}
trap _svc_cleanup EXIT
# inct(): a command in the container, as its root
inct() { nsenter -t "$C" -a env -u VWIRE_SOCKET "$@"; }
check "systemd is PID 1 in the container" bash -c "[ \"\$(nsenter -t $C -a cat /proc/1/comm)\" = systemd ]"
check "no vwire installed in it yet" bash -c "! nsenter -t $C -a dpkg -s vwire >/dev/null 2>&1"
# this machine's image forbids service starts (a Docker policy-rc.d);
# the container's is a Debian that allows them
check "no policy-rc.d in the container (its overlay only)" inct rm -f /usr/sbin/policy-rc.d
check "copy the package in" bash -c "nsenter -t $C -a sh -c 'cat >/root/vwire.deb' <'$DEB'"

log "---- install"
check "dpkg -i vwire.deb" inct dpkg -i /root/vwire.deb
expect_eq "vwired.service enabled" enabled "$(inct systemctl is-enabled vwired 2>&1 || true)"
expect_eq "vwired.service active" active "$(inct systemctl is-active vwired 2>&1 || true)"
check "vwadm answers as soon as dpkg returned (Type=notify: started = ready)" inct vwadm show-link
expect_eq "the unit loaded is the package's" /lib/systemd/system/vwired.service \
	"$(inct systemctl show -p FragmentPath --value vwired)"
expect_eq "its main process is /usr/sbin/vwired -f" "/usr/sbin/vwired -f" \
	"$(inct sh -c 'tr "\0" " " </proc/$(systemctl show -p MainPID --value vwired)/cmdline' | sed 's/ $//')"
expect_eq "its capability bounding set, as the unit says" \
	"cap_chown,cap_setgid,cap_net_admin,cap_net_raw,cap_sys_admin,cap_perfmon,cap_bpf" \
	"$(inct sh -c 'capsh --decode=$(sed -n "s/^CapBnd:\t//p" /proc/$(systemctl show -p MainPID --value vwired)/status)' | sed 's/^0x[0-9a-f]*=//')"

log "---- a network, under the unit's hardening"
for cmd in "create-etherstub vwt9s0" "create-zone vwt9z1" "create-zone vwt9z2" \
	"create-vnic -l vwt9s0 -p zone=vwt9z1 vwt9v1" "create-vnic -l vwt9s0 -p zone=vwt9z2 vwt9v2" \
	"create-addr -a 10.250.9.1/24 vwt9v1" "create-addr -a 10.250.9.2/24 vwt9v2"; do
	# shellcheck disable=SC2086
	check "vwadm $cmd" inct vwadm $cmd
done
pingz() { nsenter -t "$C" -a ip netns exec vwt9z1 ping -n -q -c 1 -W 1 10.250.9.2; }
wait_until 10 "ping vwt9z1 -> vwt9z2 (ip netns exec from outside the service)" pingz
FAST=1
if inct journalctl -u vwired --no-pager | grep -q 'kernel fast path off'; then
	FAST=0
	log "---- the kernel fast path is off here: $(inct journalctl -u vwired --no-pager | grep -m1 'fast path off')"
else
	check "the ping took the kernel fast path" bash -c "[ \$(nsenter -t $C -a env -u VWIRE_SOCKET vwstat -p -o fast_ipkts vwt9v2) -gt 0 ]"
fi
check "vwadm start-accounting" inct vwadm start-accounting -i 1
check "accounting writes its history into StateDirectory" inct test -s /var/lib/vwire/history.db

log "---- systemctl restart: the configuration replayed"
check "systemctl restart vwired" inct systemctl restart vwired
expect_eq "VNICs after the restart" "vwt9v1:vwt9z1 vwt9v2:vwt9z2" \
	"$(inct vwadm show-vnic -p -o link,zone | sort | tr '\n' ' ' | sed 's/ $//')"
wait_until 10 "ping after the restart" pingz

log "---- SIGKILL: Restart=on-failure"
pid=$(inct systemctl show -p MainPID --value vwired)
check "kill -9 vwired (pid $pid in the container)" inct kill -KILL "$pid"
wait_until 20 "restarted by systemd (NRestarts=1, active)" bash -c \
	"[ \"\$(nsenter -t $C -a systemctl show -p NRestarts --value vwired)\" = 1 ] && nsenter -t $C -a systemctl is-active -q vwired"
check "vwadm answers the restarted daemon" inct vwadm show-link vwt9v1
wait_until 10 "ping after the restart by systemd" pingz

log "---- systemctl stop"
check "systemctl stop vwired" inct systemctl stop vwired
expect_eq "stopped cleanly" "Result=success ExecMainStatus=0 ActiveState=inactive" \
	"$(inct systemctl show -p Result -p ExecMainStatus -p ActiveState vwired | tr '\n' ' ' | sed 's/ $//')"
check "its control socket is gone" inct test ! -e /run/vwire/vwired.sock
if [ $FAST = 1 ]; then
	check "the fast path's devices of vwt9v1 stay after the stop (vwired(8): it goes on switching)" \
		bash -c "nsenter -t $C -a ip -o link show group 30327 | grep -q 'alias vwire VNIC vwt9v1: .*, /var/lib/vwire/vwire.conf'"
fi
check "the state is saved in StateDirectory" inct test -s /var/lib/vwire/vwire.conf

log "---- a state file it refuses: the start fails, and systemd gives up"
check "keep the good state aside" inct cp /var/lib/vwire/vwire.conf /root/vwire.conf.good
check "damage the state file" inct sed -i 's/create-vnic/create-vnlc/' /var/lib/vwire/vwire.conf
check_fail "systemctl start vwired fails (no READY=1, exit status 1)" inct systemctl start vwired
wait_until 40 "restarted, then given up (StartLimitBurst): failed" bash -c \
	"nsenter -t $C -a systemctl show -p ActiveState --value vwired | grep -qx failed"
check "... after 'Start request repeated too quickly'" bash -c \
	"nsenter -t $C -a journalctl -u vwired --no-pager | grep -q 'Start request repeated too quickly'"
check "the journal says why" bash -c "nsenter -t $C -a journalctl -u vwired --no-pager | grep -q 'vwired: .*vwire.conf'"
check "the state file put right" inct cp /root/vwire.conf.good /var/lib/vwire/vwire.conf
check "systemctl reset-failed vwired" inct systemctl reset-failed vwired
check "systemctl start vwired again" inct systemctl start vwired
check "... and it answers with its VNICs" inct vwadm show-link vwt9v2

log "---- apt-get purge"
check "apt-get purge -y vwire" inct env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq vwire
expect_eq "vwired.service no longer active" inactive "$(inct systemctl is-active vwired 2>&1 || true)"
check "no vwired process" bash -c "! nsenter -t $C -a pgrep -x vwired >/dev/null"
check "the state is gone" inct test ! -e /var/lib/vwire
check "the runtime directory is gone" inct test ! -e /run/vwire
check "the unit is gone" inct test ! -e /lib/systemd/system/vwired.service
check "no enabled link left" inct test ! -L /etc/systemd/system/multi-user.target.wants/vwired.service
expect_eq "no device of the system daemon left (netdev group 30327)" "" \
	"$(inct ip -o link show group 30327 | grep -o 'alias.*' || true)"

log "---- power off"
inct systemctl poweroff >/dev/null 2>&1 || true
wait_until 30 "the container stopped" bash -c "! kill -0 $NSPAWN 2>/dev/null"
vw_bg_stop "$HOLD" KILL
check "its root is gone with its namespace" bash -c "! grep -q ' $ROOT ' /proc/self/mountinfo"
