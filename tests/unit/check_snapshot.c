/*
 * Tests of the clock snapshot: the initial value, a publish/read round
 * trip of every field, the served-time and root-dispersion arithmetic, and
 * a concurrency test in which reader threads race a writer for a bounded
 * time and must never see a torn snapshot.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "proto/ntp.h"

Suite *snapshot_suite(void);

/* ns: a served time in 2023, so the arithmetic is tested at real magnitudes. */
#define T0 1700000000000000000LL

START_TEST(test_init_unsynced)
{
	struct clk_pub p;
	struct clk_snapshot s;

	memset(&p, 0xa5, sizeof(p));
	clk_pub_init(&p);
	clk_snapshot_read(&p, &s);
	ck_assert_msg(s.stratum == 16, "init should give stratum 16, got %u", s.stratum);
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC, "init should give leap 3, got %u", s.leap);
	ck_assert_msg(s.flags == 0, "init should give no flags, got %#x", s.flags);
	ck_assert_msg(s.ref_ns == 0 && s.corr_ns == 0 && s.root_disp == 0.0,
		      "init should zero the other fields");
}
END_TEST

START_TEST(test_round_trip)
{
	struct clk_pub p;
	struct clk_snapshot in, out;

	clk_pub_init(&p);
	memset(&in, 0, sizeof(in));
	in.ref_ns = T0 - 5;
	in.update_ns = T0 + 7;
	in.corr_ns = -123456789;
	in.corr_freq = -3.25e-6;
	in.root_delay = 0.0125;
	in.root_disp = 0.000375;
	in.disp_rate = CLK_PHI + 2e-6;
	in.refid = 0xc0a80101;
	in.flags = CLK_F_SYNCED | CLK_F_CORRECTED;
	in.leap = NTP_LEAP_INSERT;
	in.stratum = 2;
	in.precision = -24;
	clk_snapshot_publish(&p, &in);
	clk_snapshot_read(&p, &out);
	ck_assert_msg(out.ref_ns == in.ref_ns, "ref_ns should survive a round trip");
	ck_assert_msg(out.update_ns == in.update_ns, "update_ns should survive a round trip");
	ck_assert_msg(out.corr_ns == in.corr_ns, "corr_ns should survive a round trip");
	ck_assert_msg(out.corr_freq == in.corr_freq, "corr_freq should survive a round trip");
	ck_assert_msg(out.root_delay == in.root_delay, "root_delay should survive a round trip");
	ck_assert_msg(out.root_disp == in.root_disp, "root_disp should survive a round trip");
	ck_assert_msg(out.disp_rate == in.disp_rate, "disp_rate should survive a round trip");
	ck_assert_msg(out.refid == in.refid, "refid should survive a round trip");
	ck_assert_msg(out.flags == in.flags, "flags should survive a round trip");
	ck_assert_msg(out.leap == in.leap, "leap should survive a round trip");
	ck_assert_msg(out.stratum == in.stratum, "stratum should survive a round trip");
	ck_assert_msg(out.precision == in.precision, "precision should survive a round trip");

	/* A second publication replaces the first entirely. */
	in.stratum = 3;
	in.ref_ns = T0;
	clk_snapshot_publish(&p, &in);
	clk_snapshot_read(&p, &out);
	ck_assert_msg(memcmp(&in, &out, sizeof(in)) == 0,
		      "a read should return the latest publication byte for byte");
}
END_TEST

/*
 * clk_snapshot_maps (issue 16): a snapshot read before a fence no longer
 * maps a clock read after it; the fence's own snapshot is unsynchronized;
 * a receive stamp later than the transmit reading beyond the slack (a
 * step back between them), or before the step_sys the snapshot carries
 * (a step forward), is refused; otherwise it maps.
 */
START_TEST(test_maps_steps)
{
	struct clk_pub p;
	struct clk_snapshot in, old, fence, now;

	clk_pub_init(&p);
	memset(&in, 0, sizeof(in));
	in.leap = NTP_LEAP_NONE;
	in.stratum = 2;
	in.flags = CLK_F_SYNCED;
	in.steps = 77; /* not the caller's to set */
	clk_snapshot_publish(&p, &in);
	clk_snapshot_read(&p, &old);
	ck_assert_msg(old.steps == 0, "publish should store the pub's count, not the caller's");
	ck_assert_msg(clk_snapshot_maps(&p, &old, T0, T0 + 5000), "an ordinary exchange maps");
	ck_assert_msg(clk_snapshot_maps(&p, &old, T0 + CLK_STEP_SLACK_NS, T0),
		      "a stamp later by the slack only (clock rounding) still maps");
	ck_assert_msg(!clk_snapshot_maps(&p, &old, T0 + CLK_STEP_SLACK_NS + 1, T0),
		      "a stamp later than the transmit reading beyond the slack: a step back");
	clk_pub_fence(&p, &fence);
	ck_assert_msg(fence.leap == NTP_LEAP_UNSYNC && fence.stratum == 16 &&
			      !(fence.flags & CLK_F_SYNCED) && fence.steps == 1,
		      "the fence republishes unsynchronized, with the step counted");
	ck_assert_msg(!clk_snapshot_maps(&p, &old, T0, T0 + 5000),
		      "a snapshot read before the fence no longer maps");
	clk_snapshot_read(&p, &now);
	ck_assert_msg(memcmp(&now, &fence, sizeof(now)) == 0 &&
			      clk_snapshot_maps(&p, &now, T0, T0 + 5000),
		      "the fence's snapshot is the one read, and it maps (unsynchronized)");
	in.step_sys = T0;
	clk_snapshot_publish(&p, &in);
	clk_snapshot_read(&p, &now);
	ck_assert_msg(now.steps == 1 && clk_snapshot_maps(&p, &now, T0, T0 + 5000),
		      "after the step, a stamp from its instant on maps");
	ck_assert_msg(!clk_snapshot_maps(&p, &now, T0 - 1, T0 + 5000),
		      "a stamp before step_sys (before a step forward) does not");
}
END_TEST

START_TEST(test_served_offset_only)
{
	struct clk_snapshot s;

	memset(&s, 0, sizeof(s));
	s.update_ns = T0;
	s.corr_ns = 250000;
	ck_assert_msg(clk_snapshot_served(&s, T0 + 123456789) == T0 + 123456789 + 250000,
		      "with corr_freq 0, served should be exactly raw + corr_ns");
	ck_assert_msg(clk_snapshot_served(&s, T0 - 999999999) == T0 - 999999999 + 250000,
		      "with corr_freq 0, served should be raw + corr_ns before update too");
}
END_TEST

START_TEST(test_served_with_frequency)
{
	struct clk_snapshot s;
	int64_t got;

	memset(&s, 0, sizeof(s));
	s.update_ns = T0;
	s.corr_ns = 1000;
	s.corr_freq = 2e-6;
	got = clk_snapshot_served(&s, T0 + 3000000000LL);
	ck_assert_msg(got == T0 + 3000000000LL + 1000 + 6000,
		      "2 ppm over 3 s should add 6000 ns, got %lld", (long long)(got - T0));
	got = clk_snapshot_served(&s, T0);
	ck_assert_msg(got == T0 + 1000, "at update_ns only corr_ns should apply");
	/* Slew rounds to the nearest ns: 0.3 over 2 ns (served scale) is 0.6 ns -> 1 ns. */
	s.corr_freq = 0.3;
	got = clk_snapshot_served(&s, T0 + 2 - 1000);
	ck_assert_msg(got == T0 + 2 + 1, "0.6 ns of slew should round to 1 ns");
}
END_TEST

START_TEST(test_served_negative)
{
	struct clk_snapshot s;
	int64_t got;

	memset(&s, 0, sizeof(s));
	s.update_ns = T0;
	s.corr_ns = -500000000;
	s.corr_freq = -4e-6;
	got = clk_snapshot_served(&s, T0 + 10000000000LL);
	/* The slew counts from update_ns on the served scale: 9.5 s here. */
	ck_assert_msg(got == T0 + 10000000000LL - 500000000 - 38000,
		      "-4 ppm over 9.5 served seconds should remove 38000 ns, got %lld",
		      (long long)(got - T0));
	got = clk_snapshot_served(&s, T0 - 1000000000);
	ck_assert_msg(got == T0 - 1000000000 - 500000000 + 6000,
		      "before update_ns a negative frequency should add, got %lld",
		      (long long)(got - T0));
}
END_TEST

START_TEST(test_served_saturates)
{
	struct clk_snapshot s;

	memset(&s, 0, sizeof(s));
	s.update_ns = INT64_MIN;
	s.corr_ns = INT64_MAX;
	s.corr_freq = 1.0;
	ck_assert_msg(clk_snapshot_served(&s, INT64_MAX) == INT64_MAX,
		      "served should saturate at INT64_MAX instead of overflowing");
	s.update_ns = INT64_MAX;
	s.corr_ns = INT64_MIN;
	ck_assert_msg(clk_snapshot_served(&s, INT64_MIN) == INT64_MIN,
		      "served should saturate at INT64_MIN instead of overflowing");
}
END_TEST

START_TEST(test_root_disp_growth)
{
	struct clk_snapshot s;
	double d;

	memset(&s, 0, sizeof(s));
	s.update_ns = T0;
	s.root_disp = 0.0;
	s.disp_rate = CLK_PHI;
	d = clk_snapshot_root_disp(&s, T0 + 1000000000);
	ck_assert_msg(d == 15e-6, "root dispersion should grow by exactly 15 us in 1 s, got %.17g",
		      d);
	s.root_disp = 0.25;
	d = clk_snapshot_root_disp(&s, T0 + 3600000000000LL);
	ck_assert_double_eq_tol(d, 0.25 + 0.054, 1e-12);
	ck_assert_msg(clk_snapshot_root_disp(&s, T0) == 0.25,
		      "root dispersion should not grow at update_ns");
	ck_assert_msg(clk_snapshot_root_disp(&s, T0 - 5000000000LL) == 0.25,
		      "root dispersion should not grow (or shrink) before update_ns");
	ck_assert_msg(clk_snapshot_root_disp(&s, INT64_MIN) == 0.25,
		      "a far-past time should not change the root dispersion");
	s.update_ns = INT64_MIN;
	d = clk_snapshot_root_disp(&s, INT64_MAX);
	ck_assert_msg(d > 1e5, "a huge interval should give a huge dispersion, not overflow");
}
END_TEST

/*
 * Concurrency: one writer publishes snapshots whose every field is a
 * function of one counter k; readers check that each read is consistent
 * with a single k and that k never goes backwards. A writer publishing
 * back to back starves seqcount readers (every copy overlaps a publication
 * and retries; the real writer publishes a few times a second), so the
 * writer publishes in bursts separated by short gaps: bursts race the
 * readers, and readers complete reads in the gaps while the writer runs.
 */

/* Publications by the writer at most. */
#define RACE_ITER 20000000
/* ns: the race runs this long (2 s) ... */
#define RACE_NS 2000000000LL
/* ... and on, up to this long (20 s), until the readers together have seen
 * RACE_MIN_DISTINCT_ALL values: a loaded machine gives readers few turns. */
#define RACE_MAX_NS 20000000000LL
/* Reader threads: with the writer, more threads than this machine's 2 cores,
 * so readers also run while the writer is preempted mid-publication. */
#define RACE_READERS 3
/* Publications per burst. */
#define RACE_BURST 32
/*
 * RACE_GAP_NS (ns): gap after a burst, several times one read.
 * RACE_MIN_DISTINCT_ALL: distinct values all readers together must observe
 * for the test to mean anything (an unloaded run sees about 100 times more).
 * TSan makes atomics about 10x slower and serialises them: a longer gap, and
 * a lower bar since the test then mostly serves TSan's race detector.
 */
#if defined(__SANITIZE_THREAD__)
#define RACE_GAP_NS	      50000
#define RACE_MIN_DISTINCT_ALL 200
#else
#define RACE_GAP_NS	      5000
#define RACE_MIN_DISTINCT_ALL 1000
#endif
/* Distinct values each reader must observe: a reader sharing a core with the
 * writer may see a new value only once per context switch, hence low. */
#define RACE_MIN_DISTINCT_EACH 10

struct race;

/* Each on its own cache line, so readers do not slow each other down. */
struct reader_stats {
	struct race *r __attribute__((aligned(64)));
	uint64_t reads, torn, backwards, distinct, final_k;
};

struct race {
	struct clk_pub pub;
	_Atomic int done __attribute__((aligned(64)));
	_Atomic uint64_t seen __attribute__((aligned(64))); /* distinct values, all readers */
	uint64_t last_k; /* written by the writer before done is set */
	struct reader_stats st[RACE_READERS];
};

static void race_fill(struct clk_snapshot *s, uint64_t k)
{
	memset(s, 0, sizeof(*s));
	s->ref_ns = (int64_t)k;
	s->update_ns = 2 * (int64_t)k;
	s->corr_ns = -3 * (int64_t)k;
	s->corr_freq = (double)k * 0.125;
	s->root_delay = (double)k * 0.5;
	s->root_disp = (double)k * 0.25;
	s->disp_rate = (double)k;
	s->refid = (uint32_t)k;
	s->flags = (uint32_t)(k * 7);
	s->leap = (uint8_t)(k & 3);
	s->stratum = (uint8_t)(k % 16);
	s->precision = (int8_t)(-(int)(k % 31));
	s->step_sys = 5 * (int64_t)k;
	s->pad = (uint8_t)(k & 0xff);
	s->steps = 0; /* what clk_snapshot_publish stores: no step announced */
}

/* 1 when S is exactly race_fill(k) for its own k. */
static int race_consistent(const struct clk_snapshot *s)
{
	struct clk_snapshot want;

	if (s->ref_ns < 0)
		return 0;
	race_fill(&want, (uint64_t)s->ref_ns);
	return memcmp(s, &want, sizeof(want)) == 0;
}

static int64_t mono_ns(void)
{
	return clk_now_ns(CLOCK_MONOTONIC);
}

static void *race_writer(void *arg)
{
	struct race *r = arg;
	struct clk_snapshot s;
	int64_t now, start = mono_ns();
	uint64_t k;

	for (k = 1; k <= RACE_ITER; k++) {
		race_fill(&s, k);
		clk_snapshot_publish(&r->pub, &s);
		r->last_k = k;
		if (k % RACE_BURST != 0)
			continue;
		now = mono_ns();
		if (now - start > RACE_MAX_NS ||
		    (now - start > RACE_NS &&
		     atomic_load_explicit(&r->seen, memory_order_relaxed) >= RACE_MIN_DISTINCT_ALL))
			break;
		while (mono_ns() < now + RACE_GAP_NS)
			;
	}
	atomic_store_explicit(&r->done, 1, memory_order_release);
	return NULL;
}

static void *race_reader(void *arg)
{
	struct reader_stats *st = arg;
	struct clk_snapshot s;
	uint64_t prev = 0, k;
	int done;

	do {
		done = atomic_load_explicit(&st->r->done, memory_order_acquire);
		clk_snapshot_read(&st->r->pub, &s);
		st->reads++;
		if (!race_consistent(&s)) {
			st->torn++;
			continue;
		}
		k = (uint64_t)s.ref_ns;
		if (k < prev)
			st->backwards++;
		else if (k > prev) {
			st->distinct++;
			atomic_fetch_add_explicit(&st->r->seen, 1, memory_order_relaxed);
		}
		prev = k;
	} while (!done);
	/* The read after done was seen must return the writer's last value. */
	st->final_k = prev;
	return NULL;
}

START_TEST(test_concurrent_no_torn_reads)
{
	static struct race r; /* static: 64-byte aligned members, off the stack */
	struct reader_stats *st = r.st;
	pthread_t wt, rt[RACE_READERS];
	struct clk_snapshot s0;
	uint64_t all = 0;
	int i;

	memset(&r, 0, sizeof(r));
	clk_pub_init(&r.pub);
	race_fill(&s0, 0);
	clk_snapshot_publish(&r.pub, &s0);
	atomic_init(&r.done, 0);
	atomic_init(&r.seen, 0);
	for (i = 0; i < RACE_READERS; i++) {
		st[i].r = &r;
		ck_assert_int_eq(pthread_create(&rt[i], NULL, race_reader, &st[i]), 0);
	}
	ck_assert_int_eq(pthread_create(&wt, NULL, race_writer, &r), 0);
	ck_assert_int_eq(pthread_join(wt, NULL), 0);
	for (i = 0; i < RACE_READERS; i++)
		ck_assert_int_eq(pthread_join(rt[i], NULL), 0);

	ck_assert_msg(r.last_k >= 100000, "the writer should publish many snapshots, did %llu",
		      (unsigned long long)r.last_k);
	for (i = 0; i < RACE_READERS; i++) {
		ck_assert_msg(st[i].torn == 0,
			      "reader %d should see no torn snapshot, saw %llu of %llu", i,
			      (unsigned long long)st[i].torn, (unsigned long long)st[i].reads);
		ck_assert_msg(st[i].backwards == 0,
			      "reader %d should never see k go back, saw %llu", i,
			      (unsigned long long)st[i].backwards);
		ck_assert_msg(st[i].distinct >= RACE_MIN_DISTINCT_EACH,
			      "reader %d should observe at least %d distinct values, saw %llu", i,
			      RACE_MIN_DISTINCT_EACH, (unsigned long long)st[i].distinct);
		ck_assert_msg(st[i].final_k == r.last_k,
			      "reader %d should end on the last publication %llu, got %llu", i,
			      (unsigned long long)r.last_k, (unsigned long long)st[i].final_k);
		all += st[i].distinct;
	}
	ck_assert_msg(all >= RACE_MIN_DISTINCT_ALL,
		      "readers should observe at least %d distinct values in all, saw %llu",
		      RACE_MIN_DISTINCT_ALL, (unsigned long long)all);
}
END_TEST

Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("core");
	TCase *race = tcase_create("race");

	tcase_add_test(tc, test_init_unsynced);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_maps_steps);
	tcase_add_test(tc, test_served_offset_only);
	tcase_add_test(tc, test_served_with_frequency);
	tcase_add_test(tc, test_served_negative);
	tcase_add_test(tc, test_served_saturates);
	tcase_add_test(tc, test_root_disp_growth);
	suite_add_tcase(s, tc);

	/* s: the race runs for up to 2 s; sanitizers slow every step. */
	tcase_set_timeout(race, 30);
	tcase_add_test(race, test_concurrent_no_torn_reads);
	suite_add_tcase(s, race);
	return s;
}
