/*
 * What horod publishes into the running XDP program (user space's side
 * of guard_layout.h's struct guard_serve_area): the clock thread turns
 * each clock snapshot into what the program needs to answer a client
 * request and stores it with a seqcount, in the idiom of the snapshot's
 * own publication (clock/snapshot.c): C11 atomics, relaxed stores of the
 * payload's 64-bit words between an odd and an even sequence number, a
 * comment on every fence. The BPF reader is bpf/guard_reply.h's
 * serve_read().
 */
#ifndef HOROD_BPF_GUARD_PUB_H
#define HOROD_BPF_GUARD_PUB_H

#include <stdatomic.h>
#include <stdint.h>

#include "bpf/guard_layout.h"
#include "clock/snapshot.h"

/* User space's view of the program's struct guard_serve_area: the same bytes, as atomics. */
struct guard_serve_pub {
	_Atomic uint32_t seq;
	uint32_t pad;
	_Atomic uint64_t words[GUARD_SERVE_WORDS];
};

_Static_assert(sizeof(struct guard_serve_pub) == sizeof(struct guard_serve_area),
	       "the atomic view must have the program's layout");

/* One instant on the two clocks a publication relates (ns since their epochs). */
struct guard_clocks {
	int64_t tai_ns;	 /* CLOCK_TAI: the program's clock */
	int64_t real_ns; /* CLOCK_REALTIME: the served clock (the kernel driver's) */
};

/* Read both clocks now: CLOCK_TAI bracketing CLOCK_REALTIME, the tightest of a few tries. */
void guard_clocks_read(struct guard_clocks *out);

/*
 * The payload for snapshot S published at instant NOW: `on` only for the
 * system clock as it is (no correction, no leap second announced), the
 * root dispersion grown to NOW as the workers grow it, rounded up, and
 * the maximum for a NaN or infinite one or rate (a negative rate counts
 * as 0: XDP never advertises less than a worker).
 */
void guard_serve_fill(struct guard_serve *out, const struct clk_snapshot *s,
		      const struct guard_clocks *now);

/* Store the payload V into P with the seqcount (one writer at a time). */
void guard_serve_store(struct guard_serve_pub *p, const struct guard_serve *v);

/* Publish snapshot S into P: the clocks read now, guard_serve_fill, guard_serve_store. */
void guard_serve_publish(struct guard_serve_pub *p, const struct clk_snapshot *s);

#endif
