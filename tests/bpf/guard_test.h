/*
 * The shared part of guard-test (the XDP guard through BPF_PROG_TEST_RUN):
 * the rig that holds a guard loaded in test mode next to the userspace
 * reference configured the same way, the runner and the reference's
 * verdict for one frame, the named asserts and their tally, and the
 * builders of NTP requests and UDP frame specs. gt_harness.c implements
 * it; gt_unit.c, gt_diff.c and gt_bench.c are the three tests, and
 * guard_test.c dispatches to them.
 */
#ifndef HOROD_TESTS_BPF_GUARD_TEST_H
#define HOROD_TESTS_BPF_GUARD_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/guard.h"
#include "clock/snapshot.h"
#include "daemon/policy/acl.h"
#include "daemon/policy/policy.h"
#include "daemon/policy/ratelimit.h"
#include "tests/bpf/frames.h"

#define SEC	     1000000000ULL /* ns */
#define PORT_A	     123	   /* the served ports */
#define PORT_B	     11123
#define XDP_ABORTED_ 0 /* XDP actions (retval of a test run) */
#define XDP_DROP_    1
#define XDP_PASS_    2
#define XDP_TX_	     3

/* A loaded guard with the access lists, the limiter and the reference's state. */
struct gt_rig {
	struct guard *g;
	struct guard_test_hooks h;
	struct guard_config cfg;
	struct acl acl, control;
	struct rl_limits lim;
	struct rl_table *rl;
	struct pol_rules pol;
	int prog;
	uint64_t now;	   /* the limiter's clock (CLOCK_MONOTONIC ns) at the next run */
	uint64_t tai;	   /* the served clock's first reading in the next run (CLOCK_TAI ns) */
	uint64_t tai_step; /* ns it advances by at each reading */
	uint32_t ifindex;  /* the interface the next frame arrives on: gt_lo or gt_wire */
	struct guard_serve serve;      /* the serving state last published */
	struct guard_host host;	       /* the host table published with it */
	struct guard_phc phc;	       /* the PHC offsets published with it (none: zeroed) */
	struct clk_snapshot diff_snap; /* the snapshot it was made from (guard-test diff) */
	uint64_t tally_packets[GUARD_NCOUNTERS], tally_bytes[GUARD_NCOUNTERS];
};

/* What a rig loads: access lists (NULL-ended, 8 at most each) and limiter settings. */
struct gt_rig_conf {
	const char *allow[8], *deny[8], *control[8];
	int ratelimit, interval, burst, leak, kod, deny_kod;
	int serve; /* `guard serve on` (GUARD_F_SERVE) */
	int hwrx;  /* the device-bound program's flag (GUARD_F_HWRX), NIC stamps from .bss */
	int stamp; /* `guard stamp on` (GUARD_F_STAMP): the egress program rewrites */
};

extern int gt_n_pass, gt_n_fail; /* named asserts passed and failed so far */

extern const uint8_t gt_mac_srv[6], gt_mac_cli[6]; /* the server's and the client's MACs */

/*
 * The interfaces frames arrive on: the loopback device (1) and a "wire"
 * (gt0, one end of a veth pair), in a network namespace of guard-test's
 * own (gt_netns).
 * Every rig's host table has both, with MAC gt_mac_srv, and the local
 * addresses GT_LOCAL4 and GT_LOCAL6 (on the wire), 127.0.0.1 and ::1.
 */
extern uint32_t gt_lo, gt_wire;
#define GT_LOCAL4  "192.0.2.1"	 /* listened on with PORT_A (wildcard) and PORT_B */
#define GT_LOCAL4B "192.0.2.2"	 /* listened on with PORT_A only (the wildcard) */
#define GT_LOCAL6  "2001:db8::1" /* listened on with PORT_A (wildcard) and PORT_B */
#define GT_LL6	   "fe80::1"	 /* the wire's link-local address */

/* Enter a network namespace of our own with the wire interface (a veth pair); exits 77 if it
 * cannot. */
void gt_netns(void);

/* Add the rig's listen lines to C: both wildcards on PORT_A, the local addresses on PORT_B. */
void gt_listens(struct guard_config *c);

/* The rig's host table: loopback and the wire, the local addresses above. */
void gt_host(struct guard_host *h);

/* A named assert: prints PASS/FAIL with the name, counts it; OK. */
int gt_expect(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * 1 when a load failed with RET for want of privilege: EPERM, or EACCES
 * when not root (as root, EACCES is the verifier refusing the program:
 * a failure, never a skip).
 */
int gt_no_privilege(int ret);

/* Print a SKIP line with WHY and exit 77. */
void gt_skip(const char *why) __attribute__((noreturn));

/* Load the guard for C (test mode) and set up the reference the same way; exits on failure. */
void gt_rig_open(struct gt_rig *r, const struct gt_rig_conf *c);

/* Unload the guard and free the reference's state. */
void gt_rig_close(struct gt_rig *r);

/* Run FRAME through the program at the rig's time; the XDP action; OUT gets the frame after. */
int gt_run(struct gt_rig *r, const uint8_t *frame, size_t len, uint8_t *out, size_t *outlen);

/* What the reference says about FRAME: the counter index, the action, and the parse. */
uint32_t gt_reference(struct gt_rig *r, const uint8_t *frame, size_t len, struct fr_parsed *p,
		      int *action);

/* The name of XDP action A ("DROP", "PASS", ...), "?" if unknown. */
const char *gt_action_name(int a);

/* Sum the guard's counters into ST; 0 or -1. */
int gt_counters(struct gt_rig *r, struct guard_stats *st);

/* An NTP request payload of LEN bytes into P: LVM first, a recognisable transmit timestamp. */
size_t gt_ntp_req(uint8_t *p, size_t len, uint8_t lvm);

/* A spec for UDP from SRC to the first served port, IPv4 or IPv6 by the literal. */
void gt_spec_udp(struct fr_spec *s, const char *src, const uint8_t *pay, size_t plen);

/* Publish snapshot S into the rig's program as horod does, as of the instant AT. */
void gt_publish(struct gt_rig *r, const struct clk_snapshot *s, const struct guard_clocks *at);

/* Publish the rig's host table again, with the serving state off (a rig that does not serve). */
void gt_publish_host(struct gt_rig *r);

/*
 * What a worker answers to the request REQ (48 bytes or more) from
 * snapshot S, received at RX_SYS and sent at TX_SYS (CLOCK_REALTIME ns):
 * the steps of serve.c's srv_handle, with the two clock readings given.
 */
void gt_worker_reply(const struct clk_snapshot *s, const uint8_t *req, int64_t rx_sys,
		     int64_t tx_sys, uint8_t out[48]);

/*
 * Compare the guard's answer GOT with a worker's WANT field by field:
 * every field equal, but the root dispersion, which the guard rounds up
 * at each step of its integer arithmetic: at least the worker's and at
 * most one unit (2^-16 s) more. NULL, or what differs (written in BUF).
 */
const char *gt_compare_reply(const uint8_t *got, const uint8_t *want, char *buf, size_t len);

#define TAI_OFFSET (37 * (int64_t)SEC) /* ns: CLOCK_TAI - CLOCK_REALTIME in the tests */
/* The serve tests' publications: 2026-11-26 16:00 UTC, on both clocks. */
#define PUB_REAL 1795708800000000000LL
#define PUB_TAI	 (PUB_REAL + TAI_OFFSET)
#define RX_TX	 1234567 /* ns between the program's receive and transmit readings */

/* A snapshot as the clock core publishes it synchronized, disciplining the kernel clock. */
struct clk_snapshot gt_synced(void);

/*
 * Publish S at PUB_TAI, run the frame of SPEC at the rig's clocks (its
 * receive and transmit readings RX_TX apart) and interface: answered here
 * (TX, reply_server_xdp, the worker's reply for those two instants, field
 * by field), or WANT_ACTION / WANT_REASON with the frame untouched.
 */
void gt_serve_case(struct gt_rig *r, const char *name, const struct fr_spec *spec,
		   const struct clk_snapshot *s, int want_action, uint32_t want_reason);

/* gt_serve_case with the publication made as of AT (the rig's clocks keep TAI_OFFSET). */
void gt_serve_case_at(struct gt_rig *r, const char *name, const struct fr_spec *spec,
		      const struct clk_snapshot *s, const struct guard_clocks *at, int want_action,
		      uint32_t want_reason);

/* guard-test unit, `guard serve on` around a leap second: the clock core's own snapshots
 * (smear, step) published by guard_serve_fill; 0, or 1. */
int gt_do_leap(void);

/* guard-test unit, what XDP answers: only requests a socket of horod's would receive. */
void gt_do_answer(void);

/* guard-test unit, the host table's rtnetlink listener on the test's own namespace. */
void gt_do_host(void);

/*
 * guard-test unit, the NIC's receive stamp (GUARD_F_HWRX, the stamp from
 * the test hooks): converted with the published PHC offset as the
 * workers convert it (daemon/serve/hwts.c), or the kernel's time.
 */
void gt_do_hwrx(void);

/*
 * guard-test unit, `guard stamp on`: the egress program (tc, SCHED_CLS)
 * through BPF_PROG_TEST_RUN and through the kernel's own path on gt0.
 */
void gt_do_egress(void);

/* guard-test unit: one crafted frame per class; 0, or 1 on a failure. */
int gt_do_unit(void);

/* guard-test unit, `guard serve on`: answers checked against the worker's; 0, or 1. */
int gt_do_serve(void);

/* guard-test diff: COUNT frames from SEED against the reference; 0, or 1 on a failure. */
int gt_do_diff(uint64_t seed, unsigned long count);

/* guard-test bench: ns per frame, REPEAT runs per measurement; 0, or 1 on a failure. */
int gt_do_bench(unsigned int repeat);

#endif
