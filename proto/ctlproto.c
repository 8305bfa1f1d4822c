/*
 * The control protocol's encoders and decoders (see ctlproto.h for the
 * layout). Everything here is pure: byte buffers in, results out, every
 * field checked in wire order with an early return.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/byteorder.h"
#include "proto/ctlproto.h"

static const char *const ctl_cmd_names[CTL_CMD_MAX] = {
	[CTL_CMD_STATUS] = "status",   [CTL_CMD_TRACKING] = "tracking",
	[CTL_CMD_SOURCES] = "sources", [CTL_CMD_SERVERSTATS] = "serverstats",
	[CTL_CMD_CONFIG] = "config",   [CTL_CMD_METRICS] = "metrics",
	[CTL_CMD_CLIENTS] = "clients", [CTL_CMD_TAKEOVER] = "takeover",
};

void ctl_header_encode(const struct ctl_header *h, uint8_t out[CTL_HDR_LEN])
{
	be_put32(out, CTL_MAGIC);
	out[4] = h->version;
	out[5] = h->type;
	out[6] = h->command;
	out[7] = h->status;
	be_put32(out + 8, h->length);
	be_put32(out + 12, 0);
}

size_t ctl_request_encode(enum ctl_cmd cmd, uint8_t out[CTL_HDR_LEN])
{
	struct ctl_header h = {.version = CTL_VERSION,
			       .type = CTL_T_REQUEST,
			       .command = (uint8_t)cmd,
			       .status = 0,
			       .length = 0};

	ctl_header_encode(&h, out);
	return CTL_HDR_LEN;
}

int ctl_decode(const uint8_t *buf, size_t len, enum ctl_type type, struct ctl_msg *out)
{
	uint8_t magic[4];
	size_t n;

	/* Check each field as soon as its bytes are there: garbage fails fast. */
	be_put32(magic, CTL_MAGIC);
	n = len < 4 ? len : 4;
	if (memcmp(buf, magic, n) != 0)
		return CTL_E_MAGIC;
	if (len < 5)
		return 0;
	if (buf[4] != CTL_VERSION)
		return CTL_E_VERSION;
	if (len < 6)
		return 0;
	if (buf[5] != (uint8_t)type)
		return CTL_E_TYPE;
	if (len < 7)
		return 0;
	/* A response may carry command 0: the answer to a request too broken to name one. */
	if (type == CTL_T_REQUEST && (buf[6] == 0 || buf[6] >= CTL_CMD_MAX))
		return CTL_E_COMMAND;
	if (len < 8)
		return 0;
	if ((type == CTL_T_REQUEST && buf[7] != 0) || buf[7] >= CTL_S_MAX)
		return CTL_E_STATUS;
	if (len < CTL_HDR_LEN)
		return 0;
	if (be_get32(buf + 12) != 0)
		return CTL_E_RESERVED;
	out->h.version = buf[4];
	out->h.type = buf[5];
	out->h.command = buf[6];
	out->h.status = buf[7];
	out->h.length = be_get32(buf + 8);
	if (out->h.length > (type == CTL_T_REQUEST ? CTL_MAX_REQUEST : CTL_MAX_PAYLOAD))
		return CTL_E_LENGTH;
	if (len - CTL_HDR_LEN < out->h.length)
		return 0;
	out->payload = buf + CTL_HDR_LEN;
	return (int)(CTL_HDR_LEN + out->h.length);
}

const char *ctl_err_text(int err)
{
	switch (err) {
	case CTL_E_MAGIC:
		return "bad magic (not the horod control protocol)";
	case CTL_E_VERSION:
		return "unsupported protocol version";
	case CTL_E_TYPE:
		return "wrong message type";
	case CTL_E_COMMAND:
		return "unknown command";
	case CTL_E_STATUS:
		return "bad status field";
	case CTL_E_RESERVED:
		return "reserved field not zero";
	case CTL_E_LENGTH:
		return "payload length over the limit";
	default:
		return "malformed message";
	}
}

const char *ctl_status_text(int status)
{
	static const char *const t[CTL_S_MAX] = {
		[CTL_S_OK] = "ok",
		[CTL_S_BAD_REQUEST] = "bad request",
		[CTL_S_UNKNOWN_CMD] = "unknown command",
		[CTL_S_TOO_LARGE] = "answer too large",
		[CTL_S_UNAVAILABLE] = "not available",
	};

	return status >= 0 && status < CTL_S_MAX ? t[status] : "unknown status";
}

const char *ctl_cmd_name(int cmd)
{
	return cmd > 0 && cmd < CTL_CMD_MAX ? ctl_cmd_names[cmd] : NULL;
}

int ctl_cmd_from_name(const char *name)
{
	int i;

	for (i = 1; i < CTL_CMD_MAX; i++)
		if (strcmp(ctl_cmd_names[i], name) == 0)
			return i;
	return -1;
}

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

size_t ctl_kv_put(char *buf, size_t cap, size_t pos, const char *key, const char *fmt, ...)
{
	char val[CTL_VAL_MAX];
	va_list ap;
	size_t i;
	int n;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	for (i = 0; val[i]; i++)
		if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
			val[i] = '?';
	n = snprintf(pos < cap ? buf + pos : NULL, pos < cap ? cap - pos : 0, "%s=%s\n", key, val);
	return n > 0 ? pos + (size_t)n : pos;
}

int ctl_kv_next(const char *p, size_t len, size_t *pos, char *key, size_t klen, char *val,
		size_t vlen)
{
	const char *line, *eq, *nl;
	size_t rest, kl, vl;

	if (*pos >= len)
		return 0;
	line = p + *pos;
	rest = len - *pos;
	nl = memchr(line, '\n', rest);
	if (!nl || memchr(line, '\0', (size_t)(nl - line)))
		return -1;
	eq = memchr(line, '=', (size_t)(nl - line));
	if (!eq || eq == line)
		return -1;
	kl = (size_t)(eq - line);
	vl = (size_t)(nl - eq - 1);
	if (kl >= klen || kl >= CTL_KEY_MAX || vl >= vlen || vl >= CTL_VAL_MAX)
		return -1;
	for (size_t i = 0; i < kl; i++)
		if (!key_char(line[i]))
			return -1;
	memcpy(key, line, kl);
	key[kl] = '\0';
	memcpy(val, eq + 1, vl);
	val[vl] = '\0';
	*pos += (size_t)(nl - line) + 1;
	return 1;
}

int ctl_kv_get(const char *p, size_t len, const char *key, char *val, size_t vlen)
{
	char k[CTL_KEY_MAX], v[CTL_VAL_MAX];
	size_t pos = 0;
	int r;

	while ((r = ctl_kv_next(p, len, &pos, k, sizeof(k), v, sizeof(v))) == 1) {
		if (strcmp(k, key) == 0) {
			snprintf(val, vlen, "%s", v);
			return 0;
		}
	}
	return -1;
}

/* 1 when XDG (with stat ST) can hold UID's control socket directory. */
static int xdg_usable(uid_t uid, const char *xdg, const struct stat *st)
{
	if (!xdg || xdg[0] != '/' || !st)
		return 0;
	if (!S_ISDIR(st->st_mode) || st->st_uid != uid || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	return strlen(xdg) + strlen(CTL_SOCK_XDG_TAIL) < CTL_SOCK_PATH_MAX;
}

int ctl_sock_default(char *out, size_t len, uid_t uid, const char *xdg, const struct stat *xdg_st)
{
	int n;

	if (uid == 0)
		n = snprintf(out, len, "%s", CTL_SOCK_ROOT);
	else if (xdg_usable(uid, xdg, xdg_st))
		n = snprintf(out, len, "%s%s", xdg, CTL_SOCK_XDG_TAIL);
	else
		n = snprintf(out, len, CTL_SOCK_TMP_FMT, (unsigned)uid);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
