/*
 * Fuzz target for NTP mode 6 (proto/mode6.h): every input is one
 * datagram from a control-allowed address. m6_parse must accept exactly
 * what the header says it accepts and describe the packet truthfully.
 * A request it accepts is answered the way daemon/control/m6srv.c answers it,
 * with a fixed set of variables instead of the clock's: READSTAT of
 * association 0 gets an association list, READSTAT of another
 * association and READVAR get a variable list rendered with the request
 * data as the wanted names (m6_vars_init, m6_var, m6_var_str,
 * m6_vars_unknown), writes get M6_ERR_PERMISSION and other opcodes
 * M6_ERR_BADOP (m6_error). Every text is cut by m6_respond, and its emit
 * callback checks each fragment: at most M6_PKT_MAX bytes, a multiple of
 * 4, the request's version, opcode, sequence and association echoed,
 * offsets counting up, the M bit on all but the last, and the fragments'
 * data put back together equal to the text. The rendering is also done
 * into a small buffer (its size taken from the sequence number) to drive
 * the overflow path.
 */
#include <string.h>

#include "proto/mode6.h"
#include "tests/fuzz/fuzz.h"

#define BIT_R	  0x80 /* byte 1: response */
#define BIT_E	  0x40 /* byte 1: error */
#define BIT_M	  0x20 /* byte 1: more fragments follow */
#define TEXT_LINE 72   /* characters per line of a variable list (proto/mode6.h) */
#define N_ASSOC	  3    /* associations in the fake association list */
#define SMALL_CAP 256  /* bytes: largest small rendering buffer tried */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What the emit callback checks against and puts back together. */
struct reassembly {
	const struct m6_request *rq;
	uint16_t status;
	uint8_t text[M6_TEXT_MAX];
	size_t len;    /* data bytes received so far */
	size_t frags;  /* fragments received */
	int last_seen; /* a fragment without the M bit arrived */
};

static void emit(void *arg, const uint8_t *pkt, size_t len)
{
	static const uint8_t zero[4];
	struct reassembly *r = arg;
	size_t count;

	FUZZ_ASSERT(len >= M6_HEADER_LEN && len <= M6_PKT_MAX, "a fragment should fit M6_PKT_MAX");
	FUZZ_ASSERT(len % 4 == 0, "a fragment should be padded to 32 bits");
	FUZZ_ASSERT(!r->last_seen, "nothing should follow the fragment without the M bit");
	FUZZ_ASSERT((pkt[0] & 7) == 6 && ((pkt[0] >> 3) & 7) == r->rq->version,
		    "a fragment should be mode 6 with the request's VN");
	FUZZ_ASSERT((pkt[1] & BIT_R) && !(pkt[1] & BIT_E) && (pkt[1] & 0x1f) == r->rq->opcode,
		    "a fragment should be a response, not an error, with the request's opcode");
	FUZZ_ASSERT(be16(pkt + 2) == r->rq->sequence && be16(pkt + 4) == r->status &&
			    be16(pkt + 6) == r->rq->assoc,
		    "sequence, status and association should be echoed");
	FUZZ_ASSERT(be16(pkt + 8) == r->len, "offsets should count up the data sent");
	count = be16(pkt + 10);
	FUZZ_ASSERT(count <= M6_DATA_MAX && M6_HEADER_LEN + count <= len &&
			    len - M6_HEADER_LEN - count < 4,
		    "count should be the data bytes, padded by less than 4");
	FUZZ_ASSERT(memcmp(pkt + M6_HEADER_LEN + count, zero, len - M6_HEADER_LEN - count) == 0,
		    "padding should be zero");
	FUZZ_ASSERT(r->len + count <= sizeof(r->text), "the data should not pass M6_TEXT_MAX");
	memcpy(r->text + r->len, pkt + M6_HEADER_LEN, count);
	r->len += count;
	r->frags++;
	if (!(pkt[1] & BIT_M))
		r->last_seen = 1;
	else
		FUZZ_ASSERT(count == M6_DATA_MAX, "only the last fragment should be short");
}

/* Cut TEXT (LEN bytes) for RQ and check the fragments put back together. */
static void respond(const struct m6_request *rq, uint16_t status, const uint8_t *text, size_t len)
{
	static struct reassembly r;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.rq = rq;
	r.status = status;
	n = m6_respond(rq, status, text, len, emit, &r);
	FUZZ_ASSERT(n == r.frags && n >= 1 && n <= M6_FRAG_MAX,
		    "m6_respond should return the fragments it emitted, 1..M6_FRAG_MAX");
	FUZZ_ASSERT(r.last_seen, "the last fragment should have no M bit");
	FUZZ_ASSERT(r.len == len && memcmp(r.text, text, len) == 0,
		    "the fragments should carry the text");
}

/* The documented acceptance of m6_parse. */
static int model_parse(const uint8_t *pkt, size_t len)
{
	unsigned vn;

	if (len < M6_HEADER_LEN || (pkt[0] & 7) != 6)
		return -1;
	vn = (pkt[0] >> 3) & 7;
	if (vn < 1 || vn > 4 || (pkt[1] & BIT_R) || (pkt[1] & BIT_M) || be16(pkt + 8) != 0)
		return -1;
	if (be16(pkt + 10) > len - M6_HEADER_LEN)
		return -1;
	return 0;
}

/* An error response to RQ with ERR. */
static void check_error(const struct m6_request *rq, enum m6_err err)
{
	uint8_t out[M6_HEADER_LEN];
	size_t n = m6_error(rq, err, out);

	FUZZ_ASSERT(n == M6_HEADER_LEN, "an error should be a bare header");
	FUZZ_ASSERT((out[0] & 7) == 6 && ((out[0] >> 3) & 7) == rq->version,
		    "an error should be mode 6 with the request's VN");
	FUZZ_ASSERT((out[1] & BIT_R) && (out[1] & BIT_E) && !(out[1] & BIT_M) &&
			    (out[1] & 0x1f) == rq->opcode,
		    "an error should have R and E, not M, and the request's opcode");
	FUZZ_ASSERT(be16(out + 2) == rq->sequence && be16(out + 6) == rq->assoc,
		    "an error should echo sequence and association");
	FUZZ_ASSERT(out[4] == (uint8_t)err && be16(out + 8) == 0 && be16(out + 10) == 0,
		    "an error should carry its code in the status's high byte, no data");
}

/* Render the fake variables into V, as m6srv.c's system_vars does with the clock's. */
static void render(struct m6_vars *v, uint16_t seq)
{
	char ts[32];

	m6_var_str(v, "version", "horod 0.1.0 \"fuzz\"");
	m6_var_str(v, "system", "Linux");
	m6_var(v, "leap", "%d", seq & 3);
	m6_var(v, "stratum", "%d", seq % 17);
	m6_var(v, "precision", "%d", -20);
	m6_var(v, "rootdelay", "%.6f", seq * 0.001);
	m6_var(v, "rootdisp", "%.6f", 1.5);
	m6_var(v, "refid", "%s", "127.0.0.2");
	m6_fmt_ts(0xE9A1B2C312345678ULL, ts, sizeof(ts));
	m6_var(v, "reftime", "%s", ts);
	m6_var(v, "clock", "%s", ts);
	m6_var(v, "peer", "%d", 1);
	m6_var(v, "tc", "%d", 6);
	m6_var(v, "offset", "%.6f", -0.123456);
	m6_var(v, "frequency", "%.6f", 12.5);
	m6_var(v, "sys_jitter", "%.6f", 0.01);
	m6_var(v, "filtdelay", "%s", "0.019 0.020 0.021 0.022 0.023 0.024 0.025 0.026");
	m6_var(v, "filtoffset", "%s", "-0.133 -0.134 -0.135 -0.136 -0.137 -0.138 -0.139 -0.14");
	m6_var_str(v, "srchost", "a.long.host.name.that.passes.the.line.limit.example.org");
}

/* The rendered list in V: within its buffer, NUL-terminated, lines cut before 72. */
static void check_vars(const struct m6_vars *v, const struct m6_request *rq)
{
	const char *s, *eol;

	FUZZ_ASSERT(v->cap == 0 ||
			    (v->len < v->cap && v->buf[v->len] == '\0' && strlen(v->buf) == v->len),
		    "the rendered text should be NUL-terminated within its buffer");
	if (!v->cap)
		return;
	for (s = v->buf; *s; s = eol + 2) {
		size_t n;

		eol = strstr(s, "\r\n");
		if (!eol)
			eol = s + strlen(s);
		n = (size_t)(eol - s);
		if (n && s[n - 1] == ',')
			n--;
		/* A line longer than the limit holds one item (no value here has ", "). */
		FUZZ_ASSERT(n <= TEXT_LINE || !memmem(s, n, ", ", 2),
			    "a line should be cut before it passes 72 characters");
		if (!*eol)
			break;
	}
	/* Every rendered name was asked for (when a list was given). */
	if (v->want) {
		for (s = v->buf; *s;) {
			size_t n = strcspn(s, "=");

			FUZZ_ASSERT(memmem(rq->data, rq->data_len, s, n) != NULL,
				    "only wanted variables should be rendered");
			s += n;
			s += strcspn(s, ",");
			s += strspn(s, ", \r\n");
		}
	}
}

/* The association list of READSTAT on association 0: (id, status) pairs. */
static size_t assoc_list(uint8_t *text)
{
	size_t p = 0;
	unsigned i;

	for (i = 0; i < N_ASSOC; i++) {
		uint16_t st = m6_peer_status(M6_PST_CONFIG | M6_PST_REACH, i + 4, i, i);

		FUZZ_ASSERT((st >> 11) == (M6_PST_CONFIG | M6_PST_REACH) &&
				    ((st >> 8) & 7) == i + 4,
			    "the peer status word should carry its bits and selection");
		text[p++] = 0;
		text[p++] = (uint8_t)(i + 1);
		text[p++] = (uint8_t)(st >> 8);
		text[p++] = (uint8_t)st;
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[M6_TEXT_MAX + 1];
	char small[SMALL_CAP];
	struct m6_request rq;
	struct m6_vars v;
	uint16_t status;
	size_t cap;
	int r;

	memset(&rq, 0, sizeof(rq));
	r = m6_parse(data, size, &rq);
	FUZZ_ASSERT(r == model_parse(data, size), "m6_parse should accept what mode6.h says");
	if (r < 0)
		return 0;
	FUZZ_ASSERT(rq.version == ((data[0] >> 3) & 7) && rq.opcode == (data[1] & 0x1f) &&
			    rq.sequence == be16(data + 2) && rq.assoc == be16(data + 6),
		    "the request should be described as sent");
	FUZZ_ASSERT(rq.data == data + M6_HEADER_LEN && rq.data_len == be16(data + 10) &&
			    M6_HEADER_LEN + rq.data_len <= size,
		    "the data should be the count bytes after the header");
	FUZZ_ASSERT(rq.has_mac == (size - M6_HEADER_LEN > ((rq.data_len + 3) & ~(size_t)3)),
		    "has_mac should say whether bytes follow the padded data");

	status = m6_sys_status(rq.sequence & 3, 6, rq.sequence >> 4, rq.sequence);
	FUZZ_ASSERT((status >> 14) == (rq.sequence & 3) && ((status >> 8) & 0x3f) == 6,
		    "the system status word should carry leap and source");
	switch (rq.opcode) {
	case M6_OP_READSTAT:
		if (rq.assoc == 0) {
			respond(&rq, status, (const uint8_t *)text, assoc_list((uint8_t *)text));
			break;
		}
		__attribute__((fallthrough));
	case M6_OP_READVAR:
		m6_vars_init(&v, text, M6_TEXT_MAX, rq.data, rq.data_len);
		render(&v, rq.sequence);
		check_vars(&v, &rq);
		FUZZ_ASSERT(!v.overflow, "the fake variables should fit M6_TEXT_MAX");
		if (m6_vars_unknown(&v))
			check_error(&rq, M6_ERR_UNKNOWNVAR);
		else
			respond(&rq, status, (const uint8_t *)text, v.len);
		/* Again into a small buffer: cut at an item boundary, never past the buffer. */
		cap = rq.sequence % SMALL_CAP;
		memset(small, 'Z', sizeof(small));
		m6_vars_init(&v, cap ? small : NULL, cap, rq.data, rq.data_len);
		render(&v, rq.sequence);
		check_vars(&v, &rq);
		FUZZ_ASSERT(cap == 0 || small[cap] == 'Z',
			    "rendering should not write past its buffer");
		break;
	case M6_OP_WRITEVAR:
	case M6_OP_WRITECLOCK:
		check_error(&rq, M6_ERR_PERMISSION);
		break;
	default:
		check_error(&rq, M6_ERR_BADOP);
		break;
	}
	/* A text over M6_TEXT_MAX is refused whole. */
	FUZZ_ASSERT(m6_respond(&rq, 0, (const uint8_t *)text, M6_TEXT_MAX + 1, emit, NULL) == 0,
		    "a text over M6_TEXT_MAX should not be sent");
	return 0;
}
