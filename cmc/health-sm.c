/* SPDX-License-Identifier: MIT */
/*
 * One blade's health state machine (health-sm.h): pure.
 */
#include "health-sm.h"

static const char *const names[] = { "up", "down", "failed", "off" };

const char *cmc_health_name(enum cmc_blade_health s)
{
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

enum cmc_health_step cmc_health_sm_poll(struct cmc_health_sm *sm, bool up, unsigned long long now_ms,
					unsigned long long grace_ms, unsigned long poll_seq)
{
	if (sm->power_seq > poll_seq)
		return CMC_HS_STALE;
	if (up) {
		enum cmc_blade_health was = sm->state;

		sm->state = CMC_BLADE_UP;
		return was == CMC_BLADE_DOWN || was == CMC_BLADE_FAILED ? CMC_HS_BACK : CMC_HS_NONE;
	}
	if (sm->state == CMC_BLADE_UP) {
		sm->state = CMC_BLADE_DOWN;
		sm->down_since = now_ms;
		return CMC_HS_DOWN;
	}
	/* A clock that went back (it should not: monotonic) does not fail a blade early. */
	if (sm->state == CMC_BLADE_DOWN && now_ms >= sm->down_since && now_ms - sm->down_since >= grace_ms) {
		sm->state = CMC_BLADE_FAILED;
		return CMC_HS_FAILED;
	}
	return CMC_HS_NONE;
}

void cmc_health_sm_power(struct cmc_health_sm *sm, bool on, unsigned long seq)
{
	sm->state = on ? CMC_BLADE_UP : CMC_BLADE_OFF;
	sm->power_seq = seq;
}
