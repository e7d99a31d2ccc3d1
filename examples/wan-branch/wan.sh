# The branch-office WAN case, as functions: sourced by run.sh (the example)
# and by tests/system/t_wan.sh (its CI version), so both build the same
# network, send the same traffic and judge it with the same report.py.
#
#   wan_names PREFIX NET    names (PREFIX*) and addresses (NET.1, NET.2)
#   wan_build               two zones on an etherstub; the branch VNIC has
#                           maxbw=5.2M (the WAN link); waits for a ping
#   wan_policy              the two flows on the branch VNIC (see README.md)
#   wan_no_policy           removes them
#   wan_run SECS DIR        the traffic, SECS seconds; iperf3 JSON into DIR
#   wan_report DIR TITLE [--goals]   the per-phase tables (report.py)
#
# The caller defines vwadm and vwstat (functions or commands that reach its
# own daemon) and cleans up: every process this starts runs in one of the
# two zones, so killing the zones' processes and deleting the zones (and
# the daemon's links) removes everything.

WAN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WAN_RATE=5.2M           # the WAN link: maxbw of the branch VNIC
WAN_TCP=6               # TCP streams, the whole run
WAN_UDP=3               # UDP streams, from the first third on
WAN_UDP_RATE=1M         # each
WAN_UDP_LEN=1400        # UDP payload per datagram
WAN_TCP_PORT=5201 WAN_UDP_PORT=5202

wan_names() {   # PREFIX NET
	WAN_ZB=${1}br WAN_ZH=${1}hq        # zones: the branch, the head office
	WAN_STUB=${1}wan                   # the etherstub between them
	WAN_VB=${1}br0 WAN_VH=${1}hq0      # their VNICs
	WAN_FUDP=${1}udp WAN_FTCP=${1}tcp  # the policy's flows
	WAN_AB=$2.1 WAN_AH=$2.2
}

wan_build() {
	vwadm create-zone $WAN_ZB &&
	vwadm create-zone $WAN_ZH &&
	vwadm create-etherstub -t $WAN_STUB &&
	vwadm create-vnic -t -l $WAN_STUB -p zone=$WAN_ZB,maxbw=$WAN_RATE $WAN_VB &&
	vwadm create-vnic -t -l $WAN_STUB -p zone=$WAN_ZH $WAN_VH &&
	vwadm create-addr -a $WAN_AB/24 $WAN_VB &&
	vwadm create-addr -a $WAN_AH/24 $WAN_VH || return 1
	local i
	for i in $(seq 50); do
		ip netns exec $WAN_ZB ping -n -q -c 1 -W 1 $WAN_AH >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "wan_build: no ping from $WAN_ZB to $WAN_AH" >&2
	return 1
}

# UDP capped at 1M on the WAN, shared equally by its streams; TCP streams
# equal among themselves.  Both are flows of the branch VNIC, so they act on
# what the branch sends (its egress, the WAN's upstream).
wan_policy() {
	vwadm add-flow -t -l $WAN_VB -a transport=udp -p maxbw=1M,fairness=conn $WAN_FUDP &&
	vwadm add-flow -t -l $WAN_VB -a transport=tcp -p fairness=conn $WAN_FTCP
}

wan_no_policy() {
	local f
	for f in $WAN_FUDP $WAN_FTCP; do
		if vwadm show-flow -p -o flow $f >/dev/null 2>&1; then
			vwadm remove-flow $f || return 1
		fi
	done
}

# _wan_listen PORT: wait until an iperf3 server listens on PORT in the
# head office's zone.
_wan_listen() {
	local i
	for i in $(seq 100); do
		[ -n "$(ip netns exec $WAN_ZH ss -Hlnt "sport = :$1")" ] && return 0
		sleep 0.05
	done
	echo "wan_run: no iperf3 server listening on port $1 in $WAN_ZH" >&2
	return 1
}

_wan_now() { date +%s.%N; }

# _wan_arrived PROTO N [SECS]: wait (SECS, default 10, at most) until the
# head office's stack has received N more PROTO datagrams or segments than
# when called, and print the time; fails if they did not come.  A client's data starts some time
# after it is launched: its control connection crosses the congested WAN (a
# lost SYN costs a second), so the UDP streams' start is taken from when
# their data arrives.
_wan_arrived() {
	ip netns exec $WAN_ZH bash -c '
		count() { awk -v p="$1" '\''$1 == p":" && $2 ~ /^[0-9]+$/ { print $col; exit }
			$1 == p":" { for (i = 2; i <= NF; i++) if ($i == f) col = i }'\'' f="$2" /proc/net/snmp; }
		f=InDatagrams; [ "$1" = Tcp ] && f=InSegs
		base=$(count "$1" $f)
		for _ in $(seq $(($3 * 100))); do
			if [ $(( $(count "$1" $f) - base )) -ge "$2" ]; then
				date +%s.%N
				exit 0
			fi
			sleep 0.01
		done
		exit 1' _ "$1" "$2" "${3:-10}"
}

# _wan_udp SECS DIR: the UDP streams, SECS seconds; returns once their data
# arrives.  iperf3 opens each UDP stream with one datagram each way and
# waits 30 s for the answer; without a policy that datagram (and the
# control connection) crosses the congested WAN and is often dropped.  So
# a start that brings no data within 5 s is abandoned and made again (5
# times at most, each time shorter; the phases follow the real start).
_wan_udp() {
	local secs=$1 dir=$2 try start=$(_wan_now)
	for try in 1 2 3 4 5; do
		ip netns exec $WAN_ZH iperf3 -s -1 -J -p $WAN_UDP_PORT >/dev/null 2>&1 &
		WAN_UDP_SRV=$!
		_wan_listen $WAN_UDP_PORT || return 1
		ip netns exec $WAN_ZB iperf3 -c $WAN_AH -p $WAN_UDP_PORT -u -P $WAN_UDP -b $WAN_UDP_RATE \
			-l $WAN_UDP_LEN -t "$secs" -i 1 -J --get-server-output >"$dir/udp.json" 2>"$dir/udp.err" &
		WAN_UDP_PID=$!
		WAN_UDP_T=$(_wan_arrived Udp $((WAN_UDP + 10)) 5) && return 0
		echo "wan_run: the UDP streams did not start (try $try); again" >&2
		kill $WAN_UDP_PID $WAN_UDP_SRV 2>/dev/null
		wait $WAN_UDP_PID $WAN_UDP_SRV 2>/dev/null
		secs=$((secs - $(awk -v a="$start" -v b="$(_wan_now)" 'BEGIN { printf "%d", b - a + 0.999 }')))
		start=$(_wan_now)
	done
	return 1
}

# wan_run SECS DIR: from the branch to the head office, WAN_TCP TCP streams
# for SECS seconds and, from SECS/3 on, WAN_UDP UDP streams of WAN_UDP_RATE
# each (separate sockets, so separate 5-tuples).  Both servers are started
# with -J and the clients ask for their output, so DIR/tcp.json and
# DIR/udp.json hold what the head office received, interval by interval.
# DIR/run.env records the timing; DIR/flows.txt and DIR/link.txt the
# branch VNIC's per-flow and link counters after the run.
wan_run() {
	local secs=$1 dir=$2 t0 t1 udp_secs tcp_pid rc=0
	mkdir -p "$dir" && rm -f "$dir"/*.json "$dir"/*.err "$dir"/run.env "$dir"/*.txt
	udp_secs=$((secs - secs / 3))
	ip netns exec $WAN_ZH iperf3 -s -1 -J -p $WAN_TCP_PORT >/dev/null 2>&1 &
	_wan_listen $WAN_TCP_PORT || return 1
	ip netns exec $WAN_ZB iperf3 -c $WAN_AH -p $WAN_TCP_PORT -P $WAN_TCP -t "$secs" -i 1 \
		-J --get-server-output >"$dir/tcp.json" 2>"$dir/tcp.err" &
	tcp_pid=$!
	t0=$(_wan_arrived Tcp 100) || { echo "wan_run: no TCP data reached $WAN_ZH" >&2; wait $tcp_pid; return 1; }
	sleep $((secs / 3))
	if _wan_udp $udp_secs "$dir"; then
		t1=$WAN_UDP_T
		wait $WAN_UDP_PID || rc=1
	else
		t1=$t0 rc=1
	fi
	wait $tcp_pid || rc=1
	cat >"$dir/run.env" <<-EOF
		{"secs": $secs, "join": $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'),
		 "rate": "$WAN_RATE", "tcp": $WAN_TCP, "udp": $WAN_UDP, "udp_rate": "$WAN_UDP_RATE",
		 "udp_len": $WAN_UDP_LEN}
	EOF
	vwstat show-flow -l $WAN_VB >"$dir/flows.txt" 2>&1 || true
	vwstat -o link,opkts,obytes,drop_shape,drop_codel,drop_qfull $WAN_VB >"$dir/link.txt" 2>&1 || true
	if [ $rc != 0 ]; then
		echo "wan_run: iperf3 failed: $(cat "$dir"/*.err) $(grep -h '"error"' "$dir"/*.json)" >&2
	fi
	return $rc
}

# wan_report DIR TITLE [--goals]: the tables; with --goals also one line
# per goal, "PASS|FAIL<TAB>what" (report.py's exit status: 1 if one failed).
wan_report() {
	python3 "$WAN_DIR/report.py" "$@"
}
