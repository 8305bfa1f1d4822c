/*
 * The per-request path. A ladder of early returns, each counted with its
 * reason: classification (length, version, mode, extensions), then the
 * access list, then the rate limit when the XDP guard does not enforce it
 * (all three in policy.c), then the authentication of NTS and MAC
 * requests (daemon/auth/), then the reply or a kiss-o'-death. The
 * transmit timestamp is read as the very last step before the bytes are
 * final, but for an authenticated reply, sealed after it. A client
 * request (mode 3) also meets the client's interleaved state (xleave.h):
 * it is answered in interleaved mode when it names the client's last
 * reply, and either way the state then holds this exchange. An
 * authenticated request (NTS or a MAC) is always answered in basic mode
 * and leaves that state alone: its reply is sealed here, so no later
 * step (the restamp before the send, a transmit stamp) may touch it.
 */
#include <stdlib.h>
#include <string.h>

#include "clock/kclock.h"
#include "daemon/serve/clientlog.h"
#include "daemon/policy/policy.h"
#include "daemon/serve/serve.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

/*
 * RFC 9769 wants every receive and transmit timestamp of a server that
 * interleaves unique where a client could confuse them: the receive
 * timestamp never 0, never the client's previous one (a repeated origin
 * must not name the new exchange) and never the origin it echoes; the
 * transmit never equal to the receive (that is how a client tells the
 * modes apart). One unit (0.23 ns) more makes them so.
 */
static uint64_t unique(uint64_t ts, uint64_t a, uint64_t b)
{
	while (ts == 0 || ts == a || ts == b)
		ts++;
	return ts;
}

/*
 * The transmit time of an interleaved reply, a measured stamp: unique
 * as above, without NTP_XMT_REFINE, so that the guard's egress program
 * leaves it be (xl_tx_wire's flag bits end in 0; unique's one unit more
 * would set it: two units here).
 */
static uint64_t unique_measured(uint64_t ts, uint64_t rx)
{
	ts &= ~(uint64_t)NTP_XMT_REFINE;
	while (ts == 0 || ts == rx)
		ts += 2;
	return ts;
}

void srv_handle(const struct srv_shared *sh, struct srv_local *lc, const uint8_t *req, size_t len,
		const struct sockaddr *from, int fd, const struct timespec *rx,
		enum ctr_tsrc rx_src, uint8_t *reply, struct srv_reply *out)
{
	const struct pol_rules *pol = atomic_load_explicit(&sh->rules, memory_order_acquire);
	struct ctr_block *ctr = lc->ctr;
	enum auth_action act = AUTH_PLAIN;
	struct ntp_reply_info info;
	struct clk_snapshot snap;
	struct xl_entry *e = NULL;
	struct auth_req ar;
	enum ntp_reason r;
	int64_t rx_ns, tx_ns, tx_sys;
	uint64_t org = 0, rec = 0, xmt = 0, rxw, txw;
	size_t n;

	out->len = 0;
	out->basic = 0;
	out->interleaved = 0;
	out->stamp = 0;
	out->steps = 0;
	out->xl = XL_NONE;
	out->rx = 0;
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
		out->len = NTP_HEADER_LEN;
		return;
	}
	if (r != NTP_R_REPLY_SERVER && r != NTP_R_REPLY_SYMMETRIC) {
		/* A drop, or mode 6 from an allowed address: the clock thread answers that. */
		ctr_inc(&ctr->reason[r]);
		if (r == NTP_R_CONTROL && sh->m6)
			m6q_push(sh->m6, fd, req, len, from);
		return;
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
			if (act == AUTH_NAK)
				out->len = auth_nak(&ar, req, len, reply);
			return;
		}
	}

	clk_snapshot_read(sh->pub, &snap);
	rx_ns = clk_snapshot_served(&snap, ns_from_timespec(rx));
	rxw = ntp_ts_from_unix_ns(rx_ns);
	info.leap = snap.leap;
	info.stratum = snap.stratum;
	info.precision = snap.precision;
	info.root_delay = ntp_short_from_double(snap.root_delay);
	info.refid = snap.refid;
	info.ref = ntp_ref_from_unix_ns(snap.ref_ns); /* 0 (never synchronized) stays 0 */

	/*
	 * Client requests meet the client's interleaved state (mode 1 is
	 * answered statelessly, an authenticated request too: see the top).
	 */
	ntp_request_stamps(req, &org, &rec, &xmt);
	if (r == NTP_R_REPLY_SERVER && lc->xl && act == AUTH_PLAIN) {
		enum xl_claimed how = xl_claim(lc->xl, from, &out->xl);

		e = &lc->xl->e[out->xl];
		if (how == XL_EVICTED)
			ctr_inc(&ctr->xl_evicted);
		out->interleaved =
			how == XL_FOUND && xl_names_last(e, org, rec, xmt, (req[0] >> 3) & 7);
		rxw = unique(rxw, e->rx, out->interleaved ? rec : xmt);
	}

	/* Transmit time: read last, then only arithmetic and copies follow. */
	tx_sys = clk_now_ns(sh->clock);
	tx_ns = clk_snapshot_served(&snap, tx_sys);
	/* A leap's step of the clock between the snapshot and these readings: no time from it. */
	if (!clk_snapshot_maps(sh->pub, &snap, ns_from_timespec(rx), tx_sys)) {
		info.leap = NTP_LEAP_UNSYNC;
		info.stratum = 16;
	}
	info.root_disp = ntp_short_from_double(clk_snapshot_root_disp(&snap, tx_ns));
	if (act == AUTH_ANSWER) {
		/* Basic mode, sealed: its transmit read last, never restamped (auth.h). */
		txw = unique(ntp_ts_from_unix_ns(tx_ns), rxw, rxw);
		ntp_build_reply(req, &info, rxw, txw, reply);
		n = auth_seal(sh->auth, ctr->auth_wk, &ar, req, len, reply, SRV_REPLY_MAX);
		if (n)
			ctr_inc(&ctr->mode[CTR_MODE_BASIC]);
		ctr_inc(&ctr->reason[n ? r : NTP_R_DROP_AUTH]);
		out->len = n;
		return;
	}
	if (out->interleaved) {
		/* The previous reply's transmit time, measured after it left (or read before). */
		ctr_inc(&ctr->xtx[xl_tx_src(e) == XL_SRC_HARDWARE ? CTR_TS_HARDWARE
				  : xl_tx_src(e) == XL_SRC_KERNEL ? CTR_TS_KERNEL
								  : CTR_TS_DAEMON]);
		txw = unique_measured(xl_tx_wire(e), rxw);
		ntp_build_reply_interleaved(req, &info, rxw, txw, reply);
	} else {
		/* A reading the guard's egress program may refine (NTP_XMT_REFINE). */
		txw = unique(ntp_ts_from_unix_ns(tx_ns) | NTP_XMT_REFINE, rxw, rxw);
		ntp_build_reply(req, &info, rxw, txw, reply);
	}
	/*
	 * Its transmit stamp is wanted only when the client asks in
	 * interleaved mode: this request is interleaved, or one of its
	 * requests was (the flag xl_record keeps). A basic client's origin
	 * says nothing (every client sends one): stamping its replies would
	 * cost a stamp per reply for a time nobody reads. A client's first
	 * interleaved request therefore names an unstamped reply and gets the
	 * time read before it left (XL_SRC_DAEMON: early, never late); its
	 * later ones get the stamps. (The worker stamps the basic replies it
	 * sends alone anyway: they teach it the send delay, see txstamp.h.)
	 */
	if (e) {
		xl_record(e, rxw, ntp_ts_from_unix_ns(tx_ns), out->interleaved);
		out->stamp = !!(e->tx & XL_TX_XLEAVE);
	}
	ctr_inc(&ctr->mode[out->interleaved ? CTR_MODE_INTERLEAVED : CTR_MODE_BASIC]);
	ctr_inc(&ctr->reason[r]);
	out->rx = rxw;
	out->steps = snap.steps;
	out->basic = !out->interleaved;
	out->len = NTP_HEADER_LEN;
}

int srv_restamp(uint8_t *buf, size_t len, uint32_t steps, const struct clk_snapshot *s, int mapped,
		int64_t raw)
{
	if (!mapped || s->steps != steps) {
		ntp_mark_unsync(buf, len);
		return 0;
	}
	return ntp_restamp_xmt(buf, len,
			       ntp_ts_from_unix_ns(clk_snapshot_served(s, raw)) | NTP_XMT_REFINE);
}

void srv_note_send(const struct srv_reply *out, const struct sockaddr *from, int ifindex,
		   const uint8_t *reply, struct txs_rec *rec)
{
	uint64_t org, rx, tx;

	ntp_request_stamps(reply, &org, &rx, &tx);
	rec->xl = out->xl;
	rec->steps = out->steps;
	rec->rx = rx;
	rec->org = org;
	rec->ifindex = ifindex;
	xl_key(from, rec->addr);
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
