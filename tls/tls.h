/*
 * TLS for NTS-KE through GnuTLS (the library chrony's NTS uses): TLS 1.3
 * only, ALPN "ntske/1" required on both sides, the two session keys
 * exported as RFC 8915 section 5.1 says (RFC 5705 exporter, label
 * "EXPORTER-network-time-security"). Shared by the NTS-KE server (the
 * daemon) and every client (horoctl check --nts, horobench, horod's NTS
 * sources). Sessions run on non-blocking sockets: the caller polls.
 */
#ifndef HOROD_TLS_TLS_H
#define HOROD_TLS_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* Credentials and priorities, made once and shared by the sessions of one side. */
struct tls_ctx {
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	int server; /* 1: sessions are servers */
};

/*
 * A server's context: the PEM certificate chain CERT and its key KEY.
 * 0, or -1 with the reason (GnuTLS's, and the file) in ERR.
 */
int tls_server_init(struct tls_ctx *t, const char *cert, const char *key, char *err, size_t errlen);

/*
 * A client's context trusting the PEM certificates of CA_FILE (none when
 * NULL) and, when SYSTEM, the system's trust store (chrony's
 * ntstrustedcerts and nosystemcert); at least one certificate must load.
 * NO_TIME_CHECK: accept certificates outside their validity period (a
 * client whose clock is not set yet, chrony's nocerttimecheck). 0, or -1
 * with the reason in ERR.
 */
int tls_client_init(struct tls_ctx *t, const char *ca_file, int system, int no_time_check,
		    char *err, size_t errlen);

/* Release T's credentials and priorities. */
void tls_fini(struct tls_ctx *t);

/*
 * A session of T's side on the connected non-blocking socket FD: TLS 1.3,
 * ALPN ntske/1 mandatory; a client checks the server's certificate
 * against NAME (a host name, sent as SNI too, or an address literal,
 * checked against the certificate's IP addresses). 0, or -1 (ERR).
 */
int tls_session_new(const struct tls_ctx *t, int fd, const char *name, gnutls_session_t *s,
		    char *err, size_t errlen);

/* 1 when S negotiated TLS 1.3 and the ALPN protocol ntske/1, else 0. */
int tls_session_ntske(gnutls_session_t s);

/*
 * Export the client-to-server and server-to-client keys of S for AEAD
 * (KEYLEN bytes each, 32 for AES-SIV-CMAC-256); 0, or -1.
 */
int tls_export_keys(gnutls_session_t s, uint16_t aead, size_t keylen, uint8_t *c2s, uint8_t *s2c);

#endif
