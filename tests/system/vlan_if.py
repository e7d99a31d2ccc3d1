#!/usr/bin/env python3
"""A userspace 802.1Q sub-interface, for kernels built without
CONFIG_VLAN_8021Q (where `ip link add link P name P.100 type vlan id 100`
fails with "Unknown device type").

    vlan_if.py PARENT NAME VID

creates the TAP device NAME (configure it like a VLAN device: address, up)
and joins it to PARENT: frames of VLAN VID received on PARENT reach NAME
untagged; frames NAME sends leave PARENT tagged with VID.  Prints "ready"
once running; runs until killed.  Used by t_phys.sh inside its own namespace.
"""
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4


def main():
    parent, name, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.bind((parent, 0))
    raw.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([tap, raw], [], [])
        if raw in ready:
            data, anc, _, addr = raw.recvmsg(65536, socket.CMSG_SPACE(32))
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            tci = None
            for level, kind, cdata in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 20:
                    status, _, _, _, _, vtci, _ = struct.unpack("IIIHHHH", cdata[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        tci = vtci
            if tci is None and len(data) >= 18 and data[12:14] == b"\x81\x00":
                tci = struct.unpack("!H", data[14:16])[0]
                data = data[:12] + data[16:]
            if tci is not None and tci & 0x0FFF == vid:
                os.write(tap, data)
        if tap in ready:
            frame = os.read(tap, 65536)
            if len(frame) >= 14:
                raw.send(frame[:12] + struct.pack("!HH", 0x8100, vid) + frame[12:])


if __name__ == "__main__":
    main()
