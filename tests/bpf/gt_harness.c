/*
 * The shared harness of guard-test: a rig that loads the XDP guard in
 * test mode (GUARD_F_TEST: a settable clock, the reason of each verdict)
 * together with the userspace reference set up the same way (the access
 * lists of acl.c, the limiter of ratelimit.c, the rules of policy.c), a
 * runner that sends one frame through BPF_PROG_TEST_RUN, the reference's
 * verdict for the same frame, the named asserts and the pass/fail tally,
 * and the builders of NTP requests and UDP frame specs the unit, diff and
 * bench parts share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "daemon/policy/acl.h"
#include "daemon/policy/policy.h"
#include "daemon/policy/ratelimit.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

#define T0 (1000 * SEC) /* the test clock's start: far from 0 */

int gt_n_pass, gt_n_fail;
uint32_t gt_lo = 1, gt_wire;

static const uint16_t ports[2] = {PORT_A, PORT_B};

int gt_expect(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		gt_n_pass++;
		printf("PASS: %s\n", name);
		return 1;
	}
	gt_n_fail++;
	printf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 0;
}

int gt_no_privilege(int ret)
{
	return ret == -EPERM || (ret == -EACCES && geteuid() != 0);
}

void gt_skip(const char *why)
{
	printf("SKIP: guard-test: %s\n", why);
	exit(77);
}

/* Add TEXT to the reference's list A and its prefixes to the guard's LIST; 0 or -1. */
static int rig_add(struct gt_rig *r, struct acl *a, const char *text, int allow,
		   enum guard_list list)
{
	char err[256];
	int i, n0 = a->n;

	if (acl_add(a, text, allow, err, sizeof(err)) < 0) {
		fprintf(stderr, "guard-test: %s: %s\n", text, err);
		return -1;
	}
	for (i = n0; i < a->n; i++) {
		const struct acl_rule *rule = &a->rules[i];

		if (guard_add_rule(r->g, list,
				   rule->family == AF_INET ? GUARD_FAMILY_V4 : GUARD_FAMILY_V6,
				   rule->addr, rule->plen, err, sizeof(err)) < 0) {
			fprintf(stderr, "guard-test: %s: %s\n", text, err);
			return -1;
		}
	}
	return 0;
}

void gt_listens(struct guard_config *c)
{
	static const struct {
		int v6;
		const char *addr; /* NULL: the wildcard */
		uint16_t port;
	} l[] = {
		{0, NULL, PORT_A},
		{1, NULL, PORT_A},
		{0, GT_LOCAL4, PORT_B},
		{1, GT_LOCAL6, PORT_B},
	};
	size_t i;

	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		struct guard_listen *g = &c->listen[c->n_listen++];

		memset(g, 0, sizeof(*g));
		g->family = l[i].v6 ? GUARD_FAMILY_V6 : GUARD_FAMILY_V4;
		g->port = htons(l[i].port);
		g->wildcard = l[i].addr == NULL;
		if (l[i].addr)
			inet_pton(l[i].v6 ? AF_INET6 : AF_INET, l[i].addr, g->addr);
	}
}

void gt_host(struct guard_host *h)
{
	uint8_t a[16];

	guard_host_init(h);
	guard_host_set_if(h, gt_lo, gt_mac_srv);
	guard_host_set_if(h, gt_wire, gt_mac_srv);
	inet_pton(AF_INET, GT_LOCAL4, a);
	guard_host_add(h, GUARD_FAMILY_V4, a, gt_wire);
	inet_pton(AF_INET, GT_LOCAL4B, a);
	guard_host_add(h, GUARD_FAMILY_V4, a, gt_wire);
	inet_pton(AF_INET, "127.0.0.1", a);
	guard_host_add(h, GUARD_FAMILY_V4, a, gt_lo);
	inet_pton(AF_INET6, GT_LOCAL6, a);
	guard_host_add(h, GUARD_FAMILY_V6, a, gt_wire);
	inet_pton(AF_INET6, GT_LL6, a);
	guard_host_add(h, GUARD_FAMILY_V6, a, gt_wire);
	inet_pton(AF_INET6, "::1", a);
	guard_host_add(h, GUARD_FAMILY_V6, a, gt_lo);
}

void gt_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		gt_skip("cannot make a network namespace of our own (needs CAP_SYS_ADMIN)");
	if (system("ip link set lo up && ip link add gt0 type veth peer name gt1 && ip link set "
		   "gt0 up") != 0)
		gt_skip("cannot add the veth pair gt0-gt1 (no `ip`, or no veth driver)");
	gt_wire = if_nametoindex("gt0");
	if (!gt_wire || gt_wire == gt_lo)
		gt_skip("the interface gt0 has no index of its own");
}

/* Load the guard for C (test mode) and set up the reference the same way. */
void gt_rig_open(struct gt_rig *r, const struct gt_rig_conf *c)
{
	char err[256];
	int i, ret;

	memset(r, 0, sizeof(*r));
	rl_limits_set(&r->lim, c->ratelimit, c->interval, c->burst, c->leak, c->kod);
	r->cfg.ports[0] = htons(PORT_A);
	r->cfg.ports[1] = htons(PORT_B);
	r->cfg.n_ports = 2;
	gt_listens(&r->cfg);
	r->cfg.flags = GUARD_F_TEST | (c->ratelimit ? GUARD_F_RATELIMIT : 0) |
		       (c->ratelimit && c->kod ? GUARD_F_RATE_KOD : 0) |
		       (c->deny_kod ? GUARD_F_DENY_KOD : 0) |
		       (c->allow[0] ? GUARD_F_HAVE_ALLOW : 0) | (c->serve ? GUARD_F_SERVE : 0) |
		       (c->hwrx ? GUARD_F_HWRX : 0) | (c->stamp ? GUARD_F_STAMP : 0);
	r->cfg.interval_ns = r->lim.interval_ns;
	r->cfg.tau_ns = r->lim.tau_ns;
	r->cfg.kod_interval_ns = r->lim.kod_interval_ns;
	r->cfg.leak_mask = r->lim.leak_mask;
	ret = guard_open(&r->g, &r->cfg, err, sizeof(err));
	if (gt_no_privilege(ret))
		gt_skip("no privilege to load BPF programs (needs root or CAP_BPF + "
			"CAP_NET_ADMIN)");
	if (ret < 0) {
		printf("FAIL: load the guard: %s\n", err);
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	if (guard_test_hooks(r->g, &r->h) < 0) {
		printf("FAIL: the guard's .bss should be mapped\n0 passed, 1 failed\n");
		exit(1);
	}
	acl_init(&r->acl);
	acl_init(&r->control);
	for (i = 0; i < 8 && c->allow[i]; i++)
		if (rig_add(r, &r->acl, c->allow[i], 1, GUARD_LIST_ALLOW) < 0)
			exit(1);
	for (i = 0; i < 8 && c->deny[i]; i++)
		if (rig_add(r, &r->acl, c->deny[i], 0, GUARD_LIST_DENY) < 0)
			exit(1);
	for (i = 0; i < 8 && c->control[i]; i++)
		if (rig_add(r, &r->control, c->control[i], 1, GUARD_LIST_CONTROL) < 0)
			exit(1);
	if (c->ratelimit || c->deny_kod) {
		r->rl = rl_create(&r->lim, RL_TABLE_ENTRIES);
		if (!r->rl) {
			fprintf(stderr, "guard-test: out of memory\n");
			exit(1);
		}
	}
	r->pol.acl = &r->acl;
	r->pol.control_acl = &r->control;
	r->pol.rl = r->rl;
	r->pol.deny_kod = c->deny_kod;
	r->prog = guard_prog_fd(r->g);
	r->now = T0;
	r->ifindex = gt_lo;
	gt_host(&r->host);
	gt_publish_host(r);
}

void gt_rig_close(struct gt_rig *r)
{
	guard_close(r->g);
	rl_destroy(r->rl);
	acl_free(&r->acl);
	acl_free(&r->control);
}

/* Run FRAME through the program at the rig's time; the XDP action; OUT gets the frame after. */
int gt_run(struct gt_rig *r, const uint8_t *frame, size_t len, uint8_t *out, size_t *outlen)
{
	struct xdp_md ctx = {.data_end = (uint32_t)len, .ingress_ifindex = r->ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = FR_MAX + 256, .repeat = 1, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	int ret;

	*r->h.now_ns = r->now;
	*r->h.tai_ns = r->tai;
	*r->h.tai_step_ns = r->tai_step;
	*r->h.reason = 0xffffffffu;
	ret = bpf_prog_test_run_opts(r->prog, &o);
	if (ret < 0) {
		fprintf(stderr, "guard-test: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return -1;
	}
	*outlen = o.data_size_out;
	return (int)o.retval;
}

/*
 * 1 when the program may answer from the published state at the rig's
 * next receive time: stable, on, no leap second announced, fresh.
 */
static int rig_serving(struct gt_rig *r)
{
	const struct guard_serve *v = &r->serve;

	if (atomic_load(&guard_state_area(r->g)->seq) & 1)
		return 0;
	if (!v->on || (v->leap != NTP_LEAP_NONE && v->leap != NTP_LEAP_UNSYNC))
		return 0;
	return r->tai >= v->pub_tai_ns && r->tai - v->pub_tai_ns <= GUARD_SERVE_MAX_AGE_NS;
}

/*
 * 1 when the request PAY of PLEN bytes may be an RFC 9769 interleaved one
 * (version 4, an origin, receive != transmit): the workers answer those.
 */
static int maybe_interleaved(const uint8_t *pay, size_t plen)
{
	uint64_t org, rec, xmt;

	if (plen < NTP_HEADER_LEN)
		return 1;
	if (((pay[0] >> 3) & 7) != 4)
		return 0;
	ntp_request_stamps(pay, &org, &rec, &xmt);
	return org != 0 && rec != xmt;
}

/* What the reference says about FRAME: the counter index, the action, and the parse. */
uint32_t gt_reference(struct gt_rig *r, const uint8_t *frame, size_t len, struct fr_parsed *p,
		      int *action)
{
	enum ntp_reason reason;
	int for_us;

	fr_parse(frame, len, ports, 2, p);
	*action = XDP_PASS_;
	switch (p->kind) {
	case FR_OTHER:
		return GUARD_C_PASS_OTHER;
	case FR_INVALID:
		return GUARD_C_PASS_INVALID;
	case FR_FRAGMENT:
		return GUARD_C_PASS_FRAGMENT;
	case FR_FIRST_FRAG:
		*action = XDP_DROP_;
		if (!acl_check(&r->acl, (struct sockaddr *)&p->src))
			return NTP_R_DROP_DENIED;
		if (r->rl && rl_charge(r->rl, (struct sockaddr *)&p->src, r->now, 0) == RL_DROP)
			return NTP_R_DROP_RATE;
		*action = XDP_PASS_;
		return GUARD_C_PASS_FRAGMENT;
	case FR_NTP:
		break;
	}
	if (p->plen > GUARD_MAX_PAYLOAD) {
		*action = XDP_DROP_;
		return NTP_R_DROP_TRUNCATED;
	}
	reason = pol_decide(&r->pol, p->payload, p->plen, (struct sockaddr *)&p->src, r->now);
	for_us = fr_for_us(frame, p, &r->host, r->cfg.listen, (int)r->cfg.n_listen, r->ifindex);
	if (reason == NTP_R_REPLY_KOD_RATE || reason == NTP_R_REPLY_KOD_DENY) {
		/* A kiss-o'-death only to a request for us; else the drop it stands for. */
		*action = for_us ? XDP_TX_ : XDP_DROP_;
		if (!for_us)
			return reason == NTP_R_REPLY_KOD_RATE ? NTP_R_DROP_RATE : NTP_R_DROP_DENIED;
	} else if (!ntp_reason_is_reply(reason) && reason != NTP_R_CONTROL) {
		*action = XDP_DROP_;
	} else if (reason == NTP_R_REPLY_SERVER && (r->cfg.flags & GUARD_F_SERVE) && for_us &&
		   fr_intact(frame, p) && !maybe_interleaved(p->payload, p->plen) &&
		   rig_serving(r)) {
		*action = XDP_TX_;
		return GUARD_C_SERVED;
	}
	return (uint32_t)reason;
}

const char *gt_action_name(int a)
{
	static const char *const names[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};

	return a >= 0 && a <= 4 ? names[a] : "?";
}

/* Sum the guard's counters; 0 or -1. */
int gt_counters(struct gt_rig *r, struct guard_stats *st)
{
	return guard_stats_read_fd(guard_map_fd(r->g, GUARD_PIN_COUNTERS), st) < 0 ? -1 : 0;
}

const uint8_t gt_mac_srv[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t gt_mac_cli[6] = {0x02, 0, 0, 0, 0, 0x02};

/* An NTP request payload of LEN bytes: LVM first, a recognisable transmit timestamp. */
size_t gt_ntp_req(uint8_t *p, size_t len, uint8_t lvm)
{
	size_t i;

	memset(p, 0, len);
	if (len > 0)
		p[0] = lvm;
	if (len > 2)
		p[2] = 6;
	for (i = 40; i < 48 && i < len; i++)
		p[i] = (uint8_t)(0xA0 + i);
	return len;
}

/* A spec for UDP from SRC to the first served port, IPv4 or IPv6 by the literal. */
void gt_spec_udp(struct fr_spec *s, const char *src, const uint8_t *pay, size_t plen)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, gt_mac_srv, 6);
	memcpy(s->smac, gt_mac_cli, 6);
	if (inet_pton(AF_INET, src, s->src) == 1) {
		s->ethertype = 0x0800;
		inet_pton(AF_INET, "192.0.2.1", s->dst);
	} else {
		inet_pton(AF_INET6, src, s->src);
		inet_pton(AF_INET6, "2001:db8::1", s->dst);
		s->ethertype = 0x86DD;
		s->v6 = 1;
	}
	s->proto = 17;
	s->sport = 40000;
	s->dport = PORT_A;
	s->payload = pay;
	s->plen = plen;
}

void gt_publish(struct gt_rig *r, const struct clk_snapshot *s, const struct guard_clocks *at)
{
	guard_serve_fill(&r->serve, s, at);
	guard_state_store(guard_state_area(r->g), &r->serve, &r->host, &r->phc);
}

void gt_publish_host(struct gt_rig *r)
{
	memset(&r->serve, 0, sizeof(r->serve));
	guard_state_store(guard_state_area(r->g), &r->serve, &r->host, &r->phc);
}

void gt_worker_reply(const struct clk_snapshot *s, const uint8_t *req, int64_t rx_sys,
		     int64_t tx_sys, uint8_t out[NTP_HEADER_LEN])
{
	struct ntp_reply_info info;
	int64_t rx_ns, tx_ns;

	rx_ns = clk_snapshot_served(s, rx_sys);
	info.leap = s->leap;
	info.stratum = s->stratum;
	info.precision = s->precision;
	info.root_delay = ntp_short_from_double(s->root_delay);
	info.refid = s->refid;
	info.ref = ntp_ref_from_unix_ns(s->ref_ns);
	tx_ns = clk_snapshot_served(s, tx_sys);
	info.root_disp = ntp_short_from_double(clk_snapshot_root_disp(s, tx_ns));
	ntp_build_reply(req, &info, ntp_ts_from_unix_ns(rx_ns), ntp_ts_from_unix_ns(tx_ns), out);
}

const char *gt_compare_reply(const uint8_t *got, const uint8_t *want, char *buf, size_t len)
{
	struct ntp_packet g, w;

	ntp_decode(got, NTP_HEADER_LEN, &g);
	ntp_decode(want, NTP_HEADER_LEN, &w);
#define GT_FIELD(f, fmt, cast)                                                                     \
	if (g.f != w.f) {                                                                          \
		snprintf(buf, len, "%s: guard " fmt ", worker " fmt, #f, (cast)g.f, (cast)w.f);    \
		return buf;                                                                        \
	}
	GT_FIELD(leap, "%u", unsigned int)
	GT_FIELD(version, "%u", unsigned int)
	GT_FIELD(mode, "%u", unsigned int)
	GT_FIELD(stratum, "%u", unsigned int)
	GT_FIELD(poll, "%d", int)
	GT_FIELD(precision, "%d", int)
	GT_FIELD(root_delay, "0x%08x", unsigned int)
	GT_FIELD(refid, "0x%08x", unsigned int)
	GT_FIELD(ref, "0x%016llx", unsigned long long)
	GT_FIELD(org, "0x%016llx", unsigned long long)
	GT_FIELD(rec, "0x%016llx", unsigned long long)
	GT_FIELD(xmt, "0x%016llx", unsigned long long)
#undef GT_FIELD
	if (g.root_disp < w.root_disp || g.root_disp - w.root_disp > 1) {
		snprintf(buf, len,
			 "root_disp: guard 0x%08x, worker 0x%08x (want the worker's or 1 more)",
			 g.root_disp, w.root_disp);
		return buf;
	}
	return NULL;
}
