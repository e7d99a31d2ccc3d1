#!/usr/bin/env bash
# The paper's third example (issue 15), examples/webfarm, run as its users
# run it (run.sh, its claims printed PASS or FAIL with the figures), 10 s of
# load per phase, every name prefixed vwtj (so that a sweep removes what a
# killed run leaves):
#   - try: two web servers behind the lb VNM (webfarm.vw, applied on host
#     a), HTTP load from two clients with an uneven mix of URLs: every
#     request served, round robin, show-history's split of the bytes per
#     server VNIC as the servers' logs say, the history's total, the SVG;
#   - scale out: one server's zone moves to host b (examples/move-zone.sh,
#     same MAC and IP) under load: no request fails, both servers serve
#     after the move, host b counts the moved server's traffic, the LB sees
#     both backends up.
# The SVG charts are kept in the test logs' directory (VWT_LOG_DIR, default
# build/test-logs) as ex_webfarm-*.svg; the whole output with VWT_KEEP=1.
VWT_OWN="vwtj"
. "$(dirname "$0")/lib.sh"

OUT=$VW_TMP/out
LOGS=${VWT_LOG_DIR:-$VW_ROOT/build/test-logs}
rc=0
out=$(VWEX_PREFIX=vwtj "$VW_ROOT/examples/webfarm/run.sh" -o "$OUT" -d 10 2>&1) || rc=$?
log "$out"
mkdir -p "$LOGS"
for f in "$OUT"/webfarm-*.svg; do
	[ -e "$f" ] || continue
	cp "$f" "$LOGS/ex_webfarm-$(basename "$f" .svg | sed 's/^webfarm-//').svg"
	log "---- kept $LOGS/ex_webfarm-$(basename "$f" .svg | sed 's/^webfarm-//').svg"
done

judge_claims "$(sed -n '/^Report (/,$p' <<<"$out")"
nclaims=$VW_CLAIMS
soft_done
expect_eq "every claim was judged (5 try, 5 scale out)" 10 "$nclaims"
expect_eq "run.sh exit status" 0 "$rc"
check "the chart of the try phase is an SVG" grep -q '<svg' "$OUT/webfarm-try.svg"
check "nothing of the example is left: no namespace vwtj*" bash -c "! ip netns list | grep -q '^vwtj'"
check "nothing of the example is left: no socket /tmp/vwtj_*.sock" bash -c "! ls /tmp/vwtj_*.sock 2>/dev/null | grep -q ."
