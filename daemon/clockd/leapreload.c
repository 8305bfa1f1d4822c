/*
 * The leap table read again on SIGHUP (leapreload.h), for main.c: the
 * configured `leapfile` or `leapsectz` zone loaded afresh, checked (it
 * lists leap seconds, has not expired at the time horod serves) and put
 * in force in the clock core, or the table in force kept with one line
 * saying why.
 */
#include <string.h>
#include <time.h>

#include "clock/leapload.h"
#include "daemon/clockd/leapreload.h"
#include "daemon/clockd/report.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"

/*
 * SIGHUP: the leap table (`leapfile`, `leapsectz`) read again. It takes
 * the place of the one in force only when it loads (a leapfile's hash
 * matches), lists leap seconds and has not expired at the time horod
 * serves; else the one in force stays and one line says why. Runs in
 * the clock thread, the only one that reads the table.
 */
void clockd_reload_leap(struct clockd *cd, struct cfg_leap *leap)
{
	static struct ntp_leaptab tab; /* 2 KB: off the stack */
	static struct clockd_tracking tr;
	char why[256];
	int64_t now;
	int r;

	if (leap->src == CFG_LEAP_NONE)
		return;
	if (leap->src == CFG_LEAP_FILE)
		r = clk_leap_load_list(leap->path, &tab, why, sizeof(why));
	else
		r = clk_leap_load_tzif(leap->path, &tab, why, sizeof(why));
	clockd_report_tracking(cd, &tr);
	now = clk_snapshot_served(&tr.snap, tr.sys_ns) / NS_PER_SEC;
	if (r < 0) {
		log_msg(LOG_ERR, "SIGHUP: leap table %s: %s: the table in force stays", leap->path,
			why);
	} else if (tab.n == 0) {
		log_msg(LOG_ERR,
			"SIGHUP: leap table %s lists no leap second: the table in force "
			"stays",
			leap->path);
	} else if (ntp_leaptab_expired(&tab, now)) {
		log_msg(LOG_ERR, "SIGHUP: leap table %s has expired: the table in force stays",
			leap->path);
	} else if (memcmp(&tab, &leap->tab, sizeof(tab)) == 0) {
		log_msg(LOG_INFO, "SIGHUP: leap table %s unchanged", leap->path);
	} else {
		time_t e = (time_t)tab.expires_s;
		struct tm tm;
		char date[32] = "never";

		if (tab.expires_s && gmtime_r(&e, &tm))
			strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		leap->tab = tab;
		clk_core_set_leaptab(cd->core, &leap->tab);
		cd->leap_exp = -1; /* its expiry logged again */
		log_msg(LOG_NOTICE, "SIGHUP: leap table %s reloaded: %d entries, expires %s",
			leap->path, tab.n, date);
	}
}
