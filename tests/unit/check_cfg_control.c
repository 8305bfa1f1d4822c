/*
 * Tests of the control-plane directives (daemon/config/cfg_control.c):
 * `control /PATH|off` beside `control allow`, `metrics listen
 * ADDR:PORT [public]` — defaults, accepted forms, every error with its
 * `NAME:LINE:` and allowed form, loopback enforcement, the
 * cfg_format round trip, and the default socket resolved for root and
 * for other users (cfg_control_resolve).
 */
#include <check.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config/config.h"

Suite *cfg_control_suite(void);

#define NAME "ctl.conf"

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

	cfg_defaults(&c);
	ck_assert_msg(cfg_parse_string(&c, NAME, text, err, sizeof(err)) < 0,
		      "\"%s\" should be rejected", text);
	ck_assert_msg(strstr(err, want) != NULL,
		      "error for \"%s\" should contain \"%s\", got \"%s\"", text, want, err);
	ck_assert_msg(strncmp(err, NAME ":", strlen(NAME) + 1) == 0,
		      "error should start with NAME:LINE:, got \"%s\"", err);
	cfg_free(&c);
}

START_TEST(test_defaults)
{
	ck_assert_str_eq(cfg.control.path, "/run/horod/horod.sock");
	ck_assert_msg(!cfg.control.metrics_enabled, "metrics should be off by default");
}
END_TEST

START_TEST(test_control_resolve)
{
	struct stat xdg;

	memset(&xdg, 0, sizeof(xdg));
	xdg.st_mode = S_IFDIR | 0700;
	xdg.st_uid = 1000;
	parse_ok("listen 127.0.0.1\n");
	cfg_control_resolve(&cfg, 0, "/run/user/0", &xdg);
	ck_assert_str_eq(cfg.control.path, "/run/horod/horod.sock");
	ck_assert_msg(!cfg.control.path_private, "root's socket directory should not be private");
	cfg_control_resolve(&cfg, 1000, "/run/user/1000", &xdg);
	ck_assert_str_eq(cfg.control.path, "/run/user/1000/horod/horod.sock");
	ck_assert_msg(cfg.control.path_private, "a user's socket directory should be private");
	teardown();
	setup();
	cfg_control_resolve(&cfg, 1000, NULL, NULL);
	ck_assert_str_eq(cfg.control.path, "/tmp/horod-1000/horod.sock");
	teardown();
	setup();
	parse_ok("control /tmp/x/h.sock\n");
	cfg_control_resolve(&cfg, 1000, NULL, NULL);
	ck_assert_msg(strcmp(cfg.control.path, "/tmp/x/h.sock") == 0 && !cfg.control.path_private,
		      "a configured socket should be kept as it is for any user");
	teardown();
	setup();
	parse_ok("control off\n");
	cfg_control_resolve(&cfg, 1000, NULL, NULL);
	ck_assert_msg(cfg.control.path[0] == '\0', "control off should stay off for any user");
}
END_TEST

START_TEST(test_control_path)
{
	parse_ok("control /tmp/x/h.sock\ncontrol allow 192.0.2.0/24\n");
	ck_assert_str_eq(cfg.control.path, "/tmp/x/h.sock");
	ck_assert_msg(cfg.control_acl.n == 1, "control allow should still work beside the path");
	teardown();
	setup();
	parse_ok("control off\n");
	ck_assert_msg(cfg.control.path[0] == '\0', "control off should clear the path");
}
END_TEST

START_TEST(test_control_errors)
{
	char text[300];

	parse_bad("control /a\ncontrol /b\n", "already given on line 1");
	parse_bad("control /a extra\n", "extra argument 'extra'");
	parse_bad("control /a/\n", "bad control socket path");
	parse_bad("control relative.sock\n", "unknown control option");
	snprintf(text, sizeof(text), "control /%0120d\n", 0);
	parse_bad(text, "at most 107 bytes");
}
END_TEST

START_TEST(test_metrics)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)&cfg.control.metrics_addr;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&cfg.control.metrics_addr;

	parse_ok("metrics listen 127.0.0.1:9123\n");
	ck_assert_msg(cfg.control.metrics_enabled && s->sin_family == AF_INET &&
			      ntohs(s->sin_port) == 9123 && ntohl(s->sin_addr.s_addr) == 0x7f000001,
		      "metrics listen 127.0.0.1:9123 should be stored");
	teardown();
	setup();
	parse_ok("metrics listen [::1]:80\n");
	ck_assert_msg(s6->sin6_family == AF_INET6 && ntohs(s6->sin6_port) == 80 &&
			      IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr),
		      "metrics listen [::1]:80 should be stored");
	teardown();
	setup();
	parse_ok("metrics listen 192.0.2.1:9123 public\n");
	ck_assert_msg(cfg.control.metrics_public, "public should be recorded");
}
END_TEST

START_TEST(test_metrics_errors)
{
	parse_bad("metrics\n", "needs 'listen ADDR:PORT'");
	parse_bad("metrics serve 127.0.0.1:1\n", "needs 'listen ADDR:PORT'");
	parse_bad("metrics listen 127.0.0.1\n", "has no port");
	parse_bad("metrics listen 127.0.0.1:0\n", "bad metrics port '0', allowed 1-65535");
	parse_bad("metrics listen 127.0.0.1:x\n", "bad metrics port");
	parse_bad("metrics listen ::1:80\n", "bad metrics address");
	parse_bad("metrics listen [::1:80\n", "bad metrics address");
	parse_bad("metrics listen host.example:80\n", "bad metrics address");
	parse_bad("metrics listen 192.0.2.1:9123\n", "is not loopback");
	parse_bad("metrics listen [2001:db8::1]:9123\n", "is not loopback");
	parse_bad("metrics listen 127.0.0.1:1 private\n", "extra argument 'private'");
	parse_bad("metrics listen 127.0.0.1:1\nmetrics listen 127.0.0.1:2\n", "already given");
}
END_TEST

START_TEST(test_format_round_trip)
{
	struct horod_config back;
	char a[8192], b[8192];

	parse_ok("listen 127.0.0.1\ncontrol /tmp/h.sock\nmetrics listen [::1]:9100\n");
	cfg_format(&cfg, a, sizeof(a));
	ck_assert_msg(strstr(a, "control /tmp/h.sock\n") &&
			      strstr(a, "metrics listen [::1]:9100\n"),
		      "cfg_format should show both directives:\n%s", a);
	cfg_defaults(&back);
	ck_assert_msg(cfg_parse_string(&back, NAME, a, err, sizeof(err)) == 0,
		      "the formatted configuration should parse, got %s", err);
	cfg_format(&back, b, sizeof(b));
	ck_assert_msg(strcmp(a, b) == 0, "format should round-trip:\n%s\nvs\n%s", a, b);
	cfg_free(&back);
	teardown();
	setup();
	cfg_format(&cfg, a, sizeof(a));
	ck_assert_msg(strstr(a, "control /run/horod/horod.sock\n") && strstr(a, "# metrics: off\n"),
		      "defaults should be shown:\n%s", a);
}
END_TEST

Suite *cfg_control_suite(void)
{
	Suite *s = suite_create("cfg_control");
	TCase *t = tcase_create("core");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_defaults);
	tcase_add_test(t, test_control_path);
	tcase_add_test(t, test_control_resolve);
	tcase_add_test(t, test_control_errors);
	tcase_add_test(t, test_metrics);
	tcase_add_test(t, test_metrics_errors);
	tcase_add_test(t, test_format_round_trip);
	suite_add_tcase(s, t);
	return s;
}
