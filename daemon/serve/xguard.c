/*
 * Starting and stopping the XDP guard for horod: the guard's
 * configuration from horod's (served ports, listen lines, rate-limit
 * arithmetic, flags), the access lists copied into the guard's tries,
 * then attach and pin; when it may send anything, the host table's
 * rtnetlink listener, opened while still root; and, from the clock
 * thread, each publication of the serving state and the host table.
 * libbpf's own messages go to horod's log at debug level (-d).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "bpf/guard_host.h"
#include "clock/snapshot.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"
#include "proto/ntp.h"
#include "daemon/policy/ratelimit.h"
#include "daemon/serve/xguard.h"

#define XG_WHY_MAX 256 /* bytes of the reason a step failed */
#if defined(__x86_64__)
#define XG_NO_SERVE "the served clock is not CLOCK_REALTIME"
#else
#define XG_NO_SERVE "only on x86_64, whose load ordering the program relies on"
#endif

_Static_assert(CFG_XDP_AUTO == GUARD_MODE_AUTO && CFG_XDP_NATIVE == GUARD_MODE_NATIVE &&
		       CFG_XDP_SKB == GUARD_MODE_SKB,
	       "the configuration's modes are the guard's");
_Static_assert(CFG_MAX_GUARD_IF <= GUARD_MAX_IFACES && CFG_MAX_LISTEN <= GUARD_MAX_PORTS &&
		       CFG_MAX_LISTEN <= GUARD_MAX_LISTEN && ACL_MAX_RULES <= GUARD_ACL_MAX &&
		       RL_TABLE_ENTRIES == GUARD_RL_ENTRIES,
	       "the guard's tables hold what the configuration allows");

/*
 * horod's guard: what xg_start set up and xg_stop tears down. The
 * counters are read from any thread (the clock thread for control and
 * metrics, the main thread on SIGUSR1): the map, a buffer of one value
 * per possible CPU (sized at start, before the sandbox) and the flag of a
 * logged failure are under read_lock. The serving state is written by the
 * clock thread alone.
 */
struct xguard {
	struct guard *guard;	       /* the running guard, or NULL */
	struct rl_table *rl;	       /* the workers' limiter, or NULL */
	pthread_mutex_t read_lock;     /* for the four fields below */
	int counters_fd;	       /* the counters map, or -1 */
	int ncpu;		       /* possible CPUs: values per counter */
	struct guard_count *percpu;    /* one counter's value on every CPU */
	int read_failed;	       /* a failed read was logged */
	struct guard_state_pub *state; /* what the program reads when it may answer, or NULL */
	int serving;		       /* it may answer with time (GUARD_F_SERVE) */
	struct guard_host_nl *nl;      /* keeps host current, or NULL */
	struct guard_host host;	       /* the program's view of the host, as last published */
	int host_failed;	       /* a failure to follow it was logged */
};

static struct xguard xg = {.read_lock = PTHREAD_MUTEX_INITIALIZER, .counters_fd = -1};

/* The guard's copy of listen line L (its port PORT): address, port, family. */
static void xg_listen(const struct cfg_listen *l, int port, struct guard_listen *out)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&l->addr;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&l->addr;

	memset(out, 0, sizeof(*out));
	out->port = htons((uint16_t)port);
	if (l->addr.ss_family == AF_INET) {
		out->family = GUARD_FAMILY_V4;
		memcpy(out->addr, &a4->sin_addr, 4);
		out->wildcard = a4->sin_addr.s_addr == htonl(INADDR_ANY);
	} else {
		out->family = GUARD_FAMILY_V6;
		memcpy(out->addr, &a6->sin6_addr, 16);
		out->wildcard = IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr);
	}
}

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
		xg_listen(&c->listen[i], port, &g->listen[g->n_listen++]);
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
#if !defined(__x86_64__)
	/*
	 * The program reads what horod publishes with x86_64's ordering of
	 * loads (bpf/guard_answer.h): elsewhere it sends nothing, neither
	 * time nor kiss-o'-death, and leaves those requests to the workers.
	 */
	g->flags &= ~(uint32_t)(GUARD_F_SERVE | GUARD_F_RATE_KOD | GUARD_F_DENY_KOD);
#endif
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

/*
 * The program's view of the host: the attached interfaces' MACs and the
 * local addresses, kept current from rtnetlink (opened now, as root);
 * 0, or -errno with WHY.
 */
static int xg_host_open(char *why, size_t len)
{
	uint32_t ifindex[GUARD_MAX_IFACES];
	int n = guard_links(xg.guard, ifindex, GUARD_MAX_IFACES);

	xg.state = guard_state_area(xg.guard);
	if (!xg.state) {
		snprintf(why, len, "the program's state is not mapped");
		return -EINVAL;
	}
	return guard_host_open(&xg.nl, ifindex, n, &xg.host, why, len);
}

/* Load, fill, attach and pin; 0, or -errno with WHY (and nothing left behind). */
static int xg_up(const struct horod_config *c, const struct rl_limits *l, char *why, size_t len)
{
	struct guard_config gc;
	char where[CFG_MAX_GUARD_IF * (CFG_IFNAME_MAX + 12)] = "";
	const char *no_serve = XG_NO_SERVE; /* why it does not answer, if it does not */
	size_t n = 0;
	int i, got, ret;

	xg_config(c, l, &gc);
	guard_set_log(log_msg);
	ret = guard_open(&xg.guard, &gc, why, len);
	if (ret < 0)
		return ret;
	ret = xg_rules(xg.guard, &c->acl, 0, why, len);
	if (ret == 0)
		ret = xg_rules(xg.guard, &c->control_acl, 1, why, len);
	for (i = 0; ret == 0 && i < c->guard.n_ifs; i++) {
		ret = guard_attach(xg.guard, c->guard.ifs[i].name, (int)c->guard.ifs[i].mode, &got,
				   why, len);
		if (ret == 0 && n < sizeof(where))
			n += (size_t)snprintf(where + n, sizeof(where) - n, "%s%s (%s)",
					      i ? ", " : "", c->guard.ifs[i].name,
					      got == GUARD_MODE_NATIVE ? "native" : "generic");
	}
	if (ret == 0)
		ret = guard_pin(xg.guard, c->guard.pin, why, len);
	if (ret == 0) {
		xg.counters_fd = guard_map_fd(xg.guard, GUARD_PIN_COUNTERS);
		xg.ncpu = libbpf_num_possible_cpus();
		if (xg.counters_fd < 0 || xg.ncpu <= 0) {
			snprintf(why, len, "cannot find the counters map or the CPU count");
			ret = -EINVAL;
		} else if (!(xg.percpu = calloc((size_t)xg.ncpu, sizeof(*xg.percpu)))) {
			snprintf(why, len, "out of memory");
			ret = -ENOMEM;
		}
	}
	if (ret < 0) {
		guard_close(xg.guard);
		xg.guard = NULL;
		xg.counters_fd = -1;
		return ret;
	}
	if (gc.flags & (GUARD_F_SERVE | GUARD_F_RATE_KOD | GUARD_F_DENY_KOD)) {
		/*
		 * Without the host table the program knows no local address:
		 * it answers nothing, and its kiss-o'-death become drops.
		 */
		if (xg_host_open(why, len) < 0) {
			log_msg(LOG_WARNING,
				"guard: %s: it answers nothing itself (kiss-o'-death "
				"become drops, requests go to the workers)",
				why);
			xg.state = NULL;
			no_serve = "no host table";
		}
		xg.serving = xg.state && (gc.flags & GUARD_F_SERVE);
	}
	log_msg(LOG_NOTICE, "guard: XDP on %s; %s%s%s%s%s%s; maps pinned in %s", where,
		l->enabled ? "rate limit" : "no rate limit",
		l->enabled && l->kod ? " with KoD" : "", c->rl.deny_kod ? ", DENY KoD" : "",
		xg.serving	 ? "; answers client requests"
		: c->guard.serve ? "; does not answer ("
				 : "",
		xg.serving || !c->guard.serve ? "" : no_serve,
		xg.serving || !c->guard.serve ? "" : ")", c->guard.pin);
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
			if (xg.state) {
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
		xg.rl = sh->rl = rl_create(&l, RL_TABLE_ENTRIES);
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

	pthread_mutex_lock(&xg.read_lock);
	if (xg.counters_fd < 0 || !xg.percpu) {
		pthread_mutex_unlock(&xg.read_lock);
		return 0;
	}
	for (k = 0; k <= GUARD_C_SERVED && ret == 0; k++) {
		if (k < NTP_REASON_MAX ? !ctr_xdp_consumes((enum ntp_reason)k)
				       : k != GUARD_C_SERVED)
			continue;
		if (bpf_map_lookup_elem(xg.counters_fd, &k, xg.percpu) < 0) {
			ret = -errno;
			break;
		}
		for (c = 0; c < xg.ncpu; c++)
			g[k] += xg.percpu[c].packets;
	}
	if (ret < 0 && !xg.read_failed) {
		xg.read_failed = 1;
		log_msg(LOG_WARNING,
			"guard: cannot read its counters (%s): totals leave out "
			"what XDP dropped",
			strerror(-ret));
	}
	pthread_mutex_unlock(&xg.read_lock);
	if (ret == 0)
		ctr_add_xdp(t, g, g[GUARD_C_SERVED]);
	return ret;
}

void xg_serve_publish(const struct clk_snapshot *s)
{
	struct guard_clocks now;
	struct guard_serve v;
	int ret;

	if (!xg.state)
		return;
	/* What changed on the host since the last publication (a second at most). */
	ret = guard_host_poll(xg.nl, &xg.host);
	if (ret < 0 && !xg.host_failed) {
		xg.host_failed = 1;
		log_msg(LOG_WARNING, "guard: cannot follow the host's addresses (%s)",
			strerror(-ret));
	}
	memset(&v, 0, sizeof(v)); /* off: only the host table, for kiss-o'-death */
	if (xg.serving) {
		guard_clocks_read(&now);
		guard_serve_fill(&v, s, &now);
	}
	guard_state_store(xg.state, &v, &xg.host);
}

void xg_stop(void)
{
	xg.state = NULL; /* the clock thread has stopped */
	xg.serving = 0;
	guard_host_close(xg.nl);
	xg.nl = NULL;
	pthread_mutex_lock(&xg.read_lock);
	xg.counters_fd = -1;
	free(xg.percpu);
	xg.percpu = NULL;
	pthread_mutex_unlock(&xg.read_lock);
	guard_close(xg.guard);
	xg.guard = NULL;
	rl_destroy(xg.rl);
	xg.rl = NULL;
}
