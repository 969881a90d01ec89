/* SPDX-License-Identifier: MIT */
/*
 * A blade's health state machine (cmc/health-sm.h), on its own: polls and power changes
 * at chosen times, the grace time 5 s as in conf/emulated-failover.conf.
 */
#include "health-sm.h"
#include "tap.h"

#define GRACE 5000ull

static const char *step_name(enum cmc_health_step s)
{
	static const char *const n[] = { "none", "stale", "down", "failed", "back" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

/* A poll at `now` asked at power sequence `seq`: the step and the state after it. */
static void poll_is(struct cmc_health_sm *sm, bool up, unsigned long long now, unsigned long seq,
		    enum cmc_health_step step, enum cmc_blade_health state, const char *what)
{
	enum cmc_health_step got = cmc_health_sm_poll(sm, up, now, GRACE, seq);

	tap_is_str(step_name(got), step_name(step), "%s: step %s", what, step_name(step));
	tap_is_str(cmc_health_name(sm->state), cmc_health_name(state), "%s: %s", what, cmc_health_name(state));
}

static void test_fail_after_grace(void)
{
	struct cmc_health_sm sm = { 0 };

	tap_is_str(cmc_health_name(sm.state), "up", "a blade starts up");
	poll_is(&sm, true, 1000, 0, CMC_HS_NONE, CMC_BLADE_UP, "up, polled up");
	poll_is(&sm, false, 2000, 0, CMC_HS_DOWN, CMC_BLADE_DOWN, "polled down at 2 s");
	tap_is_int(sm.down_since, 2000, "  down since 2 s");
	poll_is(&sm, false, 3000, 0, CMC_HS_NONE, CMC_BLADE_DOWN, "down again at 3 s: still down");
	tap_is_int(sm.down_since, 2000, "  down since 2 s still (a later poll does not move it)");
	poll_is(&sm, false, 6999, 0, CMC_HS_NONE, CMC_BLADE_DOWN, "at 6.999 s (1 ms short of the grace): down");
	poll_is(&sm, false, 7000, 0, CMC_HS_FAILED, CMC_BLADE_FAILED, "at 7 s (the grace): failed");
	poll_is(&sm, false, 60000, 0, CMC_HS_NONE, CMC_BLADE_FAILED, "failed once only");
	poll_is(&sm, true, 61000, 0, CMC_HS_BACK, CMC_BLADE_UP, "a failed blade back");
	poll_is(&sm, false, 62000, 0, CMC_HS_DOWN, CMC_BLADE_DOWN, "down again: its grace starts again");
	poll_is(&sm, false, 66000, 0, CMC_HS_NONE, CMC_BLADE_DOWN, "  4 s later: down, not failed");
}

static void test_back_before_grace(void)
{
	struct cmc_health_sm sm = { 0 };

	poll_is(&sm, false, 1000, 0, CMC_HS_DOWN, CMC_BLADE_DOWN, "down at 1 s");
	poll_is(&sm, true, 5000, 0, CMC_HS_BACK, CMC_BLADE_UP, "back at 5 s (before the grace)");
	poll_is(&sm, false, 6500, 0, CMC_HS_DOWN, CMC_BLADE_DOWN, "down at 6.5 s: a new down time");
	poll_is(&sm, false, 10000, 0, CMC_HS_NONE, CMC_BLADE_DOWN,
		"at 10 s: 9 s since the first down, 3.5 s since this one: not failed");
	poll_is(&sm, false, 11500, 0, CMC_HS_FAILED, CMC_BLADE_FAILED, "at 11.5 s: failed");
}

static void test_power(void)
{
	struct cmc_health_sm sm = { 0 };

	cmc_health_sm_power(&sm, false, 1);
	tap_is_str(cmc_health_name(sm.state), "off", "powered off (an idle spare): off");
	poll_is(&sm, false, 1000, 1, CMC_HS_NONE, CMC_BLADE_OFF, "an off blade polled down: off, no event");
	poll_is(&sm, false, 100000, 1, CMC_HS_NONE, CMC_BLADE_OFF, "  long after the grace: off, never failed");
	cmc_health_sm_power(&sm, true, 2);
	tap_is_str(cmc_health_name(sm.state), "up", "powered on: up");
	poll_is(&sm, true, 101000, 2, CMC_HS_NONE, CMC_BLADE_UP, "polled up after: up, no event");
	poll_is(&sm, false, 102000, 2, CMC_HS_DOWN, CMC_BLADE_DOWN, "a powered-on blade that goes: down");
	cmc_health_sm_power(&sm, false, 3);
	tap_is_str(cmc_health_name(sm.state), "off", "a down blade powered off: off");
	poll_is(&sm, false, 200000, 3, CMC_HS_NONE, CMC_BLADE_OFF, "  not failed later");
	poll_is(&sm, true, 201000, 3, CMC_HS_NONE, CMC_BLADE_UP, "an off blade seen up (made again): up, no event");
}

static void test_stale(void)
{
	struct cmc_health_sm sm = { 0 };

	/* A poll was asked at sequence 0; cmcd powered the blade off (1) before it was answered:
	 * its "down" is of the power-off cmcd made, not a failure. */
	cmc_health_sm_power(&sm, false, 1);
	poll_is(&sm, true, 1000, 0, CMC_HS_STALE, CMC_BLADE_OFF, "a poll from before a power-off saying up: dropped");
	cmc_health_sm_power(&sm, true, 2);
	poll_is(&sm, false, 2000, 1, CMC_HS_STALE, CMC_BLADE_UP,
		"a poll from before a power-on saying down: dropped (not down)");
	poll_is(&sm, false, 9000, 1, CMC_HS_STALE, CMC_BLADE_UP, "  nor failed later");
	poll_is(&sm, true, 3000, 2, CMC_HS_NONE, CMC_BLADE_UP, "the next poll counts: up");
	poll_is(&sm, false, 4000, 5, CMC_HS_DOWN, CMC_BLADE_DOWN, "a poll asked after the change counts: down");
}

static void test_names(void)
{
	tap_is_str(cmc_health_name(CMC_BLADE_FAILED), "failed", "names: failed");
	tap_is_str(cmc_health_name((enum cmc_blade_health)9), "?", "names: out of range");
}

int main(void)
{
	test_fail_after_grace();
	test_back_before_grace();
	test_power();
	test_stale();
	test_names();
	return tap_done();
}
