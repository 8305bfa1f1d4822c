/*
 * Passing open descriptors between two horods over a connected Unix
 * stream socket (SCM_RIGHTS), each with a name saying what it is ("ntp
 * 0 127.0.0.1:123", "xdp-link lo", ...): the takeover hands the running
 * horod's sockets, with whatever is queued in them, and its XDP links to
 * its successor, so no datagram is ever without a socket to wait in. A
 * batch is one sendmsg: a fixed header, FDP_BATCH names and their
 * descriptors; the last batch says so. The receiver reads each batch
 * whole before the next, so the kernel hands it each batch's descriptors
 * with that batch's first byte; the socket is the peer's, so every field
 * is checked as hostile all the same (magic, version, counts, names
 * terminated, descriptors received as many as named, MSG_CTRUNC).
 */
#ifndef HOROD_DAEMON_FDPASS_H
#define HOROD_DAEMON_FDPASS_H

#define FDP_NAME_MAX 64	  /* bytes of a name, NUL included */
#define FDP_BATCH    32	  /* descriptors per message: far below the kernel's 253 (SCM_MAX_FD) */
#define FDP_MAX	     4160 /* descriptors in one hand-over: 256 workers x 16 addresses + 64 */
#define FDP_MAGIC    0x484f4644 /* "HOFD" */
#define FDP_VERSION  1

struct fdp_item {
	char name[FDP_NAME_MAX];
	int fd;
};

/*
 * Send the N items over SOCK (a connected AF_UNIX stream socket), in
 * batches, the last one marked (N may be 0: one empty, last batch). The
 * descriptors stay open here. 0, or -errno.
 */
int fdp_send(int sock, const struct fdp_item *items, int n);

/*
 * Receive items from SOCK into ITEMS (room for MAX) until the last batch,
 * waiting at most TIMEOUT_MS for each batch; the count, or -errno
 * (-EPROTO: the peer broke the format; -EMSGSIZE: more than MAX;
 * -ETIMEDOUT). On failure every descriptor received is closed.
 */
int fdp_recv(int sock, struct fdp_item *items, int max, int timeout_ms);

/* Close the descriptors of the N items (those >= 0) and set them to -1. */
void fdp_close_all(struct fdp_item *items, int n);

#endif
