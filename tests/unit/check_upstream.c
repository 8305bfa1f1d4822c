/*
 * Tests of the NTP adapter (up_hand_reply, daemon/clockd/upstream.c), the
 * step between a matched upstream reply and the clock core: a good reply
 * becomes a measurement (offset, stratum, refid, root distance as the
 * server sent them), the same reply again is a duplicate, a reply that
 * fails the packet tests is a rejection whose flash bits the core shows,
 * kisses of death slow the polls down or stop them, and the server's
 * timestamps are placed in the NTP era of our own across the 2036 wrap.
 * An interleaved reply (up_hand_exchange) measures the exchange before
 * it: our stamps and the server's receive time of that one, the
 * transmit time it carries, its header tested against its own receive
 * time.
 * And the source driver's stop: a name lookup that outlives it writes to
 * its own mailbox, never to a descriptor the upstream closed and someone
 * else opened since.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "clock/core.h"
#include "daemon/clockd/upstream.h"
#include "proto/ntp.h"
#include "tests/unit/fakeclk.h"

Suite *upstream_suite(void);

/* ns: a sys time in 2023 */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL
/* ns per millisecond */
#define MS 1000000LL
/* s: Unix time of 2036-02-07 06:28:16 UTC, where NTP era 1 starts */
#define ERA1_UNIX 2085978496LL

static struct clk_core *make_core(struct fakeclk *f, int64_t sys)
{
	struct clk_core_cfg cfg = {
		.discipline = 0,
		.makestep_threshold = 1.0,
		.makestep_limit = 3,
		.maxdistance = 1.5,
		.holdover = 600,
		.minsources = 1,
		.precision = -20,
		.init_skew_ppm = -1.0,
	};
	struct clk_source_cfg sc = {.kind = CLK_KIND_NTP, .minpoll = 6, .maxpoll = 10};
	struct clk_core *c;

	fakeclk_init(f, sys, 0, 0.0);
	c = clk_core_create(&cfg, &f->base);
	ck_assert_msg(c != NULL, "a core should be created");
	strcpy(sc.name, "192.0.2.1");
	sc.refid = 0xc0000201u;
	ck_assert_msg(clk_core_add_source(c, &sc) == 0, "the source should be id 0");
	return c;
}

/* The reply of a server LIE seconds ahead to our request sent at T1, 10 ms round trip. */
static void reply(struct ntp_packet *p, int64_t t1, double lie)
{
	int64_t rec = t1 + 5 * MS + (int64_t)llround(lie * 1e9);

	memset(p, 0, sizeof(*p));
	p->leap = NTP_LEAP_NONE;
	p->version = 4;
	p->mode = NTP_MODE_SERVER;
	p->stratum = 1;
	p->precision = -20;
	p->root_disp = ntp_short_from_double(0.001);
	p->refid = ntp_refid_ascii("GPS");
	p->ref = ntp_ts_from_unix_ns(rec - S);
	p->rec = ntp_ts_from_unix_ns(rec);
	p->xmt = ntp_ts_from_unix_ns(rec + 10000);
}

START_TEST(test_sample_and_duplicate)
{
	struct fakeclk f;
	struct clk_core *c = make_core(&f, T0);
	struct clk_source_info si;
	struct ntp_packet p;
	uint64_t last = 0;

	clk_core_poll_sent(c, 0, T0);
	reply(&p, T0, 0.25);
	ck_assert_msg(up_hand_reply(c, 0, &last, &p, T0, T0 + 10 * MS + 10000) == UP_SAMPLE,
		      "a good reply should be a measurement");
	ck_assert_msg(last == p.xmt, "the adapter should remember the transmit timestamp");
	clk_core_update(c, T0 + 11 * MS, &(struct clk_snapshot){0});
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.reach == 1 && si.flash == 0, "the source should be reachable, flash %#x",
		      si.flash);
	ck_assert_msg(si.stratum == 1 && si.refid == ntp_refid_ascii("GPS") &&
			      fabs(si.root_disp - ntp_short_to_double(p.root_disp)) < 1e-12,
		      "what the server said of itself should reach the core");
	ck_assert_msg(fabs(si.offset - 0.25) < 1e-6, "offset should be +0.25 s, got %g", si.offset);
	ck_assert_msg(up_hand_reply(c, 0, &last, &p, T0, T0 + 11 * MS) == UP_REJECT,
		      "the same reply again should be rejected");
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.flash == NTP_FLASH_DUP, "a duplicate should show pkt_dup, got %#x",
		      si.flash);
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_packet_tests_reject)
{
	struct fakeclk f;
	struct clk_core *c = make_core(&f, T0);
	struct clk_source_info si;
	struct ntp_packet p;
	uint64_t last = 0;

	clk_core_poll_sent(c, 0, T0);
	reply(&p, T0, 0.0);
	p.leap = NTP_LEAP_UNSYNC;
	p.ref = 0;
	ck_assert_msg(up_hand_reply(c, 0, &last, &p, T0, T0 + 10 * MS) == UP_REJECT,
		      "an unsynchronized server's reply should be rejected");
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.flash == (NTP_FLASH_UNSYNC | NTP_FLASH_STRATUM) && si.reach == 0,
		      "its packet tests should show and it should stay unreached, flash %#x",
		      si.flash);
	ck_assert_msg(last == p.xmt, "a rejected reply still counts for duplicates");
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_kod)
{
	struct fakeclk f;
	struct clk_core *c = make_core(&f, T0);
	struct clk_source_info si;
	struct ntp_packet p;
	uint64_t last = 0;
	int64_t before;

	clk_core_poll_sent(c, 0, T0);
	before = clk_core_next_poll(c, 0);
	memset(&p, 0, sizeof(p));
	p.leap = NTP_LEAP_UNSYNC;
	p.mode = NTP_MODE_SERVER;
	p.refid = ntp_refid_ascii("RATE");
	ck_assert_msg(up_hand_reply(c, 0, &last, &p, T0, T0 + 10 * MS) == UP_KOD,
		      "a RATE kiss should be a kiss-o'-death");
	ck_assert_msg(clk_core_next_poll(c, 0) == T0 + 10 * MS + 128 * S && before < T0 + 128 * S,
		      "RATE should push the next poll one step up from the kiss");
	p.refid = ntp_refid_ascii("INIT");
	ck_assert_msg(up_hand_reply(c, 0, &last, &p, T0, T0 + 20 * MS) == UP_KOD &&
			      clk_core_next_poll(c, 0) == T0 + 10 * MS + 128 * S,
		      "an INIT kiss should change nothing");
	p.refid = ntp_refid_ascii("DENY");
	ck_assert_msg(up_hand_reply(c, 0, &last, &p, T0, T0 + 30 * MS) == UP_KOD,
		      "a DENY kiss should be a kiss-o'-death");
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(clk_core_next_poll(c, 0) == INT64_MAX && (si.flash & NTP_FLASH_DENIED),
		      "DENY should stop the polls and show pkt_denied");
	ck_assert_msg(last == 0, "a kiss-o'-death is no reply for duplicates");
	clk_core_destroy(c);
}
END_TEST

/* Our request just after the 2036 wrap, the server's stamps just before it. */
START_TEST(test_era_placement)
{
	struct fakeclk f;
	int64_t t1 = ERA1_UNIX * S + 2 * MS;
	struct clk_core *c = make_core(&f, t1);
	struct clk_source_info si;
	struct ntp_packet p;
	uint64_t last = 0;

	clk_core_poll_sent(c, 0, t1);
	/* The server is 10 ms behind: its receive and transmit fall in era 0. */
	reply(&p, t1, -0.010);
	ck_assert_msg(p.rec > 0xffffffff00000000ULL,
		      "the server's stamps should be before the wrap");
	ck_assert_msg(up_hand_reply(c, 0, &last, &p, t1, t1 + 10 * MS + 10000) == UP_SAMPLE,
		      "a reply across the wrap should be a measurement");
	clk_core_update(c, t1 + 11 * MS, &(struct clk_snapshot){0});
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(fabs(si.offset + 0.010) < 1e-6 && fabs(si.delay - 0.010) < 1e-6,
		      "across the wrap the offset should be -10 ms (got %g), the delay 10 ms (%g)",
		      si.offset, si.delay);
	clk_core_destroy(c);
}
END_TEST

/*
 * The previous exchange X (request at T0, a server 0.25 s ahead, 10 ms
 * round trip) and the interleaved reply P to the next request, a second
 * later: P's receive time is its own, its transmit time is the previous
 * reply's (10 us after that receive), its reference time newer than that.
 */
static void interleaved(struct ntp_packet *p, struct up_exchange *x)
{
	reply(p, T0, 0.25);
	x->t1 = T0;
	x->t4 = T0 + 10 * MS + 10000;
	x->rec = p->rec;
	x->valid = 1;
	x->sampled = 0;
	p->rec = ntp_ts_from_unix_ns(T0 + S + 5 * MS + 250 * MS);
	p->ref = ntp_ts_from_unix_ns(T0 + S + 250 * MS - MS);
}

START_TEST(test_interleaved_exchange)
{
	struct fakeclk f;
	struct clk_core *c = make_core(&f, T0);
	struct clk_source_info si;
	struct up_exchange x;
	struct ntp_packet p;
	uint64_t last = 0;

	clk_core_poll_sent(c, 0, T0);
	interleaved(&p, &x);
	ck_assert_msg(up_hand_exchange(c, 0, &last, &p, &x, 1) == UP_SAMPLE,
		      "an interleaved reply should measure the exchange before it");
	ck_assert_msg(last == p.xmt, "its transmit timestamp counts for duplicates");
	clk_core_update(c, T0 + S + 11 * MS, &(struct clk_snapshot){0});
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(fabs(si.offset - 0.25) < 1e-6 && fabs(si.delay - 0.010) < 1e-6,
		      "the previous exchange: offset +0.25 s (got %g), delay 10 ms (got %g)",
		      si.offset, si.delay);
	ck_assert_msg(up_hand_exchange(c, 0, &last, &p, &x, 1) == UP_REJECT,
		      "the same interleaved reply again should be a duplicate");
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_interleaved_header)
{
	struct fakeclk f;
	struct clk_core *c = make_core(&f, T0);
	struct clk_source_info si;
	struct up_exchange x;
	struct ntp_packet p;
	uint64_t last = 0;

	clk_core_poll_sent(c, 0, T0);
	interleaved(&p, &x);
	/* Read as a basic reply, a reference time after its transmit time is a bad server. */
	ck_assert_msg(up_hand_exchange(c, 0, &last, &p, &x, 0) == UP_REJECT,
		      "a basic reply set after it answered should be rejected");
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.flash == NTP_FLASH_STRATUM, "it should show pkt_stratum, got %#x",
		      si.flash);
	last = 0;
	ck_assert_msg(up_hand_exchange(c, 0, &last, &p, &x, 1) == UP_SAMPLE,
		      "interleaved, the reference time is held against its receive time");
	interleaved(&p, &x);
	p.ref = ntp_ts_from_unix_ns(T0 + S + 250 * MS + 6 * MS);
	last = 0;
	ck_assert_msg(up_hand_exchange(c, 0, &last, &p, &x, 1) == UP_REJECT,
		      "a reference time after the receive time should be rejected");
	interleaved(&p, &x);
	x.rec = 0;
	last = 0;
	ck_assert_msg(up_hand_exchange(c, 0, &last, &p, &x, 1) == UP_REJECT,
		      "an exchange without the server's receive time measures nothing");
	interleaved(&p, &x);
	p.xmt = 0;
	last = 0;
	ck_assert_msg(up_hand_exchange(c, 0, &last, &p, &x, 1) == UP_REJECT,
		      "an interleaved reply without a transmit time measures nothing");
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.flash & NTP_FLASH_UNSYNC, "it should show pkt_unsync, got %#x", si.flash);
	clk_core_destroy(c);
}
END_TEST

/* A lookup that blocks until released (10 s at most), then finds nothing. */
static atomic_int lookup_started, lookup_release;

static int slow_lookup(const char *host, const char *port, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	struct timespec ms10 = {0, 10000000};
	int i;

	(void)host;
	(void)port;
	(void)hints;
	atomic_store(&lookup_started, 1);
	for (i = 0; i < 1000 && !atomic_load(&lookup_release); i++)
		nanosleep(&ms10, NULL);
	*res = NULL;
	return EAI_NONAME;
}

/* Wait (10 ms steps, up to 10 s) until *FLAG is WANT; returns whether it came. */
static int wait_for(int (*get)(void), int want)
{
	struct timespec ms10 = {0, 10000000};
	int i;

	for (i = 0; i < 1000 && get() != want; i++)
		nanosleep(&ms10, NULL);
	return get() == want;
}

static int started(void)
{
	return atomic_load(&lookup_started);
}

/*
 * The upstream stops (its 2 s grace over) while a lookup still runs. The
 * descriptors it closed are taken by a socket pair; when the lookup then
 * finishes, nothing may arrive on it: the lookup's wake-up goes to its
 * own mailbox, which it frees.
 */
START_TEST(test_lookup_outlives_upstream)
{
	static struct horod_config cfg; /* large: not on the stack */
	struct fakeclk f;
	struct clk_core_cfg cc = {
		.maxdistance = 1.5, .minsources = 1, .precision = -20, .init_skew_ppm = -1.0};
	struct clk_core *c;
	struct srcdrv d = {.ops = &srcdrv_ntp};
	struct srcdrv_env env;
	char buf[16];
	int sv[2];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.clk.servers[0].host, sizeof(cfg.clk.servers[0].host), "slow.invalid");
	cfg.clk.servers[0].port = 123;
	cfg.clk.servers[0].maxsources = 1;
	cfg.clk.servers[0].minpoll = 6;
	cfg.clk.servers[0].maxpoll = 10;
	cfg.clk.n_servers = 1;
	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cc, &f.base);
	env.cfg = &cfg;
	env.core = c;
	env.drv = &f.base;
	env.precision = -20;
	atomic_store(&lookup_started, 0);
	atomic_store(&lookup_release, 0);
	up_set_lookup(slow_lookup);
	ck_assert_msg(d.ops->init(&d, &env) == 0, "the NTP source driver should start");
	d.ops->run(&d, T0); /* starts the lookup of the unresolved name */
	ck_assert_msg(wait_for(started, 1), "the lookup should start");
	d.ops->fini(&d);
	ck_assert_msg(up_lookups_running() == 1, "the lookup should still be under way");
	ck_assert_msg(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
		      "a socket pair should open");
	atomic_store(&lookup_release, 1);
	ck_assert_msg(wait_for(up_lookups_running, 0), "the lookup should finish");
	ck_assert_msg(read(sv[0], buf, sizeof(buf)) < 0 && errno == EAGAIN &&
			      read(sv[1], buf, sizeof(buf)) < 0 && errno == EAGAIN,
		      "a late lookup should write to nothing but its own mailbox");
	close(sv[0]);
	close(sv[1]);
	up_set_lookup(NULL);
	clk_core_destroy(c);
}
END_TEST

Suite *upstream_suite(void)
{
	Suite *s = suite_create("upstream");
	TCase *tc = tcase_create("adapter");

	tcase_add_test(tc, test_sample_and_duplicate);
	tcase_add_test(tc, test_packet_tests_reject);
	tcase_add_test(tc, test_kod);
	tcase_add_test(tc, test_era_placement);
	tcase_add_test(tc, test_interleaved_exchange);
	tcase_add_test(tc, test_interleaved_header);
	suite_add_tcase(s, tc);
	tc = tcase_create("driver");
	tcase_set_timeout(tc, 30); /* s: the 2 s grace at stop, the lookup's own 10 s at most */
	tcase_add_test(tc, test_lookup_outlives_upstream);
	suite_add_tcase(s, tc);
	return s;
}
