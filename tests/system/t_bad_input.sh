#!/usr/bin/env bash
# Bad input (SPEC §1 exit codes and error shape, §7): a table of malformed
# commands, each with its exit status and exact first stderr line, each
# followed by a check that nothing changed; a client without a daemon; and
# a daemon that survives garbage, binary junk, oversized requests and
# clients that die mid-request.
VWT_OWN="vwtb"
. "$(dirname "$0")/lib.sh"

PROTO="python3 $VW_ROOT/tests/system/vwproto.py"
NONE_SOCK=/tmp/vwtnone.sock

vw_start
DAEMON=$VW_PID
check "create zone vwtbz" vwadm create-zone vwtbz
check "create etherstub vwtbs" vwadm create-etherstub vwtbs
check "VNIC vwtb1 (fixed MAC 02:00:00:00:00:01, zone vwtbz)" vwadm create-vnic -l vwtbs -m 02:00:00:00:00:01 -p zone=vwtbz vwtb1
check "VNIC vwtb2" vwadm create-vnic -l vwtbs vwtb2
check "address 10.200.9.1/24 on vwtb1" vwadm create-addr -a 10.200.9.1/24 vwtb1
check "a veth vwtbveth0 (a Linux name vwire must not take)" ip link add vwtbveth0 type veth peer name vwtbveth1

# Everything a failed command must leave alone.
snapshot() {
	vwadm export
	vwadm show-link -p -o link,class,over,zone,mtu
	vwadm show-addr -p -o link,addr
	vwadm show-linkprop -c -o link,property,value
	ip -o link show | awk -F': ' '$2 ~ /^vwtb/ { print "host", $2 }'
	ip -n vwtbz -o link show | awk -F': ' '{ print "vwtbz", $2 }'
	ip netns list | awk '$1 ~ /^vwtb/ { print "netns", $1 }'
}
INITIAL=$(snapshot)
EXPORT0=$(vwadm export)

ROWFAILS=()
# bad EXIT 'FIRST STDERR LINE' ARGS...: vwadm ARGS must fail so, print
# nothing on stdout, and change nothing.  A first line starting with '~' is
# a regular expression.  Failures are collected; the test fails at the end.
bad() {
	local want_rc=$1 want=$2 rc=0 first before after desc problems=()
	shift 2
	desc="vwadm $(_vw_show_cmd "$@")"
	[ ${#desc} -le 100 ] || desc="${desc:0:90}...(${#desc} chars)"
	before=$(snapshot)
	"$VW_BIN/vwadm" "$@" >"$VW_TMP/out" 2>"$VW_TMP/err" || rc=$?
	first=$(head -n 1 "$VW_TMP/err")
	after=$(snapshot)
	[ "$rc" = "$want_rc" ] || problems+=("exit $rc, expected $want_rc;")
	if [[ $want == '~'* ]]; then
		[[ $first =~ ${want#\~} ]] || problems+=("stderr '$first' does not match /${want#\~}/;")
	else
		[ "$first" = "$want" ] || problems+=("stderr '$first', expected '$want';")
	fi
	if [ "$want_rc" = 2 ]; then
		sed -n 2p "$VW_TMP/err" | grep -q '^usage: vwadm' || problems+=("no usage line after a usage error;")
	elif [ "$(wc -l <"$VW_TMP/err")" != 1 ]; then
		problems+=("$(wc -l <"$VW_TMP/err") lines on stderr, expected one;")
	fi
	[ ! -s "$VW_TMP/out" ] || problems+=("printed on stdout: '$(head -1 "$VW_TMP/out")';")
	[ "$before" = "$after" ] || problems+=("state changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')")
	VW_NCHECK=$((VW_NCHECK + 1))
	if [ ${#problems[@]} = 0 ]; then
		log "ok   - $desc -> $rc, \"$first\", nothing changed"
	else
		log "FAIL - $desc: ${problems[*]}"
		ROWFAILS+=("$desc: ${problems[*]}")
	fi
}
NAME_RULE="(1-15 of A-Z a-z 0-9 _ . -, starting with a letter)"

log "---- usage errors (exit 2, then a usage line)"
bad 2 "vwadm: unknown subcommand 'frobnicate'" frobnicate
bad 2 "vwadm: missing subcommand"
bad 2 "vwadm: unknown option '--bogus'" --bogus show-link
bad 2 "vwadm: create-vnic: unknown option '-x'" create-vnic -x -l vwtbs vwtb9
bad 2 "vwadm: create-vnic: option '-l' needs a value" create-vnic vwtb9 -l
bad 2 "vwadm: create-vnic: option '-v' given twice" create-vnic -l vwtbs -v 5 -v 6 vwtb9
bad 2 "vwadm: create-etherstub: missing operand" create-etherstub
bad 2 "vwadm: create-vnic: missing operand" create-vnic -l vwtbs
bad 2 "vwadm: delete-vnic: missing operand" delete-vnic
bad 2 "vwadm: delete-vnic: unexpected operand 'vwtb2'" delete-vnic vwtb1 vwtb2
bad 2 "vwadm: -p requires -o" show-vnic -p
bad 2 "vwadm: -p requires -o" show-link -p
bad 2 "vwadm: -c requires -o" show-linkprop -c
# A required option that is missing is a usage error too (SPEC §1: 2).
bad 2 "vwadm: create-vnic: option '-l' is required" create-vnic vwtb9
bad 2 "vwadm: create-addr: option '-a' is required" create-addr vwtb1

log "---- invalid names (SPEC §2: 1-15 of [A-Za-z0-9_.-], starting with a letter)"
# Shape of SPEC §1: "vwadm: <object>: <reason>".
bad 1 "~^vwadm: vwtbaaaaaaaaaaaa: invalid link name" create-etherstub vwtbaaaaaaaaaaaa
bad 1 "~^vwadm: vwtbaaaaaaaaaaaa: invalid link name" create-vnic -l vwtbs vwtbaaaaaaaaaaaa
bad 1 "~^vwadm: vwt b: invalid link name" create-etherstub 'vwt b'
bad 1 "~^vwadm: vwt/b: invalid link name" create-etherstub vwt/b
bad 1 "~^vwadm: vwt\\+: invalid link name" create-vnic -l vwtbs 'vwt+'
bad 1 "~^vwadm: 1vwt: invalid link name" create-etherstub 1vwt
bad 1 "~^vwadm: 1vwt: invalid link name" create-vnic -l vwtbs 1vwt
bad 1 "~^vwadm: _vwt: invalid link name" create-vnic -l vwtbs _vwt
bad 1 "~^vwadm: vwtb/z: invalid zone name" create-zone vwtb/z
bad 1 "vwadm: vwtbveth0: name is taken by a Linux interface" create-etherstub vwtbveth0
bad 1 "vwadm: vwtbveth0: name is taken by a Linux interface" create-vnic -l vwtbs vwtbveth0

log "---- MAC addresses and VLAN IDs"
bad 1 "vwadm: vwtb9: invalid MAC address '02:00:00:00:00'" create-vnic -l vwtbs -m 02:00:00:00:00 vwtb9
bad 1 "vwadm: vwtb9: invalid MAC address 'zz:00:00:00:00:01'" create-vnic -l vwtbs -m zz:00:00:00:00:01 vwtb9
bad 1 "vwadm: vwtb9: invalid MAC address '02:00:00:00:00:01:02'" create-vnic -l vwtbs -m 02:00:00:00:00:01:02 vwtb9
bad 1 "vwadm: vwtb9: MAC address '01:00:5e:00:00:01' is not a unicast address" create-vnic -l vwtbs -m 01:00:5e:00:00:01 vwtb9
bad 1 "vwadm: vwtb9: MAC address 'ff:ff:ff:ff:ff:ff' is not a unicast address" create-vnic -l vwtbs -m ff:ff:ff:ff:ff:ff vwtb9
bad 1 "vwadm: vwtb9: MAC address '00:00:00:00:00:00' is not a unicast address" create-vnic -l vwtbs -m 00:00:00:00:00:00 vwtb9
bad 1 "vwadm: vwtb9: invalid VLAN ID '0' (1-4094)" create-vnic -l vwtbs -v 0 vwtb9
bad 1 "vwadm: vwtb9: invalid VLAN ID '4095' (1-4094)" create-vnic -l vwtbs -v 4095 vwtb9
bad 1 "vwadm: vwtb9: invalid VLAN ID 'abc' (1-4094)" create-vnic -l vwtbs -v abc vwtb9
bad 1 "vwadm: vwtb9: invalid VLAN ID '-1' (1-4094)" create-vnic -l vwtbs -v -1 vwtb9
bad 1 "vwadm: vwtb9: invalid MAC prefix 'zz'" create-vnic -l vwtbs -r zz vwtb9
bad 1 "vwadm: vwtb9: invalid MAC prefix '02:00:00:00:00:00:00'" create-vnic -l vwtbs -r 02:00:00:00:00:00:00 vwtb9
bad 1 "vwadm: vwtb9: MAC prefix '03:00:00' is a multicast prefix" create-vnic -l vwtbs -r 03:00:00 vwtb9
bad 1 "vwadm: vwtb9: -r applies only to -m random or -m auto" create-vnic -l vwtbs -m 02:00:00:00:00:09 -r 02:00:00 vwtb9

log "---- what the VNIC is created over, and duplicates"
bad 1 "vwadm: vwtb9: no such link 'vwtbnosuch'" create-vnic -l vwtbnosuch vwtb9
bad 1 "vwadm: vwtb9: cannot create a VNIC over VNIC 'vwtb1'" create-vnic -l vwtb1 vwtb9
bad 1 "vwadm: vwtb1: link already exists" create-vnic -l vwtbs vwtb1
bad 1 "vwadm: vwtbs: link already exists" create-vnic -l vwtbs vwtbs
bad 1 "vwadm: vwtbs: link already exists" create-etherstub vwtbs
bad 1 "vwadm: vwtb1: link already exists" create-etherstub vwtb1
bad 1 "vwadm: vwtbz: zone already exists" create-zone vwtbz
bad 1 "vwadm: vwtb9: MAC address 02:00:00:00:00:01 is already in use on 'vwtbs'" \
	create-vnic -l vwtbs -m 02:00:00:00:00:01 vwtb9

log "---- properties"
bad 1 "vwadm: vwtb9: unknown property 'foo'" create-vnic -l vwtbs -p foo=1 vwtb9
bad 1 "vwadm: vwtb9: invalid priority 'urgent' (high, medium or low)" create-vnic -l vwtbs -p priority=urgent vwtb9
bad 1 "vwadm: vwtb9: property 'priority' given twice" create-vnic -l vwtbs -p priority=high,priority=low vwtb9
bad 1 "vwadm: vwtb9: invalid maxbw '0' (10K to 100G; a bare number is Mb/s)" create-vnic -l vwtbs -p maxbw=0 vwtb9
bad 1 "vwadm: vwtb9: invalid maxbw '5K' (10K to 100G; a bare number is Mb/s)" create-vnic -l vwtbs -p maxbw=5K vwtb9
bad 1 "vwadm: vwtb9: property 'maxbw' given twice" create-vnic -l vwtbs -p maxbw=1M,maxbw=2M vwtb9
bad 1 "vwadm: vwtb9: invalid mtu '67' (68-9000)" create-vnic -l vwtbs -p mtu=67 vwtb9
bad 1 "vwadm: vwtb9: invalid mtu '9001' (68-9000)" create-vnic -l vwtbs -p mtu=9001 vwtb9
bad 1 "vwadm: vwtb9: invalid mtu 'abc' (68-9000)" create-vnic -l vwtbs -p mtu=abc vwtb9
bad 1 "vwadm: vwtb9: invalid property list 'mtu' (PROP=VAL[,...] expected)" create-vnic -l vwtbs -p mtu vwtb9
bad 1 "vwadm: vwtb9: invalid cpus 'x' (a CPU list such as 0,2-3)" create-vnic -l vwtbs -p cpus=x vwtb9
bad 1 "vwadm: vwtb9: invalid property list 'mtu=1400,0' (PROP=VAL[,...] expected)" create-vnic -l vwtbs -p mtu=1400,0 vwtb9
bad 1 "vwadm: vwtb9: no such zone 'vwtbnosuch'" create-vnic -l vwtbs -p zone=vwtbnosuch vwtb9
bad 1 "vwadm: vwtb1: unknown property 'foo'" set-linkprop -p foo=1 vwtb1
bad 1 "vwadm: vwtb1: invalid priority 'urgent' (high, medium or low)" set-linkprop -p priority=urgent vwtb1
bad 1 "vwadm: vwtb1: invalid priority '' (high, medium or low)" set-linkprop -p priority= vwtb1
bad 1 "vwadm: vwtb1: invalid maxbw '10X' (10K to 100G; a bare number is Mb/s)" set-linkprop -p maxbw=10X vwtb1
bad 1 "vwadm: vwtb1: invalid maxbw '101G' (10K to 100G; a bare number is Mb/s)" set-linkprop -p maxbw=101G vwtb1
bad 1 "vwadm: vwtb1: invalid mtu '1' (68-9000)" set-linkprop -p mtu=1 vwtb1
bad 1 "vwadm: vwtb1: invalid priority 'HIGH' (high, medium or low)" set-linkprop -p mtu=1400,priority=HIGH vwtb1
bad 1 "vwadm: vwtb1: invalid mtu '1' (68-9000)" set-linkprop -p priority=high,mtu=1 vwtb1
bad 1 "vwadm: vwtb1: property 'priority' given twice" set-linkprop -p priority=high,mtu=1400,priority=low vwtb1
bad 1 "vwadm: vwtb1: invalid maxbw 'fast' (10K to 100G; a bare number is Mb/s)" set-linkprop -p mtu=1400,maxbw=fast vwtb1
bad 1 "vwadm: vwtb1: no such zone 'vwtbnosuch'" set-linkprop -p zone=vwtbnosuch vwtb1
bad 1 "vwadm: vwtbnosuch: no such link" set-linkprop -p mtu=1400 vwtbnosuch
bad 1 "vwadm: vwtbs: property 'mtu' applies only to VNICs" set-linkprop -p mtu=1400 vwtbs
bad 1 "vwadm: vwtb1: invalid cpus '1-0' (a CPU list such as 0,2-3)" set-linkprop -p cpus=1-0 vwtb1
bad 1 "vwadm: vwtb1: CPU 1023 is not online (online: $(cat /sys/devices/system/cpu/online))" set-linkprop -p cpus=1023 vwtb1
bad 1 "vwadm: vwtbs: property 'cpus' applies only to VNICs and phys links" set-linkprop -p cpus=0 vwtbs
bad 1 "vwadm: vwtbs: property 'priority' applies only to VNICs" set-linkprop -p priority=high vwtbs
bad 1 "vwadm: vwtbs: property 'maxbw' applies only to VNICs and phys links" set-linkprop -p maxbw=10M vwtbs
bad 1 "vwadm: vwtbveth0: property 'priority' applies only to VNICs (a phys link's egress serves its VNICs by theirs)" \
	set-linkprop -p priority=high vwtbveth0
bad 1 "vwadm: vwtbveth0: property 'mtu' applies only to VNICs" set-linkprop -p mtu=1400 vwtbveth0

log "---- addresses"
bad 1 "vwadm: vwtb1: invalid address '10.200.9.7' (ADDR/PREFIX expected)" create-addr -a 10.200.9.7 vwtb1
bad 1 "vwadm: vwtb1: invalid address '10.0.0.256/24' (ADDR/PREFIX expected)" create-addr -a 10.0.0.256/24 vwtb1
bad 1 "vwadm: vwtb1: invalid address 'junk' (ADDR/PREFIX expected)" create-addr -a junk vwtb1
bad 1 "vwadm: vwtb1: invalid address '10.200.9.7/33' (ADDR/PREFIX expected)" create-addr -a 10.200.9.7/33 vwtb1
bad 1 "vwadm: vwtb1: invalid address 'fd00:200::1/129' (ADDR/PREFIX expected)" create-addr -a fd00:200::1/129 vwtb1
bad 1 "vwadm: vwtb1: address 10.200.9.1/24 already exists" create-addr -a 10.200.9.1/24 vwtb1
# addresses no interface can have: refused, not saved, not shown as ok
bad 1 "vwadm: vwtb1: '0.0.0.0/0' is an unspecified address, not an interface address" create-addr -a 0.0.0.0/0 vwtb1
bad 1 "vwadm: vwtb1: '224.0.0.1/4' is a multicast address, not an interface address" create-addr -a 224.0.0.1/4 vwtb1
bad 1 "vwadm: vwtb1: '255.255.255.255/32' is the broadcast address, not an interface address" create-addr -a 255.255.255.255/32 vwtb1
bad 1 "vwadm: vwtb1: '127.0.0.2/8' is a loopback address, not an interface address" create-addr -a 127.0.0.2/8 vwtb1
bad 1 "vwadm: vwtb1: '::/0' is an unspecified address, not an interface address" create-addr -a ::/0 vwtb1
bad 1 "vwadm: vwtb1: 'ff02::1/16' is a multicast address, not an interface address" create-addr -a ff02::1/16 vwtb1
bad 1 "vwadm: vwtb1: '::1/128' is a loopback address, not an interface address" create-addr -a ::1/128 vwtb1
bad 1 "vwadm: vwtb1: '10.200.9.9/0' is a prefix of length 0, not an interface address" create-addr -a 10.200.9.9/0 vwtb1
bad 1 "vwadm: vwtbnosuch: no such VNIC" create-addr -a 10.200.9.7/24 vwtbnosuch
bad 1 "vwadm: vwtbs: no such VNIC" create-addr -a 10.200.9.7/24 vwtbs

log "---- deletes"
bad 1 "vwadm: vwtbnosuch: no such etherstub" delete-etherstub vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such VNIC" delete-vnic vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such zone" delete-zone vwtbnosuch
bad 1 "vwadm: vwtbs: no such VNIC" delete-vnic vwtbs
bad 1 "vwadm: vwtb1: no such etherstub" delete-etherstub vwtb1
bad 1 "vwadm: vwtbs: etherstub has 2 VNICs; delete them first" delete-etherstub vwtbs
bad 1 "vwadm: vwtbz: zone holds VNIC 'vwtb1' (move it, or use -f)" delete-zone vwtbz

log "---- shows of what does not exist"
bad 1 "vwadm: vwtbnosuch: no such link" show-link vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such VNIC" show-vnic vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such etherstub" show-etherstub vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such zone" show-zone vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such VNIC" show-addr vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such phys link" show-phys vwtbnosuch
bad 1 "vwadm: vwtbnosuch: no such link" show-link vwtb1 vwtbnosuch

log "---- tunnels, and arguments the protocol cannot carry"
bad 1 "vwadm: vwtbtun: local address 192.0.2.1 is not on this host" create-tunnel -T vxlan -a local=192.0.2.1,remote=192.0.2.2 -p vni=5 vwtbtun
bad 1 "vwadm: vwtbtun: VNI '16777216' out of range (0-16777215)" create-tunnel -T vxlan -a local=192.0.2.1 -p vni=16777216 vwtbtun
bad 2 "vwadm: create-tunnel: option '-p' is required" create-tunnel -T vxlan -a local=192.0.2.1,remote=192.0.2.2 vwtbtun
bad 1 "vwadm: vwtbag: no such link 'vwtbnosuch'" create-aggr -l vwtbnosuch vwtbag
bad 1 "vwadm: arguments must not contain line breaks" create-etherstub $'vwtb\nx'
# a vWire file of 4.5 MiB does not fit in one request (4 MiB): say so, not
# something else
head -c $((4608 << 10)) /dev/zero | tr '\0' '#' >"$VW_TMP/big.vw"
bad 1 "vwadm: request too large (more than 4096 KiB)" apply "$VW_TMP/big.vw"
bad 1 "vwadm: $VW_TMP/nosuch.vw: No such file or directory" apply "$VW_TMP/nosuch.vw"
bad 2 "vwadm: apply: missing operand" apply
bad 2 "vwadm: apply: too many operands" apply "$VW_TMP/big.vw" "$VW_TMP/big.vw"
printf 'create-etherstub vwtbap\ncreate-vnic -l vwtbap -v 4095 vwtbapv\n' >"$VW_TMP/vid.vw"
bad 1 "vwadm: $VW_TMP/vid.vw:2: vwtbapv: invalid VID '4095'" apply "$VW_TMP/vid.vw"
bad 1 "vwadm: apply: invalid -D 'X' (VAR=VALUE)" apply -D X "$VW_TMP/vid.vw"

log "---- a client with no daemon"
rm -f "$NONE_SOCK"
NODAEMON="vwadm: no daemon at $NONE_SOCK (No such file or directory); start one with 'vwired' or set VWIRE_SOCKET"
for prog in vwadm vwstat; do
	args=(show-link)
	[ $prog = vwstat ] && args=()
	rc=0
	VWIRE_SOCKET=$NONE_SOCK "$VW_BIN/$prog" "${args[@]}" >"$VW_TMP/out" 2>"$VW_TMP/err" || rc=$?
	expect_eq "$prog with VWIRE_SOCKET=$NONE_SOCK exits 1" 1 $rc
	expect_eq "$prog prints one line naming the socket and how to start a daemon" "${NODAEMON/vwadm:/$prog:}" "$(cat "$VW_TMP/err")"
	expect_eq "$prog prints nothing on stdout" "" "$(cat "$VW_TMP/out")"
done
rc=0
"$VW_BIN/vwadm" --socket "$NONE_SOCK" show-link 2>"$VW_TMP/err" || rc=$?
expect_eq "vwadm --socket $NONE_SOCK: exit 1 and the same line" "1 $NODAEMON" "$rc $(cat "$VW_TMP/err")"
# A socket file nobody listens on (a daemon that died): still one line.
STALE=$VW_TMP/stale.sock
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$STALE"
rc=0
VWIRE_SOCKET=$STALE "$VW_BIN/vwadm" show-link 2>"$VW_TMP/err" || rc=$?
expect_eq "stale socket: exit 1" 1 $rc
expect_eq "stale socket: one line naming it" \
	"vwadm: no daemon at $STALE (Connection refused); start one with 'vwired' or set VWIRE_SOCKET" "$(cat "$VW_TMP/err")"

log "---- the daemon survives what arrives on its socket"
alive() {
	_vw_alive "$DAEMON" && [ "$(vwadm show-etherstub -p -o link,vnics)" = "vwtbs:2" ]
}
proto() {   # proto DESC 'EXPECTED REPLY LINES' MODE [ARGS]
	local desc=$1 want=$2
	shift 2
	expect_eq "$desc" "$want" "$(timeout 20 $PROTO "$VW_SOCK" "$@" 2>&1)"
	check "the daemon (pid $DAEMON) still answers" alive
}
proto "a well-formed raw request gets its records and status 0" "record=etherstub
link=vwtbs
vnics=2
status=0
message=
open" request show-etherstub
proto "'garbage\\n\\n': status 11 (protocol error), connection closed" "status=11
message=malformed request
closed" garbage
proto "a key other than arg: status 11, connection closed" "status=11
message=malformed request
closed" badkey
proto "binary junk with NUL bytes: status 11, connection closed" "status=11
message=malformed request
closed" nul
proto "binary junk without NUL: status 11, connection closed" "status=11
message=malformed request
closed" binary
out=$(timeout 20 $PROTO "$VW_SOCK" oversized 2>&1)
check "an oversized request (4.5 MiB > 4 MiB): status 11, connection closed" \
	bash -c '[ "$(head -1 <<<"$1")" = status=11 ] && [ "$(tail -1 <<<"$1")" = closed ]' _ "$out"
check "the daemon (pid $DAEMON) still answers" alive
proto "a request sent one byte at a time is served" "record=etherstub
link=vwtbs
vnics=2
status=0
message=
open" slow
proto "two requests in one write get two replies" "record=zone
zone=vwtbz
vnics=vwtb1
status=0
message=
record=etherstub
link=vwtbs
vnics=2
status=0
message=
open" pipelined
proto "an unknown subcommand over the protocol: status 2 (usage)" "status=2
message=unknown subcommand 'frobnicate'
open" request frobnicate
proto "an empty request: status 2" "status=2
message=missing subcommand
open" request
proto "a client that never reads its replies" "closed" noread

log "---- a client killed in the middle of a request"
vw_bg $PROTO "$VW_SOCK" half >"$VW_TMP/half.out" 2>&1
HALF=$VW_BG_PID
wait_until 10 "half a request sent (create-etherstub vwtbhalf, no end)" grep -q sent "$VW_TMP/half.out"
check "while it hangs there, other clients are served" alive
vw_bg_stop "$HALF" KILL
check "after kill -9 of that client the daemon still answers" alive
check_fail "the half request did nothing (no etherstub vwtbhalf)" vwadm show-etherstub vwtbhalf

log "---- idle connections"
vw_bg $PROTO "$VW_SOCK" idle 10 >"$VW_TMP/idle.out" 2>&1
IDLE=$VW_BG_PID
wait_until 10 "10 idle connections held" grep -q "held 10" "$VW_TMP/idle.out"
check "other clients are served meanwhile" alive
vw_bg_stop "$IDLE" KILL
vw_bg $PROTO "$VW_SOCK" idle 200 >"$VW_TMP/idle.out" 2>&1
IDLE=$VW_BG_PID
wait_until 10 "200 idle connections opened" grep -q "held 200" "$VW_TMP/idle.out"
vw_bg_stop "$IDLE" KILL
wait_until 10 "once they are gone, the daemon answers again" alive

log "---- after all that"
expect_eq "the daemon is the same process" "$DAEMON" "$VW_PID"
check "it is alive" _vw_alive "$DAEMON"
expect_eq "export is what it was at the start" "$EXPORT0" "$(vwadm export)"
expect_eq "links, addresses, properties and zones are what they were" "$INITIAL" "$(snapshot)"
check "the network part still works: a new VNIC can be created" vwadm create-vnic -l vwtbs vwtb3
check "and deleted" vwadm delete-vnic vwtb3

if [ ${#ROWFAILS[@]} -gt 0 ]; then
	printf '%s\n' "${#ROWFAILS[@]} bad-input rows did not behave:" "${ROWFAILS[@]/#/  - }" >&2
	fail "${#ROWFAILS[@]} of the bad-input rows failed (listed above)"
fi
