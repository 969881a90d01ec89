/* SPDX-License-Identifier: MIT */
#include "events.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cmc_event {
	unsigned long long seq;
	struct timespec when;
	char kind[32];
	int slot;
	char detail[200];
};

struct cmc_events {
	struct cmc_event *ring;
	unsigned capacity, count, head;	/* head: next write position */
	unsigned long long seq;
	cmc_event_sink sink;
	void *sink_arg;
	struct {
		cmc_event_listener fn;
		void *arg;
	} listeners[CMC_EVENTS_LISTENERS_MAX];
};

int cmc_events_new(struct cmc_events **out, unsigned capacity)
{
	struct cmc_events *ev = calloc(1, sizeof(*ev));

	if (!ev || capacity == 0)
		goto err;
	ev->ring = calloc(capacity, sizeof(*ev->ring));
	if (!ev->ring)
		goto err;
	ev->capacity = capacity;
	*out = ev;
	return 0;
err:
	free(ev);
	return capacity ? -ENOMEM : -EINVAL;
}

void cmc_events_free(struct cmc_events *ev)
{
	if (!ev)
		return;
	free(ev->ring);
	free(ev);
}

void cmc_events_set_sink(struct cmc_events *ev, cmc_event_sink sink, void *arg)
{
	ev->sink = sink;
	ev->sink_arg = arg;
}

static void event_record(const struct cmc_event *e, struct cmc_buf *out)
{
	struct tm tm;
	char when[64];

	gmtime_r(&e->when.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(e->when.tv_nsec / 1000000));
	cmc_rec_begin(out, "event");
	cmc_rec_int(out, "seq", (long long)e->seq);
	cmc_rec_str(out, "time", when);
	cmc_rec_str(out, "kind", e->kind);
	if (e->slot >= 0)
		cmc_rec_int(out, "slot", e->slot);
	cmc_rec_str(out, "detail", e->detail);
	cmc_rec_end(out);
}

void cmc_events_post(struct cmc_events *ev, const char *kind, int slot, const char *fmt, ...)
{
	struct cmc_event *e = &ev->ring[ev->head];
	va_list ap;

	*e = (struct cmc_event){ .seq = ++ev->seq, .slot = slot };
	clock_gettime(CLOCK_REALTIME, &e->when);
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	ev->head = (ev->head + 1) % ev->capacity;
	if (ev->count < ev->capacity)
		ev->count++;

	if (slot >= 0)
		log_info("event %s: slot %d: %s", e->kind, slot, e->detail);
	else
		log_info("event %s: %s", e->kind, e->detail);
	if (ev->sink) {
		struct cmc_buf rec = { 0 };
		event_record(e, &rec);
		if (!rec.failed)
			ev->sink(rec.data, rec.len, ev->sink_arg);
		cmc_buf_free(&rec);
	}
	for (unsigned i = 0; i < CMC_EVENTS_LISTENERS_MAX; i++) {
		struct cmc_event_view v = { e->seq, e->when, e->kind, e->slot, e->detail };
		if (ev->listeners[i].fn)
			ev->listeners[i].fn(&v, ev->listeners[i].arg);
	}
}

int cmc_events_add_listener(struct cmc_events *ev, cmc_event_listener fn, void *arg)
{
	for (unsigned i = 0; i < CMC_EVENTS_LISTENERS_MAX; i++) {
		if (!ev->listeners[i].fn) {
			ev->listeners[i].fn = fn;
			ev->listeners[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void cmc_events_remove_listener(struct cmc_events *ev, cmc_event_listener fn, void *arg)
{
	for (unsigned i = 0; i < CMC_EVENTS_LISTENERS_MAX; i++)
		if (ev->listeners[i].fn == fn && ev->listeners[i].arg == arg)
			ev->listeners[i].fn = NULL;
}

void cmc_events_foreach(const struct cmc_events *ev, cmc_event_listener fn, void *arg)
{
	unsigned first = (ev->head + ev->capacity - ev->count) % ev->capacity;

	for (unsigned i = 0; i < ev->count; i++) {
		const struct cmc_event *e = &ev->ring[(first + i) % ev->capacity];
		struct cmc_event_view v = { e->seq, e->when, e->kind, e->slot, e->detail };
		fn(&v, arg);
	}
}

void cmc_events_dump(const struct cmc_events *ev, struct cmc_buf *out)
{
	unsigned first = (ev->head + ev->capacity - ev->count) % ev->capacity;

	for (unsigned i = 0; i < ev->count; i++)
		event_record(&ev->ring[(first + i) % ev->capacity], out);
}
