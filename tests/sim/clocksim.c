/*
 * The clock simulator: the real clock core (clock/core.c) and the real sim
 * driver (clock/drv_sim.c) in simulated time, against simulated upstream
 * servers over a simulated network, with no real clock and no sockets,
 * driven the way the daemon's clock thread drives them (sim_run.c). Time
 * is an int64 of nanoseconds that jumps from event to event (a reply's
 * arrival, a poll, a publication), so hours of simulated time take a
 * fraction of a CPU second and every run is a pure function of its seed.
 * Servers answer with UTC plus their own errors (a lie, a stratum 2's
 * wobble within the root distance it advertises, a step, noise) and
 * announce and apply leap seconds; the network adds a base delay and
 * exponentially distributed queueing to each direction, a fixed asymmetry
 * and random loss; replies travel as real NTP headers with timestamps
 * from proto's ntp_ts_* functions. Events act from outside: our clock
 * jumps, the clock thread stalls, the driver refuses set_status.
 *
 * Each scenario runs over N seeds and is checked against its limits
 * (sim_check.c): the sync time, max and RMS over fixed windows ("never
 * synchronized" fails), the time to resynchronize after a jump, steps,
 * the honesty of the advertised error bound at every observation (each
 * second before and after the publication, and after every sample; the
 * window between our clock's jump and the first sample after it counted
 * apart), falsetickers never selected, holdover and local fallback,
 * driftfile restore, the 2036 era rollover. One line per scenario shows
 * the median and worst over seeds next to the limits; the exit status is
 * 0 when every scenario passed, 1 when one failed, 2 on a usage error.
 * tests/README.md says what each scenario proves.
 *
 * This file holds the command line and the worker processes that run the
 * seeds; the network is in sim_net.c, a run in sim_run.c, the checks in
 * sim_check.c, the scenarios in sim_scenarios.c (see clocksim.h).
 *
 * usage: clocksim [--seeds N] [--scenario NAME[,NAME...]] [--jobs N] [--trace SEED]
 *                 [--trace-all] [--first-fail] [--jump-at S] [--list] [--verbose]
 *                 [--mutant K]
 *   --trace SEED  run one seed and print the state every 10 observations (debugging);
 *                 with --trace-all every observation and each source, and every
 *                 uncovered claim as it happens
 *   --first-fail  stop after the first scenario that fails
 *   --jump-at S   our clock jumps at S seconds in every seed of the jump scenarios, instead
 *                 of anywhere in a maxpoll after their jump_at (issue 20's table: 5000.5)
 *   --mutant K    (build/clocksim-mutants only) leave term K of the bound out
 *                 (enum clk_mutant, clock/core.h): the mutation check
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/sim/clocksim.h"

#define MAX_JOBS 16 /* worker processes at most */

/* 1 when NAME is one of the comma-separated names in LIST (NULL: every name). */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (!list)
		return 1;
	for (p = list; *p; p++) {
		if ((p == list || p[-1] == ',') && !strncmp(p, name, n) &&
		    (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* Run seeds [FROM, TO) of SC into RES (in worker processes when JOBS > 1). */
static void run_seeds(const struct scenario *sc, int nseeds, int jobs, struct result *res)
{
	int j, fds[MAX_JOBS][2];
	pid_t pids[MAX_JOBS];

	if (jobs <= 1) {
		for (j = 0; j < nseeds; j++)
			sim_run_scenario(sc, (uint64_t)j + 1, &res[j], NULL);
		return;
	}
	for (j = 0; j < jobs; j++) {
		if (pipe(fds[j]) < 0 || (pids[j] = fork()) < 0) {
			perror("clocksim");
			exit(2);
		}
		if (pids[j] == 0) {
			int k;

			close(fds[j][0]);
			for (k = j; k < nseeds; k += jobs) {
				sim_run_scenario(sc, (uint64_t)k + 1, &res[k], NULL);
				if (write(fds[j][1], &res[k], sizeof(res[k])) != sizeof(res[k]))
					_exit(2);
			}
			_exit(0);
		}
		close(fds[j][1]);
	}
	for (j = 0; j < jobs; j++) {
		int k, st;

		for (k = j; k < nseeds; k += jobs) {
			if (read(fds[j][0], &res[k], sizeof(res[k])) != sizeof(res[k])) {
				fprintf(stderr, "clocksim: worker %d died\n", j);
				exit(2);
			}
		}
		close(fds[j][0]);
		waitpid(pids[j], &st, 0);
	}
}

/* The core's log lines (a step seen, whose it was): not for the table. */
static void quiet(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seeds", required_argument, NULL, 's'},
		{"scenario", required_argument, NULL, 'n'},
		{"jobs", required_argument, NULL, 'j'},
		{"trace", required_argument, NULL, 't'},
		{"list", no_argument, NULL, 'l'},
		{"verbose", no_argument, NULL, 'v'},
		{"mutant", required_argument, NULL, 'm'},
		{"trace-all", no_argument, NULL, 'a'},
		{"first-fail", no_argument, NULL, 'f'},
		{"jump-at", required_argument, NULL, 'J'},
		{NULL, 0, NULL, 0},
	};
	const char *only = NULL;
	int nseeds = 20, verbose = 0, jobs = 2, trace_seed = 0, i, o, failed = 0, ran = 0;
	int first_fail = 0;
	struct result *res;

	sim_make_scenarios(); /* before --list reads the table */
	clk_set_log(quiet);
	while ((o = getopt_long(argc, argv, "s:n:j:t:lvm:afJ:", opts, NULL)) != -1) {
		switch (o) {
		case 'J':
			sim_jump_at = atof(optarg);
			if (!(sim_jump_at > 0.0)) {
				fprintf(stderr, "clocksim: --jump-at takes seconds > 0\n");
				return 2;
			}
			break;
		case 'a':
			sim_trace_all = 1;
			break;
		case 'f':
			first_fail = 1;
			break;
		case 'm':
#ifdef CLK_MUTANTS
			clk_mutant = atoi(optarg);
			if (clk_mutant < 0 || clk_mutant >= CLK_MUT_COUNT) {
				fprintf(stderr, "clocksim: --mutant 0..%d\n", CLK_MUT_COUNT - 1);
				return 2;
			}
			break;
#else
			fprintf(stderr, "clocksim: --mutant needs the mutant build "
					"(build/clocksim-mutants)\n");
			return 2;
#endif
		case 's':
			nseeds = atoi(optarg);
			break;
		case 'n':
			only = optarg;
			break;
		case 'j':
			jobs = atoi(optarg);
			break;
		case 't':
			trace_seed = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'l':
			for (i = 0; i < sim_n_scenarios; i++)
				printf("%-20s %s\n", sim_scenarios[i].name, sim_scenarios[i].what);
			return 0;
		default:
			fprintf(stderr, "usage: clocksim [--seeds N] [--scenario NAME[,NAME...]] "
					"[--jobs N] [--trace SEED] [--trace-all] [--first-fail] "
					"[--jump-at S] [--list] [--verbose] [--mutant K]\n");
			return 2;
		}
	}
	if (nseeds < 1 || jobs < 1 || jobs > MAX_JOBS) {
		fprintf(stderr, "clocksim: --seeds >= 1, --jobs 1..%d\n", MAX_JOBS);
		return 2;
	}
	res = calloc((size_t)nseeds, sizeof(*res));
	if (!res)
		return 2;
	for (i = 0; i < sim_n_scenarios && !(first_fail && failed); i++) {
		if (!listed(only, sim_scenarios[i].name))
			continue;
		ran++;
		fflush(stdout); /* the workers must not inherit buffered lines */
		if (trace_seed) {
			sim_run_scenario(&sim_scenarios[i], (uint64_t)trace_seed, &res[0], stdout);
			failed += !sim_report(&sim_scenarios[i], res, 1, verbose);
			continue;
		}
		run_seeds(&sim_scenarios[i], nseeds, jobs, res);
		failed += !sim_report(&sim_scenarios[i], res, nseeds, verbose);
	}
	free(res);
	if (!ran) {
		fprintf(stderr, "clocksim: no scenario named '%s' (--list)\n", only ? only : "");
		return 2;
	}
	printf("clocksim: %d of %d scenarios passed\n", ran - failed, ran);
	return failed ? 1 : 0;
}
