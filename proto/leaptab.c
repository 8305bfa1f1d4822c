/*
 * Queries on a checked leap-second table. The table is short (under a
 * hundred entries for the foreseeable future) and consulted once per
 * clock update at most, so a linear scan is both the simplest and fast
 * enough; nothing here allocates or reads anything but the table.
 */
#include <stdio.h>

#include "proto/leaptab.h"
#include "proto/utcdate.h"

int ntp_leaptab_check(const struct ntp_leaptab *t, char *why, size_t whylen)
{
	int i;

	if (t->n < 0 || t->n > NTP_LEAPTAB_MAX) {
		snprintf(why, whylen, "%d entries, allowed 0-%d", t->n, NTP_LEAPTAB_MAX);
		return -1;
	}
	for (i = 0; i < t->n; i++) {
		const struct ntp_leap_entry *e = &t->e[i];

		if (e->utc_s < NTP_LEAPTAB_T_MIN || e->utc_s > NTP_LEAPTAB_T_MAX) {
			snprintf(why, whylen, "entry %d: time %lld outside 1972-2500", i + 1,
				 (long long)e->utc_s);
			return -1;
		}
		if (!ntp_utc_is_month_start(e->utc_s)) {
			snprintf(why, whylen,
				 "entry %d: time %lld is not 00:00:00 UTC on the first of a month",
				 i + 1, (long long)e->utc_s);
			return -1;
		}
		if (e->tai_utc < NTP_LEAPTAB_OFF_MIN || e->tai_utc > NTP_LEAPTAB_OFF_MAX) {
			snprintf(why, whylen, "entry %d: TAI-UTC %d s, allowed %d-%d", i + 1,
				 e->tai_utc, NTP_LEAPTAB_OFF_MIN, NTP_LEAPTAB_OFF_MAX);
			return -1;
		}
		if (i == 0)
			continue;
		if (e->utc_s <= t->e[i - 1].utc_s) {
			snprintf(why, whylen, "entry %d: time %lld not after the previous entry",
				 i + 1, (long long)e->utc_s);
			return -1;
		}
		if (e->tai_utc != t->e[i - 1].tai_utc + 1 &&
		    e->tai_utc != t->e[i - 1].tai_utc - 1) {
			snprintf(why, whylen,
				 "entry %d: TAI-UTC goes from %d to %d s, a leap second moves it "
				 "by 1",
				 i + 1, t->e[i - 1].tai_utc, e->tai_utc);
			return -1;
		}
	}
	if (t->expires_s < 0 || t->expires_s > NTP_LEAPTAB_T_MAX ||
	    (t->expires_s && t->expires_s < NTP_LEAPTAB_T_MIN)) {
		snprintf(why, whylen, "expiry %lld outside 1972-2500", (long long)t->expires_s);
		return -1;
	}
	if (t->updated_s < 0 || t->updated_s > NTP_LEAPTAB_T_MAX ||
	    (t->updated_s && t->updated_s < NTP_LEAPTAB_T_MIN)) {
		snprintf(why, whylen, "update time %lld outside 1972-2500",
			 (long long)t->updated_s);
		return -1;
	}
	if (t->expires_s && t->n > 0 && t->expires_s <= t->e[t->n - 1].utc_s) {
		snprintf(why, whylen, "expiry %lld not after the last entry %lld",
			 (long long)t->expires_s, (long long)t->e[t->n - 1].utc_s);
		return -1;
	}
	if (t->expires_s && t->updated_s && t->expires_s <= t->updated_s) {
		snprintf(why, whylen, "expiry %lld not after the update time %lld",
			 (long long)t->expires_s, (long long)t->updated_s);
		return -1;
	}
	return 0;
}

/* Entry I as a leap second (I >= 1). */
static void leap_of(const struct ntp_leaptab *t, int i, struct ntp_leap *l)
{
	l->utc_s = t->e[i].utc_s;
	l->dir = t->e[i].tai_utc > t->e[i - 1].tai_utc ? 1 : -1;
	l->tai_utc = t->e[i].tai_utc;
}

int ntp_leaptab_next(const struct ntp_leaptab *t, int64_t now, struct ntp_leap *l)
{
	int i;

	/* Entry 0 only sets the starting offset: it is no leap second of its own. */
	for (i = 1; i < t->n; i++) {
		if (t->e[i].utc_s > now) {
			leap_of(t, i, l);
			return 1;
		}
	}
	return 0;
}

int ntp_leaptab_prev(const struct ntp_leaptab *t, int64_t now, struct ntp_leap *l)
{
	int i;

	for (i = t->n - 1; i >= 1; i--) {
		if (t->e[i].utc_s <= now) {
			leap_of(t, i, l);
			return 1;
		}
	}
	return 0;
}

int ntp_leaptab_tai_utc(const struct ntp_leaptab *t, int64_t now, int *off)
{
	int i;

	for (i = t->n - 1; i >= 0; i--) {
		if (t->e[i].utc_s <= now) {
			*off = t->e[i].tai_utc;
			return 0;
		}
	}
	return -1;
}

int ntp_leaptab_expired(const struct ntp_leaptab *t, int64_t now)
{
	return t->expires_s != 0 && now >= t->expires_s;
}

int64_t ntp_leaptab_expires_in(const struct ntp_leaptab *t, int64_t now)
{
	int64_t d;

	if (!t->expires_s)
		return INT64_MAX;
	if (__builtin_sub_overflow(t->expires_s, now, &d))
		return now < 0 ? INT64_MAX : INT64_MIN;
	return d;
}
