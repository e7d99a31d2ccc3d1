#!/usr/bin/env bash
# Installing vwire as a system service (issue 17), as a user would check it:
#  1. make install DESTDIR=... PREFIX=/usr puts exactly the expected files
#     (programs in sbin, manual pages, the unit, bash completion) and make
#     uninstall takes every one of them away; the default PREFIX is
#     /usr/local, and the unit's ExecStart follows the prefix;
#  2. systemd-analyze verify passes on the installed unit (its
#     Documentation= pages found among the installed ones);
#  3. the unit's ExecStart line, run as systemd would (NOTIFY_SOCKET set, a
#     socket this test reads): READY=1 arrives only once vwadm show-link
#     answers and the saved configuration (a zone with a VNIC) is replayed;
#     SIGTERM gets STOPPING=1, exit status 0, the socket removed; a state
#     file that fails its check gets no READY=1 and exit status 1;
#  4. the Debian package (make deb): lintian finds no error, dpkg -c lists
#     the expected files, and in a throwaway root (an overlay over / in a
#     mount namespace of this test's own, discarded at the end) dpkg -i
#     installs it without systemd running, man -w finds the pages, vwired
#     runs, the unit is enabled; dpkg -r keeps the state, apt-get purge
#     removes it and leaves nothing of vwire.
# Prefix vwtl (vwti, the brief's, is t_tunnel_interop's).
VWT_OWN="vwtl"
. "$(dirname "$0")/lib.sh"

ZONE=vwtlz1 STUB=vwtls0 VNIC=vwtlv1
PROGRAMS="vwadm vwired vwsnoop vwstat"
cd "$VW_ROOT"
for tool in systemd-analyze dpkg-buildpackage dh lintian python3; do
	command -v $tool >/dev/null || fail "$tool is not installed (make deps installs it)"
done

# expected_files PREFIX UNITDIR: what make install must put under DESTDIR
expected_files() {
	local p=$1 u=$2 f
	for f in $PROGRAMS; do echo "$p/sbin/$f"; done
	for f in man/*.8; do echo "$p/share/man/man8/${f#man/}"; done
	echo "$u/vwired.service"
	for f in cli/completion/*; do [ -f "$f" ] && echo "$p/share/bash-completion/completions/${f#cli/completion/}"; done
	return 0
}
files_under() { (cd "$1" && find . ! -type d | sed 's|^\.||' | sort); }

log "---- 1. make install / make uninstall"
for f in vwired vwadm vwstat vwsnoop; do
	check "man/$f.8 exists in the tree" test -f man/$f.8
done
D=$VW_TMP/destdir
check "make install DESTDIR=$D PREFIX=/usr" make -s install DESTDIR="$D" PREFIX=/usr
log "installed:"
files_under "$D" | _indent
expect_eq "the installed files, exactly" "$(expected_files /usr /lib/systemd/system | sort)" "$(files_under "$D")"
for f in $PROGRAMS; do
	expect_eq "/usr/sbin/$f mode" 755 "$(stat -c %a "$D/usr/sbin/$f")"
done
expect_eq "modes of the other files" 644 \
	"$(find "$D" -type f ! -path '*/sbin/*' -printf '%m\n' | sort -u)"
expect_eq "the unit's ExecStart under PREFIX=/usr" "ExecStart=/usr/sbin/vwired -f" \
	"$(grep '^ExecStart=' "$D/lib/systemd/system/vwired.service")"
check "make uninstall DESTDIR=$D PREFIX=/usr" make -s uninstall DESTDIR="$D" PREFIX=/usr
expect_eq "no file left after make uninstall" "" "$(files_under "$D")"
D2=$VW_TMP/destdir2
check "make install DESTDIR=$D2 (default PREFIX)" make -s install DESTDIR="$D2"
expect_eq "the installed files under /usr/local, exactly" \
	"$(expected_files /usr/local /usr/local/lib/systemd/system | sort)" "$(files_under "$D2")"
expect_eq "the unit's ExecStart under /usr/local" "ExecStart=/usr/local/sbin/vwired -f" \
	"$(grep '^ExecStart=' "$D2/usr/local/lib/systemd/system/vwired.service")"
check "make uninstall DESTDIR=$D2" make -s uninstall DESTDIR="$D2"
expect_eq "no file left after make uninstall (default PREFIX)" "" "$(files_under "$D2")"

log "---- 2. systemd-analyze verify"
# a real prefix this time, so that ExecStart's program exists
P=$VW_TMP/prefix
UNIT=$P/lib/systemd/system/vwired.service
check "make install PREFIX=$P" make -s install PREFIX="$P"
check "systemd-analyze verify the installed unit" env MANPATH="$P/share/man" systemd-analyze verify "$UNIT"
for kv in Type=notify Restart=on-failure StateDirectory=vwire RuntimeDirectory=vwire \
	Wants=network-online.target After=network-online.target NoNewPrivileges=yes \
	WantedBy=multi-user.target; do
	check "the unit says $kv" grep -qx "$kv" "$UNIT"
done
expect_eq "the daemon's default state directory is StateDirectory's" "/var/lib/vwire" \
	"$(sed -n 's/^#define VW_DEFAULT_STATE_DIR "\(.*\)"/\1/p' lib/vwire.h)"
expect_eq "the daemon's default socket is in RuntimeDirectory" "/run/vwire/vwired.sock" \
	"$(sed -n 's/^#define VW_DEFAULT_SOCKET "\(.*\)"/\1/p' lib/vwire.h)"

log "---- 3. the ExecStart line, run as systemd runs it"
read -r -a EXEC <<<"$(sed -n 's/^ExecStart=//p' "$UNIT")"
log "ExecStart: ${EXEC[*]}"
cat >"$VW_TMP/notify.py" <<'PY'
# A service manager's end of NOTIFY_SOCKET: logs each state line with the
# time; on READY=1 runs the ready checks (bash -c ARGV[3]) before reading
# on; exits on the line VWT_END=1.
import socket, subprocess, sys, time
path, log, on_ready = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as f:
    print("listening", file=f)
    while True:
        lines = s.recv(4096).decode(errors="replace").split("\n")
        for ln in lines:
            print("msg " + ln, file=f)
        if "READY=1" in lines:
            r = subprocess.run(["bash", "-c", on_ready], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            f.write(r.stdout.decode(errors="replace"))
            print("ready checks done", file=f)
        if "VWT_END=1" in lines:
            break
PY
notify_end() { python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"VWT_END=1", sys.argv[1])' "$1"; }
# notify_start NAME: a receiver on $VW_TMP/NAME.sock logging to $VW_TMP/NAME.log
notify_start() {
	rm -f "$VW_TMP/$1.sock" "$VW_TMP/$1.log"
	vw_bg python3 "$VW_TMP/notify.py" "$VW_TMP/$1.sock" "$VW_TMP/$1.log" "$ON_READY"
	wait_until 10 "notify receiver $1 listening" grep -qx listening "$VW_TMP/$1.log"
}
ON_READY="
	timeout 5 '$P/sbin/vwadm' show-link >/dev/null 2>&1 && echo 'at READY: show-link answers'
	timeout 5 '$P/sbin/vwadm' show-vnic -p -o link,over,zone $VNIC 2>&1 | sed 's/^/at READY: vnic /'
	ip -n $ZONE link show $VNIC >/dev/null 2>&1 && echo 'at READY: face in zone'
"

# the saved configuration: made by a daemon on the userspace datapath (its
# TAP faces go away with it, so only a replay can bring the VNIC back)
vw_start --fastpath=off
check "create zone $ZONE" vwadm create-zone $ZONE
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VNIC in $ZONE" vwadm create-vnic -l $STUB -p zone=$ZONE $VNIC
vw_stop
check "state file saved" test -s "$VW_STATE/vwire.conf"
check "no face $VNIC left in $ZONE before the start" bash -c "! ip -n $ZONE link show $VNIC 2>/dev/null"

notify_start run
log "---- ${EXEC[*]} --socket $VW_SOCK --state-dir $VW_STATE (NOTIFY_SOCKET=$VW_TMP/run.sock)"
NOTIFY_SOCKET=$VW_TMP/run.sock "${EXEC[@]}" --socket "$VW_SOCK" --state-dir "$VW_STATE" 2>>"$VW_TMP/vwired.log" &
VW_PID=$!
wait_until 20 "READY=1 received" grep -qx "msg READY=1" "$VW_TMP/run.log"
wait_until 20 "checks run at READY done" grep -qx "ready checks done" "$VW_TMP/run.log"
check "... after show-link answered" grep -qx "at READY: show-link answers" "$VW_TMP/run.log"
expect_eq "... with the saved VNIC replayed" "at READY: vnic $VNIC:$STUB:$ZONE" \
	"$(grep '^at READY: vnic' "$VW_TMP/run.log")"
check "... and its face in its zone" grep -qx "at READY: face in zone" "$VW_TMP/run.log"
check "no STOPPING=1 yet" bash -c "! grep -qx 'msg STOPPING=1' '$VW_TMP/run.log'"
vw_stop
expect_eq "exit status after SIGTERM (systemctl stop)" 0 "$VW_STOP_STATUS"
notify_end "$VW_TMP/run.sock"
wait_until 10 "receiver done" bash -c "! kill -0 $VW_BG_PID 2>/dev/null"
check "STOPPING=1 received" grep -qx "msg STOPPING=1" "$VW_TMP/run.log"
expect_eq "READY=1 once, then STOPPING=1, nothing else" "READY=1 STOPPING=1" \
	"$(sed -n 's/^msg //p' "$VW_TMP/run.log" | grep -v '^VWT_END=1$' | tr '\n' ' ' | sed 's/ $//')"
check "control socket removed" test ! -e "$VW_SOCK"
check "no vwired left on $VW_SOCK" bash -c "! pgrep -f -- '[v]wired -f --socket $VW_SOCK' >/dev/null"
faces_after_stop $ZONE $VNIC

log "---- a state file that fails its check: no READY=1"
BAD=$VW_TMP/bad.state
mkdir -p "$BAD"
sed 's/create-vnic/create-vnlc/' "$VW_STATE/vwire.conf" >"$BAD/vwire.conf"
notify_start bad
rc=0
NOTIFY_SOCKET=$VW_TMP/bad.sock "${EXEC[@]}" --socket "$VW_TMP/bad-ctl.sock" --state-dir "$BAD" \
	>"$VW_TMP/bad.out" 2>&1 || rc=$?
expect_eq "refused start: exit status" 1 "$rc"
notify_end "$VW_TMP/bad.sock"
wait_until 10 "receiver done" bash -c "! kill -0 $VW_BG_PID 2>/dev/null"
expect_eq "no state notified for a refused start" "" "$(sed -n 's/^msg //p' "$VW_TMP/bad.log" | grep -v '^VWT_END=1$' || true)"

log "---- 4. the Debian package"
VERSION=$(dpkg-parsechangelog -S Version) ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB=$VW_ROOT/build/vwire_${VERSION}_${ARCH}.deb
t0=$(_now_ms)
# the programs built by make all, packaged (a build from scratch with
# Debian's flags, make deb alone, takes about a minute on two busy cores);
# no debug symbols package
check "make deb DEB_OBJDIR=${VW_BIN#$VW_ROOT/}" bash -c "DEB_BUILD_OPTIONS=noddebs make -s deb DEB_OBJDIR='${VW_BIN#$VW_ROOT/}' \
	>'$VW_TMP/deb.log' 2>&1 || { tail -30 '$VW_TMP/deb.log'; exit 1; }"
log "---- make deb took $((($(_now_ms) - t0) / 1000)) s"
check "$DEB built" test -s "$DEB"
check "no build leftovers in debian/" bash -c "! ls -d debian/vwire debian/.debhelper debian/files debian/debhelper-build-stamp 2>/dev/null"
lintian "build/vwire_${VERSION}_${ARCH}.changes" >"$VW_TMP/lintian.out" 2>&1 || true
log "lintian:"
grep -v 'running with root privileges' "$VW_TMP/lintian.out" | _indent || true
check "lintian: no error" bash -c "! grep -q '^E:' '$VW_TMP/lintian.out'"
pkgfiles=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print substr($6, 2) }' | sort)
expect_eq "dpkg -c: the package's files" "$(
	{
		expected_files /usr /lib/systemd/system | grep -v '/man8/'
		for f in man/*.8; do echo "/usr/share/man/man8/${f#man/}.gz"; done
		printf '%s\n' /usr/share/doc/vwire/README.md.gz /usr/share/doc/vwire/changelog.gz /usr/share/doc/vwire/copyright
	} | sort)" "$pkgfiles"
check "dpkg -c: the unit starts /usr/sbin/vwired -f" bash -c \
	"dpkg-deb --fsys-tarfile '$DEB' | tar -xO ./lib/systemd/system/vwired.service | grep -qx 'ExecStart=/usr/sbin/vwired -f'"

# The throwaway root: in a mount namespace of its own (held by a sleeping
# process), a tmpfs with an overlay whose lower layer is / (read-only to
# it) and /dev, /proc, /sys; every change dpkg makes lands in the tmpfs.
vw_bg unshare -m --propagation private sleep 600
NSP=$VW_BG_PID
wait_until 10 "a mount namespace for the throwaway root" \
	bash -c "[ \"\$(readlink /proc/$NSP/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ]"
O=$VW_TMP/ovl R=$VW_TMP/ovl/root
mkdir -p "$O"
check "overlay over / in the namespace" nsenter -t "$NSP" -m sh -ec "
	mount -t tmpfs vwtl-root '$O'
	mkdir '$O/upper' '$O/work' '$R'
	mount -t overlay vwtl-root -o lowerdir=/,upperdir='$O/upper',workdir='$O/work' '$R'
	mount --rbind /dev '$R/dev'
	mount -t proc proc '$R/proc'
	mount --rbind /sys '$R/sys'
	mount -t tmpfs tmpfs '$R/run'
	mount -t tmpfs tmpfs '$R/tmp'
	cp '$DEB' '$R/tmp/vwire.deb'"
inroot() { nsenter -t "$NSP" -m chroot "$R" "$@"; }
check "vwire is not installed in the throwaway root before" bash -c "! nsenter -t $NSP -m chroot '$R' dpkg -s vwire >/dev/null 2>&1"
check "no systemd running as PID 1 there (as here)" bash -c "! nsenter -t $NSP -m chroot '$R' test -d /run/systemd/system"
check "dpkg -i vwire.deb" inroot dpkg -i /tmp/vwire.deb
check "man -w vwadm finds the page" inroot bash -c "man -w vwadm | grep -qx /usr/share/man/man8/vwadm.8.gz"
check "man -w vwired finds the page" inroot bash -c "man -w vwired | grep -qx /usr/share/man/man8/vwired.8.gz"
check "/usr/sbin/vwired --help" inroot bash -c "/usr/sbin/vwired --help | grep -q '^usage: vwired'"
for f in $PROGRAMS; do
	expect_eq "$f on root's PATH" /usr/sbin/$f \
		"$(inroot env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh -c "command -v $f" 2>&1 || true)"
done
check "the unit is enabled (multi-user.target.wants)" inroot bash -c \
	"[ \"\$(readlink /etc/systemd/system/multi-user.target.wants/vwired.service)\" = /lib/systemd/system/vwired.service ]"
check "a saved state appears (as vwired would save it)" inroot sh -c "mkdir -p /var/lib/vwire && echo '# state' >/var/lib/vwire/vwire.conf"
check "dpkg -r vwire" inroot dpkg -r vwire
check "removed: /usr/sbin/vwired is gone" inroot test ! -e /usr/sbin/vwired
check "removed: the state is kept" inroot test -s /var/lib/vwire/vwire.conf
check "apt-get purge -y vwire" inroot env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq vwire
check "purged: the state is gone" inroot test ! -e /var/lib/vwire
check "purged: the unit is no longer enabled" inroot test ! -L /etc/systemd/system/multi-user.target.wants/vwired.service
check "purged: dpkg knows no vwire" bash -c "! nsenter -t $NSP -m chroot '$R' dpkg -s vwire >/dev/null 2>&1"
left=$(nsenter -t "$NSP" -m find "$O/upper" \( -iname '*vwire*' -o -iname 'vwired*' -o -name vwadm -o -name vwstat -o -name vwsnoop \
	-o -name 'vwadm.8*' -o -name 'vwstat.8*' -o -name 'vwsnoop.8*' \) ! -path "$O/upper/tmp/*" -printf '%P\n' | sort)
expect_eq "nothing of vwire left in the throwaway root after the purge" "" "$left"
vw_bg_stop "$NSP" KILL
check "the throwaway root is gone with its namespace" bash -c "! grep -q ' $R ' /proc/self/mountinfo"
