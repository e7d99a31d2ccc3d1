#!/usr/bin/env bash
# State file integrity (issue 11, findings 1-3).
#   nul:    a NUL byte at a line boundary: the daemon refuses to start (with
#           or without -f), names the line, keeps vwire.conf.failed, leaves
#           the file as it was and nothing behind; --force-state starts with
#           the lines that apply and rewrites the file whole.
#   cut:    a file cut inside a name, or at a line boundary, is refused; an
#           earlier version's file (no end line) is taken and rewritten with
#           one, unless it is cut inside a line.
#   apply:  a line that parses but fails when replayed: refused, and the zone
#           and VNIC the replay made before it are gone; --force-state goes on.
#   faults: with tests/fault/faultfs.so preloaded, each of open, write (ENOSPC,
#           short write then ENOSPC, no progress with errno 0), fsync, close,
#           rename and the directory's open and fsync fails in turn: the
#           command reports the failure naming the step and its cause, the old
#           file is byte-identical, no .new is left, the daemon still serves.
#           The table is printed at the end ($VW_TMP/faults.txt).
# Usage: t_state.sh [SECTION...]   (default: all four)
VWT_OWN="vwtst"
. "$(dirname "$0")/lib.sh"

CONF=$VW_STATE/vwire.conf
SHIM=$VW_BIN/tests/faultfs.so
SECTIONS=${*:-nul cut apply faults}

# start_refused DESC [ARGS...]: vwired -f must exit 1 without ever serving;
# its stderr is left in $VW_TMP/refused.log, and the links there were before
# (with the kernel fast path, the faces the last daemon left) in LINKS_BEFORE.
start_refused() {
	local desc=$1 pid rc=0 deadline
	shift
	VW_NCHECK=$((VW_NCHECK + 1))
	LINKS_BEFORE=$(own_links)
	"$VW_BIN/vwired" -f --socket "$VW_SOCK" --state-dir "$VW_STATE" "$@" 2>"$VW_TMP/refused.log" &
	pid=$!
	deadline=$(($(_now_ms) + 15000))
	while _vw_alive $pid; do
		if vwadm show-link >/dev/null 2>&1; then
			kill -TERM $pid
			wait $pid || true
			fail "$desc: vwired started and serves (log: $(cat "$VW_TMP/refused.log"))"
		fi
		[ "$(_now_ms)" -lt $deadline ] || { kill -KILL $pid; fail "$desc: vwired neither served nor exited"; }
		sleep 0.05
	done
	wait $pid || rc=$?
	[ $rc = 1 ] || fail "$desc: vwired exited with status $rc, not 1 (log: $(cat "$VW_TMP/refused.log"))"
	log "ok   - $desc (exit 1)"
	sed 's/^/     | /' "$VW_TMP/refused.log"
}

# expect_log DESC TEXT: the refused start's stderr has TEXT (a fixed string).
expect_log() {
	VW_NCHECK=$((VW_NCHECK + 1))
	grep -qF -- "$2" "$VW_TMP/refused.log" || fail "$1: no '$2' in: $(cat "$VW_TMP/refused.log")"
	log "ok   - $1"
}

same() { cmp -s "$1" "$2"; }
line_of() { grep -an -- "$2" "$1" | head -1 | cut -d: -f1; }
# the test's links, with their ifindexes, in the host and its zones
own_links() {
	local z
	ip -o link show | grep ': vwtst' | cut -d' ' -f1,2 || true
	for z in $(ip netns list | awk '{print $1}' | grep '^vwtst'); do
		ip -n "$z" -o link show | grep ': vwtst' | sed "s/^/$z /" | cut -d' ' -f1-3 || true
	done
}
# a refused start made no link (and removed none): the links are those
# there were before it (none, unless the fast path's faces outlived the
# last daemon)
no_own_links() { [ "$(own_links)" = "$LINKS_BEFORE" ]; }
# seal FILE: appends the end line vwired writes (python's zlib.crc32 is the same CRC-32).
seal() {
	python3 - "$1" <<'EOF'
import sys, zlib
p = sys.argv[1]
d = open(p, 'rb').read()
open(p, 'ab').write(b'# end: %d lines, crc32 %08x\n' % (d.count(b'\n'), zlib.crc32(d)))
EOF
}
reset_state() { rm -rf "$VW_STATE"; mkdir -p "$VW_STATE"; }

# ---- finding 1: a NUL byte at a line boundary -------------------------------------------------------------
section_nul() {
	log "==== nul"
	reset_state
	vw_start
	check "zone vwtstz1" vwadm create-zone vwtstz1
	check "etherstub vwtsts1" vwadm create-etherstub vwtsts1
	check "VNIC vwtstv1 in vwtstz1" vwadm create-vnic -l vwtsts1 -p zone=vwtstz1 vwtstv1
	check "address on vwtstv1" vwadm create-addr -a 10.203.1.1/24 vwtstv1
	check "VNIC vwtstv2 in vwtstz1" vwadm create-vnic -l vwtsts1 -p zone=vwtstz1 vwtstv2
	check "address on vwtstv2" vwadm create-addr -a 10.203.1.2/24 vwtstv2
	vw_stop
	cp "$CONF" "$VW_TMP/whole"
	# the issue's reproduction: a NUL byte before the first create-vnic
	python3 -c "p='$CONF';d=open(p,'rb').read();i=d.index(b'create-vnic');open(p,'wb').write(d[:i]+b'\0'+d[i:])"
	cp "$CONF" "$VW_TMP/corrupt"
	local n
	n=$(line_of "$CONF" create-vnic)
	start_refused "vwired -f refuses a state file with a NUL byte"
	expect_log "the NUL byte is named with its line" "vwired: $CONF:$n: NUL byte in line"
	expect_log "the damaged end line is named too" "the file is damaged"
	expect_log "it says it does not start, and where the file is kept" "kept in $CONF.failed"
	check "vwire.conf is left as it was (byte-identical)" same "$VW_TMP/corrupt" "$CONF"
	check "vwire.conf.failed holds the file as it was" same "$VW_TMP/corrupt" "$CONF.failed"
	check "no VNIC was made" no_own_links
	check_fail "no daemon answers" vwadm show-link

	log "---- without -f: the parent exits 1 and the reason is on its stderr"
	local rc=0
	timeout 30 "$VW_BIN/vwired" --socket "$VW_SOCK" --state-dir "$VW_STATE" 2>"$VW_TMP/refused.log" || rc=$?
	expect_eq "vwired (forking) exits 1" 1 $rc
	expect_log "and says why on stderr" "vwired: $CONF:$n: NUL byte in line"
	check_fail "no daemon answers" vwadm show-link
	check "vwire.conf still as it was" same "$VW_TMP/corrupt" "$CONF"
	check "vwire.conf.failed still as it was" same "$VW_TMP/corrupt" "$CONF.failed"

	log "---- --force-state: go on with the lines that apply"
	vw_start --force-state
	check "the log says it went on, and where the original is" grep -qF -- "--force-state: going on with the" "$VW_TMP/vwired.log"
	check "vwtstv2 (after the NUL line) is back" vwadm show-vnic vwtstv2
	check_fail "vwtstv1 (the NUL line) is not" vwadm show-vnic vwtstv1
	check "vwtstv2's address is back" bash -c "vwadm show-addr -p -o addr vwtstv2 | grep -qx '10.203.1.2/24'"
	check "vwire.conf.failed is kept as it was" same "$VW_TMP/corrupt" "$CONF.failed"
	check "vwire.conf was rewritten whole, with an end line" bash -c "tail -1 '$CONF' | grep -q '^# end: '"
	check "as the daemon writes every file" bash -c "tail -1 '$VW_TMP/whole' | grep -q '^# end: [0-9]* lines, crc32 [0-9a-f]\{8\}\$'"
	check "vwire.conf has no NUL byte any more" bash -c "! grep -qaP '\\x00' '$CONF'"
	check "a change works" vwadm create-etherstub vwtsts9
	check "a change never touches vwire.conf.failed" same "$VW_TMP/corrupt" "$CONF.failed"
	vw_stop
	vw_start
	check "the rewritten file starts without --force-state" vwadm show-vnic vwtstv2
	vw_stop
	check "vwire.conf.failed still kept" same "$VW_TMP/corrupt" "$CONF.failed"
}

# ---- finding 2: a file cut short --------------------------------------------------------------------------
section_cut() {
	log "==== cut"
	reset_state
	vw_start
	check "zone vwtstz2" vwadm create-zone vwtstz2
	check "etherstub vwtsts2" vwadm create-etherstub vwtsts2
	check "VNIC vwtstv3 in vwtstz2" vwadm create-vnic -l vwtsts2 -p zone=vwtstz2 vwtstv3
	check "VNIC vwtstrtvnic in vwtstz2" vwadm create-vnic -l vwtsts2 -p zone=vwtstz2 vwtstrtvnic
	check "address on vwtstrtvnic" vwadm create-addr -a 10.203.2.1/24 vwtstrtvnic
	vw_stop
	cp "$CONF" "$VW_TMP/whole"
	# the issue's reproduction: cut inside a name, so the rest parses
	python3 -c "p='$CONF';d=open(p,'rb').read();i=d.index(b'vwtstrtvnic\n');open(p,'wb').write(d[:i+8])"
	check "the file ends inside the name" bash -c "tail -c 40 '$CONF' | grep -q 'zone=vwtstz2 vwtstrtv\$'"
	cp "$CONF" "$VW_TMP/cut"
	local n
	n=$(line_of "$CONF" vwtstrtv)
	start_refused "vwired refuses a file cut inside a name"
	expect_log "the cut is named with its line" "vwired: $CONF:$n: the last line has no newline: the file is cut short"
	check "no VNIC vwtstrtv (or any) was made" no_own_links
	check "vwire.conf is left as it was" same "$VW_TMP/cut" "$CONF"
	check "vwire.conf.failed holds it" same "$VW_TMP/cut" "$CONF.failed"

	log "---- cut at a line boundary: the end line is missing"
	rm -f "$CONF.failed"
	head -n -2 "$VW_TMP/whole" >"$CONF"
	cp "$CONF" "$VW_TMP/cut2"
	start_refused "vwired refuses a file cut at a line boundary"
	expect_log "no end line, named with the last line" "vwired: $CONF:$(wc -l <"$CONF"): no end line after this one: the file is cut short"
	check "no VNIC was made" no_own_links
	check "vwire.conf is left as it was" same "$VW_TMP/cut2" "$CONF"

	log "---- one byte changed: the checksum tells"
	rm -f "$CONF.failed"
	sed 's/10.203.2.1/10.203.2.7/' "$VW_TMP/whole" >"$CONF"
	start_refused "vwired refuses a file whose bytes changed"
	expect_log "the end line is named" "vwired: $CONF:$(wc -l <"$CONF"): the end line says"

	log "---- an earlier version's file (no end line) is taken, once, and rewritten with one"
	rm -f "$CONF.failed"
	{ echo '# vwire configuration, written by vwired; `vwadm export` prints it'; grep -v '^#' "$VW_TMP/whole"; } >"$CONF"
	cp "$CONF" "$VW_TMP/old"
	vw_start
	check "the earlier version's file was replayed" vwadm show-vnic vwtstrtvnic
	check "with a warning" grep -qF "no end line (written by an earlier vwired)" "$VW_TMP/vwired.log"
	check "and rewritten with an end line" bash -c "tail -1 '$CONF' | grep -q '^# end: '"
	vw_stop
	check "no .failed for a file that was whole" test ! -e "$CONF.failed"
	head -c -5 "$VW_TMP/old" >"$CONF"
	start_refused "an earlier version's file cut inside a line is refused"
	expect_log "the cut is named" "the last line has no newline: the file is cut short"
	check "no VNIC was made" no_own_links
}

# ---- a line that does not apply ----------------------------------------------------------------------------
section_apply() {
	log "==== apply"
	reset_state
	ip netns del vwtstz3 2>/dev/null || true
	{
		echo '# vwire state, written by vwired; `vwadm export` prints it; the last line proves it whole'
		echo 'create-zone vwtstz3'
		echo 'create-etherstub vwtsts3'
		echo 'create-vnic -l vwtsts3 -p zone=vwtstz3 vwtstv4'
		echo 'create-vnic -l vwtstnophys -p zone=vwtstz3 vwtstv5'
		echo 'create-vnic -l vwtsts3 -p zone=vwtstz3 vwtstv6'
	} >"$CONF"
	seal "$CONF"
	cp "$CONF" "$VW_TMP/apply"
	start_refused "vwired refuses a file with a line that does not apply"
	expect_log "the failing line is named" "vwired: $CONF:5: "
	expect_log "with the command's reason" "vwtstnophys"
	check "the VNIC the replay made before it is gone" no_own_links
	check "the zone the replay made is gone" bash -c "! ip netns list | grep -q '^vwtstz3\\b'"
	check "vwire.conf is left as it was" same "$VW_TMP/apply" "$CONF"
	check "vwire.conf.failed holds it" same "$VW_TMP/apply" "$CONF.failed"
	vw_start --force-state
	check "--force-state: vwtstv4 is there" vwadm show-vnic vwtstv4
	check "--force-state: vwtstv6 (after the failing line) is there" vwadm show-vnic vwtstv6
	check "vwire.conf.failed is kept as it was" same "$VW_TMP/apply" "$CONF.failed"
	check_fail "the rewritten file no longer has the failing line" grep -q vwtstnophys "$CONF"
	vw_stop
	log "---- a later, different failure never replaces vwire.conf.failed"
	cp "$CONF" "$VW_TMP/second"
	printf 'create-vnic -l vwtstnophys2 vwtstv7\n' >>"$CONF"
	cp "$CONF" "$VW_TMP/second"
	start_refused "the next bad file is refused too"
	check "the first vwire.conf.failed is untouched" same "$VW_TMP/apply" "$CONF.failed"
	check "the second is kept as vwire.conf.failed.1" same "$VW_TMP/second" "$CONF.failed.1"
	expect_log "and the log names it" "kept in $CONF.failed.1"
}

# ---- finding 3: every step of a save fails in turn ----------------------------------------------------------
section_faults() {
	log "==== faults"
	[ -f "$SHIM" ] || fail "$SHIM is not built (make all)"
	reset_state
	local ctl=$VW_TMP/fault row
	echo none >"$ctl"
	LD_PRELOAD=$SHIM FAULTFS_DIR=$VW_STATE FAULTFS_CTL=$ctl vw_start
	check "a first change is saved" vwadm create-etherstub vwtstf0
	printf '%-9s | %-90s | %s\n' FAULT "MESSAGE (vwadm's stderr)" "OLD FILE" >"$VW_TMP/faults.txt"
	local i=0 f want out rc intact
	while IFS='|' read -r f want; do
		i=$((i + 1))
		cp "$CONF" "$VW_TMP/before"
		echo "$f" >"$ctl"
		rc=0
		out=$(vwadm create-etherstub vwtstf$i 2>&1) || rc=$?
		echo none >"$ctl"
		intact=changed
		if same "$VW_TMP/before" "$CONF"; then
			intact=byte-identical
		elif grep -q "^create-etherstub vwtstf$i\$" "$CONF" && tail -1 "$CONF" | grep -q '^# end: '; then
			intact="replaced by the new file, whole"
		fi
		printf '%-9s | %-90s | %s\n' "$f" "$out" "$intact" >>"$VW_TMP/faults.txt"
		# soft: one run shows how every fault fares (on the old code too)
		if [ "$f" = short-ok ]; then
			soft_expect_eq "$f: short writes that go on: the change is saved" "0:" "$rc:$out"
			soft_expect_eq "$f: the file has the change, whole" "replaced by the new file, whole" "$intact"
		else
			soft_expect_eq "$f: the command fails (status 1)" 1 $rc
			soft_expect_eq "$f: the message names the step and its cause" "vwadm: $CONF: $want" "$out"
			if [ "$f" = dirfsync ] || [ "$f" = diropen ]; then
				# after the rename: the new file is in place, whole
				soft_expect_eq "$f: the new file is in place" "replaced by the new file, whole" "$intact"
			else
				soft_expect_eq "$f: the old file is byte-identical" byte-identical "$intact"
			fi
		fi
		check "$f: no vwire.conf.new left" test ! -e "$CONF.new"
		check "$f: the daemon still serves" vwadm show-etherstub vwtstf$i
	done <<EOF
open|cannot save state: open vwire.conf.new: Read-only file system
write|cannot save state: write: No space left on device
short|cannot save state: write: No space left on device
zero|cannot save state: write: Input/output error
fsync|cannot save state: fsync: Input/output error
close|cannot save state: close: Input/output error
rename|cannot save state: rename vwire.conf.new: Input/output error
short-ok|
diropen|saved, but not yet safe on disk: open directory $VW_STATE: Permission denied
dirfsync|saved, but not yet safe on disk: fsync directory $VW_STATE: Input/output error
EOF
	log "---- fault table:"
	sed 's/^/     /' "$VW_TMP/faults.txt"
	check "with no fault, the next change is saved" vwadm create-etherstub vwtstfok
	local all
	all=$(vwadm export)
	vw_stop
	check "the shim logged each fault it injected" grep -c "^faultfs: " "$VW_TMP/vwired.log"
	vw_start
	expect_eq "a restart (no shim) brings back everything, every failed save included" "$all" "$(vwadm export)"
	vw_stop
	soft_done
}

for s in $SECTIONS; do
	"section_$s"
done
