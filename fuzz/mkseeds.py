#!/usr/bin/env python3
"""Writes the binary seed corpora of the datapath harnesses (fuzz/corpus/pkt,
tcpops, gso, pcapfilter, protect, lacp): real frames with right checksums
-- ARP, IPv4/TCP SYN with options, tagged and double-tagged frames,
IPv6/UDP, IPv6 with extension headers, fragments, and TCP/UDP super-frames
with their virtio-net headers -- and LACP exchanges (LACPDUs, Markers, time
and configuration steps).  Run from the top of the tree; the text seeds
(cmd, vwfile, ctlproto) are kept as files."""
import os
import struct

MAC_A = bytes.fromhex("020820000001")
MAC_B = bytes.fromhex("020820000002")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, etype, tags=()):
    h = MAC_B + MAC_A
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype) + payload


def ipv4(proto, src, dst, l4, frag=0, ident=1, l4sum=True):
    src, dst = bytes(src), bytes(dst)
    if l4sum and l4 is not None:
        l4 = fix_l4(proto, src + dst + struct.pack("!BBH", 0, proto, len(l4)), l4)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, frag, 64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + l4


def ipv6(nxt, src, dst, payload, l4proto=None, l4off=0):
    if l4proto is not None:
        l4 = payload[l4off:]
        ph = bytes(src) + bytes(dst) + struct.pack("!IxxxB", len(l4), l4proto)
        payload = payload[:l4off] + fix_l4(l4proto, ph, l4)
    return struct.pack("!IHBB", 6 << 28, len(payload), nxt, 64) + bytes(src) + bytes(dst) + payload


def fix_l4(proto, pseudo, l4):
    at = 16 if proto == 6 else 6 if proto == 17 else None
    if at is None:
        return l4
    l4 = l4[:at] + b"\0\0" + l4[at + 2:]
    c = csum(pseudo + l4)
    return l4[:at] + struct.pack("!H", c) + l4[at + 2:]


def tcp(sport, dport, flags, opts=b"", payload=b"", seq=1000):
    opts += b"\0" * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, off << 4, flags, 65535, 0, 0) + opts + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


V4A, V4B = [10, 0, 0, 1], [10, 0, 0, 2]
V6A = bytes.fromhex("fd000000000000000000000000000001")
V6B = bytes.fromhex("fd000000000000000000000000000002")
SYN_OPTS = bytes.fromhex("020405b4") + bytes.fromhex("0402") + bytes.fromhex("080a0000000100000000") + \
    bytes.fromhex("01030307")

arp = bytes.fromhex("ffffffffffff") + MAC_A + struct.pack("!H", 0x0806) + \
    struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + MAC_A + bytes(V4A) + bytes(6) + bytes(V4B)
syn4 = eth(ipv4(6, V4A, V4B, tcp(40000, 80, 0x02, SYN_OPTS)), 0x0800)
synack_vlan = eth(ipv4(6, V4B, V4A, tcp(80, 40000, 0x12, bytes.fromhex("01010204238c"))), 0x0800,
                  tags=[(0x8100, 100)])
syn6 = eth(ipv6(6, V6A, V6B, tcp(40001, 443, 0x02, SYN_OPTS), 6, 0), 0x86DD)
udp6 = eth(ipv6(17, V6A, V6B, udp(5353, 5353, b"hello"), 17, 0), 0x86DD)
qinq_icmp = eth(ipv4(1, V4A, V4B, struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"), 0x0800,
                tags=[(0x88A8, 10), (0x8100, 20)])
# IPv6: hop-by-hop (8 bytes) then a fragment header (first fragment), then TCP
hbh = struct.pack("!BB6s", 44, 0, bytes(6))
frag6 = struct.pack("!BBHI", 6, 0, 1, 0x1234)
tcp6e = tcp(40002, 22, 0x18, payload=b"data")
ext6 = eth(ipv6(0, V6A, V6B, hbh + frag6 + tcp6e, 6, len(hbh) + len(frag6)), 0x86DD)
frag4_later = eth(ipv4(17, V4A, V4B, b"\x00" * 16, frag=0x0002, l4sum=False), 0x0800)
padded = eth(ipv4(17, V4A, V4B, udp(53, 53, b"")), 0x0800) + b"\0" * 18
rst_bait = eth(ipv4(6, V4A, V4B, tcp(40003, 25, 0x03, payload=b"x" * 10)), 0x0800)  # SYN|FIN with data

frames = {
    "arp": arp, "ipv4-tcp-syn-opts": syn4, "vlan-tcp-synack": synack_vlan, "ipv6-tcp-syn": syn6,
    "ipv6-udp": udp6, "qinq-icmp": qinq_icmp, "ipv6-hbh-frag-tcp": ext6, "ipv4-later-fragment": frag4_later,
    "ipv4-udp-padded": padded, "ipv4-tcp-synfin-data": rst_bait,
}


def write(dirname, name, data):
    os.makedirs(dirname, exist_ok=True)
    with open(os.path.join(dirname, name), "wb") as f:
        f.write(data)


for name, f in frames.items():
    write("fuzz/corpus/pkt", name, f)
    write("fuzz/corpus/pcapfilter", name, b"\0\0\0\0" + f)

# tcpops: mss, mode (1 NEEDS_CSUM, 2 fix checksum), RST buffer size, frame
write("fuzz/corpus/tcpops", "syn4-clamp-1200", struct.pack("!HBB", 1200, 0, 82) + syn4)
write("fuzz/corpus/tcpops", "syn6-clamp-1400", struct.pack("!HBB", 1400, 0, 82) + syn6)
write("fuzz/corpus/tcpops", "synack-vlan-needs-csum", struct.pack("!HBB", 536, 1, 82) + synack_vlan)
write("fuzz/corpus/tcpops", "synfin-rst", struct.pack("!HBB", 1460, 2, 82) + rst_bait)
write("fuzz/corpus/tcpops", "syn4-small-rst-buffer", struct.pack("!HBB", 1000, 0, 40) + syn4)


def vnet(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset):
    return struct.pack("<BBHHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, 0)


payload = bytes((i * 7) & 0xFF for i in range(3000))
tso4 = eth(ipv4(6, V4A, V4B, tcp(40000, 5001, 0x18 | 0x80, bytes.fromhex("0101080a0000000100000002"),
                                  payload)), 0x0800)
tso6 = eth(ipv6(6, V6A, V6B, tcp(40000, 5001, 0x19, b"", payload[:2500]), 6, 0), 0x86DD,
           tags=[(0x8100, 7)])
uso4 = eth(ipv4(17, V4A, V4B, udp(4000, 4001, payload[:2000])), 0x0800)
csum_only = eth(ipv4(17, V4A, V4B, udp(4000, 4001, b"abc")), 0x0800)
# mode 1: the harness makes offsets and the pseudo-header sum agree
write("fuzz/corpus/gso", "tcpv4-tso", vnet(1, 1, 66, 1448, 34, 16) + b"\1\0\0" + tso4)
write("fuzz/corpus/gso", "tcpv6-tso-vlan", vnet(1, 4, 78, 1200, 58, 16) + b"\1\0\0" + tso6)
write("fuzz/corpus/gso", "udp-uso", vnet(1, 5, 42, 1000, 34, 6) + b"\1\0\0" + uso4)
write("fuzz/corpus/gso", "needs-csum-only", vnet(1, 0, 0, 0, 34, 6) + b"\1\0\0" + csum_only)
write("fuzz/corpus/gso", "tcpv4-cut-vid-100", vnet(1, 1, 66, 1448, 34, 16) + b"\3\0\x64" + tso4)
write("fuzz/corpus/gso", "tcpv4-ecn-raw", vnet(1, 0x81, 66, 500, 34, 16) + b"\0\0\0" + tso4)
write("fuzz/corpus/gso", "tcpv4-fewsegs", vnet(1, 1, 66, 536, 34, 16) + b"\5\0\0" + tso4)
write("fuzz/corpus/gso", "no-offload", vnet(0, 0, 0, 0, 0, 0) + b"\0\0\0" + syn4)

filters = {
    "tcp-syn": (b"tcp[tcpflags] & tcp-syn != 0", syn4),
    "vlan-100": (b"vlan 100 and tcp port 80", synack_vlan),
    "ip6-udp": (b"ip6 and udp port 5353", udp6),
    "arp": (b"arp and ether src 02:08:20:00:00:01", arp),
    "host-net": (b"src net 10.0.0.0/24 and not dst host 10.0.0.9", qinq_icmp),
    "len": (b"greater 60 or less 40", padded),
    "syntax-error": (b"tcp port", syn4),
}
for name, (flt, f) in filters.items():
    write("fuzz/corpus/pcapfilter", "filter-" + name, flt + b"\0\0\0\0" + f)
# tagged on delivery: the capture inserts the tag for VID 100
write("fuzz/corpus/pcapfilter", "filter-vlan-inserted", b"vlan 100\0\1\0\x64" + syn4)

# protect: checks (all four), the VNIC's MAC (the frames' source), allowed
# networks (10.0.0.0/24, fd00::/64), then the frame; and DHCP requests
dhcp4 = bytes([1, 1, 6, 0]) + bytes(24) + MAC_A + bytes(10) + bytes(192) + bytes.fromhex("63825363") + \
    bytes([53, 1, 1, 61, 7, 1]) + MAC_A + bytes([255])
dhcp4 = eth(ipv4(17, [0, 0, 0, 0], [255, 255, 255, 255], udp(68, 67, dhcp4)), 0x0800)
dhcp6 = bytes([1, 0, 0, 1]) + struct.pack("!HH", 1, 14) + struct.pack("!HHI", 1, 1, 0) + MAC_A
LL6A = bytes.fromhex("fe80000000000000") + bytes([MAC_A[0] ^ 2]) + MAC_A[1:3] + b"\xff\xfe" + MAC_A[3:]
dhcp6 = eth(ipv6(17, LL6A, bytes.fromhex("ff020000000000000000000000010002"), udp(546, 547, dhcp6), 17, 0),
            0x86DD)
prot_head = bytes([0x0F]) + MAC_A + bytes([2]) + \
    bytes([0]) + bytes(V4A[:3]) + bytes(13) + bytes([24]) + bytes([1]) + V6A[:8] + bytes(8) + bytes([64])
for name, f in list(frames.items()) + [("dhcp4-discover", dhcp4), ("dhcp6-solicit", dhcp6)]:
    write("fuzz/corpus/protect", name, prot_head + f)

# lacp: a configuration byte, then operations (fuzz/fuzz_lacp.c): frames
# (0, length, bytes), LACPDUs from values (1, actor, partner, version),
# time (2, ms), carrier (3), configuration (4)
SLOW = bytes.fromhex("0180c2000002")


def lacp_peer(prio, sysid, key, pprio, port, state):
    return struct.pack("!H6sHHHB", prio, sysid, key, pprio, port, state)


def lacpdu_frame(actor, partner, version=1):
    pdu = struct.pack("!BBBB", 1, version, 1, 20) + actor + b"\0\0\0" + struct.pack("!BB", 2, 20) + partner + \
        b"\0\0\0" + struct.pack("!BBH", 3, 16, 0) + bytes(12) + b"\0\0" + bytes(50)
    return SLOW + bytes.fromhex("020000000909") + b"\x88\x09" + pdu


def frame_op(member, f):
    return bytes([member << 3, len(f)]) + f


def time_op(ms):
    return b"\x02" + struct.pack("!H", ms)


PARTNER = bytes.fromhex("020000000002")
OURS = bytes.fromhex("020000000001")
seen = [lacp_peer(0x8000, PARTNER, 5, 0x80, m + 1, 0x3D) for m in range(2)]
views = [lacp_peer(0x8000, OURS, 7, 0xFF, m + 1, 0x0F) for m in range(2)]
converge = b""
for t in (0, 2500, 1000, 1000):
    for m in range(2):
        converge += bytes([1 | m << 3]) + seen[m] + views[m] + b"\x01"
    converge += time_op(t)
write("fuzz/corpus/lacp", "active-converge", b"\x01" + converge + time_op(4000) + time_op(40000))
write("fuzz/corpus/lacp", "passive-long", b"\x05" + converge + b"\x03" + time_op(60000) + b"\x13" + converge)
write("fuzz/corpus/lacp", "raw-lacpdus", b"\x01" + frame_op(0, lacpdu_frame(seen[0], views[0])) + time_op(2100) +
      frame_op(1, lacpdu_frame(seen[1], views[1], 2)) + frame_op(0, lacpdu_frame(seen[0], views[0])[:100]))
marker = SLOW + bytes.fromhex("020000000909") + b"\x88\x09" + struct.pack("!BBBBH6sIH", 2, 1, 1, 16, 7, PARTNER,
                                                                         0xDEADBEEF, 0) + b"\0\0" + bytes(90)
write("fuzz/corpus/lacp", "marker", b"\x01" + frame_op(0, marker) + frame_op(1, marker[:-1]) +
      frame_op(0, marker[:16] + b"\x02" + marker[17:]) + frame_op(0, marker[:14] + b"\x03" + marker[15:]))
write("fuzz/corpus/lacp", "config-churn", b"\x01" + converge + bytes([0x04, 0x34, 0x44, 0x54, 0x64, 0xF4, 0x6C, 0x74,
                                                                      0x14, 0x24]) + converge + time_op(3000))
