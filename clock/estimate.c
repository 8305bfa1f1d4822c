/*
 * The per-source Kalman filter. State: phase x and frequency f of the
 * source against the raw clock. Between samples the phase moves at f and
 * both grow uncertain by the wander q (f's variance grows q*dt, x's
 * q*dt^3/3: an integrated random walk). A sample of variance r pulls the
 * state by the gain that weighs the prediction's variance against r.
 * The wander is learned: each innovation's square, divided by its
 * predicted variance, averages 1 when the model is right; the part of that
 * variance the wander caused says how much this sample can teach about q,
 * and q moves by that share, up when samples surprise, down when they do
 * not. A sample whose surprise is clipped (beyond NIS_CLIP) still moves
 * the state by the full gain; the frequency it moved is then at least as
 * uncertain as that move, so its variance is widened to it: the skew the
 * core advertises never claims more than the samples support. Variances
 * are kept non-negative and the covariance within the Cauchy-Schwarz
 * bound, so rounding never produces a negative variance.
 */
#include <math.h>
#include <string.h>

#include "clock/estimate.h"
#include "proto/nstime.h"

/* 1/s: range of the learned wander: from a temperature-controlled oscillator
 * (1e-24: 1e-12/sqrt(s)) to a very poor one (1e-10: 1e-5/sqrt(s)) */
#define Q_MIN 1e-24
#define Q_MAX 1e-10
/* learning rate of log q per unit of (normalized innovation squared - 1) */
#define Q_RATE 1.0
/* a normalized innovation squared above this is clipped: one outlier must not
 * convince the filter that the oscillator jumped */
#define NIS_CLIP 9.0
/* samples between the lagged state and the sample it predicts: long enough for
 * the wander to show above the samples' noise, short enough to learn often */
#define LAG_SAMPLES 8
/* smallest frequency variance kept (1e-30: 1e-15 of frequency): keeps the
 * gain for the frequency from dying of rounding */
#define PFF_MIN 1e-30

/* Predict state (X0, F0, PXX0, PXF0, PFF0) DT seconds later with wander Q. */
static void predict_from(double x0, double f0, double pxx0, double pxf0, double pff0, double q,
			 double dt, double *x, double *pxx, double *pxf, double *pff)
{
	*x = x0 + f0 * dt;
	*pxx = pxx0 + 2.0 * dt * pxf0 + dt * dt * pff0 + q * dt * dt * dt / 3.0;
	*pxf = pxf0 + dt * pff0 + q * dt * dt / 2.0;
	*pff = pff0 + q * dt;
}

/* Predict the state to DT seconds later into X, PXX, PXF, PFF. */
static void predict(const struct clk_est *e, double dt, double *x, double *pxx, double *pxf,
		    double *pff)
{
	predict_from(e->x, e->f, e->pxx, e->pxf, e->pff, e->q, dt, x, pxx, pxf, pff);
}

/* Learn from innovation NU of variance S over a horizon of DT seconds: move log q by the
 * share of S the wander caused times the surprise (NIS - 1). */
static void learn(struct clk_est *e, double nu, double s, double dt)
{
	double share = e->q * dt * dt * dt / 3.0 / s;

	e->q *= exp(Q_RATE * share * (fmin(nu * nu / s, NIS_CLIP) - 1.0));
	e->q = fmin(Q_MAX, fmax(Q_MIN, e->q));
}

/* Remember the current state as the lagged one. */
static void lag_mark(struct clk_est *e)
{
	e->lag_n = 0;
	e->lag_t = e->t;
	e->lag_x = e->x;
	e->lag_f = e->f;
	e->lag_pxx = e->pxx;
	e->lag_pxf = e->pxf;
	e->lag_pff = e->pff;
}

void clk_est_init(struct clk_est *e, int64_t t, double z, double r, double f0, double f0_var,
		  double q0)
{
	memset(e, 0, sizeof(*e));
	e->n = 1;
	e->t = t;
	e->x = z;
	e->f = f0;
	e->pxx = r;
	e->pff = f0_var > PFF_MIN ? f0_var : PFF_MIN;
	e->q = fmin(Q_MAX, fmax(Q_MIN, q0));
	e->nis = 1.0;
	lag_mark(e);
}

double clk_est_at(const struct clk_est *e, int64_t t, double *var)
{
	double x, pxx, pxf, pff;

	predict(e, ns_dsec(t, e->t), &x, &pxx, &pxf, &pff);
	if (var)
		*var = pxx;
	return x;
}

double clk_est_update(struct clk_est *e, int64_t t, double z, double r)
{
	double dt = ns_dsec(t, e->t), x, pxx, pxf, pff, s, kx, kf, nu, nis;

	if (dt < 0.0 || !isfinite(z) || !(r > 0.0))
		return 0.0;
	/* The long horizon first: the lagged state's prediction of this sample. */
	if (++e->lag_n >= LAG_SAMPLES) {
		double ldt = ns_dsec(t, e->lag_t);

		predict_from(e->lag_x, e->lag_f, e->lag_pxx, e->lag_pxf, e->lag_pff, e->q, ldt, &x,
			     &pxx, &pxf, &pff);
		learn(e, z - x, pxx + r, ldt);
	}
	predict(e, dt, &x, &pxx, &pxf, &pff);
	s = pxx + r;
	kx = pxx / s;
	kf = pxf / s;
	nu = z - x;
	nis = nu * nu / s;
	learn(e, nu, s, dt);
	e->nis = 0.9 * e->nis + 0.1 * nis;
	e->t = t;
	e->x = x + kx * nu;
	e->f += kf * nu;
	e->pxx = pxx * r / s;
	e->pxf = pxf * r / s;
	e->pff = pff - kf * pxf;
	if (e->pff < PFF_MIN)
		e->pff = PFF_MIN;
	/* A clipped surprise: the frequency is at least as uncertain as the move it made. */
	if (nis > NIS_CLIP && kf * nu * kf * nu > e->pff)
		e->pff = kf * nu * kf * nu;
	if (e->pxf * e->pxf > e->pxx * e->pff)
		e->pxf = copysign(sqrt(e->pxx * e->pff), e->pxf);
	e->n++;
	if (e->lag_n >= LAG_SAMPLES)
		lag_mark(e);
	return nis;
}

void clk_est_restart(struct clk_est *e, int64_t t, double z, double r)
{
	if (!isfinite(z) || !(r > 0.0))
		return;
	e->n = 1;
	e->t = t;
	e->x = z;
	e->pxx = r;
	e->pxf = 0.0;
	e->nis = 1.0;
	lag_mark(e);
}

double clk_est_wander_time(const struct clk_est *e, double r)
{
	return cbrt(3.0 * r / e->q);
}
