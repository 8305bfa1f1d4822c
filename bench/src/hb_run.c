/*
 * The load loop of horobench: open the client sockets (kernel RX and TX
 * timestamping; connected to the server, optionally from given source
 * addresses; or, with --clients, unconnected, each datagram carrying its
 * client's source address), then send for the run's duration, open loop
 * (a schedule of --rate requests/s, whatever comes back) or closed loop
 * (--window requests in flight), reading the capture, replies and TX
 * stamps as they come, and finally wait out the timeout for the last
 * replies.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/net_tstamp.h>

#include "bench/src/horobench.h"

#define HB_RCVBUF  (4 << 20) /* bytes: client socket buffer, rides out VM stalls */
#define HB_SPIN_NS 50000     /* ns: open loop waits below this spin instead of sleeping */
#define HB_IDLE_NS 1000000   /* ns: longest sleep while waiting for replies */

int hb_open_sockets(struct hb_run *r)
{
	const int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
			    SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
	int i, v;

	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		return -1;
	for (i = 0; i < r->o.sockets; i++) {
		struct hb_sock *s = &r->socks[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		int fd = socket(r->o.dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		s->fd = fd;
		if (fd < 0) {
			perror("horobench: socket");
			return -1;
		}
		v = HB_RCVBUF;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
		if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof(tsflags)) < 0) {
			perror("horobench: SO_TIMESTAMPING");
			return -1;
		}
		if (r->o.n_clients) {
			/* Any local address: each datagram names its own (PKTINFO). */
			struct sockaddr_storage any = {.ss_family = r->o.dst.ss_family};

			v = 1;
			if (r->o.dst.ss_family == AF_INET6)
				(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
			if (bind(fd, (const struct sockaddr *)&any,
				 any.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							  : sizeof(struct sockaddr_in6)) < 0) {
				perror("horobench: bind");
				return -1;
			}
		} else if (r->o.n_src) {
			const struct sockaddr_storage *a = &r->o.src[i % r->o.n_src];
			socklen_t al = a->ss_family == AF_INET ? sizeof(struct sockaddr_in)
							       : sizeof(struct sockaddr_in6);

			if (bind(fd, (const struct sockaddr *)a, al) < 0) {
				perror("horobench: bind source address");
				return -1;
			}
		}
		if (!r->o.n_clients && connect(fd, (struct sockaddr *)&r->o.dst, r->o.dstlen) < 0) {
			perror("horobench: connect");
			return -1;
		}
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
	}
	return 0;
}

/* Receive from every socket epoll says is readable (waiting at most WAIT_NS). */
static int poll_replies(struct hb_run *r, int64_t wait_ns)
{
	struct epoll_event ev[HB_MAX_SOCKETS + 1];
	struct timespec ts;
	int i, n, got = 0;

	ns_to_timespec(wait_ns, &ts);
	n = epoll_pwait2(r->epfd, ev, r->o.sockets + 1, &ts, NULL);
	/* The capture first (it sees a frame before the socket does). */
	for (i = 0; i < n; i++)
		if (ev[i].data.u32 == UINT32_MAX)
			hb_cap_read(r);
	for (i = 0; i < n; i++)
		if (ev[i].data.u32 != UINT32_MAX)
			got += hb_read_replies(r, &r->socks[ev[i].data.u32]);
	return got;
}

void hb_run_loop(struct hb_run *r)
{
	int64_t dur = (int64_t)(r->o.duration * (double)NS_PER_SEC);
	int64_t tmo = (int64_t)(r->o.timeout * (double)NS_PER_SEC);
	uint64_t due_sent = 0;
	int ended = 0;

	r->t_start = hb_now_ns();
	r->t_stop = r->t_start + dur;
	for (;;) {
		int64_t now = hb_now_ns(), wait = 0;
		int progress = 0;

		if (now < r->t_stop && !ended) {
			uint64_t target;

			if (r->o.rate > 0) {
				/* Open loop: the schedule says how many by now, whatever came back.
				 */
				target = (uint64_t)((double)(now - r->t_start) * 1e-9 * r->o.rate) +
					 1;
				while (due_sent < target && !ended) {
					int want = (int)(target - due_sent > HB_BATCH
								 ? HB_BATCH
								 : target - due_sent);
					int k = hb_send_batch(r, want);
					int si = (r->next_sock + r->o.sockets - 1) % r->o.sockets;

					if (r->send_limit && r->c.sent_total >= r->send_limit)
						ended = 1; /* warm-up: every client sent once */
					if (k <= 0)
						break;
					due_sent += (uint64_t)k;
					progress = 1;
					if (r->o.ts_every)
						hb_read_errqueue(r, &r->socks[si]);
				}
				if (due_sent >= target) {
					double next = (double)target / r->o.rate * 1e9;

					wait = r->t_start + (int64_t)next - now;
				}
			} else {
				while (r->inflight < (uint64_t)r->o.window) {
					uint64_t room = (uint64_t)r->o.window - r->inflight;
					int k = hb_send_batch(r, room > HB_BATCH ? HB_BATCH
										 : (int)room);
					int si = (r->next_sock + r->o.sockets - 1) % r->o.sockets;

					if (k <= 0)
						break;
					progress = 1;
					if (r->o.ts_every)
						hb_read_errqueue(r, &r->socks[si]);
				}
				wait = HB_IDLE_NS;
			}
		} else {
			if (r->inflight == 0 || now >= r->t_stop + tmo)
				break;
			wait = HB_IDLE_NS;
		}
		if (poll_replies(r, 0) > 0)
			progress = 1;
		hb_expire(r, now, 0, 0);
		if (!progress && wait > HB_SPIN_NS)
			poll_replies(r, wait > HB_IDLE_NS ? HB_IDLE_NS : wait);
	}
	r->t_end = hb_now_ns();
	hb_expire(r, r->t_end, 1, 0);
}
