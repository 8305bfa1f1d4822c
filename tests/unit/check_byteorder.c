/*
 * Unit tests of proto/byteorder.h: every load and store is big-endian
 * byte for byte, at odd addresses too, and a store reads back.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "proto/byteorder.h"

Suite *byteorder_suite(void);

START_TEST(network_order_any_alignment)
{
	static const uint8_t want[9] = {0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	uint8_t buf[9];

	memset(buf, 0, sizeof(buf));
	be_put64(buf + 1, 0x0123456789abcdefULL);
	ck_assert_msg(memcmp(buf, want, sizeof(want)) == 0, "a 64-bit store should be big-endian");
	ck_assert_msg(be_get64(buf + 1) == 0x0123456789abcdefULL, "a 64-bit load should read back");
	ck_assert_msg(be_get32(buf + 1) == 0x01234567u && be_get32(buf + 5) == 0x89abcdefu,
		      "32-bit loads should be big-endian");
	ck_assert_msg(be_get16(buf + 3) == 0x4567, "a 16-bit load should be big-endian");

	memset(buf, 0, sizeof(buf));
	be_put32(buf + 3, 0xdeadbeefu);
	be_put16(buf + 7, 0x1234);
	ck_assert_msg(buf[3] == 0xde && buf[4] == 0xad && buf[5] == 0xbe && buf[6] == 0xef &&
			      buf[7] == 0x12 && buf[8] == 0x34 && buf[2] == 0,
		      "32 and 16-bit stores should be big-endian and stay in place");
}
END_TEST

Suite *byteorder_suite(void)
{
	Suite *s = suite_create("byteorder");
	TCase *t = tcase_create("core");

	tcase_add_test(t, network_order_any_alignment);
	suite_add_tcase(s, t);
	return s;
}
