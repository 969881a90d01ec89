/* SPDX-License-Identifier: MIT */
/*
 * Redfish: each blade as a ComputerSystem (Systems/<blade>) and a Chassis
 * (Chassis/<blade>), with an EthernetInterface per VF assigned to it, linked to the VF's
 * NetworkDeviceFunction (links, never copies). The assignments are read only through
 * cmc_blades_foreach_assignment() and cmc_blades_functions(). Its Actions.Oem has
 * CmcVm.Migrate for the VMs it hosts (rf-tasks.c).
 *
 * Each VM is a ComputerSystem too, SystemType Virtual (DSP0268 ComputerSystem v1_21 on:
 * Links.HostingComputerSystem, and the host's Links.VirtualMachines), at Systems/vm.NAME:
 * a URI that stays when the VM moves (its host link changes), and never a blade's ('.' is
 * in neither a blade's nor a VM's name). Read through cmc_vms_get()/cmc_vms_at() (vms.h).
 */
#include "rf-tree.h"

#include "daemon.h"
#include "vms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct collect {
	struct rf_assignment *a;
	size_t n, cap;
	bool failed;
};

static void collect_one(void *arg, const struct cmc_assignment_view *v)
{
	struct collect *col = arg;
	struct rf_assignment *a;

	if (col->failed)
		return;
	if (col->n == col->cap) {
		size_t cap = col->cap ? col->cap * 2 : 16;
		struct rf_assignment *na = realloc(col->a, cap * sizeof(*na));
		if (!na) {
			col->failed = true;
			return;
		}
		col->a = na;
		col->cap = cap;
	}
	a = &col->a[col->n++];
	*a = (struct rf_assignment){ .slot = v->slot, .pf = v->pf, .vf = v->vf, .vlan = v->vlan,
				     .rate = v->rate, .trusted = v->trusted, .placed = v->placed };
	memcpy(a->mac, v->mac, 6);
	snprintf(a->blade, sizeof(a->blade), "%s", v->blade);
	snprintf(a->lane, sizeof(a->lane), "%s", v->lane ? v->lane : "");
	snprintf(a->vm, sizeof(a->vm), "%s", v->vm ? v->vm : "");
	snprintf(a->service, sizeof(a->service), "%s", v->service ? v->service : "");
}

static int by_location(const void *x, const void *y)
{
	const struct rf_assignment *a = x, *b = y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	if (a->pf != b->pf)
		return a->pf < b->pf ? -1 : 1;
	return a->vf < b->vf ? -1 : a->vf > b->vf;
}

int rf_assignments(const struct rf_ctx *c, struct rf_assignment **out, size_t *n)
{
	struct collect col = { 0 };

	cmc_blades_foreach_assignment(c->d->blades, collect_one, &col);
	if (col.failed) {
		free(col.a);
		return -ENOMEM;
	}
	if (col.n)
		qsort(col.a, col.n, sizeof(*col.a), by_location);
	*out = col.a;
	*n = col.n;
	return 0;
}

const struct rf_assignment *rf_assignment_find(const struct rf_assignment *list, size_t n,
					       unsigned slot, unsigned pf, unsigned vf)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].slot == slot && list[i].pf == pf && list[i].vf == vf)
			return &list[i];
	return NULL;
}

static int parse_iface(const char *id, unsigned *slot, unsigned *pf, unsigned *vf)
{
	char tail;

	if (sscanf(id, "slot%u-pf%u-vf%u%c", slot, pf, vf, &tail) != 3)
		return -ENOENT;
	char again[48];
	snprintf(again, sizeof(again), "slot%u-pf%u-vf%u", *slot, *pf, *vf);
	return strcmp(again, id) == 0 ? 0 : -ENOENT;
}

static int iface(const struct rf_ctx *c, const char *blade, const char *id, const struct rf_assignment *as,
		 size_t n, struct rf_doc *doc)
{
	const struct rf_assignment *a;
	unsigned slot, pf, vf;
	char mac[18], name[64];
	json_t *j;

	if (parse_iface(id, &slot, &pf, &vf) < 0 || !(a = rf_assignment_find(as, n, slot, pf, vf)) ||
	    strcmp(a->blade, blade) != 0)
		return -ENOENT;
	rf_mac_str(a->mac, mac);
	snprintf(name, sizeof(name), "VF %u of slot %u, PF %u", vf, slot, pf);
	j = rf_resource("EthernetInterface.v1_12_4.EthernetInterface", id, name,
			RF_ROOT "/Systems/%s/EthernetInterfaces/%s", blade, id);
	json_object_set_new(j, "MACAddress", json_string(mac));
	json_object_set_new(j, "InterfaceEnabled", json_true());
	json_object_set_new(j, "VLAN", json_pack("{s:b, s:i}", "VLANEnable", a->vlan != 0, "VLANId", a->vlan));
	/* The assignment outlives its card (the intent keeps it); while the VF is not there
	 * (card pulled), the interface is Absent and links to nothing that would answer 404. */
	struct mp_addr at = { .slot = slot, .pf = pf, .vf = (int)vf };
	bool there = mp_resolve(c->d->inv, &at, NULL, NULL, NULL) == 0;
	json_t *ndfs = json_array();
	if (there)
		json_array_append_new(ndfs, rf_link(RF_ROOT "/Chassis/%s/NetworkAdapters/slot%u/NetworkDeviceFunctions/pf%u-vf%u",
						    rf_enclosure(c), slot, pf, vf));
	json_object_set_new(j, "Status", !there ? rf_status("Absent", NULL) :
				 rf_status(a->placed ? "Enabled" : "Starting", "OK"));
	json_object_set_new(j, "Links", json_pack("{s:o, s:I, s:o}", "NetworkDeviceFunctions", ndfs,
		"NetworkDeviceFunctions@odata.count", (json_int_t)json_array_size(ndfs),
		"Chassis", rf_link(RF_ROOT "/Chassis/%s", blade)));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:b, s:b}}", "Cmc", "@odata.type",
		"#CmcOem.v1_0_0.EthernetInterface", "Placed", a->placed, "Trusted", a->trusted));
	return rf_done(doc, j, "EthernetInterface.v1_12_4.json");
}

static int ifaces(const struct rf_ctx *c, const char *blade, const struct rf_path *p, struct rf_doc *doc)
{
	struct rf_assignment *as = NULL;
	size_t n = 0;
	int rc;
	json_t *j;

	if (p->n > 4 || strcmp(p->seg[2], "EthernetInterfaces") != 0)
		return -ENOENT;
	rc = rf_assignments(c, &as, &n);
	if (rc)
		return rc;
	if (p->n == 4) {
		rc = iface(c, blade, p->seg[3], as, n, doc);
		free(as);
		return rc;
	}
	j = rf_collection("EthernetInterfaceCollection", "Ethernet interfaces", RF_ROOT "/Systems/%s/EthernetInterfaces", blade);
	for (size_t i = 0; i < n; i++)
		if (strcmp(as[i].blade, blade) == 0)
			rf_member(j, rf_link(RF_ROOT "/Systems/%s/EthernetInterfaces/slot%u-pf%u-vf%u", blade,
					     as[i].slot, as[i].pf, as[i].vf));
	free(as);
	return rf_done(doc, j, "EthernetInterfaceCollection.json");
}

/* The VFs assigned to the blade, as links to their PCIeFunctions (links, not copies). */
static int assigned_functions(const struct rf_ctx *c, json_t *j, const char *blade)
{
	struct rf_assignment *as = NULL;
	json_t *fns = json_array();
	size_t n = 0;

	if (rf_assignments(c, &as, &n) < 0) {
		json_decref(fns);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct mp_addr at = { .slot = as[i].slot, .pf = as[i].pf, .vf = (int)as[i].vf };
		/* only a VF that is there now: a pulled card's has no resource */
		if (strcmp(as[i].blade, blade) != 0 || mp_resolve(c->d->inv, &at, NULL, NULL, NULL) < 0)
			continue;
		json_array_append_new(fns, rf_link(RF_ROOT "/Chassis/%s/PCIeDevices/slot%u/PCIeFunctions/pf%u-vf%u",
						   rf_enclosure(c), as[i].slot, as[i].pf, as[i].vf));
	}
	free(as);
	json_object_set_new(j, "PCIeFunctions@odata.count", json_integer((json_int_t)json_array_size(fns)));
	json_object_set_new(j, "PCIeFunctions", fns);
	return 0;
}

/* --- VMs ------------------------------------------------------------------------------------ */

#define VM_ID "vm."

/* The VMs on blade as links (the host's Links.VirtualMachines). */
static json_t *hosted_vms(const struct rf_ctx *c, const char *blade)
{
	struct cmc_vm_view v;
	json_t *a = json_array();
	int rc;

	for (unsigned i = 0; (rc = cmc_vms_at(c->d->vms, i, &v)) != -ENOENT; i++)
		if (rc == 0 && strcmp(v.blade, blade) == 0)
			json_array_append_new(a, rf_link(RF_ROOT "/Systems/" VM_ID "%s", v.name));
	return a;
}

/* Status.State and PowerState of a VM's state (vm.h's words). */
static void vm_states(const char *state, const char **st, const char **power, const char **health)
{
	*health = "OK";
	*st = "Enabled";
	*power = "On";
	if (strcmp(state, "starting") == 0) {
		*st = "Starting";
		*power = "PoweringOn";
	} else if (strcmp(state, "stopping") == 0) {
		*st = "Disabled";
		*power = "PoweringOff";
	} else if (strcmp(state, "lost") == 0) {
		*st = "UnavailableOffline";
		*power = "Off";
		*health = "Critical";
	}
}

static int vm_system(const struct cmc_vm_view *v, struct rf_doc *doc)
{
	const char *st, *power, *health;
	char name[64], id[32];
	json_t *j;

	snprintf(name, sizeof(name), "VM %s", v->name);
	snprintf(id, sizeof(id), VM_ID "%s", v->name);
	j = rf_resource("ComputerSystem.v1_27_0.ComputerSystem", id, name, RF_ROOT "/Systems/%s", id);
	if (!j)
		return -ENOMEM;
	vm_states(v->state, &st, &power, &health);
	json_object_set_new(j, "SystemType", json_string("Virtual"));
	json_object_set_new(j, "PowerState", json_string(power));
	json_object_set_new(j, "Status", rf_status(st, health));
	json_object_set_new(j, "MemorySummary", json_pack("{s:f}", "TotalSystemMemoryGiB", v->mem_mb / 1024.0));
	json_object_set_new(j, "Boot", json_pack("{s:s, s:s}", "BootSourceOverrideEnabled", "Disabled",
						 "BootSourceOverrideTarget", "None"));
	/* Moving it is its host's action (Systems/BLADE Actions.Oem CmcVm.Migrate). */
	json_object_set_new(j, "Actions", json_object());
	json_object_set_new(j, "EthernetInterfaces", rf_link(RF_ROOT "/Systems/" VM_ID "%s/EthernetInterfaces", v->name));
	json_object_set_new(j, "Links", json_pack("{s:o, s:[o], s:I}",
		"HostingComputerSystem", rf_link(RF_ROOT "/Systems/%s", v->blade),
		"ManagedBy", rf_link(RF_ROOT "/Managers/cmc"), "ManagedBy@odata.count", (json_int_t)1));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:s, s:s, s:s}}", "Cmc", "@odata.type",
		"#CmcOem.v1_0_0.VirtualMachine", "State", v->state, "Blade", v->blade, "MigrationState", v->mig));
	return rf_done(doc, j, "ComputerSystem.v1_27_0.json");
}

/* The VM's interfaces: its profile's VF, the interface its blade shows (linked, not copied;
 * during a migration the destination's staged one too). */
static int vm_ifaces(const struct rf_ctx *c, const struct cmc_vm_view *v, struct rf_doc *doc)
{
	struct rf_assignment *as = NULL;
	size_t n = 0;
	json_t *j;
	int rc = rf_assignments(c, &as, &n);

	if (rc)
		return rc;
	j = rf_collection("EthernetInterfaceCollection", "Ethernet interfaces",
			  RF_ROOT "/Systems/" VM_ID "%s/EthernetInterfaces", v->name);
	for (size_t i = 0; i < n; i++)
		if (strcmp(as[i].vm, v->name) == 0)
			rf_member(j, rf_link(RF_ROOT "/Systems/%s/EthernetInterfaces/slot%u-pf%u-vf%u", as[i].blade,
					     as[i].slot, as[i].pf, as[i].vf));
	free(as);
	return rf_done(doc, j, "EthernetInterfaceCollection.json");
}

static int vm_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	struct cmc_vm_view v;

	if (cmc_vms_get(c->d->vms, p->seg[1] + strlen(VM_ID), &v) < 0)
		return -ENOENT;
	if (p->n == 2)
		return vm_system(&v, doc);
	if (p->n == 3 && strcmp(p->seg[2], "EthernetInterfaces") == 0)
		return vm_ifaces(c, &v, doc);
	return -ENOENT;
}

/* --- blades ---------------------------------------------------------------------------------- */

static int system_(const struct rf_ctx *c, const struct cmc_config_blade *b, struct rf_doc *doc)
{
	unsigned placed = 0, fns = cmc_blades_functions(c->d->blades, b->name, &placed);
	json_t *j = rf_resource("ComputerSystem.v1_27_0.ComputerSystem", b->name, b->name,
				RF_ROOT "/Systems/%s", b->name);

	json_object_set_new(j, "SystemType", json_string("Physical"));
	/* cmc neither boots nor resets blades (yet): no boot override, no actions. Clients
	 * such as sushy require both properties to be there. */
	json_object_set_new(j, "Boot", json_pack("{s:s, s:s}", "BootSourceOverrideEnabled", "Disabled",
						 "BootSourceOverrideTarget", "None"));
	json_object_set_new(j, "Actions", json_pack("{s:o}", "Oem", rf_vm_actions(c, b->name)));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "EthernetInterfaces", rf_link(RF_ROOT "/Systems/%s/EthernetInterfaces", b->name));
	json_t *vms = hosted_vms(c, b->name);
	json_object_set_new(j, "Links", json_pack("{s:[o], s:I, s:[o], s:I, s:[o], s:I, s:I, s:o}",
		"Chassis", rf_link(RF_ROOT "/Chassis/%s", b->name), "Chassis@odata.count", (json_int_t)1,
		"ManagedBy", rf_link(RF_ROOT "/Managers/cmc"), "ManagedBy@odata.count", (json_int_t)1,
		"Endpoints", rf_link(RF_ROOT "/Fabrics/PCIe/Endpoints/%s", b->name),
		"Endpoints@odata.count", (json_int_t)1,
		"VirtualMachines@odata.count", (json_int_t)json_array_size(vms), "VirtualMachines", vms));
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:i, s:i, s:i}}", "Cmc", "@odata.type",
		"#CmcOem.v1_0_0.ComputerSystem", "BladeId", b->id, "Functions", fns, "FunctionsPlaced", placed));
	return assigned_functions(c, j, b->name) < 0 ? (json_decref(j), -ENOMEM)
						      : rf_done(doc, j, "ComputerSystem.v1_27_0.json");
}

int rf_systems_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	const struct cmc_config *cfg = c->d->config;
	const struct cmc_config_blade *b;
	struct cmc_vm_view v;
	json_t *j;
	int rc;

	if (p->n == 1) {
		j = rf_collection("ComputerSystemCollection", "Blades and VMs", RF_ROOT "/Systems");
		for (unsigned i = 0; i < cfg->blade_count; i++)
			rf_member(j, rf_link(RF_ROOT "/Systems/%s", cfg->blades[i].name));
		for (unsigned i = 0; (rc = cmc_vms_at(c->d->vms, i, &v)) != -ENOENT; i++)
			if (rc == 0)
				rf_member(j, rf_link(RF_ROOT "/Systems/" VM_ID "%s", v.name));
		return rf_done(doc, j, "ComputerSystemCollection.json");
	}
	if (strncmp(p->seg[1], VM_ID, strlen(VM_ID)) == 0)
		return vm_get(c, p, doc);
	b = cmc_config_blade_by_name(cfg, p->seg[1]);
	if (!b)
		return -ENOENT;
	if (p->n == 2)
		return system_(c, b, doc);
	return ifaces(c, b->name, p, doc);
}

int rf_blade_chassis_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	const struct cmc_config_blade *b = cmc_config_blade_by_name(c->d->config, p->seg[1]);
	json_t *j;

	if (!b || p->n != 2)
		return -ENOENT;
	j = rf_resource("Chassis.v1_28_0.Chassis", b->name, b->name, RF_ROOT "/Chassis/%s", b->name);
	json_object_set_new(j, "ChassisType", json_string("Blade"));
	json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
	json_object_set_new(j, "Links", json_pack("{s:[o], s:I, s:o, s:[o], s:I}",
		"ComputerSystems", rf_link(RF_ROOT "/Systems/%s", b->name), "ComputerSystems@odata.count", (json_int_t)1,
		"ContainedBy", rf_link(RF_ROOT "/Chassis/%s", rf_enclosure(c)),
		"ManagedBy", rf_link(RF_ROOT "/Managers/cmc"), "ManagedBy@odata.count", (json_int_t)1));
	return rf_done(doc, j, "Chassis.v1_28_0.json");
}
