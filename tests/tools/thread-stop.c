/*
 * thread-stop: stop one thread of a running process for a while and let
 * it go, the others running on: how a test stalls horod's clock thread
 * (its main thread: TID = PID) while its workers keep serving. The
 * thread is seized and interrupted with ptrace (PTRACE_SEIZE,
 * PTRACE_INTERRUPT), which stops only that thread, and detached after
 * SECONDS (at most 60): it then runs on where it was, none the wiser but
 * for the time lost.
 *
 *   thread-stop TID SECONDS
 *
 * Exit 0, 1 when the thread cannot be stopped or released, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

#define MAX_SECONDS 60 /* s: a stop never lasts longer */

int main(int argc, char **argv)
{
	struct timespec d;
	double secs;
	char *end;
	long tid;
	int st;

	if (argc != 3)
		goto usage;
	tid = strtol(argv[1], &end, 10);
	if (*end || tid <= 0)
		goto usage;
	secs = strtod(argv[2], &end);
	if (*end || !(secs >= 0 && secs <= MAX_SECONDS))
		goto usage;
	if (ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, NULL) < 0) {
		fprintf(stderr, "thread-stop: seize %ld: %s\n", tid, strerror(errno));
		return 1;
	}
	if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL) < 0 ||
	    waitpid((pid_t)tid, &st, __WALL) < 0) {
		fprintf(stderr, "thread-stop: interrupt %ld: %s\n", tid, strerror(errno));
		ptrace(PTRACE_DETACH, (pid_t)tid, NULL, NULL);
		return 1;
	}
	printf("thread-stop: %ld stopped for %g s\n", tid, secs);
	fflush(stdout);
	d.tv_sec = (time_t)secs;
	d.tv_nsec = (long)((secs - (double)d.tv_sec) * 1e9);
	while (nanosleep(&d, &d) < 0 && errno == EINTR)
		;
	if (ptrace(PTRACE_DETACH, (pid_t)tid, NULL, NULL) < 0) {
		fprintf(stderr, "thread-stop: detach %ld: %s\n", tid, strerror(errno));
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: thread-stop TID SECONDS (0..%d)\n", MAX_SECONDS);
	return 2;
}
