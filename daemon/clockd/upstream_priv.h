/*
 * What the three files of the NTP source driver share: upstream.c (the
 * sources, their requests and replies, the driver), upstream_dns.c (the
 * name lookups in resolver threads and their mailbox) and
 * upstream_auth.c (keys, NTS cookie jars and NTS-KE, the check of a
 * reply's MAC or NTS fields). Nothing outside daemon/clockd/upstream*.c
 * includes it: everyone else goes through daemon/clockd/upstream.h.
 */
#ifndef HOROD_DAEMON_UPSTREAM_PRIV_H
#define HOROD_DAEMON_UPSTREAM_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/clockd/upstream.h"
#include "daemon/config/config.h"

/* What resolver threads share with the clock thread (see upstream_dns.c's top). */
struct up_mailbox {
	pthread_mutex_t lock;	   /* guards everything below */
	struct up_result *results; /* finished lookups, taken by the clock thread */
	int wake_fd;		   /* eventfd: results are waiting */
	int refs;		   /* the upstream's, and one per lookup under way */
};

/* What the authentication of a reply says. */
enum up_auth {
	UP_AUTH_OK,  /* authentic, or nothing to authenticate (a plain source) */
	UP_AUTH_BAD, /* not authentic: ignore it */
	UP_AUTH_NAK, /* an NTS NAK to our request: the session is gone */
};

/* A mailbox with one reference (the caller's); NULL on failure (logged). */
struct up_mailbox *up_box_new(void);

/* Let go of B: the last holder frees it, its results and its eventfd. */
void up_box_unref(struct up_mailbox *b);

/* Start a lookup of source I's name in its own detached thread. */
void up_start_resolve(struct upstream *u, int i, int64_t now);

/* Take the finished lookups at NOW: an address for each source, or a log line. */
void up_take_results(struct upstream *u, int64_t now);

/* Reference ID of an upstream address (IPv4: the address; IPv6: MD5 prefix). */
uint32_t up_addr_refid(const struct sockaddr_storage *a);

/* The address of A (no port) as text into BUF of LEN bytes. */
void up_addr_str(const struct sockaddr_storage *a, char *buf, size_t len);

/* Close S's outstanding request socket, if there is one. */
void up_close_request(struct up_source *s);

/* The keyfile and the NTS trust C's sources need, and each source's key and cookie jar. */
int up_init_auth(struct upstream *u, const struct horod_config *c);

/* Authenticate reply BUF (LEN bytes) of source S: its MAC, or its NTS fields. */
enum up_auth up_authentic(const struct upstream *u, struct up_source *s, const uint8_t *buf,
			  size_t len);

/* Start an NTS-KE exchange for NTS source I, unless one runs or it failed too recently. */
void up_start_ke(struct upstream *u, int i, int64_t now);

/* Take the NTS-KE exchanges that finished: keys and cookies in, or the next try later. */
void up_take_ke(struct upstream *u, int64_t now);

#endif
