/*
 * Tests of the PHC and PPS readers (daemon/refclock/rc_phc, rc_pps). This
 * machine has neither device, so a fake kernel (struct rc_sys) answers
 * their ioctls: which PHC ioctl is chosen and kept, the narrowest
 * sandwich, a reading that ran backwards, errors passed up; the PPS
 * capabilities, the capture mode set, sequence numbers and missed edges.
 * Then the real kernel: /dev/ptp0 and /dev/pps0 (absent here) and
 * /dev/null (no such ioctls) must be refused with the device named.
 */
#include <check.h>
#include <errno.h>
#include <linux/pps.h>
#include <linux/ptp_clock.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/refclock/rc_phc.h"
#include "daemon/refclock/rc_pps.h"

Suite *rc_dev_suite(void);

#define FAKE_FD 42 /* the fake device's descriptor */

/* What the fake kernel does. */
static struct {
	int precise_err, extended_err, plain_err; /* errno per PHC ioctl, 0 = works */
	int getcaps_err;
	int calls[4];	  /* PHC ioctl calls: precise, extended, plain, getcaps */
	int pps_caps;	  /* PPS_GETCAP answer */
	int pps_mode;	  /* the device's capture mode (PPS_GETPARAMS) */
	int setparams;	  /* PPS_SETPARAMS calls */
	unsigned seq;	  /* assert sequence PPS_FETCH reports */
	int64_t edge_sec; /* and its stamp */
	int closed;
} k;

static int f_open(const char *path, int flags)
{
	(void)path;
	(void)flags;
	return FAKE_FD;
}

static int f_fstat(int fd, struct stat *st)
{
	(void)fd;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0600;
	return 0;
}

static int f_close(int fd)
{
	ck_assert_int_eq(fd, FAKE_FD);
	k.closed++;
	return 0;
}

static int kfail(int e)
{
	errno = e;
	return -1;
}

/* System time T + D ns of reading I (PHC readings 1 s ahead, widths 900, 300, 500, ... ns). */
static void pct(struct ptp_clock_time *t, int64_t ns)
{
	t->sec = ns / 1000000000;
	t->nsec = (uint32_t)(ns % 1000000000);
}

#define T0    1700000000000000000LL /* ns: the fake's system time at the first reading */
#define PHC_D 37000000000LL	    /* ns: the fake PHC runs TAI, 37 s ahead */

static int64_t width(int i)
{
	return i == 3 ? 120 : 900 - 50 * i; /* reading 3 is the narrowest */
}

static int f_ioctl(int fd, unsigned long req, void *arg)
{
	int i;

	ck_assert_int_eq(fd, FAKE_FD);
	if (req == PTP_CLOCK_GETCAPS) {
		k.calls[3]++;
		return k.getcaps_err ? kfail(k.getcaps_err) : 0;
	}
	if (req == PTP_SYS_OFFSET_PRECISE) {
		struct ptp_sys_offset_precise *o = arg;

		k.calls[0]++;
		if (k.precise_err)
			return kfail(k.precise_err);
		pct(&o->sys_realtime, T0);
		pct(&o->device, T0 + PHC_D);
		return 0;
	}
	if (req == PTP_SYS_OFFSET_EXTENDED) {
		struct ptp_sys_offset_extended *o = arg;

		k.calls[1]++;
		if (k.extended_err)
			return kfail(k.extended_err);
		ck_assert_int_eq(o->n_samples, RC_PHC_READINGS);
		for (i = 0; i < (int)o->n_samples; i++) {
			int64_t b = T0 + i * 10000;

			pct(&o->ts[i][0], b);
			pct(&o->ts[i][1], b + width(i) / 2 + PHC_D);
			pct(&o->ts[i][2], b + width(i));
		}
		return 0;
	}
	if (req == PTP_SYS_OFFSET) {
		struct ptp_sys_offset *o = arg;

		k.calls[2]++;
		if (k.plain_err)
			return kfail(k.plain_err);
		for (i = 0; i <= (int)o->n_samples * 2; i++)
			pct(&o->ts[i], T0 + i * 1000 + (i & 1 ? PHC_D : 0));
		return 0;
	}
	if (req == PPS_GETCAP) {
		*(int *)arg = k.pps_caps;
		return 0;
	}
	if (req == PPS_GETPARAMS) {
		((struct pps_kparams *)arg)->mode = k.pps_mode;
		return 0;
	}
	if (req == PPS_SETPARAMS) {
		struct pps_kparams *p = arg;

		ck_assert_int_eq(p->api_version, PPS_API_VERS);
		k.pps_mode = p->mode;
		k.setparams++;
		return 0;
	}
	if (req == PPS_FETCH) {
		struct pps_fdata *f = arg;

		ck_assert_msg(f->timeout.sec == 0 && f->timeout.nsec == 0 &&
				      !(f->timeout.flags & PPS_TIME_INVALID),
			      "PPS_FETCH must not wait");
		f->info.assert_sequence = k.seq;
		f->info.assert_tu.sec = k.edge_sec;
		f->info.assert_tu.nsec = k.edge_sec ? 1234 : 0;
		f->info.clear_sequence = k.seq + 100;
		f->info.clear_tu.sec = k.edge_sec;
		f->info.clear_tu.nsec = k.edge_sec ? 500001234 : 0;
		return 0;
	}
	return kfail(ENOTTY);
}

static const struct rc_sys fake = {f_open, f_ioctl, f_fstat, f_close};

static void reset(void)
{
	memset(&k, 0, sizeof(k));
}

START_TEST(test_phc_precise)
{
	char why[256];
	struct rc_reader *r = rc_phc_open("/dev/ptp7", &fake, why, sizeof(why));
	struct rc_sample s;

	ck_assert_msg(r != NULL, "%s", why);
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 1);
	ck_assert_int_eq(rc_phc_mode(r), RC_PHC_PRECISE);
	ck_assert(s.local_ns == T0 && s.ref_ns == T0 + PHC_D && s.err == 0);
	ck_assert_msg(strstr(r->name, "PTP_SYS_OFFSET_PRECISE") != NULL, "%s", r->name);
	rc_close(r);
	ck_assert_int_eq(k.closed, 1);
}
END_TEST

START_TEST(test_phc_extended_kept)
{
	char why[256];
	struct rc_reader *r;
	struct rc_sample s;

	k.precise_err = EOPNOTSUPP;
	r = rc_phc_open("/dev/ptp7", &fake, why, sizeof(why));
	ck_assert_msg(r != NULL, "%s", why);
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 1);
	ck_assert_int_eq(rc_phc_mode(r), RC_PHC_EXTENDED);
	ck_assert_msg(s.local_ns == T0 + 3 * 10000 + 60 && s.ref_ns == T0 + 30000 + 60 + PHC_D,
		      "the narrowest sandwich (reading 3) should win");
	ck_assert_msg(s.err > 59e-9 && s.err < 61e-9, "err should be half its width: %g", s.err);
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 1);
	ck_assert_msg(k.calls[0] == 1 && k.calls[1] == 2,
		      "the working ioctl should be kept: precise %d, extended %d", k.calls[0],
		      k.calls[1]);
	rc_close(r);
}
END_TEST

START_TEST(test_phc_plain_and_errors)
{
	char why[256];
	struct rc_reader *r;
	struct rc_sample s;

	k.precise_err = EINVAL;
	k.extended_err = ENOTTY;
	r = rc_phc_open("/dev/ptp7", &fake, why, sizeof(why));
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 1);
	ck_assert_int_eq(rc_phc_mode(r), RC_PHC_PLAIN);
	ck_assert_int_eq(s.local_ns, T0 + 1000);
	ck_assert_int_eq(s.ref_ns, T0 + 1000 + PHC_D);
	rc_close(r);

	reset();
	k.precise_err = EOPNOTSUPP;
	k.extended_err = EIO;
	r = rc_phc_open("/dev/ptp7", &fake, why, sizeof(why));
	ck_assert_int_eq(rc_read(r, 0, &s, 1), -EIO);
	ck_assert_msg(rc_phc_mode(r) == RC_PHC_UNKNOWN && k.calls[2] == 0,
		      "a real error should be returned, not hidden by the next ioctl");
	rc_close(r);

	reset();
	k.getcaps_err = ENOTTY;
	ck_assert(rc_phc_open("/dev/ptp7", &fake, why, sizeof(why)) == NULL);
	ck_assert_msg(strstr(why, "/dev/ptp7: not a PTP hardware clock") != NULL, "%s", why);
}
END_TEST

START_TEST(test_phc_pick)
{
	struct rc_phc_reading rd[3] = {{100, 5000, 50}, {100, 7000, 300}, {200, 9000, 1200}};
	struct rc_sample s;

	ck_assert_int_eq(rc_phc_pick(rd, 3, &s), 0);
	ck_assert_msg(s.ref_ns == 7000 && s.local_ns == 200,
		      "a sandwich that ran backwards must never win");
	rd[1].after_ns = 99;
	rd[2].after_ns = 0;
	ck_assert_int_eq(rc_phc_pick(rd, 3, &s), -1);
}
END_TEST

START_TEST(test_pps)
{
	char why[256];
	struct rc_reader *r;
	struct rc_sample s;

	k.pps_caps = PPS_CAPTURECLEAR | PPS_TSFMT_TSPEC;
	ck_assert(rc_pps_open("/dev/pps3", 0, &fake, why, sizeof(why)) == NULL);
	ck_assert_msg(strstr(why, "/dev/pps3: cannot capture the assert edge") != NULL, "%s", why);
	k.pps_caps = PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC | PPS_CANWAIT;
	r = rc_pps_open("/dev/pps3", 0, &fake, why, sizeof(why));
	ck_assert_msg(r != NULL, "%s", why);
	ck_assert_msg(k.setparams == 1 && (k.pps_mode & PPS_CAPTUREASSERT),
		      "the assert edge should be enabled");
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 0); /* no edge yet (zero stamp) */
	k.seq = 5;
	k.edge_sec = 1700000000;
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 1);
	ck_assert(s.local_ns == 1700000000LL * NS_PER_SEC + 1234 && s.flags == RC_PULSE &&
		  s.seq == 5);
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 0); /* the same edge */
	k.seq = 8;
	k.edge_sec++;
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 1);
	ck_assert_int_eq(r->drops[RC_DROP_MISSED], 2);
	rc_close(r);

	reset();
	k.pps_caps = PPS_CAPTUREBOTH | PPS_TSFMT_TSPEC;
	k.pps_mode = PPS_CAPTURECLEAR | PPS_TSFMT_TSPEC;
	k.seq = 1;
	k.edge_sec = 1700000000;
	r = rc_pps_open("/dev/pps3", 1, &fake, why, sizeof(why));
	ck_assert_msg(r != NULL && k.setparams == 0, "an edge already captured needs no change");
	ck_assert_int_eq(rc_read(r, 0, &s, 1), 1);
	ck_assert_int_eq(s.local_ns, 1700000000LL * NS_PER_SEC + 500001234);
	ck_assert_int_eq(s.seq, 101);
	rc_close(r);
}
END_TEST

START_TEST(test_real_kernel)
{
	char why[256];

	if (access("/dev/ptp0", F_OK) < 0) {
		ck_assert(rc_phc_open("/dev/ptp0", NULL, why, sizeof(why)) == NULL);
		ck_assert_msg(strstr(why, "PHC /dev/ptp0: cannot open") && strstr(why, "no such"),
			      "%s", why);
	}
	if (access("/dev/pps0", F_OK) < 0) {
		ck_assert(rc_pps_open("/dev/pps0", 0, NULL, why, sizeof(why)) == NULL);
		ck_assert_msg(strstr(why, "PPS /dev/pps0: cannot open") && strstr(why, "no such"),
			      "%s", why);
	}
	ck_assert(rc_phc_open("/dev/null", NULL, why, sizeof(why)) == NULL);
	ck_assert_msg(strstr(why, "/dev/null: not a PTP hardware clock") != NULL, "%s", why);
	ck_assert(rc_pps_open("/dev/null", 0, NULL, why, sizeof(why)) == NULL);
	ck_assert_msg(strstr(why, "/dev/null: not an RFC 2783 PPS device") != NULL, "%s", why);
	ck_assert(rc_phc_open("/tmp", NULL, why, sizeof(why)) == NULL);
	ck_assert_msg(strstr(why, "/tmp: not a character device") != NULL, "%s", why);
}
END_TEST

Suite *rc_dev_suite(void)
{
	Suite *s = suite_create("rc_dev");
	TCase *tc = tcase_create("rc_dev");

	tcase_add_checked_fixture(tc, reset, NULL);
	tcase_add_test(tc, test_phc_precise);
	tcase_add_test(tc, test_phc_extended_kept);
	tcase_add_test(tc, test_phc_plain_and_errors);
	tcase_add_test(tc, test_phc_pick);
	tcase_add_test(tc, test_pps);
	tcase_add_test(tc, test_real_kernel);
	suite_add_tcase(s, tc);
	return s;
}
