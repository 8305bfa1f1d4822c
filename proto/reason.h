/*
 * The outcome of every request horod sees: one reason per reply, drop or
 * deny, each with a stable lowercase name. The XDP guard, the worker
 * counters, horoctl and the metrics all count by this one list, so a
 * number means the same thing wherever it is shown. Add new reasons at the
 * end (before NTP_REASON_MAX): the numeric values are part of the map
 * layout that the XDP guard shares with user space.
 */
#ifndef HOROD_PROTO_REASON_H
#define HOROD_PROTO_REASON_H

/* X(enum suffix, stable name, one-line description) */
#define NTP_REASON_LIST(X)                                                                         \
	X(REPLY_SERVER, "reply_server", "mode 3 request answered with mode 4")                     \
	X(REPLY_SYMMETRIC, "reply_symmetric", "mode 1 request answered statelessly with mode 2")   \
	X(REPLY_KOD_RATE, "reply_kod_rate", "answered with a RATE kiss-o'-death")                  \
	X(REPLY_KOD_DENY, "reply_kod_deny", "answered with a DENY kiss-o'-death")                  \
	X(CONTROL, "control", "mode 6 from a control-allowed address")                             \
	X(DROP_SHORT, "drop_short", "shorter than the 48-byte NTP header")                         \
	X(DROP_LENGTH, "drop_length", "length not a multiple of 4 bytes")                          \
	X(DROP_VERSION, "drop_version", "version 0 or above 4")                                    \
	X(DROP_MODE_RESERVED, "drop_mode_reserved", "mode 0 (reserved)")                           \
	X(DROP_MODE_PASSIVE, "drop_mode_passive", "mode 2 (symmetric passive)")                    \
	X(DROP_MODE_SERVER, "drop_mode_server", "mode 4 (server) sent to a server")                \
	X(DROP_MODE_BROADCAST, "drop_mode_broadcast", "mode 5 (broadcast)")                        \
	X(DROP_MODE_CONTROL, "drop_mode_control", "mode 6 from an address not allowed control")    \
	X(DROP_MODE_PRIVATE, "drop_mode_private", "mode 7 (private, monlist)")                     \
	X(DROP_EXTENSION, "drop_extension", "extension fields or MAC do not fit the packet")       \
	X(DROP_DENIED, "drop_denied", "source address denied by the access list")                  \
	X(DROP_RATE, "drop_rate", "source over its rate limit")                                    \
	X(DROP_TRUNCATED, "drop_truncated", "datagram larger than the receive buffer")             \
	X(DROP_NO_SLOT, "drop_no_slot", "no free reply slot (send queue full)")                    \
	X(DROP_SEND_ERROR, "drop_send_error", "the kernel refused to send the reply")              \
	X(DROP_UNSUPPORTED, "drop_unsupported", "recognised but not served by this build")         \
	X(REPLY_KOD_NTSN, "reply_kod_ntsn",                                                        \
	  "answered with an NTS NAK: the cookie or the authenticator did not verify")              \
	X(DROP_AUTH, "drop_auth",                                                                  \
	  "authentication failed: a MAC of an unknown key or a wrong digest, malformed NTS")

/* Every outcome; NTP_REASON_MAX counts them. */
enum ntp_reason {
#define NTP_REASON_ENUM(id, name, desc) NTP_R_##id,
	NTP_REASON_LIST(NTP_REASON_ENUM)
#undef NTP_REASON_ENUM
		NTP_REASON_MAX
};

/* Stable lowercase name of a reason ("drop_short"); "unknown" if out of range. */
const char *ntp_reason_name(enum ntp_reason r);

/* One-line human description of a reason. */
const char *ntp_reason_desc(enum ntp_reason r);

/* Reason whose stable name is NAME, or -1. */
int ntp_reason_from_name(const char *name);

/* Nonzero when the reason means a reply is sent (reply_*). */
int ntp_reason_is_reply(enum ntp_reason r);

#endif
