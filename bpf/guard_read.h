/*
 * Reading the XDP guard's pinned maps back, for horoctl and the tests:
 * the counters summed over CPUs, the top-talkers table sorted by
 * packets, the info map, and the counters' names. Only libbpf's map
 * calls on file descriptors: a program linking these readers needs
 * neither the BPF skeleton nor the loader (guard.c).
 */
#ifndef HOROD_BPF_GUARD_READ_H
#define HOROD_BPF_GUARD_READ_H

#include <stdint.h>

#include "bpf/guard_layout.h"

/* Stable name of counter I: proto's reason name, or the guard's own (pass_other, ...). */
const char *guard_counter_name(unsigned int i);

/* Totals of the counters map, and their spread over CPUs. */
struct guard_stats {
	uint64_t packets[GUARD_NCOUNTERS];
	uint64_t bytes[GUARD_NCOUNTERS];
	int ncpu;		   /* possible CPUs, entries used in cpu_packets */
	uint64_t cpu_packets[256]; /* frames classified per CPU (first 256 CPUs; not the stamped) */
};

/* Sum the counters map FD into OUT; 0 or -errno. */
int guard_stats_read_fd(int fd, struct guard_stats *out);

/* One row of the top-talkers table. */
struct guard_talker_row {
	struct guard_addr addr;
	struct guard_talker t;
};

/* Read up to MAX talkers from map FD, sorted by packets (most first); count or -errno. */
int guard_talkers_read_fd(int fd, struct guard_talker_row *rows, int max);

/* Read the info map FD into OUT; 0 or -errno (-EPROTO: another layout). */
int guard_info_read_fd(int fd, struct guard_info *out);

/* Open the pinned map DIR/NAME read-only; fd or -errno (-ENOENT: nothing pinned). */
int guard_pinned_open(const char *dir, const char *name);

#endif
