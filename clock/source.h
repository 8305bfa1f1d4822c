/*
 * One upstream source as the clock core sees it: its poll schedule
 * (iburst, reach register, poll adaptation, backoff when silent, kisses
 * of death), the RFC 5905 packet tests every reply passes (their
 * failures are the flash bits), and the reply turned into a sample for
 * the clock filter and the source's phase/frequency estimator. Times are
 * on the core's raw timescale (clock/discipline.h), which the core
 * converts from driver time before calling in.
 */
#ifndef HOROD_CLOCK_SOURCE_H
#define HOROD_CLOCK_SOURCE_H

#include <stdint.h>

#include "clock/core.h"
#include "clock/estimate.h"
#include "clock/filter.h"
#include "proto/ntp.h"

#define CLK_BURST_POLLS	  8 /* polls in an iburst: fill the 8-sample clock filter at once */
#define CLK_UNREACH_POLLS 8 /* silent polls before a source is unreachable: the reach width */

/* The packet tests whose failure drops the reply. */
#define CLK_FLASH_PKT                                                                              \
	(NTP_FLASH_DUP | NTP_FLASH_BOGUS | NTP_FLASH_UNSYNC | NTP_FLASH_DENIED | NTP_FLASH_AUTH |  \
	 NTP_FLASH_STRATUM | NTP_FLASH_HEADER | NTP_FLASH_AUTOKEY | NTP_FLASH_CRYPTO)
/* Packet tests that say the server itself is unusable now, not just one packet. */
#define CLK_FLASH_SERVER (NTP_FLASH_UNSYNC | NTP_FLASH_STRATUM | NTP_FLASH_DENIED)

struct clk_src {
	struct clk_source_cfg cfg;
	int poll;	   /* log2 s */
	int burst;	   /* quick polls left */
	int64_t next_poll; /* raw ns */
	uint8_t reach;	   /* newest poll in bit 0 */
	int polls;	   /* requests sent */
	int silent;	   /* polls since the last valid reply */
	int denied;	   /* a DENY/RSTR kiss stopped the polls */
	uint64_t last_xmt; /* transmit timestamp of the last reply (duplicates) */
	unsigned flash;	   /* packet tests of the last reply, unreach, peer_dist of its sample */
	/* the server's header in its last valid reply */
	int stratum, leap, precision;
	uint32_t refid;
	double root_delay, root_disp; /* s */
	int64_t last_rx;	      /* driver ns of the last valid sample, 0 = never */
	struct clk_filter filt;
	struct clk_est est; /* valid once filt.n > 0 */
	int fresh;	    /* a sample arrived since the core last looked */
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
	int64_t near;	/* served ns of r1: places the server's timestamps in their NTP era */
	int64_t t4;	/* driver ns of the reply's receive (shown as the last reception) */
};

/* Start source S from CFG, first poll at raw time NOW. */
void clk_src_init(struct clk_src *s, const struct clk_source_cfg *cfg, int64_t now);

/* Forget everything learned about S (its address changed to REFID); poll at raw time NOW. */
void clk_src_reset(struct clk_src *s, uint32_t refid, int64_t now);

/* A request went out at raw time NOW: shift reach, back off when silent, schedule the next. */
void clk_src_poll_sent(struct clk_src *s, int64_t now);

/* A kiss-o'-death CODE at raw time NOW: RATE slows down, DENY/RSTR stops the polls. */
void clk_src_kod(struct clk_src *s, const char *code, int64_t now);

/* Reply P (origin matched) to exchange X: packet tests, then a sample; 1 if it became one. */
int clk_src_reply(struct clk_src *s, const struct clk_src_env *env, const struct ntp_packet *p,
		  const struct clk_xchg *x);

/* Skew (fractional) to allow for S's own frequency estimate. */
double clk_src_skew(const struct clk_src *s);

#endif
