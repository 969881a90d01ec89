/* SPDX-License-Identifier: MIT */
/* The commands cmcd serves on its control socket; cmcctl is their client. */
#include "accounts.h"
#include "audit.h"
#include "blades.h"
#include "vms.h"
#include "cards.h"
#include "daemon.h"
#include "failover.h"
#include "health.h"
#include "sprofile.h"
#include "inventory.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMC_VERSION "0.1"


static void list_slot_numbers(const struct mp_inventory *inv, char *buf, size_t len)
{
	size_t n = mp_slot_count(inv), off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%u", i ? ", " : "", mp_slot_at(inv, i)->number);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (n == 0)
		snprintf(buf, len, "none");
}

static enum cmc_status find_slot(struct cmcd *d, struct cmc_api_request *req, const char *arg,
				 const struct mp_slot **out)
{
	unsigned n;
	char known[256];

	if (cmc_api_parse_uint(arg, 255, &n))
		return cmc_api_refuse(req, CMC_USAGE, "'%.32s' is not a slot number (0-255)", arg);
	*out = mp_slot_find(d->inv, n);
	if (*out)
		return CMC_OK;
	list_slot_numbers(d->inv, known, sizeof(known));
	return cmc_api_refuse(req, CMC_REFUSED, "no slot %u in this chassis (slots: %s)", n, known);
}

static enum cmc_status cmd_version(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	char id[16];

	cmc_rec_begin(req->body, "version");
	cmc_rec_str(req->body, "version", CMC_VERSION);
	cmc_rec_str(req->body, "chassis", d->config->chassis_name);
	snprintf(id, sizeof(id), "0x%08x", d->chassis_id);
	cmc_rec_str(req->body, "chassis_id", id);
	cmc_rec_int(req->body, "uptime_ms", (long long)(cmc_now_ms() - d->started_ms));
	cmc_rec_int(req->body, "rescans", (long long)d->rescans);
	cmc_rec_bool(req->body, "rescanning", cmcd_rescan_running(d));
	cmc_rec_end(req->body);
	return CMC_OK;
}

static enum cmc_status cmd_slots(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	for (size_t i = 0; i < mp_slot_count(d->inv); i++)
		cmc_inventory_slot_record(mp_slot_at(d->inv, i), req->body);
	return CMC_OK;
}

static enum cmc_status cmd_slot(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	const struct mp_slot *s;
	enum cmc_status st = find_slot(d, req, req->argv[1], &s);

	if (st != CMC_OK)
		return st;
	cmc_inventory_slot_record(s, req->body);
	cmc_inventory_function_records(s, req->body);
	return CMC_OK;
}

static enum cmc_status cmd_functions(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	if (req->argc == 3) {
		const struct mp_slot *s;
		enum cmc_status st;

		if (strcmp(req->argv[1], "slot") != 0)
			return cmc_api_refuse(req, CMC_USAGE, "usage: functions [slot N]");
		st = find_slot(d, req, req->argv[2], &s);
		if (st == CMC_OK)
			cmc_inventory_function_records(s, req->body);
		return st;
	}
	if (req->argc != 1)
		return cmc_api_refuse(req, CMC_USAGE, "usage: functions [slot N]");
	for (size_t i = 0; i < mp_slot_count(d->inv); i++)
		cmc_inventory_function_records(mp_slot_at(d->inv, i), req->body);
	return CMC_OK;
}

static enum cmc_status cmd_blades(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	for (unsigned i = 0; i < d->config->blade_count; i++) {
		const struct cmc_config_blade *b = &d->config->blades[i];
		unsigned placed, n = cmc_blades_functions(d->blades, b->name, &placed);

		cmc_rec_begin(req->body, "blade");
		cmc_rec_str(req->body, "blade", b->name);
		cmc_rec_int(req->body, "id", b->id);
		cmc_rec_int(req->body, "functions", n);
		cmc_rec_int(req->body, "placed", placed);
		cmc_rec_str(req->body, "health", cmc_health_name(cmc_health_of(d->health, b->name)));
		cmc_rec_str(req->body, "profile", d->blades && cmc_sprofile_of_blade(cmc_blades_intent(d->blades), b->name) ?
				   cmc_sprofile_of_blade(cmc_blades_intent(d->blades), b->name)->name : "-");
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

static enum cmc_status cmd_events(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	if (req->argc == 2 && strcmp(req->argv[1], "follow") != 0)
		return cmc_api_refuse(req, CMC_USAGE, "usage: events [follow]");
	cmc_events_dump(d->events, req->body);
	req->follow = req->argc == 2;
	return CMC_OK;
}

static enum cmc_status cmd_rescan(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	int err = cmcd_rescan(d, "requested", true);

	/* The scan runs on: its end (or failure) is a "rescan" event. */
	if (err)
		return cmc_api_refuse(req, CMC_REFUSED, "cannot start a rescan: %s", strerror(-err));
	return CMC_OK;
}

static enum cmc_status cmd_vfstats(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	cmc_cards_records(d->cards, req->body);
	return CMC_OK;
}

static enum cmc_status cmd_portstats(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	cmc_cards_port_records(d->cards, req->body);
	return CMC_OK;
}

/* trust SLOT PF VF on|off */
static enum cmc_status cmd_trust(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	unsigned slot, pf, vf;
	bool on = strcmp(req->argv[4], "on") == 0, kept;
	char err[200];

	if (cmc_api_parse_uint(req->argv[1], 255, &slot) || cmc_api_parse_uint(req->argv[2], 7, &pf) ||
	    cmc_api_parse_uint(req->argv[3], 7, &vf) || (!on && strcmp(req->argv[4], "off") != 0))
		return cmc_api_refuse(req, CMC_USAGE, "usage: trust SLOT PF VF on|off");

	if (cmc_blades_set_trust(d->blades, slot, pf, vf, on, &kept, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	cmc_events_post(d->events, "vf-trust", (int)slot, "pf %u vf %u %s%s", pf, vf,
			on ? "trusted: may change its MAC" : "untrusted",
			kept ? "" : " (not kept: the VF is not assigned)");
	cmc_rec_begin(req->body, "trust");
	cmc_rec_int(req->body, "slot", slot);
	cmc_rec_int(req->body, "pf", pf);
	cmc_rec_int(req->body, "vf", vf);
	cmc_rec_bool(req->body, "trusted", on);
	cmc_rec_str(req->body, "kept", kept ? "with the VF's assignment" :
		    "until the VF is assigned or cmcd restarts (the VF is not assigned)");
	cmc_rec_end(req->body);
	return CMC_OK;
}

/* link-state SLOT PF VF auto|enable|disable */
static enum cmc_status cmd_link_state(void *ctx, struct cmc_api_request *req)
{
	static const char *const names[] = { "auto", "enable", "disable" };
	struct cmcd *d = ctx;
	unsigned slot, pf, vf, st;
	char err[200];

	for (st = 0; st < 3 && strcmp(req->argv[4], names[st]) != 0; st++)
		;
	if (cmc_api_parse_uint(req->argv[1], 255, &slot) || cmc_api_parse_uint(req->argv[2], 7, &pf) ||
	    cmc_api_parse_uint(req->argv[3], 7, &vf) || st == 3)
		return cmc_api_refuse(req, CMC_USAGE, "usage: link-state SLOT PF VF auto|enable|disable");
	if (cmc_cards_set_link_state(d->cards, slot, pf, vf, (enum nic_link_state)st, err,
				     sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	cmc_events_post(d->events, "vf-link-state", (int)slot, "pf %u vf %u link %s", pf, vf, names[st]);
	return CMC_OK;
}

const struct cmc_api_command cmcd_commands[] = {
	{ "version", cmd_version, 0, 0, "version", "daemon version and uptime", 0 },
	{ "slots", cmd_slots, 0, 0, "slots", "the chassis' slots and the cards in them", 0 },
	{ "slot", cmd_slot, 1, 1, "slot N", "one slot, its card and functions", 0 },
	{ "functions", cmd_functions, 0, 2, "functions [slot N]", "PFs and VFs", 0 },
	{ "blades", cmd_blades, 0, 0, "blades", "the configured blades", 0 },
	{ "events", cmd_events, 0, 1, "events [follow]", "recent events; follow streams new ones", 0 },
	{ "vfstats", cmd_vfstats, 0, 0, "vfstats", "VFs of the cards cmcd drives: MAC, counters", 0 },
	{ "portstats", cmd_portstats, 0, 0, "portstats", "ports of the cards cmcd drives: counters", 0 },
	{ "trust", cmd_trust, 4, 4, "trust SLOT PF VF on|off", "let a VF change its MAC (or not)", CMC_API_CHANGES },
	{ "link-state", cmd_link_state, 4, 4, "link-state SLOT PF VF auto|enable|disable",
	  "force a VF's link up or down, or let it follow the port", CMC_API_CHANGES },
	{ "rescan", cmd_rescan, 0, 0, "rescan", "re-read the PCIe topology now", 0 },
	{ "assign", cmc_cmd_assign, 6, 15,
	  "assign slot N [pf P] vf V blade B [mac M] [vlan X] [rate MBPS] [trusted]",
	  "give a VF to a blade", CMC_API_CHANGES },
	{ "unassign", cmc_cmd_unassign, 4, 6, "unassign slot N [pf P] vf V", "take a VF back", CMC_API_CHANGES },
	{ "assignments", cmc_cmd_assignments, 0, 0, "assignments", "which VF is in which blade", 0 },
	{ "domain", cmc_cmd_domain, 2, 16,
	  "domain create NAME [vlan X] | delete NAME | add NAME BLADE | remove NAME BLADE\n"
	  "       domain dhcp NAME subnet A.B.C.D/LEN server A.B.C.D (pool A-B [router R] [dns D] [lease S] "
	  "| relay A.B.C.D [router R]) | domain dhcp NAME off",
	  "blades of one domain reach each other, no others", CMC_API_CHANGES },
	{ "domains", cmc_cmd_domains, 0, 0, "domains", "the domains and their blades", 0 },
	{ "lane", cmc_cmd_lane, 2, 8, "lane create NAME BLADE BLADE [slot N [pf P]] | delete NAME",
	  "a private link between two blades over a midplane port", CMC_API_CHANGES },
	{ "lanes", cmc_cmd_lanes, 0, 0, "lanes", "the lanes, their VFs and addresses", 0 },
	{ "port", cmc_cmd_port, 3, 3, "port SLOT/PF role uplink|midplane", "set a port's role", CMC_API_CHANGES },
	{ "ports", cmc_cmd_ports, 0, 0, "ports", "the ports cmcd drives and their roles", 0 },
	{ "vbridge", cmc_cmd_vbridge, 1, 9,
	  "vbridge show [slot N] | add slot N [pf P] vf V mac M | del slot N [pf P] mac M",
	  "the cards' embedded bridges: forwarding table, static entries",
	  CMC_API_CHANGES_UNLESS_SHOW },
	{ "vm", cmc_cmd_vm_named, 2, 18,
	  "vm start NAME blade B [mem MB] [mac M [ip A.B.C.D] [vlan X] [rate MBPS] [trusted] [template T]] | vm stop NAME | vm set NAME rate MBPS",
	  "a VM (QEMU) on a blade", CMC_API_CHANGES },
	{ "vms", cmc_cmd_vms, 0, 0, "vms", "the VMs, where they run, their profiles", 0 },
	{ "migrate", cmc_cmd_migrate_any, 3, 5, "migrate VM|PROFILE --to BLADE [bandwidth MBPS]",
	  "move a running VM over a lane, or a server profile to another blade", CMC_API_CHANGES },
	{ "server-profile", cmc_cmd_sprofile, 1, 14,
	  "server-profile create NAME --from BLADE | --blade B --vfs N [--mac M,..] [--uuid U] [--serial S] | list | show NAME | delete NAME",
	  "a blade's identity (UUID, serial, VFs' MACs and VLANs) that moves to a spare", CMC_API_CHANGES_UNLESS_SHOW },
	{ "migrations", cmc_cmd_migrations, 0, 0, "migrations", "each VM's last migration: bytes, rate, downtime", 0 },
	{ "template", cmc_cmd_template, 1, 14,
	  "template list | add NAME [id N] [vlan X] [rate MBPS] [trusted on|off] [allow PEERS|-] | set NAME ... | del NAME",
	  "network templates: what a VM's network is, shared by the VMs naming it", CMC_API_CHANGES_UNLESS_SHOW },
	{ "account", cmc_cmd_account, 2, 6, "account add NAME role ROLE hash HASH | account del NAME",
	  "a Redfish account (root only; cmcctl hashes the password)", CMC_API_CHANGES },
	{ "accounts", cmc_cmd_accounts, 0, 0, "accounts", "the Redfish accounts and their roles", 0 },
	{ "audit", cmc_cmd_audit, 0, 0, "audit", "every change asked (cmcctl, Redfish): when, who, from where, what, outcome", 0 },
	{ NULL, NULL, 0, 0, NULL, NULL, 0 },
};
