/*
 * Clock drivers: the only code that reads or changes a clock's
 * frequency, phase or status. The core talks to one driver through these
 * operations and never reads time any other way, so it runs unchanged in
 * real time (`kernel`: clock_adjtime on CLOCK_REALTIME or a PHC) and in
 * simulated time (`sim`: a virtual clock over a "truth" clock, which is
 * the system clock in the daemon and simulated time in the tests).
 *
 * Time scales. "sys" is what workers and the kernel's receive stamps read
 * (CLOCK_REALTIME). "driver time" is the clock being disciplined: equal to
 * sys for the kernel driver on CLOCK_REALTIME, the PHC's time (measured
 * against sys at each tick) for the kernel driver on a PHC, sys mapped
 * through the sim clock's phase and frequency for the sim driver. Every
 * timestamp of a sys reading is converted to driver time before the core
 * sees it, and served time comes from driver time: the two scales never
 * mix. The mapping is linear between updates:
 *     driver(sys) = sys + offset_ns + (sys - base_ns) * freq
 * and the core publishes it (composed with its own correction when not
 * disciplining) in the clock snapshot, so workers turn a sys reading into
 * served time without calling the driver.
 */
#ifndef HOROD_CLOCK_DRIVER_H
#define HOROD_CLOCK_DRIVER_H

#include <stdint.h>
#include <time.h>

struct clk_driver;

struct clk_driver_ops {
	const char *name; /* "kernel", "sim" */
	/* Driver time now, ns since the Unix epoch. */
	int64_t (*now)(struct clk_driver *d);
	/* Linear map from sys to driver time valid now (see above). */
	void (*mapping)(struct clk_driver *d, int64_t *offset_ns, double *freq, int64_t *base_ns);
	/* Set the frequency correction to PPM (absolute, positive = run faster; clamped to
	 * max_ppm); 0 or -errno. */
	int (*set_freq)(struct clk_driver *d, double ppm);
	/* Step the clock by OFFSET_NS (positive = forward); 0 or -errno. */
	int (*step)(struct clk_driver *d, int64_t offset_ns);
	/* Tell the clock's users our state: leap (NTP_LEAP_*), synced, error bounds in s; 0 or
	 * -errno. */
	int (*set_status)(struct clk_driver *d, int leap, int synced, double maxerror,
			  double esterror);
	/* Advance internal state to now (sim: apply wander; a PHC: measure the mapping again);
	 * may be NULL. */
	void (*tick)(struct clk_driver *d);
	/* Net leap seconds the clock applied itself since the driver started (+1 per
	 * insertion, -1 per deletion); in *ARMED the leap armed in the clock now (+1, -1, 0),
	 * whoever armed it (Linux applies an armed one at the end of the UTC day). May be
	 * NULL: the clock never applies leaps. */
	int (*leaps)(struct clk_driver *d, int *armed);
	/* Served-time error against the truth clock in s, given the core's correction; NAN if
	 * unknown. */
	double (*true_error)(struct clk_driver *d, int64_t served_ns, int64_t truth_ns);
	/* Release the driver. */
	void (*destroy)(struct clk_driver *d);
};

struct clk_driver {
	const struct clk_driver_ops *ops;
	int adjustable; /* 0: setters must not be called (discipline off, or not permitted) */
	/* ppm: the largest |set_freq| the driver applies exactly (it clamps beyond);
	 * 0 = not said, taken as the kernel's ADJ_FREQUENCY limit (500 ppm) */
	double max_ppm;
	void *priv;
};

/* Truth clock of the sim driver: ns since the Unix epoch (system clock or simulated time). */
typedef int64_t (*clk_truth_fn)(void *arg);

/* Sim driver parameters (`driver sim [offset S] [freq PPM] [wander PPM_PER_SQRT_S] [seed N]`). */
struct clk_sim_cfg {
	double offset;	  /* s: initial phase error (driver - truth) */
	double freq;	  /* ppm: frequency error of the virtual oscillator */
	double wander;	  /* ppm/sqrt(s): random-walk frequency noise */
	uint64_t seed;	  /* PRNG seed: same seed, same wander */
	int64_t shift_ns; /* ns: a simulated date: driver = truth + shift + phase (0: the truth's)
			   */
};

/* A kernel driver on CLOCK_REALTIME (PHC_PATH NULL) or a PHC; NULL with WHY on failure. */
struct clk_driver *clk_driver_kernel(const char *phc_path, int adjustable, char *why,
				     unsigned long whylen);

/* A kernel driver on the posix clock ID named NAME, mapped from sys time as a PHC is (tests:
 * a clock such as CLOCK_MONOTONIC stands in for a PHC this machine lacks); NULL with WHY. */
struct clk_driver *clk_driver_kernel_posix(clockid_t id, const char *name, int adjustable,
					   char *why, unsigned long whylen);

/* A sim driver over TRUTH(ARG); its setters act on the virtual clock only. */
struct clk_driver *clk_driver_sim(const struct clk_sim_cfg *cfg, clk_truth_fn truth, void *arg);

/* Tests: sim driver D's phase (driver - truth, s) and frequency error (ppm) now; 0 or -EINVAL. */
int clk_sim_state(struct clk_driver *d, double *phase_s, double *freq_ppm);

/* Tests: step sim driver D's clock by OFFSET_NS behind the core's back, as `date -s`, a VM
 * resume or another program would step a kernel clock; 0 or -EINVAL. */
int clk_sim_jump(struct clk_driver *d, int64_t offset_ns);

/* ns: CLOCK_REALTIME - CLOCK_MONOTONIC moving by more than this within a span is a step of
 * CLOCK_REALTIME (a leap, `date -s`, another program's ADJ_SETOFFSET; the two are slewed
 * alike, so only a step moves it); less is read noise (narrowest of a few reads: < 1 us),
 * below 1 ppm of a PHC's rate over KDRV_PHC_SPAN_NS */
#define CLK_RT_STEP_SLACK_NS 10000
/* CLOCK_REALTIME - CLOCK_MONOTONIC not known (the reads were stalled) */
#define CLK_RT_MONO_UNKNOWN INT64_MIN

/*
 * The kernel driver on a PHC (and tests): the PHC's rate against
 * CLOCK_REALTIME over one span, from its offsets OFF0, OFF1 (PHC -
 * CLOCK_REALTIME, ns) measured at CLOCK_REALTIME SYS0, SYS1, where
 * CLOCK_REALTIME - CLOCK_MONOTONIC was RTM0, RTM1, less OURS_NS (what our
 * own corrections and steps moved the PHC meanwhile); 1 with *RATE
 * (fractional), or 0 when the span must be discarded: CLOCK_REALTIME was
 * stepped within it (RTM moved beyond CLK_RT_STEP_SLACK_NS, or is
 * unknown), or it is empty.
 */
int clk_phc_span_rate(int64_t sys0, int64_t off0, int64_t rtm0, int64_t sys1, int64_t off1,
		      int64_t rtm1, double ours_ns, double *rate);

/* Convert a sys reading to driver time with D's current mapping. */
int64_t clk_driver_from_sys(struct clk_driver *d, int64_t sys_ns);

/* bytes of a driver's log line: as many as the daemon's log keeps */
#define CLK_LOG_LINE_MAX 1024

/* A logger: PRIO is a syslog priority (LOG_ERR ...), one line without a newline. */
typedef void (*clk_log_fn)(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Route the drivers' log lines to FN (the daemon's log); NULL = stderr. */
void clk_set_log(clk_log_fn fn);

/* Drivers and the core: log one line at PRIO through the logger clk_set_log gave. */
void clk_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
