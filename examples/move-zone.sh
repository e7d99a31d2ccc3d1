#!/usr/bin/env bash
# Moves a zone's VNICs, MAC and IP addresses kept, from the vwired of host A
# to the vwired of host B (docs/design.md, "Moving a zone between hosts"):
#
#   examples/move-zone.sh -a SOCKET_A -b SOCKET_B -l LINK_B ZONE VNIC...
#
# VNIC... must be every VNIC of ZONE on A.  The script reads from A each
# VNIC's MAC (and its type), VID, properties (mtu, maxbw, priority,
# protection, allowed-ips: not cpus, which name A's CPUs) and addresses;
# has B adopt the zone (create-zone takes the namespace as it is); then,
# timed, deletes the VNICs on A and creates them on B over LINK_B (a phys
# link, an aggregation or an etherstub of B), same names, MACs, VIDs,
# properties and addresses, in the zone.  B's daemon announces each VNIC as
# it comes up (gratuitous ARP, unsolicited neighbour advertisement), so the
# LAN's bridges and the neighbours learn at once where it now is.  Last,
# A forgets the zone without deleting its namespace (delete-zone -k).
#
# The zone's namespace itself, with its processes and their sockets, does
# not move: on one machine every daemon sees the same /run/netns, so the
# zone is already "on" B once B adopts it.  Between real machines the zone
# is moved by other means first (a VM migration, CRIU), and A's empty
# namespace is deleted after.
#
# Bad arguments are refused before anything changes (exit 2; exit 1 when a
# daemon does not answer or a check on A or B fails).  Should B fail part
# way, what B made is removed and the VNICs are put back on A as they were
# (exit 1).  On success it prints how long the VNICs were gone: from the
# first delete on A to the last address on B.
# VWADM names the vwadm to run (default: this tree's build/vwadm, else
# vwadm in PATH).
set -u
here=$(cd "$(dirname "$0")" && pwd)
VWADM=${VWADM:-}
if [ -z "$VWADM" ]; then
	if [ -x "$here/../build/vwadm" ]; then VWADM=$here/../build/vwadm; else VWADM=vwadm; fi
fi
PROPS="mtu maxbw priority protection allowed-ips"

usage() {
	echo "usage: $0 -a SOCKET_A -b SOCKET_B -l LINK_B ZONE VNIC..." >&2
	exit 2
}
die() { echo "move-zone: $*" >&2; exit 1; }
bad() { echo "move-zone: $*" >&2; exit 2; }
va() { "$VWADM" --socket "$SA" "$@"; }
vb() { "$VWADM" --socket "$SB" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

SA='' SB='' LINK=''
while getopts ":a:b:l:" o; do
	case $o in
	a) SA=$OPTARG ;;
	b) SB=$OPTARG ;;
	l) LINK=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$SA" ] && [ -n "$SB" ] && [ -n "$LINK" ] && [ $# -ge 2 ] || usage
ZONE=$1
shift
VNICS=("$@")

# ---- checks: nothing changes before all of them pass
for s in "$SA" "$SB"; do
	[ -S "$s" ] || bad "'$s' is not a socket"
done
[ "$(readlink -f "$SA")" != "$(readlink -f "$SB")" ] || bad "A and B are the same daemon ($SA)"
va show-zone "$ZONE" >/dev/null || die "zone '$ZONE' is not A's"
declare -A seen=()
for v in "${VNICS[@]}"; do
	[ -z "${seen[$v]:-}" ] || bad "VNIC '$v' named twice"
	seen[$v]=1
	z=$(va show-vnic -p -o zone "$v") || die "'$v' is not a VNIC of A"
	[ "$z" = "$ZONE" ] || die "VNIC '$v' is in zone '${z:-(host)}' on A, not in '$ZONE'"
	! vb show-link "$v" >/dev/null 2>&1 || die "B has a link named '$v' already"
done
for v in $(va show-zone -p -o vnics "$ZONE" | tr , ' '); do
	[ -n "${seen[$v]:-}" ] || die "zone '$ZONE' on A holds VNIC '$v' too: name every VNIC of the zone"
done
vb show-link "$LINK" >/dev/null 2>&1 || vb show-phys "$LINK" >/dev/null 2>&1 ||
	die "B has no link '$LINK' (a phys link, aggregation or etherstub of B)"

# ---- what A has: per VNIC, its create-vnic options (for B, and for A
# again should B fail) and its addresses
declare -A over=() macopt=() vidopt=() propopt=() addrs=()
for v in "${VNICS[@]}"; do
	mac=$(va show-vnic -p -o macaddress "$v") && type=$(va show-vnic -p -o macaddrtype "$v") &&
		vid=$(va show-vnic -p -o vid "$v") && over[$v]=$(va show-vnic -p -o over "$v") &&
		addrs[$v]=$(va show-addr -p -o addr "$v") || die "cannot read VNIC '$v' from A"
	# a random (or auto) address stays one, as export keeps it
	if [ "$type" = fixed ]; then macopt[$v]="-m $mac"; else macopt[$v]="-m $type -r $mac"; fi
	vidopt[$v]=
	[ "$vid" = 0 ] || vidopt[$v]="-v $vid"
	p="zone=$ZONE"
	for prop in $PROPS; do
		val=$(va show-linkprop -c -o value -p "$prop" "$v") &&
			def=$(va show-linkprop -c -o default -p "$prop" "$v") || die "cannot read $prop of '$v' from A"
		[ -z "$val" ] || [ "$val" = -- ] || [ "$val" = "$def" ] || p+=",$prop=$val"
	done
	propopt[$v]=$p
done

# create HOST VNIC LINK: the VNIC and its addresses as A had them
create() {
	local h=$1 v=$2 l=$3 a
	# shellcheck disable=SC2086 # the options are words
	"$h" create-vnic -l "$l" ${macopt[$v]} ${vidopt[$v]} -p "${propopt[$v]}" "$v" || return 1
	for a in ${addrs[$v]}; do
		"$h" create-addr -a "$a" "$v" || return 1
	done
}

# back_to_a: B failed; remove what B made, and put back on A what A lost
made_b=() gone_a=() adopted_b=0
back_to_a() {
	local v ok=1
	for v in "${made_b[@]}"; do vb delete-vnic "$v" >/dev/null 2>&1; done
	for v in "${gone_a[@]}"; do
		create va "$v" "${over[$v]}" || { ok=0; echo "move-zone: could not put '$v' back on A" >&2; }
	done
	[ $adopted_b = 0 ] || vb delete-zone -k "$ZONE" || ok=0
	if [ $ok = 1 ]; then die "$1; the VNICs are back on A"; fi
	die "$1; and putting everything back on A failed"
}

if ! vb show-zone "$ZONE" >/dev/null 2>&1; then
	vb create-zone "$ZONE" || die "B cannot adopt zone '$ZONE'"
	adopted_b=1
fi

# ---- the move, timed
t0=$(now_ms)
for v in "${VNICS[@]}"; do
	va delete-vnic "$v" || back_to_a "A could not delete '$v'"
	gone_a+=("$v")
done
for v in "${VNICS[@]}"; do
	made_b+=("$v")
	create vb "$v" "$LINK" || back_to_a "B could not take '$v'"
done
t1=$(now_ms)

va delete-zone -k "$ZONE" ||
	echo "move-zone: warning: A still lists zone '$ZONE' (its namespace is B's now: do not delete it on A)" >&2
n=0
for v in "${VNICS[@]}"; do n=$((n + $(wc -w <<<"${addrs[$v]}"))); done
echo "move-zone: $ZONE moved from A to B over $LINK: ${#VNICS[@]} VNIC(s), $n address(es), $((t1 - t0)) ms from the first delete on A to the last address on B"
