/*
 * Unit tests of SIGHUP's reload of the keyfile (daemon/auth/auth.c,
 * auth_reload and auth_reclaim): a new file is in force for the next
 * request (a MAC of its key answered, one of a removed key dropped) and
 * the old table waits for auth_reclaim; a file everyone may read, or one
 * with a bad line, keeps the keys in force; a reload while the table
 * before the last one is still held is refused. (The NTS certificate's
 * reload and the workers' quiescence are tests/system/62-nts-keys.sh's.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "daemon/auth/auth.h"
#include "daemon/sys/log.h"
#include "proto/ntp.h"

Suite *authreload_suite(void);

static char dir[64], path[128];
static struct horod_config *cfg;
static struct auth_shared as;
static struct auth_worker aw;

/* Write TEXT as the keyfile with MODE. */
static void write_keys(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void setup(void)
{
	char err[512];

	snprintf(dir, sizeof(dir), "/tmp/horod-authreload-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	write_keys("1 MD5 ASCII:first-secret\n", 0600);
	cfg = calloc(1, sizeof(*cfg));
	ck_assert_ptr_nonnull(cfg);
	cfg_defaults(cfg);
	snprintf(cfg->nts.keyfile, sizeof(cfg->nts.keyfile), "%s", path);
	ck_assert_msg(auth_open(&as, cfg, 1, err, sizeof(err)) == 0, "auth_open: %s", err);
	ck_assert_int_eq(auth_worker_init(&as, &aw), 0);
}

static void teardown(void)
{
	auth_close(&as);
	cfg_free(cfg);
	free(cfg);
	unlink(path);
	rmdir(dir);
}

/* What auth_check does with a mode 3 request MACed under key ID with SECRET (MD5). */
static enum auth_action ask(unsigned int id, const char *secret)
{
	uint8_t req[NTP_HEADER_LEN + 4 + 16] = {0x23};
	struct auth_req ar;
	struct sk_key k;
	char line[128], err[128];
	size_t len;
	int outcome;
	enum auth_action a;

	snprintf(line, sizeof(line), "%u MD5 ASCII:%s", id, secret);
	ck_assert_int_eq(sk_parse_line(line, &k, err, sizeof(err)), 1);
	memset(req + 40, 0x5a, 8);
	len = sk_append(&k, req, NTP_HEADER_LEN);
	a = auth_check(&as, &aw, req, len, 1, &ar, &outcome);
	/* Answered with the key's MAC, or dropped as a key the table lacks. */
	ck_assert_int_eq(outcome, a == AUTH_ANSWER ? AUTH_MAC_OK : AUTH_MAC_UNKNOWN_KEY);
	return a;
}

START_TEST(test_new_keys_in_force)
{
	ck_assert_int_eq(ask(1, "first-secret"), AUTH_ANSWER);
	ck_assert_int_eq(ask(2, "second-secret"), AUTH_DROP);
	write_keys("2 MD5 ASCII:second-secret\n3 MD5 ASCII:third-secret\n", 0640);
	ck_assert_int_eq(auth_reload(&as, cfg), 1);
	ck_assert_msg(as.keys_retired != NULL, "the old table should wait for auth_reclaim");
	ck_assert_int_eq(atomic_load(&as.n_keys), 2);
	ck_assert_int_eq(ask(2, "second-secret"), AUTH_ANSWER);
	ck_assert_int_eq(ask(3, "third-secret"), AUTH_ANSWER);
	ck_assert_msg(ask(1, "first-secret") == AUTH_DROP, "a removed key should not be answered");
	auth_reclaim(&as);
	ck_assert_ptr_null(as.keys_retired);
	ck_assert_int_eq(ask(2, "second-secret"), AUTH_ANSWER);
}
END_TEST

START_TEST(test_bad_file_keeps_keys)
{
	write_keys("2 MD5 ASCII:second-secret\n", 0644);
	ck_assert_msg(auth_reload(&as, cfg) == -1, "a keyfile everyone may read is refused");
	ck_assert_ptr_null(as.keys_retired);
	ck_assert_int_eq(ask(1, "first-secret"), AUTH_ANSWER);
	write_keys("2 MD5 ASCII:second-secret\n3 SHA256 HEX:00\n", 0600);
	ck_assert_msg(auth_reload(&as, cfg) == -1, "a bad line is refused");
	ck_assert_int_eq(ask(1, "first-secret"), AUTH_ANSWER);
	ck_assert_int_eq(ask(2, "second-secret"), AUTH_DROP);
	unlink(path);
	ck_assert_msg(auth_reload(&as, cfg) == -1, "a missing keyfile is refused");
	ck_assert_int_eq(ask(1, "first-secret"), AUTH_ANSWER);
	ck_assert_int_eq(atomic_load(&as.n_keys), 1);
}
END_TEST

START_TEST(test_held_table_blocks_reload)
{
	write_keys("2 MD5 ASCII:second-secret\n", 0600);
	ck_assert_int_eq(auth_reload(&as, cfg), 1);
	/* No auth_reclaim: a worker might still hold the first table. */
	write_keys("3 MD5 ASCII:third-secret\n", 0600);
	ck_assert_int_eq(auth_reload(&as, cfg), -1);
	ck_assert_int_eq(ask(2, "second-secret"), AUTH_ANSWER);
	ck_assert_int_eq(ask(3, "third-secret"), AUTH_DROP);
	auth_reclaim(&as);
	ck_assert_int_eq(auth_reload(&as, cfg), 1);
	ck_assert_int_eq(ask(3, "third-secret"), AUTH_ANSWER);
	auth_reclaim(&as);
}
END_TEST

Suite *authreload_suite(void)
{
	Suite *s = suite_create("authreload");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_new_keys_in_force);
	tcase_add_test(tc, test_bad_file_keeps_keys);
	tcase_add_test(tc, test_held_table_blocks_reload);
	suite_add_tcase(s, tc);
	return s;
}
