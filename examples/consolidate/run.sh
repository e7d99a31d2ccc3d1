#!/usr/bin/env bash
# The paper's first example (§5.1, see README.md): two subnets numbered
# alike, consolidated onto one host.  Two hosts, each a network namespace
# with a vwired of its own, joined by two veth pairs aggregated with LACP:
#   dc    the two servers, zones on VLAN 10 and VLAN 20, both 192.168.10.1
#   edge  four clients, two per VLAN, .11 and .12 on both VLANs
# Each host is built from a vWire file (dc.vw, edge.vw) with vwadm apply.
# Claims checked, each printed PASS or FAIL with its figures:
#   (a) both VLANs have the same addresses;
#   (b) every client reaches its own server and never the other one: no
#       frame crosses between the VLANs (captured at both servers and on
#       the wire, where every client frame is tagged 10 or 20);
#   (c) LACP is up on both links; one link fails and every client still
#       reaches its server (pings lost, longest gap measured); the link
#       comes back and rejoins.
#   sudo examples/consolidate/run.sh
# Exit status 0 if every claim held, 1 if not.  VWEX_PREFIX (default vwc)
# begins every name it makes: namespaces, links, sockets /tmp/PREFIX{dc,edge}.sock,
# state /tmp/PREFIX{dc,edge}.state, scratch /tmp/PREFIX_consolidate.tmp; all of it
# is removed on exit, even on failure or Ctrl-C (VWEX_KEEP=1 keeps the
# scratch dir with the captures and the daemons' logs).
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 1
EX=examples/consolidate
P=${VWEX_PREFIX:-vwc}
# the longest names are PREFIXedge and PREFIXcl10a: at most 15 characters
case "$P" in
*[!a-z0-9]* | '' | ???????????*) echo "$0: VWEX_PREFIX must be 1 to 10 characters a-z, 0-9" >&2; exit 2 ;;
esac
. examples/lib.sh
BIN=${VWT_BUILD:-$PWD/build}
need_root "namespaces, veth pairs"
need_cmds tshark ping nsenter ip awk
need_build vwired vwadm vwsnoop

DC=${P}dc EDGE=${P}edge
TMP=/tmp/${P}_consolidate.tmp
SERVERS="${P}srv10 ${P}srv20"                        # zones
CLIENTS="${P}cl10a ${P}cl10b ${P}cl20a ${P}cl20b"    # zones
SRV_ADDR=192.168.10.1
GAP_MAX=1500         # ms: the longest ping gap allowed across a link failure
# what the vWire files say, for the report: zone -> VNIC, VLAN, MAC
declare -A VNIC=() VID=() MAC=()
for z in $SERVERS $CLIENTS; do
	n=${z#"$P"}
	case $n in
	srv*) VID[$z]=${n:3:2} VNIC[$z]=${P}s${n:3} MAC[$z]=02:5e:${n:3:2}:00:00:01 ;;
	cl*) VID[$z]=${n:2:2} VNIC[$z]=${P}c${n:2} MAC[$z]=02:5e:${n:2:2}:00:00:1$([ "${n:4}" = a ] && echo 1 || echo 2) ;;
	esac
done
server_of() { echo "${P}srv${VID[$1]}"; }   # a client zone's server zone
other_vid() { [ "$1" = 10 ] && echo 20 || echo 10; }

sock() { printf '/tmp/%s.sock' "$1"; }          # $1: a host, PREFIXdc or PREFIXedge
state() { printf '/tmp/%s.state' "$1"; }

# all of it removed on exit (and an interrupted run's leftovers first);
# die shows the daemons' logs
NETNS="$SERVERS $CLIENTS $DC $EDGE"
FILES=("$(sock $DC)" "$(state $DC)" "$(sock $EDGE)" "$(state $EDGE)")
SCRATCH=$TMP KEEP=${VWEX_KEEP:-}
die_log "vwired $DC" "$TMP/$DC.log"
die_log "vwired $EDGE" "$TMP/$EDGE.log"
cleanup_at_exit
declare -A SNOOP=() PINGS=() REJ=()

NFAIL=0 NCLAIM=0
claim() {   # PASS|FAIL TEXT
	NCLAIM=$((NCLAIM + 1))
	[ "$1" = PASS ] || NFAIL=$((NFAIL + 1))
	printf '%s\t%s\n' "$1" "$2"
}
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }

# host_up NAME: namespace NAME and a vwired -f in it (host_start, examples/lib.sh)
host_up() {
	local h=$1
	host_ns "$h"
	# the host's own kernel keeps quiet on the links (no IPv6 router
	# solicitations): only vwired's frames go over them
	ip netns exec "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	host_start "$h" "$(sock "$h")" "$(state "$h")" "$TMP/$h.log" --fastpath="${VWT_FASTPATH:-on}" ||
		die "host $h: vwired (pid ${HOST_PID[$h]}) did not answer within 10 s"
}

# link_pair A B: a veth pair made right in the hosts' namespaces, both up
link_pair() { host_link $DC "$1" $EDGE "$2" || die "cannot make veth pair $1 -- $2"; }

# apply HOST FILE VAR=VALUE...: the vWire file on HOST's daemon
apply() {
	local h=$1 f=$2 kv out
	local -a defs=()
	shift 2
	for kv in "$@"; do defs+=(-D "$kv"); done
	echo "  vwadm apply ${defs[*]} $f   (host $h)"
	out=$(hv "$h" apply "${defs[@]}" "$f" 2>&1) || { indent 4 <<<"$out"; return 1; }
	indent 4 <<<"$out"
}

# lacp_up HOST: both members of the aggregation in sync, collecting and
# distributing
lacp_up() { [ "$(hv "$1" show-aggr -L -p -o port,sync,coll,dist ${P}ag | grep -c ':yes:yes:yes$')" = 2 ]; }
both_up() { lacp_up $DC && lacp_up $EDGE; }
show_lacp() {
	local h
	for h in $DC $EDGE; do
		echo "  host $h: vwadm show-aggr -L -o port,sync,coll,dist,expired,defaulted"
		hv "$h" show-aggr -L -o port,sync,coll,dist,expired,defaulted ${P}ag | indent 4
	done
}

# ---------------------------------------------------------------- build
remove_leftovers
echo "consolidate: $(stamp); $(nproc) cores; prefix $P"
echo "Two subnets numbered alike (192.168.10.0/24), consolidated: host $DC holds both"
echo "servers on VLANs 10 and 20; host $EDGE holds two clients of each; the hosts are"
echo "joined by an LACP aggregation of two links (${P}d0--${P}e0, ${P}d1--${P}e1)."
echo
host_up $DC
host_up $EDGE
link_pair ${P}d0 ${P}e0
link_pair ${P}d1 ${P}e1
apply $DC $EX/dc.vw P=$P L0=${P}d0 L1=${P}d1 || die "dc.vw could not be applied"
apply $EDGE $EX/edge.vw P=$P L0=${P}e0 L1=${P}e1 || die "edge.vw could not be applied"
echo

# ---------------------------------------------------------------- (c) LACP up
t0=$(now_ms)
if poll 20 both_up; then
	claim PASS "(c) LACP up: both links in sync, collecting and distributing on both hosts ($(($(now_ms) - t0)) ms after the build)"
else
	claim FAIL "(c) LACP up: not both links collecting and distributing on both hosts within 20 s"
fi
show_lacp
echo

# ---------------------------------------------------------------- (a) addresses
echo "  host $DC: vwadm show-addr; host $EDGE: vwadm show-addr"
{ hv $DC show-addr -o link,zone,addr; hv $EDGE show-addr -o link,zone,addr | tail -n +2; } | indent 4
declare -A ADDR=() IPADDR=()
for z in $SERVERS $CLIENTS; do
	h=$EDGE
	case $z in "$P"srv*) h=$DC ;; esac
	ADDR[$z]=$(hv $h show-addr -p -o addr "${VNIC[$z]}")
	IPADDR[$z]=$(ip -n "$z" -4 -o addr show dev "${VNIC[$z]}" | awk '{ print $4 }')
done
echo "  the zones' own view: ip -n ZONE -4 addr show"
for z in $SERVERS $CLIENTS; do printf '    %-12s %-10s VLAN %s  %s\n' "$z" "${VNIC[$z]}" "${VID[$z]}" "${IPADDR[$z]}"; done
same() { [ "${ADDR[$1]}" = "${ADDR[$2]}" ] && [ "${IPADDR[$1]}" = "${IPADDR[$2]}" ] && [ "${ADDR[$1]}" = "${IPADDR[$1]}" ] && [ -n "${ADDR[$1]}" ]; }
for pair in "srv10 srv20" "cl10a cl20a" "cl10b cl20b"; do
	set -- $pair
	a=$P$1 b=$P$2
	claim "$(verdict same "$a" "$b")" "(a) same address on both VLANs: $a (VLAN 10) ${ADDR[$a]:-none}, $b (VLAN 20) ${ADDR[$b]:-none} (vwadm and ip agree)"
done
echo

# ---------------------------------------------------------------- (b) no crossing
# captures on both servers' VNICs (vwsnoop, on dc's daemon) and on the two
# wires at the edge (tshark on the edge host's veth ends), while every
# client pings 192.168.10.1
for z in $SERVERS; do
	"$BIN/vwsnoop" --socket "${HOST_SOCK[$DC]}" -l "${VNIC[$z]}" -w "$TMP/$z.pcap" >/dev/null 2>"$TMP/$z.snoop" &
	BG+=($!)
	SNOOP[$z]=$!
	poll 10 grep -q '^capturing on' "$TMP/$z.snoop" || die "vwsnoop on ${VNIC[$z]} did not start: $(cat "$TMP/$z.snoop")"
done
ip netns exec $EDGE tshark -n -q -i ${P}e0 -i ${P}e1 -w "$TMP/wire.pcapng" >"$TMP/wire.log" 2>&1 &
BG+=($!)
WIRECAP=$!
poll 30 grep -q 'Capture started' "$TMP/wire.log" || die "tshark on ${P}e0, ${P}e1 did not start: $(cat "$TMP/wire.log")"
# edge counters before: each client VNIC, each member of the aggregation
declare -A OPK0=() MEM0=()
for z in $CLIENTS; do OPK0[$z]=$(hs $EDGE -p -o opkts "${VNIC[$z]}"); done
while IFS=: read -r port o i; do MEM0[$port]=$((o + i)); done < <(hs $EDGE show-aggr -p -o port,opkts,ipkts ${P}ag)

NPING=20
for z in $CLIENTS; do
	# the first answer (ARP resolved), then NPING pings, all clients at once
	( poll 10 ip netns exec "$z" ping -n -q -c 1 -W 1 $SRV_ADDR &&
		ip netns exec "$z" ping -n -q -c $NPING -i 0.05 -W 1 $SRV_ADDR ) >"$TMP/$z.ping" 2>&1 &
	PINGS[$z]=$!
done
declare -A RX=() NEIGH=()
for z in $CLIENTS; do
	wait "${PINGS[$z]}"
	RX[$z]=$(grep -o '[0-9]* received' "$TMP/$z.ping" | tail -1 | awk '{ print $1 }')
	RX[$z]=${RX[$z]:-0}
	NEIGH[$z]=$(ip -n "$z" neigh show $SRV_ADDR dev "${VNIC[$z]}" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
done
for z in $SERVERS; do kill -INT "${SNOOP[$z]}" 2>/dev/null; done
kill -INT $WIRECAP 2>/dev/null
for pid in "${SNOOP[@]}" $WIRECAP; do poll 10 dead "$pid"; wait "$pid" 2>/dev/null; done
declare -A OPK1=()
for z in $CLIENTS; do OPK1[$z]=$(hs $EDGE -p -o opkts "${VNIC[$z]}"); done
declare -A MEMD=()
while IFS=: read -r port o i; do MEMD[$port]=$((o + i - ${MEM0[$port]:-0})); done < <(hs $EDGE show-aggr -p -o port,opkts,ipkts ${P}ag)

# every frame: source MAC, destination MAC, VLAN, ICMP type
for z in $SERVERS; do
	tshark -n -r "$TMP/$z.pcap" -T fields -E separator=/t -E occurrence=f -e eth.src -e eth.dst -e icmp.type >"$TMP/$z.frames" 2>/dev/null
done
tshark -n -r "$TMP/wire.pcapng" -T fields -E separator=/t -E occurrence=f -e eth.src -e eth.dst -e vlan.id -e eth.type -e frame.interface_name \
	>"$TMP/wire.frames" 2>/dev/null
macs_of_vlan() { local z; for z in $SERVERS $CLIENTS; do [ "${VID[$z]}" = "$1" ] && echo "${MAC[$z]}"; done; }
declare -A CROSS=()
for z in $CLIENTS; do CROSS[$z]=0; done
for s in $SERVERS; do
	v=${VID[$s]} ov=$(other_vid "${VID[$s]}")
	mine=" $(macs_of_vlan "$v" | tr '\n' ' ')" theirs=" $(macs_of_vlan "$ov" | tr '\n' ' ')"
	f=$TMP/$s.frames
	total=$(wc -l <"$f")
	foreign=$(awk -F'\t' -v mine="$mine" 'index(mine, " " $1 " ") == 0 { n++ } END { print n + 0 }' "$f")
	crossing=$(awk -F'\t' -v theirs="$theirs" 'index(theirs, " " $1 " ") || index(theirs, " " $2 " ") { n++ } END { print n + 0 }' "$f")
	reqs=""
	ok=1
	for z in $CLIENTS; do
		[ "${VID[$z]}" = "$v" ] || {
			c=$(awk -F'\t' -v m="${MAC[$z]}" '$1 == m || $2 == m { n++ } END { print n + 0 }' "$f")
			CROSS[$z]=$((CROSS[$z] + c))
			continue
		}
		r=$(awk -F'\t' -v m="${MAC[$z]}" '$1 == m && $3 == 8 { n++ } END { print n + 0 }' "$f")
		reqs+=" $z $r,"
		[ "$r" -ge $NPING ] || ok=0
	done
	[ "$foreign" = 0 ] && [ "$crossing" = 0 ] || ok=0
	claim "$(verdict [ $ok = 1 ])" "(b) server $s (VLAN $v, ${VNIC[$s]}): $total frames captured, echo requests from${reqs%,}; frames from MACs not of VLAN $v: $foreign, frames to or from VLAN $ov's MACs: $crossing"
done

# the wire (both edge links): every client frame is tagged with its VLAN
declare -A WIRE=()
for v in 10 20; do
	WIRE[$v]=$(awk -F'\t' -v v=$v '$3 == v { n++ } END { print n + 0 }' "$TMP/wire.frames")
done
cl_macs=" $(for z in $CLIENTS; do echo -n "${MAC[$z]} "; done)"
untagged=$(awk -F'\t' '$3 == "" && $4 != "0x8809" { n++ } END { print n + 0 }' "$TMP/wire.frames")
untagged_cl=$(awk -F'\t' -v m="$cl_macs" '$3 == "" && index(m, " " $1 " ") { n++ } END { print n + 0 }' "$TMP/wire.frames")
lacpdus=$(awk -F'\t' '$4 == "0x8809" { n++ } END { print n + 0 }' "$TMP/wire.frames")
for z in $CLIENTS; do
	c=$(awk -F'\t' -v m="${MAC[$z]}" -v v="${VID[$z]}" '($1 == m || $2 == m) && $3 != v { n++ } END { print n + 0 }' "$TMP/wire.frames")
	CROSS[$z]=$((CROSS[$z] + c))
done
# the links each client's unicast frames took, out (from it) and back (to it)
declare -A LINKS=()
for z in $CLIENTS; do
	LINKS[$z]=$(awk -F'\t' -v m="${MAC[$z]}" -v p="$P" '$2 ~ /^.[02468ace]/ && $1 == m { o[substr($5, length(p) + 1)] = 1 } $2 == m { b[substr($5, length(p) + 1)] = 1 }
		END { for (l in o) s = s (s == "" ? "" : "+") l; for (l in b) t = t (t == "" ? "" : "+") l; print (s == "" ? "-" : s) "/" (t == "" ? "-" : t) }' "$TMP/wire.frames")
done
wire_ok() { [ "${WIRE[10]}" -gt 0 ] && [ "${WIRE[20]}" -gt 0 ] && [ "$untagged_cl" = 0 ]; }
claim "$(verdict wire_ok)" "(b) on the wire (tshark on ${P}e0 and ${P}e1): VID 10 ${WIRE[10]} frames, VID 20 ${WIRE[20]}; untagged from the clients $untagged_cl (untagged other than LACP: $untagged; LACPDUs: $lacpdus)"
echo "  host $EDGE: vwstat, frames each client VNIC sent during the pings; aggregation members (in+out):"
for z in $CLIENTS; do printf '    %-10s VLAN %s  %s\n' "${VNIC[$z]}" "${VID[$z]}" "$((OPK1[$z] - OPK0[$z]))"; done
for m in "${!MEMD[@]}"; do printf '    %-10s member  %s\n' "$m" "${MEMD[$m]}"; done | sort
for z in $CLIENTS; do
	s=$(server_of "$z")
	ok() { [ "${RX[$z]}" = $NPING ] && [ "${NEIGH[$z]}" = "${MAC[$s]}" ] && [ "${CROSS[$z]}" = 0 ]; }
	claim "$(verdict ok)" "(b) client $z (VLAN ${VID[$z]}, ${ADDR[$z]}): ${RX[$z]}/$NPING pings answered by $SRV_ADDR at ${NEIGH[$z]:-?} (its server $s is ${MAC[$s]}); frames crossing VLANs ${CROSS[$z]}"
done
echo

# ---------------------------------------------------------------- (c) a link fails
# the member that carried more of the edge's traffic fails: the dc end of
# its veth pair is set down (both ends lose carrier)
k=0
[ "${MEMD[${P}e1]:-0}" -gt "${MEMD[${P}e0]:-0}" ] && k=1
FAILD=${P}d$k FAILE=${P}e$k
SECS=5
echo "  every client pings $SRV_ADDR every 10 ms for $SECS s; 1.5 s in, link $FAILD--$FAILE fails (ip -n $DC link set $FAILD down)"
for z in $CLIENTS; do
	ip netns exec "$z" ping -n -D -i 0.01 -W 1 -w $SECS $SRV_ADDR >"$TMP/$z.fo" 2>&1 &
	PINGS[$z]=$!
done
sleep 1.5
TFAIL=$(date +%s.%N)
ip -n $DC link set $FAILD down
for z in $CLIENTS; do wait "${PINGS[$z]}"; done
down_ok() {
	[ "$(hv "$1" show-aggr -x -p -o port,portstate ${P}ag | tr '\n' ' ')" = "$2:down $3:attached " ] ||
		[ "$(hv "$1" show-aggr -x -p -o port,portstate ${P}ag | tr '\n' ' ')" = "$3:attached $2:down " ]
}
o=$((1 - k))
if poll 5 down_ok $DC $FAILD ${P}d$o && poll 5 down_ok $EDGE $FAILE ${P}e$o; then
	claim PASS "(c) link $FAILD--$FAILE down: out of the aggregation on both hosts, ${P}d$o--${P}e$o still attached"
else
	claim FAIL "(c) link $FAILD--$FAILE down: the aggregations did not show it down with the other attached"
fi
hv $DC show-aggr -x -o port,state,portstate ${P}ag | indent 4
declare -A LOST=() GAP=() AFTER=() FGAP=()
for z in $CLIENTS; do
	LOST[$z]=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$TMP/$z.fo" | awk '{ print $1 - $4 }')
	GAP[$z]=$(awk -F'[][]' '/bytes from/ { t = $2 * 1000; if (last && t - last > max) max = t - last; last = t }
		END { printf "%d", max }' "$TMP/$z.fo")
	# the longest gap between answers from just before the failure to 1 s after it
	FGAP[$z]=$(awk -F'[][]' -v tf="$TFAIL" '/bytes from/ && $2 > tf - 0.1 && $2 < tf + 1 { t = $2 * 1000; if (last && t - last > max) max = t - last; last = t }
		/bytes from/ && $2 <= tf - 0.1 { last = $2 * 1000 } END { printf "%d", max }' "$TMP/$z.fo")
	AFTER[$z]=$(awk -F'[][]' -v tf="$TFAIL" '/bytes from/ && $2 > tf { n++ } END { print n + 0 }' "$TMP/$z.fo")
	tx=$(grep -o '[0-9]* packets transmitted' "$TMP/$z.fo" | awk '{ print $1 }')
	ok() { [ -n "${LOST[$z]}" ] && [ "${AFTER[$z]}" -gt 0 ] && [ "${GAP[$z]}" -lt $GAP_MAX ] &&
		ip netns exec "$z" ping -n -q -c 3 -i 0.05 -W 1 $SRV_ADDR >/dev/null 2>&1; }
	claim "$(verdict ok)" "(c) client $z across the failure: ${tx:-?} pings, ${LOST[$z]:-?} lost, longest gap ${GAP[$z]} ms (< $GAP_MAX; at the failure ${FGAP[$z]} ms), ${AFTER[$z]} answered after the failure; 3 more pings answered"
done
echo "  link $FAILD--$FAILE comes back (ip -n $DC link set $FAILD up)"
ip -n $DC link set $FAILD up
t0=$(now_ms)
if poll 20 both_up; then
	claim PASS "(c) the link rejoined: both links collecting and distributing on both hosts again ($(($(now_ms) - t0)) ms)"
else
	claim FAIL "(c) the link did not rejoin within 20 s"
fi
show_lacp
for z in $CLIENTS; do
	r=$(ip netns exec "$z" ping -n -q -c 3 -i 0.05 -W 1 $SRV_ADDR 2>&1 | grep -o '[0-9]* received' | awk '{ print $1 }')
	REJ[$z]=${r:-0}
done
rej_ok() { local z; for z in $CLIENTS; do [ "${REJ[$z]}" = 3 ] || return 1; done; }
claim "$(verdict rej_ok)" "(c) after the rejoin every client reaches its server: $(for z in $CLIENTS; do echo -n "$z ${REJ[$z]}/3, "; done | sed 's/, $//')"
echo

# ---------------------------------------------------------------- report
echo "Report (LINKS: the links a client's unicast frames took before the failure, out/back; e$k failed."
echo "LONGEST GAP: between two answers of the 10 ms pings, over the whole 5 s and, in brackets, from 0.1 s"
echo "before the failure to 1 s after it)"
printf '  %-10s %-4s %-16s %-29s %-8s %-8s %-5s %s\n' CLIENT VLAN ADDRESS "SERVER REACHED (ARP)" CROSSING LINKS LOST "LONGEST GAP (AT FAILURE)"
for z in $CLIENTS; do
	s=$(server_of "$z")
	who="${NEIGH[$z]:-none}"
	for t in $SERVERS; do [ "${NEIGH[$z]}" = "${MAC[$t]}" ] && who="$t (${MAC[$t]})"; done
	printf '  %-10s %-4s %-16s %-29s %-8s %-8s %-5s %s ms (%s ms)\n' "$z" "${VID[$z]}" "${ADDR[$z]}" "$who" "${CROSS[$z]}" "${LINKS[$z]}" "${LOST[$z]:-?}" "${GAP[$z]:-?}" "${FGAP[$z]:-?}"
done
echo
if [ $NFAIL = 0 ]; then
	echo "PASS: all $NCLAIM claims held"
	exit 0
fi
echo "FAIL: $NFAIL of $NCLAIM claims did not hold"
exit 1
