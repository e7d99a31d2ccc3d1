#!/usr/bin/env bash
# The control socket (issue 11, findings 7, 8, 9): idle connections cannot
# lock the administrator out, a client that sends half a request or nothing
# is closed after the timeout (captures and `vwstat -i` are not cut),
# `--socket PATH` never removes what is not a socket, the socket is 0600
# (or 0660 with --socket-group) from the moment it exists whatever the
# umask, and what a client may do follows its credentials: read-only
# commands for the socket's group, changes for root or CAP_NET_ADMIN,
# captures for root or CAP_NET_RAW; a user the socket is closed to is told
# so, not that no daemon runs.
#
# The first four parts use only options the daemon always had, and record
# a failure and go on (soft checks), so a run against an old build shows
# each finding; the later ones need --client-timeout and --socket-group.
VWT_OWN="vwtcs"
. "$(dirname "$0")/lib.sh"

STUB=vwtcs0 STUB2=vwtcs1
GRP=64123       # a group no one is in (a number: /etc/group is not touched)
NOBODY=65534
PY=$VW_TMP/hold.py
[ -x "$VW_BIN/vwsnoop" ] || fail "$VW_BIN/vwsnoop is not built (make all)"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
[ -z "$(getent group $GRP)" ] || fail "group $GRP exists here; the test needs a GID no one uses"

# as_user [SETPRIV OPTIONS] -- CMD...: CMD as uid/gid 65534 with no groups
# but those the options give.  It replaces the shell it runs in (so that
# vw_bg's pid is CMD's own): call it in a subshell only.
as_user() {
	local -a o=()
	[ "$BASH_SUBSHELL" -gt 0 ] || fail "as_user must run in a subshell"
	while [ "$1" != -- ]; do o+=("$1"); shift; done
	shift
	exec setpriv --reuid=$NOBODY --regid=$NOBODY "${o[@]}" env VWIRE_SOCKET="$VW_SOCK" "$@"
}
# out_of CMD...: CMD's stderr and stdout and exit status ("... rc=N").
out_of() { local rc=0 out; out=$("$@" 2>&1) || rc=$?; printf '%s rc=%d' "$out" $rc; }

cat >"$PY" <<'EOF'
import socket, sys, time
# hold N PATH [REQUEST]: N connections that send nothing (or the start of a
# request) and wait to be killed.
# wait PATH SECS [DATA]: one connection that sends DATA (maybe nothing) and
# prints what the daemon sends, then "closed" and after how many seconds
# (whole), or "open" if it did not close within SECS.
# noread PATH N: N show-link requests at once, whose replies are not read
# for 5 s; then prints "closed" if the daemon closed the connection
# (after what it had sent), "open" if it goes on answering.
mode, path = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
if mode == "noread":
    s = conn()
    s.sendall(b"arg=show-link\n\n" * int(sys.argv[3]))
    time.sleep(5)
    s.settimeout(3)
    try:
        while s.recv(65536):
            pass
        print("closed")
    except socket.timeout:
        print("open")
    except ConnectionResetError:
        print("closed")
elif mode == "hold":
    held = [conn() for _ in range(int(sys.argv[3]))]
    print("held %d" % len(held), flush=True)
    time.sleep(3600)
else:
    s = conn()
    if len(sys.argv) > 4:
        s.sendall(sys.argv[4].encode().decode("unicode_escape").encode())
    t0 = time.time()
    s.settimeout(float(sys.argv[3]))
    got = b""
    try:
        while True:
            c = s.recv(4096)
            if not c:
                break
            got += c
        print(got.decode(errors="replace").strip().replace("\n", "|"))
        print("closed")
        print(int(time.time() - t0))
    except socket.timeout:
        print(got.decode(errors="replace").strip().replace("\n", "|"))
        print("open")
EOF

log "---- finding 8: --socket PATH never removes what is not a socket"
# run_on PATH: vwired on PATH (5 s at most: an old daemon would serve)
run_on() { out_of timeout 5 "$VW_BIN/vwired" -f --socket "$1" --state-dir "$VW_STATE"; }
echo precious >"$VW_TMP/file"
out=$(run_on "$VW_TMP/file")
soft_expect_eq "a regular file at PATH is left as it was" precious "$(cat "$VW_TMP/file" 2>/dev/null || echo '(gone)')"
soft_expect_eq "and vwired refuses to start, saying why" \
	"vwired: $VW_TMP/file exists and is a regular file, not a socket; refusing to replace it rc=1" "$out"
ln -s "$VW_TMP/file" "$VW_TMP/link"
out=$(run_on "$VW_TMP/link")
soft_expect_eq "a symbolic link at PATH is left as it was" "$VW_TMP/file" "$(readlink "$VW_TMP/link" || echo '(gone)')"
soft_expect_eq "and vwired refuses to start" \
	"vwired: $VW_TMP/link exists and is a symbolic link, not a socket; refusing to replace it rc=1" "$out"
mkdir "$VW_TMP/dir"
out=$(run_on "$VW_TMP/dir")
soft_expect_eq "a directory at PATH: vwired refuses to start" \
	"vwired: $VW_TMP/dir exists and is a directory, not a socket; refusing to replace it rc=1" "$out"

log "---- finding 8: the socket is 0600 from the moment it exists, whatever the umask"
# a shim records the socket's mode and group right after bind() returns,
# before the daemon can do anything more to it
cat >"$VW_TMP/bindlog.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = dlsym(RTLD_NEXT, "bind");
	const char *log = getenv("VWTCS_BIND_LOG");
	int rc = real(fd, sa, len);
	struct stat st;
	FILE *f;

	if (rc == 0 && log && sa->sa_family == AF_UNIX && lstat(((const struct sockaddr_un *)sa)->sun_path, &st) == 0 &&
	    (f = fopen(log, "a"))) {
		fprintf(f, "mode=%o gid=%u\n", (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
		fclose(f);
	}
	return rc;
}
EOF
check "build the bind() shim" cc -shared -fPIC -o "$VW_TMP/bindlog.so" "$VW_TMP/bindlog.c" -ldl
umask 000
VWTCS_BIND_LOG=$VW_TMP/bind.log LD_PRELOAD=$VW_TMP/bindlog.so vw_start
umask 022
soft_expect_eq "at bind() time, under umask 000, the socket is 0600 root's" "mode=600 gid=0" "$(cat "$VW_TMP/bind.log")"
soft_expect_eq "and it stays so" "600 0 0" "$(stat -c '%a %u %g' "$VW_SOCK")"

log "---- finding 9: a user the socket is closed to is told so, not that no daemon runs"
out=$(out_of as_user --clear-groups -- "$VW_BIN/vwadm" show-link)
soft_expect_eq "uid $NOBODY: vwadm show-link" \
	"vwadm: cannot connect to vwired at $VW_SOCK: Permission denied (the socket is for root only; ask an administrator for access) rc=1" \
	"$out"
out=$(out_of as_user --clear-groups -- "$VW_BIN/vwstat")
soft_expect_eq "uid $NOBODY: vwstat" \
	"vwstat: cannot connect to vwired at $VW_SOCK: Permission denied (the socket is for root only; ask an administrator for access) rc=1" \
	"$out"
out=$(out_of env VWIRE_SOCKET=$VW_TMP/none.sock "$VW_BIN/vwadm" show-link)
expect_eq "no socket at all is still 'no daemon'" \
	"vwadm: no daemon at $VW_TMP/none.sock (No such file or directory); start one with 'vwired' or set VWIRE_SOCKET rc=1" "$out"

log "---- finding 7: 200 idle connections (as root) do not lock the administrator out"
check "create etherstub $STUB" vwadm create-etherstub "$STUB"
vw_bg python3 "$PY" hold "$VW_SOCK" 200 >"$VW_TMP/hold.out" 2>&1
HOLD=$VW_BG_PID
wait_until 20 "200 idle connections opened" grep -q "held 200" "$VW_TMP/hold.out"
t0=$(_now_ms)
out=$(out_of timeout 10 "$VW_BIN/vwadm" show-link -p -o link "$STUB")
t1=$(_now_ms)
soft_expect_eq "vwadm show-link answers while they are held" "$STUB rc=0" "$out"
soft_expect_eq "at once (within 2 s; took $((t1 - t0)) ms)" yes "$([ $((t1 - t0)) -lt 2000 ] && echo yes || echo no)"
out=$(out_of timeout 10 "$VW_BIN/vwadm" create-etherstub "$STUB2")
soft_expect_eq "and a change goes through too" " rc=0" "$out"
vw_bg_stop "$HOLD" KILL
vwadm delete-etherstub "$STUB2" >/dev/null 2>&1 || true
check "delete etherstub $STUB" vwadm delete-etherstub "$STUB"
soft_done
vw_stop

log "---- the new options' values"
out=$(out_of "$VW_BIN/vwired" -f --socket "$VW_SOCK" --client-timeout 0)
expect_eq "--client-timeout 0 is a usage error" \
	"vwired: invalid client timeout '0' (SECONDS[,IDLE_SECONDS], 1-86400 each) rc=2" "$out"
out=$(out_of "$VW_BIN/vwired" -f --socket "$VW_SOCK" --client-timeout 5,x)
expect_eq "--client-timeout 5,x is a usage error" \
	"vwired: invalid client timeout '5,x' (SECONDS[,IDLE_SECONDS], 1-86400 each) rc=2" "$out"
out=$(out_of "$VW_BIN/vwired" -f --socket "$VW_SOCK" --socket-group vwtcs_nosuchgroup)
expect_eq "--socket-group of an unknown group is a usage error" "vwired: unknown group 'vwtcs_nosuchgroup' rc=2" "$out"

log "---- timeouts (--client-timeout 2,4: a request within 2 s, idle 4 s)"
vw_start --client-timeout 2,4
# closed_within LO HI OUTPUT: the wait's seconds are in [LO, HI] (the
# deadlines are checked on the daemon's one-second tick)
closed_within() { local t; t=$(tail -1 <<<"$3"); [ "$t" -ge "$1" ] && [ "$t" -le "$2" ]; }
out=$(python3 "$PY" wait "$VW_SOCK" 8 'arg=show-link\narg=-p')
expect_eq "half a request: told and closed" \
	"status=11|message=vwired: request not complete after 2 s; connection closed
closed" "$(head -2 <<<"$out")"
check "after 2 s (took $(tail -1 <<<"$out") s)" closed_within 2 3 "$out"
out=$(python3 "$PY" wait "$VW_SOCK" 10)
expect_eq "a connection that sends nothing: told and closed" \
	"status=11|message=vwired: connection idle for 4 s; closed
closed" "$(head -2 <<<"$out")"
check "after 4 s (took $(tail -1 <<<"$out") s)" closed_within 4 5 "$out"
check "create etherstub $STUB (temporary)" vwadm create-etherstub -t "$STUB"
expect_eq "a client that does not take its replies (5000 requests at once, ~450 KB of replies) is closed" \
	closed "$(python3 "$PY" noread "$VW_SOCK" 5000)"
check "and the daemon goes on" vwadm show-link "$STUB"
out=$(vwstat -i 5 -c 2 -p -o link,ipkts "$STUB" 2>&1)
expect_eq "vwstat -i 5 (more than the idle timeout) samples on" "$STUB:0
$STUB:0" "$out"
vw_bg "$VW_BIN/vwsnoop" -l "$STUB" >"$VW_TMP/snoop.out" 2>"$VW_TMP/snoop.err"
SNOOP=$VW_BG_PID
wait_until 10 "vwsnoop captures on $STUB" grep -q "^capturing on" "$VW_TMP/snoop.err"
sleep 6
check "a capture quiet for longer than the idle timeout is not cut" _vw_alive "$SNOOP"
kill -INT "$SNOOP"
_poll 10 _vw_dead "$SNOOP" || fail "vwsnoop did not end on SIGINT"
rc=0
wait "$SNOOP" || rc=$?
expect_eq "it ends when asked, cleanly" "0: 0 packets captured, 0 dropped" "$rc: $(tail -1 "$VW_TMP/snoop.err")"
vw_stop

log "---- permissions: --socket-group $GRP"
rm -f "$VW_TMP/bind.log"
VWTCS_BIND_LOG=$VW_TMP/bind.log LD_PRELOAD=$VW_TMP/bindlog.so vw_start --socket-group $GRP
expect_eq "at bind() time the socket is 0660, group $GRP" "mode=660 gid=$GRP" "$(cat "$VW_TMP/bind.log")"
expect_eq "and it stays so" "660 0 $GRP" "$(stat -c '%a %u %g' "$VW_SOCK")"
check "create etherstub $STUB" vwadm create-etherstub "$STUB"
G=(--groups=$GRP --)
out=$(as_user "${G[@]}" "$VW_BIN/vwadm" show-link -p -o link "$STUB" 2>&1)
expect_eq "group member: vwadm show-link" "$STUB" "$out"
out=$(as_user "${G[@]}" "$VW_BIN/vwstat" -p -o link "$STUB" 2>&1)
expect_eq "group member: vwstat" "$STUB" "$out"
check "group member: vwadm export" as_user "${G[@]}" "$VW_BIN/vwadm" export
out=$(out_of as_user "${G[@]}" "$VW_BIN/vwadm" create-etherstub "$STUB2")
expect_eq "group member: create-etherstub refused" \
	"vwadm: permission denied: 'create-etherstub' needs root or CAP_NET_ADMIN rc=1" "$out"
out=$(out_of as_user "${G[@]}" "$VW_BIN/vwadm" delete-etherstub "$STUB")
expect_eq "group member: delete-etherstub refused" \
	"vwadm: permission denied: 'delete-etherstub' needs root or CAP_NET_ADMIN rc=1" "$out"
expect_eq "nothing changed" "$STUB" "$(vwadm show-etherstub -p -o link)"
out=$(out_of as_user "${G[@]}" "$VW_BIN/vwsnoop" -c 1 -l "$STUB")
expect_eq "group member: vwsnoop refused" "vwsnoop: permission denied: 'snoop' needs root or CAP_NET_RAW rc=1" "$out"
NA=(--groups=$GRP --inh-caps=+net_admin --ambient-caps=+net_admin --)
check "group member with CAP_NET_ADMIN: create-etherstub" as_user "${NA[@]}" "$VW_BIN/vwadm" create-etherstub "$STUB2"
check "group member with CAP_NET_ADMIN: delete-etherstub" as_user "${NA[@]}" "$VW_BIN/vwadm" delete-etherstub "$STUB2"
out=$(out_of as_user "${NA[@]}" "$VW_BIN/vwsnoop" -c 1 -l "$STUB")
expect_eq "CAP_NET_ADMIN is not CAP_NET_RAW: vwsnoop refused" \
	"vwsnoop: permission denied: 'snoop' needs root or CAP_NET_RAW rc=1" "$out"
vw_bg as_user --groups=$GRP --inh-caps=+net_raw --ambient-caps=+net_raw -- \
	"$VW_BIN/vwsnoop" -l "$STUB" >"$VW_TMP/snoop.out" 2>"$VW_TMP/snoop.err"
SNOOP=$VW_BG_PID
wait_until 10 "group member with CAP_NET_RAW: vwsnoop captures" grep -q "^capturing on" "$VW_TMP/snoop.err"
vw_bg_stop "$SNOOP" INT
out=$(out_of as_user --groups=$GRP --inh-caps=+net_raw --ambient-caps=+net_raw -- \
	"$VW_BIN/vwadm" create-etherstub "$STUB2")
expect_eq "CAP_NET_RAW is not CAP_NET_ADMIN: create-etherstub refused" \
	"vwadm: permission denied: 'create-etherstub' needs root or CAP_NET_ADMIN rc=1" "$out"
if (as_user "${G[@]}" unshare -U -r true 2>/dev/null); then
	out=$(out_of as_user "${G[@]}" unshare -U -r "$VW_BIN/vwadm" create-etherstub "$STUB2")
	expect_eq "root of its own user namespace (all capabilities there) is no administrator here" \
		"vwadm: permission denied: 'create-etherstub' needs root or CAP_NET_ADMIN rc=1" "$out"
else
	log "---- skipped: unprivileged user namespaces are not available"
fi
out=$(out_of as_user --clear-groups -- "$VW_BIN/vwadm" show-link)
expect_eq "not in the group: told the socket is closed to it" \
	"vwadm: cannot connect to vwired at $VW_SOCK: Permission denied (the socket is for root and group $GRP; ask an administrator for access) rc=1" \
	"$out"

log "---- slots: idle non-root clients fill at most their share"
vw_bg as_user "${G[@]}" python3 "$PY" hold "$VW_SOCK" 200 >"$VW_TMP/hold.out" 2>&1
HOLD=$VW_BG_PID
wait_until 20 "200 idle connections opened by a group member" grep -q "held 200" "$VW_TMP/hold.out"
out=$(out_of as_user "${G[@]}" "$VW_BIN/vwadm" show-link -p -o link "$STUB")
expect_eq "another group member still gets in (the longest-idle gives way)" "$STUB rc=0" "$out"
check "root gets in at once" timeout 2 "$VW_BIN/vwadm" show-link "$STUB"
vw_bg_stop "$HOLD" KILL
vw_stop
