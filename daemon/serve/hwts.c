/*
 * Hardware timestamping set-up and PHC-to-system conversion. The only
 * ioctls here are the read of the NIC's capabilities (ETHTOOL_GET_TS_INFO),
 * the read and write of its stamping filter (SIOCGHWTSTAMP/SIOCSHWTSTAMP)
 * and clock reads of the PHC: the PHC itself is never adjusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>

#include "daemon/serve/hwts.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"

#define HWTS_SAMPLES	  5 /* PHC reads per measurement; the tightest sandwich wins */
#define FD_TO_CLOCKID(fd) ((~(clockid_t)(fd) << 3) | 3) /* dynamic POSIX clock of an fd */

/*
 * Ask the NIC for its PHC and switch RX stamping on, and TX stamping when
 * it has it (*TX says so); PHC index, or -1 with WHY.
 */
static int enable_one(int sock, const char *name, int *tx, char *why, size_t len)
{
	struct ethtool_ts_info info = {.cmd = ETHTOOL_GET_TS_INFO};
	struct hwtstamp_config hc;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&info;
	if (ioctl(sock, SIOCETHTOOL, &ifr) < 0) {
		snprintf(why, len, "ETHTOOL_GET_TS_INFO: %s", strerror(errno));
		return -1;
	}
	if (!(info.so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE) ||
	    !(info.so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE) || info.phc_index < 0) {
		snprintf(why, len, "the NIC has no hardware receive timestamps (software only)");
		return -1;
	}
	*tx = (info.so_timestamping & SOF_TIMESTAMPING_TX_HARDWARE) &&
	      (info.tx_types & (1u << HWTSTAMP_TX_ON));
	memset(&hc, 0, sizeof(hc));
	ifr.ifr_data = (void *)&hc;
	/* Keep the transmit setting unless it is off (ptp4l may use it); only widen RX. */
	if (ioctl(sock, SIOCGHWTSTAMP, &ifr) == 0 &&
	    (hc.rx_filter == HWTSTAMP_FILTER_ALL || hc.rx_filter == HWTSTAMP_FILTER_NTP_ALL) &&
	    (!*tx || hc.tx_type != HWTSTAMP_TX_OFF))
		return info.phc_index;
	hc.flags = 0;
	if (*tx && hc.tx_type == HWTSTAMP_TX_OFF)
		hc.tx_type = HWTSTAMP_TX_ON;
	hc.rx_filter = HWTSTAMP_FILTER_ALL;
	if (ioctl(sock, SIOCSHWTSTAMP, &ifr) < 0) {
		hc.rx_filter = HWTSTAMP_FILTER_NTP_ALL;
		if (ioctl(sock, SIOCSHWTSTAMP, &ifr) < 0) {
			snprintf(why, len, "SIOCSHWTSTAMP: %s", strerror(errno));
			return -1;
		}
	}
	return info.phc_index;
}

int hwts_init(struct hwts_table *t, const struct horod_config *c)
{
	char why[160], dev[32];
	int sock, i;

	memset(t, 0, sizeof(*t));
	if (c->n_hwts == 0)
		return 0;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		log_msg(LOG_ERR, "hwtimestamp: socket: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < c->n_hwts; i++) {
		struct hwts_if *h = &t->ifs[t->n];
		int idx = (int)if_nametoindex(c->hwts[i]), phc, tx = 0;

		if (idx == 0) {
			log_msg(LOG_WARNING,
				"hwtimestamp %s: no such interface: software timestamps",
				c->hwts[i]);
			continue;
		}
		phc = enable_one(sock, c->hwts[i], &tx, why, sizeof(why));
		if (phc < 0) {
			log_msg(LOG_WARNING, "hwtimestamp %s: %s: software timestamps", c->hwts[i],
				why);
			continue;
		}
		snprintf(dev, sizeof(dev), "/dev/ptp%d", phc);
		h->phc_fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (h->phc_fd < 0) {
			log_msg(LOG_WARNING, "hwtimestamp %s: %s: %s: software timestamps",
				c->hwts[i], dev, strerror(errno));
			continue;
		}
		snprintf(h->name, sizeof(h->name), "%s", c->hwts[i]);
		h->ifindex = idx;
		h->phc = FD_TO_CLOCKID(h->phc_fd);
		h->tx = tx;
		atomic_store(&h->offset_ns, HWTS_NO_OFFSET);
		t->n++;
		t->n_tx += tx;
		log_msg(LOG_INFO, "hwtimestamp %s: hardware receive%s timestamps from %s%s",
			h->name, tx ? " and transmit" : "", dev,
			tx ? ""
			   : " (no hardware transmit stamps: interleaved replies carry the "
			     "kernel's)");
	}
	close(sock);
	hwts_update(t);
	return t->n;
}

void hwts_update(struct hwts_table *t)
{
	int i, k;

	for (i = 0; i < t->n; i++) {
		struct hwts_if *h = &t->ifs[i];
		int64_t best_width = INT64_MAX, best = HWTS_NO_OFFSET, at = 0;

		for (k = 0; k < HWTS_SAMPLES; k++) {
			struct timespec a, p, b;

			clock_gettime(CLOCK_REALTIME, &a);
			if (clock_gettime(h->phc, &p) < 0)
				break;
			clock_gettime(CLOCK_REALTIME, &b);
			if (ns_from_timespec(&b) - ns_from_timespec(&a) < best_width) {
				best_width = ns_from_timespec(&b) - ns_from_timespec(&a);
				/* The PHC was read at the midpoint of the system reads. */
				best = ns_from_timespec(&a) + best_width / 2 - ns_from_timespec(&p);
				at = ns_from_timespec(&a) + best_width / 2;
			}
		}
		/* Relaxed: each is read on its own (the XDP guard's publication checks the age). */
		atomic_store_explicit(&h->offset_ns, best, memory_order_relaxed);
		atomic_store_explicit(&h->at_ns, at, memory_order_relaxed);
	}
}

int hwts_to_system(const struct hwts_table *t, int ifindex, const struct timespec *hw,
		   struct timespec *out)
{
	int i;

	for (i = 0; i < t->n; i++) {
		int64_t off, ns;

		if (t->ifs[i].ifindex != ifindex)
			continue;
		off = atomic_load_explicit(&t->ifs[i].offset_ns, memory_order_relaxed);
		if (off == HWTS_NO_OFFSET)
			return -1;
		ns = ns_from_timespec(hw) + off;
		ns_to_timespec(ns, out);
		return 0;
	}
	return -1;
}

void hwts_fini(struct hwts_table *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->ifs[i].phc_fd >= 0)
			close(t->ifs[i].phc_fd);
	t->n = 0;
}
