/*
 * Fuzz target for NTS-KE records (proto/ntske.c) and keyfile lines
 * (proto/symkey.c): every input is read as a message from a client (the
 * server's check), as a message from a server (the client's check), and
 * line by line as a keyfile.
 *
 * Properties: a message's length is found within the bytes and 16 KiB; the
 * server's verdict is one the RFC names (an error code 0 or 1, or the
 * NTPv4 / AES-SIV-CMAC-256 choice), and the answer written for it reads
 * back, with the client's check, as that verdict (cookies and all) and is
 * never cut; a server message the client accepts names NTPv4 and the
 * offered AEAD and carries 1..8 cookies of 1..256 bytes and a printable
 * server name; a keyfile line that parses gives a key id >= 1 and a key
 * length its type allows.
 */
#include <string.h>

#include "proto/ntske.h"
#include "proto/symkey.h"
#include "tests/fuzz/fuzz.h"

#define OUT_MAX 2048 /* bytes: an answer with 8 cookies of 104 bytes (~1 KiB) */

static void as_request(const uint8_t *data, size_t size)
{
	static const uint16_t ours[] = {NKE_AEAD_AES_SIV_CMAC_256};
	static uint8_t out[OUT_MAX], cookies[NKE_COOKIES * 104];
	static struct nke_reply rep;
	struct nke_response resp = {.error = -1};
	struct nke_request req;
	long m = nke_msg_length(data, size);
	size_t n;

	FUZZ_ASSERT(m >= -1 && m <= (long)size && m <= NKE_MSG_MAX,
		    "a message length lies within the bytes and 16 KiB");
	if (m <= 0)
		return;
	nke_parse_request(data, (size_t)m, &req);
	FUZZ_ASSERT(req.error >= -1 && req.error <= NKE_ERR_BAD_REQUEST,
		    "the server answers bad request or unrecognized critical, or no error");
	FUZZ_ASSERT(req.aead == -1 || req.aead == NKE_AEAD_AES_SIV_CMAC_256,
		    "only an AEAD this build has is chosen");
	FUZZ_ASSERT(strlen(req.server) <= NKE_SERVER_MAX, "a kept server name fits");
	memset(cookies, 0x5a, sizeof(cookies));
	resp.error = req.error;
	resp.ntpv4 = req.ntpv4;
	resp.aead = req.aead;
	resp.cookies = cookies;
	resp.cookie_len = 104;
	resp.n_cookies = NKE_COOKIES;
	resp.server = req.server[0] ? req.server : NULL;
	resp.port = req.port;
	n = nke_build_response(&resp, out, sizeof(out));
	FUZZ_ASSERT(n > 0, "an answer always fits 2 KiB");
	FUZZ_ASSERT(nke_msg_length(out, n) == (long)n, "the answer is one whole message");
	if (nke_parse_reply(out, n, ours, 1, &rep) == 0) {
		FUZZ_ASSERT(req.error < 0 && req.ntpv4 && req.aead == NKE_AEAD_AES_SIV_CMAC_256,
			    "only a good request gets a usable answer");
		FUZZ_ASSERT(rep.n_cookies == NKE_COOKIES && rep.cookie_len[0] == 104,
			    "the answer's 8 cookies read back");
		FUZZ_ASSERT(rep.port == req.port, "the port reads back");
	} else {
		FUZZ_ASSERT(req.error >= 0 || !req.ntpv4 || req.aead < 0,
			    "a good request's answer is usable");
		FUZZ_ASSERT(req.error < 0 || rep.error == req.error, "the error code reads back");
	}
}

static void as_reply(const uint8_t *data, size_t size)
{
	static const uint16_t ours[] = {NKE_AEAD_AES_SIV_CMAC_256, 30};
	static struct nke_reply rep;
	int i;

	if (nke_parse_reply(data, size, ours, 2, &rep) != 0) {
		FUZZ_ASSERT(rep.why != NULL, "a refusal says why");
		return;
	}
	FUZZ_ASSERT(rep.next_protocol == 0, "NTPv4 was chosen");
	FUZZ_ASSERT(rep.aead == ours[0] || rep.aead == ours[1], "an offered AEAD was chosen");
	FUZZ_ASSERT(rep.n_cookies >= 1 && rep.n_cookies <= NKE_COOKIES, "1 to 8 cookies kept");
	for (i = 0; i < rep.n_cookies; i++)
		FUZZ_ASSERT(rep.cookie_len[i] >= 1 && rep.cookie_len[i] <= NKE_COOKIE_MAX,
			    "a cookie of 1 to 256 bytes");
	for (i = 0; rep.server[i]; i++)
		FUZZ_ASSERT(rep.server[i] > 0x20 && rep.server[i] < 0x7f,
			    "a server name is printable, without spaces");
}

static void as_keyfile(const uint8_t *data, size_t size)
{
	char line[SK_LINE_MAX + 2], err[200];
	size_t start = 0, i;

	for (i = 0; i <= size; i++) {
		struct sk_key k;
		size_t len;
		int r;

		if (i < size && data[i] != '\n')
			continue;
		len = i - start;
		if (len <= SK_LINE_MAX + 1) {
			memcpy(line, data + start, len);
			line[len] = '\0';
			if (strlen(line) == len) {
				err[0] = '\0';
				r = sk_parse_line(line, &k, err, sizeof(err));
				FUZZ_ASSERT(r >= -1 && r <= 1,
					    "a line is a key, nothing or an error");
				FUZZ_ASSERT(r != -1 || err[0], "an error says what");
				FUZZ_ASSERT(r != 1 || (k.id >= 1 && k.mac.len >= 1 &&
						       k.mac.len <= CRY_MAC_KEY_MAX),
					    "a key has an id >= 1 and 1-64 bytes");
				FUZZ_ASSERT(r != 1 || !cry_mac_key_len(k.mac.type) ||
						    k.mac.len == cry_mac_key_len(k.mac.type),
					    "an AES key has its exact length");
			}
		}
		start = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_request(data, size);
	as_reply(data, size);
	as_keyfile(data, size);
	return 0;
}
