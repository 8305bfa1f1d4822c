/*
 * The mode 6 (ntpq, ntpstat) hand-over queue. A worker that receives a
 * mode 6 request from a control-allowed address hands it over with
 * m6q_push(): a try-lock and a copy into a short queue, never a wait,
 * under a global rate limit. The clock thread, which owns the data ntpq
 * asks for, polls m6q_fd(), takes the requests with m6q_take() and
 * answers them (daemon/control/m6srv.h).
 */
#ifndef HOROD_DAEMON_SERVE_M6QUEUE_H
#define HOROD_DAEMON_SERVE_M6QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define M6Q_LEN	    32	 /* requests waiting at once: ntpq -p sends 1 + one per source */
#define M6Q_REQ_MAX 1024 /* bytes of a request we keep: ntpstat pads its request to 576 */
#define M6Q_RATE    64	 /* requests/s answered overall (control is rare; never a flood) */
#define M6Q_BURST   128	 /* requests: bucket depth, so `ntpq -p` with 64 sources passes */

/* Counters, read by the metrics and serverstats answers. */
struct m6q_stats {
	_Atomic uint64_t queued;      /* handed to the clock thread */
	_Atomic uint64_t ratelimited; /* over M6Q_RATE: dropped */
	_Atomic uint64_t busy;	      /* queue full, locked or request too long: dropped */
	uint64_t answered;	      /* requests answered (clock thread only) */
	uint64_t errors;	      /* of which with an error response */
	uint64_t malformed;	      /* dropped by the parser */
	uint64_t fragments;	      /* packets sent */
	uint64_t send_errors;
};

struct m6q_item {
	int fd; /* the worker socket it came in on */
	socklen_t alen;
	struct sockaddr_storage from;
	uint16_t len;
	uint8_t pkt[M6Q_REQ_MAX];
};

struct m6_queue {
	pthread_mutex_t lock; /* workers only try it */
	int efd;	      /* eventfd: written by workers, read by the clock thread */
	unsigned head, n;     /* ring of ITEM */
	double tokens;	      /* rate limit bucket, under LOCK */
	int64_t refill_ns;    /* CLOCK_MONOTONIC of the last refill */
	struct m6q_item item[M6Q_LEN];
	struct m6q_stats st;
};

/* Set up Q; 0 or -errno. */
int m6q_init(struct m6_queue *q);

/* Release Q. */
void m6q_fini(struct m6_queue *q);

/* Worker side: queue the mode 6 request PKT (LEN bytes) from FROM received on FD; never blocks. */
void m6q_push(struct m6_queue *q, int fd, const uint8_t *pkt, size_t len,
	      const struct sockaddr *from);

/* The descriptor the clock thread polls for POLLIN. */
int m6q_fd(const struct m6_queue *q);

/* Clock thread side: take the oldest queued request into OUT; 1, or 0 when the queue is empty. */
int m6q_take(struct m6_queue *q, struct m6q_item *out);

/* Clock thread side: reset the wake-up counter before draining; 0 or -errno. */
int m6q_ack(struct m6_queue *q);

#endif
