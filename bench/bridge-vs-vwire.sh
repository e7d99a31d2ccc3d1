#!/usr/bin/env bash
# Zone-to-zone TCP throughput and ping RTT through vwire (two VNICs on an
# etherstub) against the same two namespaces joined by a Linux bridge over
# veth pairs, measured in one run, alternating the two setups.
#   sudo bench/bridge-vs-vwire.sh [RUNS] [SECONDS]
# Prints medians over RUNS iperf3 runs (default 3, SECONDS each, default 5)
# and over 100 pings per setup.  Needs `make all` first; as root.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3} SECS=${2:-5}
SOCK=/tmp/vwbench.sock STATE=/tmp/vwbench.state
export VWIRE_SOCKET=$SOCK
VW=build/vwadm

cleanup() {
	set +e
	for ns in vwbA vwbB vwbzA vwbzB; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null; done
	pkill -f "vwired --socket $SOCK" 2>/dev/null; sleep 0.3
	for ns in vwbA vwbB vwbzA vwbzB; do ip netns del $ns 2>/dev/null; done
	ip link del vwbbr0 2>/dev/null
	rm -rf $SOCK $STATE
}
trap cleanup EXIT
cleanup

# Linux bridge: vwbA -- veth -- vwbbr0 -- veth -- vwbB
ip link add vwbbr0 type bridge && ip link set vwbbr0 up
for x in A B; do
	ip netns add vwb$x
	ip link add vwbv$x type veth peer name eth0 netns vwb$x
	ip link set vwbv$x master vwbbr0 up
	ip -n vwb$x link set lo up
	ip -n vwb$x link set eth0 up
done
ip -n vwbA addr add 10.201.0.1/24 dev eth0
ip -n vwbB addr add 10.201.0.2/24 dev eth0

# vwire: vwbzA -- VNIC -- etherstub -- VNIC -- vwbzB
build/vwired --socket $SOCK --state-dir $STATE ${VWIRED_ARGS:-}
$VW create-zone vwbzA && $VW create-zone vwbzB
$VW create-etherstub -t vwbstub
$VW create-vnic -t -l vwbstub -p zone=vwbzA vwbnA
$VW create-vnic -t -l vwbstub -p zone=vwbzB vwbnB
$VW create-addr -a 10.202.0.1/24 vwbnA
$VW create-addr -a 10.202.0.2/24 vwbnB

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

tcp_gbps() {   # client-ns server-ns server-ip
	ip netns exec "$2" iperf3 -s -1 -D >/dev/null
	sleep 0.3
	ip netns exec "$1" iperf3 -c "$3" -t "$SECS" -J |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}

rtt_us() {   # client-ns server-ip: median of 100 pings, microseconds
	ip netns exec "$1" ping -c 100 -i 0.01 -q -n "$2" >/dev/null # warm-up
	ip netns exec "$1" ping -c 100 -i 0.01 -n "$2" |
		sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | awk '{print $1*1000}' | median
}

ip netns exec vwbA ping -c 1 -W 2 -q 10.201.0.2 >/dev/null
ip netns exec vwbzA ping -c 1 -W 2 -q 10.202.0.2 >/dev/null
br=() vw=()
for i in $(seq "$RUNS"); do
	br+=("$(tcp_gbps vwbA vwbB 10.201.0.2)")
	vw+=("$(tcp_gbps vwbzA vwbzB 10.202.0.2)")
done
br_tcp=$(printf '%s\n' "${br[@]}" | median)
vw_tcp=$(printf '%s\n' "${vw[@]}" | median)
br_rtt=$(rtt_us vwbA 10.201.0.2)
vw_rtt=$(rtt_us vwbzA 10.202.0.2)

echo "machine: $(nproc) cores, $(uname -r); $RUNS runs of ${SECS}s, medians"
printf '%-28s %12s %12s %8s\n' "measure" "linux-bridge" "vwire" "ratio"
printf '%-28s %12s %12s %8s\n' "TCP 1 stream (Gbit/s)" "$br_tcp" "$vw_tcp" "$(awk "BEGIN{printf \"%.2f\", $vw_tcp/$br_tcp}")"
printf '%-28s %12s %12s %8s\n' "ping RTT median (us)" "$br_rtt" "$vw_rtt" "$(awk "BEGIN{printf \"%.2f\", $vw_rtt/$br_rtt}")"
echo "all runs (Gbit/s): bridge ${br[*]}; vwire ${vw[*]}"
