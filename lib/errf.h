/* SPDX-License-Identifier: MIT */
/*
 * The sentence a library hands its caller with an error: functions that take
 * (char *err, size_t errlen) write one line there and return a negative errno.
 */
#ifndef CMC_ERRF_H
#define CMC_ERRF_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into err (unless err is NULL or errlen 0) and returns rc. */
int cmc_errf(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cmc_verrf(char *err, size_t errlen, int rc, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#endif
