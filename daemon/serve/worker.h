/*
 * Worker threads: each owns one socket per listen address (SO_REUSEPORT
 * spreads the clients over the workers), one counter block and one I/O
 * backend — io_uring (multishot recvmsg on a provided-buffer ring, batched
 * sendmsg) or recvmmsg/sendmmsg. Workers never block on each other or on
 * the clock thread; they stop within WK_STOP_POLL_MS of wk_stop().
 */
#ifndef HOROD_DAEMON_WORKER_H
#define HOROD_DAEMON_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "clock/kclock.h"
#include "daemon/config/config.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/rxsock.h"
#include "daemon/serve/serve.h"
#include "daemon/serve/txstamp.h"
#include "daemon/serve/xleave.h"

#define WK_STOP_POLL_MS 200 /* ms: longest a worker waits before looking at the stop flag */
/*
 * ms a draining worker may take to finish what it took from its sockets:
 * the datagrams its io_uring already received are answered in well under
 * a millisecond; this only bounds a wedged ring.
 */
#define WK_DRAIN_MAX_MS 500

enum wk_io { WK_IO_URING, WK_IO_MMSG };

struct worker {
	int id;
	int cpu;       /* CPU to pin to, or -1 */
	enum wk_io io; /* backend this worker runs */
	struct rx_sock socks[CFG_MAX_LISTEN];
	int n_socks;
	struct ctr_block *ctr; /* this worker's counters */
	const struct srv_shared *shared;
	struct xl_table *xl; /* its interleaved state: made by wk_xleave_init in its thread */
	struct txs txs;	     /* its replies' transmit stamps (set up by its backend) */
	struct srv_local lc; /* what it brings to each request (set by wk_xleave_init) */
	pthread_t thread;
	int started;
	int exit_code; /* 0, or -errno if its backend failed */
	/*
	 * Loop iterations so far, one at least every WK_STOP_POLL_MS: between
	 * two, the worker holds no request (a reload's grace period) and is
	 * alive (the watchdog). Bumped once per iteration, read by the clock thread.
	 */
	_Atomic uint64_t beat;
	_Atomic int done; /* its loop has ended */
};

/* The raw clock reading (ns) W's replies are stamped against. */
static inline int64_t wk_raw_ns(const struct worker *w)
{
	return clk_now_ns(w->shared->clock);
}

/* Tell every worker to stop (async-signal-safe). */
void wk_stop(void);

/*
 * Tell every worker to stop taking datagrams from its sockets, answer
 * every one it already took, and stop (at most WK_DRAIN_MAX_MS): for a
 * takeover, where a successor reads the same sockets and finds there
 * whatever this horod did not take. Async-signal-safe.
 */
void wk_stop_drain(void);

/* 1 once wk_stop_drain() was called. */
int wk_draining(void);

/* 1 once wk_stop() was called. */
int wk_stopping(void);

/* Start W's thread; 0 or -errno. */
int wk_start(struct worker *w);

/* Wait for W's thread to end. */
void wk_join(struct worker *w);

/*
 * Wait until each of the N workers W has begun a new loop iteration (or
 * ended) since the call, at most TIMEOUT_MS: after it, no worker still
 * holds anything it read before the call (a reload frees the old rules
 * then). 0, or -ETIMEDOUT (a worker is stuck: keep the old rules).
 */
int wk_quiesce(struct worker *w, int n, int timeout_ms);

/*
 * Wait until each of the N workers W has set up its backend and begun
 * receiving (its first loop: beat at least 1), at most TIMEOUT_MS; ready
 * means receiving, not merely started. 0, or -ETIMEDOUT.
 */
int wk_wait_running(struct worker *w, int n, int timeout_ms);

/*
 * 1 when every one of the N workers W is running and has begun a loop
 * iteration since the last call that returned 1 (or since start): the
 * watchdog's proof of life. LAST keeps their counts (N entries).
 */
int wk_alive(struct worker *w, int n, uint64_t *last);

/* Count a loop iteration of W (the backends call it). */
static inline void wk_beat(struct worker *w)
{
	atomic_fetch_add_explicit(&w->beat, 1, memory_order_release);
}

/*
 * 0 when io_uring can be used here (a ring with the flags we need can be
 * created), else -errno with the reason in WHY (sysctl, seccomp, old kernel).
 */
int wk_uring_probe(char *why, size_t len);

/*
 * Make W's interleaved state (shared->xl_bytes; none when 0 or when the
 * memory cannot be had: then W answers in basic mode only, and says so
 * once). Called by the backends in W's thread.
 */
void wk_xleave_init(struct worker *w);

/*
 * Steer the requests of each listen address to the workers by source
 * address, whatever the source port (a client changing ports keeps its
 * worker and so its interleaved state): a classic BPF program on the
 * sockets' SO_REUSEPORT group picks worker hash(address) mod N. Call
 * once all N workers' sockets are bound; logs when it cannot (the
 * kernel then spreads by address and port).
 */
void wk_steer(struct worker *w, int n);

/* The io_uring loop of W (runs in W's thread); 0 when stopped, -errno on set-up failure. */
int wk_run_uring(struct worker *w);

/* The recvmmsg/sendmmsg loop of W (runs in W's thread); 0 when stopped. */
int wk_run_mmsg(struct worker *w);

#endif
