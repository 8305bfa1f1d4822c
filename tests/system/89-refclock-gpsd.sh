#!/bin/bash
# shellcheck disable=SC2016 # the inner scripts expand their own variables
#
# Reference-clock readers end to end, before the clock core uses them:
#  1. the real gpsd 3.22 from Debian (unpacked from its .deb into the test
#     cache, never installed as a service) reads tests/data/gps/fixed-2015.nmea
#     replayed by tests/tools/nmeafeed.py through a FIFO, with the time
#     fields rewritten to now + 2 s, and writes the ntpshm segment of unit
#     0; tests/tools/rcread reads it through daemon/refclock/rc_shm and
#     every sample must say 2 s minus the feeder's delay and gpsd's latency;
#  2. tests/tools/rcwrite injects known offsets into an SHM segment and a
#     SOCK socket; rcread must get them back exactly (and the leap bits).
# Each part runs in its own IPC and network namespace (unshare), so the
# SHM keys (fixed by gpsd: 0x4e545030 + unit) never meet another run's or
# the machine's, and vanish with the namespace. gpsd writes chrony SOCK
# samples only for PPS edges (KPPS or TIOCMIWAIT on a real serial port);
# this machine has neither, and gpsd ignores ptys for time (source_pty):
# so gpsd's SOCK path is not exercised here, only its SHM path.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd unshare mkfifo dpkg apt-get

RCREAD=$HOROD_BUILD/tools/rcread
RCWRITE=$HOROD_BUILD/tools/rcwrite
FEED=$REPO/tests/tools/nmeafeed.py
LOG=$REPO/tests/data/gps/fixed-2015.nmea
NS_TIMEOUT=60                          # s: one namespace's run, whatever happens inside
FEED_OFFSET=2                          # s: the replayed time is now + 2 s
FEED_DELAY_MS=50                       # ms: each second's sentences are written 50 ms late
LATENCY_MAX_MS=30                      # ms: FIFO -> gpsd -> SHM, generous for a loaded VM
SAMPLES=5                              # samples each reader must get

[ -x "$RCREAD" ] && [ -x "$RCWRITE" ] || die "no rcread/rcwrite in $HOROD_BUILD/tools (make all)"

GPSD=$(gpsd_fetch) || skip "cannot get gpsd (apt-get download gpsd failed: offline?)"
"$GPSD" -V >/dev/null 2>&1 || skip "the unpacked gpsd does not run: $("$GPSD" -V 2>&1 | head -n1)"
echo "using $("$GPSD" -V 2>&1) at $GPSD"

# Run the bash script $1 in fresh IPC and network namespaces, bounded.
in_ns()
{
	timeout -k 5 $NS_TIMEOUT unshare --ipc --net bash -c "$1" >"$T_DIR/ns.out" 2>"$T_DIR/ns.err"
}

# True when every line of FILE ($1) has an offset (field 4) within [$2, $3] ns and
# leap ($5) and precision ($6) as given ($4, $5), and there are SAMPLES lines.
offsets_within()
{
	awk -v lo="$2" -v hi="$3" -v leap="$4" -v prec="$5" -v want=$SAMPLES '
		{ n++; if ($4 < lo || $4 > hi || $5 != leap || $6 != prec) { bad++; print "bad: " $0 } }
		END { if (n != want) print "got " n " samples, want " want; exit !(n == want && !bad) }
	' "$1"
}

# --- 1. gpsd writing SHM from NMEA through a FIFO -----------------------------
mkfifo "$T_DIR/gps0"
in_ns '
	ip link set lo up
	"'"$GPSD"'" -N -n -S 2947 -F "'"$T_DIR"'/gpsd.ctl" -P "'"$T_DIR"'/gpsd.pid" -D 2 \
		"'"$T_DIR"'/gps0" 2>"'"$T_DIR"'/gpsd.log" &
	gpsd=$!
	python3 "'"$FEED"'" "'"$LOG"'" "'"$T_DIR"'/gps0" '$((SAMPLES + 4))' '$FEED_OFFSET' \
		0.0'$FEED_DELAY_MS' >"'"$T_DIR"'/feed.log" &
	feed=$!
	"'"$RCREAD"'" shm 0x4e545030 '$SAMPLES' '$((SAMPLES + 6))' >"'"$T_DIR"'/gpsd-shm.out"
	rc=$?
	ipcs -m | grep -c "^0x4e5450" >"'"$T_DIR"'/segments"
	kill $feed $gpsd 2>/dev/null
	wait
	exit $rc
'
rc=$?
cat "$T_DIR/ns.err" | sed 's/^/  | /'
sed 's/^/  shm: /' "$T_DIR/gpsd-shm.out"
check "rcread got $SAMPLES SHM samples from gpsd (exit $rc)" test "$rc" = 0
lo=$((FEED_OFFSET * 1000000000 - (FEED_DELAY_MS + LATENCY_MAX_MS) * 1000000))
hi=$((FEED_OFFSET * 1000000000 - FEED_DELAY_MS * 1000000))
check "each gpsd sample says now + ${FEED_OFFSET} s, minus the feed delay and < ${LATENCY_MAX_MS} ms of latency, leap 0, precision -20" \
	offsets_within "$T_DIR/gpsd-shm.out" $lo $hi 0 -20
check "gpsd, started as root, created its 8 segments (units 0-7) inside the test's IPC namespace" \
	test "$(cat "$T_DIR/segments" 2>/dev/null)" = 8
if [ "$rc" != 0 ]; then
	echo "  gpsd log:"
	tail -n 20 "$T_DIR/gpsd.log" | sed 's/^/  | /'
fi
check "no SHM segment of gpsd's is left on the machine (they lived in the namespace)" \
	not sh -c 'ipcs -m | grep -q "^0x4e54503[0-7] .* 96 *[1-9]"'

# --- 2. known offsets through SHM and SOCK --------------------------------------
in_ns '
	RCREAD_REMOVE=1 "'"$RCREAD"'" shm 0x4e545032 '$SAMPLES' 10 >"'"$T_DIR"'/shm.out" &
	r=$!
	sleep 0.5
	"'"$RCWRITE"'" shm 0x4e545032 0.000250 '$SAMPLES' 0.2 1 >"'"$T_DIR"'/shm.truth" || exit 3
	wait $r || exit 4
	ipcs -m | grep -c "^0x4e545032" >"'"$T_DIR"'/left"
	exit 0
'
rc=$?
check "rcwrite -> SHM -> rcread ran (exit $rc)" test "$rc" = 0
check "every SHM sample is exactly the injected +250 us, leap 1, precision -20" \
	offsets_within "$T_DIR/shm.out" 250000 250000 1 -20
check "the local stamps are the writer's, to the nanosecond" \
	test "$(awk '{print $2}' "$T_DIR/shm.out")" = "$(awk '{print $1}' "$T_DIR/shm.truth")"
check "the segment rcread created was removed" test "$(cat "$T_DIR/left" 2>/dev/null)" = 0

sock=$T_DIR/chrony.hrc$$.sock
in_ns '
	"'"$RCREAD"'" sock "'"$sock"'" '$SAMPLES' 10 >"'"$T_DIR"'/sock.out" &
	r=$!
	for i in $(seq 50); do [ -S "'"$sock"'" ] && break; sleep 0.1; done
	"'"$RCWRITE"'" sock "'"$sock"'" -0.125 '$SAMPLES' 0.2 2 >"'"$T_DIR"'/sock.truth" || exit 3
	wait $r || exit 4
'
rc=$?
check "rcwrite -> SOCK -> rcread ran (exit $rc)" test "$rc" = 0
check "every SOCK sample is exactly the injected -125 ms, leap 2" \
	offsets_within "$T_DIR/sock.out" -125000000 -125000000 2 0
check "the SOCK file was removed at close" not test -e "$sock"

finish
