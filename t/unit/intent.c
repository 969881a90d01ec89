/* SPDX-License-Identifier: MIT */
/*
 * The chassis' intent (cmc/intent.h): every rule, without a card or a daemon.
 *
 * A chassis of three blades and four slots: slot 1 (2 ports, 4 VFs each, port 0
 * midplane), slot 2 (one port, 7 VFs), slot 3 dedicated to blade3 (2 VFs), slot 4 in
 * the configuration but not driven. Each test builds a fresh intent.
 */
#include "intent.h"
#include "macs.h"
#include "tap.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID 0x1234567u

static struct cmc_config cfg;
static const uint8_t pf1_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x01, 0x00 };
static const uint8_t pf2_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x02, 0x00 };

static void make_config(void)
{
	static const char *names[] = { "blade1", "blade2", "blade3" };

	cfg.blade_count = 3;
	for (unsigned i = 0; i < 3; i++) {
		snprintf(cfg.blades[i].name, sizeof(cfg.blades[i].name), "%s", names[i]);
		cfg.blades[i].id = i + 1;
	}
	cfg.slot_count = 4;
	cfg.slots[0] = (struct cmc_config_slot){ .number = 1, .vfs = 4, .port_count = 1,
						 .ports = { { .pf = 0, .role = CMC_PORT_MIDPLANE } } };
	cfg.slots[1] = (struct cmc_config_slot){ .number = 2, .vfs = 7 };
	cfg.slots[2] = (struct cmc_config_slot){ .number = 3, .vfs = 2, .policy = CMC_SLOT_DEDICATED,
						 .blade = &cfg.blades[2] };
	cfg.slots[3] = (struct cmc_config_slot){ .number = 4, .vfs = 2 };
	/* Two templates of the configuration: web (id 7, 50 Mbit/s, two peers), open. */
	cfg.template_count = 2;
	cfg.templates[0] = (struct cmc_config_template){ .t = { .name = "web", .id = 7, .rate = 50 }, .line = 12 };
	(void)!cmc_allow_list_parse("10.9.0.0/24,02:cc:00:00:00:01", &cfg.templates[0].t, NULL, 0);
	cfg.templates[1] = (struct cmc_config_template){ .t = { .name = "open", .id = 8, .trusted = true }, .line = 14 };
}

static struct cmc_intent *fresh(void)
{
	struct cmc_intent *in;

	if (cmc_intent_new(&cfg, ID, &in) < 0 || cmc_intent_port_add(in, 1, 0, 4, pf1_mac) < 0 ||
	    cmc_intent_port_add(in, 1, 1, 4, NULL) < 0 || cmc_intent_port_add(in, 2, 0, 7, pf2_mac) < 0 ||
	    cmc_intent_port_add(in, 3, 0, 2, NULL) < 0) {
		tap_diag("cannot build the test chassis");
		exit(1);
	}
	return in;
}

static struct cmc_assignment asg(unsigned slot, unsigned pf, unsigned vf, const char *blade, const char *mac)
{
	struct cmc_assignment a = { .slot = slot, .pf = pf, .vf = vf };

	snprintf(a.blade, sizeof(a.blade), "%s", blade);
	if (mac)
		(void)!vb_mac_parse(mac, a.mac);
	else
		(void)!cmc_mac_vf_default(ID, slot, pf, vf, a.mac);
	return a;
}

static int assign(struct cmc_intent *in, struct cmc_assignment a, char *err)
{
	return cmc_intent_assign(in, &a, err, 256);
}

static void test_assign_rules(void)
{
	struct cmc_intent *in = fresh();
	char err[256] = "";
	struct cmc_assignment a;

	tap_is_int(assign(in, asg(2, 0, 0, "blade1", NULL), err), 0, "a VF with its default MAC");
	tap_is_int(assign(in, asg(2, 0, 0, "blade2", NULL), err), -EBUSY, "the same VF again: busy");
	tap_ok(strstr(err, "already assigned to blade1") != NULL, "  and says to whom (%s)", err);
	tap_is_int(assign(in, asg(2, 0, 1, "blade9", NULL), err), -ENOENT, "an unknown blade");
	tap_ok(strstr(err, "blades: blade1, blade2, blade3") != NULL, "  names the known ones");
	tap_is_int(assign(in, asg(4, 0, 0, "blade1", NULL), err), -ENOENT, "a slot cmcd does not drive");
	tap_is_int(assign(in, asg(2, 0, 7, "blade1", NULL), err), -ENOENT, "a VF beyond the port's");
	tap_is_int(assign(in, asg(3, 0, 0, "blade1", NULL), err), -EBUSY, "a dedicated slot's VF is taken");
	a = asg(2, 0, 1, "blade1", NULL);
	a.vlan = 4000;
	tap_is_int(assign(in, a, err), -EINVAL, "a lane VLAN asked for by an assignment");
	a.vlan = 10;
	a.rate = 1001;
	tap_is_int(assign(in, a, err), -EINVAL, "a rate above the port's 1000 Mbit/s");
	a.rate = 1000;
	tap_is_int(assign(in, a, err), 0, "VLAN 10 at 1000 Mbit/s");
	tap_is_int(cmc_intent_vlan_of(in, cmc_intent_assignment(in, 2, 0, 1)), 10, "  its VLAN is the one asked");
	tap_is_int(cmc_intent_functions(in, "blade1"), 2, "blade1 has two functions");
	tap_is_int(cmc_intent_unassign(in, 2, 0, 0, false, err, sizeof(err)), 0, "unassign");
	tap_is_int(cmc_intent_unassign(in, 2, 0, 0, false, err, sizeof(err)), -ENOENT, "unassign again");
	tap_is_int(cmc_intent_functions(in, "blade1"), 1, "one function left");
	cmc_intent_free(in);
}

static void test_mac_owner(void)
{
	struct cmc_intent *in = fresh();
	char err[256] = "";
	struct cmc_fdb f = { .slot = 1, .pf = 1, .vf = 0 };
	struct cmc_mac_owner o;
	uint8_t other_default[6];

	tap_is_int(assign(in, asg(1, 1, 0, "blade1", "02:00:00:00:00:01"), err), 0, "card 1: an admin's MAC");
	tap_is_int(assign(in, asg(2, 0, 0, "blade2", "02:00:00:00:00:01"), err), -EADDRINUSE,
		   "card 2: the same MAC is refused across cards");
	tap_ok(strstr(err, "slot 1 pf 1 vf 0") != NULL, "  and names its owner (%s)", err);
	tap_is_int(assign(in, asg(2, 0, 0, "blade2", "52:54:00:00:01:00"), err), -EADDRINUSE,
		   "a PF's address is refused");
	tap_ok(strstr(err, "address of slot 1 pf 0") != NULL, "  as the PF's (%s)", err);
	(void)!cmc_mac_vf_default(ID, 1, 0, 3, other_default);
	{
		struct cmc_assignment a = asg(2, 0, 0, "blade2", NULL);

		memcpy(a.mac, other_default, 6);
		tap_is_int(assign(in, a, err), -EADDRINUSE, "another VF's default is refused");
		tap_ok(strstr(err, "chassis' own range") != NULL, "  as the chassis' range (%s)", err);
	}
	(void)!vb_mac_parse("02:00:00:00:00:99", f.mac);
	tap_is_int(cmc_intent_fdb_add(in, &f, err, sizeof(err)), 0, "a static entry");
	tap_is_int(cmc_intent_fdb_add(in, &f, err, sizeof(err)), -EEXIST, "the same entry again");
	tap_is_int(assign(in, asg(2, 0, 2, "blade2", "02:00:00:00:00:99"), err), -EADDRINUSE,
		   "a static entry's MAC is refused for a VF on another card");
	f.slot = 2, f.pf = 0;
	tap_is_int(cmc_intent_fdb_add(in, &f, err, sizeof(err)), -EADDRINUSE, "and for a static entry on another card");
	(void)!vb_mac_parse("02:00:00:00:00:01", f.mac);
	tap_is_int(cmc_intent_fdb_add(in, &f, err, sizeof(err)), -EADDRINUSE, "a VF's MAC as a static entry");
	memcpy(f.mac, pf2_mac, 6);
	tap_is_int(cmc_intent_fdb_add(in, &f, err, sizeof(err)), -EADDRINUSE, "a PF's MAC as a static entry");
	cmc_intent_mac_owner(in, pf2_mac, &o);
	tap_ok(o.kind == CMC_MAC_PF && o.slot == 2 && o.pf == 0, "the owner of a PF's MAC is that PF");
	(void)!vb_mac_parse("02:00:00:00:00:99", f.mac);
	cmc_intent_mac_owner(in, f.mac, &o);
	tap_ok(o.kind == CMC_MAC_STATIC && o.slot == 1 && o.pf == 1 && o.vf == 0, "a static entry's owner");
	cmc_intent_mac_owner(in, other_default, &o);
	tap_ok(o.kind == CMC_MAC_DEFAULT && o.slot == 1 && o.pf == 0 && o.vf == 3, "a default's owner is its VF");
	tap_is_int(cmc_intent_mac_free_for(in, other_default, 1, 0, 3, err, sizeof(err)), 0,
		   "a VF may keep its own default");
	tap_is_int(cmc_intent_mac_free_for(in, other_default, 1, 0, 2, err, sizeof(err)), -EADDRINUSE,
		   "its neighbour may not");
	/* Unassigning takes the VF's static entries with it, and frees its MAC. */
	tap_is_int(cmc_intent_unassign(in, 1, 1, 0, false, err, sizeof(err)), 0, "unassign the owner");
	tap_is_int(cmc_intent_fdb_count(in), 0, "its static entry went with it");
	tap_is_int(assign(in, asg(2, 0, 0, "blade2", "02:00:00:00:00:01"), err), 0, "its MAC is free again");
	cmc_intent_free(in);
}

static void count_mac(void *arg, const uint8_t mac[6], unsigned slot, unsigned pf, int vf, bool pf_own)
{
	unsigned *n = arg;
	(void)mac, (void)slot, (void)pf, (void)vf;

	n[pf_own ? 1 : vf >= 0 ? 0 : 2]++;
}

static void test_published_macs(void)
{
	struct cmc_intent *in = fresh();
	char err[256];
	unsigned n[3] = { 0, 0, 0 };
	struct cmc_fdb f = { .slot = 2, .pf = 0, .vf = 1 };

	(void)!assign(in, asg(2, 0, 1, "blade1", NULL), err);
	(void)!vb_mac_parse("02:00:00:00:00:42", f.mac);
	(void)!cmc_intent_fdb_add(in, &f, err, sizeof(err));
	cmc_intent_foreach_mac(in, count_mac, n);
	/* blade3's two dedicated VFs + the assignment; two known PF addresses; one entry. */
	tap_ok(n[0] == 3 && n[1] == 2 && n[2] == 1, "the published list: 3 VFs, 2 PFs, 1 static entry (%u %u %u)",
	       n[0], n[1], n[2]);
	cmc_intent_free(in);
}

static void test_domains(void)
{
	struct cmc_intent *in = fresh();
	char err[256];
	uint16_t vlan = 0;
	struct cmc_assignment a;
	struct cmc_vf_settings s;

	tap_is_int(cmc_intent_domain_create(in, "red", 0, &vlan, err, sizeof(err)), 0, "a domain");
	tap_is_int(vlan, CMC_DOMAIN_VLAN_FIRST, "  gets the first free VLAN");
	tap_is_int(cmc_intent_domain_create(in, "red", 0, NULL, err, sizeof(err)), -EEXIST, "twice");
	tap_is_int(cmc_intent_domain_create(in, "blue", 100, NULL, err, sizeof(err)), -EADDRINUSE,
		   "another domain on its VLAN");
	tap_is_int(cmc_intent_domain_create(in, "blue", 4000, NULL, err, sizeof(err)), -EINVAL,
		   "a domain on a lane VLAN");
	tap_is_int(cmc_intent_domain_create(in, "bad name", 0, NULL, err, sizeof(err)), -EINVAL, "a bad name");
	(void)!assign(in, asg(2, 0, 0, "blade1", NULL), err);
	tap_is_int(cmc_intent_domain_member(in, "red", "blade1", true, err, sizeof(err)), 0, "blade1 joins");
	cmc_intent_vf_settings(in, 2, 0, 0, &s);
	tap_is_int(s.vlan, 100, "its VF is on the domain's VLAN");
	tap_is_int(cmc_intent_domain_member(in, "red", "blade1", true, err, sizeof(err)), -EBUSY, "joins twice");
	tap_is_int(cmc_intent_domain_create(in, "blue", 200, NULL, err, sizeof(err)), 0, "a second domain");
	tap_is_int(cmc_intent_domain_member(in, "blue", "blade1", true, err, sizeof(err)), -EBUSY,
		   "a blade is in one domain at most");
	a = asg(2, 0, 1, "blade2", NULL);
	a.vlan = 100;
	tap_is_int(assign(in, a, err), -EPERM, "blade2 may not ask for red's VLAN");
	a.blade[5] = '1';
	tap_is_int(assign(in, a, err), 0, "blade1 may");
	tap_is_int(cmc_intent_domain_create(in, "green", 300, NULL, err, sizeof(err)), 0, "a third domain");
	a = asg(2, 0, 2, "blade2", NULL);
	a.vlan = 300;
	tap_is_int(assign(in, a, err), -EPERM, "a VLAN of a domain the blade is not in");
	tap_is_int(cmc_intent_domain_member(in, "red", "blade1", false, err, sizeof(err)), -EPERM,
		   "blade1 may not leave red while a VF of it asks for red's VLAN");
	tap_is_int(cmc_intent_unassign(in, 2, 0, 1, false, err, sizeof(err)), 0, "  that VF unassigned");
	tap_is_int(cmc_intent_domain_member(in, "red", "blade1", false, err, sizeof(err)), 0, "blade1 leaves red");
	cmc_intent_vf_settings(in, 2, 0, 0, &s);
	tap_is_int(s.vlan, 0, "its VF is untagged again");
	a = asg(2, 0, 1, "blade1", NULL);
	a.vlan = 200;
	tap_is_int(assign(in, a, err), -EPERM, "outside every domain, blue's VLAN is refused too");
	a.vlan = 50;
	tap_is_int(assign(in, a, err), 0, "a VLAN no domain has is fine");
	tap_is_int(cmc_intent_domain_create(in, "brown", 50, NULL, err, sizeof(err)), -EADDRINUSE,
		   "a domain on a VLAN an assignment asked for");
	tap_is_int(cmc_intent_domain_delete(in, "red", err, sizeof(err)), 0, "delete red");
	tap_is_int(cmc_intent_domain_delete(in, "red", err, sizeof(err)), -ENOENT, "delete red again");
	cmc_intent_free(in);
}

static void test_lanes(void)
{
	struct cmc_intent *in = fresh();
	char err[256];
	struct cmc_lane l, l2;
	struct cmc_assignment ends[2];
	const struct cmc_assignment *e[2];

	tap_is_int(cmc_intent_lane_plan(in, "hv", "blade1", "blade1", -1, -1, &l, ends, err, sizeof(err)), -EINVAL,
		   "a lane joins two different blades");
	tap_is_int(cmc_intent_lane_plan(in, "hv", "blade1", "blade2", 2, 0, &l, ends, err, sizeof(err)), -EINVAL,
		   "a lane on an uplink port is refused");
	tap_is_int(cmc_intent_lane_plan(in, "hv_1", "blade1", "blade2", -1, -1, &l, ends, err, sizeof(err)), -EINVAL,
		   "a lane name with _");
	tap_is_int(cmc_intent_lane_plan(in, "hv", "blade1", "blade2", -1, -1, &l, ends, err, sizeof(err)), 0,
		   "a lane plan");
	tap_ok(l.slot == 1 && l.pf == 0 && l.vlan == CMC_LANE_VLAN_MIN && l.net == 1, "  on the midplane port, "
	       "first lane VLAN and net (slot %u pf %u vlan %u net %u)", l.slot, l.pf, l.vlan, l.net);
	tap_ok(ends[0].vf == 0 && ends[1].vf == 1, "  on its first two free VFs");
	tap_is_int(cmc_intent_assignment_count(in), 2, "a plan changes nothing");
	tap_is_int(cmc_intent_lane_add(in, &l, ends, err, sizeof(err)), 0, "the lane added");
	tap_is_int(cmc_intent_lane_ends(in, "hv", e), 0, "its ends");
	tap_ok(e[0] && e[1] && e[0]->vf == 0 && !strcmp(e[1]->blade, "blade2"), "  lower VF first");
	tap_is_int(cmc_intent_vlan_of(in, e[0]), CMC_LANE_VLAN_MIN, "  on the lane's VLAN");
	tap_is_int(cmc_intent_lane_plan(in, "hv2", "blade1", "blade2", -1, -1, &l2, ends, err, sizeof(err)), 0,
		   "a second lane");
	tap_ok(l2.vlan == CMC_LANE_VLAN_MIN + 1 && l2.net == 2 && ends[0].vf == 2, "  the next VLAN, net and VFs");
	tap_is_int(cmc_intent_lane_add(in, &l2, ends, err, sizeof(err)), 0, "  added");
	tap_is_int(cmc_intent_lane_plan(in, "hv3", "blade1", "blade2", -1, -1, &l2, ends, err, sizeof(err)), -ENOSPC,
		   "no midplane port has two VFs free");
	tap_is_int(cmc_intent_unassign(in, 1, 0, 0, false, err, sizeof(err)), -EPERM, "a lane's VF is not unassigned");
	tap_is_int(cmc_intent_role_set(in, 1, 0, CMC_PORT_UPLINK, err, sizeof(err)), -EBUSY,
		   "its port stays midplane while lanes run");
	tap_is_int(cmc_intent_lane_delete(in, "hv", err, sizeof(err)), 0, "delete the first");
	tap_is_int(cmc_intent_assignment_count(in), 4, "  its VFs went with it (2 dedicated + the other lane's)");
	tap_is_int(cmc_intent_lane_delete(in, "hv2", err, sizeof(err)), 0, "delete the second");
	tap_is_int(cmc_intent_role_set(in, 1, 0, CMC_PORT_UPLINK, err, sizeof(err)), 0, "now it may be an uplink");
	tap_is_int(cmc_intent_role(in, 1, 0), CMC_PORT_UPLINK, "  and is");
	tap_is_int(cmc_intent_role_set(in, 2, 0, CMC_PORT_MIDPLANE, err, sizeof(err)), 0, "slot 2 to midplane");
	tap_is_int(cmc_intent_lane_plan(in, "x", "blade1", "blade2", -1, -1, &l, ends, err, sizeof(err)), 0,
		   "a lane goes there");
	tap_ok(l.slot == 2, "  on slot 2");
	cmc_intent_free(in);
}

/* 82576: 24 RAR entries; cmc gives static entries 8 of them per port (NIC_STATIC_FDB_MAX),
 * the rest are the PF's, the VFs' primaries and the VFs' own requests. */
static void test_veb_capacity(void)
{
	struct cmc_intent *in = fresh();
	char err[256] = "";
	struct cmc_fdb f = { .slot = 2, .pf = 0, .vf = 0 };
	int rc = 0;
	unsigned n = 0;

	(void)!assign(in, asg(2, 0, 0, "blade1", NULL), err);
	for (unsigned i = 0; i < 40 && !rc; i++) {
		f.mac[0] = 0x02, f.mac[5] = (uint8_t)(i + 1);
		rc = cmc_intent_fdb_add(in, &f, err, sizeof(err));
		n += !rc;
	}
	tap_is_int(n, 8, "static entries: 8 fit in the port's receive-address table");
	tap_is_int(rc, -ENOSPC, "  the 9th is refused before any card is written");
	tap_ok(strstr(err, "bridge cannot hold") != NULL, "  saying why (%s)", err);
	tap_is_int(cmc_intent_fdb_count(in), 8, "  and the intent is unchanged");
	f.slot = 1, f.pf = 1;
	f.mac[5] = 200;
	tap_is_int(cmc_intent_fdb_add(in, &f, err, sizeof(err)), 0, "another port has its own table");
	cmc_intent_free(in);
	/* VLAN filter entries: 32, one kept for the PF; 7 VFs on 7 VLANs fit; a static
	 * entry stranded on another VLAN by a domain change is refused. */
	in = fresh();
	rc = 0;
	for (unsigned vf = 0; vf < 7 && !rc; vf++) {
		struct cmc_assignment a = asg(2, 0, vf, "blade1", NULL);

		a.vlan = (uint16_t)(10 + vf);
		rc = assign(in, a, err);
	}
	tap_is_int(rc, 0, "7 VFs on 7 VLANs");
	cmc_intent_free(in);
}

static void test_domain_strands_static(void)
{
	struct cmc_intent *in = fresh();
	char err[256] = "";
	struct cmc_fdb f = { .slot = 2, .pf = 0, .vf = 0 };

	(void)!assign(in, asg(2, 0, 0, "blade1", NULL), err);
	(void)!vb_mac_parse("02:00:00:00:00:77", f.mac);
	(void)!cmc_intent_fdb_add(in, &f, err, sizeof(err));
	(void)!cmc_intent_domain_create(in, "red", 0, NULL, err, sizeof(err));
	tap_is_int(cmc_intent_domain_member(in, "red", "blade1", true, err, sizeof(err)), -EINVAL,
		   "a domain change that strands a static entry on the old VLAN is refused");
	tap_ok(!cmc_intent_domain_of_blade(in, "blade1"), "  blade1 stays out of red");
	cmc_intent_free(in);
}

/* A VM's profile goes live as a static entry (its MAC) on a VF that keeps its default MAC. */
static int profile_live(struct cmc_intent *in, const struct cmc_assignment *a, const uint8_t mac[6], char *err,
			size_t errlen)
{
	struct cmc_fdb f = { .slot = a->slot, .pf = a->pf, .vf = a->vf };

	memcpy(f.mac, mac, 6);
	return cmc_intent_fdb_add(in, &f, err, errlen);
}

static void test_profiles(void)
{
	struct cmc_intent *in = fresh();
	char err[256];
	struct cmc_assignment p = { .vlan = 0, .rate = 100 }, out, staged;
	struct cmc_mac_owner o;
	struct cmc_vf_settings s;
	uint8_t def[6];

	(void)!vb_mac_parse("02:00:00:00:aa:01", p.mac);
	tap_is_int(cmc_intent_profile_plan(in, "vm1", "blade1", &p, true, &out, err, sizeof(err)), 0, "a VM profile");
	tap_ok(out.slot == 1 && out.pf == 1 && out.vf == 0 && !strcmp(out.vm, "vm1"),
	       "  on the first uplink port's first free VF");
	tap_ok(cmc_mac_vf_default(ID, 1, 1, 0, def) == 0 && !memcmp(out.mac, def, 6),
	       "  which keeps its own default MAC (the VM's is not a second copy on the VF)");
	tap_is_int(cmc_intent_assign(in, &out, err, sizeof(err)), 0, "  assigned");
	tap_is_int(profile_live(in, &out, p.mac, err, sizeof(err)), 0, "  live: the VM's MAC a static entry on its VF");
	cmc_intent_mac_owner(in, p.mac, &o);
	tap_ok(o.kind == CMC_MAC_STATIC && o.slot == 1 && o.pf == 1 && o.vf == 0, "  the entry owns the VM's MAC");
	cmc_intent_vf_settings(in, 1, 1, 0, &s);
	tap_ok(s.assigned && !memcmp(s.mac, def, 6) && s.spoofchk && s.rate == 100,
	       "  the VF: its default MAC, the profile's rate, anti-spoofing on");
	tap_is_int(cmc_intent_profile_plan(in, "vm2", "blade2", &p, true, &staged, err, sizeof(err)), -EADDRINUSE,
		   "a second VM with the same MAC is refused");
	tap_ok(strstr(err, "static entry") != NULL, "  naming the entry that has it");
	tap_is_int(cmc_intent_profile_plan(in, "vm1", "blade2", &p, false, &staged, err, sizeof(err)), 0,
		   "staging vm1's move");
	tap_ok(staged.vf == 1 && memcmp(staged.mac, p.mac, 6) != 0, "  staged on the next VF with its default MAC");
	tap_is_int(cmc_intent_assign(in, &staged, err, sizeof(err)), 0, "  assigned");
	{
		const struct cmc_fdb *e = cmc_intent_fdb(in, staged.slot, staged.pf, p.mac);

		tap_ok(e && e->vf == out.vf, "  the VM's one entry is on the source's VF: staged, ready, not live");
	}
	tap_ok(profile_live(in, &staged, p.mac, err, sizeof(err)) < 0,
	       "the staged VF cannot take the MAC while the source's entry has it");
	tap_is_int(cmc_intent_unassign(in, out.slot, out.pf, out.vf, false, err, sizeof(err)), -EPERM,
		   "a profile's VF is the VM's to release");
	/* The switch-over, as blades.c makes it in one change: the source goes (its entry
	 * with it), the entry comes on the destination. */
	tap_is_int(cmc_intent_unassign(in, out.slot, out.pf, out.vf, true, err, sizeof(err)), 0, "  it releases it");
	tap_ok(!cmc_intent_fdb(in, out.slot, out.pf, p.mac), "  and its entry goes with it");
	tap_is_int(profile_live(in, &staged, p.mac, err, sizeof(err)), 0, "the destination's VF goes live with the entry");
	tap_is_int(cmc_intent_fdb_count(in), 1, "  the VM's MAC is owned once");
	cmc_intent_free(in);
}

/* Receive-address capacity: a port holds 8 static entries, VMs' included (doc/intent.md). */
static void test_profile_capacity(void)
{
	struct cmc_intent *in = fresh();
	struct cmc_assignment p = { 0 }, a;
	struct cmc_fdb f = { .slot = 1, .pf = 1, .vf = 3 };
	char err[256];
	int rc = 0;

	a = asg(1, 1, 3, "blade2", "02:00:00:00:bb:00");
	(void)!cmc_intent_assign(in, &a, err, sizeof(err));
	for (unsigned i = 0; i < 8 && !rc; i++) {
		f.mac[0] = 0x02, f.mac[5] = (uint8_t)(0x10 + i);
		rc = cmc_intent_fdb_add(in, &f, err, sizeof(err));
	}
	tap_is_int(rc, 0, "eight static entries on slot 1 pf 1");
	(void)!vb_mac_parse("02:00:00:00:aa:02", p.mac);
	tap_is_int(cmc_intent_profile_plan(in, "vm1", "blade1", &p, true, &a, err, sizeof(err)), 0,
		   "a VM's profile planned on the same port");
	tap_is_int(cmc_intent_assign(in, &a, err, sizeof(err)), 0, "  its VF assigned (a VF primary, not an entry)");
	tap_is_int(profile_live(in, &a, p.mac, err, sizeof(err)), -ENOSPC,
		   "  but its MAC cannot go live: the port's receive-address table is full");
	tap_ok(!cmc_intent_fdb(in, a.slot, a.pf, p.mac), "  nothing changed");
	cmc_intent_free(in);
}

/* A VM profile that names template tp (its MAC mac), planned and assigned on blade. */
static int templated_vm(struct cmc_intent *in, const char *vm, const char *blade, const char *tp, const char *mac,
			struct cmc_assignment *out, char *err)
{
	struct cmc_assignment p = { .rate = 999 };
	int rc;

	(void)!vb_mac_parse(mac, p.mac);
	snprintf(p.tmpl, sizeof(p.tmpl), "%s", tp);
	rc = cmc_intent_profile_plan(in, vm, blade, &p, true, out, err, 256);
	return rc ? rc : cmc_intent_assign(in, out, err, 256);
}

static unsigned vf_rate(const struct cmc_intent *in, const struct cmc_assignment *a)
{
	struct cmc_vf_settings s;

	cmc_intent_vf_settings(in, a->slot, a->pf, a->vf, &s);
	return s.rate;
}

static void test_templates(void)
{
	struct cmc_intent *in = fresh();
	char err[256] = "";
	struct cmc_assignment a1, a2, a3, t4;
	struct cmc_template t, was;
	struct cmc_vf_settings s;
	bool from_cfg = false;

	tap_ok(cmc_intent_template_count(in) == 2 && cmc_intent_template_nth(in, 0, &from_cfg) &&
	       from_cfg && cmc_intent_template(in, "web")->rate == 50, "the configuration's templates are there");
	tap_is_int(templated_vm(in, "vm1", "blade1", "web", "02:00:00:00:aa:01", &a1, err), 0, "vm1 names web");
	tap_is_int(vf_rate(in, &a1), 50, "  its VF's rate is web's, not the 999 it carried");
	tap_is_int(templated_vm(in, "vm2", "blade2", "web", "02:00:00:00:aa:02", &a2, err), 0, "vm2 names web");
	tap_is_int(templated_vm(in, "vm3", "blade2", "open", "02:00:00:00:aa:03", &a3, err), 0, "vm3 names open");
	cmc_intent_vf_settings(in, a3.slot, a3.pf, a3.vf, &s);
	tap_ok(s.trusted && !s.spoofchk && s.rate == 0, "  its VF is trusted, unlimited (open's)");
	tap_is_int(templated_vm(in, "vm4", "blade1", "nope", "02:00:00:00:aa:04", &t4, err), -ENOENT,
		   "a VM naming an unknown template: refused");
	tap_is_str(err, "no template 'nope'", "  with its reason");

	/* Changing a template reaches every VF that uses it, in one change. */
	t = *cmc_intent_template(in, "web");
	t.rate = 200;
	tap_is_int(cmc_intent_template_set(in, &t, err, sizeof(err)), 0, "web set to 200 Mbit/s");
	tap_ok(vf_rate(in, &a1) == 200 && vf_rate(in, &a2) == 200, "  vm1's and vm2's VFs both at 200");
	tap_is_int(vf_rate(in, &a3), 0, "  vm3 (open) unchanged");
	was = t;
	t.vlan = 100;
	tap_is_int(cmc_intent_domain_create(in, "red", 100, NULL, err, sizeof(err)), 0, "domain red on VLAN 100");
	tap_is_int(cmc_intent_template_set(in, &t, err, sizeof(err)), -EPERM,
		   "web onto red's VLAN, which vm1's blade is not in: refused");
	tap_ok(!memcmp(cmc_intent_template(in, "web"), &was, sizeof(was)) && vf_rate(in, &a1) == 200,
	       "  nothing changed (%s)", err);

	/* Bad input, refused with its reason and nothing changed. */
	t = was;
	t.rate = 1001;
	tap_is_int(cmc_intent_template_set(in, &t, err, sizeof(err)), -EINVAL, "a rate above 1000: refused");
	tap_is_str(err, "template web: 1001 Mbit/s is out of range 0..1000", "  with its reason");
	t = was;
	t.vlan = 4001;
	tap_is_int(cmc_intent_template_set(in, &t, err, sizeof(err)), -EINVAL, "a lane's VLAN: refused");
	t = (struct cmc_template){ .name = "db", .id = 7 };
	tap_is_int(cmc_intent_template_add(in, &t, err, sizeof(err)), -EADDRINUSE, "an id another template has");
	tap_is_str(err, "id 7 is template web's", "  with its reason");
	t.id = 9;
	tap_is_int(cmc_intent_template_add(in, &t, err, sizeof(err)), 0, "db, id 9: added");
	tap_is_int(cmc_intent_template_add(in, &t, err, sizeof(err)), -EEXIST, "  twice: refused");
	tap_is_int(cmc_intent_template_del(in, "web", err, sizeof(err)), -EBUSY, "deleting web while vm1 uses it");
	tap_is_str(err, "template web is in use by VM vm1 (slot 1 pf 1 vf 0)", "  with the VM named");
	tap_is_int(cmc_intent_template_del(in, "open", err, sizeof(err)) , -EBUSY, "open is vm3's");
	tap_is_int(cmc_intent_unassign(in, a3.slot, a3.pf, a3.vf, true, err, sizeof(err)), 0, "vm3 goes");
	tap_is_int(cmc_intent_template_del(in, "open", err, sizeof(err)), -EPERM,
		   "open, unused, is the configuration's: refused");
	tap_is_int(cmc_intent_template_del(in, "db", err, sizeof(err)), 0, "db, the administrator's, deleted");
	tap_is_int(cmc_intent_template_del(in, "db", err, sizeof(err)), -ENOENT, "  and gone");
	cmc_intent_free(in);
}

static void test_template_macs(void)
{
	struct cmc_intent *in = fresh();
	const struct cmc_template *t = NULL;
	char err[256] = "";
	uint8_t mac[6];

	(void)!vb_mac_parse("06:07:00:00:00:2a", mac);
	tap_ok(cmc_intent_template_of_mac(in, mac, &t, err, sizeof(err)) == 0 && t && !strcmp(t->name, "web"),
	       "06:07:00:00:00:2a carries template id 7: web");
	(void)!vb_mac_parse("06:63:00:00:00:2a", mac);
	tap_is_int(cmc_intent_template_of_mac(in, mac, &t, err, sizeof(err)), -ENOENT,
		   "06:63:... carries id 99, which no template has: refused");
	tap_is_str(err, "MAC 06:63:00:00:00:2a carries template id 99, which no template has", "  with its reason");
	(void)!vb_mac_parse("02:07:00:00:00:2a", mac);
	tap_ok(cmc_intent_template_of_mac(in, mac, &t, err, sizeof(err)) == 0 && !t, "02:07:... carries none");
	(void)!vb_mac_parse("06:00:00:00:00:2a", mac);
	tap_ok(cmc_intent_template_of_mac(in, mac, &t, err, sizeof(err)) == 0 && !t, "06:00:... (id 0) carries none");
	cmc_intent_free(in);
}

struct rec_list {
	unsigned n;
	char key[32][CMC_INTENT_KEY_MAX], val[32][CMC_INTENT_VALUE_MAX];
};

static void keep_record(void *arg, const char *key, const char *value)
{
	struct rec_list *l = arg;

	if (l->n < 32) {
		snprintf(l->key[l->n], CMC_INTENT_KEY_MAX, "%s", key);
		snprintf(l->val[l->n++], CMC_INTENT_VALUE_MAX, "%s", value);
	}
}

/* The administrator's templates and the VMs that name them come back from the store. */
static void test_template_records(void)
{
	struct cmc_intent *in = fresh(), *back = fresh();
	struct rec_list *l = calloc(1, sizeof(*l));
	struct cmc_template t;
	struct cmc_assignment a;
	char err[256] = "";
	unsigned tmpl_records = 0, failed = 0;

	t = *cmc_intent_template(in, "web");
	t.rate = 300;
	(void)!cmc_intent_template_set(in, &t, err, sizeof(err));
	t = (struct cmc_template){ .name = "db", .id = 9, .vlan = 42 };
	(void)!cmc_allow_list_parse("10.1.0.0/16", &t, NULL, 0);
	(void)!cmc_intent_template_add(in, &t, err, sizeof(err));
	(void)!templated_vm(in, "vm1", "blade1", "db", "02:00:00:00:aa:01", &a, err);
	cmc_intent_foreach_record(in, keep_record, l);
	for (unsigned p = 0; cmc_intent_prefixes[p]; p++)
		for (unsigned i = 0; i < l->n; i++) {
			if (strncmp(l->key[i], cmc_intent_prefixes[p], strlen(cmc_intent_prefixes[p])) != 0)
				continue;
			tmpl_records += strncmp(l->key[i], "template/", 9) == 0;
			if (cmc_intent_load_record(back, l->key[i], l->val[i], err, sizeof(err)) < 0)
				failed++;
		}
	tap_is_int(tmpl_records, 2, "two template records: web as changed and db (open, the file's, is none)");
	tap_ok(!failed, "every record loaded back (%s)", failed ? err : "none failed");
	tap_ok(cmc_intent_template(back, "web") && cmc_intent_template(back, "web")->rate == 300,
	       "web's new rate came back over the configuration's");
	tap_ok(cmc_intent_template(back, "db") && cmc_intent_template(back, "db")->n_allow == 1 &&
	       cmc_intent_template(back, "db")->vlan == 42, "db came back with its access list");
	tap_ok(cmc_intent_assignment(back, a.slot, a.pf, a.vf) &&
	       !strcmp(cmc_intent_assignment(back, a.slot, a.pf, a.vf)->tmpl, "db"), "vm1 still names db");
	tap_is_int(cmc_intent_load_record(back, "template/bad", "id=3 vlan=0 rate=0 trusted=0 allow=10.1.0.1/16", err,
					  sizeof(err)), -EINVAL, "a stored template with a bad prefix: unreadable");
	free(l);
	cmc_intent_free(in);
	cmc_intent_free(back);
}

static void test_dedicated(void)
{
	struct cmc_intent *in = fresh();
	char err[256];
	const struct cmc_assignment *a = cmc_intent_assignment(in, 3, 0, 1);

	tap_ok(a && a->dedicated && !strcmp(a->blade, "blade3"), "a dedicated slot's VFs are its blade's");
	tap_is_int(cmc_intent_functions(in, "blade3"), 2, "  all of them");
	tap_is_int(cmc_intent_unassign(in, 3, 0, 1, true, err, sizeof(err)), -EPERM, "  and stay so");
	tap_is_int(cmc_intent_port_add(in, 3, 0, 2, NULL), 0, "the card put back");
	tap_is_int(cmc_intent_functions(in, "blade3"), 2, "  the same two, not more");
	cmc_intent_free(in);
}

static void test_store_round_trip(void)
{
	struct cmc_intent *in = fresh(), *back = fresh();
	char err[256], key[CMC_INTENT_KEY_MAX], val[CMC_INTENT_VALUE_MAX];
	struct cmc_lane l;
	struct cmc_assignment ends[2], a = asg(2, 0, 3, "blade2", "02:00:00:00:00:05");
	struct cmc_fdb f = { .slot = 2, .pf = 0, .vf = 3 };
	unsigned loaded = 0, failed = 0;

	a.rate = 250, a.trusted = true;
	(void)!cmc_intent_domain_create(in, "red", 0, NULL, err, sizeof(err));
	(void)!cmc_intent_domain_member(in, "red", "blade2", true, err, sizeof(err));
	(void)!cmc_intent_lane_plan(in, "hv", "blade1", "blade2", -1, -1, &l, ends, err, sizeof(err));
	(void)!cmc_intent_lane_add(in, &l, ends, err, sizeof(err));
	(void)!assign(in, a, err);
	(void)!vb_mac_parse("02:00:00:00:00:06", f.mac);
	(void)!cmc_intent_fdb_add(in, &f, err, sizeof(err));
	/* The loader's order: domains, lanes, roles, assignments, static entries. */
	for (unsigned i = 0; i < cmc_intent_domain_count(in); i++) {
		cmc_intent_domain_record(in, cmc_intent_domain_nth(in, i), key, val);
		cmc_intent_load_record(back, key, val, err, sizeof(err)) ? failed++ : loaded++;
	}
	for (unsigned i = 0; i < cmc_intent_lane_count(in); i++) {
		cmc_intent_lane_record(cmc_intent_lane_nth(in, i), key, val);
		cmc_intent_load_record(back, key, val, err, sizeof(err)) ? failed++ : loaded++;
	}
	for (unsigned i = 0; i < cmc_intent_assignment_count(in); i++) {
		if (cmc_intent_assignment_nth(in, i)->dedicated)
			continue;
		cmc_intent_assignment_record(cmc_intent_assignment_nth(in, i), key, val);
		cmc_intent_load_record(back, key, val, err, sizeof(err)) ? failed++ : loaded++;
	}
	cmc_intent_fdb_record(cmc_intent_fdb_nth(in, 0), key, val);
	cmc_intent_load_record(back, key, val, err, sizeof(err)) ? failed++ : loaded++;
	tap_ok(loaded == 6 && !failed, "every record read back (%u, %u failed: %s)", loaded, failed, failed ? err : "");
	{
		const struct cmc_assignment *b = cmc_intent_assignment(back, 2, 0, 3);
		struct cmc_vf_settings s1, s2;

		tap_ok(b && b->rate == 250 && b->trusted && !strcmp(b->blade, "blade2"), "an assignment as it was");
		cmc_intent_vf_settings(in, 1, 0, 1, &s1);
		cmc_intent_vf_settings(back, 1, 0, 1, &s2);
		tap_ok(!memcmp(&s1, &s2, sizeof(s1)), "a lane's VF has the same settings");
		cmc_intent_vf_settings(back, 2, 0, 3, &s2);
		tap_is_int(s2.vlan, 100, "the domain's VLAN came back with its member");
	}
	/* What a store may hold that is wrong. */
	tap_is_int(cmc_intent_load_record(back, "assign/2/0/9", "blade=blade1 mac=02:00:00:00:01:01 vlan=0 rate=0 "
					  "trusted=0 lane=-", err, sizeof(err)), -EINVAL, "a VF number out of range");
	tap_is_int(cmc_intent_load_record(back, "assign/2/0/x", "blade=blade1", err, sizeof(err)), -EINVAL,
		   "a garbled key");
	tap_is_int(cmc_intent_load_record(back, "assign/2/0/4", "blade=blade1 mac=02:00:00:00:00:05 vlan=0 rate=0 "
					  "trusted=0 lane=-", err, sizeof(err)), -EADDRINUSE,
		   "a MAC another record owns");
	tap_is_int(cmc_intent_load_record(back, "assign/2/0/4", "blade=gone mac=02:00:00:00:01:05 vlan=0 rate=0 "
					  "trusted=0 lane=-", err, sizeof(err)), -ENOENT, "a blade no longer configured");
	tap_is_int(cmc_intent_load_record(back, "assign/4/0/0", "blade=blade1 mac=02:00:00:00:01:06 vlan=0 rate=0 "
					  "trusted=0 lane=- vm=-", err, sizeof(err)), 0,
		   "a port not driven now (a card out) keeps its assignment");
	tap_is_int(cmc_intent_load_record(back, "domain/x", "vlan=1 blades=-", err, sizeof(err)), -EINVAL,
		   "a domain VLAN out of range");
	tap_is_int(cmc_intent_load_record(back, "port/1/0", "role=sideways", err, sizeof(err)), -EINVAL,
		   "an unknown role");
	tap_is_int(cmc_intent_load_record(back, "fdb/2/0/zz", "vf=1", err, sizeof(err)), -EINVAL, "a garbled MAC");
	tap_is_int(cmc_intent_load_record(back, "other/1", "x=1", err, sizeof(err)), -EINVAL, "not the intent's");
	cmc_intent_free(in);
	cmc_intent_free(back);
}

int main(void)
{
	make_config();
	test_assign_rules();
	test_mac_owner();
	test_published_macs();
	test_domains();
	test_lanes();
	test_veb_capacity();
	test_domain_strands_static();
	test_profiles();
	test_profile_capacity();
	test_dedicated();
	test_store_round_trip();
	test_templates();
	test_template_macs();
	test_template_records();
	return tap_done();
}
