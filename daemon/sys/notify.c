/*
 * The notification socket (see notify.h): NOTIFY_SOCKET read once, the
 * datagram socket connected once, each notification one send(2). The
 * environment is left as it is: a successor started by systemd for a
 * takeover gets the variable from systemd itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/sys/log.h"
#include "daemon/sys/notify.h"

#define NTF_USEC_MAX                                                                               \
	3600000000000LL /* us: an hour, far above any WatchdogSec= (keeps ns in range) */

static int ntf_fd = -1;

int ntf_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	size_t n;
	int fd;

	if (ntf_fd >= 0)
		return 1;
	if (!path || !*path)
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path)) {
		log_msg(LOG_WARNING,
			"NOTIFY_SOCKET=%s: not an absolute path or @name that fits; "
			"systemd will not hear that horod is ready",
			path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* the abstract namespace: no terminating NUL counted */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0) {
		log_msg(LOG_WARNING,
			"NOTIFY_SOCKET=%s: %s; systemd will not hear that horod is ready", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ntf_fd = fd;
	return 1;
}

int ntf_active(void)
{
	return ntf_fd >= 0;
}

int ntf_send(const char *fmt, ...)
{
	char msg[NTF_MSG_MAX];
	va_list ap;
	int n;

	if (ntf_fd < 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1; /* a STATUS= line cut short is still a STATUS= line */
	if (send(ntf_fd, msg, (size_t)n, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int64_t ntf_watchdog_ns(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	long long v;

	if (!us || !*us)
		return 0;
	if (pid && *pid) {
		v = strtoll(pid, &end, 10);
		if (*end || v != (long long)getpid())
			return 0;
	}
	v = strtoll(us, &end, 10);
	if (*end || v <= 0 || v > NTF_USEC_MAX)
		return 0;
	return (int64_t)v * 1000;
}

void ntf_close(void)
{
	if (ntf_fd >= 0)
		close(ntf_fd);
	ntf_fd = -1;
}
