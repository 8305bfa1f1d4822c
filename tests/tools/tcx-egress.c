/*
 * tcx-egress: the BPF programs attached to an interface's tcx egress hook
 * (Linux 6.6+), one name per line, so that a test can see what horod's
 * `guard stamp on` left attached (BPF_PROG_QUERY on the interface, in the
 * caller's network namespace).
 *
 *   tcx-egress IFACE
 *
 * Exit 0 with the list (possibly empty), 2 on bad usage or an unknown
 * interface, 1 when the kernel refuses the query (reason on stderr).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <unistd.h>

#ifndef BPF_TCX_EGRESS
#define BPF_TCX_EGRESS 47 /* enum bpf_attach_type, Linux 6.6; not in 6.1's headers */
#endif
#define MAX_PROGS 64

int main(int argc, char **argv)
{
	__u32 ids[MAX_PROGS], n = MAX_PROGS, flags = 0, i;
	struct bpf_prog_info info;
	__u32 len;
	int ifindex, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: tcx-egress IFACE\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "tcx-egress: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (bpf_prog_query(ifindex, BPF_TCX_EGRESS, 0, &flags, ids, &n) < 0) {
		fprintf(stderr, "tcx-egress: query %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < n && i < MAX_PROGS; i++) {
		fd = bpf_prog_get_fd_by_id(ids[i]);
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			printf("id %u\n", ids[i]);
		else
			printf("%s\n", info.name);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
