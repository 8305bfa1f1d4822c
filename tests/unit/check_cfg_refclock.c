/*
 * Tests of the `refclock` directive (daemon/config/cfg_refclock.c): the
 * four drivers' forms and their defaults, chrony's `:option` spelling,
 * names and default refids, the checks made once the file is read
 * (unique refids, `lock` naming another refclock that knows seconds),
 * every error with its `NAME:LINE:` and allowed range, and the format
 * round trip (the longest line included).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config/config.h"

Suite *cfg_refclock_suite(void);

#define NAME "rc.conf"

static struct horod_config cfg;
static char err[512];

static void setup(void)
{
	cfg_defaults(&cfg);
	err[0] = '\0';
}

static void teardown(void)
{
	cfg_free(&cfg);
}

static void parse_ok(const char *text)
{
	ck_assert_msg(cfg_parse_string(&cfg, NAME, text, err, sizeof(err)) == 0,
		      "\"%s\" should parse, got \"%s\"", text, err);
}

static void parse_bad(const char *text, const char *want)
{
	struct horod_config c;
	char e[512];

	cfg_defaults(&c);
	ck_assert_msg(cfg_parse_string(&c, NAME, text, e, sizeof(e)) < 0,
		      "\"%s\" should be refused", text);
	ck_assert_msg(strstr(e, want) != NULL, "\"%s\": the message should hold \"%s\", got \"%s\"",
		      text, want, e);
	cfg_free(&c);
}

START_TEST(test_forms_and_defaults)
{
	const struct cfg_refclock *r;

	ck_assert_msg(cfg.clk.n_refclocks == 0, "no refclock by default");
	parse_ok("refclock SHM 0\n"
		 "refclock SOCK /run/chrony.ttyS0.sock\n"
		 "refclock PHC /dev/ptp1\n"
		 "refclock PPS /dev/pps0 lock SHM0 clear\n");
	ck_assert_int_eq(cfg.clk.n_refclocks, 4);
	r = &cfg.clk.refclocks[0];
	ck_assert_msg(r->driver == CFG_RC_SHM && r->unit == 0 && r->perm == 0600 && r->poll == 4 &&
			      r->dpoll == 0 && r->offset == 0.0 && r->delay == 1e-9 &&
			      r->precision == 0.0 && !r->prefer && !r->noselect && !r->trust &&
			      r->line == 1,
		      "SHM 0 should get chrony's defaults");
	ck_assert_str_eq(r->name, "SHM0");
	ck_assert_str_eq(r->refid, "SHM0");
	r = &cfg.clk.refclocks[1];
	ck_assert_msg(r->driver == CFG_RC_SOCK && strcmp(r->path, "/run/chrony.ttyS0.sock") == 0,
		      "SOCK keeps its path");
	ck_assert_str_eq(r->name, "SOCK0");
	ck_assert_str_eq(r->refid, "SOC1");
	r = &cfg.clk.refclocks[2];
	ck_assert_msg(r->driver == CFG_RC_PHC && r->unit == 1, "PHC /dev/ptp1 is unit 1");
	ck_assert_str_eq(r->name, "PHC1");
	ck_assert_str_eq(r->refid, "PHC2");
	r = &cfg.clk.refclocks[3];
	ck_assert_msg(r->driver == CFG_RC_PPS && r->clear && strcmp(r->lock, "SHM0") == 0,
		      "PPS with lock and clear");
	ck_assert_str_eq(r->name, "PPS0");
	ck_assert_str_eq(r->refid, "PPS3");
}
END_TEST

START_TEST(test_options)
{
	const struct cfg_refclock *r;

	parse_ok("refclock SHM 2 perm 0644 poll 0 dpoll -2 offset -0.00025 delay 0.2 "
		 "precision 1e-6 refid GPS prefer noselect trust\n"
		 "refclock PPS /dev/pps1:clear refid PPS\n"
		 "refclock SHM 1:perm=0666\n"
		 "refclock PHC /dev/ptp0 offset -37 poll 0 dpoll -2\n");
	r = &cfg.clk.refclocks[0];
	ck_assert_msg(r->unit == 2 && r->perm == 0644 && r->poll == 0 && r->dpoll == -2 &&
			      r->offset == -0.00025 && r->delay == 0.2 && r->precision == 1e-6 &&
			      r->prefer && r->noselect && r->trust,
		      "every option should be taken");
	ck_assert_str_eq(r->refid, "GPS");
	ck_assert_str_eq(r->name, "SHM2");
	ck_assert_msg(cfg.clk.refclocks[1].clear, "chrony's /dev/pps1:clear");
	ck_assert_str_eq(cfg.clk.refclocks[1].path, "/dev/pps1");
	ck_assert_msg(cfg.clk.refclocks[2].perm == 0666 && cfg.clk.refclocks[2].unit == 1,
		      "chrony's 1:perm=0666");
	ck_assert_msg(cfg.clk.refclocks[3].offset == -37.0, "a TAI PHC's offset");
}
END_TEST

START_TEST(test_names_never_collide)
{
	parse_ok("refclock PHC /dev/ptp_gm\nrefclock PHC /dev/ptp0\nrefclock SOCK /a\n"
		 "refclock SOCK /b\n");
	ck_assert_str_eq(cfg.clk.refclocks[0].name, "PHC0");
	ck_assert_str_eq(cfg.clk.refclocks[1].name, "PHC1");
	ck_assert_str_eq(cfg.clk.refclocks[2].name, "SOCK0");
	ck_assert_str_eq(cfg.clk.refclocks[3].name, "SOCK1");
}
END_TEST

START_TEST(test_errors)
{
	parse_bad("refclock\n", "rc.conf:1: 'refclock' needs a driver and its parameter, allowed: "
				"refclock PHC /dev/ptpN");
	parse_bad("refclock SHM\n", "rc.conf:1: 'refclock' needs a driver");
	parse_bad("\nrefclock RTC /dev/rtc0\n",
		  "rc.conf:2: unknown refclock driver 'RTC', allowed: PHC PPS SHM SOCK");
	parse_bad("refclock shm 0\n", "unknown refclock driver 'shm'");
	parse_bad("refclock SHM 256\n", "rc.conf:1: SHM unit 256 out of range, allowed 0-255");
	parse_bad("refclock SHM x\n", "bad SHM unit 'x', allowed 0-255");
	parse_bad("refclock SHM 0 perm 0800\n", "bad perm '0800', allowed an octal mode 0-0777");
	parse_bad("refclock SHM 0 perm\n", "'perm' needs an octal mode, allowed 0-0777");
	parse_bad("refclock SHM 0:perm=9\n", "bad perm '9'");
	parse_bad("refclock SHM 0:clear\n", "unknown SHM option ':clear', allowed: :perm=MODE");
	parse_bad("refclock PPS /dev/pps0:perm=0600\n",
		  "unknown PPS option ':perm=0600', allowed: :clear");
	parse_bad("refclock PHC /dev/ptp0:nocrossts\n",
		  "unknown PHC option ':nocrossts', allowed: none (chrony's PHC options are not "
		  "supported)");
	parse_bad("refclock PHC eth0\n",
		  "bad PHC device 'eth0', allowed: a /dev/ path (/dev/ptpN)");
	parse_bad("refclock PPS pps0\n",
		  "bad PPS device 'pps0', allowed: a /dev/ path (/dev/ppsN)");
	parse_bad("refclock SOCK relative.sock\n",
		  "bad SOCK path 'relative.sock', allowed: an absolute path of at most 107 bytes");
	parse_bad("refclock SOCK /"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  "allowed: an absolute path of at most 107 bytes");
	parse_bad("refclock SHM 0 poll 18\n", "poll 18 out of range, allowed 0-17");
	parse_bad("refclock SHM 0 poll -1\n", "poll -1 out of range, allowed 0-17");
	parse_bad("refclock SHM 0 dpoll -7\n", "dpoll -7 out of range, allowed -6 to 17");
	parse_bad("refclock SHM 0 poll 2 dpoll 3\n", "dpoll 3 above poll 2, allowed dpoll <= poll");
	parse_bad("refclock SHM 0 poll\n", "'poll' needs a number, allowed 0-17");
	parse_bad("refclock SHM 0 offset 2e6\n",
		  "offset 2e6 out of range, allowed -1e+06 to 1e+06 seconds");
	parse_bad("refclock SHM 0 offset x\n", "bad offset 'x'");
	parse_bad("refclock SHM 0 delay -1\n", "delay -1 out of range, allowed 0 to 16 seconds");
	parse_bad("refclock SHM 0 precision 0\n",
		  "precision 0 out of range, allowed 1e-09 to 1 seconds");
	parse_bad("refclock SHM 0 refid GPSXX\n",
		  "bad refid 'GPSXX', allowed: 1 to 4 printable characters");
	parse_bad("refclock SHM 0 refid\n", "bad refid '', allowed: 1 to 4 printable characters");
	parse_bad("refclock SHM 0 lock GPS\n", "unknown refclock SHM option 'lock'");
	parse_bad("refclock SHM 0 clear\n", "unknown refclock SHM option 'clear'");
	parse_bad("refclock SOCK /s perm 0600\n", "unknown refclock SOCK option 'perm'");
	parse_bad("refclock SHM 0 iburst\n", "unknown refclock SHM option 'iburst', allowed: "
					     "refclock PHC /dev/ptpN");
	parse_bad("refclock SHM 0\n#\nrefclock SHM 0 refid GPS\n",
		  "rc.conf:3: refclock SHM 0 already given on line 1, allowed once");
	parse_bad("refclock PHC /dev/ptp0\nrefclock PHC /dev/ptp0\n",
		  "rc.conf:2: refclock PHC /dev/ptp0 already given on line 1");
	parse_bad("refclock SHM 0\nrefclock SHM 1\nrefclock SHM 2\nrefclock SHM 3\nrefclock SHM 4\n"
		  "refclock SHM 5\nrefclock SHM 6\nrefclock SHM 7\nrefclock SHM 8\n",
		  "rc.conf:9: too many refclock lines, allowed at most 8");
}
END_TEST

START_TEST(test_whole_file_checks)
{
	/* Errors found after the last line point at the refclock's own line. */
	parse_bad("refclock SHM 0 refid GPS\n\nrefclock SOCK /s refid GPS\n",
		  "rc.conf:3: refid 'GPS' already used by the refclock on line 1, allowed: a "
		  "refid of its own");
	parse_bad("refclock SHM 0 refid SOC1\nrefclock SOCK /s\n",
		  "rc.conf:2: refid 'SOC1' already used by the refclock on line 1");
	parse_bad("refclock PPS /dev/pps0 lock NMEA\nrefclock SHM 0\n",
		  "rc.conf:1: lock 'NMEA' names no other refclock, allowed: the refid of a "
		  "refclock that gives whole seconds (SHM, SOCK, PHC)");
	parse_bad("refclock PPS /dev/pps0 refid P0\nrefclock PPS /dev/pps1 lock P0\n",
		  "rc.conf:2: lock 'P0' names a PPS refclock, which knows no seconds");
	parse_bad("refclock PPS /dev/pps0 refid P0 lock P0\n", "rc.conf:1: lock 'P0' names no "
							       "other refclock");
	/* A lock may name a refclock given later in the file. */
	parse_ok("refclock PPS /dev/pps0 lock GPS refid PPS\nrefclock SHM 0 refid GPS noselect\n");
	/* A failed parse leaves the configuration as it was. */
	parse_bad("refclock SHM 0\nrefclock PPS /dev/pps0 lock X\n", "names no other refclock");
	ck_assert_int_eq(cfg.clk.n_refclocks, 2);
	/* `tai` takes TAI - UTC from the leap table: none, none to take. */
	parse_bad("refclock PHC /dev/ptp0 tai\n",
		  "rc.conf:1: refclock PHC0: 'tai' needs a leap table to take TAI - UTC from, "
		  "allowed with leapfile or leapsectz");
	parse_bad("refclock PPS /dev/pps0 tai\n", "unknown refclock PPS option 'tai'");
	parse_ok("refclock PHC /dev/ptp0 tai\nleapsectz right/UTC\n");
	ck_assert_msg(cfg.clk.refclocks[2].tai == 1 && cfg.leap.src == CFG_LEAP_TZ,
		      "PHC tai with the leap table given after it");
}
END_TEST

START_TEST(test_round_trip)
{
	static char a[16384], b[16384];
	struct horod_config again;
	size_t na, nb;

	parse_ok("refclock PPS /dev/pps0 lock GPS clear poll 4 dpoll 0 offset 0.0002 delay 0.001 "
		 "precision 1e-6 refid PPS prefer noselect trust\n"
		 "refclock SHM 0:perm=0640 refid GPS poll 0 dpoll -2 offset -1.5e-5\n"
		 "refclock SOCK /run/chrony.clk.ttyS0.sock\n"
		 "refclock PHC /dev/ptp2 offset -37\n"
		 "refclock PHC /dev/ptp3 tai\n"
		 "leapsectz right/UTC\n");
	na = cfg_format(&cfg, a, sizeof(a));
	ck_assert_msg(strstr(a, "refclock PPS /dev/pps0 lock GPS clear refid PPS poll 4 dpoll 0 "
				"offset 0.0002 delay 0.001 precision 1e-06 prefer noselect "
				"trust\n") != NULL,
		      "the longest form should be written back whole:\n%s", a);
	ck_assert_msg(strstr(a, "refclock SHM 0 perm 0640 refid GPS poll 0 dpoll -2 offset "
				"-1.5e-05 delay 1e-09\n") != NULL,
		      "SHM in horod's own spelling:\n%s", a);
	ck_assert_msg(strstr(a, "refclock PHC /dev/ptp2 refid PHC3 poll 4 dpoll 0 offset -37 "
				"delay 1e-09\n") != NULL,
		      "PHC:\n%s", a);
	ck_assert_msg(strstr(a, "refclock PHC /dev/ptp3 refid PHC4 poll 4 dpoll 0 offset 0 "
				"delay 1e-09 tai\n") != NULL,
		      "PHC tai:\n%s", a);
	cfg_defaults(&again);
	ck_assert_msg(cfg_parse_string(&again, "again", a, err, sizeof(err)) == 0,
		      "the effective configuration should parse: %s", err);
	nb = cfg_format(&again, b, sizeof(b));
	ck_assert_msg(na == nb && strcmp(a, b) == 0, "and read back to the same text");
	ck_assert_str_eq(again.clk.refclocks[1].name, "SHM0");
	cfg_free(&again);
}
END_TEST

Suite *cfg_refclock_suite(void)
{
	Suite *s = suite_create("cfg_refclock");
	TCase *tc = tcase_create("refclock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_forms_and_defaults);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_names_never_collide);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_whole_file_checks);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
