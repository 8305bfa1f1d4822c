/*
 * The control protocol between horoctl and horod over the control socket
 * (a Unix stream socket): one request, one response, each a 16-byte
 * header and a bounded payload. No pointers or host-order fields on the
 * wire; every decoder checks magic, version, type, command, reserved
 * bits and length before anything else, so any byte string can be fed to
 * them. Response payloads are text: `key=value` lines for the structured
 * commands (status, tracking, sources, serverstats), plain text for
 * config and metrics.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     magic 0x484F5243 "HORC"                   |
 * +---------------+---------------+---------------+---------------+
 * |    version    |  type (0 req) |    command    |    status     |
 * +---------------+---------------+---------------+---------------+
 * |                 payload length (bytes, big-endian)            |
 * +---------------------------------------------------------------+
 * |                       reserved (zero)                         |
 * +---------------------------------------------------------------+
 * |                  payload (length bytes) ...                   |
 */
#ifndef HOROD_PROTO_CTLPROTO_H
#define HOROD_PROTO_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define CTL_MAGIC	0x484F5243u    /* "HORC": rejects anything not speaking this protocol */
#define CTL_VERSION	1	       /* bumped on any incompatible change */
#define CTL_HDR_LEN	16	       /* bytes of the fixed header */
#define CTL_MAX_PAYLOAD (256u * 1024u) /* bytes: a response (64 sources, 256 workers) fits */
#define CTL_MAX_REQUEST 1024u	       /* bytes of a request payload: requests carry none today */
#define CTL_KEY_MAX	64	       /* bytes of a key, including NUL */
#define CTL_VAL_MAX	256	       /* bytes of a value, including NUL */

/*
 * Where the control socket is when horod's configuration names none (and
 * where horoctl looks without -s): root's is system-wide, as chrony's
 * /run/chrony/chronyd.sock; anyone else's is in a directory of their own.
 */
#define CTL_SOCK_ROOT	  "/run/horod/horod.sock"    /* root's default */
#define CTL_SOCK_XDG_TAIL "/horod/horod.sock"	     /* after $XDG_RUNTIME_DIR, for other users */
#define CTL_SOCK_TMP_FMT  "/tmp/horod-%u/horod.sock" /* a user without a usable XDG_RUNTIME_DIR */
#define CTL_SOCK_PATH_MAX 108 /* bytes of a socket path with its NUL: sun_path on Linux */

enum ctl_type { CTL_T_REQUEST = 0, CTL_T_RESPONSE = 1 };

/* Commands; 0 is never valid so a zeroed header is rejected. */
enum ctl_cmd {
	CTL_CMD_STATUS = 1,
	CTL_CMD_TRACKING,
	CTL_CMD_SOURCES,
	CTL_CMD_SERVERSTATS,
	CTL_CMD_CONFIG,
	CTL_CMD_METRICS,
	CTL_CMD_CLIENTS,
	CTL_CMD_TAKEOVER, /* a successor horod takes the sockets over (daemon/serve/handover.h) */
	CTL_CMD_MAX
};

/* Response status. */
enum ctl_status {
	CTL_S_OK = 0,
	CTL_S_BAD_REQUEST, /* malformed message: the connection is closed after the answer */
	CTL_S_UNKNOWN_CMD, /* well-formed but a command this daemon does not know */
	CTL_S_TOO_LARGE,   /* the answer would not fit CTL_MAX_PAYLOAD */
	CTL_S_UNAVAILABLE, /* the daemon cannot answer this now (e.g. no clock core) */
	CTL_S_MAX
};

/* Decoder results (negative) besides 0 = need more bytes and >0 = message length. */
enum ctl_err {
	CTL_E_MAGIC = -1,
	CTL_E_VERSION = -2,
	CTL_E_TYPE = -3,
	CTL_E_COMMAND = -4,
	CTL_E_STATUS = -5,
	CTL_E_RESERVED = -6,
	CTL_E_LENGTH = -7,
};

struct ctl_header {
	uint8_t version;
	uint8_t type;	 /* enum ctl_type */
	uint8_t command; /* enum ctl_cmd */
	uint8_t status;	 /* enum ctl_status; 0 in requests */
	uint32_t length; /* payload bytes */
};

/* A decoded message: the header and where its payload lies in the caller's buffer. */
struct ctl_msg {
	struct ctl_header h;
	const uint8_t *payload;
};

/* Write header H into OUT (CTL_HDR_LEN bytes). */
void ctl_header_encode(const struct ctl_header *h, uint8_t out[CTL_HDR_LEN]);

/*
 * Decode a message of type TYPE at the start of BUF (LEN bytes): the
 * message's total length (> 0) when complete, 0 when more bytes are
 * needed, or a CTL_E_* error as soon as the bytes present are invalid.
 * Requests must carry a known command, status 0 and at most
 * CTL_MAX_REQUEST payload bytes; responses any command 0..255 (0 answers
 * a request that named none; an old horoctl can report a new one) and at
 * most CTL_MAX_PAYLOAD.
 */
int ctl_decode(const uint8_t *buf, size_t len, enum ctl_type type, struct ctl_msg *out);

/* Encode a request for CMD with no payload into OUT; returns CTL_HDR_LEN. */
size_t ctl_request_encode(enum ctl_cmd cmd, uint8_t out[CTL_HDR_LEN]);

/* Human text of a decoder error (CTL_E_*). */
const char *ctl_err_text(int err);

/* Human text of a response status (CTL_S_*). */
const char *ctl_status_text(int status);

/* Name of command CMD ("tracking"), or NULL. */
const char *ctl_cmd_name(int cmd);

/* The command named NAME, or -1. */
int ctl_cmd_from_name(const char *name);

/*
 * Append `KEY=VALUE\n` to BUF (CAP bytes) at POS; returns the new position,
 * which may pass CAP (then the output was truncated: check against CAP).
 * KEY must be [a-z0-9_.]+; control characters in the value become '?'.
 */
size_t ctl_kv_put(char *buf, size_t cap, size_t pos, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Read the next `key=value` line of P (LEN bytes) from *POS: 1 with KEY
 * and VAL filled, 0 at the end, -1 on a malformed line (bad key, no '=',
 * too long, no newline, NUL byte).
 */
int ctl_kv_next(const char *p, size_t len, size_t *pos, char *key, size_t klen, char *val,
		size_t vlen);

/* The value of KEY in P (LEN bytes) into VAL; 0, or -1 when absent or P is malformed. */
int ctl_kv_get(const char *p, size_t len, const char *key, char *val, size_t vlen);

/*
 * The default control socket of effective user UID into OUT (LEN bytes):
 * CTL_SOCK_ROOT for uid 0; else XDG CTL_SOCK_XDG_TAIL when XDG (the value
 * of XDG_RUNTIME_DIR, or NULL) is an absolute path, XDG_ST (its stat, or
 * NULL when stat failed) shows a directory owned by UID that nobody else
 * may write, and the result fits a socket address; else CTL_SOCK_TMP_FMT.
 * Returns the path's length, or -1 when it does not fit LEN.
 */
int ctl_sock_default(char *out, size_t len, uid_t uid, const char *xdg, const struct stat *xdg_st);

#endif
