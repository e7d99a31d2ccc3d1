#!/usr/bin/env bash
# Runs every vwire test and ends with one line "N passed, N failed".
#   tests/run.sh            unit tests, sanitizer unit tests, system tests
#   tests/run.sh --unit     unit tests only (both builds)
#   tests/run.sh NAME...    only the system tests named (t_NAME.sh)
# System tests run with the kernel fast path (vwired's default); the tests
# of forwarding semantics (FASTPATH_OFF_TESTS) run again with
# VWT_FASTPATH=off (vwired --fastpath=off), each counted as a test of its
# own, "t_NAME/off".
# Unit tests count one per cmocka test; a skipped one (cmocka's skip(): the
# test cannot run here, e.g. test_fastpath without BPF) counts as neither,
# and the runner says how many were; a system test script counts as one,
# and so does tests/layers.sh (run with the unit tests: no #include against
# the direction of calls).
# The full run also runs each fuzzer built by `make fuzz-build` for
# FUZZ_SECONDS (30) and counts it as one test, passed if it found no crash
# (VWT_FUZZ=0 leaves them out).
# Every system test cleans up after itself; this runner also removes any
# daemon, zone or link that a killed test may have left (all are named vwt*).
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0 failures=()
log_dir=${VWT_LOG_DIR:-build/test-logs}
mkdir -p "$log_dir"

run_unit() {   # $1: binary
	local bin=$1 name out p f s rc=0
	name=${bin#build/}
	out=$("$bin" 2>&1) || rc=$?
	echo "$out" > "$log_dir/${name//\//_}.log"
	# one PASSED/FAILED line per cmocka group: add them up
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s += $1} END {print s + 0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s += $1} END {print s + 0}')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s += $1} END {print s + 0}')
	p=${p:-0} f=${f:-0} s=${s:-0}
	# crashed before reporting, or between two groups
	if [ "$f" = 0 ] && { { [ "$p" = 0 ] && [ "$s" = 0 ]; } || [ "$rc" != 0 ]; }; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	[ "$f" -gt 0 ] && failures+=("$name") && echo "$out" | grep -E 'FAILED|ERROR|Sanitizer|runtime error' | head -20
	if [ "$s" -gt 0 ]; then
		printf '%-40s %3d passed, %d failed, %d skipped: %s\n' "$name" "$p" "$f" "$s" \
			"$(grep -m1 -o 'skipped: .*' <<<"$out" | cut -c10-)"
	else
		printf '%-40s %3d passed, %d failed\n' "$name" "$p" "$f"
	fi
}

# The forwarding tests run again on the userspace datapath alone
FASTPATH_OFF_TESTS="vlans phys restart churn bad_input offload two_zones mtu aggr tunnel"

run_system() {   # $1: script [$2: suffix of the name, for VWT_FASTPATH=off]
	local t=$1 name start rc
	name=$(basename "$t" .sh)${2:-}
	start=$(date +%s)
	timeout -k 10 600 bash "$t" > "$log_dir/${name//\//_}.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1)); printf '%-40s ok (%ds)\n' "$name" $(( $(date +%s) - start ))
	else
		failed=$((failed + 1)); failures+=("$name")
		printf '%-40s FAILED (exit %d, %ds); last lines of %s:\n' "$name" $rc $(( $(date +%s) - start )) "$log_dir/${name//\//_}.log"
		tail -15 "$log_dir/${name//\//_}.log" | sed 's/^/    /'
	fi
	bash tests/system/sweep.sh >/dev/null 2>&1
}

run_check() {   # $1: a script that checks the sources (no build, no root)
	local name rc
	name=$(basename "$1" .sh)
	bash "$1" > "$log_dir/$name.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1)); printf '%-40s ok\n' "$name"
	else
		failed=$((failed + 1)); failures+=("$name")
		printf '%-40s FAILED (exit %d):\n' "$name" $rc
		tail -15 "$log_dir/$name.log" | sed 's/^/    /'
	fi
}

run_fuzz() {   # $1: harness binary
	local name start rc
	name=$(basename "$1")
	start=$(date +%s)
	bash fuzz/run.sh "$name" > "$log_dir/$name.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		printf '%-40s ok (%ds) %s\n' "$name" $(( $(date +%s) - start )) \
			"$(awk 'END {print $3 " execs, cov " $4 ", ft " $5}' "$log_dir/$name.log")"
	else
		failed=$((failed + 1)); failures+=("$name")
		printf '%-40s FAILED (%ds); last lines of %s:\n' "$name" $(( $(date +%s) - start )) "$log_dir/$name.log"
		tail -15 "$log_dir/$name.log" | sed 's/^/    /'
	fi
}

unit_only=0 only=()
for a in "$@"; do
	case "$a" in --unit) unit_only=1 ;; *) only+=("$a") ;; esac
done

if [ ${#only[@]} = 0 ]; then
	run_check tests/layers.sh
	for b in build/tests/test_* build/asan/tests/test_*; do
		[ -x "$b" ] && run_unit "$b"
	done
	if [ $unit_only = 0 ] && [ "${VWT_FUZZ:-1}" != 0 ]; then
		for b in build/fuzz/fuzz_*; do
			[ -f "$b" ] && [ -x "$b" ] && run_fuzz "$b"
		done
	fi
fi
if [ $unit_only = 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "system tests need root; skipped" >&2
	else
		if [ ${#only[@]} = 0 ]; then
			scripts=(tests/system/t_*.sh)
		else
			scripts=(); for n in "${only[@]}"; do scripts+=("tests/system/t_$n.sh"); done
		fi
		for t in "${scripts[@]}"; do
			[ -f "$t" ] && run_system "$t"
		done
		for t in "${scripts[@]}"; do
			n=$(basename "$t" .sh); n=${n#t_}
			case " $FASTPATH_OFF_TESTS " in
			*" $n "*) [ -f "$t" ] && VWT_FASTPATH=off run_system "$t" /off ;;
			esac
		done
	fi
fi
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
[ "$skipped" -gt 0 ] && echo "$skipped skipped (neither passed nor failed)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
