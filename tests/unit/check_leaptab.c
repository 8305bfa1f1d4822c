/*
 * Tests of the leap table queries (proto/leaptab): the next and the last
 * leap second around and exactly at their midnights, TAI - UTC at any
 * date, the expiry, and the invariants ntp_leaptab_check enforces on
 * tables built by hand.
 */
#include <check.h>
#include <string.h>

#include "proto/leaptab.h"
#include "proto/utcdate.h"

Suite *leaptab_suite(void);

static struct ntp_leaptab tab;
static char why[256];

static int64_t day(int y, int m, int d)
{
	return ntp_utc_days(y, m, d) * NTP_DAY_S;
}

/* 1972-01-01 10 s, 2017-01-01 37 s (insert), 2031-01-01 38 s (insert), 2033-07-01 37 s (delete). */
static void setup(void)
{
	memset(&tab, 0, sizeof(tab));
	tab.e[0] = (struct ntp_leap_entry){day(1972, 1, 1), 10};
	tab.e[1] = (struct ntp_leap_entry){day(2017, 1, 1), 11};
	tab.e[2] = (struct ntp_leap_entry){day(2031, 1, 1), 12};
	tab.e[3] = (struct ntp_leap_entry){day(2033, 7, 1), 11};
	tab.n = 4;
	tab.expires_s = day(2035, 12, 28);
	tab.updated_s = day(2030, 7, 1);
	tab.src = NTP_LEAPTAB_LIST;
}

START_TEST(test_check_ok)
{
	ck_assert_msg(ntp_leaptab_check(&tab, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

START_TEST(test_next)
{
	struct ntp_leap l;

	ck_assert_int_eq(ntp_leaptab_next(&tab, day(2016, 12, 31), &l), 1);
	ck_assert_int_eq(l.utc_s, day(2017, 1, 1));
	ck_assert_int_eq(l.dir, 1);
	ck_assert_int_eq(l.tai_utc, 11);
	/* One second before the midnight the leap is still ahead; at it, it is done. */
	ck_assert_int_eq(ntp_leaptab_next(&tab, day(2017, 1, 1) - 1, &l), 1);
	ck_assert_int_eq(l.utc_s, day(2017, 1, 1));
	ck_assert_int_eq(ntp_leaptab_next(&tab, day(2017, 1, 1), &l), 1);
	ck_assert_int_eq(l.utc_s, day(2031, 1, 1));
	ck_assert_int_eq(ntp_leaptab_next(&tab, day(2031, 1, 1), &l), 1);
	ck_assert_int_eq(l.utc_s, day(2033, 7, 1));
	ck_assert_int_eq(l.dir, -1);
	ck_assert_int_eq(ntp_leaptab_next(&tab, day(2033, 7, 1), &l), 0);
	/* Entry 0 sets the starting offset; it is no leap of its own. */
	ck_assert_int_eq(ntp_leaptab_next(&tab, 0, &l), 1);
	ck_assert_int_eq(l.utc_s, day(2017, 1, 1));
}
END_TEST

START_TEST(test_prev)
{
	struct ntp_leap l;

	ck_assert_int_eq(ntp_leaptab_prev(&tab, day(2017, 1, 1) - 1, &l), 0);
	ck_assert_int_eq(ntp_leaptab_prev(&tab, day(2017, 1, 1), &l), 1);
	ck_assert_int_eq(l.utc_s, day(2017, 1, 1));
	ck_assert_int_eq(ntp_leaptab_prev(&tab, day(2040, 1, 1), &l), 1);
	ck_assert_int_eq(l.utc_s, day(2033, 7, 1));
	ck_assert_int_eq(l.dir, -1);
}
END_TEST

START_TEST(test_tai_utc)
{
	int off = -1;

	ck_assert_int_eq(ntp_leaptab_tai_utc(&tab, day(1972, 1, 1) - 1, &off), -1);
	ck_assert_int_eq(ntp_leaptab_tai_utc(&tab, day(1972, 1, 1), &off), 0);
	ck_assert_int_eq(off, 10);
	ck_assert_int_eq(ntp_leaptab_tai_utc(&tab, day(2017, 1, 1) - 1, &off), 0);
	ck_assert_int_eq(off, 10);
	ck_assert_int_eq(ntp_leaptab_tai_utc(&tab, day(2017, 1, 1), &off), 0);
	ck_assert_int_eq(off, 11);
	ck_assert_int_eq(ntp_leaptab_tai_utc(&tab, day(2033, 7, 1), &off), 0);
	ck_assert_int_eq(off, 11);
	ck_assert_int_eq(ntp_leaptab_tai_utc(&tab, day(2033, 7, 1) - 1, &off), 0);
	ck_assert_int_eq(off, 12);
}
END_TEST

START_TEST(test_expiry)
{
	ck_assert_int_eq(ntp_leaptab_expired(&tab, day(2035, 12, 28) - 1), 0);
	ck_assert_int_eq(ntp_leaptab_expired(&tab, day(2035, 12, 28)), 1);
	ck_assert_int_eq(ntp_leaptab_expires_in(&tab, day(2035, 12, 27)), NTP_DAY_S);
	ck_assert_int_eq(ntp_leaptab_expires_in(&tab, day(2035, 12, 29)), -NTP_DAY_S);
	ck_assert_int_eq(ntp_leaptab_expires_in(&tab, INT64_MIN), INT64_MAX);
	tab.expires_s = 0;
	ck_assert_int_eq(ntp_leaptab_expired(&tab, day(2100, 1, 1)), 0);
	ck_assert_int_eq(ntp_leaptab_expires_in(&tab, 0), INT64_MAX);
}
END_TEST

START_TEST(test_check_refuses)
{
	struct ntp_leaptab t0 = tab;

	tab.e[2].utc_s += 1;
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "entry 3") != NULL, "the broken entry should be named: %s", why);
	tab = t0;
	tab.e[2].utc_s = day(2017, 2, 1);
	tab.e[1].utc_s = day(2017, 2, 1);
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
	tab = t0;
	tab.e[3].tai_utc = 14;
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
	tab = t0;
	tab.expires_s = day(2033, 7, 1);
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
	tab = t0;
	tab.updated_s = day(2036, 1, 1);
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
	tab = t0;
	tab.n = NTP_LEAPTAB_MAX + 1;
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
	tab = t0;
	tab.e[0].utc_s = day(1971, 1, 1);
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
	tab = t0;
	tab.e[0].tai_utc = -1;
	ck_assert_int_eq(ntp_leaptab_check(&tab, why, sizeof(why)), -1);
}
END_TEST

Suite *leaptab_suite(void)
{
	Suite *s = suite_create("leaptab");
	TCase *tc = tcase_create("leaptab");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_check_ok);
	tcase_add_test(tc, test_next);
	tcase_add_test(tc, test_prev);
	tcase_add_test(tc, test_tai_utc);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_check_refuses);
	suite_add_tcase(s, tc);
	return s;
}
