/*
 * Fuzz target for the request path of the workers: every input is one
 * datagram as it arrives on the NTP port. It is classified with control
 * allowed and not allowed (ntp_classify), the reason is compared with a
 * model of the ladder that proto/ntp.h documents, and when the reason is
 * a reply the reply and both kiss-o'-death packets are built the way
 * daemon/serve/serve.c builds them, from a fixed clock snapshot. The serving
 * rules are checked on every input: never a reply larger than the
 * request, a reply only to mode 3 (as mode 4) and mode 1 (as mode 2),
 * the request's version echoed, the origin timestamp equal to the
 * request's transmit timestamp bit for bit, and every other field what
 * the builders promise. The 48-byte header codec round trip is checked
 * too.
 */
#include <string.h>

#include "proto/ntp.h"
#include "proto/reason.h"
#include "tests/fuzz/fuzz.h"

#define RX_TS 0xE9A1B2C312345678ULL /* NTP timestamp: a fixed receive time (2024) */
#define TX_TS 0xE9A1B2C312349999ULL /* NTP timestamp: a fixed transmit time, after RX_TS */

/* Two clock snapshots as serve.c would turn them into reply info. */
static const struct ntp_reply_info infos[] = {
	{.leap = NTP_LEAP_NONE,
	 .stratum = 2,
	 .precision = -24,
	 .root_delay = 0x00000123,
	 .root_disp = 0x00000456,
	 .refid = 0x7F000002,
	 .ref = 0xE9A1B2C000000000ULL},
	{.leap = NTP_LEAP_UNSYNC,
	 .stratum = 10,
	 .precision = -20,
	 .root_delay = 0,
	 .root_disp = 0x00100000,
	 .refid = 0x4C4F434C, /* "LOCL" */
	 .ref = 0},
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The documented ladder of ntp_classify (proto/ntp.h), with ntp_ext_check as its last step. */
static enum ntp_reason model_classify(const uint8_t *buf, size_t len, int ctl)
{
	static const enum ntp_reason by_mode[8] = {
		NTP_R_DROP_MODE_RESERVED, NTP_R_REPLY_SYMMETRIC,   NTP_R_DROP_MODE_PASSIVE,
		NTP_R_REPLY_SERVER,	  NTP_R_DROP_MODE_SERVER,  NTP_R_DROP_MODE_BROADCAST,
		NTP_R_DROP_MODE_CONTROL,  NTP_R_DROP_MODE_PRIVATE,
	};
	unsigned int vn, mode;

	if (len == 0)
		return NTP_R_DROP_SHORT;
	vn = (buf[0] >> 3) & 7;
	mode = buf[0] & 7;
	if (mode == NTP_MODE_CONTROL && vn >= 1 && vn <= 4)
		return ctl ? NTP_R_CONTROL : NTP_R_DROP_MODE_CONTROL;
	if (mode == NTP_MODE_PRIVATE && vn >= 1 && vn <= 4)
		return NTP_R_DROP_MODE_PRIVATE;
	if (len < NTP_HEADER_LEN)
		return NTP_R_DROP_SHORT;
	if (len % 4 != 0)
		return NTP_R_DROP_LENGTH;
	if (vn < 1 || vn > 4)
		return NTP_R_DROP_VERSION;
	if (mode != NTP_MODE_CLIENT && mode != NTP_MODE_ACTIVE)
		return by_mode[mode];
	if (ntp_ext_check(buf, len) != 0)
		return NTP_R_DROP_EXTENSION;
	return by_mode[mode];
}

/* What ntp_ext_check must say whatever the bytes: the sizes it decides by length alone. */
static void check_ext(const uint8_t *buf, size_t len)
{
	size_t rem;
	int r = ntp_ext_check(buf, len);

	FUZZ_ASSERT(r == 0 || r == -1, "ntp_ext_check should return 0 or -1");
	if (len < NTP_HEADER_LEN) {
		FUZZ_ASSERT(r == -1, "ntp_ext_check should refuse less than a header");
		return;
	}
	rem = len - NTP_HEADER_LEN;
	if (rem == 0 || rem == 4 || rem == 20 || rem == 24)
		FUZZ_ASSERT(r == 0, "nothing or a MAC-sized tail should be accepted as such");
	else if (rem < 16)
		FUZZ_ASSERT(r == -1, "a tail shorter than an extension field should be refused");
	else if (rem % 4 != 0)
		FUZZ_ASSERT(r == -1, "a tail that is not whole 32-bit words should be refused");
}

/* Decode then encode: the header must come back bit for bit, fields as the diagram says. */
static void check_codec(const uint8_t *buf, size_t len)
{
	struct ntp_packet p;
	uint8_t out[NTP_HEADER_LEN];

	if (len < NTP_HEADER_LEN) {
		FUZZ_ASSERT(ntp_decode(buf, len, &p) == -1, "ntp_decode should refuse < 48 bytes");
		return;
	}
	FUZZ_ASSERT(ntp_decode(buf, len, &p) == 0, "ntp_decode should accept >= 48 bytes");
	FUZZ_ASSERT(p.leap == buf[0] >> 6 && p.version == ((buf[0] >> 3) & 7) &&
			    p.mode == (buf[0] & 7),
		    "LI, VN and mode should come from the first byte");
	FUZZ_ASSERT(p.xmt == be64(buf + 40) && p.org == be64(buf + 24) && p.refid == be32(buf + 12),
		    "timestamps and refid should be read big-endian at their offsets");
	ntp_encode(&p, out);
	FUZZ_ASSERT(memcmp(out, buf, NTP_HEADER_LEN) == 0,
		    "encode(decode(header)) should give the header back");
}

/* The reply serve.c sends for REQ (LEN bytes) classified as R, built from INFO. */
static void check_reply(const uint8_t *req, size_t len, enum ntp_reason r,
			const struct ntp_reply_info *info)
{
	uint8_t out[NTP_HEADER_LEN];
	unsigned int mode = req[0] & 7, vn = (req[0] >> 3) & 7;
	int8_t poll = (int8_t)req[2];
	size_t n;

	memset(out, 0xA5, sizeof(out));
	n = ntp_build_reply(req, info, RX_TS, TX_TS, out);
	FUZZ_ASSERT(n == NTP_HEADER_LEN, "a reply should be the 48-byte header");
	FUZZ_ASSERT(n <= len, "a reply should never be larger than the request");
	FUZZ_ASSERT((mode == NTP_MODE_CLIENT && r == NTP_R_REPLY_SERVER &&
		     (out[0] & 7) == NTP_MODE_SERVER) ||
			    (mode == NTP_MODE_ACTIVE && r == NTP_R_REPLY_SYMMETRIC &&
			     (out[0] & 7) == NTP_MODE_PASSIVE),
		    "mode 3 should get mode 4 and mode 1 mode 2, nothing else a reply");
	FUZZ_ASSERT(((out[0] >> 3) & 7) == vn, "the reply should echo the request's VN");
	FUZZ_ASSERT(memcmp(out + 24, req + 40, 8) == 0,
		    "the reply's origin should be the request's transmit, bit for bit");
	FUZZ_ASSERT((out[0] >> 6) == info->leap, "LI should be the snapshot's");
	FUZZ_ASSERT(out[1] == (info->leap == NTP_LEAP_UNSYNC ? 0 : info->stratum),
		    "stratum should be the snapshot's, 0 when unsynchronized");
	FUZZ_ASSERT((int8_t)out[2] == (poll < 0		     ? 0
				       : poll > NTP_MAX_POLL ? NTP_MAX_POLL
							     : poll),
		    "poll should be echoed, clamped to 0..NTP_MAX_POLL");
	FUZZ_ASSERT((int8_t)out[3] == info->precision && be32(out + 4) == info->root_delay &&
			    be32(out + 8) == info->root_disp && be32(out + 12) == info->refid &&
			    be64(out + 16) == info->ref,
		    "precision, root delay/dispersion, refid and reference time should be the "
		    "snapshot's");
	FUZZ_ASSERT(be64(out + 32) == RX_TS && be64(out + 40) == TX_TS,
		    "receive and transmit should be the given stamps");

	/* Restamping moves the transmit time forward only, and only in a whole header. */
	FUZZ_ASSERT(ntp_restamp_xmt(out, n - 1, TX_TS + 1) == 0 && be64(out + 40) == TX_TS,
		    "restamping should leave a buffer shorter than a header alone");
	FUZZ_ASSERT(ntp_restamp_xmt(out, n, TX_TS - 1) == 0 && be64(out + 40) == TX_TS,
		    "restamping should never move the transmit time back");
	FUZZ_ASSERT(ntp_restamp_xmt(out, n, TX_TS + 1) == 1 && be64(out + 40) == TX_TS + 1,
		    "restamping should move the transmit time forward");
	FUZZ_ASSERT(memcmp(out + 24, req + 40, 8) == 0, "restamping should keep the origin");
}

/* A kiss-o'-death with CODE for REQ (LEN bytes), as serve.c sends it after a reply reason. */
static void check_kod(const uint8_t *req, size_t len, const char *code)
{
	static const uint8_t zero[NTP_HEADER_LEN];
	uint8_t out[NTP_HEADER_LEN];
	unsigned int mode = req[0] & 7;
	size_t n;

	memset(out, 0xA5, sizeof(out));
	n = ntp_build_kod(req, code, out);
	FUZZ_ASSERT(n == NTP_HEADER_LEN && n <= len,
		    "a KoD should be 48 bytes, not above the request");
	FUZZ_ASSERT((out[0] >> 6) == NTP_LEAP_UNSYNC, "a KoD should have LI 3");
	FUZZ_ASSERT(((out[0] >> 3) & 7) == ((req[0] >> 3) & 7), "a KoD should echo the VN");
	FUZZ_ASSERT((out[0] & 7) == (mode == NTP_MODE_ACTIVE ? NTP_MODE_PASSIVE : NTP_MODE_SERVER),
		    "a KoD should answer mode 1 with mode 2, mode 3 with mode 4");
	FUZZ_ASSERT(out[1] == 0, "a KoD should have stratum 0");
	FUZZ_ASSERT(be32(out + 12) == ntp_refid_ascii(code), "a KoD's refid should be its code");
	FUZZ_ASSERT(memcmp(out + 24, req + 40, 8) == 0,
		    "a KoD's origin should be the request's transmit");
	FUZZ_ASSERT(memcmp(out + 2, zero, 10) == 0 && memcmp(out + 16, zero, 8) == 0 &&
			    memcmp(out + 32, zero, 16) == 0,
		    "every other KoD field should be 0");
	FUZZ_ASSERT(ntp_restamp_xmt(out, n, TX_TS) == 0 && be64(out + 40) == 0,
		    "a KoD should never be restamped");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ntp_reason r[2];
	int ctl;
	size_t i;

	check_ext(data, size);
	check_codec(data, size);
	for (ctl = 0; ctl < 2; ctl++) {
		r[ctl] = ntp_classify(data, size, ctl);
		FUZZ_ASSERT((unsigned int)r[ctl] < NTP_REASON_MAX, "the reason should be in range");
		FUZZ_ASSERT(strcmp(ntp_reason_name(r[ctl]), "unknown") != 0,
			    "every reason should have a name");
		FUZZ_ASSERT(r[ctl] == model_classify(data, size, ctl),
			    "ntp_classify should follow the ladder documented in proto/ntp.h");
		FUZZ_ASSERT(r[ctl] != NTP_R_REPLY_KOD_RATE && r[ctl] != NTP_R_REPLY_KOD_DENY,
			    "the classifier should never decide a KoD (policy does)");
		if (r[ctl] == NTP_R_CONTROL)
			FUZZ_ASSERT(ctl && (data[0] & 7) == NTP_MODE_CONTROL,
				    "only mode 6 from a control-allowed source should be control");
		if (!ntp_reason_is_reply(r[ctl]))
			continue;
		/* What serve.c does with a reply reason: a reply, or a KoD from the policy. */
		FUZZ_ASSERT(size >= NTP_HEADER_LEN, "a reply reason needs a whole header");
		for (i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
			check_reply(data, size, r[ctl], &infos[i]);
		check_kod(data, size, NTP_KOD_RATE);
		check_kod(data, size, NTP_KOD_DENY);
	}
	/* Control permission only changes the answer to mode 6. */
	if (size == 0 || (data[0] & 7) != NTP_MODE_CONTROL)
		FUZZ_ASSERT(r[0] == r[1], "control permission should only matter for mode 6");
	return 0;
}
