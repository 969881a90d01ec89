/* SPDX-License-Identifier: MIT */
/*
 * The intent as the store keeps it (intent.h, "The store's records"): one record a fact,
 * written and read here and nowhere else. Pure string work: the caller reads and writes
 * the store.
 */
#include "intent.h"
#include "intent-private.h"

#include "api.h"
#include "sprofile.h"
#include "store.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void cmc_intent_assignment_record(const struct cmc_assignment *a, char key[CMC_INTENT_KEY_MAX],
				  char value[CMC_INTENT_VALUE_MAX])
{
	char mac[VB_MAC_STRLEN];

	snprintf(key, CMC_INTENT_KEY_MAX, "assign/%u/%u/%u", a->slot, a->pf, a->vf);
	snprintf(value, CMC_INTENT_VALUE_MAX, "blade=%s mac=%s vlan=%u rate=%u trusted=%d lane=%s vm=%s tmpl=%s%s%s",
		 a->blade, vb_mac_str(a->mac, mac), a->vlan, a->rate, a->trusted, a->lane[0] ? a->lane : "-",
		 a->vm[0] ? a->vm : "-", a->tmpl[0] ? a->tmpl : "-", a->service[0] ? " service=" : "", a->service);
}

void cmc_intent_domain_record(const struct cmc_intent *in, const struct cmc_domain *d,
			      char key[CMC_INTENT_KEY_MAX], char value[CMC_INTENT_VALUE_MAX])
{
	size_t off = (size_t)snprintf(value, CMC_INTENT_VALUE_MAX, "vlan=%u blades=", d->vlan);
	bool first = true;

	snprintf(key, CMC_INTENT_KEY_MAX, "domain/%s", d->name);
	for (unsigned i = 0; i < CMC_CONFIG_BLADES_MAX && off < CMC_INTENT_VALUE_MAX; i++) {
		const char *name = (d->members & (1ull << i)) ? cmc_intent_blade_name(in, i) : NULL;

		if (!name)
			continue;
		off += (size_t)snprintf(value + off, CMC_INTENT_VALUE_MAX - off, "%s%s", first ? "" : ",", name);
		first = false;
	}
	if (first && off < CMC_INTENT_VALUE_MAX)
		off += (size_t)snprintf(value + off, CMC_INTENT_VALUE_MAX - off, "-");
	/* A domain without a service keeps the record it had before services existed. */
	if (d->dhcp.on && off + 1 < CMC_INTENT_VALUE_MAX) {
		value[off++] = ' ';
		cmc_dhcp_format(&d->dhcp, value + off, CMC_INTENT_VALUE_MAX - off);
	}
}

void cmc_intent_lane_record(const struct cmc_lane *l, char key[CMC_INTENT_KEY_MAX],
			    char value[CMC_INTENT_VALUE_MAX])
{
	snprintf(key, CMC_INTENT_KEY_MAX, "lane/%s", l->name);
	snprintf(value, CMC_INTENT_VALUE_MAX, "slot=%u pf=%u vlan=%u net=%u", l->slot, l->pf, l->vlan, l->net);
}

void cmc_intent_role_record(unsigned slot, unsigned pf, enum cmc_port_role role, char key[CMC_INTENT_KEY_MAX],
			    char value[CMC_INTENT_VALUE_MAX])
{
	snprintf(key, CMC_INTENT_KEY_MAX, "port/%u/%u", slot, pf);
	snprintf(value, CMC_INTENT_VALUE_MAX, "role=%s", cmc_port_role_name(role));
}

void cmc_intent_fdb_record(const struct cmc_fdb *f, char key[CMC_INTENT_KEY_MAX], char value[CMC_INTENT_VALUE_MAX])
{
	char mac[VB_MAC_STRLEN];

	snprintf(key, CMC_INTENT_KEY_MAX, "fdb/%u/%u/%s", f->slot, f->pf, vb_mac_str(f->mac, mac));
	snprintf(value, CMC_INTENT_VALUE_MAX, "vf=%u", f->vf);
}

void cmc_intent_template_record(const struct cmc_template *t, char key[CMC_INTENT_KEY_MAX],
				char value[CMC_INTENT_VALUE_MAX])
{
	char allow[CMC_ALLOW_LIST_STRLEN];

	snprintf(key, CMC_INTENT_KEY_MAX, "template/%s", t->name);
	snprintf(value, CMC_INTENT_VALUE_MAX, "id=%u vlan=%u rate=%u trusted=%d allow=%s", t->id, t->vlan, t->rate,
		 t->trusted, cmc_allow_list_str(t, allow));
}

/* In the order a loader must read them: what a record refers to comes before it. */
const char *const cmc_intent_prefixes[] = { "template/", "domain/", "lane/", "port/", "sprofile/", "assign/", "fdb/", NULL };

struct role_ctx {
	cmc_intent_record_fn fn;
	void *arg;
};

static void template_record(void *arg, const struct cmc_template *t)
{
	struct role_ctx *rc = arg;
	char key[CMC_INTENT_KEY_MAX], val[CMC_INTENT_VALUE_MAX];

	cmc_intent_template_record(t, key, val);
	rc->fn(rc->arg, key, val);
}

static void role_record(void *arg, unsigned slot, unsigned pf, enum cmc_port_role role)
{
	struct role_ctx *rc = arg;
	char key[CMC_INTENT_KEY_MAX], val[CMC_INTENT_VALUE_MAX];

	cmc_intent_role_record(slot, pf, role, key, val);
	rc->fn(rc->arg, key, val);
}

void cmc_intent_foreach_record(const struct cmc_intent *in, cmc_intent_record_fn fn, void *arg)
{
	char key[CMC_INTENT_KEY_MAX], val[CMC_INTENT_VALUE_MAX];
	struct role_ctx rc = { fn, arg };

	cmc_intent__foreach_stored_template(in, template_record, &rc);
	for (unsigned i = 0; i < cmc_intent_domain_count(in); i++) {
		cmc_intent_domain_record(in, cmc_intent_domain_nth(in, i), key, val);
		fn(arg, key, val);
	}
	for (unsigned i = 0; i < cmc_intent_lane_count(in); i++) {
		cmc_intent_lane_record(cmc_intent_lane_nth(in, i), key, val);
		fn(arg, key, val);
	}
	cmc_intent__foreach_role(in, role_record, &rc);
	for (unsigned i = 0; i < cmc_intent_assignment_count(in); i++) {
		const struct cmc_assignment *a = cmc_intent_assignment_nth(in, i);

		if (a->dedicated || a->sprofile[0])	/* the profile's record holds it */
			continue;
		cmc_intent_assignment_record(a, key, val);
		fn(arg, key, val);
	}
	for (unsigned i = 0; i < cmc_intent_fdb_count(in); i++) {
		cmc_intent_fdb_record(cmc_intent_fdb_nth(in, i), key, val);
		fn(arg, key, val);
	}
	for (unsigned i = 0; i < cmc_sprofile_count(in); i++) {
		cmc_sprofile_record(cmc_sprofile_nth(in, i), key, val);
		fn(arg, key, val);
	}
}

/* --- Reading records back ------------------------------------------------------------ */

static int kv_uint(const char *value, const char *k, unsigned max, unsigned *out)
{
	char buf[16];

	return cmc_store_field(value, k, buf, sizeof(buf)) ? -EINVAL : cmc_api_parse_uint(buf, max, out);
}

/* "a/1/2/3" with exactly n numbers after the prefix, each <= its max. */
static int key_numbers(const char *key, const char *prefix, unsigned n, const unsigned *max, unsigned *out)
{
	const char *s = key + strlen(prefix);
	char part[8];

	for (unsigned i = 0; i < n; i++) {
		size_t len = strcspn(s, "/");

		if (len == 0 || len >= sizeof(part))
			return -EINVAL;
		memcpy(part, s, len);
		part[len] = '\0';
		if (cmc_api_parse_uint(part, max[i], &out[i]) < 0)
			return -EINVAL;
		s += len;
		if (i + 1 < n && *s++ != '/')
			return -EINVAL;
	}
	return *s ? -EINVAL : 0;
}

static int parse_assignment(const char *key, const char *value, struct cmc_assignment *a)
{
	static const unsigned max[3] = { 255, 7, 7 };
	unsigned loc[3], v, t;
	char mac[24];

	*a = (struct cmc_assignment){ 0 };
	if (key_numbers(key, "assign/", 3, max, loc) < 0 ||
	    cmc_store_field(value, "blade", a->blade, sizeof(a->blade)) < 0 ||
	    cmc_store_field(value, "mac", mac, sizeof(mac)) < 0 || vb_mac_parse(mac, a->mac) < 0 ||
	    kv_uint(value, "vlan", 4094, &v) < 0 || kv_uint(value, "rate", CMC_RATE_MAX_MBPS, &a->rate) < 0 ||
	    kv_uint(value, "trusted", 1, &t) < 0 || cmc_store_field(value, "lane", a->lane, sizeof(a->lane)) < 0)
		return -EINVAL;
	a->slot = loc[0];
	a->pf = loc[1];
	a->vf = loc[2];
	a->vlan = (uint16_t)v;
	a->trusted = t;
	if (strcmp(a->lane, "-") == 0)
		a->lane[0] = '\0';
	/* vm= came later: a record without it is no VM's. */
	if (cmc_store_field(value, "vm", a->vm, sizeof(a->vm)) < 0 || strcmp(a->vm, "-") == 0)
		a->vm[0] = '\0';
	/* service= came later still, and only on a domain service's VF. */
	if (cmc_store_field(value, "service", a->service, sizeof(a->service)) < 0)
		a->service[0] = '\0';
	/* tmpl= came later still. */
	if (cmc_store_field(value, "tmpl", a->tmpl, sizeof(a->tmpl)) < 0 || strcmp(a->tmpl, "-") == 0)
		a->tmpl[0] = '\0';
	return 0;
}

static int parse_template(const char *key, const char *value, struct cmc_template *t)
{
	char allow[CMC_ALLOW_LIST_STRLEN + 1];
	unsigned v, tr;

	*t = (struct cmc_template){ 0 };
	if (strlen(key + strlen("template/")) >= sizeof(t->name) || kv_uint(value, "id", CMC_TEMPLATE_ID_MAX, &t->id) < 0 ||
	    kv_uint(value, "vlan", CMC_TEMPLATE_VLAN_MAX, &v) < 0 ||
	    kv_uint(value, "rate", CMC_TEMPLATE_RATE_MAX, &t->rate) < 0 || kv_uint(value, "trusted", 1, &tr) < 0 ||
	    cmc_store_field(value, "allow", allow, sizeof(allow)) < 0 || cmc_allow_list_parse(allow, t, NULL, 0) < 0)
		return -EINVAL;
	snprintf(t->name, sizeof(t->name), "%s", key + strlen("template/"));
	t->vlan = (uint16_t)v;
	t->trusted = tr;
	return 0;
}

static int parse_domain(const struct cmc_intent *in, const char *key, const char *value, struct cmc_domain *d,
			char *why, size_t whylen)
{
	char blades[1024];
	unsigned v;

	*d = (struct cmc_domain){ 0 };
	if (strlen(key + strlen("domain/")) >= sizeof(d->name) || kv_uint(value, "vlan", 4094, &v) < 0 ||
	    cmc_store_field(value, "blades", blades, sizeof(blades)) < 0) {
		snprintf(why, whylen, "unreadable");
		return -EINVAL;
	}
	snprintf(d->name, sizeof(d->name), "%s", key + strlen("domain/"));
	d->vlan = (uint16_t)v;
	if (cmc_dhcp_from_fields(value, &d->dhcp) < 0) {
		snprintf(why, whylen, "its configuration service is unreadable");
		return -EINVAL;
	}
	if (strcmp(blades, "-") == 0)
		return 0;
	for (char *save = NULL, *t = strtok_r(blades, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int bi = cmc_intent_blade_index(in, t);

		/* A blade no longer configured simply leaves the domain. */
		if (bi >= 0)
			d->members |= 1ull << bi;
	}
	return 0;
}

static int parse_lane(const char *key, const char *value, struct cmc_lane *l)
{
	unsigned v;

	*l = (struct cmc_lane){ 0 };
	if (strlen(key + strlen("lane/")) >= sizeof(l->name) || kv_uint(value, "slot", 255, &l->slot) < 0 ||
	    kv_uint(value, "pf", 7, &l->pf) < 0 || kv_uint(value, "vlan", CMC_LANE_VLAN_MAX, &v) < 0 ||
	    kv_uint(value, "net", 254, &l->net) < 0)
		return -EINVAL;
	snprintf(l->name, sizeof(l->name), "%s", key + strlen("lane/"));
	l->vlan = (uint16_t)v;
	return 0;
}

static int parse_fdb(const char *key, const char *value, struct cmc_fdb *f)
{
	static const unsigned max[2] = { 255, 7 };
	unsigned loc[2];
	const char *mac = strrchr(key, '/');
	char head[32];

	*f = (struct cmc_fdb){ 0 };
	if (!mac || (size_t)(mac - key) >= sizeof(head))
		return -EINVAL;
	memcpy(head, key, (size_t)(mac - key));
	head[mac - key] = '\0';
	if (key_numbers(head, "fdb/", 2, max, loc) < 0 || vb_mac_parse(mac + 1, f->mac) < 0 ||
	    kv_uint(value, "vf", 7, &f->vf) < 0)
		return -EINVAL;
	f->slot = loc[0];
	f->pf = loc[1];
	return 0;
}

int cmc_intent_load_record(struct cmc_intent *in, const char *key, const char *value, char *why, size_t whylen)
{
	if (strncmp(key, "assign/", 7) == 0) {
		struct cmc_assignment a;

		if (parse_assignment(key, value, &a) < 0)
			goto unreadable;
		return cmc_intent__load_assignment(in, &a, why, whylen);
	}
	if (strncmp(key, "domain/", 7) == 0) {
		struct cmc_domain d;
		int rc = parse_domain(in, key, value, &d, why, whylen);

		return rc ? rc : cmc_intent__load_domain(in, &d, why, whylen);
	}
	if (strncmp(key, "lane/", 5) == 0) {
		struct cmc_lane l;

		if (parse_lane(key, value, &l) < 0)
			goto unreadable;
		return cmc_intent__load_lane(in, &l, why, whylen);
	}
	if (strncmp(key, "port/", 5) == 0) {
		static const unsigned max[2] = { 255, 7 };
		unsigned loc[2];
		char role[16];

		if (key_numbers(key, "port/", 2, max, loc) < 0 || cmc_store_field(value, "role", role, sizeof(role)) < 0 ||
		    (strcmp(role, "uplink") != 0 && strcmp(role, "midplane") != 0))
			goto unreadable;
		return cmc_intent__load_role(in, loc[0], loc[1],
					     role[0] == 'm' ? CMC_PORT_MIDPLANE : CMC_PORT_UPLINK, why, whylen);
	}
	if (strncmp(key, "template/", 9) == 0) {
		struct cmc_template t;

		if (parse_template(key, value, &t) < 0)
			goto unreadable;
		return cmc_intent__load_template(in, &t, why, whylen);
	}
	if (strncmp(key, "fdb/", 4) == 0) {
		struct cmc_fdb f;

		if (parse_fdb(key, value, &f) < 0)
			goto unreadable;
		return cmc_intent__load_fdb(in, &f, why, whylen);
	}
	if (strncmp(key, "sprofile/", 9) == 0)
		return cmc_sprofile_load_record(in, key, value, why, whylen);
	snprintf(why, whylen, "not a record of the intent");
	return -EINVAL;
unreadable:
	snprintf(why, whylen, "unreadable");
	return -EINVAL;
}
