/*
 * What the clock simulator checks during a run and after it: every
 * observation of the served time against UTC (the advertised bound, with
 * the window between our clock's jump and the first sample after it and
 * the leap edge counted apart; falsetickers; holdover and the local
 * fallback), the once-a-second errors kept for the sync time and for the
 * max and RMS over the scenario's fixed window, and the verdict over all
 * seeds of a scenario. Private to tests/sim/.
 */
#ifndef HOROD_TESTS_SIM_CHECK_H
#define HOROD_TESTS_SIM_CHECK_H

#include "tests/sim/clocksim.h"

/* The served time's error at each once-a-second observation, for the statistics. */
struct sim_acc {
	double *err; /* s */
	double *at;  /* s since the start */
	int *synced;
	long n, cap;
	double cut_disp; /* dispersion at the last sample before the cut (growth check) */
	int64_t cut_disp_t;
};

/* Room for SC's observations in A; 0 or -1. */
int sim_acc_init(struct sim_acc *a, const struct scenario *sc);
/* Free A's arrays. */
void sim_acc_free(struct sim_acc *a);
/* RES before a run: nothing seen yet. */
void sim_result_init(struct result *res);
/* 1 when server I of SC lies beyond the root distance it advertises. */
int sim_is_liar(const struct scenario *sc, int i);
/* Check the snapshot against UTC at this instant; RECORD keeps the error (once a second). */
void sim_observe(struct sim *s, struct result *res, struct sim_acc *a, int record);
/* The sync time, max and RMS over the window, and the resync after a jump, from A. */
void sim_settle(const struct scenario *sc, const struct sim_acc *a, struct result *res);

#endif
