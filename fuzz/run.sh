#!/usr/bin/env bash
# Runs the libFuzzer harnesses built by `make fuzz-build` for a bounded time
# each and prints what they reached.
#   fuzz/run.sh              every build/fuzz/fuzz_* harness
#   fuzz/run.sh NAME...      only these (pkt or fuzz_pkt)
# Environment: FUZZ_SECONDS (30) per harness; FUZZ_NICE (0) niceness;
# FUZZ_ARGS extra libFuzzer options.
# Per harness: the saved reproducers in fuzz/regress/NAME/ are replayed
# first, then it fuzzes with the seeds of fuzz/corpus/NAME/ (read only: new
# inputs go to build/fuzz/corpus/NAME/, kept from run to run), the words in
# fuzz/NAME.dict, and crash, leak and timeout inputs saved as
# build/fuzz/artifacts/NAME-*.  Logs: build/fuzz/logs/NAME.log.
# Exits non-zero if any harness found a crash (or a reproducer fails again).
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-30}
out=build/fuzz
mkdir -p "$out/artifacts" "$out/logs"

names=()
if [ $# -gt 0 ]; then
	for n in "$@"; do n=${n#fuzz_}; names+=("$n"); done
else
	for b in "$out"/fuzz_*; do
		[ -f "$b" ] && [ -x "$b" ] && names+=("$(basename "$b" | sed 's/^fuzz_//')")
	done
fi
if [ ${#names[@]} = 0 ]; then
	echo "fuzz/run.sh: no harness in $out (make fuzz-build)" >&2
	exit 1
fi

rows=() failed=0
for n in "${names[@]}"; do
	bin=$out/fuzz_$n log=$out/logs/$n.log work=$out/corpus/$n
	if [ ! -x "$bin" ]; then
		echo "fuzz_$n: not built ($bin)" >&2
		rows+=("$n|MISSING|-|-|-|-|-") failed=$((failed + 1))
		continue
	fi
	mkdir -p "$work"
	: > "$log"
	result=ok
	# reproducers of crashes found and fixed: each must pass now
	if compgen -G "fuzz/regress/$n/*" > /dev/null; then
		if ! "$bin" -runs=1 fuzz/regress/"$n"/* >> "$log" 2>&1; then
			result=REGRESSION
		fi
	fi
	seeds=()
	[ -d "fuzz/corpus/$n" ] && seeds+=("fuzz/corpus/$n")
	dict=()
	[ -f "fuzz/fuzz_$n.dict" ] && dict+=("-dict=fuzz/fuzz_$n.dict")
	start=$(date +%s)
	if [ $result = ok ]; then
		# shellcheck disable=SC2086
		timeout -k 10 $((secs + 300)) nice -n "${FUZZ_NICE:-0}" "$bin" -max_total_time="$secs" -timeout=25 \
			-print_final_stats=1 -artifact_prefix="$out/artifacts/$n-" "${dict[@]}" ${FUZZ_ARGS:-} \
			"$work" "${seeds[@]}" >> "$log" 2>&1
		rc=$?
		[ $rc != 0 ] && result=CRASH
	fi
	took=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
	rows+=("$n|$result|${execs:--}|${cov:--}|${ft:--}|${corp:--}|$took")
	if [ $result != ok ]; then
		failed=$((failed + 1))
		echo "fuzz_$n: $result; log $log"
		grep -E 'ERROR|invariant failed|runtime error|Test unit written|SUMMARY' "$log" | head -8 | sed 's/^/    /'
	fi
done

printf '%-12s %-10s %12s %7s %7s %7s %6s\n' harness result execs cov ft corpus secs
for r in "${rows[@]}"; do
	IFS='|' read -r n res ex cv f co t <<<"$r"
	printf '%-12s %-10s %12s %7s %7s %7s %6s\n' "$n" "$res" "$ex" "$cv" "$f" "$co" "$t"
done
[ $failed = 0 ]
