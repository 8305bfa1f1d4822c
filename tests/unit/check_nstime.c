/*
 * Unit tests of proto/nstime.h, the nanosecond arithmetic every layer
 * shares: timespec conversions both ways (negative times included),
 * saturating sums, differences that do not overflow, and the rounding of
 * a double back to nanoseconds at the edges of int64_t.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>

#include "proto/nstime.h"

Suite *nstime_suite(void);

START_TEST(timespec_both_ways)
{
	struct timespec ts = {.tv_sec = 1700000000, .tv_nsec = 123456789}, back;
	static const int64_t edge[] = {0, 1, -1, NS_PER_SEC - 1, -NS_PER_SEC, INT64_MAX, INT64_MIN};
	unsigned i;

	ck_assert_msg(ns_from_timespec(&ts) == 1700000000123456789LL,
		      "1700000000 s + 123456789 ns should be 1700000000123456789 ns");
	ts.tv_sec = -2;
	ts.tv_nsec = 750000000;
	ck_assert_msg(ns_from_timespec(&ts) == -1250000000LL,
		      "-2 s + 0.75 s should be -1250000000 ns");

	ns_to_timespec(-1250000000LL, &back);
	ck_assert_msg(back.tv_sec == -2 && back.tv_nsec == 750000000,
		      "-1.25 s should be -2 s + 750000000 ns, got %lld s %ld ns",
		      (long long)back.tv_sec, back.tv_nsec);
	ck_assert_msg(ns_floor_sec(-1) == -1 && ns_floor_sec(0) == 0 &&
			      ns_floor_sec(NS_PER_SEC - 1) == 0 &&
			      ns_floor_sec(-NS_PER_SEC) == -1 &&
			      ns_floor_sec(-NS_PER_SEC - 1) == -2,
		      "ns_floor_sec should be the second holding the time, before 1970 too");
	ns_to_timespec(3 * NS_PER_SEC + 5, &back);
	ck_assert_msg(back.tv_sec == 3 && back.tv_nsec == 5, "3 s + 5 ns should split as such");
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		ns_to_timespec(edge[i], &back);
		ck_assert_msg(back.tv_nsec >= 0 && back.tv_nsec < NS_PER_SEC &&
				      ns_from_timespec(&back) == edge[i] &&
				      back.tv_sec == ns_floor_sec(edge[i]),
			      "%lld ns should split into 0 <= ns < 1 s and read back exactly",
			      (long long)edge[i]);
	}
}
END_TEST

START_TEST(sums_saturate)
{
	ck_assert_msg(ns_add_sat(5, -7) == -2, "5 + -7 should be -2");
	ck_assert_msg(ns_add_sat(INT64_MAX, 1) == INT64_MAX, "INT64_MAX + 1 should saturate");
	ck_assert_msg(ns_add_sat(INT64_MIN, -1) == INT64_MIN, "INT64_MIN - 1 should saturate");
	ck_assert_msg(ns_add_sat(INT64_MAX, INT64_MIN) == -1,
		      "INT64_MAX + INT64_MIN should be -1 (no overflow)");
}
END_TEST

START_TEST(differences_do_not_overflow)
{
	ck_assert_msg(ns_diff(1000000000000000007LL, 1000000000000000000LL) == 7.0,
		      "a small difference of large times should be exact");
	ck_assert_double_eq_tol(ns_diff(INT64_MAX, INT64_MIN), 18446744073709551615.0, 4096.0);
	ck_assert_double_eq_tol(ns_diff(INT64_MIN, INT64_MAX), -18446744073709551615.0, 4096.0);
	ck_assert_msg(ns_sec(-1500000000LL) == -1.5, "-1500000000 ns should be -1.5 s");
	ck_assert_msg(ns_dsec(3 * NS_PER_SEC, NS_PER_SEC / 2) == 2.5,
		      "3 s - 0.5 s should be 2.5 s");
	ck_assert_double_eq_tol(ns_dsec(INT64_MAX, INT64_MIN), 18446744073.709552, 1e-5);
}
END_TEST

START_TEST(rounding_saturates)
{
	ck_assert_msg(ns_round_sat(NAN) == 0, "NaN should round to 0");
	ck_assert_msg(ns_round_sat(1.5) == 2 && ns_round_sat(-1.5) == -2,
		      "halves should round away from zero");
	ck_assert_msg(ns_round_sat(2.4) == 2 && ns_round_sat(-2.6) == -3,
		      "others should round to the nearest");
	ck_assert_msg(ns_round_sat(INFINITY) == INT64_MAX && ns_round_sat(-INFINITY) == INT64_MIN,
		      "infinities should saturate");
	ck_assert_msg(ns_round_sat(0x1p63) == INT64_MAX && ns_round_sat(-0x1p63) == INT64_MIN,
		      "2^63 should saturate (it does not fit int64_t)");
	ck_assert_msg(ns_round_sat(9223372036854774784.0) == 9223372036854774784LL,
		      "the largest double below 2^63 should convert exactly");
	ck_assert_msg(ns_round_sat(-9223372036854774784.0) == -9223372036854774784LL,
		      "and its negative too");
}
END_TEST

Suite *nstime_suite(void)
{
	Suite *s = suite_create("nstime");
	TCase *t = tcase_create("core");

	tcase_add_test(t, timespec_both_ways);
	tcase_add_test(t, sums_saturate);
	tcase_add_test(t, differences_do_not_overflow);
	tcase_add_test(t, rounding_saturates);
	suite_add_tcase(s, t);
	return s;
}
