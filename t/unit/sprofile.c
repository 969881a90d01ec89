/* SPDX-License-Identifier: MIT */
/*
 * Server profiles (cmc/sprofile.h): every rule, on the intent alone.
 *
 * The chassis of t/unit/intent.c: three blades; slot 1 (2 ports, 4 VFs each, port 0
 * midplane), slot 2 (one port, 7 VFs), slot 3 dedicated to blade3 (2 VFs).
 */
#include "intent.h"
#include "macs.h"
#include "sprofile.h"
#include "tap.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID 0x1234567u
#define U1 "11111111-2222-4333-8444-555555555555"
#define U2 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static struct cmc_config cfg;

static void make_config(void)
{
	static const char *names[] = { "blade1", "blade2", "blade3" };

	cfg.blade_count = 3;
	for (unsigned i = 0; i < 3; i++) {
		snprintf(cfg.blades[i].name, sizeof(cfg.blades[i].name), "%s", names[i]);
		cfg.blades[i].id = i + 1;
	}
	cfg.slot_count = 3;
	cfg.slots[0] = (struct cmc_config_slot){ .number = 1, .vfs = 4, .port_count = 1,
						 .ports = { { .pf = 0, .role = CMC_PORT_MIDPLANE } } };
	cfg.slots[1] = (struct cmc_config_slot){ .number = 2, .vfs = 7 };
	cfg.slots[2] = (struct cmc_config_slot){ .number = 3, .vfs = 2, .policy = CMC_SLOT_DEDICATED,
						 .blade = &cfg.blades[2] };
}

static struct cmc_intent *fresh(void)
{
	struct cmc_intent *in;

	if (cmc_intent_new(&cfg, ID, &in) < 0 || cmc_intent_port_add(in, 1, 0, 4, NULL) < 0 ||
	    cmc_intent_port_add(in, 1, 1, 4, NULL) < 0 || cmc_intent_port_add(in, 2, 0, 7, NULL) < 0 ||
	    cmc_intent_port_add(in, 3, 0, 2, NULL) < 0) {
		tap_diag("cannot build the test chassis");
		exit(1);
	}
	return in;
}

static int assign(struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf, const char *blade,
		  const char *mac, uint16_t vlan)
{
	struct cmc_assignment a = { .slot = slot, .pf = pf, .vf = vf, .vlan = vlan };
	char err[256];

	snprintf(a.blade, sizeof(a.blade), "%s", blade);
	if (mac)
		(void)!vb_mac_parse(mac, a.mac);
	else
		(void)!cmc_mac_vf_default(ID, slot, pf, vf, a.mac);
	return cmc_intent_assign(in, &a, err, sizeof(err));
}

/* Every MAC the intent holds appears once. */
static bool macs_unique(const struct cmc_intent *in)
{
	for (unsigned i = 0; i < cmc_intent_assignment_count(in); i++)
		for (unsigned k = i + 1; k < cmc_intent_assignment_count(in); k++)
			if (memcmp(cmc_intent_assignment_nth(in, i)->mac, cmc_intent_assignment_nth(in, k)->mac, 6) == 0)
				return false;
	return true;
}

static void test_from_blade(void)
{
	struct cmc_intent *in = fresh();
	const struct cmc_sprofile *p;
	const struct cmc_assignment *a;
	char err[256] = "";

	tap_is_int(assign(in, 2, 0, 0, "blade1", NULL, 0), 0, "blade1: a VF with its default MAC");
	tap_is_int(assign(in, 2, 0, 1, "blade1", "02:00:00:00:aa:01", 10), 0, "blade1: a VF with an admin's MAC, VLAN 10");
	tap_is_int(cmc_sprofile_create_from(in, "web", "blade2", U1, "", err, sizeof(err)), -ENOENT,
		   "a blade with no VF: refused (%s)", err);
	tap_is_int(cmc_sprofile_create_from(in, "web", "blade1", U1, "", err, sizeof(err)), 0, "profile web from blade1");
	p = cmc_sprofile_find(in, "web");
	tap_ok(p && p->n_vfs == 2, "  holds its two VFs");
	a = cmc_intent_assignment(in, 2, 0, 0);
	tap_ok(a && strcmp(a->sprofile, "web") == 0 && cmc_mac_in_pool(ID, a->mac),
	       "  the VF default was traded for a pool MAC");
	a = cmc_intent_assignment(in, 2, 0, 1);
	tap_ok(a && strcmp(a->sprofile, "web") == 0 && a->mac[5] == 0x01 && a->mac[4] == 0xaa && a->vlan == 10,
	       "  the admin's MAC and VLAN are kept");
	tap_ok(p && strcmp(p->serial, "CMC-01234567-web") == 0, "  a serial number made up from the chassis id");
	tap_is_int(cmc_sprofile_create_from(in, "web2", "blade1", U2, "", err, sizeof(err)), -EBUSY,
		   "a second profile on the blade: busy (%s)", err);
	tap_is_int(cmc_sprofile_create_from(in, "web", "blade2", U2, "", err, sizeof(err)), -EEXIST,
		   "the same name again (%s)", err);
	tap_is_int(cmc_sprofile_create_from(in, "bad name", "blade2", U2, "", err, sizeof(err)), -EINVAL,
		   "a malformed name");
	tap_is_int(cmc_sprofile_create_from(in, "db", "blade2", "not-a-uuid", "", err, sizeof(err)), -EINVAL,
		   "a malformed UUID");
	{
		struct cmc_assignment up = *cmc_intent_assignment(in, 2, 0, 1);

		up.rate = 100;
		tap_is_int(cmc_intent_update(in, &up, err, sizeof(err)), -EPERM,
			   "one owner: the assignment cannot be changed behind the profile (%s)", err);
	}
	tap_is_int(cmc_intent_unassign(in, 2, 0, 1, false, err, sizeof(err)), -EPERM,
		   "nor taken back (%s)", err);
	tap_is_int(cmc_sprofile_delete(in, "web", err, sizeof(err)), 0, "delete web");
	tap_is_int((int)cmc_intent_functions(in, "blade1"), 0, "  its VFs are taken back");
	tap_is_int(cmc_sprofile_delete(in, "web", err, sizeof(err)), -ENOENT, "  and it is gone");
	cmc_intent_free(in);
}

static void test_definition(void)
{
	struct cmc_intent *in = fresh();
	uint8_t macs[2][6], def[6];
	char err[256] = "";

	tap_is_int(cmc_sprofile_create(in, "db", "blade2", 2, NULL, 0, U1, "SN-1", err, sizeof(err)), 0,
		   "profile db: 2 VFs on blade2, MACs from the pool");
	tap_is_int((int)cmc_intent_functions(in, "blade2"), 2, "  blade2 has them");
	tap_ok(cmc_intent_assignment(in, 1, 1, 0) && cmc_intent_assignment(in, 1, 1, 1),
	       "  on the first uplink port that is no dedicated slot's (slot 1 pf 1)");
	tap_ok(macs_unique(in), "  every MAC once");
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 1, NULL, 0, U1, "", err, sizeof(err)), -EADDRINUSE,
		   "a UUID taken (%s)", err);
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 1, NULL, 0, U2, "SN-1", err, sizeof(err)), -EADDRINUSE,
		   "a serial number taken (%s)", err);
	memcpy(macs[0], cmc_intent_assignment(in, 1, 1, 0)->mac, 6);
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 1, macs, 1, U2, "", err, sizeof(err)), -EADDRINUSE,
		   "a MAC another profile has (%s)", err);
	(void)!cmc_mac_vf_default(ID, 2, 0, 5, def);
	memcpy(macs[0], def, 6);
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 1, macs, 1, U2, "", err, sizeof(err)), -EADDRINUSE,
		   "a VF's default MAC (%s)", err);
	(void)!vb_mac_parse("02:00:00:00:bb:01", macs[0]);
	memcpy(macs[1], macs[0], 6);
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 2, macs, 2, U2, "", err, sizeof(err)), -EADDRINUSE,
		   "the same MAC twice in one profile (%s)", err);
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 9, NULL, 0, U2, "", err, sizeof(err)), -EINVAL,
		   "nine VFs");
	for (unsigned vf = 0; vf < 6; vf++)
		(void)!assign(in, 2, 0, vf, "blade3", NULL, 0);
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 4, NULL, 0, U2, "", err, sizeof(err)), -ENOSPC,
		   "more VFs than the uplinks have free (%s)", err);
	tap_is_int((int)cmc_intent_functions(in, "blade1"), 0, "  nothing half-made");
	tap_is_int(cmc_sprofile_create(in, "db2", "blade1", 1, macs, 1, U2, "", err, sizeof(err)), 0,
		   "an admin's MAC outside the chassis' range");
	{
		struct cmc_assignment a = { .slot = 2, .pf = 0, .vf = 6 };

		snprintf(a.blade, sizeof(a.blade), "blade3");
		(void)!cmc_mac_pool(ID, 100, a.mac);
		tap_is_int(cmc_intent_assign(in, &a, err, sizeof(err)), -EADDRINUSE,
			   "a plain assignment may not take a pool MAC (%s)", err);
	}
	cmc_intent_free(in);
}

static void test_names(void)
{
	struct cmc_intent *in = fresh();
	struct cmc_assignment vm = { .slot = 2, .pf = 0, .vf = 3 };
	char err[256] = "";

	snprintf(vm.blade, sizeof(vm.blade), "blade1");
	snprintf(vm.vm, sizeof(vm.vm), "vm1");
	(void)!vb_mac_parse("02:00:00:00:cc:01", vm.mac);
	tap_is_int(cmc_intent_assign(in, &vm, err, sizeof(err)), 0, "VM vm1's profile on blade1");
	tap_is_int(cmc_sprofile_create(in, "vm1", "blade2", 1, NULL, 0, U1, "", err, sizeof(err)), -EEXIST,
		   "a server profile named like a VM: refused (%s)", err);
	tap_ok(!cmc_sprofile_name_taken(in, "vm2"), "vm2 is free");
	tap_is_int(cmc_sprofile_create(in, "vm2", "blade2", 1, NULL, 0, U1, "", err, sizeof(err)), 0, "profile vm2");
	tap_ok(cmc_sprofile_name_taken(in, "vm2"), "  now vm2 is taken for VMs too");
	cmc_intent_free(in);
}

static void test_move(void)
{
	struct cmc_intent *in = fresh();
	const struct cmc_sprofile *p;
	uint8_t mac0[6], mac1[6];
	char err[256] = "";
	uint16_t vlan;
	struct cmc_lane lane;
	struct cmc_assignment ends[2];

	tap_is_int(cmc_intent_domain_create(in, "red", 0, &vlan, err, sizeof(err)), 0, "domain red");
	tap_is_int(cmc_intent_domain_member(in, "red", "blade1", true, err, sizeof(err)), 0, "blade1 in red");
	tap_is_int(cmc_intent_lane_plan(in, "mig", "blade1", "blade2", -1, -1, &lane, ends, err, sizeof(err)), 0,
		   "a lane between blade1 and blade2");
	tap_is_int(cmc_intent_lane_add(in, &lane, ends, err, sizeof(err)), 0, "  added");
	tap_is_int(assign(in, 2, 0, 0, "blade1", NULL, 0), 0, "blade1 VF 2/0/0");
	tap_is_int(assign(in, 1, 1, 0, "blade1", NULL, 0), 0, "blade1 VF 1/1/0");
	tap_is_int(cmc_sprofile_create_from(in, "web", "blade1", U1, "", err, sizeof(err)), 0, "profile web");
	p = cmc_sprofile_find(in, "web");
	tap_ok(p && strcmp(p->domain, "red") == 0 && p->n_lanes == 1, "  with its domain and its lane");
	memcpy(mac0, p->vfs[0].mac, 6);
	memcpy(mac1, p->vfs[1].mac, 6);
	tap_is_int(cmc_sprofile_move(in, "web", "blade1", false, err, sizeof(err)), -EINVAL, "to its own blade");
	tap_is_int(cmc_sprofile_move(in, "web", "blade3", true, err, sizeof(err)), -EHOSTDOWN,
		   "to a failed blade (%s)", err);
	tap_is_int(cmc_sprofile_create(in, "db", "blade2", 1, NULL, 0, U2, "", err, sizeof(err)), 0, "blade2 has db");
	tap_is_int(cmc_sprofile_move(in, "web", "blade2", false, err, sizeof(err)), -EBUSY,
		   "to a busy blade (%s)", err);
	/* Fill slot 1 pf 1: the spare has no free VF on that port. */
	for (unsigned vf = 1; vf < 4; vf++)
		if (!cmc_intent_assignment(in, 1, 1, vf))
			(void)!assign(in, 1, 1, vf, "blade2", NULL, 0);
	{
		struct cmc_intent *before;

		(void)!cmc_intent_dup(in, &before);
		tap_is_int(cmc_sprofile_move(in, "web", "blade3", false, err, sizeof(err)), -ENOSPC,
			   "the spare lacks a free VF on the right port (%s)", err);
		tap_ok(strstr(err, "slot 1 pf 1") != NULL, "  names the port");
		tap_ok(cmc_intent_assignment(in, 2, 0, 0) && strcmp(cmc_intent_assignment(in, 2, 0, 0)->blade, "blade1") == 0 &&
			       cmc_intent_assignment_count(in) == cmc_intent_assignment_count(before),
		       "  nothing half-applied");
		cmc_intent_free(before);
	}
	(void)!cmc_intent_unassign(in, 1, 1, 3, false, err, sizeof(err));
	tap_is_int(cmc_sprofile_move(in, "web", "blade3", false, err, sizeof(err)), 0, "web to blade3 (%s)", err);
	p = cmc_sprofile_find(in, "web");
	tap_ok(p && strcmp(p->blade, "blade3") == 0, "  bound to blade3");
	tap_ok(p && memcmp(p->vfs[0].mac, mac0, 6) == 0 && memcmp(p->vfs[1].mac, mac1, 6) == 0, "  same MACs");
	tap_ok(p && cmc_intent_assignment(in, p->vfs[0].slot, p->vfs[0].pf, p->vfs[0].vf) &&
		       strcmp(cmc_intent_assignment(in, p->vfs[0].slot, p->vfs[0].pf, p->vfs[0].vf)->blade, "blade3") == 0,
	       "  on blade3's VFs");
	tap_is_int((int)cmc_intent_functions(in, "blade1"), 0, "  blade1's VFs taken back, its lane end too");
	tap_ok(cmc_intent_domain_of_blade(in, "blade3") && !cmc_intent_domain_of_blade(in, "blade1"),
	       "  blade3 is in red, blade1 left it");
	tap_ok(macs_unique(in), "  every MAC once");
	{
		const struct cmc_assignment *e[2];

		tap_ok(cmc_intent_lane_ends(in, "mig", e) == 0 && (strcmp(e[0]->blade, "blade3") == 0 ||
								  strcmp(e[1]->blade, "blade3") == 0),
		       "  the lane's end is blade3's");
	}
	tap_is_int(cmc_sprofile_move(in, "web", "blade1", false, err, sizeof(err)), 0, "and back to blade1 (%s)", err);
	tap_ok(macs_unique(in), "  every MAC once");
	cmc_intent_free(in);
}

struct rec_ctx {
	struct cmc_intent *to;
	int bad;
};

static void copy_record(void *arg, const char *key, const char *value)
{
	struct rec_ctx *c = arg;
	char why[256];

	if (strncmp(key, "sprofile/", 9) == 0 && cmc_intent_load_record(c->to, key, value, why, sizeof(why)) < 0) {
		tap_diag("%s: %s", key, why);
		c->bad++;
	}
}

static void test_records(void)
{
	struct cmc_intent *in = fresh(), *back = fresh();
	struct rec_ctx c = { back, 0 };
	char err[256] = "", key[CMC_INTENT_KEY_MAX], val[CMC_INTENT_VALUE_MAX];

	tap_is_int(cmc_sprofile_create(in, "db", "blade2", 2, NULL, 0, U1, "SN-9", err, sizeof(err)), 0, "profile db");
	cmc_intent_foreach_record(in, copy_record, &c);
	tap_is_int(c.bad, 0, "its record loads back");
	tap_ok(cmc_sprofile_find(back, "db") && cmc_intent_functions(back, "blade2") == 2 &&
		       memcmp(cmc_intent_assignment(back, 1, 1, 0)->mac, cmc_intent_assignment(in, 1, 1, 0)->mac, 6) == 0,
	       "  with its VFs and MACs");
	cmc_sprofile_record(cmc_sprofile_find(in, "db"), key, val);
	tap_ok(strstr(val, "blade=blade2") != NULL, "the record names its blade");
	tap_ok(cmc_intent_load_record(back, key, val, err, sizeof(err)) < 0, "the same record twice: dropped (%s)", err);
	tap_ok(cmc_intent_load_record(back, "sprofile/x", "uuid=1 garbage", err, sizeof(err)) == -EINVAL,
	       "an unreadable record: dropped");
	cmc_intent_free(in);
	cmc_intent_free(back);
}

int main(void)
{
	make_config();
	test_from_blade();
	test_definition();
	test_names();
	test_move();
	test_records();
	return tap_done();
}
