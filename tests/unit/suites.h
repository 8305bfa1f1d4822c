/*
 * The unit-test suites: one per module, tests/unit/check_NAME.c defines
 * NAME_suite(). The Makefile generates the list the runner walks.
 */
#ifndef HOROD_TESTS_SUITES_H
#define HOROD_TESTS_SUITES_H

#include <check.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.inc"
#undef SUITE

#endif
