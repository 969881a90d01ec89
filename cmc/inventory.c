/* SPDX-License-Identifier: MIT */
/*
 * The daemon's view of the chassis inventory: records for the API (slots, functions),
 * and the last-known picture of each slot kept in the store so that changes made while
 * cmcd was down (a card pulled, swapped, added) are found and reported at start-up.
 */
#include "inventory.h"

#include "log.h"

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

void cmc_inventory_slot_record(const struct mp_slot *s, struct cmc_buf *b)
{
	unsigned total, enabled;

	cmc_rec_begin(b, "slot");
	cmc_rec_int(b, "slot", s->number);
	rec_bdf(b, "port", &s->port.bdf);
	cmc_rec_str(b, "port_kind", s->port.kind == MP_PORT_ROOT ? "root" : "downstream");
	cmc_rec_bool(b, "port_acs", s->port.acs.present);
	cmc_rec_bool(b, "hotplug", s->hotplug_capable);
	cmc_rec_bool(b, "presence", s->presence);
	cmc_rec_bool(b, "occupied", s->occupied);
	cmc_rec_str(b, "link_speed", s->occupied ? speed_name(s->port.link.speed) : "");
	cmc_rec_int(b, "link_width", s->occupied ? s->port.link.width : 0);
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
	cmc_rec_bool(b, "sriov", f->sriov.present);
	if (f->sriov.present) {
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

/* --- The last-known picture, in the store as "slot/N" = "card=8086:10c9 pfs=1 vfs=2" --- */

void cmc_inventory_slot_picture(const struct mp_slot *s, char *buf, size_t len)
{
	unsigned total, enabled;

	if (!s->function_count) {
		snprintf(buf, len, "empty");
		return;
	}
	slot_vf_totals(s, &total, &enabled);
	snprintf(buf, len, "card=%04x:%04x pfs=%zu vfs=%u", s->functions[0].id.vendor_id,
		 s->functions[0].id.device_id, s->function_count, enabled);
}

/* What changed between two pictures of a slot, in words; NULL pictures are "unknown". */
void cmc_inventory_describe_change(const char *was, const char *now, char *buf, size_t len)
{
	char card_was[16] = "", card_now[16] = "";

	sscanf(was, "card=%15s", card_was);
	sscanf(now, "card=%15s", card_now);
	if (!*card_was && *card_now)
		snprintf(buf, len, "card %s added (was %s)", card_now, was);
	else if (*card_was && !*card_now)
		snprintf(buf, len, "card %s removed", card_was);
	else if (strcmp(card_was, card_now) != 0)
		snprintf(buf, len, "card %s replaced by %s", card_was, card_now);
	else
		snprintf(buf, len, "was '%s', now '%s'", was, now);
}
