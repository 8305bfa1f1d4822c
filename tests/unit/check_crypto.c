/*
 * Unit tests of proto/crypto.c: nettle behind horod's names gives the
 * published answers. AES-SIV-CMAC-256 against vectors made with an
 * independent implementation (Python's cryptography, OpenSSL underneath:
 * AESSIV(key).encrypt(pt, [ad, nonce]), the S2V order NTS uses); AES-CMAC
 * against RFC 4493 and NIST SP 800-38B; the keyed digests against
 * hashlib; any changed byte fails to open; the generator never repeats
 * itself and its seed decides its output.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/md5.h"

Suite *crypto_suite(void);

/* HEX (even length, no spaces) into OUT; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out)
{
	size_t i, n = strlen(hex) / 2;

	for (i = 0; i < n; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
	return n;
}

static const char siv_ad[] = "101112131415161718191a1b1c1d1e1f2021222324252627";
static const char siv_nonce[] = "09f911029d74e35bd84156c5635688c0";
static const char siv_pt[] = "7468697320697320736f6d6520706c61696e7465787420746f20656e637279707420"
			     "7573696e67205349562d414553";
static const char siv_ct[] =
	"e52952ff1f105c12c6f69c7603700686536593169276950c8f8be028c6dcddb4424379"
	"94866519af326476c9bcaa892db25bd0bf49963f3369f2b7ac6c20c8";

START_TEST(test_siv_vector)
{
	uint8_t key[32], ad[64], nonce[16], pt[64], want[96], got[96], back[64];
	size_t adl, ptl, ctl, i;
	struct cry_siv s;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	adl = unhex(siv_ad, ad);
	unhex(siv_nonce, nonce);
	ptl = unhex(siv_pt, pt);
	ctl = unhex(siv_ct, want);
	ck_assert_uint_eq(ctl, ptl + CRY_SIV_TAG_LEN);
	cry_siv_init(&s, key);
	cry_siv_seal(&s, nonce, 16, ad, adl, pt, ptl, got);
	ck_assert_msg(memcmp(got, want, ctl) == 0, "the seal should match the reference vector");
	ck_assert_msg(cry_siv_open(&s, nonce, 16, ad, adl, got, ctl, back) == 0,
		      "our own seal should open");
	ck_assert_msg(memcmp(back, pt, ptl) == 0, "opening should give the plaintext back");
}
END_TEST

START_TEST(test_siv_short_cases)
{
	uint8_t key[32], nonce[16], want[32], got[32], pt[3] = {1, 2, 3}, back[3];
	struct cry_siv s;
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	unhex(siv_nonce, nonce);
	cry_siv_init(&s, key);
	/* Empty associated data, 3 bytes of plaintext. */
	unhex("791ad093e811fdeb1bf37bab268044da7a3880", want);
	cry_siv_seal(&s, nonce, 16, NULL, 0, pt, 3, got);
	ck_assert_msg(memcmp(got, want, 19) == 0, "empty AD should match the reference vector");
	/* No plaintext: the tag alone authenticates AD and nonce. */
	{
		uint8_t ad[24];
		size_t adl = unhex(siv_ad, ad);

		unhex("10090a6d260c84030036190cc6143c89", want);
		cry_siv_seal(&s, nonce, 16, ad, adl, NULL, 0, got);
		ck_assert_msg(memcmp(got, want, 16) == 0, "an empty plaintext should match");
		ck_assert_int_eq(cry_siv_open(&s, nonce, 16, ad, adl, got, 16, back), 0);
	}
	ck_assert_msg(cry_siv_open(&s, nonce, 0, NULL, 0, got, 16, back) == -1,
		      "a 0-byte nonce should be refused, not asserted on");
	ck_assert_msg(cry_siv_open(&s, nonce, 16, NULL, 0, got, 15, back) == -1,
		      "a ciphertext shorter than its tag should be refused");
}
END_TEST

START_TEST(test_siv_tamper)
{
	uint8_t key[32], ad[24], nonce[16], pt[47], ct[63], bad[63], back[47];
	size_t adl, i, bit;
	struct cry_siv s;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7);
	adl = unhex(siv_ad, ad);
	unhex(siv_nonce, nonce);
	unhex(siv_pt, pt);
	cry_siv_init(&s, key);
	cry_siv_seal(&s, nonce, 16, ad, adl, pt, sizeof(pt), ct);
	/* Every single-bit change of the ciphertext, AD or nonce fails. */
	for (bit = 0; bit < 8 * sizeof(ct); bit++) {
		memcpy(bad, ct, sizeof(ct));
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (cry_siv_open(&s, nonce, 16, ad, adl, bad, sizeof(bad), back) != -1)
			ck_abort_msg("ciphertext bit %zu flipped should not open", bit);
	}
	for (bit = 0; bit < 8 * adl; bit++) {
		ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (cry_siv_open(&s, nonce, 16, ad, adl, ct, sizeof(ct), back) != -1)
			ck_abort_msg("AD bit %zu flipped should not open", bit);
		ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	nonce[15] ^= 1;
	ck_assert_msg(cry_siv_open(&s, nonce, 16, ad, adl, ct, sizeof(ct), back) == -1,
		      "another nonce should not open");
	nonce[15] ^= 1;
	ck_assert_msg(cry_siv_open(&s, nonce, 15, ad, adl, ct, sizeof(ct), back) == -1,
		      "a shorter nonce should not open");
	key[0] ^= 1;
	cry_siv_init(&s, key);
	ck_assert_msg(cry_siv_open(&s, nonce, 16, ad, adl, ct, sizeof(ct), back) == -1,
		      "another key should not open");
}
END_TEST

START_TEST(test_cmac_vectors)
{
	static const struct {
		enum cry_mac_type type;
		const char *key, *msg, *mac;
	} v[] = {
		/* RFC 4493 examples 1 and 2. */
		{CRY_AES128, "2b7e151628aed2a6abf7158809cf4f3c", "",
		 "bb1d6929e95937287fa37d129b756746"},
		{CRY_AES128, "2b7e151628aed2a6abf7158809cf4f3c", "6bc1bee22e409f96e93d7e117393172a",
		 "070a16b46b4d4144f79bdd9dd04a287c"},
		/* NIST SP 800-38B, CMAC-AES256 examples 1 and 2. */
		{CRY_AES256, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "",
		 "028962f61b7bf89efc6b551f4667d983"},
		{CRY_AES256, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		 "6bc1bee22e409f96e93d7e117393172a", "28a7023f452e8f82bd4bf28d8c37c35c"},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t key[32], msg[64], want[16], got[CRY_MAC_MAX];
		struct cry_mac_key k;
		size_t kl = unhex(v[i].key, key), ml = unhex(v[i].msg, msg);

		unhex(v[i].mac, want);
		ck_assert_int_eq(cry_mac_key_init(&k, v[i].type, key, kl), 0);
		ck_assert_uint_eq(cry_mac(&k, msg, ml, got), 16);
		ck_assert_msg(memcmp(got, want, 16) == 0, "CMAC vector %zu should match", i);
		/* The kept schedule is not worn by use: a second MAC is the same. */
		ck_assert_uint_eq(cry_mac(&k, msg, ml, got), 16);
		ck_assert_msg(memcmp(got, want, 16) == 0, "CMAC vector %zu twice should match", i);
	}
}
END_TEST

START_TEST(test_keyed_digests)
{
	struct cry_mac_key k;
	uint8_t got[CRY_MAC_MAX], want[CRY_MAC_MAX];
	const uint8_t *pkt = (const uint8_t *)"packet";

	/* RFC 5905: digest(key || packet); references from Python's hashlib. */
	ck_assert_int_eq(cry_mac_key_init(&k, CRY_MD5, (const uint8_t *)"secret", 6), 0);
	ck_assert_uint_eq(cry_mac(&k, pkt, 6, got), 16);
	unhex("2b45f1acb7426b808208b37cbb08ec34", want);
	ck_assert_msg(memcmp(got, want, 16) == 0, "keyed MD5 should be MD5(key || packet)");
	ck_assert_int_eq(cry_mac_key_init(&k, CRY_SHA1, (const uint8_t *)"secret", 6), 0);
	ck_assert_uint_eq(cry_mac(&k, pkt, 6, got), 20);
	unhex("68f7c8ffbbdfc1d91bb299a6b0973ef7b19c7b4f", want);
	ck_assert_msg(memcmp(got, want, 20) == 0, "keyed SHA-1 should be SHA1(key || packet)");
}
END_TEST

START_TEST(test_mac_names_and_lengths)
{
	struct cry_mac_key k;
	uint8_t key[64] = {0};

	ck_assert_int_eq(cry_mac_from_name("md5"), CRY_MD5);
	ck_assert_int_eq(cry_mac_from_name("SHA1"), CRY_SHA1);
	ck_assert_int_eq(cry_mac_from_name("SHA-1"), CRY_SHA1);
	ck_assert_int_eq(cry_mac_from_name("AES128"), CRY_AES128);
	ck_assert_int_eq(cry_mac_from_name("aes256"), CRY_AES256);
	ck_assert_int_eq(cry_mac_from_name("SHA256"), -1);
	ck_assert_str_eq(cry_mac_name(CRY_AES256), "AES256");
	ck_assert_msg(cry_mac_key_init(&k, CRY_AES128, key, 15) == -1,
		      "AES128 should want exactly 16 bytes");
	ck_assert_msg(cry_mac_key_init(&k, CRY_AES256, key, 16) == -1,
		      "AES256 should want exactly 32 bytes");
	ck_assert_int_eq(cry_mac_key_init(&k, CRY_MD5, key, 64), 0);
	ck_assert_msg(cry_mac_key_init(&k, CRY_MD5, key, 0) == -1,
		      "an empty key should be refused");
	ck_assert_msg(cry_mac_key_init(&k, CRY_MD5, key, 65) == -1,
		      "a key past 64 bytes should be refused");
}
END_TEST

START_TEST(test_md5_is_nettles)
{
	uint8_t d[16], want[16];

	/* RFC 1321's own test suite. */
	ntp_md5("abc", 3, d);
	unhex("900150983cd24fb0d6963f7d28e17f72", want);
	ck_assert_msg(memcmp(d, want, 16) == 0, "MD5(abc) should be RFC 1321's");
	ntp_md5("", 0, d);
	unhex("d41d8cd98f00b204e9800998ecf8427e", want);
	ck_assert_msg(memcmp(d, want, 16) == 0, "MD5 of nothing should be RFC 1321's");
}
END_TEST

START_TEST(test_rng)
{
	static uint8_t a[4096], b[4096];
	uint8_t seed[CRY_RNG_SEED_LEN] = {1}, x[16], y[16];
	struct cry_rng r1, r2;
	size_t i, same = 0;

	cry_rng_seed(&r1, seed);
	cry_rng_seed(&r2, seed);
	/* Whatever the request sizes, one seed gives one stream. */
	cry_rng_bytes(&r1, a, sizeof(a));
	for (i = 0; i < sizeof(b); i += 7)
		cry_rng_bytes(&r2, b + i, sizeof(b) - i < 7 ? sizeof(b) - i : 7);
	ck_assert_msg(memcmp(a, b, sizeof(a)) == 0, "the same seed should give the same stream");
	/* The stream does not repeat itself across refills (no 16-byte block twice). */
	for (i = 16; i + 16 <= sizeof(a); i += 16)
		same += memcmp(a, a + i, 16) == 0;
	ck_assert_msg(same == 0, "16-byte blocks should not repeat");
	seed[0] = 2;
	cry_rng_seed(&r2, seed);
	cry_rng_bytes(&r1, x, sizeof(x));
	cry_rng_bytes(&r2, y, sizeof(y));
	ck_assert_msg(memcmp(x, y, sizeof(x)) != 0, "another seed should give another stream");
	ck_assert_msg(cry_differ(x, y, 16) && !cry_differ(x, x, 16), "cry_differ should compare");
}
END_TEST

Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_siv_vector);
	tcase_add_test(tc, test_siv_short_cases);
	tcase_add_test(tc, test_siv_tamper);
	tcase_add_test(tc, test_cmac_vectors);
	tcase_add_test(tc, test_keyed_digests);
	tcase_add_test(tc, test_mac_names_and_lengths);
	tcase_add_test(tc, test_md5_is_nettles);
	tcase_add_test(tc, test_rng);
	suite_add_tcase(s, tc);
	return s;
}
