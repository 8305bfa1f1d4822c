/*
 * One run of the clock simulator: the real clock core (clock/core.c) and
 * the real sim driver (clock/drv_sim.c) in simulated time, driven on the
 * clock thread's schedule (daemon/clockd/clockd.c): replies are read when
 * they arrive, with their kernel receive stamp (system time) converted
 * through the driver's mapping as the daemon converts it; requests go out
 * when the core says they are due, T1 read the same way; the snapshot is
 * published after the replies and polls of each wake-up, at least once a
 * second, and at the core's own events (a leap second). Time is an int64
 * of nanoseconds that jumps from event to event. Outside events act on
 * the run: our clock stepped behind the core's back, the clock thread
 * stalled while the workers keep serving its last snapshot, a driver that
 * refuses set_status. At each publication and after each sample the
 * served time is checked against UTC (sim_check.c): the advertised bound,
 * falsetickers, holdover and the local fallback. A pass-through driver
 * over the sim driver remembers the frequency set, so a restarted core's
 * drift can be measured against the oscillator's own error, and fails
 * set_status when the scenario says so.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/clockd/upstream.h"
#include "tests/sim/clocksim.h"
#include "tests/sim/sim_check.h"

#define TICK_NS	  NS	/* ns between publications when nothing else happens, as clockd's */
#define CORE_PREC (-20) /* log2 s: our precision */
#define MIN_WAIT                                                                                   \
	1000 /* ns: the shortest wait for a poll due (the daemon's poll timeout                    \
		rounds up likewise: a due time is never missed by rounding) */

double sim_jump_at = -1.0;

static int64_t sim_truth(void *arg)
{
	return ((struct sim *)arg)->t;
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
		.leapmode = sc->leap_mode,
		.smear_s = sc->smear_s,
	};
	struct clk_core *c = clk_core_create(&cfg, drv);
	int i;

	if (c && sc->leap_table) {
		/* A leapfile listing the leap, valid well past the run. */
		struct ntp_leaptab t;

		memset(&t, 0, sizeof(t));
		t.e[0].utc_s = sc->leap_end - 365 * 86400LL;
		t.e[0].tai_utc = 36;
		t.e[1].utc_s = sc->leap_end;
		t.e[1].tai_utc = 36 + sc->leap;
		t.n = 2;
		t.expires_s = sc->leap_end + 180 * 86400LL;
		t.src = NTP_LEAPTAB_LIST;
		clk_core_set_leaptab(c, &t);
	}

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
 * so the oscillator's own error can be told apart from the correction, and refuses
 * set_status when the scenario says so. */
struct proxy {
	struct clk_driver base;
	struct clk_driver *in;
	double set_ppm;
	int status_fail;
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

	if (p->status_fail)
		return -EIO;
	return p->in->ops->set_status(p->in, leap, synced, maxerr, esterr);
}

static void px_tick(struct clk_driver *d)
{
	struct proxy *p = d->priv;

	p->in->ops->tick(p->in);
}

static int px_leaps(struct clk_driver *d, int *armed)
{
	struct proxy *p = d->priv;

	return p->in->ops->leaps(p->in, armed);
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
	.leaps = px_leaps,
	.true_error = px_true_error,
	.destroy = px_destroy,
};

static struct clk_driver *proxy_new(struct clk_driver *in, int status_fail)
{
	struct proxy *p = calloc(1, sizeof(*p));

	if (!p) {
		in->ops->destroy(in);
		return NULL;
	}
	p->in = in;
	p->status_fail = status_fail;
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

/* Driver time now, as the daemon reads it: system time (the truth) through the mapping. */
static int64_t drv_now(const struct sim *s)
{
	return clk_driver_from_sys(s->drv, s->t);
}

/* Truth ns at which the driver will read DRV_NS (at least MIN_WAIT from now). */
static int64_t truth_at(const struct sim *s, int64_t drv_ns)
{
	int64_t wait = drv_ns - drv_now(s);

	return s->t + (wait < MIN_WAIT ? MIN_WAIT : wait);
}

/* 1 while the clock thread is stalled (it neither reads, polls nor publishes). */
static int stalled(const struct sim *s)
{
	const struct scenario *sc = s->sc;
	double el = (double)(s->t - s->t0) / 1e9;

	return sc->stall_for > 0.0 && el >= sc->stall_at && el < sc->stall_at + sc->stall_for;
}

/* Publish: the core's update, then the checks on the new snapshot. */
static void publish(struct sim *s, struct result *res, struct sim_acc *a, int record)
{
	clk_core_update(s->core, drv_now(s), &s->snap);
	if (res)
		sim_observe(s, res, a, record);
}

/* Run SECONDS of simulated time; stop early at the first update when FIRST_UPDATE. */
static void run(struct sim *s, double seconds, struct result *res, struct sim_acc *a,
		int first_update)
{
	const struct scenario *sc = s->sc;
	int64_t end = s->t + sim_ns_of(seconds), next_tick = s->t, next, np, ev;
	int64_t jump = sc->jump_at > 0.0 ? s->jump_at : INT64_MAX;
	int64_t stall_end =
		sc->stall_for > 0.0 ? s->t0 + sim_ns_of(sc->stall_at + sc->stall_for) : INT64_MAX;
	struct clk_tracking tr;
	int i, woke, due_tick;

	while (s->t < end) {
		next = next_tick;
		if (!s->jump_t && jump < next)
			next = jump;
		if (stalled(s)) {
			if (stall_end < next)
				next = stall_end;
		} else {
			for (i = 0; i < sc->nservers; i++) {
				if (s->fl[i].pending && s->fl[i].arrive < next)
					next = s->fl[i].arrive;
				np = clk_core_next_poll(s->core, i);
				if (np != INT64_MAX && truth_at(s, np) < next)
					next = truth_at(s, np);
			}
			ev = clk_core_next_event(s->core);
			if (ev != INT64_MAX && truth_at(s, ev) < next)
				next = truth_at(s, ev);
		}
		if (next > s->t)
			s->t = next;
		if (!s->jump_t && s->t >= jump) {
			clk_sim_jump(((struct proxy *)s->drv->priv)->in, sim_ns_of(sc->jump_by));
			s->jump_t = s->t;
			s->jump_open = 1;
			if (res)
				res->jump_el = (double)(s->t - s->t0) / 1e9;
		}
		due_tick = s->t >= next_tick;
		if (due_tick) {
			/* The error just before the publication, on the old snapshot: the bound
			 * must also hold at the end of its growth. */
			if (res && next_tick > s->t0)
				sim_observe(s, res, a, 1);
			next_tick += TICK_NS;
		}
		if (stalled(s))
			continue; /* the workers serve; the clock thread does nothing */
		woke = 0;
		for (i = 0; i < sc->nservers; i++) {
			struct flight *f = &s->fl[i];

			if (!f->pending || f->arrive > s->t)
				continue;
			f->pending = 0;
			woke = 1;
			/* T4: the kernel's receive stamp, converted now, as read_reply() does. */
			up_hand_reply(s->core, i, &s->last_xmt[i], &f->pkt, f->t1,
				      clk_driver_from_sys(s->drv, f->arrive));
			if (s->jump_open && f->sent >= s->jump_t) {
				s->jump_open = 0;
				if (res)
					res->first_after = (double)(s->t - s->jump_t) / 1e9;
			}
		}
		for (i = 0; i < sc->nservers; i++) {
			int64_t dnow = drv_now(s);

			/* Due: a request still in flight counts as lost, as its late reply's
			 * origin would no longer match. */
			if (clk_core_next_poll(s->core, i) > dnow)
				continue;
			clk_core_poll_sent(s->core, i, dnow);
			sim_send_request(s, i, dnow);
			woke = 1;
		}
		ev = clk_core_next_event(s->core);
		if (ev != INT64_MAX && ev <= drv_now(s))
			woke = 1;
		if (woke || due_tick) {
			publish(s, res, a, due_tick);
			if (first_update) {
				clk_core_tracking(s->core, drv_now(s), &tr);
				if (tr.updates > 0)
					return;
			}
		}
	}
}

void sim_run_scenario(const struct scenario *sc, uint64_t seed, struct result *res, FILE *trace)
{
	struct sim s;
	struct sim_acc a;
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
	sim_result_init(res);
	s.sc = sc;
	s.trace = trace;
	s.rng = seed * 0x2545f4914f6cdd1dULL + 12345;
	s.t = s.t0 = (int64_t)sc->start * NS;
	if (sc->leap) {
		/* UTC leaps at the midnight: an insertion repeats its 23:59:59, a deletion skips
		 * it. */
		int64_t m = (int64_t)sc->leap_end * NS;

		struct ntp_leap l = {.utc_s = sc->leap_end, .dir = sc->leap > 0 ? 1 : -1};

		s.leap_dir = sc->leap > 0 ? 1 : -1;
		s.leap_ns = s.leap_dir > 0 ? m : m - NS;
		if (sc->leap_mode == CLK_LEAPMODE_SMEAR &&
		    clk_smear_init(&s.smear, &l, sc->smear_s ? sc->smear_s : CLK_SMEAR_DEFAULT_S) <
			    0) {
			res->honest_bad = -1;
			return;
		}
		if (sc->leap_mode == CLK_LEAPMODE_SLEW && clk_slew_init(&s.smear, &l) < 0) {
			res->honest_bad = -1;
			return;
		}
	}
	sim_servers_start(&s);
	/* Where in the poll cycle our clock jumps: anywhere, per seed (or where --jump-at says). */
	s.jump_at = s.t0 + sim_ns_of(sc->jump_at + sc->jump_spread * sim_unit(&s));
	if (sc->jump_at > 0.0 && sim_jump_at >= 0.0)
		s.jump_at = s.t0 + sim_ns_of(sim_jump_at);
	s.drv = clk_driver_sim(&dc, sim_truth, &s);
	if (s.drv)
		s.drv = proxy_new(s.drv, sc->status_fail);
	if (!s.drv) {
		res->honest_bad = -1;
		return;
	}
	s.core = make_core(sc, s.drv, 0.0, -1.0);
	if (!s.core || sim_acc_init(&a, sc) < 0) {
		res->honest_bad = -1;
		return;
	}
	if (sc->leap && sc->leap_other) {
		/* The program that owns the clock arms the leap in it, as chronyd or ntpd would
		 * in the kernel: the clock applies it at its midnight whatever horod does. */
		struct clk_driver *in = ((struct proxy *)s.drv->priv)->in;

		in->ops->set_status(in, s.leap_dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE, 1, 0.01,
				    0.001);
	}
	run(&s, sc->duration, res, &a, 0);
	sim_settle(sc, &a, res);
	sim_acc_free(&a);
	clk_core_tracking(s.core, drv_now(&s), &tr);
	res->steps = tr.steps;
	res->leaps_applied = s.drv->ops->leaps(s.drv, NULL);
	for (i = 0; i < sc->nservers; i++) {
		struct clk_source_info si;

		clk_core_source_info(s.core, i, &si);
		if (sim_is_liar(sc, i) && si.tally != 'x')
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
