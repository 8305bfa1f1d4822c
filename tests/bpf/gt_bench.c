/*
 * guard-test bench: the kernel's ns per frame for dropped and passed
 * frames, measured with BPF_PROG_TEST_RUN's repeat on the production
 * program (no test hooks), with and without the limiter; and for a
 * request answered by the program (`guard serve on`), which rewrites the
 * frame, one run per call on a fresh copy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "daemon/policy/ratelimit.h"
#include "proto/nstime.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

#define BENCH_REPUBLISH 4096 /* runs between two publications (each well under a second) */

/*
 * Load the production program (no test hooks) with a deny rule; LIMIT adds
 * a limiter, SERVE answering.
 */
static struct guard *bench_open(int limit, int serve)
{
	struct guard_config gc = {.n_ports = 2,
				  .ports = {htons(PORT_A), htons(PORT_B)},
				  .flags = serve ? GUARD_F_SERVE : 0};
	struct guard_host h;
	struct guard_serve off = {0};
	struct rl_limits l;
	struct guard *g;
	uint8_t a[4];
	char err[256];
	int ret;

	rl_limits_set(&l, 1, RL_DEFAULT_INTERVAL, RL_DEFAULT_BURST, 0,
		      0); /* no leak: every over-rate run drops */
	if (limit) {
		gc.flags |= GUARD_F_RATELIMIT;
		gc.interval_ns = l.interval_ns;
		gc.tau_ns = l.tau_ns;
		gc.kod_interval_ns = l.kod_interval_ns;
		gc.leak_mask = l.leak_mask;
	}
	gt_listens(&gc);
	ret = guard_open(&g, &gc, err, sizeof(err));
	if (gt_no_privilege(ret))
		gt_skip("no privilege to load BPF programs");
	if (ret < 0) {
		printf("FAIL: bench: load: %s\n", err);
		exit(1);
	}
	inet_pton(AF_INET, "192.0.2.66", a);
	guard_add_rule(g, GUARD_LIST_DENY, GUARD_FAMILY_V4, a, 32, err, sizeof(err));
	gt_host(&h);
	guard_state_store(guard_state_area(g), &off, &h, NULL);
	return g;
}

/* Sort the three runs D, so that D[1] is their median. */
static void sort3(uint64_t d[3])
{
	uint64_t t;
	int a, b;

	for (a = 0; a < 2; a++)
		for (b = a + 1; b < 3; b++)
			if (d[b] < d[a]) {
				t = d[a];
				d[a] = d[b];
				d[b] = t;
			}
}

/*
 * `guard serve on`: a mode 3 request answered with XDP_TX. The program
 * rewrites the frame, so each call runs it once on a fresh copy of the
 * request (REPEAT calls, 3 times, the mean of each printed and their
 * median); the kernel's duration of one run includes reading its clock
 * around it, so the same program with serving off (the request passed),
 * one run per call too, is printed as the baseline. 1 if the program's
 * action is not the one expected.
 */
static int bench_serve_case(struct guard *g, const char *name, const uint8_t *frame, size_t len,
			    int want, unsigned int repeat, const struct clk_snapshot *snap)
{
	struct guard_state_pub *area = guard_state_area(g);
	struct xdp_md ctx = {.data_end = (uint32_t)len, .ingress_ifindex = gt_wire};
	struct guard_clocks now;
	struct guard_serve v;
	struct guard_host h;
	uint8_t out[FR_MAX + 256];
	uint64_t d[3], sum;
	unsigned int k;
	int rep;

	gt_host(&h);
	for (rep = 0; rep < 3; rep++) {
		sum = 0;
		for (k = 0; k < repeat; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
				    .data_size_in = (uint32_t)len, .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1, .ctx_in = &ctx,
				    .ctx_size_in = sizeof(ctx));

			/* As the clock thread does, now and then: a publication ages. */
			if (k % BENCH_REPUBLISH == 0) {
				guard_clocks_read(&now);
				guard_serve_fill(&v, snap, &now);
				guard_state_store(area, &v, &h, NULL);
			}
			if (bpf_prog_test_run_opts(guard_prog_fd(g), &o) < 0) {
				printf("FAIL: bench: test run: %s\n", strerror(errno));
				return 1;
			}
			if ((int)o.retval != want) {
				printf("FAIL: bench: %s: the program returned %s, not %s\n", name,
				       gt_action_name((int)o.retval), gt_action_name(want));
				return 1;
			}
			sum += o.duration;
		}
		d[rep] = sum / repeat;
	}
	sort3(d);
	printf("bench: %-26s %-4s median %llu ns/frame "
	       "(runs: %llu %llu %llu ns; %u frames each, one per call)\n",
	       name, gt_action_name(want), (unsigned long long)d[1], (unsigned long long)d[0],
	       (unsigned long long)d[1], (unsigned long long)d[2], repeat);
	return 0;
}

static int bench_serve(unsigned int repeat)
{
	static const char *const srcs[] = {"192.0.2.12", "2001:db8:1::1"};
	static const char *const names[2][2] = {{"serve off: mode 3, IPv4", "serve: mode 3, IPv4"},
						{"serve off: mode 3, IPv6", "serve: mode 3, IPv6"}};
	uint8_t pay[64], frame[FR_MAX];
	struct guard *g = bench_open(0, 1);
	struct clk_snapshot snap;
	struct timespec real;
	struct fr_spec s;
	size_t len;
	int i, on, rc = 0;

	if (!guard_state_area(g)) {
		printf("FAIL: bench: the program's serving state is not mapped\n");
		guard_close(g);
		return 1;
	}
	/* A synchronized snapshot as the clock core publishes it: the dispersion grows. */
	clock_gettime(CLOCK_REALTIME, &real);
	memset(&snap, 0, sizeof(snap));
	snap.update_ns = ns_from_timespec(&real);
	snap.ref_ns = snap.update_ns;
	snap.root_disp = 0.001;
	snap.disp_rate = 15e-6;
	snap.flags = CLK_F_SYNCED;
	snap.stratum = 2;
	snap.precision = -25;
	for (i = 0; i < 2 && !rc; i++) {
		gt_spec_udp(&s, srcs[i], pay, gt_ntp_req(pay, 48, 0x23));
		len = fr_build(&s, frame);
		for (on = 0; on < 2 && !rc; on++) {
			/* Serving off: a correction of horod's own, which XDP leaves to a worker.
			 */
			snap.flags = on ? CLK_F_SYNCED : CLK_F_SYNCED | CLK_F_CORRECTED;
			rc = bench_serve_case(g, names[i][on], frame, len, on ? XDP_TX_ : XDP_PASS_,
					      repeat, &snap);
		}
	}
	guard_close(g);
	return rc;
}

/*
 * The kernel's mean ns per run of REPEAT runs of each case, 3 times (all
 * three printed, and their median). The frame is not reset between runs,
 * so only verdicts that leave it alone (drop, pass) are measured. The
 * limiter (leak 0) sees one source REPEAT times: over rate after its burst, so
 * the pass cases run without a limiter and "over rate" measures it.
 */
int gt_do_bench(unsigned int repeat)
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
	struct xdp_md ctx = {.ingress_ifindex = gt_wire}; /* frames from the wire */
	struct guard *g[2];
	struct fr_spec s;
	size_t i, len;
	uint64_t d[3];

	g[0] = bench_open(0, 0);
	g[1] = bench_open(1, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o);
		int rep;

		gt_spec_udp(&s, cases[i].src, pay, gt_ntp_req(pay, 48, cases[i].lvm));
		len = fr_build(&s, frame);
		for (rep = 0; rep < 3; rep++) {
			o.data_in = frame;
			o.data_size_in = (uint32_t)len;
			o.data_out = out;
			o.data_size_out = sizeof(out);
			o.repeat = repeat;
			ctx.data_end = (uint32_t)len;
			o.ctx_in = &ctx;
			o.ctx_size_in = sizeof(ctx);
			if (bpf_prog_test_run_opts(guard_prog_fd(g[cases[i].limit]), &o) < 0) {
				printf("FAIL: bench: test run: %s\n", strerror(errno));
				return 1;
			}
			d[rep] = o.duration;
		}
		sort3(d);
		printf("bench: %-26s %-4s median %llu ns/frame (runs: %llu %llu %llu ns; %u frames "
		       "each)\n",
		       cases[i].name, gt_action_name((int)o.retval), (unsigned long long)d[1],
		       (unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)d[2],
		       repeat);
	}
	guard_close(g[0]);
	guard_close(g[1]);
	return bench_serve(repeat);
}
