/*
 * Fuzz target for the configuration parser: every input is the text of a
 * configuration file (cut at its first NUL byte, as cfg_parse_file
 * refuses NUL bytes before parsing). The parser must never crash or leak
 * (ASan's leak check runs at exit and after inputs), and it must keep
 * what daemon/config/config.h and config.c promise: a refused text gives one
 * printable `NAME:LINE: ...` message and leaves the configuration as it
 * was; an accepted one is written back by cfg_format as directives that
 * parse to the same configuration (format, parse, format gives the same
 * text); a short output buffer gets a NUL-terminated prefix and the full
 * length.
 *
 * What the parser may reach outside memory: no directive includes another
 * file, reads the driftfile, pidfile or control socket it names, or
 * resolves a host name (server and pool names are kept as text until the
 * clock thread starts); only cfg_parse_file opens a file, and this target
 * never calls it. The one exception is `user NAME`, which looks the
 * account up with getpwnam_r (NSS: /etc/passwd, and whatever
 * nsswitch.conf names, possibly a network directory). The target is
 * linked with -Wl,--wrap=getpwnam_r, so the parser gets the fixed table
 * below instead: no file, no network, and the same answer on every
 * machine. It also answers ERANGE to small buffers, to drive the
 * parser's retry loop.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>

#include "daemon/config/config.h"
#include "tests/fuzz/fuzz.h"

#define ERR_LEN	   CFG_ERR_MAX /* bytes: the error buffer horod's main uses is this size */
#define SHORT_CAPS 3	       /* short output buffers tried per configuration */
#define PW_BUF_MIN 4096	       /* bytes: the fake getpwnam_r wants this much room, else ERANGE */

/* The accounts the fake password database knows. */
static const struct {
	const char *name;
	uid_t uid;
	gid_t gid;
} fake_users[] = {
	{"root", 0, 0},
	{"nobody", 65534, 65534},
	{"_horod", 998, 998},
};

int __wrap_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
		      struct passwd **res);

/* Stands in for getpwnam_r in the parser (see the top of this file). */
int __wrap_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
		      struct passwd **res)
{
	size_t i, n;

	*res = NULL;
	if (buflen < PW_BUF_MIN)
		return ERANGE;
	for (i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++) {
		if (strcmp(name, fake_users[i].name) != 0)
			continue;
		n = strlen(name);
		memcpy(buf, name, n + 1);
		memset(pw, 0, sizeof(*pw));
		pw->pw_name = buf;
		pw->pw_passwd = buf + n; /* "" */
		pw->pw_gecos = buf + n;
		pw->pw_dir = buf + n;
		pw->pw_shell = buf + n;
		pw->pw_uid = fake_users[i].uid;
		pw->pw_gid = fake_users[i].gid;
		*res = pw;
		return 0;
	}
	return 0;
}

/* cfg_format of C into a fresh allocation (caller frees); its length in *LEN. */
static char *format_alloc(const struct horod_config *c, size_t *len)
{
	size_t need = cfg_format(c, NULL, 0), again;
	char *buf = malloc(need + 1);

	FUZZ_ASSERT(buf != NULL, "malloc should not fail");
	again = cfg_format(c, buf, need + 1);
	FUZZ_ASSERT(again == need, "cfg_format should return the same length with or without room");
	FUZZ_ASSERT(strlen(buf) == need, "cfg_format should return the length it wrote");
	*len = need;
	return buf;
}

/* Short buffers: a NUL-terminated prefix of FULL (LEN bytes) and the full length returned. */
static void check_short(const struct horod_config *c, const char *full, size_t len)
{
	static const size_t caps[SHORT_CAPS] = {1, 40, 700};
	char buf[701];
	int i;

	for (i = 0; i < SHORT_CAPS; i++) {
		size_t cap = caps[i], n;

		memset(buf, 'Z', sizeof(buf));
		n = cfg_format(c, buf, cap);
		FUZZ_ASSERT(n == len,
			    "cfg_format should return the full length into a short buffer");
		FUZZ_ASSERT(buf[cap] == 'Z', "cfg_format should not write past its buffer");
		if (len < cap) {
			FUZZ_ASSERT(strcmp(buf, full) == 0,
				    "a big enough buffer should get it all");
		} else {
			FUZZ_ASSERT(buf[cap - 1] == '\0' && memcmp(buf, full, cap - 1) == 0,
				    "a short buffer should get a NUL-terminated prefix");
		}
	}
}

/* A refused text: one printable line `NAME:LINE: ...`. */
static void check_error(const char *err)
{
	const char *s;

	FUZZ_ASSERT(strncmp(err, "fuzz.conf:", 10) == 0 && err[10] >= '1' && err[10] <= '9',
		    "an error should start with NAME:LINE:");
	for (s = err; *s; s++)
		FUZZ_ASSERT(*s >= 0x20 && *s < 0x7f, "an error should be one printable line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct horod_config c, again, dflt;
	char err[ERR_LEN], err2[ERR_LEN];
	char *text, *a, *b, *d;
	size_t alen, blen, dlen;
	int r;

	text = malloc(size + 1);
	FUZZ_ASSERT(text != NULL, "malloc should not fail");
	memcpy(text, data, size);
	text[size] = '\0';

	cfg_defaults(&c);
	r = cfg_parse_string(&c, "fuzz.conf", text, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -1, "cfg_parse_string should return 0 or -1");
	a = format_alloc(&c, &alen);
	check_short(&c, a, alen);

	if (r < 0) {
		check_error(err);
		/* A refused text leaves the configuration as it was: the defaults. */
		cfg_defaults(&dflt);
		d = format_alloc(&dflt, &dlen);
		FUZZ_ASSERT(dlen == alen && strcmp(a, d) == 0,
			    "a refused text should leave the configuration as it was");
		free(d);
		cfg_free(&dflt);
	} else {
		FUZZ_ASSERT(err[0] == '\0', "an accepted text should leave no error");
		/* What cfg_format writes parses back to the same configuration. */
		cfg_defaults(&again);
		r = cfg_parse_string(&again, "fuzz.conf", a, err2, sizeof(err2));
		if (r != 0)
			fprintf(stderr, "input:\n%s\nformatted:\n%s\nerror: %s\n", text, a, err2);
		FUZZ_ASSERT(r == 0, "cfg_format's output should parse");
		b = format_alloc(&again, &blen);
		if (blen != alen || strcmp(a, b) != 0)
			fprintf(stderr, "input:\n%s\nformatted:\n%s\nreformatted:\n%s\n", text, a,
				b);
		FUZZ_ASSERT(blen == alen && strcmp(a, b) == 0,
			    "format, parse, format should give the same text");
		free(b);
		cfg_free(&again);
	}
	free(a);
	cfg_free(&c);
	free(text);
	return 0;
}
