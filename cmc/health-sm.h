/* SPDX-License-Identifier: MIT */
/*
 * One blade's health as a state machine (health-sm.c), pure: no clock, no loop, no
 * backend. health.c feeds it what the backend answered and does what it returns (an
 * event, the blade's link watch closed, a failover); t/unit/health-sm.c drives it alone.
 *
 *             poll down                    down for grace_ms
 *   UP ----------------------> DOWN ------------------------> FAILED
 *    ^  <----------------------  |                              |
 *    |      poll up (BACK)       |                              |
 *    +---------------------------+------------------------------+
 *                         poll up (BACK)
 *   OFF: cmcd powered it off (an idle spare); a poll saying down keeps it OFF, one saying
 *   up makes it UP with no event (it was powered on). cmc_health_sm_power(on) makes it UP.
 *
 * Stale polls: a poll is asked at some power sequence number (cmc_health_sm_power() gives
 * each power change a new one); an answer to a poll asked before the blade's last power
 * change says nothing of it now and is dropped (CMC_HS_STALE): the blade cmcd has just
 * powered off would otherwise be "down", the one it has just powered on "up" again before
 * it is.
 */
#ifndef CMC_HEALTH_SM_H
#define CMC_HEALTH_SM_H

#include <stdbool.h>

enum cmc_blade_health {
	CMC_BLADE_UP,
	CMC_BLADE_DOWN,		/* gone, less than the grace time */
	CMC_BLADE_FAILED,	/* gone past the grace time */
	CMC_BLADE_OFF,		/* powered off by cmcd (an idle spare) */
};

struct cmc_health_sm {
	enum cmc_blade_health state;	/* zero: UP */
	unsigned long long down_since;	/* ms, the caller's monotonic clock; valid in DOWN/FAILED */
	unsigned long power_seq;	/* the sequence number of its last power change, 0 none */
};

/* What a poll's answer asks the caller to do. */
enum cmc_health_step {
	CMC_HS_NONE,	/* nothing changed */
	CMC_HS_STALE,	/* asked before the last power change: dropped */
	CMC_HS_DOWN,	/* UP -> DOWN: "blade-down", its link watch closed */
	CMC_HS_FAILED,	/* DOWN -> FAILED (down for grace_ms or more): "blade-failed", failover */
	CMC_HS_BACK,	/* DOWN or FAILED -> UP: "blade-up", its link watch opened again */
};

/*
 * The answer of a poll asked at power sequence poll_seq: up or not, at now_ms (the same
 * monotonic clock, ms). grace_ms: how long a blade stays DOWN before it is FAILED (the
 * configuration's chassis.failover_grace × 1000; 0 fails it at the first poll after the
 * one that saw it go). Returns the step taken (above). Never fails.
 */
enum cmc_health_step cmc_health_sm_poll(struct cmc_health_sm *sm, bool up, unsigned long long now_ms,
					unsigned long long grace_ms, unsigned long poll_seq);
/* cmcd powered the blade on (UP) or off (OFF); seq: the power change's sequence number,
 * greater than any before (polls asked before it are then stale). */
void cmc_health_sm_power(struct cmc_health_sm *sm, bool on, unsigned long seq);
/* "up", "down", "failed", "off"; "?" out of range. */
const char *cmc_health_name(enum cmc_blade_health s);

#endif
