#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# horobench works and tells good servers from broken ones. Against horod
# (one namespace, once per io mode): an open-loop run over 127.0.0.1 with
# 10 % malformed requests of every kind must get only valid replies, lose
# < 1 % of the well-formed ones at a modest rate, print JSON that parses,
# measure offsets from kernel stamps, and horod's counters must account
# for each malformed kind exactly; closed-loop runs over ::1 and across a
# veth pair from two source addresses must be valid too. Against the floor
# responder the replies are valid; against the same responder in echo mode
# (every request sent back unchanged, a broken server) every reply must be
# counted invalid and horobench must exit 1. Bad options exit 2.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init

# UDP datagrams namespace NS's kernel dropped so far because a socket's
# receive buffer was full (RcvbufErrors).
rcvbuf_drops()
{
	ip netns exec "$1" awk '/^Udp:/ { if (n++) print $6 }' /proc/net/snmp
}
HB=$HOROD_BUILD/horobench
[ -x "$HB" ] || die "no horobench binary at $HB (run make all)"
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

RATE=20000     # requests/s: modest, far below saturation on any machine we run on
LOSS_MAX=0.01  # the loss horobench may see at that rate (VM stalls)
ECHO_PORT=1123 # the floor responder's port

# Value of a (dotted) key in the JSON object $1; empty when absent or unparsable.
jget()
{
	python3 -c 'import json, sys
try:
    v = json.loads(sys.argv[1])
    for k in sys.argv[2].split("."):
        v = v[k]
except (ValueError, KeyError, TypeError):
    sys.exit(1)
print(v)' "$1" "$2" 2>/dev/null
}

# hb NS ARGS...: run horobench in NS; sets HB_OUT (its JSON line) and HB_RC.
hb()
{
	local ns=$1
	shift
	HB_OUT=$(timeout 20 ip netns exec "$ns" "$HB" -j "$@" 2>"$T_DIR/hb.err")
	HB_RC=$?
}

# valid_run WHAT: the last run had valid replies only, loss < LOSS_MAX, exit 0.
valid_run()
{
	local what=$1 v inv loss
	v=$(jget "$HB_OUT" valid)
	inv=$(jget "$HB_OUT" invalid)
	loss=$(jget "$HB_OUT" loss)
	if [ "$HB_RC" = 0 ] && [ "${v:-0}" -gt 0 ] && [ "$inv" = 0 ] &&
		awk -v l="${loss:-1}" -v m=$LOSS_MAX 'BEGIN { exit !(l < m) }'; then
		pass "$what: $v valid, 0 invalid, loss $loss"
	else
		fail "$what: want valid > 0, invalid 0, loss < $LOSS_MAX, exit 0; got exit $HB_RC"
		echo "    | ${HB_OUT:-$(head -c 400 "$T_DIR/hb.err")}" | cut -c1-600
	fi
}

for io in $HOROD_IO_MODES; do
	T_CTX="io=$io"
	conf=$T_DIR/horod-$io.conf
	write_conf "$conf" <<CONF
listen 127.0.0.1
listen ::1
listen $VETH_SRV4
local stratum 10
workers 1
io $io
CONF
	if ! horod_start "$SRV" -f "$conf"; then
		fail "horod did not start"
		continue
	fi
	# The counters must account for every request sent: a run in which
	# the kernel dropped some (a full receive buffer: the machine stalled
	# and horod never saw them) is run once more.
	for try in 1 2; do
		counters_mark
		kd0=$(rcvbuf_drops "$SRV")
		hb "$SRV" -r $RATE -d 1 -m 0.1 127.0.0.1
		kd=$(($(rcvbuf_drops "$SRV") - kd0))
		[ "$kd" = 0 ] && break
		echo "    the kernel dropped $kd requests (full receive buffer) in try $try"
	done
	valid_run "open loop $RATE/s over 127.0.0.1, 10 % malformed"
	check "the JSON parses and has every field" \
		python3 -c 'import json, sys
d = json.loads(sys.argv[1])
for k in ("sent", "answered", "valid", "invalid", "loss", "answered_rate", "rtt_us",
          "residence_us", "offset_us", "invalid_reasons", "malformed"):
    assert k in d, k
for k in ("p50", "p90", "p99", "p99_9"):
    assert k in d["rtt_us"] and k in d["residence_us"] and k in d["offset_us"], k' "$HB_OUT"
	offs=$(jget "$HB_OUT" offset_us.samples)
	absp50=$(jget "$HB_OUT" offset_us.abs_p50)
	check "offsets measured from kernel stamps ($offs samples, |offset| p50 $absp50 us < 1000)" \
		awk -v n="${offs:-0}" -v a="${absp50:-1e9}" 'BEGIN { exit !(n > 1000 && a < 1000) }'
	check "no malformed request answered" [ "$(jget "$HB_OUT" malformed_answered)" = 0 ]
	expect_deltas "horod counted each kind of malformed request" \
		"received=$(jget "$HB_OUT" sent) reply_server=$(jget "$HB_OUT" answered) \
		drop_short=$(jget "$HB_OUT" malformed.short) drop_version=$(jget "$HB_OUT" malformed.badversion) \
		drop_mode_private=$(jget "$HB_OUT" malformed.mode7) control=$(jget "$HB_OUT" malformed.mode6) \
		drop_extension=$(jget "$HB_OUT" malformed.badext)"

	hb "$SRV" -w 16 -d 0.5 ::1
	valid_run "closed loop over ::1"
	hb "$CLI" -w 16 -d 0.5 -n 8 -s $VETH_CLI4 -s $VETH_CLI4B $VETH_SRV4
	valid_run "closed loop across the veth pair from two source addresses"
	horod_stop
done
T_CTX=""

# The floor responder answers validly; in echo mode it is a broken server.
ip netns exec "$SRV" "$HB" respond --duration 30 127.0.0.1 $ECHO_PORT >"$T_DIR/floor.log" 2>&1 &
_PIDS+=($!)
FPID=$!
for _ in $(seq 50); do
	udp_bound "$SRV" $ECHO_PORT && break
	sleep 0.1
done
hb "$SRV" -w 16 -d 0.5 127.0.0.1 $ECHO_PORT
valid_run "the floor responder's replies"
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null

ip netns exec "$SRV" "$HB" respond --echo --duration 30 127.0.0.1 $ECHO_PORT >"$T_DIR/echo.log" 2>&1 &
_PIDS+=($!)
EPID=$!
for _ in $(seq 50); do
	udp_bound "$SRV" $ECHO_PORT && break
	sleep 0.1
done
hb "$SRV" -r 2000 -d 0.5 127.0.0.1 $ECHO_PORT
inv=$(jget "$HB_OUT" invalid)
unk=$(jget "$HB_OUT" invalid_reasons.unknown_origin)
if [ "$HB_RC" = 1 ] && [ "$(jget "$HB_OUT" valid)" = 0 ] && [ "${inv:-0}" -gt 0 ] && [ "$unk" = "$inv" ]; then
	pass "an echoing server: all $inv replies invalid (unknown origin), exit 1"
else
	fail "an echoing server: want every reply invalid and exit 1; got exit $HB_RC: $HB_OUT"
fi
kill "$EPID" 2>/dev/null
wait "$EPID" 2>/dev/null

for bad in "--duration 61" "--rate 0" "--malformed 2" "--kinds nosuch" "--window x"; do
	# shellcheck disable=SC2086 # split on purpose
	"$HB" $bad 127.0.0.1 >/dev/null 2>&1
	check "horobench $bad is a usage error (exit 2)" [ $? = 2 ]
done
check "horobench --help documents the options" sh -c "'$HB' --help | grep -q -- --malformed"
finish
