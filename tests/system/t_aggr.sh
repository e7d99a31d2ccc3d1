#!/usr/bin/env bash
# Link aggregations (IEEE 802.1AX) between two hosts, each a namespace with a
# vwired of its own (lib.sh's host helpers), joined by two veth pairs:
#   - LACP active/active with short timers comes up on both members of both
#     sides (show-aggr -L: in sync, collecting, distributing);
#   - zones over the aggregations ping each other untagged and in VID 5, and
#     TCP connections spread over both members (vwstat show-aggr);
#   - a member's carrier going down (the far end set down) moves its traffic
#     to the other member at once: the longest gap of a `ping -i 0.01` and
#     the running TCP stream's 0.2 s intervals are measured and reported;
#     the member comes back when its carrier does;
#   - the partner falling silent on one member (its LACPDUs dropped on the
#     wire by tests/system/drop_slow.bpf.c) drops that member after 3 short
#     periods, measured the same way; it comes back when LACPDUs do;
#   - maxbw, a flow, a capture, a mirror and an IPFIX exporter work on the
#     aggregation as on a phys;
#   - bad input (a member with VNICs, in another aggregation, of another
#     MTU, the last member removed, a VNIC over a member) is refused with
#     one line and changes nothing; the configuration survives a restart.
VWT_OWN="vwta"
. "$(dirname "$0")/lib.sh"

A=vwtaa B=vwtab
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"
DROP_SLOW=$VW_BIN/tests/drop_slow.bpf.o
[ -f "$DROP_SLOW" ] || fail "$DROP_SLOW is not built (make all)"

host_start $A
host_start $B
host_link $A vwtap0 $B vwtap0
host_link $A vwtap1 $B vwtap1

for h in $A $B; do
	check "host $h: create-aggr -L active -T short over vwtap0, vwtap1" \
		hvwadm $h create-aggr -L active -T short -P L4 -l vwtap0 -l vwtap1 vwtag0
done
# both_dist HOST: every member of vwtag0 on HOST collecting and distributing
both_dist() { [ "$(hvwadm "$1" show-aggr -L -p -o port,sync,coll,dist vwtag0 | grep -c ':yes:yes:yes$')" = 2 ]; }
wait_until 10 "LACP: both members of both sides in sync, collecting, distributing" \
	bash -c "$(declare -f both_dist); both_dist $A && both_dist $B"
expect_eq "show-aggr on $A" "vwtag0:L4:active:short:up:vwtap0,vwtap1" \
	"$(hvwadm $A show-aggr -p -o link,policy,lacpactivity,lacptimer,state,ports)"
expect_eq "show-aggr -x on $A" "vwtap0:up:attached
vwtap1:up:attached" "$(hvwadm $A show-aggr -x -p -o port,state,portstate)"
PARTNER=$(hvwadm $B show-aggr -x -p -o address vwtag0 | head -1)
expect_eq "$A sees $B's system (its first member's MAC) as partner on both members" "${PARTNER}
${PARTNER}" "$(hvwadm $A show-aggr -L -p -o partnersystem vwtag0 | sed 's/\\:/:/g')"
expect_eq "show-link: vwtag0 is of class aggr" "vwtag0:aggr:up" "$(hvwadm $A show-link -p -o link,class,state vwtag0)"

zone() {   # HOST ZONE VNIC ADDR [VID]
	check "host $1: zone $2" hvwadm "$1" create-zone "$2"
	check "host $1: VNIC $3 over vwtag0 ${5:+(VID $5)}" hvwadm "$1" create-vnic -l vwtag0 ${5:+-v "$5"} -p zone="$2" "$3"
	check "host $1: $4/24 on $3" hvwadm "$1" create-addr -a "$4/24" "$3"
}
zone $A vwtaza vwtava 10.232.0.1
zone $B vwtazb vwtavb 10.232.0.2
zone $A vwtaya vwtawa 10.232.5.1 5
zone $B vwtayb vwtawb 10.232.5.2 5
wait_ping 10 vwtaza 10.232.0.2
wait_ping 10 vwtayb 10.232.5.1
check "3 pings across the aggregation, untagged" ip netns exec vwtaza ping -n -q -c 3 -i 0.05 -W 1 10.232.0.2
check "3 pings across the aggregation, VID 5" ip netns exec vwtaya ping -n -q -c 3 -i 0.05 -W 1 10.232.5.2
check_fail "VID 5 and untagged stay apart" ip netns exec vwtaza ping -n -q -c 2 -i 0.2 -W 1 10.232.5.2

log "---- TCP connections spread over both members (policy L4)"
vw_bg ip netns exec vwtazb iperf3 -s -p 5201 >/dev/null 2>&1
wait_until 5 "iperf3 server up in vwtazb" bash -c "ip netns exec vwtazb ss -ltn | grep -q ':5201'"
opkts() { hvwstat $A show-aggr -p -o port,opkts vwtag0 | awk -F: -v p="$1" '$1 == p { print $2 }'; }
o0=$(opkts vwtap0) o1=$(opkts vwtap1)
check "iperf3, 8 connections for 1 s" ip netns exec vwtaza iperf3 -c 10.232.0.2 -p 5201 -t 1 -P 8 -J -b 50M
d0=$(($(opkts vwtap0) - o0)) d1=$(($(opkts vwtap1) - o1))
log "---- frames sent by $A: vwtap0 $d0, vwtap1 $d1"
expect_ge "member vwtap0 carried part of the 8 connections" "$d0" 50
expect_ge "member vwtap1 carried part of the 8 connections" "$d1" 50

# gap_run SECS ACTION...: a ping -i 0.01 and one TCP stream (0.2 s intervals)
# run for SECS while ACTION runs 1 s in; prints the longest ping gap (ms)
# and the TCP intervals, and sets GAP_MS, LOST, EMPTY (intervals with no
# traffic).
gap_run() {
	local secs=$1 pp ip
	shift
	ip netns exec vwtaza ping -n -D -i 0.01 -W 1 -w "$secs" 10.232.0.2 >"$VW_TMP/ping.txt" 2>&1 &
	pp=$!
	ip netns exec vwtaza iperf3 -c 10.232.0.2 -p 5201 -t "$secs" -i 0.2 -J >"$VW_TMP/tcp.json" 2>/dev/null &
	ip=$!
	sleep 1
	"$@"
	wait "$pp" || true
	wait "$ip" || true
	GAP_MS=$(awk -F'[][]' '/bytes from/ { t = $2 * 1000; if (last && t - last > max) max = t - last; last = t }
		END { printf "%d", max }' "$VW_TMP/ping.txt")
	LOST=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$VW_TMP/ping.txt" |
		awk '{ print $1 - $4 }')
	EMPTY=$(python3 -c 'import json, sys
iv = json.load(open(sys.argv[1]))["intervals"]
print(sum(1 for i in iv if i["sum"]["bytes"] == 0), " ".join("%.0f" % (i["sum"]["bits_per_second"] / 1e6) for i in iv))' \
		"$VW_TMP/tcp.json" 2>/dev/null || echo "x (no iperf3 result)")
	log "---- $*: longest ping gap ${GAP_MS} ms, ${LOST} of the pings lost; TCP 0.2 s intervals (Mbit/s): ${EMPTY#* }"
}

log "---- a member's carrier goes down"
gap_run 4 ip -n $B link set vwtap0 down
wait_until 5 "$A: vwtap0 down, vwtap1 still attached" \
	bash -c "[ \"\$(hvwadm $A show-aggr -x -p -o port,portstate vwtag0)\" = 'vwtap0:down
vwtap1:attached' ]"
expect_ge "carrier loss: the longest ping gap is under 1.5 s (it was ${GAP_MS} ms)" 1500 "$GAP_MS"
expect_eq "carrier loss: no TCP interval without traffic" 0 "${EMPTY%% *}"
check "ping still answered, over vwtap1 alone" ip netns exec vwtaza ping -n -q -c 3 -i 0.05 -W 1 10.232.0.2
check "$B: vwtap0 back up" ip -n $B link set vwtap0 up
wait_until 10 "LACP: vwtap0 back in on both sides" bash -c "$(declare -f both_dist); both_dist $A && both_dist $B"

log "---- the partner falls silent on vwtap1 (its LACPDUs dropped on the wire)"
check "clsact on $B's vwtap1" ip netns exec $B tc qdisc add dev vwtap1 clsact
gap_run 6 ip netns exec $B tc filter add dev vwtap1 egress bpf da obj "$DROP_SLOW" sec tc
# 3 s after B's last LACPDU vwtap1 expires, 3 s later it is defaulted
expect_eq "$A: vwtap1 expired (or defaulted since), vwtap0 still in" "vwtap0:yes:no
vwtap1:no:yes" "$(hvwadm $A show-aggr -L -p -o port,dist,expired,defaulted vwtag0 |
	awk -F: '{ print $1 ":" $2 ":" ($3 == "yes" || $4 == "yes" ? "yes" : "no") }')"
# frames the partner sent on vwtap1 between our side's expiry and its
# hearing of it (our next LACPDU, sent at once) are lost: a few ms
expect_ge "partner silent: the longest ping gap is under 200 ms (it was ${GAP_MS} ms)" 200 "$GAP_MS"
expect_eq "partner silent: no TCP interval without traffic" 0 "${EMPTY%% *}"
check "$B's LACPDUs on vwtap1 again" ip netns exec $B tc qdisc del dev vwtap1 clsact
wait_until 10 "LACP: vwtap1 back in on both sides" bash -c "$(declare -f both_dist); both_dist $A && both_dist $B"

log "---- over the aggregation as over a phys: maxbw, a flow, a capture"
check "$A: maxbw=200M on vwtag0" hvwadm $A set-linkprop -t -p maxbw=200M vwtag0
ip netns exec vwtaza iperf3 -c 10.232.0.2 -p 5201 -t 2 -J >"$VW_TMP/maxbw.json" || fail "iperf3 through the shaped aggregation failed"
kbps=$(goodput "$VW_TMP/maxbw.json")
log "---- TCP through vwtag0 with maxbw=200M: $kbps kb/s"
expect_ge "maxbw holds the aggregation to 200M (+5 %)" 210000 "$kbps"
expect_ge "and lets at least 80 % through" "$kbps" 160000
check "$A: maxbw off" hvwadm $A reset-linkprop -p maxbw vwtag0
check "$A: a flow on vwtag0 (TCP port 5201)" hvwadm $A add-flow -t -l vwtag0 -a transport=tcp,remote_port=5201 vwtaf
check "iperf3 for the flow" ip netns exec vwtaza iperf3 -c 10.232.0.2 -p 5201 -t 1 -b 20M
expect_ge "the flow on the aggregation counted the stream's bytes (2.5 MB sent)" \
	"$(hvwstat $A show-flow -p -o obytes vwtaf)" 2000000
check "$A: remove the flow" hvwadm $A remove-flow vwtaf
"$VW_BIN/vwsnoop" --socket "$(_host_sock $A)" -l vwtag0 -c 5 -w "$VW_TMP/snoop.pcap" >/dev/null 2>"$VW_TMP/snoop.err" &
sp=$!
VW_BG_PIDS+=("$sp")
sleep 0.5
check "pings while vwsnoop captures on vwtag0" ip netns exec vwtaza ping -n -q -c 5 -i 0.05 -W 1 10.232.0.2
wait "$sp" || fail "vwsnoop -l vwtag0 failed: $(cat "$VW_TMP/snoop.err")"
expect_ge "vwsnoop on the aggregation wrote the echo requests (tshark reads them)" \
	"$(capture_count "$VW_TMP/snoop.pcap" 'icmp.type == 8 && ip.dst == 10.232.0.2')" 1

log "---- a mirror of vwtag0 to an analyser VNIC, and an IPFIX exporter on it"
check "$A: etherstub and zone for the analyser" \
	bash -c "hvwadm $A create-etherstub -t vwtastub && hvwadm $A create-zone vwtazz"
check "$A: the analyser VNIC" hvwadm $A create-vnic -t -l vwtastub -p zone=vwtazz vwtavz
check "$A: create-mirror -l vwtag0 -t vwtavz" hvwadm $A create-mirror -l vwtag0 -t vwtavz vwtam
CAP=$VW_TMP/mirror.pcap
capture_start vwtazz vwtavz "$CAP"
check "5 pings across the aggregation" ip netns exec vwtaza ping -n -q -c 5 -i 0.05 -W 1 10.232.0.2
wait_until 10 "the analyser has the 5 requests and 5 replies" bash -c \
	"[ \$(tshark -n -r '$CAP' -Y 'icmp && ip.addr == 10.232.0.2' 2>/dev/null | wc -l) -ge 10 ]"
capture_stop
expect_eq "the analyser saw the 5 requests that left on the members" 5 \
	"$(capture_count "$CAP" 'icmp.type == 8 && ip.src == 10.232.0.1 && ip.dst == 10.232.0.2')"
expect_eq "and the 5 replies that came in on them" 5 \
	"$(capture_count "$CAP" 'icmp.type == 0 && ip.src == 10.232.0.2 && ip.dst == 10.232.0.1')"
check "$A: delete-mirror" hvwadm $A delete-mirror vwtam
CAP=$VW_TMP/ipfix.pcap
capture_start $A lo "$CAP"
check "$A: create-exporter -l vwtag0" hvwadm $A create-exporter -T ipfix \
	-a collector=127.0.0.1:47392,idle=1,template=5 -l vwtag0 vwtax
check "5 pings across the aggregation" ip netns exec vwtaza ping -n -q -c 5 -i 0.05 -W 1 10.232.0.2
wait_until 15 "the exporter has sent the pings' two records" \
	bash -c "[ \$(hvwadm $A show-exporter -p -o records vwtax) -ge 2 ]"
wait_until 10 "the capture holds records naming vwtag0" bash -c "tshark -n -r '$CAP' -d udp.port==47392,cflow \
	-Y 'cflow.if_name == \"vwtag0\" && cflow.protocol == 1' -T fields -e frame.number 2>/dev/null | grep -q ."
capture_stop
check "$A: delete-exporter" hvwadm $A delete-exporter vwtax

log "---- bad input: refused with one line, nothing changed"
host_link $A vwtap2 $B vwtap2
host_link $A vwtap3 $B vwtap3
check "$A: vwtap3 MTU 9000" ip -n $A link set vwtap3 mtu 9000
before=$(hvwadm $A export)
bad() {   # DESC WORDS...: the command fails with one line naming the object
	local out
	if out=$(hvwadm $A "${@:2}" 2>&1); then
		fail "$1: accepted: vwadm ${*:2}"
	fi
	VW_NCHECK=$((VW_NCHECK + 1))
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "$1: more than one line: $out"
	log "ok   - $1: $out"
}
bad "a member of another aggregation" create-aggr -l vwtap0 -l vwtap2 vwtag1
bad "a member of a different MTU" add-aggr -l vwtap3 vwtag0
bad "removing every member" remove-aggr -l vwtap0 -l vwtap1 vwtag0
bad "a link named twice" create-aggr -l vwtap2 -l vwtap2 vwtag1
bad "no such link" create-aggr -l vwtanone vwtag1
bad "an invalid policy" create-aggr -P L5 -l vwtap2 vwtag1
bad "an invalid LACP mode" modify-aggr -L sometimes vwtag0
bad "deleting an aggregation with VNICs" delete-aggr vwtag0
bad "a VNIC over a member" create-vnic -l vwtap0 vwtax
check "$A: a VNIC over vwtap2 (a phys link now)" hvwadm $A create-vnic -l vwtap2 vwtaxa
bad "a phys link with VNICs" add-aggr -l vwtap2 vwtag0
check "$A: delete that VNIC" hvwadm $A delete-vnic vwtaxa
expect_eq "nothing changed" "$before" "$(hvwadm $A export)"

log "---- add, remove, modify; the configuration is saved and survives a restart"
check "$A: add-aggr vwtap2" hvwadm $A add-aggr -l vwtap2 vwtag0
check "$B: add-aggr vwtap2" hvwadm $B add-aggr -l vwtap2 vwtag0
wait_until 10 "$A: three members distributing" \
	bash -c "[ \$(hvwadm $A show-aggr -L -p -o dist vwtag0 | grep -c yes) = 3 ]"
check "$A: remove-aggr vwtap2" hvwadm $A remove-aggr -l vwtap2 vwtag0
check "$A: modify-aggr -P L3,L4 -T long" hvwadm $A modify-aggr -P L3,L4 -T long vwtag0
expect_eq "$A: export" "create-aggr -l vwtap0 -l vwtap1 -P L3,L4 -L active -T long vwtag0" \
	"$(hvwadm $A export | grep aggr)"
host_stop $A
host_start $A
expect_eq "$A: after a restart" "vwtag0:L3,L4:active:long:vwtap0,vwtap1" \
	"$(hvwadm $A show-aggr -p -o link,policy,lacpactivity,lacptimer,ports | sed 's/\\:/:/g')"
wait_ping 10 vwtaza 10.232.0.2
check "$A: delete its VNICs" bash -c "hvwadm $A delete-vnic vwtava && hvwadm $A delete-vnic vwtawa"
check "$A: delete-aggr" hvwadm $A delete-aggr vwtag0
check "$A: vwtap0 can be a phys link again" hvwadm $A create-vnic -t -l vwtap0 vwtaxb
