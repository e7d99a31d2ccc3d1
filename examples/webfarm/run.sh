#!/usr/bin/env bash
# The paper's third example (§5.3), "try before deployment, then scale out"
# (see README.md): two web servers behind a load balancer VNM (NAT in front
# of them), HTTP load from two client zones with an uneven mix of URLs,
# accounting history on; then one web server moves to a second host, same
# MAC and IP address, while the load goes on.
#   sudo examples/webfarm/run.sh [-o DIR] [-d SECONDS]
# -o DIR: where the output goes (default /tmp/${VWEX_PREFIX}_webfarm): the
# SVG charts, the history files, the servers' and load generators' logs,
# the daemons' logs; emptied at the start, kept at the end.
# -d SECONDS: the load of each phase (default 15, at least 10).
# Every name starts with $VWEX_PREFIX (default vww; at most 12 characters):
# the two hosts' namespaces ${P}ha and ${P}hb, each with a vwired of its own
# (socket and state /tmp/${P}_a.sock, /tmp/${P}_a.state, ..._b...), the
# veth pair ${P}up (host a) -- ${P}upb (host b), the zones of webfarm.vw.
# All of it is removed on exit, even on failure or Ctrl-C.
# Exit status: 0 if every claim held, 1 if not (or if it could not run),
# 2 on bad arguments.
set -u
cd "$(dirname "$0")/../.." || exit 1
EX=examples/webfarm
export LC_ALL=C

usage() { echo "usage: $0 [-o DIR] [-d SECONDS]" >&2; exit 2; }
P=${VWEX_PREFIX:-vww}
OUT='' SECS=15
while getopts ":o:d:" o; do
	case $o in
	o) OUT=$OPTARG ;;
	d) SECS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 0 ] || usage
case "$SECS" in *[!0-9]* | '') usage ;; esac
[ "$SECS" -ge 10 ] || { echo "$0: -d must be at least 10 (the move comes 4 s into phase 2)" >&2; exit 2; }
[[ "$P" =~ ^[A-Za-z][A-Za-z0-9_]{0,11}$ ]] ||
	{ echo "$0: VWEX_PREFIX '$P': a letter, then letters, digits or _, 12 characters at most" >&2; exit 2; }
OUT=${OUT:-/tmp/${P}_webfarm}
. examples/lib.sh
need_root "namespaces, zones"
need_cmds python3 nsenter ip
need_build vwired vwadm vwstat
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd) || { echo "$0: cannot make $OUT" >&2; exit 1; }

# ---- names (webfarm.vw's, and the two hosts)
HA=${P}ha HB=${P}hb UP=${P}up UPB=${P}upb
SA=/tmp/${P}_a.sock SB=/tmp/${P}_b.sock
STA=/tmp/${P}_a.state STB=/tmp/${P}_b.state
ZONES="${P}c1 ${P}c2 ${P}lb ${P}w1 ${P}w2"
VIP=10.61.1.1 W1=10.61.2.11 W2=10.61.2.12
va() { hv $HA "$@"; }   # vwadm and vwstat on host a, host b
vb() { hv $HB "$@"; }
sa() { hs $HA "$@"; }
sb() { hs $HB "$@"; }
now() { date +%s.%N | cut -c1-14; }

# all of it removed on exit (and an interrupted run's leftovers first; the
# output stays); die shows the end of the daemons' logs
NETNS="$ZONES $HA $HB" FILES=("$SA" "$SB" "$STA" "$STB")
die_log "vwired a" "$OUT/vwired-a.log"
die_log "vwired b" "$OUT/vwired-b.log"
DIE_TAIL=20
cleanup_at_exit

# ---- the claims: report.py prints each as "PASS  text" or "FAIL  text"
CLAIMS=
claims() { # claims TEXT: the figures printed, the claims kept for the report
	grep -v '^PASS  \|^FAIL  ' <<<"$1"
	CLAIMS+=$(grep '^PASS  \|^FAIL  ' <<<"$1")$'\n'
}
claim() { # claim OK|"" TEXT
	if [ -n "$1" ]; then CLAIMS+="PASS  $2"$'\n'; else CLAIMS+="FAIL  $2"$'\n'; fi
}

remove_leftovers # namespaces outlive their daemons
rm -rf "${OUT:?}"/*

# ---- two hosts, each a namespace with a vwired of its own, on one wire
host_start $HA "$SA" "$STA" "$OUT/vwired-a.log" || die "vwired of host $HA did not start"
host_start $HB "$SB" "$STB" "$OUT/vwired-b.log" || die "vwired of host $HB did not start"
host_link $HA $UP $HB $UPB || die "cannot make the wire $UP -- $UPB"

echo "webfarm: $(stamp); $(nproc) cores"
# ---- host a: webfarm.vw, accounting (1 s samples) included
echo "host a ($HA): vwadm apply -D P=$P -D UP=$UP -D HIST=$OUT/history-a.db $EX/webfarm.vw"
va apply -D "P=$P" -D "UP=$UP" -D "HIST=$OUT/history-a.db" $EX/webfarm.vw >"$OUT/apply.txt" 2>&1 ||
	die "host a: vwadm apply failed: $(cat "$OUT/apply.txt")"
tail -1 "$OUT/apply.txt" | indent
# the web servers' files: a small page, a medium and a large file
mkdir -p "$OUT/www"
python3 - "$OUT/www" <<'EOF'
import os, sys
d = sys.argv[1]
page = "<html><head><title>webfarm</title></head><body>" + "<p>vwire webfarm</p>" * 40 + "</body></html>\n"
open(os.path.join(d, "small.html"), "w").write(page[:1024].ljust(1023) + "\n")
open(os.path.join(d, "medium.bin"), "wb").write(os.urandom(64 * 1024))
open(os.path.join(d, "large.bin"), "wb").write(os.urandom(1024 * 1024))
EOF
kib() { echo $(($(stat -c %s "$OUT/www/$1") / 1024)); }

# http.server in each server zone: each request is one log line
for i in 1 2; do
	ip netns exec ${P}w$i python3 -u -m http.server 80 --bind 0.0.0.0 --directory "$OUT/www" \
		>"$OUT/server-w$i.log" 2>&1 &
	BG+=($!)
done
for ip in $W1 $W2; do
	poll 10 ip netns exec ${P}lb timeout 2 bash -c "exec 3<>/dev/tcp/$ip/80" ||
		die "the web server $ip does not answer"
done
# both backends up in the load balancer's health check
backends_up() { va show-vnm -x -p -o element,state ${P}lb | grep -c '^backend:up$'; }
both_up() { [ "$(backends_up)" = 2 ]; }
poll 15 both_up ||
	die "the load balancer does not see both backends up: $(va show-vnm -x ${P}lb 2>&1)"
# get ZONE URL_PATH: one GET through the vip, answered 200
get() {
	ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$VIP/80 && printf 'GET %s HTTP/1.0\\r\\n\\r\\n' $2 >&3 && head -1 <&3" |
		grep -q '^HTTP/1.[01] 200 '
}
poll 10 get ${P}c1 /small.html ||
	die "the clients do not reach the web servers through $VIP"

echo
echo "host a's network (vwadm show-vnic):"
va show-vnic -o link,over,zone,macaddress | indent
echo "the load balancer (vwadm show-vnm):"
va show-vnm ${P}lb | indent

# ---- accounting on host b too (host a's is in webfarm.vw)
vb start-accounting -i 1 -f "$OUT/history-b.db" || die "host b: start-accounting failed"

# server_lines I: the server's request lines so far
server_lines() { grep -c '"GET ' "$OUT/server-w$1.log"; }
# samples_after HOST N: the accounting on HOST took N more samples from now
samples() { hv "$1" show-accounting -p -o samples; }
samples_ge() { [ "$(samples "$1")" -ge "$2" ]; }
samples_after() { poll 20 samples_ge "$1" $(($(samples "$1") + $2)); }
# loads PHASE SECS: a load generator in each client zone, in the background
load() {
	local ph=$1 secs=$2 i
	LOADPIDS=()
	for i in 1 2; do
		ip netns exec ${P}c$i python3 $EX/loadgen.py -d "$secs" -c 4 --seed "$ph$i" --label "client ${P}c$i" \
			--json "$OUT/load-$ph-c$i.json" --log "$OUT/load-$ph-c$i.log" "http://$VIP" >"$OUT/load-$ph-c$i.txt" 2>&1 &
		LOADPIDS+=($!)
		BG+=($!)
	done
}
load_wait() {
	local pid rc=0
	for pid in "${LOADPIDS[@]}"; do wait "$pid" || rc=1; done
	return $rc
}

# ---- phase 1, "try": the load for SECS seconds
echo
echo "Phase 1, try: ${SECS} s of HTTP load from ${P}c1 and ${P}c2 to $VIP:80 (4 connections each; 70 % /small.html $(kib small.html) KiB, 25 % /medium.bin $(kib medium.bin) KiB, 5 % /large.bin $(kib large.bin) KiB)"
L1_0=$(server_lines 1) L2_0=$(server_lines 2)
T0=$(date +%s)
load 1 "$SECS"
load_wait || die "phase 1: a load generator failed: $(cat "$OUT"/load-1-*.txt)"
cat "$OUT/load-1-c1.txt" "$OUT/load-1-c2.txt" | indent
L1_1=$(server_lines 1) L2_1=$(server_lines 2)
samples_after $HA 2 || die "host a: the accounting took no sample after the load"

# the history of phase 1, per VNIC; the figures and the claims
sa show-history -s "@$T0" -F csv >"$OUT/history-1.csv" || die "vwstat show-history failed"
sa show-history -s "@$T0" -F svg ${P}w1v ${P}w2v ${P}lbs ${P}lbc >"$OUT/webfarm-try.svg" ||
	die "vwstat show-history -F svg failed"
echo
echo "vwstat show-history -s @$T0 -F csv (host a, phase 1), per VNIC:"
claims "$(python3 $EX/report.py try "$OUT" "$SECS" "$L1_0" "$L1_1" "$L2_0" "$L2_1" "$P")"
echo "the chart (vwstat show-history -s @$T0 -F svg ${P}w1v ${P}w2v ${P}lbs ${P}lbc): $OUT/webfarm-try.svg"

# ---- phase 2, "scale out": ${P}w2 moves to host b during the load
echo
echo "Phase 2, scale out: ${SECS} s of the same load; after 4 s zone ${P}w2 moves to host b ($HB, over $UPB), MAC and IP address kept"
MAC=$(va show-vnic -p -o macaddress ${P}w2v)
L1_0=$(server_lines 1) L2_0=$(server_lines 2)
load 2 "$SECS"
# what the load balancer's health check says of the backends, 5 times a second
(
	while :; do
		echo "$(now) $(va show-vnm -x -p -o element,what,state ${P}lb 2>/dev/null |
			sed -n 's/^backend:\(.*\)\\:80:\(.*\)/\1=\2/p' | tr '\n' ' ')"
		sleep 0.2
	done
) >"$OUT/backends.txt" &
WATCH=$!
BG+=("$WATCH")
sleep 4
M0=$(now)
MOVEOUT=$(VWADM=$BIN/vwadm examples/move-zone.sh -a "$SA" -b "$SB" -l $UPB ${P}w2 ${P}w2v 2>&1)
MOVERC=$?
M1=$(now)
echo "  examples/move-zone.sh -a $SA -b $SB -l $UPB ${P}w2 ${P}w2v"
echo "$MOVEOUT" | indent
L1_1=$(server_lines 1) L2_1=$(server_lines 2)
load_wait || die "phase 2: a load generator failed: $(cat "$OUT"/load-2-*.txt)"
cat "$OUT/load-2-c1.txt" "$OUT/load-2-c2.txt" | indent
L1_2=$(server_lines 1) L2_2=$(server_lines 2)
kill $WATCH 2>/dev/null
wait $WATCH 2>/dev/null
samples_after $HB 2 || die "host b: the accounting took no sample after the load"
samples_after $HA 1 || die "host a: the accounting took no sample after the load"

# moved: the same MAC and address, on host b, over its phys link
MOVED=
[ $MOVERC = 0 ] && [ "$(vb show-vnic -p -o over,macaddress,zone ${P}w2v 2>/dev/null)" = "$UPB:${MAC//:/\\:}:${P}w2" ] &&
	[ "$(vb show-addr -p -o addr ${P}w2v 2>/dev/null)" = 10.61.2.12/24 ] &&
	! va show-vnic ${P}w2v >/dev/null 2>&1 && MOVED=1
MOVEMS=$(sed -n 's/.* \([0-9]*\) ms from the first delete.*/\1/p' <<<"$MOVEOUT")
claim "$MOVED" "scale out: ${P}w2 moved to host b without renumbering: ${P}w2v over $UPB with $MAC and 10.61.2.12/24 (move-zone.sh exit $MOVERC, VNIC gone for ${MOVEMS:-?} ms)"

sa show-history -s "@${M1%.*}" -F csv >"$OUT/history-2a.csv" || die "host a: vwstat show-history failed"
sb show-history -s "@${M1%.*}" -F csv >"$OUT/history-b.csv" || die "host b: vwstat show-history failed"
sb -p -o obytes ${P}w2v >"$OUT/live-b.txt" 2>/dev/null || echo 0 >"$OUT/live-b.txt"
sa show-history -s "@$T0" -F svg ${P}w1v ${P}w2v ${P}lbs ${P}lbc >"$OUT/webfarm-a.svg" 2>/dev/null
sb show-history -F svg ${P}w2v >"$OUT/webfarm-b.svg" 2>/dev/null
claims "$(python3 $EX/report.py scale "$OUT" "$M0" "$M1" "$L1_1" "$L1_2" "$L2_1" "$L2_2" "$P")"

echo
echo "the load balancer after the move (vwadm show-vnm -x):"
va show-vnm -x ${P}lb | indent
UPS=$(backends_up)
claim "$([ "$UPS" = 2 ] && echo 1)" "scale out: the load balancer's health check sees both backends up after the move ($UPS of 2)"

echo
echo "charts of both phases: host a $OUT/webfarm-a.svg (${P}w2v ends at the move), host b $OUT/webfarm-b.svg"

echo
NPASS=$(grep -c '^PASS' <<<"$CLAIMS") NFAIL=$(grep -c '^FAIL' <<<"$CLAIMS")
echo "Report ($NPASS passed, $NFAIL failed; output in $OUT):"
printf '%s' "$CLAIMS" | indent
[ "$NFAIL" = 0 ] && [ "$NPASS" -gt 0 ]
