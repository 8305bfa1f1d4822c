/*
 * The unit-test runner: every suite in one SRunner (fork mode, so a crash
 * or a timeout is an error, not the end of the run). Exits nonzero on any
 * failure and when no test ran at all. With an argument, runs only the
 * suite of that name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/suites.h"

struct suite_entry {
	const char *name;
	Suite *(*make)(void);
};

static const struct suite_entry all_suites[] = {
#define SUITE(name) {#name, name##_suite},
#include "suites.inc"
#undef SUITE
};

int main(int argc, char **argv)
{
	SRunner *sr = NULL;
	size_t i;
	int failed, run;

	for (i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]); i++) {
		if (argc > 1 && strcmp(argv[1], all_suites[i].name) != 0)
			continue;
		if (!sr)
			sr = srunner_create(all_suites[i].make());
		else
			srunner_add_suite(sr, all_suites[i].make());
	}
	if (!sr) {
		fprintf(stderr, "unit-tests: no suite matches '%s'\n", argc > 1 ? argv[1] : "");
		return 1;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	if (run == 0) {
		fprintf(stderr, "unit-tests: zero tests ran\n");
		return 1;
	}
	return failed ? 1 : 0;
}
