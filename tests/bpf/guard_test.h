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
	uint64_t tally_packets[GUARD_NCOUNTERS], tally_bytes[GUARD_NCOUNTERS];
};

/* What a rig loads: access lists (NULL-ended, 8 at most each) and limiter settings. */
struct gt_rig_conf {
	const char *allow[8], *deny[8], *control[8];
	int ratelimit, interval, burst, leak, kod, deny_kod;
	int serve; /* `guard serve on` (GUARD_F_SERVE) */
};

extern int gt_n_pass, gt_n_fail; /* named asserts passed and failed so far */

extern const uint8_t gt_mac_srv[6], gt_mac_cli[6]; /* the server's and the client's MACs */

/* A named assert: prints PASS/FAIL with the name, counts it; OK. */
int gt_expect(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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

/* guard-test unit: one crafted frame per class; 0, or 1 on a failure. */
int gt_do_unit(void);

/* guard-test unit, `guard serve on`: answers checked against the worker's; 0, or 1. */
int gt_do_serve(void);

/* guard-test diff: COUNT frames from SEED against the reference; 0, or 1 on a failure. */
int gt_do_diff(uint64_t seed, unsigned long count);

/* guard-test bench: ns per frame, REPEAT runs per measurement; 0, or 1 on a failure. */
int gt_do_bench(unsigned int repeat);

#endif
