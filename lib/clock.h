/* SPDX-License-Identifier: MIT */
/* The one clock every layer reads for intervals and deadlines. */
#ifndef CMC_CLOCK_H
#define CMC_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: never goes back, unaffected by setting the time. */
unsigned long long cmc_now_ms(void);

#endif
