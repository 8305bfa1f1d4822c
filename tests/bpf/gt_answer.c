/*
 * guard-test unit, what XDP answers: only a request a socket of horod's
 * would receive (bpf/guard_answer.h). One crafted frame per rule, each
 * once on the side that is answered (compared field by field with a
 * worker's reply) and once on the side that must reach the kernel
 * untouched: the destination (another host's address routed through us,
 * a local address no listen line takes on that port, a subnet or the
 * limited broadcast, multicast groups, a link-local address of another
 * interface, an address removed from the host table), the destination
 * MAC (broadcast, multicast, another host's), the checksums (bad IPv4
 * header, bad UDP, a sender's partial one, none), martian sources and
 * destinations on the wire and on loopback, VLAN tags, IPv4 options and
 * IPv6 extension headers, an interface the guard does not know; then the
 * same destination rules for kiss-o'-death, which become drops.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/guard.h"
#include "bpf/guard_host.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

/* A request from SRC to DST (literals of one family), port PORT, from the wire. */
static void req(struct fr_spec *s, const uint8_t *pay, const char *src, const char *dst,
		uint16_t port)
{
	gt_spec_udp(s, src, pay, NTP_HEADER_LEN);
	memset(s->dst, 0, sizeof(s->dst));
	inet_pton(s->v6 ? AF_INET6 : AF_INET, dst, s->dst);
	s->dport = port;
}

/* The destination rules: address and port, MAC, broadcast and multicast. */
static void answer_destinations(struct gt_rig *r, const uint8_t *pay,
				const struct clk_snapshot *snap)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast4[6] = {0x01, 0x00, 0x5e, 0x00, 0x01, 0x01};
	static const uint8_t mcast6[6] = {0x33, 0x33, 0x00, 0x00, 0x01, 0x01};
	static const uint8_t other[6] = {0x02, 0, 0, 0, 0, 0x99};
	struct fr_spec s;

	r->ifindex = gt_wire;
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	gt_serve_case(r, "answer: to a local address and a listened port, from the wire", &s, snap,
		      XDP_TX_, GUARD_C_SERVED);
	req(&s, pay, "192.0.2.20", GT_LOCAL4B, PORT_A);
	gt_serve_case(r, "answer: to another local address, port of a wildcard listen", &s, snap,
		      XDP_TX_, GUARD_C_SERVED);
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_B);
	gt_serve_case(r, "answer: to the address of a listen line, on its port", &s, snap, XDP_TX_,
		      GUARD_C_SERVED);
	req(&s, pay, "192.0.2.20", GT_LOCAL4B, PORT_B);
	gt_serve_case(r, "answer: a local address no listen line takes on its port: passed", &s,
		      snap, XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", "198.51.100.7", PORT_A);
	gt_serve_case(r, "answer: for another host, routed through this one: passed", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", "192.0.2.255", PORT_A);
	gt_serve_case(r, "answer: to the subnet broadcast (unicast MAC): passed", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	memcpy(s.dmac, bcast, 6);
	gt_serve_case(r, "answer: to the subnet broadcast (broadcast MAC): passed", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", "255.255.255.255", PORT_A);
	memcpy(s.dmac, bcast, 6);
	gt_serve_case(r, "answer: to the limited broadcast: passed", &s, snap, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", "224.0.1.1", PORT_A);
	memcpy(s.dmac, mcast4, 6);
	gt_serve_case(r, "answer: to the NTP multicast group 224.0.1.1: passed", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "2001:db8::20", "ff02::101", PORT_A);
	memcpy(s.dmac, mcast6, 6);
	gt_serve_case(r, "answer: to the IPv6 NTP multicast group ff02::101: passed", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	memcpy(s.dmac, bcast, 6);
	gt_serve_case(r, "answer: a local address behind the broadcast MAC: passed", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	memcpy(s.dmac, other, 6);
	gt_serve_case(r, "answer: to another host's MAC (promiscuous): passed", &s, snap, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
	req(&s, pay, "2001:db8::20", GT_LOCAL6, PORT_A);
	gt_serve_case(r, "answer: IPv6 to a local address from the wire", &s, snap, XDP_TX_,
		      GUARD_C_SERVED);
	req(&s, pay, "fe80::20", GT_LL6, PORT_A);
	gt_serve_case(r, "answer: to the wire's link-local address, from the wire", &s, snap,
		      XDP_TX_, GUARD_C_SERVED);
	r->ifindex = gt_lo;
	gt_serve_case(r, "answer: to the wire's link-local address, from loopback: passed", &s,
		      snap, XDP_PASS_, NTP_R_REPLY_SERVER);
	r->ifindex = if_nametoindex("gt1");
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	gt_serve_case(r, "answer: through an interface the guard is not attached to: passed", &s,
		      snap, XDP_PASS_, NTP_R_REPLY_SERVER);
	r->ifindex = gt_wire;
}

/* The checksums and the plain headers. */
static void answer_intact(struct gt_rig *r, const uint8_t *pay, const struct clk_snapshot *snap)
{
	struct fr_spec s;

	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	s.bad_ipsum = 1;
	gt_serve_case(r, "answer: a bad IPv4 header checksum: passed (the kernel drops it)", &s,
		      snap, XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	s.udp_csum = FR_CSUM_BAD;
	gt_serve_case(r, "answer: a bad UDP checksum: passed (the kernel drops it)", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	s.udp_csum = FR_CSUM_PARTIAL;
	gt_serve_case(r, "answer: a partial UDP checksum (offload): passed, never dropped", &s,
		      snap, XDP_PASS_, NTP_R_REPLY_SERVER);
	s.udp_csum = FR_CSUM_ZERO;
	gt_serve_case(r, "answer: IPv4 without a UDP checksum (0): answered", &s, snap, XDP_TX_,
		      GUARD_C_SERVED);
	req(&s, pay, "2001:db8::20", GT_LOCAL6, PORT_A);
	s.udp_csum = FR_CSUM_ZERO;
	gt_serve_case(r, "answer: IPv6 with a UDP checksum of 0: passed", &s, snap, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
	s.udp_csum = FR_CSUM_BAD;
	gt_serve_case(r, "answer: IPv6 with a bad UDP checksum: passed", &s, snap, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.tci[0] = 7;
	gt_serve_case(r, "answer: a VLAN tag: passed (the kernel finds the VLAN device)", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "192.0.2.20", GT_LOCAL4, PORT_A);
	s.optlen = 12;
	gt_serve_case(r, "answer: IPv4 options: passed (the kernel processes them)", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	req(&s, pay, "2001:db8::20", GT_LOCAL6, PORT_A);
	s.n_ext = 1;
	s.ext_type[0] = 60;
	s.ext_len[0] = 16;
	gt_serve_case(r, "answer: an IPv6 extension header: passed", &s, snap, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
}

/* Martian sources and destinations, on the wire and on loopback. */
static void answer_martians(struct gt_rig *r, const uint8_t *pay, const struct clk_snapshot *snap)
{
	static const struct {
		const char *name, *src, *dst;
		int lo, answered;
	} cases[] = {
		{"answer: from 127.0.0.1 on the wire: passed", "127.0.0.1", GT_LOCAL4, 0, 0},
		{"answer: from 0.0.0.0: passed", "0.0.0.0", GT_LOCAL4, 0, 0},
		{"answer: from a multicast source: passed", "224.0.0.5", GT_LOCAL4, 0, 0},
		{"answer: from 255.255.255.255: passed", "255.255.255.255", GT_LOCAL4, 0, 0},
		{"answer: from our own address, on the wire: passed", GT_LOCAL4B, GT_LOCAL4, 0, 0},
		{"answer: to 127.0.0.1 on the wire: passed", "192.0.2.20", "127.0.0.1", 0, 0},
		{"answer: 127.0.0.2 to 127.0.0.1 on loopback: answered", "127.0.0.2", "127.0.0.1",
		 1, 1},
		{"answer: our own address to itself on loopback: answered", GT_LOCAL4, GT_LOCAL4, 1,
		 1},
		{"answer: from ::1 on the wire: passed", "::1", GT_LOCAL6, 0, 0},
		{"answer: to ::1 on the wire: passed", "2001:db8::20", "::1", 0, 0},
		{"answer: ::1 to ::1 on loopback: answered", "::1", "::1", 1, 1},
		{"answer: from :: (unspecified): passed", "::", GT_LOCAL6, 0, 0},
		{"answer: from an IPv4-mapped IPv6 address: passed", "::ffff:192.0.2.20", GT_LOCAL6,
		 0, 0},
		{"answer: from an IPv6 multicast source: passed", "ff02::1", GT_LOCAL6, 0, 0},
	};
	struct fr_spec s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r->ifindex = cases[i].lo ? gt_lo : gt_wire;
		req(&s, pay, cases[i].src, cases[i].dst, PORT_A);
		gt_serve_case(r, cases[i].name, &s, snap, cases[i].answered ? XDP_TX_ : XDP_PASS_,
			      cases[i].answered ? GUARD_C_SERVED : NTP_R_REPLY_SERVER);
	}
	r->ifindex = gt_wire;
}

/* The host table follows the host: an address removed is no longer answered. */
static void answer_host_changes(struct gt_rig *r, const uint8_t *pay,
				const struct clk_snapshot *snap)
{
	struct fr_spec s;
	uint8_t a[4];

	inet_pton(AF_INET, GT_LOCAL4B, a);
	guard_host_del(&r->host, GUARD_FAMILY_V4, a, gt_wire);
	req(&s, pay, "192.0.2.20", GT_LOCAL4B, PORT_A);
	gt_serve_case(r, "answer: an address removed from the host table: passed", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	guard_host_add(&r->host, GUARD_FAMILY_V4, a, gt_wire);
	gt_serve_case(r, "answer: the address added again: answered", &s, snap, XDP_TX_,
		      GUARD_C_SERVED);
	guard_host_del_if(&r->host, gt_wire);
	gt_serve_case(r, "answer: the interface gone from the table: passed", &s, snap, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
	gt_host(&r->host);
}

/* Kiss-o'-death: the same destination rules; one that may not go out is a drop. */
static void answer_kod(const uint8_t *pay, const struct clk_snapshot *snap)
{
	struct gt_rig_conf c = {.deny = {"192.0.2.66"},
				.ratelimit = 1,
				.interval = 4,
				.burst = 1,
				.kod = 1,
				.deny_kod = 1,
				.serve = 1};
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct fr_spec s;
	struct gt_rig r;

	gt_rig_open(&r, &c);
	r.ifindex = gt_wire;
	r.now = 1000 * SEC;
	r.tai = PUB_TAI + 5000000;
	req(&s, pay, "192.0.2.66", "198.51.100.7", PORT_A);
	gt_serve_case(&r, "kod: a denied request for another host: drop_denied, no DENY KoD", &s,
		      snap, XDP_DROP_, NTP_R_DROP_DENIED);
	req(&s, pay, "192.0.2.66", GT_LOCAL4, PORT_A);
	memcpy(s.dmac, bcast, 6);
	gt_serve_case(&r, "kod: a denied request to the broadcast MAC: drop_denied", &s, snap,
		      XDP_DROP_, NTP_R_DROP_DENIED);
	r.now += 100 * SEC; /* past the KoD interval the claim above used */
	req(&s, pay, "192.0.2.66", GT_LOCAL4, PORT_A);
	gt_serve_case(&r, "kod: a denied request for us: a DENY KoD", &s, snap, XDP_TX_,
		      NTP_R_REPLY_KOD_DENY);
	req(&s, pay, "192.0.2.21", "198.51.100.7", PORT_A);
	gt_serve_case(&r, "kod: the first request for another host passes the limiter", &s, snap,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	gt_serve_case(&r, "kod: the second, over rate, for another host: drop_rate, no RATE KoD",
		      &s, snap, XDP_DROP_, NTP_R_DROP_RATE);
	r.now += 100 * SEC;
	req(&s, pay, "192.0.2.22", GT_LOCAL4, PORT_A);
	s.udp_csum = FR_CSUM_PARTIAL;
	gt_serve_case(&r, "kod: a partial checksum is passed to the workers (not answered here)",
		      &s, snap, XDP_PASS_, NTP_R_REPLY_SERVER);
	gt_serve_case(&r, "kod: over rate with a partial checksum, for us: a RATE KoD", &s, snap,
		      XDP_TX_, NTP_R_REPLY_KOD_RATE);
	gt_rig_close(&r);
}

void gt_do_answer(void)
{
	struct gt_rig_conf c = {.serve = 1};
	struct clk_snapshot snap = gt_synced();
	uint8_t pay[NTP_HEADER_LEN];
	struct gt_rig r;

	gt_ntp_req(pay, sizeof(pay), 0x23);
	gt_rig_open(&r, &c);
	r.tai = PUB_TAI + 123456789;
	answer_destinations(&r, pay, &snap);
	answer_intact(&r, pay, &snap);
	answer_martians(&r, pay, &snap);
	answer_host_changes(&r, pay, &snap);
	gt_rig_close(&r);
	answer_kod(pay, &snap);
}

/* Index of ADDR (FAMILY, IFINDEX) in H, or -1. */
static int host_index(const struct guard_host *h, int family, const char *addr, uint32_t ifindex)
{
	uint8_t a[16];
	uint32_t i;

	inet_pton(family == GUARD_FAMILY_V4 ? AF_INET : AF_INET6, addr, a);
	if (family == GUARD_FAMILY_V4) {
		for (i = 0; i < h->n4; i++)
			if (memcmp(&h->v4[i], a, 4) == 0 && h->v4_ifindex[i] == ifindex)
				return (int)i;
		return -1;
	}
	for (i = 0; i < h->n6; i++)
		if (memcmp(h->v6[i], a, 16) == 0 && h->v6_ifindex[i] == ifindex)
			return (int)i;
	return -1;
}

/* Run the shell command CMD; 1 when it succeeded. */
static int sh(const char *cmd)
{
	return system(cmd) == 0;
}

/*
 * The host table's rtnetlink listener (bpf/guard_host.c) on the test's
 * own namespace: what it dumps at start, then addresses added and
 * removed, a tentative IPv6 address, a MAC changed, as the clock thread
 * would see them at its next publication.
 */
void gt_do_host(void)
{
	struct guard_host_nl *nl;
	struct guard_host h;
	uint32_t ifs[2] = {gt_lo, gt_wire};
	char why[256];
	int ret, i;

	if (!sh("ip addr add 192.0.2.1/24 dev gt0 && ip addr add 2001:db8::1/64 dev gt0 nodad && "
		"ip link set gt0 address 02:00:00:00:00:01")) {
		gt_expect(0, "host: set up gt0's addresses", "ip failed");
		return;
	}
	ret = guard_host_open(&nl, ifs, 2, &h, why, sizeof(why));
	if (!gt_expect(ret == 0, "host: the listener opens and dumps", "%s", why))
		return;
	for (i = 0; i < (int)h.n_if && h.ifindex[i] != gt_wire; i++)
		;
	gt_expect(i < (int)h.n_if && memcmp(h.mac[i], gt_mac_srv, 6) == 0 && h.n_if == 2,
		  "host: both attached interfaces, gt0 with its MAC", "n_if %u", h.n_if);
	gt_expect(host_index(&h, GUARD_FAMILY_V4, "192.0.2.1", gt_wire) >= 0 &&
			  host_index(&h, GUARD_FAMILY_V4, "127.0.0.1", gt_lo) >= 0 &&
			  host_index(&h, GUARD_FAMILY_V6, "2001:db8::1", gt_wire) >= 0 &&
			  host_index(&h, GUARD_FAMILY_V6, "::1", gt_lo) >= 0,
		  "host: the dump has every local address", "v4 %u, v6 %u", h.n4, h.n6);
	gt_expect(host_index(&h, GUARD_FAMILY_V4, "192.0.2.255", gt_wire) < 0,
		  "host: the subnet broadcast is not a local address", "it is in the table");
	sh("ip addr add 192.0.2.7/32 dev gt0 && ip addr del 192.0.2.1/24 dev gt0 && "
	   "ip addr add 2001:db8::7/64 dev gt0 && ip link set gt0 address 02:00:00:00:00:77");
	ret = guard_host_poll(nl, &h);
	for (i = 0; i < (int)h.n_if && h.ifindex[i] != gt_wire; i++)
		;
	gt_expect(ret == 1 && host_index(&h, GUARD_FAMILY_V4, "192.0.2.7", gt_wire) >= 0 &&
			  host_index(&h, GUARD_FAMILY_V4, "192.0.2.1", gt_wire) < 0,
		  "host: an address added, one removed: the table follows", "poll %d", ret);
	gt_expect(host_index(&h, GUARD_FAMILY_V6, "2001:db8::7", gt_wire) < 0,
		  "host: an IPv6 address in duplicate address detection is not local yet",
		  "it is in the table");
	gt_expect(i < (int)h.n_if && h.mac[i][5] == 0x77, "host: the MAC address follows",
		  "it did not");
	sh("ip addr del 2001:db8::1/64 dev gt0 && ip addr del 192.0.2.7/32 dev gt0");
	guard_host_poll(nl, &h);
	gt_expect(host_index(&h, GUARD_FAMILY_V6, "2001:db8::1", gt_wire) < 0 &&
			  host_index(&h, GUARD_FAMILY_V4, "192.0.2.7", gt_wire) < 0,
		  "host: removed addresses leave the table", "v4 %u, v6 %u", h.n4, h.n6);
	gt_expect(guard_host_poll(nl, &h) == 0, "host: nothing changed, nothing to apply",
		  "the poll says it changed");
	guard_host_close(nl);
}
