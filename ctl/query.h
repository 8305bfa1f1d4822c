/*
 * horoctl's commands that read a running horod over its control socket
 * (proto/ctlproto.h): status, tracking, sources, serverstats, config and
 * metrics. Each takes [-s SOCKET] [--json] [-h]; each has a man-style
 * page for `horoctl help COMMAND`.
 */
#ifndef HOROD_CTL_QUERY_H
#define HOROD_CTL_QUERY_H

#define QUERY_TIMEOUT_MS 5000 /* ms to wait for connect + answer: the daemon answers in < 1 ms */

/* Exit codes of the query commands (status: 0 synchronised, 1 unsynchronised). */
#define QUERY_OK	  0 /* answered (status: synchronised) */
#define QUERY_FAIL	  1 /* error in the answer (status: unsynchronised) */
#define QUERY_UNREACHABLE 2 /* bad usage, or horod could not be reached */

/* Use PATH instead of the default socket (a global -s before the command). */
void query_set_socket(const char *path);

/*
 * The socket the commands ask: the -s PATH given, else horod's default for
 * this effective user (proto/ctlproto.h ctl_sock_default: /run/horod/horod.sock
 * for root, else $XDG_RUNTIME_DIR/horod/horod.sock or /tmp/horod-UID/horod.sock).
 */
const char *query_socket_path(void);

/* `horoctl status` (ARGV[0] is the command name, as for every command below). */
int query_status(int argc, char **argv);

/* `horoctl tracking`. */
int query_tracking(int argc, char **argv);

/* `horoctl sources`. */
int query_sources(int argc, char **argv);

/* `horoctl serverstats`. */
int query_serverstats(int argc, char **argv);

/* `horoctl config`. */
int query_config(int argc, char **argv);

/* `horoctl metrics`. */
int query_metrics(int argc, char **argv);

/* `horoctl clients`: the busiest clients, requests, drops, interval, last seen. */
int query_clients(int argc, char **argv);

/* The man-style page (ctl/man.c) of command NAME, or NULL when it has none. */
const char *query_man(const char *name);

#endif
