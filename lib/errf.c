/* SPDX-License-Identifier: MIT */
#include "errf.h"

#include <stdio.h>

int cmc_verrf(char *err, size_t errlen, int rc, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	return rc;
}

int cmc_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = cmc_verrf(err, errlen, rc, fmt, ap);
	va_end(ap);
	return rc;
}
