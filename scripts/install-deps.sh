#!/usr/bin/env bash
# Installs every package vwire needs to build, run its demo and run its tests
# on Debian 12. Does nothing for packages already present. Must run as root.
set -eu
pkgs=(
  gcc make pkg-config            # build
  clang libclang-rt-14-dev       # fuzzers (make fuzz): clang's libFuzzer and sanitizer runtimes
  libbpf-dev                     # the kernel fast path: eBPF programs (clang -target bpf) and their loader
  libmnl-dev                     # netlink (zones, addresses, links)
  libnftables-dev                # VNMs: netfilter rules in their zones
  nftables                       # system tests read the VNMs' tables (nft list)
  libmicrohttpd-dev              # vwired --metrics (Prometheus endpoint)
  libpcap-dev                    # capture filters and pcap files (vwsnoop, mirrors)
  libsqlite3-dev sqlite3         # accounting history
  nfdump                         # IPFIX collector (nfcapd) in system tests
  libcmocka-dev                  # unit tests
  iproute2 iputils-ping iperf3   # demo and system tests
  tshark                         # captures in system tests
  curl                           # metrics scrape in system tests
  chromium fonts-dejavu-core     # the web console's test: headless Chromium loads the page (t_console), a font for its screenshot
  procps psmisc                  # pgrep, fuser in system tests
  bash-completion                # t_completion: loads cli/completion/* by name, as an installed system does
  python3 gawk coreutils         # test helpers (raw control-socket client, userspace VLAN interface)
  openvswitch-switch             # interop peer in system tests (LACP bonds); its service is never started
  qemu-system-x86                # test guests (tests/guest, bench/vm): QEMU with virtio-net, tap and vhost-user netdevs
  linux-image-amd64              # the test guests' kernel (/boot/vmlinuz-*) and its virtio-net modules
  busybox-static                 # the test guests' userland (tests/guest/mkguest.sh builds their initramfs)
  ethtool                        # in the test guests: their NIC's queues and per-queue counters
  cpio xz-utils                  # mkguest.sh: packs the initramfs, decompresses the kernel's .ko.xz modules
  dpkg-dev debhelper             # make deb: the Debian package (dpkg-buildpackage, dh)
  lintian                        # t_install: the package checked for errors
  systemd                        # t_install: systemd-analyze verify of the unit (systemd need not run)
  man-db                         # t_install: man -w finds the installed pages
  systemd-container libcap2-bin   # t_service: systemd-nspawn boots a container with systemd as PID 1; capsh
)
missing=()
for p in "${pkgs[@]}"; do
  case "$p" in \#*) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  # openvswitch-switch would start the system's OVS service: the tests run
  # private instances only, so service starts are forbidden while
  # installing (unless a policy is there already)
  policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1
  fi
  rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ "$ours" = 0 ] || rm -f "$policy"
  [ "$rc" = 0 ] || exit "$rc"
fi
