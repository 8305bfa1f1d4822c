/*
 * The driftfile: one line "FREQ SKEW\n" in ppm. Writing goes through a
 * temporary file next to the real one (mkstemp on PATH.horod-tmp-XXXXXX,
 * a name no one else's file takes by chance: clk_driftfile_clean removes
 * only those, never a user's PATH.backup), written,
 * fsync'ed and renamed over it, then the directory is fsync'ed so the
 * rename itself survives a power cut; any failure removes the temporary
 * file and leaves the old driftfile as it was. Reading is bounded and
 * strict: a file that is not exactly two finite numbers in range (and
 * whitespace) is refused with a one-line reason, so a corrupt or absurd
 * file never steers the clock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock/driftfile.h"

/* bytes: the largest driftfile read; a valid one is under 40, more is not ours */
#define DRIFT_MAX_SIZE 256
/* what the temporary file's name adds to the driftfile's, before mkstemp's six characters */
#define DRIFT_TMP_MARK ".horod-tmp-"
#define DRIFT_TMP_RAND 6 /* characters mkstemp puts for XXXXXX */

/* True for the whitespace allowed around and between the two numbers. */
static int drift_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse one number at *P (after optional blanks) into V; 0 or -1 with WHY. */
static int drift_number(char **p, const char *what, double *v, char *why, size_t whylen)
{
	char *end;

	while (drift_space(**p))
		(*p)++;
	if (!**p) {
		snprintf(why, whylen, "corrupt: no %s", what);
		return -1;
	}
	errno = 0;
	*v = strtod(*p, &end);
	if (end == *p) {
		snprintf(why, whylen, "corrupt: %s is not a number", what);
		return -1;
	}
	if (errno == ERANGE || !isfinite(*v)) {
		snprintf(why, whylen, "corrupt: %s is not a finite number", what);
		return -1;
	}
	if (*end && !drift_space(*end)) {
		snprintf(why, whylen, "corrupt: garbage after the %s", what);
		return -1;
	}
	*p = end;
	return 0;
}

int clk_driftfile_read(const char *path, double *freq_ppm, double *skew_ppm, char *why,
		       size_t whylen)
{
	char buf[DRIFT_MAX_SIZE + 1], *p;
	double f, s;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			snprintf(why, whylen, "absent");
		else
			snprintf(why, whylen, "unreadable: %s", strerror(err));
		errno = err;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, whylen, "unreadable: not a regular file");
		errno = EINVAL;
		return -1;
	}
	/* Read one byte more than allowed, to tell "too large" from "full". */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			close(fd);
			snprintf(why, whylen, "unreadable: %s", strerror(err));
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	errno = EINVAL;
	if (len > DRIFT_MAX_SIZE) {
		snprintf(why, whylen, "corrupt: larger than %d bytes", DRIFT_MAX_SIZE);
		return -1;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(why, whylen, "corrupt: contains a NUL byte");
		return -1;
	}
	buf[len] = '\0';

	p = buf;
	if (drift_number(&p, "frequency", &f, why, whylen) < 0 ||
	    drift_number(&p, "skew", &s, why, whylen) < 0)
		return -1;
	while (drift_space(*p))
		p++;
	if (*p) {
		snprintf(why, whylen, "corrupt: extra data after the skew");
		return -1;
	}
	if (fabs(f) > CLK_DRIFT_MAX_PPM) {
		snprintf(why, whylen, "absurd: frequency %.3f ppm beyond +-%.0f ppm", f,
			 CLK_DRIFT_MAX_PPM);
		return -1;
	}
	if (s < 0.0 || s > CLK_DRIFT_MAX_PPM) {
		snprintf(why, whylen, "absurd: skew %.3f ppm outside 0..%.0f ppm", s,
			 CLK_DRIFT_MAX_PPM);
		return -1;
	}
	*freq_ppm = f;
	*skew_ppm = s;
	errno = 0;
	return 0;
}

/* Write all LEN bytes of BUF to FD; 0 or -errno. */
static int drift_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void clk_driftfile_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* 1 when NAME is one of our temporaries for the driftfile named BASE (BLEN bytes):
 * BASE DRIFT_TMP_MARK and mkstemp's DRIFT_TMP_RAND letters and digits, nothing else. */
static int drift_is_tmp(const char *name, const char *base, size_t blen)
{
	size_t mlen = strlen(DRIFT_TMP_MARK), i;

	if (strlen(name) != blen + mlen + DRIFT_TMP_RAND || strncmp(name, base, blen) != 0 ||
	    strncmp(name + blen, DRIFT_TMP_MARK, mlen) != 0)
		return 0;
	for (i = blen + mlen; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

int clk_driftfile_clean(const char *path)
{
	char dir[PATH_MAX], full[PATH_MAX];
	const char *base = strrchr(path, '/');
	struct dirent *e;
	struct stat st;
	size_t blen;
	DIR *d;
	int n = 0;

	base = base ? base + 1 : path;
	blen = strlen(base);
	clk_driftfile_dir(path, dir, sizeof(dir));
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!drift_is_tmp(e->d_name, base, blen))
			continue;
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, e->d_name) >= sizeof(full))
			continue;
		/* A regular file no larger than a driftfile can be: what a save leaves. */
		if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > DRIFT_MAX_SIZE)
			continue;
		if (unlink(full) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* fsync the directory holding PATH, so a rename in it is durable; 0 or -errno. */
static int drift_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd, ret = 0;

	clk_driftfile_dir(path, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* EINVAL: the filesystem cannot sync directories; nothing more to do. */
	if (fsync(fd) < 0 && errno != EINVAL)
		ret = -errno;
	close(fd);
	return ret;
}

int clk_driftfile_write(const char *path, double freq_ppm, double skew_ppm, char *why,
			size_t whylen)
{
	char line[64];
	int len;

	/* Never write what the reader would refuse at the next start. */
	if (!isfinite(freq_ppm) || fabs(freq_ppm) > CLK_DRIFT_MAX_PPM || !isfinite(skew_ppm) ||
	    skew_ppm < 0.0 || skew_ppm > CLK_DRIFT_MAX_PPM) {
		snprintf(why, whylen,
			 "refusing to write frequency %g ppm, skew %g ppm (out of range)", freq_ppm,
			 skew_ppm);
		return -1;
	}
	len = snprintf(line, sizeof(line), "%.6f %.6f\n", freq_ppm, skew_ppm);
	return clk_file_replace(path, line, (size_t)len, why, whylen);
}

int clk_file_replace(const char *path, const char *data, size_t len, char *why, size_t whylen)
{
	char tmp[PATH_MAX];
	const char *step;
	int fd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s" DRIFT_TMP_MARK "XXXXXX", path) >= sizeof(tmp)) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	/* mkostemp creates the file 0600: what it holds is for horod alone. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot create a temporary file %s: %s (old file kept)", tmp,
			 strerror(errno));
		return -1;
	}
	step = "write";
	err = drift_write_all(fd, data, len);
	if (!err) {
		step = "fsync";
		if (fsync(fd) < 0)
			err = -errno;
	}
	/* close() can report a deferred write error (NFS): it counts. */
	if (close(fd) < 0 && !err) {
		step = "close";
		err = -errno;
	}
	if (!err) {
		step = "rename";
		if (rename(tmp, path) < 0)
			err = -errno;
	}
	if (err) {
		unlink(tmp);
		snprintf(why, whylen, "%s of %s failed: %s (old file kept)", step, tmp,
			 strerror(-err));
		return -1;
	}
	err = drift_sync_dir(path);
	if (err) {
		snprintf(why, whylen, "written, but syncing its directory failed: %s",
			 strerror(-err));
		return -1;
	}
	return 0;
}
