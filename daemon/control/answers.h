/*
 * The answers of the control socket (proto/ctlproto.h commands: status,
 * tracking, sources, serverstats, config, metrics, clients) as key=value
 * text, built from what the clock thread reports (daemon/clockd/report.h),
 * the workers' counter blocks and client logs, and the configuration.
 * Pure of I/O: control.c frames and sends them. Clock thread only.
 */
#ifndef HOROD_DAEMON_CONTROL_ANSWERS_H
#define HOROD_DAEMON_CONTROL_ANSWERS_H

#include <stddef.h>

#include "clock/snapshot.h"
#include "daemon/clockd/clockd.h"
#include "daemon/config/config.h"
#include "daemon/serve/counters.h"

/* What the answers read. */
struct ctl_view {
	const struct horod_config *cfg;
	const struct clockd *cd;	/* the clock thread, through report.h only */
	const struct ctr_block *ctr;	/* the workers' counter blocks ... */
	int n_workers;			/* ... this many */
	const struct auth_shared *auth; /* NTS-KE session counts, keys (daemon/auth/), or NULL */
};

/*
 * Build the answer to control command CMD into BUF (LEN bytes); returns
 * the length wanted (over LEN = did not fit), and sets *STATUS.
 */
size_t answers_build(const struct ctl_view *v, int cmd, char *buf, size_t len, int *status);

/* 1 when snapshot S claims synchronization (leap not 3, stratum 1..15), else 0. */
int answers_synced(const struct clk_snapshot *s);

#endif
