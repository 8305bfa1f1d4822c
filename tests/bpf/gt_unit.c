/*
 * guard-test unit: named asserts on single crafted frames, one per class
 * the guard tells apart. Malformed NTP (each drop reason), allowed,
 * denied and control sources, VLAN tags, IPv4 options, IPv6 extension
 * headers, fragments, traffic that is not NTP, truncated and inconsistent
 * headers; then an allow list, and the limiter: burst, leak ratio, RATE
 * and DENY kiss-o'-death frames checked byte by byte, the counters and
 * the talkers map. Each verdict is also checked against the reference.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "bpf/guard.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

/*
 * Run S through the program and check the action and the reason, and that
 * the reference agrees. For PASS and DROP the frame must come back as it
 * went; for TX it must be the kiss-o'-death CODE.
 */
static void unit_case(struct gt_rig *r, const char *name, const struct fr_spec *s, int want_action,
		      uint32_t want_reason, const char *code)
{
	uint8_t frame[FR_MAX], out[FR_MAX + 256];
	struct fr_parsed p;
	size_t len = fr_build(s, frame), outlen;
	int action, ref_action;
	uint32_t ref_reason, got;
	const char *why;

	if (!len) {
		gt_expect(0, name, "the frame should fit in %d bytes", FR_MAX);
		return;
	}
	action = gt_run(r, frame, len, out, &outlen);
	got = *r->h.reason;
	ref_reason = gt_reference(r, frame, len, &p, &ref_action);
	if (action >= 0) {
		r->tally_packets[got < GUARD_NCOUNTERS ? got : 0]++;
		r->tally_bytes[got < GUARD_NCOUNTERS ? got : 0] += len;
	}
	if (action != want_action || got != want_reason) {
		gt_expect(0, name, "should be %s %s, got %s %s", gt_action_name(want_action),
			  guard_counter_name(want_reason), gt_action_name(action),
			  guard_counter_name(got));
		return;
	}
	if (ref_action != want_action || ref_reason != want_reason) {
		gt_expect(0, name, "the reference should agree, says %s %s",
			  gt_action_name(ref_action), guard_counter_name(ref_reason));
		return;
	}
	if (want_action == XDP_TX_) {
		why = fr_check_kod(frame, &p, out, outlen, code);
		gt_expect(why == NULL, name, "%s", why ? why : "");
		return;
	}
	gt_expect(outlen == len && memcmp(out, frame, len) == 0, name,
		  "the frame should come back untouched");
}

static void unit_malformed(struct gt_rig *r)
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
		gt_spec_udp(&s, "192.0.2.10", pay, gt_ntp_req(pay, cases[i].len, cases[i].lvm));
		unit_case(r, cases[i].name, &s, XDP_DROP_, cases[i].reason, NULL);
	}
	/* An extension field whose length runs past the end. */
	gt_ntp_req(pay, 64, 0x23);
	pay[48] = 0xF0;
	pay[50] = 0;
	pay[51] = 32;
	gt_spec_udp(&s, "192.0.2.10", pay, 64);
	unit_case(r, "malformed: extension field past the end is drop_extension", &s, XDP_DROP_,
		  NTP_R_DROP_EXTENSION, NULL);
	/* Valid: one 16-byte field then a 20-byte MAC. */
	gt_ntp_req(pay, 48 + 16 + 20, 0x23);
	pay[51] = 16;
	gt_spec_udp(&s, "192.0.2.10", pay, 48 + 16 + 20);
	unit_case(r, "valid: extension field and MAC pass as reply_server", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);
}

static void unit_classes(struct gt_rig *r)
{
	uint8_t pay[64];
	struct fr_spec s;

	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "192.0.2.11", pay, 48);
	unit_case(r, "allowed: IPv4 mode 3 passes as reply_server", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);
	gt_ntp_req(pay, 48, 0x09); /* VN 1, mode 1 */
	gt_spec_udp(&s, "192.0.2.11", pay, 48);
	unit_case(r, "allowed: IPv4 mode 1 VN 1 passes as reply_symmetric", &s, XDP_PASS_,
		  NTP_R_REPLY_SYMMETRIC, NULL);
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "2001:db8:5::7", pay, 48);
	unit_case(r, "allowed: IPv6 mode 3 passes as reply_server", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);
	s.dport = PORT_B;
	unit_case(r, "allowed: the second served port is classified too", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);

	gt_spec_udp(&s, "192.0.2.66", pay, 48);
	unit_case(r, "denied: IPv4 source is drop_denied", &s, XDP_DROP_, NTP_R_DROP_DENIED, NULL);
	gt_spec_udp(&s, "2001:db8:66:1::1", pay, 48);
	unit_case(r, "denied: IPv6 prefix is drop_denied", &s, XDP_DROP_, NTP_R_DROP_DENIED, NULL);
	gt_spec_udp(&s, "::ffff:192.0.2.66", pay, 48);
	unit_case(r, "denied: IPv4-mapped IPv6 source is checked as IPv4", &s, XDP_DROP_,
		  NTP_R_DROP_DENIED, NULL);
	gt_ntp_req(pay, 20, 0x23);
	gt_spec_udp(&s, "192.0.2.66", pay, 20);
	unit_case(r, "denied: a short request from a denied source counts as short", &s, XDP_DROP_,
		  NTP_R_DROP_SHORT, NULL);

	gt_ntp_req(pay, 12, 0x16);
	gt_spec_udp(&s, "127.0.0.1", pay, 12);
	unit_case(r, "control: mode 6 from 127.0.0.1 passes as control", &s, XDP_PASS_,
		  NTP_R_CONTROL, NULL);
	gt_spec_udp(&s, "::1", pay, 12);
	unit_case(r, "control: mode 6 from ::1 passes as control", &s, XDP_PASS_, NTP_R_CONTROL,
		  NULL);
	gt_spec_udp(&s, "198.51.100.9", pay, 12);
	unit_case(r, "control: mode 6 from `control allow` passes as control", &s, XDP_PASS_,
		  NTP_R_CONTROL, NULL);
	gt_spec_udp(&s, "2001:db8:c::5", pay, 12);
	unit_case(r, "control: mode 6 from an IPv6 `control allow` passes as control", &s,
		  XDP_PASS_, NTP_R_CONTROL, NULL);

	/* L2 and L3 variants. */
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "192.0.2.12", pay, 48);
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
	gt_spec_udp(&s, "192.0.2.12", pay, 48);
	s.optlen = 12;
	unit_case(r, "IPv4 options: a 32-byte header is parsed", &s, XDP_PASS_, NTP_R_REPLY_SERVER,
		  NULL);
	s.optlen = 40;
	gt_ntp_req(pay, 24, 0x23);
	s.plen = 24;
	unit_case(r, "IPv4 options: 40 option bytes, short payload is drop_short", &s, XDP_DROP_,
		  NTP_R_DROP_SHORT, NULL);
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "2001:db8:5::7", pay, 48);
	s.n_ext = 2;
	s.ext_type[0] = 0;
	s.ext_len[0] = 8;
	s.ext_type[1] = 60;
	s.ext_len[1] = 24;
	unit_case(r, "IPv6: hop-by-hop and destination options are walked", &s, XDP_PASS_,
		  NTP_R_REPLY_SERVER, NULL);

	/* Fragments. */
	gt_spec_udp(&s, "192.0.2.13", pay, 48);
	s.frag = 2;
	unit_case(r, "fragments: a later IPv4 fragment is pass_fragment", &s, XDP_PASS_,
		  GUARD_C_PASS_FRAGMENT, NULL);
	s.frag = 1;
	unit_case(r, "fragments: a first IPv4 fragment from an allowed source is pass_fragment", &s,
		  XDP_PASS_, GUARD_C_PASS_FRAGMENT, NULL);
	gt_spec_udp(&s, "192.0.2.66", pay, 48);
	s.frag = 1;
	unit_case(r, "fragments: a first IPv4 fragment from a denied source is drop_denied", &s,
		  XDP_DROP_, NTP_R_DROP_DENIED, NULL);
	gt_spec_udp(&s, "2001:db8:5::8", pay, 48);
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
	gt_spec_udp(&s, "192.0.2.14", pay, 48);
	s.dport = 53;
	unit_case(r, "other: UDP to port 53 is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER,
		  NULL);
	gt_spec_udp(&s, "192.0.2.14", pay, 48);
	s.proto = 6;
	unit_case(r, "other: TCP to port 123 is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER,
		  NULL);
	gt_spec_udp(&s, "192.0.2.14", pay, 48);
	s.ethertype = 0x0806;
	unit_case(r, "other: ARP is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER, NULL);
	gt_spec_udp(&s, "2001:db8:5::9", pay, 48);
	s.proto = 58;
	unit_case(r, "other: ICMPv6 is pass_other", &s, XDP_PASS_, GUARD_C_PASS_OTHER, NULL);
}

/* Truncated and inconsistent headers: built, then cut or bent. */
static void unit_invalid(struct gt_rig *r)
{
	uint8_t pay[64], frame[FR_MAX], out[FR_MAX + 256];
	struct fr_spec s;
	size_t len, outlen;
	int action;

	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "192.0.2.15", pay, 48);
	len = fr_build(&s, frame);
	action = gt_run(r, frame, 30, out, &outlen);
	r->tally_packets[GUARD_C_PASS_INVALID]++;
	r->tally_bytes[GUARD_C_PASS_INVALID] += 30;
	gt_expect(action == XDP_PASS_ && *r->h.reason == GUARD_C_PASS_INVALID,
		  "invalid: a truncated IPv4 header is pass_invalid", "got %s %s",
		  gt_action_name(action), guard_counter_name(*r->h.reason));
	frame[14 + 3] = (uint8_t)(frame[14 + 3] + 40); /* IP total length past the frame */
	action = gt_run(r, frame, len, out, &outlen);
	r->tally_packets[GUARD_C_PASS_INVALID]++;
	r->tally_bytes[GUARD_C_PASS_INVALID] += len;
	gt_expect(action == XDP_PASS_ && *r->h.reason == GUARD_C_PASS_INVALID,
		  "invalid: an IPv4 length past the frame is pass_invalid", "got %s %s",
		  gt_action_name(action), guard_counter_name(*r->h.reason));
}

/* Burst, leak, RATE kiss-o'-death, DENY kiss-o'-death (a rig with kod and denykod). */
static void unit_rate(void)
{
	struct gt_rig_conf c = {.deny = {"192.0.2.66", "2001:db8:66::/48"},
				.ratelimit = 1,
				.interval = 4, /* 16 s */
				.burst = 3,
				.leak = 2,
				.kod = 1,
				.deny_kod = 1};
	uint8_t pay[128];
	struct fr_spec s;
	struct gt_rig r;
	char name[128];
	int i;

	gt_rig_open(&r, &c);
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "192.0.2.20", pay, 48);
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
	gt_spec_udp(&s, "2001:db8:7::1", pay, 48);
	s.n_ext = 1;
	s.ext_type[0] = 60;
	s.ext_len[0] = 16;
	for (i = 0; i < 3; i++)
		unit_case(&r, "rate: IPv6 burst passes", &s, XDP_PASS_, NTP_R_REPLY_SERVER, NULL);
	unit_case(&r, "rate: a RATE KoD for IPv6 drops the extension header", &s, XDP_TX_,
		  NTP_R_REPLY_KOD_RATE, "RATE");
	gt_spec_udp(&s, "2001:db8:7::2", pay, 48);
	unit_case(&r, "rate: the same /64 shares the limit", &s, XDP_DROP_, NTP_R_DROP_RATE, NULL);

	gt_ntp_req(pay, 48 + 24, 0x0B); /* VN 1, mode 3, with a 24-byte MAC */
	gt_spec_udp(&s, "192.0.2.21", pay, 48 + 24);
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

	gt_ntp_req(pay, 48, 0x21); /* mode 1 */
	gt_spec_udp(&s, "192.0.2.66", pay, 48);
	unit_case(&r, "deny: a denied mode 1 gets a DENY KoD in mode 2", &s, XDP_TX_,
		  NTP_R_REPLY_KOD_DENY, "DENY");
	unit_case(&r, "deny: the next DENY KoD waits for the interval: drop_denied", &s, XDP_DROP_,
		  NTP_R_DROP_DENIED, NULL);
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "2001:db8:66::9", pay, 48);
	unit_case(&r, "deny: a denied IPv6 source gets a DENY KoD", &s, XDP_TX_,
		  NTP_R_REPLY_KOD_DENY, "DENY");

	/* The leak ratio over many requests: leak 2 lets 1 in 4 over-rate through. */
	{
		uint8_t frame[FR_MAX], out[FR_MAX + 256];
		size_t len, outlen;
		int passed = 0, kods = 0, a;

		gt_ntp_req(pay, 48, 0x23);
		gt_spec_udp(&s, "192.0.2.30", pay, 48);
		len = fr_build(&s, frame);
		for (i = 0; i < 3 + 400; i++) {
			a = gt_run(&r, frame, len, out, &outlen);
			passed += a == XDP_PASS_;
			kods += a == XDP_TX_;
			r.tally_packets[*r.h.reason]++;
			r.tally_bytes[*r.h.reason] += len;
		}
		gt_expect(passed == 3 + 100 && kods == 1, "rate: the leak ratio is 1 in 4 exactly",
			  "3 + 400 requests should pass 103 and KoD 1, passed %d, KoD %d", passed,
			  kods);
	}

	/* Counters: every verdict above, by reason, packets and bytes. */
	{
		struct guard_stats st;
		int k, ok = gt_counters(&r, &st) == 0;

		for (k = 0; ok && k < GUARD_NCOUNTERS; k++)
			if (st.packets[k] != r.tally_packets[k] || st.bytes[k] != r.tally_bytes[k])
				ok = 0;
		gt_expect(ok, "counters: packets and bytes per reason equal what was sent",
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
		gt_expect(n == 7, "talkers: seven denied or over-rate addresses are listed",
			  "listed %d", n);
		gt_expect(n > 0 && rows[0].addr.family == GUARD_FAMILY_V4 &&
				  memcmp(rows[0].addr.addr, a30, 4) == 0 &&
				  rows[0].t.packets == 300 &&
				  rows[0].t.last_reason == NTP_R_DROP_RATE,
			  "talkers: the top talker is 192.0.2.30 with 300 over-rate drops",
			  "top: family %u, %llu packets, last %s", n > 0 ? rows[0].addr.family : 0,
			  n > 0 ? (unsigned long long)rows[0].t.packets : 0ULL,
			  n > 0 ? guard_counter_name(rows[0].t.last_reason) : "-");
	}
	gt_rig_close(&r);
}

int gt_do_unit(void)
{
	struct gt_rig_conf c = {.deny = {"192.0.2.66", "2001:db8:66::/48"},
				.control = {"198.51.100.0/24", "2001:db8:c::/64"}};
	struct gt_rig r;

	gt_rig_open(&r, &c);
	unit_malformed(&r);
	unit_classes(&r);
	unit_invalid(&r);
	{
		struct guard_stats st;
		int k, ok = gt_counters(&r, &st) == 0;

		for (k = 0; ok && k < GUARD_NCOUNTERS; k++)
			ok = st.packets[k] == r.tally_packets[k] && st.bytes[k] == r.tally_bytes[k];
		gt_expect(ok, "counters: one per frame, by reason, with its bytes",
			  "counter %d differs", k - 1);
	}
	gt_rig_close(&r);

	/* An allow list: what it does not match is denied. */
	{
		struct gt_rig_conf ca = {.allow = {"192.0.2.0/28", "2001:db8:a::/64"}};
		uint8_t pay[64];
		struct fr_spec s;

		gt_rig_open(&r, &ca);
		gt_ntp_req(pay, 48, 0x23);
		gt_spec_udp(&s, "192.0.2.5", pay, 48);
		unit_case(&r, "allow list: a listed IPv4 source passes", &s, XDP_PASS_,
			  NTP_R_REPLY_SERVER, NULL);
		gt_spec_udp(&s, "192.0.2.17", pay, 48);
		unit_case(&r, "allow list: an unlisted IPv4 source is drop_denied", &s, XDP_DROP_,
			  NTP_R_DROP_DENIED, NULL);
		gt_spec_udp(&s, "2001:db8:a::99", pay, 48);
		unit_case(&r, "allow list: a listed IPv6 source passes", &s, XDP_PASS_,
			  NTP_R_REPLY_SERVER, NULL);
		gt_spec_udp(&s, "2001:db8:b::1", pay, 48);
		unit_case(&r, "allow list: an unlisted IPv6 source is drop_denied", &s, XDP_DROP_,
			  NTP_R_DROP_DENIED, NULL);
		gt_rig_close(&r);
	}
	unit_rate();
	gt_do_serve();
	gt_do_hwrx();
	gt_do_leap();
	gt_do_answer();
	gt_do_host();
	gt_do_egress();
	return gt_n_fail ? 1 : 0;
}
