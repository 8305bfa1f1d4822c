/*
 * Unit tests of proto/ntpcheck.c, the judgement behind `horoctl check`:
 * crafted replies for each kind of server (a good one, a w32time-like one
 * with 10.3 s of root dispersion, one with 2 s, unsynchronized by LI 3 and
 * by stratum 16, kiss-o'-death, wrong origin, silence) and the verdict
 * each client model must reach, the numbers it quotes and the fix it
 * prints; then the sample arithmetic and the text and JSON renderers.
 */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <string.h>

#include "proto/ntpcheck.h"

Suite *ntpcheck_suite(void);

#define BASE_SEC 3970000000ULL		       /* NTP seconds: an arbitrary instant in era 0 */
#define US(x)	 ((uint64_t)((x)*4294.967296)) /* NTP fraction units of x microseconds */

static struct ntpchk_sample smp[NTPCHK_MAX_SAMPLES];
static struct ntpchk_result res;
static char out[16384];

/* A reply to request I sent at BASE + I s: 10 us out, 10 us in the server, 10 us back. */
static void craft(int i, int leap, int stratum, const char *refid, double root_delay,
		  double root_disp)
{
	struct ntp_packet *p = &smp[i].pkt;
	uint64_t t1 = (BASE_SEC + (uint64_t)i) << 32;

	memset(&smp[i], 0, sizeof(smp[i]));
	smp[i].t1 = t1;
	smp[i].t4 = t1 + US(30);
	p->leap = (uint8_t)leap;
	p->version = 4;
	p->mode = NTP_MODE_SERVER;
	p->stratum = (uint8_t)stratum;
	p->precision = -20;
	p->root_delay = ntp_short_from_double(root_delay);
	p->root_disp = ntp_short_from_double(root_disp);
	if (stratum <= 1) {
		p->refid = ntp_refid_ascii(refid);
	} else {
		struct in_addr a;

		inet_pton(AF_INET, refid, &a);
		p->refid = ntp_refid_ipv4(&a);
	}
	p->ref = t1 - (16ULL << 32);
	p->org = 0x1234567800000000ULL + (uint64_t)i;
	p->rec = t1 + US(10);
	p->xmt = t1 + US(20);
}

static int all(int n, int leap, int stratum, const char *refid, double rd, double disp)
{
	int i;

	for (i = 0; i < n; i++)
		craft(i, leap, stratum, refid, rd, disp);
	return ntpchk_analyze(smp, n, -20, &res);
}

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static int advice_has(const char *needle)
{
	int i;

	for (i = 0; i < res.nadvice; i++)
		if (has(res.advice[i], needle))
			return 1;
	return 0;
}

START_TEST(good_server_accepted_by_all)
{
	int c;

	ck_assert_msg(all(4, 0, 2, "192.0.2.1", 0.010, 0.020) == 0, "should exit 0");
	for (c = 0; c < NTPCHK_NCLIENTS; c++) {
		ck_assert_msg(res.v[c].accept, "%s should accept a good server: %s",
			      ntpchk_client_name(c), res.v[c].why);
		ck_assert_msg(has(res.v[c].why, "accept: "), "why should start with accept");
		ck_assert_msg(res.v[c].fix[0] == '\0', "no fix should be offered");
	}
	ck_assert_msg(res.flash == 0, "no test should fail, got 0x%x", res.flash);
	ck_assert_msg(res.valid == 4 && res.answered == 4, "all 4 replies should be usable");
	ck_assert_str_eq(res.refid_text, "192.0.2.1");
	ck_assert_msg(fabs(res.offset) < 1e-7, "offset should be ~0, got %g", res.offset);
	ck_assert_msg(fabs(res.delay - 20e-6) < 1e-7, "delay should be 20 us, got %g", res.delay);
	ck_assert_msg(fabs(res.adv_distance - 0.025) < 1e-4, "advertised distance should be 25 ms");
	ck_assert_msg(res.distance > 0.025 && res.distance < 0.026,
		      "client distance should add the path terms, got %g", res.distance);
	ck_assert_msg(!res.w32time_like, "a stratum 2 server should not look like w32time");
	ck_assert_msg(res.nadvice == 0, "no advice should be given");
}
END_TEST

START_TEST(w32time_rejected_with_peer_dist)
{
	char names[64];

	ck_assert_msg(all(4, 0, 1, "LOCL", 0, 10.3) == 1, "should exit 1");
	ck_assert_msg(res.w32time_like, "stratum 1 LOCL with 10.3 s should look like w32time");
	ck_assert_str_eq(res.refid_text, "LOCL");
	ck_assert_msg(!res.v[NTPCHK_NTPD].accept && !res.v[NTPCHK_CHRONY].accept,
		      "ntpd and chrony should reject");
	ck_assert_msg(res.v[NTPCHK_NTPD].flash == NTP_FLASH_PEER_DIST,
		      "ntpd should reject with peer_dist only");
	ck_assert_msg(has(res.v[NTPCHK_NTPD].why, "reject: 0x400 peer_dist, root distance 10.3"),
		      "ntpd why should quote peer_dist and 10.3 s: %s", res.v[NTPCHK_NTPD].why);
	ck_assert_msg(has(res.v[NTPCHK_NTPD].why, "> 1.5 s"), "ntpd limit should be 1.5 s: %s",
		      res.v[NTPCHK_NTPD].why);
	ck_assert_msg(has(res.v[NTPCHK_CHRONY].why, "0x400 peer_dist") &&
			      has(res.v[NTPCHK_CHRONY].why, "> 3 s"),
		      "chrony should quote peer_dist and 3 s: %s", res.v[NTPCHK_CHRONY].why);
	ck_assert_msg(!res.v[NTPCHK_TIMESYNCD].accept && has(res.v[NTPCHK_TIMESYNCD].why, "> 5 s"),
		      "timesyncd should reject at 5 s: %s", res.v[NTPCHK_TIMESYNCD].why);
	ck_assert_msg(!res.v[NTPCHK_RFC5905].accept, "the RFC 5905 client should reject");
	ck_assert_msg(has(res.v[NTPCHK_NTPD].fix, "tos maxdist 12"), "ntpd fix: %s",
		      res.v[NTPCHK_NTPD].fix);
	ck_assert_msg(has(res.v[NTPCHK_CHRONY].fix, "maxdistance 12"), "chrony fix: %s",
		      res.v[NTPCHK_CHRONY].fix);
	ck_assert_msg(has(res.v[NTPCHK_TIMESYNCD].fix, "RootDistanceMaxSec=12"),
		      "timesyncd fix: %s", res.v[NTPCHK_TIMESYNCD].fix);
	ck_assert_msg(advice_has("w32tm /config /localclockdispersion:0 /update"),
		      "the w32tm dispersion fix should be printed");
	ck_assert_msg(advice_has("w32tm /resync /rediscover"),
		      "the w32tm resync should be printed");
	ck_assert_str_eq(ntpchk_flash_format(res.flash, names, sizeof(names)), "0x400 peer_dist");
}
END_TEST

/* Found by fuzz_check: precision 127 makes the distance ~1.7e38 s (no int conversion). */
START_TEST(absurd_precision_no_client_fix)
{
	int i, c;

	for (i = 0; i < 4; i++) {
		craft(i, 0, 2, "192.0.2.1", 0.010, 0.020);
		smp[i].pkt.precision = 127;
	}
	ck_assert_msg(ntpchk_analyze(smp, 4, -20, &res) == 1, "should exit 1 (rejected)");
	ck_assert_msg(!res.v[NTPCHK_NTPD].accept && !res.v[NTPCHK_CHRONY].accept,
		      "ntpd and chrony count precision in the distance: they should reject");
	/* timesyncd judges the advertised distance only (no precision): it accepts. */
	ck_assert_msg(res.v[NTPCHK_TIMESYNCD].accept, "timesyncd should accept");
	for (c = 0; c < NTPCHK_NCLIENTS; c++) {
		if (res.v[c].accept)
			continue;
		ck_assert_msg(has(res.v[c].fix, "none on the client"),
			      "%s should get no client fix for an absurd distance: %s",
			      ntpchk_client_name(c), res.v[c].fix);
	}
}
END_TEST

START_TEST(two_seconds_splits_the_clients)
{
	ck_assert_msg(all(4, 0, 3, "198.51.100.7", 0.004, 2.0) == 1, "should exit 1");
	ck_assert_msg(!res.v[NTPCHK_NTPD].accept, "ntpd (1.5 s) should reject 2 s");
	ck_assert_msg(res.v[NTPCHK_CHRONY].accept, "chrony (3 s) should accept 2 s: %s",
		      res.v[NTPCHK_CHRONY].why);
	ck_assert_msg(res.v[NTPCHK_TIMESYNCD].accept, "timesyncd (5 s) should accept 2 s");
	ck_assert_msg(!res.v[NTPCHK_RFC5905].accept, "the RFC client (1 s) should reject 2 s");
	ck_assert_msg(has(res.v[NTPCHK_NTPD].fix, "tos maxdist 4"), "ntpd fix: %s",
		      res.v[NTPCHK_NTPD].fix);
	ck_assert_msg(!res.w32time_like, "a stratum 3 server should not look like w32time");
	ck_assert_msg(advice_has("fix its upstream"), "generic server advice should be printed");
}
END_TEST

START_TEST(leap_unsync_rejected)
{
	int c;

	ck_assert_msg(all(4, 3, 2, "192.0.2.1", 0.01, 0.01) == 1, "should exit 1");
	for (c = 0; c < NTPCHK_NCLIENTS; c++) {
		ck_assert_msg(!res.v[c].accept, "%s should reject LI 3", ntpchk_client_name(c));
		ck_assert_msg(has(res.v[c].why, "unsynchronized (LI 3"), "why: %s", res.v[c].why);
		ck_assert_msg(res.v[c].flash & NTP_FLASH_STRATUM, "should set pkt_stratum");
	}
	ck_assert_msg(res.flash & NTP_FLASH_PEER_STRATUM, "should set peer_stratum");
	ck_assert_msg(res.valid == 0 && res.answered == 4, "replies arrive but none is usable");
	ck_assert_msg(advice_has("not synchronized"), "unsync advice should be printed");
}
END_TEST

START_TEST(stratum16_rejected)
{
	ck_assert_msg(all(2, 0, 16, "192.0.2.1", 0.01, 0.01) == 1, "should exit 1");
	ck_assert_msg(!res.v[NTPCHK_TIMESYNCD].accept, "timesyncd should reject stratum 16");
	ck_assert_msg(has(res.v[NTPCHK_NTPD].why, "stratum 16"), "why: %s", res.v[NTPCHK_NTPD].why);
	ck_assert_msg(res.refid_text[0] == '0' && res.refid_text[1] == 'x',
		      "a stratum 16 refid should show in hex, got %s", res.refid_text);
}
END_TEST

START_TEST(kod_rate_explained)
{
	int i, c;

	for (i = 0; i < 3; i++) {
		craft(i, 3, 0, "RATE", 0, 0);
		smp[i].pkt.rec = smp[i].pkt.xmt = 0;
	}
	ck_assert_msg(ntpchk_analyze(smp, 3, -20, &res) == 1, "should exit 1");
	ck_assert_msg(res.kod == 3, "should count 3 KoD");
	ck_assert_str_eq(res.kod_code, "RATE");
	for (c = 0; c < NTPCHK_NCLIENTS; c++)
		ck_assert_msg(!res.v[c].accept && has(res.v[c].why, "kiss-o'-death RATE"),
			      "%s should reject on KoD: %s", ntpchk_client_name(c), res.v[c].why);
	ck_assert_msg(!(res.flash & NTP_FLASH_DENIED), "RATE is not pkt_denied");
	ck_assert_msg(advice_has("rate-limits"), "RATE advice should be printed");
}
END_TEST

START_TEST(kod_deny_is_pkt_denied)
{
	craft(0, 3, 0, "DENY", 0, 0);
	ntpchk_analyze(smp, 1, -20, &res);
	ck_assert_msg(res.flash & NTP_FLASH_DENIED, "DENY should set 0x008 pkt_denied");
	ck_assert_msg(has(res.v[NTPCHK_NTPD].why, "0x008 pkt_denied"), "why: %s",
		      res.v[NTPCHK_NTPD].why);
	ck_assert_msg(advice_has("access denied"), "DENY advice should be printed");
}
END_TEST

START_TEST(origin_mismatch_rejected)
{
	int i;

	for (i = 0; i < 4; i++) {
		craft(i, 0, 2, "192.0.2.1", 0.01, 0.01);
		smp[i].flags = NTPCHK_F_BADORG;
	}
	ck_assert_msg(ntpchk_analyze(smp, 4, -20, &res) == 1, "should exit 1 (reachable)");
	ck_assert_msg(res.bogus == 4, "should count 4 bogus replies");
	ck_assert_msg(res.flash & NTP_FLASH_BOGUS, "should set 0x002 pkt_bogus");
	ck_assert_msg(has(res.v[NTPCHK_CHRONY].why, "origin mismatch"), "why: %s",
		      res.v[NTPCHK_CHRONY].why);
	ck_assert_msg(advice_has("did not echo our transmit timestamp"),
		      "origin advice should be printed");
}
END_TEST

START_TEST(silence_is_unreachable)
{
	int i, c;

	for (i = 0; i < 4; i++) {
		memset(&smp[i], 0, sizeof(smp[i]));
		smp[i].flags = NTPCHK_F_NOREPLY;
	}
	ck_assert_msg(ntpchk_analyze(smp, 4, -20, &res) == 2, "silence should exit 2");
	ck_assert_msg(res.flash == NTP_FLASH_PEER_UNREACH, "only peer_unreach should be set");
	for (c = 0; c < NTPCHK_NCLIENTS; c++)
		ck_assert_msg(has(res.v[c].why, "no reply to 4 requests"), "why: %s", res.v[c].why);
	ck_assert_msg(!res.have_header, "no header should be reported");
	ck_assert_msg(advice_has("no reply at all"), "silence advice should be printed");
	ck_assert_msg(ntpchk_analyze(smp, -3, -20, &res) == 2 && res.sent == 0,
		      "a negative count should be treated as none");
}
END_TEST

START_TEST(partial_loss_and_dups_still_accepted)
{
	all(4, 0, 2, "192.0.2.1", 0.01, 0.01);
	smp[1].flags = NTPCHK_F_NOREPLY;
	smp[2].flags = NTPCHK_F_DUP;
	ck_assert_msg(ntpchk_analyze(smp, 4, -20, &res) == 0, "3 good replies should suffice");
	ck_assert_msg(res.answered == 3 && res.valid == 3, "3 replies should be counted");
	ck_assert_msg(res.dups == 1 && (res.flash & NTP_FLASH_DUP), "dup should be counted");
}
END_TEST

START_TEST(offset_delay_jitter_arithmetic)
{
	/* Sample 0: server clock +1 ms, 30 us round trip; sample 1: +1.1 ms, 60 us. */
	craft(0, 0, 2, "192.0.2.1", 0, 0.001);
	craft(1, 0, 2, "192.0.2.1", 0, 0.001);
	smp[0].pkt.rec += US(1000);
	smp[0].pkt.xmt += US(1000);
	smp[1].t4 += US(30);
	smp[1].pkt.rec += US(1115);
	smp[1].pkt.xmt += US(1115);
	ntpchk_analyze(smp, 2, -20, &res);
	ck_assert_msg(fabs(res.offset - 1e-3) < 1e-8,
		      "offset should be that of the min-delay "
		      "sample (1 ms), got %.9f",
		      res.offset);
	ck_assert_msg(fabs(res.delay - 20e-6) < 1e-8, "delay should be 20 us, got %g", res.delay);
	ck_assert_msg(fabs(res.jitter - 100e-6) < 1e-8, "jitter should be 100 us, got %g",
		      res.jitter);
	ck_assert_msg(fabs(res.distance - (0.005 + res.root_disp + res.disp + res.jitter)) < 1e-9,
		      "distance should be MINDISP/2 + rootdisp + disp + jitter, got %.9f",
		      res.distance);
}
END_TEST

START_TEST(header_tests)
{
	craft(0, 0, 2, "192.0.2.1", 0, 0.01);
	smp[0].pkt.org = 0;
	craft(1, 0, 2, "192.0.2.1", 0, 17);
	craft(2, 0, 2, "192.0.2.1", 0, 0.01);
	smp[2].pkt.mode = NTP_MODE_CLIENT;
	craft(3, 0, 2, "192.0.2.1", 0, 0.01);
	smp[3].pkt.ref = smp[3].pkt.xmt + (1ULL << 32);
	ntpchk_analyze(smp, 4, -20, &res);
	ck_assert_msg(res.flash & NTP_FLASH_UNSYNC, "a zero origin should set pkt_unsync");
	ck_assert_msg(res.flash & NTP_FLASH_HEADER, "17 s dispersion / mode 3 should set "
						    "pkt_header");
	ck_assert_msg(res.flash & NTP_FLASH_STRATUM, "reftime after xmt should set "
						     "pkt_stratum");
	ck_assert_msg(res.valid == 0 && res.exit_code == 1, "no sample should be usable");
}
END_TEST

START_TEST(flash_names)
{
	char b[200];

	ck_assert_str_eq(ntp_flash_name(0x400), "peer_dist");
	ck_assert_str_eq(ntp_flash_name(0x1000), "peer_unreach");
	ck_assert_str_eq(ntp_flash_name(0x3), "?");
	ck_assert_str_eq(ntpchk_flash_format(0x1401, b, sizeof(b)),
			 "0x001 pkt_dup, 0x400 peer_dist, 0x1000 peer_unreach");
	ck_assert_str_eq(ntpchk_flash_format(0x401, b, 10), "0x001 pkt");
	ck_assert_str_eq(ntpchk_client_name(NTPCHK_TIMESYNCD), "timesyncd");
}
END_TEST

START_TEST(text_report)
{
	size_t n;

	all(4, 0, 1, "LOCL", 0, 10.3);
	n = ntpchk_format_text(&res, "192.0.2.1:123", out, sizeof(out));
	ck_assert_msg(n > 0 && n < sizeof(out) && strlen(out) == n, "should fit and be complete");
	ck_assert_msg(has(out, "server 192.0.2.1:123: 4 of 4 requests answered"), "%s", out);
	ck_assert_msg(has(out, "stratum 1, refid LOCL"), "%s", out);
	ck_assert_msg(has(out, "ntpd/NTPsec        reject: 0x400 peer_dist, root distance 10.3"),
		      "%s", out);
	ck_assert_msg(has(out, "w32tm /config /localclockdispersion:0 /update"), "%s", out);
	ck_assert_msg(has(out, "result: rejected by ntpd, chrony, timesyncd, rfc5905, exit 1"),
		      "%s", out);
	/* Truncation: the needed length is returned, the buffer terminated. */
	ck_assert_msg(ntpchk_format_text(&res, "x", out, 20) > 20 && strlen(out) == 19,
		      "a short buffer should be filled and terminated");
}
END_TEST

START_TEST(json_report)
{
	size_t n, i;
	int depth = 0, instr = 0;

	all(4, 0, 1, "LOCL", 0, 10.3);
	n = ntpchk_format_json(&res, "h\"x\\", out, sizeof(out));
	ck_assert_msg(n > 0 && n < sizeof(out), "should fit");
	ck_assert_msg(has(out, "{\"server\":\"h\\\"x\\\\\""), "server should be escaped: %s", out);
	ck_assert_msg(has(out, "\"ntpd\":{\"accept\":false,\"flash\":1024"), "%s", out);
	ck_assert_msg(has(out, "\"refid\":\"LOCL\""), "%s", out);
	ck_assert_msg(has(out, "\"exit\":1}"), "%s", out);
	for (i = 0; i < n; i++) {
		if (out[i] == '\\' && instr) {
			i++;
			continue;
		}
		if (out[i] == '"')
			instr = !instr;
		else if (!instr && (out[i] == '{' || out[i] == '['))
			depth++;
		else if (!instr && (out[i] == '}' || out[i] == ']'))
			depth--;
		ck_assert_msg(depth >= 0, "brackets should balance");
	}
	ck_assert_msg(depth == 0 && !instr, "JSON should close every bracket and string");
	for (i = 0; i < 4; i++)
		smp[i].flags = NTPCHK_F_NOREPLY;
	ntpchk_analyze(smp, 4, -20, &res);
	ntpchk_format_json(&res, "h", out, sizeof(out));
	ck_assert_msg(has(out, "\"stratum\":null") && has(out, "\"exit\":2}"),
		      "silence should give nulls and exit 2: %s", out);
}
END_TEST

Suite *ntpcheck_suite(void)
{
	Suite *s = suite_create("ntpcheck");
	TCase *t = tcase_create("verdicts");

	tcase_add_test(t, good_server_accepted_by_all);
	tcase_add_test(t, w32time_rejected_with_peer_dist);
	tcase_add_test(t, two_seconds_splits_the_clients);
	tcase_add_test(t, leap_unsync_rejected);
	tcase_add_test(t, stratum16_rejected);
	tcase_add_test(t, kod_rate_explained);
	tcase_add_test(t, kod_deny_is_pkt_denied);
	tcase_add_test(t, origin_mismatch_rejected);
	tcase_add_test(t, silence_is_unreachable);
	tcase_add_test(t, partial_loss_and_dups_still_accepted);
	tcase_add_test(t, offset_delay_jitter_arithmetic);
	tcase_add_test(t, header_tests);
	tcase_add_test(t, flash_names);
	tcase_add_test(t, text_report);
	tcase_add_test(t, json_report);
	tcase_add_test(t, absurd_precision_no_client_fix);
	suite_add_tcase(s, t);
	return s;
}
