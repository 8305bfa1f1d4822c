/*
 * A leap-second table: when TAI - UTC changed and to what, when the
 * table stops being valid, and where it came from. Filled by the parsers
 * of the IETF/NIST leap-seconds.list (proto/leapfile.h) and of a TZif
 * "right/" zone (proto/tzif.h); every table they hand out has passed
 * ntp_leaptab_check, so its users may rely on the invariants below.
 *
 * Times are Unix (POSIX) seconds, UTC: an entry's utc_s is the 00:00:00
 * UTC that starts the first day with the new TAI - UTC, i.e. the midnight
 * right after the inserted 23:59:60 (or the deleted 23:59:59). Invariants:
 * entries strictly increasing, each on the first day of a month at
 * 00:00:00, each offset one more (insertion) or one less (deletion) than
 * the one before; at most NTP_LEAPTAB_MAX entries.
 */
#ifndef HOROD_PROTO_LEAPTAB_H
#define HOROD_PROTO_LEAPTAB_H

#include <stddef.h>
#include <stdint.h>

/* entries: 28 in 2025 (TAI - UTC = 10 s from 1972, then 27 leaps); room for a century more */
#define NTP_LEAPTAB_MAX 128
/* s: TAI - UTC bounds a table may hold (10 in 1972, 37 since 2017; deletions could lower it) */
#define NTP_LEAPTAB_OFF_MIN 0
#define NTP_LEAPTAB_OFF_MAX 200
/* Unix s: the earliest entry accepted (1972-01-01, when UTC got its leap seconds) */
#define NTP_LEAPTAB_T_MIN 63072000LL
/* Unix s: the latest time accepted anywhere in a table (2500-01-01): later is not a real list */
#define NTP_LEAPTAB_T_MAX 16725225600LL

/* Where a table came from. */
enum ntp_leaptab_src {
	NTP_LEAPTAB_NONE = 0, /* empty */
	NTP_LEAPTAB_LIST,     /* leap-seconds.list (IETF/NIST format) */
	NTP_LEAPTAB_TZIF,     /* a TZif right/ zone, e.g. /usr/share/zoneinfo/right/UTC */
};

/* One change of TAI - UTC. */
struct ntp_leap_entry {
	int64_t utc_s; /* Unix s: 00:00:00 UTC of the first day with this offset */
	int tai_utc;   /* s: TAI - UTC from then on */
};

struct ntp_leaptab {
	struct ntp_leap_entry e[NTP_LEAPTAB_MAX];
	int n;		   /* entries used */
	int64_t expires_s; /* Unix s: valid until then; 0 = the source says nothing */
	int64_t updated_s; /* Unix s: when the source was last updated; 0 = not said */
	int hashed;	   /* 1: its SHA-1 hash matched (leap-seconds.list; a TZif has none) */
	enum ntp_leaptab_src src;
};

/* A leap second: the midnight it ends at, and which way. */
struct ntp_leap {
	int64_t utc_s; /* Unix s: the 00:00:00 UTC the leap second ends at (the table entry) */
	int dir;       /* +1: 23:59:60 inserted before it; -1: 23:59:59 deleted */
	int tai_utc;   /* s: TAI - UTC from utc_s on */
};

/* Check T's invariants (see above); 0, or -1 with the first broken one in WHY. */
int ntp_leaptab_check(const struct ntp_leaptab *t, char *why, size_t whylen);

/* The first leap second ending after Unix second NOW (utc_s > NOW) into *L; 1, or 0 if none. */
int ntp_leaptab_next(const struct ntp_leaptab *t, int64_t now, struct ntp_leap *l);

/* The last leap second that ended at or before NOW into *L; 1, or 0 if none. */
int ntp_leaptab_prev(const struct ntp_leaptab *t, int64_t now, struct ntp_leap *l);

/* TAI - UTC at Unix second NOW into *OFF; 0, or -1 when NOW is before the table's first entry. */
int ntp_leaptab_tai_utc(const struct ntp_leaptab *t, int64_t now, int *off);

/* 1 when T has an expiry and NOW is at or past it, else 0. */
int ntp_leaptab_expired(const struct ntp_leaptab *t, int64_t now);

/* Seconds from NOW to T's expiry (negative once passed); INT64_MAX when T has none. */
int64_t ntp_leaptab_expires_in(const struct ntp_leaptab *t, int64_t now);

#endif
