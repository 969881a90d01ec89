/* SPDX-License-Identifier: MIT */
/*
 * cmcd's events as Redfish events (rf-events.h rf_event_map): which registry message,
 * which EventType, which resource originated it. cmcd's events carry a kind, a slot and
 * a line of text whose start names the function ("pf 0 vf 2 ...", "pf 1: ..."), the VM and
 * its blades ("vm1 blade1 -> blade2 ...") or an account; the table below says, per kind,
 * where to read the origin and which message fits. The messages are those of the
 * ResourceEvent 1.4.3 and TaskEvent 1.0.5 registries (DMTF, served at /redfish/v1/Registries;
 * t/unit/rf-events.c checks each text here against them).
 */
#include "rf-events.h"

#include "config.h"
#include "rf-tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESOURCE "ResourceEvent.1.4."
#define TASK "TaskEvent.1.0."

/* The registry messages used, with their text and severity as the registries give them. */
enum msg {
	M_CHANGED, M_CREATED, M_REMOVED, M_STATE, M_STATUS_OK, M_STATUS_WARNING, M_STATUS_CRITICAL,
	M_ERRORS, M_TASK_STARTED, M_TASK_RESUMED, M_TASK_OK, M_TASK_ABORTED, M_COUNT
};

static const struct {
	const char *id, *text, *severity, *event_type;
	unsigned nargs;
} msgs[M_COUNT] = {
	[M_CHANGED] = { RESOURCE "ResourceChanged", "One or more resource properties have changed.", "OK", "ResourceUpdated", 0 },
	[M_CREATED] = { RESOURCE "ResourceCreated", "The resource was created successfully.", "OK", "ResourceAdded", 0 },
	[M_REMOVED] = { RESOURCE "ResourceRemoved", "The resource was removed successfully.", "OK", "ResourceRemoved", 0 },
	[M_STATE] = { RESOURCE "ResourceStateChanged", "The state of resource '%1' has changed to %2.", "OK", "StatusChange", 2 },
	[M_STATUS_OK] = { RESOURCE "ResourceStatusChangedOK", "The health of resource '%1' has changed to %2.", "OK", "StatusChange", 2 },
	[M_STATUS_WARNING] = { RESOURCE "ResourceStatusChangedWarning", "The health of resource '%1' has changed to %2.", "Warning", "StatusChange", 2 },
	[M_STATUS_CRITICAL] = { RESOURCE "ResourceStatusChangedCritical", "The health of resource '%1' has changed to %2.", "Critical", "Alert", 2 },
	[M_ERRORS] = { RESOURCE "ResourceErrorsDetected", "The resource property %1 has detected errors of type '%2'.", "Warning", "Alert", 2 },
	[M_TASK_STARTED] = { TASK "TaskStarted", "The task with Id '%1' has started.", "OK", "Other", 1 },
	[M_TASK_RESUMED] = { TASK "TaskResumed", "The task with Id '%1' was resumed.", "OK", "Other", 1 },
	[M_TASK_OK] = { TASK "TaskCompletedOK", "The task with Id '%1' has completed.", "OK", "Other", 1 },
	[M_TASK_ABORTED] = { TASK "TaskAborted", "The task with Id '%1' has completed with errors.", "Critical", "Alert", 1 },
};

/* Where the origin is read from. */
enum origin {
	O_SLOT,		/* the slot's PCIeDevice */
	O_FUNCTION,	/* "pf P vf V": the VF's NetworkDeviceFunction; "pf P": the port */
	O_ADAPTER,	/* the slot's NetworkAdapter */
	O_VM_BLADE,	/* "VM ... on BLADE": the blade's ComputerSystem */
	O_MIGRATION,	/* "VM FROM -> TO ...": the source blade */
	O_BLADE_FIRST,	/* "BLADE: ..." or "BLADE joined ...": the blade */
	O_ACCOUNT,	/* "NAME added": the account */
	O_ENCLOSURE,	/* the enclosure's Chassis */
	O_FABRIC,	/* the PCIe fabric (domains) */
	O_MANAGER,	/* cmcd itself */
};

/* How the message is chosen. */
enum pick {
	P_FIXED,	/* the table's message */
	P_SLOT,		/* a slot's picture changed: added, removed, state or changed */
	P_ADD_DEL,	/* "... added|created" / "... deleted|removed", else changed */
	P_MIGRATION,	/* started, taken up again, else changed */
};

static const struct kind {
	const char *kind;
	enum origin origin;
	enum pick pick;
	enum msg msg;
	const char *state;	/* %2 of M_STATE / M_STATUS_* */
} kinds[] = {
	{ "hotplug", O_SLOT, P_SLOT, M_CHANGED, NULL },
	{ "reconcile", O_SLOT, P_SLOT, M_CHANGED, NULL },
	{ "link-up", O_FUNCTION, P_FIXED, M_STATUS_OK, "OK" },
	{ "link-down", O_FUNCTION, P_FIXED, M_STATUS_WARNING, "Warning" },
	{ "card-gone", O_SLOT, P_FIXED, M_STATUS_CRITICAL, "Critical" },
	{ "card-back", O_SLOT, P_FIXED, M_STATUS_OK, "OK" },
	{ "card-missing", O_SLOT, P_FIXED, M_ERRORS, NULL },
	{ "card-unsupported", O_SLOT, P_FIXED, M_ERRORS, NULL },
	{ "card-error", O_SLOT, P_FIXED, M_ERRORS, NULL },
	{ "problem", O_SLOT, P_FIXED, M_ERRORS, NULL },
	{ "assigned", O_FUNCTION, P_FIXED, M_CHANGED, NULL },
	{ "unassigned", O_FUNCTION, P_FIXED, M_CHANGED, NULL },
	{ "assignment-changed", O_FUNCTION, P_FIXED, M_CHANGED, NULL },
	{ "vf-placed", O_FUNCTION, P_FIXED, M_STATE, "Enabled" },
	{ "vf-kicked", O_FUNCTION, P_FIXED, M_STATE, "Reset" },
	{ "vf-trust", O_FUNCTION, P_FIXED, M_CHANGED, NULL },
	{ "vf-link-state", O_FUNCTION, P_FIXED, M_CHANGED, NULL },
	{ "vf-refused", O_FUNCTION, P_FIXED, M_ERRORS, NULL },
	{ "vf-penalty", O_FUNCTION, P_FIXED, M_STATUS_WARNING, "Warning" },
	{ "assign-error", O_FUNCTION, P_FIXED, M_ERRORS, NULL },
	{ "blade-error", O_FUNCTION, P_FIXED, M_ERRORS, NULL },
	{ "fdb-error", O_ADAPTER, P_FIXED, M_ERRORS, NULL },
	{ "port-role", O_FUNCTION, P_FIXED, M_CHANGED, NULL },
	{ "vbridge", O_ADAPTER, P_FIXED, M_CHANGED, NULL },
	{ "lane", O_ADAPTER, P_FIXED, M_CHANGED, NULL },
	{ "domain", O_BLADE_FIRST, P_FIXED, M_CHANGED, NULL },
	{ "vm", O_VM_BLADE, P_FIXED, M_CHANGED, NULL },
	{ "vm-rate", O_MANAGER, P_FIXED, M_CHANGED, NULL },
	{ "migration", O_MIGRATION, P_MIGRATION, M_CHANGED, NULL },
	{ "migrated", O_MIGRATION, P_FIXED, M_TASK_OK, NULL },
	{ "migration-failed", O_MIGRATION, P_FIXED, M_TASK_ABORTED, NULL },
	{ "rescan", O_ENCLOSURE, P_FIXED, M_CHANGED, NULL },
	{ "account", O_ACCOUNT, P_ADD_DEL, M_CHANGED, NULL },
	{ "store-dropped", O_MANAGER, P_FIXED, M_ERRORS, NULL },
};

static const struct kind *kind_of(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

/* The first word of s (up to a space or ':') into out. */
static void word(const char *s, unsigned n, char *out, size_t len)
{
	for (; n > 0 && *s; n--) {
		s += strcspn(s, " ");
		s += strspn(s, " ");
	}
	snprintf(out, len, "%.*s", (int)strcspn(s, " :"), s);
}

/* The blade named by a word of the text, if the configuration has it. */
static const char *blade_word(const struct cmc_config *cfg, const char *s, unsigned n, char *buf, size_t len)
{
	word(s, n, buf, len);
	return *buf && cmc_config_blade_by_name(cfg, buf) ? buf : NULL;
}

static const char *vm_blade(const struct cmc_config *cfg, const char *detail, char *buf, size_t len)
{
	const char *on = strstr(detail, " on ");

	return on ? blade_word(cfg, on + 4, 0, buf, len) : NULL;
}

/* The origin's URI into ev->origin and its schema into ev->resource_type. */
static void origin_of(const struct kind *k, const struct cmc_event_view *e, const struct cmc_config *cfg,
		      struct rf_event *ev)
{
	const char *enc = cfg->chassis_name, *blade = NULL;
	char b[CMC_CONFIG_NAME_MAX + 2];
	enum origin o = k ? k->origin : O_MANAGER;
	unsigned pf, vf;
	int n = 0;

	if (o == O_FUNCTION && e->slot >= 0) {
		if (sscanf(e->detail, "pf %u vf %u%n", &pf, &vf, &n) == 2 && n > 0) {
			snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Chassis/%s/NetworkAdapters/slot%d/"
				 "NetworkDeviceFunctions/pf%u-vf%u", enc, e->slot, pf, vf);
			ev->resource_type = "NetworkDeviceFunction";
			return;
		}
		if (sscanf(e->detail, "pf %u%n", &pf, &n) == 1 && n > 0) {
			snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Chassis/%s/NetworkAdapters/slot%d/Ports/%u",
				 enc, e->slot, pf);
			ev->resource_type = "Port";
			return;
		}
		o = O_SLOT;
	}
	if (o == O_FUNCTION && e->slot < 0)	/* blade-error about a whole blade */
		o = O_BLADE_FIRST;
	if (o == O_ADAPTER && e->slot >= 0) {
		snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Chassis/%s/NetworkAdapters/slot%d", enc, e->slot);
		ev->resource_type = "NetworkAdapter";
		return;
	}
	if ((o == O_SLOT || o == O_ADAPTER) && e->slot >= 0) {
		snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Chassis/%s/PCIeDevices/slot%d", enc, e->slot);
		ev->resource_type = "PCIeDevice";
		return;
	}
	if (o == O_VM_BLADE)
		blade = vm_blade(cfg, e->detail, b, sizeof(b));
	else if (o == O_MIGRATION)
		blade = blade_word(cfg, e->detail, 1, b, sizeof(b));
	else if (o == O_BLADE_FIRST)
		blade = blade_word(cfg, e->detail, 0, b, sizeof(b));
	if (blade) {
		snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Systems/%s", blade);
		ev->resource_type = "ComputerSystem";
	} else if (o == O_ACCOUNT && (word(e->detail, 0, b, sizeof(b)), *b)) {
		snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/AccountService/Accounts/%s", b);
		ev->resource_type = "ManagerAccount";
	} else if (o == O_FABRIC || (o == O_BLADE_FIRST && strcmp(e->kind, "domain") == 0)) {
		snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Fabrics/PCIe");
		ev->resource_type = "Fabric";
	} else if (o == O_ENCLOSURE || o == O_SLOT || o == O_ADAPTER) {
		snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Chassis/%s", enc);
		ev->resource_type = "Chassis";
	} else {
		snprintf(ev->origin, sizeof(ev->origin), RF_ROOT "/Managers/cmc");
		ev->resource_type = "Manager";
	}
}

/* The message for a kind whose message depends on the text. */
static enum msg pick(const struct kind *k, const char *d, const char **state)
{
	if (!k)
		return M_CHANGED;
	switch (k->pick) {
	case P_SLOT:
		if (strstr(d, " removed") || strncmp(d, "slot no longer present", 22) == 0)
			return M_REMOVED;
		if (strstr(d, " added"))
			return M_CREATED;
		if (strncmp(d, "went from ", 10) == 0 && strstr(d, " to ")) {
			*state = strstr(d, " to ") + 4;
			return M_STATE;
		}
		return M_CHANGED;
	case P_ADD_DEL:
		if (strstr(d, " added") || strstr(d, " created"))
			return M_CREATED;
		if (strstr(d, " deleted") || strstr(d, " removed"))
			return M_REMOVED;
		return M_CHANGED;
	case P_MIGRATION:
		if (strstr(d, "taken up again"))
			return M_TASK_RESUMED;
		if (strstr(d, " -> ") && strstr(d, " over lane "))
			return M_TASK_STARTED;
		return M_CHANGED;
	case P_FIXED:
		break;
	}
	*state = k->state;
	return k->msg;
}

/* The registry's text with %1 and %2 replaced by the arguments. */
static void fill(const char *tmpl, const struct rf_event *ev, char *out, size_t len)
{
	size_t w = 0;

	for (const char *p = tmpl; *p && w + 1 < len; p++) {
		if (p[0] == '%' && (p[1] == '1' || p[1] == '2') && (unsigned)(p[1] - '1') < ev->nargs) {
			w += (size_t)snprintf(out + w, len - w, "%s", ev->args[p[1] - '1']);
			if (w >= len)
				w = len - 1;
			p++;
		} else {
			out[w++] = *p;
		}
	}
	out[w] = '\0';
}

/* The state word of a slot's picture ("occupied card=..."): the first word only. */
static void arg_state(char *out, size_t len, const char *state)
{
	snprintf(out, len, "%.*s", (int)strcspn(state, " ("), state);
}

void rf_event_map(const struct cmc_event_view *e, const struct cmc_config *cfg, struct rf_event *out)
{
	const struct kind *k = kind_of(e->kind);
	const char *state = NULL;
	enum msg m = pick(k, e->detail, &state);
	struct tm tm;

	*out = (struct rf_event){ .id = e->seq, .slot = e->slot };
	gmtime_r(&e->when.tv_sec, &tm);
	strftime(out->when, sizeof(out->when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(out->kind, sizeof(out->kind), "%s", e->kind);
	snprintf(out->detail, sizeof(out->detail), "%s", e->detail);
	origin_of(k, e, cfg, out);
	snprintf(out->message_id, sizeof(out->message_id), "%s", msgs[m].id);
	out->prefix = m >= M_TASK_STARTED ? "TaskEvent" : "ResourceEvent";
	out->event_type = msgs[m].event_type;
	out->severity = msgs[m].severity;
	out->nargs = msgs[m].nargs;
	if (m >= M_TASK_STARTED) {
		/* The task is the migration, named by its VM (TaskService: issue 13, item 3). */
		word(e->detail, 0, out->args[0], sizeof(out->args[0]));
	} else if (m == M_ERRORS) {
		snprintf(out->args[0], sizeof(out->args[0]), "%s", e->kind);
		snprintf(out->args[1], sizeof(out->args[1]), "%.95s", e->detail);
	} else if (out->nargs == 2) {
		snprintf(out->args[0], sizeof(out->args[0]), "%.95s", out->origin);
		arg_state(out->args[1], sizeof(out->args[1]), state ? state : "Changed");
	}
	/* A failed rescan is worth a warning though its message is a plain change. */
	if (k && strcmp(k->kind, "rescan") == 0 && strstr(e->detail, "fail"))
		out->severity = "Warning";
	fill(msgs[m].text, out, out->message, sizeof(out->message));
}

json_t *rf_event_record(const struct rf_event *ev, const char *member_id)
{
	char id[24];
	json_t *r, *args = json_array();

	snprintf(id, sizeof(id), "%llu", ev->id);
	for (unsigned i = 0; i < ev->nargs; i++)
		json_array_append_new(args, json_string(ev->args[i]));
	r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:{s:s}, s:{s:{s:s, s:s, s:s}}}",
		      "MemberId", member_id, "EventId", id, "EventTimestamp", ev->when,
		      "EventType", ev->event_type, "MessageId", ev->message_id, "Message", ev->message,
		      "MessageSeverity", ev->severity, "Severity", ev->severity, "MessageArgs", args,
		      "OriginOfCondition", "@odata.id", ev->origin,
		      "Oem", "Cmc", "@odata.type", "#CmcOem.v1_0_0.EventRecord", "Kind", ev->kind,
		      "Detail", ev->detail);
	if (r && ev->slot >= 0)
		json_object_set_new(json_object_get(json_object_get(r, "Oem"), "Cmc"), "Slot",
				    json_integer(ev->slot));
	return r;
}

char *rf_event_payload(const struct rf_event *ev, const char *context)
{
	char id[24];
	json_t *p, *rec = rf_event_record(ev, "0");
	char *text;

	if (!rec)
		return NULL;
	snprintf(id, sizeof(id), "%llu", ev->id);
	p = json_pack("{s:s, s:s, s:s, s:[o], s:i}", "@odata.type", "#Event.v1_13_0.Event", "Id", id,
		      "Name", "cmc event", "Events", rec, "Events@odata.count", 1);
	if (p && context)
		json_object_set_new(p, "Context", json_string(context));
	text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	return text;
}
