/*
 * Tests of the XDP guard through BPF_PROG_TEST_RUN (no interface needed):
 *
 *   guard-test unit           named asserts on verdict, reason, output
 *                             frame and counters: one crafted frame per class
 *   guard-test diff [--seed N] [--count N]
 *                             N (default 1000000) seeded random and mutated
 *                             frames through the program and through the
 *                             userspace reference (frames.c + policy.c +
 *                             ratelimit.c): same verdict and reason for
 *                             every frame, same kiss-o'-death bytes, same
 *                             counters at the end
 *   guard-test bench [--repeat N]
 *                             ns per frame for a dropped and a passed frame
 *   guard-test xdp-pass IFACE attach the pass-everything program to IFACE
 *                             (native) and exit: the peer of a veth that
 *                             receives XDP_TX frames needs one
 *
 * The program is loaded with GUARD_F_TEST: its clock is a variable the
 * test sets before each frame, and it records each verdict's reason. Ends
 * with `N passed, N failed`; exits 0, 1 on a failure, 77 without the
 * privilege to load BPF (a SKIP line says so), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "daemon/acl.h"
#include "daemon/policy.h"
#include "daemon/ratelimit.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"

#define SEC	     1000000000ULL /* ns */
#define T0	     (1000 * SEC)  /* the test clock's start: far from 0 */
#define DIFF_COUNT   1000000	   /* frames in the differential test by default */
#define DIFF_MAX     50000000	   /* frames at most */
#define MAX_REPORTS  10		   /* mismatches printed in full */
#define PORT_A	     123	   /* the served ports */
#define PORT_B	     11123
#define XDP_ABORTED_ 0 /* XDP actions (retval of a test run) */
#define XDP_DROP_    1
#define XDP_PASS_    2
#define XDP_TX_	     3

static int n_pass, n_fail;

static const uint16_t ports[2] = {PORT_A, PORT_B};

/* A named assert: prints PASS/FAIL with the name, counts it. */
static int expect(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int expect(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass++;
		printf("PASS: %s\n", name);
		return 1;
	}
	n_fail++;
	printf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 0;
}

static void skip(const char *why)
{
	printf("SKIP: guard-test: %s\n", why);
	exit(77);
}

/* A loaded guard with the access lists, the limiter and the reference's state. */
struct rig {
	struct guard *g;
	struct guard_test_hooks h;
	struct guard_config cfg;
	struct acl acl, control;
	struct rl_limits lim;
	struct rl_table *rl;
	struct pol_rules pol;
	int prog;
	uint64_t now;
	uint64_t tally_packets[GUARD_NCOUNTERS], tally_bytes[GUARD_NCOUNTERS];
};

struct rig_conf {
	const char *allow[8], *deny[8], *control[8];
	int ratelimit, interval, burst, leak, kod, deny_kod;
};

static int rig_add(struct rig *r, struct acl *a, const char *text, int allow, enum guard_list list)
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

/* Load the guard for C (test mode) and set up the reference the same way. */
static void rig_open(struct rig *r, const struct rig_conf *c)
{
	char err[256];
	int i, ret;

	memset(r, 0, sizeof(*r));
	rl_limits_set(&r->lim, c->ratelimit, c->interval, c->burst, c->leak, c->kod);
	r->cfg.ports[0] = htons(PORT_A);
	r->cfg.ports[1] = htons(PORT_B);
	r->cfg.n_ports = 2;
	r->cfg.flags = GUARD_F_TEST | (c->ratelimit ? GUARD_F_RATELIMIT : 0) |
		       (c->ratelimit && c->kod ? GUARD_F_RATE_KOD : 0) |
		       (c->deny_kod ? GUARD_F_DENY_KOD : 0) |
		       (c->allow[0] ? GUARD_F_HAVE_ALLOW : 0);
	r->cfg.interval_ns = r->lim.interval_ns;
	r->cfg.tau_ns = r->lim.tau_ns;
	r->cfg.kod_interval_ns = r->lim.kod_interval_ns;
	r->cfg.leak_mask = r->lim.leak_mask;
	ret = guard_open(&r->g, &r->cfg, err, sizeof(err));
	if (ret == -EPERM || ret == -EACCES)
		skip("no privilege to load BPF programs (needs root or CAP_BPF + CAP_NET_ADMIN)");
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
}

static void rig_close(struct rig *r)
{
	guard_close(r->g);
	rl_destroy(r->rl);
	acl_free(&r->acl);
	acl_free(&r->control);
}

/* Run FRAME through the program at the rig's time; the XDP action; OUT gets the frame after. */
static int run(struct rig *r, const uint8_t *frame, size_t len, uint8_t *out, size_t *outlen)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = FR_MAX + 256, .repeat = 1);
	int ret;

	*r->h.now_ns = r->now;
	*r->h.reason = 0xffffffffu;
	ret = bpf_prog_test_run_opts(r->prog, &o);
	if (ret < 0) {
		fprintf(stderr, "guard-test: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return -1;
	}
	*outlen = o.data_size_out;
	return (int)o.retval;
}

/* What the reference says about FRAME: the counter index, the action, and the parse. */
static uint32_t reference(struct rig *r, const uint8_t *frame, size_t len, struct fr_parsed *p,
			  int *action)
{
	enum ntp_reason reason;

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
	if (reason == NTP_R_REPLY_KOD_RATE || reason == NTP_R_REPLY_KOD_DENY)
		*action = XDP_TX_;
	else if (!ntp_reason_is_reply(reason) && reason != NTP_R_CONTROL)
		*action = XDP_DROP_;
	return (uint32_t)reason;
}

static const char *action_name(int a)
{
	static const char *const names[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};

	return a >= 0 && a <= 4 ? names[a] : "?";
}

/* Sum the guard's counters; 0 or -1. */
static int counters(struct rig *r, struct guard_stats *st)
{
	return guard_stats_read_fd(guard_map_fd(r->g, GUARD_PIN_COUNTERS), st) < 0 ? -1 : 0;
}

/* ---- unit: one crafted frame per class ---- */

static const uint8_t MAC_SRV[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t MAC_CLI[6] = {0x02, 0, 0, 0, 0, 0x02};

/* An NTP request payload of LEN bytes: LVM first, a recognisable transmit timestamp. */
static size_t ntp_req(uint8_t *p, size_t len, uint8_t lvm)
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
static void spec_udp(struct fr_spec *s, const char *src, const uint8_t *pay, size_t plen)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, MAC_SRV, 6);
	memcpy(s->smac, MAC_CLI, 6);
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

/*
 * Run S through the program and check the action and the reason, and that
 * the reference agrees. For PASS and DROP the frame must come back as it
 * went; for TX it must be the kiss-o'-death CODE.
 */
static void unit_case(struct rig *r, const char *name, const struct fr_spec *s, int want_action,
		      uint32_t want_reason, const char *code)
{
	uint8_t frame[FR_MAX], out[FR_MAX + 256];
	struct fr_parsed p;
	size_t len = fr_build(s, frame), outlen;
	int action, ref_action;
	uint32_t ref_reason, got;
	const char *why;

	if (!len) {
		expect(0, name, "the frame should fit in %d bytes", FR_MAX);
		return;
	}
	action = run(r, frame, len, out, &outlen);
	got = *r->h.reason;
	ref_reason = reference(r, frame, len, &p, &ref_action);
	if (action >= 0) {
		r->tally_packets[got < GUARD_NCOUNTERS ? got : 0]++;
		r->tally_bytes[got < GUARD_NCOUNTERS ? got : 0] += len;
	}
	if (action != want_action || got != want_reason) {
		expect(0, name, "should be %s %s, got %s %s", action_name(want_action),
		       guard_counter_name(want_reason), action_name(action),
		       guard_counter_name(got));
		return;
	}
	if (ref_action != want_action || ref_reason != want_reason) {
		expect(0, name, "the reference should agree, says %s %s", action_name(ref_action),
		       guard_counter_name(ref_reason));
		return;
	}
	if (want_action == XDP_TX_) {
		why = fr_check_kod(frame, &p, out, outlen, code);
		expect(why == NULL, name, "%s", why ? why : "");
		return;
	}
	expect(outlen == len && memcmp(out, frame, len) == 0, name,
	       "the frame should come back untouched");
}

static void unit_malformed(struct rig *r)
{
	static const struct {
		const char *name;
		uint8_t lvm;
		size_t len;
		uint32_t reason;
	} cases[] = {
		{"malformed: 20-byte request is drop_short", 0x23, 20, NTP_R_DROP_SHORT},
		{"malformed: empty payload is drop_short", 0x23, 0, NTP_R_DROP_SHORT},
		{"malformed: 50-byte request is drop_length", 0x23, 50, NTP_R_DROP_LENGTH},
		{"malformed: VN 0 is drop_version", 0x03, 48, NTP_R_DROP_VERSION},
		{"malformed: VN 5 is drop_version", 0x2B, 48, NTP_R_DROP_VERSION},
		{"malformed: mode 0 is drop_mode_reserved", 0x20, 48, NTP_R_DROP_MODE_RESERVED},
		{"malformed: mode 2 is drop_mode_passive", 0x22, 48, NTP_R_DROP_MODE_PASSIVE},
		{"malformed: mode 4 is drop_mode_server", 0x24, 48, NTP_R_DROP_MODE_SERVER},
		{"malformed: mode 5 is drop_mode_broadcast", 0x25, 48, NTP_R_DROP_MODE_BROADCAST},
		{"malformed: mode 7 (8 bytes) is drop_mode_private", 0x17, 8,
		 NTP_R_DROP_MODE_PRIVATE},
		{"malformed: mode 6 from a non-control source is drop_mode_control", 0x16, 12,
		 NTP_R_DROP_MODE_CONTROL},
		{"malformed: 8 bytes after the header is drop_extension", 0x23, 56,
		 NTP_R_DROP_EXTENSION},
		{"malformed: 1748-byte payload is drop_truncated", 0x23, 1748,
		 NTP_R_DROP_TRUNCATED},
	};
	uint8_t pay[2048];
	struct fr_spec s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spec_udp(&s, "192.0.2.10", pay, ntp_req(pay, cases[i].len, cases[i].lvm));
		unit_case(r, cases[i].name, &s, XDP_DROP_, cases[i].reason, NULL);
	}
	/* An extension field whose length runs past the end. */
	ntp_req(pay, 64, 0x23);
	pay[48] = 0xF0;
	pay[50] = 0;
	pay[51] = 32;
	spec_udp(&s, "192.0.2.10", pay, 64);
	unit_case(r, "malformed: extension field past the end is drop_extension", &s, XDP_DROP_,
		  NTP_R_DROP_EXTENSION, NULL);
	/* Valid: one 16-byte field then a 20-byte MAC. */
	ntp_req(pay, 48 + 16 + 20, 0x23);
	pay[51] = 16;
	spec_udp(&s, "192.0.2.10", pay, 48 + 16 + 20);
	unit_case(r, "valid: extension field and MAC pass as reply_server", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);
}

static void unit_classes(struct rig *r)
{
	uint8_t pay[64];
	struct fr_spec s;

	ntp_req(pay, 48, 0x23);
	spec_udp(&s, "192.0.2.11", pay, 48);
	unit_case(r, "allowed: IPv4 mode 3 passes as reply_server", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);
	ntp_req(pay, 48, 0x09); /* VN 1, mode 1 */
	spec_udp(&s, "192.0.2.11", pay, 48);
	unit_case(r, "allowed: IPv4 mode 1 VN 1 passes as reply_symmetric", &s, XDP_PASS_,
		  NTP_R_REPLY_SYMMETRIC, NULL);
	ntp_req(pay, 48, 0x23);
	spec_udp(&s, "2001:db8:5::7", pay, 48);
	unit_case(r, "allowed: IPv6 mode 3 passes as reply_server", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);
	s.dport = PORT_B;
	unit_case(r, "allowed: the second served port is classified too", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);

	spec_udp(&s, "192.0.2.66", pay, 48);
	unit_case(r, "denied: IPv4 source is drop_denied", &s, XDP_DROP_, NTP_R_DROP_DENIED, NULL);
	spec_udp(&s, "2001:db8:66:1::1", pay, 48);
	unit_case(r, "denied: IPv6 prefix is drop_denied", &s, XDP_DROP_, NTP_R_DROP_DENIED, NULL);
	spec_udp(&s, "::ffff:192.0.2.66", pay, 48);
	unit_case(r, "denied: IPv4-mapped IPv6 source is checked as IPv4", &s, XDP_DROP_,
		  NTP_R_DROP_DENIED, NULL);
	ntp_req(pay, 20, 0x23);
	spec_udp(&s, "192.0.2.66", pay, 20);
	unit_case(r, "denied: a short request from a denied source counts as short", &s, XDP_DROP_,
		  NTP_R_DROP_SHORT, NULL);

	ntp_req(pay, 12, 0x16);
	spec_udp(&s, "127.0.0.1", pay, 12);
	unit_case(r, "control: mode 6 from 127.0.0.1 passes as control", &s, XDP_PASS_,
		  NTP_R_CONTROL, NULL);
	spec_udp(&s, "::1", pay, 12);
	unit_case(r, "control: mode 6 from ::1 passes as control", &s, XDP_PASS_, NTP_R_CONTROL,
		  NULL);
	spec_udp(&s, "198.51.100.9", pay, 12);
	unit_case(r, "control: mode 6 from `control allow` passes as control", &s, XDP_PASS_,
		  NTP_R_CONTROL, NULL);
	spec_udp(&s, "2001:db8:c::5", pay, 12);
	unit_case(r, "control: mode 6 from an IPv6 `control allow` passes as control", &s,
		  XDP_PASS_, NTP_R_CONTROL, NULL);

	/* L2 and L3 variants. */
	ntp_req(pay, 48, 0x23);
	spec_udp(&s, "192.0.2.12", pay, 48);
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 42;
	unit_case(r, "VLAN: one 802.1Q tag is parsed", &s, XDP_PASS_, NTP_R_REPLY_SERVER, NULL);
	s.nvlan = 2;
	s.tpid[0] = 0x88A8;
	s.tpid[1] = 0x8100;
	s.tci[1] = 7;
	unit_case(r, "VLAN: 802.1ad + 802.1Q tags are parsed", &s, XDP_PASS_, NTP_R_REPLY_SERVER,
		  NULL);
	s.nvlan = 3;
	s.tpid[2] = 0x8100;
	unit_case(r, "VLAN: a third tag is passed as pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER,
		  NULL);
	spec_udp(&s, "192.0.2.12", pay, 48);
	s.optlen = 12;
	unit_case(r, "IPv4 options: a 32-byte header is parsed", &s, XDP_PASS_, NTP_R_REPLY_SERVER,
		  NULL);
	s.optlen = 40;
	ntp_req(pay, 24, 0x23);
	s.plen = 24;
	unit_case(r, "IPv4 options: 40 option bytes, short payload is drop_short", &s, XDP_DROP_,
		  NTP_R_DROP_SHORT, NULL);
	ntp_req(pay, 48, 0x23);
	spec_udp(&s, "2001:db8:5::7", pay, 48);
	s.n_ext = 2;
	s.ext_type[0] = 0;
	s.ext_len[0] = 8;
	s.ext_type[1] = 60;
	s.ext_len[1] = 24;
	unit_case(r, "IPv6: hop-by-hop and destination options are walked", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);

	/* Fragments. */
	spec_udp(&s, "192.0.2.13", pay, 48);
	s.frag = 2;
	unit_case(r, "fragments: a later IPv4 fragment is pass_fragment", &s, XDP_PASS_,
		  GUARD_C_PASS_FRAGMENT, NULL);
	s.frag = 1;
	unit_case(r, "fragments: a first IPv4 fragment from an allowed source is pass_fragment", &s,
		  XDP_PASS_, GUARD_C_PASS_FRAGMENT, NULL);
	spec_udp(&s, "192.0.2.66", pay, 48);
	s.frag = 1;
	unit_case(r, "fragments: a first IPv4 fragment from a denied source is drop_denied", &s,
		  XDP_DROP_, NTP_R_DROP_DENIED, NULL);
	spec_udp(&s, "2001:db8:5::8", pay, 48);
	s.n_ext = 1;
	s.ext_type[0] = 44;
	s.frag = 2;
	unit_case(r, "fragments: a later IPv6 fragment is pass_fragment", &s, XDP_PASS_,
		  GUARD_C_PASS_FRAGMENT, NULL);
	s.frag = 1;
	unit_case(r, "fragments: a first IPv6 fragment from an allowed source is pass_fragment", &s,
		  XDP_PASS_, GUARD_C_PASS_FRAGMENT, NULL);
	s.frag = 0;
	unit_case(r, "fragments: an IPv6 atomic fragment (offset 0, no MF) is classified", &s,
		  XDP_PASS_, NTP_R_REPLY_SERVER, NULL);

	/* Not NTP: untouched. */
	spec_udp(&s, "192.0.2.14", pay, 48);
	s.dport = 53;
	unit_case(r, "other: UDP to port 53 is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER,
		  NULL);
	spec_udp(&s, "192.0.2.14", pay, 48);
	s.proto = 6;
	unit_case(r, "other: TCP to port 123 is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER,
		  NULL);
	spec_udp(&s, "192.0.2.14", pay, 48);
	s.ethertype = 0x0806;
	unit_case(r, "other: ARP is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER, NULL);
	spec_udp(&s, "2001:db8:5::9", pay, 48);
	s.proto = 58;
	unit_case(r, "other: ICMPv6 is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER, NULL);
}

/* Truncated and inconsistent headers: built, then cut or bent. */
static void unit_invalid(struct rig *r)
{
	uint8_t pay[64], frame[FR_MAX], out[FR_MAX + 256];
	struct fr_spec s;
	size_t len, outlen;
	int action;

	ntp_req(pay, 48, 0x23);
	spec_udp(&s, "192.0.2.15", pay, 48);
	len = fr_build(&s, frame);
	action = run(r, frame, 30, out, &outlen);
	r->tally_packets[GUARD_C_PASS_INVALID]++;
	r->tally_bytes[GUARD_C_PASS_INVALID] += 30;
	expect(action == XDP_PASS_ && *r->h.reason == GUARD_C_PASS_INVALID,
	       "invalid: a truncated IPv4 header is pass_invalid", "got %s %s", action_name(action),
	       guard_counter_name(*r->h.reason));
	frame[14 + 3] = (uint8_t)(frame[14 + 3] + 40); /* IP total length past the frame */
	action = run(r, frame, len, out, &outlen);
	r->tally_packets[GUARD_C_PASS_INVALID]++;
	r->tally_bytes[GUARD_C_PASS_INVALID] += len;
	expect(action == XDP_PASS_ && *r->h.reason == GUARD_C_PASS_INVALID,
	       "invalid: an IPv4 length past the frame is pass_invalid", "got %s %s",
	       action_name(action), guard_counter_name(*r->h.reason));
}

/* Burst, leak, RATE kiss-o'-death, DENY kiss-o'-death (a rig with kod and denykod). */
static void unit_rate(void)
{
	struct rig_conf c = {.deny = {"192.0.2.66", "2001:db8:66::/48"},
			     .ratelimit = 1,
			     .interval = 4, /* 16 s */
			     .burst = 3,
			     .leak = 2,
			     .kod = 1,
			     .deny_kod = 1};
	uint8_t pay[128];
	struct fr_spec s;
	struct rig r;
	char name[128];
	int i;

	rig_open(&r, &c);
	ntp_req(pay, 48, 0x23);
	spec_udp(&s, "192.0.2.20", pay, 48);
	for (i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "rate: request %d of a burst of 3 passes", i);
		unit_case(&r, name, &s, XDP_PASS_, NTP_R_REPLY_SERVER, NULL);
	}
	unit_case(&r, "rate: the 4th request gets a RATE kiss-o'-death (IPv4)", &s, XDP_TX_,
		  NTP_R_REPLY_KOD_RATE, "RATE");
	unit_case(&r, "rate: the 5th is over rate, the KoD is spaced: drop_rate", &s, XDP_DROP_,
		  NTP_R_DROP_RATE, NULL);
	unit_case(&r, "rate: the 6th is over rate: drop_rate", &s, XDP_DROP_, NTP_R_DROP_RATE,
		  NULL);
	unit_case(&r, "rate: the 7th (4th over) leaks: reply_server", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);
	r.now += 16 * SEC;
	unit_case(&r, "rate: one interval later one more passes", &s, XDP_PASS_, NTP_R_REPLY_SERVER,
		  NULL);
	unit_case(&r, "rate: and the next gets a RATE KoD again", &s, XDP_TX_, NTP_R_REPLY_KOD_RATE,
		  "RATE");

	/* KoD variants: IPv6 with an extension header, VLAN tags, IPv4 options, mode 1. */
	spec_udp(&s, "2001:db8:7::1", pay, 48);
	s.n_ext = 1;
	s.ext_type[0] = 60;
	s.ext_len[0] = 16;
	for (i = 0; i < 3; i++)
		unit_case(&r, "rate: IPv6 burst passes", &s, XDP_PASS_, NTP_R_REPLY_SERVER, NULL);
	unit_case(&r, "rate: a RATE KoD for IPv6 drops the extension header", &s, XDP_TX_,
		  NTP_R_REPLY_KOD_RATE, "RATE");
	spec_udp(&s, "2001:db8:7::2", pay, 48);
	unit_case(&r, "rate: the same /64 shares the limit", &s, XDP_DROP_, NTP_R_DROP_RATE, NULL);

	ntp_req(pay, 48 + 24, 0x0B); /* VN 1, mode 3, with a 24-byte MAC */
	spec_udp(&s, "192.0.2.21", pay, 48 + 24);
	s.nvlan = 2;
	s.tpid[0] = 0x88A8;
	s.tci[0] = 100;
	s.tpid[1] = 0x8100;
	s.tci[1] = 200;
	s.optlen = 8;
	for (i = 0; i < 3; i++)
		unit_case(&r, "rate: tagged burst passes", &s, XDP_PASS_, NTP_R_REPLY_SERVER, NULL);
	unit_case(&r, "rate: a RATE KoD keeps both VLAN tags, drops IPv4 options and the MAC", &s,
		  XDP_TX_, NTP_R_REPLY_KOD_RATE, "RATE");

	ntp_req(pay, 48, 0x21); /* mode 1 */
	spec_udp(&s, "192.0.2.66", pay, 48);
	unit_case(&r, "deny: a denied mode 1 gets a DENY KoD in mode 2", &s, XDP_TX_,
		  NTP_R_REPLY_KOD_DENY, "DENY");
	unit_case(&r, "deny: the next DENY KoD waits for the interval: drop_denied", &s, XDP_DROP_,
		  NTP_R_DROP_DENIED, NULL);
	ntp_req(pay, 48, 0x23);
	spec_udp(&s, "2001:db8:66::9", pay, 48);
	unit_case(&r, "deny: a denied IPv6 source gets a DENY KoD", &s, XDP_TX_,
		  NTP_R_REPLY_KOD_DENY, "DENY");

	/* The leak ratio over many requests: leak 2 lets 1 in 4 over-rate through. */
	{
		uint8_t frame[FR_MAX], out[FR_MAX + 256];
		size_t len, outlen;
		int passed = 0, kods = 0, a;

		ntp_req(pay, 48, 0x23);
		spec_udp(&s, "192.0.2.30", pay, 48);
		len = fr_build(&s, frame);
		for (i = 0; i < 3 + 400; i++) {
			a = run(&r, frame, len, out, &outlen);
			passed += a == XDP_PASS_;
			kods += a == XDP_TX_;
			r.tally_packets[*r.h.reason]++;
			r.tally_bytes[*r.h.reason] += len;
		}
		expect(passed == 3 + 100 && kods == 1, "rate: the leak ratio is 1 in 4 exactly",
		       "3 + 400 requests should pass 103 and KoD 1, passed %d, KoD %d", passed,
		       kods);
	}

	/* Counters: every verdict above, by reason, packets and bytes. */
	{
		struct guard_stats st;
		int k, ok = counters(&r, &st) == 0;

		for (k = 0; ok && k < GUARD_NCOUNTERS; k++)
			if (st.packets[k] != r.tally_packets[k] || st.bytes[k] != r.tally_bytes[k])
				ok = 0;
		expect(ok, "counters: packets and bytes per reason equal what was sent",
		       "counter %s: %llu packets %llu bytes, want %llu %llu",
		       guard_counter_name((unsigned int)(k ? k - 1 : 0)),
		       (unsigned long long)st.packets[k ? k - 1 : 0],
		       (unsigned long long)st.bytes[k ? k - 1 : 0],
		       (unsigned long long)r.tally_packets[k ? k - 1 : 0],
		       (unsigned long long)r.tally_bytes[k ? k - 1 : 0]);
	}

	/* Talkers: the denied and over-rate sources, with their counts. */
	{
		struct guard_talker_row rows[16];
		int n = guard_talkers_read_fd(guard_map_fd(r.g, GUARD_PIN_TALKERS), rows, 16);
		uint8_t a30[4];

		inet_pton(AF_INET, "192.0.2.30", a30);
		expect(n == 7, "talkers: seven denied or over-rate addresses are listed",
		       "listed %d", n);
		expect(n > 0 && rows[0].addr.family == GUARD_FAMILY_V4 &&
			       memcmp(rows[0].addr.addr, a30, 4) == 0 && rows[0].t.packets == 300 &&
			       rows[0].t.last_reason == NTP_R_DROP_RATE,
		       "talkers: the top talker is 192.0.2.30 with 300 over-rate drops",
		       "top: family %u, %llu packets, last %s", n > 0 ? rows[0].addr.family : 0,
		       n > 0 ? (unsigned long long)rows[0].t.packets : 0ULL,
		       n > 0 ? guard_counter_name(rows[0].t.last_reason) : "-");
	}
	rig_close(&r);
}

static int do_unit(void)
{
	struct rig_conf c = {.deny = {"192.0.2.66", "2001:db8:66::/48"},
			     .control = {"198.51.100.0/24", "2001:db8:c::/64"}};
	struct rig r;

	rig_open(&r, &c);
	unit_malformed(&r);
	unit_classes(&r);
	unit_invalid(&r);
	{
		struct guard_stats st;
		int k, ok = counters(&r, &st) == 0;

		for (k = 0; ok && k < GUARD_NCOUNTERS; k++)
			ok = st.packets[k] == r.tally_packets[k] && st.bytes[k] == r.tally_bytes[k];
		expect(ok, "counters: one per frame, by reason, with its bytes",
		       "counter %d differs", k - 1);
	}
	rig_close(&r);

	/* An allow list: what it does not match is denied. */
	{
		struct rig_conf ca = {.allow = {"192.0.2.0/28", "2001:db8:a::/64"}};
		uint8_t pay[64];
		struct fr_spec s;

		rig_open(&r, &ca);
		ntp_req(pay, 48, 0x23);
		spec_udp(&s, "192.0.2.5", pay, 48);
		unit_case(&r, "allow list: a listed IPv4 source passes", &s, XDP_PASS_,
			  NTP_R_REPLY_SERVER, NULL);
		spec_udp(&s, "192.0.2.17", pay, 48);
		unit_case(&r, "allow list: an unlisted IPv4 source is drop_denied", &s, XDP_DROP_,
			  NTP_R_DROP_DENIED, NULL);
		spec_udp(&s, "2001:db8:a::99", pay, 48);
		unit_case(&r, "allow list: a listed IPv6 source passes", &s, XDP_PASS_,
			  NTP_R_REPLY_SERVER, NULL);
		spec_udp(&s, "2001:db8:b::1", pay, 48);
		unit_case(&r, "allow list: an unlisted IPv6 source is drop_denied", &s, XDP_DROP_,
			  NTP_R_DROP_DENIED, NULL);
		rig_close(&r);
	}
	unit_rate();
	return n_fail ? 1 : 0;
}

/* ---- diff: random and mutated frames against the reference ---- */

/* splitmix64: small, seedable, good enough to pick frames. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in 0..N-1. */
static uint32_t pick(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* The source pool: few enough that the limiter bites, varied enough to hit every rule. */
static const char *const pool4[] = {
	"192.0.2.1",	"192.0.2.2",  "192.0.2.3",   "192.0.2.4",     "192.0.2.5",
	"192.0.2.66",	"192.0.2.67", "203.0.113.1", "203.0.113.200", "198.51.100.5",
	"198.51.100.6", "127.0.0.1",  "127.0.0.9",   "10.1.2.3",      "0.0.0.0",
};
static const char *const pool6[] = {
	"2001:db8:1::1",     "2001:db8:1::2", "2001:db8:2::1",	   "2001:db8:66::1",
	"2001:db8:66:ff::2", "::1",	      "::ffff:192.0.2.66", "::ffff:192.0.2.3",
	"fe80::1",	     "2001:db8:c::9", "2001:db8:a::5",	   "::ffff:127.0.0.1",
};

/* A random NTP-ish payload into P (room for 2048 bytes); its length. */
static size_t gen_payload(uint8_t *p)
{
	static const uint8_t vns[] = {4, 4, 4, 4, 3, 2, 1, 0, 5, 6, 7};
	static const uint8_t modes[] = {3, 3, 3, 3, 3, 1, 1, 0, 2, 4, 5, 6, 7};
	static const size_t macs[] = {0, 0, 0, 4, 20, 24};
	size_t len, i, n;
	uint32_t k = pick(100);

	if (k < 55) {
		/* A well-formed request: header, 0-3 extension fields, maybe a MAC. */
		len = 48;
		memset(p, 0, 48);
		n = pick(4) == 0 ? pick(4) : 0;
		for (i = 0; i < n && len < 1600; i++) {
			size_t f = 16 + 4 * pick(pick(10) == 0 ? 60 : 8);

			memset(p + len, 0, f);
			p[len] = (uint8_t)pick(256);
			p[len + 2] = (uint8_t)(f >> 8);
			p[len + 3] = (uint8_t)f;
			len += f;
		}
		n = macs[pick(6)];
		for (i = 0; i < n; i++)
			p[len + i] = (uint8_t)pick(256);
		len += n;
	} else if (k < 75) {
		/* Any length, mostly around the header size. */
		len = pick(10) == 0 ? pick(1800) : pick(80);
		for (i = 0; i < len; i++)
			p[i] = (uint8_t)(pick(4) ? 0 : pick(256));
	} else if (k < 90) {
		/* A header with broken extension fields. */
		len = 48 + 4 * pick(40);
		memset(p, 0, len);
		for (i = 48; i + 4 <= len; i += 4) {
			p[i + 2] = (uint8_t)(pick(8) == 0 ? pick(256) : 0);
			p[i + 3] = (uint8_t)(pick(3) == 0 ? 4 * pick(20) : pick(256));
		}
	} else {
		/* Large: near and past the classifier's limit. */
		len = GUARD_MAX_PAYLOAD - 48 + 4 * pick(40);
		memset(p, 0, len);
		if (pick(2)) {
			p[50] = (uint8_t)((len - 48) >> 8);
			p[51] = (uint8_t)(len - 48);
		}
	}
	if (len > 0 && k < 55 && pick(10))
		p[0] = (uint8_t)(pick(4) << 6 | (1 + pick(4)) << 3 | (pick(5) ? 3 : 1));
	else if (len > 0)
		p[0] = (uint8_t)(pick(4) << 6 | vns[pick(sizeof(vns))] << 3 |
				 modes[pick(sizeof(modes))]);
	for (i = 40; i < 48 && i < len; i++)
		p[i] = (uint8_t)pick(256);
	return len;
}

/*
 * Floods: now and then one source sends a run of requests in quick
 * succession, so the limiter's burst, leak and kiss-o'-death paths are
 * taken as often as the rest.
 */
static int flood_left;		/* frames left in the current flood */
static int flood_v6, flood_src; /* its source: pool and index */

/* A random frame into F; its length (>= 14). */
static size_t gen_frame(uint8_t *f)
{
	static uint8_t pay[2048];
	struct fr_spec s;
	uint32_t k = pick(100), i;
	size_t len;

	memset(&s, 0, sizeof(s));
	memcpy(s.dmac, MAC_SRV, 6);
	memcpy(s.smac, MAC_CLI, 6);
	if (!flood_left && pick(300) == 0) {
		flood_left = 20 + (int)pick(300);
		flood_v6 = pick(3) == 0;
		flood_src = (int)pick(flood_v6 ? sizeof(pool6) / sizeof(pool6[0])
					       : sizeof(pool4) / sizeof(pool4[0]));
	}
	s.v6 = flood_left ? flood_v6 : pick(3) == 0;
	if (flood_left) {
		flood_left--;
		if (s.v6)
			inet_pton(AF_INET6, pool6[flood_src], s.src);
		else
			inet_pton(AF_INET, pool4[flood_src], s.src);
		s.dst[0] = s.v6 ? 0x20 : 192;
		s.ethertype = s.v6 ? 0x86DD : 0x0800;
		s.proto = 17;
		s.sport = (uint16_t)(1024 + pick(60000));
		s.dport = PORT_A;
		s.payload = pay;
		s.plen = ntp_req(pay, 48, (uint8_t)(0x20 | (pick(6) ? 3 : 1)));
		for (i = 40; i < 48; i++)
			pay[i] = (uint8_t)pick(256);
		len = fr_build(&s, f);
		if (k < 5)
			f[pick((uint32_t)len)] ^= (uint8_t)(1 + pick(255));
		return len;
	}
	if (s.v6) {
		inet_pton(AF_INET6, pool6[pick(sizeof(pool6) / sizeof(pool6[0]))], s.src);
		inet_pton(AF_INET6, "2001:db8::1", s.dst);
		s.ethertype = 0x86DD;
	} else {
		inet_pton(AF_INET, pool4[pick(sizeof(pool4) / sizeof(pool4[0]))], s.src);
		inet_pton(AF_INET, "192.0.2.200", s.dst);
		s.ethertype = 0x0800;
	}
	s.proto = 17;
	s.sport = (uint16_t)(pick(5) == 0 ? 123 : 1024 + pick(60000));
	s.dport = pick(10) ? (pick(3) ? PORT_A : PORT_B) : (uint16_t)pick(65536);
	if (pick(12) == 0) {
		s.nvlan = 1 + (int)pick(3);
		for (i = 0; i < 3; i++) {
			s.tpid[i] = pick(2) ? 0x8100 : 0x88A8;
			s.tci[i] = (uint16_t)pick(4096);
		}
	}
	if (!s.v6 && pick(8) == 0)
		s.optlen = 4 * (int)pick(11);
	if (s.v6 && pick(6) == 0) {
		static const uint8_t types[] = {0, 43, 60, 44, 44, 6, 59};

		s.n_ext = 1 + (int)pick(5);
		for (i = 0; i < (uint32_t)s.n_ext; i++) {
			s.ext_type[i] = types[pick(sizeof(types))];
			s.ext_len[i] = 8 * (1 + (int)pick(pick(20) ? 4 : 200));
		}
	}
	if (pick(15) == 0)
		s.frag = 1 + (int)pick(2);
	if (pick(25) == 0)
		s.proto = (uint8_t)(pick(2) ? 6 : pick(256));
	if (pick(40) == 0)
		s.ethertype = (uint16_t)pick(65536);
	s.payload = pay;
	s.plen = gen_payload(pay);
	len = fr_build(&s, f);
	if (!len) {
		/* Too large for a test run: a plain 48-byte request instead. */
		s.plen = 48;
		s.n_ext = 0;
		len = fr_build(&s, f);
	}
	/* Mutations: flipped bytes, a cut, trailing padding. */
	if (k < 12) {
		for (i = 0; i < 1 + pick(3); i++)
			f[pick((uint32_t)len)] ^= (uint8_t)(1 + pick(255));
	} else if (k < 17) {
		len = 14 + pick((uint32_t)(len - 13));
	} else if (k < 22 && len + 64 < FR_MAX) {
		for (i = 0; i < 1 + pick(60); i++)
			f[len++] = (uint8_t)pick(256);
	} else if (k < 24) {
		len = 14 + pick(200);
		for (i = 12; i < len; i++)
			f[i] = (uint8_t)pick(256);
	}
	return len;
}

/* Print one mismatch in full. */
static void report(unsigned long idx, const uint8_t *f, size_t len, int a, uint32_t ra, int ea,
		   uint32_t er, const char *what)
{
	size_t i;

	printf("FAIL: %s: frame %lu: guard %s %s, reference %s %s\n    ", what, idx, action_name(a),
	       guard_counter_name(ra), action_name(ea), guard_counter_name(er));
	for (i = 0; i < len && i < 160; i++)
		printf("%02x%s", f[i], (i % 32 == 31) ? "\n    " : "");
	printf("%s\n", len > 160 ? " ..." : "");
}

/* Run COUNT frames through configuration C; returns mismatches. */
static unsigned long diff_run(const struct rig_conf *c, const char *name, unsigned long count,
			      unsigned long *reported)
{
	uint8_t frame[FR_MAX + 64], out[FR_MAX + 256], kod[FR_MAX];
	unsigned long i, bad = 0, tx = 0;
	struct guard_stats st;
	struct fr_parsed p;
	struct rig r;
	size_t len, outlen, klen;
	int a, ea, k;
	uint32_t ra, er;

	rig_open(&r, c);
	flood_left = 0;
	for (i = 0; i < count; i++) {
		/* Time moves by up to 2 ms in a flood; otherwise mostly by up to 1 ms, at times
		 * more. */
		k = (int)pick(100);
		r.now += flood_left ? rnd() % (2 * SEC / 1000)
			 : k < 80   ? rnd() % (SEC / 1000)
			 : k < 99   ? rnd() % (SEC / 10)
				    : rnd() % (10 * SEC);
		len = gen_frame(frame);
		a = run(&r, frame, len, out, &outlen);
		ra = *r.h.reason;
		er = reference(&r, frame, len, &p, &ea);
		if (er < GUARD_NCOUNTERS) {
			r.tally_packets[er]++;
			r.tally_bytes[er] += len;
		}
		if (a != ea || ra != er) {
			if (bad++ < MAX_REPORTS - *reported)
				report(i, frame, len, a, ra, ea, er, name);
			continue;
		}
		if (a == XDP_TX_) {
			tx++;
			klen = fr_expected_kod(frame, &p,
					       er == NTP_R_REPLY_KOD_RATE ? "RATE" : "DENY", kod);
			if (klen != outlen || memcmp(kod, out, klen) != 0) {
				if (bad++ < MAX_REPORTS - *reported)
					report(i, frame, len, a, ra, ea, er,
					       "kiss-o'-death bytes differ");
			}
		} else if (outlen != len || memcmp(out, frame, len) != 0) {
			if (bad++ < MAX_REPORTS - *reported)
				report(i, frame, len, a, ra, ea, er, "frame changed");
		}
	}
	*reported += bad < MAX_REPORTS ? bad : MAX_REPORTS;
	expect(bad == 0, name, "%lu of %lu frames differ", bad, count);
	if (counters(&r, &st) == 0) {
		for (k = 0; k < GUARD_NCOUNTERS; k++)
			if (st.packets[k] != r.tally_packets[k] || st.bytes[k] != r.tally_bytes[k])
				break;
		expect(k == GUARD_NCOUNTERS, name, "counter %s: %llu/%llu, reference %llu/%llu",
		       k < GUARD_NCOUNTERS ? guard_counter_name((unsigned int)k) : "",
		       k < GUARD_NCOUNTERS ? (unsigned long long)st.packets[k] : 0ULL,
		       k < GUARD_NCOUNTERS ? (unsigned long long)st.bytes[k] : 0ULL,
		       k < GUARD_NCOUNTERS ? (unsigned long long)r.tally_packets[k] : 0ULL,
		       k < GUARD_NCOUNTERS ? (unsigned long long)r.tally_bytes[k] : 0ULL);
		printf("    %s: %lu frames, %lu kiss-o'-death;", name, count, tx);
		for (k = 0; k < GUARD_NCOUNTERS; k++)
			if (st.packets[k])
				printf(" %s=%llu", guard_counter_name((unsigned int)k),
				       (unsigned long long)st.packets[k]);
		printf("\n");
	} else {
		expect(0, name, "the counters should be readable");
	}
	rig_close(&r);
	return bad;
}

static int do_diff(uint64_t seed, unsigned long count)
{
	static const struct rig_conf confs[] = {
		{.deny = {"192.0.2.66/31", "2001:db8:66::/48", "203.0.113.0/24"},
		 .control = {"198.51.100.5", "2001:db8:c::/64"},
		 .ratelimit = 1,
		 .interval = -2,
		 .burst = 4,
		 .leak = 2,
		 .kod = 1,
		 .deny_kod = 1},
		{.allow = {"192.0.2.0/29", "2001:db8:1::/64", "127.0.0.0/8", "::1", "10.0.0.0/8",
			   "2001:db8:a::/48"},
		 .deny = {"192.0.2.3"},
		 .control = {"10.1.2.3"},
		 .ratelimit = 1,
		 .interval = 0,
		 .burst = 1,
		 .leak = 0,
		 .kod = 0},
		{.deny = {"0.0.0.0/0"}, .allow = {"all"}, .deny_kod = 1, .interval = 1},
		{.deny = {"2001:db8:2::/64"},
		 .ratelimit = 1,
		 .interval = -1,
		 .burst = 20,
		 .leak = 1,
		 .kod = 1},
	};
	static const char *const names[] = {
		"diff: deny list, ratelimit 250 ms burst 4 leak 2 kod, denykod",
		"diff: allow list, ratelimit 1 s burst 1, no leak, no kod",
		"diff: deny all IPv4, denykod without ratelimit",
		"diff: ratelimit 500 ms burst 20 leak 1 kod",
	};
	unsigned long per = count / 4, bad = 0, reported = 0;
	int i;

	rng_state = seed;
	printf("diff: seed %llu, %lu frames\n", (unsigned long long)seed, count);
	for (i = 0; i < 4; i++)
		bad += diff_run(&confs[i], names[i], i == 3 ? count - 3 * per : per, &reported);
	return bad || n_fail ? 1 : 0;
}

/* ---- bench: ns per frame through the program ---- */

/* Load the production program (no test hooks) with a deny rule; LIMIT adds a limiter. */
static struct guard *bench_open(int limit)
{
	struct guard_config gc = {.n_ports = 2, .ports = {htons(PORT_A), htons(PORT_B)}};
	struct rl_limits l;
	struct guard *g;
	uint8_t a[4];
	char err[256];
	int ret;

	rl_limits_set(&l, 1, RL_DEFAULT_INTERVAL, RL_DEFAULT_BURST, 0,
		      0); /* no leak: every over-rate run drops */
	if (limit) {
		gc.flags = GUARD_F_RATELIMIT;
		gc.interval_ns = l.interval_ns;
		gc.tau_ns = l.tau_ns;
		gc.kod_interval_ns = l.kod_interval_ns;
		gc.leak_mask = l.leak_mask;
	}
	ret = guard_open(&g, &gc, err, sizeof(err));
	if (ret == -EPERM || ret == -EACCES)
		skip("no privilege to load BPF programs");
	if (ret < 0) {
		printf("FAIL: bench: load: %s\n", err);
		exit(1);
	}
	inet_pton(AF_INET, "192.0.2.66", a);
	guard_add_rule(g, GUARD_LIST_DENY, GUARD_FAMILY_V4, a, 32, err, sizeof(err));
	return g;
}

/*
 * The kernel's mean ns per run of REPEAT runs of each case, 3 times (all
 * three printed, and their median). The frame is not reset between runs,
 * so only verdicts that leave it alone (drop, pass) are measured. The
 * limiter (leak 0) sees one source REPEAT times: over rate after its burst, so
 * the pass cases run without a limiter and "over rate" measures it.
 */
static int do_bench(unsigned int repeat)
{
	static const struct {
		const char *name;
		const char *src;
		uint8_t lvm;
		int limit;
	} cases[] = {
		{"drop: malformed (mode 7)", "192.0.2.10", 0x17, 1},
		{"drop: malformed (VN 0)", "192.0.2.10", 0x03, 1},
		{"drop: denied", "192.0.2.66", 0x23, 1},
		{"drop: over rate", "192.0.2.11", 0x23, 1},
		{"pass: mode 3, IPv4", "192.0.2.12", 0x23, 0},
		{"pass: mode 3, IPv6", "2001:db8:1::1", 0x23, 0},
	};
	uint8_t pay[64], frame[FR_MAX], out[FR_MAX + 256];
	struct guard *g[2];
	struct fr_spec s;
	size_t i, len;
	uint32_t d[3], t;

	g[0] = bench_open(0);
	g[1] = bench_open(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o);
		int rep, a, b;

		spec_udp(&s, cases[i].src, pay, ntp_req(pay, 48, cases[i].lvm));
		len = fr_build(&s, frame);
		for (rep = 0; rep < 3; rep++) {
			o.data_in = frame;
			o.data_size_in = (uint32_t)len;
			o.data_out = out;
			o.data_size_out = sizeof(out);
			o.repeat = repeat;
			if (bpf_prog_test_run_opts(guard_prog_fd(g[cases[i].limit]), &o) < 0) {
				printf("FAIL: bench: test run: %s\n", strerror(errno));
				return 1;
			}
			d[rep] = o.duration;
		}
		/* Median of three. */
		for (a = 0; a < 2; a++)
			for (b = a + 1; b < 3; b++)
				if (d[b] < d[a]) {
					t = d[a];
					d[a] = d[b];
					d[b] = t;
				}
		printf("bench: %-26s %-4s median %u ns/frame (runs: %u %u %u ns; %u frames each)\n",
		       cases[i].name, action_name((int)o.retval), d[1], d[0], d[1], d[2], repeat);
	}
	guard_close(g[0]);
	guard_close(g[1]);
	return 0;
}

/* ---- xdp-pass: the peer of a veth that receives XDP_TX ---- */

static int do_xdp_pass(const char *ifname)
{
	struct guard_config gc = {0};
	struct guard *g;
	char err[256];
	int ifindex = (int)if_nametoindex(ifname), ret;

	if (!ifindex) {
		fprintf(stderr, "guard-test: no interface %s\n", ifname);
		return 1;
	}
	ret = guard_open(&g, &gc, err, sizeof(err));
	if (ret == -EPERM || ret == -EACCES)
		skip("no privilege to load BPF programs");
	if (ret < 0) {
		fprintf(stderr, "guard-test: load: %s\n", err);
		return 1;
	}
	/* A netlink attachment: it stays after we exit, until the interface goes. */
	ret = bpf_xdp_attach(ifindex, guard_pass_prog_fd(g), XDP_FLAGS_DRV_MODE, NULL);
	guard_close(g);
	if (ret < 0) {
		fprintf(stderr, "guard-test: attach to %s: %s\n", ifname, strerror(-ret));
		return 1;
	}
	printf("guard-test: pass program attached to %s (native)\n", ifname);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: guard-test unit | diff [--seed N] [--count N] | "
			"bench [--repeat N] | xdp-pass IFACE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long count = DIFF_COUNT, repeat = 1000000;
	uint64_t seed = 1;
	int i, rc;

	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 2; i + 1 < argc; i += 2) {
		char *end;
		unsigned long long v = strtoull(argv[i + 1], &end, 10);

		if (*end || !argv[i + 1][0])
			usage();
		if (strcmp(argv[i], "--seed") == 0)
			seed = v;
		else if (strcmp(argv[i], "--count") == 0 && v >= 4 && v <= DIFF_MAX)
			count = (unsigned long)v;
		else if (strcmp(argv[i], "--repeat") == 0 && v >= 1 && v <= 100000000)
			repeat = (unsigned long)v;
		else
			usage();
	}
	if (strcmp(argv[1], "xdp-pass") == 0) {
		if (argc != 3)
			usage();
		return do_xdp_pass(argv[2]);
	}
	if (i != argc)
		usage();
	if (strcmp(argv[1], "unit") == 0)
		rc = do_unit();
	else if (strcmp(argv[1], "diff") == 0)
		rc = do_diff(seed, count);
	else if (strcmp(argv[1], "bench") == 0)
		return do_bench((unsigned int)repeat);
	else
		usage();
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return rc;
}
