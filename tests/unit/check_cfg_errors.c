/*
 * The error path of every configuration directive (daemon/config/config.c and
 * the cfg_*.c files): each refused text must give a message that starts
 * with NAME:LINE: on the right line, names what was wrong and says what
 * is allowed; a few messages are checked word for word.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config/config.h"

Suite *cfg_errors_suite(void);

#define NAME "horod.conf"

static struct horod_config cfg;
static char err[512];

static void setup(void)
{
	cfg_defaults(&cfg);
	memset(err, 0, sizeof(err));
}

static void teardown(void)
{
	cfg_free(&cfg);
}

/* An error case: TEXT must fail on LINE with a message containing WANT. */
static const struct {
	const char *text;
	int line;
	const char *want;
} errors[] = {
	/* listen */
	{"listen\n", 1, "'listen' needs an address, allowed: listen ADDR [port N]"},
	{"# x\nlisten localhost\n", 2, "bad listen address 'localhost'"},
	{"listen 10.0.0.1/8\n", 1, "bad listen address"},
	{"listen 127.0.0.1 port\n", 1, "'port' needs a number, allowed 1-65535"},
	{"listen 127.0.0.1 port 0\n", 1, "port 0 out of range, allowed 1-65535"},
	{"\n\n\nlisten 127.0.0.1 port 70000\n", 4, "port 70000 out of range, allowed 1-65535"},
	{"listen 127.0.0.1 port 65536\n", 1, "port 65536 out of range"},
	{"listen 127.0.0.1 port -1\n", 1, "port -1 out of range"},
	{"listen 127.0.0.1 port 12abc\n", 1, "bad port '12abc', allowed 1-65535"},
	{"listen 127.0.0.1 port 0x10\n", 1, "bad port '0x10'"},
	{"listen 127.0.0.1 port +5\n", 1, "bad port '+5'"},
	{"listen 127.0.0.1 port 99999999999999999999999\n", 1, "out of range, allowed 1-65535"},
	{"listen 127.0.0.1 prot 123\n", 1, "unknown listen option 'prot'"},
	{"listen 127.0.0.1 port 123 extra\n", 1, "extra argument 'extra'"},
	{"listen 127.0.0.1 ; comment\n", 1, "unknown listen option ';'"},
	{"listen ::1\nlisten ::1\n", 2, "duplicate listen '::1'"},
	{"listen ::1 port 5\nlisten ::1 port 5\n", 2, "duplicate listen '::1 port 5'"},
	/* local */
	{"local\n", 1, "'local' needs a stratum, allowed: local stratum N [dispersion SECONDS]"},
	{"local strata 3\n", 1, "unknown local option 'strata'"},
	{"local stratum\n", 1, "'stratum' needs a number, allowed 1-15"},
	{"#\n#\n#\n#\n#\n#\nlocal stratum 16\n", 7, "stratum 16 out of range, allowed 1-15"},
	{"local stratum 0\n", 1, "stratum 0 out of range, allowed 1-15"},
	{"local stratum abc\n", 1, "bad stratum 'abc', allowed 1-15"},
	{"local stratum 1.5\n", 1, "bad stratum '1.5'"},
	{"local stratum 10 disp 1\n", 1, "unknown local option 'disp'"},
	{"local stratum 10 dispersion\n", 1,
	 "'dispersion' needs a number of seconds, allowed 0-16"},
	{"local stratum 10 dispersion -0.1\n", 1, "dispersion -0.1 out of range, allowed 0-16"},
	{"local stratum 10 dispersion 16.001\n", 1, "dispersion 16.001 out of range"},
	{"local stratum 10 dispersion 1e999\n", 1, "dispersion 1e999 out of range"},
	{"local stratum 10 dispersion nan\n", 1, "bad dispersion 'nan'"},
	{"local stratum 10 dispersion inf\n", 1, "bad dispersion 'inf'"},
	{"local stratum 10 dispersion 0x1p-3\n", 1, "bad dispersion '0x1p-3'"},
	{"local stratum 10 dispersion 1ms\n", 1, "bad dispersion '1ms'"},
	{"local stratum 10 dispersion .\n", 1, "bad dispersion '.'"},
	{"local stratum 10 dispersion 1e\n", 1, "bad dispersion '1e'"},
	{"local stratum 10 dispersion 0.1 x\n", 1, "extra argument 'x'"},
	{"local stratum 10\nlocal stratum 9\n", 2, "'local' already given on line 1, allowed once"},
	/* allow / deny */
	{"allow\n", 1, "'allow' needs an address, allowed: allow ADDR[/PLEN]|all"},
	{"deny\n", 1, "'deny' needs an address, allowed: deny ADDR[/PLEN]|all"},
	{"\nallow 10.0.0.0/33\n", 2, "prefix length 33 out of range, allowed 0-32 for IPv4"},
	{"deny ::/129\n", 1, "prefix length 129 out of range, allowed 0-128 for IPv6"},
	{"allow 10/8\n", 1, "bad address '10/8'"},
	{"allow bogus\n", 1, "bad address 'bogus'"},
	{"deny 10.0.0.0/8x\n", 1, "bad prefix length '8x'"},
	{"allow 10.0.0.0/8 10.1.0.0/16\n", 1, "extra argument '10.1.0.0/16'"},
	{"deny all extra\n", 1, "extra argument 'extra'"},
	/* control */
	{"control\n", 1, "'control' needs 'allow' and an address, allowed: control allow"},
	{"control deny 10.0.0.0/8\n", 1, "unknown control option 'deny'"},
	{"control allow\n", 1, "'control allow' needs an address"},
	{"control allow 10.0.0.0/8 x\n", 1, "extra argument 'x'"},
	{"control allow 1.2.3.4/40\n", 1, "prefix length 40 out of range"},
	/* workers */
	{"workers\n", 1, "'workers' needs a number, allowed 1-256 or auto"},
	{"workers 0\n", 1, "workers 0 out of range, allowed 1-256 or auto"},
	{"workers 257\n", 1, "workers 257 out of range, allowed 1-256 or auto"},
	{"workers -1\n", 1, "workers -1 out of range"},
	{"workers many\n", 1, "bad workers 'many'"},
	{"workers 0x10\n", 1, "bad workers '0x10'"},
	{"workers 4#\n", 1, "bad workers '4#'"},
	{"workers 4 8\n", 1, "extra argument '8'"},
	{"workers 4\nworkers auto\n", 2, "'workers' already given on line 1"},
	/* clientloglimit */
	{"clientloglimit\n", 1, "'clientloglimit' needs a number of bytes, allowed 0-2147483648"},
	{"clientloglimit 2147483649\n", 1,
	 "clientloglimit 2147483649 out of range, allowed 0-2147483648"},
	{"clientloglimit -1\n", 1, "clientloglimit -1 out of range"},
	{"clientloglimit 1M\n", 1, "bad clientloglimit '1M'"},
	{"clientloglimit 4096 8\n", 1, "extra argument '8'"},
	{"clientloglimit 0\nclientloglimit 1\n", 2, "'clientloglimit' already given on line 1"},
	/* io */
	{"io\n", 1, "'io' needs a mode, allowed: uring mmsg auto"},
	{"io epoll\n", 1, "unknown io mode 'epoll', allowed: uring mmsg auto"},
	{"io uring extra\n", 1, "extra argument 'extra'"},
	{"io uring\nio mmsg\n", 2, "'io' already given on line 1"},
	/* pidfile */
	{"pidfile\n", 1, "'pidfile' needs a path"},
	{"pidfile run/horod.pid\n", 1, "pidfile 'run/horod.pid' is not an absolute path"},
	{"pidfile /run/a b\n", 1, "extra argument 'b'"},
	{"pidfile /a\npidfile /b\n", 2, "'pidfile' already given on line 1"},
	/* log */
	{"log\n", 1, "'log' needs a destination, allowed: log stderr|syslog [debug]"},
	{"log file\n", 1, "unknown log destination 'file'"},
	{"log stderr verbose\n", 1, "unknown log option 'verbose'"},
	{"log syslog debug extra\n", 1, "extra argument 'extra'"},
	{"log syslog\nlog stderr\n", 2, "'log' already given on line 1"},
	/* general */
	{"# c\n\nlissen 127.0.0.1\n", 3,
	 "unknown directive 'lissen', allowed: listen local allow deny control workers io pidfile "
	 "log hwtimestamp server pool refclock driver discipline makestep maxdistance holdover "
	 "minsources driftfile"},
	/* hwtimestamp */
	{"hwtimestamp\n", 1, "'hwtimestamp' needs an interface, allowed: hwtimestamp IFACE"},
	{"hwtimestamp eth0 eth1\n", 1, "extra argument 'eth1'"},
	{"hwtimestamp abcdefghijklmnop\n", 1,
	 "bad interface name 'abcdefghijklmnop', allowed: 1-15"},
	{"hwtimestamp a/b\n", 1, "bad interface name 'a/b'"},
	{"hwtimestamp eth0\nhwtimestamp eth0\n", 2, "duplicate hwtimestamp 'eth0'"},
	/* ratelimit, denykod, guard */
	{"ratelimit interval\n", 1, "'interval' needs a number, allowed -19-12"},
	{"ratelimit interval 13\n", 1, "interval 13 out of range, allowed -19-12"},
	{"ratelimit interval -20\n", 1, "interval -20 out of range, allowed -19-12"},
	{"ratelimit burst 0\n", 1, "burst 0 out of range, allowed 1-255"},
	{"ratelimit burst 256\n", 1, "burst 256 out of range, allowed 1-255"},
	{"ratelimit burst many\n", 1, "bad burst 'many', allowed 1-255"},
	{"ratelimit leak 17\n", 1, "leak 17 out of range, allowed 0-16"},
	{"ratelimit leak 1.5\n", 1, "bad leak '1.5', allowed 0-16"},
	{"ratelimit rate 3\n", 1, "unknown ratelimit option 'rate', allowed: ratelimit [interval"},
	{"ratelimit burst 2 burst 3\n", 1, "'burst' given twice, allowed once"},
	{"ratelimit kod kod\n", 1, "'kod' given twice, allowed once"},
	{"ratelimit\nratelimit kod\n", 2, "'ratelimit' already given on line 1, allowed once"},
	{"denykod\n", 1, "'denykod' needs on or off, allowed: denykod on|off"},
	{"denykod yes\n", 1, "bad denykod 'yes', allowed: denykod on|off"},
	{"denykod on off\n", 1, "extra argument 'off'"},
	{"denykod on\ndenykod off\n", 2, "'denykod' already given on line 1"},
	{"guard\n", 1,
	 "'guard' needs interface, pin, serve or stamp, allowed: guard interface IFACE"},
	{"guard serve\n", 1, "'guard serve' needs on or off, allowed: guard serve on|off"},
	{"guard serve yes\n", 1, "bad guard serve 'yes', allowed: guard serve on|off"},
	{"guard serve on off\n", 1, "extra argument 'off'"},
	{"guard serve on\nguard serve off\n", 2, "'guard serve' already given on line 1"},
	{"guard stamp\n", 1, "'guard stamp' needs on or off, allowed: guard stamp on|off"},
	{"guard stamp 1\n", 1, "bad guard stamp '1', allowed: guard stamp on|off"},
	{"guard stamp off on\n", 1, "extra argument 'on'"},
	{"guard stamp on\nguard serve on\nguard stamp on\n", 3,
	 "'guard stamp' already given on line 1"},
	{"guard iface eth0\n", 1, "unknown guard option 'iface'"},
	{"guard interface\n", 1, "'guard interface' needs an interface"},
	{"guard interface abcdefghijklmnop\n", 1, "bad interface name 'abcdefghijklmnop', allowed"},
	{"guard interface a/b\n", 1, "bad interface name 'a/b'"},
	{"guard interface eth0 speed native\n", 1, "unknown guard interface option 'speed'"},
	{"guard interface eth0 mode\n", 1, "'mode' needs a value, allowed: native skb auto"},
	{"guard interface eth0 mode fast\n", 1, "unknown guard mode 'fast', allowed: native skb"},
	{"guard interface eth0 mode skb x\n", 1, "extra argument 'x'"},
	{"guard interface eth0\nguard interface eth0 mode skb\n", 2,
	 "duplicate guard interface 'eth0', allowed: each interface once"},
	{"guard pin\n", 1, "'guard pin' needs a directory, allowed: guard pin /DIR"},
	{"guard pin rel/dir\n", 1, "guard pin 'rel/dir' is not an absolute path, allowed: /DIR"},
	{"guard pin /a /b\n", 1, "extra argument '/b', allowed: guard pin /DIR [keep]"},
	{"guard pin /a keep keep\n", 1, "extra argument 'keep', allowed: guard pin /DIR [keep]"},
	{"guard pin /a\nguard pin /b\n", 2, "'guard pin' already given on line 1"},
	{"Listen 127.0.0.1\n", 1, "unknown directive 'Listen'"},
	{"peer 192.0.2.1 iburst\n", 1, "unknown directive 'peer'"},
	{"listen 127.0.0.1 port 123 a b c d e f g h i j k\n", 1, "extra argument 'a'"},
	{"\001bad\n", 1, "control character 0x01 at column 1"},
	/* user, seccomp */
	{"user\n", 1, "'user' needs an account name, allowed: user NAME"},
	{"user nobody extra\n", 1, "extra argument 'extra'"},
	{"user no-such-user-horod\n", 1, "unknown user 'no-such-user-horod', allowed: user NAME"},
	{"user ../etc\n", 1, "bad user name '../etc'"},
	{"user -x\n", 1, "bad user name '-x'"},
	{"user 0123456789012345678901234567890123456789012345678901234567890123\n", 1,
	 "bad user name"},
	{"user nobody\nuser nobody\n", 2, "'user' already given on line 1, allowed once"},
	{"seccomp\n", 1, "'seccomp' needs a level, allowed: seccomp 0|1|2"},
	{"seccomp 3\n", 1, "bad seccomp level '3', allowed: seccomp 0|1|2"},
	{"seccomp -1\n", 1, "bad seccomp level '-1'"},
	{"seccomp kill\n", 1, "bad seccomp level 'kill'"},
	{"seccomp 1 2\n", 1, "extra argument '2'"},
	{"seccomp 1\nseccomp 2\n", 2, "'seccomp' already given on line 1"},
	/* leapfile, leapsectz (issue 16): the table is read when its line is parsed */
	{"leapfile\n", 1, "'leapfile' needs a path, allowed: leapfile /ABSOLUTE/PATH"},
	{"leapfile leap-seconds.list\n", 1, "leapfile 'leap-seconds.list' is not an absolute path"},
	{"leapfile /nonexistent/leap-seconds.list\n", 1,
	 "leapfile: /nonexistent/leap-seconds.list: No such file or directory"},
	{"#\nleapfile " HOROD_TESTDATA "/leap/bad-hash.list\n", 2, "bad-hash.list: "},
	{"leapfile " HOROD_TESTDATA "/leap/no-hash.list\n", 1, "no-hash.list: "},
	{"leapfile " HOROD_TESTDATA "/leap/truncated.list\n", 1, "truncated.list: "},
	{"leapfile " HOROD_TESTDATA "/leap/future.list x\n", 1, "extra argument 'x'"},
	{"leapfile " HOROD_TESTDATA "/leap/future.list\nleapfile " HOROD_TESTDATA
	 "/leap/future.list\n",
	 2, "'leapfile' already given on line 1"},
	{"leapsectz right/UTC\nleapsectz right/UTC\n", 2, "'leapsectz' already given on line 1"},
	{"leapsectz\n", 1, "'leapsectz' needs a zone name"},
	{"leapsectz ../right/UTC\n", 1, "bad leapsectz zone name '../right/UTC'"},
	{"leapsectz /usr/share/zoneinfo/right/UTC\n", 1, "bad leapsectz zone name"},
	{"leapsectz right/Nowhere\n", 1, "right/Nowhere: No such file or directory"},
	{"leapsecmode\n", 1,
	 "'leapsecmode' needs a mode, allowed: leapsecmode system|step|slew|smear"},
	{"leapsecmode slow\n", 1, "unknown leapsecmode 'slow', allowed: system step slew smear"},
	{"leapsecmode ignore\n", 1, "unknown leapsecmode 'ignore'"},
	{"leapsecmode smear x\n", 1, "extra argument 'x'"},
	{"leapsecmode smear\nleapsecmode step\n", 2, "'leapsecmode' already given on line 1"},
	{"leapsmear\n", 1,
	 "'leapsmear' needs interval SECONDS, allowed: leapsmear interval SECONDS"},
	{"leapsmear 86400\n", 1, "'leapsmear' needs interval SECONDS"},
	{"leapsmear interval\n", 1, "'interval' needs a number, allowed 1-2419200"},
	{"leapsmear interval 0\n", 1, "interval 0 out of range, allowed 1-2419200"},
	{"leapsmear interval 2419201\n", 1, "interval 2419201 out of range"},
	{"leapsmear interval 1.5\n", 1, "bad interval '1.5'"},
	{"leapsmear interval 600 x\n", 1, "extra argument 'x'"},
	{"driver sim date 2016-12-31\n", 1,
	 "bad date '2016-12-31', allowed: YYYY-MM-DDTHH:MM:SSZ (1972-2499)"},
	{"driver sim date 2016-02-30T00:00:00Z\n", 1, "(no such day)"},
	{"driver sim date 1971-12-31T00:00:00Z\n", 1, "bad date"},
	{"driver sim date 2016-12-31T24:00:00Z\n", 1, "bad date"},
	{"driver sim date 2016-12-31T23:59:60Z\n", 1, "bad date"},
	{"driver sim date 2016-12-31T23:59:50Z0\n", 1, "bad date"},
	{"driver sim date\n", 1, "'date' needs a UTC date"},
	{"leapsmear interval 600\nleapsmear interval 700\n", 2,
	 "'leapsmear' already given on line 1"},
};

START_TEST(test_errors)
{
	const char *text = errors[_i].text;
	char prefix[64];
	size_t k;

	ck_assert_msg(cfg_parse_string(&cfg, NAME, text, err, sizeof(err)) == -1,
		      "\"%s\" should be refused", text);
	snprintf(prefix, sizeof(prefix), NAME ":%d: ", errors[_i].line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
		      "the message for \"%s\" should start with \"%s\", got \"%s\"", text, prefix,
		      err);
	ck_assert_msg(strstr(err, errors[_i].want) != NULL,
		      "the message for \"%s\" should contain \"%s\", got \"%s\"", text,
		      errors[_i].want, err);
	ck_assert_msg(strstr(err, "allowed") != NULL,
		      "the message for \"%s\" should say what is allowed, got \"%s\"", text, err);
	for (k = 0; err[k]; k++)
		ck_assert_msg(err[k] >= 0x20 && err[k] < 0x7f,
			      "the message for \"%s\" should be one printable line", text);
	ck_assert_msg(cfg.n_listen == 0 && cfg.acl.n == 0 && cfg.control_acl.n == 0 &&
			      !cfg.local.enabled && cfg.workers == 0 && cfg.io == CFG_IO_AUTO &&
			      !cfg.pidfile[0] && !cfg.log_syslog,
		      "a failed parse of \"%s\" should leave the defaults", text);
}
END_TEST

/*
 * The longest message, the list of every directive an unknown one gets,
 * whole in a buffer of CFG_ERR_MAX behind a long path (a 512-byte buffer
 * cut it at "clientlo" once the path was ~100 bytes: found by CI's
 * 91-install).
 */
START_TEST(test_directive_list_whole)
{
	char path[256], msg[CFG_ERR_MAX];
	size_t n;

	memset(path, 'd', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_eq(cfg_parse_string(&cfg, path, "lissen ::1\n", msg, sizeof(msg)), -1);
	n = strlen(msg);
	ck_assert_msg(n > 14 && strcmp(msg + n - 14, "clientloglimit") == 0,
		      "the list should end with the last directive: \"%s\"", msg);
	ck_assert_msg(strstr(msg, "allowed: listen local ") != NULL, "the list should be there");
}
END_TEST

START_TEST(test_exact_messages)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"#\n#\n#\n#\n#\n#\nlocal stratum 16\n",
		 "horod.conf:7: stratum 16 out of range, allowed 1-15"},
		{"#\n#\nlissen ::1\n",
		 "horod.conf:3: unknown directive 'lissen', allowed: listen local "
		 "allow deny control workers io pidfile log hwtimestamp server pool refclock "
		 "driver "
		 "discipline makestep maxdistance holdover minsources driftfile leapfile leapsectz "
		 "leapsecmode leapsmear ratelimit denykod "
		 "guard metrics user seccomp ntsservercert ntsserverkey ntsport ntsdumpdir "
		 "ntsrotate "
		 "ntsntpserver maxntsconnections ntsthreads keyfile ntstrustedcerts nosystemcert "
		 "nocerttimecheck clientloglimit"},
		{"#\n#\n#\nlisten ::1 port 70000\n",
		 "horod.conf:4: port 70000 out of range, allowed 1-65535"},
		{"#\nlisten\n",
		 "horod.conf:2: 'listen' needs an address, allowed: listen ADDR [port N]"},
		/* Found by fuzz_config: an interface named "\r" came back as something else. */
		{"hwtimestamp \r\r\n",
		 "horod.conf:1: control character 0x0d at column 13, allowed: printable text, "
		 "spaces and tabs"},
		{"#\ncontrol /run/a\x1b[2Jb.sock\n",
		 "horod.conf:2: control character 0x1b at column 15, allowed: printable text, "
		 "spaces and tabs"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(cfg_parse_string(&cfg, NAME, cases[i].text, err, sizeof(err)) == -1,
			      "case %zu should be refused", i);
		ck_assert_msg(strcmp(err, cases[i].msg) == 0, "should say \"%s\", got \"%s\"",
			      cases[i].msg, err);
	}
}
END_TEST

Suite *cfg_errors_suite(void)
{
	Suite *s = suite_create("cfg_errors");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof(errors) / sizeof(errors[0])));
	tcase_add_test(tc, test_exact_messages);
	tcase_add_test(tc, test_directive_list_whole);
	suite_add_tcase(s, tc);
	return s;
}
