/*
 * Leap-second arithmetic on integer nanoseconds. Every window is half
 * open and computed from M in whole seconds, so a boundary is exact to
 * the nanosecond. The smear offset is (u - start) / S in integer
 * division: S whole seconds make that ns of offset per ns of time
 * (1e9 / (S * 1e9) = 1 / S), with no 128-bit arithmetic (the XDP program
 * can compute the same), and because it grows by at most 1 ns per ns the
 * smeared time never runs backwards (insertion: rate 1 - 1/S >= 0).
 */
#include "clock/leapsec.h"
#include "proto/ntp.h"
#include "proto/utcdate.h"

#define DAY_NS ((int64_t)NTP_DAY_S * NS_PER_SEC) /* ns in a UTC day */

int clk_leap_bits_midnight(int64_t now_ns, int64_t *midnight_s)
{
	int64_t y, m_s = ntp_utc_next_month(ns_floor_sec(now_ns));
	int mon, d;

	ntp_utc_date(ntp_utc_day_of(m_s - 1), &y, &mon, &d);
	if (mon != 6 && mon != 12)
		return 0;
	*midnight_s = m_s;
	return 1;
}

int clk_leap_due(int64_t midnight_s, int64_t now_ns)
{
	int64_t m_ns = midnight_s * NS_PER_SEC;

	return now_ns >= m_ns - DAY_NS && now_ns < m_ns;
}

int clk_leap_announce(int64_t midnight_s, int64_t now_ns, enum clk_leapmode mode)
{
	/* A smearing server shows no leap: its clients must see no step and no LI. */
	if (mode == CLK_LEAPMODE_SMEAR)
		return 0;
	return clk_leap_due(midnight_s, now_ns);
}

int clk_leap_passed(int64_t midnight_s, int64_t now_ns)
{
	return now_ns >= midnight_s * NS_PER_SEC;
}

int64_t clk_leap_free_ns(const struct ntp_leap *l, int64_t utc_ns, int in_leap)
{
	int64_t m_ns = l->utc_s * NS_PER_SEC;

	/* The repeated 23:59:59 of an insertion is 23:59:60 in real seconds. */
	if (utc_ns >= m_ns || (in_leap && l->dir > 0 && utc_ns >= m_ns - NS_PER_SEC))
		return utc_ns + l->dir * NS_PER_SEC;
	return utc_ns;
}

int clk_smear_init(struct clk_smear *sm, const struct ntp_leap *l, int64_t interval_s)
{
	int64_t m_ns = l->utc_s * NS_PER_SEC;
	int64_t half_ns = interval_s * (NS_PER_SEC / 2);

	if (interval_s < CLK_SMEAR_MIN_S || interval_s > CLK_SMEAR_MAX_S ||
	    (l->dir != 1 && l->dir != -1))
		return -1;
	sm->start_ns = m_ns - half_ns;
	sm->end_ns = sm->start_ns + interval_s * NS_PER_SEC;
	/* Leap-free time meets the leap at M for an insertion (23:59:60 starts), and at
	 * M - 1 s for a deletion (where UTC jumps from 23:59:58 to 00:00:00). */
	sm->leap_ns = l->dir > 0 ? m_ns : m_ns - NS_PER_SEC;
	sm->interval_s = interval_s;
	sm->dir = l->dir;
	return 0;
}

int clk_slew_init(struct clk_smear *sm, const struct ntp_leap *l)
{
	if (l->dir != 1 && l->dir != -1)
		return -1;
	/* The same linear segment as the smear's, starting where leap-free time meets the
	 * leap: served time goes on as leap-free time there (no step), then runs 1/S slower
	 * (insertion) or faster (deletion) until it is UTC again. */
	sm->leap_ns = l->dir > 0 ? l->utc_s * NS_PER_SEC : (l->utc_s - 1) * NS_PER_SEC;
	sm->start_ns = sm->leap_ns;
	sm->end_ns = sm->start_ns + CLK_LEAP_SLEW_S * NS_PER_SEC;
	sm->interval_s = CLK_LEAP_SLEW_S;
	sm->dir = l->dir;
	return 0;
}

int64_t clk_smear_offset_ns(const struct clk_smear *sm, int64_t u_ns)
{
	if (u_ns < sm->start_ns)
		return 0;
	if (u_ns >= sm->end_ns)
		return -sm->dir * NS_PER_SEC;
	return -sm->dir * ((u_ns - sm->start_ns) / sm->interval_s);
}

int64_t clk_smear_vs_utc_ns(const struct clk_smear *sm, int64_t u_ns)
{
	int64_t off = clk_smear_offset_ns(sm, u_ns);

	return u_ns >= sm->leap_ns ? off + sm->dir * NS_PER_SEC : off;
}

int clk_smear_active(const struct clk_smear *sm, int64_t u_ns)
{
	return u_ns >= sm->start_ns && u_ns < sm->end_ns;
}

void clk_leap_state(const struct ntp_leap *l, enum clk_leapmode mode, const struct clk_smear *sm,
		    int64_t now_ns, int64_t u_ns, struct clk_leapstate *st)
{
	st->li = NTP_LEAP_NONE;
	st->arm = 0;
	st->passed = 0;
	st->smearing = 0;
	st->smear_ns = 0;
	if (!l)
		return;
	st->passed = clk_leap_passed(l->utc_s, now_ns);
	if (clk_leap_announce(l->utc_s, now_ns, mode))
		st->li = l->dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
	if (mode == CLK_LEAPMODE_SYSTEM && clk_leap_due(l->utc_s, now_ns))
		st->arm = l->dir;
	if (mode == CLK_LEAPMODE_SMEAR && sm) {
		st->smearing = clk_smear_active(sm, u_ns);
		st->smear_ns = clk_smear_offset_ns(sm, u_ns);
	}
}

int clk_leap_tai_to_utc(const struct ntp_leaptab *t, int64_t tai_ns, int64_t *utc_ns)
{
	int64_t tai_s = ns_floor_sec(tai_ns), u;
	int o0, o1, o2;

	/* TAI - UTC at the UTC second the TAI second falls in: guessed with the offset at the
	 * TAI second read as UTC (at most one leap late), then taken at the guess. */
	if (ntp_leaptab_tai_utc(t, tai_s, &o0) < 0 || ntp_leaptab_tai_utc(t, tai_s - o0, &o1) < 0)
		return -1;
	u = tai_s - o1;
	/* The offset at the result must be the one used: else it is an inserted second. */
	if (ntp_leaptab_tai_utc(t, u, &o2) < 0 || o2 != o1)
		return -1;
	*utc_ns = tai_ns - (int64_t)o1 * NS_PER_SEC;
	return 0;
}
