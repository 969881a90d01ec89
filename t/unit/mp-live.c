/* SPDX-License-Identifier: MIT */
/*
 * mgmt-proc on the live system (whatever this host has; the emulated chassis is tested
 * by t/chassis): the scan works or fails cleanly, and what it finds is consistent.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "mp.h"
#include "tap.h"

static void check_consistent(const struct mp_inventory *inv)
{
	size_t bad = 0, fns = 0;

	for (size_t i = 0; i < mp_slot_count(inv); i++) {
		const struct mp_slot *s = mp_slot_at(inv, i);

		bad += s->occupied != (s->function_count > 0);
		bad += i && mp_slot_at(inv, i - 1)->number > s->number;
		for (size_t p = 0; p < s->function_count; p++) {
			const struct mp_function *f = &s->functions[p];
			struct mp_addr a;

			fns++;
			bad += mp_locate(inv, &f->bdf, &a) != 0 || a.slot != s->number || a.pf != p;
			bad += f->vf_count != (f->sriov.vf_enable ? f->sriov.num_vfs : 0);
		}
	}
	tap_is_int(bad, 0, "%zu slots, %zu PFs: consistent", mp_slot_count(inv), fns);
}

int main(void)
{
	struct mp_inventory *inv;
	int r;

	tap_plan(4);
	r = mp_inventory_open(&inv, NULL);
	tap_is_int(r, 0, "open the live system");
	if (r < 0)
		return tap_done();
	r = mp_inventory_scan(inv);
	if (access("/sys/bus/pci/devices", R_OK) == 0) {
		tap_is_int(r, 0, "scan of a Linux host with sysfs");
		if (r < 0)
			tap_diag("%s", mp_inventory_error(inv));
	} else {
		tap_ok(r == 0 || (r == -EIO && mp_inventory_error(inv)[0]),
		       "no sysfs: scan works or fails with a message");
	}
	check_consistent(inv);
	tap_is_int(mp_inventory_scan(inv), r, "a rescan gives the same result");
	mp_inventory_close(inv);
	return tap_done();
}
