/* SPDX-License-Identifier: MIT */
/*
 * mgmt-proc on a large chassis: 64 slots behind two switches (32 downstream ports each),
 * every card with 8 PFs and 7 VFs enabled per PF: 512 PFs, 3584 VFs, a 55 MB dump
 * generated at test time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MP_GENDUMP_NO_MAIN
#include "../tools/mp-gendump.c"

#include "mp.h"
#include "tap.h"

static const char *bdf(const struct mp_bdf *b)
{
	static char buf[4][MP_BDF_STRLEN];
	static int n;

	return mp_bdf_str(b, buf[n++ % 4]);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_counts(const struct mp_inventory *inv)
{
	size_t pfs = 0, vfs = 0, present = 0;
	bool sorted = true;

	tap_is_int(mp_switch_count(inv), 2, "two switches");
	tap_is_int(mp_slot_count(inv), 64, "64 slots");
	for (size_t i = 0; i < mp_slot_count(inv); i++) {
		const struct mp_slot *s = mp_slot_at(inv, i);

		sorted &= s->number == i + 1;
		pfs += s->function_count;
		for (size_t p = 0; p < s->function_count; p++) {
			vfs += s->functions[p].vf_count;
			for (size_t v = 0; v < s->functions[p].vf_count; v++)
				present += s->functions[p].vfs[v].present;
		}
	}
	tap_ok(sorted, "slots in order 1..64");
	tap_is_int(pfs, 512, "512 PFs");
	tap_is_int(vfs, 3584, "3584 VFs listed");
	tap_is_int(present, 3584, "all 3584 VFs present");
	tap_is_int(mp_switch_at(inv, 0)->slot_count, 32, "switch 0 has 32 slots");
	tap_is_int(mp_switch_at(inv, 1)->slot_count, 32, "switch 1 has 32 slots");
	tap_is_str(bdf(&mp_switch_at(inv, 1)->bdf), "0000:23:00.0", "switch 1 upstream port 23:00.0");
	tap_is_str(bdf(&mp_switch_at(inv, 1)->parent), "0000:00:02.0", "switch 1 under root port 00:02.0");
}

static void test_spots(const struct mp_inventory *inv)
{
	const struct mp_slot *s1 = mp_slot_find(inv, 1), *s33 = mp_slot_find(inv, 33),
			     *s64 = mp_slot_find(inv, 64);
	const struct mp_function *f;
	struct mp_addr a;
	struct mp_bdf b;

	if (!s1 || !s33 || !s64) {
		tap_ok(0, "slots 1, 33, 64 exist");
		return;
	}
	tap_is_str(bdf(&s1->port.bdf), "0000:02:00.0", "slot 1 port 02:00.0");
	tap_is_str(bdf(&s33->port.bdf), "0000:24:00.0", "slot 33 port 24:00.0 (second switch)");
	tap_ok(s33->sw == mp_switch_at(inv, 1), "slot 33 on switch 1");
	tap_is_str(bdf(&s64->port.bdf), "0000:24:1f.0", "slot 64 port 24:1f.0");
	tap_is_int(s64->function_count, 8, "slot 64 has 8 PFs");
	f = &s64->functions[7];
	tap_is_str(bdf(&f->bdf), "0000:44:00.7", "slot 64 pf 7 is 44:00.7");
	tap_is_int(f->sriov.vf_stride, 8, "VF stride 8 with 8 PFs");
	tap_is_int(f->sriov.num_vfs, 7, "NumVFs 7");
	tap_is_str(bdf(&f->vfs[6].bdf), "0000:44:16.7", "slot 64 pf 7 vf 6 at devfn 7+128+48");

	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 64, 7, 6 }, &b, NULL, NULL), 0, "resolve slot 64 pf 7 vf 6");
	tap_is_str(bdf(&b), "0000:44:16.7", "to 44:16.7");
	tap_is_int(mp_locate(inv, &b, &a), 0, "locate 44:16.7");
	tap_ok(a.slot == 64 && a.pf == 7 && a.vf == 6, "back to slot 64 pf 7 vf 6");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 17, 3, 0 }, &b, NULL, NULL), 0, "resolve slot 17 pf 3 vf 0");
	tap_is_str(bdf(&b), "0000:13:10.3", "to 13:10.3 (bus 3+16, devfn 3+128)");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 64, 8, MP_NO_VF }, &b, NULL, NULL), -ENOENT,
		   "pf 8 of 8: -ENOENT");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 64, 0, 7 }, &b, NULL, NULL), -ENOENT,
		   "vf 7 of 7: -ENOENT");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 65, 0, MP_NO_VF }, &b, NULL, NULL), -ENOENT,
		   "slot 65: -ENOENT");
	b = (struct mp_bdf){ 0, 0x44, 0x17, 0 };
	tap_is_int(mp_locate(inv, &b, &a), -ENOENT, "44:17.0 (past the VFs): -ENOENT");
}

/* Every function: (slot, pf, vf) -> BDF -> (slot, pf, vf) is the identity. */
static void test_round_trip(const struct mp_inventory *inv)
{
	size_t ok = 0, total = 0;

	for (size_t i = 0; i < mp_slot_count(inv); i++) {
		const struct mp_slot *s = mp_slot_at(inv, i);

		for (unsigned p = 0; p < s->function_count; p++) {
			for (int v = -1; v < (int)s->functions[p].vf_count; v++) {
				struct mp_addr want = { s->number, p, v }, got;
				struct mp_bdf b;

				total++;
				if (mp_resolve(inv, &want, &b, NULL, NULL) == 0 &&
				    mp_locate(inv, &b, &got) == 0 && got.slot == want.slot &&
				    got.pf == want.pf && got.vf == want.vf)
					ok++;
			}
		}
	}
	tap_is_int(total, 512 + 3584, "round trip over every PF and VF");
	tap_is_int(ok, total, "every address maps to its BDF and back");
}

int main(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	char path[256];
	const char *why;
	double t0;
	int r;

	gd_spec_init(&spec);
	spec.slots = 64;
	spec.pfs = 8;
	spec.vfs = 7;
	if (gd_write_tmp(&spec, path, sizeof(path), &why) < 0) {
		printf("Bail out! cannot write the dump: %s\n", why ? why : "I/O error");
		return 1;
	}
	r = mp_inventory_open(&inv, path);
	tap_is_int(r, 0, "open");
	if (r == 0) {
		t0 = now();
		r = mp_inventory_scan(inv);
		tap_is_int(r, 0, "scan of 64 x 8 x 7");
		tap_diag("scan took %.2f s", now() - t0);
		if (r < 0)
			tap_diag("%s", mp_inventory_error(inv));
		else {
			test_counts(inv);
			test_spots(inv);
			test_round_trip(inv);
		}
		mp_inventory_close(inv);
	}
	unlink(path);
	return tap_done();
}
