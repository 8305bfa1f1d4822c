/*
 * Both sides of a takeover for main.c's steps (see takeover.h). The
 * descriptors travel with names: "ntp W J" worker W's socket for listen
 * line J, "control" and "metrics" the listeners, "xdp-map NAME" and
 * "xdp-link IFNAME MODE" the guard's (xguard.h). A successor configured
 * with fewer workers or other addresses takes what matches and opens the
 * rest; what it does not take it closes at the end of its start-up.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/clockd/report.h"
#include "daemon/control/answers.h"
#include "daemon/serve/handover.h"
#include "daemon/serve/xguard.h"
#include "daemon/sys/log.h"
#include "daemon/sys/notify.h"
#include "daemon/takeover.h"

#define TKO_RELEASE_MS (WK_DRAIN_MAX_MS + 4500) /* ms for the predecessor to drain and exit */

static struct tko_state st;

/* Successor: what the predecessor handed over, and the line to it. */
static struct fdp_item got[FDP_MAX];
static int n_got;
static int conn = -1;
static struct ho_peer peer;

/* Predecessor: the successor's connection while it takes over, and whether it did. */
static int offer_fd = -1;
static int handed_over;

void tko_bind(const struct tko_state *s)
{
	st = *s;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when the snapshot the clock thread serves is synchronized. */
static int serving_synced(void)
{
	struct clockd_tracking tr;

	clockd_report_tracking(st.cd, &tr);
	return answers_synced(&tr.snap);
}

/*
 * Run the clock (polls, replies, ticks) until it serves synchronized
 * time, at most TKO_SYNC_WAIT_S: the predecessor serves meanwhile.
 */
static void wait_sync(void)
{
	int64_t t0 = mono_ms(), end = t0 + (int64_t)TKO_SYNC_WAIT_S * 1000;

	while (!serving_synced()) {
		if (mono_ms() >= end) {
			log_msg(LOG_WARNING,
				"takeover: not synchronized after %d s: taking over anyway "
				"(clients get unsynchronized answers until it is)",
				TKO_SYNC_WAIT_S);
			return;
		}
		clockd_wait(st.cd, -1);
	}
	log_msg(LOG_NOTICE, "takeover: synchronized after %.1f s", (double)(mono_ms() - t0) / 1e3);
}

int tko_fetch(void)
{
	char why[512];

	if (!st.cfg->control.path[0]) {
		log_msg(LOG_ERR, "takeover: it goes through the control socket, and `control off` "
				 "leaves none");
		return -1;
	}
	if (ho_request(st.cfg->control.path, &peer, got, FDP_MAX, &n_got, &conn, why, sizeof(why)) <
	    0) {
		log_msg(LOG_ERR, "takeover: %s", why);
		return -1;
	}
	log_msg(LOG_NOTICE,
		"takeover: horod %s (PID %d, %s) handed over %d descriptors; it serves on "
		"meanwhile",
		peer.version[0] ? peer.version : "?", peer.pid,
		peer.synced ? "synchronized" : "unsynchronized", n_got);
	if (peer.synced)
		wait_sync();
	return 0;
}

int tko_active(void)
{
	return conn >= 0;
}

/* The descriptor of the item named NAME, taken (its slot emptied); -1 when none. */
static int take(const char *name)
{
	int i, fd;

	for (i = 0; i < n_got; i++) {
		if (got[i].fd < 0 || strcmp(got[i].name, name) != 0)
			continue;
		fd = got[i].fd;
		got[i].fd = -1;
		return fd;
	}
	return -1;
}

int tko_take_socket(int w, int j)
{
	char name[FDP_NAME_MAX];

	snprintf(name, sizeof(name), "ntp %d %d", w, j);
	return take(name);
}

void tko_take_listeners(int *lfd, int *hfd)
{
	*lfd = take("control");
	*hfd = take("metrics");
}

void tko_take_guard(void)
{
	xg_handover_import(got, n_got);
}

int64_t tko_watchdog_ns(void)
{
	return conn >= 0 || peer.pid ? peer.watchdog_ns : 0;
}

int tko_release(void)
{
	int r;

	if (conn < 0)
		return 0;
	r = ho_release(conn, TKO_RELEASE_MS);
	conn = -1;
	if (r < 0) {
		log_msg(LOG_WARNING,
			"takeover: horod PID %d did not go within %d ms (%s): both serve, on the "
			"same sockets",
			peer.pid, TKO_RELEASE_MS, strerror(-r));
		return -1;
	}
	log_msg(LOG_NOTICE, "takeover: horod PID %d drained and stopped; this horod serves alone",
		peer.pid);
	return 0;
}

void tko_drop_rest(void)
{
	fdp_close_all(got, n_got);
	n_got = 0;
}

/* Predecessor: a takeover request on the control socket, connection FD. */
static void on_request(void *arg, int fd)
{
	static struct fdp_item items[FDP_MAX];
	int n = 0, w, j, r;

	(void)arg;
	if (offer_fd >= 0 || handed_over) {
		log_msg(LOG_WARNING, "takeover: another one is under way: refused");
		close(fd);
		return;
	}
	for (w = 0; w < st.n_workers; w++)
		for (j = 0; j < st.workers[w].n_socks && n < FDP_MAX; j++) {
			snprintf(items[n].name, FDP_NAME_MAX, "ntp %d %d", w, j);
			items[n++].fd = st.workers[w].socks[j].fd;
		}
	if (st.ctl->lfd >= 0 && n < FDP_MAX) {
		snprintf(items[n].name, FDP_NAME_MAX, "control");
		items[n++].fd = st.ctl->lfd;
	}
	if (st.ctl->hfd >= 0 && n < FDP_MAX) {
		snprintf(items[n].name, FDP_NAME_MAX, "metrics");
		items[n++].fd = st.ctl->hfd;
	}
	if (xg_handover_export(items, &n, FDP_MAX) < 0) {
		log_msg(LOG_WARNING, "takeover: too many descriptors to hand over: refused");
		close(fd);
		return;
	}
	r = ho_offer(fd, serving_synced(), ntf_watchdog_ns(), items, n);
	if (r < 0) {
		log_msg(LOG_WARNING, "takeover: handing over failed (%s): serving on",
			strerror(-r));
		close(fd);
		return;
	}
	offer_fd = fd;
	log_msg(LOG_NOTICE,
		"takeover: %d descriptors handed to a successor; serving until it serves too", n);
}

/* Predecessor's poller: the successor's connection while it takes over. */
static int poll_fds(void *arg, struct pollfd *pfd, int max)
{
	(void)arg;
	if (offer_fd < 0 || handed_over || max < 1)
		return 0;
	pfd[0].fd = offer_fd;
	pfd[0].events = POLLIN;
	return 1;
}

static void poll_handle(void *arg, const struct pollfd *pfd, int n)
{
	int r;

	(void)arg;
	(void)pfd;
	(void)n;
	r = ho_read_drain(offer_fd);
	if (r == 0)
		return;
	if (r < 0) {
		log_msg(LOG_WARNING,
			"takeover: the successor went away before taking over: serving on");
		close(offer_fd);
		offer_fd = -1;
		return;
	}
	/* Our exit closes offer_fd: that tells the successor we are gone. */
	handed_over = 1;
	log_msg(LOG_NOTICE, "takeover: the successor serves: draining and stopping");
	wk_stop_drain();
}

struct clockd_poller tko_serve(void)
{
	struct clockd_poller p = {.fds = poll_fds, .handle = poll_handle, .arg = NULL};

	control_on_takeover(st.ctl, on_request, NULL);
	return p;
}

int tko_handed_over(void)
{
	return handed_over;
}
