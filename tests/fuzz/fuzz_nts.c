/*
 * Fuzz target for the NTS extension fields (proto/nts.c), as the workers
 * meet them (daemon/auth/auth.c calls exactly these functions). The first
 * byte of an input chooses how the rest is read:
 *
 *   even: the rest is a datagram as it arrives. When ntp_classify calls it
 *         a reply and no MAC ends it, the server's parse, verification
 *         (with a fixed key set) and answer or NAK are run; the client's
 *         check runs on it as if it were an answer.
 *   odd:  the rest is a recipe: a valid request is built with a cookie the
 *         fixed keys open (placeholders in the clear and encrypted, an
 *         unknown field, a longer nonce, all chosen by the input), then the
 *         remaining bytes flip bits and cut the datagram. Deep inputs: the
 *         cryptography passes unless a byte it covers changed.
 *
 * Properties, on every input: an answer is never longer than its request
 * (RFC 8915 amplification, horod's rule), and a NAK is exactly the header
 * and the identifier; an authentic answer verifies with the client's
 * check, with the request's identifier, and carries as many cookies as
 * were asked for (at most 8) when the request had room for them, each
 * opening with the server keys to the session's keys; an untouched recipe
 * verifies; a request the parse calls malformed is never verified.
 */
#include <string.h>

#include "proto/ntp.h"
#include "proto/nts.h"
#include "proto/ntske.h"
#include "proto/byteorder.h"
#include "tests/fuzz/fuzz.h"

#define PKT_MAX 2048 /* bytes: as a worker's buffer (SRV_REPLY_MAX) */

static struct nts_keyset ks;
static struct nts_cookie ck;
static uint8_t cookie[NTS_COOKIE_LEN];
static struct cry_siv c2s, s2c;
static struct cry_rng rng;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const uint8_t seed[CRY_RNG_SEED_LEN] = {7}, nonce[NTS_NONCE_LEN] = {9};
	uint8_t key[NTS_KEY_LEN];
	int i;

	(void)argc;
	(void)argv;
	cry_rng_seed(&rng, seed);
	ks.n = 3;
	ks.current = 1;
	for (i = 0; i < 3; i++) {
		memset(key, 0x40 + i, sizeof(key));
		ks.key[i].id = 0x1000u + (uint32_t)i;
		cry_siv_init(&ks.key[i].siv, key);
	}
	ck.aead = NKE_AEAD_AES_SIV_CMAC_256;
	memset(ck.c2s, 0x11, sizeof(ck.c2s));
	memset(ck.s2c, 0x22, sizeof(ck.s2c));
	nts_cookie_seal(&ks.key[1], nonce, &ck, cookie);
	cry_siv_init(&c2s, ck.c2s);
	cry_siv_init(&s2c, ck.s2c);
	return 0;
}

/*
 * The server's path on REQ (LEN bytes), as auth_check/auth_seal/auth_nak
 * run it, with every property checked. ASKED_MIN: the cookies a recipe
 * knows it asked for (0 when unknown); MUST_VERIFY: an untouched recipe.
 */
static void serve(const uint8_t *req, size_t len, int asked_min, int must_verify)
{
	static uint8_t reply[PKT_MAX];
	static struct nts_client_reply cr;
	struct ntp_reply_info info = {.stratum = 2, .precision = -20};
	struct nts_answer a;
	enum nts_parse p;
	enum nts_verdict v;
	size_t mac = len, n;
	int i;

	if (ntp_classify(req, len, 0) != NTP_R_REPLY_SERVER || ntp_ext_mac(req, len, &mac) < 0 ||
	    mac < len) {
		FUZZ_ASSERT(!must_verify, "a recipe request should classify as a plain request");
		return;
	}
	p = nts_parse_request(req, len, &a.req);
	FUZZ_ASSERT(!must_verify || p == NTS_PARSE_OK, "a recipe request should parse");
	if (p != NTS_PARSE_OK)
		return;
	FUZZ_ASSERT(a.req.uid_off >= NTP_HEADER_LEN && a.req.uid_off + a.req.uid_len <= len &&
			    a.req.auth_off < len && a.req.ct_off + a.req.ct_len <= len,
		    "the located fields should lie inside the request");
	v = nts_server_verify(&ks, req, len, &a);
	FUZZ_ASSERT(!must_verify || v == NTS_OK, "an untouched recipe request should verify");
	if (v == NTS_BAD_COOKIE || v == NTS_BAD_AUTH) {
		n = nts_server_nak(req, len, &a.req, reply);
		FUZZ_ASSERT(n == NTP_HEADER_LEN + a.req.uid_len, "a NAK is the header and the UID");
		FUZZ_ASSERT(n <= len, "no NTS answer larger than its request");
		FUZZ_ASSERT(memcmp(reply + 12, "NTSN", 4) == 0 && reply[1] == 0,
			    "a NAK is a kiss-o'-death NTSN");
		return;
	}
	if (v != NTS_OK)
		return;
	FUZZ_ASSERT(a.n_cookies >= 1 && a.n_cookies <= NTS_MAX_COOKIES,
		    "1 to 8 cookies are asked for");
	FUZZ_ASSERT(!asked_min || a.n_cookies == (asked_min < 8 ? asked_min : 8),
		    "every cookie and placeholder should count, up to 8");
	ntp_build_reply(req, &info, 1, 2, reply);
	n = nts_server_reply(&ks, &a, req, len, reply, sizeof(reply), &rng);
	FUZZ_ASSERT(n > 0, "a verified request is answered");
	FUZZ_ASSERT(n <= len, "no NTS answer larger than its request");
	FUZZ_ASSERT(n == len || len > 0xfffc, "the answer is padded to the request's length");
	/* The client's side: the identifier is the request's, the authenticator verifies. */
	if (a.req.uid_len != NTS_EF_HLEN + NTS_UID_LEN)
		return; /* our client check knows 32-byte identifiers only */
	FUZZ_ASSERT(nts_client_check(reply, n, req + a.req.uid_off + NTS_EF_HLEN, &s2c, &cr) == 0,
		    "the answer verifies with the session's S2C key");
	FUZZ_ASSERT(cr.n_cookies <= a.n_cookies, "no more cookies than asked for");
	/* Room for all: request = header + UID + cookie and placeholders + auth of >= 40. */
	if ((size_t)a.n_cookies * NTS_COOKIE_EF_LEN + 40 + NTP_HEADER_LEN + a.req.uid_len <= len)
		FUZZ_ASSERT(cr.n_cookies == a.n_cookies, "every cookie asked for, when they fit");
	for (i = 0; i < cr.n_cookies; i++) {
		struct nts_cookie c;

		FUZZ_ASSERT(nts_cookie_open(&ks, cr.plain + cr.cookie_off[i], cr.cookie_len[i],
					    &c) == 0 &&
				    memcmp(c.c2s, ck.c2s, NTS_KEY_LEN) == 0,
			    "a fresh cookie opens to the session's keys");
	}
}

/* Build a request from the recipe bytes R (N of them), mutate it, serve it. */
static void recipe(const uint8_t *r, size_t n)
{
	static uint8_t pkt[PKT_MAX], plain[PKT_MAX];
	uint8_t uid[NTS_UID_LEN], nonce[64];
	size_t pos = NTP_HEADER_LEN, auth, nlen, plen = 0, i;
	int ph, eph, unknown, asked, changed = 0;

	if (n < 4)
		return;
	ph = r[0] & 7;
	eph = (r[0] >> 3) & 7;
	unknown = r[1] % 4; /* an unknown field of 0, 16, 64, 256 bytes */
	nlen = 1 + (size_t)(r[2] % (sizeof(nonce) - 1)); /* nonce 1..63 bytes */
	memset(pkt, 0, NTP_HEADER_LEN);
	pkt[0] = 0x23;
	pkt[2] = r[3];
	memcpy(pkt + 40, r, n < 8 ? n : 8);
	memset(uid, r[3], sizeof(uid));
	be_put16(pkt + pos, NTS_EF_UID);
	be_put16(pkt + pos + 2, NTS_EF_HLEN + NTS_UID_LEN);
	memcpy(pkt + pos + 4, uid, NTS_UID_LEN);
	pos += NTS_EF_HLEN + NTS_UID_LEN;
	for (i = 0; i <= (size_t)ph; i++) {
		be_put16(pkt + pos, i ? NTS_EF_PLACEHOLDER : NTS_EF_COOKIE);
		be_put16(pkt + pos + 2, NTS_COOKIE_EF_LEN);
		if (i == 0)
			memcpy(pkt + pos + 4, cookie, NTS_COOKIE_LEN);
		else
			memset(pkt + pos + 4, 0, NTS_COOKIE_LEN);
		pos += NTS_COOKIE_EF_LEN;
	}
	if (unknown) {
		size_t ul = (size_t)16 << (2 * (unknown - 1));

		be_put16(pkt + pos, 0xf0f0);
		be_put16(pkt + pos + 2, (uint16_t)ul);
		memset(pkt + pos + 4, 0xcc, ul - 4);
		pos += ul;
	}
	for (i = 0; i < (size_t)eph; i++) {
		be_put16(plain + plen, NTS_EF_PLACEHOLDER);
		be_put16(plain + plen + 2, NTS_COOKIE_EF_LEN);
		memset(plain + plen + 4, 0, NTS_COOKIE_LEN);
		plen += NTS_COOKIE_EF_LEN;
	}
	memset(nonce, r[2], sizeof(nonce));
	/* Nonce field at least 16 bytes with its padding, as the RFC has it. */
	auth = NTS_EF_HLEN + 4 + (((nlen + 3) & ~(size_t)3) > 16 ? ((nlen + 3) & ~(size_t)3) : 16) +
	       CRY_SIV_TAG_LEN + plen;
	if (pos + auth > sizeof(pkt))
		return;
	memset(pkt + pos, 0, auth);
	be_put16(pkt + pos, NTS_EF_AUTH);
	be_put16(pkt + pos + 2, (uint16_t)auth);
	be_put16(pkt + pos + 4, (uint16_t)nlen);
	be_put16(pkt + pos + 6, (uint16_t)(CRY_SIV_TAG_LEN + plen));
	memcpy(pkt + pos + 8, nonce, nlen);
	cry_siv_seal(&c2s, nonce, nlen, pkt, pos, plain, plen,
		     pkt + pos + 8 + ((nlen + 3) & ~(size_t)3));
	/* The tag and ciphertext follow the padded nonce; a nonce field shorter than 16 bytes
	 * leaves the rest of the 16 as padding at the end of the field, as the RFC allows. */
	pos += auth;
	asked = 1 + ph + eph;
	/* Mutations: pairs (position, xor), then an optional cut. */
	for (i = 4; i + 1 < n && i < 4 + 2 * 16; i += 2) {
		size_t at = ((size_t)r[i] << 2 | (r[i + 1] & 3)) % pos;

		if (r[i + 1] >> 2) {
			pkt[at] ^= (uint8_t)(r[i + 1] >> 2);
			changed = 1;
		}
	}
	if (n > 4 + 2 * 16 && r[4 + 2 * 16] & 1) {
		size_t cut = (pos - (size_t)r[4 + 2 * 16] * 4) & ~(size_t)3;

		if (cut >= NTP_HEADER_LEN && cut < pos) {
			pos = cut;
			changed = 1;
		}
	}
	serve(pkt, pos, changed ? 0 : asked, !changed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PKT_MAX];
	static struct nts_client_reply cr;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		recipe(data + 1, size - 1);
		return 0;
	}
	if (size - 1 > sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	serve(buf, size - 1, 0, 0);
	/* The same bytes as an answer to a client of ours. */
	if (size - 1 >= NTP_HEADER_LEN) {
		uint8_t uid[NTS_UID_LEN];
		int r;

		memset(uid, buf[0], sizeof(uid));
		r = nts_client_check(buf, size - 1, uid, &s2c, &cr);
		FUZZ_ASSERT(r >= -1 && r <= 1, "the client's check says ok, NAK or no");
		FUZZ_ASSERT(r != 0 || cr.n_cookies <= NTS_MAX_COOKIES, "at most 8 cookies kept");
	}
	return 0;
}
