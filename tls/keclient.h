/*
 * An NTS-KE client exchange (RFC 8915 section 4), whole: resolve, connect
 * (TCP, bounded by a timeout), TLS 1.3 handshake with ntske/1 and the
 * server's certificate checked, the request, the answer read and checked,
 * the session keys exported. Blocking (poll with a deadline): for a
 * thread that may wait, never horod's clock thread. Reports where it
 * failed and why, and the certificate chain the server showed.
 */
#ifndef HOROD_TLS_KECLIENT_H
#define HOROD_TLS_KECLIENT_H

#include <stdint.h>
#include <sys/socket.h>

#include "proto/ntske.h"
#include "proto/nts.h"
#include "tls/tls.h"

#define KEC_CHAIN_MAX 4	  /* certificates of the server's chain we describe */
#define KEC_NAME_MAX  256 /* bytes of a distinguished name we keep */

/* One certificate of the chain the server showed. */
struct kec_cert {
	char subject[KEC_NAME_MAX];
	char issuer[KEC_NAME_MAX];
	int64_t not_before, not_after; /* s since the Unix epoch */
};

/* What an exchange gave. */
struct kec_result {
	struct nke_reply reply;	  /* the server's records: AEAD, cookies, server, port */
	uint8_t c2s[NTS_KEY_LEN]; /* the session's keys */
	uint8_t s2c[NTS_KEY_LEN];
	char peer[64];		      /* the address connected to, ADDR:PORT or [ADDR]:PORT */
	struct sockaddr_storage addr; /* that address, once connected */
	socklen_t addrlen;	      /* 0 until connected */
	char tls[96];		      /* protocol and cipher suite */
	int n_chain;		      /* certificates in chain[] */
	struct kec_cert chain[KEC_CHAIN_MAX];
	double seconds;	   /* from connect to the checked answer */
	const char *stage; /* on failure: resolve, connect, tls, certificate, alpn, send,
			      receive, answer, keys */
	char err[512];	   /* on failure: why */
};

/* An open NTS-KE session: connected, TLS 1.3 with ntske/1, the certificate checked. */
struct kec_session {
	int fd;
	gnutls_session_t s;
	double deadline; /* CLOCK_MONOTONIC s: every step ends by then */
	double start;
};

/*
 * Connect to HOST:PORT and complete the handshake within TIMEOUT seconds
 * (the deadline of the whole session); 0, or -1 with R->stage and R->err.
 * R->peer, R->tls and R->chain are filled as far as it got.
 */
int kec_open(const struct tls_ctx *t, const char *host, int port, double timeout,
	     struct kec_session *ks, struct kec_result *r);

/* Send LEN bytes of BUF on KS before its deadline; 0, or -1 (R). */
int kec_send(struct kec_session *ks, const uint8_t *buf, size_t len, struct kec_result *r);

/*
 * Read one whole NTS-KE message into BUF (CAP bytes, NKE_MSG_MAX at most
 * useful) before KS's deadline; its length, or -1 (R).
 */
long kec_recv_msg(struct kec_session *ks, uint8_t *buf, size_t cap, struct kec_result *r);

/* Send close_notify (no wait) and close KS. */
void kec_close(struct kec_session *ks);

/*
 * Run an NTS-KE exchange with HOST (a name or an address literal) on
 * PORT within TIMEOUT seconds, offering the N AEAD ids AEADS, checking
 * the certificate with T; 0 with R filled, or -1 with R->stage and R->err.
 */
int kec_exchange(const struct tls_ctx *t, const char *host, int port, double timeout,
		 const uint16_t *aeads, int n, struct kec_result *r);

#endif
