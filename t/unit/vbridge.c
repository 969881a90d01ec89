/* SPDX-License-Identifier: MIT */
/*
 * The VEB model: every refusal with the words the admin sees and the model untouched
 * after it, the receive-address and VLAN tables filled to the brim, and the switching
 * decisions VLAN isolation and loopback imply.
 */
#include "vbridge.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static char ERR[256];

/* MACs by name; the tests say which VF each belongs to. */
#define MAC_A "02:cc:00:01:00:01"
#define MAC_B "02:cc:00:01:00:02"
#define MAC_C "02:cc:00:01:00:03"
#define MAC_D "02:cc:00:01:00:04"
#define MAC_E "02:cc:00:01:00:05"
#define MAC_F "02:cc:00:01:00:06"
#define MAC_VM "02:dd:00:00:00:01"
#define MAC_MC "01:00:5e:00:00:01"
#define MAC_BC "ff:ff:ff:ff:ff:ff"

static const uint8_t *mac(const char *s)
{
	static uint8_t ring[8][6];
	static unsigned next;
	uint8_t *m = ring[next++ % 8];

	if (vb_mac_parse(s, m))
		tap_diag("test bug: bad MAC %s", s);
	return m;
}

static struct vb_vf_intent intent(const char *m, uint16_t vlan, bool bcast)
{
	struct vb_vf_intent in;

	memset(&in, 0, sizeof(in));
	memcpy(in.mac, mac(m), 6);
	in.vlan = vlan;
	in.spoofchk = true;
	in.broadcast = bcast;
	return in;
}

static int set(struct vb_port *p, unsigned vf, const char *m, uint16_t vlan)
{
	struct vb_vf_intent in = intent(m, vlan, true);

	ERR[0] = 0;
	return vb_set_vf(p, vf, &in, ERR, sizeof(ERR));
}

static int set_in(struct vb_port *p, unsigned vf, const struct vb_vf_intent *in)
{
	ERR[0] = 0;
	return vb_set_vf(p, vf, in, ERR, sizeof(ERR));
}

static int add(struct vb_port *p, unsigned vf, const char *m, uint16_t vlan)
{
	ERR[0] = 0;
	return vb_fdb_add(p, vf, mac(m), vlan, ERR, sizeof(ERR));
}

static int del(struct vb_port *p, const char *m, uint16_t vlan)
{
	ERR[0] = 0;
	return vb_fdb_del(p, mac(m), vlan, ERR, sizeof(ERR));
}

static struct vb_port *port(const struct vb_limits *lim, unsigned num_vfs)
{
	struct vb_limits igb;
	struct vb_port *p = NULL;

	vb_limits_igb(&igb);
	if (vb_port_new(lim ? lim : &igb, num_vfs, &p))
		tap_diag("test bug: vb_port_new failed");
	return p;
}

/* --- Snapshots: everything the API can see of a port --------------------------------- */

struct snap {
	size_t n;
	struct vb_entry e[VB_FDB_MAX];
	struct vb_usage u;
	int got[VB_MAX_VFS];
	struct vb_vf_intent vf[VB_MAX_VFS];
};

static void take(const struct vb_port *p, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->n = vb_fdb(p, s->e, VB_FDB_MAX);
	vb_usage(p, &s->u);
	for (unsigned i = 0; i < VB_MAX_VFS; i++)
		s->got[i] = vb_get_vf(p, i, &s->vf[i]);
}

/* Field by field: struct copies need not preserve padding. */
static bool entry_eq(const struct vb_entry *a, const struct vb_entry *b)
{
	return memcmp(a->mac, b->mac, 6) == 0 && a->vlan == b->vlan && a->pools == b->pools &&
	       a->kind == b->kind && a->vf == b->vf;
}

static bool intent_eq(const struct vb_vf_intent *a, const struct vb_vf_intent *b)
{
	return memcmp(a->mac, b->mac, 6) == 0 && a->vlan == b->vlan && a->trusted == b->trusted &&
	       a->spoofchk == b->spoofchk && a->broadcast == b->broadcast &&
	       a->multicast == b->multicast && a->rate_mbps == b->rate_mbps;
}

static bool snap_eq(const struct snap *a, const struct snap *b)
{
	if (a->n != b->n || memcmp(&a->u, &b->u, sizeof(a->u)) != 0)
		return false;
	for (size_t i = 0; i < a->n && i < VB_FDB_MAX; i++)
		if (!entry_eq(&a->e[i], &b->e[i]))
			return false;
	for (unsigned i = 0; i < VB_MAX_VFS; i++)
		if (a->got[i] != b->got[i] || (!a->got[i] && !intent_eq(&a->vf[i], &b->vf[i])))
			return false;
	return true;
}

/* One check for one refusal: the errno, the admin's sentence, a model exactly as before. */
static void refused(const struct vb_port *p, const struct snap *before, int rc, int want,
		    const char *msg, const char *what)
{
	struct snap after;
	bool same;

	take(p, &after);
	same = snap_eq(before, &after);
	if (!tap_ok(rc == want && strcmp(ERR, msg) == 0 && same, "%s refused: %s", what,
		    strerror(-want)))
		tap_diag("  got %d '%s'%s, want %d '%s'", rc, ERR, same ? "" : ", model changed",
			 want, msg);
}

/* --- Tests ------------------------------------------------------------------------------ */

static void test_mac_helpers(void)
{
	uint8_t m[6];
	char buf[VB_MAC_STRLEN];
	static const char *const bad[] = {
		"", "02:cc:00:01:00", "zz:cc:00:01:00:02", "02:cc:00:01:00:02:",
		"02-cc-00-01-00-02", "02:cc:00:01:00:2", "02:cc:00:01:00:0g", "2:cc:00:01:00:002",
	};

	tap_ok(vb_mac_parse("02:cc:00:01:00:02", m) == 0 &&
	       strcmp(vb_mac_str(m, buf), "02:cc:00:01:00:02") == 0, "MAC parse/format round trip");
	tap_ok(vb_mac_parse("02:CC:00:01:0A:FF", m) == 0 &&
	       strcmp(vb_mac_str(m, buf), "02:cc:00:01:0a:ff") == 0,
	       "uppercase parses, formats lowercase");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(m, 0x55, 6);
		tap_ok(vb_mac_parse(bad[i], m) == -EINVAL && m[0] == 0x55 && m[5] == 0x55,
		       "'%s' refused, output untouched", bad[i]);
	}
	tap_is_int(vb_mac_parse(NULL, m), -EINVAL, "NULL refused");
	tap_ok(vb_mac_is_unicast(mac(MAC_A)), "02:cc:00:01:00:01 is unicast");
	tap_ok(!vb_mac_is_unicast(mac(MAC_MC)), "01:00:5e:00:00:01 (multicast) is not");
	tap_ok(!vb_mac_is_unicast(mac(MAC_BC)), "broadcast is not");
	tap_ok(!vb_mac_is_unicast(mac("00:00:00:00:00:00")), "all zeros is not");
}

static void test_port_new(void)
{
	struct vb_limits lim, l;
	struct vb_port *p = NULL;
	struct vb_usage u;

	vb_limits_igb(&lim);
	tap_ok(lim.rar_entries == 24 && lim.rar_reserved == 9 && lim.vlan_entries == 32 &&
	       lim.vlan_reserved == 1, "82576 limits: 24 RAR (9 reserved), 32 VLVF (1 reserved)");
	tap_is_int(vb_port_new(&lim, VB_MAX_VFS + 1, &p), -EINVAL, "9 VFs refused");
	l = lim;
	l.rar_reserved = 4;
	tap_is_int(vb_port_new(&l, 4, &p), -EINVAL, "too few reserved RAR entries for 4 primaries");
	l = lim;
	l.vlan_entries = VB_MAX_VLAN_ENTRIES + 1;
	tap_is_int(vb_port_new(&l, 4, &p), -EINVAL, "more VLAN entries than the model holds");
	tap_is_int(vb_port_new(&lim, 4, &p), 0, "4 VFs on an 82576 port");
	vb_usage(p, &u);
	tap_ok(u.rar_used == 0 && u.rar_total == 15 && u.vlan_used == 0 && u.vlan_total == 31 &&
	       u.vfs_used == 0 && u.vfs_total == 4, "empty port: 0/15 RAR, 0/31 VLAN, 0/4 VFs");
	tap_ok(vb_loopback(p), "loopback on by default");
	tap_is_int(vb_fdb(p, NULL, 0), 0, "empty port: empty table");
	vb_port_free(p);
}

static void test_vf_intent(void)
{
	struct vb_port *p = port(NULL, 4);
	struct vb_vf_intent in = intent(MAC_B, 10, true), out;
	struct snap s;

	in.trusted = true;
	in.multicast = true;
	in.rate_mbps = 1000;
	tap_is_int(set_in(p, 1, &in), 0, "VF 1: full intent accepted");
	tap_ok(vb_get_vf(p, 1, &out) == 0 && intent_eq(&in, &out), "VF 1: intent reads back");
	tap_is_int(vb_get_vf(p, 0, &out), -ENOENT, "VF 0: not set up");
	tap_is_int(vb_get_vf(p, 4, &out), -EINVAL, "VF 4: no such VF");
	in.vlan = 4094;
	tap_is_int(set_in(p, 1, &in), 0, "VF 1: replaced, same MAC, VLAN 4094");

	take(p, &s);
	in = intent(MAC_C, 0, true);
	refused(p, &s, set_in(p, 9, &in), -EINVAL, "VF 9: no such VF (4 enabled)", "VF 9");
	in = intent(MAC_MC, 0, true);
	refused(p, &s, set_in(p, 2, &in), -EINVAL,
		"VF 2: MAC 01:00:5e:00:00:01 is multicast, not a unicast address", "multicast MAC");
	in = intent(MAC_BC, 0, true);
	refused(p, &s, set_in(p, 2, &in), -EINVAL,
		"VF 2: MAC ff:ff:ff:ff:ff:ff is the broadcast address, not a unicast address",
		"broadcast MAC");
	in = intent("00:00:00:00:00:00", 0, true);
	refused(p, &s, set_in(p, 2, &in), -EINVAL,
		"VF 2: MAC 00:00:00:00:00:00 is all zeros, not a unicast address", "zero MAC");
	refused(p, &s, set(p, 1, MAC_B, 5000), -EINVAL, "VF 1: VLAN 5000 out of range (1-4094)",
		"VLAN 5000");
	refused(p, &s, set(p, 2, MAC_C, 4095), -EINVAL, "VF 2: VLAN 4095 out of range (1-4094)",
		"VLAN 4095 (reserved)");
	in = intent(MAC_C, 0, true);
	in.rate_mbps = 1001;
	refused(p, &s, set_in(p, 2, &in), -EINVAL,
		"VF 2: rate 1001 Mb/s out of range (1-1000, 0 = unlimited)", "rate 1001");
	refused(p, &s, set(p, 2, MAC_B, 0), -EADDRINUSE,
		"VF 2: MAC 02:cc:00:01:00:02 is already on VF 1", "another VF's MAC");
	tap_is_int(vb_set_vf(p, 2, NULL, NULL, 0), -EINVAL, "NULL intent, no err buffer: -EINVAL");

	tap_is_int(vb_clear_vf(p, 1), 0, "VF 1 cleared");
	tap_is_int(vb_get_vf(p, 1, &out), -ENOENT, "... no longer set up");
	tap_is_int(vb_clear_vf(p, 1), 0, "clearing it again is fine");
	tap_is_int(vb_clear_vf(p, 4), -EINVAL, "clearing VF 4: no such VF");
	tap_is_int(set(p, 2, MAC_B, 0), 0, "its MAC is free for VF 2 now");
	vb_port_free(p);
}

static void test_static_entries(void)
{
	struct vb_port *p = port(NULL, 4);
	struct vb_entry e[VB_FDB_MAX];
	struct snap s;

	set(p, 0, MAC_A, 0);
	set(p, 1, MAC_B, 10);
	take(p, &s);
	refused(p, &s, add(p, 2, MAC_VM, 0), -ENOENT, "VF 2: not set up (no MAC assigned)",
		"static entry on a VF not set up");
	refused(p, &s, add(p, 7, MAC_VM, 0), -EINVAL, "VF 7: no such VF (4 enabled)",
		"static entry on VF 7");
	refused(p, &s, add(p, 0, MAC_MC, 0), -EINVAL,
		"VF 0: MAC 01:00:5e:00:00:01 is multicast, not a unicast address",
		"multicast static");
	refused(p, &s, add(p, 0, MAC_VM, 4095), -EINVAL, "VF 0: VLAN 4095 out of range (1-4094)",
		"static on VLAN 4095");
	refused(p, &s, add(p, 1, MAC_VM, 20), -EINVAL,
		"VF 1: static entry must be on the VF's port VLAN 10, not VLAN 20",
		"static off the VF's port VLAN");
	refused(p, &s, add(p, 1, MAC_VM, 0), -EINVAL,
		"VF 1: static entry must be on the VF's port VLAN 10, not untagged",
		"untagged static for a tagged VF");
	refused(p, &s, add(p, 0, MAC_B, 10), -EADDRINUSE,
		"VF 0: MAC 02:cc:00:01:00:02 is already on VF 1", "static with a primary's MAC");

	tap_is_int(add(p, 1, MAC_VM, 10), 0, "VM MAC behind VF 1 on VLAN 10");
	take(p, &s);
	refused(p, &s, add(p, 0, MAC_VM, 30), -EADDRINUSE,
		"VF 0: MAC 02:dd:00:00:00:01 is already a static entry on VF 1 (VLAN 10)",
		"same MAC on another VLAN");
	refused(p, &s, set(p, 2, MAC_VM, 0), -EADDRINUSE,
		"VF 2: MAC 02:dd:00:00:00:01 is already a static entry on VF 1 (VLAN 10)",
		"a static entry's MAC as a primary");
	refused(p, &s, set(p, 1, MAC_B, 20), -EINVAL,
		"VF 1: port VLAN 20 would strand static entry 02:dd:00:00:00:01 (VLAN 10); delete it first",
		"moving a VF away from its static entries");
	refused(p, &s, del(p, MAC_VM, 20), -ENOENT,
		"no static entry for 02:dd:00:00:00:01, VLAN 20 (it is VLAN 10)",
		"delete on the wrong VLAN");
	refused(p, &s, del(p, MAC_A, 0), -EINVAL,
		"MAC 02:cc:00:01:00:01 is VF 0's own, not a static entry", "delete a primary");
	refused(p, &s, del(p, MAC_F, 0), -ENOENT, "no static entry for 02:cc:00:01:00:06, untagged",
		"delete an unknown MAC");

	tap_is_int(set(p, 0, MAC_A, 30), 0, "an untagged VF without statics may take a port VLAN");
	tap_is_int(set(p, 0, MAC_A, 0), 0, "... and drop it again");
	tap_is_int(add(p, 0, MAC_E, 30), 0, "an untagged VF may trunk VLAN 30 for its VM");
	tap_is_int(vb_fdb(p, e, VB_FDB_MAX), 7,
		   "2 primaries, 2 statics, flood rows for untagged, 10, 30");
	tap_ok(e[2].kind == VB_ENTRY_STATIC && e[2].vf == 1 && e[2].vlan == 10 &&
	       e[3].kind == VB_ENTRY_STATIC && e[3].vf == 0 && e[3].vlan == 30 && e[3].pools == 1,
	       "statics follow the primaries, oldest first");

	tap_is_int(del(p, MAC_VM, 10), 0, "static entry deleted");
	tap_is_int(vb_clear_vf(p, 0), 0, "VF 0 cleared");
	tap_is_int(vb_fdb(p, e, VB_FDB_MAX), 2,
		   "its static entry went with it: VF 1 and its flood row");
	tap_is_int(set(p, 0, MAC_A, 0), 0, "VF 0 back");
	tap_is_int(add(p, 0, MAC_E, 0), 0, "the cleared static's MAC is free again");
	vb_port_free(p);
}

/* The 82576's 15 extra receive-address entries, filled to exactly full. */
static void test_rar_full(void)
{
	struct vb_port *p = port(NULL, 4);
	char m[VB_MAC_STRLEN];
	struct vb_usage u;
	struct snap s;
	int rc = 0;

	set(p, 0, MAC_A, 0);
	set(p, 1, MAC_B, 10);
	for (unsigned i = 0; i < 15 && !rc; i++) {
		snprintf(m, sizeof(m), "02:dd:00:00:00:%02x", i);
		rc = add(p, i % 2, m, i % 2 ? 10 : 0);
	}
	tap_is_int(rc, 0, "15 static entries fit");
	vb_usage(p, &u);
	tap_ok(u.rar_used == 15 && u.rar_total == 15 && u.vlan_used == 1 && u.vfs_used == 2,
	       "usage: 15/15 RAR, 1 VLAN entry, 2 VFs");
	take(p, &s);
	refused(p, &s, add(p, 0, "02:dd:00:00:00:ff", 0), -ENOSPC,
		"VEB full: receive-address entries: 15 of 15 in use", "16th static entry");
	tap_is_int(set(p, 2, MAC_C, 0), 0, "a full extra table still takes a VF's primary");
	tap_is_int(del(p, "02:dd:00:00:00:03", 10), 0, "one deleted");
	tap_is_int(add(p, 0, "02:dd:00:00:00:ff", 0), 0, "... and its entry is free again");
	vb_port_free(p);
}

/* A small VLAN table: 3 entries, 1 for the PF, so 2 VLANs for VFs. */
static void test_vlan_full(void)
{
	struct vb_limits lim = { .rar_entries = 8, .rar_reserved = 5, .vlan_entries = 3,
				 .vlan_reserved = 1 };
	struct vb_port *p = port(&lim, 4);
	struct vb_usage u;
	struct snap s;

	set(p, 0, MAC_A, 10);
	tap_is_int(set(p, 1, MAC_B, 20), 0, "VLANs 10 and 20 take both entries");
	take(p, &s);
	refused(p, &s, set(p, 2, MAC_C, 30), -ENOSPC,
		"VEB full: VLAN filter entries: 3 needed, 2 available", "a third VLAN for a VF");
	tap_is_int(set(p, 2, MAC_C, 10), 0, "VLAN 10 again shares its entry");
	tap_is_int(set(p, 3, MAC_D, 0), 0, "untagged needs no entry");
	take(p, &s);
	refused(p, &s, add(p, 3, MAC_VM, 30), -ENOSPC,
		"VEB full: VLAN filter entries: 3 needed, 2 available",
		"a static entry on a third VLAN");
	tap_is_int(add(p, 3, MAC_VM, 20), 0, "a static entry on VLAN 20 shares its entry");
	tap_is_int(del(p, MAC_VM, 20), 0, "... deleted");
	tap_is_int(set(p, 1, MAC_B, 30), 0, "moving VF 1 from 20 to 30 frees 20 for 30");
	vb_usage(p, &u);
	tap_ok(u.vlan_used == 2 && u.vlan_total == 2, "usage: 2 of 2 VLAN entries");
	tap_ok(add(p, 3, "02:dd:00:00:00:01", 0) == 0 && add(p, 3, "02:dd:00:00:00:02", 0) == 0,
	       "untagged static entries still fit a full VLAN table");
	vb_port_free(p);
}

/*
 * VF 0 (A) and VF 1 (B) on VLAN 10, VF 2 (C) on VLAN 20, VF 3 (D) and VF 4 (F) untagged;
 * VF 3 also carries a VM (VM, static) on VLAN 10. VF 1 refuses broadcasts but takes all
 * multicast.
 */
static struct vb_port *forwarding_port(void)
{
	struct vb_port *p = port(NULL, 5);
	struct vb_vf_intent in = intent(MAC_B, 10, false);

	in.multicast = true;
	if (set(p, 0, MAC_A, 10) || set_in(p, 1, &in) || set(p, 2, MAC_C, 20) ||
	    set(p, 3, MAC_D, 0) || set(p, 4, MAC_F, 0) || add(p, 3, MAC_VM, 10))
		tap_diag("test bug: forwarding port: %s", ERR);
	return p;
}

static void test_fdb(void)
{
	struct vb_port *p = forwarding_port();
	struct vb_entry e[VB_FDB_MAX], few[2] = { 0 };
	struct vb_usage u;
	char m[VB_MAC_STRLEN];
	bool ok = true;

	tap_is_int(vb_fdb(p, e, VB_FDB_MAX), 9, "5 primaries, 1 static, 3 flood rows");
	for (int i = 0; i < 5; i++)
		ok &= e[i].kind == VB_ENTRY_PRIMARY && e[i].vf == i && e[i].pools == 1u << i;
	tap_ok(ok, "primaries first, by VF, each to its own pool");
	tap_ok(strcmp(vb_mac_str(e[1].mac, m), MAC_B) == 0 && e[1].vlan == 10 && e[3].vlan == 0,
	       "primary rows carry the MAC and port VLAN");
	tap_ok(e[5].kind == VB_ENTRY_STATIC && e[5].vf == 3 && e[5].vlan == 10 &&
	       e[5].pools == 1u << 3 && strcmp(vb_mac_str(e[5].mac, m), MAC_VM) == 0,
	       "static row: VM MAC, VLAN 10, pool 3");
	tap_ok(e[6].kind == VB_ENTRY_FLOOD && e[6].vf == -1 && e[6].vlan == 0 &&
	       e[6].pools == (1u << 3 | 1u << 4) && strcmp(vb_mac_str(e[6].mac, m), MAC_BC) == 0,
	       "untagged flood row: pools 3 and 4");
	tap_ok(e[7].kind == VB_ENTRY_FLOOD && e[7].vlan == 10 && e[7].pools == (1u << 0 | 1u << 3),
	       "VLAN 10 flood row: pools 0 and 3 (trunk), not 1 (broadcast off)");
	tap_ok(e[8].kind == VB_ENTRY_FLOOD && e[8].vlan == 20 && e[8].pools == 1u << 2,
	       "VLAN 20 flood row: pool 2");
	tap_ok(vb_fdb(p, few, 2) == 9 && few[1].vf == 1 && few[0].vf == 0,
	       "a short buffer gets the first rows, the total comes back");
	vb_usage(p, &u);
	tap_ok(u.rar_used == 1 && u.rar_total == 15 && u.vlan_used == 2 && u.vlan_total == 31 &&
	       u.vfs_used == 5 && u.vfs_total == 5, "usage: 1/15 RAR, 2/31 VLAN, 5/5 VFs");
	vb_port_free(p);
}

static void fwd(const struct vb_port *p, unsigned src, const char *dst, uint8_t want_pools,
		bool want_wire, const char *what)
{
	bool wire = !want_wire;
	uint8_t pools = vb_forward(p, src, mac(dst), &wire);

	if (!tap_ok(pools == want_pools && wire == want_wire, "%s", what))
		tap_diag("  got pools 0x%02x wire %d, want 0x%02x wire %d", pools, wire, want_pools,
			 want_wire);
}

static void test_forward(void)
{
	struct vb_port *p = forwarding_port();

	fwd(p, 0, MAC_B, 1u << 1, false, "VLAN 10 -> VLAN 10: delivered inside the card");
	fwd(p, 0, MAC_VM, 1u << 3, false, "VLAN 10 -> static VM on VLAN 10: to the trunk VF 3");
	fwd(p, 0, MAC_C, 0, true, "VLAN 10 -> a VF on VLAN 20: not inside, out to the wire");
	fwd(p, 2, MAC_A, 0, true, "VLAN 20 -> a VF on VLAN 10: not inside");
	fwd(p, 3, MAC_F, 1u << 4, false, "untagged -> untagged: delivered");
	fwd(p, 3, MAC_A, 0, true, "untagged -> a tagged VF: isolated");
	fwd(p, 0, MAC_D, 0, true, "tagged -> an untagged VF: isolated");
	fwd(p, 0, "02:ee:00:00:00:01", 0, true, "unknown unicast: to the wire only");
	fwd(p, 0, MAC_A, 0, false, "to the sender's own MAC: nowhere");
	fwd(p, 1, MAC_BC, 1u << 0 | 1u << 3, true, "broadcast on VLAN 10: pools 0, 3 and the wire");
	fwd(p, 0, MAC_BC, 1u << 3, true, "... never to the sender, nor to VF 1 (broadcast off)");
	fwd(p, 2, MAC_BC, 0, true, "broadcast alone on VLAN 20: the wire only");
	fwd(p, 4, MAC_BC, 1u << 3, true, "untagged broadcast: the other untagged VF");
	fwd(p, 0, MAC_MC, 1u << 1, true, "multicast on VLAN 10: the VF taking all multicast");
	fwd(p, 0, MAC_VM, 1u << 3, false, "loopback on");
	vb_set_loopback(p, false);
	tap_ok(!vb_loopback(p), "loopback off");
	fwd(p, 0, MAC_B, 0, true, "loopback off: VF to VF goes out to the wire");
	fwd(p, 0, MAC_BC, 0, true, "loopback off: broadcast only to the wire");
	vb_set_loopback(p, true);
	fwd(p, 0, MAC_B, 1u << 1, false, "loopback back on: delivered inside again");
	tap_is_int(vb_clear_vf(p, 1), 0, "VF 1 cleared");
	fwd(p, 0, MAC_B, 0, true, "its MAC is unknown unicast now");
	fwd(p, 1, MAC_A, 0, false, "a VF not set up sends nothing");
	fwd(p, 7, MAC_A, 0, false, "nor does one that does not exist");
	tap_is_int(vb_forward(p, 0, mac(MAC_B), NULL), 0, "to_wire may be NULL");
	vb_port_free(p);
}

int main(void)
{
	test_mac_helpers();
	test_port_new();
	test_vf_intent();
	test_static_entries();
	test_rar_full();
	test_vlan_full();
	test_fdb();
	test_forward();
	return tap_done();
}
