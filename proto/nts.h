/*
 * NTS for NTPv4 (RFC 8915 section 5), with no I/O: the four extension
 * fields (Unique Identifier, NTS Cookie, Cookie Placeholder, NTS
 * Authenticator and Encrypted Extension Fields), horod's cookies, the
 * server's verification of a request and its authenticated answer or NTS
 * NAK, and the client's request and its check of an answer.
 *
 * A cookie is what the server gives a client to hand back: the AEAD and
 * the two session keys the NTS-KE exchange exported, sealed with a server
 * key (AES-SIV-CMAC-256) so only servers holding that key can open it,
 * under the key's id so the server knows which key:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Server key id (32)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                     Nonce (16 bytes)                          .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                     SIV tag (16 bytes)                        .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  encrypted: AEAD id (16)       |  0 (16)                      |
 * .  encrypted: C2S key (32 bytes), S2C key (32 bytes)            .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * sealed with the key id as associated data: 104 bytes, a multiple of 4,
 * so its extension field needs no padding.
 */
#ifndef HOROD_PROTO_NTS_H
#define HOROD_PROTO_NTS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/crypto.h"

/* Extension field types (RFC 8915 section 7.5). */
#define NTS_EF_UID	   0x0104 /* Unique Identifier */
#define NTS_EF_COOKIE	   0x0204 /* NTS Cookie */
#define NTS_EF_PLACEHOLDER 0x0304 /* NTS Cookie Placeholder */
#define NTS_EF_AUTH	   0x0404 /* NTS Authenticator and Encrypted Extension Fields */

#define NTS_EF_HLEN	  4   /* bytes: extension field type and length */
#define NTS_EF_MIN	  16  /* bytes: shortest extension field (RFC 7822) */
#define NTS_UID_LEN	  32  /* bytes: our identifiers (RFC 8915: at least 32) */
#define NTS_NONCE_LEN	  16  /* bytes: our nonces; a client's take 16 bytes with padding */
#define NTS_AUTH_HLEN	  4   /* bytes: nonce length and ciphertext length */
#define NTS_KEY_LEN	  32  /* bytes: an AES-SIV-CMAC-256 key (session or server) */
#define NTS_COOKIE_LEN	  104 /* bytes: horod's cookie, drawn above */
#define NTS_COOKIE_EF_LEN (NTS_EF_HLEN + NTS_COOKIE_LEN) /* bytes: its extension field */
#define NTS_MAX_COOKIES	  8    /* cookies per answer at most (as NTS-KE hands out) */
#define NTS_PLAIN_MAX	  1024 /* bytes: longest encrypted extension fields we open */
#define NTS_KEYS_MAX	  4    /* server keys held: next, current and two previous */

/* What a cookie carries. */
struct nts_cookie {
	uint16_t aead;		  /* NKE_AEAD_* of the session */
	uint8_t c2s[NTS_KEY_LEN]; /* the client's key: requests are sealed with it */
	uint8_t s2c[NTS_KEY_LEN]; /* the server's key: answers are sealed with it */
};

/* A server key: its id (in every cookie it seals) and its expanded schedule. */
struct nts_key {
	uint32_t id;
	struct cry_siv siv;
};

/* The server keys in use: the one that seals new cookies and the others that still open. */
struct nts_keyset {
	int n;	     /* keys in key[] */
	int current; /* index of the key new cookies are sealed with */
	struct nts_key key[NTS_KEYS_MAX];
};

/* Seal C under K with NONCE (NTS_NONCE_LEN bytes) into OUT (NTS_COOKIE_LEN bytes). */
void nts_cookie_seal(const struct nts_key *k, const uint8_t *nonce, const struct nts_cookie *c,
		     uint8_t *out);

/*
 * Open COOKIE (LEN bytes) with the key of KS its id names into C: 0, or -1
 * when the length is not ours, no key has the id, or the seal is broken.
 */
int nts_cookie_open(const struct nts_keyset *ks, const uint8_t *cookie, size_t len,
		    struct nts_cookie *c);

/* The NTS fields of a request, located by nts_parse_request (offsets into the packet). */
struct nts_req {
	size_t uid_off, uid_len; /* the Unique Identifier field, header included */
	size_t cookie_off;	 /* the cookie's body, COOKIE_LEN bytes */
	size_t cookie_len;
	int placeholders; /* Cookie Placeholder fields in the clear */
	size_t auth_off;  /* the Authenticator field: everything before it is AD */
	size_t nonce_off, nonce_len;
	size_t ct_off, ct_len;
};

/* What nts_parse_request found. */
enum nts_parse {
	NTS_PARSE_NONE,	     /* no NTS field: not an NTS request */
	NTS_PARSE_OK,	     /* one of each, well-formed, Authenticator last */
	NTS_PARSE_MALFORMED, /* NTS fields, but not a request a server can check */
};

/*
 * Locate the NTS fields of the mode 3 request PKT (LEN bytes; the fields
 * after the 48-byte header must already be known well-formed, as
 * ntp_classify checks, and no MAC may follow them) into R. Malformed: a
 * missing, repeated or short Unique Identifier (< 32 bytes) or cookie, a
 * placeholder whose length differs from the cookie's, an Authenticator
 * that is not the last field or whose nonce and ciphertext do not fit it.
 */
enum nts_parse nts_parse_request(const uint8_t *pkt, size_t len, struct nts_req *r);

/* The server's verdict on an NTS request. */
enum nts_verdict {
	NTS_OK,		/* authentic: answer it */
	NTS_BAD_COOKIE, /* the cookie does not open: answer with an NTS NAK */
	NTS_BAD_AUTH,	/* the authenticator does not verify: answer with an NTS NAK */
	NTS_MALFORMED,	/* not checkable (nts_parse_request, or the encrypted fields): drop */
};

/* What verification leaves for the answer. */
struct nts_answer {
	struct nts_req req;
	struct nts_cookie ck; /* the session's keys */
	int n_cookies;	      /* cookies asked for: the cookie plus every placeholder, <= 8 */
};

/*
 * Verify the request PKT (LEN bytes) that nts_parse_request found OK
 * (A->req): open its cookie with KS, check its authenticator with the
 * cookie's C2S key over everything before it, count the placeholders in
 * the clear and encrypted. Fills A for nts_server_reply.
 */
enum nts_verdict nts_server_verify(const struct nts_keyset *ks, const uint8_t *pkt, size_t len,
				   struct nts_answer *a);

/*
 * Finish the answer to the verified request REQ (REQ_LEN bytes) whose
 * 48-byte header is already in REPLY: append the request's Unique
 * Identifier and an Authenticator sealed with the S2C key holding fresh
 * cookies sealed with KS's current key, as many as were asked for and fit,
 * padded so the answer is exactly as long as the request (never longer;
 * CAP, the room in REPLY, must be at least REQ_LEN). RNG gives the nonces.
 * Returns the length.
 */
size_t nts_server_reply(const struct nts_keyset *ks, const struct nts_answer *a, const uint8_t *req,
			size_t req_len, uint8_t *reply, size_t cap, struct cry_rng *rng);

/*
 * An NTS NAK answering REQ (REQ_LEN bytes, R located by nts_parse_request):
 * a kiss-o'-death NTSN (ntp_build_kod) with the request's Unique
 * Identifier and nothing else. Returns its length (< REQ_LEN).
 */
size_t nts_server_nak(const uint8_t *req, size_t req_len, const struct nts_req *r, uint8_t *reply);

/*
 * A client's request: the 48-byte header already in PKT, then the Unique
 * Identifier UID (NTS_UID_LEN bytes), the cookie COOKIE (COOKIE_LEN bytes,
 * 1..256), PLACEHOLDERS placeholders of its length, and an Authenticator
 * with NONCE (NTS_NONCE_LEN bytes) sealed with C2S over all of that.
 * Returns the length, or 0 when it does not fit in CAP.
 */
size_t nts_client_request(uint8_t *pkt, size_t cap, const uint8_t *uid, const uint8_t *cookie,
			  size_t cookie_len, int placeholders, const struct cry_siv *c2s,
			  const uint8_t *nonce);

/* What a client makes of an answer. */
struct nts_client_reply {
	int nak;       /* 1: an NTS NAK with our identifier (unauthenticated by design) */
	int n_cookies; /* fresh cookies in the authenticated part */
	size_t cookie_off[NTS_MAX_COOKIES]; /* where each is, in PLAIN */
	size_t cookie_len[NTS_MAX_COOKIES];
	uint8_t plain[NTS_PLAIN_MAX]; /* the decrypted extension fields */
	const char *why;	      /* when -1: why, in words */
};

/*
 * Check the answer PKT (LEN bytes) to a request that carried UID
 * (NTS_UID_LEN bytes), with the session's S2C key: its Unique Identifier
 * must be UID, and its Authenticator, the last field, must verify over
 * everything before it; the cookies inside are collected in R. An NTS NAK
 * (kiss code NTSN with our UID) sets R->nak. Returns 0 when authentic, 1
 * for a NAK, -1 (R->why) otherwise.
 */
int nts_client_check(const uint8_t *pkt, size_t len, const uint8_t *uid, const struct cry_siv *s2c,
		     struct nts_client_reply *r);

#endif
