/*
 * Fuzz target for `horoctl check` (ctl/check.c): the replies come from
 * any server on the network, and what the command does with them is
 * ntp_decode, ntpchk_analyze and the text and JSON reports. An input is
 * one run of up to NTPCHK_MAX_SAMPLES requests:
 *
 *   byte 0        low 4 bits: requests - 1
 *   bytes 1..8    our transmit time of the first request (NTP timestamp,
 *                 big-endian); the next ones follow 0.2 s apart as in
 *                 check.c
 *   then per request, while bytes last:
 *     1 byte      what check.c knows (NTPCHK_F_* in the low 4 bits)
 *     4 bytes     receive time minus transmit time, signed, in units of
 *                 2^-24 s (+-128 s: our clock may step between the two)
 *     48 bytes    the reply as received (decoded with ntp_decode)
 *   a request whose bytes run out got no reply (NTPCHK_F_NOREPLY).
 *
 * Checked: the result is consistent (counts, exit code, verdicts), every
 * text field is NUL-terminated, the renderers return the length they
 * need and write a NUL-terminated prefix into a short buffer, and the
 * JSON report is one valid JSON object (no NaN or infinity, every string
 * escaped) whatever the server sent.
 */
#include <string.h>

#include "proto/ntp.h"
#include "proto/ntpcheck.h"
#include "tests/fuzz/fuzz.h"

#define LOCAL_PREC (-20)		    /* log2 s: what check.c passes (CHECK_LOCAL_PREC) */
#define SPACING	   858993459ULL		    /* NTP units: 0.2 s between requests, as check.c */
#define SAMPLE_LEN (1 + 4 + NTP_HEADER_LEN) /* input bytes per request */
#define OUT_LEN	   16384		    /* bytes: check.c's report buffer (CHECK_OUT_LEN) */
#define SHORT_LEN  100			    /* bytes: a buffer too short for any report */
#define JSON_DEPTH 8			    /* nesting the report uses at most (3) with margin */
#define SERVER	   "[2001:db8::1]:123"	    /* the label check.c makes with getnameinfo */

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- a strict JSON syntax check (RFC 8259) ---- */

static const char *json_value(const char *s, int depth);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*s++;

		if (c == '"')
			return s;
		if (c < 0x20)
			return NULL; /* the end of the buffer, or a raw control character */
		if (c != '\\')
			continue;
		c = (unsigned char)*s++;
		if (c == 'u') {
			if (!is_hex(s[0]) || !is_hex(s[1]) || !is_hex(s[2]) || !is_hex(s[3]))
				return NULL;
			s += 4;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return NULL;
		}
	}
}

static const char *json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (is_digit(*s))
			s++;
	else
		return NULL;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return NULL;
		while (is_digit(*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_digit(*s))
			return NULL;
		while (is_digit(*s))
			s++;
	}
	return s;
}

/* Members (OBJ) or elements of a container opened just before S, up to CLOSE. */
static const char *json_items(const char *s, int depth, int obj, char close)
{
	s = json_ws(s);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (obj) {
			s = json_string(json_ws(s));
			if (!s)
				return NULL;
			s = json_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		s = json_value(s, depth + 1);
		if (!s)
			return NULL;
		s = json_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *s, int depth)
{
	if (depth > JSON_DEPTH)
		return NULL;
	s = json_ws(s);
	switch (*s) {
	case '{':
		return json_items(s + 1, depth, 1, '}');
	case '[':
		return json_items(s + 1, depth, 0, ']');
	case '"':
		return json_string(s);
	case 't':
		return strncmp(s, "true", 4) == 0 ? s + 4 : NULL;
	case 'f':
		return strncmp(s, "false", 5) == 0 ? s + 5 : NULL;
	case 'n':
		return strncmp(s, "null", 4) == 0 ? s + 4 : NULL;
	default:
		return json_number(s);
	}
}

/* ---- the run ---- */

/* Fill S from DATA (SIZE bytes) as the top of this file describes; returns the request count. */
static int load(const uint8_t *data, size_t size, struct ntpchk_sample *s)
{
	uint64_t t1;
	size_t off;
	int n, i;

	memset(s, 0, sizeof(*s) * NTPCHK_MAX_SAMPLES);
	if (size < 9)
		return 0;
	n = (data[0] & 0xf) + 1;
	t1 = be64(data + 1);
	for (i = 0, off = 9; i < n; i++, off += SAMPLE_LEN) {
		int32_t dt;

		s[i].t1 = t1 + (uint64_t)i * SPACING;
		s[i].flags = NTPCHK_F_NOREPLY;
		if (off > size || size - off < SAMPLE_LEN)
			continue;
		dt = (int32_t)((uint32_t)data[off + 1] << 24 | (uint32_t)data[off + 2] << 16 |
			       (uint32_t)data[off + 3] << 8 | data[off + 4]);
		s[i].t4 = s[i].t1 + (uint64_t)((int64_t)dt * 256);
		if (ntp_decode(data + off + 5, NTP_HEADER_LEN, &s[i].pkt) < 0)
			continue;
		s[i].flags = data[off] & 0xf;
	}
	return n;
}

static void check_result(const struct ntpchk_result *r, int n)
{
	int c, all = 1, i;

	FUZZ_ASSERT(r->sent == n && r->answered >= 0 && r->answered <= r->sent && r->valid >= 0 &&
			    r->valid <= r->answered,
		    "valid <= answered <= sent should hold");
	FUZZ_ASSERT(r->exit_code >= 0 && r->exit_code <= 2, "the exit code should be 0, 1 or 2");
	FUZZ_ASSERT((r->exit_code == 2) == (r->answered == 0),
		    "exit 2 should mean no reply at all, and only that");
	FUZZ_ASSERT(memchr(r->kod_code, '\0', sizeof(r->kod_code)) &&
			    memchr(r->refid_text, '\0', sizeof(r->refid_text)),
		    "the KoD code and refid text should be NUL-terminated");
	FUZZ_ASSERT(r->nadvice >= 0 && r->nadvice <= NTPCHK_ADVICE, "advice should fit its array");
	for (i = 0; i < r->nadvice; i++)
		FUZZ_ASSERT(memchr(r->advice[i], '\0', NTPCHK_TEXT), "advice should be terminated");
	for (c = 0; c < NTPCHK_NCLIENTS; c++) {
		const struct ntpchk_verdict *v = &r->v[c];

		FUZZ_ASSERT(memchr(v->why, '\0', NTPCHK_TEXT) && memchr(v->fix, '\0', NTPCHK_TEXT),
			    "verdict texts should be NUL-terminated");
		FUZZ_ASSERT(v->accept == 0 || v->accept == 1, "accept should be 0 or 1");
		FUZZ_ASSERT(!v->accept || (r->valid > 0 && v->flash == 0),
			    "a client should only accept usable replies, with no flash bit");
		FUZZ_ASSERT(v->accept || v->flash || !r->valid,
			    "a rejection of usable replies should name its flash bit");
		all &= v->accept;
	}
	if (r->answered)
		FUZZ_ASSERT((r->exit_code == 0) == all, "exit 0 should mean accepted by all");
}

/* A renderer's output: full into a big buffer, a NUL-terminated prefix into a short one. */
static void check_render(const struct ntpchk_result *r, int json)
{
	static char out[OUT_LEN];
	char small[SHORT_LEN + 1];
	size_t need, again;
	const char *end;

	need = json ? ntpchk_format_json(r, SERVER, out, sizeof(out))
		    : ntpchk_format_text(r, SERVER, out, sizeof(out));
	FUZZ_ASSERT(need < sizeof(out), "a report should fit check.c's buffer");
	FUZZ_ASSERT(strlen(out) == need, "a renderer should return the length it wrote");
	memset(small, 'Z', sizeof(small));
	again = json ? ntpchk_format_json(r, SERVER, small, SHORT_LEN)
		     : ntpchk_format_text(r, SERVER, small, SHORT_LEN);
	FUZZ_ASSERT(again == need, "a short buffer should get the full length back");
	FUZZ_ASSERT(small[SHORT_LEN] == 'Z', "a renderer should not write past its buffer");
	if (need >= SHORT_LEN)
		FUZZ_ASSERT(small[SHORT_LEN - 1] == '\0' && memcmp(small, out, SHORT_LEN - 1) == 0,
			    "a short buffer should get a NUL-terminated prefix");
	if (json) {
		end = json_value(out, 0);
		if (!end || *json_ws(end) != '\0' || out[0] != '{')
			fprintf(stderr, "bad JSON:\n%s\n", out);
		FUZZ_ASSERT(end && *json_ws(end) == '\0' && out[0] == '{',
			    "the JSON report should be one valid JSON object");
	} else {
		FUZZ_ASSERT(need > 0 && out[need - 1] == '\n', "the text report should end a line");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntpchk_sample s[NTPCHK_MAX_SAMPLES];
	static struct ntpchk_result r;
	char flash[64];
	int n, code;

	n = load(data, size, s);
	if (n == 0)
		return 0;
	code = ntpchk_analyze(s, n, LOCAL_PREC, &r);
	FUZZ_ASSERT(code == r.exit_code, "ntpchk_analyze should return the exit code");
	check_result(&r, n);
	check_render(&r, 0);
	check_render(&r, 1);
	ntpchk_flash_format(r.flash, flash, sizeof(flash));
	FUZZ_ASSERT(strlen(flash) < sizeof(flash), "the flash list should fit its buffer");
	return 0;
}
