/* SPDX-License-Identifier: MIT */
/*
 * cmcd's event log's listeners (cmc/events.h): each listener gets every event posted after
 * it was added, in order, with its kind, slot and line; a removed one gets nothing more;
 * the retained events are walked oldest first (what a listener catches up with); the
 * number of listeners is bounded; the sink (`cmcctl events -f`) is served as before.
 */
#include "events.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct seen {
	unsigned n;
	unsigned long long seq[16];
	char line[16][64];
};

static void listen_fn(const struct cmc_event_view *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->seq[s->n] = e->seq;
		snprintf(s->line[s->n++], 64, "%s/%d/%s", e->kind, e->slot, e->detail);
	}
}

static unsigned sunk;

static void sink(const char *record, size_t len, void *arg)
{
	(void)record;
	(void)len;
	(void)arg;
	sunk++;
}

int main(void)
{
	struct cmc_events *ev;
	struct seen a = { 0 }, b = { 0 }, old = { 0 }, extra[4];

	if (!tap_ok(cmc_events_new(&ev, 3) == 0, "a ring of 3"))
		return tap_done();
	cmc_events_set_sink(ev, sink, NULL);
	cmc_events_post(ev, "before", -1, "nobody listens");
	tap_ok(cmc_events_add_listener(ev, listen_fn, &a) == 0, "a listener");
	tap_ok(cmc_events_add_listener(ev, listen_fn, &b) == 0, "another");
	cmc_events_post(ev, "hotplug", 2, "card %s removed", "8086:10c9");
	cmc_events_remove_listener(ev, listen_fn, &b);
	cmc_events_post(ev, "rescan", -1, "done");
	cmc_events_post(ev, "link-down", 1, "pf 0: link lost");
	tap_is_int((int)a.n, 3, "the first got the three events posted after it came");
	tap_is_str(a.line[0], "hotplug/2/card 8086:10c9 removed", "with kind, slot and its line formatted");
	tap_ok(a.seq[0] == 2 && a.seq[1] == 3 && a.seq[2] == 4, "numbered in order (2, 3, 4)");
	tap_is_int((int)b.n, 1, "the removed one only what came before its removal");
	tap_is_int((int)sunk, 4, "the sink got every event as before");
	cmc_events_foreach(ev, listen_fn, &old);
	tap_ok(old.n == 3 && old.seq[0] == 2 && old.seq[2] == 4, "foreach: the 3 retained, oldest first");
	for (int i = 0; i < 3; i++)
		tap_ok(cmc_events_add_listener(ev, listen_fn, &extra[i]) == 0, "listener %d", i + 2);
	tap_ok(cmc_events_add_listener(ev, listen_fn, &extra[3]) == -ENOSPC, "a fifth: -ENOSPC (CMC_EVENTS_LISTENERS_MAX 4)");
	cmc_events_free(ev);
	return tap_done();
}
