/*
 * The clock core's state, shared by the two files of the core: core.c,
 * which changes it (sources, samples, selection, correction, the
 * snapshot), and core_report.c, which reads it for the reports (sources,
 * filters, tracking, drift). Nothing outside clock/core*.c includes it:
 * everyone else goes through clock/core.h.
 */
#ifndef HOROD_CLOCK_CORE_PRIV_H
#define HOROD_CLOCK_CORE_PRIV_H

#include <math.h>
#include <stdint.h>

#include "clock/core.h"
#include "clock/discipline.h"
#include "clock/leapsec.h"
#include "clock/nsec.h"
#include "clock/source.h"

/* s: the largest error bound told to the kernel or advertised (RFC 5905 MAXDISP) */
#define CORE_MAXDISP 16.0

struct clk_core {
	struct clk_core_cfg cfg;
	struct clk_driver *drv;
	struct clk_disc disc;
	struct clk_src src[CLK_MAX_SOURCES];
	int n;
	int64_t start_r;  /* raw ns at creation */
	int64_t call_r;	  /* raw ns of the last clk_core_update() */
	double call_gap;  /* s: recent longest interval between those calls */
	int64_t last_now; /* driver ns of the latest call that gave a time */
	/* frequency of the oscillator correction (fractional) and its uncertainty */
	double freq;
	double freq_sd;	  /* standard error; < 0: nothing measured, no driftfile */
	double skew;	  /* fractional: the bound on the frequency error, advertised */
	double peer_freq; /* the system peer's own frequency estimate */
	/* selection and the last clock update */
	int sys_peer; /* source index, -1 none */
	int updates;
	int64_t upd_r;	     /* raw ns of the last clock update */
	double upd_interval; /* s between the last two */
	int64_t ref_served;  /* served ns of the last clock update */
	double offset;	     /* s: combined offset at the last clock update */
	double ms_offset;    /* s^2: running mean square of it */
	double sys_jitter;   /* s */
	/* the error bound at the last evaluation with survivors, grown since at bound_rate */
	int have_bound;
	int64_t bound_r;   /* raw ns */
	double bound_rate; /* s/s: PHI + skew + |slew| (core_rebase) */
	double root_delay, root_disp;
	int stratum, leap;
	uint32_t refid;
	/* a step one source measured, until every other source spoke since (core.c) */
	int watch;	  /* 1 while open */
	int64_t watch_r;  /* raw ns: the request that measured the first step */
	double watch_by;  /* s: the largest step measured while open */
	int contradicted; /* a newer sample contradicts the held-over bound: LI 3 until an update */
	int step_detected; /* steps measured by sources, all told */
	/* the leap second (core_leap.c): the one the sources announce, and what applies it */
	int leap_dir;	     /* +1 an insertion planned, -1 a deletion, 0 none */
	int64_t leap_m;	     /* s: the UTC midnight it ends at (leap_dir != 0) */
	int64_t leap_done_m; /* s: the midnight of the last leap applied, 0 none */
	int64_t leap_done_r; /* raw ns where it was applied */
	int leap_li;	     /* the LI announced now (NTP_LEAP_*) */
	int leap_armed;	   /* the leap armed in the driver's clock, whoever armed it (+1, -1, 0) */
	int drv_leaps;	   /* the driver's leaps() when last seen */
	int64_t leap_next; /* served ns of what comes next about it (the edge), INT64_MAX none */
	/* the leap table (`leapfile`, `leapsectz`): within its expiry the authority on leaps */
	int have_ltab;		 /* 1: a table was given */
	int leap_auth;		 /* 1: the table decided at the last update (not expired) */
	struct ntp_leaptab ltab; /* its copy */
	int leap_done_dir;	 /* direction of the last leap applied */
	/* the smear (leapsecmode smear) of the leap planned or just applied */
	int smear_set;		  /* 1: smear below is the one in force (until its end) */
	int64_t smear_m;	  /* s: the midnight of its leap */
	int64_t ls_served;	  /* served ns (UTC) at the last core_leap_update */
	struct clk_smear smear;	  /* in leap-free ns */
	int64_t smear_vs_utc;	  /* ns: served minus UTC at the last update */
	int smearing;		  /* 1: inside the window at the last update */
	struct clk_snapshot prev; /* the snapshot last built (smear mode: monotonic) */
	int have_prev;
	/* the state last published */
	int synced;
	int local; /* serving the local reference */
	/* the local reference */
	int local_id;	     /* its source, -1 none */
	int n_measuring;     /* sources that measure (all but the local reference) */
	int64_t local_ref_r; /* raw ns: the last moment it vouched for the clock, or the start */
	int local_leap;	     /* the leap served from it */
};

/*
 * Fractional: the bound on the frequency error of our correction. A core
 * that measures nothing corrects nothing, so it adds none of its own:
 * the local reference alone then grows at PHI, as RFC 5905 says a
 * free-running clock's error bound must.
 */
static inline double core_skew(const struct clk_core *c)
{
	return c->n_measuring ? c->skew : 0.0;
}

/* Root dispersion (s) at raw time R: the last bound grown at bound_rate (CORE_MAXDISP if none). */
static inline double core_root_disp_at(const struct clk_core *c, int64_t r)
{
	if (!c->have_bound)
		return CORE_MAXDISP;
	return c->root_disp + c->bound_rate * fmax(0.0, clk_dsec(r, c->bound_r));
}

/* Leap seconds (core_leap.c). */

/* Before anything reads the raw time at driver time NOW: account a leap second the driver
 * applied itself since the last look. */
void core_leap_seen(struct clk_core *c);

/* At raw time R, after the selection: decide the leap second from the sources' VOTE, apply
 * it ourselves when its edge passed and nobody did; the LI to announce goes to leap_li. */
void core_leap_update(struct clk_core *c, int64_t r, int vote);

/* 1 when driver times T1..T4 of an exchange lie too close to a leap second's edge to be
 * placed on either side of it. */
int core_leap_near(const struct clk_core *c, int64_t t1, int64_t t4);

/* Driver time of the next leap event (its edge, the smear's start or end), INT64_MAX none. */
int64_t core_leap_next(const struct clk_core *c);

/* The LI to tell the driver (the kernel's STA_INS/STA_DEL) for served LI: only in system mode. */
int core_leap_arm_li(const struct clk_core *c, int li);

/* Smear mode: turn snapshot OUT (UTC, at driver time NOW) into the smeared time scale. */
void core_leap_smear(struct clk_core *c, struct clk_snapshot *out);

#endif
