/*
 * A source's sample store, its clock filter and its noise model. The
 * store is a ring of the newest CLK_SAMPLES exchanges. The clock filter
 * looks only at the newest CLK_FILTER_LEN and picks the one with the
 * smallest delay. A sample's noise is the asymmetry its delay excess over
 * the smallest kept delay allows, plus a floor for the least-delayed one,
 * so queueing-delayed exchanges count little and the least-delayed ones
 * much.
 */
#include <math.h>
#include <string.h>

#include "clock/filter.h"
#include "proto/nstime.h"

/* Fraction of the median half delay excess taken as the error of the
 * least-delayed sample: it too may carry some queueing asymmetry, and a
 * floor that is too small lets one sample decide everything. */
#define FLOOR_FRAC 0.25
/* Standard deviation of a uniform spread over +-e/2, per unit of e: 1 / (2 sqrt 3) */
#define ASYM_SD 0.2887

void clk_filter_clear(struct clk_filter *f)
{
	memset(f, 0, sizeof(*f));
}

void clk_filter_add(struct clk_filter *f, const struct clk_sample *s)
{
	if (f->n < CLK_SAMPLES) {
		f->s[(f->first + f->n) % CLK_SAMPLES] = *s;
		f->n++;
		return;
	}
	f->s[f->first] = *s;
	f->first = (f->first + 1) % CLK_SAMPLES;
}

const struct clk_sample *clk_filter_at(const struct clk_filter *f, int i)
{
	if (i < 0 || i >= f->n)
		return NULL;
	return &f->s[(f->first + i) % CLK_SAMPLES];
}

int clk_filter_best(const struct clk_filter *f)
{
	int i, best = -1, from = f->n > CLK_FILTER_LEN ? f->n - CLK_FILTER_LEN : 0;

	for (i = from; i < f->n; i++)
		if (best < 0 || clk_filter_at(f, i)->delay <= clk_filter_at(f, best)->delay)
			best = i;
	return best;
}

double clk_filter_jitter(const struct clk_filter *f, int best, double slope)
{
	const struct clk_sample *b = clk_filter_at(f, best), *s;
	int i, m = 0, from = f->n > CLK_FILTER_LEN ? f->n - CLK_FILTER_LEN : 0;
	double sum = 0.0, d;

	if (!b)
		return 0.0;
	for (i = from; i < f->n; i++) {
		if (i == best)
			continue;
		s = clk_filter_at(f, i);
		d = s->x + slope * ns_diff(b->t, s->t) / NS_PER_SEC - b->x;
		sum += d * d;
		m++;
	}
	return m ? sqrt(sum / m) : 0.0;
}

/* Median of the N values in V (sorted in place, N small). */
static double median(double *v, int n)
{
	int i, j;

	for (i = 1; i < n; i++) {
		double k = v[i];

		for (j = i; j > 0 && v[j - 1] > k; j--)
			v[j] = v[j - 1];
		v[j] = k;
	}
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The smallest delay kept. */
static double min_delay(const struct clk_filter *f)
{
	double d = INFINITY;
	int i;

	for (i = 0; i < f->n; i++)
		d = fmin(d, clk_filter_at(f, i)->delay);
	return d;
}

double clk_filter_floor(const struct clk_filter *f, double floor_sd)
{
	double ex[CLK_SAMPLES], dmin = min_delay(f), sd = floor_sd;
	int i;

	/* Until the filter is full the smallest delay is a poor guess of the
	 * path's own: fall back toward the rigorous bound, half the delay. */
	if (f->n < CLK_FILTER_LEN)
		sd = fmax(sd, dmin / 2.0 * (CLK_FILTER_LEN - f->n) / CLK_FILTER_LEN);
	if (f->n < 2)
		return sd;
	for (i = 0; i < f->n; i++)
		ex[i] = (clk_filter_at(f, i)->delay - dmin) / 2.0;
	return fmax(sd, FLOOR_FRAC * median(ex, f->n));
}

double clk_filter_var(const struct clk_filter *f, const struct clk_sample *s, double floor_sd)
{
	double sd0 = clk_filter_floor(f, floor_sd), ex = s->delay - min_delay(f);

	/* Given its excess delay e, a sample's asymmetry error is spread over
	 * +-e/2: a standard deviation of e / (2 sqrt 3). */
	ex = ex > 0.0 ? ex * ASYM_SD : 0.0;
	return sd0 * sd0 + ex * ex;
}
