/*
 * Access lists: IPv4 and IPv6 prefixes, each allowed or denied. A source
 * is refused when any deny prefix matches it (deny wins, whatever the
 * order); otherwise it is accepted when there are no allow prefixes at all
 * (the default: allow all) or when an allow prefix matches it.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as IPv4.
 */
#ifndef HOROD_DAEMON_ACL_H
#define HOROD_DAEMON_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ACL_MAX_RULES 4096 /* prefixes per list: bounds memory and the linear scan */

struct acl_rule {
	uint8_t family;	  /* AF_INET or AF_INET6 */
	uint8_t plen;	  /* prefix length in bits: 0..32 or 0..128 */
	uint8_t allow;	  /* 1 allow, 0 deny */
	uint8_t addr[16]; /* network byte order, host bits zeroed */
};

struct acl {
	struct acl_rule *rules; /* heap array, grown by acl_add */
	int n, cap;
	int n_allow; /* number of allow rules */
};

/* Empty list (allows everything). */
void acl_init(struct acl *a);

/* Free the rules. */
void acl_free(struct acl *a);

/*
 * Parse "all", an address, or ADDR/PLEN (v4 or v6) into OUT (IPv4 "all"
 * and IPv6 "all" become two rules, so OUT holds up to 2); returns the
 * number of rules, or -1 with a message in ERR.
 */
int acl_parse(const char *text, int allow, struct acl_rule out[2], char *err, size_t errlen);

/* Add TEXT as an allow (ALLOW=1) or deny rule; 0, or -1 with a message in ERR. */
int acl_add(struct acl *a, const char *text, int allow, char *err, size_t errlen);

/* 1 when the source SA is accepted by the list, 0 when refused. */
int acl_check(const struct acl *a, const struct sockaddr *sa);

/* 1 when SA is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
int acl_is_loopback(const struct sockaddr *sa);

#endif
