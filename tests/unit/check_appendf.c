/*
 * Unit tests of proto/appendf.h, the one appending printf and the text
 * spellings every writer shares: a text that is cut where its buffer
 * ends but keeps counting what it needs, JSON strings (escaped exactly
 * where RFC 8259 requires, UTF-8 passed through) and the shortest
 * decimal that reads back as the same double, text quoted in a message
 * (printable ASCII, cut with "...") and a failure's message.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/appendf.h"

Suite *appendf_suite(void);

START_TEST(text_cut_and_counted)
{
	char buf[8];
	struct ntp_text t, m;

	memset(buf, 'Z', sizeof(buf));
	ntp_text_init(&t, buf, sizeof(buf));
	ck_assert_msg(buf[0] == '\0' && t.len == 0 && !ntp_text_cut(&t),
		      "a new text should be empty and terminated");
	ntp_textf(&t, "%s-%d", "abc", 12);
	ck_assert_str_eq(buf, "abc-12");
	ck_assert_msg(t.len == 6 && !ntp_text_cut(&t), "6 bytes should fit 8");
	ntp_textf(&t, "%s", "xyz");
	ck_assert_msg(t.len == 9 && ntp_text_cut(&t), "9 bytes should be cut in 8 and counted");
	ck_assert_str_eq(buf, "abc-12x");
	ntp_textf(&t, "!");
	ck_assert_msg(t.len == 10 && strlen(buf) == 7,
		      "a cut text should keep counting, unchanged");

	ntp_text_init(&m, NULL, 100);
	ntp_textf(&m, "%s-%d%s!", "abc", 12, "xyz");
	ck_assert_msg(m.len == 10 && ntp_text_cut(&m),
		      "no buffer should measure the whole text, as cut");
}
END_TEST

START_TEST(json_strings)
{
	char buf[64], esc[NTP_JSON_ESC_MAX];
	struct ntp_text t;

	ntp_text_init(&t, buf, sizeof(buf));
	ntp_text_json(&t, "a\"b\\c\n\x01");
	ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	ntp_text_init(&t, buf, sizeof(buf));
	ntp_text_json(&t, "h\xc3\xb6rod\x7f/");
	ck_assert_msg(strcmp(buf, "\"h\xc3\xb6rod\x7f/\"") == 0,
		      "UTF-8, DEL and '/' should pass through, got %s", buf);
	ntp_text_init(&t, buf, sizeof(buf));
	ntp_text_json(&t, "");
	ck_assert_str_eq(buf, "\"\"");
	ck_assert_str_eq(ntp_json_char('\x1f', esc), "\\u001f");
	ck_assert_str_eq(ntp_json_char(' ', esc), " ");
}
END_TEST

START_TEST(shortest_reads_back)
{
	static const double v[] = {0.1, 1e-3, 16, 1.0 / 3.0, -2.5e-7, 1e300, 0};
	char out[32];
	unsigned i;

	ck_assert_str_eq(ntp_shortest(0.1, out, sizeof(out)), "0.1");
	ck_assert_str_eq(ntp_shortest(0.001, out, sizeof(out)), "0.001");
	ck_assert_str_eq(ntp_shortest(16, out, sizeof(out)), "16");
	ck_assert_str_eq(ntp_shortest(1.0 / 3.0, out, sizeof(out)), "0.3333333333333333");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg(strtod(ntp_shortest(v[i], out, sizeof(out)), NULL) == v[i],
			      "%s should read back as %.17g", out, v[i]);
}
END_TEST

START_TEST(quoted_for_messages)
{
	char out[12];

	ck_assert_str_eq(ntp_quote("a\tb\200c", out, sizeof(out)), "a?b?c");
	ck_assert_str_eq(ntp_quote("0123456789abcdef", out, sizeof(out)), "01234567...");
	ck_assert_msg(strlen(out) < sizeof(out), "a quote should fit its buffer");
	ck_assert_str_eq(ntp_quote("0123456", out, sizeof(out)), "0123456");
}
END_TEST

START_TEST(failure_messages)
{
	char err[8];

	memset(err, 'Z', sizeof(err));
	ck_assert_int_eq(ntp_fail(err, sizeof(err), "bad %s", "thing"), -1);
	ck_assert_str_eq(err, "bad thi");
	ck_assert_int_eq(ntp_fail(NULL, 0, "ignored %d", 1), -1);
	ck_assert_int_eq(ntp_fail(err, 0, "ignored"), -1);
	ck_assert_str_eq(err, "bad thi");
}
END_TEST

Suite *appendf_suite(void)
{
	Suite *s = suite_create("appendf");
	TCase *t = tcase_create("core");

	tcase_add_test(t, text_cut_and_counted);
	tcase_add_test(t, json_strings);
	tcase_add_test(t, shortest_reads_back);
	tcase_add_test(t, quoted_for_messages);
	tcase_add_test(t, failure_messages);
	suite_add_tcase(s, t);
	return s;
}
