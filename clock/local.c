/*
 * The local reference source: turns the kernel clock's own state into the
 * snapshot horod serves when configured with `local stratum N`. While the
 * kernel says the clock is synchronized (someone else disciplines it), the
 * reference time is now and the error is the configured dispersion plus
 * the kernel's estimate. Otherwise the reference time stays where the clock
 * was last known good and the error grows at PHI from there, so a client
 * sees an honest, growing root dispersion instead of a fixed large one.
 */
#include <string.h>

#include "clock/local.h"
#include "proto/ntp.h"

/* Reference ID "LOCL" (ASCII, first character in the most significant byte),
 * computed here so the clock core does not call into proto/. */
#define CLK_REFID_LOCL                                                                             \
	((uint32_t)'L' << 24 | (uint32_t)'O' << 16 | (uint32_t)'C' << 8 | (uint32_t)'L')

void clk_local_init(struct clk_local *l, int stratum, double dispersion, int precision,
		    int64_t now_ns)
{
	l->stratum = stratum;
	l->dispersion = dispersion;
	l->precision = precision;
	l->ref_ns = now_ns;
}

void clk_local_update(struct clk_local *l, const struct clk_kstate *ks, int64_t now_ns,
		      struct clk_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->flags = CLK_F_SYNCED;
	if (ks->synced) {
		l->ref_ns = now_ns;
		out->root_disp = l->dispersion + ks->esterror;
		out->leap = (uint8_t)ks->leap;
		out->flags |= CLK_F_KERNEL_SYNC;
	} else {
		/* The value a reader would compute by growing the dispersion
		 * at disp_rate from the reference time: both views agree. */
		out->root_disp = l->dispersion;
		if (now_ns > l->ref_ns)
			out->root_disp +=
				(double)((uint64_t)now_ns - (uint64_t)l->ref_ns) / 1e9 * CLK_PHI;
		out->leap = NTP_LEAP_NONE;
	}
	out->ref_ns = l->ref_ns;
	out->update_ns = now_ns;
	out->stratum = (uint8_t)l->stratum;
	out->precision = (int8_t)l->precision;
	out->refid = CLK_REFID_LOCL;
	out->root_delay = 0.0;
	out->disp_rate = CLK_PHI;
	out->corr_ns = 0;
	out->corr_freq = 0.0;
}
