/*
 * The client log: a seeded hash picks a set of two entries, the owner
 * updates in place under a sequence count, readers copy and retry.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/serve/clientlog.h"
#include "proto/nstime.h"

#define CLOG_WAYS	4 /* entries per set: a few busy clients sharing a set all stay */
#define CLOG_SETS	(CLOG_SLOTS / CLOG_WAYS)
#define CLOG_IVAL_SHIFT 3 /* the interval average moves 1/8 of the way per request */
#define CLOG_READ_TRIES 4 /* copies a reader tries before skipping a busy entry */
#define CLOG_MERGE_MAX	(64 * CLOG_SLOTS)   /* entries merged at most (64 workers' worth) */
#define CLOG_STALE_NS	(3600 * NS_PER_SEC) /* ns: an entry silent for an hour is replaced first */

struct clog *clog_create(void)
{
	struct clog *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (getrandom(&l->seed, sizeof(l->seed), 0) != sizeof(l->seed))
		l->seed = (uint64_t)(uintptr_t)l * 0x9E3779B97F4A7C15ull;
	return l;
}

void clog_destroy(struct clog *l)
{
	free(l);
}

static void key_of(const struct sockaddr *from, uint32_t *fam, uint64_t k[2])
{
	k[0] = k[1] = 0;
	if (from->sa_family == AF_INET6) {
		memcpy(k, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
		*fam = AF_INET6;
	} else {
		memcpy(k, &((const struct sockaddr_in *)from)->sin_addr, 4);
		*fam = AF_INET;
	}
}

static unsigned set_of(const struct clog *l, const uint64_t k[2])
{
	uint64_t h = (k[0] ^ l->seed) * 0x9E3779B97F4A7C15ull;

	h = (h ^ k[1] ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull;
	return (unsigned)(h >> 40) % CLOG_SETS;
}

#define LD(x)	 atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

void clog_note(struct clog *l, const struct sockaddr *from, int64_t now_ns, int answered)
{
	struct clog_entry *set, *e = NULL, *victim;
	uint64_t k[2];
	uint32_t fam, seq;
	int i;

	if (!l)
		return;
	key_of(from, &fam, k);
	set = &l->e[set_of(l, k) * CLOG_WAYS];
	for (i = 0; i < CLOG_WAYS && !e; i++)
		if (LD(set[i].family) == fam && LD(set[i].addr[0]) == k[0] &&
		    LD(set[i].addr[1]) == k[1])
			e = &set[i];
	/*
	 * The way to reuse: an empty one, else one silent for an hour, else
	 * the one with the fewest requests and, among those, the one seen
	 * longest ago: a flood of one-off (spoofed) sources churns through
	 * the least busy ways, oldest first, and never evicts a busier client.
	 */
	victim = &set[0];
	for (i = 0; i < CLOG_WAYS; i++) {
		uint64_t r = LD(set[i].requests), vr = LD(victim->requests);

		if (!LD(set[i].family) || now_ns - LD(set[i].last_ns) > CLOG_STALE_NS) {
			victim = &set[i];
			break;
		}
		if (r < vr || (r == vr && LD(set[i].last_ns) < LD(victim->last_ns)))
			victim = &set[i];
	}
	seq = LD((e ? e : victim)->seq);
	if (!e) {
		e = victim;
		ST(e->seq, seq + 1);
		atomic_thread_fence(memory_order_release);
		ST(e->family, fam);
		ST(e->addr[0], k[0]);
		ST(e->addr[1], k[1]);
		ST(e->requests, 1);
		ST(e->drops, answered ? 0 : 1);
		ST(e->last_ns, now_ns);
		ST(e->ival_ns, 0);
	} else {
		int64_t dt = now_ns - LD(e->last_ns), iv = LD(e->ival_ns);

		ST(e->seq, seq + 1);
		atomic_thread_fence(memory_order_release);
		if (dt < 0)
			dt = 0;
		ST(e->ival_ns, iv == 0 ? dt : iv + ((dt - iv) >> CLOG_IVAL_SHIFT));
		ST(e->requests, LD(e->requests) + 1);
		if (!answered)
			ST(e->drops, LD(e->drops) + 1);
		ST(e->last_ns, now_ns);
	}
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}

/* A consistent copy of E into C; 0, or -1 when empty or always busy. */
static int read_entry(struct clog_entry *e, struct clog_client *c)
{
	int t;

	for (t = 0; t < CLOG_READ_TRIES; t++) {
		uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire), s2;
		uint64_t a[2];

		if (s1 & 1)
			continue;
		c->family = (int)LD(e->family);
		a[0] = LD(e->addr[0]);
		a[1] = LD(e->addr[1]);
		c->requests = LD(e->requests);
		c->drops = LD(e->drops);
		c->last_ns = LD(e->last_ns);
		c->ival_ns = LD(e->ival_ns);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if (s1 != s2)
			continue;
		if (!c->family)
			return -1;
		memcpy(c->addr, a, 16);
		return 0;
	}
	return -1;
}

static int by_requests(const void *a, const void *b)
{
	const struct clog_client *x = a, *y = b;

	return x->requests < y->requests ? 1 : x->requests > y->requests ? -1 : 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct clog_client *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

int clog_top(struct clog *const *logs, int n, struct clog_client *out, int max, int *total)
{
	struct clog_client *all;
	size_t cap = (size_t)n * CLOG_SLOTS, m = 0, u = 0, j;
	int i, k;

	if (total)
		*total = 0;
	if (cap > CLOG_MERGE_MAX)
		cap = CLOG_MERGE_MAX;
	all = malloc(cap * sizeof(*all) + 1);
	if (!all)
		return 0;
	for (i = 0; i < n; i++)
		for (k = 0; logs[i] && k < CLOG_SLOTS && m < cap; k++)
			if (read_entry(&logs[i]->e[k], &all[m]) == 0)
				m++;
	/* One address may be in several workers' tables: sort by address, add up neighbours. */
	qsort(all, m, sizeof(*all), by_addr);
	for (j = 0; j < m; j++) {
		struct clog_client *d = u ? &all[u - 1] : NULL;

		if (d && !by_addr(d, &all[j])) {
			d->requests += all[j].requests;
			d->drops += all[j].drops;
			if (all[j].last_ns > d->last_ns)
				d->last_ns = all[j].last_ns;
			/* Two interleaved streams: the combined interval is the shorter harmonic
			 * sum. */
			if (all[j].ival_ns && d->ival_ns)
				d->ival_ns = (int64_t)((double)d->ival_ns * (double)all[j].ival_ns /
						       (double)(d->ival_ns + all[j].ival_ns));
			continue;
		}
		all[u++] = all[j];
	}
	qsort(all, u, sizeof(*all), by_requests);
	if (total)
		*total = (int)u;
	if (max < 0)
		max = 0;
	if ((size_t)max > u)
		max = (int)u;
	memcpy(out, all, (size_t)max * sizeof(*out));
	free(all);
	return max;
}
