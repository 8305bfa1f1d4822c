/*
 * The per-source rate limiter of the workers (used when the XDP guard is
 * not loaded), with the semantics of chrony's `ratelimit interval I burst
 * B leak L` and of the guard's own limiter (bpf/guard.bpf.c): each IPv4
 * address, or each IPv6 /64, may send a burst of B requests, then one per
 * 2^I seconds on average (a generic cell rate algorithm); of the requests
 * over that rate, every 2^L-th is answered anyway, so that a client whose
 * address an attacker spoofs is never cut off entirely. The same table
 * spaces kiss-o'-death replies: at most one per source per 2^I seconds.
 *
 * The table is bounded: sets of RL_WAYS entries chosen by a seeded hash
 * of the source, the least recently seen entry of a full set recycled.
 * Workers share it; each set has its own spin lock, held for a few
 * dozen instructions (the one lock on the request path, and only when
 * the guard is off).
 */
#ifndef HOROD_DAEMON_RATELIMIT_H
#define HOROD_DAEMON_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define RL_DEFAULT_INTERVAL 3	  /* log2 s: one request per 8 s on average (chrony's default) */
#define RL_DEFAULT_BURST    8	  /* requests at once before the interval applies (chrony's) */
#define RL_DEFAULT_LEAK	    2	  /* log2: 1 in 4 over-rate requests still answered (chrony's) */
#define RL_MIN_INTERVAL	    -19	  /* log2 s: 2^-19 s = 1.9 µs, the finest chrony accepts */
#define RL_MAX_INTERVAL	    12	  /* log2 s: 4096 s, longer than any client's poll */
#define RL_MAX_BURST	    255	  /* requests: as chrony */
#define RL_MAX_LEAK	    16	  /* log2: 1 in 65536; 0 means no leak at all */
#define RL_TABLE_ENTRIES    65536 /* sources tracked (as the guard's LRU map): ~64 B each */
#define RL_WAYS		    4	  /* entries per hash set */

/* What the limiter says about one request. */
enum rl_verdict {
	RL_PASS, /* within the rate */
	RL_LEAK, /* over the rate, but the 2^L-th: answer it */
	RL_KOD,	 /* over the rate, and a kiss-o'-death is due */
	RL_DROP, /* over the rate: drop */
};

/* The limits, in the units both limiters use (the guard's configuration carries the same). */
struct rl_limits {
	int enabled;		  /* `ratelimit` configured; 0 = the table only spaces KoDs */
	int kod;		  /* over-rate requests may get a RATE kiss-o'-death */
	uint64_t interval_ns;	  /* ns per request on average: 2^I s */
	uint64_t tau_ns;	  /* ns of burst tolerance: (B - 1) * interval_ns */
	uint64_t kod_interval_ns; /* ns between two kiss-o'-death replies to one source */
	uint32_t leak_mask;	  /* 2^L - 1; 0 = no leak */
};

struct rl_table;

/* Fill L for `ratelimit interval INTERVAL burst BURST leak LEAK [kod]` (ENABLED 0: KoD spacing
 * only). */
void rl_limits_set(struct rl_limits *l, int enabled, int interval, int burst, int leak, int kod);

/* A table of ENTRIES sources (rounded up to a power of two sets); NULL when out of memory. */
struct rl_table *rl_create(const struct rl_limits *l, unsigned int entries);

/* Free the table. NULL is fine. */
void rl_destroy(struct rl_table *t);

/* The limits the table applies. */
const struct rl_limits *rl_limits_of(const struct rl_table *t);

/* What rl_swap_limits returns when the old limits were the table's own (nothing to free). */
#define RL_LIMITS_KEPT ((const struct rl_limits *)1)

/*
 * Apply L from the next request on, keeping every source's state (a
 * reload). Returns the limits replaced, which requests being charged may
 * still read: free() them once every worker is past a request boundary;
 * RL_LIMITS_KEPT when there is nothing to free; NULL when out of memory
 * (nothing changed).
 */
const struct rl_limits *rl_swap_limits(struct rl_table *t, const struct rl_limits *l);

/* Charge one request from FROM at NOW_NS (CLOCK_MONOTONIC); RL_KOD only when KOD_OK. */
enum rl_verdict rl_charge(struct rl_table *t, const struct sockaddr *from, uint64_t now_ns,
			  int kod_ok);

/* 1 when a kiss-o'-death may go to FROM at NOW_NS (and the next one is then spaced), else 0. */
int rl_kod_claim(struct rl_table *t, const struct sockaddr *from, uint64_t now_ns);

/* CLOCK_MONOTONIC in ns: the limiter's clock (the guard's bpf_ktime_get_ns). */
uint64_t rl_now_ns(void);

#endif
