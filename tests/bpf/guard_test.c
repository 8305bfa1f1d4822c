/*
 * Tests of the XDP guard through BPF_PROG_TEST_RUN, in a network
 * namespace of its own (loopback and a veth "wire" for frames to arrive
 * on; no traffic is sent):
 *
 *   guard-test unit           named asserts on verdict, reason, output
 *                             frame and counters: one crafted frame per
 *                             class; answers from the real publisher's
 *                             state compared field by field with a
 *                             worker's reply; what XDP answers and what it
 *                             leaves to the kernel; the host table's
 *                             rtnetlink listener
 *   guard-test diff [--seed N] [--count N]
 *                             N (default 1000000) seeded random and mutated
 *                             frames through the program and through the
 *                             userspace reference (frames.c + policy.c +
 *                             ratelimit.c) under five configurations, the
 *                             last answering: same verdict and reason for
 *                             every frame, same kiss-o'-death bytes, every
 *                             answer a worker's reply, same counters
 *   guard-test bench [--repeat N]
 *                             ns per frame for dropped, passed and answered
 *                             frames
 *   guard-test xdp-pass IFACE attach the pass-everything program to IFACE
 *                             (native) and exit: the peer of a veth that
 *                             receives XDP_TX frames needs one
 *
 * The program is loaded with GUARD_F_TEST: its clocks are variables the
 * test sets before each frame, and it records each verdict's reason. Ends
 * with `N passed, N failed`; exits 0, 1 on a failure, 77 without the
 * privilege to load BPF or make a namespace (a SKIP line says so), 2 on
 * bad usage.
 *
 * This file parses the command line and dispatches; the tests are in
 * gt_unit.c, gt_serve.c, gt_answer.c, gt_diff.c and gt_bench.c, their
 * shared rig in gt_harness.c.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "tests/bpf/guard_test.h"

#define DIFF_COUNT 1000000  /* frames in the differential test by default */
#define DIFF_MAX   50000000 /* frames at most */

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
	if (gt_no_privilege(ret))
		gt_skip("no privilege to load BPF programs");
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
	if (strcmp(argv[1], "unit") == 0 || strcmp(argv[1], "diff") == 0 ||
	    strcmp(argv[1], "bench") == 0)
		gt_netns();
	if (strcmp(argv[1], "unit") == 0)
		rc = gt_do_unit();
	else if (strcmp(argv[1], "diff") == 0)
		rc = gt_do_diff(seed, count);
	else if (strcmp(argv[1], "bench") == 0)
		return gt_do_bench((unsigned int)repeat);
	else
		usage();
	printf("%d passed, %d failed\n", gt_n_pass, gt_n_fail);
	return rc;
}
