#!/usr/bin/env bash
# Persistence: build a configuration, kill -9 the daemon, start a new one on
# the same state dir: every persistent object comes back as it was (MACs,
# zones, VIDs, addresses, export), a temporary (-t) VNIC does not, and the
# network works again.  With the kernel fast path the VNICs' faces outlive
# the daemon (kill -9 and SIGTERM alike) and go on switching: the longest
# gap of a ping -i 0.01 and of a running iperf3 across kill -9 and restart
# is measured, none may be lost, and the new daemon takes the faces over
# (same ifindexes: no link flap in the zones).  Without it (VWT_FASTPATH=off)
# the TAP faces go with the daemon.
VWT_OWN="vwtr"
. "$(dirname "$0")/lib.sh"

STUB=vwtrs Z1=vwtrz1 Z2=vwtrz2 Z3=vwtrz3
FIXED_MAC=02:00:5e:c0:ff:01

vw_start
check "create zone $Z1" vwadm create-zone $Z1
check "create zone $Z2" vwadm create-zone $Z2
check "create zone $Z3" vwadm create-zone $Z3
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "VNIC vwtr1: fixed MAC $FIXED_MAC, zone $Z1" vwadm create-vnic -l $STUB -m $FIXED_MAC -p zone=$Z1 vwtr1
check "VNIC vwtr2: random MAC, zone $Z2, mtu 1400" vwadm create-vnic -l $STUB -p zone=$Z2,mtu=1400 vwtr2
check "VNIC vwtr3: VID 42, zone $Z3" vwadm create-vnic -l $STUB -v 42 -p zone=$Z3 vwtr3
check "VNIC vwtr4: VID 42, -m auto, zone $Z1" vwadm create-vnic -l $STUB -v 42 -m auto -p zone=$Z1 vwtr4
check "address 10.200.5.1/24 on vwtr1" vwadm create-addr -a 10.200.5.1/24 vwtr1
check "IPv6 address on vwtr1" vwadm create-addr -a fd00:200:5::1/64 vwtr1
check "address on vwtr2" vwadm create-addr -a 10.200.5.2/24 vwtr2
check "IPv6 address on vwtr2" vwadm create-addr -a fd00:200:5::2/64 vwtr2
check "address on vwtr3" vwadm create-addr -a 10.200.6.3/24 vwtr3
check "address on vwtr4" vwadm create-addr -a 10.200.6.4/24 vwtr4
wait_ping 10 $Z1 10.200.5.2
wait_ping 10 $Z3 10.200.6.4

# What must survive (recorded before the temporary VNIC exists).
show_vnic() { vwadm show-vnic -p -o link,over,macaddress,vid,zone; }
show_mactype() { vwadm show-vnic -p -o link,macaddrtype; }
show_addr() { vwadm show-addr -p -o link,zone,addr,state; }
VNIC0=$(show_vnic) MACTYPE0=$(show_mactype) ADDR0=$(show_addr) EXPORT0=$(vwadm export) ZONES0=$(vwadm show-zone -p -o zone,vnics)
log "---- recorded configuration:"
sed 's/^/     /' <<<"$EXPORT0"
expect_eq "show-vnic before restart" "vwtr1:$STUB:${FIXED_MAC//:/\\:}:0:$Z1" "$(head -1 <<<"$VNIC0")"
expect_eq "export has no temporary object yet, and 14 lines" 14 "$(wc -l <<<"$EXPORT0")"

# The kernel's view: name, zone, MAC, MTU of every VNIC.
kview() {
	local z
	for z in $Z1 $Z2 $Z3; do
		ip -n $z -o link show | sed -n "s/^[0-9]*: \(vwtr[^:@]*\)[:@].* mtu \([0-9]*\) .*link\/ether \([0-9a-f:]*\) .*/\1 $z \3 \2/p"
	done | sort
}
KVIEW0=$(kview)
expect_eq "the kernel has the four VNICs in their zones" "vwtr1 $Z1
vwtr2 $Z2
vwtr3 $Z3
vwtr4 $Z1" "$(cut -d' ' -f1,2 <<<"$KVIEW0")"
expect_eq "vwtr1 has its fixed MAC in $Z1" "vwtr1 $Z1 $FIXED_MAC 1500" "$(grep '^vwtr1 ' <<<"$KVIEW0")"
check "vwtr2 has mtu 1400" bash -c "ip -n $Z2 link show vwtr2 | grep -q 'mtu 1400'"

check "temporary VNIC vwtrt (-t) in $Z2" vwadm create-vnic -t -l $STUB -p zone=$Z2 vwtrt
check "address on vwtrt" vwadm create-addr -a 10.200.5.9/24 vwtrt
check "vwtrt exists in $Z2" ip -n $Z2 link show vwtrt
check "temporary etherstub vwtrst (-t)" vwadm create-etherstub -t vwtrst
expect_eq "export does not hold temporary objects" "$EXPORT0" "$(vwadm export)"

# ifindex of every VNIC face: the same after a take-over (no link flap)
ifindexes() {
	local z
	for z in $Z1 $Z2 $Z3; do
		ip -n $z -o link show | sed -n "s/^\([0-9]*\): \(vwtr[^:@]*\)[:@].*/\2 \1/p"
	done | sort
}

# The longest gap between replies of ping -D output in file $1, in ms
ping_gap() {
	awk -F'[][]' '/bytes from/ { t = $2 * 1000; if (p && t - p > g) g = t - p; p = t } END { printf "%d", g }' "$1"
}

if vw_fast; then
	IFX0=$(ifindexes)
	ip netns exec $Z1 ping -D -n -i 0.01 -w 4 10.200.5.2 > "$VW_TMP/ping" 2>&1 &
	PING_PID=$!
	ip netns exec $Z2 iperf3 -s -1 -p 5311 -D
	sleep 0.3
	ip netns exec $Z1 iperf3 -c 10.200.5.2 -p 5311 -t 4 -i 0.5 -f m > "$VW_TMP/iperf" 2>&1 &
	IPERF_PID=$!
	sleep 1
fi
vw_kill9
check "the state file survived" test -s "$VW_STATE/$(ls "$VW_STATE" | grep -v '\.new$' | head -1)"
if vw_fast; then
	check "the faces stay in their zones after kill -9 (kernel fast path)" \
		bash -c "[ '$(ifindexes | cut -d' ' -f1 | tr '\n' ' ')' = 'vwtr1 vwtr2 vwtr3 vwtr4 vwtrt ' ]"
	check "the fast path switches while no daemon runs: ping $Z1 -> 10.200.5.2" zping $Z1 10.200.5.2
	check "... and in VID 42: ping $Z3 -> 10.200.6.4" zping $Z3 10.200.6.4
else
	for z in $Z1 $Z2 $Z3; do
		wait_until 5 "no VNIC TAP device left in zone $z after kill -9" \
			bash -c "! ip -n $z -o link show | grep -q ': vwtr'"
	done
fi
check "no vwtr TAP device in the host" bash -c "! ip -o link show | grep -q ': vwtr'"
check "the zones (namespaces) are still there" bash -c "ip netns list | grep -q '^$Z1' && ip netns list | grep -q '^$Z3'"

sleep 0.5
vw_start
if vw_fast; then
	wait "$PING_PID" || true
	wait "$IPERF_PID" || true
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$VW_TMP/ping")
	got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$VW_TMP/ping")
	log "---- across kill -9 and restart: ping -i 0.01 $got of $sent answered, longest gap $(ping_gap "$VW_TMP/ping") ms;" \
		"iperf3 0.5 s intervals (Mbit/s): $(awk '/sec .*bits\/sec/ && !/sender|receiver/ { printf "%s ", $7 }' "$VW_TMP/iperf")"
	expect_eq "no ping lost across kill -9 and restart (kernel fast path)" "$sent" "$got"
	check "iperf3 ran through kill -9 and restart" grep -q receiver "$VW_TMP/iperf"
	check "no iperf3 interval without traffic" bash -c "! awk '/sec .*bits\\/sec/ && !/sender|receiver/' '$VW_TMP/iperf' | grep -q ' 0.00 Mbits/sec'"
	expect_eq "the new daemon took the faces over: same ifindexes (no link flap)" \
		"$(grep -v vwtrt <<<"$IFX0")" "$(ifindexes)"
fi
expect_eq "show-vnic identical after restart (same MACs, zones, VIDs)" "$VNIC0" "$(show_vnic)"
MACTYPE1=$(show_mactype)   # checked at the end
expect_eq "show-addr identical after restart" "$ADDR0" "$(show_addr)"
expect_eq "export identical after restart" "$EXPORT0" "$(vwadm export)"
expect_eq "show-zone identical after restart" "$ZONES0" "$(vwadm show-zone -p -o zone,vnics)"
expect_eq "etherstubs after restart: the persistent one only" "$STUB" "$(vwadm show-etherstub -p -o link)"
expect_eq "the kernel has the same VNICs, zones, MACs and MTUs" "$KVIEW0" "$(kview)"
check_fail "temporary VNIC vwtrt is not restored (show-vnic vwtrt fails)" vwadm show-vnic vwtrt
check_fail "no vwtrt device in $Z2" ip -n $Z2 link show vwtrt
check_fail "temporary etherstub vwtrst is not restored" vwadm show-etherstub vwtrst
check "addresses are back on vwtr1" bash -c "ip -n $Z1 addr show vwtr1 | grep -q 'inet 10.200.5.1/24' && ip -n $Z1 addr show vwtr1 | grep -q 'fd00:200:5::1/64'"
wait_ping 10 $Z1 10.200.5.2
wait_ping 10 $Z2 10.200.5.1
wait_ping 10 $Z3 10.200.6.4
wait_ping 15 $Z2 fd00:200:5::1

log "---- orderly stop (SIGTERM)"
vw_stop
STOP1_STATUS=$VW_STOP_STATUS
STOP1_SOCKET_LEFT=no
[ -e "$VW_SOCK" ] && STOP1_SOCKET_LEFT=yes
faces_after_stop $Z1 vwtr1 vwtr4
faces_after_stop $Z2 vwtr2
faces_after_stop $Z3 vwtr3
check "no vwtr TAP device in the host after SIGTERM" bash -c "! ip -o link show | grep -q ': vwtr'"

log "---- and once more: the state survives an orderly stop too"
vw_start
expect_eq "show-vnic identical after the second restart" "$VNIC0" "$(show_vnic)"
expect_eq "export identical after the second restart" "$EXPORT0" "$(vwadm export)"
wait_ping 10 $Z1 10.200.5.2
vw_stop

log "---- checks left for the end, so that each failure above does not hide the others"
soft_expect_eq "show-vnic MACADDRTYPE identical after restart (a random MAC stays random)" "$MACTYPE0" "$MACTYPE1"
soft_expect_eq "vwired exited with status 0 on SIGTERM" 0 "$STOP1_STATUS"
soft_expect_eq "vwired removed its socket on SIGTERM" no "$STOP1_SOCKET_LEFT"
soft_done
