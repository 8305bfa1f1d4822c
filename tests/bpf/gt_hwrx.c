/*
 * guard-test unit, the NIC's receive stamp in XDP (`hwtimestamp` with
 * `guard serve on`): the device-bound program asks the driver for the
 * frame's hardware stamp (bpf_xdp_metadata_rx_timestamp) and serves
 * stamp + PHC offset as the receive time. BPF_PROG_TEST_RUN refuses
 * device-bound programs, so this runs the same program source loaded
 * unbound with GUARD_F_HWRX and GUARD_F_TEST: the stamp and the kfunc's
 * return come from the test hooks, everything after them — the PHC table
 * read under the seqcount, the age and window checks, the conversion to
 * NTP and the counter — is the program's own. Each answer is compared
 * field by field with a worker's for the receive time the workers'
 * conversion gives (daemon/serve/hwts.c hwts_to_system), and with the
 * pure user-space copy of the arithmetic (bpf/guard_pub.c
 * guard_hw_rx_real); every fallback must serve the kernel's time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard_pub.h"
#include "daemon/serve/hwts.h"
#include "proto/nstime.h"
#include "proto/ntp_wire.h"
#include "tests/bpf/guard_test.h"

#define HW_LAG	 4321		     /* ns: the NIC stamped the frame this long before XDP ran */
#define PHC_OFF	 (-TAI_OFFSET + 777) /* ns: system - PHC for a PHC on TAI, measured 777 ns off */
#define RX_AFTER 123456789	     /* ns: the frame arrives this long after the publication */

static const struct guard_clocks hw_pub_at = {.tai_ns = PUB_TAI, .real_ns = PUB_REAL};

/* One PHC, on interface IFINDEX, with offset OFF measured AGE ns before the publication. */
static void set_phc(struct gt_rig *r, uint32_t ifindex, int64_t off, uint64_t age)
{
	guard_phc_init(&r->phc);
	guard_phc_add(&r->phc, ifindex, off, PUB_TAI - age);
}

/*
 * Run SPEC with NIC stamp HW (kfunc return RET) and expect WANT_HW (the
 * hardware counter and receive time) or the kernel's: the action, the
 * counter, the reply against a worker's for the receive time expected,
 * and the pure copy of the arithmetic agreeing.
 */
static void hw_case(struct gt_rig *r, const char *name, const struct fr_spec *spec, uint64_t hw,
		    int32_t ret, int want_hw)
{
	struct clk_snapshot s = gt_synced();
	uint8_t frame[FR_MAX], out[FR_MAX + 256], want[NTP_HEADER_LEN];
	size_t len = fr_build(spec, frame), outlen;
	uint64_t rx_real = r->tai - TAI_OFFSET, pure = 0;
	int64_t rx_sys = (int64_t)rx_real, off = GUARD_PHC_NO_OFFSET;
	struct hwts_table t;
	struct timespec hts, sys;
	struct fr_parsed p;
	const uint8_t *ntp;
	const char *bad;
	char why[200];
	uint64_t at = 0;
	uint32_t i, want_reason = want_hw ? GUARD_C_SERVED_HW : GUARD_C_SERVED;
	int action, pure_ok, ref_action;

	for (i = 0; i < r->phc.n; i++)
		if (r->phc.ifindex[i] == r->ifindex) {
			off = r->phc.off_ns[i];
			at = r->phc.at_tai_ns[i];
		}
	pure_ok = ret == 0 && guard_hw_rx_real(hw, off, at, r->tai, -TAI_OFFSET, &pure) == 0;
	if (want_hw) {
		/* The workers' conversion of the same stamp with the same offset. */
		memset(&t, 0, sizeof(t));
		t.n = 1;
		t.ifs[0].ifindex = (int)r->ifindex;
		atomic_store(&t.ifs[0].offset_ns, off);
		ns_to_timespec((int64_t)hw, &hts);
		if (hwts_to_system(&t, (int)r->ifindex, &hts, &sys) < 0) {
			gt_expect(0, name, "the workers' conversion refuses the stamp");
			return;
		}
		rx_sys = ns_from_timespec(&sys);
		if (!gt_expect(pure_ok && (int64_t)pure == rx_sys, name,
			       "user space's copy of the arithmetic: %s %llu, the workers' %lld",
			       pure_ok ? "ok" : "refused", (unsigned long long)pure,
			       (long long)rx_sys))
			return;
	} else if (!gt_expect(!pure_ok, name,
			      "user space's copy of the arithmetic uses the stamp")) {
		return;
	}
	*r->h.hw_ns = hw;
	*r->h.hw_ret = ret;
	gt_publish(r, &s, &hw_pub_at);
	r->tai_step = RX_TX;
	action = gt_run(r, frame, len, out, &outlen);
	if (action >= 0 && *r->h.reason < GUARD_NCOUNTERS) {
		r->tally_packets[*r->h.reason]++;
		r->tally_bytes[*r->h.reason] += len;
	}
	if (!gt_expect(action == XDP_TX_ && *r->h.reason == want_reason, name,
		       "should be TX %s, got %s %s", guard_counter_name(want_reason),
		       gt_action_name(action), guard_counter_name(*r->h.reason)))
		return;
	gt_reference(r, frame, len, &p, &ref_action);
	bad = fr_check_reply(frame, &p, out, outlen, &ntp);
	if (!bad) {
		gt_worker_reply(&s, p.payload, rx_sys, (int64_t)rx_real + RX_TX, want);
		bad = gt_compare_reply(ntp, want, why, sizeof(why));
	}
	gt_expect(bad == NULL, name, "%s", bad ? bad : "");
}

/*
 * What this kernel does with the device-bound copy on a veth (veth has
 * the metadata ops): it loads bound to gt0 and attaches in native mode,
 * sharing the guard's maps; BPF_PROG_TEST_RUN refuses it (which is why
 * the conversion above runs through the unbound program). A driver
 * without the ops refuses the load; horod then attaches the ordinary one.
 */
/* libbpf's account of the refusal expected on lo (its verifier log): not shown. */
static void quiet_log(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

static void hw_bound_on_veth(void)
{
	struct gt_rig_conf c = {.serve = 1};
	uint8_t frame[FR_MAX], out[FR_MAX + 256], pay[64];
	struct fr_spec spec;
	size_t len;
	char err[256];
	struct gt_rig r;
	int ret, fd;

	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	len = fr_build(&spec, frame);
	gt_rig_open(&r, &c);
	ret = guard_attach_bound(r.g, "gt0", err, sizeof(err));
	if (!gt_expect(ret == 0 && guard_n_links(r.g) == 1 && guard_link_bound(r.g, 0),
		       "hwrx: the device-bound copy loads and attaches natively on a veth", "%s",
		       ret < 0 ? err : "not recorded as bound")) {
		gt_rig_close(&r);
		return;
	}
	fd = guard_link_prog_fd(r.g, 0);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		ret = bpf_prog_test_run_opts(fd, &o);
		printf("hwrx: BPF_PROG_TEST_RUN on the device-bound copy: %s\n",
		       ret < 0 ? strerror(-ret) : "ran");
		gt_expect(ret < 0 && fd != guard_prog_fd(r.g),
			  "hwrx: BPF_PROG_TEST_RUN refuses the device-bound copy (so the unbound "
			  "one is tested)",
			  "test run returned %d (%s)", ret, ret < 0 ? strerror(-ret) : "ran");
	}
	guard_set_log(quiet_log);
	ret = guard_attach_bound(r.g, "lo", err, sizeof(err));
	guard_set_log(NULL);
	printf("hwrx: device-bound copy on lo: %s\n", ret < 0 ? err : "attached");
	gt_expect(ret < 0 && guard_n_links(r.g) == 1,
		  "hwrx: loopback (no native XDP, no metadata ops) refuses it, nothing left",
		  "lo took a device-bound program");
	gt_rig_close(&r);
}

/* The id of the program behind descriptor FD (a program or an XDP link), or 0. */
static uint32_t prog_id(int fd, int link)
{
	struct bpf_link_info li;
	struct bpf_prog_info pi;
	uint32_t len;

	if (link) {
		memset(&li, 0, sizeof(li));
		len = sizeof(li);
		return bpf_obj_get_info_by_fd(fd, &li, &len) == 0 ? li.prog_id : 0;
	}
	memset(&pi, 0, sizeof(pi));
	len = sizeof(pi);
	return bpf_obj_get_info_by_fd(fd, &pi, &len) == 0 ? pi.id : 0;
}

/*
 * A takeover or reload on an interface with the device-bound copy: the
 * successor swaps its own copy into the predecessor's link (gt0), and
 * where the copy cannot load (lo) the link keeps the program it had.
 */
static void hw_adopt_bound(void)
{
	struct gt_rig_conf c = {.serve = 1};
	struct gt_rig a, b;
	char err[256];
	int got, fd, ret;

	gt_rig_open(&a, &c);
	gt_rig_open(&b, &c);
	if (guard_attach(a.g, "gt0", GUARD_MODE_NATIVE, &got, err, sizeof(err)) < 0 ||
	    guard_attach(a.g, "lo", GUARD_MODE_SKB, &got, err, sizeof(err)) < 0) {
		gt_expect(0, "hwrx: adopt: the predecessor attaches", "%s", err);
		goto out;
	}
	fd = fcntl(guard_link_fd(a.g, 0), F_DUPFD_CLOEXEC, 0);
	ret = guard_adopt_bound(b.g, fd, "gt0", err, sizeof(err));
	if (ret < 0)
		close(fd);
	gt_expect(ret == 0 && guard_link_bound(b.g, 0) &&
			  prog_id(guard_link_fd(a.g, 0), 1) ==
				  prog_id(guard_link_prog_fd(b.g, 0), 0),
		  "hwrx: adopt: the successor's device-bound copy is swapped into gt0's link", "%s",
		  ret < 0 ? err : "the link runs another program");
	fd = fcntl(guard_link_fd(a.g, 1), F_DUPFD_CLOEXEC, 0);
	guard_set_log(quiet_log);
	ret = guard_adopt_bound(b.g, fd, "lo", err, sizeof(err));
	guard_set_log(NULL);
	close(fd);
	gt_expect(ret < 0 && guard_n_links(b.g) == 1 &&
			  prog_id(guard_link_fd(a.g, 1), 1) == prog_id(guard_prog_fd(a.g), 0),
		  "hwrx: adopt: where the copy cannot load (lo), the link keeps its program",
		  "adopted (%d), or the link changed", ret);
out:
	gt_rig_close(&b);
	gt_rig_close(&a);
}

void gt_do_hwrx(void)
{
	struct gt_rig_conf c = {.serve = 1, .hwrx = 1}, plain = {.serve = 1};
	struct guard_stats st;
	struct fr_spec spec;
	uint8_t pay[64];
	uint64_t rx_real, hw;
	struct gt_rig r;

	gt_ntp_req(pay, 48, 0x23); /* VN 4, mode 3 */
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	gt_rig_open(&r, &c);
	r.tai = PUB_TAI + RX_AFTER;
	rx_real = r.tai - TAI_OFFSET;
	/* The PHC stamped HW_LAG before the kernel's receive time, on the PHC's time scale. */
	hw = rx_real - HW_LAG - (uint64_t)PHC_OFF;
	set_phc(&r, r.ifindex, PHC_OFF, 0);
	hw_case(&r, "hwrx: the NIC's stamp + the PHC offset is the receive time (the workers')",
		&spec, hw, 0, 1);
	hw_case(&r, "hwrx: a stamp 1 ns before the kernel's receive time is used", &spec,
		rx_real - 1 - (uint64_t)PHC_OFF, 0, 1);
	hw_case(&r, "hwrx: a stamp 1 s before the kernel's receive time is used", &spec,
		rx_real - GUARD_HW_RX_WINDOW_NS - (uint64_t)PHC_OFF, 0, 1);
	hw_case(&r, "hwrx: the kfunc says no stamp (-ENODATA): the kernel's time", &spec, hw,
		-ENODATA, 0);
	hw_case(&r, "hwrx: the driver's stamp is 0 (veth without one): the kernel's time", &spec, 0,
		0, 0);
	hw_case(&r, "hwrx: a converted stamp after the kernel's receive time: the kernel's", &spec,
		rx_real + 1 - (uint64_t)PHC_OFF, 0, 0);
	hw_case(&r, "hwrx: a converted stamp more than 1 s early: the kernel's", &spec,
		rx_real - GUARD_HW_RX_WINDOW_NS - 1 - (uint64_t)PHC_OFF, 0, 0);
	set_phc(&r, r.ifindex, GUARD_PHC_NO_OFFSET, 0);
	hw_case(&r, "hwrx: the PHC offset unknown: the kernel's time", &spec, hw, 0, 0);
	set_phc(&r, r.ifindex, PHC_OFF, GUARD_PHC_MAX_AGE_NS - RX_AFTER);
	hw_case(&r, "hwrx: an offset measured 2 s before the frame is used", &spec, hw, 0, 1);
	set_phc(&r, r.ifindex, PHC_OFF, GUARD_PHC_MAX_AGE_NS - RX_AFTER + 1);
	hw_case(&r, "hwrx: an offset measured more than 2 s before the frame: the kernel's", &spec,
		hw, 0, 0);
	set_phc(&r, r.ifindex, PHC_OFF, (uint64_t)0 - RX_AFTER - 1);
	hw_case(&r, "hwrx: an offset measured after the frame (from the future): the kernel's",
		&spec, hw, 0, 0);
	set_phc(&r, gt_wire, PHC_OFF, 0);
	hw_case(&r, "hwrx: no PHC for the frame's interface (another one's): the kernel's", &spec,
		hw, 0, 0);
	guard_phc_init(&r.phc);
	hw_case(&r, "hwrx: no PHC published at all: the kernel's time", &spec, hw, 0, 0);
	if (gt_counters(&r, &st) == 0)
		gt_expect(st.packets[GUARD_C_SERVED_HW] == r.tally_packets[GUARD_C_SERVED_HW] &&
				  st.packets[GUARD_C_SERVED] == r.tally_packets[GUARD_C_SERVED] &&
				  r.tally_packets[GUARD_C_SERVED_HW] == 4 &&
				  r.tally_packets[GUARD_C_SERVED] == 9,
			  "hwrx: counters: 4 answers by NIC stamp, 9 by the kernel's clock",
			  "hardware %llu (tally %llu), kernel %llu (tally %llu)",
			  (unsigned long long)st.packets[GUARD_C_SERVED_HW],
			  (unsigned long long)r.tally_packets[GUARD_C_SERVED_HW],
			  (unsigned long long)st.packets[GUARD_C_SERVED],
			  (unsigned long long)r.tally_packets[GUARD_C_SERVED]);
	else
		gt_expect(0, "hwrx: counters", "cannot read the counters");
	gt_rig_close(&r);

	/* The ordinary program never asks for the stamp, whatever the hooks and the table say. */
	gt_rig_open(&r, &plain);
	r.tai = PUB_TAI + RX_AFTER;
	set_phc(&r, r.ifindex, PHC_OFF, 0);
	*r.h.hw_ns = hw;
	*r.h.hw_ret = 0;
	{
		struct clk_snapshot s = gt_synced();
		uint8_t frame[FR_MAX], out[FR_MAX + 256];
		size_t len = fr_build(&spec, frame), outlen;
		int action;

		gt_publish(&r, &s, &hw_pub_at);
		r.tai_step = RX_TX;
		action = gt_run(&r, frame, len, out, &outlen);
		gt_expect(action == XDP_TX_ && *r.h.reason == GUARD_C_SERVED,
			  "hwrx: the ordinary program (not device-bound) serves the kernel's time",
			  "got %s %s", gt_action_name(action), guard_counter_name(*r.h.reason));
	}
	gt_rig_close(&r);
	hw_bound_on_veth();
	hw_adopt_bound();
}
