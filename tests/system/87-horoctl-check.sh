#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# `horoctl check` against real and fake servers, in one namespace on
# loopback addresses: horod with `local stratum 7` and a real chronyd
# (`local stratum 1`) must be accepted by every client model (exit 0); the
# test's own responder (tests/tools/fakentp.py) answering like w32time
# (stratum 1, refid LOCL, root dispersion 10.3 s) must be rejected by the
# ntpd and chrony models with 0x400 peer_dist and get the w32tm fix
# (exit 1); LI 3, a RATE kiss-o'-death and a wrong origin must be rejected
# for those reasons (exit 1); a responder that never answers and a port
# nothing listens on must be unreachable (exit 2) within the timeout.
# Every case runs twice: text, and --json parsed by python3.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd setpriv
need_chronyd
HOROCTL=${HOROCTL:-$HOROD_BUILD/horoctl}
[ -x "$HOROCTL" ] || die "no horoctl binary at $HOROCTL"
FAKENTP=$TOOLS/fakentp.py
SRV=$(ns_name srv)
ns_create "$SRV"

FAKE_LIFETIME=60 # s: the fake responders exit by themselves after this
CHECK_TIMEOUT=1  # s: horoctl check --timeout
SILENT_BOUND=4   # s: an unreachable check must end within this (0.6 s sending + 1 s)

# fake ADDR ARGS...: start fakentp.py on ADDR:123 in the namespace; waits for `ready`.
fake()
{
	local addr=$1 log
	shift
	log=$T_DIR/fake-$addr.log
	ip netns exec "$SRV" python3 "$FAKENTP" --addr "$addr" --port 123 \
		--lifetime "$FAKE_LIFETIME" "$@" >"$log" 2>&1 &
	_PIDS+=("$!")
	for _ in $(seq 50); do
		grep -q '^ready' "$log" && return 0
		sleep 0.1
	done
	sed 's/^/    | /' "$log"
	die "fakentp on $addr did not start"
}

# run_check TARGET: runs horoctl check (text, then --json); sets OUT, RC, JSON, JRC, SECS.
run_check()
{
	local t0
	t0=$(date +%s.%N)
	OUT=$(ip netns exec "$SRV" "$HOROCTL" check "$1" --timeout "$CHECK_TIMEOUT" 2>&1)
	RC=$?
	SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	JSON=$(ip netns exec "$SRV" "$HOROCTL" check "$1" --timeout "$CHECK_TIMEOUT" --json 2>&1)
	JRC=$?
}

# jq_true EXPR: python3 evaluates EXPR on the parsed JSON (bound to j).
jq_true()
{
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$JSON" "$1" 2>/dev/null
}

# show: the text report, indented, for the log.
show()
{
	sed 's/^/    | /' <<<"$OUT"
}

# --- horod, local stratum 7: accepted by all ---------------------------------
T_CTX=horod
conf=$T_DIR/horod.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
local stratum 7
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
run_check 127.0.0.1
show
check "exit 0 (accepted by all), got $RC" [ "$RC" = 0 ]
check "stratum 7 reported" grep -q "stratum 7," <<<"$OUT"
check "every verdict is accept" [ "$(grep -c ' accept: ' <<<"$OUT")" = 4 ]
check "--json: exit 0, stratum 7, every client accepts" \
	jq_true 'j["exit"] == 0 and j["stratum"] == 7 and all(v["accept"] for v in j["verdicts"].values())'
check "--json exit status 0, got $JRC" [ "$JRC" = 0 ]
horod_stop

# --- a real chronyd: accepted -------------------------------------------------
T_CTX=chronyd
if chronyd_upstream "$SRV" 127.0.0.2 1; then
	run_check 127.0.0.2
	show
	check "exit 0 (accepted by all), got $RC" [ "$RC" = 0 ]
	check "--json: stratum 1, all accept, 4 usable replies" \
		jq_true 'j["exit"] == 0 and j["stratum"] == 1 and j["valid"] == 4'
else
	fail "chronyd did not start"
fi

# --- w32time-like: stratum 1, LOCL, 10.3 s ------------------------------------
T_CTX=w32time
fake 127.0.0.3 --stratum 1 --refid LOCL --root-dispersion 10.3
run_check 127.0.0.3
show
check "exit 1 (rejected), got $RC" [ "$RC" = 1 ]
check "ntpd verdict: reject 0x400 peer_dist, root distance 10.3x s > 1.5 s" \
	grep -Eq "ntpd/NTPsec +reject: 0x400 peer_dist, root distance 10\.3[0-9] s > 1\.5 s" <<<"$OUT"
check "chrony verdict: reject 0x400 peer_dist > 3 s" \
	grep -Eq "chrony +reject: 0x400 peer_dist, root distance 10\.3[0-9] s > 3 s" <<<"$OUT"
check "the w32tm fix is printed" grep -q "w32tm /config /localclockdispersion:0 /update" <<<"$OUT"
check "the w32tm resync is printed" grep -q "w32tm /resync /rediscover" <<<"$OUT"
check "client fixes are printed" grep -q "tos maxdist 12" <<<"$OUT"
check "--json: ntpd and chrony reject with peer_dist, w32time_like, refid LOCL" \
	jq_true 'j["exit"] == 1 and j["w32time_like"] and j["refid"] == "LOCL" and all("peer_dist" in j["verdicts"][c]["flash_names"] and not j["verdicts"][c]["accept"] for c in ("ntpd", "chrony"))'

# --- unsynchronized: LI 3 ------------------------------------------------------
T_CTX=leap3
fake 127.0.0.4 --leap 3 --stratum 2 --refid 192.0.2.9 --root-dispersion 0.01
run_check 127.0.0.4
show
check "exit 1, got $RC" [ "$RC" = 1 ]
check "rejected as unsynchronized (LI 3)" grep -q "reject: .*server unsynchronized (LI 3" <<<"$OUT"
check "--json: every client rejects with pkt_stratum" \
	jq_true 'j["exit"] == 1 and j["leap"] == 3 and all("pkt_stratum" in v["flash_names"] and not v["accept"] for v in j["verdicts"].values())'

# --- kiss-o'-death RATE ----------------------------------------------------------
T_CTX=kod
fake 127.0.0.5 --kod RATE
run_check 127.0.0.5
show
check "exit 1, got $RC" [ "$RC" = 1 ]
check "the RATE KoD is explained" grep -q "kiss-o'-death RATE: the server rate-limits" <<<"$OUT"
check "--json: kod_code RATE" jq_true 'j["kod_code"] == "RATE" and j["exit"] == 1'

# --- wrong origin ----------------------------------------------------------------
T_CTX=origin
fake 127.0.0.6 --stratum 2 --refid 192.0.2.9 --root-dispersion 0.01 --wrong-origin
run_check 127.0.0.6
show
check "exit 1, got $RC" [ "$RC" = 1 ]
check "rejected for the origin mismatch" grep -q "origin mismatch" <<<"$OUT"
check "--json: pkt_bogus, 4 bogus replies" \
	jq_true '"pkt_bogus" in j["flash_names"] and j["bogus"] == 4'

# --- silence: a responder that never answers, and a closed port ---------------
T_CTX=silent
fake 127.0.0.7 --silent
run_check 127.0.0.7
show
check "exit 2 (unreachable), got $RC" [ "$RC" = 2 ]
check "ended within $SILENT_BOUND s (took $SECS s)" awk -v s="$SECS" -v b="$SILENT_BOUND" 'BEGIN { exit !(s < b) }'
check "--json: exit 2, nothing answered, peer_unreach" \
	jq_true 'j["exit"] == 2 and j["answered"] == 0 and j["flash_names"] == ["peer_unreach"]'
check "--json exit status 2, got $JRC" [ "$JRC" = 2 ]
run_check 127.0.0.8:4123
check "closed port: exit 2, got $RC, within $SILENT_BOUND s ($SECS s)" \
	awk -v r="$RC" -v s="$SECS" -v b="$SILENT_BOUND" 'BEGIN { exit !(r == 2 && s < b) }'

# --- usage -------------------------------------------------------------------------
T_CTX=usage
check "check --help prints the usage" grep -q "Usage: horoctl check HOST" \
	<<<"$("$HOROCTL" check --help)"
check "a bad -n is a usage error (exit 3)" \
	bash -c '"$1" check 127.0.0.1 -n 99 >/dev/null 2>&1; [ $? = 3 ]' _ "$HOROCTL"
check "horoctl help check describes it" grep -q "check HOST" <<<"$("$HOROCTL" help check 2>&1)"
check "horoctl --help lists check" grep -q "^  check HOST" <<<"$("$HOROCTL" --help)"
finish
