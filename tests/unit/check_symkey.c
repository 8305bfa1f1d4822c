/*
 * Unit tests of proto/symkey.c: keyfile lines as chrony writes them (ID
 * [TYPE] KEY, HEX:, ASCII: or plain, MD5 by default, comments) and the
 * errors for everything else, with what is allowed; the table finds keys
 * by id and names a duplicate; a MAC appended with a key verifies with
 * it, and with another key, a changed byte or the wrong length it does
 * not; key id 0 (the crypto-NAK) is never a key.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/ntp.h"
#include "proto/symkey.h"
#include "proto/byteorder.h"

Suite *symkey_suite(void);

START_TEST(test_parse_lines)
{
	struct sk_key k;
	char err[160];

	ck_assert_int_eq(sk_parse_line("", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(sk_parse_line("   \t", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(sk_parse_line("# 1 MD5 HEX:00", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(sk_parse_line("  ; comment", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(sk_parse_line("% chrony's other comment", &k, err, sizeof(err)), 0);

	ck_assert_int_eq(sk_parse_line("1 HEX:A0b1", &k, err, sizeof(err)), 1);
	ck_assert_uint_eq(k.id, 1);
	ck_assert_int_eq(k.mac.type, CRY_MD5);
	ck_assert_uint_eq(k.mac.len, 2);
	ck_assert_msg(k.mac.key[0] == 0xa0 && k.mac.key[1] == 0xb1, "HEX should decode");
	ck_assert_int_eq(sk_parse_line("4294967295 SHA1 ASCII:pa#ss\r\n", &k, err, sizeof(err)), 1);
	ck_assert_uint_eq(k.id, 4294967295u);
	ck_assert_int_eq(k.mac.type, CRY_SHA1);
	ck_assert_msg(k.mac.len == 5 && memcmp(k.mac.key, "pa#ss", 5) == 0,
		      "ASCII: keeps the bytes, '#' inside a key included");
	ck_assert_int_eq(sk_parse_line("7\tAES128\tHEX:000102030405060708090a0b0c0d0e0f", &k, err,
				       sizeof(err)),
			 1);
	ck_assert_int_eq(k.mac.type, CRY_AES128);
	ck_assert_int_eq(sk_parse_line("8 AES256 HEX:000102030405060708090a0b0c0d0e0f"
				       "000102030405060708090a0b0c0d0e0f",
				       &k, err, sizeof(err)),
			 1);
	ck_assert_int_eq(k.mac.type, CRY_AES256);
	ck_assert_int_eq(sk_parse_line("9 md5 plainkey", &k, err, sizeof(err)), 1);
	ck_assert_msg(k.mac.len == 8 && memcmp(k.mac.key, "plainkey", 8) == 0,
		      "a plain key is ASCII");
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct {
		const char *line, *says;
	} bad[] = {
		{"1", "allowed: ID [TYPE] KEY"},
		{"1 MD5 key extra", "allowed: ID [TYPE] KEY"},
		{"0 MD5 key", "allowed 1-4294967295"},
		{"4294967296 MD5 key", "allowed 1-4294967295"},
		{"-1 MD5 key", "allowed 1-4294967295"},
		{"x1 MD5 key", "allowed 1-4294967295"},
		{"1 SHA256 key", "allowed: MD5 SHA1 AES128 AES256"},
		{"1 MD5 HEX:abc", "even number"},
		{"1 MD5 HEX:zz", "hex digit"},
		{"1 MD5 HEX:", "even number"},
		{"1 AES128 HEX:0011", "exactly 16 bytes"},
		{"1 AES256 ASCII:0123456789abcdef", "exactly 32 bytes"},
		{"1 MD5 ASCII:", "allowed 1-64 bytes"},
		{"1 MD5 "
		 "ASCII:0123456789012345678901234567890123456789012345678901234567890123456789",
		 "allowed 1-64 bytes"},
	};
	struct sk_key k;
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(sk_parse_line(bad[i].line, &k, err, sizeof(err)) == -1,
			      "'%s' should be refused", bad[i].line);
		ck_assert_msg(strstr(err, bad[i].says) != NULL, "'%s' should say '%s', said '%s'",
			      bad[i].line, bad[i].says, err);
	}
}
END_TEST

START_TEST(test_table)
{
	struct sk_key keys[5];
	struct sk_table t = {.keys = keys, .n = 0};
	const uint32_t ids[] = {50, 3, 4000000000u, 7, 1};
	char err[80], line[64];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "%u SHA1 HEX:0102", ids[i]);
		ck_assert_int_eq(sk_parse_line(line, &keys[t.n++], err, sizeof(err)), 1);
	}
	ck_assert_uint_eq(sk_sort(&t), 0);
	for (i = 0; i < 5; i++)
		ck_assert_msg(sk_find(&t, ids[i]) && sk_find(&t, ids[i])->id == ids[i],
			      "key %u should be found", ids[i]);
	ck_assert_ptr_null(sk_find(&t, 0));
	ck_assert_ptr_null(sk_find(&t, 8));
	ck_assert_ptr_null(sk_find(&t, 0xffffffffu));
	keys[2].id = keys[3].id;
	ck_assert_uint_eq(sk_sort(&t), keys[3].id);
}
END_TEST

START_TEST(test_mac_roundtrip)
{
	static const char *lines[] = {
		"1 MD5 ASCII:secret",
		"2 SHA1 HEX:00112233445566778899aabbccddeeff0011223344",
		"3 AES128 HEX:2b7e151628aed2a6abf7158809cf4f3c",
		"4 AES256 HEX:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	};
	struct sk_key keys[4];
	struct sk_table t = {.keys = keys, .n = 4};
	const struct sk_key *found;
	uint8_t pkt[128], bad[128];
	char err[80];
	size_t len, i;
	int k;

	for (k = 0; k < 4; k++)
		ck_assert_int_eq(sk_parse_line(lines[k], &keys[k], err, sizeof(err)), 1);
	sk_sort(&t);
	for (k = 0; k < 4; k++) {
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0x23;
		pkt[40] = (uint8_t)k;
		len = sk_append(&keys[k], pkt, NTP_HEADER_LEN);
		ck_assert_uint_eq(len, NTP_HEADER_LEN + 4 + cry_mac_len(keys[k].mac.type));
		ck_assert_int_eq(ntp_classify(pkt, len, 0), NTP_R_REPLY_SERVER);
		ck_assert_int_eq(sk_verify(&t, pkt, len, NTP_HEADER_LEN, &found), SK_OK);
		ck_assert_ptr_eq(found, &keys[k]);
		for (i = 0; i < len; i++) {
			enum sk_verdict v;

			memcpy(bad, pkt, len);
			bad[i] ^= 0x10;
			v = sk_verify(&t, bad, len, NTP_HEADER_LEN, &found);
			/* A changed key id names another key, or none. */
			if (v == SK_OK)
				ck_abort_msg("key %d, byte %zu changed should not verify", k + 1,
					     i);
		}
		/* A digest of the wrong length for the key. */
		ck_assert_int_eq(sk_verify(&t, pkt, len - 4, NTP_HEADER_LEN, &found), SK_BAD_MAC);
	}
	/* Unknown key ids, and the crypto-NAK (key id 0, no digest). */
	be_put32(pkt + NTP_HEADER_LEN, 99);
	ck_assert_int_eq(sk_verify(&t, pkt, NTP_HEADER_LEN + 20, NTP_HEADER_LEN, &found),
			 SK_UNKNOWN_KEY);
	be_put32(pkt + NTP_HEADER_LEN, 0);
	ck_assert_int_eq(sk_verify(&t, pkt, NTP_HEADER_LEN + 4, NTP_HEADER_LEN, &found),
			 SK_UNKNOWN_KEY);
}
END_TEST

Suite *symkey_suite(void)
{
	Suite *s = suite_create("symkey");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_lines);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_mac_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
