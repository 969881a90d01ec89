/* SPDX-License-Identifier: MIT */
/*
 * The event service's pure parts (cmc/rf-events.h): cmcd's events mapped to Redfish
 * messages and origins (each message text checked against the registry the service
 * serves), and the SSE $filter: its grammar, its refusals and its matching.
 */
#include "config.h"
#include "rf-events.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct cmc_config cfg;

static void map(const char *kind, int slot, const char *detail, struct rf_event *out)
{
	struct cmc_event_view v = { .seq = 7, .when = { 1796000000, 0 }, .kind = kind, .slot = slot, .detail = detail };

	rf_event_map(&v, &cfg, out);
}

#define ENC "/redfish/v1/Chassis/enc1"

static void test_map(void)
{
	static const struct {
		const char *kind;
		int slot;
		const char *detail, *msgid, *origin;
	} cases[] = {
		{ "hotplug", 2, "card 8086:10c9 removed", "ResourceEvent.1.4.ResourceRemoved", ENC "/PCIeDevices/slot2" },
		{ "hotplug", 3, "card 8086:10c9 added (was empty)", "ResourceEvent.1.4.ResourceCreated", ENC "/PCIeDevices/slot3" },
		{ "reconcile", 1, "went from occupied (card 8086:10c9) to link-down", "ResourceEvent.1.4.ResourceStateChanged", ENC "/PCIeDevices/slot1" },
		{ "link-down", 1, "pf 0 (s1p0) link lost", "ResourceEvent.1.4.ResourceStatusChangedWarning", ENC "/NetworkAdapters/slot1/Ports/0" },
		{ "link-up", 1, "pf 1: link up", "ResourceEvent.1.4.ResourceStatusChangedOK", ENC "/NetworkAdapters/slot1/Ports/1" },
		{ "assigned", 2, "pf 0 vf 3 to blade1 (mac 02:00:00:00:00:01 vlan 0)", "ResourceEvent.1.4.ResourceChanged",
		  ENC "/NetworkAdapters/slot2/NetworkDeviceFunctions/pf0-vf3" },
		{ "vf-refused", 2, "pf 0 vf 1: set MAC refused", "ResourceEvent.1.4.ResourceErrorsDetected",
		  ENC "/NetworkAdapters/slot2/NetworkDeviceFunctions/pf0-vf1" },
		{ "blade-error", -1, "blade2: namespace gone", "ResourceEvent.1.4.ResourceErrorsDetected", "/redfish/v1/Systems/blade2" },
		{ "vm", -1, "vm1 started on blade1 (64 MiB)", "ResourceEvent.1.4.ResourceChanged", "/redfish/v1/Systems/blade1" },
		{ "migration", -1, "vm1 blade1 -> blade2 over lane mig (169.254.1.2:4444)", "TaskEvent.1.0.TaskStarted", "/redfish/v1/Systems/blade1" },
		{ "migration", -1, "vm1 blade1 -> blade2: taken up again after a restart", "TaskEvent.1.0.TaskResumed", "/redfish/v1/Systems/blade1" },
		{ "migrated", -1, "vm1 blade1 -> blade2 over lane mig: 100 bytes", "TaskEvent.1.0.TaskCompletedOK", "/redfish/v1/Systems/blade1" },
		{ "migration-failed", -1, "vm1 blade1 -> blade2: lost; the VM runs on the source", "TaskEvent.1.0.TaskAborted", "/redfish/v1/Systems/blade1" },
		{ "account", -1, "alice deleted", "ResourceEvent.1.4.ResourceRemoved", "/redfish/v1/AccountService/Accounts/alice" },
		{ "domain", -1, "blade9 joined red", "ResourceEvent.1.4.ResourceChanged", "/redfish/v1/Fabrics/PCIe" },
		{ "rescan", -1, "requested: done in 1 ms", "ResourceEvent.1.4.ResourceChanged", ENC },
		{ "something-new", -1, "whatever", "ResourceEvent.1.4.ResourceChanged", "/redfish/v1/Managers/cmc" },
	};
	struct rf_event e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		map(cases[i].kind, cases[i].slot, cases[i].detail, &e);
		tap_ok(strcmp(e.message_id, cases[i].msgid) == 0 && strcmp(e.origin, cases[i].origin) == 0,
		       "%s '%s': %s at %s", cases[i].kind, cases[i].detail, e.message_id, e.origin);
	}
	map("link-down", 1, "pf 0 (s1p0) link lost", &e);
	tap_is_str(e.message, "The health of resource '" ENC "/NetworkAdapters/slot1/Ports/0' has changed to Warning.",
		   "the message's arguments are filled in");
	tap_is_str(e.severity, "Warning", "its severity is the registry's");
	tap_is_str(e.when, "2026-11-30T00:53:20Z", "EventTimestamp in UTC");
	map("migrated", -1, "vm1 blade1 -> blade2", &e);
	tap_is_str(e.message, "The task with Id 'vm1' has completed.", "a migration's task is named by its VM");
	map("rescan", -1, "requested: failed after 3 ms: EIO", &e);
	tap_is_str(e.severity, "Warning", "a failed rescan is a warning");
}

/* Every message the map can give, as the embedded registry has it (text, severity, args). */
static void test_registry_texts(void)
{
	static const struct {
		const char *kind, *detail;
		int slot;
	} one_each[] = {
		{ "rescan", "x", -1 }, { "hotplug", "card a added", 1 }, { "hotplug", "card a removed", 1 },
		{ "reconcile", "went from a to b", 1 }, { "link-up", "pf 0: up", 1 }, { "link-down", "pf 0: down", 1 },
		{ "card-gone", "pf 0: gone", 1 }, { "problem", "bad", 1 }, { "migration", "v a -> b over lane l", -1 },
		{ "migration", "v a -> b: taken up again", -1 }, { "migrated", "v", -1 }, { "migration-failed", "v", -1 },
	};
	const char *id, *prefix, *text;
	size_t len;
	json_t *regs[8] = { 0 };

	for (size_t i = 0; i < rf_registry_count() && i < 8; i++) {
		rf_registry_at(i, &id, &prefix, &text, &len);
		regs[i] = json_loadb(text, len, 0, NULL);
	}
	for (size_t i = 0; i < sizeof(one_each) / sizeof(one_each[0]); i++) {
		struct rf_event e;
		const char *key;
		json_t *m = NULL;
		map(one_each[i].kind, one_each[i].slot, one_each[i].detail, &e);
		key = strrchr(e.message_id, '.') + 1;
		for (size_t r = 0; r < rf_registry_count() && r < 8; r++) {
			const char *patch;
			size_t n;

			/* A MessageId names Registry.Major.Minor (DSP0266); the registry's Id has the
			 * patch version too ("ResourceEvent.1.4.3"). */
			rf_registry_at(r, &id, &prefix, &text, &len);
			patch = strrchr(id, '.');
			n = patch ? (size_t)(patch - id) : strlen(id);
			if (strncmp(e.message_id, id, n) == 0 && e.message_id[n] == '.' &&
			    strcmp(e.message_id + n + 1, key) == 0)
				m = json_object_get(json_object_get(regs[r], "Messages"), key);
		}
		tap_ok(m && strcmp(json_string_value(json_object_get(m, "MessageSeverity")), e.severity) == 0 &&
		       json_integer_value(json_object_get(m, "NumberOfArgs")) == (json_int_t)e.nargs,
		       "%s is in the served registry with severity %s and %u args", e.message_id, e.severity, e.nargs);
		if (m && e.nargs == 0)
			tap_is_str(e.message, json_string_value(json_object_get(m, "Message")), "%s: the registry's text", key);
	}
	for (size_t i = 0; i < 8; i++)
		json_decref(regs[i]);
}

static bool passes(const char *filter, const struct rf_event *e)
{
	struct rf_filter *f;
	char err[160];
	bool r;

	if (rf_filter_parse(filter, &f, err, sizeof(err)) < 0) {
		tap_diag("'%s': %s", filter, err);
		return false;
	}
	r = rf_filter_match(f, e);
	rf_filter_free(f);
	return r;
}

static void test_filter(void)
{
	static const char *const bad[] = {
		"Colour eq 'red'", "MessageId", "MessageId eq", "MessageId lt 'x'", "MessageId eq 'x' and",
		"(MessageId eq 'x'", "MessageId eq 'x')", "MessageId eq 'unterminated", "SubordinateResources eq maybe",
		"MessageId eq 'x' MessageId eq 'y'",
	};
	struct rf_event e;
	struct rf_filter *f;
	char err[160], big[RF_FILTER_MAX + 64];

	map("hotplug", 2, "card 8086:10c9 removed", &e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(rf_filter_parse(bad[i], &f, err, sizeof(err)) == -EINVAL && !f, "refused: %s (%s)", bad[i], err);
	snprintf(big, sizeof(big), "MessageId eq 'x'");
	for (int i = 0; i < 40; i++)
		strcat(big, " or MessageId eq 'x'");
	tap_ok(rf_filter_parse(big, &f, err, sizeof(err)) == -E2BIG, "41 terms: too many (%s)", err);
	memset(big, '(', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tap_ok(rf_filter_parse(big, &f, err, sizeof(err)) < 0, "a flood of parentheses is refused, not recursed into");
	tap_ok(rf_filter_parse("", &f, err, sizeof(err)) == 0 && !f && rf_filter_match(f, &e), "no filter: everything");

	tap_ok(passes("MessageId eq 'ResourceEvent.1.4.ResourceRemoved'", &e), "MessageId, full");
	tap_ok(passes("MessageId eq 'ResourceEvent.ResourceRemoved'", &e), "MessageId, no version");
	tap_ok(passes("MessageId eq ResourceEvent.1.ResourceRemoved", &e), "MessageId, major only, unquoted");
	tap_ok(!passes("MessageId eq 'ResourceEvent.1.5.ResourceRemoved'", &e), "not another minor version");
	tap_ok(!passes("MessageId eq 'ResourceEvent.1.4.ResourceRemove'", &e), "not another message");
	tap_ok(!passes("MessageId eq 'TaskEvent.ResourceRemoved'", &e), "not another registry");
	tap_ok(passes("RegistryPrefix eq 'ResourceEvent'", &e) && !passes("RegistryPrefix eq TaskEvent", &e), "RegistryPrefix");
	tap_ok(passes("OriginResource eq '" ENC "/PCIeDevices/slot2'", &e), "OriginResource");
	tap_ok(passes("OriginResource eq '" ENC "/PCIeDevices/slot2/'", &e), "OriginResource with a trailing slash");
	tap_ok(!passes("OriginResource eq '" ENC "'", &e), "not a parent without SubordinateResources");
	tap_ok(passes("OriginResource eq '" ENC "' and SubordinateResources eq true", &e), "a parent with SubordinateResources");
	tap_ok(!passes("OriginResource eq '" ENC "/PCIeDevices/slot' and SubordinateResources eq true", &e),
	       "a prefix that is not a parent does not match (slot vs slot2)");
	tap_ok(passes("ResourceType eq PCIeDevice and EventType eq ResourceRemoved and EventFormatType eq Event", &e),
	       "ResourceType, EventType, EventFormatType");
	tap_ok(passes("MessageId eq 'x' or (RegistryPrefix eq 'ResourceEvent' and not (ResourceType eq 'Port'))", &e),
	       "or, and, not, parentheses");
	tap_ok(!passes("MessageId eq 'x' or RegistryPrefix eq 'ResourceEvent' and ResourceType eq 'Port'", &e),
	       "and binds tighter than or");
	tap_ok(passes("ResourceType ne Port", &e) && !passes("ResourceType ne PCIeDevice", &e), "ne");
	tap_ok(passes("MessageId eq 'it''s' or ResourceType eq PCIeDevice", &e), "a quoted quote");
}

int main(void)
{
	snprintf(cfg.chassis_name, sizeof(cfg.chassis_name), "enc1");
	cfg.blade_count = 2;
	snprintf(cfg.blades[0].name, sizeof(cfg.blades[0].name), "blade1");
	snprintf(cfg.blades[1].name, sizeof(cfg.blades[1].name), "blade2");
	cfg.blades[0].id = 1;
	cfg.blades[1].id = 2;
	test_map();
	test_registry_texts();
	test_filter();
	return tap_done();
}
