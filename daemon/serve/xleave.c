/*
 * The interleaved-mode table (see xleave.h): two keyed hashes pick two
 * sets of XL_WAYS entries; a lookup compares at most both sets. The
 * memory is one anonymous mapping made at start, so the request path
 * never allocates; its pages are touched as clients arrive.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "daemon/serve/xleave.h"

#define XL_ENTRY_BYTES 32		     /* sizeof(struct xl_entry), checked below */
#define XL_MUL1	       0xBF58476D1CE4E5B9ull /* the multipliers of splitmix64's finaliser */
#define XL_MUL2	       0x94D049BB133111EBull

_Static_assert(sizeof(struct xl_entry) == XL_ENTRY_BYTES, "an entry is 32 bytes");

/* Every bit of Z reaches every bit of the result (splitmix64's finaliser). */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * XL_MUL1;
	z = (z ^ (z >> 27)) * XL_MUL2;
	return z ^ (z >> 31);
}

struct xl_table *xl_create(size_t bytes)
{
	struct xl_table *t;
	size_t sets = 2;

	if (bytes < XL_MIN_BYTES)
		return NULL;
	if (bytes > XL_MAX_BYTES)
		bytes = XL_MAX_BYTES;
	while (sets * 2 * XL_WAYS * XL_ENTRY_BYTES <= bytes)
		sets *= 2;
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->bytes = sets * XL_WAYS * XL_ENTRY_BYTES;
	t->e = mmap(NULL, t->bytes, PROT_READ | PROT_WRITE,
		    MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
	if (t->e == MAP_FAILED) {
		munmap(t, sizeof(*t));
		return NULL;
	}
	t->set_mask = (uint32_t)(sets - 1);
	if (getrandom(t->seed, sizeof(t->seed), 0) != sizeof(t->seed)) {
		t->seed[0] = mix((uint64_t)(uintptr_t)t);
		t->seed[1] = mix((uint64_t)(uintptr_t)t->e);
	}
	return t;
}

void xl_destroy(struct xl_table *t)
{
	if (!t)
		return;
	munmap(t->e, t->bytes);
	munmap(t, sizeof(*t));
}

size_t xl_capacity(const struct xl_table *t)
{
	return t ? ((size_t)t->set_mask + 1) * XL_WAYS : 0;
}

void xl_key(const struct sockaddr *from, uint64_t k[2])
{
	if (from->sa_family == AF_INET6) {
		memcpy(k, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
		return;
	}
	{
		uint8_t b[16] = {0};

		b[10] = 0xff;
		b[11] = 0xff;
		memcpy(b + 12, &((const struct sockaddr_in *)from)->sin_addr, 4);
		memcpy(k, b, 16);
	}
}

/* The two candidate sets of key K (they may coincide): the two halves of a keyed hash. */
static void sets_of(const struct xl_table *t, const uint64_t k[2], uint32_t s[2])
{
	uint64_t h = mix(mix(k[0] ^ t->seed[0]) ^ k[1] ^ t->seed[1]);

	s[0] = (uint32_t)h & t->set_mask;
	s[1] = (uint32_t)(h >> 32) & t->set_mask;
}

static int same(const struct xl_entry *e, const uint64_t k[2])
{
	return e->rx && e->addr[0] == k[0] && e->addr[1] == k[1];
}

/* Index of K's entry among sets S, or XL_NONE. */
static uint32_t lookup(const struct xl_table *t, const uint64_t k[2], const uint32_t s[2])
{
	int i, j;

	for (j = 0; j < 2; j++)
		for (i = 0; i < XL_WAYS; i++) {
			uint32_t idx = s[j] * XL_WAYS + (uint32_t)i;

			if (same(&t->e[idx], k))
				return idx;
		}
	return XL_NONE;
}

uint32_t xl_find(const struct xl_table *t, const struct sockaddr *from)
{
	uint64_t k[2];
	uint32_t s[2];

	if (!t)
		return XL_NONE;
	xl_key(from, k);
	sets_of(t, k, s);
	return lookup(t, k, s);
}

/*
 * Rank of entry E as a victim: lower goes first. Empty, then clients
 * that never asked in interleaved mode, then the rest; within a rank the
 * oldest last exchange (NTP timestamps compare by their signed difference).
 */
static int worse(const struct xl_entry *a, const struct xl_entry *b)
{
	int ra = !a->rx ? 0 : (a->tx & XL_TX_XLEAVE) ? 2 : 1;
	int rb = !b->rx ? 0 : (b->tx & XL_TX_XLEAVE) ? 2 : 1;

	if (ra != rb)
		return ra < rb;
	return (int64_t)(a->rx - b->rx) < 0;
}

/* Free ways of set S. */
static int free_ways(const struct xl_table *t, uint32_t s)
{
	int i, n = 0;

	for (i = 0; i < XL_WAYS; i++)
		n += !t->e[s * XL_WAYS + (uint32_t)i].rx;
	return n;
}

/*
 * Sets S are full: move a client of theirs to a free way of its other
 * set, freeing a way in S (one cuckoo step: rare, bounded). A client that
 * never interleaved moves first: interleaved ones stay where the two
 * choices put them (spread out; moved around they can pile up in one
 * set), and move only when S holds nothing else (the newcomer would
 * evict one of them). A moved client's transmit stamp
 * in flight then finds it gone (xl_stamp checks the address) and its
 * next interleaved reply uses the time read before the send.
 */
static void relocate(struct xl_table *t, const uint32_t s[2])
{
	int i, j, w, pass, passes = 2;

	for (j = 0; j < 2; j++)
		for (i = 0; i < XL_WAYS; i++)
			if (!(t->e[s[j] * XL_WAYS + (uint32_t)i].tx & XL_TX_XLEAVE))
				passes = 1; /* a victim that never interleaved is there */
	for (pass = 0; pass < passes; pass++)
		for (j = 0; j < 2; j++)
			for (i = 0; i < XL_WAYS; i++) {
				uint32_t from = s[j] * XL_WAYS + (uint32_t)i, alt[2], to;
				struct xl_entry *e = &t->e[from];

				if (!(e->tx & XL_TX_XLEAVE) != !pass)
					continue;
				sets_of(t, e->addr, alt);
				to = alt[0] == s[j] ? alt[1] : alt[0];
				if (to == s[0] || to == s[1])
					continue;
				for (w = 0; w < XL_WAYS; w++) {
					struct xl_entry *f = &t->e[to * XL_WAYS + (uint32_t)w];

					if (!f->rx) {
						*f = *e;
						memset(e, 0, sizeof(*e));
						return;
					}
				}
			}
}

enum xl_claimed xl_claim(struct xl_table *t, const struct sockaddr *from, uint32_t *idx)
{
	enum xl_claimed how;
	uint64_t k[2];
	uint32_t s[2], victim;
	int i, j;

	xl_key(from, k);
	sets_of(t, k, s);
	*idx = lookup(t, k, s);
	if (*idx != XL_NONE)
		return XL_FOUND;
	/* Two choices: the set with more free ways (the table fills evenly). */
	if (free_ways(t, s[1]) > free_ways(t, s[0])) {
		uint32_t x = s[0];

		s[0] = s[1];
		s[1] = x;
	}
	/* Both full: move one of their clients to its other set if that has room. */
	if (!free_ways(t, s[0]))
		relocate(t, s);
	victim = s[0] * XL_WAYS;
	for (j = 0; j < 2; j++)
		for (i = 0; i < XL_WAYS; i++) {
			uint32_t c = s[j] * XL_WAYS + (uint32_t)i;

			if (worse(&t->e[c], &t->e[victim]))
				victim = c;
		}
	how = t->e[victim].rx ? XL_EVICTED : XL_NEW;
	t->e[victim].addr[0] = k[0];
	t->e[victim].addr[1] = k[1];
	t->e[victim].rx = 0; /* no exchange yet: xl_record fills it */
	t->e[victim].tx = 0;
	*idx = victim;
	return how;
}

int xl_names_last(const struct xl_entry *e, uint64_t org, uint64_t rec, uint64_t xmt, int vn)
{
	return vn == 4 && org != 0 && org == e->rx && rec != xmt &&
	       (e->tx & XL_TX_SRC_MASK) != XL_SRC_NONE;
}

void xl_record(struct xl_entry *e, uint64_t rx, uint64_t tx, int xleave)
{
	uint64_t keep = e->tx & XL_TX_XLEAVE;

	e->rx = rx;
	e->tx = (tx & ~(uint64_t)XL_TX_FLAGS) | keep | (xleave ? XL_TX_XLEAVE : 0) | XL_SRC_DAEMON;
}

int xl_stamp(struct xl_table *t, uint32_t idx, const uint64_t k[2], uint64_t rx, uint64_t tx,
	     enum xl_src src)
{
	struct xl_entry *e;

	if (!t || idx > (t->set_mask + 1) * XL_WAYS - 1)
		return 0;
	e = &t->e[idx];
	/* Only the exchange it belongs to, of the client it belongs to. */
	if (!same(e, k) || e->rx != rx)
		return 0;
	e->tx = (tx & ~(uint64_t)XL_TX_FLAGS) | (e->tx & XL_TX_XLEAVE) | (uint64_t)src;
	return 1;
}

uint64_t xl_tx_wire(const struct xl_entry *e)
{
	return (e->tx & ~(uint64_t)XL_TX_FLAGS) | 4;
}

enum xl_src xl_tx_src(const struct xl_entry *e)
{
	return (enum xl_src)(e->tx & XL_TX_SRC_MASK);
}
