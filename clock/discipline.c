/*
 * The clock correction as segments on the raw timescale: each change of
 * frequency or step opens a segment (start, correction there, frequency).
 * Steering, the same changes go to the driver, so driver time is raw time
 * plus the correction; not steering, the driver is left alone and the
 * correction lives only here and in the published snapshot. Corrections
 * are kept in double nanoseconds (exact to far below a nanosecond for any
 * correction under a day), times in int64 nanoseconds.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "clock/discipline.h"
#include "proto/nstime.h"

static const struct clk_disc_seg *newest(const struct clk_disc *d)
{
	return &d->seg[d->cur];
}

/* The I-th newest segment (0 = newest); I < nseg. */
static const struct clk_disc_seg *nth(const struct clk_disc *d, int i)
{
	return &d->seg[(d->cur - i + CLK_DISC_SEGS) % CLK_DISC_SEGS];
}

/* Open a segment at raw time R with correction A (ns) and frequency F. */
static void push(struct clk_disc *d, int64_t r, double a, double f)
{
	d->cur = (d->cur + 1) % CLK_DISC_SEGS;
	if (d->nseg < CLK_DISC_SEGS)
		d->nseg++;
	d->seg[d->cur].r = r;
	d->seg[d->cur].a = a;
	d->seg[d->cur].f = f;
}

/* The limit a steered driver DRV puts on the correction (ppm); max_ppm 0 means 500 ppm. */
static double drv_max_ppm(const struct clk_driver *drv)
{
	double m = drv->max_ppm > 0.0 ? drv->max_ppm : CLK_MAX_FREQ_PPM;

	return fmin(m, CLK_MAX_SLEW_PPM);
}

double clk_disc_max_freq(const struct clk_disc *d)
{
	return (d->steer ? drv_max_ppm(d->drv) : CLK_MAX_SLEW_PPM) * 1e-6;
}

int clk_disc_init(struct clk_disc *d, struct clk_driver *drv, int steer, double freq, int64_t now)
{
	double lim;

	memset(d, 0, sizeof(*d));
	d->drv = drv;
	d->step_r = INT64_MIN;
	d->nseg = 1;
	d->seg[0].r = now;
	/* Whether steering or not, start within what the driver could do. */
	lim = drv_max_ppm(drv) * 1e-6;
	freq = fmax(-lim, fmin(lim, freq));
	d->seg[0].f = freq;
	/* A driver that refuses the first setter is not ours to steer. */
	d->steer = steer && drv->adjustable && drv->ops->set_freq &&
		   drv->ops->set_freq(drv, freq * 1e6) == 0;
	return d->steer;
}

double clk_disc_corr(const struct clk_disc *d, int64_t raw_ns)
{
	const struct clk_disc_seg *s = newest(d);
	int i;

	for (i = 0; i < d->nseg; i++) {
		s = nth(d, i);
		if (s->r <= raw_ns)
			break;
	}
	return s->a + s->f * ns_diff(raw_ns, s->r);
}

int64_t clk_disc_served(const struct clk_disc *d, int64_t raw_ns)
{
	return ns_add_sat(raw_ns, ns_round_sat(clk_disc_corr(d, raw_ns)));
}

int64_t clk_disc_drv(const struct clk_disc *d, int64_t raw_ns)
{
	return d->steer ? clk_disc_served(d, raw_ns) : raw_ns;
}

int64_t clk_disc_raw_of_served(const struct clk_disc *d, int64_t served_ns)
{
	const struct clk_disc_seg *s = newest(d);
	int i;

	/* The newest segment that had started by SERVED_NS in served time. */
	for (i = 0; i < d->nseg; i++) {
		s = nth(d, i);
		if (ns_diff(served_ns, s->r) >= s->a)
			break;
	}
	return ns_add_sat(s->r, ns_round_sat((ns_diff(served_ns, s->r) - s->a) / (1.0 + s->f)));
}

int64_t clk_disc_raw(const struct clk_disc *d, int64_t drv_ns)
{
	/* Steering, driver time is served time; not steering, it is raw time. */
	return d->steer ? clk_disc_raw_of_served(d, drv_ns) : drv_ns;
}

double clk_disc_freq(const struct clk_disc *d)
{
	return newest(d)->f;
}

int clk_disc_set_freq(struct clk_disc *d, int64_t raw_now, double freq)
{
	int err;

	if (!isfinite(freq))
		return -EINVAL;
	freq = fmax(-clk_disc_max_freq(d), fmin(clk_disc_max_freq(d), freq));
	if (freq == newest(d)->f)
		return 0;
	if (d->steer) {
		err = d->drv->ops->set_freq(d->drv, freq * 1e6);
		if (err) {
			d->errors++;
			return err;
		}
	}
	push(d, raw_now, clk_disc_corr(d, raw_now), freq);
	return 0;
}

int clk_disc_step(struct clk_disc *d, int64_t raw_now, double offset_s)
{
	int err;

	if (!isfinite(offset_s))
		return -EINVAL;
	if (d->steer) {
		err = d->drv->ops->step(d->drv, ns_round_sat(offset_s * NS_PER_SEC));
		if (err) {
			d->errors++;
			return err;
		}
	}
	push(d, raw_now, clk_disc_corr(d, raw_now) + offset_s * NS_PER_SEC, newest(d)->f);
	d->step_r = raw_now;
	d->steps++;
	return 0;
}

int clk_disc_leap(struct clk_disc *d, int64_t raw_at, double offset_s, int make)
{
	int err;

	if (!isfinite(offset_s))
		return -EINVAL;
	if (make && d->steer) {
		err = d->drv->ops->step(d->drv, ns_round_sat(offset_s * NS_PER_SEC));
		if (err) {
			d->errors++;
			return err;
		}
	}
	push(d, raw_at, clk_disc_corr(d, raw_at) + offset_s * NS_PER_SEC, newest(d)->f);
	d->step_r = raw_at;
	return 0;
}

void clk_disc_mapping(const struct clk_disc *d, int64_t drv_now, struct clk_snapshot *out)
{
	int64_t off, base, s0, d0, served0;
	double fd, f;

	d->drv->ops->mapping(d->drv, &off, &fd, &base);
	/* The sys time that maps to DRV_NOW, then the exact driver time of that sys time. */
	s0 = ns_add_sat(base, ns_round_sat((ns_diff(drv_now, base) - (double)off) / (1.0 + fd)));
	d0 = ns_add_sat(ns_add_sat(s0, off), ns_round_sat(ns_diff(s0, base) * fd));
	if (d->steer) {
		served0 = d0;
		f = fd;
	} else {
		served0 = clk_disc_served(d, d0);
		/* (1 + fd)(1 + f) - 1, written so no precision cancels. */
		f = fd + newest(d)->f + fd * newest(d)->f;
	}
	out->update_ns = served0;
	out->corr_ns = ns_add_sat(served0, -s0);
	out->corr_freq = f;
}
