#!/usr/bin/env python3
"""A userspace 802.1Q sub-interface, for kernels built without
CONFIG_VLAN_8021Q (where `ip link add link P name P.100 type vlan id 100`
fails with "Unknown device type").

    vlan_if.py PARENT NAME VID

creates the TAP device NAME (configure it like a VLAN device: address, up)
and joins it to PARENT: frames of VLAN VID received on PARENT reach NAME
untagged; frames NAME sends leave PARENT tagged with VID.  Prints "ready"
once running; runs until killed.  Used by t_phys.sh and t_offload.sh inside
their own namespaces.

Offloads pass through, as they do through a kernel VLAN device: the packet
socket on PARENT carries a virtio-net header (PACKET_VNET_HDR) and NAME is a
TAP with IFF_VNET_HDR offering checksum, TSO and USO, so TCP/UDP super-frames
(up to 64 KiB) and frames whose checksum is still to be filled in cross
whole, with their 10-byte header.  Its offsets (csum_start when
flags & NEEDS_CSUM, hdr_len when not 0) count from the frame's first byte,
so they move by 4 with the tag: +4 when the tag is inserted towards PARENT,
-4 when a tag carried in the frame is cut out.  A tag the kernel already took
out of the frame (reported in PACKET_AUXDATA) needs no move: the kernel's
offsets are those of the untagged frame.
"""
import errno
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
TUNSETOFFLOAD = 0x400454D0
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN = 0x01, 0x02, 0x04, 0x08
TUN_F_USO4, TUN_F_USO6 = 0x20, 0x40
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_VNET_HDR = 15
TP_STATUS_VLAN_VALID = 1 << 4
VNET_LEN = 10  # struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
NEEDS_CSUM = 1
MAX_FRAME = VNET_LEN + 65536 + 64


def shift(vnet, delta):
    """The virtio-net header with csum_start and hdr_len moved by delta."""
    flags, gso_type, hdr_len, gso_size, csum_start, csum_offset = struct.unpack("<BBHHHH", vnet)
    if flags & NEEDS_CSUM:
        csum_start = (csum_start + delta) & 0xFFFF
    if hdr_len:
        hdr_len = (hdr_len + delta) & 0xFFFF
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def dropped(where, err, vnet):
    """A frame the kernel would not take is dropped, as a device would drop
    it; anything but a full queue or a down interface is reported."""
    if err.errno not in (errno.EAGAIN, errno.ENOBUFS, errno.ENETDOWN, errno.EIO):
        print("vlan_if: frame %s dropped: %s (virtio-net header %s)" % (where, err, vnet.hex()),
              file=sys.stderr, flush=True)


def main():
    parent, name, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN
    try:
        fcntl.ioctl(tap, TUNSETOFFLOAD, offloads | TUN_F_USO4 | TUN_F_USO6)
    except OSError:  # kernels before 6.2 have no USO
        fcntl.ioctl(tap, TUNSETOFFLOAD, offloads)
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    raw.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    raw.bind((parent, 0))
    raw.setblocking(False)
    os.set_blocking(tap, False)
    tag = struct.pack("!HH", 0x8100, vid)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([tap, raw], [], [])
        if raw in ready:
            while True:
                try:
                    data, anc, _, addr = raw.recvmsg(MAX_FRAME, socket.CMSG_SPACE(32))
                except BlockingIOError:
                    break
                except OSError as e:
                    # a frame the kernel cannot describe in a virtio-net
                    # header (an unusual GSO type) is dropped
                    if e.errno == errno.EINVAL:
                        continue
                    raise
                if addr[2] == socket.PACKET_OUTGOING or len(data) < VNET_LEN + 14:
                    continue
                vnet, frame = data[:VNET_LEN], data[VNET_LEN:]
                tci = None
                for level, kind, cdata in anc:
                    if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 20:
                        status, _, _, _, _, vtci, _ = struct.unpack("IIIHHHH", cdata[:20])
                        if status & TP_STATUS_VLAN_VALID:
                            tci = vtci
                if tci is None and len(frame) >= 18 and frame[12:14] == b"\x81\x00":
                    tci = struct.unpack("!H", frame[14:16])[0]
                    frame = frame[:12] + frame[16:]
                    vnet = shift(vnet, -4)
                if tci is not None and tci & 0x0FFF == vid:
                    try:
                        os.write(tap, vnet + frame)
                    except OSError as e:
                        dropped("to " + name, e, vnet)
        if tap in ready:
            while True:
                try:
                    data = os.read(tap, MAX_FRAME)
                except BlockingIOError:
                    break
                if len(data) < VNET_LEN + 14:
                    continue
                vnet, frame = data[:VNET_LEN], data[VNET_LEN:]
                try:
                    raw.send(shift(vnet, 4) + frame[:12] + tag + frame[12:])
                except OSError as e:
                    dropped("to " + parent, e, vnet)


if __name__ == "__main__":
    main()
