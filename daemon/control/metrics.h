/*
 * The metrics in the Prometheus text format, the answer to `horoctl
 * metrics` and to GET /metrics: request counters by reason, timestamp
 * sources, per worker; what is served; the clock core's figures, the
 * upstream counters and the per-source gauges when sources measure.
 */
#ifndef HOROD_DAEMON_CONTROL_METRICS_H
#define HOROD_DAEMON_CONTROL_METRICS_H

#include <stddef.h>

#include "daemon/control/answers.h"

/* Every counter and gauge into BUF (LEN bytes); returns the length wanted (over LEN: cut). */
size_t metrics_text(const struct ctl_view *v, char *buf, size_t len);

#endif
