/*
 * The cryptography horod uses, as thin wrappers over Debian's nettle (the
 * library chrony's NTS uses too): no cipher or hash is written here. AES-
 * SIV-CMAC-256 (RFC 5297, NTS's mandatory AEAD, RFC 8915) seals the NTS
 * cookies and authenticates NTS packets; keyed digests (MD5, SHA-1 as
 * RFC 5905 defines them: the digest of key then packet) and AES-CMAC
 * (RFC 8573, AES-128 and AES-256) authenticate packets with symmetric
 * keys (proto/md5.c has the plain MD5 of IPv6 reference IDs); a ChaCha20
 * keystream with fast
 * key erasure gives nonces without a system call per packet. Pure: no
 * I/O and no global state (a generator is seeded by its caller).
 */
#ifndef HOROD_PROTO_CRYPTO_H
#define HOROD_PROTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/chacha.h>
#include <nettle/cmac.h>
#include <nettle/siv-cmac.h>

#define CRY_SIV_KEY_LEN	 32 /* bytes: AES-SIV-CMAC-256 key (a CMAC and a CTR AES-128 key) */
#define CRY_SIV_TAG_LEN	 16 /* bytes: the synthetic IV that leads every SIV ciphertext */
#define CRY_MAC_KEY_MAX	 64 /* bytes: longest symmetric key we keep (chrony's limit too) */
#define CRY_MAC_MAX	 20 /* bytes: longest digest (SHA-1) */
#define CRY_RNG_SEED_LEN 32 /* bytes: a ChaCha20 key seeds a generator */

/* An AES-SIV-CMAC-256 key with its AES schedules expanded once. */
struct cry_siv {
	struct siv_cmac_aes128_ctx ctx;
};

/* Expand KEY (CRY_SIV_KEY_LEN bytes) into S. */
void cry_siv_init(struct cry_siv *s, const uint8_t *key);

/*
 * Seal PT (PTLEN bytes) with nonce NONCE (NLEN >= 1 bytes) and associated
 * data AD (ADLEN bytes, may be 0) into OUT: the 16-byte tag then the
 * ciphertext, PTLEN + CRY_SIV_TAG_LEN bytes. OUT may not overlap PT.
 */
void cry_siv_seal(const struct cry_siv *s, const uint8_t *nonce, size_t nlen, const uint8_t *ad,
		  size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out);

/*
 * Open CT (CTLEN >= CRY_SIV_TAG_LEN bytes, as cry_siv_seal wrote it) into
 * PT (CTLEN - CRY_SIV_TAG_LEN bytes). 0 when the tag matches; -1 when it
 * does not, or NLEN is 0 or CTLEN too short (PT is then garbage).
 */
int cry_siv_open(const struct cry_siv *s, const uint8_t *nonce, size_t nlen, const uint8_t *ad,
		 size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *pt);

/* Symmetric-key MAC algorithms (chrony's keyfile names: MD5, SHA1, AES128, AES256). */
enum cry_mac_type { CRY_MD5, CRY_SHA1, CRY_AES128, CRY_AES256, CRY_MAC_TYPES };

/* A symmetric key: its algorithm, its bytes, and for CMAC the expanded schedule. */
struct cry_mac_key {
	enum cry_mac_type type;
	uint8_t key[CRY_MAC_KEY_MAX];
	size_t len;
	union {
		struct cmac_aes128_ctx a128;
		struct cmac_aes256_ctx a256;
	} cmac;
};

/* Name of TYPE as keyfiles write it ("MD5", "SHA1", "AES128", "AES256"). */
const char *cry_mac_name(enum cry_mac_type type);

/* The type named NAME (case-insensitive, "SHA-1" too), or -1. */
int cry_mac_from_name(const char *name);

/* Digest length of TYPE: 16 (MD5, AES-CMAC) or 20 (SHA-1). */
size_t cry_mac_len(enum cry_mac_type type);

/* Key length TYPE requires (16 AES128, 32 AES256), or 0 when any length 1..64 goes. */
size_t cry_mac_key_len(enum cry_mac_type type);

/* Set K to TYPE with KEY (LEN bytes); -1 when LEN does not suit TYPE. */
int cry_mac_key_init(struct cry_mac_key *k, enum cry_mac_type type, const uint8_t *key, size_t len);

/* The MAC of DATA (LEN bytes) under K into OUT (cry_mac_len bytes); returns its length. */
size_t cry_mac(const struct cry_mac_key *k, const uint8_t *data, size_t len, uint8_t *out);

/* Nonzero when A and B (LEN bytes) differ; time independent of where. */
int cry_differ(const uint8_t *a, const uint8_t *b, size_t len);

#define CRY_RNG_BUF 512 /* bytes of keystream made per refill: 32 rekey, the rest handed out */

/*
 * A generator of unpredictable bytes: ChaCha20 keyed by the seed, each
 * refill's first 32 bytes becoming the next key (fast key erasure: what
 * was handed out cannot be recomputed from the state afterwards). One per
 * thread; never shared.
 */
struct cry_rng {
	struct chacha_ctx ctx;
	uint8_t buf[CRY_RNG_BUF];
	size_t pos; /* next unused byte of buf */
};

/* Seed R with SEED (CRY_RNG_SEED_LEN bytes from the kernel's generator). */
void cry_rng_seed(struct cry_rng *r, const uint8_t *seed);

/* N unpredictable bytes into OUT. */
void cry_rng_bytes(struct cry_rng *r, void *out, size_t n);

#endif
