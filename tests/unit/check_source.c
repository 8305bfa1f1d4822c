/*
 * Tests of one source, whatever its kind: the round-trip tests on crafted
 * measurements (each bad value sets its flash bit and drops it, a good
 * one becomes a sample and sets the reach bit, a far source is flagged
 * peer_dist but still sampled, a zero-delay reference-clock measurement
 * is a sample with the offset it states), a rejection by the driver's own
 * tests, the reach register and unreachability, the iburst schedule, and
 * a source asking to slow down or refusing us; a step of half a second
 * taken as one (the source starts again from it, frequency kept, polled
 * soon), queueing noise never, and a leap second shifting its samples.
 * (An NTP reply's header tests are proto/ntpreply.c's: check_ntpreply.c.)
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

/* A good server's measurement of a request sent at T1 (our clock right), 10 ms round trip. */
static void good_meas(struct clk_meas *m, struct clk_xchg *x, int64_t t1)
{
	memset(m, 0, sizeof(*m));
	m->leap = NTP_LEAP_NONE;
	m->stratum = 2;
	m->precision = -20;
	m->root_delay = 0.002;
	m->root_disp = 0.001;
	m->refid = 0x0a000001u;
	m->t1 = t1;
	m->t2 = t1 + 5 * MS;
	m->t3 = t1 + 5 * MS + 10000;
	m->t4 = t1 + 10 * MS + 10000;
	x->r1 = t1;
	x->r4 = m->t4;
	x->t4 = x->r4;
}

/* Flash bits of measurement M (from a fresh source) after the test tweaked it. */
static unsigned flash_of(const struct clk_meas *m, const struct clk_xchg *x, int *taken)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, x->r1);
	*taken = clk_src_sample(&s, &e, m, x);
	return s.flash;
}

START_TEST(test_good_meas)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	struct clk_meas m;
	struct clk_xchg x;

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, T0);
	good_meas(&m, &x, T0);
	ck_assert_msg(clk_src_sample(&s, &e, &m, &x) == 1,
		      "a good measurement should become a sample");
	ck_assert_msg(s.flash == 0, "a good measurement should pass every test, flash %#x",
		      s.flash);
	ck_assert_msg(s.reach == 1 && s.filt.n == 1 && s.fresh, "reach bit 0 and one sample");
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->delay - 0.010) < 1e-9,
		      "delay should be 10 ms, got %g", clk_filter_at(&s.filt, 0)->delay);
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->x) < 1e-9, "offset should be 0, got %g",
		      clk_filter_at(&s.filt, 0)->x);
	ck_assert_msg(s.stratum == 2 && s.refid == 0x0a000001u && s.last_rx == x.t4 &&
			      s.root_delay == 0.002 && s.root_disp == 0.001,
		      "what the source said of itself should be recorded");
}
END_TEST

START_TEST(test_offset_sign)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	struct clk_meas m;
	struct clk_xchg x;

	/* The server is 0.25 s ahead of us. */
	clk_src_init(&s, &c, T0);
	good_meas(&m, &x, T0);
	m.t2 += 250 * MS;
	m.t3 += 250 * MS;
	clk_src_sample(&s, &e, &m, &x);
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->x - 0.25) < 1e-9,
		      "offset (source - us) should be +0.25 s, got %g",
		      clk_filter_at(&s.filt, 0)->x);
}
END_TEST

/* A reference clock's measurement: one stamp of ours, one reference time, no delay. */
START_TEST(test_zero_delay_meas)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(4, 4, 0);
	struct clk_src_env e = env_of();
	struct clk_meas m;
	struct clk_xchg x;
	const struct clk_sample *sm;

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, T0);
	memset(&m, 0, sizeof(m));
	m.t1 = m.t4 = T0 + 3 * MS;
	/* The reference says that instant was 1.5 ms later than we stamped it. */
	m.t2 = m.t3 = T0 + 3 * MS + 1500000;
	m.stratum = 0;
	m.precision = -22;
	m.refid = ntp_refid_ascii("PPS");
	x.r1 = x.r4 = x.t4 = m.t1;
	ck_assert_msg(clk_src_sample(&s, &e, &m, &x) == 1 && s.flash == 0,
		      "a zero-delay measurement should become a sample, flash %#x", s.flash);
	sm = clk_filter_at(&s.filt, 0);
	ck_assert_msg(fabs(sm->x - 0.0015) < 1e-12, "offset should be +1.5 ms, got %.12f", sm->x);
	ck_assert_msg(sm->t == T0 + 3 * MS, "the sample time should be the stamp");
	ck_assert_msg(sm->delay == ldexp(1.0, -20), "the delay should be our precision, got %g",
		      sm->delay);
	ck_assert_msg(fabs(sm->disp - (ldexp(1.0, -20) + ldexp(1.0, -22))) < 1e-15,
		      "the dispersion should be both precisions, got %g", sm->disp);
	ck_assert_msg(s.stratum == 0 && s.root_delay == 0.0 && s.root_disp == 0.0 &&
			      s.refid == ntp_refid_ascii("PPS"),
		      "a stratum-0 reference with no root delay or dispersion");
}
END_TEST

/* What a source says of itself, out of range: its flash bit, no sample. */
START_TEST(test_flash_ranges)
{
	struct clk_meas m;
	struct clk_xchg x;
	int taken;

	good_meas(&m, &x, T0);
	m.leap = NTP_LEAP_UNSYNC;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_UNSYNC && !taken,
		      "leap 3 should be unsync");
	good_meas(&m, &x, T0);
	m.stratum = 16;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_UNSYNC && !taken,
		      "stratum 16 should be unsync");
	good_meas(&m, &x, T0);
	m.root_disp = NAN;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER && !taken,
		      "a NaN root dispersion should be header");
	good_meas(&m, &x, T0);
	m.root_delay = -0.001;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER && !taken,
		      "a negative root delay should be header");
	good_meas(&m, &x, T0);
	m.root_delay = 17.0;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER && !taken,
		      "a root delay of 17 s should be header");
	good_meas(&m, &x, T0);
	m.precision = 1;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER && !taken,
		      "a precision above 1 s should be header");
}
END_TEST

START_TEST(test_flash_arithmetic)
{
	struct clk_meas m;
	struct clk_xchg x;
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	int taken;

	good_meas(&m, &x, T0);
	x.r4 = x.r1 - MS;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER && !taken,
		      "a reply received before its request should be header");
	good_meas(&m, &x, T0);
	x.r4 = x.r1 + 4 * S;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER,
		      "a 4 s round trip should be header");
	good_meas(&m, &x, T0);
	m.t3 = T0 + 4 * MS;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER,
		      "a server transmit before its receive should be header");
	good_meas(&m, &x, T0);
	m.t3 = T0 + 5 * MS + 50 * MS;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_HEADER,
		      "a server that held the request longer than the round trip should be header");
	good_meas(&m, &x, T0);
	m.t2 = INT64_MIN + 5;
	ck_assert_msg(flash_of(&m, &x, &taken) & NTP_FLASH_HEADER,
		      "an offset that overflows should be header");

	/* A step of our driver between request and reply: two timescales in one sample. */
	good_meas(&m, &x, T0);
	clk_src_init(&s, &c, T0);
	e.step_r = T0 + 2 * MS;
	ck_assert_msg(clk_src_sample(&s, &e, &m, &x) == 0 && s.flash == NTP_FLASH_BOGUS,
		      "a reply across our step should be bogus");

	/* A far server: flagged, still sampled. */
	good_meas(&m, &x, T0);
	m.root_disp = 2.0;
	ck_assert_msg(flash_of(&m, &x, &taken) == NTP_FLASH_PEER_DIST && taken,
		      "root distance above 1.5 s should be peer_dist and still a sample");
}
END_TEST

/* A measurement its driver's own tests refused: the flash bits shown, nothing learned. */
START_TEST(test_reject)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	struct clk_meas m;
	struct clk_xchg x;

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, T0);
	clk_src_reject(&s, NTP_FLASH_UNSYNC | NTP_FLASH_STRATUM);
	ck_assert_msg(s.flash == (NTP_FLASH_UNSYNC | NTP_FLASH_STRATUM),
		      "the rejection's flash bits should show, got %#x", s.flash);
	ck_assert_msg(s.reach == 0 && s.filt.n == 0 && !s.fresh && s.last_rx == 0,
		      "a rejection should teach nothing");
	good_meas(&m, &x, T0);
	clk_src_sample(&s, &e, &m, &x);
	ck_assert_msg(s.flash == 0 && s.reach == 1, "the next good measurement clears the bits");
}
END_TEST

START_TEST(test_reach_and_unreach)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	struct clk_meas m;
	struct clk_xchg x;
	int i;

	clk_src_init(&s, &c, T0);
	clk_src_poll_sent(&s, T0);
	good_meas(&m, &x, T0);
	clk_src_sample(&s, &e, &m, &x);
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

START_TEST(test_slow_down_refused)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 1);

	clk_src_init(&s, &c, T0);
	clk_src_slow_down(&s, T0);
	ck_assert_msg(s.poll == 7 && s.burst == 0 && s.next_poll == T0 + 128 * S,
		      "slowing down should end the burst and double the poll");
	ck_assert_msg(!s.denied, "slowing down should not stop the polls");
	clk_src_refused(&s);
	ck_assert_msg(s.denied && (s.flash & NTP_FLASH_DENIED), "a refusal should stop the polls");
	clk_src_reset(&s, 0xc0000202u, T0 + S);
	ck_assert_msg(!s.denied && s.flash == 0 && s.cfg.refid == 0xc0000202u &&
			      s.next_poll == T0 + S && s.burst == CLK_BURST_POLLS,
		      "a new address should start the source afresh");
	s.poll = 10;
	clk_src_slow_down(&s, T0);
	ck_assert_msg(s.poll == 10, "slowing down should stop at maxpoll, got %d", s.poll);
}
END_TEST

/* A deterministic uniform deviate in [0, 1) (a small LCG: tests need no quality). */
static double unit_noise(uint64_t *st)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*st >> 11) / 9007199254740992.0;
}

/* Feed S a good measurement of a server OFF seconds ahead, request at T1, with Q1 and Q2
 * seconds of queueing out and back; returns what clk_src_sample made of it. */
static int feed(struct clk_src *s, const struct clk_src_env *e, int64_t t1, double off, double q1,
		double q2)
{
	struct clk_meas m;
	struct clk_xchg x;
	int64_t out = 5 * MS + (int64_t)(q1 * 1e9), back = 5 * MS + (int64_t)(q2 * 1e9);

	good_meas(&m, &x, t1);
	clk_src_poll_sent(s, t1);
	m.t2 = t1 + out + (int64_t)(off * 1e9);
	m.t3 = m.t2 + 10000;
	m.t4 = t1 + out + 10000 + back;
	x.r4 = m.t4;
	x.t4 = m.t4;
	return clk_src_sample(s, e, &m, &x);
}

START_TEST(test_step_restarts)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 1);
	struct clk_src_env e = env_of();
	int64_t t = T0;
	double f;
	int i, r = 0;

	clk_src_init(&s, &c, T0);
	for (i = 0; i < 40; i++, t += 64 * S)
		ck_assert_int_eq(feed(&s, &e, t, 0.001, 0.0, 0.0), CLK_SRC_SAMPLE);
	f = s.est.f;
	s.poll = 10;
	s.burst = 0;
	s.next_poll = t + 1024 * S;
	r = feed(&s, &e, t, 0.501, 0.0, 0.0);
	ck_assert_msg(r == CLK_SRC_STEP, "a half-second jump should be a step, got %d", r);
	ck_assert_msg(s.filt.n == 1 && fabs(clk_filter_at(&s.filt, 0)->x - 0.501) < 1e-6,
		      "the filter should hold the new sample alone");
	ck_assert_msg(s.est.n == 1 && fabs(s.est.x - 0.501) < 1e-6 && s.est.f == f,
		      "the estimate should restart its phase and keep its frequency");
	ck_assert_msg(s.steps == 1 && fabs(s.step_by - 0.5) < 1e-4 && s.step_r == t,
		      "the step should be counted with its size (%g) and request", s.step_by);
	ck_assert_msg(s.poll == 6 && s.burst == CLK_BURST_POLLS && s.next_poll <= t + 3 * S,
		      "the source should be polled again soon, at minpoll, with a burst");
	/* The new phase is the source's now: the next sample is no step. */
	ck_assert_int_eq(feed(&s, &e, t + 2 * S, 0.501, 0.0, 0.0), CLK_SRC_SAMPLE);
}
END_TEST

/* Queueing of up to 20 ms each way, in any mix, is never a step. */
START_TEST(test_noise_is_no_step)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(4, 6, 0);
	struct clk_src_env e = env_of();
	uint64_t st = 11;
	int64_t t = T0;
	int i, steps = 0;

	clk_src_init(&s, &c, T0);
	for (i = 0; i < 2000; i++, t += 16 * S) {
		double q1 = 0.02 * unit_noise(&st) * unit_noise(&st);
		double q2 = 0.02 * unit_noise(&st) * unit_noise(&st);

		steps += feed(&s, &e, t, 0.003, q1, q2) == CLK_SRC_STEP;
	}
	ck_assert_msg(steps == 0, "queueing noise should never pass for a step (%d did)", steps);
}
END_TEST

START_TEST(test_leap_shift)
{
	struct clk_src s;
	struct clk_source_cfg c = cfg_of(6, 10, 0);
	struct clk_src_env e = env_of();
	int64_t t = T0;
	int i;

	clk_src_init(&s, &c, T0);
	for (i = 0; i < 10; i++, t += 64 * S)
		feed(&s, &e, t, 0.002, 0.0, 0.0);
	clk_src_leap(&s, 1);
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->x + 0.998) < 1e-9 &&
			      fabs(s.est.x + 0.998) < 1e-6,
		      "an inserted second should shift every sample and the estimate by -1 s");
	/* After it, the server's time is a second less: no step. */
	ck_assert_int_eq(feed(&s, &e, t, 0.002 - 1.0, 0.0, 0.0), CLK_SRC_SAMPLE);
	clk_src_leap(&s, -1);
	ck_assert_msg(fabs(clk_filter_at(&s.filt, 0)->x - 0.002) < 1e-9,
		      "a deleted second should shift them back");
}
END_TEST

Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_good_meas);
	tcase_add_test(tc, test_offset_sign);
	tcase_add_test(tc, test_zero_delay_meas);
	tcase_add_test(tc, test_flash_ranges);
	tcase_add_test(tc, test_flash_arithmetic);
	tcase_add_test(tc, test_reject);
	tcase_add_test(tc, test_reach_and_unreach);
	tcase_add_test(tc, test_iburst_schedule);
	tcase_add_test(tc, test_slow_down_refused);
	tcase_add_test(tc, test_step_restarts);
	tcase_add_test(tc, test_noise_is_no_step);
	tcase_add_test(tc, test_leap_shift);
	suite_add_tcase(s, tc);
	return s;
}
