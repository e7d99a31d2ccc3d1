#!/usr/bin/env bash
# Flow properties maxconn (admission control) and mss (the MSS clamp, "MTU
# per policy"), issue 4, with real stacks in two zones:
#   - maxconn=2 on TCP: two connections open and stay open, the third is
#     refused at once with a RST (the client sees "connection refused", not
#     a timeout); when one closes a new one is admitted; vwstat show-flow
#     shows CONNS 2 and REFUSED 1;
#   - the same for connections arriving at a VNIC (the RST goes back to the
#     remote end);
#   - maxconn=1 on UDP: datagrams of a second 5-tuple are dropped, counted;
#   - mss=1000: the SYN arrives with MSS 1000, the SYN-ACK comes back with
#     MSS 1000 (both ways), CLAMPED counts them;
#   - the properties survive a restart; bad values are refused.
VWT_OWN="vwta"
. "$(dirname "$0")/lib.sh"

ZA=vwtaza ZB=vwtazb STUB=vwtas VA=vwtaa VB=vwtab
A4=10.200.43.1 B4=10.200.43.2

# A TCP server in zone B on PORT that accepts and holds connections, and
# a UDP one that writes the source of each datagram to FILE.
tcp_server() {
	vw_bg ip netns exec $ZB python3 -c '
import socket, sys, select
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)
conns = []
while True:
    r, _, _ = select.select([s] + conns, [], [])
    for x in r:
        if x is s:
            conns.append(s.accept()[0])
        elif not x.recv(4096):
            x.close(); conns.remove(x)
' $B4 "$1"
	wait_until 10 "TCP server on $B4:$1" bash -c "ip netns exec $ZB ss -Hltn 'sport = :$1' | grep -q $1"
}

# tcp_clients N PORT: opens N connections from zone A one after the other,
# prints "ok" or "refused" or "timeout" for each, holds them 3 s, closes one
# (the first) and then tries one more.
tcp_clients() {
	ip netns exec $ZA python3 -c '
import socket, sys, time
n, port = int(sys.argv[2]), int(sys.argv[3])
held, out = [], []
def attempt():
    c = socket.socket(); c.settimeout(3)
    try:
        c.connect((sys.argv[1], port)); held.append(c); return "ok"
    except ConnectionRefusedError: return "refused"
    except socket.timeout: return "timeout"
for i in range(n):
    out.append(attempt())
time.sleep(float(sys.argv[4]))
held[0].close(); time.sleep(0.5)
out.append(attempt())
print(" ".join(out))
' $B4 "$1" "$2" "${3:-0.5}"
}

vw_start
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address on $VA" vwadm create-addr -a $A4/24 $VA
check "address on $VB" vwadm create-addr -a $B4/24 $VB
wait_ping 10 $ZA $B4

log "---- maxconn=2 on the connections $VA opens to port 5401"
check "flow fconn: tcp to 5401, maxconn=2" vwadm add-flow -l $VA -a transport=tcp,remote_port=5401 -p maxconn=2 fconn
tcp_server 5401
expect_eq "two connections admitted, the third refused, one more after a close" "ok ok refused ok" \
	"$(tcp_clients 3 5401 1.5)"
expect_eq "vwstat show-flow: REFUSED 1" "1" "$(vwstat show-flow -p -o refused fconn)"
# the clients are gone: their connections close (FIN both ways)
wait_until 5 "CONNS back to 0 after the clients closed" bash -c "[ \"\$($VW_BIN/vwstat show-flow -p -o conns fconn)\" = 0 ]"
check "ping is not a connection of the flow: still works" ip netns exec $ZA ping -n -q -c 2 -i 0.2 -W 2 $B4

log "---- CONNS while connections are held"
ip netns exec $ZA python3 -c '
import socket, sys, time
cs = [socket.create_connection((sys.argv[1], 5401), timeout=3) for _ in range(2)]
time.sleep(4)
' $B4 &
holder=$!
wait_until 5 "CONNS shows the 2 open connections" bash -c "[ \"\$($VW_BIN/vwstat show-flow -p -o conns fconn)\" = 2 ]"
wait $holder || fail "holding two connections failed"

log "---- maxconn=1 on connections arriving at $VB (port 5403)"
check "flow fin on $VB: tcp local port 5403, maxconn=1" \
	vwadm add-flow -l $VB -a transport=tcp,local_port=5403 -p maxconn=1 fin
tcp_server 5403
expect_eq "one connection to $VB admitted, the second refused by a RST from the box" "ok refused ok" \
	"$(tcp_clients 2 5403)"
expect_eq "vwstat show-flow: fin REFUSED 1" "1" "$(vwstat show-flow -p -o refused fin)"

log "---- maxconn=1 on UDP to port 5402"
check "flow fudp: udp to 5402, maxconn=1" vwadm add-flow -l $VA -a transport=udp,remote_port=5402 -p maxconn=1 fudp
vw_bg ip netns exec $ZB python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 5402))
f = open(sys.argv[2], "a", buffering=1)
while True:
    d, a = s.recvfrom(2048); f.write("%d\n" % a[1])
' $B4 "$VW_TMP/udp-sources"
wait_until 10 "UDP server on 5402" bash -c "ip netns exec $ZB ss -Hlun 'sport = :5402' | grep -q 5402"
ip netns exec $ZA python3 -c '
import socket, sys, time
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("", 40001))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("", 40002))
for i in range(10):
    a.sendto(b"x" * 100, (sys.argv[1], 5402)); time.sleep(0.02)
    b.sendto(b"y" * 100, (sys.argv[1], 5402)); time.sleep(0.02)
' $B4
sleep 0.5
expect_eq "only the first 5-tuple's 10 datagrams arrived" "10 40001" "$(sort "$VW_TMP/udp-sources" | uniq -c | awk '{print $1, $2}')"
expect_eq "vwstat show-flow: fudp REFUSED 10" "10" "$(vwstat show-flow -p -o refused fudp)"

log "---- mss=1000 on TCP to port 5404, both ways"
check "flow fmss: tcp to 5404, mss=1000" vwadm add-flow -l $VA -a transport=tcp,remote_port=5404 -p mss=1000 fmss
tcp_server 5404
capture_start $ZB $VB "$VW_TMP/b.pcap"
ip netns exec $ZA tshark -n -q -i $VA -w "$VW_TMP/a.pcap" -f "tcp port 5404" >/dev/null 2>&1 &
capa=$!
VW_BG_PIDS+=("$capa")
sleep 2
expect_eq "a connection through the clamp works" "ok ok" "$(tcp_clients 1 5404 0.2)"
sleep 1
capture_stop
vw_bg_stop $capa INT
expect_eq "the SYNs reached $VB with MSS 1000" "1000
1000" "$(tshark -n -r "$VW_TMP/b.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.options.mss_val 2>/dev/null)"
expect_eq "the SYN-ACKs reached $VA with MSS 1000" "1000
1000" "$(tshark -n -r "$VW_TMP/a.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==1' -T fields -e tcp.options.mss_val 2>/dev/null)"
# (the frames carry partial checksums that the stacks complete: tshark
# cannot judge them; the receiving stacks can)
for z in $ZA $ZB; do
	expect_eq "the stack in $z counted no TCP checksum error" "0" \
		"$(ip netns exec $z nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}')"
done
expect_eq "vwstat show-flow: fmss CLAMPED 4" "4" "$(vwstat show-flow -p -o clamped fmss)"

log "---- restart, bad values"
check "export names maxconn and mss" bash -c "$VW_BIN/vwadm export | grep -q -- '-p maxconn=2 fconn' &&
	$VW_BIN/vwadm export | grep -q -- '-p mss=1000 fmss'"
vw_kill9
vw_start
wait_ping 10 $ZA $B4
tcp_server 5401
expect_eq "after a restart maxconn=2 still holds" "ok ok refused ok" "$(tcp_clients 3 5401 1.5)"
before=$(vwadm export)
expect_eq "maxconn=0 refused" "vwadm: fconn: invalid maxconn '0' (1-4294967295)" "$(vwadm set-flowprop -p maxconn=0 fconn 2>&1)"
expect_eq "mss=100 refused" "vwadm: fmss: invalid mss '100' (536-65495)" "$(vwadm set-flowprop -p mss=100 fmss 2>&1)"
expect_eq "nothing changed" "$before" "$(vwadm export)"
check "reset maxconn: the limit goes" vwadm reset-flowprop -p maxconn fconn
expect_eq "without maxconn three connections are fine" "ok ok ok ok" "$(tcp_clients 3 5401)"
check "delete $VA with flows that have connections" vwadm delete-vnic $VA
vw_stop
expect_eq "vwired exited with status 0" 0 "$VW_STOP_STATUS"
