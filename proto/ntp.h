/*
 * The NTP wire format (RFC 5905), with no I/O and no global state: the
 * 48-byte header, 64-bit timestamps (era-aware, correct across the 2036
 * rollover), the 32-bit short format, reference identifiers (IPv4, MD5 of
 * IPv6, ASCII codes), kiss-o'-death codes, extension field checks, the
 * request classifier shared by the workers and the XDP guard's reference
 * model, and the reply builder used on the hot path. The wire constants
 * (lengths, offsets, modes, leap values, kiss-o'-death codes) are
 * proto/ntp_wire.h's, which the XDP guard's BPF program includes too.
 */
#ifndef HOROD_PROTO_NTP_H
#define HOROD_PROTO_NTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#include "proto/ntp_wire.h"
#include "proto/reason.h"

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |LI | VN  |Mode |    Stratum     |     Poll      |  Precision   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Root Delay                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Root Dispersion                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Reference ID                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * +                     Reference Timestamp (64)                  +
 * +                      Origin Timestamp (64)                    +
 * +                      Receive Timestamp (64)                   +
 * +                      Transmit Timestamp (64)                  +
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .    Extension Field 1 (variable) ... Extension Field 2 ...     .
 * |                          Key Identifier (optional)            |
 * |                            dgst (128 or 160, optional)        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The decoded header, every field in host byte order. Timestamps keep
 * their 64-bit wire value (seconds << 32 | fraction) so the origin of a
 * reply can be the request's transmit timestamp bit for bit.
 */
struct ntp_packet {
	uint8_t leap;	     /* LI: 0 none, 1 +1 s, 2 -1 s, 3 unsynchronized */
	uint8_t version;     /* VN: 1..4 */
	uint8_t mode;	     /* 0..7, NTP_MODE_* */
	uint8_t stratum;     /* 0 = unspecified/KoD, 1 primary, 2..15, 16 unsync */
	int8_t poll;	     /* log2 seconds */
	int8_t precision;    /* log2 seconds */
	uint32_t root_delay; /* short format (16.16 seconds) */
	uint32_t root_disp;  /* short format (16.16 seconds) */
	uint32_t refid;	     /* first wire byte in the most significant byte */
	uint64_t ref;	     /* reference timestamp */
	uint64_t org;	     /* origin timestamp */
	uint64_t rec;	     /* receive timestamp */
	uint64_t xmt;	     /* transmit timestamp */
};

/* Decode the 48-byte header of BUF (LEN bytes); -1 if LEN < 48, else 0. */
int ntp_decode(const uint8_t *buf, size_t len, struct ntp_packet *p);

/* Encode P as the 48-byte wire header into OUT. */
void ntp_encode(const struct ntp_packet *p, uint8_t out[NTP_HEADER_LEN]);

/* 64-bit NTP timestamp (era bits dropped) of a time in ns since the Unix epoch. */
uint64_t ntp_ts_from_unix_ns(int64_t unix_ns);

/*
 * The reference timestamp of a reference time REF_NS (ns since the Unix
 * epoch): 0, "never synchronized", stays 0 on the wire (RFC 5905), every
 * other time is ntp_ts_from_unix_ns's.
 */
uint64_t ntp_ref_from_unix_ns(int64_t ref_ns);

/* 64-bit NTP timestamp of a struct timespec (Unix epoch). */
uint64_t ntp_ts_from_timespec(const struct timespec *ts);

/* Unix ns of timestamp TS, in the NTP era that puts it nearest NEAR_UNIX_NS. */
int64_t ntp_ts_to_unix_ns(uint64_t ts, int64_t near_unix_ns);

/* struct timespec of timestamp TS in the era nearest NEAR_UNIX_NS. */
void ntp_ts_to_timespec(uint64_t ts, int64_t near_unix_ns, struct timespec *out);

/* Signed difference A - B in seconds, for timestamps within 68 years of each other. */
double ntp_ts_diff(uint64_t a, uint64_t b);

/* Short format (16.16) of SECONDS rounded up, clamped to [0, 65535.99998]; NaN gives the max. */
uint32_t ntp_short_from_double(double seconds);

/* Seconds of a short-format value. */
double ntp_short_to_double(uint32_t s);

/* Reference ID of an ASCII code of up to 4 characters ("LOCL", "GPS"), NUL padded. */
uint32_t ntp_refid_ascii(const char *code);

/* Reference ID of an IPv4 upstream: its address. */
uint32_t ntp_refid_ipv4(const struct in_addr *a);

/* Reference ID of an IPv6 upstream: the first 4 bytes of the MD5 of its address. */
uint32_t ntp_refid_ipv6(const struct in6_addr *a);

/* REFID as text: stratum 0/1 ASCII (NULs cut, unprintable '.'), else dotted quad; returns BUF. */
char *ntp_refid_format(uint32_t refid, int stratum, char *buf, size_t len);

/* 0 if the bytes after the header are well-formed extension fields and/or a MAC, else -1. */
int ntp_ext_check(const uint8_t *buf, size_t len);

/* As ntp_ext_check; when 0, *MAC_OFF (if not NULL) = where the MAC starts (LEN: none). */
int ntp_ext_mac(const uint8_t *buf, size_t len, size_t *mac_off);

/*
 * Classify a request of LEN bytes: the reply reason (NTP_R_REPLY_SERVER,
 * NTP_R_REPLY_SYMMETRIC), NTP_R_CONTROL for mode 6 when CONTROL_ALLOWED,
 * or the drop reason. Checks in order, the first failure wins: length
 * (< 48 bytes: DROP_SHORT), length % 4 (DROP_LENGTH), version 0 or > 4
 * (DROP_VERSION), mode (0, 2, 4, 5, 6, 7: their DROP_MODE_* or CONTROL),
 * then, for modes 1 and 3 only, ntp_ext_check (DROP_EXTENSION).
 * Exception: mode 6 and 7 messages have shorter headers (12 and 8 bytes),
 * so a packet of at least 1 byte with mode 6 or 7 and VN 1..4 is
 * classified by its mode alone, whatever its length; the control parser
 * validates the rest. An empty packet is DROP_SHORT.
 */
enum ntp_reason ntp_classify(const uint8_t *buf, size_t len, int control_allowed);

/* What a reply advertises about our clock: taken from the clock snapshot. */
struct ntp_reply_info {
	uint8_t leap;	     /* LI; NTP_LEAP_UNSYNC forces stratum 0 on the wire */
	uint8_t stratum;     /* 1..15 */
	int8_t precision;    /* log2 s */
	uint32_t root_delay; /* short format */
	uint32_t root_disp;  /* short format, already grown to now */
	uint32_t refid;	     /* as in struct ntp_packet */
	uint64_t ref;	     /* reference timestamp */
};

/*
 * Build the 48-byte reply to the classified request REQ (at least 48
 * bytes): mode 4 for mode 3, mode 2 for mode 1, version echoed, poll
 * echoed (clamped to 0..NTP_MAX_POLL), origin = request transmit bit for
 * bit, receive = RX, transmit = TX. Returns NTP_HEADER_LEN.
 */
size_t ntp_build_reply(const uint8_t *req, const struct ntp_reply_info *info, uint64_t rx,
		       uint64_t tx, uint8_t out[NTP_HEADER_LEN]);

/*
 * Build the 48-byte interleaved-mode reply (RFC 9769) to REQ: as
 * ntp_build_reply, but origin = the request's receive timestamp bit for
 * bit, and TX the transmit time of the previous reply to this client (the
 * one whose receive timestamp the request's origin names). Returns
 * NTP_HEADER_LEN.
 */
size_t ntp_build_reply_interleaved(const uint8_t *req, const struct ntp_reply_info *info,
				   uint64_t rx, uint64_t tx, uint8_t out[NTP_HEADER_LEN]);

/* The origin, receive and transmit timestamps of the header REQ (at least 48 bytes). */
void ntp_request_stamps(const uint8_t *req, uint64_t *org, uint64_t *rec, uint64_t *xmt);

/*
 * Move the transmit timestamp of REPLY (LEN bytes, built by
 * ntp_build_reply) to TX, read closer to the moment it is sent; only
 * forward, never on a reply whose transmit is 0 (a kiss-o'-death), and
 * only on a bare 48-byte reply (an NTS or MAC reply is sealed: changing
 * a byte would break it). Returns 1 when rewritten, else 0.
 */
int ntp_restamp_xmt(uint8_t *reply, size_t len, uint64_t tx);

/*
 * Mark REPLY (LEN bytes, built by ntp_build_reply) unsynchronized: LI 3,
 * stratum 0, the rest untouched; only a bare 48-byte reply (a longer one
 * is sealed). Returns 1 when rewritten, else 0.
 */
int ntp_mark_unsync(uint8_t *reply, size_t len);

/*
 * Build a 48-byte kiss-o'-death answering REQ (at least 48 bytes): LI 3,
 * VN echoed, mode 4 (2 for mode 1), stratum 0, refid CODE, origin =
 * request transmit; every other field, receive and transmit included, is
 * 0. Returns NTP_HEADER_LEN.
 */
size_t ntp_build_kod(const uint8_t *req, const char *code, uint8_t out[NTP_HEADER_LEN]);

#endif
