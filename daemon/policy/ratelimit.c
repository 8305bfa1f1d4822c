/*
 * The rate limiter's table and arithmetic. A source is its key: IPv4
 * address (IPv4-mapped IPv6 included) or IPv6 /64. The key picks a set by
 * a seeded hash (so a client cannot aim collisions at another without
 * knowing the seed); within the set the entry is found by comparison, or
 * the empty or least recently seen entry is taken over. Each set has a
 * spin lock; the arithmetic under it is the generic cell rate algorithm
 * of bpf/guard.bpf.c, written again here so that the differential test
 * compares two implementations, not one with itself.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/random.h>

#include "clock/kclock.h"
#include "daemon/policy/ratelimit.h"
#include "proto/nstime.h"

#define RL_SET_ALIGN 64 /* bytes: one set starts a cache line */

/* A source: IPv4 address, or the first 8 bytes of an IPv6 address. */
struct rl_key {
	uint32_t family; /* 4 or 6 (0 = empty entry) */
	uint8_t prefix[8];
};

struct rl_entry {
	struct rl_key key;
	uint32_t pad;
	uint64_t tat_ns;      /* theoretical arrival time */
	uint64_t kod_next_ns; /* next time a kiss-o'-death may be sent */
	uint64_t over;	      /* over-rate requests so far */
	uint64_t seen_ns;     /* last request: the least recent entry is recycled */
};

struct rl_set {
	atomic_flag lock;
	struct rl_entry e[RL_WAYS];
} __attribute__((aligned(RL_SET_ALIGN)));

struct rl_table {
	/*
	 * The limits, immutable once published: a reload (rl_swap_limits)
	 * publishes a new copy with one pointer store, so a request is charged
	 * by the old limits or the new ones, never a mix; the table's state
	 * stays. The first limits live in the table itself.
	 */
	_Atomic(const struct rl_limits *) lim;
	struct rl_limits first;
	uint64_t seed;
	uint32_t mask; /* sets - 1 */
	struct rl_set *sets;
};

static const uint8_t rl_v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void rl_limits_set(struct rl_limits *l, int enabled, int interval, int burst, int leak, int kod)
{
	uint64_t t;

	if (interval < RL_MIN_INTERVAL)
		interval = RL_MIN_INTERVAL;
	if (interval > RL_MAX_INTERVAL)
		interval = RL_MAX_INTERVAL;
	if (burst < 1)
		burst = 1;
	if (burst > RL_MAX_BURST)
		burst = RL_MAX_BURST;
	if (leak < 0)
		leak = 0;
	if (leak > RL_MAX_LEAK)
		leak = RL_MAX_LEAK;
	t = interval >= 0 ? (uint64_t)NS_PER_SEC << interval : (uint64_t)NS_PER_SEC >> -interval;
	memset(l, 0, sizeof(*l));
	l->enabled = enabled ? 1 : 0;
	l->kod = kod ? 1 : 0;
	l->interval_ns = t;
	l->tau_ns = (uint64_t)(burst - 1) * t;
	l->kod_interval_ns = t;
	l->leak_mask = leak ? (1u << leak) - 1 : 0;
}

struct rl_table *rl_create(const struct rl_limits *l, unsigned int entries)
{
	struct rl_table *t;
	uint32_t sets = 1;
	uint32_t i;

	while (sets * RL_WAYS < entries && sets < (1u << 24))
		sets <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->sets = aligned_alloc(RL_SET_ALIGN, sets * sizeof(struct rl_set));
	if (!t->sets) {
		free(t);
		return NULL;
	}
	memset(t->sets, 0, sets * sizeof(struct rl_set));
	for (i = 0; i < sets; i++)
		atomic_flag_clear(&t->sets[i].lock);
	t->mask = sets - 1;
	t->first = *l;
	atomic_init(&t->lim, &t->first);
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = rl_now_ns() * 0x9e3779b97f4a7c15ULL; /* no entropy yet: the clock */
	return t;
}

void rl_destroy(struct rl_table *t)
{
	const struct rl_limits *l;

	if (!t)
		return;
	l = atomic_load_explicit(&t->lim, memory_order_relaxed);
	if (l != &t->first)
		free((void *)(uintptr_t)l);
	free(t->sets);
	free(t);
}

const struct rl_limits *rl_swap_limits(struct rl_table *t, const struct rl_limits *l)
{
	struct rl_limits *n = malloc(sizeof(*n));
	const struct rl_limits *old;

	if (!n)
		return NULL;
	*n = *l;
	old = atomic_exchange_explicit(&t->lim, n, memory_order_acq_rel);
	/* The table's own first copy is not the caller's to free. */
	return old == &t->first ? RL_LIMITS_KEPT : old;
}

const struct rl_limits *rl_limits_of(const struct rl_table *t)
{
	return atomic_load_explicit(&t->lim, memory_order_acquire);
}

uint64_t rl_now_ns(void)
{
	return (uint64_t)clk_now_ns(CLOCK_MONOTONIC);
}

/* The key of FROM; 0 when FROM is neither IPv4 nor IPv6. */
static int rl_key_of(const struct sockaddr *from, struct rl_key *k)
{
	const struct sockaddr_in6 *sin6;

	memset(k, 0, sizeof(*k));
	if (!from)
		return 0;
	if (from->sa_family == AF_INET) {
		k->family = 4;
		memcpy(k->prefix, &((const struct sockaddr_in *)from)->sin_addr, 4);
		return 1;
	}
	if (from->sa_family != AF_INET6)
		return 0;
	sin6 = (const struct sockaddr_in6 *)from;
	if (memcmp(sin6->sin6_addr.s6_addr, rl_v4mapped, sizeof(rl_v4mapped)) == 0) {
		k->family = 4;
		memcpy(k->prefix, sin6->sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	k->family = 6;
	memcpy(k->prefix, sin6->sin6_addr.s6_addr, 8);
	return 1;
}

/* A 64-bit mix of K with the table's seed (splitmix64 finaliser over both words). */
static uint32_t rl_hash(const struct rl_table *t, const struct rl_key *k)
{
	uint64_t a, h;

	memcpy(&a, k->prefix, sizeof(a));
	h = t->seed ^ a ^ ((uint64_t)k->family << 56);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (uint32_t)h;
}

static void rl_lock(struct rl_set *s)
{
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire)) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}

static void rl_unlock(struct rl_set *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* The entry of K in S (locked), taken over from the least recent one when new. */
static struct rl_entry *rl_find(struct rl_set *s, const struct rl_key *k, uint64_t now)
{
	struct rl_entry *e, *victim = &s->e[0];
	int i;

	for (i = 0; i < RL_WAYS; i++) {
		e = &s->e[i];
		if (e->key.family == k->family && memcmp(e->key.prefix, k->prefix, 8) == 0)
			return e;
		if (victim->key.family && (!e->key.family || e->seen_ns < victim->seen_ns))
			victim = e;
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = *k;
	victim->tat_ns = now;
	return victim;
}

/* Under the set lock: 1 when E may get a kiss-o'-death at NOW by L (and space the next). */
static int rl_kod_due(const struct rl_limits *l, struct rl_entry *e, uint64_t now)
{
	if (now < e->kod_next_ns)
		return 0;
	e->kod_next_ns = now + l->kod_interval_ns;
	return 1;
}

enum rl_verdict rl_charge(struct rl_table *t, const struct sockaddr *from, uint64_t now_ns,
			  int kod_ok)
{
	const struct rl_limits *l = atomic_load_explicit(&t->lim, memory_order_acquire);
	enum rl_verdict v;
	struct rl_entry *e;
	struct rl_set *s;
	struct rl_key k;
	uint64_t tat;

	if (!l->enabled || !rl_key_of(from, &k))
		return RL_PASS;
	s = &t->sets[rl_hash(t, &k) & t->mask];
	rl_lock(s);
	e = rl_find(s, &k, now_ns);
	e->seen_ns = now_ns;
	tat = e->tat_ns > now_ns ? e->tat_ns : now_ns;
	if (tat - now_ns <= l->tau_ns) {
		e->tat_ns = tat + l->interval_ns;
		v = RL_PASS;
	} else {
		e->over++;
		if (l->leak_mask && (e->over & l->leak_mask) == 0)
			v = RL_LEAK;
		else if (kod_ok && l->kod && rl_kod_due(l, e, now_ns))
			v = RL_KOD;
		else
			v = RL_DROP;
	}
	rl_unlock(s);
	return v;
}

int rl_kod_claim(struct rl_table *t, const struct sockaddr *from, uint64_t now_ns)
{
	struct rl_entry *e;
	struct rl_set *s;
	struct rl_key k;
	int due;

	if (!rl_key_of(from, &k))
		return 0;
	s = &t->sets[rl_hash(t, &k) & t->mask];
	rl_lock(s);
	e = rl_find(s, &k, now_ns);
	e->seen_ns = now_ns;
	due = rl_kod_due(atomic_load_explicit(&t->lim, memory_order_acquire), e, now_ns);
	rl_unlock(s);
	return due;
}
