/*
 * Unit tests of proto/: the header codec, reference IDs (with MD5
 * checked against RFC 1321 and an independently computed IPv6 value),
 * the request classifier on every
 * malformed class, the reply and kiss-o'-death builders, and the reason
 * table. Timestamps and the short format are in check_ntpts.c.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "proto/md5.h"
#include "proto/ntp.h"
#include "proto/reason.h"

Suite *proto_suite(void);

/* A 48-byte request with LI 0, version VN and mode MODE, the rest zero. */
static void make_req(uint8_t *buf, size_t len, unsigned int vn, unsigned int mode)
{
	memset(buf, 0, len);
	buf[0] = (uint8_t)((vn & 7) << 3 | (mode & 7));
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* ---- MD5 ---- */

START_TEST(test_md5_rfc1321)
{
	static const struct {
		const char *in;
		const char *md5;
	} v[] = {
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
		{"a", "0cc175b9c0f1b6a831c399e269772661"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
		{"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		 "d174ab98d277d9f5a5611c2c9f419d9f"},
		{"1234567890123456789012345678901234567890"
		 "1234567890123456789012345678901234567890",
		 "57edf4a22be3c955ac49da2e2107b67a"},
	};
	uint8_t d[16];
	char h[33];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ntp_md5(v[i].in, strlen(v[i].in), d);
		hex(d, 16, h);
		ck_assert_msg(strcmp(h, v[i].md5) == 0, "MD5(\"%s\") should be %s, got %s", v[i].in,
			      v[i].md5, h);
	}
}
END_TEST

START_TEST(test_md5_block_edges)
{
	/* Lengths around the padding boundary (55/56) and the block size. */
	static const struct {
		size_t len;
		const char *md5;
	} v[] = {
		{55, "ef1772b6dff9a122358552954ad0df65"}, {56, "3b0c8ac703f828b04c6c197006d17218"},
		{63, "b06521f39153d618550606be297466d5"}, {64, "014842d480b571495a4a0363793f7367"},
		{65, "c743a45e0d2e6a95cb859adae0248435"},
	};
	uint8_t buf[1024], d[16];
	char h[33];
	size_t i;

	memset(buf, 'a', sizeof(buf));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ntp_md5(buf, v[i].len, d);
		hex(d, 16, h);
		ck_assert_msg(strcmp(h, v[i].md5) == 0, "MD5 of %zu 'a' should be %s, got %s",
			      v[i].len, v[i].md5, h);
	}
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	ntp_md5(buf, sizeof(buf), d);
	hex(d, 16, h);
	ck_assert_msg(strcmp(h, "b2ea9f7fcea831a4a63b213f41a8855b") == 0,
		      "MD5 of bytes 0..255 x4 should match, got %s", h);
}
END_TEST

/* ---- header codec ---- */

START_TEST(test_codec_layout)
{
	struct ntp_packet p = {
		.leap = 1,
		.version = 4,
		.mode = 3,
		.stratum = 2,
		.poll = -6,
		.precision = -20,
		.root_delay = 0x01020304,
		.root_disp = 0x05060708,
		.refid = 0x4c4f434c,
		.ref = 0x1112131415161718ULL,
		.org = 0x2122232425262728ULL,
		.rec = 0x3132333435363738ULL,
		.xmt = 0x4142434445464748ULL,
	};
	static const uint8_t want[NTP_HEADER_LEN] = {
		0x63, 0x02, 0xfa, 0xec, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		'L',  'O',  'C',  'L',	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x31, 0x32, 0x33, 0x34,
		0x35, 0x36, 0x37, 0x38, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
	};
	uint8_t out[NTP_HEADER_LEN];
	int i;

	ntp_encode(&p, out);
	for (i = 0; i < NTP_HEADER_LEN; i++)
		ck_assert_msg(out[i] == want[i], "encoded byte %d should be 0x%02x, got 0x%02x", i,
			      want[i], out[i]);
}
END_TEST

START_TEST(test_codec_round_trip)
{
	struct ntp_packet p, q;
	uint8_t buf[NTP_HEADER_LEN + 4];
	int i;

	for (i = 0; i < 256; i++) {
		memset(&p, 0, sizeof(p));
		p.leap = (uint8_t)(i & 3);
		p.version = (uint8_t)((i >> 2) & 7);
		p.mode = (uint8_t)((i >> 5) & 7);
		p.stratum = (uint8_t)(255 - i);
		p.poll = (int8_t)(i - 128);
		p.precision = (int8_t)(127 - i);
		p.root_delay = i & 1 ? 0xffffffffu : 0;
		p.root_disp = 0x80000001u ^ (uint32_t)i;
		p.refid = (uint32_t)i * 0x01010101u;
		p.ref = i & 1 ? UINT64_MAX : 0;
		p.org = 0x8000000000000001ULL + (uint64_t)i;
		p.rec = (uint64_t)i << 56;
		p.xmt = ~((uint64_t)i << 3);
		ntp_encode(&p, buf);
		ck_assert_msg(ntp_decode(buf, NTP_HEADER_LEN, &q) == 0,
			      "decode of 48 bytes should succeed");
		ck_assert_msg(q.leap == p.leap && q.version == p.version && q.mode == p.mode,
			      "LI/VN/mode should survive a round trip (i=%d)", i);
		ck_assert_msg(q.stratum == p.stratum && q.poll == p.poll &&
				      q.precision == p.precision,
			      "stratum/poll/precision should survive a round trip (i=%d)", i);
		ck_assert_msg(q.root_delay == p.root_delay && q.root_disp == p.root_disp &&
				      q.refid == p.refid,
			      "root delay/disp/refid should survive a round trip (i=%d)", i);
		ck_assert_msg(q.ref == p.ref && q.org == p.org && q.rec == p.rec && q.xmt == p.xmt,
			      "timestamps should survive a round trip (i=%d)", i);
	}
	ck_assert_msg(ntp_decode(buf, NTP_HEADER_LEN - 1, &q) == -1,
		      "decode of 47 bytes should fail");
	ck_assert_msg(ntp_decode(buf, 0, &q) == -1, "decode of 0 bytes should fail");
	/* Unaligned input and output buffers work (no pointer casts). */
	ntp_encode(&p, buf + 1);
	ck_assert_msg(ntp_decode(buf + 1, NTP_HEADER_LEN, &q) == 0 && q.xmt == p.xmt &&
			      q.root_disp == p.root_disp,
		      "decode at an odd address should work");
}
END_TEST

/* ---- reference IDs ---- */

START_TEST(test_refid_forms)
{
	struct in_addr a4;
	struct in6_addr a6;

	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", &a4), 1);
	ck_assert_msg(ntp_refid_ipv4(&a4) == 0xc0000201u, "192.0.2.1 should be 0xc0000201");
	/* md5(::1) = cf404dc806178c245b5b4fe2531e6d8c (Python hashlib). */
	ck_assert_int_eq(inet_pton(AF_INET6, "::1", &a6), 1);
	ck_assert_msg(ntp_refid_ipv6(&a6) == 0xcf404dc8u, "::1 should be 0xcf404dc8, got 0x%08x",
		      ntp_refid_ipv6(&a6));
	ck_assert_msg(ntp_refid_ascii("LOCL") == 0x4c4f434cu, "LOCL should be 0x4c4f434c");
	ck_assert_msg(ntp_refid_ascii("GPS") == 0x47505300u, "GPS should be NUL padded");
	ck_assert_msg(ntp_refid_ascii("") == 0, "an empty code should be 0");
	ck_assert_msg(ntp_refid_ascii("TOOLONG") == 0x544f4f4cu, "only 4 characters are used");
	ck_assert_msg(ntp_refid_ascii(NTP_KOD_RATE) == 0x52415445u, "RATE should be 0x52415445");
}
END_TEST

START_TEST(test_refid_format)
{
	char buf[32];

	ck_assert_str_eq(ntp_refid_format(0x4c4f434cu, 1, buf, sizeof(buf)), "LOCL");
	ck_assert_str_eq(ntp_refid_format(0x47505300u, 1, buf, sizeof(buf)), "GPS");
	ck_assert_str_eq(ntp_refid_format(0x52415445u, 0, buf, sizeof(buf)), "RATE");
	ck_assert_str_eq(ntp_refid_format(0, 0, buf, sizeof(buf)), "");
	ck_assert_str_eq(ntp_refid_format(0x01410042u, 1, buf, sizeof(buf)), ".A.B");
	ck_assert_str_eq(ntp_refid_format(0x7f41ff00u, 1, buf, sizeof(buf)), ".A.");
	ck_assert_str_eq(ntp_refid_format(0xc0000201u, 2, buf, sizeof(buf)), "192.0.2.1");
	ck_assert_str_eq(ntp_refid_format(0xffffffffu, 16, buf, sizeof(buf)), "255.255.255.255");
	/* The local reference at its local stratum: LOCL, not 76.79.67.76. */
	ck_assert_str_eq(ntp_refid_format(0x4c4f434cu, 10, buf, sizeof(buf)), "LOCL");
	ck_assert_str_eq(ntp_refid_format(0x4c4f434cu, 1, buf, 3), "LO");
	ck_assert_str_eq(ntp_refid_format(0xc0000201u, 3, buf, 6), "192.0");
	buf[0] = 'x';
	ntp_refid_format(0x4c4f434cu, 1, buf, 0);
	ck_assert_msg(buf[0] == 'x', "a zero-length buffer should not be written");
}
END_TEST

/* ---- classifier ---- */

START_TEST(test_classify_length_version)
{
	uint8_t b[64];
	unsigned int vn;

	make_req(b, sizeof(b), 4, NTP_MODE_CLIENT);
	ck_assert_int_eq(ntp_classify(b, 0, 1), NTP_R_DROP_SHORT);
	ck_assert_int_eq(ntp_classify(b, 1, 1), NTP_R_DROP_SHORT);
	ck_assert_int_eq(ntp_classify(b, 47, 1), NTP_R_DROP_SHORT);
	ck_assert_int_eq(ntp_classify(b, 44, 1), NTP_R_DROP_SHORT);
	ck_assert_int_eq(ntp_classify(b, 49, 1), NTP_R_DROP_LENGTH);
	ck_assert_int_eq(ntp_classify(b, 50, 1), NTP_R_DROP_LENGTH);
	ck_assert_int_eq(ntp_classify(b, 51, 1), NTP_R_DROP_LENGTH);
	ck_assert_int_eq(ntp_classify(b, 48, 1), NTP_R_REPLY_SERVER);
	for (vn = 0; vn < 8; vn++) {
		enum ntp_reason want =
			(vn >= 1 && vn <= 4) ? NTP_R_REPLY_SERVER : NTP_R_DROP_VERSION;

		make_req(b, sizeof(b), vn, NTP_MODE_CLIENT);
		ck_assert_msg(ntp_classify(b, 48, 0) == want, "mode 3 VN %u should give %s, got %s",
			      vn, ntp_reason_name(want), ntp_reason_name(ntp_classify(b, 48, 0)));
		make_req(b, sizeof(b), vn, NTP_MODE_ACTIVE);
		want = (vn >= 1 && vn <= 4) ? NTP_R_REPLY_SYMMETRIC : NTP_R_DROP_VERSION;
		ck_assert_msg(ntp_classify(b, 48, 0) == want, "mode 1 VN %u should give %s", vn,
			      ntp_reason_name(want));
	}
	/* Length wins over version: a short packet with VN 0 is short. */
	make_req(b, sizeof(b), 0, NTP_MODE_CLIENT);
	ck_assert_int_eq(ntp_classify(b, 40, 0), NTP_R_DROP_SHORT);
	ck_assert_int_eq(ntp_classify(b, 50, 0), NTP_R_DROP_LENGTH);
}
END_TEST

START_TEST(test_classify_modes)
{
	static const enum ntp_reason want[8] = {
		NTP_R_DROP_MODE_RESERVED, NTP_R_REPLY_SYMMETRIC,   NTP_R_DROP_MODE_PASSIVE,
		NTP_R_REPLY_SERVER,	  NTP_R_DROP_MODE_SERVER,  NTP_R_DROP_MODE_BROADCAST,
		NTP_R_DROP_MODE_CONTROL,  NTP_R_DROP_MODE_PRIVATE,
	};
	uint8_t b[48];
	unsigned int mode;

	for (mode = 0; mode < 8; mode++) {
		make_req(b, sizeof(b), 4, mode);
		ck_assert_msg(ntp_classify(b, 48, 0) == want[mode],
			      "mode %u should give %s, got %s", mode, ntp_reason_name(want[mode]),
			      ntp_reason_name(ntp_classify(b, 48, 0)));
	}
	make_req(b, sizeof(b), 2, NTP_MODE_CONTROL);
	ck_assert_int_eq(ntp_classify(b, 48, 1), NTP_R_CONTROL);
	ck_assert_int_eq(ntp_classify(b, 48, 0), NTP_R_DROP_MODE_CONTROL);
	/* Mode 6 and 7 have short headers: classified by mode, not length. */
	ck_assert_int_eq(ntp_classify(b, 12, 1), NTP_R_CONTROL);
	ck_assert_int_eq(ntp_classify(b, 12, 0), NTP_R_DROP_MODE_CONTROL);
	ck_assert_int_eq(ntp_classify(b, 13, 1), NTP_R_CONTROL);
	make_req(b, sizeof(b), 2, NTP_MODE_PRIVATE);
	ck_assert_int_eq(ntp_classify(b, 8, 1), NTP_R_DROP_MODE_PRIVATE);
	ck_assert_int_eq(ntp_classify(b, 1, 0), NTP_R_DROP_MODE_PRIVATE);
	ck_assert_int_eq(ntp_classify(b, 0, 0), NTP_R_DROP_SHORT);
	/* ...but only with a valid version. */
	make_req(b, sizeof(b), 0, NTP_MODE_CONTROL);
	ck_assert_int_eq(ntp_classify(b, 12, 1), NTP_R_DROP_SHORT);
	ck_assert_int_eq(ntp_classify(b, 48, 1), NTP_R_DROP_VERSION);
	make_req(b, sizeof(b), 5, NTP_MODE_PRIVATE);
	ck_assert_int_eq(ntp_classify(b, 8, 0), NTP_R_DROP_SHORT);
	ck_assert_int_eq(ntp_classify(b, 48, 0), NTP_R_DROP_VERSION);
}
END_TEST

/* Put a 16-bit extension field length at OFF in B. */
static void set_ext(uint8_t *b, size_t off, uint16_t type, uint16_t len)
{
	b[off] = (uint8_t)(type >> 8);
	b[off + 1] = (uint8_t)type;
	b[off + 2] = (uint8_t)(len >> 8);
	b[off + 3] = (uint8_t)len;
}

START_TEST(test_classify_extensions)
{
	uint8_t b[256];
	size_t rem;

	/* Bare MACs and nothing at all. */
	for (rem = 0; rem <= 40; rem += 4) {
		int ok = rem == 0 || rem == 4 || rem == 20 || rem == 24;

		make_req(b, sizeof(b), 4, NTP_MODE_CLIENT);
		ck_assert_msg((ntp_ext_check(b, 48 + rem) == 0) == ok,
			      "%zu trailing zero bytes should be %s", rem,
			      ok ? "accepted" : "rejected");
		ck_assert_int_eq(ntp_classify(b, 48 + rem, 0),
				 ok ? NTP_R_REPLY_SERVER : NTP_R_DROP_EXTENSION);
	}
	ck_assert_msg(ntp_ext_check(b, 47) == -1, "ext check under 48 bytes should fail");

	/* Valid extension fields, alone and followed by MACs. */
	make_req(b, sizeof(b), 4, NTP_MODE_CLIENT);
	set_ext(b, 48, 0x0104, 16);
	ck_assert_int_eq(ntp_classify(b, 64, 0), NTP_R_REPLY_SERVER);
	set_ext(b, 48, 0x0104, 28);
	ck_assert_int_eq(ntp_classify(b, 76, 0), NTP_R_REPLY_SERVER);
	ck_assert_int_eq(ntp_classify(b, 96, 0), NTP_R_REPLY_SERVER);  /* 28 + MD5 MAC */
	ck_assert_int_eq(ntp_classify(b, 100, 0), NTP_R_REPLY_SERVER); /* 28 + SHA-1 MAC */
	ck_assert_int_eq(ntp_classify(b, 80, 0), NTP_R_REPLY_SERVER);  /* 28 + crypto-NAK */
	set_ext(b, 76, 0x0204, 32);
	ck_assert_int_eq(ntp_classify(b, 108, 1), NTP_R_REPLY_SERVER); /* 28 + 32 */
	ck_assert_int_eq(ntp_classify(b, 132, 1), NTP_R_REPLY_SERVER); /* 28 + 32 + SHA-1 */
	make_req(b, sizeof(b), 3, NTP_MODE_ACTIVE);
	set_ext(b, 48, 0x0104, 16);
	ck_assert_int_eq(ntp_classify(b, 84, 0), NTP_R_REPLY_SYMMETRIC); /* 16 + MD5 */

	/* Malformed: field too short, not a multiple of 4, longer than the packet. */
	make_req(b, sizeof(b), 4, NTP_MODE_CLIENT);
	set_ext(b, 48, 0x0104, 12);
	ck_assert_int_eq(ntp_classify(b, 64, 0), NTP_R_DROP_EXTENSION);
	set_ext(b, 48, 0x0104, 0);
	ck_assert_int_eq(ntp_classify(b, 64, 0), NTP_R_DROP_EXTENSION);
	set_ext(b, 48, 0x0104, 18);
	ck_assert_int_eq(ntp_classify(b, 80, 0), NTP_R_DROP_EXTENSION);
	set_ext(b, 48, 0x0104, 36);
	ck_assert_int_eq(ntp_classify(b, 80, 0), NTP_R_DROP_EXTENSION);
	set_ext(b, 48, 0x0104, 0xfffc);
	ck_assert_int_eq(ntp_classify(b, 80, 0), NTP_R_DROP_EXTENSION);
	/* Two 18-byte fields would fill 36 bytes, but 18 is not a multiple of 4. */
	set_ext(b, 48, 0x0104, 18);
	set_ext(b, 66, 0x0104, 18);
	ck_assert_int_eq(ntp_classify(b, 84, 0), NTP_R_DROP_EXTENSION);
	ck_assert_msg(ntp_ext_check(b, 86) == -1, "an 18-byte field then a MAC should fail");
	memset(b + 48, 0, 40);
	/* A good field followed by an odd remainder, or by a bad field. */
	set_ext(b, 48, 0x0104, 16);
	/* 16 + 8 bytes has the size of a SHA-1 MAC, which is what it is taken for. */
	ck_assert_int_eq(ntp_classify(b, 72, 0), NTP_R_REPLY_SERVER);
	ck_assert_int_eq(ntp_classify(b, 76, 0), NTP_R_DROP_EXTENSION); /* 16 + 12 */
	set_ext(b, 64, 0x0104, 20);
	ck_assert_int_eq(ntp_classify(b, 96, 0), NTP_R_DROP_EXTENSION); /* 16 + 20 + 12 */
	ck_assert_int_eq(ntp_classify(b, 84, 0), NTP_R_REPLY_SERVER);	/* 16 + 20 */
	/* A SHA-1 MAC whose key id reads like a 16-byte field header is still a MAC. */
	make_req(b, sizeof(b), 4, NTP_MODE_CLIENT);
	set_ext(b, 48, 0x0000, 16);
	ck_assert_msg(ntp_classify(b, 72, 0) == NTP_R_REPLY_SERVER,
		      "a 24-byte MAC with key id 16 should be accepted as a MAC");
	set_ext(b, 48, 0x0104, 16);
	set_ext(b, 64, 0x0000, 16);
	ck_assert_msg(ntp_classify(b, 88, 0) == NTP_R_REPLY_SERVER,
		      "a field then a 24-byte MAC with key id 16 should be accepted");
	/* Extension checks apply to modes 1 and 3 only. */
	make_req(b, sizeof(b), 4, NTP_MODE_SERVER);
	ck_assert_int_eq(ntp_classify(b, 56, 0), NTP_R_DROP_MODE_SERVER);
}
END_TEST

/* ---- reply and KoD builders ---- */

static const struct ntp_reply_info test_info = {
	.leap = NTP_LEAP_NONE,
	.stratum = 2,
	.precision = -23,
	.root_delay = 0x00000123,
	.root_disp = 0x00000456,
	.refid = 0xc0000201,
	.ref = 0xe9000000aabbccddULL,
};

START_TEST(test_reply_builder)
{
	static const uint8_t xmt[8] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x80, 0xff};
	uint8_t req[48], out[48];
	struct ntp_packet p;
	unsigned int vn;

	for (vn = 1; vn <= 4; vn++) {
		make_req(req, sizeof(req), vn, NTP_MODE_CLIENT);
		req[2] = 6;
		memcpy(req + 40, xmt, 8);
		memset(out, 0xaa, sizeof(out));
		ck_assert_int_eq(ntp_build_reply(req, &test_info, 0x1111ULL, 0x2222ULL, out), 48);
		ck_assert_int_eq(ntp_decode(out, sizeof(out), &p), 0);
		ck_assert_msg(p.mode == NTP_MODE_SERVER, "mode 3 should be answered with mode 4");
		ck_assert_msg(p.version == vn, "VN %u should be echoed, got %u", vn, p.version);
		ck_assert_msg(p.leap == NTP_LEAP_NONE && p.stratum == 2,
			      "leap and stratum should come from the info");
		ck_assert_msg(p.poll == 6 && p.precision == -23, "poll echoed, precision ours");
		ck_assert_msg(p.root_delay == 0x123 && p.root_disp == 0x456 &&
				      p.refid == 0xc0000201 && p.ref == test_info.ref,
			      "root delay/disp, refid and reference time should be the info's");
		ck_assert_msg(memcmp(out + 24, xmt, 8) == 0,
			      "origin should be the request transmit bit for bit");
		ck_assert_msg(p.rec == 0x1111ULL && p.xmt == 0x2222ULL,
			      "receive and transmit should be RX and TX");

		make_req(req, sizeof(req), vn, NTP_MODE_ACTIVE);
		ntp_build_reply(req, &test_info, 1, 2, out);
		ck_assert_msg((out[0] & 7) == NTP_MODE_PASSIVE && ((out[0] >> 3) & 7) == vn,
			      "mode 1 VN %u should be answered with mode 2 VN %u", vn, vn);
	}
}
END_TEST

START_TEST(test_reply_unsync_and_poll)
{
	static const struct {
		int8_t in, out;
	} polls[] = {{-128, 0}, {-1, 0}, {0, 0}, {4, 4}, {17, 17}, {18, 17}, {127, 17}};
	struct ntp_reply_info info = test_info;
	uint8_t req[48], out[48];
	size_t i;

	make_req(req, sizeof(req), 4, NTP_MODE_CLIENT);
	info.leap = NTP_LEAP_UNSYNC;
	info.stratum = 3;
	ntp_build_reply(req, &info, 1, 2, out);
	ck_assert_msg(out[0] >> 6 == NTP_LEAP_UNSYNC, "LI should be 3 when unsynchronized");
	ck_assert_msg(out[1] == 0, "unsynchronized should force stratum 0, got %u", out[1]);
	info.leap = NTP_LEAP_INSERT;
	ntp_build_reply(req, &info, 1, 2, out);
	ck_assert_msg(out[0] >> 6 == NTP_LEAP_INSERT && out[1] == 3,
		      "a leap warning should keep the stratum");

	for (i = 0; i < sizeof(polls) / sizeof(polls[0]); i++) {
		req[2] = (uint8_t)polls[i].in;
		ntp_build_reply(req, &test_info, 1, 2, out);
		ck_assert_msg((int8_t)out[2] == polls[i].out,
			      "poll %d should be echoed as %d, got %d", polls[i].in, polls[i].out,
			      (int8_t)out[2]);
	}
}
END_TEST

START_TEST(test_reference_time_unknown)
{
	struct ntp_reply_info info = test_info;
	uint8_t req[48], out[48];
	struct ntp_packet p;

	ck_assert_msg(ntp_ref_from_unix_ns(0) == 0,
		      "an unknown reference time (0) should be 0 on the wire, not 1970 (0x%016llx)",
		      (unsigned long long)ntp_ref_from_unix_ns(0));
	ck_assert_msg(ntp_ref_from_unix_ns(1) == ntp_ts_from_unix_ns(1) &&
			      ntp_ref_from_unix_ns(-1) == ntp_ts_from_unix_ns(-1) &&
			      ntp_ref_from_unix_ns(1795708800000000000LL) ==
				      ntp_ts_from_unix_ns(1795708800000000000LL),
		      "any other reference time should convert as a timestamp does");
	make_req(req, sizeof(req), 4, NTP_MODE_CLIENT);
	info.leap = NTP_LEAP_UNSYNC;
	info.ref = ntp_ref_from_unix_ns(0);
	ntp_build_reply(req, &info, 1, 2, out);
	ck_assert_int_eq(ntp_decode(out, sizeof(out), &p), 0);
	ck_assert_msg(p.ref == 0, "the reply's reference timestamp should be 0, got 0x%016llx",
		      (unsigned long long)p.ref);
}
END_TEST

START_TEST(test_kod_builder)
{
	uint8_t req[48], out[48];
	struct ntp_packet p;
	size_t i;

	make_req(req, sizeof(req), 3, NTP_MODE_CLIENT);
	memset(req + 1, 0x5a, 39); /* junk in every field but the transmit time */
	for (i = 0; i < 8; i++)
		req[40 + i] = (uint8_t)(0xf0 + i);
	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(ntp_build_kod(req, NTP_KOD_RATE, out), 48);
	ck_assert_int_eq(ntp_decode(out, sizeof(out), &p), 0);
	ck_assert_msg(p.leap == NTP_LEAP_UNSYNC && p.version == 3 && p.mode == NTP_MODE_SERVER,
		      "KoD should be LI 3, VN echoed, mode 4");
	ck_assert_msg(p.stratum == 0, "KoD should have stratum 0");
	ck_assert_msg(memcmp(out + 12, "RATE", 4) == 0, "KoD refid should be the ASCII code");
	ck_assert_msg(memcmp(out + 24, req + 40, 8) == 0,
		      "KoD origin should be the request transmit");
	ck_assert_msg(p.poll == 0 && p.precision == 0 && p.root_delay == 0 && p.root_disp == 0 &&
			      p.ref == 0 && p.rec == 0 && p.xmt == 0,
		      "every other KoD field should be 0");

	make_req(req, sizeof(req), 1, NTP_MODE_ACTIVE);
	ntp_build_kod(req, NTP_KOD_DENY, out);
	ck_assert_msg((out[0] & 7) == NTP_MODE_PASSIVE && ((out[0] >> 3) & 7) == 1,
		      "KoD to mode 1 VN 1 should be mode 2 VN 1");
	ck_assert_msg(memcmp(out + 12, "DENY", 4) == 0, "DENY code should be in the refid");
}
END_TEST

/* ---- reasons ---- */

START_TEST(test_restamp_xmt)
{
	uint8_t reply[NTP_HEADER_LEN], before[NTP_HEADER_LEN];
	struct ntp_packet p;
	uint64_t tx = 0xeeb29a7300000000ULL;

	memset(&p, 0, sizeof(p));
	p.version = 4;
	p.mode = NTP_MODE_SERVER;
	p.org = 0x1111111122222222ULL;
	p.xmt = tx;
	ntp_encode(&p, reply);
	memcpy(before, reply, sizeof(reply));
	ck_assert_msg(ntp_restamp_xmt(reply, sizeof(reply), tx + 0x1000) == 1,
		      "a later transmit time should be written");
	ck_assert_msg(memcmp(reply, before, 40) == 0, "only the transmit timestamp should change");
	ck_assert_msg(ntp_decode(reply, sizeof(reply), &p) == 0 && p.xmt == tx + 0x1000,
		      "the transmit timestamp should be the new one");
	ck_assert_msg(ntp_restamp_xmt(reply, sizeof(reply), tx) == 0,
		      "an earlier transmit time should never be written back");
	ck_assert_msg(ntp_restamp_xmt(reply, 47, tx + 0x2000) == 0, "a short buffer is left alone");
	memset(reply + 40, 0, 8);
	ck_assert_msg(ntp_restamp_xmt(reply, sizeof(reply), tx) == 0,
		      "a kiss-o'-death (transmit 0) should keep its zero transmit time");
}
END_TEST

START_TEST(test_reason_table)
{
	int i, j;

	for (i = 0; i < NTP_REASON_MAX; i++) {
		const char *n = ntp_reason_name((enum ntp_reason)i);
		const char *d = ntp_reason_desc((enum ntp_reason)i);

		ck_assert_msg(n && n[0], "reason %d should have a name", i);
		ck_assert_msg(d && d[0], "reason %d should have a description", i);
		ck_assert_msg(strcmp(n, "unknown") != 0, "reason %d should not be 'unknown'", i);
		ck_assert_msg(ntp_reason_from_name(n) == i, "name %s should map back to %d", n, i);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(n, ntp_reason_name((enum ntp_reason)j)) != 0,
				      "names of %d and %d should differ", i, j);
	}
	ck_assert_str_eq(ntp_reason_name(NTP_R_DROP_SHORT), "drop_short");
	ck_assert_str_eq(ntp_reason_name(NTP_REASON_MAX), "unknown");
	ck_assert_str_eq(ntp_reason_name((enum ntp_reason) - 1), "unknown");
	ck_assert_msg(ntp_reason_desc(NTP_REASON_MAX)[0] != '\0',
		      "an out-of-range description should still be a string");
	ck_assert_int_eq(ntp_reason_from_name("no_such_reason"), -1);
	ck_assert_int_eq(ntp_reason_from_name(""), -1);
	ck_assert_int_eq(ntp_reason_from_name(NULL), -1);
}
END_TEST

START_TEST(test_reason_is_reply)
{
	int i;

	ck_assert(ntp_reason_is_reply(NTP_R_REPLY_SERVER));
	ck_assert(ntp_reason_is_reply(NTP_R_REPLY_SYMMETRIC));
	ck_assert(ntp_reason_is_reply(NTP_R_REPLY_KOD_RATE));
	ck_assert(ntp_reason_is_reply(NTP_R_REPLY_KOD_DENY));
	ck_assert(!ntp_reason_is_reply(NTP_R_CONTROL));
	ck_assert(!ntp_reason_is_reply(NTP_REASON_MAX));
	for (i = 0; i < NTP_REASON_MAX; i++) {
		const char *n = ntp_reason_name((enum ntp_reason)i);

		if (strncmp(n, "drop_", 5) == 0)
			ck_assert_msg(!ntp_reason_is_reply((enum ntp_reason)i),
				      "%s should not be a reply", n);
	}
}
END_TEST

Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc;

	tc = tcase_create("md5");
	tcase_add_test(tc, test_md5_rfc1321);
	tcase_add_test(tc, test_md5_block_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("codec");
	tcase_add_test(tc, test_codec_layout);
	tcase_add_test(tc, test_codec_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("refid");
	tcase_add_test(tc, test_refid_forms);
	tcase_add_test(tc, test_refid_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_add_test(tc, test_classify_length_version);
	tcase_add_test(tc, test_classify_modes);
	tcase_add_test(tc, test_classify_extensions);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, test_reply_builder);
	tcase_add_test(tc, test_reply_unsync_and_poll);
	tcase_add_test(tc, test_reference_time_unknown);
	tcase_add_test(tc, test_kod_builder);
	tcase_add_test(tc, test_restamp_xmt);
	suite_add_tcase(s, tc);

	tc = tcase_create("reason");
	tcase_add_test(tc, test_reason_table);
	tcase_add_test(tc, test_reason_is_reply);
	suite_add_tcase(s, tc);

	return s;
}
