/* SPDX-License-Identifier: MIT */
/*
 * Private to the Redfish service: its event service (DSP0266 1.22 §13.5 "Eventing", the
 * EventService v1_12_0, EventDestination v1_16_0 and Event v1_13_0 schemas).
 *
 *   rf-evmap.c     a cmcd event (events.h) -> a Redfish EventRecord: MessageId from the
 *                  ResourceEvent or TaskEvent registry, EventType, severity, the resource
 *                  that originated it (pure: no state but the configuration's names)
 *   rf-evfilter.c  the $filter of an SSE stream and a subscription's lists (pure)
 *   rf-events.c    the EventService resources, the history, the SSE streams (on the loop)
 *   rf-subs.c      push subscriptions: kept in the store, delivered by libcurl on a worker
 */
#ifndef CMC_RF_EVENTS_H
#define CMC_RF_EVENTS_H

#include "events.h"
#include "rf-priv.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct cmcd;
struct cmc_config;

/* --- rf-evmap.c ------------------------------------------------------------------------- */

#define RF_EV_ORIGIN_MAX 200	/* characters of an OriginOfCondition URI */
#define RF_EV_MSGID_MAX 64
#define RF_EV_MESSAGE_MAX 400

/* One event as Redfish tells it. */
struct rf_event {
	unsigned long long id;			/* cmcd's event seq: the SSE id and EventId */
	char when[32];				/* EventTimestamp, ISO 8601 UTC */
	char message_id[RF_EV_MSGID_MAX];	/* "ResourceEvent.1.4.3.ResourceChanged" */
	const char *prefix;			/* "ResourceEvent" or "TaskEvent" */
	const char *event_type;			/* Event.EventType: StatusChange, ResourceAdded, ... */
	const char *severity;			/* OK, Warning, Critical */
	const char *resource_type;		/* the origin's schema: "PCIeDevice", ... */
	char origin[RF_EV_ORIGIN_MAX];		/* OriginOfCondition's URI */
	char message[RF_EV_MESSAGE_MAX];	/* the registry's text, its arguments in place */
	unsigned nargs;
	char args[2][96];			/* MessageArgs */
	char kind[32];				/* cmcd's own: Oem.Cmc.Kind, Slot, Detail */
	int slot;
	char detail[200];
};

/*
 * Maps cmcd's event e to its Redfish form, naming resources as the tree does (rf-tree.c:
 * Chassis/<enclosure>/PCIeDevices/slotN, .../NetworkAdapters/slotN/NetworkDeviceFunctions/
 * pfP-vfV and Ports/P, Systems/<blade>, Managers/cmc). Pure; never fails: an event of a
 * kind it does not know becomes ResourceChanged on the manager.
 */
void rf_event_map(const struct cmc_event_view *e, const struct cmc_config *cfg, struct rf_event *out);

/* The EventRecord (Event.v1_13_0) of ev; member_id its MemberId. NULL when out of memory. */
json_t *rf_event_record(const struct rf_event *ev, const char *member_id);
/* The Event payload around one record: what an SSE data: line and a push POST carry.
 * context may be NULL. Malloc'd compact JSON text, or NULL. */
char *rf_event_payload(const struct rf_event *ev, const char *context);

/* --- rf-evfilter.c ------------------------------------------------------------------------ */

/*
 * An SSE stream's $filter (DSP0266 §13.5.4 "Server-sent events"): comparisons
 * `PROP eq VALUE` and `PROP ne VALUE` joined by `and`, `or`, `not` and parentheses, VALUE
 * quoted ('...') or bare. PROP: MessageId, RegistryPrefix, OriginResource, ResourceType,
 * EventType, EventFormatType (Event only), SubordinateResources (eq true: an
 * OriginResource matches the resources under it too). A MessageId matches with or
 * without its version ("ResourceEvent.ResourceChanged", "ResourceEvent.1.4.ResourceChanged").
 */
#define RF_FILTER_MAX 1024	/* characters of a $filter */
#define RF_FILTER_NODES 64
struct rf_filter;

/* 0 and *out (NULL for an empty text: everything passes); -EINVAL with err saying where;
 * -E2BIG past the limits; -ENOMEM. */
int rf_filter_parse(const char *text, struct rf_filter **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void rf_filter_free(struct rf_filter *f);
/* f NULL: true. */
bool rf_filter_match(const struct rf_filter *f, const struct rf_event *ev);

/* One MessageId pattern against an event's full MessageId (the rule above). */
bool rf_msgid_match(const char *pattern, const char *message_id);
/* An OriginResource against an event's origin; subordinate: the resources under it too. */
bool rf_origin_match(const char *pattern, const char *origin, bool subordinate);

/* --- rf-events.c: the event service on the loop ---------------------------------------------- */

#define RF_EVENTS "/redfish/v1/EventService"
#define RF_EVENTS_SSE RF_EVENTS "/SSE"
#define RF_EVENTS_SUBS RF_EVENTS "/Subscriptions"
#define RF_EVENTS_HISTORY 256	/* events kept for Last-Event-ID */
#define RF_SSE_STREAMS_MAX 32
#define RF_SSE_QUEUE_MAX (64u << 10)	/* bytes waiting for one stream before it is dropped */
#define RF_SSE_REPLAY_CHUNK (16u << 10)	/* bytes of a Last-Event-ID replay rendered at a time */
#define RF_SSE_SNDBUF (32 << 10)	/* its socket's send buffer (the kernel doubles it) */

struct rf_events;
struct rf_subs;

/* What the service needs from redfish.c: a way to run MHD after a resumed connection. */
typedef void (*rf_kick_fn)(void *arg);

/* Starts listening to cmcd's events (those already retained go into the history) and
 * opens the subscriptions (rf-subs.c). auth: the sessions, which a stream's must stay
 * among (it must outlive the service's streams). 0 or -errno. */
int rf_events_new(struct cmcd *d, struct rf_auth *auth, rf_kick_fn kick, void *kick_arg,
		  struct rf_events **out)
	__attribute__((warn_unused_result));
/* Before MHD stops: every stream ends (resumed, end of stream). */
void rf_events_quiesce(struct rf_events *ev);
/* After MHD stopped: the rest (the delivery worker joined). NULL is a no-op. */
void rf_events_free(struct rf_events *ev);

/* A request under /redfish/v1/EventService, the caller known (who). */
enum MHD_Result rf_events_request(struct rf_events *ev, struct MHD_Connection *conn, const char *path,
				  const char *method, const struct rf_who *who, const char *body,
				  size_t body_len);

/* --- rf-subs.c: push subscriptions ------------------------------------------------------------ */

#define RF_SUBS_MAX 16			/* subscriptions at once */
#define RF_SUB_QUEUE_MAX 64		/* events waiting for one subscriber */
#define RF_SUB_TIMEOUT_MS 5000		/* one POST to a subscriber, connection included */

/* Opens the subscriptions kept in the store and starts the worker. 0 or -errno. */
int rf_subs_new(struct cmcd *d, struct rf_subs **out) __attribute__((warn_unused_result));
/* Joins the worker (transfers under way are abandoned). NULL is a no-op. */
void rf_subs_free(struct rf_subs *s);
/* Queues ev to every subscription whose filters it passes. Never blocks on a subscriber. */
void rf_subs_post(struct rf_subs *s, const struct rf_event *ev);
/* Totals for the EventService's Oem.Cmc: events dropped (queue full or retries spent). */
unsigned long long rf_subs_dropped(struct rf_subs *s);

/* The collection (n == 0) or one subscription. 0, -ENOENT, -ENOMEM. */
int rf_subs_get(struct rf_subs *s, const char *id, json_t **out);
/* POST: 0 and *id (the new subscription's Id), or an error for redfish.c to send:
 * -EINVAL (*msgid and *arg say which Base message), -ENOSPC (the limit), -EIO (store). */
int rf_subs_create(struct rf_subs *s, json_t *body, char *id, size_t idlen,
		   const char **msgid, char *arg, size_t arglen) __attribute__((warn_unused_result));
/* DELETE: 0, -ENOENT, -EIO. */
int rf_subs_delete(struct rf_subs *s, const char *id) __attribute__((warn_unused_result));

/* --- what redfish.c lends the request handlers (defined there) --------------------------------- */

/* A Redfish error body with one Base message (id without its prefix: "ResourceNotFound"). */
enum MHD_Result rf_send_error(struct MHD_Connection *conn, unsigned code, const char *id,
			      const char *message, const char *allow);
/* A resource (ETag, Allow, Link; Location when given). Takes doc->json. */
enum MHD_Result rf_send_doc(struct MHD_Connection *conn, struct rf_doc *doc, unsigned code,
			    const char *location);

#endif
