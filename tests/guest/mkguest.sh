#!/usr/bin/env bash
# tests/guest/mkguest.sh [OUTDIR]: the test guest (issue 16), built from the
# Debian archive only: OUTDIR (default build/guest/ of this tree) gets
#   vmlinuz      the Debian kernel (linux-image-amd64) from /boot
#   initrd.img   a gzip'd cpio: busybox-static, the host's iperf3 and
#                ethtool (a guest's queues and their counters) with their
#                shared libraries and the dynamic loader, the kernel's
#                virtio-net modules, and tests/guest/init as /init
#   kver         the kernel version used
# Rebuilt only when an input changed (the kernel, its modules, busybox,
# iperf3, ethtool and their libraries, init, this script): their sizes and times are
# kept in OUTDIR/inputs, and a build whose list matches does nothing.
# GUEST_KVER=VERSION picks a kernel (default: the newest in /boot with
# modules in /lib/modules).  Needs no root.  Prints what it did.
set -eu -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build/guest}
INIT=$ROOT/tests/guest/init
# The modules virtio-net needs, in load order (some kernels build some in:
# those absent from the kernel's module tree are skipped)
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"

die() { echo "mkguest: $*" >&2; exit 1; }

kver=${GUEST_KVER:-}
if [ -z "$kver" ]; then
	for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V); do
		[ -d "/lib/modules/$k" ] && kver=$k
	done
fi
[ -n "$kver" ] && [ -r "/boot/vmlinuz-$kver" ] ||
	die "no kernel in /boot with modules (install linux-image-amd64: scripts/install-deps.sh)"
BB=/bin/busybox
"$BB" --list >/dev/null 2>&1 || die "no $BB (install busybox-static)"
ldd "$BB" >/dev/null 2>&1 && die "$BB is dynamically linked: install busybox-static"
IPERF=$(command -v iperf3) || die "no iperf3 (install iperf3)"
ETHTOOL=$(PATH=$PATH:/usr/sbin:/sbin command -v ethtool) || die "no ethtool (install ethtool)"
command -v cpio >/dev/null || die "no cpio (install cpio)"

# The shared libraries of iperf3 and ethtool and the loader, as ldd
# resolves them
libs() { ldd "$IPERF" "$ETHTOOL" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u; }

# The module files, in order (a .ko, or .ko.xz/.ko.zst/.ko.gz)
modfiles() {
	local m f
	for m in $MODS; do
		f=$(modinfo -k "$kver" -n "$m" 2>/dev/null) || continue
		case "$f" in /*) echo "$f" ;; esac   # "(builtin)" otherwise
	done
}

inputs() {
	echo "kernel $kver"
	# shellcheck disable=SC2046
	stat -L -c '%n %s %Y' "/boot/vmlinuz-$kver" "$BB" "$IPERF" "$ETHTOOL" $(libs) $(modfiles) "$INIT" "$ROOT/tests/guest/mkguest.sh"
}

mkdir -p "$OUT"
now=$(inputs)
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ] && [ "$(cat "$OUT/inputs" 2>/dev/null)" = "$now" ]; then
	echo "mkguest: $OUT is up to date (kernel $kver)"
	exit 0
fi

t0=$(date +%s%N)
stage=$(mktemp -d "${TMPDIR:-/tmp}/mkguest.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules}
cp "$BB" "$stage/bin/busybox"
for a in $("$BB" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$stage/bin/$a"
done
cp -L "$IPERF" "$stage/bin/iperf3"
cp -L "$ETHTOOL" "$stage/bin/ethtool"
for l in $(libs); do
	mkdir -p "$stage$(dirname "$l")"
	cp -L "$l" "$stage$l"
done
loaded=
for f in $(modfiles); do
	m=$(basename "$f")
	case "$m" in
	*.ko.xz) xz -dc "$f" >"$stage/lib/modules/${m%.xz}" ;;
	*.ko.zst) zstd -qdc "$f" >"$stage/lib/modules/${m%.zst}" ;;
	*.ko.gz) gzip -dc "$f" >"$stage/lib/modules/${m%.gz}" ;;
	*) cp "$f" "$stage/lib/modules/$m" ;;
	esac
	loaded+=" ${m%%.ko*}"
done
# /init loads them in this order
printf '%s\n' $loaded >"$stage/lib/modules/order"
cp "$INIT" "$stage/init"
chmod 755 "$stage/init"
echo "vwguest" >"$stage/etc/hostname"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$stage/etc/passwd"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) >"$OUT/initrd.img.new"
mv "$OUT/initrd.img.new" "$OUT/initrd.img"
cp "/boot/vmlinuz-$kver" "$OUT/vmlinuz"
echo "$kver" >"$OUT/kver"
echo "$now" >"$OUT/inputs"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "mkguest: built $OUT (kernel $kver; modules:${loaded:- none, built in}):" \
	"vmlinuz $(stat -c %s "$OUT/vmlinuz") bytes, initrd.img $(stat -c %s "$OUT/initrd.img") bytes, in ${ms} ms"
