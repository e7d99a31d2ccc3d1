#!/usr/bin/env python3
"""HTTP load with a deliberately uneven mix of URLs (examples/webfarm).

    loadgen.py [-n REQUESTS | -d SECONDS] [-c CONNECTIONS] [-m URL:WEIGHT,...]
               [--seed N] [--timeout S] [--retries N] [--json FILE] [--log FILE]
               http://HOST[:PORT]

Each request is a new TCP connection (so a load balancer sees a new
connection each time), a GET of one URL of the mix drawn at random with its
weight (default: 70 % /small.html, 25 % /medium.bin, 5 % /large.bin), from
CONNECTIONS threads at once.  A request is good when the answer is 200 and
the body has the length the server announced; a request that fails (refused,
reset, timed out, short) is tried again, up to --retries more times, and
counts as an error only when every try failed.  With -n, REQUESTS in all;
with -d, new requests for SECONDS.

Prints requests/s, errors, retries and per-URL counts and bytes; --json
writes the same figures (and the time of every error and retry) to FILE,
--log one line per request: start end url status bytes tries (times in
epoch seconds).  Exit status 0 when it ran (errors or not), 2 on bad
arguments.  Python's standard library only.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

DEFAULT_MIX = "/small.html:70,/medium.bin:25,/large.bin:5"


def parse_mix(text):
    mix = []
    for part in text.split(","):
        url, sep, weight = part.rpartition(":")
        if not sep or not url.startswith("/"):
            raise ValueError("'%s' is not /URL:WEIGHT" % part)
        w = float(weight)
        if w <= 0:
            raise ValueError("'%s': the weight must be positive" % part)
        mix.append((url, w))
    return mix


def fetch(host, port, url, timeout):
    """One GET on a new connection: (status, body bytes); raises on failure."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", url, headers={"Connection": "close"})
        resp = conn.getresponse()
        want = resp.getheader("Content-Length")
        body = resp.read()
        if want is not None and len(body) != int(want):
            raise IOError("short body: %d of %s bytes" % (len(body), want))
        return resp.status, len(body)
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", help="http://HOST[:PORT] (the vip)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("-n", "--requests", type=int, help="requests in all")
    g.add_argument("-d", "--duration", type=float, help="seconds of load")
    ap.add_argument("-c", "--connections", type=int, default=8, help="concurrent connections (8)")
    ap.add_argument("-m", "--mix", default=DEFAULT_MIX, help="URL:WEIGHT,... (%s)" % DEFAULT_MIX)
    ap.add_argument("--seed", type=int, default=1, help="random seed of the URL draws (1)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per try (5)")
    ap.add_argument("--retries", type=int, default=1, help="more tries of a failed request (1)")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--log", help="write one line per request to this file")
    ap.add_argument("--label", default="", help="a name for the report's first line")
    a = ap.parse_args()
    try:
        mix = parse_mix(a.mix)
    except ValueError as e:
        ap.error("-m: %s" % e)
    u = urllib.parse.urlsplit(a.url)
    if u.scheme != "http" or not u.hostname:
        ap.error("the URL must be http://HOST[:PORT]")
    if a.connections < 1 or (a.requests is not None and a.requests < 1) or (a.duration is not None and a.duration <= 0):
        ap.error("-c, -n and -d must be positive")
    if a.requests is None and a.duration is None:
        a.requests = 1000
    host, port = u.hostname, u.port or 80
    urls = [m[0] for m in mix]
    weights = [m[1] for m in mix]

    lock = threading.Lock()
    rng = random.Random(a.seed)
    issued = [0]
    records = []                 # (start, end, url, status, bytes, tries)
    error_times, retry_times, error_kinds = [], [], {}
    t_begin = time.time()
    deadline = t_begin + a.duration if a.duration is not None else None

    def next_url():
        with lock:
            if a.requests is not None and issued[0] >= a.requests:
                return None
            if deadline is not None and time.time() >= deadline:
                return None
            issued[0] += 1
            return rng.choices(urls, weights)[0]

    def worker():
        while True:
            url = next_url()
            if url is None:
                return
            t0 = time.time()
            status, nbytes, tries = None, 0, 0
            while tries <= a.retries:
                tries += 1
                try:
                    status, nbytes = fetch(host, port, url, a.timeout)
                    if status == 200:
                        break
                    err = "HTTP %d" % status
                except Exception as e:  # refused, reset, timeout, short body
                    err = type(e).__name__
                    status = None
                with lock:
                    retry_times.append(time.time())
                    error_kinds[err] = error_kinds.get(err, 0) + 1
            t1 = time.time()
            with lock:
                records.append((t0, t1, url, status, nbytes, tries))
                if status != 200:
                    error_times.append(t1)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_end = time.time()

    secs = max(t_end - t_begin, 1e-6)
    ok = [r for r in records if r[3] == 200]
    per_url = {}
    for url in urls:
        rs = [r for r in records if r[2] == url]
        per_url[url] = {
            "requests": len(rs),
            "ok": sum(1 for r in rs if r[3] == 200),
            "bytes": sum(r[4] for r in rs if r[3] == 200),
        }
    lat = sorted(r[1] - r[0] for r in ok)
    # a try that failed, then one that worked: a retried request
    retried = sum(1 for r in ok if r[5] > 1)
    out = {
        "label": a.label,
        "start": t_begin,
        "end": t_end,
        "seconds": secs,
        "requests": len(records),
        "ok": len(ok),
        "errors": len(records) - len(ok),
        "retried": retried,
        "failed_tries": len(retry_times),
        "failed_try_kinds": error_kinds,
        "rps": len(ok) / secs,
        "bytes": sum(r[4] for r in ok),
        "latency_median": lat[len(lat) // 2] if lat else None,
        "latency_max": lat[-1] if lat else None,
        "per_url": per_url,
        "error_times": error_times,
        "failed_try_times": retry_times,
        "connections": a.connections,
        "mix": a.mix,
    }
    lab = (a.label + ": ") if a.label else ""
    print("%s%d requests in %.1f s, %.0f requests/s, %d errors (%d retried and then served), %.1f MB"
          % (lab, out["requests"], secs, out["rps"], out["errors"], retried, out["bytes"] / 1e6))
    for url in urls:
        p = per_url[url]
        print("  %-12s %6d requests (%4.1f %%) %9.1f MB" % (
            url, p["requests"], 100.0 * p["requests"] / max(len(records), 1), p["bytes"] / 1e6))
    if error_kinds:
        print("  failed tries: " + ", ".join("%s %d" % kv for kv in sorted(error_kinds.items())))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    if a.log:
        with open(a.log, "w") as f:
            for r in sorted(records):
                f.write("%.3f %.3f %s %s %d %d\n" % (r[0], r[1], r[2], r[3] if r[3] else "-", r[4], r[5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
