/*
 * systemd's service notifications (sd_notify(3)) for Type=notify: READY=1
 * once horod serves, STATUS= with its state, WATCHDOG=1 while it is
 * healthy, MAINPID= when a successor takes over. The protocol is one
 * datagram of newline-separated VAR=VALUE lines to the AF_UNIX socket
 * that NOTIFY_SOCKET names (a path, or '@' for the abstract namespace),
 * so it is written out here rather than linked from libsystemd: a few
 * lines, no new library in the daemon, and above all the socket is
 * opened and connected once at start-up, before the sandbox — libsystemd
 * opens a new socket for each message, a socket(2) call that neither the
 * seccomp allowlist nor an unprivileged account should have to allow
 * later (the path of systemd's socket is root's). Sending is then one
 * send(2). Without NOTIFY_SOCKET (not under systemd, or Type= not
 * notify) every call does nothing.
 */
#ifndef HOROD_DAEMON_NOTIFY_H
#define HOROD_DAEMON_NOTIFY_H

#include <stdint.h>

#define NTF_MSG_MAX 1024 /* bytes of one notification: READY=1, MAINPID= and a STATUS= line fit */

/*
 * Connect to the socket NOTIFY_SOCKET names; 1 connected, 0 when there is
 * none (not under systemd), -1 when it names one that cannot be used
 * (logged: horod runs on, systemd will time it out).
 */
int ntf_open(void);

/* 1 when notifications go somewhere. */
int ntf_active(void);

/*
 * Send one notification built from FMT ("READY=1\nSTATUS=..."; no
 * trailing newline needed): 0 when sent or when there is nowhere to send
 * it, -errno when the send failed (not logged: the caller decides).
 */
int ntf_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval systemd asks of this process (WATCHDOG_USEC,
 * unless WATCHDOG_PID names another process), in ns; 0 when none. Ping
 * (WATCHDOG=1) at half of it.
 */
int64_t ntf_watchdog_ns(void);

/* Close the socket (at exit; a later ntf_send does nothing). */
void ntf_close(void);

#endif
