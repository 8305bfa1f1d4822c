/*
 * Starting and stopping the XDP guard for horod: the guard's
 * configuration from horod's (served ports, listen lines, rate-limit
 * arithmetic, flags), the access lists copied into the guard's tries,
 * then attach and pin; when it may send anything, the host table's
 * rtnetlink listener, opened while still root; and, from the clock
 * thread, each publication of the serving state and the host table.
 * libbpf's own messages go to horod's log at debug level (-d).
 *
 * Each interface's attach (or adoption of a predecessor's link), with the
 * device-bound copy of the program, and the PHC offsets published with
 * the serving state are xguard_hw.c's (xguard_priv.h: what both share).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "bpf/guard_host.h"
#include "clock/snapshot.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"
#include "proto/ntp.h"
#include "daemon/policy/ratelimit.h"
#include "daemon/serve/hwts.h"
#include "daemon/serve/worker.h"
#include "daemon/serve/xguard_priv.h"

/* ms a reload waits for every worker to be past the old rules: 2 of their longest waits. */
#define XG_QUIESCE_MS (2 * WK_STOP_POLL_MS)
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

struct xg_handover xg_ho = {.map_fd = {-1, -1, -1}, .from = "the horod it took over from"};

struct xguard xg = {.read_lock = PTHREAD_MUTEX_INITIALIZER,
		    .pub_lock = PTHREAD_MUTEX_INITIALIZER,
		    .counters_fd = -1};

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
	/* The same for the transmit times written at egress (bpf/guard_egress.h). */
	if (c->guard.stamp && c->clk.driver == CFG_DRIVER_KERNEL && !c->clk.device[0])
		g->flags |= GUARD_F_STAMP;
#if !defined(__x86_64__)
	/*
	 * The program reads what horod publishes with x86_64's ordering of
	 * loads (bpf/guard_answer.h): elsewhere it sends nothing, neither
	 * time nor kiss-o'-death, and leaves those requests to the workers.
	 */
	g->flags &=
		~(uint32_t)(GUARD_F_SERVE | GUARD_F_STAMP | GUARD_F_RATE_KOD | GUARD_F_DENY_KOD);
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
 * The state maps to reuse: a predecessor's (a takeover), else with `guard
 * pin DIR keep` the ones left pinned in DIR by the last horod. Into FD
 * (GUARD_NSTATE, -1 = none); SRC says where they came from.
 */
static void xg_reuse_fds(const struct horod_config *c, int *fd, const char **src)
{
	int i, any = 0;

	*src = "";
	for (i = 0; i < GUARD_NSTATE; i++) {
		fd[i] = xg_ho.map_fd[i];
		any |= fd[i] >= 0;
	}
	if (any) {
		*src = xg_ho.from;
		return;
	}
	if (!c->guard.pin_keep)
		return;
	for (i = 0; i < GUARD_NSTATE; i++) {
		fd[i] = guard_pinned_open_rw(c->guard.pin, guard_state_map_name(i));
		if (fd[i] < 0)
			fd[i] = -1;
		else
			*src = c->guard.pin;
	}
}

/* Close the predecessor's descriptors (the reused maps were duplicated by libbpf). */
static void xg_ho_close(void)
{
	int i;

	for (i = 0; i < GUARD_NSTATE; i++) {
		if (xg_ho.map_fd[i] >= 0)
			close(xg_ho.map_fd[i]);
		xg_ho.map_fd[i] = -1;
	}
	for (i = 0; i < xg_ho.n_links; i++)
		if (xg_ho.link_fd[i] >= 0)
			close(xg_ho.link_fd[i]);
	xg_ho.n_links = 0;
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
	char where[CFG_MAX_GUARD_IF * (CFG_IFNAME_MAX + 28)] = "", kept[64] = "", stamps[96] = "";
	const char *no_serve = XG_NO_SERVE; /* why it does not answer, if it does not */
	int reuse[GUARD_NSTATE], k;
	unsigned int reused = 0;
	const char *src;
	size_t n = 0;
	int i, got, bound, ret;

	xg_config(c, l, &gc);
	guard_set_log(log_msg);
	xg_reuse_fds(c, reuse, &src);
	ret = guard_open_reuse(&xg.guard, &gc, reuse, &reused, why, len);
	/* Pins opened here are ours to close; handed-over maps are closed with xg_ho. */
	for (k = 0; k < GUARD_NSTATE; k++)
		if (reuse[k] >= 0 && reuse[k] != xg_ho.map_fd[k])
			close(reuse[k]);
	if (ret < 0)
		return ret;
	for (k = 0; k < GUARD_NSTATE; k++)
		if (reused & (1u << k))
			snprintf(kept + strlen(kept), sizeof(kept) - strlen(kept), "%s%s",
				 kept[0] ? ", " : "", guard_state_map_name(k));
	if (kept[0])
		log_msg(LOG_INFO, "guard: %s carried over from %s", kept, src);
	ret = xg_rules(xg.guard, &c->acl, 0, why, len);
	if (ret == 0)
		ret = xg_rules(xg.guard, &c->control_acl, 1, why, len);
	for (i = 0; ret == 0 && i < c->guard.n_ifs; i++) {
		ret = xg_attach_one(c, i, (gc.flags & GUARD_F_SERVE) != 0, &got, &bound, why, len);
		if (ret == 0 && n < sizeof(where))
			n += (size_t)snprintf(where + n, sizeof(where) - n, "%s%s (%s)",
					      i ? ", " : "", c->guard.ifs[i].name,
					      bound			 ? "native, device-bound"
					      : got == GUARD_MODE_NATIVE ? "native"
									 : "generic");
	}
	/* Egress stamps: best effort, each interface on its own (tcx needs Linux 6.6). */
	for (i = 0; ret == 0 && (gc.flags & GUARD_F_STAMP) && i < c->guard.n_ifs; i++) {
		char ewhy[XG_WHY_MAX];

		if (guard_attach_egress(xg.guard, c->guard.ifs[i].name, ewhy, sizeof(ewhy)) < 0)
			log_msg(LOG_WARNING,
				"guard: %s: basic replies keep the workers' transmit times there",
				ewhy);
	}
	if (ret == 0 && (gc.flags & GUARD_F_STAMP))
		snprintf(stamps, sizeof(stamps), "; transmit times written at egress on %d of %d",
			 guard_n_egress(xg.guard), c->guard.n_ifs);
	else if (ret == 0 && c->guard.stamp)
		snprintf(stamps, sizeof(stamps), "; no egress stamps (%s)", XG_NO_SERVE);
	if (ret == 0)
		guard_keep_state_pins(xg.guard, c->guard.pin_keep);
	/* A predecessor's pins are renewed, not stale. */
	if (ret == 0 &&
	    (xg_ho.n_links || xg_ho.map_fd[0] >= 0 || xg_ho.map_fd[1] >= 0 || xg_ho.map_fd[2] >= 0))
		guard_pins_inherited(xg.guard);
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
	for (k = 0; ret == 0 && k < GUARD_NCOUNTERS; k++) {
		uint32_t key = (uint32_t)k;

		xg.base[k] = 0;
		if (bpf_map_lookup_elem(xg.counters_fd, &key, xg.percpu) == 0)
			for (i = 0; i < xg.ncpu; i++)
				xg.base[k] += xg.percpu[i].packets;
	}
	if (ret < 0) {
		/* A link adopted above detaches once the predecessor stops. */
		guard_close(xg.guard);
		xg.guard = NULL;
		xg.counters_fd = -1;
		return ret;
	}
	if (gc.flags & (GUARD_F_SERVE | GUARD_F_STAMP | GUARD_F_RATE_KOD | GUARD_F_DENY_KOD)) {
		/*
		 * Without the host table the program knows no local address:
		 * it answers nothing, and its kiss-o'-death become drops.
		 * Under pub_lock: the clock thread publishes meanwhile.
		 */
		pthread_mutex_lock(&xg.pub_lock);
		if (xg_host_open(why, len) < 0) {
			log_msg(LOG_WARNING,
				"guard: %s: it answers nothing itself (kiss-o'-death "
				"become drops, requests go to the workers)",
				why);
			xg.state = NULL;
			no_serve = "no host table";
		}
		xg.serving = xg.state && (gc.flags & GUARD_F_SERVE);
		xg.publish = xg.state && ((gc.flags & GUARD_F_SERVE) || guard_n_egress(xg.guard));
		pthread_mutex_unlock(&xg.pub_lock);
	}
	log_msg(LOG_NOTICE, "guard: XDP on %s; %s%s%s%s%s%s%s; maps pinned in %s%s", where,
		l->enabled ? "rate limit" : "no rate limit",
		l->enabled && l->kod ? " with KoD" : "", c->rl.deny_kod ? ", DENY KoD" : "",
		xg.serving	 ? "; answers client requests"
		: c->guard.serve ? "; does not answer ("
				 : "",
		xg.serving || !c->guard.serve ? "" : no_serve,
		xg.serving || !c->guard.serve ? "" : ")", stamps, c->guard.pin,
		c->guard.pin_keep ? " (kept at exit)" : "");
	return 0;
}

int xg_start(const struct horod_config *c, struct srv_shared *sh)
{
	struct rl_limits l;
	char why[XG_WHY_MAX];
	int ret = 0;

	atomic_store_explicit(&sh->rules, NULL, memory_order_relaxed);
	xg.hw = sh->hw;
	rl_limits_set(&l, c->rl.enabled, c->rl.interval, c->rl.burst, c->rl.leak, c->rl.kod);
	if (c->guard.n_ifs > 0) {
		ret = xg_up(c, &l, why, sizeof(why));
		xg_ho_close(); /* what the guard did not adopt detaches with the predecessor */
		if (ret == 0) {
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
			ret = 0;
			log_msg(LOG_WARNING,
				"guard: not loaded (%s): the workers enforce the access list%s",
				why, c->rl.enabled ? " and the rate limit" : "");
		}
	} else {
		xg_ho_close();
	}
	if (l.enabled || c->rl.deny_kod) {
		xg.rl = rl_create(&l, RL_TABLE_ENTRIES);
		if (!xg.rl) {
			log_msg(LOG_ERR, "out of memory for the rate-limit table (%d sources)",
				RL_TABLE_ENTRIES);
			xg_stop(0);
			return -1;
		}
	}
	xg.pol = srv_policy_new(c, xg.rl);
	if (!xg.pol) {
		log_msg(LOG_ERR, "out of memory for the access lists");
		xg_stop(0);
		return -1;
	}
	atomic_store_explicit(&sh->rules, &xg.pol->rules, memory_order_release);
	return ret;
}

/*
 * Rebuild the running guard for NEXT (a reload): a new program with
 * NEXT's lists and limits, the state maps of the old one reused, its
 * links swapped to the new program, the pins renewed; the old guard
 * released. 0 (or no guard), or -errno with WHY, the old guard intact.
 */
static int xg_rebuild(const struct horod_config *next, char *why, size_t len)
{
	struct guard *old = xg.guard;
	struct guard_count *percpu = xg.percpu;
	struct guard_state_pub *old_state;
	struct guard_host_nl *old_nl;
	uint64_t base[GUARD_NCOUNTERS];
	int old_serving, old_publish;
	struct rl_limits l;
	const char *ifname;
	int i, fd, mode, ret;

	if (!old)
		return 0;
	/* The old guard as a predecessor: duplicates of its state maps and links. */
	xg_ho_close();
	xg_ho.from = "the guard it replaces";
	for (i = 0; i < GUARD_NSTATE; i++) {
		fd = guard_map_fd(old, guard_state_map_name(i));
		xg_ho.map_fd[i] = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	}
	for (i = 0; i < guard_n_links(old) && i < GUARD_MAX_IFACES; i++) {
		if (guard_link_info(old, i, &ifname, &mode) < 0)
			continue;
		xg_ho.link_fd[xg_ho.n_links] = fcntl(guard_link_fd(old, i), F_DUPFD_CLOEXEC, 0);
		if (xg_ho.link_fd[xg_ho.n_links] < 0)
			continue;
		snprintf(xg_ho.ifname[xg_ho.n_links], GUARD_IFNAME_MAX, "%s", ifname);
		xg_ho.mode[xg_ho.n_links++] = mode;
	}
	rl_limits_set(&l, next->rl.enabled, next->rl.interval, next->rl.burst, next->rl.leak,
		      next->rl.kod);
	memcpy(base, xg.base, sizeof(base));
	/*
	 * The clock thread publishes nothing meanwhile: the new program's
	 * state and host table are xg_up's to open (the old program, still
	 * in the links until the new one is swapped in, leaves requests to
	 * the workers once its publication is 2 s old).
	 */
	pthread_mutex_lock(&xg.pub_lock);
	old_state = xg.state;
	old_serving = xg.serving;
	old_publish = xg.publish;
	old_nl = xg.nl;
	xg.state = NULL;
	xg.serving = 0;
	xg.publish = 0;
	xg.nl = NULL;
	pthread_mutex_unlock(&xg.pub_lock);
	pthread_mutex_lock(&xg.read_lock);
	xg.guard = NULL;
	xg.percpu = NULL;
	ret = xg_up(next, &l, why, len);
	xg_ho_close();
	xg_ho.from = "the horod it took over from";
	if (ret < 0) {
		/* Nothing adopted stays adopted (xg_up closed its guard): the old one serves on. */
		xg.guard = old;
		xg.percpu = percpu;
		xg.counters_fd = guard_map_fd(old, GUARD_PIN_COUNTERS);
		pthread_mutex_unlock(&xg.read_lock);
		pthread_mutex_lock(&xg.pub_lock);
		xg.state = old_state;
		xg.serving = old_serving;
		xg.publish = old_publish;
		xg.nl = old_nl;
		pthread_mutex_unlock(&xg.pub_lock);
		return ret;
	}
	/* Same counters map: the totals keep counting from this horod's start. */
	memcpy(xg.base, base, sizeof(base));
	pthread_mutex_unlock(&xg.read_lock);
	guard_host_close(old_nl);
	free(percpu);
	guard_inherit_mounts(xg.guard, old);
	guard_release(old);
	return 0;
}

int xg_reload(const struct horod_config *next, struct srv_shared *sh, struct worker *w, int n,
	      char *why, size_t len)
{
	struct srv_policy *old_pol = xg.pol, *pol;
	struct rl_table *new_rl = NULL, *old_rl = NULL;
	const struct rl_limits *old_lim = RL_LIMITS_KEPT;
	struct rl_limits l;
	int needs, ret;

	/*
	 * A new program needs the BPF privileges the sandbox gave up (`user`),
	 * and bpf calls seccomp refuses: then only a takeover can apply it.
	 */
	if (xg.guard && (next->sec.user[0] || next->sec.seccomp)) {
		snprintf(why, len,
			 "the XDP guard's program cannot be rebuilt once horod gave up root's "
			 "BPF privileges (`user`, `seccomp`): apply the change with a takeover "
			 "(horod --takeover, systemctl reload horod)");
		return -EPERM;
	}
	/*
	 * Everything that can fail first, the guard last of those: until it
	 * succeeds nothing has changed. The workers' limiter is the guard's
	 * when a guard runs (theirs then only spaces DENY kiss-o'-death).
	 */
	rl_limits_set(&l, next->rl.enabled && !xg.guard, next->rl.interval, next->rl.burst,
		      next->rl.leak, next->rl.kod);
	needs = l.enabled || next->rl.deny_kod;
	if (needs && !xg.rl && !(new_rl = rl_create(&l, RL_TABLE_ENTRIES))) {
		snprintf(why, len, "out of memory for the rate-limit table");
		return -ENOMEM;
	}
	pol = srv_policy_new(next, needs ? (new_rl ? new_rl : xg.rl) : NULL);
	if (!pol) {
		rl_destroy(new_rl);
		snprintf(why, len, "out of memory for the new access lists");
		return -ENOMEM;
	}
	ret = xg_rebuild(next, why, len);
	if (ret < 0) {
		srv_policy_free(pol);
		rl_destroy(new_rl);
		return ret;
	}
	if (xg.state) {
		struct clk_snapshot snap;

		clk_snapshot_read(sh->pub, &snap);
		xg_serve_publish(&snap);
	}
	if (needs && !new_rl) {
		old_lim = rl_swap_limits(xg.rl, &l);
		if (!old_lim) {
			old_lim = RL_LIMITS_KEPT;
			log_msg(LOG_WARNING,
				"reload: out of memory: the workers' rate limit stays");
		}
	} else if (!needs) {
		old_rl = xg.rl;
	}
	if (new_rl || !needs)
		xg.rl = new_rl;
	xg.pol = pol;
	atomic_store_explicit(&sh->rules, &pol->rules, memory_order_release);
	/* Free what no worker can be reading any more; when one is stuck, leave it be. */
	if (wk_quiesce(w, n, XG_QUIESCE_MS) < 0) {
		log_msg(LOG_WARNING,
			"reload: a worker did not move on within %d ms: the old rules stay "
			"allocated",
			XG_QUIESCE_MS);
		return 0;
	}
	srv_policy_free(old_pol);
	if (old_lim != RL_LIMITS_KEPT)
		free((void *)(uintptr_t)old_lim);
	rl_destroy(old_rl);
	return 0;
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
	for (k = 0; k <= GUARD_C_SERVED_HW && ret == 0; k++) {
		if (k < NTP_REASON_MAX ? !ctr_xdp_consumes((enum ntp_reason)k)
				       : k != GUARD_C_SERVED && k != GUARD_C_SERVED_HW)
			continue;
		if (bpf_map_lookup_elem(xg.counters_fd, &k, xg.percpu) < 0) {
			ret = -errno;
			break;
		}
		for (c = 0; c < xg.ncpu; c++)
			g[k] += xg.percpu[c].packets;
		g[k] = g[k] > xg.base[k] ? g[k] - xg.base[k] : 0;
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
		ctr_add_xdp(t, g, g[GUARD_C_SERVED] + g[GUARD_C_SERVED_HW]);
	return ret;
}

int xg_counts(uint64_t *packets, uint64_t *bytes)
{
	uint32_t k;
	int c, ret = 1;

	memset(packets, 0, sizeof(*packets) * GUARD_NCOUNTERS);
	memset(bytes, 0, sizeof(*bytes) * GUARD_NCOUNTERS);
	pthread_mutex_lock(&xg.read_lock);
	if (xg.counters_fd < 0 || !xg.percpu) {
		pthread_mutex_unlock(&xg.read_lock);
		return 0;
	}
	for (k = 0; k < GUARD_NCOUNTERS; k++) {
		if (bpf_map_lookup_elem(xg.counters_fd, &k, xg.percpu) < 0) {
			ret = -errno;
			break;
		}
		for (c = 0; c < xg.ncpu; c++) {
			packets[k] += xg.percpu[c].packets;
			bytes[k] += xg.percpu[c].bytes;
		}
	}
	pthread_mutex_unlock(&xg.read_lock);
	return ret;
}
void xg_serve_publish(const struct clk_snapshot *s)
{
	struct guard_clocks now;
	struct guard_serve v;
	struct guard_phc phc;
	int ret;

	/* The clock thread's only lock: a reload holds it to swap the guard's state in. */
	pthread_mutex_lock(&xg.pub_lock);
	if (!xg.state) {
		pthread_mutex_unlock(&xg.pub_lock);
		return;
	}
	/* What changed on the host since the last publication (a second at most). */
	ret = guard_host_poll(xg.nl, &xg.host);
	if (ret < 0 && !xg.host_failed) {
		xg.host_failed = 1;
		log_msg(LOG_WARNING, "guard: cannot follow the host's addresses (%s)",
			strerror(-ret));
	}
	memset(&v, 0, sizeof(v)); /* off: only the host table, for kiss-o'-death */
	guard_phc_init(&phc);
	if (xg.publish) {
		guard_clocks_read(&now);
		guard_serve_fill(&v, s, &now);
		/* The PHC offsets, each with the CLOCK_TAI instant of its measurement. */
		xg_hw_phc_add(&phc, &now);
	}
	guard_state_store(xg.state, &v, &xg.host, &phc);
	pthread_mutex_unlock(&xg.pub_lock);
}

void xg_stop(int handed_over)
{
	/* The clock thread has stopped. */
	pthread_mutex_lock(&xg.pub_lock);
	xg.state = NULL;
	xg.serving = 0;
	xg.publish = 0;
	guard_host_close(xg.nl);
	xg.nl = NULL;
	pthread_mutex_unlock(&xg.pub_lock);
	pthread_mutex_lock(&xg.read_lock);
	xg.counters_fd = -1;
	free(xg.percpu);
	xg.percpu = NULL;
	pthread_mutex_unlock(&xg.read_lock);
	if (handed_over)
		guard_release(xg.guard);
	else
		guard_close(xg.guard);
	xg.guard = NULL;
	rl_destroy(xg.rl);
	xg.rl = NULL;
	srv_policy_free(xg.pol);
	xg.pol = NULL;
	xg_ho_close();
}

int xg_handover_export(struct fdp_item *items, int *n, int max)
{
	const char *ifname;
	int i, mode;

	if (!xg.guard)
		return 0;
	for (i = 0; i < GUARD_NSTATE; i++) {
		if (*n >= max)
			return -ENOSPC;
		snprintf(items[*n].name, FDP_NAME_MAX, "xdp-map %s", guard_state_map_name(i));
		items[*n].fd = guard_map_fd(xg.guard, guard_state_map_name(i));
		if (items[*n].fd >= 0)
			(*n)++;
	}
	for (i = 0; i < guard_n_links(xg.guard); i++) {
		if (*n >= max)
			return -ENOSPC;
		if (guard_link_info(xg.guard, i, &ifname, &mode) < 0)
			continue;
		snprintf(items[*n].name, FDP_NAME_MAX, "xdp-link %s %s", ifname,
			 mode == GUARD_MODE_SKB ? "skb" : "native");
		items[*n].fd = guard_link_fd(xg.guard, i);
		(*n)++;
	}
	return 0;
}

void xg_handover_import(struct fdp_item *items, int n)
{
	char ifname[GUARD_IFNAME_MAX], mode[8];
	int i, k;

	for (i = 0; i < n; i++) {
		if (items[i].fd < 0)
			continue;
		if (strncmp(items[i].name, "xdp-map ", 8) == 0) {
			for (k = 0; k < GUARD_NSTATE; k++) {
				if (strcmp(items[i].name + 8, guard_state_map_name(k)) != 0 ||
				    xg_ho.map_fd[k] >= 0)
					continue;
				xg_ho.map_fd[k] = items[i].fd;
				items[i].fd = -1;
			}
		} else if (sscanf(items[i].name, "xdp-link %15s %7s", ifname, mode) == 2 &&
			   xg_ho.n_links < GUARD_MAX_IFACES) {
			k = xg_ho.n_links++;
			snprintf(xg_ho.ifname[k], GUARD_IFNAME_MAX, "%s", ifname);
			xg_ho.mode[k] =
				strcmp(mode, "skb") == 0 ? GUARD_MODE_SKB : GUARD_MODE_NATIVE;
			xg_ho.link_fd[k] = items[i].fd;
			items[i].fd = -1;
		}
	}
}
