#!/bin/bash
# shellcheck disable=SC2016,SC2119 # awk programs in single quotes; optional arguments
#
# Reference clocks through the whole path, part two.
#  1. SOCK: tests/tools/rcwrite sends chrony SOCK samples four times a
#     second of a reference 125 us behind the system clock, each also off
#     by up to 20 us (a noisy device); horod (`refclock SOCK PATH poll 0
#     offset 0.000125`) filters each 1 s poll's four samples (their
#     median) on the sim driver, a virtual clock 1 ms and 20 ppm off the
#     system clock, which is the truth and is never touched. In every
#     sample once synchronized the advertised root distance covers the
#     true error; after 15 s the served time is within 10 us of the truth.
#  2. gpsd: the real gpsd 3.22 (Debian's, unpacked, never installed),
#     fed tests/data/gps/fixed-2015.nmea replayed now by
#     tests/tools/nmeafeed.py through a FIFO, writes the ntpshm segment of
#     unit 0 that horod reads (`refclock SHM 0 refid GPS offset 0.05 delay
#     0.01`: the feeder writes each second's sentences 50 ms late); horod
#     synchronizes to it at stratum 1, and real clients see it: ntpdig
#     stratum 1, the replies' refid GPS, NTPsec's ntpq -p a refclock
#     SHM(0) .GPS. of type l, ntpstat a UHF radio (what ntpd's GPS drivers
#     say); the served time within 5 ms of the truth, plus however late
#     the feeder's own writes were (it prints that), and within the root
#     distance. gpsd's own NMEA timing is 0.35-2.2 ms late (stage A), so
#     only part 1 checks microseconds.
# horod runs in an IPC namespace of its own (the SHM key is fixed by the
# protocol); gpsd, the feeder and the clients join its namespaces.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd unshare nsenter ntpdig mkfifo dpkg apt-get
SRV=$(ns_name srv)
ns_create "$SRV"

RCWRITE=$HOROD_BUILD/tools/rcwrite
HOROCTL=$HOROD_BUILD/horoctl
FEED=$REPO/tests/tools/nmeafeed.py
LOG=$REPO/tests/data/gps/fixed-2015.nmea
[ -x "$RCWRITE" ] && [ -x "$HOROCTL" ] || die "no rcwrite/horoctl in $HOROD_BUILD (make all)"
INJECT=-0.000125 # s: the reference rcwrite sends, ahead of the truth (here behind)
JITTER=0.00002   # s: each sample off by up to this more (uniform)
SETTLE=15        # s: from start to the accuracy window
WINDOW=20        # s: samples checked against the goal
GOAL=0.00001     # s: within 10 us of the truth
GPS_SYNC=30      # s: allowed for horod to follow gpsd at stratum 1
GPS_ERROR=0.005  # s: what gpsd's NMEA timing may leave (its latency, ms)
GPS_LATE_N=8     # feeder writes (1 a second) whose lateness counts: the 4 polls before the check
SOCK=$T_DIR/horod.sock

rc_horod_ipc

# --- 1. SOCK, four noisy samples a poll --------------------------------------
conf=$T_DIR/sock.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
control $SOCK
driver sim offset 0.001 freq 20 seed 4
refclock SOCK $T_DIR/gps.sock poll 0 offset ${INJECT#-} refid GPS
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
"$RCWRITE" -j $JITTER -s 7 sock "$T_DIR/gps.sock" $INJECT $((4 * (SETTLE + WINDOW + 4))) 0.25 \
	>"$T_DIR/truth" &
writer=$!
_PIDS+=("$writer")
rc_accuracy
src=$("$HOROCTL" -s "$SOCK" sources --json)
echo "    $(python3 -c 'import json,sys; s=json.loads(sys.argv[1])["sources"][0]; print("SOCK0: samples", s["samples"], "polls", s["polls"], "of them empty", s["empty_polls"], "noise", s["noise"], "s")' "$src")"
check "each poll with samples filtered about four" \
	python3 -c 'import json,sys; s=json.loads(sys.argv[1])["sources"][0]; p = s["polls"] - s["empty_polls"]
sys.exit(not (p > 0 and 3.5 <= s["samples"] / p <= 4.5))' "$src"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
horod_stop
check "horod exits 0 and removed its SOCK socket" test "$HOROD_RC" = 0 -a ! -e "$T_DIR/gps.sock"

# --- 2. the real gpsd ------------------------------------------------------------
GPSD=$(gpsd_fetch) || skip "cannot get gpsd (apt-get download gpsd failed: offline?)"
"$GPSD" -V >/dev/null 2>&1 || skip "the unpacked gpsd does not run: $("$GPSD" -V 2>&1 | head -n1)"
echo "using $("$GPSD" -V 2>&1) at $GPSD"
conf=$T_DIR/gps.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
control $SOCK
driver sim offset 0.01 freq 20 seed 5
refclock SHM 0 refid GPS offset 0.05 delay 0.01 poll 1
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
mkfifo "$T_DIR/gps0"
bg_in_horod "$GPSD" -N -n -S 2947 -F "$T_DIR/gpsd.ctl" -P "$T_DIR/gpsd.pid" "$T_DIR/gps0" \
	2>"$T_DIR/gpsd.log"
gpsd=$BG_PID
bg_in_horod python3 "$FEED" "$LOG" "$T_DIR/gps0" $((GPS_SYNC + 15)) 0 0.05 >"$T_DIR/feed.log"
feed=$BG_PID
synced=""
for t in $(seq $GPS_SYNC); do
	sleep 1
	j=$("$HOROCTL" -s "$SOCK" status --json 2>/dev/null)
	if [ "$(json_get "$j" synced)" = 1 ] && [ "$(json_get "$j" source)" = refclock ]; then
		synced=$t
		break
	fi
done
check "horod follows gpsd's SHM0 at stratum 1 (after ${synced:-no} s)" \
	test -n "$synced" -a "$(json_get "$j" stratum)" = 1
sleep 4
tj=$("$HOROCTL" -s "$SOCK" tracking --json)
te=$(json_get "$tj" true_error)
dist=$(awk -v d="$(json_get "$tj" root_delay)" -v p="$(json_get "$tj" root_dispersion)" 'BEGIN { print d / 2 + p }')
# The feeder's own lateness over the last polls (its wake-up on a loaded machine) is in
# gpsd's stamps too: it widens the bound, and is said.
late=$(tail -n $GPS_LATE_N "$T_DIR/feed.log" | awk '$3 > m { m = $3 } END { printf "%.6f", m + 0 }')
echo "    true error while following gpsd: $te s (gpsd's NMEA latency); root distance $dist s; the feeder's writes up to $late s late"
check "... within $GPS_ERROR s of the truth (plus the feeder's lateness, $late s)" \
	abs_below "$te" "$(awk -v a=$GPS_ERROR -v b="$late" 'BEGIN { print a + b }')"
check "... and within the root distance horod advertises (delay 0.01 says NMEA timing)" \
	abs_below "$te" "$dist"
out=$(timeout 15 ip netns exec "$SRV" ntpdig -j -t 2 127.0.0.1 2>&1 | grep '^{' | head -n1)
check "ntpdig sees stratum 1 (got $(json_get "$out" stratum))" [ "$(json_get "$out" stratum)" = 1 ]
reply=$(craft "$SRV" 127.0.0.1 123 | head -n1)
refid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["reply"]["refid_hex"])' "$reply" 2>/dev/null)
check "the replies carry refid GPS (47505300), got ${refid:-none}" [ "$refid" = 47505300 ]
NTPQ=$(third_party ntpq)
if [ -n "$NTPQ" ]; then
	p=$(timeout 10 ip netns exec "$SRV" "$NTPQ" -n -p 127.0.0.1 2>&1)
	echo "$p" | sed 's/^/    | /'
	check "ntpq -p shows the refclock as NTPsec shows its own: *SHM(0) .GPS. 0 l" \
		grep -Eq '^\*SHM\(0\) +\.GPS\. +0 l ' <<<"$p"
	st=$(timeout 10 ip netns exec "$SRV" ntpstat 2>&1 | head -n1)
	check "ntpstat: $st" grep -q "^synchronised to UHF radio at stratum 1" <<<"$st"
else
	echo "    no ntpq unpacked (scripts/third-party): the mode 6 view is not checked"
fi
kill "$feed" "$gpsd" 2>/dev/null
wait "$feed" "$gpsd" 2>/dev/null
horod_stop
check "horod exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
finish
