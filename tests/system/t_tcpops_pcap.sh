#!/usr/bin/env bash
# The MSS clamp and the connection-refusing RST (datapath/tcpops.c) checked
# by an independent implementation: tshark.  The unit test test_tcpops
# writes the SYNs it builds, the RST vw_tcp_build_rst() made for each
# (IPv4 and IPv6, untagged, 802.1Q, 802.1ad + 802.1Q, with IP options or an
# IPv6 hop-by-hop header, with and without payload and FIN, sequence numbers
# that wrap) and the SYNs vw_tcp_clamp_mss() rewrote (the MSS option at
# every offset, with the checksum updated, or completed after a NEEDS_CSUM
# frame was clamped) to a pcap file (VWT_TCPOPS_PCAP).  tshark must find:
#   - every IPv4 header checksum and every TCP checksum good;
#   - every RST answering the SYN before it as a closed port does: ports
#     swapped, RST|ACK, seq 0, ack = SYN's seq + 1 (+ 1 for FIN) + payload
#     length, window 0, no payload; TTL 64, DF, ID 0 / hop limit 64;
#   - the clamped MSS values where they were written.
# And the check is checked: one byte changed gives one bad checksum.  No
# namespace, link or daemon.
VWT_OWN=""
. "$(dirname "$0")/lib.sh"

BIN=$VW_BIN/tests/test_tcpops
PCAP=$VW_TMP/tcpops.pcap
[ -x "$BIN" ] || fail "$BIN is not built (make all)"
command -v tshark >/dev/null || fail "tshark is not installed (make deps)"

TS_OPTS=(-n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE)
count() { tshark -r "$1" "${TS_OPTS[@]}" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }

check "test_tcpops passes and writes its frames to $PCAP" env VWT_TCPOPS_PCAP="$PCAP" "$BIN"

total=$(count "$PCAP" frame)
tcp=$(count "$PCAP" tcp)
ip4=$(count "$PCAP" ip)
rst=$(count "$PCAP" 'tcp.flags.reset == 1')
expect_ge "frames written" "$total" 400
expect_eq "every frame is TCP" "$total" "$tcp"
expect_eq "RSTs: one per SYN of test_rst" 192 "$rst"
expect_ge "IPv6 frames" "$(count "$PCAP" ipv6)" 150
expect_ge "802.1ad + 802.1Q frames" "$(count "$PCAP" 'eth.type == 0x88a8 && vlan')" 100
expect_eq "IPv4 header checksums good" "$ip4" "$(count "$PCAP" 'ip.checksum.status == 1')"
expect_eq "TCP checksums good" "$tcp" "$(count "$PCAP" 'tcp.checksum.status == 1')"
expect_eq "RSTs: RST|ACK, seq 0, window 0, no payload" "$rst" \
	"$(count "$PCAP" 'tcp.flags == 0x014 && tcp.seq_raw == 0 && tcp.window_size_value == 0 && tcp.len == 0 && tcp.hdr_len == 20')"
expect_eq "IPv4 RSTs: TTL 64, DF, ID 0, 40 bytes" "$(count "$PCAP" 'tcp.flags.reset == 1 && ip')" \
	"$(count "$PCAP" 'tcp.flags.reset == 1 && ip.ttl == 64 && ip.flags.df == 1 && ip.id == 0 && ip.len == 40 && ip.hdr_len == 20')"
expect_eq "IPv6 RSTs: hop limit 64, no extension header" "$(count "$PCAP" 'tcp.flags.reset == 1 && ipv6')" \
	"$(count "$PCAP" 'tcp.flags.reset == 1 && ipv6.hlim == 64 && ipv6.nxt == 6 && ipv6.plen == 20')"

# Each RST follows its SYN: addresses and ports swapped, the ack right.
bad=$(tshark -r "$PCAP" "${TS_OPTS[@]}" -T fields -e tcp.flags -e tcp.seq_raw \
	-e tcp.ack_raw -e tcp.len -e tcp.srcport -e tcp.dstport -e ip.src -e ip.dst -e ipv6.src \
	-e ipv6.dst -e vlan.id 2>/dev/null | awk -F '\t' '
	{ fl = strtonum($1) }
	and(fl, 4) {
		want = (ps + 1 + and(pf, 1) + pl) % 4294967296
		if ($3 != want || $5 != pd || $6 != pp || $7 != pdst || $8 != psrc || $9 != pdst6 ||
		    $10 != psrc6 || $11 != pv) { n++; print "bad RST: " $0 > "/dev/stderr" }
		checked++
	}
	{ pf = fl; ps = $2; pl = $4; pp = $5; pd = $6; psrc = $7; pdst = $8; psrc6 = $9; pdst6 = $10; pv = $11 }
	END { print n + 0, checked + 0 }')
expect_eq "every RST matches the SYN before it (bad, checked)" "0 192" "$bad"

expect_eq "clamped to 536 (test_mss_basic)" 12 "$(count "$PCAP" 'tcp.options.mss_val == 536')"
expect_eq "clamped to 1400 with NEEDS_CSUM, then completed" 2 \
	"$(count "$PCAP" 'tcp.options.mss_val == 1400 && tcp.checksum.status == 1')"

# The last frame is a RST: change a byte of its TCP window, and its
# checksum is bad.
cp "$PCAP" "$VW_TMP/bad.pcap"
python3 - "$VW_TMP/bad.pcap" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(-6, 2)
    b = f.read(1)[0]
    f.seek(-6, 2)
    f.write(bytes([b ^ 0x40]))
EOF
expect_eq "one changed byte: one bad TCP checksum" 1 "$(count "$VW_TMP/bad.pcap" 'tcp.checksum.status == 0')"
