/*
 * NTS-KE for horod's NTS sources (`server HOST nts`): each exchange runs
 * in a short-lived thread of its own (tls/keclient.c: TCP, TLS 1.3 with
 * ntske/1, the certificate checked, records, the keys exported; bounded
 * by a deadline), never in the clock thread, and hands its result back
 * through a list and an eventfd the clock thread's loop polls, as the
 * resolver threads do (upstream_dns.c). The result says where NTP goes: the
 * server and port the NTS-KE server named (Server and Port Negotiation,
 * the name resolved in the same thread), else the address NTS-KE
 * connected to and the server line's port. The trust (ntstrustedcerts,
 * nosystemcert) is loaded once at start, before privileges go; a second
 * context without the certificates' time checks serves nocerttimecheck.
 * The state is reference-counted: a thread still running when horod
 * stops holds its own reference and frees nothing of the clock thread's.
 */
#ifndef HOROD_DAEMON_CLOCKD_UPNTS_H
#define HOROD_DAEMON_CLOCKD_UPNTS_H

#include <stddef.h>
#include <sys/socket.h>

#include "daemon/config/config.h"
#include "tls/keclient.h"

#define UPN_KE_TIMEOUT 5.0 /* s: a whole NTS-KE exchange, connect to keys */

/* One finished exchange, for source SRC. */
struct upn_ke {
	struct upn_ke *next;
	int src;
	int ok;			     /* 1: keys, cookies and an NTP address below */
	struct kec_result r;	     /* the exchange: records and keys, or stage and err */
	struct sockaddr_storage ntp; /* where to send NTP, port set */
	socklen_t ntp_len;
};

struct upn;

/*
 * The NTS-KE state of configuration C: the trusted certificates loaded
 * (C's ntstrustedcerts, the system's store unless nosystemcert). NULL,
 * with the reason in ERR, when they do not load or memory is short.
 */
struct upn *upn_create(const struct cfg_nts *c, char *err, size_t errlen);

/* The descriptor readable when an exchange has finished (an eventfd). */
int upn_fd(const struct upn *n);

/*
 * Start an exchange for source SRC with HOST on TCP port KE_PORT, NTP
 * then on NTP_PORT unless the server names another; NO_TIME_CHECK: do
 * not check the certificates' validity times. 0, or -1 (no thread).
 */
int upn_start(struct upn *n, int src, const char *host, int ke_port, int ntp_port,
	      int no_time_check);

/* The exchanges finished since the last call (a list, oldest last); free each with upn_free. */
struct upn_ke *upn_take(struct upn *n);

/* Wipe the keys of K and free it. */
void upn_free(struct upn_ke *k);

/* Drop the clock thread's reference: N is freed once no exchange runs. */
void upn_release(struct upn *n);

#endif
