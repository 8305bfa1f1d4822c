/*
 * The keyfile (keyfile.h): one read of a regular file no one else may
 * read, bounded in size, text only, each line parsed by proto/symkey.c,
 * the table sorted and checked for repeated ids. Every copy of the key
 * material that is not kept is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "daemon/auth/keyfile.h"

#define KF_MAX (1 << 20) /* bytes: a keyfile of SK_MAX_KEYS lines fits in far less */

int kf_read(const char *path, struct sk_table *t, char *err, size_t errlen)
{
	char *buf = NULL, *line, *save = NULL, why[200];
	struct stat st;
	ssize_t n = 0, r;
	int fd, ln = 0, ret = -1;
	uint32_t dup;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "keyfile %s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "keyfile %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(err, errlen,
			 "keyfile %s: readable by everyone (mode %03o), allowed: not readable by "
			 "others (chmod o-r; 0600 or 0640)",
			 path, (unsigned int)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_size > KF_MAX) {
		snprintf(err, errlen, "keyfile %s: larger than %d bytes", path, KF_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	t->keys = calloc(SK_MAX_KEYS, sizeof(*t->keys));
	if (!buf || !t->keys) {
		snprintf(err, errlen, "keyfile %s: out of memory", path);
		goto out;
	}
	while (n < st.st_size && (r = read(fd, buf + n, (size_t)(st.st_size - n))) > 0)
		n += r;
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n)) {
		snprintf(err, errlen, "keyfile %s: NUL byte, allowed: text only", path);
		goto out;
	}
	for (line = buf; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		ln++;
		if (t->n == SK_MAX_KEYS) {
			snprintf(err, errlen, "%s:%d: more than %d keys", path, ln, SK_MAX_KEYS);
			goto out;
		}
		r = sk_parse_line(line, &t->keys[t->n], why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, ln, why);
			goto out;
		}
		t->n += (int)r;
	}
	dup = sk_sort(t);
	if (dup) {
		snprintf(err, errlen, "keyfile %s: key %u given twice, allowed: each id once", path,
			 dup);
		goto out;
	}
	ret = 0;
out:
	if (buf) {
		explicit_bzero(buf, (size_t)n);
		free(buf);
	}
	close(fd);
	if (ret < 0) {
		if (t->keys)
			explicit_bzero(t->keys, SK_MAX_KEYS * sizeof(*t->keys));
		free(t->keys);
		t->keys = NULL;
		t->n = 0;
	}
	return ret;
}

void kf_free(struct sk_table *t)
{
	if (t->keys) {
		explicit_bzero(t->keys, (size_t)t->n * sizeof(*t->keys));
		free(t->keys);
	}
	t->keys = NULL;
	t->n = 0;
}
