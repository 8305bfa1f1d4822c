/*
 * NTS-KE records (ntske.h): one reader walks the records of a message
 * with bounds checks; the server's request check and the client's answer
 * check are ladders over it that stop at the first thing the RFC calls
 * an error; the writers append records to a bounded buffer and give up
 * (return 0) rather than write past it.
 */
#include <string.h>

#include "proto/ntske.h"
#include "proto/byteorder.h"

#define NKE_TYPE_MASK 0x7fff /* the record type without the critical bit */

/* One record of a message. */
struct nke_record {
	unsigned int type; /* without the critical bit */
	int critical;
	const uint8_t *body;
	size_t len;
};

/*
 * The record of MSG (LEN bytes) at *POS into R, *POS moved past it:
 * 1, or 0 at the end of the bytes, or -1 when the record runs past them.
 */
static int rec_next(const uint8_t *msg, size_t len, size_t *pos, struct nke_record *r)
{
	size_t blen;

	if (*pos >= len)
		return 0;
	if (len - *pos < NKE_REC_HLEN)
		return -1;
	blen = be_get16(msg + *pos + 2);
	if (len - *pos - NKE_REC_HLEN < blen)
		return -1;
	r->type = be_get16(msg + *pos) & NKE_TYPE_MASK;
	r->critical = (be_get16(msg + *pos) & NKE_CRITICAL) != 0;
	r->body = msg + *pos + NKE_REC_HLEN;
	r->len = blen;
	*pos += NKE_REC_HLEN + blen;
	return 1;
}

const char *nke_error_name(int e)
{
	switch (e) {
	case NKE_ERR_UNRECOGNIZED_CRITICAL:
		return "unrecognized critical record";
	case NKE_ERR_BAD_REQUEST:
		return "bad request";
	case NKE_ERR_INTERNAL:
		return "internal server error";
	default:
		return "unassigned error";
	}
}

const char *nke_aead_name(int a)
{
	switch (a) {
	case NKE_AEAD_AES_SIV_CMAC_256:
		return "AES-SIV-CMAC-256";
	case 16:
		return "AES-SIV-CMAC-384";
	case 17:
		return "AES-SIV-CMAC-512";
	case 30:
		return "AES-128-GCM-SIV";
	default:
		return "unknown";
	}
}

long nke_msg_length(const uint8_t *buf, size_t len)
{
	size_t pos = 0;

	for (;;) {
		struct nke_record r;
		size_t at = pos;
		int got = rec_next(buf, len, &pos, &r);

		if (got == 1 && r.type == NKE_REC_END)
			return pos <= NKE_MSG_MAX ? (long)pos : -1;
		if (got == 1)
			continue;
		/* Incomplete: it can still end within the limit, or it cannot. */
		if (got == -1 && len - at >= NKE_REC_HLEN)
			return at + NKE_REC_HLEN + be_get16(buf + at + 2) > NKE_MSG_MAX ? -1 : 0;
		return at + NKE_REC_HLEN > NKE_MSG_MAX ? -1 : 0;
	}
}

void nke_parse_request(const uint8_t *msg, size_t len, struct nke_request *r)
{
	int np_records = 0, np_values = 0, aead_records = 0, aead_values = 0, got;
	struct nke_record rec;
	size_t pos = 0, i;

	memset(r, 0, sizeof(*r));
	r->error = -1;
	r->aead = -1;
	while (r->error < 0 && (got = rec_next(msg, len, &pos, &rec)) == 1) {
		if (rec.type == NKE_REC_END)
			break;
		switch (rec.type) {
		case NKE_REC_NEXT_PROTOCOL:
			/* Critical, at least one 16-bit protocol id. */
			if (!rec.critical || rec.len < 2 || rec.len % 2) {
				r->error = NKE_ERR_BAD_REQUEST;
				break;
			}
			np_records++;
			for (i = 0; i < rec.len; i += 2, np_values++)
				if (be_get16(rec.body + i) == NKE_PROTO_NTPV4)
					r->ntpv4 = 1;
			break;
		case NKE_REC_AEAD:
			if (rec.len < 2 || rec.len % 2) {
				r->error = NKE_ERR_BAD_REQUEST;
				break;
			}
			aead_records++;
			for (i = 0; i < rec.len; i += 2, aead_values++)
				if (r->aead < 0 &&
				    be_get16(rec.body + i) == NKE_AEAD_AES_SIV_CMAC_256)
					r->aead = NKE_AEAD_AES_SIV_CMAC_256;
			break;
		case NKE_REC_ERROR:
		case NKE_REC_WARNING:
		case NKE_REC_COOKIE:
			/* Only servers send these. */
			r->error = NKE_ERR_BAD_REQUEST;
			break;
		case NKE_REC_SERVER:
			/* A preference; kept for the log when it is a plain name. */
			if (rec.len >= 1 && rec.len <= NKE_SERVER_MAX) {
				memcpy(r->server, rec.body, rec.len);
				r->server[rec.len] = '\0';
				for (i = 0; i < rec.len; i++)
					if (rec.body[i] < 0x21 || rec.body[i] > 0x7e)
						r->server[0] = '\0';
			}
			break;
		case NKE_REC_PORT:
			if (rec.len != 2) {
				r->error = NKE_ERR_BAD_REQUEST;
				break;
			}
			r->port = be_get16(rec.body);
			break;
		default:
			if (rec.critical)
				r->error = NKE_ERR_UNRECOGNIZED_CRITICAL;
			break;
		}
	}
	if (r->error >= 0)
		return;
	if (got != 1 || rec.type != NKE_REC_END) {
		/* No End of Message: not a request we can answer (the caller waits for one). */
		r->error = NKE_ERR_BAD_REQUEST;
		return;
	}
	if (np_records != 1 || np_values < 1 ||
	    (r->ntpv4 && (aead_records != 1 || aead_values < 1)))
		r->error = NKE_ERR_BAD_REQUEST;
}

/* An appending writer that stops at its capacity. */
struct nke_out {
	uint8_t *buf;
	size_t cap, len;
	int full; /* something did not fit */
};

static void put_rec(struct nke_out *o, int critical, unsigned int type, const void *body,
		    size_t blen)
{
	if (o->full || blen > 0xffff || o->cap - o->len < NKE_REC_HLEN + blen) {
		o->full = 1;
		return;
	}
	be_put16(o->buf + o->len, (uint16_t)(type | (critical ? NKE_CRITICAL : 0)));
	be_put16(o->buf + o->len + 2, (uint16_t)blen);
	if (blen)
		memcpy(o->buf + o->len + NKE_REC_HLEN, body, blen);
	o->len += NKE_REC_HLEN + blen;
}

static void put_rec16(struct nke_out *o, int critical, unsigned int type, unsigned int v)
{
	uint8_t b[2];

	be_put16(b, (uint16_t)v);
	put_rec(o, critical, type, b, sizeof(b));
}

size_t nke_build_response(const struct nke_response *r, uint8_t *out, size_t cap)
{
	struct nke_out o = {.buf = out, .cap = cap};
	int i;

	if (r->error >= 0) {
		put_rec16(&o, 1, NKE_REC_ERROR, (unsigned int)r->error);
	} else if (!r->ntpv4) {
		put_rec(&o, 1, NKE_REC_NEXT_PROTOCOL, NULL, 0);
	} else if (r->aead < 0) {
		put_rec16(&o, 1, NKE_REC_NEXT_PROTOCOL, NKE_PROTO_NTPV4);
		put_rec(&o, 1, NKE_REC_AEAD, NULL, 0);
	} else {
		put_rec16(&o, 1, NKE_REC_NEXT_PROTOCOL, NKE_PROTO_NTPV4);
		put_rec16(&o, 1, NKE_REC_AEAD, (unsigned int)r->aead);
		if (r->port)
			put_rec16(&o, 1, NKE_REC_PORT, (unsigned int)r->port);
		if (r->server && r->server[0])
			put_rec(&o, 1, NKE_REC_SERVER, r->server, strlen(r->server));
		for (i = 0; i < r->n_cookies; i++)
			put_rec(&o, 0, NKE_REC_COOKIE, r->cookies + (size_t)i * r->cookie_len,
				r->cookie_len);
	}
	put_rec(&o, 1, NKE_REC_END, NULL, 0);
	return o.full ? 0 : o.len;
}

size_t nke_build_request(const uint16_t *aeads, int n, uint8_t *out, size_t cap)
{
	struct nke_out o = {.buf = out, .cap = cap};
	uint8_t ids[2 * 16];
	int i;

	if (n < 1 || n > 16)
		return 0;
	for (i = 0; i < n; i++)
		be_put16(ids + 2 * i, aeads[i]);
	put_rec16(&o, 1, NKE_REC_NEXT_PROTOCOL, NKE_PROTO_NTPV4);
	put_rec(&o, 1, NKE_REC_AEAD, ids, 2 * (size_t)n);
	put_rec(&o, 1, NKE_REC_END, NULL, 0);
	return o.full ? 0 : o.len;
}

int nke_parse_reply(const uint8_t *msg, size_t len, const uint16_t *aeads, int n,
		    struct nke_reply *r)
{
	int np_records = 0, aead_records = 0, got, i;
	struct nke_record rec;
	size_t pos = 0, k;

	memset(r, 0, sizeof(*r));
	r->error = r->warning = r->next_protocol = r->aead = -1;
	while ((got = rec_next(msg, len, &pos, &rec)) == 1 && rec.type != NKE_REC_END) {
		switch (rec.type) {
		case NKE_REC_NEXT_PROTOCOL:
			np_records++;
			if (rec.len == 0) {
				r->why =
					"the server supports none of the protocols offered (NTPv4)";
				return -1;
			}
			if (rec.len != 2) {
				r->why = "malformed Next Protocol record";
				return -1;
			}
			r->next_protocol = be_get16(rec.body);
			break;
		case NKE_REC_AEAD:
			aead_records++;
			if (rec.len == 0) {
				r->why = "the server supports none of the AEAD algorithms offered";
				return -1;
			}
			if (rec.len != 2) {
				r->why = "malformed AEAD Algorithm record";
				return -1;
			}
			r->aead = be_get16(rec.body);
			break;
		case NKE_REC_ERROR:
			if (rec.len != 2) {
				r->why = "malformed Error record";
				return -1;
			}
			r->error = be_get16(rec.body);
			r->why = "the server answered with an error";
			return -1;
		case NKE_REC_WARNING:
			if (rec.len != 2) {
				r->why = "malformed Warning record";
				return -1;
			}
			r->warning = be_get16(rec.body);
			break;
		case NKE_REC_COOKIE:
			if (rec.len == 0 || rec.len > NKE_COOKIE_MAX) {
				r->why = "a cookie of 0 bytes or longer than 256 bytes";
				return -1;
			}
			if (r->n_cookies == NKE_COOKIES) {
				r->extra_cookies++;
				break;
			}
			memcpy(r->cookie[r->n_cookies], rec.body, rec.len);
			r->cookie_len[r->n_cookies++] = (uint16_t)rec.len;
			break;
		case NKE_REC_SERVER:
			if (rec.len == 0 || rec.len > NKE_SERVER_MAX) {
				r->why = "malformed NTPv4 Server Negotiation record";
				return -1;
			}
			for (k = 0; k < rec.len; k++)
				if (rec.body[k] < 0x21 || rec.body[k] > 0x7e) {
					r->why = "NTPv4 Server Negotiation record is not a name";
					return -1;
				}
			memcpy(r->server, rec.body, rec.len);
			r->server[rec.len] = '\0';
			break;
		case NKE_REC_PORT:
			if (rec.len != 2 || be_get16(rec.body) == 0) {
				r->why = "malformed NTPv4 Port Negotiation record";
				return -1;
			}
			r->port = be_get16(rec.body);
			break;
		default:
			if (rec.critical) {
				r->why = "an unrecognized critical record";
				return -1;
			}
			break;
		}
	}
	if (got != 1) {
		r->why = "the answer has no End of Message record";
		return -1;
	}
	if (np_records != 1 || r->next_protocol != NKE_PROTO_NTPV4) {
		r->why = "the answer does not name NTPv4 in exactly one Next Protocol record";
		return -1;
	}
	if (aead_records != 1) {
		r->why = "the answer has not exactly one AEAD Algorithm record";
		return -1;
	}
	for (i = 0; i < n && aeads[i] != r->aead; i++)
		;
	if (i == n) {
		r->why = "the server chose an AEAD algorithm that was not offered";
		return -1;
	}
	if (r->n_cookies == 0) {
		r->why = "the answer has no cookie";
		return -1;
	}
	return 0;
}

void nke_export_context(uint16_t aead, int s2c, uint8_t out[NKE_EXPORT_CTX_LEN])
{
	be_put16(out, NKE_PROTO_NTPV4);
	be_put16(out + 2, aead);
	out[4] = s2c ? 1 : 0;
}
