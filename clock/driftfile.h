/*
 * The driftfile: the frequency correction (ppm) and its skew (ppm) that
 * survive a restart, as one text line "FREQ SKEW". Written crash-safely:
 * a temporary file in the same directory, fsync, rename over the old
 * one, fsync the directory; a crash at any point leaves the old or the new
 * file, never a half-written one. Read with checks: finite numbers,
 * |freq| <= CLK_DRIFT_MAX_PPM, 0 <= skew <= CLK_DRIFT_MAX_PPM.
 */
#ifndef HOROD_CLOCK_DRIFTFILE_H
#define HOROD_CLOCK_DRIFTFILE_H

#include <stddef.h>

/* ppm: the kernel's frequency limit; beyond it a file is absurd */
#define CLK_DRIFT_MAX_PPM 500.0

/* Read PATH into FREQ and SKEW; 0, or -1 with the reason in WHY and errno ENOENT if absent. */
int clk_driftfile_read(const char *path, double *freq_ppm, double *skew_ppm, char *why,
		       size_t whylen);

/*
 * Remove the temporary files a write killed half-way left beside PATH
 * (PATH.horod-tmp-XXXXXX, regular files no larger than a driftfile;
 * nothing else is touched, a user's PATH.backup least of all); returns
 * how many were removed.
 */
int clk_driftfile_clean(const char *path);

/* The directory holding PATH ("." or "/" when that is all there is) into DIR (LEN bytes). */
void clk_driftfile_dir(const char *path, char *dir, size_t len);

/*
 * Replace PATH with the LEN bytes of DATA crash-safely (as the driftfile:
 * temporary file PATH.horod-tmp-XXXXXX created 0600, fsync, rename, fsync of the
 * directory); 0, or -1 with the reason in WHY (the old file intact).
 */
int clk_file_replace(const char *path, const char *data, size_t len, char *why, size_t whylen);

/* Write FREQ and SKEW to PATH crash-safely; 0, or -1 with the reason in WHY (old file intact). */
int clk_driftfile_write(const char *path, double freq_ppm, double skew_ppm, char *why,
			size_t whylen);

#endif
