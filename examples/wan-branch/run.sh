#!/usr/bin/env bash
# The branch-office WAN case (see README.md): two zones on an etherstub,
# the branch's VNIC limited to 5.2M (the WAN link), 6 TCP streams from the
# branch to the head office for the whole run and 3 UDP streams of 1 Mb/s
# from the first third on; run once without a policy and once with one.
#   sudo examples/wan-branch/run.sh [SECONDS]     (default 60 per run)
# Exit status: 0 if every goal of the run with the policy held, 1 if not.
# It runs its own daemon (socket /tmp/vwb_wan.sock, state /tmp/vwb_wan.state);
# everything it makes is named vwb* and removed on exit, even on failure or
# Ctrl-C.  WAN_KEEP=1 keeps the iperf3 JSON in /tmp/vwb_wan.tmp.
set -u
cd "$(dirname "$0")/../.." || exit 1
SECS=${1:-60}
case "$SECS" in *[!0-9]* | '') echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
[ "$SECS" -ge 15 ] || { echo "$0: SECONDS must be at least 15 (three phases, each with 2 s to settle)" >&2; exit 2; }
. examples/lib.sh
need_root "zones and TAP devices"
need_cmds iperf3 python3
need_build vwired vwadm vwstat

export VWIRE_SOCKET=/tmp/vwb_wan.sock
STATE=/tmp/vwb_wan.state TMP=/tmp/vwb_wan.tmp
vwadm() { "$BIN/vwadm" "$@"; }
vwstat() { "$BIN/vwstat" "$@"; }
. examples/wan-branch/wan.sh
wan_names vwb 10.207.0

# everything it makes, removed on exit and, first, an interrupted run's
# leftovers (zones outlive their daemon)
NETNS="$WAN_ZB $WAN_ZH" FILES=("$VWIRE_SOCKET" "$STATE")
SCRATCH=$TMP KEEP=${WAN_KEEP:-}
die_log vwired "$TMP/vwired.log"
cleanup_at_exit
remove_leftovers

daemon_start wan "$VWIRE_SOCKET" "$STATE" "$TMP/vwired.log" || die "vwired did not start"
wan_build || die "could not build the network"

echo "wan-branch: $(stamp); $(nproc) cores"
echo "branch $WAN_ZB ($WAN_AB, VNIC $WAN_VB maxbw=$WAN_RATE) -> head office $WAN_ZH ($WAN_AH) over etherstub $WAN_STUB"
echo

echo "Run 1: no policy (one queue for the WAN link)"
# (without a policy iperf3's UDP streams may fail to even open across the
# congested link: that is said, and run 2 goes on)
if wan_run "$SECS" "$TMP/nopolicy" && wan_report "$TMP/nopolicy" "no policy"; then
	echo "the branch VNIC after run 1 (vwstat; DROP_SHAPE: frames it sent that the shaper dropped):"
	indent <"$TMP/nopolicy/link.txt"
else
	echo "run 1 did not complete: iperf3 could not open its UDP streams across the congested link"
fi
echo

echo "Run 2: the policy"
echo "  vwadm add-flow -l $WAN_VB -a transport=udp -p maxbw=1M,fairness=conn $WAN_FUDP"
echo "  vwadm add-flow -l $WAN_VB -a transport=tcp -p fairness=conn $WAN_FTCP"
err=$(wan_policy 2>&1) || die "the policy was refused: $err"
wan_run "$SECS" "$TMP/policy" || die "run 2 failed"
rc=0
wan_report "$TMP/policy" "with the policy" --goals || rc=$?
[ $rc -le 1 ] || die "run 2: no report"
echo "the branch VNIC's flows after run 2 (vwstat show-flow; OPKTS/OBYTES: what the branch sent):"
indent <"$TMP/policy/flows.txt"
echo
if [ $rc = 0 ]; then echo "PASS: every goal held"; else echo "FAIL: some goal did not hold"; fi
exit $rc
