/* SPDX-License-Identifier: MIT */
/*
 * The VEB model. See vbridge.h for the contract and the card facts.
 *
 * A change that can run out of table space is made on a copy of the port, the copy is
 * checked against the card's tables as a whole, and only then replaces the port: one
 * rule for "an error leaves the model unchanged" instead of an undo path per check.
 * The port is a few hundred bytes, so the copy costs nothing worth saving.
 */
#include "vbridge.h"

#include "errf.h"

#include "hex.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct VLAN ids the model can hold: one per VF plus one per static entry. */
#define MAX_VLAN_IDS (VB_MAX_VFS + VB_MAX_RAR)
#define VLAN_STRLEN 16

struct fdb_static {
	uint8_t mac[6];
	uint16_t vlan;
	unsigned vf;
};

struct vb_port {
	struct vb_limits lim;
	unsigned num_vfs;
	bool loopback;
	bool set[VB_MAX_VFS];		/* VF has an intent */
	struct vb_vf_intent vf[VB_MAX_VFS];
	unsigned n_static;		/* in the order they were added */
	struct fdb_static st[VB_MAX_RAR];
};

static const uint8_t BROADCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define fail cmc_errf

/* --- MAC addresses ------------------------------------------------------------------ */

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

bool vb_mac_is_unicast(const uint8_t mac[6])
{
	return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/* Why mac cannot be a station's address, or NULL if it can. */
static const char *mac_unfit(const uint8_t *mac)
{
	if (mac_eq(mac, BROADCAST))
		return "the broadcast address";
	if (mac[0] & 1)
		return "multicast";
	if (!vb_mac_is_unicast(mac))
		return "all zeros";
	return NULL;
}

int vb_mac_parse(const char *s, uint8_t out[6])
{
	uint8_t mac[6];

	if (!s || !out || strnlen(s, VB_MAC_STRLEN) != VB_MAC_STRLEN - 1)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *c = s + 3 * i;
		int hi = hex_digit(c[0]), lo = hex_digit(c[1]);

		if (hi < 0 || lo < 0 || (i < 5 && c[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, mac, 6);
	return 0;
}

const char *vb_mac_str(const uint8_t mac[6], char buf[VB_MAC_STRLEN])
{
	snprintf(buf, VB_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return buf;
}

static const char *vlan_str(uint16_t vlan, char buf[VLAN_STRLEN])
{
	if (!vlan)
		return "untagged";
	snprintf(buf, VLAN_STRLEN, "VLAN %u", vlan);
	return buf;
}

/* --- Port ---------------------------------------------------------------------------- */

void vb_limits_igb(struct vb_limits *out)
{
	/* RAR 0 is the PF's; Linux igb keeps the top 8 for VF primaries (NIC_MAX_VFS). */
	out->rar_entries = 24;
	out->rar_reserved = 1 + VB_MAX_VFS;
	out->vlan_entries = 32;
	out->vlan_reserved = 1;
}

int vb_port_new(const struct vb_limits *lim, unsigned num_vfs, struct vb_port **out)
{
	struct vb_port *p;

	if (!lim || !out || num_vfs > VB_MAX_VFS || lim->rar_entries > VB_MAX_RAR ||
	    lim->rar_reserved > lim->rar_entries || lim->rar_reserved < 1 + num_vfs ||
	    lim->vlan_entries > VB_MAX_VLAN_ENTRIES || lim->vlan_reserved > lim->vlan_entries)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->lim = *lim;
	p->num_vfs = num_vfs;
	p->loopback = true;
	*out = p;
	return 0;
}

void vb_port_free(struct vb_port *p)
{
	free(p);
}

void vb_set_loopback(struct vb_port *p, bool on)
{
	p->loopback = on;
}

bool vb_loopback(const struct vb_port *p)
{
	return p->loopback;
}

static unsigned rar_avail(const struct vb_port *p)
{
	return p->lim.rar_entries - p->lim.rar_reserved;
}

static unsigned vlan_avail(const struct vb_port *p)
{
	return p->lim.vlan_entries - p->lim.vlan_reserved;
}

/* Adds vlan to the ascending set ids[0..n) and returns its new size. */
static unsigned id_add(uint16_t *ids, unsigned n, uint16_t vlan)
{
	unsigned i = 0;

	while (i < n && ids[i] < vlan)
		i++;
	if (i < n && ids[i] == vlan)
		return n;
	memmove(&ids[i + 1], &ids[i], (n - i) * sizeof(*ids));
	ids[i] = vlan;
	return n + 1;
}

/* The VLANs in use by VFs and static entries, ascending, untagged (0) included. */
static unsigned vlans_in_use(const struct vb_port *p, uint16_t ids[MAX_VLAN_IDS])
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->num_vfs; i++)
		if (p->set[i])
			n = id_add(ids, n, p->vf[i].vlan);
	for (unsigned i = 0; i < p->n_static; i++)
		n = id_add(ids, n, p->st[i].vlan);
	return n;
}

/* One VLAN filter entry per tagged VLAN; untagged traffic needs none. */
static unsigned vlan_entries_used(const struct vb_port *p)
{
	uint16_t ids[MAX_VLAN_IDS];
	unsigned n = vlans_in_use(p, ids);

	return n && ids[0] == 0 ? n - 1 : n;
}

static int check_vlan_fit(const struct vb_port *next, char *err, size_t errlen)
{
	unsigned need = vlan_entries_used(next);

	if (need > vlan_avail(next))
		return fail(err, errlen, -ENOSPC,
			    "VEB full: VLAN filter entries: %u needed, %u available",
			    need, vlan_avail(next));
	return 0;
}

/* --- Checks shared by VFs and static entries ----------------------------------------- */

static int check_vf(const struct vb_port *p, unsigned vf, char *err, size_t errlen)
{
	if (vf >= p->num_vfs)
		return fail(err, errlen, -EINVAL, "VF %u: no such VF (%u enabled)", vf, p->num_vfs);
	return 0;
}

static int check_mac(unsigned vf, const uint8_t *mac, char *err, size_t errlen)
{
	char m[VB_MAC_STRLEN];
	const char *why = mac_unfit(mac);

	if (why)
		return fail(err, errlen, -EINVAL, "VF %u: MAC %s is %s, not a unicast address", vf,
			    vb_mac_str(mac, m), why);
	return 0;
}

static int check_vlan(unsigned vf, uint16_t vlan, char *err, size_t errlen)
{
	if (vlan > VB_VID_MAX)
		return fail(err, errlen, -EINVAL, "VF %u: VLAN %u out of range (1-%u)", vf, vlan,
			    VB_VID_MAX);
	return 0;
}

static int find_static(const struct vb_port *p, const uint8_t *mac)
{
	for (unsigned i = 0; i < p->n_static; i++)
		if (mac_eq(p->st[i].mac, mac))
			return (int)i;
	return -1;
}

static int find_primary(const struct vb_port *p, const uint8_t *mac)
{
	for (unsigned i = 0; i < p->num_vfs; i++)
		if (p->set[i] && mac_eq(p->vf[i].mac, mac))
			return (int)i;
	return -1;
}

/* A MAC appears once in the port, whatever the VLAN: RAR entries match on MAC alone.
 * For vb_set_vf, self is the VF whose primary may be replaced by itself. */
static int check_mac_free(const struct vb_port *p, unsigned vf, const uint8_t *mac, int self,
			  char *err, size_t errlen)
{
	char m[VB_MAC_STRLEN], v[VLAN_STRLEN];
	int owner = find_primary(p, mac), i = find_static(p, mac);

	if (owner >= 0 && owner != self)
		return fail(err, errlen, -EADDRINUSE, "VF %u: MAC %s is already on VF %d", vf,
			    vb_mac_str(mac, m), owner);
	if (i >= 0)
		return fail(err, errlen, -EADDRINUSE,
			    "VF %u: MAC %s is already a static entry on VF %u (%s)",
			    vf, vb_mac_str(mac, m), p->st[i].vf, vlan_str(p->st[i].vlan, v));
	return 0;
}

/* --- VFs ------------------------------------------------------------------------------ */

static int check_intent(unsigned vf, const struct vb_vf_intent *in, char *err, size_t errlen)
{
	int rc = check_mac(vf, in->mac, err, errlen);

	if (rc)
		return rc;
	rc = check_vlan(vf, in->vlan, err, errlen);
	if (rc)
		return rc;
	if (in->rate_mbps > VB_RATE_MAX_MBPS)
		return fail(err, errlen, -EINVAL,
			    "VF %u: rate %u Mb/s out of range (1-%u, 0 = unlimited)",
			    vf, in->rate_mbps, VB_RATE_MAX_MBPS);
	return 0;
}

/* A VF on a port VLAN only sees that VLAN, so its static entries must be on it too. */
static int check_statics_follow(const struct vb_port *p, unsigned vf, uint16_t vlan, char *err,
				size_t errlen)
{
	char m[VB_MAC_STRLEN], v[VLAN_STRLEN];

	for (unsigned i = 0; vlan && i < p->n_static; i++) {
		const struct fdb_static *s = &p->st[i];

		if (s->vf == vf && s->vlan != vlan)
			return fail(err, errlen, -EINVAL,
				    "VF %u: port VLAN %u would strand static entry %s (%s); delete it first",
				    vf, vlan, vb_mac_str(s->mac, m), vlan_str(s->vlan, v));
	}
	return 0;
}

int vb_set_vf(struct vb_port *p, unsigned vf, const struct vb_vf_intent *in, char *err,
	      size_t errlen)
{
	struct vb_port next;
	int rc;

	if (!p || !in)
		return fail(err, errlen, -EINVAL, "no VF intent given");
	rc = check_vf(p, vf, err, errlen);
	if (!rc)
		rc = check_intent(vf, in, err, errlen);
	if (!rc)
		rc = check_mac_free(p, vf, in->mac, (int)vf, err, errlen);
	if (!rc)
		rc = check_statics_follow(p, vf, in->vlan, err, errlen);
	if (rc)
		return rc;
	next = *p;
	next.set[vf] = true;
	next.vf[vf] = *in;
	rc = check_vlan_fit(&next, err, errlen);
	if (rc)
		return rc;
	*p = next;
	return 0;
}

static void static_remove(struct vb_port *p, unsigned i)
{
	memmove(&p->st[i], &p->st[i + 1], (p->n_static - i - 1) * sizeof(p->st[0]));
	p->n_static--;
}

int vb_clear_vf(struct vb_port *p, unsigned vf)
{
	if (!p || vf >= p->num_vfs)
		return -EINVAL;
	/* The entries point at the VF's pool; left behind they would feed a VF nobody set. */
	for (unsigned i = p->n_static; i-- > 0;)
		if (p->st[i].vf == vf)
			static_remove(p, i);
	p->set[vf] = false;
	memset(&p->vf[vf], 0, sizeof(p->vf[vf]));
	return 0;
}

int vb_get_vf(const struct vb_port *p, unsigned vf, struct vb_vf_intent *out)
{
	if (!p || !out || vf >= p->num_vfs)
		return -EINVAL;
	if (!p->set[vf])
		return -ENOENT;
	*out = p->vf[vf];
	return 0;
}

/* --- Static entries ------------------------------------------------------------------- */

int vb_fdb_add(struct vb_port *p, unsigned vf, const uint8_t mac[6], uint16_t vlan, char *err,
	       size_t errlen)
{
	char v[VLAN_STRLEN];
	struct vb_port next;
	int rc;

	if (!p || !mac)
		return fail(err, errlen, -EINVAL, "no MAC given");
	rc = check_vf(p, vf, err, errlen);
	if (rc)
		return rc;
	if (!p->set[vf])
		return fail(err, errlen, -ENOENT, "VF %u: not set up (no MAC assigned)", vf);
	rc = check_mac(vf, mac, err, errlen);
	if (!rc)
		rc = check_vlan(vf, vlan, err, errlen);
	if (rc)
		return rc;
	if (p->vf[vf].vlan && vlan != p->vf[vf].vlan)
		return fail(err, errlen, -EINVAL,
			    "VF %u: static entry must be on the VF's port VLAN %u, not %s",
			    vf, p->vf[vf].vlan, vlan_str(vlan, v));
	rc = check_mac_free(p, vf, mac, -1, err, errlen);
	if (rc)
		return rc;
	if (p->n_static >= rar_avail(p))
		return fail(err, errlen, -ENOSPC,
			    "VEB full: receive-address entries: %u of %u in use",
			    p->n_static, rar_avail(p));
	next = *p;
	memcpy(next.st[next.n_static].mac, mac, 6);
	next.st[next.n_static].vlan = vlan;
	next.st[next.n_static].vf = vf;
	next.n_static++;
	rc = check_vlan_fit(&next, err, errlen);
	if (rc)
		return rc;
	*p = next;
	return 0;
}

int vb_fdb_del(struct vb_port *p, const uint8_t mac[6], uint16_t vlan, char *err, size_t errlen)
{
	char m[VB_MAC_STRLEN], v[VLAN_STRLEN], w[VLAN_STRLEN];
	int i, owner;

	if (!p || !mac)
		return fail(err, errlen, -EINVAL, "no MAC given");
	i = find_static(p, mac);
	if (i >= 0 && p->st[i].vlan == vlan) {
		static_remove(p, (unsigned)i);
		return 0;
	}
	vb_mac_str(mac, m);
	if (i >= 0)
		return fail(err, errlen, -ENOENT, "no static entry for %s, %s (it is %s)", m,
			    vlan_str(vlan, v), vlan_str(p->st[i].vlan, w));
	owner = find_primary(p, mac);
	if (owner >= 0)
		return fail(err, errlen, -EINVAL, "MAC %s is VF %d's own, not a static entry", m,
			    owner);
	return fail(err, errlen, -ENOENT, "no static entry for %s, %s", m, vlan_str(vlan, v));
}

/* --- Reading the model ------------------------------------------------------------------ */

/* The VLVF pool bits of vlan (for untagged: the untagged VFs): VFs on it as their port
 * VLAN and VFs with static entries on it. */
static uint8_t vlan_pools(const struct vb_port *p, uint16_t vlan)
{
	uint8_t pools = 0;

	for (unsigned i = 0; i < p->num_vfs; i++)
		if (p->set[i] && p->vf[i].vlan == vlan)
			pools |= (uint8_t)(1u << i);
	for (unsigned i = 0; i < p->n_static; i++)
		if (p->st[i].vlan == vlan)
			pools |= (uint8_t)(1u << p->st[i].vf);
	return pools;
}

/* Those of pools whose VF accepts broadcasts (or, !bcast, all multicast). */
static uint8_t accepting(const struct vb_port *p, uint8_t pools, bool bcast)
{
	for (unsigned i = 0; i < p->num_vfs; i++)
		if (!(bcast ? p->vf[i].broadcast : p->vf[i].multicast))
			pools &= (uint8_t)~(1u << i);
	return pools;
}

static void put(struct vb_entry *out, size_t max, size_t *n, const uint8_t *mac, uint16_t vlan,
		uint8_t pools, enum vb_entry_kind kind, int vf)
{
	if (*n < max) {
		memcpy(out[*n].mac, mac, 6);
		out[*n].vlan = vlan;
		out[*n].pools = pools;
		out[*n].kind = kind;
		out[*n].vf = vf;
	}
	(*n)++;
}

size_t vb_fdb(const struct vb_port *p, struct vb_entry *out, size_t max)
{
	uint16_t ids[MAX_VLAN_IDS];
	unsigned n_ids = vlans_in_use(p, ids);
	size_t n = 0;

	for (unsigned i = 0; i < p->num_vfs; i++)
		if (p->set[i])
			put(out, max, &n, p->vf[i].mac, p->vf[i].vlan, (uint8_t)(1u << i),
			    VB_ENTRY_PRIMARY, (int)i);
	for (unsigned i = 0; i < p->n_static; i++)
		put(out, max, &n, p->st[i].mac, p->st[i].vlan, (uint8_t)(1u << p->st[i].vf),
		    VB_ENTRY_STATIC, (int)p->st[i].vf);
	for (unsigned i = 0; i < n_ids; i++)
		put(out, max, &n, BROADCAST, ids[i], accepting(p, vlan_pools(p, ids[i]), true),
		    VB_ENTRY_FLOOD, -1);
	return n;
}

void vb_usage(const struct vb_port *p, struct vb_usage *out)
{
	memset(out, 0, sizeof(*out));
	out->rar_used = p->n_static;
	out->rar_total = rar_avail(p);
	out->vlan_used = vlan_entries_used(p);
	out->vlan_total = vlan_avail(p);
	for (unsigned i = 0; i < p->num_vfs; i++)
		out->vfs_used += p->set[i];
	out->vfs_total = p->num_vfs;
}

/* The pool a unicast (dst, vlan) lands in, 0 if none: the RAR match, then the VLVF
 * membership, which the (MAC, VLAN) key of primaries and static entries encodes. */
static uint8_t lookup(const struct vb_port *p, const uint8_t *dst, uint16_t vlan)
{
	for (unsigned i = 0; i < p->num_vfs; i++)
		if (p->set[i] && p->vf[i].vlan == vlan && mac_eq(p->vf[i].mac, dst))
			return (uint8_t)(1u << i);
	for (unsigned i = 0; i < p->n_static; i++)
		if (p->st[i].vlan == vlan && mac_eq(p->st[i].mac, dst))
			return (uint8_t)(1u << p->st[i].vf);
	return 0;
}

uint8_t vb_forward(const struct vb_port *p, unsigned src_vf, const uint8_t dst[6], bool *to_wire)
{
	uint8_t self, pools = 0;
	uint16_t vlan;
	bool wire = false;

	if (!p || !dst || src_vf >= p->num_vfs || !p->set[src_vf])
		goto out;
	self = (uint8_t)(1u << src_vf);
	vlan = p->vf[src_vf].vlan;
	if (!p->loopback) {
		wire = true;
	} else if (dst[0] & 1) {
		/* Group addresses go out and to every other pool of the VLAN that takes them. */
		wire = true;
		pools = accepting(p, vlan_pools(p, vlan), mac_eq(dst, BROADCAST)) & (uint8_t)~self;
	} else {
		/* Unicast the card knows stays inside; to the sender itself it goes nowhere. */
		pools = lookup(p, dst, vlan);
		wire = !pools;
		pools &= (uint8_t)~self;
	}
out:
	if (to_wire)
		*to_wire = wire;
	return pools;
}
