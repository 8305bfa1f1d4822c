/*
 * The NTS-KE client exchange (keclient.h): one function, a ladder of
 * stages, each bounded by the same deadline; every way out closes what it
 * opened and says which stage failed and why.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gnutls/x509.h>

#include "proto/nstime.h"
#include "tls/keclient.h"

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ns_sec(ns_from_timespec(&ts));
}

/* Milliseconds left until DEADLINE (at least 0). */
static int left_ms(double deadline)
{
	double l = deadline - mono_now();

	return l <= 0 ? 0 : (int)(l * 1000.0) + 1;
}

/* Wait until FD is ready for EVENTS or DEADLINE passes: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do {
		r = poll(&p, 1, left_ms(deadline));
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Fail at STAGE with a formatted reason. */
static int fail(struct kec_result *r, const char *stage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct kec_result *r, const char *stage, const char *fmt, ...)
{
	va_list ap;

	r->stage = stage;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* A connected non-blocking TCP socket to HOST:PORT before DEADLINE, or -1 (R). */
static int connect_to(const char *host, int port, double deadline, struct kec_result *r)
{
	/*
	 * No AI_ADDRCONFIG: it asks the kernel over netlink (a bind that
	 * horod's seccomp filter refuses), and hides ::1 on a host whose only
	 * IPv6 address is loopback; an address of a family without a route
	 * fails its connect at once and the next one is tried.
	 */
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *a;
	char service[8], addr[INET6_ADDRSTRLEN];
	int fd = -1, e, last = 0;

	snprintf(service, sizeof(service), "%d", port);
	e = getaddrinfo(host, service, &hints, &res);
	if (e) {
		fail(r, "resolve", "%s: %s", host, gai_strerror(e));
		return -1;
	}
	for (a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (a->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr, addr,
				  sizeof(addr));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, addr,
				  sizeof(addr));
		snprintf(r->peer, sizeof(r->peer), a->ai_family == AF_INET ? "%s:%d" : "[%s]:%d",
			 addr, port);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		last = errno;
		if (last == EINPROGRESS) {
			/*
			 * Writable: connected, or failed. A second connect()
			 * says which (EISCONN, or the error), without the
			 * getsockopt() horod's seccomp filter does not allow.
			 */
			if (wait_fd(fd, POLLOUT, deadline) != 1)
				last = ETIMEDOUT;
			else if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EISCONN)
				break;
			else
				last = errno;
		}
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && a && a->ai_addrlen <= sizeof(r->addr)) {
		memcpy(&r->addr, a->ai_addr, a->ai_addrlen);
		r->addrlen = a->ai_addrlen;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fail(r, "connect", "%s: %s", r->peer[0] ? r->peer : host,
		     last == ETIMEDOUT ? "timed out" : strerror(last));
	else
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	return fd;
}

/* Describe the server's certificate chain into R. */
static void describe_chain(gnutls_session_t s, struct kec_result *r)
{
	const gnutls_datum_t *certs;
	unsigned int n = 0, i;

	certs = gnutls_certificate_get_peers(s, &n);
	for (i = 0; certs && i < n && r->n_chain < KEC_CHAIN_MAX; i++) {
		struct kec_cert *c = &r->chain[r->n_chain];
		gnutls_x509_crt_t crt;
		size_t len;

		if (gnutls_x509_crt_init(&crt) < 0)
			break;
		if (gnutls_x509_crt_import(crt, &certs[i], GNUTLS_X509_FMT_DER) == 0) {
			len = sizeof(c->subject);
			if (gnutls_x509_crt_get_dn(crt, c->subject, &len) < 0)
				snprintf(c->subject, sizeof(c->subject), "?");
			len = sizeof(c->issuer);
			if (gnutls_x509_crt_get_issuer_dn(crt, c->issuer, &len) < 0)
				snprintf(c->issuer, sizeof(c->issuer), "?");
			c->not_before = gnutls_x509_crt_get_activation_time(crt);
			c->not_after = gnutls_x509_crt_get_expiration_time(crt);
			r->n_chain++;
		}
		gnutls_x509_crt_deinit(crt);
	}
}

/* Run S's handshake to its end before DEADLINE; 0, or -1 (R). */
static int handshake(gnutls_session_t s, int fd, double deadline, struct kec_result *r)
{
	const char *group;
	int ret;

	for (;;) {
		ret = gnutls_handshake(s);
		if (ret == 0)
			break;
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED) {
			if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
				gnutls_datum_t out = {0};
				unsigned int st = gnutls_session_get_verify_cert_status(s);

				describe_chain(s, r);
				gnutls_certificate_verification_status_print(st, GNUTLS_CRT_X509,
									     &out, 0);
				fail(r, "certificate", "%s", out.data ? (char *)out.data : "?");
				gnutls_free(out.data);
				return -1;
			}
			if (ret == GNUTLS_E_NO_APPLICATION_PROTOCOL)
				return fail(r, "alpn", "the server does not speak ntske/1 (ALPN)");
			return fail(r, "tls", "handshake: %s", gnutls_strerror(ret));
		}
		if (wait_fd(fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN, deadline) != 1)
			return fail(r, "tls", "handshake timed out");
	}
	describe_chain(s, r);
	if (!tls_session_ntske(s))
		return fail(r, "alpn", "not TLS 1.3 with ALPN ntske/1");
	group = gnutls_group_get_name(gnutls_group_get(s));
	snprintf(r->tls, sizeof(r->tls), "%s %s %s",
		 gnutls_protocol_get_name(gnutls_protocol_get_version(s)),
		 gnutls_cipher_get_name(gnutls_cipher_get(s)), group ? group : "?");
	return 0;
}

int kec_open(const struct tls_ctx *t, const char *host, int port, double timeout,
	     struct kec_session *ks, struct kec_result *r)
{
	memset(ks, 0, sizeof(*ks));
	memset(r, 0, sizeof(*r));
	ks->start = mono_now();
	ks->deadline = ks->start + timeout;
	ks->fd = connect_to(host, port, ks->deadline, r);
	if (ks->fd < 0)
		return -1;
	if (tls_session_new(t, ks->fd, host, &ks->s, r->err, sizeof(r->err)) < 0) {
		r->stage = "tls";
		ks->s = NULL;
		kec_close(ks);
		return -1;
	}
	if (handshake(ks->s, ks->fd, ks->deadline, r) < 0) {
		kec_close(ks);
		return -1;
	}
	return 0;
}

int kec_send(struct kec_session *ks, const uint8_t *buf, size_t len, struct kec_result *r)
{
	size_t sent = 0;

	while (sent < len) {
		ssize_t w = gnutls_record_send(ks->s, buf + sent, len - sent);

		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
			if (wait_fd(ks->fd, POLLOUT, ks->deadline) != 1)
				return fail(r, "send", "timed out");
			continue;
		}
		if (w < 0)
			return fail(r, "send", "%s", gnutls_strerror((int)w));
		sent += (size_t)w;
	}
	return 0;
}

long kec_recv_msg(struct kec_session *ks, uint8_t *buf, size_t cap, struct kec_result *r)
{
	size_t got = 0;
	long mlen;

	while ((mlen = nke_msg_length(buf, got)) == 0) {
		ssize_t k;

		if (got == cap)
			break;
		k = gnutls_record_recv(ks->s, buf + got, cap - got);
		if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED) {
			if (gnutls_record_check_pending(ks->s) == 0 &&
			    wait_fd(ks->fd, POLLIN, ks->deadline) != 1)
				return fail(r, "receive", "timed out after %zu bytes", got);
			continue;
		}
		if (k == 0)
			return fail(r, "receive",
				    "the server closed the connection after %zu bytes", got);
		if (k < 0)
			return fail(r, "receive", "%s", gnutls_strerror((int)k));
		got += (size_t)k;
	}
	if (mlen <= 0)
		return fail(r, "answer", "no End of Message within %zu bytes", cap);
	return mlen;
}

void kec_close(struct kec_session *ks)
{
	if (ks->s) {
		/* Closing politely is not worth a wait: one try. */
		gnutls_bye(ks->s, GNUTLS_SHUT_WR);
		gnutls_deinit(ks->s);
	}
	if (ks->fd >= 0)
		close(ks->fd);
	ks->s = NULL;
	ks->fd = -1;
}

int kec_exchange(const struct tls_ctx *t, const char *host, int port, double timeout,
		 const uint16_t *aeads, int n, struct kec_result *r)
{
	static _Thread_local uint8_t ans[NKE_MSG_MAX];
	struct kec_session ks;
	uint8_t req[64];
	size_t rlen;
	long mlen;
	int ret = -1;

	if (kec_open(t, host, port, timeout, &ks, r) < 0)
		return -1;
	rlen = nke_build_request(aeads, n, req, sizeof(req));
	if (kec_send(&ks, req, rlen, r) < 0)
		goto out;
	mlen = kec_recv_msg(&ks, ans, sizeof(ans), r);
	if (mlen < 0)
		goto out;
	if (nke_parse_reply(ans, (size_t)mlen, aeads, n, &r->reply) < 0) {
		if (r->reply.error >= 0)
			fail(r, "answer", "NTS-KE error %d (%s)", r->reply.error,
			     nke_error_name(r->reply.error));
		else
			fail(r, "answer", "%s", r->reply.why);
		goto out;
	}
	if (tls_export_keys(ks.s, (uint16_t)r->reply.aead, NTS_KEY_LEN, r->c2s, r->s2c) < 0) {
		fail(r, "keys", "the TLS exporter failed");
		goto out;
	}
	r->seconds = mono_now() - ks.start;
	ret = 0;
out:
	kec_close(&ks);
	return ret;
}
