/*
 * Answering one request: classify it (proto/), apply the access list,
 * read the clock snapshot, decide the mode (basic, or interleaved when
 * the request names the client's last reply: xleave.h; never for an
 * authenticated one, verified and sealed by daemon/auth/), stamp the
 * transmit time last and build the reply. Shared by both I/O backends,
 * so io_uring and recvmmsg serve exactly the same bytes. Never allocates,
 * locks, logs or makes a syscall (the clock read is a vDSO call).
 */
#ifndef HOROD_DAEMON_SERVE_H
#define HOROD_DAEMON_SERVE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "clock/snapshot.h"
#include "daemon/config/config.h"
#include "daemon/policy/acl.h"
#include "daemon/policy/policy.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/hwts.h"
#include "daemon/serve/m6queue.h"
#include "daemon/serve/txstamp.h"
#include "daemon/serve/xleave.h"
#include "daemon/policy/ratelimit.h"

/* bytes: room for a reply, never longer than its request, which fits a receive buffer */
#define SRV_REPLY_MAX 2048

/*
 * What every worker shares, read-only after start (the snapshot is
 * lock-free) but for the rules: the access lists, the limiter and
 * `denykod`, one pointer a reload swaps whole (each request is judged
 * by the old rules or the new ones, never a mix).
 */
struct srv_shared {
	_Atomic(const struct pol_rules *) rules; /* the policy of every request */
	const struct clk_pub *pub;		 /* the clock snapshot */
	clockid_t clock;			 /* the driver's raw clock */
	const struct hwts_table *hw;		 /* hardware stamping interfaces (may be empty) */
	struct m6_queue *m6;			 /* mode 6 hand-over to the clock thread, or NULL */
	const struct auth_shared *auth;		 /* NTS and symmetric keys (auth.h) */
	size_t xl_bytes; /* each worker's interleaved state (clientloglimit / workers) */
};

/* What one worker brings to a request: its own counters and state. */
struct srv_local {
	struct ctr_block *ctr; /* this worker's counters */
	struct xl_table *xl;   /* its interleaved state, or NULL (basic mode only) */
};

/* What srv_handle built. */
struct srv_reply {
	size_t len;	 /* bytes of reply (never more than the request's), 0 = nothing to send */
	int basic;	 /* a bare basic-mode time reply: its transmit is to be read right before it
			    leaves */
	int interleaved; /* its transmit is the previous reply's: never restamp it */
	int stamp;	 /* the client asks in interleaved mode: ask for its transmit stamp */
	uint32_t xl;	 /* the client's interleaved entry, or XL_NONE */
	uint32_t steps;	 /* the step count of the snapshot it was built under (clk_pub_fence) */
	uint64_t rx;	 /* the receive timestamp the reply carries (NTP) */
};

/*
 * Just before basic reply BUF (LEN bytes, OUT->steps in STEPS) leaves:
 * its transmit time from raw clock reading RAW under snapshot S, read
 * now (only forward: ntp_restamp_xmt); MAPPED is clk_snapshot_maps of S
 * and the caller's clock reading, taken after S. When a step of the
 * clock was announced since the reply was built (S's step count differs:
 * a leap's, clk_pub_fence), or between S and the reading (!MAPPED), the
 * reply's receive time and a transmit time now would straddle the step:
 * it is marked unsynchronized instead (LI 3, stratum 0), its timestamps
 * left. 1 when restamped.
 */
int srv_restamp(uint8_t *buf, size_t len, uint32_t steps, const struct clk_snapshot *s, int mapped,
		int64_t raw);

/* A set of rules the workers apply: copies of a configuration's lists, and a limiter. */
struct srv_policy {
	struct acl acl, control_acl;
	struct pol_rules rules; /* points into this, and to the limiter */
};

/*
 * The rules of configuration C (its access lists copied, `denykod`) with
 * the limiter RL (NULL: none); NULL when out of memory.
 */
struct srv_policy *srv_policy_new(const struct horod_config *c, struct rl_table *rl);

/* Free P (not its limiter). NULL is fine. */
void srv_policy_free(struct srv_policy *p);

/*
 * Handle the request REQ of LEN bytes from FROM, received on socket FD at
 * RX (raw driver time; RX_SRC says where it came from), with the
 * worker's LC. Counts the outcome and writes the reply to REPLY
 * (SRV_REPLY_MAX bytes of room; never more than LEN) and what it is to
 * OUT (len 0 when nothing is to be sent: a mode 6 request from an allowed
 * address is handed to the clock thread, which answers it). An
 * authenticated reply (NTS, MAC, an NTS NAK) is sealed here: OUT says
 * neither basic, interleaved nor stamp, so the worker sends it as built.
 */
void srv_handle(const struct srv_shared *sh, struct srv_local *lc, const uint8_t *req, size_t len,
		const struct sockaddr *from, int fd, const struct timespec *rx,
		enum ctr_tsrc rx_src, uint8_t *reply, struct srv_reply *out);

/*
 * Fill the transmit stamp record REC of the reply OUT built in REPLY for
 * FROM (its request came in on IFINDEX): which client entry and exchange
 * the stamp completes, and what checks a counted key.
 */
void srv_note_send(const struct srv_reply *out, const struct sockaddr *from, int ifindex,
		   const uint8_t *reply, struct txs_rec *rec);

#endif
