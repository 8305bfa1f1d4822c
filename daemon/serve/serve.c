/*
 * The per-request path. A ladder of early returns, each counted with its
 * reason: classification (length, version, mode, extensions), then the
 * access list, then the rate limit when the XDP guard does not enforce it
 * (all three in policy.c), then the authentication of NTS and MAC
 * requests (daemon/auth/), then the reply or a kiss-o'-death. The
 * transmit timestamp is read as the very last step before the bytes are
 * final, but for an authenticated reply, sealed after it.
 */
#include <stdlib.h>
#include <string.h>

#include "clock/kclock.h"
#include "daemon/serve/clientlog.h"
#include "daemon/policy/policy.h"
#include "daemon/serve/serve.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

size_t srv_handle(const struct srv_shared *sh, struct ctr_block *ctr, const uint8_t *req,
		  size_t len, const struct sockaddr *from, int fd, const struct timespec *rx,
		  enum ctr_tsrc rx_src, uint8_t *reply)
{
	const struct pol_rules *pol = atomic_load_explicit(&sh->rules, memory_order_acquire);
	enum auth_action act = AUTH_PLAIN;
	struct ntp_reply_info info;
	struct clk_snapshot snap;
	struct auth_req ar;
	enum ntp_reason r;
	int64_t rx_ns, tx_ns;
	size_t n;

	ctr_inc(&ctr->received);
	ctr_inc(&ctr->tsrc[rx_src]);

	/* Classification, access list, rate limit (policy.h; the clock only for the limiter). */
	r = pol_decide(pol, req, len, from, pol->rl ? rl_now_ns() : 0);
	if (ctr->clog)
		clog_note(ctr->clog, from, ns_from_timespec(rx),
			  r == NTP_R_REPLY_SERVER || r == NTP_R_REPLY_SYMMETRIC ||
				  r == NTP_R_CONTROL);
	if (r == NTP_R_REPLY_KOD_RATE || r == NTP_R_REPLY_KOD_DENY) {
		ntp_build_kod(req, r == NTP_R_REPLY_KOD_RATE ? NTP_KOD_RATE : NTP_KOD_DENY, reply);
		ctr_inc(&ctr->reason[r]);
		return NTP_HEADER_LEN;
	}
	if (r != NTP_R_REPLY_SERVER && r != NTP_R_REPLY_SYMMETRIC) {
		/* A drop, or mode 6 from an allowed address: the clock thread answers that. */
		ctr_inc(&ctr->reason[r]);
		if (r == NTP_R_CONTROL && sh->m6)
			m6q_push(sh->m6, fd, req, len, from);
		return 0;
	}
	/* NTS fields or a MAC: verified before anything is answered (daemon/auth/auth.h). */
	if (len > NTP_HEADER_LEN && sh->auth) {
		int o;

		act = auth_check(sh->auth, ctr->auth_wk, req, len, r == NTP_R_REPLY_SERVER, &ar,
				 &o);
		if (o >= 0)
			ctr_inc(&ctr->auth[o]);
		if (act == AUTH_NAK || act == AUTH_DROP) {
			ctr_inc(&ctr->reason[act == AUTH_NAK ? NTP_R_REPLY_KOD_NTSN
							     : NTP_R_DROP_AUTH]);
			return act == AUTH_NAK ? auth_nak(&ar, req, len, reply) : 0;
		}
	}

	clk_snapshot_read(sh->pub, &snap);
	rx_ns = clk_snapshot_served(&snap, ns_from_timespec(rx));
	info.leap = snap.leap;
	info.stratum = snap.stratum;
	info.precision = snap.precision;
	info.root_delay = ntp_short_from_double(snap.root_delay);
	info.refid = snap.refid;
	info.ref = ntp_ref_from_unix_ns(snap.ref_ns); /* 0 (never synchronized) stays 0 */

	/* Transmit time: read last, then only arithmetic and copies follow. */
	tx_ns = clk_snapshot_served(&snap, clk_now_ns(sh->clock));
	info.root_disp = ntp_short_from_double(clk_snapshot_root_disp(&snap, tx_ns));
	n = ntp_build_reply(req, &info, ntp_ts_from_unix_ns(rx_ns), ntp_ts_from_unix_ns(tx_ns),
			    reply);
	if (act == AUTH_ANSWER)
		n = auth_seal(sh->auth, ctr->auth_wk, &ar, req, len, reply, SRV_REPLY_MAX);
	ctr_inc(&ctr->reason[n ? r : NTP_R_DROP_AUTH]);
	return n;
}

/* Copy list FROM into TO (empty first); 0, or -1 when out of memory. */
static int srv_acl_copy(struct acl *to, const struct acl *from)
{
	acl_init(to);
	if (!from->n)
		return 0;
	to->rules = malloc(sizeof(*to->rules) * (size_t)from->n);
	if (!to->rules)
		return -1;
	memcpy(to->rules, from->rules, sizeof(*to->rules) * (size_t)from->n);
	to->n = to->cap = from->n;
	to->n_allow = from->n_allow;
	return 0;
}

struct srv_policy *srv_policy_new(const struct horod_config *c, struct rl_table *rl)
{
	struct srv_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (srv_acl_copy(&p->acl, &c->acl) < 0 ||
	    srv_acl_copy(&p->control_acl, &c->control_acl) < 0) {
		srv_policy_free(p);
		return NULL;
	}
	p->rules.acl = &p->acl;
	p->rules.control_acl = &p->control_acl;
	p->rules.rl = rl;
	p->rules.deny_kod = c->rl.deny_kod;
	return p;
}

void srv_policy_free(struct srv_policy *p)
{
	if (!p)
		return;
	acl_free(&p->acl);
	acl_free(&p->control_acl);
	free(p);
}
