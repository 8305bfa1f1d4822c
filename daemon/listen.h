/*
 * The workers' listening sockets for main.c's start-up steps: open (or
 * take over) and close them, resize their receive buffers, and say a
 * listen line as ADDR:PORT.
 */
#ifndef HOROD_DAEMON_LISTEN_H
#define HOROD_DAEMON_LISTEN_H

#include <stddef.h>

#include "daemon/config/config.h"
#include "daemon/serve/worker.h"

/* Format listen entry L of CFG as ADDR:PORT / [ADDR]:PORT into BUF of LEN bytes. */
void lsn_format_listen(const struct horod_config *cfg, const struct cfg_listen *l, char *buf,
		       size_t len);

/* Close every socket of the N_WORKERS WORKERS. */
void lsn_close_sockets(struct worker *workers, int n_workers);

/* Bind every worker's socket on every listen line of CFG (HW: NIC stamps); 0, or -1 (logged). */
int lsn_open_sockets(const struct horod_config *cfg, struct worker *workers, int n_workers, int hw);

/* Every worker socket's receive buffer to BYTES. */
void lsn_sockets_rcvbuf(struct worker *workers, int n_workers, int bytes);

#endif
