/*
 * nettle behind horod's names (crypto.h): AES-SIV-CMAC-256, the keyed
 * digests and AES-CMAC of symmetric keys, a constant-time compare and
 * a ChaCha20 generator with fast key erasure. Each wrapper checks what
 * nettle would assert on (a nonce of 0 bytes, a ciphertext shorter than
 * its tag) and refuses it instead.
 */
#include <string.h>
#include <strings.h>

#include <nettle/md5.h>
#include <nettle/memops.h>
#include <nettle/sha1.h>

#include "proto/crypto.h"

_Static_assert(SIV_DIGEST_SIZE == CRY_SIV_TAG_LEN, "nettle's SIV tag is 16 bytes");
_Static_assert(SIV_CMAC_AES128_KEY_SIZE == CRY_SIV_KEY_LEN, "AES-SIV-CMAC-256 has a 32-byte key");
_Static_assert(CHACHA_KEY_SIZE == CRY_RNG_SEED_LEN, "a generator is seeded with a ChaCha20 key");

void cry_siv_init(struct cry_siv *s, const uint8_t *key)
{
	siv_cmac_aes128_set_key(&s->ctx, key);
}

void cry_siv_seal(const struct cry_siv *s, const uint8_t *nonce, size_t nlen, const uint8_t *ad,
		  size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	siv_cmac_aes128_encrypt_message(&s->ctx, nlen, nonce, adlen, ad, ptlen + CRY_SIV_TAG_LEN,
					out, pt);
}

int cry_siv_open(const struct cry_siv *s, const uint8_t *nonce, size_t nlen, const uint8_t *ad,
		 size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *pt)
{
	if (nlen < SIV_MIN_NONCE_SIZE || ctlen < CRY_SIV_TAG_LEN)
		return -1;
	return siv_cmac_aes128_decrypt_message(&s->ctx, nlen, nonce, adlen, ad,
					       ctlen - CRY_SIV_TAG_LEN, pt, ct)
		       ? 0
		       : -1;
}

static const struct {
	const char *name;
	size_t digest, key; /* bytes: digest length; key length required (0 = any) */
} mac_types[CRY_MAC_TYPES] = {
	[CRY_MD5] = {"MD5", MD5_DIGEST_SIZE, 0},
	[CRY_SHA1] = {"SHA1", SHA1_DIGEST_SIZE, 0},
	[CRY_AES128] = {"AES128", CMAC128_DIGEST_SIZE, 16},
	[CRY_AES256] = {"AES256", CMAC128_DIGEST_SIZE, 32},
};

_Static_assert(SHA1_DIGEST_SIZE == CRY_MAC_MAX, "SHA-1 is the longest digest");

const char *cry_mac_name(enum cry_mac_type type)
{
	return (unsigned int)type < CRY_MAC_TYPES ? mac_types[type].name : "?";
}

int cry_mac_from_name(const char *name)
{
	int i;

	if (strcasecmp(name, "SHA-1") == 0)
		return CRY_SHA1;
	for (i = 0; i < CRY_MAC_TYPES; i++)
		if (strcasecmp(name, mac_types[i].name) == 0)
			return i;
	return -1;
}

size_t cry_mac_len(enum cry_mac_type type)
{
	return (unsigned int)type < CRY_MAC_TYPES ? mac_types[type].digest : 0;
}

size_t cry_mac_key_len(enum cry_mac_type type)
{
	return (unsigned int)type < CRY_MAC_TYPES ? mac_types[type].key : 0;
}

int cry_mac_key_init(struct cry_mac_key *k, enum cry_mac_type type, const uint8_t *key, size_t len)
{
	if ((unsigned int)type >= CRY_MAC_TYPES || len < 1 || len > CRY_MAC_KEY_MAX)
		return -1;
	if (mac_types[type].key && len != mac_types[type].key)
		return -1;
	memset(k, 0, sizeof(*k));
	k->type = type;
	memcpy(k->key, key, len);
	k->len = len;
	if (type == CRY_AES128)
		cmac_aes128_set_key(&k->cmac.a128, key);
	else if (type == CRY_AES256)
		cmac_aes256_set_key(&k->cmac.a256, key);
	return 0;
}

size_t cry_mac(const struct cry_mac_key *k, const uint8_t *data, size_t len, uint8_t *out)
{
	switch (k->type) {
	case CRY_MD5: {
		struct md5_ctx c;

		/* RFC 5905's keyed digest: MD5(key || packet). */
		md5_init(&c);
		md5_update(&c, k->len, k->key);
		md5_update(&c, len, data);
		md5_digest(&c, MD5_DIGEST_SIZE, out);
		return MD5_DIGEST_SIZE;
	}
	case CRY_SHA1: {
		struct sha1_ctx c;

		sha1_init(&c);
		sha1_update(&c, k->len, k->key);
		sha1_update(&c, len, data);
		sha1_digest(&c, SHA1_DIGEST_SIZE, out);
		return SHA1_DIGEST_SIZE;
	}
	case CRY_AES128: {
		/* The schedule is kept; the running state is this call's copy. */
		struct cmac_aes128_ctx c = k->cmac.a128;

		cmac_aes128_update(&c, len, data);
		cmac_aes128_digest(&c, CMAC128_DIGEST_SIZE, out);
		return CMAC128_DIGEST_SIZE;
	}
	case CRY_AES256: {
		struct cmac_aes256_ctx c = k->cmac.a256;

		cmac_aes256_update(&c, len, data);
		cmac_aes256_digest(&c, CMAC128_DIGEST_SIZE, out);
		return CMAC128_DIGEST_SIZE;
	}
	default:
		return 0;
	}
}

int cry_differ(const uint8_t *a, const uint8_t *b, size_t len)
{
	return !memeql_sec(a, b, len);
}

/* Make a new block of keystream; its first CHACHA_KEY_SIZE bytes become the next key. */
static void rng_refill(struct cry_rng *r)
{
	static const uint8_t nonce[CHACHA_NONCE_SIZE]; /* one key, one block run: a fixed nonce */

	memset(r->buf, 0, sizeof(r->buf));
	chacha_set_nonce(&r->ctx, nonce);
	chacha_crypt(&r->ctx, sizeof(r->buf), r->buf, r->buf);
	chacha_set_key(&r->ctx, r->buf);
	memset(r->buf, 0, CHACHA_KEY_SIZE);
	r->pos = CHACHA_KEY_SIZE;
}

void cry_rng_seed(struct cry_rng *r, const uint8_t *seed)
{
	chacha_set_key(&r->ctx, seed);
	rng_refill(r);
}

void cry_rng_bytes(struct cry_rng *r, void *out, size_t n)
{
	uint8_t *o = out;

	while (n > 0) {
		size_t k;

		if (r->pos >= sizeof(r->buf))
			rng_refill(r);
		k = sizeof(r->buf) - r->pos;
		if (k > n)
			k = n;
		memcpy(o, r->buf + r->pos, k);
		/* Handed out once: wiped so the state never holds it again. */
		memset(r->buf + r->pos, 0, k);
		r->pos += k;
		o += k;
		n -= k;
	}
}
