/*
 * Upstream NTP sources, the client side of horod: name resolution off
 * the clock thread (a short-lived resolver thread per lookup), one
 * request at a time per source from a fresh socket on a random ephemeral
 * port, a random transmit timestamp as the cookie (our clock never
 * leaks), replies matched by that cookie (anything else is dropped and a
 * KoD with another origin ignored), kernel receive stamps, and the NTP
 * adapter that hands each reply to the clock core: the packet tests
 * (proto/ntpreply.h) and the duplicate test here, the timestamps placed
 * in their NTP era, then a measurement, a rejection or a kiss-o'-death's
 * request. Authenticated sources: `key ID` sends a MAC of that keyfile
 * key and takes only replies with a MAC of the same key; `nts` (RFC 8915)
 * gets keys and cookies from NTS-KE in a thread of its own (upnts.h),
 * sends each request with a fresh cookie, identifier and authenticator
 * (proto/ntsclient.h) and takes only the authentic answer to it; an NTS
 * NAK, an empty cookie jar (8 requests unanswered) or two weeks since the
 * last exchange start NTS-KE again. Anything not authentic is counted and
 * ignored, kiss-o'-death packets included (but the NAK). Its source
 * driver is srcdrv_ntp (srcdrv.h). Runs in the clock thread only.
 *
 * With `xleave` (RFC 9769 interleaved mode, client side; not with `key`
 * or `nts`: the configuration refuses it, an authenticated source is
 * polled in basic mode) the kernel
 * stamps each request as it leaves (SO_TIMESTAMPING transmit software
 * stamps, read from the socket's error queue right after the send) and
 * the next request names the last exchange: its origin field carries the
 * server's receive timestamp of the last reply, its receive field a
 * second random cookie (the server echoes it as the origin of an
 * interleaved reply: how the reply's mode is told, and our clock still
 * never leaks). An interleaved reply carries the server's transmit stamp
 * of the previous reply, so the measurement is the previous exchange's,
 * with a stamp taken as each packet left at both ends; a basic reply is
 * measured as usual (with the kernel's transmit stamp as T1). Each
 * exchange is measured once: the first interleaved reply after a basic
 * one names an exchange the core already has.
 */
#ifndef HOROD_DAEMON_UPSTREAM_H
#define HOROD_DAEMON_UPSTREAM_H

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <netdb.h>
#include <sys/socket.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "daemon/clockd/srcdrv.h"
#include "daemon/clockd/upnts.h"
#include "daemon/config/config.h"
#include "proto/ntp.h"
#include "proto/ntsclient.h"
#include "proto/symkey.h"

#define UP_MAX_SOURCES CLK_MAX_SOURCES /* sources: each server, and each pool member */

/* One exchange's stamps but the server's transmit time (a reply carries it). */
struct up_exchange {
	int64_t t1, t4; /* driver ns: our transmit (kernel stamp when read) and receive */
	uint64_t rec;	/* NTP timestamp: the server's receive, from the wire */
	int valid;	/* a reply completed it */
	int sampled;	/* the core already has it (its reply was basic) */
};

struct up_source {
	int core_id;		      /* id in the clock core */
	const struct cfg_server *cfg; /* the server/pool line it comes from */
	int member;		      /* pool member index (0 for a server) */
	char name[64];		      /* "host" or "pool#N", as the core knows it */
	struct sockaddr_storage addr; /* resolved address, port set */
	socklen_t addrlen;	      /* 0 = not resolved yet */
	int resolving;		      /* a lookup is under way */
	int64_t resolve_after;	      /* driver ns: do not look up again before this */
	int fd;			      /* socket of the outstanding request, or -1 */
	uint64_t cookie;	      /* transmit timestamp of that request */
	int64_t t1;		      /* driver time it was sent */
	int64_t sent_sys;	      /* system clock read right before that send */
	int unanswered;		      /* polls in a row without a valid reply */
	uint64_t last_xmt;	      /* transmit timestamp of its last reply (duplicates) */
	const struct sk_key *key;     /* `key ID`: the keyfile key, NULL without */
	struct ntsc *nts;	      /* `nts`: the session and cookies, NULL without */
	int ke_running;		      /* an NTS-KE exchange is under way */
	int64_t ke_after;	      /* driver ns: no new NTS-KE before this */
	int64_t ke_backoff;	      /* ns: the wait after the next failed NTS-KE */
	int64_t ke_at;		      /* driver ns of the last NTS-KE that gave keys, 0 none */
	/* xleave: the outstanding request's receive-field cookie (0 = a basic request) and
	 * the last exchange, the one an interleaved reply measures */
	uint64_t rec_cookie;
	int t1_kernel; /* t1 is the kernel's transmit stamp, not the one read before send */
	struct up_exchange prev;
};

/* What up_hand_reply() made of a reply. */
enum up_verdict {
	UP_SAMPLE, /* a measurement for the core */
	UP_REJECT, /* the packet tests failed: the core saw the flash bits */
	UP_KOD,	   /* a kiss-o'-death: the core slowed down or stopped the polls, if asked */
};

/* Counters of the client side (drops are not served traffic: kept apart). */
struct up_stats {
	uint64_t sent, received, valid, bogus, kod, short_reply, send_errors;
	uint64_t auth_fail;	 /* replies to an authenticated source that are not authentic */
	uint64_t nts_nak;	 /* NTS NAKs (kiss code NTSN) to our identifier */
	uint64_t ke_ok, ke_fail; /* NTS-KE exchanges */
	uint64_t interleaved;	 /* xleave: interleaved replies (valid ones, measuring the last
				    exchange) */
	uint64_t basic_xleave;	 /* xleave: replies to interleaved requests that came back basic */
	uint64_t tx_stamps;	 /* xleave: kernel transmit stamps of our requests read */
};

struct up_mailbox;

struct upstream {
	struct up_source src[UP_MAX_SOURCES];
	int n;
	struct clk_core *core;
	struct clk_driver *drv;
	/* where resolver threads leave finished lookups and wake the clock thread: shared
	 * with them, it outlives the upstream until the last lookup is done */
	struct up_mailbox *box;
	struct up_stats stats;
	struct sk_table keys; /* the keyfile, when a source has `key ID` */
	struct upn *upn;      /* NTS-KE, when a source has `nts` */
	long nocert;	      /* nocerttimecheck: clock updates without certificate times */
};

/* Tests: a getaddrinfo() stand-in for the resolver threads (NULL: getaddrinfo again). */
typedef int (*up_lookup_fn)(const char *host, const char *port, const struct addrinfo *hints,
			    struct addrinfo **res);
void up_set_lookup(up_lookup_fn fn);

/* Tests: lookups still under way in resolver threads (their mailboxes still held). */
int up_lookups_running(void);

/*
 * The NTP adapter: reply P to our request of driver time T1, received at
 * T4, whose origin matched, for source ID of CORE. A kiss-o'-death asks
 * the core to slow down or to stop; a reply failing the packet tests,
 * or a duplicate of the last one (*LAST_XMT, updated), is rejected with
 * their flash bits; anything else is a measurement with the server's
 * receive and transmit times placed in the NTP era nearest T1.
 */
enum up_verdict up_hand_reply(struct clk_core *core, int id, uint64_t *last_xmt,
			      const struct ntp_packet *p, int64_t t1, int64_t t4);

/*
 * The same for a reply P that measures exchange X (t1, t4 and the
 * server's receive X->rec; the transmit time is P's own): an interleaved
 * reply measures the exchange before it (INTERLEAVED 1), whose receive
 * time was in the reply before; its header is tested against its own
 * receive time, as its transmit time is older.
 */
enum up_verdict up_hand_exchange(struct clk_core *core, int id, uint64_t *last_xmt,
				 const struct ntp_packet *p, const struct up_exchange *x,
				 int interleaved);

/* The upstream counters of the NTP source driver D (srcdrv_ntp) into OUT. */
void up_stats_of(const struct srcdrv *d, struct up_stats *out);

#endif
