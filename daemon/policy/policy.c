/*
 * The request ladder of policy.h: classify, access list, rate limit.
 * Pure apart from the limiter's table; never allocates or logs.
 */
#include "daemon/policy/policy.h"
#include "proto/ntp.h"

int pol_control_allowed(const struct pol_rules *p, const struct sockaddr *from)
{
	if (acl_is_loopback(from))
		return 1;
	return p->control_acl && p->control_acl->n_allow > 0 && acl_check(p->control_acl, from);
}

enum ntp_reason pol_decide(const struct pol_rules *p, const uint8_t *req, size_t len,
			   const struct sockaddr *from, uint64_t now_ns)
{
	enum ntp_reason r;
	int ctl = 0;

	/* Only mode 6 needs the control list; don't pay for it otherwise. */
	if (len > 0 && (req[0] & 0x7) == NTP_MODE_CONTROL)
		ctl = pol_control_allowed(p, from);
	r = ntp_classify(req, len, ctl);
	if (r != NTP_R_REPLY_SERVER && r != NTP_R_REPLY_SYMMETRIC)
		return r;
	if (!acl_check(p->acl, from)) {
		if (p->deny_kod && (!p->rl || rl_kod_claim(p->rl, from, now_ns)))
			return NTP_R_REPLY_KOD_DENY;
		return NTP_R_DROP_DENIED;
	}
	if (p->rl) {
		switch (rl_charge(p->rl, from, now_ns, 1)) {
		case RL_KOD:
			return NTP_R_REPLY_KOD_RATE;
		case RL_DROP:
			return NTP_R_DROP_RATE;
		case RL_PASS:
		case RL_LEAK:
			break;
		}
	}
	return r;
}
