/* SPDX-License-Identifier: MIT */
/*
 * The daemon's shared state, private to cmc/: what the command handlers, the hot-plug
 * and link watchers and main() share. Not a library interface.
 */
#ifndef CMC_DAEMON_H
#define CMC_DAEMON_H

#include "api.h"
#include "config.h"
#include "events.h"
#include "loop.h"
#include "mp.h"
#include "store.h"

/* A step of cmcd's stop that takes this long (ms) or more is logged by name. */
#define CMC_STOP_STEP_SLOW_MS 500

struct cmc_watchers;
struct cmc_cards;
struct cmc_blades;
struct cmc_vms;
struct cmc_rescan;
struct cmc_redfish;
struct cmc_audit;
struct cmc_dhcp;

struct cmcd {
	struct cmc_loop *loop;
	struct cmc_config *config;
	struct mp_inventory *inv;	/* read on the loop's thread only: a rescan swaps it there
					 * (chassis.c); pointers into it last until the next swap */
	struct cmc_store *store;
	struct cmc_events *events;
	struct cmc_api *api;
	struct cmc_watchers *watchers;
	struct cmc_cards *cards;
	struct cmc_blades *blades;
	struct cmc_vms *vms;
	struct cmc_dhcp *dhcp;		/* the domains' configuration services (dhcp.h) */
	struct cmc_health *health;	/* blade health and failover (health.h) */
	struct cmc_redfish *redfish;	/* NULL: not configured */
	struct cmc_audit *audit;	/* the audit log (audit.h); NULL if it could not open */
	struct cmc_timer *rescan_timer;
	bool rescan_pending;
	struct cmc_rescan *rescan;	/* the rescan worker (chassis.c), NULL until the first */
	uint32_t chassis_id;		/* the identity the VFs' default MACs derive from (macs.h) */
	unsigned long long started_ms;
	unsigned long rescans;
};

/* The command table served on the control socket (commands.c). */
extern const struct cmc_api_command cmcd_commands[];

/*
 * Re-read the inventory on a worker thread; back on the loop, swap it in, post an event
 * for each slot whose card changed and record the new picture in the store (chassis.c).
 * Returns at once: 0 when a rescan started, or was already running (then one more
 * follows it), -errno if none could start. `why` goes into the log; told: an admin asked,
 * and a "rescan" event says when it is done. A failed rescan is logged and an event.
 */
int cmcd_rescan(struct cmcd *d, const char *why, bool told);
/* A rescan's worker is reading the chassis. */
bool cmcd_rescan_running(const struct cmcd *d);
/* At stop: waits for a running worker (a scan ends by itself) and frees the rest. */
void cmcd_rescan_stop(struct cmcd *d);
/* At start-up: compare the store's last picture with the hardware and report (and
 * record) every difference. */
int cmcd_reconcile(struct cmcd *d);
/* Ask for a rescan soon (coalesces bursts of hot-plug uevents). */
void cmcd_rescan_soon(struct cmcd *d);

/* Hot-plug uevents and link changes (watch.c). */
int cmc_watchers_start(struct cmcd *d, struct cmc_watchers **out) __attribute__((warn_unused_result));
void cmc_watchers_stop(struct cmc_watchers *w);

#endif
