#!/bin/bash
# shellcheck disable=SC2034 # T_CTX is read by lib.sh
#
# The XDP guard through BPF_PROG_TEST_RUN, in a network namespace of
# guard-test's own with a veth "wire" (tests/bpf/guard_test.c): one
# crafted frame per class with named asserts on the verdict, the reason,
# the output frame (kiss-o'-death bytes, answers compared field by field
# with a worker's reply from the real publisher's state) and the
# counters, what XDP may answer and what it leaves to the kernel, the
# host table's rtnetlink listener; then the differential test: 1,000,000
# seeded random and mutated frames through the program and through the
# userspace reference (the same policy.c and ratelimit.c the workers run,
# and its own reading of the answering rules) under five configurations,
# the last with `guard serve on`: same verdict and reason for every frame,
# every answer a worker's reply. Needs root (or CAP_BPF + CAP_NET_ADMIN
# + CAP_SYS_ADMIN): without, it skips with exit 77.
#
# Environment: GUARD_DIFF_COUNT (frames, default 1000000), GUARD_DIFF_SEED
# (default: the day, so each day's run covers new frames; printed, so a
# failure can be replayed with the same seed).

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
GUARD_TEST=$HOROD_BUILD/guard-test
COUNT=${GUARD_DIFF_COUNT:-1000000}
SEED=${GUARD_DIFF_SEED:-$(date -u +%Y%m%d)}

[ "$(id -u)" = 0 ] || skip "needs root (or CAP_BPF + CAP_NET_ADMIN) to load the XDP guard"
lib_init --no-root
[ -x "$GUARD_TEST" ] || die "no guard-test binary at $GUARD_TEST (run make all)"

# run_guard_test WHAT ARGS...: pass/fail on its exit status, skip on 77.
run_guard_test()
{
	local what=$1 out rc
	shift
	out=$("$GUARD_TEST" "$@" 2>&1)
	rc=$?
	if [ "$rc" = 77 ]; then
		echo "$out" | grep '^SKIP' | head -n 1
		skip "the kernel refused to load BPF programs"
	fi
	echo "$out" | grep -E '^(FAIL|    |diff:)' | head -n 60
	echo "$out" | tail -n 1
	if [ "$rc" = 0 ] && echo "$out" | tail -n 1 | grep -qE '^[1-9][0-9]* passed, 0 failed$'; then
		pass "$what: $(echo "$out" | tail -n 1)"
	else
		fail "$what (exit $rc)"
	fi
}

run_guard_test "one frame per class (guard-test unit)" unit
echo "differential test: seed $SEED, $COUNT frames (replay: GUARD_DIFF_SEED=$SEED)"
run_guard_test "differential, $COUNT frames" diff --seed "$SEED" --count "$COUNT"

finish
