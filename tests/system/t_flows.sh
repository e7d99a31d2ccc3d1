#!/usr/bin/env bash
# Flows (SPEC §4, §6): add-flow, show-flow, show-flowprop, remove-flow, -t
# against persistent across a daemon restart, export, bad input (each
# refused with one line and nothing changed), and per-flow counters with
# real traffic: a TCP flow on port 5201 and an ICMP flow on the server's
# VNIC, iperf3 and ping through them; each flow counts its own traffic and
# nothing of the other's.
VWT_OWN="vwtf"
. "$(dirname "$0")/lib.sh"

ZA=vwtfza ZB=vwtfzb STUB=vwtfs VA=vwtfa VB=vwtfb
A4=10.200.7.1 B4=10.200.7.2

vw_start
check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "VNIC $VA (client) in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "VNIC $VB (server) in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
check "a veth pair vwtfv0/vwtfv1 (a phys link with no VNIC)" ip link add vwtfv0 type veth peer name vwtfv1

log "---- adding and showing flows"
check "flow fiperf: transport=tcp,local_port=5201 on $VB" vwadm add-flow -l $VB -a transport=tcp,local_port=5201 fiperf
check "flow ficmp: transport=icmp on $VB" vwadm add-flow -l $VB -a transport=icmp ficmp
check "flow fnet: remote_ip=10.200.8.0/24 on $VB (-a given twice)" \
	vwadm add-flow -l $VB -a remote_ip=10.200.8.0/24 -a transport=udp fnet
check "flow fv6 on $VA: local_ip=fd00:7::/64" vwadm add-flow -l $VA -a local_ip=fd00:7::/64 fv6
check "temporary flow ftmp (-t): local_ip=$A4,dsfield=0x28:0xfc on $VA (IPv4: fv6 does not overlap it)" \
	vwadm add-flow -t -l $VA -a local_ip=$A4,dsfield=0x28:0xfc ftmp
check "flow on a phys link without VNICs: fphys on vwtfv0" vwadm add-flow -l vwtfv0 -a transport=sctp,remote_port=9 fphys
expect_eq "show-flow -p -o flow,link,ipaddr,proto,lport,rport,dsfld" 'fiperf:vwtfb::tcp:5201::
ficmp:vwtfb::icmp:::
fnet:vwtfb:RMT\:10.200.8.0/24:udp:::
fv6:vwtfa:LCL\:fd00\:7\:\:/64::::
ftmp:vwtfa:LCL\:10.200.7.1/32::::0x28\:0xfc
fphys:vwtfv0::sctp::9:' "$(vwadm show-flow -p -o flow,link,ipaddr,proto,lport,rport,dsfld)"
expect_eq "show-flow -l $VA lists the flows of $VA only" "fv6
ftmp" "$(vwadm show-flow -l $VA -p -o flow)"
expect_eq "show-flow FLOW" "fnet transport=udp,remote_ip=10.200.8.0/24 no" \
	"$(vwadm show-flow -p -o flow,attrs,temporary fnet | tr : ' ' | sed 's/\\//g')"
check "default show-flow table has the flowadm columns" \
	bash -c "vwadm show-flow | head -1 | grep -q '^FLOW  *LINK  *IPADDR  *PROTO  *LPORT  *RPORT  *DSFLD$'"
expect_eq "show-flowprop fiperf: every property, its default and possible values" \
	"fiperf:maxbw:::--
fiperf:priority::medium:high,medium,low
fiperf:guarantee:::--
fiperf:maxconn:::1-4294967295
fiperf:mss:::536-65495
fiperf:fairness::none:conn,none" "$(vwadm show-flowprop -c -o flow,property,value,default,possible fiperf)"
expect_eq "show-flowprop -p mss,fairness -l $VA" "fv6:mss
fv6:fairness
ftmp:mss
ftmp:fairness" "$(vwadm show-flowprop -p mss,fairness -l $VA -c -o flow,property)"
EXPORT=$(vwadm export)
expect_eq "export has the persistent flows, not the temporary one" "add-flow -l $VB -a transport=tcp,local_port=5201 fiperf
add-flow -l $VB -a transport=icmp ficmp
add-flow -l $VB -a transport=udp,remote_ip=10.200.8.0/24 fnet
add-flow -l $VA -a local_ip=fd00:7::/64 fv6
add-flow -l vwtfv0 -a transport=sctp,remote_port=9 fphys" "$(grep add-flow <<<"$EXPORT")"
check "the saved state has them too" bash -c "grep -q '^add-flow -l $VB -a transport=icmp ficmp$' '$VW_STATE/vwire.conf'"

log "---- bad input: one line, exit status, nothing changed"
snapshot() {
	vwadm export
	vwadm show-flow -p -o all
	vwadm show-flowprop -c -o flow,property,value
}
ROWFAILS=()
bad() {   # bad EXIT 'STDERR' ARGS...
	local want_rc=$1 want=$2 rc=0 first before after problems=()
	shift 2
	before=$(snapshot)
	"$VW_BIN/vwadm" "$@" >"$VW_TMP/out" 2>"$VW_TMP/err" || rc=$?
	first=$(head -n 1 "$VW_TMP/err")
	after=$(snapshot)
	[ "$rc" = "$want_rc" ] || problems+=("exit $rc, expected $want_rc;")
	[ "$first" = "$want" ] || problems+=("stderr '$first', expected '$want';")
	if [ "$want_rc" = 2 ]; then
		sed -n 2p "$VW_TMP/err" | grep -q '^usage: vwadm' || problems+=("no usage line;")
	elif [ "$(wc -l <"$VW_TMP/err")" != 1 ]; then
		problems+=("$(wc -l <"$VW_TMP/err") lines on stderr;")
	fi
	[ ! -s "$VW_TMP/out" ] || problems+=("printed on stdout;")
	[ "$before" = "$after" ] || problems+=("state changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')")
	VW_NCHECK=$((VW_NCHECK + 1))
	if [ ${#problems[@]} = 0 ]; then
		log "ok   - vwadm $* -> $rc, \"$first\", nothing changed"
	else
		log "FAIL - vwadm $*: ${problems[*]}"
		ROWFAILS+=("vwadm $*: ${problems[*]}")
	fi
}
bad 1 "vwadm: fx: unknown attribute 'port' (transport, local_ip, remote_ip, local_port, remote_port, dsfield)" \
	add-flow -l $VA -a port=80 fx
bad 1 "vwadm: fx: invalid transport 'gre' (tcp, udp, sctp, icmp or icmpv6)" add-flow -l $VA -a transport=gre fx
bad 1 "vwadm: fx: invalid local_port '70000' (1-65535)" add-flow -l $VA -a transport=tcp,local_port=70000 fx
bad 1 "vwadm: fx: invalid remote_ip '10.0.0.300' (an IPv4 or IPv6 address or subnet expected)" \
	add-flow -l $VA -a remote_ip=10.0.0.300 fx
bad 1 "vwadm: fx: invalid local_ip '10.9.9.9/16': host bits set (10.9.0.0/16?)" add-flow -l $VA -a local_ip=10.9.9.9/16 fx
bad 1 "vwadm: fx: invalid dsfield '0x1ff' (VALUE[:MASK], hexadecimal bytes such as 0x28:0xfc)" \
	add-flow -l $VA -a dsfield=0x1ff fx
bad 1 "vwadm: fx: local_port requires transport tcp, udp or sctp" add-flow -l $VA -a local_port=80 fx
bad 1 "vwadm: fx: remote_port requires transport tcp, udp or sctp" add-flow -l $VA -a transport=icmp,remote_port=80 fx
bad 1 "vwadm: fx: attribute 'transport' given twice" add-flow -l $VA -a transport=tcp -a transport=udp fx
bad 1 "vwadm: fx: invalid attribute list 'transport' (ATTR=VAL[,...] expected)" add-flow -l $VA -a transport fx
bad 1 "vwadm: fx: overlaps flow 'fiperf' (transport=tcp,local_port=5201) on '$VB'" add-flow -l $VB -a transport=tcp fx
bad 1 "vwadm: fx: overlaps flow 'fiperf' (transport=tcp,local_port=5201) on '$VB'" \
	add-flow -l $VB -a local_ip=10.200.7.2 fx
bad 1 "vwadm: fx: overlaps flow 'fnet' (transport=udp,remote_ip=10.200.8.0/24) on '$VB'" \
	add-flow -l $VB -a remote_ip=10.200.8.128/25,transport=udp fx
bad 1 "vwadm: fx: overlaps flow 'fv6' (local_ip=fd00:7::/64) on '$VA'" add-flow -l $VA -a local_ip=fd00:7::1 fx
bad 1 "vwadm: fiperf: flow already exists" add-flow -l $VA -a transport=udp fiperf
bad 1 "vwadm: fx: no such link 'vwtfnosuch'" add-flow -l vwtfnosuch -a transport=udp fx
bad 1 "vwadm: fx: '$STUB' is an etherstub; flows go on VNICs and phys links" add-flow -l $STUB -a transport=udp fx
bad 1 "vwadm: 1fx: invalid flow name (1-31 of A-Z a-z 0-9 _ . -, starting with a letter)" add-flow -l $VA -a transport=udp 1fx
bad 1 "vwadm: fx: guarantee 2M is over the flow's maxbw 1M" add-flow -l $VA -a transport=udp -p maxbw=1M,guarantee=2M fx
bad 1 "vwadm: fx: flow properties on a phys link are not supported yet (they work on VNICs)" \
	add-flow -l vwtfv0 -a transport=udp -p maxbw=10M fx
bad 1 "vwadm: fx: property 'mss' is not supported yet" add-flow -l $VA -a transport=udp -p mss=1400 fx
bad 1 "vwadm: fx: unknown property 'cpus'" add-flow -l $VA -a transport=udp -p cpus=1 fx
bad 1 "vwadm: fiperf: invalid priority 'urgent' (high, medium or low)" set-flowprop -p priority=urgent fiperf
bad 1 "vwadm: fphys: flow properties on a phys link are not supported yet (they work on VNICs)" \
	set-flowprop -p guarantee=1M fphys
bad 1 "vwadm: fiperf: unknown property 'bogus'" set-flowprop -p bogus=1 fiperf
bad 1 "vwadm: fiperf: property 'maxconn' given twice" set-flowprop -p maxconn=1,maxconn=2 fiperf
bad 1 "vwadm: fiperf: property 'maxconn' is not supported yet" reset-flowprop -p maxconn fiperf
bad 1 "vwadm: fnosuch: no such flow" set-flowprop -p maxbw=1M fnosuch
bad 1 "vwadm: fnosuch: no such flow" remove-flow fnosuch
bad 1 "vwadm: vwtfnosuch: no such link" remove-flow -l vwtfnosuch
bad 1 "vwadm: fnosuch: no such flow" show-flow fnosuch
bad 1 "vwadm: show-flowprop: unknown property 'bogus'" show-flowprop -p bogus
bad 2 "vwadm: remove-flow: give either a flow name or -l LINK" remove-flow -l $VA fiperf
bad 2 "vwadm: remove-flow: give either a flow name or -l LINK" remove-flow
bad 2 "vwadm: add-flow: option '-a' is required" add-flow -l $VA fx
bad 2 "vwadm: add-flow: option '-l' is required" add-flow -a transport=udp fx
bad 2 "vwadm: -p requires -o" show-flow -p
bad 2 "vwadm: -c requires -o" show-flowprop -c
if [ ${#ROWFAILS[@]} -gt 0 ]; then
	printf '  - %s\n' "${ROWFAILS[@]}" >&2
	fail "${#ROWFAILS[@]} bad-input rows failed"
fi
rc=0
vwstat show-flow fnosuch 2>"$VW_TMP/err" || rc=$?
expect_eq "vwstat show-flow fnosuch: exit 1, one line" "1 vwstat: fnosuch: no such flow" "$rc $(cat "$VW_TMP/err")"
rc=0
vwstat show-flow -r 2>"$VW_TMP/err" >/dev/null || rc=$?
expect_eq "vwstat show-flow -r: a usage error" "2 vwstat: -r, -t and -w apply to links, not to show-flow" \
	"$rc $(head -1 "$VW_TMP/err")"

log "---- per-flow counters with real traffic"
flowstat() { vwstat show-flow -p -o ipkts,rbytes,opkts,obytes "$1" | tr : ' '; }
wait_ping 10 $ZA $B4
read -r ii0 ib0 io0 iob0 < <(flowstat fiperf)
read -r ci0 cb0 co0 cob0 < <(flowstat ficmp)
check "20 pings $ZA -> $ZB" bash -c "ip netns exec $ZA ping -n -q -c 20 -i 0.05 -W 1 $B4 > '$VW_TMP/ping.out'"
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$VW_TMP/ping.out")
expect_eq "every ping answered" 20 "$received"
read -r ci1 cb1 co1 cob1 < <(flowstat ficmp)
log "---- ficmp: +$((ci1 - ci0)) in, +$((co1 - co0)) out"
# each echo request is delivered to $VB (its IPKTS), each reply sent by it;
# an echo frame is 98 bytes (14 + 20 + 8 + 56)
expect_ge "ficmp IPKTS grew by the 20 echo requests" $((ci1 - ci0)) 20
expect_ge "ficmp OPKTS grew by the 20 echo replies" $((co1 - co0)) 20
expect_ge "ficmp IPKTS grew by at most 22 (nothing else is ICMP)" 22 $((ci1 - ci0))
expect_ge "ficmp OPKTS grew by at most 22" 22 $((co1 - co0))
expect_ge "ficmp RBYTES: 98 bytes per request" $((cb1 - cb0)) $((20 * 98))
read -r ii1 ib1 io1 iob1 < <(flowstat fiperf)
expect_eq "fiperf counted none of the pings" "$ii0 $ib0 $io0 $iob0" "$ii1 $ib1 $io1 $iob1"

vw_bg ip netns exec $ZB iperf3 -s -1 -B $B4 --logfile "$VW_TMP/iperf3-server.log"
wait_until 10 "iperf3 server listening in $ZB" bash -c "ip netns exec $ZB ss -Hltn 'sport = :5201' | grep -q 5201"
read -r ci0 cb0 co0 cob0 < <(flowstat ficmp)
read -r ii0 ib0 io0 iob0 < <(flowstat fiperf)
read -r lb0 < <(vwstat -p -o rbytes $VB)
check "iperf3 TCP $ZA -> $ZB:5201 for 3 seconds" \
	bash -c "ip netns exec $ZA iperf3 -c $B4 -t 3 -J > '$VW_TMP/iperf3.json'"
sent=$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_sent"]["bytes"]))' "$VW_TMP/iperf3.json")
read -r ii1 ib1 io1 iob1 < <(flowstat fiperf)
read -r lb1 < <(vwstat -p -o rbytes $VB)
log "---- iperf3 sent $sent bytes; fiperf: +$((ib1 - ib0)) bytes in, +$((io1 - io0)) frames out; $VB: +$((lb1 - lb0)) bytes in"
expect_ge "fiperf RBYTES grew by at least the bytes iperf3 sent" $((ib1 - ib0)) "$sent"
# headers (GSO super-frames: a few per 64 KiB) and the control connection
expect_ge "fiperf RBYTES grew by at most 10% more than iperf3 sent" $((sent + sent / 10)) $((ib1 - ib0))
expect_ge "fiperf counted every byte of TCP $VB received: all but ARP/ICMP (>= 99.9% of the link's)" \
	$(( (ib1 - ib0) * 1000 )) $(( (lb1 - lb0) * 999 ))
expect_ge "fiperf IPKTS grew by at least one frame per 64 KiB" $((ii1 - ii0)) $((sent / 65536))
expect_ge "fiperf OPKTS grew (the server's acknowledgements)" $((io1 - io0)) 100
read -r ci1 cb1 co1 cob1 < <(flowstat ficmp)
expect_eq "ficmp counted none of the TCP traffic" "$ci0 $cb0 $co0 $cob0" "$ci1 $cb1 $co1 $cob1"
expect_eq "fnet (UDP to 10.200.8.0/24) counted nothing" "0 0 0 0" "$(flowstat fnet)"
check "vwstat show-flow -l $VB lists its three flows" \
	bash -c "[ \"\$(vwstat show-flow -l $VB -p -o flow | tr '\n' ' ')\" = 'fiperf ficmp fnet ' ]"
check "vwstat show-flow -F json" bash -c "vwstat show-flow -F json ficmp | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r[0][\"flow\"]==\"ficmp\" and r[0][\"ipkts\"]>=20'"
check "vwstat show-flow default table" bash -c "vwstat show-flow | head -1 | grep -q '^FLOW  *IPKTS  *RBYTES  *OPKTS  *OBYTES$'"
check "vwstat show-flow -i 0.2 -c 2 prints two samples" bash -c "[ \$(vwstat show-flow -i 0.2 -c 2 -p -o flow ficmp | wc -l) = 2 ]"

log "---- remove-flow -t, and a restart"
check "remove-flow fphys (persistent)" vwadm remove-flow fphys
SHOW0=$(vwadm show-flow -p -o all | grep -v '^ftmp:')
check "remove-flow -t fnet (only until the next start)" vwadm remove-flow -t fnet
check_fail "fnet is no longer shown" vwadm show-flow fnet
check "fnet is still in the export" bash -c "vwadm export | grep -q ' fnet$'"
EXPORT0=$(vwadm export)
vw_kill9
vw_start
expect_eq "export identical after the restart" "$EXPORT0" "$(vwadm export)"
expect_eq "show-flow after the restart: the persistent flows, fnet back, ftmp gone" "$SHOW0" \
	"$(vwadm show-flow -p -o all)"
check_fail "the temporary flow ftmp is not restored" vwadm show-flow ftmp
wait_ping 10 $ZA $B4
check "the restored ficmp counts again" bash -c "[ \$(vwstat show-flow -p -o ipkts ficmp) -ge 1 ]"

log "---- flows go with their link"
check "remove-flow -l $VA" vwadm remove-flow -l $VA
expect_eq "no flow left on $VA" "" "$(vwadm show-flow -l $VA -p -o flow)"
check "delete-vnic $VB" vwadm delete-vnic $VB
expect_eq "its flows are gone" "" "$(vwadm show-flow -p -o flow)"
check "and not in the export any more" bash -c "! vwadm export | grep -q add-flow"
check "a new $VB has no flow" vwadm create-vnic -l $STUB -p zone=$ZB $VB
expect_eq "no flow on the new $VB" "" "$(vwadm show-flow -l $VB -p -o flow)"
vw_stop
