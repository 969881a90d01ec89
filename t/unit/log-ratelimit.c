/* SPDX-License-Identifier: MIT */
/* The per-source log rate limiter (used for VF mailbox and link-flap messages). */
#include "log.h"
#include "tap.h"

static void test_burst_then_refill(void)
{
	struct log_ratelimit rl;
	unsigned long suppressed = 99;
	int allowed = 0;

	log_ratelimit_init(&rl, 3, 1000);
	for (int i = 0; i < 10; i++)
		allowed += log_ratelimit_allow(&rl, 5000, &suppressed);
	tap_is_int(allowed, 3, "a burst of 10 lines in one instant lets 3 through");
	tap_is_int(rl.suppressed, 7, "the 7 others are counted as suppressed");

	tap_ok(!log_ratelimit_allow(&rl, 5999, NULL), "no token before the interval has passed");
	tap_ok(log_ratelimit_allow(&rl, 6000, &suppressed), "one token after one interval");
	tap_is_int(suppressed, 8, "the allowed line reports the 8 suppressed before it");

	allowed = 0;
	for (int i = 0; i < 10; i++)
		allowed += log_ratelimit_allow(&rl, 60000, NULL);
	tap_is_int(allowed, 3, "a long pause refills to the burst, not beyond");
}

static void test_clock_step_back(void)
{
	struct log_ratelimit rl;

	log_ratelimit_init(&rl, 1, 1000);
	tap_ok(log_ratelimit_allow(&rl, 100000, NULL), "first line allowed");
	tap_ok(!log_ratelimit_allow(&rl, 50, NULL), "clock stepped back: still limited");
	tap_ok(log_ratelimit_allow(&rl, 1050, NULL), "and refills from the new origin");
}

int main(void)
{
	tap_plan(9);
	test_burst_then_refill();
	test_clock_step_back();
	return tap_done();
}
