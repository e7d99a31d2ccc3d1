#!/usr/bin/env bash
# vwadm apply: golden files, round trip, convergence, atomicity, replication.
#
# Each tests/vwfiles/NAME.vw is applied to an empty daemon and its export
# compared with NAME.ok (OpenBSD regress style: .vw in, .ok out); applied
# again it changes nothing and says so; the export applied to another empty
# daemon exports the same text again (round trip).  Then on one daemon: a
# change in place and a replacement, a file that fails part way (nothing
# changed: the export, the state file and the zones as before), errors that
# name FILE:LINE, -n changing nothing, a tenant file applied twice with -D
# giving two tenants that cannot reach each other, --prune, and a restart
# keeping what apply saved.  Each daemon runs in a host namespace of its
# own (lib.sh host_start), so the links the files take stay in there.
VWT_OWN="vwtap"
. "$(dirname "$0")/lib.sh"

GOLD=$VW_ROOT/tests/vwfiles
P=vwtapx # the prefix of every zone and link the files name
n=0
H=

# new_host: a host namespace with a daemon of its own and empty state; the
# zones of the last one are deleted first (zones are machine-wide).
new_host() {
	local z
	if [ -n "$H" ]; then
		host_stop "$H"
	fi
	for z in $(ip netns list | awk '{ print $1 }' | grep "^$P" || true); do
		ip netns pids "$z" | xargs -r kill -KILL
		ip netns del "$z"
	done
	n=$((n + 1))
	H=vwtaph$n
	host_start "$H"
}
A() { hvwadm "$H" "$@"; }

# uplinks.vw: an aggregation's two links, a phys link and a tunnel's
# underlay, all inside the host namespace.
uplink_links() {
	local i
	for i in 1 2 3; do
		check "veth vwtapl$i -- vwtapm$i in $H" ip -n "$H" link add vwtapl$i type veth peer name vwtapm$i
		check "vwtapl$i up" ip -n "$H" link set vwtapl$i up
		check "vwtapm$i up" ip -n "$H" link set vwtapm$i up
	done
	check "underlay address on vwtapm3" ip -n "$H" addr add 10.204.0.1/24 dev vwtapm3
}
UPLINK_VARS=(-D L1=vwtapl1 -D L2=vwtapl2 -D L3=vwtapl3 -D LOCAL=10.204.0.1 -D REMOTE=10.204.0.2)

golden() {   # NAME [-D VAR=VALUE...]
	local name=$1 vw=$GOLD/$1.vw out said
	shift
	new_host
	[ "$name" != uplinks ] || uplink_links
	check "apply $name.vw to an empty daemon" A apply -D P=$P -D TMP="$VW_TMP" "$@" "$vw"
	out=$VW_TMP/$name.export
	A export >"$out"
	# VWT_GOLD_WRITE=1: write NAME.ok from this run (then read it: it is the test)
	[ -z "${VWT_GOLD_WRITE:-}" ] || sed "s|$VW_TMP|@TMP@|g" "$out" >"$GOLD/$name.ok"
	expect_eq "$name.vw: the export is $name.ok" "$(sed "s|@TMP@|$VW_TMP|g" "$GOLD/$name.ok")" "$(cat "$out")"
	said=$(A apply -D P=$P -D TMP="$VW_TMP" "$@" "$vw")
	expect_eq "$name.vw applied again: nothing to change" "$vw: nothing to change" "${said%% (*}"
	expect_eq "$name.vw applied again: the export is the same" "$(cat "$out")" "$(A export)"
	# round trip: the export, applied to another empty daemon
	new_host
	[ "$name" != uplinks ] || uplink_links
	check "apply $name's export to an empty daemon" A apply "$out"
	expect_eq "$name: export, apply, export gives the same text" "$(cat "$out")" "$(A export)"
	said=$(A apply -n "$out")
	expect_eq "$name: its export applied with -n: nothing to change" "$out: nothing to change" "${said%% (*}"
}

golden basic
golden quoting
golden uplinks "${UPLINK_VARS[@]}"
golden vnm

# ---- on one daemon: convergence, atomicity, errors ----
new_host
check "apply basic.vw" A apply -D P=$P "$GOLD/basic.vw"
sed -e 's/maxbw=100,priority=high/maxbw=200,priority=high/' -e 's/-v 7/-v 8/' -e 's/maxbw=5000K/maxbw=6M/' \
	"$GOLD/basic.vw" >"$VW_TMP/changed.vw"
plan=$(A apply -n -D P=$P "$VW_TMP/changed.vw")
before=$(A export)
expect_eq "-n changes nothing" "$before" "$(A export)"
expect_eq "the plan: maxbw changes in place, a new VID replaces the VNIC (and its address)" \
	"replace addr 10.201.0.2/24 ${P}b (vnic ${P}b is replaced)
replace vnic ${P}b: -l ${P}s0 -v 8 -m fixed/02:08:20:00:00:02 (was -l ${P}s0 -v 7 -m fixed/02:08:20:00:00:02)
change vnic ${P}a: maxbw 100M -> 200M
change flow ${P}udp: maxbw 5M -> 6M
$VW_TMP/changed.vw: 0 to create, 2 to change, 2 to replace, 0 to delete; 7 as the file says" "$plan"
ifindex=$(ip -n ${P}z1 -o link show ${P}a | cut -d: -f1)
check "apply the change" A apply -D P=$P "$VW_TMP/changed.vw"
expect_eq "maxbw changed" "200M" "$(A show-linkprop -c -o value -p maxbw ${P}a)"
expect_eq "changed in place: ${P}a is the same device (no flap)" "$ifindex" \
	"$(ip -n ${P}z1 -o link show ${P}a | cut -d: -f1)"
expect_eq "${P}b is in VLAN 8, with its address" "8 10.201.0.2/24" \
	"$(A show-vnic -p -o vid ${P}b) $(ip -n ${P}z2 -o -4 addr show ${P}b | awk '{ print $4 }')"
expect_eq "and its properties" "1400 mac-nospoof,ip-nospoof" \
	"$(A show-linkprop -c -o value -p mtu ${P}b) $(A show-linkprop -c -o value -p protection ${P}b)"

# atomic: the 8th line fails after six objects were made
cat >"$VW_TMP/bad.vw" <<EOF
create-zone ${P}z3
create-etherstub ${P}s9
create-vnic -l ${P}s9 -p zone=${P}z3 ${P}d
create-addr -a 10.205.0.1/24 ${P}d
set-linkprop -p maxbw=300 ${P}a
add-flow -l ${P}d -a transport=tcp -p maxbw=1M ${P}f1
create-etherstub ${P}s8
add-flow -l ${P}d -a transport=tcp,local_port=22 ${P}f2
EOF
before=$(A export)
sum=$(md5sum <"$(_host_state "$H")/vwire.conf")
err=$(A apply "$VW_TMP/bad.vw" 2>&1) && fail "a failing file applied" || true
expect_eq "the error names FILE:LINE and the flow in the way" \
	"vwadm: $VW_TMP/bad.vw:8: ${P}f2: overlaps flow '${P}f1' (transport=tcp) on '${P}d'; nothing changed" "$err"
expect_eq "nothing changed: the export" "$before" "$(A export)"
expect_eq "nothing changed: the state file" "$sum" "$(md5sum <"$(_host_state "$H")/vwire.conf")"
expect_eq "nothing changed: no zone ${P}z3" "" "$(ip netns list | grep "^${P}z3" || true)"
expect_eq "nothing changed: maxbw of ${P}a" "200M" "$(A show-linkprop -c -o value -p maxbw ${P}a)"

# errors with FILE:LINE, nothing changed
printf 'create-zone ${P}z4\ncreate-etherstub ${NOPE}\n' >"$VW_TMP/e1.vw"
printf 'create-zone %sz4\n\nshow-link\n' $P >"$VW_TMP/e2.vw"
printf 'create-zone %sz4\ncreate-etherstub %ss4 \\\n' $P $P >"$VW_TMP/e3.vw"
printf 'create-zone %sz4\nfrobnicate %ss4\n' $P $P >"$VW_TMP/e4.vw"
expect_eq "an undefined variable" "vwadm: $VW_TMP/e1.vw:2: undefined variable 'NOPE'" \
	"$(A apply -D P=$P "$VW_TMP/e1.vw" 2>&1 || true)"
expect_eq "a command that is not a description" \
	"vwadm: $VW_TMP/e2.vw:3: 'show-link' has no place in a vWire file: it describes objects (create-*, add-flow, add-aggr, modify-aggr, set-*prop, start-accounting; --prune deletes what it does not name)" \
	"$(A apply "$VW_TMP/e2.vw" 2>&1 || true)"
expect_eq "a continuation at the end of the file" \
	"vwadm: $VW_TMP/e3.vw:2: '\\' at the end of the file continues a line that is not there" \
	"$(A apply "$VW_TMP/e3.vw" 2>&1 || true)"
expect_eq "an unknown command" "vwadm: $VW_TMP/e4.vw:2: unknown subcommand 'frobnicate'" \
	"$(A apply "$VW_TMP/e4.vw" 2>&1 || true)"
check_fail "apply exits non-zero on an error" A apply "$VW_TMP/e4.vw"
expect_eq "after the errors, nothing changed" "$before" "$(A export)"

# a VNM's properties change in place (set-vnmprop: one nftables transaction)
check "apply vnm.vw" A apply -D P=$P "$GOLD/vnm.vw"
sed -e 's/backends=10.206.2.10:8080+10.206.2.11:8080,algo=hash,check=none/backends=10.206.2.11:8080/' \
	"$GOLD/vnm.vw" >"$VW_TMP/vnm2.vw"
expect_eq "the plan changes the lb in place" \
	"change vnm ${P}l: backends 10.206.2.10:8080+10.206.2.11:8080 -> 10.206.2.11:8080, algo hash -> (default), check none -> (default)
$VW_TMP/vnm2.vw: 0 to create, 1 to change, 0 to replace, 0 to delete; 26 as the file says" \
	"$(A apply -n -D P=$P "$VW_TMP/vnm2.vw")"
check "apply it" A apply -D P=$P "$VW_TMP/vnm2.vw"
expect_eq "the lb has the new backends" \
	"create-vnm -T lb -l ${P}l1,${P}l2 -p vip=10.206.1.3:80,backends=10.206.2.11:8080 ${P}l" \
	"$(A export | grep "^create-vnm -T lb")"
table=$(ip netns exec ${P}l nft list table inet vwire_vnm)
check "its table DNATs to the new backend" grep -q '10\.206\.2\.11' <<<"$table"
check_fail "and not to the old one" grep -q '10\.206\.2\.10' <<<"$table"

# ---- replication: one file, two tenants ----
new_host
check "tenant a" A apply -D T=vwtapxa -D N=1 "$GOLD/tenant.vw"
check "tenant b" A apply -D T=vwtapxb -D N=2 "$GOLD/tenant.vw"
wait_ping 10 vwtapxaweb 10.203.1.2
wait_ping 10 vwtapxbweb 10.203.2.2
check_fail "tenant a's web cannot reach tenant b's db (same /16)" \
	ip netns exec vwtapxaweb ping -n -q -c 3 -i 0.2 -W 1 10.203.2.2
check_fail "tenant b's web cannot reach tenant a's db" \
	ip netns exec vwtapxbweb ping -n -q -c 3 -i 0.2 -W 1 10.203.1.2
expect_eq "the tenants' VNICs are on two virtual switches" \
	"vwtapxadb0:vwtapxanet vwtapxaweb0:vwtapxanet vwtapxbdb0:vwtapxbnet vwtapxbweb0:vwtapxbnet" \
	"$(A show-vnic -p -o link,over | sort | tr '\n' ' ' | sed 's/ $//')"
# --prune: tenant a's file, pruning, leaves tenant a alone
plan=$(A apply -n --prune -D T=vwtapxa -D N=1 "$GOLD/tenant.vw")
expect_eq "--prune -n: the plan deletes tenant b" \
	"delete addr 10.203.2.2/16 vwtapxbdb0
delete addr 10.203.2.1/16 vwtapxbweb0
delete vnic vwtapxbdb0
delete vnic vwtapxbweb0
delete etherstub vwtapxbnet
delete zone vwtapxbdb
delete zone vwtapxbweb
$GOLD/tenant.vw: 0 to create, 0 to change, 0 to replace, 7 to delete; 7 as the file says" "$plan"
check "--prune" A apply --prune -D T=vwtapxa -D N=1 "$GOLD/tenant.vw"
expect_eq "only tenant a is left" "vwtapxadb0 vwtapxaweb0" "$(A show-vnic -p -o link | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "tenant b's zones are gone" "" "$(ip netns list | grep '^vwtapxb' || true)"
wait_ping 10 vwtapxaweb 10.203.1.2
saved=$(A export)
host_stop "$H"
host_start "$H"
expect_eq "after a restart, what apply saved is there" "$saved" "$(A export)"
wait_ping 10 vwtapxaweb 10.203.1.2
host_stop "$H"
H=

