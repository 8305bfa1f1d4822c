/*
 * Tests of the SHM refclock reader (daemon/refclock/rc_shm): the judging
 * of a segment copy (nothing new, bad mode, torn, microsecond and
 * nanosecond fields, stale, repeated, future, bad leap or precision), a
 * real segment written as gpsd writes it (mode 1, count bumped around the
 * fields), and a writer thread racing the reader: no sample whose fields
 * come from two different writes may ever be accepted. Segments use a
 * key of this process's own (0x48520000 + pid) and are removed.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "daemon/refclock/rc_shm.h"

Suite *rc_shm_suite(void);

#define TEST_KEY_BASE 0x48520000	/* "HR\0\0": test keys, away from ntpd's 0x4e54.... */
#define NOW	      1700000000LL	/* s: the judged samples' "now" */
#define AGE	      (4 * NS_PER_SEC)	/* ns: max age in these tests */
#define RACE_NS	      (300 * 1000000LL) /* ns: how long the reader races the writer */
#define OFFSET_S      1000		/* s: reference - local in the race's writes */

static int test_key(void)
{
	return TEST_KEY_BASE + (getpid() & 0xffff);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* A valid mode 1 copy: local NOW - 1 s + 250 us, reference 0.5 s later, ns fields set. */
static struct rc_shm_time good(void)
{
	struct rc_shm_time t;

	memset(&t, 0, sizeof(t));
	t.mode = 1;
	t.valid = 1;
	t.receive_sec = NOW - 1;
	t.receive_usec = 250;
	t.receive_nsec = 250123;
	t.clock_sec = NOW - 1;
	t.clock_usec = 500250;
	t.clock_nsec = 500250456;
	t.precision = -20;
	return t;
}

static int judge(const struct rc_shm_time *t, int c1, int c2, int64_t last, struct rc_sample *s,
		 int *clear)
{
	return rc_shm_judge(t, c1, c2, NOW * NS_PER_SEC, AGE, last, s, clear);
}

START_TEST(test_judge)
{
	struct rc_shm_time t = good();
	struct rc_sample s;
	int clear;

	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), 1);
	ck_assert_int_eq(clear, 1);
	ck_assert_int_eq(s.local_ns, (NOW - 1) * NS_PER_SEC + 250123);
	ck_assert_int_eq(s.ref_ns, (NOW - 1) * NS_PER_SEC + 500250456);
	ck_assert_int_eq(s.precision, -20);

	t.clock_nsec = 7; /* a writer that fills microseconds only: nanoseconds ignored */
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), 1);
	ck_assert_int_eq(s.ref_ns, (NOW - 1) * NS_PER_SEC + 500250000);
	ck_assert_int_eq(s.local_ns, (NOW - 1) * NS_PER_SEC + 250000);

	t = good();
	t.valid = 0;
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), 0);
	t = good();
	ck_assert_msg(judge(&t, 4, 6, INT64_MIN, &s, &clear) == -1 - RC_DROP_TORN && !clear,
		      "a count that moved is a torn read, left valid for the next try");
	ck_assert_msg(judge(&t, 5, 5, INT64_MIN, &s, &clear) == -1 - RC_DROP_TORN,
		      "an odd count in mode 1 is a write under way");
	t.mode = 0;
	ck_assert_int_eq(judge(&t, 4, 5, INT64_MIN, &s, &clear), -1 - RC_DROP_TORN);
	ck_assert_msg(judge(&t, 5, 5, INT64_MIN, &s, &clear) == 1,
		      "mode 0 does not use the count's parity");
	t.mode = 1;
	t.mode = 2;
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), -1 - RC_DROP_FORMAT);
	ck_assert_int_eq(clear, 1);
	t = good();
	t.receive_usec = 1000000;
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), -1 - RC_DROP_FORMAT);
	t = good();
	t.leap = 4;
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), -1 - RC_DROP_FORMAT);
	t = good();
	t.precision = -40;
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), -1 - RC_DROP_FORMAT);
	t = good();
	t.clock_sec = INT64_MAX / 2;
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), -1 - RC_DROP_FORMAT);
	t = good();
	t.receive_sec = NOW - 5;
	ck_assert_msg(judge(&t, 4, 4, INT64_MIN, &s, &clear) == -1 - RC_DROP_STALE && clear,
		      "a sample older than the max age is stale, and consumed");
	t = good();
	ck_assert_int_eq(judge(&t, 4, 4, (NOW - 1) * NS_PER_SEC + 250123, &s, &clear),
			 -1 - RC_DROP_STALE);
	t.receive_sec = NOW + 2;
	ck_assert_int_eq(judge(&t, 4, 4, INT64_MIN, &s, &clear), -1 - RC_DROP_FUTURE);
}
END_TEST

/* Write a sample into SEG as gpsd does (valid off, count+1, fields, count+1, valid on). */
static void gpsd_write(volatile struct rc_shm_time *seg, int64_t local, int64_t ref, int leap)
{
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
}

/* Attach to the segment at KEY as a writer would. */
static volatile struct rc_shm_time *writer_attach(int key)
{
	int id = shmget(key, sizeof(struct rc_shm_time), 0);
	void *p;

	ck_assert_msg(id >= 0, "the reader should have created the segment: %s", strerror(errno));
	p = shmat(id, NULL, 0);
	ck_assert(p != (void *)-1);
	return p;
}

START_TEST(test_segment)
{
	char why[256];
	struct rc_reader *r = rc_shm_open(test_key(), 0600, AGE, why, sizeof(why));
	volatile struct rc_shm_time *w;
	struct rc_sample s[4];
	int64_t now = now_ns();
	struct shmid_ds ds;
	int id;

	ck_assert_msg(r != NULL, "%s", why);
	id = shmget(test_key(), 0, 0);
	ck_assert(id >= 0 && shmctl(id, IPC_STAT, &ds) == 0);
	ck_assert_int_eq(ds.shm_perm.mode & 0777, 0600);
	w = writer_attach(test_key());
	ck_assert_int_eq(rc_read(r, now, s, 4), 0);
	gpsd_write(w, now - 1000, now - 1000 + 123456789, 1);
	ck_assert_int_eq(rc_read(r, now, s, 4), 1);
	ck_assert_int_eq(s[0].local_ns, now - 1000);
	ck_assert_int_eq(s[0].ref_ns, now - 1000 + 123456789);
	ck_assert_int_eq(s[0].leap, 1);
	ck_assert_msg(w->valid == 0, "the reader should clear valid");
	ck_assert_int_eq(rc_read(r, now, s, 4), 0);
	w->valid = 1; /* the same sample published again */
	ck_assert_int_eq(rc_read(r, now, s, 4), 0);
	ck_assert_int_eq(r->drops[RC_DROP_STALE], 1);
	ck_assert_int_eq(r->samples, 1);
	shmdt((const void *)(uintptr_t)w);
	ck_assert_int_eq(rc_shm_remove_created(r), 0);
	rc_close(r);
	ck_assert_msg(shmget(test_key(), 0, 0) < 0 && errno == ENOENT,
		      "the segment should be gone");
}
END_TEST

START_TEST(test_open_refusals)
{
	char why[256];

	ck_assert(rc_shm_open(test_key(), 01000, AGE, why, sizeof(why)) == NULL);
	ck_assert_msg(strstr(why, "perm") != NULL, "%s", why);
}
END_TEST

struct race {
	volatile struct rc_shm_time *seg;
	volatile int stop;
	int clear_valid; /* 1: clear valid before writing, as gpsd does */
	long writes;
};

static void *race_writer(void *arg)
{
	struct race *rc = arg;

	while (!rc->stop) {
		int64_t local = now_ns();
		volatile int spin;

		/* Fields written apart, so that a reader can land between them; valid is
		 * not cleared first (ntpd's protocol does not ask it), so only count can
		 * tell the reader that the fields are changing. */
		if (rc->clear_valid)
			rc->seg->valid = 0;
		rc->seg->count++;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		rc->seg->mode = 1;
		rc->seg->receive_sec = local / NS_PER_SEC;
		rc->seg->receive_usec = (int)(local % NS_PER_SEC / 1000);
		rc->seg->receive_nsec = (unsigned)(local % NS_PER_SEC);
		for (spin = 0; spin < 50; spin++)
			;
		rc->seg->clock_sec = local / NS_PER_SEC + OFFSET_S;
		rc->seg->clock_usec = (int)(local % NS_PER_SEC / 1000);
		rc->seg->clock_nsec = (unsigned)(local % NS_PER_SEC);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		rc->seg->count++;
		rc->seg->valid = 1;
		rc->writes++;
		for (spin = 0; spin < 200; spin++) /* a published sample stays a while */
			;
	}
	return NULL;
}

START_TEST(test_torn_race)
{
	char why[256];
	struct rc_reader *r = rc_shm_open(test_key(), 0600, 10 * NS_PER_SEC, why, sizeof(why));
	struct race rc = {.clear_valid = _i};
	pthread_t th;
	long reads = 0, good_n = 0;
	int64_t end;

	ck_assert_msg(r != NULL, "%s", why);
	rc.seg = writer_attach(test_key());
	ck_assert_int_eq(pthread_create(&th, NULL, race_writer, &rc), 0);
	end = now_ns() + RACE_NS;
	while (now_ns() < end) {
		struct rc_sample s;

		reads++;
		if (rc_read(r, now_ns(), &s, 1) == 1) {
			ck_assert_msg(
				s.ref_ns - s.local_ns == OFFSET_S * NS_PER_SEC,
				"an accepted sample must come from one write (off by %lld ns)",
				(long long)(s.ref_ns - s.local_ns - OFFSET_S * NS_PER_SEC));
			good_n++;
		}
	}
	rc.stop = 1;
	pthread_join(th, NULL);
	fprintf(stderr,
		"rc_shm race (%s): %ld writes, %ld reads, %ld accepted, %llu torn, %llu stale\n",
		rc.clear_valid ? "valid cleared first" : "valid left set", rc.writes, reads, good_n,
		(unsigned long long)r->drops[RC_DROP_TORN],
		(unsigned long long)r->drops[RC_DROP_STALE]);
	ck_assert_msg(good_n > 0, "samples should get through");
	shmdt((const void *)(uintptr_t)rc.seg);
	rc_shm_remove_created(r);
	rc_close(r);
}
END_TEST

Suite *rc_shm_suite(void)
{
	Suite *s = suite_create("rc_shm");
	TCase *tc = tcase_create("rc_shm");

	tcase_set_timeout(tc, 30); /* s: the race, slower under sanitizers */
	tcase_add_test(tc, test_judge);
	tcase_add_test(tc, test_segment);
	tcase_add_test(tc, test_open_refusals);
	tcase_add_loop_test(tc, test_torn_race, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
