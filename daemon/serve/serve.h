/*
 * Answering one request: classify it (proto/), apply the access list,
 * read the clock snapshot, stamp the transmit time last and build the
 * reply. Shared by both I/O backends, so io_uring and recvmmsg serve
 * exactly the same bytes. Never allocates, locks, logs or makes a
 * syscall (the clock read is a vDSO call).
 */
#ifndef HOROD_DAEMON_SERVE_H
#define HOROD_DAEMON_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "clock/snapshot.h"
#include "daemon/policy/acl.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/hwts.h"
#include "daemon/serve/m6queue.h"
#include "daemon/policy/ratelimit.h"

/* bytes: room for a reply, never longer than its request, which fits a receive buffer */
#define SRV_REPLY_MAX 2048

/* What every worker shares, read-only after start (the snapshot is lock-free). */
struct srv_shared {
	const struct acl *acl;		/* allow / deny for requests */
	const struct acl *control_acl;	/* mode 6 sources besides loopback */
	const struct clk_pub *pub;	/* the clock snapshot */
	clockid_t clock;		/* the driver's raw clock */
	const struct hwts_table *hw;	/* hardware stamping interfaces (may be empty) */
	struct rl_table *rl;		/* rate limiter (guard not loaded), else NULL */
	int deny_kod;			/* `denykod on`: denied sources get a DENY kiss-o'-death */
	struct m6_queue *m6;		/* mode 6 hand-over to the clock thread, or NULL */
	const struct auth_shared *auth; /* NTS and symmetric keys (auth.h) */
};

/*
 * Handle the request REQ of LEN bytes from FROM, received on socket FD at
 * RX (raw driver time; RX_SRC says where it came from). Counts the outcome
 * in CTR and returns the reply length written to REPLY (SRV_REPLY_MAX
 * bytes of room; never more than LEN), or 0 when nothing is to be sent (a
 * mode 6 request from an allowed address is handed to the clock thread,
 * which answers it).
 */
size_t srv_handle(const struct srv_shared *sh, struct ctr_block *ctr, const uint8_t *req,
		  size_t len, const struct sockaddr *from, int fd, const struct timespec *rx,
		  enum ctr_tsrc rx_src, uint8_t *reply);

#endif
