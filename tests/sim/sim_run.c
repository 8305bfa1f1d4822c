/*
 * One run of the clock simulator: the real clock core (clock/core.c) and
 * the real sim driver (clock/drv_sim.c) in simulated time. Time is an
 * int64 of nanoseconds that jumps from event to event (a reply's arrival,
 * a poll, the once-a-second update); at each update and after each sample
 * the served time is checked against the truth (the advertised bound,
 * falsetickers, holdover and the local fallback) and its error recorded
 * for the sync time, the max and the RMS. A pass-through driver over the
 * sim driver remembers the frequency set, so a restarted core's drift can
 * be measured against the oscillator's own error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/clockd/upstream.h"
#include "tests/sim/clocksim.h"

#define TICK_NS	     NS	   /* ns between clk_core_update() calls, as the daemon does */
#define CORE_PREC    (-20) /* log2 s: our precision */
#define HONEST_SLACK 1e-9  /* s: rounding of the snapshot arithmetic (ns) */

static int64_t sim_truth(void *arg)
{
	return ((struct sim *)arg)->t;
}

/* Served time's error now (s) and the bound the snapshot advertises for it. */
static double served_error(const struct sim *s, double *bound)
{
	int64_t served = clk_snapshot_served(&s->snap, s->t);

	if (bound)
		*bound = s->snap.root_delay / 2.0 + clk_snapshot_root_disp(&s->snap, served);
	return (double)(served - s->t) / 1e9;
}

static int is_liar(const struct scenario *sc, int i)
{
	return sc->lie[i] != 0.0;
}

/* The served time's error at each observation before the cut, for the sync time. */
struct acc {
	double *err; /* s */
	double *at;  /* s since the start */
	int *synced;
	long n, cap;
	double cut_disp; /* dispersion at the last sample before the cut (growth check) */
	int64_t cut_disp_t;
};

/* Check the snapshot against the truth at this instant (honesty, liars, sync); RECORD
 * keeps the error for the sync time and the statistics (the once-a-second samples). */
static void observe(struct sim *s, struct result *res, struct acc *a, int record)
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
		if (fabs(err) > bound + HONEST_SLACK)
			res->honest_bad++;
		if (bound > 0.0 && fabs(err) / bound > res->worst_ratio)
			res->worst_ratio = fabs(err) / bound;
	}
	for (i = 0; i < sc->nservers; i++) {
		clk_core_source_info(s->core, i, &si);
		if (is_liar(sc, i) && (si.tally == '*' || si.tally == '+'))
			res->liar_picked = 1;
	}
	if (!record)
		return;
	if ((sc->cut_at <= 0.0 || el < sc->cut_at) && a->n < a->cap) {
		a->err[a->n] = err;
		a->at[a->n] = el;
		a->synced[a->n++] = synced;
	}
	if (sc->cut_at > 0.0 && el >= sc->cut_at && synced) {
		/* Growth of the advertised dispersion while holding over. */
		int64_t served = clk_snapshot_served(&s->snap, s->t);
		double d = s->snap.root_delay / 2.0 + clk_snapshot_root_disp(&s->snap, served);

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
	if (s->trace && res->samples % 10 == 0) {
		struct clk_tracking tr;

		clk_core_tracking(s->core, s->drv->ops->now(s->drv), &tr);
		fprintf(s->trace,
			"%8.0f err %+.6e bound %.6e li %u st %u freq %+.4f skew %.4f off %+.3e "
			"poll %d peer %d\n",
			el, err, bound, s->snap.leap, s->snap.stratum, tr.freq_ppm, tr.skew_ppm,
			tr.offset,
			tr.sys_peer >= 0
				? (clk_core_source_info(s->core, tr.sys_peer, &si), si.poll)
				: -1,
			tr.sys_peer);
	}
}

/*
 * The sync time: from the first observation after which the served time
 * claims synchronization and stays within the scenario's level until the
 * end (or the cut), as chrony's simulation tests count it; max and RMS of
 * the error from then on.
 */
static void settle(const struct scenario *sc, const struct acc *a, struct result *res)
{
	double sum2 = 0.0;
	long i, from = a->n;

	for (i = a->n - 1; i >= 0; i--) {
		if (!a->synced[i] || fabs(a->err[i]) > sc->sync_level)
			break;
		from = i;
	}
	res->sync = from < a->n ? a->at[from] : -1.0;
	res->max = 0.0;
	for (i = from; i < a->n; i++) {
		sum2 += a->err[i] * a->err[i];
		res->max = fmax(res->max, fabs(a->err[i]));
	}
	res->rms = from < a->n ? sqrt(sum2 / (double)(a->n - from)) : 0.0;
	res->late_max = 0.0;
	for (i = a->n / 2; i < a->n; i++)
		res->late_max = fmax(res->late_max, fabs(a->err[i]));
}

static struct clk_core *make_core(const struct scenario *sc, struct clk_driver *drv,
				  double init_freq, double init_skew)
{
	struct clk_core_cfg cfg = {
		.discipline = sc->discipline,
		.makestep_threshold = sc->makestep,
		.makestep_limit = sc->makestep_limit,
		.maxdistance = 1.5,
		.holdover = sc->holdover,
		.minsources = 1,
		.precision = CORE_PREC,
		.init_freq_ppm = init_freq,
		.init_skew_ppm = init_skew,
	};
	struct clk_core *c = clk_core_create(&cfg, drv);
	int i;

	for (i = 0; c && i < sc->nservers; i++) {
		struct clk_source_cfg sc_ = {.kind = CLK_KIND_NTP,
					     .minpoll = sc->minpoll,
					     .maxpoll = sc->maxpoll,
					     .iburst = 1};

		snprintf(sc_.name, sizeof(sc_.name), "192.0.2.%d", i + 1);
		sc_.refid = 0xc0000201u + (uint32_t)i;
		clk_core_add_source(c, &sc_);
	}
	if (c && sc->local_stratum) {
		/* The local reference, after the servers: nothing here measures it (as in the
		 * daemon with servers, its own word does not count), it is the fallback. */
		struct clk_source_cfg lc = {
			.kind = CLK_KIND_LOCAL, .stratum = sc->local_stratum, .dispersion = 0.001};

		snprintf(lc.name, sizeof(lc.name), "local");
		lc.refid = ntp_refid_ascii("LOCL");
		clk_core_add_source(c, &lc);
	}
	return c;
}

/* A pass-through driver over the sim driver that remembers the last frequency set,
 * so the oscillator's own error can be told apart from the correction. */
struct proxy {
	struct clk_driver base;
	struct clk_driver *in;
	double set_ppm;
};

static int64_t px_now(struct clk_driver *d)
{
	struct proxy *p = d->priv;

	return p->in->ops->now(p->in);
}

static void px_mapping(struct clk_driver *d, int64_t *off, double *freq, int64_t *base)
{
	struct proxy *p = d->priv;

	p->in->ops->mapping(p->in, off, freq, base);
}

static int px_set_freq(struct clk_driver *d, double ppm)
{
	struct proxy *p = d->priv;
	int r = p->in->ops->set_freq(p->in, ppm);

	if (r == 0)
		p->set_ppm = fmax(-p->in->max_ppm, fmin(p->in->max_ppm, ppm));
	return r;
}

static int px_step(struct clk_driver *d, int64_t off)
{
	struct proxy *p = d->priv;

	return p->in->ops->step(p->in, off);
}

static int px_set_status(struct clk_driver *d, int leap, int synced, double maxerr, double esterr)
{
	struct proxy *p = d->priv;

	return p->in->ops->set_status(p->in, leap, synced, maxerr, esterr);
}

static void px_tick(struct clk_driver *d)
{
	struct proxy *p = d->priv;

	p->in->ops->tick(p->in);
}

static double px_true_error(struct clk_driver *d, int64_t served, int64_t truth)
{
	struct proxy *p = d->priv;

	return p->in->ops->true_error(p->in, served, truth);
}

static void px_destroy(struct clk_driver *d)
{
	struct proxy *p = d->priv;

	p->in->ops->destroy(p->in);
	free(p);
}

static const struct clk_driver_ops proxy_ops = {
	.name = "sim-proxy",
	.now = px_now,
	.mapping = px_mapping,
	.set_freq = px_set_freq,
	.step = px_step,
	.set_status = px_set_status,
	.tick = px_tick,
	.true_error = px_true_error,
	.destroy = px_destroy,
};

static struct clk_driver *proxy_new(struct clk_driver *in)
{
	struct proxy *p = calloc(1, sizeof(*p));

	if (!p) {
		in->ops->destroy(in);
		return NULL;
	}
	p->in = in;
	p->base.ops = &proxy_ops;
	p->base.adjustable = in->adjustable;
	p->base.max_ppm = in->max_ppm;
	p->base.priv = p;
	return &p->base;
}

/* The frequency error (ppm) the core's base frequency leaves: the oscillator's own
 * error now (the sim driver's total minus what was set) plus the core's estimate. */
static double freq_error(const struct sim *s)
{
	const struct proxy *p = s->drv->priv;
	struct clk_tracking tr;
	double total;

	clk_sim_state(p->in, NULL, &total);
	clk_core_tracking(s->core, s->drv->ops->now(s->drv), &tr);
	return total - p->set_ppm + tr.freq_ppm;
}

/* Run SECONDS of simulated time; stop early at the first update when FIRST_UPDATE. */
static void run(struct sim *s, double seconds, struct result *res, struct acc *a, int first_update)
{
	const struct scenario *sc = s->sc;
	int64_t end = s->t + sim_ns_of(seconds), next_tick = s->t, next, np, dnow;
	struct clk_tracking tr;
	int i;

	while (s->t < end) {
		next = next_tick;
		for (i = 0; i < sc->nservers; i++) {
			if (s->fl[i].pending && s->fl[i].arrive < next)
				next = s->fl[i].arrive;
			np = clk_core_next_poll(s->core, i);
			dnow = s->drv->ops->now(s->drv);
			if (np != INT64_MAX) {
				int64_t wait = np - dnow < 1000 ? 1000 : np - dnow;

				if (s->t + wait < next)
					next = s->t + wait;
			}
		}
		if (next > s->t)
			s->t = next;
		for (i = 0; i < sc->nservers; i++) {
			if (!s->fl[i].pending || s->fl[i].arrive > s->t)
				continue;
			s->fl[i].pending = 0;
			up_hand_reply(s->core, i, &s->last_xmt[i], &s->fl[i].pkt, s->fl[i].t1,
				      s->drv->ops->now(s->drv));
			clk_core_update(s->core, s->drv->ops->now(s->drv), &s->snap);
			if (res)
				observe(s, res, a, 0);
			if (first_update) {
				clk_core_tracking(s->core, s->drv->ops->now(s->drv), &tr);
				if (tr.updates > 0)
					return;
			}
		}
		for (i = 0; i < sc->nservers; i++) {
			dnow = s->drv->ops->now(s->drv);
			/* Due: a request still in flight counts as lost, as its late reply's
			 * origin would no longer match. */
			if (clk_core_next_poll(s->core, i) > dnow)
				continue;
			clk_core_poll_sent(s->core, i, dnow);
			sim_send_request(s, i, dnow);
		}
		if (s->t >= next_tick) {
			/* The error just before the update, on the old snapshot: the bound
			 * must also hold at the end of its growth. */
			if (res && next_tick > s->t0)
				observe(s, res, a, 1);
			clk_core_update(s->core, s->drv->ops->now(s->drv), &s->snap);
			if (res)
				observe(s, res, a, 1);
			next_tick += TICK_NS;
		}
	}
}

void sim_run_scenario(const struct scenario *sc, uint64_t seed, struct result *res, FILE *trace)
{
	struct sim s;
	struct acc a = {0};
	struct clk_sim_cfg dc = {
		.offset = sc->offset,
		.freq = sc->freq_ppm,
		.wander = sc->wander * 1e6, /* fractional per sqrt(s) -> ppm per sqrt(s) */
		.seed = seed * 7919 + 1,
	};
	struct clk_tracking tr;
	double f, k;
	int i;

	memset(&s, 0, sizeof(s));
	memset(res, 0, sizeof(*res));
	res->sync = -1.0;
	res->growth_min = INFINITY;
	res->li3_after = 1;
	res->local_ok = 1;
	s.sc = sc;
	s.trace = trace;
	s.rng = seed * 0x2545f4914f6cdd1dULL + 12345;
	s.t = s.t0 = (int64_t)sc->start * NS;
	s.drv = clk_driver_sim(&dc, sim_truth, &s);
	if (s.drv)
		s.drv = proxy_new(s.drv);
	if (!s.drv) {
		res->honest_bad = -1;
		return;
	}
	s.core = make_core(sc, s.drv, 0.0, -1.0);
	if (!s.core) {
		res->honest_bad = -1;
		return;
	}
	a.cap = (long)(sc->duration * 2.0 * NS / TICK_NS) + 16;
	a.err = calloc((size_t)a.cap, sizeof(*a.err));
	a.at = calloc((size_t)a.cap, sizeof(*a.at));
	a.synced = calloc((size_t)a.cap, sizeof(*a.synced));
	if (!a.err || !a.at || !a.synced) {
		res->honest_bad = -1;
		return;
	}
	run(&s, sc->duration, res, &a, 0);
	settle(sc, &a, res);
	free(a.err);
	free(a.at);
	free(a.synced);
	clk_core_tracking(s.core, s.drv->ops->now(s.drv), &tr);
	res->steps = tr.steps;
	for (i = 0; i < sc->nservers; i++) {
		struct clk_source_info si;

		clk_core_source_info(s.core, i, &si);
		if (is_liar(sc, i) && si.tally != 'x')
			res->liar_not_x = 1;
	}
	if (sc->restart) {
		/* Restart: a new core on the same (still running) oscillator, from the drift. */
		clk_core_drift(s.core, &f, &k);
		clk_core_destroy(s.core);
		memset(s.fl, 0, sizeof(s.fl));
		memset(s.last_xmt, 0, sizeof(s.last_xmt));
		s.core = make_core(sc, s.drv, f, k);
		run(&s, 600.0, NULL, NULL, 1);
		res->drift_err = freq_error(&s);
	}
	clk_core_destroy(s.core);
	s.drv->ops->destroy(s.drv);
}
