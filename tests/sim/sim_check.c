/*
 * The clock simulator's checks. During a run, every observation (each
 * publication, the instant before each once-a-second one, and after every
 * sample) compares the served time with UTC: where synchronization is
 * claimed, the advertised root delay / 2 + root dispersion must cover the
 * error. Claims between our clock's jump and the first sample after it
 * (which no server can have told us about yet) and at the leap edge (the
 * instant between our clock's midnight and UTC's, as long as the clock's
 * own error) are counted apart; every other uncovered claim fails the
 * scenario. After the run: the sync time (from when the error stays
 * within the scenario's level until the end of the measured span; never
 * is a failure), the max and RMS over a fixed window, the time to
 * resynchronize after our clock's jump, counted from the first sample
 * after it. The report prints, per scenario, the median and worst over
 * seeds next to the limits and says which checks failed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim_check.h"

#define HONEST_SLACK 1e-9      /* s: rounding of the snapshot arithmetic (ns) */
#define EDGE_NS	     1000000LL /* ns: the leap edge, as wide as a clock error can be here (1 ms) */
#define EDGE_ERR     0.5       /* s: an error this large at the edge is the leap's own second */
/* ns: how far below the last observation a smeared served time may be: none (the core takes
 * up the 1-4 ns roundings of a republished mapping under the smear, core_leap.c) */
#define BACK_SLACK_NS 0

int sim_trace_all;

int sim_acc_init(struct sim_acc *a, const struct scenario *sc)
{
	memset(a, 0, sizeof(*a));
	a->cap = (long)(sc->duration * 2.0) + 16; /* twice a second at most: a generous bound */
	a->err = calloc((size_t)a->cap, sizeof(*a->err));
	a->at = calloc((size_t)a->cap, sizeof(*a->at));
	a->synced = calloc((size_t)a->cap, sizeof(*a->synced));
	if (!a->err || !a->at || !a->synced) {
		sim_acc_free(a);
		return -1;
	}
	return 0;
}

void sim_acc_free(struct sim_acc *a)
{
	free(a->err);
	free(a->at);
	free(a->synced);
	memset(a, 0, sizeof(*a));
}

void sim_result_init(struct result *res)
{
	memset(res, 0, sizeof(*res));
	res->sync = -1.0;
	res->resync = -1.0;
	res->first_after = -1.0;
	res->growth_min = INFINITY;
	res->li3_after = 1;
	res->local_ok = 1;
	res->bad_first = -1.0;
	res->bad_last = -1.0;
}

int sim_is_liar(const struct scenario *sc, int i)
{
	return sc->srv[i].lie != 0.0;
}

/* Served time's error now (s, served - UTC) and the bound the snapshot advertises for it. */
static double served_error(const struct sim *s, double *bound)
{
	int64_t served = clk_snapshot_served(&s->snap, s->t);

	*bound = s->snap.root_delay / 2.0 + clk_snapshot_root_disp(&s->snap, served);
	return (double)(served - sim_ref(s)) / 1e9;
}

/* What the served time should be now: UTC, or under the smear the smeared time (truth is
 * leap-free time: it counts the leap second). */
int64_t sim_ref(const struct sim *s)
{
	if (s->leap_dir && s->sc->leap_mode == CLK_LEAPMODE_SMEAR)
		return s->t + clk_smear_offset_ns(&s->smear, s->t);
	return sim_utc(s, s->t);
}

/* ns: under leapsecmode slew, how far the served time may be from the slewed truth: the
 * clock's own error here is tens of us; a step instead of the slew is 1 s off */
#define SLEW_ERR_LIMIT 1e-3

/* What the served time should follow under the smear or the slew: leap-free truth plus the
 * segment's offset (the slew's honesty is still judged against UTC, sim_ref). */
static int64_t sim_smeared(const struct sim *s)
{
	return s->t + clk_smear_offset_ns(&s->smear, s->t);
}

/* 1 when the scenario's served time crosses the leap on a linear segment (smear, slew). */
static int leap_linear(const struct scenario *sc)
{
	return sc->leap_mode == CLK_LEAPMODE_SMEAR || sc->leap_mode == CLK_LEAPMODE_SLEW;
}

/*
 * The leap's checks at one claim: the LI served is the leap's during its
 * last day (RFC 5905), none before it, none from its edge on, and never
 * under the smear; a second around the edge is left out (which side of it
 * the snapshot is depends on the clock's own error). Under the smear the
 * served time never goes backwards.
 */
static void leap_checks(struct sim *s, struct result *res)
{
	const struct scenario *sc = s->sc;
	int64_t utc = sim_utc(s, s->t), m = (int64_t)sc->leap_end * NS;
	int64_t served = clk_snapshot_served(&s->snap, s->t);
	int want = NTP_LEAP_NONE;

	if (sc->leap_mode != CLK_LEAPMODE_SMEAR && s->t < s->leap_ns && utc >= m - 86400LL * NS)
		want = s->leap_dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
	/* A second around the edge and around the start of the last day is left out. */
	if (llabs(s->t - s->leap_ns) > NS && llabs(utc - (m - 86400LL * NS)) > NS &&
	    s->snap.leap != want) {
		if (s->trace && !res->li_bad)
			fprintf(s->trace, "LI %u served at %.3f s, want %d\n", s->snap.leap,
				(double)(s->t - s->t0) / 1e9, want);
		res->li_bad++;
	}
	if (leap_linear(sc) && s->t - s->t0 >= sim_ns_of(sc->win_from)) {
		if (s->last_served && served < s->last_served - BACK_SLACK_NS) {
			if (s->trace)
				fprintf(s->trace, "backwards by %lld ns at %.3f s\n",
					(long long)(s->last_served - served),
					(double)(s->t - s->t0) / 1e9);
			res->back++;
		}
		s->last_served = served;
		res->smear_err =
			fmax(res->smear_err, fabs((double)(served - sim_smeared(s)) / 1e9));
	}
}

/* 1 at the leap edge: UTC has leapt and the served time not yet, or the other way round. */
static int at_leap_edge(const struct sim *s, double err)
{
	return s->leap_dir && llabs(s->t - s->leap_ns) <= EDGE_NS && fabs(err) > EDGE_ERR;
}

/* The honesty of one claim of synchronization with error ERR and bound BOUND. */
static void judge(const struct sim *s, struct result *res, double err, double bound, double el)
{
	double ratio = bound > 0.0 ? fabs(err) / bound : INFINITY;
	int bad = fabs(err) > bound + HONEST_SLACK;

	res->claims++;
	res->worst_any = fmax(res->worst_any, ratio);
	if (bad && s->trace)
		fprintf(s->trace, "uncovered at %.6f s: error %+.6e s, bound %.6e s%s\n", el, err,
			bound, s->jump_open ? " (before the first sample after the jump)" : "");
	if (bad) {
		if (res->bad_first < 0.0)
			res->bad_first = el;
		res->bad_last = el;
	}
	if (s->jump_open) {
		res->step_obs++;
		res->step_bad += bad;
		res->step_ratio = fmax(res->step_ratio, ratio);
	} else if (at_leap_edge(s, err)) {
		res->edge_obs++;
		res->edge_bad += bad;
	} else {
		res->honest_bad += bad;
		res->worst_ratio = fmax(res->worst_ratio, ratio);
	}
}

/* Holdover: the growth of the advertised dispersion, LI 3 or the local reference after it. */
static void holdover(struct sim *s, struct result *res, struct sim_acc *a, double el, int synced)
{
	const struct scenario *sc = s->sc;

	if (sc->cut_at > 0.0 && el >= sc->cut_at && synced) {
		double d;

		served_error(s, &d);
		if (a->cut_disp_t && s->t - a->cut_disp_t >= 60 * NS &&
		    s->snap.refid != ntp_refid_ascii("LOCL")) {
			double g = (d - a->cut_disp) / ((double)(s->t - a->cut_disp_t) / 1e9);

			if (g < res->growth_min)
				res->growth_min = g;
		}
		if (!a->cut_disp_t || s->t - a->cut_disp_t >= 60 * NS) {
			a->cut_disp = d;
			a->cut_disp_t = s->t;
		}
	}
	if (sc->cut_at > 0.0 && sc->holdover > 0.0 && el >= sc->cut_at + sc->holdover + 1.0) {
		if (sc->local_stratum) {
			if (!(s->snap.stratum == sc->local_stratum &&
			      s->snap.leap == NTP_LEAP_NONE &&
			      s->snap.refid == ntp_refid_ascii("LOCL")))
				res->local_ok = 0;
		} else if (synced) {
			res->li3_after = 0;
		}
	}
}

static void trace(struct sim *s, const struct result *res, double el, double err, double bound)
{
	struct clk_tracking tr;
	struct clk_source_info si;
	int64_t now = clk_driver_from_sys(s->drv, s->t);

	if (!s->trace || (res->samples % 10 != 0 && !sim_trace_all))
		return;
	clk_core_tracking(s->core, now, &tr);
	fprintf(s->trace,
		"%14.6f err %+.6e bound %.6e li %u st %u freq %+.4f skew %.4f off %+.3e "
		"poll %d peer %d watch %d\n",
		el, err, bound, s->snap.leap, s->snap.stratum, tr.freq_ppm, tr.skew_ppm, tr.offset,
		tr.sys_peer >= 0 ? (clk_core_source_info(s->core, tr.sys_peer, &si), si.poll) : -1,
		tr.sys_peer, tr.watching);
	for (int i = 0; sim_trace_all && i < s->sc->nservers; i++) {
		clk_core_source_info(s->core, i, &si);
		fprintf(s->trace,
			"         src %d %c off %+.6e dist %.3e reach %03o flash %#x poll %d\n", i,
			si.tally, si.offset, si.root_distance, si.reach, si.flash, si.poll);
	}
}

void sim_observe(struct sim *s, struct result *res, struct sim_acc *a, int record)
{
	const struct scenario *sc = s->sc;
	double bound, err = served_error(s, &bound), el = (double)(s->t - s->t0) / 1e9;
	int synced = s->snap.leap != NTP_LEAP_UNSYNC;
	struct clk_source_info si;
	int i;

	res->samples++;
	res->final_err = err;
	res->final_synced = synced && s->snap.refid != ntp_refid_ascii("LOCL");
	if (synced) {
		res->ever_synced = 1;
		judge(s, res, err, bound, el);
		if (sc->leap)
			leap_checks(s, res);
	}
	for (i = 0; i < sc->nservers; i++) {
		clk_core_source_info(s->core, i, &si);
		if (sim_is_liar(sc, i) && (si.tally == '*' || si.tally == '+'))
			res->liar_picked = 1;
	}
	if (!record) {
		if (sim_trace_all)
			trace(s, res, el, err, bound);
		return;
	}
	/* The leap's own second at its edge is no error of the clock's (counted apart); nor is
	 * the slew's after it (judged against UTC above, and against the slewed truth). */
	if (s->leap_dir && sc->leap_mode == CLK_LEAPMODE_SLEW)
		err = (double)(clk_snapshot_served(&s->snap, s->t) - sim_smeared(s)) / 1e9;
	if ((sc->cut_at <= 0.0 || el < sc->cut_at) && a->n < a->cap && !at_leap_edge(s, err)) {
		a->err[a->n] = err;
		a->at[a->n] = el;
		a->synced[a->n++] = synced;
	}
	holdover(s, res, a, el, synced);
	trace(s, res, el, err, bound);
}

/* The end of the span the sync time and the window measure: the scenario's, else the jump,
 * the cut or the end. */
static double horizon(const struct scenario *sc)
{
	if (sc->win_to > 0.0)
		return sc->win_to;
	if (sc->jump_at > 0.0)
		return sc->jump_at; /* the earliest it can come */
	if (sc->cut_at > 0.0)
		return sc->cut_at;
	return sc->duration + 1.0;
}

/* Index of the first observation in [FROM, TO) from which the error stays synchronized and
 * within LEVEL until TO; -1 when there is none. */
static long settled_from(const struct sim_acc *a, double from, double to, double level)
{
	long i, at = -1;

	for (i = a->n - 1; i >= 0; i--) {
		if (a->at[i] >= to)
			continue;
		if (a->at[i] < from || !a->synced[i] || fabs(a->err[i]) > level)
			break;
		at = i;
	}
	return at;
}

void sim_settle(const struct scenario *sc, const struct sim_acc *a, struct result *res)
{
	double h = horizon(sc), sum2 = 0.0;
	long i, k, m = 0;

	k = sc->sync_level > 0.0 ? settled_from(a, 0.0, h, sc->sync_level) : -1;
	res->sync = k >= 0 ? a->at[k] : -1.0;
	res->max = 0.0;
	res->late_max = 0.0;
	for (i = 0; i < a->n; i++) {
		if (a->at[i] >= h)
			break;
		if (a->at[i] >= h / 2.0)
			res->late_max = fmax(res->late_max, fabs(a->err[i]));
		if (a->at[i] < sc->win_from)
			continue;
		/* A claim the window cannot vouch for: unsynchronized counts as unbounded. */
		res->max = fmax(res->max, a->synced[i] ? fabs(a->err[i]) : INFINITY);
		sum2 += a->err[i] * a->err[i];
		m++;
	}
	res->rms = m ? sqrt(sum2 / (double)m) : INFINITY;
	if (sc->jump_at > 0.0 && sc->sync_level > 0.0 && res->first_after >= 0.0) {
		double from = res->jump_el + res->first_after;

		k = settled_from(a, res->jump_el, sc->duration + 1.0, sc->sync_level);
		res->resync = k >= 0 ? fmax(0.0, a->at[k] - from) : -1.0;
	}
}

/* ---- the verdict over seeds ---- */

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
	if (isinf(med)) {
		printf("  %s never", name);
		return;
	}
	if (isinf(worst)) {
		printf("  %s %.1f/never %s", name, med * scale, unit);
		return;
	}
	printf("  %s %.1f/%.1f %s", name, med * scale, worst * scale, unit);
	if (limit > 0.0)
		printf(" (<= %.0f)", limit * scale);
}

/* Per-seed lines. */
static void verbose_lines(const struct result *res, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("  seed %3d: sync %7.1f s  max %9.1f us  rms %8.1f us  steps %d  "
		       "honest %.3f  step-window %ld/%ld (%.1f)  resync %.1f s after %.1f s  "
		       "final %+.3e s  drift %+.4f ppm\n",
		       i + 1, res[i].sync, res[i].max * 1e6, res[i].rms * 1e6, res[i].steps,
		       res[i].worst_ratio, res[i].step_bad, res[i].step_obs, res[i].step_ratio,
		       res[i].resync, res[i].first_after, res[i].final_err, res[i].drift_err);
}

/* The honesty summary over seeds: uncovered claims outside and inside the windows. */
static void honesty_line(const struct result *res, int n)
{
	long bad = 0, sbad = 0, sobs = 0, ebad = 0, eobs = 0, claims = 0, all = 0;
	double worst = 0.0, sworst = 0.0, first = -1.0, last = -1.0, any = 0.0;
	int i;

	for (i = 0; i < n; i++) {
		bad += res[i].honest_bad;
		sbad += res[i].step_bad;
		sobs += res[i].step_obs;
		ebad += res[i].edge_bad;
		eobs += res[i].edge_obs;
		claims += res[i].claims;
		all += res[i].samples;
		worst = fmax(worst, res[i].worst_ratio);
		sworst = fmax(sworst, res[i].step_ratio);
		any = fmax(any, res[i].worst_any);
		if (res[i].bad_first >= 0.0 && (first < 0.0 || res[i].bad_first < first))
			first = res[i].bad_first;
		last = fmax(last, res[i].bad_last);
	}
	printf("  error/bound <= %.3f", worst);
	printf("  [honesty: %ld uncovered of %ld claims (%ld samples)", bad, claims, all);
	if (sobs)
		printf("; step window %ld/%ld uncovered, worst %.1f", sbad, sobs, sworst);
	if (eobs)
		printf("; leap edge %ld/%ld", ebad, eobs);
	if (first >= 0.0)
		printf("; uncovered %.0f-%.0f s, worst %.1f", first, last, any);
	printf("]");
}

int sim_report(const struct scenario *sc, const struct result *res, int n, int verbose)
{
	double *v = calloc((size_t)n, sizeof(*v)), med, worst, smed, sworst;
	int i, ok = 1, never = 0;
	char why[512] = "";
	size_t w = 0;

	if (!v)
		return 0;
#define FAILF(...)                                                                                 \
	do {                                                                                       \
		ok = 0;                                                                            \
		if (w < sizeof(why))                                                               \
			w += (size_t)snprintf(why + w, sizeof(why) - w, __VA_ARGS__);              \
	} while (0)

	if (verbose)
		verbose_lines(res, n);
	for (i = 0; i < n; i++) {
		never += res[i].sync < 0.0;
		v[i] = res[i].sync < 0.0 ? INFINITY : res[i].sync;
	}
	med_worst(v, n, &smed, &sworst);
	printf("%-15s %3d seeds", sc->name, n);
	if (sc->sync_level > 0.0) {
		column("sync", smed, sworst, sc->sync_limit, "s", 1.0);
		if (never)
			FAILF(" never-synced(%d seeds)", never);
		else if (sc->sync_limit > 0.0 && sworst > sc->sync_limit)
			FAILF(" sync-time");
		for (i = 0; i < n; i++)
			v[i] = res[i].max;
		med_worst(v, n, &med, &worst);
		column("max", med, worst, sc->max_limit, "us", 1e6);
		if (sc->max_limit > 0.0 && !(worst <= sc->max_limit))
			FAILF(" max");
		for (i = 0; i < n; i++)
			v[i] = res[i].rms;
		med_worst(v, n, &med, &worst);
		column("rms", med, worst, sc->rms_limit, "us", 1e6);
		if (sc->rms_limit > 0.0 && !(worst <= sc->rms_limit))
			FAILF(" rms");
		for (i = 0; i < n; i++)
			v[i] = res[i].late_max;
		med_worst(v, n, &med, &worst);
		column("late-max", med, worst, 0.0, "us", 1e6);
	}
	if (sc->jump_at > 0.0 && sc->sync_level > 0.0) {
		for (i = 0; i < n; i++)
			v[i] = res[i].first_after < 0.0 ? INFINITY : res[i].first_after;
		med_worst(v, n, &med, &worst);
		column("first-sample", med, worst, 0.0, "s", 1.0);
		for (i = 0; i < n; i++)
			v[i] = res[i].resync < 0.0 ? INFINITY : res[i].resync;
		med_worst(v, n, &med, &worst);
		column("resync", med, worst, sc->resync_limit, "s", 1.0);
		if (isinf(worst))
			FAILF(" never-resynced");
		else if (sc->resync_limit > 0.0 && worst > sc->resync_limit)
			FAILF(" resync");
	}
	honesty_line(res, n);
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
	if (sc->leap) {
		for (i = 0; i < n; i++)
			v[i] = res[i].leaps_applied;
		med_worst(v, n, &med, &worst);
		printf("  leaps by the driver %.0f/%.0f", med, worst);
		for (i = 0; i < n; i++)
			v[i] = (double)res[i].li_bad;
		med_worst(v, n, &med, &worst);
		printf("  LI wrong %.0f/%.0f", med, worst);
		if (worst > 0)
			FAILF(" LI");
	}
	if (sc->leap && leap_linear(sc)) {
		int slew = sc->leap_mode == CLK_LEAPMODE_SLEW;

		for (i = 0; i < n; i++)
			v[i] = (double)res[i].back;
		med_worst(v, n, &med, &worst);
		printf("  %s: backwards %.0f/%.0f", slew ? "slew" : "smear", med, worst);
		if (worst > 0)
			FAILF(" backwards");
		for (i = 0; i < n; i++)
			v[i] = res[i].smear_err;
		med_worst(v, n, &med, &worst);
		printf("  |served - %s truth| %.1f/%.1f us", slew ? "slewed" : "smeared", med * 1e6,
		       worst * 1e6);
		if (slew && !(worst <= SLEW_ERR_LIMIT))
			FAILF(" slew");
	}
	(void)smed;
	(void)sworst;
	printf("  %s%s\n", ok ? "PASS" : "FAIL:", why);
#undef FAILF
	free(v);
	return ok;
}
