/* SPDX-License-Identifier: MIT */
#include "clock.h"

#include <time.h>

unsigned long long cmc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}
