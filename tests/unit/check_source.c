/*
 * Tests of one source: the RFC 5905 packet tests on crafted replies (each
 * bad field sets its flash bit and drops the reply, a good reply becomes
 * a sample and sets the reach bit, a far server is flagged peer_dist but
 * still sampled), the reach register and unreachability, the iburst
 * schedule, and the kisses of death.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "clock/source.h"
#include "proto/ntp.h"

Suite *source_suite(void);

/* ns: a raw time in 2023 */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL
/* ns per millisecond */
#define MS 1000000LL

static struct clk_source_cfg cfg_of(int minpoll, int maxpoll, int iburst)
{
	struct clk_source_cfg c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "192.0.2.1");
	c.refid = 0xc0000201u;
	c.minpoll = minpoll;
	c.maxpoll = maxpoll;
	c.iburst = iburst;
	return c;
}

static struct clk_src_env env_of(void)
{
	struct clk_src_env e = {
		.precision = -20,
		.maxdistance = 1.5,
		.freq = 0.0,
		.freq_sd = -1.0,
		.step_r = INT64_MIN,
	};

	return e;
}

/* A good server reply to a request sent at T1 (our clock right), 10 ms round trip. */
static void good_reply(struct ntp_packet *p, struct clk_xchg *x, int64_t t1)
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
	x->r1 = t1;
	x->r4 = t1 + 10 * MS + 10000;
	x->near = t1;
	x->t4 = x->r4;
}

/* Flash bits of reply P (from a fresh source) after the test tweaked it. */
static unsigned flash_of(const struct ntp_packet *p, const struct clk_xchg *x, int *taken)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, x->r1);
	*taken = clk_src_reply(&s, &e, p, x);
	return s.flash;
}

START_TEST(test_good_reply)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	struct ntp_packet p;
	struct clk_xchg x;

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, T0);
	good_reply(&p, &x, T0);
	ck_assert_msg(clk_src_reply(&s, &e, &p, &x) == 1, "a good reply should become a sample");
	ck_assert_msg(s.flash == 0, "a good reply should pass every test, flash %#x", s.flash);
	ck_assert_msg(s.reach == 1 && s.filt.n == 1 && s.fresh, "reach bit 0 and one sample");
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->delay - 0.010) < 1e-9,
		      "delay should be 10 ms, got %g", clk_filter_at(&s.filt, 0)->delay);
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->x) < 1e-9, "offset should be 0, got %g",
		      clk_filter_at(&s.filt, 0)->x);
	ck_assert_msg(s.stratum == 2 && s.refid == 0x0a000001u && s.last_rx == x.t4,
		      "the server's header should be recorded");
	ck_assert_msg(clk_src_reply(&s, &e, &p, &x) == 0 && s.flash == NTP_FLASH_DUP,
		      "the same reply again should be a duplicate, flash %#x", s.flash);
}
END_TEST

START_TEST(test_offset_sign)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	struct ntp_packet p;
	struct clk_xchg x;

	/* The server is 0.25 s ahead of us. */
	clk_src_init(&s, &c, T0);
	good_reply(&p, &x, T0);
	p.rec = ntp_ts_from_unix_ns(T0 + 5 * MS + 250 * MS);
	p.xmt = ntp_ts_from_unix_ns(T0 + 5 * MS + 10000 + 250 * MS);
	clk_src_reply(&s, &e, &p, &x);
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->x - 0.25) < 1e-9,
		      "offset (source - us) should be +0.25 s, got %g",
		      clk_filter_at(&s.filt, 0)->x);
}
END_TEST

/* One field spoiled per case: the flash bit expected. */
START_TEST(test_flash_bits)
{
	struct ntp_packet p;
	struct clk_xchg x;
	unsigned f;
	int taken;

	good_reply(&p, &x, T0);
	p.mode = NTP_MODE_CLIENT;
	f = flash_of(&p, &x, &taken);
	ck_assert_msg(f == NTP_FLASH_BOGUS && !taken, "mode 3 should be bogus, flash %#x", f);

	good_reply(&p, &x, T0);
	p.leap = NTP_LEAP_UNSYNC;
	f = flash_of(&p, &x, &taken);
	ck_assert_msg(f == NTP_FLASH_UNSYNC && !taken, "LI 3 should be unsync, flash %#x", f);

	good_reply(&p, &x, T0);
	p.stratum = 0;
	ck_assert_msg(flash_of(&p, &x, &taken) & NTP_FLASH_UNSYNC, "stratum 0 should be unsync");
	p.stratum = 16;
	ck_assert_msg(flash_of(&p, &x, &taken) & NTP_FLASH_UNSYNC, "stratum 16 should be unsync");

	good_reply(&p, &x, T0);
	p.xmt = 0;
	ck_assert_msg(flash_of(&p, &x, &taken) & NTP_FLASH_UNSYNC, "transmit 0 should be unsync");

	good_reply(&p, &x, T0);
	p.root_delay = ntp_short_from_double(17.0);
	f = flash_of(&p, &x, &taken);
	ck_assert_msg(f == NTP_FLASH_HEADER, "root delay 17 s should be header, flash %#x", f);
	good_reply(&p, &x, T0);
	p.root_disp = ntp_short_from_double(16.5);
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_HEADER,
		      "root dispersion 16.5 s should be header");
	good_reply(&p, &x, T0);
	p.version = 5;
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_HEADER, "version 5 should be header");
	good_reply(&p, &x, T0);
	p.rec = 0;
	ck_assert_msg(flash_of(&p, &x, &taken) & NTP_FLASH_HEADER, "receive 0 should be header");

	good_reply(&p, &x, T0);
	p.ref = 0;
	f = flash_of(&p, &x, &taken);
	ck_assert_msg(f == NTP_FLASH_STRATUM && !taken, "reference 0 should be stratum, flash %#x",
		      f);
	good_reply(&p, &x, T0);
	p.ref = ntp_ts_from_unix_ns(T0 + 60 * S);
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_STRATUM,
		      "a reference after the transmit should be stratum");
}
END_TEST

START_TEST(test_flash_arithmetic)
{
	struct ntp_packet p;
	struct clk_xchg x;
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	int taken;

	good_reply(&p, &x, T0);
	x.r4 = x.r1 - MS;
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_HEADER && !taken,
		      "a reply received before its request should be header");
	good_reply(&p, &x, T0);
	x.r4 = x.r1 + 4 * S;
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_HEADER,
		      "a 4 s round trip should be header");
	good_reply(&p, &x, T0);
	p.xmt = ntp_ts_from_unix_ns(T0 + 4 * MS);
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_HEADER,
		      "a server transmit before its receive should be header");
	good_reply(&p, &x, T0);
	p.xmt = ntp_ts_from_unix_ns(T0 + 5 * MS + 50 * MS);
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_HEADER,
		      "a server that held the request longer than the round trip should be header");

	/* A step of our driver between request and reply: two timescales in one sample. */
	good_reply(&p, &x, T0);
	clk_src_init(&s, &c, T0);
	e.step_r = T0 + 2 * MS;
	ck_assert_msg(clk_src_reply(&s, &e, &p, &x) == 0 && s.flash == NTP_FLASH_BOGUS,
		      "a reply across our step should be bogus");

	/* A far server: flagged, still sampled. */
	good_reply(&p, &x, T0);
	p.root_disp = ntp_short_from_double(2.0);
	ck_assert_msg(flash_of(&p, &x, &taken) == NTP_FLASH_PEER_DIST && taken,
		      "root distance above 1.5 s should be peer_dist and still a sample");
}
END_TEST

START_TEST(test_reach_and_unreach)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	struct ntp_packet p;
	struct clk_xchg x;
	int i;

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, T0);
	good_reply(&p, &x, T0);
	clk_src_reply(&s, &e, &p, &x);
	for (i = 1; i <= 3; i++)
		clk_src_poll_sent(&s, T0 + i * 64 * S);
	ck_assert_msg(s.reach == 0x08, "three silent polls should shift the bit to 0x08, got %#x",
		      s.reach);
	for (i = 4; i <= 9; i++)
		clk_src_poll_sent(&s, T0 + i * 64 * S);
	ck_assert_msg(s.reach == 0, "eight silent polls should clear reach, got %#x", s.reach);
	ck_assert_msg(s.flash & NTP_FLASH_PEER_UNREACH, "an unreachable source should say so");
	ck_assert_msg(s.poll == 7, "eight silent polls should back the poll off to 7, got %d",
		      s.poll);
}
END_TEST

START_TEST(test_iburst_schedule)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 1), c0 = cfg_of(0, 4, 1);
	int64_t t = T0;
	int i;

	clk_src_init(&s, &c, T0);
	ck_assert_msg(s.next_poll == T0, "the first poll should be at once");
	for (i = 0; i < CLK_BURST_POLLS; i++) {
		clk_src_poll_sent(&s, t);
		/* As if answered: a silent source would also back off. */
		s.reach |= 1;
		s.silent = 0;
		t = s.next_poll;
	}
	ck_assert_msg(t == T0 + 7 * 2 * S + 64 * S,
		      "eight polls 2 s apart, then minpoll 64 s: next at +78 s, got %+lld ns",
		      (long long)(t - T0));
	clk_src_init(&s, &c0, T0);
	clk_src_poll_sent(&s, T0);
	ck_assert_msg(s.next_poll == T0 + S, "with minpoll 0 the burst should be 1 s apart");
	c.iburst = 0;
	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, T0);
	ck_assert_msg(s.next_poll == T0 + 64 * S, "without iburst polls should be minpoll apart");
}
END_TEST

START_TEST(test_kod)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 1);

	clk_src_init(&s, &c, T0);
	clk_src_kod(&s, "RATE", T0);
	ck_assert_msg(s.poll == 7 && s.burst == 0 && s.next_poll == T0 + 128 * S,
		      "RATE should end the burst and double the poll");
	ck_assert_msg(!s.denied, "RATE should not stop the polls");
	clk_src_kod(&s, "INIT", T0);
	ck_assert_msg(s.poll == 7 && !s.denied, "an unknown code should change nothing");
	clk_src_kod(&s, "DENY", T0);
	ck_assert_msg(s.denied && (s.flash & NTP_FLASH_DENIED), "DENY should stop the polls");
	clk_src_reset(&s, 0xc0000202u, T0 + S);
	ck_assert_msg(!s.denied && s.flash == 0 && s.cfg.refid == 0xc0000202u &&
			      s.next_poll == T0 + S && s.burst == CLK_BURST_POLLS,
		      "a new address should start the source afresh");
	clk_src_kod(&s, "RSTR", T0);
	ck_assert_msg(s.denied, "RSTR should stop the polls too");
}
END_TEST

Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_good_reply);
	tcase_add_test(tc, test_offset_sign);
	tcase_add_test(tc, test_flash_bits);
	tcase_add_test(tc, test_flash_arithmetic);
	tcase_add_test(tc, test_reach_and_unreach);
	tcase_add_test(tc, test_iburst_schedule);
	tcase_add_test(tc, test_kod);
	suite_add_tcase(s, tc);
	return s;
}
