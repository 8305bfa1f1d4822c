/*
 * What horod's configuration holds: the values every directive fills in,
 * grouped as the directives are (one sub-struct per directive file of
 * daemon/config/: clock, rate limit, guard, control, security, NTS), with
 * their limits. Types only: the parser (config.h) and each directive
 * file include it, and it includes none of them, so the directives never
 * point back at the parser.
 */
#ifndef HOROD_DAEMON_SETTINGS_H
#define HOROD_DAEMON_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "daemon/policy/acl.h"
#include "proto/leaptab.h"

#define CFG_MAX_LISTEN	  16  /* listen directives */
#define CFG_MAX_WORKERS	  256 /* worker threads */
#define CFG_PATH_MAX	  256 /* bytes in a path, including NUL */
#define CFG_DEFAULT_PORT  123 /* NTP's port */
#define CFG_MAX_HWTS	  16  /* hwtimestamp directives */
#define CFG_MAX_SERVERS	  32  /* server and pool directives */
#define CFG_HOST_MAX	  256 /* bytes in a host name, including NUL */
#define CFG_IFNAME_MAX	  16  /* bytes in an interface name, including NUL (IFNAMSIZ) */
#define CFG_MAX_GUARD_IF  16  /* `guard interface` directives (GUARD_MAX_IFACES) */
#define CFG_USER_MAX	  64  /* bytes in a user name, including NUL (useradd allows 32) */
#define CFG_MAX_REFCLOCKS 8   /* refclock directives: a server has one or two references */
#define CFG_REFID_MAX	  5   /* bytes in a refclock's refid, including NUL (4 ASCII characters) */
#define CFG_RC_NAME_MAX	  16  /* bytes in a refclock's name ("SOCK7"): a driver and an int */
/* bytes: clientloglimit, as chrony's (16384 clients' interleaved state at 32 bytes each) */
#define CFG_DEFAULT_CLIENTLOGLIMIT 524288
#define CFG_MAX_CLIENTLOGLIMIT	   2147483648L /* bytes: chrony's largest effective value */

enum cfg_io { CFG_IO_AUTO, CFG_IO_URING, CFG_IO_MMSG };
enum cfg_driver { CFG_DRIVER_KERNEL, CFG_DRIVER_SIM };

/* One `server` or `pool` line. */
struct cfg_server {
	char host[CFG_HOST_MAX]; /* name or address literal */
	int port;		 /* 1..65535 (123) */
	int pool;		 /* 1: a pool name; up to maxsources of its addresses are used */
	int maxsources;		 /* pool: 1..16 (4) */
	int iburst, prefer;
	int xleave;	      /* 1: RFC 9769 interleaved requests, kernel transmit stamps */
	int minpoll, maxpoll; /* log2 s: 0..17, minpoll <= maxpoll (6, 10) */
	uint32_t key;	      /* `key ID`: symmetric key of the keyfile, 0 = none */
	int nts;	      /* `nts`: NTS (RFC 8915), a server line only */
	int ntsport;	      /* `ntsport N`: its NTS-KE TCP port (4460) */
};

/* Reference clock drivers (`refclock DRIVER PARAM`, chrony's names). */
enum cfg_rc_driver { CFG_RC_PHC, CFG_RC_PPS, CFG_RC_SHM, CFG_RC_SOCK };

/* One `refclock` line (cfg_refclock.c). */
struct cfg_refclock {
	enum cfg_rc_driver driver;
	char path[CFG_PATH_MAX];     /* PHC, PPS: the device; SOCK: the socket; SHM: "" */
	int unit;		     /* SHM: 0..255; PHC, PPS: the device's number, -1 none */
	int perm;		     /* SHM: mode of a segment horod creates, 0..0777 (0600) */
	int clear;		     /* PPS: use the clear edge, not the assert edge */
	char lock[CFG_REFID_MAX];    /* the refid of the refclock that numbers the pulses */
	char refid[CFG_REFID_MAX];   /* ours while following it (default: chrony's) */
	char name[CFG_RC_NAME_MAX];  /* as horoctl shows it: "SHM0", "PHC0", "PPS1", "SOCK0" */
	int poll;		     /* log2 s: samples are filtered over each poll, 0..17 (4) */
	int dpoll;		     /* log2 s between device reads, -6..poll (0) */
	double offset;		     /* s added to every sample's reference time (0) */
	double delay;		     /* s: the source's root delay (1e-9) */
	double precision;	     /* s: a sample's least error; 0 = the system clock's */
	int prefer, noselect, trust; /* selection options (clock/core.h) */
	int tai;		     /* the reference keeps TAI: TAI - UTC from the leap table is
					taken off its samples (needs leapfile or leapsectz) */
	int line;		     /* where it was given, for the checks after the file */
};

/* The clock core's settings (issue: clock core). */
struct cfg_clock {
	struct cfg_server servers[CFG_MAX_SERVERS];
	int n_servers;
	struct cfg_refclock refclocks[CFG_MAX_REFCLOCKS];
	int n_refclocks;
	enum cfg_driver driver;
	char device[CFG_PATH_MAX]; /* `driver kernel device /dev/ptpN`; empty = CLOCK_REALTIME */
	double sim_offset;	   /* s */
	double sim_freq;	   /* ppm */
	double sim_wander;	   /* ppm/sqrt(s) */
	unsigned long long sim_seed;
	long long sim_date; /* Unix s: the sim clock's date at start (`date`); 0 = the system's */
	int discipline;	    /* -1 = default (on), 0 off, 1 on */
	double makestep_threshold;    /* s (1.0) */
	int makestep_limit;	      /* updates (3); -1 = always */
	double maxdistance;	      /* s (1.5) */
	double holdover;	      /* s; -1 = until the root distance would pass maxdistance */
	int minsources;		      /* 1..CFG_MAX_SERVERS (1) */
	char driftfile[CFG_PATH_MAX]; /* empty = none */
};

/* Where the leap-second table comes from (issue 16). */
enum cfg_leap_src { CFG_LEAP_NONE = 0, CFG_LEAP_FILE, CFG_LEAP_TZ };

/* The leap-second settings: `leapfile PATH` or `leapsectz NAME`, read when parsed. */
struct cfg_leap {
	enum cfg_leap_src src;
	char path[CFG_PATH_MAX]; /* the file read: `leapfile`'s, or the zone's under the zone dir */
	char tz[64];		 /* `leapsectz`'s zone name ("right/UTC"); empty otherwise */
	struct ntp_leaptab tab;	 /* the table read from it (src != CFG_LEAP_NONE) */
	int mode;		 /* `leapsecmode`: enum clk_leapmode (0 system) */
	long smear_s;		 /* `leapsmear interval S`: s (86400) */
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

/* `local stratum N [dispersion S]`: the local clock as a reference. */
struct cfg_local {
	int enabled;	   /* `local` given */
	int stratum;	   /* 1..15 */
	double dispersion; /* seconds, 0..16 */
};

/* `ratelimit ...` and `denykod` (cfg_guard.c): the rate limit and the kiss-o'-death answers. */
struct cfg_ratelimit {
	int enabled;  /* `ratelimit` given */
	int interval; /* log2 s between requests on average, -19..12 */
	int burst;    /* requests at once, 1..255 */
	int leak;     /* log2: 1 in 2^leak over-rate answered, 0..16 (0 = none) */
	int kod;      /* `kod`: over-rate sources get a RATE kiss-o'-death */
	int deny_kod; /* `denykod on`: denied sources get a DENY kiss-o'-death (rate-limited too) */
};

/* `guard ...` (cfg_guard.c): the XDP guard. */
struct cfg_guard {
	struct cfg_guard_if ifs[CFG_MAX_GUARD_IF]; /* `guard interface` */
	int n_ifs;
	char pin[CFG_PATH_MAX]; /* `guard pin DIR`: where the maps are pinned */
	int pin_keep;		/* `guard pin DIR keep`: state maps stay pinned at exit */
	int serve;		/* `guard serve on|off`: the guard answers plain requests */
	int stamp;		/* `guard stamp on|off`: basic replies' transmit time at egress */
};

/* `control PATH` and `metrics listen` (cfg_control.c): the control socket and metrics. */
struct cfg_control {
	char path[CFG_PATH_MAX]; /* `control PATH`; empty = `control off` */
	int path_default;	 /* 1: no `control` line, path is the default */
	int path_private;	 /* 1: its directory is the user's own (0700, checked) */
	int metrics_enabled;	 /* `metrics listen` given */
	struct sockaddr_storage metrics_addr; /* address and port of the HTTP /metrics endpoint */
	socklen_t metrics_addrlen;
	int metrics_public; /* `public`: a non-loopback address was asked for */
};

/* `user` and `seccomp` (cfg_security.c, daemon/sys/sandbox.h): privilege drop and filter. */
struct cfg_security {
	char user[CFG_USER_MAX]; /* `user NAME`; empty = keep running as root */
	uid_t uid;		 /* NAME's uid and primary gid, looked up when parsed */
	gid_t gid;
	int seccomp; /* 0 off, 1 kill on a call outside the list, 2 fail it (EPERM) */
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
	int threads; /* `ntsthreads`: NTS-KE handshake threads, 0 = one per CPU (0) */
	char keyfile[CFG_PATH_MAX]; /* `keyfile`: symmetric keys (chrony's format) */
	/* the NTS client (`server HOST nts`) */
	char trusted_certs[CFG_PATH_MAX]; /* `ntstrustedcerts`: PEM CAs trusted, "" = none */
	int no_system_cert;		  /* `nosystemcert`: not the system's trust store */
	long no_cert_time_check;	  /* `nocerttimecheck N`: clock updates without certificate
					     time checks (0) */
};

struct horod_config {
	struct cfg_listen listen[CFG_MAX_LISTEN];
	int n_listen;
	struct cfg_local local; /* `local` */
	struct acl acl;		/* allow / deny */
	struct acl control_acl; /* `control allow`: mode 6 sources besides loopback */
	int workers;		/* 1..CFG_MAX_WORKERS, 0 = auto (one per online CPU) */
	long clientloglimit;	/* bytes of interleaved-mode client state, all workers; 0 = none */
	enum cfg_io io;
	char pidfile[CFG_PATH_MAX]; /* empty = none */
	int log_syslog;		    /* 0 stderr, 1 syslog */
	int log_debug;
	int default_port;     /* port for listen lines without `port`: 123, or -P */
	struct cfg_clock clk; /* upstream sources, driver, discipline, driftfile */
	struct cfg_leap leap; /* leap-second table */
	char hwts[CFG_MAX_HWTS]
		 [CFG_IFNAME_MAX]; /* `hwtimestamp IFACE`: interfaces to stamp in hardware */
	int n_hwts;
	struct cfg_ratelimit rl;    /* rate limit and kiss-o'-death */
	struct cfg_guard guard;	    /* XDP guard */
	struct cfg_control control; /* control socket and metrics endpoint */
	struct cfg_security sec;    /* privilege drop and system call filter */
	struct cfg_nts nts;	    /* NTS server and symmetric keys */
};

#endif
