/*
 * Hardware timestamps (`hwtimestamp IFACE`). For each configured
 * interface: ask ethtool whether the NIC stamps received packets and
 * which PTP hardware clock (PHC) it uses, switch receive stamping on
 * (SIOCSHWTSTAMP, widening only the receive filter) and, when the NIC can,
 * transmit stamping (for the interleaved replies: the transmit stamp of
 * the previous reply taken by the NIC; turned on only if it was off, so
 * ptp4l's setting stays), open the PHC, and keep measuring the offset
 * between the PHC and the system clock (clock thread, every tick).
 * Workers turn a raw hardware stamp into system time with that offset;
 * when anything is missing they fall back to the kernel's software
 * stamp. A NIC without hardware stamps (veth, lo, most VMs) is reported
 * once and served with software stamps; one without hardware transmit
 * stamps is reported once, its replies' transmit stamps are the kernel's.
 */
#ifndef HOROD_DAEMON_HWTS_H
#define HOROD_DAEMON_HWTS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "daemon/config/config.h"

#define HWTS_NO_OFFSET INT64_MIN /* offset not (yet) known: use software stamps */

struct hwts_if {
	char name[CFG_IFNAME_MAX];
	int ifindex;
	int phc_fd;		   /* open /dev/ptpN, or -1 */
	int tx;			   /* the NIC stamps transmitted packets too */
	clockid_t phc;		   /* dynamic clock id of phc_fd */
	_Atomic int64_t offset_ns; /* system time - PHC time, or HWTS_NO_OFFSET */
	_Atomic int64_t at_ns;	   /* CLOCK_REALTIME ns of that measurement (the XDP guard's age) */
};

struct hwts_table {
	struct hwts_if ifs[CFG_MAX_HWTS];
	int n;	  /* interfaces with a working PHC */
	int n_tx; /* of those, stamping transmitted packets too */
};

/* Enable every interface of C->hwts that can do it into T (logs each outcome); returns T->n. */
int hwts_init(struct hwts_table *t, const struct horod_config *c);

/* Measure each PHC's offset to CLOCK_REALTIME (clock thread, at every snapshot it publishes). */
void hwts_update(struct hwts_table *t);

/* Convert hardware stamp HW seen on IFINDEX to system time in OUT; 0, or -1 if unknown. */
int hwts_to_system(const struct hwts_table *t, int ifindex, const struct timespec *hw,
		   struct timespec *out);

/* Close the PHCs (receive stamping stays as configured on the NIC). */
void hwts_fini(struct hwts_table *t);

#endif
