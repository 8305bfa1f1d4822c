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

#include "proto/reason.h"

struct clog;

/* Where a receive timestamp came from. */
enum ctr_tsrc {
	CTR_TS_HARDWARE, /* NIC clock (SO_TIMESTAMPING raw hardware) */
	CTR_TS_KERNEL,   /* kernel software stamp (SO_TIMESTAMPING or SO_TIMESTAMPNS) */
	CTR_TS_DAEMON,   /* read by horod at dequeue: no kernel stamp came */
	CTR_TS_MAX
};

struct ctr_block {
	_Atomic uint64_t received;               /* datagrams dequeued */
	_Atomic uint64_t reason[NTP_REASON_MAX]; /* outcome of each */
	_Atomic uint64_t tsrc[CTR_TS_MAX];       /* RX timestamp source of each */
	struct clog *clog;                       /* this worker's client log, or NULL */
} __attribute__((aligned(64)));

/* Totals over every worker (plain numbers, for printing). */
struct ctr_totals {
	uint64_t received;
	uint64_t reason[NTP_REASON_MAX];
	uint64_t tsrc[CTR_TS_MAX];
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

/* Format T as `received=N <reason>=N ... ts_hardware=N ...` into BUF; returns length. */
size_t ctr_format(const struct ctr_totals *t, char *buf, size_t len);

#endif
