/* SPDX-License-Identifier: MIT */
/*
 * The chassis' intent: tables of what was asked for, the rules every change must keep,
 * and the one owner of the chassis' MACs (intent.h). Pure: no I/O, no callbacks.
 *
 * A change is made on a scratch copy of the whole intent (a few tens of KiB), the copy is
 * checked (the rules that name the change, then each port's bridge model built afresh
 * from the copy), and only a copy that passes replaces the intent. So every change is
 * all or nothing, and the checks read the intent exactly as it would be.
 */
#include "intent.h"
#include "intent-private.h"

#include "errf.h"
#include "macs.h"
#include "nic.h"
#include "sprofile.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct port {
	unsigned slot, pf, num_vfs;
	uint8_t pf_mac[6];
};

struct role {
	unsigned slot, pf;
	enum cmc_port_role role;
};

struct tmpl {
	struct cmc_template t;
	bool stored;			/* the administrator's (a record), not the file's */
};

struct cmc_intent {
	const struct cmc_config *cfg;
	uint32_t chassis_id;
	unsigned n_ports, n_assign, n_dom, n_lanes, n_roles, n_fdb, n_tmpl;
	struct port ports[CMC_INTENT_PORT_MAX];
	struct cmc_assignment assign[CMC_INTENT_ASSIGN_MAX];
	struct cmc_domain dom[CMC_INTENT_DOMAIN_MAX];
	struct cmc_lane lanes[CMC_INTENT_LANE_MAX];
	struct role roles[CMC_INTENT_ROLE_MAX];
	struct cmc_fdb fdb[CMC_INTENT_FDB_MAX];
	struct tmpl tmpl[CMC_INTENT_TEMPLATE_MAX];
	unsigned n_sp;				/* server profiles (sprofile.c) */
	struct cmc_sprofile sp[CMC_SPROFILE_MAX];
};

#define say cmc_errf

static bool mac_zero(const uint8_t m[6])
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* --- Life and facts ----------------------------------------------------------------- */

int cmc_intent_new(const struct cmc_config *cfg, uint32_t chassis_id, struct cmc_intent **out)
{
	struct cmc_intent *in;

	*out = NULL;
	if (!cfg || !chassis_id || chassis_id > CMC_CHASSIS_ID_MAX)
		return -EINVAL;
	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->cfg = cfg;
	in->chassis_id = chassis_id;
	/* The configuration's templates, checked there already. */
	for (unsigned i = 0; i < cfg->template_count && i < CMC_INTENT_TEMPLATE_MAX; i++)
		in->tmpl[in->n_tmpl++].t = cfg->templates[i].t;
	*out = in;
	return 0;
}

void cmc_intent_free(struct cmc_intent *in)
{
	free(in);
}

int cmc_intent_dup(const struct cmc_intent *in, struct cmc_intent **out)
{
	*out = malloc(sizeof(**out));
	if (!*out)
		return -ENOMEM;
	**out = *in;
	return 0;
}

void cmc_intent_restore(struct cmc_intent *in, const struct cmc_intent *from)
{
	*in = *from;
}

unsigned cmc_intent_port_count(const struct cmc_intent *in)
{
	return in->n_ports;
}

int cmc_intent_port_nth(const struct cmc_intent *in, unsigned i, unsigned *slot, unsigned *pf,
			unsigned *num_vfs)
{
	if (i >= in->n_ports)
		return -ENOENT;
	*slot = in->ports[i].slot;
	*pf = in->ports[i].pf;
	*num_vfs = in->ports[i].num_vfs;
	return 0;
}

static int port_index(const struct cmc_intent *in, unsigned slot, unsigned pf)
{
	for (unsigned i = 0; i < in->n_ports; i++)
		if (in->ports[i].slot == slot && in->ports[i].pf == pf)
			return (int)i;
	return -1;
}

static const struct port *find_port(const struct cmc_intent *in, unsigned slot, unsigned pf)
{
	int i = port_index(in, slot, pf);

	return i < 0 ? NULL : &in->ports[i];
}

bool cmc_intent_port(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned *num_vfs)
{
	const struct port *p = find_port(in, slot, pf);

	if (p && num_vfs)
		*num_vfs = p->num_vfs;
	return p != NULL;
}

const char *cmc_intent_blade_name(const struct cmc_intent *in, unsigned i)
{
	return i < in->cfg->blade_count ? in->cfg->blades[i].name : NULL;
}

int cmc_intent_blade_index(const struct cmc_intent *in, const char *blade)
{
	for (unsigned i = 0; i < in->cfg->blade_count; i++)
		if (strcmp(in->cfg->blades[i].name, blade) == 0)
			return (int)i;
	return -1;
}

enum cmc_port_role cmc_intent_role(const struct cmc_intent *in, unsigned slot, unsigned pf)
{
	const struct cmc_config_slot *cs = cmc_config_slot_by_number(in->cfg, slot);

	for (unsigned i = 0; i < in->n_roles; i++)
		if (in->roles[i].slot == slot && in->roles[i].pf == pf)
			return in->roles[i].role;
	for (unsigned i = 0; cs && i < cs->port_count; i++)
		if (cs->ports[i].pf == pf)
			return cs->ports[i].role;
	return CMC_PORT_UPLINK;
}

/* --- Reading ------------------------------------------------------------------------ */

unsigned cmc_intent_assignment_count(const struct cmc_intent *in) { return in->n_assign; }
unsigned cmc_intent_domain_count(const struct cmc_intent *in) { return in->n_dom; }
unsigned cmc_intent_lane_count(const struct cmc_intent *in) { return in->n_lanes; }
unsigned cmc_intent_fdb_count(const struct cmc_intent *in) { return in->n_fdb; }

const struct cmc_assignment *cmc_intent_assignment_nth(const struct cmc_intent *in, unsigned i)
{
	return i < in->n_assign ? &in->assign[i] : NULL;
}

const struct cmc_domain *cmc_intent_domain_nth(const struct cmc_intent *in, unsigned i)
{
	return i < in->n_dom ? &in->dom[i] : NULL;
}

const struct cmc_lane *cmc_intent_lane_nth(const struct cmc_intent *in, unsigned i)
{
	return i < in->n_lanes ? &in->lanes[i] : NULL;
}

const struct cmc_fdb *cmc_intent_fdb_nth(const struct cmc_intent *in, unsigned i)
{
	return i < in->n_fdb ? &in->fdb[i] : NULL;
}

static int assign_index(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf)
{
	for (unsigned i = 0; i < in->n_assign; i++)
		if (in->assign[i].slot == slot && in->assign[i].pf == pf && in->assign[i].vf == vf)
			return (int)i;
	return -1;
}

const struct cmc_assignment *cmc_intent_assignment(const struct cmc_intent *in, unsigned slot,
						   unsigned pf, unsigned vf)
{
	int i = assign_index(in, slot, pf, vf);

	return i < 0 ? NULL : &in->assign[i];
}

const struct cmc_domain *cmc_intent_domain(const struct cmc_intent *in, const char *name)
{
	for (unsigned i = 0; i < in->n_dom; i++)
		if (strcmp(in->dom[i].name, name) == 0)
			return &in->dom[i];
	return NULL;
}

const struct cmc_domain *cmc_intent_domain_of_blade(const struct cmc_intent *in, const char *blade)
{
	int bi = cmc_intent_blade_index(in, blade);

	for (unsigned i = 0; bi >= 0 && i < in->n_dom; i++)
		if (in->dom[i].members & (1ull << bi))
			return &in->dom[i];
	return NULL;
}

static const struct cmc_domain *domain_of_vlan(const struct cmc_intent *in, uint16_t vlan)
{
	for (unsigned i = 0; i < in->n_dom; i++)
		if (in->dom[i].vlan == vlan)
			return &in->dom[i];
	return NULL;
}

const struct cmc_lane *cmc_intent_lane(const struct cmc_intent *in, const char *name)
{
	for (unsigned i = 0; i < in->n_lanes; i++)
		if (strcmp(in->lanes[i].name, name) == 0)
			return &in->lanes[i];
	return NULL;
}

int cmc_intent_lane_ends(const struct cmc_intent *in, const char *name,
			 const struct cmc_assignment *ends[2])
{
	ends[0] = ends[1] = NULL;
	for (unsigned i = 0; i < in->n_assign; i++) {
		const struct cmc_assignment *a = &in->assign[i];

		if (strcmp(a->lane, name) != 0)
			continue;
		if (!ends[0] || a->vf < ends[0]->vf) {
			ends[1] = ends[0];
			ends[0] = a;
		} else {
			ends[1] = a;
		}
	}
	return ends[0] ? 0 : -ENOENT;
}

const struct cmc_assignment *cmc_intent_service(const struct cmc_intent *in, const char *domain)
{
	for (unsigned i = 0; i < in->n_assign; i++)
		if (strcmp(in->assign[i].service, domain) == 0)
			return &in->assign[i];
	return NULL;
}

const struct cmc_fdb *cmc_intent_fdb(const struct cmc_intent *in, unsigned slot, unsigned pf,
				     const uint8_t mac[6])
{
	for (unsigned i = 0; i < in->n_fdb; i++)
		if (in->fdb[i].slot == slot && in->fdb[i].pf == pf && memcmp(in->fdb[i].mac, mac, 6) == 0)
			return &in->fdb[i];
	return NULL;
}

uint16_t cmc_intent_vlan_of(const struct cmc_intent *in, const struct cmc_assignment *a)
{
	const struct cmc_lane *l = a->lane[0] ? cmc_intent_lane(in, a->lane) : NULL;
	const struct cmc_domain *d;

	if (l)
		return l->vlan;
	if (a->service[0]) {
		d = cmc_intent_domain(in, a->service);
		return d ? d->vlan : 0;
	}
	if (a->vlan)
		return a->vlan;
	d = cmc_intent_domain_of_blade(in, a->blade);
	return d ? d->vlan : 0;
}

void cmc_intent_vf_settings(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf,
			    struct cmc_vf_settings *out)
{
	const struct cmc_assignment *a = cmc_intent_assignment(in, slot, pf, vf);

	*out = (struct cmc_vf_settings){ .spoofchk = true };
	if (!a) {
		if (cmc_mac_vf_default(in->chassis_id, slot, pf, vf, out->mac) < 0)
			memset(out->mac, 0, 6);
		return;
	}
	memcpy(out->mac, a->mac, 6);
	out->vlan = cmc_intent_vlan_of(in, a);
	out->rate = a->rate;
	out->trusted = a->trusted;
	out->spoofchk = !a->trusted;
	out->assigned = true;
}

unsigned cmc_intent_functions(const struct cmc_intent *in, const char *blade)
{
	unsigned n = 0;

	for (unsigned i = 0; i < in->n_assign; i++)
		n += strcmp(in->assign[i].blade, blade) == 0;
	return n;
}

/* --- MAC ownership ------------------------------------------------------------------ */

void cmc_intent_mac_owner(const struct cmc_intent *in, const uint8_t mac[6], struct cmc_mac_owner *out)
{
	*out = (struct cmc_mac_owner){ .kind = CMC_MAC_FREE, .vf = -1 };
	for (unsigned i = 0; i < in->n_assign; i++) {
		const struct cmc_assignment *a = &in->assign[i];

		if (memcmp(a->mac, mac, 6) == 0) {
			*out = (struct cmc_mac_owner){ .kind = CMC_MAC_VF, .slot = a->slot, .pf = a->pf,
						       .vf = (int)a->vf, .blade = a->blade };
			return;
		}
	}
	for (unsigned i = 0; i < in->n_fdb; i++)
		if (memcmp(in->fdb[i].mac, mac, 6) == 0) {
			*out = (struct cmc_mac_owner){ .kind = CMC_MAC_STATIC, .slot = in->fdb[i].slot,
						       .pf = in->fdb[i].pf, .vf = (int)in->fdb[i].vf };
			return;
		}
	for (unsigned i = 0; i < in->n_ports; i++)
		if (!mac_zero(in->ports[i].pf_mac) && memcmp(in->ports[i].pf_mac, mac, 6) == 0) {
			*out = (struct cmc_mac_owner){ .kind = CMC_MAC_PF, .slot = in->ports[i].slot,
						       .pf = in->ports[i].pf, .vf = -1 };
			return;
		}
	if (cmc_mac_in_pool(in->chassis_id, mac)) {
		out->kind = CMC_MAC_POOL;
		return;
	}
	if (cmc_mac_in_chassis_range(in->chassis_id, mac)) {
		out->kind = CMC_MAC_DEFAULT;
		out->slot = mac[4];
		out->pf = mac[5] >> 5;
		out->vf = mac[5] & 0x1f;
	}
}

static const char *owner_str(const struct cmc_mac_owner *o, char *buf, size_t len)
{
	switch (o->kind) {
	case CMC_MAC_VF:
		snprintf(buf, len, "slot %u pf %u vf %d's (%s)", o->slot, o->pf, o->vf, o->blade);
		break;
	case CMC_MAC_STATIC:
		snprintf(buf, len, "a static entry's (slot %u pf %u vf %d)", o->slot, o->pf, o->vf);
		break;
	case CMC_MAC_PF:
		snprintf(buf, len, "the address of slot %u pf %u", o->slot, o->pf);
		break;
	case CMC_MAC_DEFAULT:
		snprintf(buf, len, "in the chassis' own range, kept for the VFs' defaults");
		break;
	case CMC_MAC_POOL:
		snprintf(buf, len, "in the chassis' pool, kept for server profiles");
		break;
	case CMC_MAC_FREE:
		snprintf(buf, len, "nobody's");
		break;
	}
	return buf;
}

int cmc_intent_mac_free_for(const struct cmc_intent *in, const uint8_t mac[6], unsigned slot,
			    unsigned pf, unsigned vf, char *err, size_t errlen)
{
	struct cmc_mac_owner o;
	char ms[VB_MAC_STRLEN], os[128];

	if (!vb_mac_is_unicast(mac))
		return say(err, errlen, -EINVAL, "%s is not a unicast MAC address", vb_mac_str(mac, ms));
	cmc_intent_mac_owner(in, mac, &o);
	if (o.kind == CMC_MAC_FREE)
		return 0;
	if ((o.kind == CMC_MAC_VF || o.kind == CMC_MAC_DEFAULT) && o.slot == slot && o.pf == pf &&
	    o.vf == (int)vf)
		return 0;
	return say(err, errlen, -EADDRINUSE, "MAC %s is %s", vb_mac_str(mac, ms), owner_str(&o, os, sizeof(os)));
}

void cmc_intent_foreach_mac(const struct cmc_intent *in, cmc_intent_mac_fn fn, void *arg)
{
	for (unsigned i = 0; i < in->n_assign; i++)
		fn(arg, in->assign[i].mac, in->assign[i].slot, in->assign[i].pf, (int)in->assign[i].vf, false);
	for (unsigned i = 0; i < in->n_fdb; i++)
		fn(arg, in->fdb[i].mac, in->fdb[i].slot, in->fdb[i].pf, -1, false);
	for (unsigned i = 0; i < in->n_ports; i++)
		if (!mac_zero(in->ports[i].pf_mac))
			fn(arg, in->ports[i].pf_mac, in->ports[i].slot, in->ports[i].pf, -1, true);
}

/* --- The ports' bridges -------------------------------------------------------------- */

/*
 * Builds slot/pf's bridge model from the intent as it stands (every VF at its settings,
 * every static entry on its VF's VLAN) and says whether the card could hold it.
 */
static int port_fits(const struct cmc_intent *in, const struct port *p, char *err, size_t errlen)
{
	struct vb_limits lim;
	struct vb_port *vb;
	char sub[200];
	int rc;

	vb_limits_igb(&lim);
	/* As the cards hold it: static entries get NIC_STATIC_FDB_MAX receive addresses; the
	 * driver keeps the other spare ones for the VFs' own requests (cards.c). */
	lim.rar_reserved = lim.rar_entries - NIC_STATIC_FDB_MAX;
	rc = vb_port_new(&lim, p->num_vfs, &vb);
	if (rc)
		return say(err, errlen, rc, "slot %u pf %u: no model of its bridge", p->slot, p->pf);
	for (unsigned vf = 0; vf < p->num_vfs && !rc; vf++) {
		struct cmc_vf_settings s;
		struct vb_vf_intent vi;

		cmc_intent_vf_settings(in, p->slot, p->pf, vf, &s);
		vi = (struct vb_vf_intent){ .vlan = s.vlan, .trusted = s.trusted, .spoofchk = s.spoofchk,
					    .broadcast = true, .multicast = true, .rate_mbps = s.rate };
		memcpy(vi.mac, s.mac, 6);
		rc = vb_set_vf(vb, vf, &vi, sub, sizeof(sub));
	}
	for (unsigned i = 0; i < in->n_fdb && !rc; i++) {
		const struct cmc_fdb *f = &in->fdb[i];
		struct cmc_vf_settings s;

		if (f->slot != p->slot || f->pf != p->pf)
			continue;
		cmc_intent_vf_settings(in, f->slot, f->pf, f->vf, &s);
		rc = vb_fdb_add(vb, f->vf, f->mac, s.vlan, sub, sizeof(sub));
	}
	vb_port_free(vb);
	if (rc)
		return say(err, errlen, rc, "slot %u pf %u's bridge cannot hold it: %s", p->slot, p->pf, sub);
	return 0;
}

/* Every port's bridge (a domain change touches VFs on any card). */
static int ports_fit(const struct cmc_intent *in, char *err, size_t errlen)
{
	for (unsigned i = 0; i < in->n_ports; i++) {
		int rc = port_fits(in, &in->ports[i], err, errlen);

		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The scratch copy a change is made on; replaces `in` only if `rc` is 0. The copy is
 * large (the whole intent), so it lives on the heap.
 */
static struct cmc_intent *scratch(const struct cmc_intent *in)
{
	struct cmc_intent *t = malloc(sizeof(*t));

	if (t)
		*t = *in;
	return t;
}

/*
 * A static entry sits on its VF's VLAN as it was when the entry was made (the card
 * filters the pool by it): a change that moves a VF with static entries to another
 * VLAN would strand them, so it is refused.
 */
static int statics_stay(const struct cmc_intent *in, const struct cmc_intent *t, char *err, size_t errlen)
{
	for (unsigned i = 0; i < t->n_fdb; i++) {
		const struct cmc_fdb *f = &t->fdb[i];
		struct cmc_vf_settings was, now;
		char ms[VB_MAC_STRLEN];

		cmc_intent_vf_settings(in, f->slot, f->pf, f->vf, &was);
		cmc_intent_vf_settings(t, f->slot, f->pf, f->vf, &now);
		if (was.vlan != now.vlan && cmc_intent_fdb(in, f->slot, f->pf, f->mac))
			return say(err, errlen, -EINVAL, "slot %u pf %u vf %u would move from VLAN %u to %u, "
				   "stranding its static entry %s: remove it first", f->slot, f->pf, f->vf,
				   was.vlan, now.vlan, vb_mac_str(f->mac, ms));
	}
	return 0;
}

/* The change made on t replaces in if it passed (rc 0) and strands no static entry. */
static int finish_checked(struct cmc_intent *in, struct cmc_intent *t, int rc, char *err, size_t errlen)
{
	if (!rc)
		rc = statics_stay(in, t, err, errlen);
	if (!rc)
		*in = *t;
	free(t);
	return rc;
}
#define finish(in, t, rc) finish_checked(in, t, rc, err, errlen)

/* --- Assignments -------------------------------------------------------------------- */

static bool name_ok(const char *s, size_t max, bool underscore)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      (s[i] >= 'A' && s[i] <= 'Z') || (underscore && s[i] == '_')))
			return false;
	return true;
}

static void blade_list(const struct cmc_intent *in, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < in->cfg->blade_count && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", in->cfg->blades[i].name);
}

static int check_blade(const struct cmc_intent *in, const char *blade, char *err, size_t errlen)
{
	char known[512];

	if (cmc_intent_blade_index(in, blade) >= 0)
		return 0;
	blade_list(in, known, sizeof(known));
	return say(err, errlen, -ENOENT, "no blade '%.32s' in this chassis (blades: %s)", blade, known);
}

static bool dedicated_slot(const struct cmc_intent *in, unsigned slot)
{
	const struct cmc_config_slot *cs = cmc_config_slot_by_number(in->cfg, slot);

	return cs && cs->policy == CMC_SLOT_DEDICATED;
}

/*
 * A domain service's VF: the domain has a service, the VF is its only one, its blade is
 * "dhcp-" DOMAIN (no configured blade's name), it asks for no VLAN of its own and is
 * nothing else's.
 */
static int check_service(const struct cmc_intent *t, const struct cmc_assignment *a, int self, char *err,
			 size_t errlen)
{
	const struct cmc_domain *d = cmc_intent_domain(t, a->service);
	const struct cmc_assignment *o = cmc_intent_service(t, a->service);
	char want[CMC_CONFIG_NAME_MAX + 1];

	snprintf(want, sizeof(want), CMC_DHCP_BLADE_PREFIX "%s", a->service);
	if (!d || !d->dhcp.on)
		return say(err, errlen, -ENOENT, "domain '%s' has no configuration service", a->service);
	if (o && (self < 0 || o != &t->assign[self]))
		return say(err, errlen, -EEXIST, "domain %s's service has slot %u pf %u vf %u already", a->service,
			   o->slot, o->pf, o->vf);
	if (strcmp(a->blade, want) != 0 || cmc_intent_blade_index(t, want) >= 0)
		return say(err, errlen, -EEXIST, "the service of domain %s runs as %s, %s", a->service, want,
			   cmc_intent_blade_index(t, want) >= 0 ? "which is a blade's name" : "not as that");
	if (a->vlan || a->lane[0] || a->vm[0] || a->dedicated)
		return say(err, errlen, -EINVAL, "domain %s's service VF is on the domain's VLAN and nothing else's",
			   a->service);
	return 0;
}

/*
 * The rules of one assignment against everything else in t (which may already hold
 * it: `self` is its index there, or -1). `loading`: the port need not be known yet (a
 * card absent at start keeps its intent).
 */
static int check_one(const struct cmc_intent *t, const struct cmc_assignment *a, int self,
		     bool loading, char *err, size_t errlen)
{
	unsigned n;
	int rc, other = assign_index(t, a->slot, a->pf, a->vf);

	rc = a->service[0] ? check_service(t, a, self, err, errlen) : check_blade(t, a->blade, err, errlen);
	if (rc)
		return rc;
	if (!find_port(t, a->slot, a->pf) && !loading)
		return say(err, errlen, -ENOENT, "slot %u pf %u is not driven by cmcd, no VFs to assign there (it drives"
			   " a card that is there, in a slot the configuration gives vfs > 0)",
			   a->slot, a->pf);
	if (cmc_intent_port(t, a->slot, a->pf, &n) && a->vf >= n)
		return say(err, errlen, -ENOENT, "no VF %u on slot %u pf %u (%u enabled)", a->vf, a->slot, a->pf, n);
	if (other >= 0 && other != self)
		return say(err, errlen, -EBUSY, "slot %u pf %u vf %u is already assigned to %s%s%s", a->slot, a->pf,
			   a->vf, t->assign[other].blade, t->assign[other].lane[0] ? " for lane " : "",
			   t->assign[other].lane);
	if (dedicated_slot(t, a->slot) && !a->dedicated)
		return say(err, errlen, -EPERM, "slot %u is dedicated to %s: its VFs are that blade's", a->slot,
			   cmc_config_slot_by_number(t->cfg, a->slot)->blade->name);
	for (unsigned i = 0; i < t->n_assign; i++)
		if ((int)i != self && memcmp(t->assign[i].mac, a->mac, 6) == 0) {
			char ms[VB_MAC_STRLEN];

			return say(err, errlen, -EADDRINUSE, "MAC %s is already on slot %u pf %u vf %u (%s)",
				   vb_mac_str(a->mac, ms), t->assign[i].slot, t->assign[i].pf, t->assign[i].vf,
				   t->assign[i].blade);
		}
	/* Its own old MAC (an update) and its own default are no conflict; the pool is for
	 * server profiles only (and held by no VF: checked just above). */
	if (!(a->sprofile[0] && cmc_mac_in_pool(t->chassis_id, a->mac))) {
		rc = cmc_intent_mac_free_for(t, a->mac, a->slot, a->pf, a->vf, err, errlen);
		if (rc)
			return rc;
	}
	if (a->vlan > CMC_DOMAIN_VLAN_MAX && !a->lane[0])
		return say(err, errlen, -EINVAL, "VLAN %u is kept for lanes (%u-%u)", a->vlan, CMC_LANE_VLAN_MIN,
			   CMC_LANE_VLAN_MAX);
	if (a->vlan) {
		const struct cmc_domain *d = domain_of_vlan(t, a->vlan);

		if (d && cmc_intent_domain_of_blade(t, a->blade) != d)
			return say(err, errlen, -EPERM, "VLAN %u is domain %s's, which %s is not in", a->vlan, d->name,
				   a->blade);
	}
	if (a->rate > CMC_RATE_MAX_MBPS)
		return say(err, errlen, -EINVAL, "%u Mbit/s is above the port's %u", a->rate, CMC_RATE_MAX_MBPS);
	if (a->lane[0] && !cmc_intent_lane(t, a->lane))
		return say(err, errlen, -ENOENT, "no lane '%s'", a->lane);
	return 0;
}

/* An assignment that names a template takes its VLAN, rate and trust from it: the
 * template is their one owner. */
static int templated(const struct cmc_intent *t, struct cmc_assignment *a, char *err, size_t errlen)
{
	const struct cmc_template *tp;

	if (!a->tmpl[0])
		return 0;
	tp = cmc_intent_template(t, a->tmpl);
	if (!tp)
		return say(err, errlen, -ENOENT, "no template '%.32s'", a->tmpl);
	a->vlan = tp->vlan;
	a->rate = tp->rate;
	a->trusted = tp->trusted;
	return 0;
}

/* a into t (new at the end, or replacing self), then the port's bridge. */
static int put(struct cmc_intent *t, const struct cmc_assignment *asked, int self, bool loading, char *err,
	       size_t errlen)
{
	struct cmc_assignment own = *asked;
	const struct cmc_assignment *a = &own;
	const struct port *p;
	int rc = templated(t, &own, err, errlen);

	if (!rc)
		rc = check_one(t, a, self, loading, err, errlen);
	if (rc)
		return rc;
	if (self < 0) {
		if (t->n_assign == CMC_INTENT_ASSIGN_MAX)
			return say(err, errlen, -ENOSPC, "too many assignments (%d)", CMC_INTENT_ASSIGN_MAX);
		self = (int)t->n_assign++;
	}
	t->assign[self] = *a;
	p = find_port(t, a->slot, a->pf);
	return p ? port_fits(t, p, err, errlen) : 0;
}

static int assign_on(struct cmc_intent *t, const struct cmc_assignment *a, bool replace, bool loading,
		     char *err, size_t errlen)
{
	int self = assign_index(t, a->slot, a->pf, a->vf);

	if (replace && self < 0)
		return say(err, errlen, -ENOENT, "slot %u pf %u vf %u is not assigned", a->slot, a->pf, a->vf);
	/* One owner: a server profile's VF changes through its profile only. */
	if (replace && t->assign[self].sprofile[0])
		return say(err, errlen, -EPERM, "slot %u pf %u vf %u belongs to server profile %s: its identity "
			   "changes with the profile", a->slot, a->pf, a->vf, t->assign[self].sprofile);
	return put(t, a, replace ? self : -1, loading, err, errlen);
}

int cmc_intent_assign_check(const struct cmc_intent *in, const struct cmc_assignment *a, char *err,
			    size_t errlen)
{
	struct cmc_intent *t = scratch(in);
	int rc;

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	rc = assign_on(t, a, false, false, err, errlen);
	free(t);
	return rc;
}

int cmc_intent_assign(struct cmc_intent *in, const struct cmc_assignment *a, char *err, size_t errlen)
{
	struct cmc_intent *t = scratch(in);

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	return finish(in, t, assign_on(t, a, false, false, err, errlen));
}

int cmc_intent_update_check(const struct cmc_intent *in, const struct cmc_assignment *a, char *err,
			    size_t errlen)
{
	struct cmc_intent *t = scratch(in);
	int rc;

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	rc = assign_on(t, a, true, false, err, errlen);
	free(t);
	return rc;
}

int cmc_intent_update(struct cmc_intent *in, const struct cmc_assignment *a, char *err, size_t errlen)
{
	struct cmc_intent *t = scratch(in);

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	return finish(in, t, assign_on(t, a, true, false, err, errlen));
}

/* Removes assignment i and the static entries on its VF (no checks). */
static void drop_assignment(struct cmc_intent *t, unsigned i)
{
	const struct cmc_assignment a = t->assign[i];

	t->assign[i] = t->assign[--t->n_assign];
	for (unsigned k = 0; k < t->n_fdb;)
		if (t->fdb[k].slot == a.slot && t->fdb[k].pf == a.pf && t->fdb[k].vf == a.vf)
			t->fdb[k] = t->fdb[--t->n_fdb];
		else
			k++;
}

int cmc_intent_unassign_check(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf,
			      bool owner, char *err, size_t errlen)
{
	int i = assign_index(in, slot, pf, vf);
	const struct cmc_assignment *a;

	if (i < 0)
		return say(err, errlen, -ENOENT, "slot %u pf %u vf %u is not assigned", slot, pf, vf);
	a = &in->assign[i];
	if (a->dedicated)
		return say(err, errlen, -EPERM, "slot %u is dedicated to %s: its VFs stay that blade's", slot,
			   a->blade);
	if (!owner && a->lane[0])
		return say(err, errlen, -EPERM, "slot %u pf %u vf %u belongs to lane %s: delete the lane", slot, pf,
			   vf, a->lane);
	if (!owner && a->vm[0])
		return say(err, errlen, -EPERM, "slot %u pf %u vf %u carries VM %s's profile", slot, pf, vf, a->vm);
	if (!owner && a->service[0])
		return say(err, errlen, -EPERM, "slot %u pf %u vf %u is domain %s's configuration service: "
			   "`domain dhcp %s off` releases it", slot, pf, vf, a->service, a->service);
	if (!owner && a->sprofile[0])
		return say(err, errlen, -EPERM, "slot %u pf %u vf %u belongs to server profile %s: delete or move "
			   "the profile", slot, pf, vf, a->sprofile);
	return 0;
}

int cmc_intent_unassign(struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf, bool owner,
			char *err, size_t errlen)
{
	int rc = cmc_intent_unassign_check(in, slot, pf, vf, owner, err, errlen);

	if (!rc)
		drop_assignment(in, (unsigned)assign_index(in, slot, pf, vf));
	return rc;
}

/* --- Dedicated slots --------------------------------------------------------------- */

/* Every VF of slot/pf is the dedicated slot's blade's, with its default MAC. */
static int dedicate(struct cmc_intent *in, const struct port *p)
{
	const struct cmc_config_slot *cs = cmc_config_slot_by_number(in->cfg, p->slot);

	if (!cs || cs->policy != CMC_SLOT_DEDICATED || !cs->blade)
		return 0;
	for (unsigned vf = 0; vf < p->num_vfs; vf++) {
		struct cmc_assignment a = { .slot = p->slot, .pf = p->pf, .vf = vf, .dedicated = true };
		int i = assign_index(in, p->slot, p->pf, vf);

		if (i >= 0 && in->assign[i].dedicated)
			continue;
		if (i >= 0)	/* a stale record for a slot that became dedicated */
			drop_assignment(in, (unsigned)i);
		if (in->n_assign == CMC_INTENT_ASSIGN_MAX)
			return -ENOSPC;
		snprintf(a.blade, sizeof(a.blade), "%s", cs->blade->name);
		if (cmc_mac_vf_default(in->chassis_id, p->slot, p->pf, vf, a.mac) < 0)
			return -EINVAL;
		in->assign[in->n_assign++] = a;
	}
	return 0;
}

int cmc_intent_port_add(struct cmc_intent *in, unsigned slot, unsigned pf, unsigned num_vfs,
			const uint8_t pf_mac[6])
{
	int i = port_index(in, slot, pf);
	struct port *p;

	if (!cmc_config_slot_by_number(in->cfg, slot) || pf > 7 || num_vfs > VB_MAX_VFS)
		return -EINVAL;
	if (i < 0) {
		if (in->n_ports == CMC_INTENT_PORT_MAX)
			return -ENOSPC;
		i = (int)in->n_ports++;
	}
	p = &in->ports[i];
	*p = (struct port){ .slot = slot, .pf = pf, .num_vfs = num_vfs };
	if (pf_mac)
		memcpy(p->pf_mac, pf_mac, 6);
	return dedicate(in, p);
}

/* --- Domains ----------------------------------------------------------------------- */

static bool vlan_asked(const struct cmc_intent *in, uint16_t vlan)
{
	for (unsigned i = 0; i < in->n_assign; i++)
		if (in->assign[i].vlan == vlan)
			return true;
	return false;
}

int cmc_intent_domain_create(struct cmc_intent *in, const char *name, uint16_t vlan, uint16_t *got,
			     char *err, size_t errlen)
{
	const struct cmc_domain *d = cmc_intent_domain(in, name);

	if (!name_ok(name, CMC_INTENT_NAME_MAX, true))
		return say(err, errlen, -EINVAL, "'%.32s' is not a domain name (1-%d of a-z A-Z 0-9 - _)", name,
			   CMC_INTENT_NAME_MAX);
	if (d)
		return say(err, errlen, -EEXIST, "domain %s exists (vlan %u)", name, d->vlan);
	if (vlan && (vlan < CMC_DOMAIN_VLAN_MIN || vlan > CMC_DOMAIN_VLAN_MAX))
		return say(err, errlen, -EINVAL, "%u is not a domain VLAN (%d-%d)", vlan, CMC_DOMAIN_VLAN_MIN,
			   CMC_DOMAIN_VLAN_MAX);
	if (vlan && domain_of_vlan(in, vlan))
		return say(err, errlen, -EADDRINUSE, "VLAN %u is domain %s's", vlan, domain_of_vlan(in, vlan)->name);
	if (vlan && vlan_asked(in, vlan))
		return say(err, errlen, -EADDRINUSE, "VLAN %u is in use by an assignment", vlan);
	for (unsigned v = CMC_DOMAIN_VLAN_FIRST; !vlan && v <= CMC_DOMAIN_VLAN_MAX; v++)
		if (!domain_of_vlan(in, (uint16_t)v) && !vlan_asked(in, (uint16_t)v))
			vlan = (uint16_t)v;
	if (!vlan || in->n_dom == CMC_INTENT_DOMAIN_MAX)
		return say(err, errlen, -ENOSPC, "no room for another domain");
	in->dom[in->n_dom] = (struct cmc_domain){ .vlan = vlan };
	snprintf(in->dom[in->n_dom++].name, sizeof(in->dom[0].name), "%s", name);
	if (got)
		*got = vlan;
	return 0;
}

int cmc_intent_domain_delete(struct cmc_intent *in, const char *name, char *err, size_t errlen)
{
	struct cmc_intent *t = scratch(in);
	int rc = 0;

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < t->n_dom; i++)
		if (strcmp(t->dom[i].name, name) == 0) {
			const struct cmc_assignment *sv = cmc_intent_service(t, name);

			/* Its service's VF goes with it (before the domain: it names it). */
			if (sv)
				drop_assignment(t, (unsigned)(sv - t->assign));
			t->dom[i] = t->dom[--t->n_dom];
			/* Its blades' VFs become untagged: their static entries must still fit. */
			return finish(in, t, ports_fit(t, err, errlen));
		}
	rc = say(err, errlen, -ENOENT, "no domain '%.32s'", name);
	free(t);
	return rc;
}

int cmc_intent_domain_member(struct cmc_intent *in, const char *name, const char *blade, bool join,
			     char *err, size_t errlen)
{
	struct cmc_intent *t;
	const struct cmc_domain *d = cmc_intent_domain(in, name);
	struct cmc_domain *td;
	const struct cmc_domain *cur = cmc_intent_domain_of_blade(in, blade);
	int bi = cmc_intent_blade_index(in, blade), rc;

	if (!d)
		return say(err, errlen, -ENOENT, "no domain '%.32s'", name);
	rc = check_blade(in, blade, err, errlen);
	if (rc)
		return rc;
	if (join && cur)
		return say(err, errlen, -EBUSY, "blade %s is already in domain %s", blade, cur->name);
	if (!join && cur != d)
		return say(err, errlen, -ENOENT, "blade %s is not in domain %s", blade, d->name);
	t = scratch(in);
	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	td = &t->dom[d - in->dom];
	if (join)
		td->members |= 1ull << bi;
	else
		td->members &= ~(1ull << bi);
	/* The blade's VFs asked for a VLAN that is now another domain's? */
	for (unsigned i = 0; i < t->n_assign; i++) {
		const struct cmc_assignment *a = &t->assign[i];
		const struct cmc_domain *o = a->vlan ? domain_of_vlan(t, a->vlan) : NULL;

		if (strcmp(a->blade, blade) == 0 && o && o != cmc_intent_domain_of_blade(t, blade)) {
			rc = say(err, errlen, -EPERM, "slot %u pf %u vf %u of %s is on VLAN %u, domain %s's", a->slot,
				 a->pf, a->vf, blade, a->vlan, o->name);
			free(t);
			return rc;
		}
	}
	return finish(in, t, ports_fit(t, err, errlen));
}

/* --- Configuration services ---------------------------------------------------------- */

static unsigned free_vfs(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned want, unsigned *out);

/* The service's VF: the first VF nobody has on an uplink port that no dedicated slot has,
 * whose assignment t's rules and the port's bridge accept. */
static int service_put(struct cmc_intent *t, const char *name, char *err, size_t errlen)
{
	for (unsigned i = 0; i < t->n_ports; i++) {
		const struct port *p = &t->ports[i];
		struct cmc_assignment a = { .slot = p->slot, .pf = p->pf };
		unsigned vfs[CMC_CONFIG_VFS_MAX + 1];
		unsigned n;

		if (cmc_intent_role(t, p->slot, p->pf) != CMC_PORT_UPLINK || dedicated_slot(t, p->slot))
			continue;
		n = free_vfs(t, p->slot, p->pf, CMC_CONFIG_VFS_MAX + 1, vfs);
		for (unsigned k = 0; k < n; k++) {
			a.vf = vfs[k];
			snprintf(a.blade, sizeof(a.blade), CMC_DHCP_BLADE_PREFIX "%s", name);
			snprintf(a.service, sizeof(a.service), "%s", name);
			if (cmc_mac_vf_default(t->chassis_id, p->slot, p->pf, a.vf, a.mac) < 0)
				continue;
			if (put(t, &a, -1, false, NULL, 0) == 0)
				return 0;
			/* What put() left on a refusal is t's to lose: the caller frees it. */
			if (t->n_assign && assign_index(t, a.slot, a.pf, a.vf) >= 0)
				drop_assignment(t, (unsigned)assign_index(t, a.slot, a.pf, a.vf));
		}
	}
	return say(err, errlen, -ENOSPC, "no uplink port driven by cmcd has a free VF for domain %s's service", name);
}

int cmc_intent_domain_dhcp(struct cmc_intent *in, const char *name, const struct cmc_dhcp_settings *s,
			   char *err, size_t errlen)
{
	const struct cmc_domain *d = cmc_intent_domain(in, name);
	const struct cmc_assignment *sv;
	struct cmc_intent *t;
	char blade[CMC_CONFIG_NAME_MAX + 1];
	int rc;

	if (!d)
		return say(err, errlen, -ENOENT, "no domain '%.32s'", name);
	if (!s->on && !d->dhcp.on)
		return say(err, errlen, -ENOENT, "domain %s has no configuration service", name);
	rc = cmc_dhcp_check(s, err, errlen);
	if (rc)
		return rc;
	snprintf(blade, sizeof(blade), CMC_DHCP_BLADE_PREFIX "%s", name);
	if (s->on && cmc_intent_blade_index(in, blade) >= 0)
		return say(err, errlen, -EEXIST, "blade %s of the configuration has the name of the service's "
			   "namespace", blade);
	t = scratch(in);
	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	t->dom[d - in->dom].dhcp = *s;
	sv = cmc_intent_service(t, name);
	if (!s->on && sv)
		drop_assignment(t, (unsigned)(sv - t->assign));
	if (s->on && !sv)
		rc = service_put(t, name, err, errlen);
	return finish(in, t, rc);
}

/* --- Lanes ------------------------------------------------------------------------- */

/* Up to `want` VFs of slot/pf nobody is assigned; how many. */
static unsigned free_vfs(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned want, unsigned *out)
{
	unsigned n = 0, got = 0;

	if (!cmc_intent_port(in, slot, pf, &n))
		return 0;
	for (unsigned vf = 0; vf < n && got < want; vf++)
		if (assign_index(in, slot, pf, vf) < 0)
			out[got++] = vf;
	return got;
}

/* A midplane port with two VFs free; slot/pf < 0: any. */
static int pick_lane_port(const struct cmc_intent *in, int slot, int pf, unsigned *s_out,
			  unsigned *p_out, unsigned vfs[2], char *err, size_t errlen)
{
	for (unsigned i = 0; i < in->n_ports; i++) {
		const struct port *p = &in->ports[i];
		bool exact = slot >= 0 && pf >= 0;

		if ((slot >= 0 && p->slot != (unsigned)slot) || (pf >= 0 && p->pf != (unsigned)pf))
			continue;
		if (cmc_intent_role(in, p->slot, p->pf) != CMC_PORT_MIDPLANE) {
			if (exact)
				return say(err, errlen, -EINVAL, "slot %u pf %u is an uplink: lanes use midplane ports",
					   p->slot, p->pf);
			continue;
		}
		if (!dedicated_slot(in, p->slot) && free_vfs(in, p->slot, p->pf, 2, vfs) == 2) {
			*s_out = p->slot;
			*p_out = p->pf;
			return 0;
		}
		if (exact)
			return say(err, errlen, -ENOSPC, "slot %u pf %u has fewer than 2 free VFs", p->slot, p->pf);
	}
	return say(err, errlen, -ENOSPC, "no midplane port driven by cmcd has 2 free VFs%s",
		   slot >= 0 ? " in that slot" : "");
}

int cmc_intent_lane_plan(const struct cmc_intent *in, const char *name, const char *a, const char *z,
			 int slot, int pf, struct cmc_lane *lane, struct cmc_assignment ends[2],
			 char *err, size_t errlen)
{
	unsigned vfs[2] = { 0, 0 }, s = 0, p = 0;
	int rc;

	if (!name_ok(name, CMC_INTENT_LANE_NAME_MAX, false))
		return say(err, errlen, -EINVAL, "'%.32s' is not a lane name (1-%d of a-z A-Z 0-9 -)", name,
			   CMC_INTENT_LANE_NAME_MAX);
	if (cmc_intent_lane(in, name))
		return say(err, errlen, -EEXIST, "lane %s exists", name);
	if ((rc = check_blade(in, a, err, errlen)) || (rc = check_blade(in, z, err, errlen)))
		return rc;
	if (strcmp(a, z) == 0)
		return say(err, errlen, -EINVAL, "a lane joins two different blades");
	if (in->n_lanes == CMC_INTENT_LANE_MAX)
		return say(err, errlen, -ENOSPC, "no room for another lane");
	rc = pick_lane_port(in, slot, pf, &s, &p, vfs, err, errlen);
	if (rc)
		return rc;
	*lane = (struct cmc_lane){ .slot = s, .pf = p };
	snprintf(lane->name, sizeof(lane->name), "%s", name);
	for (unsigned v = CMC_LANE_VLAN_MIN; v <= CMC_LANE_VLAN_MAX && !lane->vlan; v++) {
		bool used = false;

		for (unsigned i = 0; i < in->n_lanes; i++)
			used |= in->lanes[i].vlan == v;
		if (!used)
			lane->vlan = (uint16_t)v;
	}
	for (unsigned net = 1; net <= 254 && !lane->net; net++) {
		bool used = false;

		for (unsigned i = 0; i < in->n_lanes; i++)
			used |= in->lanes[i].net == net;
		if (!used)
			lane->net = net;
	}
	if (!lane->vlan || !lane->net)
		return say(err, errlen, -ENOSPC, "no room for another lane");
	for (unsigned k = 0; k < 2; k++) {
		ends[k] = (struct cmc_assignment){ .slot = s, .pf = p, .vf = vfs[k] };
		snprintf(ends[k].blade, sizeof(ends[k].blade), "%s", k ? z : a);
		snprintf(ends[k].lane, sizeof(ends[k].lane), "%s", name);
		if (cmc_mac_vf_default(in->chassis_id, s, p, vfs[k], ends[k].mac) < 0)
			return say(err, errlen, -EINVAL, "slot %u pf %u vf %u has no default MAC", s, p, vfs[k]);
	}
	return 0;
}

static int lane_put(struct cmc_intent *t, const struct cmc_lane *lane, const struct cmc_assignment ends[2],
		    bool loading, char *err, size_t errlen)
{
	int rc = 0;

	if (cmc_intent_lane(t, lane->name))
		return say(err, errlen, -EEXIST, "lane %s exists", lane->name);
	for (unsigned i = 0; i < t->n_lanes; i++)
		if (t->lanes[i].vlan == lane->vlan || t->lanes[i].net == lane->net)
			return say(err, errlen, -EADDRINUSE, "lane %s has that VLAN or network", t->lanes[i].name);
	if (lane->vlan < CMC_LANE_VLAN_MIN || lane->vlan > CMC_LANE_VLAN_MAX || !lane->net || lane->net > 254)
		return say(err, errlen, -EINVAL, "lane %s: VLAN %u or network %u out of range", lane->name,
			   lane->vlan, lane->net);
	if (t->n_lanes == CMC_INTENT_LANE_MAX)
		return say(err, errlen, -ENOSPC, "no room for another lane");
	t->lanes[t->n_lanes++] = *lane;
	for (unsigned k = 0; ends && k < 2 && !rc; k++)
		rc = put(t, &ends[k], -1, loading, err, errlen);
	return rc;
}

int cmc_intent_lane_add(struct cmc_intent *in, const struct cmc_lane *lane, const struct cmc_assignment ends[2],
			char *err, size_t errlen)
{
	struct cmc_intent *t = scratch(in);

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	if (cmc_intent_role(in, lane->slot, lane->pf) != CMC_PORT_MIDPLANE) {
		free(t);
		return say(err, errlen, -EINVAL, "slot %u pf %u is an uplink: lanes use midplane ports", lane->slot,
			   lane->pf);
	}
	return finish(in, t, lane_put(t, lane, ends, false, err, errlen));
}

int cmc_intent_lane_delete(struct cmc_intent *in, const char *name, char *err, size_t errlen)
{
	for (unsigned i = 0; i < in->n_lanes; i++) {
		if (strcmp(in->lanes[i].name, name) != 0)
			continue;
		for (unsigned k = 0; k < in->n_assign;)
			if (strcmp(in->assign[k].lane, name) == 0)
				drop_assignment(in, k);
			else
				k++;
		in->lanes[i] = in->lanes[--in->n_lanes];
		return 0;
	}
	return say(err, errlen, -ENOENT, "no lane '%.32s'", name);
}

/* --- Roles and static entries ----------------------------------------------------- */

static int role_put(struct cmc_intent *in, unsigned slot, unsigned pf, enum cmc_port_role role,
		    bool loading, char *err, size_t errlen)
{
	struct role *r = NULL;

	if (!find_port(in, slot, pf) && !loading)
		return say(err, errlen, -ENOENT, "slot %u pf %u is not driven by cmcd (it drives a card that is there,"
			   " in a slot the configuration gives vfs > 0)", slot, pf);
	if (role == CMC_PORT_UPLINK)
		for (unsigned i = 0; i < in->n_lanes; i++)
			if (in->lanes[i].slot == slot && in->lanes[i].pf == pf)
				return say(err, errlen, -EBUSY, "lane %s runs on slot %u pf %u: delete it first",
					   in->lanes[i].name, slot, pf);
	for (unsigned i = 0; i < in->n_roles && !r; i++)
		if (in->roles[i].slot == slot && in->roles[i].pf == pf)
			r = &in->roles[i];
	if (!r) {
		if (in->n_roles == CMC_INTENT_ROLE_MAX)
			return say(err, errlen, -ENOSPC, "too many port roles");
		r = &in->roles[in->n_roles++];
	}
	*r = (struct role){ .slot = slot, .pf = pf, .role = role };
	return 0;
}

int cmc_intent_role_set(struct cmc_intent *in, unsigned slot, unsigned pf, enum cmc_port_role role,
			char *err, size_t errlen)
{
	return role_put(in, slot, pf, role, false, err, errlen);
}

/* Used by intent-store.c: explicit roles only (the configuration's are not records). */
void cmc_intent__foreach_role(const struct cmc_intent *in, void (*fn)(void *arg, unsigned slot, unsigned pf,
								    enum cmc_port_role role), void *arg)
{
	for (unsigned i = 0; i < in->n_roles; i++)
		fn(arg, in->roles[i].slot, in->roles[i].pf, in->roles[i].role);
}

int cmc_intent__load_role(struct cmc_intent *in, unsigned slot, unsigned pf, enum cmc_port_role role,
			  char *err, size_t errlen)
{
	return role_put(in, slot, pf, role, true, err, errlen);
}

static int fdb_put(struct cmc_intent *in, const struct cmc_fdb *f, bool loading, char *err, size_t errlen)
{
	struct cmc_intent *t;
	struct cmc_mac_owner o;
	const struct port *p = find_port(in, f->slot, f->pf);
	char ms[VB_MAC_STRLEN], os[128];

	if (!p && !loading)
		return say(err, errlen, -ENOENT, "slot %u pf %u holds no card cmcd drives", f->slot, f->pf);
	if (p && f->vf >= p->num_vfs)
		return say(err, errlen, -ENOENT, "no VF %u on slot %u pf %u", f->vf, f->slot, f->pf);
	if (!vb_mac_is_unicast(f->mac))
		return say(err, errlen, -EINVAL, "%s is not a unicast MAC address", vb_mac_str(f->mac, ms));
	if (cmc_intent_fdb(in, f->slot, f->pf, f->mac))
		return say(err, errlen, -EEXIST, "static entry %s is there already", vb_mac_str(f->mac, ms));
	cmc_intent_mac_owner(in, f->mac, &o);
	if (o.kind != CMC_MAC_FREE)
		return say(err, errlen, -EADDRINUSE, "MAC %s is %s", vb_mac_str(f->mac, ms), owner_str(&o, os, sizeof(os)));
	if (in->n_fdb == CMC_INTENT_FDB_MAX)
		return say(err, errlen, -ENOSPC, "too many static entries (%d)", CMC_INTENT_FDB_MAX);
	t = scratch(in);
	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	t->fdb[t->n_fdb++] = *f;
	return finish(in, t, p ? port_fits(t, p, err, errlen) : 0);
}

int cmc_intent_fdb_add(struct cmc_intent *in, const struct cmc_fdb *f, char *err, size_t errlen)
{
	return fdb_put(in, f, false, err, errlen);
}

int cmc_intent_fdb_del(struct cmc_intent *in, unsigned slot, unsigned pf, const uint8_t mac[6], char *err,
		       size_t errlen)
{
	const struct cmc_fdb *f = cmc_intent_fdb(in, slot, pf, mac);
	char ms[VB_MAC_STRLEN];

	if (!f)
		return say(err, errlen, -ENOENT, "no static entry %s on slot %u pf %u", vb_mac_str(mac, ms), slot, pf);
	in->fdb[f - in->fdb] = in->fdb[--in->n_fdb];
	return 0;
}

/* --- VM profiles -------------------------------------------------------------------- */

int cmc_intent_profile_plan(const struct cmc_intent *in, const char *vm, const char *blade,
			    const struct cmc_assignment *p, bool live, struct cmc_assignment *out,
			    char *err, size_t errlen)
{
	char ms[VB_MAC_STRLEN];
	int rc = check_blade(in, blade, err, errlen);

	if (rc)
		return rc;
	if (live) {
		struct cmc_mac_owner o;
		char os[128];

		cmc_intent_mac_owner(in, p->mac, &o);
		if (o.kind != CMC_MAC_FREE)
			return say(err, errlen, -EADDRINUSE, "MAC %s of VM %s is %s", vb_mac_str(p->mac, ms), vm,
				   owner_str(&o, os, sizeof(os)));
	}
	for (unsigned i = 0; i < in->n_ports; i++) {
		const struct port *pt = &in->ports[i];
		unsigned vf;

		if (cmc_intent_role(in, pt->slot, pt->pf) != CMC_PORT_UPLINK || dedicated_slot(in, pt->slot) ||
		    free_vfs(in, pt->slot, pt->pf, 1, &vf) != 1)
			continue;
		*out = (struct cmc_assignment){ .slot = pt->slot, .pf = pt->pf, .vf = vf, .vlan = p->vlan,
						.rate = p->rate, .trusted = p->trusted };
		snprintf(out->blade, sizeof(out->blade), "%s", blade);
		snprintf(out->vm, sizeof(out->vm), "%s", vm);
		snprintf(out->tmpl, sizeof(out->tmpl), "%s", p->tmpl);
		if (templated(in, out, err, errlen))
			return -ENOENT;
		/* The VF keeps its own default MAC, live or staged: the VM's MAC is a static
		 * entry on it (the caller's, once live), owned once. */
		if (cmc_mac_vf_default(in->chassis_id, pt->slot, pt->pf, vf, out->mac) < 0)
			continue;
		if (cmc_intent_assign_check(in, out, NULL, 0) == 0)
			return 0;
	}
	return say(err, errlen, -ENOSPC, "no uplink port has a free VF for VM %s's profile", vm);
}

/* --- Network templates ---------------------------------------------------------------- */

unsigned cmc_intent_template_count(const struct cmc_intent *in) { return in->n_tmpl; }

const struct cmc_template *cmc_intent_template_nth(const struct cmc_intent *in, unsigned i, bool *from_config)
{
	if (i >= in->n_tmpl)
		return NULL;
	if (from_config)
		*from_config = !in->tmpl[i].stored;
	return &in->tmpl[i].t;
}

static int tmpl_index(const struct cmc_intent *in, const char *name)
{
	for (unsigned i = 0; i < in->n_tmpl; i++)
		if (strcmp(in->tmpl[i].t.name, name) == 0)
			return (int)i;
	return -1;
}

const struct cmc_template *cmc_intent_template(const struct cmc_intent *in, const char *name)
{
	int i = tmpl_index(in, name);

	return i < 0 ? NULL : &in->tmpl[i].t;
}

const struct cmc_template *cmc_intent_template_by_id(const struct cmc_intent *in, unsigned id)
{
	for (unsigned i = 0; i < in->n_tmpl; i++)
		if (in->tmpl[i].t.id == id)
			return &in->tmpl[i].t;
	return NULL;
}

int cmc_intent_template_of_mac(const struct cmc_intent *in, const uint8_t mac[6], const struct cmc_template **out,
			       char *err, size_t errlen)
{
	char ms[VB_MAC_STRLEN];
	unsigned id;

	*out = NULL;
	if (!cmc_template_mac_coded(mac, &id))
		return 0;
	*out = cmc_intent_template_by_id(in, id);
	if (!*out)
		return say(err, errlen, -ENOENT, "MAC %s carries template id %u, which no template has",
			   vb_mac_str(mac, ms), id);
	return 0;
}

/*
 * t (checked) into the scratch copy x: new (self < 0) or replacing template self; then
 * every assignment naming it takes its settings again, each checked as an update.
 */
static int tmpl_put(struct cmc_intent *x, const struct cmc_template *t, int self, char *err, size_t errlen)
{
	const struct cmc_template *other = cmc_intent_template_by_id(x, t->id);
	int rc = cmc_template_check(t, err, errlen);

	if (rc)
		return rc;
	if (other && (self < 0 || other != &x->tmpl[self].t))
		return say(err, errlen, -EADDRINUSE, "id %u is template %s's", t->id, other->name);
	if (self < 0) {
		if (x->n_tmpl == CMC_INTENT_TEMPLATE_MAX)
			return say(err, errlen, -ENOSPC, "too many templates (%d)", CMC_INTENT_TEMPLATE_MAX);
		self = (int)x->n_tmpl++;
	}
	x->tmpl[self] = (struct tmpl){ .t = *t, .stored = true };
	for (unsigned i = 0; i < x->n_assign && !rc; i++)
		if (strcmp(x->assign[i].tmpl, t->name) == 0)
			rc = put(x, &x->assign[i], (int)i, false, err, errlen);
	return rc;
}

int cmc_intent_template_add(struct cmc_intent *in, const struct cmc_template *t, char *err, size_t errlen)
{
	struct cmc_intent *x;

	if (cmc_intent_template(in, t->name))
		return say(err, errlen, -EEXIST, "template %s exists", t->name);
	x = scratch(in);
	if (!x)
		return say(err, errlen, -ENOMEM, "out of memory");
	return finish(in, x, tmpl_put(x, t, -1, err, errlen));
}

int cmc_intent_template_set(struct cmc_intent *in, const struct cmc_template *t, char *err, size_t errlen)
{
	int self = tmpl_index(in, t->name);
	struct cmc_intent *x;

	if (self < 0)
		return say(err, errlen, -ENOENT, "no template '%.32s'", t->name);
	x = scratch(in);
	if (!x)
		return say(err, errlen, -ENOMEM, "out of memory");
	return finish(in, x, tmpl_put(x, t, self, err, errlen));
}

int cmc_intent_template_del(struct cmc_intent *in, const char *name, char *err, size_t errlen)
{
	int self = tmpl_index(in, name);

	if (self < 0)
		return say(err, errlen, -ENOENT, "no template '%.32s'", name);
	for (unsigned i = 0; i < in->n_assign; i++) {
		const struct cmc_assignment *a = &in->assign[i];

		if (strcmp(a->tmpl, name) == 0)
			return say(err, errlen, -EBUSY, "template %s is in use by %s%s (slot %u pf %u vf %u)", name,
				   a->vm[0] ? "VM " : "", a->vm[0] ? a->vm : a->blade, a->slot, a->pf, a->vf);
	}
	for (unsigned i = 0; i < in->cfg->template_count; i++)
		if (strcmp(in->cfg->templates[i].t.name, name) == 0)
			return say(err, errlen, -EPERM, "template %s is the configuration's (line %u): remove it there",
				   name, in->cfg->templates[i].line);
	in->tmpl[self] = in->tmpl[--in->n_tmpl];
	return 0;
}

void cmc_intent__foreach_stored_template(const struct cmc_intent *in,
					 void (*fn)(void *arg, const struct cmc_template *t), void *arg)
{
	for (unsigned i = 0; i < in->n_tmpl; i++)
		if (in->tmpl[i].stored)
			fn(arg, &in->tmpl[i].t);
}

/* A stored template replaces the configuration's of the same name, or comes beside them. */
int cmc_intent__load_template(struct cmc_intent *in, const struct cmc_template *t, char *err, size_t errlen)
{
	int self = tmpl_index(in, t->name);
	struct cmc_intent *x = scratch(in);

	if (!x)
		return say(err, errlen, -ENOMEM, "out of memory");
	return finish(in, x, tmpl_put(x, t, self, err, errlen));
}

/* --- Loading (used by intent-store.c) ------------------------------------------------ */

int cmc_intent__load_assignment(struct cmc_intent *in, const struct cmc_assignment *a, char *err,
				size_t errlen)
{
	struct cmc_intent *t = scratch(in);

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	return finish(in, t, assign_on(t, a, false, true, err, errlen));
}

int cmc_intent__load_lane(struct cmc_intent *in, const struct cmc_lane *l, char *err, size_t errlen)
{
	struct cmc_intent *t = scratch(in);

	if (!t)
		return say(err, errlen, -ENOMEM, "out of memory");
	return finish(in, t, lane_put(t, l, NULL, true, err, errlen));
}

int cmc_intent__load_domain(struct cmc_intent *in, const struct cmc_domain *d, char *err, size_t errlen)
{
	if (!name_ok(d->name, CMC_INTENT_NAME_MAX, true) || d->vlan < CMC_DOMAIN_VLAN_MIN ||
	    d->vlan > CMC_DOMAIN_VLAN_MAX)
		return say(err, errlen, -EINVAL, "not a domain");
	if (cmc_intent_domain(in, d->name) || domain_of_vlan(in, d->vlan))
		return say(err, errlen, -EEXIST, "its name or VLAN is another domain's");
	if (cmc_dhcp_check(&d->dhcp, err, errlen))
		return -EINVAL;
	for (unsigned i = 0; i < in->n_dom; i++)
		if (in->dom[i].members & d->members)
			return say(err, errlen, -EBUSY, "a blade of it is in domain %s", in->dom[i].name);
	if (in->n_dom == CMC_INTENT_DOMAIN_MAX)
		return say(err, errlen, -ENOSPC, "no room for another domain");
	in->dom[in->n_dom++] = *d;
	return 0;
}

int cmc_intent__load_fdb(struct cmc_intent *in, const struct cmc_fdb *f, char *err, size_t errlen)
{
	return fdb_put(in, f, true, err, errlen);
}

/* --- Server profiles' table (sprofile.c) ---------------------------------------------- */

struct cmc_sprofile *cmc_intent__sprofiles(struct cmc_intent *in, unsigned **count)
{
	*count = &in->n_sp;
	return in->sp;
}

const struct cmc_sprofile *cmc_intent__sprofiles_c(const struct cmc_intent *in, unsigned *count)
{
	*count = in->n_sp;
	return in->sp;
}

uint32_t cmc_intent__chassis_id(const struct cmc_intent *in)
{
	return in->chassis_id;
}

const struct cmc_config *cmc_intent__config(const struct cmc_intent *in)
{
	return in->cfg;
}
