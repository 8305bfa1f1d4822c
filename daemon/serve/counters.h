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

/* The mode of a time reply (RFC 9769). */
enum ctr_mode {
	CTR_MODE_BASIC,	      /* its transmit timestamp is its own, read before the send */
	CTR_MODE_INTERLEAVED, /* its transmit timestamp is the previous reply's, measured */
	CTR_MODE_MAX
};

/* What became of the transmit stamps the kernel gave back. */
enum ctr_txs {
	CTR_TXS_READ,	   /* stamps read (kernel software or NIC) */
	CTR_TXS_UNMATCHED, /* of those, for no reply still known (or not ours) */
	CTR_TXS_MAX
};

struct ctr_block {
	_Atomic uint64_t received;		 /* datagrams dequeued */
	_Atomic uint64_t reason[NTP_REASON_MAX]; /* outcome of each */
	_Atomic uint64_t tsrc[CTR_TS_MAX];	 /* RX timestamp source of each */
	_Atomic uint64_t mode[CTR_MODE_MAX];	 /* time replies by mode */
	_Atomic uint64_t xtx[CTR_TS_MAX];  /* interleaved replies by their transmit's source */
	_Atomic uint64_t txs[CTR_TXS_MAX]; /* transmit stamps read back */
	_Atomic uint64_t xl_evicted;	   /* clients whose interleaved state a new one took */
	_Atomic uint64_t kernel_drops; /* dropped by the kernel before a read (rx_socket_drops) */
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
	uint64_t mode[CTR_MODE_MAX]; /* the workers' time replies by mode */
	uint64_t xtx[CTR_TS_MAX];    /* interleaved replies by their transmit's source */
	uint64_t txs[CTR_TXS_MAX];
	uint64_t xl_evicted;
	uint64_t kernel_drops; /* datagrams the kernel dropped before the workers read them */
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

/* Name of a reply mode ("basic", "interleaved"). */
const char *ctr_mode_name(enum ctr_mode m);

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

/*
 * Format T as `received=N <reason>=N ... ts_hardware=N ... xdp=N basic=N
 * interleaved=N interleaved_hardware=N ... tx_stamps=N tx_unmatched=N
 * xleave_evicted=N nts_ok=N ... ke_ok=N ...` into BUF; returns length.
 */
size_t ctr_format(const struct ctr_totals *t, char *buf, size_t len);

#endif
