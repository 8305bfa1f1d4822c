/*
 * rcwrite: a reference clock whose truth the test knows. It writes
 * samples into an ntpshm segment (as gpsd does: mode 1, valid cleared,
 * count bumped around the fields) or sends chrony SOCK samples, each
 * saying "the reference is OFFSET seconds ahead of the local clock now",
 * every INTERVAL seconds, COUNT times. For stage B's accuracy check with
 * the sim driver, and for the readers' system test. Bounded by COUNT.
 *
 * usage: rcwrite shm KEY|sock PATH OFFSET [COUNT [INTERVAL [LEAP]]]
 *        OFFSET in s (e.g. 0.000250), COUNT default 5, INTERVAL default
 *        1 s, LEAP 0-3 default 0. Each sample is also printed as
 *        "local_ns ref_ns". An SHM segment must exist (the reader creates
 *        it), as gpsd run as non-root would need; a SOCK path must be bound.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/refclock/rc_shm.h"
#include "daemon/refclock/rc_sock.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ns_from_timespec(&ts);
}

int main(int argc, char **argv)
{
	volatile struct rc_shm_time *seg = NULL;
	double offset, interval;
	int count, leap, fd = -1, i;

	if (argc < 4) {
		fprintf(stderr,
			"usage: rcwrite shm KEY|sock PATH OFFSET [COUNT [INTERVAL [LEAP]]]\n");
		return 2;
	}
	offset = atof(argv[3]);
	count = argc > 4 ? atoi(argv[4]) : 5;
	interval = argc > 5 ? atof(argv[5]) : 1;
	leap = argc > 6 ? atoi(argv[6]) : 0;
	if (count < 1 || interval < 0 || leap < 0 || leap > 3 || fabs(offset) > 1e6) {
		fprintf(stderr, "rcwrite: COUNT >= 1, INTERVAL >= 0, LEAP 0-3, |OFFSET| <= 1e6\n");
		return 2;
	}
	if (!strcmp(argv[1], "shm")) {
		int id = shmget((int)strtol(argv[2], NULL, 0), sizeof(struct rc_shm_time), 0);
		void *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);

		if (p == (void *)-1) {
			fprintf(stderr, "rcwrite: SHM %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		seg = p;
	} else if (!strcmp(argv[1], "sock")) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};

		snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[2]);
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			fprintf(stderr, "rcwrite: SOCK %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
	} else {
		fprintf(stderr, "rcwrite: unknown kind %s\n", argv[1]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < count; i++) {
		int64_t local, ref;

		if (i) {
			struct timespec d = {(time_t)interval,
					     (long)((interval - floor(interval)) * 1e9)};

			nanosleep(&d, NULL);
		}
		local = now_ns();
		ref = local + llround(offset * NS_PER_SEC);
		if (seg) {
			seg->valid = 0;
			seg->count++;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			seg->mode = 1;
			seg->receive_sec = local / NS_PER_SEC;
			seg->receive_usec = (int)(local % NS_PER_SEC / 1000);
			seg->receive_nsec = (unsigned)(local % NS_PER_SEC);
			seg->clock_sec = ref / NS_PER_SEC;
			seg->clock_usec = (int)(ref % NS_PER_SEC / 1000);
			seg->clock_nsec = (unsigned)(ref % NS_PER_SEC);
			seg->leap = leap;
			seg->precision = -20;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			seg->count++;
			seg->valid = 1;
		} else {
			struct rc_sock_sample s;

			memset(&s, 0, sizeof(s));
			local = local / 1000 * 1000; /* a timeval holds microseconds */
			ref = local + llround(offset * NS_PER_SEC);
			s.tv.tv_sec = local / NS_PER_SEC;
			s.tv.tv_usec = local % NS_PER_SEC / 1000;
			s.offset = offset;
			s.leap = leap;
			s.magic = RC_SOCK_MAGIC;
			if (send(fd, &s, sizeof(s), 0) < 0) {
				fprintf(stderr, "rcwrite: send: %s\n", strerror(errno));
				return 1;
			}
		}
		printf("%lld %lld\n", (long long)local, (long long)ref);
	}
	if (seg)
		shmdt((const void *)(uintptr_t)seg);
	if (fd >= 0)
		close(fd);
	return 0;
}
