/*
 * Tests of the per-source Kalman estimator: from noisy samples of a line
 * it finds the frequency and the phase within a few standard deviations
 * of its own uncertainty; it learns a larger wander when the frequency
 * really walks and a smaller one when it does not; its variances stay
 * positive; it ignores samples older than its state and bad variances;
 * the wander time follows the cube-root law it is derived from; after a
 * step it restarts its phase and keeps its frequency, and a surprise it
 * clips widens the frequency's variance to the move it made.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>

#include "clock/estimate.h"

Suite *estimate_suite(void);

/* ns per second */
#define S 1000000000LL
/* ns: a raw time in 2023 */
#define T0 1700000000000000000LL

/* A deterministic uniform deviate in [-1, 1) (a small LCG: tests need no quality). */
static double noise(uint64_t *st)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*st >> 11) / 4503599627370496.0 - 1.0;
}

START_TEST(test_line)
{
	struct clk_est e;
	uint64_t st = 1;
	double f = -100e-6, sd = 30e-6, x, var;
	int i;

	clk_est_init(&e, T0, 0.1, sd * sd, 0.0, 500e-6 * 500e-6, 1e-20);
	for (i = 1; i <= 200; i++)
		clk_est_update(&e, T0 + i * 64 * S, 0.1 + f * i * 64 + sd * noise(&st), sd * sd);
	ck_assert_msg(fabs(e.f - f) < 4.0 * sqrt(e.pff) + 1e-9,
		      "frequency %.4f ppm should be within 4 sd (%.4f) of -100 ppm", e.f * 1e6,
		      sqrt(e.pff) * 1e6);
	ck_assert_msg(fabs(e.f - f) < 0.05e-6, "frequency should be within 0.05 ppm, off %.4f",
		      (e.f - f) * 1e6);
	x = clk_est_at(&e, T0 + 200 * 64 * S, &var);
	ck_assert_msg(fabs(x - (0.1 + f * 200 * 64)) < 4.0 * sqrt(var),
		      "phase should be within 4 sd of the truth");
	ck_assert_msg(var > 0.0 && e.pff > 0.0, "variances should stay positive");
	ck_assert_msg(e.n == 201, "201 samples should be counted, got %d", e.n);
}
END_TEST

START_TEST(test_learns_wander)
{
	struct clk_est calm, wild;
	uint64_t st = 7;
	double f = 0.0, x = 0.0, sd = 10e-6;
	int i;

	clk_est_init(&calm, T0, 0.0, sd * sd, 0.0, 1e-12, 1e-16);
	clk_est_init(&wild, T0, 0.0, sd * sd, 0.0, 1e-12, 1e-16);
	for (i = 1; i <= 2000; i++) {
		/* Wild: the frequency walks 1e-7/sqrt(s) (q = 1e-14), 64 s steps. */
		f += 1e-7 * sqrt(64.0) * noise(&st) * sqrt(3.0);
		x += f * 64;
		clk_est_update(&wild, T0 + i * 64 * S, x + sd * noise(&st), sd * sd);
		clk_est_update(&calm, T0 + i * 64 * S, sd * noise(&st), sd * sd);
	}
	ck_assert_msg(wild.q > 1e-15, "a walking frequency should raise q, got %g", wild.q);
	ck_assert_msg(calm.q < 1e-17, "a steady frequency should lower q, got %g", calm.q);
	ck_assert_msg(clk_est_wander_time(&calm, sd * sd) > clk_est_wander_time(&wild, sd * sd),
		      "a calmer clock should allow a longer poll");
}
END_TEST

START_TEST(test_rejects_bad_input)
{
	struct clk_est e;
	double x0;

	clk_est_init(&e, T0, 1.0, 1e-8, 0.0, 1e-10, 1e-16);
	clk_est_update(&e, T0 + 10 * S, 1.0, 1e-8);
	x0 = e.x;
	ck_assert_msg(clk_est_update(&e, T0 + 5 * S, 2.0, 1e-8) == 0.0 && e.x == x0,
		      "a sample older than the state should be ignored");
	ck_assert_msg(clk_est_update(&e, T0 + 20 * S, NAN, 1e-8) == 0.0 && e.x == x0,
		      "a NaN sample should be ignored");
	ck_assert_msg(clk_est_update(&e, T0 + 20 * S, 1.0, 0.0) == 0.0 && e.x == x0,
		      "a zero variance should be ignored");
	ck_assert_msg(e.n == 2, "ignored samples should not count");
}
END_TEST

START_TEST(test_wander_time)
{
	struct clk_est e;
	double t;

	clk_est_init(&e, T0, 0.0, 1e-10, 0.0, 1e-12, 1e-18);
	/* q t^3 / 3 = r: t = (3 * 4e-10 / 1e-18)^(1/3) = 1062.66 s. */
	t = clk_est_wander_time(&e, 4e-10);
	ck_assert_msg(fabs(t - cbrt(1.2e9)) < 1e-6, "wander time should be %g s, got %g",
		      cbrt(1.2e9), t);
}
END_TEST

START_TEST(test_prediction_grows)
{
	struct clk_est e;
	double v1, v2;

	clk_est_init(&e, T0, 0.0, 1e-10, 1e-6, 1e-14, 1e-16);
	ck_assert_msg(fabs(clk_est_at(&e, T0 + 100 * S, &v1) - 1e-4) < 1e-15,
		      "the phase should move at the frequency (1e-6 * 100 s)");
	clk_est_at(&e, T0 + 1000 * S, &v2);
	ck_assert_msg(v2 > v1 && v1 > 1e-10, "uncertainty should grow with the horizon");
}
END_TEST

/* A converged estimate of a -100 ppm line restarted 0.5 s off keeps its frequency: the new
 * line is predicted at once. */
START_TEST(test_restart_keeps_frequency)
{
	struct clk_est e;
	uint64_t st = 3;
	double f = -100e-6, sd = 30e-6, pff, x, var;
	int i;

	clk_est_init(&e, T0, 0.0, sd * sd, 0.0, 500e-6 * 500e-6, 1e-20);
	for (i = 1; i <= 100; i++)
		clk_est_update(&e, T0 + i * 64 * S, f * i * 64 + sd * noise(&st), sd * sd);
	pff = e.pff;
	clk_est_restart(&e, T0 + 101 * 64 * S, 0.5 + f * 101 * 64, sd * sd);
	ck_assert_msg(e.n == 1 && e.pxf == 0.0 && fabs(e.pxx - sd * sd) < 1e-18,
		      "the phase should start again from the sample");
	ck_assert_msg(fabs(e.f - f) < 0.05e-6 && e.pff == pff,
		      "the frequency and its variance should stay");
	x = clk_est_at(&e, T0 + 110 * 64 * S, &var);
	ck_assert_msg(fabs(x - (0.5 + f * 110 * 64)) < 100e-6,
		      "the new line should be predicted at once, off by %g s",
		      x - (0.5 + f * 110 * 64));
	clk_est_restart(&e, T0, NAN, sd * sd);
	ck_assert_msg(e.n == 1 && isfinite(e.x), "a NaN sample should be ignored");
}
END_TEST

/* One sample far beyond the noise: its surprise is clipped, and the frequency's variance
 * grows to at least the change the sample made. */
START_TEST(test_clipped_surprise_widens)
{
	struct clk_est e;
	uint64_t st = 5;
	double sd = 10e-6, f0, nis;
	int i;

	clk_est_init(&e, T0, 0.0, sd * sd, 0.0, 500e-6 * 500e-6, 1e-20);
	for (i = 1; i <= 100; i++)
		clk_est_update(&e, T0 + i * 64 * S, sd * noise(&st), sd * sd);
	ck_assert_msg(sqrt(e.pff) < 0.01e-6, "the frequency should be known within 0.01 ppm");
	f0 = e.f;
	nis = clk_est_update(&e, T0 + 101 * 64 * S, 100 * sd, sd * sd);
	ck_assert_msg(nis > 9.0, "a 100 sd sample should surprise beyond the clip, nis %g", nis);
	ck_assert_msg(e.pff >= (e.f - f0) * (e.f - f0) * 0.999,
		      "the frequency moved %g ppm: its sd (%g ppm) should be at least that",
		      (e.f - f0) * 1e6, sqrt(e.pff) * 1e6);
}
END_TEST

Suite *estimate_suite(void)
{
	Suite *s = suite_create("estimate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_line);
	tcase_add_test(tc, test_learns_wander);
	tcase_add_test(tc, test_rejects_bad_input);
	tcase_add_test(tc, test_wander_time);
	tcase_add_test(tc, test_prediction_grows);
	tcase_add_test(tc, test_restart_keeps_frequency);
	tcase_add_test(tc, test_clipped_surprise_widens);
	suite_add_tcase(s, tc);
	return s;
}
