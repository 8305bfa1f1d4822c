/*
 * Names and descriptions of the request outcomes. Both tables are
 * generated from NTP_REASON_LIST in reason.h, so the enum, the names and
 * the descriptions cannot drift apart; whether a reason is a reply is read
 * from its stable name ("reply_" prefix), not from a second list.
 */
#include <string.h>

#include "proto/reason.h"

#define REPLY_PREFIX "reply_" /* stable-name prefix of the reasons that send a reply */

static const char *const reason_names[NTP_REASON_MAX] = {
#define REASON_NAME(id, name, desc) [NTP_R_##id] = name,
	NTP_REASON_LIST(REASON_NAME)
#undef REASON_NAME
};

static const char *const reason_descs[NTP_REASON_MAX] = {
#define REASON_DESC(id, name, desc) [NTP_R_##id] = desc,
	NTP_REASON_LIST(REASON_DESC)
#undef REASON_DESC
};

static int reason_valid(enum ntp_reason r)
{
	return (unsigned int)r < (unsigned int)NTP_REASON_MAX;
}

const char *ntp_reason_name(enum ntp_reason r)
{
	return reason_valid(r) ? reason_names[r] : "unknown";
}

const char *ntp_reason_desc(enum ntp_reason r)
{
	return reason_valid(r) ? reason_descs[r] : "unknown reason";
}

int ntp_reason_from_name(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i < NTP_REASON_MAX; i++)
		if (strcmp(reason_names[i], name) == 0)
			return i;
	return -1;
}

int ntp_reason_is_reply(enum ntp_reason r)
{
	if (!reason_valid(r))
		return 0;
	return strncmp(reason_names[r], REPLY_PREFIX, sizeof(REPLY_PREFIX) - 1) == 0;
}
