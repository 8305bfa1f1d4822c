/*
 * horod's configuration: chrony-style directives, one per line, `#`, `!`
 * or `;` starting a comment. Every value is range-checked; the first error
 * is reported as `file:line: what was wrong, allowed range` and nothing
 * starts. With no file, the embedded default configuration is parsed by
 * the same code.
 */
#ifndef HOROD_DAEMON_CONFIG_H
#define HOROD_DAEMON_CONFIG_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "daemon/policy/acl.h"

#define CFG_MAX_LISTEN	 16  /* listen directives */
#define CFG_MAX_WORKERS	 256 /* worker threads */
#define CFG_PATH_MAX	 256 /* bytes in a path, including NUL */
#define CFG_DEFAULT_PORT 123 /* NTP's port */
#define CFG_MAX_HWTS	 16  /* hwtimestamp directives */
#define CFG_MAX_SERVERS	 32  /* server and pool directives */
#define CFG_HOST_MAX	 256 /* bytes in a host name, including NUL */
#define CFG_IFNAME_MAX	 16  /* bytes in an interface name, including NUL (IFNAMSIZ) */
#define CFG_MAX_GUARD_IF 16  /* `guard interface` directives (GUARD_MAX_IFACES) */
#define CFG_USER_MAX	 64  /* bytes in a user name, including NUL (useradd allows 32) */

enum cfg_io { CFG_IO_AUTO, CFG_IO_URING, CFG_IO_MMSG };
enum cfg_driver { CFG_DRIVER_KERNEL, CFG_DRIVER_SIM };

/* One `server` or `pool` line. */
struct cfg_server {
	char host[CFG_HOST_MAX]; /* name or address literal */
	int port;		 /* 1..65535 (123) */
	int pool;		 /* 1: a pool name; up to maxsources of its addresses are used */
	int maxsources;		 /* pool: 1..16 (4) */
	int iburst, prefer;
	int minpoll, maxpoll; /* log2 s: 0..17, minpoll <= maxpoll (6, 10) */
};

/* The clock core's settings (issue: clock core). */
struct cfg_clock {
	struct cfg_server servers[CFG_MAX_SERVERS];
	int n_servers;
	enum cfg_driver driver;
	char device[CFG_PATH_MAX]; /* `driver kernel device /dev/ptpN`; empty = CLOCK_REALTIME */
	double sim_offset;	   /* s */
	double sim_freq;	   /* ppm */
	double sim_wander;	   /* ppm/sqrt(s) */
	unsigned long long sim_seed;
	int discipline;		      /* -1 = default (on), 0 off, 1 on */
	double makestep_threshold;    /* s (1.0) */
	int makestep_limit;	      /* updates (3); -1 = always */
	double maxdistance;	      /* s (1.5) */
	double holdover;	      /* s; -1 = until the root distance would pass maxdistance */
	int minsources;		      /* 1..CFG_MAX_SERVERS (1) */
	char driftfile[CFG_PATH_MAX]; /* empty = none */
};

struct cfg_listen {
	struct sockaddr_storage addr; /* family and address; port applied by cfg_listen_port */
	socklen_t addrlen;
	int port; /* 1..65535, or 0 = the default port */
};

/* `guard interface IFACE mode M` (the numbers are the guard's GUARD_MODE_*). */
enum cfg_xdp_mode { CFG_XDP_AUTO, CFG_XDP_NATIVE, CFG_XDP_SKB };

struct cfg_guard_if {
	char name[CFG_IFNAME_MAX];
	enum cfg_xdp_mode mode;
};

/* NTS server and symmetric keys (cfg_nts.c); empty paths = not configured. */
struct cfg_nts {
	char cert[CFG_PATH_MAX];    /* `ntsservercert`: PEM certificate chain */
	char key[CFG_PATH_MAX];	    /* `ntsserverkey`: its PEM private key */
	int port;		    /* `ntsport`: NTS-KE TCP port (4460) */
	char dumpdir[CFG_PATH_MAX]; /* `ntsdumpdir`: where the server keys are kept */
	long rotate;		    /* `ntsrotate`: s between key rotations, 0 = never (604800) */
	char ntp_server[CFG_HOST_MAX]; /* `ntsntpserver`: NTP server named to clients, "" = us */
	int max_conn;		       /* `maxntsconnections`: NTS-KE sessions at once (100) */
	char keyfile[CFG_PATH_MAX];    /* `keyfile`: symmetric keys (chrony's format) */
};

struct horod_config {
	struct cfg_listen listen[CFG_MAX_LISTEN];
	int n_listen;
	int local_enabled;	 /* `local` given */
	int local_stratum;	 /* 1..15 */
	double local_dispersion; /* seconds, 0..16 */
	struct acl acl;		 /* allow / deny */
	struct acl control_acl;	 /* `control allow`: mode 6 sources besides loopback */
	int workers;		 /* 1..CFG_MAX_WORKERS, 0 = auto (one per online CPU) */
	enum cfg_io io;
	char pidfile[CFG_PATH_MAX]; /* empty = none */
	int log_syslog;		    /* 0 stderr, 1 syslog */
	int log_debug;
	int default_port;     /* port for listen lines without `port`: 123, or -P */
	struct cfg_clock clk; /* upstream sources, driver, discipline, driftfile */
	char hwts[CFG_MAX_HWTS]
		 [CFG_IFNAME_MAX]; /* `hwtimestamp IFACE`: interfaces to stamp in hardware */
	int n_hwts;
	/* Rate limit, kiss-o'-death and XDP guard. */
	int rl_enabled;	 /* `ratelimit` given */
	int rl_interval; /* log2 s between requests on average, -19..12 */
	int rl_burst;	 /* requests at once, 1..255 */
	int rl_leak;	 /* log2: 1 in 2^leak over-rate answered, 0..16 (0 = none) */
	int rl_kod;	 /* `kod`: over-rate sources get a RATE kiss-o'-death */
	int deny_kod;	 /* `denykod on`: denied sources get a DENY kiss-o'-death */
	struct cfg_guard_if guard_if[CFG_MAX_GUARD_IF]; /* `guard interface` */
	int n_guard_if;
	char guard_pin[CFG_PATH_MAX]; /* `guard pin DIR`: where the maps are pinned */
	int guard_serve;	      /* `guard serve on|off`: the guard answers plain requests */
	/* Control socket and metrics endpoint (cfg_control.c). */
	char control_path[CFG_PATH_MAX]; /* `control PATH`; empty = `control off` */
	int control_default;		 /* 1: no `control` line, control_path is the default */
	int control_private;		 /* 1: its directory is the user's own (0700, checked) */
	int metrics_enabled;		 /* `metrics listen` given */
	struct sockaddr_storage metrics_addr; /* address and port of the HTTP /metrics endpoint */
	socklen_t metrics_addrlen;
	int metrics_public; /* `public`: a non-loopback address was asked for */
	/* Privilege drop and system call filter (cfg_security.c, daemon/sys/sandbox.h). */
	char user[CFG_USER_MAX]; /* `user NAME`; empty = keep running as root */
	uid_t user_uid;		 /* NAME's uid and primary gid, looked up when parsed */
	gid_t user_gid;
	int seccomp;	    /* 0 off, 1 kill on a call outside the list, 2 fail it (EPERM) */
	struct cfg_nts nts; /* NTS server and symmetric keys (cfg_nts.c) */
};

/* The embedded default configuration (used when horod has no -f). */
extern const char cfg_embedded_default[];

/* Set every field to its default (no listen lines, allow all, workers auto, io auto). */
void cfg_defaults(struct horod_config *c);

/* Release what the parser allocated. */
void cfg_free(struct horod_config *c);

/* Parse TEXT as if it were the file NAME; 0, or -1 with `NAME:LINE: ...` in ERR. */
int cfg_parse_string(struct horod_config *c, const char *name, const char *text, char *err,
		     size_t errlen);

/* Read and parse the file PATH; 0, or -1 with `PATH:LINE: ...` (or why it can't be read) in ERR. */
int cfg_parse_file(struct horod_config *c, const char *path, char *err, size_t errlen);

/* The port a listen entry binds: its own, else the configuration's default port. */
int cfg_listen_port(const struct horod_config *c, const struct cfg_listen *l);

/*
 * Checks across NTS directives, after the whole file is read (a
 * certificate without its key, ntsrotate 0 without ntsdumpdir, ...): 0, or
 * -1 with the reason in ERR.
 */
int cfg_nts_check(const struct horod_config *c, char *err, size_t errlen);

/*
 * When no `control` line named a socket, set C's to the default of
 * effective user EUID (proto/ctlproto.h ctl_sock_default, with XDG the
 * value of XDG_RUNTIME_DIR or NULL and XDG_ST its stat or NULL); for any
 * user but root that socket's directory is private (control_private).
 */
void cfg_control_resolve(struct horod_config *c, uid_t euid, const char *xdg,
			 const struct stat *xdg_st);

/* Write the effective configuration, defaults included, as directives into BUF. */
size_t cfg_format(const struct horod_config *c, char *buf, size_t len);

#endif
