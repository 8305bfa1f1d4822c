/*
 * horoctl's shared helpers (see common.h): a clock read and a JSON
 * string printer, each written once for every command.
 */
#include <stdio.h>

#include "ctl/common.h"
#include "proto/appendf.h"
#include "proto/nstime.h"

int64_t ctl_now_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return 0;
	return ns_from_timespec(&ts);
}

void ctl_json_str(const char *s)
{
	char esc[NTP_JSON_ESC_MAX];

	putchar('"');
	for (; *s; s++)
		fputs(ntp_json_char(*s, esc), stdout);
	putchar('"');
}
