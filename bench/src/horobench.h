/*
 * What the parts of horobench share: the limits of a run, the kinds of
 * request and the reasons a reply is invalid, the request table, the
 * options and the state of one run. The request table and the reply
 * checks are in hb_req.c, the send/receive loop in hb_run.c, the command
 * line in hb_opts.c, the text and JSON report in hb_report.c, and main()
 * in horobench.c. Private to bench/.
 */
#ifndef HOROD_BENCH_HOROBENCH_H
#define HOROD_BENCH_HOROBENCH_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "bench/src/stats.h"
#include "proto/nstime.h"

#define HB_MAX_SECONDS 60   /* s: hard bound on a run */
#define HB_MAX_SOCKETS 1024 /* client sockets (source ports) */
#define HB_MAX_SOURCES 64   /* source addresses */
#define HB_BATCH       64   /* datagrams per sendmmsg / recvmmsg call */
#define HB_KEYRING     8192 /* stamped sends remembered per socket (power of two) */
#define HB_COOKIE_MUL  0x9e3779b97f4a7c15ULL /* odd: seq * MUL is a bijection mod 2^64 */

/* Kinds of request; 0 is the well-formed one. */
enum hb_kind { K_GOOD, K_SHORT, K_BADVERSION, K_MODE7, K_MODE6, K_BADEXT, K_MAX };

/* Names of the kinds, as --kinds takes them and the report prints them. */
extern const char *const hb_kind_name[K_MAX];

/* Why a reply was not valid. */
enum hb_bad {
	B_SHORT,     /* shorter than 48 bytes */
	B_UNKNOWN,   /* origin is no cookie we sent (or one forgotten long ago) */
	B_DUPLICATE, /* a second reply to the same request */
	B_MODE,	     /* not mode 4 */
	B_VERSION,   /* version not echoed */
	B_STRATUM,   /* stratum 0 (kiss-o'-death) or above 15 */
	B_LEAP,	     /* leap 3: the server says it is unsynchronized */
	B_ORDER,     /* receive or transmit 0, or receive > transmit */
	B_NTS, /* --nts: an NTS NAK, a length not the request's, an authenticator that fails */
	B_MAX
};

/* Request table entry flags. */
#define F_KIND	0x07 /* enum hb_kind */
#define F_STAMP 0x08 /* a TX timestamp was asked for */
#define F_T1	0x10 /* t holds the kernel TX stamp (else the user-space send time) */
#define F_DONE	0x20 /* answered */
#define F_LOST	0x40 /* given up on (timeout) */

struct hb_req {
	uint64_t seq; /* which request this entry holds, plus 1 (0: none yet) */
	int64_t t;    /* send time, ns Unix (kernel TX stamp once F_T1) */
	uint32_t flags;
};

struct hb_sock {
	int fd;
	uint32_t next_key;	      /* TX stamp key of the next stamped send */
	uint64_t keyring[HB_KEYRING]; /* key -> seq of stamped sends */
};

struct hb_opts {
	struct sockaddr_storage dst;
	socklen_t dstlen;
	struct sockaddr_storage src[HB_MAX_SOURCES];
	int n_src;
	const char *host;
	int port;
	double rate;	 /* open loop: requests/s; 0 = closed loop */
	int window;	 /* closed loop: requests in flight */
	double duration; /* s */
	int sockets;
	double malformed; /* share of requests that are malformed, 0..1 */
	int kinds[K_MAX]; /* malformed kinds enabled */
	int cpu;
	int json;
	int ts_every;	/* ask a TX stamp on one request in N (0: none) */
	double timeout; /* s: a request unanswered this long is lost */
	int allow_unsync;
	int version; /* VN of our requests */
	/* NTS (hb_nts.c). */
	int nts;	  /* --nts: NTS-authenticated requests */
	int ke;		  /* --ke: NTS-KE exchanges instead of NTP requests */
	const char *ca;	  /* --ca: trusted certificates (default: the system's) */
	int nts_port;	  /* --nts-port: NTS-KE port (4460) */
	int placeholders; /* --placeholders: cookie placeholders per request, 0-7 */
	int nts_verify;	  /* --nts-verify: check one reply in N whole (64; 0 none) */
	int nts_sessions; /* --nts-sessions: NTS-KE exchanges before the run (4) */
	int ke_threads;	  /* --ke-threads: parallel NTS-KE clients (1) */
};

struct hb_run {
	struct hb_opts o;
	struct hb_sock *socks;
	int epfd;
	struct hb_req *tab;
	uint64_t mask;
	uint64_t key;	   /* cookie mask, random per run */
	uint64_t mul_inv;  /* inverse of HB_COOKIE_MUL mod 2^64 */
	uint64_t next_seq; /* next request number */
	uint64_t oldest;   /* every request below this is answered or lost */
	int next_sock;
	double mal_acc; /* malformed share accumulator */
	int next_kind;
	/* counts */
	uint64_t sent[K_MAX];
	uint64_t sent_total;
	uint64_t send_errors;
	uint64_t answered; /* replies to well-formed requests in time */
	uint64_t valid;
	uint64_t bad[B_MAX];
	uint64_t late; /* replies after the timeout */
	uint64_t malformed_answered;
	uint64_t control_answered; /* mode 6 responses: ntpq requests answered (allowed sources) */
	uint64_t lost;
	uint64_t inflight;	   /* well-formed requests neither answered nor lost */
	uint64_t tx_stamps;	   /* kernel TX stamps matched */
	uint64_t tx_stamp_missing; /* stamped requests answered before their TX stamp came */
	uint64_t rx_stamp_missing; /* replies without a kernel RX stamp */
	struct bs_samples rtt, res, off;
	int64_t t_start, t_stop, t_end;
	struct hb_nts *nts; /* --nts: sessions and the pool of sealed requests */
};

/* Wall-clock time now, ns Unix (CLOCK_REALTIME: comparable with the server's stamps). */
static inline int64_t hb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ns_from_timespec(&ts);
}

/* hb_req.c: the request table */

/* Send up to N requests on R's next socket; returns the number sent. */
int hb_send_batch(struct hb_run *r, int n);

/* Read S's error queue: kernel TX stamps of stamped requests. */
void hb_read_errqueue(struct hb_run *r, struct hb_sock *s);

/* Receive and check every reply S holds; returns the number received. */
int hb_read_replies(struct hb_run *r, struct hb_sock *s);

/* Give up on requests past R's timeout (FORCE: on all; ROOM: to make room for sends). */
void hb_expire(struct hb_run *r, int64_t now, int force, uint64_t room);

/* Write the 48-byte header of request SEQ (its cookie in the transmit timestamp) into BUF. */
void hb_request_header(const struct hb_run *r, uint64_t seq, uint8_t *buf);

/* hb_nts.c: NTS requests and NTS-KE exchanges */

#define HB_NTS_TAB (1u << 16) /* entries: the request table (and pool of sealed requests) */

/* NTS-KE exchanges with the target, then a sealed request for every table slot; 0 or -1. */
int hb_nts_setup(struct hb_run *r);

/* The sealed request for SEQ: its bytes in *PKT, its length. */
size_t hb_nts_request(const struct hb_run *r, uint64_t seq, const uint8_t **pkt);

/* The request in flight in table SLOT (what an NTS reply's origin names), or UINT64_MAX. */
uint64_t hb_nts_seq(const struct hb_run *r, uint64_t slot);

/* Judge the NTS reply BUF (LEN bytes) to SEQ: 0 good, -1 (counted) bad. */
int hb_nts_check(struct hb_run *r, uint64_t seq, const uint8_t *buf, size_t len);

/* The NTS part of the report (JSON members, or a text line). */
void hb_nts_report(const struct hb_run *r, int json);

/* --ke: run NTS-KE exchanges for the duration and report; the exit status. */
int hb_ke_run(const struct hb_opts *o);

/* hb_run.c: the load loop */

/* Open, bind, connect and register R's client sockets; 0 or -1 (reported). */
int hb_open_sockets(struct hb_run *r);

/* Send for the run's duration, then wait out the timeout for the last replies. */
void hb_run_loop(struct hb_run *r);

/* hb_opts.c: the command line */

/* Fill O from the command line; 0, or -1 on a usage error (reported). Exits on --help. */
int hb_parse_opts(int argc, char **argv, struct hb_opts *o);

/* hb_report.c: the results */

/* Print R's results on stdout, as text or (o.json) one JSON object. */
void hb_report(struct hb_run *r);

#endif
