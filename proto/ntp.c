/*
 * The NTP wire format: header encode/decode, timestamp and short-format
 * conversions, reference IDs, the extension-field walk, the request
 * classifier and the reply and kiss-o'-death builders. Everything here is
 * a pure function of its arguments. Packet bytes are read one at a time
 * in network order (no pointer casts onto the buffer, so alignment never
 * matters), and every check on a request is an early return: the bytes
 * come from the network and may be anything.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "proto/byteorder.h"
#include "proto/md5.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

#define SHORT_UNITS 65536.0	 /* short-format units per second (16 fraction bits) */
#define TS_UNITS    4294967296.0 /* timestamp units per second (32 fraction bits) */

static uint8_t lvm(unsigned int leap, unsigned int version, unsigned int mode)
{
	return (uint8_t)((leap & 3) << 6 | (version & 7) << 3 | (mode & 7));
}

int ntp_decode(const uint8_t *buf, size_t len, struct ntp_packet *p)
{
	if (len < NTP_HEADER_LEN)
		return -1;
	p->leap = buf[NTP_OFF_LVM] >> 6;
	p->version = (buf[NTP_OFF_LVM] >> 3) & 7;
	p->mode = buf[NTP_OFF_LVM] & 7;
	p->stratum = buf[NTP_OFF_STRATUM];
	p->poll = (int8_t)buf[NTP_OFF_POLL];
	p->precision = (int8_t)buf[NTP_OFF_PRECISION];
	p->root_delay = be_get32(buf + NTP_OFF_ROOT_DELAY);
	p->root_disp = be_get32(buf + NTP_OFF_ROOT_DISP);
	p->refid = be_get32(buf + NTP_OFF_REFID);
	p->ref = be_get64(buf + NTP_OFF_REF);
	p->org = be_get64(buf + NTP_OFF_ORG);
	p->rec = be_get64(buf + NTP_OFF_REC);
	p->xmt = be_get64(buf + NTP_OFF_XMT);
	return 0;
}

void ntp_encode(const struct ntp_packet *p, uint8_t out[NTP_HEADER_LEN])
{
	out[NTP_OFF_LVM] = lvm(p->leap, p->version, p->mode);
	out[NTP_OFF_STRATUM] = p->stratum;
	out[NTP_OFF_POLL] = (uint8_t)p->poll;
	out[NTP_OFF_PRECISION] = (uint8_t)p->precision;
	be_put32(out + NTP_OFF_ROOT_DELAY, p->root_delay);
	be_put32(out + NTP_OFF_ROOT_DISP, p->root_disp);
	be_put32(out + NTP_OFF_REFID, p->refid);
	be_put64(out + NTP_OFF_REF, p->ref);
	be_put64(out + NTP_OFF_ORG, p->org);
	be_put64(out + NTP_OFF_REC, p->rec);
	be_put64(out + NTP_OFF_XMT, p->xmt);
}

/*
 * NTP fraction of NS (< 1e9) nanoseconds, rounded to nearest:
 * round(ns * 2^23 / 5^9). ns < 2^30, so the numerator stays below 2^54;
 * 5^9 is odd, so there are no ties; the largest result, 4294967292 for
 * 999999999 ns, fits 32 bits. The division by a constant compiles to a
 * multiply and a shift. Rounding to nearest keeps the error under 0.12 ns,
 * so frac_to_ns() gives NS back exactly.
 */
static uint32_t ns_to_frac(uint32_t ns)
{
	return (uint32_t)((((uint64_t)ns << NTP_NS_FRAC_SHIFT) + NTP_NS_FRAC_DIV / 2) /
			  NTP_NS_FRAC_DIV);
}

/* Nanoseconds of an NTP fraction, rounded to nearest: 0..1e9 inclusive. */
static uint32_t frac_to_ns(uint32_t frac)
{
	return (uint32_t)(((uint64_t)frac * NS_PER_SEC + (1ULL << 31)) >> 32);
}

/* Timestamp of Unix second UNIX_SEC (mod 2^64 is enough: eras drop) plus NS. */
static uint64_t ts_make(uint64_t unix_sec, uint32_t ns)
{
	uint32_t sec = (uint32_t)(unix_sec + NTP_UNIX_EPOCH);

	return (uint64_t)sec << 32 | ns_to_frac(ns);
}

uint64_t ntp_ts_from_unix_ns(int64_t unix_ns)
{
	struct timespec t;

	ns_to_timespec(unix_ns, &t); /* whole seconds and 0 <= ns < 1 s */
	return ts_make((uint64_t)t.tv_sec, (uint32_t)t.tv_nsec);
}

uint64_t ntp_ref_from_unix_ns(int64_t ref_ns)
{
	/* Unix time 0 is NTP's 0x83aa7e80.0: not what "unknown" looks like. */
	return ref_ns == 0 ? 0 : ntp_ts_from_unix_ns(ref_ns);
}

uint64_t ntp_ts_from_timespec(const struct timespec *ts)
{
	uint64_t sec = (uint64_t)ts->tv_sec;
	long ns = ts->tv_nsec;

	/* Tolerate a denormalized tv_nsec; unsigned seconds cannot overflow. */
	if (ns >= NS_PER_SEC || ns < 0) {
		sec += (uint64_t)(int64_t)(ns / NS_PER_SEC);
		ns %= NS_PER_SEC;
		if (ns < 0) {
			ns += NS_PER_SEC;
			sec--;
		}
	}
	return ts_make(sec, (uint32_t)ns);
}

/*
 * Unix seconds of timestamp TS (whose fraction is TS_NS nanoseconds) in
 * the era that puts it nearest NEAR_NS: the result lies in
 * [NEAR - 2^31 s, NEAR + 2^31 s), whatever era either is in. The signed
 * 32-bit distance between the NTP seconds is added to NEAR's seconds; the
 * fractions only matter when that distance is exactly 2^31 s.
 */
static int64_t ts_unix_sec(uint64_t ts, uint32_t ts_ns, int64_t near_ns)
{
	struct timespec near;
	int64_t near_sec, near_sub;
	uint32_t near32, d;

	ns_to_timespec(near_ns, &near);
	near_sec = near.tv_sec;
	near_sub = near.tv_nsec;
	near32 = (uint32_t)((uint64_t)near_sec + NTP_UNIX_EPOCH);
	d = (uint32_t)(ts >> 32) - near32;
	if (d < 0x80000000u || (d == 0x80000000u && ts_ns < near_sub))
		return near_sec + (int64_t)d;
	return near_sec - (int64_t)(0x100000000ULL - d);
}

int64_t ntp_ts_to_unix_ns(uint64_t ts, int64_t near_unix_ns)
{
	uint32_t sub = frac_to_ns((uint32_t)ts);
	int64_t sec = ts_unix_sec(ts, sub, near_unix_ns);
	int64_t ns;

	/* Saturate rather than overflow 292 years away from 1970. */
	if (__builtin_mul_overflow(sec, NS_PER_SEC, &ns) || __builtin_add_overflow(ns, sub, &ns))
		return sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

void ntp_ts_to_timespec(uint64_t ts, int64_t near_unix_ns, struct timespec *out)
{
	uint32_t ns = frac_to_ns((uint32_t)ts);
	int64_t sec = ts_unix_sec(ts, ns, near_unix_ns);

	if (ns >= NS_PER_SEC) {
		ns = 0;
		sec++;
	}
	out->tv_sec = (time_t)sec;
	out->tv_nsec = (long)ns;
}

double ntp_ts_diff(uint64_t a, uint64_t b)
{
	uint64_t d = a - b;
	int64_t s;

	/* Two's complement reading of D without implementation-defined casts. */
	if (d <= (uint64_t)INT64_MAX)
		s = (int64_t)d;
	else
		s = -(int64_t)~d - 1;
	return (double)s / TS_UNITS;
}

uint32_t ntp_short_from_double(double seconds)
{
	double v;
	uint32_t u;

	if (isnan(seconds))
		return NTP_SHORT_MAX;
	if (seconds <= 0)
		return 0;
	v = seconds * SHORT_UNITS;
	if (v >= (double)NTP_SHORT_MAX)
		return NTP_SHORT_MAX;
	/* Round up: these are error bounds, and a bound must not shrink. */
	u = (uint32_t)v;
	if ((double)u < v)
		u++;
	return u;
}

double ntp_short_to_double(uint32_t s)
{
	return (double)s / SHORT_UNITS;
}

uint32_t ntp_refid_ascii(const char *code)
{
	uint32_t r = 0;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		uint8_t c = code ? (uint8_t)code[i] : 0;

		r |= (uint32_t)c << (24 - 8 * i);
		if (!c)
			break;
	}
	return r;
}

uint32_t ntp_refid_ipv4(const struct in_addr *a)
{
	uint8_t b[4];

	memcpy(b, &a->s_addr, sizeof(b));
	return be_get32(b);
}

uint32_t ntp_refid_ipv6(const struct in6_addr *a)
{
	uint8_t digest[16];

	ntp_md5(a->s6_addr, sizeof(a->s6_addr), digest);
	return be_get32(digest);
}

char *ntp_refid_format(uint32_t refid, int stratum, char *buf, size_t len)
{
	uint8_t b[4];
	size_t i, n;

	if (!len)
		return buf;
	be_put32(b, refid);
	/*
	 * Above stratum 1 a refid is an address, except the local reference's
	 * LOCL, which a server falling back to its own clock advertises at
	 * its local stratum (76.79.67.76 would be a coincidence we accept).
	 */
	if (stratum > 1 && refid != 0x4C4F434Cu) {
		snprintf(buf, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return buf;
	}
	/* ASCII code: trailing NULs stripped, anything unprintable as '.'. */
	for (n = 4; n > 0 && b[n - 1] == 0; n--)
		;
	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '.';
	buf[i] = '\0';
	return buf;
}

int ntp_ext_check(const uint8_t *buf, size_t len)
{
	return ntp_ext_mac(buf, len, NULL);
}

int ntp_ext_mac(const uint8_t *buf, size_t len, size_t *mac_off)
{
	const uint8_t *p;
	size_t rem;

	if (len < NTP_HEADER_LEN)
		return -1;
	p = buf + NTP_HEADER_LEN;
	rem = len - NTP_HEADER_LEN;
	/*
	 * Walk the extension fields; whenever what is left has the size of a
	 * MAC (or of nothing), accept it as such before reading it as a field,
	 * so a MAC whose key id looks like a field header is not misread.
	 */
	for (;;) {
		size_t flen;

		switch (rem) {
		case NTP_MAC_NONE:
		case NTP_MAC_CRYPTO_NAK:
		case NTP_MAC_MD5:
		case NTP_MAC_SHA1:
			if (mac_off)
				*mac_off = len - rem;
			return 0;
		default:
			break;
		}
		if (rem < NTP_MIN_EXT_LEN)
			return -1;
		flen = (size_t)p[2] << 8 | p[3];
		if (flen < NTP_MIN_EXT_LEN || flen % 4 != 0 || flen > rem)
			return -1;
		p += flen;
		rem -= flen;
	}
}

/* The reason for a request of mode MODE that we do not answer with time. */
static enum ntp_reason mode_reason(unsigned int mode, int control_allowed)
{
	switch (mode) {
	case NTP_MODE_RESERVED:
		return NTP_R_DROP_MODE_RESERVED;
	case NTP_MODE_PASSIVE:
		return NTP_R_DROP_MODE_PASSIVE;
	case NTP_MODE_SERVER:
		return NTP_R_DROP_MODE_SERVER;
	case NTP_MODE_BROADCAST:
		return NTP_R_DROP_MODE_BROADCAST;
	case NTP_MODE_CONTROL:
		return control_allowed ? NTP_R_CONTROL : NTP_R_DROP_MODE_CONTROL;
	default:
		return NTP_R_DROP_MODE_PRIVATE;
	}
}

enum ntp_reason ntp_classify(const uint8_t *buf, size_t len, int control_allowed)
{
	unsigned int version, mode;

	if (len == 0)
		return NTP_R_DROP_SHORT;
	version = (buf[NTP_OFF_LVM] >> 3) & 7;
	mode = buf[NTP_OFF_LVM] & 7;
	/* Mode 6 and 7 have their own, shorter headers (12 and 8 bytes). */
	if ((mode == NTP_MODE_CONTROL || mode == NTP_MODE_PRIVATE) && version >= NTP_VERSION_MIN &&
	    version <= NTP_VERSION_MAX)
		return mode_reason(mode, control_allowed);
	if (len < NTP_HEADER_LEN)
		return NTP_R_DROP_SHORT;
	if (len % 4 != 0)
		return NTP_R_DROP_LENGTH;
	if (version < NTP_VERSION_MIN || version > NTP_VERSION_MAX)
		return NTP_R_DROP_VERSION;
	if (mode != NTP_MODE_CLIENT && mode != NTP_MODE_ACTIVE)
		return mode_reason(mode, control_allowed);
	if (ntp_ext_check(buf, len) != 0)
		return NTP_R_DROP_EXTENSION;
	return mode == NTP_MODE_CLIENT ? NTP_R_REPLY_SERVER : NTP_R_REPLY_SYMMETRIC;
}

/* Reply mode for the mode of request REQ: 2 for symmetric active, else 4. */
static unsigned int reply_mode(const uint8_t *req)
{
	return (req[NTP_OFF_LVM] & 7) == NTP_MODE_ACTIVE ? NTP_MODE_PASSIVE : NTP_MODE_SERVER;
}

size_t ntp_build_reply(const uint8_t *req, const struct ntp_reply_info *info, uint64_t rx,
		       uint64_t tx, uint8_t out[NTP_HEADER_LEN])
{
	unsigned int leap = info->leap & 3;
	int8_t poll = (int8_t)req[NTP_OFF_POLL];

	if (poll < 0)
		poll = 0;
	else if (poll > NTP_MAX_POLL)
		poll = NTP_MAX_POLL;

	out[NTP_OFF_LVM] = lvm(leap, (req[NTP_OFF_LVM] >> 3) & 7, reply_mode(req));
	out[NTP_OFF_STRATUM] = leap == NTP_LEAP_UNSYNC ? 0 : info->stratum;
	out[NTP_OFF_POLL] = (uint8_t)poll;
	out[NTP_OFF_PRECISION] = (uint8_t)info->precision;
	be_put32(out + NTP_OFF_ROOT_DELAY, info->root_delay);
	be_put32(out + NTP_OFF_ROOT_DISP, info->root_disp);
	be_put32(out + NTP_OFF_REFID, info->refid);
	be_put64(out + NTP_OFF_REF, info->ref);
	memcpy(out + NTP_OFF_ORG, req + NTP_OFF_XMT, NTP_TS_LEN);
	be_put64(out + NTP_OFF_REC, rx);
	be_put64(out + NTP_OFF_XMT, tx);
	return NTP_HEADER_LEN;
}

size_t ntp_build_reply_interleaved(const uint8_t *req, const struct ntp_reply_info *info,
				   uint64_t rx, uint64_t tx, uint8_t out[NTP_HEADER_LEN])
{
	ntp_build_reply(req, info, rx, tx, out);
	/* The client recognises an interleaved reply by its own receive field echoed. */
	memcpy(out + NTP_OFF_ORG, req + NTP_OFF_REC, NTP_TS_LEN);
	return NTP_HEADER_LEN;
}

void ntp_request_stamps(const uint8_t *req, uint64_t *org, uint64_t *rec, uint64_t *xmt)
{
	*org = be_get64(req + NTP_OFF_ORG);
	*rec = be_get64(req + NTP_OFF_REC);
	*xmt = be_get64(req + NTP_OFF_XMT);
}

size_t ntp_build_kod(const uint8_t *req, const char *code, uint8_t out[NTP_HEADER_LEN])
{
	memset(out, 0, NTP_HEADER_LEN);
	out[NTP_OFF_LVM] = lvm(NTP_LEAP_UNSYNC, (req[NTP_OFF_LVM] >> 3) & 7, reply_mode(req));
	out[NTP_OFF_STRATUM] = 0;
	be_put32(out + NTP_OFF_REFID, ntp_refid_ascii(code));
	memcpy(out + NTP_OFF_ORG, req + NTP_OFF_XMT, NTP_TS_LEN);
	return NTP_HEADER_LEN;
}

int ntp_restamp_xmt(uint8_t *reply, size_t len, uint64_t tx)
{
	uint64_t old;

	/* Only a bare header: a longer reply is authenticated, its bytes sealed. */
	if (len != NTP_HEADER_LEN)
		return 0;
	old = be_get64(reply + NTP_OFF_XMT);
	if (!old || ntp_ts_diff(tx, old) <= 0)
		return 0;
	be_put64(reply + NTP_OFF_XMT, tx);
	return 1;
}

int ntp_mark_unsync(uint8_t *reply, size_t len)
{
	if (len != NTP_HEADER_LEN)
		return 0;
	reply[NTP_OFF_LVM] = (uint8_t)((reply[NTP_OFF_LVM] & 0x3f) | (NTP_LEAP_UNSYNC << 6));
	reply[NTP_OFF_STRATUM] = 0;
	return 1;
}
