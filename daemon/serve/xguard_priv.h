/*
 * What the two files of horod's guard share: xguard.c (the guard's
 * configuration, start, reload, counters, publication, stop and
 * takeover) and xguard_hw.c (attaching the guard to an interface or
 * adopting a predecessor's link, with the device-bound copy of the
 * program where it is wanted, and the PHC offsets it publishes). Nothing
 * outside daemon/serve/xguard*.c includes it: everyone else goes through
 * daemon/serve/xguard.h.
 */
#ifndef HOROD_DAEMON_XGUARD_PRIV_H
#define HOROD_DAEMON_XGUARD_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/guard.h"
#include "bpf/guard_host.h"
#include "daemon/config/config.h"
#include "daemon/serve/hwts.h"
#include "daemon/serve/xguard.h"

#define XG_WHY_MAX 256 /* bytes of the reason a step failed */

/*
 * A predecessor's guard (xg_handover_import), used by the next xg_start:
 * its state maps to reuse, its links to swap our program into. Every
 * descriptor here is ours to close once used.
 */
struct xg_handover {
	int map_fd[GUARD_NSTATE];
	int n_links;
	int link_fd[GUARD_MAX_IFACES];
	int mode[GUARD_MAX_IFACES];
	char ifname[GUARD_MAX_IFACES][GUARD_IFNAME_MAX];
	const char *from; /* who they come from, for the log */
};

/* The predecessor's guard (xguard.c). */
extern struct xg_handover xg_ho;

/*
 * horod's guard: what xg_start set up and xg_stop tears down. The
 * counters are read from any thread (the clock thread for control and
 * metrics, the main thread on SIGUSR1): the map, a buffer of one value
 * per possible CPU (sized at start, before the sandbox) and the flag of a
 * logged failure are under read_lock. The serving state is written by the
 * clock thread alone.
 */
struct xguard {
	struct guard *guard;	    /* the running guard, or NULL */
	struct rl_table *rl;	    /* the workers' limiter, or NULL */
	struct srv_policy *pol;	    /* the workers' rules (sh->rules points into it) */
	pthread_mutex_t read_lock;  /* for the five fields below */
	int counters_fd;	    /* the counters map, or -1 */
	int ncpu;		    /* possible CPUs: values per counter */
	struct guard_count *percpu; /* one counter's value on every CPU */
	int read_failed;	    /* a failed read was logged */
	/*
	 * The guard's counters when this horod started (reused maps carry a
	 * predecessor's counts): horod's totals count what the guard consumed
	 * since, so they start from zero at every start as the workers' do.
	 */
	uint64_t base[GUARD_NCOUNTERS];
	pthread_mutex_t pub_lock;      /* for the four fields below (a reload swaps them) */
	struct guard_state_pub *state; /* what the program reads when it may answer, or NULL */
	int serving;		       /* it may answer with time (GUARD_F_SERVE) */
	int publish; /* the serving state is published: serving, or stamping at egress */
	struct guard_host_nl *nl;    /* keeps host current, or NULL */
	struct guard_host host;	     /* the program's view of the host, as last published */
	int host_failed;	     /* a failure to follow it was logged */
	const struct hwts_table *hw; /* `hwtimestamp` PHCs: their offsets are published too */
};

/* horod's guard (xguard.c). */
extern struct xguard xg;

/*
 * Put the guard on interface I of C (answering with time: SERVE): swap
 * our program into the link a predecessor handed over for it (never a
 * moment unguarded; the link keeps the mode it was attached in), else
 * attach. The device-bound copy
 * where it is wanted (xg_wants_bound) and the driver takes it, the
 * ordinary program otherwise: either way said once. *BOUND says which.
 * 0 or -errno with WHY.
 */
int xg_attach_one(const struct horod_config *c, int i, int serve, int *got, int *bound, char *why,
		  size_t len);

/* Add the `hwtimestamp` PHC offsets to PHC, each at its CLOCK_TAI instant (NOW: clocks read). */
void xg_hw_phc_add(struct guard_phc *phc, const struct guard_clocks *now);

#endif
