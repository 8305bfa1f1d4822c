#!/bin/bash
#
# The mutation check of the advertised error bound (tests/README.md): the
# simulator over a clock core built with -DCLK_MUTANTS
# (build/clocksim-mutants) leaves one term of the bound out at a time
# (--mutant K, enum clk_mutant in clock/core.h), and the scenarios that
# term is there for must then fail; with nothing left out the same runs
# must pass, so a failure is the term's and not the build's. Terms and
# the scenarios that prove them:
#   1 root delay / 2 (the upstream's and our path's)  s2-delay, asym
#   2 the upstream's root dispersion                  s2-disp, upstream-step
#   3 a sample's dispersion growth since taken        wander-1e-7, jump-5
#   4 the served time's offset from the sample        default, jump+0.5
#   5 the system jitter                               noisy-server
#   6 growth after the update (PHI + skew)            holdover-dist
#   7 growth at the slew's own rate                   stall
#   8 the widening while a step is watched            lossy-jump, falsetickers-jump
# Each pair runs over CLOCKMUT_SEEDS seeds (default 10; `make test-long`
# runs 50, and then every mutant also over every scenario with
# CLOCKMUT_FULL_SEEDS seeds, default 20, listing all that fail). Needs no
# root, no network, no real clock.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init --no-root

MUTSIM=$HOROD_BUILD/clocksim-mutants
SEEDS=${CLOCKMUT_SEEDS:-10}
FULL=${CLOCKMUT_FULL:-0}                # 1: also every mutant over every scenario ...
FULL_SEEDS=${CLOCKMUT_FULL_SEEDS:-20}   # ... over this many seeds
JOBS=2                   # worker processes: the machine's two cores

[ -x "$MUTSIM" ] || die "no clocksim-mutants at $MUTSIM (run make all, or set HOROD_BUILD)"
case $SEEDS$FULL_SEEDS in
'' | *[!0-9]*) die "CLOCKMUT_SEEDS and CLOCKMUT_FULL_SEEDS must be numbers" ;;
esac

# term number, its name, the scenarios it is there for
MUTANTS=(
	"1|root delay / 2|s2-delay,asym"
	"2|upstream root dispersion|s2-disp,upstream-step"
	"3|sample dispersion growth|wander-1e-7,jump-5"
	"4|offset from the sample|default,jump+0.5"
	"5|system jitter|noisy-server"
	"6|growth after the update|holdover-dist"
	"7|growth at the slew's rate|stall"
	"8|widening while a step is watched|lossy-jump,falsetickers-jump"
)

out=$T_DIR/mutants.out

# True when scenario $1's line in clocksim's output $2 says FAIL.
scenario_failed()
{
	awk -v s="$1" '$1 == s && / seeds / && /FAIL:/ { found = 1 } END { exit !found }' "$2"
}

all_scen=""
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r _ _ scen <<<"$m"
	all_scen=${all_scen:+$all_scen,}$scen
done

# The control: the mutant build with nothing left out passes every scenario used.
"$MUTSIM" --mutant 0 --scenario "$all_scen" --seeds "$SEEDS" --jobs "$JOBS" >"$out" 2>&1
rc=$?
check "with no term left out the mutant build passes $all_scen (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || cat "$out"

for m in "${MUTANTS[@]}"; do
	IFS='|' read -r k name scen <<<"$m"
	"$MUTSIM" --mutant "$k" --scenario "$scen" --seeds "$SEEDS" --jobs "$JOBS" >"$out" 2>&1
	rc=$?
	failed=$(grep -E ' seeds .*FAIL:' "$out" | awk '{print $1}' | paste -sd, -)
	check "without the $name (term $k) a scenario fails: exit $rc, failed: ${failed:-none}" \
		[ "$rc" = 1 ]
	# Every scenario named must fail: each is there to prove this term.
	IFS=',' read -ra want <<<"$scen"
	for s in "${want[@]}"; do
		check "  ... $s among them" scenario_failed "$s" "$out"
	done
	if [ "$FULL" = 1 ]; then
		"$MUTSIM" --mutant "$k" --seeds "$FULL_SEEDS" --jobs "$JOBS" >"$out" 2>&1
		echo "    term $k ($name) left out, every scenario: failed" \
			"$(grep -E ' seeds .*FAIL:' "$out" | awk '{print $1}' | paste -sd' ' -)"
	fi
done
finish
