/*
 * SIGHUP: the configuration read again and the part of it that can change
 * under a running horod applied without dropping a request — the access
 * lists (`allow`, `deny`, `control allow`), the rate limit and `denykod`
 * (the files it names, the keys, the NTS certificate and the leap table,
 * are read again by auth_reload and main.c). The XDP guard gets a new
 * program built for them, swapped into its links atomically, with its state maps
 * (counters, rate-limit state, talkers) carried over; the workers get a
 * new set of rules through one pointer, the old one freed once every
 * worker has moved past it; the limiter keeps every source's state. All
 * or nothing: when any step fails, nothing changed and one line says why.
 * Whatever else differs (listen addresses, workers, sources, the clock,
 * guard interfaces, privileges...) is named in one line as not applied:
 * that takes a restart.
 */
#ifndef HOROD_DAEMON_RELOAD_H
#define HOROD_DAEMON_RELOAD_H

#include "daemon/config/config.h"
#include "daemon/serve/serve.h"
#include "daemon/serve/worker.h"

/*
 * Read PATH (NULL: the embedded configuration) again and apply what can
 * be applied to the running horod: LIVE (its configuration, updated in
 * place for what was applied), SH (the workers' shared state) and the N
 * workers W. Runs in the clock thread. 1 applied, 0 nothing to apply,
 * -1 nothing changed (a configuration error or a failed step, logged).
 */
int srv_reload(struct horod_config *live, const char *path, struct srv_shared *sh, struct worker *w,
	       int n);

#endif
