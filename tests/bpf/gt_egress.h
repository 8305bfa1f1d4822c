/*
 * What the two files of guard-test's egress tests share (gt_egress.c:
 * BPF_PROG_TEST_RUN, frame by frame; gt_egress_wire.c: the random
 * property and the kernel's own path): the frame offsets, the rig's
 * publication instant, the checksum and byte helpers, and the runner,
 * the expected reply and the named cases of gt_egress.c.
 */
#ifndef HOROD_TESTS_BPF_GT_EGRESS_H
#define HOROD_TESTS_BPF_GT_EGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/guard.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

#define EG_ETH	     14 /* bytes: an untagged Ethernet header */
#define EG_NTP4	     42 /* offset of the NTP header in a plain IPv4 reply (14 + 20 + 8) */
#define EG_NTP6	     62 /* ... in a plain IPv6 reply (14 + 40 + 8) */
#define EG_OFF_DISP  8	/* NTP header: the root dispersion (short format) */
#define EG_OFF_XMT   40 /* NTP header: the transmit timestamp */
#define EG_EPOCH     2208988800ULL /* s from 1900 (NTP) to 1970 (Unix) */
#define EG_MAX_AGE   (2 * SEC)	   /* ns: the freshest publication's age limit (2 s) */
#define EG_TCX_NEXT  0xffffffffu   /* the program's retval: -1 (TCX_NEXT) */
#define EG_CLIENT4   "192.0.2.20"  /* the reply's destination */
#define EG_CLIENT6   "2001:db8::20"
#define EG_CPORT     40000 /* the client's port */
#define EG_OTHERPORT 4123  /* a port horod does not serve */
#define EG_MUTATIONS 2000  /* frames in the random property */
#define EG_WAIT_MS   2000  /* ms: the longest wait for a captured frame */

static const struct guard_clocks pub_at = {.tai_ns = PUB_TAI, .real_ns = PUB_REAL};

/* The one's-complement sum of N bytes at B added to SUM (RFC 1071), not folded; SUM folded. */
uint32_t eg_sum(const uint8_t *b, size_t n, uint32_t sum);
uint16_t eg_fold(uint32_t sum);

/* Big-endian 64-bit read, 32-bit write. */
uint64_t eg_rd64(const uint8_t *p);
void eg_wr32(uint8_t *p, uint32_t v);

/* 1 when the UDP checksum of plain frame F (IPv6 when V6) sums right; recompute it. */
int eg_udp_ok(const uint8_t *f, int v6);
void eg_udp_set(uint8_t *f, int v6);

/* Run FRAME through the egress program at the rig's tai; 0 or -1; RET its retval. */
int eg_tc_run(struct gt_rig *r, const uint8_t *frame, size_t len, uint8_t *out, size_t *outlen,
	      uint32_t *ret);

/* The stamped counter's packets and bytes; 0 or -1. */
int eg_stamped(struct gt_rig *r, uint64_t *packets, uint64_t *bytes);

/* A worker's reply to a client request from S, marked, its root dispersion DISP (0: the worker's).
 */
void eg_reply_payload(const struct clk_snapshot *s, uint8_t out[48], uint32_t disp);

/* A spec for a reply of PLEN bytes from SRC:SPORT to the client, IPv4 or IPv6 by the literal. */
void eg_reply_spec(struct fr_spec *sp, const char *src, uint16_t sport, const uint8_t *pay,
		   size_t plen);

/*
 * What must come out for the plain reply IN (LEN bytes, IPv6 when V6)
 * stamped at the rig's tai: NULL when OUT is it byte for byte, else what
 * differs (in BUF).
 */
const char *eg_check_stamped(struct gt_rig *r, const uint8_t *in, size_t len, const uint8_t *out,
			     size_t outlen, int v6, char *buf, size_t blen);

/* A named case: the frame of SP left byte for byte alone by the program, and not counted. */
void eg_case_untouched(struct gt_rig *r, const char *name, const struct fr_spec *sp);

/* gt_egress_wire.c: the random property, a rig without `stamp`, the kernel's path. */
void gt_egress_property(struct gt_rig *r);
void gt_egress_off(void);
void gt_egress_kernel(struct gt_rig *r);

#endif
