/*
 * The recvmmsg/sendmmsg backend: poll() on the worker's sockets, take up
 * to WK_MMSG_BATCH datagrams per call, answer them, send the replies with
 * sendmmsg in chunks. Used with `io mmsg`, or when io_uring is
 * unavailable. The kernel sends a chunk one reply after the other, so
 * while the worker keeps up a basic reply goes out alone (see wk_uring.c
 * for the measurement), right after the clock is read again: its transmit
 * timestamp is that reading plus the smallest delay the kernel's transmit
 * stamps measured for such sends (see txstamp.h), never later than it
 * leaves. A full batch (more than WK_MMSG_BEHIND requests) means the
 * worker is behind: its basic replies go out WK_MMSG_BEHIND_BATCH at a
 * time, unstamped and uncorrected (the reading before them: early by the
 * sends ahead of each, never late). Interleaved replies and kiss-o'-death go out
 * WK_MMSG_SEND_CHUNK at a time. The stamps are read from the error queue
 * after each batch's sends (one recvmmsg for all of them).
 *
 * Overload: every WK_MMSG_WINDOW_NS the sockets' kernel drop counts are
 * read (kernel_dropped), and a window with a full batch whose sockets
 * overflowed puts the overload filter on them (rx_overload_window; see
 * wk_uring.c).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/sys/log.h"
#include "daemon/serve/txstamp.h"
#include "daemon/serve/worker.h"
#include "proto/ntp.h"

#define WK_MMSG_BATCH	     32	  /* datagrams per recvmmsg: amortises the syscall */
#define WK_MMSG_PAYLOAD	     2048 /* bytes of payload per datagram; larger is truncated */
#define WK_MMSG_SEND_CHUNK   16	  /* replies per sendmmsg (basic ones alone) */
#define WK_MMSG_EQ_ROUNDS    2	  /* error-queue batches read per socket after a batch */
#define WK_MMSG_BEHIND	     (WK_MMSG_BATCH - 1) /* requests: a full recvmmsg means a backlog */
#define WK_MMSG_BEHIND_BATCH 4 /* basic replies per sendmmsg then: the k-th send's spread grows */
#define WK_MMSG_WINDOW_NS    10000000LL /* ns: load window of the overload filter, as io_uring's */

struct mmsg_slot {
	struct sockaddr_storage from;
	struct iovec rx_iov;
	struct iovec tx_iov;
	uint8_t rx_buf[WK_MMSG_PAYLOAD];
	uint8_t tx_buf[SRV_REPLY_MAX];
	union {
		char buf[RX_CMSG_SPACE];
		struct cmsghdr align;
	} rx_cmsg;
	union {
		char buf[RX_REPLY_CMSG_SPACE + TXS_CMSG];
		struct cmsghdr align;
	} tx_cmsg;
	int basic;	/* a basic reply: restamped right before it is sent */
	int corrected;	/* ... plus the delay minimum (it is stamped; else the reading alone) */
	uint32_t steps; /* the step count it was built under (srv_restamp) */
	struct txs_rec *rec; /* its transmit stamp's record, or NULL */
};

struct mmsg_ctx {
	struct mmsg_slot slot[WK_MMSG_BATCH];
	struct mmsghdr rx[WK_MMSG_BATCH];
	struct mmsghdr tx[WK_MMSG_BATCH];
	struct mmsg_slot *txs[WK_MMSG_BATCH]; /* the slot of each reply in tx */
};

/* Restamp replies FROM..FROM+N-1 about to be sent (see the top). */
static void restamp(struct mmsg_ctx *c, struct worker *w, int from, int n)
{
	struct clk_snapshot snap;
	int64_t t0;
	int k, mapped;

	clk_snapshot_read(w->shared->pub, &snap);
	t0 = wk_raw_ns(w);
	mapped = clk_snapshot_maps(w->shared->pub, &snap, t0, t0);
	for (k = 0; k < n; k++) {
		struct mmsg_slot *sl = c->txs[from + k];

		if (sl->basic)
			srv_restamp(sl->tx_buf, sl->tx_iov.iov_len, sl->steps, &snap, mapped,
				    t0 + (sl->corrected ? txs_ahead(&w->txs, k, t0) : 0));
		if (sl->rec)
			txs_submitted(sl->rec, t0, k);
	}
}

/* Receive one batch from S, answer it, send the replies; returns datagrams read or -1. */
static int serve_batch(struct worker *w, struct mmsg_ctx *c, int si)
{
	const struct rx_sock *s = &w->socks[si];
	int i, n, ntx = 0, sent = 0;

	for (i = 0; i < WK_MMSG_BATCH; i++) {
		struct mmsg_slot *sl = &c->slot[i];
		struct msghdr *m = &c->rx[i].msg_hdr;

		sl->rx_iov.iov_base = sl->rx_buf;
		sl->rx_iov.iov_len = sizeof(sl->rx_buf);
		memset(m, 0, sizeof(*m));
		m->msg_name = &sl->from;
		m->msg_namelen = sizeof(sl->from);
		m->msg_iov = &sl->rx_iov;
		m->msg_iovlen = 1;
		m->msg_control = sl->rx_cmsg.buf;
		m->msg_controllen = sizeof(sl->rx_cmsg.buf);
	}
	n = recvmmsg(s->fd, c->rx, WK_MMSG_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return n < 0 && errno != EAGAIN && errno != EINTR ? -1 : 0;

	for (i = 0; i < n; i++) {
		struct mmsg_slot *sl = &c->slot[i];
		struct msghdr *m = &c->rx[i].msg_hdr;
		struct msghdr *t = &c->tx[ntx].msg_hdr;
		struct rx_meta meta;
		struct srv_reply rep;

		rx_parse_cmsgs(m, &meta, w->shared->hw);
		if (meta.src == CTR_TS_DAEMON)
			clock_gettime(w->shared->clock, &meta.rx);
		if (m->msg_flags & MSG_TRUNC) {
			ctr_inc(&w->ctr->received);
			ctr_inc(&w->ctr->tsrc[meta.src]);
			ctr_inc(&w->ctr->reason[NTP_R_DROP_TRUNCATED]);
			continue;
		}
		srv_handle(w->shared, &w->lc, sl->rx_buf, c->rx[i].msg_len,
			   (struct sockaddr *)&sl->from, s->fd, &meta.rx, meta.src, sl->tx_buf,
			   &rep);
		if (!rep.len)
			continue;
		sl->tx_iov.iov_base = sl->tx_buf;
		sl->tx_iov.iov_len = rep.len;
		sl->basic = rep.basic;
		sl->steps = rep.steps;
		/* Sent alone (not behind): stamped, and corrected by what stamped ones measured. */
		sl->corrected = rep.basic && n <= WK_MMSG_BEHIND;
		memset(t, 0, sizeof(*t));
		t->msg_name = &sl->from;
		t->msg_namelen = m->msg_namelen;
		t->msg_iov = &sl->tx_iov;
		t->msg_iovlen = 1;
		t->msg_controllen =
			txs_send(&w->txs, si, rep.stamp || sl->corrected, sl->tx_cmsg.buf,
				 rx_reply_cmsg(s, &meta, sl->tx_cmsg.buf), &sl->rec);
		t->msg_control = t->msg_controllen ? sl->tx_cmsg.buf : NULL;
		if (sl->rec)
			srv_note_send(&rep, (struct sockaddr *)&sl->from, meta.ifindex, sl->tx_buf,
				      sl->rec);
		c->txs[ntx] = sl;
		ntx++;
	}
	/*
	 * Send in chunks (see the top), each restamped right before. sendmmsg
	 * may stop early; a failing reply is counted and skipped.
	 */
	while (sent < ntx) {
		int chunk = 1, done = 0, r;

		/* A basic reply alone (behind: 4); the others as many as a chunk holds. */
		if (c->txs[sent]->basic) {
			while (n > WK_MMSG_BEHIND && sent + chunk < ntx &&
			       chunk < WK_MMSG_BEHIND_BATCH && c->txs[sent + chunk]->basic)
				chunk++;
		} else {
			while (sent + chunk < ntx && chunk < WK_MMSG_SEND_CHUNK &&
			       !c->txs[sent + chunk]->basic)
				chunk++;
		}
		restamp(c, w, sent, chunk);
		while (done < chunk) {
			r = sendmmsg(rx_send_fd(s), c->tx + sent + done, (unsigned)(chunk - done),
				     0);
			if (r > 0) {
				done += r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			ctr_inc(&w->ctr->reason[NTP_R_DROP_SEND_ERROR]);
			done++;
		}
		sent += chunk;
	}
	/* This batch's stamps, and any left from before: one read for all. */
	if (w->txs.s && w->txs.s[si].unread)
		txs_read_errqueue(&w->txs, si, rx_send_fd(s), w->shared->pub, WK_MMSG_EQ_ROUNDS);
	return n;
}

int wk_run_mmsg(struct worker *w)
{
	static _Thread_local struct mmsg_ctx ctx; /* ~70 KB: per thread, off the stack */
	struct pollfd pfd[2 * CFG_MAX_LISTEN];	  /* receive sockets, then their send sockets */
	struct rx_overload ovl;
	int64_t win_start;
	int i, ret, full = 0;

	wk_xleave_init(w);
	ret = txs_init(&w->txs, w->n_socks, TXS_ERRQUEUE, w->shared->hw->n_tx > 0,
		       txs_kernel_own_keys(), w->ctr, w->xl, w->shared->hw);
	if (ret < 0) {
		xl_destroy(w->xl);
		w->xl = NULL;
		return ret;
	}
	/* A send socket only ever reports POLLERR: its transmit stamps (rxsock.h). */
	for (i = 0; i < w->n_socks; i++) {
		pfd[i].fd = w->socks[i].fd;
		pfd[i].events = POLLIN;
		pfd[w->n_socks + i].fd = w->socks[i].tx_fd; /* -1: ignored by poll */
		pfd[w->n_socks + i].events = 0;
		pfd[w->n_socks + i].revents = 0;
	}
	rx_overload_start(&ovl, w->socks, w->n_socks);
	win_start = wk_raw_ns(w);
	while (!wk_stopping()) {
		int64_t now;
		int r;

		wk_beat(w);
		r = poll(pfd, 2 * (nfds_t)w->n_socks, WK_STOP_POLL_MS);
		now = wk_raw_ns(w);
		if (now < win_start || now - win_start >= WK_MMSG_WINDOW_NS) {
			uint64_t got = rx_overload_window(&ovl, w->socks, w->n_socks, full);

			/* Only this worker writes its block (as ctr_inc). */
			atomic_store_explicit(
				&w->ctr->kernel_drops,
				atomic_load_explicit(&w->ctr->kernel_drops, memory_order_relaxed) +
					got,
				memory_order_relaxed);
			win_start = now;
			full = 0;
		}

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		for (i = 0; i < w->n_socks; i++) {
			int rounds = 0;

			/*
			 * Stamps late for their batch (a NIC's): poll says POLLERR
			 * until they are read (an unconnected socket without
			 * IP_RECVERR has no other error to report).
			 */
			if ((pfd[i].revents | pfd[w->n_socks + i].revents) & POLLERR)
				txs_read_errqueue(&w->txs, i, rx_send_fd(&w->socks[i]),
						  w->shared->pub, WK_MMSG_EQ_ROUNDS);
			if (!(pfd[i].revents & POLLIN))
				continue;
			/* Drain up to 8 batches per socket, then look at the others. */
			while (rounds++ < 8 && serve_batch(w, &ctx, i) == WK_MMSG_BATCH)
				full = 1;
		}
	}
	/* A successor (a takeover) reads these sockets: leave no filter on them. */
	rx_overload_stop(&ovl, w->socks, w->n_socks);
	txs_fini(&w->txs);
	xl_destroy(w->xl);
	w->xl = NULL;
	return 0;
}
