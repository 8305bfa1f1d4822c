#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# horoctl against a running horod. A real chronyd (stratum 1) serves on
# 127.0.0.2 in a namespace; horod follows it with the sim driver, its
# control socket in T_DIR and `metrics listen 127.0.0.1:9123`. Every
# query command is run in text and --json (the JSON parsed by python3);
# status exits 2 with no daemon, 0 once synchronised and 1 for a horod
# with no time source; after a known number of requests, the counters in
# `horoctl metrics`, in GET /metrics over HTTP and in `horoctl
# serverstats` all equal the SIGUSR1 counters line.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd setpriv
need_chronyd
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$HOROCTL" ] || skip "no horoctl built"
SRV=$(ns_name srv)
ns_create "$SRV"

SYNC_LIMIT=60 # s: time allowed for `horoctl status` to say synchronised
N_OK=5        # valid client requests sent
N_SHORT=3     # 20-byte datagrams sent (drop_short)
MPORT=9123    # metrics port

SOCK=$T_DIR/run/horod.sock # a directory horod must create
ctl() { "$HOROCTL" -s "$SOCK" "$@"; }
# Run python3 CODE with JSON on stdin; exit status is the check's.
pyjson() { python3 -c "import json,sys; d=json.load(sys.stdin); $1" "${@:2}"; }

out=$("$HOROCTL" -s "$T_DIR/none.sock" status 2>&1)
rc=$?
check "status with no daemon exits 2 (got $rc)" [ "$rc" = 2 ]
check "status with no daemon says it cannot reach horod" grep -q "cannot reach horod" <<<"$out"

chronyd_upstream "$SRV" 127.0.0.2 1 || die "no upstream"
conf=$T_DIR/horod.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
driver sim offset 0.01 freq 10 seed 1
workers 2
control $SOCK
metrics listen 127.0.0.1:$MPORT
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
check "control socket created with mode 0660" [ "$(stat -c %a "$SOCK" 2>/dev/null)" = 660 ]

synced=""
for t in $(seq "$SYNC_LIMIT"); do
	if status=$(ctl status); then
		synced=$t
		break
	fi
	sleep 1
done
check "status exits 0 once synchronised (after ${synced:-never} s)" [ -n "$synced" ]
echo "$status" | sed 's/^/    | /'
check "status names the NTP server and stratum 2" \
	grep -q "^synchronised to NTP server (127.0.0.2) at stratum 2$" <<<"$status"
check "status gives the root distance" grep -qE "^   time correct to within [0-9]+ ms$" <<<"$status"
check "status gives the poll interval" grep -q "^   polling server every 1 s$" <<<"$status"
check "status --json: synced 1, server 127.0.0.2, stratum 2" pyjson \
	'sys.exit(not (d["synced"] == 1 and d["server"] == "127.0.0.2" and d["stratum"] == 2))' \
	< <(ctl status --json)

tr=$(ctl tracking)
check "tracking shows the reference ID" grep -q "^Reference ID *: 127.0.0.2$" <<<"$tr"
for f in "Stratum" "Ref time (UTC)" "System time" "Last offset" "RMS offset" "Frequency" \
	"Residual freq" "Skew" "Root delay" "Root dispersion" "Update interval" "Leap status" \
	"True error (sim)"; do
	check "tracking shows $f" grep -qF "$f" <<<"$tr"
done
check "tracking --json has every field, numbers as numbers" pyjson \
	'k = ["refid", "stratum", "ref_time", "system_offset", "last_offset", "rms_offset", "frequency", "residual_frequency", "skew", "root_delay", "root_dispersion", "update_interval", "leap", "true_error"]; sys.exit(not (all(x in d for x in k) and isinstance(d["frequency"], float) and d["refid"] == "127.0.0.2"))' \
	< <(ctl tracking --json)

src=$(ctl sources)
echo "$src" | sed 's/^/    | /'
check "sources has the ntpq -p header" grep -q "remote *refid *st t when poll reach *delay *offset *jitter" <<<"$src"
check "sources shows 127.0.0.2 as the system peer (*), stratum 1, reach in octal" \
	grep -qE '^\*127\.0\.0\.2 .* 1 u +[0-9-]+ +1 +[0-7]{3} ' <<<"$src"
check "sources --json: one source, tally *, flash_names a list" pyjson \
	's = d["sources"]; sys.exit(not (len(s) == 1 and s[0]["tally"] == "*" and s[0]["name"] == "127.0.0.2" and s[0]["reach"] > 0 and isinstance(s[0]["flash_names"], list)))' \
	< <(ctl sources --json)

cfgtext=$(ctl config)
check "config shows the control socket and metrics endpoint" \
	grep -q "^control $SOCK$" <<<"$cfgtext"
check "config shows metrics listen" grep -q "^metrics listen 127.0.0.1:$MPORT$" <<<"$cfgtext"
check "config shows defaults too (maxdistance)" grep -q "^maxdistance 1.5$" <<<"$cfgtext"
check "config --json is the same text" pyjson "sys.exit(d['config'] != sys.argv[1] + '\n')" \
	"$cfgtext" < <(ctl config --json)

# A known number of requests: N_OK valid mode 3 requests (answered) and
# N_SHORT short datagrams (drop_short), from inside the namespace.
counters_mark
ip netns exec "$SRV" python3 - "$N_OK" "$N_SHORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(int(sys.argv[1])):
    s.sendto(b"\x23" + b"\0" * 39 + b"\x01" * 8, ("127.0.0.1", 123))
    s.recvfrom(512)
for _ in range(int(sys.argv[2])):
    s.sendto(b"\x23" * 20, ("127.0.0.1", 123))
PY
expect_deltas "known requests" "received=$((N_OK + N_SHORT)) reply_server=$N_OK drop_short=$N_SHORT"
horod_counters_settled || die "no counters line"

# Every counter of the SIGUSR1 line against one metrics text (stdin).
metrics_match()
{
	python3 -c '
import re, sys
line = sys.argv[1].split("counters ", 1)[1].split()
want = dict(kv.split("=", 1) for kv in line)
text = sys.stdin.read()
typed, bad, got = set(), [], {}
for l in text.splitlines():
    if l.startswith("# TYPE "):
        typed.add(l.split()[2]); continue
    if l.startswith("#"): continue
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\"\})? (\S+)$", l)
    if not m: bad.append("unparsable: " + l); continue
    if m.group(1) not in typed: bad.append("sample before TYPE: " + l)
    got[m.group(1) + (m.group(2) or "")] = m.group(3)
def metric(k):
    if k == "received": return "horod_requests_received_total"
    if k == "xdp": return "horod_requests_xdp_total"
    if k.startswith("ts_"): return "horod_rx_timestamps_total{source=\"%s\"}" % k[3:]
    if k.startswith("ke_"): return "horod_ntske_sessions_total{outcome=\"%s\"}" % k[3:]
    if k.startswith("nts_") or k.startswith("mac_"): return "horod_auth_requests_total{outcome=\"%s\"}" % k
    if k in ("basic", "interleaved"): return "horod_replies_mode_total{mode=\"%s\"}" % k
    if k.startswith("interleaved_"): return "horod_interleaved_tx_total{source=\"%s\"}" % k[12:]
    if k == "tx_stamps": return "horod_tx_stamps_total"
    if k == "tx_unmatched": return "horod_tx_stamps_unmatched_total"
    if k == "xleave_evicted": return "horod_xleave_evicted_total"
    if k == "kernel_dropped": return "horod_kernel_dropped_total"
    return "horod_requests_total{reason=\"%s\"}" % k
for k, v in want.items():
    if got.get(metric(k)) != v: bad.append("%s: counters %s, metrics %s" % (k, v, got.get(metric(k))))
for k in ("horod_stratum", "horod_root_dispersion_seconds", "horod_offset_seconds", "horod_frequency_ppm", "horod_source_offset_seconds{source=\"127.0.0.2\"}"):
    if k not in got: bad.append("missing " + k)
if bad: print("\n".join(bad))
sys.exit(1 if bad else 0)' "$HOROD_COUNTERS"
}
check "horoctl metrics: every counter equals the SIGUSR1 line, HELP/TYPE first" \
	metrics_match < <(ctl metrics)
http_get()
{
	ip netns exec "$SRV" python3 -c '
import sys, urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), method=sys.argv[3])
try:
    r = urllib.request.urlopen(req, timeout=5)
    print(r.status, r.headers.get("Content-Type"), file=sys.stderr)
    sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)' "$MPORT" "$1" "${2:-GET}"
}
check "GET /metrics over HTTP: every counter equals the SIGUSR1 line" metrics_match < <(http_get /metrics 2>/dev/null)
check "GET /metrics has the Prometheus content type" \
	grep -q "^200 text/plain; version=0.0.4" < <(http_get /metrics 2>&1 >/dev/null)
check "GET /other is 404" [ "$(http_get /other)" = 404 ]
check "POST /metrics is 405" [ "$(http_get /metrics POST)" = 405 ]
check "metrics --json maps samples to numbers" pyjson \
	"sys.exit(d['metrics']['horod_requests_total{reason=\"reply_server\"}'] != $(counter reply_server))" \
	< <(ctl metrics --json)

st=$(ctl serverstats)
echo "$st" | head -n 8 | sed 's/^/    | /'
check "serverstats: received equals the counters line" \
	grep -q "^Requests received  : $(counter received)$" <<<"$st"
check "serverstats: reply_server by reason" grep -qE "^  reply_server +$(counter reply_server)$" <<<"$st"
check "serverstats: drop_short by reason" grep -qE "^  drop_short +$(counter drop_short)$" <<<"$st"
check "serverstats --json: totals, reasons and 2 workers that add up" pyjson \
	"w = d['per_worker']; sys.exit(not (d['received'] == $(counter received) and d['reasons']['reply_server'] == $(counter reply_server) and d['timestamps']['kernel'] == $(counter ts_kernel) and len(w) == 2 and sum(x['received'] for x in w) + d['xdp'] == d['received'] and d['xdp'] == $(counter xdp)))" \
	< <(ctl serverstats --json)

# The client log: the one client (127.0.0.1) with every request and drop
# above — behind the XDP guard (HOROD_TEST_GUARD), only what the guard
# passed reaches the workers' log: the short ones are dropped before.
CL_REQ=$((N_OK + N_SHORT)) CL_DROP=$N_SHORT
if [ "$HOROD_GUARDED" = 1 ]; then
	CL_REQ=$N_OK CL_DROP=0
	check "serverstats: the short requests were dropped by XDP" [ "$(counter xdp)" = "$N_SHORT" ]
else
	check "no guard: nothing counted as dropped by XDP" [ "$(counter xdp)" = 0 ]
fi
cl=$(ctl clients)
echo "$cl" | sed 's/^/    | /'
check "clients lists 127.0.0.1 with $CL_REQ requests, $CL_DROP dropped" \
	grep -qE "^127\.0\.0\.1 +$CL_REQ +$CL_DROP " <<<"$cl"
check "clients --json: one client, requests and dropped as numbers, last seen < 60 s" pyjson \
	"t = d['top']; sys.exit(not (d['tracked'] == 1 and len(t) == 1 and t[0]['address'] == '127.0.0.1' and t[0]['requests'] == $CL_REQ and t[0]['dropped'] == $CL_DROP and 0 <= t[0]['last'] < 60 and t[0]['interval'] >= 0))" \
	< <(ctl clients --json)

# Garbage on the control socket: an error answer, the connection closed, horod fine.
garbage=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(sys.argv[1])
s.sendall(b"GET / HTTP/1.0\r\n\r\n"); d = b""
while True:
    x = s.recv(4096)
    if not x: break
    d += x
print(d[16:].decode())' "$SOCK")
check "garbage on the control socket is answered with an error (got '$garbage')" \
	grep -q "bad magic" <<<"$garbage"
check "horod still answers after garbage" ctl status >/dev/null

check "help status is a manual page with exit codes" grep -q "EXIT STATUS" < <("$HOROCTL" help status)
for c in status tracking sources serverstats config metrics clients; do
	check "$c --help prints its page" grep -q "^NAME" < <("$HOROCTL" "$c" --help)
done
# Every command horoctl --help lists has a manual page (NAME ... EXIT STATUS).
for c in $("$HOROCTL" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p'); do
	check "horoctl help $c is a manual page" \
		bash -c '[ "$(grep -c "^NAME$\|^SYNOPSIS$\|^DESCRIPTION$\|^EXIT STATUS$" <<<"$1")" = 4 ]' _ \
		"$("$HOROCTL" help "$c")"
done

horod_stop
check "horod exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
check "the control socket is removed at exit" [ ! -e "$SOCK" ]

# An unsynchronised horod: no source, no local reference.
write_conf "$conf" <<CONF
listen 127.0.0.1
control $SOCK
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
out=$(ctl status)
rc=$?
check "status of an unsynchronised horod exits 1 (got $rc)" [ "$rc" = 1 ]
check "status says unsynchronised" [ "$out" = unsynchronised ]
check "status --json says synced 0" pyjson 'sys.exit(d["synced"] != 0)' < <(ctl status --json)
horod_stop
finish
