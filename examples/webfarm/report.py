#!/usr/bin/env python3
"""The figures and claims of examples/webfarm/run.sh, one phase per call.

    report.py try OUT SECS L1_FROM L1_TO L2_FROM L2_TO PREFIX
    report.py scale OUT M0 M1 MOVE_L1 END_L1 MOVE_L2 END_L2 PREFIX

OUT is run.sh's output directory: the load generators' JSON and per-request
logs (load-PHASE-cN.json/.log), the servers' logs (server-wN.log), the
served files (www/), the history as CSV (history-1.csv, history-b.csv) and
host b's live counters (live-b.txt), the health check's view of the
backends during phase 2 (backends.txt).  L*_FROM/L*_TO: the servers' request
lines (log lines) that fall in the phase; M0, M1: when the move began and
ended (epoch seconds).  Prints the figures, then one line per claim:
"PASS  text" or "FAIL  text", with the measured figures.
"""
import csv
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

GET = re.compile(r'"GET (\S+) HTTP/[0-9.]+" (\d+) ')


def claim(ok, text):
    print("%s  %s" % ("PASS" if ok else "FAIL", text))


def sizes(out):
    d = os.path.join(out, "www")
    return {"/" + f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)}


def served(out, i, frm, to, size):
    """Requests answered 200 and their body bytes, lines frm+1..to of server i's log."""
    n = req = nbytes = 0
    for line in open(os.path.join(out, "server-w%d.log" % i)):
        m = GET.search(line)
        if not m:
            continue
        n += 1
        if n <= frm or n > to:
            continue
        if m.group(2) == "200":
            req += 1
            nbytes += size.get(m.group(1), 0)
    return req, nbytes


def loads(out, phase):
    return [json.load(open(os.path.join(out, "load-%s-c%d.json" % (phase, i)))) for i in (1, 2)]


def history(path):
    """name -> (rbytes, obytes) of a show-history -F csv."""
    h = {}
    for row in csv.DictReader(open(path)):
        h[row["name"]] = (int(row["rbytes"]), int(row["obytes"]))
    return h


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def phase_try(out, secs, l1f, l1t, l2f, l2t, p):
    size = sizes(out)
    js = loads(out, 1)
    nreq = sum(j["requests"] for j in js)
    nok = sum(j["ok"] for j in js)
    nerr = sum(j["errors"] for j in js)
    body = sum(j["bytes"] for j in js)
    r1, b1 = served(out, 1, l1f, l1t, size)
    r2, b2 = served(out, 2, l2f, l2t, size)
    h = history(os.path.join(out, "history-1.csv"))
    tot = {v: sum(h.get(p + v, (0, 0))) for v in ("w1v", "w2v")}
    print("  %-10s %9s %9s %13s %13s %7s" % ("VNIC", "REQUESTS", "BODIES_MB", "RBYTES", "OBYTES", "SHARE"))
    for v in ("c1v", "c2v", "lbc", "lbs", "w1v", "w2v"):
        rb, ob = h.get(p + v, (0, 0))
        req, mb, share = "-", "-", "-"
        if v == "w1v":
            req, mb, share = str(r1), "%.1f" % (b1 / 1e6), "%.1f %%" % pct(tot["w1v"], tot["w1v"] + tot["w2v"])
        if v == "w2v":
            req, mb, share = str(r2), "%.1f" % (b2 / 1e6), "%.1f %%" % pct(tot["w2v"], tot["w1v"] + tot["w2v"])
        print("  %-10s %9s %9s %13d %13d %7s" % (p + v, req, mb, rb, ob, share))
    print("  (REQUESTS, BODIES_MB: from each server's log; RBYTES, OBYTES: show-history, what the VNIC")
    print("  received and sent; SHARE: the VNIC's part of the two servers' bytes, received + sent)")
    print()
    claim(nreq > 0 and nerr == 0,
          "try: the load balancer served every request: %d of %d, %d errors, %.0f requests/s"
          % (nok, nreq, nerr, nok / secs))
    rs1 = pct(r1, r1 + r2)
    claim(r1 + r2 == nok and abs(rs1 - 50) <= 5,
          "try: round robin: %sw1 served %d requests (%.1f %%), %sw2 %d (%.1f %%), of %d answered (each 50 %% +-5)"
          % (p, r1, rs1, p, r2, 100 - rs1, nok))
    hs1, ls1 = pct(tot["w1v"], tot["w1v"] + tot["w2v"]), pct(b1, b1 + b2)
    claim(tot["w1v"] > 0 and tot["w2v"] > 0 and abs(hs1 - ls1) <= 3,
          "try: show-history's split of the bytes: %sw1v %.1f %% / %sw2v %.1f %%; the servers' logs: "
          "%.1f %% / %.1f %% of the bodies (within 3 points)" % (p, hs1, p, 100 - hs1, ls1, 100 - ls1))
    ob = h.get(p + "w1v", (0, 0))[1] + h.get(p + "w2v", (0, 0))[1]
    ratio = ob / body if body else 0
    claim(1.0 <= ratio <= 1.25,
          "try: the history counts all of it: the servers' VNICs sent %d bytes for %d bytes of bodies "
          "the clients received (x%.3f: headers and TCP/IP; between 1 and 1.25)" % (ob, body, ratio))
    svg = os.path.join(out, "webfarm-try.svg")
    try:
        root = ET.parse(svg).getroot()
        text = open(svg).read()
        good = root.tag.endswith("svg") and all(p + v in text for v in ("w1v", "w2v"))
    except (OSError, ET.ParseError):
        good = False
    claim(good, "try: vwstat show-history -F svg drew the history, a line per server VNIC: %s (%d bytes)"
          % (svg, os.path.getsize(svg) if os.path.exists(svg) else 0))


def phase_scale(out, m0, m1, l1m, l1e, l2m, l2e, p):
    size = sizes(out)
    js = loads(out, 2)
    nreq = sum(j["requests"] for j in js)
    nok = sum(j["ok"] for j in js)
    retried = sum(j["retried"] for j in js)
    failed_tries = sum(j["failed_tries"] for j in js)
    inflight = inflight_retried = 0
    for i in (1, 2):
        for line in open(os.path.join(out, "load-2-c%d.log" % i)):
            t0, t1, _url, _st, _nb, tries = line.split()
            if float(t0) <= m1 and float(t1) >= m0:
                inflight += 1
                inflight_retried += int(tries) > 1
    # the health check's view, sampled 5 times a second during the phase
    seen = {}
    try:
        for line in open(os.path.join(out, "backends.txt")):
            w = line.split()
            if len(w) < 2:
                continue
            for kv in w[1:]:
                ip, _, st = kv.partition("=")
                seen.setdefault(ip, []).append((float(w[0]), st))
    except OSError:
        pass
    for ip in sorted(seen):
        downs = [t for t, st in seen[ip] if st != "up"]
        if downs:
            print("  show-vnm -x had backend %s down in %d of %d samples, from %+.0f to %+.0f ms of the move's start"
                  % (ip, len(downs), len(seen[ip]), (downs[0] - m0) * 1000, (downs[-1] - m0) * 1000))
        else:
            print("  show-vnm -x had backend %s up in all %d samples, over %.1f s around the move"
                  % (ip, len(seen[ip]), seen[ip][-1][0] - seen[ip][0][0]))
    claim(nreq > 0 and nok == nreq,
          "scale out: the load balancer kept serving across the move: %d of %d requests answered, %d failed; "
          "%d were in flight while move-zone.sh ran (%.0f ms), %d needed a second try (%d failed tries in all)"
          % (nok, nreq, nreq - nok, inflight, (m1 - m0) * 1000, retried, failed_tries))
    a1, _ = served(out, 1, l1m, l1e, size)
    a2, bodies2 = served(out, 2, l2m, l2e, size)
    s1 = pct(a1, a1 + a2)
    claim(a1 > 0 and a2 > 0 and abs(s1 - 50) <= 15,
          "scale out: after the move both servers serve: %sw1 (host a) %d requests, %sw2 (host b) %d "
          "(%.1f %% / %.1f %%; each 50 %% +-15)" % (p, a1, p, a2, s1, 100 - s1))
    ha = history(os.path.join(out, "history-2a.csv")).get(p + "w1v", (0, 0))
    hbb = history(os.path.join(out, "history-b.csv")).get(p + "w2v", (0, 0))
    print("after the move, each host's vwstat show-history -s @END_OF_MOVE (received + sent):")
    print("  host a %sw1v %9.1f MB %5.1f %%" % (p, sum(ha) / 1e6, pct(sum(ha), sum(ha) + sum(hbb))))
    print("  host b %sw2v %9.1f MB %5.1f %%" % (p, sum(hbb) / 1e6, pct(sum(hbb), sum(ha) + sum(hbb))))
    print("  (requests after the move, from the servers' logs: %sw1 %d, %sw2 %d)" % (p, a1, p, a2))
    hb = hbb[1]
    live = int(open(os.path.join(out, "live-b.txt")).read().strip() or 0)
    claim(bodies2 > 0 and hb >= bodies2 and live >= bodies2,
          "scale out: host b counts the moved server's traffic: %sw2v sent %d bytes by b's show-history "
          "(%d by b's vwstat) for the %d bytes of bodies %sw2 sent after the move"
          % (p, hb, live, bodies2, p))


def main():
    if len(sys.argv) == 9 and sys.argv[1] == "try":
        a = sys.argv[2:]
        phase_try(a[0], float(a[1]), *map(int, a[2:6]), a[6])
    elif len(sys.argv) == 10 and sys.argv[1] == "scale":
        a = sys.argv[2:]
        phase_scale(a[0], float(a[1]), float(a[2]), *map(int, a[3:7]), a[7])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
