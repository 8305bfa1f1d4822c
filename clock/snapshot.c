/*
 * Publication of the clock snapshot with a seqcount: the clock thread (the
 * only writer) makes the sequence odd, stores the payload as relaxed atomic
 * 64-bit words, then makes it even again; workers copy the words and keep
 * the copy only if the sequence was even and unchanged around it. Every
 * access is atomic, so a reader racing the writer gets a torn copy that it
 * detects and discards, never undefined behaviour. Also here: the two
 * pieces of arithmetic a worker does with a snapshot (served time, grown
 * root dispersion), saturating instead of overflowing.
 */
#include <sched.h>
#include <string.h>

#include "clock/snapshot.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

_Static_assert(sizeof(struct clk_snapshot) % sizeof(uint64_t) == 0,
	       "the snapshot must be a whole number of 64-bit words");

/* Spins (reads of an odd sequence) before a reader yields the CPU: the
 * writer holds the sequence odd for nine stores, so only a writer preempted
 * mid-publication makes a reader wait longer, and then yielding lets it run. */
#define CLK_SPINS_BEFORE_YIELD 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void clk_pub_init(struct clk_pub *p)
{
	struct clk_snapshot s;
	uint64_t w[CLK_SNAPSHOT_WORDS];
	size_t i;

	memset(&s, 0, sizeof(s));
	s.stratum = 16;
	s.leap = NTP_LEAP_UNSYNC;
	memcpy(w, &s, sizeof(w));
	/* Initialisation happens before any reader exists: no ordering needed. */
	atomic_init(&p->seq, 0);
	atomic_init(&p->steps, 0);
	for (i = 0; i < CLK_SNAPSHOT_WORDS; i++)
		atomic_init(&p->words[i], w[i]);
}

void clk_snapshot_publish(struct clk_pub *p, const struct clk_snapshot *s)
{
	uint64_t w[CLK_SNAPSHOT_WORDS];
	struct clk_snapshot c = *s;
	uint32_t seq;
	size_t i;

	/* Relaxed: only this thread changes the count (clk_pub_fence). */
	c.steps = atomic_load_explicit(&p->steps, memory_order_relaxed);
	memcpy(w, &c, sizeof(w));
	/* Relaxed: we are the only writer, so we read our own last store. */
	seq = atomic_load_explicit(&p->seq, memory_order_relaxed);
	atomic_store_explicit(&p->seq, seq + 1, memory_order_relaxed);
	/* Release fence: the odd sequence above is ordered before every payload
	 * store below. A reader that sees any new word and then issues its own
	 * acquire fence is guaranteed to see a sequence of at least seq + 1. */
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < CLK_SNAPSHOT_WORDS; i++)
		atomic_store_explicit(&p->words[i], w[i], memory_order_relaxed);
	/* Release store: a reader that acquires seq + 2 sees every word above. */
	atomic_store_explicit(&p->seq, seq + 2, memory_order_release);
}

void clk_snapshot_read(const struct clk_pub *p, struct clk_snapshot *out)
{
	uint64_t w[CLK_SNAPSHOT_WORDS];
	uint32_t s1, s2;
	unsigned int spins = 0;
	size_t i;

	/* Unbounded but short: only the single writer holds the sequence odd,
	 * for a handful of stores, and it never waits for anything meanwhile. */
	for (;;) {
		/* Acquire: the words read below are at least as new as the
		 * publication that made the sequence s1. */
		s1 = atomic_load_explicit(&p->seq, memory_order_acquire);
		if (s1 & 1) {
			if (++spins % CLK_SPINS_BEFORE_YIELD == 0)
				sched_yield();
			else
				cpu_relax();
			continue;
		}
		for (i = 0; i < CLK_SNAPSHOT_WORDS; i++)
			w[i] = atomic_load_explicit(&p->words[i], memory_order_relaxed);
		/* Acquire fence: the word loads above are ordered before the
		 * sequence load below, and pair with the writer's release fence
		 * so that any word from a newer publication shows as a changed
		 * sequence. */
		atomic_thread_fence(memory_order_acquire);
		/* Relaxed: the fence above already orders this load. */
		s2 = atomic_load_explicit(&p->seq, memory_order_relaxed);
		if (s1 == s2)
			break;
	}
	memcpy(out, w, sizeof(w));
}

void clk_pub_fence(struct clk_pub *p, struct clk_snapshot *out)
{
	/* Release: a worker that sees the new count sees the fence's snapshot or a later one. */
	atomic_fetch_add_explicit(&p->steps, 1, memory_order_release);
	clk_snapshot_read(p, out);
	out->leap = NTP_LEAP_UNSYNC;
	out->stratum = 16;
	out->flags &= ~(uint32_t)CLK_F_SYNCED;
	clk_snapshot_publish(p, out);
	out->steps = atomic_load_explicit(&p->steps, memory_order_relaxed);
}

int clk_snapshot_maps(const struct clk_pub *p, const struct clk_snapshot *s, int64_t rx_sys,
		      int64_t tx_sys)
{
	/* Acquire fence: the clock reading before the call (its loads) is ordered before the
	 * count's load below, so a reading that saw the step sees the count announced before
	 * it. On x86_64 a compiler barrier: loads are not reordered with loads. */
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&p->steps, memory_order_relaxed) != s->steps)
		return 0;
	/* The stamp is read first: later than the transmit reading, the clock went back. */
	if (rx_sys > tx_sys && rx_sys - tx_sys > CLK_STEP_SLACK_NS)
		return 0;
	return rx_sys >= s->step_sys;
}

int64_t clk_snapshot_served(const struct clk_snapshot *s, int64_t raw_ns)
{
	int64_t since, slew, base = ns_add_sat(raw_ns, s->corr_ns);

	/* The slew runs from update_ns on the served scale: raw + corr_ns is that scale. */
	if (__builtin_sub_overflow(base, s->update_ns, &since))
		since = base > s->update_ns ? INT64_MAX : INT64_MIN;
	/* corr_freq 0 makes slew exactly 0: served = raw + corr_ns. */
	slew = ns_round_sat((double)since * s->corr_freq);
	return ns_add_sat(base, slew);
}

double clk_snapshot_root_disp(const struct clk_snapshot *s, int64_t now_ns)
{
	uint64_t since;

	/* No growth before the update (a reader's clock can lag the writer's). */
	if (now_ns <= s->update_ns)
		return s->root_disp;
	/* now > update, so the unsigned difference is exact and positive. */
	since = (uint64_t)now_ns - (uint64_t)s->update_ns;
	return s->root_disp + (double)since / NS_PER_SEC * s->disp_rate;
}
