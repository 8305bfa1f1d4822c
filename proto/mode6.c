/*
 * NTP mode 6 control messages, read-only (see mode6.h): a request parser
 * that treats every byte as hostile, the error response, the status
 * words, the fragmenter that cuts a response text into packets ntpq
 * reassembles, and the `name=value, ...` variable list renderer with
 * ntpq's 72-character lines and READVAR request-list filtering.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/appendf.h"
#include "proto/byteorder.h"
#include "proto/mode6.h"

#define M6_MODE	     6	  /* NTP mode of control messages (RFC 1305 appendix B) */
#define M6_VN_MIN    1	  /* lowest request VN answered: the response echoes it, ntpq takes 1..4 */
#define M6_VN_MAX    4	  /* highest request VN answered (RFC 5905 is version 4) */
#define M6_BIT_R     0x80 /* byte 1: response */
#define M6_BIT_E     0x40 /* byte 1: error */
#define M6_BIT_M     0x20 /* byte 1: more fragments follow */
#define M6_OP_MASK   0x1f /* byte 1: the five opcode bits */
#define M6_LINE_MAX  72	  /* characters per text line before ",\r\n": what ntpd sends */
#define M6_SEEN_BITS 64	  /* request-list names tracked for m6_vars_unknown(): bits of `seen` */

/* Bytes of N rounded up to a 32-bit boundary. */
static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int m6_parse(const uint8_t *pkt, size_t len, struct m6_request *rq)
{
	struct m6_request r;
	unsigned vn;
	size_t count;

	if (!pkt || !rq)
		return -1;
	if (len < M6_HEADER_LEN)
		return -1;
	if ((pkt[0] & 7) != M6_MODE)
		return -1;
	vn = (pkt[0] >> 3) & 7;
	if (vn < M6_VN_MIN || vn > M6_VN_MAX)
		return -1;
	if (pkt[1] & M6_BIT_R)
		return -1;
	if ((pkt[1] & M6_BIT_M) || be_get16(pkt + 8) != 0)
		return -1;
	count = be_get16(pkt + 10);
	if (count > len - M6_HEADER_LEN)
		return -1;

	r.version = (uint8_t)vn;
	r.opcode = pkt[1] & M6_OP_MASK;
	r.sequence = be_get16(pkt + 2);
	r.assoc = be_get16(pkt + 6);
	r.data = pkt + M6_HEADER_LEN;
	r.data_len = count;
	r.has_mac = len - M6_HEADER_LEN > pad4(count);
	*rq = r;
	return 0;
}

/* Write the response header for RQ into OUT. */
static void put_header(const struct m6_request *rq, uint8_t flags, uint16_t status, size_t offset,
		       size_t count, uint8_t *out)
{
	out[0] = (uint8_t)((rq->version & 7) << 3 | M6_MODE); /* LI 0 */
	out[1] = (uint8_t)(M6_BIT_R | flags | (rq->opcode & M6_OP_MASK));
	be_put16(out + 2, rq->sequence);
	be_put16(out + 4, status);
	be_put16(out + 6, rq->assoc);
	be_put16(out + 8, (uint16_t)offset);
	be_put16(out + 10, (uint16_t)count);
}

size_t m6_error(const struct m6_request *rq, enum m6_err err, uint8_t *out)
{
	/* ntpq reads the code as (status >> 8) & 0xff. */
	put_header(rq, M6_BIT_E, (uint16_t)(((unsigned)err & 0xff) << 8), 0, 0, out);
	return M6_HEADER_LEN;
}

size_t m6_respond(const struct m6_request *rq, uint16_t status, const uint8_t *text, size_t len,
		  void (*emit)(void *arg, const uint8_t *pkt, size_t len), void *arg)
{
	uint8_t pkt[M6_PKT_MAX];
	size_t off = 0, n_frags = 0;

	if (!rq || !emit || len > M6_TEXT_MAX || (len && !text))
		return 0;
	do {
		size_t n = len - off < M6_DATA_MAX ? len - off : M6_DATA_MAX;
		size_t padded = pad4(n);
		int more = off + n < len;

		put_header(rq, more ? M6_BIT_M : 0, status, off, n, pkt);
		if (n)
			memcpy(pkt + M6_HEADER_LEN, text + off, n);
		memset(pkt + M6_HEADER_LEN + n, 0, padded - n);
		emit(arg, pkt, M6_HEADER_LEN + padded);
		off += n;
		n_frags++;
	} while (off < len);
	return n_frags;
}

uint16_t m6_sys_status(unsigned leap, unsigned source, unsigned count, unsigned event)
{
	return (uint16_t)((leap & 3) << 14 | (source & 0x3f) << 8 | (count & 0xf) << 4 |
			  (event & 0xf));
}

uint16_t m6_peer_status(unsigned bits, unsigned sel, unsigned count, unsigned event)
{
	return (uint16_t)((bits & 0x1f) << 11 | (sel & 7) << 8 | (count & 0xf) << 4 |
			  (event & 0xf));
}

/* White space allowed around request-list names. */
static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Find the next name of the request list P..END from *POS: skip commas
 * and white space, take the name up to a comma, '=' or white space, then
 * skip a `=value` part (double quotes may hide commas in it); an entry
 * with no name ("=x") is skipped. Returns 1 with NAME/NAME_LEN set, 0
 * when the list holds no more names.
 */
static int next_name(const uint8_t *p, size_t end, size_t *pos, const uint8_t **name,
		     size_t *name_len)
{
	size_t i = *pos, start;
	int quoted;

	for (;;) {
		while (i < end && (p[i] == ',' || is_space(p[i])))
			i++;
		if (i >= end) {
			*pos = end;
			return 0;
		}
		start = i;
		while (i < end && p[i] != ',' && p[i] != '=' && !is_space(p[i]))
			i++;
		*name = p + start;
		*name_len = i - start;
		/* Skip to the comma that ends this entry, passing over the value. */
		quoted = 0;
		while (i < end && (quoted || p[i] != ',')) {
			if (p[i] == '"')
				quoted = !quoted;
			i++;
		}
		if (*name_len) {
			*pos = i;
			return 1;
		}
	}
}

void m6_vars_init(struct m6_vars *v, char *buf, size_t cap, const uint8_t *want, size_t want_len)
{
	const uint8_t *name;
	size_t pos = 0, name_len;

	v->buf = buf;
	v->cap = buf ? cap : 0;
	v->len = 0;
	v->line = 0;
	v->overflow = 0;
	v->seen = 0;
	/* A list without a single name (empty, blanks, commas) asks for everything. */
	if (want && next_name(want, want_len, &pos, &name, &name_len)) {
		v->want = want;
		v->want_len = want_len;
	} else {
		v->want = NULL;
		v->want_len = 0;
	}
	if (v->cap)
		v->buf[0] = '\0';
}

/* 1 when NAME is wanted (marking it seen), 0 when the request list leaves it out. */
static int wanted(struct m6_vars *v, const char *name)
{
	const uint8_t *w;
	size_t pos = 0, w_len, len = strlen(name);
	unsigned idx = 0;
	int hit = 0;

	if (!v->want)
		return 1;
	while (next_name(v->want, v->want_len, &pos, &w, &w_len)) {
		if (w_len == len && memcmp(w, name, len) == 0) {
			hit = 1;
			if (idx < M6_SEEN_BITS)
				v->seen |= (uint64_t)1 << idx;
		}
		idx++;
	}
	return hit;
}

/*
 * Make room for an item of ITEM_LEN characters: pick the separator, check
 * that separator, item and NUL fit, write the separator. Returns where the
 * item goes, or NULL (overflow set) when it does not fit.
 */
static char *reserve(struct m6_vars *v, size_t item_len)
{
	const char *sep = "";
	size_t sep_len = 0;

	if (v->overflow)
		return NULL;
	if (v->len) {
		if (v->line + 2 + item_len > M6_LINE_MAX)
			sep = ",\r\n";
		else
			sep = ", ";
		sep_len = strlen(sep);
	}
	if (v->cap == 0 || sep_len + item_len > v->cap - 1 - v->len) {
		v->overflow = 1;
		return NULL;
	}
	memcpy(v->buf + v->len, sep, sep_len);
	v->len += sep_len;
	v->line = sep_len == 3 ? item_len : v->line + sep_len + item_len;
	return v->buf + v->len;
}

void m6_var(struct m6_vars *v, const char *name, const char *fmt, ...)
{
	va_list ap, ap2;
	size_t item_len, end;

	if (!wanted(v, name))
		return;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	item_len = strlen(name) + 1 + ntp_vappendf(NULL, 0, 0, fmt, ap);
	if (reserve(v, item_len)) {
		/* reserve() made room for the measured length, so nothing is cut here. */
		end = ntp_appendf(v->buf, v->cap, v->len, "%s=", name);
		v->len = ntp_vappendf(v->buf, v->cap, end, fmt, ap2);
	}
	va_end(ap2);
	va_end(ap);
}

void m6_var_str(struct m6_vars *v, const char *name, const char *value)
{
	size_t name_len, value_len, i;
	char *at;

	if (!value)
		value = "";
	if (!wanted(v, name))
		return;
	name_len = strlen(name);
	value_len = strlen(value);
	at = reserve(v, name_len + 3 + value_len);
	if (!at)
		return;
	memcpy(at, name, name_len);
	at += name_len;
	*at++ = '=';
	*at++ = '"';
	for (i = 0; i < value_len; i++)
		*at++ = value[i] == '"' ? '\'' : value[i];
	*at++ = '"';
	*at = '\0';
	v->len += name_len + 3 + value_len;
}

int m6_vars_unknown(const struct m6_vars *v)
{
	const uint8_t *w;
	size_t pos = 0, w_len;
	unsigned idx = 0;

	if (!v->want)
		return 0;
	while (idx < M6_SEEN_BITS && next_name(v->want, v->want_len, &pos, &w, &w_len)) {
		if (!(v->seen & (uint64_t)1 << idx))
			return 1;
		idx++;
	}
	return 0;
}

void m6_fmt_ts(uint64_t ts, char *out, size_t len)
{
	if (!out || !len)
		return;
	snprintf(out, len, "0x%08x.%08x", (unsigned)(ts >> 32), (unsigned)(ts & 0xffffffffu));
}
