/* SPDX-License-Identifier: MIT */
/*
 * Blades and what joins them (blades.c): VFs assigned to blades, domains (a VLAN inside
 * the chassis per group of blades), lanes (a private domain between two blades on a
 * midplane port, for their hypervisors) and port roles (uplink or midplane).
 */
#ifndef CMC_BLADES_H
#define CMC_BLADES_H

#include "api.h"

struct cmcd;
struct cmc_blades;

/* Loads the intent from the store, makes the blades exist and applies everything.
 * Call after the cards are open. */
int cmc_blades_start(struct cmcd *d, struct cmc_blades **out) __attribute__((warn_unused_result));
void cmc_blades_stop(struct cmcd *d, struct cmc_blades *b);
/* The topology or the network devices changed: place VFs into their blades again. */
void cmc_blades_kick(struct cmc_blades *b);
/*
 * Trust for slot/pf/vf (it may change its MAC, its anti-spoofing is off). For an assigned VF
 * it is part of the assignment: kept in the store (*kept true), applied, and so it outlives
 * a restart, a reboot and a domain change; for a VF nobody was given, only the card's
 * setting changes (*kept false). 0, or -errno with the reason in err.
 */
int cmc_blades_set_trust(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf, bool on,
			 bool *kept, char *err, size_t errlen) __attribute__((warn_unused_result));
/* How many functions (VFs: assigned, a lane's, a VM's profile) the blade has, and how
 * many of them are placed in it (their netdev is there). */
unsigned cmc_blades_functions(const struct cmc_blades *b, const char *blade, unsigned *placed);
/* One assignment as the intent holds it, for readers (Redfish, listings). Strings stay
 * valid only during the callback. */
struct cmc_assignment_view {
	unsigned slot, pf, vf;
	const char *blade;
	uint8_t mac[6];
	uint16_t vlan;		/* the effective VLAN: lane's, asked for, domain's, or 0 */
	unsigned rate;		/* Mbit/s, 0 = unlimited */
	bool trusted;
	const char *lane;	/* "" = not a lane's */
	const char *vm;		/* "" = not a VM profile's */
	bool placed;		/* its netdev is in the blade */
};
typedef void (*cmc_assignment_fn)(void *arg, const struct cmc_assignment_view *v);
/* Calls fn for every assignment, in no set order. b may be NULL (no call). */
void cmc_blades_foreach_assignment(const struct cmc_blades *b, cmc_assignment_fn fn, void *arg);
/* A card cmcd drives is back in its slot (cards.c took it again): re-apply the intent
 * for its port (role, assignments and lanes, static entries). */
void cmc_blades_card_back(struct cmc_blades *b, unsigned slot, unsigned pf);

/* --- For the VMs on the blades (vms.c) --- */

/* A VM's network profile: what its blade's VF for it carries. */
struct cmc_profile {
	uint8_t mac[6];
	uint16_t vlan;		/* 0: the blade's domain's */
	unsigned rate;		/* Mbit/s, 0 = unlimited */
	bool trusted;
};

/* The lane joining blades a and z: its name and each end's address. -ENOENT if none;
 * -EAGAIN while one of its VFs is not in its blade yet. */
int cmc_blades_lane_between(struct cmc_blades *b, const char *a, const char *z, char lane[16],
			    char addr_a[16], char addr_z[16]);
/* The port a lane runs on. -ENOENT if there is no such lane. */
int cmc_blades_lane_port(struct cmc_blades *b, const char *lane, unsigned *slot, unsigned *pf);
/*
 * Puts a VM's profile on a free VF of an uplink port, assigned to the blade for the VM
 * (kept in the store like any assignment). live = false stages it: VLAN, rate and trust
 * are set but the VF keeps its own default MAC, so the VM's MAC is live nowhere new.
 */
int cmc_blades_profile_add(struct cmc_blades *b, const char *vm, const char *blade,
			   const struct cmc_profile *p, bool live, unsigned loc[3], char *err,
			   size_t errlen) __attribute__((warn_unused_result));
/* Changes the profile on its VF (rate, or staged -> live). */
int cmc_blades_profile_set(struct cmc_blades *b, const unsigned loc[3], const struct cmc_profile *p,
			   bool live, char *err, size_t errlen) __attribute__((warn_unused_result));
int cmc_blades_profile_remove(struct cmc_blades *b, const unsigned loc[3], char *err, size_t errlen);
/*
 * A migration's switch-over (US 9,218,303 FIG. 8, step 830): the profile live at `from`
 * (the source's VF) moves to `to` (staged there by cmc_blades_profile_add(live = false)),
 * p's MAC included. One store commit deletes the source's assignment and makes the
 * destination's live; it also carries whatever the caller set in the store before and
 * had not committed (the VM's own records), and a refused commit rolls those back too.
 * Then the card: the source VF back to its default, the destination VF given the MAC
 * (in that order: the MAC is never live on two VFs). Nothing here waits on a blade: the
 * source VF's netdev stays in the source's blade, unassigned, for the caller to take out
 * (mp_blade_unmap) once the VM runs again, as cleanup; the destination's was placed when
 * it was staged. 0, or -errno with the reason in err: -ENOENT (no profile at from or to),
 * -EADDRINUSE (the MAC is live on a third VF), -EIO (the store refused: nothing changed);
 * a card's refusal after the commit is returned as the card's -errno (the intent stands
 * and is applied again at the next start).
 */
int cmc_blades_profile_move(struct cmc_blades *b, const unsigned from[3], const unsigned to[3],
			    const struct cmc_profile *p, char *err, size_t errlen)
	__attribute__((warn_unused_result));

enum cmc_status cmc_cmd_assign(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_unassign(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_assignments(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_domain(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_domains(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_lane(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_lanes(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_port(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_ports(void *ctx, struct cmc_api_request *req);
enum cmc_status cmc_cmd_vbridge(void *ctx, struct cmc_api_request *req);

#endif
