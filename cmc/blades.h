/* SPDX-License-Identifier: MIT */
/*
 * Blades and what joins them, made real (blades.c): the chassis' intent (intent.h) is
 * kept in the store and applied to the cards (cards.h) and to the blades (mgmt-proc's
 * blade backend), and VFs whose netdevs are stuck are kicked.
 *
 * Every change is made the same way:
 *
 *   cmc_blades_change_begin()   a copy of the intent as it was
 *   cmc_intent_...()            the change, checked on the intent and on the model of
 *                               every card's bridge; nothing is written anywhere
 *   cmc_blades_change_end()     one store transaction (the store is made to hold exactly
 *                               the intent's records), then the difference between the
 *                               old intent and the new applied to cards and blades
 *
 * or cmc_blades_change_abort() when the change was refused. A card that refuses what
 * the intent asks keeps what it had for that VF (cards.c writes a VF's settings all or
 * nothing); the VF is marked not applied, with the card's reason, in `cmcctl
 * assignments` and as an "assign-error" event, and is tried again when its card comes
 * back or cmcd starts.
 */
#ifndef CMC_BLADES_H
#define CMC_BLADES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "intent.h"

struct cmcd;
struct cmc_blades;
struct cmc_intent;

/* Loads the intent from the store, makes the blades exist and applies everything.
 * Call after the cards are open. */
int cmc_blades_start(struct cmcd *d, struct cmc_blades **out) __attribute__((warn_unused_result));
void cmc_blades_stop(struct cmcd *d, struct cmc_blades *b);
/* The topology or the network devices changed: place VFs into their blades again. */
void cmc_blades_kick(struct cmc_blades *b);
/* A card cmcd drives is back in its slot (cards.c took it again): re-apply the intent
 * for its port (role, assignments and lanes, static entries). */
void cmc_blades_card_back(struct cmc_blades *b, unsigned slot, unsigned pf);

/* --- Changes (for the command files: cmd-*.c, vms.c) --------------------------------- */

/* The intent, to read and to change between begin and end. */
struct cmc_intent *cmc_blades_intent(struct cmc_blades *b);
/* A copy of the intent before a change (*old); -ENOMEM. */
int cmc_blades_change_begin(struct cmc_blades *b, struct cmc_intent **old) __attribute__((warn_unused_result));
/* The change was refused: the intent goes back to *old; old is freed. */
void cmc_blades_change_abort(struct cmc_blades *b, struct cmc_intent *old);
/*
 * Commits the change (one store transaction) and applies it; old is freed. `what` names
 * the change for the crash tests' failpoints (CMC_FAILPOINT=what:before-commit,
 * :after-commit, :after-card, :after-apply; test builds only). -EIO if the store refused
 * (the intent went back, err says why); 0 otherwise, also when a card refused a VF
 * (*not_applied, may be NULL, counts them; err says the first reason).
 */
int cmc_blades_change_end(struct cmc_blades *b, struct cmc_intent *old, const char *what,
			  unsigned *not_applied, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Calls fn(arg) on the loop once the blades have done everything asked of them so far
 * (netdevs placed, taken out, bounced: that work runs on the blade worker, in order).
 * After cmc_blades_change_end(), a reply given from fn finds the VFs in their blades.
 * fn may run before this returns (nothing pending) and runs at cmc_blades_stop() when
 * cmcd stops first. -ENOMEM (fn not called).
 */
typedef void (*cmc_blades_done_fn)(void *arg);
int cmc_blades_when_done(struct cmc_blades *b, cmc_blades_done_fn fn, void *arg)
	__attribute__((warn_unused_result));

/* Refuses (-EADDRINUSE, err says by whom) a MAC a VF other than slot/pf/vf holds through
 * its mailbox now (a trusted VF's own MAC or extra filter: cards.h); vf -1: any VF. */
int cmc_blades_mac_not_granted(struct cmc_blades *b, const uint8_t mac[6], unsigned slot, unsigned pf, int vf,
			       char *err, size_t errlen);
/*
 * The end of a change made on the intent since cmc_blades_change_begin() (rc its result,
 * err its reason): committed and applied (change_end), or aborted. 0, rc, or -EIO (the
 * store refused; or kept but a card did not apply it: err "kept, but not applied: ...").
 */
int cmc_blades_change_finish(struct cmc_blades *b, struct cmc_intent *old, int rc, const char *what, char *err,
			     size_t errlen) __attribute__((warn_unused_result));
/*
 * For the commands: the outcome of a change (rc, err, as change_finish gives them) as the
 * reply, given once the blades have done their part (cmc_blades_when_done(): the caller
 * finds its VFs in place); a change refused before the store is answered at once.
 * CMC_OK or CMC_REFUSED with err.
 */
enum cmc_status cmc_blades_reply(struct cmc_blades *b, struct cmc_api_request *req, int rc, const char *err);
/* change_finish, then reply. */
enum cmc_status cmc_blades_command_end(struct cmc_blades *b, struct cmc_api_request *req,
				       struct cmc_intent *old, int rc, const char *what, char *err,
				       size_t errlen);
/* fn(arg) on the loop each time a VF's netdev was placed in its blade (the domains'
 * services start once theirs is, and start again when it is placed anew); NULL: none. */
typedef void (*cmc_blades_placed_fn)(void *arg);
void cmc_blades_on_placed(struct cmc_blades *b, cmc_blades_placed_fn fn, void *arg);
/* Runtime state of an assigned VF: its netdev in the blade; the card's refusal if any. */
struct cmc_vf_state {
	bool placed;
	unsigned long long placement;	/* changes each time its netdev is placed (a new
					 * netdev, or the same one again): 0 = never */
	bool applied;
	char reason[160];	/* why not applied */
};
void cmc_blades_vf_state(const struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf,
			 struct cmc_vf_state *out);
/* The VF's netdev name in its blade: "ln-LANE", "sSvV" or "sSpPvV". */
void cmc_blades_ifname(const struct cmc_assignment *a, char buf[16]);

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
	const char *service;	/* "" = not a domain service's; else its domain (blade is
				 * then the service's namespace, no configured blade) */
	const char *tmpl;	/* "" = names no template */
	bool placed;		/* its netdev is in the blade */
};
typedef void (*cmc_assignment_fn)(void *arg, const struct cmc_assignment_view *v);
/* Calls fn for every assignment, in no set order. b may be NULL (no call). */
void cmc_blades_foreach_assignment(const struct cmc_blades *b, cmc_assignment_fn fn, void *arg);

/* --- For the VMs on the blades (vms.c) --- */

/* A VM's network profile: what its blade's VF for it carries. */
struct cmc_profile {
	uint8_t mac[6];
	uint16_t vlan;		/* 0: the blade's domain's */
	unsigned rate;		/* Mbit/s, 0 = unlimited */
	bool trusted;
	char tmpl[CMC_TEMPLATE_NAME_MAX + 1];	/* "": none; else VLAN, rate and trust are its */
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
 * A migration's switch-over (US 9,218,303 FIG. 8, step 830): the VF at `from` is released
 * and the staged VF at `to` goes live with p, in one store transaction (which also
 * carries whatever the caller set in the store and had not committed: the VM's own
 * records; a refused commit rolls those back too); then the source VF goes back to its
 * default before the destination VF takes the MAC, so the MAC is never live on two VFs.
 * No blade is touched: the source VF's netdev stays in its blade until cmc_blades_tidy()
 * (cleanup, once the VM runs again). 0, or -errno with the reason in err: -ENOENT (no
 * profile at to), -EIO (the store refused: nothing changed, or a card refused a VF:
 * the intent stands, marked not applied, applied again at the next start).
 */
int cmc_blades_profile_move(struct cmc_blades *b, const unsigned from[3], const unsigned to[3],
			    const struct cmc_profile *p, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/*
 * A VM's port on the blade of the profile's VF at loc (doc/vm-network.md): a bridge of
 * its own joining the VF's netdev and a tap the VM's hypervisor opens
 * (cmc_blades_vmport_names), the VM's mac pinned to the tap. Built by the blade worker
 * after whatever was asked before (the VF's placing); follow it with
 * cmc_blades_vmport_state(). Removed, with a "vm-port-removed" event, when the VF
 * leaves its blade (the profile released: vm stop, the source after a migration).
 * A try that fails is tried again every 300 ms for CMC_BLADES_VMPORT_RETRY_MS (a VF's
 * driver may be resetting, or waiting to be kicked out of a mailbox timeout), then the
 * port has failed. 0, -ENOENT (no VM profile at loc), -ESHUTDOWN.
 */
#define CMC_BLADES_VMPORT_RETRY_MS 18000
int cmc_blades_vmport_add(struct cmc_blades *b, const unsigned loc[3], const uint8_t mac[6], char *err,
			  size_t errlen) __attribute__((warn_unused_result));
/*
 * A template changed (its access list among what did): every VM port whose profile names
 * tmpl gets the template's rules again (nftables, on the blade worker, in order with
 * everything asked before; events "vm-acl" or "blade-error"). 0, -ESHUTDOWN.
 * (A port built by cmc_blades_vmport_add gets its template's rules with it, and loses
 * them with it.)
 */
int cmc_blades_acl_refresh(struct cmc_blades *b, const char *tmpl);
/* 1 ready, 0 being built, -ENOENT none asked for, -EIO failed (err says why). */
int cmc_blades_vmport_state(const struct cmc_blades *b, const unsigned loc[3], char *err, size_t errlen);
/* The bridge's and the tap's names in the blade ("vbr-s1v2", "vtp-s1v2"). */
void cmc_blades_vmport_names(const unsigned loc[3], char bridge[16], char tap[16]);

/* What a change left for the blades (cmc_blades_profile_move touches none): netdevs of
 * VFs no longer assigned leave their blades, assigned ones not placed are placed. */
void cmc_blades_tidy(struct cmc_blades *b);

/* --- Blade health and power (health.c), server profiles' moves (cmd-sprofile.c) --- */

/* Asks the backend whether each configured blade is up, on the blade worker; fn(arg, blade,
 * rc, up) on the loop for each, once all are answered, then fn(arg, NULL, 0, false) once
 * (also when cancelled: rc -ECANCELED). -ENODEV (no worker), -ENOMEM (fn not called). */
typedef void (*cmc_blades_health_fn)(void *arg, const char *blade, int rc, bool up);
int cmc_blades_health_poll(struct cmc_blades *b, cmc_blades_health_fn fn, void *arg)
	__attribute__((warn_unused_result));
/* Powers a blade on (mp_blade_create; its link watch is opened again and its VFs placed)
 * or off (its link watch closed, then mp_blade_power_off), on the worker: a "blade-power"
 * event says when. -ENOENT (no such blade), -ENODEV, -ENOMEM. */
int cmc_blades_power(struct cmc_blades *b, const char *blade, bool on) __attribute__((warn_unused_result));
/* The blade went down by itself: its link watch is closed, so its namespace can end and
 * its VFs' netdevs come home. */
void cmc_blades_blade_lost(struct cmc_blades *b, const char *blade);
/* change_finish (rc 0) for a change that touches the cards only (a failover: the spare's
 * VFs get the profile before the spare is on); cmc_blades_tidy() does the blades' part. */
int cmc_blades_change_end_cards(struct cmc_blades *b, struct cmc_intent *old, const char *what, char *err,
				size_t errlen) __attribute__((warn_unused_result));

/* The commands (cmd-assign.c, cmd-domain.c, cmd-lane.c, cmd-port.c). */
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
enum cmc_status cmc_cmd_template(void *ctx, struct cmc_api_request *req);	/* cmd-template.c */

#endif
