/*
 * Symmetric keys for NTP packets (RFC 5905 MACs, RFC 8573 AES-CMAC), with
 * no I/O: one line of a chrony-format keyfile (`ID [TYPE] KEY`, KEY as
 * `HEX:...`, `ASCII:...` or plain ASCII, TYPE MD5 when omitted), a sorted
 * table looked up by key id, and the MAC of a packet checked or appended
 * (key id, then the digest of everything before it).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .          NTP header (48) and extension fields, if any          .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Key Identifier                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .        Digest: 16 bytes (MD5, AES-CMAC) or 20 (SHA-1)          .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#ifndef HOROD_PROTO_SYMKEY_H
#define HOROD_PROTO_SYMKEY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/crypto.h"

#define SK_ID_LEN   4	 /* bytes: the key identifier before the digest */
#define SK_LINE_MAX 2048 /* bytes: longest keyfile line (chrony's too) */
#define SK_MAX_KEYS 4096 /* keys in one keyfile: far more than any deployment has */

/* One key: its id (1..2^32-1; 0 is the crypto-NAK's) and its algorithm and bytes. */
struct sk_key {
	uint32_t id;
	struct cry_mac_key mac;
};

/* The keys, sorted by id (sk_sort), read-only once built. */
struct sk_table {
	struct sk_key *keys;
	int n;
};

/*
 * Read one keyfile LINE (NUL-terminated; a line starting with `#`, `!`,
 * `;` or `%` is a comment) into K: 1 when it holds a key, 0 when it is blank or a
 * comment, -1 with what was wrong in ERR ("allowed ..." included).
 */
int sk_parse_line(const char *line, struct sk_key *k, char *err, size_t errlen);

/* Sort T's keys by id; the id of the first duplicate, or 0 when there is none. */
uint32_t sk_sort(struct sk_table *t);

/* The key with id ID in T (sorted), or NULL. */
const struct sk_key *sk_find(const struct sk_table *t, uint32_t id);

/* What the MAC of a packet says. */
enum sk_verdict {
	SK_OK,		/* a known key, the right digest */
	SK_UNKNOWN_KEY, /* no such key (the crypto-NAK's key id 0 included) */
	SK_BAD_MAC,	/* a known key, a digest of the wrong length or value */
};

/*
 * Check the MAC at MAC_OFF of PKT (LEN bytes; MAC_OFF < LEN, as
 * ntp_ext_mac found it) with T; *KEY is the key on SK_OK.
 */
enum sk_verdict sk_verify(const struct sk_table *t, const uint8_t *pkt, size_t len, size_t mac_off,
			  const struct sk_key **key);

/* Append K's id and the MAC of PKT[0..LEN) at PKT + LEN; returns the new length. */
size_t sk_append(const struct sk_key *k, uint8_t *pkt, size_t len);

#endif
