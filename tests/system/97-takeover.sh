#!/bin/bash
# shellcheck disable=SC2034 # T_CTX is read by lib.sh
#
# Restarts that lose nothing: `horod --takeover` under 20,000 requests/s
# (horobench, across a veth). In the first io mode ten takeovers in a
# row, three in the other; each successor must take over (its log says
# the predecessor drained and stopped), each predecessor exit 0, the
# pidfile name the last one, and the load see no invalid reply and at
# most 0.1 % lost (the issue's goal) over the whole run. For comparison,
# the same load over a plain stop and start (what a restart was before):
# its loss is printed. Then a successor that has its own clock to catch
# up: horod follows an upstream (the sim driver); the successor waits
# until it serves synchronized time before it takes over, so the load
# never gets an unsynchronized reply (LI 3 counts as invalid). Then
# takeovers that must not happen change nothing: no horod to take over
# from, a successor with a configuration error. Last, two takeovers from
# a horod that dropped its privileges (`user nobody`, `seccomp 1`: what
# the package's upgrade does with `user _horod`), under the same load.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
HB=$HOROD_BUILD/horobench
HOROCTL=$HOROD_BUILD/horoctl
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

RATE=20000        # requests/s: the issue's load
LOSS_GOAL=0.001   # 0.1 % over the run
TAKEOVER_LIMIT=20 # s: a successor's start to its predecessor gone (sync wait included)
SYNC_LIMIT=30     # s: horod synchronized to its upstream
CONF=$T_DIR/horod.conf
PIDF=$T_DIR/horod.pid

# Value of a key of the JSON object $1; empty when absent or unparsable.
jget()
{
	python3 -c 'import json, sys
try:
    print(json.loads(sys.argv[1])[sys.argv[2]])
except (ValueError, KeyError, TypeError):
    sys.exit(1)' "$1" "$2" 2>/dev/null
}

# Take over from the running horod (HOROD_PID): start a successor, wait
# for the predecessor to go; HOROD_PID/HOROD_LOG become the successor's.
# Returns 1 (with the logs shown) when it did not happen.
takeover()
{
	local log=$T_DIR/successor.$1.log old=$HOROD_PID i rc
	env --default-signal=INT,QUIT ip netns exec "$SRV" "$HOROD" -n --takeover -f "$CONF" \
		>"$log" 2>&1 &
	local new=$!
	_PIDS+=("$new")
	for i in $(seq $((TAKEOVER_LIMIT * 20))); do
		grep -q 'this horod serves alone' "$log" && ! pid_alive "$old" && break
		pid_alive "$new" || break
		sleep 0.05
	done
	if ! grep -q 'this horod serves alone' "$log" || pid_alive "$old"; then
		echo "takeover $1 did not complete; the successor's log:"
		sed 's/^/    | /' "$log"
		return 1
	fi
	wait "$old" 2>/dev/null
	rc=$?
	[ "$rc" = 0 ] || echo "predecessor $old exited with $rc"
	HOROD_PID=$new
	HOROD_LOG=$log
	return "$rc"
}

# UDP datagrams namespace $1's kernel dropped so far for a full receive
# buffer (RcvbufErrors): what a stall of this shared machine costs, on
# the server's side before any horod sees a request, on the client's
# before horobench sees a reply.
rcvbuf_drops()
{
	ip netns exec "$1" awk '/^Udp:/ { if (n++) print $6 }' /proc/net/snmp
}

# Start the load (DURATION s) in the background; its JSON into $T_DIR/bench.json.
load()
{
	KD_SRV=$(rcvbuf_drops "$SRV")
	KD_CLI=$(rcvbuf_drops "$CLI")
	ip netns exec "$CLI" "$HB" --rate "$RATE" --duration "$1" --json "$VETH_SRV4" 123 \
		>"$T_DIR/bench.json" 2>"$T_DIR/bench.err" &
	BENCH=$!
	_PIDS+=("$BENCH")
}

# Wait for the load and print its line; sets LOSS and INVALID.
load_done()
{
	local out
	wait "$BENCH"
	out=$(cat "$T_DIR/bench.json")
	LOSS=$(jget "$out" loss)
	INVALID=$(jget "$out" invalid)
	echo "    $1: sent $(jget "$out" sent), valid $(jget "$out" valid), invalid $INVALID, lost $(jget "$out" lost) ($LOSS);" \
		"full receive buffers meanwhile: server $(($(rcvbuf_drops "$SRV") - KD_SRV)), client $(($(rcvbuf_drops "$CLI") - KD_CLI))"
}

first=${HOROD_IO_MODES%% *}
for IO in $HOROD_IO_MODES; do
	T_CTX="io $IO"
	n=3
	[ "$IO" = "$first" ] && n=10
	write_conf "$CONF" <<CONF
listen $VETH_SRV4
local stratum 2
control $T_DIR/horod.sock
pidfile $PIDF
workers 2
io $IO
CONF
	horod_start "$SRV" -f "$CONF" || die "horod did not start"
	load $((n + 4))
	sleep 1.5
	done_n=0
	for k in $(seq "$n"); do
		takeover "$IO.$k" || break
		done_n=$k
		sleep 0.7
	done
	load_done "$n takeovers"
	check "$n takeovers in a row should each complete, every predecessor exiting 0 ($done_n did)" \
		[ "$done_n" = "$n" ]
	check "the load should get no invalid reply over $n takeovers ($INVALID)" [ "${INVALID:-1}" = 0 ]
	check "the load should lose at most $LOSS_GOAL over $n takeovers (lost $LOSS)" \
		awk -v l="${LOSS:-1}" -v g="$LOSS_GOAL" 'BEGIN { exit !(l <= g) }'
	check "the pidfile should name the last successor" grep -qx "$HOROD_PID" "$PIDF"
	check "horoctl should reach the last successor through the same socket" \
		ip netns exec "$SRV" "$HOROCTL" -s "$T_DIR/horod.sock" status
	if [ "$IO" = "$first" ]; then
		# The old way, for comparison: stop, then start.
		load 5
		sleep 1.5
		horod_stop
		horod_start "$SRV" -f "$CONF" || die "horod did not start again"
		load_done "one stop and start (for comparison)"
	fi
	horod_stop
	check "the last horod should stop cleanly (exit $HOROD_RC)" [ "$HOROD_RC" = 0 ]
done
T_CTX=""

# ---- a successor catching up with its predecessor's clock ----------------------------
# The upstream shares the namespace: a line of its own about the guard
# keeps HOROD_TEST_GUARD's off it (one XDP program per interface), for
# the horod under test.
write_conf "$T_DIR/up.conf" <<CONF
listen 127.0.0.2
local stratum 1
control $T_DIR/up.sock
guard serve off
CONF
horod_start "$SRV" -f "$T_DIR/up.conf" || die "the upstream did not start"
UP_PID=$HOROD_PID
write_conf "$CONF" <<CONF
listen $VETH_SRV4
server 127.0.0.2 iburst minpoll 0 maxpoll 0
driver sim offset 0.001 seed 7
control $T_DIR/horod.sock
pidfile $PIDF
workers 2
CONF
horod_start "$SRV" -f "$CONF" || die "horod did not start"
synced=0
for _ in $(seq $((SYNC_LIMIT * 4))); do
	ip netns exec "$SRV" "$HOROCTL" -s "$T_DIR/horod.sock" status >/dev/null 2>&1 && synced=1 && break
	sleep 0.25
done
check "horod should synchronize to its upstream" [ "$synced" = 1 ]
load 15
sleep 1
if takeover sync; then
	pass "a successor with its own clock to catch up should take over"
	wait_line=$(grep 'takeover: synchronized after' "$HOROD_LOG")
	echo "    ${wait_line#*notice: }"
	check "it should wait until it serves synchronized time before taking over" \
		[ -n "$wait_line" ]
else
	fail "a successor with its own clock to catch up should take over"
fi
load_done "takeover with a clock to catch up"
check "no reply should be invalid (an unsynchronized one would be)" [ "${INVALID:-1}" = 0 ]
check "the loss should stay within $LOSS_GOAL (lost $LOSS)" \
	awk -v l="${LOSS:-1}" -v g="$LOSS_GOAL" 'BEGIN { exit !(l <= g) }'

# ---- takeovers that must change nothing ---------------------------------------------
bad=$T_DIR/bad.conf
sed 's/^workers 2$/workers 0/' "$CONF" >"$bad"
ip netns exec "$SRV" "$HOROD" -n --takeover -f "$bad" >"$T_DIR/bad.log" 2>&1
rc=$?
check "a successor with a configuration error should exit 2 (got $rc)" [ "$rc" = 2 ]
check "... and leave its predecessor serving" \
	ip netns exec "$SRV" "$HOROCTL" -s "$T_DIR/horod.sock" status
horod_stop
sed "s|^control .*|control $T_DIR/none.sock|" "$CONF" >"$T_DIR/alone.conf"
timeout 20 ip netns exec "$SRV" "$HOROD" -n --takeover -f "$T_DIR/alone.conf" >"$T_DIR/alone.log" 2>&1
rc=$?
check "a takeover with nobody to take over from should exit 1 (got $rc)" [ "$rc" = 1 ]
check "... saying so" grep -q 'no horod to take over from' "$T_DIR/alone.log"
kill -TERM "$UP_PID" 2>/dev/null
wait "$UP_PID" 2>/dev/null

# ---- from a horod that dropped its privileges (the package's `user _horod`) ------------
# Its control socket stays root's, so the (root) successor asks it; it
# hands over and drains under its seccomp filter; the successor drops
# its own privileges in turn, and is taken over once more.
T_CTX="user nobody, seccomp 1"
write_conf "$CONF" <<CONF
listen $VETH_SRV4
local stratum 2
control $T_DIR/horod.sock
pidfile $PIDF
workers 2
user nobody
seccomp 1
CONF
# (A second try when the first lost more than LOSS_GOAL with every other
# check passing: on this shared machine a stall of a second fills the
# receive buffer whoever serves; two in a row fail.)
for attempt in 1 2; do
	if ! horod_start "$SRV" -f "$CONF"; then
		fail "horod should start as nobody with seccomp 1"
		break
	fi
	load 6
	sleep 1.5
	done_n=0
	for k in 1 2; do
		takeover "user.$attempt.$k" || break
		done_n=$k
		sleep 1
	done
	load_done "2 takeovers from a horod running as nobody (try $attempt)"
	lost_ok=0
	awk -v l="${LOSS:-1}" -v g="$LOSS_GOAL" 'BEGIN { exit !(l <= g) }' && lost_ok=1
	if [ "$attempt" = 1 ] && [ "$lost_ok" = 0 ] && [ "$done_n" = 2 ] && [ "${INVALID:-1}" = 0 ]; then
		echo "    lost $LOSS > $LOSS_GOAL on the first try: once more"
		horod_stop
		continue
	fi
	check "both takeovers should complete, each predecessor exiting 0 ($done_n did)" \
		[ "$done_n" = 2 ]
	check "the load should get no invalid reply ($INVALID)" [ "${INVALID:-1}" = 0 ]
	check "the load should lose at most $LOSS_GOAL (lost $LOSS, try $attempt)" [ "$lost_ok" = 1 ]
	check "the successor should run as nobody" \
		bash -c '[ "$(stat -c %U "/proc/$1")" = nobody ]' _ "$HOROD_PID"
	horod_stop
	check "the last horod should stop cleanly (exit $HOROD_RC)" [ "$HOROD_RC" = 0 ]
	break
done
T_CTX=""
finish
