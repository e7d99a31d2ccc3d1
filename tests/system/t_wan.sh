#!/usr/bin/env bash
# The seed's branch-office WAN test (issue 4), 30 s per run: the example
# examples/wan-branch run by its own functions (wan.sh, report.py), so the
# test and the example cannot drift apart.  A branch zone's VNIC has
# maxbw=5.2M; 6 TCP streams to the head office for the whole run, 3 UDP
# streams of 1 Mb/s from the first third on.
#   - without a policy the figures are only reported (TCP is squeezed);
#   - with a UDP flow maxbw=1M,fairness=conn and a TCP flow fairness=conn,
#     in every phase (after 2 s to settle), at the receiver: TCP aggregate
#     >= 3.8 Mb/s, each TCP stream within +-10% of the TCP mean, each UDP
#     stream 333 Kb/s +-5% on the wire.  One check per goal and phase.
VWT_OWN="vwtw"
. "$(dirname "$0")/lib.sh"
. "$VW_ROOT/examples/wan-branch/wan.sh"

SECS=30
wan_names vwtw 10.200.43

vw_start
check "two zones on an etherstub, the branch VNIC $WAN_VB with maxbw=$WAN_RATE, ping across" wan_build

log "---- run 1, no policy ($SECS s): reported, not asserted"
# (without a policy iperf3's UDP streams may fail to even open across the
# congested link: reported, and the test goes on)
if wan_run $SECS "$VW_TMP/nopolicy"; then
	wan_report "$VW_TMP/nopolicy" "no policy" || log "---- run 1: no report"
else
	log "---- run 1 did not complete (see above); no figures"
fi

check "the policy: UDP flow maxbw=1M,fairness=conn and TCP flow fairness=conn on $WAN_VB" wan_policy
expect_eq "show-flowprop shows the policy" "$WAN_FUDP:maxbw:1M
$WAN_FUDP:fairness:conn
$WAN_FTCP:maxbw:
$WAN_FTCP:fairness:conn" "$(vwadm show-flowprop -c -o flow,property,value -p maxbw,fairness -l $WAN_VB)"

log "---- run 2, the policy ($SECS s)"
wan_run $SECS "$VW_TMP/policy" || fail "run 2: the traffic did not run"
rc=0
out=$(wan_report "$VW_TMP/policy" "with the policy" --goals) || rc=$?
log "$out"
[ $rc -le 1 ] || fail "run 2: no report"
judge_claims "$out"
ngoals=$VW_CLAIMS
expect_eq "every goal was judged (3 phases x TCP aggregate and fairness, 2 x UDP)" 8 "$ngoals"
soft_done
log "---- the branch VNIC's flows after run 2:"
log "$(cat "$VW_TMP/policy/flows.txt")"
expect_eq "both flows counted traffic the branch sent" "yes yes" \
	"$(vwstat show-flow -p -o flow,opkts -l $WAN_VB | awk -F: '{ printf "%s%s", (NR > 1 ? " " : ""), ($2 > 1000 ? "yes" : "no") }')"
