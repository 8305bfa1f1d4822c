/*
 * One time source as the clock core sees it, whatever its kind: its poll
 * schedule (iburst, reach register, poll adaptation, backoff when silent,
 * slowing down or stopping when the source asks), the round-trip tests
 * every measurement passes (their failures are flash bits), and the
 * measurement turned into a sample for the clock filter and the source's
 * phase/frequency estimator. The kind-specific tests (an NTP reply's
 * header, a reference clock's own status) are its driver's, which
 * reports their failures with clk_src_reject(). Times are on the core's
 * raw timescale (clock/discipline.h), which the core converts from
 * driver time before calling in.
 *
 * A step is a sample that the source's earlier ones cannot both be
 * right with: its interval (offset plus or minus half its delay and its
 * dispersion) misses the least-delayed recent sample's, projected to it
 * with the source's frequency estimate and grown at PHI plus the source's
 * skew, by more than STEP_SD times the source's noise. Either timescale
 * may have moved (ours: `date -s`, a VM resume; the source's: it stepped).
 * The source then starts again from that sample: its filter holds only
 * it, its estimator restarts the phase there and keeps the frequency (a
 * step moves phase, not rate), and it polls at minpoll (with a burst when
 * iburst is set) to learn the rest quickly; the core decides whose step
 * it was.
 */
#ifndef HOROD_CLOCK_SOURCE_H
#define HOROD_CLOCK_SOURCE_H

#include <stdint.h>

#include "clock/core.h"
#include "clock/estimate.h"
#include "clock/filter.h"
#include "proto/flash.h"

#define CLK_BURST_POLLS	  8 /* polls in an iburst: fill the 8-sample clock filter at once */
#define CLK_UNREACH_POLLS 8 /* silent polls before a source is unreachable: the reach width */

/* Tests that say the source itself is unusable now, not just one measurement. */
#define CLK_FLASH_SERVER (NTP_FLASH_UNSYNC | NTP_FLASH_STRATUM | NTP_FLASH_DENIED)

struct clk_src {
	struct clk_source_cfg cfg;
	int poll;	   /* log2 s */
	int burst;	   /* quick polls left */
	int64_t next_poll; /* raw ns */
	int64_t last_poll; /* raw ns of the last request, 0 none */
	uint8_t reach;	   /* newest poll in bit 0 */
	int polls;	   /* requests sent */
	int silent;	   /* polls since the last valid reply */
	int denied;	   /* the source refused us (an NTP DENY/RSTR kiss): polls stopped */
	unsigned flash;	   /* tests of the last measurement, unreach, peer_dist of its sample */
	/* what the source said of itself in its last valid measurement */
	int stratum, leap, precision;
	uint32_t refid;
	double root_delay, root_disp; /* s */
	int64_t last_rx;	      /* driver ns of the last valid sample, 0 = never */
	int64_t last_r1;	      /* raw ns: the request of the newest sample, 0 = none */
	struct clk_filter filt;
	struct clk_est est; /* valid once filt.n > 0 */
	int fresh;	    /* a sample arrived since the core last looked */
	/* steps seen in its samples */
	int steps;	/* samples taken as a step (the source started again from them) */
	double step_by; /* s: the last one's size (new offset - predicted) */
	int64_t step_r; /* raw ns: the request that measured it, 0 none */
	/* the core's last view, for clk_core_source_info() */
	unsigned peer; /* peer tests */
	char tally;
	double offset, delay, disp, jitter, dist; /* s */
};

/* What a source needs to know of the core when it takes a sample. */
struct clk_src_env {
	int precision;	    /* log2 s of our clock reads */
	double maxdistance; /* s */
	double freq;	    /* the system's frequency estimate (fractional) */
	double freq_sd;	    /* its standard error, < 0 unknown */
	int64_t step_r;	    /* raw ns of our last step of the driver, INT64_MIN none */
};

/* Our side of one exchange. */
struct clk_xchg {
	int64_t r1, r4; /* raw ns of the request's transmit and the reply's receive */
	int64_t t4;	/* driver ns of the reply's receive (shown as the last reception) */
};

/* Start source S from CFG, first poll at raw time NOW. */
void clk_src_init(struct clk_src *s, const struct clk_source_cfg *cfg, int64_t now);

/* Forget everything learned about S (its address changed to REFID); poll at raw time NOW. */
void clk_src_reset(struct clk_src *s, uint32_t refid, int64_t now);

/* A request went out at raw time NOW: shift reach, back off when silent, schedule the next. */
void clk_src_poll_sent(struct clk_src *s, int64_t now);

/* The source asked us at raw time NOW to poll less often: one poll step up, no burst. */
void clk_src_slow_down(struct clk_src *s, int64_t now);

/* The source refused us (flash pkt_denied): no more polls until its address changes. */
void clk_src_refused(struct clk_src *s);

/* What clk_src_sample() made of a measurement. */
enum clk_src_took {
	CLK_SRC_DROPPED = 0, /* failed a test: no sample */
	CLK_SRC_SAMPLE,	     /* a sample */
	CLK_SRC_STEP,	     /* a sample that is a step: the source started again from it */
};

/* Measurement M of exchange X (its driver's own tests passed): round-trip tests, then a
 * sample, maybe a step (enum clk_src_took). */
int clk_src_sample(struct clk_src *s, const struct clk_src_env *env, const struct clk_meas *m,
		   const struct clk_xchg *x);

/* Shift S's samples and estimate by DIR seconds less (a leap second: +1 inserted, -1
 * deleted), so that they compare with the ones taken after it. */
void clk_src_leap(struct clk_src *s, int dir);

/* A measurement failed its driver's own tests FLASH (NTP_FLASH_*): nothing is learned. */
void clk_src_reject(struct clk_src *s, unsigned flash);

/* 1 when S is unreachable: no valid sample in its last unreach_polls polls (8: the whole
 * reach register). */
int clk_src_unreachable(const struct clk_src *s);

/* Skew (fractional) to allow for S's own frequency estimate. */
double clk_src_skew(const struct clk_src *s);

#endif
