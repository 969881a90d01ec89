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

struct cmcd;
struct cmc_vms;

/* Loads the VMs and any migration in flight from the store and takes them up again. */
int cmc_vms_start(struct cmcd *d, struct cmc_vms **out) __attribute__((warn_unused_result));
void cmc_vms_stop(struct cmcd *d, struct cmc_vms *v);
/* A card cmcd drives is gone (cards.c): a migration whose lane ran on slot/pf fails now,
 * saying so, rather than when its no-progress timer runs out. v may be NULL. */
void cmc_vms_card_gone(struct cmc_vms *v, unsigned slot, unsigned pf);

enum cmc_status cmc_cmd_vm(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_vms(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_migrate(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_migrations(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_profile(void *ctx, struct cmc_api_request *req);

#endif
