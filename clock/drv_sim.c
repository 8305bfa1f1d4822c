/*
 * The sim clock driver: a virtual clock over a truth clock (the system
 * clock in the daemon, simulated time in the tests). Its time is
 *     driver = truth + shift + phase
 * where the shift is a simulated date's distance from the truth (`driver
 * sim date`, exact in ns: so a test can put horod on the last day before
 * a leap second), and the phase grows at the clock's frequency error: the configured
 * oscillator error, plus a random walk ("wander", ppm per sqrt(s)) drawn
 * from a seeded PRNG at each tick(), plus the correction the discipline
 * sets through set_freq(), as it would on the kernel clock. The frequency
 * only changes at tick(), set_freq() and step(), so between them the phase
 * is linear in truth time: each of those first integrates the phase
 * exactly up to the truth clock's present, however far it jumped, and
 * mapping() hands out that line. The driver knows its true error, which
 * the daemon logs and the tests check.
 *
 * Leap seconds as Linux applies them to CLOCK_REALTIME: set_status()
 * with an insertion (deletion) while synchronized arms it, and when the
 * virtual clock itself reaches the end of its UTC day (its 23:59:59 for a
 * deletion) it steps back (forward) one second, once per arming, counted
 * by leaps(). A test can also step the clock behind the core's back
 * (clk_sim_jump), as `date -s` or a VM resume steps a kernel clock.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "clock/driver.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

/* ppm: the correction set_freq() accepts (clamped beyond): 10 %, about what the kernel
 * driver reaches with the tick length; the model is exact at any rate */
#define SIM_MAX_PPM 100000.0
/* 2^-53: turns the top 53 bits of a PRNG word into a double in [0, 1) */
#define SIM_2POW_M53 (1.0 / 9007199254740992.0)
/* ns in a UTC day: the kernel applies an armed leap second at the end of one */
#define SIM_DAY_NS (86400 * NS_PER_SEC)

struct sdrv {
	struct clk_driver base; /* first: the core holds a pointer to it */
	clk_truth_fn truth;
	void *arg;
	double freq_err_ppm; /* configured oscillator error */
	double wander;	     /* ppm/sqrt(s) */
	double walk_ppm;     /* random-walk part of the frequency error, now */
	double corr_ppm;     /* correction from set_freq() */
	double phase_ns;     /* driver - truth - shift at truth time t_ns */
	int64_t shift_ns;    /* ns: the simulated date's distance from the truth, exact */
	int64_t t_ns;	     /* truth time up to which phase_ns is integrated */
	int64_t wander_ns;   /* truth time of the last wander step */
	uint64_t rng[4];     /* xoshiro256** state */
	/* Last status the discipline reported; the leap is acted on as the kernel would. */
	int leap, synced;
	double maxerror, esterror;
	int leap_arm;  /* +1 an insertion armed, -1 a deletion, 0 none (STA_INS / STA_DEL) */
	int leap_wait; /* the armed leap was applied; nothing more until disarmed (TIME_WAIT) */
	int leaps;     /* net leap seconds applied: +1 per insertion, -1 per deletion */
};

static const struct clk_driver_ops sdrv_ops;

/* splitmix64 step: expands the seed into the xoshiro state. */
static uint64_t sim_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t sim_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** next word. */
static uint64_t sim_next(struct sdrv *s)
{
	uint64_t *r = s->rng;
	uint64_t out = sim_rotl(r[1] * 5, 7) * 9, t = r[1] << 17;

	r[2] ^= r[0];
	r[3] ^= r[1];
	r[1] ^= r[2];
	r[0] ^= r[3];
	r[2] ^= t;
	r[3] = sim_rotl(r[3], 45);
	return out;
}

/* A standard normal deviate (Box-Muller, cosine branch). */
static double sim_gauss(struct sdrv *s)
{
	/* u1 in (0, 1] so that log() is finite; u2 in [0, 1). */
	double u1 = (double)((sim_next(s) >> 11) + 1) * SIM_2POW_M53;
	double u2 = (double)(sim_next(s) >> 11) * SIM_2POW_M53;

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Fractional frequency of driver time against truth, now. */
static double sim_freq(const struct sdrv *s)
{
	return (s->freq_err_ppm + s->walk_ppm + s->corr_ppm) * 1e-6;
}

/* The driver time at which an armed leap applies after driver time FROM: the next end of a
 * UTC day for an insertion (the clock reads it, then repeats its last second), one second
 * before it for a deletion (23:59:59 never shows). */
static int64_t sim_leap_edge(int64_t from, int dir)
{
	int64_t d = ns_floor_sec(dir > 0 ? from : from + NS_PER_SEC) / 86400;
	int64_t edge = (d + 1) * SIM_DAY_NS;

	return dir > 0 ? edge : edge - NS_PER_SEC;
}

/* Integrate the phase exactly up to truth time NOW (linear since t_ns); apply an armed leap
 * second the virtual clock reached meanwhile. */
static void sim_advance(struct sdrv *s, int64_t now)
{
	int64_t before = ns_add_sat(s->t_ns + s->shift_ns, ns_round_sat(s->phase_ns)), after;

	s->phase_ns += ns_diff(now, s->t_ns) * sim_freq(s);
	s->t_ns = now;
	if (!s->leap_arm || s->leap_wait)
		return;
	after = ns_add_sat(now + s->shift_ns, ns_round_sat(s->phase_ns));
	if (after < sim_leap_edge(before, s->leap_arm))
		return;
	s->phase_ns -= (double)s->leap_arm * NS_PER_SEC;
	s->leaps += s->leap_arm;
	s->leap_wait = 1;
}

static int64_t sdrv_now(struct clk_driver *d)
{
	struct sdrv *s = d->priv;

	return clk_driver_from_sys(d, s->truth(s->arg));
}

static void sdrv_mapping(struct clk_driver *d, int64_t *offset_ns, double *freq, int64_t *base_ns)
{
	struct sdrv *s = d->priv;

	*offset_ns = ns_add_sat(s->shift_ns, ns_round_sat(s->phase_ns));
	*freq = sim_freq(s);
	*base_ns = s->t_ns;
}

static int sdrv_set_freq(struct clk_driver *d, double ppm)
{
	struct sdrv *s = d->priv;

	if (!d->adjustable)
		return -EPERM;
	if (!isfinite(ppm))
		return -EINVAL;
	if (ppm > SIM_MAX_PPM)
		ppm = SIM_MAX_PPM;
	else if (ppm < -SIM_MAX_PPM)
		ppm = -SIM_MAX_PPM;
	sim_advance(s, s->truth(s->arg));
	s->corr_ppm = ppm;
	return 0;
}

static int sdrv_step(struct clk_driver *d, int64_t offset_ns)
{
	struct sdrv *s = d->priv;

	if (!d->adjustable)
		return -EPERM;
	sim_advance(s, s->truth(s->arg));
	s->phase_ns += (double)offset_ns;
	return 0;
}

static int sdrv_set_status(struct clk_driver *d, int leap, int synced, double maxerror,
			   double esterror)
{
	struct sdrv *s = d->priv;

	int arm = 0;

	if (!d->adjustable)
		return -EPERM;
	/* What the clock reached under the old status first, as the kernel's own timer would. */
	sim_advance(s, s->truth(s->arg));
	s->leap = leap;
	s->synced = synced;
	s->maxerror = maxerror;
	s->esterror = esterror;
	/* As drv_kernel.c asks Linux: STA_INS / STA_DEL only while synchronized. */
	if (synced && leap == NTP_LEAP_INSERT)
		arm = 1;
	else if (synced && leap == NTP_LEAP_DELETE)
		arm = -1;
	if (arm != s->leap_arm)
		s->leap_wait = 0; /* a new arming, or none: TIME_WAIT ends */
	s->leap_arm = arm;
	return 0;
}

static int sdrv_leaps(struct clk_driver *d, int *armed)
{
	struct sdrv *s = d->priv;

	sim_advance(s, s->truth(s->arg));
	if (armed)
		*armed = s->leap_arm; /* still armed once applied, until disarmed (TIME_WAIT) */
	return s->leaps;
}

/* Integrate to now, then one wander step covering the time since the last. */
static void sdrv_tick(struct clk_driver *d)
{
	struct sdrv *s = d->priv;
	int64_t now = s->truth(s->arg);
	double dt;

	sim_advance(s, now);
	dt = ns_dsec(now, s->wander_ns);
	if (dt <= 0.0)
		return;
	s->wander_ns = now;
	if (s->wander > 0.0)
		s->walk_ppm += s->wander * sqrt(dt) * sim_gauss(s);
}

static double sdrv_true_error(struct clk_driver *d, int64_t served_ns, int64_t truth_ns)
{
	const struct sdrv *s = d->priv;

	/* Against the simulated date's truth. */
	return ns_dsec(served_ns, ns_add_sat(truth_ns, s->shift_ns));
}

static void sdrv_destroy(struct clk_driver *d)
{
	if (d)
		free(d->priv);
}

static const struct clk_driver_ops sdrv_ops = {
	.name = "sim",
	.now = sdrv_now,
	.mapping = sdrv_mapping,
	.set_freq = sdrv_set_freq,
	.step = sdrv_step,
	.set_status = sdrv_set_status,
	.tick = sdrv_tick,
	.leaps = sdrv_leaps,
	.true_error = sdrv_true_error,
	.destroy = sdrv_destroy,
};

struct clk_driver *clk_driver_sim(const struct clk_sim_cfg *cfg, clk_truth_fn truth, void *arg)
{
	struct clk_sim_cfg none = {0};
	struct sdrv *s;
	uint64_t x;
	int i;

	if (!cfg)
		cfg = &none;
	if (!truth || !isfinite(cfg->offset) || !isfinite(cfg->freq) || !isfinite(cfg->wander) ||
	    cfg->wander < 0.0 || !(cfg->offset * NS_PER_SEC < NS_I64_LIMIT) ||
	    !(cfg->offset * NS_PER_SEC > -NS_I64_LIMIT))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->base.ops = &sdrv_ops;
	s->base.adjustable = 1;
	s->base.max_ppm = SIM_MAX_PPM;
	s->base.priv = s;
	s->truth = truth;
	s->arg = arg;
	s->freq_err_ppm = cfg->freq;
	s->wander = cfg->wander;
	s->phase_ns = cfg->offset * NS_PER_SEC;
	s->shift_ns = cfg->shift_ns;
	s->t_ns = truth(arg);
	s->wander_ns = s->t_ns;
	x = cfg->seed;
	for (i = 0; i < 4; i++)
		s->rng[i] = sim_splitmix(&x);
	return &s->base;
}

int clk_sim_state(struct clk_driver *d, double *phase_s, double *freq_ppm)
{
	struct sdrv *s;
	int64_t now;

	if (!d || d->ops != &sdrv_ops)
		return -EINVAL;
	s = d->priv;
	now = s->truth(s->arg);
	if (phase_s)
		*phase_s = (s->phase_ns + ns_diff(now, s->t_ns) * sim_freq(s)) / NS_PER_SEC;
	if (freq_ppm)
		*freq_ppm = s->freq_err_ppm + s->walk_ppm + s->corr_ppm;
	return 0;
}

int clk_sim_jump(struct clk_driver *d, int64_t offset_ns)
{
	struct sdrv *s;

	if (!d || d->ops != &sdrv_ops)
		return -EINVAL;
	s = d->priv;
	sim_advance(s, s->truth(s->arg));
	s->phase_ns += (double)offset_ns;
	return 0;
}
