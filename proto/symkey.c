/*
 * Symmetric keys (symkey.h): the keyfile line parser is a ladder that
 * names what is wrong and what is allowed; the table is sorted once and
 * searched by halves; the digest compare takes the same time wherever it
 * differs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/symkey.h"
#include "proto/byteorder.h"

#define SK_WORDS 4 /* words a line may have, one more than the longest form to see extras */

/* Value of hex digit C, or -1. */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The key bytes of WORD (HEX:, ASCII: or plain) into OUT; their count, or -1 (ERR). */
static long decode_key(const char *word, uint8_t *out, char *err, size_t errlen)
{
	size_t n, i;

	if (strncmp(word, "HEX:", 4) == 0) {
		word += 4;
		n = strlen(word);
		if (n == 0 || n % 2) {
			snprintf(err, errlen,
				 "HEX key of %zu digits, allowed: an even number of hex digits", n);
			return -1;
		}
		if (n / 2 > CRY_MAC_KEY_MAX) {
			snprintf(err, errlen, "key of %zu bytes, allowed 1-%d bytes", n / 2,
				 CRY_MAC_KEY_MAX);
			return -1;
		}
		for (i = 0; i < n; i += 2) {
			int hi = hexval((unsigned char)word[i]),
			    lo = hexval((unsigned char)word[i + 1]);

			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "bad hex digit in key, allowed: 0-9 a-f A-F");
				return -1;
			}
			out[i / 2] = (uint8_t)(hi << 4 | lo);
		}
		return (long)(n / 2);
	}
	if (strncmp(word, "ASCII:", 6) == 0)
		word += 6;
	n = strlen(word);
	if (n == 0 || n > CRY_MAC_KEY_MAX) {
		snprintf(err, errlen, "key of %zu bytes, allowed 1-%d bytes", n, CRY_MAC_KEY_MAX);
		return -1;
	}
	memcpy(out, word, n);
	return (long)n;
}

int sk_parse_line(const char *line, struct sk_key *k, char *err, size_t errlen)
{
	char buf[SK_LINE_MAX + 1], *w[SK_WORDS], *s, *end, *save = NULL;
	uint8_t key[CRY_MAC_KEY_MAX];
	const char *type = "MD5", *kw;
	unsigned long id;
	long klen;
	size_t len = strlen(line);
	int n = 0, t;

	if (len > SK_LINE_MAX) {
		snprintf(err, errlen, "line of %zu bytes, allowed at most %d", len, SK_LINE_MAX);
		return -1;
	}
	memcpy(buf, line, len + 1);
	buf[strcspn(buf, "\r\n")] = '\0';
	/* As chrony: a comment is a line whose first word starts with one of these. */
	s = buf + strspn(buf, " \t");
	if (strchr("#!;%", *s) && *s)
		return 0;
	for (s = strtok_r(buf, " \t", &save); s && n < SK_WORDS; s = strtok_r(NULL, " \t", &save))
		w[n++] = s;
	if (n == 0)
		return 0;
	if (n < 2 || n > 3) {
		snprintf(err, errlen, "%d words, allowed: ID [TYPE] KEY", n);
		return -1;
	}
	errno = 0;
	id = strtoul(w[0], &end, 10);
	if (!isdigit((unsigned char)w[0][0]) || *end || errno || id < 1 || id > 0xffffffffUL) {
		snprintf(err, errlen, "bad key id '%.16s', allowed 1-4294967295", w[0]);
		return -1;
	}
	if (n == 3)
		type = w[1];
	kw = w[n - 1];
	t = cry_mac_from_name(type);
	if (t < 0) {
		snprintf(err, errlen,
			 "key type '%.16s' not supported, allowed: MD5 SHA1 AES128 AES256", type);
		return -1;
	}
	klen = decode_key(kw, key, err, errlen);
	if (klen < 0)
		return -1;
	if (cry_mac_key_len((enum cry_mac_type)t) &&
	    (size_t)klen != cry_mac_key_len((enum cry_mac_type)t)) {
		snprintf(err, errlen, "%s key of %ld bytes, allowed: exactly %zu bytes (%zu bits)",
			 cry_mac_name((enum cry_mac_type)t), klen,
			 cry_mac_key_len((enum cry_mac_type)t),
			 8 * cry_mac_key_len((enum cry_mac_type)t));
		return -1;
	}
	k->id = (uint32_t)id;
	cry_mac_key_init(&k->mac, (enum cry_mac_type)t, key, (size_t)klen);
	memset(key, 0, sizeof(key));
	memset(buf, 0, sizeof(buf));
	return 1;
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = ((const struct sk_key *)a)->id, y = ((const struct sk_key *)b)->id;

	return x < y ? -1 : x > y;
}

uint32_t sk_sort(struct sk_table *t)
{
	int i;

	if (t->n > 1)
		qsort(t->keys, (size_t)t->n, sizeof(t->keys[0]), cmp_id);
	for (i = 1; i < t->n; i++)
		if (t->keys[i].id == t->keys[i - 1].id)
			return t->keys[i].id;
	return 0;
}

const struct sk_key *sk_find(const struct sk_table *t, uint32_t id)
{
	int lo = 0, hi = t->n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (t->keys[mid].id == id)
			return &t->keys[mid];
		if (t->keys[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

enum sk_verdict sk_verify(const struct sk_table *t, const uint8_t *pkt, size_t len, size_t mac_off,
			  const struct sk_key **key)
{
	uint8_t d[CRY_MAC_MAX];
	const struct sk_key *k;
	size_t dlen;

	if (mac_off + SK_ID_LEN > len)
		return SK_UNKNOWN_KEY;
	k = sk_find(t, be_get32(pkt + mac_off));
	if (!k)
		return SK_UNKNOWN_KEY;
	dlen = len - mac_off - SK_ID_LEN;
	if (dlen != cry_mac_len(k->mac.type))
		return SK_BAD_MAC;
	cry_mac(&k->mac, pkt, mac_off, d);
	if (cry_differ(d, pkt + mac_off + SK_ID_LEN, dlen))
		return SK_BAD_MAC;
	*key = k;
	return SK_OK;
}

size_t sk_append(const struct sk_key *k, uint8_t *pkt, size_t len)
{
	be_put32(pkt + len, k->id);
	return len + SK_ID_LEN + cry_mac(&k->mac, pkt, len, pkt + len + SK_ID_LEN);
}
