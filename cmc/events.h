/* SPDX-License-Identifier: MIT */
/*
 * The daemon's event log: what changed in the chassis (a card added or removed, a link
 * lost, a difference repaired at start-up). A ring of the latest events for `cmcctl
 * events`, fanned out to followers (`cmcctl events -f`), and logged.
 */
#ifndef CMC_EVENTS_H
#define CMC_EVENTS_H

#include "proto.h"

#include <time.h>

struct cmc_events;

typedef void (*cmc_event_sink)(const char *record, size_t len, void *arg);

int cmc_events_new(struct cmc_events **out, unsigned capacity) __attribute__((warn_unused_result));
void cmc_events_free(struct cmc_events *ev);

/* slot < 0: not about a slot. */
void cmc_events_post(struct cmc_events *ev, const char *kind, int slot, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The retained events as records, oldest first. */
void cmc_events_dump(const struct cmc_events *ev, struct cmc_buf *out);

/* One sink receives every new event record (the API server fans it out). */
void cmc_events_set_sink(struct cmc_events *ev, cmc_event_sink sink, void *arg);

/* An event as posted, for listeners (valid only during the call). */
struct cmc_event_view {
	unsigned long long seq;		/* 1, 2, ... since cmcd started */
	struct timespec when;		/* CLOCK_REALTIME */
	const char *kind;		/* "hotplug", "link-down", "assigned", ... */
	int slot;			/* < 0: not about a slot */
	const char *detail;
};
typedef void (*cmc_event_listener)(const struct cmc_event_view *e, void *arg);

#define CMC_EVENTS_LISTENERS_MAX 4
/*
 * Listeners besides the sink (the Redfish event service): each is called on the loop's
 * thread, after the sink, for every event posted from then on. 0, -ENOSPC when
 * CMC_EVENTS_LISTENERS_MAX are set. A listener must not post events itself.
 */
int cmc_events_add_listener(struct cmc_events *ev, cmc_event_listener fn, void *arg)
	__attribute__((warn_unused_result));
/* Removes the listener (fn, arg); nothing if there is none. */
void cmc_events_remove_listener(struct cmc_events *ev, cmc_event_listener fn, void *arg);
/* Each retained event, oldest first (for a listener to catch up with what came before). */
void cmc_events_foreach(const struct cmc_events *ev, cmc_event_listener fn, void *arg);

#endif
