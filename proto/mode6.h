/*
 * NTP mode 6 (the control messages ntpq and ntpstat speak), read-only:
 * parsing a request, rendering a variable list as the `name=value, ...`
 * text ntpq parses, and cutting a response into fragments. Only
 * READSTAT and READVAR are answered; everything else gets an error
 * response (writes are refused with a permission error). No I/O here.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |LI | VN  |  6  |R|E|M| opcode  |           sequence            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            status             |        association id         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            offset             |             count             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 data (count bytes, padded to 32 bits)         |
 * |               (an optional MAC may follow the padding)        |
 */
#ifndef HOROD_PROTO_MODE6_H
#define HOROD_PROTO_MODE6_H

#include <stddef.h>
#include <stdint.h>

#define M6_HEADER_LEN 12 /* bytes of the fixed header */
/* bytes of data per response fragment: a multiple of 4, as ntpq requires */
#define M6_DATA_MAX 468
#define M6_PKT_MAX  (M6_HEADER_LEN + M6_DATA_MAX) /* bytes of the largest fragment we send */
#define M6_FRAG_MAX 24 /* fragments per response: ntpq reassembles at most this many */
#define M6_TEXT_MAX (M6_DATA_MAX * M6_FRAG_MAX) /* bytes of the largest response text */

/* Opcodes (the five bits after R, E, M). */
enum m6_op {
	M6_OP_READSTAT = 1,
	M6_OP_READVAR = 2,
	M6_OP_WRITEVAR = 3,
	M6_OP_READCLOCK = 4,
	M6_OP_WRITECLOCK = 5,
};

/* Error codes sent in the status field of a response with the E bit. */
enum m6_err {
	M6_ERR_UNSPEC = 0,
	M6_ERR_PERMISSION = 1, /* writes, and anything needing authentication */
	M6_ERR_BADFMT = 2,
	M6_ERR_BADOP = 3,      /* an opcode we do not implement */
	M6_ERR_BADASSOC = 4,   /* no association with that id */
	M6_ERR_UNKNOWNVAR = 5, /* a requested variable we do not have */
	M6_ERR_BADVALUE = 6,
};

/* Peer selection codes (bits 8-10 of a peer status word), as ntpq shows them. */
enum m6_sel {
	M6_SEL_REJECT = 0,    /* ' ' */
	M6_SEL_FALSETICK = 1, /* 'x' */
	M6_SEL_EXCESS = 2,    /* '.' */
	M6_SEL_OUTLIER = 3,   /* '-' */
	M6_SEL_CANDIDATE = 4, /* '+' */
	M6_SEL_BACKUP = 5,    /* '#' */
	M6_SEL_SYSPEER = 6,   /* '*' */
	M6_SEL_PPS = 7,	      /* 'o' */
};

/* Peer status bits (bits 11-15 of a peer status word). */
#define M6_PST_CONFIG	  0x10 /* configured (not ephemeral) */
#define M6_PST_AUTHENABLE 0x8  /* authentication enabled */
#define M6_PST_AUTHENTIC  0x4  /* last packet authentic */
#define M6_PST_REACH	  0x2  /* reachable */
#define M6_PST_BCAST	  0x1  /* broadcast association */

/* A parsed request; DATA points into the packet given to m6_parse(). */
struct m6_request {
	uint8_t version;   /* VN of the request, echoed in the response */
	uint8_t opcode;	   /* enum m6_op (or anything else: answered with M6_ERR_BADOP) */
	uint16_t sequence; /* echoed */
	uint16_t assoc;	   /* association id; 0 = the system */
	const uint8_t *data;
	size_t data_len; /* the header's count: bytes of DATA */
	int has_mac;	 /* bytes after the padded data (a MAC): we never verify it */
};

/*
 * Parse PKT (LEN bytes). 0 and RQ filled when it is a mode 6 request we
 * should answer (error or not); -1 when it must be dropped silently: too
 * short, not mode 6, VN outside 1..4, the response bit set, a fragmented
 * request (M bit or nonzero offset), count running past the packet.
 */
int m6_parse(const uint8_t *pkt, size_t len, struct m6_request *rq);

/* Build the error response to RQ with code ERR into OUT (M6_HEADER_LEN bytes); returns its length.
 */
size_t m6_error(const struct m6_request *rq, enum m6_err err, uint8_t *out);

/*
 * Cut the answer to RQ (STATUS word, TEXT of LEN bytes, at most
 * M6_TEXT_MAX) into fragments of at most M6_DATA_MAX data bytes, each
 * padded to 32 bits, the M bit on all but the last, offsets counting up.
 * Calls EMIT once per fragment (the packet is only valid during the
 * call). An empty TEXT is one fragment with count 0. Returns the number
 * of fragments, or 0 when LEN exceeds M6_TEXT_MAX (nothing emitted).
 */
size_t m6_respond(const struct m6_request *rq, uint16_t status, const uint8_t *text, size_t len,
		  void (*emit)(void *arg, const uint8_t *pkt, size_t len), void *arg);

/* System status word: leap (0-3), clock source (0-63), event count (0-15), last event (0-15). */
uint16_t m6_sys_status(unsigned leap, unsigned source, unsigned count, unsigned event);

/* Peer status word: M6_PST_* bits, enum m6_sel, event count (0-15), last event (0-15). */
uint16_t m6_peer_status(unsigned bits, unsigned sel, unsigned count, unsigned event);

/*
 * A variable list being rendered: `name=value` items separated by ", ",
 * with "\r\n" instead of the space when a line would pass 72 characters.
 * With a request list (the READVAR data, names separated by commas and
 * optional white space, `=value` parts ignored) only the named variables
 * are rendered, in the order they are added.
 */
struct m6_vars {
	char *buf;
	size_t cap;  /* bytes of BUF */
	size_t len;  /* bytes rendered so far (never more than CAP - 1; BUF stays NUL-terminated) */
	size_t line; /* characters on the current line */
	int overflow;	     /* 1 once something did not fit: the text is cut at an item boundary */
	const uint8_t *want; /* the request list, or NULL for every variable */
	size_t want_len;
	uint64_t seen; /* bit i: the i-th name of the request list was rendered (first 64) */
};

/* Start rendering into BUF (CAP bytes); WANT/WANT_LEN the request list or NULL/0. */
void m6_vars_init(struct m6_vars *v, char *buf, size_t cap, const uint8_t *want, size_t want_len);

/* Add NAME with the printf-formatted value (rendered only when wanted). */
void m6_var(struct m6_vars *v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add NAME with a quoted string value (`name="value"`; quotes in VALUE become '). */
void m6_var_str(struct m6_vars *v, const char *name, const char *value);

/* 1 when the request list names a variable that was never added (answer M6_ERR_UNKNOWNVAR). */
int m6_vars_unknown(const struct m6_vars *v);

/* Render an NTP timestamp as ntpq expects it: 0x%08x.%08x. */
void m6_fmt_ts(uint64_t ts, char *out, size_t len);

#endif
