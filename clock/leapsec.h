/*
 * Leap-second arithmetic, pure: when a leap second is due, when it is
 * announced, when it has passed, and the smear that hides it. The clock
 * core decides with these what to tell the kernel and what to serve; they
 * read no clock and keep no state, so every boundary is testable to the
 * nanosecond.
 *
 * Scales. "UTC" here is POSIX time as the kernel keeps it: an inserted
 * 23:59:60 reads as a second 23:59:59 (Linux repeats it, with TIME_OOP),
 * a deleted 23:59:59 never shows. "Leap-free" time is the count of real
 * seconds that equals UTC until the leap and UTC + dir s after it (dir
 * +1 for an insertion, -1 for a deletion): a clock nobody told about the
 * leap keeps leap-free time, and the smear is defined on it. A leap is
 * named by the 00:00:00 UTC it ends at, M (struct ntp_leap's utc_s).
 *
 * Windows (M in UTC):
 *   due       [M - 1 day, M): Linux applies STA_INS/STA_DEL at the next UTC
 *             midnight after it is set, so arming it on any other day puts
 *             the leap on the wrong midnight (issue 16 (a)).
 *   announce  the same day, as RFC 5905 asks (LI during the last day),
 *             except with the smear, which never announces.
 *   passed    from M on: the LI bits and the kernel flag go (issue 16 (b)).
 *   smear     leap-free [M - S/2, M + S/2), S = `leapsmear interval`
 *             (default 86400 s: noon to noon), the served time slowing
 *             (insertion) or speeding (deletion) by 1/S, linearly.
 */
#ifndef HOROD_CLOCK_LEAPSEC_H
#define HOROD_CLOCK_LEAPSEC_H

#include <stdint.h>

#include "proto/leaptab.h"
#include "proto/nstime.h"

/* s: the default smear interval, noon to noon, the big operators' public convention */
#define CLK_SMEAR_DEFAULT_S 86400
/* s: the shortest smear: at 1/S the served rate may not drop below 0 (monotonic time) */
#define CLK_SMEAR_MIN_S 1
/* s: the longest smear: 28 days, so that it never reaches a neighbouring month's leap */
#define CLK_SMEAR_MAX_S (28 * 86400)

/* s: `leapsecmode slew`'s correction of the leap's second after the edge: 1 s at 1/12
 * (83333 ppm, CLK_MAX_SLEW_PPM: chrony's default maxslewrate on Linux, where its slew takes
 * 12 s too) */
#define CLK_LEAP_SLEW_S 12

/* What horod does about a leap second (`leapsecmode`). */
enum clk_leapmode {
	CLK_LEAPMODE_SYSTEM = 0, /* the kernel inserts/deletes it (STA_INS/STA_DEL) */
	CLK_LEAPMODE_STEP,	 /* nobody applies it; the clock is stepped afterwards */
	CLK_LEAPMODE_SLEW,	 /* nobody applies it; the clock is slewed afterwards */
	CLK_LEAPMODE_SMEAR,	 /* served time smeared across it; never announced */
};

/* A smear across one leap second, in leap-free nanoseconds. */
struct clk_smear {
	int64_t start_ns; /* leap-free ns: the smear starts (M - S/2) */
	int64_t end_ns;	  /* leap-free ns: the smear is over (M + S/2) */
	int64_t leap_ns;  /* leap-free ns: where UTC's label steps (M, or M - 1 s for a deletion) */
	int64_t interval_s; /* S, whole seconds: the offset grows by 1 ns every S ns */
	int dir;	    /* +1 insertion, -1 deletion */
};

/* What to do about leap L at one moment. */
struct clk_leapstate {
	int li;		  /* LI to serve: 0, 1 (insert), 2 (delete) (NTP_LEAP_* values) */
	int arm;	  /* kernel flag to hold now: +1 STA_INS, -1 STA_DEL, 0 none */
	int passed;	  /* 1: the leap is behind (its LI and flag must be gone) */
	int smearing;	  /* 1: inside the smear window (smear mode only) */
	int64_t smear_ns; /* ns to add to leap-free time to get served time (smear mode) */
};

/*
 * The leap NTP leap bits (LI 1 or 2) refer to at UTC NOW_NS: the end of the
 * current month (RFC 5905), into *MIDNIGHT_S; 1, or 0 when bits seen now
 * must be ignored because this is not June or December (servers and GPS
 * set LI weeks early: a May 31 taken for a June 30 leap would insert on
 * the wrong day; chrony and gpsd keep the same rule).
 */
int clk_leap_bits_midnight(int64_t now_ns, int64_t *midnight_s);

/* 1 when the leap ending at MIDNIGHT_S is due: UTC NOW_NS in its last day [M - 1 day, M). */
int clk_leap_due(int64_t midnight_s, int64_t now_ns);

/* 1 when LI must announce the leap ending at MIDNIGHT_S at UTC NOW_NS under MODE. */
int clk_leap_announce(int64_t midnight_s, int64_t now_ns, enum clk_leapmode mode);

/* 1 when the leap ending at MIDNIGHT_S is behind UTC NOW_NS (NOW >= M). */
int clk_leap_passed(int64_t midnight_s, int64_t now_ns);

/*
 * TAI TAI_NS (ns since 1970-01-01 TAI, as a PHC that ptp4l keeps in TAI
 * reads) to UTC into *UTC_NS with table T's TAI - UTC (`refclock ... tai`);
 * 0, or -1 when T does not cover it (before its first entry) or it falls
 * inside an inserted second (23:59:60 is no UTC instant on the Unix scale).
 */
int clk_leap_tai_to_utc(const struct ntp_leaptab *t, int64_t tai_ns, int64_t *utc_ns);

/* UTC NOW_NS to leap-free time around leap L; IN_LEAP: the kernel says 23:59:60 (TIME_OOP). */
int64_t clk_leap_free_ns(const struct ntp_leap *l, int64_t utc_ns, int in_leap);

/* Set up *SM for leap L over INTERVAL_S (whole s, noon to noon around M); 0 or -1 if out of range.
 */
int clk_smear_init(struct clk_smear *sm, const struct ntp_leap *l, int64_t interval_s);

/* Set up *SM as leapsecmode slew's correction of leap L: from its edge over CLK_LEAP_SLEW_S. */
int clk_slew_init(struct clk_smear *sm, const struct ntp_leap *l);

/* ns to add to leap-free U_NS for the smeared time: 0 before, -dir s after, linear between. */
int64_t clk_smear_offset_ns(const struct clk_smear *sm, int64_t u_ns);

/* Smeared time minus UTC at leap-free U_NS (what `leapsmearoffset` shows), ns. */
int64_t clk_smear_vs_utc_ns(const struct clk_smear *sm, int64_t u_ns);

/* 1 while leap-free U_NS is inside the smear window [start, end). */
int clk_smear_active(const struct clk_smear *sm, int64_t u_ns);

/*
 * The decision for leap L (NULL: none known) under MODE at UTC NOW_NS,
 * with SM (smear mode only; may be NULL otherwise) evaluated at leap-free
 * time U_NS; into *ST.
 */
void clk_leap_state(const struct ntp_leap *l, enum clk_leapmode mode, const struct clk_smear *sm,
		    int64_t now_ns, int64_t u_ns, struct clk_leapstate *st);

#endif
