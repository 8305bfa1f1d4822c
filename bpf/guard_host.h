/*
 * Keeping the XDP program's view of the host (struct guard_host: the
 * attached interfaces' MAC addresses and the local unicast addresses)
 * current from rtnetlink. The socket is opened, subscribed and the
 * current state dumped at start, while horod is still root and before
 * its sandbox; afterwards the clock thread drains the changes the kernel
 * queued, without blocking, before each publication (at least once a
 * second), with recvmsg alone. When the kernel dropped notifications
 * (the socket's buffer overflowed), the table is emptied and dumped again:
 * until then the program answers nothing it does not know.
 */
#ifndef HOROD_BPF_GUARD_HOST_H
#define HOROD_BPF_GUARD_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/guard_layout.h"

/* An rtnetlink listener for one host table. */
struct guard_host_nl;

/*
 * Open the listener for the interfaces IFINDEX[0..N-1] (the attached
 * ones) and fill H with their MAC addresses and every local address; 0,
 * or -errno with the reason in WHY.
 */
int guard_host_open(struct guard_host_nl **out, const uint32_t *ifindex, int n,
		    struct guard_host *h, char *why, size_t whylen);

/* Apply what changed since the last call to H, without blocking; 1 if H changed, 0, -errno. */
int guard_host_poll(struct guard_host_nl *nl, struct guard_host *h);

/* Close the listener. NULL is fine. */
void guard_host_close(struct guard_host_nl *nl);

#endif
