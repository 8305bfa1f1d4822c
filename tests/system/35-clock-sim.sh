#!/bin/bash
#
# The clock core in the deterministic simulator (tests/sim/clocksim.c),
# driven on the clock thread's schedule: every scenario of tests/README.md
# (issue 3's: default network, 10 ms jitter, 1e-7 wander, 100 s offset with
# and without makestep, 2 and 3 falsetickers of 5, loss and asymmetry,
# discipline off, holdover to LI 3 or to the local fallback, driftfile
# restore, the 2036 era rollover, a LAN at minpoll 0; issue 20's: stratum
# 2 servers whose errors fill their root delay or dispersion, an
# asymmetric path, noisy server timestamps, our clock jumping +-0.1 to 5 s
# with and without makestep, with loss and with falsetickers, an upstream
# stepping honestly or as a liar, leap seconds inserted and deleted with
# the driver, the core or nobody else applying them, early leap bits, a
# stalled clock thread) over CLOCKSIM_SEEDS seeds each (default 50; `make
# test-long` runs 200), checked against its limits, the advertised error
# bound against the true error at every observation. Prints the
# simulator's table: per scenario the median and worst over seeds of the
# sync time, max and RMS error, resync after a jump, next to the limits,
# and the honesty counts (claims the bound did not cover: outside the
# window between our clock's jump and the first sample after it, which
# must be none, and inside it, which are reported). Needs no root, no
# network, no real clock.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init --no-root

CLOCKSIM=$HOROD_BUILD/clocksim
SEEDS=${CLOCKSIM_SEEDS:-50}
JOBS=2 # worker processes: the machine's two cores

[ -x "$CLOCKSIM" ] || die "no clocksim at $CLOCKSIM (run make all, or set HOROD_BUILD)"
case $SEEDS in
'' | *[!0-9]*) die "CLOCKSIM_SEEDS must be a number, got '$SEEDS'" ;;
esac

out=$T_DIR/clocksim.out
"$CLOCKSIM" --seeds "$SEEDS" --jobs "$JOBS" >"$out" 2>&1
rc=$?
cat "$out"
while read -r name rest; do
	case $rest in
	*" PASS") pass "clocksim $name" ;;
	*FAIL*) fail "clocksim $name:${rest##*FAIL:}" ;;
	esac
done < <(grep -E ' seeds ' "$out")
check "clocksim exits 0 (got $rc)" [ "$rc" = 0 ]
check "clocksim ran every scenario" grep -q "^clocksim: \([0-9]*\) of \1 scenarios passed" "$out"
finish
