/*
 * A source's life: when to poll it, what its replies are worth. Polls
 * start with an optional burst (eight polls two seconds apart, one second
 * with minpoll 0), then follow the poll the estimator suggests: the
 * longest interval over which it predicts the phase within a good
 * sample's noise, between minpoll and maxpoll, one step up per sample and
 * straight down when needed; a silent source backs off one step per eight
 * silent polls. A measurement, once its driver's own tests passed (an
 * NTP reply's header: proto/ntpreply.h), passes the round-trip tests
 * (each failure sets its flash bit and drops it), then becomes a sample:
 * offset against the raw clock, delay, dispersion, into the clock filter
 * and the Kalman estimator. Hostile input is expected: every field is
 * checked before it is used, every subtraction is overflow-checked.
 */
#include <math.h>
#include <string.h>

#include "clock/source.h"
#include "clock/nsec.h"
#include "proto/ntp.h"

/* s: root delay or dispersion beyond which a source's word is nonsense (RFC 5905 MAXDISP) */
#define MAXDISP 16.0
/* s: round trips longer than this are dropped (chrony's maxdelay default): no real
 * path takes that long, and a request that waited across one of our steps looks so */
#define MAX_DELAY 3.0
/* s: how far a delay may come out negative (clock granularity, a server whose
 * receive and transmit stamps come from different reads) before it is nonsense */
#define NEG_DELAY_SLACK 0.001
/* s between iburst polls (RFC 5905 / ntpd: 2 s; 1 s when minpoll is 0) */
#define BURST_GAP 2
/* fractional: frequency error assumed before anything is measured (the kernel's range) */
#define FREQ_UNKNOWN 500e-6
/* 1/s: wander a new estimator assumes (1e-8/sqrt(s), a poor oscillator) until it learns
 * better: too high only costs shorter polls at first, too low a slow start */
#define Q_START 1e-16
/* the poll is the longest interval over which the estimator predicts the phase within
 * POLL_SD times a good sample's noise: longer, and the clock would drift off unseen */
#define POLL_SD 1.0
/* standard deviations of a frequency estimate in its skew, plus SKEW_N_WIDEN / samples
 * (a young estimator's variance is itself uncertain) */
#define SKEW_K	     3.0
#define SKEW_N_WIDEN 24.0
/* a step misses the earlier samples' interval by more than this many standard deviations of
 * the source's noise (its jitter, or the estimator's prediction, whichever is larger): far
 * beyond any sample's own scatter, so noise never passes for a step */
#define STEP_SD 5.0

static int64_t pow2_ns(int log2s)
{
	return (int64_t)1000000000 << log2s;
}

void clk_src_init(struct clk_src *s, const struct clk_source_cfg *cfg, int64_t now)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->cfg.name[sizeof(s->cfg.name) - 1] = '\0';
	s->cfg.minpoll = clk_clampi(s->cfg.minpoll, 0, NTP_MAX_POLL);
	s->cfg.maxpoll = clk_clampi(s->cfg.maxpoll, s->cfg.minpoll, NTP_MAX_POLL);
	s->cfg.unreach_polls = clk_clampi(s->cfg.unreach_polls, 0, CLK_UNREACH_POLLS);
	clk_src_reset(s, cfg->refid, now);
}

void clk_src_reset(struct clk_src *s, uint32_t refid, int64_t now)
{
	struct clk_source_cfg cfg = s->cfg;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->cfg.refid = refid;
	s->poll = s->cfg.minpoll;
	s->burst = s->cfg.iburst ? CLK_BURST_POLLS : 0;
	s->next_poll = now;
	s->tally = ' ';
	s->stratum = 16;
	s->leap = NTP_LEAP_UNSYNC;
}

void clk_src_poll_sent(struct clk_src *s, int64_t now)
{
	int64_t gap;

	s->reach <<= 1;
	s->polls++;
	s->silent++;
	s->last_poll = now;
	if (clk_src_unreachable(s))
		s->flash |= NTP_FLASH_PEER_UNREACH;
	/* Back off one step per register's worth of silence. */
	if (s->reach == 0 && s->silent >= CLK_UNREACH_POLLS && s->silent % CLK_UNREACH_POLLS == 0 &&
	    s->poll < s->cfg.maxpoll)
		s->poll++;
	/* The burst's polls are BURST_GAP apart; after its last, the poll interval. */
	if (s->burst > 0 && --s->burst > 0)
		gap = s->cfg.minpoll == 0 ? pow2_ns(0) : BURST_GAP * pow2_ns(0);
	else
		gap = pow2_ns(s->poll);
	s->next_poll = ns_add_sat(now, gap);
}

void clk_src_slow_down(struct clk_src *s, int64_t now)
{
	/* One poll step, no burst, wait a whole interval. */
	s->burst = 0;
	s->poll = clk_clampi(s->poll + 1, s->cfg.minpoll, s->cfg.maxpoll);
	s->next_poll = ns_add_sat(now, pow2_ns(s->poll));
}

void clk_src_refused(struct clk_src *s)
{
	/* RFC 5905: stop talking to a server that denies us. */
	s->flash |= NTP_FLASH_DENIED;
	s->denied = 1;
	s->burst = 0;
}

int clk_src_unreachable(const struct clk_src *s)
{
	/* silent counts the polls since the last valid sample (all of them if none yet): with
	 * the default limit it passes 8 exactly when the reach register empties. */
	return s->silent >= (s->cfg.unreach_polls ? s->cfg.unreach_polls : CLK_UNREACH_POLLS);
}

double clk_src_skew(const struct clk_src *s)
{
	return (SKEW_K + SKEW_N_WIDEN / (s->est.n > 0 ? s->est.n : 1)) * sqrt(s->est.pff);
}

/*
 * Feed sample SM (just added to S's filter) to S's estimator, then steer
 * the poll: the longest interval over which the estimator's own prediction
 * (its phase and frequency uncertainty and the wander it learned) stays
 * within POLL_SD good samples' noise. Down at once, up one step per
 * sample, nothing during the burst.
 */
static void estimate(struct clk_src *s, const struct clk_src_env *env, const struct clk_sample *sm)
{
	/* A sample is no better than the coarser of the two clocks that stamped it: ours, and
	 * the source's (a reference clock's precision is the noise its driver measured). */
	double prec = fmax(ldexp(1.0, env->precision), ldexp(1.0, s->precision));
	double r = clk_filter_var(&s->filt, sm, prec), sd, var;
	int p, target;

	if (s->filt.n == 1) {
		var = env->freq_sd >= 0.0 ? env->freq_sd * env->freq_sd
					  : FREQ_UNKNOWN * FREQ_UNKNOWN;
		clk_est_init(&s->est, sm->t, sm->x, r, env->freq, var, Q_START);
		return;
	}
	clk_est_update(&s->est, sm->t, sm->x, r);
	if (s->burst > 0)
		return;
	sd = POLL_SD * clk_filter_floor(&s->filt, prec);
	target = s->cfg.minpoll;
	for (p = s->cfg.minpoll; p <= s->cfg.maxpoll; p++) {
		clk_est_at(&s->est, ns_add_sat(sm->t, pow2_ns(p)), &var);
		if (var > sd * sd)
			break;
		target = p;
	}
	if (target < s->poll)
		s->poll = target;
	else if (target > s->poll)
		s->poll++;
}

void clk_src_reject(struct clk_src *s, unsigned flash)
{
	s->flash = flash;
}

/*
 * The jump (s) of sample SM (variance R) from what S's earlier samples
 * say, when they cannot both be right (see source.h), else 0: the
 * least-delayed recent sample projected to SM with the estimator's
 * frequency, its interval grown at PHI plus the source's skew, against
 * SM's interval, with STEP_SD standard deviations of noise to spare.
 */
static double step_of(const struct clk_src *s, const struct clk_sample *sm, double r, double prec)
{
	const struct clk_sample *b;
	double dt, nu, half, var, sd;
	int best;

	if (s->filt.n == 0)
		return 0.0;
	best = clk_filter_best(&s->filt);
	b = clk_filter_at(&s->filt, best);
	dt = clk_dsec(sm->t, b->t);
	nu = sm->x - (b->x + s->est.f * dt);
	half = b->delay / 2.0 + b->disp + (CLK_PHI + clk_src_skew(s)) * fabs(dt) + sm->delay / 2.0 +
	       sm->disp;
	clk_est_at(&s->est, sm->t, &var);
	sd = fmax(fmax(clk_filter_jitter(&s->filt, best, s->est.f), sqrt(var + r)), prec);
	return fabs(nu) > half + STEP_SD * sd ? nu : 0.0;
}

/* Start S again from sample SM (variance R) of the exchange that began at raw R1: a step. */
static void restart(struct clk_src *s, const struct clk_sample *sm, double r, double by, int64_t r1)
{
	int64_t soon = ns_add_sat(sm->t, BURST_GAP * pow2_ns(0));

	clk_filter_clear(&s->filt);
	clk_filter_add(&s->filt, sm);
	clk_est_restart(&s->est, sm->t, sm->x, r);
	s->steps++;
	s->step_by = by;
	s->step_r = r1;
	/* Learn the new phase quickly: minpoll, and a burst when the source may take one
	 * (not another one while one runs: a source that keeps stepping is no reason to
	 * poll it without end). */
	s->poll = s->cfg.minpoll;
	if (s->cfg.iburst && s->burst == 0)
		s->burst = CLK_BURST_POLLS;
	if (soon < s->next_poll)
		s->next_poll = soon;
}

void clk_src_leap(struct clk_src *s, int dir)
{
	int i;

	for (i = 0; i < s->filt.n; i++)
		s->filt.s[(s->filt.first + i) % CLK_SAMPLES].x -= dir;
	s->est.x -= dir;
	s->est.lag_x -= dir;
}

int clk_src_sample(struct clk_src *s, const struct clk_src_env *env, const struct clk_meas *m,
		   const struct clk_xchg *x)
{
	struct clk_sample sm;
	int64_t t2 = m->t2, t3 = m->t3, a = 0, b = 0;
	double rtt, proc, delay, prec = ldexp(1.0, env->precision), by, r;
	unsigned flash = 0;

	/* What the source says of itself, in range: an NTP reply's header tests already
	 * refused worse, a reference clock driver is held to the same. */
	if (m->leap < NTP_LEAP_NONE || m->leap > NTP_LEAP_DELETE || m->stratum < 0 ||
	    m->stratum > 15)
		flash |= NTP_FLASH_UNSYNC;
	if (!(m->root_delay >= 0.0 && m->root_delay <= MAXDISP) ||
	    !(m->root_disp >= 0.0 && m->root_disp <= MAXDISP) || m->precision > 0)
		flash |= NTP_FLASH_HEADER;
	rtt = clk_dsec(x->r4, x->r1);
	proc = clk_dsec(t3, t2);
	delay = rtt - proc;
	if (!(rtt >= 0.0) || rtt > MAX_DELAY || proc < 0.0 || delay < -NEG_DELAY_SLACK ||
	    __builtin_sub_overflow(t2, x->r1, &a) || __builtin_sub_overflow(t3, x->r4, &b))
		flash |= NTP_FLASH_HEADER;
	/* An exchange that waited across one of our steps has stamps on two timescales. */
	if (env->step_r != INT64_MIN && x->r4 >= env->step_r &&
	    clk_dsec(x->r4, env->step_r) < MAX_DELAY)
		flash |= NTP_FLASH_BOGUS;
	if (flash) {
		s->flash = flash;
		return CLK_SRC_DROPPED;
	}
	s->stratum = m->stratum;
	s->leap = m->leap;
	s->precision = m->precision < -30 ? -30 : m->precision;
	s->refid = m->refid;
	s->root_delay = m->root_delay;
	s->root_disp = m->root_disp;
	s->last_rx = x->t4;
	s->last_r1 = x->r1;
	sm.t = ns_add_sat(x->r1, (x->r4 - x->r1) / 2);
	/* ((T2 - T1) + (T3 - T4)) / 2 against the raw clock; each half fits int64_t. */
	sm.x = (clk_sec(a) + clk_sec(b)) / 2.0;
	sm.delay = delay > prec ? delay : prec;
	sm.disp = prec + ldexp(1.0, s->precision) + CLK_PHI * rtt;
	s->flash = s->root_delay / 2.0 + s->root_disp + sm.delay / 2.0 + sm.disp > env->maxdistance
			   ? NTP_FLASH_PEER_DIST
			   : 0;
	r = clk_filter_var(&s->filt, &sm, prec);
	by = s->filt.n ? step_of(s, &sm, r, prec) : 0.0;
	if (by != 0.0) {
		restart(s, &sm, r, by, x->r1);
	} else {
		clk_filter_add(&s->filt, &sm);
		estimate(s, env, &sm);
		/* Back from silence: refill the filter quickly. */
		if (s->reach == 0 && s->polls > CLK_UNREACH_POLLS && s->cfg.iburst)
			s->burst = CLK_BURST_POLLS;
	}
	s->reach |= 1;
	s->silent = 0;
	s->fresh = 1;
	return by != 0.0 ? CLK_SRC_STEP : CLK_SRC_SAMPLE;
}
