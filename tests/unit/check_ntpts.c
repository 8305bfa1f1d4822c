/*
 * Unit tests of proto/'s time formats: NTP timestamps from and to Unix
 * nanoseconds and timespecs (exact to the nanosecond, before 1970, across
 * the 2036 era rollover), timestamp differences, and the 32-bit short
 * format of root delay and dispersion.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "proto/ntp.h"

#define ERA1_UNIX  2085978496LL /* s: Unix time of 2036-02-07 06:28:16 UTC, NTP era 1 */
#define FEB08_2036 2086041600LL /* s: Unix time of 2036-02-08 00:00:00 UTC */
#define FEB06_2036 2085868800LL /* s: Unix time of 2036-02-06 00:00:00 UTC */
#define NS	   1000000000LL /* ns per second */

Suite *ntpts_suite(void);

/* Reference fraction: round(ns * 2^32 / 1e9) with 128-bit arithmetic. */
static uint32_t ref_frac(uint64_t ns)
{
	unsigned __int128 num = ((unsigned __int128)ns << 32) + NS / 2;

	return (uint32_t)(num / NS);
}

START_TEST(test_ts_known_values)
{
	ck_assert_msg(ntp_ts_from_unix_ns(0) == NTP_UNIX_EPOCH << 32,
		      "the Unix epoch should be NTP second 2208988800");
	ck_assert_msg(ntp_ts_from_unix_ns(NS / 2) == (NTP_UNIX_EPOCH << 32 | 0x80000000u),
		      "half a second should be fraction 0x80000000");
	ck_assert_msg(ntp_ts_from_unix_ns(ERA1_UNIX * NS) == 0,
		      "2036-02-07 06:28:16 UTC should wrap to timestamp 0");
	ck_assert_msg(ntp_ts_from_unix_ns(-1) == ((NTP_UNIX_EPOCH - 1) << 32 | 4294967292u),
		      "-1 ns should be the last fraction of 1969, got %016llx",
		      (unsigned long long)ntp_ts_from_unix_ns(-1));
	ck_assert_msg(ntp_ts_from_unix_ns(-(int64_t)NTP_UNIX_EPOCH * NS) == 0,
		      "1900-01-01 should be timestamp 0");
	ck_assert_msg(ntp_ts_from_unix_ns(999999999) == (NTP_UNIX_EPOCH << 32 | 4294967292u),
		      "999999999 ns should be fraction 4294967292 (rounded to nearest)");
}
END_TEST

START_TEST(test_ts_fraction_exact)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int64_t ns;
	uint32_t i;

	/* Every ns near the ends of the second, then pseudo-random ones. */
	for (i = 0; i < 2000000; i++) {
		uint32_t sub = i < 1000000 ? i : (uint32_t)(NS - 2000000 + i);
		uint64_t ts = ntp_ts_from_unix_ns(1700000000LL * NS + sub);

		/* if + ck_abort: ck_assert marks a point per call, too slow here. */
		if ((uint32_t)ts != ref_frac(sub))
			ck_abort_msg("fraction of %u ns should be %u, got %u", sub, ref_frac(sub),
				     (uint32_t)ts);
		if (ntp_ts_to_unix_ns(ts, 1700000000LL * NS) != 1700000000LL * NS + sub)
			ck_abort_msg("%u ns should round-trip exactly", sub);
	}
	for (i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		/* Anything within +-146 years of 1970, negative included. */
		ns = (int64_t)(x >> 1) - (int64_t)(1ULL << 62);
		{
			uint64_t ts = ntp_ts_from_unix_ns(ns);
			int64_t rem = ((ns % NS) + NS) % NS;
			int64_t near = ns + (int64_t)(x % (60ULL * 365 * 86400)) * NS -
				       30LL * 365 * 86400 * NS;

			if ((uint32_t)ts != ref_frac((uint64_t)rem))
				ck_abort_msg("fraction of %lld ns should be exact", (long long)ns);
			if (ntp_ts_to_unix_ns(ts, near) != ns)
				ck_abort_msg("%lld ns should round-trip near %lld, got %lld",
					     (long long)ns, (long long)near,
					     (long long)ntp_ts_to_unix_ns(ts, near));
		}
	}
}
END_TEST

START_TEST(test_ts_timespec)
{
	struct timespec ts = {.tv_sec = 1700000000, .tv_nsec = 123456789}, back;
	uint64_t t = ntp_ts_from_timespec(&ts);

	ck_assert_msg(t == ntp_ts_from_unix_ns(1700000000LL * NS + 123456789),
		      "timespec and ns conversions should agree");
	ntp_ts_to_timespec(t, 1700000000LL * NS, &back);
	ck_assert_msg(back.tv_sec == ts.tv_sec && back.tv_nsec == ts.tv_nsec,
		      "timespec should round-trip, got %lld.%09ld", (long long)back.tv_sec,
		      back.tv_nsec);

	ts.tv_sec = -1;
	ts.tv_nsec = 999999999;
	t = ntp_ts_from_timespec(&ts);
	ck_assert_msg(t == ntp_ts_from_unix_ns(-1), "-1 s + 999999999 ns should equal -1 ns");
	ntp_ts_to_timespec(t, 0, &back);
	ck_assert_msg(back.tv_sec == -1 && back.tv_nsec == 999999999,
		      "pre-1970 timespec should round-trip, got %lld.%09ld", (long long)back.tv_sec,
		      back.tv_nsec);

	/* Denormalized tv_nsec is folded into the seconds. */
	ts.tv_sec = 10;
	ts.tv_nsec = 2500000000L;
	ck_assert_msg(ntp_ts_from_timespec(&ts) == ntp_ts_from_unix_ns(12500000000LL),
		      "tv_nsec above 1e9 should carry into the seconds");
	ts.tv_nsec = -1;
	ck_assert_msg(ntp_ts_from_timespec(&ts) == ntp_ts_from_unix_ns(10LL * NS - 1),
		      "negative tv_nsec should borrow from the seconds");

	/* The largest fraction rounds up to the next second. */
	ntp_ts_to_timespec(NTP_UNIX_EPOCH << 32 | 0xffffffffu, 0, &back);
	ck_assert_msg(back.tv_sec == 1 && back.tv_nsec == 0,
		      "fraction 0xffffffff should round to the next second, got %lld.%09ld",
		      (long long)back.tv_sec, back.tv_nsec);
}
END_TEST

START_TEST(test_ts_era_rollover)
{
	/* The NTP seconds 2^31 s after the Unix epoch, fraction 0. */
	const uint64_t half = ((NTP_UNIX_EPOCH + 0x80000000ULL) & 0xffffffffULL) << 32;
	struct timespec sp;

	/* Era 0 -> era 1: a small timestamp read in 2036 is after the wrap. */
	ck_assert_msg(ntp_ts_to_unix_ns(1ULL << 32, FEB08_2036 * NS) == (ERA1_UNIX + 1) * NS,
		      "0x00000001.0 read near 2036-02-08 should be in era 1");
	ck_assert_msg(ntp_ts_to_unix_ns(1ULL << 32, FEB06_2036 * NS) == (ERA1_UNIX + 1) * NS,
		      "0x00000001.0 read near 2036-02-06 should be in era 1");
	ck_assert_msg(ntp_ts_to_unix_ns(0, (ERA1_UNIX - 1) * NS) == ERA1_UNIX * NS,
		      "timestamp 0 read a second before the wrap should be the wrap instant");
	/* Era 1 -> era 0: a large timestamp read after the wrap is before it. */
	ck_assert_msg(ntp_ts_to_unix_ns(0xffffffffULL << 32, FEB08_2036 * NS) ==
			      (ERA1_UNIX - 1) * NS,
		      "0xffffffff.0 read near 2036-02-08 should be in era 0");
	/* 2036 is 66 years from 1970, 1899 is 70: the nearer era wins. */
	ck_assert_msg(ntp_ts_to_unix_ns(0xffffffffULL << 32, 0) == (ERA1_UNIX - 1) * NS,
		      "0xffffffff.0 read near 1970 should be 2036 (era 0), not 1899");
	ck_assert_msg(ntp_ts_to_unix_ns(0xffffffffULL << 32, -10LL * 365 * 86400 * NS) ==
			      -(int64_t)(NTP_UNIX_EPOCH + 1) * NS,
		      "0xffffffff.0 read near 1960 should be 1899 (era -1)");
	/* Exactly 2^31 s away: the half-open range [near - 2^31, near + 2^31). */
	ck_assert_msg(ntp_ts_to_unix_ns(half, 0) == -(1LL << 31) * NS,
		      "2^31 s from NEAR should resolve backwards");
	ck_assert_msg(ntp_ts_to_unix_ns(half - (1ULL << 32), 0) == ((1LL << 31) - 1) * NS,
		      "2^31 - 1 s after NEAR should resolve forwards");
	ck_assert_msg(ntp_ts_to_unix_ns(half, 1) == (1LL << 31) * NS,
		      "2^31 s minus 1 ns after NEAR should resolve forwards");
	ck_assert_msg(ntp_ts_to_unix_ns(half - (1ULL << 32), -1) == ((1LL << 31) - 1) * NS,
		      "2^31 s minus 1 ns after a negative NEAR should resolve forwards");
	ck_assert_msg(ntp_ts_to_unix_ns(half - (1ULL << 32), -NS) == -((1LL << 31) + 1) * NS,
		      "2^31 s from a negative NEAR should resolve backwards");
	ck_assert_msg(
		ntp_ts_to_unix_ns((half - (1ULL << 32)) | (uint32_t)ntp_ts_from_unix_ns(900000000),
				  -500000000) == -((1LL << 31) + 1) * NS + 900000000,
		"2^31 + 0.4 s after a NEAR of -0.5 s should resolve backwards");
	/* Plain era 0. */
	ck_assert_msg(ntp_ts_to_unix_ns(NTP_UNIX_EPOCH << 32, FEB08_2036 * NS) == 0,
		      "2208988800.0 read in 2036 should be the Unix epoch");
	/* Conversions straddling the wrap round-trip. */
	ck_assert_msg(ntp_ts_to_unix_ns(ntp_ts_from_unix_ns(ERA1_UNIX * NS + 7), FEB06_2036 * NS) ==
			      ERA1_UNIX * NS + 7,
		      "7 ns after the wrap should round-trip from before it");
	ck_assert_msg(ntp_ts_to_unix_ns(ntp_ts_from_unix_ns(ERA1_UNIX * NS - 7), FEB08_2036 * NS) ==
			      ERA1_UNIX * NS - 7,
		      "7 ns before the wrap should round-trip from after it");
	ntp_ts_to_timespec(1ULL << 32 | 0x80000000u, FEB06_2036 * NS, &sp);
	ck_assert_msg(sp.tv_sec == ERA1_UNIX + 1 && sp.tv_nsec == 500000000,
		      "timespec of 0x00000001.8 near 2036-02-06 should be in era 1");
	/* Saturation far from 1970 instead of overflow. */
	ck_assert_msg(ntp_ts_to_unix_ns(ntp_ts_from_unix_ns(INT64_MAX) + (1000ULL << 32),
					INT64_MAX) == INT64_MAX,
		      "a time past 2262 should saturate to INT64_MAX");
	ck_assert_msg(ntp_ts_to_unix_ns(ntp_ts_from_unix_ns(INT64_MIN) - (1000ULL << 32),
					INT64_MIN) == INT64_MIN,
		      "a time before 1677 should saturate to INT64_MIN");
	ck_assert_msg(ntp_ts_to_unix_ns(ntp_ts_from_unix_ns(INT64_MAX), INT64_MAX) == INT64_MAX,
		      "INT64_MAX ns should round-trip exactly");
}
END_TEST

START_TEST(test_ts_diff)
{
	uint64_t before = 0xffffffffULL << 32, after = 1ULL << 32;

	ck_assert_msg(ntp_ts_diff(after, before) == 2.0,
		      "diff across the 2036 wrap should be +2 s, got %g",
		      ntp_ts_diff(after, before));
	ck_assert_msg(ntp_ts_diff(before, after) == -2.0,
		      "diff across the 2036 wrap backwards should be -2 s, got %g",
		      ntp_ts_diff(before, after));
	ck_assert_msg(ntp_ts_diff(5ULL << 32 | 0x80000000u, 5ULL << 32) == 0.5,
		      "diff of half a second should be 0.5");
	ck_assert_msg(ntp_ts_diff(5ULL << 32, 5ULL << 32 | 0x80000000u) == -0.5,
		      "diff of minus half a second should be -0.5");
	ck_assert_msg(ntp_ts_diff(0, 1) == -1.0 / 4294967296.0,
		      "diff of one unit should be -2^-32 s");
	ck_assert_msg(ntp_ts_diff(1ULL << 63, 0) == -2147483648.0,
		      "diff of exactly 2^31 s should read as -2^31 s");
	ck_assert_msg(ntp_ts_diff(0x7fffffffULL << 32, 0) == 2147483647.0,
		      "diff of 2^31 - 1 s should stay positive");
}
END_TEST

/* ---- short format ---- */

START_TEST(test_short_format)
{
	ck_assert_msg(ntp_short_from_double(0) == 0, "0 s should be 0");
	ck_assert_msg(ntp_short_from_double(1.5) == 0x00018000u, "1.5 s should be 0x00018000");
	ck_assert_msg(ntp_short_from_double(1.0 / 65536) == 1, "2^-16 s should be 1");
	ck_assert_msg(ntp_short_from_double(1e-9) == 1, "1 ns should round up to 1 unit");
	ck_assert_msg(ntp_short_from_double(65535.0 + 65535.0 / 65536) == 0xffffffffu,
		      "the largest value should be 0xffffffff");
	ck_assert_msg(ntp_short_from_double(65536.0) == 0xffffffffu, "65536 s should clamp");
	ck_assert_msg(ntp_short_from_double(1e300) == 0xffffffffu, "1e300 s should clamp");
	ck_assert_msg(ntp_short_from_double(INFINITY) == 0xffffffffu, "+inf should clamp");
	ck_assert_msg(ntp_short_from_double(-1.0) == 0, "negative seconds should clamp to 0");
	ck_assert_msg(ntp_short_from_double(-INFINITY) == 0, "-inf should clamp to 0");
	ck_assert_msg(ntp_short_from_double(NAN) == 0xffffffffu, "NaN should give the maximum");
	ck_assert_msg(ntp_short_to_double(0x00018000u) == 1.5, "0x00018000 should be 1.5 s");
	ck_assert_msg(ntp_short_to_double(0) == 0.0, "0 should be 0 s");
	ck_assert_msg(ntp_short_to_double(0xffffffffu) == 65535.0 + 65535.0 / 65536,
		      "0xffffffff should be 65535.99998 s");
	ck_assert_msg(ntp_short_from_double(ntp_short_to_double(0x12345678u)) == 0x12345678u,
		      "an exact value should round-trip");
}
END_TEST

Suite *ntpts_suite(void)
{
	Suite *s = suite_create("ntpts");
	TCase *tc = tcase_create("timestamps");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ts_known_values);
	tcase_add_test(tc, test_ts_fraction_exact);
	tcase_add_test(tc, test_ts_timespec);
	tcase_add_test(tc, test_ts_era_rollover);
	tcase_add_test(tc, test_ts_diff);
	tcase_add_test(tc, test_short_format);
	suite_add_tcase(s, tc);
	return s;
}
