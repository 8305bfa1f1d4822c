/*
 * The clock simulator's scenarios and their checks: the default scenario
 * (one server on a quiet network, 0.1 s and 100 ppm off) and the variants
 * of issue 3, each with its limits; and the report that prints, per
 * scenario, the median and worst over seeds next to those limits and
 * says which checks failed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/clocksim.h"

#define START_2023 1700000000LL /* s since 1970: an ordinary start time */
#define ERA1_START 2085978496LL /* s since 1970 of 2036-02-07 06:28:16 UTC, NTP era 1 */
/* s: time to synchronize (|error| <= 500 us for good) from 0.1 s and 100 ppm, issue 3's
 * limit. Reachable because the slew goes beyond ADJ_FREQUENCY's 500 ppm (up to
 * CLK_MAX_SLEW_PPM); at 500 ppm it would take about 250 s. */
#define SYNC_LIMIT 120

struct scenario sim_scenarios[N_SCENARIOS];

/* The default scenario's settings; every other scenario changes a few. */
static void base(struct scenario *sc, const char *name, const char *what)
{
	memset(sc, 0, sizeof(*sc));
	sc->name = name;
	sc->what = what;
	sc->delay = 1e-4;
	sc->jitter = 1e-4;
	sc->wander = 1e-9;
	sc->offset = 0.1;
	sc->freq_ppm = 100;
	sc->nservers = 1;
	sc->minpoll = 6;
	sc->maxpoll = 10;
	sc->discipline = 1;
	sc->makestep = 1.0;
	sc->makestep_limit = 3;
	sc->holdover = -1;
	sc->duration = 10000;
	sc->start = START_2023;
	sc->sync_level = 500e-6;
	sc->sync_limit = SYNC_LIMIT;
	sc->max_limit = 500e-6;
	sc->rms_limit = 150e-6;
	sc->steps_expect = 0;
}

void sim_make_scenarios(void)
{
	struct scenario *sc = sim_scenarios;

	base(sc, "default",
	     "1 server, delay 100 us, jitter 100 us, wander 1e-9, offset 0.1 s, freq 100 ppm");
	sc++;
	base(sc, "jitter-10ms", "default with 10 ms jitter: RMS <= 5 ms");
	sc->jitter = 10e-3;
	sc->sync_level = 30e-3;
	sc->sync_limit = 0;
	sc->max_limit = 0;
	sc->rms_limit = 5e-3;
	sc++;
	base(sc, "wander-1e-7", "default with wander 1e-7: max <= 5 ms");
	sc->wander = 1e-7;
	sc->sync_level = 5e-3;
	sc->max_limit = 5e-3;
	sc->rms_limit = 0;
	sc++;
	base(sc, "step-100s",
	     "initial offset 100 s, makestep 1 3: one step, then the default limits");
	sc->offset = 100;
	sc->steps_expect = 1;
	sc++;
	base(sc, "slew-100s",
	     "initial offset 100 s, no makestep: slews at about 8 % (83333 ppm), never steps");
	sc->offset = 100;
	sc->makestep_limit = 0;
	/* s: shorter than the ~1200 s the slew takes, so the check measures its rate */
	sc->duration = 900;
	sc->sync_level = 0;
	sc->sync_limit = 0;
	sc->max_limit = 0;
	sc->rms_limit = 0;
	sc->slew_min_ppm = 80000; /* ppm: the ceiling less the oscillator's 100 and the start */
	sc++;
	base(sc, "falsetickers-2",
	     "5 servers, 2 lie (+0.5 s, -0.3 s): never selected, default limits");
	sc->nservers = 5;
	sc->lie[1] = 0.5;
	sc->lie[3] = -0.3;
	sc->liars_never = 1;
	sc->liars_x = 1;
	sc++;
	base(sc, "falsetickers-3",
	     "5 servers, 3 lie (+0.5, -0.3, +1.0 s): never followed, never claims sync");
	sc->nservers = 5;
	sc->lie[1] = 0.5;
	sc->lie[3] = -0.3;
	sc->lie[4] = 1.0;
	sc->liars_never = 1;
	sc->never_synced = 1;
	sc->duration = 3600;
	sc->sync_level = 0;
	sc->sync_limit = 0;
	sc->max_limit = 0;
	sc->rms_limit = 0;
	sc++;
	base(sc, "lossy", "3 servers, 20 % loss, 50 us asymmetry, minpoll 4: default limits");
	sc->nservers = 3;
	sc->loss = 0.2;
	sc->asym = 50e-6;
	sc->minpoll = 4;
	sc++;
	base(sc, "discipline-off", "default with discipline off: served = raw + own correction");
	sc->discipline = 0;
	sc++;
	base(sc, "holdover",
	     "default, every server lost at 2 h; holdover 1 h: dispersion >= 15 ppm/s, LI 3");
	sc->cut_at = 7200;
	sc->holdover = 3600;
	sc->duration = 7200 + 3 * 3600;
	sc++;
	base(sc, "holdover-local",
	     "as holdover with local stratum 10: serves stratum 10 LOCL after the holdover");
	sc->cut_at = 7200;
	sc->holdover = 3600;
	sc->duration = 7200 + 3 * 3600;
	sc->local_stratum = 10;
	sc++;
	base(sc, "holdover-dist",
	     "servers lost at 2 h, holdover until the root distance passes 1.5 s");
	sc->cut_at = 7200;
	sc->holdover = -1;
	sc->duration = 7200 + 30 * 3600;
	sc++;
	base(sc, "driftfile",
	     "restart from the previous run's drift: frequency error <= 0.1 ppm at update 1");
	sc->duration = 86400;
	sc->wander = 1e-10;
	sc->restart = 1;
	sc->drift_limit = 0.1;
	sc++;
	base(sc, "era-2036", "default across 2036-02-07 06:28:16 UTC (NTP era 0 -> 1)");
	sc->start = ERA1_START - 3600;
	sc->duration = 3 * 3600;
	sc++;
	base(sc, "lan-minpoll-0", "LAN: delay 20 us, jitter 10 us, minpoll 0 maxpoll 4");
	sc->delay = 20e-6;
	sc->jitter = 10e-6;
	sc->minpoll = 0;
	sc->maxpoll = 4;
	sc->offset = 0.01;
	sc->max_limit = 100e-6;
	sc->sync_level = 100e-6;
	sc->rms_limit = 20e-6;
	sc++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and worst (largest) of V[0..N-1]; V is sorted. */
static void med_worst(double *v, int n, double *med, double *worst)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	*med = v[n / 2];
	*worst = v[n - 1];
}

/* Print "NAME med/worst UNIT (<= LIMIT)" with values scaled by SCALE; no limit when <= 0. */
static void column(const char *name, double med, double worst, double limit, const char *unit,
		   double scale)
{
	if (isinf(worst)) {
		printf("  %s never", name);
		return;
	}
	printf("  %s %.1f/%.1f %s", name, med * scale, worst * scale, unit);
	if (limit > 0.0)
		printf(" (<= %.0f)", limit * scale);
}

int sim_report(const struct scenario *sc, const struct result *res, int n, int verbose)
{
	double *v = calloc((size_t)n, sizeof(*v)), med, worst, smed, sworst, mmed, mworst, rmed,
	       rworst;
	int i, ok = 1, never = 0;
	char why[512] = "";

	if (!v)
		return 0;
	size_t w = 0;

#define FAILF(...)                                                                                 \
	do {                                                                                       \
		ok = 0;                                                                            \
		if (w < sizeof(why))                                                               \
			w += (size_t)snprintf(why + w, sizeof(why) - w, __VA_ARGS__);              \
	} while (0)

	for (i = 0; i < n && verbose; i++)
		printf("  seed %3d: sync %7.1f s  max %9.1f us  rms %8.1f us  steps %d  honest "
		       "%.2f  "
		       "final %+.3e s  drift %+.4f ppm\n",
		       i + 1, res[i].sync, res[i].max * 1e6, res[i].rms * 1e6, res[i].steps,
		       res[i].worst_ratio, res[i].final_err, res[i].drift_err);
	for (i = 0; i < n; i++) {
		never += res[i].sync < 0.0;
		v[i] = res[i].sync < 0.0 ? INFINITY : res[i].sync;
	}
	med_worst(v, n, &smed, &sworst);
	for (i = 0; i < n; i++)
		v[i] = res[i].max;
	med_worst(v, n, &mmed, &mworst);
	for (i = 0; i < n; i++)
		v[i] = res[i].rms;
	med_worst(v, n, &rmed, &rworst);
	printf("%-14s %3d seeds", sc->name, n);
	if (sc->sync_level > 0.0) {
		column("sync", smed, sworst, sc->sync_limit, "s", 1.0);
		column("max", mmed, mworst, sc->max_limit, "us", 1e6);
		column("rms", rmed, rworst, sc->rms_limit, "us", 1e6);
		for (i = 0; i < n; i++)
			v[i] = res[i].late_max;
		med_worst(v, n, &med, &worst);
		column("late-max", med, worst, 0.0, "us", 1e6);
	}
	for (i = 0; i < n; i++)
		v[i] = res[i].worst_ratio;
	med_worst(v, n, &med, &worst);
	printf("  error/bound <= %.3f", worst);
	if (sc->sync_limit > 0.0 && (never || sworst > sc->sync_limit))
		FAILF(" sync-time");
	if (sc->max_limit > 0.0 && mworst > sc->max_limit)
		FAILF(" max");
	if (sc->rms_limit > 0.0 && rworst > sc->rms_limit)
		FAILF(" rms");
	for (i = 0; i < n; i++) {
		if (res[i].honest_bad) {
			FAILF(" dishonest(seed %d: %ld samples, error/bound %.2f)", i + 1,
			      res[i].honest_bad, res[i].worst_ratio);
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (sc->steps_expect >= 0 && res[i].steps != sc->steps_expect) {
			FAILF(" steps(seed %d: %d, expected %d)", i + 1, res[i].steps,
			      sc->steps_expect);
			break;
		}
	}
	for (i = 0; i < n && sc->liars_never; i++) {
		if (res[i].liar_picked) {
			FAILF(" liar-selected(seed %d)", i + 1);
			break;
		}
	}
	for (i = 0; i < n && sc->liars_x; i++) {
		if (res[i].liar_not_x) {
			FAILF(" liar-not-x(seed %d)", i + 1);
			break;
		}
	}
	for (i = 0; i < n && sc->never_synced; i++) {
		if (res[i].ever_synced) {
			FAILF(" claimed-sync(seed %d)", i + 1);
			break;
		}
	}
	for (i = 0; i < n && sc->cut_at > 0.0; i++) {
		if (res[i].growth_min < CLK_PHI * 0.999) {
			FAILF(" growth(seed %d: %.2e s/s)", i + 1, res[i].growth_min);
			break;
		}
		if (!res[i].li3_after || !res[i].local_ok) {
			FAILF(" %s(seed %d)", sc->local_stratum ? "no-local" : "no-LI3", i + 1);
			break;
		}
	}
	for (i = 0; i < n && sc->cut_at > 0.0 && !sc->local_stratum; i++) {
		if (res[i].final_synced) {
			FAILF(" still-synced-at-end(seed %d)", i + 1);
			break;
		}
	}
	if (sc->slew_min_ppm > 0.0) {
		for (i = 0; i < n; i++)
			v[i] = -(fabs(sc->offset) - fabs(res[i].final_err)) / sc->duration * 1e6;
		med_worst(v, n, &med, &worst);
		printf("  slew %.0f/%.0f ppm (>= %.0f)", -med, -worst, sc->slew_min_ppm);
		if (-worst < sc->slew_min_ppm)
			FAILF(" slew");
	}
	if (sc->drift_limit > 0.0) {
		for (i = 0; i < n; i++)
			v[i] = fabs(res[i].drift_err);
		med_worst(v, n, &med, &worst);
		printf("  drift %.3f/%.3f ppm (<= %.1f)", med, worst, sc->drift_limit);
		if (worst > sc->drift_limit)
			FAILF(" drift");
	}
	if (sc->cut_at > 0.0) {
		for (i = 0; i < n; i++)
			v[i] = res[i].growth_min;
		med_worst(v, n, &med, &worst);
		printf("  growth min %.1f ppm/s", v[0] * 1e6);
	}
	printf("  %s%s\n", ok ? "PASS" : "FAIL:", why);
#undef FAILF
	free(v);
	return ok;
}
