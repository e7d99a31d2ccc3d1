#!/usr/bin/env python3
"""Sends hand-made Ethernet frames on an interface through a packet socket
(AF_PACKET), as a hostile tenant would: what the kernel's stack would never
send for it.  Used by t_protect.sh inside a zone.

    rawsend.py IFACE KIND COUNT INTERVAL [KEY=VALUE...]

KIND and its keys (MACs as aa:bb:cc:dd:ee:ff; src defaults to IFACE's MAC):
  arp-reply   dst sha spa tha tpa      an ARP reply "spa is at sha"
  udp4        dst src sip dip [sport dport len]   an IPv4 UDP datagram
  ether       dst src type [vid]       a frame of ethertype type (hex), with
                                       an 802.1Q tag for vid if given
  dhcp        chaddr [cid]             a DHCPDISCOVER from 0.0.0.0 to
                                       broadcast; cid: option 61 (hex bytes)
Prints the number of frames sent.
"""
import socket
import struct
import sys
import time


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp(sip, dip, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                      socket.inet_aton(sip), socket.inet_aton(dip))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp


def frame(kind, a, own):
    src = mac(a.get("src", own))
    if kind == "arp-reply":
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac(a["sha"]),
                          socket.inet_aton(a["spa"]), mac(a["tha"]), socket.inet_aton(a["tpa"]))
        return mac(a["dst"]) + src + b"\x08\x06" + arp
    if kind == "udp4":
        pay = b"vwire-protect-test".ljust(int(a.get("len", "32")), b".")
        return mac(a["dst"]) + src + b"\x08\x00" + ipv4_udp(
            a["sip"], a["dip"], int(a.get("sport", "4000")), int(a.get("dport", "4001")), pay)
    if kind == "ether":
        tag = struct.pack("!HH", 0x8100, int(a["vid"])) if "vid" in a else b""
        return mac(a["dst"]) + src + tag + struct.pack("!H", int(a["type"], 16)) + b"\0" * 46
    if kind == "dhcp":
        bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x1234, 0, 0x8000,
                            b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                            mac(a["chaddr"]).ljust(16, b"\0"), b"\0" * 64, b"\0" * 128)
        opts = b"\x63\x82\x53\x63" + b"\x35\x01\x01"
        if "cid" in a:
            cid = bytes.fromhex(a["cid"])
            opts += bytes([61, len(cid)]) + cid
        opts += b"\xff"
        return b"\xff" * 6 + src + b"\x08\x00" + ipv4_udp("0.0.0.0", "255.255.255.255", 68, 67, bootp + opts)
    raise SystemExit("rawsend.py: unknown kind " + kind)


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    ifc, kind, count, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    a = dict(kv.split("=", 1) for kv in sys.argv[5:])
    own = open("/sys/class/net/%s/address" % ifc).read().strip()
    f = frame(kind, a, own)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifc, 0))
    for i in range(count):
        s.send(f)
        if i + 1 < count:
            time.sleep(interval)
    print(count)


main()
