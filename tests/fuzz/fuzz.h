/*
 * What every libFuzzer target of tests/fuzz/ shares: the entry point's
 * prototype (libFuzzer calls it; declaring it here satisfies
 * -Wmissing-prototypes) and FUZZ_ASSERT, which reports the broken
 * property with its file and line and aborts, so that libFuzzer keeps
 * the input that broke it as a crash file. The properties are what the
 * headers of the code under test promise; a target never asserts on
 * anything else.
 */
#ifndef HOROD_TESTS_FUZZ_FUZZ_H
#define HOROD_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer's entry point: run one input of SIZE bytes; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's optional one-time set-up, before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with "file:line: should ..." when COND does not hold. */
#define FUZZ_ASSERT(cond, what)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property broken: %s (%s)\n", __FILE__, __LINE__,   \
				what, #cond);                                                      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
