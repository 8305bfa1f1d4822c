/*
 * An NTS client's state for one server (RFC 8915 section 5), with no I/O:
 * the session's keys and the cookies the server handed out, each used
 * once. A request takes the oldest cookie and asks, with placeholders,
 * for as many new ones as it takes to fill the jar again; an authentic
 * answer puts its fresh cookies in; an NTS NAK, or an empty jar, says a
 * new NTS-KE exchange is due. The exchange itself (TLS, tls/keclient.c)
 * and the sockets are the caller's. For horod's NTS sources, and any
 * client that keeps polling one server.
 */
#ifndef HOROD_PROTO_NTSCLIENT_H
#define HOROD_PROTO_NTSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/crypto.h"
#include "proto/nts.h"
#include "proto/ntske.h"

/* One server's NTS state. */
struct ntsc {
	int keyed;		 /* 1: a session (keys) from an NTS-KE exchange */
	struct cry_siv c2s, s2c; /* the session's keys */
	int n;			 /* cookies in the jar */
	int head;		 /* the oldest */
	uint16_t len[NTS_MAX_COOKIES];
	uint8_t cookie[NTS_MAX_COOKIES][NKE_COOKIE_MAX];
	uint8_t uid[NTS_UID_LEN]; /* the identifier of the request in flight */
	int pending;		  /* 1: a request is in flight (uid is its) */
	uint64_t naks, bad, ok;	  /* answers by kind, for reports */
};

/* What an answer was. */
enum ntsc_result {
	NTSC_OK,      /* authentic: use its time */
	NTSC_NAK,     /* an NTS NAK with our identifier: drop the session, exchange again */
	NTSC_BAD,     /* not authentic (or not ours): ignore it */
	NTSC_UNKNOWN, /* no request of ours is in flight */
};

/* Start S from an exchange: the keys C2S and S2C (NTS_KEY_LEN bytes) and R's cookies. */
void ntsc_rekey(struct ntsc *s, const uint8_t *c2s, const uint8_t *s2c, const struct nke_reply *r);

/* Forget the session and the cookies (a NAK, or a new server address). */
void ntsc_reset(struct ntsc *s);

/* 1 when S needs an NTS-KE exchange before it can send (no session, or no cookie left). */
int ntsc_need_ke(const struct ntsc *s);

/*
 * Turn the 48-byte request header in PKT into an NTS request (CAP bytes
 * of room): the oldest cookie, placeholders for the cookies the jar
 * lacks (fewer when they do not fit CAP), a fresh identifier UID and
 * nonce NONCE (from the caller's generator: NTS_UID_LEN and NTS_NONCE_LEN
 * bytes). Returns its length, or 0 when S has no cookie or even the
 * cookie alone does not fit.
 */
size_t ntsc_request(struct ntsc *s, uint8_t *pkt, size_t cap, const uint8_t *uid,
		    const uint8_t *nonce);

/* Check the answer PKT (LEN bytes) to the request in flight; keep its cookies. */
enum ntsc_result ntsc_answer(struct ntsc *s, const uint8_t *pkt, size_t len);

#endif
