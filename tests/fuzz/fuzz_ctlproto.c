/*
 * Fuzz target for the control protocol between horoctl and horod: every
 * input is the bytes read so far from a control socket, decoded both as
 * a request (what horod reads) and as a response (what horoctl reads).
 * ctl_decode is checked against what proto/ctlproto.h promises: a
 * complete message is at least the header, within the input and the
 * type's limits, its payload right after the header; a valid prefix
 * never gets an error, so a stream reader that feeds it byte by byte
 * sees 0 (more bytes) until the same verdict as the whole input. The
 * text payload (or the raw input when nothing decodes) is walked with
 * ctl_kv_next, with roomy and tight key/value buffers, and every key it
 * finds must be found again by ctl_kv_get with the same value and come
 * back through ctl_kv_put unchanged.
 */
#include <string.h>

#include "proto/ctlproto.h"
#include "tests/fuzz/fuzz.h"

#define PREFIX_MAX   (CTL_HDR_LEN + 2) /* bytes: past the header only the length matters */
#define KV_LINES_MAX 256	       /* lines checked per input: bounded time per input */

/* ctl_decode's verdict on every prefix of BUF (LEN bytes) agrees with the whole. */
static void check_decode(const uint8_t *buf, size_t len, enum ctl_type type, struct ctl_msg *m)
{
	struct ctl_msg p;
	int whole = ctl_decode(buf, len, type, m), r;
	size_t k;

	FUZZ_ASSERT(whole >= CTL_E_LENGTH,
		    "ctl_decode should return a CTL_E_* code, 0 or a length");
	if (whole > 0) {
		FUZZ_ASSERT((size_t)whole >= CTL_HDR_LEN && (size_t)whole <= len,
			    "a message should be a header and lie within the input");
		FUZZ_ASSERT((size_t)whole == CTL_HDR_LEN + m->h.length,
			    "a message should be the header plus its payload length");
		FUZZ_ASSERT(m->payload == buf + CTL_HDR_LEN,
			    "the payload should follow the header");
		FUZZ_ASSERT(m->h.version == CTL_VERSION && m->h.type == (uint8_t)type,
			    "version and type should be checked");
		if (type == CTL_T_REQUEST)
			FUZZ_ASSERT(
				m->h.command > 0 && m->h.command < CTL_CMD_MAX &&
					m->h.status == 0 && m->h.length <= CTL_MAX_REQUEST,
				"a request should name a known command, status 0, small payload");
		else
			FUZZ_ASSERT(m->h.status < CTL_S_MAX && m->h.length <= CTL_MAX_PAYLOAD,
				    "a response should have a known status and a bounded payload");
		FUZZ_ASSERT(ctl_cmd_name(m->h.command) != NULL || type == CTL_T_RESPONSE,
			    "a request's command should have a name");
	}
	FUZZ_ASSERT(ctl_err_text(whole)[0] != '\0', "every verdict should have a text");

	/* Shorter prefixes: "need more" while valid, else the same error; never a message. */
	for (k = 0; k < len && k <= PREFIX_MAX; k++) {
		r = ctl_decode(buf, k, type, &p);
		if (whole > 0 && k >= (size_t)whole)
			FUZZ_ASSERT(r == whole, "the message should decode from any longer input");
		else if (r < 0)
			FUZZ_ASSERT(r == whole, "an error in a prefix should stay the same error");
		else
			FUZZ_ASSERT(r == 0,
				    "a prefix of a message or of an error should need more");
	}
	if (whole > 0 && (size_t)whole < len) {
		r = ctl_decode(buf, (size_t)whole, type, &p);
		FUZZ_ASSERT(r == whole, "the message alone should decode to itself");
		FUZZ_ASSERT(ctl_decode(buf, (size_t)whole - 1, type, &p) == 0,
			    "a message less its last byte should need more");
	}
}

/* The value of the first line of P (LEN bytes) with key KEY, the way kv_next reads them. */
static int first_value(const char *p, size_t len, const char *key, char *val)
{
	char k[CTL_KEY_MAX];
	size_t pos = 0;

	while (ctl_kv_next(p, len, &pos, k, sizeof(k), val, CTL_VAL_MAX) == 1)
		if (strcmp(k, key) == 0)
			return 0;
	return -1;
}

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Walk the key=value lines of P (LEN bytes). */
static void check_kv(const char *p, size_t len)
{
	char key[CTL_KEY_MAX], val[CTL_VAL_MAX], got[CTL_VAL_MAX], first[CTL_VAL_MAX];
	char tk[8], tv[8], line[CTL_KEY_MAX + CTL_VAL_MAX + 2];
	size_t pos = 0, prev, tpos, i, lpos;
	int r, lines = 0;

	while (lines++ < KV_LINES_MAX) {
		prev = pos;
		tpos = pos;
		r = ctl_kv_next(p, len, &pos, key, sizeof(key), val, sizeof(val));
		FUZZ_ASSERT(r >= -1 && r <= 1, "ctl_kv_next should return -1, 0 or 1");
		if (r == 0) {
			FUZZ_ASSERT(prev >= len, "ctl_kv_next should end only at the end");
			break;
		}
		if (r < 0) {
			FUZZ_ASSERT(pos == prev, "a malformed line should not move the position");
			break;
		}
		FUZZ_ASSERT(pos > prev && pos <= len, "a line should move the position within P");
		FUZZ_ASSERT(p[pos - 1] == '\n', "a line should end with its newline");
		FUZZ_ASSERT(key[0] != '\0', "a key should not be empty");
		for (i = 0; key[i]; i++)
			FUZZ_ASSERT(key_char(key[i]), "a key should be [a-z0-9_.]+");
		FUZZ_ASSERT(strlen(key) + 1 + strlen(val) + 1 == pos - prev,
			    "key=value and the newline should be the whole line");
		FUZZ_ASSERT(memcmp(p + prev, key, strlen(key)) == 0 && p[prev + strlen(key)] == '=',
			    "the key should be the bytes before the first '='");

		/* Tight buffers: refused, or the same line when it fits. */
		r = ctl_kv_next(p, len, &tpos, tk, sizeof(tk), tv, sizeof(tv));
		if (strlen(key) < sizeof(tk) && strlen(val) < sizeof(tv))
			FUZZ_ASSERT(r == 1 && tpos == pos && strcmp(tk, key) == 0 &&
					    strcmp(tv, val) == 0,
				    "a line that fits small buffers should read the same");
		else
			FUZZ_ASSERT(r == -1 && tpos == prev,
				    "a line too long for the buffers should be refused");

		/* ctl_kv_get finds the first line with this key. */
		FUZZ_ASSERT(first_value(p, len, key, first) == 0, "a key seen should be found");
		FUZZ_ASSERT(ctl_kv_get(p, len, key, got, sizeof(got)) == 0 &&
				    strcmp(got, first) == 0,
			    "ctl_kv_get should give the first value of a key");

		/* ctl_kv_put writes it back (control characters as '?'), and it reads the same. */
		lpos = ctl_kv_put(line, sizeof(line), 0, key, "%s", val);
		FUZZ_ASSERT(lpos == pos - prev && lpos < sizeof(line),
			    "ctl_kv_put should write key=value and a newline");
		for (i = 0; val[i]; i++)
			if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
				val[i] = '?';
		tpos = 0;
		FUZZ_ASSERT(ctl_kv_next(line, lpos, &tpos, key, sizeof(key), got, sizeof(got)) ==
					    1 &&
				    tpos == lpos && strcmp(got, val) == 0,
			    "ctl_kv_put then ctl_kv_next should give the value back");
	}
	/* Keys that may or may not be there: no crash, NUL-terminated when found. */
	if (ctl_kv_get(p, len, "synced", got, sizeof(got)) == 0)
		FUZZ_ASSERT(strlen(got) < sizeof(got), "a value should be NUL-terminated");
	if (ctl_kv_get(p, len, "stratum", tk, sizeof(tk)) == 0)
		FUZZ_ASSERT(strlen(tk) < sizeof(tk), "a value should be cut to its buffer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_msg req, resp;
	int rq, rs;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	check_decode(data, size, CTL_T_REQUEST, &req);
	check_decode(data, size, CTL_T_RESPONSE, &resp);
	rq = ctl_decode(data, size, CTL_T_REQUEST, &req);
	rs = ctl_decode(data, size, CTL_T_RESPONSE, &resp);
	FUZZ_ASSERT(rq <= 0 || rs <= 0, "one message should not be both a request and a response");
	if (rs > 0)
		check_kv((const char *)resp.payload, resp.h.length);
	else if (rq > 0)
		check_kv((const char *)req.payload, req.h.length);
	else
		check_kv((const char *)data, size);
	return 0;
}
