/* SPDX-License-Identifier: MIT */
/*
 * mgmt-proc on other chassis shapes: one root port per slot (with ACS), empty slots,
 * a card without SR-IOV (e1000e), multi-PF cards, VFs whose ID registers read ffff,
 * SR-IOV present but disabled, and a recorded dump of a machine with no slots at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Generates the chassis, scans it; NULL (and a failed test) if that does not work. */
static struct mp_inventory *scan_spec(const struct gd_spec *spec, const char *what)
{
	struct mp_inventory *inv = NULL;
	char path[256];
	const char *why;
	int r;

	if (gd_write_tmp(spec, path, sizeof(path), &why) < 0) {
		tap_ok(0, "%s: dump written (%s)", what, why ? why : "I/O error");
		return NULL;
	}
	r = mp_inventory_open(&inv, path);
	if (r == 0) {
		r = mp_inventory_scan(inv);
		if (r < 0)
			tap_diag("%s", mp_inventory_error(inv));
	}
	unlink(path);
	tap_is_int(r, 0, "%s: scan", what);
	if (r < 0) {
		mp_inventory_close(inv);
		return NULL;
	}
	return inv;
}

static void test_rootports(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	const struct mp_function *f = NULL;
	struct mp_bdf b;

	gd_spec_init(&spec);
	spec.layout = GD_ROOTPORTS;
	spec.slots = 4;
	spec.vfs = 2;
	gd_mark(spec.empty, 2);
	inv = scan_spec(&spec, "root-port layout");
	if (!inv)
		return;
	tap_is_int(mp_switch_count(inv), 0, "root ports: no switch");
	tap_is_int(mp_slot_count(inv), 4, "root ports: 4 slots");
	for (unsigned n = 1; n <= 4; n++) {
		const struct mp_slot *s = mp_slot_find(inv, n);
		char want[MP_BDF_STRLEN];

		if (!s) {
			tap_ok(0, "slot %u exists", n);
			continue;
		}
		snprintf(want, sizeof(want), "0000:00:%02x.0", n);
		tap_is_str(bdf(&s->port.bdf), want, "slot %u is root port 00:%02x.0", n, n);
		tap_is_int(s->port.kind, MP_PORT_ROOT, "slot %u kind root", n);
		tap_ok(s->sw == NULL, "slot %u has no switch", n);
		tap_ok(s->port.acs.present, "slot %u root port has ACS", n);
		tap_is_int(s->port.acs.cap, 0x1f, "slot %u ACS cap SV TB RR CR UF", n);
		tap_is_int(s->port.acs.ctrl, 0x1d, "slot %u ACS ctrl SV RR CR UF", n);
		tap_is_int(s->port.link.max_speed, 4, "slot %u port max 16GT/s", n);
		tap_is_int(s->port.link.max_width, 32, "slot %u port max x32", n);
		tap_is_int(s->occupied, n != 2, "slot %u occupied iff not 2", n);
		tap_is_int(s->presence, n != 2, "slot %u presence iff not 2", n);
	}
	tap_ok(mp_slot_find(inv, 3) && mp_slot_find(inv, 3)->port.link.width == 4,
	       "slot 3 link trained to x4 (the card's width)");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 3, 0, 1 }, &b, &f, NULL), 0,
		   "slot 3 pf 0 vf 1 resolves");
	tap_is_str(bdf(&b), "0000:03:10.2", "slot 3 vf 1 is 03:10.2");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 2, 0, MP_NO_VF }, &b, NULL, NULL), -ENOENT,
		   "empty slot 2 pf 0: -ENOENT");
	mp_inventory_close(inv);
}

/* 40 root ports: packed 8 to a device as multi-function ports. */
static void test_rootports_packed(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	const struct mp_slot *s;

	gd_spec_init(&spec);
	spec.layout = GD_ROOTPORTS;
	spec.slots = 40;
	spec.first_slot = 100;
	inv = scan_spec(&spec, "40 root ports");
	if (!inv)
		return;
	tap_is_int(mp_slot_count(inv), 40, "40 slots");
	s = mp_slot_find(inv, 139);
	tap_ok(s && s->port.bdf.dev == 5 && s->port.bdf.fn == 7, "slot 139 is port 00:05.7");
	tap_ok(s && s->function_count == 1 && s->functions[0].bdf.bus == 40,
	       "slot 139 card on bus 0x28");
	tap_ok(mp_slot_at(inv, 0) && mp_slot_at(inv, 0)->number == 100, "slots start at 100");
	tap_ok(mp_slot_find(inv, 99) == NULL && mp_slot_find(inv, 140) == NULL,
	       "no slot outside 100..139");
	mp_inventory_close(inv);
}

static void test_no_sriov(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	const struct mp_slot *s;
	const struct mp_function *f = NULL;

	gd_spec_init(&spec);
	spec.slots = 2;
	spec.vfs = 4;
	gd_mark(spec.nosriov, 1);
	inv = scan_spec(&spec, "card without SR-IOV");
	if (!inv)
		return;
	s = mp_slot_find(inv, 1);
	if (!s || s->function_count != 1) {
		tap_ok(0, "slot 1 has one function");
		mp_inventory_close(inv);
		return;
	}
	f = &s->functions[0];
	tap_is_int(f->id.device_id, 0x10d3, "slot 1 holds an 82574L");
	tap_is_str(f->id.device, "82574L Gigabit Network Connection", "82574L name");
	tap_ok(!f->sriov.present, "no SR-IOV capability");
	tap_ok(!f->ari, "no ARI");
	tap_is_int(f->vf_count, 0, "no VFs");
	tap_ok(f->vfs == NULL, "no VF array");
	tap_is_int(f->link.width, 1, "x1 link");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 1, 0, 0 }, NULL, NULL, NULL), -ENOENT,
		   "slot 1 pf 0 vf 0: -ENOENT");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 1, 0, MP_NO_VF }, NULL, NULL, NULL), 0,
		   "slot 1 pf 0 resolves");
	s = mp_slot_find(inv, 2);
	tap_ok(s && s->function_count == 1 && s->functions[0].vf_count == 4,
	       "slot 2 still has an igb with 4 VFs");
	mp_inventory_close(inv);
}

/* 4 PFs with 3 VFs each: stride 4, VF n of PF p at devfn p + 128 + 4n. */
static void test_multi_pf(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	const struct mp_slot *s;
	struct mp_addr a;
	struct mp_bdf b;

	gd_spec_init(&spec);
	spec.slots = 1;
	spec.pfs = 4;
	spec.vfs = 3;
	inv = scan_spec(&spec, "4-PF card");
	if (!inv)
		return;
	s = mp_slot_find(inv, 1);
	tap_ok(s && s->function_count == 4, "slot 1 card has 4 PFs (VFs are not PFs)");
	for (unsigned p = 0; s && p < s->function_count && p < 4; p++) {
		const struct mp_function *f = &s->functions[p];

		tap_ok(f->index == p && f->bdf.dev == 0 && f->bdf.fn == p, "pf %u is 03:00.%u", p, p);
		tap_is_int(f->sriov.vf_stride, 4, "pf %u VF stride 4", p);
		tap_is_int(f->vf_count, 3, "pf %u has 3 VFs", p);
		for (unsigned v = 0; v < f->vf_count; v++) {
			unsigned devfn = p + 128 + 4 * v;

			tap_ok(f->vfs[v].present && f->vfs[v].bdf.dev == devfn >> 3 &&
				       f->vfs[v].bdf.fn == (devfn & 7),
			       "pf %u vf %u at devfn %#x", p, v, devfn);
		}
	}
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 1, 3, 2 }, &b, NULL, NULL), 0, "slot 1 pf 3 vf 2");
	tap_is_str(bdf(&b), "0000:03:11.3", "is 03:11.3 (3 + 128 + 8)");
	tap_is_int(mp_locate(inv, &b, &a), 0, "03:11.3 locates");
	tap_ok(a.slot == 1 && a.pf == 3 && a.vf == 2, "back to slot 1 pf 3 vf 2");
	b = (struct mp_bdf){ 0, 3, 0, 2 };
	tap_ok(mp_locate(inv, &b, &a) == 0 && a.pf == 2 && a.vf == MP_NO_VF, "03:00.2 is pf 2");
	mp_inventory_close(inv);
}

/* On hardware a VF's Vendor/Device ID read ffff: identity from the PF's SR-IOV cap. */
static void test_vf_ffff(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	const struct mp_vf *vf = NULL;

	gd_spec_init(&spec);
	spec.slots = 1;
	spec.vfs = 2;
	spec.vf_ffff = true;
	inv = scan_spec(&spec, "VF IDs read ffff");
	if (!inv)
		return;
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 1, 0, 1 }, NULL, NULL, &vf), 0, "slot 1 vf 1");
	tap_ok(vf && vf->present, "VF present though its IDs read ffff");
	tap_ok(vf && vf->id.vendor_id == 0x8086 && vf->id.device_id == 0x10ca,
	       "VF identity 8086:10ca from the PF");
	tap_is_str(vf ? vf->id.device : NULL, "82576 Virtual Function", "VF name from the VF device id");
	mp_inventory_close(inv);
}

static void test_sriov_disabled(void)
{
	struct gd_spec spec;
	struct mp_inventory *inv;
	const struct mp_function *f = NULL;

	gd_spec_init(&spec);
	spec.slots = 2;
	spec.vfs = 0;
	inv = scan_spec(&spec, "SR-IOV disabled");
	if (!inv)
		return;
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 2, 0, MP_NO_VF }, NULL, &f, NULL), 0, "slot 2 pf 0");
	tap_ok(f && f->sriov.present && !f->sriov.vf_enable && f->sriov.num_vfs == 0,
	       "SR-IOV present, VF Enable clear, NumVFs 0");
	tap_is_int(f ? f->vf_count : 99, 0, "no VFs listed");
	tap_is_int(mp_resolve(inv, &(struct mp_addr){ 2, 0, 0 }, NULL, NULL, NULL), -ENOENT,
		   "vf 0: -ENOENT");
	mp_inventory_close(inv);
}

/* lspci -xxx of this test host (no PCIe ports): a real dump, nothing to report. */
static void test_recorded(void)
{
	struct mp_inventory *inv;
	int r = mp_inventory_open(&inv, "t/data/mp/host-vm.dump");

	if (r == 0)
		r = mp_inventory_scan(inv);
	tap_is_int(r, 0, "recorded lspci -xxx dump scans");
	if (r < 0)
		tap_diag("%s", mp_inventory_error(inv));
	tap_is_int(mp_slot_count(inv), 0, "no slots there");
	tap_is_int(mp_switch_count(inv), 0, "no switches there");
	mp_inventory_close(inv);
}

/* The generator refuses chassis it cannot number. */
static void test_generator_limits(void)
{
	struct gd_spec spec;
	const char *why;

	gd_spec_init(&spec);
	spec.pfs = 8;
	spec.total_vfs = 17;
	tap_is_int(gd_check(&spec, &why), -EINVAL, "8 PFs x 17 VFs do not fit a bus");
	gd_spec_init(&spec);
	spec.slots = 300;
	tap_is_int(gd_check(&spec, &why), -EINVAL, "300 slots do not fit 256 buses");
	gd_spec_init(&spec);
	tap_is_int(gd_parse_list("1,3-5", spec.empty), 0, "list 1,3-5 parses");
	tap_ok(gd_in(spec.empty, 1) && !gd_in(spec.empty, 2) && gd_in(spec.empty, 5), "list members");
	tap_is_int(gd_parse_list("5-3", spec.empty), -EINVAL, "backward range refused");
}

int main(void)
{
	test_rootports();
	test_rootports_packed();
	test_no_sriov();
	test_multi_pf();
	test_vf_ffff();
	test_sriov_disabled();
	test_recorded();
	test_generator_limits();
	return tap_done();
}
