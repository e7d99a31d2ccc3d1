#!/usr/bin/env bash
# vwsnoop: packet capture on a VNIC, an etherstub and a phys link.  Two
# zones ping each other through VNICs on an etherstub; the captures are read
# back with tshark (addresses, ICMP types, nanosecond timestamps), filters
# and directions select what they should, an etherstub capture sees every
# frame once (and follows a VNIC added meanwhile), a shaped VNIC is captured
# too, SIGINT ends a capture cleanly, deleting its VNIC (or stopping the
# daemon) ends one with a message, and bad input gets one clear line.
VWT_OWN="vwts"
. "$(dirname "$0")/lib.sh"

ZA=vwtsza ZB=vwtszb ZC=vwtszc ZP=vwtszp FAR=vwtsfar
STUB=vwtss VA=vwtsa VB=vwtsb VC=vwtsc VP=vwtsp PH=vwtsph0
A4=10.200.9.1 B4=10.200.9.2 C4=10.200.9.3 P4=10.200.10.2 F4=10.200.10.1

[ -x "$VW_BIN/vwsnoop" ] || fail "$VW_BIN/vwsnoop is not built (make all)"
vwsnoop() { "$VW_BIN/vwsnoop" "$@"; }

# snoop_bg NAME ARGS...: vwsnoop ARGS in the background (stdout in
# $VW_TMP/NAME.out, stderr in NAME.err); returns once it captures.
snoop_bg() {
	local name=$1
	shift
	vw_bg "$VW_BIN/vwsnoop" "$@" >"$VW_TMP/$name.out" 2>"$VW_TMP/$name.err"
	SNOOP_PID=$VW_BG_PID
	_poll 10 grep -q "^capturing on" "$VW_TMP/$name.err" ||
		fail "vwsnoop $* did not start: $(cat "$VW_TMP/$name.err")"
	log "---- vwsnoop $* (pid $SNOOP_PID)"
}
# snoop_wait PID: it must exit within 10 s; its status in SNOOP_RC.
snoop_wait() {
	VW_NCHECK=$((VW_NCHECK + 1))
	_poll 10 _vw_dead "$1" || fail "vwsnoop (pid $1) still running after 10 s"
	SNOOP_RC=0
	wait "$1" || SNOOP_RC=$?
	log "ok   - vwsnoop (pid $1) exited (status $SNOOP_RC)"
}
# icmp_of FILE: "type seq src dst" of each ICMP frame, in file order.
icmp_of() { tshark -n -r "$1" -Y icmp -T fields -E separator=' ' -e icmp.type -e icmp.seq -e ip.src -e ip.dst; }
nframes() { tshark -n -r "$1" -T fields -e frame.number | wc -l; }

vw_start
check "create zones" bash -c "vwadm create-zone $ZA && vwadm create-zone $ZB && vwadm create-zone $ZC"
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $B4
wait_ping 10 $ZB $A4

# ---- bad input: one clear line, exit 1
out=$(vwsnoop -l vwtsnone 2>&1) && fail "vwsnoop on an unknown link succeeded"
expect_eq "unknown link: one line" "vwsnoop: vwtsnone: no such link" "$out"
out=$(vwsnoop -l $VA -d sideways 2>&1) && fail "vwsnoop -d sideways succeeded"
expect_eq "bad -d: one line" "vwsnoop: invalid direction 'sideways' (in, out or both)" "$out"
out=$(vwsnoop -l $VA -c 0 2>&1) && fail "vwsnoop -c 0 succeeded"
expect_eq "bad -c: one line" "vwsnoop: invalid count '0' (1 to 4294967295)" "$out"
rc=0; out=$(vwsnoop -l $VA icmp and 2>&1) || rc=$?
expect_eq "bad filter: exit status 1" 1 $rc
expect_eq "bad filter: one line naming the filter" \
	"1:vwsnoop: bad filter 'icmp and': " "$(wc -l <<<"$out"):$(grep -o "^vwsnoop: bad filter 'icmp and': " <<<"$out")"
out=$(vwsnoop -l $STUB -d in 2>&1) && fail "vwsnoop -d in on an etherstub succeeded"
expect_eq "-d on an etherstub: one line" \
	"vwsnoop: $STUB: an etherstub has no direction (-d applies to VNICs and phys links)" "$out"
check_fail "vwsnoop without -l is a usage error" vwsnoop

# ---- a VNIC: what it sends and receives, to a pcap file tshark reads
snoop_bg va -l $VA -c 4 -w "$VW_TMP/va.pcap" icmp
check "2 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 2 -i 0.2 -W 1 $B4
snoop_wait $SNOOP_PID
expect_eq "vwsnoop -c 4 exits 0" 0 $SNOOP_RC
expect_eq "vwsnoop reports 4 frames, none dropped" "4 packets captured, 0 dropped" "$(tail -1 "$VW_TMP/va.err")"
expect_eq "the file holds 2 echo requests $A4 -> $B4 and their replies" "8 1 $A4 $B4
0 1 $B4 $A4
8 2 $A4 $B4
0 2 $B4 $A4" "$(icmp_of "$VW_TMP/va.pcap")"
expect_eq "pcap file magic: nanosecond timestamps" "a1b23c4d" "$(od -An -tx4 -N4 "$VW_TMP/va.pcap" | tr -d ' ')"
check "timestamps have 9 decimals and are now" bash -c "
	tshark -n -r '$VW_TMP/va.pcap' -T fields -e frame.time_epoch | awk -v now=$(date +%s) '
		!/^[0-9]+\.[0-9]{9}\$/ || \$1 < now - 60 || \$1 > now + 60 { bad = 1 } END { exit bad || NR != 4 }'"

# ---- filters select
snoop_bg udp -l $VA -c 1 -w "$VW_TMP/udp.pcap" udp
check "a ping $ZA -> $ZB (not UDP)" zping $ZA $B4
check "a UDP datagram $ZA -> $B4:9999" ip netns exec $ZA bash -c "echo hello > /dev/udp/$B4/9999"
snoop_wait $SNOOP_PID
expect_eq "filter 'udp' took the datagram, not the ping" "1:17:9999" \
	"$(nframes "$VW_TMP/udp.pcap"):$(tshark -n -r "$VW_TMP/udp.pcap" -T fields -e ip.proto -e udp.dstport | tr '\t' :)"

# ---- directions: -d in sees what the VNIC receives (replies), -d out what it sends
snoop_bg in -l $VA -d in -c 2 -w "$VW_TMP/in.pcap" icmp
in_pid=$SNOOP_PID
snoop_bg out -l $VA -d out -c 2 -w "$VW_TMP/out.pcap" icmp
out_pid=$SNOOP_PID
check "2 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 2 -i 0.2 -W 1 $B4
snoop_wait $in_pid
snoop_wait $out_pid
expect_eq "-d in: only the echo replies" "0 1 $B4 $A4
0 2 $B4 $A4" "$(icmp_of "$VW_TMP/in.pcap")"
expect_eq "-d out: only the echo requests" "8 1 $A4 $B4
8 2 $A4 $B4" "$(icmp_of "$VW_TMP/out.pcap")"

# ---- TCP through the TAP faces' offloads: super-frames are captured whole
vw_bg ip netns exec $ZB iperf3 -s -1 -B $B4 --logfile "$VW_TMP/iperf3-server.log"
wait_until 10 "iperf3 server listening in $ZB" bash -c "ip netns exec $ZB ss -Hltn 'sport = :5201' | grep -q 5201"
snoop_bg tcp -l $VA -d out -c 200 -w "$VW_TMP/tcp.pcap" tcp port 5201
check "iperf3 TCP $ZA -> $ZB for 1 second" ip netns exec $ZA iperf3 -c $B4 -t 1 -J --logfile "$VW_TMP/iperf3.json"
snoop_wait $SNOOP_PID
expect_eq "200 TCP frames $A4 -> $B4:5201, whole (caplen = len), super-frames among them" "200:200:200:yes" \
	"$(tshark -n -r "$VW_TMP/tcp.pcap" -T fields -e ip.src -e tcp.dstport -e frame.len -e frame.cap_len |
		awk -v a=$A4 '$1 == a && $2 == 5201 { n++ } { t++ } $3 == $4 { w++ } $3 > 1514 { big++ }
			END { print t ":" n ":" w ":" (big ? "yes" : "no") }')"

# ---- the one-line summaries
snoop_bg text -l $VA -c 2 icmp
check "a ping $ZA -> $ZB" zping $ZA $B4
snoop_wait $SNOOP_PID
check "summary of the echo request" \
	grep -Eq "^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9} IP $A4 > $B4: ICMP echo request, id [0-9]+, seq 1, length 98\$" "$VW_TMP/text.out"
check "summary of the echo reply" \
	grep -Eq "^[0-9:.]+ IP $B4 > $A4: ICMP echo reply, id [0-9]+, seq 1, length 98\$" "$VW_TMP/text.out"
snoop_bg arp -l $VA -c 2 arp
check "flush $ZA's neighbours, then ping" bash -c "ip -n $ZA neigh flush all && ip netns exec $ZA ping -n -q -c 1 -W 1 $B4"
snoop_wait $SNOOP_PID
check "ARP who-has and is-at" bash -c "grep -q ' ARP who-has $B4 tell $A4, length ' '$VW_TMP/arp.out' &&
	grep -Eq ' ARP $B4 is-at ([0-9a-f]{2}:){5}[0-9a-f]{2}, length ' '$VW_TMP/arp.out'"

# ---- -w - writes the pcap to stdout
snoop_bg stdout -l $VA -c 2 -w - icmp
check "a ping $ZA -> $ZB" zping $ZA $B4
snoop_wait $SNOOP_PID
expect_eq "-w - : a pcap on stdout that tshark reads" "8 1 $A4 $B4
0 1 $B4 $A4" "$(icmp_of "$VW_TMP/stdout.out")"

# ---- the etherstub: every frame once, and a VNIC added during the capture
snoop_bg stub -l $STUB -c 4 -w "$VW_TMP/stub.pcap" icmp
check "2 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 2 -i 0.2 -W 1 $B4
snoop_wait $SNOOP_PID
expect_eq "etherstub: both zones' frames, each once" "0 1 $B4 $A4
0 2 $B4 $A4
8 1 $A4 $B4
8 2 $A4 $B4" "$(icmp_of "$VW_TMP/stub.pcap" | sort)"
snoop_bg stub2 -l $STUB -c 2 -w "$VW_TMP/stub2.pcap" icmp and host $C4
check "create VNIC $VC in $ZC during the capture" vwadm create-vnic -l $STUB -p zone=$ZC $VC
check "address $C4/24 on $VC" vwadm create-addr -a $C4/24 $VC
wait_ping 10 $ZC $A4
snoop_wait $SNOOP_PID
expect_eq "etherstub: the new VNIC's frames are captured" "8 $C4 $A4
0 $A4 $C4" "$(icmp_of "$VW_TMP/stub2.pcap" | cut -d' ' -f1,3,4)"

# ---- a shaped VNIC
check "maxbw=10M on $VB" vwadm set-linkprop -p maxbw=10M $VB
snoop_bg shaped -l $VB -c 4 -w "$VW_TMP/shaped.pcap" icmp
check "2 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 2 -i 0.2 -W 1 $B4
snoop_wait $SNOOP_PID
expect_eq "shaped $VB: requests in, replies out" "8 1 $A4 $B4
0 1 $B4 $A4
8 2 $A4 $B4
0 2 $B4 $A4" "$(icmp_of "$VW_TMP/shaped.pcap")"

# ---- SIGINT ends a capture cleanly
snoop_bg int -l $VA icmp
check "a ping $ZA -> $ZB" zping $ZA $B4
wait_until 10 "vwsnoop printed the request and the reply" bash -c "[ \$(wc -l < '$VW_TMP/int.out') = 2 ]"
kill -INT $SNOOP_PID
snoop_wait $SNOOP_PID
expect_eq "SIGINT: exit 0" 0 $SNOOP_RC
expect_eq "SIGINT: the count and drops" "2 packets captured, 0 dropped" "$(tail -1 "$VW_TMP/int.err")"

# ---- deleting the VNIC ends its capture with a message
snoop_bg del -l $VC
check "delete VNIC $VC" vwadm delete-vnic $VC
snoop_wait $SNOOP_PID
expect_eq "deleted VNIC: exit 1" 1 $SNOOP_RC
check "deleted VNIC: the message" grep -qx "vwsnoop: $VC was deleted" "$VW_TMP/del.err"

# ---- a phys link (a veth made here): the uplink's frames, VLAN tag and all
check "create veth pair $PH/vwtsph1" ip link add $PH type veth peer name vwtsph1
check "create namespace $FAR" ip netns add $FAR
check "move vwtsph1 into $FAR, address $F4" bash -c "ip link set vwtsph1 netns $FAR &&
	ip -n $FAR addr add $F4/24 dev vwtsph1 && ip -n $FAR link set vwtsph1 up"
check "create zone $ZP" vwadm create-zone $ZP
check "create VNIC $VP over $PH in $ZP" vwadm create-vnic -l $PH -p zone=$ZP $VP
check "address $P4/24 on $VP" vwadm create-addr -a $P4/24 $VP
wait_ping 10 $ZP $F4
snoop_bg phys -l $PH -c 2 -w "$VW_TMP/phys.pcap" icmp
check "a ping $ZP -> $F4" zping $ZP $F4
snoop_wait $SNOOP_PID
expect_eq "phys $PH: the request went out, the reply came in" "8 $P4 $F4
0 $F4 $P4" "$(icmp_of "$VW_TMP/phys.pcap" | cut -d' ' -f1,3,4)"
snoop_bg physdel -l $PH
check "delete $VP: $PH is detached" vwadm delete-vnic $VP
snoop_wait $SNOOP_PID
check "detached phys: the message" grep -qx "vwsnoop: $PH was detached" "$VW_TMP/physdel.err"

# ---- the daemon is fine, and a client that vanishes ends its session
snoop_bg gone -l $VA
kill -KILL $SNOOP_PID
snoop_wait $SNOOP_PID
check "ping after all that" zping $ZA $B4
check "vwired is alive and answers" vwadm show-link $VA
check "vwired still runs" _vw_alive "$VW_PID"
# a daemon that stops ends its captures, and says so
snoop_bg stop -l $VA
vw_stop
expect_eq "vwired exits 0" 0 "$VW_STOP_STATUS"
snoop_wait $SNOOP_PID
expect_eq "vwsnoop when vwired stops: exit 1" 1 $SNOOP_RC
check "vwsnoop when vwired stops: the message" grep -qx "vwsnoop: vwired stopped" "$VW_TMP/stop.err"
