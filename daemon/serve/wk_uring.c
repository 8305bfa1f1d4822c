/*
 * The io_uring backend. One ring per worker, created in the worker's own
 * thread (SINGLE_ISSUER|DEFER_TASKRUN: completions run only when we ask).
 * Each socket has one multishot recvmsg on a shared provided-buffer ring;
 * every completion batch is handled in one pass: a reply built per
 * request into a free slot and queued as a sendmsg SQE, every buffer
 * recycled whatever happened, the CQ and the buffer ring advanced once,
 * and everything submitted with the next wait. A multishot request that
 * ends (no IORING_CQE_F_MORE, e.g. -ENOBUFS when the buffers ran dry) is
 * re-armed; its unread datagrams wait in the socket queue meanwhile.
 *
 * Transmit timestamps. Every time reply asks the kernel for its transmit
 * stamp, read back from the send socket's error queue (the reply leaves
 * from the socket's send socket, which nobody waits on: rxsock.h
 * rx_send_open; registered at n_socks + I) once per loop pass, in
 * batches (recvmmsg MSG_ERRQUEUE: one system call per pass and socket,
 * not per reply; txstamp.h). The io_uring socket command that delivers
 * them as CQEs instead (SOCKET_URING_OP_TX_TIMESTAMP, Linux 6.16, 32-byte
 * CQEs) is written and feature-detected, but only used when asked for
 * (HOROD_TEST_TXSTAMP=cqe): on 6.18 with this loop (a multishot recvmsg
 * on provided buffers on the same socket, registered files) it produced
 * send completions twice, a reply slot then serving two requests at once.
 * An interleaved reply carries the previous reply's stamp.
 * A basic reply carries a time read before it leaves. Sent in a
 * submission, it would leave only when the kernel got to it: the kernel
 * sends a submission one reply after the other, each send also
 * delivering the reply on loopback and veth; measured with the kernel's
 * stamps on a veth (the server end's NAPI on the same CPU, a capture at
 * the client end), the k-th send of a submission left 2.8 + 4.5 k us
 * after the reading at the fastest, 6 + 5 k us on average, so no
 * correction by position keeps the later ones' spread below a few us. So
 * while the worker keeps up, a basic reply goes out alone, by a sendmsg()
 * of its own right after its time is read (send_alone; what is queued
 * before it is submitted first): nothing between the reading and the
 * kernel's send but the system call. It is stamped, and its time is the
 * reading plus the smallest delay measured for such sends (see
 * txstamp.h): never more than the fastest of thousands of recent ones
 * took, so never later than it leaves. That costs a system call and a
 * stamp per basic reply; when its passes found a backlog on average over
 * the last few ms (near saturation, see WK_PASS_ENTER), it is behind and
 * basic replies go out WK_BEHIND_BATCH at a time in the submission,
 * unstamped (unless the client asks in interleaved mode) and uncorrected:
 * the reading before the batch, early by the sends ahead of each, never
 * late, the cost shared. (A sendmsg() per basic reply when behind too
 * cost less CPU per reply on loopback, but on the veth the worker then
 * lost 3-16 % of the requests at 57k/s and half at 85k/s, where batched
 * it lost none and 0-32 % (mostly under 12 %): bench/compare --precision --quick, builds
 * alternating.) A send the socket refuses for lack of buffer (EAGAIN: a
 * NIC's ring full) goes into the submission instead, where io_uring waits
 * for room: early, never late.
 * Interleaved replies and kiss-o'-death, whose transmit field is not read
 * now, always go out WK_SUBMIT_MAX at a time.
 *
 * Overload. While behind, the worker's sockets carry the overload filter
 * (rx_overload_filter): the kernel drops malformed datagrams before they
 * are queued, so past saturation the worker's time goes to requests it
 * can answer. Measured under a 1:8 mix of legit and malformed requests
 * (bench/guard-mix.sh's generator, a veth): the worker's CPU per datagram
 * fell by about a fifth, as a datagram the kernel queues costs a receive
 * completion, a copy and its release besides the ladder (1 % of it).
 * Those drops, with a full receive buffer's, are counted from the
 * sockets' own drop counts at the end of every load window
 * (kernel_dropped); they are not counted per reason. The filter goes on
 * only when the worker is behind and its sockets overflow, and off after
 * RX_FILTER_CALM windows not behind: below saturation every malformed
 * request is counted by its reason.
 *
 * Draining (a takeover: a successor reads the same sockets): each
 * socket's multishot receive is cancelled, and the loop runs on, answering
 * every datagram the ring had already taken, until every receive has
 * ended and every reply has been sent. Whatever the ring did not take
 * stays queued in the socket for the successor. A plain stop just leaves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <liburing.h>
#include <linux/errqueue.h>

#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/sys/log.h"
#include "daemon/sys/sandbox.h"
#include "daemon/serve/txstamp.h"
#include "daemon/serve/worker.h"
#include "proto/ntp.h"

#ifndef IORING_TIMESTAMP_HW_SHIFT
/* SOCKET_URING_OP_TX_TIMESTAMP (Linux 6.16), not in liburing 2.3's headers. */
#define SOCKET_URING_OP_TX_TIMESTAMP 4
#define IORING_TIMESTAMP_HW_SHIFT    16 /* cqe->flags bit: a hardware stamp */
#define IORING_TIMESTAMP_TYPE_SHIFT  17 /* cqe->flags from here on: SCM_TSTAMP_* type */
#define IORING_CQE_F_TSTAMP_HW	     (1U << IORING_TIMESTAMP_HW_SHIFT)
#endif

#define WK_RING_ENTRIES 1024 /* SQEs: a full batch of replies plus re-arms */
#define WK_NBUF		1024 /* provided receive buffers, a power of two */
#define WK_BUF_SIZE	2048 /* bytes each: 16 header + name + RX_CMSG_SPACE + payload */
#define WK_NSLOT	1024 /* replies in flight */
#define WK_BGID		7    /* our buffer group id (any value; one group per ring) */
#define WK_SUBMIT_MAX	16 /* replies per submission (basic ones alone): < 1 % of a reply's cost */
/*
 * Behind: the passes of the last WK_LOAD_WINDOW_NS found more than
 * WK_PASS_ENTER completions each on average (each request brings a
 * receive and a send completion; a reply sent by sendmsg() counts as
 * its send completion), and it stays behind until a window's passes
 * found fewer than WK_PASS_LEAVE (a basic reply sent alone and stamped
 * costs about 1.5 times one batched: without the gap the mode would flip
 * every window just below saturation). At saturation every
 * pass finds a backlog (about 30 on loopback: a multishot receive posts
 * at most 32 datagrams per round of task work, Linux 6.18); a client's
 * burst at 5k/s, or a worker descheduled on a shared machine, makes one
 * large pass among many of one or two. Neither one pass's count (with
 * more than 64, never reached, every reply at saturation went alone and
 * stamped, 6.5 us of CPU per reply instead of 4.4; with more than 16,
 * bursts at 11-25k/s were batched and the spread at the client grew from
 * 2.4 to 5-10 us) nor the share of time outside the wait (the wait runs
 * the receive work: at saturation it was often below 80 %) told them
 * apart.
 */
#define WK_LOAD_WINDOW_NS 10000000LL /* ns: 10 ms, thousands of requests at saturation */
#define WK_PASS_ENTER	  8	     /* completions per pass (4 requests): behind from here */
#define WK_PASS_LEAVE	  4	     /* completions per pass: keeping up again below this */
/* Basic replies per submission when behind: the k-th send's spread grows with k. */
#define WK_BEHIND_BATCH 4
#define WK_EQ_ROUNDS	4 /* error-queue batches read per socket per loop pass */
/*
 * Bytes reserved for the source address: sockaddr_in6 (28) rounded up so
 * the control data after it (at 16 + 32 bytes) is 8-byte aligned, as
 * struct cmsghdr requires.
 */
#define WK_NAME_SPACE 32

_Static_assert(WK_NAME_SPACE >= sizeof(struct sockaddr_in6), "a source address must fit");
_Static_assert((sizeof(struct io_uring_recvmsg_out) + WK_NAME_SPACE) % 8 == 0,
	       "control data must start 8-byte aligned");

enum wk_op { OP_RECV = 1, OP_SEND = 2, OP_TXTS = 3, OP_CANCEL = 4 };

#define UD(op, idx) (((uint64_t)(op) << 32) | (uint32_t)(idx))
#define UD_OP(ud)   ((uint32_t)((ud) >> 32))
#define UD_IDX(ud)  ((uint32_t)(ud))

struct uring_slot {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage to;
	union {
		char buf[RX_REPLY_CMSG_SPACE + TXS_CMSG];
		struct cmsghdr align;
	} cmsg;
	uint8_t buf[SRV_REPLY_MAX];
	int basic;	/* a basic reply: restamped right before it is submitted */
	int corrected;	/* ... plus the delay minimum (it is stamped; else the reading alone) */
	uint32_t steps; /* the step count it was built under (srv_restamp) */
	struct txs_rec *rec; /* its transmit stamp's record, or NULL */
};

struct uring_ctx {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	uint8_t *bufs;
	unsigned recycled;		    /* buffers added since the last advance */
	struct msghdr tmpl[CFG_MAX_LISTEN]; /* multishot templates: name and control sizes */
	int rearm[CFG_MAX_LISTEN];
	struct uring_slot slot[WK_NSLOT];
	uint32_t free_slot[WK_NSLOT];
	int n_free;
	uint32_t pending[WK_NSLOT]; /* slots queued since the last submission, in order */
	int n_pending;
	int fixed;		      /* sockets registered: SQEs name them by index */
	int cqe32;		      /* 32-byte CQEs: transmit stamps can come as CQEs */
	int rearm_ts[CFG_MAX_LISTEN]; /* the stamp command of socket I ended: arm it again */
	struct clk_snapshot snap;     /* for the stamps of this pass, read once */
	int have_snap;
	int behind;		/* backlogged passes (see WK_PASS_ENTER): batch basic replies */
	int64_t win_start;	/* raw ns: the load window began */
	unsigned win_passes;	/* passes in it */
	unsigned win_cqes;	/* completions they found */
	struct rx_overload ovl; /* the overload filter (rxsock.h) */
	int basic_queued;	/* behind: basic replies queued since the last submission */
	unsigned direct;	/* replies sent by sendmsg() since the last pass (send_alone) */
};

int wk_uring_probe(char *why, size_t len)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(4, &ring, 0);

	if (ret < 0) {
		snprintf(why, len, "io_uring_setup: %s", strerror(-ret));
		return ret;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * Restamp the basic replies queued since the last submission (see the
 * top of the file) and tell their stamps' records when they were sent.
 */
static void restamp(struct uring_ctx *c, struct worker *w)
{
	struct clk_snapshot snap;
	int64_t t0;
	int k, mapped;

	if (!c->n_pending)
		return;
	clk_snapshot_read(w->shared->pub, &snap);
	t0 = wk_raw_ns(w);
	mapped = clk_snapshot_maps(w->shared->pub, &snap, t0, t0);
	for (k = 0; k < c->n_pending; k++) {
		struct uring_slot *sl = &c->slot[c->pending[k]];

		if (sl->basic)
			srv_restamp(sl->buf, sl->iov.iov_len, sl->steps, &snap, mapped,
				    t0 + (sl->corrected ? txs_ahead(&w->txs, k, t0) : 0));
		if (sl->rec)
			txs_submitted(sl->rec, t0, k);
	}
}

/* Restamp what is queued and, with NOW, submit it (else the next wait does). */
static void submit(struct uring_ctx *c, struct worker *w, int now)
{
	restamp(c, w);
	c->n_pending = 0;
	c->basic_queued = 0;
	if (now)
		io_uring_submit(&c->ring);
}

/* The file socket I's replies are sent on (rxsock.h: its send socket): in an SQE. */
static int send_file(const struct uring_ctx *c, const struct worker *w, int i)
{
	return c->fixed ? w->n_socks + i : rx_send_fd(&w->socks[i]);
}

/*
 * Send the basic reply in slot SI of socket I alone, now: restamped right
 * before a sendmsg() of its own (no SQE: nothing between the reading and
 * the kernel's send but the system call), its slot free again at once.
 */
static void send_alone(struct uring_ctx *c, struct worker *w, int i, uint32_t si)
{
	struct io_uring_sqe *sqe;
	ssize_t r;

	c->pending[0] = si;
	c->n_pending = 1;
	restamp(c, w);
	c->n_pending = 0;
	do
		r = sendmsg(rx_send_fd(&w->socks[i]), &c->slot[si].msg, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN && (sqe = io_uring_get_sqe(&c->ring))) {
		/* A full send buffer (a NIC's ring): io_uring waits for room. Early, never late. */
		io_uring_prep_sendmsg(sqe, send_file(c, w, i), &c->slot[si].msg, 0);
		if (c->fixed)
			sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, UD(OP_SEND, si));
		return;
	}
	if (r < 0)
		ctr_inc(&w->ctr->reason[NTP_R_DROP_SEND_ERROR]);
	c->direct++;
	c->free_slot[c->n_free++] = si;
}

/* Get an SQE, flushing the queue to the kernel once if it is full. */
static struct io_uring_sqe *get_sqe(struct uring_ctx *c, struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	if (!sqe) {
		submit(c, w, 1);
		sqe = io_uring_get_sqe(&c->ring);
	}
	return sqe;
}

/* Arm socket I's transmit-stamp command (multishot: one SQE, a CQE per stamp). */
static int arm_txts(struct uring_ctx *c, struct worker *w, int i)
{
	struct io_uring_sqe *sqe = get_sqe(c, w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, send_file(c, w, i), NULL, 0, 0);
	sqe->cmd_op = SOCKET_URING_OP_TX_TIMESTAMP;
	if (c->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(OP_TXTS, i));
	c->rearm_ts[i] = 0;
	return 0;
}

static int arm_recv(struct uring_ctx *c, struct worker *w, int i)
{
	struct io_uring_sqe *sqe = get_sqe(c, w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, c->fixed ? i : w->socks[i].fd, &c->tmpl[i], 0);
	sqe->flags |= IOSQE_BUFFER_SELECT | (c->fixed ? IOSQE_FIXED_FILE : 0);
	sqe->buf_group = WK_BGID;
	io_uring_sqe_set_data64(sqe, UD(OP_RECV, i));
	c->rearm[i] = 0;
	return 0;
}

static void recycle(struct uring_ctx *c, unsigned bid)
{
	io_uring_buf_ring_add(c->br, c->bufs + (size_t)bid * WK_BUF_SIZE, WK_BUF_SIZE,
			      (unsigned short)bid, io_uring_buf_ring_mask(WK_NBUF),
			      (int)c->recycled);
	c->recycled++;
}

/* Handle one received datagram in buffer BUF (RES bytes) from socket I. */
static void on_datagram(struct uring_ctx *c, struct worker *w, int i, void *buf, int res)
{
	struct io_uring_recvmsg_out *out = io_uring_recvmsg_validate(buf, res, &c->tmpl[i]);
	struct msghdr cm = {0};
	struct srv_reply rep;
	struct rx_meta meta;
	struct uring_slot *sl;
	struct io_uring_sqe *sqe = NULL;
	uint32_t si;
	size_t len;
	void *name;
	int alone;

	if (!out)
		return; /* the kernel wrote less than its own header: nothing to count */
	name = io_uring_recvmsg_name(out);
	cm.msg_control = (char *)name + c->tmpl[i].msg_namelen;
	cm.msg_controllen = out->controllen;
	cm.msg_flags = (int)out->flags;
	rx_parse_cmsgs(&cm, &meta, w->shared->hw);
	if (meta.src == CTR_TS_DAEMON)
		clock_gettime(w->shared->clock, &meta.rx);

	if ((out->flags & MSG_TRUNC) || c->n_free == 0 || out->namelen > sizeof(sl->to)) {
		ctr_inc(&w->ctr->received);
		ctr_inc(&w->ctr->tsrc[meta.src]);
		ctr_inc(&w->ctr->reason[(out->flags & MSG_TRUNC) ? NTP_R_DROP_TRUNCATED
								 : NTP_R_DROP_NO_SLOT]);
		return;
	}
	si = c->free_slot[--c->n_free];
	sl = &c->slot[si];
	srv_handle(w->shared, &w->lc, io_uring_recvmsg_payload(out, &c->tmpl[i]),
		   io_uring_recvmsg_payload_length(out, res, &c->tmpl[i]), name, w->socks[i].fd,
		   &meta.rx, meta.src, sl->buf, &rep);
	len = rep.len;
	/* A basic reply leaves first in its submission: what is queued goes before. */
	if (len && rep.basic && !c->behind && c->n_pending)
		submit(c, w, 1);
	alone = len && rep.basic && !c->behind;
	if (!len || (!alone && !(sqe = get_sqe(c, w)))) {
		if (len)
			ctr_inc(&w->ctr->reason[NTP_R_DROP_NO_SLOT]);
		c->free_slot[c->n_free++] = si;
		return;
	}
	/* msg_name, msg_iov and iov_base were set once in setup(). */
	memcpy(&sl->to, name, out->namelen);
	sl->iov.iov_len = len;
	sl->msg.msg_namelen = out->namelen;
	sl->basic = rep.basic;
	sl->steps = rep.steps;
	/* A basic reply sent alone is stamped, and corrected by what stamped ones measured. */
	sl->corrected = rep.basic && !c->behind;
	sl->msg.msg_controllen =
		txs_send(&w->txs, i, rep.stamp || sl->corrected, sl->cmsg.buf,
			 rx_reply_cmsg(&w->socks[i], &meta, sl->cmsg.buf), &sl->rec);
	sl->msg.msg_control = sl->msg.msg_controllen ? sl->cmsg.buf : NULL;
	if (sl->rec)
		srv_note_send(&rep, name, meta.ifindex, sl->buf, sl->rec);
	if (alone) {
		send_alone(c, w, i, si);
		return;
	}
	io_uring_prep_sendmsg(sqe, send_file(c, w, i), &sl->msg, 0);
	if (c->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(OP_SEND, si));
	c->pending[c->n_pending++] = si;
	if ((rep.basic && ++c->basic_queued >= WK_BEHIND_BATCH) || c->n_pending >= WK_SUBMIT_MAX)
		submit(c, w, 1);
}

/* A completion of socket I's transmit-stamp command. */
static void on_txts(struct uring_ctx *c, struct worker *w, int i, struct io_uring_cqe *cqe)
{
	struct timespec ts;
	uint64_t sec, nsec;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		/* Ended: a kernel without the command (then the error queue), else re-arm. */
		if (cqe->res == -EINVAL || cqe->res == -EOPNOTSUPP || cqe->res == -ENOTSUP) {
			w->txs.s[i].mode = TXS_ERRQUEUE;
			return;
		}
		c->rearm_ts[i] = 1;
		return;
	}
	/* The stamp: key in res, hardware flag and type in flags, time in the second half. */
	if ((cqe->flags >> IORING_TIMESTAMP_TYPE_SHIFT) != SCM_TSTAMP_SND)
		return;
	memcpy(&sec, &cqe->big_cqe[0], sizeof(sec));
	memcpy(&nsec, &cqe->big_cqe[1], sizeof(nsec));
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)nsec;
	if (!c->have_snap) {
		clk_snapshot_read(w->shared->pub, &c->snap);
		c->have_snap = 1;
	}
	txs_on_stamp(&w->txs, i, (uint32_t)cqe->res, &ts, !!(cqe->flags & IORING_CQE_F_TSTAMP_HW),
		     NULL, 0, &c->snap);
}

static void on_cqe(struct uring_ctx *c, struct worker *w, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	uint32_t idx = UD_IDX(ud);

	if (UD_OP(ud) == OP_TXTS) {
		if (idx < (uint32_t)w->n_socks)
			on_txts(c, w, (int)idx, cqe);
		return;
	}
	if (UD_OP(ud) == OP_SEND) {
		if (idx >= WK_NSLOT)
			return;
		if (cqe->res < 0)
			ctr_inc(&w->ctr->reason[NTP_R_DROP_SEND_ERROR]);
		c->free_slot[c->n_free++] = idx;
		return;
	}
	if (UD_OP(ud) == OP_CANCEL)
		return; /* the receive it cancelled ends with its own CQE */
	if (UD_OP(ud) != OP_RECV || idx >= (uint32_t)w->n_socks)
		return;
	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->rearm[idx] = 1;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

		if (bid < WK_NBUF) {
			if (cqe->res > 0)
				on_datagram(c, w, (int)idx, c->bufs + (size_t)bid * WK_BUF_SIZE,
					    cqe->res);
			recycle(c, bid);
		}
	}
}

static int setup(struct uring_ctx *c, struct worker *w)
{
	/*
	 * The SQE opcodes this file submits; the ring refuses any other (and
	 * any registration once running) with -EACCES. io_uring requests
	 * bypass the seccomp filter, so this list is their filter: an opcode
	 * or SQE flag used in this file must be allowed here. ASYNC_CANCEL
	 * ends a draining worker's own receives, nothing else. The socket
	 * command (URING_CMD) is allowed only when transmit stamps come that
	 * way: it also reaches getsockopt and setsockopt of those sockets.
	 */
	static const uint8_t ops[] = {IORING_OP_RECVMSG, IORING_OP_SENDMSG, IORING_OP_ASYNC_CANCEL,
				      IORING_OP_URING_CMD};
	int n_ops = 3; /* the socket command only when stamps come as CQEs */
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	int ret, i;

	/*
	 * Created disabled: it runs once restricted to OPS (sb_uring_restrict,
	 * below). 32-byte CQEs carry transmit stamps; kernels before 5.19 lack
	 * them, before 6.1 the other flags: each is dropped in turn.
	 */
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQE32,
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		0,
	};
	unsigned k;

	ret = -EINVAL;
	for (k = 0; k < sizeof(flag_sets) / sizeof(flag_sets[0]) && ret == -EINVAL; k++) {
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[k] | IORING_SETUP_R_DISABLED;
		ret = io_uring_queue_init_params(WK_RING_ENTRIES, &c->ring, &p);
		c->cqe32 = ret == 0 && (flag_sets[k] & IORING_SETUP_CQE32);
	}
	if (ret < 0)
		return ret;
	ret = txs_init(&w->txs, w->n_socks, c->cqe32 && txs_want_cqe() ? TXS_CQE : TXS_ERRQUEUE,
		       w->shared->hw->n_tx > 0, txs_kernel_own_keys(), w->ctr, w->xl,
		       w->shared->hw);
	if (ret < 0)
		return ret;

	/* liburing 2.3 has no io_uring_setup_buf_ring(): map and register by hand. */
	c->br_bytes = WK_NBUF * sizeof(struct io_uring_buf);
	c->br = mmap(NULL, c->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	c->bufs = mmap(NULL, (size_t)WK_NBUF * WK_BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (c->br == MAP_FAILED || c->bufs == MAP_FAILED)
		return -ENOMEM;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)c->br;
	reg.ring_entries = WK_NBUF;
	reg.bgid = WK_BGID;
	ret = io_uring_register_buf_ring(&c->ring, &reg, 0);
	if (ret < 0)
		return ret;
	io_uring_buf_ring_init(c->br);
	for (i = 0; i < WK_NBUF; i++)
		recycle(c, (unsigned)i);
	io_uring_buf_ring_advance(c->br, (int)c->recycled);
	c->recycled = 0;

	for (i = 0; i < WK_NSLOT; i++) {
		struct uring_slot *sl = &c->slot[i];

		c->free_slot[i] = (uint32_t)(WK_NSLOT - 1 - i);
		memset(&sl->msg, 0, sizeof(sl->msg));
		sl->msg.msg_name = &sl->to;
		sl->msg.msg_iov = &sl->iov;
		sl->msg.msg_iovlen = 1;
		sl->iov.iov_base = sl->buf;
	}
	c->n_free = WK_NSLOT;
	/* Registered sockets spare a file reference count per request; optional. */
	{
		int fds[2 * CFG_MAX_LISTEN];

		/* Receive socket I at I, its send socket at n_socks + I (send_file). */
		for (i = 0; i < w->n_socks; i++) {
			fds[i] = w->socks[i].fd;
			fds[w->n_socks + i] = rx_send_fd(&w->socks[i]);
		}
		c->fixed = io_uring_register_files(&c->ring, fds, 2 * (unsigned)w->n_socks) == 0;
	}
	/* Every registration is done: allow only our opcodes and flags, then start the ring. */
	for (i = 0; i < w->n_socks; i++)
		if (w->txs.s[i].mode == TXS_CQE)
			n_ops = 4;
	ret = sb_uring_restrict(&c->ring, ops, n_ops, IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT);
	if (ret < 0)
		return ret;
	rx_overload_start(&c->ovl, w->socks, w->n_socks);
	for (i = 0; i < w->n_socks; i++) {
		memset(&c->tmpl[i], 0, sizeof(c->tmpl[i]));
		c->tmpl[i].msg_namelen = WK_NAME_SPACE;
		c->tmpl[i].msg_controllen = RX_CMSG_SPACE;
		ret = arm_recv(c, w, i);
		if (ret < 0)
			return ret;
		if (w->txs.s[i].mode == TXS_CQE) {
			ret = arm_txts(c, w, i);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static void teardown(struct uring_ctx *c, struct worker *w)
{
	/* A successor (a takeover) reads these sockets: leave no filter on them. */
	rx_overload_stop(&c->ovl, w->socks, w->n_socks);
	txs_fini(&w->txs);
	if (c->ring.ring_fd > 0)
		io_uring_queue_exit(&c->ring);
	if (c->br && c->br != MAP_FAILED)
		munmap(c->br, c->br_bytes);
	if (c->bufs && c->bufs != MAP_FAILED)
		munmap(c->bufs, (size_t)WK_NBUF * WK_BUF_SIZE);
}

/*
 * A pass found READY completions at NOW (raw ns): count it and, at the
 * end of a load window, decide whether the worker is behind (see
 * WK_PASS_ENTER).
 */
static void load_window(struct uring_ctx *c, struct worker *w, unsigned ready, int64_t now)
{
	uint64_t got;

	c->win_passes++;
	c->win_cqes += ready;
	if (c->win_start && now >= c->win_start && now - c->win_start < WK_LOAD_WINDOW_NS)
		return;
	if (c->win_start)
		c->behind = c->win_cqes >
			    c->win_passes * (unsigned)(c->behind ? WK_PASS_LEAVE : WK_PASS_ENTER);
	c->win_start = now;
	c->win_passes = 0;
	c->win_cqes = 0;
	/* What the kernel dropped meanwhile; the overload filter on or off (rxsock.h). */
	got = rx_overload_window(&c->ovl, w->socks, w->n_socks, c->behind);
	/* Only this worker writes its block (as ctr_inc). */
	atomic_store_explicit(&w->ctr->kernel_drops,
			      atomic_load_explicit(&w->ctr->kernel_drops, memory_order_relaxed) +
				      got,
			      memory_order_relaxed);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Drain (see the top of the file): cancel every socket's receive, then
 * reap and answer until each receive has ended and no reply is in
 * flight, or WK_DRAIN_MAX_MS passed.
 */
static void drain(struct uring_ctx *c, struct worker *w)
{
	int64_t end = mono_ms() + WK_DRAIN_MAX_MS;
	int i, live;

	for (i = 0; i < w->n_socks; i++) {
		struct io_uring_sqe *sqe;

		if (c->rearm[i])
			continue; /* ended already: nothing to cancel, and it is not re-armed */
		sqe = get_sqe(c, w);
		if (!sqe)
			break;
		io_uring_prep_cancel64(sqe, UD(OP_RECV, i), 0);
		io_uring_sqe_set_data64(sqe, UD(OP_CANCEL, i));
	}
	for (;;) {
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000000L};
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		for (i = 0, live = 0; i < w->n_socks; i++)
			live += !c->rearm[i];
		if ((!live && c->n_free == WK_NSLOT && !c->n_pending) || mono_ms() >= end)
			break;
		wk_beat(w);
		submit(c, w, 0);
		io_uring_submit_and_wait_timeout(&c->ring, &cqe, 1, &ts, NULL);
		io_uring_for_each_cqe(&c->ring, head, cqe)
		{
			on_cqe(c, w, cqe);
			seen++;
		}
		io_uring_cq_advance(&c->ring, seen);
		if (c->recycled) {
			io_uring_buf_ring_advance(c->br, (int)c->recycled);
			c->recycled = 0;
		}
	}
	submit(c, w, 1);
}

int wk_run_uring(struct worker *w)
{
	struct uring_ctx *c;
	int ret, i;

	/* ~1.5 MB of slots: mapped, not on the thread's stack. */
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (c == MAP_FAILED)
		return -ENOMEM;
	wk_xleave_init(w);
	ret = setup(c, w);
	while (ret == 0 && !wk_stopping()) {
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = WK_STOP_POLL_MS * 1000000L};
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		wk_beat(w);
		submit(c, w, 0);
		ret = io_uring_submit_and_wait_timeout(&c->ring, &cqe, 1, &ts, NULL);
		/* A reply sent by sendmsg() counts as the send completion it would have had. */
		load_window(c, w, io_uring_cq_ready(&c->ring) + c->direct, wk_raw_ns(w));
		c->direct = 0;
		if (ret == -ETIME || ret == -EINTR || ret == -EBUSY || ret == -EAGAIN) {
			ret = 0;
		} else if (ret < 0) {
			break;
		}
		ret = 0;
		c->have_snap = 0;
		/*
		 * The stamps of what was sent since the last pass first (one read
		 * per socket), so the requests of this pass find their clients'
		 * last replies measured.
		 */
		for (i = 0; i < w->n_socks; i++)
			if (w->txs.s && w->txs.s[i].mode == TXS_ERRQUEUE && w->txs.s[i].unread)
				txs_read_errqueue(&w->txs, i, rx_send_fd(&w->socks[i]),
						  w->shared->pub, WK_EQ_ROUNDS);
		io_uring_for_each_cqe(&c->ring, head, cqe)
		{
			on_cqe(c, w, cqe);
			seen++;
		}
		io_uring_cq_advance(&c->ring, seen);
		if (c->recycled) {
			io_uring_buf_ring_advance(c->br, (int)c->recycled);
			c->recycled = 0;
		}
		for (i = 0; i < w->n_socks && ret == 0; i++) {
			if (c->rearm[i])
				ret = arm_recv(c, w, i);
			if (ret == 0 && c->rearm_ts[i] && w->txs.s[i].mode == TXS_CQE)
				ret = arm_txts(c, w, i);
		}
	}
	if (ret == 0 && wk_draining())
		drain(c, w);
	teardown(c, w);
	munmap(c, sizeof(*c));
	xl_destroy(w->xl);
	w->xl = NULL;
	return ret;
}
