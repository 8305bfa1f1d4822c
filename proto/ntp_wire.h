/*
 * The NTP wire constants (RFC 5905, RFC 7822), once, for every side:
 * horod's C code (through proto/ntp.h) and the XDP guard's BPF program
 * (bpf/guard.bpf.c), which has no libc. Macros only: no include, no type
 * but the integer suffixes, so that both compilers read the same numbers.
 * Lengths and offsets are in bytes, times in seconds unless a name says
 * otherwise.
 */
#ifndef HOROD_PROTO_NTP_WIRE_H
#define HOROD_PROTO_NTP_WIRE_H

#define NTP_PORT 123 /* UDP port of an NTP server (RFC 5905, section 7) */

/* Lengths, in bytes. */
#define NTP_HEADER_LEN	48 /* the fixed header */
#define NTP_TS_LEN	8  /* a 64-bit timestamp */
#define NTP_MIN_EXT_LEN 16 /* smallest extension field (RFC 7822) */
#define NTP_MAX_MAC_LEN 24 /* key id (4) + SHA-1 digest (20) */
/* What may follow the last extension field, as MACs (RFC 7822, section 7.5). */
#define NTP_MAC_NONE	   0  /* nothing */
#define NTP_MAC_CRYPTO_NAK 4  /* key id 0 alone, the crypto-NAK */
#define NTP_MAC_MD5	   20 /* key id (4) + MD5 digest (16) */
#define NTP_MAC_SHA1	   24 /* key id (4) + SHA-1 digest (20) */

/* Byte offsets of the header's fields (RFC 5905, figure 8). */
#define NTP_OFF_LVM	   0 /* LI (2 bits), VN (3 bits), mode (3 bits) */
#define NTP_OFF_STRATUM	   1
#define NTP_OFF_POLL	   2
#define NTP_OFF_PRECISION  3
#define NTP_OFF_ROOT_DELAY 4
#define NTP_OFF_ROOT_DISP  8
#define NTP_OFF_REFID	   12
#define NTP_OFF_REF	   16
#define NTP_OFF_ORG	   24
#define NTP_OFF_REC	   32
#define NTP_OFF_XMT	   40

/*
 * The lowest bit of a transmit timestamp's fraction (0.23 ns): set in a
 * basic reply's transmit time, a worker's reading that the guard's
 * egress program may replace with the time the reply leaves (`guard
 * stamp on`, bpf/guard_egress.h); clear in an interleaved reply's, the
 * previous reply's measured stamp, which nothing may touch.
 */
#define NTP_XMT_REFINE 1

/* Versions horod answers (VN 1..4: RFC 1059 to RFC 5905). */
#define NTP_VERSION_MIN 1
#define NTP_VERSION_MAX 4

#define NTP_MODE_RESERVED  0
#define NTP_MODE_ACTIVE	   1
#define NTP_MODE_PASSIVE   2
#define NTP_MODE_CLIENT	   3
#define NTP_MODE_SERVER	   4
#define NTP_MODE_BROADCAST 5
#define NTP_MODE_CONTROL   6
#define NTP_MODE_PRIVATE   7

#define NTP_LEAP_NONE	0
#define NTP_LEAP_INSERT 1
#define NTP_LEAP_DELETE 2
#define NTP_LEAP_UNSYNC 3

#define NTP_MAX_POLL   17	     /* log2 s: largest poll horod echoes (36 h) */
#define NTP_UNIX_EPOCH 2208988800ULL /* s from 1900-01-01 (NTP era 0) to 1970-01-01 */
#define NTP_SHORT_MAX  0xffffffffU   /* largest short-format value (65535.99998 s) */
/*
 * 2^32 / 10^9 = 2^23 / 5^9: a fraction of a second in ns becomes NTP
 * fraction units by a shift by 23 bits and a division by 5^9 (rounded to
 * nearest: add half the divisor first).
 */
#define NTP_NS_FRAC_SHIFT 23
#define NTP_NS_FRAC_DIV	  1953125ULL /* 5^9 */

/* Kiss-o'-death codes horod sends: the refid's four ASCII bytes, and as a big-endian word. */
#define NTP_KOD_RATE	"RATE"	    /* the client polls too often */
#define NTP_KOD_DENY	"DENY"	    /* access denied */
#define NTP_KOD_RSTR	"RSTR"	    /* access restricted */
#define NTP_KOD_RATE_ID 0x52415445U /* "RATE" */
#define NTP_KOD_DENY_ID 0x44454E59U /* "DENY" */
#define NTP_KOD_RSTR_ID 0x52535452U /* "RSTR" */

#endif
