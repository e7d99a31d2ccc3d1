#!/usr/bin/env bash
# Link protection (issue 11, finding 4): three zones on one etherstub, a
# neighbour N pinging a victim V, and an attacker A forging ARP replies
# "V's address is at my MAC" (tests/system/rawsend.py, a packet socket).
#   - without protection the attack works: N's neighbour table gives V's
#     address A's MAC and N's pings to V go unanswered (they reach A);
#   - with protection=mac-nospoof,ip-nospoof on A, N loses nothing, its
#     table keeps V's MAC, and every forged reply is counted DROP_IPSPOOF
#     (vwstat -t);
#   - forged source IP and source MAC, allowed-ips (an address, a subnet,
#     reset back to A's own addresses), restricted (an unknown ethertype and
#     a tagged frame), dhcp-nospoof (a DISCOVER with a forged chaddr or
#     client identifier dropped, an honest one passes), IPv6 link-local
#     from A's MAC allowed;
#   - bad values refused with the input quoted; set/reset live; show-linkprop;
#     export; the protection still holds after a restart.
VWT_OWN="vwtpr"
. "$(dirname "$0")/lib.sh"

ZA=vwtprza ZV=vwtprzv ZN=vwtprzn STUB=vwtprs VA=vwtpra VV=vwtprv VN=vwtprn
A4=10.88.0.3 V4=10.88.0.2 N4=10.88.0.1
RAWSEND=$(dirname "$0")/rawsend.py

# rs KIND COUNT INTERVAL KEY=VALUE...: frames sent from A's zone on its VNIC.
rs() { ip netns exec $ZA python3 "$RAWSEND" $VA "$@" >/dev/null; }
c() { vw_counter "$1" "$2"; }
macof() { vwadm show-vnic -p -o macaddress "$1" | sed 's/\\//g'; }
# neigh_mac: the MAC N's stack has for V's address ("" if none)
neigh_mac() { ip -n $ZN neigh show $V4 dev $VN | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p'; }

vw_start
for z in $ZA $ZV $ZN; do check "create zone $z" vwadm create-zone $z; done
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create $VV in $ZV" vwadm create-vnic -l $STUB -p zone=$ZV $VV
check "create $VN in $ZN" vwadm create-vnic -l $STUB -p zone=$ZN $VN
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $V4/24 on $VV" vwadm create-addr -a $V4/24 $VV
check "address $N4/24 on $VN" vwadm create-addr -a $N4/24 $VN
MA=$(macof $VA) MV=$(macof $VV) MN=$(macof $VN)
log "---- MACs: attacker $MA, victim $MV, neighbour $MN"
wait_ping 10 $ZN $V4
wait_ping 10 $ZA $N4

# attack: forged replies to N, 10 a second, while N pings V 10 times a second
attack() {   # attack SECONDS: forged ARP replies in the background
	vw_bg ip netns exec $ZA python3 "$RAWSEND" $VA arp-reply $(($1 * 10)) 0.1 \
		dst=$MN sha=$MA spa=$V4 tha=$MN tpa=$N4 >/dev/null
}
pings() {   # pings COUNT: N -> V; prints how many were answered
	{ ip netns exec $ZN ping -n -q -c "$1" -i 0.1 -W 1 $V4 || true; } | sed -n 's/.* \([0-9]*\) received.*/\1/p'
}
# attack_round SECONDS COUNT: the attack, and COUNT pings from N once it
# has begun (past the neighbour entry's locktime, 1 s); sets got (pings
# answered) and after (N's entry for V) once every forged reply is sent
attack_round() {
	local att
	attack "$1"
	att=$VW_BG_PID
	sleep 1.5
	got=$(pings "$2")
	after=$(neigh_mac)
	wait $att
}

# ---- without protection: the attack works
attack_round 4 20
poisoned=$after
log "---- unprotected: N's entry for $V4 is $poisoned; $got of 20 pings answered"
expect_eq "unprotected: N's neighbour table gives $V4 the attacker's MAC" "$MA" "$poisoned"
check "unprotected: N lost pings to V to the attacker (at most 15 of 20 answered)" test "$got" -le 15

# ---- with protection
check "flush N's neighbour table" ip -n $ZN neigh flush dev $VN
check "set protection=mac-nospoof,ip-nospoof on $VA" vwadm set-linkprop -p protection=mac-nospoof,ip-nospoof $VA
expect_eq "show-linkprop shows it" "protection:mac-nospoof,ip-nospoof:--" \
	"$(vwadm show-linkprop -c -o property,value,default -p protection $VA)"
wait_ping 10 $ZN $V4
d0=$(c $VA drop_ipspoof)
attack_round 4 20
d1=$(c $VA drop_ipspoof)
log "---- protected: N's entry for $V4 is $after; $got of 20 pings answered; DROP_IPSPOOF +$((d1 - d0))"
expect_eq "protected: N keeps $V4 at the victim's MAC" "$MV" "$after"
expect_eq "protected: N lost no ping" 20 "$got"
expect_eq "protected: every forged reply counted DROP_IPSPOOF" 40 $((d1 - d0))
check "vwstat -t shows DROP_IPSPOOF for $VA" bash -c "$VW_BIN/vwstat -t $VA | head -1 | grep -q DROP_IPSPOOF"
expect_ge "IDROPS includes them" "$(c $VA idrops)" 40
check "A's own traffic still flows" zping $ZA $N4

# forged source IP, forged source MAC
d0=$(c $VA drop_ipspoof) n0=$(c $VN ipkts)
rs udp4 5 0 dst=$MN sip=$V4 dip=$N4
expect_eq "UDP from V's address: 5 dropped as DROP_IPSPOOF" 5 $(($(c $VA drop_ipspoof) - d0))
m0=$(c $VA drop_macspoof)
rs udp4 5 0 dst=$MN src=02:00:00:00:00:99 sip=$A4 dip=$N4
expect_eq "UDP from a forged MAC: 5 dropped as DROP_MACSPOOF" 5 $(($(c $VA drop_macspoof) - m0))
rs arp-reply 3 0 dst=$MN sha=02:00:00:00:00:99 spa=$A4 tha=$MN tpa=$N4
expect_eq "ARP with a forged sender MAC: 3 more DROP_MACSPOOF" 8 $(($(c $VA drop_macspoof) - m0))
rs udp4 5 0 dst=$MN sip=$A4 dip=$N4
expect_ge "honest UDP from A's address reached N" $(($(c $VN ipkts) - n0)) 5

# IPv6 link-local from A's MAC (EUI-64) is allowed, with neighbour discovery
ll_n=$(ip -n $ZN -6 addr show dev $VN scope link | sed -n 's/.*inet6 \(fe80[^/]*\).*/\1/p')
wait_until 10 "A's link-local address is ready" bash -c "ip -n $ZA -6 addr show dev $VA scope link | grep -q fe80 && ! ip -n $ZA -6 addr show dev $VA | grep -q tentative"
check "ping6 from A's link-local to N's ($ll_n) passes ip-nospoof" \
	ip netns exec $ZA ping -6 -n -q -c 2 -W 2 "$ll_n%$VA"

# IPv6 global: an address A gives itself is not allowed; one created with
# create-addr is, at once
check "address fd00:88::1/64 on $VN" vwadm create-addr -a fd00:88::1/64 $VN
check "zone $ZA gives itself fd00:88::3 behind the daemon's back" ip -n $ZA addr add fd00:88::3/64 dev $VA nodad
d0=$(c $VA drop_ipspoof)
check_fail "ping6 from the address A gave itself fails" ip netns exec $ZA ping -6 -n -q -c 2 -W 1 fd00:88::1
expect_ge "... its packets counted DROP_IPSPOOF" $(($(c $VA drop_ipspoof) - d0)) 1
check "zone $ZA drops it" ip -n $ZA addr del fd00:88::3/64 dev $VA
check "create-addr fd00:88::3/64 on $VA" vwadm create-addr -a fd00:88::3/64 $VA
wait_until 10 "ping6 from A's created address passes" ip netns exec $ZA ping -6 -n -q -c 1 -W 1 fd00:88::1

# allowed-ips: an address, then a subnet, then reset (A's own addresses)
check "allowed-ips=10.88.0.50 on $VA" vwadm set-linkprop -p allowed-ips=10.88.0.50 $VA
check_fail "A's own address 10.88.0.3 is no longer allowed" zping $ZA $N4
d0=$(c $VA drop_ipspoof) n0=$(c $VN ipkts)
rs udp4 3 0 dst=$MN sip=10.88.0.50 dip=$N4
expect_eq "UDP from 10.88.0.50 passes" 0 $(($(c $VA drop_ipspoof) - d0))
expect_ge "... and reaches N" $(($(c $VN ipkts) - n0)) 3
check "allowed-ips=10.88.0.50,10.88.0.0/28 (a list, dladm's commas)" \
	vwadm set-linkprop -p allowed-ips=10.88.0.50,10.88.0.0/28,protection=mac-nospoof,ip-nospoof $VA
expect_eq "show-linkprop shows the list" "allowed-ips:10.88.0.50,10.88.0.0/28" \
	"$(vwadm show-linkprop -c -o property,value -p allowed-ips $VA)"
check "A's address is in the subnet again" zping $ZA $N4
d0=$(c $VA drop_ipspoof)
rs udp4 2 0 dst=$MN sip=10.88.0.17 dip=$N4
expect_eq "10.88.0.17 is outside 10.88.0.0/28: dropped" 2 $(($(c $VA drop_ipspoof) - d0))
check "reset allowed-ips" vwadm reset-linkprop -p allowed-ips $VA
check "A's own address allowed again" zping $ZA $N4

# restricted
d0=$(c $VA drop_restricted) n0=$(c $VN ipkts)
rs ether 3 0 dst=$MN type=88b5
expect_ge "without restricted, ethertype 0x88b5 reaches N" $(($(c $VN ipkts) - n0)) 3
check "protection=...,restricted" vwadm set-linkprop -p protection=mac-nospoof,ip-nospoof,restricted $VA
rs ether 4 0 dst=$MN type=88b5
expect_eq "with restricted, ethertype 0x88b5 is DROP_RESTRICTED" 4 $(($(c $VA drop_restricted) - d0))
t0=$(c $VA drop_tagged)
rs ether 2 0 dst=$MN type=0800 vid=5
expect_eq "a tagged frame is dropped (DROP_TAGGED, as always from a VNIC)" 2 $(($(c $VA drop_tagged) - t0))
check "IPv4 still passes under restricted" zping $ZA $N4

# dhcp-nospoof
check "protection=dhcp-nospoof,ip-nospoof" vwadm set-linkprop -p protection=dhcp-nospoof,ip-nospoof $VA
d0=$(c $VA drop_dhcpspoof) i0=$(c $VA drop_ipspoof) n0=$(c $VN ipkts)
rs dhcp 2 0 chaddr=$MA
rs dhcp 2 0 chaddr=$MA cid=01${MA//:/}
expect_eq "honest DISCOVERs (from 0.0.0.0) pass" "0 0" "$(($(c $VA drop_dhcpspoof) - d0)) $(($(c $VA drop_ipspoof) - i0))"
expect_ge "... and reach N" $(($(c $VN ipkts) - n0)) 4
rs dhcp 3 0 chaddr=02:00:00:00:00:99
rs dhcp 2 0 chaddr=$MA cid=01020000000099
expect_eq "DISCOVERs with a forged chaddr or client identifier: DROP_DHCPSPOOF" 5 $(($(c $VA drop_dhcpspoof) - d0))

# bad values: refused, quoted, nothing changed
before=$(vwadm show-linkprop -c -o property,value -p protection,allowed-ips $VA)
out=$(vwadm set-linkprop -p protection=mac-nospoof,bogus $VA 2>&1) && fail "protection=...,bogus accepted"
expect_eq "bad protection refused, quoted" "vwadm: $VA: invalid protection 'mac-nospoof,bogus' (a list of mac-nospoof, ip-nospoof, dhcp-nospoof, restricted)" "$out"
out=$(vwadm set-linkprop -p allowed-ips=10.0.0.300 $VA 2>&1) && fail "allowed-ips=10.0.0.300 accepted"
check "bad allowed-ips refused, quoted" grep -q "invalid allowed-ips '10.0.0.300'" <<<"$out"
check_fail "33 allowed-ips refused" vwadm set-linkprop -p allowed-ips=$(seq -s, -f '10.9.0.%g' 1 33) $VA
check_fail "create-vnic with a bad protection refused" vwadm create-vnic -l $STUB -p protection=nope vwtprx
check_fail "... and created nothing" bash -c "$VW_BIN/vwadm show-vnic vwtprx"
expect_eq "nothing changed" "$before" "$(vwadm show-linkprop -c -o property,value -p protection,allowed-ips $VA)"

# create-vnic -p takes them too; a temporary change is not saved
check "create-vnic -p protection=...,allowed-ips=..." \
	vwadm create-vnic -l $STUB -p protection=mac-nospoof,restricted,allowed-ips=10.88.0.9,fd00:88::9,zone=$ZV vwtprx
expect_eq "show-linkprop of the new VNIC" "protection:mac-nospoof,restricted
allowed-ips:10.88.0.9,fd00\:88\:\:9" "$(vwadm show-linkprop -c -o property,value -p protection,allowed-ips vwtprx)"
check "delete it" vwadm delete-vnic vwtprx

# persistence: the protection A had (mac-nospoof,ip-nospoof) holds after a restart
check "protection=mac-nospoof,ip-nospoof again" vwadm set-linkprop -p protection=mac-nospoof,ip-nospoof,allowed-ips=10.88.0.3,10.88.0.40/29 $VA
check "a temporary change" vwadm set-linkprop -t -p protection=restricted $VA
check "export keeps the persistent values" bash -c "$VW_BIN/vwadm export | grep -q -- 'protection=mac-nospoof,ip-nospoof,allowed-ips=10.88.0.3,10.88.0.40/29.* $VA\$'"
vw_stop
vw_start
expect_eq "after a restart: protection and allowed-ips" "protection:mac-nospoof,ip-nospoof
allowed-ips:10.88.0.3,10.88.0.40/29" "$(vwadm show-linkprop -c -o property,value -p protection,allowed-ips $VA)"
wait_ping 10 $ZN $V4
check "flush N's neighbour table" ip -n $ZN neigh flush dev $VN
wait_ping 10 $ZN $V4
d0=$(c $VA drop_ipspoof)
attack_round 3 10
expect_eq "after a restart: N keeps the victim's MAC" "$MV" "$after"
expect_eq "after a restart: N lost no ping" 10 "$got"
expect_eq "after a restart: forged replies counted" 30 $(($(c $VA drop_ipspoof) - d0))
check "reset protection live" vwadm reset-linkprop -p protection,allowed-ips $VA
expect_eq "show-linkprop after reset" "protection:--
allowed-ips:--" "$(vwadm show-linkprop -c -o property,value -p protection,allowed-ips $VA)"
check "export no longer names them" bash -c "! $VW_BIN/vwadm export | grep -q protection"
vw_stop
log "PASS t_protect ($VW_NCHECK checks)"
