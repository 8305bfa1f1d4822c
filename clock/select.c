/*
 * Intersection, clustering and combining of candidate sources. The
 * intersection sweeps the sorted interval endpoints once upwards and once
 * downwards for each number of allowed falsetickers f (0, 1, ... while
 * f < n/2): the lowest and highest points covered by n - f intervals
 * bound the agreed interval. Candidates whose interval misses it are
 * falsetickers. With trusted candidates only theirs are swept, and an
 * untrusted one is kept only inside the result. Clustering repeatedly
 * drops the candidate whose offset is farthest (RMS) from the others
 * while that spread exceeds the best source's own jitter. Everything here
 * is a pure function of its array.
 */
#include <math.h>
#include <stdlib.h>

#include "clock/select.h"

struct endpoint {
	double v;
	int type; /* +1 an interval opens here, -1 one closes */
};

/* Ascending value; at equal values openings first, so touching intervals overlap. */
static int endpoint_cmp(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;

	if (x->v < y->v)
		return -1;
	if (x->v > y->v)
		return 1;
	return y->type - x->type;
}

int clk_select_intersect(struct clk_cand *c, int n, double *lo, double *hi)
{
	struct endpoint e[2 * CLK_SELECT_MAX];
	int i, f, count, found = 0, good = 0, m = 0, trusted = 0;

	if (n <= 0 || n > CLK_SELECT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		trusted += c[i].trust != 0;
	/* The intervals that vote: the trusted ones when there are, else all. */
	for (i = 0; i < n; i++) {
		c[i].tally = 'x';
		if (trusted && !c[i].trust)
			continue;
		e[2 * m].v = c[i].offset - c[i].dist;
		e[2 * m].type = 1;
		e[2 * m + 1].v = c[i].offset + c[i].dist;
		e[2 * m + 1].type = -1;
		m++;
	}
	qsort(e, 2 * m, sizeof(e[0]), endpoint_cmp);
	for (f = 0; 2 * f < m && !found; f++) {
		int need = m - f;

		count = 0;
		for (i = 0; i < 2 * m; i++) {
			count += e[i].type;
			if (count >= need) {
				*lo = e[i].v;
				break;
			}
		}
		count = 0;
		for (i = 2 * m - 1; i >= 0; i--) {
			count -= e[i].type;
			if (count >= need) {
				*hi = e[i].v;
				break;
			}
		}
		found = count >= need && *lo <= *hi;
	}
	if (!found)
		return 0;
	for (i = 0; i < n; i++) {
		double a = c[i].offset - c[i].dist, b = c[i].offset + c[i].dist;

		/* A voter must reach the agreed interval; with trusted sources an untrusted
		 * one must lie wholly inside it, so it cannot pull the result outside. */
		if (trusted && !c[i].trust ? a >= *lo && b <= *hi : a <= *hi && b >= *lo) {
			c[i].tally = '+';
			good++;
		}
	}
	return good;
}

/* RFC 5905's merit: stratum first (one stratum outweighs any distance up to
 * SCALE, the maxdistance), then distance. */
static double merit(const struct clk_cand *c, double scale)
{
	return c->stratum * scale + c->dist;
}

/* Survivors first, then by merit; ARG points to the merit scale. */
static int cand_cmp(const void *a, const void *b, void *arg)
{
	const struct clk_cand *x = a, *y = b;
	double scale = *(const double *)arg, mx = merit(x, scale), my = merit(y, scale);

	if ((x->tally == '+') != (y->tally == '+'))
		return x->tally == '+' ? -1 : 1;
	if (mx < my)
		return -1;
	if (mx > my)
		return 1;
	return x->id - y->id;
}

double clk_select_jitter(const struct clk_cand *c, int n, int k)
{
	double sum = 0.0, d;
	int i, m = 0;

	for (i = 0; i < n; i++) {
		if (i == k || c[i].tally != '+')
			continue;
		d = c[i].offset - c[k].offset;
		sum += d * d;
		m++;
	}
	return m ? sqrt(sum / m) : 0.0;
}

int clk_select_cluster(struct clk_cand *c, int n, int min_keep, double maxdist)
{
	int i, alive = 0, worst;
	double phi, phi_max, jit_min, scale = maxdist > 0.0 ? maxdist : 1.0;

	qsort_r(c, n, sizeof(c[0]), cand_cmp, &scale);
	for (i = 0; i < n; i++) {
		if (c[i].tally != '+')
			continue;
		if (alive >= CLK_MAX_CLUSTER)
			c[i].tally = '#';
		else
			alive++;
	}
	if (min_keep < 1)
		min_keep = 1;
	while (alive > min_keep) {
		worst = -1;
		phi_max = 0.0;
		jit_min = INFINITY;
		for (i = 0; i < n; i++) {
			if (c[i].tally != '+')
				continue;
			phi = clk_select_jitter(c, n, i);
			if (worst < 0 || phi > phi_max) {
				phi_max = phi;
				worst = i;
			}
			if (c[i].jitter < jit_min)
				jit_min = c[i].jitter;
		}
		/* Dropping one more would not take the spread below the noise. */
		if (worst < 0 || phi_max <= jit_min)
			break;
		c[worst].tally = '-';
		alive--;
	}
	qsort_r(c, n, sizeof(c[0]), cand_cmp, &scale);
	return alive;
}

double clk_select_combine(const struct clk_cand *c, int n)
{
	double sw = 0.0, s = 0.0;
	int i;

	for (i = 0; i < n; i++) {
		sw += 1.0 / c[i].dist;
		s += c[i].estimate / c[i].dist;
	}
	return sw > 0.0 ? s / sw : 0.0;
}
