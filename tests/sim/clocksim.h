/*
 * Private header of the clock simulator (tests/sim/): a scenario (network,
 * servers, our oscillator, the core's settings, the events of the run and
 * the limits to check), one run's measurements, and the simulation's
 * state shared by the files that make it up: clocksim.c (command line and
 * worker processes), sim_net.c (the simulated network and upstream
 * servers), sim_run.c (the clock core driven in simulated time, on the
 * daemon's schedule, observed against the truth), sim_check.c (what one
 * run measured, and the verdict over seeds) and sim_scenarios.c (the
 * scenario table). Replies reach the core through the daemon's NTP
 * adapter (up_hand_reply, daemon/clockd/upstream.h), the path horod's own
 * upstream replies take, with T1 and T4 read as the daemon reads them:
 * system time through the driver's mapping.
 *
 * Scales. The simulation's truth is a continuous count of real
 * nanoseconds, and it is also the system clock (what the sim driver maps
 * from, as in the daemon with `driver sim`). UTC is the truth less the
 * leap seconds inserted so far (plus those deleted): what the servers
 * keep, and what the served time is checked against.
 */
#ifndef HOROD_TESTS_SIM_CLOCKSIM_H
#define HOROD_TESTS_SIM_CLOCKSIM_H

#include <stdint.h>
#include <stdio.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "clock/snapshot.h"
#include "proto/ntp.h"

#define NS	      1000000000LL /* ns per second */
#define MAX_SERVERS   8		   /* servers a scenario may have */
#define MAX_SCENARIOS 64	   /* scenarios sim_scenarios.c's table may hold */

/*
 * One upstream server. Its clock is UTC plus its error: a constant LIE, a
 * slow wobble of amplitude WOBBLE (a stratum 2 following its stratum 1
 * through a network), and, from STEP_AT on, STEP_BY more (its time scale
 * stepped). An honest server's advertised root delay / 2 + root
 * dispersion covers its error; a liar's does not.
 */
struct sim_server {
	double lie;		/* s: constant error */
	int stratum;		/* advertised; 0 means 1 */
	double root_delay;	/* s: advertised */
	double root_disp;	/* s: advertised; 0 means a stratum 1's 10 us */
	double wobble;		/* s: amplitude of its slowly varying error */
	double wobble_period;	/* s: its period */
	double noise;		/* s: standard deviation of each of its timestamps' own error */
	double step_at;		/* s since the start: its time scale steps (0 never) ... */
	double step_by;		/* s: ... by this much */
	double root_disp_after; /* s: what it advertises from the step on (0: as before) */
	int no_leap;		/* it ignores the leap second (neither announces nor applies it) */
};

struct scenario {
	const char *name;
	const char *what;
	/* network, s */
	double delay, jitter, asym, loss;
	/* our clock */
	double offset;	 /* s */
	double freq_ppm; /* oscillator error */
	double wander;	 /* fractional frequency random walk per sqrt(s) (chrony's sims' unit) */
	/* servers */
	int nservers;
	struct sim_server srv[MAX_SERVERS];
	int minpoll, maxpoll;
	/* core */
	int discipline;
	double makestep;
	int makestep_limit;
	double holdover;
	int local_stratum;
	/* run */
	double duration; /* s */
	double cut_at;	 /* s: every server goes silent from then on; 0 = never */
	long long start; /* s since 1970 (UTC) */
	int restart;	 /* run twice: the second core starts from the first one's drift */
	/* events */
	double jump_at;	    /* s: our clock steps behind the core's back (0 never) ... */
	double jump_spread; /* s: ... or up to this much later (drawn per seed) ... */
	double jump_by;	    /* s: ... by this much (date -s, a VM resume) */
	double stall_at;    /* s: the clock thread stops (0 never): no sample, poll or update ... */
	double stall_for;   /* s: ... for this long, while the workers serve the last snapshot */
	int leap;	    /* +1 a leap second inserted, -1 deleted ... */
	long long leap_end; /* ... at this UTC midnight (s since 1970: the end of a June or a
			       December, maybe after the run) */
	int leap_mode;	    /* enum clk_leapmode: what applies it (0: system, the clock driver) */
	long long smear_s;  /* s: `leapsmear interval` under CLK_LEAPMODE_SMEAR (0: default) */
	int leap_quiet;	    /* the servers apply the leap but never announce it */
	int leap_table;	    /* the core has a valid leap table listing the leap (a leapfile) */
	double leap_announce; /* s: servers announce it this long before (0: its last day) */
	int status_fail;      /* the driver refuses set_status (the kernel status is not ours) */
	int leap_other;	      /* another program owns the clock and arms the leap in it */
	/* limits; a limit <= 0 is not checked */
	double sync_level;   /* s: |error| that counts as synchronized */
	double sync_limit;   /* s: time to get there for good (never: a failure) */
	double win_from;     /* s: max and RMS measured over [win_from, win_to) ... */
	double win_to;	     /* ... (0: to the jump, the cut or the end) */
	double max_limit;    /* s: max |error| over the window */
	double rms_limit;    /* s: RMS error over the window */
	double resync_limit; /* s: after our clock's jump, from the first sample after it until
				the error stays within sync_level (never: a failure) */
	int steps_expect;    /* exact number of steps, -1 any */
	int liars_never;     /* servers with a lie must never be '*' or '+' */
	int liars_x;	     /* ... and be marked 'x' at the end */
	int never_synced;    /* must never claim synchronization */
	double drift_limit;  /* ppm: frequency error at the restarted core's first update */
	double slew_min_ppm; /* ppm: slowest average slew of a large offset */
};

/* One run's measurements. */
struct result {
	double sync;	 /* s, -1 never */
	double max, rms; /* s, over the scenario's window */
	double late_max; /* s: max over the second half of the time before the cut */
	double resync;	/* s from the first sample after our jump to synchronized for good, -1 never
			 */
	double jump_el; /* s since the start: when our clock jumped */
	double first_after; /* s from our jump to the first sample after it */
	int steps;
	/* honesty: the advertised root delay / 2 + root dispersion against the true error,
	 * at every sample where synchronization is claimed */
	long samples;	    /* observations */
	long claims;	    /* ... that claimed synchronization */
	long honest_bad;    /* ... where the bound did not cover the error, outside the windows */
	double worst_ratio; /* largest error / bound seen outside the windows */
	long step_obs;	    /* claims between our jump and the first sample after it ... */
	long step_bad;	    /* ... and those the bound did not cover */
	double step_ratio;  /* ... their largest error / bound */
	long edge_obs;	    /* claims between our clock's leap and UTC's (the clock's own error) */
	long edge_bad;
	double bad_first, bad_last; /* s: first and last uncovered claim, windows included */
	double worst_any;	    /* largest error / bound, windows included */
	int liar_picked;
	int liar_not_x; /* at the end, a liar was not marked 'x' */
	int ever_synced;
	/* holdover */
	double growth_min; /* s/s: smallest growth of the advertised dispersion after the cut */
	int li3_after;	   /* LI 3 (or local) held after the holdover */
	int local_ok;	   /* the local fallback served its stratum when configured */
	double drift_err;  /* ppm */
	double final_err;  /* s */
	int final_synced;  /* claimed synchronization at the end */
	int leaps_applied; /* net leap seconds the driver applied itself */
	long li_bad;	   /* claims whose LI was not the leap's (its last day, never smeared) */
	long back;	   /* smear: observations where the served time went backwards */
	double smear_err;  /* s: smear, largest |served - smeared truth| seen (windows included) */
};

/* A server's reply on its way to us. */
struct flight {
	int pending;
	int64_t sent;	/* truth ns of the request */
	int64_t arrive; /* truth ns: the kernel's receive stamp (system time) */
	int64_t t1;	/* driver ns, as the daemon read it */
	struct ntp_packet pkt;
};

/* One run's state: the truth, the noise, the driver and core under test. */
struct sim {
	const struct scenario *sc;
	int64_t t;  /* truth ns since 1970 */
	int64_t t0; /* truth at start */
	uint64_t rng;
	struct clk_driver *drv;
	struct clk_core *core;
	struct flight fl[MAX_SERVERS];
	uint64_t last_xmt[MAX_SERVERS]; /* the adapter's duplicate detection, per server */
	double phase[MAX_SERVERS];	/* rad: each server's wobble phase, drawn per seed */
	int64_t leap_ns;		/* truth ns at which UTC leaps (0: no leap) */
	int leap_dir;			/* +1 insertion, -1 deletion */
	struct clk_smear smear;		/* the smear formula on truth (leap-free) ns (smear mode) */
	int64_t last_served;		/* served ns at the last observation (0: none yet) */
	int64_t jump_at;		/* truth ns our clock jumps at (drawn per seed) */
	int64_t jump_t;			/* truth ns of our jump, 0 before it */
	int jump_open;			/* no sample taken after the jump yet */
	struct clk_snapshot snap;
	FILE *trace;
};

/* 1: --trace prints every observation and each source's state, not one in ten (debugging). */
extern int sim_trace_all;
/* s since the start: --jump-at, where our clock jumps in every seed (< 0: the scenario's draw) */
extern double sim_jump_at;

/* The scenario table, filled by sim_make_scenarios(), and its length. */
extern struct scenario sim_scenarios[MAX_SCENARIOS];
extern int sim_n_scenarios;

/* Seconds S as nanoseconds, rounded to the nearest. */
int64_t sim_ns_of(double s);
/* What the served time should be now (ns): UTC, or the smeared time under the smear. */
int64_t sim_ref(const struct sim *s);
/* UTC (ns) at truth T: the truth less the leap seconds inserted by then. */
int64_t sim_utc(const struct sim *s, int64_t t);
/* Server I's error (s) at truth T. */
double sim_server_error(const struct sim *s, int i, int64_t t);
/* Draw the servers' per-seed state (wobble phases) from the run's random numbers. */
void sim_servers_start(struct sim *s);
/* Uniform in (0, 1] from the run's random numbers. */
double sim_unit(struct sim *s);
/* Send source I's request now (driver time T1); the reply, if any, goes in flight. */
void sim_send_request(struct sim *s, int i, int64_t t1);
/* Run scenario SC with SEED into RES; TRACE, when not NULL, gets the state every 10 s. */
void sim_run_scenario(const struct scenario *sc, uint64_t seed, struct result *res, FILE *trace);
/* Fill sim_scenarios[] and sim_n_scenarios. */
void sim_make_scenarios(void);
/* Print SC's line over N results (and one per seed when VERBOSE); returns 1 if it passed. */
int sim_report(const struct scenario *sc, const struct result *res, int n, int verbose);

#endif
