/*
 * A source's phase and frequency estimate: a two-state Kalman filter
 * over the source's samples on the raw timescale. The model is the one
 * oscillators follow: the phase x (source time minus raw time) moves at
 * the frequency f, the frequency takes a random walk of intensity q (the
 * oscillator's wander), and each sample measures x with an error whose
 * size its round-trip delay tells. The filter weighs old samples less as
 * the wander makes them stale, and learns q from its own surprises (the
 * normalized innovations average 1 when q is right; a prediction made
 * several samples earlier, over a longer horizon, tells most). From q and the
 * samples' noise it also suggests the poll interval: the time over which
 * the wander moves the phase by about one sample's noise. A sample that
 * surprises beyond what one outlier may (its innovation clipped) also
 * widens the frequency's variance to at least the change it caused. A
 * step of phase (ours or the source's) is no sample for it: the caller
 * restarts the phase there and keeps the frequency.
 */
#ifndef HOROD_CLOCK_ESTIMATE_H
#define HOROD_CLOCK_ESTIMATE_H

#include <stdint.h>

struct clk_est {
	int n;	    /* samples taken */
	int64_t t;  /* raw ns the state refers to */
	double x;   /* s: source time minus raw time at t */
	double f;   /* dx/dt: the frequency correction the raw clock needs */
	double pxx; /* s^2: variance of x */
	double pxf; /* s: covariance of x and f */
	double pff; /* variance of f */
	double q;   /* 1/s: frequency random-walk intensity (f's variance grows q per second) */
	double nis; /* running mean of the normalized innovation squared */
	/* The state some samples ago: its prediction over a long horizon tells more about
	 * the wander than the next sample's does. */
	int lag_n; /* samples taken since it */
	int64_t lag_t;
	double lag_x, lag_f, lag_pxx, lag_pxf, lag_pff;
};

/* Start from a first sample Z (s) at raw time T with variance R (s^2); frequency F0 with variance
 * F0_VAR; wander Q0. */
void clk_est_init(struct clk_est *e, int64_t t, double z, double r, double f0, double f0_var,
		  double q0);

/* The estimate of x at raw time T (s) and its variance (s^2), without changing the state. */
double clk_est_at(const struct clk_est *e, int64_t t, double *var);

/* Take sample Z (s) at raw time T with variance R (s^2); returns its normalized innovation
 * squared. Samples older than the state are ignored (returns 0). */
double clk_est_update(struct clk_est *e, int64_t t, double z, double r);

/* Restart the phase at sample Z (s) at raw time T with variance R (s^2), after a step: the
 * frequency, its variance and the wander stay, the sample count starts again. */
void clk_est_restart(struct clk_est *e, int64_t t, double z, double r);

/* Seconds over which the wander alone moves the phase by one standard deviation of sqrt(R). */
double clk_est_wander_time(const struct clk_est *e, double r);

#endif
