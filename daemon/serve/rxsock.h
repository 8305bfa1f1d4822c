/*
 * Server sockets and their control messages: opening a listening UDP
 * socket with SO_REUSEPORT and receive timestamps (SO_TIMESTAMPING,
 * falling back to SO_TIMESTAMPNS; set up for the transmit stamps of
 * txstamp.h too), parsing the control messages of a
 * received datagram by (level, type, exact length), and the IP_PKTINFO /
 * IPV6_PKTINFO a reply from a wildcard socket needs to leave from the
 * address the request came to. Both I/O backends use this.
 */
#ifndef HOROD_DAEMON_RXSOCK_H
#define HOROD_DAEMON_RXSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "daemon/config/settings.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/hwts.h"

/*
 * Control buffer bytes a receive needs: SCM_TIMESTAMPING (64) plus
 * IPV6_PKTINFO (40) or IP_PKTINFO (32), rounded up with room to spare so
 * a timestamp is never cut (MSG_CTRUNC).
 */
#define RX_CMSG_SPACE 256
/* Control buffer bytes a reply needs: one IPV6_PKTINFO (the larger). */
#define RX_REPLY_CMSG_SPACE 64

/*
 * Socket receive buffer asked for, bytes (the kernel doubles it for its
 * overhead): ~1200 queued requests (~830 B of kernel memory each), enough
 * to ride out the 2-6 ms VM stalls up to ~200k requests/s, small enough
 * that overload costs ~5 ms of queueing before requests are dropped (4 MB
 * queued 40-100 ms: measured with bench/compare).
 */
#define RX_RCVBUF_BYTES (512 << 10)
/*
 * Receive buffer asked for while horod loads a BPF program under load (a
 * takeover's successor, a reload's new guard): on a kernel without
 * preemption (this machine's, PREEMPT_NONE) the load kept a CPU for up
 * to ~200 ms in kernel code, and the worker pinned there read nothing
 * meanwhile: its socket overflowed (measured: 85-3577 requests lost at
 * 20k/s in one takeover of five). 4 MB (8 MB in the kernel) holds ~10k
 * requests, a second at 10k/s per socket; back to RX_RCVBUF_BYTES after.
 */
#define RX_RCVBUF_LOAD_BYTES (4 << 20)

/*
 * Where send sockets are bound (rx_send_open), at their listen address's
 * port: 0.0.0.1, in 0.0.0.0/8, which the kernel never accepts as an
 * input packet's destination (a martian), and 100::1, in the IPv6
 * discard-only prefix 100::/64 (RFC 6666), never assigned to a host.
 */
#define RX_SEND_ADDR4 0x00000001u
#define RX_SEND_ADDR6 "100::1"

/* Timestamping mode a socket got. */
enum rx_tsmode { RX_TS_TIMESTAMPING, RX_TS_TIMESTAMPNS, RX_TS_NONE };

struct rx_sock {
	int fd;
	int tx_fd;    /* the send socket (rx_send_open), or -1: replies leave from fd */
	int family;   /* AF_INET or AF_INET6 */
	int wildcard; /* bound to 0.0.0.0 or ::: replies carry PKTINFO */
	int pktinfo;  /* PKTINFO requested (wildcard, or hardware stamps need the ifindex) */
	enum rx_tsmode ts;
	struct sockaddr_storage
		local; /* the address bound (a send socket's replies leave from it) */
};

/* What the control messages of one datagram said. */
struct rx_meta {
	struct timespec rx;	 /* receive time (raw clock) */
	enum ctr_tsrc src;	 /* where rx came from; CTR_TS_DAEMON when no stamp */
	int ifindex;		 /* interface the datagram came in on (from PKTINFO), or 0 */
	int have_pktinfo;	 /* dst4 / dst6 valid */
	struct in_pktinfo dst4;	 /* local address and interface (IPv4) */
	struct in6_pktinfo dst6; /* local address and interface (IPv6) */
};

/*
 * Open a UDP socket bound to ADDR with SO_REUSEPORT, timestamps (raw
 * hardware too when HW), PKTINFO on wildcards or with HW, and a large
 * receive buffer. 0, or -1 with the reason in ERR.
 */
int rx_socket_open(const struct sockaddr *addr, socklen_t addrlen, int hw, struct rx_sock *out,
		   char *err, size_t errlen);

/*
 * Serve from FD, a socket a predecessor handed over (with whatever it has
 * queued): it must be a UDP socket bound to ADDR; it gets the options of
 * rx_socket_open that can still be set (receive buffer, timestamps, HW,
 * PKTINFO), non-blocking and close-on-exec. 0, or -1 with the reason in
 * ERR (FD is left to the caller).
 */
int rx_socket_adopt(int fd, const struct sockaddr *addr, int hw, struct rx_sock *out, char *err,
		    size_t errlen);

/*
 * Open S's send socket (S->tx_fd): replies and their transmit stamps go
 * through a socket nobody waits on. A worker's receive socket always has
 * a waiter (io_uring's multishot receive keeps its poll entry on the
 * socket), and every transmit stamp the kernel queues on a socket's error
 * queue wakes its waiters, inside the send, between the stamp and the
 * frame's delivery: measured on a veth (bench/compare --precision), the
 * kernel stamp to the client's arrival took 0.3 us longer than from a
 * socket without waiters. The send socket is bound with IP_FREEBIND to
 * RX_SEND_ADDR4 / RX_SEND_ADDR6 at S's port: an address that is never
 * local, so no datagram can ever be delivered to it (a drop-all filter
 * besides), and every reply names its source address (PKTINFO, from the
 * request or S's own address), so it leaves from the address and port
 * the request came to. Its error queue is charged to its own receive
 * buffer, not to the requests'. 0, or -1 with the reason in ERR (S then
 * sends from its receive socket).
 */
int rx_send_open(struct rx_sock *s, int hw, char *err, size_t errlen);

/* Close S's receive socket and its send socket. */
void rx_socket_close(struct rx_sock *s);

/* The descriptor S's replies leave from. */
static inline int rx_send_fd(const struct rx_sock *s)
{
	return s->tx_fd >= 0 ? s->tx_fd : s->fd;
}

/* Ask BYTES of receive buffer for FD (forced past rmem_max when allowed); 0 or -1. */
int rx_socket_rcvbuf(int fd, int bytes);

/*
 * Parse the control messages of MSG (msg_control, msg_controllen,
 * msg_flags) into META, taking a hardware stamp when HW (may be NULL) can
 * convert it for the receiving interface, else the kernel's software
 * stamp. A missing stamp leaves META->src at CTR_TS_DAEMON for the caller
 * to fill in; returns -1 when MSG_CTRUNC says the control data was cut
 * (whatever was parsed is still usable).
 */
int rx_parse_cmsgs(struct msghdr *msg, struct rx_meta *meta, const struct hwts_table *hw);

/*
 * Write into BUF (RX_REPLY_CMSG_SPACE bytes) the PKTINFO that makes a reply
 * leave from META's destination address (a wildcard socket's) or S's own
 * address (from a send socket); returns the control length or 0.
 */
size_t rx_reply_cmsg(const struct rx_sock *s, const struct rx_meta *meta, void *buf);

/*
 * Attach (ON) or detach the overload filter of FD: a classic BPF socket
 * filter that makes the kernel drop, before the socket's queue, the
 * datagrams the serving ladder would drop first for their first byte and
 * length alone: empty, a version outside 1-4, modes 0, 2, 4, 5 and 7, and
 * mode 1 or 3 under 48 bytes (ntp_classify's drop_short, drop_length of
 * those, drop_version and the drop_mode_* reasons). Everything else (mode
 * 6, and mode 1 and 3 of 48 bytes or more) still reaches the ladder. A
 * worker attaches it while it is behind (wk_uring.c): each malformed
 * datagram then costs the kernel's receive path up to the socket only,
 * not a queue slot, a wake-up, a copy to horod and its release; the
 * kernel counts what it drops with the socket's other drops
 * (rx_socket_drops). 0, or -1 with errno.
 */
int rx_overload_filter(int fd, int on);

/*
 * The datagrams the kernel dropped on their way into FD since it was
 * opened (SO_MEMINFO's SK_MEMINFO_DROPS: a full receive buffer, or the
 * overload filter), into *DROPS. 0, or -1 with errno.
 */
int rx_socket_drops(int fd, uint32_t *drops);

/*
 * The overload filter goes on at the end of a load window (10 ms, the
 * worker's) that found the worker behind and its sockets overflowing (the
 * kernel already drops what it cannot queue, uncounted by reason), and
 * off after this many windows in a row not behind (at least 100 ms): a
 * burst that a receive buffer holds never turns it on, so below
 * saturation every malformed request is counted by its reason; at
 * saturation it stays on.
 */
#define RX_FILTER_CALM 10 /* load windows */

/* A worker's overload state over its sockets (zeroed, then rx_overload_start). */
struct rx_overload {
	int filtered;			/* the filter is on its sockets */
	unsigned calm;			/* windows in a row not behind, up to RX_FILTER_CALM */
	uint32_t drops[CFG_MAX_LISTEN]; /* each socket's kernel drop count, last read */
};

/* Take the N sockets' drop counts so far (an adopted socket's are not ours) into O. */
void rx_overload_start(struct rx_overload *o, const struct rx_sock *socks, int n);

/*
 * End of a load window: read what the kernel dropped on the N sockets
 * since the last window, turn the filter on or off by BEHIND (see
 * RX_FILTER_CALM); returns the drops. A socket that refuses the filter
 * goes without.
 */
uint64_t rx_overload_window(struct rx_overload *o, const struct rx_sock *socks, int n, int behind);

/* Take the filter off the N sockets (a successor may read them). */
void rx_overload_stop(struct rx_overload *o, const struct rx_sock *socks, int n);

#endif
