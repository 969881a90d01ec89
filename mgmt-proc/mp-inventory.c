/* SPDX-License-Identifier: MIT */
/* The inventory handle: open, scan, lookups, and the slot/PF/VF <-> BDF mapping. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp-priv.h"

#define LIVE_SYSFS "/sys/bus/pci/devices"

void mp_errf(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, MP_ERR_LEN, fmt, ap);
	va_end(ap);
}

/* --- addresses ----------------------------------------------------------------- */

static int parse_hex(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (unsigned long)d;
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int mp_bdf_parse(const char *s, struct mp_bdf *out)
{
	const char *c1 = strchr(s, ':'), *c2, *dot;
	unsigned long dom = 0, bus, dev, fn;

	if (!c1)
		return -EINVAL;
	c2 = strchr(c1 + 1, ':');
	if (c2) {
		if (c1 - s > 8 || parse_hex(s, (size_t)(c1 - s), 0xffffffffUL, &dom) < 0)
			return -EINVAL;
		s = c1 + 1;
		c1 = c2;
	}
	dot = strchr(c1 + 1, '.');
	if (!dot || c1 - s > 2 || dot - c1 - 1 > 2 || strlen(dot + 1) != 1)
		return -EINVAL;
	if (parse_hex(s, (size_t)(c1 - s), 0xff, &bus) < 0 ||
	    parse_hex(c1 + 1, (size_t)(dot - c1 - 1), 0x1f, &dev) < 0 ||
	    parse_hex(dot + 1, 1, 7, &fn) < 0)
		return -EINVAL;
	*out = (struct mp_bdf){ (uint32_t)dom, (uint8_t)bus, (uint8_t)dev, (uint8_t)fn };
	return 0;
}

const char *mp_bdf_str(const struct mp_bdf *b, char *buf)
{
	snprintf(buf, MP_BDF_STRLEN, "%04x:%02x:%02x.%x", (unsigned)b->domain, b->bus,
		 b->dev & 0x1f, b->fn & 7);
	return buf;
}

bool mp_bdf_eq(const struct mp_bdf *a, const struct mp_bdf *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev && a->fn == b->fn;
}

/* --- the handle ---------------------------------------------------------------- */

static int set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src) {
		copy = strdup(src);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

int mp_inventory_open(struct mp_inventory **out, const char *dump_path)
{
	struct mp_inventory *inv;

	*out = NULL;
	inv = calloc(1, sizeof(*inv));
	if (!inv)
		return -ENOMEM;
	if (set_str(&inv->dump_path, dump_path) < 0)
		goto fail_inv;
	if (!dump_path && set_str(&inv->sysfs_dir, LIVE_SYSFS) < 0)
		goto fail_dump;
	*out = inv;
	return 0;

fail_dump:
	free(inv->dump_path);
fail_inv:
	free(inv);
	return -ENOMEM;
}

void mp_inventory_close(struct mp_inventory *inv)
{
	if (!inv)
		return;
	mp_snapshot_free(&inv->snap);
	free(inv->ids_file);
	free(inv->sysfs_dir);
	free(inv->dump_path);
	free(inv);
}

int mp_inventory_set_sysfs(struct mp_inventory *inv, const char *devices_dir)
{
	return set_str(&inv->sysfs_dir, devices_dir);
}

int mp_inventory_set_ids_file(struct mp_inventory *inv, const char *path)
{
	return set_str(&inv->ids_file, path);
}

const char *mp_inventory_error(const struct mp_inventory *inv)
{
	return inv->err;
}

/* One scan into inv, with prev as the previous picture (NULL: none). */
static int scan_into(struct mp_inventory *inv, const struct mp_snapshot *prev)
{
	struct mp_devlist devs;
	struct mp_snapshot snap;
	int r;

	inv->err[0] = 0;
	if (inv->dump_path) {
		r = mp_dump_check(inv->dump_path, inv->err);
		if (r < 0)
			return r;
	}
	r = mp_pci_read(inv->dump_path, inv->ids_file, &devs, inv->err);
	if (r < 0)
		return r;
	r = mp_topo_build(&devs, &snap, prev, inv->err);
	if (r == 0) {
		snap.names = devs.names; /* the names the snapshot's idents point to */
		memset(&devs.names, 0, sizeof(devs.names));
	}
	mp_devlist_free(&devs);
	if (r < 0)
		return r;
	if (inv->sysfs_dir)
		mp_sysfs_fill(&snap, inv->sysfs_dir);
	if (snap.names.nomem) {
		mp_snapshot_free(&snap);
		mp_errf(inv->err, "out of memory");
		return -ENOMEM;
	}
	mp_snapshot_free(&inv->snap);
	inv->snap = snap;
	return 0;
}

int mp_inventory_scan(struct mp_inventory *inv)
{
	return scan_into(inv, &inv->snap);
}

int mp_inventory_scan_new(const struct mp_inventory *prev, struct mp_inventory **out,
			  char *err, size_t errlen)
{
	struct mp_inventory *inv;
	int r;

	*out = NULL;
	r = mp_inventory_open(&inv, prev->dump_path);
	if (r < 0)
		goto fail;
	r = set_str(&inv->sysfs_dir, prev->sysfs_dir);
	if (r < 0)
		goto fail_inv;
	r = set_str(&inv->ids_file, prev->ids_file);
	if (r < 0)
		goto fail_inv;
	r = scan_into(inv, &prev->snap);
	if (r < 0)
		goto fail_inv;
	*out = inv;
	return 0;

fail_inv:
	if (err && errlen)
		snprintf(err, errlen, "%s", inv->err[0] ? inv->err : strerror(-r));
	mp_inventory_close(inv);
	return r;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s", strerror(-r));
	return r;
}

/* --- lookups ------------------------------------------------------------------- */

size_t mp_slot_count(const struct mp_inventory *inv)
{
	return inv->snap.nslots;
}

const struct mp_slot *mp_slot_at(const struct mp_inventory *inv, size_t i)
{
	return i < inv->snap.nslots ? &inv->snap.slots[i] : NULL;
}

const struct mp_slot *mp_slot_find(const struct mp_inventory *inv, unsigned number)
{
	size_t lo = 0, hi = inv->snap.nslots;

	/* Slots are sorted by number: the first of equals. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (inv->snap.slots[mid].number < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < inv->snap.nslots && inv->snap.slots[lo].number == number)
		return &inv->snap.slots[lo];
	return NULL;
}

const char *mp_slot_state_str(enum mp_slot_state st)
{
	switch (st) {
	case MP_SLOT_EMPTY: return "empty";
	case MP_SLOT_LINK_DOWN: return "link-down";
	case MP_SLOT_NOT_RESPONDING: return "not-responding";
	case MP_SLOT_UNREADABLE: return "unreadable";
	case MP_SLOT_OCCUPIED: return "occupied";
	}
	return "?";
}

size_t mp_problem_count(const struct mp_inventory *inv)
{
	return inv->snap.nproblems;
}

const struct mp_problem *mp_problem_at(const struct mp_inventory *inv, size_t i)
{
	return i < inv->snap.nproblems ? &inv->snap.all_problems[i] : NULL;
}

size_t mp_switch_count(const struct mp_inventory *inv)
{
	return inv->snap.nswitches;
}

const struct mp_switch *mp_switch_at(const struct mp_inventory *inv, size_t i)
{
	return i < inv->snap.nswitches ? &inv->snap.switches[i] : NULL;
}

int mp_resolve(const struct mp_inventory *inv, const struct mp_addr *addr,
	       struct mp_bdf *bdf_out, const struct mp_function **pf_out,
	       const struct mp_vf **vf_out)
{
	const struct mp_slot *slot = mp_slot_find(inv, addr->slot);
	const struct mp_function *pf;
	const struct mp_vf *vf = NULL;

	if (pf_out)
		*pf_out = NULL;
	if (vf_out)
		*vf_out = NULL;
	if (!slot || addr->pf >= slot->function_count)
		return -ENOENT;
	pf = &slot->functions[addr->pf];
	if (addr->vf != MP_NO_VF) {
		if (addr->vf < 0 || (size_t)addr->vf >= pf->vf_count || !pf->vfs[addr->vf].present)
			return -ENOENT;
		vf = &pf->vfs[addr->vf];
	}
	if (bdf_out)
		*bdf_out = vf ? vf->bdf : pf->bdf;
	if (pf_out)
		*pf_out = pf;
	if (vf_out)
		*vf_out = vf;
	return 0;
}

int mp_locate(const struct mp_inventory *inv, const struct mp_bdf *bdf, struct mp_addr *addr_out)
{
	uint64_t key = mp_bdf_key(bdf);
	size_t lo = 0, hi = inv->snap.nindex;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mp_index_entry *e = &inv->snap.index[mid];

		if (e->key == key) {
			if (addr_out)
				*addr_out = e->addr;
			return 0;
		}
		if (e->key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}
