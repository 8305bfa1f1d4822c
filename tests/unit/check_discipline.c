/*
 * Tests of the clock correction: steering, every change reaches the
 * driver and driver time equals served time; not steering, the driver's
 * setters are never called and the correction lives in the snapshot's
 * mapping, which must give the same served time as the core computes;
 * frequencies are clamped to the slew ceiling (83333 ppm), or to the
 * driver's max_ppm when steering (500 ppm when it says nothing); a driver that refuses
 * the first setter is not steered; recent driver times convert back to
 * raw time across frequency changes.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "clock/discipline.h"
#include "clock/snapshot.h"
#include "tests/unit/fakeclk.h"

Suite *discipline_suite(void);

/* ns: a sys time in 2023 */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL

START_TEST(test_steer_reaches_driver)
{
	struct fakeclk f;
	struct clk_disc d;
	int64_t r;

	fakeclk_init(&f, T0, 0, 0.0);
	ck_assert_msg(clk_disc_init(&d, &f.base, 1, 10e-6, T0) == 1, "should steer");
	ck_assert_msg(f.set_freq_calls == 1 && fabs(f.last_ppm - 10.0) < 1e-9,
		      "init should set the driver to 10 ppm");
	fakeclk_set(&f, T0 + 100 * S);
	r = clk_disc_raw(&d, f.base.ops->now(&f.base));
	ck_assert_msg(llabs(r - (T0 + 100 * S)) <= 1, "raw time should be sys here, off by %lld",
		      (long long)(r - (T0 + 100 * S)));
	ck_assert_msg(llabs(clk_disc_served(&d, r) - f.base.ops->now(&f.base)) <= 1,
		      "served time should be driver time");
	ck_assert_msg(clk_disc_set_freq(&d, r, 20e-6) == 0 && f.set_freq_calls == 2,
		      "a new frequency should reach the driver");
	ck_assert_msg(clk_disc_step(&d, r, 0.5) == 0 && f.step_calls == 1 &&
			      f.last_step == 500000000,
		      "a step should reach the driver");
	ck_assert_msg(d.steps == 1 && d.step_r == r, "the step should be recorded");
	fakeclk_set(&f, T0 + 200 * S);
	r = clk_disc_raw(&d, f.base.ops->now(&f.base));
	ck_assert_msg(llabs(clk_disc_served(&d, r) - f.base.ops->now(&f.base)) <= 2,
		      "after freq and step, served time should still be driver time");
}
END_TEST

START_TEST(test_off_never_calls_setters)
{
	struct fakeclk f;
	struct clk_disc d;
	struct clk_snapshot snap = {0};
	int64_t r, sys = T0 + 50 * S;

	/* A driver that runs 3 ppm fast and 1 ms ahead of sys. */
	fakeclk_init(&f, T0, 1000000, 3e-6);
	ck_assert_msg(clk_disc_init(&d, &f.base, 0, 10e-6, T0 + 1000000) == 0,
		      "discipline off should not steer");
	clk_disc_set_freq(&d, T0 + 1000000, -7e-6);
	clk_disc_step(&d, T0 + 1000000, 0.25);
	ck_assert_msg(f.set_freq_calls == 0 && f.step_calls == 0,
		      "not steering should never call a setter");
	fakeclk_set(&f, sys);
	r = clk_disc_raw(&d, f.base.ops->now(&f.base));
	ck_assert_msg(r == f.base.ops->now(&f.base), "raw time should be driver time");
	clk_disc_mapping(&d, f.base.ops->now(&f.base), &snap);
	/* The published map from sys must agree with the core's own served time. */
	ck_assert_msg(llabs(clk_snapshot_served(&snap, sys) - clk_disc_served(&d, r)) <= 2,
		      "snapshot served time should match the correction (off by %lld ns)",
		      (long long)(clk_snapshot_served(&snap, sys) - clk_disc_served(&d, r)));
	ck_assert_msg(llabs(clk_snapshot_served(&snap, sys + 10 * S) -
			    clk_disc_served(&d, r + (int64_t)(10 * S * (1 + 3e-6)))) <= 4,
		      "and 10 s later as well");
	ck_assert_msg(fabs(snap.corr_freq - (3e-6 - 7e-6 - 21e-12)) < 1e-15,
		      "the map's frequency should compose the driver's and the correction's");
}
END_TEST

START_TEST(test_clamp)
{
	struct fakeclk f;
	struct clk_disc d;

	fakeclk_init(&f, T0, 0, 0.0);
	clk_disc_init(&d, &f.base, 1, 0.0, T0);
	clk_disc_set_freq(&d, T0, 900e-6);
	ck_assert_msg(fabs(f.last_ppm - 500.0) < 1e-9, "900 ppm should be clamped to 500");
	clk_disc_set_freq(&d, T0, -900e-6);
	ck_assert_msg(fabs(clk_disc_freq(&d) + 500e-6) < 1e-15,
		      "-900 ppm should be clamped to -500");
	ck_assert_msg(clk_disc_set_freq(&d, T0, NAN) < 0, "NaN should be refused");
	ck_assert_msg(clk_disc_step(&d, T0, INFINITY) < 0, "an infinite step should be refused");
}
END_TEST

START_TEST(test_slew_ceiling)
{
	struct fakeclk f;
	struct clk_disc d;

	/* A driver that reaches 10 %: the ceiling is CLK_MAX_SLEW_PPM. */
	fakeclk_init(&f, T0, 0, 0.0);
	f.base.max_ppm = 100000.0;
	clk_disc_init(&d, &f.base, 1, 0.0, T0);
	ck_assert_msg(fabs(clk_disc_max_freq(&d) - CLK_MAX_SLEW_PPM * 1e-6) < 1e-15,
		      "the ceiling should be CLK_MAX_SLEW_PPM");
	clk_disc_set_freq(&d, T0, 900e-6);
	ck_assert_msg(fabs(f.last_ppm - 900.0) < 1e-9, "900 ppm should pass unclamped");
	clk_disc_set_freq(&d, T0 + S, -0.5);
	ck_assert_msg(fabs(f.last_ppm + CLK_MAX_SLEW_PPM) < 1e-9 &&
			      fabs(clk_disc_freq(&d) + CLK_MAX_SLEW_PPM * 1e-6) < 1e-15,
		      "-50 %% should clamp to -CLK_MAX_SLEW_PPM, got %g ppm", f.last_ppm);
	/* The correction follows the clamped frequency: 1 s at -83333 ppm. */
	ck_assert_msg(fabs(clk_disc_corr(&d, T0 + 2 * S) - (900e-6 - CLK_MAX_SLEW_PPM * 1e-6) * S) <
			      1e-3,
		      "the correction should integrate the clamped frequency");

	/* A driver that reaches less (a narrow PHC) lowers the ceiling while steered. */
	fakeclk_init(&f, T0, 0, 0.0);
	f.base.max_ppm = 2000.0;
	clk_disc_init(&d, &f.base, 1, 0.0, T0);
	clk_disc_set_freq(&d, T0, 0.01);
	ck_assert_msg(fabs(f.last_ppm - 2000.0) < 1e-9,
		      "1 %% should clamp to the driver's 2000 ppm");

	/* Not steering, the driver's limit does not matter and is never asked. */
	fakeclk_init(&f, T0, 0, 0.0);
	clk_disc_init(&d, &f.base, 0, 0.0, T0);
	clk_disc_set_freq(&d, T0, 0.01);
	ck_assert_msg(fabs(clk_disc_freq(&d) - 0.01) < 1e-15 && f.set_freq_calls == 0,
		      "not steering, 1 %% should be corrected in the snapshot alone");
	clk_disc_set_freq(&d, T0, 0.5);
	ck_assert_msg(fabs(clk_disc_freq(&d) - CLK_MAX_SLEW_PPM * 1e-6) < 1e-15,
		      "not steering, 50 %% should clamp to CLK_MAX_SLEW_PPM");
}
END_TEST

START_TEST(test_refusing_driver)
{
	struct fakeclk f;
	struct clk_disc d;

	fakeclk_init(&f, T0, 0, 0.0);
	f.fail = 1;
	ck_assert_msg(clk_disc_init(&d, &f.base, 1, 5e-6, T0) == 0,
		      "a driver refusing the first setter should not be steered");
	f.base.adjustable = 0;
	f.set_freq_calls = 0;
	ck_assert_msg(clk_disc_init(&d, &f.base, 1, 5e-6, T0) == 0 && f.set_freq_calls == 0,
		      "a driver that is not adjustable should not even be asked");
}
END_TEST

START_TEST(test_raw_across_segments)
{
	struct fakeclk f;
	struct clk_disc d;
	int64_t d1, r1, r;
	int i;

	fakeclk_init(&f, T0, 0, 0.0);
	clk_disc_init(&d, &f.base, 1, 0.0, T0);
	fakeclk_set(&f, T0 + S);
	d1 = f.base.ops->now(&f.base);
	r1 = clk_disc_raw(&d, d1);
	/* Five 1-second segments at 400 ppm: d1 is now five segments back. */
	for (i = 1; i <= 5; i++) {
		fakeclk_set(&f, T0 + (1 + i) * S);
		clk_disc_set_freq(&d, clk_disc_raw(&d, f.base.ops->now(&f.base)), 400e-6);
	}
	r = clk_disc_raw(&d, d1);
	ck_assert_msg(llabs(r - r1) <= 1,
		      "an old driver time should map to the same raw time "
		      "(off by %lld ns)",
		      (long long)(r - r1));
}
END_TEST

Suite *discipline_suite(void)
{
	Suite *s = suite_create("discipline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_steer_reaches_driver);
	tcase_add_test(tc, test_off_never_calls_setters);
	tcase_add_test(tc, test_clamp);
	tcase_add_test(tc, test_slew_ceiling);
	tcase_add_test(tc, test_refusing_driver);
	tcase_add_test(tc, test_raw_across_segments);
	suite_add_tcase(s, tc);
	return s;
}
