/*
 * The NTS-KE server (RFC 8915 section 4): TLS 1.3 with ALPN ntske/1 on
 * TCP port `ntsport` of every listen address, in threads of its own
 * (never a worker, never the clock thread); the first also does the
 * server keys' periodic work (rotation, reading the file again:
 * ntskeys.h). The certificate and key can be loaded again (SIGHUP) while
 * sessions run: each session holds the ones it started with.
 *
 * `ntsthreads` threads (one per CPU by default), each one event loop
 * over non-blocking sockets, all accepting from the same listening
 * sockets: at most `maxntsconnections` sessions at once, all threads
 * together (a connection past that is accepted and closed at once,
 * counted), each bounded by KES_TIMEOUT_MS from accept to close, so a
 * client that stalls or a flood of handshakes holds a bounded amount of
 * memory and time and never touches NTP serving (at most `ntsthreads`
 * CPUs' worth of handshakes, whatever the flood). Per session: handshake, read
 * one request (up to 16 KiB), answer it (NTPv4, AES-SIV-CMAC-256, 8
 * cookies sealed with the current server key, the `ntsntpserver` name and
 * the NTP port when it is not 123; or the RFC's error), close_notify,
 * the client's close_notify or close (within the same bound), close.
 * Counted by outcome (a session answered counts as answered even if the
 * client never closes).
 */
#ifndef HOROD_DAEMON_KESERVER_H
#define HOROD_DAEMON_KESERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "daemon/auth/ntskeys.h"
#include "daemon/config/config.h"
#include "proto/crypto.h"
#include "tls/tls.h"

#define KES_TIMEOUT_MS	2000 /* ms from accept to close: a whole exchange (chrony's 2 s) */
#define KES_THREADS_MAX 16   /* handshake threads: `ntsthreads` 1-16 */

/* NTS-KE sessions by outcome: X(enum suffix, stable name, description). */
#define KES_OUTCOME_LIST(X)                                                                        \
	X(OK, "ok", "answered with cookies")                                                       \
	X(NOTHING_IN_COMMON, "nothing_in_common",                                                  \
	  "answered without cookies: no protocol or AEAD in common")                               \
	X(BAD_REQUEST, "bad_request",                                                              \
	  "answered with an NTS-KE error record (bad request, "                                    \
	  "unrecognized critical record)")                                                         \
	X(TLS_FAILED, "tls_failed", "TLS handshake failed (no TLS 1.3, no ntske/1, bad data)")     \
	X(TIMEOUT, "timeout", "did not finish within 2 s")                                         \
	X(CLOSED, "closed", "the client closed before a whole request")                            \
	X(REFUSED, "refused", "refused: maxntsconnections sessions already open")                  \
	X(INTERNAL, "internal", "answered with an internal server error")

enum kes_outcome {
#define KES_ENUM(id, name, desc) KES_##id,
	KES_OUTCOME_LIST(KES_ENUM)
#undef KES_ENUM
		KES_OUTCOME_MAX
};

/* Stable name of outcome O ("ok", "tls_failed", ...). */
const char *kes_outcome_name(enum kes_outcome o);

/* One-line description of outcome O. */
const char *kes_outcome_desc(enum kes_outcome o);

struct kes_conn;
struct kes_cred;
struct kes;

/* One handshake thread's own: its sessions, its reader slot, its nonces. */
struct kes_thr {
	struct kes *k;
	struct kes_conn *conn; /* max_conn sessions (all threads together hold at most max_conn) */
	int slot;	       /* this thread's reader slot of the server keys */
	struct cry_rng rng;    /* cookie nonces */
	pthread_t thread;
	int started;
};

struct kes {
	struct kes_cred *cred;	   /* the certificate and key new sessions take (cred_lock) */
	pthread_mutex_t cred_lock; /* taken once per accepted connection and by a reload */
	int lfd[CFG_MAX_LISTEN];   /* listening TCP sockets, shared by every thread */
	int n_lfd;
	int max_conn;
	_Atomic int open; /* sessions open, all threads together */
	struct nks *nks;
	int stop_fd; /* eventfd: once written, wakes (and stops) every thread */
	struct kes_thr thr[KES_THREADS_MAX];
	int n_thr;
	char ntp_server[CFG_HOST_MAX]; /* `ntsntpserver`, "" = none */
	int ntp_port;		       /* NTP port to name, 0 when it is 123 */
	_Atomic uint64_t outcome[KES_OUTCOME_MAX];
};

/* The number of threads `ntsthreads N` asks for: N, or one per online CPU for 0 (capped). */
int kes_threads(int n);

/*
 * Load the certificate and key, bind the listening sockets (port
 * `ntsport` on every listen address) and prepare the sessions, before
 * privileges are dropped. 0, or -1 with the reason in ERR.
 */
int kes_open(struct kes *k, const struct horod_config *c, struct nks *nks, char *err,
	     size_t errlen);

/*
 * Load the certificate CERT and key KEY again (the same checks as at
 * start) and hand them to the sessions accepted from now on; sessions
 * already running finish with what they started with, freed after the
 * last one. 0, or -1 with the reason in ERR (the old ones stay).
 */
int kes_reload_cred(struct kes *k, const char *cert, const char *key, char *err, size_t errlen);

/* Start the threads; 0 or -errno (none left running). */
int kes_start(struct kes *k);

/* Stop the threads (if started): no session runs after it; the counters stay. */
void kes_stop(struct kes *k);

/* Stop the threads (if started) and release everything. */
void kes_close(struct kes *k);

#endif
