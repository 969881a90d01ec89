/* SPDX-License-Identifier: MIT */
/*
 * Server profiles (sprofile.c): a blade's identity kept by the chassis rather than
 * burned into the blade (US 8,201,166; what operators know as HPE Virtual Connect server
 * profiles or Dell FlexAddress), as part of the intent (intent.h):
 *
 *   name      1-16 of a-z A-Z 0-9 - _, one namespace with the VMs' names
 *   uuid      the system's UUID (RFC 9562 text form, 36 characters), unique in the chassis
 *   serial    its serial number (1-32 of A-Z a-z 0-9 - _ .), unique in the chassis
 *   blade     the one blade it is bound to now
 *   vfs       per VF: where it is (slot/pf/vf), its MAC, the VLAN it asked for, its rate
 *             and trust; the blade's domain; the lanes with an end on the blade; the names
 *             of the VMs that ran there when it was made
 *
 * One owner: the VFs of a profile are assignments of the intent marked with the
 * profile's name (cmc_assignment.sprofile); their MAC, VLAN, rate and trust are the
 * profile's, the store keeps them only in the profile's record (sprofile/NAME), and no
 * command but the profile's may change or take back such a VF (-EPERM).
 *
 * MACs: a profile's MAC that moves with it must never be a VF's default (the VF left
 * behind goes back to its default), so profiles take their MACs from the chassis' pool
 * (macs.h: 32,768 addresses of the chassis' own range that are no VF's default and that
 * no other chassis gives). A profile made from a blade's assignments keeps each MAC the
 * administrator chose and trades each VF default for a pool MAC. A MAC appears once.
 *
 * Pure, like the intent: every function checks in full and leaves the intent unchanged
 * on any error (0 or -errno, a sentence in err). Health is not the intent's: the caller
 * says whether a blade is failed.
 */
#ifndef CMC_SPROFILE_H
#define CMC_SPROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intent.h"

#define CMC_SPROFILE_MAX 32
#define CMC_SPROFILE_VFS_MAX 8
#define CMC_SPROFILE_LANES_MAX 4
#define CMC_SPROFILE_VMS_MAX 4
#define CMC_SPROFILE_UUID_LEN 36
#define CMC_SPROFILE_SERIAL_MAX 32

struct cmc_sprofile_vf {
	unsigned slot, pf, vf;		/* the VF that carries it now */
	uint8_t mac[6];
	uint16_t vlan;			/* asked for, 0 = the domain's */
	unsigned rate;			/* Mbit/s, 0 = none */
	bool trusted;
};

struct cmc_sprofile {
	char name[CMC_INTENT_NAME_MAX + 1];
	char uuid[CMC_SPROFILE_UUID_LEN + 1];
	char serial[CMC_SPROFILE_SERIAL_MAX + 1];
	char blade[CMC_CONFIG_NAME_MAX + 1];
	char domain[CMC_INTENT_NAME_MAX + 1];		/* "" = none */
	unsigned n_vfs;
	struct cmc_sprofile_vf vfs[CMC_SPROFILE_VFS_MAX];
	unsigned n_lanes;
	char lanes[CMC_SPROFILE_LANES_MAX][CMC_INTENT_LANE_NAME_MAX + 1];
	unsigned n_vms;
	char vms[CMC_SPROFILE_VMS_MAX][CMC_INTENT_NAME_MAX + 1];
};

/* --- Reading --- */
unsigned cmc_sprofile_count(const struct cmc_intent *in);
const struct cmc_sprofile *cmc_sprofile_nth(const struct cmc_intent *in, unsigned i);
const struct cmc_sprofile *cmc_sprofile_find(const struct cmc_intent *in, const char *name);
const struct cmc_sprofile *cmc_sprofile_of_blade(const struct cmc_intent *in, const char *blade);
/* Whether name is taken by a server profile or by a VM the intent knows (a VM profile). */
bool cmc_sprofile_name_taken(const struct cmc_intent *in, const char *name);

/* --- Changes --- */

/*
 * A profile from blade's assignments as they are: every VF of the blade that is no
 * lane's, VM's or dedicated slot's becomes the profile's (a VF default traded for a pool
 * MAC). uuid: 36 characters, 8-4-4-4-12 hex; serial "" = "CMC-<chassis id>-<name>".
 * -EINVAL (name, uuid or serial malformed), -EEXIST (name taken), -EADDRINUSE (uuid or
 * serial another profile's), -EBUSY (the blade has a profile), -ENOENT (no such blade,
 * or it has no VF to take), -ENOSPC (pool or table full).
 */
int cmc_sprofile_create_from(struct cmc_intent *in, const char *name, const char *blade,
			     const char *uuid, const char *serial, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/*
 * A profile from a definition: n_vfs (1..8) VFs nobody has, taken from the uplink ports
 * that are no dedicated slot's (the first free in port order), bound to blade; macs[i]
 * for i < n_macs is VF i's MAC (must be nobody's: -EADDRINUSE), the others come from
 * the pool. Same errors as create_from; -ENOSPC when the ports lack free VFs.
 */
int cmc_sprofile_create(struct cmc_intent *in, const char *name, const char *blade, unsigned n_vfs,
			const uint8_t (*macs)[6], unsigned n_macs, const char *uuid, const char *serial,
			char *err, size_t errlen) __attribute__((warn_unused_result));
/* The profile goes and its VFs are taken back (back to their defaults). -ENOENT. */
int cmc_sprofile_delete(struct cmc_intent *in, const char *name, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Moves the profile to blade `to` (a planned move, or a failover when its blade failed):
 * for each of its VFs a free VF of the same port (not a dedicated slot's) is taken for
 * `to` with the same MAC, VLAN, rate and trust, and the old VF is taken back; `to` joins
 * the profile's domain and the old blade leaves it; each lane end on the old blade is
 * `to`'s. Refused: no such profile or blade (-ENOENT), `to` is the profile's blade
 * (-EINVAL), `to` holds a profile (-EBUSY), `to_failed` (-EHOSTDOWN), `to` is in another
 * domain (-EBUSY), a port lacks a free VF (-ENOSPC, naming the port), the bridge model
 * refuses (-ENOSPC).
 */
int cmc_sprofile_move(struct cmc_intent *in, const char *name, const char *to, bool to_failed, char *err,
		      size_t errlen) __attribute__((warn_unused_result));

/* --- Records: sprofile/NAME "uuid=U serial=S blade=B domain=D|- vfs=S/P/V/MAC/VLAN/RATE/T,...
 *     lanes=a,b|- vms=a,b|-" --- */
void cmc_sprofile_record(const struct cmc_sprofile *p, char key[CMC_INTENT_KEY_MAX],
			 char value[CMC_INTENT_VALUE_MAX]);
/* A stored record back into the intent under the rules of a creation (its ports need not be
 * driven yet). -EINVAL unreadable, or the rule's error: to be dropped, `why` says why. */
int cmc_sprofile_load_record(struct cmc_intent *in, const char *key, const char *value, char *why,
			     size_t whylen) __attribute__((warn_unused_result));

#endif
