/*
 * Tests of source selection on crafted intervals: the intersection keeps
 * sources that agree and marks the rest 'x', needs a majority, treats
 * touching intervals as overlapping; clustering drops the outlier '-'
 * while that reduces the spread below the sources' jitter, keeps at least
 * the minimum, marks truechimers beyond CLK_MAX_CLUSTER '#' and puts
 * survivors first in merit order (stratum, then distance); combining
 * weighs by 1/distance. Trusted sources (chrony's trust) outvote any
 * number of untrusted ones, and keep only the untrusted sources wholly
 * inside their interval.
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "clock/select.h"

Suite *select_suite(void);

static void cand(struct clk_cand *c, int id, double off, double dist, double jitter, int stratum)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->offset = off;
	c->estimate = off;
	c->dist = dist;
	c->jitter = jitter;
	c->stratum = stratum;
}

/* Tally of the candidate with id ID. */
static char tally_of(const struct clk_cand *c, int n, int id)
{
	int i;

	for (i = 0; i < n; i++)
		if (c[i].id == id)
			return c[i].tally;
	return '?';
}

START_TEST(test_all_agree)
{
	struct clk_cand c[3];
	double lo, hi;

	cand(&c[0], 0, 0.000, 0.010, 0, 1);
	cand(&c[1], 1, 0.002, 0.010, 0, 1);
	cand(&c[2], 2, -0.003, 0.010, 0, 1);
	ck_assert_msg(clk_select_intersect(c, 3, &lo, &hi) == 3, "three agreeing sources should "
								 "all be truechimers");
	ck_assert_msg(fabs(lo - (-0.008)) < 1e-12 && fabs(hi - 0.007) < 1e-12,
		      "the agreed interval should be [-0.008, 0.007], got [%g, %g]", lo, hi);
}
END_TEST

START_TEST(test_two_falsetickers_of_five)
{
	struct clk_cand c[5];
	double lo, hi;
	int n;

	cand(&c[0], 0, 0.000, 0.001, 0, 1);
	cand(&c[1], 1, 0.500, 0.001, 0, 1);
	cand(&c[2], 2, 0.0003, 0.001, 0, 1);
	cand(&c[3], 3, -0.300, 0.001, 0, 1);
	cand(&c[4], 4, -0.0002, 0.001, 0, 1);
	n = clk_select_intersect(c, 5, &lo, &hi);
	ck_assert_msg(n == 3, "three of five should be truechimers, got %d", n);
	ck_assert_msg(c[1].tally == 'x' && c[3].tally == 'x', "the liars should be 'x'");
	ck_assert_msg(c[0].tally == '+' && c[2].tally == '+' && c[4].tally == '+',
		      "the agreeing three should be '+'");
}
END_TEST

START_TEST(test_no_majority)
{
	struct clk_cand c[5];
	double lo, hi;
	int i;

	cand(&c[0], 0, 0.000, 0.001, 0, 1);
	cand(&c[1], 1, 0.500, 0.001, 0, 1);
	cand(&c[2], 2, 0.0003, 0.001, 0, 1);
	cand(&c[3], 3, -0.300, 0.001, 0, 1);
	cand(&c[4], 4, 1.000, 0.001, 0, 1);
	ck_assert_msg(clk_select_intersect(c, 5, &lo, &hi) == 0,
		      "two agreeing of five should be no majority");
	for (i = 0; i < 5; i++)
		ck_assert_msg(c[i].tally == 'x', "without a majority every source should be 'x'");
}
END_TEST

START_TEST(test_two_disagree)
{
	struct clk_cand c[2];
	double lo, hi;

	cand(&c[0], 0, 0.0, 0.001, 0, 1);
	cand(&c[1], 1, 0.1, 0.001, 0, 1);
	ck_assert_msg(clk_select_intersect(c, 2, &lo, &hi) == 0,
		      "two disjoint sources should give no truechimer");
	cand(&c[1], 1, 0.002, 0.001, 0, 1);
	ck_assert_msg(clk_select_intersect(c, 2, &lo, &hi) == 2,
		      "touching intervals should overlap");
	ck_assert_msg(lo == hi && fabs(lo - 0.001) < 1e-12, "the agreed point should be 0.001");
}
END_TEST

START_TEST(test_single_and_bad_input)
{
	struct clk_cand c[1];
	double lo = 0, hi = 0;

	cand(&c[0], 7, 0.25, 0.01, 0, 2);
	ck_assert_msg(clk_select_intersect(c, 1, &lo, &hi) == 1, "one source is its own majority");
	ck_assert_msg(clk_select_intersect(c, 0, &lo, &hi) == 0, "no candidates, no truechimers");
	ck_assert_msg(clk_select_intersect(c, CLK_SELECT_MAX + 1, &lo, &hi) == 0,
		      "too many candidates should be refused");
}
END_TEST

START_TEST(test_cluster_drops_outlier)
{
	struct clk_cand c[5];
	double lo, hi;
	int n;

	/* Wide intervals: all truechimers, but one sits far from the rest. */
	cand(&c[0], 0, 0.0000, 0.050, 1e-5, 1);
	cand(&c[1], 1, 0.0001, 0.050, 1e-5, 1);
	cand(&c[2], 2, -0.0001, 0.050, 1e-5, 1);
	cand(&c[3], 3, 0.0002, 0.050, 1e-5, 1);
	cand(&c[4], 4, 0.0300, 0.050, 1e-5, 1);
	ck_assert_msg(clk_select_intersect(c, 5, &lo, &hi) == 5, "all should be truechimers");
	n = clk_select_cluster(c, 5, CLK_MIN_CLUSTER, 1.5);
	ck_assert_msg(tally_of(c, 5, 4) == '-', "the far source should be an outlier '-', is '%c'",
		      tally_of(c, 5, 4));
	ck_assert_msg(n >= CLK_MIN_CLUSTER && n <= 4, "between 3 and 4 should survive, got %d", n);
	ck_assert_msg(c[0].tally == '+' && c[n - 1].tally == '+' && c[n].tally != '+',
		      "survivors should come first");
}
END_TEST

START_TEST(test_cluster_keeps_minimum)
{
	struct clk_cand c[3];
	double lo, hi;

	cand(&c[0], 0, 0.0, 0.5, 0, 1);
	cand(&c[1], 1, 0.1, 0.5, 0, 1);
	cand(&c[2], 2, -0.2, 0.5, 0, 1);
	clk_select_intersect(c, 3, &lo, &hi);
	ck_assert_msg(clk_select_cluster(c, 3, CLK_MIN_CLUSTER, 1.5) == 3,
		      "clustering should never go below the minimum");
}
END_TEST

START_TEST(test_cluster_merit_and_backup)
{
	struct clk_cand c[CLK_MAX_CLUSTER + 2];
	double lo, hi;
	int i, n = CLK_MAX_CLUSTER + 2;

	for (i = 0; i < n; i++)
		cand(&c[i], i, 0.0, 0.01 + i * 0.001, 1.0, i == 5 ? 1 : 2);
	clk_select_intersect(c, n, &lo, &hi);
	ck_assert_msg(clk_select_cluster(c, n, CLK_MIN_CLUSTER, 1.5) == CLK_MAX_CLUSTER,
		      "at most %d should be clustered", CLK_MAX_CLUSTER);
	ck_assert_msg(c[0].id == 5, "the stratum 1 source should lead on merit, got id %d",
		      c[0].id);
	ck_assert_msg(c[1].id == 0, "then the smallest distance (id 0), got id %d", c[1].id);
	ck_assert_msg(tally_of(c, n, n - 1) == '#' && tally_of(c, n, n - 2) == '#',
		      "the two worst should be backups '#'");
}
END_TEST

START_TEST(test_combine_weights)
{
	struct clk_cand c[2];
	double v;

	cand(&c[0], 0, 0.0, 0.001, 0, 1);
	cand(&c[1], 1, 0.003, 0.002, 0, 1);
	/* Weights 1000 and 500: (0 * 1000 + 0.003 * 500) / 1500 = 0.001. */
	v = clk_select_combine(c, 2);
	ck_assert_msg(fabs(v - 0.001) < 1e-12, "combined offset should be 0.001, got %g", v);
	ck_assert_msg(clk_select_combine(c, 0) == 0.0, "nothing combined should be 0");
}
END_TEST

START_TEST(test_selection_jitter)
{
	struct clk_cand c[3];
	double lo, hi, j;

	cand(&c[0], 0, 0.0, 0.01, 0, 1);
	cand(&c[1], 1, 0.003, 0.01, 0, 1);
	cand(&c[2], 2, -0.004, 0.01, 0, 1);
	clk_select_intersect(c, 3, &lo, &hi);
	j = clk_select_jitter(c, 3, 0);
	ck_assert_msg(fabs(j - sqrt((9e-6 + 16e-6) / 2)) < 1e-12,
		      "selection jitter from 0 should be %g, got %g", sqrt(12.5e-6), j);
}
END_TEST

START_TEST(test_trusted_outvote)
{
	struct clk_cand c[4];
	double lo, hi;

	/* Three untrusted sources agree at +50 ms; the one trusted source says 0. */
	cand(&c[0], 0, 0.0, 0.001, 0, 0);
	c[0].trust = 1;
	cand(&c[1], 1, 0.050, 0.010, 0, 1);
	cand(&c[2], 2, 0.051, 0.010, 0, 1);
	cand(&c[3], 3, 0.049, 0.010, 0, 1);
	ck_assert_msg(clk_select_intersect(c, 4, &lo, &hi) == 1,
		      "the trusted source alone should be a truechimer");
	ck_assert_msg(tally_of(c, 4, 0) == '+' && tally_of(c, 4, 1) == 'x' &&
			      tally_of(c, 4, 2) == 'x' && tally_of(c, 4, 3) == 'x',
		      "the untrusted majority should be the falsetickers");
	ck_assert_msg(fabs(lo + 0.001) < 1e-12 && fabs(hi - 0.001) < 1e-12,
		      "the agreed interval should be the trusted one, got [%g, %g]", lo, hi);

	/* An untrusted source counts only wholly inside the trusted interval. */
	cand(&c[0], 0, 0.0, 0.010, 0, 0);
	c[0].trust = 1;
	cand(&c[1], 1, 0.001, 0.002, 0, 1); /* [-1, 3] ms: inside */
	cand(&c[2], 2, 0.009, 0.002, 0, 1); /* [7, 11] ms: overlaps, not inside */
	ck_assert_msg(clk_select_intersect(c, 3, &lo, &hi) == 2 && tally_of(c, 3, 1) == '+' &&
			      tally_of(c, 3, 2) == 'x',
		      "only the untrusted source inside the trusted interval should count");

	/* Two trusted sources that disagree: no majority among them, nobody is chosen. */
	cand(&c[0], 0, 0.0, 0.001, 0, 0);
	c[0].trust = 1;
	cand(&c[1], 1, 0.1, 0.001, 0, 0);
	c[1].trust = 1;
	cand(&c[2], 2, 0.0, 0.001, 0, 1);
	cand(&c[3], 3, 0.0, 0.001, 0, 1);
	ck_assert_msg(clk_select_intersect(c, 4, &lo, &hi) == 0,
		      "two disagreeing trusted sources have no majority, whatever the others say");
}
END_TEST

Suite *select_suite(void)
{
	Suite *s = suite_create("select");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_all_agree);
	tcase_add_test(tc, test_two_falsetickers_of_five);
	tcase_add_test(tc, test_no_majority);
	tcase_add_test(tc, test_two_disagree);
	tcase_add_test(tc, test_single_and_bad_input);
	tcase_add_test(tc, test_cluster_drops_outlier);
	tcase_add_test(tc, test_cluster_keeps_minimum);
	tcase_add_test(tc, test_cluster_merit_and_backup);
	tcase_add_test(tc, test_combine_weights);
	tcase_add_test(tc, test_selection_jitter);
	tcase_add_test(tc, test_trusted_outvote);
	suite_add_tcase(s, tc);
	return s;
}
