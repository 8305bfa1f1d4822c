/*
 * Reservoir sampling and percentiles for horobench (see stats.h). The
 * absolute-value percentiles sort a scratch copy, once per call: they are
 * asked for a handful of times at the end of a run, never on the hot path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/src/stats.h"

int bs_init(struct bs_samples *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->v = malloc(sizeof(*s->v) * BS_RESERVOIR);
	s->rng = seed | 1; /* xorshift must not start at 0 */
	return s->v ? 0 : -1;
}

void bs_free(struct bs_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

void bs_add(struct bs_samples *s, int64_t ns)
{
	s->seen++;
	if (s->n < BS_RESERVOIR) {
		s->v[s->n++] = ns;
		return;
	}
	/* Keep the new value with probability BS_RESERVOIR / seen. */
	{
		uint64_t j = xorshift(&s->rng) % s->seen;

		if (j < BS_RESERVOIR)
			s->v[j] = ns;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void bs_finish(struct bs_samples *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
	s->sorted = 1;
}

/* Nearest-rank index of the P-th percentile among N sorted values. */
static size_t rank(size_t n, double p)
{
	double r = p / 100.0 * (double)n;
	size_t k = (size_t)r;

	if ((double)k < r)
		k++;
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return k - 1;
}

int64_t bs_pct(const struct bs_samples *s, double p)
{
	if (!s->n || !s->sorted)
		return 0;
	return s->v[rank(s->n, p)];
}

int64_t bs_abs_pct(const struct bs_samples *s, double p)
{
	int64_t *a, r;
	size_t i;

	if (!s->n)
		return 0;
	a = malloc(sizeof(*a) * s->n);
	if (!a)
		return 0;
	for (i = 0; i < s->n; i++)
		a[i] = s->v[i] == INT64_MIN ? INT64_MAX : s->v[i] < 0 ? -s->v[i] : s->v[i];
	qsort(a, s->n, sizeof(*a), cmp_i64);
	r = a[rank(s->n, p)];
	free(a);
	return r;
}
