#!/usr/bin/env python3
"""TCP "who are you" in many zones from one process (examples/tenants).

  whoami.py serve PORT DIR ZONE...
      a listener on 0.0.0.0:PORT in each ZONE (a network namespace in
      /run/netns) that answers every connection with the zone's name and
      appends the peer's address to DIR/peers-ZONE; and a UDP socket on
      the same port that takes datagrams and drops them.  Prints "ready"
      once every socket is bound, then serves until killed.
  whoami.py ask PORT ZONE=ADDR...
      from each ZONE, one connection to ADDR:PORT (2 s at most; up to 32
      at once); prints one line per pair, in order: the name the listener
      gave, or "-" (no answer).
  whoami.py send PORT ZONE ADDR FLOWS COUNT
      from ZONE, FLOWS UDP sockets (FLOWS flows: each its own source port)
      each send COUNT datagrams of 100 bytes to ADDR:PORT; no answer comes.

A socket belongs to the namespace it was made in, so one process enters
each zone (setns) only to make its sockets; no process per zone is needed.
"""
import ctypes
import os
import selectors
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


HOME = os.open("/proc/self/ns/net", os.O_RDONLY)  # ours, to come back to


def in_zone(zone, make):
    """make() run in ZONE's network namespace; back in ours after."""
    fd = os.open(f"/run/netns/{zone}", os.O_RDONLY)
    try:
        setns(fd)
        try:
            return make()
        finally:
            setns(HOME)
    finally:
        os.close(fd)


def serve(port, logdir, zones):
    sel = selectors.DefaultSelector()
    for z in zones:
        def make():
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
            s.listen(64)
            return s
        s = in_zone(z, make)
        sel.register(s, selectors.EVENT_READ, (z, open(os.path.join(logdir, "peers-" + z), "a")))

        def make_udp():
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("0.0.0.0", port))
            return u
        sel.register(in_zone(z, make_udp), selectors.EVENT_READ, None)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data is None:  # UDP: taken and dropped
                try:
                    key.fileobj.recv(2048)
                except OSError:
                    pass
                continue
            z, log = key.data
            try:
                c, peer = key.fileobj.accept()
            except OSError:
                continue
            try:
                c.sendall((z + "\n").encode())
            except OSError:
                pass
            c.close()
            log.write(peer[0] + "\n")
            log.flush()


def ask(port, pairs):
    socks = []
    for zone, addr in pairs:
        socks.append((in_zone(zone, socket.socket), addr))

    def one(sa):
        s, addr = sa
        s.settimeout(2)
        try:
            s.connect((addr, port))
            return s.makefile().readline().strip() or "-"
        except OSError:
            return "-"
        finally:
            s.close()

    with ThreadPoolExecutor(max_workers=min(len(socks), 32) or 1) as ex:
        for name in ex.map(one, socks):
            print(name)


def send(port, zone, addr, flows, count):
    socks = [in_zone(zone, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) for _ in range(flows)]
    data = bytes(100)
    for _ in range(count):
        for u in socks:
            u.sendto(data, (addr, port))
    for u in socks:
        u.close()


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "ask":
        ask(int(sys.argv[2]), [a.split("=", 1) for a in sys.argv[3:]])
    elif len(sys.argv) == 7 and sys.argv[1] == "send":
        send(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
