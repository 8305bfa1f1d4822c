#!/bin/bash
# shellcheck disable=SC2317 # drift_ok is called through check
#
# The driftfile survives kill -9 during writes: tests/tools/driftkill
# rewrites it in a tight loop (temporary file, fsync, rename, directory
# fsync, as horod does) and is SIGKILLed at a random moment, DRIFTKILL_ITER
# times (default 100; `make test-long` runs 10000). After every kill the
# file must read back, through the same reader horod uses at start-up, as
# one whole write of the sequence. Needs no root and no namespace.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init --no-root

DRIFTKILL=$HOROD_BUILD/tools/driftkill
ITER=${DRIFTKILL_ITER:-100}
MAX_DELAY_MS=10 # ms: the kill lands 0..10 ms after the start, across start-up and writes
SHOW_BAD=3      # bad files shown in detail (the rest are only counted)

[ -x "$DRIFTKILL" ] || die "no driftkill at $DRIFTKILL (run make all, or set HOROD_BUILD)"
case $ITER in
'' | *[!0-9]*) die "DRIFTKILL_ITER must be a number, got '$ITER'" ;;
esac

# True when the driftfile at PATH reads back as a step of the sequence.
drift_ok()
{
	"$DRIFTKILL" --check "$1" >/dev/null
}

path=$T_DIR/drift
check "a first write succeeds" "$DRIFTKILL" "$path" 1
check "the first write reads back" drift_ok "$path"

bad=0
changed=0
writer_errors=0
prev=$(cat "$path")
start=$SECONDS
for i in $(seq "$ITER"); do
	"$DRIFTKILL" "$path" &
	pid=$!
	_PIDS+=("$pid")
	ms=$((RANDOM % (MAX_DELAY_MS + 1)))
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	# 137 = killed by SIGKILL; 0 = it finished first (it is bounded).
	if [ "$rc" != 137 ] && [ "$rc" != 0 ]; then
		writer_errors=$((writer_errors + 1))
		[ "$writer_errors" -le "$SHOW_BAD" ] && echo "    iteration $i: driftkill exited $rc"
	fi
	if ! out=$("$DRIFTKILL" --check "$path" 2>&1); then
		bad=$((bad + 1))
		if [ "$bad" -le "$SHOW_BAD" ]; then
			echo "    iteration $i (killed after $ms ms): $out"
			od -c "$path" 2>&1 | head -n 4 | sed 's/^/    | /'
		fi
		continue
	fi
	[ "$out" != "$prev" ] && changed=$((changed + 1))
	prev=$out
done
elapsed=$((SECONDS - start))
strays=$(find "$T_DIR" -maxdepth 1 -name 'drift.*' | wc -l)

check "after each of $ITER kills the driftfile parses as one whole write ($bad bad)" [ "$bad" = 0 ]
check "the writer never failed on its own ($writer_errors errors)" [ "$writer_errors" = 0 ]
# Most kills must land after some writes, or the test proves nothing.
check "the file changed between kills in $changed of $ITER runs (want >= $((ITER / 4)))" \
	[ "$changed" -ge $((ITER / 4)) ]
echo "    $ITER kills in $elapsed s; $strays kills landed inside a write (temporary files left)"

finish
