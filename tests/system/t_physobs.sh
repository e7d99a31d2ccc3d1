#!/usr/bin/env bash
# What watches a phys link (a veth end here, its peer in a namespace that
# plays the wire's far side): an IPFIX exporter on the phys (tshark decodes
# records that name it, with the ping's packets), a mirror of the phys to an
# analyser VNIC (it sees both directions, as on the wire), and a mirror
# whose destination is the phys (the far side receives the copies).
VWT_OWN="vwtn"
. "$(dirname "$0")/lib.sh"

FAR=vwtnfar ZA=vwtnza ZB=vwtnzb ZZ=vwtnzz VA=vwtna VB=vwtnb VZ=vwtnz STUBZ=vwtnsz PHYS=vwtn0
F4=10.200.71.1 A4=10.200.71.2 Z4=10.200.72.1 B4=10.200.72.2
PORT=47391
CAP=$VW_TMP/cap.pcap

far_side $FAR vwtn $F4

vw_start
for z in $ZA $ZB $ZZ; do
	check "create zone $z" vwadm create-zone $z
	# no IPv6: its autoconfiguration would put frames of its own in the counts
	check "IPv6 off in $z" ip netns exec $z sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
check "IPv6 off in $FAR" ip netns exec $FAR sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
check "create VNIC $VA over $PHYS in $ZA" vwadm create-vnic -l $PHYS -p zone=$ZA $VA
check "create etherstub $STUBZ" vwadm create-etherstub $STUBZ
check "create VNIC $VZ in $ZZ (the analyser)" vwadm create-vnic -l $STUBZ -p zone=$ZZ $VZ
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUBZ -p zone=$ZB $VB
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $Z4/24 on $VZ" vwadm create-addr -a $Z4/24 $VZ
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $F4
wait_ping 10 $ZZ $B4

pings() { ip netns exec "$1" ping -n -q -c 5 -i 0.05 -W 1 "$2" >/dev/null; }
count() { capture_count "$CAP" "$1"; }
req() { echo "icmp.type == 8 && ip.src == $1 && ip.dst == $2"; }
rep() { echo "icmp.type == 0 && ip.src == $1 && ip.dst == $2"; }

log "---- an IPFIX exporter on $PHYS"
capture_start - lo "$CAP"
check "create-exporter -l $PHYS" vwadm create-exporter -T ipfix -a collector=127.0.0.1:$PORT,idle=1,template=5 -l $PHYS vwtnx
expect_eq "show-exporter: it meters $PHYS" "vwtnx:$PHYS" "$(vwadm show-exporter -p -o exporter,links)"
check "5 pings $ZA -> $F4 over $PHYS" pings $ZA $F4
wait_until 15 "the exporter has sent the ping's two records" \
	bash -c "[ \$(vwadm show-exporter -p -o records vwtnx) -ge 2 ]"
dec() { tshark -n -r "$CAP" -d udp.port==$PORT,cflow "$@" 2>/dev/null; }
export CAP PORT
export -f dec
# one line per data record (a message may hold several; not the copies
# quoted in ICMP errors, as nothing listens): NAME SRC DST PACKETS
records() {
	dec -Y 'cflow.if_name && !icmp' -T fields -E occurrence=a -E aggregator=, -e cflow.if_name -e cflow.srcaddr \
		-e cflow.dstaddr -e cflow.packets |
		awk -F'\t' '{ n = split($1, a, ","); split($2, s, ","); split($3, d, ","); split($4, p, ",")
			for (i = 1; i <= n; i++) print a[i], s[i], d[i], p[i] }'
}
# The packets of a flow in its records: each worker meters what it forwards,
# so a flow whose first frame one worker read and the rest another (a
# VNIC's TAP steers a flow to the worker that wrote its last reply) has a
# record from each
flow_pkts() { records | awk -v n=$PHYS -v s=$1 -v d=$2 '$1 == n && $2 == s && $3 == d { t += $4 } END { print t + 0 }'; }
export PHYS
export -f records flow_pkts
# each worker that metered part of a flow sends its own record, each when
# the flow has been idle for its idle timeout: wait for all of them
wait_until 15 "the capture holds the records of all the requests and replies" bash -c \
	"[ \$(flow_pkts $A4 $F4) -ge 5 ] && [ \$(flow_pkts $F4 $A4) -ge 5 ]"
capture_stop
expect_eq "records of the requests to the wire: $A4 -> $F4, 5 packets, named $PHYS" 5 "$(flow_pkts $A4 $F4)"
expect_eq "records of the replies from the wire: $F4 -> $A4, 5 packets" 5 "$(flow_pkts $F4 $A4)"
check "delete-exporter" vwadm delete-exporter vwtnx

log "---- a mirror of $PHYS to the analyser $VZ"
check "create-mirror -l $PHYS -t $VZ" vwadm create-mirror -l $PHYS -t $VZ vwtnm1
capture_start $ZZ $VZ "$CAP"
check "5 pings $ZA -> $F4" pings $ZA $F4
wait_until 10 "the mirror counts 10 frames" bash -c "[ \$(vwadm show-mirror -p -o pkts vwtnm1) -ge 10 ]"
wait_until 10 "the analyser has 10 echo frames" bash -c "[ \$(tshark -n -r '$CAP' -Y 'icmp.type == 8 || icmp.type == 0' 2>/dev/null | wc -l) -ge 10 ]"
capture_stop
expect_eq "the analyser saw the 5 requests that went on the wire" 5 "$(count "$(req $A4 $F4)")"
expect_eq "and the 5 replies that came from it" 5 "$(count "$(rep $F4 $A4)")"
expect_eq "no drops" 0 "$(vwadm show-mirror -p -o drops vwtnm1)"
check "delete-mirror vwtnm1" vwadm delete-mirror vwtnm1

log "---- a mirror to $PHYS: the far side gets the copies"
check "create-mirror -l $VZ -t $PHYS" vwadm create-mirror -l $VZ -t $PHYS vwtnm2
capture_start $FAR vwtn1 "$CAP"
check "5 pings $ZZ -> $B4 (on $STUBZ, nothing to do with the wire)" pings $ZZ $B4
wait_until 10 "the mirror counts 10 frames" bash -c "[ \$(vwadm show-mirror -p -o pkts vwtnm2) -ge 10 ]"
wait_until 10 "the far side has 10 echo frames" bash -c "[ \$(tshark -n -r '$CAP' -Y 'icmp.type == 8 || icmp.type == 0' 2>/dev/null | wc -l) -ge 10 ]"
capture_stop
expect_eq "the far side saw the 5 requests $Z4 -> $B4" 5 "$(count "$(req $Z4 $B4)")"
expect_eq "and the 5 replies" 5 "$(count "$(rep $B4 $Z4)")"
expect_eq "no drops" 0 "$(vwadm show-mirror -p -o drops vwtnm2)"
check "delete-mirror vwtnm2" vwadm delete-mirror vwtnm2

vw_stop
