/*
 * The XDP guard's loader: open the skeleton, write the configuration into
 * its read-only data, load (the verifier runs here), fill the access-list
 * tries, attach to interfaces through BPF links, pin the maps. The guard
 * remembers each thing it did — a link per interface, each pinned file,
 * a directory it made, a bpffs it mounted — and guard_close() undoes
 * exactly those, in reverse, so a second horod or an administrator's own
 * XDP program is never touched. libbpf's messages go to the same log as
 * the loader's, at debug level: on failure the caller logs one line with
 * the reason the loader returns.
 *
 * Reading pinned maps back (horoctl) is guard_read.c, which needs none of
 * this.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "proto/nstime.h"
/* The generated skeleton casts its embedded object's constness away. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "guard.skel.h"
#pragma GCC diagnostic pop

#define BPF_FS_MAGIC 0xcafe4a11	   /* statfs f_type of bpffs (linux/magic.h) */
#define SYS_BPF_DIR  "/sys/fs/bpf" /* the conventional bpffs mount point */
#define LOG_BUF	     512	   /* bytes: a libbpf message that fits needs no allocation */
#define LOG_MAX	     65536	   /* bytes: the tail of a longer message (verifier log) kept */
#ifndef BPF_TCX_EGRESS
/* Linux 6.6 (uapi/linux/bpf.h enum bpf_attach_type): a tcx egress link; not in 6.1's headers */
#define BPF_TCX_EGRESS 47
#endif
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
/* Linux 6.3 (uapi/linux/bpf.h): a device-bound, not offloaded, program; not in 6.1's headers */
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

/* The maps pinned, in order (the info map last: it describes the others). */
static const char *const guard_pinned_maps[] = {
	GUARD_PIN_COUNTERS, GUARD_PIN_TALKERS, "ratelimit",    "allow4", "allow6", "deny4", "deny6",
	"control4",	    "control6",	       GUARD_PIN_INFO,
};
#define GUARD_NPINS ((int)(sizeof(guard_pinned_maps) / sizeof(guard_pinned_maps[0])))

/* The maps whose contents a restart or a takeover keeps (enum guard_state_map). */
static const char *const guard_state_maps[GUARD_NSTATE] = {
	[GUARD_SM_COUNTERS] = GUARD_PIN_COUNTERS,
	[GUARD_SM_TALKERS] = GUARD_PIN_TALKERS,
	[GUARD_SM_RATELIMIT] = "ratelimit",
};
struct guard {
	struct guard_bpf *skel;
	struct guard_config cfg;
	int n_links;
	int link_fd[GUARD_MAX_IFACES];
	int ifindex[GUARD_MAX_IFACES];
	int mode[GUARD_MAX_IFACES];
	char ifname[GUARD_MAX_IFACES][GUARD_IFNAME_MAX];
	struct guard_bpf *bound[GUARD_MAX_IFACES]; /* link I's device-bound object, or NULL */
	int n_egress;
	int egress_fd[GUARD_MAX_IFACES]; /* tcx egress links (guard_attach_egress) */
	uint64_t start_ns;
	char pin_dir[PATH_MAX];
	int pinned[GUARD_NPINS]; /* 1 = this guard made the file */
	int made_dir;		 /* mkdir'ed pin_dir */
	int mounted;		 /* mounted a bpffs on pin_dir */
	int keep_state;	  /* leave the state maps pinned (and their bpffs mounted) at close */
	int inherit_pins; /* existing pins are a predecessor's: renewed quietly */
};

static guard_log_fn guard_log;

void guard_set_log(guard_log_fn fn)
{
	guard_log = fn;
}

/*
 * libbpf's messages, one log line per line of text, at debug level (the
 * caller reports a failure in one line of its own). A verifier log can
 * run to megabytes: its last LOG_MAX bytes, where the error is, are kept.
 */
static int guard_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char small[LOG_BUF], *buf = small, *line, *nl;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= (int)sizeof(small)) {
		buf = malloc((size_t)n + 1);
		if (buf)
			vsnprintf(buf, (size_t)n + 1, fmt, ap2);
		else
			buf = small;
	}
	va_end(ap2);
	line = buf;
	if (buf != small && n > LOG_MAX) {
		line = buf + n - LOG_MAX;
		nl = strchr(line, '\n');
		line = nl ? nl + 1 : line;
	}
	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line) {
			if (guard_log)
				guard_log(LOG_DEBUG, "%s", line);
			else if (level == LIBBPF_WARN)
				fprintf(stderr, "%s\n", line);
		}
		if (!nl)
			break;
	}
	if (buf != small)
		free(buf);
	return 0;
}

static int guard_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Write `what: strerror(-RET)` into ERR and return RET (a negative errno). */
static int guard_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ret >= 0)
		ret = -EINVAL;
	if (err && errlen) {
		va_start(ap, fmt);
		n = vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < errlen)
			snprintf(err + n, errlen - (size_t)n, ": %s", strerror(-ret));
	}
	return ret;
}

static uint64_t guard_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ns_from_timespec(&ts);
}

const char *guard_state_map_name(int i)
{
	return i >= 0 && i < GUARD_NSTATE ? guard_state_maps[i] : "unknown";
}

/* 1 when the map FD has the layout M is declared with in this build. */
static int guard_same_layout(const struct bpf_map *m, int fd)
{
	struct bpf_map_info mi;
	uint32_t len = sizeof(mi);

	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return 0;
	return mi.type == (uint32_t)bpf_map__type(m) && mi.key_size == bpf_map__key_size(m) &&
	       mi.value_size == bpf_map__value_size(m) &&
	       mi.max_entries == bpf_map__max_entries(m) && mi.map_flags == bpf_map__map_flags(m);
}
int guard_open(struct guard **out, const struct guard_config *cfg, char *err, size_t errlen)
{
	return guard_open_reuse(out, cfg, NULL, NULL, err, errlen);
}

int guard_open_reuse(struct guard **out, const struct guard_config *cfg, const int *reuse,
		     unsigned int *reused, char *err, size_t errlen)
{
	struct bpf_map *m;
	struct guard *g;
	int ret, i;

	*out = NULL;
	libbpf_set_print(guard_libbpf_print);
	g = calloc(1, sizeof(*g));
	if (!g)
		return guard_fail(err, errlen, -ENOMEM, "guard");
	for (i = 0; i < GUARD_MAX_IFACES; i++)
		g->link_fd[i] = -1;
	g->cfg = *cfg;
	g->skel = guard_bpf__open();
	if (!g->skel) {
		ret = -errno;
		free(g);
		return guard_fail(err, errlen, ret, "open");
	}
	g->skel->rodata->guard_cfg = *cfg;
	/* The device-bound copy is loaded per device (guard_attach_bound), never here. */
	bpf_program__set_autoload(g->skel->progs.guard_xdp_hw, false);
	if (reused)
		*reused = 0;
	for (i = 0; reuse && i < GUARD_NSTATE; i++) {
		m = bpf_object__find_map_by_name(g->skel->obj, guard_state_maps[i]);
		if (reuse[i] < 0 || !m)
			continue;
		if (!guard_same_layout(m, reuse[i])) {
			if (guard_log)
				guard_log(LOG_WARNING,
					  "guard: the %s map handed over has another layout "
					  "(another horod version): starting it afresh",
					  guard_state_maps[i]);
			continue;
		}
		ret = bpf_map__reuse_fd(m, reuse[i]);
		if (ret) {
			guard_bpf__destroy(g->skel);
			free(g);
			return guard_fail(err, errlen, ret, "reuse the %s map",
					  guard_state_maps[i]);
		}
		if (reused)
			*reused |= 1u << i;
	}
	ret = guard_bpf__load(g->skel);
	if (ret) {
		guard_bpf__destroy(g->skel);
		free(g);
		return guard_fail(err, errlen, ret, "load");
	}
	*out = g;
	return 0;
}

int guard_add_rule(struct guard *g, enum guard_list list, int family, const uint8_t *addr,
		   unsigned int plen, char *err, size_t errlen)
{
	struct guard_lpm4 k4 = {0};
	struct guard_lpm6 k6 = {0};
	struct bpf_map *m;
	uint8_t one = 1;
	int ret;

	if (family == GUARD_FAMILY_V4 && plen <= 32) {
		m = list == GUARD_LIST_ALLOW  ? g->skel->maps.allow4
		    : list == GUARD_LIST_DENY ? g->skel->maps.deny4
					      : g->skel->maps.control4;
		k4.prefixlen = plen;
		memcpy(k4.addr, addr, 4);
		ret = bpf_map__update_elem(m, &k4, sizeof(k4), &one, sizeof(one), BPF_ANY);
	} else if (family == GUARD_FAMILY_V6 && plen <= 128) {
		m = list == GUARD_LIST_ALLOW  ? g->skel->maps.allow6
		    : list == GUARD_LIST_DENY ? g->skel->maps.deny6
					      : g->skel->maps.control6;
		k6.prefixlen = plen;
		memcpy(k6.addr, addr, 16);
		ret = bpf_map__update_elem(m, &k6, sizeof(k6), &one, sizeof(one), BPF_ANY);
	} else {
		return guard_fail(err, errlen, -EINVAL, "access-list rule family %d /%u", family,
				  plen);
	}
	if (ret)
		return guard_fail(err, errlen, ret, "access-list rule /%u", plen);
	return 0;
}

/* Write what this guard loaded and attached into the info map. */
static void guard_write_info(struct guard *g)
{
	struct guard_info gi;
	uint32_t key = 0;
	int i;

	memset(&gi, 0, sizeof(gi));
	gi.layout = GUARD_LAYOUT;
	gi.ncounters = GUARD_NCOUNTERS;
	gi.n_ifaces = (uint32_t)g->n_links;
	gi.pid = (uint32_t)getpid();
	gi.start_ns = g->start_ns;
	for (i = 0; i < g->n_links; i++) {
		gi.ifindex[i] = (uint32_t)g->ifindex[i];
		gi.mode[i] = (uint32_t)g->mode[i] | (g->bound[i] ? GUARD_MODE_F_BOUND : 0);
		memcpy(gi.ifname[i], g->ifname[i], GUARD_IFNAME_MAX);
	}
	gi.cfg = g->cfg;
	bpf_map__update_elem(g->skel->maps.info, &key, sizeof(key), &gi, sizeof(gi), BPF_ANY);
}

/* Attach the program to IFINDEX with XDP FLAGS through a BPF link; fd or -errno. */
static int guard_link(struct guard *g, int ifindex, uint32_t flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = flags);
	int fd = bpf_link_create(bpf_program__fd(g->skel->progs.guard_xdp), ifindex, BPF_XDP, &o);

	return fd < 0 ? -errno : fd;
}

/*
 * The index of interface IFNAME, one more for G to hold (VERB names the
 * caller in the error), or a negative errno with ERR set: too many, a
 * name too long, no such interface, or one G holds already.
 */
static int guard_new_iface(const struct guard *g, const char *ifname, const char *verb, char *err,
			   size_t errlen)
{
	int ifindex, i;

	if (g->n_links >= GUARD_MAX_IFACES)
		return guard_fail(err, errlen, -ENOSPC, "%s %s: more than %d interfaces", verb,
				  ifname, GUARD_MAX_IFACES);
	if (strlen(ifname) >= GUARD_IFNAME_MAX)
		return guard_fail(err, errlen, -EINVAL, "%s: interface name too long", verb);
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return guard_fail(err, errlen, -errno, "%s %s", verb, ifname);
	for (i = 0; i < g->n_links; i++)
		if (g->ifindex[i] == ifindex)
			return guard_fail(err, errlen, -EEXIST, "%s %s", verb, ifname);
	return ifindex;
}

int guard_attach(struct guard *g, const char *ifname, int mode, int *got, char *err, size_t errlen)
{
	int ifindex, fd, i;

	ifindex = guard_new_iface(g, ifname, "attach", err, errlen);
	if (ifindex < 0)
		return ifindex;
	if (mode == GUARD_MODE_SKB) {
		fd = guard_link(g, ifindex, XDP_FLAGS_SKB_MODE);
	} else {
		fd = guard_link(g, ifindex, XDP_FLAGS_DRV_MODE);
		if (fd < 0 && mode == GUARD_MODE_AUTO) {
			if (guard_log)
				guard_log(LOG_DEBUG,
					  "guard: %s: no native XDP (%s), trying generic", ifname,
					  strerror(-fd));
			fd = guard_link(g, ifindex, XDP_FLAGS_SKB_MODE);
			mode = GUARD_MODE_SKB;
		} else {
			mode = GUARD_MODE_NATIVE;
		}
	}
	if (fd < 0)
		return guard_fail(err, errlen, fd, "attach %s in %s mode", ifname,
				  mode == GUARD_MODE_SKB ? "generic (skb)" : "native");
	i = g->n_links++;
	g->link_fd[i] = fd;
	g->ifindex[i] = ifindex;
	g->mode[i] = mode;
	snprintf(g->ifname[i], GUARD_IFNAME_MAX, "%s", ifname);
	if (!g->start_ns)
		g->start_ns = guard_mono_ns();
	if (got)
		*got = mode;
	guard_write_info(g);
	return 0;
}

/* Swap PROG_FD into the XDP link LINK_FD on IFINDEX and hold it (below). */
static int guard_adopt_prog(struct guard *g, int link_fd, const char *ifname, int ifindex, int mode,
			    int prog_fd, char *err, size_t errlen);

/*
 * Load the program once more, bound to device IFINDEX (XDP RX metadata:
 * the driver's receive-stamp kfunc), sharing every map of G's object —
 * the counters, tables and tries, and the .bss the clock thread
 * publishes into, so that one publication serves every program — and
 * with G's configuration plus GUARD_F_HWRX in its own read-only data.
 * 0 with *OUT, or -errno with ERR (the driver has no metadata ops, a
 * kernel before 6.3): nothing is left behind.
 */
static int guard_bound_load(struct guard *g, int ifindex, const char *ifname,
			    struct guard_bpf **out, char *err, size_t errlen)
{
	struct guard_bpf *b;
	struct bpf_map *m, *mine;
	struct bpf_program *p;
	int ret;

	*out = NULL;
	b = guard_bpf__open();
	if (!b)
		return guard_fail(err, errlen, -errno, "device-bound program for %s: open", ifname);
	b->rodata->guard_cfg = g->cfg;
	b->rodata->guard_cfg.flags |= GUARD_F_HWRX;
	bpf_object__for_each_map(m, b->obj)
	{
		/* Its own configuration; every other map, .bss included, is G's. */
		if (m == b->maps.rodata)
			continue;
		mine = bpf_object__find_map_by_name(g->skel->obj, bpf_map__name(m));
		ret = mine ? bpf_map__reuse_fd(m, bpf_map__fd(mine)) : -ENOENT;
		if (ret) {
			guard_bpf__destroy(b);
			return guard_fail(err, errlen, ret, "device-bound program for %s: map %s",
					  ifname, bpf_map__name(m));
		}
	}
	bpf_program__set_autoload(b->progs.guard_pass, false);
	bpf_program__set_autoload(b->progs.guard_xdp, false);
	bpf_program__set_autoload(b->progs.guard_egress, false);
	p = b->progs.guard_xdp_hw;
	bpf_program__set_ifindex(p, (__u32)ifindex);
	bpf_program__set_flags(p, bpf_program__flags(p) | BPF_F_XDP_DEV_BOUND_ONLY);
	ret = guard_bpf__load(b);
	if (ret) {
		guard_bpf__destroy(b);
		return guard_fail(err, errlen, ret, "device-bound program for %s: load", ifname);
	}
	*out = b;
	return 0;
}

int guard_attach_bound(struct guard *g, const char *ifname, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_DRV_MODE);
	struct guard_bpf *b;
	int ifindex, fd, i, ret;

	ifindex = guard_new_iface(g, ifname, "attach", err, errlen);
	if (ifindex < 0)
		return ifindex;
	ret = guard_bound_load(g, ifindex, ifname, &b, err, errlen);
	if (ret < 0)
		return ret;
	/* Native mode only: generic XDP has no driver metadata. */
	fd = bpf_link_create(bpf_program__fd(b->progs.guard_xdp_hw), ifindex, BPF_XDP, &o);
	if (fd < 0) {
		ret = -errno;
		guard_bpf__destroy(b);
		return guard_fail(err, errlen, ret, "attach the device-bound program to %s",
				  ifname);
	}
	i = g->n_links++;
	g->link_fd[i] = fd;
	g->ifindex[i] = ifindex;
	g->mode[i] = GUARD_MODE_NATIVE;
	g->bound[i] = b;
	snprintf(g->ifname[i], GUARD_IFNAME_MAX, "%s", ifname);
	if (!g->start_ns)
		g->start_ns = guard_mono_ns();
	guard_write_info(g);
	return 0;
}

int guard_adopt_bound(struct guard *g, int link_fd, const char *ifname, char *err, size_t errlen)
{
	struct guard_bpf *b;
	int ifindex, ret;

	ifindex = guard_new_iface(g, ifname, "adopt", err, errlen);
	if (ifindex < 0)
		return ifindex;
	ret = guard_bound_load(g, ifindex, ifname, &b, err, errlen);
	if (ret < 0)
		return ret;
	ret = guard_adopt_prog(g, link_fd, ifname, ifindex, GUARD_MODE_NATIVE,
			       bpf_program__fd(b->progs.guard_xdp_hw), err, errlen);
	if (ret < 0) {
		guard_bpf__destroy(b);
		return ret;
	}
	g->bound[g->n_links - 1] = b;
	guard_write_info(g); /* again, with the device-bound flag */
	return 0;
}

int guard_link_bound(const struct guard *g, int i)
{
	return g && i >= 0 && i < g->n_links && g->bound[i];
}

int guard_link_prog_fd(const struct guard *g, int i)
{
	if (!g || i < 0 || i >= g->n_links)
		return -1;
	return g->bound[i] ? bpf_program__fd(g->bound[i]->progs.guard_xdp_hw)
			   : bpf_program__fd(g->skel->progs.guard_xdp);
}

int guard_adopt(struct guard *g, int link_fd, const char *ifname, int mode, char *err,
		size_t errlen)
{
	int ifindex = guard_new_iface(g, ifname, "adopt", err, errlen);

	if (ifindex < 0)
		return ifindex;
	return guard_adopt_prog(g, link_fd, ifname, ifindex, mode,
				bpf_program__fd(g->skel->progs.guard_xdp), err, errlen);
}

/*
 * Swap PROG_FD into LINK_FD (an XDP link on IFINDEX, IFNAME, attached in
 * MODE) and hold the link as G's next; 0, or -errno with ERR.
 */
static int guard_adopt_prog(struct guard *g, int link_fd, const char *ifname, int ifindex, int mode,
			    int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_update_opts, o);
	struct bpf_link_info li;
	uint32_t len = sizeof(li);
	int i;

	/* Only an XDP link on that very interface: the descriptor came from another process. */
	memset(&li, 0, sizeof(li));
	if (bpf_obj_get_info_by_fd(link_fd, &li, &len) < 0)
		return guard_fail(err, errlen, -errno, "adopt %s: link", ifname);
	if (li.type != BPF_LINK_TYPE_XDP || (int)li.xdp.ifindex != ifindex)
		return guard_fail(err, errlen, -EINVAL, "adopt %s: not an XDP link on it", ifname);
	if (bpf_link_update(link_fd, prog_fd, &o) < 0)
		return guard_fail(err, errlen, -errno, "adopt %s: replace the program", ifname);
	i = g->n_links++;
	g->link_fd[i] = link_fd;
	g->ifindex[i] = ifindex;
	g->mode[i] = mode == GUARD_MODE_SKB ? GUARD_MODE_SKB : GUARD_MODE_NATIVE;
	snprintf(g->ifname[i], GUARD_IFNAME_MAX, "%s", ifname);
	if (!g->start_ns)
		g->start_ns = guard_mono_ns();
	guard_write_info(g);
	return 0;
}

int guard_n_links(const struct guard *g)
{
	return g ? g->n_links : 0;
}

int guard_link_info(const struct guard *g, int i, const char **ifname, int *mode)
{
	if (!g || i < 0 || i >= g->n_links)
		return -1;
	*ifname = g->ifname[i];
	*mode = g->mode[i];
	return 0;
}

int guard_link_fd(const struct guard *g, int i)
{
	return g && i >= 0 && i < g->n_links ? g->link_fd[i] : -1;
}

void guard_keep_state_pins(struct guard *g, int keep)
{
	g->keep_state = keep;
}

/* 1 when pinned map I (guard_pinned_maps) is a state map. */
static int guard_is_state(int i)
{
	int k;

	for (k = 0; k < GUARD_NSTATE; k++)
		if (strcmp(guard_pinned_maps[i], guard_state_maps[k]) == 0)
			return 1;
	return 0;
}

/* 1 when PATH is on a bpffs, 0 when on something else, -errno when it cannot be seen. */
static int guard_is_bpffs(const char *path)
{
	struct statfs s;

	if (statfs(path, &s) < 0)
		return -errno;
	return s.f_type == (typeof(s.f_type))BPF_FS_MAGIC;
}

/*
 * Make DIR a directory on a bpffs: it is one already; or its parent is
 * and DIR is created; or DIR is under /sys/fs/bpf, which gets the usual
 * bpffs mounted (and left mounted: it is the system's); or DIR gets a
 * bpffs of its own (created and mounted here, removed by guard_close).
 */
static int guard_bpffs_dir(struct guard *g, const char *dir, char *err, size_t errlen)
{
	char parent[PATH_MAX], *slash;
	int r;

	r = guard_is_bpffs(dir);
	if (r == 1)
		return 0;
	if (r < 0 && r != -ENOENT)
		return guard_fail(err, errlen, r, "pin directory %s", dir);
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), "/");
	if (r == -ENOENT && strcmp(parent, SYS_BPF_DIR) == 0 && guard_is_bpffs(parent) == 0) {
		if (mount("bpf", SYS_BPF_DIR, "bpf", 0, "mode=0700") < 0)
			return guard_fail(err, errlen, -errno, "mount bpffs on %s", SYS_BPF_DIR);
		if (guard_log)
			guard_log(LOG_INFO, "guard: mounted bpffs on %s", SYS_BPF_DIR);
	}
	if (r == -ENOENT) {
		if (mkdir(dir, 0700) < 0)
			return guard_fail(err, errlen, -errno, "mkdir %s", dir);
		g->made_dir = 1;
		if (guard_is_bpffs(dir) == 1)
			return 0;
	}
	if (mount("bpf", dir, "bpf", 0, "mode=0700") < 0)
		return guard_fail(err, errlen, -errno, "mount bpffs on %s", dir);
	g->mounted = 1;
	if (guard_log)
		guard_log(LOG_INFO, "guard: mounted bpffs on %s", dir);
	return 0;
}

int guard_pin(struct guard *g, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int i, ret;

	if (g->pin_dir[0])
		return guard_fail(err, errlen, -EALREADY, "pin %s", dir);
	if (strlen(dir) + 16 >= sizeof(path) || dir[0] != '/')
		return guard_fail(err, errlen, -EINVAL, "pin directory '%s'", dir);
	snprintf(g->pin_dir, sizeof(g->pin_dir), "%s", dir);
	ret = guard_bpffs_dir(g, dir, err, errlen);
	if (ret < 0)
		return ret;
	for (i = 0; i < GUARD_NPINS; i++) {
		m = bpf_object__find_map_by_name(g->skel->obj, guard_pinned_maps[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, guard_pinned_maps[i]);
		if (!m)
			return guard_fail(err, errlen, -ENOENT, "pin %s", path);
		/*
		 * A pin left by a horod that did not stop cleanly is replaced;
		 * so is one a predecessor handed over or left on purpose (its
		 * state map, reused, is pinned again as the same map).
		 */
		if (access(path, F_OK) == 0) {
			if (guard_log && !guard_is_state(i) && !g->inherit_pins)
				guard_log(LOG_WARNING, "guard: replacing stale pin %s", path);
			unlink(path);
		}
		ret = bpf_map__pin(m, path);
		if (ret)
			return guard_fail(err, errlen, ret, "pin %s", path);
		g->pinned[i] = 1;
	}
	guard_write_info(g);
	return 0;
}

/* Detach every egress program of G (its links closed). */
static void guard_egress_close(struct guard *g)
{
	int i;

	for (i = g->n_egress - 1; i >= 0; i--)
		close(g->egress_fd[i]);
	g->n_egress = 0;
}

int guard_attach_egress(struct guard *g, const char *ifname, char *err, size_t errlen)
{
	int ifindex, fd;

	if (g->n_egress >= GUARD_MAX_IFACES)
		return guard_fail(err, errlen, -ENOSPC, "egress %s: more than %d interfaces",
				  ifname, GUARD_MAX_IFACES);
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return guard_fail(err, errlen, -errno, "egress %s", ifname);
	/* Appended after the programs there: each frame reaches it last, then goes on. */
	fd = bpf_link_create(bpf_program__fd(g->skel->progs.guard_egress), ifindex, BPF_TCX_EGRESS,
			     NULL);
	if (fd < 0)
		return guard_fail(err, errlen, -errno, "attach the egress program to %s (tcx)",
				  ifname);
	g->egress_fd[g->n_egress++] = fd;
	return 0;
}

int guard_n_egress(const struct guard *g)
{
	return g->n_egress;
}

int guard_egress_prog_fd(const struct guard *g)
{
	return bpf_program__fd(g->skel->progs.guard_egress);
}

void guard_close(struct guard *g)
{
	struct bpf_map *m;
	int i;

	if (!g)
		return;
	guard_egress_close(g);
	for (i = g->n_links - 1; i >= 0; i--)
		if (g->link_fd[i] >= 0)
			close(g->link_fd[i]);
	for (i = GUARD_NPINS - 1; i >= 0; i--) {
		if (!g->pinned[i] || (g->keep_state && guard_is_state(i)))
			continue;
		m = bpf_object__find_map_by_name(g->skel->obj, guard_pinned_maps[i]);
		if (m)
			bpf_map__unpin(m, NULL);
	}
	for (i = 0; i < g->n_links; i++)
		guard_bpf__destroy(g->bound[i]);
	/* Kept pins live on the bpffs: it stays mounted, its directory stays. */
	if (!g->keep_state && g->mounted && umount2(g->pin_dir, MNT_DETACH) < 0 && guard_log)
		guard_log(LOG_WARNING, "guard: umount %s: %s", g->pin_dir, strerror(errno));
	if (!g->keep_state && g->made_dir && rmdir(g->pin_dir) < 0 && guard_log)
		guard_log(LOG_WARNING, "guard: rmdir %s: %s", g->pin_dir, strerror(errno));
	guard_bpf__destroy(g->skel);
	free(g);
}

void guard_pins_inherited(struct guard *g)
{
	g->inherit_pins = 1;
}

void guard_inherit_mounts(struct guard *new_g, struct guard *old_g)
{
	if (strcmp(new_g->pin_dir, old_g->pin_dir) != 0)
		return;
	new_g->mounted |= old_g->mounted;
	new_g->made_dir |= old_g->made_dir;
	old_g->mounted = old_g->made_dir = 0;
}

void guard_release(struct guard *g)
{
	int i;

	if (!g)
		return;
	/* Egress links are never handed over: the next guard attaches its own. */
	guard_egress_close(g);
	for (i = g->n_links - 1; i >= 0; i--)
		if (g->link_fd[i] >= 0)
			close(g->link_fd[i]);
	for (i = 0; i < g->n_links; i++)
		guard_bpf__destroy(g->bound[i]);
	guard_bpf__destroy(g->skel);
	free(g);
}

int guard_prog_fd(const struct guard *g)
{
	return bpf_program__fd(g->skel->progs.guard_xdp);
}

int guard_pass_prog_fd(const struct guard *g)
{
	return bpf_program__fd(g->skel->progs.guard_pass);
}

int guard_map_fd(const struct guard *g, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(g->skel->obj, name);

	return m ? bpf_map__fd(m) : -1;
}

struct guard_state_pub *guard_state_area(struct guard *g)
{
	/* The same bytes (guard_pub.h asserts the size), accessed only as atomics from here on. */
	return g->skel->bss ? (struct guard_state_pub *)(void *)&g->skel->bss->guard_state : NULL;
}

int guard_links(const struct guard *g, uint32_t *ifindex, int max)
{
	int i;

	for (i = 0; i < g->n_links && i < max; i++)
		ifindex[i] = (uint32_t)g->ifindex[i];
	return i;
}

int guard_test_hooks(struct guard *g, struct guard_test_hooks *h)
{
	if (!g->skel->bss)
		return -1;
	h->hw_ns = &g->skel->bss->guard_test_hw_ns;
	h->hw_ret = &g->skel->bss->guard_test_hw_ret;
	h->now_ns = &g->skel->bss->guard_test_now_ns;
	h->tai_ns = &g->skel->bss->guard_test_tai_ns;
	h->tai_step_ns = &g->skel->bss->guard_test_tai_step_ns;
	h->reason = &g->skel->bss->guard_test_reason;
	h->action = &g->skel->bss->guard_test_action;
	return 0;
}

int guard_pinned_open_rw(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	libbpf_set_print(guard_libbpf_print);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}
