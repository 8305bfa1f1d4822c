/*
 * The control plane inside the clock thread: the Unix control socket
 * (proto/ctlproto.h requests from horoctl) and the optional HTTP
 * endpoint that serves GET /metrics. Both listeners and every client
 * connection are non-blocking descriptors in the clock thread's poll set
 * (registered with clockd_add_poller: control_pollfds and
 * control_handle), so answers read the clock thread's report and the
 * counters without locks and no worker ever waits. Connections are bounded in number, request size
 * and lifetime; a connection that sends garbage gets an error answer and is closed.
 */
#ifndef HOROD_DAEMON_CONTROL_H
#define HOROD_DAEMON_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/clockd/clockd.h"
#include "daemon/config/config.h"
#include "daemon/control/answers.h"
#include "daemon/serve/counters.h"

#define CONTROL_MAX_CONN     16 /* client connections at once, both kinds together */
#define CONTROL_MAX_FDS	     (CONTROL_MAX_CONN + 2) /* connections plus the two listeners */
#define CONTROL_HTTP_MAX_REQ 4096 /* bytes of an HTTP request head: GET /metrics needs ~100 */
#define CONTROL_IDLE_NS	     5000000000LL /* ns a connection may live: a stalled peer frees its slot */
#define CONTROL_SOCK_MODE    0660	  /* owner and group (the operators' group) may connect */
#define CONTROL_DIR_MODE     0755	  /* directories made for a configured or root's socket */
#define CONTROL_DIR_PRIVATE  0700	  /* a user's own socket directory: nobody else gets in */

struct control_conn {
	int fd;	  /* -1 = free slot */
	int http; /* 1: an HTTP /metrics client, 0: a control socket client */
	uint8_t rx[CONTROL_HTTP_MAX_REQ]; /* request bytes so far (a control request fits too) */
	size_t rx_len;
	char *tx; /* the answer being written, NULL while reading */
	size_t tx_len, tx_off;
	int64_t deadline; /* CLOCK_MONOTONIC ns after which the connection is closed */
};

struct control {
	int lfd;		 /* control socket listener, -1 = none */
	int hfd;		 /* metrics listener, -1 = none */
	char path[CFG_PATH_MAX]; /* the socket file to unlink at exit; empty = none */
	size_t made;		 /* bytes of path's first directory horod created; 0 = none */
	struct control_conn conn[CONTROL_MAX_CONN];
	struct ctl_view view;	   /* what the answers read */
	char *scratch;		   /* CTL_MAX_PAYLOAD bytes where answers are built */
	int slot[CONTROL_MAX_FDS]; /* by poll entry: -1 lfd, -2 hfd, else the connection */
	int n_slot;
	/* A takeover request (root's or our own user's) goes to this hook with its connection. */
	void (*takeover)(void *arg, int fd);
	void *takeover_arg;
	uid_t euid; /* this horod's user at start (root's, or its own) */
};

/*
 * Open the listeners CFG asks for: the control socket (missing directories
 * created — mode CONTROL_DIR_PRIVATE, and the socket's directory checked
 * to be horod's user's own, when cfg->control.path_private —, a stale socket
 * removed, mode CONTROL_SOCK_MODE; failing is only logged as a warning)
 * and the metrics endpoint. 0, or -1 (logged) when the metrics endpoint
 * cannot be opened or memory is short.
 */
int control_open(struct control *c, const struct horod_config *cfg);

/*
 * As control_open, but serving the listeners a predecessor handed over:
 * LFD (the control socket, -1: open one) and HFD (the metrics endpoint,
 * -1: open one when configured). A handed-over control listener keeps
 * its path; a handed-over metrics listener CFG does not want is closed.
 */
int control_open_adopt(struct control *c, const struct horod_config *cfg, int lfd, int hfd);

/*
 * Hand TAKEOVER requests to FN(ARG, fd): the connection becomes FN's to
 * answer and close. Without a hook they are answered UNKNOWN_CMD.
 */
void control_on_takeover(struct control *c, void (*fn)(void *arg, int fd), void *arg);

/*
 * Close as control_close, but leave the socket file and its directories:
 * a successor serves the same listeners now.
 */
void control_release(struct control *c);

/* What the answers read: the clock thread CD and the N_WORKERS counter blocks CTR. */
void control_attach(struct control *c, const struct clockd *cd, const struct ctr_block *ctr,
		    int n_workers);

/* Fill PFD (room for MAX) with the descriptors to wait on; closes expired connections. */
int control_pollfds(struct control *c, struct pollfd *pfd, int max);

/* Handle the N entries control_pollfds filled, after poll(). */
void control_handle(struct control *c, const struct pollfd *pfd, int n);

/* The clock thread's poller of C (clockd_add_poller): control_pollfds and control_handle. */
struct clockd_poller control_poller(struct control *c);

/*
 * Close every connection and listener, unlink the socket file, remove the
 * directories control_open created for it when they are empty (never one
 * it did not create), free the buffers.
 */
void control_close(struct control *c);

#endif
