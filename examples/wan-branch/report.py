#!/usr/bin/env python3
"""Per-phase report of one run of the branch-office WAN case (wan.sh).

    report.py DIR TITLE [--goals]

DIR holds what wan_run wrote: tcp.json and udp.json (iperf3 clients' JSON,
with the receiving servers' own JSON inside: every figure here is what the
head office received) and run.env (timing).  The run has three phases of
equal length on the TCP streams' timeline: 1 TCP alone, 2 the UDP streams
have just joined, 3 both go on.  Each phase is measured from SETTLE seconds
after its start to its end, so a stream's first seconds (slow start, the
UDP streams arriving) are not counted.

Rates: TCP is goodput (iperf3's figure at the receiver); UDP is given on the
wire as well (received datagrams times their frame: payload + 42 bytes of
Ethernet, IPv4 and UDP headers), since maxbw counts frames on the wire.

With --goals, after the tables, one line per goal: "PASS<TAB>what" or
"FAIL<TAB>what"; the exit status is 1 if any goal failed (2: bad input).
"""
import json
import sys

SETTLE = 2.0            # seconds skipped at the start of each phase
SLACK = 0.15            # an interval may stick out of its window this much
GOAL_TCP_MBPS = 3.8     # TCP aggregate, every phase
GOAL_TCP_DEV = 0.10     # each TCP stream within +-10% of the TCP mean
GOAL_UDP_KBPS = 1000.0 / 3  # each UDP stream (the 1M ceiling shared by 3)
GOAL_UDP_DEV = 0.05


def load(path):
    with open(path) as f:
        d = json.load(f)
    if "error" in d:
        raise ValueError("%s: iperf3: %s" % (path, d["error"]))
    s = d.get("server_output_json")
    if not s or "intervals" not in s:
        raise ValueError("%s: no server output (iperf3 server without -J?)" % path)
    return s


def streams(server):
    """Per socket: list of (start, end, bytes) intervals at the receiver."""
    out = {}
    for iv in server["intervals"]:
        for st in iv["streams"]:
            out.setdefault(st["socket"], []).append((st["start"], st["end"], st["bytes"]))
    return [out[k] for k in sorted(out)]


def rate(ivs, lo, hi):
    """Bits per second over the intervals inside [lo, hi), or None."""
    sel = [iv for iv in ivs if iv[0] >= lo - SLACK and iv[1] <= hi + SLACK]
    secs = sum(e - s for s, e, _ in sel)
    if secs < 0.5:
        return None
    return sum(b for _, _, b in sel) * 8 / secs


def fmt(v, scale, prec):
    return "-" if v is None else "%.*f" % (prec, v / scale)


def main(argv):
    goals = "--goals" in argv
    args = [a for a in argv[1:] if a != "--goals"]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    d, title = args
    with open(d + "/run.env") as f:
        env = json.load(f)
    secs, join = float(env["secs"]), float(env["join"])
    tcp = streams(load(d + "/tcp.json"))
    udp = streams(load(d + "/udp.json"))
    wire = (env["udp_len"] + 42.0) / env["udp_len"]
    third = (secs - join) / 2
    phases = [("1 TCP alone", 0.0, join),
              ("2 UDP joins", join, join + third),
              ("3 TCP + UDP", join + third, secs)]

    print("== %s: %d TCP streams, %d UDP streams of %s from %.1f s, WAN maxbw=%s, %g s ==" %
          (title, env["tcp"], env["udp"], env["udp_rate"], join, env["rate"], secs))
    rows = []
    for name, start, end in phases:
        lo, hi = start + SETTLE, end
        t = [rate(s, lo, hi) for s in tcp]
        u = [rate(s, lo - join, hi - join) for s in udp] if start >= join else []
        tt = [x for x in t if x is not None]
        uu = [x for x in u if x is not None]
        rows.append(dict(name=name, lo=lo, hi=hi, tcp=t, udp=u,
                         tsum=sum(tt) if len(tt) == len(t) else None,
                         usum=sum(uu) * wire if u and len(uu) == len(u) else None))

    print("%-13s %-11s %10s %14s" % ("phase", "window (s)", "TCP Mb/s", "UDP Mb/s wire"))
    for r in rows:
        print("%-13s %-11s %10s %14s" % (r["name"], "%.0f-%.0f" % (r["lo"], r["hi"]),
                                         fmt(r["tsum"], 1e6, 2), fmt(r["usum"], 1e6, 2)))

    print("TCP streams, Mb/s (deviation from the phase's TCP mean):")
    print("%-13s" % "phase" + "".join("%15s" % ("tcp%d" % (i + 1)) for i in range(len(tcp))))
    worst = []
    for r in rows:
        cells, dev = [], None
        if r["tsum"] is not None:
            mean = r["tsum"] / len(r["tcp"])
            devs = [(x - mean) / mean if mean > 0 else float("inf") for x in r["tcp"]]
            dev = max(range(len(devs)), key=lambda i: abs(devs[i]))
            dev = (dev, devs[dev])
            cells = ["%.3f (%+5.1f%%)" % (x / 1e6, 100 * v) for x, v in zip(r["tcp"], devs)]
        else:
            cells = [fmt(x, 1e6, 3) for x in r["tcp"]]
        worst.append(dev)
        print("%-13s" % r["name"] + "".join("%15s" % c for c in cells))

    print("UDP streams at the receiver, Kb/s on the wire (payload):")
    print("%-13s" % "phase" + "".join("%15s" % ("udp%d" % (i + 1)) for i in range(len(udp))))
    for r in rows:
        if r["udp"]:
            cells = ["-" if x is None else "%.0f (%.0f)" % (x * wire / 1e3, x / 1e3) for x in r["udp"]]
            print("%-13s" % r["name"] + "".join("%15s" % c for c in cells))

    if rows[0]["tsum"] is not None and rows[2]["tsum"] is not None and rows[2]["usum"] is not None:
        print("in short: TCP %.2f Mb/s alone, %.2f once the UDP streams joined (UDP %.2f Mb/s on the wire)" %
              (rows[0]["tsum"] / 1e6, min(r["tsum"] for r in rows[1:] if r["tsum"] is not None) / 1e6,
               rows[2]["usum"] / 1e6))
    if not goals:
        return 0
    results = []
    for r, w in zip(rows, worst):
        p = r["name"].split()[0]
        ok = r["tsum"] is not None and r["tsum"] / 1e6 >= GOAL_TCP_MBPS
        results.append((ok, "phase %s: TCP aggregate %s Mb/s >= %.1f" % (p, fmt(r["tsum"], 1e6, 2), GOAL_TCP_MBPS)))
        ok = w is not None and abs(w[1]) <= GOAL_TCP_DEV
        what = "-" if w is None else "tcp%d %+.1f%%" % (w[0] + 1, 100 * w[1])
        results.append((ok, "phase %s: every TCP stream within +-%.0f%% of the TCP mean (worst: %s)" %
                        (p, 100 * GOAL_TCP_DEV, what)))
        if r["udp"]:
            lo, hi = GOAL_UDP_KBPS * (1 - GOAL_UDP_DEV), GOAL_UDP_KBPS * (1 + GOAL_UDP_DEV)
            got = [None if x is None else x * wire / 1e3 for x in r["udp"]]
            ok = all(x is not None and lo <= x <= hi for x in got)
            results.append((ok, "phase %s: every UDP stream %.0f-%.0f Kb/s at the receiver (%s)" %
                            (p, lo, hi, " ".join("-" if x is None else "%.0f" % x for x in got))))
    print("goals:")
    for ok, what in results:
        print("%s\t%s" % ("PASS" if ok else "FAIL", what))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError) as e:
        print("report.py: %s" % e, file=sys.stderr)
        sys.exit(2)
