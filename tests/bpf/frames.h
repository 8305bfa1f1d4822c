/*
 * Frames for the guard's tests: a builder that lays out Ethernet, VLAN
 * tags, IPv4 (options, fragment fields) or IPv6 (extension headers, a
 * fragment header) and UDP around a payload; a reference parser, written
 * separately from the BPF program, that says what the guard must make of
 * any frame (the L2-L4 half of the reference; policy.c is the rest); and
 * a checker for kiss-o'-death frames (addresses, ports, fields and both
 * checksums).
 */
#ifndef HOROD_TESTS_BPF_FRAMES_H
#define HOROD_TESTS_BPF_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FR_MAX	   3500 /* bytes: the largest frame BPF_PROG_TEST_RUN takes without frags */
#define FR_MAX_EXT 6	/* IPv6 extension headers a spec may carry */

/* What to build. Addresses: IPv4 in the first 4 bytes. */
struct fr_spec {
	uint8_t dmac[6], smac[6];
	int nvlan; /* 0..3 tags */
	uint16_t tpid[3], tci[3];
	uint16_t ethertype; /* after the tags: 0x0800, 0x86DD or anything */
	int v6;
	uint8_t src[16], dst[16];
	int optlen;		      /* IPv4 option bytes (multiple of 4, <= 40) */
	int n_ext;		      /* IPv6 extension headers before UDP */
	uint8_t ext_type[FR_MAX_EXT]; /* 0, 43, 60 (bytes in ext_len) or 44 (fragment) */
	int ext_len[FR_MAX_EXT];
	int frag;	       /* 0 none, 1 first fragment (MF), 2 later fragment */
	uint8_t proto;	       /* IP protocol (17 UDP) */
	uint16_t sport, dport; /* host order */
	const uint8_t *payload;
	size_t plen;
};

/* Build S into OUT (FR_MAX bytes); the frame length, or 0 if it would not fit. */
size_t fr_build(const struct fr_spec *s, uint8_t *out);

/* What the guard must make of a frame before its NTP rules apply. */
enum fr_kind {
	FR_OTHER,      /* pass_other */
	FR_INVALID,    /* pass_invalid */
	FR_FRAGMENT,   /* a later fragment: pass_fragment */
	FR_FIRST_FRAG, /* a first fragment: source checks only */
	FR_NTP,	       /* UDP to a served port: classify the payload */
};

struct fr_parsed {
	enum fr_kind kind;
	struct sockaddr_storage src; /* FR_FIRST_FRAG, FR_NTP */
	size_t l2, l3len, udp;	     /* offsets and lengths */
	const uint8_t *payload;	     /* FR_NTP */
	size_t plen;
	int v6;
};

/* Parse FRAME (LEN bytes) with the served PORTS (host order, N of them) into OUT. */
void fr_parse(const uint8_t *frame, size_t len, const uint16_t *ports, int n,
	      struct fr_parsed *out);

/*
 * Build into OUT the kiss-o'-death the guard must send for the request
 * FRAME parsed as P, with refid CODE ("RATE", "DENY"); its length.
 */
size_t fr_expected_kod(const uint8_t *frame, const struct fr_parsed *p, const char *code,
		       uint8_t *out);

/*
 * Check the headers of REPLY (RLEN bytes) as the guard's answer to REQ
 * (parsed as P): swapped MACs, addresses and ports, VLAN tags kept, IPv4
 * options or IPv6 extension headers gone, valid IPv4 and UDP checksums, a
 * 48-byte payload, which *NTP points to. NULL when right, else what is
 * wrong.
 */
const char *fr_check_reply(const uint8_t *req, const struct fr_parsed *p, const uint8_t *reply,
			   size_t rlen, const uint8_t **ntp);

/*
 * Check REPLY as a kiss-o'-death answering REQ (parsed as P): the headers
 * of fr_check_reply, LI 3, VN echoed, mode 4 (2 for mode 1), stratum 0,
 * refid CODE, origin = request transmit, every other field 0. NULL when
 * right, else what is wrong.
 */
const char *fr_check_kod(const uint8_t *req, const struct fr_parsed *p, const uint8_t *reply,
			 size_t rlen, const char *code);

#endif
