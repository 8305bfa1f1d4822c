/*
 * rcread: read a reference clock through horod's readers
 * (daemon/refclock/) and print each sample, one line each:
 *     KIND local_ns ref_ns offset_ns leap precision flags
 * with offset = ref - local. For the system tests (gpsd writing SHM and
 * SOCK, tests/tools/rcwrite injecting known offsets) before the clock
 * core uses the readers. Bounded: stops after COUNT samples or TIMEOUT s.
 *
 * usage: rcread shm KEY|sock PATH|phc DEV|pps DEV [COUNT [TIMEOUT [MAXAGE]]]
 *        KEY is a number (0x4e545030 is ntpd's unit 0); COUNT default 5,
 *        TIMEOUT default 10 s, MAXAGE (s) default 4. Exit 0 when COUNT
 *        samples came, 1 when fewer did, 2 on a usage or open error. The
 *        drop counters go to stderr at the end; with RCREAD_REMOVE=1 an SHM
 *        segment rcread created is removed at exit, a SOCK file always is.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/refclock/rc_phc.h"
#include "daemon/refclock/rc_pps.h"
#include "daemon/refclock/rc_shm.h"
#include "daemon/refclock/rc_sock.h"

#define POLL_MS 100 /* ms: how often a polled reader (SHM, PHC, PPS) is read */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ns_from_timespec(&ts);
}

int main(int argc, char **argv)
{
	struct rc_reader *r = NULL;
	char why[256];
	int count = argc > 3 ? atoi(argv[3]) : 5;
	double timeout = argc > 4 ? atof(argv[4]) : 10;
	int64_t max_age = (int64_t)((argc > 5 ? atof(argv[5]) : 4) * NS_PER_SEC), end;
	int got = 0, i, is_shm = 0;

	if (argc < 3 || count < 1 || timeout <= 0) {
		fprintf(stderr, "usage: rcread shm KEY|sock PATH|phc DEV|pps DEV [COUNT [TIMEOUT "
				"[MAXAGE]]]\n");
		return 2;
	}
	if (!strcmp(argv[1], "shm")) {
		r = rc_shm_open((int)strtol(argv[2], NULL, 0), RC_SHM_PERM_DEF, max_age, why,
				sizeof(why));
		is_shm = 1;
	} else if (!strcmp(argv[1], "sock")) {
		r = rc_sock_open(argv[2], 0600, max_age, why, sizeof(why));
	} else if (!strcmp(argv[1], "phc")) {
		r = rc_phc_open(argv[2], NULL, why, sizeof(why));
	} else if (!strcmp(argv[1], "pps")) {
		r = rc_pps_open(argv[2], 0, NULL, why, sizeof(why));
	} else {
		snprintf(why, sizeof(why), "unknown kind %s", argv[1]);
	}
	if (!r) {
		fprintf(stderr, "rcread: %s\n", why);
		return 2;
	}
	fprintf(stderr, "rcread: reading %s\n", r->name);
	setvbuf(stdout, NULL, _IOLBF, 0);
	end = now_ns() + (int64_t)(timeout * NS_PER_SEC);
	while (got < count && now_ns() < end) {
		struct rc_sample s[16];
		int n;

		if (r->fd >= 0) {
			struct pollfd p = {.fd = r->fd, .events = POLLIN};

			poll(&p, 1, POLL_MS);
		} else {
			struct timespec d = {0, POLL_MS * 1000000L};

			nanosleep(&d, NULL);
		}
		n = rc_read(r, now_ns(), s, 16);
		if (n < 0) {
			fprintf(stderr, "rcread: %s: read: %s\n", r->name, strerror(-n));
			break;
		}
		for (i = 0; i < n && got < count; i++, got++)
			printf("%s %lld %lld %lld %d %d %u\n", r->ops->kind,
			       (long long)s[i].local_ns, (long long)s[i].ref_ns,
			       (long long)(s[i].ref_ns - s[i].local_ns), s[i].leap, s[i].precision,
			       s[i].flags);
	}
	fprintf(stderr, "rcread: %d samples", got);
	for (i = 0; i < RC_DROP_N; i++)
		fprintf(stderr, " %s=%llu", rc_drop_names[i], (unsigned long long)r->drops[i]);
	fprintf(stderr, "\n");
	if (is_shm && getenv("RCREAD_REMOVE") && !strcmp(getenv("RCREAD_REMOVE"), "1"))
		rc_shm_remove_created(r);
	rc_close(r);
	return got == count ? 0 : 1;
}
