/*
 * Unit tests of the Prometheus writer: the output is parsed back by a
 * small reader of the text format here, which checks that every name is
 * valid, that # HELP and # TYPE come before a family's samples, and that
 * escaped label values and help text read back as written.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/prom.h"

Suite *prom_suite(void);

#define MAXF 16

/* What the reader found. */
struct parsed {
	char typed[MAXF][64]; /* families with a TYPE line, in order */
	int n_typed;
	int n_samples;
	char last_lval[128];
	double last_value;
	char help[256];
};

/* Unescape S (up to END or a closing quote when QUOTED) into OUT; returns where it stopped. */
static const char *unescape(const char *s, char *out, size_t outlen, int quoted)
{
	size_t n = 0;

	while (*s && *s != '\n' && !(quoted && *s == '"')) {
		char c = *s++;

		if (c == '\\') {
			c = *s++;
			ck_assert_msg(c == '\\' || c == 'n' || (quoted && c == '"'),
				      "only \\\\, \\n%s should be escaped",
				      quoted ? " and \\\"" : "");
			c = c == 'n' ? '\n' : c;
		}
		if (n + 1 < outlen)
			out[n++] = c;
	}
	out[n] = '\0';
	return s;
}

/* Parse TEXT; fail the test on anything the format does not allow. */
static void parse(const char *text, struct parsed *p)
{
	const char *line = text;

	memset(p, 0, sizeof(*p));
	while (*line) {
		const char *nl = strchr(line, '\n');
		char name[64];
		size_t n;

		ck_assert_msg(nl != NULL, "every line should end with a newline");
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = strcspn(line + 7, " ");
			ck_assert_msg(n < sizeof(name), "name should be short");
			memcpy(name, line + 7, n);
			name[n] = '\0';
			ck_assert_msg(prom_name_valid(name, 0), "HELP name '%s' should be valid",
				      name);
			unescape(line + 7 + n + 1, p->help, sizeof(p->help), 0);
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			n = strcspn(line + 7, " ");
			ck_assert_msg(n < 64 && p->n_typed < MAXF, "type lines should be few");
			memcpy(p->typed[p->n_typed], line + 7, n);
			p->typed[p->n_typed][n] = '\0';
			ck_assert_msg(strncmp(line + 8 + n, "counter\n", 8) == 0 ||
					      strncmp(line + 8 + n, "gauge\n", 6) == 0,
				      "type should be counter or gauge");
			p->n_typed++;
		} else {
			const char *s = line;
			char *end;
			int i, found = 0;

			n = strcspn(s, "{ ");
			ck_assert_msg(n < sizeof(name), "name should be short");
			memcpy(name, s, n);
			name[n] = '\0';
			ck_assert_msg(prom_name_valid(name, 0), "sample name '%s' should be valid",
				      name);
			for (i = 0; i < p->n_typed; i++)
				found |= strcmp(p->typed[i], name) == 0;
			ck_assert_msg(found, "sample '%s' should follow its TYPE line", name);
			s += n;
			if (*s == '{') {
				char label[64];

				n = strcspn(s + 1, "=");
				memcpy(label, s + 1, n);
				label[n] = '\0';
				ck_assert_msg(prom_name_valid(label, 1),
					      "label '%s' should be valid", label);
				ck_assert_msg(s[n + 2] == '"', "label value should be quoted");
				s = unescape(s + n + 3, p->last_lval, sizeof(p->last_lval), 1);
				ck_assert_msg(s[0] == '"' && s[1] == '}', "label should close");
				s += 2;
			}
			ck_assert_msg(*s == ' ', "a space should separate the value");
			p->last_value = strtod(s + 1, &end);
			ck_assert_msg(end != s + 1 && *end == '\n', "the value should be a number");
			p->n_samples++;
		}
		line = nl + 1;
	}
}

START_TEST(families_and_samples)
{
	char buf[2048];
	struct ntp_text o;
	struct parsed p;

	ntp_text_init(&o, buf, sizeof(buf));
	prom_family(&o, "horod_requests_total", "counter", "Requests by outcome.");
	prom_sample_u64(&o, "horod_requests_total", "reason", "drop_short",
			18446744073709551615ull);
	prom_family(&o, "horod_offset_seconds", "gauge", "Offset.");
	prom_sample(&o, "horod_offset_seconds", NULL, NULL, -1.25e-6);
	ck_assert_msg(!ntp_text_cut(&o), "a short output should not be truncated");
	parse(buf, &p);
	ck_assert_int_eq(p.n_typed, 2);
	ck_assert_int_eq(p.n_samples, 2);
	ck_assert_msg(p.last_value == -1.25e-6, "the gauge should read back exactly");
	ck_assert_msg(
		strstr(buf, "horod_requests_total{reason=\"drop_short\"} 18446744073709551615\n"),
		"a counter should print all 64 bits, got:\n%s", buf);
}
END_TEST

START_TEST(escaping)
{
	char buf[1024];
	struct ntp_text o;
	struct parsed p;

	ntp_text_init(&o, buf, sizeof(buf));
	prom_family(&o, "horod_source_offset_seconds", "gauge", "back\\slash\nnewline \"q\"");
	prom_sample(&o, "horod_source_offset_seconds", "source", "a\\b\"c\nd", 1);
	parse(buf, &p);
	ck_assert_msg(strcmp(p.last_lval, "a\\b\"c\nd") == 0,
		      "the label value should read back unchanged, got '%s'", p.last_lval);
	ck_assert_msg(strcmp(p.help, "back\\slash\nnewline \"q\"") == 0,
		      "the help text should read back unchanged, got '%s'", p.help);
	ck_assert_msg(strstr(buf, "{source=\"a\\\\b\\\"c\\nd\"}") != NULL,
		      "the label value should be escaped on the wire:\n%s", buf);
}
END_TEST

START_TEST(names_and_specials)
{
	char buf[512];
	struct ntp_text o;

	ck_assert_msg(prom_name_valid("horod_a:b_1", 0), "':' should be fine in a metric name");
	ck_assert_msg(!prom_name_valid("a:b", 1), "':' should be refused in a label name");
	ck_assert_msg(!prom_name_valid("1abc", 0), "a leading digit should be refused");
	ck_assert_msg(!prom_name_valid("a-b", 0), "'-' should be refused");
	ck_assert_msg(!prom_name_valid("", 0), "an empty name should be refused");
	ntp_text_init(&o, buf, sizeof(buf));
	prom_family(&o, "bad-name", "gauge", "x");
	prom_sample(&o, "bad-name", NULL, NULL, 1);
	ck_assert_msg(o.len == 0, "an invalid family should write nothing");
	prom_family(&o, "g", "gauge", "x");
	prom_sample(&o, "g", NULL, NULL, NAN);
	prom_sample(&o, "g", NULL, NULL, INFINITY);
	prom_sample(&o, "g", NULL, NULL, -INFINITY);
	ck_assert_msg(strstr(buf, "g NaN\ng +Inf\ng -Inf\n") != NULL,
		      "NaN and infinities should use the format's spelling:\n%s", buf);
}
END_TEST

START_TEST(truncation)
{
	char buf[16];
	struct ntp_text o;

	ntp_text_init(&o, buf, sizeof(buf));
	prom_family(&o, "horod_stratum", "gauge", "Stratum served.");
	ck_assert_msg(ntp_text_cut(&o), "a long output into 16 bytes should be truncated");
	ck_assert_msg(o.len > sizeof(buf) && strlen(buf) == sizeof(buf) - 1,
		      "the length wanted should be kept and the buffer terminated");
}
END_TEST

Suite *prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *t = tcase_create("core");

	tcase_add_test(t, families_and_samples);
	tcase_add_test(t, escaping);
	tcase_add_test(t, names_and_specials);
	tcase_add_test(t, truncation);
	suite_add_tcase(s, t);
	return s;
}
