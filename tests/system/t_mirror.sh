#!/usr/bin/env bash
# Port mirroring.  Three zones talk on an etherstub; an analyser zone's VNIC
# (on an etherstub of its own) gets SPAN copies: both directions of a ping,
# or one with -d, or what -f selects; an etherstub source shows every frame
# once; TCP super-frames arrive cut to wire size with good checksums.  GRE
# and ERSPAN mirrors send to an address in a namespace this test makes (a
# veth from the daemon's namespace), where tshark decodes the original
# frames.  show-mirror counts; a restart keeps the mirrors; sources follow
# deleted VNICs; a destination VNIC is not deleted; bad input changes nothing.
VWT_OWN="vwtg"
. "$(dirname "$0")/lib.sh"

ZA=vwtgza ZB=vwtgzb ZC=vwtgzc ZZ=vwtgzz NS=vwtgns
STUB=vwtgs STUBZ=vwtgsz VA=vwtga VB=vwtgb VC=vwtgc VZ=vwtgz
A4=10.200.61.1 B4=10.200.61.2 C4=10.200.61.3
H4=10.200.62.1 N4=10.200.62.2 VH=vwtgv0 VN=vwtgv1

vw_start
for z in $ZA $ZB $ZC $ZZ; do
	check "create zone $z" vwadm create-zone $z
	# no IPv6: its autoconfiguration would put frames of its own in the counts
	check "IPv6 off in $z" ip netns exec $z sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create etherstub $STUBZ (the analyser's)" vwadm create-etherstub $STUBZ
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "create VNIC $VC in $ZC" vwadm create-vnic -l $STUB -p zone=$ZC $VC
check "create VNIC $VZ in $ZZ" vwadm create-vnic -l $STUBZ -p zone=$ZZ $VZ
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
check "address $C4/24 on $VC" vwadm create-addr -a $C4/24 $VC
check "$VZ is up in $ZZ" ip netns exec $ZZ ip link set $VZ up
wait_ping 10 $ZA $B4
wait_ping 10 $ZC $B4
MAC_A=$(vwadm show-vnic -p -o macaddress $VA | sed 's/\\//g')
MAC_B=$(vwadm show-vnic -p -o macaddress $VB | sed 's/\\//g')

CAP=$VW_TMP/cap.pcap
# pings ZONE ADDR: 5 pings
pings() { ip netns exec "$1" ping -n -q -c 5 -i 0.05 -W 1 "$2" >/dev/null; }
# count FILTER: frames of the last capture matching a display filter
count() { capture_count "$CAP" "$1"; }
# field FIELD: mirror field of show-mirror -p
mfield() { vwadm show-mirror -p -o "$2" "$1"; }
# cap_wait N FILTER: until the capture being written has N such frames
# (tshark may hold the last ones back until then)
cap_wait() { wait_until 10 "the capture has $1 frames of: $2" bash -c "[ \$(tshark -n -r '$CAP' -Y '$2' 2>/dev/null | wc -l) -ge $1 ]"; }
# mirrored MIRROR N ZONE ADDR [ZONE ADDR]: the analyser captures while ZONE
# pings ADDR 5 times (each pair), until MIRROR has sent N frames and the
# capture holds N echo requests and replies
mirrored() {
	local m=$1 n=$2
	shift 2
	capture_start $ZZ $VZ "$CAP"
	while [ $# -ge 2 ]; do
		check "5 pings $1 -> $2" pings "$1" "$2"
		shift 2
	done
	wait_until 10 "$m counts $n frames" bash -c "[ \$(vwadm show-mirror -p -o pkts $m) -ge $n ]"
	cap_wait "$n" "icmp.type == 8 || icmp.type == 0"
	capture_stop
}
req() { echo "icmp.type == 8 && ip.src == $1 && ip.dst == $2"; }
rep() { echo "icmp.type == 0 && ip.src == $1 && ip.dst == $2"; }

log "---- SPAN of $VA to $VZ, both directions"
check "create-mirror -l $VA -t $VZ vwtgm1" vwadm create-mirror -l $VA -t $VZ vwtgm1
expect_eq "show-mirror lists it" "vwtgm1:$VA:both::$VZ:0" "$(vwadm show-mirror -p -o mirror,links,dir,filter,dest,drops)"
mirrored vwtgm1 10 $ZA $B4
expect_eq "the analyser saw the 5 echo requests $A4 -> $B4" 5 "$(count "$(req $A4 $B4)")"
expect_eq "and the 5 replies $B4 -> $A4" 5 "$(count "$(rep $B4 $A4)")"
expect_eq "as on the link: from $VA's MAC to $VB's" 5 "$(count "$(req $A4 $B4) && eth.src == $MAC_A && eth.dst == $MAC_B")"
expect_eq "no drops" 0 "$(mfield vwtgm1 drops)"
bytes=$(mfield vwtgm1 bytes)
expect_ge "BYTES counts 98-byte frames" "$bytes" $((10 * 98))
check "delete-mirror vwtgm1" vwadm delete-mirror vwtgm1
expect_eq "show-mirror is empty" "" "$(vwadm show-mirror -p -o mirror)"

log "---- -d out, -d in"
check "create-mirror -l $VA -d out -t $VZ vwtgm2" vwadm create-mirror -l $VA -d out -t $VZ vwtgm2
mirrored vwtgm2 5 $ZA $B4
expect_eq "-d out: the 5 requests $VA sent" 5 "$(count "$(req $A4 $B4)")"
expect_eq "-d out: none of the replies it received" 0 "$(count "$(rep $B4 $A4)")"
check "delete-mirror vwtgm2" vwadm delete-mirror vwtgm2
check "create-mirror -l $VA -d in -t $VZ vwtgm3" vwadm create-mirror -l $VA -d in -t $VZ vwtgm3
mirrored vwtgm3 5 $ZA $B4
expect_eq "-d in: no request" 0 "$(count "$(req $A4 $B4)")"
expect_eq "-d in: the 5 replies" 5 "$(count "$(rep $B4 $A4)")"
check "delete-mirror vwtgm3" vwadm delete-mirror vwtgm3

log "---- -f: a libpcap filter"
check "create-mirror -l $VB -f 'icmp and host $C4' -t $VZ vwtgm4" vwadm create-mirror -l $VB -f "icmp and host $C4" -t $VZ vwtgm4
mirrored vwtgm4 10 $ZA $B4 $ZC $B4
expect_eq "-f: $ZC's 5 requests" 5 "$(count "$(req $C4 $B4)")"
expect_eq "-f: and the 5 replies" 5 "$(count "$(rep $B4 $C4)")"
expect_eq "-f: nothing of $ZA's" 0 "$(count "ip.addr == $A4")"
expect_eq "-f: nothing but ICMP" 0 "$(count "!icmp")"
expect_eq "show-mirror shows the filter" "icmp and host $C4" "$(mfield vwtgm4 filter)"
check "delete-mirror vwtgm4" vwadm delete-mirror vwtgm4

log "---- an etherstub: every frame once"
check "create-mirror -l $STUB -t $VZ vwtgm5" vwadm create-mirror -l $STUB -t $VZ vwtgm5
mirrored vwtgm5 10 $ZA $C4
expect_eq "etherstub: each request once" 5 "$(count "$(req $A4 $C4)")"
expect_eq "etherstub: each reply once" 5 "$(count "$(rep $C4 $A4)")"
check "delete-mirror vwtgm5" vwadm delete-mirror vwtgm5

log "---- TCP super-frames: cut to wire size, good checksums"
check "create-mirror -l $VA -t $VZ vwtgm6" vwadm create-mirror -l $VA -t $VZ vwtgm6
vw_bg ip netns exec $ZB iperf3 -s -1 -B $B4
wait_until 10 "iperf3 server listening in $ZB" bash -c "ip netns exec $ZB ss -Hltn 'sport = :5201' | grep -q 5201"
capture_start $ZZ $VZ "$CAP"
check "iperf3 $ZA -> $ZB, 1 MB" ip netns exec $ZA iperf3 -c $B4 -n 1M
sleep 1
capture_stop
ntcp=$(count "tcp.dstport == 5201 && tcp.len > 0")
expect_ge "the analyser saw the stream's data segments" "$ntcp" 100
expect_eq "none longer than the wire's 1514 bytes" 0 "$(count "tcp && frame.len > 1514")"
expect_eq "none with a bad TCP checksum" 0 \
	"$(tshark -n -r "$CAP" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status == 0' 2>/dev/null | wc -l)"
expect_eq "none with a bad IPv4 checksum" 0 \
	"$(tshark -n -r "$CAP" -o ip.check_checksum:TRUE -Y 'ip.checksum.status == 0' 2>/dev/null | wc -l)"
log "---- vwtgm6: $(vwadm show-mirror -o pkts,bytes,drops vwtgm6 | tail -1)"
check "delete-mirror vwtgm6" vwadm delete-mirror vwtgm6

log "---- GRE and ERSPAN to $N4 in namespace $NS"
check "namespace $NS" ip netns add $NS
check "veth $VH -- $VN" ip link add $VH type veth peer name $VN netns $NS
check "$H4/30 on $VH" bash -c "ip addr add $H4/30 dev $VH && ip link set $VH up"
check "$N4/30 on $VN" bash -c "ip -n $NS addr add $N4/30 dev $VN && ip -n $NS link set $VN up"
wait_until 10 "$N4 answers from the daemon's namespace" ping -n -q -c 1 -W 1 $N4
# $NS has no GRE tunnel and answers with ICMP errors that quote what came
# (inner frame included): those are not what was sent
NOERR="!(icmp.type == 3)"
check "create-mirror -l $VA -t gre:$N4,key=42 vwtgre" vwadm create-mirror -l $VA -t gre:$N4,key=42 vwtgre
capture_start $NS $VN "$CAP"
check "5 pings $ZA -> $ZB" pings $ZA $B4
wait_until 10 "vwtgre counts 10 frames" bash -c "[ \$(vwadm show-mirror -p -o pkts vwtgre) -ge 10 ]"
cap_wait 10 "icmp.type == 8 || icmp.type == 0"
capture_stop
expect_eq "GRE (TEB, key 42): the 5 requests, inner frame intact" 5 \
	"$(count "$NOERR && ip.dst == $N4 && gre.proto == 0x6558 && gre.key == 42 && eth.src == $MAC_A && eth.dst == $MAC_B && $(req $A4 $B4)")"
expect_eq "GRE: the 5 replies" 5 "$(count "$NOERR && gre.key == 42 && $(rep $B4 $A4)")"
expect_eq "GRE: echo sequence numbers 1..5 of the requests" "1 2 3 4 5" \
	"$(tshark -n -r "$CAP" -Y "$NOERR && gre && $(req $A4 $B4)" -T fields -e icmp.seq 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
check "delete-mirror vwtgre" vwadm delete-mirror vwtgre

check "create-mirror -l $VA,$VC -t erspan:$N4,session=7 vwtgsp" vwadm create-mirror -l $VA,$VC -t erspan:$N4,session=7 vwtgsp
capture_start $NS $VN "$CAP"
check "5 pings $ZA -> $ZB" pings $ZA $B4
wait_until 10 "vwtgsp counts 10 frames" bash -c "[ \$(vwadm show-mirror -p -o pkts vwtgsp) -ge 10 ]"
cap_wait 10 "icmp.type == 8 || icmp.type == 0"
capture_stop
expect_eq "ERSPAN II (session 7): the 5 requests, inner frame intact" 5 \
	"$(count "$NOERR && gre.proto == 0x88be && erspan.version == 1 && erspan.spanid == 7 && eth.src == $MAC_A && eth.dst == $MAC_B && $(req $A4 $B4)")"
expect_eq "ERSPAN: the 5 replies" 5 "$(count "$NOERR && erspan.spanid == 7 && $(rep $B4 $A4)")"
seqs=$(tshark -n -r "$CAP" -Y "$NOERR && erspan" -T fields -e gre.sequence_number 2>/dev/null | sort -n | uniq | wc -l)
expect_eq "ERSPAN: every packet has a sequence number of its own" "$(count "$NOERR && erspan")" "$seqs"

log "---- restart keeps the mirrors"
check "create-mirror -l $VB -d in -f 'icmp or arp' -t $VZ vwtgm7" vwadm create-mirror -l $VB -d in -f "icmp or arp" -t $VZ vwtgm7
before=$(vwadm show-mirror -p -o mirror,links,dir,filter,dest)
vw_stop
vw_start
expect_eq "the same mirrors after a restart" "$before" "$(vwadm show-mirror -p -o mirror,links,dir,filter,dest)"
wait_ping 10 $ZA $B4
mirrored vwtgm7 5 $ZA $B4
expect_ge "after the restart, $VZ gets the requests $VB received" "$(count "$(req $A4 $B4)")" 5

log "---- metrics"
log "(see t_metrics for the endpoint)"

log "---- links that go"
check_fail "delete-vnic $VZ is refused: it is vwtgm7's destination" vwadm delete-vnic $VZ
check "... with one line naming the mirror" bash -c "vwadm delete-vnic $VZ 2>&1 | grep -qx 'vwadm: $VZ: destination of mirror vwtgm7; delete the mirror first'"
check "delete-vnic $VC" vwadm delete-vnic $VC
expect_eq "vwtgsp mirrors $VA only now" "$VA" "$(mfield vwtgsp links)"
check "delete-vnic $VB" vwadm delete-vnic $VB
expect_eq "vwtgm7, whose only source was $VB, is gone" "vwtgsp" "$(vwadm show-mirror -p -o mirror)"
check "create VNIC $VB in $ZB again" vwadm create-vnic -l $STUB -p zone=$ZB $VB

log "---- bad input: one line, nothing changed"
state0=$(vwadm show-mirror -p -o mirror,links,dir,filter,dest)
bad() {
	local desc=$1 rc=0
	shift
	vwadm "$@" >"$VW_TMP/out" 2>"$VW_TMP/err" || rc=$?
	expect_ge "$desc: refused" "$rc" 1
	expect_eq "$desc: one line ($(cat "$VW_TMP/err"))" 1 "$(wc -l <"$VW_TMP/err")"
	expect_eq "$desc: nothing changed" "$state0" "$(vwadm show-mirror -p -o mirror,links,dir,filter,dest)"
}
bad "unknown link" create-mirror -l vwtgnope -t $VZ vwtgx
bad "unknown destination link" create-mirror -l $VA -t vwtgnope vwtgx
bad "etherstub destination" create-mirror -l $VA -t $STUBZ vwtgx
bad "bad IP" create-mirror -l $VA -t gre:10.200.62.300 vwtgx
bad "IPv6" create-mirror -l $VA -t gre:fd00::1 vwtgx
bad "multicast IP" create-mirror -l $VA -t erspan:239.1.1.1 vwtgx
bad "bad key" create-mirror -l $VA -t gre:$N4,key=x vwtgx
bad "session too large" create-mirror -l $VA -t erspan:$N4,session=1024 vwtgx
bad "key on ERSPAN" create-mirror -l $VA -t erspan:$N4,key=1 vwtgx
bad "bad filter" create-mirror -l $VA -f "icmp and nonsense(" -t $VZ vwtgx
bad "destination is a source" create-mirror -l $VA,$VZ -t $VZ vwtgx
bad "bad direction" create-mirror -l $VA -d sideways -t $VZ vwtgx
bad "duplicate name" create-mirror -l $VB -t $VZ vwtgsp
check_fail "no -t: a usage error" vwadm create-mirror -l $VA vwtgx
bad "unknown mirror deleted" delete-mirror vwtgx
bad "unknown mirror shown" show-mirror vwtgx

check "delete-mirror vwtgsp" vwadm delete-mirror vwtgsp
expect_eq "no mirror left" "" "$(vwadm show-mirror -p -o mirror)"
check "delete-vnic $VZ now" vwadm delete-vnic $VZ
vw_stop
