/*
 * A source's samples: the clock filter and the noise model. Each sample
 * is one client/server exchange reduced to its offset against the core's
 * raw (uncorrected) timescale, its round-trip delay and its dispersion.
 * Offsets against the raw clock do not change when the core slews or
 * steps, so old samples stay comparable with new ones. The clock filter
 * picks the least-delayed of the last eight (RFC 5905: the smallest delay
 * has the smallest possible asymmetry error); the delays of all kept
 * samples (up to CLK_SAMPLES) give each sample's noise: how far its delay
 * exceeds the smallest one bounds how asymmetric its path could have been.
 */
#ifndef HOROD_CLOCK_FILTER_H
#define HOROD_CLOCK_FILTER_H

#include <stdint.h>

#define CLK_FILTER_LEN 8  /* samples the clock filter chooses from (RFC 5905's filter) */
#define CLK_SAMPLES    32 /* samples kept for the delay statistics: 9 h at poll 10 */

struct clk_sample {
	int64_t t;    /* ns on the core's raw timescale, middle of the exchange */
	double x;     /* s: source time minus raw time */
	double delay; /* s: round trip minus the server's processing, >= the precision */
	double disp;  /* s at t: both clocks' precisions + PHI over the round trip */
};

struct clk_filter {
	struct clk_sample s[CLK_SAMPLES]; /* ring: s[first] is the oldest */
	int first;
	int n;
};

/* Forget every sample. */
void clk_filter_clear(struct clk_filter *f);

/* The median of the N >= 1 values V (sorted in place by insertion: N small). */
double clk_median(double *v, int n);

/* Add S as the newest sample (the oldest goes when full). */
void clk_filter_add(struct clk_filter *f, const struct clk_sample *s);

/* Sample I, 0 = the oldest kept; NULL when out of range. */
const struct clk_sample *clk_filter_at(const struct clk_filter *f, int i);

/* Index of the least-delayed of the newest CLK_FILTER_LEN samples (newest on ties), -1 if none. */
int clk_filter_best(const struct clk_filter *f);

/* RMS of the newest CLK_FILTER_LEN samples' offsets from sample BEST's, projected with SLOPE; 0
 * when there is one. */
double clk_filter_jitter(const struct clk_filter *f, int best, double slope);

/*
 * Variance (s^2) of sample S's offset: the error of the least-delayed
 * kept sample (a fraction of the typical delay excess, at least FLOOR_SD
 * seconds) plus the asymmetry S's own delay excess allows.
 */
double clk_filter_var(const struct clk_filter *f, const struct clk_sample *s, double floor_sd);

/* The smallest error (s) the kept samples allow: clk_filter_var()'s floor term. */
double clk_filter_floor(const struct clk_filter *f, double floor_sd);

#endif
