/*
 * The workers' listening sockets, as steps of main.c (listen.h): one
 * socket per worker and listen line, a predecessor's when a takeover
 * handed it over (with what is queued in it), else a new one, bound
 * before horod detaches so that errors are seen; clients steered to one
 * worker whatever their port; the receive buffers resized around the
 * guard's load; and the listen lines as text for the log.
 */
#include <stdio.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "daemon/listen.h"
#include "daemon/serve/rxsock.h"
#include "daemon/sys/log.h"
#include "daemon/takeover.h"

/* Format a listen entry as ADDR:PORT / [ADDR]:PORT. */
void lsn_format_listen(const struct horod_config *cfg, const struct cfg_listen *l, char *buf,
		       size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	int port = cfg_listen_port(cfg, l);

	if (l->addr.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&l->addr)->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%d", a, port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&l->addr)->sin6_addr, a,
			  sizeof(a));
		snprintf(buf, len, "[%s]:%d", a, port);
	}
}

/* Close every worker's sockets. */
void lsn_close_sockets(struct worker *workers, int n_workers)
{
	int i, j;

	for (i = 0; i < n_workers; i++)
		for (j = 0; j < workers[i].n_socks; j++)
			rx_socket_close(&workers[i].socks[j]);
}

/* Bind every worker's socket on every listen address (before detaching: errors are seen). */
int lsn_open_sockets(const struct horod_config *cfg, struct worker *workers, int n_workers, int hw)
{
	char err[256], where[80];
	int i, j;

	for (i = 0; i < n_workers; i++) {
		for (j = 0; j < cfg->n_listen; j++) {
			struct sockaddr_storage ss = cfg->listen[j].addr;
			int port = cfg_listen_port(cfg, &cfg->listen[j]);

			int fd = tko_take_socket(i, j), r;

			if (ss.ss_family == AF_INET)
				((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
			else
				((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
			/* A predecessor's socket, with what is queued in it; else a new one. */
			r = fd >= 0 ? rx_socket_adopt(fd, (struct sockaddr *)&ss, hw,
						      &workers[i].socks[j], err, sizeof(err))
				    : -1;
			if (fd >= 0 && r < 0) {
				lsn_format_listen(cfg, &cfg->listen[j], where, sizeof(where));
				log_msg(LOG_WARNING, "takeover: the socket handed over for %s: %s",
					where, err);
				close(fd);
			}
			if (r < 0 &&
			    rx_socket_open((struct sockaddr *)&ss, cfg->listen[j].addrlen, hw,
					   &workers[i].socks[j], err, sizeof(err)) < 0) {
				lsn_format_listen(cfg, &cfg->listen[j], where, sizeof(where));
				log_msg(LOG_ERR, "cannot listen on %s: %s", where, err);
				lsn_close_sockets(workers, n_workers);
				return -1;
			}
			workers[i].n_socks = j + 1;
			/* Replies leave from a socket nobody waits on (rxsock.h), else here. */
			if (rx_send_open(&workers[i].socks[j], hw, err, sizeof(err)) < 0) {
				lsn_format_listen(cfg, &cfg->listen[j], where, sizeof(where));
				log_msg(LOG_WARNING,
					"%s: no send socket (%s): replies leave from the receiving "
					"socket, their transmit stamps wake its waiters",
					where, err);
			}
		}
	}
	/* A client stays on one worker whatever its port: its interleaved state is there. */
	wk_steer(workers, n_workers);
	return 0;
}

/* Every worker socket's receive buffer to BYTES. */
void lsn_sockets_rcvbuf(struct worker *workers, int n_workers, int bytes)
{
	int i, j;

	for (i = 0; i < n_workers; i++)
		for (j = 0; j < workers[i].n_socks; j++)
			rx_socket_rcvbuf(workers[i].socks[j].fd, bytes);
}
