#!/bin/bash
# shellcheck disable=SC2034 # T_CTX is read by lib.sh
#
# The Grafana dashboard (dist/grafana/horod.json) and the Prometheus rules
# (dist/prometheus/horod-rules.yml) against a live horod, with
# Prometheus's own tools (promtool and prometheus from Debian's prometheus
# package, unpacked into the third-party cache, never installed):
#
# - promtool check rules on the rules (no warning) and promtool test
#   rules on their unit tests (horod-rules.test.yml: each alert fires on
#   its failure and stays silent close to it);
# - the dashboard's structure and the panels operators need
#   (tests/tools/dashcheck.py lint), its expressions checked as PromQL by
#   promtool (as recording rules);
# - a horod with everything that exports metrics (an upstream source, the
#   sim driver, the XDP guard on loopback, traffic with malformed
#   requests): promtool check metrics on a scrape of its /metrics (no
#   warning), every metric and reason the dashboard and rules use is in
#   that scrape;
# - a real prometheus scraping it every second with the rules: the rules
#   load healthy, every dashboard expression returns data, and with the
#   rules' `for:` cut to 0 the upstream's death makes HorodUnsynchronized
#   and HorodSourceLost fire from horod's real metrics.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd curl
PROMTOOL=$(third_party promtool) ||
	skip "no promtool: make test (scripts/install-deps test) unpacks Debian's prometheus package into $("$THIRD_PARTY" cache)"
PROMETHEUS=$(third_party prometheus) ||
	skip "no prometheus: make test (scripts/install-deps test) unpacks Debian's prometheus package into $("$THIRD_PARTY" cache)"
HOROCTL=$HOROD_BUILD/horoctl
HOROBENCH=$HOROD_BUILD/horobench
DASH=$REPO/dist/grafana/horod.json
RULES=$REPO/dist/prometheus/horod-rules.yml
RULES_TEST=$REPO/dist/prometheus/horod-rules.test.yml
DASHCHECK=$TOOLS/dashcheck.py
SYNC_LIMIT=30  # s: iburst at minpoll 0 selects within a few seconds
PROM_LIMIT=20  # s: prometheus starting, then having scraped enough for rate()
ALERT_LIMIT=60 # s: the upstream killed to both alerts firing (holdover 2 s; reach 0 after 8 polls, spaced out as horod backs off)
METRICS_PORT=9123
PROM_PORT=9090

# Run a command, show its output indented; its exit status.
show()
{
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	sed 's/^/    | /' <<<"$out"
	return $rc
}

echo "promtool: $("$PROMTOOL" --version 2>&1 | head -n1)"

# ---- the rules and the dashboard, statically --------------------------------

out=$("$PROMTOOL" check rules "$RULES" 2>&1)
rc=$?
sed 's/^/    | /' <<<"$out"
check "promtool check rules should accept the rules (exit $rc)" [ "$rc" = 0 ]
check "promtool check rules should find the 5 rules" grep -q 'SUCCESS: 5 rules found' <<<"$out"
check "promtool check rules should warn about nothing" not grep -qi 'warn' <<<"$out"
out=$(cd "$(dirname "$RULES_TEST")" && "$PROMTOOL" test rules "$(basename "$RULES_TEST")" 2>&1)
rc=$?
check "promtool test rules should pass the rules' unit tests (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/    | /' <<<"$out" | head -n 40

check "the dashboard should have the structure and panels operators need" \
	show python3 "$DASHCHECK" lint "$DASH"
python3 "$DASHCHECK" rulesfile "$DASH" "$T_DIR/dash-rules.yml" >/dev/null
out=$("$PROMTOOL" check rules "$T_DIR/dash-rules.yml" 2>&1)
rc=$?
n=$(sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p' <<<"$out")
check "every dashboard expression should be valid PromQL (promtool: exit $rc, ${n:-0} checked)" \
	bash -c '[ "$1" = 0 ] && [ "$2" -gt 20 ]' _ "$rc" "${n:-0}"
[ "$rc" = 0 ] || sed 's/^/    | /' <<<"$out" | head -n 20

# ---- a live horod ------------------------------------------------------------

NS=$(ns_name mon)
UPNS=$(ns_name up)
ns_create "$NS"
ns_create "$UPNS"
veth_create "$UPNS" "$NS"
# The upstream: another horod in a namespace of its own, serving its
# clock at stratum 1 on the veth.
write_conf "$T_DIR/up.conf" <<CONF
listen $VETH_SRV4
local stratum 1
control $T_DIR/up.sock
CONF
horod_start "$UPNS" -f "$T_DIR/up.conf" || die "the upstream horod did not start"
UP_PID=$HOROD_PID
UP_LOG=$HOROD_LOG
write_conf "$T_DIR/horod.conf" <<CONF
listen 127.0.0.1
server $VETH_SRV4 iburst minpoll 0 maxpoll 0
driver sim offset 0.001 seed 5
holdover 2
control $T_DIR/horod.sock
metrics listen 127.0.0.1:$METRICS_PORT
guard interface lo mode skb
guard pin $T_DIR/pin
CONF
HOROD_GUARD_FALLBACK_OK=0
horod_start "$NS" -f "$T_DIR/horod.conf" || die "horod did not start"
check "the XDP guard should run on loopback" grep -q 'guard: XDP on lo' "$HOROD_LOG"
synced=0
for _ in $(seq $((SYNC_LIMIT * 4))); do
	if ip netns exec "$NS" "$HOROCTL" -s "$T_DIR/horod.sock" status >/dev/null 2>&1; then
		synced=1
		break
	fi
	sleep 0.25
done
check "horod should synchronize to its upstream within $SYNC_LIMIT s" [ "$synced" = 1 ]

# Traffic for the whole live part: good requests and 20 % malformed ones
# (which the guard drops), at 200/s (bounded: horobench stops by itself).
ip netns exec "$NS" "$HOROBENCH" --rate 200 --duration 60 --malformed 0.2 --sockets 4 \
	127.0.0.1 123 >"$T_DIR/bench.log" 2>&1 &
BENCH_PID=$!
_PIDS+=("$BENCH_PID")
sleep 2

scrape()
{
	ip netns exec "$NS" curl -sf --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics"
}
scrape >"$T_DIR/scrape.txt" || die "cannot scrape http://127.0.0.1:$METRICS_PORT/metrics"
echo "    scrape: $(grep -c '^# TYPE' "$T_DIR/scrape.txt") families, $(grep -vc '^#' "$T_DIR/scrape.txt") samples"
out=$("$PROMTOOL" check metrics <"$T_DIR/scrape.txt" 2>&1)
rc=$?
check "promtool check metrics should accept a live scrape without a warning (exit $rc${out:+: $out})" \
	bash -c '[ "$1" = 0 ] && [ -z "$2" ]' _ "$rc" "$out"
check "every metric and reason the dashboard and rules use should be exported" \
	show python3 "$DASHCHECK" exported "$T_DIR/scrape.txt" "$DASH" "$RULES"
check "the scrape should count the guard's drops" \
	grep -Eq '^horod_guard_packets_total\{reason="drop_[a-z_]+"\} [1-9]' "$T_DIR/scrape.txt"

# ---- a live prometheus -------------------------------------------------------

# The rules as shipped, and a copy with every `for:` at 0 s for the live alerts.
mkdir -p "$T_DIR/prom"
sed 's/^\( *for:\).*/\1 0s/' "$RULES" >"$T_DIR/prom/rules-now.yml"
cat >"$T_DIR/prom/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
  - $T_DIR/prom/rules-now.yml
scrape_configs:
  - job_name: horod
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
CONF
ip netns exec "$NS" "$PROMETHEUS" --config.file="$T_DIR/prom/prometheus.yml" \
	--storage.tsdb.path="$T_DIR/prom/data" --web.listen-address="127.0.0.1:$PROM_PORT" \
	>"$T_DIR/prom/log" 2>&1 &
PROM_PID=$!
_PIDS+=("$PROM_PID")
PROM=http://127.0.0.1:$PROM_PORT
api()
{
	ip netns exec "$NS" curl -sf --max-time 5 "$PROM$1"
}
ready=0
for _ in $(seq $((PROM_LIMIT * 4))); do
	api /-/ready >/dev/null 2>&1 && ready=1 && break
	pid_alive "$PROM_PID" || break
	sleep 0.25
done
if [ "$ready" != 1 ]; then
	tail -n 20 "$T_DIR/prom/log" | sed 's/^/    | /'
	die "prometheus did not get ready within $PROM_LIMIT s"
fi
pass "prometheus $("$PROMETHEUS" --version 2>&1 | awk 'NR == 1 { print $3 }') scrapes horod"
sleep 8 # enough scrapes for rate() over the dashboard's 30 s windows

rules=$(api /api/v1/rules)
health=$(python3 -c 'import json, sys
d = json.loads(sys.argv[1])["data"]["groups"]
r = [x for g in d for x in g["rules"]]
print(len(r), sum(x["health"] == "ok" for x in r))' "$rules" 2>/dev/null)
check "prometheus should load the 5 rules twice, every one healthy (loaded, healthy: ${health:-none})" \
	[ "$health" = "10 10" ]
check "every dashboard expression should return data from prometheus" \
	show ip netns exec "$NS" python3 "$DASHCHECK" --rate 30s query "$PROM" "$DASH"

# The upstream dies: horod holds over 2 s, then serves LI 3; its source's
# reach falls to 0 after 8 unanswered polls. Both alerts (for: 0s) fire.
HOROD_PID=$UP_PID HOROD_LOG=$UP_LOG horod_stop
t0=$(date +%s)
firing=""
t_unsync=""
t_lost=""
while [ $(($(date +%s) - t0)) -lt "$ALERT_LIMIT" ]; do
	firing=$(api /api/v1/alerts | python3 -c 'import json, sys
a = json.load(sys.stdin)["data"]["alerts"]
print(" ".join(sorted({x["labels"]["alertname"] for x in a if x["state"] == "firing"})))' 2>/dev/null)
	[ -z "$t_unsync" ] && grep -qw HorodUnsynchronized <<<"$firing" && t_unsync=$(($(date +%s) - t0))
	[ -z "$t_lost" ] && grep -qw HorodSourceLost <<<"$firing" && t_lost=$(($(date +%s) - t0))
	[ -n "$t_unsync" ] && [ -n "$t_lost" ] && break
	sleep 0.5
done
echo "    after the upstream died: HorodUnsynchronized firing at ${t_unsync:-never} s, HorodSourceLost at ${t_lost:-never} s (firing: ${firing:-nothing})"
check "HorodUnsynchronized should fire from horod's metrics once it serves LI 3" \
	grep -qw HorodUnsynchronized <<<"$firing"
check "HorodSourceLost should fire from horod's metrics once its source's reach is 0" \
	grep -qw HorodSourceLost <<<"$firing"
check "HorodRootDistanceHigh should not fire (horod's root distance stays small)" \
	not grep -qw HorodRootDistanceHigh <<<"$firing"

kill "$BENCH_PID" 2>/dev/null
kill "$PROM_PID" 2>/dev/null
horod_stop
finish
