/*
 * Unit tests of daemon/auth/ntskeys.c: the key file's format both ways
 * and its errors; rotation (next becomes current, two previous kept, a
 * clock that went back does not rotate); a start with ntsdumpdir makes
 * and saves keys (0600) that the next start reads back, so a cookie
 * sealed before a restart opens after it; a world-readable file and a
 * missing file under ntsrotate 0 are refused; with ntsrotate 0 a changed
 * file is read again; an old key set is freed only once no reader holds it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "daemon/auth/ntskeys.h"
#include "proto/ntske.h"

Suite *ntskeys_suite(void);

static char dir[64];
static struct cfg_nts cfg;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/horod-ntskeys-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&cfg, 0, sizeof(cfg));
	cfg.rotate = 3600;
	snprintf(cfg.dumpdir, sizeof(cfg.dumpdir), "%s", dir);
}

static void teardown(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/ntskeys", dir);
	unlink(p);
	rmdir(dir);
}

/* A cookie sealed with S's current key. */
static void seal(struct nks *s, uint8_t *cookie)
{
	struct nts_cookie c = {.aead = NKE_AEAD_AES_SIV_CMAC_256};
	const uint8_t nonce[NTS_NONCE_LEN] = {9};
	const struct nts_keyset *ks;
	int slot = nks_slot_get(s);

	ck_assert_int_ge(slot, 0);
	ks = nks_enter(s, slot);
	nts_cookie_seal(&ks->key[ks->current], nonce, &c, cookie);
	nks_leave(s, slot);
}

/* 1 when COOKIE opens with S's keys. */
static int opens(struct nks *s, const uint8_t *cookie)
{
	struct nts_cookie c;
	const struct nts_keyset *ks = nks_enter(s, 0);
	int r = nts_cookie_open(ks, cookie, NTS_COOKIE_LEN, &c) == 0;

	nks_leave(s, 0);
	return r;
}

START_TEST(test_format_parse)
{
	struct nks_raws a = {.n = 3}, b;
	char buf[4096], err[128];
	int i;

	for (i = 0; i < 3; i++) {
		a.k[i].id = 0xa0000000u + (uint32_t)i;
		a.k[i].role = (enum nks_role)i;
		a.k[i].activated = i == 2 ? 0 : 1700000000 + i;
		memset(a.k[i].key, 0x11 * (i + 1), NTS_KEY_LEN);
	}
	ck_assert_uint_lt(nks_format(&a, buf, sizeof(buf)), sizeof(buf));
	ck_assert_msg(nks_parse(buf, &b, err, sizeof(err)) == 0, "should parse back: %s", err);
	ck_assert_int_eq(b.n, 3);
	ck_assert_msg(memcmp(&a.k, &b.k, sizeof(a.k[0]) * 3) == 0, "should read what was written");
}
END_TEST

START_TEST(test_parse_errors)
{
	static const char *key = "0000000000000000000000000000000000000000000000000000000000000000";
	struct nks_raws r;
	char text[1024], err[160];

	ck_assert_int_eq(nks_parse("", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(nks_parse("horod-ntskeys 2\n", &r, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "horod-ntskeys 1\nkey next 00000001 0 %s\n", key);
	ck_assert_int_eq(nks_parse(text, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no current key");
	snprintf(text, sizeof(text),
		 "horod-ntskeys 1\nkey current 00000001 5 %s\nkey current 00000002 6 %s\n", key,
		 key);
	ck_assert_int_eq(nks_parse(text, &r, err, sizeof(err)), -1);
	snprintf(text, sizeof(text),
		 "horod-ntskeys 1\nkey current 00000001 5 %s\nkey next 00000001 0 %s\n", key, key);
	ck_assert_int_eq(nks_parse(text, &r, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "twice") != NULL, "got %s", err);
	snprintf(text, sizeof(text), "horod-ntskeys 1\nkey current 0001 5 %s\n", key);
	ck_assert_int_eq(nks_parse(text, &r, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "horod-ntskeys 1\nkey current 00000001 5 %.62s\n", key);
	ck_assert_int_eq(nks_parse(text, &r, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "horod-ntskeys 1\nkey old 00000001 5 %s\n", key);
	ck_assert_int_eq(nks_parse(text, &r, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "# c\n\nhorod-ntskeys 1\nkey current 0000000a 5 %s\n", key);
	ck_assert_int_eq(nks_parse(text, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.k[0].id, 10);
}
END_TEST

START_TEST(test_rotate)
{
	struct nks_raws r = {.n = 2};
	const uint8_t nk[NTS_KEY_LEN] = {7};
	uint32_t id;

	r.k[0] = (struct nks_raw){.id = 1, .role = NKS_CURRENT, .activated = 1000};
	r.k[1] = (struct nks_raw){.id = 2, .role = NKS_NEXT};
	ck_assert_int_eq(nks_rotate(&r, 1000 + 3599, 3600, 3, nk), 0);
	ck_assert_int_eq(nks_rotate(&r, 500, 3600, 3, nk), 0); /* the clock went back */
	ck_assert_int_eq(r.k[0].activated, 500);
	for (id = 3; id <= 6; id++) {
		ck_assert_int_eq(nks_rotate(&r, 500 + 3600 * (id - 2), 3600, id, nk), 1);
		ck_assert_uint_eq(r.k[r.n - 1].id, id);
		ck_assert_int_eq(r.k[r.n - 1].role, NKS_NEXT);
		ck_assert_uint_eq(r.k[r.n - 2].id, id - 1);
		ck_assert_int_eq(r.k[r.n - 2].role, NKS_CURRENT);
	}
	/* Two previous (3 and 4), current 5, next 6. */
	ck_assert_int_eq(r.n, 4);
	ck_assert_uint_eq(r.k[0].id, 3);
	ck_assert_uint_eq(r.k[1].id, 4);
	ck_assert_int_eq(r.k[0].role, NKS_PREVIOUS);
}
END_TEST

START_TEST(test_restart_keeps_cookies)
{
	uint8_t cookie[NTS_COOKIE_LEN];
	char err[256], path[128];
	struct stat st;
	struct nks *s = calloc(1, sizeof(*s)), *t = calloc(1, sizeof(*t));

	ck_assert_msg(nks_init(s, &cfg, 1700000000, err, sizeof(err)) == 0, "%s", err);
	snprintf(path, sizeof(path), "%s/ntskeys", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0600, "the key file should be 0600, is %o",
		      st.st_mode & 0777);
	seal(s, cookie);
	nks_fini(s);
	/* "Restart": the same file, the cookie still opens. */
	ck_assert_msg(nks_init(t, &cfg, 1700000100, err, sizeof(err)) == 0, "%s", err);
	nks_slot_get(t);
	ck_assert_msg(opens(t, cookie), "a cookie from before the restart should open");
	/* Two rotations later the cookie's key is previous and still opens; three, it is gone. */
	ck_assert_int_eq(nks_tick(t, 1700000000 + 3600), 1);
	ck_assert_int_eq(nks_tick(t, 1700000000 + 7200), 1);
	ck_assert_msg(opens(t, cookie), "two rotations later the cookie should still open");
	ck_assert_int_eq(nks_tick(t, 1700000000 + 10800), 1);
	ck_assert_msg(!opens(t, cookie), "three rotations later the cookie should not open");
	nks_fini(t);
	free(s);
	free(t);
}
END_TEST

START_TEST(test_refusals)
{
	char err[256], path[128];
	struct nks *s = calloc(1, sizeof(*s));

	snprintf(path, sizeof(path), "%s/ntskeys", dir);
	cfg.rotate = 0;
	ck_assert_int_eq(nks_init(s, &cfg, 1700000000, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "ntsrotate 0") != NULL, "got %s", err);
	cfg.rotate = 3600;
	ck_assert_int_eq(nks_init(s, &cfg, 1700000000, err, sizeof(err)), 0);
	nks_fini(s);
	chmod(path, 0644);
	ck_assert_int_eq(nks_init(s, &cfg, 1700000000, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "readable by everyone") != NULL, "got %s", err);
	free(s);
}
END_TEST

START_TEST(test_external_reload)
{
	uint8_t cookie[NTS_COOKIE_LEN];
	char err[256];
	struct nks *w = calloc(1, sizeof(*w)), *r = calloc(1, sizeof(*r));

	/* A writer that rotates and a replica that only reads (ntsrotate 0), one file. */
	ck_assert_int_eq(nks_init(w, &cfg, 1700000000, err, sizeof(err)), 0);
	cfg.rotate = 0;
	ck_assert_msg(nks_init(r, &cfg, 1700000000, err, sizeof(err)) == 0, "%s", err);
	nks_slot_get(r);
	/* The writer rotates: its new cookies are sealed with the key the replica had as next. */
	ck_assert_int_eq(nks_tick(w, 1700003600), 1);
	nks_slot_get(w);
	seal(w, cookie);
	ck_assert_msg(opens(r, cookie), "the replica should accept the writer's next key at once");
	/* The writer rotates again; the replica reads the file when it looks again. */
	ck_assert_int_eq(nks_tick(w, 1700007200), 1);
	seal(w, cookie);
	ck_assert_msg(!opens(r, cookie), "a key two rotations ahead is not known yet");
	ck_assert_int_eq(nks_tick(r, 1700000000 + NKS_RELOAD_EVERY), 1);
	ck_assert_msg(opens(r, cookie), "after reading the file again it should be");
	ck_assert_int_eq(nks_tick(r, 1700000000 + 2 * NKS_RELOAD_EVERY), 0);
	nks_fini(w);
	nks_fini(r);
	free(w);
	free(r);
}
END_TEST

START_TEST(test_reclaim_waits_for_readers)
{
	char err[256];
	struct nks *s = calloc(1, sizeof(*s));
	const struct nts_keyset *held;
	int a, b;

	memset(cfg.dumpdir, 0, sizeof(cfg.dumpdir));
	ck_assert_int_eq(nks_init(s, &cfg, 1700000000, err, sizeof(err)), 0);
	a = nks_slot_get(s);
	b = nks_slot_get(s);
	held = nks_enter(s, a);
	ck_assert_int_eq(nks_tick(s, 1700003600), 1);
	ck_assert_int_eq(s->n_retired, 1);
	/* Slot a still holds the old set: ticks do not free it. */
	nks_tick(s, 1700003601);
	ck_assert_int_eq(s->n_retired, 1);
	ck_assert_ptr_eq(s->retired[0].set, held);
	/* A reader entering now gets the new set and does not hold the old one back. */
	ck_assert_ptr_ne(nks_enter(s, b), held);
	nks_leave(s, a);
	nks_tick(s, 1700003602);
	ck_assert_int_eq(s->n_retired, 0);
	nks_leave(s, b);
	nks_fini(s);
	free(s);
}
END_TEST

Suite *ntskeys_suite(void)
{
	Suite *s = suite_create("ntskeys");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_parse);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_rotate);
	tcase_add_test(tc, test_restart_keeps_cookies);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_external_reload);
	tcase_add_test(tc, test_reclaim_waits_for_readers);
	suite_add_tcase(s, tc);
	return s;
}
