#!/usr/bin/env bash
# The multi-tier tenants case (the paper's §5.2; see README.md): one vWire
# file, tenant.vw, applied twice with the same addresses, -D T=<prefix>a and
# -D T=<prefix>b, gives two tenants of web, app and DB zones behind a router
# VNM each, the DB zone also on a storage link.  The script checks:
#   - applying the file again changes nothing, and vwadm apply says so;
#   (a) in each tenant, every tier reaches what it should and nothing else:
#       a matrix of pings, each cell against the expected one;
#   (b) the tenants share nothing: the same addresses answer, but always in
#       one's own tenant (a TCP matrix where each zone's listener says who it
#       is), the other tenant's zones receive no IPv4 packet meanwhile, and
#       the two tenants' VNICs are over different virtual switches;
#   (c) cpus on the app tier's VNIC: show-linkprop shows it, and what the
#       VNIC sends is read by that CPU's datapath worker (the others read
#       no more than the zones' background chatter meanwhile).
#   sudo examples/tenants/run.sh
# Exit status: 0 if every claim held, 1 if not.  It runs its own daemon
# (socket /tmp/PREFIX_tenants.sock, state /tmp/PREFIX_tenants.state); every
# name it makes starts with PREFIX (env VWEX_PREFIX, default vwm, at most 4
# characters), and it removes everything on exit, even on failure or Ctrl-C.
set -u
cd "$(dirname "$0")/../.." || exit 1
EX=examples/tenants
PREFIX=${VWEX_PREFIX:-vwm}
[[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,3}$ ]] || { echo "$0: VWEX_PREFIX must be 1-4 of [a-z0-9], starting with a letter" >&2; exit 2; }
. examples/lib.sh
need_root "zones and network devices"
need_cmds python3 ping
need_build vwired vwadm vwstat
export LC_ALL=C

export VWIRE_SOCKET=/tmp/${PREFIX}_tenants.sock
STATE=/tmp/${PREFIX}_tenants.state TMP=/tmp/${PREFIX}_tenants.tmp
vwadm() { "$BIN/vwadm" "$@"; }
vwstat() { "$BIN/vwstat" "$@"; }
TA=${PREFIX}a TB=${PREFIX}b
TIERS="web app db stor"
ZONES="web app db stor rt"
PORT=7077 # each zone's "who are you" listener

# the addresses, the same in both tenants
declare -A ADDR=([web]=10.1.1.10 [app]=10.1.2.10 [db]=10.1.3.10 [stor]=10.1.9.20)
DB_STOR=10.1.9.10 # the DB zone's address on the storage link
declare -A GW=([web]=10.1.1.1 [app]=10.1.2.1 [db]=10.1.3.1 [stor]=10.1.3.1)
# what each tier should reach (the router column: the router's address on
# the tier's own subnet; the storage server has none, so the DB tier's)
declare -A EXPECT=(
	[web,app]=yes [web,db]=yes [web,stor]=no [web,rt]=yes
	[app,web]=yes [app,db]=yes [app,stor]=no [app,rt]=yes
	[db,web]=yes [db,app]=yes [db,stor]=yes [db,rt]=yes
	[stor,web]=no [stor,app]=no [stor,db]=yes [stor,rt]=no
)

all_zones() { local t z; for t in $TA $TB; do for z in $ZONES; do echo "$t$z"; done; done; }
other_of() { if [ "$1" = $TA ]; then echo $TB; else echo $TA; fi; } # the other tenant

# everything it makes, removed on exit (and an interrupted run's leftovers
# first); die shows the daemon's log
NETNS=$(all_zones) FILES=("$VWIRE_SOCKET" "$STATE")
SCRATCH=$TMP KEEP=${VWEX_KEEP:-}
die_log vwired "$TMP/vwired.log"
cleanup_at_exit

FAILS=0
T_START=$(now_ms)
# at: seconds since the start, for the report
at() { local ms=$(($(now_ms) - T_START)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }
verdict() { # verdict OK|BAD WHAT: one PASS/FAIL line
	if [ "$1" = OK ]; then echo "PASS  $2"; else echo "FAIL  $2"; FAILS=$((FAILS + 1)); fi
}

# ---- the daemon
remove_leftovers
daemon_start tenants "$VWIRE_SOCKET" "$STATE" "$TMP/vwired.log" || die "vwired did not start"
DAEMON=${HOST_PID[tenants]}

# the app tier's CPU: the second CPU we may run on (workers are pinned in
# that order), the first if there is only one
read -r -a CPUS <<<"$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
APPCPU=${CPUS[1]:-${CPUS[0]}}

FILE=$EX/tenant.vw

echo "tenants: $(stamp); ${#CPUS[@]} CPUs"
echo "tenant.vw applied twice, -D T=$TA and -D T=$TB (and -D APPCPU=$APPCPU):"
for t in $TA $TB; do
	echo "  vwadm apply -D T=$t -D APPCPU=$APPCPU $FILE"
	vwadm apply -D T=$t -D APPCPU="$APPCPU" "$FILE" >"$TMP/apply-$t" 2>&1 ||
		die "apply -D T=$t failed: $(cat "$TMP/apply-$t")"
	# (a line per object made, then the summary: the summary)
	echo "    $(tail -1 "$TMP/apply-$t")"
	# the tiers' default routes through the router (a VNM configures its own
	# zone only)
	for z in web app db; do
		ip -n "$t$z" route replace default via "${GW[$z]}" || die "default route in $t$z"
	done
done

# applying the same file again changes nothing, and says so
for t in $TA $TB; do
	before=$(vwadm export)
	echo "  again: vwadm apply -D T=$t -D APPCPU=$APPCPU $FILE"
	out=$(vwadm apply -D T=$t -D APPCPU="$APPCPU" "$FILE" 2>&1)
	rc=$?
	after=$(vwadm export)
	indent 4 <<<"$out"
	same=no
	[ "$before" = "$after" ] && same=yes
	[ $rc = 0 ] && [ $same = yes ] && grep -q ': nothing to change' <<<"$out" && ok=OK || ok=BAD
	verdict $ok "applying the same file again changes nothing for $t (exit $rc; export unchanged: $same)"
done

# wait until both tenants route: web to db, through the router
for t in $TA $TB; do
	poll 15 ip netns exec ${t}web ping -n -q -c 1 -W 1 ${ADDR[db]} ||
		die "$t: ${t}web does not reach ${t}db (${ADDR[db]}) through ${t}rt within 15 s"
done
echo "both tenants up and routing at $(at); their routers (vwadm show-vnm):"
vwadm show-vnm -o vnm,type,links,state ${TA}rt ${TB}rt | indent
n=$(vwadm show-vnm -p -o vnm,type,state ${TA}rt ${TB}rt | grep -cx "${PREFIX}[ab]rt:router:ok")
[ "$n" = 2 ] && ok=OK || ok=BAD
verdict $ok "both routers are router VNMs, state ok"
echo

# ---- (a) and (b): matrices
# dst_addr FROM TO: the address pinged
# (the storage server reaches the DB zone at its storage-link address)
dst_addr() {
	case "$1,$2" in
	*,rt) echo "${GW[$1]}" ;;
	stor,db) echo "$DB_STOR" ;;
	*) echo "${ADDR[$2]}" ;;
	esac
}
# reach ZONE ADDR: yes if one of 3 pings is answered
reach() {
	local i
	for i in 1 2 3; do
		ip netns exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1 && { echo yes; return; }
	done
	echo no
}
# ipv4_in TENANT: the IPv4 packets the tenant's zones have received (the
# sum of Ip InReceives over its zones)
ipv4_in() {
	local z s=0 n
	for z in $ZONES; do
		n=$(ip netns exec "$1$z" awk '$1 == "Ip:" && $4 ~ /^[0-9]+$/ { print $4 }' /proc/net/snmp)
		s=$((s + n))
	done
	echo $s
}
# frames TENANT: frames through the tenant's VNICs as vwstat counts them
frames() { vwstat -p -o link,ipkts,opkts | awk -F: -v t="$1" 'index($1, t) == 1 { s += $2 + $3 } END { print s + 0 }'; }

# the cells of a matrix, "from,to": from each tier to each other tier and
# the router
CELLS=()
for from in $TIERS; do
	for to in $TIERS rt; do
		[ "$from" = "$to" ] || CELLS+=("$from,$to")
	done
done
# matrix T: prints tenant T's matrix, a row per tier (from), a column per
# tier and the router (to), each cell SEEN[from,to], marked (!WANTED[from,to])
# where it is not that; returns the number of such wrong cells.
declare -A SEEN=() WANTED=()
matrix() {
	local t=$1 from to got want bad=0 row
	row=$(printf '  %-10s' "from\\to")
	for to in $TIERS rt; do row+=$(printf ' %-10s' "$t$to"); done
	echo "${row%"${row##*[! ]}"}"
	for from in $TIERS; do
		row=$(printf '  %-10s' "$t$from")
		for to in $TIERS rt; do
			if [ "$from" = "$to" ]; then
				row+=$(printf ' %-10s' -)
				continue
			fi
			got=${SEEN[$from,$to]} want=${WANTED[$from,$to]}
			[ "$got" = "$want" ] || bad=$((bad + 1))
			row+=$(printf ' %-10s' "$got$([ "$got" = "$want" ] || echo "(!$want)")")
		done
		echo "${row%"${row##*[! ]}"}"
	done
	return $bad
}

# ping_matrix T: the ping matrix, printed; returns the number of wrong
# cells.  The cells are measured at once (each a few pings at most), then
# printed.
ping_matrix() {
	local t=$1 c pids=()
	for c in "${CELLS[@]}"; do
		reach "$t${c%,*}" "$(dst_addr "${c%,*}" "${c#*,}")" >"$TMP/cell-$c" &
		pids+=($!)
	done
	wait "${pids[@]}"
	SEEN=() WANTED=()
	for c in "${CELLS[@]}"; do
		SEEN[$c]=$(cat "$TMP/cell-$c")
		WANTED[$c]=${EXPECT[$c]}
	done
	matrix "$t"
}

declare -A ISO_IN=() ISO_FR=() # what the other tenant took in meanwhile
echo "(a) Each tier reaches what it should and nothing else: one ping (up to 3 tries) per cell,"
echo "    to the tier's address (router: its address on the tier's subnet, from storage the DB"
echo "    tier's; DB from storage: its storage-link address)."
echo "    Expected: web, app, db reach each other and the router; only db reaches storage."
echo "    A cell reads yes/no; a wrong one is marked (!expected)."
for t in $TA $TB; do
	other=$(other_of $t)
	i0=$(ipv4_in $other) f0=$(frames $other)
	echo "  tenant $t:"
	ping_matrix $t
	bad=$?
	i1=$(ipv4_in $other) f1=$(frames $other)
	[ $bad = 0 ] && ok=OK || ok=BAD
	verdict $ok "tenant $t: every cell as expected ($bad wrong)"
	ISO_IN[$t]=$((i1 - i0)) ISO_FR[$t]=$((f1 - f0))
done
echo

echo "(b) Tenant isolation: the same addresses in both tenants."
# a listener in every zone that answers with the zone's name and logs the
# peers that connected (one process for all: whoami.py)
# shellcheck disable=SC2046 # one argument per zone
python3 $EX/whoami.py serve $PORT "$TMP" $(all_zones) >"$TMP/whoami.out" 2>&1 &
BG+=($!)
poll 20 grep -qx ready "$TMP/whoami.out" || die "the listeners did not start: $(cat "$TMP/whoami.out")"
echo "  A TCP connection from each zone to each tier's address; the cell is the zone"
echo "  that answered (- none). Expected: the zone of that tier in the caller's own"
echo "  tenant where (a) says yes, none where it says no."
for t in $TA $TB; do
	other=$(other_of $t)
	: >"$TMP/before"
	for z in $ZONES; do wc -l <"$TMP/peers-$other$z" >>"$TMP/before" 2>/dev/null || echo 0 >>"$TMP/before"; done
	pairs=()
	for c in "${CELLS[@]}"; do pairs+=("$t${c%,*}=$(dst_addr "${c%,*}" "${c#*,}")"); done
	mapfile -t answers < <(python3 $EX/whoami.py ask $PORT "${pairs[@]}")
	# each cell: the zone that answered; expected, that tier's zone in t
	# where (a) says yes, none where it says no
	SEEN=() WANTED=()
	for i in "${!CELLS[@]}"; do
		c=${CELLS[$i]}
		SEEN[$c]=${answers[$i]:-"?"}
		WANTED[$c]=-
		[ "${EXPECT[$c]}" = yes ] && WANTED[$c]=$t${c#*,}
	done
	echo "  tenant $t:"
	matrix $t
	bad=$?
	n=0
	for z in $ZONES; do n=$((n + $(cat "$TMP/peers-$other$z" 2>/dev/null | wc -l))); done
	n=$((n - $(awk '{ s += $1 } END { print s + 0 }' "$TMP/before")))
	[ $bad = 0 ] && [ $n = 0 ] && ok=OK || ok=BAD
	verdict $ok "tenant $t's connections all answered in $t ($bad wrong cells); $other's listeners took $n connections"
done
for t in $TA $TB; do
	other=$(other_of $t)
	n=${ISO_IN[$t]} f=${ISO_FR[$t]}
	[ "$n" = 0 ] && ok=OK || ok=BAD
	verdict $ok "while $t's ping matrix ran, $other's zones received $n IPv4 packets"
	if [ "$n" = 0 ] && [ "$f" != 0 ]; then
		echo "      (vwstat counted $f frames through $other's VNICs meanwhile: no IPv4 reached a zone,"
		echo "      these are $other's zones' own chatter, IPv6 router solicitations and the like)"
	fi
done
# the virtual switches
vwadm show-vnic -p -o link,over >"$TMP/over"
echo "  the virtual switches and their VNICs (vwadm show-vnic -o link,over):"
for t in $TA $TB; do
	awk -F: -v t="$t" 'index($1, t) == 1 { v[$2] = v[$2] " " $1 } END { for (s in v) print s ":" v[s] }' "$TMP/over" |
		sort | indent 4
done
sa=$(awk -F: -v t="$TA" 'index($1, t) == 1 { print $2 }' "$TMP/over" | sort -u)
sb=$(awk -F: -v t="$TB" 'index($1, t) == 1 { print $2 }' "$TMP/over" | sort -u)
shared=$(comm -12 <(echo "$sa") <(echo "$sb") | tr '\n' ' ')
nva=$(awk -F: -v t="$TA" 'index($1, t) == 1' "$TMP/over" | wc -l)
nvb=$(awk -F: -v t="$TB" 'index($1, t) == 1' "$TMP/over" | wc -l)
[ "$nva" = 8 ] && [ "$nvb" = 8 ] && [ -z "$shared" ] && ok=OK || ok=BAD
verdict $ok "$nva and $nvb VNICs over $(wc -w <<<"$sa") and $(wc -w <<<"$sb") switches, shared: ${shared:-none}"
echo

# ---- (c) cpus on the app tier's VNIC
echo "(c) cpus=$APPCPU on the app tier's VNIC"
if [ ${#CPUS[@]} -lt 2 ]; then
	echo "  one CPU only: which worker reads the VNIC is not observable here"
else
	# the worker pinned to APPCPU (each worker thread is vw-worker-N)
	W=
	for f in /proc/$DAEMON/task/*/comm; do
		n=$(cat "$f" 2>/dev/null) || continue
		case "$n" in vw-worker-*) ;; *) continue ;; esac
		tid=${f#/proc/$DAEMON/task/}
		tid=${tid%/comm}
		[ "$(taskset -pc "$tid" 2>/dev/null | sed 's/.*: //')" = "$APPCPU" ] && W=${n#vw-worker-}
	done
	[ -n "$W" ] || die "no datapath worker is pinned to CPU $APPCPU"
	# frames read by worker W, and by the others
	wk() { vwstat -w -p -o worker,pkts | awk -F: -v w="$1" '$1 == w { print $2 }'; }
	others() { vwstat -w -p -o worker,pkts | awk -F: -v w="$1" '$1 != w { s += $2 } END { print s + 0 }'; }
	# udp_in ZONE: the UDP datagrams that reached ZONE's UDP layer (taken
	# in, or dropped there: InDatagrams + InErrors)
	udp_in() { ip netns exec "$1" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $2 + $4 }' /proc/net/snmp; }
	# burst T: FLOWS x COUNT UDP datagrams, FLOWS flows, from T's app zone
	# to T's DB zone, one way (nothing answers); sets SENT (frames T's app
	# VNIC sent), WR (read by worker W), OR (read by the others), GOT
	# (datagrams the DB zone took in)
	burst() {
		local t=$1 w0 o0 s0 g0
		w0=$(wk "$W") o0=$(others "$W") s0=$(vwstat -p -o opkts ${t}app0) g0=$(udp_in ${t}db)
		python3 $EX/whoami.py send $PORT ${t}app ${ADDR[db]} $FLOWS $COUNT || die "whoami.py send from ${t}app"
		# until the DB zone has them all (else 5 s: some were lost)
		poll 5 test "$(udp_in ${t}db)" -ge $((g0 + FLOWS * COUNT))
		WR=$(($(wk "$W") - w0)) OR=$(($(others "$W") - o0)) SENT=$(($(vwstat -p -o opkts ${t}app0) - s0))
		GOT=$(($(udp_in ${t}db) - g0))
	}
	FLOWS=100 COUNT=10
	burst $TA
	echo "  $FLOWS UDP flows x $COUNT datagrams from ${TA}app to ${TA}db (through ${TA}rt), one way; $GOT reached ${TA}db:"
	echo "    ${TA}app0 sent $SENT frames; the worker on CPU $APPCPU (vw-worker-$W) read $WR frames, the others $OR"
	[ "$SENT" -ge $((FLOWS * COUNT)) ] && [ "$WR" -ge "$SENT" ] && [ $((OR * 100)) -le "$SENT" ] && ok=OK || ok=BAD
	verdict $ok "what ${TA}app0 sends is read by CPU $APPCPU's worker (the others read $OR: the zones' background chatter, at most 1% of $SENT allowed)"
	# the control: the same without cpus, on the other tenant
	vwadm reset-linkprop -p cpus ${TB}app0 || die "reset-linkprop -p cpus ${TB}app0"
	burst $TB
	echo "  control, ${TB}app0 without cpus: the same from ${TB}app, $GOT reached ${TB}db; ${TB}app0 sent $SENT frames;"
	echo "    the worker on CPU $APPCPU read $WR frames, the others $OR$([ $((WR + OR)) != 0 ] || echo " (the kernel fast path switched them)")"
	echo "  tenant.vw applied again for $TB puts cpus back:"
	out=$(vwadm apply -D T=$TB -D APPCPU="$APPCPU" "$FILE" 2>&1) || die "apply -D T=$TB failed: $out"
	indent 4 <<<"$out"
fi
for t in $TA $TB; do
	v=$(vwadm show-linkprop -c -o value -p cpus ${t}app0)
	echo "  vwadm show-linkprop -p cpus ${t}app0: $v"
	[ "$v" = "$APPCPU" ] && ok=OK || ok=BAD
	verdict $ok "${t}app0 has cpus=$APPCPU"
done
echo

echo "done at $(at)"
if [ $FAILS = 0 ]; then echo "PASS: every claim held"; exit 0; fi
echo "FAIL: $FAILS claim(s) did not hold"
exit 1
