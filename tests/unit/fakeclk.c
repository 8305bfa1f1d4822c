/*
 * The fake clock driver of the clock core's tests: driver time is linear
 * in the test's sys time; setters integrate the phase up to the present,
 * then change frequency or phase, and count themselves.
 */
#include <errno.h>
#include <string.h>

#include "tests/unit/fakeclk.h"

static int64_t fk_driver_at(const struct fakeclk *f, int64_t sys)
{
	return sys + f->off + (int64_t)((double)(sys - f->base_ns) * f->freq);
}

/* Fold the phase accumulated since base_ns into off. */
static void fk_advance(struct fakeclk *f)
{
	f->off = fk_driver_at(f, f->sys) - f->sys;
	f->base_ns = f->sys;
}

static int64_t fk_now(struct clk_driver *d)
{
	const struct fakeclk *f = d->priv;

	return fk_driver_at(f, f->sys);
}

static void fk_mapping(struct clk_driver *d, int64_t *off, double *freq, int64_t *base)
{
	const struct fakeclk *f = d->priv;

	if (f->kernel) { /* as drv_kernel.c on CLOCK_REALTIME */
		*off = 0;
		*freq = 0.0;
		*base = 0;
		return;
	}
	*off = f->off;
	*freq = f->freq;
	*base = f->base_ns;
}

static int fk_set_freq(struct clk_driver *d, double ppm)
{
	struct fakeclk *f = d->priv;

	f->set_freq_calls++;
	if (f->fail)
		return -EPERM;
	fk_advance(f);
	f->corr = ppm * 1e-6;
	f->freq = f->osc + f->corr;
	f->last_ppm = ppm;
	return 0;
}

static int fk_step(struct clk_driver *d, int64_t off)
{
	struct fakeclk *f = d->priv;

	f->step_calls++;
	if (f->fail)
		return -EPERM;
	fk_advance(f);
	f->off += off;
	f->last_step = off;
	if (f->on_step)
		f->on_step(f, f->on_step_arg);
	return 0;
}

static int fk_set_status(struct clk_driver *d, int leap, int synced, double maxerror,
			 double esterror)
{
	struct fakeclk *f = d->priv;

	f->status_calls++;
	if (f->fail)
		return -EPERM;
	f->leap = leap;
	f->synced = synced;
	f->maxerror = maxerror;
	f->esterror = esterror;
	return 0;
}

static void fk_tick(struct clk_driver *d)
{
	struct fakeclk *f = d->priv;

	f->tick_calls++;
}

static double fk_true_error(struct clk_driver *d, int64_t served, int64_t truth)
{
	(void)d;
	return (double)(served - truth) / 1e9;
}

static void fk_destroy(struct clk_driver *d)
{
	(void)d;
}

static const struct clk_driver_ops fk_ops = {
	.name = "fake",
	.now = fk_now,
	.mapping = fk_mapping,
	.set_freq = fk_set_freq,
	.step = fk_step,
	.set_status = fk_set_status,
	.tick = fk_tick,
	.true_error = fk_true_error,
	.destroy = fk_destroy,
};

void fakeclk_init(struct fakeclk *f, int64_t sys, int64_t off, double osc)
{
	memset(f, 0, sizeof(*f));
	f->base.ops = &fk_ops;
	f->base.adjustable = 1;
	f->base.priv = f;
	f->sys = sys;
	f->base_ns = sys;
	f->off = off;
	f->osc = osc;
	f->freq = osc;
}

void fakeclk_set(struct fakeclk *f, int64_t sys)
{
	f->sys = sys;
}
