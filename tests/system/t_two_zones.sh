#!/usr/bin/env bash
# Two zones on one etherstub: IPv4 and IPv6 ping (IPv6 neighbour discovery
# needs the switch to deliver solicited-node multicast to the VNICs that
# joined it), a 3-second iperf3 TCP run, and vwstat counting the traffic.
VWT_OWN="vwt2"
. "$(dirname "$0")/lib.sh"

ZA=vwt2za ZB=vwt2zb STUB=vwt2s VA=vwt2a VB=vwt2b
A4=10.200.2.1 B4=10.200.2.2 A6=fd00:200:2::1 B6=fd00:200:2::2

vw_start
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
check "address $A6/64 on $VA" vwadm create-addr -a $A6/64 $VA
check "address $B6/64 on $VB" vwadm create-addr -a $B6/64 $VB
check "$VA is up in zone $ZA" ip -n $ZA link show $VA up
check "$VB is up in zone $ZB" ip -n $ZB link show $VB up
expect_eq "show-vnic lists both VNICs with their zones" "$VA:$STUB:0:$ZA
$VB:$STUB:0:$ZB" "$(vwadm show-vnic -p -o link,over,vid,zone)"

# IPv4
wait_ping 10 $ZA $B4
wait_ping 10 $ZB $A4
read -r a_op0 b_ip0 < <(echo "$(vw_counter $VA opkts) $(vw_counter $VB ipkts)")
check "10 IPv4 pings $ZA -> $ZB" bash -c "ip netns exec $ZA ping -n -q -c 10 -i 0.05 -W 1 $B4 > '$VW_TMP/ping.out'"
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$VW_TMP/ping.out")
log "---- $(grep 'packets transmitted' "$VW_TMP/ping.out")"
expect_ge "$VA OPKTS grew by the 10 echo requests at least" $(($(vw_counter $VA opkts) - a_op0)) 10
expect_ge "$VB IPKTS grew by the echo requests answered at least" $(($(vw_counter $VB ipkts) - b_ip0)) "$received"

# IPv6: no static neighbour entries, so this needs NS/NA through the switch.
check "no IPv6 neighbour entry for $B6 in $ZA before the ping" \
	bash -c "! ip -n $ZA -6 neigh show $B6 | grep -q lladdr"
wait_ping 15 $ZA $B6
wait_ping 15 $ZB $A6
mac_b=$(vwadm show-vnic -p -o macaddress $VB | sed 's/\\//g')
check "IPv6 neighbour discovery in $ZA learnt $B6 at $VB's MAC $mac_b" \
	bash -c "ip -n $ZA -6 neigh show $B6 dev $VA | grep -qi 'lladdr $mac_b'"
check "6 IPv6 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 6 -i 0.05 -W 1 $B6

# iperf3 TCP for 3 seconds
read -r a_ip0 a_ob0 a_op0 < <(vwstat -p -o ipkts,obytes,opkts $VA | tr : ' ')
read -r b_ip0 b_rb0 b_op0 < <(vwstat -p -o ipkts,rbytes,opkts $VB | tr : ' ')
vw_bg ip netns exec $ZB iperf3 -s -1 -B $B4 --logfile "$VW_TMP/iperf3-server.log"
wait_until 10 "iperf3 server listening in $ZB" bash -c "ip netns exec $ZB ss -Hltn 'sport = :5201' | grep -q 5201"
check "iperf3 TCP $ZA -> $ZB for 3 seconds" \
	bash -c "ip netns exec $ZA iperf3 -c $B4 -t 3 -J > '$VW_TMP/iperf3.json'"
read -r sent bps < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(int(r["end"]["sum_sent"]["bytes"]), int(r["end"]["sum_received"]["bits_per_second"]))' "$VW_TMP/iperf3.json")
log "---- iperf3: $sent bytes sent, $((bps / 1000000)) Mb/s received"
expect_ge "iperf3 throughput is nonzero (bit/s)" "$bps" 1
expect_ge "iperf3 moved at least 1 MB" "$sent" 1000000
read -r a_ip1 a_ob1 a_op1 < <(vwstat -p -o ipkts,obytes,opkts $VA | tr : ' ')
read -r b_ip1 b_rb1 b_op1 < <(vwstat -p -o ipkts,rbytes,opkts $VB | tr : ' ')
expect_ge "$VA OBYTES grew by at least the bytes iperf3 sent" $((a_ob1 - a_ob0)) "$sent"
expect_ge "$VB RBYTES grew by at least the bytes iperf3 sent" $((b_rb1 - b_rb0)) "$sent"
# The TAP faces take TCP segmentation offload: frames cross the switch as
# super-frames of up to 64 KiB and are counted as such.
expect_ge "$VA OPKTS grew by at least one frame per 64 KiB" $((a_op1 - a_op0)) $((sent / 65536))
expect_ge "$VB IPKTS grew by at least one frame per 64 KiB" $((b_ip1 - b_ip0)) $((sent / 65536))
expect_ge "$VB OPKTS grew (TCP acknowledgements)" $((b_op1 - b_op0)) 100
expect_ge "$VA IPKTS grew (TCP acknowledgements)" $((a_ip1 - a_ip0)) 100
expect_ge "the etherstub $STUB counted the traffic too" "$(vw_counter $STUB ipkts)" $((a_op1 - a_op0))
expect_eq "no frame for $VA or $VB was lost (ODROPS)" "$VA:0
$VB:0" "$(vwstat -p -o link,odrops $VA $VB)"
check "vwstat default table lists $VA and $VB" bash -c "vwstat | grep -q '^$VA ' && vwstat | grep -q '^$VB '"

# Human units (as dlstat): the table scales counters, -u fixes the unit,
# -p and JSON stay exact.  $VB received over 1 MB above.
rb_p0=$(vw_counter $VB rbytes)
rb_auto=$(vwstat $VB | awk 'NR == 2 { print $3 }')
rb_raw=$(vwstat -u R $VB | awk 'NR == 2 { print $3 }')
rb_k=$(vwstat -u k -o rbytes $VB | awk 'NR == 2 { print $1 }')
rb_json=$(vwstat -F json -o rbytes $VB | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["rbytes"])')
rb_p1=$(vw_counter $VB rbytes)
check "vwstat default table: $VB RBYTES in units, '$rb_auto' (-p: $rb_p0)" \
	bash -c "[[ '$rb_auto' =~ ^[0-9]{1,4}\.[0-9]{2}[KMGTP]\$ ]]"
expect_ge "vwstat -u R: $VB RBYTES is the raw number, as -p before" "$rb_raw" "$rb_p0"
expect_ge "vwstat -u R: $VB RBYTES is the raw number, as -p after" "$rb_p1" "$rb_raw"
check "vwstat -u k: $VB RBYTES in K, '$rb_k'" bash -c "[[ '$rb_k' =~ ^[0-9]+\.[0-9]{2}K\$ ]]"
expect_ge "vwstat -F json: $VB rbytes exact, as -p before" "$rb_json" "$rb_p0"
expect_ge "vwstat -F json: $VB rbytes exact, as -p after" "$rb_p1" "$rb_json"
rc=0
vwstat -u X $VB >"$VW_TMP/out" 2>"$VW_TMP/err" || rc=$?
expect_eq "vwstat -u X: exit 2, one line, nothing on stdout" \
	"2 vwstat: invalid unit 'X' (R, K, M, G, T or P) " "$rc $(cat "$VW_TMP/err") $(cat "$VW_TMP/out")"

vw_stop
faces_after_stop $ZA $VA
faces_after_stop $ZB $VB
