/*
 * The per-request path. A ladder of early returns, each counted with its
 * reason: classification (length, version, mode, extensions), then the
 * access list, then the reply. The transmit timestamp is read as the very
 * last step before the bytes are final.
 */
#include <string.h>

#include "daemon/serve.h"
#include "proto/ntp.h"

/* 1 when FROM may send mode 6: loopback always, else the control list if it has rules. */
static int control_allowed(const struct srv_shared *sh, const struct sockaddr *from)
{
	if (acl_is_loopback(from))
		return 1;
	return sh->control_acl->n_allow > 0 && acl_check(sh->control_acl, from);
}

size_t srv_handle(const struct srv_shared *sh, struct ctr_block *ctr, const uint8_t *req,
		  size_t len, const struct sockaddr *from, const struct timespec *rx,
		  enum ctr_tsrc rx_src, uint8_t *reply)
{
	struct ntp_reply_info info;
	struct clk_snapshot snap;
	enum ntp_reason r;
	int64_t rx_ns, tx_ns;
	int ctl = 0;

	ctr_inc(&ctr->received);
	ctr_inc(&ctr->tsrc[rx_src]);

	/* Only mode 6 needs the control list; don't pay for it otherwise. */
	if (len > 0 && (req[0] & 0x7) == NTP_MODE_CONTROL)
		ctl = control_allowed(sh, from);
	r = ntp_classify(req, len, ctl);
	if (r == NTP_R_CONTROL) {
		/* Mode 6 from an allowed address: counted; not answered by this build. */
		ctr_inc(&ctr->reason[NTP_R_CONTROL]);
		return 0;
	}
	if (r != NTP_R_REPLY_SERVER && r != NTP_R_REPLY_SYMMETRIC) {
		ctr_inc(&ctr->reason[r]);
		return 0;
	}
	if (!acl_check(sh->acl, from)) {
		ctr_inc(&ctr->reason[NTP_R_DROP_DENIED]);
		return 0;
	}

	clk_snapshot_read(sh->pub, &snap);
	rx_ns = clk_snapshot_served(&snap, (int64_t)rx->tv_sec * 1000000000 + rx->tv_nsec);
	info.leap = snap.leap;
	info.stratum = snap.stratum;
	info.precision = snap.precision;
	info.root_delay = ntp_short_from_double(snap.root_delay);
	info.refid = snap.refid;
	info.ref = ntp_ts_from_unix_ns(snap.ref_ns);

	/* Transmit time: read last, then only arithmetic and copies follow. */
	{
		struct timespec now;

		clock_gettime(sh->clock, &now);
		tx_ns = clk_snapshot_served(&snap, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	}
	info.root_disp = ntp_short_from_double(clk_snapshot_root_disp(&snap, tx_ns));
	ntp_build_reply(req, &info, ntp_ts_from_unix_ns(rx_ns), ntp_ts_from_unix_ns(tx_ns), reply);
	ctr_inc(&ctr->reason[r]);
	return NTP_HEADER_LEN;
}
