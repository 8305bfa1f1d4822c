/*
 * The local reference's source driver (`local stratum N [dispersion S]`):
 * the system clock served as a reference, the w32time "reliable, no
 * peer" case, honestly. It adds one source of kind CLK_KIND_LOCAL to the
 * clock core and, right before every snapshot publication, reads the
 * kernel clock's state (clock/kclock.h, read-only clock_adjtime): when
 * the kernel says its clock is synchronized (another discipliner such as
 * phc2sys keeps it), that is a measurement of the clock against itself
 * (zero offset and delay, the kernel's estimated error as its root
 * dispersion, the kernel's leap flags); when it does not, a rejection
 * (pkt_unsync). What is served from that is the core's business
 * (clk_core_update): the local reference is the fallback of every other
 * source and their only reference when it is alone.
 */
#ifndef HOROD_DAEMON_CLOCKD_LOCAL_H
#define HOROD_DAEMON_CLOCKD_LOCAL_H

#include <stdint.h>

#include "clock/core.h"
#include "clock/kclock.h"

/*
 * Hand the kernel clock's state KS, read at driver time NOW, to the local
 * reference (source ID of CORE, served at STRATUM, our PRECISION): a
 * poll, then a measurement when the kernel vouches for its clock, a
 * rejection (pkt_unsync) when it does not. No I/O: the driver reads KS.
 */
void lref_hand(struct clk_core *core, int id, const struct clk_kstate *ks, int64_t now, int stratum,
	       int precision);

#endif
