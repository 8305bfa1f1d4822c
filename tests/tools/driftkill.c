/*
 * driftkill: writes the driftfile in a tight loop through
 * clk_driftfile_write(), so that a test can SIGKILL it at a random moment
 * and check that the file left behind still parses. Each write is one
 * step of a sequence whose frequency and skew are tied together, so the
 * checker also sees that the line it reads is one whole write, not a mix
 * of two. Bounded: at most ITER writes (default 100000) and 10 s. With
 * --ready it prints "ready" on standard output once its first write is
 * whole, so that a test can time its kill from there rather than from the
 * process start, whose length depends on the machine's load (and triples
 * under the sanitizers).
 *
 *   driftkill [--ready] PATH [ITER]   write until killed or done; exit 0, or 1 on an error
 *   driftkill --check PATH            exit 0 if PATH reads back as one written step
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock/driftfile.h"

/* Steps in the sequence: the frequency runs over -200..+200 ppm in 0.001 ppm steps. */
#define DK_STEPS 400000L
/* Writes per run unless ITER says otherwise. */
#define DK_DEFAULT_ITER 100000L
/* s: a run ends by itself after this, killed or not */
#define DK_MAX_SECONDS 10

/* Frequency (ppm) of step I. */
static double dk_freq(long i)
{
	return (double)(i - DK_STEPS / 2) * 0.001;
}

/* Skew (ppm) of step I: a function of I, so a frequency fixes its skew. */
static double dk_skew(long i)
{
	return (double)(i % 1000) * 0.1;
}

static int dk_check(const char *path)
{
	char why[256];
	double f, s;
	long i;

	if (clk_driftfile_read(path, &f, &s, why, sizeof(why)) < 0) {
		fprintf(stderr, "driftkill: %s: %s\n", path, why);
		return 1;
	}
	/* Back from the frequency to its step; the skew must match it. */
	i = (long)(f * 1000.0 + (f < 0 ? -0.5 : 0.5)) + DK_STEPS / 2;
	if (i < 0 || i >= DK_STEPS || dk_skew(i) - s > 1e-6 || s - dk_skew(i) > 1e-6) {
		fprintf(stderr, "driftkill: %s: %.6f %.6f is not a step the writer makes\n", path,
			f, s);
		return 1;
	}
	printf("%.6f %.6f\n", f, s);
	return 0;
}

int main(int argc, char **argv)
{
	char why[256];
	long iter = DK_DEFAULT_ITER, n, i;
	int ready = 0;
	time_t end;

	if (argc == 3 && !strcmp(argv[1], "--check"))
		return dk_check(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "--ready")) {
		ready = 1;
		argc--;
		argv++;
	}
	if (argc < 2 || argc > 3 || argv[1][0] == '-') {
		fprintf(stderr,
			"usage: driftkill [--ready] PATH [ITER] | driftkill --check PATH\n");
		return 2;
	}
	if (argc == 3) {
		iter = strtol(argv[2], NULL, 10);
		if (iter < 1 || iter > 100000000L) {
			fprintf(stderr, "driftkill: ITER must be 1..100000000\n");
			return 2;
		}
	}
	/* Start somewhere else each run, so successive runs write new values. */
	i = (long)(((unsigned long)getpid() * 7919UL + (unsigned long)time(NULL)) % DK_STEPS);
	end = time(NULL) + DK_MAX_SECONDS;
	for (n = 0; n < iter && time(NULL) < end; n++) {
		if (clk_driftfile_write(argv[1], dk_freq(i), dk_skew(i), why, sizeof(why)) < 0) {
			fprintf(stderr, "driftkill: %s: %s\n", argv[1], why);
			return 1;
		}
		if (ready && n == 0) {
			printf("ready\n");
			fflush(stdout);
		}
		i = (i + 1) % DK_STEPS;
	}
	return 0;
}
