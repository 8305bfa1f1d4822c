/*
 * The clock snapshot: everything a worker needs to answer a request, as
 * one value published by the clock thread (the only writer) and read by
 * every worker without a lock. Publication is a seqcount: the writer makes
 * the sequence odd, writes, makes it even; a reader copies and retries
 * while the sequence was odd or changed. The payload is stored as relaxed
 * atomic 64-bit words, so a torn read is detected, never undefined.
 *
 * Steps of the clock the workers read (a leap second's, discipline on):
 * the writer announces one before making it (clk_pub_fence), and every
 * snapshot carries the count of those announced when it was published,
 * so a worker that read its snapshot before the announcement and the
 * clock after the step finds out with one load and one compare
 * (clk_snapshot_maps); the first snapshot after the step carries the
 * clock's reading just after it, so a request the kernel stamped before
 * the step is recognised too.
 */
#ifndef HOROD_CLOCK_SNAPSHOT_H
#define HOROD_CLOCK_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

/* Snapshot flags. */
#define CLK_F_SYNCED	  0x1 /* we claim synchronization (leap != 3) */
#define CLK_F_CORRECTED	  0x2 /* served time = raw clock + our own correction */
#define CLK_F_KERNEL_SYNC 0x4 /* the kernel clock reports synchronized */

#define CLK_PHI 15e-6 /* s/s: RFC 5905 frequency tolerance, dispersion growth */

struct clk_snapshot {
	int64_t ref_ns;	   /* reference time, ns since the Unix epoch (served scale) */
	int64_t update_ns; /* served time at which root_disp and corr_ns held */
	int64_t corr_ns;   /* served = raw + corr_ns + (raw + corr_ns - update_ns) * corr_freq */
	double corr_freq;  /* fractional frequency correction (1e-6 = 1 ppm) */
	double root_delay; /* seconds, to the primary reference */
	double root_disp;  /* seconds, at update_ns */
	double disp_rate;  /* s/s growth of root_disp after update_ns: CLK_PHI + skew */
	int64_t step_sys;  /* sys ns read just after the last step of the workers' clock (the
			      first snapshots after it, see clk_snapshot_maps); 0 none */
	uint32_t refid;	   /* reference ID as in struct ntp_packet */
	uint32_t flags;	   /* CLK_F_* */
	uint8_t leap;	   /* NTP_LEAP_* */
	uint8_t stratum;   /* 1..15, 16 = unsynchronized */
	int8_t precision;  /* log2 seconds of one clock read */
	uint8_t pad;	   /* keeps the struct a whole number of 64-bit words */
	uint32_t steps;	   /* clock steps announced (clk_pub_fence) when it was published: set
			      by clk_snapshot_publish, whatever the caller put there */
};

#define CLK_SNAPSHOT_WORDS (sizeof(struct clk_snapshot) / sizeof(uint64_t))

/* ns: a receive stamp later than the transmit reading by more than this was taken before a
 * step back of the clock (a leap's is 1 s); less is the two clocks' rounding (a hardware
 * stamp converted to CLOCK_REALTIME) */
#define CLK_STEP_SLACK_NS 1000000

/* The published value: one cache line of sequence and step count, then the payload words. */
struct clk_pub {
	_Atomic uint32_t seq __attribute__((aligned(64)));
	_Atomic uint32_t steps; /* clock steps announced by clk_pub_fence */
	_Atomic uint64_t words[CLK_SNAPSHOT_WORDS] __attribute__((aligned(64)));
};

/* Zero P so the first read sees an unsynchronized, stratum 16 snapshot. */
void clk_pub_init(struct clk_pub *p);

/* Publish S (clock thread only: one writer). */
void clk_snapshot_publish(struct clk_pub *p, const struct clk_snapshot *s);

/* Copy the latest complete snapshot into OUT; never returns a torn value. */
void clk_snapshot_read(const struct clk_pub *p, struct clk_snapshot *out);

/*
 * The owner is about to step the clock the workers read (clock thread
 * only): count the step, so every snapshot published so far fails
 * clk_snapshot_maps once the step is read, and publish the last snapshot
 * again unsynchronized (LI 3, stratum 16, not CLK_F_SYNCED: clients take
 * no time from it), copied into OUT.
 */
void clk_pub_fence(struct clk_pub *p, struct clk_snapshot *out);

/*
 * 1 when snapshot S, read from P, maps the clock readings RX_SYS (the
 * request's receive stamp) and TX_SYS (read after S and after RX_SYS):
 * no step announced since S was published, RX_SYS not later than TX_SYS
 * (by more than CLK_STEP_SLACK_NS: a step back between them) and not
 * before S's step_sys (a step forward between them). 0: serve no time
 * from it (a worker answers unsynchronized).
 */
int clk_snapshot_maps(const struct clk_pub *p, const struct clk_snapshot *s, int64_t rx_sys,
		      int64_t tx_sys);

/* Served time (ns since the Unix epoch) for a raw driver reading RAW_NS. */
int64_t clk_snapshot_served(const struct clk_snapshot *s, int64_t raw_ns);

/* Root dispersion in seconds at served time NOW_NS (grown since update_ns). */
double clk_snapshot_root_disp(const struct clk_snapshot *s, int64_t now_ns);

#endif
