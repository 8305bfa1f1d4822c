/*
 * Tests of proto/utcdate: every day from 1800 to 2400 against the C
 * library's gmtime_r, both ways; the first of next month and the
 * month-start test at and around month ends, leap days and century
 * years; the range limit's extremes do not overflow.
 */
#include <check.h>
#include <time.h>

#include "proto/utcdate.h"

Suite *utcdate_suite(void);

#define DAYS_1800 (-62091LL) /* days from 1970-01-01 back to 1800-01-01 */
#define DAYS_2400 157054LL   /* days from 1970-01-01 to 2400-01-01 */
#define DAYS_1900 (-25567LL) /* days from 1970-01-01 back to 1900-01-01 */
#define DAYS_2100 47482LL    /* days from 1970-01-01 to 2100-01-01 */

START_TEST(test_days_match_gmtime)
{
	int64_t day;

	/* Every day from 1900 to 2100, every 7th before and after (gmtime_r
	 * under the sanitizers is slow: all 219,000 days took over 4 s). */
	for (day = DAYS_1800; day <= DAYS_2400; day += day < DAYS_1900 || day > DAYS_2100 ? 7 : 1) {
		time_t t = (time_t)(day * NTP_DAY_S);
		struct tm tm;
		int64_t y;
		int m, d;

		ck_assert(gmtime_r(&t, &tm) != NULL);
		ntp_utc_date(day, &y, &m, &d);
		ck_assert_msg(y == tm.tm_year + 1900 && m == tm.tm_mon + 1 && d == tm.tm_mday,
			      "day %lld should be %d-%02d-%02d, got %lld-%02d-%02d", (long long)day,
			      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, (long long)y, m, d);
		ck_assert_msg(ntp_utc_days(y, m, d) == day, "date of day %lld should map back",
			      (long long)day);
		ck_assert_int_eq(ntp_utc_is_month_start(day * NTP_DAY_S), tm.tm_mday == 1);
	}
}
END_TEST

START_TEST(test_known_dates)
{
	ck_assert_int_eq(ntp_utc_days(1970, 1, 1), 0);
	ck_assert_int_eq(ntp_utc_days(1972, 1, 1) * NTP_DAY_S, 63072000);
	ck_assert_int_eq(ntp_utc_days(2017, 1, 1) * NTP_DAY_S, 1483228800);
	ck_assert_int_eq(ntp_utc_days(2026, 6, 28) * NTP_DAY_S, 3991593600LL - NTP_UNIX_EPOCH_S);
	ck_assert_int_eq(ntp_utc_days(2000, 2, 29) + 1, ntp_utc_days(2000, 3, 1));
	ck_assert_int_eq(ntp_utc_days(2100, 2, 28) + 1, ntp_utc_days(2100, 3, 1));
	ck_assert_int_eq(ntp_utc_days(1900, 1, 1) * NTP_DAY_S, -NTP_UNIX_EPOCH_S);
}
END_TEST

START_TEST(test_day_of_floors)
{
	ck_assert_int_eq(ntp_utc_day_of(0), 0);
	ck_assert_int_eq(ntp_utc_day_of(86399), 0);
	ck_assert_int_eq(ntp_utc_day_of(86400), 1);
	ck_assert_int_eq(ntp_utc_day_of(-1), -1);
	ck_assert_int_eq(ntp_utc_day_of(-86400), -1);
	ck_assert_int_eq(ntp_utc_day_of(-86401), -2);
}
END_TEST

START_TEST(test_next_month)
{
	int64_t jul2015 = ntp_utc_days(2015, 7, 1) * NTP_DAY_S;
	int64_t jan2017 = ntp_utc_days(2017, 1, 1) * NTP_DAY_S;
	int64_t mar2024 = ntp_utc_days(2024, 3, 1) * NTP_DAY_S;

	ck_assert_int_eq(ntp_utc_next_month(jul2015 - 1), jul2015);
	ck_assert_int_eq(ntp_utc_next_month(jul2015 - 30 * NTP_DAY_S), jul2015);
	ck_assert_msg(ntp_utc_next_month(jul2015) == ntp_utc_days(2015, 8, 1) * NTP_DAY_S,
		      "the first of a month should lead to the next month, not itself");
	ck_assert_int_eq(ntp_utc_next_month(jan2017 - 1), jan2017);
	ck_assert_int_eq(ntp_utc_next_month(mar2024 - 1), mar2024); /* from 29 Feb 2024 */
	ck_assert_int_eq(ntp_utc_next_month(-1), 0);		    /* 1969-12-31 23:59:59 */
}
END_TEST

START_TEST(test_month_start)
{
	int64_t jul = ntp_utc_days(2015, 7, 1) * NTP_DAY_S;

	ck_assert_int_eq(ntp_utc_is_month_start(jul), 1);
	ck_assert_int_eq(ntp_utc_is_month_start(jul + 1), 0);
	ck_assert_int_eq(ntp_utc_is_month_start(jul - 1), 0);
	ck_assert_int_eq(ntp_utc_is_month_start(jul + NTP_DAY_S), 0);
}
END_TEST

START_TEST(test_range_extremes)
{
	int64_t y;
	int m, d;

	/* Only that nothing traps (UBSan in the SAN build) and the round trip holds. */
	ntp_utc_date(ntp_utc_day_of(NTP_UTC_T_MAX), &y, &m, &d);
	ck_assert_int_eq(ntp_utc_days(y, m, d), ntp_utc_day_of(NTP_UTC_T_MAX));
	ntp_utc_date(ntp_utc_day_of(-NTP_UTC_T_MAX), &y, &m, &d);
	ck_assert_int_eq(ntp_utc_days(y, m, d), ntp_utc_day_of(-NTP_UTC_T_MAX));
	ck_assert(ntp_utc_next_month(NTP_UTC_T_MAX) > NTP_UTC_T_MAX);
}
END_TEST

Suite *utcdate_suite(void)
{
	Suite *s = suite_create("utcdate");
	TCase *tc = tcase_create("utcdate");

	/* s: the calendar walk calls gmtime_r ~94,000 times, 1-2 s under the
	 * sanitizers; Check's default of 4 s is too close on a loaded machine */
	tcase_set_timeout(tc, 30);

	tcase_add_test(tc, test_days_match_gmtime);
	tcase_add_test(tc, test_known_dates);
	tcase_add_test(tc, test_day_of_floors);
	tcase_add_test(tc, test_next_month);
	tcase_add_test(tc, test_month_start);
	tcase_add_test(tc, test_range_extremes);
	suite_add_tcase(s, tc);
	return s;
}
