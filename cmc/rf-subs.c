/* SPDX-License-Identifier: MIT */
/*
 * Push subscriptions (rf-events.h; DSP0266 §13.5.3 "Subscriptions", EventDestination
 * v1_16_0): created by POST to /redfish/v1/EventService/Subscriptions, kept in cmcd's store
 * as "rfsub/ID" records so they survive a restart, at most RF_SUBS_MAX of them.
 *
 * Delivery is a POST of the Event payload by libcurl, on a worker thread of its own that
 * drives every subscriber at once through one curl multi handle: each subscriber has its
 * own queue (RF_SUB_QUEUE_MAX events; a full queue drops the new event, counted), one POST
 * in flight at a time (RF_SUB_TIMEOUT_MS at most, connection included), and after a
 * failure waits DeliveryRetryIntervalSeconds, doubling per further failure, up to
 * DeliveryRetryAttempts retries; then that event is dropped (counted) and the next one
 * tried. A subscriber that is slow or gone only delays its own queue: the loop only queues
 * under a mutex (never a network call), and other subscribers' POSTs run beside it.
 */
#include "rf-events.h"
#include "rf-tree.h"

#include "daemon.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX "rfsub/"
#define LIST_MAX 8			/* entries of one filter list */
#define DEST_MAX 256
#define CONTEXT_MAX 256
#define BACKOFF_MAX_MS 3600000ull

struct list {
	unsigned n;
	char v[LIST_MAX][RF_EV_ORIGIN_MAX];
};

/* The filter lists of a subscription, in the order of its store record. */
enum { L_PREFIXES, L_MSGIDS, L_ORIGINS, L_RESTYPES, L_EVTYPES, L_XPREFIXES, L_XMSGIDS, L_COUNT };
static const char *const list_props[L_COUNT] = { "RegistryPrefixes", "MessageIds", "OriginResources",
						 "ResourceTypes", "EventTypes", "ExcludeRegistryPrefixes",
						 "ExcludeMessageIds" };
static const char *const list_keys[L_COUNT] = { "prefixes", "msgids", "origins", "restypes",
						"evtypes", "xprefixes", "xmsgids" };

struct sub {
	char id[16];
	char dest[DEST_MAX + 1];
	char context[CONTEXT_MAX + 1];
	struct list lists[L_COUNT];
	bool subordinate, verify;
	/* delivery: under the mutex */
	char *q[RF_SUB_QUEUE_MAX];
	unsigned qhead, qcount;
	unsigned attempts;			/* failures of the event at the head */
	unsigned long long next_ms;		/* not before (cmc_now_ms) */
	CURL *easy;				/* the POST in flight, or NULL */
	struct curl_slist *headers;
	unsigned long long delivered, dropped, retries;
	char last_error[CURL_ERROR_SIZE];
	char errbuf[CURL_ERROR_SIZE];
	bool deleted;
	struct sub *next;
};

struct rf_subs {
	struct cmcd *d;
	pthread_mutex_t lock;
	pthread_t worker;
	bool started, stop;
	CURLM *multi;
	struct sub *subs;		/* under the lock */
	unsigned count;			/* live (not deleted) */
	unsigned long long dropped_gone;	/* drops of deleted subscriptions */
	unsigned retry_attempts;
	unsigned long long retry_ms;
};

/* --- matching -------------------------------------------------------------------------------- */

static bool in(const struct list *l, const char *s)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static bool msgid_in(const struct list *l, const char *id)
{
	for (unsigned i = 0; i < l->n; i++)
		if (rf_msgid_match(l->v[i], id))
			return true;
	return false;
}

static bool wants(const struct sub *s, const struct rf_event *e)
{
	const struct list *l = s->lists;
	bool origin = l[L_ORIGINS].n == 0;

	for (unsigned i = 0; i < l[L_ORIGINS].n && !origin; i++)
		origin = rf_origin_match(l[L_ORIGINS].v[i], e->origin, s->subordinate);
	return origin && (!l[L_PREFIXES].n || in(&l[L_PREFIXES], e->prefix)) &&
	       (!l[L_MSGIDS].n || msgid_in(&l[L_MSGIDS], e->message_id)) &&
	       (!l[L_RESTYPES].n || in(&l[L_RESTYPES], e->resource_type)) &&
	       (!l[L_EVTYPES].n || in(&l[L_EVTYPES], e->event_type)) &&
	       !in(&l[L_XPREFIXES], e->prefix) && !msgid_in(&l[L_XMSGIDS], e->message_id);
}

/* --- the worker ------------------------------------------------------------------------------- */

static void pop(struct sub *s)
{
	free(s->q[s->qhead]);
	s->q[s->qhead] = NULL;
	s->qhead = (s->qhead + 1) % RF_SUB_QUEUE_MAX;
	s->qcount--;
	s->attempts = 0;
	s->next_ms = 0;
}

static void end_transfer(struct rf_subs *rs, struct sub *s)
{
	curl_multi_remove_handle(rs->multi, s->easy);
	curl_easy_cleanup(s->easy);
	curl_slist_free_all(s->headers);
	s->easy = NULL;
	s->headers = NULL;
}

/* Under the lock: the POST of the event at the head of s's queue. */
static void start(struct rf_subs *rs, struct sub *s)
{
	CURL *e = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

	h = h ? curl_slist_append(h, "OData-Version: 4.0") : NULL;
	if (!e || !h) {
		curl_easy_cleanup(e);
		curl_slist_free_all(h);
		s->next_ms = cmc_now_ms() + 1000;
		return;
	}
	s->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, s->dest);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->q[s->qhead]);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)RF_SUB_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->verify ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "cmcd");
	if (curl_multi_add_handle(rs->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(h);
		s->next_ms = cmc_now_ms() + 1000;
		return;
	}
	s->easy = e;
	s->headers = h;
}

/* Under the lock: a POST is over. 2xx: delivered; else retried later, or dropped. */
static void finished(struct rf_subs *rs, struct sub *s, CURLcode res)
{
	long code = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && code >= 200 && code < 300) {
		s->delivered++;
		pop(s);
	} else {
		if (res != CURLE_OK)
			snprintf(s->last_error, sizeof(s->last_error), "%s", *s->errbuf ? s->errbuf : curl_easy_strerror(res));
		else
			snprintf(s->last_error, sizeof(s->last_error), "HTTP %ld", code);
		if (s->attempts++ >= rs->retry_attempts) {
			s->dropped++;
			pop(s);
		} else {
			unsigned long long wait = rs->retry_ms << (s->attempts - 1 < 20 ? s->attempts - 1 : 20);
			s->retries++;
			s->next_ms = cmc_now_ms() + (wait < BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS);
		}
	}
	end_transfer(rs, s);
}

static void free_sub(struct sub *s)
{
	while (s->qcount)
		pop(s);
	free(s);
}

/* Under the lock: starts what is due, forgets deleted subscriptions; the ms to sleep. */
static int schedule(struct rf_subs *rs)
{
	unsigned long long now = cmc_now_ms();
	long sleep_ms = 3600000;	/* nothing due: asleep until woken (an idle cmcd wakes never) */

	for (struct sub **pp = &rs->subs; *pp; ) {
		struct sub *s = *pp;
		if (s->deleted) {
			if (s->easy)
				end_transfer(rs, s);
			*pp = s->next;
			rs->dropped_gone += s->dropped + s->qcount;
			free_sub(s);
			continue;
		}
		if (!s->easy && s->qcount) {
			if (now >= s->next_ms)
				start(rs, s);
			else if ((long)(s->next_ms - now) < sleep_ms)
				sleep_ms = (long)(s->next_ms - now);
		}
		pp = &s->next;
	}
	return (int)sleep_ms;
}

static void *worker(void *arg)
{
	struct rf_subs *rs = arg;
	int running, timeout;
	long t;
	CURLMsg *m;

	pthread_mutex_lock(&rs->lock);
	while (!rs->stop) {
		timeout = schedule(rs);
		pthread_mutex_unlock(&rs->lock);
		curl_multi_perform(rs->multi, &running);
		while ((m = curl_multi_info_read(rs->multi, &running))) {
			struct sub *s = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			pthread_mutex_lock(&rs->lock);
			if (s && s->easy == m->easy_handle)
				finished(rs, s, m->data.result);
			pthread_mutex_unlock(&rs->lock);
			timeout = 0;
		}
		t = -1;
		if (curl_multi_timeout(rs->multi, &t) == CURLM_OK && t >= 0 && t < timeout)
			timeout = (int)t;	/* curl's own: a transfer's timeout, a retry of its own */
		curl_multi_poll(rs->multi, NULL, 0, timeout, NULL);
		pthread_mutex_lock(&rs->lock);
	}
	pthread_mutex_unlock(&rs->lock);
	return NULL;
}

/* --- the store ------------------------------------------------------------------------------- */

/* Percent-encodes what is not [A-Za-z0-9._~/:@-] (so ' ', ',', '=' and '%' never appear). */
static void enc(const char *s, char *out, size_t len)
{
	static const char ok[] = "._~/:@-";
	size_t w = 0;

	for (; *s && w + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(ok, c))
			out[w++] = (char)c;
		else
			w += (size_t)snprintf(out + w, len - w, "%%%02X", c);
	}
	out[w] = '\0';
}

static void dec(const char *s, size_t n, char *out, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < n && w + 1 < len; i++) {
		unsigned v;
		if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%2x", &v) == 1) {
			out[w++] = (char)v;
			i += 2;
		} else {
			out[w++] = s[i];
		}
	}
	out[w] = '\0';
}

static int put(char *buf, size_t len, size_t *w, const char *k, const char *v)
{
	int n = snprintf(buf + *w, len - *w, "%s%s=%s", *w ? " " : "", k, v);

	if (n < 0 || (size_t)n >= len - *w)
		return -EINVAL;
	*w += (size_t)n;
	return 0;
}

static int record(const struct sub *s, char *buf, size_t len)
{
	char e[RF_EV_ORIGIN_MAX * 3 * LIST_MAX + LIST_MAX];
	size_t w = 0;
	int rc;

	enc(s->dest, e, sizeof(e));
	if ((rc = put(buf, len, &w, "dest", e)) < 0)
		return rc;
	enc(s->context, e, sizeof(e));
	if ((rc = put(buf, len, &w, "ctx", *e ? e : "%00")) < 0 ||
	    (rc = put(buf, len, &w, "sub", s->subordinate ? "1" : "0")) < 0 ||
	    (rc = put(buf, len, &w, "verify", s->verify ? "1" : "0")) < 0)
		return rc;
	for (int l = 0; l < L_COUNT; l++) {
		size_t ew = 0;
		if (!s->lists[l].n)
			continue;
		for (unsigned i = 0; i < s->lists[l].n; i++) {
			if (i)
				e[ew++] = ',';
			enc(s->lists[l].v[i], e + ew, sizeof(e) - ew);
			ew += strlen(e + ew);
		}
		if ((rc = put(buf, len, &w, list_keys[l], e)) < 0)
			return rc;
	}
	return 0;
}

static void field(const char *value, const char *k, char *out, size_t len)
{
	char raw[CMC_STORE_VALUE_MAX + 1];

	out[0] = '\0';
	if (cmc_store_field(value, k, raw, sizeof(raw)) == 0 && strcmp(raw, "%00") != 0)
		dec(raw, strlen(raw), out, len);
}

static int load_one(const char *key, const char *value, void *arg)
{
	struct rf_subs *rs = arg;
	char raw[CMC_STORE_VALUE_MAX + 1], flag[4];
	struct sub *s;

	if (strspn(key + strlen(KEY_PREFIX), "0123456789") != strlen(key + strlen(KEY_PREFIX)))
		return 0;	/* rfsub/last: the highest Id given */
	if (rs->count >= RF_SUBS_MAX || !(s = calloc(1, sizeof(*s))))
		return 0;
	snprintf(s->id, sizeof(s->id), "%s", key + strlen(KEY_PREFIX));
	field(value, "dest", s->dest, sizeof(s->dest));
	field(value, "ctx", s->context, sizeof(s->context));
	field(value, "sub", flag, sizeof(flag));
	s->subordinate = flag[0] == '1';
	field(value, "verify", flag, sizeof(flag));
	s->verify = flag[0] != '0';
	for (int l = 0; l < L_COUNT; l++) {
		if (cmc_store_field(value, list_keys[l], raw, sizeof(raw)) < 0)
			continue;
		for (const char *p = raw; *p && s->lists[l].n < LIST_MAX; ) {
			size_t n = strcspn(p, ",");
			dec(p, n, s->lists[l].v[s->lists[l].n++], RF_EV_ORIGIN_MAX);
			p += n + (p[n] == ',');
		}
	}
	if (!*s->dest) {
		log_warnx("redfish: subscription %s has no destination in the store: ignored", s->id);
		free(s);
		return 0;
	}
	s->next = rs->subs;
	rs->subs = s;
	rs->count++;
	return 0;
}

/* --- the loop's side --------------------------------------------------------------------------- */

int rf_subs_new(struct cmcd *d, struct rf_subs **out)
{
	struct rf_subs *rs = calloc(1, sizeof(*rs));
	int rc;

	*out = NULL;
	if (!rs)
		return -ENOMEM;
	rs->d = d;
	rs->retry_attempts = d->config->redfish.event_retry_attempts;
	rs->retry_ms = d->config->redfish.event_retry_interval * 1000ull;
	pthread_mutex_init(&rs->lock, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(rs->multi = curl_multi_init())) {
		rc = -ENOMEM;
		goto fail;
	}
	cmc_store_foreach(d->store, KEY_PREFIX, load_one, rs);
	rc = -pthread_create(&rs->worker, NULL, worker, rs);
	if (rc)
		goto fail;
	pthread_setname_np(rs->worker, "cmcd-rfevents");
	rs->started = true;
	if (rs->count)
		log_info("redfish: %u event subscription%s", rs->count, rs->count == 1 ? "" : "s");
	*out = rs;
	return 0;
fail:
	rf_subs_free(rs);
	return rc;
}

void rf_subs_free(struct rf_subs *rs)
{
	if (!rs)
		return;
	if (rs->started) {
		pthread_mutex_lock(&rs->lock);
		rs->stop = true;
		pthread_mutex_unlock(&rs->lock);
		curl_multi_wakeup(rs->multi);
		pthread_join(rs->worker, NULL);
	}
	while (rs->subs) {
		struct sub *s = rs->subs;
		rs->subs = s->next;
		if (s->easy)
			end_transfer(rs, s);
		free_sub(s);
	}
	if (rs->multi)
		curl_multi_cleanup(rs->multi);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}

void rf_subs_post(struct rf_subs *rs, const struct rf_event *e)
{
	bool any = false;

	if (!rs)
		return;
	pthread_mutex_lock(&rs->lock);
	for (struct sub *s = rs->subs; s; s = s->next) {
		char *payload;
		if (s->deleted || !wants(s, e))
			continue;
		if (s->qcount == RF_SUB_QUEUE_MAX || !(payload = rf_event_payload(e, s->context))) {
			if (!s->dropped++ || s->dropped % 100 == 0)
				log_info("redfish: subscription %s (%s): events dropped (%llu so far): its queue is full",
					 s->id, s->dest, s->dropped);
			continue;
		}
		s->q[(s->qhead + s->qcount++) % RF_SUB_QUEUE_MAX] = payload;
		any = true;
	}
	pthread_mutex_unlock(&rs->lock);
	if (any)
		curl_multi_wakeup(rs->multi);
}

unsigned long long rf_subs_dropped(struct rf_subs *rs)
{
	unsigned long long n;

	if (!rs)
		return 0;
	pthread_mutex_lock(&rs->lock);
	n = rs->dropped_gone;
	for (struct sub *s = rs->subs; s; s = s->next)
		n += s->dropped;
	pthread_mutex_unlock(&rs->lock);
	return n;
}

static struct sub *find(struct rf_subs *rs, const char *id)
{
	for (struct sub *s = rs->subs; s; s = s->next)
		if (!s->deleted && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

static json_t *list_json(const struct list *l, bool links)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < l->n; i++)
		json_array_append_new(a, links ? rf_link("%s", l->v[i]) : json_string(l->v[i]));
	return a;
}

/* Under the lock. */
static json_t *sub_json(const struct sub *s)
{
	json_t *j = rf_resource("EventDestination.v1_16_0.EventDestination", s->id, "Event subscription",
				RF_EVENTS_SUBS "/%s", s->id);

	json_object_set_new(j, "Destination", json_string(s->dest));
	json_object_set_new(j, "Context", json_string(s->context));
	json_object_set_new(j, "Protocol", json_string("Redfish"));
	json_object_set_new(j, "SubscriptionType", json_string("RedfishEvent"));
	json_object_set_new(j, "EventFormatType", json_string("Event"));
	json_object_set_new(j, "SubordinateResources", json_boolean(s->subordinate));
	json_object_set_new(j, "VerifyCertificate", json_boolean(s->verify));
	for (int l = 0; l < L_COUNT; l++)
		if (s->lists[l].n || l < L_RESTYPES)
			json_object_set_new(j, list_props[l], list_json(&s->lists[l], l == L_ORIGINS));
	json_object_set_new(j, "Status", rf_status("Enabled", s->dropped ? "Warning" : "OK"));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:I, s:I, s:I, s:I, s:s}}", "Cmc",
		"@odata.type", "#CmcOem.v1_0_0.EventDestination",
		"EventsDelivered", (json_int_t)s->delivered, "EventsDropped", (json_int_t)s->dropped,
		"Retries", (json_int_t)s->retries, "EventsQueued", (json_int_t)s->qcount,
		"LastError", s->last_error));
	return j;
}

int rf_subs_get(struct rf_subs *rs, const char *id, json_t **out)
{
	struct sub *s;
	json_t *j;

	pthread_mutex_lock(&rs->lock);
	if (id) {
		s = find(rs, id);
		j = s ? sub_json(s) : NULL;
		pthread_mutex_unlock(&rs->lock);
		*out = j;
		return s ? (j ? 0 : -ENOMEM) : -ENOENT;
	}
	j = rf_collection("EventDestinationCollection", "Event subscriptions", RF_EVENTS_SUBS);
	for (s = rs->subs; s && j; s = s->next)
		if (!s->deleted)
			rf_member(j, rf_link(RF_EVENTS_SUBS "/%s", s->id));
	pthread_mutex_unlock(&rs->lock);
	*out = j;
	return j ? 0 : -ENOMEM;
}

/* --- POST and DELETE --------------------------------------------------------------------------- */

struct why {
	const char **msgid;
	char *arg;
	size_t arglen;
};

static __attribute__((format(printf, 3, 4))) int bad(struct why *w, const char *msgid, const char *fmt, ...)
{
	va_list ap;

	*w->msgid = msgid;
	va_start(ap, fmt);
	vsnprintf(w->arg, w->arglen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool printable(const char *s, bool spaces)
{
	for (; *s; s++)
		if ((unsigned char)*s < (spaces ? 0x20 : 0x21) || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* A list property: strings (or links, for OriginResources), each checked. */
static int parse_list(const json_t *v, int l, struct list *out, struct why *w)
{
	const char *name = list_props[l];
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return bad(w, "PropertyValueTypeError", "The value for the property %s is not a type that the property can accept: an array.", name);
	if (json_array_size(v) > LIST_MAX)
		return bad(w, "PropertyValueFormatError", "The property %s takes at most 8 entries.", name);
	json_array_foreach(v, i, e) {
		const char *s = l == L_ORIGINS ? json_string_value(json_object_get(e, "@odata.id")) : json_string_value(e);
		if (!s || !*s || strlen(s) >= RF_EV_ORIGIN_MAX || !printable(s, false))
			return bad(w, "PropertyValueFormatError", "An entry of the property %s is not a format that the property can accept%s.",
				   name, l == L_ORIGINS ? " (a link: {\"@odata.id\": URI})" : "");
		if ((l == L_PREFIXES || l == L_XPREFIXES) && strcmp(s, "ResourceEvent") && strcmp(s, "TaskEvent"))
			return bad(w, "PropertyValueNotInList", "The value '%s' for the property %s is not in the list of acceptable values.", s, name);
		if (l == L_ORIGINS && strncmp(s, "/redfish/v1/", 12) != 0)
			return bad(w, "PropertyValueFormatError", "The value '%s' for the property %s is not a format that the property can accept.", s, name);
		snprintf(out->v[out->n++], RF_EV_ORIGIN_MAX, "%s", s);
	}
	return 0;
}

static int parse_string(const json_t *v, const char *name, char *out, size_t len, bool spaces, struct why *w)
{
	const char *s = json_string_value(v);

	if (!s)
		return bad(w, "PropertyValueTypeError", "The value for the property %s is not a type that the property can accept: a string.", name);
	if (strlen(s) >= len || !printable(s, spaces))
		return bad(w, "PropertyValueFormatError", "The value for the property %s is not a format that the property can accept (printable ASCII, at most %s characters).",
			   name, len > 257 ? "256" : "255");
	snprintf(out, len, "%s", s);
	return 0;
}

/* Checks that v (a string property) has the only value this service takes. */
static int only(const json_t *v, const char *name, const char *want, struct why *w)
{
	const char *s = json_string_value(v);

	if (!s || strcmp(s, want) != 0)
		return bad(w, "PropertyValueNotInList", "The value for the property %s is not in the list of acceptable values (%s).", name, want);
	return 0;
}

static int parse_prop(const char *k, const json_t *v, struct sub *s, struct why *w)
{
	for (int l = 0; l < L_COUNT; l++)
		if (strcmp(k, list_props[l]) == 0)
			return parse_list(v, l, &s->lists[l], w);
	if (strcmp(k, "Destination") == 0)
		return parse_string(v, k, s->dest, sizeof(s->dest), false, w);
	if (strcmp(k, "Context") == 0)
		return parse_string(v, k, s->context, sizeof(s->context), true, w);
	if (strcmp(k, "Protocol") == 0)
		return only(v, k, "Redfish", w);
	if (strcmp(k, "SubscriptionType") == 0)
		return only(v, k, "RedfishEvent", w);
	if (strcmp(k, "EventFormatType") == 0)
		return only(v, k, "Event", w);
	if (strcmp(k, "SubordinateResources") == 0 || strcmp(k, "VerifyCertificate") == 0) {
		if (!json_is_boolean(v))
			return bad(w, "PropertyValueTypeError", "The value for the property %s is not a type that the property can accept: a boolean.", k);
		*(k[0] == 'S' ? &s->subordinate : &s->verify) = json_is_true(v);
		return 0;
	}
	return bad(w, "PropertyUnknown", "The property %s is not in the list of valid properties for the resource.", k);
}

/* The next free Id: one more than the highest in use (ids are never reused in one store). */
static unsigned next_id(struct rf_subs *rs)
{
	const char *last = cmc_store_get(rs->d->store, KEY_PREFIX "last");
	unsigned n = last ? (unsigned)strtoul(last, NULL, 10) : 0;

	for (struct sub *s = rs->subs; s; s = s->next)
		if ((unsigned)strtoul(s->id, NULL, 10) > n)
			n = (unsigned)strtoul(s->id, NULL, 10);
	return n + 1;
}

int rf_subs_create(struct rf_subs *rs, json_t *body, char *id, size_t idlen,
		   const char **msgid, char *arg, size_t arglen)
{
	struct why w = { msgid, arg, arglen };
	char key[32], value[CMC_STORE_VALUE_MAX + 2], num[16];
	struct sub *s = calloc(1, sizeof(*s));
	const char *k;
	json_t *v;
	int rc = -EINVAL;

	if (!s)
		return -ENOMEM;
	s->verify = true;
	json_object_foreach(body, k, v)
		if ((rc = parse_prop(k, v, s, &w)) < 0)
			goto out;
	rc = -EINVAL;
	if (!*s->dest || !json_object_get(body, "Protocol")) {
		bad(&w, "PropertyMissing", "The property %s is a required property and must be included in the request.",
		    *s->dest ? "Protocol" : "Destination");
		goto out;
	}
	if (strncmp(s->dest, "http://", 7) != 0 && strncmp(s->dest, "https://", 8) != 0) {
		bad(&w, "PropertyValueFormatError", "The value '%s' for the property %s is not a format that the property can accept (an http:// or https:// URI).",
		    s->dest, "Destination");
		goto out;
	}
	rc = -ENOSPC;
	if (rs->count >= RF_SUBS_MAX)
		goto out;
	snprintf(s->id, sizeof(s->id), "%u", next_id(rs));
	snprintf(key, sizeof(key), KEY_PREFIX "%s", s->id);
	snprintf(num, sizeof(num), "%s", s->id);
	if (record(s, value, sizeof(value)) < 0 || strlen(value) > CMC_STORE_VALUE_MAX) {
		rc = bad(&w, "PropertyValueFormatError", "The subscription is too long to keep (4095 characters): fewer or shorter entries.");
		goto out;
	}
	if ((rc = cmc_store_set(rs->d->store, key, value)) < 0 ||
	    (rc = cmc_store_set(rs->d->store, KEY_PREFIX "last", num)) < 0 ||
	    (rc = cmc_store_commit(rs->d->store)) < 0) {
		cmc_store_rollback(rs->d->store);
		rc = -EIO;
		goto out;
	}
	pthread_mutex_lock(&rs->lock);
	s->next = rs->subs;
	rs->subs = s;
	rs->count++;
	pthread_mutex_unlock(&rs->lock);
	snprintf(id, idlen, "%s", s->id);
	log_info("redfish: event subscription %s to %s", s->id, s->dest);
	return 0;
out:
	free(s);
	return rc;
}

int rf_subs_delete(struct rf_subs *rs, const char *id)
{
	char key[32];
	struct sub *s;
	int rc;

	pthread_mutex_lock(&rs->lock);
	s = find(rs, id);
	pthread_mutex_unlock(&rs->lock);
	if (!s || strlen(id) > 10)
		return -ENOENT;
	snprintf(key, sizeof(key), KEY_PREFIX "%s", id);
	if ((rc = cmc_store_del(rs->d->store, key)) < 0 || (rc = cmc_store_commit(rs->d->store)) < 0) {
		cmc_store_rollback(rs->d->store);
		return -EIO;
	}
	pthread_mutex_lock(&rs->lock);
	s->deleted = true;	/* the worker frees it, ending a POST under way */
	rs->count--;
	pthread_mutex_unlock(&rs->lock);
	curl_multi_wakeup(rs->multi);
	log_info("redfish: event subscription %s deleted", id);
	return 0;
}
