/*
 * Mode 6 (ntpq, ntpstat) answers in the daemon. The clock thread, which
 * owns the data ntpq asks for, drains the queue the workers fill
 * (daemon/serve/m6queue.h), builds the read-only answers (system and
 * association variables, association list) and sends every fragment on
 * the socket the request came in on.
 */
#ifndef HOROD_DAEMON_CONTROL_M6SRV_H
#define HOROD_DAEMON_CONTROL_M6SRV_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/serve/m6queue.h"

struct clockd;

/* Clock thread side: answer every queued request from CD's state. */
void m6srv_drain(struct m6_queue *q, struct clockd *cd);

/*
 * Render the answer to one parsed request into TEXT (CAP bytes): sets
 * *STATUS to the status word and returns the text length, or returns -1
 * with *ERR set (enum m6_err) when the answer is an error. Exposed for
 * the unit tests.
 */
struct m6_request;
long m6srv_answer(struct clockd *cd, const struct m6_request *rq, char *text, size_t cap,
		  uint16_t *status, int *err);

#endif
