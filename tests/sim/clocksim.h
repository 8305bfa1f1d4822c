/*
 * Private header of the clock simulator (tests/sim/): a scenario (network,
 * servers, our oscillator, the core's settings and the limits to check),
 * one run's measurements, and the simulation's state shared by the files
 * that make it up: clocksim.c (command line and worker processes),
 * sim_net.c (the simulated network and upstream servers), sim_run.c (the
 * clock core driven in simulated time, observed against the truth) and
 * sim_scenarios.c (the scenario table and the checks of its limits).
 * Replies reach the core through the daemon's NTP adapter
 * (up_hand_reply, daemon/clockd/upstream.h), the path horod's own
 * upstream replies take.
 */
#ifndef HOROD_TESTS_SIM_CLOCKSIM_H
#define HOROD_TESTS_SIM_CLOCKSIM_H

#include <stdint.h>
#include <stdio.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "clock/snapshot.h"
#include "proto/ntp.h"

#define NS	    1000000000LL /* ns per second */
#define MAX_SERVERS 8		 /* servers a scenario may have */
#define N_SCENARIOS 15		 /* scenarios in sim_scenarios.c's table */

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
	double lie[MAX_SERVERS]; /* s: each server's error */
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
	long long start; /* s since 1970 */
	int restart;	 /* run twice: the second core starts from the first one's drift */
	/* limits; a limit <= 0 is not checked */
	double sync_level;   /* s: |error| that counts as synchronized */
	double sync_limit;   /* s: time to get there */
	double max_limit;    /* s: max |error| after sync */
	double rms_limit;    /* s: RMS error after sync */
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
	double max, rms; /* s, after sync */
	double late_max; /* s: max over the second half of the time before the cut */
	int steps;
	long honest_bad;    /* samples where the advertised bound did not cover the error */
	double worst_ratio; /* largest error / bound seen */
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
	long samples;
};

/* A server's reply on its way to us. */
struct flight {
	int pending;
	int64_t arrive; /* truth ns */
	int64_t t1;	/* driver ns */
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
	struct clk_snapshot snap;
	FILE *trace;
};

/* The scenario table, filled by sim_make_scenarios(). */
extern struct scenario sim_scenarios[N_SCENARIOS];

/* Seconds S as nanoseconds, rounded to the nearest. */
int64_t sim_ns_of(double s);
/* Send source I's request now (driver time T1); the reply, if any, goes in flight. */
void sim_send_request(struct sim *s, int i, int64_t t1);
/* Run scenario SC with SEED into RES; TRACE, when not NULL, gets the state every 10 s. */
void sim_run_scenario(const struct scenario *sc, uint64_t seed, struct result *res, FILE *trace);
/* Fill sim_scenarios[]. */
void sim_make_scenarios(void);
/* Print SC's line over N results (and one per seed when VERBOSE); returns 1 if it passed. */
int sim_report(const struct scenario *sc, const struct result *res, int n, int verbose);

#endif
