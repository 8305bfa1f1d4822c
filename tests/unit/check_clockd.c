/*
 * Tests of the clock thread (daemon/clockd/) as the rest of horod sees
 * it: the report in each mode (none, the local reference alone, servers
 * with the local reference as fallback: the source list leaves the local
 * reference out, an unresolved server has no address yet), the ready
 * line's description, the snapshot a configuration publishes (nothing
 * without a source, the local reference at once), and the loop's
 * registrations: a poller's handler runs when its descriptor is ready,
 * the publish hook sees every snapshot published. Every configuration
 * uses `driver sim` or no server, so nothing touches the system clock,
 * and no server is ever resolved or polled (the loop is not run with
 * one).
 */
#include <check.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "clock/snapshot.h"
#include "daemon/clockd/clockd.h"
#include "daemon/clockd/report.h"
#include "daemon/config/config.h"
#include "proto/ntp.h"

Suite *clockd_suite(void);

/* "LOCL" as a reference ID */
#define REFID_LOCL 0x4c4f434cu

static struct horod_config cfg;
static struct clk_pub pub;
static struct clockd cd;

/* Start the clock thread on configuration TEXT. */
static void start(const char *text)
{
	char err[256];

	cfg_defaults(&cfg);
	ck_assert_msg(cfg_parse_string(&cfg, "(test)", text, err, sizeof(err)) == 0,
		      "the configuration should parse: %s", err);
	clk_pub_init(&pub);
	ck_assert_msg(clockd_init(&cd, &cfg, &pub, -20) == 0, "the clock thread should start");
}

static void stop(void)
{
	clockd_fini(&cd);
	cfg_free(&cfg);
}

START_TEST(test_none)
{
	struct clockd_tracking t;
	struct clk_snapshot s;
	char d[160];

	start("listen 127.0.0.1\n");
	clockd_report_tracking(&cd, &t);
	ck_assert_msg(t.mode == CLOCKD_MODE_NONE && t.n_sources == 0, "no source: mode none");
	clk_snapshot_read(&pub, &s);
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC && s.stratum == 16 &&
			      s.refid == ntp_refid_ascii("INIT") && s.root_disp == 16.0 &&
			      s.update_ns != 0,
		      "no source: an unsynchronized snapshot should be published (LI 3, stratum "
		      "16, INIT, 16 s), so that it stays fresh");
	ck_assert_str_eq(clockd_describe(&cd, d, sizeof(d)), "no time source (unsynchronized)");
	stop();
}
END_TEST

START_TEST(test_local_alone)
{
	struct clockd_tracking t;
	struct clockd_source si;
	char d[160];

	start("listen 127.0.0.1\nlocal stratum 5 dispersion 0.002\n");
	clockd_report_tracking(&cd, &t);
	ck_assert_msg(t.mode == CLOCKD_MODE_LOCAL && t.n_sources == 0,
		      "the local reference alone: mode local, no listed source");
	ck_assert_msg(clockd_report_source(&cd, 0, &si) == -1, "the list should be empty");
	ck_assert_msg((t.snap.flags & CLK_F_SYNCED) && t.snap.stratum == 5 &&
			      t.snap.refid == REFID_LOCL && t.snap.leap != NTP_LEAP_UNSYNC &&
			      t.snap.root_disp >= 0.002,
		      "the first snapshot should serve the local reference at stratum 5");
	ck_assert_msg(!(t.snap.flags & CLK_F_CORRECTED) && t.snap.corr_ns == 0 &&
			      t.snap.corr_freq == 0.0,
		      "the system clock should be served as it is");
	ck_assert_msg(t.offset == 0.0 && t.freq_ppm == 0.0 && t.skew_ppm == 0.0 && !t.discipline,
		      "nothing measured, nothing steered");
	ck_assert_str_eq(t.driver, "kernel");
	ck_assert_str_eq(clockd_describe(&cd, d, sizeof(d)), "local reference");
	stop();
}
END_TEST

START_TEST(test_servers_and_local)
{
	struct clockd_tracking t;
	struct clockd_source si;
	struct clockd_upstream up;
	char d[160];

	start("listen 127.0.0.1\nserver 192.0.2.1 minpoll 4\npool pool.invalid maxsources 2\n"
	      "local stratum 9\ndriver sim offset 0.01\n");
	clockd_report_tracking(&cd, &t);
	ck_assert_msg(t.mode == CLOCKD_MODE_NTP && t.n_sources == 3,
		      "three upstream sources listed, not the local reference (got %d)",
		      t.n_sources);
	ck_assert_msg(clockd_report_source(&cd, 0, &si) == 0, "source 0 should exist");
	ck_assert_str_eq(si.name, "192.0.2.1");
	ck_assert_msg(si.configured && si.addr[0] == '\0' && si.port == 0 && si.since_rx_ns == -1 &&
			      si.poll == 4,
		      "a configured, unresolved, never heard server polled at minpoll");
	ck_assert_msg(clockd_report_source(&cd, 2, &si) == 0 && !si.configured,
		      "a pool member is not configured");
	ck_assert_str_eq(si.name, "pool.invalid#1");
	ck_assert_msg(clockd_report_source(&cd, 3, &si) == -1, "the local reference is not listed");
	ck_assert_msg(t.snap.leap == NTP_LEAP_UNSYNC && t.sys_peer == -1,
		      "while the servers start: unsynchronized, no system peer");
	ck_assert_msg(t.has_true_error && fabs(t.true_error - 0.01) < 1e-3,
		      "the sim driver should know its true error, 10 ms (got %g)", t.true_error);
	ck_assert_str_eq(clockd_describe(&cd, d, sizeof(d)),
			 "3 upstream sources, driver sim, discipline on");
	clockd_report_upstream(&cd, &up);
	ck_assert_msg(up.sent == 0 && up.received == 0, "nothing sent yet");
	stop();
}
END_TEST

START_TEST(test_discipline_off_said)
{
	char d[160];

	start("listen 127.0.0.1\nserver 192.0.2.1\ndriver sim\ndiscipline off\n");
	ck_assert_str_eq(clockd_describe(&cd, d, sizeof(d)),
			 "1 upstream source, driver sim, discipline off");
	stop();
}
END_TEST

static int poll_calls, handle_calls, published;
static struct clk_snapshot last_pub;

static int test_fds(void *arg, struct pollfd *pfd, int max)
{
	ck_assert_msg(max >= 1, "room for one descriptor");
	pfd[0].fd = *(int *)arg;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	poll_calls++;
	return 1;
}

static void test_handle(void *arg, const struct pollfd *pfd, int n)
{
	uint64_t v;

	ck_assert_msg(n == 1 && pfd[0].fd == *(int *)arg && (pfd[0].revents & POLLIN),
		      "the handler should get its own ready descriptor");
	ck_assert_msg(read(*(int *)arg, &v, sizeof(v)) == sizeof(v), "the event should be read");
	handle_calls++;
}

static void on_publish(void *arg, const struct clk_snapshot *s)
{
	(void)arg;
	last_pub = *s;
	published++;
}

START_TEST(test_poller_and_hook)
{
	struct clockd_poller p = {.fds = test_fds, .handle = test_handle};
	struct clk_snapshot s;
	uint64_t one = 1;
	int efd = eventfd(0, EFD_NONBLOCK), sigfd = eventfd(0, EFD_NONBLOCK), k;

	ck_assert_msg(efd >= 0 && sigfd >= 0, "eventfds");
	start("listen 127.0.0.1\nlocal stratum 3\n");
	p.arg = &efd;
	ck_assert_msg(clockd_add_poller(&cd, &p) == 0, "a poller should register");
	clockd_on_publish(&cd, on_publish, NULL);
	ck_assert_msg(write(efd, &one, sizeof(one)) == sizeof(one), "event written");
	ck_assert_msg(clockd_wait(&cd, sigfd) == 0, "no signal");
	ck_assert_msg(poll_calls == 1 && handle_calls == 1,
		      "the poller's descriptor should be waited on and handled (%d, %d)",
		      poll_calls, handle_calls);
	/* The tick publishes within about a second; the hook sees it. */
	for (k = 0; k < 30 && !published; k++)
		clockd_wait(&cd, sigfd);
	clk_snapshot_read(&pub, &s);
	ck_assert_msg(published >= 1 && memcmp(&s, &last_pub, sizeof(s)) == 0 &&
			      last_pub.stratum == 3,
		      "the hook should see the snapshot published");
	ck_assert_msg(handle_calls == 1, "an idle descriptor is not handled");
	ck_assert_msg(write(sigfd, &one, sizeof(one)) == sizeof(one), "signal written");
	ck_assert_msg(clockd_wait(&cd, sigfd) == 1, "a readable signal descriptor says so");
	for (k = 0; k < CLOCKD_MAX_POLLERS - 1; k++)
		clockd_add_poller(&cd, &p);
	ck_assert_msg(clockd_add_poller(&cd, &p) == -1, "pollers beyond the table are refused");
	stop();
	close(efd);
	close(sigfd);
}
END_TEST

Suite *clockd_suite(void)
{
	Suite *s = suite_create("clockd");
	TCase *tc = tcase_create("clockd");

	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_local_alone);
	tcase_add_test(tc, test_servers_and_local);
	tcase_add_test(tc, test_discipline_off_said);
	tcase_add_test(tc, test_poller_and_hook);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return s;
}
