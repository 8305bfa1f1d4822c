/*
 * rcwrite: a reference clock whose truth the test knows. It writes
 * samples into an ntpshm segment (as gpsd does: mode 1, valid cleared,
 * count bumped around the fields) or sends chrony SOCK samples, each
 * saying "the reference is OFFSET seconds ahead of the local clock now",
 * every INTERVAL seconds, COUNT times. With the sim driver, whose truth
 * is the system clock, that is a reference OFFSET seconds off the truth:
 * horod's `offset -OFFSET` takes it out, and its true error is then what
 * the whole path adds. Bounded by COUNT.
 *
 * usage: rcwrite [-j JITTER] [-s SEED] [-b torn|stale|repeat] [-e EVERY] [-p]
 *                shm KEY|sock PATH OFFSET [COUNT [INTERVAL [LEAP]]]
 *   OFFSET in s (e.g. 0.000250), COUNT default 5, INTERVAL default 1 s,
 *   LEAP 0-3 default 0.
 *   -j JITTER  each sample's reference also off by a uniform error in
 *              +-JITTER s (seeded by -s SEED, default 1): a noisy device
 *   -b KIND    (SHM) every EVERY-th sample (-e, default 3) is preceded by a
 *              bad one carrying 0.5 s of error, left in the segment until
 *              the reader took it (cleared valid), 1 s at most: `torn` a
 *              write left half done (count odd, valid set: left the whole
 *              second), `stale` a whole sample taken 10 s ago, `repeat`
 *              the previous sample written again
 *   -p         (SOCK) pulses, as gpsd sends a PPS edge: the local time of
 *              the last instant (at most a second ago) at which the
 *              reference was on a whole second, flagged a pulse, its
 *              offset that second minus the local time; the reader must
 *              number the second itself (`lock`). INTERVAL must be >= 1 s.
 * Each good sample is printed as "local_ns ref_ns" (the reference before
 * the jitter), each bad one as "# KIND local_ns ref_ns taken|not-taken|held"
 * (whether a reader took it before the next was written). An SHM segment
 * must exist (the reader creates it), as gpsd run as non-root would
 * need; a SOCK path must be bound.
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

#define BAD_ERROR_NS (500 * NS_PER_MS) /* ns: what a bad sample would do to the time if used */
#define STALE_AGE_NS (10 * NS_PER_SEC) /* ns: how old a stale sample's local stamp is */
#define MAX_JITTER   1.0	       /* s: a larger jitter is no reference clock */
#define BAD_HOLD_S                                                                                 \
	1.0		/* s: a bad sample is left this long at most (a reader reads               \
			   every 2^dpoll s: four times over at dpoll -2) */
#define BAD_STEP_S 0.05 /* s: how often the writer looks whether it was read */

enum bad { BAD_NONE, BAD_TORN, BAD_STALE, BAD_REPEAT };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ns_from_timespec(&ts);
}

static void sleep_s(double s)
{
	struct timespec d = {(time_t)s, (long)((s - floor(s)) * 1e9)};

	nanosleep(&d, NULL);
}

/* A uniform deviate in [-1, 1) from the xorshift state *X. */
static double uniform(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (double)(*x >> 11) / 4503599627370496.0 - 1.0;
}

/* Fill the fields of SEG with a sample (LOCAL, REF, LEAP), count and valid untouched. */
static void shm_fields(volatile struct rc_shm_time *seg, int64_t local, int64_t ref, int leap)
{
	seg->mode = 1;
	seg->receive_sec = local / NS_PER_SEC;
	seg->receive_usec = (int)(local % NS_PER_SEC / 1000);
	seg->receive_nsec = (unsigned)(local % NS_PER_SEC);
	seg->clock_sec = ref / NS_PER_SEC;
	seg->clock_usec = (int)(ref % NS_PER_SEC / 1000);
	seg->clock_nsec = (unsigned)(ref % NS_PER_SEC);
	seg->leap = leap;
	seg->precision = -20;
}

/* A whole write as gpsd makes it: valid cleared, count bumped, fields, count bumped, valid. */
static void shm_write(volatile struct rc_shm_time *seg, int64_t local, int64_t ref, int leap)
{
	seg->valid = 0;
	seg->count++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	shm_fields(seg, local, ref, leap);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	seg->count++;
	seg->valid = 1;
}

/* A write left half done: count bumped once (odd), fields, valid set (a writer may). */
static void shm_torn(volatile struct rc_shm_time *seg, int64_t local, int64_t ref, int leap)
{
	if (!(seg->count & 1))
		seg->count++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	shm_fields(seg, local, ref, leap);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	seg->valid = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: rcwrite [-j JITTER] [-s SEED] [-b torn|stale|repeat] [-e EVERY] [-p] "
		"shm KEY|sock PATH OFFSET [COUNT [INTERVAL [LEAP]]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	volatile struct rc_shm_time *seg = NULL;
	double offset, interval, jitter = 0.0;
	uint64_t rng = 1;
	int64_t last_local = 0, last_ref = 0;
	enum bad bad = BAD_NONE;
	int count, leap, fd = -1, i, opt, every = 3, h, pulse = 0;

	while ((opt = getopt(argc, argv, "+j:s:b:e:p")) != -1) {
		if (opt == 'p')
			pulse = 1;
		else if (opt == 'j')
			jitter = atof(optarg);
		else if (opt == 's')
			rng = strtoull(optarg, NULL, 0) | 1;
		else if (opt == 'e')
			every = atoi(optarg);
		else if (opt == 'b' && !strcmp(optarg, "torn"))
			bad = BAD_TORN;
		else if (opt == 'b' && !strcmp(optarg, "stale"))
			bad = BAD_STALE;
		else if (opt == 'b' && !strcmp(optarg, "repeat"))
			bad = BAD_REPEAT;
		else
			return usage();
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 4)
		return usage();
	offset = atof(argv[3]);
	count = argc > 4 ? atoi(argv[4]) : 5;
	interval = argc > 5 ? atof(argv[5]) : 1;
	leap = argc > 6 ? atoi(argv[6]) : 0;
	if (count < 1 || interval < 0 || leap < 0 || leap > 3 || fabs(offset) > 1e6 ||
	    !(jitter >= 0.0 && jitter <= MAX_JITTER) || every < 1) {
		fprintf(stderr, "rcwrite: COUNT >= 1, INTERVAL >= 0, LEAP 0-3, |OFFSET| <= 1e6, "
				"JITTER 0-1, EVERY >= 1\n");
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

		if (bad != BAD_NONE || (pulse && interval < 1.0))
			return usage(); /* bad samples are the SHM protocol's; a pulse a second */
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
	if (pulse && seg)
		return usage(); /* pulses are SOCK's */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < count; i++) {
		int64_t local, ref, noise = llround(uniform(&rng) * jitter * NS_PER_SEC);

		if (i)
			sleep_s(interval);
		if (seg && bad != BAD_NONE && i % every == every - 1 && last_local) {
			/* The bad sample first, for half the interval, then the good one. */
			local = now_ns();
			ref = local + llround(offset * NS_PER_SEC) + BAD_ERROR_NS;
			if (bad == BAD_TORN) {
				shm_torn(seg, local, ref, leap);
			} else if (bad == BAD_STALE) {
				local -= STALE_AGE_NS;
				ref -= STALE_AGE_NS;
				shm_write(seg, local, ref, leap);
			} else {
				local = last_local;
				ref = last_ref;
				shm_write(seg, local, ref, leap);
			}
			/* A reader takes a whole sample by clearing valid: wait for that (bounded),
			 * so a loaded machine's late reader still meets it; a torn one it leaves
			 * valid, and gets BAD_HOLD_S of it. */
			for (h = 0; h < BAD_HOLD_S / BAD_STEP_S && (bad == BAD_TORN || seg->valid);
			     h++)
				sleep_s(BAD_STEP_S);
			printf("# %s %lld %lld %s\n",
			       bad == BAD_TORN	  ? "torn"
			       : bad == BAD_STALE ? "stale"
						  : "repeat",
			       (long long)local, (long long)ref,
			       bad == BAD_TORN ? "held"
			       : seg->valid    ? "not-taken"
					       : "taken");
		}
		local = now_ns();
		ref = local + llround(offset * NS_PER_SEC);
		if (seg) {
			if (bad == BAD_TORN && (seg->count & 1))
				seg->count++; /* the torn write is finished by this one */
			shm_write(seg, local, ref + noise, leap);
		} else {
			struct rc_sock_sample s;
			int64_t whole = 0;

			memset(&s, 0, sizeof(s));
			if (pulse) {
				/* The reference's last whole second (noise and all), and when. */
				int64_t off = llround(offset * NS_PER_SEC) + noise;

				whole = (local + off) / NS_PER_SEC * NS_PER_SEC;
				local = whole - off;
			}
			local = local / 1000 * 1000; /* a timeval holds microseconds */
			ref = local + llround(offset * NS_PER_SEC);
			s.tv.tv_sec = local / NS_PER_SEC;
			s.tv.tv_usec = local % NS_PER_SEC / 1000;
			/* A pulse's offset is its second minus the local time, as gpsd sends it. */
			s.offset = pulse ? (double)(whole - local) / NS_PER_SEC
					 : offset + (double)noise / NS_PER_SEC;
			s.pulse = pulse;
			s.leap = leap;
			s.magic = RC_SOCK_MAGIC;
			if (send(fd, &s, sizeof(s), 0) < 0) {
				fprintf(stderr, "rcwrite: send: %s\n", strerror(errno));
				return 1;
			}
		}
		last_local = local;
		last_ref = ref + noise;
		printf("%lld %lld\n", (long long)local, (long long)ref);
	}
	if (seg)
		shmdt((const void *)(uintptr_t)seg);
	if (fd >= 0)
		close(fd);
	return 0;
}
