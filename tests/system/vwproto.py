#!/usr/bin/env python3
"""Raw control-protocol client for t_bad_input.sh (docs/protocol.md):
talks to vwired's socket directly, to send what vwadm never would.

    vwproto.py SOCKET MODE

Modes print what the daemon answered, one "key=value" per line, then
"closed" if the daemon closed the connection afterwards or "open" if not:
    request WORD...   a well-formed request of the given words
    garbage           "garbage\\n\\n"
    badkey            "foo=bar\\n\\n" (a key other than arg)
    nul               binary junk containing NUL bytes
    binary            binary junk without NUL, ending with a blank line
    oversized         one request line of 4.5 MiB (more than a request may be)
    slow              a request sent one byte at a time
    pipelined         two requests in one write (two replies expected)
    half              half a request, then "sent" and wait to be killed
    idle N            hold N connections that send nothing; print "held"
                      and wait to be killed
    noread            a request whose reply is never read, then close
"""
import os
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def send(s, data):
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon may close before taking everything


class Reader:
    """Splits what the daemon sends into messages (each ends with a blank line)."""

    def __init__(self, s):
        self.s, self.buf, self.eof = s, b"", False

    def message(self):
        """The next message's lines, or None at end of stream."""
        while b"\n\n" not in self.buf and not self.buf.startswith(b"\n"):
            if self.eof or not self._fill():
                if self.buf:
                    lines, self.buf = self.buf.decode(errors="replace").splitlines(), b""
                    return lines
                return None
        if self.buf.startswith(b"\n"):
            self.buf = self.buf[1:]
            return []
        msg, _, self.buf = self.buf.partition(b"\n\n")
        return msg.decode(errors="replace").splitlines()

    def _fill(self):
        try:
            chunk = self.s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def closed(self):
        """True if the daemon closes the connection (nothing more comes)."""
        if self.buf:
            return False
        if self.eof:
            return True
        self.s.settimeout(2)
        try:
            return not self._fill() and not self.buf
        except socket.timeout:
            return False


def report(s, n=1):
    r = Reader(s)
    for _ in range(n):
        lines = r.message()
        if lines is None:
            break
        for line in lines:
            print(line)
    print("closed" if r.closed() else "open")


def request(words):
    return b"".join(b"arg=" + w.encode() + b"\n" for w in words) + b"\n"


def main():
    path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    s = connect(path)
    if mode == "request":
        send(s, request(args))
        report(s)
    elif mode == "garbage":
        send(s, b"garbage\n\n")
        report(s)
    elif mode == "badkey":
        send(s, b"foo=bar\n\n")
        report(s)
    elif mode == "nul":
        send(s, bytes(range(256)) * 4 + b"\n\n")
        report(s)
    elif mode == "binary":
        send(s, bytes(range(1, 256)) * 4 + b"\n\n")
        report(s)
    elif mode == "oversized":
        send(s, b"arg=" + b"a" * (4608 << 10) + b"\n\n")
        report(s)
    elif mode == "slow":
        for b in request(["show-etherstub"]):
            send(s, bytes([b]))
            time.sleep(0.002)
        report(s)
    elif mode == "pipelined":
        send(s, request(["show-zone"]) + request(["show-etherstub"]))
        report(s, 2)
    elif mode == "half":
        send(s, b"arg=create-etherstub\narg=vwtbhalf")
        print("sent", flush=True)
        time.sleep(3600)
    elif mode == "idle":
        held = [s] + [connect(path) for _ in range(int(args[0]) - 1)]
        print("held %d" % len(held), flush=True)
        time.sleep(3600)
    elif mode == "noread":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        for _ in range(50):
            send(s, request(["export"]))
        s.close()
        print("closed")
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
