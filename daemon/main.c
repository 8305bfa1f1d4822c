/*
 * horod's main: parse the command line and the configuration, then the
 * start-up steps in order (the clock thread, the I/O backend, the
 * workers' memory, the keyfile and NTS server, their sockets, the control
 * socket, detaching and the pidfile, the XDP guard, the signals, the
 * sandbox, the NTS-KE thread, the workers), run the clock thread's loop
 * in the main thread, and undo the steps that were done in reverse, on
 * SIGTERM/SIGINT or as soon as one fails. main() is the list of steps;
 * each is a function below, its undo beside it.
 * Signals are blocked in every thread and read from a signalfd by the
 * clock thread's loop, so no code runs in signal context.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sys/signalfd.h>

#include "clock/driver.h"
#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/auth/auth.h"
#include "daemon/serve/clientlog.h"
#include "daemon/clockd/clockd.h"
#include "daemon/clockd/leapreload.h"
#include "daemon/config/config.h"
#include "daemon/clockd/report.h"
#include "daemon/control/control.h"
#include "daemon/control/m6srv.h"
#include "daemon/serve/counters.h"
#include "daemon/sys/log.h"
#include "daemon/sys/sandbox.h"
#include "daemon/serve/reload.h"
#include "daemon/serve/serve.h"
#include "daemon/serve/worker.h"
#include "daemon/serve/xguard.h"
#include "daemon/listen.h"
#include "daemon/ready.h"
#include "daemon/sys/notify.h"
#include "daemon/takeover.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

#define WORKERS_READY_MS 5000 /* ms for the workers to set up and receive: they take a few */
#define AUTH_QUIESCE_MS                                                                            \
	(2 * WK_STOP_POLL_MS) /* ms a SIGHUP waits for the workers to leave the old keys */

/* What the command line says. */
struct opts {
	const char *conf;    /* -f FILE, NULL: the embedded configuration */
	int foreground;	     /* -n */
	int debug;	     /* -d */
	int check_only;	     /* --check-config */
	int port;	     /* -P PORT, 0: none */
	int takeover;	     /* --takeover */
	const char *pidfile; /* -p FILE, NULL: the configuration's */
};

static const char usage[] =
	"Usage: horod [OPTIONS]\n"
	"A kernel-assisted NTP server.\n"
	"\n"
	"  -f, --config FILE   read the configuration from FILE (default: the embedded\n"
	"                      configuration: listen 127.0.0.1 and ::1, local stratum 10)\n"
	"  -n, --foreground    do not detach; keep logging where the configuration says\n"
	"  -d, --debug         log debug messages too\n"
	"  -P, --port PORT     port for `listen` lines without their own (default 123)\n"
	"  -p, --pidfile FILE  write the PID to FILE once serving (over `pidfile`)\n"
	"      --takeover      take over from the horod answering on this configuration's\n"
	"                      control socket: its sockets with what is queued in them, its\n"
	"                      listeners and XDP guard, without dropping a request\n"
	"      --check-config  parse the configuration, report errors, exit 0 or 2\n"
	"      --version       print the version and exit\n"
	"  -h, --help          print this help and exit\n"
	"\n"
	"Signals: SIGTERM/SIGINT stop, SIGUSR1 logs the counters, SIGHUP reloads the\n"
	"access lists, the rate limit and denykod, and reads the keyfile, the NTS\n"
	"certificate and key and the leap table again.\n"
	"Exit status: 0 stopped cleanly, 1 run-time failure, 2 configuration error.\n";

static struct opts opt;
static struct horod_config cfg;
static struct clk_pub pub;
static struct clockd cd;
static struct m6_queue m6q;
static struct m6srv m6;
static struct srv_shared shared;
static struct worker *workers;
static struct ctr_block *counters;
static int n_workers;
static struct hwts_table hwts;
static _Atomic int hwts_ready; /* hwts is initialised: the clock thread measures its PHCs */
static struct control ctl;
static struct auth_shared auth;	    /* keyfile, NTS keys, NTS-KE server */
static struct auth_worker *auth_wk; /* one per worker */
static enum wk_io io;
static int precision; /* log2 s of one read of the system clock */
static int guard;     /* the XDP guard runs (xg_start) */
static int sigfd = -1;

/* The counters line (SIGUSR1; "final " at stop), with what the XDP guard consumed. */
static void log_counters(const char *prefix)
{
	static char line[4096];
	struct ctr_totals t;

	ctr_sum(counters, n_workers, &t);
	xg_totals_add(&t);
	ctr_add_ke(&t, &auth);
	ctr_format(&t, line, sizeof(line));
	log_msg(LOG_NOTICE, "%scounters %s", prefix, line);
}

/* Bind every worker's socket on every listen address (before detaching: errors are seen). */
static int open_sockets(void)
{
	return lsn_open_sockets(&cfg, workers, n_workers, hwts.n > 0);
}

/* Close every worker's sockets. */
static void close_sockets(void)
{
	lsn_close_sockets(workers, n_workers);
}

/* The command line into O; -1 to go on, else horod's exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'f'},  {"foreground", no_argument, NULL, 'n'},
		{"debug", no_argument, NULL, 'd'},	   {"port", required_argument, NULL, 'P'},
		{"check-config", no_argument, NULL, 'C'},  {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},	   {"takeover", no_argument, NULL, 'T'},
		{"pidfile", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "f:ndP:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->conf = optarg;
			break;
		case 'n':
			o->foreground = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'P': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 65535) {
				fprintf(stderr,
					"horod: -P %s: port out of range, allowed 1-65535\n",
					optarg);
				return 2;
			}
			o->port = (int)v;
			break;
		}
		case 'C':
			o->check_only = 1;
			break;
		case 'T':
			o->takeover = 1;
			break;
		case 'p':
			if (optarg[0] != '/' || strlen(optarg) >= CFG_PATH_MAX) {
				fprintf(stderr,
					"horod: -p %s: not an absolute path of at most %d bytes\n",
					optarg, CFG_PATH_MAX - 1);
				return 2;
			}
			o->pidfile = optarg;
			break;
		case 'V':
			printf("horod %s\n", HOROD_VERSION);
			return 0;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "horod: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	return -1;
}

/* The configuration, every error before anything starts; -1 to go on, else the exit status. */
static int load_config(const struct opts *o)
{
	const char *name = o->conf ? o->conf : "(embedded)";
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat xst;
	char err[CFG_ERR_MAX];

	cfg_defaults(&cfg);
	if (o->conf ? cfg_parse_file(&cfg, o->conf, err, sizeof(err)) < 0
		    : cfg_parse_string(&cfg, name, cfg_embedded_default, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		cfg_free(&cfg);
		return 2;
	}
	if (o->port)
		cfg.default_port = o->port;
	if (o->pidfile)
		snprintf(cfg.pidfile, sizeof(cfg.pidfile), "%s", o->pidfile);
	/* Without a `control` line: root's socket, or one in the user's own directory. */
	cfg_control_resolve(&cfg, geteuid(), xdg, xdg && stat(xdg, &xst) == 0 ? &xst : NULL);
	if (cfg.n_listen == 0) {
		fprintf(stderr, "%s: no listen directive, allowed: listen ADDR [port N]\n", name);
		cfg_free(&cfg);
		return 2;
	}
	/* NTS and keyfile directives together; then, to start, the files they name (auth.h). */
	if (cfg_nts_check(&cfg, err, sizeof(err)) < 0 ||
	    (!o->check_only && auth_verify_config(&cfg, err, sizeof(err)) < 0)) {
		fprintf(stderr, "%s: %s\n", name, err);
		cfg_free(&cfg);
		return 2;
	}
	if (o->check_only) {
		printf("%s: configuration OK\n", name);
		cfg_free(&cfg);
		return 0;
	}
	return -1;
}

/*
 * At every snapshot the clock thread publishes: the PHC offsets measured
 * again (`hwtimestamp`: the workers' and the XDP guard's conversion of
 * NIC stamps), then the snapshot published to the XDP guard too (`guard
 * serve on`).
 */
static void publish_to_guard(void *arg, const struct clk_snapshot *s)
{
	(void)arg;
	/* Acquire: pairs with make_workers' release, after hwts_init filled the table. */
	if (atomic_load_explicit(&hwts_ready, memory_order_acquire))
		hwts_update(&hwts);
	xg_serve_publish(s);
}

/* The clock thread: precision, then the core, its sources and a first snapshot before any
 * worker reads it. */
static int start_clock(void)
{
	precision = clk_measure_precision(CLOCK_REALTIME);
	clk_pub_init(&pub);
	if (clockd_init(&cd, &cfg, &pub, precision) < 0) {
		clockd_fini(&cd);
		return -1;
	}
	clockd_on_publish(&cd, publish_to_guard, NULL);
	return 0;
}

/* Save the driftfile, stop the sources, free the core and driver. */
static void stop_clock(void)
{
	clockd_fini(&cd);
}

/* The I/O backend: io_uring unless `io mmsg`, or when the kernel refuses it and `io auto`. */
static int choose_io(void)
{
	char why[128] = "";

	io = cfg.io == CFG_IO_MMSG ? WK_IO_MMSG : WK_IO_URING;
	if (io == WK_IO_URING && wk_uring_probe(why, sizeof(why)) < 0) {
		if (cfg.io == CFG_IO_URING) {
			log_msg(LOG_ERR, "io uring configured but unavailable: %s", why);
			return -1;
		}
		log_msg(LOG_WARNING, "io_uring unavailable (%s): using recvmmsg/sendmmsg", why);
		io = WK_IO_MMSG;
	}
	return 0;
}

/* The workers' memory and what they share: counters, client logs, the mode 6 queue, the
 * hardware timestamp table. */
static int make_workers(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int i;

	if (ncpu < 1)
		ncpu = 1;
	n_workers = cfg.workers ? cfg.workers : (int)ncpu;
	workers = calloc((size_t)n_workers, sizeof(*workers));
	counters = aligned_alloc(64, sizeof(*counters) * (size_t)n_workers);
	auth_wk = calloc((size_t)n_workers, sizeof(*auth_wk));
	if (!workers || !counters || !auth_wk) {
		log_msg(LOG_ERR, "out of memory for %d workers", n_workers);
		free(workers);
		free(counters);
		free(auth_wk);
		workers = NULL;
		counters = NULL;
		auth_wk = NULL;
		return -1;
	}
	memset(counters, 0, sizeof(*counters) * (size_t)n_workers);
	shared.pub = &pub;
	shared.clock = CLOCK_REALTIME;
	/* Mode 6 (ntpq, ntpstat): workers hand requests to the clock thread. */
	shared.m6 = m6q_init(&m6q) == 0 ? &m6q : NULL;
	if (!shared.m6)
		log_msg(LOG_WARNING, "mode 6 disabled: cannot create its queue");
	hwts_init(&hwts, &cfg);
	/* Release: the clock thread sees the whole table before it measures it. */
	atomic_store_explicit(&hwts_ready, 1, memory_order_release);
	shared.hw = &hwts;
	/* Interleaved state: the limit shared out, each worker's table made in its thread. */
	shared.xl_bytes = (size_t)cfg.clientloglimit / (size_t)n_workers;
	for (i = 0; i < n_workers; i++) {
		workers[i].id = i;
		workers[i].cpu = cfg.workers ? -1 : (int)(i % ncpu);
		workers[i].io = io;
		workers[i].ctr = &counters[i];
		/* `horoctl clients`: without memory for it, the worker serves without a log. */
		counters[i].clog = clog_create();
		workers[i].shared = &shared;
	}
	return 0;
}

/* Free what make_workers() made. */
static void free_workers(void)
{
	int i;

	/* The clock thread runs until the last step is undone: it stops measuring first. */
	atomic_store_explicit(&hwts_ready, 0, memory_order_release);
	hwts_fini(&hwts);
	if (shared.m6)
		m6q_fini(shared.m6);
	for (i = 0; i < n_workers; i++)
		clog_destroy(counters[i].clog);
	free(workers);
	free(counters);
	free(auth_wk);
}

/* The keyfile, the NTS server keys, the NTS-KE certificate and sockets (before privileges
 * go), each worker's slot. */
static int open_auth(void)
{
	char err[512];
	int i;

	if (auth_open(&auth, &cfg, n_workers, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		auth_close(&auth);
		return -1;
	}
	shared.auth = &auth;
	for (i = 0; i < n_workers; i++) {
		if (auth_worker_init(&auth, &auth_wk[i]) < 0) {
			log_msg(LOG_ERR, "worker %d: no NTS key slot or no randomness", i);
			auth_close(&auth);
			return -1;
		}
		counters[i].auth_wk = &auth_wk[i];
	}
	return 0;
}

/* Release what open_auth() took (the NTS-KE thread stopped). */
static void close_auth(void)
{
	auth_close(&auth);
}

/* The control socket and metrics endpoint, and mode 6, served by the clock thread's loop. */
static int open_control(void)
{
	struct clockd_poller p;
	int lfd, hfd;

	tko_take_listeners(&lfd, &hfd); /* a predecessor's, when taking over */
	if (control_open_adopt(&ctl, &cfg, lfd, hfd) < 0) {
		control_close(&ctl);
		return -1;
	}
	control_attach(&ctl, &cd, counters, n_workers);
	ctl.view.auth = &auth;
	p = control_poller(&ctl);
	clockd_add_poller(&cd, &p);
	if (shared.m6) {
		m6srv_init(&m6, shared.m6, &cfg, &cd);
		p = m6srv_poller(&m6);
		clockd_add_poller(&cd, &p);
	}
	/* A successor may ask for all of this (takeover.h). */
	p = tko_serve();
	clockd_add_poller(&cd, &p);
	return 0;
}

/* Close the control socket, its connections and the metrics endpoint (a successor's now, after a
 * takeover). */
static void close_control(void)
{
	if (tko_handed_over())
		control_release(&ctl);
	else
		control_close(&ctl);
}

/* Take over from the running horod (--takeover): its descriptors, once this clock serves as well.
 */
static int fetch_predecessor(void)
{
	struct tko_state t = {
		.cfg = &cfg, .workers = workers, .n_workers = n_workers, .ctl = &ctl, .cd = &cd};

	struct rdy_state r = {.cfg = &cfg,
			      .workers = workers,
			      .counters = counters,
			      .n_workers = n_workers,
			      .cd = &cd};

	tko_bind(&t);
	rdy_bind(&r);
	return opt.takeover ? tko_fetch() : 0;
}

/* Whatever a predecessor handed over that start-up did not take is closed. */
static void drop_handover(void)
{
	tko_drop_rest();
}

/* Detach from the terminal unless -n, then create the pidfile. */
static int detach(void)
{
	if (!opt.foreground && rdy_daemonize() < 0) {
		log_msg(LOG_ERR, "cannot detach: %s", strerror(errno));
		return -1;
	}
	return rdy_pidfile_open();
}

/* Remove the pidfile, unless it names a successor now. */
static void remove_pidfile(void)
{
	rdy_pidfile_close(tko_handed_over());
}

/*
 * The XDP guard, or the workers' own rate limit when it cannot run
 * (xguard.h). Taking over, the sockets a predecessor still serves get
 * room for the load's stall (rxsock.h RX_RCVBUF_LOAD_BYTES) meanwhile.
 */
static int start_guard(void)
{
	int takeover = tko_active() && cfg.guard.n_ifs > 0;

	if (takeover)
		lsn_sockets_rcvbuf(workers, n_workers, RX_RCVBUF_LOAD_BYTES);
	tko_take_guard(); /* a predecessor's maps and links, when taking over */
	guard = xg_start(&cfg, &shared);
	if (takeover)
		lsn_sockets_rcvbuf(workers, n_workers, RX_RCVBUF_BYTES);
	return guard < 0 ? -1 : 0;
}

/* Detach and unload the guard (after the workers stopped), or leave it to a successor. */
static void stop_guard(void)
{
	xg_stop(tko_handed_over());
}

/* Signals are taken synchronously, by the clock thread's loop only. */
static int take_signals(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) {
		log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Close the signalfd. */
static void close_signals(void)
{
	close(sigfd);
	sigfd = -1;
}

/*
 * The sandbox (sandbox.h): everything that needs root is done, so switch
 * to `user` and install the seccomp filter before the workers start (they
 * inherit both; TSYNC covers threads already running).
 */
static int enter_sandbox(void)
{
	return sb_enter(&cfg, guard > 0);
}

/* Stop and join every worker, then log the final counters. */
static void stop_workers(void)
{
	int i;

	wk_stop();
	for (i = 0; i < n_workers; i++)
		wk_join(&workers[i]);
	log_counters("final ");
}

/* The workers, then the ready line. */
static int start_workers(void)
{
	char where[512] = "", one[80], desc[160];
	struct clockd_tracking tr;
	int i, ret;

	for (i = 0; i < n_workers; i++) {
		ret = wk_start(&workers[i]);
		if (ret < 0) {
			log_msg(LOG_ERR, "cannot start worker %d: %s", i, strerror(-ret));
			stop_workers();
			return -1;
		}
	}
	/* Ready means receiving: each worker's ring set up and its receives armed. */
	if (wk_wait_running(workers, n_workers, WORKERS_READY_MS) < 0)
		log_msg(LOG_WARNING,
			"a worker is not receiving after %d ms: announcing ready anyway",
			WORKERS_READY_MS);
	for (i = 0; i < cfg.n_listen; i++) {
		lsn_format_listen(&cfg, &cfg.listen[i], one, sizeof(one));
		strncat(where, i ? " " : "", sizeof(where) - strlen(where) - 1);
		strncat(where, one, sizeof(where) - strlen(where) - 1);
	}
	log_msg(LOG_NOTICE,
		"horod %s ready: %d worker%s, io %s, listening on %s, %s, precision 2^%d s",
		HOROD_VERSION, n_workers, n_workers == 1 ? "" : "s",
		io == WK_IO_URING ? "uring" : "mmsg", where,
		clockd_describe(&cd, desc, sizeof(desc)), precision);
	clockd_report_tracking(&cd, &tr);
	if (tr.mode == CLOCKD_MODE_LOCAL)
		log_msg(LOG_INFO, "local stratum %d, dispersion %.6f s growing at 15 ppm/s",
			cfg.local.stratum, cfg.local.dispersion);
	return 0;
}

/* The NTS-KE thread, when there is an NTS server. */
static int start_auth(void)
{
	int ret = auth_start(&auth);

	if (ret < 0) {
		log_msg(LOG_ERR, "cannot start the NTS-KE thread: %s", strerror(-ret));
		return -1;
	}
	return 0;
}

/* Stop the NTS-KE thread: no session after it (its counters read until close_auth). */
static void stop_auth(void)
{
	auth_stop(&auth);
}

/*
 * systemd's socket and the supervision timer, before the sandbox: the
 * watchdog interval is systemd's, or (a takeover's successor, which
 * systemd gives none) the predecessor's.
 */
static int open_notify(void)
{
	struct clockd_poller p;

	if (rdy_open(ntf_watchdog_ns() ? ntf_watchdog_ns() : tko_watchdog_ns()) < 0)
		return -1;
	p = rdy_poller();
	clockd_add_poller(&cd, &p);
	return 0;
}

/*
 * The last step: horod serves. The pidfile gets its PID and systemd its
 * READY=1; a predecessor is let go (it drains and exits); a detaching
 * parent is told.
 */
static int become_ready(void)
{
	if (rdy_announce() < 0)
		return -1;
	tko_release();
	tko_drop_rest();
	rdy_tell_parent();
	return 0;
}

/* The clock thread's loop: sources, snapshot, control, signals; returns the exit status. */
static int run(void)
{
	int i;

	while (!wk_stopping()) {
		struct signalfd_siginfo si;

		if (!clockd_wait(&cd, sigfd))
			continue;
		if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_msg(LOG_NOTICE, "signal %u: stopping", si.ssi_signo);
			break;
		}
		if (si.ssi_signo == SIGUSR1) {
			log_counters("");
			clockd_log_status(&cd);
		} else if (si.ssi_signo == SIGHUP) {
			srv_reload(&cfg, opt.conf, &shared, workers, n_workers);
			clockd_reload_leap(&cd, &cfg.leap);
			/* The keys and the NTS-KE certificate the (live) configuration names. */
			if (auth.keys_retired &&
			    wk_quiesce(workers, n_workers, AUTH_QUIESCE_MS) == 0)
				auth_reclaim(&auth); /* a table a stuck worker held last time */
			if (auth_reload(&auth, &cfg) > 0) {
				if (wk_quiesce(workers, n_workers, AUTH_QUIESCE_MS) == 0)
					auth_reclaim(&auth);
				else
					log_msg(LOG_WARNING,
						"SIGHUP: a worker did not move on within %d ms: "
						"the "
						"old keys stay allocated",
						AUTH_QUIESCE_MS);
			}
		}
	}
	ntf_send("STOPPING=1\nSTATUS=%s",
		 tko_handed_over() ? "handed over to a successor" : "stopping");
	/* A failed worker sets its exit code before done, and stops the loop after. */
	for (i = 0; i < n_workers; i++)
		if (atomic_load_explicit(&workers[i].done, memory_order_acquire) &&
		    workers[i].exit_code < 0)
			return 1;
	return 0;
}

/* The start-up steps in order, each undone (when it has an undo) in reverse. */
static const struct step {
	int (*start)(void); /* 0, or -1 after a log line (undoing what it did itself) */
	void (*stop)(void);
} steps[] = {
	{start_clock, stop_clock},    /* the clock thread: driver, core, sources, a snapshot */
	{choose_io, NULL},	      /* io_uring or recvmmsg/sendmmsg */
	{make_workers, free_workers}, /* their memory, counters, mode 6 queue, hw stamps */
	{open_auth, close_auth},      /* keyfile, NTS keys, NTS-KE certificate and sockets */
	{fetch_predecessor, drop_handover}, /* --takeover: its descriptors, once synchronized */
	{open_sockets, close_sockets},	    /* bound (or taken over) before detaching */
	{open_control, close_control},	    /* horoctl's socket, /metrics, mode 6, takeovers */
	{detach, remove_pidfile},	    /* unless -n; the pidfile created, still empty */
	{start_guard, stop_guard},	    /* the XDP guard, or the workers' own rate limit */
	{take_signals, close_signals},	    /* blocked everywhere, read by the clock loop */
	{open_notify, rdy_close},	    /* systemd's socket and timer, before the sandbox */
	{enter_sandbox, NULL},		    /* `user`, seccomp: root's work is done */
	{start_auth, stop_auth},	    /* the NTS-KE thread, when there is an NTS server */
	{start_workers, stop_workers},	    /* then the ready line */
	{become_ready, NULL},		    /* pidfile, READY=1, a predecessor let go */
};

#define N_STEPS ((int)(sizeof(steps) / sizeof(steps[0])))

int main(int argc, char **argv)
{
	int rc, done;

	rc = parse_args(argc, argv, &opt);
	if (rc < 0)
		rc = load_config(&opt);
	if (rc >= 0)
		return rc;
	log_init(cfg.log_syslog, cfg.log_debug || opt.debug, "horod");
	clk_set_log(log_msg); /* the clock drivers' lines (clock/ does not know the daemon) */
	for (done = 0; done < N_STEPS; done++)
		if (steps[done].start() < 0)
			break;
	rc = done == N_STEPS ? run() : 1;
	while (done-- > 0)
		if (steps[done].stop)
			steps[done].stop();
	cfg_free(&cfg);
	log_fini();
	return rc;
}
