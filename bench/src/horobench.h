/*
 * What the parts of horobench share: the limits of a run, the kinds of
 * request and the reasons a reply is invalid, the request table, the
 * clients, the options and the state of one run. The request table and
 * the reply checks are in hb_req.c, the send/receive loop in hb_run.c,
 * the packet capture at the client's interface in hb_capture.c, the
 * command line in hb_opts.c, the text and JSON report in hb_report.c,
 * and main() (rate steps, warm-up) in horobench.c. Private to bench/.
 *
 * Clients. Without --clients every socket is one client (connected to
 * the server, one source address and port). With --clients N there are
 * N clients, each with its own source address (--client-base and the N-1
 * after it, chosen per datagram with IP_PKTINFO / IPV6_PKTINFO on
 * unconnected sockets, so the addresses must be local to horobench's
 * namespace, e.g. an AnyIP route `ip route add local 10.99.0.0/16 dev
 * lo`), client i always on socket i mod --sockets. A client's state is
 * what interleaved mode (--xleave, RFC 9769) needs: the server's receive
 * timestamp and our T1, T2, T4 of its last exchange, and the capture's
 * view of its last reply.
 */
#ifndef HOROD_BENCH_HOROBENCH_H
#define HOROD_BENCH_HOROBENCH_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "bench/src/stats.h"
#include "proto/nstime.h"

#define HB_MAX_SECONDS 60	 /* s: hard bound on a run */
#define HB_MAX_SOCKETS 1024	 /* client sockets (source ports) */
#define HB_MAX_SOURCES 64	 /* source addresses */
#define HB_MAX_CLIENTS (1 << 20) /* --clients: simulated client addresses */
#define HB_MAX_STEPS   32	 /* --steps: rate steps in one run */
#define HB_WARM_RATE   20000.0	 /* requests/s: --warmup pace, far below any server's limit */
#define HB_WARM_ROUNDS 2	 /* --warmup requests per client: chronyd interleaves the 3rd */
#define HB_BATCH       64	 /* datagrams per sendmmsg / recvmmsg call */
#define HB_KEYRING     8192	 /* stamped sends remembered per socket (power of two) */
#define HB_COOKIE_MUL  0x9e3779b97f4a7c15ULL /* odd: seq * MUL is a bijection mod 2^64 */
#define HB_COOKIE_MUL2 0xc2b2ae3d27d4eb4fULL /* odd: the receive-field cookie (--xleave) */

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
	B_ORDER,     /* receive or transmit 0, or receive > transmit (interleaved: see hb_req.c) */
	B_NTS, /* --nts: an NTS NAK, a length not the request's, an authenticator that fails */
	B_MAX
};

/* The mode of a reply, as its origin says (RFC 9769). */
enum hb_mode {
	M_BASIC,       /* origin = our transmit cookie */
	M_INTERLEAVED, /* origin = our receive cookie: its transmit is the previous reply's */
	M_MAX
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
	uint32_t client; /* index of the client that sent it */
	uint32_t gen;	 /* --xleave: the client's exchange count when it was sent */
	uint64_t org;	 /* --xleave: the origin it carried (the server's previous receive) */
};

struct hb_sock {
	int fd;
	uint32_t next_key;	      /* TX stamp key of the next stamped send */
	uint32_t next_client;	      /* --clients: the next of this socket's clients to send */
	uint64_t keyring[HB_KEYRING]; /* key -> seq of stamped sends */
};

/* One client (see the top of the file). */
struct hb_client {
	uint8_t addr[16]; /* --clients: source address (IPv4 in the first 4 bytes) */
	uint32_t sock;	  /* index of its socket */
	uint32_t gen;	  /* exchanges completed (the last one is below) */
	uint64_t prev_rx; /* server receive timestamp of the last valid reply (wire), 0: none */
	int64_t prev_t1, prev_t2, prev_t4; /* ns: that exchange's T1 (kernel), T2, T4 (kernel) */
	uint64_t cap_rx;		   /* capture: receive field of the last captured reply */
	int64_t cap_arrival;		   /* capture: its kernel arrival stamp, ns */
};

/* Mean and standard deviation without keeping samples (Welford), plus min and max. */
struct hb_moments {
	uint64_t n;
	double mean, m2;
	int64_t min, max;
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
	int version;			     /* VN of our requests */
	int n_clients;			     /* --clients: 0 = one client per socket */
	struct sockaddr_storage client_base; /* --client-base: the first client address */
	int xleave;			     /* --xleave: RFC 9769 interleaved client */
	char capture[32];	    /* --capture IFACE: packet capture of the replies, or "" */
	double steps[HB_MAX_STEPS]; /* --steps: rates of the steps (open loop), 0 = one run */
	int n_steps;
	double stop_loss; /* --stop-loss: end the steps after one losing more than this */
	int warmup;	  /* --warmup: one request per client before the first step */
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

/* What one run (one rate step) counted; zeroed before each. */
struct hb_counts {
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
	uint64_t tx_stamps;	   /* kernel TX stamps matched */
	uint64_t tx_stamp_missing; /* stamped requests answered before their TX stamp came */
	uint64_t rx_stamp_missing; /* replies without a kernel RX stamp */
	uint64_t mode[M_MAX];	   /* valid replies by mode */
	uint64_t xleave_stale;	   /* interleaved replies whose previous exchange we lost */
};

/* The capture's view of the replies (hb_capture.c). */
struct hb_cap {
	int fd; /* AF_PACKET socket, or -1 */
	uint64_t frames, replies, unmatched, no_stamp, kernel_drops;
	struct hb_moments mom[M_MAX]; /* arrival - T3 by mode, ns */
	struct bs_samples smp[M_MAX]; /* the same, for percentiles */
	uint64_t late[M_MAX];	      /* arrival before T3 */
	uint64_t xleave_unpaired;     /* interleaved replies whose previous reply was not seen */
};

struct hb_run {
	struct hb_opts o;
	struct hb_sock *socks;
	int epfd;
	struct hb_req *tab;
	uint64_t mask;
	uint64_t key;	   /* cookie mask, random per run */
	uint64_t mul_inv;  /* inverse of HB_COOKIE_MUL mod 2^64 */
	uint64_t next_seq; /* next request number (never reset: the table spans the steps) */
	uint64_t oldest;   /* every request below this is answered or lost */
	uint64_t inflight; /* well-formed requests neither answered nor lost */
	int next_sock;
	double mal_acc; /* malformed share accumulator */
	int next_kind;
	uint64_t mul_inv2;   /* inverse of HB_COOKIE_MUL2 mod 2^64 */
	uint64_t send_limit; /* requests this run may send at most (warm-up), 0 = no limit */
	struct hb_counts c;  /* what this run (step) saw; zeroed between steps */
	struct bs_samples rtt, res, off, off_x;
	int64_t t_start, t_stop, t_end;
	struct hb_nts *nts; /* --nts: sessions and the pool of sealed requests */
	struct hb_client *clients;
	int n_clients; /* clients of the run (sockets without --clients) */
	struct hb_cap cap;
	int step; /* index of the step being run (-1: warm-up) */
};

/* Wall-clock time now, ns Unix (CLOCK_REALTIME: comparable with the server's stamps). */
static inline int64_t hb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ns_from_timespec(&ts);
}

/* Cookie in the transmit field of request SEQ. */
static inline uint64_t hb_cookie(const struct hb_run *r, uint64_t seq)
{
	return (seq * HB_COOKIE_MUL) ^ r->key;
}

/* Cookie in the receive field of request SEQ (--xleave): the origin of an interleaved reply. */
static inline uint64_t hb_cookie2(const struct hb_run *r, uint64_t seq)
{
	return (seq * HB_COOKIE_MUL2) ^ ~r->key;
}

/* hb_req.c: the request table */

/*
 * Which request the origin ORG of a reply answers: its table entry, with
 * its mode in *MODE; NULL when ORG is no cookie of a request in the table.
 */
struct hb_req *hb_lookup(struct hb_run *r, uint64_t org, enum hb_mode *mode, uint64_t *seq);

/* Add X (ns) to M. */
void hb_mom_add(struct hb_moments *m, int64_t x);

/* Standard deviation of M in ns (0 with fewer than 2 values). */
double hb_mom_sd(const struct hb_moments *m);

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

/* hb_capture.c: the replies as the client's interface sees them */

/* Open the capture on R->o.capture; 0 or -1 (reported). */
int hb_cap_open(struct hb_run *r);

/* Read every frame the capture holds; returns the number read. */
int hb_cap_read(struct hb_run *r);

/* Add the frames the kernel dropped since the last call to R->cap.kernel_drops. */
void hb_cap_drops(struct hb_run *r);

/* Close the capture. */
void hb_cap_close(struct hb_run *r);

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
