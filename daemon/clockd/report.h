/*
 * The clock thread's report: everything the control socket, the metrics,
 * the mode 6 answers and the SIGUSR1 lines show about the clock, in one
 * API, so that none of them reaches into the clock core, its driver or
 * the source drivers. Tracking (what the clock follows, the snapshot
 * being served, the core's offsets, frequency and error bound, the
 * driver and whether the core steers it, the sim driver's true error),
 * the sources (one list: every source but the local reference, which
 * tracking covers; an NTP server's address and port, a reference clock's
 * device and counters beside the core's view; the clock filter's
 * samples) and the upstream counters. The
 * report functions read the clock thread's own state: call them from
 * the clock thread (control and mode 6 are served from its loop), no
 * locks.
 */
#ifndef HOROD_DAEMON_CLOCKD_REPORT_H
#define HOROD_DAEMON_CLOCKD_REPORT_H

#include <netinet/in.h>
#include <stdint.h>

#include "clock/snapshot.h"
#include "daemon/clockd/refsrc.h"
#include "daemon/refclock/refclock.h"

struct clockd;

/* What the clock follows, by configuration. */
enum clockd_mode {
	CLOCKD_MODE_NONE,  /* no time source: the snapshot stays unsynchronized */
	CLOCKD_MODE_LOCAL, /* the local reference alone (`local stratum N`, no server) */
	CLOCKD_MODE_NTP,   /* sources that measure (refclocks, servers, pools), the local reference
			      their   fallback when configured */
};

struct clockd_tracking {
	enum clockd_mode mode;
	struct clk_snapshot snap; /* the snapshot last published: what the workers serve */
	int64_t sys_ns;		  /* the system clock when the report was made */
	/* the clock core's view (nothing measured: zeros, refid and stratum of what it serves) */
	uint32_t refid;
	int stratum;
	int leap;
	int synced; /* synchronized to its sources (not to the local reference) */
	int64_t ref_ns;
	double offset;	   /* s: last combined offset */
	double rms_offset; /* s */
	double freq_ppm;   /* frequency correction */
	double residual_freq_ppm;
	double skew_ppm;
	double root_delay;	/* s */
	double root_disp;	/* s, now */
	double update_interval; /* s between the last two clock updates */
	int updates, steps;
	int sys_peer;	    /* index of the system peer in the source list, -1 none */
	const char *driver; /* the clock driver's name: "kernel", "sim" */
	int discipline;	    /* 1: the core steers the driver; 0: it serves its own correction */
	int has_true_error; /* the driver knows a truth (the sim driver; the kernel says NaN) */
	double true_error;  /* s: served time minus the truth, now */
	int n_sources;	    /* sources in the list */
	/* the leap table (`leapfile`, `leapsectz`) */
	const char *leap_path;	/* the file read, NULL none */
	int leap_expiry;	/* CLK_LEAP_EXP_* at the served time now */
	int64_t leap_expires_s; /* Unix s, 0 none given */
	int64_t leap_next_s;	/* Unix s: the midnight of its next leap, 0 none */
	int leap_next_dir;	/* +1 insertion, -1 deletion */
	/* the leap second the core plans, and the smear (clock/core.h's clk_tracking) */
	int leapmode;	     /* enum clk_leapmode */
	int leap_dir;	     /* +1 insertion, -1 deletion, 0 none planned */
	int64_t leap_m;	     /* Unix s: the midnight it ends at */
	int leap_table;	     /* 1: the leap table is the authority now */
	int64_t smear_s;     /* s: the smear interval */
	int smearing;	     /* 1: the served time is smeared now */
	double smear_offset; /* s: served (smeared) minus UTC, at the last clock update */
};

/* One source of the list, as `horoctl sources` and ntpq show it. */
struct clockd_source {
	int kind; /* CLK_KIND_* (clock/core.h) */
	char name[64];
	char tally;	/* '*' sys.peer, '+' candidate, '-' outlier, 'x' falseticker, '#' backup,
			   ' ' rejected */
	uint32_t refid; /* the source's own refid */
	int stratum;
	int poll;	      /* log2 s, current */
	uint8_t reach;	      /* newest poll in bit 0 */
	int64_t since_rx_ns;  /* driver ns since its last valid sample; -1 never */
	double delay;	      /* s */
	double offset;	      /* s, source - us */
	double jitter;	      /* s */
	double dispersion;    /* s */
	double root_distance; /* s */
	unsigned flash;	      /* NTP_FLASH_* */
	int leap;	      /* the source's */
	int precision;	      /* log2 s, the source's */
	double root_delay;    /* s, the source's */
	double root_disp;     /* s, the source's */
	/* what its driver knows: an NTP server's place */
	int configured;		     /* from a `server` or `refclock` line, not a pool (ntpq's
					conf bit) */
	int unanswered;		     /* polls in a row without a valid reply (or sample) */
	char addr[INET6_ADDRSTRLEN]; /* its address, "" while unresolved or without one */
	int port;		     /* its port, 0 without */
	int v6;			     /* the address is IPv6 */
	const char *auth;	     /* "nts", "key" (a MAC), or "none" */
	int nts_cookies;	     /* NTS: cookies held, -1 while NTS-KE is due */
	/* a reference clock's (kind CLK_KIND_REFCLOCK) */
	char rc_driver[8];	      /* "PHC", "PPS", "SHM", "SOCK" */
	char rc_device[RC_NAME_MAX];  /* what it reads: "SHM key 0x4e545030" */
	char rc_srchost[16];	      /* as ntpq shows a refclock: "SHM(0)" */
	int rc_type, rc_unit;	      /* mode 6's address 127.127.TYPE.UNIT (ntpd's numbers) */
	struct rs_counts rc;	      /* samples, polls, what was not used */
	uint64_t rc_drops[RC_DROP_N]; /* samples its reader refused, by reason (rc_drop_names) */
};

#define CLOCKD_FILTER_LEN 8 /* filter samples shown: RFC 5905's filter length, as ntpq's */

/* The newest clock filter samples of a source (ntpq's filt* variables), newest first. */
struct clockd_filter {
	int n;				  /* samples below, at most CLOCKD_FILTER_LEN */
	double delay[CLOCKD_FILTER_LEN];  /* s */
	double offset[CLOCKD_FILTER_LEN]; /* s, on the scale of the source's offset */
	double disp[CLOCKD_FILTER_LEN];	  /* s, grown to now */
};

/* The client side's counters (NTP upstream requests and replies). */
struct clockd_upstream {
	uint64_t sent, received, valid, bogus, kod;
	uint64_t auth_fail;	 /* replies to an authenticated source that are not authentic */
	uint64_t nts_nak;	 /* NTS NAKs */
	uint64_t ke_ok, ke_fail; /* NTS-KE exchanges */
	uint64_t interleaved, basic_xleave, tx_stamps; /* xleave sources (upstream.h) */
};

/* Tracking now into OUT. */
void clockd_report_tracking(const struct clockd *cd, struct clockd_tracking *out);

/* Sources in the list. */
int clockd_report_n_sources(const struct clockd *cd);

/* Source I of the list (0..n-1) into OUT; 0, or -1 when there is none. */
int clockd_report_source(const struct clockd *cd, int i, struct clockd_source *out);

/* The filter samples of source I of the list into OUT; 0, or -1. */
int clockd_report_filter(const struct clockd *cd, int i, struct clockd_filter *out);

/* The upstream counters into OUT (zeros without NTP sources). */
void clockd_report_upstream(const struct clockd *cd, struct clockd_upstream *out);

#endif
