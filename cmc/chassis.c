/* SPDX-License-Identifier: MIT */
/*
 * Keeping the daemon's picture of the chassis true: rescans after hot-plug, and at
 * start-up a reconciliation of the store's last picture with what the hardware shows.
 */
#include "blades.h"
#include "cards.h"
#include "daemon.h"
#include "inventory.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_KEY_PREFIX "slot/"
#define RESCAN_DELAY_MS 100	/* coalesces the burst of uevents one hot-plug makes */

static void slot_key(unsigned number, char *buf, size_t len)
{
	snprintf(buf, len, SLOT_KEY_PREFIX "%u", number);
}

static int forget_vanished_slots(struct cmcd *d, const char *kind, const char *when);

/*
 * Compares each slot's picture with the store's, posts `kind` events for the
 * differences and records the new pictures. Slots the store knows but the hardware no
 * longer shows are reported too (a whole port gone). Returns the number of changes.
 */
static int compare_and_record(struct cmcd *d, const char *kind, const char *when)
{
	char key[32], now[CMC_SLOT_PICTURE_LEN], change[160];
	int changes = 0;

	for (size_t i = 0; i < mp_slot_count(d->inv); i++) {
		const struct mp_slot *s = mp_slot_at(d->inv, i);
		const char *was;

		/* A slot whose number is unknown or repeated has no picture of its own. */
		if (s->number == MP_SLOT_NUMBER_UNKNOWN || mp_slot_find(d->inv, s->number) != s)
			continue;
		slot_key(s->number, key, sizeof(key));
		cmc_inventory_slot_picture(s, now, sizeof(now));
		was = cmc_store_get(d->store, key);
		if (was && strcmp(was, now) == 0)
			continue;
		if (was) {
			cmc_inventory_describe_change(was, now, change, sizeof(change));
			cmc_events_post(d->events, kind, (int)s->number, "%s%s", change, when);
			changes++;
		} else {
			/* First sight of a slot: its starting state. */
			log_info("slot %u: %s", s->number, now);
		}
		if (cmc_store_set(d->store, key, now) < 0)
			log_warnx("store: cannot record slot %u", s->number);
	}
	changes += forget_vanished_slots(d, kind, when);
	changes += cmc_inventory_report_problems(d->inv, d->store, d->events);
	return changes;
}

struct vanished {
	struct cmcd *d;
	char keys[64][32];
	unsigned n;
};

static int collect_vanished(const char *key, const char *value, void *arg)
{
	struct vanished *v = arg;
	unsigned n;
	(void)value;

	if (sscanf(key + strlen(SLOT_KEY_PREFIX), "%u", &n) == 1 && !mp_slot_find(v->d->inv, n) &&
	    v->n < 64)
		snprintf(v->keys[v->n++], sizeof(v->keys[0]), "%s", key);
	return 0;
}

/* Slots the store knows and the hardware no longer has (a whole port gone). */
static int forget_vanished_slots(struct cmcd *d, const char *kind, const char *when)
{
	struct vanished v = { .d = d };

	/* A port whose slot number cannot be read may be any of them: none is called gone. */
	for (size_t i = 0; i < mp_slot_count(d->inv); i++)
		if (mp_slot_at(d->inv, i)->number == MP_SLOT_NUMBER_UNKNOWN)
			return 0;
	cmc_store_foreach(d->store, SLOT_KEY_PREFIX, collect_vanished, &v);
	for (unsigned i = 0; i < v.n; i++) {
		unsigned n = (unsigned)atoi(v.keys[i] + strlen(SLOT_KEY_PREFIX));
		cmc_events_post(d->events, kind, (int)n, "slot no longer present%s", when);
		(void)!cmc_store_del(d->store, v.keys[i]);
	}
	return (int)v.n;
}

static int commit_store(struct cmcd *d)
{
	int err = cmc_store_commit(d->store);

	if (err)
		log_warnx("store: commit failed (%s); the previous state stays on disk",
			  cmc_store_error(d->store));
	return err;
}

static void card_back(void *arg, unsigned slot, unsigned pf)
{
	struct cmcd *d = arg;

	cmc_blades_card_back(d->blades, slot, pf);
}

int cmcd_rescan(struct cmcd *d, const char *why)
{
	int err = mp_inventory_scan(d->inv);

	if (err) {
		log_warnx("rescan (%s) failed: %s", why, mp_inventory_error(d->inv));
		return err;
	}
	d->rescans++;
	/* A card pulled out under cmcd and put back is taken again, with its intent; taking
	 * it changed its drivers and VFs, which the next look sees. */
	if (cmc_cards_retake(d->cards, card_back, d) > 0)
		cmcd_rescan_soon(d);
	cmc_blades_kick(d->blades);
	if (compare_and_record(d, "hotplug", "") > 0)
		return commit_store(d);
	return 0;
}

int cmcd_reconcile(struct cmcd *d)
{
	int changes = compare_and_record(d, "reconcile", " while cmcd was down");

	if (changes)
		log_info("reconciled %d difference%s between the store and the hardware", changes,
			 changes == 1 ? "" : "s");
	return commit_store(d);
}

static void rescan_due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmcd *d = arg;
	(void)loop;
	(void)t;

	d->rescan_pending = false;
	(void)!cmcd_rescan(d, "hot-plug");
}

/*
 * The first uevent of a burst arms the timer; later ones ride along. Re-arming on each
 * would postpone the rescan for as long as uevents keep coming (a VF bring-up makes
 * dozens), so a pending rescan is left alone: it runs at most RESCAN_DELAY_MS late.
 */
void cmcd_rescan_soon(struct cmcd *d)
{
	if (d->rescan_pending)
		return;
	d->rescan_pending = true;
	if (!d->rescan_timer) {
		if (cmc_loop_add_timer(d->loop, RESCAN_DELAY_MS, 0, rescan_due, d, &d->rescan_timer) < 0)
			rescan_due(d->loop, NULL, d);
		return;
	}
	if (cmc_timer_arm(d->rescan_timer, RESCAN_DELAY_MS, 0) < 0)
		rescan_due(d->loop, NULL, d);
}
