/*
 * The takeover between two horods, on the wire: a new horod (the
 * successor, `horod --takeover`) takes the running one's (the
 * predecessor's) sockets with whatever is queued in them, its control
 * and metrics listeners and its XDP guard, starts serving from them, and
 * only then lets the predecessor go; no datagram is ever without a
 * socket to wait in, and none is dropped.
 *
 *   successor                                  predecessor
 *   connect to the control socket, send
 *   the control request TAKEOVER        --->   peer is root or itself?
 *                                        <---   a control response: pid=, synced=,
 *                                               version= (key=value lines)
 *                                        <---   its descriptors, named (fdpass.h)
 *   serve from them (workers, guard
 *   adopted), then send "D" (drain)      --->   its workers take nothing more, answer
 *                                               what they took; it exits
 *   sees the connection close: done      <---   (its exit closes it)
 *
 * A predecessor that does not know TAKEOVER answers UNKNOWN_CMD: the
 * successor says so and stops, and nothing changed.
 */
#ifndef HOROD_DAEMON_HANDOVER_H
#define HOROD_DAEMON_HANDOVER_H

#include <stdint.h>

#include "daemon/sys/fdpass.h"

#define HO_TIMEOUT_MS 5000 /* ms for each step of the exchange: both ends answer at once */
#define HO_DRAIN      'D'  /* the successor's one-byte "drain and go" */

/* What the predecessor says about itself. */
struct ho_peer {
	int pid;    /* its process */
	int synced; /* 1 when it serves synchronized time */
	char version[32];
	int64_t watchdog_ns; /* the watchdog interval systemd asked of it (ns), 0 none */
};

/*
 * Successor: connect to the control socket PATH, ask for a takeover,
 * read the predecessor's answer into PEER and its descriptors into ITEMS
 * (room for MAX; *N of them). The connection stays open in *CONN for
 * ho_release. 0, or -1 with the reason in WHY (nothing received is left open).
 */
int ho_request(const char *path, struct ho_peer *peer, struct fdp_item *items, int max, int *n,
	       int *conn, char *why, size_t len);

/*
 * Successor: tell the predecessor to drain and go, and wait (at most
 * TIMEOUT_MS) until its exit closes CONN, which is closed here. 0 when it
 * went, -ETIMEDOUT, or -errno.
 */
int ho_release(int conn, int timeout_ms);

/*
 * Predecessor: answer the takeover request on connection CONN (blocking,
 * each send bounded by HO_TIMEOUT_MS): this process's PID, SYNCED, its
 * WATCHDOG_NS (systemd gives it to the main process only: the successor
 * keeps feeding it) and version, then the N ITEMS (their descriptors stay
 * open here). 0, or
 * -errno (the successor will see the connection close).
 */
int ho_offer(int conn, int synced, int64_t watchdog_ns, const struct fdp_item *items, int n);

/*
 * Predecessor: what came on CONN (readable): 1 the drain byte, 0 nothing
 * yet, -1 the connection closed (the successor gave up: serve on).
 */
int ho_read_drain(int conn);

#endif
