/*
 * The recvmmsg/sendmmsg backend: poll() on the worker's sockets, take up
 * to WK_MMSG_BATCH datagrams per call, answer them, send the replies with
 * one sendmmsg. Used with `io mmsg`, or when io_uring is unavailable.
 * The kernel sends the batch one reply after the other, so right before
 * sendmmsg every reply's transmit timestamp is read again: the clock now
 * plus its position times the measured cost of one send (each sendmmsg is
 * timed; the estimate is a running average).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/sys/log.h"
#include "daemon/serve/worker.h"
#include "proto/ntp.h"

#define WK_MMSG_BATCH	    32	  /* datagrams per recvmmsg: amortises the syscall */
#define WK_MMSG_PAYLOAD	    2048  /* bytes of payload per datagram; larger is truncated */
#define WK_MMSG_SEND_CHUNK  8	  /* replies per sendmmsg: bounds the restamp's prediction */
#define WK_MMSG_EST_SHIFT   3	  /* send cost average: each sample weighs 1/8 */
#define WK_MMSG_SEND_MAX_NS 50000 /* ns: a per-send sample above this is a stall, not a cost */

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
		char buf[RX_REPLY_CMSG_SPACE];
		struct cmsghdr align;
	} tx_cmsg;
};

struct mmsg_ctx {
	struct mmsg_slot slot[WK_MMSG_BATCH];
	struct mmsghdr rx[WK_MMSG_BATCH];
	struct mmsghdr tx[WK_MMSG_BATCH];
	int64_t send_ns; /* average cost of one send in a sendmmsg, ns */
};

static int64_t raw_ns(const struct worker *w)
{
	return clk_now_ns(w->shared->clock);
}

/* Restamp replies FROM..FROM+N-1 about to be sent (see the top); returns the raw clock. */
static int64_t restamp(struct mmsg_ctx *c, const struct worker *w, int from, int n)
{
	struct clk_snapshot snap;
	int64_t raw = raw_ns(w), now;
	int k;

	clk_snapshot_read(w->shared->pub, &snap);
	now = clk_snapshot_served(&snap, raw);
	for (k = 0; k < n; k++) {
		struct iovec *v = c->tx[from + k].msg_hdr.msg_iov;

		ntp_restamp_xmt(v->iov_base, v->iov_len,
				ntp_ts_from_unix_ns(now + (int64_t)k * c->send_ns));
	}
	return raw;
}

/* Receive one batch from S, answer it, send the replies; returns datagrams read or -1. */
static int serve_batch(struct worker *w, struct mmsg_ctx *c, const struct rx_sock *s)
{
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
		size_t len;

		rx_parse_cmsgs(m, &meta, w->shared->hw);
		if (meta.src == CTR_TS_DAEMON)
			clock_gettime(w->shared->clock, &meta.rx);
		if (m->msg_flags & MSG_TRUNC) {
			ctr_inc(&w->ctr->received);
			ctr_inc(&w->ctr->tsrc[meta.src]);
			ctr_inc(&w->ctr->reason[NTP_R_DROP_TRUNCATED]);
			continue;
		}
		len = srv_handle(w->shared, w->ctr, sl->rx_buf, c->rx[i].msg_len,
				 (struct sockaddr *)&sl->from, s->fd, &meta.rx, meta.src,
				 sl->tx_buf);
		if (!len)
			continue;
		sl->tx_iov.iov_base = sl->tx_buf;
		sl->tx_iov.iov_len = len;
		memset(t, 0, sizeof(*t));
		t->msg_name = &sl->from;
		t->msg_namelen = m->msg_namelen;
		t->msg_iov = &sl->tx_iov;
		t->msg_iovlen = 1;
		t->msg_controllen = rx_reply_cmsg(s, &meta, sl->tx_cmsg.buf);
		t->msg_control = t->msg_controllen ? sl->tx_cmsg.buf : NULL;
		ntx++;
	}
	/*
	 * Send in chunks of WK_MMSG_SEND_CHUNK, each restamped right before:
	 * a prediction k sends ahead is only as good as k times the estimate's
	 * error. sendmmsg may stop early; a failing reply is counted and skipped.
	 */
	while (sent < ntx) {
		int chunk = ntx - sent < WK_MMSG_SEND_CHUNK ? ntx - sent : WK_MMSG_SEND_CHUNK;
		int64_t t0 = restamp(c, w, sent, chunk), per;
		int done = 0, r;

		while (done < chunk) {
			r = sendmmsg(s->fd, c->tx + sent + done, (unsigned)(chunk - done), 0);
			if (r > 0) {
				done += r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			ctr_inc(&w->ctr->reason[NTP_R_DROP_SEND_ERROR]);
			done++;
		}
		per = (raw_ns(w) - t0) / chunk;
		if (chunk >= 2 && per > 0 && per < WK_MMSG_SEND_MAX_NS)
			c->send_ns += (per - c->send_ns) / (1 << WK_MMSG_EST_SHIFT);
		sent += chunk;
	}
	return n;
}

int wk_run_mmsg(struct worker *w)
{
	static _Thread_local struct mmsg_ctx ctx; /* ~70 KB: per thread, off the stack */
	struct pollfd pfd[CFG_MAX_LISTEN];
	int i;

	for (i = 0; i < w->n_socks; i++) {
		pfd[i].fd = w->socks[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!wk_stopping()) {
		int r;

		wk_beat(w);
		r = poll(pfd, (nfds_t)w->n_socks, WK_STOP_POLL_MS);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		for (i = 0; i < w->n_socks; i++) {
			int rounds = 0;

			if (!(pfd[i].revents & POLLIN))
				continue;
			/* Drain up to 8 batches per socket, then look at the others. */
			while (rounds++ < 8 && serve_batch(w, &ctx, &w->socks[i]) == WK_MMSG_BATCH)
				;
		}
	}
	return 0;
}
