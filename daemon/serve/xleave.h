/*
 * Interleaved mode (RFC 9769), the server's state: for each client
 * address, the receive timestamp our last reply carried and the transmit
 * time of that reply — first the time read before it was sent, then the
 * kernel's (or the NIC's) transmit stamp once it comes back. A request
 * whose origin equals that receive timestamp (and whose receive field is
 * not its transmit field) names that reply: it is answered in interleaved
 * mode, its transmit field carrying that reply's transmit time, which the
 * kernel measured instead of horod predicting it. Everything else is
 * answered in basic mode. Either way the entry then holds the new
 * exchange, so a receive timestamp is used at most once.
 *
 * One table per worker (SO_REUSEPORT steered by source address keeps a
 * client on one worker; a client that moves anyway meets a worker without
 * its state and gets a basic reply, then interleaved ones again). Bounded:
 * `clientloglimit` bytes over all workers, 32 bytes per client, a power
 * of two of sets of XL_WAYS; each address may live in one of two sets
 * (two keyed hashes), so the table fills evenly. A new client takes an
 * empty way of its two sets, else the way of a client that never sent an
 * interleaved request (a basic or spoofed source), else the way whose
 * last exchange is oldest: a flood of one-off sources churns through the
 * basic clients and leaves interleaved ones in place. O(1): at most
 * 2 x XL_WAYS compares per request, no allocation, no lock (only the
 * owning worker touches its table).
 */
#ifndef HOROD_DAEMON_XLEAVE_H
#define HOROD_DAEMON_XLEAVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define XL_WAYS	     4			/* entries per set: one cache line holds two */
#define XL_NONE	     UINT32_MAX		/* no entry */
#define XL_MIN_BYTES (2 * XL_WAYS * 32) /* bytes: the smallest table, two sets */
#define XL_MAX_BYTES                                                                               \
	(1ULL << 31)		/* bytes: 2 GiB, 64M clients (chrony's largest clientloglimit)     \
				 */
#define XL_DEFAULT_BYTES 524288 /* bytes: chrony's default clientloglimit, 16384 clients */

/*
 * The low bits of xl_entry.tx, below a nanosecond (an NTP fraction unit
 * is 0.23 ns): where the transmit time came from and whether the client
 * ever asked in interleaved mode. A transmit time put on the wire has them
 * replaced by the middle of their range (xl_tx_wire), so it is off by
 * 0.8 ns at most.
 */
#define XL_TX_SRC_MASK 3u /* bits 0-1: XL_SRC_* */
#define XL_TX_XLEAVE   4u /* bit 2: this client sent an interleaved request */
#define XL_TX_FLAGS    7u /* every flag bit */

enum xl_src {
	XL_SRC_NONE,	 /* no transmit time (an empty entry) */
	XL_SRC_DAEMON,	 /* read by horod before the send */
	XL_SRC_KERNEL,	 /* the kernel's software TX stamp */
	XL_SRC_HARDWARE, /* the NIC's TX stamp, converted to system time */
};

/* One client: 32 bytes. */
struct xl_entry {
	uint64_t addr[2]; /* client address: IPv6, or IPv4 mapped (::ffff:a.b.c.d) */
	uint64_t rx;	  /* receive timestamp of our last reply (NTP, as sent); 0 = empty */
	uint64_t tx;	  /* transmit time of that reply (NTP), low bits XL_TX_FLAGS */
};

struct xl_table {
	uint64_t seed[2];   /* hash keys: sources cannot aim at one set */
	uint32_t set_mask;  /* sets - 1 */
	size_t bytes;	    /* mapped size of e */
	struct xl_entry *e; /* (set_mask + 1) * XL_WAYS entries */
};

/*
 * A table of at most BYTES (rounded down to a power of two of sets, at
 * least XL_MIN_BYTES), zeroed, with random hash keys; NULL when BYTES is
 * below XL_MIN_BYTES or the memory cannot be had. The memory is mapped
 * at once (no allocation later) and touched lazily by the kernel.
 */
struct xl_table *xl_create(size_t bytes);

/* Unmap T (NULL is fine). */
void xl_destroy(struct xl_table *t);

/* Clients T can hold. */
size_t xl_capacity(const struct xl_table *t);

/* The address of FROM as two words: IPv6, or IPv4 mapped (::ffff:a.b.c.d). */
void xl_key(const struct sockaddr *from, uint64_t k[2]);

/* The entry of address FROM, or XL_NONE. */
uint32_t xl_find(const struct xl_table *t, const struct sockaddr *from);

/* What xl_claim found. */
enum xl_claimed {
	XL_FOUND,   /* the client's entry */
	XL_NEW,	    /* an empty entry, now the client's */
	XL_EVICTED, /* another client's entry, now this one's */
};

/*
 * The entry of address FROM in *IDX, taking one (see the top) when it
 * has none; returns which (a table from xl_create always has one).
 */
enum xl_claimed xl_claim(struct xl_table *t, const struct sockaddr *from, uint32_t *idx);

/*
 * 1 when a request (origin ORG, receive REC, transmit XMT, version VN)
 * names the last reply of entry E as RFC 9769 says: version 4, its origin
 * equal to E's receive timestamp (never 0), its receive field not equal to
 * its transmit field, and a transmit time known for that reply.
 */
int xl_names_last(const struct xl_entry *e, uint64_t org, uint64_t rec, uint64_t xmt, int vn);

/*
 * Record a new exchange in E: the reply's receive timestamp RX (as sent)
 * and its transmit time TX (read before the send, XL_SRC_DAEMON);
 * XLEAVE says the request was interleaved (the flag stays).
 */
void xl_record(struct xl_entry *e, uint64_t rx, uint64_t tx, int xleave);

/*
 * A transmit stamp TX (NTP, source SRC) of the reply that carried
 * receive timestamp RX to the address whose key is K (xl_key): taken into
 * entry IDX when that entry still holds that address and that exchange;
 * 1 if taken, 0 when the client has moved on (a newer exchange) or was
 * evicted.
 */
int xl_stamp(struct xl_table *t, uint32_t idx, const uint64_t k[2], uint64_t rx, uint64_t tx,
	     enum xl_src src);

/* The transmit time of E as it goes on the wire (flag bits replaced, see XL_TX_FLAGS). */
uint64_t xl_tx_wire(const struct xl_entry *e);

/* Where E's transmit time came from. */
enum xl_src xl_tx_src(const struct xl_entry *e);

#endif
