#!/usr/bin/env bash
# Accounting history: start-accounting -i 1 before any link exists, a known
# traffic pattern between two zones (ping, iperf3 -n), a VNIC deleted on the
# way, stop-accounting; then vwstat show-history's totals equal the
# counters vwstat shows (the last sample is taken at the stop), its
# per-interval rows add up to them, CSV and JSON parse, the SVG is
# well-formed with one line per name, the deleted VNIC is still there,
# -s/-e select, a daemon restart keeps accounting on, bad input is refused.
VWT_OWN="vwth"
. "$(dirname "$0")/lib.sh"

ZA=vwthza ZB=vwthzb ZC=vwthzc STUB=vwths VA=vwtha VB=vwthb VC=vwthc FL=vwthicmp
A4=10.200.9.1 B4=10.200.9.2 C4=10.200.9.3
DB=$VW_TMP/h.db

# a quiet network: no IPv6 chatter, so counters stand still when we stop
quiet_zone() { ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1; }
# counters of a link as "ipkts rbytes opkts obytes"
counters() { vwstat -p -o ipkts,rbytes,opkts,obytes "$1" | tr : ' '; }
# show-history totals of a name, from the CSV, as "ipkts rbytes opkts obytes"
hist_totals() {
	vwstat show-history -f "$DB" -F csv -o name,ipkts,rbytes,opkts,obytes "$@" | python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin):
    print(r["name"], r["ipkts"], r["rbytes"], r["opkts"], r["obytes"])'
}
total_of() { hist_totals "${@:2}" | awk -v n="$1" '$1 == n { print $2, $3, $4, $5 }'; }
acct() { vwadm show-accounting -p -o "$1"; }
# check_msg DESC PATTERN CMD...: CMD fails with a one-line message matching PATTERN
check_msg() {
	local desc=$1 pat=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	VW_NCHECK=$((VW_NCHECK + 1))
	if [ $rc != 0 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -qE -- "$pat" <<<"$out"; then
		log "ok   - $desc ($out)"
	else
		fail "$desc: exit $rc, output: $out"
	fi
}

vw_start
log "---- bad input, accounting off"
expect_eq "accounting is off at first" off "$(acct state)"
check_msg "stop-accounting when off" "accounting is not on" vwadm stop-accounting
check_msg "interval 0" "invalid interval '0'" vwadm start-accounting -i 0 -f "$DB"
check_msg "interval abc" "invalid interval 'abc'" vwadm start-accounting -i abc -f "$DB"
check_msg "retention below a minute" "invalid retention '10s'" vwadm start-accounting -r 10s -f "$DB"
check_msg "retention garbage" "invalid retention '7x'" vwadm start-accounting -r 7x -f "$DB"
check_msg "unwritable file" "/nonexistent/dir/h.db: cannot open" vwadm start-accounting -f /nonexistent/dir/h.db
echo "not a database at all" > "$VW_TMP/text"
check_msg "a text file is not a history file" "not a vwire history file" vwadm start-accounting -f "$VW_TMP/text"
sqlite3 "$VW_TMP/other.db" "CREATE TABLE t(x); INSERT INTO t VALUES(1);"
check_msg "another SQLite database is not a history file" "not a vwire history file" \
	vwadm start-accounting -f "$VW_TMP/other.db"
expect_eq "the text file is unchanged" "not a database at all" "$(cat "$VW_TMP/text")"
expect_eq "accounting still off after the bad starts" off "$(acct state)"

log "---- accounting on (relative -f is made absolute), then the links"
check "start-accounting -i 1 -f h.db (relative, in $VW_TMP)" bash -c "cd '$VW_TMP' && '$VW_BIN/vwadm' start-accounting -i 1 -f h.db"
expect_eq "show-accounting: on, the absolute file, 1 s, default retention 7d" "on:$DB:1:1w" \
	"$(vwadm show-accounting -p -o state,file,interval,retention | sed 's/\\:/:/g')"
check_msg "start-accounting when on" "accounting is already on" vwadm start-accounting -f "$DB"
check "export has the start-accounting line" bash -c "vwadm export | grep -qx 'start-accounting -i 1 -f $DB -r 1w'"

for z in $ZA $ZB $ZC; do
	check "create zone $z" vwadm create-zone $z
	check "IPv6 off in $z" quiet_zone $z
done
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "create VNIC $VC" vwadm create-vnic -l $STUB -p zone=$ZC $VC
check "address on $VA" vwadm create-addr -a $A4/24 $VA
check "address on $VB" vwadm create-addr -a $B4/24 $VB
check "address on $VC" vwadm create-addr -a $C4/24 $VC
# and no ARP: the kernel re-checks a neighbour some seconds after its last
# use (a unicast request), which could land between two counter reads
mac_of() { ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'; }
for pair in "$ZA $VA $A4" "$ZB $VB $B4" "$ZC $VC $C4"; do
	read -r z v a <<<"$pair"
	for other in "$ZA $VA $A4" "$ZB $VB $B4" "$ZC $VC $C4"; do
		read -r oz ov oa <<<"$other"
		[ "$oz" = "$z" ] && continue
		check "static neighbour $oa in $z" ip -n "$z" neigh replace "$oa" lladdr "$(mac_of "$oz" "$ov")" dev "$v" nud permanent
	done
done
check "flow $FL: ICMP on $VA" vwadm add-flow -l $VA -a transport=icmp $FL
wait_ping 10 $ZA $B4
wait_ping 10 $ZC $B4

log "---- traffic: pings, an iperf3 transfer, $VC deleted on the way"
check "20 pings of 1000 bytes $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 20 -i 0.1 -s 1000 -W 1 $B4
check "5 pings $ZC -> $ZB" ip netns exec $ZC ping -n -q -c 5 -i 0.1 -W 1 $B4
sleep 1.2 # at least one sample sees $VC's traffic before it goes
check "5 more pings $ZC -> $ZB" ip netns exec $ZC ping -n -q -c 5 -i 0.1 -W 1 $B4
read -r -a C_LAST < <(counters $VC)
check "delete $VC during accounting" vwadm delete-vnic $VC
vw_bg ip netns exec $ZB iperf3 -s -1 -B $B4 --logfile "$VW_TMP/iperf3-server.log"
wait_until 10 "iperf3 server listening in $ZB" bash -c "ip netns exec $ZB ss -Hltn 'sport = :5201' | grep -q 5201"
check "iperf3 -n 5M $ZA -> $ZB" ip netns exec $ZA iperf3 -c $B4 -n 5M
wait "$VW_BG_PID" 2>/dev/null || true
sleep 1.5 # intervals after the transfer too
flow_counters() { vwstat show-flow -p -o ipkts,rbytes,opkts,obytes "$1" | tr : ' '; }
check "flow ${FL}b: ICMP on $VB" vwadm add-flow -l $VB -a transport=icmp ${FL}b
check "7 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 7 -i 0.05 -W 1 $B4
FB=$(flow_counters ${FL}b)
check "remove ${FL}b at once (no sample need have seen its traffic)" vwadm remove-flow ${FL}b
A0=$(counters $VA) B0=$(counters $VB) S0=$(counters $STUB) F0=$(flow_counters $FL)
check "stop-accounting" vwadm stop-accounting
A1=$(counters $VA) B1=$(counters $VB) S1=$(counters $STUB) F1=$(flow_counters $FL)
expect_eq "no traffic on $VA while stopping (a quiet network)" "$A0" "$A1"
expect_eq "no traffic on $VB while stopping" "$B0" "$B1"
expect_eq "show-accounting: off after stop" off "$(acct state)"
check_msg "stop-accounting again" "accounting is not on" vwadm stop-accounting
log "---- counters at the stop: $VA $A1, $VB $B1, $STUB $S1"

log "---- show-history totals"
vwstat show-history -f "$DB" > "$VW_TMP/table.txt"
log "$(cat "$VW_TMP/table.txt")"
check "the table has the spec's columns" \
	grep -Eq '^NAME +DURATION +IPKTS +RBYTES +OPKTS +OBYTES +BANDWIDTH' "$VW_TMP/table.txt"
expect_eq "$VA: history totals = vwstat's counters at the stop" "$A1" "$(total_of $VA)"
expect_eq "$VB: history totals = vwstat's counters at the stop" "$B1" "$(total_of $VB)"
expect_eq "no ICMP on $FL while stopping" "$F0" "$F1"
expect_ge "$FL counted the pings (OPKTS)" "$(echo $F1 | cut -d' ' -f3)" 20
expect_eq "flow $FL: history totals = vwstat show-flow's counters at the stop" "$F1" "$(total_of $FL)"
expect_eq "removed flow ${FL}b: history totals = its counters when it was removed" "$FB" "$(total_of ${FL}b)"
check "$FL's class is flow" bash -c "vwstat show-history -f '$DB' -F csv -o name,class | grep -qx '$FL,flow'"
expect_eq "deleted $VC: history totals = its counters when deleted" "${C_LAST[*]}" "$(total_of $VC)"
read -r sip srb sop sob <<<"$S1"
expect_eq "$STUB: history = its counters + deleted $VC's share (its OPKTS/OBYTES as IPKTS/RBYTES)" \
	"$((sip + C_LAST[2])) $((srb + C_LAST[3])) $((sop + C_LAST[0])) $((sob + C_LAST[1]))" "$(total_of $STUB)"
check "$VC is marked deleted" bash -c "vwstat show-history -f '$DB' -F csv -o name,deleted | grep -qx '$VC,yes'"
check "$VA is not" bash -c "vwstat show-history -f '$DB' -F csv -o name,deleted | grep -qx '$VA,no'"
check "show-history NAME selects" bash -c "[ \"\$(vwstat show-history -f '$DB' -F csv -o name $VA $VC)\" = \$'name\n$VA\n$VC' ]"

log "---- per-interval rows add up to the totals"
vwstat show-history -f "$DB" -i > "$VW_TMP/iv.txt"
check "the -i table has NAME START END RBYTES OBYTES BANDWIDTH" \
	grep -Eq '^NAME +START +END +RBYTES +OBYTES +BANDWIDTH' "$VW_TMP/iv.txt"
sums=$(vwstat show-history -f "$DB" -i -F csv -o name,start,end,ipkts,rbytes,opkts,obytes | python3 -c '
import csv, sys
t = {}
n = {}
for r in csv.DictReader(sys.stdin):
    assert float(r["end"]) > float(r["start"])
    s = t.setdefault(r["name"], [0, 0, 0, 0])
    for i, k in enumerate(("ipkts", "rbytes", "opkts", "obytes")):
        s[i] += int(r[k])
    n[r["name"]] = n.get(r["name"], 0) + 1
for k in sorted(t):
    print(k, *t[k], n[k])')
log "$sums"
expect_eq "$VA: the -i rows add up to its totals" "$A1" "$(awk -v n=$VA '$1 == n { print $2, $3, $4, $5 }' <<<"$sums")"
expect_eq "$VB: the -i rows add up to its totals" "$B1" "$(awk -v n=$VB '$1 == n { print $2, $3, $4, $5 }' <<<"$sums")"
expect_eq "$VC: the -i rows add up to its totals" "${C_LAST[*]}" "$(awk -v n=$VC '$1 == n { print $2, $3, $4, $5 }' <<<"$sums")"
expect_ge "$VB has several 1-second intervals" "$(awk -v n=$VB '$1 == n { print $6 }' <<<"$sums")" 3

log "---- formats"
check "JSON parses: an array of objects with the totals" python3 -c '
import json, subprocess, sys
r = json.loads(subprocess.check_output([sys.argv[1], "show-history", "-f", sys.argv[2], "-F", "json"]))
d = {x["name"]: x for x in r}
a = [int(v) for v in sys.argv[4].split()]
assert [d[sys.argv[3]][k] for k in ("ipkts", "rbytes", "opkts", "obytes")] == a, d[sys.argv[3]]
assert d[sys.argv[3]]["bandwidth"] > 0 and d[sys.argv[3]]["duration"] > 0
r = json.loads(subprocess.check_output([sys.argv[1], "show-history", "-f", sys.argv[2], "-i", "-F", "json"]))
assert len(r) > 3 and all("start" in x and "end" in x for x in r)' "$VW_BIN/vwstat" "$DB" $VA "$A1"
vwstat show-history -f "$DB" -F svg > "$VW_TMP/h.svg"
check "the SVG is well-formed XML with one line per name, a title, axis labels and a legend" python3 -c '
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + "svg"
lines = [p.find(ns + "title").text for p in root.iter(ns + "polyline")]
assert sorted(lines) == sorted(sys.argv[2].split()), lines
texts = " ".join(t.text or "" for t in root.iter(ns + "text"))
assert "Bandwidth" in texts and "bit/s" in texts and "time" in texts, texts
for n in sys.argv[2].split():
    assert n in texts' "$VW_TMP/h.svg" "$STUB $VA $VB $VC $FL ${FL}b"
vwstat show-history -f "$DB" -F gnuplot > "$VW_TMP/h.dat"
check "gnuplot: one block per name, '# name' comments" python3 -c '
import sys
blocks = open(sys.argv[1]).read().strip().split("\n\n\n")
assert len(blocks) == len(sys.argv[2].split()), len(blocks)
for b, n in zip(blocks, sorted(sys.argv[2].split())):
    lines = b.strip().split("\n")
    hdr = [l for l in lines if l.startswith("# " + n + " ")]
    assert hdr, (n, lines[:3])
    for l in lines:
        if not l.startswith("#"):
            assert len(l.split()) == 5 and all(float(x) >= 0 for x in l.split())' "$VW_TMP/h.dat" "$STUB $VA $VB $VC $FL ${FL}b"

log "---- restart keeps accounting on; -s/-e select"
sleep 1
MID=$(date '+%Y-%m-%d %H:%M:%S')
MID_EPOCH=$(date -d "$MID" +%s)
sleep 1
check "start-accounting again into the same file" vwadm start-accounting -i 1 -f "$DB"
vw_stop
vw_start
expect_eq "after a restart accounting is on, same file and interval" "on:$DB:1" \
	"$(vwadm show-accounting -p -o state,file,interval | sed 's/\\:/:/g')"
wait_ping 10 $ZA $B4
check "10 pings $ZA -> $ZB after the restart" ip netns exec $ZA ping -n -q -c 10 -i 0.1 -W 1 $B4
sleep 1.2
check "show-history reads the file while the daemon writes it" \
	bash -c "vwstat show-history -f '$DB' -s '$MID' | grep -q '^$VA '"
A2=$(counters $VA)
check "stop-accounting" vwadm stop-accounting
expect_eq "no traffic on $VA while stopping" "$A2" "$(counters $VA)"
expect_eq "-s (after the restart): $VA's totals = its counters since the restart" "$A2" "$(total_of $VA -s "$MID")"
expect_eq "-e (before): $VA's totals of the first run" "$A1" "$(total_of $VA -e "$MID")"
expect_eq "-e as epoch seconds: the same" "$A1" "$(total_of $VA -e "$MID_EPOCH")"
expect_eq "-s -1h (relative): both runs" \
	"$(python3 -c 'import sys; print(*[int(a) + int(b) for a, b in zip(sys.argv[1].split(), sys.argv[2].split())])' "$A1" "$A2")" \
	"$(total_of $VA -s -1h)"
check "$VC (deleted in the first run) is listed without -s" bash -c "vwstat show-history -f '$DB' | grep -q '^$VC '"
check "$VC is not in the second run" bash -c "! vwstat show-history -f '$DB' -s '$MID' | grep -q '^$VC '"
check "without -f, vwstat asks the daemon for its file" \
	bash -c "[ \"\$(vwstat show-history -F csv)\" = \"\$(vwstat show-history -f '$DB' -F csv)\" ]"

log "---- a flow no sample saw: accounting every 60 s, the flow added and removed in between"
DB2=$VW_TMP/h2.db
check "start-accounting -i 60 -f h2.db" vwadm start-accounting -i 60 -f "$DB2"
check "flow ${FL}c: ICMP on $VB" vwadm add-flow -l $VB -a transport=icmp ${FL}c
check "4 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 4 -i 0.1 -W 1 $B4
FC=$(flow_counters ${FL}c)
check "remove ${FL}c" vwadm remove-flow ${FL}c
check "stop-accounting (h2.db)" vwadm stop-accounting
expect_eq "flow ${FL}c, removed before any sample: history totals = its counters" "$FC" \
	"$(DB=$DB2 total_of ${FL}c)"

log "---- show-history bad input"
check_msg "no such file" "nofile.db: cannot open" vwstat show-history -f "$VW_TMP/nofile.db"
check_msg "not a history file" "not a vwire history file" vwstat show-history -f "$VW_TMP/text"
check_msg "bad time" "invalid time 'yesterday'" vwstat show-history -f "$DB" -s yesterday
check_msg "bad time 25:00" "invalid time '25:00'" vwstat show-history -f "$DB" -e 25:00
check_msg "start after end" "not before the end" vwstat show-history -f "$DB" -s -1m -e -2m
check_msg "bad format" "invalid format 'xml'" vwstat show-history -f "$DB" -F xml
check_msg "a name never sampled" "vwthnone: no history" vwstat show-history -f "$DB" vwthnone
