/* SPDX-License-Identifier: MIT */
/*
 * Redfish: the enclosure (Chassis/<chassis>) with a PCIeDevice per slot and its
 * PCIeFunctions, a NetworkAdapter per card with its NetworkDeviceFunctions and Ports.
 * Read from the inventory (mp.h), the cards (cards.h) and the assignments (blades.h) on
 * each request. Slot states map to Status (doc/redfish.md).
 */
#include "rf-tree.h"

#include "assign.h"
#include "blades.h"
#include "vbridge.h"
#include "cards.h"
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCI_CLASS_NETWORK 0x02

/* The inventory's slot state as Redfish Status (Resource.Status). */
static json_t *slot_status(const struct mp_slot *s)
{
	switch (s->state) {
	case MP_SLOT_EMPTY: return rf_status("Absent", NULL);
	case MP_SLOT_LINK_DOWN: return rf_status("UnavailableOffline", "Warning");
	case MP_SLOT_NOT_RESPONDING: return rf_status("UnavailableOffline", "Critical");
	case MP_SLOT_UNREADABLE: return rf_status("UnavailableOffline", "Critical");
	case MP_SLOT_OCCUPIED: return rf_status("Enabled", s->problem_count ? "Warning" : "OK");
	}
	return rf_status("UnavailableOffline", "Critical");
}

static bool is_adapter(const struct mp_slot *s)
{
	return s->state == MP_SLOT_OCCUPIED && s->function_count &&
	       (s->functions[0].id.class_code >> 16) == PCI_CLASS_NETWORK;
}

static const struct mp_function *find_pf(const struct mp_slot *s, unsigned pf)
{
	for (size_t i = 0; i < s->function_count; i++)
		if (s->functions[i].index == pf)
			return &s->functions[i];
	return NULL;
}

/* The function `id` ("pf0", "pf0-vf3") of an occupied slot. */
static int find_fn(const struct mp_slot *s, const char *id, const struct mp_function **pf,
		   const struct mp_vf **vf, int *vfn)
{
	unsigned p;

	if (s->state != MP_SLOT_OCCUPIED || rf_fn_parse(id, &p, vfn) < 0 || !(*pf = find_pf(s, p)))
		return -ENOENT;
	*vf = NULL;
	if (*vfn < 0)
		return 0;
	if ((size_t)*vfn >= (*pf)->vf_count || !(*pf)->vfs[*vfn].present)
		return -ENOENT;
	*vf = &(*pf)->vfs[*vfn];
	return 0;
}

static const char *pcie_gen(uint8_t speed)
{
	static const char *const gens[] = { NULL, "Gen1", "Gen2", "Gen3", "Gen4", "Gen5", "Gen6" };

	return speed < sizeof(gens) / sizeof(gens[0]) ? gens[speed] : NULL;
}

static json_t *problems_of(const struct mp_slot *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->problem_count; i++)
		json_array_append_new(a, json_string(s->problems[i].text));
	return a;
}

/* --- the enclosure ------------------------------------------------------------------------ */

static int enclosure(const struct rf_ctx *c, struct rf_doc *doc)
{
	const struct cmc_config *cfg = c->d->config;
	const char *e = rf_enclosure(c);
	json_t *j = rf_resource("Chassis.v1_28_0.Chassis", e, e, RF_ROOT "/Chassis/%s", e);
	json_t *sys = json_array(), *contains = json_array(), *sw = json_array();

	for (unsigned i = 0; i < cfg->blade_count; i++) {
		json_array_append_new(sys, rf_link(RF_ROOT "/Systems/%s", cfg->blades[i].name));
		json_array_append_new(contains, rf_link(RF_ROOT "/Chassis/%s", cfg->blades[i].name));
	}
	for (size_t i = 0; i < mp_switch_count(c->d->inv); i++)
		json_array_append_new(sw, rf_link(RF_ROOT "/Fabrics/PCIe/Switches/switch%zu", i));
	json_object_set_new(j, "ChassisType", json_string("Enclosure"));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "PCIeDevices", rf_link(RF_ROOT "/Chassis/%s/PCIeDevices", e));
	json_object_set_new(j, "NetworkAdapters", rf_link(RF_ROOT "/Chassis/%s/NetworkAdapters", e));
	json_object_set_new(j, "Links", json_pack("{s:o, s:I, s:o, s:I, s:o, s:I, s:[o], s:I}",
		"ComputerSystems", sys, "ComputerSystems@odata.count", (json_int_t)json_array_size(sys),
		"Contains", contains, "Contains@odata.count", (json_int_t)json_array_size(contains),
		"Switches", sw, "Switches@odata.count", (json_int_t)json_array_size(sw),
		"ManagedBy", rf_link(RF_ROOT "/Managers/cmc"), "ManagedBy@odata.count", (json_int_t)1));
	return rf_done(doc, j, "Chassis.v1_28_0.json");
}

/* --- PCIe devices and functions --------------------------------------------------------------- */

static int pcie_device(const struct rf_ctx *c, const struct mp_slot *s, struct rf_doc *doc)
{
	const char *e = rf_enclosure(c);
	char id[16], label[16];
	json_t *j, *iface, *oem;

	snprintf(id, sizeof(id), "slot%u", s->number);
	snprintf(label, sizeof(label), "Slot %u", s->number);
	j = rf_resource("PCIeDevice.v1_21_0.PCIeDevice", id, label, RF_ROOT "/Chassis/%s/PCIeDevices/%s", e, id);
	json_object_set_new(j, "Status", slot_status(s));
	json_object_set_new(j, "Slot", json_pack("{s:b, s:{s:{s:I, s:s, s:s}}}", "HotPluggable",
		s->hotplug_capable, "Location", "PartLocation", "LocationOrdinalValue", (json_int_t)s->number,
		"LocationType", "Slot", "ServiceLabel", label));
	oem = json_pack("{s:s, s:s, s:o}", "@odata.type", "#CmcOem.v1_0_0.PCIeDevice", "SlotState",
			mp_slot_state_str(s->state), "Problems", problems_of(s));
	json_object_set_new(j, "Oem", json_pack("{s:o}", "Cmc", oem));
	if (s->state != MP_SLOT_OCCUPIED || !s->function_count)
		return rf_done(doc, j, "PCIeDevice.v1_21_0.json");
	const struct mp_function *f0 = &s->functions[0];
	json_object_set_new(j, "DeviceType", json_string(s->function_count > 1 ? "MultiFunction" : "SingleFunction"));
	json_object_set_new(j, "Manufacturer", json_string(*f0->id.vendor ? f0->id.vendor : "unknown"));
	json_object_set_new(j, "Model", json_string(*f0->id.device ? f0->id.device : "unknown"));
	iface = json_object();
	if (pcie_gen(s->port.link.speed))
		json_object_set_new(iface, "PCIeType", json_string(pcie_gen(s->port.link.speed)));
	if (pcie_gen(s->port.link.max_speed))
		json_object_set_new(iface, "MaxPCIeType", json_string(pcie_gen(s->port.link.max_speed)));
	json_object_set_new(iface, "LanesInUse", json_integer(s->port.link.width));
	json_object_set_new(iface, "MaxLanes", json_integer(s->port.link.max_width));
	json_object_set_new(j, "PCIeInterface", iface);
	json_object_set_new(j, "PCIeFunctions", rf_link(RF_ROOT "/Chassis/%s/PCIeDevices/%s/PCIeFunctions", e, id));
	json_object_set_new(j, "Links", json_pack("{s:[o], s:I}", "Chassis", rf_link(RF_ROOT "/Chassis/%s", e),
						  "Chassis@odata.count", (json_int_t)1));
	return rf_done(doc, j, "PCIeDevice.v1_21_0.json");
}

/* Every function of a slot, as links under `coll` ("PCIeFunctions", "NetworkDeviceFunctions"). */
static void function_members(json_t *j, const char *base, const struct mp_slot *s)
{
	char fid[24];

	for (size_t i = 0; i < s->function_count; i++) {
		const struct mp_function *f = &s->functions[i];
		rf_fn_id(f->index, -1, fid, sizeof(fid));
		rf_member(j, rf_link("%s/%s", base, fid));
		for (size_t v = 0; v < f->vf_count; v++) {
			if (!f->vfs[v].present)
				continue;
			rf_fn_id(f->index, (int)v, fid, sizeof(fid));
			rf_member(j, rf_link("%s/%s", base, fid));
		}
	}
}

static int pcie_function(const struct rf_ctx *c, const struct mp_slot *s, const char *fid,
			 struct rf_doc *doc)
{
	const struct mp_function *pf;
	const struct mp_vf *vf;
	const struct mp_ident *id;
	const char *e = rf_enclosure(c);
	char bdf[MP_BDF_STRLEN], name[48];
	int vfn;
	json_t *j;

	if (find_fn(s, fid, &pf, &vf, &vfn) < 0)
		return -ENOENT;
	id = vf ? &vf->id : &pf->id;
	snprintf(name, sizeof(name), "Slot %u %s", s->number, fid);
	j = rf_resource("PCIeFunction.v1_7_0.PCIeFunction", fid, name,
			RF_ROOT "/Chassis/%s/PCIeDevices/slot%u/PCIeFunctions/%s", e, s->number, fid);
	json_object_set_new(j, "FunctionType", json_string(vf ? "Virtual" : "Physical"));
	json_object_set_new(j, "FunctionId", json_integer(vf ? vf->bdf.fn : pf->bdf.fn));
	json_object_set_new(j, "DeviceClass", json_string((id->class_code >> 16) == PCI_CLASS_NETWORK ?
							  "NetworkController" : "Other"));
	json_object_set_new(j, "VendorId", rf_hex(id->vendor_id, 4));
	json_object_set_new(j, "DeviceId", rf_hex(id->device_id, 4));
	json_object_set_new(j, "ClassCode", rf_hex(id->class_code, 6));
	json_object_set_new(j, "RevisionId", rf_hex(id->revision, 2));
	json_object_set_new(j, "SubsystemId", rf_hex(id->subsys_id, 4));
	json_object_set_new(j, "SubsystemVendorId", rf_hex(id->subsys_vendor_id, 4));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_t *links = json_pack("{s:o}", "PCIeDevice", rf_link(RF_ROOT "/Chassis/%s/PCIeDevices/slot%u", e, s->number));
	if (is_adapter(s)) {
		json_object_set_new(links, "NetworkDeviceFunctions", json_pack("[o]",
			rf_link(RF_ROOT "/Chassis/%s/NetworkAdapters/slot%u/NetworkDeviceFunctions/%s", e, s->number, fid)));
		json_object_set_new(links, "NetworkDeviceFunctions@odata.count", json_integer(1));
	}
	json_object_set_new(j, "Links", links);
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:s}}", "Cmc", "@odata.type",
		"#CmcOem.v1_0_0.PCIeFunction", "BDF", mp_bdf_str(vf ? &vf->bdf : &pf->bdf, bdf)));
	return rf_done(doc, j, "PCIeFunction.v1_7_0.json");
}

static int pcie_devices(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	const char *e = rf_enclosure(c);
	const struct mp_slot *s;
	char base[256];
	json_t *j;

	if (p->n == 3) {
		j = rf_collection("PCIeDeviceCollection", "PCIe devices (one per slot)", RF_ROOT "/Chassis/%s/PCIeDevices", e);
		for (size_t i = 0; i < mp_slot_count(c->d->inv); i++)
			rf_member(j, rf_link(RF_ROOT "/Chassis/%s/PCIeDevices/slot%u", e, mp_slot_at(c->d->inv, i)->number));
		return rf_done(doc, j, "PCIeDeviceCollection.json");
	}
	s = rf_slot(c, p->seg[3]);
	if (!s)
		return -ENOENT;
	if (p->n == 4)
		return pcie_device(c, s, doc);
	if (strcmp(p->seg[4], "PCIeFunctions") != 0 || s->state != MP_SLOT_OCCUPIED || p->n > 6)
		return -ENOENT;
	if (p->n == 6)
		return pcie_function(c, s, p->seg[5], doc);
	snprintf(base, sizeof(base), RF_ROOT "/Chassis/%s/PCIeDevices/slot%u/PCIeFunctions", e, s->number);
	j = rf_collection("PCIeFunctionCollection", "PCIe functions", "%s", base);
	function_members(j, base, s);
	return rf_done(doc, j, "PCIeFunctionCollection.json");
}

/* --- network adapters ----------------------------------------------------------------------- */

static int adapter(const struct rf_ctx *c, const struct mp_slot *s, struct rf_doc *doc)
{
	const struct mp_function *f0 = &s->functions[0];
	const char *e = rf_enclosure(c);
	char id[16], name[48];
	json_t *j;

	snprintf(id, sizeof(id), "slot%u", s->number);
	snprintf(name, sizeof(name), "Network adapter in slot %u", s->number);
	j = rf_resource("NetworkAdapter.v1_14_0.NetworkAdapter", id, name,
			RF_ROOT "/Chassis/%s/NetworkAdapters/%s", e, id);
	json_object_set_new(j, "Manufacturer", json_string(*f0->id.vendor ? f0->id.vendor : "unknown"));
	json_object_set_new(j, "Model", json_string(*f0->id.device ? f0->id.device : "unknown"));
	json_object_set_new(j, "Status", slot_status(s));
	json_object_set_new(j, "NetworkDeviceFunctions",
			    rf_link(RF_ROOT "/Chassis/%s/NetworkAdapters/%s/NetworkDeviceFunctions", e, id));
	json_object_set_new(j, "Ports", rf_link(RF_ROOT "/Chassis/%s/NetworkAdapters/%s/Ports", e, id));
	return rf_done(doc, j, "NetworkAdapter.v1_14_0.json");
}

static void vf_settings(const struct rf_ctx *c, json_t *j, const struct mp_slot *s, unsigned pf,
			unsigned vf)
{
	struct rf_assignment *as = NULL;
	const struct rf_assignment *a = NULL;
	uint8_t mac[6];
	char macs[18], def[18];
	size_t n = 0;
	json_t *eth, *oem;

	if (rf_assignments(c, &as, &n) == 0)
		a = rf_assignment_find(as, n, s->number, pf, vf);
	cmc_cards_vf_mac(c->d->chassis_id, s->number, pf, vf, mac);
	rf_mac_str(mac, def);
	rf_mac_str(a ? a->mac : mac, macs);
	eth = json_pack("{s:s, s:s, s:{s:b, s:i}}", "MACAddress", macs, "PermanentMACAddress", def,
			"VLAN", "VLANEnable", a && a->vlan, "VLANId", a ? a->vlan : 0);
	json_object_set_new(j, "Ethernet", eth);
	if (a && a->rate)
		json_object_set_new(j, "Limits", json_pack("[{s:s, s:I}]", "Direction", "Egress",
			"SustainedBytesPerSecond", (json_int_t)a->rate * 125000));
	oem = json_pack("{s:s, s:b}", "@odata.type", "#CmcOem.v1_0_0.NetworkDeviceFunction", "Trusted",
			a && a->trusted);
	if (a) {
		json_object_set_new(oem, "Blade", json_string(a->blade));
		json_object_set_new(oem, "Placed", json_boolean(a->placed));
		if (*a->lane)
			json_object_set_new(oem, "Lane", json_string(a->lane));
		if (*a->vm)
			json_object_set_new(oem, "VM", json_string(a->vm));
		/* A domain's configuration service runs in no blade: no System to link to. */
		if (*a->service)
			json_object_set_new(oem, "DhcpServiceOf", json_string(a->service));
	}
	if (a && !*a->service) {
		json_t *links = json_object_get(j, "Links");
		json_object_set_new(links, "EthernetInterfaces", json_pack("[o]",
			rf_link(RF_ROOT "/Systems/%s/EthernetInterfaces/slot%u-pf%u-vf%u", a->blade, s->number, pf, vf)));
		json_object_set_new(links, "EthernetInterfaces@odata.count", json_integer(1));
	}
	json_object_set_new(j, "Oem", json_pack("{s:o}", "Cmc", oem));
	free(as);
}

static int ndf(const struct rf_ctx *c, const struct mp_slot *s, const char *fid, struct rf_doc *doc)
{
	const char *e = rf_enclosure(c);
	const struct mp_function *pf;
	const struct mp_vf *vf;
	char name[48];
	int vfn;
	json_t *j;

	if (find_fn(s, fid, &pf, &vf, &vfn) < 0)
		return -ENOENT;
	snprintf(name, sizeof(name), "Slot %u %s", s->number, fid);
	j = rf_resource("NetworkDeviceFunction.v1_11_1.NetworkDeviceFunction", fid, name,
			RF_ROOT "/Chassis/%s/NetworkAdapters/slot%u/NetworkDeviceFunctions/%s", e, s->number, fid);
	json_object_set_new(j, "NetDevFuncType", json_string("Ethernet"));
	json_object_set_new(j, "NetDevFuncCapabilities", json_pack("[s]", "Ethernet"));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "Links", json_pack("{s:o, s:o}",
		"PCIeFunction", rf_link(RF_ROOT "/Chassis/%s/PCIeDevices/slot%u/PCIeFunctions/%s", e, s->number, fid),
		"PhysicalPortAssignment", rf_link(RF_ROOT "/Chassis/%s/NetworkAdapters/slot%u/Ports/%u", e, s->number, pf->index)));
	if (!vf) {
		json_object_set_new(j, "VirtualFunctionsEnabled", json_boolean(pf->sriov.vf_enable));
		json_object_set_new(j, "MaxVirtualFunctions", json_integer(pf->sriov.present ? pf->sriov.total_vfs : 0));
		return rf_done(doc, j, "NetworkDeviceFunction.v1_11_1.json");
	}
	vf_settings(c, j, s, pf->index, (unsigned)vfn);
	doc->allow = RF_ALLOW_PATCH;
	return rf_done(doc, j, "NetworkDeviceFunction.v1_11_1.json");
}

static int port(const struct rf_ctx *c, const struct mp_slot *s, const char *pid, struct rf_doc *doc)
{
	const struct cmc_config_slot *cs = cmc_config_slot_by_number(c->d->config, s->number);
	const char *e = rf_enclosure(c), *role = "uplink";
	const struct mp_function *pf = NULL;
	char name[48];
	json_t *j;

	for (size_t i = 0; i < s->function_count; i++) {
		char want[8];
		snprintf(want, sizeof(want), "%u", s->functions[i].index);
		if (strcmp(want, pid) == 0)
			pf = &s->functions[i];
	}
	if (!pf)
		return -ENOENT;
	/* The intent's (the configuration's, or what `cmcctl port` made it); without blades
	 * (cmcd on a dump), the configuration's. */
	if (cmc_blades_intent(c->d->blades))
		role = cmc_port_role_name(cmc_intent_role(cmc_blades_intent(c->d->blades), s->number, pf->index));
	for (unsigned i = 0; !cmc_blades_intent(c->d->blades) && cs && i < cs->port_count; i++)
		if (cs->ports[i].pf == pf->index)
			role = cmc_port_role_name(cs->ports[i].role);
	snprintf(name, sizeof(name), "Slot %u port %s", s->number, pid);
	j = rf_resource("Port.v1_18_0.Port", pid, name, RF_ROOT "/Chassis/%s/NetworkAdapters/slot%u/Ports/%s",
			e, s->number, pid);
	json_object_set_new(j, "PortId", json_string(pid));
	json_object_set_new(j, "PortProtocol", json_string("Ethernet"));
	json_object_set_new(j, "PortType", json_string("BidirectionalPort"));
	if (cmc_cards_port(c->d->cards, s->number, pf->index, NULL))
		json_object_set_new(j, "LinkStatus", json_string(cmc_cards_port_link_up(c->d->cards, s->number,
			pf->index) ? "LinkUp" : "LinkDown"));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:s, s:b}}", "Cmc", "@odata.type", "#CmcOem.v1_0_0.Port",
		"ConfiguredRole", role, "DrivenByCmc", cmc_cards_port(c->d->cards, s->number, pf->index, NULL)));
	doc->allow = RF_ALLOW_PATCH;
	return rf_done(doc, j, "Port.v1_18_0.json");
}

static int adapters(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	const char *e = rf_enclosure(c);
	const struct mp_slot *s;
	char base[256];
	json_t *j;

	if (p->n == 3) {
		j = rf_collection("NetworkAdapterCollection", "Network adapters", RF_ROOT "/Chassis/%s/NetworkAdapters", e);
		for (size_t i = 0; i < mp_slot_count(c->d->inv); i++)
			if (is_adapter(mp_slot_at(c->d->inv, i)))
				rf_member(j, rf_link(RF_ROOT "/Chassis/%s/NetworkAdapters/slot%u", e,
						     mp_slot_at(c->d->inv, i)->number));
		return rf_done(doc, j, "NetworkAdapterCollection.json");
	}
	s = rf_slot(c, p->seg[3]);
	if (!s || !is_adapter(s) || p->n > 6)
		return -ENOENT;
	if (p->n == 4)
		return adapter(c, s, doc);
	snprintf(base, sizeof(base), RF_ROOT "/Chassis/%s/NetworkAdapters/slot%u/%s", e, s->number, p->seg[4]);
	if (strcmp(p->seg[4], "NetworkDeviceFunctions") == 0) {
		if (p->n == 6)
			return ndf(c, s, p->seg[5], doc);
		j = rf_collection("NetworkDeviceFunctionCollection", "Network device functions", "%s", base);
		function_members(j, base, s);
		return rf_done(doc, j, "NetworkDeviceFunctionCollection.json");
	}
	if (strcmp(p->seg[4], "Ports") != 0)
		return -ENOENT;
	if (p->n == 6)
		return port(c, s, p->seg[5], doc);
	j = rf_collection("PortCollection", "Ports", "%s", base);
	for (size_t i = 0; i < s->function_count; i++)
		rf_member(j, rf_link("%s/%u", base, s->functions[i].index));
	return rf_done(doc, j, "PortCollection.json");
}

int rf_chassis_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	json_t *j;

	if (p->n == 1) {
		const struct cmc_config *cfg = c->d->config;
		j = rf_collection("ChassisCollection", "Chassis", RF_ROOT "/Chassis");
		rf_member(j, rf_link(RF_ROOT "/Chassis/%s", rf_enclosure(c)));
		for (unsigned i = 0; i < cfg->blade_count; i++)
			if (strcmp(cfg->blades[i].name, rf_enclosure(c)) != 0)
				rf_member(j, rf_link(RF_ROOT "/Chassis/%s", cfg->blades[i].name));
		return rf_done(doc, j, "ChassisCollection.json");
	}
	if (strcmp(p->seg[1], rf_enclosure(c)) != 0)
		return rf_blade_chassis_get(c, p, doc);
	if (p->n == 2)
		return enclosure(c, doc);
	if (strcmp(p->seg[2], "PCIeDevices") == 0)
		return pcie_devices(c, p, doc);
	if (strcmp(p->seg[2], "NetworkAdapters") == 0)
		return adapters(c, p, doc);
	return -ENOENT;
}

/* --- PATCH: a VF's settings, a port's role (cmcctl's paths, assign.h) -------------------- */

/* The value at pointer p ("/Ethernet/VLAN/VLANId") in j, or NULL. */
static json_t *at(json_t *j, const char *p)
{
	char seg[64];

	while (j && *p == '/') {
		size_t n = strcspn(p + 1, "/");
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p + 1, n);
		seg[n] = '\0';
		j = json_object_get(j, seg);
		p += n + 1;
	}
	return j;
}

/* A refusal of the value v of the property at pointer p (id: PropertyValue...). Returns 0. */
static int bad_value(struct rf_write *w, const char *id, const char *p, json_t *v)
{
	/* The registry quotes the value: a string as it is, anything else as JSON. */
	char *text = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	char rel[128];

	snprintf(rel, sizeof(rel), "#%s", p);
	rf_fail(w, 400, rf_message(id, rel, 2, text ? text : "?", strrchr(p, '/') + 1));
	free(text);
	return 0;
}

/* rf_fail(w, 400, msg), as a value to return. */
static int fail400(struct rf_write *w, json_t *msg)
{
	rf_fail(w, 400, msg);
	return 0;
}

static int patch_mac(struct rf_write *w, struct cmc_assignment *n)
{
	static const char p[] = "/Ethernet/MACAddress";
	json_t *v = at(w->body, p);

	if (!v)
		return 0;
	if (!json_is_string(v))
		bad_value(w, "PropertyValueTypeError", p, v);
	else if (vb_mac_parse(json_string_value(v), n->mac) < 0 || (n->mac[0] & 1))
		bad_value(w, "PropertyValueFormatError", p, v);
	return 0;
}

static int patch_vlan(struct rf_write *w, struct cmc_assignment *n)
{
	static const char pid[] = "/Ethernet/VLAN/VLANId", pen[] = "/Ethernet/VLAN/VLANEnable";
	json_t *id = at(w->body, pid), *en = at(w->body, pen);

	if (id && !json_is_integer(id))
		return bad_value(w, "PropertyValueTypeError", pid, id);
	if (en && !json_is_boolean(en))
		return bad_value(w, "PropertyValueTypeError", pen, en);
	if (id && (json_integer_value(id) < 1 || json_integer_value(id) > 4094))
		return bad_value(w, "PropertyValueOutOfRange", pid, id);
	if ((en && json_is_false(en) && id) || (en && json_is_true(en) && !id && !n->vlan)) {
		rf_fail(w, 400, rf_message("PropertyValueConflict", "#" "/Ethernet/VLAN/VLANEnable", 2,
					   "VLANEnable", "VLANId"));
		return 0;
	}
	if (id)
		n->vlan = (uint16_t)json_integer_value(id);
	if (en && json_is_false(en))
		n->vlan = 0;	/* back to the blade's domain's VLAN, or untagged */
	return 0;
}

/* One Limit: Egress, SustainedBytesPerSecond a whole number of Mbit/s (125000 bytes/s). */
static int patch_limit(struct rf_write *w, json_t *l, size_t i, struct cmc_assignment *n, bool *seen)
{
	json_t *dir = json_object_get(l, "Direction"), *sus = json_object_get(l, "SustainedBytesPerSecond");
	const char *key;
	char p[64];
	json_t *v;

	json_object_foreach(l, key, v) {
		bool known = strcmp(key, "BurstBytesPerSecond") == 0 || strcmp(key, "BurstPacketsPerSecond") == 0 ||
			     strcmp(key, "SustainedPacketsPerSecond") == 0;
		snprintf(p, sizeof(p), "#/Limits/%zu/%s", i, key);
		if (known)
			rf_fail(w, 400, rf_message("PropertyNotWritable", p, 1, key));
		else if (strcmp(key, "Direction") != 0 && strcmp(key, "SustainedBytesPerSecond") != 0)
			rf_fail(w, 400, rf_message("PropertyUnknown", p, 1, key));
	}
	snprintf(p, sizeof(p), "/Limits/%zu/Direction", i);
	if (dir && !json_is_string(dir))
		return bad_value(w, "PropertyValueTypeError", p, dir);
	if (dir && strcmp(json_string_value(dir), "Egress") != 0)
		return bad_value(w, "PropertyValueNotInList", p, dir);
	snprintf(p, sizeof(p), "/Limits/%zu/SustainedBytesPerSecond", i);
	if (!sus)
		return fail400(w, rf_message("PropertyMissing", "#/Limits", 1, "SustainedBytesPerSecond"));
	if (!json_is_integer(sus))
		return bad_value(w, "PropertyValueTypeError", p, sus);
	if (json_integer_value(sus) < 0 || json_integer_value(sus) % 125000 ||
	    json_integer_value(sus) / 125000 > CMC_RATE_MAX_MBPS)
		return bad_value(w, "PropertyValueOutOfRange", p, sus);
	if (*seen)
		return fail400(w, rf_message("PropertyValueConflict", "#/Limits", 2, "Limits", "Direction"));
	*seen = true;
	n->rate = (unsigned)(json_integer_value(sus) / 125000);
	return 0;
}

static int patch_limits(struct rf_write *w, struct cmc_assignment *n)
{
	json_t *v = json_object_get(w->body, "Limits");
	bool seen = false;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return bad_value(w, "PropertyValueTypeError", "/Limits", v);
	for (size_t i = 0; i < json_array_size(v); i++) {
		if (!json_is_object(json_array_get(v, i)))
			return bad_value(w, "PropertyValueTypeError", "/Limits", json_array_get(v, i));
		patch_limit(w, json_array_get(v, i), i, n, &seen);
	}
	if (!seen)
		n->rate = 0;	/* [] : no limit */
	return 0;
}

static int patch_trust(struct rf_write *w, struct cmc_assignment *n)
{
	static const char p[] = "/Oem/Cmc/Trusted";
	json_t *v = at(w->body, p);

	if (v && !json_is_boolean(v))
		bad_value(w, "PropertyValueTypeError", p, v);
	else if (v)
		n->trusted = json_is_true(v);
	return 0;
}

int rf_ndf_patch(struct rf_write *w, unsigned slot, const char *fid)
{
	static const char *const writable[] = { "/Ethernet/MACAddress", "/Ethernet/VLAN/VLANId",
						"/Ethernet/VLAN/VLANEnable", "/Limits", "/Oem/Cmc/Trusted" };
	struct cmc_intent *in = cmc_blades_intent(w->c->d->blades);
	const struct cmc_assignment *a;
	struct cmc_assignment n = { 0 };
	char err[256], mac[18];
	unsigned pf;
	int vf, rc;

	if (rf_fn_parse(fid, &pf, &vf) < 0 || vf < 0)
		return -EOPNOTSUPP;
	a = in ? cmc_intent_assignment(in, slot, pf, (unsigned)vf) : NULL;
	if (a)
		n = *a;
	/* Every property checked before anything changes: all or nothing. */
	rf_patch_check(w, writable, sizeof(writable) / sizeof(writable[0]));
	patch_mac(w, &n);
	patch_vlan(w, &n);
	patch_limits(w, &n);
	patch_trust(w, &n);
	snprintf(w->what, sizeof(w->what), "set slot %u pf %u vf %d", slot, pf, vf);
	if (w->messages)
		return 0;
	if (!a) {
		snprintf(err, sizeof(err), in ? "slot %u pf %u vf %d is not assigned: give it to a blade first "
			 "(Zone.AddEndpoint)" : "blades are not available", slot, pf, vf);
		rf_refuse(w, in ? -ENOENT : -ENODEV, err);
		return 0;
	}
	rf_mac_str(n.mac, mac);
	snprintf(w->what, sizeof(w->what), "set slot %u pf %u vf %d of %s: mac %s vlan %u rate %u%s", slot, pf,
		 vf, n.blade, mac, n.vlan, n.rate, n.trusted ? " trusted" : "");
	rc = cmc_assign_update(w->c->d, &n, err, sizeof(err));
	if (rc < 0)
		rf_refuse(w, rc, err);
	w->wait_blades = rc == 0 || rc == -EIO;
	return 0;
}

int rf_port_patch(struct rf_write *w, unsigned slot, const char *pid)
{
	static const char *const writable[] = { "/Oem/Cmc/ConfiguredRole" };
	static const char p[] = "/Oem/Cmc/ConfiguredRole";
	json_t *v = at(w->body, p);
	enum cmc_port_role role = CMC_PORT_UPLINK;
	char err[256];
	unsigned pf;
	int rc;

	if (sscanf(pid, "%u", &pf) != 1 || pf > 7)
		return -EOPNOTSUPP;
	rf_patch_check(w, writable, 1);
	if (v && !json_is_string(v))
		bad_value(w, "PropertyValueTypeError", p, v);
	else if (v && strcmp(json_string_value(v), "midplane") == 0)
		role = CMC_PORT_MIDPLANE;
	else if (v && strcmp(json_string_value(v), "uplink") != 0)
		bad_value(w, "PropertyValueNotInList", p, v);
	snprintf(w->what, sizeof(w->what), "port %u/%u role %.32s", slot, pf,
		 json_is_string(v) ? json_string_value(v) : "(not a string)");
	if (w->messages || !v)
		return 0;
	rc = cmc_port_role_change(w->c->d, slot, pf, role, err, sizeof(err));
	if (rc < 0)
		rf_refuse(w, rc, err);
	w->wait_blades = rc == 0 || rc == -EIO;
	return 0;
}
