#!/usr/bin/env bash
# vwired --metrics: the Prometheus endpoint.  Two zones on an etherstub, a
# flow, pings; then a scrape must be HTTP 200 text/plain version 0.0.4, with
# HELP and TYPE for every family, and show the numbers vwstat shows (no
# traffic between the two, and no IPv6 autoconfiguration, so they are at rest).  Bad --metrics values are
# refused at start with one line and a non-zero exit.
VWT_OWN="vwtm"
. "$(dirname "$0")/lib.sh"

ZA=vwtmza ZB=vwtmzb STUB=vwtms VA=vwtma VB=vwtmb
A4=10.200.13.1 B4=10.200.13.2
PORT=19464
URL=http://127.0.0.1:$PORT/metrics

log "---- bad --metrics values"
mkdir -p "$VW_TMP"
for bad in 127.0.0.1 127.0.0.1: 127.0.0.1:0 127.0.0.1:70000 localhost:$PORT 300.1.1.1:$PORT :$PORT '[::1]:x'; do
	rc=0
	"$VW_BIN/vwired" -f --socket "$VW_TMP/bad.sock" --state-dir "$VW_TMP/bad" --metrics "$bad" \
		>"$VW_TMP/bad.out" 2>&1 || rc=$?
	expect_ge "--metrics '$bad' refused (non-zero exit)" "$rc" 1
	expect_eq "--metrics '$bad': one line of error" 1 "$(wc -l <"$VW_TMP/bad.out")"
done
rm -rf "$VW_TMP/bad" "$VW_TMP/bad.out"

check "port $PORT is free" bash -c "! ss -Hltn 'sport = :$PORT' | grep -q ."
vw_start --metrics 127.0.0.1:$PORT
check "vwired listens on 127.0.0.1:$PORT" bash -c "ss -Hltn 'sport = :$PORT' | grep -q '127.0.0.1:$PORT'"
rc=0
"$VW_BIN/vwired" -f --socket "$VW_TMP/busy.sock" --state-dir "$VW_TMP/busy" --metrics 127.0.0.1:$PORT \
	>"$VW_TMP/busy.out" 2>&1 || rc=$?
expect_ge "a second vwired on the same metrics port is refused" "$rc" 1
check "... saying the address is in use" grep -q "cannot listen on 127.0.0.1:$PORT: Address already in use" "$VW_TMP/busy.out"
rm -rf "$VW_TMP/busy" "$VW_TMP/busy.out"

check "create zone $ZA" vwadm create-zone $ZA
check "create zone $ZB" vwadm create-zone $ZB
# no IPv6 in the zones: its autoconfiguration would send frames of its own
# in the background, and the comparisons below need counters at rest
for z in $ZA $ZB; do
	check "IPv6 off in $z" ip netns exec $z sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
check "create etherstub $STUB" vwadm create-etherstub $STUB
check "create VNIC $VA in $ZA" vwadm create-vnic -l $STUB -p zone=$ZA $VA
check "create VNIC $VB in $ZB" vwadm create-vnic -l $STUB -p zone=$ZB $VB
check "address $A4/24 on $VA" vwadm create-addr -a $A4/24 $VA
check "address $B4/24 on $VB" vwadm create-addr -a $B4/24 $VB
check "flow vwtmf: transport=icmp on $VB" vwadm add-flow -l $VB -a transport=icmp vwtmf
check "mirror vwtmmir: $VA to GRE on loopback" vwadm create-mirror -l $VA -t gre:127.0.0.1 vwtmmir
wait_ping 10 $ZA $B4
check "10 pings $ZA -> $ZB" ip netns exec $ZA ping -n -q -c 10 -i 0.05 -W 1 $B4
wait_until 10 "mirror vwtmmir sent the pings both ways" bash -c "[ \$(vwadm show-mirror -p -o pkts vwtmmir) -ge 20 ]"

log "---- scrape"
check "curl $URL" bash -c "curl -s --noproxy 127.0.0.1 -o '$VW_TMP/m.txt' -D '$VW_TMP/m.hdr' -w '%{http_code} %{content_type}\n' '$URL' >'$VW_TMP/m.code'"
read -r code ctype < "$VW_TMP/m.code"
expect_eq "HTTP status" 200 "$code"
expect_eq "content type" "text/plain; version=0.0.4; charset=utf-8" "$ctype"
sed -n '1,12p' "$VW_TMP/m.txt" | _indent
expect_eq "$VA tx packets equal vwstat's OPKTS" "$(vw_counter $VA opkts)" \
	"$(sed -n "s/^vwire_link_tx_packets_total{link=\"$VA\",class=\"vnic\"} //p" "$VW_TMP/m.txt")"
expect_eq "$VB rx bytes equal vwstat's RBYTES" "$(vw_counter $VB rbytes)" \
	"$(sed -n "s/^vwire_link_rx_bytes_total{link=\"$VB\",class=\"vnic\"} //p" "$VW_TMP/m.txt")"
expect_eq "$STUB rx packets equal vwstat's IPKTS" "$(vw_counter $STUB ipkts)" \
	"$(sed -n "s/^vwire_link_rx_packets_total{link=\"$STUB\",class=\"etherstub\"} //p" "$VW_TMP/m.txt")"
fl=$(vwstat show-flow -p -o ipkts vwtmf)
expect_ge "flow vwtmf counted the pings" "$fl" 10
expect_eq "flow vwtmf rx packets equal vwstat show-flow's IPKTS" "$fl" \
	"$(sed -n "s/^vwire_flow_rx_packets_total{flow=\"vwtmf\",link=\"$VB\"} //p" "$VW_TMP/m.txt")"
expect_eq "flow vwtmf connections gauge" 0 \
	"$(sed -n "s/^vwire_flow_connections{flow=\"vwtmf\",link=\"$VB\"} //p" "$VW_TMP/m.txt")"
expect_eq "mirror vwtmmir packets equal show-mirror's PKTS" "$(vwadm show-mirror -p -o pkts vwtmmir)" \
	"$(sed -n 's/^vwire_mirror_packets_total{mirror="vwtmmir"} //p' "$VW_TMP/m.txt")"
expect_eq "mirror vwtmmir bytes equal show-mirror's BYTES" "$(vwadm show-mirror -p -o bytes vwtmmir)" \
	"$(sed -n 's/^vwire_mirror_bytes_total{mirror="vwtmmir"} //p' "$VW_TMP/m.txt")"
expect_eq "mirror vwtmmir drops equal show-mirror's DROPS" "$(vwadm show-mirror -p -o drops vwtmmir)" \
	"$(sed -n 's/^vwire_mirror_drops_total{mirror="vwtmmir"} //p' "$VW_TMP/m.txt")"
expect_eq "rx drops of $VA by cause add up to vwstat's IDROPS" "$(vw_counter $VA idrops)" \
	"$(awk -v l="link=\"$VA\"" 'index($0, "vwire_link_drops_total{" l) == 1 && /direction="rx"/ { s += $2 } END { print s + 0 }' "$VW_TMP/m.txt")"
expect_eq "one worker series per vwstat -w line" "$(vwstat -w -p -o worker | wc -l)" \
	"$(grep -c '^vwire_worker_packets_total{worker="' "$VW_TMP/m.txt")"
for fam in vwire_link_rx_packets_total vwire_link_tx_bytes_total vwire_link_drops_total vwire_flow_drops_total \
	   vwire_flow_connections vwire_worker_packets_total vwire_mirror_packets_total vwire_mirror_bytes_total \
	   vwire_mirror_drops_total; do
	check "HELP and TYPE for $fam" bash -c "grep -q '^# HELP $fam ' '$VW_TMP/m.txt' && grep -q '^# TYPE $fam ' '$VW_TMP/m.txt'"
done
check "every line is a comment or a well-formed sample of a family with a TYPE" python3 - "$VW_TMP/m.txt" <<'PY'
import re, sys
typed, bad = set(), []
for ln in open(sys.argv[1]):
    ln = ln.rstrip("\n")
    m = re.match(r'# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$', ln)
    if m:
        typed.add(m.group(1)); continue
    if re.match(r'# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S', ln):
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{([a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*)\} [0-9]+$', ln)
    if not m or m.group(1) not in typed:
        bad.append(ln)
print("\n".join(bad[:5]))
sys.exit(1 if bad else 0)
PY
if command -v promtool >/dev/null; then
	check "promtool check metrics" bash -c "promtool check metrics < '$VW_TMP/m.txt'"
else
	log "---- promtool not installed: skipped"
fi
check "GET /other is 404" bash -c "[ \"\$(curl -s --noproxy 127.0.0.1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/other)\" = 404 ]"
check "POST /metrics is 405" bash -c "[ \"\$(curl -s --noproxy 127.0.0.1 -o /dev/null -w '%{http_code}' -d x $URL)\" = 405 ]"
check "vwadm still answers after the scrapes" vwadm show-link $VA

vw_stop
expect_eq "vwired exit status" 0 "$VW_STOP_STATUS"
check "port $PORT closed after vwired exited" bash -c "! ss -Hltn 'sport = :$PORT' | grep -q ."
