/*
 * Authenticated requests in the workers' serve path: NTS (RFC 8915) and
 * symmetric-key MACs (RFC 5905, RFC 8573). One check before the reply is
 * built, one seal after its header is: the serve path calls nothing else.
 *
 * What is authenticated is answered only after verification, and never
 * with more bytes than the request had:
 *   - NTS fields in a mode 3 request: parse, open the cookie with the
 *     server keys, verify the authenticator; answer with the identifier
 *     and an authenticator holding as many fresh cookies as the request
 *     had cookie and placeholders (as fit); a cookie or authenticator that
 *     does not verify gets an NTS NAK (kiss code NTSN, the identifier, no
 *     more); malformed fields, NTS in mode 1, or NTS on a server without
 *     it are dropped.
 *   - A MAC (4 + 16 or 4 + 20 bytes after the header and any extension
 *     fields): a key of the keyfile and the right digest are answered
 *     with a MAC under the same key; an unknown key id (the crypto-NAK's 0
 *     included) or a wrong digest is dropped without an answer, as chrony
 *     does (ntp_core.c: a failed check with no kiss code is not answered).
 *
 * Never allocates, locks, logs or makes a system call: the keys are read
 * through their lock-free publication (ntskeys.h), each worker has its
 * own random generator.
 */
#ifndef HOROD_DAEMON_AUTH_H
#define HOROD_DAEMON_AUTH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/auth/keserver.h"
#include "daemon/auth/ntskeys.h"
#include "daemon/config/config.h"
#include "proto/crypto.h"
#include "proto/nts.h"
#include "proto/symkey.h"

/* Outcomes of authenticated requests: X(enum suffix, stable name, description). */
#define AUTH_OUTCOME_LIST(X)                                                                       \
	X(NTS_OK, "nts_ok", "NTS request verified, answered with fresh cookies")                   \
	X(NTS_BAD_COOKIE, "nts_bad_cookie",                                                        \
	  "NTS cookie that no server key opens (unknown, rotated out, altered): NTS NAK")          \
	X(NTS_BAD_AUTH, "nts_bad_auth", "NTS authenticator that does not verify: NTS NAK")         \
	X(NTS_MALFORMED, "nts_malformed",                                                          \
	  "NTS fields missing, repeated, misplaced or malformed, or NTS in mode 1: dropped")       \
	X(NTS_DISABLED, "nts_disabled", "NTS request to a server without ntsservercert: dropped")  \
	X(MAC_OK, "mac_ok", "symmetric-key MAC verified, answered with a MAC")                     \
	X(MAC_UNKNOWN_KEY, "mac_unknown_key",                                                      \
	  "MAC with a key id not in the keyfile, or a crypto-NAK: dropped (as chrony)")            \
	X(MAC_BAD, "mac_bad", "MAC of a known key with the wrong length or digest: dropped")

enum auth_outcome {
#define AUTH_ENUM(id, name, desc) AUTH_##id,
	AUTH_OUTCOME_LIST(AUTH_ENUM)
#undef AUTH_ENUM
		AUTH_OUTCOME_MAX
};

/* Stable name of outcome O ("nts_ok"); "unknown" out of range. */
const char *auth_outcome_name(enum auth_outcome o);

/* One-line description of outcome O. */
const char *auth_outcome_desc(enum auth_outcome o);

/*
 * What every worker shares, read-only once running but for what SIGHUP
 * loads again: the key table, swapped whole through one pointer (the old
 * one freed once every worker has moved past it), and the NTS-KE
 * certificate (keserver.h).
 */
struct auth_shared {
	_Atomic(const struct sk_table *) keys; /* `keyfile`, sorted; n = 0 without one */
	struct sk_table *keys_retired;	       /* replaced by auth_reload, until auth_reclaim */
	_Atomic int n_keys;		       /* keys in force, for `horoctl status` */
	struct nks *nks;		       /* NTS server keys, or NULL without an NTS server */
	struct nks nks_store;
	struct kes kes; /* the NTS-KE server (with nks) */
	int kes_open;
};

/* One worker's own: its reader slot and random generator. */
struct auth_worker {
	int slot;
	struct cry_rng rng;
};

/* What the serve path does with a request after auth_check. */
enum auth_action {
	AUTH_PLAIN,  /* nothing to authenticate: the plain reply */
	AUTH_ANSWER, /* verified: build the header, then auth_seal */
	AUTH_NAK,    /* answer with auth_nak */
	AUTH_DROP,   /* no answer */
};

/* A request between auth_check and auth_seal / auth_nak. */
struct auth_req {
	int nts;		     /* 1: NTS, 0: MAC */
	const struct nts_keyset *ks; /* NTS: the keys, held until auth_seal */
	struct nts_answer a;	     /* NTS: what verification found */
	const struct sk_key *key;    /* MAC: the key */
};

/*
 * Read the keyfile and, with an NTS server, the server keys and the
 * NTS-KE server's certificate and sockets, for N_WORKERS workers (before
 * privileges are dropped). 0, or -1 with the reason in ERR (a
 * configuration error: the keyfile readable by everyone, a bad line, a
 * certificate that does not load).
 */
int auth_open(struct auth_shared *as, const struct horod_config *c, int n_workers, char *err,
	      size_t errlen);

/*
 * Check what the configuration names before anything starts: the keyfile
 * reads (and is not readable by everyone) and holds the servers' `key
 * ID`s, the NTS certificate and key load together, the NTS sources'
 * trusted certificates load (a failure is a configuration error: exit 2).
 * Not run by --check-config, which checks the file's text alone. 0, or
 * -1 (ERR).
 */
int auth_verify_config(const struct horod_config *c, char *err, size_t errlen);

/*
 * SIGHUP (clock thread): read the keyfile and the NTS certificate and key
 * that C names again, with the checks made at start, and put what passes
 * in force for the requests and handshakes that come next (NTS-KE
 * sessions under way finish with the certificate they started with); a
 * file that fails keeps what was in force and one line says why. 1 when
 * a key table was replaced: once every worker has begun a new request
 * (wk_quiesce), auth_reclaim frees the old one; 0 otherwise; -1 when
 * anything failed.
 */
int auth_reload(struct auth_shared *as, const struct horod_config *c);

/* Free the key table auth_reload replaced (no worker can still read it). */
void auth_reclaim(struct auth_shared *as);

/* Set up worker state AW (its reader slot, its generator); 0, or -1 (no randomness). */
int auth_worker_init(struct auth_shared *as, struct auth_worker *aw);

/* Start the NTS-KE thread, if there is an NTS server; 0 or -errno. */
int auth_start(struct auth_shared *as);

/* Stop the NTS-KE thread, if it runs; its counters stay readable until auth_close(). */
void auth_stop(struct auth_shared *as);

/* Stop the NTS-KE thread and release everything (workers stopped). */
void auth_close(struct auth_shared *as);

/*
 * Check the request REQ (LEN > 48 bytes, classified mode 3 when CLIENT,
 * else mode 1) from the worker AW: what to do, and in *OUTCOME the
 * outcome to count, or -1 when there was nothing to authenticate.
 */
enum auth_action auth_check(const struct auth_shared *as, struct auth_worker *aw,
			    const uint8_t *req, size_t len, int client, struct auth_req *ar,
			    int *outcome);

/*
 * Complete the reply in REPLY (CAP bytes, its 48-byte header built) to a
 * request auth_check said AUTH_ANSWER of; returns its length (at most
 * LEN). Releases what auth_check held.
 */
size_t auth_seal(const struct auth_shared *as, struct auth_worker *aw, struct auth_req *ar,
		 const uint8_t *req, size_t len, uint8_t *reply, size_t cap);

/* The NTS NAK to a request auth_check said AUTH_NAK of, in REPLY; returns its length. */
size_t auth_nak(const struct auth_req *ar, const uint8_t *req, size_t len, uint8_t *reply);

#endif
