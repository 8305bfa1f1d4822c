/*
 * The NTS-KE server (RFC 8915 section 4): TLS 1.3 with ALPN ntske/1 on
 * TCP port `ntsport` of every listen address, in a thread of its own
 * (never a worker, never the clock thread), which also does the server
 * keys' periodic work (rotation, reading the file again: ntskeys.h).
 *
 * One event loop over non-blocking sockets: at most `maxntsconnections`
 * sessions at once (a connection past that is accepted and closed at
 * once, counted), each bounded by KES_TIMEOUT_MS from accept to close, so
 * a client that stalls or a flood of handshakes holds a bounded amount of
 * memory and time and never touches NTP serving (one thread: at most one
 * CPU's worth of handshakes, whatever the flood). Per session: handshake, read
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

#define KES_TIMEOUT_MS 2000 /* ms from accept to close: a whole exchange (chrony's 2 s) */

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

struct kes {
	struct tls_ctx tls;
	int lfd[CFG_MAX_LISTEN]; /* listening TCP sockets */
	int n_lfd;
	struct kes_conn *conn; /* max_conn sessions */
	int max_conn;
	struct nks *nks;
	int slot;    /* this thread's reader slot */
	int stop_fd; /* eventfd: wakes the thread to stop */
	pthread_t thread;
	int started;
	char ntp_server[CFG_HOST_MAX]; /* `ntsntpserver`, "" = none */
	int ntp_port;		       /* NTP port to name, 0 when it is 123 */
	struct cry_rng rng;	       /* cookie nonces */
	_Atomic uint64_t outcome[KES_OUTCOME_MAX];
};

/*
 * Load the certificate and key, bind the listening sockets (port
 * `ntsport` on every listen address) and prepare the sessions, before
 * privileges are dropped. 0, or -1 with the reason in ERR.
 */
int kes_open(struct kes *k, const struct horod_config *c, struct nks *nks, char *err,
	     size_t errlen);

/* Start the thread; 0 or -errno. */
int kes_start(struct kes *k);

/* Stop the thread (if started): no session runs after it; the counters stay. */
void kes_stop(struct kes *k);

/* Stop the thread (if started) and release everything. */
void kes_close(struct kes *k);

#endif
