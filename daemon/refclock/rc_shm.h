/*
 * The NTP shared-memory refclock (ntpd's driver 28, chrony's `refclock
 * SHM`), as gpsd writes it: a System V segment at key 0x4e545030 + unit
 * holding struct rc_shm_time. The writer sets mode (0 or 1), fills the
 * fields, bumps count before and after (mode 1) and sets valid; the
 * reader copies the fields, rereads count (a change, or in mode 1 an odd
 * count, means a torn read: refused, and the sample left for the next
 * try; a mode 1 writer that bumps count only once per write would lose
 * every other sample, counted as torn), uses the nanosecond
 * fields when they agree with the microsecond ones (chrony's rule: a
 * writer that only fills microseconds leaves stale nanoseconds), and
 * clears valid. gpsd writes mode 1; units 0 and 1 are created 0600 (root),
 * 2 and up 0666, as ntpd does; horod creates the segment with `perm MODE`
 * (default 0600) when it is the first.
 */
#ifndef HOROD_DAEMON_RC_SHM_H
#define HOROD_DAEMON_RC_SHM_H

#include <stdint.h>
#include <time.h>

#include "daemon/refclock/refclock.h"

#define RC_SHM_KEY_BASE 0x4e545030 /* "NTP0": ntpd's SHM key of unit 0 */
#define RC_SHM_UNIT_MAX 255	   /* highest unit: ntpd allows up to 217 segments in practice */
#define RC_SHM_PERM_DEF 0600	   /* default mode of a segment horod creates: root only */

/* The segment, exactly as ntpd, chrony and gpsd lay it out (96 bytes on LP64). */
struct rc_shm_time {
	int mode; /* 0: use if valid, clear valid; 1: also check count before and after */
	volatile int count;
	time_t clock_sec; /* the reference's time */
	int clock_usec;
	time_t receive_sec; /* our clock when the sample was taken */
	int receive_usec;
	int leap;      /* NTP LI */
	int precision; /* log2 s */
	int nsamples;
	volatile int valid;
	unsigned clock_nsec; /* nanoseconds, when clock_nsec / 1000 == clock_usec */
	unsigned receive_nsec;
	int dummy[8];
};

/* The key of unit UNIT. */
static inline int rc_shm_key(int unit)
{
	return RC_SHM_KEY_BASE + unit;
}

/*
 * Attach (creating with PERM if absent) the segment at KEY; samples whose
 * local stamp is older than MAX_AGE_NS at read time are stale. NULL with
 * WHY on failure.
 */
struct rc_reader *rc_shm_open(int key, int perm, int64_t max_age_ns, char *why, size_t whylen);

/* Remove the segment R attached if R created it (tests and tools); 0 or -errno. */
int rc_shm_remove_created(struct rc_reader *r);

/*
 * Judge a copy T of the segment taken between count readings C1 and C2
 * against NOW_NS, MAX_AGE_NS and the last sample's local stamp LAST_NS:
 * 1 with *OUT filled, 0 when there is nothing new (valid clear), or
 * -1 - enum rc_drop. *CLEAR says whether valid should be cleared.
 */
int rc_shm_judge(const struct rc_shm_time *t, int c1, int c2, int64_t now_ns, int64_t max_age_ns,
		 int64_t last_ns, struct rc_sample *out, int *clear);

#endif
