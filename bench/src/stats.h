/*
 * Sample statistics for horobench: a fixed-size reservoir per measured
 * quantity (round-trip time, server residence, clock offset), so a run of
 * any length keeps bounded memory, and exact percentiles of what the
 * reservoir holds. Up to BS_RESERVOIR samples every sample is kept; past
 * that each new sample replaces a random one (Vitter's algorithm R), so
 * the reservoir stays a uniform sample of the whole run.
 */
#ifndef HOROD_BENCH_STATS_H
#define HOROD_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

#define BS_RESERVOIR (1 << 20) /* samples kept per quantity: exact p99.9 up to 1M replies */

struct bs_samples {
	int64_t *v;    /* BS_RESERVOIR values, ns */
	size_t n;      /* values held (<= BS_RESERVOIR) */
	uint64_t seen; /* values offered over the run */
	uint64_t rng;  /* xorshift state for the replacement draw */
	int sorted;    /* v[0..n) is sorted (after bs_finish) */
};

/* Allocate S's reservoir, seeded with SEED; 0 or -1 (no memory). */
int bs_init(struct bs_samples *s, uint64_t seed);

/* Free S's reservoir. */
void bs_free(struct bs_samples *s);

/* Offer one value (ns) to S. */
void bs_add(struct bs_samples *s, int64_t ns);

/* Sort what S holds; call once before asking for percentiles. */
void bs_finish(struct bs_samples *s);

/* The P-th percentile (0..100, nearest rank) of S in ns; 0 when S is empty. */
int64_t bs_pct(const struct bs_samples *s, double p);

/* The P-th percentile of |value| (0..100) in ns; 0 when S is empty. */
int64_t bs_abs_pct(const struct bs_samples *s, double p);

#endif
