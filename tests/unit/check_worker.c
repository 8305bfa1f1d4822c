/*
 * Tests of the workers' proof of life (daemon/serve/worker.c): wk_alive,
 * which feeds systemd's watchdog only when every worker began a loop
 * since the last feeding, refuses a stuck worker, a stopped one and one
 * never started; wk_quiesce, a reload's grace period, returns once every
 * running worker moved on (or stopped) and times out on a stuck one.
 * The workers here are structures whose beats the test moves itself.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "daemon/serve/worker.h"

Suite *worker_suite(void);

#define N_W	      3	    /* workers */
#define STUCK_MS      50    /* ms wk_quiesce waits on a stuck worker */
#define BEAT_AFTER_US 20000 /* us before the helper thread moves a worker */

static struct worker w[N_W];

static void setup(void)
{
	int i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < N_W; i++) {
		w[i].started = 1;
		atomic_store(&w[i].beat, 1);
	}
}

START_TEST(test_alive)
{
	uint64_t last[N_W] = {0};

	ck_assert_msg(wk_alive(w, N_W, last), "workers that beat since start should be alive");
	ck_assert_msg(!wk_alive(w, N_W, last), "without a new beat they should not be");
	wk_beat(&w[0]);
	wk_beat(&w[1]);
	ck_assert_msg(!wk_alive(w, N_W, last),
		      "one stuck worker (2) should keep the watchdog unfed");
	wk_beat(&w[2]);
	ck_assert_msg(wk_alive(w, N_W, last), "once all moved, alive again");
	wk_beat(&w[0]);
	wk_beat(&w[1]);
	wk_beat(&w[2]);
	atomic_store(&w[1].done, 1);
	ck_assert_msg(!wk_alive(w, N_W, last), "a worker whose loop ended is not alive");
	atomic_store(&w[1].done, 0);
	w[2].started = 0;
	ck_assert_msg(!wk_alive(w, N_W, last), "a worker never started is not alive");
}
END_TEST

static void *mover(void *arg)
{
	(void)arg;
	usleep(BEAT_AFTER_US);
	wk_beat(&w[0]);
	wk_beat(&w[2]);
	return NULL;
}

START_TEST(test_quiesce)
{
	pthread_t t;

	ck_assert_int_eq(wk_quiesce(w, N_W, STUCK_MS), -ETIMEDOUT);
	atomic_store(&w[1].done, 1); /* 1 stopped; 0 and 2 move on after the call */
	pthread_create(&t, NULL, mover, NULL);
	ck_assert_msg(wk_quiesce(w, N_W, 2000) == 0,
		      "every worker moving on (or stopped) should end the grace period");
	pthread_join(t, NULL);
}
END_TEST

Suite *worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_alive);
	tcase_add_test(tc, test_quiesce);
	suite_add_tcase(s, tc);
	return s;
}
