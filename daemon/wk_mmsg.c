/*
 * The recvmmsg/sendmmsg backend: poll() on the worker's sockets, take up
 * to WK_MMSG_BATCH datagrams per call, answer them, send the replies with
 * one sendmmsg. Used with `io mmsg`, or when io_uring is unavailable.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/worker.h"

#define WK_MMSG_BATCH 32     /* datagrams per recvmmsg: amortises the syscall */
#define WK_MMSG_PAYLOAD 2048 /* bytes of payload per datagram; larger is truncated */

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
};

/* Receive one batch from S, answer it, send the replies; returns datagrams read or -1. */
static int serve_batch(struct worker *w, struct mmsg_ctx *c, const struct rx_sock *s)
{
	int i, n, ntx = 0;

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
				 (struct sockaddr *)&sl->from, &meta.rx, meta.src, sl->tx_buf);
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
	if (ntx > 0) {
		int sent = 0, r;

		/* sendmmsg may stop early; a failing reply is counted and skipped. */
		while (sent < ntx) {
			r = sendmmsg(s->fd, c->tx + sent, (unsigned)(ntx - sent), 0);
			if (r > 0) {
				sent += r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			ctr_inc(&w->ctr->reason[NTP_R_DROP_SEND_ERROR]);
			sent++;
		}
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
		int r = poll(pfd, (nfds_t)w->n_socks, WK_STOP_POLL_MS);

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
