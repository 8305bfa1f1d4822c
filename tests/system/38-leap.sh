#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# Leap seconds (issue 16). The leap table: `leapfile` reads an IETF
# leap-seconds.list when the configuration is parsed, so a tampered or
# truncated file stops horod with `file:line:` before anything is bound;
# `horoctl config` gives the directive back; `horoctl status` shows the
# file, its expiry and its next leap, and says when it has expired (the
# tests ship their own files in tests/data/leap/: ietf-2025.list expired
# on 2026-06-28, future.list lists a leap at the end of 2030 and expires
# on 2035-12-28); the log says so too.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$HOROCTL" ] || skip "no horoctl built"
DATA=$(cd "$(dirname "$0")/../data/leap" && pwd)
NS=$(ns_name srv)
ns_create "$NS"
SOCK=$T_DIR/horod.sock
ctl() { "$HOROCTL" -s "$SOCK" "$@"; }

# A tampered file: refused on its line, before horod serves.
conf=$T_DIR/bad.conf
printf 'listen 127.0.0.1\n# the table\nleapfile %s\n' "$DATA/bad-hash.list" >"$conf"
out=$(timeout 10 ip netns exec "$NS" "$HOROD" -n -f "$conf" 2>&1)
rc=$?
check "a leapfile with a bad hash stops horod with status 2 (got $rc)" [ "$rc" = 2 ]
check "... naming the file and line ($conf:3:)" grep -q "^$conf:3: leapfile: $DATA/bad-hash.list" <<<"$out"
check "... and never ready" not grep -q 'ready:' <<<"$out"

# An expired file: accepted, logged, shown, and it gives no authority.
conf=$T_DIR/expired.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
local stratum 1
control $SOCK
leapfile $DATA/ietf-2025.list
CONF
horod_start "$NS" -f "$conf" || die "horod did not start"
st=$(ctl status)
echo "$st" | sed 's/^/    | /'
check "status shows the expired leap file" grep -q "leap file $DATA/ietf-2025.list: expires 2026-06-28 (EXPIRED: no authority" <<<"$st"
check "the log says it expired" grep -q "leap table $DATA/ietf-2025.list has expired" "$HOROD_LOG"
check "status --json: leapfile_expiry expired" \
	python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["leapfile_expiry"] != "expired")' < <(ctl status --json)
check "config gives the leapfile back" grep -qx "leapfile $DATA/ietf-2025.list" < <(ctl config)
horod_stop

# A valid file: its next leap shown.
sed -i "s|ietf-2025.list|future.list|" "$conf"
horod_start "$NS" -f "$conf" || die "horod did not start"
st=$(ctl status)
echo "$st" | sed 's/^/    | /'
check "status shows the valid file" grep -q "leap file $DATA/future.list: expires 2035-12-28 (valid)" <<<"$st"
check "status shows its next leap (2030-12-31, inserted)" grep -q "next leap second: 2030-12-31 (inserted 23:59:60)" <<<"$st"
check "the log says nothing of expiry" not grep -q "has expired\|expires within" "$HOROD_LOG"
horod_stop

need_cmd ntpdig
PY=/usr/bin/python3 # Debian's, which has python3-ntp (ntpq's module)
NTPQ=$(third_party ntpq)
if [ -z "$NTPQ" ] || ! "$PY" -c 'import ntp.packet' 2>/dev/null; then
	echo "NOTE: no unpacked ntpq (scripts/third-party fetch ntpsec): mode 6 not checked"
	NTPQ=""
fi
INS_M=1483228800 # s: 2017-01-01 00:00:00 UTC, after the inserted 2016-12-31 23:59:60
DEL_M=2003788800 # s: 2033-07-01 00:00:00 UTC, after future.list's deleted 23:59:59
SMEAR_S=20       # s: the smear interval here, centred on the leap
LEAD=7           # s: horod starts this long before the leap (system, step)
SMEAR_LEAD=15    # s: ... under smear: before the window opens
SPAN=12          # s: ntpdig asks for this long (system, step)
SMEAR_SPAN=30    # s: ... under smear: through the whole window
SLEW_S=12        # s: leapsecmode slew's correction of the second (CLK_LEAP_SLEW_S, 1/12)
SLEW_SPAN=26     # s: ... under slew: through the correction and 7 s after it
# LEAP_MODES="system step slew smear": the modes run through the leap (all by default);
# LEAP_KEEP=PREFIX: keep each ntpdig series as PREFIX.MODE.DIR (debugging)

# ntpdig_series SECONDS OUT NS: an ntpdig measurement (the best of 3 exchanges 10 ms apart) every
# 0.3 s for SECONDS, as "leap offset server-time" lines (offset: served - our clock, s) in OUT.
# The JSON lines are converted once at the end: a python start per reply took as much CPU as
# ntpdig's own, and with the eight cases in parallel on a loaded machine the series fell
# under ten replies.
ntpdig_series()
{
	local end=$((SECONDS + $1))
	: >"$2.json"
	while [ "$SECONDS" -lt "$end" ]; do
		timeout 3 ip netns exec "$3" ntpdig -j -t 1 -p 3 -g 10 127.0.0.1 >>"$2.json" 2>/dev/null
		sleep 0.3
	done
	python3 - "$2.json" >"$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue  # a call cut short by its timeout
    print(d["leap"], repr(d["offset"]), d["time"])
PY
}

# leap_case MODE DIR NS: horod in leapsecmode MODE through the leap DIR (1 insert, -1 delete)
# in namespace NS, its own; run in the background, it leaves its verdict (exit status and
# lines) in $T_DIR/result.MODE.DIR, and checks nothing itself (the caller does).
leap_case()
{
	local mode=$1 dir=$2 ns=$3 m lead span date cpid="" rpid="" out=$T_DIR/series.$1.$2
	local conf=$T_DIR/leap.$1.$2.conf sock=$T_DIR/leap.$1.$2.sock
	if [ "$dir" = 1 ]; then m=$INS_M; else m=$DEL_M; fi
	lead=$LEAD span=$SPAN
	if [ "$mode" = smear ]; then lead=$SMEAR_LEAD span=$SMEAR_SPAN; fi
	if [ "$mode" = slew ]; then span=$SLEW_SPAN; fi
	date=$(date -u -d "@$((m - lead))" +%Y-%m-%dT%H:%M:%SZ)
	write_conf "$conf" <<CONF
listen 127.0.0.1
local stratum 1
control $sock
driver sim date $date
leapfile $DATA/future.list
leapsecmode $mode
leapsmear interval $SMEAR_S
CONF
	if ! horod_start "$ns" -f "$conf" >"$T_DIR/start.$mode.$dir" 2>&1; then
		echo "    $mode $dir: horod did not start" >"$T_DIR/result.$mode.$dir"
		return 1
	fi
	echo "$HOROD_PID" >"$T_DIR/pid.$mode.$dir"
	if [ "$mode" = smear ]; then
		# Inside the window: chronyd -Q measures the smeared server (never sets the clock).
		(sleep $((lead - 6)) && timeout 20 ip netns exec "$ns" setpriv --bounding-set=-sys_time \
			--inh-caps=-sys_time "$CHRONYD" -Q -t 10 "server 127.0.0.1 iburst maxsamples 4" \
			"pidfile $T_DIR/chronyd.$dir.pid" "cmdport 0" "bindcmdaddress /" \
			>"$T_DIR/chronyd.$dir.out" 2>&1) &
		cpid=$!
		_PIDS+=("$cpid")
		# Inside the window too: what horoctl, ntpq and the metrics say of the smear.
		(sleep $((lead - 5)) && "$HOROCTL" -s "$sock" tracking >"$T_DIR/tracking.$dir" 2>&1 &&
			"$HOROCTL" -s "$sock" metrics >"$T_DIR/metrics.$dir" 2>&1 &&
			{ [ -z "$NTPQ" ] || ip netns exec "$ns" timeout 20 "$PY" "$NTPQ" -c \
				"rv 0 leapsmearinterval,leapsmearoffset,leap" 127.0.0.1 \
				>"$T_DIR/ntpq.$dir" 2>&1; }) &
		rpid=$!
		_PIDS+=("$rpid")
	fi
	if [ "$mode" = slew ]; then
		# 3 s into the slew: a quarter of the second slewed, dir * 0.75 s still to go
		(sleep $((lead + 3)) && "$HOROCTL" -s "$sock" tracking >"$T_DIR/tracking.slew.$dir" 2>&1) &
		rpid=$!
		_PIDS+=("$rpid")
	fi
	ntpdig_series "$span" "$out" "$ns"
	[ -n "$cpid" ] && wait "$cpid"
	[ -n "$rpid" ] && wait "$rpid"
	horod_stop
	local rc=0
	[ -n "${LEAP_KEEP:-}" ] && cp "$out" "$LEAP_KEEP.$mode.$dir"
	python3 - "$out" "$mode" "$dir" "$m" "$SMEAR_S" "$SLEW_S" >"$T_DIR/result.$mode.$dir" <<'PY' || rc=1
import calendar, sys
path, mode, d, m, S = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
W = int(sys.argv[6])  # s: the slew's length
rows = []
for line in open(path):
    leap, off, t = line.split()
    # "2016-12-31T23:59:51.94814+0000": ntpdig prints the microseconds without their
    # leading zeros (.94814 is 0.094814 s)
    sec = calendar.timegm(tuple(int(x) for x in (t[0:4], t[5:7], t[8:10], t[11:13], t[14:16], t[17:19])))
    frac = int(t[20:t.index("+")]) / 1e6 if t[19] == "." else 0.0
    rows.append((leap, float(off), sec + frac))
want = {1: "add-leap", -1: "del-leap"}[d]
edge = m if d > 0 else m - 1  # served time of the leap's edge
EDGE_SLACK = 1.5  # s around the edge where a reply's side is not judged
bad = []
if len(rows) < 10:
    bad.append("only %d replies" % len(rows))
# The date's offset: the median before the edge (clear of an insertion's repeated second),
# under the smear before its window; a loaded machine may delay the first replies.
early = sorted(r[1] for r in rows if r[2] < (m - S / 2.0 if mode == "smear" else edge - 1.5))
if len(early) < 3:
    bad.append("only %d replies before the %s" % (len(early), "window" if mode == "smear" else "leap"))
off0 = early[len(early) // 2] if early else 0.0
worst = 0.0
errs = []
prev = None
for leap, off, served in rows:
    if mode == "smear":
        if leap != "no-leap":
            bad.append("LI %s under smear at %+.3f s" % (leap, served - m))
        u = served - off + off0  # leap-free time: our clock plus the date's offset
        frac = min(max((u - (m - S / 2.0)) / S, 0.0), 1.0)
        errs.append(abs(off - (off0 - d * frac)))
        worst = max(worst, errs[-1])
        if prev is not None and served < prev:
            bad.append("served time went back at %+.3f s" % (served - m))
        prev = served
    elif mode == "slew":
        # no step: served time goes on as leap-free time at the edge, then runs 1/W slower
        # (insertion) or faster (deletion) until it is UTC again; LI as under step
        u = served - off + off0
        if u < edge - EDGE_SLACK and leap != want:
            bad.append("LI %s before the leap (%+.3f s)" % (leap, u - m))
        if u >= edge + EDGE_SLACK and leap != "no-leap":
            bad.append("LI %s after the leap (%+.3f s)" % (leap, served - m))
        frac = min(max((u - edge) / W, 0.0), 1.0)
        errs.append(abs(off - (off0 - d * frac)))
        worst = max(worst, errs[-1])
        if prev is not None and served < prev:
            bad.append("served time went back at %+.3f s" % (served - m))
        prev = served
    else:
        # leap-free time (an insertion repeats 23:59:59), from ntpdig's printed stamp, which
        # a loaded machine delays after the exchange: 1.5 s around the edge are left out
        u = served - off + off0
        if u < edge - EDGE_SLACK and leap != want:
            bad.append("LI %s before the leap (%+.3f s)" % (leap, u - m))
        # after the edge: UTC, one second off the leap-free date
        if u >= edge + EDGE_SLACK:
            if leap != "no-leap":
                bad.append("LI %s after the leap (%+.3f s)" % (leap, served - m))
            if abs(off - (off0 - d)) > 0.01:
                bad.append("offset %.6f after the leap, want %.6f" % (off, off0 - d))
print("    %s %+d: %d replies, LI %s" % (mode, d, len(rows), " ".join(sorted(set(r[0] for r in rows)))))
if mode == "slew" and errs:
    # as under the smear, at a steeper slope (1/12): ntpdig's late printed stamps weigh more
    errs.sort()
    med, far = errs[len(errs) // 2], sum(e > 1e-3 for e in errs)
    after = [r for r in rows if r[2] - r[1] + off0 >= edge + W + EDGE_SLACK]
    print("    slew %+d: |offset - slew| median %.1f us, worst %.1f us, %d beyond 1 ms, %d replies after it" %
          (d, med * 1e6, worst * 1e6, far, len(after)))
    if med > 2e-4 or far * 10 > len(errs):
        bad.append("offset off the slew: median %.1f us, %d of %d beyond 1 ms" % (med * 1e6, far, len(errs)))
    if len(after) < 3:
        bad.append("only %d replies after the slew" % len(after))
if mode == "smear" and errs:
    # The formula is evaluated at ntpdig's printed time, which a loaded machine delays
    # after the exchange (tens of ms, times the 1/20 slope of this short smear): the median
    # must be close, and no more than a tenth of the replies beyond 1 ms.
    errs.sort()
    med, far = errs[len(errs) // 2], sum(e > 1e-3 for e in errs)
    print("    smear %+d: |offset - formula| median %.1f us, worst %.1f us, %d beyond 1 ms" %
          (d, med * 1e6, worst * 1e6, far))
    if med > 2e-4 or far * 10 > len(errs):
        bad.append("offset off the formula: median %.1f us, %d of %d beyond 1 ms" % (med * 1e6, far, len(errs)))
for b in bad[:5]:
    print("    | " + b)
sys.exit(1 if bad else 0)
PY
	return $rc
}

# horoctl check: a smearing horod (port 12301) against one that does not (12302), both
# sim-dated 16 s before the insertion. Rounds 1 s apart from 15 s before it: the first
# before the 20 s window (no smear seen), then inside it (the smear seen: 1e6/20 ppm,
# slower); `check` alone says which one announces the leap.
check_case()
{
	local m=$INS_M date pa pb j
	date=$(date -u -d "@$((m - 16))" +%Y-%m-%dT%H:%M:%SZ)
	for c in "a 12301 smear" "b 12302 step"; do
		set -- $c
		write_conf "$T_DIR/$1.conf" <<CONF
listen 127.0.0.1 port $2
local stratum 1
control $T_DIR/$1.sock
driver sim date $date
leapfile $DATA/future.list
leapsecmode $3
leapsmear interval $SMEAR_S
CONF
	done
	t0=$SECONDS
	horod_start "$NS" -f "$T_DIR/a.conf" || die "horod a did not start"
	pa=$HOROD_PID
	# Under HOROD_TEST_GUARD, a holds the namespace's XDP attachment: b runs without.
	HOROD_GUARD_FALLBACK_OK=1 horod_start "$NS" -f "$T_DIR/b.conf" || die "horod b did not start"
	pb=$HOROD_PID
	out=$(ip netns exec "$NS" "$HOROCTL" check 127.0.0.1:12302 -n 1)
	check "check: the step server announces the insertion" \
		grep -q "leap: announces a leap second: 23:59:60 inserted" <<<"$out"
	out=$(ip netns exec "$NS" "$HOROCTL" check 127.0.0.1:12301 -n 1)
	check "check: the smearing server announces nothing" grep -q "leap: no leap second announced" <<<"$out"
	j=$(ip netns exec "$NS" "$HOROCTL" check 127.0.0.1:12301 --against 127.0.0.1:12302 \
		-n 2 --rounds 3 --every 0.5 --json)
	echo "    before the window: $j"
	check "check --against: no smear seen before the window" \
		python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(d["smears"] or d["rounds"] < 3)' "$j"
	while [ $((SECONDS - t0)) -lt 7 ]; do sleep 0.2; done # the window opens 6 s in
	out=$(ip netns exec "$NS" "$HOROCTL" check 127.0.0.1:12301 --against 127.0.0.1:12302 \
		-n 2 --rounds 6 --every 0.5)
	echo "$out" | sed 's/^/    | /'
	check "check --against: the smearing server smears, slower (an insertion)" \
		grep -q "^verdict: the server smears against the reference: .*slower: an insertion" <<<"$out"
	check "check --against: it drifts 1e6/20 ppm (-40000 to -60000)" \
		python3 -c 'import re,sys; r=float(re.search(r"drifting ([-+][0-9.]+) ppm", sys.argv[1]).group(1)); sys.exit(not -60000 < r < -40000)' "$out"
	HOROD_PID=$pb
	horod_stop
	HOROD_PID=$pa
	horod_stop
}
check_case

# The cases, each in a namespace of its own (its own 127.0.0.1:123 for ntpdig, chronyd and
# ntpq): system, step and smear at once, so that the test stays within a minute; slew once
# system's and step's are over (eight ntpdig series at once on a loaded 2-core machine fell
# short of replies), ending about when the smear's do.
cases=()
k=0
# start_cases MODE...: start both directions of each MODE in the background
start_cases()
{
	local mode dir ns
	for mode in "$@"; do
		for dir in 1 -1; do
			k=$((k + 1))
			ns=$(ns_name "l$k")
			ns_create "$ns"
			(_LOGN=$((100 * k)) && leap_case "$mode" "$dir" "$ns") &
			_PIDS+=($!)
			cases+=("$mode $dir $!")
		done
	done
}
# wait_cases MODE...: wait for both directions of each MODE started, and judge them
wait_cases()
{
	local c rc why want=" $* "
	for c in "${cases[@]}"; do
		set -- $c
		case $want in *" $1 "*) ;; *) continue ;; esac
		rc=0
		wait "$3" || rc=1
		cat "$T_DIR/result.$1.$2" 2>/dev/null
		why=$(grep -m2 '|' "$T_DIR/result.$1.$2" 2>/dev/null | tr -s ' \n' ' ')
		check "leapsecmode $1 through the $([ "$2" = 1 ] && echo insertion || echo deletion)${why:+ ($why)}" [ "$rc" = 0 ]
	done
}
modes=" ${LEAP_MODES:-system step slew smear} "
first=() later=()
for mode in system step smear; do
	case $modes in *" $mode "*) first+=("$mode") ;; esac
done
case $modes in *" slew "*) later+=(slew) ;; esac
start_cases "${first[@]}"
sleep 2
for f in "$T_DIR"/pid.*; do # the horods too, should the test be interrupted
	[ -f "$f" ] && _PIDS+=("$(cat "$f")")
done
wait_cases system step
start_cases "${later[@]}"
sleep 2
for f in "$T_DIR"/pid.*; do
	[ -f "$f" ] && _PIDS+=("$(cat "$f")")
done
wait_cases slew smear
case $modes in
*" slew "*)
	for dir in 1 -1; do
		sed 's/^/    tracking | /' "$T_DIR/tracking.slew.$dir" 2>/dev/null | grep -i "leap\|slew"
		check "horoctl tracking shows the slew, dir * 0.4-0.95 s still to slew ($dir)" \
			python3 -c 'import re,sys; m=re.search(r"^Slew +: slewing, offset ([-+][0-9.]+) seconds", open(sys.argv[1]).read(), re.M); sys.exit(not (m and 0.4 < int(sys.argv[2]) * float(m.group(1)) < 0.95))' "$T_DIR/tracking.slew.$dir" "$dir"
	done
	;;
esac
case " ${LEAP_MODES:-smear} " in
*" smear "*) ;;
*) finish ;; # LEAP_MODES (a debugging knob) left the smear out: nothing below ran
esac
for dir in 1 -1; do
	f=$T_DIR/chronyd.$dir.out
	sed 's/^/    chronyd | /' "$f" 2>/dev/null | tail -2
	check "chronyd -Q measured the smearing server ($dir)" grep -q "System clock wrong by" "$f"
	# About 5 s into the 20 s window: a quarter of the second smeared, -dir * 0.25 s; up
	# to 0.5 s (the leap, the window's middle) when horod was slow to start (it counts
	# the simulated date from its start; the reads count from its readiness: ~4 s later
	# with the sanitizers, seccomp and the XDP guard on a loaded machine)
	sed 's/^/    tracking | /' "$T_DIR/tracking.$dir" | grep -i "leap\|smear"
	check "horoctl tracking shows the smear, -dir * 0.1-0.5 s ($dir)" \
		python3 -c 'import re,sys; m=re.search(r"^Smear +: smearing, offset ([-+][0-9.]+) seconds \(interval 20 s\)$", open(sys.argv[1]).read(), re.M); sys.exit(not (m and 0.1 < -int(sys.argv[2]) * float(m.group(1)) < 0.5))' "$T_DIR/tracking.$dir" "$dir"
	check "horoctl tracking shows the leap planned ($dir)" \
		grep -q "^Leap second        : $([ "$dir" = 1 ] && echo insert || echo delete)" "$T_DIR/tracking.$dir"
	grep "^horod_leap" "$T_DIR/metrics.$dir" | sed 's/^/    metrics | /'
	check "metrics: smearing, the offset, the leap planned and the file's expiry ($dir)" \
		python3 - "$T_DIR/metrics.$dir" "$dir" <<'PY'
import sys
m = dict(l.split()[:2] for l in open(sys.argv[1]) if l.startswith("horod_leap"))
d = int(sys.argv[2])
ok = (m.get("horod_leap_smearing") == "1" and m.get("horod_leap_planned") == str(d) and
      0.1 < -d * float(m["horod_leap_smear_offset_seconds"]) < 0.5 and
      float(m["horod_leap_file_expiry_seconds"]) > 86400 and m.get("horod_leap_file_valid") == "1")
sys.exit(0 if ok else 1)
PY
	if [ -n "$NTPQ" ]; then
		sed 's/^/    ntpq | /' "$T_DIR/ntpq.$dir"
		check "ntpq rv shows leapsmearinterval 20 and leapsmearoffset -dir * 100-500 ms, leap 00 ($dir)" \
			python3 -c 'import re,sys; t=open(sys.argv[1]).read(); m=re.search(r"leapsmearoffset=([-+]?[0-9.]+)", t); sys.exit(not (m and "leapsmearinterval=20" in t and "leap=00" in t and 100 < -int(sys.argv[2]) * float(m.group(1)) < 500))' "$T_DIR/ntpq.$dir" "$dir"
	fi
done
finish
