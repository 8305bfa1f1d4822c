/*
 * UTC calendar dates in the proleptic Gregorian calendar, for the leap
 * second code: days since the Unix epoch from a date and back, and the
 * first of the month a moment falls in. Pure integer arithmetic (no
 * gmtime, no time zone, no global state), exact for every Unix second
 * T with |T| <= NTP_UTC_T_MAX (36 billion years either way), so a
 * timestamp from a hostile file cannot overflow it; callers check the
 * range first.
 */
#ifndef HOROD_PROTO_UTCDATE_H
#define HOROD_PROTO_UTCDATE_H

#include <stdint.h>

/* s: the largest |Unix second| these functions take (2^60: no intermediate overflows) */
#define NTP_UTC_T_MAX (1LL << 60)
#define NTP_DAY_S     86400 /* s in a UTC day without a leap second (POSIX time's day) */
/* s from the NTP era-0 epoch (1900-01-01) to the Unix epoch (1970-01-01): 70 years, 17 leap */
#define NTP_UNIX_EPOCH_S 2208988800LL

/* Days since 1970-01-01 of the date Y-M-D (M 1-12, D 1-31; not range-checked beyond that). */
int64_t ntp_utc_days(int64_t y, int m, int d);

/* The date of DAYS since 1970-01-01 into *Y, *M (1-12), *D (1-31). */
void ntp_utc_date(int64_t days, int64_t *y, int *m, int *d);

/* Days since 1970-01-01 of the day holding Unix second T (floor, also before 1970). */
int64_t ntp_utc_day_of(int64_t t);

/* Unix second of 00:00:00 UTC on the first day of the month after the one holding T. */
int64_t ntp_utc_next_month(int64_t t);

/* 1 when Unix second T is 00:00:00 UTC on the first day of a month, else 0. */
int ntp_utc_is_month_start(int64_t t);

#endif
