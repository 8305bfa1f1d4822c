/*
 * Reference clocks as sources of the clock core (`refclock PHC|PPS|SHM|
 * SOCK ...`): the source driver srcdrv_refclock (srcdrv.h) over the
 * device readers of daemon/refclock/. Each refclock is one source of
 * kind CLK_KIND_REFCLOCK, polled at its own fixed `poll`; between polls
 * its device is read every 2^dpoll s (a SOCK socket whenever a datagram
 * waits) and every sample is kept: its offset (reference minus our
 * driver time, the `offset` option added) and its error bound (the
 * reader's own, the device's claimed precision, the `precision` option
 * or our clock's, and the noise the samples show: each sample against
 * the line through its neighbours on the core's raw timescale, the
 * median of the last 16; 1 ms is assumed until three are seen, so that a
 * device's first samples never claim more than it has shown). At each poll the samples of that poll
 * are filtered as chrony does: sorted by offset, the ones nearest the median kept (the outer fifth
 * on each side dropped, at least one from three samples on: of three or four, the median), their
 * times and offsets averaged; the result's dispersion is the largest error bound kept plus half the
 * spread of the kept offsets, so the jitter the filter smooths stays in the error. That is one
 * zero-delay measurement for the core (stratum 0, so we serve stratum 1 with the refclock's refid;
 * root delay the `delay` option; as its precision the noise of that mean, which the core takes as
 * the sample's noise floor); a poll without samples leaves the reach bit clear, and four such polls
 * make the refclock unreachable (the core then holds over, as for NTP servers). Samples the device
 * marks unsynchronized (leap 3) are counted and dropped.
 *
 * A pulse (PPS, or a SOCK writer's pulse sample) tells the instant of a
 * second, not which second: it is numbered from the `lock` refclock's
 * latest whole-second sample (at most 2 s older), else from our own
 * served time when we are synchronized; either must place the pulse
 * within 0.4 s of one second, else the pulse is dropped (counted).
 *
 * Timescales: samples arrive on CLOCK_REALTIME (the readers' local
 * stamps) and are moved to driver time with the clock driver's mapping
 * (clk_driver_from_sys), as the NTP driver does with its receive stamps.
 * A PHC's time is taken as it is: one kept in TAI needs `offset -37`.
 * Samples older than RS_WINDOW_NS at their poll are dropped (counted),
 * so a filtered sample's time is always one the core's history converts
 * exactly (clock/discipline.h keeps seconds, not hours), and so are the
 * samples taken before a step of our clock (their offsets are against
 * the clock before the step).
 */
#ifndef HOROD_DAEMON_CLOCKD_REFSRC_H
#define HOROD_DAEMON_CLOCKD_REFSRC_H

#include <stdint.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "daemon/clockd/srcdrv.h"
#include "daemon/config/settings.h"
#include "daemon/refclock/refclock.h"
#include "proto/leaptab.h"

#define RS_MAX_SAMPLES	  64 /* samples kept per poll: chrony's default filter length */
#define RS_UNREACH_POLLS  4  /* polls without a sample before a refclock is unreachable */
#define RS_WINDOW_NS	  (16 * NS_PER_SEC) /* ns: oldest sample a poll uses (chrony's poll) */
#define RS_PULSE_LIMIT_NS (400 * NS_PER_MS) /* ns: a pulse's second must be known this well */
#define RS_LOCK_AGE_NS	  (2 * NS_PER_SEC)  /* ns: a lock's sample at most two pulses old */
/* ns: samples this close to a leap's edge are not used: the reference leaps at its own
 * midnight, our edge is the core's, and a device's leap handling may lag (gpsd's NMEA) */
#define RS_LEAP_GUARD_NS (2 * NS_PER_SEC)

extern const struct srcdrv_ops srcdrv_refclock; /* the reference clocks (refsrc.c) */

/* One sample as the filter takes it. */
struct rs_sample {
	int64_t t;   /* driver ns of the event */
	int64_t off; /* ns: reference minus our driver time, the `offset` option applied */
	double err;  /* s: its error bound, >= 0 */
	int leap;    /* NTP LI: 0, 1 insert, 2 delete */
};

/* Why a sample was taken in but not used (besides the readers' own rc_drop reasons). */
struct rs_counts {
	uint64_t samples;    /* taken into a poll */
	uint64_t polls;	     /* polls made */
	uint64_t empty;	     /* polls without a sample */
	uint64_t unsync;     /* samples the device marked unsynchronized (leap 3), or, under
				`tai`, inside an inserted second (no UTC instant) */
	uint64_t unnumbered; /* pulses whose second was not known within RS_PULSE_LIMIT_NS */
	uint64_t old;	     /* samples older than RS_WINDOW_NS, or beyond RS_MAX_SAMPLES, or
				on the far side of a leap's edge (refsrc_leap_split) */
	uint64_t read_errors;
	double noise; /* s: the samples' noise as measured (standard deviation), or assumed */
};

struct refsrc;

/*
 * Filter the N samples S (reordered) of one poll into *OUT: the ones
 * nearest the median offset kept (n/5 dropped on each side, at least one
 * when n >= 3), mean time and offset, error bound = the largest kept plus
 * half the kept offsets' spread, leap of the newest kept. Returns how
 * many were kept (0 when N is 0).
 */
int refsrc_filter(struct rs_sample *s, int n, struct rs_sample *out);

/*
 * Split the N samples S of one poll at a leap's edge EDGE (driver ns),
 * where the reference's time steps by a second against ours: samples
 * within RS_LEAP_GUARD_NS of it are dropped and, when some remain on both
 * sides, only the later side is kept (moved to the front, order kept).
 * Returns how many remain.
 */
int refsrc_leap_split(struct rs_sample *s, int n, int64_t edge);

/*
 * Number a pulse seen at driver time T, whose true time is estimated as
 * EST_NS within EST_ERR s: the nearest whole second (plus OFFSET_NS, the
 * `offset` option); 0 with *OFF = that second minus T, or -1 when the
 * second is not known within RS_PULSE_LIMIT_NS.
 */
int refsrc_number_pulse(int64_t t, int64_t est_ns, double est_err, int64_t offset_ns, int64_t *off);

/* A set of refclocks on CORE and DRV (our clock's read PRECISION, log2 s); NULL when out of
 * memory. */
struct refsrc *refsrc_create(struct clk_core *core, struct clk_driver *drv, int precision);

/* The leap table T (not copied: it outlives RS) whose TAI - UTC `tai` refclocks' samples
 * are taken to UTC with; before the first refsrc_add. */
void refsrc_set_leaptab(struct refsrc *rs, const struct ntp_leaptab *t);

/* Add the refclock CFG reading RD (owned from now on) to the core; 0, or -1 (logged: a `tai`
 * refclock without a leap table too). */
int refsrc_add(struct refsrc *rs, const struct cfg_refclock *cfg, struct rc_reader *rd);

/* Link each `lock` to its refclock, after the last refsrc_add; 0, or -1 (logged). */
int refsrc_link(struct refsrc *rs);

/*
 * Read what is due or waiting at driver time NOW (SYS_NOW: CLOCK_REALTIME
 * now, for the readers' age checks), make the polls due; returns the next
 * driver time something is due.
 */
int64_t refsrc_run(struct refsrc *rs, int64_t now, int64_t sys_now);

/* The counters of refclock I (0..): its own and its reader's; -1 when there is none. */
int refsrc_counts(const struct refsrc *rs, int i, struct rs_counts *out,
		  const struct rc_reader **rd);

/* Close every reader, free RS (NULL is fine). */
void refsrc_destroy(struct refsrc *rs);

#endif
