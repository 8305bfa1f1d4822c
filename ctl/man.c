/*
 * The manual pages `horoctl help COMMAND` and `horoctl COMMAND --help`
 * print: one per command, NAME / SYNOPSIS / DESCRIPTION / OPTIONS /
 * EXIT STATUS, kept beside the command table so that a command without
 * its page stands out in review.
 */
#include <string.h>

#include "ctl/query.h"

/* ---- manual pages ------------------------------------------------------- */

#define MAN_OPTS                                                                                   \
	"\nOPTIONS\n"                                                                              \
	"  -s, --socket PATH  the control socket (horod's `control` directive); default,\n"        \
	"                     as horod's without one: /run/horod/horod.sock for root,\n"           \
	"                     else $XDG_RUNTIME_DIR/horod/horod.sock (when that is a\n"            \
	"                     directory of yours) or /tmp/horod-UID/horod.sock\n"                  \
	"  -j, --json         one JSON object on stdout instead of text\n"                         \
	"  -h, --help         this page\n"

#define MAN_EXIT                                                                                   \
	"\nEXIT STATUS\n"                                                                          \
	"  0 answered; 1 horod answered with an error; 2 bad usage or horod unreachable\n"

static const struct {
	const char *name, *page;
} man_pages[] = {
	{"status",
	 "NAME\n  horoctl status - is horod synchronised? (like ntpstat)\n"
	 "\nSYNOPSIS\n  horoctl status [-s SOCKET] [--json]\n"
	 "\nDESCRIPTION\n"
	 "  Prints one of\n"
	 "    synchronised to NTP server (ADDR) at stratum N\n"
	 "    synchronised to reference clock NAME (REFID) at stratum 1\n"
	 "    synchronised to local clock at stratum N\n"
	 "    synchronised, holding over (refid REFID) at stratum N\n"
	 "    unsynchronised\n"
	 "  (holding over: every source lost, the clock still within its bound)\n"
	 "  and when synchronised, the root distance (root delay / 2 + root\n"
	 "  dispersion) as `time correct to within X ms` and, with an upstream\n"
	 "  or a reference clock, `polling server every N s` (`polling reference\n"
	 "  clock every N s`). With a leap table (`leapfile`, `leapsectz`): its\n"
	 "  path, expiry (valid, expires within 28 days, EXPIRED: no authority)\n"
	 "  and next leap second.\n" MAN_OPTS
	 "\nEXIT STATUS\n  0 synchronised, 1 unsynchronised, 2 horod unreachable or bad usage\n"},
	{"tracking", "NAME\n  horoctl tracking - the clock's state (like chronyc tracking)\n"
		     "\nSYNOPSIS\n  horoctl tracking [-s SOCKET] [--json]\n"
		     "\nDESCRIPTION\n"
		     "  Reference ID, stratum, reference time, system time offset (served time\n"
		     "  against the system clock), last and RMS offset, frequency, residual\n"
		     "  frequency, skew, root delay, root dispersion, update interval and leap\n"
		     "  status. With `driver sim`, the true error of the served time against\n"
		     "  the system clock. Without upstream sources or reference clocks only\n"
		     "  the local reference's fields are shown. --json adds the system peer\n"
		     "  (source, and source_kind: ntp or refclock). Then the leap second:\n"
		     "  `leapsecmode`, whether the leap file is the authority now, the leap\n"
		     "  planned (insert or delete, at the end of which day) and, under\n"
		     "  `leapsecmode smear`, whether the served time is being smeared, the\n"
		     "  smear offset (served minus UTC) and the interval; under `leapsecmode\n"
		     "  slew`, whether the served time is being slewed back to UTC after the\n"
		     "  leap and the offset still to slew (served minus UTC).\n" MAN_OPTS MAN_EXIT},
	{"sources", "NAME\n  horoctl sources - the reference clocks and upstream sources (like "
		    "ntpq -p)\n"
		    "\nSYNOPSIS\n  horoctl sources [-s SOCKET] [--json]\n"
		    "\nDESCRIPTION\n"
		    "  One line per source: tally code (* system peer, + candidate,\n"
		    "  - outlier or not combined (a preferred source is), x falseticker,\n"
		    "  # backup, blank rejected or noselect), remote (a reference clock's\n"
		    "  name: SHM0, SOCK0, PHC0, PPS0), refid, stratum (0 for a reference\n"
		    "  clock), type (u: unicast server, l: reference clock), seconds since\n"
		    "  the last sample (when),\n"
		    "  poll interval in s, reach register in octal, delay, offset and jitter\n"
		    "  in ms, and the flash bits of the last reply by name (pkt_dup,\n"
		    "  pkt_bogus, pkt_unsync, pkt_denied, pkt_auth, pkt_stratum, pkt_header,\n"
		    "  pkt_autokey, pkt_crypto, peer_stratum, peer_dist, peer_loop,\n"
		    "  peer_unreach), `-` when every test passed. A reference clock is\n"
		    "  unreachable after 4 polls without a usable sample. --json adds, for\n"
		    "  each reference clock, its device, its samples, polls, empty polls and\n"
		    "  the samples not used by reason (dropped_torn, dropped_stale,\n"
		    "  dropped_future, dropped_format, dropped_badtime, dropped_missed,\n"
		    "  dropped_unsync, dropped_unnumbered, dropped_old); for each\n"
		    "  upstream source, how it is authenticated (auth: nts, key or none)\n"
		    "  and, with NTS, the cookies it holds (nts_cookies, -1 while NTS-KE\n"
		    "  is due).\n" MAN_OPTS MAN_EXIT},
	{"serverstats",
	 "NAME\n  horoctl serverstats - what the server did with the requests it got\n"
	 "\nSYNOPSIS\n  horoctl serverstats [-s SOCKET] [--json]\n"
	 "\nDESCRIPTION\n"
	 "  Requests received, answered and dropped, the nonzero counts by reason\n"
	 "  (the names of proto/reason.h, as in the SIGUSR1 counters line and the\n"
	 "  metrics), the receive timestamp source (hardware, kernel, daemon), and\n"
	 "  the time replies of the workers by mode (basic, interleaved: RFC 9769)\n"
	 "  and the interleaved ones by the source of their transmit timestamp\n"
	 "  (hardware, kernel, daemon: the time read before the previous reply\n"
	 "  left, its stamp not back in time), the transmit stamps read back and\n"
	 "  those matching no reply, the clients whose interleaved state a new one\n"
	 "  took (clientloglimit full), and\n"
	 "  the same per worker thread. With the XDP guard running, the totals\n"
	 "  include what it consumed (drops, the kiss-o'-death it sends itself,\n"
	 "  and with `guard serve on` the time replies it sends), shown again as\n"
	 "  \"of them by XDP\"; the per-worker rows count only what reached each\n"
	 "  worker. Then NTS requests by outcome (ok; bad cookie and bad\n"
	 "  authenticator, answered with an NTS NAK; malformed and to a server\n"
	 "  without NTS, dropped), MAC requests (ok; unknown key and bad MAC,\n"
	 "  dropped) and NTS-KE sessions by outcome (JSON: \"auth\", \"ke\").\n" MAN_OPTS MAN_EXIT},
	{"config", "NAME\n  horoctl config - the effective configuration of the running horod\n"
		   "\nSYNOPSIS\n  horoctl config [-s SOCKET] [--json]\n"
		   "\nDESCRIPTION\n"
		   "  Every directive as horod understood it, defaults included, in a form\n"
		   "  horod -f reads back. --json gives {\"config\": TEXT}.\n" MAN_OPTS MAN_EXIT},
	{"metrics",
	 "NAME\n  horoctl metrics - every counter and gauge in Prometheus text format\n"
	 "\nSYNOPSIS\n  horoctl metrics [-s SOCKET] [--json]\n"
	 "\nDESCRIPTION\n"
	 "  The same text horod serves over HTTP at GET /metrics with\n"
	 "  `metrics listen ADDR:PORT`: horod_requests_total{reason=...},\n"
	 "  horod_rx_timestamps_total{source=...}, horod_replies_mode_total{mode=...},\n"
	 "  horod_interleaved_tx_total{source=...}, horod_tx_stamps_total, horod_stratum,\n"
	 "  horod_root_dispersion_seconds, horod_offset_seconds,\n"
	 "  horod_frequency_ppm, per-source gauges labelled source=..., ...\n"
	 "  --json gives {\"metrics\": {\"NAME{LABELS}\": VALUE, ...}}.\n" MAN_OPTS MAN_EXIT},
	{"clients", "NAME\n  horoctl clients - the busiest clients (like chronyc clients)\n"
		    "\nSYNOPSIS\n  horoctl clients [-s SOCKET] [--json]\n"
		    "\nDESCRIPTION\n"
		    "  The 100 clients that sent the most requests, busiest first: address,\n"
		    "  requests, how many of them were dropped (denied, rate limited,\n"
		    "  malformed) or answered with a kiss-o'-death, the mean interval between\n"
		    "  their requests and how long ago the last one came. Every worker keeps\n"
		    "  its own log of 4096 sources in four-way sets: a new source takes the\n"
		    "  place of one silent for an hour, else of the one with the fewest\n"
		    "  requests in its set (the longest unseen of those), so a flood of\n"
		    "  one-off (spoofed) sources churns through the least busy places and\n"
		    "  leaves busier clients alone. The answer\n"
		    "  adds up one address's entries across workers. With the XDP guard\n"
		    "  dropping in the kernel, those drops never reach the log: see\n"
		    "  `horoctl guard` for them.\n" MAN_OPTS MAN_EXIT},
	{"guard", "NAME\n  horoctl guard - the XDP guard's counters, rates and top talkers\n"
		  "\nSYNOPSIS\n  horoctl guard [--pin DIR] [--json] [--once] [--top N]\n"
		  "\nDESCRIPTION\n"
		  "  Reads the maps horod's XDP guard pinned in bpffs (`guard pin DIR`,\n"
		  "  default /sys/fs/bpf/horod) directly: no control socket is needed, and\n"
		  "  it works while horod runs or after it stopped with the maps pinned.\n"
		  "  Shows the attach mode (native or generic), the interfaces, the\n"
		  "  guard's configuration, the total and the rate per second of every\n"
		  "  reason (passed to horod, dropped malformed, denied, over the rate\n"
		  "  limit, kiss-o'-death sent), how the packets spread over the CPUs, and\n"
		  "  the top talkers among denied and over-rate sources. With `guard stamp\n"
		  "  on`, tx_stamped_egress (after the total: replies leaving, not frames\n"
		  "  classified) counts the replies whose transmit time it wrote at egress.\n"
		  "\nOPTIONS\n"
		  "  --pin DIR  where the maps are pinned (horod's `guard pin`)\n"
		  "  --once     totals only (a rate needs two samples one second apart)\n"
		  "  --top N    talkers shown, 0-100 (default 10)\n"
		  "  --json     one JSON object on stdout instead of text\n"
		  "  -h, --help the short usage\n"
		  "\nEXIT STATUS\n"
		  "  0 shown; 1 the maps could not be read (reading BPF maps needs root or\n"
		  "  CAP_BPF); 2 bad usage or nothing pinned in DIR\n"},
	{"check", "NAME\n  horoctl check - would clients accept this NTP server, and if not, why\n"
		  "\nSYNOPSIS\n  horoctl check HOST[:PORT] [-n N] [--timeout S] [--json]\n"
		  "  horoctl check --nts HOST[:PORT] [--ca FILE] [--no-time-check] [--timeout S]\n"
		  "                [--json]\n"
		  "  horoctl check HOST[:PORT] --against REF[:PORT] [--rounds K] [--every S]\n"
		  "                [-n N] [--timeout S] [--json]\n"
		  "\nDESCRIPTION\n"
		  "  Queries any NTP server (not only horod) as a client, N times 0.2 s\n"
		  "  apart, and reports reachability, stratum, leap, the refid decoded,\n"
		  "  precision, root delay, root dispersion, root distance (delay / 2 +\n"
		  "  dispersion), offset, delay and jitter; the RFC 5905 tests that fail\n"
		  "  by ntpd's flash names (e.g. 0x400 peer_dist); and a verdict per\n"
		  "  client: ntpd/NTPsec (tos maxdist, 1.5 s), chrony (maxdistance, 3 s),\n"
		  "  systemd-timesyncd (RootDistanceMaxSec, 5 s) and an RFC 5905 client\n"
		  "  (MAXDIST, 1 s), each accept or reject with the reason. Then the fix on\n"
		  "  each side: for a server that looks like Windows w32time (stratum 1,\n"
		  "  refid LOCL or similar, seconds of dispersion) the w32tm commands that\n"
		  "  lower its advertised dispersion; for the clients the setting that\n"
		  "  would accept it. Unsynchronised servers (LI 3, stratum 0 or 16),\n"
		  "  kiss-o'-death replies, replies whose origin does not match and\n"
		  "  silence each get their own message. Last, whether the server\n"
		  "  announces a leap second (LI, set during the last day before it).\n"
		  "  With --against REF: K rounds S s apart, each asking the server then\n"
		  "  REF; per round the server's offset minus REF's (and both LIs), their\n"
		  "  range and drift (ppm), and whether the server smears against REF:\n"
		  "  beyond 1 ms, drifting more than 1 ppm (a smear over L s drifts 1e6/L\n"
		  "  ppm), and by how much. Run it across the smear window.\n"
		  "  HOST is a name, an IPv4 address or [IPv6]; PORT defaults to 123.\n"
		  "  With --nts: an NTS-KE exchange with HOST (PORT defaults to 4460: TLS 1.3,\n"
		  "  ALPN ntske/1, the certificate checked against HOST with --ca FILE or the\n"
		  "  system's trust store) and one NTS-authenticated query with the first\n"
		  "  cookie to the NTP server it named; reports the TLS session, the\n"
		  "  certificate chain and each expiry, the AEAD, the cookies, where NTP\n"
		  "  goes, the query's outcome, and a failure by its stage and name. Exit\n"
		  "  0 NTS works, 1 NTS failed, 2 unreachable, 3 bad usage.\n"
		  "\nOPTIONS\n"
		  "  -n N         requests to send, 1-16 (default 4)\n"
		  "  --timeout S  seconds to wait after the last request (default 2)\n"
		  "  --json       one JSON object on stdout instead of text\n"
		  "  --against REF  compare with the reference REF[:PORT]\n"
		  "  --rounds K   rounds with --against, 1-100 (default 5)\n"
		  "  --every S    seconds between rounds, 0-3600 (default 2)\n"
		  "  -h, --help   the short usage\n"
		  "\nEXIT STATUS\n"
		  "  0 accepted by every client; 1 rejected by some; 2 unreachable (no valid\n"
		  "  reply); 3 bad usage or a local error\n"},
	{"help", "NAME\n  horoctl help - the manual page of a command\n"
		 "\nSYNOPSIS\n  horoctl help [COMMAND]\n"
		 "\nDESCRIPTION\n"
		 "  Without COMMAND, the list of commands with one line each (as\n"
		 "  horoctl --help). With COMMAND, its manual page.\n"
		 "\nEXIT STATUS\n  0 shown; 2 no such command\n"},
};

const char *query_man(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(man_pages) / sizeof(man_pages[0]); i++)
		if (strcmp(man_pages[i].name, name) == 0)
			return man_pages[i].page;
	return NULL;
}
