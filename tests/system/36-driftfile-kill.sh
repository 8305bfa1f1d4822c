#!/bin/bash
# shellcheck disable=SC2317 # drift_ok is called through check
#
# The driftfile survives kill -9 during writes: tests/tools/driftkill
# rewrites it in a tight loop (temporary file, fsync, rename, directory
# fsync, as horod does) and is SIGKILLed at a random moment, DRIFTKILL_ITER
# times (default 100; `make test-long` runs 10000). Each kill lands 0..10 ms
# after the writer says its first write is whole (driftkill --ready), not
# after its start: a start-up slowed by the machine's load or the
# sanitizers would otherwise swallow the kills. After every kill the file
# must read back, through the same reader horod uses at start-up, as one
# whole write of the sequence, and a quarter of the kills at least must
# land inside a write (between creating the temporary and renaming it:
# the temporary is left), or the test proves nothing. Needs no root and
# no namespace.
#
# What the kills cannot see: a killed process leaves its writes in the
# page cache, so the file reads back whole with or without the fsyncs;
# only a power cut (or a crashed kernel) would tell, and a test cannot
# cut the power. So the fsyncs are checked where they can be seen, in the
# system calls of one write (strace): the temporary file is written and
# fsync'ed before it is closed and renamed over the driftfile, and the
# directory is fsync'ed after the rename. Without strace (make test-deps
# installs it) that part says it is skipped.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init --no-root

DRIFTKILL=$HOROD_BUILD/tools/driftkill
ITER=${DRIFTKILL_ITER:-100}
MAX_DELAY_MS=10 # ms: the kill lands 0..10 ms after the first write, across the writes
READY_S=10      # s: the writer's start-up and first write, however loaded the machine
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

# The writer says "ready" through this FIFO once its first write is whole.
fifo=$T_DIR/ready
mkfifo "$fifo" || die "mkfifo $fifo failed"

bad=0
changed=0
writer_errors=0
unready=0
prev=$(cat "$path")
start=$SECONDS
for i in $(seq "$ITER"); do
	"$DRIFTKILL" --ready "$path" >"$fifo" &
	pid=$!
	_PIDS+=("$pid")
	# Opening blocks until the writer has opened its end (before its exec);
	# the read sees EOF if it exits without a first write.
	exec 3<"$fifo"
	ms=$((RANDOM % (MAX_DELAY_MS + 1)))
	if read -r -t "$READY_S" -u 3 line && [ "$line" = ready ]; then
		sleep "$(printf '0.%03d' "$ms")"
	else
		unready=$((unready + 1))
		[ "$unready" -le "$SHOW_BAD" ] && echo "    iteration $i: no first write within $READY_S s"
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	exec 3<&-
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

# The order of one write's system calls: open the temporary (its fd T),
# write T, fsync T, close T, rename it over the driftfile, open the
# directory (its fd D), fsync D. Prints what is missing, nothing when all is there.
fsync_order()
{
	awk -v tmp="$1.horod-tmp-" -v dir="$(dirname "$1")" '
	{ sub(/^[0-9]+ +/, "") }
	step == 0 && /^openat\(/ && index($0, "\"" tmp) && /O_CREAT/ {
		t = $NF; step = 1; next }
	step == 1 && $0 ~ "^write\\(" t "," { step = 2; next }
	step == 2 && $0 ~ "^fsync\\(" t "\\) += 0" { step = 3; next }
	step == 3 && $0 ~ "^close\\(" t "\\)" { step = 4; next }
	step == 4 && /^rename\(/ && index($0, "\"" tmp) { step = 5; next }
	step == 5 && /^openat\(/ && index($0, "\"" dir "\"") && /O_DIRECTORY/ {
		d = $NF; step = 6; next }
	step == 6 && $0 ~ "^fsync\\(" d "\\) += 0" { step = 7; next }
	END {
		split("open the temporary|write it|fsync it|close it|rename it|open the directory|fsync the directory", what, "|")
		if (step < 7) print "missing: " what[step + 1] " (after " step " of 7 steps)"
	}' "$2"
}

if command -v strace >/dev/null 2>&1; then
	trace=$T_DIR/strace.out
	spath=$T_DIR/traced/drift
	mkdir -p "$(dirname "$spath")"
	# LeakSanitizer cannot run under ptrace (a sanitizer build): leave it out here.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -o "$trace" -e trace=openat,write,fsync,close,rename "$DRIFTKILL" "$spath" 1
	missing=$(fsync_order "$spath" "$trace")
	check "one write fsyncs the file before the rename and the directory after it${missing:+: $missing}" \
		[ -z "$missing" ]
	[ -z "$missing" ] || grep -v -e '/lib/' -e '/etc/' "$trace" | sed 's/^/    | /'
else
	echo "    SKIP part: no strace, the fsyncs are not checked (make test-deps installs it)"
fi
strays=$(find "$T_DIR" -maxdepth 1 -name 'drift.*' | wc -l)

check "after each of $ITER kills the driftfile parses as one whole write ($bad bad)" [ "$bad" = 0 ]
check "the writer never failed on its own ($writer_errors errors)" [ "$writer_errors" = 0 ]
check "every kill came after a whole first write ($unready writers not ready within $READY_S s)" \
	[ "$unready" = 0 ]
# Kills inside a write (each leaves its temporary, which nothing removes
# here) are the ones that could tear the file: a quarter at least, or the
# test proves nothing.
check "$strays of $ITER kills landed inside a write (want >= $((ITER / 4)))" \
	[ "$strays" -ge $((ITER / 4)) ]
echo "    $ITER kills in $elapsed s; the file changed between kills in $changed of them"

finish
