/* SPDX-License-Identifier: MIT */
/*
 * The Redfish event service on cmcd's loop (rf-events.h): the EventService resource, a
 * bounded history of events for Last-Event-ID, and the SSE streams (DSP0266 §13.5.4).
 *
 * A stream is an MHD response read through a callback. Events are rendered once, on the
 * loop, into each matching stream's own buffer (at most RF_SSE_QUEUE_MAX bytes); the
 * callback hands MHD what is buffered, and when nothing is, suspends the connection, so an
 * idle stream costs no wake-up; a new event or a keep-alive resumes it. A client that does
 * not read lets its buffer fill: the stream is then dropped (counted, logged, its socket
 * given a 1 s timeout), never waited for, so it cannot hold memory or the loop.
 */
#include "rf-events.h"
#include "rf-tree.h"

#include "daemon.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SSE_KEEPALIVE ": keep-alive\n\n"

struct sse {
	struct rf_events *ev;
	struct MHD_Connection *conn;
	struct rf_filter *filter;
	char *buf;
	size_t len, off, cap;		/* buf[off..len) waits for MHD */
	unsigned long long last_ms;	/* when something was last queued */
	bool suspended, dropped, ending;
	bool replaying;			/* Last-Event-ID: the history after replay_from comes first */
	unsigned long long replay_from;
	char user[CMC_ACCOUNT_NAME_MAX + 1];
	char token[RF_TOKEN_LEN + 1];	/* its session's ("" for Basic): checked, kept alive */
	struct sse *next;
};

struct rf_events {
	struct cmcd *d;
	struct rf_auth *auth;
	rf_kick_fn kick;
	void *kick_arg;
	struct rf_event *hist;		/* ring of RF_EVENTS_HISTORY */
	unsigned hcount, hhead;
	struct sse *streams;
	unsigned nstreams;
	unsigned long long streams_dropped, streams_opened;
	unsigned keepalive_ms;
	struct cmc_timer *timer;
	struct rf_subs *subs;
	bool quiescing, listening;
};

/* --- streams ---------------------------------------------------------------------------------- */

static void drop(struct sse *s, const char *why)
{
	s->dropped = true;
	free(s->buf);
	s->buf = NULL;
	s->len = s->off = s->cap = 0;
	s->ev->streams_dropped++;
	log_info("redfish: SSE stream of '%s' dropped: %s", s->user, why);
	/* A client that does not read is not asked again: MHD ends the connection after 1 s
	 * without progress (or at once, through the reader, if the socket takes more). */
	MHD_set_connection_option(s->conn, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
}

static void wake(struct sse *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
		s->ev->kick(s->ev->kick_arg);
	}
}

/* Appends text to the stream's buffer, or drops the stream if that would pass the bound. */
static void queue(struct sse *s, const char *text, size_t n)
{
	if (s->dropped)
		return;
	if (s->off > 0 && s->off == s->len)
		s->off = s->len = 0;
	if (s->len - s->off + n > RF_SSE_QUEUE_MAX) {
		drop(s, "it does not read (buffer full)");
		wake(s);
		return;
	}
	if (s->len + n > s->cap && s->off > 0) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nb;
		while (cap < s->len + n)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb) {
			drop(s, "out of memory");
			wake(s);
			return;
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, text, n);
	s->len += n;
	s->last_ms = cmc_now_ms();
	wake(s);
}

/* One event as SSE: its id, then the Event payload on one data: line. */
static void queue_event(struct sse *s, const struct rf_event *e)
{
	char *payload, head[40];
	int hn;

	if (!rf_filter_match(s->filter, e))
		return;
	payload = rf_event_payload(e, NULL);
	if (!payload) {
		drop(s, "out of memory");
		wake(s);
		return;
	}
	hn = snprintf(head, sizeof(head), "id: %llu\ndata: ", e->id);
	queue(s, head, (size_t)hn);
	queue(s, payload, strlen(payload));
	queue(s, "\n\n", 2);
	free(payload);
}

static void replay_more(struct rf_events *ev, struct sse *s);

/* MHD asks for more of the body: what is buffered, else the connection is suspended. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	size_t n;

	(void)pos;
	if (s->dropped)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (s->ending || (s->ev && s->ev->quiescing))
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->off == s->len && s->replaying && s->ev)
		replay_more(s->ev, s);
	if (s->dropped)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (s->off == s->len) {
		s->off = s->len = 0;
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

/* The response is gone (the connection ended): the stream with it. */
static void sse_free(void *cls)
{
	struct sse *s = cls;

	if (s->ev) {
		for (struct sse **pp = &s->ev->streams; *pp; pp = &(*pp)->next) {
			if (*pp == s) {
				*pp = s->next;
				s->ev->nstreams--;
				break;
			}
		}
	}
	rf_filter_free(s->filter);
	explicit_bzero(s->token, sizeof(s->token));
	free(s->buf);
	free(s);
}

/*
 * Whether the stream's client may still read events: its account still exists and, for
 * a session's stream, the session too (deleted, or ended with its account, it ends the
 * stream; an open stream counts as the session's use, so it does not expire under it).
 */
static bool still_allowed(struct rf_events *ev, const struct sse *s)
{
	char hash[CMC_ACCOUNT_HASH_MAX + 1];
	enum cmc_role role;

	if (cmc_account_get(ev->d->store, s->user, &role, hash, sizeof(hash)) < 0)
		return false;
	return !*s->token || rf_session_by_token(ev->auth, s->token);
}

static void arm_keepalive(struct rf_events *ev);

static void on_keepalive(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct rf_events *ev = arg;
	unsigned long long now = cmc_now_ms();

	(void)loop;
	(void)t;
	for (struct sse *s = ev->streams; s; s = s->next) {
		if (s->dropped || s->ending)
			continue;
		if (!still_allowed(ev, s)) {
			log_info("redfish: SSE stream of '%s' ended: its session or account is gone", s->user);
			s->ending = true;
			wake(s);
		} else if (now - s->last_ms + 5 >= ev->keepalive_ms) {
			queue(s, SSE_KEEPALIVE, strlen(SSE_KEEPALIVE));
		}
	}
	arm_keepalive(ev);
}

/* The timer at the earliest stream's next keep-alive; disarmed with no stream. */
static void arm_keepalive(struct rf_events *ev)
{
	unsigned long long now = cmc_now_ms(), due = 0;

	for (struct sse *s = ev->streams; s; s = s->next) {
		unsigned long long d = s->last_ms + ev->keepalive_ms;
		if (!s->dropped && !s->ending && (!due || d < due))
			due = d;
	}
	(void)!cmc_timer_arm(ev->timer, due ? (due > now ? (unsigned)(due - now) : 1) : 0, 0);
}

/* Where a replay starts: after Last-Event-ID (after 0, all, if it is from before a restart). */
static void replay_start(struct rf_events *ev, struct sse *s, const char *last)
{
	char *end;
	unsigned long long id;

	if (!last || !*last || ev->hcount == 0)
		return;
	id = strtoull(last, &end, 10);
	if (*end)
		return;
	if (id > ev->hist[(ev->hhead + RF_EVENTS_HISTORY - 1) % RF_EVENTS_HISTORY].id)
		id = 0;
	s->replaying = true;
	s->replay_from = id;
}

/*
 * The next retained events of a replay into the buffer, RF_SSE_REPLAY_CHUNK bytes or so at
 * a time as the client reads them (a whole history at once would pass the stream's bound).
 * New events go into the history meanwhile and are reached the same way; once it is all
 * sent, the stream takes events as they come.
 */
static void replay_more(struct rf_events *ev, struct sse *s)
{
	unsigned first = (ev->hhead + RF_EVENTS_HISTORY - ev->hcount) % RF_EVENTS_HISTORY;

	for (unsigned i = 0; i < ev->hcount && s->len - s->off < RF_SSE_REPLAY_CHUNK && !s->dropped; i++) {
		const struct rf_event *e = &ev->hist[(first + i) % RF_EVENTS_HISTORY];
		if (e->id <= s->replay_from)
			continue;
		queue_event(s, e);
		s->replay_from = e->id;
	}
	if (ev->hcount == 0 || s->replay_from >= ev->hist[(ev->hhead + RF_EVENTS_HISTORY - 1) % RF_EVENTS_HISTORY].id)
		s->replaying = false;
}

/*
 * The $filter as sent: redfish.c's unescape leaves %2F encoded everywhere (a '/' must
 * not add a path segment), but in a filter's value it is the '/' of a URI.
 */
static const char *filter_text(struct MHD_Connection *conn, char *buf, size_t len)
{
	const char *raw = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "$filter");
	size_t w = 0;

	if (!raw || strlen(raw) >= len)
		return raw;
	for (const char *p = raw; *p; p++) {
		if (p[0] == '%' && p[1] == '2' && (p[2] == 'F' || p[2] == 'f')) {
			buf[w++] = '/';
			p += 2;
		} else {
			buf[w++] = *p;
		}
	}
	buf[w] = '\0';
	return buf;
}

/* The kernel's send buffer of a stream kept small too: what one slow client can hold in
 * cmcd (MHD's buffer, ours, the socket's) stays bounded, and its fill shows soon. */
static void small_sndbuf(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int size = RF_SSE_SNDBUF;

	if (ci)
		(void)setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* GET ServerSentEventUri: a new stream ($filter, Last-Event-ID). */
static enum MHD_Result open_stream(struct rf_events *ev, struct MHD_Connection *conn, const struct rf_who *who)
{
	char fbuf[RF_FILTER_MAX + 1];
	const char *ftext = filter_text(conn, fbuf, sizeof(fbuf));
	const char *last = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	struct MHD_Response *resp;
	struct rf_filter *f = NULL;
	char err[160], msg[512];
	struct sse *s;
	enum MHD_Result r;

	if (rf_filter_parse(ftext, &f, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "The value '%.120s' for the parameter $filter is not a format that the parameter can accept: %s.",
			 ftext, err);
		return rf_send_error(conn, 400, "QueryParameterValueFormatError", msg, NULL);
	}
	if (ev->nstreams >= RF_SSE_STREAMS_MAX || ev->quiescing || !(s = calloc(1, sizeof(*s)))) {
		rf_filter_free(f);
		return rf_send_error(conn, 503, "ServiceTemporarilyUnavailable",
				     "The service is temporarily unavailable.  Retry in 5 seconds.", NULL);
	}
	*s = (struct sse){ .ev = ev, .conn = conn, .filter = f, .last_ms = cmc_now_ms() };
	small_sndbuf(conn);
	snprintf(s->user, sizeof(s->user), "%s", who->user);
	if (who->session_id)
		snprintf(s->token, sizeof(s->token), "%s",
			 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token"));
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
	if (!resp) {
		s->ev = NULL;
		sse_free(s);
		return MHD_NO;
	}
	s->next = ev->streams;
	ev->streams = s;
	ev->nstreams++;
	ev->streams_opened++;
	/* The first bytes at once, so that the client sees the stream open. */
	queue(s, ": cmc event stream\n\n", 20);
	replay_start(ev, s, last);
	if (s->replaying)
		replay_more(ev, s);
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "OData-Version", "4.0");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	r = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);	/* sse_free runs when the connection is done with it */
	arm_keepalive(ev);
	log_debug("redfish: SSE stream opened by '%s'%s%s", who->user, ftext ? ", $filter " : "",
		  ftext ? ftext : "");
	return r;
}

/* --- events in ------------------------------------------------------------------------------- */

static void remember(struct rf_events *ev, const struct rf_event *e)
{
	ev->hist[ev->hhead] = *e;
	ev->hhead = (ev->hhead + 1) % RF_EVENTS_HISTORY;
	if (ev->hcount < RF_EVENTS_HISTORY)
		ev->hcount++;
}

static void on_event(const struct cmc_event_view *v, void *arg)
{
	struct rf_events *ev = arg;
	struct rf_event e;

	rf_event_map(v, ev->d->config, &e);
	remember(ev, &e);
	for (struct sse *s = ev->streams; s; s = s->next) {
		if (s->replaying)
			wake(s);	/* it reaches this one in the history */
		else
			queue_event(s, &e);
	}
	rf_subs_post(ev->subs, &e);
}

static void on_old_event(const struct cmc_event_view *v, void *arg)
{
	struct rf_events *ev = arg;
	struct rf_event e;

	rf_event_map(v, ev->d->config, &e);
	remember(ev, &e);
}

/* --- resources --------------------------------------------------------------------------------- */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int service(struct rf_events *ev, struct rf_doc *doc)
{
	static const char *const prefixes[] = { "ResourceEvent", "TaskEvent" };
	static const char *const types[] = { "StatusChange", "ResourceUpdated", "ResourceAdded",
					     "ResourceRemoved", "Alert", "Other" };
	static const char *const resources[] = { "Chassis", "PCIeDevice", "NetworkAdapter",
						 "NetworkDeviceFunction", "Port", "ComputerSystem",
						 "Fabric", "ManagerAccount", "Manager" };
	const struct cmc_config_redfish *c = &ev->d->config->redfish;
	json_t *j = rf_resource("EventService.v1_12_0.EventService", "EventService", "Event Service", RF_EVENTS);

	json_object_set_new(j, "ServiceEnabled", json_true());
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "DeliveryRetryAttempts", json_integer(c->event_retry_attempts));
	json_object_set_new(j, "DeliveryRetryIntervalSeconds", json_integer(c->event_retry_interval));
	json_object_set_new(j, "EventFormatTypes", json_pack("[s]", "Event"));
	json_object_set_new(j, "EventTypesForSubscription", strings(types, N_OF(types)));
	json_object_set_new(j, "RegistryPrefixes", strings(prefixes, N_OF(prefixes)));
	json_object_set_new(j, "ResourceTypes", strings(resources, N_OF(resources)));
	json_object_set_new(j, "ServerSentEventUri", json_string(RF_EVENTS_SSE));
	json_object_set_new(j, "SSEFilterPropertiesSupported", json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
		"EventFormatType", 1, "EventType", 1, "MessageId", 1, "MetricReportDefinition", 0,
		"OriginResource", 1, "RegistryPrefix", 1, "ResourceType", 1, "SubordinateResources", 1));
	json_object_set_new(j, "SubordinateResourcesSupported", json_true());
	json_object_set_new(j, "IncludeOriginOfConditionSupported", json_false());
	json_object_set_new(j, "ExcludeMessageId", json_true());
	json_object_set_new(j, "ExcludeRegistryPrefix", json_true());
	json_object_set_new(j, "Subscriptions", rf_link(RF_EVENTS_SUBS));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:I, s:I, s:I, s:I, s:I, s:I}}", "Cmc",
		"@odata.type", "#CmcOem.v1_0_0.EventService",
		"KeepAliveSeconds", (json_int_t)(ev->keepalive_ms / 1000),
		"HistoryEvents", (json_int_t)ev->hcount,
		"Streams", (json_int_t)ev->nstreams,
		"StreamsOpened", (json_int_t)ev->streams_opened,
		"StreamsDropped", (json_int_t)ev->streams_dropped,
		"SubscriberEventsDropped", (json_int_t)rf_subs_dropped(ev->subs)));
	return rf_done(doc, j, "EventService.v1_12_0.json");
}

static bool may_configure(const struct rf_who *who)
{
	return who->role == CMC_ROLE_ADMINISTRATOR;	/* ConfigureManager */
}

static enum MHD_Result insufficient(struct MHD_Connection *conn)
{
	return rf_send_error(conn, 403, "InsufficientPrivilege",
			     "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.",
			     NULL);
}

static enum MHD_Result create(struct rf_events *ev, struct MHD_Connection *conn, const char *body,
			      size_t len)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	char id[24], arg[160], msg[300], loc[96];
	const char *msgid = "PropertyValueFormatError";
	struct rf_doc doc = { 0 };
	json_t *in, *j;
	int rc;

	if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		return rf_send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "HeaderInvalid",
				     "Header 'Content-Type' is invalid: the body must be application/json.", NULL);
	in = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(in)) {
		json_decref(in);
		return rf_send_error(conn, 400, "MalformedJSON",
				     "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
				     NULL);
	}
	rc = rf_subs_create(ev->subs, in, id, sizeof(id), &msgid, arg, sizeof(arg));
	json_decref(in);
	if (rc == -ENOSPC)
		return rf_send_error(conn, 400, "EventSubscriptionLimitExceeded",
				     "The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of the implementation.",
				     NULL);
	if (rc == -EINVAL) {
		snprintf(msg, sizeof(msg), "%s", arg);
		return rf_send_error(conn, 400, msgid, msg, NULL);
	}
	if (rc < 0)
		return rf_send_error(conn, 500, "InternalError",
				     "The request failed due to an internal service error.  The service is still operational.", NULL);
	snprintf(loc, sizeof(loc), RF_EVENTS_SUBS "/%s", id);
	if (rf_subs_get(ev->subs, id, &j) < 0)
		return rf_send_error(conn, 500, "InternalError", "The subscription vanished.", NULL);
	doc.allow = RF_ALLOW_DELETE;
	(void)rf_done(&doc, j, "EventDestination.v1_16_0.json");
	return rf_send_doc(conn, &doc, 201, loc);
}

static enum MHD_Result subscriptions(struct rf_events *ev, struct MHD_Connection *conn, const char *path,
				     const char *method, const struct rf_who *who, const char *body,
				     size_t len)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	const char *id = path[strlen(RF_EVENTS_SUBS)] == '/' ? path + strlen(RF_EVENTS_SUBS) + 1 : NULL;
	struct rf_doc doc = { 0 };
	json_t *j;
	int rc;

	if (id && strchr(id, '/'))
		return rf_send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL);
	if (!id && strcmp(method, "POST") == 0)
		return may_configure(who) ? create(ev, conn, body, len) : insufficient(conn);
	if (id && strcmp(method, "DELETE") == 0) {
		if (!may_configure(who))
			return insufficient(conn);
		rc = rf_subs_delete(ev->subs, id);
		if (rc == -ENOENT)
			return rf_send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL);
		if (rc < 0)
			return rf_send_error(conn, 500, "InternalError", "The store could not record it.", NULL);
		return rf_send_error(conn, 200, "Success", "The request completed successfully.", NULL);
	}
	rc = rf_subs_get(ev->subs, id, &j);
	if (rc == -ENOENT)
		return rf_send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL);
	if (rc < 0)
		return rf_send_error(conn, 500, "InternalError", "Out of memory.", NULL);
	doc.allow = id ? RF_ALLOW_DELETE : RF_ALLOW_POST;
	(void)rf_done(&doc, j, id ? "EventDestination.v1_16_0.json" : "EventDestinationCollection.json");
	if (!get) {
		json_decref(doc.json);
		return rf_send_error(conn, 405, "OperationNotAllowed", "The HTTP method is not allowed on this resource.",
				     doc.allow);
	}
	return rf_send_doc(conn, &doc, 200, NULL);
}

enum MHD_Result rf_events_request(struct rf_events *ev, struct MHD_Connection *conn, const char *path,
				  const char *method, const struct rf_who *who, const char *body,
				  size_t body_len)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	struct rf_doc doc = { 0 };

	if (!ev)
		return rf_send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL);
	if (strcmp(path, RF_EVENTS) == 0) {
		if (service(ev, &doc) < 0)
			return rf_send_error(conn, 500, "InternalError", "Out of memory.", NULL);
		if (get)
			return rf_send_doc(conn, &doc, 200, NULL);
		json_decref(doc.json);
		return rf_send_error(conn, 405, "OperationNotAllowed", "The HTTP method is not allowed on this resource.",
				     RF_ALLOW_GET);
	}
	if (strcmp(path, RF_EVENTS_SSE) == 0) {
		if (strcmp(method, "GET") == 0)
			return open_stream(ev, conn, who);
		return rf_send_error(conn, 405, "OperationNotAllowed", "The HTTP method is not allowed on this resource.",
				     "GET");
	}
	if (strncmp(path, RF_EVENTS_SUBS, strlen(RF_EVENTS_SUBS)) == 0 &&
	    (path[strlen(RF_EVENTS_SUBS)] == '\0' || path[strlen(RF_EVENTS_SUBS)] == '/'))
		return subscriptions(ev, conn, path, method, who, body, body_len);
	return rf_send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL);
}

/* --- life --------------------------------------------------------------------------------------- */

int rf_events_new(struct cmcd *d, struct rf_auth *auth, rf_kick_fn kick, void *kick_arg,
		  struct rf_events **out)
{
	struct rf_events *ev = calloc(1, sizeof(*ev));
	int rc = -ENOMEM;

	*out = NULL;
	if (!ev)
		return -ENOMEM;
	*ev = (struct rf_events){ .d = d, .auth = auth, .kick = kick, .kick_arg = kick_arg,
				  .keepalive_ms = d->config->redfish.event_keepalive * 1000u };
	ev->hist = calloc(RF_EVENTS_HISTORY, sizeof(*ev->hist));
	if (!ev->hist)
		goto fail;
	if ((rc = cmc_loop_add_timer(d->loop, 0, 0, on_keepalive, ev, &ev->timer)) < 0)
		goto fail;
	if ((rc = rf_subs_new(d, &ev->subs)) < 0)
		goto fail;
	cmc_events_foreach(d->events, on_old_event, ev);
	if ((rc = cmc_events_add_listener(d->events, on_event, ev)) < 0)
		goto fail;
	ev->listening = true;
	*out = ev;
	return 0;
fail:
	rf_events_free(ev);
	return rc;
}

void rf_events_quiesce(struct rf_events *ev)
{
	if (!ev)
		return;
	ev->quiescing = true;
	for (struct sse *s = ev->streams; s; s = s->next) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
}

void rf_events_free(struct rf_events *ev)
{
	if (!ev)
		return;
	if (ev->listening)
		cmc_events_remove_listener(ev->d->events, on_event, ev);
	/* Streams MHD still holds (it should hold none once stopped) forget us. */
	for (struct sse *s = ev->streams; s; s = s->next)
		s->ev = NULL;
	rf_subs_free(ev->subs);
	if (ev->timer)
		cmc_loop_del_timer(ev->d->loop, ev->timer);
	free(ev->hist);
	free(ev);
}
