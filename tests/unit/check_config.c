/*
 * Unit tests for daemon/config/config.c: every directive with good values,
 * comments and blank lines, the embedded default, limits, a failed parse
 * leaving the configuration as it was, the cfg_format round trip, and
 * reading files. The error path of every directive is in
 * check_cfg_errors.c.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock/leapload.h"
#include "clock/leapsec.h"
#include "daemon/config/config.h"

Suite *config_suite(void);

#define NAME "horod.conf"

static struct horod_config cfg;
static char err[512];

static void setup(void)
{
	cfg_defaults(&cfg);
	memset(err, 0, sizeof(err));
}

static void teardown(void)
{
	cfg_free(&cfg);
}

/* Parse TEXT into the fixture's configuration; fail the test on an error. */
static void parse_ok(const char *text)
{
	ck_assert_msg(cfg_parse_string(&cfg, NAME, text, err, sizeof(err)) == 0,
		      "\"%s\" should parse, got \"%s\"", text, err);
}

/* 1 when A and B are the same configuration, field by field. */
static int cfg_equal(const struct horod_config *a, const struct horod_config *b)
{
	int i;

	if (a->n_listen != b->n_listen || a->local.enabled != b->local.enabled ||
	    a->local.stratum != b->local.stratum || a->local.dispersion != b->local.dispersion ||
	    a->workers != b->workers || a->io != b->io || strcmp(a->pidfile, b->pidfile) != 0 ||
	    a->clientloglimit != b->clientloglimit || a->log_syslog != b->log_syslog ||
	    a->log_debug != b->log_debug || a->default_port != b->default_port ||
	    a->n_hwts != b->n_hwts)
		return 0;
	for (i = 0; i < a->n_hwts; i++)
		if (strcmp(a->hwts[i], b->hwts[i]) != 0)
			return 0;
	for (i = 0; i < a->n_listen; i++)
		if (a->listen[i].addrlen != b->listen[i].addrlen ||
		    a->listen[i].port != b->listen[i].port ||
		    memcmp(&a->listen[i].addr, &b->listen[i].addr, a->listen[i].addrlen) != 0)
			return 0;
	if (a->acl.n != b->acl.n || a->acl.n_allow != b->acl.n_allow ||
	    a->control_acl.n != b->control_acl.n ||
	    a->control_acl.n_allow != b->control_acl.n_allow)
		return 0;
	if (a->acl.n &&
	    memcmp(a->acl.rules, b->acl.rules, (size_t)a->acl.n * sizeof(struct acl_rule)))
		return 0;
	if (a->control_acl.n && memcmp(a->control_acl.rules, b->control_acl.rules,
				       (size_t)a->control_acl.n * sizeof(struct acl_rule)))
		return 0;
	if (a->rl.enabled != b->rl.enabled || a->rl.interval != b->rl.interval ||
	    a->rl.burst != b->rl.burst || a->rl.leak != b->rl.leak || a->rl.kod != b->rl.kod ||
	    a->rl.deny_kod != b->rl.deny_kod || a->guard.n_ifs != b->guard.n_ifs ||
	    strcmp(a->guard.pin, b->guard.pin) != 0)
		return 0;
	for (i = 0; i < a->guard.n_ifs; i++)
		if (strcmp(a->guard.ifs[i].name, b->guard.ifs[i].name) != 0 ||
		    a->guard.ifs[i].mode != b->guard.ifs[i].mode)
			return 0;
	if (a->leap.src != b->leap.src || strcmp(a->leap.path, b->leap.path) != 0 ||
	    strcmp(a->leap.tz, b->leap.tz) != 0 || a->leap.tab.n != b->leap.tab.n ||
	    a->leap.tab.expires_s != b->leap.tab.expires_s || a->leap.mode != b->leap.mode ||
	    a->leap.smear_s != b->leap.smear_s)
		return 0;
	return 1;
}

/* A socket address for the literal ADDR, with port 123. */
static struct sockaddr_storage addr_of(const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else {
		ck_assert(inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1);
		sin6->sin6_family = AF_INET6;
	}
	return ss;
}

/* 1 when listen entry I has address ADDR and port PORT (0 = default). */
static int listen_is(int i, const char *addr, int port)
{
	struct sockaddr_storage want = addr_of(addr);
	const struct cfg_listen *l = &cfg.listen[i];
	size_t len = want.ss_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6);

	return l->addrlen == len && l->port == port && memcmp(&l->addr, &want, len) == 0;
}

START_TEST(test_defaults)
{
	ck_assert_msg(cfg.n_listen == 0, "defaults should have no listen lines");
	ck_assert_msg(!cfg.local.enabled, "defaults should not enable local");
	ck_assert_msg(cfg.local.stratum == 10, "defaults should preset stratum 10");
	ck_assert_msg(cfg.local.dispersion == 0.001, "defaults should preset dispersion 0.001");
	ck_assert_msg(cfg.acl.n == 0 && cfg.control_acl.n == 0, "defaults should have empty ACLs");
	ck_assert_msg(cfg.workers == 0, "defaults should have workers auto (0)");
	ck_assert_msg(cfg.io == CFG_IO_AUTO, "defaults should have io auto");
	ck_assert_msg(cfg.pidfile[0] == '\0', "defaults should have no pidfile");
	ck_assert_msg(!cfg.log_syslog && !cfg.log_debug, "defaults should log to stderr, no debug");
	ck_assert_msg(cfg.default_port == CFG_DEFAULT_PORT, "defaults should use port 123");
	parse_ok("");
	ck_assert_msg(cfg.n_listen == 0 && cfg.acl.n == 0, "an empty text should change nothing");
}
END_TEST

START_TEST(test_every_directive)
{
	struct sockaddr_storage ss;

	parse_ok("listen 127.0.0.1\n"
		 "listen ::1 port 1234\n"
		 "listen 0.0.0.0 port 65535\n"
		 "listen :: port 1\n"
		 "local stratum 3 dispersion 0.25\n"
		 "allow 10.0.0.0/8\n"
		 "deny 10.1.0.0/16\n"
		 "allow 2001:db8::/32\n"
		 "control allow 192.0.2.0/24\n"
		 "workers 4\n"
		 "io uring\n"
		 "pidfile /run/horod.pid\n"
		 "log syslog debug\n"
		 "hwtimestamp eth0\n"
		 "hwtimestamp abcdefghijklmno\n");
	ck_assert_msg(cfg.n_hwts == 2 && strcmp(cfg.hwts[0], "eth0") == 0 &&
			      strcmp(cfg.hwts[1], "abcdefghijklmno") == 0,
		      "hwtimestamp should keep both interfaces, 15-character names included");
	ck_assert_msg(cfg.n_listen == 4, "should have 4 listen lines, has %d", cfg.n_listen);
	ck_assert_msg(listen_is(0, "127.0.0.1", 0), "listen 0 should be 127.0.0.1, default port");
	ck_assert_msg(listen_is(1, "::1", 1234), "listen 1 should be ::1 port 1234");
	ck_assert_msg(listen_is(2, "0.0.0.0", 65535), "listen 2 should be 0.0.0.0 port 65535");
	ck_assert_msg(listen_is(3, "::", 1), "listen 3 should be :: port 1");
	ck_assert_msg(cfg_listen_port(&cfg, &cfg.listen[0]) == 123, "no port should mean 123");
	ck_assert_msg(cfg_listen_port(&cfg, &cfg.listen[1]) == 1234, "port 1234 should stay");
	cfg.default_port = 11123;
	ck_assert_msg(cfg_listen_port(&cfg, &cfg.listen[0]) == 11123,
		      "no port should follow default_port");
	ck_assert_msg(cfg_listen_port(&cfg, &cfg.listen[1]) == 1234, "an own port should win");

	ck_assert_msg(cfg.local.enabled && cfg.local.stratum == 3 && cfg.local.dispersion == 0.25,
		      "local should be stratum 3 dispersion 0.25");
	ck_assert_msg(cfg.acl.n == 3 && cfg.acl.n_allow == 2, "acl should hold 3 rules, 2 allows");
	ss = addr_of("10.2.3.4");
	ck_assert_msg(acl_check(&cfg.acl, (struct sockaddr *)&ss), "10.2.3.4 should be allowed");
	ss = addr_of("10.1.3.4");
	ck_assert_msg(!acl_check(&cfg.acl, (struct sockaddr *)&ss), "10.1.3.4 should be denied");
	ss = addr_of("192.0.2.1");
	ck_assert_msg(!acl_check(&cfg.acl, (struct sockaddr *)&ss), "192.0.2.1 should be refused");
	ck_assert_msg(acl_check(&cfg.control_acl, (struct sockaddr *)&ss),
		      "192.0.2.1 should be control-allowed");
	ck_assert_msg(cfg.control_acl.n == 1, "control acl should hold 1 rule");
	ck_assert_msg(cfg.workers == 4, "workers should be 4");
	ck_assert_msg(cfg.io == CFG_IO_URING, "io should be uring");
	ck_assert_msg(strcmp(cfg.pidfile, "/run/horod.pid") == 0, "pidfile should be set");
	ck_assert_msg(cfg.log_syslog && cfg.log_debug, "log should be syslog debug");
}
END_TEST

START_TEST(test_value_forms)
{
	parse_ok("local stratum 15\nworkers auto\nio mmsg\nlog stderr\n");
	ck_assert_msg(cfg.local.stratum == 15 && cfg.local.dispersion == 0.001,
		      "local without dispersion should get 0.001");
	ck_assert_msg(cfg.workers == 0 && cfg.io == CFG_IO_MMSG, "workers auto, io mmsg");
	ck_assert_msg(!cfg.log_syslog && !cfg.log_debug, "log stderr should mean no debug");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	parse_ok("local stratum 1 dispersion 1e-3\nworkers 256\nio auto\nlog stderr debug\n");
	ck_assert_msg(cfg.local.stratum == 1 && cfg.local.dispersion == 0.001,
		      "1e-3 should read as 0.001");
	ck_assert_msg(cfg.workers == 256 && cfg.io == CFG_IO_AUTO, "workers 256, io auto");
	ck_assert_msg(!cfg.log_syslog && cfg.log_debug, "log stderr debug");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	parse_ok("local stratum 7 dispersion 16\nworkers 1\nlog syslog\nio uring\n");
	ck_assert_msg(cfg.local.dispersion == 16.0 && cfg.workers == 1 && cfg.log_syslog &&
			      !cfg.log_debug,
		      "dispersion 16, workers 1, log syslog");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	parse_ok("local stratum 010 dispersion 0\n");
	ck_assert_msg(cfg.local.stratum == 10 && cfg.local.dispersion == 0.0,
		      "leading zeros should read as decimal, dispersion 0 should pass");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	parse_ok("local stratum 2 dispersion 1E-6\nallow all\ndeny all\ncontrol allow all\n");
	ck_assert_msg(cfg.local.dispersion == 1e-6, "1E-6 should read as 1e-6");
	ck_assert_msg(cfg.acl.n == 4 && cfg.acl.n_allow == 2, "allow all + deny all: 4 rules");
	ck_assert_msg(cfg.control_acl.n == 2, "control allow all: 2 rules");
}
END_TEST

START_TEST(test_comments_and_blank_lines)
{
	parse_ok("# a comment\n"
		 "\n"
		 "   \n"
		 "\t\n"
		 "! another\n"
		 "  ; and another\n"
		 "\t# indented\n"
		 "listen 127.0.0.1 # trailing comment\n"
		 "allow 10.0.0.0/8\t#tab then comment\n"
		 "io\tmmsg   \r\n"
		 "  workers   2  \n"
		 "#listen ::1\n"
		 "log syslog");
	ck_assert_msg(cfg.n_listen == 1 && listen_is(0, "127.0.0.1", 0),
		      "only the uncommented listen should count");
	ck_assert_msg(cfg.acl.n == 1, "the allow before a comment should count");
	ck_assert_msg(cfg.io == CFG_IO_MMSG, "tabs and a CRLF ending should be fine");
	ck_assert_msg(cfg.workers == 2, "extra spaces should be fine");
	ck_assert_msg(cfg.log_syslog, "a last line without newline should count");
}
END_TEST

START_TEST(test_embedded_default)
{
	parse_ok(cfg_embedded_default);
	ck_assert_msg(cfg.n_listen == 2, "the default should have 2 listen lines");
	ck_assert_msg(listen_is(0, "127.0.0.1", 0), "the first should be 127.0.0.1");
	ck_assert_msg(listen_is(1, "::1", 0), "the second should be ::1");
	ck_assert_msg(cfg.local.enabled && cfg.local.stratum == 10,
		      "the default should serve local stratum 10");
	ck_assert_msg(cfg.local.dispersion == 0.001, "the default dispersion should be 0.001");
	ck_assert_msg(cfg.acl.n == 0, "the default should allow all (loopback only by listen)");
}
END_TEST

START_TEST(test_guard_directives)
{
	ck_assert_msg(!cfg.rl.enabled && cfg.rl.interval == 3 && cfg.rl.burst == 8 &&
			      cfg.rl.leak == 2 && !cfg.rl.kod,
		      "defaults should be no ratelimit, preset interval 3 burst 8 leak 2");
	ck_assert_msg(!cfg.rl.deny_kod && cfg.guard.n_ifs == 0,
		      "defaults should be no KoD, no guard");
	ck_assert_msg(strcmp(cfg.guard.pin, "/sys/fs/bpf/horod") == 0,
		      "the default pin directory should be /sys/fs/bpf/horod, is %s",
		      cfg.guard.pin);

	parse_ok("ratelimit\n");
	ck_assert_msg(cfg.rl.enabled && cfg.rl.interval == 3 && cfg.rl.burst == 8 &&
			      cfg.rl.leak == 2 && !cfg.rl.kod,
		      "a bare ratelimit should take chrony's defaults");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	parse_ok("ratelimit kod leak 0 burst 255 interval -19\n"
		 "denykod on\n"
		 "guard interface eth0 mode native\n"
		 "guard interface lo mode skb\n"
		 "guard interface abcdefghijklmno\n"
		 "guard interface veth1 mode auto\n"
		 "guard pin /tmp/x/bpf\n"
		 "guard serve on\n"
		 "guard stamp on\n");
	ck_assert_msg(cfg.guard.serve == 1, "guard serve on should be on");
	ck_assert_msg(cfg.guard.stamp == 1, "guard stamp on should be on");
	ck_assert_msg(cfg.rl.enabled && cfg.rl.interval == -19 && cfg.rl.burst == 255 &&
			      cfg.rl.leak == 0 && cfg.rl.kod,
		      "options should be taken in any order");
	ck_assert_msg(cfg.rl.deny_kod, "denykod on should be on");
	ck_assert_msg(cfg.guard.n_ifs == 4, "should have 4 guard interfaces, has %d",
		      cfg.guard.n_ifs);
	ck_assert_msg(strcmp(cfg.guard.ifs[0].name, "eth0") == 0 &&
			      cfg.guard.ifs[0].mode == CFG_XDP_NATIVE,
		      "eth0 should be native");
	ck_assert_msg(strcmp(cfg.guard.ifs[1].name, "lo") == 0 &&
			      cfg.guard.ifs[1].mode == CFG_XDP_SKB,
		      "lo should be skb");
	ck_assert_msg(strcmp(cfg.guard.ifs[2].name, "abcdefghijklmno") == 0 &&
			      cfg.guard.ifs[2].mode == CFG_XDP_AUTO,
		      "no mode should be auto, and 15-character names fit");
	ck_assert_msg(cfg.guard.ifs[3].mode == CFG_XDP_AUTO, "mode auto should be auto");
	ck_assert_msg(strcmp(cfg.guard.pin, "/tmp/x/bpf") == 0, "guard pin should be kept");
	ck_assert_msg(!cfg.guard.pin_keep, "guard pin without keep should not keep the maps");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	ck_assert_msg(!cfg.guard.pin_keep, "the default pin directory should not keep the maps");
	parse_ok("guard pin /sys/fs/bpf/horod keep\n");
	ck_assert_msg(cfg.guard.pin_keep, "guard pin DIR keep should keep the state maps");
	ck_assert_msg(strcmp(cfg.guard.pin, "/sys/fs/bpf/horod") == 0, "the directory with keep");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	ck_assert_msg(cfg.guard.stamp == 0, "guard stamp should be off by default");
	parse_ok("ratelimit interval 12 burst 1 leak 16\ndenykod off\nguard serve off\n"
		 "guard stamp off\n");
	ck_assert_msg(cfg.guard.serve == 0, "guard serve off should be off");
	ck_assert_msg(cfg.guard.stamp == 0, "guard stamp off should be off");
	ck_assert_msg(cfg.rl.interval == 12 && cfg.rl.burst == 1 && cfg.rl.leak == 16 &&
			      !cfg.rl.kod && !cfg.rl.deny_kod,
		      "the upper limits should be accepted, denykod off should be off");
}
END_TEST

START_TEST(test_guard_interface_limit)
{
	char text[CFG_MAX_GUARD_IF * 40 + 64];
	size_t n = 0;
	int i;

	for (i = 0; i < CFG_MAX_GUARD_IF; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "guard interface eth%d\n", i);
	parse_ok(text);
	ck_assert_msg(cfg.guard.n_ifs == CFG_MAX_GUARD_IF, "should take %d guard interfaces",
		      CFG_MAX_GUARD_IF);
	ck_assert_msg(cfg_parse_string(&cfg, NAME, "guard interface ethx\n", err, sizeof(err)) ==
			      -1,
		      "guard interface %d should be refused", CFG_MAX_GUARD_IF + 1);
	ck_assert_msg(strcmp(err, NAME ":1: too many guard interface lines, allowed at most 16") ==
			      0,
		      "should give the limit, got \"%s\"", err);
	ck_assert_msg(cfg.guard.n_ifs == CFG_MAX_GUARD_IF, "the refused line should not be added");
}
END_TEST

START_TEST(test_listen_limit)
{
	char text[CFG_MAX_LISTEN * 32 + 64];
	size_t n = 0;
	int i;

	for (i = 0; i < CFG_MAX_LISTEN; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "listen 127.0.0.%d\n", i + 1);
	parse_ok(text);
	ck_assert_msg(cfg.n_listen == CFG_MAX_LISTEN, "should take %d listen lines",
		      CFG_MAX_LISTEN);
	ck_assert_msg(cfg_parse_string(&cfg, NAME, "listen 127.0.1.1\n", err, sizeof(err)) == -1,
		      "listen line %d should be refused", CFG_MAX_LISTEN + 1);
	ck_assert_msg(strcmp(err, NAME ":1: too many listen lines, allowed at most 16") == 0,
		      "should give the limit, got \"%s\"", err);
	ck_assert_msg(cfg.n_listen == CFG_MAX_LISTEN, "the refused line should not be added");
}
END_TEST

START_TEST(test_line_length)
{
	char text[2200];

	/* 1024 bytes: a directive padded with spaces. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "workers 3", 9);
	text[1024] = '\n';
	memcpy(text + 1025, "io mmsg\n", 9);
	parse_ok(text);
	ck_assert_msg(cfg.workers == 3 && cfg.io == CFG_IO_MMSG,
		      "a 1024-byte line and the next should parse");

	/* 1025 bytes on line 2. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "# ok\n", 5);
	text[5] = 'x';
	text[5 + 1025] = '\n';
	text[5 + 1026] = '\0';
	ck_assert_msg(cfg_parse_string(&cfg, NAME, text, err, sizeof(err)) == -1,
		      "a 1025-byte line should be refused");
	ck_assert_msg(strcmp(err, NAME ":2: line of 1025 bytes too long, allowed at most 1024 "
				       "bytes") == 0,
		      "should name the line and the limit, got \"%s\"", err);

	/* Also without a final newline. */
	text[5 + 1025] = ' ';
	ck_assert_msg(cfg_parse_string(&cfg, NAME, text, err, sizeof(err)) == -1 &&
			      strstr(err, ":2: line of 1026 bytes") != NULL,
		      "a long last line should be refused, got \"%s\"", err);
}
END_TEST

START_TEST(test_pidfile_length)
{
	char text[CFG_PATH_MAX + 32];
	int n;

	n = snprintf(text, sizeof(text), "pidfile /");
	memset(text + n, 'p', CFG_PATH_MAX - 2);
	text[n + CFG_PATH_MAX - 2] = '\0';
	parse_ok(text);
	ck_assert_msg(strlen(cfg.pidfile) == CFG_PATH_MAX - 1, "a %d-byte path should fit",
		      CFG_PATH_MAX - 1);
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	text[n + CFG_PATH_MAX - 2] = 'p';
	text[n + CFG_PATH_MAX - 1] = '\0';
	ck_assert_msg(cfg_parse_string(&cfg, NAME, text, err, sizeof(err)) == -1,
		      "a %d-byte path should be refused", CFG_PATH_MAX);
	ck_assert_msg(strstr(err, NAME ":1: pidfile path of 256 bytes too long, allowed at most "
				       "255 bytes") != NULL,
		      "should give the limit, got \"%s\"", err);
	ck_assert_msg(cfg.pidfile[0] == '\0', "a refused pidfile should not be kept");
}
END_TEST

START_TEST(test_failed_parse_keeps_previous)
{
	struct horod_config before;
	char a[4096], b[4096];

	parse_ok("listen 192.0.2.1\nallow 10.0.0.0/8\ncontrol allow 192.0.2.0/24\n");
	cfg_format(&cfg, a, sizeof(a));
	before = cfg;
	ck_assert_msg(cfg_parse_string(&cfg, NAME,
				       "listen ::1\nallow all\ndeny 10.1.0.0/16\n"
				       "control allow all\nlocal stratum 2\nworkers 8\nio mmsg\n"
				       "pidfile /x\nlog syslog debug\nworkers 0\n",
				       err, sizeof(err)) == -1,
		      "the second text should be refused");
	ck_assert_msg(strncmp(err, NAME ":10: ", 15) == 0, "the error should be on line 10");
	cfg_format(&cfg, b, sizeof(b));
	ck_assert_msg(strcmp(a, b) == 0, "a failed parse should leave the configuration as it was");
	ck_assert_msg(cfg.acl.n == before.acl.n && cfg.acl.n_allow == before.acl.n_allow &&
			      cfg.control_acl.n == before.control_acl.n,
		      "the ACL counts should be as before");
	/* The lists still work, and take new rules. */
	parse_ok("allow 2001:db8::/32\n");
	ck_assert_msg(cfg.acl.n == 2, "the list should take a rule after a failed parse");
}
END_TEST

/* Parse TEXT, format it, parse the output, and check both agree. */
static void round_trip(const char *text)
{
	struct horod_config again;
	char a[8192], b[8192];
	size_t n;

	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok(text);
	n = cfg_format(&cfg, a, sizeof(a));
	ck_assert_msg(n > 0 && n < sizeof(a) && strlen(a) == n,
		      "cfg_format should return its length");

	cfg_defaults(&again);
	ck_assert_msg(cfg_parse_string(&again, "formatted", a, err, sizeof(err)) == 0,
		      "cfg_format's output should parse: %s\n%s", err, a);
	ck_assert_msg(cfg_equal(&cfg, &again), "the round trip should give the same config:\n%s",
		      a);
	cfg_format(&again, b, sizeof(b));
	ck_assert_msg(strcmp(a, b) == 0, "formatting twice should give the same text:\n%s\n%s", a,
		      b);
	cfg_free(&again);
}

START_TEST(test_format_round_trip)
{
	round_trip("");
	round_trip(cfg_embedded_default);
	round_trip("listen 192.0.2.1 port 1123\n"
		   "listen 2001:db8::1\n"
		   "listen ::ffff:192.0.2.2 port 5\n"
		   "local stratum 4 dispersion 0.1\n"
		   "allow 10.9.8.7/13\n"
		   "deny ::ffff:10.9.0.0/112\n"
		   "allow all\n"
		   "deny 2001:db8::ff/121\n"
		   "control allow 198.51.100.0/24\n"
		   "control allow fe80::/10\n"
		   "workers 17\n"
		   "io mmsg\n"
		   "pidfile /var/run/horod.pid\n"
		   "log syslog debug\n"
		   "hwtimestamp eth0\n"
		   "hwtimestamp enp1s0f1\n");
	round_trip("local stratum 15 dispersion 3.3e-7\nio uring\nlog stderr debug\n");
	round_trip("local stratum 1 dispersion 0.1234567890123\nlog syslog\n");
	round_trip("ratelimit interval -3 burst 20 leak 0 kod\ndenykod on\n"
		   "guard interface hs0 mode native\nguard interface lo mode skb\n"
		   "guard interface eth1\nguard pin /run/horod/bpf\n");
	round_trip("guard pin /sys/fs/bpf/x keep\n");
	round_trip("ratelimit\ndenykod off\n");
}
END_TEST

START_TEST(test_format_contents)
{
	char out[4096];

	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\nworkers auto\n") != NULL, "should say workers auto:\n%s", out);
	ck_assert_msg(strstr(out, "\nio auto\n") != NULL, "should say io auto:\n%s", out);
	ck_assert_msg(strstr(out, "\nlog stderr\n") != NULL, "should say log stderr:\n%s", out);
	ck_assert_msg(strstr(out, "# local: not configured\n") != NULL,
		      "should say local is not configured:\n%s", out);

	parse_ok("listen 127.0.0.1\nlisten ::1 port 1234\nlocal stratum 10\nallow 10.1.2.3/8\n"
		 "deny 2001:db8::1/32\ncontrol allow 192.0.2.1\nworkers 3\nio uring\n"
		 "pidfile /run/h.pid\n");
	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\nlisten 127.0.0.1\n") != NULL, "should list 127.0.0.1:\n%s",
		      out);
	ck_assert_msg(strstr(out, "\nlisten ::1 port 1234\n") != NULL, "should list ::1 1234");
	ck_assert_msg(strstr(out, "\nlocal stratum 10 dispersion 0.001\n") != NULL,
		      "should give local with its dispersion:\n%s", out);
	ck_assert_msg(strstr(out, "\nallow 10.0.0.0/8\n") != NULL, "should give the allow CIDR");
	ck_assert_msg(strstr(out, "\ndeny 2001:db8::/32\n") != NULL, "should give the deny CIDR");
	ck_assert_msg(strstr(out, "\ncontrol allow 192.0.2.1/32\n") != NULL, "should give control");
	ck_assert_msg(strstr(out, "\nworkers 3\nio uring\npidfile /run/h.pid\nlog stderr\n") !=
			      NULL,
		      "should give workers, io, pidfile, log:\n%s", out);
	ck_assert_msg(strstr(out, "\nclientloglimit 524288\n") != NULL,
		      "should give chrony's default clientloglimit:\n%s", out);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("listen 127.0.0.1\nclientloglimit 67108864\n");
	ck_assert_int_eq(cfg.clientloglimit, 67108864);
	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\nclientloglimit 67108864\n") != NULL,
		      "should give the configured clientloglimit:\n%s", out);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("listen 127.0.0.1\nclientloglimit 0\n");
	ck_assert_msg(cfg.clientloglimit == 0, "clientloglimit 0 should turn interleaved mode off");
}
END_TEST

START_TEST(test_format_truncation)
{
	char small[16], full[4096];
	size_t need, n;

	parse_ok(cfg_embedded_default);
	need = cfg_format(&cfg, full, sizeof(full));
	memset(small, 'Z', sizeof(small));
	n = cfg_format(&cfg, small, sizeof(small));
	ck_assert_msg(n == need, "a short buffer should still report the full length");
	ck_assert_msg(small[sizeof(small) - 1] == '\0' && strncmp(small, full, 15) == 0,
		      "a short buffer should get a NUL-terminated prefix");
	ck_assert_msg(cfg_format(&cfg, NULL, 0) == need, "no buffer should report the length");
}
END_TEST

/* Write LEN bytes of TEXT to a new temporary file; its path goes to PATH. */
static void write_temp(char *path, size_t pathlen, const char *text, size_t len)
{
	int fd;

	snprintf(path, pathlen, "/tmp/horod-check-config-XXXXXX");
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp should work: %s", strerror(errno));
	ck_assert_msg(write(fd, text, len) == (ssize_t)len, "the temp file should be written");
	close(fd);
}

START_TEST(test_file_ok_and_error_line)
{
	static const char good[] = "# file\nlisten 192.0.2.1 port 4123\nlocal stratum 5\n";
	static const char bad[] = "listen 192.0.2.1\nworkers 999\n";
	char path[64], prefix[128];
	int r;

	write_temp(path, sizeof(path), good, sizeof(good) - 1);
	r = cfg_parse_file(&cfg, path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(r == 0, "the file should parse: %s", err);
	ck_assert_msg(cfg.n_listen == 1 && listen_is(0, "192.0.2.1", 4123) &&
			      cfg.local.stratum == 5,
		      "the file's directives should apply");
	cfg_free(&cfg);

	cfg_defaults(&cfg);
	write_temp(path, sizeof(path), bad, sizeof(bad) - 1);
	r = cfg_parse_file(&cfg, path, err, sizeof(err));
	unlink(path);
	snprintf(prefix, sizeof(prefix), "%s:2: workers 999 out of range, allowed 1-256", path);
	ck_assert_msg(r == -1 && strncmp(err, prefix, strlen(prefix)) == 0,
		      "should say \"%s\", got \"%s\"", prefix, err);
	ck_assert_msg(cfg.n_listen == 0, "a failed file should leave the defaults");
}
END_TEST

START_TEST(test_file_errors)
{
	static const char nul[] = "listen ::1\nio \0mmsg\n";
	char path[64], want[160];
	char *big;
	size_t i;
	int r;

	ck_assert_msg(cfg_parse_file(&cfg, "/tmp/horod-no-such-dir/none.conf", err, sizeof(err)) ==
			      -1,
		      "a missing file should be refused");
	ck_assert_msg(strcmp(err, "/tmp/horod-no-such-dir/none.conf: cannot read: No such file or "
				  "directory") == 0,
		      "should say why it cannot be read, got \"%s\"", err);

	ck_assert_msg(cfg_parse_file(&cfg, "/tmp", err, sizeof(err)) == -1,
		      "a directory should be refused");
	ck_assert_msg(strcmp(err, "/tmp: cannot read: Is a directory") == 0,
		      "should say it is a directory, got \"%s\"", err);

	write_temp(path, sizeof(path), nul, sizeof(nul) - 1);
	r = cfg_parse_file(&cfg, path, err, sizeof(err));
	unlink(path);
	snprintf(want, sizeof(want), "%s:2: NUL byte", path);
	ck_assert_msg(r == -1 && strncmp(err, want, strlen(want)) == 0,
		      "a NUL byte should be refused on its line, got \"%s\"", err);
	ck_assert_msg(cfg.n_listen == 0, "a refused file should apply nothing");

	/* 1 MiB of comment lines is fine; one byte more is not. */
	big = malloc((1 << 20) + 1);
	ck_assert(big != NULL);
	for (i = 0; i < (1 << 20); i++)
		big[i] = (i % 64 == 63) ? '\n' : '#';
	write_temp(path, sizeof(path), big, 1 << 20);
	r = cfg_parse_file(&cfg, path, err, sizeof(err));
	unlink(path);
	ck_assert_msg(r == 0, "a 1 MiB file should be read: %s", err);
	big[1 << 20] = '\n';
	write_temp(path, sizeof(path), big, (1 << 20) + 1);
	r = cfg_parse_file(&cfg, path, err, sizeof(err));
	unlink(path);
	free(big);
	ck_assert_msg(r == -1, "a file over 1 MiB should be refused");
	snprintf(want, sizeof(want), "%s: file larger than 1048576 bytes, allowed at most", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "should give the limit, got \"%s\"",
		      err);
}
END_TEST

START_TEST(test_security_directives)
{
	char out[4096];

	ck_assert_msg(cfg.sec.user[0] == '\0' && cfg.sec.seccomp == 0,
		      "defaults should stay root without a seccomp filter");
	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\n# user: none (horod keeps running as root)\nseccomp 0\n"),
		      "the format should say no user and seccomp 0:\n%s", out);
	parse_ok("user nobody\nseccomp 2\n");
	ck_assert_str_eq(cfg.sec.user, "nobody");
	ck_assert_msg(cfg.sec.uid == 65534 && cfg.sec.gid == 65534,
		      "nobody should be looked up as 65534:65534, got %u:%u", (unsigned)cfg.sec.uid,
		      (unsigned)cfg.sec.gid);
	ck_assert_msg(cfg.sec.seccomp == 2, "seccomp 2 should be kept");
	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\nuser nobody\nseccomp 2\n"), "the format should give both:\n%s",
		      out);
	parse_ok("user root\n");
	ck_assert_msg(strcmp(cfg.sec.user, "root") == 0 && cfg.sec.uid == 0,
		      "user root should parse (and means no switch)");
	round_trip("user nobody\nseccomp 1\n");
	round_trip("seccomp 0\n");
}
END_TEST

/* `leapfile` reads the table when parsed and comes back in the effective configuration;
 * `leapsectz` names a zone under the zone directory (issue 16). */
START_TEST(test_leap_directives)
{
	char out[8192];

	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\n# leapfile: none"), "no table by default:\n%s", out);
	parse_ok("leapfile " HOROD_TESTDATA "/leap/future.list\n");
	ck_assert_msg(cfg.leap.src == CFG_LEAP_FILE && cfg.leap.tab.n == 30 &&
			      cfg.leap.tab.expires_s == 2082412800LL && cfg.leap.tab.hashed,
		      "future.list should be read: 30 entries, expiring 2035-12-28 (got %d, %lld)",
		      cfg.leap.tab.n, (long long)cfg.leap.tab.expires_s);
	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\nleapfile " HOROD_TESTDATA "/leap/future.list\n"),
		      "the format should give the leapfile:\n%s", out);
	round_trip("leapfile " HOROD_TESTDATA "/leap/ietf-2025.list\n");
	cfg_format(&cfg, out, sizeof(out));
	ck_assert_msg(strstr(out, "\nleapsecmode system\nleapsmear interval 86400\n"),
		      "the defaults: leapsecmode system, a 86400 s smear:\n%s", out);
	round_trip("leapsecmode smear\nleapsmear interval 7200\n");
	ck_assert_msg(cfg.leap.mode == CLK_LEAPMODE_SMEAR && cfg.leap.smear_s == 7200,
		      "leapsecmode smear over 7200 s should be kept");
	round_trip("leapsecmode step\n");
	ck_assert_msg(cfg.leap.mode == CLK_LEAPMODE_STEP, "leapsecmode step should be kept");
	round_trip("leapsecmode slew\n");
	ck_assert_msg(cfg.leap.mode == CLK_LEAPMODE_SLEW, "leapsecmode slew should be kept");
	round_trip("driver sim offset 0.5 date 2016-12-31T23:59:50Z\n");
	ck_assert_msg(cfg.clk.sim_date == 1483228790LL,
		      "the sim date should be 1483228790, got %lld", cfg.clk.sim_date);
	if (access(CLK_ZONEINFO_DIR "/right/UTC", R_OK) == 0) {
		round_trip("leapsectz right/UTC\n");
		ck_assert_msg(cfg.leap.src == CFG_LEAP_TZ && cfg.leap.tab.n >= 27,
			      "right/UTC should give the 27 leaps at least (got %d)",
			      cfg.leap.tab.n);
	}
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_leap_directives);
	tcase_add_test(tc, test_every_directive);
	tcase_add_test(tc, test_value_forms);
	tcase_add_test(tc, test_comments_and_blank_lines);
	tcase_add_test(tc, test_embedded_default);
	tcase_add_test(tc, test_guard_directives);
	tcase_add_test(tc, test_guard_interface_limit);
	tcase_add_test(tc, test_listen_limit);
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_pidfile_length);
	tcase_add_test(tc, test_failed_parse_keeps_previous);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_round_trip);
	tcase_add_test(tc, test_format_contents);
	tcase_add_test(tc, test_format_truncation);
	tcase_add_test(tc, test_security_directives);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_file_ok_and_error_line);
	tcase_add_test(tc, test_file_errors);
	suite_add_tcase(s, tc);
	return s;
}
