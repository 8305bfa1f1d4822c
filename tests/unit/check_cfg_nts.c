/*
 * Tests of the NTS and keyfile directives (daemon/config/cfg_nts.c):
 * defaults (port 4460, weekly rotation, 100 connections), accepted forms,
 * every error with its `NAME:LINE:` and allowed form, the checks across
 * directives (a certificate without its key, ntsrotate 0 without
 * ntsdumpdir, a server's key without a keyfile, the NTS client's trust
 * without an NTS server), the server line's `key ID`, `nts` and
 * `ntsport N`, and the cfg_format round trip.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config/config.h"

Suite *cfg_nts_suite(void);

#define NAME "nts.conf"

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
	ck_assert_int_eq(cfg.nts.port, 4460);
	ck_assert_int_eq(cfg.nts.rotate, 604800);
	ck_assert_int_eq(cfg.nts.max_conn, 100);
	ck_assert_int_eq(cfg.nts.threads, 0);
	ck_assert_msg(!cfg.nts.cert[0] && !cfg.nts.keyfile[0], "nothing configured by default");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_forms)
{
	parse_ok("ntsservercert /etc/horod/c.pem\nntsserverkey /etc/horod/k.pem\n"
		 "ntsport 11460\nntsdumpdir /var/lib/horod\nntsrotate 0\n"
		 "ntsntpserver ntp.example.net\nmaxntsconnections 1000\nntsthreads 16\n"
		 "keyfile /etc/horod/keys\n");
	ck_assert_str_eq(cfg.nts.cert, "/etc/horod/c.pem");
	ck_assert_str_eq(cfg.nts.key, "/etc/horod/k.pem");
	ck_assert_int_eq(cfg.nts.port, 11460);
	ck_assert_str_eq(cfg.nts.dumpdir, "/var/lib/horod");
	ck_assert_int_eq(cfg.nts.rotate, 0);
	ck_assert_str_eq(cfg.nts.ntp_server, "ntp.example.net");
	ck_assert_int_eq(cfg.nts.max_conn, 1000);
	ck_assert_int_eq(cfg.nts.threads, 16);
	ck_assert_str_eq(cfg.nts.keyfile, "/etc/horod/keys");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_client_forms)
{
	parse_ok("keyfile /etc/horod/keys\nserver a.example key 4294967295 iburst\n"
		 "server b.example nts\nserver 192.0.2.7 nts ntsport 11460 minpoll 4\n"
		 "ntstrustedcerts /etc/horod/ca.pem\nnosystemcert\nnocerttimecheck 1\n");
	ck_assert_int_eq(cfg.clk.n_servers, 3);
	ck_assert_uint_eq(cfg.clk.servers[0].key, 4294967295u);
	ck_assert_int_eq(cfg.clk.servers[0].nts, 0);
	ck_assert_int_eq(cfg.clk.servers[0].iburst, 1);
	ck_assert_int_eq(cfg.clk.servers[1].nts, 1);
	ck_assert_int_eq(cfg.clk.servers[1].ntsport, 4460);
	ck_assert_uint_eq(cfg.clk.servers[1].key, 0);
	ck_assert_int_eq(cfg.clk.servers[2].nts, 1);
	ck_assert_int_eq(cfg.clk.servers[2].ntsport, 11460);
	ck_assert_int_eq(cfg.clk.servers[2].minpoll, 4);
	ck_assert_str_eq(cfg.nts.trusted_certs, "/etc/horod/ca.pem");
	ck_assert_int_eq(cfg.nts.no_system_cert, 1);
	ck_assert_int_eq(cfg.nts.no_cert_time_check, 1);
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_client_errors)
{
	parse_bad("server a key 0\n", "key 0 out of range, allowed 1-4294967295");
	parse_bad("server a key 4294967296\n", "out of range, allowed 1-4294967295");
	parse_bad("server a key\n", "nts.conf:1:");
	parse_bad("server a key 1 nts\n", "key and nts on one server, allowed: one of them");
	parse_bad("server a ntsport 4461\n", "ntsport without nts");
	/* Authenticated sources are polled in basic mode (README: Interleaved mode). */
	parse_bad("server a nts xleave\n", "xleave with nts, allowed: xleave on a server without");
	parse_bad("server a xleave key 3\n",
		  "xleave with key, allowed: xleave on a server without");
	parse_bad("server a nts ntsport 0\n", "ntsport 0 out of range, allowed 1-65535");
	parse_bad("pool p.example nts\n", "'nts' on a pool line is not supported");
	parse_bad("pool p.example key 3\n", "'key' on a pool line is not supported");
	parse_bad("ntstrustedcerts ca.pem\n", "not an absolute path");
	parse_bad("ntstrustedcerts /a\nntstrustedcerts /b\n", "already given on line 1");
	parse_bad("nosystemcert yes\n", "extra argument 'yes'");
	parse_bad("nocerttimecheck -1\n", "out of range, allowed 0-2147483647");
	parse_bad("nocerttimecheck\n", "'nocerttimecheck' needs a number");
}
END_TEST

START_TEST(test_errors)
{
	parse_bad("ntsservercert\n", "nts.conf:1: 'ntsservercert' needs a path");
	parse_bad("ntsservercert rel.pem\n", "not an absolute path, allowed: /ABSOLUTE/PATH");
	parse_bad("ntsserverkey /a /b\n", "extra argument '/b'");
	parse_bad("ntsdumpdir /a\nntsdumpdir /b\n",
		  "nts.conf:2: 'ntsdumpdir' already given on line 1");
	parse_bad("ntsport 0\n", "ntsport 0 out of range, allowed 1-65535");
	parse_bad("ntsport x\n", "bad ntsport 'x', allowed 1-65535");
	parse_bad("ntsrotate -1\n", "out of range, allowed 0-2147483647");
	parse_bad("ntsrotate 2147483648\n", "out of range, allowed 0-2147483647");
	parse_bad("maxntsconnections 0\n", "allowed 1-1000");
	parse_bad("ntsthreads 17\n", "ntsthreads 17 out of range, allowed 0-16");
	parse_bad("ntsthreads 2\nntsthreads 3\n",
		  "nts.conf:2: 'ntsthreads' already given on line 1");
	parse_bad("ntsntpserver a/b\n", "bad ntsntpserver 'a/b', allowed: a host name or address");
	parse_bad("ntsntpserver\n", "needs a host");
	parse_bad("keyfile\n", "'keyfile' needs a path");
	{
		char longpath[300], line[320];

		memset(longpath, 'a', sizeof(longpath));
		longpath[0] = '/';
		memcpy(longpath + 260, "\n", 2);
		snprintf(line, sizeof(line), "keyfile %s", longpath);
		parse_bad(line, "too long, allowed at most 239 bytes");
	}
}
END_TEST

START_TEST(test_checks_across)
{
	parse_ok("ntsservercert /c.pem\n");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "ntsservercert without ntsserverkey") != NULL, "got %s", err);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("ntsdumpdir /var/lib/horod\n");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "allowed only with an NTS server") != NULL, "got %s", err);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("ntsservercert /c.pem\nntsserverkey /k.pem\nntsrotate 0\n");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "needs ntsdumpdir") != NULL, "got %s", err);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("server a.example key 5\n");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "server a.example key 5 without a keyfile") != NULL, "got %s",
		      err);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("server a.example\nntstrustedcerts /ca.pem\n");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "ntstrustedcerts given without a server line with nts") != NULL,
		      "got %s", err);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("server a.example nts\nnocerttimecheck 2\n");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), 0);
	cfg_free(&cfg);
	cfg_defaults(&cfg);
	parse_ok("server a.example nts\nnosystemcert\n");
	ck_assert_int_eq(cfg_nts_check(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "nosystemcert without ntstrustedcerts") != NULL, "got %s", err);
}
END_TEST

START_TEST(test_format_roundtrip)
{
	static char a[8192], b[8192];
	struct horod_config c2;

	parse_ok("listen 127.0.0.1\nntsservercert /c.pem\nntsserverkey /k.pem\nntsport 4461\n"
		 "ntsdumpdir /d\nntsrotate 3600\nntsntpserver 192.0.2.1\nkeyfile /keys\n"
		 "server a.example key 7\nserver b.example nts ntsport 4461\n"
		 "ntstrustedcerts /ca.pem\nnosystemcert\nnocerttimecheck 3\n");
	cfg_format(&cfg, a, sizeof(a));
	ck_assert_msg(
		strstr(a, "ntsport 4461\n") && strstr(a, "ntsrotate 3600\n") &&
			strstr(a, "keyfile /keys\n") && strstr(a, "ntsntpserver 192.0.2.1\n") &&
			strstr(a, " key 7\n") && strstr(a, " nts ntsport 4461\n") &&
			strstr(a, "ntstrustedcerts /ca.pem\nnosystemcert\nnocerttimecheck 3\n"),
		"the format should carry the NTS directives:\n%s", a);
	cfg_defaults(&c2);
	ck_assert_msg(cfg_parse_string(&c2, "again", a, err, sizeof(err)) == 0, "%s", err);
	cfg_format(&c2, b, sizeof(b));
	ck_assert_str_eq(a, b);
	cfg_free(&c2);
}
END_TEST

/*
 * A certificate without its key parses (the pair is checked after the
 * parse) and must format to text that parses back: found by CI's
 * fuzz_config (the format wrote an empty `ntsserverkey`).
 */
START_TEST(test_format_half_pair)
{
	static const char *const texts[] = {"ntsservercert /c.pem\n", "ntsserverkey /k.pem\n"};
	static char a[8192], b[8192];
	struct horod_config c2;
	size_t i;

	for (i = 0; i < 2; i++) {
		cfg_free(&cfg);
		cfg_defaults(&cfg);
		parse_ok(texts[i]);
		cfg_format(&cfg, a, sizeof(a));
		cfg_defaults(&c2);
		ck_assert_msg(cfg_parse_string(&c2, "again", a, err, sizeof(err)) == 0,
			      "the format of \"%s\" should parse back: %s", texts[i], err);
		cfg_format(&c2, b, sizeof(b));
		ck_assert_str_eq(a, b);
		cfg_free(&c2);
	}
}
END_TEST

Suite *cfg_nts_suite(void)
{
	Suite *s = suite_create("cfg_nts");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_forms);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_client_forms);
	tcase_add_test(tc, test_client_errors);
	tcase_add_test(tc, test_checks_across);
	tcase_add_test(tc, test_format_roundtrip);
	tcase_add_test(tc, test_format_half_pair);
	suite_add_tcase(s, tc);
	return s;
}
