/*
 * The decision on one request, as the workers take it and as the XDP
 * guard (bpf/guard.bpf.c) takes it in the kernel: this is the userspace
 * reference the guard's differential test compares with. In order, the
 * first that applies wins:
 *
 *   1. proto's ntp_classify (length, version, mode, extension fields;
 *      mode 6 is control when the source is loopback or `control allow`)
 *      → its drop reason, or NTP_R_CONTROL (not checked further);
 *   2. the access list (deny wins; no allow rule = allow all) →
 *      NTP_R_DROP_DENIED, or NTP_R_REPLY_KOD_DENY with `denykod on` when
 *      the source is due a kiss-o'-death (at most one per rate-limit
 *      interval when a table is there);
 *   3. the rate limiter, when there is one → NTP_R_DROP_RATE, or
 *      NTP_R_REPLY_KOD_RATE (`ratelimit ... kod`, spaced likewise); every
 *      2^leak-th over-rate request passes;
 *   4. NTP_R_REPLY_SERVER (mode 3) or NTP_R_REPLY_SYMMETRIC (mode 1).
 */
#ifndef HOROD_DAEMON_POLICY_H
#define HOROD_DAEMON_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/policy/acl.h"
#include "daemon/policy/ratelimit.h"
#include "proto/reason.h"

struct pol_rules {
	const struct acl *acl;	       /* allow / deny */
	const struct acl *control_acl; /* mode 6 sources besides loopback */
	struct rl_table *rl;	       /* rate limiter and KoD spacing; NULL = neither */
	int deny_kod;		       /* answer denied sources with a DENY kiss-o'-death */
};

/* 1 when FROM may send mode 6: loopback always, else `control allow`. */
int pol_control_allowed(const struct pol_rules *p, const struct sockaddr *from);

/* The outcome of request REQ (LEN bytes) from FROM at NOW_NS (CLOCK_MONOTONIC; read only with a
 * limiter). */
enum ntp_reason pol_decide(const struct pol_rules *p, const uint8_t *req, size_t len,
			   const struct sockaddr *from, uint64_t now_ns);

#endif
