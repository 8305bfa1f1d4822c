/*
 * Starting and stopping the XDP guard for horod: the guard's
 * configuration from horod's (served ports, rate-limit arithmetic, flags),
 * the access lists copied into the guard's tries, then attach and pin.
 * libbpf's own messages go to horod's log at debug level (-d).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "clock/snapshot.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"
#include "proto/ntp.h"
#include "daemon/policy/ratelimit.h"
#include "daemon/serve/xguard.h"

#define XG_WHY_MAX 256 /* bytes of the reason a step failed */

_Static_assert(CFG_XDP_AUTO == GUARD_MODE_AUTO && CFG_XDP_NATIVE == GUARD_MODE_NATIVE &&
		       CFG_XDP_SKB == GUARD_MODE_SKB,
	       "the configuration's modes are the guard's");
_Static_assert(CFG_MAX_GUARD_IF <= GUARD_MAX_IFACES && CFG_MAX_LISTEN <= GUARD_MAX_PORTS &&
		       ACL_MAX_RULES <= GUARD_ACL_MAX && RL_TABLE_ENTRIES == GUARD_RL_ENTRIES,
	       "the guard's tables hold what the configuration allows");

static struct guard *xg_guard; /* the running guard, or NULL */
static struct rl_table *xg_rl; /* the workers' limiter, or NULL */

/*
 * Reading the guard's per-CPU counters: the map, a buffer of one value per
 * possible CPU (sized at start, before the sandbox), and a lock, since the
 * clock thread (control, metrics) and the main thread (SIGUSR1) both read.
 */
static pthread_mutex_t xg_read_lock = PTHREAD_MUTEX_INITIALIZER;
static int xg_counters_fd = -1;
static int xg_ncpu;
static struct guard_count *xg_percpu;
static int xg_read_failed; /* a failed read was logged */

/* The program's serving state when it answers (`guard serve on`), else NULL. */
static struct guard_serve *xg_serve;

/* The guard's configuration for C with the limiter arithmetic of L. */
static void xg_config(const struct horod_config *c, const struct rl_limits *l,
		      struct guard_config *g)
{
	int i, j, port;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < c->n_listen; i++) {
		port = cfg_listen_port(c, &c->listen[i]);
		for (j = 0; j < (int)g->n_ports && g->ports[j] != htons((uint16_t)port); j++)
			;
		if (j == (int)g->n_ports && g->n_ports < GUARD_MAX_PORTS)
			g->ports[g->n_ports++] = htons((uint16_t)port);
	}
	if (l->enabled)
		g->flags |= GUARD_F_RATELIMIT;
	if (l->enabled && l->kod)
		g->flags |= GUARD_F_RATE_KOD;
	if (c->rl.deny_kod)
		g->flags |= GUARD_F_DENY_KOD;
	if (c->acl.n_allow > 0)
		g->flags |= GUARD_F_HAVE_ALLOW;
	g->interval_ns = l->interval_ns;
	g->tau_ns = l->tau_ns;
	g->kod_interval_ns = l->kod_interval_ns;
	g->leak_mask = l->leak_mask;
	/*
	 * Answering in XDP serves CLOCK_REALTIME: not with the sim driver
	 * or a PHC, whose time only the workers read.
	 */
	if (c->guard.serve && c->clk.driver == CFG_DRIVER_KERNEL && !c->clk.device[0])
		g->flags |= GUARD_F_SERVE;
}

/* Copy the rules of A (only its allow rules when ALLOW_ONLY) into the guard. */
static int xg_rules(struct guard *g, const struct acl *a, int control, char *why, size_t len)
{
	const struct acl_rule *r;
	enum guard_list list;
	int i, ret;

	for (i = 0; i < a->n; i++) {
		r = &a->rules[i];
		if (control && !r->allow)
			continue;
		list = control ? GUARD_LIST_CONTROL : r->allow ? GUARD_LIST_ALLOW : GUARD_LIST_DENY;
		ret = guard_add_rule(g, list,
				     r->family == AF_INET ? GUARD_FAMILY_V4 : GUARD_FAMILY_V6,
				     r->addr, r->plen, why, len);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Load, fill, attach and pin; 0, or -errno with WHY (and nothing left behind). */
static int xg_up(const struct horod_config *c, const struct rl_limits *l, char *why, size_t len)
{
	struct guard_config gc;
	char where[CFG_MAX_GUARD_IF * (CFG_IFNAME_MAX + 12)] = "";
	size_t n = 0;
	int i, got, ret;

	xg_config(c, l, &gc);
	guard_set_log(log_msg);
	ret = guard_open(&xg_guard, &gc, why, len);
	if (ret < 0)
		return ret;
	ret = xg_rules(xg_guard, &c->acl, 0, why, len);
	if (ret == 0)
		ret = xg_rules(xg_guard, &c->control_acl, 1, why, len);
	for (i = 0; ret == 0 && i < c->guard.n_ifs; i++) {
		ret = guard_attach(xg_guard, c->guard.ifs[i].name, (int)c->guard.ifs[i].mode, &got,
				   why, len);
		if (ret == 0 && n < sizeof(where))
			n += (size_t)snprintf(where + n, sizeof(where) - n, "%s%s (%s)",
					      i ? ", " : "", c->guard.ifs[i].name,
					      got == GUARD_MODE_NATIVE ? "native" : "generic");
	}
	if (ret == 0)
		ret = guard_pin(xg_guard, c->guard.pin, why, len);
	if (ret == 0) {
		xg_counters_fd = guard_map_fd(xg_guard, GUARD_PIN_COUNTERS);
		xg_ncpu = libbpf_num_possible_cpus();
		if (xg_counters_fd < 0 || xg_ncpu <= 0) {
			snprintf(why, len, "cannot find the counters map or the CPU count");
			ret = -EINVAL;
		} else if (!(xg_percpu = calloc((size_t)xg_ncpu, sizeof(*xg_percpu)))) {
			snprintf(why, len, "out of memory");
			ret = -ENOMEM;
		}
	}
	if (ret < 0) {
		guard_close(xg_guard);
		xg_guard = NULL;
		xg_counters_fd = -1;
		return ret;
	}
	if (gc.flags & GUARD_F_SERVE)
		xg_serve = guard_serve_area(xg_guard);
	log_msg(LOG_NOTICE, "guard: XDP on %s; %s%s%s%s; maps pinned in %s", where,
		l->enabled ? "rate limit" : "no rate limit",
		l->enabled && l->kod ? " with KoD" : "", c->rl.deny_kod ? ", DENY KoD" : "",
		xg_serve	 ? "; answers client requests"
		: c->guard.serve ? "; does not answer (the served clock is not CLOCK_REALTIME)"
				 : "",
		c->guard.pin);
	return 0;
}

int xg_start(const struct horod_config *c, struct srv_shared *sh)
{
	struct rl_limits l;
	char why[XG_WHY_MAX];
	int ret = 0;

	sh->rl = NULL;
	sh->deny_kod = c->rl.deny_kod;
	rl_limits_set(&l, c->rl.enabled, c->rl.interval, c->rl.burst, c->rl.leak, c->rl.kod);
	if (c->guard.n_ifs > 0) {
		if (xg_up(c, &l, why, sizeof(why)) == 0) {
			/*
			 * The guard limits. Denied requests that reach the workers
			 * anyway (through an interface without the guard) still get
			 * their DENY kiss-o'-death spaced: a table without limits.
			 */
			l.enabled = 0;
			ret = 1;
			/* Serving state now, not at the clock thread's next tick. */
			if (xg_serve) {
				struct clk_snapshot snap;

				clk_snapshot_read(sh->pub, &snap);
				xg_serve_publish(&snap);
			}
		} else {
			log_msg(LOG_WARNING,
				"guard: not loaded (%s): the workers enforce the access list%s",
				why, c->rl.enabled ? " and the rate limit" : "");
		}
	}
	if (l.enabled || c->rl.deny_kod) {
		xg_rl = sh->rl = rl_create(&l, RL_TABLE_ENTRIES);
		if (!sh->rl) {
			log_msg(LOG_ERR, "out of memory for the rate-limit table (%d sources)",
				RL_TABLE_ENTRIES);
			xg_stop();
			return -1;
		}
	}
	return ret;
}

int xg_totals_add(struct ctr_totals *t)
{
	uint64_t g[GUARD_NCOUNTERS] = {0};
	uint32_t k;
	int c, ret = 0;

	pthread_mutex_lock(&xg_read_lock);
	if (xg_counters_fd < 0 || !xg_percpu) {
		pthread_mutex_unlock(&xg_read_lock);
		return 0;
	}
	for (k = 0; k <= GUARD_C_SERVED && ret == 0; k++) {
		if (k < NTP_REASON_MAX ? !ctr_xdp_consumes((enum ntp_reason)k)
				       : k != GUARD_C_SERVED)
			continue;
		if (bpf_map_lookup_elem(xg_counters_fd, &k, xg_percpu) < 0) {
			ret = -errno;
			break;
		}
		for (c = 0; c < xg_ncpu; c++)
			g[k] += xg_percpu[c].packets;
	}
	if (ret < 0 && !xg_read_failed) {
		xg_read_failed = 1;
		log_msg(LOG_WARNING,
			"guard: cannot read its counters (%s): totals leave out "
			"what XDP dropped",
			strerror(-ret));
	}
	pthread_mutex_unlock(&xg_read_lock);
	if (ret == 0)
		ctr_add_xdp(t, g, g[GUARD_C_SERVED]);
	return ret;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns: the closest of three bracketed readings. */
static int64_t xg_mono_to_real(void)
{
	struct timespec m1, r, m2;
	int64_t best = INT64_MAX, off = 0, m1n, m2n, rn;
	int i;

	for (i = 0; i < 3; i++) {
		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		m1n = ns_from_timespec(&m1);
		m2n = ns_from_timespec(&m2);
		rn = ns_from_timespec(&r);
		if (m2n - m1n < best) {
			best = m2n - m1n;
			off = rn - (m1n + (m2n - m1n) / 2);
		}
	}
	return off;
}

/* A double of seconds as whole ns, rounded up (an error bound must not shrink); capped. */
static uint64_t xg_ns_up(double seconds)
{
	if (!(seconds > 0))
		return seconds == 0 ? 0 : UINT64_MAX >> 8; /* NaN: the largest bound */
	if (seconds >= 1e9)
		return UINT64_MAX >> 8;
	return (uint64_t)ceil(seconds * 1e9);
}

void xg_serve_publish(const struct clk_snapshot *s)
{
	struct guard_serve *g = xg_serve, v;
	uint32_t seq;

	if (!g)
		return;
	/* Everything computed first: requests meeting the write go to a worker. */
	v.on = !(s->flags & CLK_F_CORRECTED) && s->corr_ns == 0 && s->corr_freq == 0 &&
	       (s->leap == NTP_LEAP_NONE || s->leap == NTP_LEAP_UNSYNC);
	v.mono_to_real_ns = xg_mono_to_real();
	v.update_ns = s->update_ns;
	v.disp_ns = xg_ns_up(s->root_disp);
	v.disp_rate_ppb = xg_ns_up(s->disp_rate);
	v.ref_ts = htobe64(ntp_ts_from_unix_ns(s->ref_ns));
	v.root_delay = htonl(ntp_short_from_double(s->root_delay));
	v.refid = htonl(s->refid);
	v.leap = s->leap;
	v.stratum = s->stratum;
	v.precision = s->precision;
	/* The writer is the clock thread alone: a plain read of seq is its own. */
	seq = g->seq;
	__atomic_store_n(&g->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	g->on = v.on;
	g->mono_to_real_ns = v.mono_to_real_ns;
	g->update_ns = v.update_ns;
	g->disp_ns = v.disp_ns;
	g->disp_rate_ppb = v.disp_rate_ppb;
	g->ref_ts = v.ref_ts;
	g->root_delay = v.root_delay;
	g->refid = v.refid;
	g->leap = v.leap;
	g->stratum = v.stratum;
	g->precision = v.precision;
	__atomic_store_n(&g->seq, seq + 2, __ATOMIC_RELEASE);
}

void xg_stop(void)
{
	xg_serve = NULL; /* the clock thread has stopped */
	pthread_mutex_lock(&xg_read_lock);
	xg_counters_fd = -1;
	free(xg_percpu);
	xg_percpu = NULL;
	pthread_mutex_unlock(&xg_read_lock);
	guard_close(xg_guard);
	xg_guard = NULL;
	rl_destroy(xg_rl);
	xg_rl = NULL;
}
