/* SPDX-License-Identifier: MIT */
/* What every libFuzzer target here shares: its entry point and a check that stops the run. */
#ifndef CMC_FUZZ_H
#define CMC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: the fuzzer stops here and keeps the input. */
#define CHECK(cond)                      \
	do {                             \
		if (!(cond))             \
			__builtin_trap(); \
	} while (0)

#endif
