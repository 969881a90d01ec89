/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the slot states (cmc/inventory.c): the picture stored for each
 * state, what a change between two pictures is called (a card that stops answering is
 * not "removed"), and problems posted once: not again at the next scan, again after
 * they cleared and came back.
 */
#include "config.h"
#include "events.h"
#include "inventory.h"
#include "log.h"
#include "store.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA "t/data/inventory/"

static struct mp_inventory *scan(const char *file)
{
	struct mp_inventory *inv;
	char path[128];

	snprintf(path, sizeof(path), DATA "%s", file);
	if (mp_inventory_open(&inv, path) < 0)
		return NULL;
	if (mp_inventory_scan(inv) < 0) {
		mp_inventory_close(inv);
		return NULL;
	}
	return inv;
}

static void picture_of(const char *file, unsigned slot, const char *want)
{
	struct mp_inventory *inv = scan(file);
	const struct mp_slot *s = inv ? mp_slot_find(inv, slot) : NULL;
	char pic[CMC_SLOT_PICTURE_LEN] = "";

	if (s)
		cmc_inventory_slot_picture(s, pic, sizeof(pic));
	tap_is_str(pic, want, "%s: slot %u's picture", file, slot);
	mp_inventory_close(inv);
}

static void change(const char *was, const char *now, const char *want)
{
	char buf[160];

	cmc_inventory_describe_change(was, now, buf, sizeof(buf));
	tap_is_str(buf, want, "'%s' -> '%s'", was, now);
}

static void carry(const char *was, const char *now, const char *want)
{
	char buf[CMC_SLOT_PICTURE_LEN];

	snprintf(buf, sizeof(buf), "%s", now);
	cmc_inventory_carry_card(was, buf, sizeof(buf));
	tap_is_str(buf, want, "carried: '%s' then '%s'", was ? was : "(none)", now);
}

static void test_carry(void)
{
	carry("card=8086:10c9 pfs=1 vfs=2", "link-down", "link-down last=8086:10c9");
	carry("link-down last=8086:10c9", "not-responding", "not-responding last=8086:10c9");
	carry("link-down last=8086:10c9", "empty", "empty");
	carry("link-down last=8086:10c9", "card=8086:10d3 pfs=1 vfs=0", "card=8086:10d3 pfs=1 vfs=0");
	carry("card=8086:10c9 pfs=1 vfs=2", "unreadable card=8086:10c9 pfs=1",
	      "unreadable card=8086:10c9 pfs=1");
	carry("empty", "link-down", "link-down");
	carry(NULL, "link-down", "link-down");
}

static void test_pictures(void)
{
	picture_of("three.dump", 1, "card=8086:10c9 pfs=1 vfs=2");
	picture_of("gone.dump", 1, "not-responding");
	picture_of("notrained.dump", 2, "link-down");
	picture_of("numvfs.dump", 1, "unreadable card=8086:10c9 pfs=1");
	picture_of("numvfs.dump", 2, "card=8086:10c9 pfs=1 vfs=2");
}

/* The reason on the dump's slot (0: a slot number the dump does not have), configured
 * with vfs (-1: not in the configuration). */
static void why(const char *file, unsigned slot, unsigned pf, int vfs, bool dead, const char *want)
{
	struct mp_inventory *inv = scan(file);
	struct cmc_config_slot cs = { .number = slot, .vfs = vfs < 0 ? 0 : (unsigned)vfs };
	char err[256] = "";

	cmc_inventory_why_not_driven(inv ? mp_slot_find(inv, slot) : NULL, vfs < 0 ? NULL : &cs, dead, slot, pf,
				     err, sizeof(err));
	tap_is_str(err, want, "%s: slot %u pf %u (vfs %d%s): why it is not driven", file, slot, pf, vfs,
		   dead ? ", dead" : "");
	if (inv)
		mp_inventory_close(inv);
}

static void test_not_driven(void)
{
	why("three.dump", 9, 0, -1, false,
	    "slot 9 pf 0 is not driven by cmcd: the chassis has no slot 9 (see `cmcctl slots`)");
	why("three.dump", 9, 0, 4, false, "slot 9 pf 0 is not driven by cmcd: slot 9 is empty");
	{
		const struct mp_slot empty = { .number = 3, .state = MP_SLOT_EMPTY };
		const struct cmc_config_slot cs = { .number = 3, .vfs = 4 };
		char err[256] = "";

		cmc_inventory_why_not_driven(&empty, &cs, false, 3, 0, err, sizeof(err));
		tap_is_str(err, "slot 3 pf 0 is not driven by cmcd: slot 3 is empty", "an empty slot: why it is not driven");
	}
	why("notrained.dump", 2, 0, 4, false, "slot 2 pf 0 is not driven by cmcd: the card in slot 2 has no link");
	why("gone.dump", 1, 0, 4, false, "slot 1 pf 0 is not driven by cmcd: the card in slot 1 does not answer");
	why("three.dump", 1, 0, 4, true, "slot 1 pf 0 is not driven by cmcd: the card in slot 1 does not answer");
	why("numvfs.dump", 1, 0, 4, false,
	    "slot 1 pf 0 is not driven by cmcd: slot 1's port cannot be read (see `cmcctl slot 1`)");
	why("three.dump", 1, 0, -1, false, "slot 1 pf 0 is not driven by cmcd: the configuration gives slot 1 no VFs"
	    " (cmcd drives a card in a slot with vfs > 0)");
	why("three.dump", 1, 0, 0, false, "slot 1 pf 0 is not driven by cmcd: the configuration gives slot 1 no VFs"
	    " (cmcd drives a card in a slot with vfs > 0)");
	why("three.dump", 1, 1, 4, false, "slot 1 pf 1 is not driven by cmcd: the card in slot 1 has 1 PF");
	why("three.dump", 1, 0, 4, false,
	    "slot 1 pf 0 is not driven by cmcd: it could not take the card (see `cmcctl events`)");
}

static void test_changes(void)
{
	change("card=8086:10c9 pfs=1 vfs=2", "empty", "card 8086:10c9 removed");
	change("card=8086:10c9 pfs=1 vfs=2", "not-responding",
	       "went from occupied (card 8086:10c9) to not-responding");
	change("card=8086:10c9 pfs=1 vfs=2", "link-down",
	       "went from occupied (card 8086:10c9) to link-down");
	change("card=8086:10c9 pfs=1 vfs=2", "unreadable card=8086:10c9 pfs=1",
	       "went from occupied (card 8086:10c9) to unreadable card=8086:10c9 pfs=1");
	change("not-responding", "card=8086:10c9 pfs=1 vfs=2",
	       "card 8086:10c9 added (was not-responding)");
	change("empty", "card=8086:10c9 pfs=1 vfs=2", "card 8086:10c9 added (was empty)");
	change("link-down", "empty", "went from link-down to empty");
	/* A pull seen half-way: the link dropped before the card went. */
	change("card=8086:10c9 pfs=1 vfs=2", "link-down last=8086:10c9",
	       "went from occupied (card 8086:10c9) to link-down");
	change("link-down last=8086:10c9", "empty", "card 8086:10c9 removed (was link-down)");
	change("not-responding last=8086:10c9", "card=8086:10c9 pfs=1 vfs=0",
	       "card 8086:10c9 added (was not-responding)");
	change("card=8086:10c9 pfs=1 vfs=2", "card=8086:10d3 pfs=1 vfs=0",
	       "card 8086:10c9 replaced by 8086:10d3");
	change("card=8086:10c9 pfs=1 vfs=2", "card=8086:10c9 pfs=1 vfs=4",
	       "was 'card=8086:10c9 pfs=1 vfs=2', now 'card=8086:10c9 pfs=1 vfs=4'");
}

static unsigned posted;

static void sink(const char *record, size_t len, void *arg)
{
	(void)record;
	(void)len;
	(void)arg;
	posted++;
}

/* gone.dump has 3 problems; three.dump none. */
static void test_once(void)
{
	char dir[] = "/tmp/cmc-inventory-XXXXXX", path[64], lock[80], err[256] = "";
	struct mp_inventory *gone = scan("gone.dump"), *three = scan("three.dump");
	struct cmc_events *ev = NULL;
	struct cmc_store *st = NULL;

	snprintf(path, sizeof(path), "%s/state", mkdtemp(dir) ? dir : "/tmp");
	snprintf(lock, sizeof(lock), "%s.lock", path);
	if (!gone || !three || cmc_events_new(&ev, 64) < 0 ||
	    cmc_store_open(path, &st, err, sizeof(err)) < 0) {
		tap_ok(0, "set up: %s", err);
		goto out;
	}
	cmc_events_set_sink(ev, sink, NULL);
	tap_is_int(cmc_inventory_report_problems(gone, st, ev), 3, "gone.dump: 3 problems recorded");
	tap_is_int(posted, 3, "and posted");
	tap_is_int(cmc_inventory_report_problems(gone, st, ev), 0, "the next scan: nothing new");
	tap_is_int(posted, 3, "nothing posted again");
	tap_is_int(cmc_inventory_report_problems(three, st, ev), 3, "cleared: 3 forgotten");
	tap_is_int(posted, 3, "(forgetting posts nothing)");
	tap_is_int(cmc_inventory_report_problems(gone, st, ev), 3, "back again: recorded again");
	tap_is_int(posted, 6, "and posted again");
out:
	cmc_store_close(st);
	cmc_events_free(ev);
	mp_inventory_close(gone);
	mp_inventory_close(three);
	unlink(path);
	unlink(lock);
	rmdir(dir);
}

int main(void)
{
	log_init("inventory-test", false, LOG_LVL_WARN);
	test_pictures();
	test_changes();
	test_carry();
	test_not_driven();
	test_once();
	return tap_done();
}
