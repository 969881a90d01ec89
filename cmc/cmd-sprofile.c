/* SPDX-License-Identifier: MIT */
/*
 * server-profile, and migrate for a server profile (failover.h). The rules are
 * sprofile.c's; a change is made as blades.h says (check, commit, apply).
 */
#include "failover.h"

#include "blades.h"
#include "daemon.h"
#include "health.h"
#include "log.h"
#include "sprofile.h"
#include "store.h"
#include "vbridge.h"
#include "vms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define JOURNAL "failover/"

/* --- Moves ------------------------------------------------------------------------------ */

struct moved {
	struct cmcd *d;
	char name[CMC_INTENT_NAME_MAX + 1];
	char from[CMC_CONFIG_NAME_MAX + 1];	/* a failover's failed blade, "" for a planned move */
};

/* Step 5: the blades did their part (the spare is on, the profile's VFs are in it): a
 * failover's VMs start again there (step 6), then the journal record goes. A cmcd killed
 * before the record goes does this again at its start; each VM already moved is the
 * spare's then, and cmc_vms_restart takes up only those still on the failed blade. */
static void journal_done(void *arg)
{
	struct moved *m = arg;
	char key[CMC_STORE_KEY_MAX + 1];
	const struct cmc_sprofile *p;

	p = m->d->blades ? cmc_sprofile_find(cmc_blades_intent(m->d->blades), m->name) : NULL;
	if (p && m->from[0] && strcmp(m->from, p->blade) != 0)
		(void)cmc_vms_restart(m->d, m->from, p->blade);
	snprintf(key, sizeof(key), JOURNAL "%s", m->name);
	if (m->d->store && cmc_store_get(m->d->store, key) && (cmc_store_del(m->d->store, key) < 0 ||
							       cmc_store_commit(m->d->store) < 0))
		log_warnx("store: %s stays (it is finished again at the next start)", key);
	if (p)
		cmc_events_post(m->d->events, "server-profile-moved", -1, "%s runs on %s", p->name, p->blade);
	free(m);
}

/* failed: the failed blade of a failover, NULL for a planned move. */
static void when_done(struct cmcd *d, const char *name, const char *failed)
{
	struct moved *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->d = d;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->from, sizeof(m->from), "%s", failed ? failed : "");
	if (cmc_blades_when_done(d->blades, journal_done, m) < 0)
		free(m);
}

/* Steps 2-4 of a failover (failover.h), once the change is in the intent. */
static int failover_apply(struct cmcd *d, struct cmc_intent *old, const char *name, const char *to, char *err,
			  size_t errlen)
{
	int rc = cmc_blades_change_end_cards(d->blades, old, "failover", err, errlen);
	const struct cmc_sprofile *p = cmc_sprofile_find(cmc_blades_intent(d->blades), name);

	if (!p || strcmp(p->blade, to) != 0)	/* the store refused: nothing moved */
		return rc ? rc : -EIO;
	if (cmc_health_of(d->health, to) != CMC_BLADE_UP && cmc_health_power(d->health, to, true) < 0)
		log_warnx("blade %s: cannot be powered on", to);
	cmc_blades_tidy(d->blades);
	return rc;
}

static bool down(const struct cmcd *d, const char *blade)
{
	enum cmc_blade_health h = cmc_health_of(d->health, blade);

	return h == CMC_BLADE_DOWN || h == CMC_BLADE_FAILED;
}

int cmc_sprofile_migrate(struct cmcd *d, const char *name, const char *to, bool *failover, char *err, size_t errlen)
{
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	const struct cmc_sprofile *p = in ? cmc_sprofile_find(in, name) : NULL;
	char from[CMC_CONFIG_NAME_MAX + 1], key[CMC_STORE_KEY_MAX + 1], val[128], vms[128];
	bool fo;
	int rc;

	if (!in)
		return snprintf(err, errlen, "blades are not available"), -ENODEV;
	if (!p)
		return snprintf(err, errlen, "no server profile '%.32s'", name), -ENOENT;
	snprintf(from, sizeof(from), "%s", p->blade);
	fo = cmc_health_of(d->health, from) != CMC_BLADE_UP;
	if (failover)
		*failover = fo;
	/* A planned move takes no running VM along: a VM's move is a live migration over a
	 * lane, which can fail on its own; chained to the profile's it would leave one of the
	 * two half done. The administrator migrates or stops them first. */
	if (cmc_vms_on_blade(d->vms, from, vms, sizeof(vms)) && !fo)
		return snprintf(err, errlen, "blade %s runs VMs (%s): migrate them (cmcctl migrate VM --to BLADE) or "
			 "stop them before the profile moves", from, vms), -EBUSY;
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	rc = cmc_sprofile_move(in, name, to, down(d, to), err, errlen);
	if (rc) {
		cmc_blades_change_abort(d->blades, old);
		return rc;
	}
	/* Step 1: the journal record rides in the change's own commit. */
	snprintf(key, sizeof(key), JOURNAL "%s", name);
	snprintf(val, sizeof(val), "from=%s to=%s kind=%s", from, to, fo ? "failover" : "planned");
	if (cmc_store_set(d->store, key, val) < 0) {
		cmc_blades_change_abort(d->blades, old);
		return snprintf(err, errlen, "the store refused the journal record"), -EIO;
	}
	if (fo) {
		rc = failover_apply(d, old, name, to, err, errlen);
	} else {
		if (cmc_health_of(d->health, to) == CMC_BLADE_OFF && cmc_health_power(d->health, to, true) < 0)
			log_warnx("blade %s: cannot be powered on", to);
		rc = cmc_blades_change_finish(d->blades, old, 0, "sprofile-move", err, errlen);
	}
	/* -EIO: the store refused (nothing moved) or a card did not apply a VF (it moved,
	 * marked not applied): the intent tells which. */
	p = cmc_sprofile_find(in, name);
	if (!p || strcmp(p->blade, to) != 0)
		return rc ? rc : -EIO;
	cmc_events_post(d->events, fo ? "failover" : "server-profile-move", -1, "%s from %s to %s", name, from, to);
	if (fo && *vms)
		cmc_events_post(d->events, "failover", -1, "%s: VMs %s lost their state with %s: they start again on "
				"%s from their configuration", name, vms, from, to);
	when_done(d, name, fo ? from : NULL);
	return rc;
}

static int resume_one(const char *key, const char *value, void *arg)
{
	struct cmcd *d = arg;
	char from[CMC_CONFIG_NAME_MAX + 1], kind[16];
	bool fo = cmc_store_field(value, "kind", kind, sizeof(kind)) == 0 && strcmp(kind, "failover") == 0 &&
		  cmc_store_field(value, "from", from, sizeof(from)) == 0;

	cmc_events_post(d->events, "failover-resumed", -1, "%s: %s", key + strlen(JOURNAL), value);
	when_done(d, key + strlen(JOURNAL), fo ? from : NULL);
	return 0;
}

void cmc_sprofile_resume(struct cmcd *d)
{
	if (!d->blades || !cmc_store_count(d->store, JOURNAL))
		return;
	/* Start applied the intent in full: what is left is the blades' part. */
	cmc_blades_tidy(d->blades);
	(void)cmc_store_foreach(d->store, JOURNAL, resume_one, d);
}

/* --- The command ------------------------------------------------------------------------ */

struct create_args {
	const char *from, *blade, *uuid, *serial, *macs;
	unsigned vfs;
	bool vfs_seen;
};

/* Keywords after the name, each once: --from B | --blade B --vfs N [--mac M,..] [--uuid U] [--serial S]. */
static enum cmc_status parse_create(struct cmc_api_request *req, struct create_args *a)
{
	static const char usage[] = "usage: server-profile create NAME --from BLADE [--uuid U] [--serial S] | "
				    "create NAME --blade BLADE --vfs N [--mac M[,M...]] [--uuid U] [--serial S]";
	const char *seen[6] = { 0 };

	*a = (struct create_args){ 0 };
	for (int i = 3; i < req->argc; i += 2) {
		const char *k = req->argv[i] + (strncmp(req->argv[i], "--", 2) == 0 ? 2 : 0);
		static const char *const keys[] = { "from", "blade", "uuid", "serial", "mac", "vfs" };
		const char **slot[] = { &a->from, &a->blade, &a->uuid, &a->serial, &a->macs, NULL };
		unsigned j;

		for (j = 0; j < 6 && strcmp(k, keys[j]) != 0; j++)
			;
		if (j == 6 || i + 1 >= req->argc)
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		if (seen[j])
			return cmc_api_refuse(req, CMC_USAGE, "'%s' given twice", keys[j]);
		seen[j] = req->argv[i + 1];
		if (slot[j])
			*slot[j] = req->argv[i + 1];
		else if (cmc_api_parse_uint(req->argv[i + 1], CMC_SPROFILE_VFS_MAX, &a->vfs) < 0 || !a->vfs)
			return cmc_api_refuse(req, CMC_USAGE, "--vfs takes 1-%d", CMC_SPROFILE_VFS_MAX);
	}
	a->vfs_seen = seen[5] != NULL;
	if (!!a->from == !!a->blade || (a->from && (a->vfs_seen || a->macs)) || (a->blade && !a->vfs_seen))
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	return CMC_OK;
}

/* A random UUID (RFC 9562 version 4). */
static int uuid_new(char out[CMC_SPROFILE_UUID_LEN + 1])
{
	uint8_t u[16];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return -EIO;
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	snprintf(out, CMC_SPROFILE_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
		 u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	return 0;
}

static int parse_macs(const char *s, uint8_t (*macs)[6], unsigned *n)
{
	char buf[CMC_SPROFILE_VFS_MAX * 18 + 1];

	*n = 0;
	if (!s)
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*n == CMC_SPROFILE_VFS_MAX || vb_mac_parse(t, macs[(*n)++]) < 0)
			return -EINVAL;
	return 0;
}

static enum cmc_status cmd_create(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	uint8_t macs[CMC_SPROFILE_VFS_MAX][6];
	struct create_args a;
	struct cmc_vm_view vm;
	char uuid[CMC_SPROFILE_UUID_LEN + 1], err[256];
	const char *name = req->argv[2];
	unsigned n_macs;
	int rc;
	enum cmc_status st = parse_create(req, &a);

	if (st != CMC_OK)
		return st;
	if (parse_macs(a.macs, macs, &n_macs) < 0)
		return cmc_api_refuse(req, CMC_USAGE, "--mac takes MACs separated by commas (at most %d)",
				      CMC_SPROFILE_VFS_MAX);
	if (cmc_vms_get(d->vms, name, &vm) == 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s is the name of a VM", name);
	if (!a.uuid && uuid_new(uuid) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "cannot draw a UUID");
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	if (a.from)
		rc = cmc_sprofile_create_from(in, name, a.from, a.uuid ? a.uuid : uuid, a.serial, err, sizeof(err));
	else
		rc = cmc_sprofile_create(in, name, a.blade, a.vfs, (const uint8_t(*)[6])macs, n_macs,
					 a.uuid ? a.uuid : uuid, a.serial, err, sizeof(err));
	rc = cmc_blades_change_finish(d->blades, old, rc, "sprofile", err, sizeof(err));
	if (!rc || rc == -EIO) {
		cmc_events_post(d->events, "server-profile", -1, "%s created on %s", name, a.from ? a.from : a.blade);
		cmc_health_kick(d->health);
	}
	return cmc_blades_reply(d->blades, req, rc, err);
}

static void profile_record(struct cmcd *d, struct cmc_api_request *req, const struct cmc_sprofile *p)
{
	char macs[CMC_SPROFILE_VFS_MAX * 18 + 1] = "", lanes[64] = "", vms[80] = "", ms[VB_MAC_STRLEN];
	size_t off = 0;

	for (unsigned i = 0; i < p->n_vfs && off < sizeof(macs); i++)
		off += (size_t)snprintf(macs + off, sizeof(macs) - off, "%s%s", i ? "," : "", vb_mac_str(p->vfs[i].mac, ms));
	off = 0;
	for (unsigned i = 0; i < p->n_lanes && off < sizeof(lanes); i++)
		off += (size_t)snprintf(lanes + off, sizeof(lanes) - off, "%s%s", i ? "," : "", p->lanes[i]);
	off = 0;
	for (unsigned i = 0; i < p->n_vms && off < sizeof(vms); i++)
		off += (size_t)snprintf(vms + off, sizeof(vms) - off, "%s%s", i ? "," : "", p->vms[i]);
	cmc_rec_begin(req->body, "server-profile");
	cmc_rec_str(req->body, "name", p->name);
	cmc_rec_str(req->body, "blade", p->blade);
	cmc_rec_str(req->body, "health", cmc_health_name(cmc_health_of(d->health, p->blade)));
	cmc_rec_str(req->body, "uuid", p->uuid);
	cmc_rec_str(req->body, "serial", p->serial);
	cmc_rec_int(req->body, "vfs", p->n_vfs);
	cmc_rec_str(req->body, "macs", macs);
	cmc_rec_str(req->body, "domain", p->domain[0] ? p->domain : "-");
	cmc_rec_str(req->body, "lanes", *lanes ? lanes : "-");
	cmc_rec_str(req->body, "vms", *vms ? vms : "-");
	cmc_rec_end(req->body);
}

static void vf_records(struct cmcd *d, struct cmc_api_request *req, const struct cmc_sprofile *p)
{
	const struct cmc_intent *in = cmc_blades_intent(d->blades);

	for (unsigned i = 0; i < p->n_vfs; i++) {
		const struct cmc_sprofile_vf *v = &p->vfs[i];
		const struct cmc_assignment *a = cmc_intent_assignment(in, v->slot, v->pf, v->vf);
		struct cmc_vf_state vs;
		char ms[VB_MAC_STRLEN], ifname[16] = "-";

		cmc_blades_vf_state(d->blades, v->slot, v->pf, v->vf, &vs);
		if (a)
			cmc_blades_ifname(a, ifname);
		cmc_rec_begin(req->body, "server-profile-vf");
		cmc_rec_str(req->body, "profile", p->name);
		cmc_rec_int(req->body, "slot", v->slot);
		cmc_rec_int(req->body, "pf", v->pf);
		cmc_rec_int(req->body, "vf", v->vf);
		cmc_rec_str(req->body, "mac", vb_mac_str(v->mac, ms));
		cmc_rec_int(req->body, "vlan", a ? cmc_intent_vlan_of(in, a) : v->vlan);
		cmc_rec_int(req->body, "rate", v->rate);
		cmc_rec_str(req->body, "netdev", ifname);
		cmc_rec_bool(req->body, "placed", vs.placed);
		cmc_rec_bool(req->body, "applied", vs.applied);
		cmc_rec_end(req->body);
	}
}

enum cmc_status cmc_cmd_sprofile(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] = "usage: server-profile create NAME ... | list | show NAME | delete NAME";
	struct cmcd *d = ctx;
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	const struct cmc_sprofile *p;
	const char *sub = req->argv[1];
	char err[256];
	int rc;

	if (!in)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (strcmp(sub, "list") == 0 && req->argc == 2) {
		for (unsigned i = 0; (p = cmc_sprofile_nth(in, i)); i++)
			profile_record(d, req, p);
		return CMC_OK;
	}
	if (req->argc < 3)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (strcmp(sub, "create") == 0)
		return cmd_create(d, req);
	if (req->argc != 3 || (strcmp(sub, "show") != 0 && strcmp(sub, "delete") != 0))
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	p = cmc_sprofile_find(in, req->argv[2]);
	if (!p)
		return cmc_api_refuse(req, CMC_REFUSED, "no server profile '%.32s'", req->argv[2]);
	if (sub[0] == 's') {
		profile_record(d, req, p);
		vf_records(d, req, p);
		return CMC_OK;
	}
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	rc = cmc_blades_change_finish(d->blades, old, cmc_sprofile_delete(in, req->argv[2], err, sizeof(err)),
				      "sprofile", err, sizeof(err));
	if (!rc)
		cmc_events_post(d->events, "server-profile", -1, "%s deleted", req->argv[2]);
	cmc_health_kick(d->health);
	return cmc_blades_reply(d->blades, req, rc, err);
}

enum cmc_status cmc_cmd_migrate_any(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	const struct cmc_intent *in = cmc_blades_intent(d->blades);
	char err[256];
	bool fo;

	if (req->argc < 2 || !in || !cmc_sprofile_find(in, req->argv[1]))
		return cmc_cmd_migrate(ctx, req);
	if (req->argc != 4 || strcmp(req->argv[2], "to") != 0)
		return cmc_api_refuse(req, CMC_USAGE, "usage: migrate PROFILE --to BLADE");
	return cmc_blades_reply(d->blades, req, cmc_sprofile_migrate(d, req->argv[1], req->argv[3], &fo, err,
								     sizeof(err)), err);
}

enum cmc_status cmc_cmd_vm_named(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	const struct cmc_intent *in = cmc_blades_intent(d->blades);

	if (req->argc >= 3 && strcmp(req->argv[1], "start") == 0 && in && cmc_sprofile_find(in, req->argv[2]))
		return cmc_api_refuse(req, CMC_REFUSED, "%s is the name of a server profile", req->argv[2]);
	return cmc_cmd_vm(ctx, req);
}
