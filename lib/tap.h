/* SPDX-License-Identifier: MIT */
/*
 * A small TAP producer for the C unit tests (TAP version 13, read by prove).
 * Header-only on purpose: each test is one .c file linked with the library it tests.
 */
#ifndef CMC_TAP_H
#define CMC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed, tap_planned;

static inline void tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static inline __attribute__((format(printf, 2, 3))) int tap_ok(int pass, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return pass;
}

static inline __attribute__((format(printf, 1, 2))) void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define tap_is_int(got, want, ...)                                                          \
	do {                                                                                \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);            \
		if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))                                 \
			tap_diag("  got %lld, want %lld", tap_g_, tap_w_);                  \
	} while (0)

#define tap_is_str(got, want, ...)                                                          \
	do {                                                                                \
		const char *tap_g_ = (got), *tap_w_ = (want);                               \
		int tap_p_ = tap_g_ && tap_w_ ? strcmp(tap_g_, tap_w_) == 0 : tap_g_ == tap_w_; \
		if (!tap_ok(tap_p_, __VA_ARGS__))                                           \
			tap_diag("  got '%s', want '%s'", tap_g_ ? tap_g_ : "(null)",       \
				 tap_w_ ? tap_w_ : "(null)");                               \
	} while (0)

/* Exit status for main(): prove also checks the plan against the count. */
static inline int tap_done(void)
{
	if (tap_planned == 0)
		printf("1..%d\n", tap_run);
	return tap_failed ? 1 : 0;
}

#endif
