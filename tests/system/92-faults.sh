#!/bin/bash
# shellcheck disable=SC2034,SC2119,SC2317 # T_CTX is read by lib.sh; optional arguments; trap
#
# horod when its environment fails under it (issue 7, fault injection).
#
# 1. The driftfile's directory fills up or turns read-only while horod
#    runs (a 16 KiB tmpfs of the test's own, filled with a file, or
#    remounted read-only), with a real chronyd upstream and the sim
#    driver: horod keeps serving, the save at stop fails with exactly one
#    log line naming the cause, horod still exits 0, and the old
#    driftfile is intact byte for byte (same inode: never replaced, no
#    temporary file left). A run with room first proves that a save at
#    stop does happen (the file is replaced). The save is also due
#    hourly; a test cannot wait for that, so every attempt here is the
#    one at stop.
# 2. BPF unavailable: horod started without CAP_BPF, CAP_SYS_ADMIN and
#    CAP_PERFMON (setpriv, bounding set) with `guard interface` on an
#    interface that exists: one log line says the guard is not loaded,
#    nothing is pinned, and the workers rate-limit a flooder exactly as
#    the guard would. (85-guard.sh covers the other way the guard fails,
#    an interface that does not exist, with the full mixed stream.)
# 3. io_uring unavailable (io_uring_setup refused by a seccomp filter,
#    tests/tools/no-uring, as container runtimes do): with `io auto` horod
#    says so in one line and serves through recvmmsg/sendmmsg; with `io
#    uring` it refuses to start (exit 1) and says why.
# 4. 1,000,000 malformed requests (tests/tools/ntpjunk: every kind, seeded)
#    from a non-control address over the veth, per io mode, then 100,000
#    over IPv6: horod stays up, counts each one under the reason the
#    classifier gives, answers only the requests that are valid, never
#    with more bytes than the request, exits 0 on SIGTERM, and its log has
#    no sanitizer report. Run with `--build build/san` for ASan + UBSan.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd setpriv mount umount mountpoint stat cmp
need_chronyd
JUNK=$HOROD_BUILD/tools/ntpjunk
NO_URING=$HOROD_BUILD/tools/no-uring
[ -x "$JUNK" ] || die "no ntpjunk at $JUNK (run make all)"
[ -x "$NO_URING" ] || die "no no-uring at $NO_URING (run make all)"

SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

DD=$T_DIR/driftdir    # the driftfile's directory: a small tmpfs
DRIFT=$DD/drift
DD_SIZE=16k           # tmpfs size: 4 pages, filled by one file
OLD="12.345678 0.500000" # the driftfile before each run (freq ppm, skew ppm)
JUNK_N=${FAULTS_JUNK_N:-1000000} # malformed requests per io mode over IPv4
JUNK6_N=100000        # and over IPv6
FLOOD_N=100           # requests from the flooder (item 2)
BURST=8               # ratelimit burst
LEAK=4                # 1 in 2^2 over-rate requests leaks
FLOOD_ANSWERED=$((BURST + (FLOOD_N - BURST) / LEAK))
FLOOD_DROPPED=$((FLOOD_N - FLOOD_ANSWERED - 1)) # the one left is the RATE KoD
SAN_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|ThreadSanitizer'

# Unmount what this test mounted (bounded: a mount may be stacked), then
# the usual cleanup. Runs on every exit.
umount_all()
{
	local d
	for d in "$DD" "$T_DIR/bpffs"; do
		for _ in 1 2 3 4 5; do
			mountpoint -q "$d" 2>/dev/null || break
			umount -l "$d" 2>/dev/null || break
		done
	done
}
trap 'umount_all; lib_cleanup' EXIT

# ---------------------------------------------------------------------------
# 1. Driftfile directory full or read-only.

chronyd_upstream "$SRV" 127.0.0.2 1 || die "no chronyd upstream"
mkdir -p "$DD"
mount -t tmpfs -o size=$DD_SIZE,mode=0755 horod-test-drift "$DD" || skip "cannot mount a tmpfs"
write_conf "$T_DIR/drift.conf" <<CONF
listen 127.0.0.1
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
driver sim offset 0.01 freq 10 seed 1
workers 1
driftfile $DRIFT
CONF

# Put the old driftfile back (a fresh inode) and remember its inode.
reset_drift()
{
	rm -f "$DD"/*
	printf '%s\n' "$OLD" >"$DRIFT"
	OLD_INO=$(stat -c %i "$DRIFT")
}

# drift_run WHAT FAULT: start horod, inject FAULT (a function) while it
# runs, check it serves, stop it; sets DRIFT_LINES (its driftfile log
# lines after start-up).
drift_run()
{
	local what=$1 fault=$2 before
	T_CTX="driftfile $what"
	if ! horod_start "$SRV" -f "$T_DIR/drift.conf"; then
		fail "horod did not start"
		return 1
	fi
	check "the old driftfile is read at start" \
		grep -q "driftfile $DRIFT: frequency 12.346 ppm, skew 0.500 ppm" "$HOROD_LOG"
	before=$(grep -c 'driftfile' "$HOROD_LOG")
	$fault
	check_craft "served while the driftfile's directory is $what" "$SRV" 127.0.0.1 123 \
		--count 3 --expect answered=true
	sleep 1 # the clock thread runs a few rounds with the fault in place
	check "no driftfile line while it runs (no flood)" \
		[ "$(grep -c 'driftfile' "$HOROD_LOG")" = "$before" ]
	horod_stop
	check "exits 0 although the save may fail (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
	DRIFT_LINES=$(grep 'driftfile' "$HOROD_LOG" | tail -n +$((before + 1)))
}

# The old file intact: same bytes, same inode, no temporary file beside it.
drift_intact()
{
	check "the old driftfile is intact byte for byte" \
		cmp -s "$DRIFT" <(printf '%s\n' "$OLD")
	check "the old driftfile was not replaced (inode $OLD_INO)" \
		[ "$(stat -c %i "$DRIFT")" = "$OLD_INO" ]
	check "no temporary file left (in the directory: $(find "$DD" -mindepth 1 -printf '%f '))" \
		[ -z "$(find "$DD" -name 'drift.*')" ]
}

no_fault() { :; }
fill_dir()
{
	# Fill what is left; dd stops at ENOSPC (bounded by the tmpfs size).
	dd if=/dev/zero of="$DD/fill" bs=4k count=64 2>/dev/null
	check "the directory is full ($(df --output=avail "$DD" | tail -n1 | tr -d ' ') KiB free)" \
		[ "$(df --output=avail "$DD" | tail -n1 | tr -d ' ')" = 0 ]
}
make_ro()
{
	check "the directory is remounted read-only" mount -o remount,ro "$DD"
	check "a write there fails now" not touch "$DD/probe" 2>/dev/null
}

# With room: the save at stop replaces the file (new inode), readable.
reset_drift
if drift_run "writable" no_fault; then
	check "a save at stop replaced the file (inode $OLD_INO -> $(stat -c %i "$DRIFT"))" \
		[ "$(stat -c %i "$DRIFT")" != "$OLD_INO" ]
	check "the saved driftfile is one line 'FREQ SKEW' ($(cat "$DRIFT"))" \
		grep -Eqx -- '-?[0-9]+\.[0-9]{6} [0-9]+\.[0-9]{6}' "$DRIFT"
	check "no warning about the driftfile (${DRIFT_LINES:-none})" \
		not grep -q 'warning' <<<"$DRIFT_LINES"
fi

# Full: the temporary file's write fails (ENOSPC).
reset_drift
if drift_run "full" fill_dir; then
	printf '    | %s\n' "$DRIFT_LINES"
	check "exactly one driftfile line at stop" [ "$(grep -c . <<<"$DRIFT_LINES")" = 1 ]
	check "it says the directory is full and the old file is kept" \
		grep -Eq "warning: driftfile $DRIFT: .*No space left on device.*(previous file is intact|old file kept)" \
		<<<"$DRIFT_LINES"
	drift_intact
fi
rm -f "$DD/fill"

# Read-only: the temporary file cannot be created (EROFS).
reset_drift
if drift_run "read-only" make_ro; then
	printf '    | %s\n' "$DRIFT_LINES"
	check "exactly one driftfile line at stop" [ "$(grep -c . <<<"$DRIFT_LINES")" = 1 ]
	check "it says the file system is read-only and the old file is kept" \
		grep -Eq "warning: driftfile $DRIFT: .*Read-only file system.*(previous file is intact|old file kept)" \
		<<<"$DRIFT_LINES"
	drift_intact
fi
mount -o remount,rw "$DD" 2>/dev/null
kill -TERM "$CHRONYD_PID" 2>/dev/null
T_CTX=""

# ---------------------------------------------------------------------------
# 2. BPF unavailable: the guard cannot load, the workers rate-limit.

T_CTX="no BPF"
PIN=$T_DIR/bpffs/horod
# horod without the capabilities BPF needs (setpriv execs: same PID).
NOBPF=$T_DIR/horod-nobpf
cat >"$NOBPF" <<EOF
#!/bin/sh
exec setpriv --bounding-set=-bpf,-sys_admin,-perfmon -- "$HOROD" "\$@"
EOF
chmod +x "$NOBPF"
FLOOD4=192.0.2.66
ip -n "$CLI" addr add "$FLOOD4/24" dev hc0 || die "cannot add $FLOOD4"
write_conf "$T_DIR/nobpf.conf" <<CONF
listen $VETH_SRV4
local stratum 7
workers 2
ratelimit interval 6 burst $BURST leak 2 kod
guard interface hs0 mode native
guard pin $PIN
CONF
if HOROD=$NOBPF horod_start "$SRV" -f "$T_DIR/nobpf.conf"; then
	eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$HOROD_PID/status")
	# CAP_SYS_ADMIN is bit 21, CAP_PERFMON 38, CAP_BPF 39.
	check "horod runs without CAP_SYS_ADMIN, CAP_PERFMON and CAP_BPF (CapEff $eff)" \
		[ $((0x$eff & ((1 << 21) | (1 << 38) | (1 << 39)))) = 0 ]
	grep 'guard' "$HOROD_LOG" | sed 's/^/    | /'
	check "one log line says the guard is not loaded and the workers rate-limit" \
		[ "$(grep -c 'guard: not loaded (.*): the workers enforce the access list and the rate limit' "$HOROD_LOG")" = 1 ]
	check "nothing pinned" not [ -e "$PIN" ]
	counters_mark
	check_craft "a client is answered" "$CLI" "$VETH_SRV4" 123 --count 3 --expect answered=true
	check_craft "flooder $FLOOD4: $FLOOD_ANSWERED of $FLOOD_N answered, one RATE KoD" "$CLI" \
		"$VETH_SRV4" 123 --bind "$FLOOD4" --flood $FLOOD_N --timeout 0.5 \
		--expect answered=$FLOOD_ANSWERED --expect kod_rate=1 --expect kod=1
	expect_deltas "the workers counted the rate limit" \
		"reply_server=$((3 + FLOOD_ANSWERED)) reply_kod_rate=1 drop_rate=$FLOOD_DROPPED received=$((3 + FLOOD_N))"
	horod_stop
	check "exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
else
	fail "horod did not start without BPF"
fi
T_CTX=""

# ---------------------------------------------------------------------------
# 3. io_uring unavailable: recvmmsg/sendmmsg, or a refusal when uring was asked for.

NOURING=$T_DIR/horod-nouring
cat >"$NOURING" <<EOF
#!/bin/sh
exec "$NO_URING" "$HOROD" "\$@"
EOF
chmod +x "$NOURING"
T_CTX="no io_uring, io auto"
write_conf "$T_DIR/nouring.conf" <<CONF
listen $VETH_SRV4
local stratum 7
workers 2
io auto
CONF
if HOROD=$NOURING horod_start "$SRV" -f "$T_DIR/nouring.conf"; then
	check "one log line says io_uring is unavailable and mmsg is used" \
		[ "$(grep -c 'io_uring unavailable (.*): using recvmmsg/sendmmsg' "$HOROD_LOG")" = 1 ]
	check "the ready line says io mmsg ($(horod_ready_line))" grep -q 'io mmsg' <<<"$(horod_ready_line)"
	counters_mark
	check_craft "a client is answered" "$CLI" "$VETH_SRV4" 123 --count 5 --expect answered=true \
		--expect org_matches=true
	expect_deltas "served through mmsg" "reply_server=5 received=5"
	horod_stop
	check "exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
else
	fail "horod did not start without io_uring"
fi
T_CTX="no io_uring, io uring"
sed -i 's/^io auto$/io uring/' "$T_DIR/nouring.conf"
log=$T_DIR/nouring-refused.log
timeout 10 ip netns exec "$SRV" "$NO_URING" "$HOROD" -n -f "$T_DIR/nouring.conf" >"$log" 2>&1
rc=$?
check "refuses to start with exit 1 (got $rc)" [ "$rc" = 1 ]
check "says io uring is configured but unavailable" \
	grep -q 'io uring configured but unavailable' "$log"
check "no sanitizer report on that exit path" not grep -Eq "$SAN_RE" "$log"
grep -E "$SAN_RE" -A 12 "$log" | head -n 30 | sed 's/^/    | /'
T_CTX=""

# ---------------------------------------------------------------------------
# 4. A million malformed requests from a non-control address.

write_conf "$T_DIR/junk.conf.in" <<CONF
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 7
workers 2
CONF

# junk_run WHAT ADDR N SEED: ntpjunk from the client namespace, checked.
junk_run()
{
	local what=$1 addr=$2 n=$3 seed=$4 out rc res
	counters_mark
	out=$(ip netns exec "$CLI" "$JUNK" "$addr" 123 "$n" "$seed")
	rc=$?
	res=$(sed -n 's/^result //p' <<<"$out")
	echo "    $what: $res"
	check "$what: every reply answers a valid request, once, 48 bytes, right mode and version, every probe back (ntpjunk exit $rc)" \
		[ "$rc" = 0 ]
	check "$what: all $n sent" [ "$(kv sent "$res")" = "$n" ]
	check "$what: bytes out / bytes in = $(kv ratio "$res") <= 1.0" \
		awk -v r="$(kv ratio "$res")" 'BEGIN { exit !(r != "" && r <= 1.0) }'
	check "$what: no reply longer than its request ($(kv longer "$res"))" [ "$(kv longer "$res")" = 0 ]
	expect_deltas "$what: each counted under the classifier's reason" \
		"$(sed -n 's/^expect //p' <<<"$out")"
}

for io in $HOROD_IO_MODES; do
	T_CTX="malformed io=$io"
	{ cat "$T_DIR/junk.conf.in"; echo "io $io"; } >"$T_DIR/junk.conf"
	if ! horod_start "$SRV" -f "$T_DIR/junk.conf"; then
		fail "horod did not start"
		continue
	fi
	start=$SECONDS
	junk_run "IPv4" "$VETH_SRV4" "$JUNK_N" "$((${#io} + 1))"
	junk_run "IPv6" "$VETH_SRV6" "$JUNK6_N" 7
	echo "    $((JUNK_N + JUNK6_N)) malformed requests in $((SECONDS - start)) s"
	check "horod is still running" pid_alive "$HOROD_PID"
	check_craft "a client is still answered" "$CLI" "$VETH_SRV4" 123 --count 3 \
		--expect answered=true --expect org_matches=true
	horod_stop
	check "exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
	check "no sanitizer report in its log" not grep -Eq "$SAN_RE" "$HOROD_LOG"
	grep -E "$SAN_RE" -A 20 "$HOROD_LOG" | head -n 40 | sed 's/^/    | /'
done
T_CTX=""

finish
