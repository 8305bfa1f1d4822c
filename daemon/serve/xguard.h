/*
 * horod's side of the XDP guard (bpf/): at start, load the guard with the
 * configured access list and rate limit, attach it to every `guard
 * interface` and pin its maps under `guard pin` — all of it, or none: if
 * any step fails, one log line says why and the workers enforce the same
 * access list and rate limit themselves (daemon/policy/policy.c with a userspace
 * limiter). Either way the workers' shared state says which path runs.
 */
#ifndef HOROD_DAEMON_XGUARD_H
#define HOROD_DAEMON_XGUARD_H

#include "daemon/config/config.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/serve.h"

/*
 * Start the guard as C says and set SH->rl / SH->deny_kod for the
 * workers: 1 when the guard runs (the workers do not rate-limit again;
 * with `denykod on` SH->rl only spaces their DENY replies), 0 when the
 * workers filter (SH->rl a table when `ratelimit` or `denykod on`), -1
 * when out of memory for that table (logged, nothing left running).
 */
int xg_start(const struct horod_config *c, struct srv_shared *sh);

/*
 * Add what the running guard consumed (drops, kiss-o'-death it sent) to
 * T (ctr_add_xdp): one map lookup per reason, safe from any thread. No
 * guard: T unchanged, 0. A failed read: T unchanged, -errno (logged once).
 */
int xg_totals_add(struct ctr_totals *t);

/*
 * Hand the clock snapshot S just published to the guard (bpf/guard_pub.c):
 * with `guard serve on` what it needs to answer plain client requests
 * with it (bpf/guard_layout.h, struct guard_serve) — it answers only
 * while the served time is the system clock as it is, no leap second is
 * announced, and for 2 s at most after this call — and, whenever it may
 * send anything (answers, kiss-o'-death), the host table, brought up to
 * date from rtnetlink first. The clock thread calls this after every
 * publication; nothing when the guard sends nothing.
 */
struct clk_snapshot;
void xg_serve_publish(const struct clk_snapshot *s);

/* Detach and unload what xg_start set up, free the userspace limiter (workers stopped). */
void xg_stop(void);

#endif
