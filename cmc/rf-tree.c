/* SPDX-License-Identifier: MIT */
/*
 * The Redfish resource tree (rf-priv.h rf_tree_get): the router, the service root, the
 * OData documents, the manager, the session and account services and the registries.
 * The chassis, systems and fabric are in rf-chassis.c, rf-systems.c and rf-fabric.c.
 * Schemas: DMTF Redfish 2025.4; doc/redfish.md maps each resource to cmcd's state.
 */
#include "rf-tree.h"

#include "audit.h"

#include "daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMC_VERSION "0.1"

/* --- helpers -------------------------------------------------------------------------------- */

json_t *rf_link(const char *fmt, ...)
{
	char uri[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(uri, sizeof(uri), fmt, ap);
	va_end(ap);
	return json_pack("{s:s}", "@odata.id", uri);
}

static __attribute__((format(printf, 4, 0))) json_t *start(const char *type, const char *id, const char *name,
							    const char *fmt, va_list ap)
{
	char uri[512];

	vsnprintf(uri, sizeof(uri), fmt, ap);
	return json_pack("{s:s, s:o, s:s, s:s}", "@odata.id", uri, "@odata.type",
			 json_sprintf("#%s", type), "Id", id, "Name", name);
}

json_t *rf_resource(const char *type, const char *id, const char *name, const char *fmt, ...)
{
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = start(type, id, name, fmt, ap);
	va_end(ap);
	return j;
}

json_t *rf_collection(const char *type, const char *name, const char *fmt, ...)
{
	char t[128];
	va_list ap;
	json_t *j;

	if (strlen(type) >= sizeof(t) / 2)
		return NULL;
	snprintf(t, sizeof(t), "%s.%s", type, type);
	va_start(ap, fmt);
	j = start(t, type, name, fmt, ap);
	va_end(ap);
	if (j) {
		json_object_del(j, "Id");
		json_object_set_new(j, "Members", json_array());
	}
	return j;
}

void rf_member(json_t *coll, json_t *link)
{
	json_array_append_new(json_object_get(coll, "Members"), link);
}

int rf_done(struct rf_doc *doc, json_t *j, const char *schema)
{
	json_t *m;

	if (!j)
		return -ENOMEM;
	m = json_object_get(j, "Members");
	if (m)
		json_object_set_new(j, "Members@odata.count", json_integer((json_int_t)json_array_size(m)));
	doc->json = j;
	doc->schema = schema;
	if (!doc->allow)
		doc->allow = RF_ALLOW_GET;
	return 0;
}

json_t *rf_status(const char *state, const char *health)
{
	return health ? json_pack("{s:s, s:s}", "State", state, "Health", health)
		      : json_pack("{s:s}", "State", state);
}

void rf_mac_str(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

json_t *rf_hex(unsigned v, int digits)
{
	char s[16];

	snprintf(s, sizeof(s), "0x%0*x", digits, v);
	return json_string(s);
}

const char *rf_enclosure(const struct rf_ctx *c)
{
	return c->d->config->chassis_name;
}

void rf_fn_id(unsigned pf, int vf, char *out, size_t len)
{
	if (vf < 0)
		snprintf(out, len, "pf%u", pf);
	else
		snprintf(out, len, "pf%u-vf%d", pf, vf);
}

/* Strict: digits only, no leading zeros, so one function has one Id. */
static int parse_num(const char **s, unsigned max, unsigned *out)
{
	const char *p = *s;
	unsigned long v = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -ENOENT;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return -ENOENT;
	}
	*s = p;
	*out = (unsigned)v;
	return 0;
}

int rf_fn_parse(const char *id, unsigned *pf, int *vf)
{
	unsigned v;

	if (strncmp(id, "pf", 2) != 0)
		return -ENOENT;
	id += 2;
	if (parse_num(&id, 7, pf) < 0)
		return -ENOENT;
	*vf = -1;
	if (!*id)
		return 0;
	if (strncmp(id, "-vf", 3) != 0)
		return -ENOENT;
	id += 3;
	if (parse_num(&id, 255, &v) < 0 || *id)
		return -ENOENT;
	*vf = (int)v;
	return 0;
}

const struct mp_slot *rf_slot(const struct rf_ctx *c, const char *id)
{
	unsigned n;

	if (strncmp(id, "slot", 4) != 0)
		return NULL;
	id += 4;
	if (parse_num(&id, 255, &n) < 0 || *id)
		return NULL;
	return mp_slot_find(c->d->inv, n);
}

/* --- the service root and the OData documents -------------------------------------------- */

/* A stable UUID (RFC 4122 form, version 4 bits set) from the chassis id. */
static void service_uuid(const struct rf_ctx *c, char out[37])
{
	uint32_t id = c->d->chassis_id;

	snprintf(out, 37, "%08x-636d-4063-8000-%012x", id, (unsigned)(id ^ 0x5a5a5a5au));
}

static int root(const struct rf_ctx *c, struct rf_doc *doc)
{
	char uuid[37];
	json_t *j = rf_resource("ServiceRoot.v1_20_0.ServiceRoot", "RootService", "cmc Redfish service",
				RF_ROOT "/");

	service_uuid(c, uuid);
	json_object_set_new(j, "RedfishVersion", json_string("1.22.0"));
	json_object_set_new(j, "UUID", json_string(uuid));
	json_object_set_new(j, "Product", json_string("cmc chassis manager"));
	json_object_set_new(j, "Vendor", json_string("cmc"));
	json_object_set_new(j, "Chassis", rf_link(RF_ROOT "/Chassis"));
	json_object_set_new(j, "Systems", rf_link(RF_ROOT "/Systems"));
	json_object_set_new(j, "Managers", rf_link(RF_ROOT "/Managers"));
	json_object_set_new(j, "Fabrics", rf_link(RF_ROOT "/Fabrics"));
	json_object_set_new(j, "SessionService", rf_link(RF_ROOT "/SessionService"));
	json_object_set_new(j, "AccountService", rf_link(RF_ROOT "/AccountService"));
	json_object_set_new(j, "Registries", rf_link(RF_ROOT "/Registries"));
	json_object_set_new(j, "EventService", rf_link(RF_ROOT "/EventService"));
	json_object_set_new(j, "Tasks", rf_link(RF_ROOT "/TaskService"));
	json_object_set_new(j, "Links", json_pack("{s:o}", "Sessions",
						  rf_link(RF_ROOT "/SessionService/Sessions")));
	json_object_set_new(j, "ProtocolFeaturesSupported",
			    json_pack("{s:b, s:b, s:{s:b}}", "ExcerptQuery", 0, "OnlyMemberQuery", 0,
				      "ExpandQuery", "ExpandAll", 0));
	return rf_done(doc, j, "ServiceRoot.v1_20_0.json");
}

static int odata(struct rf_doc *doc)
{
	static const char *const names[] = { "Service", "Chassis", "Systems", "Managers", "Fabrics",
					     "SessionService", "AccountService", "Registries", "Sessions", "Tasks" };
	static const char *const urls[] = { "/redfish/v1/", "/redfish/v1/Chassis", "/redfish/v1/Systems",
					    "/redfish/v1/Managers", "/redfish/v1/Fabrics",
					    "/redfish/v1/SessionService", "/redfish/v1/AccountService",
					    "/redfish/v1/Registries", "/redfish/v1/SessionService/Sessions",
					    "/redfish/v1/TaskService" };
	json_t *v = json_array();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_array_append_new(v, json_pack("{s:s, s:s, s:s}", "name", names[i], "kind",
						   i == 0 || i == 5 || i == 6 || i == 9 ? "Singleton" : "EntitySet",
						   "url", urls[i]));
	doc->json = json_pack("{s:s, s:o}", "@odata.context", "/redfish/v1/$metadata", "value", v);
	doc->allow = RF_ALLOW_GET;
	return doc->json ? 0 : -ENOMEM;
}

/* --- the audit log as a LogService (audit.h) --------------------------------------------------- */

#define AUDIT_LOG RF_ROOT "/Managers/cmc/LogServices/Audit"

static json_t *log_entry(const struct cmc_audit_entry *e)
{
	char id[24], msg[1200];
	json_t *j;

	snprintf(id, sizeof(id), "%llu", e->id);
	snprintf(msg, sizeof(msg), "%s from %s: %s: %s", e->who, e->from, e->what, e->outcome);
	j = rf_resource("LogEntry.v1_21_0.LogEntry", id, "Audit entry", AUDIT_LOG "/Entries/%s", id);
	json_object_set_new(j, "EntryType", json_string("Oem"));
	json_object_set_new(j, "OemRecordFormat", json_string("CmcAudit"));
	json_object_set_new(j, "Created", json_string(e->time));
	json_object_set_new(j, "Severity", json_string(e->ok ? "OK" : "Warning"));
	json_object_set_new(j, "Message", json_string(msg));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:s, s:s, s:s, s:b, s:s}}", "Cmc",
		"@odata.type", "#CmcOem.v1_0_0.AuditEntry", "Who", e->who, "From", e->from, "What", e->what,
		"Succeeded", e->ok, "Outcome", e->outcome));
	return j;
}

struct entries {
	json_t *coll;		/* the collection, or NULL when one entry is looked for */
	unsigned long long want;
	json_t *found;
};

static int add_entry(const struct cmc_audit_entry *e, void *arg)
{
	struct entries *en = arg;

	if (en->coll) {
		json_array_append_new(json_object_get(en->coll, "Members"), log_entry(e));
		return 0;
	}
	if (e->id != en->want)
		return 0;
	en->found = log_entry(e);
	return 1;
}

static int log_services(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	struct entries en = { 0 };
	char tail;
	json_t *j;

	if (strcmp(p->seg[2], "LogServices") != 0 || p->n > 6 || (p->n > 3 && strcmp(p->seg[3], "Audit") != 0) ||
	    (p->n > 4 && strcmp(p->seg[4], "Entries") != 0))
		return -ENOENT;
	if (p->n == 3) {
		j = rf_collection("LogServiceCollection", "Log services", RF_ROOT "/Managers/cmc/LogServices");
		rf_member(j, rf_link(AUDIT_LOG));
		return rf_done(doc, j, "LogServiceCollection.json");
	}
	if (p->n == 4) {
		j = rf_resource("LogService.v1_9_0.LogService", "Audit", "Audit log: every change, who, from where, "
				"what, outcome", AUDIT_LOG);
		json_object_set_new(j, "ServiceEnabled", json_true());
		json_object_set_new(j, "OverWritePolicy", json_string("WrapsWhenFull"));
		json_object_set_new(j, "LogEntryType", json_string("OEM"));
		json_object_set_new(j, "Entries", rf_link(AUDIT_LOG "/Entries"));
		json_object_set_new(j, "Status", rf_status("Enabled", c->d->audit ? "OK" : "Critical"));
		return rf_done(doc, j, "LogService.v1_9_0.json");
	}
	if (p->n == 5) {
		en.coll = rf_collection("LogEntryCollection", "Audit entries", AUDIT_LOG "/Entries");
		if (cmc_audit_foreach(c->d->audit, add_entry, &en) < 0) {
			json_decref(en.coll);
			return -EIO;
		}
		return rf_done(doc, en.coll, "LogEntryCollection.json");
	}
	if (sscanf(p->seg[5], "%llu%c", &en.want, &tail) != 1 || cmc_audit_foreach(c->d->audit, add_entry, &en) < 0 ||
	    !en.found)
		return -ENOENT;
	return rf_done(doc, en.found, "LogEntry.v1_21_0.json");
}

/* --- the manager ---------------------------------------------------------------------------- */

static int managers(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	const struct cmc_config *cfg = c->d->config;
	json_t *j, *chassis, *servers;
	char uuid[37], idbuf[16];

	if (p->n == 1) {
		j = rf_collection("ManagerCollection", "Managers", RF_ROOT "/Managers");
		rf_member(j, rf_link(RF_ROOT "/Managers/cmc"));
		return rf_done(doc, j, "ManagerCollection.json");
	}
	if (p->n < 2 || strcmp(p->seg[1], "cmc") != 0)
		return -ENOENT;
	if (p->n > 2)
		return log_services(c, p, doc);
	j = rf_resource("Manager.v1_24_0.Manager", "cmc", "cmcd, the chassis manager",
			RF_ROOT "/Managers/cmc");
	service_uuid(c, uuid);
	chassis = json_array();
	servers = json_array();
	json_array_append_new(chassis, rf_link(RF_ROOT "/Chassis/%s", rf_enclosure(c)));
	for (unsigned i = 0; i < cfg->blade_count; i++) {
		json_array_append_new(chassis, rf_link(RF_ROOT "/Chassis/%s", cfg->blades[i].name));
		json_array_append_new(servers, rf_link(RF_ROOT "/Systems/%s", cfg->blades[i].name));
	}
	json_object_set_new(j, "ManagerType", json_string("EnclosureManager"));
	json_object_set_new(j, "FirmwareVersion", json_string(CMC_VERSION));
	json_object_set_new(j, "Model", json_string("cmcd"));
	json_object_set_new(j, "ServiceEntryPointUUID", json_string(uuid));
	json_object_set_new(j, "UUID", json_string(uuid));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "LogServices", rf_link(RF_ROOT "/Managers/cmc/LogServices"));
	json_object_set_new(j, "Links", json_pack("{s:o, s:I, s:o, s:I, s:[o], s:I, s:o}",
		"ManagerForChassis", chassis, "ManagerForChassis@odata.count", (json_int_t)json_array_size(chassis),
		"ManagerForServers", servers, "ManagerForServers@odata.count", (json_int_t)json_array_size(servers),
		"ManagerForFabrics", rf_link(RF_ROOT "/Fabrics/PCIe"), "ManagerForFabrics@odata.count", (json_int_t)1,
		"ManagerInChassis", rf_link(RF_ROOT "/Chassis/%s", rf_enclosure(c))));
	snprintf(idbuf, sizeof(idbuf), "0x%08x", c->d->chassis_id);
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:s, s:I}}", "Cmc",
		"@odata.type", "#CmcOem.v1_0_0.Manager", "ChassisId", idbuf, "UptimeSeconds",
		(json_int_t)((cmc_now_ms() - c->d->started_ms) / 1000)));
	return rf_done(doc, j, "Manager.v1_24_0.json");
}

/* --- sessions ------------------------------------------------------------------------------- */

static void iso_time(unsigned long long mono_ms, char out[32])
{
	time_t t = time(NULL) - (time_t)((cmc_now_ms() - mono_ms) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool may_see(const struct rf_ctx *c, const char *user)
{
	return c->who->role == CMC_ROLE_ADMINISTRATOR || strcmp(c->who->user, user) == 0;
}

static int session(const struct rf_ctx *c, const char *id, struct rf_doc *doc)
{
	const struct rf_session *s = rf_session_by_id(c->auth, id);
	char when[32];
	json_t *j;

	if (!s)
		return -ENOENT;
	if (!may_see(c, s->user))
		return -EACCES;
	iso_time(s->created_ms, when);
	j = rf_resource("Session.v1_8_0.Session", s->id, "A session", RF_ROOT "/SessionService/Sessions/%s", s->id);
	json_object_set_new(j, "UserName", json_string(s->user));
	json_object_set_new(j, "ClientOriginIPAddress", json_string(s->source));
	json_object_set_new(j, "CreatedTime", json_string(when));
	json_object_set_new(j, "SessionType", json_string("Redfish"));
	json_object_set_new(j, "Roles", json_pack("[s]", cmc_role_name(s->role)));
	json_object_set_new(j, "Password", json_null());
	json_object_set_new(j, "Token", json_null());
	doc->allow = RF_ALLOW_DELETE;
	return rf_done(doc, j, "Session.v1_8_0.json");
}

static int sessions(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	json_t *j;

	if (p->n == 1) {
		j = rf_resource("SessionService.v1_2_0.SessionService", "SessionService", "Session Service",
				RF_ROOT "/SessionService");
		json_object_set_new(j, "ServiceEnabled", json_true());
		json_object_set_new(j, "SessionTimeout", json_integer(rf_auth_timeout(c->auth)));
		json_object_set_new(j, "Sessions", rf_link(RF_ROOT "/SessionService/Sessions"));
		json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
		return rf_done(doc, j, "SessionService.v1_2_0.json");
	}
	if (strcmp(p->seg[1], "Sessions") != 0 || p->n > 3)
		return -ENOENT;
	if (p->n == 3)
		return session(c, p->seg[2], doc);
	j = rf_collection("SessionCollection", "Sessions", RF_ROOT "/SessionService/Sessions");
	size_t n = rf_session_count(c->auth);
	for (size_t i = 0; i < n; i++) {
		const struct rf_session *s = rf_session_at(c->auth, i);
		if (s && may_see(c, s->user))
			rf_member(j, rf_link(RF_ROOT "/SessionService/Sessions/%s", s->id));
	}
	doc->allow = RF_ALLOW_POST;
	return rf_done(doc, j, "SessionCollection.json");
}

/* --- accounts and roles -------------------------------------------------------------------- */

struct acct_list {
	const struct rf_ctx *c;
	json_t *coll;
};

static int acct_member(const char *name, enum cmc_role role, void *arg)
{
	struct acct_list *l = arg;

	(void)role;
	if (may_see(l->c, name))
		rf_member(l->coll, rf_link(RF_ROOT "/AccountService/Accounts/%s", name));
	return 0;
}

static int account(const struct rf_ctx *c, const char *name, struct rf_doc *doc)
{
	char hash[CMC_ACCOUNT_HASH_MAX + 1];
	enum cmc_role role;
	json_t *j;

	if (cmc_account_get(c->d->store, name, &role, hash, sizeof(hash)) < 0)
		return -ENOENT;
	if (!may_see(c, name))
		return -EACCES;
	j = rf_resource("ManagerAccount.v1_14_1.ManagerAccount", name, "User account",
			RF_ROOT "/AccountService/Accounts/%s", name);
	json_object_set_new(j, "UserName", json_string(name));
	json_object_set_new(j, "RoleId", json_string(cmc_role_name(role)));
	json_object_set_new(j, "Enabled", json_true());
	json_object_set_new(j, "Locked", json_false());
	json_object_set_new(j, "Password", json_null());
	json_object_set_new(j, "AccountTypes", json_pack("[s]", "Redfish"));
	json_object_set_new(j, "Links", json_pack("{s:o}", "Role",
		rf_link(RF_ROOT "/AccountService/Roles/%s", cmc_role_name(role))));
	return rf_done(doc, j, "ManagerAccount.v1_14_1.json");
}

/* The standard roles' privileges (DSP0266 §13.2.2, Redfish_1.x privilege registry). */
static int role(const char *id, struct rf_doc *doc)
{
	static const char *const privs[CMC_ROLE_COUNT] = {
		[CMC_ROLE_ADMINISTRATOR] = "Login ConfigureManager ConfigureUsers ConfigureComponents ConfigureSelf",
		[CMC_ROLE_OPERATOR] = "Login ConfigureComponents ConfigureSelf",
		[CMC_ROLE_READONLY] = "Login ConfigureSelf",
	};
	int r = cmc_role_parse(id);
	char copy[128], *save = NULL;
	json_t *j, *a;

	if (r < 0)
		return -ENOENT;
	j = rf_resource("Role.v1_3_3.Role", id, id, RF_ROOT "/AccountService/Roles/%s", id);
	a = json_array();
	snprintf(copy, sizeof(copy), "%s", privs[r]);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		json_array_append_new(a, json_string(w));
	json_object_set_new(j, "RoleId", json_string(id));
	json_object_set_new(j, "IsPredefined", json_true());
	json_object_set_new(j, "AssignedPrivileges", a);
	return rf_done(doc, j, "Role.v1_3_3.json");
}

static int accounts(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	json_t *j;

	if (p->n == 1) {
		j = rf_resource("AccountService.v1_18_1.AccountService", "AccountService", "Account Service",
				RF_ROOT "/AccountService");
		json_object_set_new(j, "ServiceEnabled", json_true());
		json_object_set_new(j, "Accounts", rf_link(RF_ROOT "/AccountService/Accounts"));
		json_object_set_new(j, "Roles", rf_link(RF_ROOT "/AccountService/Roles"));
		json_object_set_new(j, "LocalAccountAuth", json_string("Enabled"));
		json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
		return rf_done(doc, j, "AccountService.v1_18_1.json");
	}
	if (p->n == 2 && strcmp(p->seg[1], "Accounts") == 0) {
		struct acct_list l = { c, rf_collection("ManagerAccountCollection", "Accounts",
							RF_ROOT "/AccountService/Accounts") };
		cmc_accounts_foreach(c->d->store, acct_member, &l);
		return rf_done(doc, l.coll, "ManagerAccountCollection.json");
	}
	if (p->n == 3 && strcmp(p->seg[1], "Accounts") == 0)
		return account(c, p->seg[2], doc);
	if (p->n == 2 && strcmp(p->seg[1], "Roles") == 0) {
		j = rf_collection("RoleCollection", "Roles", RF_ROOT "/AccountService/Roles");
		for (int r = 0; r < CMC_ROLE_COUNT; r++)
			rf_member(j, rf_link(RF_ROOT "/AccountService/Roles/%s", cmc_role_name((enum cmc_role)r)));
		return rf_done(doc, j, "RoleCollection.json");
	}
	if (p->n == 3 && strcmp(p->seg[1], "Roles") == 0)
		return role(p->seg[2], doc);
	return -ENOENT;
}

/* --- registries ----------------------------------------------------------------------------- */

static int registries(const struct rf_path *p, struct rf_doc *doc)
{
	const char *id, *prefix, *text;
	size_t len;
	json_t *j;

	if (p->n == 1) {
		j = rf_collection("MessageRegistryFileCollection", "Message registries", RF_ROOT "/Registries");
		for (size_t i = 0; i < rf_registry_count(); i++) {
			rf_registry_at(i, &id, &prefix, &text, &len);
			rf_member(j, rf_link(RF_ROOT "/Registries/%s", prefix));
		}
		return rf_done(doc, j, "MessageRegistryFileCollection.json");
	}
	for (size_t i = 0; i < rf_registry_count(); i++) {
		rf_registry_at(i, &id, &prefix, &text, &len);
		if (strcmp(p->seg[1], prefix) != 0)
			continue;
		if (p->n == 3 && strcmp(p->seg[2], id) == 0) {
			/* The registry itself, as DMTF publishes it. */
			doc->json = json_loadb(text, len, 0, NULL);
			doc->allow = RF_ALLOW_GET;
			doc->schema = "MessageRegistry.v1_7_0.json";
			return doc->json ? 0 : -ENOMEM;
		}
		if (p->n != 2)
			return -ENOENT;
		char reg[32], pub[128], local[128];
		snprintf(reg, sizeof(reg), "%.*s", (int)(strrchr(id, '.') - id), id);
		snprintf(pub, sizeof(pub), "https://redfish.dmtf.org/registries/%s.json", id);
		snprintf(local, sizeof(local), RF_ROOT "/Registries/%s/%s", prefix, id);
		j = rf_resource("MessageRegistryFile.v1_1_5.MessageRegistryFile", prefix, prefix,
				RF_ROOT "/Registries/%s", prefix);
		json_object_set_new(j, "Languages", json_pack("[s]", "en"));
		json_object_set_new(j, "Registry", json_string(reg));
		json_object_set_new(j, "Location", json_pack("[{s:s, s:s, s:s}]", "Language", "en",
							     "Uri", local, "PublicationUri", pub));
		return rf_done(doc, j, "MessageRegistryFile.v1_1_5.json");
	}
	return -ENOENT;
}

/* --- the router ----------------------------------------------------------------------------- */

int rf_path_split(const char *path, char *buf, size_t len, struct rf_path *p)
{
	char *save = NULL;

	p->n = 0;
	if (strlen(path) >= len)
		return -ENOENT;
	snprintf(buf, len, "%s", path);
	for (char *s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (p->n == RF_SEGS_MAX)
			return -ENOENT;
		p->seg[p->n++] = s;
	}
	return 0;
}

int rf_tree_get(const struct rf_ctx *c, const char *path, struct rf_doc *doc)
{
	char buf[512];
	struct rf_path p;

	*doc = (struct rf_doc){ 0 };
	if (strcmp(path, "/redfish") == 0) {
		doc->json = json_pack("{s:s}", "v1", "/redfish/v1/");
		doc->allow = RF_ALLOW_GET;
		return doc->json ? 0 : -ENOMEM;
	}
	if (strcmp(path, RF_ROOT "/") == 0)
		return root(c, doc);
	if (strcmp(path, RF_ROOT "/odata") == 0)
		return odata(doc);
	if (strcmp(path, RF_ROOT "/$metadata") == 0) {
		doc->xml = rf_metadata_xml;
		doc->allow = RF_ALLOW_GET;
		return 0;
	}
	if (strncmp(path, RF_ROOT "/", sizeof(RF_ROOT)) != 0 || !c->who)
		return -ENOENT;
	if (strcmp(path, RF_ROOT "/schemas/CmcOem_v1.xml") == 0) {
		doc->xml = rf_oem_csdl;
		doc->allow = RF_ALLOW_GET;
		return 0;
	}
	if (rf_path_split(path + sizeof(RF_ROOT), buf, sizeof(buf), &p) < 0 || p.n == 0)
		return -ENOENT;
	if (strcmp(p.seg[0], "Chassis") == 0)
		return rf_chassis_get(c, &p, doc);
	if (strcmp(p.seg[0], "Systems") == 0)
		return rf_systems_get(c, &p, doc);
	if (strcmp(p.seg[0], "Fabrics") == 0)
		return rf_fabrics_get(c, &p, doc);
	if (strcmp(p.seg[0], "Managers") == 0)
		return managers(c, &p, doc);
	if (strcmp(p.seg[0], "SessionService") == 0)
		return sessions(c, &p, doc);
	if (strcmp(p.seg[0], "AccountService") == 0)
		return accounts(c, &p, doc);
	if (strcmp(p.seg[0], "Registries") == 0)
		return registries(&p, doc);
	if (strcmp(p.seg[0], "TaskService") == 0)
		return rf_tasks_get(c, &p, doc);
	return -ENOENT;
}
