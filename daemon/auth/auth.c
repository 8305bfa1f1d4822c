/*
 * Authenticated requests (auth.h): the keyfile read at start (refused
 * when everyone may read it), the NTS keys and NTS-KE server set up, and
 * the two calls of the serve path, each a ladder of early returns that
 * names the outcome it counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "daemon/auth/auth.h"
#include "daemon/auth/keyfile.h"
#include "daemon/sys/log.h"
#include "proto/ntp.h"

static const char *const auth_names[AUTH_OUTCOME_MAX] = {
#define AUTH_NAME(id, name, desc) [AUTH_##id] = name,
	AUTH_OUTCOME_LIST(AUTH_NAME)
#undef AUTH_NAME
};

static const char *const auth_descs[AUTH_OUTCOME_MAX] = {
#define AUTH_DESC(id, name, desc) [AUTH_##id] = desc,
	AUTH_OUTCOME_LIST(AUTH_DESC)
#undef AUTH_DESC
};

const char *auth_outcome_name(enum auth_outcome o)
{
	return (unsigned int)o < AUTH_OUTCOME_MAX ? auth_names[o] : "unknown";
}

const char *auth_outcome_desc(enum auth_outcome o)
{
	return (unsigned int)o < AUTH_OUTCOME_MAX ? auth_descs[o] : "unknown";
}

int auth_verify_config(const struct horod_config *c, char *err, size_t errlen)
{
	struct sk_table t = {0};
	struct tls_ctx tls;
	int i, nts = 0;

	if (c->nts.keyfile[0]) {
		if (kf_read(c->nts.keyfile, &t, err, errlen) < 0)
			return -1;
		for (i = 0; i < c->clk.n_servers; i++) {
			const struct cfg_server *s = &c->clk.servers[i];

			if (s->key && !sk_find(&t, s->key)) {
				snprintf(
					err, errlen,
					"server %s key %u: no key %u in keyfile %s, allowed: a key "
					"id of the keyfile",
					s->host, (unsigned)s->key, (unsigned)s->key,
					c->nts.keyfile);
				kf_free(&t);
				return -1;
			}
		}
		kf_free(&t);
	}
	if (c->nts.cert[0]) {
		if (tls_server_init(&tls, c->nts.cert, c->nts.key, err, errlen) < 0)
			return -1;
		tls_fini(&tls);
	}
	for (i = 0; i < c->clk.n_servers; i++)
		nts |= c->clk.servers[i].nts;
	if (nts) {
		/* The NTS sources' trust: ntstrustedcerts, and the system's store. */
		if (tls_client_init(&tls, c->nts.trusted_certs[0] ? c->nts.trusted_certs : NULL,
				    !c->nts.no_system_cert, 0, err, errlen) < 0)
			return -1;
		tls_fini(&tls);
	}
	return 0;
}

/* Free table T (wiping its keys); NULL is fine. */
static void keys_free(struct sk_table *t)
{
	if (!t)
		return;
	kf_free(t);
	free(t);
}

/* The keyfile PATH ("" for none) read into a new table; NULL (ERR) when it fails a check. */
static struct sk_table *keys_read(const char *path, char *err, size_t errlen)
{
	struct sk_table *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "keyfile %s: out of memory", path);
		return NULL;
	}
	if (path[0] && kf_read(path, t, err, errlen) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

int auth_open(struct auth_shared *as, const struct horod_config *c, int n_workers, char *err,
	      size_t errlen)
{
	struct sk_table *t;
	struct timespec now;
	int threads = kes_threads(c->nts.threads);

	memset(as, 0, sizeof(*as));
	t = keys_read(c->nts.keyfile, err, errlen);
	if (!t)
		return -1;
	atomic_store_explicit(&as->keys, t, memory_order_release);
	atomic_store_explicit(&as->n_keys, t->n, memory_order_relaxed);
	if (c->nts.keyfile[0])
		log_msg(LOG_INFO, "keyfile %s: %d symmetric key%s", c->nts.keyfile, t->n,
			t->n == 1 ? "" : "s");
	if (!c->nts.cert[0])
		return 0;
	if (n_workers + threads > NKS_SLOTS) {
		snprintf(err, errlen, "NTS: %d workers and %d NTS-KE threads, allowed at most %d",
			 n_workers, threads, NKS_SLOTS);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (nks_init(&as->nks_store, &c->nts, (int64_t)now.tv_sec, err, errlen) < 0)
		return -1;
	as->nks = &as->nks_store;
	if (kes_open(&as->kes, c, as->nks, err, errlen) < 0) {
		nks_fini(as->nks);
		as->nks = NULL;
		return -1;
	}
	as->kes_open = 1;
	log_msg(LOG_INFO,
		"nts: NTS-KE on port %d (%d listener%s, %d thread%s, at most %d sessions), AEAD "
		"AES-SIV-CMAC-256 (AES-128-GCM-SIV: not in this nettle/GnuTLS), keys rotated %s",
		c->nts.port, as->kes.n_lfd, as->kes.n_lfd == 1 ? "" : "s", as->kes.n_thr,
		as->kes.n_thr == 1 ? "" : "s", c->nts.max_conn,
		c->nts.rotate ? "by horod" : "outside horod (ntsrotate 0)");
	return 0;
}

int auth_reload(struct auth_shared *as, const struct horod_config *c)
{
	const struct sk_table *old;
	struct sk_table *t;
	char err[512];
	int ret = 0;

	if (c->nts.keyfile[0] && as->keys_retired) {
		log_msg(LOG_ERR,
			"SIGHUP: keyfile %s not read again: a worker still holds the "
			"table before the last one; the keys in force stay",
			c->nts.keyfile);
		ret = -1;
	} else if (c->nts.keyfile[0]) {
		t = keys_read(c->nts.keyfile, err, sizeof(err));
		old = atomic_load_explicit(&as->keys, memory_order_relaxed);
		if (!t) {
			log_msg(LOG_ERR, "SIGHUP: %s: the %d key%s in force stay", err, old->n,
				old->n == 1 ? "" : "s");
			ret = -1;
		} else {
			atomic_store_explicit(&as->keys, t, memory_order_release);
			atomic_store_explicit(&as->n_keys, t->n, memory_order_relaxed);
			as->keys_retired = (struct sk_table *)(uintptr_t)old;
			log_msg(LOG_NOTICE,
				"SIGHUP: keyfile %s reloaded: %d symmetric key%s (were %d)",
				c->nts.keyfile, t->n, t->n == 1 ? "" : "s", old->n);
			ret = 1;
		}
	}
	if (as->kes_open) {
		if (kes_reload_cred(&as->kes, c->nts.cert, c->nts.key, err, sizeof(err)) < 0) {
			log_msg(LOG_ERR, "SIGHUP: %s: the NTS-KE certificate and key in force stay",
				err);
			ret = -1;
		} else {
			log_msg(LOG_NOTICE,
				"SIGHUP: NTS-KE certificate %s and key %s reloaded: new "
				"handshakes use them",
				c->nts.cert, c->nts.key);
		}
	}
	return ret;
}

void auth_reclaim(struct auth_shared *as)
{
	keys_free(as->keys_retired);
	as->keys_retired = NULL;
}

int auth_worker_init(struct auth_shared *as, struct auth_worker *aw)
{
	uint8_t seed[CRY_RNG_SEED_LEN];

	memset(aw, 0, sizeof(*aw));
	aw->slot = as->nks ? nks_slot_get(as->nks) : -1;
	if (as->nks && aw->slot < 0)
		return -1;
	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
		return -1;
	cry_rng_seed(&aw->rng, seed);
	memset(seed, 0, sizeof(seed));
	return 0;
}

int auth_start(struct auth_shared *as)
{
	return as->kes_open ? kes_start(&as->kes) : 0;
}

void auth_stop(struct auth_shared *as)
{
	if (as->kes_open)
		kes_stop(&as->kes);
}

void auth_close(struct auth_shared *as)
{
	if (as->kes_open)
		kes_close(&as->kes);
	as->kes_open = 0;
	if (as->nks)
		nks_fini(as->nks);
	as->nks = NULL;
	auth_reclaim(as);
	keys_free((struct sk_table *)(uintptr_t)atomic_load_explicit(&as->keys,
								     memory_order_relaxed));
	atomic_store_explicit(&as->keys, NULL, memory_order_relaxed);
}

enum auth_action auth_check(const struct auth_shared *as, struct auth_worker *aw,
			    const uint8_t *req, size_t len, int client, struct auth_req *ar,
			    int *outcome)
{
	size_t mac_off = len;

	*outcome = -1;
	if (ntp_ext_mac(req, len, &mac_off) < 0)
		return AUTH_PLAIN; /* classified well-formed before: cannot happen */
	if (mac_off < len) {
		ar->nts = 0;
		/* The table in force now: the worker holds it until its next request. */
		switch (sk_verify(atomic_load_explicit(&as->keys, memory_order_acquire), req, len,
				  mac_off, &ar->key)) {
		case SK_OK:
			*outcome = AUTH_MAC_OK;
			return AUTH_ANSWER;
		case SK_UNKNOWN_KEY:
			*outcome = AUTH_MAC_UNKNOWN_KEY;
			return AUTH_DROP;
		default:
			*outcome = AUTH_MAC_BAD;
			return AUTH_DROP;
		}
	}
	switch (nts_parse_request(req, len, &ar->a.req)) {
	case NTS_PARSE_NONE:
		return AUTH_PLAIN;
	case NTS_PARSE_MALFORMED:
		*outcome = as->nks ? AUTH_NTS_MALFORMED : AUTH_NTS_DISABLED;
		return AUTH_DROP;
	case NTS_PARSE_OK:
		break;
	}
	if (!as->nks) {
		*outcome = AUTH_NTS_DISABLED;
		return AUTH_DROP;
	}
	if (!client) {
		*outcome = AUTH_NTS_MALFORMED;
		return AUTH_DROP;
	}
	ar->nts = 1;
	ar->ks = nks_enter(as->nks, aw->slot);
	switch (nts_server_verify(ar->ks, req, len, &ar->a)) {
	case NTS_OK:
		*outcome = AUTH_NTS_OK;
		return AUTH_ANSWER; /* the keys stay held until auth_seal */
	case NTS_BAD_COOKIE:
		*outcome = AUTH_NTS_BAD_COOKIE;
		break;
	case NTS_BAD_AUTH:
		*outcome = AUTH_NTS_BAD_AUTH;
		break;
	case NTS_MALFORMED:
		*outcome = AUTH_NTS_MALFORMED;
		break;
	}
	nks_leave(as->nks, aw->slot);
	ar->ks = NULL;
	return *outcome == AUTH_NTS_MALFORMED ? AUTH_DROP : AUTH_NAK;
}

size_t auth_seal(const struct auth_shared *as, struct auth_worker *aw, struct auth_req *ar,
		 const uint8_t *req, size_t len, uint8_t *reply, size_t cap)
{
	size_t n;

	if (!ar->nts)
		return sk_append(ar->key, reply, NTP_HEADER_LEN);
	n = nts_server_reply(ar->ks, &ar->a, req, len, reply, cap, &aw->rng);
	nks_leave(as->nks, aw->slot);
	ar->ks = NULL;
	memset(&ar->a.ck, 0, sizeof(ar->a.ck));
	return n;
}

size_t auth_nak(const struct auth_req *ar, const uint8_t *req, size_t len, uint8_t *reply)
{
	return nts_server_nak(req, len, &ar->a.req, reply);
}
