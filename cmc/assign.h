/* SPDX-License-Identifier: MIT */
/*
 * The changes cmcctl and Redfish share (cmd-assign.c, cmd-port.c): one code path and one
 * set of checks per change, so a refusal reads the same whichever way it was asked. Each
 * is made as blades.h says (change_begin, the intent's change, change_end) and posts the
 * same event as the cmcctl command. All return 0, or a negative errno with the reason in
 * err: the intent's (-EBUSY the VF is taken, -EADDRINUSE the MAC is someone's, -EINVAL,
 * -ENOSPC, -EPERM, -ENOENT: see intent.h), -ENODEV (blades are not available), -ENOMEM,
 * or -EIO: the store refused, or the change is kept but a card did not apply it
 * (err then starts "kept, but not applied: ").
 */
#ifndef CMC_ASSIGN_H
#define CMC_ASSIGN_H

#include "api.h"
#include "intent.h"

#include <stdbool.h>
#include <stddef.h>

struct cmcd;

/* A new assignment; mac_given false: the VF's default MAC (macs.h) is filled in. */
int cmc_assign_add(struct cmcd *d, struct cmc_assignment *n, bool mac_given, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* The assignment of slot/pf/vf goes (a lane's or a VM's is refused: -EPERM). */
int cmc_assign_remove(struct cmcd *d, unsigned slot, unsigned pf, unsigned vf, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* An assigned VF's settings (MAC, VLAN, rate, trust) replaced by n's, all or nothing
 * (cmc_intent_update). -ENOENT when the VF is not assigned. */
int cmc_assign_update(struct cmcd *d, const struct cmc_assignment *n, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* A port's role (cmcctl port S/P role R). */
int cmc_port_role_change(struct cmcd *d, unsigned slot, unsigned pf, enum cmc_port_role role,
			 char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
