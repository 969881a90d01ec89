/* SPDX-License-Identifier: MIT */
/*
 * Server profiles (sprofile.h): a table inside the intent, changed through the intent's
 * own rules. Each change is made on the intent after a copy of it is taken, and the copy
 * is put back on any refusal, so a change is all or nothing like the intent's others.
 */
#include "sprofile.h"
#include "intent-private.h"

#include "errf.h"
#include "macs.h"
#include "store.h"
#include "vbridge.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define say cmc_errf

/* --- Reading ------------------------------------------------------------------------ */

unsigned cmc_sprofile_count(const struct cmc_intent *in)
{
	unsigned n;

	(void)cmc_intent__sprofiles_c(in, &n);
	return n;
}

const struct cmc_sprofile *cmc_sprofile_nth(const struct cmc_intent *in, unsigned i)
{
	unsigned n;
	const struct cmc_sprofile *t = cmc_intent__sprofiles_c(in, &n);

	return i < n ? &t[i] : NULL;
}

const struct cmc_sprofile *cmc_sprofile_find(const struct cmc_intent *in, const char *name)
{
	const struct cmc_sprofile *p;

	for (unsigned i = 0; (p = cmc_sprofile_nth(in, i)); i++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const struct cmc_sprofile *cmc_sprofile_of_blade(const struct cmc_intent *in, const char *blade)
{
	const struct cmc_sprofile *p;

	for (unsigned i = 0; (p = cmc_sprofile_nth(in, i)); i++)
		if (strcmp(p->blade, blade) == 0)
			return p;
	return NULL;
}

bool cmc_sprofile_name_taken(const struct cmc_intent *in, const char *name)
{
	if (cmc_sprofile_find(in, name))
		return true;
	for (unsigned i = 0; i < cmc_intent_assignment_count(in); i++)
		if (strcmp(cmc_intent_assignment_nth(in, i)->vm, name) == 0)
			return true;
	return false;
}

/* --- Checks ------------------------------------------------------------------------- */

/* 1..max characters, each a letter, a digit or one of extra. */
static bool word_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return false;
	return true;
}

static bool name_ok(const char *s)
{
	return word_ok(s, CMC_INTENT_NAME_MAX, "-_");
}

static bool uuid_ok(const char *s)
{
	if (strlen(s) != CMC_SPROFILE_UUID_LEN)
		return false;
	for (unsigned i = 0; i < CMC_SPROFILE_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static bool serial_ok(const char *s)
{
	return word_ok(s, CMC_SPROFILE_SERIAL_MAX, "-_.");
}

/* The identity of a new profile p (name, uuid, serial, blade) against the table. */
static int check_identity(const struct cmc_intent *in, const struct cmc_sprofile *p, char *err, size_t errlen)
{
	const struct cmc_sprofile *o;

	if (!name_ok(p->name))
		return say(err, errlen, -EINVAL, "'%.32s' is not a profile name (1-%d of a-z A-Z 0-9 - _)", p->name,
			   CMC_INTENT_NAME_MAX);
	if (cmc_sprofile_name_taken(in, p->name))
		return say(err, errlen, -EEXIST, "%s is the name of a server profile or a VM already", p->name);
	if (!uuid_ok(p->uuid))
		return say(err, errlen, -EINVAL, "'%.40s' is not a UUID (8-4-4-4-12 hex digits)", p->uuid);
	if (!serial_ok(p->serial))
		return say(err, errlen, -EINVAL, "'%.40s' is not a serial number (1-%d of A-Z a-z 0-9 - _ .)",
			   p->serial, CMC_SPROFILE_SERIAL_MAX);
	for (unsigned i = 0; (o = cmc_sprofile_nth(in, i)); i++) {
		if (strcasecmp(o->uuid, p->uuid) == 0)
			return say(err, errlen, -EADDRINUSE, "UUID %s is server profile %s's", p->uuid, o->name);
		if (strcmp(o->serial, p->serial) == 0)
			return say(err, errlen, -EADDRINUSE, "serial number %s is server profile %s's", p->serial,
				   o->name);
	}
	if (cmc_intent_blade_index(in, p->blade) < 0)
		return say(err, errlen, -ENOENT, "no blade '%.32s' in this chassis", p->blade);
	o = cmc_sprofile_of_blade(in, p->blade);
	if (o)
		return say(err, errlen, -EBUSY, "blade %s has server profile %s", p->blade, o->name);
	if (cmc_sprofile_count(in) == CMC_SPROFILE_MAX)
		return say(err, errlen, -ENOSPC, "no room for another server profile (%d)", CMC_SPROFILE_MAX);
	return 0;
}

static bool mac_in_profile(const struct cmc_sprofile *p, const uint8_t mac[6])
{
	for (unsigned i = 0; i < p->n_vfs; i++)
		if (memcmp(p->vfs[i].mac, mac, 6) == 0)
			return true;
	return false;
}

/* The first pool MAC no VF holds and p does not have yet. */
static int pool_mac(const struct cmc_intent *in, const struct cmc_sprofile *p, uint8_t mac[6], char *err,
		    size_t errlen)
{
	uint32_t id = cmc_intent__chassis_id(in);

	for (unsigned i = 0; i < CMC_MAC_POOL_SIZE; i++) {
		struct cmc_mac_owner o;
		uint8_t m[6];

		if (cmc_mac_pool(id, i, m) < 0)
			break;
		cmc_intent_mac_owner(in, m, &o);
		if (o.kind == CMC_MAC_POOL && !mac_in_profile(p, m)) {
			memcpy(mac, m, 6);
			return 0;
		}
	}
	return say(err, errlen, -ENOSPC, "the chassis' pool of server-profile MACs is used up");
}

/* --- Putting a profile's VFs into the intent ------------------------------------------ */

static struct cmc_assignment vf_assignment(const struct cmc_sprofile *p, const struct cmc_sprofile_vf *v)
{
	struct cmc_assignment a = { .slot = v->slot, .pf = v->pf, .vf = v->vf, .vlan = v->vlan,
				    .rate = v->rate, .trusted = v->trusted };

	memcpy(a.mac, v->mac, 6);
	snprintf(a.blade, sizeof(a.blade), "%s", p->blade);
	snprintf(a.sprofile, sizeof(a.sprofile), "%s", p->name);
	return a;
}

/* p's VFs become assignments and p enters the table (`loading`: ports need not be driven). */
static int put_profile(struct cmc_intent *in, const struct cmc_sprofile *p, bool loading, char *err, size_t errlen)
{
	unsigned *n;
	struct cmc_sprofile *t = cmc_intent__sprofiles(in, &n);
	int rc = 0;

	if (*n == CMC_SPROFILE_MAX)
		return say(err, errlen, -ENOSPC, "no room for another server profile (%d)", CMC_SPROFILE_MAX);
	for (unsigned i = 0; i < p->n_vfs && !rc; i++) {
		struct cmc_assignment a = vf_assignment(p, &p->vfs[i]);

		rc = loading ? cmc_intent__load_assignment(in, &a, err, errlen) : cmc_intent_assign(in, &a, err, errlen);
	}
	if (!rc)
		t[(*n)++] = *p;
	return rc;
}

/* Runs fn on `in`; a refusal puts `in` back as it was. */
static int all_or_nothing(struct cmc_intent *in, int rc_in, struct cmc_intent *saved)
{
	if (rc_in)
		cmc_intent_restore(in, saved);
	cmc_intent_free(saved);
	return rc_in;
}

static void identity_of(struct cmc_intent *in, struct cmc_sprofile *p, const char *name, const char *blade,
			const char *uuid, const char *serial)
{
	*p = (struct cmc_sprofile){ 0 };
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	snprintf(p->blade, sizeof(p->blade), "%s", blade);
	if (serial && *serial)
		snprintf(p->serial, sizeof(p->serial), "%s", serial);
	else
		snprintf(p->serial, sizeof(p->serial), "CMC-%08x-%s", cmc_intent__chassis_id(in), name);
}

/* The blade's lanes, its domain and the VMs whose profiles are on it, into p. */
static void surroundings(const struct cmc_intent *in, struct cmc_sprofile *p)
{
	const struct cmc_domain *d = cmc_intent_domain_of_blade(in, p->blade);

	snprintf(p->domain, sizeof(p->domain), "%s", d ? d->name : "");
	p->n_lanes = p->n_vms = 0;
	for (unsigned i = 0; i < cmc_intent_assignment_count(in); i++) {
		const struct cmc_assignment *a = cmc_intent_assignment_nth(in, i);

		if (strcmp(a->blade, p->blade) != 0)
			continue;
		if (a->lane[0] && p->n_lanes < CMC_SPROFILE_LANES_MAX)
			snprintf(p->lanes[p->n_lanes++], sizeof(p->lanes[0]), "%s", a->lane);
		if (a->vm[0] && p->n_vms < CMC_SPROFILE_VMS_MAX)
			snprintf(p->vms[p->n_vms++], sizeof(p->vms[0]), "%s", a->vm);
	}
}

/* The blade's plain VFs become p's (taken out of the intent: put_profile puts them back). */
static int adopt_vfs(struct cmc_intent *in, struct cmc_sprofile *p, char *err, size_t errlen)
{
	uint32_t id = cmc_intent__chassis_id(in);
	int rc = 0;

	for (unsigned i = 0; i < cmc_intent_assignment_count(in) && !rc;) {
		const struct cmc_assignment *a = cmc_intent_assignment_nth(in, i);
		struct cmc_sprofile_vf *v = &p->vfs[p->n_vfs];
		uint8_t def[6];

		if (strcmp(a->blade, p->blade) != 0 || a->lane[0] || a->vm[0] || a->dedicated) {
			i++;
			continue;
		}
		if (p->n_vfs == CMC_SPROFILE_VFS_MAX)
			return say(err, errlen, -ENOSPC, "blade %s has more than %d VFs for a profile", p->blade,
				   CMC_SPROFILE_VFS_MAX);
		*v = (struct cmc_sprofile_vf){ .slot = a->slot, .pf = a->pf, .vf = a->vf, .vlan = a->vlan,
					       .rate = a->rate, .trusted = a->trusted };
		memcpy(v->mac, a->mac, 6);
		rc = cmc_intent_unassign(in, a->slot, a->pf, a->vf, true, err, errlen);
		/* A default stays with its VF: the profile takes a MAC of the pool instead. */
		if (!rc && cmc_mac_vf_default(id, v->slot, v->pf, v->vf, def) == 0 && memcmp(def, v->mac, 6) == 0)
			rc = pool_mac(in, p, v->mac, err, errlen);
		p->n_vfs++;
	}
	if (!rc && !p->n_vfs)
		rc = say(err, errlen, -ENOENT, "blade %s has no VF to make a profile of (lanes' and VMs' stay theirs)",
			 p->blade);
	return rc;
}

int cmc_sprofile_create_from(struct cmc_intent *in, const char *name, const char *blade, const char *uuid,
			     const char *serial, char *err, size_t errlen)
{
	struct cmc_intent *saved;
	struct cmc_sprofile p;
	int rc;

	identity_of(in, &p, name, blade, uuid, serial);
	rc = check_identity(in, &p, err, errlen);
	if (rc)
		return rc;
	if (cmc_intent_dup(in, &saved) < 0)
		return say(err, errlen, -ENOMEM, "out of memory");
	surroundings(in, &p);
	rc = adopt_vfs(in, &p, err, errlen);
	if (!rc)
		rc = put_profile(in, &p, false, err, errlen);
	return all_or_nothing(in, rc, saved);
}

/* Up to `want` VFs nobody has on uplink ports that are no dedicated slot's, into p. */
static int pick_vfs(const struct cmc_intent *in, struct cmc_sprofile *p, unsigned want, char *err, size_t errlen)
{
	unsigned slot, pf, n;

	for (unsigned i = 0; p->n_vfs < want && cmc_intent_port_nth(in, i, &slot, &pf, &n) == 0; i++) {
		const struct cmc_config_slot *cs = cmc_config_slot_by_number(cmc_intent__config(in), slot);

		if (cmc_intent_role(in, slot, pf) != CMC_PORT_UPLINK || (cs && cs->policy == CMC_SLOT_DEDICATED))
			continue;
		for (unsigned vf = 0; vf < n && p->n_vfs < want; vf++)
			if (!cmc_intent_assignment(in, slot, pf, vf))
				p->vfs[p->n_vfs++] = (struct cmc_sprofile_vf){ .slot = slot, .pf = pf, .vf = vf };
	}
	if (p->n_vfs < want)
		return say(err, errlen, -ENOSPC, "the uplink ports have %u free VFs, not %u", p->n_vfs, want);
	return 0;
}

int cmc_sprofile_create(struct cmc_intent *in, const char *name, const char *blade, unsigned n_vfs,
			const uint8_t (*macs)[6], unsigned n_macs, const char *uuid, const char *serial, char *err,
			size_t errlen)
{
	struct cmc_sprofile p;
	int rc;

	identity_of(in, &p, name, blade, uuid, serial);
	rc = check_identity(in, &p, err, errlen);
	if (rc)
		return rc;
	if (!n_vfs || n_vfs > CMC_SPROFILE_VFS_MAX || n_macs > n_vfs)
		return say(err, errlen, -EINVAL, "a profile has 1-%d VFs and at most one MAC each",
			   CMC_SPROFILE_VFS_MAX);
	surroundings(in, &p);
	p.n_lanes = 0;	/* a definition brings no lane: the blade's stay the blade's */
	rc = pick_vfs(in, &p, n_vfs, err, errlen);
	for (unsigned i = 0; i < n_vfs && !rc; i++) {
		struct cmc_mac_owner o;
		char ms[VB_MAC_STRLEN];

		if (i >= n_macs) {
			rc = pool_mac(in, &p, p.vfs[i].mac, err, errlen);
			continue;
		}
		cmc_intent_mac_owner(in, macs[i], &o);
		if (!vb_mac_is_unicast(macs[i]))
			rc = say(err, errlen, -EINVAL, "%s is not a unicast MAC address", vb_mac_str(macs[i], ms));
		else if ((o.kind != CMC_MAC_FREE && o.kind != CMC_MAC_POOL) || mac_in_profile(&p, macs[i]))
			rc = say(err, errlen, -EADDRINUSE, "MAC %s is taken (%s)", vb_mac_str(macs[i], ms),
				 o.kind == CMC_MAC_VF ? "a VF has it" : o.kind == CMC_MAC_DEFAULT ? "a VF's default" :
				 o.kind == CMC_MAC_STATIC ? "a static entry's" : o.kind == CMC_MAC_PF ? "a PF's" :
				 "given twice");
		memcpy(p.vfs[i].mac, macs[i], 6);
	}
	if (rc)
		return rc;
	{
		struct cmc_intent *saved;

		if (cmc_intent_dup(in, &saved) < 0)
			return say(err, errlen, -ENOMEM, "out of memory");
		return all_or_nothing(in, put_profile(in, &p, false, err, errlen), saved);
	}
}

/* Index of name in the table, or -1. */
static int sp_index(struct cmc_intent *in, const char *name, struct cmc_sprofile **t, unsigned **n)
{
	*t = cmc_intent__sprofiles(in, n);
	for (unsigned i = 0; i < **n; i++)
		if (strcmp((*t)[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* p's VFs taken back (owner). */
static int drop_vfs(struct cmc_intent *in, const struct cmc_sprofile *p, char *err, size_t errlen)
{
	int rc = 0;

	for (unsigned i = 0; i < p->n_vfs && !rc; i++)
		if (cmc_intent_assignment(in, p->vfs[i].slot, p->vfs[i].pf, p->vfs[i].vf))
			rc = cmc_intent_unassign(in, p->vfs[i].slot, p->vfs[i].pf, p->vfs[i].vf, true, err, errlen);
	return rc;
}

int cmc_sprofile_delete(struct cmc_intent *in, const char *name, char *err, size_t errlen)
{
	struct cmc_sprofile *t;
	struct cmc_intent *saved;
	unsigned *n;
	int i = sp_index(in, name, &t, &n), rc;

	if (i < 0)
		return say(err, errlen, -ENOENT, "no server profile '%.32s'", name);
	if (cmc_intent_dup(in, &saved) < 0)
		return say(err, errlen, -ENOMEM, "out of memory");
	rc = drop_vfs(in, &t[i], err, errlen);
	if (!rc)
		t[i] = t[--(*n)];
	return all_or_nothing(in, rc, saved);
}

/* --- Moving ---------------------------------------------------------------------------- */

static int move_checks(const struct cmc_intent *in, const struct cmc_sprofile *p, const char *to, bool to_failed,
		       char *err, size_t errlen)
{
	const struct cmc_sprofile *o = cmc_sprofile_of_blade(in, to);
	const struct cmc_domain *d = cmc_intent_domain_of_blade(in, to);

	if (cmc_intent_blade_index(in, to) < 0)
		return say(err, errlen, -ENOENT, "no blade '%.32s' in this chassis", to);
	if (strcmp(p->blade, to) == 0)
		return say(err, errlen, -EINVAL, "server profile %s is on %s already", p->name, to);
	if (o)
		return say(err, errlen, -EBUSY, "blade %s is busy: it has server profile %s", to, o->name);
	if (to_failed)
		return say(err, errlen, -EHOSTDOWN, "blade %s has failed itself", to);
	if (d && strcmp(d->name, p->domain) != 0)
		return say(err, errlen, -EBUSY, "blade %s is in domain %s, the profile in %s", to, d->name,
			   p->domain[0] ? p->domain : "none");
	return 0;
}

/* New VFs for p on `to`: one free VF on each VF's port (not one p holds). */
static int move_vfs(struct cmc_intent *in, struct cmc_sprofile *p, const char *to, char *err, size_t errlen)
{
	struct cmc_sprofile_vf next[CMC_SPROFILE_VFS_MAX];
	int rc;

	for (unsigned i = 0; i < p->n_vfs; i++) {
		unsigned n = 0, vf;
		bool found = false;

		next[i] = p->vfs[i];
		(void)cmc_intent_port(in, p->vfs[i].slot, p->vfs[i].pf, &n);
		for (vf = 0; vf < n && !found; vf++) {
			bool mine = false;

			for (unsigned k = 0; k < i; k++)
				mine |= next[k].slot == p->vfs[i].slot && next[k].pf == p->vfs[i].pf && next[k].vf == vf;
			found = !mine && !cmc_intent_assignment(in, p->vfs[i].slot, p->vfs[i].pf, vf);
		}
		if (!found)
			return say(err, errlen, -ENOSPC, "blade %s cannot take server profile %s: slot %u pf %u has "
				   "no free VF for it", to, p->name, p->vfs[i].slot, p->vfs[i].pf);
		next[i].vf = vf - 1;
	}
	rc = drop_vfs(in, p, err, errlen);
	if (rc)
		return rc;
	memcpy(p->vfs, next, sizeof(next[0]) * p->n_vfs);
	snprintf(p->blade, sizeof(p->blade), "%s", to);
	for (unsigned i = 0; i < p->n_vfs && !rc; i++) {
		struct cmc_assignment a = vf_assignment(p, &p->vfs[i]);

		rc = cmc_intent_assign(in, &a, err, errlen);
	}
	return rc;
}

/* The domain and the lane ends follow the profile from `from` to p->blade. */
static int move_surroundings(struct cmc_intent *in, struct cmc_sprofile *p, const char *from, char *err,
			     size_t errlen)
{
	int rc = 0;

	if (p->domain[0] && cmc_intent_domain(in, p->domain)) {
		const struct cmc_domain *cur = cmc_intent_domain_of_blade(in, from);

		if (cur && strcmp(cur->name, p->domain) == 0)
			rc = cmc_intent_domain_member(in, p->domain, from, false, err, errlen);
		if (!rc && !cmc_intent_domain_of_blade(in, p->blade))
			rc = cmc_intent_domain_member(in, p->domain, p->blade, true, err, errlen);
	}
	for (unsigned i = 0; i < cmc_intent_assignment_count(in) && !rc; i++) {
		struct cmc_assignment a = *cmc_intent_assignment_nth(in, i);

		if (!a.lane[0] || strcmp(a.blade, from) != 0)
			continue;
		snprintf(a.blade, sizeof(a.blade), "%s", p->blade);
		rc = cmc_intent_update(in, &a, err, errlen);
	}
	return rc;
}

int cmc_sprofile_move(struct cmc_intent *in, const char *name, const char *to, bool to_failed, char *err,
		      size_t errlen)
{
	struct cmc_sprofile *t, p;
	struct cmc_intent *saved;
	char from[CMC_CONFIG_NAME_MAX + 1];
	unsigned *n;
	int i = sp_index(in, name, &t, &n), rc;

	if (i < 0)
		return say(err, errlen, -ENOENT, "no server profile '%.32s'", name);
	rc = move_checks(in, &t[i], to, to_failed, err, errlen);
	if (rc)
		return rc;
	if (cmc_intent_dup(in, &saved) < 0)
		return say(err, errlen, -ENOMEM, "out of memory");
	p = t[i];
	snprintf(from, sizeof(from), "%s", p.blade);
	rc = move_vfs(in, &p, to, err, errlen);
	if (!rc)
		rc = move_surroundings(in, &p, from, err, errlen);
	if (!rc) {
		surroundings(in, &p);
		t = cmc_intent__sprofiles(in, &n);
		t[i] = p;
	}
	return all_or_nothing(in, rc, saved);
}

/* --- Records ---------------------------------------------------------------------------- */

static size_t list_out(char *buf, size_t len, const char *k, unsigned n, const char *items, size_t stride)
{
	size_t off = (size_t)snprintf(buf, len, " %s=", k);

	for (unsigned i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", items + i * stride);
	if (!n && off < len)
		off += (size_t)snprintf(buf + off, len - off, "-");
	return off;
}

void cmc_sprofile_record(const struct cmc_sprofile *p, char key[CMC_INTENT_KEY_MAX], char value[CMC_INTENT_VALUE_MAX])
{
	size_t off;

	snprintf(key, CMC_INTENT_KEY_MAX, "sprofile/%s", p->name);
	off = (size_t)snprintf(value, CMC_INTENT_VALUE_MAX, "uuid=%s serial=%s blade=%s domain=%s vfs=", p->uuid,
			       p->serial, p->blade, p->domain[0] ? p->domain : "-");
	for (unsigned i = 0; i < p->n_vfs && off < CMC_INTENT_VALUE_MAX; i++) {
		const struct cmc_sprofile_vf *v = &p->vfs[i];
		char ms[VB_MAC_STRLEN];

		off += (size_t)snprintf(value + off, CMC_INTENT_VALUE_MAX - off, "%s%u/%u/%u/%s/%u/%u/%d", i ? "," : "",
					v->slot, v->pf, v->vf, vb_mac_str(v->mac, ms), v->vlan, v->rate, v->trusted);
	}
	if (off < CMC_INTENT_VALUE_MAX)
		off += list_out(value + off, CMC_INTENT_VALUE_MAX - off, "lanes", p->n_lanes, p->lanes[0],
				sizeof(p->lanes[0]));
	if (off < CMC_INTENT_VALUE_MAX)
		list_out(value + off, CMC_INTENT_VALUE_MAX - off, "vms", p->n_vms, p->vms[0], sizeof(p->vms[0]));
}

static int parse_vf(char *s, struct cmc_sprofile_vf *v)
{
	unsigned slot, pf, vf, vlan, rate, trusted;
	char mac[24];

	if (sscanf(s, "%u/%u/%u/%23[0-9a-fA-F:]/%u/%u/%u", &slot, &pf, &vf, mac, &vlan, &rate, &trusted) != 7 ||
	    slot > 255 || pf > 7 || vf > 7 || vlan > CMC_DOMAIN_VLAN_MAX || rate > CMC_RATE_MAX_MBPS || trusted > 1 ||
	    vb_mac_parse(mac, v->mac) < 0)
		return -EINVAL;
	v->slot = slot;
	v->pf = pf;
	v->vf = vf;
	v->vlan = (uint16_t)vlan;
	v->rate = rate;
	v->trusted = trusted;
	return 0;
}

/* "a,b,c" or "-" into up to max names of size sz. */
static int parse_list(char *s, unsigned max, char *out, size_t sz, unsigned *n)
{
	*n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == max || strlen(t) >= sz)
			return -EINVAL;
		snprintf(out + (*n)++ * sz, sz, "%s", t);
	}
	return 0;
}

static int parse_record(const char *key, const char *value, struct cmc_sprofile *p)
{
	char vfs[CMC_INTENT_VALUE_MAX], lanes[128], vms[128], dom[32];
	const char *name = key + strlen("sprofile/");

	*p = (struct cmc_sprofile){ 0 };
	if (strlen(name) >= sizeof(p->name) || cmc_store_field(value, "uuid", p->uuid, sizeof(p->uuid)) < 0 ||
	    cmc_store_field(value, "serial", p->serial, sizeof(p->serial)) < 0 ||
	    cmc_store_field(value, "blade", p->blade, sizeof(p->blade)) < 0 ||
	    cmc_store_field(value, "domain", dom, sizeof(dom)) < 0 || cmc_store_field(value, "vfs", vfs, sizeof(vfs)) < 0 ||
	    cmc_store_field(value, "lanes", lanes, sizeof(lanes)) < 0 || cmc_store_field(value, "vms", vms, sizeof(vms)) < 0)
		return -EINVAL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (strcmp(dom, "-") != 0)
		snprintf(p->domain, sizeof(p->domain), "%.16s", dom);
	for (char *save = NULL, *t = strtok_r(vfs, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (p->n_vfs == CMC_SPROFILE_VFS_MAX || parse_vf(t, &p->vfs[p->n_vfs++]) < 0)
			return -EINVAL;
	if (!p->n_vfs || parse_list(lanes, CMC_SPROFILE_LANES_MAX, p->lanes[0], sizeof(p->lanes[0]), &p->n_lanes) < 0 ||
	    parse_list(vms, CMC_SPROFILE_VMS_MAX, p->vms[0], sizeof(p->vms[0]), &p->n_vms) < 0)
		return -EINVAL;
	return 0;
}

int cmc_sprofile_load_record(struct cmc_intent *in, const char *key, const char *value, char *why, size_t whylen)
{
	struct cmc_sprofile p;
	struct cmc_intent *saved;
	int rc;

	if (strncmp(key, "sprofile/", 9) != 0 || parse_record(key, value, &p) < 0)
		return say(why, whylen, -EINVAL, "unreadable");
	rc = check_identity(in, &p, why, whylen);
	for (unsigned i = 0; i < p.n_vfs && !rc; i++)
		if (!cmc_mac_in_pool(cmc_intent__chassis_id(in), p.vfs[i].mac) &&
		    cmc_mac_in_chassis_range(cmc_intent__chassis_id(in), p.vfs[i].mac))
			rc = say(why, whylen, -EADDRINUSE, "its MAC is a VF's default");
	if (rc)
		return rc;
	if (cmc_intent_dup(in, &saved) < 0)
		return say(why, whylen, -ENOMEM, "out of memory");
	return all_or_nothing(in, put_profile(in, &p, true, why, whylen), saved);
}
