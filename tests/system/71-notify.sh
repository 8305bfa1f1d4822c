#!/bin/bash
# shellcheck disable=SC2034 # T_CTX is read by lib.sh
#
# systemd's Type=notify protocol, against a stand-in for systemd's
# notification socket (tests/tools/notifyd.py: this machine has no
# systemd running; the stand-in records every datagram with its sender's
# credentials). horod gets NOTIFY_SOCKET and WATCHDOG_USEC (1 s) as
# systemd would set them, with the XDP guard on loopback and a pidfile:
#   - READY=1 comes once, from horod's own PID, with MAINPID= that PID;
#     at that moment (checked by the stand-in on receipt) the pidfile
#     holds the PID, the control socket answers, the guard is attached
#     and the sockets are bound (a client is answered);
#   - STATUS= says what is served;
#   - WATCHDOG=1 comes at half the interval, from horod;
#   - SIGTERM brings STOPPING=1.
# Then a takeover under the same stand-in: the successor (which, like an
# ExecReload= process, gets no WATCHDOG_USEC) sends MAINPID= its own PID
# and READY=1 before its predecessor stops, the predecessor STOPPING=1,
# and the watchdog goes on being fed, now by the successor.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
HOROCTL=$HOROD_BUILD/horoctl
NS=$(ns_name notify)
ns_create "$NS"
NOTIFY=$T_DIR/notify.sock
EVENTS=$T_DIR/notify.jsonl
WATCHDOG_US=1000000 # us: WatchdogSec=1s as systemd would pass it
READY_LIMIT=10      # s: start-up to READY=1
FEED_WINDOW=2.5     # s in which the watchdog must be fed at least FEED_MIN times
FEED_MIN=3          # feeds at half of 1 s: about 5 in 2.5 s

# Every event of the stand-in as "seconds pid VAR=VALUE,..." (one line each).
events()
{
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print("%.3f %s %s" % (e["mono"], e["pid"], ",".join("%s=%s" % kv for kv in sorted(e["vars"].items()))))' "$EVENTS" 2>/dev/null
}

# The field FIELD ("rc", "out") of the READY=1 event's on-ready probe.
on_ready()
{
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "on_ready" in e:
        print(e["on_ready"][sys.argv[2]]); break' "$EVENTS" "$1" 2>/dev/null
}

# Wait (bounded by LIMIT s) until an event from PID has VAR=VALUE.
wait_event()
{
	local pid=$1 kv=$2 limit=$3 i
	for i in $(seq $((limit * 20))); do
		events | grep -q "^[0-9.]* $pid .*\\b$kv\\b" && return 0
		sleep 0.05
	done
	return 1
}

# Feeds (WATCHDOG=1) from PID between monotonic seconds FROM and FROM + FEED_WINDOW.
feeds_from()
{
	events | awk -v p="$1" -v f="$2" -v w="$FEED_WINDOW" '$2 == p && $3 ~ /WATCHDOG=1/ && $1 >= f && $1 < f + w { n++ } END { print n + 0 }'
}

mono_now()
{
	python3 -c 'import time; print("%.3f" % time.monotonic())'
}

CONF=$T_DIR/horod.conf
write_conf "$CONF" <<CONF
listen 127.0.0.1
local stratum 3
control $T_DIR/horod.sock
pidfile $T_DIR/horod.pid
guard interface lo mode skb
guard pin $T_DIR/pin
CONF
python3 "$TOOLS/notifyd.py" "$NOTIFY" --out "$EVENTS" --max-time 110 --on-ready \
	"cat $T_DIR/horod.pid; ip netns exec $NS $HOROCTL -s $T_DIR/horod.sock status >/dev/null && echo CONTROL_OK; grep -q 'guard: XDP on lo' $T_DIR/horod.*.log && echo GUARD_OK; ip netns exec $NS python3 $NTPCRAFT 127.0.0.1 123 | grep -q '\"answered\": true' && echo SERVED_OK" \
	>"$T_DIR/notifyd.log" 2>&1 &
_PIDS+=("$!")
for _ in $(seq 50); do
	[ -S "$NOTIFY" ] && break
	sleep 0.1
done
[ -S "$NOTIFY" ] || die "the stand-in notification socket did not appear"

export NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=$WATCHDOG_US
HOROD_GUARD_FALLBACK_OK=0
horod_start "$NS" -f "$CONF" || die "horod did not start"
unset WATCHDOG_USEC
O=$HOROD_PID
OLOG=$HOROD_LOG
wait_event "$O" "READY=1" "$READY_LIMIT" || die "no READY=1 from horod within $READY_LIMIT s"
events | sed 's/^/    | /' | head -n 4
check "READY=1 should come once, from horod ($O)" \
	[ "$(events | grep -c 'READY=1')" = 1 ]
check "READY=1 should carry MAINPID=$O" bash -c 'grep -q "^[0-9.]* $1 .*MAINPID=$1\b" <<<"$2"' _ "$O" "$(events)"
probe=$(on_ready out)
echo "    at READY=1: $(tr '\n' ' ' <<<"$probe")"
check "at READY=1 the pidfile should hold horod's PID" grep -qx "$O" <<<"$probe"
check "at READY=1 the control socket should answer" grep -qx CONTROL_OK <<<"$probe"
check "at READY=1 the XDP guard should be attached" grep -qx GUARD_OK <<<"$probe"
check "at READY=1 a client should be answered" grep -qx SERVED_OK <<<"$probe"
check "STATUS= should say what is served" bash -c 'grep -q "STATUS=synchronized to LOCL at stratum 3" <<<"$1"' _ "$(events)"
t=$(mono_now)
sleep "$FEED_WINDOW"
n=$(feeds_from "$O" "$t")
check "WATCHDOG=1 should come at half of WatchdogSec ($n feeds in $FEED_WINDOW s, want >= $FEED_MIN)" \
	[ "$n" -ge "$FEED_MIN" ]

# ---- a takeover under the same supervisor ---------------------------------------
env --default-signal=INT,QUIT ip netns exec "$NS" "$HOROD" -n --takeover -f "$CONF" \
	>"$T_DIR/successor.log" 2>&1 &
N=$!
_PIDS+=("$N")
wait_event "$N" "READY=1" "$READY_LIMIT" || {
	sed 's/^/    | /' "$T_DIR/successor.log"
	die "no READY=1 from the successor within $READY_LIMIT s"
}
check "the successor should say MAINPID=$N with READY=1" \
	bash -c 'grep -q "^[0-9.]* $1 .*MAINPID=$1\b.*READY=1" <<<"$2"' _ "$N" "$(events)"
wait_event "$O" "STOPPING=1" 10
check "the predecessor should say STOPPING=1 (handed over)" \
	bash -c 'grep -q "^[0-9.]* $1 .*STATUS=handed over" <<<"$2"' _ "$O" "$(events)"
# In the order the socket delivered them (one socket: first come, first read).
ready_at=$(events | awk -v p="$N" '$2 == p && /READY=1/ { print NR; exit }')
stop_at=$(events | awk -v p="$O" '/STOPPING=1/ && $2 == p { print NR; exit }')
check "the successor's READY=1 should come before the predecessor stops (datagram $ready_at, then $stop_at)" \
	awk -v a="$ready_at" -v b="$stop_at" 'BEGIN { exit !(a != "" && b != "" && a + 0 < b + 0) }'
for _ in $(seq 100); do
	pid_alive "$O" || break
	sleep 0.05
done
check "the predecessor should have exited" not pid_alive "$O"
wait "$O" 2>/dev/null
check "... with status 0 (it got $?)" [ "$?" = 0 ]
t=$(mono_now)
sleep "$FEED_WINDOW"
n=$(feeds_from "$N" "$t")
check "the successor should feed the watchdog its predecessor was given ($n feeds in $FEED_WINDOW s)" \
	[ "$n" -ge "$FEED_MIN" ]
check "the pidfile should name the successor" grep -qx "$N" "$T_DIR/horod.pid"
kill -TERM "$N"
wait_event "$N" "STOPPING=1" 10
check "SIGTERM should bring STOPPING=1" bash -c 'grep -q "^[0-9.]* $1 .*STOPPING=1" <<<"$2"' _ "$N" "$(events)"
wait "$N" 2>/dev/null
unset NOTIFY_SOCKET
finish
