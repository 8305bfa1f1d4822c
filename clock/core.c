/*
 * The clock core: sources in, one snapshot out. Measurements pass the
 * round-trip tests and become samples of their source (clock/source.h): offsets
 * against the raw, never-corrected timescale, so that our own slews and
 * steps do not disturb them, feeding a clock filter and a per-source
 * Kalman estimate of phase and frequency (clock/estimate.h). Once a second
 * and after every sample, clk_core_update() projects each source's
 * least-delayed recent sample to now as an interval of one root distance,
 * selects and clusters (clock/select.h), combines the survivors' estimated
 * offsets weighted by 1/distance, takes the oscillator's frequency from
 * their estimates (the driftfile's value is the estimators' starting
 * point), and corrects through clock/discipline.h: a step when makestep
 * allows, otherwise a slew at the estimated frequency (within
 * CLK_MAX_FREQ_PPM) plus the offset over a short time constant, never
 * beyond CLK_MAX_SLEW_PPM in total: small offsets slew gently, a large
 * one at up to 8 %, and the slew is dropped when the core is destroyed.
 * The advertised error bound comes from the system peer's samples (see
 * bound()) and grows at PHI + skew + the slew's own rate, so it bounds
 * the true error of the served time however fast the slew and however
 * late the next update (a stalled clock thread); without sources it
 * grows at PHI + skew, and after the holdover the core serves LI 3, or
 * its local reference; at once when a newer sample contradicts the
 * bound held over.
 *
 * Steps. A source whose new sample its earlier ones cannot have
 * predicted starts again from it (source.h). Either timescale moved:
 * when it was the only source that measures, it is followed; otherwise
 * the core opens a watch: every other source is asked at once, the clock
 * holds still (its frequency only) with the selection as it stood, and
 * the bound is widened by the step's size (if ours moved, every older
 * sample is off by that much; if the source's did, its new one is). The
 * watch closes when every other reachable source has spoken since (asked
 * again every WATCH_GAP_NS, so that a lost request does not leave its
 * older word to outvote the step): if ours stepped they all started again
 * from the new phase and agree; if the one source stepped, it is a
 * falseticker like any other. Leap seconds are core_leap.c's.
 *
 * The local reference (`local stratum N`) is a source of kind
 * CLK_KIND_LOCAL, fallback only: it never takes part in selection and is
 * served when nothing else can be (see serve_local()). Its driver reads
 * the kernel clock's state at each publication and hands a measurement
 * when the kernel vouches for its clock (synchronized by someone else),
 * a rejection when it does not.
 *
 * The core's state is clock/core_priv.h's; what the core reports about
 * it (sources, filters, tracking, drift) is core_report.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "clock/core.h"
#include "clock/core_priv.h"
#include "clock/nsec.h"
#include "clock/discipline.h"
#include "clock/filter.h"
#include "clock/select.h"
#include "clock/source.h"
#include "proto/ntp.h"

/* polls a silent source gets before the first clock update stops waiting for it,
 * so that one early reply (maybe from a falseticker) is never a "majority" alone */
#define START_POLLS 3
/* samples of a bursting source the first clock update waits for: enough for a rough
 * frequency, so that a first step is not followed by a drift of the whole error */
#define START_SAMPLES 4
/* fractional: frequency error assumed before anything is measured (the kernel's range) */
#define SKEW_UNKNOWN 500e-6
/* fractional: smallest uncertainty granted to a driftfile frequency (0.05 ppm): the
 * oscillator drifts between runs, and a prior too sure of itself outvotes fresh data */
#define PRIOR_MIN_SD 0.05e-6
/* fractional: smallest skew advertised (0.001 ppm): below it the estimate itself is noise */
#define SKEW_MIN 1e-9
/* samples a source's estimator needs before its frequency counts */
#define EST_MIN_FREQ 3
/* standard deviations of the frequency estimate in the skew, plus SKEW_N_WIDEN / samples
 * (young estimators' variances are themselves uncertain) */
#define SKEW_K	     3.0
#define SKEW_N_WIDEN 24.0
/* s: shortest time constant of the offset correction */
#define TAU_MIN 2.0
/* the offset is corrected with a time constant of the poll interval / TAU_DIV: the
 * estimator already smooths the samples, so its offset can be followed closely */
#define TAU_DIV 64.0
/* ... and of at least TAU_CALLS intervals between clk_core_update() calls: the slew set
 * at one call runs until the next, and must not overshoot before it is revised */
#define TAU_CALLS 4.0
/* ns: while a step is watched, other sources are asked at once, but not twice this close
 * (RFC 5905's burst spacing: what a server expects of a client in a hurry) */
#define WATCH_GAP_NS (2 * NS_PER_SEC)

#ifdef CLK_MUTANTS
int clk_mutant;
/* 1 when the mutation check leaves term K of the bound out (core.h). */
#define DROP(k) (clk_mutant == (k))
#else
#define DROP(k) 0
#endif

/* The correction (s) now in place at raw time R. */
static double corr_s(const struct clk_core *c, int64_t r)
{
	return clk_disc_corr(&c->disc, r) / (double)NS_PER_SEC;
}

struct clk_core *clk_core_create(const struct clk_core_cfg *cfg, struct clk_driver *drv)
{
	struct clk_core *c;
	int64_t now;

	if (!cfg || !drv)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	if (!(c->cfg.maxdistance > 0.0))
		c->cfg.maxdistance = 1.5; /* s, the default of ntpd, chrony and the config */
	if (c->cfg.minsources < 1)
		c->cfg.minsources = 1;
	c->cfg.precision = clk_clampi(c->cfg.precision, -30, 0);
	if (c->cfg.leapmode < CLK_LEAPMODE_SYSTEM || c->cfg.leapmode > CLK_LEAPMODE_SMEAR)
		c->cfg.leapmode = CLK_LEAPMODE_SYSTEM;
	if (c->cfg.smear_s < CLK_SMEAR_MIN_S || c->cfg.smear_s > CLK_SMEAR_MAX_S)
		c->cfg.smear_s = CLK_SMEAR_DEFAULT_S;
	c->drv = drv;
	now = drv->ops->now(drv);
	c->last_now = now;
	c->freq = isfinite(cfg->init_freq_ppm) ? cfg->init_freq_ppm * 1e-6 : 0.0;
	c->freq = fmax(-CLK_MAX_FREQ_PPM * 1e-6, fmin(CLK_MAX_FREQ_PPM * 1e-6, c->freq));
	if (cfg->init_skew_ppm >= 0.0 && isfinite(cfg->init_skew_ppm)) {
		c->freq_sd = fmax(cfg->init_skew_ppm * 1e-6, PRIOR_MIN_SD);
		c->skew = c->freq_sd * SKEW_K;
	} else {
		c->freq_sd = -1.0;
		c->skew = SKEW_UNKNOWN;
	}
	clk_disc_init(&c->disc, drv, cfg->discipline, c->freq, now);
	c->start_r = clk_disc_raw(&c->disc, now);
	c->call_r = c->start_r;
	c->local_ref_r = c->start_r;
	c->local_id = -1;
	c->sys_peer = -1;
	c->stratum = 16;
	c->leap = NTP_LEAP_UNSYNC;
	c->leap_li = NTP_LEAP_NONE;
	c->refid = ntp_refid_ascii("INIT");
	c->bound_rate = CLK_PHI + core_skew(c);
	c->drv_leaps = drv->ops->leaps ? drv->ops->leaps(drv, NULL) : 0;
	c->leap_next = INT64_MAX;
	return c;
}

void clk_core_destroy(struct clk_core *c)
{
	int64_t now;

	if (!c)
		return;
	/* Leave the clock at the oscillator's frequency: a slew left running would carry
	 * the clock away at up to CLK_MAX_SLEW_PPM once nobody revises it. */
	if (c->disc.steer) {
		now = c->drv->ops->now(c->drv);
		clk_disc_set_freq(&c->disc, clk_disc_raw(&c->disc, now), c->freq);
	}
	free(c);
}

int clk_core_add_source(struct clk_core *c, const struct clk_source_cfg *cfg)
{
	if (!c || !cfg || c->n >= CLK_MAX_SOURCES)
		return -1;
	if (cfg->kind == CLK_KIND_LOCAL) {
		if (c->local_id >= 0)
			return -1; /* one local reference: there is one local clock */
		c->local_id = c->n;
	} else {
		c->n_measuring++;
	}
	clk_src_init(&c->src[c->n], cfg, clk_disc_raw(&c->disc, c->last_now));
	return c->n++;
}

void clk_core_source_addr(struct clk_core *c, int id, uint32_t refid)
{
	if (!c || id < 0 || id >= c->n)
		return;
	clk_src_reset(&c->src[id], refid, clk_disc_raw(&c->disc, c->last_now));
}

int64_t clk_core_next_poll(const struct clk_core *c, int id)
{
	if (!c || id < 0 || id >= c->n || c->src[id].denied)
		return INT64_MAX;
	return clk_disc_drv(&c->disc, c->src[id].next_poll);
}

void clk_core_poll_sent(struct clk_core *c, int id, int64_t now)
{
	if (!c || id < 0 || id >= c->n)
		return;
	c->last_now = now;
	clk_src_poll_sent(&c->src[id], clk_disc_raw(&c->disc, now));
}

void clk_core_slow_down(struct clk_core *c, int id, int64_t now)
{
	if (!c || id < 0 || id >= c->n)
		return;
	c->last_now = now;
	clk_src_slow_down(&c->src[id], clk_disc_raw(&c->disc, now));
}

void clk_core_refused(struct clk_core *c, int id)
{
	if (!c || id < 0 || id >= c->n)
		return;
	clk_src_refused(&c->src[id]);
}

void clk_core_reject(struct clk_core *c, int id, unsigned flash)
{
	if (!c || id < 0 || id >= c->n)
		return;
	clk_src_reject(&c->src[id], flash);
}

/*
 * A step measured by source ID (the request that measured it left at raw
 * R1), at raw time NOW: every other source that measures is asked at
 * once, and unless there is none, the watch opens (see the top).
 */
static void step_seen(struct clk_core *c, int id, int64_t r1, int64_t now)
{
	int i, others = 0;

	if (id == c->local_id)
		return; /* the kernel clock's own state: no source of ours to ask about it */
	c->step_detected++;
	for (i = 0; i < c->n; i++) {
		struct clk_src *o = &c->src[i];
		int64_t soon = ns_add_sat(o->last_poll, WATCH_GAP_NS);

		if (i == id || i == c->local_id || o->denied || !o->filt.n)
			continue;
		others++;
		if (o->next_poll > now)
			o->next_poll = soon > now ? soon : now;
	}
	if (!c->watch)
		clk_log(LOG_NOTICE, "source %s: its time moved by %+.6f s (its own step or ours)%s",
			c->src[id].cfg.name, c->src[id].step_by,
			others ? "; asking the other sources" : "; following it");
	if (!others)
		return;
	if (!c->watch) {
		c->watch = 1;
		c->watch_r = r1;
		c->watch_by = 0.0;
	}
	c->watch_by = fmax(c->watch_by, fabs(c->src[id].step_by));
}

/* The watch closes: say whose step it was, as the sources that spoke since tell. */
static void watch_over(struct clk_core *c)
{
	int i, spoke = 0, stepped = 0;

	for (i = 0; i < c->n; i++) {
		const struct clk_src *o = &c->src[i];

		if (i == c->local_id || o->last_r1 < c->watch_r)
			continue;
		spoke++;
		stepped += o->step_r >= c->watch_r;
	}
	clk_log(LOG_NOTICE, "%d of %d sources saw a step of up to %.6f s: %s", stepped, spoke,
		c->watch_by,
		2 * stepped > spoke ? "our clock moved (date -s, a VM resume?)"
				    : "a source's own step, not ours");
	c->watch = 0;
}

/*
 * 1 while a reachable source has not spoken since the watch opened (see
 * the top); those are asked again every WATCH_GAP_NS until they answer or
 * turn unreachable (a reach register of silence), so a lost request does
 * not leave their older word to outvote the step.
 */
static int watch_pending(struct clk_core *c)
{
	int i, pending = 0;

	for (i = 0; i < c->n; i++) {
		struct clk_src *o = &c->src[i];
		int64_t again = ns_add_sat(o->last_poll, WATCH_GAP_NS);

		if (i == c->local_id || o->denied || !o->filt.n || !o->reach ||
		    o->last_r1 >= c->watch_r)
			continue;
		if (o->next_poll > again)
			o->next_poll = again;
		pending = 1;
	}
	return pending;
}

void clk_core_sample(struct clk_core *c, int id, const struct clk_meas *m)
{
	struct clk_src_env env;
	struct clk_xchg x;

	if (!c || !m || id < 0 || id >= c->n)
		return;
	core_leap_seen(c);
	c->last_now = m->t4;
	/* Stamps this close to a leap second's edge may be on either side of it. */
	if (core_leap_near(c, m->t1, m->t4)) {
		clk_src_reject(&c->src[id], NTP_FLASH_BOGUS);
		return;
	}
	env.precision = c->cfg.precision;
	env.maxdistance = c->cfg.maxdistance;
	env.freq = c->freq;
	env.freq_sd = c->freq_sd;
	/* Only a step of the driver puts two timescales into one exchange. */
	env.step_r = c->disc.steer ? c->disc.step_r : INT64_MIN;
	x.r1 = clk_disc_raw(&c->disc, m->t1);
	x.r4 = clk_disc_raw(&c->disc, m->t4);
	x.t4 = m->t4;
	if (clk_src_sample(&c->src[id], &env, m, &x) == CLK_SRC_STEP)
		step_seen(c, id, x.r1, x.r4);
}

/* Offset (s, source - served) of sample SM projected to raw time R with the frequency estimate. */
static double project(const struct clk_core *c, const struct clk_sample *sm, int64_t r)
{
	return sm->x + c->freq * clk_dsec(r, sm->t) - corr_s(c, r);
}

/* The oscillator's frequency: the survivors' estimates, inverse-variance weighted. */
static void estimate_freq(struct clk_core *c, const struct clk_cand *cand, int n)
{
	double sw = 0.0, swf = 0.0, sd;
	int i, most = 0;

	for (i = 0; i < n; i++) {
		const struct clk_src *s = &c->src[cand[i].id];

		if (s->filt.n == 0 || s->est.n < EST_MIN_FREQ)
			continue;
		sw += 1.0 / s->est.pff;
		swf += s->est.f / s->est.pff;
		if (s->est.n > most)
			most = s->est.n;
	}
	if (!(sw > 0.0))
		return;
	sd = 1.0 / sqrt(sw);
	c->freq = fmax(-CLK_MAX_FREQ_PPM * 1e-6, fmin(CLK_MAX_FREQ_PPM * 1e-6, swf / sw));
	c->freq_sd = sd;
	c->skew = fmax((SKEW_K + SKEW_N_WIDEN / most) * sd, SKEW_MIN);
}

/* Majority leap indicator of the N survivors (0 unless more than half agree). */
static int leap_vote(const struct clk_core *c, const struct clk_cand *cand, int n)
{
	int votes[3] = {0, 0, 0}, i;

	for (i = 0; i < n; i++) {
		int l = c->src[cand[i].id].leap;

		if (l >= 0 && l <= 2)
			votes[l]++;
	}
	if (2 * votes[NTP_LEAP_INSERT] > n)
		return NTP_LEAP_INSERT;
	if (2 * votes[NTP_LEAP_DELETE] > n)
		return NTP_LEAP_DELETE;
	return NTP_LEAP_NONE;
}

/*
 * Before the first clock update, wait for the sources still starting: a
 * few samples from each bursting one (so the first correction, maybe a
 * step, already knows the frequency roughly), one from the others, until a
 * source has missed START_POLLS polls. One early reply alone is never a
 * majority, even when it comes from a falseticker.
 */
static int still_waiting(const struct clk_core *c)
{
	int i;

	if (c->updates > 0)
		return 0;
	for (i = 0; i < c->n; i++) {
		const struct clk_src *s = &c->src[i];

		if (i == c->local_id || s->denied || s->polls - s->filt.n >= START_POLLS)
			continue;
		if (s->filt.n < (s->cfg.iburst ? START_SAMPLES : 1))
			return 1;
	}
	return 0;
}

/* Fill the candidate for source I at raw time R; 0 if it cannot be one. */
static int candidate(struct clk_core *c, int i, int64_t r, struct clk_cand *cd)
{
	struct clk_src *s = &c->src[i];
	const struct clk_sample *b;
	int best;

	s->peer = 0;
	s->tally = ' ';
	best = clk_filter_best(&s->filt);
	if (best < 0)
		return 0;
	/* Projected with the source's own frequency estimate: the system's may
	 * not exist yet, and a wrong one would smear every source's interval. */
	b = clk_filter_at(&s->filt, best);
	s->offset = b->x + s->est.f * clk_dsec(r, b->t) - corr_s(c, r);
	s->delay = b->delay;
	s->disp = b->disp + (CLK_PHI + clk_src_skew(s)) * fabs(clk_dsec(r, b->t));
	s->jitter = clk_filter_jitter(&s->filt, best, s->est.f);
	s->dist = s->root_delay / 2.0 + s->root_disp + s->delay / 2.0 + s->disp + s->jitter;
	if (clk_src_unreachable(s))
		s->peer |= NTP_FLASH_PEER_UNREACH;
	if (s->dist > c->cfg.maxdistance)
		s->peer |= NTP_FLASH_PEER_DIST;
	if (s->stratum >= 15)
		s->peer |= NTP_FLASH_PEER_STRATUM;
	/* A source that follows what we follow (and is not it) adds no independent time.
	 * Only our refid at stratum 2 and up is an address; at stratum 1 it is a reference
	 * clock's code, which any other primary server may use as well. */
	if (c->synced && c->sys_peer >= 0 && i != c->sys_peer && c->stratum > 1 &&
	    s->refid == c->refid)
		s->peer |= NTP_FLASH_PEER_LOOP;
	if (s->peer || (s->flash & CLK_FLASH_SERVER) || s->denied || s->cfg.noselect)
		return 0;
	cd->id = i;
	cd->offset = s->offset;
	cd->dist = s->dist > 0.0 ? s->dist : 1e-9;
	cd->jitter = s->jitter;
	cd->estimate = clk_est_at(&s->est, r, NULL) - corr_s(c, r);
	cd->stratum = s->stratum;
	cd->trust = s->cfg.trust;
	cd->tally = ' ';
	return 1;
}

/*
 * chrony's prefer: when preferred sources are among the N survivors, they
 * alone are combined: moved to the front (in their order of merit), the
 * others marked '-' (not combined). Returns how many are combined.
 */
static int prefer_only(const struct clk_core *c, struct clk_cand *cand, int n)
{
	struct clk_cand t;
	int i, j, k = 0;

	for (i = 0; i < n; i++) {
		if (!c->src[cand[i].id].cfg.prefer)
			continue;
		t = cand[i];
		for (j = i; j > k; j--)
			cand[j] = cand[j - 1];
		cand[k++] = t;
	}
	if (k == 0)
		return n;
	for (i = k; i < n; i++)
		cand[i].tally = '-';
	return k;
}

/* The system peer among the N survivors (the preferred ones, when there are: see
 * prefer_only): the current one if it is as good a stratum as the best, else the best by
 * merit (first). Returns its index in CAND. */
static int pick_peer(const struct clk_core *c, const struct clk_cand *cand, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (cand[i].id == c->sys_peer && cand[i].stratum <= cand[0].stratum)
			return i;
	return 0;
}

/* Correct the clock for combined offset THETA (s) at raw time R: a step when makestep allows
 * (UPDATE: the offset is new), then a slew over the time constant of PEER_POLL. */
static void correct(struct clk_core *c, int64_t r, double theta, int update, int peer_poll)
{
	double tau, f;
	int lim = c->cfg.makestep_limit;

	if (update && fabs(theta) > c->cfg.makestep_threshold && (lim < 0 || c->updates <= lim) &&
	    clk_disc_step(&c->disc, r, theta) == 0)
		theta = 0.0;
	tau = fmax(fmax(TAU_MIN, TAU_CALLS * c->call_gap), ldexp(1.0, peer_poll) / TAU_DIV);
	f = c->freq + theta / tau;
	clk_disc_set_freq(&c->disc, r, f);
}

/* The rate (s/s) at which the bound grows from raw time R on: PHI + skew, and the slew's
 * own rate (how fast the correction moves the served time off the oscillator's). */
static double growth(const struct clk_core *c)
{
	return (DROP(CLK_MUT_HOLDOVER) ? 0.0 : CLK_PHI + core_skew(c)) +
	       (DROP(CLK_MUT_SLEW) ? 0.0 : fabs(clk_disc_freq(&c->disc) - c->freq));
}

/* The bound is about to grow at another rate from raw time R: grow it to R first. */
static void rebase(struct clk_core *c, int64_t r)
{
	if (c->have_bound && r > c->bound_r) {
		c->root_disp = core_root_disp_at(c, r);
		c->bound_r = r;
	}
	c->bound_rate = growth(c);
}

/* Correct at frequency F from raw time R (the bound's growth follows). */
static void set_freq(struct clk_core *c, int64_t r, double f)
{
	clk_disc_set_freq(&c->disc, r, f);
	rebase(c, r);
}

/*
 * The advertised error bound at raw time R from system peer P. Each of the
 * peer's recent samples, projected to now with the frequency estimate,
 * says the true offset lies within its offset plus or minus its root
 * distance: the peer's root delay / 2 and root dispersion, the sample's
 * delay / 2 and dispersion, grown at PHI + skew since it was taken; the
 * served time's error is at most |offset| plus that. Every sample gives a
 * valid bound while nothing stepped (a step restarts the peer's samples,
 * source.h): the tightest is used, plus the system jitter for what the
 * intervals themselves miss (timestamps noisier than their precision).
 * From R on it grows at growth(): the slew moves the served time at most
 * that fast, whenever the next update comes.
 */
static void bound(struct clk_core *c, const struct clk_src *p, int64_t r)
{
	const struct clk_sample *sm;
	double off, disp, total, best = INFINITY;
	int i, from = p->filt.n > CLK_FILTER_LEN ? p->filt.n - CLK_FILTER_LEN : 0;

	for (i = from; i < p->filt.n; i++) {
		sm = clk_filter_at(&p->filt, i);
		off = project(c, sm, r);
		disp = sm->disp + (DROP(CLK_MUT_GROWTH)
					   ? 0.0
					   : (CLK_PHI + c->skew) * fabs(clk_dsec(r, sm->t)));
		total = (DROP(CLK_MUT_ROOT_DELAY) ? 0.0 : (p->root_delay + sm->delay) / 2.0) +
			(DROP(CLK_MUT_ROOT_DISP) ? 0.0 : p->root_disp) + disp +
			(DROP(CLK_MUT_OFFSET) ? 0.0 : fabs(off));
		if (total < best) {
			best = total;
			c->root_delay = p->root_delay + sm->delay;
		}
	}
	c->root_disp = best - c->root_delay / 2.0 + (DROP(CLK_MUT_JITTER) ? 0.0 : c->sys_jitter);
	/* A step is being watched: if ours moved, every sample from before it is off by as
	 * much as the step measured; if the source's did, its new one is. */
	if (c->watch && !DROP(CLK_MUT_WATCH))
		c->root_disp += c->watch_by;
	c->bound_r = r;
	c->have_bound = 1;
	c->bound_rate = growth(c);
}

/* Select, combine and correct at raw time R; returns the number of survivors. */
static int evaluate(struct clk_core *c, int64_t r)
{
	struct clk_cand cand[CLK_MAX_SOURCES];
	struct clk_src *p;
	double lo, hi, theta;
	int i, n = 0, good, surv, k, update = 0;

	if (c->watch && !watch_pending(c))
		watch_over(c);
	if (c->watch) {
		/* Whose step it was is not known yet: the selection stands as it was, the
		 * clock holds still (its frequency only), the samples wait. */
		if (c->sys_peer < 0 || !c->src[c->sys_peer].filt.n)
			return 0;
		clk_disc_set_freq(&c->disc, r, c->freq);
		bound(c, &c->src[c->sys_peer], r);
		return 1;
	}
	for (i = 0; i < c->n; i++)
		if (i != c->local_id) /* the local reference is no candidate */
			n += candidate(c, i, r, &cand[n]);
	good = n ? clk_select_intersect(cand, n, &lo, &hi) : 0;
	surv = good ? clk_select_cluster(cand, n, CLK_MIN_CLUSTER, c->cfg.maxdistance) : 0;
	for (i = 0; i < n; i++)
		c->src[cand[i].id].tally = cand[i].tally;
	if (surv < c->cfg.minsources || still_waiting(c)) {
		/* Nothing is selected: survivors are no candidates yet. */
		for (i = 0; i < n; i++)
			if (cand[i].tally == '+')
				c->src[cand[i].id].tally = ' ';
		c->sys_peer = -1;
		return 0;
	}
	c->leap = leap_vote(c, cand, surv);
	surv = prefer_only(c, cand, surv);
	for (i = 0; i < n; i++)
		c->src[cand[i].id].tally = cand[i].tally;
	k = pick_peer(c, cand, surv);
	c->sys_peer = cand[k].id;
	p = &c->src[c->sys_peer];
	p->tally = '*';
	theta = clk_select_combine(cand, surv);
	c->sys_jitter = hypot(clk_select_jitter(cand, surv, k), p->jitter);
	for (i = 0; i < surv; i++)
		update |= c->src[cand[i].id].fresh;
	/* Samples from sources that did not survive are no clock update later either. */
	for (i = 0; i < c->n; i++)
		c->src[i].fresh = 0;
	if (update)
		estimate_freq(c, cand, surv);
	if (update) {
		c->updates++;
		if (c->updates > 1)
			c->upd_interval = clk_dsec(r, c->upd_r);
		c->upd_r = r;
		c->offset = theta;
		c->ms_offset =
			c->updates == 1 ? theta * theta : 0.9 * c->ms_offset + 0.1 * theta * theta;
		c->peer_freq = p->est.f;
	}
	correct(c, r, theta, update, p->poll);
	if (update) {
		c->ref_served = clk_disc_served(&c->disc, r);
		c->contradicted = 0;
	}
	bound(c, p, r);
	c->stratum = p->stratum + 1;
	c->refid = p->cfg.refid;
	return surv;
}

/* 1 when the local reference's latest reading vouched for the clock, and that counts. */
static int local_vouches(const struct clk_core *c)
{
	/* Only in a core that measures nothing: one that does steers or corrects the clock
	 * itself, and the kernel may only be repeating what we told it. */
	return c->local_id >= 0 && !c->n_measuring && (c->src[c->local_id].reach & 1);
}

/*
 * The local reference's part of the snapshot at raw time R (DIST: our
 * root distance now, when there is a bound). Honest about what we know of
 * the clock's error: when its latest reading vouched for the clock, the
 * reference time is now and the error is the configured dispersion plus
 * the one that reading gave; after our own clock updates, the configured
 * dispersion plus our root distance, growing from the last update;
 * otherwise the configured dispersion growing at PHI + skew from the last
 * moment the clock was known good (the start at the latest).
 */
static void serve_local(struct clk_core *c, int64_t r, double dist, struct clk_snapshot *out)
{
	const struct clk_src *l = &c->src[c->local_id];

	out->flags |= CLK_F_SYNCED;
	out->stratum = (uint8_t)clk_clampi(l->cfg.stratum, 1, 15);
	out->refid = ntp_refid_ascii("LOCL");
	out->root_delay = 0.0;
	if (local_vouches(c)) {
		c->local_ref_r = r;
		out->leap = (uint8_t)l->leap;
		out->ref_ns = clk_disc_served(&c->disc, r);
		out->root_disp = l->cfg.dispersion + l->root_disp;
		out->flags |= CLK_F_KERNEL_SYNC;
	} else if (c->have_bound) {
		out->leap = NTP_LEAP_NONE;
		out->ref_ns = c->ref_served;
		out->root_disp = l->cfg.dispersion + dist;
	} else {
		out->leap = NTP_LEAP_NONE;
		out->ref_ns = clk_disc_served(&c->disc, c->local_ref_r);
		out->root_disp = l->cfg.dispersion +
				 (CLK_PHI + core_skew(c)) * fmax(0.0, clk_dsec(r, c->local_ref_r));
	}
	/* A leap the core planned (a leap table's, on its last day) is announced from the
	 * local reference too: a stratum-1 server must announce on its file's authority. */
	if (out->leap == NTP_LEAP_NONE && c->leap_li != NTP_LEAP_NONE)
		out->leap = (uint8_t)c->leap_li;
	c->local_leap = out->leap;
}

/*
 * 1 when a sample newer than the last clock update says the bound held
 * over at raw time R is wrong: its interval (offset plus or minus its
 * root distance, grown since) misses the one advertised. No source
 * survived selection to say otherwise, so the bound cannot be vouched
 * for any more.
 */
static int contradicted(const struct clk_core *c, int64_t r)
{
	double adv = c->root_delay / 2.0 + core_root_disp_at(c, r), off, d;
	const struct clk_sample *sm;
	int i;

	for (i = 0; i < c->n; i++) {
		const struct clk_src *s = &c->src[i];

		if (i == c->local_id || s->denied || !s->filt.n)
			continue;
		sm = clk_filter_at(&s->filt, s->filt.n - 1);
		if (sm->t <= c->upd_r)
			continue;
		off = project(c, sm, r);
		d = s->root_delay / 2.0 + s->root_disp + sm->delay / 2.0 + sm->disp +
		    (CLK_PHI + c->skew) * fabs(clk_dsec(r, sm->t));
		if (fabs(off) - d > adv)
			return 1;
	}
	return 0;
}

void clk_core_update(struct clk_core *c, int64_t now, struct clk_snapshot *out)
{
	int64_t r;
	double rdisp, dist;
	int surv;

	if (!c || !out)
		return;
	if (c->drv->ops->tick)
		c->drv->ops->tick(c->drv);
	core_leap_seen(c);
	c->last_now = now;
	r = clk_disc_raw(&c->disc, now);
	/* The longest recent gap between calls, forgotten slowly (5 % a call). */
	c->call_gap = fmax(fmin(clk_dsec(r, c->call_r), CORE_MAXDISP), 0.95 * c->call_gap);
	c->call_r = r;
	surv = evaluate(c, r);
	/* Holdover: keep the frequency, stop slewing toward an offset nobody confirms. */
	if (!surv) {
		set_freq(c, r, c->freq);
		if (c->have_bound && contradicted(c, r))
			c->contradicted = 1;
	}
	core_leap_update(c, r, surv ? c->leap : -1);
	memset(out, 0, sizeof(*out));
	clk_disc_mapping(&c->disc, now, out);
	out->precision = (int8_t)c->cfg.precision;
	out->disp_rate = c->have_bound ? c->bound_rate : CLK_PHI + core_skew(c);
	/* Our own correction is served only by a core that measures (and so may correct). */
	if (!c->disc.steer && c->n_measuring)
		out->flags |= CLK_F_CORRECTED;
	rdisp = core_root_disp_at(c, r);
	dist = c->root_delay / 2.0 + rdisp;
	c->synced = c->have_bound && dist <= c->cfg.maxdistance && !c->contradicted &&
		    (c->cfg.holdover < 0.0 || clk_dsec(r, c->upd_r) <= c->cfg.holdover);
	/* The local reference once the sources had their chance, not while they start:
	 * before anything is measured only the configuration vouches for the clock. */
	c->local = !c->synced && c->local_id >= 0 && (c->have_bound || !still_waiting(c));
	if (c->synced) {
		out->flags |= CLK_F_SYNCED;
		out->leap = (uint8_t)c->leap_li;
		out->stratum = (uint8_t)clk_clampi(c->stratum, 1, 16);
		out->refid = c->refid;
		out->ref_ns = c->ref_served;
		out->root_delay = c->root_delay;
		out->root_disp = rdisp;
	} else if (c->local) {
		serve_local(c, r, dist, out);
	} else {
		out->leap = NTP_LEAP_UNSYNC;
		out->stratum = 16;
		out->refid = c->refid;
		out->ref_ns = c->have_bound ? c->ref_served : 0;
		out->root_delay = c->root_delay;
		out->root_disp = rdisp;
	}
	if (c->disc.steer && c->drv->ops->set_status)
		c->drv->ops->set_status(c->drv, core_leap_arm_li(c, out->leap), c->synced,
					fmin(out->root_delay / 2.0 + out->root_disp, CORE_MAXDISP),
					fmin(c->sys_jitter + fabs(c->offset), CORE_MAXDISP));
	core_leap_smear(c, out);
}

int64_t clk_core_next_event(const struct clk_core *c)
{
	return c ? core_leap_next(c) : INT64_MAX;
}
