/*
 * The guard on each interface (xguard_priv.h), for xguard.c: the
 * predecessor's link adopted or a new one attached, with the
 * device-bound copy of the program, which takes each answer's receive
 * time from the NIC's stamp (XDP RX metadata), where an interface has
 * `hwtimestamp` and the driver takes it; and the PHC offsets of those
 * interfaces, handed to the program at each publication.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/serve/xguard_priv.h"
#include "daemon/sys/log.h"

/*
 * Whether interface NAME (attached in MODE) gets the device-bound copy
 * of the program, which reads the NIC's receive stamps, when the guard
 * answers: it has `hwtimestamp` with a working PHC, in native or
 * automatic mode. The
 * test hook HOROD_TEST_GUARD_BOUND=IFACE[,IFACE...] (tests only: no
 * interface of the test machines has a PHC) asks for it on interfaces
 * without one; those answer with the kernel's receive time, as any
 * interface without a PHC offset does.
 */
static int xg_wants_bound(const char *name, int mode, int serve)
{
	const char *force = getenv("HOROD_TEST_GUARD_BOUND"), *p;
	size_t len = strlen(name);
	int i;

	if (!serve || mode == CFG_XDP_SKB)
		return 0;
	for (i = 0; xg.hw && i < xg.hw->n; i++)
		if (strcmp(xg.hw->ifs[i].name, name) == 0)
			return 1;
	for (p = force; p && (p = strstr(p, name)); p += len)
		if ((p == force || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
			return 1;
	return 0;
}

/*
 * Put the guard on interface I of C (answering with time: SERVE): swap
 * our program into the link a predecessor handed over for it (never a
 * moment unguarded; the link keeps the mode it was attached in), else
 * attach. The device-bound copy
 * where it is wanted (xg_wants_bound) and the driver takes it, the
 * ordinary program otherwise: either way said once. *BOUND says which.
 * 0 or -errno with WHY.
 */
int xg_attach_one(const struct horod_config *c, int i, int serve, int *got, int *bound, char *why,
		  size_t len)
{
	const char *name = c->guard.ifs[i].name;
	char whyb[XG_WHY_MAX];
	int k, ret, want = xg_wants_bound(name, (int)c->guard.ifs[i].mode, serve);

	*bound = 0;
	for (k = 0; k < xg_ho.n_links; k++) {
		if (xg_ho.link_fd[k] < 0 || strcmp(xg_ho.ifname[k], name) != 0)
			continue;
		ret = -EINVAL;
		if (want && xg_ho.mode[k] == GUARD_MODE_NATIVE)
			ret = guard_adopt_bound(xg.guard, xg_ho.link_fd[k], xg_ho.ifname[k], whyb,
						sizeof(whyb));
		else if (want)
			snprintf(whyb, sizeof(whyb), "the link taken over is in generic mode");
		*bound = ret == 0;
		if (ret < 0)
			ret = guard_adopt(xg.guard, xg_ho.link_fd[k], xg_ho.ifname[k],
					  xg_ho.mode[k], why, len);
		if (ret < 0)
			return ret;
		xg_ho.link_fd[k] = -1; /* the guard's now */
		*got = xg_ho.mode[k];
		if (c->guard.ifs[i].mode != CFG_XDP_AUTO && (int)c->guard.ifs[i].mode != *got)
			log_msg(LOG_WARNING,
				"guard: %s keeps the %s mode it had: a takeover cannot change the "
				"mode, a restart can",
				name, *got == GUARD_MODE_NATIVE ? "native" : "generic");
		break;
	}
	if (k == xg_ho.n_links) {
		ret = want ? guard_attach_bound(xg.guard, name, whyb, sizeof(whyb)) : -EINVAL;
		*bound = ret == 0;
		if (ret == 0)
			*got = GUARD_MODE_NATIVE;
		else
			ret = guard_attach(xg.guard, name, (int)c->guard.ifs[i].mode, got, why,
					   len);
		if (ret < 0)
			return ret;
	}
	if (*bound)
		log_msg(LOG_INFO,
			"guard: %s: device-bound program: answers take their receive time from "
			"the NIC's stamp (XDP RX metadata) while its PHC offset is known, else "
			"from the kernel's clock",
			name);
	else if (want)
		log_msg(LOG_WARNING,
			"guard: %s: no NIC receive stamps in XDP (%s): the ordinary program, "
			"receive times from the kernel's clock",
			name, whyb);
	return 0;
}

/* Add the `hwtimestamp` PHC offsets to PHC, each at its CLOCK_TAI instant (NOW: clocks read). */
void xg_hw_phc_add(struct guard_phc *phc, const struct guard_clocks *now)
{
	int i;

	for (i = 0; xg.hw && i < xg.hw->n; i++) {
		const struct hwts_if *h = &xg.hw->ifs[i];
		int64_t off = atomic_load_explicit(&h->offset_ns, memory_order_relaxed);
		int64_t at = atomic_load_explicit(&h->at_ns, memory_order_relaxed);

		guard_phc_add(phc, (uint32_t)h->ifindex,
			      off == HWTS_NO_OFFSET ? GUARD_PHC_NO_OFFSET : off,
			      (uint64_t)(now->tai_ns - (now->real_ns - at)));
	}
}
