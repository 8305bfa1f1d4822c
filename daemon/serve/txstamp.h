/*
 * Transmit timestamps of the replies a worker sends, and what they are
 * used for. A time reply to a client that asks in interleaved mode (this
 * request, or one before: a basic client's origin does not count, every
 * client sends one), and every basic reply the worker sends alone
 * (wk_uring.c, wk_mmsg.c), asks the kernel for a transmit stamp
 * (SO_TIMESTAMPING in the send's control data: TX_SOFTWARE, and
 * TX_HARDWARE with `hwtimestamp`; the socket reports only the stamp and
 * its key, OPT_ID | OPT_TSONLY) under a key of ours (SCM_TS_OPT_ID, Linux
 * 6.13+; before that the socket's own count, checked against the reply's
 * bytes, see below). A ring per socket remembers, by key, what each send
 * was: the client's interleaved entry and the receive timestamp the reply
 * carried, and the clock reading and position of the submission that sent
 * it. When the stamp comes back (an io_uring CQE, or a batched read of the
 * error queue) it is used twice:
 *
 *  - interleaved mode: it becomes the transmit time of that reply in the
 *    client's entry (xleave.h), for the client's next request;
 *  - basic mode: it measures how long after the clock reading before a
 *    submission its k-th send really left. (Only stamped sends may be
 *    corrected with what stamped sends measured: measured with a capture
 *    at the client, an unstamped reply reached it up to 0.7 us sooner
 *    than the stamped ones' delays said, so correcting it by them made it
 *    late.) Per position k the worker
 *    keeps the smallest of those delays over the last TXS_WINDOWS windows
 *    of TXS_WINDOW_NS and stamps the k-th reply of a submission with the
 *    reading plus that minimum: a correction taken only from what was
 *    measured, never more than the fastest send of the last seconds took
 *    (thousands of them at any rate worth batching), so a reply's
 *    transmit timestamp is not later than the moment it leaves. A change
 *    for the slower (a busier CPU) raises the minimum only once it has
 *    lasted all the windows; a change for the faster lowers it at once.
 *    With fewer than TXS_MIN_SAMPLES sends in the windows the correction
 *    is 0: the reading itself, early by the sends ahead but never late.
 *
 * Memory: the error queue is charged to the socket's receive buffer, so
 * stamps not read in time crowd out requests (and the kernel drops stamps
 * past it): both backends read the queue after every batch they send
 * (the io_uring backend can take them as CQEs instead, see wk_uring.c).
 *
 * Keys: without our own (kernels before 6.13) the socket counts its
 * stamped sends, and the stamp brings the reply back with it (no
 * OPT_TSONLY then): it is taken only when that reply's origin and receive
 * timestamps are the record's (or those of the record next to it, and
 * the count is realigned by one): a count gone astray loses stamps, never
 * gives a client another's.
 */
#ifndef HOROD_DAEMON_TXSTAMP_H
#define HOROD_DAEMON_TXSTAMP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "clock/snapshot.h"
#include "proto/nstime.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/hwts.h"
#include "daemon/serve/xleave.h"

#define TXS_RING	4096 /* records per socket: sends whose stamp may still come (> slots) */
#define TXS_POS		8    /* positions in a submission with their own delay envelope */
#define TXS_CMSG	(2 * CMSG_SPACE(sizeof(uint32_t))) /* bytes of control data a send adds */
#define TXS_EQ_MAX	64				   /* stamps per error-queue read */
#define TXS_WINDOWS	4	   /* windows the delay minimum spans (see the top) */
#define TXS_WINDOW_NS	NS_PER_SEC /* ns: one window */
#define TXS_MIN_SAMPLES 256	   /* sends the windows need before their minimum is used */

/* How a socket's stamps come back. */
enum txs_mode {
	TXS_OFF,      /* no stamps (not asked for, or the socket gave up on its count) */
	TXS_CQE,      /* io_uring SOCKET_URING_OP_TX_TIMESTAMP completions */
	TXS_ERRQUEUE, /* recvmmsg(MSG_ERRQUEUE) after sends */
};

/* What one send was. */
struct txs_rec {
	uint32_t key;	  /* the stamp key it was sent with */
	uint32_t xl;	  /* the client's interleaved entry, or XL_NONE */
	uint64_t rx;	  /* receive timestamp its reply carried (NTP) */
	uint64_t org;	  /* origin its reply carried (NTP, checks a counted key) */
	uint64_t addr[2]; /* the client's address (xl_key) */
	int64_t t0;	  /* raw clock ns read before the submission that sent it, 0: none */
	int32_t pos;	  /* its position in that submission */
	uint32_t steps;	  /* the step count of the snapshot its reply was built under */
	int32_t ifindex;  /* interface its request came in on (hardware stamp conversion) */
};

struct txs_sock {
	enum txs_mode mode;
	int own_keys;	   /* keys set per send (SCM_TS_OPT_ID) */
	int hw;		   /* hardware stamps asked for */
	uint32_t next_key; /* key of the next stamped send */
	int32_t key_off;   /* counted keys: the kernel's key minus ours */
	uint32_t unread;   /* TXS_ERRQUEUE: stamped sends since the last read */
	struct txs_rec ring[TXS_RING];
};

/* The smallest send delay seen in one position (see the top). */
struct txs_env {
	int64_t min[TXS_WINDOWS]; /* ns: smallest delay of each window */
	uint32_t n[TXS_WINDOWS];  /* sends in each */
	int cur;		  /* the window being filled */
	int64_t start;		  /* raw ns: when it began, 0 = never */
};

/* One worker's stamps: its sockets' rings and the basic-mode delay minimum. */
struct txs {
	struct txs_sock *s; /* n sockets, mapped by txs_init */
	int n;
	struct txs_env env[TXS_POS]; /* per position in a submission */
	struct ctr_block *ctr;	     /* where stamps are counted */
	struct xl_table *xl;	     /* the interleaved state they complete, or NULL */
	const struct hwts_table *hw;
};

/*
 * Whether the running kernel takes a stamp key per send (SCM_TS_OPT_ID):
 * probed once, on first call, by sending one stamped datagram with that
 * control message (EINVAL means the kernel does not know it).
 */
int txs_kernel_own_keys(void);

/*
 * 1 when the io_uring backend should take stamps as CQEs (the socket
 * command): only when asked for (HOROD_TEST_TXSTAMP=cqe), see wk_uring.c.
 */
int txs_want_cqe(void);

/*
 * Set T up for N sockets (their stamps come back as MODE, HW: hardware
 * stamps asked for, OWN_KEYS: keys set per send), counting in CTR and
 * completing entries of XL (may be NULL). 0, or -ENOMEM.
 */
int txs_init(struct txs *t, int n, enum txs_mode mode, int hw, int own_keys, struct ctr_block *ctr,
	     struct xl_table *xl, const struct hwts_table *hwt);

/* Unmap T's rings. */
void txs_fini(struct txs *t);

/*
 * The next send on socket SOCK, when WANT (a stamp is wanted): append its
 * control data (the stamp request and our key) to BUF at OFF (TXS_CMSG
 * bytes of room), return its record to fill (xl, rx, org, addr, ifindex)
 * in *REC, and the new control length. Without WANT, or with stamps off,
 * *REC is NULL and OFF is returned.
 */
size_t txs_send(struct txs *t, int sock, int want, void *buf, size_t off, struct txs_rec **rec);

/* The clock reading T0 (raw ns) and position POS of the submission that sends REC. */
static inline void txs_submitted(struct txs_rec *rec, int64_t t0, int pos)
{
	rec->t0 = t0;
	rec->pos = pos;
}

/*
 * ns to add to the reading T0 (raw ns) before a submission for its POS-th
 * send: the delay minimum, or 0 (see the top).
 */
int64_t txs_ahead(const struct txs *t, int pos, int64_t t0);

/*
 * A stamp for socket SOCK: KEY, the time TS (raw clock, or the NIC's when
 * HW), and when not NULL the reply it carries back (PAYLOAD, LEN bytes:
 * checked against the record when the socket counts its own keys); SNAP
 * converts it to served time.
 */
void txs_on_stamp(struct txs *t, int sock, uint32_t key, const struct timespec *ts, int hw,
		  const uint8_t *payload, size_t len, const struct clk_snapshot *snap);

/*
 * TXS_ERRQUEUE: read the stamps waiting on socket SOCK (FD), in batches,
 * at most ROUNDS batches; returns the number read.
 */
int txs_read_errqueue(struct txs *t, int sock, int fd, const struct clk_pub *pub, int rounds);

#endif
