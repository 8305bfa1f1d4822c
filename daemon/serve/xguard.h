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
#include "daemon/sys/fdpass.h"

/*
 * Start the guard as C says and give the workers their rules (SH->rules:
 * C's access lists, denykod, and a limiter): 1 when the guard runs (the
 * workers do not rate-limit again; with `denykod on` their limiter only
 * spaces their DENY replies), 0 when the workers filter (a limiter when
 * `ratelimit` or `denykod on`), -1 when out of memory (logged, nothing
 * left running).
 */
int xg_start(const struct horod_config *c, struct srv_shared *sh);

/*
 * Add what the running guard consumed (drops, kiss-o'-death it sent) to
 * T (ctr_add_xdp): one map lookup per reason, safe from any thread. No
 * guard: T unchanged, 0. A failed read: T unchanged, -errno (logged once).
 */
int xg_totals_add(struct ctr_totals *t);

struct worker;

/*
 * A reload (serve/reload.h): rebuild the guard for NEXT's access lists,
 * rate limit and denykod (a new program swapped into its links, its
 * state maps carried over), then give the N workers W new rules through
 * SH and free the old ones once every worker is past them. 0, or -errno
 * with WHY when nothing changed.
 */
int xg_reload(const struct horod_config *next, struct srv_shared *sh, struct worker *w, int n,
	      char *why, size_t len);

/*
 * The running guard's own counters, every one (guard_counter_name: the
 * reasons, pass_*, reply_server_xdp), summed over the CPUs into PACKETS
 * and BYTES (GUARD_NCOUNTERS each, zeroed first): 1 when a guard runs,
 * 0 when none, -errno on a failed read. Safe from any thread.
 */
int xg_counts(uint64_t *packets, uint64_t *bytes);

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

/*
 * Detach and unload what xg_start set up, free the userspace limiter
 * (workers stopped). HANDED_OVER: a successor now owns the links and the
 * pins (xg_handover_export): only this process's descriptors are closed.
 */
void xg_stop(int handed_over);

/*
 * Append to ITEMS (*N of MAX used) what a successor needs to take the
 * guard over without a gap: the state maps ("xdp-map NAME": counters,
 * talkers, rate-limit state) and each XDP link ("xdp-link IFNAME
 * native|skb"). The descriptors stay this process's. 0, or -ENOSPC.
 */
int xg_handover_export(struct fdp_item *items, int *n, int max);

/*
 * Take the guard's items out of ITEMS (those xg_handover_export made;
 * taken ones get fd -1) for the next xg_start: it reuses the state maps
 * and swaps its program into the links of the interfaces it is
 * configured on (closing the others). Items it does not know are left.
 */
void xg_handover_import(struct fdp_item *items, int n);

#endif
