#!/usr/bin/env bash
# The paper's multi-tier tenants example (issue 15), run as it is:
# examples/tenants/run.sh with its names prefixed vwtz (so the runner's
# sweep finds whatever a killed run leaves).  Every claim the example prints
# must be PASS:
#   - both routers are router VNMs (create-vnm in the file), state ok;
#   - each tenant's ping matrix as expected (tiers through the router VNM,
#     storage only from the DB tier);
#   - the same addresses answer only in the caller's own tenant (a TCP
#     matrix), the other tenant's zones receive no IPv4 packet meanwhile,
#     and the tenants' VNICs are over disjoint virtual switches;
#   - cpus on the app VNIC: shown, and what it sends is read by that CPU's
#     worker (the others read at most 1% as much: background chatter);
#   - applying the same file again changes nothing, for either tenant;
# and the example removes everything it made.
VWT_OWN="vwtz"
. "$(dirname "$0")/lib.sh"

P=vwtz
rc=0
out=$(VWEX_PREFIX=$P timeout -k 5 240 bash "$VW_ROOT/examples/tenants/run.sh" 2>&1) || rc=$?
log "$out"
judge_claims "$(grep -E '^(PASS|FAIL)  ' <<<"$out")"
nclaims=$VW_CLAIMS
soft_done
expect_eq "the example exits 0" 0 "$rc"
# apply again (2), router VNMs (1), matrices (2), TCP matrices (2), IPv4
# silence (2), switches (1), cpus shown (2), cpus worker (1 with 2 CPUs)
want=12
grep -q '^  one CPU only' <<<"$out" || want=$((want + 1))
expect_eq "every claim was judged" "$want" "$nclaims"
check "the example printed its verdict" grep -q '^PASS: every claim held$' <<<"$out"

# the example cleaned up after itself
expect_eq "no zone of the example left" "" "$(ip netns list | awk '{ print $1 }' | grep "^$P" || true)"
check "no daemon socket or state left" bash -c "! ls -d /tmp/${P}_tenants.* 2>/dev/null | grep -q ."
