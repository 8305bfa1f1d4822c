/*
 * horod's main: parse the command line and the configuration, set up in
 * order (logging, clock, sockets, workers), run the clock thread's loop
 * in the main thread, and tear down in reverse on SIGTERM/SIGINT.
 * Signals are blocked in every thread and read from a signalfd by the
 * clock thread's loop, so no code runs in signal context.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <sys/signalfd.h>

#include "clock/driver.h"
#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/auth/auth.h"
#include "daemon/serve/clientlog.h"
#include "daemon/clockd/clockd.h"
#include "daemon/config/config.h"
#include "daemon/control/control.h"
#include "daemon/serve/counters.h"
#include "daemon/sys/log.h"
#include "daemon/sys/sandbox.h"
#include "daemon/serve/serve.h"
#include "daemon/serve/worker.h"
#include "daemon/serve/xguard.h"
#include "proto/ntp.h"

static const char usage[] =
	"Usage: horod [OPTIONS]\n"
	"A kernel-assisted NTP server.\n"
	"\n"
	"  -f, --config FILE   read the configuration from FILE (default: the embedded\n"
	"                      configuration: listen 127.0.0.1 and ::1, local stratum 10)\n"
	"  -n, --foreground    do not detach; keep logging where the configuration says\n"
	"  -d, --debug         log debug messages too\n"
	"  -P, --port PORT     port for `listen` lines without their own (default 123)\n"
	"      --check-config  parse the configuration, report errors, exit 0 or 2\n"
	"      --version       print the version and exit\n"
	"  -h, --help          print this help and exit\n"
	"\n"
	"Signals: SIGTERM/SIGINT stop, SIGUSR1 logs the counters.\n"
	"Exit status: 0 stopped cleanly, 1 run-time failure, 2 configuration error.\n";

static struct horod_config cfg;
static struct clk_pub pub;
static struct worker *workers;
static struct ctr_block *counters;
static int n_workers;
static struct hwts_table hwts;
static struct control ctl;
static struct auth_shared auth;	    /* keyfile, NTS keys, NTS-KE server */
static struct auth_worker *auth_wk; /* one per worker */

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

/* Format a listen entry as ADDR:PORT / [ADDR]:PORT. */
static void format_listen(const struct cfg_listen *l, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	int port = cfg_listen_port(&cfg, l);

	if (l->addr.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&l->addr)->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%d", a, port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&l->addr)->sin6_addr, a,
			  sizeof(a));
		snprintf(buf, len, "[%s]:%d", a, port);
	}
}

static int open_sockets(void)
{
	char err[256], where[80];
	int i, j;

	for (i = 0; i < n_workers; i++) {
		for (j = 0; j < cfg.n_listen; j++) {
			struct sockaddr_storage ss = cfg.listen[j].addr;
			int port = cfg_listen_port(&cfg, &cfg.listen[j]);

			if (ss.ss_family == AF_INET)
				((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
			else
				((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
			if (rx_socket_open((struct sockaddr *)&ss, cfg.listen[j].addrlen,
					   hwts.n > 0, &workers[i].socks[j], err,
					   sizeof(err)) < 0) {
				format_listen(&cfg.listen[j], where, sizeof(where));
				log_msg(LOG_ERR, "cannot listen on %s: %s", where, err);
				return -1;
			}
			workers[i].n_socks = j + 1;
		}
	}
	return 0;
}

static void close_sockets(void)
{
	int i, j;

	for (i = 0; i < n_workers; i++)
		for (j = 0; j < workers[i].n_socks; j++)
			close(workers[i].socks[j].fd);
}

static int write_pidfile(void)
{
	char buf[32];
	int fd, n;

	if (!cfg.pidfile[0])
		return 0;
	fd = open(cfg.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_msg(LOG_ERR, "pidfile %s: %s", cfg.pidfile, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		log_msg(LOG_ERR, "pidfile %s: write failed", cfg.pidfile);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Detach from the terminal: fork, new session; the parent exits 0. */
static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (cfg.log_syslog)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'f'}, {"foreground", no_argument, NULL, 'n'},
		{"debug", no_argument, NULL, 'd'},	  {"port", required_argument, NULL, 'P'},
		{"check-config", no_argument, NULL, 'C'}, {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	const char *conf = NULL;
	int foreground = 0, debug = 0, check_only = 0, port = 0;
	char err[512], why[128] = "";
	struct srv_shared shared;
	static struct clockd cd;
	static struct m6_queue m6q;
	int sigfd = -1;
	enum wk_io io;
	sigset_t sigs;
	int c, i, precision, guard, rc = 0;
	long ncpu;

	while ((c = getopt_long(argc, argv, "f:ndP:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			conf = optarg;
			break;
		case 'n':
			foreground = 1;
			break;
		case 'd':
			debug = 1;
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
			port = (int)v;
			break;
		}
		case 'C':
			check_only = 1;
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

	/* 1. Configuration: all errors before anything starts. */
	cfg_defaults(&cfg);
	if (conf ? cfg_parse_file(&cfg, conf, err, sizeof(err)) < 0
		 : cfg_parse_string(&cfg, "(embedded)", cfg_embedded_default, err, sizeof(err)) <
			    0) {
		fprintf(stderr, "%s\n", err);
		cfg_free(&cfg);
		return 2;
	}
	if (port)
		cfg.default_port = port;
	/* Without a `control` line: root's socket, or one in the user's own directory. */
	{
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		struct stat xst;

		cfg_control_resolve(&cfg, geteuid(), xdg,
				    xdg && stat(xdg, &xst) == 0 ? &xst : NULL);
	}
	if (cfg.n_listen == 0) {
		fprintf(stderr, "%s: no listen directive, allowed: listen ADDR [port N]\n",
			conf ? conf : "(embedded)");
		cfg_free(&cfg);
		return 2;
	}
	/* NTS and keyfile directives together; then, to start, the files they name (auth.h). */
	if (cfg_nts_check(&cfg, err, sizeof(err)) < 0 ||
	    (!check_only && auth_verify_config(&cfg, err, sizeof(err)) < 0)) {
		fprintf(stderr, "%s: %s\n", conf ? conf : "(embedded)", err);
		cfg_free(&cfg);
		return 2;
	}
	if (check_only) {
		printf("%s: configuration OK\n", conf ? conf : "(embedded)");
		cfg_free(&cfg);
		return 0;
	}

	/* 2. Logging. */
	log_init(cfg.log_syslog, cfg.log_debug || debug, "horod");
	clk_set_log(log_msg); /* the clock drivers' lines (clock/ does not know the daemon) */

	/* 3. Clock: precision, then a first snapshot before any worker reads it. */
	precision = clk_measure_precision(CLOCK_REALTIME);
	clk_pub_init(&pub);
	if (clockd_init(&cd, &cfg, &pub, precision) < 0) {
		clockd_fini(&cd);
		cfg_free(&cfg);
		return 1;
	}

	/* 4. I/O backend. */
	io = cfg.io == CFG_IO_MMSG ? WK_IO_MMSG : WK_IO_URING;
	if (io == WK_IO_URING && wk_uring_probe(why, sizeof(why)) < 0) {
		if (cfg.io == CFG_IO_URING) {
			log_msg(LOG_ERR, "io uring configured but unavailable: %s", why);
			cfg_free(&cfg);
			return 1;
		}
		log_msg(LOG_WARNING, "io_uring unavailable (%s): using recvmmsg/sendmmsg", why);
		io = WK_IO_MMSG;
	}

	/* 5. Workers and their sockets (bound before detaching, so errors are seen). */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	n_workers = cfg.workers ? cfg.workers : (int)ncpu;
	workers = calloc((size_t)n_workers, sizeof(*workers));
	counters = aligned_alloc(64, sizeof(*counters) * (size_t)n_workers);
	auth_wk = calloc((size_t)n_workers, sizeof(*auth_wk));
	if (!workers || !counters || !auth_wk) {
		log_msg(LOG_ERR, "out of memory for %d workers", n_workers);
		return 1;
	}
	memset(counters, 0, sizeof(*counters) * (size_t)n_workers);
	shared.acl = &cfg.acl;
	shared.control_acl = &cfg.control_acl;
	shared.pub = &pub;
	shared.clock = CLOCK_REALTIME;
	/* Mode 6 (ntpq, ntpstat): workers hand requests to the clock thread. */
	shared.m6 = m6q_init(&m6q) == 0 ? &m6q : NULL;
	if (!shared.m6)
		log_msg(LOG_WARNING, "mode 6 disabled: cannot create its queue");
	cd.m6 = shared.m6;
	hwts_init(&hwts, &cfg);
	shared.hw = &hwts;
	/* Keyfile, NTS server keys, NTS-KE certificate and sockets: before privileges go. */
	if (auth_open(&auth, &cfg, n_workers, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		rc = 1;
		goto out;
	}
	shared.auth = &auth;
	for (i = 0; i < n_workers; i++) {
		workers[i].id = i;
		workers[i].cpu = cfg.workers ? -1 : (int)(i % ncpu);
		workers[i].io = io;
		workers[i].ctr = &counters[i];
		/* `horoctl clients`: without memory for it, the worker serves without a log. */
		counters[i].clog = clog_create();
		workers[i].shared = &shared;
		if (auth_worker_init(&auth, &auth_wk[i]) < 0) {
			log_msg(LOG_ERR, "worker %d: no NTS key slot or no randomness", i);
			rc = 1;
			goto out;
		}
		counters[i].auth_wk = &auth_wk[i];
	}
	if (open_sockets() < 0) {
		close_sockets();
		rc = 1;
		goto out;
	}
	/* The control socket and metrics endpoint, served by the clock thread's loop. */
	if (control_open(&ctl, &cfg) < 0) {
		rc = 1;
		goto out_sockets;
	}
	control_attach(&ctl, &cd, counters, n_workers);
	ctl.auth = &auth;
	cd.ctl = &ctl;
	if (!foreground && daemonize() < 0) {
		log_msg(LOG_ERR, "cannot detach: %s", strerror(errno));
		rc = 1;
		goto out_sockets;
	}
	if (write_pidfile() < 0) {
		rc = 1;
		goto out_sockets;
	}
	/* The XDP guard, or the workers' own rate limit when it cannot run (xguard.h). */
	guard = xg_start(&cfg, &shared);
	if (guard < 0) {
		rc = 1;
		goto out_sockets;
	}

	/* 6. Signals are taken synchronously by this thread only. */
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
		rc = 1;
		goto out_sockets;
	}

	/*
	 * 7. The sandbox (sandbox.h): everything that needs root is done, so
	 * switch to `user` and install the seccomp filter before the workers
	 * start (they inherit both; TSYNC covers threads already running).
	 */
	if (sb_enter(&cfg, guard > 0) < 0) {
		rc = 1;
		goto out_sockets;
	}

	for (i = 0; i < n_workers; i++) {
		int ret = wk_start(&workers[i]);

		if (ret < 0) {
			log_msg(LOG_ERR, "cannot start worker %d: %s", i, strerror(-ret));
			rc = 1;
			goto out_workers;
		}
	}
	{
		int ret = auth_start(&auth);

		if (ret < 0) {
			log_msg(LOG_ERR, "cannot start the NTS-KE thread: %s", strerror(-ret));
			rc = 1;
			goto out_workers;
		}
	}
	{
		char where[512] = "", one[80], desc[160];

		for (i = 0; i < cfg.n_listen; i++) {
			format_listen(&cfg.listen[i], one, sizeof(one));
			strncat(where, i ? " " : "", sizeof(where) - strlen(where) - 1);
			strncat(where, one, sizeof(where) - strlen(where) - 1);
		}
		log_msg(LOG_NOTICE,
			"horod %s ready: %d worker%s, io %s, listening on %s, %s, precision 2^%d s",
			HOROD_VERSION, n_workers, n_workers == 1 ? "" : "s",
			io == WK_IO_URING ? "uring" : "mmsg", where,
			clockd_describe(&cd, desc, sizeof(desc)), precision);
		if (cfg.local.enabled && !cd.use_core)
			log_msg(LOG_INFO, "local stratum %d, dispersion %.6f s growing at 15 ppm/s",
				cfg.local.stratum, cfg.local.dispersion);
	}

	/* 8. The clock thread's loop: sources, snapshot, signals. */
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
			log_msg(LOG_NOTICE,
				"SIGHUP: reload is not supported; restart to apply changes");
		}
	}
	for (i = 0; i < n_workers; i++)
		if (workers[i].exit_code < 0)
			rc = 1;

out_workers:
	wk_stop();
	for (i = 0; i < n_workers; i++)
		wk_join(&workers[i]);
	auth_close(&auth);
	log_counters("final ");
	if (cfg.pidfile[0])
		unlink(cfg.pidfile);
out_sockets:
	cd.ctl = NULL;
	control_close(&ctl);
	close_sockets();
	xg_stop();
	if (sigfd >= 0)
		close(sigfd);
	clockd_fini(&cd);
	hwts_fini(&hwts);
	if (shared.m6)
		m6q_fini(shared.m6);
out:
	auth_close(&auth);
	free(auth_wk);
	free(workers);
	for (i = 0; counters && i < n_workers; i++)
		clog_destroy(counters[i].clog);
	free(counters);
	cfg_free(&cfg);
	log_fini();
	return rc;
}
