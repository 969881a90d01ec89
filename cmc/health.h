/* SPDX-License-Identifier: MIT */
/*
 * Blade health (health.c): each blade is up, down, failed or off, as the blade backend
 * tells (mp_blade_health: in the emulated chassis a blade is down when its namespace is
 * gone, `ip netns del bladeN`, or when its heartbeat stopped, a hung OS: doc/emulator.md).
 * The states and their moves are health-sm.h's. A blade down for chassis.failover_grace seconds (the
 * configuration, default 30) is failed: a "blade-failed" event, and if it holds a server
 * profile and the configuration names its spare (`spare = "NAME";`), the profile fails
 * over to the spare by itself (cmc_sprofile_migrate). A blade that is the spare of
 * another and holds no profile is kept off until a profile comes to it.
 *
 * The backend is asked from the blade worker (bladework.h), once a second, and only
 * while there is something to watch (a server profile, or a blade down): a chassis
 * without profiles is not woken. A blade that comes back (its namespace made again) is
 * up again, with a "blade-up" event; cmcd opens its link watch again.
 */
#ifndef CMC_HEALTH_H
#define CMC_HEALTH_H

#include <stdbool.h>

#include "health-sm.h"

struct cmcd;
struct cmc_health;

/* After cmc_blades_start(). Also takes up a failover a crash interrupted (the
 * "failover/NAME" records). -ENOMEM, or the loop's error. */
int cmc_health_start(struct cmcd *d, struct cmc_health **out) __attribute__((warn_unused_result));
void cmc_health_stop(struct cmcd *d, struct cmc_health *h);
/* UP for an unknown blade or h NULL. */
enum cmc_blade_health cmc_health_of(const struct cmc_health *h, const char *blade);
/* Powers a blade on or off through the backend and records it (off: CMC_BLADE_OFF).
 * -ENOENT, -ENODEV, -ENOMEM. */
int cmc_health_power(struct cmc_health *h, const char *blade, bool on) __attribute__((warn_unused_result));
/* Something to watch may have appeared (a profile made): the watch runs again. */
void cmc_health_kick(struct cmc_health *h);

#endif
