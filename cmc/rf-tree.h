/* SPDX-License-Identifier: MIT */
/* Private to the Redfish resource files (rf-tree.c, rf-chassis.c, rf-systems.c, rf-fabric.c). */
#ifndef CMC_RF_TREE_H
#define CMC_RF_TREE_H

#include "rf-priv.h"

#include "blades.h"
#include "config.h"
#include "mp.h"

#define RF_ROOT "/redfish/v1"
#define RF_SEGS_MAX 10

/* A path split at '/' after "/redfish/v1/": seg[0] "Chassis", seg[1] "enc", ... */
struct rf_path {
	int n;
	const char *seg[RF_SEGS_MAX];
};

/* path (after "/redfish/v1/") split into p, in buf. -ENOENT if too long or too deep. */
int rf_path_split(const char *path, char *buf, size_t len, struct rf_path *p);
/* The writes of each resource file (rf-write.c routes them). */
int rf_zone_action(struct rf_write *w, const char *zone);
int rf_ndf_patch(struct rf_write *w, unsigned slot, const char *fid);
int rf_port_patch(struct rf_write *w, unsigned slot, const char *pid);
/* rf-tasks.c: Systems/<blade>/Actions/Oem/CmcVm.Migrate, answered with a Task (202). */
int rf_vm_migrate(struct rf_write *w, const char *blade);
/* The blade's Actions.Oem: the migrate action, its target and the blades it may name. */
json_t *rf_vm_actions(const struct rf_ctx *c, const char *blade);
/* TaskService, its Tasks and their monitors (202 while the task runs). */
int rf_tasks_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc);

/* {"@odata.id": printf(fmt, ...)} */
json_t *rf_link(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A resource's start: @odata.id, @odata.type ("#T.vX.T"), Id, Name. */
json_t *rf_resource(const char *type, const char *id, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A collection: type "ChassisCollection", its Members array to fill; count set by rf_done. */
json_t *rf_collection(const char *type, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rf_member(json_t *coll, json_t *link);
/* Sets Members@odata.count and the doc; returns 0. */
int rf_done(struct rf_doc *doc, json_t *j, const char *schema);
/* Status { State, Health } */
json_t *rf_status(const char *state, const char *health);
void rf_mac_str(const uint8_t mac[6], char out[18]);
/* "0x8086" */
json_t *rf_hex(unsigned v, int digits);

/* The enclosure's Id (the chassis' configured name). */
const char *rf_enclosure(const struct rf_ctx *c);
/* Id of a function: "pf0" or "pf0-vf3". */
void rf_fn_id(unsigned pf, int vf, char *out, size_t len);
/* Parses such an Id. 0 or -ENOENT. */
int rf_fn_parse(const char *id, unsigned *pf, int *vf);
/* "slotN" -> the slot, or NULL. */
const struct mp_slot *rf_slot(const struct rf_ctx *c, const char *id);

/* One assignment, copied out of the intent's view (rf-systems.c). */
struct rf_assignment {
	unsigned slot, pf, vf;
	char blade[CMC_CONFIG_NAME_MAX + 1];
	uint8_t mac[6];
	uint16_t vlan;
	unsigned rate;
	bool trusted, placed;
	char lane[32], vm[32];
	char service[32];	/* a domain service's VF: its domain (blade is no System) */
};
/* Every assignment (malloc'd array, sorted by slot/pf/vf; *n its length). -ENOMEM. */
int rf_assignments(const struct rf_ctx *c, struct rf_assignment **out, size_t *n);
/* The assignment of slot/pf/vf in list, or NULL. */
const struct rf_assignment *rf_assignment_find(const struct rf_assignment *list, size_t n,
					       unsigned slot, unsigned pf, unsigned vf);

int rf_chassis_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc);
int rf_systems_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc);
int rf_fabrics_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc);
/* A blade as a Chassis resource (Chassis/<blade>...). */
int rf_blade_chassis_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc);

#endif
