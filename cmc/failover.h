/* SPDX-License-Identifier: MIT */
/*
 * Server profiles made real (cmd-sprofile.c): the `server-profile` command, and a
 * profile's move from blade to blade, which `migrate NAME --to BLADE` asks for as it asks
 * for a VM's (one namespace of names: the command looks the name up among server profiles
 * first, then hands it to the VMs' migrate).
 *
 * A move whose source blade is up is planned: the profile's VFs leave the source and
 * come on the destination in one change (intent, store, cards, then the blades). A move
 * whose source is down, failed or off is a failover, in this order: (1) the change is
 * committed with a journal record failover/NAME (one store transaction); (2) the
 * destination's VFs get the profile's MACs, VLANs and rates on the cards and the failed
 * blade's VFs go back to their defaults; (3) the destination is powered on (if it was
 * off); (4) the VFs' netdevs are placed into it; (5) the journal record goes. A cmcd
 * killed at any step finds at its next start either the old profile (nothing committed:
 * the failed blade is failed again after the grace time and the failover runs again)
 * or the new one with its journal record, and finishes the steps (cmc_sprofile_resume);
 * either way each MAC is on one VF. Step 6, once the blades did their part (before the
 * journal record goes): the VMs the VM registry has on the failed blade lost their state
 * with it (the failover's event names them) and start again on the destination from their
 * configuration (vms.h cmc_vms_restart, which is crash-safe on its own: a VM already moved
 * is not moved again when a resumed failover runs step 6 again).
 *
 * A planned move is refused (-EBUSY) while the source runs VMs: a VM's move is a live
 * migration over a lane that can fail by itself; chained to the profile's move it would
 * leave one of the two half done. The administrator migrates or stops them first.
 */
#ifndef CMC_FAILOVER_H
#define CMC_FAILOVER_H

#include <stddef.h>

#include "api.h"

struct cmcd;

/* Moves server profile `name` to blade `to` (above). 0 (the blades' part runs on: a
 * command's reply waits for it with cmc_blades_reply), or -errno with err: the profile's
 * rules (sprofile.h: -ENOENT, -EINVAL, -EBUSY, -EHOSTDOWN, -ENOSPC), -EBUSY (a planned
 * move of a blade that runs VMs), -ENODEV (no blades),
 * -EIO (the store refused; or kept, but a card did not apply it). *failover (may be NULL)
 * says which kind it was. */
int cmc_sprofile_migrate(struct cmcd *d, const char *name, const char *to, bool *failover, char *err,
			 size_t errlen) __attribute__((warn_unused_result));
/* At start: failovers a crash interrupted (failover/NAME records) are finished. */
void cmc_sprofile_resume(struct cmcd *d);

/* server-profile create NAME --from BLADE [--uuid U] [--serial S]
 * server-profile create NAME --blade B --vfs N [--mac M[,M...]] [--uuid U] [--serial S]
 * server-profile list | show NAME | delete NAME */
enum cmc_status cmc_cmd_sprofile(void *ctx, struct cmc_api_request *req);
/* migrate NAME to BLADE [...]: a server profile's move, else a VM's (cmc_cmd_migrate). */
enum cmc_status cmc_cmd_migrate_any(void *ctx, struct cmc_api_request *req);
/* vm ...: refuses `vm start NAME` when NAME is a server profile's, else cmc_cmd_vm. */
enum cmc_status cmc_cmd_vm_named(void *ctx, struct cmc_api_request *req);

#endif
