/*
 * Tests of the packet tests our client side runs on a server's reply
 * (proto/ntpreply.c): a good reply passes, each bad header field sets its
 * flash bit (mode, LI 3, stratum 0 and 16, no transmit time, root delay
 * and dispersion beyond 16 s, version, no receive time, precision, a
 * clock never set or set after it answered), several bad fields set
 * several bits; and what a kiss-o'-death asks of us.
 */
#include <check.h>
#include <string.h>

#include "proto/ntp.h"
#include "proto/ntpreply.h"

Suite *ntpreply_suite(void);

/* ns: a time in 2023 */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL
/* ns per millisecond */
#define MS 1000000LL

/* A good stratum-2 server's reply to a request sent at T1. */
static void good_reply(struct ntp_packet *p, int64_t t1)
{
	memset(p, 0, sizeof(*p));
	p->leap = NTP_LEAP_NONE;
	p->version = 4;
	p->mode = NTP_MODE_SERVER;
	p->stratum = 2;
	p->precision = -20;
	p->root_delay = ntp_short_from_double(0.002);
	p->root_disp = ntp_short_from_double(0.001);
	p->refid = 0x0a000001u;
	p->ref = ntp_ts_from_unix_ns(t1 - 10 * S);
	p->rec = ntp_ts_from_unix_ns(t1 + 5 * MS);
	p->xmt = ntp_ts_from_unix_ns(t1 + 5 * MS + 10000);
}

START_TEST(test_good_reply)
{
	struct ntp_packet p;

	good_reply(&p, T0);
	ck_assert_msg(ntp_reply_tests(&p) == 0, "a good reply should pass, flash %#x",
		      ntp_reply_tests(&p));
	p.mode = NTP_MODE_PASSIVE;
	ck_assert_msg(ntp_reply_tests(&p) == 0, "a symmetric passive reply should pass too");
	p.version = 1;
	ck_assert_msg(ntp_reply_tests(&p) == 0, "version 1 should pass");
	ck_assert_msg(!ntp_reply_is_kod(&p), "a good reply is no kiss-o'-death");
}
END_TEST

/* One field spoiled per case: the flash bit expected. */
START_TEST(test_flash_bits)
{
	struct ntp_packet p;
	unsigned f;

	good_reply(&p, T0);
	p.mode = NTP_MODE_CLIENT;
	f = ntp_reply_tests(&p);
	ck_assert_msg(f == NTP_FLASH_BOGUS, "mode 3 should be bogus, flash %#x", f);

	good_reply(&p, T0);
	p.leap = NTP_LEAP_UNSYNC;
	f = ntp_reply_tests(&p);
	ck_assert_msg(f == NTP_FLASH_UNSYNC, "LI 3 should be unsync, flash %#x", f);

	good_reply(&p, T0);
	p.stratum = 0;
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_UNSYNC, "stratum 0 should be unsync");
	p.stratum = 16;
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_UNSYNC, "stratum 16 should be unsync");

	good_reply(&p, T0);
	p.xmt = 0;
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_UNSYNC, "transmit 0 should be unsync");

	good_reply(&p, T0);
	p.root_delay = ntp_short_from_double(17.0);
	f = ntp_reply_tests(&p);
	ck_assert_msg(f == NTP_FLASH_HEADER, "root delay 17 s should be header, flash %#x", f);
	p.root_delay = ntp_short_from_double(16.0);
	ck_assert_msg(ntp_reply_tests(&p) == 0, "root delay 16 s should still pass");
	good_reply(&p, T0);
	p.root_disp = ntp_short_from_double(16.5);
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_HEADER,
		      "root dispersion 16.5 s should be header");
	good_reply(&p, T0);
	p.version = 5;
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_HEADER, "version 5 should be header");
	p.version = 0;
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_HEADER, "version 0 should be header");
	good_reply(&p, T0);
	p.rec = 0;
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_HEADER, "receive 0 should be header");
	good_reply(&p, T0);
	p.precision = 1;
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_HEADER,
		      "a precision above 1 s should be header");

	good_reply(&p, T0);
	p.ref = 0;
	f = ntp_reply_tests(&p);
	ck_assert_msg(f == NTP_FLASH_STRATUM, "reference 0 should be stratum, flash %#x", f);
	good_reply(&p, T0);
	p.ref = ntp_ts_from_unix_ns(T0 + 60 * S);
	ck_assert_msg(ntp_reply_tests(&p) == NTP_FLASH_STRATUM,
		      "a reference after the transmit should be stratum");

	/* Several faults at once: every bit. */
	good_reply(&p, T0);
	p.mode = NTP_MODE_BROADCAST;
	p.leap = NTP_LEAP_UNSYNC;
	p.version = 7;
	p.ref = 0;
	f = ntp_reply_tests(&p);
	ck_assert_msg(
		f == (NTP_FLASH_BOGUS | NTP_FLASH_UNSYNC | NTP_FLASH_HEADER | NTP_FLASH_STRATUM),
		"four faults should set four bits, flash %#x", f);
}
END_TEST

START_TEST(test_kod)
{
	struct ntp_packet p;

	good_reply(&p, T0);
	p.stratum = 0;
	p.leap = NTP_LEAP_UNSYNC;
	p.refid = ntp_refid_ascii(NTP_KOD_RATE);
	ck_assert_msg(ntp_reply_is_kod(&p), "LI 3 and stratum 0 should be a kiss-o'-death");
	p.leap = NTP_LEAP_NONE;
	ck_assert_msg(!ntp_reply_is_kod(&p), "stratum 0 alone is no kiss-o'-death");
	ck_assert_msg(ntp_kod_ask(ntp_refid_ascii("RATE")) == NTP_KOD_ASK_SLOW_DOWN,
		      "RATE should ask us to slow down");
	ck_assert_msg(ntp_kod_ask(ntp_refid_ascii("DENY")) == NTP_KOD_ASK_STOP,
		      "DENY should ask us to stop");
	ck_assert_msg(ntp_kod_ask(ntp_refid_ascii("RSTR")) == NTP_KOD_ASK_STOP,
		      "RSTR should ask us to stop");
	ck_assert_msg(ntp_kod_ask(ntp_refid_ascii("INIT")) == NTP_KOD_ASK_NOTHING,
		      "INIT should ask nothing");
	ck_assert_msg(ntp_kod_ask(ntp_refid_ascii("DEN")) == NTP_KOD_ASK_NOTHING,
		      "a code that only starts like DENY should ask nothing");
}
END_TEST

Suite *ntpreply_suite(void)
{
	Suite *s = suite_create("ntpreply");
	TCase *tc = tcase_create("ntpreply");

	tcase_add_test(tc, test_good_reply);
	tcase_add_test(tc, test_flash_bits);
	tcase_add_test(tc, test_kod);
	suite_add_tcase(s, tc);
	return s;
}
