/*
 * Reading the XDP guard's pinned maps (guard_read.h): the counters of
 * every CPU summed, the top talkers sorted by packets, the info map, the
 * counters' names. Each read checks the map's type and sizes first: a
 * map pinned by another build of horod is refused (-EPROTO), never read
 * into a structure of another size. No skeleton, no loader: horoctl links
 * this object and libbpf only.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard_read.h"
#include "proto/reason.h"

static const char *const guard_own_names[GUARD_NCOUNTERS - NTP_REASON_MAX] = {
	[GUARD_C_PASS_OTHER - NTP_REASON_MAX] = "pass_other",
	[GUARD_C_PASS_FRAGMENT - NTP_REASON_MAX] = "pass_fragment",
	[GUARD_C_PASS_INVALID - NTP_REASON_MAX] = "pass_invalid",
	[GUARD_C_SERVED - NTP_REASON_MAX] = "reply_server_xdp",
	[GUARD_C_SERVED_HW - NTP_REASON_MAX] = "reply_server_xdp_hwrx",
	[GUARD_C_STAMPED - NTP_REASON_MAX] = "tx_stamped_egress",
};

const char *guard_counter_name(unsigned int i)
{
	if (i < NTP_REASON_MAX)
		return ntp_reason_name((enum ntp_reason)i);
	if (i < GUARD_NCOUNTERS)
		return guard_own_names[i - NTP_REASON_MAX];
	return "unknown";
}

int guard_pinned_open(const char *dir, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get_opts(path, &o);
	return fd < 0 ? -errno : fd;
}

int guard_info_read_fd(int fd, struct guard_info *out)
{
	struct bpf_map_info mi;
	uint32_t key = 0, len = sizeof(mi);

	memset(out, 0, sizeof(*out));
	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return -errno;
	/* The lookup writes value_size bytes: only into a structure of that size. */
	if (mi.type != BPF_MAP_TYPE_ARRAY || mi.value_size != sizeof(*out))
		return -EPROTO;
	if (bpf_map_lookup_elem(fd, &key, out) < 0)
		return -errno;
	return out->layout == GUARD_LAYOUT ? 0 : -EPROTO;
}

int guard_stats_read_fd(int fd, struct guard_stats *out)
{
	struct bpf_map_info mi;
	uint32_t len = sizeof(mi), k, n;
	struct guard_count *v;
	int ncpu, c;

	memset(out, 0, sizeof(*out));
	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return -errno;
	if (mi.type != BPF_MAP_TYPE_PERCPU_ARRAY || mi.value_size != sizeof(struct guard_count))
		return -EPROTO;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->ncpu = ncpu;
	n = mi.max_entries < GUARD_NCOUNTERS ? mi.max_entries : GUARD_NCOUNTERS;
	for (k = 0; k < n; k++) {
		if (bpf_map_lookup_elem(fd, &k, v) < 0) {
			c = -errno;
			free(v);
			return c;
		}
		for (c = 0; c < ncpu; c++) {
			out->packets[k] += v[c].packets;
			out->bytes[k] += v[c].bytes;
			/* Per CPU: the frames classified (not the replies stamped leaving). */
			if (k != GUARD_C_STAMPED &&
			    c < (int)(sizeof(out->cpu_packets) / sizeof(out->cpu_packets[0])))
				out->cpu_packets[c] += v[c].packets;
		}
	}
	free(v);
	return 0;
}

static int guard_talker_cmp(const void *a, const void *b)
{
	const struct guard_talker_row *x = a, *y = b;

	if (x->t.packets != y->t.packets)
		return x->t.packets > y->t.packets ? -1 : 1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

int guard_talkers_read_fd(int fd, struct guard_talker_row *rows, int max)
{
	struct guard_talker_row *all;
	struct guard_addr key, next;
	int n = 0, i, ret = 0;
	void *prev = NULL;

	struct bpf_map_info mi;
	uint32_t len = sizeof(mi);

	if (max <= 0)
		return 0;
	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return -errno;
	if (mi.key_size != sizeof(struct guard_addr) ||
	    mi.value_size != sizeof(struct guard_talker))
		return -EPROTO;
	all = calloc(GUARD_TALKERS, sizeof(*all));
	if (!all)
		return -ENOMEM;
	/* The table holds at most GUARD_TALKERS entries: so does this walk. */
	while (n < GUARD_TALKERS) {
		if (bpf_map_get_next_key(fd, prev, &next) < 0) {
			if (errno != ENOENT)
				ret = -errno;
			break;
		}
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &all[n].t) < 0)
			continue; /* evicted meanwhile */
		all[n].addr = key;
		n++;
	}
	if (ret < 0) {
		free(all);
		return ret;
	}
	qsort(all, (size_t)n, sizeof(*all), guard_talker_cmp);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		rows[i] = all[i];
	free(all);
	return n;
}
