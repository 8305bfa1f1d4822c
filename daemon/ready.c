/*
 * Readiness and liveness (see ready.h). The pidfile is opened before the
 * sandbox and written through that descriptor afterwards; the timer
 * (timerfd) is made and armed before the sandbox too, so the running
 * horod only reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "daemon/clockd/report.h"
#include "daemon/control/answers.h"
#include "daemon/ready.h"
#include "daemon/serve/xguard.h"
#include "daemon/sys/log.h"
#include "daemon/sys/notify.h"
#include "proto/ntp.h"

static struct rdy_state st;
static int pid_fd = -1;			/* the pidfile, created early */
static int ready_pipe = -1;		/* the detaching parent waits on its other end */
static int timer_fd = -1;		/* paces the feeding and the status */
static int64_t wd_ns;			/* WatchdogSec=, ns; 0 none */
static int64_t next_status;		/* CLOCK_MONOTONIC ns of the next STATUS= */
static uint64_t beats[CFG_MAX_WORKERS]; /* the workers' beats at the last feeding */
static uint64_t prev_rx;		/* requests counted at the last STATUS= */
static int64_t prev_ns;			/* ... and when */

void rdy_bind(const struct rdy_state *s)
{
	st = *s;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int rdy_daemonize(void)
{
	int p[2], fd;
	ssize_t n;
	pid_t pid;
	char c = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 && c == '1' ? 0 : 1);
	}
	close(p[0]);
	ready_pipe = p[1];
	if (setsid() < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (st.cfg->log_syslog)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

int rdy_pidfile_open(void)
{
	if (!st.cfg->pidfile[0])
		return 0;
	pid_fd = open(st.cfg->pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pid_fd < 0) {
		log_msg(LOG_ERR, "pidfile %s: %s", st.cfg->pidfile, strerror(errno));
		return -1;
	}
	return 0;
}

/* Write this process's PID into the pidfile; 0 or -1 (logged). */
static int pidfile_write(void)
{
	char buf[32];
	int n;

	if (pid_fd < 0)
		return 0;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pid_fd, 0) < 0 || lseek(pid_fd, 0, SEEK_SET) != 0 ||
	    write(pid_fd, buf, (size_t)n) != n) {
		log_msg(LOG_ERR, "pidfile %s: write failed: %s", st.cfg->pidfile, strerror(errno));
		return -1;
	}
	return 0;
}

void rdy_pidfile_close(int handed_over)
{
	char buf[32] = "";
	ssize_t n;

	if (pid_fd < 0)
		return;
	n = lseek(pid_fd, 0, SEEK_SET) == 0 ? read(pid_fd, buf, sizeof(buf) - 1) : -1;
	if (n > 0 && atol(buf) == (long)getpid() && !handed_over)
		unlink(st.cfg->pidfile);
	close(pid_fd);
	pid_fd = -1;
}

/*
 * The STATUS= text: what is served and how busy horod is, e.g.
 * "synchronized to 192.0.2.1 at stratum 2, root distance 0.420 ms; 1523
 * requests/s" (the rate since the last status).
 */
static const char *status_text(char *buf, size_t len)
{
	struct clockd_tracking tr;
	struct ctr_totals t;
	char refid[32];
	double rate = 0, dist;
	int64_t now = mono_ns();

	ctr_sum(st.counters, st.n_workers, &t);
	xg_totals_add(&t);
	if (prev_ns && now > prev_ns && t.received >= prev_rx)
		rate = (double)(t.received - prev_rx) * 1e9 / (double)(now - prev_ns);
	prev_rx = t.received;
	prev_ns = now;
	clockd_report_tracking(st.cd, &tr);
	dist = tr.snap.root_delay / 2 + clk_snapshot_root_disp(&tr.snap, tr.sys_ns);
	if (!answers_synced(&tr.snap))
		snprintf(buf, len, "unsynchronized (LI 3); %.0f requests/s", rate);
	else
		snprintf(buf, len,
			 "synchronized to %s at stratum %d, root distance %.3f ms; %.0f requests/s",
			 ntp_refid_format(tr.snap.refid, tr.snap.stratum, refid, sizeof(refid)),
			 tr.snap.stratum, dist * 1e3, rate);
	return buf;
}

int rdy_open(int64_t watchdog_ns)
{
	struct itimerspec it;
	int64_t period;

	ntf_open();
	wd_ns = watchdog_ns;
	if (!ntf_active())
		return 0;
	/* Feed at half the interval; without a watchdog, only the status is paced. */
	period = wd_ns ? wd_ns / 2 : RDY_STATUS_EVERY_NS;
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = period / 1000000000;
	it.it_value.tv_nsec = period % 1000000000;
	it.it_interval = it.it_value;
	if (timer_fd < 0 || timerfd_settime(timer_fd, 0, &it, NULL) < 0) {
		log_msg(LOG_ERR, "the supervision timer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int poll_fds(void *arg, struct pollfd *pfd, int max)
{
	(void)arg;
	if (timer_fd < 0 || max < 1)
		return 0;
	pfd[0].fd = timer_fd;
	pfd[0].events = POLLIN;
	return 1;
}

/*
 * The timer fired: feed the watchdog when every worker began a loop
 * since the last feeding (else say once which way things went), and
 * refresh the status now and then.
 */
static void poll_handle(void *arg, const struct pollfd *pfd, int n)
{
	static int stuck_logged;
	char status[NTF_MSG_MAX / 2];
	uint64_t expirations;

	(void)arg;
	(void)pfd;
	(void)n;
	if (read(timer_fd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations))
		return;
	if (wd_ns) {
		if (wk_alive(st.workers, st.n_workers, beats)) {
			ntf_send("WATCHDOG=1");
			stuck_logged = 0;
		} else if (!stuck_logged) {
			stuck_logged = 1;
			log_msg(LOG_ERR,
				"a worker has not moved for %lld ms: the watchdog goes unfed",
				(long long)(wd_ns / 2000000));
		}
	}
	if (mono_ns() >= next_status) {
		ntf_send("STATUS=%s", status_text(status, sizeof(status)));
		next_status = mono_ns() + RDY_STATUS_EVERY_NS;
	}
}

struct clockd_poller rdy_poller(void)
{
	struct clockd_poller p = {.fds = poll_fds, .handle = poll_handle, .arg = NULL};

	return p;
}

int rdy_announce(void)
{
	char status[NTF_MSG_MAX / 2];

	if (pidfile_write() < 0)
		return -1;
	ntf_send("MAINPID=%ld\nREADY=1\nSTATUS=%s", (long)getpid(),
		 status_text(status, sizeof(status)));
	next_status = mono_ns() + RDY_STATUS_EVERY_NS;
	return 0;
}

void rdy_tell_parent(void)
{
	if (ready_pipe < 0)
		return;
	if (write(ready_pipe, "1", 1) != 1)
		log_msg(LOG_WARNING, "cannot tell the parent horod is ready: %s", strerror(errno));
	close(ready_pipe);
	ready_pipe = -1;
}

void rdy_stopping(const char *why)
{
	ntf_send("STOPPING=1\nSTATUS=%s", why);
}

void rdy_close(void)
{
	if (timer_fd >= 0)
		close(timer_fd);
	timer_fd = -1;
	ntf_close();
}
