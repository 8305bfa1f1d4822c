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

#include "bpf/guard_layout.h"

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
	int udp_csum;  /* FR_CSUM_*: what the UDP checksum field holds */
	int bad_ipsum; /* 1: the IPv4 header checksum is off by one */
};

/* What fr_build writes into the UDP checksum (unfragmented frames; fragments get 0). */
enum fr_csum {
	FR_CSUM_OK,	 /* the right one, as a sender computes it */
	FR_CSUM_ZERO,	 /* 0: none (valid for IPv4 only) */
	FR_CSUM_PARTIAL, /* a sender's with offload before the NIC completes it */
	FR_CSUM_BAD,	 /* the right one, plus one */
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
 * 1 when FRAME (LEN bytes, parsed as P, kind FR_NTP), arriving on
 * interface IFINDEX (LOOPBACK 1), is one a socket of horod's would
 * receive, as the guard must judge it from HOST (the interfaces' MACs,
 * the local addresses) and the N listen lines LISTEN: to the interface's
 * own MAC, to a local unicast address and port horod listens on, from and
 * to no martian address. The reference's own reading of the rules in
 * bpf/guard_answer.h, written in this file's offset style.
 */
int fr_for_us(const uint8_t *frame, const struct fr_parsed *p, const struct guard_host *host,
	      const struct guard_listen *listen, int n, uint32_t ifindex);

/*
 * 1 when FRAME (parsed as P) is a plain 48-byte request with valid
 * checksums: no VLAN tag, no IPv4 option or IPv6 extension header, a
 * valid IPv4 header checksum, a valid UDP checksum (IPv4: or 0).
 */
int fr_intact(const uint8_t *frame, const struct fr_parsed *p);

/* Write the UDP checksum of FRAME (built by fr_build, parsed as P) the way a sender does. */
void fr_set_udp_csum(uint8_t *frame, const struct fr_parsed *p);

/* The value a sender with checksum offload leaves in the UDP checksum (CHECKSUM_PARTIAL). */
void fr_set_udp_csum_partial(uint8_t *frame, const struct fr_parsed *p);

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
