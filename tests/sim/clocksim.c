/*
 * The clock simulator: the real clock core (clock/core.c) and the real sim
 * driver (clock/drv_sim.c) in simulated time, against simulated upstream
 * servers over a simulated network, with no real clock and no sockets.
 * Time is an int64 of nanoseconds that jumps from event to event (a
 * reply's arrival, a poll, the once-a-second update), so hours of
 * simulated time take a fraction of a CPU second and every run is a pure
 * function of its seed. Servers answer with the truth plus their lie;
 * the network adds a base delay and exponentially distributed queueing
 * to each direction, a fixed asymmetry and random loss; replies travel as
 * real NTP headers with timestamps from proto's ntp_ts_* functions.
 *
 * Each scenario runs over N seeds and is checked against its limits:
 * time to synchronize (the error stays within the scenario's level from
 * then on, as chrony's simulation tests count it), max and RMS of the
 * served time's true error after that (and the max over the second half
 * of the run, the steady state), steps, honesty of the advertised
 * error bound at every sample (each second before and after the update,
 * and after every sample),
 * falsetickers never selected, holdover and local fallback, driftfile
 * restore, the 2036 era rollover. One line per scenario shows the median
 * and worst over seeds next to the limits; the exit status is 0 when every
 * scenario passed.
 *
 * This file holds the command line and the worker processes that run the
 * seeds; the network is in sim_net.c, a run in sim_run.c, the scenarios
 * and their checks in sim_scenarios.c (see clocksim.h).
 *
 * usage: clocksim [--seeds N] [--scenario NAME] [--jobs N] [--trace SEED] [--list] [--verbose]
 *   --trace SEED  run one seed and print the state every 10 s (for debugging)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/sim/clocksim.h"

#define MAX_JOBS 16 /* worker processes at most */

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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seeds", required_argument, NULL, 's'},
		{"scenario", required_argument, NULL, 'n'},
		{"jobs", required_argument, NULL, 'j'},
		{"trace", required_argument, NULL, 't'},
		{"list", no_argument, NULL, 'l'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	const char *only = NULL;
	int nseeds = 20, verbose = 0, jobs = 2, trace_seed = 0, i, o, failed = 0, ran = 0;
	struct result *res;

	sim_make_scenarios(); /* before --list reads the table */
	while ((o = getopt_long(argc, argv, "s:n:j:t:lv", opts, NULL)) != -1) {
		switch (o) {
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
			for (i = 0; i < N_SCENARIOS; i++)
				printf("%-14s %s\n", sim_scenarios[i].name, sim_scenarios[i].what);
			return 0;
		default:
			fprintf(stderr, "usage: clocksim [--seeds N] [--scenario NAME] [--jobs N] "
					"[--trace SEED] [--list] [--verbose]\n");
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
	for (i = 0; i < N_SCENARIOS; i++) {
		if (only && strcmp(only, sim_scenarios[i].name))
			continue;
		ran++;
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
