/*
 * Unit tests of the mode 6 wire format: requests as ntpq sends them and
 * every packet that must be dropped (plus random bytes of every length,
 * in exact-size buffers so ASan sees an over-read), the error response
 * byte for byte, the status words, the fragmenter (each response is
 * reassembled here with the checks ntpq makes), and the variable list
 * renderer: separators, 72-character lines, overflow at every capacity,
 * request-list filtering, unknown names and quoting.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mode6.h"

Suite *mode6_suite(void);

/* Build a request header into P: VN 2 and LI 3, as ntpq sends it. */
static void mk_req(uint8_t *p, uint8_t b1, uint16_t seq, uint16_t assoc, uint16_t off,
		   uint16_t count)
{
	p[0] = 3 << 6 | 2 << 3 | 6;
	p[1] = b1;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = 0;
	p[5] = 0;
	p[6] = (uint8_t)(assoc >> 8);
	p[7] = (uint8_t)assoc;
	p[8] = (uint8_t)(off >> 8);
	p[9] = (uint8_t)off;
	p[10] = (uint8_t)(count >> 8);
	p[11] = (uint8_t)count;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

START_TEST(parse_valid)
{
	uint8_t p[64] = {0};
	struct m6_request rq;
	static const char list[] = "offset,jitter"; /* 13 bytes: padded to 16 */

	mk_req(p, M6_OP_READSTAT, 0x1234, 0, 0, 0);
	ck_assert_msg(m6_parse(p, 12, &rq) == 0, "a bare READSTAT should parse");
	ck_assert_msg(
		rq.version == 2 && rq.opcode == M6_OP_READSTAT && rq.sequence == 0x1234 &&
			rq.assoc == 0 && rq.data_len == 0 && !rq.has_mac,
		"a bare READSTAT should read back VN 2, opcode 1, seq 0x1234, no data, no MAC");

	mk_req(p, M6_OP_READVAR, 7, 0xbeef, 0, sizeof(list) - 1);
	memcpy(p + 12, list, sizeof(list) - 1);
	ck_assert_msg(m6_parse(p, 28, &rq) == 0, "a padded READVAR should parse");
	ck_assert_msg(rq.opcode == M6_OP_READVAR && rq.assoc == 0xbeef && rq.sequence == 7,
		      "READVAR fields should read back");
	ck_assert_msg(rq.data == p + 12 && rq.data_len == 13 && !rq.has_mac,
		      "data should point after the header, count 13, and padding is not a MAC");
	ck_assert_msg(m6_parse(p, 25, &rq) == 0 && rq.data_len == 13 && !rq.has_mac,
		      "an unpadded request whose count fits should parse");

	/* ntpq with a key: padded to 8 bytes, then key id + 16-byte digest. */
	ck_assert_msg(m6_parse(p, 32 + 20, &rq) == 0 && rq.has_mac && rq.data_len == 13,
		      "a request with a MAC after the padding should parse with has_mac");
	mk_req(p, M6_OP_READVAR, 7, 0, 0, 0);
	ck_assert_msg(m6_parse(p, 16 + 20, &rq) == 0 && rq.has_mac && rq.data_len == 0,
		      "a request with no data and a MAC should set has_mac");
	ck_assert_msg(m6_parse(p, 13, &rq) == 0 && rq.has_mac,
		      "any byte past the padded data should count as a MAC");

	p[0] = 0 << 6 | 1 << 3 | 6;
	ck_assert_msg(m6_parse(p, 12, &rq) == 0 && rq.version == 1, "VN 1 should be accepted");
	p[0] = 0 << 6 | 4 << 3 | 6;
	ck_assert_msg(m6_parse(p, 12, &rq) == 0 && rq.version == 4, "VN 4 should be accepted");
	p[1] = M6_OP_WRITEVAR;
	ck_assert_msg(m6_parse(p, 12, &rq) == 0 && rq.opcode == M6_OP_WRITEVAR,
		      "a write should parse (the caller refuses it)");
	p[1] = 0x1f;
	ck_assert_msg(m6_parse(p, 12, &rq) == 0 && rq.opcode == 0x1f,
		      "an unknown opcode should parse (the caller answers BADOP)");
}
END_TEST

START_TEST(parse_largest)
{
	size_t len = 65535;
	uint8_t *p = calloc(1, len);
	struct m6_request rq;

	ck_assert_ptr_nonnull(p);
	mk_req(p, M6_OP_READVAR, 1, 0, 0, (uint16_t)(len - 12));
	ck_assert_msg(m6_parse(p, len, &rq) == 0 && rq.data_len == len - 12 && !rq.has_mac,
		      "a 65535-byte request whose count fills it should parse");
	mk_req(p, M6_OP_READVAR, 1, 0, 0, (uint16_t)(len - 11));
	ck_assert_msg(m6_parse(p, len, &rq) == -1,
		      "a count one byte past a 65535-byte packet should be dropped");
	mk_req(p, M6_OP_READVAR, 1, 0, 0, 0xffff);
	ck_assert_msg(m6_parse(p, len, &rq) == -1, "count 65535 should not fit in 65535 bytes");
	free(p);
}
END_TEST

START_TEST(parse_drops)
{
	uint8_t p[64] = {0};
	struct m6_request rq;
	size_t len;
	unsigned i;

	mk_req(p, M6_OP_READVAR, 1, 0, 0, 0);
	ck_assert_msg(m6_parse(NULL, 12, &rq) == -1, "a NULL packet should be dropped");
	for (len = 0; len < 12; len++)
		ck_assert_msg(m6_parse(p, len, &rq) == -1, "a %zu-byte packet should be dropped",
			      len);
	for (i = 0; i < 8; i++) {
		if (i == 6)
			continue;
		p[0] = (uint8_t)(2 << 3 | i);
		ck_assert_msg(m6_parse(p, 12, &rq) == -1, "mode %u should be dropped", i);
	}
	for (i = 0; i < 8; i++) {
		p[0] = (uint8_t)(i << 3 | 6);
		ck_assert_msg(m6_parse(p, 12, &rq) == ((i >= 1 && i <= 4) ? 0 : -1),
			      "VN %u should be %s", i, (i >= 1 && i <= 4) ? "accepted" : "dropped");
	}
	mk_req(p, 0x80 | M6_OP_READVAR, 1, 0, 0, 0);
	ck_assert_msg(m6_parse(p, 12, &rq) == -1, "a response (R bit) should be dropped");
	mk_req(p, 0xc0 | M6_OP_READVAR, 1, 0, 0, 0);
	ck_assert_msg(m6_parse(p, 12, &rq) == -1, "an error response should be dropped");
	mk_req(p, 0x20 | M6_OP_READVAR, 1, 0, 0, 0);
	ck_assert_msg(m6_parse(p, 12, &rq) == -1, "a request with the M bit should be dropped");
	mk_req(p, M6_OP_READVAR, 1, 0, 4, 0);
	ck_assert_msg(m6_parse(p, 12, &rq) == -1, "a request with offset 4 should be dropped");
	mk_req(p, M6_OP_READVAR, 1, 0, 0x8000, 0);
	ck_assert_msg(m6_parse(p, 12, &rq) == -1, "a request with offset 0x8000 should be dropped");
	for (len = 12; len <= sizeof(p); len++) {
		mk_req(p, M6_OP_READVAR, 1, 0, 0, (uint16_t)(len - 12 + 1));
		ck_assert_msg(m6_parse(p, len, &rq) == -1,
			      "count %zu in a %zu-byte packet should be dropped", len - 11, len);
		mk_req(p, M6_OP_READVAR, 1, 0, 0, 0xffff);
		ck_assert_msg(m6_parse(p, len, &rq) == -1,
			      "count 65535 in a %zu-byte packet should be dropped", len);
	}
}
END_TEST

/* A deterministic generator for the hostile-bytes test. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

START_TEST(parse_random)
{
	uint32_t seed = 12345;
	size_t len, accepted = 0;
	int round;

	for (round = 0; round < 4; round++) {
		for (len = 0; len <= 600; len++) {
			/* Exact size: a read past LEN is an ASan error. */
			uint8_t *p = malloc(len ? len : 1);
			struct m6_request rq;
			size_t i;

			ck_assert_ptr_nonnull(p);
			for (i = 0; i < len; i++)
				p[i] = (uint8_t)lcg(&seed);
			if (len >= 12 && round > 0) {
				/* Steer half of them to a plausible header. */
				p[0] = (uint8_t)((p[0] & 0xc0) | 2 << 3 | 6);
				p[1] &= 0x1f;
				p[8] = p[9] = 0;
				if (round > 1) {
					/* A count near the true length: within, or up to 4 past. */
					size_t slack = lcg(&seed) % 9;
					size_t count =
						len - 12 + 4 > slack ? len - 12 + 4 - slack : 0;

					p[10] = (uint8_t)(count >> 8);
					p[11] = (uint8_t)count;
				}
			}
			if (m6_parse(p, len, &rq) == 0) {
				accepted++;
				ck_assert_msg(len >= 12 && rq.data == p + 12 &&
						      rq.data_len <= len - 12,
					      "accepted data should lie inside the packet");
				ck_assert_msg(rq.version >= 1 && rq.version <= 4 &&
						      rq.opcode <= 0x1f,
					      "accepted VN and opcode should be in range");
			}
			free(p);
		}
	}
	ck_assert_msg(accepted > 100, "steered random requests should often parse (got %zu)",
		      accepted);
}
END_TEST

START_TEST(error_bytes)
{
	struct m6_request rq = {
		.version = 2, .opcode = M6_OP_READVAR, .sequence = 0x1234, .assoc = 0xabcd};
	static const uint8_t want[12] = {0x16, 0xc2, 0x12, 0x34, 0x05, 0x00,
					 0xab, 0xcd, 0x00, 0x00, 0x00, 0x00};
	uint8_t out[M6_HEADER_LEN + 4];

	memset(out, 0x5a, sizeof(out));
	ck_assert_msg(m6_error(&rq, M6_ERR_UNKNOWNVAR, out) == M6_HEADER_LEN,
		      "an error response should be 12 bytes");
	ck_assert_msg(memcmp(out, want, 12) == 0,
		      "UNKNOWNVAR to READVAR seq 0x1234 assoc 0xabcd should be "
		      "16 c2 12 34 05 00 ab cd 00 00 00 00");
	ck_assert_msg(out[12] == 0x5a, "nothing should be written past 12 bytes");
	ck_assert_msg(((be16(out + 4) >> 8) & 0xff) == M6_ERR_UNKNOWNVAR,
		      "ntpq's errcode() (status >> 8) should read UNKNOWNVAR");

	rq.version = 4;
	rq.opcode = M6_OP_WRITEVAR;
	m6_error(&rq, M6_ERR_PERMISSION, out);
	ck_assert_msg(out[0] == (4 << 3 | 6) && out[1] == (0xc0 | M6_OP_WRITEVAR) &&
			      be16(out + 4) == 0x0100,
		      "PERMISSION to WRITEVAR VN 4 should be 26 c3 .. 01 00");
	rq.opcode = 0x1f;
	m6_error(&rq, M6_ERR_BADOP, out);
	ck_assert_msg(out[1] == 0xdf && be16(out + 4) == 0x0300,
		      "BADOP to opcode 31 should keep R|E and the opcode, status 0x0300");
}
END_TEST

START_TEST(status_words)
{
	ck_assert_msg(m6_sys_status(1, 6, 3, 5) == 0x4635, "sys status 1/6/3/5 should be 0x4635");
	ck_assert_msg(m6_sys_status(3, 63, 15, 15) == 0xffff,
		      "all-ones sys status should be 0xffff");
	ck_assert_msg(m6_sys_status(4, 64, 16, 16) == 0,
		      "out-of-range sys inputs should be masked");
	ck_assert_msg(m6_sys_status(0, 0, 0, 0) == 0, "zero sys status should be 0");
	ck_assert_msg(m6_peer_status(M6_PST_CONFIG | M6_PST_REACH, M6_SEL_SYSPEER, 1, 4) == 0x9614,
		      "configured reachable sys.peer, 1 event, last 4 should be 0x9614");
	ck_assert_msg(m6_peer_status(0x1f, 7, 15, 15) == 0xffff,
		      "all-ones peer status should be 0xffff");
	ck_assert_msg(m6_peer_status(0x20, 8, 16, 16) == 0,
		      "out-of-range peer inputs should be masked");
	ck_assert_msg((m6_peer_status(M6_PST_REACH, M6_SEL_CANDIDATE, 0, 0) >> 8 & 7) ==
			      M6_SEL_CANDIDATE,
		      "ntpq should read the selection from bits 8-10");
}
END_TEST

/* Fragments collected by the emit callback. */
struct frags {
	uint8_t pkt[M6_FRAG_MAX + 2][M6_PKT_MAX];
	size_t len[M6_FRAG_MAX + 2];
	size_t n;
	int too_long;
};

static void collect(void *arg, const uint8_t *pkt, size_t len)
{
	struct frags *f = arg;

	if (len > M6_PKT_MAX || f->n >= M6_FRAG_MAX + 2) {
		f->too_long = 1;
		return;
	}
	memcpy(f->pkt[f->n], pkt, len);
	f->len[f->n] = len;
	f->n++;
}

/* Reassemble F as ntpq does and check every fragment; returns the text length. */
static size_t reassemble(const struct frags *f, const struct m6_request *rq, uint16_t status,
			 uint8_t *out)
{
	size_t i, total = 0;

	ck_assert_msg(!f->too_long, "no fragment should exceed M6_PKT_MAX bytes");
	for (i = 0; i < f->n; i++) {
		const uint8_t *p = f->pkt[i];
		size_t count = be16(p + 10), padded = (count + 3) & ~(size_t)3, k;
		int last = i + 1 == f->n;

		ck_assert_msg(f->len[i] % 4 == 0, "fragment %zu should be a multiple of 4 bytes",
			      i);
		ck_assert_msg(f->len[i] == 12 + padded,
			      "fragment %zu should be 12 + count padded to 32 bits", i);
		ck_assert_msg(12 + padded <= M6_PKT_MAX, "fragment %zu should fit M6_PKT_MAX", i);
		ck_assert_msg(p[0] == (rq->version << 3 | 6), "fragment %zu: LI 0, VN, mode 6", i);
		ck_assert_msg((p[1] & 0xc0) == 0x80, "fragment %zu should have R and not E", i);
		ck_assert_msg((p[1] & 0x1f) == rq->opcode, "fragment %zu should echo the opcode",
			      i);
		ck_assert_msg(!!(p[1] & 0x20) == !last, "fragment %zu: M bit on all but the last",
			      i);
		ck_assert_msg(be16(p + 2) == rq->sequence && be16(p + 6) == rq->assoc,
			      "fragment %zu should echo sequence and association", i);
		ck_assert_msg(be16(p + 4) == status, "fragment %zu should carry the status", i);
		ck_assert_msg(be16(p + 8) == total, "fragment %zu offset should be %zu", i, total);
		if (!last)
			ck_assert_msg(count > 0 && count % 4 == 0,
				      "non-final fragment %zu count should be a positive multiple "
				      "of 4",
				      i);
		for (k = count; k < padded; k++)
			ck_assert_msg(p[12 + k] == 0, "fragment %zu padding should be zero", i);
		memcpy(out + total, p + 12, count);
		total += count;
	}
	return total;
}

START_TEST(fragments)
{
	static const size_t lens[] = {
		0, 1, 3, 4, 467, 468, 469, 468 * 3, 468 * 3 + 2, M6_TEXT_MAX - 1, M6_TEXT_MAX};
	struct m6_request rq = {
		.version = 2, .opcode = M6_OP_READVAR, .sequence = 0x4242, .assoc = 17};
	static uint8_t text[M6_TEXT_MAX + 1], back[M6_TEXT_MAX + 1];
	static struct frags f;
	size_t i, k, n;

	for (k = 0; k < sizeof(text); k++)
		text[k] = (uint8_t)(k * 7 + 1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t want_frags = lens[i] ? (lens[i] + M6_DATA_MAX - 1) / M6_DATA_MAX : 1;

		memset(&f, 0, sizeof(f));
		n = m6_respond(&rq, 0x0615, text, lens[i], collect, &f);
		ck_assert_msg(n == want_frags && f.n == want_frags,
			      "%zu bytes should be %zu fragments (returned %zu, emitted %zu)",
			      lens[i], want_frags, n, f.n);
		ck_assert_msg(reassemble(&f, &rq, 0x0615, back) == lens[i],
			      "%zu bytes should reassemble to %zu bytes", lens[i], lens[i]);
		ck_assert_msg(memcmp(back, text, lens[i]) == 0,
			      "%zu bytes should reassemble to the same text", lens[i]);
	}
	ck_assert_msg(M6_TEXT_MAX / M6_DATA_MAX == M6_FRAG_MAX,
		      "the largest text should be exactly M6_FRAG_MAX fragments");

	memset(&f, 0, sizeof(f));
	ck_assert_msg(m6_respond(&rq, 0, text, M6_TEXT_MAX + 1, collect, &f) == 0 && f.n == 0,
		      "M6_TEXT_MAX + 1 bytes should emit nothing and return 0");
	ck_assert_msg(m6_respond(&rq, 0, NULL, 5, collect, &f) == 0 && f.n == 0,
		      "a NULL text with a length should emit nothing");
	ck_assert_msg(m6_respond(&rq, 0, NULL, 0, collect, &f) == 1 && f.n == 1 && f.len[0] == 12 &&
			      be16(f.pkt[0] + 10) == 0,
		      "a NULL empty text should be one 12-byte fragment with count 0");
}
END_TEST

START_TEST(vars_separators)
{
	char buf[256];
	struct m6_vars v;

	m6_vars_init(&v, buf, sizeof(buf), NULL, 0);
	ck_assert_msg(v.len == 0 && buf[0] == '\0' && !v.overflow, "a new list should be empty");
	m6_var(&v, "stratum", "%d", 2);
	ck_assert_str_eq(buf, "stratum=2");
	ck_assert_msg(v.len == 9 && v.line == 9, "one item should be 9 characters on the line");
	m6_var(&v, "offset", "%.3f", -0.25);
	m6_var_str(&v, "refid", "LOCL");
	ck_assert_str_eq(buf, "stratum=2, offset=-0.250, refid=\"LOCL\"");
	ck_assert_msg(v.len == strlen(buf) && !v.overflow, "len should match the text");
	ck_assert_msg(!m6_vars_unknown(&v), "without a request list nothing should be unknown");
}
END_TEST

/* Add an item of exactly LEN characters named N: "N=xxx...". */
static void add_len(struct m6_vars *v, const char *n, size_t len)
{
	m6_var(v, n, "%.*s", (int)(len - strlen(n) - 1),
	       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	       "x");
}

START_TEST(vars_line_break)
{
	char buf[1024];
	struct m6_vars v;
	const char *p, *nl;
	size_t i, nlines = 0;

	/* 67 + ", " + 3 = 72: fits. */
	m6_vars_init(&v, buf, sizeof(buf), NULL, 0);
	add_len(&v, "a", 67);
	add_len(&v, "b", 3);
	ck_assert_msg(strstr(buf, "\r\n") == NULL && v.line == 72,
		      "a line of exactly 72 characters should not break");
	/* 68 + ", " + 3 = 73: breaks, the new line holds only the item. */
	m6_vars_init(&v, buf, sizeof(buf), NULL, 0);
	add_len(&v, "a", 68);
	add_len(&v, "b", 3);
	ck_assert_msg(strlen(buf) == 68 + 3 + 3 && memcmp(buf + 68, ",\r\nb=x", 6) == 0,
		      "a line that would reach 73 should break with \",\\r\\n\"");
	ck_assert_msg(v.line == 3, "after a break the line should count only the new item");
	/* The count restarts after the break: 3 + 2 + 67 = 72 fits, one more does not. */
	add_len(&v, "c", 67);
	ck_assert_msg(strstr(buf + 74, "\r\n") == NULL && v.line == 72,
		      "the line length should count from after the last \\r\\n");
	add_len(&v, "d", 1 + 1);
	ck_assert_msg(strstr(buf + 74, ",\r\nd=") != NULL, "the next item should break again");
	/* An item longer than a line stands alone on its line. */
	m6_vars_init(&v, buf, sizeof(buf), NULL, 0);
	add_len(&v, "a", 10);
	add_len(&v, "long", 80);
	add_len(&v, "b", 3);
	ck_assert_msg(strstr(buf, "x,\r\nlong=") && strstr(buf, "x,\r\nb=x"),
		      "an 80-character item should sit on a line of its own");

	/* Many small items: every line within 72, and every break needed. */
	m6_vars_init(&v, buf, sizeof(buf), NULL, 0);
	for (i = 0; i < 60; i++)
		m6_var(&v, "v", "%zu", i * 37);
	for (p = buf; p; p = nl ? nl + 2 : NULL) {
		size_t line_len;

		nl = strstr(p, "\r\n");
		line_len = nl ? (size_t)(nl - p) : strlen(p);
		/* The comma that ends a broken line is not counted, as in the rule. */
		ck_assert_msg(line_len - (nl ? 1 : 0) <= 72,
			      "line %zu should be at most 72 characters (is %zu)", nlines,
			      line_len);
		if (nl) {
			size_t next = strcspn(nl + 2, ",");

			ck_assert_msg(p[line_len - 1] == ',', "a broken line should end with ','");
			ck_assert_msg(line_len - 1 + 2 + next > 72,
				      "line %zu should break only when the next item passes 72",
				      nlines);
		}
		nlines++;
	}
	ck_assert_msg(nlines > 5, "60 items should span several lines");
}
END_TEST

/* Render the fixed list used by the overflow test into V. */
static void render_list(struct m6_vars *v)
{
	int i;

	for (i = 0; i < 30; i++) {
		if (i % 3 == 0)
			m6_var_str(v, "name", "a \"quoted\" string");
		else
			m6_var(v, "x", "%d", i * 1001);
	}
}

START_TEST(vars_overflow)
{
	char full[2048], buf[2048 + 16];
	struct m6_vars v;
	size_t full_len, cap, k;

	m6_vars_init(&v, full, sizeof(full), NULL, 0);
	render_list(&v);
	full_len = v.len;
	ck_assert_msg(!v.overflow && full_len == strlen(full) && full_len > 200,
		      "the reference rendering should fit");

	for (cap = 0; cap <= full_len + 1; cap++) {
		size_t best = 0, pos;

		/* The longest prefix ending at an item boundary that fits CAP - 1. */
		for (pos = 0; pos <= full_len; pos++) {
			int boundary = pos == full_len || (pos > 0 && full[pos] == ',');

			if (boundary && cap > 0 && pos <= cap - 1)
				best = pos;
		}
		memset(buf, 0xa5, sizeof(buf));
		m6_vars_init(&v, buf, cap, NULL, 0);
		render_list(&v);
		for (k = cap; k < sizeof(buf); k++)
			ck_assert_msg((uint8_t)buf[k] == 0xa5,
				      "cap %zu: nothing should be written at byte %zu", cap, k);
		if (cap == 0) {
			ck_assert_msg(v.overflow && v.len == 0, "cap 0 should overflow at once");
			continue;
		}
		ck_assert_msg(v.len <= cap - 1 && buf[v.len] == '\0' && strlen(buf) == v.len,
			      "cap %zu: the text should stay NUL-terminated within cap", cap);
		ck_assert_msg(v.len == best && memcmp(buf, full, best) == 0,
			      "cap %zu: the text should be the %zu-byte item prefix (is %zu)", cap,
			      best, v.len);
		ck_assert_msg(v.overflow == (best != full_len),
			      "cap %zu: overflow should be set exactly when something was cut",
			      cap);
	}

	/* After a cut nothing is added, even an item that would fit. */
	m6_vars_init(&v, buf, 12, NULL, 0);
	m6_var(&v, "a", "1");
	m6_var(&v, "long", "123456789");
	m6_var(&v, "b", "2");
	ck_assert_msg(strcmp(buf, "a=1") == 0 && v.overflow,
		      "items after an overflow should be dropped so the cut is at the end");
}
END_TEST

/* Render a fixed set of system variables with the request list WANT. */
static void render_sys(struct m6_vars *v, char *buf, size_t cap, const char *want)
{
	m6_vars_init(v, buf, cap, (const uint8_t *)want, want ? strlen(want) : 0);
	m6_var(v, "leap", "%d", 0);
	m6_var(v, "stratum", "%d", 2);
	m6_var(v, "offset", "%.6f", 0.125);
	m6_var(v, "jitter", "%.6f", 0.5);
	m6_var_str(v, "version", "horod 1");
}

START_TEST(vars_filter)
{
	char buf[512];
	struct m6_vars v;
	static const char all[] = "leap=0, stratum=2, offset=0.125000, jitter=0.500000, "
				  "version=\"horod 1\"";

	render_sys(&v, buf, sizeof(buf), NULL);
	ck_assert_str_eq(buf, all);
	render_sys(&v, buf, sizeof(buf), "");
	ck_assert_msg(strcmp(buf, all) == 0 && !m6_vars_unknown(&v),
		      "an empty request list should render every variable");
	render_sys(&v, buf, sizeof(buf), " \t\r\n ");
	ck_assert_msg(strcmp(buf, all) == 0 && !m6_vars_unknown(&v),
		      "a blank request list should render every variable");
	render_sys(&v, buf, sizeof(buf), " , ,");
	ck_assert_msg(strcmp(buf, all) == 0, "a list of only commas should render everything");

	render_sys(&v, buf, sizeof(buf), "jitter,offset");
	ck_assert_msg(strcmp(buf, "offset=0.125000, jitter=0.500000") == 0,
		      "only wanted names should render, in the order added");
	ck_assert_msg(!m6_vars_unknown(&v) && v.seen == 3, "both names should be seen");

	render_sys(&v, buf, sizeof(buf), " version ,\tstratum=7,\r\nleap = 3 ");
	ck_assert_msg(strcmp(buf, "leap=0, stratum=2, version=\"horod 1\"") == 0,
		      "white space around names and =value parts should be ignored (got %s)", buf);
	ck_assert_msg(!m6_vars_unknown(&v), "every name should be known");

	render_sys(&v, buf, sizeof(buf), "offset,nosuch");
	ck_assert_msg(strcmp(buf, "offset=0.125000") == 0 && m6_vars_unknown(&v),
		      "an unknown name should be reported");
	render_sys(&v, buf, sizeof(buf), "off,stratum");
	ck_assert_msg(strcmp(buf, "stratum=2") == 0 && m6_vars_unknown(&v),
		      "a prefix of a name should not match it");
	render_sys(&v, buf, sizeof(buf), "stratums");
	ck_assert_msg(buf[0] == '\0' && m6_vars_unknown(&v),
		      "a name should not match a longer request name");
	render_sys(&v, buf, sizeof(buf), "Stratum");
	ck_assert_msg(buf[0] == '\0' && m6_vars_unknown(&v), "names should match case-sensitively");
	render_sys(&v, buf, sizeof(buf), "leap=\"a,jitter\",stratum");
	ck_assert_msg(strcmp(buf, "leap=0, stratum=2") == 0 && !m6_vars_unknown(&v),
		      "a comma inside a quoted value should not start a name");
	render_sys(&v, buf, sizeof(buf), "=x,stratum,stratum");
	ck_assert_msg(strcmp(buf, "stratum=2") == 0 && !m6_vars_unknown(&v),
		      "an entry without a name is skipped, a repeated name renders once");

	/* A name wanted but cut by overflow was added: it is not unknown. */
	render_sys(&v, buf, 12, "leap,stratum,offset");
	ck_assert_msg(v.overflow && strcmp(buf, "leap=0") == 0 && !m6_vars_unknown(&v),
		      "a variable cut by overflow should not count as unknown");
}
END_TEST

START_TEST(vars_unknown_limit)
{
	char want[1024], buf[64];
	struct m6_vars v;
	size_t pos = 0;
	int i;

	/* 63 known names then an unknown 64th: detected. */
	for (i = 0; i < 63; i++)
		pos += (size_t)snprintf(want + pos, sizeof(want) - pos, "leap,");
	snprintf(want + pos, sizeof(want) - pos, "nosuch");
	render_sys(&v, buf, sizeof(buf), want);
	ck_assert_msg(strcmp(buf, "leap=0") == 0 && m6_vars_unknown(&v),
		      "an unknown 64th name should be reported");
	snprintf(want + pos, sizeof(want) - pos, "stratum");
	render_sys(&v, buf, sizeof(buf), want);
	ck_assert_msg(v.seen == UINT64_MAX && !m6_vars_unknown(&v),
		      "64 known names should all be seen");
}
END_TEST

START_TEST(vars_quoting)
{
	char buf[128];
	struct m6_vars v;

	m6_vars_init(&v, buf, sizeof(buf), NULL, 0);
	m6_var_str(&v, "version", "horod \"1.0\" (x)");
	m6_var_str(&v, "empty", "");
	m6_var_str(&v, "null", NULL);
	ck_assert_str_eq(buf, "version=\"horod '1.0' (x)\", empty=\"\", null=\"\"");
}
END_TEST

START_TEST(fmt_ts)
{
	char out[32];

	m6_fmt_ts(0x0123456789abcdefull, out, sizeof(out));
	ck_assert_str_eq(out, "0x01234567.89abcdef");
	m6_fmt_ts(0, out, sizeof(out));
	ck_assert_str_eq(out, "0x00000000.00000000");
	m6_fmt_ts(UINT64_MAX, out, sizeof(out));
	ck_assert_str_eq(out, "0xffffffff.ffffffff");
	memset(out, 'z', sizeof(out));
	m6_fmt_ts(0x0123456789abcdefull, out, 6);
	ck_assert_msg(strcmp(out, "0x012") == 0 && out[6] == 'z',
		      "a short buffer should get a NUL-terminated prefix and nothing more");
}
END_TEST

Suite *mode6_suite(void)
{
	Suite *s = suite_create("mode6");
	TCase *t = tcase_create("core");

	tcase_add_test(t, parse_valid);
	tcase_add_test(t, parse_largest);
	tcase_add_test(t, parse_drops);
	tcase_add_test(t, parse_random);
	tcase_add_test(t, error_bytes);
	tcase_add_test(t, status_words);
	tcase_add_test(t, fragments);
	tcase_add_test(t, vars_separators);
	tcase_add_test(t, vars_line_break);
	tcase_add_test(t, vars_overflow);
	tcase_add_test(t, vars_filter);
	tcase_add_test(t, vars_unknown_limit);
	tcase_add_test(t, vars_quoting);
	tcase_add_test(t, fmt_ts);
	suite_add_tcase(s, t);
	return s;
}
