/*
 * Civil dates from day counts and back. The Gregorian calendar repeats
 * every 400 years (146097 days), so a day count is split into an era of
 * 400 years and a day within it; inside an era the year is counted from
 * March, which puts the leap day at the end of the year and makes the
 * month lengths a simple linear formula (153 days per five months). This
 * is the well-known era/day-of-era method; written here from that
 * description, with every step checked by tests/unit/check_utcdate.c
 * against gmtime over four centuries.
 */
#include "proto/utcdate.h"

#define ERA_DAYS  146097 /* days in 400 Gregorian years */
#define ERA_YEARS 400	 /* years in an era */
/* days from 0000-03-01 to 1970-01-01: the era arithmetic counts from a March 1st */
#define EPOCH_SHIFT 719468

/* Floor division of A by B (B > 0). */
static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b < 0) ? q - 1 : q;
}

int64_t ntp_utc_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--; /* January and February belong to the previous March-based year */
	era = floordiv(y, ERA_YEARS);
	yoe = y - era * ERA_YEARS;			       /* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365, from March 1st */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	       /* 0..146096 */
	return era * ERA_DAYS + doe - EPOCH_SHIFT;
}

void ntp_utc_date(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + EPOCH_SHIFT;
	int64_t era = floordiv(z, ERA_DAYS);
	int64_t doe = z - era * ERA_DAYS;				     /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);		     /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;				     /* 0..11, March = 0 */

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * ERA_YEARS + (*m <= 2);
}

int64_t ntp_utc_day_of(int64_t t)
{
	return floordiv(t, NTP_DAY_S);
}

int64_t ntp_utc_next_month(int64_t t)
{
	int64_t y;
	int m, d;

	ntp_utc_date(ntp_utc_day_of(t), &y, &m, &d);
	if (m == 12)
		return ntp_utc_days(y + 1, 1, 1) * NTP_DAY_S;
	return ntp_utc_days(y, m + 1, 1) * NTP_DAY_S;
}

int ntp_utc_is_month_start(int64_t t)
{
	int64_t y;
	int m, d;

	if (t - ntp_utc_day_of(t) * NTP_DAY_S != 0)
		return 0;
	ntp_utc_date(ntp_utc_day_of(t), &y, &m, &d);
	return d == 1;
}
