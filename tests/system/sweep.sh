#!/usr/bin/env bash
# Removes whatever a killed system test may have left behind.  Everything a
# test creates is named vwt*, and this touches nothing else:
#   - vwired processes whose control socket is /tmp/vwt* (by --socket or
#     VWIRE_SOCKET), stopped with SIGTERM, then SIGKILL;
#   - processes running inside a namespace named vwt* (iperf3, tshark...);
#   - QEMU test guests (tests/guest/guest.sh) named vwt*: a qemu-system-*
#     process whose name (QEMU's -name ...,process=NAME) starts with vwt;
#   - network namespaces named vwt*;
#   - links named vwt* in the host namespace;
#   - files and directories /tmp/vwt*.
# Run as root; safe to run any time no test is running.
set -u
export LC_ALL=C

# The control socket of a vwired process, as it was started.
vwired_socket() {   # $1: pid
	local pid=$1 sock= prev= a
	while IFS= read -r -d '' a; do
		case "$prev" in --socket | -s) sock=$a ;; esac
		case "$a" in --socket=*) sock=${a#--socket=} ;; esac
		prev=$a
	done <"/proc/$pid/cmdline"
	if [ -z "$sock" ]; then
		sock=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^VWIRE_SOCKET=//p' | head -1)
	fi
	printf '%s' "$sock"
}

alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }

victims=()
for d in /proc/[0-9]*; do
	pid=${d#/proc/}
	[ "$(cat "$d/comm" 2>/dev/null)" = vwired ] || continue
	sock=$(vwired_socket "$pid" 2>/dev/null) || continue
	case "$sock" in
	/tmp/vwt*)
		echo "sweep: stopping vwired pid $pid (socket $sock)"
		kill -TERM "$pid" 2>/dev/null && victims+=("$pid")
		;;
	esac
done
for pid in "${victims[@]}"; do
	for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
	alive "$pid" && { echo "sweep: vwired pid $pid ignored SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
done

for d in /proc/[0-9]*; do
	case "$(cat "$d/comm" 2>/dev/null)" in vwt*) ;; *) continue ;; esac
	case "$(readlink "$d/exe" 2>/dev/null)" in */qemu-system-*) ;; *) continue ;; esac
	echo "sweep: killing QEMU guest pid ${d#/proc/} ($(cat "$d/comm" 2>/dev/null))"
	kill -KILL "${d#/proc/}" 2>/dev/null
done

for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
	case "$ns" in
	vwt*)
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			echo "sweep: killing pid $pid ($(cat /proc/"$pid"/comm 2>/dev/null)) in namespace $ns"
			kill -KILL "$pid" 2>/dev/null
		done
		echo "sweep: deleting namespace $ns"
		ip netns del "$ns" 2>/dev/null
		;;
	esac
done

for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
	case "$l" in
	vwt*)
		echo "sweep: deleting link $l"
		ip link del "$l" 2>/dev/null
		;;
	esac
done

for f in /tmp/vwt*; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	echo "sweep: removing $f"
	rm -rf -- "$f"
done
exit 0
