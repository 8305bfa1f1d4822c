/*
 * The clock simulator: the real clock core (clock/core.c) and the real sim
 * driver (clock/drv_sim.c) in simulated time, against simulated upstream
 * servers over a simulated network, with no real clock and no sockets.
 * Time is an int64 of nanoseconds that jumps from event to event (a
 * reply's arrival, a poll, the once-a-second update), so hours of
 * simulated time take a fraction of a CPU second and every run is a pure
 * function of its seed. Servers answer with the truth plus their lie;
 * the network adds a base delay and exponentially distributed queueing
 * to each direction, a fixed asymmetry and random loss; replies travel as
 * real NTP headers with timestamps from proto's ntp_ts_* functions.
 *
 * Each scenario runs over N seeds and is checked against its limits:
 * time to synchronize (the error stays within the scenario's level from
 * then on, as chrony's simulation tests count it), max and RMS of the
 * served time's true error after that (and the max over the second half
 * of the run, the steady state), steps, honesty of the advertised
 * error bound at every sample (each second before and after the update,
 * and after every sample),
 * falsetickers never selected, holdover and local fallback, driftfile
 * restore, the 2036 era rollover. One line per scenario shows the median
 * and worst over seeds next to the limits; the exit status is 0 when every
 * scenario passed.
 *
 * usage: clocksim [--seeds N] [--scenario NAME] [--jobs N] [--trace SEED] [--list] [--verbose]
 *   --trace SEED  run one seed and print the state every 10 s (for debugging)
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "clock/snapshot.h"
#include "proto/ntp.h"

#define NS		 1000000000LL /* ns per second */
#define MAX_SERVERS	 8	      /* servers a scenario may have */
#define TICK_NS		 NS	      /* ns between clk_core_update() calls, as the daemon does */
#define SERVER_PROC	 20e-6	      /* s: a server's receive-to-transmit time */
#define SERVER_ROOT_DISP 1e-5  /* s: root dispersion a (truthful) stratum-1 server advertises */
#define SERVER_PREC	 (-20) /* log2 s: server precision */
#define CORE_PREC	 (-20) /* log2 s: our precision */
#define START_2023	 1700000000LL /* s since 1970: an ordinary start time */
#define ERA1_START	 2085978496LL /* s since 1970 of 2036-02-07 06:28:16 UTC, NTP era 1 */
#define HONEST_SLACK	 1e-9	      /* s: rounding of the snapshot arithmetic (ns) */
#define MAX_JOBS	 16	      /* worker processes at most */
/* s: time to synchronize (|error| <= 500 us for good) from 0.1 s and 100 ppm, issue 3's
 * limit. Reachable because the slew goes beyond ADJ_FREQUENCY's 500 ppm (up to
 * CLK_MAX_SLEW_PPM); at 500 ppm it would take about 250 s. */
#define SYNC_LIMIT 120

struct scenario {
	const char *name;
	const char *what;
	/* network, s */
	double delay, jitter, asym, loss;
	/* our clock */
	double offset;	 /* s */
	double freq_ppm; /* oscillator error */
	double wander;	 /* fractional frequency random walk per sqrt(s) (chrony's sims' unit) */
	/* servers */
	int nservers;
	double lie[MAX_SERVERS]; /* s: each server's error */
	int minpoll, maxpoll;
	/* core */
	int discipline;
	double makestep;
	int makestep_limit;
	double holdover;
	int local_stratum;
	/* run */
	double duration; /* s */
	double cut_at;	 /* s: every server goes silent from then on; 0 = never */
	long long start; /* s since 1970 */
	int restart;	 /* run twice: the second core starts from the first one's drift */
	/* limits; a limit <= 0 is not checked */
	double sync_level;   /* s: |error| that counts as synchronized */
	double sync_limit;   /* s: time to get there */
	double max_limit;    /* s: max |error| after sync */
	double rms_limit;    /* s: RMS error after sync */
	int steps_expect;    /* exact number of steps, -1 any */
	int liars_never;     /* servers with a lie must never be '*' or '+' */
	int liars_x;	     /* ... and be marked 'x' at the end */
	int never_synced;    /* must never claim synchronization */
	double drift_limit;  /* ppm: frequency error at the restarted core's first update */
	double slew_min_ppm; /* ppm: slowest average slew of a large offset */
};

/* One run's measurements. */
struct result {
	double sync;	 /* s, -1 never */
	double max, rms; /* s, after sync */
	double late_max; /* s: max over the second half of the time before the cut */
	int steps;
	long honest_bad;    /* samples where the advertised bound did not cover the error */
	double worst_ratio; /* largest error / bound seen */
	int liar_picked;
	int liar_not_x; /* at the end, a liar was not marked 'x' */
	int ever_synced;
	/* holdover */
	double growth_min; /* s/s: smallest growth of the advertised dispersion after the cut */
	int li3_after;	   /* LI 3 (or local) held after the holdover */
	int local_ok;	   /* the local fallback served its stratum when configured */
	double drift_err;  /* ppm */
	double final_err;  /* s */
	int final_synced;  /* claimed synchronization at the end */
	long samples;
};

struct flight {
	int pending;
	int64_t arrive; /* truth ns */
	int64_t t1;	/* driver ns */
	struct ntp_packet pkt;
};

struct sim {
	const struct scenario *sc;
	int64_t t;  /* truth ns since 1970 */
	int64_t t0; /* truth at start */
	uint64_t rng;
	struct clk_driver *drv;
	struct clk_core *core;
	struct flight fl[MAX_SERVERS];
	struct clk_snapshot snap;
	FILE *trace;
};

static int64_t sim_truth(void *arg)
{
	return ((struct sim *)arg)->t;
}

/* splitmix64: small, good enough for the network's noise, seedable. */
static uint64_t rnd64(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rnd_unit(struct sim *s)
{
	return ((double)(rnd64(s) >> 11) + 1.0) / 9007199254740992.0;
}

static double rnd_exp(struct sim *s, double mean)
{
	return mean > 0.0 ? -mean * log(rnd_unit(s)) : 0.0;
}

static int64_t ns_of(double s)
{
	return (int64_t)llround(s * 1e9);
}

/* The server's answer to a request sent at truth time now from source I. */
static void send_request(struct sim *s, int i, int64_t t1)
{
	const struct scenario *sc = s->sc;
	struct flight *f = &s->fl[i];
	double out, back;
	int64_t at_server, rec, xmt;

	if (sc->cut_at > 0.0 && s->t - s->t0 >= ns_of(sc->cut_at))
		return;
	if (sc->loss > 0.0 && rnd_unit(s) <= sc->loss)
		return;
	out = sc->delay + sc->asym + rnd_exp(s, sc->jitter);
	back = sc->delay + rnd_exp(s, sc->jitter);
	at_server = s->t + ns_of(out);
	rec = at_server + ns_of(sc->lie[i]);
	xmt = rec + ns_of(SERVER_PROC);
	memset(&f->pkt, 0, sizeof(f->pkt));
	f->pkt.leap = NTP_LEAP_NONE;
	f->pkt.version = 4;
	f->pkt.mode = NTP_MODE_SERVER;
	f->pkt.stratum = 1;
	f->pkt.poll = 6;
	f->pkt.precision = SERVER_PREC;
	f->pkt.root_delay = 0;
	f->pkt.root_disp = ntp_short_from_double(SERVER_ROOT_DISP);
	f->pkt.refid = ntp_refid_ascii("GPS");
	f->pkt.ref = ntp_ts_from_unix_ns(rec - NS);
	f->pkt.org = rnd64(s);
	f->pkt.rec = ntp_ts_from_unix_ns(rec);
	f->pkt.xmt = ntp_ts_from_unix_ns(xmt);
	f->arrive = at_server + ns_of(SERVER_PROC + back);
	f->t1 = t1;
	f->pending = 1;
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
		.local_stratum = sc->local_stratum,
		.local_dispersion = 0.001,
		.minsources = 1,
		.precision = CORE_PREC,
		.init_freq_ppm = init_freq,
		.init_skew_ppm = init_skew,
	};
	struct clk_core *c = clk_core_create(&cfg, drv);
	int i;

	for (i = 0; c && i < sc->nservers; i++) {
		struct clk_source_cfg sc_ = {
			.minpoll = sc->minpoll, .maxpoll = sc->maxpoll, .iburst = 1};

		snprintf(sc_.name, sizeof(sc_.name), "192.0.2.%d", i + 1);
		sc_.refid = 0xc0000201u + (uint32_t)i;
		clk_core_add_source(c, &sc_);
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
	int64_t end = s->t + ns_of(seconds), next_tick = s->t, next, np, dnow;
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
			clk_core_sample(s->core, i, &s->fl[i].pkt, s->fl[i].t1,
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
			send_request(s, i, dnow);
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

static void run_scenario(const struct scenario *sc, uint64_t seed, struct result *res, FILE *trace)
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
		s.core = make_core(sc, s.drv, f, k);
		run(&s, 600.0, NULL, NULL, 1);
		res->drift_err = freq_error(&s);
	}
	clk_core_destroy(s.core);
	s.drv->ops->destroy(s.drv);
}

#define N_SCENARIOS 15 /* scenarios below */

static struct scenario scenarios[N_SCENARIOS];

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

static void make_scenarios(void)
{
	struct scenario *sc = scenarios;

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

/* Run seeds [FROM, TO) of SC into RES (in worker processes when JOBS > 1). */
static void run_seeds(const struct scenario *sc, int nseeds, int jobs, struct result *res)
{
	int j, fds[MAX_JOBS][2];
	pid_t pids[MAX_JOBS];

	if (jobs <= 1) {
		for (j = 0; j < nseeds; j++)
			run_scenario(sc, (uint64_t)j + 1, &res[j], NULL);
		return;
	}
	for (j = 0; j < jobs; j++) {
		if (pipe(fds[j]) < 0 || (pids[j] = fork()) < 0) {
			perror("clocksim");
			exit(2);
		}
		if (pids[j] == 0) {
			int k;

			close(fds[j][0]);
			for (k = j; k < nseeds; k += jobs) {
				run_scenario(sc, (uint64_t)k + 1, &res[k], NULL);
				if (write(fds[j][1], &res[k], sizeof(res[k])) != sizeof(res[k]))
					_exit(2);
			}
			_exit(0);
		}
		close(fds[j][1]);
	}
	for (j = 0; j < jobs; j++) {
		int k, st;

		for (k = j; k < nseeds; k += jobs) {
			if (read(fds[j][0], &res[k], sizeof(res[k])) != sizeof(res[k])) {
				fprintf(stderr, "clocksim: worker %d died\n", j);
				exit(2);
			}
		}
		close(fds[j][0]);
		waitpid(pids[j], &st, 0);
	}
}

static int verbose; /* --verbose: one line per seed */

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

/* Print one scenario's line and its failures; returns 1 if it passed. */
static int report(const struct scenario *sc, const struct result *res, int n)
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seeds", required_argument, NULL, 's'},
		{"scenario", required_argument, NULL, 'n'},
		{"jobs", required_argument, NULL, 'j'},
		{"trace", required_argument, NULL, 't'},
		{"list", no_argument, NULL, 'l'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	const char *only = NULL;
	int nseeds = 20, jobs = 2, trace_seed = 0, i, o, failed = 0, ran = 0;
	struct result *res;

	while ((o = getopt_long(argc, argv, "s:n:j:t:lv", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			nseeds = atoi(optarg);
			break;
		case 'n':
			only = optarg;
			break;
		case 'j':
			jobs = atoi(optarg);
			break;
		case 't':
			trace_seed = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'l':
			for (i = 0; i < N_SCENARIOS; i++)
				printf("%-14s %s\n", scenarios[i].name, scenarios[i].what);
			return 0;
		default:
			fprintf(stderr, "usage: clocksim [--seeds N] [--scenario NAME] [--jobs N] "
					"[--trace SEED] [--list] [--verbose]\n");
			return 2;
		}
	}
	if (nseeds < 1 || jobs < 1 || jobs > MAX_JOBS) {
		fprintf(stderr, "clocksim: --seeds >= 1, --jobs 1..%d\n", MAX_JOBS);
		return 2;
	}
	make_scenarios();
	res = calloc((size_t)nseeds, sizeof(*res));
	if (!res)
		return 2;
	for (i = 0; i < N_SCENARIOS; i++) {
		if (only && strcmp(only, scenarios[i].name))
			continue;
		ran++;
		if (trace_seed) {
			run_scenario(&scenarios[i], (uint64_t)trace_seed, &res[0], stdout);
			failed += !report(&scenarios[i], res, 1);
			continue;
		}
		run_seeds(&scenarios[i], nseeds, jobs, res);
		failed += !report(&scenarios[i], res, nseeds);
	}
	free(res);
	if (!ran) {
		fprintf(stderr, "clocksim: no scenario named '%s' (--list)\n", only ? only : "");
		return 2;
	}
	printf("clocksim: %d of %d scenarios passed\n", ran - failed, ran);
	return failed ? 1 : 0;
}
