/*
 * The clock core: measurements in, one clock snapshot out. Every kind of
 * time source (an NTP server, the local reference, a reference clock)
 * is a source of the core behind one small interface: its driver, on the
 * daemon's side, asks when to poll (clk_core_next_poll), says when it
 * polled (clk_core_poll_sent), and hands over what it measured
 * (clk_core_sample: four timestamps, the source's leap, stratum,
 * precision, refid, root delay and dispersion) or that the measurement
 * failed its own tests (clk_core_reject). The core keeps per-source
 * state (reach register, poll interval, clock filter, the peer tests as
 * flash bits), selects the truechimers by intersection, clusters and
 * combines them, disciplines the driver (frequency and slewed phase;
 * steps only as makestep allows), holds over when every source is lost,
 * and builds the snapshot workers serve from. It never reads time except
 * through its driver and never does I/O (the driftfile is read and
 * written by the caller through driftfile.h), so the same code runs in
 * the daemon and in the simulator.
 *
 * All times are driver time in ns since the Unix epoch (see driver.h).
 */
#ifndef HOROD_CLOCK_CORE_H
#define HOROD_CLOCK_CORE_H

#include <stdint.h>

#include "clock/driver.h"
#include "clock/leapsec.h"
#include "clock/snapshot.h"
#include "proto/flash.h"
#include "proto/leaptab.h"

#define CLK_MAX_SOURCES 64 /* sources a core follows: every server and pool member */

/* Kinds of time source (struct clk_source_cfg.kind). */
enum clk_kind {
	CLK_KIND_NTP,	   /* an NTP server: measured, selected, combined */
	CLK_KIND_LOCAL,	   /* the local reference: the fallback (clk_core_update) */
	CLK_KIND_REFCLOCK, /* a reference clock (PHC, PPS, SHM, SOCK): measured like a server, a
			      zero-delay exchange each poll (daemon/clockd/refsrc.c) */
};

struct clk_core_cfg {
	int discipline;		   /* 1: steer the driver; 0: serve driver time + own correction */
	double makestep_threshold; /* s: offsets above this may be stepped ... */
	int makestep_limit;	   /* ... in the first N clock updates; -1 = always, 0 = never */
	double maxdistance;	   /* s: sources with a larger root distance are rejected (1.5) */
	double holdover;	   /* s after the last update before LI 3; < 0 = until the
				      advertised root distance would pass maxdistance */
	int minsources;		   /* truechimers needed to update the clock (1) */
	int precision;		   /* log2 s of one clock read */
	double init_freq_ppm;	   /* frequency from the driftfile, or 0 */
	double init_skew_ppm;	   /* skew from the driftfile; < 0 = unknown */
	int leapmode;		   /* enum clk_leapmode: who applies a leap second (0: system) */
	int64_t smear_s;	   /* s: `leapsmear interval` (smear mode); 0 = the default */
	/* Called just before the core steps the steered clock at a leap's edge (NULL: none):
	 * the owner stops serving the last snapshot, whose mapping the step makes 1 s wrong
	 * (clockd publishes an unsynchronized one and lets its readers finish). */
	void (*leap_fence)(void *arg);
	void *leap_fence_arg; /* passed to leap_fence */
};

struct clk_source_cfg {
	int kind;	   /* CLK_KIND_* */
	char name[64];	   /* as configured ("192.0.2.1", "pool.example.org#2") */
	uint32_t refid;	   /* our refid while following it (address or MD5 of IPv6) */
	int minpoll;	   /* log2 s, 0..17 */
	int maxpoll;	   /* log2 s, minpoll..17 */
	int iburst;	   /* first polls in a quick burst */
	int prefer;	   /* when a preferred source survives selection, only preferred ones are
			      combined, and one of them is the sys.peer (chrony's prefer) */
	int noselect;	   /* measured and shown, never selected (chrony's noselect) */
	int trust;	   /* trusted sources alone decide the majority; the others count only
			      inside the trusted sources' interval (chrony's trust) */
	int unreach_polls; /* silent polls after which it is unreachable: 1..8, 0 = 8 (the reach
			      register's width) */
	/* CLK_KIND_LOCAL: the stratum served from it (1..15) and the clock's error at its
	 * reference time (s), as `local stratum N dispersion S` says */
	int stratum;
	double dispersion;
};

/*
 * One measurement of a source, whatever its kind. An NTP exchange gives
 * all four timestamps; a reference clock gives a zero-delay exchange,
 * t1 = t4 = our stamp of its event and t2 = t3 = the reference time of
 * that event. Offsets are taken against the core's raw timescale, each
 * end converted on its own, so a measurement straddling our own step is
 * recognized.
 */
struct clk_meas {
	int64_t t1, t4;		      /* driver ns: our transmit and receive */
	int64_t t2, t3;		      /* ns since the Unix epoch on the source's scale: its receive
					 and transmit */
	int leap, stratum, precision; /* the source's (a stratum-0 reference clock makes us
					 stratum 1); precision in log2 s */
	uint32_t refid;		      /* the source's own refid (from its replies) */
	double root_delay, root_disp; /* s: the source's, 0 for a reference clock */
};

/* What `horoctl sources` / ntpq -p show for one source. */
struct clk_source_info {
	int kind; /* CLK_KIND_* */
	char name[64];
	char tally;	/* '*' sys.peer, '+' candidate, '-' outlier, 'x' falseticker,
			   '#' backup, ' ' rejected */
	uint32_t refid; /* the source's own refid (from its replies) */
	int stratum;
	int poll;	      /* log2 s, current */
	uint8_t reach;	      /* shift register, newest poll in bit 0 */
	int64_t last_rx;      /* driver ns of the last valid sample, 0 = never */
	double delay;	      /* s, of the selected filter sample */
	double offset;	      /* s, source - us */
	double jitter;	      /* s */
	double dispersion;    /* s */
	double root_distance; /* s */
	unsigned flash;	      /* CLK_FLASH_* of the last reply (0 = all tests passed) */
	int leap;
	int precision;	   /* log2 s, the server's */
	double root_delay; /* s, the server's, from its last valid reply */
	double root_disp;  /* s, likewise */
};

/* The newest clock filter samples of a source (ntpq's filt* variables), newest first. */
struct clk_source_filter {
	int n;		  /* samples below, at most CLK_FILTER_LEN_PUB */
	double delay[8];  /* s */
	double offset[8]; /* s, on the scale of clk_source_info.offset (the newest sample's) */
	double disp[8];	  /* s, grown to the NOW of the call */
};
#define CLK_FILTER_LEN_PUB 8 /* samples ntpq shows: RFC 5905's filter length */

/* What `horoctl tracking` shows. */
struct clk_tracking {
	uint32_t refid;
	int stratum;
	int leap;
	int synced;
	int64_t ref_ns;	   /* reference time */
	double offset;	   /* s: last combined offset */
	double rms_offset; /* s */
	double freq_ppm;   /* current frequency correction */
	double residual_freq_ppm;
	double skew_ppm;
	double root_delay;	/* s */
	double root_disp;	/* s, now */
	double update_interval; /* s between the last two clock updates */
	int steps;		/* steps taken */
	int updates;		/* clock updates done */
	int sys_peer;		/* source id, -1 none */
	int steering;		/* 1: the core steers the driver (discipline on, and it takes it) */
	int watching;		/* 1: a step one source measured is being watched (core.c) */
	int steps_seen;		/* samples sources took as steps of their or our time scale */
	/* the leap second */
	int leapmode;	     /* enum clk_leapmode */
	int leap_dir;	     /* the leap planned: +1 insertion, -1 deletion, 0 none */
	int64_t leap_m;	     /* Unix s: the midnight it ends at */
	int leap_table;	     /* 1: a leap table is the authority now (valid) */
	int64_t smear_s;     /* s: the smear interval (smear mode) */
	int smearing;	     /* 1: the served time is being smeared now */
	double smear_offset; /* s: served (smeared) time minus UTC, now */
	int64_t smear_start; /* Unix ns (leap-free): the smear of the planned leap starts ... */
	int64_t smear_end;   /* ... and ends; 0 none */
};

struct clk_core;

/* Create a core on driver DRV (not owned); NULL on allocation failure. */
struct clk_core *clk_core_create(const struct clk_core_cfg *cfg, struct clk_driver *drv);

/* Drop any slew in progress (the driver keeps the estimated frequency), free the core. */
void clk_core_destroy(struct clk_core *c);

/* Add a source; returns its id (0..CLK_MAX_SOURCES-1) or -1 when full. */
int clk_core_add_source(struct clk_core *c, const struct clk_source_cfg *cfg);

/* Change the refid of source ID (its address was resolved or changed); resets its filter. */
void clk_core_source_addr(struct clk_core *c, int id, uint32_t refid);

/* Driver time at which source ID should be polled next. */
int64_t clk_core_next_poll(const struct clk_core *c, int id);

/* A request was sent to source ID at NOW: shifts its reach register, schedules the next poll. */
void clk_core_poll_sent(struct clk_core *c, int id, int64_t now);

/*
 * Measurement M of source ID, which passed its driver's own tests: runs
 * the round-trip tests, feeds the clock filter, marks the source
 * reachable.
 */
void clk_core_sample(struct clk_core *c, int id, const struct clk_meas *m);

/* A measurement of source ID failed its driver's own tests FLASH (NTP_FLASH_*, nonzero). */
void clk_core_reject(struct clk_core *c, int id, unsigned flash);

/* Source ID asked at NOW to be polled less often (an NTP RATE kiss): one poll step up. */
void clk_core_slow_down(struct clk_core *c, int id, int64_t now);

/* Source ID refused us (an NTP DENY or RSTR kiss): no more polls until its address changes. */
void clk_core_refused(struct clk_core *c, int id);

/*
 * Select, combine and discipline at NOW (call after samples and once a
 * second), then fill OUT with the snapshot to publish: leap, stratum,
 * refid, reference time, root delay/dispersion and growth, and the
 * mapping sys -> served time (driver mapping composed with our own
 * correction when not disciplining). The local reference (one source of
 * kind CLK_KIND_LOCAL at most) is served only when no other source can
 * be, once the others had their chance to start: with its latest
 * measurement's word when it is the only source, else growing from our
 * own last error bound.
 */
void clk_core_update(struct clk_core *c, int64_t now, struct clk_snapshot *out);

/*
 * Give the core leap table TAB (copied; NULL drops it). Until the table's
 * expiry it is the authority on leap seconds: its next leap is announced
 * and applied even when no source says so, and sources' leap bits it
 * contradicts are ignored; once expired it says nothing and the sources'
 * majority decides again.
 */
void clk_core_set_leaptab(struct clk_core *c, const struct ntp_leaptab *tab);

/* Driver time of the core's next own event (a leap second's edge), when clk_core_update()
 * must run at that instant; INT64_MAX when there is none. */
int64_t clk_core_next_event(const struct clk_core *c);

/* Driver time of the edge of the leap planned, else of the last one applied (where the
 * sources' time steps by a second: a refclock's poll is not to mix samples across it); 1 and
 * *DRV_NS, or 0 when there is none. */
int clk_core_leap_edge(const struct clk_core *c, int64_t *drv_ns);

/* Info on source ID; 0, or -1 if no such source. */
int clk_core_source_info(const struct clk_core *c, int id, struct clk_source_info *out);

/* The filter samples of source ID, dispersions grown to NOW (driver ns); 0, or -1. */
int clk_core_source_filter(const struct clk_core *c, int id, int64_t now,
			   struct clk_source_filter *out);

/* Number of sources added. */
int clk_core_n_sources(const struct clk_core *c);

/* The kind (CLK_KIND_*) of source ID, or -1 if no such source. */
int clk_core_source_kind(const struct clk_core *c, int id);

/* Tracking data at NOW. */
void clk_core_tracking(const struct clk_core *c, int64_t now, struct clk_tracking *out);

/* Steps the core made of its driver's clock (or of its own correction) so far. */
int clk_core_steps(const struct clk_core *c);

/* The core's raw time (the clock as it would run had the core never corrected it: a line
 * against any reference, our slews and steps taken out) of the recent driver time DRV_NS. */
int64_t clk_core_raw(const struct clk_core *c, int64_t drv_ns);

/* Served time of the recent driver time DRV_NS (our own correction applied when not steering). */
int64_t clk_core_served(const struct clk_core *c, int64_t drv_ns);

/* Frequency (ppm) and skew (ppm) to save in the driftfile; returns 1 when known, 0 when not yet. */
int clk_core_drift(const struct clk_core *c, double *freq_ppm, double *skew_ppm);

#ifdef CLK_MUTANTS
/*
 * The mutation check's switch (tests/README.md), compiled only into the
 * simulator's mutant build (-DCLK_MUTANTS, build/clocksim-mutants): the
 * term of the advertised bound that core.c leaves out, to prove that some
 * scenario then fails. Never in horod.
 */
enum clk_mutant {
	CLK_MUT_NONE = 0,
	CLK_MUT_ROOT_DELAY, /* root delay / 2: the upstream's and our sample's */
	CLK_MUT_ROOT_DISP,  /* the upstream's root dispersion */
	CLK_MUT_GROWTH,	    /* a sample's dispersion growth since it was taken (PHI + skew) */
	CLK_MUT_OFFSET,	    /* the served time's offset from the sample */
	CLK_MUT_JITTER,	    /* the system jitter */
	CLK_MUT_HOLDOVER,   /* the bound's growth after the update (PHI + skew) */
	CLK_MUT_SLEW,	    /* the bound's growth at the slew's rate */
	CLK_MUT_WATCH,	    /* the widening by a step being watched */
	CLK_MUT_COUNT,
};
extern int clk_mutant; /* enum clk_mutant in force */
#endif

#endif
