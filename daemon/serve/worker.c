/*
 * Worker thread start, stop and CPU pinning; the loops themselves are in
 * wk_uring.c and wk_mmsg.c.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "daemon/sys/log.h"
#include "daemon/serve/worker.h"

static atomic_int stop_flag;
static atomic_int drain_flag;

void wk_stop(void)
{
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

void wk_stop_drain(void)
{
	/* Drain first, so a worker that sees the stop also sees how to stop. */
	atomic_store_explicit(&drain_flag, 1, memory_order_relaxed);
	atomic_store_explicit(&stop_flag, 1, memory_order_release);
}

int wk_draining(void)
{
	return atomic_load_explicit(&drain_flag, memory_order_acquire);
}

int wk_stopping(void)
{
	return atomic_load_explicit(&stop_flag, memory_order_relaxed);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			log_msg(LOG_WARNING, "worker %d: cannot pin to CPU %d", w->id, w->cpu);
	}
	w->exit_code = w->io == WK_IO_URING ? wk_run_uring(w) : wk_run_mmsg(w);
	atomic_store_explicit(&w->done, 1, memory_order_release);
	if (w->exit_code < 0) {
		log_msg(LOG_ERR, "worker %d: %s backend failed: %s", w->id,
			w->io == WK_IO_URING ? "io_uring" : "mmsg", strerror(-w->exit_code));
		/* One worker down means a share of the clients is unserved: stop cleanly. */
		wk_stop();
	}
	return NULL;
}

int wk_start(struct worker *w)
{
	int ret = pthread_create(&w->thread, NULL, worker_main, w);

	if (ret != 0)
		return -ret;
	w->started = 1;
	return 0;
}

void wk_join(struct worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = 0;
}

static int64_t wk_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wk_quiesce(struct worker *w, int n, int timeout_ms)
{
	uint64_t seen[CFG_MAX_WORKERS];
	int64_t end = wk_mono_ms() + timeout_ms;
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = 1000000}; /* 1 ms */
	int i, waiting;

	if (n > CFG_MAX_WORKERS)
		n = CFG_MAX_WORKERS;
	for (i = 0; i < n; i++)
		seen[i] = atomic_load_explicit(&w[i].beat, memory_order_acquire);
	for (;;) {
		for (i = 0, waiting = 0; i < n; i++)
			waiting +=
				w[i].started &&
				!atomic_load_explicit(&w[i].done, memory_order_acquire) &&
				atomic_load_explicit(&w[i].beat, memory_order_acquire) == seen[i];
		if (!waiting)
			return 0;
		if (wk_mono_ms() >= end)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
}

int wk_alive(struct worker *w, int n, uint64_t *last)
{
	uint64_t b;
	int i, ok = 1;

	for (i = 0; i < n; i++) {
		b = atomic_load_explicit(&w[i].beat, memory_order_acquire);
		if (!w[i].started || atomic_load_explicit(&w[i].done, memory_order_acquire) ||
		    b == last[i])
			ok = 0;
	}
	if (!ok)
		return 0;
	for (i = 0; i < n; i++)
		last[i] = atomic_load_explicit(&w[i].beat, memory_order_acquire);
	return 1;
}

int wk_wait_running(struct worker *w, int n, int timeout_ms)
{
	int64_t end = wk_mono_ms() + timeout_ms;
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = 1000000}; /* 1 ms */
	int i, waiting;

	for (;;) {
		for (i = 0, waiting = 0; i < n; i++)
			waiting += w[i].started &&
				   !atomic_load_explicit(&w[i].done, memory_order_acquire) &&
				   atomic_load_explicit(&w[i].beat, memory_order_acquire) == 0;
		if (!waiting)
			return 0;
		if (wk_mono_ms() >= end)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
}
