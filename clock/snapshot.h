/*
 * The clock snapshot: everything a worker needs to answer a request, as
 * one value published by the clock thread (the only writer) and read by
 * every worker without a lock. Publication is a seqcount: the writer makes
 * the sequence odd, writes, makes it even; a reader copies and retries
 * while the sequence was odd or changed. The payload is stored as relaxed
 * atomic 64-bit words, so a torn read is detected, never undefined.
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
	uint32_t refid;	   /* reference ID as in struct ntp_packet */
	uint32_t flags;	   /* CLK_F_* */
	uint8_t leap;	   /* NTP_LEAP_* */
	uint8_t stratum;   /* 1..15, 16 = unsynchronized */
	int8_t precision;  /* log2 seconds of one clock read */
	uint8_t pad[5];	   /* keeps the struct a whole number of 64-bit words */
};

#define CLK_SNAPSHOT_WORDS (sizeof(struct clk_snapshot) / sizeof(uint64_t))

/* The published value: one cache line of sequence, then the payload words. */
struct clk_pub {
	_Atomic uint32_t seq __attribute__((aligned(64)));
	_Atomic uint64_t words[CLK_SNAPSHOT_WORDS] __attribute__((aligned(64)));
};

/* Zero P so the first read sees an unsynchronized, stratum 16 snapshot. */
void clk_pub_init(struct clk_pub *p);

/* Publish S (clock thread only: one writer). */
void clk_snapshot_publish(struct clk_pub *p, const struct clk_snapshot *s);

/* Copy the latest complete snapshot into OUT; never returns a torn value. */
void clk_snapshot_read(const struct clk_pub *p, struct clk_snapshot *out);

/* Served time (ns since the Unix epoch) for a raw driver reading RAW_NS. */
int64_t clk_snapshot_served(const struct clk_snapshot *s, int64_t raw_ns);

/* Root dispersion in seconds at served time NOW_NS (grown since update_ns). */
double clk_snapshot_root_disp(const struct clk_snapshot *s, int64_t now_ns);

#endif
