/* SPDX-License-Identifier: MIT */
/*
 * VMs on the blades and their live migration over lanes (vm-cmd.c, migrate.c, qemu.c,
 * vms.c: see vm.h for which does what): each VM is a QEMU on
 * its blade, driven through QMP on a unix socket; a migration copies its state over the
 * lane between the two blades (through the card's bridge, never out of the chassis) and
 * moves its network profile with it.
 */
#ifndef CMC_VMS_H
#define CMC_VMS_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cmcd;
struct cmc_vms;

/* Loads the VMs and any migration in flight from the store and takes them up again. */
int cmc_vms_start(struct cmcd *d, struct cmc_vms **out) __attribute__((warn_unused_result));
void cmc_vms_stop(struct cmcd *d, struct cmc_vms *v);
/* A card cmcd drives is gone (cards.c): a migration whose lane ran on slot/pf fails now,
 * saying so, rather than when its no-progress timer runs out. v may be NULL. */
void cmc_vms_card_gone(struct cmc_vms *v, unsigned slot, unsigned pf);

/*
 * Starts a migration of VM name to blade `to` (migrate.c: US 9,218,303 FIG. 8, step 810 on),
 * as `cmcctl migrate` does; bandwidth_mbps 1..10000 Mbit/s, 0: QEMU's default (128 MiB/s).
 * The one set of checks both cmcctl and Redfish pass. 0: started (it goes on from the loop;
 * follow it with cmc_vms_migration()); else err says why, in cmcctl's words:
 * -ENODEV VMs not available, -ENOENT no such VM or blade, -EBUSY already migrating or not
 * running, -EINVAL already on `to`, -ENOLINK no lane or the lane not up, -EIO the store or
 * the destination's QEMU failed (the migration is then recorded as failed).
 */
int cmc_vms_migrate(struct cmcd *d, const char *name, const char *to, unsigned bandwidth_mbps, char *err,
		    size_t errlen) __attribute__((warn_unused_result));

/*
 * A failover's last step (failover.h): every VM whose record puts it on blade `failed`
 * (running or lost; not one starting, stopping or migrating) starts again on blade `spare`
 * from its stored configuration (memory, MAC, VLAN, rate, template, IPv4 address): what
 * ran in it was lost with the blade. For each, in order: its QEMU on the failed blade, if
 * one is still there (a hung blade), is killed, so that no VM runs on two blades; its MAC
 * goes from its VF on the failed blade to a VF of an uplink port given to the spare, and
 * its record to the spare marked restart=1, in one store transaction; then it starts as
 * `vm start` does (its port, its QEMU, its QMP). The outcome is an event: "vm-restart"
 * once it runs, "vm-restart-failed" with the reason (it then stays in the store on the
 * spare, lost, its VF kept; `vm stop` removes it). A cmcd killed on the way finds each
 * record either still on the failed blade (the failover's resume runs this again) or on
 * the spare marked restart=1: cmc_vms_start() starts it then, unless its QEMU already runs
 * there (then it is running): once either way. Returns how many VMs it took up (0 if d has
 * no VMs).
 */
int cmc_vms_restart(struct cmcd *d, const char *failed, const char *spare);
/* The names of the VMs recorded on blade (running, lost, starting, stopping, or migrating
 * from it), ", "-separated into buf (len bytes, "" if none); how many. v may be NULL. */
unsigned cmc_vms_on_blade(const struct cmc_vms *v, const char *blade, char *buf, size_t len);

/* A VM and its current or last migration, copied out of the registry (read only). */
struct cmc_vm_view {
	char name[17], blade[33];
	const char *state;		/* "running", "migrating", "lost", "starting", "stopping" */
	unsigned mem_mb;
	bool has_profile;
	/* its migration; mig "none" if it never migrated */
	const char *mig;		/* "none", "starting", "active", "switching", "completed", "failed" */
	bool mig_final;			/* completed, or failed with everything put back */
	char from[33], to[33], lane[16];
	uint64_t transferred, total;	/* bytes, as QEMU counts them (transferred may pass total) */
	uint64_t total_time_ms;		/* QEMU's time of a completed migration */
	unsigned long long mig_started;	/* ms, monotonic: tells one migration of the VM from the next */
	char reason[256];		/* a failure's reason, "" if none */
};
/* The VM called name (-ENOENT), or the i-th VM in the registry's order (-ENOENT past the
 * last; some i may be unused: -ESRCH, go on). v may be NULL (-ENOENT). */
int cmc_vms_get(const struct cmc_vms *v, const char *name, struct cmc_vm_view *out);
int cmc_vms_at(const struct cmc_vms *v, unsigned i, struct cmc_vm_view *out);

enum cmc_status cmc_cmd_vm(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_vms(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_migrate(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_migrations(void *ctx, struct cmc_api_request *req);

#endif
