/* SPDX-License-Identifier: MIT */
/*
 * The daemon's view of the chassis inventory: records for the API (slots, functions),
 * and the last-known picture of each slot kept in the store so that changes made while
 * cmcd was down (a card pulled, swapped, added) are found and reported at start-up.
 */
#include "inventory.h"

#include "config.h"
#include "events.h"
#include "log.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *speed_name(uint8_t speed)
{
	static const char *const names[] = { "", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s" };

	return speed < sizeof(names) / sizeof(names[0]) ? names[speed] : "";
}

static void rec_hex4(struct cmc_buf *b, const char *key, unsigned v)
{
	char s[8];

	snprintf(s, sizeof(s), "%04x", v & 0xffff);
	cmc_rec_str(b, key, s);
}

static void rec_bdf(struct cmc_buf *b, const char *key, const struct mp_bdf *bdf)
{
	char s[MP_BDF_STRLEN];

	cmc_rec_str(b, key, mp_bdf_str(bdf, s));
}

static void slot_vf_totals(const struct mp_slot *s, unsigned *total, unsigned *enabled)
{
	*total = *enabled = 0;
	for (size_t i = 0; i < s->function_count; i++) {
		const struct mp_function *f = &s->functions[i];
		if (!f->sriov.present)
			continue;
		*total += f->sriov.total_vfs;
		*enabled += (unsigned)f->vf_count;
	}
}

/*
 * The port's link as read: "down" when DLL Link Active is clear on a port that reports
 * it or the width is 0; "up" when it is set, or a card answers; else "unknown" (the
 * negotiated width means nothing while the link is down, PCIe Base 4.0 §7.5.3.8).
 */
static const char *link_state(const struct mp_link *l, bool answers)
{
	if (!l->valid)
		return "unknown";
	if ((l->dll_reporting && !l->dll_active) || l->width == 0)
		return "down";
	return l->dll_reporting || answers ? "up" : "unknown";
}

static void rec_link(struct cmc_buf *b, const struct mp_slot *s)
{
	const struct mp_link *l = &s->port.link;
	bool up = strcmp(link_state(l, s->function_count > 0), "up") == 0;

	cmc_rec_str(b, "link", link_state(l, s->function_count > 0));
	cmc_rec_str(b, "link_speed", up ? speed_name(l->speed) : "");
	cmc_rec_int(b, "link_width", l->valid ? l->width : 0);
}

/* The slot's problems, one per line (texts name their device). */
static void rec_problems(struct cmc_buf *b, const struct mp_slot *s)
{
	struct cmc_buf all = { 0 };

	for (size_t i = 0; i < s->problem_count; i++) {
		if (i)
			cmc_buf_add(&all, "\n", 1);
		cmc_buf_add(&all, s->problems[i].text, strlen(s->problems[i].text));
	}
	cmc_buf_add(&all, "", 1);
	cmc_rec_int(b, "problem_count", (long long)s->problem_count);
	cmc_rec_str(b, "problems", all.data ? all.data : "");
	cmc_buf_free(&all);
}

void cmc_inventory_slot_record(const struct mp_slot *s, struct cmc_buf *b)
{
	unsigned total, enabled;

	cmc_rec_begin(b, "slot");
	if (s->number == MP_SLOT_NUMBER_UNKNOWN)
		cmc_buf_add(b, " slot:=null", 11);
	else
		cmc_rec_int(b, "slot", s->number);
	cmc_rec_str(b, "state", mp_slot_state_str(s->state));
	rec_bdf(b, "port", &s->port.bdf);
	cmc_rec_str(b, "port_kind", s->port.kind == MP_PORT_ROOT ? "root" : "downstream");
	cmc_rec_bool(b, "port_acs", s->port.acs.present);
	cmc_rec_bool(b, "hotplug", s->hotplug_capable);
	cmc_rec_bool(b, "presence", s->presence);
	cmc_rec_bool(b, "occupied", s->occupied);
	rec_link(b, s);
	if (s->function_count) {
		const struct mp_ident *id = &s->functions[0].id;
		rec_hex4(b, "vendor_id", id->vendor_id);
		rec_hex4(b, "device_id", id->device_id);
		cmc_rec_str(b, "vendor", id->vendor);
		cmc_rec_str(b, "card", id->device);
	} else {
		cmc_rec_str(b, "card", "");
	}
	slot_vf_totals(s, &total, &enabled);
	cmc_rec_int(b, "pfs", (long long)s->function_count);
	cmc_rec_bool(b, "sriov", total > 0);
	cmc_rec_int(b, "vfs_total", total);
	cmc_rec_int(b, "vfs_enabled", enabled);
	rec_problems(b, s);
	cmc_rec_end(b);
}

static void os_fields(struct cmc_buf *b, const struct mp_os *os)
{
	cmc_rec_str(b, "driver", os->driver);
	if (os->iommu_group >= 0)
		cmc_rec_int(b, "iommu_group", os->iommu_group);
	else
		cmc_buf_add(b, " iommu_group:=null", 18);
	cmc_rec_str(b, "netdev", os->netdev);
}

static void pf_record(unsigned slot, const struct mp_function *f, struct cmc_buf *b)
{
	cmc_rec_begin(b, "function");
	cmc_rec_int(b, "slot", slot);
	cmc_rec_int(b, "pf", f->index);
	cmc_buf_add(b, " vf:=null", 9);
	cmc_rec_str(b, "kind", "pf");
	rec_bdf(b, "bdf", &f->bdf);
	rec_hex4(b, "vendor_id", f->id.vendor_id);
	rec_hex4(b, "device_id", f->id.device_id);
	cmc_rec_str(b, "name", f->id.device);
	os_fields(b, &f->os);
	cmc_rec_bool(b, "ari", f->ari);
	cmc_rec_bool(b, "acs", f->acs.present);
	cmc_rec_bool(b, "caps_unreadable", f->caps_unreadable);
	cmc_rec_bool(b, "sriov", f->sriov.present);
	if (f->sriov.present) {
		cmc_rec_bool(b, "sriov_valid", f->sriov.valid);
		cmc_rec_int(b, "total_vfs", f->sriov.total_vfs);
		cmc_rec_int(b, "num_vfs", f->sriov.num_vfs);
		cmc_rec_int(b, "vf_offset", f->sriov.vf_offset);
		cmc_rec_int(b, "vf_stride", f->sriov.vf_stride);
		rec_hex4(b, "vf_device_id", f->sriov.vf_device_id);
	}
	cmc_rec_end(b);
}

static void vf_record(unsigned slot, const struct mp_function *f, const struct mp_vf *v,
		      struct cmc_buf *b)
{
	cmc_rec_begin(b, "function");
	cmc_rec_int(b, "slot", slot);
	cmc_rec_int(b, "pf", f->index);
	cmc_rec_int(b, "vf", v->index);
	cmc_rec_str(b, "kind", "vf");
	rec_bdf(b, "bdf", &v->bdf);
	rec_hex4(b, "vendor_id", v->id.vendor_id);
	rec_hex4(b, "device_id", v->id.device_id);
	cmc_rec_str(b, "name", v->id.device);
	os_fields(b, &v->os);
	cmc_rec_bool(b, "present", v->present);
	cmc_rec_end(b);
}

void cmc_inventory_function_records(const struct mp_slot *s, struct cmc_buf *b)
{
	for (size_t i = 0; i < s->function_count; i++) {
		const struct mp_function *f = &s->functions[i];
		pf_record(s->number, f, b);
		for (size_t v = 0; v < f->vf_count; v++)
			vf_record(s->number, f, &f->vfs[v], b);
	}
}

/*
 * --- The last-known picture, in the store as "slot/N" ---------------------------------
 * "card=8086:10c9 pfs=1 vfs=2" for an occupied slot (as before the slot states, so an
 * old store compares equal); "empty", "link-down", "not-responding"; "unreadable" with
 * the card's identity when a function was read ("unreadable card=8086:10c9 pfs=1").
 * A slot between occupied and empty (a card being pulled: its link drops before it goes)
 * keeps the card it had as "last=" (cmc_inventory_carry_card), so the end says which
 * card was removed.
 */
void cmc_inventory_slot_picture(const struct mp_slot *s, char *buf, size_t len)
{
	unsigned total, enabled;
	const struct mp_ident *id = s->function_count ? &s->functions[0].id : NULL;

	switch (s->state) {
	case MP_SLOT_OCCUPIED:
		slot_vf_totals(s, &total, &enabled);
		snprintf(buf, len, "card=%04x:%04x pfs=%zu vfs=%u", id->vendor_id, id->device_id,
			 s->function_count, enabled);
		return;
	case MP_SLOT_UNREADABLE:
		if (id) {
			snprintf(buf, len, "unreadable card=%04x:%04x pfs=%zu", id->vendor_id,
				 id->device_id, s->function_count);
			return;
		}
		break;
	default:
		break;
	}
	snprintf(buf, len, "%s", mp_slot_state_str(s->state));
}

/* A picture's state, its card ("" when none) and the card it last had ("last="). */
static void picture_parse(const char *pic, char *state, size_t slen, char card[16], char last[16])
{
	const char *c = strstr(pic, "card="), *l = strstr(pic, "last=");

	card[0] = last[0] = 0;
	if (c)
		sscanf(c, "card=%15s", card);
	if (l)
		sscanf(l, "last=%15s", last);
	if (strncmp(pic, "card=", 5) == 0)
		snprintf(state, slen, "occupied");
	else
		snprintf(state, slen, "%.*s", (int)strcspn(pic, " "), pic);
}

void cmc_inventory_carry_card(const char *was, char *now, size_t len)
{
	char st_was[24], card_was[16], last_was[16], st_now[24], card_now[16], last_now[16];
	const char *card;
	size_t n = strlen(now);

	if (!was)
		return;
	picture_parse(was, st_was, sizeof(st_was), card_was, last_was);
	picture_parse(now, st_now, sizeof(st_now), card_now, last_now);
	card = *card_was ? card_was : last_was;
	if (!*card || *card_now || *last_now || strcmp(st_now, "empty") == 0 ||
	    strcmp(st_now, "occupied") == 0)
		return;
	snprintf(now + n, len > n ? len - n : 0, " last=%s", card);
}

/*
 * What changed between two pictures of a slot, in words. A card that leaves the
 * occupied state for anything but empty has not been removed: the slot went from
 * occupied to (say) not-responding, and the words say so; when it then goes empty, the
 * card it last had was removed.
 */
void cmc_inventory_describe_change(const char *was, const char *now, char *buf, size_t len)
{
	char card_was[16], card_now[16], last_was[16], last_now[16], st_was[24], st_now[24];
	const char *l = strstr(now, " last=");
	int now_len = l ? (int)(l - now) : (int)strlen(now); /* now without its " last=" */

	picture_parse(was, st_was, sizeof(st_was), card_was, last_was);
	picture_parse(now, st_now, sizeof(st_now), card_now, last_now);
	if (strcmp(st_was, "occupied") == 0 && strcmp(st_now, "empty") == 0)
		snprintf(buf, len, "card %s removed", card_was);
	else if (*last_was && strcmp(st_now, "empty") == 0)
		snprintf(buf, len, "card %s removed (was %s)", last_was, st_was);
	else if (strcmp(st_now, "occupied") == 0 && strcmp(st_was, "occupied") != 0)
		snprintf(buf, len, "card %s added (was %s)", card_now, st_was);
	else if (strcmp(st_was, st_now) != 0)
		snprintf(buf, len, "went from %s%s%s%s to %.*s", st_was, *card_was ? " (card " : "",
			 card_was, *card_was ? ")" : "", now_len, now);
	else if (*card_was && *card_now && strcmp(card_was, card_now) != 0)
		snprintf(buf, len, "card %s replaced by %s", card_was, card_now);
	else
		snprintf(buf, len, "was '%s', now '%s'", was, now);
}

/* --- Problems: each posted once, remembered in the store as "problem/BDF/HASH" ------- */

#define PROBLEM_KEY_PREFIX "problem/"

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void problem_key(const struct mp_problem *p, char *buf, size_t len)
{
	char b[MP_BDF_STRLEN];

	snprintf(buf, len, PROBLEM_KEY_PREFIX "%s/%08x", mp_bdf_str(&p->bdf, b), fnv1a(p->text));
}

/* The store takes printable ASCII: the text with anything else as '?'. */
static void ascii_copy(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (; *in && n + 1 < len; in++)
		if ((unsigned char)*in < 0x80)
			out[n++] = *in >= ' ' && *in <= '~' ? *in : '?';
		else if (((unsigned char)*in & 0xc0) == 0xc0)
			out[n++] = '?'; /* one per UTF-8 character */
	out[n] = 0;
}

/* The number of the slot that lists p, or -1. */
static int problem_slot(const struct mp_inventory *inv, const struct mp_problem *p)
{
	for (size_t i = 0; i < mp_slot_count(inv); i++) {
		const struct mp_slot *s = mp_slot_at(inv, i);

		for (size_t k = 0; k < s->problem_count; k++)
			if (strcmp(s->problems[k].text, p->text) == 0)
				return s->number == MP_SLOT_NUMBER_UNKNOWN ? -1 : (int)s->number;
	}
	return -1;
}

struct stale {
	const struct mp_inventory *inv;
	char keys[64][CMC_STORE_KEY_MAX + 1];
	unsigned n;
};

static int collect_stale(const char *key, const char *value, void *arg)
{
	struct stale *st = arg;
	char k[CMC_STORE_KEY_MAX + 1];
	(void)value;

	for (size_t i = 0; i < mp_problem_count(st->inv); i++) {
		problem_key(mp_problem_at(st->inv, i), k, sizeof(k));
		if (strcmp(k, key) == 0)
			return 0;
	}
	if (st->n < 64)
		snprintf(st->keys[st->n++], sizeof(st->keys[0]), "%s", key);
	return 0;
}

/* Problems no longer seen are forgotten, so that they are reported if they come back. */
static int forget_cleared(const struct mp_inventory *inv, struct cmc_store *store)
{
	struct stale *st = calloc(1, sizeof(*st));
	int n;

	if (!st)
		return 0;
	st->inv = inv;
	cmc_store_foreach(store, PROBLEM_KEY_PREFIX, collect_stale, st);
	for (unsigned i = 0; i < st->n; i++) {
		log_info("no longer seen: %s", cmc_store_get(store, st->keys[i]));
		(void)!cmc_store_del(store, st->keys[i]);
	}
	n = (int)st->n;
	free(st);
	return n;
}

int cmc_inventory_report_problems(const struct mp_inventory *inv, struct cmc_store *store,
				  struct cmc_events *events)
{
	char key[CMC_STORE_KEY_MAX + 1], text[MP_PROBLEM_LEN];
	int changes = 0;

	for (size_t i = 0; i < mp_problem_count(inv); i++) {
		const struct mp_problem *p = mp_problem_at(inv, i);

		problem_key(p, key, sizeof(key));
		if (cmc_store_get(store, key))
			continue;
		/* The event is logged too (events.c): the log line. */
		cmc_events_post(events, "problem", problem_slot(inv, p), "%s", p->text);
		ascii_copy(p->text, text, sizeof(text));
		if (cmc_store_set(store, key, text) < 0)
			log_warnx("store: cannot record a problem of %s", key + strlen(PROBLEM_KEY_PREFIX));
		changes++;
	}
	return changes + forget_cleared(inv, store);
}

void cmc_inventory_why_not_driven(const struct mp_slot *s, const struct cmc_config_slot *cs, bool dead,
				  unsigned slot, unsigned pf, char *err, size_t errlen)
{
	char why[160];

	if (!s && !cs)
		snprintf(why, sizeof(why), "the chassis has no slot %u (see `cmcctl slots`)", slot);
	else if (!s || s->state == MP_SLOT_EMPTY)
		snprintf(why, sizeof(why), "slot %u is empty", slot);
	else if (s->state == MP_SLOT_LINK_DOWN)
		snprintf(why, sizeof(why), "the card in slot %u has no link", slot);
	else if (s->state == MP_SLOT_NOT_RESPONDING || dead)
		snprintf(why, sizeof(why), "the card in slot %u does not answer", slot);
	else if (s->state == MP_SLOT_UNREADABLE)
		snprintf(why, sizeof(why), "slot %u's port cannot be read (see `cmcctl slot %u`)", slot, slot);
	else if (!cs || cs->vfs == 0)
		snprintf(why, sizeof(why), "the configuration gives slot %u no VFs (cmcd drives a card in a slot"
			 " with vfs > 0)", slot);
	else if (pf >= s->function_count)
		snprintf(why, sizeof(why), "the card in slot %u has %zu PF%s", slot, s->function_count,
			 s->function_count == 1 ? "" : "s");
	else
		snprintf(why, sizeof(why), "it could not take the card (see `cmcctl events`)");
	snprintf(err, errlen, "slot %u pf %u is not driven by cmcd: %s", slot, pf, why);
}
