/*
 * Worker thread start, stop and CPU pinning, each worker's interleaved
 * state, and the steering of clients to workers by address; the loops
 * themselves are in wk_uring.c and wk_mmsg.c.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <linux/filter.h>
#include <time.h>

#include "daemon/sys/log.h"
#include "daemon/serve/worker.h"

#define WK_STEER_MUL   0x9E3779B1u /* odd: spreads nearby addresses over the workers */
#define WK_STEER_SHIFT 16	   /* the product's high half picks the worker */
#define WK_STEER_LEN   16	   /* instructions of the longest program (IPv6) */
#define IP4_SADDR      12	   /* bytes into the IPv4 header: the source address */
#define IP6_SADDR      8	   /* bytes into the IPv6 header: the source address */

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

void wk_xleave_init(struct worker *w)
{
	size_t bytes = w->shared->xl_bytes;

	w->xl = bytes ? xl_create(bytes) : NULL;
	w->lc.ctr = w->ctr;
	w->lc.xl = w->xl;
	if (bytes && !w->xl)
		log_msg(LOG_WARNING,
			"worker %d: no memory for interleaved state (%zu bytes): basic mode only",
			w->id, bytes);
	else if (w->xl && w->id == 0)
		log_msg(LOG_INFO, "interleaved mode: state for %zu clients per worker (%zu bytes)",
			xl_capacity(w->xl), w->xl->bytes);
}

/* The program for FAMILY's sockets and N workers into P; returns its length. */
static unsigned short steer_prog(int family, int n, struct sock_filter *p)
{
	unsigned short k = 0;
	int i;

	if (family == AF_INET) {
		p[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      (uint32_t)(SKF_NET_OFF + IP4_SADDR));
	} else {
		/* The four words of the address folded into one. */
		p[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      (uint32_t)(SKF_NET_OFF + IP6_SADDR));
		for (i = 1; i < 4; i++) {
			p[k++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
			p[k++] = (struct sock_filter)BPF_STMT(
				BPF_LD | BPF_W | BPF_ABS,
				(uint32_t)(SKF_NET_OFF + IP6_SADDR + 4 * i));
			p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
		}
	}
	p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, WK_STEER_MUL);
	p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, WK_STEER_SHIFT);
	p[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)n);
	p[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
	return k;
}

void wk_steer(struct worker *w, int n)
{
	struct sock_filter prog[WK_STEER_LEN];
	struct sock_fprog fp;
	int j;

	if (n < 2)
		return;
	/* Worker I bound socket J of every group I-th: the group's index I is worker I. */
	for (j = 0; j < w[0].n_socks; j++) {
		fp.len = steer_prog(w[0].socks[j].family, n, prog);
		fp.filter = prog;
		if (setsockopt(w[0].socks[j].fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp,
			       sizeof(fp)) < 0)
			log_msg(LOG_WARNING,
				"SO_ATTACH_REUSEPORT_CBPF: %s: clients spread by address and port "
				"(one that changes ports may change workers and get basic replies)",
				strerror(errno));
	}
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
