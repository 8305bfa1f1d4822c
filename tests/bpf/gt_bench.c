/*
 * guard-test bench: the kernel's ns per frame for dropped and passed
 * frames, measured with BPF_PROG_TEST_RUN's repeat on the production
 * program (no test hooks), with and without the limiter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "daemon/ratelimit.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

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
		gt_skip("no privilege to load BPF programs");
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
	struct guard *g[2];
	struct fr_spec s;
	size_t i, len;
	uint32_t d[3], t;

	g[0] = bench_open(0);
	g[1] = bench_open(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o);
		int rep, a, b;

		gt_spec_udp(&s, cases[i].src, pay, gt_ntp_req(pay, 48, cases[i].lvm));
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
		       cases[i].name, gt_action_name((int)o.retval), d[1], d[0], d[1], d[2],
		       repeat);
	}
	guard_close(g[0]);
	guard_close(g[1]);
	return 0;
}
