/*
 * Tests of a source's sample store and clock filter: the ring keeps the
 * newest CLK_SAMPLES, the filter picks the least-delayed of the newest
 * eight (the newest on ties, never an older one), the jitter is the RMS
 * spread of those eight about the chosen one after projection, and the
 * noise model gives delayed samples a larger variance than the least
 * delayed, with a floor that is conservative while the filter is young.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>

#include "clock/filter.h"

Suite *filter_suite(void);

/* ns: a raw time in 2023 */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL

static void add(struct clk_filter *f, int64_t t, double x, double delay)
{
	struct clk_sample s = {.t = t, .x = x, .delay = delay, .disp = 1e-6};

	clk_filter_add(f, &s);
}

START_TEST(test_empty)
{
	struct clk_filter f;

	clk_filter_clear(&f);
	ck_assert_msg(clk_filter_best(&f) == -1, "an empty filter should have no best sample");
	ck_assert_msg(clk_filter_at(&f, 0) == NULL, "an empty filter should have no sample 0");
	ck_assert_msg(clk_filter_jitter(&f, 0, 0.0) == 0.0,
		      "an empty filter should have no jitter");
}
END_TEST

START_TEST(test_ring_keeps_newest)
{
	struct clk_filter f;
	int i;

	clk_filter_clear(&f);
	for (i = 0; i < CLK_SAMPLES + 5; i++)
		add(&f, T0 + i * S, i, 1e-3);
	ck_assert_msg(f.n == CLK_SAMPLES, "the ring should hold %d samples, has %d", CLK_SAMPLES,
		      f.n);
	ck_assert_msg(clk_filter_at(&f, 0)->x == 5.0, "the oldest kept should be sample 5, is %g",
		      clk_filter_at(&f, 0)->x);
	ck_assert_msg(clk_filter_at(&f, CLK_SAMPLES - 1)->x == CLK_SAMPLES + 4,
		      "the newest should be the last added");
	ck_assert_msg(clk_filter_at(&f, CLK_SAMPLES) == NULL, "past the end should be NULL");
	ck_assert_msg(clk_filter_at(&f, -1) == NULL, "a negative index should be NULL");
}
END_TEST

START_TEST(test_best_is_min_delay_of_last_8)
{
	struct clk_filter f;
	int i, b;

	clk_filter_clear(&f);
	/* A very small delay 9 samples ago is out of the filter's window. */
	add(&f, T0, 0.5, 1e-6);
	for (i = 1; i <= CLK_FILTER_LEN; i++)
		add(&f, T0 + i * S, i, i == 3 ? 2e-3 : 5e-3);
	b = clk_filter_best(&f);
	ck_assert_msg(clk_filter_at(&f, b)->x == 3.0,
		      "the best should be the least-delayed of the newest 8 (x 3), got x %g",
		      clk_filter_at(&f, b)->x);
}
END_TEST

START_TEST(test_best_ties_newest)
{
	struct clk_filter f;
	int i;

	clk_filter_clear(&f);
	for (i = 0; i < 4; i++)
		add(&f, T0 + i * S, i, 1e-3);
	ck_assert_msg(clk_filter_best(&f) == 3, "equal delays should pick the newest, got %d",
		      clk_filter_best(&f));
}
END_TEST

START_TEST(test_jitter)
{
	struct clk_filter f;
	double j;

	clk_filter_clear(&f);
	add(&f, T0, 0.0, 1e-3);
	ck_assert_msg(clk_filter_jitter(&f, 0, 0.0) == 0.0, "one sample should have no jitter");
	add(&f, T0 + S, 3e-3, 2e-3);
	add(&f, T0 + 2 * S, -3e-3, 2e-3);
	/* Best is sample 0 (x 0): the others are 3 ms away each. */
	j = clk_filter_jitter(&f, 0, 0.0);
	ck_assert_msg(fabs(j - 3e-3) < 1e-12, "jitter should be 3 ms, got %g", j);
	/* Projection: with slope 1e-3 s/s, sample 1 (1 s later, x 3 ms) seen at sample 0's
	 * time is at 2 ms, sample 2 (2 s later, x -3 ms) at -5 ms. */
	j = clk_filter_jitter(&f, 0, 1e-3);
	ck_assert_msg(fabs(j - sqrt((4e-6 + 25e-6) / 2)) < 1e-12,
		      "projected jitter should be %g, got %g", sqrt((4e-6 + 25e-6) / 2), j);
}
END_TEST

START_TEST(test_noise_model)
{
	struct clk_filter f;
	const struct clk_sample *lo, *hi;
	double vlo, vhi, young, old;
	int i;

	clk_filter_clear(&f);
	add(&f, T0, 0.0, 400e-6);
	young = clk_filter_floor(&f, 1e-9);
	ck_assert_msg(young >= 150e-6,
		      "with one sample the floor should be near half the delay, got %g", young);
	for (i = 1; i < 16; i++)
		add(&f, T0 + i * S, 0.0, 200e-6 + (i % 4) * 100e-6);
	old = clk_filter_floor(&f, 1e-9);
	ck_assert_msg(old < young,
		      "a full filter should have a lower floor (%g) than a young "
		      "one (%g)",
		      old, young);
	ck_assert_msg(old >= 1e-9, "the floor should respect the given minimum");
	ck_assert_msg(clk_filter_floor(&f, 1e-3) == 1e-3, "a larger minimum should win");
	lo = clk_filter_at(&f, 4); /* delay 200 us: the least */
	hi = clk_filter_at(&f, 3); /* delay 500 us */
	vlo = clk_filter_var(&f, lo, 1e-9);
	vhi = clk_filter_var(&f, hi, 1e-9);
	ck_assert_msg(vhi > vlo,
		      "a delayed sample should be noisier (%g) than the least "
		      "delayed (%g)",
		      vhi, vlo);
	ck_assert_msg(fabs(vlo - old * old) < 1e-18, "the least delayed should have the floor "
						     "variance");
}
END_TEST

Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_ring_keeps_newest);
	tcase_add_test(tc, test_best_is_min_delay_of_last_8);
	tcase_add_test(tc, test_best_ties_newest);
	tcase_add_test(tc, test_jitter);
	tcase_add_test(tc, test_noise_model);
	suite_add_tcase(s, tc);
	return s;
}
