#!/usr/bin/env bash
# IPFIX export (create-exporter -T ipfix): two zones on an etherstub, an
# exporter on zone A's VNIC sending to nfcapd on 127.0.0.1, a known traffic
# mix (IPv4 pings, IPv4 and IPv6 UDP datagrams, a 1,000,000-byte TCP
# transfer).  After the idle timeout nfdump reads back the flows, packets
# and bytes; tshark decodes the templates and data, and the sequence numbers
# run on without a gap.  Then a forced end (delete-exporter), the metrics
# endpoint, a restart (the exporter is saved) and bad input.
VWT_OWN="vwtip"
. "$(dirname "$0")/lib.sh"

ZA=vwtipza ZB=vwtipzb STUB=vwtips VA=vwtipa VB=vwtipb
A4=10.200.9.1 B4=10.200.9.2 A6=fd00:200:9::1 B6=fd00:200:9::2
PORT=24739 MPORT=24740
NF=$VW_TMP/nf CAP=$VW_TMP/ipfix.pcap

vw_start --metrics 127.0.0.1:$MPORT
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
check "address $A6/64 on $VA" vwadm create-addr -a $A6/64 $VA
check "address $B6/64 on $VB" vwadm create-addr -a $B6/64 $VB
wait_ping 10 $ZA $B4
wait_ping 15 $ZA $B6

# the collector, and a capture of what reaches it
mkdir -p "$NF"
vw_bg nfcapd -w "$NF" -p $PORT -b 127.0.0.1 -t 3600
NFCAPD=$VW_BG_PID
wait_until 10 "nfcapd listening on 127.0.0.1:$PORT" bash -c "ss -Hlun 'sport = :$PORT' | grep -q $PORT"
vw_bg tshark -n -q -i lo -f "udp port $PORT" -w "$CAP" >"$CAP.log" 2>&1
TSHARK=$VW_BG_PID
wait_until 30 "tshark captures on lo" grep -q "Capture started" "$CAP.log"

check "create-exporter X1 on $VA" vwadm create-exporter -T ipfix \
	-a collector=127.0.0.1:$PORT,active=60,idle=2,template=5 -l $VA vwtipx1
expect_eq "show-exporter lists X1" "vwtipx1:ipfix:127.0.0.1\:$PORT:$VA" \
	"$(vwadm show-exporter -p -o exporter,type,collector,links)"

# A UDP sink in zone B (no ICMP port-unreachable replies to count)
vw_bg ip netns exec $ZB python3 -c '
import socket, select, sys
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind((sys.argv[1], 9999))
b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); b.bind((sys.argv[2], 9999))
while True:
    for s in select.select([a, b], [], [])[0]:
        s.recv(65536)' $B4 $B6
SINK=$VW_BG_PID
wait_until 10 "UDP sink listening in $ZB" bash -c "ip netns exec $ZB ss -Hlun 'sport = :9999' | grep -q 9999"
# a TCP sink in zone B that reads to the end
vw_bg ip netns exec $ZB python3 -c '
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((sys.argv[1], 5555)); l.listen(1)
c, _ = l.accept(); n = 0
while True:
    d = c.recv(1 << 20)
    if not d: break
    n += len(d)
open(sys.argv[2], "w").write(str(n)); c.close()' $B4 "$VW_TMP/tcp.count"
TSINK=$VW_BG_PID
wait_until 10 "TCP sink listening in $ZB" bash -c "ip netns exec $ZB ss -Hltn 'sport = :5555' | grep -q 5555"

udp_send() { # ZONE FAMILY SRC DST SPORT COUNT SIZE
	ip netns exec "$1" python3 -c '
import socket, sys
f, src, dst, sp, n, size = sys.argv[1:]
s = socket.socket(socket.AF_INET6 if f == "6" else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, int(sp)))
for i in range(int(n)):
    s.sendto(b"x" * int(size), (dst, 9999))' "${@:2}"
}

check "5 pings of 200 bytes $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 5 -s 200 -i 0.05 -W 1 $B4
check "20 UDP datagrams of 300 bytes over IPv4" udp_send $ZA 4 $A4 $B4 40001 20 300
check "10 UDP datagrams of 100 bytes over IPv6" udp_send $ZA 6 $A6 $B6 40002 10 100
check "1,000,000 bytes over TCP $ZA -> $ZB" ip netns exec $ZA python3 -c '
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 40003)); s.connect((sys.argv[2], 5555))
s.sendall(b"y" * 1000000); s.shutdown(socket.SHUT_WR); s.recv(1); s.close()' $A4 $B4
wait_until 10 "the TCP sink read 1,000,000 bytes" bash -c "[ \"\$(cat '$VW_TMP/tcp.count' 2>/dev/null)\" = 1000000 ]"

# the idle timeout (2 s) ends every flow; the exporter sends them
wait_until 30 "X1's flows all ended (FLOWS 0) and were sent" bash -c \
	"[ \"\$(vwadm show-exporter -p -o flows vwtipx1)\" = 0 ] && [ \"\$(vwadm show-exporter -p -o records vwtipx1)\" -ge 6 ]"
records=$(vwadm show-exporter -p -o records vwtipx1)
expect_eq "no record dropped (DROPS)" 0 "$(vwadm show-exporter -p -o drops vwtipx1)"
log "---- X1: $records records, $(vwadm show-exporter -p -o messages vwtipx1) messages"
curl -s http://127.0.0.1:$MPORT/metrics > "$VW_TMP/metrics"
# (IPv6 neighbour discovery may have added a flow since: >=)
expect_ge "metrics: vwire_exporter_records_total for X1" \
	"$(sed -n 's/^vwire_exporter_records_total{exporter="vwtipx1"} //p' "$VW_TMP/metrics")" "$records"
check "metrics: vwire_exporter_drops_total for X1" \
	grep -qx 'vwire_exporter_drops_total{exporter="vwtipx1"} 0' "$VW_TMP/metrics"

# a forced end: X2 (domain 2, idle 60 s) is deleted while its flow is open
check "create-exporter X2 (domain 2)" vwadm create-exporter -T ipfix \
	-a collector=127.0.0.1:$PORT,idle=60,domain=2 vwtipx2
check "3 UDP datagrams on a new flow" udp_send $ZA 4 $A4 $B4 40004 3 50
wait_until 10 "X2 meters the new flow" bash -c "[ \"\$(vwadm show-exporter -p -o flows vwtipx2)\" -ge 1 ]"
check "delete-exporter X2" vwadm delete-exporter vwtipx2
expect_eq "X2 is gone" "vwtipx1" "$(vwadm show-exporter -p -o exporter)"
# X1 too: what it still held is sent before delete-exporter returns, and
# nothing more goes to the collector
check "delete-exporter X1" vwadm delete-exporter vwtipx1
sleep 1 # let the last datagrams reach nfcapd and tshark over loopback; nothing asserted on time
vw_bg_stop $TSHARK INT
vw_bg_stop $NFCAPD TERM

# ---- what nfdump read
nfdump -R "$NF" -q -N -o csv > "$VW_TMP/flows.csv" 2>"$VW_TMP/nfdump.err" || true
log "---- nfdump:"; sed 's/^/    /' "$VW_TMP/flows.csv" | head -40
# columns: ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,...
sum() { # FILTER(awk) -> "flows packets bytes"
	awk -F, "NF > 12 && \$1 ~ /^[0-9]/ && ($1) { f++; p += \$12; b += \$13 } END { printf \"%d %d %d\\n\", f, p, b }" \
		"$VW_TMP/flows.csv"
}
expect_eq "ICMP: echo requests out and replies in, 5 each, 228 bytes each" "2 10 2280" \
	"$(sum "\$8 == \"ICMP\" && \$4 == \"$A4\" || \$8 == \"ICMP\" && \$5 == \"$A4\"")"
expect_eq "UDP over IPv4: 20 datagrams of 328 bytes in one flow" "1 20 6560" "$(sum "\$8 == \"UDP\" && \$6 == 40001")"
expect_eq "UDP over IPv6: 10 datagrams of 148 bytes in one flow" "1 10 1480" "$(sum "\$8 == \"UDP\" && \$6 == 40002")"
read -r tf tp tb < <(sum "\$8 == \"TCP\" && \$6 == 40003")
log "---- TCP $A4:40003 -> $B4:5555: $tf records, $tp packets, $tb bytes"
# the data as segments on the wire: 1448-byte MSS (timestamps) -> 691 data
# segments at least; every segment carries 20 + 32 bytes of headers (the
# SYN 20 + 40): the bytes are the data plus the headers, within 1%
expect_ge "TCP: the segments on the wire are counted, not the super-frames" "$tp" 692
want=$((1000000 + 52 * tp))
expect_ge "TCP bytes >= 99% of data + headers ($want)" $((tb * 100)) $((want * 99))
expect_ge "TCP bytes <= 101% of data + headers ($want)" $((want * 101)) $((tb * 100))
total=$(awk -F, 'NF > 12 && $1 ~ /^[0-9]/' "$VW_TMP/flows.csv" | wc -l)

# ---- what tshark decodes
dec() { tshark -n -r "$CAP" -d udp.port==$PORT,cflow "$@" 2>/dev/null; }
export CAP PORT
export -f dec
check "template 256 (IPv4) is sent" bash -c "[ \"\$(dec -Y 'cflow.template_id == 256' -T fields -e frame.number | wc -l)\" -ge 1 ]"
check "template 257 (IPv6) is sent" bash -c "[ \"\$(dec -Y 'cflow.template_id == 257' -T fields -e frame.number | wc -l)\" -ge 1 ]"
expect_eq "IPFIX version 10, observation domains 1 (X1) and 2 (X2)" "10 1
10 2" "$(dec -T fields -e cflow.version -e cflow.od_id | sort -u | tr '\t' ' ')"
check "a record names $VA (interfaceName) with its VLAN and MAC" bash -c \
	"dec -Y 'cflow.if_name == \"$VA\" && cflow.vlanid == 0' -T fields -e cflow.srcmac | grep -qi '$(vwadm show-vnic -p -o macaddress $VA | sed 's/\\//g')'"
check "the TCP flow ended on FIN (flowEndReason 3)" bash -c \
	"dec -Y 'cflow.flow_end_reason == 3 && cflow.srcport == 40003' -T fields -e frame.number | grep -q ."
check "the UDP flows ended on the idle timeout (flowEndReason 1)" bash -c \
	"dec -Y 'cflow.flow_end_reason == 1 && cflow.srcport == 40001 && cflow.packets == 20' -T fields -e frame.number | grep -q ."
check "X2's flow was ended by delete-exporter (flowEndReason 4, 3 packets)" bash -c \
	"dec -Y 'cflow.od_id == 2 && cflow.flow_end_reason == 4 && cflow.srcport == 40004 && cflow.packets == 3' -T fields -e frame.number | grep -q ."
check "IPv6 record with its addresses" bash -c \
	"dec -Y 'cflow.srcaddrv6 == $A6 && cflow.dstaddrv6 == $B6 && cflow.packets == 10' -T fields -e frame.number | grep -q ."
# sequence numbers: each message's is the previous one's plus its records
dec -T fields -E occurrence=a -E aggregator=, -e cflow.od_id -e cflow.sequence -e cflow.octets > "$VW_TMP/seq.txt"
gaps=$(awk -F'\t' '{ n = $3 == "" ? 0 : split($3, x, ","); if (($1) in next_ && $2 != next_[$1]) g++; next_[$1] = $2 + n }
	END { print g + 0 }' "$VW_TMP/seq.txt")
expect_eq "sequence numbers continuous in each domain" 0 "$gaps"
expect_eq "nfdump has every record sent (last sequence number + its records, both domains)" "$total" \
	"$(awk -F'\t' '{ n = $3 == "" ? 0 : split($3, x, ","); s[$1] = $2 + n } END { print s[1] + s[2] }' "$VW_TMP/seq.txt")"

# ---- saved across a restart
check "create-exporter X1 again" vwadm create-exporter -T ipfix \
	-a collector=127.0.0.1:$PORT,active=60,idle=2,template=5 -l $VA vwtipx1
check "the saved state has X1" bash -c "vwadm export | grep -qx 'create-exporter -T ipfix -a collector=127.0.0.1:$PORT,active=60,idle=2,template=5,domain=1 -l $VA vwtipx1'"
check "create-exporter X4 with cache=100000" vwadm create-exporter -T ipfix -a collector=127.0.0.1:9,cache=100000 -l $VA vwtipx4
expect_eq "X4's cache: 100000 rounded up to a power of 2" "65536 131072" \
	"$(vwadm show-exporter -p -o cache vwtipx1 vwtipx4 | sort -n | tr '\n' ' ' | sed 's/ $//')"
vw_stop
vw_start
expect_eq "X4 keeps its cache after the restart" 131072 "$(vwadm show-exporter -p -o cache vwtipx4)"
check "delete-exporter X4" vwadm delete-exporter vwtipx4
expect_eq "X1 is back after the restart" "vwtipx1:127.0.0.1\:$PORT:$VA:60:2" \
	"$(vwadm show-exporter -p -o exporter,collector,links,active,idle)"
wait_until 15 "$VA is back in $ZA" ip -n $ZA link show $VA up
wait_ping 15 $ZA $B4
wait_until 30 "X1 exports again after the restart" bash -c \
	"[ \"\$(vwadm show-exporter -p -o records vwtipx1)\" -ge 2 ] && [ \"\$(vwadm show-exporter -p -o flows vwtipx1)\" = 0 ]"

# ---- bad input: one line, nothing changed
before=$(vwadm show-exporter -p -o exporter,collector,links)
bad() { # DESC ARGS...
	local desc=$1 out rc=0
	shift
	out=$(vwadm "$@" 2>&1) || rc=$?
	expect_ge "$desc: refused" "$rc" 1
	expect_eq "$desc: one line of error" 1 "$(printf '%s\n' "$out" | wc -l)"
	log "     ($out)"
}
bad "collector without port" create-exporter -T ipfix -a collector=127.0.0.1 vwtipx3
bad "collector port 0" create-exporter -T ipfix -a collector=127.0.0.1:0 vwtipx3
bad "collector not an address" create-exporter -T ipfix -a collector=1.2.3:99 vwtipx3
bad "IPv6 collector without brackets" create-exporter -T ipfix -a collector=::1:99 vwtipx3
bad "unknown attribute" create-exporter -T ipfix -a collector=127.0.0.1:9,color=red vwtipx3
bad "active timeout 0" create-exporter -T ipfix -a collector=127.0.0.1:9,active=0 vwtipx3
bad "idle timeout too long" create-exporter -T ipfix -a collector=127.0.0.1:9,idle=99999 vwtipx3
bad "template interval not a number" create-exporter -T ipfix -a collector=127.0.0.1:9,template=x vwtipx3
bad "cache too small" create-exporter -T ipfix -a collector=127.0.0.1:9,cache=100 vwtipx3
bad "cache not a number" create-exporter -T ipfix -a collector=127.0.0.1:9,cache=lots vwtipx3
bad "no collector" create-exporter -T ipfix -a active=5 vwtipx3
bad "unknown type" create-exporter -T netflow -a collector=127.0.0.1:9 vwtipx3
bad "unknown link" create-exporter -T ipfix -a collector=127.0.0.1:9 -l vwtipnone vwtipx3
bad "an etherstub" create-exporter -T ipfix -a collector=127.0.0.1:9 -l $STUB vwtipx3
bad "duplicate name" create-exporter -T ipfix -a collector=127.0.0.1:9 vwtipx1
bad "delete unknown" delete-exporter vwtipx3
bad "show unknown" show-exporter vwtipx3
expect_eq "bad input changed nothing" "$before" "$(vwadm show-exporter -p -o exporter,collector,links)"
check "an IPv6 collector in brackets is taken" vwadm create-exporter -T ipfix -a "collector=[::1]:$PORT" vwtipx4
expect_eq "it is shown in brackets, for every VNIC" "vwtipx4:[\:\:1]\:$PORT:all" \
	"$(vwadm show-exporter -p -o exporter,collector,links vwtipx4)"
check "delete it" vwadm delete-exporter vwtipx4
# a listed VNIC deleted: the exporter lets it go and is not saved with it
check "delete $VA" vwadm delete-vnic $VA
expect_eq "X1 lists no link any more" "vwtipx1:--" "$(vwadm show-exporter -p -o exporter,links)"
check "delete-exporter X1" vwadm delete-exporter vwtipx1
expect_eq "no exporter left" "" "$(vwadm show-exporter -p -o exporter)"
vw_bg_stop $SINK
vw_bg_stop $TSINK
