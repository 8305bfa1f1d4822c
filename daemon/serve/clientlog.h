/*
 * The client log behind `horoctl clients`: per worker, a bounded table
 * of the sources it heard from, with their request count, drops, last
 * time seen and mean interval between requests. Each worker writes only
 * its own table (no lock, no atomic read-modify-write, no allocation on
 * the request path); the clock thread reads every table through a
 * per-entry sequence count and merges them. Four-way set associative:
 * a new source replaces an entry silent for an hour, else the one of its
 * set with fewer requests, so busy clients stay and one-off (or spoofed)
 * sources cycle through.
 */
#ifndef HOROD_DAEMON_CLIENTLOG_H
#define HOROD_DAEMON_CLIENTLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CLOG_SLOTS   4096 /* entries per worker: 4 ways x 1024 sets, 56 B each = 224 KiB */
#define CLOG_TOP_MAX 100  /* clients a `clients` answer lists at most */

struct clog_entry {
	_Atomic uint32_t seq;	  /* odd while the owner writes */
	_Atomic uint32_t family;  /* AF_INET / AF_INET6; 0 = empty */
	_Atomic uint64_t addr[2]; /* the address, IPv4 in the first 4 bytes */
	_Atomic uint64_t requests;
	_Atomic uint64_t drops;	 /* requests not answered (policy drops, malformed) */
	_Atomic int64_t last_ns; /* CLOCK_REALTIME ns of the last request */
	_Atomic int64_t ival_ns; /* mean interval between requests (moving average), 0 = one */
};

struct clog {
	uint64_t seed; /* hash key: sources cannot aim at one set */
	struct clog_entry e[CLOG_SLOTS];
};

/* One merged client, for the answer. */
struct clog_client {
	int family;
	uint8_t addr[16];
	uint64_t requests, drops;
	int64_t last_ns;
	int64_t ival_ns;
};

/* A zeroed table with a random seed; NULL on allocation failure. */
struct clog *clog_create(void);

/* Free L (NULL is fine). */
void clog_destroy(struct clog *l);

/* Owner only: note a request from FROM at NOW_NS (realtime), ANSWERED or not. */
void clog_note(struct clog *l, const struct sockaddr *from, int64_t now_ns, int answered);

/*
 * Merge the N tables LOGS (entries of one address in several workers are
 * added together) and write the MAX busiest to OUT, by requests
 * descending; returns how many. Clients seen in no table are not listed.
 * TOTAL, if not NULL, gets the number of distinct clients found.
 */
int clog_top(struct clog *const *logs, int n, struct clog_client *out, int max, int *total);

#endif
