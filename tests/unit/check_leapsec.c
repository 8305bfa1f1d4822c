/*
 * Tests of the leap-second arithmetic (clock/leapsec): the due, announce
 * and passed windows to the nanosecond for insertions and deletions, on
 * June/December ends and on other month ends a table may give (March,
 * February of a leap year); which months the leap bits may name; the
 * leap-free conversion through a kernel's repeated 23:59:59; the smear's
 * formula at its boundaries and at random points, its monotonicity
 * nanosecond by nanosecond around every boundary for several intervals,
 * and the per-mode decision.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clock/leapsec.h"
#include "proto/ntp.h"
#include "proto/utcdate.h"

Suite *leapsec_suite(void);

#define S_NS	      NS_PER_SEC
#define DAY	      ((int64_t)NTP_DAY_S * S_NS) /* ns in a day */
#define SCAN_NS	      20000			  /* ns scanned one by one around each boundary */
#define RANDOM_POINTS 200000			  /* random instants per smear */

static int64_t mid(int y, int m, int d)
{
	return ntp_utc_days(y, m, d) * NTP_DAY_S;
}

static struct ntp_leap leap(int64_t m_s, int dir)
{
	struct ntp_leap l = {m_s, dir, 37 + dir};

	return l;
}

START_TEST(test_bits_midnight)
{
	int64_t m = 0;

	ck_assert_int_eq(clk_leap_bits_midnight(mid(2015, 6, 1) * S_NS, &m), 1);
	ck_assert_int_eq(m, mid(2015, 7, 1));
	ck_assert_int_eq(clk_leap_bits_midnight(mid(2015, 7, 1) * S_NS - 1, &m), 1);
	ck_assert_int_eq(m, mid(2015, 7, 1));
	ck_assert_int_eq(clk_leap_bits_midnight(mid(2016, 12, 31) * S_NS, &m), 1);
	ck_assert_int_eq(m, mid(2017, 1, 1));
	m = 42;
	ck_assert_msg(clk_leap_bits_midnight(mid(2015, 6, 1) * S_NS - 1, &m) == 0 && m == 42,
		      "bits seen on May 31 should be ignored (a June 30 leap announced early)");
	ck_assert_int_eq(clk_leap_bits_midnight(mid(2015, 7, 1) * S_NS, &m), 0);
	ck_assert_int_eq(clk_leap_bits_midnight(mid(2017, 1, 1) * S_NS, &m), 0);
	ck_assert_int_eq(clk_leap_bits_midnight(mid(2024, 3, 31) * S_NS, &m), 0);
	ck_assert_int_eq(clk_leap_bits_midnight(mid(2023, 11, 14) * S_NS, &m), 0);
}
END_TEST

/* Due, announce and passed at and around the leap ending at M (s). */
static void windows(int64_t m)
{
	int64_t m_ns = m * S_NS;

	ck_assert_int_eq(clk_leap_due(m, m_ns - DAY - 1), 0);
	ck_assert_int_eq(clk_leap_due(m, m_ns - DAY), 1);
	ck_assert_int_eq(clk_leap_due(m, m_ns - 1), 1);
	ck_assert_int_eq(clk_leap_due(m, m_ns), 0);
	ck_assert_int_eq(clk_leap_due(m, m_ns - 30 * DAY), 0);
	ck_assert_int_eq(clk_leap_announce(m, m_ns - DAY - 1, CLK_LEAPMODE_SYSTEM), 0);
	ck_assert_int_eq(clk_leap_announce(m, m_ns - DAY, CLK_LEAPMODE_STEP), 1);
	ck_assert_int_eq(clk_leap_announce(m, m_ns - 1, CLK_LEAPMODE_SLEW), 1);
	ck_assert_int_eq(clk_leap_announce(m, m_ns - 1, CLK_LEAPMODE_SMEAR), 0);
	ck_assert_int_eq(clk_leap_announce(m, m_ns, CLK_LEAPMODE_SYSTEM), 0);
	ck_assert_int_eq(clk_leap_passed(m, m_ns - 1), 0);
	ck_assert_int_eq(clk_leap_passed(m, m_ns), 1);
	ck_assert_int_eq(clk_leap_passed(m, m_ns + DAY), 1);
}

START_TEST(test_windows_june_december)
{
	windows(mid(2015, 7, 1));
	windows(mid(2017, 1, 1));
}
END_TEST

START_TEST(test_windows_other_month_ends)
{
	windows(mid(2031, 4, 1)); /* end of March: ITU's second preference */
	windows(mid(2024, 3, 1)); /* after 29 February */
	windows(mid(2100, 3, 1)); /* after 28 February of a century year */
}
END_TEST

START_TEST(test_issue_16a_wrong_day)
{
	/* The unit test of today's core armed an insert on 2023-11-14: with bits only, no
	 * leap is due then, and a table leap at 2024-01-01 is not due either. */
	int64_t now = mid(2023, 11, 14) * S_NS, m;

	ck_assert_int_eq(clk_leap_bits_midnight(now, &m), 0);
	ck_assert_int_eq(clk_leap_due(mid(2024, 1, 1), now), 0);
	ck_assert_int_eq(clk_leap_due(mid(2023, 12, 1), now), 0);
}
END_TEST

START_TEST(test_leap_free)
{
	int64_t m = mid(2017, 1, 1), m_ns = m * S_NS;
	struct ntp_leap ins = leap(m, 1), del = leap(m, -1);

	ck_assert_int_eq(clk_leap_free_ns(&ins, m_ns - S_NS - 1, 0), m_ns - S_NS - 1);
	ck_assert_int_eq(clk_leap_free_ns(&ins, m_ns - S_NS, 0), m_ns - S_NS);
	ck_assert_msg(clk_leap_free_ns(&ins, m_ns - S_NS, 1) == m_ns,
		      "the repeated 23:59:59 (TIME_OOP) should be 23:59:60, leap-free M");
	ck_assert_int_eq(clk_leap_free_ns(&ins, m_ns - 1, 1), m_ns + S_NS - 1);
	ck_assert_int_eq(clk_leap_free_ns(&ins, m_ns, 0), m_ns + S_NS);
	ck_assert_int_eq(clk_leap_free_ns(&del, m_ns - 1, 0), m_ns - 1);
	ck_assert_int_eq(clk_leap_free_ns(&del, m_ns, 0), m_ns - S_NS);
	ck_assert_int_eq(clk_leap_free_ns(&del, m_ns - S_NS, 1), m_ns - S_NS);
}
END_TEST

START_TEST(test_smear_init)
{
	struct ntp_leap l = leap(mid(2017, 1, 1), 1);
	struct clk_smear sm;
	int64_t m_ns = l.utc_s * S_NS;

	ck_assert_int_eq(clk_smear_init(&sm, &l, 0), -1);
	ck_assert_int_eq(clk_smear_init(&sm, &l, CLK_SMEAR_MAX_S + 1), -1);
	l.dir = 0;
	ck_assert_int_eq(clk_smear_init(&sm, &l, CLK_SMEAR_DEFAULT_S), -1);
	l.dir = 1;
	ck_assert_int_eq(clk_smear_init(&sm, &l, CLK_SMEAR_DEFAULT_S), 0);
	ck_assert_msg(sm.start_ns == m_ns - DAY / 2 && sm.end_ns == m_ns + DAY / 2,
		      "the default smear should run noon to noon");
	ck_assert_int_eq(clk_smear_init(&sm, &l, 3), 0);
	ck_assert_int_eq(sm.start_ns, m_ns - 1500000000);
	ck_assert_int_eq(sm.end_ns, m_ns + 1500000000);
}
END_TEST

/* The smear's values at its boundaries for leap direction DIR and interval S. */
static void smear_points(int dir, int64_t s)
{
	struct ntp_leap l = leap(mid(2017, 1, 1), dir);
	struct clk_smear sm;
	int64_t m_ns = l.utc_s * S_NS;

	ck_assert_int_eq(clk_smear_init(&sm, &l, s), 0);
	ck_assert_int_eq(clk_smear_offset_ns(&sm, sm.start_ns - 1), 0);
	ck_assert_int_eq(clk_smear_offset_ns(&sm, sm.start_ns), 0);
	ck_assert_int_eq(clk_smear_offset_ns(&sm, sm.start_ns + s - 1), 0);
	ck_assert_int_eq(clk_smear_offset_ns(&sm, sm.start_ns + s), -dir);
	ck_assert_int_eq(clk_smear_offset_ns(&sm, sm.end_ns - 1), -dir * (S_NS - 1));
	ck_assert_int_eq(clk_smear_offset_ns(&sm, sm.end_ns), -dir * S_NS);
	ck_assert_int_eq(clk_smear_offset_ns(&sm, sm.end_ns + DAY), -dir * S_NS);
	if (s % 2 == 0)
		ck_assert_int_eq(clk_smear_offset_ns(&sm, m_ns), -dir * S_NS / 2);
	ck_assert_int_eq(clk_smear_active(&sm, sm.start_ns - 1), 0);
	ck_assert_int_eq(clk_smear_active(&sm, sm.start_ns), 1);
	ck_assert_int_eq(clk_smear_active(&sm, sm.end_ns - 1), 1);
	ck_assert_int_eq(clk_smear_active(&sm, sm.end_ns), 0);
}

START_TEST(test_smear_points)
{
	smear_points(1, CLK_SMEAR_DEFAULT_S);
	smear_points(-1, CLK_SMEAR_DEFAULT_S);
	smear_points(1, 1);
	smear_points(-1, 3);
	smear_points(1, 86401);
	smear_points(-1, CLK_SMEAR_MAX_S);
}
END_TEST

/* Smeared time (u + offset) never decreases and moves by 1 (+-1 for the leap's share) per ns. */
static void scan(const struct clk_smear *sm, int64_t from)
{
	int64_t u, prev = from - 1 + clk_smear_offset_ns(sm, from - 1);

	for (u = from; u < from + SCAN_NS; u++) {
		int64_t v = u + clk_smear_offset_ns(sm, u), step = v - prev;

		ck_assert_msg(step == 1 || step == 1 - sm->dir,
			      "smeared time should advance by 1 or %d ns at %lld, moved %lld",
			      1 - sm->dir, (long long)(u - sm->start_ns), (long long)step);
		prev = v;
	}
}

START_TEST(test_smear_monotonic)
{
	static const int64_t intervals[] = {
		1, 2, 3, 60, CLK_SMEAR_DEFAULT_S, 86401, CLK_SMEAR_MAX_S};
	size_t i;
	int dir;

	for (dir = -1; dir <= 1; dir += 2) {
		for (i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
			struct ntp_leap l = leap(mid(2017, 1, 1), dir);
			struct clk_smear sm;

			ck_assert_int_eq(clk_smear_init(&sm, &l, intervals[i]), 0);
			scan(&sm, sm.start_ns - SCAN_NS / 2);
			scan(&sm, sm.leap_ns - SCAN_NS / 2);
			scan(&sm, l.utc_s * S_NS - SCAN_NS / 2);
			scan(&sm, sm.end_ns - SCAN_NS / 2);
		}
	}
}
END_TEST

START_TEST(test_smear_formula_random)
{
	struct ntp_leap l = leap(mid(2017, 1, 1), 1);
	struct clk_smear sm;
	unsigned int seed = 16;
	int i, dir;

	for (dir = -1; dir <= 1; dir += 2) {
		int64_t prev_u = 0, prev_v = 0;

		l.dir = dir;
		ck_assert_int_eq(clk_smear_init(&sm, &l, CLK_SMEAR_DEFAULT_S), 0);
		for (i = 0; i < RANDOM_POINTS; i++) {
			/* Instants spread over the window and half a day either side, sorted by
			 * construction (a random walk), so monotonicity is checked too. */
			int64_t u = sm.start_ns - DAY / 2 +
				    (int64_t)((double)i / RANDOM_POINTS * 2 * DAY) +
				    (rand_r(&seed) % 1000);
			double frac = (double)(u - sm.start_ns) / (double)(sm.end_ns - sm.start_ns);
			double want = -dir * (frac < 0 ? 0 : frac > 1 ? 1 : frac) * 1e9;
			int64_t got = clk_smear_offset_ns(&sm, u), v = u + got;

			ck_assert_msg(got - want < 1.0 && got - want > -1.0,
				      "offset %lld ns should be within 1 ns of %.1f",
				      (long long)got, want);
			if (i)
				ck_assert_msg(v >= prev_v || u < prev_u,
					      "smeared time should never go back");
			prev_u = u;
			prev_v = v;
		}
	}
}
END_TEST

START_TEST(test_smear_vs_utc)
{
	int64_t m_ns = mid(2017, 1, 1) * S_NS;
	struct ntp_leap ins = leap(mid(2017, 1, 1), 1), del = leap(mid(2017, 1, 1), -1);
	struct clk_smear sm;

	ck_assert_int_eq(clk_smear_init(&sm, &ins, CLK_SMEAR_DEFAULT_S), 0);
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, m_ns - 1), -(S_NS / 2) + 1);
	/* At 23:59:60 the kernel shows 23:59:59 again: the served time is half a second
	 * ahead of that label, and half a second behind the 00:00:00 that follows. */
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, m_ns), S_NS / 2);
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, m_ns + S_NS), S_NS / 2 - 1000000000 / 86400);
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, sm.end_ns), 0);
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, sm.start_ns), 0);

	ck_assert_int_eq(clk_smear_init(&sm, &del, CLK_SMEAR_DEFAULT_S), 0);
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, m_ns - S_NS - 1),
			 clk_smear_offset_ns(&sm, m_ns - S_NS - 1));
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, m_ns - S_NS),
			 clk_smear_offset_ns(&sm, m_ns - S_NS) - S_NS);
	ck_assert_int_eq(clk_smear_vs_utc_ns(&sm, sm.end_ns), 0);
}
END_TEST

/*
 * `refclock ... tai`: TAI to UTC with the table's TAI - UTC, through the
 * insertion of 2016-12-31 (36 -> 37) and a deletion at 2033-06-30 (37 ->
 * 36): every UTC second around each maps back from its TAI, the inserted
 * second (TAI 2017-01-01T00:00:36) has no UTC, and nothing before the
 * table's first entry is converted.
 */
START_TEST(test_tai_to_utc)
{
	const int64_t m = 1483228800LL, d = 2035324800LL; /* 2017-01-01, 2034-07-01 */
	struct ntp_leaptab t;
	int64_t u, got, tai;
	int off;

	memset(&t, 0, sizeof(t));
	t.e[t.n].utc_s = 63072000LL; /* 1972-01-01 */
	t.e[t.n++].tai_utc = 10;
	t.e[t.n].utc_s = 1435708800LL; /* 2015-07-01 */
	t.e[t.n++].tai_utc = 36;
	t.e[t.n].utc_s = m;
	t.e[t.n++].tai_utc = 37;
	t.e[t.n].utc_s = d;
	t.e[t.n++].tai_utc = 36;
	t.src = NTP_LEAPTAB_LIST;
	for (u = -5; u <= 5; u++) {
		ck_assert(ntp_leaptab_tai_utc(&t, m + u, &off) == 0);
		tai = (m + u + off) * S_NS + 250000000;
		ck_assert_msg(clk_leap_tai_to_utc(&t, tai, &got) == 0 &&
				      got == (m + u) * S_NS + 250000000,
			      "insertion: UTC M%+lld.25 s should come back from its TAI (got %lld)",
			      (long long)u, (long long)(got - m * S_NS));
		if (u == -1)
			continue; /* 23:59:59 was deleted: that Unix second is no UTC second */
		ck_assert(ntp_leaptab_tai_utc(&t, d + u, &off) == 0);
		tai = (d + u + off) * S_NS + 250000000;
		ck_assert_msg(clk_leap_tai_to_utc(&t, tai, &got) == 0 &&
				      got == (d + u) * S_NS + 250000000,
			      "deletion: UTC D%+lld.25 s should come back from its TAI (got %lld)",
			      (long long)u, (long long)(got - d * S_NS));
	}
	ck_assert_msg(clk_leap_tai_to_utc(&t, (m + 35) * S_NS + 999999999, &got) == 0 &&
			      got == m * S_NS - 1,
		      "TAI M+35.999999999 is UTC 23:59:59.999999999");
	ck_assert_msg(clk_leap_tai_to_utc(&t, (m + 36) * S_NS, &got) < 0 &&
			      clk_leap_tai_to_utc(&t, (m + 36) * S_NS + 999999999, &got) < 0,
		      "the inserted second (23:59:60) has no UTC instant");
	ck_assert_msg(clk_leap_tai_to_utc(&t, (m + 37) * S_NS, &got) == 0 && got == m * S_NS,
		      "TAI M+37 is 2017-01-01 00:00:00 UTC");
	ck_assert_msg(clk_leap_tai_to_utc(&t, (d + 35) * S_NS + 999999999, &got) == 0 &&
			      got == d * S_NS - S_NS - 1 &&
			      clk_leap_tai_to_utc(&t, (d + 36) * S_NS, &got) == 0 &&
			      got == d * S_NS,
		      "across the deletion 23:59:58.999999999 is followed by 00:00:00");
	ck_assert_msg(clk_leap_tai_to_utc(&t, 63072000LL * S_NS, &got) < 0 &&
			      clk_leap_tai_to_utc(&t, 0, &got) < 0,
		      "before the table's first entry: nothing");
	memset(&t, 0, sizeof(t));
	ck_assert_msg(clk_leap_tai_to_utc(&t, m * S_NS, &got) < 0, "an empty table: nothing");
}
END_TEST

START_TEST(test_state_per_mode)
{
	int64_t m = mid(2017, 1, 1), m_ns = m * S_NS;
	struct ntp_leap ins = leap(m, 1), del = leap(m, -1);
	struct clk_smear sm;
	struct clk_leapstate st;

	clk_leap_state(NULL, CLK_LEAPMODE_SYSTEM, NULL, m_ns - 1, m_ns - 1, &st);
	ck_assert(st.li == 0 && st.arm == 0 && !st.passed && !st.smearing && st.smear_ns == 0);

	clk_leap_state(&ins, CLK_LEAPMODE_SYSTEM, NULL, m_ns - DAY - 1, m_ns - DAY - 1, &st);
	ck_assert_msg(st.li == 0 && st.arm == 0, "two days ahead nothing is announced or armed");
	clk_leap_state(&ins, CLK_LEAPMODE_SYSTEM, NULL, m_ns - DAY, m_ns - DAY, &st);
	ck_assert(st.li == NTP_LEAP_INSERT && st.arm == 1 && !st.passed);
	clk_leap_state(&del, CLK_LEAPMODE_SYSTEM, NULL, m_ns - 1, m_ns - 1, &st);
	ck_assert(st.li == NTP_LEAP_DELETE && st.arm == -1);
	clk_leap_state(&ins, CLK_LEAPMODE_SYSTEM, NULL, m_ns, m_ns + S_NS, &st);
	ck_assert_msg(st.li == 0 && st.arm == 0 && st.passed,
		      "at 00:00:00 the LI bits and the kernel flag should be gone");

	clk_leap_state(&ins, CLK_LEAPMODE_STEP, NULL, m_ns - 1, m_ns - 1, &st);
	ck_assert(st.li == NTP_LEAP_INSERT && st.arm == 0);
	clk_leap_state(&ins, CLK_LEAPMODE_SLEW, NULL, m_ns - 1, m_ns - 1, &st);
	ck_assert(st.li == NTP_LEAP_INSERT && st.arm == 0);

	ck_assert_int_eq(clk_smear_init(&sm, &ins, CLK_SMEAR_DEFAULT_S), 0);
	clk_leap_state(&ins, CLK_LEAPMODE_SMEAR, &sm, m_ns - 1, m_ns - 1, &st);
	ck_assert_msg(st.li == 0 && st.arm == 0 && st.smearing,
		      "a smearing server neither announces nor arms");
	ck_assert_int_eq(st.smear_ns, clk_smear_offset_ns(&sm, m_ns - 1));
	clk_leap_state(&ins, CLK_LEAPMODE_SMEAR, &sm, m_ns + DAY, m_ns + DAY + S_NS, &st);
	ck_assert(st.passed && !st.smearing && st.smear_ns == -S_NS);
}
END_TEST

Suite *leapsec_suite(void)
{
	Suite *s = suite_create("leapsec");
	TCase *tc = tcase_create("leapsec");

	tcase_set_timeout(tc, 30); /* s: the nanosecond scans take ~1 s, more under sanitizers */
	tcase_add_test(tc, test_bits_midnight);
	tcase_add_test(tc, test_windows_june_december);
	tcase_add_test(tc, test_windows_other_month_ends);
	tcase_add_test(tc, test_issue_16a_wrong_day);
	tcase_add_test(tc, test_leap_free);
	tcase_add_test(tc, test_smear_init);
	tcase_add_test(tc, test_smear_points);
	tcase_add_test(tc, test_smear_monotonic);
	tcase_add_test(tc, test_smear_formula_random);
	tcase_add_test(tc, test_smear_vs_utc);
	tcase_add_test(tc, test_state_per_mode);
	tcase_add_test(tc, test_tai_to_utc);
	suite_add_tcase(s, tc);
	return s;
}
