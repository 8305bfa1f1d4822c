/*
 * What horod publishes into the running XDP program: user space's side
 * of guard_layout.h's struct guard_state. The clock thread turns each
 * clock snapshot into what the program needs to answer a client request
 * (struct guard_serve), keeps the table of the host's interfaces and
 * addresses (struct guard_host, from bpf/guard_host.c), and stores both
 * with a seqcount, in the idiom of the snapshot's own publication
 * (clock/snapshot.c): C11 atomics, relaxed stores of 64-bit words between
 * an odd and an even sequence number, a comment on every fence. The BPF
 * reader is bpf/guard_answer.h.
 */
#ifndef HOROD_BPF_GUARD_PUB_H
#define HOROD_BPF_GUARD_PUB_H

#include <stdatomic.h>
#include <stdint.h>

#include "bpf/guard_layout.h"
#include "clock/snapshot.h"

/* User space's view of the program's struct guard_state: the same bytes, as atomics. */
struct guard_state_pub {
	_Atomic uint32_t seq;
	uint32_t pad;
	_Atomic uint64_t words[GUARD_STATE_WORDS];
};

_Static_assert(sizeof(struct guard_state_pub) == sizeof(struct guard_state),
	       "the atomic view must have the program's layout");

/* One instant on the two clocks a publication relates (ns since their epochs). */
struct guard_clocks {
	int64_t tai_ns;	 /* CLOCK_TAI: the program's clock */
	int64_t real_ns; /* CLOCK_REALTIME: the served clock (the kernel driver's) */
};

/* Read both clocks now: CLOCK_TAI bracketing CLOCK_REALTIME, the tightest of a few tries. */
void guard_clocks_read(struct guard_clocks *out);

/*
 * The serving state for snapshot S published at instant NOW: `on` only
 * for the system clock as it is (no correction, no leap second
 * announced), the root dispersion grown to NOW as the workers grow it,
 * rounded up, and the maximum for a NaN or infinite one or rate (a
 * negative rate counts as 0: XDP never advertises less than a worker).
 */
void guard_serve_fill(struct guard_serve *out, const struct clk_snapshot *s,
		      const struct guard_clocks *now);

/* Store SERVE, HOST and PHC (NULL: none) into P with the seqcount (one writer at a time). */
void guard_state_store(struct guard_state_pub *p, const struct guard_serve *serve,
		       const struct guard_host *host, const struct guard_phc *phc);

/* Empty P: no PHC (the program then takes every receive time from the kernel's clock). */
void guard_phc_init(struct guard_phc *p);

/*
 * Add interface IFINDEX's PHC offset OFF_NS (CLOCK_REALTIME - PHC, or
 * GUARD_PHC_NO_OFFSET), measured at CLOCK_TAI AT_TAI_NS; 0, or -1 when full.
 */
int guard_phc_add(struct guard_phc *p, uint32_t ifindex, int64_t off_ns, uint64_t at_tai_ns);

/*
 * The receive time, CLOCK_REALTIME ns, of a NIC stamp HW_NS (PHC ns) on
 * a PHC whose offset is OFF_NS, measured AT_TAI_NS, for a frame the
 * program started on at RX_TAI_NS, with TAI_TO_REAL_NS between the
 * clocks: HW_NS + OFF_NS into *OUT and 0, or -1 when it may not be used
 * (no stamp, unknown or stale offset, outside GUARD_HW_RX_WINDOW_NS).
 * The program's arithmetic (bpf/guard_answer.h), for the tests.
 */
int guard_hw_rx_real(uint64_t hw_ns, int64_t off_ns, uint64_t at_tai_ns, uint64_t rx_tai_ns,
		     int64_t tai_to_real_ns, uint64_t *out);

/* Empty H: no interface, no address (the program then answers nothing). */
void guard_host_init(struct guard_host *h);

/* Set the MAC address of interface IFINDEX, adding it; 0, or -1 when the table is full. */
int guard_host_set_if(struct guard_host *h, uint32_t ifindex, const uint8_t mac[6]);

/* Remove interface IFINDEX (and nothing else) from H. */
void guard_host_del_if(struct guard_host *h, uint32_t ifindex);

/*
 * Add the local address ADDR (FAMILY GUARD_FAMILY_V4: 4 bytes, _V6: 16,
 * network byte order) of interface IFINDEX; 0, 1 when already there, -1
 * when the family's table is full (the address is then not answered).
 * An IPv4 address is local whatever the interface a request comes in
 * through (Linux's weak host model); an IPv6 link-local one only on its
 * own interface.
 */
int guard_host_add(struct guard_host *h, int family, const uint8_t *addr, uint32_t ifindex);

/* Remove ADDR of interface IFINDEX from H; 1 when it was there, else 0. */
int guard_host_del(struct guard_host *h, int family, const uint8_t *addr, uint32_t ifindex);

#endif
