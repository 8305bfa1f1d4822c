/*
 * GnuTLS set up the way NTS-KE needs it (tls.h). The priority string is
 * appended to the system's default policy, so a stricter system policy
 * still applies; ours only removes every version but TLS 1.3.
 *
 * A server also chooses the key exchange group and the cipher suite
 * itself: X25519 and AES-128-GCM (with SHA-256) first, then the policy's
 * in the policy's order. GnuTLS lists SECP256R1 and AES-256-GCM (with
 * SHA-384) first and follows the client's order by default, and GnuTLS
 * clients (chronyd, horod) list them first too, though they send a key
 * share for X25519 as well. An NTS-KE handshake is mostly key exchange,
 * signature and the key schedule's hashing: X25519 costs the server (and
 * the client) less than P-256, and SHA-256 has the CPU's SHA instructions
 * where SHA-384 has none (measured with bench/nts-compare: README "NTS").
 * Both are 128-bit strong, as the P-256 certificate is. A client that
 * lists X25519 but sent a key share for another group only is asked for
 * an X25519 share (one more round trip: HelloRetryRequest); one that does
 * not list X25519 or AES-128-GCM gets its own choice, as before.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "proto/appendf.h"
#include "proto/ntske.h"
#include "tls/tls.h"

#define TLS_PRIORITY "-VERS-ALL:+VERS-TLS1.3" /* appended to the system's: TLS 1.3 only */
#define TLS_PRIO_MAX 1024 /* bytes: TLS_PRIORITY, %SERVER_PRECEDENCE and every group's name */

/* Write "WHAT: GnuTLS's words for RET" into ERR and return -1. */
static int tls_fail(char *err, size_t errlen, const char *what, int ret)
{
	return ntp_fail(err, errlen, "%s: %s", what, gnutls_strerror(ret));
}

/*
 * Append to OUT (CAP bytes, at LEN) the N entries of LIST as priority
 * keywords ("-ALL" then "+PREFIX" NAME each, NAME from NAME_OF), FIRST
 * moved to the front; the new length. 0 entries or no FIRST: unchanged.
 */
static size_t tls_order(char *out, size_t cap, size_t len, const char *all, const char *prefix,
			const unsigned int *list, int n, unsigned int first,
			const char *(*name_of)(unsigned int))
{
	int i, found = 0;

	for (i = 0; i < n; i++)
		found |= list[i] == first;
	if (!found)
		return len;
	len = ntp_appendf(out, cap, len, ":%s:+%s%s", all, prefix, name_of(first));
	for (i = 0; i < n; i++)
		if (list[i] != first && name_of(list[i]))
			len = ntp_appendf(out, cap, len, ":+%s%s", prefix, name_of(list[i]));
	return len;
}

/* gnutls_group_get_name and gnutls_cipher_get_name for tls_order. */
static const char *tls_group_name(unsigned int g)
{
	return gnutls_group_get_name((gnutls_group_t)g);
}

static const char *tls_cipher_name(unsigned int c)
{
	return gnutls_cipher_get_name((gnutls_cipher_algorithm_t)c);
}

/*
 * Into OUT (CAP bytes): TLS_PRIORITY with the server's precedence and the
 * groups and ciphers of PRIO (the policy's lists, in the policy's order)
 * with X25519 and AES-128-GCM first. 1 when written, 0 when OUT is too
 * small.
 */
static int tls_server_order(gnutls_priority_t prio, char *out, size_t cap)
{
	const unsigned int *g = NULL, *c = NULL;
	int ng = gnutls_priority_group_list(prio, &g);
	int nc = gnutls_priority_cipher_list(prio, &c);
	size_t len = ntp_appendf(out, cap, 0, "%s:%%SERVER_PRECEDENCE", TLS_PRIORITY);

	len = tls_order(out, cap, len, "-GROUP-ALL", "GROUP-", g, ng, GNUTLS_GROUP_X25519,
			tls_group_name);
	len = tls_order(out, cap, len, "-CIPHER-ALL", "", c, nc, GNUTLS_CIPHER_AES_128_GCM,
			tls_cipher_name);
	return len < cap;
}

static int tls_prio(struct tls_ctx *t, char *err, size_t errlen)
{
	char server[TLS_PRIO_MAX];
	const char *where = NULL;
	gnutls_priority_t ordered;
	int r = gnutls_priority_init2(&t->prio, TLS_PRIORITY, &where,
				      GNUTLS_PRIORITY_INIT_DEF_APPEND);

	if (r < 0)
		return tls_fail(err, errlen, "TLS priorities", r);
	if (!t->server || !tls_server_order(t->prio, server, sizeof(server)))
		return 0;
	/* The policy's own list stands if the ordered one is refused. */
	if (gnutls_priority_init2(&ordered, server, &where, GNUTLS_PRIORITY_INIT_DEF_APPEND) < 0)
		return 0;
	gnutls_priority_deinit(t->prio);
	t->prio = ordered;
	return 0;
}

int tls_server_init(struct tls_ctx *t, const char *cert, const char *key, char *err, size_t errlen)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->server = 1;
	r = gnutls_certificate_allocate_credentials(&t->creds);
	if (r < 0)
		return tls_fail(err, errlen, "TLS credentials", r);
	r = gnutls_certificate_set_x509_key_file(t->creds, cert, key, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		char what[600];

		snprintf(what, sizeof(what), "certificate %s with key %s", cert, key);
		tls_fini(t);
		return tls_fail(err, errlen, what, r);
	}
	if (tls_prio(t, err, errlen) < 0) {
		tls_fini(t);
		return -1;
	}
	return 0;
}

/* Load the trusted certificates of FILE (NULL: the system's store) into T; 0, or -1 (ERR). */
static int tls_trust(struct tls_ctx *t, const char *file, char *err, size_t errlen)
{
	char what[300];
	int r;

	if (file)
		r = gnutls_certificate_set_x509_trust_file(t->creds, file, GNUTLS_X509_FMT_PEM);
	else
		r = gnutls_certificate_set_x509_system_trust(t->creds);
	if (r > 0)
		return 0;
	snprintf(what, sizeof(what), "trusted certificates %s", file ? file : "(system)");
	if (r == 0) {
		snprintf(err, errlen, "%s: no certificate found", what);
		return -1;
	}
	return tls_fail(err, errlen, what, r);
}

int tls_client_init(struct tls_ctx *t, const char *ca_file, int system, int no_time_check,
		    char *err, size_t errlen)
{
	int r;

	memset(t, 0, sizeof(*t));
	r = gnutls_certificate_allocate_credentials(&t->creds);
	if (r < 0)
		return tls_fail(err, errlen, "TLS credentials", r);
	if (!ca_file && !system) {
		snprintf(err, errlen, "no trusted certificates: neither a file nor the system's");
		tls_fini(t);
		return -1;
	}
	if ((ca_file && tls_trust(t, ca_file, err, errlen) < 0) ||
	    (system && tls_trust(t, NULL, err, errlen) < 0)) {
		tls_fini(t);
		return -1;
	}
	if (no_time_check)
		gnutls_certificate_set_verify_flags(
			t->creds, GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
					  GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS);
	if (tls_prio(t, err, errlen) < 0) {
		tls_fini(t);
		return -1;
	}
	return 0;
}

void tls_fini(struct tls_ctx *t)
{
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	if (t->creds)
		gnutls_certificate_free_credentials(t->creds);
	t->prio = NULL;
	t->creds = NULL;
}

/* 1 when NAME is an IPv4 or IPv6 literal (no SNI for those, RFC 6066). */
static int is_address(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

int tls_session_new(const struct tls_ctx *t, int fd, const char *name, gnutls_session_t *s,
		    char *err, size_t errlen)
{
	const gnutls_datum_t alpn = {.data = (unsigned char *)(uintptr_t)NKE_ALPN,
				     .size = sizeof(NKE_ALPN) - 1};
	int r;

	/* No session tickets: NTS-KE never resumes, and a ticket costs a seal and a record. */
	r = gnutls_init(s, (t->server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK |
				   GNUTLS_NO_SIGNAL | GNUTLS_NO_TICKETS);
	if (r < 0)
		return tls_fail(err, errlen, "TLS session", r);
	r = gnutls_priority_set(*s, t->prio);
	if (r >= 0)
		r = gnutls_credentials_set(*s, GNUTLS_CRD_CERTIFICATE, t->creds);
	if (r >= 0)
		r = gnutls_alpn_set_protocols(*s, &alpn, 1, GNUTLS_ALPN_MANDATORY);
	if (r >= 0 && !t->server && name && !is_address(name))
		r = gnutls_server_name_set(*s, GNUTLS_NAME_DNS, name, strlen(name));
	if (r < 0) {
		gnutls_deinit(*s);
		*s = NULL;
		return tls_fail(err, errlen, "TLS session set-up", r);
	}
	if (!t->server)
		gnutls_session_set_verify_cert(*s, name, 0);
	gnutls_transport_set_int(*s, fd);
	return 0;
}

int tls_session_ntske(gnutls_session_t s)
{
	gnutls_datum_t p;

	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3)
		return 0;
	if (gnutls_alpn_get_selected_protocol(s, &p) < 0)
		return 0;
	return p.size == sizeof(NKE_ALPN) - 1 && memcmp(p.data, NKE_ALPN, p.size) == 0;
}

int tls_export_keys(gnutls_session_t s, uint16_t aead, size_t keylen, uint8_t *c2s, uint8_t *s2c)
{
	uint8_t ctx[NKE_EXPORT_CTX_LEN];

	nke_export_context(aead, 0, ctx);
	if (gnutls_prf_rfc5705(s, sizeof(NKE_EXPORTER_LABEL) - 1, NKE_EXPORTER_LABEL, sizeof(ctx),
			       (const char *)ctx, keylen, (char *)c2s) < 0)
		return -1;
	nke_export_context(aead, 1, ctx);
	if (gnutls_prf_rfc5705(s, sizeof(NKE_EXPORTER_LABEL) - 1, NKE_EXPORTER_LABEL, sizeof(ctx),
			       (const char *)ctx, keylen, (char *)s2c) < 0)
		return -1;
	return 0;
}
