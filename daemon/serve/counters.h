/*
 * Per-worker counters: one per reason (proto/reason.h) and one per receive
 * timestamp source. Each worker owns its block, on its own cache lines,
 * and is the only writer; readers (signal-time logging, later the control
 * socket and metrics) sum the blocks on demand. Counts are relaxed atomics
 * so the reads are data-race free; the owner increments with a plain load
 * and store, which costs what a non-atomic increment costs.
 */
#ifndef HOROD_DAEMON_COUNTERS_H
#define HOROD_DAEMON_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/auth/auth.h"
#include "proto/reason.h"

struct clog;

/* Where a receive timestamp came from. */
enum ctr_tsrc {
	CTR_TS_HARDWARE, /* NIC clock (SO_TIMESTAMPING raw hardware) */
	CTR_TS_KERNEL,	 /* kernel software stamp (SO_TIMESTAMPING or SO_TIMESTAMPNS) */
	CTR_TS_DAEMON,	 /* read by horod at dequeue: no kernel stamp came */
	CTR_TS_MAX
};

struct ctr_block {
	_Atomic uint64_t received;		 /* datagrams dequeued */
	_Atomic uint64_t reason[NTP_REASON_MAX]; /* outcome of each */
	_Atomic uint64_t tsrc[CTR_TS_MAX];	 /* RX timestamp source of each */
	_Atomic uint64_t auth[AUTH_OUTCOME_MAX]; /* authenticated requests by outcome */
	struct clog *clog;			 /* this worker's client log, or NULL */
	struct auth_worker *auth_wk;		 /* this worker's NTS/MAC state */
} __attribute__((aligned(64)));

/* Totals over every worker (plain numbers, for printing). */
struct ctr_totals {
	uint64_t received; /* datagrams seen: dequeued by a worker or consumed by XDP */
	uint64_t reason[NTP_REASON_MAX];
	uint64_t tsrc[CTR_TS_MAX];
	uint64_t xdp; /* of received, consumed by XDP: dropped, KoD sent, answered (guard serve) */
	uint64_t auth[AUTH_OUTCOME_MAX]; /* authenticated requests by outcome (workers only) */
	uint64_t ke[KES_OUTCOME_MAX];	 /* NTS-KE sessions by outcome (ctr_add_ke) */
};

/* Increment C by one: only the owning worker may call this. */
static inline void ctr_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Name of a timestamp source ("hardware", "kernel", "daemon"). */
const char *ctr_tsrc_name(enum ctr_tsrc t);

/* Sum N blocks into OUT. */
void ctr_sum(const struct ctr_block *blocks, int n, struct ctr_totals *out);

/*
 * Add what the XDP guard consumed to T: G holds the guard's packets by
 * reason (its counter indices are the reasons), SERVED the requests it
 * answered itself (`guard serve on`, counted as reply_server). Only what
 * the guard ends there counts — drops, its kiss-o'-death and its answers;
 * what it passes (reply_server, reply_symmetric, control in G) reaches a
 * worker, which counts it again, and is ignored here. So T reads as if the
 * workers had seen every request: received = the sum of the reasons.
 */
void ctr_add_xdp(struct ctr_totals *t, const uint64_t g[NTP_REASON_MAX], uint64_t served);

/* Add the NTS-KE server's session counts of AS (if it runs) to T. */
void ctr_add_ke(struct ctr_totals *t, const struct auth_shared *as);

/* Nonzero when the XDP guard ends a request with reason R (it does not pass it on). */
int ctr_xdp_consumes(enum ntp_reason r);

/* Format T as `received=N <reason>=N ... ts_hardware=N ... xdp=N nts_ok=N ... ke_ok=N ...`. */
size_t ctr_format(const struct ctr_totals *t, char *buf, size_t len);

#endif
