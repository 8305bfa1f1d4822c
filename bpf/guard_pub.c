/*
 * Publication into the XDP program's .bss (guard_pub.h). The payload is
 * computed first, outside the write: only the stores sit between the odd
 * and the even sequence number, so a request meeting a publication goes
 * to a worker for a few nanoseconds at most. The clock thread is the only
 * writer. The reader is the BPF program (guard_reply.h, serve_read), on
 * x86_64, whose loads are not reordered with other loads: it needs only
 * the compiler barriers it has, and these release orderings on the
 * writer's side.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "bpf/guard_pub.h"
#include "proto/ntp.h"

#define PUB_NS_PER_S 1000000000LL /* ns in one second */
#define PUB_READS    3		  /* bracketed clock readings; the tightest one is kept */

/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns: the closest of three bracketed readings. */
static int64_t pub_mono_to_real(void)
{
	struct timespec m1, r, m2;
	int64_t best = INT64_MAX, off = 0, m1n, m2n, rn;
	int i;

	for (i = 0; i < PUB_READS; i++) {
		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		m1n = (int64_t)m1.tv_sec * PUB_NS_PER_S + m1.tv_nsec;
		m2n = (int64_t)m2.tv_sec * PUB_NS_PER_S + m2.tv_nsec;
		rn = (int64_t)r.tv_sec * PUB_NS_PER_S + r.tv_nsec;
		if (m2n - m1n < best) {
			best = m2n - m1n;
			off = rn - (m1n + (m2n - m1n) / 2);
		}
	}
	return off;
}

/* A double of seconds as whole ns, rounded up (an error bound must not shrink); capped. */
static uint64_t pub_ns_up(double seconds)
{
	if (!(seconds > 0))
		return seconds == 0 ? 0 : UINT64_MAX >> 8; /* NaN: the largest bound */
	if (seconds >= 1e9)
		return UINT64_MAX >> 8;
	return (uint64_t)ceil(seconds * 1e9);
}

void guard_serve_fill(struct guard_serve *v, const struct clk_snapshot *s)
{
	memset(v, 0, sizeof(*v));
	v->on = !(s->flags & CLK_F_CORRECTED) && s->corr_ns == 0 && s->corr_freq == 0 &&
		(s->leap == NTP_LEAP_NONE || s->leap == NTP_LEAP_UNSYNC);
	v->mono_to_real_ns = pub_mono_to_real();
	v->update_ns = s->update_ns;
	v->disp_ns = pub_ns_up(s->root_disp);
	v->disp_rate_ppb = pub_ns_up(s->disp_rate);
	v->ref_ts = htobe64(ntp_ref_from_unix_ns(s->ref_ns)); /* 0 (never synchronized) stays 0 */
	v->root_delay = htonl(ntp_short_from_double(s->root_delay));
	v->refid = htonl(s->refid);
	v->leap = s->leap;
	v->stratum = s->stratum;
	v->precision = s->precision;
}

void guard_serve_store(struct guard_serve_pub *p, const struct guard_serve *v)
{
	uint64_t w[GUARD_SERVE_WORDS];
	uint32_t seq;
	size_t i;

	memcpy(w, v, sizeof(w));
	/* Relaxed: we are the only writer, so we read our own last store. */
	seq = atomic_load_explicit(&p->seq, memory_order_relaxed);
	atomic_store_explicit(&p->seq, seq + 1, memory_order_relaxed);
	/* Release fence: the odd sequence above is ordered before every payload
	 * store below, so a reader that sees any new word sees an odd or a
	 * newer sequence when it reads the sequence again. */
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < GUARD_SERVE_WORDS; i++)
		atomic_store_explicit(&p->words[i], w[i], memory_order_relaxed);
	/* Release store: a reader that sees seq + 2 sees every word above. */
	atomic_store_explicit(&p->seq, seq + 2, memory_order_release);
}

void guard_serve_publish(struct guard_serve_pub *p, const struct clk_snapshot *s)
{
	struct guard_serve v;

	guard_serve_fill(&v, s);
	guard_serve_store(p, &v);
}
