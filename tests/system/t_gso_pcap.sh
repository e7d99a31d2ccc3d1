#!/usr/bin/env bash
# Software segmentation and checksum completion (datapath/gso.c) checked by
# an independent implementation: tshark.  The unit test test_gso writes
# every frame vw_gso_segment() made in its valid cases -- segments of TCP and
# UDP (USO) super-frames, IPv4 and IPv6, untagged, 802.1Q and 802.1ad +
# 802.1Q, with IP and TCP options, and checksum-only frames -- to a pcap file
# (VWT_GSO_PCAP).  With checksum verification on, tshark must find
#   - every IPv4 header checksum and every TCP and UDP checksum good;
#   - no expert warning or error: no malformed frame, and (every case being a
#     stream of its own) no TCP sequence gap, overlap or retransmission.
# And the check itself is checked: one payload byte changed in a copy of the
# file gives exactly one bad checksum.  No namespace, link or daemon.
VWT_OWN=""
. "$(dirname "$0")/lib.sh"

BIN=$VW_BIN/tests/test_gso
PCAP=$VW_TMP/gso.pcap
[ -x "$BIN" ] || fail "$BIN is not built (make all)"
command -v tshark >/dev/null || fail "tshark is not installed (make deps)"

TS_OPTS=(-n -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE
	-o tcp.analyze_sequence_numbers:TRUE)
count() { tshark -r "$1" "${TS_OPTS[@]}" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }

check "test_gso passes and writes its frames to $PCAP" env VWT_GSO_PCAP="$PCAP" "$BIN"

total=$(count "$PCAP" frame)
expect_ge "frames written" "$total" 5000
ip4=$(count "$PCAP" ip)
tcp=$(count "$PCAP" tcp)
udp=$(count "$PCAP" udp)
expect_eq "every frame is TCP or UDP over IPv4 or IPv6" "$total" "$(count "$PCAP" '(ip || ipv6) && (tcp || udp)')"
expect_ge "TCP frames" "$tcp" 2000
expect_ge "UDP frames" "$udp" 2000
expect_ge "IPv6 frames" "$(count "$PCAP" ipv6)" 2000
expect_ge "802.1Q frames" "$(count "$PCAP" 'eth.type == 0x8100 && vlan.id == 100')" 1000
expect_ge "802.1ad + 802.1Q frames" "$(count "$PCAP" 'eth.type == 0x88a8 && ieee8021ad.id == 10 && vlan.id == 100')" 1000
expect_eq "IPv4 header checksums good" "$ip4" "$(count "$PCAP" 'ip.checksum.status == 1')"
expect_eq "TCP checksums good" "$tcp" "$(count "$PCAP" 'tcp.checksum.status == 1')"
expect_eq "UDP checksums good" "$udp" "$(count "$PCAP" 'udp.checksum.status == 1')"
expert=$(tshark -r "$PCAP" "${TS_OPTS[@]}" -q -z expert,warn 2>/dev/null)
expect_eq "no expert warning or error" "" "$(grep -E '^(Errors|Warns) \(' <<<"$expert" || true)"

# The last frame's last byte is payload: change it, and its checksum is bad.
cp "$PCAP" "$VW_TMP/bad.pcap"
python3 - "$VW_TMP/bad.pcap" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(-1, 2)
    b = f.read(1)[0]
    f.seek(-1, 2)
    f.write(bytes([b ^ 0x40]))
EOF
expect_eq "one changed byte: one bad TCP/UDP checksum" 1 \
	"$(count "$VW_TMP/bad.pcap" 'tcp.checksum.status == 0 || udp.checksum.status == 0')"
expert=$(tshark -r "$VW_TMP/bad.pcap" "${TS_OPTS[@]}" -q -z expert,warn 2>/dev/null)
expect_eq "and one expert error for it" "Errors (1)" "$(grep -E '^(Errors|Warns) \(' <<<"$expert" || true)"
