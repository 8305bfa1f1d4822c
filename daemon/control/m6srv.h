/*
 * Mode 6 (ntpq, ntpstat) answers in the daemon. The clock thread, which
 * owns the data ntpq asks for, drains the queue the workers fill
 * (daemon/serve/m6queue.h) from its poll loop, builds the read-only
 * answers (system and association variables, association list) from its
 * report (daemon/clockd/report.h) and sends every fragment on the socket
 * the request came in on.
 */
#ifndef HOROD_DAEMON_CONTROL_M6SRV_H
#define HOROD_DAEMON_CONTROL_M6SRV_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/clockd/clockd.h"
#include "daemon/config/config.h"
#include "daemon/serve/m6queue.h"

/* What the answers read: the queue, the configuration, the clock thread's report. */
struct m6srv {
	struct m6_queue *q;
	const struct horod_config *cfg;
	const struct clockd *cd;
};

/* Answer Q's requests from CFG and CD's report (report.h). */
void m6srv_init(struct m6srv *m, struct m6_queue *q, const struct horod_config *cfg,
		const struct clockd *cd);

/* The clock thread's poller of M's queue (clockd_add_poller): it drains the queue. */
struct clockd_poller m6srv_poller(struct m6srv *m);

/* Clock thread side: answer every queued request. */
void m6srv_drain(struct m6srv *m);

/*
 * Render the answer to one parsed request into TEXT (CAP bytes): sets
 * *STATUS to the status word and returns the text length, or returns -1
 * with *ERR set (enum m6_err) when the answer is an error. Exposed for
 * the unit tests.
 */
struct m6_request;
long m6srv_answer(const struct m6srv *m, const struct m6_request *rq, char *text, size_t cap,
		  uint16_t *status, int *err);

#endif
