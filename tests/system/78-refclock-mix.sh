#!/bin/bash
# shellcheck disable=SC2016,SC2119 # awk programs in single quotes; optional arguments
#
# Reference clocks with other sources, end to end, on the sim driver (a
# virtual clock 1 ms and 20 ppm off the system clock, which is the truth
# and is never touched):
#  1. pulses: tests/tools/rcwrite -p sends SOCK pulses (as gpsd sends PPS
#     edges: the instant of a second, not which one), once a second and
#     off by up to 5 us, and writes a coarse reference of the same truth
#     into SHM unit 3, off by up to 20 ms (serial NMEA time, `noselect`);
#     the SOCK refclock's `lock NMEA` numbers each pulse from it: horod
#     follows the pulses (refid PPS, stratum 1), the lock is only
#     measured, every pulse after the lock's first sample is numbered, and
#     in every sample once synchronized the root distance covers the true
#     error, within 10 us of the truth after 30 s. This machine has no PPS
#     device: SOCK pulses take the path a PPS device's edges take.
#  2. beside an NTP server (a real chronyd -x on 127.0.0.2, stratum 1): an
#     SHM refclock with `prefer` is the system peer and the server is
#     measured but not combined ('-'), as chrony does; when the refclock
#     falls silent the server takes over (stratum 2, its refid) and the
#     served time stays within 200 us.
# horod runs in an IPC namespace of its own (the SHM key is fixed by the
# protocol); the writers join its namespaces.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd unshare nsenter
SRV=$(ns_name srv)
ns_create "$SRV"

RCWRITE=$HOROD_BUILD/tools/rcwrite
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$RCWRITE" ] && [ -x "$HOROCTL" ] || die "no rcwrite/horoctl in $HOROD_BUILD (make all)"
INJECT=-0.000125     # s: the reference rcwrite writes, ahead of the truth (here behind)
SETTLE=30            # s: from start to the accuracy window (one pulse a poll, locked to a 20 ms-noisy reference: still converging at 20 s under sanitizers)
WINDOW=20            # s: samples checked against the goal
GOAL=0.00001         # s: within 10 us of the truth
NMEA_KEY=0x4e545033  # SHM unit 3: the pulses' lock
NMEA_JITTER=0.02     # s: the lock's samples off by up to this (serial NMEA time)
PULSE_JITTER=0.000005 # s: each pulse (and part 2's samples) off by up to this: a kernel-stamped PPS
KEY=0x4e545032       # SHM unit 2: part 2's refclock
MIX_SAMPLES=14       # part 2's writer (1 a second): selected beside the server, then silent
SOCK=$T_DIR/horod.sock
rc_horod_ipc

# --- 1. pulses on SOCK, numbered by a coarse SHM lock ------------------------------
# A pulse gives the instant of a second, not which one: `lock NMEA` numbers it from the
# newest sample of an SHM reference that knows the second but is 20 ms noisy (serial NMEA
# time, noselect); horod follows the pulses, within 10 us of the truth. (This machine has no
# PPS device: SOCK pulses are the way the `lock` path runs end to end here.)
conf=$T_DIR/pps.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
control $SOCK
driver sim offset 0.001 freq 20 seed 6
refclock SHM 3 refid NMEA poll 0 dpoll -2 offset ${INJECT#-} delay 0.2 noselect
refclock SOCK $T_DIR/pps.sock lock NMEA refid PPS poll 0 offset ${INJECT#-} prefer
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
bg_in_horod "$RCWRITE" -j $NMEA_JITTER -s 9 shm $NMEA_KEY $INJECT $((SETTLE + WINDOW + 20)) 1 \
	>"$T_DIR/nmea.truth"
nmea=$BG_PID
"$RCWRITE" -p -j $PULSE_JITTER -s 11 sock "$T_DIR/pps.sock" $INJECT $((SETTLE + WINDOW + 20)) 1 \
	>"$T_DIR/pps.truth" &
writer=$!
_PIDS+=("$writer")
rc_accuracy
st=$("$HOROCTL" -s "$SOCK" tracking --json)
src=$("$HOROCTL" -s "$SOCK" sources --json)
echo "    $(python3 -c 'import json,sys
for s in json.loads(sys.argv[1])["sources"]:
    print(s["name"], s["refid"], s["tally"], "samples", s["samples"], "unnumbered", s["dropped_unnumbered"], end="; ")' "$src")"
check "the pulses are the system peer, refid PPS, stratum 1; the lock only measured (refid $(json_get "$st" refid))" \
	python3 -c 'import json,sys; t = json.loads(sys.argv[1]); s = json.loads(sys.argv[2])["sources"]
sys.exit(not (t["refid"] == "PPS" and int(t["stratum"]) == 1 and s[1]["tally"] == "*" and s[0]["tally"] != "*"))' "$st" "$src"
check "the pulses were numbered (at most 2 before the lock had a sample)" \
	python3 -c 'import json,sys; s = json.loads(sys.argv[1])["sources"][1]
sys.exit(not (int(s["samples"]) >= '$((SETTLE + WINDOW - 4))' and int(s["dropped_unnumbered"]) <= 2))' "$src"
kill "$writer" "$nmea" 2>/dev/null
wait "$writer" "$nmea" 2>/dev/null
horod_stop
check "horod exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]


# --- 2. beside an NTP server: selected together, then the server alone -------------
# Tally of each source in one horoctl sources --json: "NAME:TALLY ...".
tallies()
{
	"$HOROCTL" -s "$SOCK" sources --json 2>/dev/null | python3 -c 'import json, sys
print(" ".join(s["name"] + ":" + s["tally"] for s in json.load(sys.stdin)["sources"]))' 2>/dev/null
}
chronyd_upstream "$SRV" 127.0.0.2 1 || die "no upstream"
conf=$T_DIR/mix.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
control $SOCK
driver sim offset 0.001 freq 20 seed 8
refclock SHM 2 poll 0 dpoll -2 offset ${INJECT#-} refid GPS prefer
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
bg_in_horod "$RCWRITE" -j $PULSE_JITTER shm $KEY $INJECT $MIX_SAMPLES 1 >"$T_DIR/truth-mix"
writer=$BG_PID
for _ in $(seq $((MIX_SAMPLES - 2))); do
	sleep 1
	t=$(tallies)
	case " $t " in *" SHM2:* 127.0.0.2:- "*) break ;; esac
done
j=$("$HOROCTL" -s "$SOCK" tracking --json)
check "the preferred refclock is the system peer, the server measured but not combined ($t)" \
	grep -q "SHM2:\* 127.0.0.2:-" <<<"$t"
check "... so horod serves stratum 1, refid GPS (got $(json_get "$j" stratum), $(json_get "$j" refid))" \
	test "$(json_get "$j" stratum)" = 1 -a "$(json_get "$j" refid)" = GPS
wait "$writer"
# The refclock falls silent: unreachable after 4 polls, and the server takes over.
over=""
for i in $(seq 16); do
	sleep 0.5
	t=$(tallies)
	case " $t " in *" SHM2:_ 127.0.0.2:* "*)
		over=$i
		break
		;;
	esac
done
j=$("$HOROCTL" -s "$SOCK" tracking --json)
check "the silent refclock gives way to the server within 8 s of its last sample ($t after $(awk -v i="${over:-0}" 'BEGIN { print i / 2 }') s)" \
	test -n "$over"
check "... horod at stratum 2 with the server's refid (got $(json_get "$j" stratum), $(json_get "$j" refid))" \
	test "$(json_get "$j" stratum)" = 2 -a "$(json_get "$j" refid)" = 127.0.0.2
check "... its served time still within 200 us of the truth, 80-upstream's bound on loopback (true error $(json_get "$j" true_error) s)" \
	abs_below "$(json_get "$j" true_error)" 0.0002
horod_stop
check "horod exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
finish
