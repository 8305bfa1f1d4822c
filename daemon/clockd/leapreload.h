/*
 * SIGHUP's reload of the leap-second table (`leapfile`, `leapsectz`),
 * in the clock thread: the table read again replaces the one in force
 * only when it is whole, lists leap seconds and has not expired.
 */
#ifndef HOROD_DAEMON_CLOCKD_LEAPRELOAD_H
#define HOROD_DAEMON_CLOCKD_LEAPRELOAD_H

#include "daemon/clockd/clockd.h"
#include "daemon/config/config.h"

/* Read LEAP's table again and put it in force in CD's core when it may be (logged). */
void clockd_reload_leap(struct clockd *cd, struct cfg_leap *leap);

#endif
