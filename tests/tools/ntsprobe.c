/*
 * ntsprobe: an NTS client that misbehaves on purpose, for the system
 * tests. It runs a real NTS-KE exchange (tls/keclient.c) for cookies and
 * keys, then sends one kind of request per CASE and checks the answer
 * against what RFC 8915 and horod's README say the server must do;
 * prints `PASS CASE: ...` or `FAIL CASE: ...` per case, and exits 0 when
 * every case passed, 1 otherwise, 2 on bad usage or no exchange.
 *
 *   ntsprobe HOST [--ke-port N] [--ntp-host H] [--ntp-port N] [--ca FILE] CASE...
 *
 * (NTS-KE with HOST, NTP to H, default HOST.)
 *
 * NTP cases (each one request, answer within 1 s or none):
 *   ok             1 cookie: authenticated answer as long as the request, 1 cookie
 *   placeholders   1 cookie + 7 placeholders: 8 cookies, as long as the request
 *   padded         an unknown 512-byte field before the Authenticator: answer as long
 *   bad-cookie     a byte of the cookie changed: NTS NAK with the identifier
 *   bad-auth       a byte of the authenticator's tag changed: NTS NAK
 *   bad-header     a byte of the header (associated data) changed: NTS NAK
 *   unknown-key    the cookie's key id changed: NTS NAK
 *   no-uid         without the Unique Identifier: no answer
 *   short-uid      a 16-byte identifier: no answer
 *   two-cookies    two cookie fields: no answer
 *   auth-not-last  a field after the Authenticator: no answer
 *   truncated      the Authenticator's length runs past the datagram: no answer
 *   mode1          an NTS request in mode 1: no answer
 *   replay         the same request twice: both answered (the server keeps no state),
 *                  and the client's check refuses the answer for another identifier
 *   expired        a valid request with the exchange's first cookie: NTS NAK (after
 *                  the server rotated its key out)
 * Others:
 *   sleep=S        wait S seconds
 *   ke-loop=S      NTS-KE exchanges back to back for S seconds (load); passes when one
 *                  at least succeeded
 * NTS-KE cases (one session each):
 *   ke-no-np       a request without Next Protocol: Error record, Bad Request (1)
 *   ke-critical    an unknown critical record: Error record, Unrecognized Critical (0)
 *   ke-oversized   a record announcing 20000 bytes: Error record, Bad Request
 *   ke-truncated   half a request, then close: no answer, the session ends
 *   ke-no-alpn     TLS 1.3 without ALPN ntske/1, then a valid request: no answer
 *   ke-tls12       TLS 1.2 only, then a valid request: no answer (no handshake)
 *   flood=N        N TCP connections held 3 s without a word: the server closes the ones
 *                  past its limit at once, the others at its 2 s deadline; after it an
 *                  exchange works again
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "proto/nstime.h"
#include "proto/ntp.h"
#include "proto/nts.h"
#include "proto/ntske.h"
#include "proto/byteorder.h"
#include "tls/keclient.h"

#define PKT_MAX	     2048 /* bytes: the largest request we build */
#define REPLY_WAIT   1000 /* ms to wait for an answer (or to conclude there is none) */
#define FLOOD_MAX    4096 /* connections a flood may hold */
#define FLOOD_HOLD_S 3	  /* s a flood holds its connections */

static const char *host, *ntp_host;
static int ke_port = NKE_PORT, ntp_port = 123;
static struct tls_ctx tls;
static struct kec_result ke;
static struct cry_siv c2s, s2c;
static int fails;

static void verdict(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void verdict(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fails += !ok;
}

static void rnd(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		abort();
}

/* A UDP socket connected to the NTP server. */
static int ntp_socket(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
	char svc[8];
	int fd;

	snprintf(svc, sizeof(svc), "%d", ntp_port);
	if (getaddrinfo(ntp_host ? ntp_host : host, svc, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Send REQ (LEN bytes) and wait for the answer whose origin is REQ's transmit; its length or 0. */
static size_t exchange(int fd, const uint8_t *req, size_t len, uint8_t *rep)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (send(fd, req, len, 0) < 0) {
		printf("ntsprobe: send: %s\n", strerror(errno));
		return 0;
	}
	while (poll(&p, 1, REPLY_WAIT) == 1) {
		ssize_t n = recv(fd, rep, PKT_MAX, 0);

		if (n >= NTP_HEADER_LEN && memcmp(rep + 24, req + 40, 8) == 0)
			return (size_t)n;
	}
	return 0;
}

/* A fresh valid request with PH placeholders into PKT, its identifier in UID; its length. */
static size_t build(uint8_t *pkt, uint8_t *uid, int ph, int mode)
{
	uint8_t nonce[NTS_NONCE_LEN];

	memset(pkt, 0, NTP_HEADER_LEN);
	pkt[0] = (uint8_t)(0x20 | mode);
	rnd(pkt + 40, 8);
	rnd(uid, NTS_UID_LEN);
	rnd(nonce, sizeof(nonce));
	return nts_client_request(pkt, PKT_MAX, uid, ke.reply.cookie[0], ke.reply.cookie_len[0], ph,
				  &c2s, nonce);
}

/* Seal PKT[0..AUTH_OFF) again with a fresh nonce into an Authenticator at AUTH_OFF; the length. */
static size_t reseal(uint8_t *pkt, size_t auth_off)
{
	uint8_t *a = pkt + auth_off;

	be_put16(a, NTS_EF_AUTH);
	be_put16(a + 2, 40);
	be_put16(a + 4, NTS_NONCE_LEN);
	be_put16(a + 6, CRY_SIV_TAG_LEN);
	rnd(a + 8, NTS_NONCE_LEN);
	cry_siv_seal(&c2s, a + 8, NTS_NONCE_LEN, pkt, auth_off, NULL, 0, a + 8 + NTS_NONCE_LEN);
	return auth_off + 40;
}

/* 1 when REP (N bytes) is an NTS NAK carrying UID. */
static int is_nak(const uint8_t *rep, size_t n, const uint8_t *uid)
{
	return n == NTP_HEADER_LEN + 4 + NTS_UID_LEN && rep[1] == 0 &&
	       memcmp(rep + 12, "NTSN", 4) == 0 && memcmp(rep + NTP_HEADER_LEN + 4, uid, 32) == 0;
}

static void ntp_case(const char *name)
{
	static uint8_t req[PKT_MAX], rep[PKT_MAX];
	static struct nts_client_reply cr;
	uint8_t uid[NTS_UID_LEN];
	size_t len, n, cookie_off = NTP_HEADER_LEN + 36 + 4;
	int fd = ntp_socket(), r;

	if (fd < 0) {
		verdict(0, name, "no UDP socket to %s port %d", host, ntp_port);
		return;
	}
	len = build(req, uid, 0, NTP_MODE_CLIENT);
	if (strcmp(name, "ok") == 0 || strcmp(name, "placeholders") == 0 ||
	    strcmp(name, "padded") == 0) {
		int want = 1;

		if (strcmp(name, "placeholders") == 0) {
			len = build(req, uid, 7, NTP_MODE_CLIENT);
			want = 8;
		} else if (strcmp(name, "padded") == 0) {
			/* An unknown 512-byte field between the cookie and the Authenticator. */
			size_t at = len - 40;

			be_put16(req + at, 0xf0f0);
			be_put16(req + at + 2, 512);
			memset(req + at + 4, 0xab, 508);
			len = reseal(req, at + 512);
		}
		n = exchange(fd, req, len, rep);
		r = n ? nts_client_check(rep, n, uid, &s2c, &cr) : -2;
		verdict(r == 0 && n == len && cr.n_cookies == want, name,
			"request %zu bytes, answer %zu bytes, %s, %d cookies (want %d)", len, n,
			r == 0 ? "authentic"
			: n    ? cr.why
			       : "none",
			r == 0 ? cr.n_cookies : 0, want);
	} else if (strcmp(name, "expired") == 0) {
		n = exchange(fd, req, len, rep);
		verdict(is_nak(rep, n, uid), name, "answer %zu bytes%s", n,
			is_nak(rep, n, uid) ? ": NTS NAK, the cookie's key is gone" : "");
	} else if (strcmp(name, "bad-cookie") == 0 || strcmp(name, "bad-auth") == 0 ||
		   strcmp(name, "bad-header") == 0 || strcmp(name, "unknown-key") == 0) {
		if (strcmp(name, "bad-cookie") == 0)
			req[cookie_off + 50] ^= 0x04;
		else if (strcmp(name, "bad-auth") == 0)
			req[len - 1] ^= 0x04;
		else if (strcmp(name, "bad-header") == 0)
			req[2] ^= 0x01; /* the poll: in the associated data */
		else
			req[cookie_off] ^= 0x80; /* the key id */
		n = exchange(fd, req, len, rep);
		verdict(is_nak(rep, n, uid), name, "answer %zu bytes%s", n,
			is_nak(rep, n, uid) ? ": NTS NAK (NTSN) with our identifier" : "");
	} else if (strcmp(name, "replay") == 0) {
		static uint8_t rep2[PKT_MAX];
		uint8_t other[NTS_UID_LEN];
		size_t n2;

		n = exchange(fd, req, len, rep);
		n2 = exchange(fd, req, len, rep2);
		rnd(other, sizeof(other));
		r = nts_client_check(rep2, n2, uid, &s2c, &cr);
		verdict(n == len && n2 == len && r == 0 &&
				nts_client_check(rep2, n2, other, &s2c, &cr) == -1,
			name,
			"both answered (%zu, %zu bytes), the second authentic for its request and "
			"refused for another identifier",
			n, n2);
	} else {
		/* Malformed: no answer. */
		size_t at;

		if (strcmp(name, "no-uid") == 0) {
			memmove(req + NTP_HEADER_LEN, req + NTP_HEADER_LEN + 36,
				len - NTP_HEADER_LEN - 36);
			len = reseal(req, len - 36 - 40);
		} else if (strcmp(name, "short-uid") == 0) {
			be_put16(req + NTP_HEADER_LEN + 2, 20);
			be_put16(req + NTP_HEADER_LEN + 20, 0xf0f0);
			be_put16(req + NTP_HEADER_LEN + 22, 16);
			len = reseal(req, len - 40);
		} else if (strcmp(name, "two-cookies") == 0) {
			at = len - 40;
			memcpy(req + at, req + NTP_HEADER_LEN + 36, 4 + ke.reply.cookie_len[0]);
			len = reseal(req, at + 4 + ke.reply.cookie_len[0]);
		} else if (strcmp(name, "auth-not-last") == 0) {
			be_put16(req + len, 0xf0f0);
			be_put16(req + len + 2, 28);
			memset(req + len + 4, 0, 24);
			len += 28;
		} else if (strcmp(name, "truncated") == 0) {
			be_put16(req + len - 40 + 2, 44);
		} else if (strcmp(name, "mode1") == 0) {
			len = build(req, uid, 0, NTP_MODE_ACTIVE);
		} else {
			verdict(0, name, "no such case");
			close(fd);
			return;
		}
		n = exchange(fd, req, len, rep);
		verdict(n == 0, name, "%zu-byte request: %s", len, n ? "answered" : "no answer");
	}
	close(fd);
}

/*
 * A TLS session with PRIORITY and ALPN (NULL: none) that sends a valid
 * request: 0 when it is answered, a GnuTLS error when the handshake fails
 * or the server closes without answering.
 */
static int raw_tls(const char *priority, const char *alpn)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	gnutls_session_t s;
	char svc[8];
	int fd, r;

	snprintf(svc, sizeof(svc), "%d", ke_port);
	if (getaddrinfo(host, svc, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = fd >= 0 ? connect(fd, ai->ai_addr, ai->ai_addrlen) : -1;
	freeaddrinfo(ai);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_priority_set_direct(s, priority, NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, tls.creds);
	if (alpn) {
		gnutls_datum_t d = {.data = (unsigned char *)(uintptr_t)alpn,
				    .size = (unsigned int)strlen(alpn)};

		gnutls_alpn_set_protocols(s, &d, 1, 0);
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 3000);
	do {
		r = gnutls_handshake(s);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	if (r == 0) {
		/* Completed on our side: a valid request must still get no answer. */
		uint8_t req[64], ans[256];
		const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};
		size_t n = nke_build_request(aeads, 1, req, sizeof(req));
		ssize_t k;

		gnutls_record_set_timeout(s, 3000);
		gnutls_record_send(s, req, n);
		k = gnutls_record_recv(s, ans, sizeof(ans));
		r = k > 0 ? 0 : GNUTLS_E_PREMATURE_TERMINATION;
	}
	gnutls_deinit(s);
	close(fd);
	return r;
}

/* Send MSG (LEN bytes) in a session; the server's Error code, -2 no error record, -3 none. */
static int ke_send(const uint8_t *msg, size_t len, int close_early)
{
	static uint8_t ans[NKE_MSG_MAX];
	struct kec_session ks;
	struct kec_result r;
	size_t pos = 0;
	long m;
	int err = -2;

	if (kec_open(&tls, host, ke_port, 3.0, &ks, &r) < 0)
		return -4;
	if (kec_send(&ks, msg, len, &r) < 0) {
		kec_close(&ks);
		return -3;
	}
	if (close_early) {
		kec_close(&ks);
		return -3;
	}
	m = kec_recv_msg(&ks, ans, sizeof(ans), &r);
	kec_close(&ks);
	if (m < 0)
		return -3;
	while (pos + 4 <= (size_t)m) {
		unsigned int type = be_get16(ans + pos) & 0x7fff, blen = be_get16(ans + pos + 2);

		if (type == NKE_REC_ERROR && blen == 2)
			err = be_get16(ans + pos + 4);
		pos += 4 + blen;
	}
	return err;
}

static void rec(uint8_t *m, size_t *len, unsigned int type, const void *body, size_t blen)
{
	be_put16(m + *len, (uint16_t)type);
	be_put16(m + *len + 2, (uint16_t)blen);
	if (blen)
		memcpy(m + *len + 4, body, blen);
	*len += 4 + blen;
}

static void ke_case(const char *name)
{
	static uint8_t m[NKE_MSG_MAX + 64];
	const uint8_t ntpv4[2] = {0, 0}, aead[2] = {0, 15};
	size_t len = 0;
	int r;

	if (strcmp(name, "ke-no-np") == 0) {
		rec(m, &len, NKE_CRITICAL | NKE_REC_AEAD, aead, 2);
		rec(m, &len, NKE_CRITICAL | NKE_REC_END, NULL, 0);
		r = ke_send(m, len, 0);
		verdict(r == NKE_ERR_BAD_REQUEST, name, "error record %d (want 1, bad request)", r);
	} else if (strcmp(name, "ke-critical") == 0) {
		rec(m, &len, NKE_CRITICAL | NKE_REC_NEXT_PROTOCOL, ntpv4, 2);
		rec(m, &len, NKE_CRITICAL | NKE_REC_AEAD, aead, 2);
		rec(m, &len, NKE_CRITICAL | 0x3333, aead, 2);
		rec(m, &len, NKE_CRITICAL | NKE_REC_END, NULL, 0);
		r = ke_send(m, len, 0);
		verdict(r == NKE_ERR_UNRECOGNIZED_CRITICAL, name,
			"error record %d (want 0, unrecognized critical record)", r);
	} else if (strcmp(name, "ke-oversized") == 0) {
		rec(m, &len, NKE_CRITICAL | NKE_REC_NEXT_PROTOCOL, ntpv4, 2);
		be_put16(m + len, 0x4000);
		be_put16(m + len + 2, 20000);
		len += 4;
		r = ke_send(m, len, 0);
		verdict(r == NKE_ERR_BAD_REQUEST, name, "error record %d (want 1, bad request)", r);
	} else if (strcmp(name, "ke-truncated") == 0) {
		rec(m, &len, NKE_CRITICAL | NKE_REC_NEXT_PROTOCOL, ntpv4, 2);
		r = ke_send(m, len - 1, 1);
		verdict(r == -3, name, "half a request, closed: no answer");
	} else if (strcmp(name, "ke-no-alpn") == 0) {
		r = raw_tls("NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
		verdict(r < 0, name, "no answer: %s", r < 0 ? gnutls_strerror(r) : "answered");
	} else if (strcmp(name, "ke-tls12") == 0) {
		r = raw_tls("NORMAL:-VERS-ALL:+VERS-TLS1.2", NKE_ALPN);
		verdict(r < 0, name, "no answer: %s", r < 0 ? gnutls_strerror(r) : "answered");
	} else {
		verdict(0, name, "no such case");
	}
}

/* NTS-KE exchanges back to back for SECS seconds. */
static void ke_loop(const char *name, double secs)
{
	const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};
	struct timespec ts;
	double t0, now;
	int ok = 0, bad = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ns_sec(ns_from_timespec(&ts));
	do {
		struct kec_result r;

		if (kec_exchange(&tls, host, ke_port, 3.0, aeads, 1, &r) == 0)
			ok++;
		else
			bad++;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ns_sec(ns_from_timespec(&ts));
	} while (now - t0 < secs && secs <= 60);
	verdict(ok > 0, name, "%d exchanges in %.1f s (%.0f/s), %d failed", ok, now - t0,
		ok / (now - t0), bad);
}

/* Hold N plain TCP connections for FLOOD_HOLD_S s; then check an exchange works. */
static void flood(const char *name, int n)
{
	static int fds[FLOOD_MAX];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int i, opened = 0, early = 0, late = 0;
	double t0;
	char svc[8];
	struct timespec ts;

	if (n < 1 || n > FLOOD_MAX) {
		verdict(0, name, "1-%d connections", FLOOD_MAX);
		return;
	}
	snprintf(svc, sizeof(svc), "%d", ke_port);
	if (getaddrinfo(host, svc, &hints, &ai)) {
		verdict(0, name, "cannot resolve %s", host);
		return;
	}
	for (i = 0; i < n; i++) {
		fds[i] = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || connect(fds[i], ai->ai_addr, ai->ai_addrlen) < 0) {
			if (fds[i] >= 0)
				close(fds[i]);
			fds[i] = -1;
			continue;
		}
		opened++;
	}
	freeaddrinfo(ai);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ns_sec(ns_from_timespec(&ts));
	/* Which connections the server closed within 1 s (refused), and which by the end. */
	for (;;) {
		double now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ns_sec(ns_from_timespec(&ts));
		if (now - t0 >= FLOOD_HOLD_S)
			break;
		for (i = 0; i < n; i++) {
			struct pollfd p = {.fd = fds[i], .events = POLLIN};
			char b;

			if (fds[i] < 0 || poll(&p, 1, 0) != 1)
				continue;
			if (recv(fds[i], &b, 1, MSG_DONTWAIT) == 0 || errno == ECONNRESET) {
				if (now - t0 < 1.0)
					early++;
				else
					late++;
				close(fds[i]);
				fds[i] = -1;
			}
		}
		usleep(20000);
	}
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	{
		const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};
		struct kec_result r;
		int ok = kec_exchange(&tls, host, ke_port, 3.0, aeads, 1, &r) == 0;

		printf("flood: opened %d, closed by the server within 1 s: %d, later: %d, still "
		       "open after %d s: %d\n",
		       opened, early, late, FLOOD_HOLD_S, opened - early - late);
		verdict(opened == n && opened - early - late == 0 && ok, name,
			"every held connection closed by the server (%d at once, %d at the "
			"deadline), an exchange afterwards %s",
			early, late, ok ? "works" : r.err);
	}
}

int main(int argc, char **argv)
{
	const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};
	const char *ca = NULL;
	char err[512];
	int i, first = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ke-port") == 0 && i + 1 < argc)
			ke_port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ntp-port") == 0 && i + 1 < argc)
			ntp_port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (strcmp(argv[i], "--ntp-host") == 0 && i + 1 < argc)
			ntp_host = argv[++i];
		else if (!host)
			host = argv[i];
		else if (!first)
			first = i;
	}
	if (!host || !first) {
		fprintf(stderr, "usage: ntsprobe HOST [--ke-port N] [--ntp-host H] [--ntp-port N] "
				"[--ca FILE] CASE...\n");
		return 2;
	}
	if (tls_client_init(&tls, ca, !ca, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "ntsprobe: %s\n", err);
		return 2;
	}
	if (kec_exchange(&tls, host, ke_port, 3.0, aeads, 1, &ke) < 0) {
		fprintf(stderr, "ntsprobe: NTS-KE failed at %s: %s\n", ke.stage, ke.err);
		return 2;
	}
	cry_siv_init(&c2s, ke.c2s);
	cry_siv_init(&s2c, ke.s2c);
	for (i = first; i < argc; i++) {
		if (argv[i][0] == '-') {
			i++;
			continue;
		}
		if (strncmp(argv[i], "sleep=", 6) == 0)
			sleep((unsigned int)atoi(argv[i] + 6));
		else if (strncmp(argv[i], "ke-loop=", 8) == 0)
			ke_loop(argv[i], atof(argv[i] + 8));
		else if (strncmp(argv[i], "ke-", 3) == 0)
			ke_case(argv[i]);
		else if (strncmp(argv[i], "flood=", 6) == 0)
			flood(argv[i], atoi(argv[i] + 6));
		else
			ntp_case(argv[i]);
	}
	tls_fini(&tls);
	return fails ? 1 : 0;
}
