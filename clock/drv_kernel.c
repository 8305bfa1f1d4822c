/*
 * The kernel clock driver: CLOCK_REALTIME, or a PTP hardware clock opened
 * from /dev/ptpN and addressed through its dynamic clock id. Every change
 * to the clock (frequency, step, status and error bounds) goes through
 * kdrv_adjtime(), the project's only clock_adjtime() caller with mode bits
 * set, which logs the modes it asked for when the kernel refuses them
 * (through clk_log: the daemon's log once main hands it in). We
 * discipline in user space, so the kernel PLL (STA_PLL) is kept off and
 * only the frequency is handed to the kernel. A driver created without
 * `adjustable` refuses every setter with -EPERM before any system call.
 *
 * Frequency. ADJ_FREQUENCY alone reaches only +-500 ppm, too slow to slew
 * away a large offset. On CLOCK_REALTIME a correction beyond that also
 * changes the tick length (ADJ_TICK: microseconds the clock advances per
 * clock tick, USER_HZ ticks a second, so one microsecond of tick is
 * USER_HZ ppm; the kernel takes the nominal tick +-10 %): whole
 * microseconds of tick carry the bulk, ADJ_FREQUENCY the remainder, both
 * in one call, so the two never disagree. Every call sets the tick, so the
 * nominal tick comes back as soon as the correction fits ADJ_FREQUENCY
 * again (and a tick left behind by a crashed predecessor is undone by the
 * first call; a driver that may not adjust the clock only warns about
 * it). A PHC has no tick: its whole correction goes to
 * ADJ_FREQUENCY, clamped to the device's own range (PTP_CLOCK_GETCAPS
 * max_adj; 500 ppm when the device does not say). The driver's max_ppm
 * tells the core how far it can go.
 *
 * Timescales. On CLOCK_REALTIME driver time is sys time. On a PHC it is
 * the PHC's time, and what horod measures and serves stays on it: the
 * receive stamps of replies and requests are CLOCK_REALTIME, so the
 * driver's mapping (driver.h) is the PHC against CLOCK_REALTIME,
 * measured at every tick (the narrowest of KDRV_PHC_READS reads of
 * CLOCK_REALTIME, the PHC, CLOCK_REALTIME) and carried between ticks by
 * the rate of the PHC against CLOCK_REALTIME: the correction we set
 * ourselves, exactly, plus the rest (the two oscillators), estimated over
 * KDRV_PHC_SPAN_NS with our own corrections and steps taken out, and a
 * span across which CLOCK_REALTIME was stepped (a leap second, `date -s`:
 * CLOCK_REALTIME - CLOCK_MONOTONIC moved) discarded, not taken for a rate
 * (a 1 s step in 16 s would be 62,500 ppm). The PHC
 * is kept on the scale horod serves (UTC): a PHC that ptp4l keeps in TAI
 * is not one for horod to discipline. A PHC has no kernel status
 * (ptp_clock_adjtime refuses ADJ_STATUS, ADJ_MAXERROR, ADJ_ESTERROR):
 * the first refusal is logged once and the status never asked again.
 *
 * Leap seconds. On CLOCK_REALTIME an insertion or deletion armed
 * (STA_INS / STA_DEL: by our set_status, or by another program when the
 * clock is not ours) is applied by Linux itself at the end of the UTC day;
 * leaps() says what is armed and counts the ones applied, from a
 * read-only clock_adjtime() (TIME_OOP during the inserted second,
 * TIME_WAIT after either until the flag goes), so the core can tell when
 * its clock stepped and never applies one twice. A PHC is never
 * leap-stepped by the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/ptp_clock.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock/driver.h"
#include "clock/kclock.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

/* ppm: the kernel's frequency limit (MAXFREQ); asking for more is refused or clamped */
#define KDRV_MAX_PPM 500.0
/* us per s: the tick length times USER_HZ is one second */
#define KDRV_US_PER_S 1000000L
/* us per s: the kernel accepts a tick of 90 % to 110 % of nominal (ADJ_TICK's check) */
#define KDRV_TICK_MIN_US_PER_S 900000L
#define KDRV_TICK_MAX_US_PER_S 1100000L
/* ppb per ppm: PTP_CLOCK_GETCAPS gives the PHC's range in ppb */
#define KDRV_PPB_PER_PPM 1000.0
/* scaled ppm per ppm: timex.freq carries ppm with a 16-bit binary fraction */
#define KDRV_FREQ_SCALE 65536.0
/* µs: the largest error bound the kernel keeps (NTP_PHASE_LIMIT, 16 s); more means unknown */
#define KDRV_MAX_ERROR_US 16000000L
/* reads of CLOCK_REALTIME, PHC, CLOCK_REALTIME per measurement: the narrowest wins (a read
 * preempted or stalled by the VM is wide) */
#define KDRV_PHC_READS 5
/* ns between the two measurements that estimate the PHC's rate: a few us of read noise over
 * 16 s is a fraction of a ppm, a fraction of a us over the second until the next tick */
#define KDRV_PHC_SPAN_NS (16 * NS_PER_SEC)

struct kdrv {
	struct clk_driver base; /* first: the core holds a pointer to it */
	clockid_t id;		/* CLOCK_REALTIME or the PHC's dynamic id */
	int fd;			/* the open PHC, or -1 */
	int phc;		/* driver time is not sys time: a PHC (or, in tests, a stand-in) */
	char name[64];		/* for log lines: "CLOCK_REALTIME" or the device path */
	long hz;		/* USER_HZ: ticks a second, ppm per us of tick; 0 = no tick */
	long tick0;		/* us: the nominal tick */
	long dtick_max;		/* us: the largest change of the tick the kernel accepts */
	double freq_max;	/* ppm: the largest ADJ_FREQUENCY the clock accepts */
	/* a PHC: the map sys -> PHC, measured at each tick (see the top) */
	int64_t map_sys;    /* sys ns of the last measurement */
	int64_t map_off;    /* ns: PHC - sys there */
	double rest;	    /* fractional: the PHC's rate against sys, our correction aside */
	double corr;	    /* fractional: the correction set_freq set on the PHC */
	int64_t anchor_sys; /* sys ns and PHC - sys (ns) where the rate's estimate starts; */
	int64_t anchor_off; /* anchor_sys 0: none yet */
	int64_t anchor_rtm; /* ns: CLOCK_REALTIME - CLOCK_MONOTONIC there (moved: a step) */
	int rt_steps;	    /* spans discarded for a step of CLOCK_REALTIME (logged the first) */
	double ours_ns;	    /* ns: what our corrections and steps moved the PHC since the anchor */
	int64_t ours_sys;   /* sys ns up to which ours_ns is integrated */
	int have_rest;	    /* rest was measured once */
	int status_none;    /* the PHC refused ADJ_STATUS: said once, never asked again */
	int leap_seen;	    /* the armed leap was seen applied (counted in leaps) */
	int leaps;	    /* net leap seconds the kernel applied: +1 insertion, -1 deletion */
};

/* The dynamic clock id of an open posix clock (a PHC) on FD. */
static clockid_t kdrv_fd_to_clockid(int fd)
{
	return (clockid_t)((((unsigned int)~fd) << 3) | 3);
}

/* The only clock_adjtime() call that changes a clock: 0, or -errno after a log line. */
static int kdrv_adjtime(struct kdrv *k, struct timex *tx, const char *what)
{
	unsigned int modes = tx->modes;
	int err;

	if (clock_adjtime(k->id, tx) >= 0)
		return 0;
	err = errno;
	clk_log(LOG_ERR, "clock_adjtime(%s, modes=0x%04x) to %s failed: %s", k->name, modes, what,
		strerror(err));
	return -err;
}

static int64_t kdrv_now(struct clk_driver *d)
{
	struct kdrv *k = d->priv;

	return clk_now_ns(k->id);
}

/* PHC: one measurement of the PHC against sys: *SYS, and *OFF = PHC - sys there; 0 or -1. */
static int kdrv_phc_measure(const struct kdrv *k, int64_t *sys, int64_t *off)
{
	struct timespec a, p, b;
	int64_t best = INT64_MAX, w, mid;
	int i;

	for (i = 0; i < KDRV_PHC_READS; i++) {
		if (clock_gettime(CLOCK_REALTIME, &a) < 0 || clock_gettime(k->id, &p) < 0 ||
		    clock_gettime(CLOCK_REALTIME, &b) < 0)
			return -1;
		w = ns_from_timespec(&b) - ns_from_timespec(&a);
		if (w < 0 || w >= best)
			continue;
		best = w;
		mid = ns_from_timespec(&a) + w / 2;
		*sys = mid;
		*off = ns_from_timespec(&p) - mid;
	}
	return best == INT64_MAX ? -1 : 0;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC (ns), the narrowest of KDRV_PHC_READS bracketed reads;
 * CLK_RT_MONO_UNKNOWN when every read was wider than CLK_RT_STEP_SLACK_NS. */
static int64_t kdrv_rt_mono(void)
{
	struct timespec a, r, b;
	int64_t best = INT64_MAX, w, out = CLK_RT_MONO_UNKNOWN;
	int i;

	for (i = 0; i < KDRV_PHC_READS; i++) {
		if (clock_gettime(CLOCK_MONOTONIC, &a) < 0 ||
		    clock_gettime(CLOCK_REALTIME, &r) < 0 || clock_gettime(CLOCK_MONOTONIC, &b) < 0)
			return CLK_RT_MONO_UNKNOWN;
		w = ns_from_timespec(&b) - ns_from_timespec(&a);
		if (w < 0 || w >= best || w > CLK_RT_STEP_SLACK_NS)
			continue;
		best = w;
		out = ns_from_timespec(&r) - (ns_from_timespec(&a) + w / 2);
	}
	return out;
}

int clk_phc_span_rate(int64_t sys0, int64_t off0, int64_t rtm0, int64_t sys1, int64_t off1,
		      int64_t rtm1, double ours_ns, double *rate)
{
	double span = ns_diff(sys1, sys0);

	if (!(span > 0.0) || rtm0 == CLK_RT_MONO_UNKNOWN || rtm1 == CLK_RT_MONO_UNKNOWN ||
	    fabs(ns_diff(rtm1, rtm0)) > (double)CLK_RT_STEP_SLACK_NS)
		return 0;
	*rate = (ns_diff(off1, off0) - ours_ns) / span;
	return 1;
}

/* PHC: driver time of sys time SYS on the current map. */
static int64_t kdrv_phc_at(const struct kdrv *k, int64_t sys)
{
	return ns_add_sat(ns_add_sat(sys, k->map_off),
			  ns_round_sat(ns_diff(sys, k->map_sys) * (k->rest + k->corr)));
}

/* PHC: our own correction integrated up to sys time SYS (it moved the PHC by corr a second). */
static void kdrv_phc_ours(struct kdrv *k, int64_t sys)
{
	k->ours_ns += k->corr * ns_diff(sys, k->ours_sys);
	k->ours_sys = sys;
}

/*
 * PHC: measure, re-anchor the map there, and every KDRV_PHC_SPAN_NS take
 * the PHC's rate against sys from the offsets' change less what our own
 * corrections and steps did.
 */
static void kdrv_phc_sync(struct kdrv *k)
{
	int64_t sys, off, rtm;
	double rate;

	if (!k->phc || kdrv_phc_measure(k, &sys, &off) < 0)
		return;
	rtm = kdrv_rt_mono();
	kdrv_phc_ours(k, sys);
	k->map_sys = sys;
	k->map_off = off;
	if (k->anchor_sys && sys >= k->anchor_sys &&
	    ns_diff(sys, k->anchor_sys) < (double)KDRV_PHC_SPAN_NS &&
	    (rtm == k->anchor_rtm || fabs(ns_diff(rtm, k->anchor_rtm)) <= CLK_RT_STEP_SLACK_NS))
		return; /* the span goes on */
	if (k->anchor_sys && sys >= k->anchor_sys) {
		if (clk_phc_span_rate(k->anchor_sys, k->anchor_off, k->anchor_rtm, sys, off, rtm,
				      k->ours_ns, &rate) &&
		    ns_diff(sys, k->anchor_sys) >= (double)KDRV_PHC_SPAN_NS) {
			/* Half the new estimate, half the old: the read noise of one span
			 * averages out. */
			k->rest = k->have_rest ? 0.5 * (k->rest + rate) : rate;
			k->have_rest = 1;
		} else if (k->rt_steps++ == 0) {
			clk_log(LOG_INFO,
				"%s: CLOCK_REALTIME was stepped (or its reads stalled): the PHC's "
				"rate over that span is discarded, estimated again from here",
				k->name);
		}
	}
	/* A new span starts here (the first, or after a step of CLOCK_REALTIME). */
	k->anchor_sys = sys;
	k->anchor_off = off;
	k->anchor_rtm = rtm;
	k->ours_ns = 0.0;
}

/* PHC: move the map's anchor to sys time now, keeping it continuous (before a change). */
static int64_t kdrv_phc_rebase(struct kdrv *k)
{
	int64_t sys = clk_now_ns(CLOCK_REALTIME);

	k->map_off = kdrv_phc_at(k, sys) - sys;
	k->map_sys = sys;
	kdrv_phc_ours(k, sys);
	return sys;
}

/* sys to driver time: the identity on CLOCK_REALTIME, the measured map on a PHC. */
static void kdrv_mapping(struct clk_driver *d, int64_t *offset_ns, double *freq, int64_t *base_ns)
{
	struct kdrv *k = d->priv;

	if (!k->phc) {
		*offset_ns = 0;
		*freq = 0.0;
		*base_ns = 0;
		return;
	}
	*offset_ns = k->map_off;
	*freq = k->rest + k->corr;
	*base_ns = k->map_sys;
}

/* Each publication: a PHC's map measured again. */
static void kdrv_tick(struct clk_driver *d)
{
	kdrv_phc_sync(d->priv);
}

/* X clamped to [-LIM, LIM]. */
static double kdrv_clamp(double x, double lim)
{
	return x > lim ? lim : x < -lim ? -lim : x;
}

/*
 * Within ADJ_FREQUENCY's range the tick stays nominal; beyond it, the
 * nearest whole microseconds of tick take the bulk and leave a remainder
 * of at most USER_HZ / 2 ppm to ADJ_FREQUENCY. The two add up exactly:
 * the kernel's second is tick * USER_HZ us plus the frequency offset.
 */
static int kdrv_set_freq(struct clk_driver *d, double ppm)
{
	struct kdrv *k = d->priv;
	struct timex tx;
	double scaled, dtick = 0.0;
	long asked;
	int err;

	if (!d->adjustable)
		return -EPERM;
	if (!isfinite(ppm))
		return -EINVAL;
	ppm = kdrv_clamp(ppm, d->max_ppm);
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY;
	if (k->hz > 0) {
		if (fabs(ppm) > k->freq_max)
			dtick = kdrv_clamp(round(ppm / (double)k->hz), (double)k->dtick_max);
		ppm -= dtick * (double)k->hz;
		tx.modes |= ADJ_TICK;
		tx.tick = k->tick0 + (long)dtick;
	}
	scaled = kdrv_clamp(ppm, k->freq_max) * KDRV_FREQ_SCALE;
	tx.freq = (long)(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
	asked = tx.freq;
	err = kdrv_adjtime(k, &tx, "set the frequency");
	if (err < 0)
		return err;
	if (k->phc) {
		/* The PHC runs at its new rate from now: the map follows at once. */
		kdrv_phc_rebase(k);
		k->corr = (double)asked / KDRV_FREQ_SCALE * 1e-6;
	}
	return 0;
}

static int kdrv_step(struct clk_driver *d, int64_t offset_ns)
{
	struct kdrv *k = d->priv;
	struct timex tx;
	struct timespec off;
	int err;

	if (!d->adjustable)
		return -EPERM;
	/* The kernel wants 0 <= ns < 1 s: -1.25 s is -2 s + 0.75 s. */
	ns_to_timespec(offset_ns, &off);
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	tx.time.tv_sec = off.tv_sec;
	tx.time.tv_usec = off.tv_nsec; /* nanoseconds with ADJ_NANO */
	err = kdrv_adjtime(k, &tx, "step");
	if (err < 0)
		return err;
	if (k->phc) {
		kdrv_phc_rebase(k);
		k->map_off = ns_add_sat(k->map_off, offset_ns);
		k->ours_ns += (double)offset_ns;
	}
	return 0;
}

/* Seconds to the kernel's microseconds, clamped to what it keeps; NaN = unknown. */
static long kdrv_error_us(double s)
{
	if (!(s >= 0.0))
		return s < 0.0 ? 0 : KDRV_MAX_ERROR_US;
	if (s * 1e6 >= (double)KDRV_MAX_ERROR_US)
		return KDRV_MAX_ERROR_US;
	return (long)(s * 1e6 + 0.5);
}

static int kdrv_set_status(struct clk_driver *d, int leap, int synced, double maxerror,
			   double esterror)
{
	struct kdrv *k = d->priv;
	struct timex tx;

	if (!d->adjustable)
		return -EPERM;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
	/* We own the clock's writable status: STA_PLL (and the PPS bits)
	 * stay off, only sync and the leap announcement are ours to say. */
	tx.status = 0;
	if (!synced || leap == NTP_LEAP_UNSYNC)
		tx.status |= STA_UNSYNC;
	else if (leap == NTP_LEAP_INSERT)
		tx.status |= STA_INS;
	else if (leap == NTP_LEAP_DELETE)
		tx.status |= STA_DEL;
	tx.maxerror = kdrv_error_us(maxerror);
	tx.esterror = kdrv_error_us(esterror);
	if (!k->phc)
		return kdrv_adjtime(k, &tx, "set the status");
	/* A PHC: the kernel keeps no status for it, which its first refusal tells. */
	if (k->status_none)
		return -EOPNOTSUPP;
	if (clock_adjtime(k->id, &tx) >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EINVAL) {
		clk_log(LOG_ERR, "clock_adjtime(%s, modes=0x%04x) to set the status failed: %s",
			k->name, tx.modes, strerror(errno));
		return -errno;
	}
	k->status_none = 1;
	clk_log(LOG_NOTICE,
		"%s keeps no kernel status (clock_adjtime refuses ADJ_STATUS, ADJ_MAXERROR, "
		"ADJ_ESTERROR: %s): its leap and error bounds are horod's own, not the kernel's",
		k->name, strerror(errno));
	return -EOPNOTSUPP;
}

static int kdrv_leaps(struct clk_driver *d, int *armed)
{
	struct kdrv *k = d->priv;
	struct timex tx;
	int state, arm;

	if (armed)
		*armed = 0;
	if (k->fd >= 0)
		return k->leaps;
	memset(&tx, 0, sizeof(tx)); /* modes 0: read only */
	state = clock_adjtime(k->id, &tx);
	if (state < 0)
		return k->leaps;
	arm = (tx.status & STA_INS) ? 1 : (tx.status & STA_DEL) ? -1 : 0;
	if (armed)
		*armed = arm;
	if (arm && (state == TIME_OOP || state == TIME_WAIT)) {
		if (!k->leap_seen)
			k->leaps += arm;
		k->leap_seen = 1;
	} else if (state != TIME_ERROR) {
		k->leap_seen = 0; /* none applied (yet): the next one counts */
	}
	return k->leaps;
}

static double kdrv_true_error(struct clk_driver *d, int64_t served_ns, int64_t truth_ns)
{
	(void)d;
	(void)served_ns;
	(void)truth_ns;
	return NAN; /* a real clock does not know its own error */
}

static void kdrv_destroy(struct clk_driver *d)
{
	struct kdrv *k;

	if (!d)
		return;
	k = d->priv;
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

/* CLOCK_REALTIME's tick: nominal length and range from USER_HZ, as the kernel computes them. */
static void kdrv_init_tick(struct kdrv *k)
{
	long hz = sysconf(_SC_CLK_TCK);

	/* Without a sane USER_HZ the tick stays alone: ADJ_FREQUENCY's range only. */
	if (hz <= 0 || hz > KDRV_US_PER_S)
		return;
	k->hz = hz;
	k->tick0 = (KDRV_US_PER_S + hz / 2) / hz;
	k->dtick_max = KDRV_TICK_MAX_US_PER_S / hz - k->tick0;
	if (k->tick0 - KDRV_TICK_MIN_US_PER_S / hz < k->dtick_max)
		k->dtick_max = k->tick0 - KDRV_TICK_MIN_US_PER_S / hz;
	if (k->dtick_max < 0)
		k->dtick_max = 0;
	k->base.max_ppm = k->freq_max + (double)(k->dtick_max * hz);
}

/*
 * A tick that is not nominal at start-up is a slew someone left running:
 * a horod killed (kill -9, a crash) while slewing leaves the kernel
 * slewing at its last rate, up to 8 %, until the next start. Say so; an
 * adjustable driver's first frequency set puts the tick back, one that
 * may not adjust leaves it as it is.
 */
static void kdrv_check_tick(const struct kdrv *k)
{
	struct clk_kstate ks;

	if (clk_kernel_read(k->id, &ks) < 0 || ks.tick_us == k->tick0)
		return;
	clk_log(LOG_WARNING,
		"%s runs with a tick of %ld us, not %ld: a slew of %+.0f ppm left by a program "
		"killed while slewing (horod after a kill -9)%s",
		k->name, ks.tick_us, k->tick0, (double)(ks.tick_us - k->tick0) * (double)k->hz,
		k->base.adjustable ? "; the first frequency set puts it back"
				   : "; horod leaves it (the clock is not its to adjust here)");
}

/* A PHC's frequency range: what the device says (ppb), less 1 ppb against the kernel's
 * rounding, and less than timex.freq can carry (1 ppm short of a long's range, so the
 * rounding never overflows); 500 ppm when the device does not say. */
static void kdrv_init_phc_range(struct kdrv *k)
{
	struct ptp_clock_caps caps;
	double lim = (double)LONG_MAX / KDRV_FREQ_SCALE - 1.0;

	memset(&caps, 0, sizeof(caps));
	if (ioctl(k->fd, PTP_CLOCK_GETCAPS, &caps) < 0 || caps.max_adj <= 1)
		return;
	k->freq_max = fmin((double)(caps.max_adj - 1) / KDRV_PPB_PER_PPM, lim);
	k->base.max_ppm = k->freq_max;
}

static const struct clk_driver_ops kdrv_ops = {
	.name = "kernel",
	.now = kdrv_now,
	.mapping = kdrv_mapping,
	.set_freq = kdrv_set_freq,
	.step = kdrv_step,
	.set_status = kdrv_set_status,
	.tick = kdrv_tick,
	.leaps = kdrv_leaps,
	.true_error = kdrv_true_error,
	.destroy = kdrv_destroy,
};

/* A driver on CLOCK_REALTIME, ADJUSTABLE or not; NULL with WHY when out of memory. */
static struct kdrv *kdrv_new(int adjustable, char *why, unsigned long whylen)
{
	struct kdrv *k = calloc(1, sizeof(*k));

	if (!k) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	k->base.ops = &kdrv_ops;
	k->base.adjustable = adjustable ? 1 : 0;
	k->base.priv = k;
	k->fd = -1;
	k->id = CLOCK_REALTIME;
	snprintf(k->name, sizeof(k->name), "CLOCK_REALTIME");
	k->freq_max = KDRV_MAX_PPM;
	k->base.max_ppm = KDRV_MAX_PPM;
	return k;
}

/* K's clock is not sys time: measure its map before anything converts a stamp through it. */
static int kdrv_phc_start(struct kdrv *k, char *why, unsigned long whylen)
{
	k->phc = 1;
	kdrv_phc_sync(k);
	if (!k->anchor_sys) {
		snprintf(why, whylen, "%s: cannot read it against CLOCK_REALTIME", k->name);
		return -1;
	}
	return 0;
}

struct clk_driver *clk_driver_kernel(const char *phc_path, int adjustable, char *why,
				     unsigned long whylen)
{
	struct kdrv *k;
	struct timespec ts;
	struct stat st;
	int err;

	k = kdrv_new(adjustable, why, whylen);
	if (!k)
		return NULL;
	if (!phc_path) {
		kdrv_init_tick(k);
		if (k->hz > 0)
			kdrv_check_tick(k);
		return &k->base;
	}

	snprintf(k->name, sizeof(k->name), "%s", phc_path);
	/* A PHC only takes changes through a descriptor open for writing. */
	k->fd = open(phc_path, (adjustable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (k->fd < 0) {
		snprintf(why, whylen, "cannot open PHC %s: %s", phc_path, strerror(errno));
		goto fail;
	}
	if (fstat(k->fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		snprintf(why, whylen, "%s is not a PHC (not a character device)", phc_path);
		goto fail;
	}
	k->id = kdrv_fd_to_clockid(k->fd);
	/* A read proves the device is a posix clock; it changes nothing. */
	if (clock_gettime(k->id, &ts) < 0) {
		err = errno;
		snprintf(why, whylen, "%s is not a PHC (cannot read it as a clock: %s)", phc_path,
			 strerror(err));
		goto fail;
	}
	kdrv_init_phc_range(k);
	if (kdrv_phc_start(k, why, whylen) < 0)
		goto fail;
	return &k->base;
fail:
	if (k->fd >= 0)
		close(k->fd);
	free(k);
	return NULL;
}

struct clk_driver *clk_driver_kernel_posix(clockid_t id, const char *name, int adjustable,
					   char *why, unsigned long whylen)
{
	struct kdrv *k = kdrv_new(adjustable, why, whylen);

	if (!k)
		return NULL;
	k->id = id;
	snprintf(k->name, sizeof(k->name), "%s", name);
	if (kdrv_phc_start(k, why, whylen) < 0) {
		free(k);
		return NULL;
	}
	return &k->base;
}
