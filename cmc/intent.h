/* SPDX-License-Identifier: MIT */
/*
 * The chassis' intent (intent.c): what the administrator asked for, as a pure model, and
 * the one owner of every MAC address in the chassis.
 *
 *   assignment   a VF given to a blade, with its MAC, VLAN, rate and trust; a lane's two
 *                VFs and a VM's profile are assignments too (lane, vm set)
 *   domain       a VLAN inside the chassis and the blades in it
 *   lane         a private domain between two blades on a midplane port
 *   role         a port's role (uplink or midplane) where it differs from the config
 *   static entry frames to a MAC land in one VF's pool (a VM behind a VF)
 *   dedicated    a slot of the configuration whose every VF is its blade's
 *   template     a named network template (template.h): VLAN, rate, trust and access list
 *                that every VM profile naming it takes; the configuration's, replaced or
 *                added to by the administrator
 *
 * It takes the configuration and the chassis identity, and learns the ports cmcd drives
 * (their VF counts and PF addresses) as facts from its caller. It does no I/O, keeps no
 * pointer to anything it was not given, and never calls out: every rule of the chassis
 * lives here and is checked in microseconds, by the daemon before it changes anything
 * and by t/unit/intent.c.
 *
 * A change is checked first (the `_check` function, or the change itself, which checks
 * and leaves the model unchanged on any error); the daemon then commits it to the store
 * and only then applies it to cards and blades. The card's bridge is part of the check:
 * each port's filter tables are modelled (vbridge.h) from the intent, so a change the
 * card cannot hold (VLAN filter entries, receive-address entries) is refused before any
 * card is written.
 *
 * MAC ownership: a MAC belongs to at most one of: a VF's primary (an assignment: VFs,
 * lane ends, VM profiles), a static entry, a PF's own address, or, for a VF nobody is
 * assigned to, its default (macs.h: the chassis' range, which no one else may take).
 * What VFs obtain through their mailboxes at run time is the cards' (cards.h), which
 * ask this owner, through the list cmc_intent_foreach_mac() gives, before granting.
 *
 * Functions return 0 or a negative errno; those with err/errlen write a sentence for the
 * administrator there (err may be NULL). One intent must not be used from two threads.
 */
#ifndef CMC_INTENT_H
#define CMC_INTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dhcp.h"

#define CMC_INTENT_ASSIGN_MAX 256
#define CMC_INTENT_DOMAIN_MAX 64
#define CMC_INTENT_LANE_MAX 64
#define CMC_INTENT_ROLE_MAX 64
#define CMC_INTENT_FDB_MAX 256
#define CMC_INTENT_PORT_MAX 64
#define CMC_INTENT_NAME_MAX 16		/* domain and VM names */
#define CMC_INTENT_LANE_NAME_MAX 10	/* the lane's netdev is "ln-NAME" (IFNAMSIZ 16) */
#define CMC_DOMAIN_VLAN_MIN 2
#define CMC_DOMAIN_VLAN_MAX 3999
#define CMC_DOMAIN_VLAN_FIRST 100	/* where a domain without a VLAN asked for starts */
#define CMC_LANE_VLAN_MIN 4000		/* lanes take VLANs from the top; domains never do */
#define CMC_LANE_VLAN_MAX 4094
#define CMC_RATE_MAX_MBPS 1000		/* 1 GbE */
#define CMC_INTENT_TEMPLATE_MAX 64

struct cmc_intent;

struct cmc_assignment {
	unsigned slot, pf, vf;
	char blade[CMC_CONFIG_NAME_MAX + 1];
	uint8_t mac[6];
	uint16_t vlan;			/* asked for, 1..3999; 0 = its domain's (or none) */
	unsigned rate;			/* transmit limit, Mbit/s 0..1000; 0 = none */
	bool trusted;			/* may change its MAC; anti-spoofing off */
	char lane[CMC_INTENT_LANE_NAME_MAX + 1];	/* "" = not a lane's */
	char vm[CMC_INTENT_NAME_MAX + 1];		/* "" = not a VM profile's */
	char service[CMC_INTENT_NAME_MAX + 1];		/* "" = not a domain service's; else its
							 * domain, and blade is "dhcp-" DOMAIN */
	bool dedicated;			/* from a dedicated slot of the configuration */
	/* "" = none; else the template whose VLAN, rate and trust the VF takes (whatever
	 * vlan, rate and trusted above say: the template owns them) */
	char tmpl[CMC_TEMPLATE_NAME_MAX + 1];
	char sprofile[CMC_INTENT_NAME_MAX + 1];	/* "" = not a server profile's (sprofile.h):
						 * else its MAC, VLAN, rate and trust are the
						 * profile's, and only the profile stores them */
};

struct cmc_domain {
	char name[CMC_INTENT_NAME_MAX + 1];
	uint16_t vlan;			/* CMC_DOMAIN_VLAN_MIN..MAX */
	uint64_t members;		/* bit per blade, by its index in the configuration */
	struct cmc_dhcp_settings dhcp;	/* its configuration service (on false: none) */
};

struct cmc_lane {
	char name[CMC_INTENT_LANE_NAME_MAX + 1];
	unsigned slot, pf;		/* a midplane port */
	unsigned net;			/* addresses 169.254.net.1 and .2, net 1..254 */
	uint16_t vlan;			/* CMC_LANE_VLAN_MIN..MAX */
};

struct cmc_fdb {
	unsigned slot, pf, vf;
	uint8_t mac[6];
};

/* What a VF is to be set to: its assignment's settings, or its default. */
struct cmc_vf_settings {
	uint8_t mac[6];
	uint16_t vlan;			/* the effective port VLAN; 0 = untagged */
	unsigned rate;			/* Mbit/s, 0 = none */
	bool trusted;
	bool spoofchk;			/* = !trusted */
	bool assigned;			/* false: the VF's default */
};

/* --- Life ------------------------------------------------------------------------- */

/*
 * An empty intent for cfg (kept by pointer: it must outlive the intent) in chassis
 * chassis_id (1..CMC_CHASSIS_ID_MAX, macs.h). -EINVAL, -ENOMEM.
 */
int cmc_intent_new(const struct cmc_config *cfg, uint32_t chassis_id, struct cmc_intent **out)
	__attribute__((warn_unused_result));
void cmc_intent_free(struct cmc_intent *in);

/* A copy of the whole intent, to compare a change with and to go back to (a store that
 * refused the change). -ENOMEM. restore: `in` becomes what `from` was (same config). */
int cmc_intent_dup(const struct cmc_intent *in, struct cmc_intent **out) __attribute__((warn_unused_result));
void cmc_intent_restore(struct cmc_intent *in, const struct cmc_intent *from);

/*
 * A port cmcd drives, as its card tells: VF count (0..7) and the PF's own address (all
 * zero: unknown). Again for a known port replaces the facts (a card put back). Then, for
 * a dedicated slot, every VF of the port not yet assigned is its blade's. -EINVAL (slot
 * not in the configuration, pf or VF count out of range), -ENOSPC (too many ports).
 */
int cmc_intent_port_add(struct cmc_intent *in, unsigned slot, unsigned pf, unsigned num_vfs,
			const uint8_t pf_mac[6]) __attribute__((warn_unused_result));
/* The ports known, i < count, in the order they were added; -ENOENT past the end. */
unsigned cmc_intent_port_count(const struct cmc_intent *in);
int cmc_intent_port_nth(const struct cmc_intent *in, unsigned i, unsigned *slot, unsigned *pf,
			unsigned *num_vfs);
/* Whether slot/pf is a port cmcd drives, and its VF count. */
bool cmc_intent_port(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned *num_vfs);
/* A port's role: the administrator's, else the configuration's, else uplink. */
enum cmc_port_role cmc_intent_role(const struct cmc_intent *in, unsigned slot, unsigned pf);

/* --- Reading ---------------------------------------------------------------------- */

/* The i-th assignment (0 <= i < count; the order changes with removals), or NULL. */
unsigned cmc_intent_assignment_count(const struct cmc_intent *in);
const struct cmc_assignment *cmc_intent_assignment_nth(const struct cmc_intent *in, unsigned i);
const struct cmc_assignment *cmc_intent_assignment(const struct cmc_intent *in, unsigned slot,
						   unsigned pf, unsigned vf);
unsigned cmc_intent_domain_count(const struct cmc_intent *in);
const struct cmc_domain *cmc_intent_domain_nth(const struct cmc_intent *in, unsigned i);
const struct cmc_domain *cmc_intent_domain(const struct cmc_intent *in, const char *name);
const struct cmc_domain *cmc_intent_domain_of_blade(const struct cmc_intent *in, const char *blade);
unsigned cmc_intent_lane_count(const struct cmc_intent *in);
const struct cmc_lane *cmc_intent_lane_nth(const struct cmc_intent *in, unsigned i);
const struct cmc_lane *cmc_intent_lane(const struct cmc_intent *in, const char *name);
/* The lane's two ends, lower VF first (that end is 169.254.net.1). -ENOENT. */
int cmc_intent_lane_ends(const struct cmc_intent *in, const char *name,
			 const struct cmc_assignment *ends[2]);
unsigned cmc_intent_fdb_count(const struct cmc_intent *in);
const struct cmc_fdb *cmc_intent_fdb_nth(const struct cmc_intent *in, unsigned i);
const struct cmc_fdb *cmc_intent_fdb(const struct cmc_intent *in, unsigned slot, unsigned pf,
				     const uint8_t mac[6]);

/* The VF of domain's configuration service (dhcp.h), or NULL. */
const struct cmc_assignment *cmc_intent_service(const struct cmc_intent *in, const char *domain);

/* A VF's VLAN: its lane's, its service's domain's, else the one asked for, else its
 * blade's domain's, else 0. */
uint16_t cmc_intent_vlan_of(const struct cmc_intent *in, const struct cmc_assignment *a);
/* What slot/pf/vf is to be set to (its assignment's settings, or its default). */
void cmc_intent_vf_settings(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf,
			    struct cmc_vf_settings *out);
/* The blade's functions (assignments of every kind). */
unsigned cmc_intent_functions(const struct cmc_intent *in, const char *blade);
/* Index of blade in the configuration, or -1; the name of index i, or NULL. */
int cmc_intent_blade_index(const struct cmc_intent *in, const char *blade);
const char *cmc_intent_blade_name(const struct cmc_intent *in, unsigned i);

/* --- MAC ownership ---------------------------------------------------------------- */

enum cmc_mac_kind {
	CMC_MAC_FREE,		/* nobody's */
	CMC_MAC_VF,		/* an assignment's primary (a lane's or a VM profile's included) */
	CMC_MAC_DEFAULT,	/* the chassis' range: a VF's default (macs.h) */
	CMC_MAC_STATIC,		/* a static entry's */
	CMC_MAC_PF,		/* a PF's own address */
	CMC_MAC_POOL,		/* the server profiles' pool (macs.h), not held by any VF now */
};

struct cmc_mac_owner {
	enum cmc_mac_kind kind;
	unsigned slot, pf;
	int vf;			/* the VF (VF, STATIC kinds), else -1 */
	const char *blade;	/* CMC_MAC_VF: the assignment's blade, else NULL */
};

/* Who owns mac. The chassis' range counts as CMC_MAC_DEFAULT whoever's default it is. */
void cmc_intent_mac_owner(const struct cmc_intent *in, const uint8_t mac[6],
			  struct cmc_mac_owner *out);
/*
 * May slot/pf/vf take mac as its primary? Yes if nobody else owns it (its own current
 * assignment and its own default do not count). -EADDRINUSE with the owner in err,
 * -EINVAL if mac is not a unicast address.
 */
int cmc_intent_mac_free_for(const struct cmc_intent *in, const uint8_t mac[6], unsigned slot,
			    unsigned pf, unsigned vf, char *err, size_t errlen);
/* Every MAC the intent owns but the chassis' range: assignments (vf >= 0), static
 * entries (vf -1) and PF addresses (pf_own true). */
typedef void (*cmc_intent_mac_fn)(void *arg, const uint8_t mac[6], unsigned slot, unsigned pf,
				  int vf, bool pf_own);
void cmc_intent_foreach_mac(const struct cmc_intent *in, cmc_intent_mac_fn fn, void *arg);

/* --- Changes (each checks in full; on any error the intent is unchanged) ------------ */

/*
 * A new assignment. Refused: no such blade, a port cmcd does not drive, no such VF, the
 * VF already assigned (-EBUSY), a MAC someone owns (-EADDRINUSE), a VLAN of the lanes'
 * range or of a domain the blade is not in, a rate above 1000, a dedicated slot's VF, or
 * what the port's bridge cannot hold (-ENOSPC), or no room (-ENOSPC).
 */
int cmc_intent_assign_check(const struct cmc_intent *in, const struct cmc_assignment *a, char *err,
			    size_t errlen) __attribute__((warn_unused_result));
int cmc_intent_assign(struct cmc_intent *in, const struct cmc_assignment *a, char *err,
		      size_t errlen) __attribute__((warn_unused_result));
/* Replaces the assignment of a's VF (same slot/pf/vf), checked as a new one would be. */
int cmc_intent_update_check(const struct cmc_intent *in, const struct cmc_assignment *a,
			    char *err, size_t errlen) __attribute__((warn_unused_result));
int cmc_intent_update(struct cmc_intent *in, const struct cmc_assignment *a, char *err,
		      size_t errlen) __attribute__((warn_unused_result));
/* Takes an assignment away (its static entries go with it). -ENOENT. A lane's VF or a
 * VM profile's or a server profile's is refused (-EPERM) unless `owner` is true (the
 * lane, VM or server-profile code). */
int cmc_intent_unassign_check(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf,
			      bool owner, char *err, size_t errlen) __attribute__((warn_unused_result));
int cmc_intent_unassign(struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf, bool owner,
			char *err, size_t errlen) __attribute__((warn_unused_result));

/* A domain; vlan 0 picks the first free one from CMC_DOMAIN_VLAN_FIRST (written to *got). */
int cmc_intent_domain_create(struct cmc_intent *in, const char *name, uint16_t vlan, uint16_t *got,
			     char *err, size_t errlen) __attribute__((warn_unused_result));
int cmc_intent_domain_delete(struct cmc_intent *in, const char *name, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* A blade joins (join true) or leaves a domain; a blade is in one domain at most. The
 * blade's VFs change VLAN: checked against every port's bridge. */
int cmc_intent_domain_member(struct cmc_intent *in, const char *name, const char *blade, bool join,
			     char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * A domain's configuration service (dhcp.h, doc/dhcp.md): s->on sets or changes it,
 * !s->on removes it. The settings must keep cmc_dhcp_check()'s rules. A domain without a
 * service gets one VF for it: the first VF nobody has on an uplink port that is no
 * dedicated slot's, with that VF's default MAC (the chassis' rule, macs.h), on the
 * domain's VLAN, assigned to "dhcp-" DOMAIN (a name no configured blade may have); a
 * change of settings keeps the VF. Refused: no such domain (-ENOENT), bad settings
 * (-EINVAL), a blade of the configuration named "dhcp-" DOMAIN (-EEXIST), no free VF or
 * what the port's bridge cannot hold (-ENOSPC). Deleting a domain takes its service's VF
 * with it; the VF is unassigned by nothing else.
 */
int cmc_intent_domain_dhcp(struct cmc_intent *in, const char *name, const struct cmc_dhcp_settings *s,
			   char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Plans a lane joining blades a and z: a midplane port with two VFs free (slot < 0: any
 * slot; pf < 0: any, else that port), the first free lane VLAN and net. Fills *lane and
 * ends[2] (the two assignments, lower VF first); changes nothing. cmc_intent_lane_add
 * then adds exactly that plan.
 */
int cmc_intent_lane_plan(const struct cmc_intent *in, const char *name, const char *a, const char *z,
			 int slot, int pf, struct cmc_lane *lane, struct cmc_assignment ends[2],
			 char *err, size_t errlen) __attribute__((warn_unused_result));
int cmc_intent_lane_add(struct cmc_intent *in, const struct cmc_lane *lane,
			const struct cmc_assignment ends[2], char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* The lane and its two assignments go. -ENOENT. */
int cmc_intent_lane_delete(struct cmc_intent *in, const char *name, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* A port's role. To uplink: refused while a lane runs on it. */
int cmc_intent_role_set(struct cmc_intent *in, unsigned slot, unsigned pf, enum cmc_port_role role,
			char *err, size_t errlen) __attribute__((warn_unused_result));

/* A static entry: the VF must be assigned; the MAC nobody's; the port's bridge must hold
 * it. -EEXIST if the same entry is there already. */
int cmc_intent_fdb_add(struct cmc_intent *in, const struct cmc_fdb *f, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int cmc_intent_fdb_del(struct cmc_intent *in, unsigned slot, unsigned pf, const uint8_t mac[6],
		       char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Plans a VM's profile: the first free VF of an uplink port (profile settings in *p:
 * mac, vlan, rate, trusted). The VF keeps its own default MAC: the VM's MAC (p->mac) is
 * delivered to it by a static entry (cmc_intent_fdb_add), which the caller adds once the
 * profile is live (vm start, a migration's switch-over) and not while it is staged (a
 * migration's destination, doc/vm-network.md). live true also refuses (-EADDRINUSE) a
 * VM MAC someone owns. Fills *out (vm and blade set); changes nothing; cmc_intent_assign
 * then adds it.
 */
int cmc_intent_profile_plan(const struct cmc_intent *in, const char *vm, const char *blade,
			    const struct cmc_assignment *p, bool live, struct cmc_assignment *out,
			    char *err, size_t errlen) __attribute__((warn_unused_result));

/* --- Network templates ----------------------------------------------------------------- */

/* The i-th template (0 <= i < count; the order changes with removals), by name, by id
 * (1..255), or NULL. from_config (may be NULL): whether it is the configuration's as
 * the file has it (not replaced by the administrator). */
unsigned cmc_intent_template_count(const struct cmc_intent *in);
const struct cmc_template *cmc_intent_template_nth(const struct cmc_intent *in, unsigned i, bool *from_config);
const struct cmc_template *cmc_intent_template(const struct cmc_intent *in, const char *name);
const struct cmc_template *cmc_intent_template_by_id(const struct cmc_intent *in, unsigned id);
/*
 * The template a VM's MAC carries (template.h's template-coded MAC): *out the template,
 * or NULL when the MAC is not template-coded. -ENOENT (err says so) when it is coded with
 * an id no template has.
 */
int cmc_intent_template_of_mac(const struct cmc_intent *in, const uint8_t mac[6],
			       const struct cmc_template **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/*
 * A new template (add) or a new version of one (set, same name). Refused: a bad field
 * (-EINVAL, cmc_template_check), a name taken (add: -EEXIST) or unknown (set: -ENOENT),
 * an id another template has (-EADDRINUSE), no room (-ENOSPC). set changes every
 * assignment that names it to the template's VLAN, rate and trust, each checked as an
 * update of that VF (a VLAN of a domain its blade is not in, what a port's bridge cannot
 * hold: refused, nothing changed).
 */
int cmc_intent_template_add(struct cmc_intent *in, const struct cmc_template *t, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int cmc_intent_template_set(struct cmc_intent *in, const struct cmc_template *t, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* -ENOENT; -EBUSY while an assignment names it (err names the VM); -EPERM for one of the
 * configuration (remove it there). */
int cmc_intent_template_del(struct cmc_intent *in, const char *name, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* --- The store's records (intent-store.c) ------------------------------------------ */

/*
 * The store keeps the intent as records, one a fact:
 *
 *   assign/S/P/V   "blade=B mac=M vlan=X rate=R trusted=0|1 lane=L|- vm=N|- tmpl=T|- [service=D]"
 *   domain/NAME    "vlan=X blades=a,b|- dhcp=off" or "... dhcp=on subnet=... (dhcp.h)"
 *   lane/NAME      "slot=S pf=P vlan=X net=N"
 *   port/S/P       "role=uplink|midplane"
 *   fdb/S/P/MAC    "vf=V"
 *   template/NAME  "id=I vlan=X rate=R trusted=0|1 allow=A,B|-"   (the administrator's:
 *                  one the configuration has, as the file has it, is no record)
 *   sprofile/NAME  a server profile with its VFs (sprofile.h)
 *
 * Dedicated slots' assignments come from the configuration and are never stored; a
 * server profile's are stored in its record only.
 */
#define CMC_INTENT_KEY_MAX 64
#define CMC_INTENT_VALUE_MAX 1024
void cmc_intent_assignment_record(const struct cmc_assignment *a, char key[CMC_INTENT_KEY_MAX],
				  char value[CMC_INTENT_VALUE_MAX]);
void cmc_intent_domain_record(const struct cmc_intent *in, const struct cmc_domain *d,
			      char key[CMC_INTENT_KEY_MAX], char value[CMC_INTENT_VALUE_MAX]);
void cmc_intent_lane_record(const struct cmc_lane *l, char key[CMC_INTENT_KEY_MAX],
			    char value[CMC_INTENT_VALUE_MAX]);
void cmc_intent_role_record(unsigned slot, unsigned pf, enum cmc_port_role role,
			    char key[CMC_INTENT_KEY_MAX], char value[CMC_INTENT_VALUE_MAX]);
void cmc_intent_fdb_record(const struct cmc_fdb *f, char key[CMC_INTENT_KEY_MAX],
			   char value[CMC_INTENT_VALUE_MAX]);
void cmc_intent_template_record(const struct cmc_template *t, char key[CMC_INTENT_KEY_MAX],
				char value[CMC_INTENT_VALUE_MAX]);
/* Every record of the intent (what the store must hold, exactly), in no set order. */
typedef void (*cmc_intent_record_fn)(void *arg, const char *key, const char *value);
void cmc_intent_foreach_record(const struct cmc_intent *in, cmc_intent_record_fn fn, void *arg);
/* The key prefixes of the intent's records, NULL-terminated, in the order to load them:
 * "template/", "domain/", "lane/", "port/", "sprofile/", "assign/", "fdb/". */
extern const char *const cmc_intent_prefixes[];

/*
 * Takes one stored record into the intent, checked as the change that made it was
 * (records of one kind in any order; load templates, domains and lanes before assignments, and
 * assignments before static entries). -EINVAL (unreadable: why says so), or the
 * check's error: the record is to be dropped, with `why` as the reason.
 */
int cmc_intent_load_record(struct cmc_intent *in, const char *key, const char *value, char *why,
			   size_t whylen) __attribute__((warn_unused_result));

#endif
