/*
 * The control socket and the metrics endpoint, the transport: served
 * from the clock thread's poll loop (see control.h). A control client
 * sends one request (proto/ctlproto.h framing) and gets one answer; an
 * HTTP client sends one GET /metrics and gets the Prometheus text.
 * Either way the connection is closed after the answer. The answers
 * themselves are answers.c's and metrics.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "clock/kclock.h"
#include "daemon/control/answers.h"
#include "daemon/control/control.h"
#include "daemon/control/metrics.h"
#include "daemon/sys/log.h"
#include "proto/ctlproto.h"
#include "proto/prom.h"

#define CONTROL_BACKLOG 16 /* pending connections: as many as we serve at once */

static int64_t mono_ns(void)
{
	return clk_now_ns(CLOCK_MONOTONIC);
}

/*
 * Create the missing directories above PATH with MODE, like mkdir -p of
 * its dirname. Returns the length of the first directory it created (all
 * below it are its own too), or 0 when it created none.
 */
static size_t make_parent(const char *path, mode_t mode)
{
	char d[CFG_PATH_MAX];
	size_t made = 0;
	char *s;

	snprintf(d, sizeof(d), "%s", path);
	for (s = d + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(d, mode) == 0) {
			if (!made)
				made = strlen(d);
		} else if (errno != EEXIST) {
			break; /* bind will report the real problem */
		}
		*s = '/';
	}
	return made;
}

/*
 * Remove the directories above PATH, deepest first, down to the one of
 * length MADE (the first make_parent created); stops at the first that
 * is not empty or cannot go.
 */
static void remove_made(const char *path, size_t made)
{
	char d[CFG_PATH_MAX];
	char *s;

	if (!made)
		return;
	snprintf(d, sizeof(d), "%s", path);
	while ((s = strrchr(d, '/')) != NULL && s > d) {
		*s = '\0';
		if (strlen(d) < made || rmdir(d) < 0)
			return;
	}
}

/*
 * 0 when the directory of PATH is a directory (not a link) of horod's
 * effective user that nobody else may write: a socket in /tmp/horod-UID
 * must not sit in a directory another user made first. Else -1, logged.
 */
static int check_private_dir(const char *path)
{
	char d[CFG_PATH_MAX];
	struct stat st;
	char *s;

	snprintf(d, sizeof(d), "%s", path);
	s = strrchr(d, '/');
	if (s && s > d)
		*s = '\0';
	if (lstat(d, &st) < 0) {
		log_msg(LOG_WARNING,
			"control socket directory %s: %s; horoctl cannot reach this horod", d,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		log_msg(LOG_WARNING,
			"control socket directory %s is not a directory of uid %u that only it may "
			"write (owner uid %u, mode %04o); horoctl cannot reach this horod",
			d, (unsigned)geteuid(), (unsigned)st.st_uid,
			(unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static int open_unix(struct control *c, const char *path, int private_dir)
{
	struct sockaddr_un sa;
	size_t made;
	int fd, probe;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "control socket %s: path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	made = make_parent(path, private_dir ? CONTROL_DIR_PRIVATE : CONTROL_DIR_MODE);
	if (private_dir && check_private_dir(path) < 0) {
		remove_made(path, made);
		return -1;
	}
	/* A socket nobody answers on is stale (a crash); a live one belongs to another horod. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		log_msg(LOG_WARNING,
			"control socket %s: another horod is answering on it; "
			"horoctl cannot reach this one",
			path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, CONTROL_SOCK_MODE) < 0 || listen(fd, CONTROL_BACKLOG) < 0) {
		log_msg(LOG_WARNING, "control socket %s: %s; horoctl cannot reach this horod", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		remove_made(path, made);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->made = made;
	c->lfd = fd;
	log_msg(LOG_INFO, "control socket %s", path);
	return 0;
}

static int open_http(struct control *c, const struct horod_config *cfg)
{
	int fd, one = 1;

	fd = socket(cfg->control.metrics_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 ||
	    bind(fd, (const struct sockaddr *)&cfg->control.metrics_addr,
		 cfg->control.metrics_addrlen) < 0 ||
	    listen(fd, CONTROL_BACKLOG) < 0) {
		log_msg(LOG_ERR, "metrics listen: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	c->hfd = fd;
	return 0;
}

int control_open(struct control *c, const struct horod_config *cfg)
{
	return control_open_adopt(c, cfg, -1, -1);
}

int control_open_adopt(struct control *c, const struct horod_config *cfg, int lfd, int hfd)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->lfd = -1;
	c->hfd = -1;
	c->view.cfg = cfg;
	c->euid = geteuid(); /* before the sandbox: a takeover's peer is checked against it */
	for (i = 0; i < CONTROL_MAX_CONN; i++)
		c->conn[i].fd = -1;
	c->scratch = malloc(CTL_MAX_PAYLOAD);
	if (!c->scratch) {
		log_msg(LOG_ERR, "control: out of memory");
		return -1;
	}
	/* Serving time matters more than being inspectable: a control socket failure is a warning.
	 */
	if (lfd >= 0 && cfg->control.path[0]) {
		c->lfd = lfd; /* the predecessor's, bound at this path: no window without it */
		snprintf(c->path, sizeof(c->path), "%s", cfg->control.path);
		log_msg(LOG_INFO, "control socket %s (taken over)", cfg->control.path);
	} else {
		if (lfd >= 0)
			close(lfd);
		if (cfg->control.path[0])
			open_unix(c, cfg->control.path, cfg->control.path_private);
	}
	if (hfd >= 0 && cfg->control.metrics_enabled) {
		c->hfd = hfd;
	} else {
		if (hfd >= 0)
			close(hfd);
		if (cfg->control.metrics_enabled && open_http(c, cfg) < 0)
			return -1;
	}
	return 0;
}

void control_attach(struct control *c, const struct clockd *cd, const struct ctr_block *ctr,
		    int n_workers)
{
	c->view.cd = cd;
	c->view.ctr = ctr;
	c->view.n_workers = n_workers;
}

static void conn_close(struct control_conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	free(k->tx);
	k->fd = -1;
	k->tx = NULL;
	k->rx_len = 0;
}

static void do_accept(struct control *c, int lfd, int http)
{
	int fd, i;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CONN && c->conn[i].fd >= 0; i++)
		;
	if (i == CONTROL_MAX_CONN) {
		close(fd); /* all slots busy: the client sees EOF and may retry */
		return;
	}
	c->conn[i].fd = fd;
	c->conn[i].http = http;
	c->conn[i].rx_len = 0;
	c->conn[i].tx = NULL;
	c->conn[i].deadline = mono_ns() + CONTROL_IDLE_NS;
}

/* ---- connections ------------------------------------------------------ */

/* Queue HEAD (HLEN bytes) then BODY (BLEN bytes) as K's answer. */
static void conn_reply(struct control_conn *k, const void *head, size_t hlen, const void *body,
		       size_t blen)
{
	k->tx = malloc(hlen + blen);
	if (!k->tx) {
		conn_close(k);
		return;
	}
	memcpy(k->tx, head, hlen);
	if (blen)
		memcpy(k->tx + hlen, body, blen);
	k->tx_len = hlen + blen;
	k->tx_off = 0;
}

static void ctl_reply(struct control *c, struct control_conn *k, int cmd, int status,
		      const char *body, size_t blen)
{
	struct ctl_header h = {CTL_VERSION, CTL_T_RESPONSE, (uint8_t)cmd, (uint8_t)status,
			       (uint32_t)blen};
	uint8_t hb[CTL_HDR_LEN];

	(void)c;
	ctl_header_encode(&h, hb);
	conn_reply(k, hb, sizeof(hb), body, blen);
}

static void ctl_request(struct control *c, struct control_conn *k)
{
	struct ctl_msg m;
	size_t n;
	int r, status;

	r = ctl_decode(k->rx, k->rx_len, CTL_T_REQUEST, &m);
	if (r == 0)
		return; /* more to come */
	if (r < 0) {
		const char *why = ctl_err_text(r);

		ctl_reply(c, k, k->rx_len > 6 && r == CTL_E_COMMAND ? k->rx[6] : 0,
			  r == CTL_E_COMMAND ? CTL_S_UNKNOWN_CMD : CTL_S_BAD_REQUEST, why,
			  strlen(why));
		return;
	}
	if (m.h.command == CTL_CMD_TAKEOVER) {
		struct ucred cr;
		socklen_t cl = sizeof(cr);

		/* Only root, or this horod's own user, may take the sockets over. */
		if (!c->takeover || getsockopt(k->fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 ||
		    (cr.uid != 0 && cr.uid != c->euid)) {
			ctl_reply(c, k, m.h.command,
				  c->takeover ? CTL_S_BAD_REQUEST : CTL_S_UNKNOWN_CMD, NULL, 0);
			return;
		}
		/* The connection is the hook's from now on. */
		r = k->fd;
		k->fd = -1;
		conn_close(k);
		c->takeover(c->takeover_arg, r);
		return;
	}
	n = answers_build(&c->view, m.h.command, c->scratch, CTL_MAX_PAYLOAD, &status);
	if (n >= CTL_MAX_PAYLOAD) {
		ctl_reply(c, k, m.h.command, CTL_S_TOO_LARGE, NULL, 0);
		return;
	}
	ctl_reply(c, k, m.h.command, status, c->scratch, n);
}

static void http_error(struct control_conn *k, const char *status, const char *extra)
{
	char h[256];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "%sConnection: close\r\n\r\n%s\n",
			 status, strlen(status) + 1, extra, status);

	conn_reply(k, h, (size_t)n, NULL, 0);
}

static void http_request(struct control *c, struct control_conn *k)
{
	const char *rx = (const char *)k->rx, *sp1, *sp2, *eol;
	char head[256];
	size_t n;
	int hl;

	/* Wait for the end of the head; a head that does not fit is refused. */
	if (!memmem(rx, k->rx_len, "\r\n\r\n", 4) && !memmem(rx, k->rx_len, "\n\n", 2)) {
		if (k->rx_len >= sizeof(k->rx))
			http_error(k, "431 Request Header Fields Too Large", "");
		return;
	}
	eol = memchr(rx, '\n', k->rx_len);
	sp1 = memchr(rx, ' ', (size_t)(eol - rx));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || (size_t)(eol - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		http_error(k, "400 Bad Request", "");
		return;
	}
	if (sp1 - rx != 3 || memcmp(rx, "GET", 3) != 0) {
		http_error(k, "405 Method Not Allowed", "Allow: GET\r\n");
		return;
	}
	if (sp2 - sp1 - 1 != 8 || memcmp(sp1 + 1, "/metrics", 8) != 0) {
		http_error(k, "404 Not Found", "");
		return;
	}
	n = metrics_text(&c->view, c->scratch, CTL_MAX_PAYLOAD);
	if (n >= CTL_MAX_PAYLOAD) {
		http_error(k, "500 Internal Server Error", "");
		return;
	}
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.0 200 OK\r\nContent-Type: " PROM_CONTENT_TYPE
		      "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		      n);
	conn_reply(k, head, (size_t)hl, c->scratch, n);
}

static void conn_read(struct control *c, struct control_conn *k)
{
	size_t cap = k->http ? sizeof(k->rx) : CTL_HDR_LEN + CTL_MAX_REQUEST;
	ssize_t r;

	if (k->tx)
		return; /* answered: whatever else the peer sends is ignored */
	r = read(k->fd, k->rx + k->rx_len, cap - k->rx_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_close(k);
		return;
	}
	k->rx_len += (size_t)r;
	if (k->http)
		http_request(c, k);
	else
		ctl_request(c, k);
}

static void conn_write(struct control_conn *k)
{
	ssize_t r;

	if (!k->tx)
		return;
	r = send(k->fd, k->tx + k->tx_off, k->tx_len - k->tx_off, MSG_NOSIGNAL);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_close(k);
		return;
	}
	k->tx_off += (size_t)r;
	if (k->tx_off == k->tx_len)
		conn_close(k); /* one answer per connection */
}

int control_pollfds(struct control *c, struct pollfd *pfd, int max)
{
	int64_t now = mono_ns();
	int n = 0, i;

	c->n_slot = 0;
	if (c->lfd >= 0 && n < max) {
		pfd[n].fd = c->lfd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		c->slot[n++] = -1;
	}
	if (c->hfd >= 0 && n < max) {
		pfd[n].fd = c->hfd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		c->slot[n++] = -2;
	}
	for (i = 0; i < CONTROL_MAX_CONN && n < max && n < CONTROL_MAX_FDS; i++) {
		struct control_conn *k = &c->conn[i];

		if (k->fd < 0)
			continue;
		if (now > k->deadline) {
			conn_close(k);
			continue;
		}
		pfd[n].fd = k->fd;
		pfd[n].events = k->tx ? POLLOUT : POLLIN;
		pfd[n].revents = 0;
		c->slot[n++] = i;
	}
	c->n_slot = n;
	return n;
}

void control_handle(struct control *c, const struct pollfd *pfd, int n)
{
	int i;

	if (!c->view.cd)
		return;
	for (i = 0; i < n && i < c->n_slot; i++) {
		struct control_conn *k;

		if (!pfd[i].revents)
			continue;
		if (c->slot[i] == -1) {
			do_accept(c, c->lfd, 0);
			continue;
		}
		if (c->slot[i] == -2) {
			do_accept(c, c->hfd, 1);
			continue;
		}
		k = &c->conn[c->slot[i]];
		if (k->fd != pfd[i].fd)
			continue;
		if (pfd[i].revents & POLLOUT)
			conn_write(k);
		else if (pfd[i].revents & POLLIN)
			conn_read(c, k);
		else
			conn_close(k); /* POLLHUP, POLLERR or POLLNVAL alone: the peer is gone */
	}
}

static int poller_fds(void *arg, struct pollfd *pfd, int max)
{
	return control_pollfds(arg, pfd, max);
}

static void poller_handle(void *arg, const struct pollfd *pfd, int n)
{
	control_handle(arg, pfd, n);
}

struct clockd_poller control_poller(struct control *c)
{
	struct clockd_poller p = {.fds = poller_fds, .handle = poller_handle, .arg = c};

	return p;
}

void control_on_takeover(struct control *c, void (*fn)(void *arg, int fd), void *arg)
{
	c->takeover = fn;
	c->takeover_arg = arg;
}

void control_release(struct control *c)
{
	c->path[0] = '\0';
	c->made = 0;
	control_close(c);
}

void control_close(struct control *c)
{
	int i;

	for (i = 0; i < CONTROL_MAX_CONN; i++)
		if (c->conn[i].fd >= 0)
			conn_close(&c->conn[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->hfd >= 0)
		close(c->hfd);
	if (c->path[0]) {
		unlink(c->path);
		remove_made(c->path, c->made);
	}
	c->lfd = c->hfd = -1;
	c->path[0] = '\0';
	c->made = 0;
	free(c->scratch);
	c->scratch = NULL;
}
