#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol (standard library
only: its own minimal WebSocket client), for t_console.sh.

    cdp.py URL --state-out FILE [--screenshot PNG] [--wait-updates N]
           [--samples N] [--gap SECONDS] [--timeout SECONDS] [--click LINK]

Starts chromium --headless --no-sandbox (root here) with a throwaway
profile and --remote-debugging-port=0, opens URL at 1400x900, waits (real
time, no virtual clock) until the page's window.vwConsole has had
--wait-updates rate updates, then takes --samples copies of that state
--gap seconds apart and writes them to FILE as a JSON array, each with
"at" (ms since the epoch, this machine's clock) and "panel" (what the
panel of the --click link shows: title, chart samples, flows).  Saves a screenshot of the
page last.  Prints how long Chromium took to start and the page to be live.
"""
import argparse
import base64
import ctypes
import json
import signal
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames,
    client masking, no extensions."""

    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError("websocket handshake refused: " + head.split(b"\r\n", 1)[0].decode())
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        data = text.encode()
        n = len(data)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            data = self._read(n)
            op = b0 & 0x0F
            if op == 8:
                raise RuntimeError("websocket closed by Chromium")
            if op in (9, 10):  # ping, pong
                continue
            msg += data
            if b0 & 0x80:
                return msg.decode()


class Page:
    def __init__(self, ws):
        self.ws, self.next = ws, 0

    def call(self, method, **params):
        self.next += 1
        self.ws.send(json.dumps({"id": self.next, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")


def die_with_parent():
    """Chromium goes when this script goes, even by SIGKILL (a test's
    timeout): PR_SET_PDEATHSIG."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--state-out", required=True)
    ap.add_argument("--screenshot")
    ap.add_argument("--wait-updates", type=int, default=3)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--gap", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--click", help="a link to click (its panel opens) before the samples")
    a = ap.parse_args()

    browser = shutil.which("chromium") or "/usr/bin/chromium"
    prof = tempfile.mkdtemp(prefix="vwt-chromium-")
    t0 = time.time()
    proc = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio",
                             "--no-proxy-server", "--remote-debugging-address=127.0.0.1",
                             "--remote-debugging-port=0", f"--user-data-dir={prof}", "--window-size=1400,900",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=die_with_parent)
    try:
        deadline = t0 + a.timeout
        portfile = os.path.join(prof, "DevToolsActivePort")
        while not os.path.exists(portfile) or not open(portfile).read().strip():
            if proc.poll() is not None:
                raise RuntimeError("chromium exited: " + proc.stderr.read().decode()[-500:])
            if time.time() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(open(portfile).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page_t = next(t for t in targets if t.get("type") == "page")
        page = Page(WebSocket(page_t["webSocketDebuggerUrl"]))
        started = time.time() - t0
        page.call("Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False)
        page.call("Page.navigate", url=a.url)
        while True:
            st = page.eval("window.vwConsole ? JSON.stringify(window.vwConsole) : null")
            st = json.loads(st) if st else None
            if st and st.get("updates", 0) >= a.wait_updates and st.get("links"):
                break
            if time.time() > deadline:
                raise RuntimeError(f"the page did not make {a.wait_updates} updates: {st}")
            time.sleep(0.2)
        live = time.time() - t0
        if a.click:
            page.eval("document.querySelector('g[data-link=\"%s\"]').dispatchEvent("
                      "new MouseEvent('click', {bubbles: true}))" % a.click)
        samples = []
        for i in range(a.samples):
            if i:
                time.sleep(a.gap)
            st = json.loads(page.eval("JSON.stringify(window.vwConsole)"))
            st["at"] = int(time.time() * 1000)
            # what the panel shows: its title and the chart's samples
            st["panel"] = page.eval("(() => { const p = document.getElementById('panel'); if (p.hidden) return null;"
                                    " const c = document.querySelector('#p-chart svg');"
                                    " return {title: document.getElementById('p-title').textContent,"
                                    " chart_samples: c ? +c.getAttribute('data-samples') || 0 : null,"
                                    " chart_note: document.getElementById('p-chart').textContent,"
                                    " flows: document.querySelectorAll('#p-body b').length}; })()")
            samples.append(st)
        with open(a.state_out, "w") as f:
            json.dump(samples, f)
        if a.screenshot:
            # the whole drawing: the page as tall as its content
            h = page.eval("Math.max(900, document.documentElement.scrollHeight)")
            page.call("Emulation.setDeviceMetricsOverride", width=1400, height=int(h), deviceScaleFactor=1,
                      mobile=False)
            time.sleep(0.3)
            shot = page.call("Page.captureScreenshot", format="png")
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        print(f"chromium: DevTools after {started:.1f} s, page live after {live:.1f} s, "
              f"done after {time.time() - t0:.1f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(prof, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line, for the test's check
        print(f"cdp.py: {e}", file=sys.stderr)
        sys.exit(1)
