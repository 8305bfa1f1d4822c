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
 * Transmit timestamps: a reply is built when its request is handled, but
 * it leaves only when the batch is submitted, and the kernel sends the
 * batch one reply after the other (each send also delivers on loopback).
 * Stamped at build time, the k-th reply of a batch would be early by the
 * rest of the batch's handling plus k sends (tens of microseconds at a
 * few hundred thousand requests/s). So right before each submission the
 * clock is read once more and every queued reply is restamped with that
 * time plus its position times the measured cost of one send (timed on a
 * sample of submissions, averaged).
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

#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/sys/log.h"
#include "daemon/sys/sandbox.h"
#include "daemon/serve/worker.h"
#include "proto/ntp.h"

#define WK_RING_ENTRIES 1024 /* SQEs: a full batch of replies plus re-arms */
#define WK_NBUF		1024 /* provided receive buffers, a power of two */
#define WK_BUF_SIZE	2048 /* bytes each: 16 header + name + RX_CMSG_SPACE + payload */
#define WK_NSLOT	1024 /* replies in flight */
#define WK_BGID		7    /* our buffer group id (any value; one group per ring) */
#define WK_TIME_EVERY	16   /* time one submission in 16 (a second io_uring_enter) */
/*
 * Replies per submission at most: the restamp predicts the k-th send of a
 * submission, and a prediction k sends ahead is only as good as k times
 * the estimate's error; one more io_uring_enter per this many replies
 * costs < 1 % of a reply.
 */
#define WK_SUBMIT_MAX	  8
#define WK_SEND_EST_SHIFT 3	/* send cost average: each sample weighs 1/8 */
#define WK_SEND_MAX_NS	  50000 /* ns: a per-send sample above this is a stall, not a cost */
/*
 * Bytes reserved for the source address: sockaddr_in6 (28) rounded up so
 * the control data after it (at 16 + 32 bytes) is 8-byte aligned, as
 * struct cmsghdr requires.
 */
#define WK_NAME_SPACE 32

_Static_assert(WK_NAME_SPACE >= sizeof(struct sockaddr_in6), "a source address must fit");
_Static_assert((sizeof(struct io_uring_recvmsg_out) + WK_NAME_SPACE) % 8 == 0,
	       "control data must start 8-byte aligned");

enum wk_op { OP_RECV = 1, OP_SEND = 2, OP_CANCEL = 3 };

#define UD(op, idx) (((uint64_t)(op) << 32) | (uint32_t)(idx))
#define UD_OP(ud)   ((uint32_t)((ud) >> 32))
#define UD_IDX(ud)  ((uint32_t)(ud))

struct uring_slot {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage to;
	union {
		char buf[RX_REPLY_CMSG_SPACE];
		struct cmsghdr align;
	} cmsg;
	uint8_t buf[SRV_REPLY_MAX];
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
	int64_t send_ns;  /* average cost of one queued send, ns */
	int fixed;	  /* sockets registered: SQEs name them by index */
	unsigned submits; /* submissions so far (picks the timed ones) */
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

static int64_t raw_ns(const struct worker *w)
{
	return clk_now_ns(w->shared->clock);
}

/*
 * Restamp the transmit time of every reply queued since the last
 * submission (see the top of the file); returns the raw clock reading.
 */
static int64_t restamp(struct uring_ctx *c, const struct worker *w)
{
	struct clk_snapshot snap;
	int64_t raw = raw_ns(w), now;
	int k;

	if (!c->n_pending)
		return raw;
	clk_snapshot_read(w->shared->pub, &snap);
	now = clk_snapshot_served(&snap, raw);
	for (k = 0; k < c->n_pending; k++) {
		struct uring_slot *sl = &c->slot[c->pending[k]];

		ntp_restamp_xmt(sl->buf, sl->iov.iov_len,
				ntp_ts_from_unix_ns(now + (int64_t)k * c->send_ns));
	}
	return raw;
}

/*
 * Restamp what is queued and, with NOW, submit it (else the next wait
 * does). One submission in WK_TIME_EVERY with at least two sends is
 * submitted and timed on its own (the sends run inline, so its length is
 * their cost) to keep the per-send estimate current.
 */
static void submit(struct uring_ctx *c, struct worker *w, int now)
{
	int64_t t0 = restamp(c, w);
	int n = c->n_pending;

	c->n_pending = 0;
	if (n >= 2 && (c->submits++ % WK_TIME_EVERY) == 0) {
		int done = io_uring_submit(&c->ring);
		int64_t per = (raw_ns(w) - t0) / n;

		if (done >= n && per > 0 && per < WK_SEND_MAX_NS)
			c->send_ns += (per - c->send_ns) / (1 << WK_SEND_EST_SHIFT);
		return;
	}
	if (now)
		io_uring_submit(&c->ring);
}

/* Get an SQE, flushing the queue to the kernel once if it is full. */
static struct io_uring_sqe *get_sqe(struct uring_ctx *c, struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

	if (!sqe) {
		restamp(c, w);
		c->n_pending = 0;
		io_uring_submit(&c->ring);
		sqe = io_uring_get_sqe(&c->ring);
	}
	return sqe;
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
	struct rx_meta meta;
	struct uring_slot *sl;
	struct io_uring_sqe *sqe;
	uint32_t si;
	size_t len;
	void *name;

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
	len = srv_handle(w->shared, w->ctr, io_uring_recvmsg_payload(out, &c->tmpl[i]),
			 io_uring_recvmsg_payload_length(out, res, &c->tmpl[i]), name,
			 w->socks[i].fd, &meta.rx, meta.src, sl->buf);
	if (!len || !(sqe = get_sqe(c, w))) {
		if (len)
			ctr_inc(&w->ctr->reason[NTP_R_DROP_NO_SLOT]);
		c->free_slot[c->n_free++] = si;
		return;
	}
	/* msg_name, msg_iov and iov_base were set once in setup(). */
	memcpy(&sl->to, name, out->namelen);
	sl->iov.iov_len = len;
	sl->msg.msg_namelen = out->namelen;
	sl->msg.msg_controllen = rx_reply_cmsg(&w->socks[i], &meta, sl->cmsg.buf);
	sl->msg.msg_control = sl->msg.msg_controllen ? sl->cmsg.buf : NULL;
	io_uring_prep_sendmsg(sqe, c->fixed ? i : w->socks[i].fd, &sl->msg, 0);
	if (c->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(OP_SEND, si));
	c->pending[c->n_pending++] = si;
	if (c->n_pending >= WK_SUBMIT_MAX)
		submit(c, w, 1);
}

static void on_cqe(struct uring_ctx *c, struct worker *w, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	uint32_t idx = UD_IDX(ud);

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
	 * ends a draining worker's own receives, nothing else.
	 */
	static const uint8_t ops[] = {IORING_OP_RECVMSG, IORING_OP_SENDMSG, IORING_OP_ASYNC_CANCEL};
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	int ret, i;

	/* Created disabled: it runs once restricted to OPS (sb_uring_restrict, below). */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(WK_RING_ENTRIES, &c->ring, &p);
	if (ret == -EINVAL) {
		/* Kernels before 6.1 lack these flags: run without them. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_R_DISABLED;
		ret = io_uring_queue_init_params(WK_RING_ENTRIES, &c->ring, &p);
	}
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
		int fds[CFG_MAX_LISTEN];

		for (i = 0; i < w->n_socks; i++)
			fds[i] = w->socks[i].fd;
		c->fixed = io_uring_register_files(&c->ring, fds, (unsigned)w->n_socks) == 0;
	}
	/* Every registration is done: allow only our opcodes and flags, then start the ring. */
	ret = sb_uring_restrict(&c->ring, ops, (int)sizeof(ops),
				IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT);
	if (ret < 0)
		return ret;
	for (i = 0; i < w->n_socks; i++) {
		memset(&c->tmpl[i], 0, sizeof(c->tmpl[i]));
		c->tmpl[i].msg_namelen = WK_NAME_SPACE;
		c->tmpl[i].msg_controllen = RX_CMSG_SPACE;
		ret = arm_recv(c, w, i);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void teardown(struct uring_ctx *c)
{
	if (c->ring.ring_fd > 0)
		io_uring_queue_exit(&c->ring);
	if (c->br && c->br != MAP_FAILED)
		munmap(c->br, c->br_bytes);
	if (c->bufs && c->bufs != MAP_FAILED)
		munmap(c->bufs, (size_t)WK_NBUF * WK_BUF_SIZE);
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

	/* ~1.4 MB of slots: mapped, not on the thread's stack. */
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (c == MAP_FAILED)
		return -ENOMEM;
	ret = setup(c, w);
	while (ret == 0 && !wk_stopping()) {
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = WK_STOP_POLL_MS * 1000000L};
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		wk_beat(w);
		submit(c, w, 0);
		ret = io_uring_submit_and_wait_timeout(&c->ring, &cqe, 1, &ts, NULL);
		if (ret == -ETIME || ret == -EINTR || ret == -EBUSY || ret == -EAGAIN) {
			ret = 0;
		} else if (ret < 0) {
			break;
		}
		ret = 0;
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
		for (i = 0; i < w->n_socks && ret == 0; i++)
			if (c->rearm[i])
				ret = arm_recv(c, w, i);
	}
	if (ret == 0 && wk_draining())
		drain(c, w);
	teardown(c);
	munmap(c, sizeof(*c));
	return ret;
}
