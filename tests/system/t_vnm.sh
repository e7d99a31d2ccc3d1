#!/usr/bin/env bash
# Virtual network machines: a router between two etherstubs (IPv4 and IPv6,
# and a static route through a second router), an lb in front of two web
# servers (round robin, source hash, a dead backend taken out within 3 s
# and put back), a nat, a firewall with counted rules; bad input refused
# with nothing changed; a restart (and a kill -9) keeps them working and
# export lists them; delete-vnm leaves nothing in the zone.
VWT_OWN="vwty"
. "$(dirname "$0")/lib.sh"

S1=vwtys1 S2=vwtys2 S3=vwtys3 S4=vwtys4 S5=vwtys5
R=vwtyr R2=vwtyr2 L=vwtyl N=vwtyn W=vwtyw     # the VNMs' zones
C=vwtyc D=vwtyd F=vwtyf E=vwtye G=vwtyg H=vwtyh # clients and servers

vw_start
for s in $S1 $S2 $S3 $S4 $S5; do check "etherstub $s" vwadm create-etherstub $s; done
# zone VNIC STUB ADDR...
mkz() {
	local z=$1 v=$2 s=$3 a
	shift 3
	vwadm show-zone $z >/dev/null 2>&1 || check "zone $z" vwadm create-zone $z
	check "VNIC $v on $s in $z" vwadm create-vnic -l $s -p zone=$z $v
	for a in "$@"; do check "$a on $v" vwadm create-addr -a $a $v; done
}
mkz $R vwtyr1 $S1 10.77.1.1/24 fd77:1::1/64
mkz $R vwtyr2 $S2 10.77.2.1/24 fd77:2::1/64
mkz $R2 vwtyq2 $S2 10.77.2.2/24
mkz $R2 vwtyq3 $S3 10.77.3.1/24
mkz $C vwtyc1 $S1 10.77.1.10/24 fd77:1::10/64
mkz $D vwtyd1 $S2 10.77.2.10/24 fd77:2::10/64
mkz $F vwtyf1 $S2 10.77.2.11/24
mkz $E vwtye1 $S3 10.77.3.10/24
ip -n $C route add default via 10.77.1.1
ip -n $C -6 route add default via fd77:1::1
ip -n $D route add default via 10.77.2.1
ip -n $D -6 route add default via fd77:2::1
ip -n $E route add default via 10.77.3.1

# ---- router
check_fail "no forwarding between the etherstubs before the VNM" \
	ip netns exec $C ping -n -q -c 1 -W 1 10.77.2.10
check "create-vnm router $R" vwadm create-vnm -T router -l vwtyr1,vwtyr2 -p route=10.77.3.0/24@10.77.2.2 $R
check "create-vnm router $R2" vwadm create-vnm -T router -l vwtyq2,vwtyq3 -p route=default@10.77.2.1 $R2
expect_eq "show-vnm lists both" \
	"$R:router:$R:vwtyr1,vwtyr2:route=10.77.3.0/24@10.77.2.2:ok
$R2:router:$R2:vwtyq2,vwtyq3:route=default@10.77.2.1:ok" \
	"$(vwadm show-vnm -p -o vnm,type,zone,links,props,state)"
expect_eq "forwarding on in $R" "1 1" \
	"$(ip netns exec $R cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | tr '\n' ' ' | sed 's/ $//')"
wait_ping 10 $C 10.77.2.10
wait_ping 10 $C fd77:2::10
check "static route in $R" bash -c "ip -n $R route show 10.77.3.0/24 | grep -q 'via 10.77.2.2'"
wait_ping 10 $C 10.77.3.10
expect_eq "show-vnm -x: the route is there" "route:10.77.3.0/24@10.77.2.2:ok:-" \
	"$(vwadm show-vnm -x -p -o element,what,state,pkts $R)"

# ---- lb: two web servers, each says who it is
for z in $D $F; do
	mkdir -p "$VW_TMP/www-$z"
	echo "$z" >"$VW_TMP/www-$z/id"
done
start_web() {   # zone addr
	vw_bg ip netns exec $1 python3 -m http.server 8080 --bind $2 --directory "$VW_TMP/www-$1" \
		2>>"$VW_TMP/web-$1.log"
	eval "WEB_$1=$VW_BG_PID"
	wait_until 10 "web server in $1" bash -c "ip netns exec $1 ss -Hltn 'sport = :8080' | grep -q 8080"
}
start_web $D 10.77.2.10
start_web $F 10.77.2.11
mkz $L vwtyl1 $S1 10.77.1.5/24
mkz $L vwtyl2 $S2 10.77.2.5/24
check "create-vnm lb $L" vwadm create-vnm -T lb -l vwtyl1,vwtyl2 \
	-p vip=10.77.1.5:80,backends=10.77.2.10:8080+10.77.2.11:8080 $L
get() { ip netns exec $C curl -s --max-time 2 http://10.77.1.5/id; }
fetch() {   # N: who answered each of N requests, counted
	local i
	for ((i = 0; i < $1; i++)); do get || echo FAILED; done | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '
}
wait_until 10 "the vip answers" get
out=$(fetch 10)
log "---- rr: $out"
expect_eq "round robin spreads 10 requests over both backends" "$D=5 $F=5 " "$out"
check "set-vnmprop algo=hash" vwadm set-vnmprop -p algo=hash $L
out=$(fetch 10)
log "---- hash: $out"
check "source hash keeps one client on one backend" bash -c "[[ '$out' =~ ^vwty[df]=10\ \$ ]]"
check "set-vnmprop algo=rr" vwadm set-vnmprop -p algo=rr $L
expect_eq "both backends up" "backend:10.77.2.10:8080:up
backend:10.77.2.11:8080:up" "$(vwadm show-vnm -x -p -o element,what,state $L | grep '^backend' | sed 's/\\//g')"

vw_bg_stop "$WEB_vwtyf" KILL
t0=$(_now_ms)
wait_until 3 "show-vnm -x says 10.77.2.11:8080 is down within 3 s" \
	bash -c "$VW_BIN/vwadm show-vnm -x -p -o what,state $L | grep -q '^10.77.2.11\\\\:8080:down'"
log "---- backend taken out after $(($(_now_ms) - t0)) ms"
out=$(fetch 10)
expect_eq "every request served by the live backend" "$D=10 " "$out"
start_web $F 10.77.2.11
t0=$(_now_ms)
wait_until 3 "show-vnm -x says 10.77.2.11:8080 is up again" \
	bash -c "$VW_BIN/vwadm show-vnm -x -p -o what,state $L | grep -q '^10.77.2.11\\\\:8080:up'"
log "---- backend put back after $(($(_now_ms) - t0)) ms"
out=$(fetch 10)
expect_eq "round robin uses both again" "$D=5 $F=5 " "$out"
pk=$(vwadm show-vnm -x -p -o what,pkts $L | awk -F: '/^10.77.2.11/ {print $3}')
expect_ge "backend counter counts" "${pk:-0}" 5

vw_bg_stop "$WEB_vwtyd" KILL
vw_bg_stop "$WEB_vwtyf" KILL
wait_until 4 "both backends down" bash -c "[ \$($VW_BIN/vwadm show-vnm -x -p -o state $L | grep -c down) = 2 ]"
t0=$(_now_ms)
check_fail "all down: the vip refuses" ip netns exec $C curl -s --max-time 3 http://10.77.1.5/id
expect_ge "refused at once, not hung (ms under 1000)" $((1000 - ($(_now_ms) - t0))) 1
start_web $D 10.77.2.10
start_web $F 10.77.2.11
wait_until 4 "both backends up again" bash -c "[ \$($VW_BIN/vwadm show-vnm -x -p -o state $L | grep -c up) = 2 ]"

# ---- bad input: one line, nothing changed
before=$(vwadm show-vnm -p -o vnm,props)
tab=$(ip netns exec $L nft -s list table inet vwire_vnm)
bad() {   # DESC WORD CMD...: refused, one line quoting WORD
	local desc=$1 word=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	check "$desc: refused" test $rc = 1
	expect_eq "$desc: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	check "$desc: names '$word' ($out)" grep -qF -- "$word" <<<"$out"
}
bad "unreachable backend" 10.99.0.1:80 vwadm set-vnmprop -p backends=10.77.2.10:8080+10.99.0.1:80 $L
bad "vip not ours" 10.77.1.99:80 vwadm set-vnmprop -p vip=10.77.1.99:80 $L
bad "bad algo" wrr vwadm set-vnmprop -p algo=wrr $L
bad "property of another type" inside vwadm set-vnmprop -p inside=vwtyl1 $L
bad "gateway off-link" 10.66.0.1 vwadm set-vnmprop -p route=default@10.66.0.1 $L
bad "VNIC of another zone" vwtyc1 vwadm create-vnm -T router -l vwtyc1 $D
bad "unknown type" switch vwadm create-vnm -T switch -l vwtyd1 $D
bad "delete-vnic of a VNM's VNIC" $L vwadm delete-vnic vwtyl1
bad "moving a VNM's VNIC out" $L vwadm set-linkprop -p zone=$C vwtyl1
bad "delete-zone of a VNM" $L vwadm delete-zone -f $L
expect_eq "show-vnm unchanged" "$before" "$(vwadm show-vnm -p -o vnm,props)"
expect_eq "nft table unchanged" "$tab" "$(ip netns exec $L nft -s list table inet vwire_vnm)"

# ---- restart: the state replays the VNMs, which keep working
exp=$(vwadm export | grep '^create-vnm')
expect_eq "export lists the VNMs" \
	"create-vnm -T router -l vwtyr1,vwtyr2 -p route=10.77.3.0/24@10.77.2.2 $R
create-vnm -T router -l vwtyq2,vwtyq3 -p route=default@10.77.2.1 $R2
create-vnm -T lb -l vwtyl1,vwtyl2 -p vip=10.77.1.5:80,backends=10.77.2.10:8080+10.77.2.11:8080,algo=rr $L" "$exp"
vw_stop
vw_start
expect_eq "the VNMs are back after a restart" "$exp" "$(vwadm export | grep '^create-vnm')"
wait_ping 10 $C 10.77.3.10
wait_until 10 "the vip answers after the restart" get
vw_kill9
vw_start
expect_eq "and after kill -9" "$exp" "$(vwadm export | grep '^create-vnm')"
wait_ping 10 $C fd77:2::10
wait_until 10 "the vip answers after kill -9" get
expect_eq "one table in the zone" 1 "$(ip netns exec $L nft list tables | grep -c vwire_vnm)"

# ---- delete-vnm: nothing left
check "delete-vnm $R2" vwadm delete-vnm $R2
check "no table in $R2" bash -c "! ip netns exec $R2 nft list tables | grep -q vwire_vnm"
check "no route left in $R2" bash -c "! ip -n $R2 route show default | grep -q via"
expect_eq "forwarding off in $R2" 0 "$(ip netns exec $R2 cat /proc/sys/net/ipv4/ip_forward)"
check "delete-vnic works once the VNM is gone" vwadm delete-vnic vwtyq3


# ---- nat: G's side behind the outside address 10.77.2.6
mkz $N vwtyn1 $S4 192.168.77.1/24
mkz $N vwtyn2 $S2 10.77.2.6/24
mkz $G vwtyg1 $S4 192.168.77.10/24
ip -n $G route add default via 192.168.77.1
ip -n $D route add 192.168.77.0/24 via 10.77.2.6
check "create-vnm nat $N" vwadm create-vnm -T nat -l vwtyn1,vwtyn2 -p inside=vwtyn1,outside=vwtyn2 $N
: >"$VW_TMP/web-$D.log"
expect_eq "a client behind the nat reaches the server" "$D" \
	"$(ip netns exec $G curl -s --max-time 3 http://10.77.2.10:8080/id)"
check "the server saw the outside address 10.77.2.6" grep -q '^10.77.2.6 .*GET /id' "$VW_TMP/web-$D.log"
check "the server's log has no inside address" bash -c "! grep -q '^192.168.77' '$VW_TMP/web-$D.log'"
check_fail "nothing enters from outside: the server cannot reach the client" \
	ip netns exec $D ping -n -q -c 1 -W 1 192.168.77.10
check_fail "nor open a TCP connection to it" ip netns exec $D curl -s --max-time 2 http://192.168.77.10:8080/
pk=$(vwadm show-vnm -x -p -o what,pkts $N | awk -F: '/masquerade/ {print $2}')
expect_ge "the masquerade counter counts" "${pk:-0}" 1
pk=$(vwadm show-vnm -x -p -o what,pkts $N | awk -F: '/dropped/ {print $2}')
expect_ge "the drop counter counts what came in" "${pk:-0}" 2

# ---- firewall between H's side and the servers
mkz $W vwtyw1 $S5 10.77.5.1/24
mkz $W vwtyw2 $S2 10.77.2.7/24
mkz $H vwtyh1 $S5 10.77.5.10/24
ip -n $H route add default via 10.77.5.1
ip -n $D route add 10.77.5.0/24 via 10.77.2.7
vw_bg ip netns exec $D python3 -m http.server 8081 --bind 10.77.2.10 --directory "$VW_TMP/www-$D" \
	2>>"$VW_TMP/web-$D.log"
wait_until 10 "second web server in $D" bash -c "ip netns exec $D ss -Hltn 'sport = :8081' | grep -q 8081"
check "create-vnm firewall $W" vwadm create-vnm -T firewall -l vwtyw1,vwtyw2 \
	-p allow=transport=tcp+local_port=8080,allow=transport=icmp $W
expect_eq "allowed port works" "$D" "$(ip netns exec $H curl -s --max-time 3 http://10.77.2.10:8080/id)"
check "allowed protocol works (ping)" ip netns exec $H ping -n -q -c 2 -i 0.2 -W 1 10.77.2.10
check_fail "a port no rule allows is dropped (policy deny)" \
	ip netns exec $H curl -s --max-time 2 http://10.77.2.10:8081/id
check "set-vnmprop deny=transport=icmp" vwadm set-vnmprop -p deny=transport=icmp $W
check_fail "denied protocol fails" ip netns exec $H ping -n -q -c 1 -W 1 10.77.2.10
check "TCP to the allowed port still works" ip netns exec $H curl -s --max-time 3 http://10.77.2.10:8080/id
ip netns exec $H curl -s --max-time 3 http://10.77.2.10:8080/id >/dev/null
check_fail "the other port is still dropped" ip netns exec $H curl -s --max-time 1 http://10.77.2.10:8081/id
rows=$(vwadm show-vnm -x -p -o element,what,pkts $W)
log "$rows"
pk=$(awk -F: '/allow transport=tcp\+local_port=8080/ {print $3}' <<<"$rows")
expect_ge "the allow rule's counter counts both connections' first packets" "${pk:-0}" 2
pk=$(awk -F: '/deny transport=icmp/ {print $3}' <<<"$rows")
expect_ge "the deny rule's counter grows" "${pk:-0}" 1
pk=$(awk -F: '/policy deny/ {print $3}' <<<"$rows")
expect_ge "the policy counter counts the dropped SYNs (since the last change)" "${pk:-0}" 1
expect_eq "firewall export, rules in the order given" \
	"create-vnm -T firewall -l vwtyw1,vwtyw2 -p allow=transport=tcp+local_port=8080,allow=transport=icmp,deny=transport=icmp $W" \
	"$(vwadm export | grep "^create-vnm -T firewall")"
tab=$(ip netns exec $W nft -s list table inet vwire_vnm)
before=$(vwadm show-vnm -p -o vnm,props)
bad "a rule that does not parse" local_port=http vwadm set-vnmprop -p allow=transport=tcp+local_port=http $W
bad "a rule with an unknown attribute" colour vwadm set-vnmprop -p deny=colour=red $W
bad "nat outside not among its VNICs" vwtyw1 vwadm set-vnmprop -p outside=vwtyw1 $N
expect_eq "show-vnm unchanged" "$before" "$(vwadm show-vnm -p -o vnm,props)"
expect_eq "firewall table unchanged" "$tab" "$(ip netns exec $W nft -s list table inet vwire_vnm)"
check "reset-vnmprop deny" vwadm reset-vnmprop -p deny $W
wait_ping 5 $H 10.77.2.10
check "delete-vnm $W" vwadm delete-vnm $W
check "no table left in $W" bash -c "! ip netns exec $W nft list tables | grep -q vwire_vnm"
check_fail "no forwarding through $W once deleted" ip netns exec $H ping -n -q -c 1 -W 1 10.77.2.10

vw_stop
log "PASS: $VW_NCHECK checks"
