/* SPDX-License-Identifier: MIT */
/*
 * Redfish: the PCIe fabric (Fabrics/PCIe): the chassis' switches and their downstream
 * ports (one per slot), an Endpoint per blade (the initiator: its root complex) and per
 * function of an occupied slot (targets), and a Zone per blade holding its endpoint and
 * those of the VFs assigned to it: the assignments, as a fabric manager sees them.
 */
#include "rf-tree.h"

#include "assign.h"
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAB RF_ROOT "/Fabrics/PCIe"

/* Gbit/s per lane of each PCIe generation, after encoding. */
static double lane_gbps(uint8_t speed)
{
	static const double g[] = { 0, 2.0, 4.0, 7.877, 15.754, 31.508, 63.015 };

	return speed < sizeof(g) / sizeof(g[0]) ? g[speed] : 0;
}

static int sw_index(const struct rf_ctx *c, const char *id, const struct mp_switch **sw)
{
	unsigned i;
	char tail, again[24];

	if (sscanf(id, "switch%u%c", &i, &tail) != 1 || i >= mp_switch_count(c->d->inv))
		return -ENOENT;
	snprintf(again, sizeof(again), "switch%u", i);
	if (strcmp(again, id) != 0)
		return -ENOENT;
	*sw = mp_switch_at(c->d->inv, i);
	return (int)i;
}

static int sw_port(const struct rf_ctx *c, int si, const struct mp_switch *sw, const char *pid,
		   struct rf_doc *doc)
{
	const struct mp_slot *s = rf_slot(c, pid);
	const struct mp_link *l;
	json_t *j;

	if (!s || s->sw != sw)
		return -ENOENT;
	l = &s->port.link;
	j = rf_resource("Port.v1_18_0.Port", pid, pid, FAB "/Switches/switch%d/Ports/%s", si, pid);
	json_object_set_new(j, "PortProtocol", json_string("PCIe"));
	json_object_set_new(j, "PortType", json_string("DownstreamPort"));
	json_object_set_new(j, "PortId", json_string(pid));
	bool up = s->state == MP_SLOT_OCCUPIED;
	json_object_set_new(j, "LinkStatus", json_string(up ? "LinkUp" : s->presence ? "LinkDown" : "NoLink"));
	if (up && l->valid) {
		json_object_set_new(j, "ActiveWidth", json_integer(l->width));
		json_object_set_new(j, "CurrentSpeedGbps", json_real(lane_gbps(l->speed) * l->width));
	}
	if (l->valid) {
		json_object_set_new(j, "Width", json_integer(l->max_width));
		json_object_set_new(j, "MaxSpeedGbps", json_real(lane_gbps(l->max_speed) * l->max_width));
	}
	json_object_set_new(j, "Status", rf_status(s->state == MP_SLOT_EMPTY ? "Absent" : "Enabled",
						   s->state == MP_SLOT_OCCUPIED || s->state == MP_SLOT_EMPTY ? "OK" : "Warning"));
	return rf_done(doc, j, "Port.v1_18_0.json");
}

static int switches(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	const struct mp_switch *sw;
	char bdf[MP_BDF_STRLEN];
	int si;
	json_t *j;

	if (p->n == 3) {
		j = rf_collection("SwitchCollection", "PCIe switches", FAB "/Switches");
		for (size_t i = 0; i < mp_switch_count(c->d->inv); i++)
			rf_member(j, rf_link(FAB "/Switches/switch%zu", i));
		return rf_done(doc, j, "SwitchCollection.json");
	}
	si = sw_index(c, p->seg[3], &sw);
	if (si < 0 || p->n > 6 || (p->n > 4 && strcmp(p->seg[4], "Ports") != 0))
		return -ENOENT;
	if (p->n == 6)
		return sw_port(c, si, sw, p->seg[5], doc);
	if (p->n == 5) {
		j = rf_collection("PortCollection", "Downstream ports", FAB "/Switches/switch%d/Ports", si);
		for (size_t i = 0; i < mp_slot_count(c->d->inv); i++)
			if (mp_slot_at(c->d->inv, i)->sw == sw)
				rf_member(j, rf_link(FAB "/Switches/switch%d/Ports/slot%u", si, mp_slot_at(c->d->inv, i)->number));
		return rf_done(doc, j, "PortCollection.json");
	}
	j = rf_resource("Switch.v1_11_0.Switch", p->seg[3], "PCIe switch", FAB "/Switches/switch%d", si);
	json_object_set_new(j, "SwitchType", json_string("PCIe"));
	json_object_set_new(j, "SupportedProtocols", json_pack("[s]", "PCIe"));
	json_object_set_new(j, "Manufacturer", json_string(*sw->id.vendor ? sw->id.vendor : "unknown"));
	json_object_set_new(j, "Model", json_string(*sw->id.device ? sw->id.device : "unknown"));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "Ports", rf_link(FAB "/Switches/switch%d/Ports", si));
	json_object_set_new(j, "Links", json_pack("{s:o, s:[o], s:I}",
		"Chassis", rf_link(RF_ROOT "/Chassis/%s", rf_enclosure(c)),
		"ManagedBy", rf_link(RF_ROOT "/Managers/cmc"), "ManagedBy@odata.count", (json_int_t)1));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:s}}", "Cmc", "@odata.type", "#CmcOem.v1_0_0.Switch",
						 "UpstreamBDF", mp_bdf_str(&sw->bdf, bdf)));
	return rf_done(doc, j, "Switch.v1_11_0.json");
}

/* The endpoint of a function: "slot3-pf0" or "slot3-pf0-vf1". */
static int ep_parse(const char *id, unsigned *slot, char fid[24])
{
	const char *dash = strchr(id, '-');
	char again[48];
	unsigned pf;
	int vf;

	if (!dash || sscanf(id, "slot%u-", slot) != 1 || (size_t)(dash - id) > 8)
		return -ENOENT;
	snprintf(fid, 24, "%s", dash + 1);
	if (rf_fn_parse(fid, &pf, &vf) < 0)
		return -ENOENT;
	snprintf(again, sizeof(again), "slot%u-%s", *slot, fid);
	return strcmp(again, id) == 0 ? 0 : -ENOENT;
}

static bool fn_exists(const struct mp_slot *s, const char *fid)
{
	unsigned pf;
	int vf;

	if (!s || s->state != MP_SLOT_OCCUPIED || rf_fn_parse(fid, &pf, &vf) < 0)
		return false;
	for (size_t i = 0; i < s->function_count; i++) {
		const struct mp_function *f = &s->functions[i];
		if (f->index == pf)
			return vf < 0 || ((size_t)vf < f->vf_count && f->vfs[vf].present);
	}
	return false;
}

static int endpoint(const struct rf_ctx *c, const char *id, struct rf_doc *doc)
{
	const struct cmc_config_blade *b = cmc_config_blade_by_name(c->d->config, id);
	const struct mp_slot *s;
	unsigned slot;
	char fid[24];
	json_t *j, *ent;

	if (b) {
		ent = json_pack("{s:s, s:s, s:o}", "EntityType", "RootComplex", "EntityRole", "Initiator",
				"EntityLink", rf_link(RF_ROOT "/Systems/%s", b->name));
	} else {
		if (ep_parse(id, &slot, fid) < 0 || !(s = mp_slot_find(c->d->inv, slot)) || !fn_exists(s, fid))
			return -ENOENT;
		ent = json_pack("{s:s, s:s, s:o}", "EntityType", "NetworkController", "EntityRole", "Target",
				"EntityLink", rf_link(RF_ROOT "/Chassis/%s/PCIeDevices/slot%u/PCIeFunctions/%s",
						      rf_enclosure(c), slot, fid));
	}
	j = rf_resource("Endpoint.v1_8_2.Endpoint", id, id, FAB "/Endpoints/%s", id);
	json_object_set_new(j, "EndpointProtocol", json_string("PCIe"));
	json_object_set_new(j, "ConnectedEntities", json_pack("[o]", ent));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	return rf_done(doc, j, "Endpoint.v1_8_2.json");
}

static void function_endpoints(const struct rf_ctx *c, json_t *j)
{
	char fid[24];

	for (size_t i = 0; i < mp_slot_count(c->d->inv); i++) {
		const struct mp_slot *s = mp_slot_at(c->d->inv, i);
		for (size_t k = 0; s->state == MP_SLOT_OCCUPIED && k < s->function_count; k++) {
			const struct mp_function *f = &s->functions[k];
			rf_fn_id(f->index, -1, fid, sizeof(fid));
			rf_member(j, rf_link(FAB "/Endpoints/slot%u-%s", s->number, fid));
			for (size_t v = 0; v < f->vf_count; v++) {
				if (!f->vfs[v].present)
					continue;
				rf_fn_id(f->index, (int)v, fid, sizeof(fid));
				rf_member(j, rf_link(FAB "/Endpoints/slot%u-%s", s->number, fid));
			}
		}
	}
}

static int zone(const struct rf_ctx *c, const char *id, struct rf_doc *doc)
{
	const struct cmc_config_blade *b = cmc_config_blade_by_name(c->d->config, id);
	struct rf_assignment *as = NULL;
	size_t n = 0;
	json_t *j, *eps;

	if (!b)
		return -ENOENT;
	if (rf_assignments(c, &as, &n) < 0)
		return -ENOMEM;
	eps = json_array();
	json_array_append_new(eps, rf_link(FAB "/Endpoints/%s", b->name));
	for (size_t i = 0; i < n; i++) {
		const struct mp_slot *s = mp_slot_find(c->d->inv, as[i].slot);
		char fid[24];
		rf_fn_id(as[i].pf, (int)as[i].vf, fid, sizeof(fid));
		/* an assignment whose VF is not there now (card pulled) has no endpoint */
		if (strcmp(as[i].blade, b->name) == 0 && fn_exists(s, fid))
			json_array_append_new(eps, rf_link(FAB "/Endpoints/slot%u-%s", as[i].slot, fid));
	}
	free(as);
	j = rf_resource("Zone.v1_6_3.Zone", b->name, b->name, FAB "/Zones/%s", b->name);
	json_object_set_new(j, "ZoneType", json_string("ZoneOfEndpoints"));
	json_object_set_new(j, "Actions", json_pack("{s:{s:o}, s:{s:o}}",
		"#Zone.AddEndpoint", "target", json_sprintf(FAB "/Zones/%s/Actions/Zone.AddEndpoint", b->name),
		"#Zone.RemoveEndpoint", "target", json_sprintf(FAB "/Zones/%s/Actions/Zone.RemoveEndpoint", b->name)));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "Links", json_pack("{s:o, s:I}", "Endpoints", eps, "Endpoints@odata.count",
						  (json_int_t)json_array_size(eps)));
	return rf_done(doc, j, "Zone.v1_6_3.json");
}

/* --- Zone.AddEndpoint, Zone.RemoveEndpoint: assign, unassign (cmcctl's path, assign.h) --- */

/* The one VF endpoint of the action's Endpoints parameter; false (w refused) if none. */
static bool action_endpoint(struct rf_write *w, unsigned *slot, unsigned *pf, unsigned *vf)
{
	json_t *eps = json_object_get(w->body, "Endpoints");
	const char *key, *id;
	char fid[24];
	json_t *v;
	int vfn;

	json_object_foreach(w->body, key, v)
		if (strcmp(key, "Endpoints") != 0)
			rf_fail(w, 400, rf_message("ActionParameterUnknown", NULL, 2, w->action, key));
	if (!eps) {
		rf_fail(w, 400, rf_message("ActionParameterMissing", "#/Endpoints", 2, w->action, "Endpoints"));
		return false;
	}
	id = json_string_value(json_object_get(json_array_get(eps, 0), "@odata.id"));
	if (!json_is_array(eps) || !id) {
		rf_fail(w, 400, rf_message("ActionParameterValueTypeError", "#/Endpoints", 3, "(value)", "Endpoints",
					   w->action));
		return false;
	}
	if (json_array_size(eps) != 1) {
		rf_fail(w, 400, rf_message("ActionParameterValueError", "#/Endpoints", 2, "Endpoints", w->action));
		rf_fail(w, 400, rf_message("GeneralError", NULL, 1, "one endpoint per call: each is a change of its own"));
		return false;
	}
	if (strncmp(id, FAB "/Endpoints/", sizeof(FAB "/Endpoints/") - 1) != 0 ||
	    ep_parse(id + sizeof(FAB "/Endpoints/") - 1, slot, fid) < 0 || rf_fn_parse(fid, pf, &vfn) < 0 ||
	    vfn < 0) {
		rf_fail(w, 400, rf_message("ActionParameterValueFormatError", "#/Endpoints/0", 3, id, "Endpoints",
					   w->action));
		rf_fail(w, 400, rf_message("GeneralError", NULL, 1,
					   "a zone takes the endpoint of a VF: " FAB "/Endpoints/slotN-pfP-vfV"));
		return false;
	}
	*vf = (unsigned)vfn;
	return !w->messages;
}

int rf_zone_action(struct rf_write *w, const char *zone)
{
	const struct cmc_config_blade *b = cmc_config_blade_by_name(w->c->d->config, zone);
	bool add = strcmp(w->action, "Zone.AddEndpoint") == 0;
	struct cmc_assignment n = { 0 };
	const struct cmc_assignment *a;
	char err[256];
	int rc;

	if (!b || (!add && strcmp(w->action, "Zone.RemoveEndpoint") != 0))
		return -ENOENT;
	if (!action_endpoint(w, &n.slot, &n.pf, &n.vf))
		return 0;
	snprintf(w->what, sizeof(w->what), "%s slot %u pf %u vf %u %s %s", add ? "assign" : "unassign",
		 n.slot, n.pf, n.vf, add ? "to" : "from", b->name);
	if (add) {
		snprintf(n.blade, sizeof(n.blade), "%s", b->name);
		rc = cmc_assign_add(w->c->d, &n, false, err, sizeof(err));
	} else {
		a = cmc_blades_intent(w->c->d->blades) ?
		    cmc_intent_assignment(cmc_blades_intent(w->c->d->blades), n.slot, n.pf, n.vf) : NULL;
		if (a && strcmp(a->blade, b->name) != 0) {
			snprintf(err, sizeof(err), "slot %u pf %u vf %u is in zone %s, not %s", n.slot, n.pf, n.vf,
				 a->blade, b->name);
			rf_refuse(w, -EINVAL, err);
			return 0;
		}
		rc = cmc_assign_remove(w->c->d, n.slot, n.pf, n.vf, err, sizeof(err));
	}
	if (rc < 0)
		rf_refuse(w, rc, err);
	/* Made (also when kept but not applied): the reply waits for the blades. */
	w->wait_blades = rc == 0 || rc == -EIO;
	return 0;
}

int rf_fabrics_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	const struct cmc_config *cfg = c->d->config;
	json_t *j;

	if (p->n == 1) {
		j = rf_collection("FabricCollection", "Fabrics", RF_ROOT "/Fabrics");
		rf_member(j, rf_link(FAB));
		return rf_done(doc, j, "FabricCollection.json");
	}
	if (strcmp(p->seg[1], "PCIe") != 0)
		return -ENOENT;
	if (p->n == 2) {
		j = rf_resource("Fabric.v1_4_0.Fabric", "PCIe", "The chassis' PCIe fabric", FAB);
		json_object_set_new(j, "FabricType", json_string("PCIe"));
		json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
		json_object_set_new(j, "Switches", rf_link(FAB "/Switches"));
		json_object_set_new(j, "Endpoints", rf_link(FAB "/Endpoints"));
		json_object_set_new(j, "Zones", rf_link(FAB "/Zones"));
		return rf_done(doc, j, "Fabric.v1_4_0.json");
	}
	if (strcmp(p->seg[2], "Switches") == 0)
		return switches(c, p, doc);
	if (p->n > 4)
		return -ENOENT;
	if (strcmp(p->seg[2], "Endpoints") == 0) {
		if (p->n == 4)
			return endpoint(c, p->seg[3], doc);
		j = rf_collection("EndpointCollection", "Endpoints", FAB "/Endpoints");
		for (unsigned i = 0; i < cfg->blade_count; i++)
			rf_member(j, rf_link(FAB "/Endpoints/%s", cfg->blades[i].name));
		function_endpoints(c, j);
		return rf_done(doc, j, "EndpointCollection.json");
	}
	if (strcmp(p->seg[2], "Zones") == 0) {
		if (p->n == 4)
			return zone(c, p->seg[3], doc);
		j = rf_collection("ZoneCollection", "Zones (one per blade)", FAB "/Zones");
		for (unsigned i = 0; i < cfg->blade_count; i++)
			rf_member(j, rf_link(FAB "/Zones/%s", cfg->blades[i].name));
		return rf_done(doc, j, "ZoneCollection.json");
	}
	return -ENOENT;
}
