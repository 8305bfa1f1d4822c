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

/* The payload for snapshot S, with the clocks read now (what guard_serve_publish stores). */
void guard_serve_fill(struct guard_serve *out, const struct clk_snapshot *s);

/* Store the payload V into P with the seqcount (one writer at a time). */
void guard_serve_store(struct guard_serve_pub *p, const struct guard_serve *v);

/* Publish snapshot S into P: guard_serve_fill, then guard_serve_store (the clock thread). */
void guard_serve_publish(struct guard_serve_pub *p, const struct clk_snapshot *s);

#endif
