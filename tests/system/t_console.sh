#!/usr/bin/env bash
# The web console (vwired --http ADDR:PORT): six zones on two etherstubs
# (VLANs 100, 200 and 300 and untagged, maxbw on one VNIC, a flow, a router
# VNM joining the two, accounting on), and VNICs over a phys link, an
# aggregation and a tunnel.  The JSON API must be valid JSON and
# say what vwadm and vwstat say (/api/history byte for byte what vwstat
# show-history -F json prints); bad paths and parameters get one line; writes
# (POST /api/command) need --http-write's credential, an address or
# localhost as Host and no foreign Origin, and no response opens CORS.
# Then headless Chromium loads the page while iperf3 runs between two
# zones: every VNIC must be drawn, the page must update by itself, and the
# throughput it shows for the iperf3 VNIC must be within 20 % of vwstat's
# over the same seconds; a click opens the VNIC's panel with its flow and
# its accounting chart.  The screenshot is kept in build/test-logs.
VWT_OWN="vwt6"
. "$(dirname "$0")/lib.sh"

S1=vwt6s1 S2=vwt6s2
LOGS=${VWT_LOG_DIR:-$VW_ROOT/build/test-logs}
SHOT=$LOGS/console.png
CDP=$VW_ROOT/tests/system/cdp.py
T_START=$(_now_ms)
# Debian's python3 (a python3 earlier in PATH, e.g. a pyenv shim, can take
# half a second to start, and this test starts it some 40 times)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$VW_TMP/token"
chmod 600 "$VW_TMP/token"

# curl with no proxy; CODE URL [ARGS]: prints the HTTP status, body in $VW_TMP/body, headers in $VW_TMP/hdr
http() {
	curl -s --noproxy '*' -o "$VW_TMP/body" -D "$VW_TMP/hdr" -w '%{http_code}' "$@"
}
# expect_http DESC CODE [CURL ARGS]: the status is CODE and, for an error, the body one line
expect_http() {
	local desc=$1 code=$2 got
	shift 2
	got=$(http "$@")
	expect_eq "$desc: HTTP $code" "$code" "$got"
	if [ "$code" -ge 400 ]; then
		expect_eq "$desc: one line of text ($(head -c 100 "$VW_TMP/body" | tr -d '\n'))" 1 "$(wc -l <"$VW_TMP/body")"
	fi
	check "$desc: no CORS header" bash -c "! grep -qi '^access-control-allow' '$VW_TMP/hdr'"
}

log "---- bad options ($(( ($(_now_ms) - T_START) / 1000 )) s)"
chmod 644 "$VW_TMP/token"
rc=0
"$VW_BIN/vwired" -f --socket "$VW_TMP/bad.sock" --state-dir "$VW_TMP/bad" --http 127.0.0.1:$PORT \
	--http-write "$VW_TMP/token" >"$VW_TMP/bad.out" 2>&1 || rc=$?
expect_ge "--http-write with a credential others may read is refused" "$rc" 1
check "... in one line saying so" bash -c "[ \$(wc -l <'$VW_TMP/bad.out') = 1 ] && grep -q 'others may read it' '$VW_TMP/bad.out'"
chmod 600 "$VW_TMP/token"
rc=0
"$VW_BIN/vwired" -f --socket "$VW_TMP/bad.sock" --state-dir "$VW_TMP/bad" --http-write "$VW_TMP/token" \
	>"$VW_TMP/bad.out" 2>&1 || rc=$?
expect_ge "--http-write without a listener is refused" "$rc" 1
expect_eq "... in one line" 1 "$(wc -l <"$VW_TMP/bad.out")"
rm -rf "$VW_TMP/bad" "$VW_TMP/bad.out" "$VW_TMP/bad.sock"

vw_start --http 127.0.0.1:$PORT --http-write "$VW_TMP/token"
check "vwired listens on 127.0.0.1:$PORT" bash -c "ss -Hltn 'sport = :$PORT' | grep -q '127.0.0.1:$PORT'"

log "---- six zones, two etherstubs, a router between them ($(( ($(_now_ms) - T_START) / 1000 )) s)"
check "create etherstub $S1" vwadm create-etherstub $S1
check "create etherstub $S2" vwadm create-etherstub $S2
for i in 1 2 3 4 5 6; do
	check "create zone vwt6z$i" vwadm create-zone vwt6z$i
done
check "VNIC vwt6v1: $S1, VLAN 100, maxbw 100M" vwadm create-vnic -l $S1 -v 100 -p zone=vwt6z1,maxbw=100M vwt6v1
check "VNIC vwt6v2: $S1, VLAN 100" vwadm create-vnic -l $S1 -v 100 -p zone=vwt6z2 vwt6v2
check "VNIC vwt6v3: $S1, VLAN 200" vwadm create-vnic -l $S1 -v 200 -p zone=vwt6z3 vwt6v3
check "VNIC vwt6v4: $S2, VLAN 300" vwadm create-vnic -l $S2 -v 300 -p zone=vwt6z4 vwt6v4
check "VNIC vwt6v5: $S2, untagged" vwadm create-vnic -l $S2 -p zone=vwt6z5 vwt6v5
check "VNIC vwt6v6a: $S1, VLAN 200" vwadm create-vnic -l $S1 -v 200 -p zone=vwt6z6 vwt6v6a
check "VNIC vwt6v6b: $S2, untagged" vwadm create-vnic -l $S2 -p zone=vwt6z6 vwt6v6b
# a phys link, an aggregation and a tunnel too, for the drawing
check "veth pair vwt6p0/vwt6p1 (a phys)" ip link add vwt6p0 type veth peer name vwt6p1
check "veth pairs vwt6a0/vwt6a1, vwt6b0/vwt6b1 (members)" bash -c \
	"ip link add vwt6a0 type veth peer name vwt6a1 && ip link add vwt6b0 type veth peer name vwt6b1"
for l in vwt6p0 vwt6p1 vwt6a0 vwt6a1 vwt6b0 vwt6b1; do ip link set $l up; done
check "VNIC vwt6v7 over phys vwt6p0, VLAN 400, in vwt6z5" vwadm create-vnic -l vwt6p0 -v 400 -p zone=vwt6z5 vwt6v7
check "aggregation vwt6ag of vwt6a0, vwt6b0" vwadm create-aggr -L off -l vwt6a0 -l vwt6b0 vwt6ag
check "VNIC vwt6v8 over vwt6ag in vwt6z4" vwadm create-vnic -l vwt6ag -p zone=vwt6z4 vwt6v8
check "tunnel vwt6tn (VXLAN on loopback)" vwadm create-tunnel -T vxlan -a local=127.0.0.1,remote=127.0.0.2 -p vni=42 vwt6tn
check "VNIC vwt6v9 over vwt6tn in vwt6z3" vwadm create-vnic -l vwt6tn -p zone=vwt6z3 vwt6v9
check "address on vwt6v1" vwadm create-addr -a 10.206.1.1/24 vwt6v1
check "address on vwt6v2" vwadm create-addr -a 10.206.1.2/24 vwt6v2
check "address on vwt6v6a" vwadm create-addr -a 10.206.2.1/24 vwt6v6a
check "address on vwt6v6b" vwadm create-addr -a 10.206.3.1/24 vwt6v6b
check "router VNM vwt6z6 over vwt6v6a, vwt6v6b" vwadm create-vnm -T router -l vwt6v6a,vwt6v6b vwt6z6
check "flow vwt6f1 (tcp) on vwt6v2" vwadm add-flow -l vwt6v2 -a transport=tcp vwt6f1
check "accounting on, every second" vwadm start-accounting -i 1
wait_ping 10 vwt6z1 10.206.1.2

log "---- the API ($(( ($(_now_ms) - T_START) / 1000 )) s)"
for p in links vnics etherstubs zones vnms flows stats info linkprops addrs accounting workers phys aggrs tunnels; do
	expect_http "GET /api/$p" 200 "$BASE/api/$p"
	check "/api/$p is valid JSON" "$PY" -m json.tool "$VW_TMP/body"
	cp "$VW_TMP/body" "$VW_TMP/api_$p.json"
done
check "/api/* is application/json" bash -c "grep -qi '^content-type: application/json' '$VW_TMP/hdr'"
# parsable lines (vwadm -p: ':' and '\' escaped) of FIELDS of the objects
# of a JSON array whose KEY is in the list (all when none)
pjson() {
	"$PY" - "$@" <<'PY'
import json, sys
f, fields = sys.argv[1], sys.argv[2].split(",")
data = json.load(open(f))
if isinstance(data, dict):
    data = data[sys.argv[3]]
for o in data:
    vals = [str(o.get(k, "")) for k in fields]
    print(":".join(v.replace("\\", "\\\\").replace(":", "\\:") for v in vals) if len(vals) > 1 else vals[0])
PY
}
expect_eq "/api/links: show-link's fields" "$(vwadm show-link -p -o link,class,mtu,state,over,zone)" \
	"$(pjson "$VW_TMP/api_links.json" link,class,mtu,state,over,zone)"
expect_eq "/api/links: the VNICs' show-vnic fields" "$(vwadm show-vnic -p -o link,over,macaddress,macaddrtype,vid,zone,face)" \
	"$("$PY" -c 'import json,sys; json.dump([l for l in json.load(open(sys.argv[1])) if l["class"] == "vnic"], open(sys.argv[2], "w"))' \
		"$VW_TMP/api_links.json" "$VW_TMP/api_vnic_links.json"; pjson "$VW_TMP/api_vnic_links.json" link,over,macaddress,macaddrtype,vid,zone,face)"
expect_eq "/api/vnics: show-vnic's records" "$(vwadm show-vnic -p -o all)" \
	"$(pjson "$VW_TMP/api_vnics.json" link,over,macaddress,macaddrtype,vid,zone,state,face,socket)"
expect_eq "/api/links: maxbw of vwt6v1 as show-linkprop gives it" "$(vwadm show-linkprop -c -o value -p maxbw vwt6v1)" \
	"$("$PY" -c 'import json,sys; print(next(l for l in json.load(open(sys.argv[1])) if l["link"] == "vwt6v1")["props"]["maxbw"])' "$VW_TMP/api_links.json")"
expect_eq "/api/zones: show-zone's" "$(vwadm show-zone -p -o zone,vnics)" "$(pjson "$VW_TMP/api_zones.json" zone,vnics)"
expect_eq "/api/etherstubs: show-etherstub's" "$(vwadm show-etherstub -p -o link,vnics)" "$(pjson "$VW_TMP/api_etherstubs.json" link,vnics)"
expect_eq "/api/vnms: show-vnm's" "$(vwadm show-vnm -p -o vnm,type,zone,links)" "$(pjson "$VW_TMP/api_vnms.json" vnm,type,zone,links)"
expect_eq "/api/aggrs: show-aggr's" "$(vwadm show-aggr -p -o link,policy,lacpactivity,ports)" "$(pjson "$VW_TMP/api_aggrs.json" link,policy,lacpactivity,ports)"
expect_eq "/api/tunnels: show-tunnel's" "$(vwadm show-tunnel -p -o link,vni,local,remotes)" "$(pjson "$VW_TMP/api_tunnels.json" link,vni,local,remotes)"
expect_eq "/api/flows: show-flow's" "$(vwadm show-flow -p -o flow,link,proto,attrs)" "$(pjson "$VW_TMP/api_flows.json" flow,link,proto,attrs)"
expect_eq "/api/stats: vwstat's links" "$(vwstat -p -o link,class,over,zone)" "$(pjson "$VW_TMP/api_stats.json" link,class,over,zone links)"
check "/api/stats: counters are numbers, with the daemon's time" "$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert isinstance(s["time"], int) and s["time"] > 1.6e12, s["time"]
for l in s["links"]:
    assert all(isinstance(l[k], int) for k in ("ipkts", "rbytes", "opkts", "obytes", "idrops", "odrops")), l
assert [f["flow"] for f in s["flows"]] == ["vwt6f1"], s["flows"]' "$VW_TMP/api_stats.json"
check "/api/info: writes on, accounting on" "$PY" -c '
import json, sys; i = json.load(open(sys.argv[1])); assert i["write"] is True and i["accounting"] is True, i' "$VW_TMP/api_info.json"

wait_until 15 "accounting sampled vwt6v1 three times" \
	bash -c "[ \"\$(vwstat show-history -i -F csv vwt6v1 | wc -l)\" -ge 4 ]"
# a range that has ended: samples still coming do not change it
now=$(date +%s)
s=$((now - 600)) e=$((now - 2))
expect_http "GET /api/history (summary)" 200 "$BASE/api/history?name=vwt6v1&name=vwt6v2&start=$s&end=$e"
expect_eq "/api/history is what vwstat show-history -F json prints" \
	"$(vwstat show-history -F json -s $s -e $e vwt6v1 vwt6v2)" "$(cat "$VW_TMP/body")"
expect_http "GET /api/history (intervals)" 200 "$BASE/api/history?name=vwt6v1&start=$s&end=$e&interval=1"
expect_eq "/api/history&interval=1 is what vwstat show-history -i -F json prints" \
	"$(vwstat show-history -i -F json -s $s -e $e vwt6v1)" "$(cat "$VW_TMP/body")"

log "---- the page, and what is refused ($(( ($(_now_ms) - T_START) / 1000 )) s)"
expect_http "GET /" 200 "$BASE/"
check "/ is the console (HTML)" bash -c "grep -qi '^content-type: text/html' '$VW_TMP/hdr' && grep -q 'console.js' '$VW_TMP/body'"
check "/ may not be framed, and loads only its own files" bash -c "grep -qi \"^content-security-policy: default-src 'self'\" '$VW_TMP/hdr'"
expect_http "GET /console.js" 200 "$BASE/console.js"
expect_http "GET /metrics still works" 200 "$BASE/metrics"
expect_http "GET /nope" 404 "$BASE/nope"
expect_http "GET /api/nope" 404 "$BASE/api/nope"
expect_http "GET /api/links?bogus=1" 400 "$BASE/api/links?bogus=1"
expect_http "GET /api/links?name=vwt6none" 404 "$BASE/api/links?name=vwt6none"
expect_http "GET /api/history?start=garbage" 400 "$BASE/api/history?start=garbage"
expect_http "GET /api/history?interval=2" 400 "$BASE/api/history?interval=2"
expect_http "GET /api/history?start=… twice" 400 "$BASE/api/history?start=-1h&start=-2h"
expect_http "GET /api/history?name=bad!name" 400 "$BASE/api/history?name=bad!name"
expect_http "GET /api/links with a foreign Origin: answered, but no CORS" 200 -H 'Origin: http://evil.example' "$BASE/api/links"
expect_http "OPTIONS preflight" 405 -X OPTIONS -H 'Origin: http://evil.example' \
	-H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization' "$BASE/api/command"
expect_http "PUT /api/links" 405 -X PUT -d x "$BASE/api/links"

CMD="create-etherstub vwt6x"
absent() { check "... and nothing was created" bash -c "! vwadm show-link vwt6x >/dev/null 2>&1"; }
expect_http "POST /api/command without a credential" 401 -d "$CMD" "$BASE/api/command"
absent
expect_http "POST /api/command with a wrong credential" 401 -H "Authorization: Bearer x$TOKEN" -d "$CMD" "$BASE/api/command"
absent
expect_http "POST /api/command, the credential as a Basic one" 401 -u "a:$TOKEN" -d "$CMD" "$BASE/api/command"
absent
expect_http "POST /api/command with the credential, Host a DNS name (rebinding)" 403 \
	-H "Authorization: Bearer $TOKEN" -H "Host: evil.example:$PORT" -d "$CMD" "$BASE/api/command"
absent
expect_http "POST /api/command with the credential, a foreign Origin (CSRF)" 403 \
	-H "Authorization: Bearer $TOKEN" -H 'Origin: http://evil.example' -d "$CMD" "$BASE/api/command"
absent
expect_http "POST /api/command: two commands" 400 -H "Authorization: Bearer $TOKEN" \
	--data-binary $'create-etherstub vwt6x\ncreate-etherstub vwt6y' "$BASE/api/command"
absent
expect_http "POST /api/command: apply is not for HTTP" 400 -H "Authorization: Bearer $TOKEN" -d "apply x.vw" "$BASE/api/command"
expect_http "POST /api/command: a bad command" 400 -H "Authorization: Bearer $TOKEN" -d "create-etherstub" "$BASE/api/command"
check "... says why, in JSON" "$PY" -c '
import json, sys; r = json.load(open(sys.argv[1])); assert r["status"] != 0 and r["message"], r' "$VW_TMP/body"
expect_http "POST /api/command with the credential, Host and Origin the listener" 200 \
	-H "Authorization: Bearer $TOKEN" -H "Origin: $BASE" -d "$CMD" "$BASE/api/command"
check "... ran it: vwt6x exists" vwadm show-etherstub vwt6x
expect_http "POST /api/command: vwadm's words, quoted as in a vWire file" 200 \
	-H "Authorization: Bearer $TOKEN" -d "vwadm delete-etherstub 'vwt6x'" "$BASE/api/command"
absent
expect_http "POST /api/command: a show command's records" 200 -H "Authorization: Bearer $TOKEN" \
	-d "show-link -o link vwt6v1" "$BASE/api/command"
check "... in JSON" "$PY" -c '
import json, sys; r = json.load(open(sys.argv[1])); assert r["status"] == 0 and r["records"][0]["link"] == "vwt6v1", r' "$VW_TMP/body"

log "---- a daemon without --http-write takes no write at all ($(( ($(_now_ms) - T_START) / 1000 )) s)"
PORT2=$(free_port)
vw_bg "$VW_BIN/vwired" -f --socket "$VW_TMP/ro.sock" --state-dir "$VW_TMP/ro.state" --fastpath=off \
	--http 127.0.0.1:$PORT2 2>"$VW_TMP/ro.log"
RO_PID=$VW_BG_PID
wait_until 10 "the read-only daemon answers on $PORT2" curl -sf --noproxy '*' -o /dev/null http://127.0.0.1:$PORT2/api/info
expect_http "POST /api/command with a credential to a read-only daemon" 403 -H "Authorization: Bearer $TOKEN" \
	-d "create-etherstub vwt6ro" http://127.0.0.1:$PORT2/api/command
check "... and nothing was created" bash -c "! VWIRE_SOCKET='$VW_TMP/ro.sock' '$VW_BIN/vwadm' show-link vwt6ro >/dev/null 2>&1"
vw_bg_stop "$RO_PID"

log "---- the page in headless Chromium, with iperf3 from vwt6z1 to vwt6z2 ($(( ($(_now_ms) - T_START) / 1000 )) s)"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/install-deps.sh installs it)"
iperf3_server vwt6z2 5201 10.206.1.2
vw_bg ip netns exec vwt6z1 iperf3 -c 10.206.1.2 -p 5201 -t 60 >"$VW_TMP/iperf3.log" 2>&1
# vwstat's counters of vwt6v1, each with the time it was read (the middle
# of the call, ms): the rates over any window of the page's
cat >"$VW_TMP/sampler.py" <<'PY'
import subprocess, sys, time
while True:
    a = time.time()
    out = subprocess.run([sys.argv[1], "--socket", sys.argv[2], "-p", "-o", "rbytes,obytes", "vwt6v1"],
                         capture_output=True, text=True).stdout.strip()
    b = time.time()
    if out:
        print(int((a + b) * 500), out.replace(":", " "))
    time.sleep(0.1)
PY
vw_bg "$PY" -u "$VW_TMP/sampler.py" "$VW_BIN/vwstat" "$VW_SOCK" >"$VW_TMP/vwstat.log"
wait_until 10 "iperf3 traffic flows through vwt6v1" \
	bash -c "[ \$(vwstat -p -o obytes vwt6v1) -gt 5000000 ] || [ \$(vwstat -p -o rbytes vwt6v1) -gt 5000000 ]"
mkdir -p "$LOGS"
rm -f "$SHOT"
t=$(_now_ms)
check "Chromium loads the console, clicks vwt6v2, takes 3 samples 2 s apart and a screenshot" \
	"$PY" "$CDP" "$BASE/" --state-out "$VW_TMP/state.json" --screenshot "$SHOT" --wait-updates 3 \
	--samples 3 --gap 2 --click vwt6v2 --timeout 60
log "---- Chromium run: $(( ($(_now_ms) - t) / 1000 )) s ($(( ($(_now_ms) - T_START) / 1000 )) s)"
check "every VNIC is drawn" "$PY" - "$VW_TMP/state.json" "$(vwadm show-vnic -p -o link | tr '\n' ' ')" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))[-1]
drawn = {l["name"] for l in s["links"] if l["drawn"]}
want = set(sys.argv[2].split())
print("drawn:", sorted(drawn))
assert want <= drawn, f"not drawn: {sorted(want - drawn)}"
assert {"vwt6s1", "vwt6s2", "vwt6p0", "vwt6ag", "vwt6tn"} <= drawn, "a switch is not drawn"
PY
check "the page updates by itself (a new reading in each 2 s gap, each over at most 2 s)" "$PY" - "$VW_TMP/state.json" <<'PY'
import json, sys
ss = json.load(open(sys.argv[1]))
for a, b in zip(ss, ss[1:]):
    assert b["updates"] > a["updates"] and b["stats_time"] > a["stats_time"], (a["updates"], b["updates"])
for s in ss:
    l = next(l for l in s["links"] if l["name"] == "vwt6v1")
    assert l["t1"] - l["t0"] <= 2000, (l["t0"], l["t1"])
    assert s["error"] is None, s["error"]
print("updates:", [s["updates"] for s in ss])
PY
cat >"$VW_TMP/compare.py" <<'PY'
import json, sys
ss = json.load(open(sys.argv[1]))
rows = [tuple(map(int, ln.split())) for ln in open(sys.argv[2]) if ln.strip()]
busy = False

def at(t, col):  # a counter at time t (ms), from the readings around it
    for (ta, *a), (tb, *b) in zip(rows, rows[1:]):
        if ta <= t <= tb:
            return a[col] + (b[col] - a[col]) * (t - ta) / max(1, tb - ta)
    raise SystemExit(f"no vwstat reading around {t} ({len(rows)} readings"
                     f"{', ' + str(rows[0][0]) + '..' + str(rows[-1][0]) if rows else ''})")

for s in ss:
    l = next(l for l in s["links"] if l["name"] == "vwt6v1")
    t0, t1 = l["t0"], l["t1"]
    for col, key in ((0, "bps_in"), (1, "bps_out")):
        ref = (at(t1, col) - at(t0, col)) * 8000 / (t1 - t0)
        shown = l[key]
        print(f"{key}: page {shown / 1e6:.2f} Mb/s, vwstat {ref / 1e6:.2f} Mb/s over {t1 - t0} ms")
        if ref > 5e6:  # the direction iperf3 fills
            assert abs(shown - ref) <= 0.2 * ref, f"{key}: {shown} vs {ref}"
            busy = True
assert busy
PY
check "the throughput shown for vwt6v1 is within 20 % of vwstat's over the same seconds" \
	"$PY" "$VW_TMP/compare.py" "$VW_TMP/state.json" "$VW_TMP/vwstat.log"
"$PY" "$VW_TMP/compare.py" "$VW_TMP/state.json" "$VW_TMP/vwstat.log" | _indent
check "the panel of vwt6v2 shows its flow and its accounting chart" "$PY" - "$VW_TMP/state.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))[-1]["panel"]
print(p)
assert p and p["title"].startswith("vwt6v2"), p
assert p["flows"] == 1, p
assert p["chart_samples"] and p["chart_samples"] > 0, p
PY
check "the screenshot is a PNG" bash -c "head -c 8 '$SHOT' | od -An -tx1 | grep -q '89 50 4e 47'"
log "---- screenshot: $SHOT ($(( ($(_now_ms) - T_START) / 1000 )) s)"
log "---- run time $(( ($(_now_ms) - T_START) / 1000 )) s"
vw_stop
expect_eq "vwired exit status" 0 "$VW_STOP_STATUS"
