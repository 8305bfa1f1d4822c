/*
 * Tests of the clock directives (daemon/config/cfg_clock.c): server, pool,
 * driver, discipline, makestep, maxdistance, holdover, minsources,
 * driftfile — accepted forms, defaults, every error path with its
 * `NAME:LINE:` and allowed range, and the format round trip.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config/config.h"

Suite *cfg_clock_suite(void);

#define NAME "clk.conf"

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

START_TEST(test_defaults)
{
	ck_assert_msg(cfg.clk.n_servers == 0, "no sources by default");
	ck_assert_msg(cfg.clk.driver == CFG_DRIVER_KERNEL && cfg.clk.device[0] == '\0',
		      "driver kernel on CLOCK_REALTIME by default");
	ck_assert_msg(cfg.clk.discipline == -1, "discipline should default to 'when sources'");
	ck_assert_msg(cfg.clk.makestep_threshold == 1.0 && cfg.clk.makestep_limit == 3,
		      "makestep should default to 1.0 3");
	ck_assert_msg(cfg.clk.maxdistance == 1.5, "maxdistance should default to 1.5 s");
	ck_assert_msg(cfg.clk.holdover < 0, "holdover should default to auto");
	ck_assert_msg(cfg.clk.minsources == 1, "minsources should default to 1");
	ck_assert_msg(cfg.clk.driftfile[0] == '\0', "no driftfile by default");
}
END_TEST

START_TEST(test_servers)
{
	const struct cfg_server *s;

	parse_ok("server 192.0.2.1\n"
		 "server ntp.example.org port 1123 iburst prefer xleave minpoll 0 maxpoll 4\n"
		 "server 2001:db8::1 minpoll 12\n"
		 "pool pool.example.org maxsources 8 iburst xleave\n");
	ck_assert_int_eq(cfg.clk.n_servers, 4);
	s = &cfg.clk.servers[0];
	ck_assert_msg(strcmp(s->host, "192.0.2.1") == 0 && s->port == 123 && !s->iburst &&
			      !s->prefer && !s->xleave && s->minpoll == 6 && s->maxpoll == 10 &&
			      !s->pool,
		      "server defaults should be port 123, minpoll 6, maxpoll 10");
	s = &cfg.clk.servers[1];
	ck_assert_msg(s->port == 1123 && s->iburst && s->prefer && s->xleave && s->minpoll == 0 &&
			      s->maxpoll == 4,
		      "every server option should be kept");
	s = &cfg.clk.servers[2];
	ck_assert_msg(s->minpoll == 12 && s->maxpoll == 12,
		      "a minpoll above the default maxpoll should raise maxpoll");
	s = &cfg.clk.servers[3];
	ck_assert_msg(s->pool && s->maxsources == 8 && s->iburst && s->xleave,
		      "pool options should be kept");
}
END_TEST

START_TEST(test_clock_directives)
{
	parse_ok("driver sim offset 0.2 freq -100 wander 1e-3 seed 42\n"
		 "discipline off\nmakestep 0.5 -1\nmaxdistance 3\nholdover 3600\n"
		 "minsources 2\ndriftfile /var/lib/horod/drift\n");
	ck_assert_msg(cfg.clk.driver == CFG_DRIVER_SIM && cfg.clk.sim_offset == 0.2 &&
			      cfg.clk.sim_freq == -100 && cfg.clk.sim_wander == 1e-3 &&
			      cfg.clk.sim_seed == 42,
		      "driver sim options should be kept");
	ck_assert_msg(cfg.clk.discipline == 0, "discipline off");
	ck_assert_msg(cfg.clk.makestep_threshold == 0.5 && cfg.clk.makestep_limit == -1,
		      "makestep 0.5 -1");
	ck_assert_msg(cfg.clk.maxdistance == 3 && cfg.clk.holdover == 3600 &&
			      cfg.clk.minsources == 2,
		      "maxdistance, holdover, minsources");
	ck_assert_str_eq(cfg.clk.driftfile, "/var/lib/horod/drift");
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("driver kernel device /dev/ptp0\ndiscipline on\nholdover auto\n");
	ck_assert_msg(cfg.clk.driver == CFG_DRIVER_KERNEL &&
			      strcmp(cfg.clk.device, "/dev/ptp0") == 0 && cfg.clk.discipline == 1 &&
			      cfg.clk.holdover < 0,
		      "driver kernel device, discipline on, holdover auto");
}
END_TEST

static const struct {
	const char *text;
	int line;
	const char *msg;
} errors[] = {
	{"server\n", 1, "'server' needs a host, allowed: server HOST"},
	{"server bad/host\n", 1, "bad host 'bad/host', allowed: a host name or an IP address"},
	{"server 192.0.2.1 port 0\n", 1, "port 0 out of range, allowed 1-65535"},
	{"server 192.0.2.1 port\n", 1, "'port' needs a number, allowed 1-65535"},
	{"server 192.0.2.1 minpoll 18\n", 1, "minpoll 18 out of range, allowed 0-17"},
	{"server 192.0.2.1 maxpoll -1\n", 1, "maxpoll -1 out of range, allowed 0-17"},
	{"server 192.0.2.1 minpoll 8 maxpoll 7\n", 1,
	 "minpoll 8 above maxpoll 7, allowed minpoll <= maxpoll"},
	{"server 192.0.2.1 maxsources 2\n", 1, "unknown server option 'maxsources', allowed"},
	{"#\npool p.example.org maxsources 17\n", 2, "maxsources 17 out of range, allowed 1-16"},
	{"server 192.0.2.1 burst\n", 1, "unknown server option 'burst', allowed: server HOST"},
	{"driver\n", 1, "'driver' needs a kind, allowed: driver kernel"},
	{"driver ptp\n", 1, "unknown driver 'ptp', allowed: kernel sim"},
	{"driver kernel device ptp0\n", 1, "'device' needs a /dev/ path"},
	{"driver kernel device /dev/ptp0 x\n", 1, "extra argument 'x'"},
	{"driver sim freq 600\n", 1, "freq 600 out of range, allowed -500 to 500 ppm"},
	{"driver sim offset nan\n", 1, "bad offset 'nan', allowed"},
	{"driver sim wander\n", 1, "'wander' needs a number, allowed 0 to 10 ppm/sqrt(s)"},
	{"driver sim seed -1\n", 1, "seed -1 out of range, allowed 0-2147483647"},
	{"driver sim speed 3\n", 1, "unknown driver sim option 'speed', allowed"},
	{"driver sim\ndriver kernel\n", 2, "'driver' already given on line 1, allowed once"},
	{"discipline maybe\n", 1, "bad discipline 'maybe', allowed: on off"},
	{"discipline\n", 1, "'discipline' needs on or off, allowed: discipline on|off"},
	{"makestep 1\n", 1, "'makestep' needs a threshold and a limit, allowed: makestep"},
	{"makestep -1 3\n", 1, "threshold -1 out of range, allowed 0 to 1e+06 seconds"},
	{"makestep 1 -2\n", 1, "limit -2 out of range, allowed -1 to 1000000"},
	{"maxdistance 0\n", 1, "maxdistance 0 out of range, allowed 0.001 to 16 seconds"},
	{"maxdistance 20\n", 1, "maxdistance 20 out of range, allowed 0.001 to 16 seconds"},
	{"maxdistance\n", 1, "'maxdistance' needs a number, allowed 0.001 to 16 seconds"},
	{"holdover forever\n", 1, "bad holdover 'forever', allowed 0 to 1e+07 seconds (or auto)"},
	{"minsources 0\n", 1, "minsources 0 out of range, allowed 1-32"},
	{"driftfile drift\n", 1, "driftfile 'drift' is not an absolute path, allowed"},
	{"driftfile\n", 1, "'driftfile' needs a path, allowed: driftfile /ABSOLUTE/PATH"},
	{"driftfile /a\ndriftfile /b\n", 2, "'driftfile' already given on line 1, allowed once"},
};

START_TEST(test_errors)
{
	char want[64];
	int i = _i;

	ck_assert_msg(cfg_parse_string(&cfg, NAME, errors[i].text, err, sizeof(err)) == -1,
		      "\"%s\" should be refused", errors[i].text);
	snprintf(want, sizeof(want), NAME ":%d: ", errors[i].line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "\"%s\" should start with %s, got %s",
		      errors[i].text, want, err);
	ck_assert_msg(strstr(err, errors[i].msg) != NULL, "\"%s\" should say \"%s\", got \"%s\"",
		      errors[i].text, errors[i].msg, err);
	ck_assert_msg(strstr(err, "allowed") != NULL, "every error should say what is allowed");
}
END_TEST

START_TEST(test_too_many_servers)
{
	char text[64 * (CFG_MAX_SERVERS + 2)];
	size_t n = 0;
	int i;

	for (i = 0; i <= CFG_MAX_SERVERS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "server 192.0.2.%d\n", i + 1);
	ck_assert_msg(cfg_parse_string(&cfg, NAME, text, err, sizeof(err)) == -1,
		      "%d servers should be refused", CFG_MAX_SERVERS + 1);
	ck_assert_msg(strstr(err, "too many server and pool lines, allowed at most 32") != NULL,
		      "should give the limit, got %s", err);
}
END_TEST

START_TEST(test_format_round_trip)
{
	static const char *texts[] = {
		"",
		"server 192.0.2.1 iburst minpoll 0 maxpoll 2 xleave\npool p.example.org maxsources "
		"2\n"
		"driver sim offset 0.123456789 freq 12.5 wander 1e-07 seed 7\ndiscipline off\n"
		"makestep 0.25 -1\nmaxdistance 2.5\nholdover 86400\nminsources 2\n"
		"driftfile /tmp/drift\n",
		"driver kernel device /dev/ptp3\ndiscipline on\n",
	};
	char a[8192], b[8192];
	struct horod_config again;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cfg_free(&cfg);
		cfg_defaults(&cfg);
		parse_ok(texts[i]);
		cfg_format(&cfg, a, sizeof(a));
		cfg_defaults(&again);
		ck_assert_msg(cfg_parse_string(&again, "formatted", a, err, sizeof(err)) == 0,
			      "formatted config should parse: %s\n%s", err, a);
		ck_assert_msg(memcmp(&cfg.clk, &again.clk, sizeof(cfg.clk)) == 0,
			      "the clock settings should survive the round trip:\n%s", a);
		cfg_format(&again, b, sizeof(b));
		ck_assert_msg(strcmp(a, b) == 0, "formatting twice should agree:\n%s\n%s", a, b);
		cfg_free(&again);
	}
}
END_TEST

Suite *cfg_clock_suite(void)
{
	Suite *s = suite_create("cfg_clock");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_servers);
	tcase_add_test(tc, test_clock_directives);
	tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof(errors) / sizeof(errors[0])));
	tcase_add_test(tc, test_too_many_servers);
	tcase_add_test(tc, test_format_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
