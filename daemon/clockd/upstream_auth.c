/*
 * The authentication of the upstream sources, for upstream.c
 * (upstream_priv.h): the keyfile and the NTS trust read at start, each
 * source's key or cookie jar, the check of a reply's MAC or NTS fields,
 * and the NTS-KE exchanges (upnts.h) that fill the jars: started when a
 * jar is empty, retried after a failure with a doubling wait, their keys
 * and cookies taken in, and the NTP address NTS-KE named.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "daemon/auth/keyfile.h"
#include "daemon/clockd/upstream_priv.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

#define UP_KE_RETRY_MIN_NS 16000000000LL   /* 16 s before NTS-KE again after a failure */
#define UP_KE_RETRY_MAX_NS 1024000000000LL /* 1024 s at most, doubling from 16 s */

/* The keyfile and the NTS trust C's sources need, and each source's key and cookie jar. */
int up_init_auth(struct upstream *u, const struct horod_config *c)
{
	char err[512];
	int i, keys = 0, nts = 0;

	for (i = 0; i < u->n; i++) {
		keys |= u->src[i].cfg->key != 0;
		nts |= u->src[i].cfg->nts;
	}
	if (keys && kf_read(c->nts.keyfile, &u->keys, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return -1;
	}
	if (nts) {
		u->upn = upn_create(&c->nts, err, sizeof(err));
		if (!u->upn) {
			log_msg(LOG_ERR, "%s", err);
			return -1;
		}
		u->nocert = c->nts.no_cert_time_check;
	}
	for (i = 0; i < u->n; i++) {
		struct up_source *s = &u->src[i];

		if (s->cfg->key) {
			s->key = sk_find(&u->keys, s->cfg->key);
			if (!s->key) {
				log_msg(LOG_ERR, "server %s key %u: no such key in %s",
					s->cfg->host, (unsigned)s->cfg->key, c->nts.keyfile);
				return -1;
			}
		}
		if (s->cfg->nts) {
			s->nts = calloc(1, sizeof(*s->nts));
			if (!s->nts) {
				log_msg(LOG_ERR, "upstream: out of memory");
				return -1;
			}
			s->ke_backoff = UP_KE_RETRY_MIN_NS;
		}
	}
	return 0;
}

/* Authenticate reply BUF (LEN bytes) of source S: its MAC, or its NTS fields. */
enum up_auth up_authentic(const struct upstream *u, struct up_source *s, const uint8_t *buf,
			  size_t len)
{
	const struct sk_key *k = NULL;
	size_t mac_off = len;

	if (s->nts) {
		switch (ntsc_answer(s->nts, buf, len)) {
		case NTSC_OK:
			return UP_AUTH_OK;
		case NTSC_NAK:
			return UP_AUTH_NAK;
		default:
			return UP_AUTH_BAD;
		}
	}
	if (!s->key)
		return UP_AUTH_OK;
	if (ntp_ext_mac(buf, len, &mac_off) < 0 || mac_off >= len ||
	    sk_verify(&u->keys, buf, len, mac_off, &k) != SK_OK || k != s->key)
		return UP_AUTH_BAD;
	return UP_AUTH_OK;
}

/* Start an NTS-KE exchange for NTS source I, unless one runs or it failed too recently. */
void up_start_ke(struct upstream *u, int i, int64_t now)
{
	struct up_source *s = &u->src[i];
	struct clk_tracking tr;
	int notime = 0;

	if (s->ke_running || now < s->ke_after)
		return;
	if (u->nocert > 0) {
		/* nocerttimecheck: no certificate time checks until that many clock updates. */
		clk_core_tracking(u->core, now, &tr);
		notime = tr.updates < u->nocert;
	}
	if (upn_start(u->upn, i, s->cfg->host, s->cfg->ntsport, s->cfg->port, notime) == 0)
		s->ke_running = 1;
	else
		s->ke_after = now + UP_KE_RETRY_MIN_NS;
}

/* Take the NTS-KE exchanges that finished: keys and cookies in, or the next try later. */
void up_take_ke(struct upstream *u, int64_t now)
{
	struct upn_ke *k, *next;
	char a[INET6_ADDRSTRLEN];

	for (k = upn_take(u->upn); k; k = next) {
		struct up_source *s = &u->src[k->src];

		next = k->next;
		s->ke_running = 0;
		if (!k->ok) {
			u->stats.ke_fail++;
			s->ke_after = now + s->ke_backoff;
			log_msg(LOG_WARNING,
				"source %s: NTS-KE with %s port %d failed (%s): %s; again in %lld "
				"s",
				s->name, s->cfg->host, s->cfg->ntsport,
				k->r.stage ? k->r.stage : "?", k->r.err,
				(long long)(s->ke_backoff / NS_PER_SEC));
			s->ke_backoff = s->ke_backoff * 2 > UP_KE_RETRY_MAX_NS ? UP_KE_RETRY_MAX_NS
									       : s->ke_backoff * 2;
			upn_free(k);
			continue;
		}
		u->stats.ke_ok++;
		ntsc_rekey(s->nts, k->r.c2s, k->r.s2c, &k->r.reply);
		s->ke_backoff = UP_KE_RETRY_MIN_NS;
		s->ke_at = now;
		if (s->addrlen != k->ntp_len || memcmp(&s->addr, &k->ntp, k->ntp_len) != 0) {
			up_close_request(s);
			s->addr = k->ntp;
			s->addrlen = k->ntp_len;
			s->unanswered = 0;
			s->last_xmt = 0;
			clk_core_source_addr(u->core, s->core_id, up_addr_refid(&s->addr));
		}
		up_addr_str(&s->addr, a, sizeof(a));
		log_msg(LOG_INFO,
			"source %s: NTS-KE with %s in %.3f s (%s), %d cookies; NTP to %s port %d",
			s->name, k->r.peer, k->r.seconds, k->r.tls, k->r.reply.n_cookies, a,
			ntohs(s->addr.ss_family == AF_INET6
				      ? ((const struct sockaddr_in6 *)&s->addr)->sin6_port
				      : ((const struct sockaddr_in *)&s->addr)->sin_port));
		upn_free(k);
	}
}
