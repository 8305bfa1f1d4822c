/*
 * The clock simulator's scenarios, each with its limits: the default (one
 * server on a quiet network, 0.1 s and 100 ppm off) and its variants from
 * issue 3 (noise, wander, large offsets, falsetickers, loss, discipline
 * off, holdover, the driftfile, the 2036 era, a LAN); from issue 20, the
 * ones that can show a dishonest bound: servers whose own errors fill the
 * root distance they advertise (a stratum 2 behind its stratum 1: root
 * delay, root dispersion), an asymmetric path, servers with noisy
 * timestamps, our clock stepped behind the core's back (both signs,
 * 0.1 to 5 s, with and without makestep, with loss and with
 * falsetickers), an upstream whose time scale steps, leap seconds
 * inserted and deleted (applied by the clock driver, by nobody but the
 * core, with set_status refused), and a stalled clock thread.
 *
 * Every scenario measures over fixed spans: the sync time until its
 * measured span ends (the jump, the cut or the end), the max and RMS over
 * [win_from, that end); "never synchronized" fails wherever a sync level
 * is set.
 */
#include <math.h>
#include <string.h>

#include "tests/sim/clocksim.h"

#define START_2023 1700000000LL /* s since 1970: an ordinary start time */
#define ERA1_START 2085978496LL /* s since 1970 of 2036-02-07 06:28:16 UTC, NTP era 1 */
/* s since 1970: 2017-01-01 00:00:00 UTC, the end of the last day that had a leap second
 * inserted (2016-12-31 23:59:60) */
#define LEAP_INS_END 1483228800LL
/* s since 1970: 2025-07-01 00:00:00 UTC: a deletion that never happened, at the end of a
 * June (a deletion is as legal as an insertion, and must be handled as well) */
#define LEAP_DEL_END 1751328000LL
/* s: leap scenarios start this long before the leap (inside its last day) */
#define LEAP_LEAD 3600
/* s: the smear interval of the smear scenarios: the hour around the leap, inside the run */
#define SMEAR_S 3600
/* s: time to synchronize (|error| <= 500 us for good) from 0.1 s and 100 ppm, issue 3's
 * limit. Reachable because the slew goes beyond ADJ_FREQUENCY's 500 ppm (up to
 * CLK_MAX_SLEW_PPM); at 500 ppm it would take about 250 s. */
#define SYNC_LIMIT 120
/* s: where the max and RMS windows start: the poll has grown, the start is behind */
#define WIN_FROM 600
/* s: when our clock jumps in the jump scenarios: synchronized long since, between polls */
#define JUMP_AT 5000.5
/* polls at minpoll allowed to resynchronize after a jump (issue 20: <= 5 polls) */
#define RESYNC_POLLS 5

struct scenario sim_scenarios[MAX_SCENARIOS];
int sim_n_scenarios;

/* The next scenario, with the default's settings; every other scenario changes a few. */
static struct scenario *base(const char *name, const char *what)
{
	struct scenario *sc = &sim_scenarios[sim_n_scenarios++];

	memset(sc, 0, sizeof(*sc));
	sc->name = name;
	sc->what = what;
	sc->delay = 1e-4;
	sc->jitter = 1e-4;
	sc->wander = 1e-9;
	sc->offset = 0.1;
	sc->freq_ppm = 100;
	sc->nservers = 1;
	sc->minpoll = 6;
	sc->maxpoll = 10;
	sc->discipline = 1;
	sc->makestep = 1.0;
	sc->makestep_limit = 3;
	sc->holdover = -1;
	sc->duration = 10000;
	sc->start = START_2023;
	sc->sync_level = 500e-6;
	sc->sync_limit = SYNC_LIMIT;
	sc->win_from = WIN_FROM;
	sc->max_limit = 250e-6;
	sc->rms_limit = 60e-6;
	sc->steps_expect = 0;
	return sc;
}

/* Our clock jumps by BY seconds at JUMP_AT or up to a maxpoll later (anywhere in the poll
 * cycle, drawn per seed); resynchronized within RESYNC_POLLS polls of the first sample after. */
static void jump(struct scenario *sc, double by)
{
	sc->jump_at = JUMP_AT;
	sc->jump_spread = ldexp(1.0, sc->maxpoll);
	sc->jump_by = by;
	sc->duration = 9000;
	sc->resync_limit = RESYNC_POLLS * ldexp(1.0, sc->minpoll);
}

/* A leap second (+1 inserted, -1 deleted) at the end of a run of 2 * LEAP_LEAD. */
static void leap(struct scenario *sc, int dir)
{
	sc->leap = dir;
	sc->leap_end = dir > 0 ? LEAP_INS_END : LEAP_DEL_END;
	sc->start = sc->leap_end - LEAP_LEAD;
	sc->duration = 2 * LEAP_LEAD;
	sc->win_from = 300; /* s: an hour before the leap: the window starts before it */
}

static void issue3(void)
{
	struct scenario *sc;

	base("default",
	     "1 server, delay 100 us, jitter 100 us, wander 1e-9, offset 0.1 s, freq 100 ppm");
	sc = base("jitter-10ms", "default with 10 ms jitter: RMS <= 5 ms");
	sc->jitter = 10e-3;
	sc->sync_level = 30e-3;
	sc->sync_limit = 600;
	sc->win_from = 1000;
	sc->max_limit = 25e-3;
	sc->rms_limit = 5e-3;
	sc = base("wander-1e-7", "default with wander 1e-7: max <= 5 ms");
	sc->wander = 1e-7;
	sc->sync_level = 5e-3;
	sc->max_limit = 1e-3;
	sc->rms_limit = 200e-6;
	sc = base("step-100s",
		  "initial offset 100 s, makestep 1 3: one step, then the default limits");
	sc->offset = 100;
	sc->steps_expect = 1;
	sc = base("slew-100s",
		  "initial offset 100 s, no makestep: slews at about 8 % (83333 ppm), never steps");
	sc->offset = 100;
	sc->makestep_limit = 0;
	/* s: shorter than the ~1200 s the slew takes, so the check measures its rate */
	sc->duration = 900;
	sc->sync_level = 0;
	sc->sync_limit = 0;
	sc->max_limit = 0;
	sc->rms_limit = 0;
	sc->slew_min_ppm = 80000; /* ppm: the ceiling less the oscillator's 100 and the start */
	sc = base("falsetickers-2",
		  "5 servers, 2 lie (+0.5 s, -0.3 s): never selected, default limits");
	sc->nservers = 5;
	sc->srv[1].lie = 0.5;
	sc->srv[3].lie = -0.3;
	sc->liars_never = 1;
	sc->liars_x = 1;
	sc = base("falsetickers-3",
		  "5 servers, 3 lie (+0.5, -0.3, +1.0 s): never followed, never claims sync");
	sc->nservers = 5;
	sc->srv[1].lie = 0.5;
	sc->srv[3].lie = -0.3;
	sc->srv[4].lie = 1.0;
	sc->liars_never = 1;
	sc->never_synced = 1;
	sc->duration = 3600;
	sc->sync_level = 0;
	sc->sync_limit = 0;
	sc->max_limit = 0;
	sc->rms_limit = 0;
	sc = base("lossy", "3 servers, 20 % loss, 50 us asymmetry, minpoll 4: default limits");
	sc->nservers = 3;
	sc->loss = 0.2;
	sc->asym = 50e-6;
	sc->minpoll = 4;
	sc = base("discipline-off", "default with discipline off: served = raw + own correction");
	sc->discipline = 0;
	sc = base("holdover",
		  "default, every server lost at 2 h; holdover 1 h: dispersion >= 15 ppm/s, LI 3");
	sc->cut_at = 7200;
	sc->holdover = 3600;
	sc->duration = 7200 + 3 * 3600;
	sc = base("holdover-local",
		  "as holdover with local stratum 10: serves stratum 10 LOCL after the holdover");
	sc->cut_at = 7200;
	sc->holdover = 3600;
	sc->duration = 7200 + 3 * 3600;
	sc->local_stratum = 10;
	sc = base("holdover-dist",
		  "servers lost at 2 h, holdover until the root distance passes 1.5 s");
	sc->cut_at = 7200;
	sc->holdover = -1;
	sc->duration = 7200 + 30 * 3600;
	sc = base("driftfile",
		  "restart from the previous run's drift: frequency error <= 0.1 ppm at update 1");
	sc->duration = 86400;
	sc->wander = 1e-10;
	sc->restart = 1;
	sc->drift_limit = 0.1;
	sc = base("era-2036", "default across 2036-02-07 06:28:16 UTC (NTP era 0 -> 1)");
	sc->start = ERA1_START - 3600;
	sc->duration = 3 * 3600;
	sc = base("lan-minpoll-0", "LAN: delay 20 us, jitter 10 us, minpoll 0 maxpoll 4");
	sc->delay = 20e-6;
	sc->jitter = 10e-6;
	sc->minpoll = 0;
	sc->maxpoll = 4;
	sc->offset = 0.01;
	sc->sync_level = 100e-6;
	sc->max_limit = 50e-6;
	sc->rms_limit = 10e-6;
}

/* Servers whose own error fills what they advertise, paths that hide it, noisy servers. */
static void upstream_errors(void)
{
	struct scenario *sc;

	sc = base("s2-delay", "a stratum 2 whose error (up to 9 ms) is within its root delay / 2 "
			      "(20 ms / 2) and dispersion (1 ms)");
	sc->srv[0].stratum = 2;
	sc->srv[0].root_delay = 20e-3;
	sc->srv[0].root_disp = 1e-3;
	sc->srv[0].wobble = 9e-3;
	sc->srv[0].wobble_period = 3000;
	sc->sync_level = 20e-3;
	sc->max_limit = 15e-3;
	sc->rms_limit = 10e-3;
	sc = base("s2-disp", "a stratum 2 whose error (up to 9 ms) is within its root dispersion "
			     "(10 ms) and delay / 2 (1 ms / 2)");
	sc->srv[0].stratum = 2;
	sc->srv[0].root_delay = 1e-3;
	sc->srv[0].root_disp = 10e-3;
	sc->srv[0].wobble = 9e-3;
	sc->srv[0].wobble_period = 3000;
	sc->sync_level = 20e-3;
	sc->max_limit = 15e-3;
	sc->rms_limit = 10e-3;
	sc = base("asym", "3 servers on an asymmetric path: 10 ms, 8 ms more out than back, "
			  "jitter 1 ms");
	sc->nservers = 3;
	sc->delay = 10e-3;
	sc->asym = 8e-3;
	sc->jitter = 1e-3;
	sc->sync_level = 8e-3;
	sc->max_limit = 6e-3;
	sc->rms_limit = 5e-3;
	sc = base("noisy-server", "3 servers whose timestamps carry 50 us of noise of their own "
				  "(a VM), precision 1 us claimed: only the jitter covers it");
	sc->nservers = 3;
	sc->srv[0].noise = 50e-6;
	sc->srv[1].noise = 50e-6;
	sc->srv[2].noise = 50e-6;
	sc->sync_level = 1e-3;
	sc->max_limit = 600e-6;
	sc->rms_limit = 200e-6;
}

/* Our clock stepped behind the core's back; the upstream's time scale stepping. */
static void steps(void)
{
	struct scenario *sc;

	sc = base("jump+0.5", "default; our clock jumps +0.5 s at 5000-6025 s (date -s)");
	jump(sc, 0.5);
	sc = base("jump-0.5", "default; our clock jumps -0.5 s at 5000-6025 s");
	jump(sc, -0.5);
	sc = base("jump+0.1", "default; our clock jumps +0.1 s at 5000-6025 s");
	jump(sc, 0.1);
	sc = base("jump-5",
		  "default; our clock jumps -5 s at 5000-6025 s, no makestep left: slewed");
	jump(sc, -5.0);
	sc->resync_limit = 0; /* s: at 8 % 5 s take a minute and more, more than 5 polls */
	sc = base("jump+5-makestep",
		  "makestep 1 -1; our clock jumps +5 s at 5000-6025 s: stepped back");
	jump(sc, 5.0);
	sc->makestep_limit = -1;
	sc->steps_expect = 1;
	sc = base("jump-5-makestep", "makestep 1 -1; our clock jumps -5 s at 5000-6025 s");
	jump(sc, -5.0);
	sc->makestep_limit = -1;
	sc->steps_expect = 1;
	sc = base("lan-jump-0.5", "lan-minpoll-0 (1 s polls); our clock jumps -0.5 s at "
				  "5000-5016 s: time runs back past the last samples");
	sc->delay = 20e-6;
	sc->jitter = 10e-6;
	sc->minpoll = 0;
	sc->maxpoll = 4;
	sc->offset = 0.01;
	sc->sync_level = 100e-6;
	sc->max_limit = 50e-6;
	sc->rms_limit = 10e-6;
	jump(sc, -0.5);
	/* s: at 1 s polls 5 polls are less than the slew needs: 0.5 s at 8 %, then the time
	 * constant's tail down to 100 us */
	sc->resync_limit = 60;
	sc = base("lossy-jump",
		  "lossy (3 servers, 20 % loss, 16 s polls); jumps +0.5 s at 5000-6025 s");
	sc->nservers = 3;
	sc->loss = 0.2;
	sc->asym = 50e-6;
	sc->minpoll = 4;
	jump(sc, 0.5);
	sc = base("falsetickers-jump", "falsetickers-2; our clock jumps +0.5 s at 5000-6025 s");
	sc->nservers = 5;
	sc->srv[1].lie = 0.5;
	sc->srv[3].lie = -0.3;
	sc->liars_never = 1;
	sc->liars_x = 1;
	jump(sc, 0.5);
	sc = base("upstream-step", "one stratum 2, 0.2 s off and saying so (root dispersion "
				   "0.25 s), steps to the truth at 3000 s");
	sc->offset = 0.3;
	sc->srv[0].stratum = 2;
	sc->srv[0].root_delay = 1e-3;
	sc->srv[0].lie = 0.2;
	sc->srv[0].root_disp = 0.25;
	sc->srv[0].step_at = 3000;
	sc->srv[0].step_by = -0.2;
	sc->srv[0].root_disp_after = 1e-3;
	sc->sync_level = 0.3; /* s: the server's own word before its step */
	sc->max_limit = 0.25;
	sc->rms_limit = 0.25;
	sc->win_to = 3000;
	sc = base("upstream-liar-step", "3 servers; one steps +0.5 s at 3000 s and keeps "
					"advertising 10 us: never followed");
	sc->nservers = 3;
	sc->srv[2].step_at = 3000;
	sc->srv[2].step_by = 0.5;
	sc->win_to = 6000;
	sc->duration = 6000;
}

/* Leap seconds, by what applies them; stalls of the clock thread. */
static void events(void)
{
	struct scenario *sc;

	sc = base("leap-insert", "3 servers announce an inserted second (2016-12-31 23:59:60); the "
				 "sim driver applies it as Linux does");
	sc->nservers = 3;
	leap(sc, 1);
	sc = base("leap-delete", "as leap-insert with a deleted second (23:59:59 of a June 30)");
	sc->nservers = 3;
	leap(sc, -1);
	sc = base("leap-insert-off", "leap-insert with discipline off: nobody but the core applies "
				     "it, in its own correction");
	sc->nservers = 3;
	sc->discipline = 0;
	leap(sc, 1);
	sc = base("leap-insert-other", "leap-insert, discipline off, another program owns the "
				       "clock and arms the leap: applied once, by the clock");
	sc->nservers = 3;
	sc->discipline = 0;
	sc->leap_other = 1;
	leap(sc, 1);
	sc = base("leap-delete-nostatus", "leap-delete on a driver that refuses set_status: the "
					  "kernel never arms it, the core steps");
	sc->nservers = 3;
	sc->status_fail = 1;
	leap(sc, -1);
	sc = base("leap-early-bits", "servers announce the leap of 2016-12-31 a day early: armed "
				     "on its last day only, nothing at the midnight before");
	sc->nservers = 3;
	leap(sc, 1);
	sc->start -= 86400; /* the run spans the midnight a day before the leap */
	sc->leap_announce = 2 * 86400;
	/* leapsecmode and the leap table (issue 16 stage B2) */
	sc = base("leap-insert-step", "leap-insert, leapsecmode step: the driver never armed, "
				      "the core steps at the edge; LI on the last day");
	sc->nservers = 3;
	sc->leap_mode = CLK_LEAPMODE_STEP;
	leap(sc, 1);
	sc = base("leap-delete-step", "leap-delete, leapsecmode step");
	sc->nservers = 3;
	sc->leap_mode = CLK_LEAPMODE_STEP;
	leap(sc, -1);
	sc = base("leap-insert-slew", "leap-insert, leapsecmode slew: LI on the last day, no "
				      "step, the second slewed away over 12 s after the edge, "
				      "the bound covering it");
	sc->nservers = 3;
	sc->leap_mode = CLK_LEAPMODE_SLEW;
	leap(sc, 1);
	sc = base("leap-delete-slew", "leap-delete, leapsecmode slew");
	sc->nservers = 3;
	sc->leap_mode = CLK_LEAPMODE_SLEW;
	leap(sc, -1);
	sc = base("leap-insert-smear", "leap-insert, leapsecmode smear over 3600 s (M +- 30 "
				       "min): served time = the formula, monotonic, LI never set");
	sc->nservers = 3;
	sc->leap_mode = CLK_LEAPMODE_SMEAR;
	sc->smear_s = SMEAR_S;
	leap(sc, 1);
	sc = base("leap-delete-smear", "leap-delete, leapsecmode smear over 3600 s");
	sc->nservers = 3;
	sc->leap_mode = CLK_LEAPMODE_SMEAR;
	sc->smear_s = SMEAR_S;
	leap(sc, -1);
	sc = base("leap-insert-smear-off", "leap-insert-smear with discipline off");
	sc->nservers = 3;
	sc->discipline = 0;
	sc->leap_mode = CLK_LEAPMODE_SMEAR;
	sc->smear_s = SMEAR_S;
	leap(sc, 1);
	sc = base("leap-file-insert", "servers apply an insertion but never announce it; the "
				      "leap table does: announced, applied on time");
	sc->nservers = 3;
	sc->leap_quiet = 1;
	sc->leap_table = 1;
	leap(sc, 1);
	sc = base("leap-file-delete-smear", "as leap-file-insert with a deletion, smeared");
	sc->nservers = 3;
	sc->leap_quiet = 1;
	sc->leap_table = 1;
	sc->leap_mode = CLK_LEAPMODE_SMEAR;
	sc->smear_s = SMEAR_S;
	leap(sc, -1);
	sc = base("stall", "default; the clock thread stalls 60 s while slewing its first 0.1 s "
			   "away (the workers serve on)");
	sc->stall_at = 9;
	sc->stall_for = 60;
	sc->sync_limit = 200;
	sc->win_from = 1000; /* s: the frequency learnt again after the overshoot */
}

void sim_make_scenarios(void)
{
	sim_n_scenarios = 0;
	issue3();
	upstream_errors();
	steps();
	events();
}
