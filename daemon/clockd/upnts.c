/*
 * NTS-KE threads for the NTS sources (upnts.h): one detached thread per
 * exchange, its result pushed on a list under a mutex and signalled on
 * an eventfd; the shared state freed by whoever drops the last
 * reference, the clock thread at stop or the last thread to finish.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>

#include "daemon/clockd/upnts.h"
#include "proto/ntske.h"

#define UPN_NTP_PORT 123 /* UDP port of NTP when nothing else is said */

struct upn {
	atomic_int refs;       /* the clock thread's, and one per running exchange */
	pthread_mutex_t lock;  /* guards done */
	struct upn_ke *done;   /* finished exchanges, newest first */
	int wake_fd;	       /* eventfd written when one finishes */
	struct tls_ctx tls;    /* certificates checked in full */
	struct tls_ctx notime; /* the same trust without the validity times (nocerttimecheck) */
	int have_notime;
};

/* One exchange to run. */
struct upn_job {
	struct upn *n;
	struct upn_ke *k;
	char host[CFG_HOST_MAX];
	int ke_port, ntp_port, no_time_check;
};

/* Drop one reference to N; the last frees everything. */
static void upn_unref(struct upn *n)
{
	struct upn_ke *k, *next;

	if (atomic_fetch_sub(&n->refs, 1) != 1)
		return;
	for (k = n->done; k; k = next) {
		next = k->next;
		upn_free(k);
	}
	tls_fini(&n->tls);
	if (n->have_notime)
		tls_fini(&n->notime);
	if (n->wake_fd >= 0)
		close(n->wake_fd);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

struct upn *upn_create(const struct cfg_nts *c, char *err, size_t errlen)
{
	const char *file = c->trusted_certs[0] ? c->trusted_certs : NULL;
	struct upn *n = calloc(1, sizeof(*n));

	if (!n) {
		snprintf(err, errlen, "NTS client: out of memory");
		return NULL;
	}
	atomic_init(&n->refs, 1);
	pthread_mutex_init(&n->lock, NULL);
	n->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->wake_fd < 0) {
		snprintf(err, errlen, "NTS client: eventfd: %s", strerror(errno));
		pthread_mutex_destroy(&n->lock);
		free(n);
		return NULL;
	}
	if (tls_client_init(&n->tls, file, !c->no_system_cert, 0, err, errlen) < 0) {
		close(n->wake_fd);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return NULL;
	}
	if (c->no_cert_time_check > 0) {
		if (tls_client_init(&n->notime, file, !c->no_system_cert, 1, err, errlen) < 0) {
			tls_fini(&n->tls);
			close(n->wake_fd);
			pthread_mutex_destroy(&n->lock);
			free(n);
			return NULL;
		}
		n->have_notime = 1;
	}
	return n;
}

int upn_fd(const struct upn *n)
{
	return n->wake_fd;
}

/* Where NTP goes after the exchange K with JOB's host: named by the server, or where KE went. */
static void ntp_address(struct upn_ke *k, const struct upn_job *job)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL, *ai;
	int port = k->r.reply.port > 0 ? k->r.reply.port : job->ntp_port;
	char service[8];
	int e;

	if (!k->r.reply.server[0]) {
		memcpy(&k->ntp, &k->r.addr, k->r.addrlen);
		k->ntp_len = k->r.addrlen;
		if (k->ntp.ss_family == AF_INET)
			((struct sockaddr_in *)&k->ntp)->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)&k->ntp)->sin6_port = htons((uint16_t)port);
		return;
	}
	snprintf(service, sizeof(service), "%d", port);
	e = getaddrinfo(k->r.reply.server, service, &hints, &res);
	for (ai = e ? NULL : res; ai; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(k->ntp))
			continue;
		memcpy(&k->ntp, ai->ai_addr, ai->ai_addrlen);
		k->ntp_len = ai->ai_addrlen;
		break;
	}
	if (res)
		freeaddrinfo(res);
	if (!k->ntp_len) {
		k->ok = 0;
		k->r.stage = "server";
		snprintf(k->r.err, sizeof(k->r.err), "the NTP server it named, %s: %s",
			 k->r.reply.server, e ? gai_strerror(e) : "no IPv4 or IPv6 address");
	}
}

static void *ke_thread(void *arg)
{
	static const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};
	struct upn_job *job = arg;
	struct upn *n = job->n;
	struct upn_ke *k = job->k;
	const struct tls_ctx *t = job->no_time_check && n->have_notime ? &n->notime : &n->tls;
	uint64_t one = 1;

	k->ok = kec_exchange(t, job->host, job->ke_port, UPN_KE_TIMEOUT, aeads, 1, &k->r) == 0;
	if (k->ok)
		ntp_address(k, job);
	pthread_mutex_lock(&n->lock);
	k->next = n->done;
	n->done = k;
	pthread_mutex_unlock(&n->lock);
	if (write(n->wake_fd, &one, sizeof(one)) < 0) {
		/* The clock thread also looks at the list every second. */
	}
	free(job);
	upn_unref(n);
	return NULL;
}

int upn_start(struct upn *n, int src, const char *host, int ke_port, int ntp_port,
	      int no_time_check)
{
	struct upn_job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t t;
	int r;

	if (!job)
		return -1;
	job->k = calloc(1, sizeof(*job->k));
	if (!job->k) {
		free(job);
		return -1;
	}
	job->n = n;
	job->k->src = src;
	snprintf(job->host, sizeof(job->host), "%s", host);
	job->ke_port = ke_port;
	job->ntp_port = ntp_port ? ntp_port : UPN_NTP_PORT;
	job->no_time_check = no_time_check;
	atomic_fetch_add(&n->refs, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, ke_thread, job);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		atomic_fetch_sub(&n->refs, 1);
		free(job->k);
		free(job);
		return -1;
	}
	return 0;
}

struct upn_ke *upn_take(struct upn *n)
{
	struct upn_ke *k;
	uint64_t v;

	if (read(n->wake_fd, &v, sizeof(v)) < 0) {
		/* Nothing signalled; a result may still be there from a missed wake-up. */
	}
	pthread_mutex_lock(&n->lock);
	k = n->done;
	n->done = NULL;
	pthread_mutex_unlock(&n->lock);
	return k;
}

void upn_free(struct upn_ke *k)
{
	if (!k)
		return;
	explicit_bzero(k, sizeof(*k));
	free(k);
}

void upn_release(struct upn *n)
{
	if (n)
		upn_unref(n);
}
