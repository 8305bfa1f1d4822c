/*
 * The NTS Key Establishment protocol's records (RFC 8915 section 4), as
 * both sides read and write them, with no I/O: a message is a run of
 * records (a 16-bit type whose top bit says "critical", a 16-bit body
 * length, the body) ending with End of Message. The server side turns a
 * client's request into what to answer (the protocol and AEAD chosen, or
 * the error the RFC prescribes) and writes the answer; the client side
 * writes a request and checks a server's answer record by record. The
 * TLS session that carries them is tls/'s and the daemon's business.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |C|         Record Type         |          Body Length          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                         Record Body                           .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#ifndef HOROD_PROTO_NTSKE_H
#define HOROD_PROTO_NTSKE_H

#include <stddef.h>
#include <stdint.h>

#define NKE_PORT	   4460	     /* TCP port of NTS-KE (IANA) */
#define NKE_ALPN	   "ntske/1" /* the TLS ALPN protocol id NTS-KE requires */
#define NKE_EXPORTER_LABEL "EXPORTER-network-time-security" /* RFC 5705 label of the keys */
#define NKE_CRITICAL	   0x8000 /* record type bit: the receiver must understand it */
#define NKE_REC_HLEN	   4	  /* bytes: type and body length */
#define NKE_MSG_MAX	   16384  /* bytes: longest message we read (chrony's limit too) */
#define NKE_COOKIES	   8	  /* cookies a server hands out per exchange (RFC 8915: 8) */
#define NKE_COOKIE_MAX	   256	  /* bytes: longest cookie a client keeps */
#define NKE_SERVER_MAX	   255	  /* bytes: longest NTPv4 Server Negotiation name we keep */
#define NKE_EXPORT_CTX_LEN 5	  /* bytes of the exporter context: protocol, AEAD, direction */

/* Record types (RFC 8915 section 7.6). */
enum nke_rec {
	NKE_REC_END = 0,
	NKE_REC_NEXT_PROTOCOL = 1,
	NKE_REC_ERROR = 2,
	NKE_REC_WARNING = 3,
	NKE_REC_AEAD = 4,
	NKE_REC_COOKIE = 5,
	NKE_REC_SERVER = 6,
	NKE_REC_PORT = 7,
};

#define NKE_PROTO_NTPV4		  0  /* Next Protocol id of NTPv4 */
#define NKE_AEAD_AES_SIV_CMAC_256 15 /* IANA AEAD id (RFC 5297), mandatory for NTS servers */

/* Error codes (RFC 8915 section 4.1.3). */
enum nke_error {
	NKE_ERR_UNRECOGNIZED_CRITICAL = 0,
	NKE_ERR_BAD_REQUEST = 1,
	NKE_ERR_INTERNAL = 2,
};

/* Name of error code E ("bad request"), "unassigned error" for codes we do not know. */
const char *nke_error_name(int e);

/* Name of AEAD id A ("AES-SIV-CMAC-256"), "unknown" for others. */
const char *nke_aead_name(int a);

/*
 * Length of the first complete message in BUF (LEN bytes so far): its
 * records up to and with End of Message. 0 while it is incomplete, -1
 * when it cannot become a message (it would pass NKE_MSG_MAX).
 */
long nke_msg_length(const uint8_t *buf, size_t len);

/* What a server makes of a client's request. */
struct nke_request {
	int error; /* -1, or the NKE_ERR_* to answer with (and nothing else) */
	int ntpv4; /* 1: NTPv4 was offered */
	int aead;  /* the first offered AEAD we support, or -1 (none in common) */
	char server[NKE_SERVER_MAX + 1]; /* the client's preferred server, "" = none */
	int port;			 /* the client's preferred port, 0 = none */
};

/*
 * Read the complete message MSG (LEN bytes, nke_msg_length's) from a
 * client into R, as RFC 8915 section 4 says a server must: exactly one
 * critical Next Protocol record with at least one protocol; with NTPv4 in
 * it, exactly one AEAD record with at least one algorithm; no Error,
 * Warning or New Cookie records (else Bad Request); an unknown record
 * with the critical bit is Unrecognized Critical Record, one without it
 * is ignored. Of the AEADs offered, the first that is AES-SIV-CMAC-256
 * (the only one this build has) is chosen.
 */
void nke_parse_request(const uint8_t *msg, size_t len, struct nke_request *r);

/* What a server answers. */
struct nke_response {
	int error;		/* -1, or an NKE_ERR_*: the answer is that error alone */
	int ntpv4;		/* 0: an empty Next Protocol record (nothing in common) */
	int aead;		/* -1: an empty AEAD record (nothing in common) */
	const char *server;	/* NTPv4 Server Negotiation (`ntsntpserver`), or NULL */
	int port;		/* NTPv4 Port Negotiation, 0 = none (the client uses 123) */
	const uint8_t *cookies; /* N_COOKIES cookies of COOKIE_LEN bytes, back to back */
	size_t cookie_len;
	int n_cookies;
};

/* Write R into OUT (CAP bytes) as a message; returns its length, or 0 when it does not fit. */
size_t nke_build_response(const struct nke_response *r, uint8_t *out, size_t cap);

/*
 * Write a client's request into OUT (CAP bytes): NTPv4, the N AEAD ids
 * AEADS in order of preference; returns its length, or 0 when it does not fit.
 */
size_t nke_build_request(const uint16_t *aeads, int n, uint8_t *out, size_t cap);

/* What a client makes of a server's answer. */
struct nke_reply {
	int error;			 /* the server's Error code, or -1 */
	int warning;			 /* the server's Warning code, or -1 */
	int next_protocol;		 /* the protocol the server chose, or -1 */
	int aead;			 /* the AEAD the server chose, or -1 */
	char server[NKE_SERVER_MAX + 1]; /* where to send NTP ("" = the NTS-KE server) */
	int port;			 /* NTP port, 0 = 123 */
	int n_cookies;
	uint16_t cookie_len[NKE_COOKIES];
	uint8_t cookie[NKE_COOKIES][NKE_COOKIE_MAX];
	int extra_cookies; /* cookies past NKE_COOKIES, ignored */
	const char *why;   /* when the answer is unusable: why, in words */
};

/*
 * Read the complete message MSG (LEN bytes) a server answered to a
 * request that offered the N AEADS into R. 0 when it is usable: no
 * Error, no unknown critical record, exactly one Next Protocol record
 * naming NTPv4, exactly one AEAD record naming one we offered, at least
 * one cookie, well-formed Server and Port records. Else -1 with R->why.
 */
int nke_parse_reply(const uint8_t *msg, size_t len, const uint16_t *aeads, int n,
		    struct nke_reply *r);

/*
 * The RFC 5705 exporter context of the key for AEAD in one direction
 * (S2C 0: client to server, 1: server to client): protocol NTPv4, the
 * AEAD id, the direction byte.
 */
void nke_export_context(uint16_t aead, int s2c, uint8_t out[NKE_EXPORT_CTX_LEN]);

#endif
