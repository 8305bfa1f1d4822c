/*
 * The mode 6 hand-over queue between the workers and the clock thread:
 * a worker that receives a mode 6 request from a control-allowed
 * address copies it in with a try-lock (never a wait), under a global
 * token-bucket rate limit, and wakes the clock thread through an
 * eventfd; the clock thread takes the requests out and answers them
 * (daemon/control/m6srv.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock/kclock.h"
#include "daemon/serve/m6queue.h"
#include "proto/nstime.h"

int m6q_init(struct m6_queue *q)
{
	memset(q, 0, sizeof(*q));
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	q->tokens = M6Q_BURST;
	q->refill_ns = clk_now_ns(CLOCK_MONOTONIC);
	return 0;
}

void m6q_fini(struct m6_queue *q)
{
	if (q->efd >= 0)
		close(q->efd);
	q->efd = -1;
	pthread_mutex_destroy(&q->lock);
}

int m6q_fd(const struct m6_queue *q)
{
	return q->efd;
}

void m6q_push(struct m6_queue *q, int fd, const uint8_t *pkt, size_t len,
	      const struct sockaddr *from)
{
	struct m6q_item *it;
	socklen_t alen = from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	int64_t now = clk_now_ns(CLOCK_MONOTONIC);
	uint64_t one = 1;

	if (len > M6Q_REQ_MAX || pthread_mutex_trylock(&q->lock) != 0) {
		atomic_fetch_add_explicit(&q->st.busy, 1, memory_order_relaxed);
		return;
	}
	q->tokens += ns_dsec(now, q->refill_ns) * M6Q_RATE;
	if (q->tokens > M6Q_BURST)
		q->tokens = M6Q_BURST;
	q->refill_ns = now;
	if (q->tokens < 1) {
		pthread_mutex_unlock(&q->lock);
		atomic_fetch_add_explicit(&q->st.ratelimited, 1, memory_order_relaxed);
		return;
	}
	if (q->n == M6Q_LEN) {
		pthread_mutex_unlock(&q->lock);
		atomic_fetch_add_explicit(&q->st.busy, 1, memory_order_relaxed);
		return;
	}
	q->tokens -= 1;
	it = &q->item[(q->head + q->n) % M6Q_LEN];
	it->fd = fd;
	it->alen = alen;
	memcpy(&it->from, from, alen);
	it->len = (uint16_t)len;
	memcpy(it->pkt, pkt, len);
	q->n++;
	pthread_mutex_unlock(&q->lock);
	atomic_fetch_add_explicit(&q->st.queued, 1, memory_order_relaxed);
	if (write(q->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already far from zero, the clock thread will wake. */
	}
}

int m6q_take(struct m6_queue *q, struct m6q_item *out)
{
	int got = 0;

	pthread_mutex_lock(&q->lock);
	if (q->n > 0) {
		*out = q->item[q->head];
		q->head = (q->head + 1) % M6Q_LEN;
		q->n--;
		got = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

int m6q_ack(struct m6_queue *q)
{
	uint64_t cnt;

	if (read(q->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}
