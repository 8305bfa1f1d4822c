/*
 * Name lookups of the upstream sources, for upstream.c (upstream_priv.h):
 * each in a resolver thread of its own, its addresses handed back to
 * the clock thread, which picks for each source an address that no other
 * member of its pool line uses.
 *
 * Lookups run in detached resolver threads that may outlive the
 * upstream (getaddrinfo blocks as long as DNS makes it): what they share
 * with the clock thread is a reference-counted mailbox (the results list,
 * its lock and the eventfd that wakes the loop), held by the upstream and
 * by each lookup under way, and freed, its eventfd closed, by whoever
 * lets it go last. A lookup that finishes after horod stopped its
 * upstream writes to its own mailbox's descriptor, never to a closed (or
 * reused) one.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "daemon/clockd/upstream_priv.h"
#include "daemon/sys/log.h"

#define UP_MAX_ADDRS	    16		  /* addresses kept from one lookup */
#define UP_RESOLVE_RETRY_NS 30000000000LL /* 30 s between failed lookups of a name */

/* A finished lookup, handed from a resolver thread to the clock thread. */
struct up_result {
	struct up_result *next;
	int src;
	int err; /* getaddrinfo error, 0 = ok */
	int n;
	struct sockaddr_storage addrs[UP_MAX_ADDRS];
	socklen_t lens[UP_MAX_ADDRS];
};

struct up_job {
	struct up_mailbox *box; /* one reference, the job's */
	int src;
	char host[CFG_HOST_MAX];
	char port[8];
};

static atomic_int resolvers_running; /* lookups under way, for up_fini */
static up_lookup_fn up_lookup = getaddrinfo;

void up_set_lookup(up_lookup_fn fn)
{
	up_lookup = fn ? fn : getaddrinfo;
}

int up_lookups_running(void)
{
	return atomic_load(&resolvers_running);
}

/* A mailbox with one reference (the caller's); NULL on failure (logged). */
struct up_mailbox *up_box_new(void)
{
	struct up_mailbox *b = calloc(1, sizeof(*b));

	if (!b) {
		log_msg(LOG_ERR, "upstream: out of memory");
		return NULL;
	}
	b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->wake_fd < 0) {
		log_msg(LOG_ERR, "upstream: eventfd: %s", strerror(errno));
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->refs = 1;
	return b;
}

/* One more holder of B. */
static void box_ref(struct up_mailbox *b)
{
	pthread_mutex_lock(&b->lock);
	b->refs++;
	pthread_mutex_unlock(&b->lock);
}

/* Let go of B: the last holder frees it, its results and its eventfd. */
void up_box_unref(struct up_mailbox *b)
{
	struct up_result *r, *next;
	int last;

	pthread_mutex_lock(&b->lock);
	last = --b->refs == 0;
	pthread_mutex_unlock(&b->lock);
	if (!last)
		return;
	for (r = b->results; r; r = next) {
		next = r->next;
		free(r);
	}
	close(b->wake_fd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static void *resolver(void *arg)
{
	struct up_job *job = arg;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL, *ai;
	struct up_result *r = calloc(1, sizeof(*r));
	struct up_mailbox *b = job->box;
	uint64_t one = 1;

	if (r) {
		r->src = job->src;
		r->err = up_lookup(job->host, job->port, &hints, &res);
		for (ai = res; ai && r->n < UP_MAX_ADDRS; ai = ai->ai_next) {
			if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
				continue;
			memcpy(&r->addrs[r->n], ai->ai_addr, ai->ai_addrlen);
			r->lens[r->n++] = ai->ai_addrlen;
		}
		if (res)
			freeaddrinfo(res);
		pthread_mutex_lock(&b->lock);
		r->next = b->results;
		b->results = r;
		/* Under the lock: the descriptor is the mailbox's, open while we hold it. */
		if (write(b->wake_fd, &one, sizeof(one)) < 0) {
			/* The clock thread also looks at results every second. */
		}
		pthread_mutex_unlock(&b->lock);
	}
	free(job);
	up_box_unref(b);
	atomic_fetch_sub(&resolvers_running, 1);
	return NULL;
}

/* Start a lookup of source I's name in its own detached thread. */
void up_start_resolve(struct upstream *u, int i, int64_t now)
{
	struct up_source *s = &u->src[i];
	struct up_job *job;
	pthread_attr_t attr;
	pthread_t t;

	if (s->resolving || now < s->resolve_after)
		return;
	job = calloc(1, sizeof(*job));
	if (!job)
		return;
	job->box = u->box;
	box_ref(u->box);
	job->src = i;
	snprintf(job->host, sizeof(job->host), "%s", s->cfg->host);
	snprintf(job->port, sizeof(job->port), "%d", s->cfg->port);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&resolvers_running, 1);
	if (pthread_create(&t, &attr, resolver, job) != 0) {
		atomic_fetch_sub(&resolvers_running, 1);
		up_box_unref(u->box);
		free(job);
	} else {
		s->resolving = 1;
	}
	pthread_attr_destroy(&attr);
}

/* 1 when ADDR is already used by another member of the same pool line as source I. */
static int addr_in_use(const struct upstream *u, int i, const struct sockaddr_storage *a,
		       socklen_t len)
{
	int j;

	for (j = 0; j < u->n; j++)
		if (j != i && u->src[j].cfg == u->src[i].cfg && u->src[j].addrlen == len &&
		    memcmp(&u->src[j].addr, a, len) == 0)
			return 1;
	return 0;
}

void up_take_results(struct upstream *u, int64_t now)
{
	struct up_result *r, *next;
	char a[INET6_ADDRSTRLEN];
	uint64_t v;

	if (read(u->box->wake_fd, &v, sizeof(v)) < 0) {
		/* Nothing was signalled; results may still be there from a missed wake-up. */
	}
	pthread_mutex_lock(&u->box->lock);
	r = u->box->results;
	u->box->results = NULL;
	pthread_mutex_unlock(&u->box->lock);
	for (; r; r = next) {
		struct up_source *s = &u->src[r->src];
		int k, pick = -1;

		next = r->next;
		s->resolving = 0;
		s->resolve_after = now + UP_RESOLVE_RETRY_NS;
		for (k = 0; k < r->n && pick < 0; k++) {
			int idx = (k + s->member) % r->n;

			if (!addr_in_use(u, r->src, &r->addrs[idx], r->lens[idx]))
				pick = idx;
		}
		if (r->err || pick < 0) {
			log_msg(LOG_WARNING, "%s %s: %s", s->cfg->pool ? "pool" : "server",
				s->cfg->host,
				r->err ? gai_strerror(r->err)
				       : "no unused address for this member");
		} else {
			s->addr = r->addrs[pick];
			s->addrlen = r->lens[pick];
			s->unanswered = 0;
			s->last_xmt = 0;
			s->prev.valid = 0; /* another server: nothing to interleave with */
			clk_core_source_addr(u->core, s->core_id, up_addr_refid(&s->addr));
			up_addr_str(&s->addr, a, sizeof(a));
			log_msg(LOG_INFO, "source %s is %s", s->name, a);
		}
		free(r);
	}
}
