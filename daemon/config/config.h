/*
 * horod's configuration: chrony-style directives, one per line, `#`, `!`
 * or `;` starting a comment. Every value is range-checked; the first error
 * is reported as `file:line: what was wrong, allowed range` and nothing
 * starts. With no file, the embedded default configuration is parsed by
 * the same code.
 */
#ifndef HOROD_DAEMON_CONFIG_H
#define HOROD_DAEMON_CONFIG_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "daemon/config/settings.h"

/*
 * Bytes of a configuration error message, for its callers' buffers: the
 * path, the line number and the longest message, the list of every
 * directive an unknown one gets (~500 bytes, growing with each
 * directive; a 512-byte buffer cut it short once a path was long).
 */
#define CFG_ERR_MAX   2048
#define CFG_NAMES_MAX 1024 /* bytes: that list of every directive's name */

/* The embedded default configuration (used when horod has no -f). */
extern const char cfg_embedded_default[];

/* Set every field to its default (no listen lines, allow all, workers auto, io auto). */
void cfg_defaults(struct horod_config *c);

/* Release what the parser allocated. */
void cfg_free(struct horod_config *c);

/* Parse TEXT as if it were the file NAME; 0, or -1 with `NAME:LINE: ...` in ERR. */
int cfg_parse_string(struct horod_config *c, const char *name, const char *text, char *err,
		     size_t errlen);

/* Read and parse the file PATH; 0, or -1 with `PATH:LINE: ...` (or why it can't be read) in ERR. */
int cfg_parse_file(struct horod_config *c, const char *path, char *err, size_t errlen);

/* The port a listen entry binds: its own, else the configuration's default port. */
int cfg_listen_port(const struct horod_config *c, const struct cfg_listen *l);

/*
 * When no `control` line named a socket, set C's to the default of
 * effective user EUID (proto/ctlproto.h ctl_sock_default, with XDG the
 * value of XDG_RUNTIME_DIR or NULL and XDG_ST its stat or NULL); for any
 * user but root that socket's directory is private (control.path_private).
 */
void cfg_control_resolve(struct horod_config *c, uid_t euid, const char *xdg,
			 const struct stat *xdg_st);

/*
 * Checks across NTS directives, after the whole file is read (a
 * certificate without its key, ntsrotate 0 without ntsdumpdir, ...): 0, or
 * -1 with the reason in ERR.
 */
int cfg_nts_check(const struct horod_config *c, char *err, size_t errlen);

/* Write the effective configuration, defaults included, as directives into BUF. */
size_t cfg_format(const struct horod_config *c, char *buf, size_t len);

#endif
