/*
 * Publication into the XDP program's .bss (guard_pub.h). Everything is
 * computed first, outside the write: only the stores sit between the odd
 * and the even sequence number, so a request meeting a publication goes
 * to a worker for a few hundred nanoseconds at most. The clock thread is
 * the only writer. The reader is the BPF program (guard_answer.h), on
 * x86_64 only, whose loads are not reordered with other loads: it needs
 * only the compiler barriers it has, and these release orderings on the
 * writer's side. Also here: the host table's editing, a few pure
 * functions on struct guard_host.
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

void guard_clocks_read(struct guard_clocks *out)
{
	struct timespec t1, r, t2;
	int64_t best = INT64_MAX, t1n, t2n;
	int i;

	for (i = 0; i < PUB_READS; i++) {
		clock_gettime(CLOCK_TAI, &t1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_TAI, &t2);
		t1n = (int64_t)t1.tv_sec * PUB_NS_PER_S + t1.tv_nsec;
		t2n = (int64_t)t2.tv_sec * PUB_NS_PER_S + t2.tv_nsec;
		if (t2n - t1n < best) {
			best = t2n - t1n;
			out->tai_ns = t1n + (t2n - t1n) / 2;
			out->real_ns = (int64_t)r.tv_sec * PUB_NS_PER_S + r.tv_nsec;
		}
	}
}

/* A root dispersion in seconds as whole ns, rounded up; NaN and beyond 65536 s: the largest. */
static uint64_t pub_disp_ns(double seconds)
{
	if (seconds != seconds || seconds >= (double)GUARD_DISP_MAX_NS / 1e9)
		return GUARD_DISP_MAX_NS;
	if (!(seconds > 0))
		return 0; /* a worker's short format stops at 0 too */
	return (uint64_t)ceil(seconds * 1e9);
}

/* A growth rate in s/s as ns per s, rounded up; negative: 0; at most UINT64_MAX. */
static uint64_t pub_rate_ppb(double rate)
{
	if (!(rate > 0))
		return 0;
	if (rate * 1e9 >= 0x1p64)
		return UINT64_MAX;
	return (uint64_t)ceil(rate * 1e9);
}

void guard_serve_fill(struct guard_serve *v, const struct clk_snapshot *s,
		      const struct guard_clocks *now)
{
	int64_t off = now->real_ns - now->tai_ns;
	uint64_t rate;

	memset(v, 0, sizeof(*v));
	v->on = !(s->flags & CLK_F_CORRECTED) && s->corr_ns == 0 && s->corr_freq == 0 &&
		(s->leap == NTP_LEAP_NONE || s->leap == NTP_LEAP_UNSYNC);
	/* The TAI offset is whole seconds: round away the time between the reads. */
	off = (off >= 0 ? off + PUB_NS_PER_S / 2 : off - PUB_NS_PER_S / 2) / PUB_NS_PER_S;
	v->tai_to_real_ns = off * PUB_NS_PER_S;
	v->pub_tai_ns = (uint64_t)now->tai_ns;
	/* The workers' dispersion at this instant (clk_snapshot_root_disp), grown from here. */
	v->disp_ns = pub_disp_ns(clk_snapshot_root_disp(s, now->tai_ns + v->tai_to_real_ns));
	rate = pub_rate_ppb(s->disp_rate);
	v->disp_rate_s =
		rate / PUB_NS_PER_S > UINT32_MAX ? UINT32_MAX : (uint32_t)(rate / PUB_NS_PER_S);
	v->disp_rate_ns = (uint32_t)(rate % PUB_NS_PER_S);
	/* A worker's dispersion is NaN (the largest) after any time at a NaN or infinite rate. */
	if (s->disp_rate != s->disp_rate || s->disp_rate == INFINITY)
		v->disp_ns = GUARD_DISP_MAX_NS;
	v->ref_ts = htobe64(ntp_ref_from_unix_ns(s->ref_ns)); /* 0 (never synchronized) stays 0 */
	v->root_delay = htonl(ntp_short_from_double(s->root_delay));
	v->refid = htonl(s->refid);
	v->leap = s->leap;
	v->stratum = s->stratum;
	v->precision = s->precision;
}

void guard_state_store(struct guard_state_pub *p, const struct guard_serve *serve,
		       const struct guard_host *host, const struct guard_phc *phc)
{
	uint64_t w[GUARD_STATE_WORDS];
	struct guard_phc none;
	uint32_t seq;
	size_t i;

	_Static_assert(sizeof(*serve) + sizeof(*host) + sizeof(*phc) == sizeof(w),
		       "the words are serve + host + phc");
	if (!phc) {
		guard_phc_init(&none);
		phc = &none;
	}
	memcpy(w, serve, sizeof(*serve));
	memcpy((uint8_t *)w + sizeof(*serve), host, sizeof(*host));
	memcpy((uint8_t *)w + sizeof(*serve) + sizeof(*host), phc, sizeof(*phc));
	/* Relaxed: we are the only writer, so we read our own last store. */
	seq = atomic_load_explicit(&p->seq, memory_order_relaxed);
	atomic_store_explicit(&p->seq, seq + 1, memory_order_relaxed);
	/* Release fence: the odd sequence above is ordered before every word
	 * stored below, so a reader that sees any new word sees an odd or a
	 * newer sequence when it reads the sequence again. */
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < GUARD_STATE_WORDS; i++)
		atomic_store_explicit(&p->words[i], w[i], memory_order_relaxed);
	/* Release store: a reader that sees seq + 2 sees every word above. */
	atomic_store_explicit(&p->seq, seq + 2, memory_order_release);
}

void guard_phc_init(struct guard_phc *p)
{
	memset(p, 0, sizeof(*p));
}

int guard_phc_add(struct guard_phc *p, uint32_t ifindex, int64_t off_ns, uint64_t at_tai_ns)
{
	if (p->n >= GUARD_MAX_IFACES)
		return -1;
	p->ifindex[p->n] = ifindex;
	p->off_ns[p->n] = off_ns;
	p->at_tai_ns[p->n] = at_tai_ns;
	p->n++;
	return 0;
}

int guard_hw_rx_real(uint64_t hw_ns, int64_t off_ns, uint64_t at_tai_ns, uint64_t rx_tai_ns,
		     int64_t tai_to_real_ns, uint64_t *out)
{
	uint64_t real, rx_real;

	/* The same unsigned arithmetic as the program's (guard_answer.h hw_rx_real). */
	if (hw_ns == 0 || off_ns == GUARD_PHC_NO_OFFSET ||
	    rx_tai_ns - at_tai_ns > GUARD_PHC_MAX_AGE_NS)
		return -1;
	real = hw_ns + (uint64_t)off_ns;
	rx_real = rx_tai_ns + (uint64_t)tai_to_real_ns;
	if (real > rx_real || rx_real - real > GUARD_HW_RX_WINDOW_NS)
		return -1;
	*out = real;
	return 0;
}

void guard_host_init(struct guard_host *h)
{
	memset(h, 0, sizeof(*h));
}

int guard_host_set_if(struct guard_host *h, uint32_t ifindex, const uint8_t mac[6])
{
	uint32_t i;

	for (i = 0; i < h->n_if && h->ifindex[i] != ifindex; i++)
		;
	if (i == h->n_if) {
		if (h->n_if >= GUARD_MAX_IFACES)
			return -1;
		h->n_if++;
		h->ifindex[i] = ifindex;
	}
	memset(h->mac[i], 0, sizeof(h->mac[i]));
	memcpy(h->mac[i], mac, 6);
	return 0;
}

void guard_host_del_if(struct guard_host *h, uint32_t ifindex)
{
	uint32_t i;

	for (i = 0; i < h->n_if; i++) {
		if (h->ifindex[i] != ifindex)
			continue;
		/* The last entry takes its place: the order means nothing. */
		h->n_if--;
		h->ifindex[i] = h->ifindex[h->n_if];
		memcpy(h->mac[i], h->mac[h->n_if], sizeof(h->mac[i]));
		h->ifindex[h->n_if] = 0;
		memset(h->mac[h->n_if], 0, sizeof(h->mac[i]));
		return;
	}
}

/* Index of ADDR (of IFINDEX for IPv6) in H's FAMILY table, or -1. */
static int host_find(const struct guard_host *h, int family, const uint8_t *addr, uint32_t ifindex)
{
	uint32_t i, a4;

	if (family == GUARD_FAMILY_V4) {
		memcpy(&a4, addr, 4);
		for (i = 0; i < h->n4; i++)
			if (h->v4[i] == a4 && h->v4_ifindex[i] == ifindex)
				return (int)i;
		return -1;
	}
	for (i = 0; i < h->n6; i++)
		if (h->v6_ifindex[i] == ifindex && memcmp(h->v6[i], addr, 16) == 0)
			return (int)i;
	return -1;
}

int guard_host_add(struct guard_host *h, int family, const uint8_t *addr, uint32_t ifindex)
{
	if (host_find(h, family, addr, ifindex) >= 0)
		return 1;
	if (family == GUARD_FAMILY_V4) {
		if (h->n4 >= GUARD_HOST_ADDRS)
			return -1;
		memcpy(&h->v4[h->n4], addr, 4);
		h->v4_ifindex[h->n4++] = ifindex;
		return 0;
	}
	if (h->n6 >= GUARD_HOST_ADDRS)
		return -1;
	memcpy(h->v6[h->n6], addr, 16);
	h->v6_ifindex[h->n6++] = ifindex;
	return 0;
}

int guard_host_del(struct guard_host *h, int family, const uint8_t *addr, uint32_t ifindex)
{
	int i = host_find(h, family, addr, ifindex);

	if (i < 0)
		return 0;
	/* The last entry takes its place; the freed one is zeroed. */
	if (family == GUARD_FAMILY_V4) {
		h->n4--;
		h->v4[i] = h->v4[h->n4];
		h->v4_ifindex[i] = h->v4_ifindex[h->n4];
		h->v4[h->n4] = 0;
		h->v4_ifindex[h->n4] = 0;
		return 1;
	}
	h->n6--;
	memcpy(h->v6[i], h->v6[h->n6], 16);
	h->v6_ifindex[i] = h->v6_ifindex[h->n6];
	memset(h->v6[h->n6], 0, 16);
	h->v6_ifindex[h->n6] = 0;
	return 1;
}
