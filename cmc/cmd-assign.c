/* SPDX-License-Identifier: MIT */
/*
 * assign, unassign, assignments: VFs given to blades, and the changes Redfish makes the
 * same way (assign.h). The rules are the intent's
 * (intent.h); the change is made as blades.h says (check, commit, apply).
 */
#include "args.h"
#include "assign.h"
#include "blades.h"
#include "cards.h"
#include "daemon.h"
#include "intent.h"
#include "macs.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmc_assign_add(struct cmcd *d, struct cmc_assignment *n, bool mac_given, char *err, size_t errlen)
{
	struct cmc_intent *old;
	char mac[VB_MAC_STRLEN];
	int rc;

	if (!d->blades)
		return snprintf(err, errlen, "blades are not available"), -ENODEV;
	if (!cmc_intent_port(cmc_blades_intent(d->blades), n->slot, n->pf, NULL))
		return cmc_cards_why_not_driven(d, n->slot, n->pf, err, errlen), -ENOENT;
	if (!mac_given && cmc_mac_vf_default(d->chassis_id, n->slot, n->pf, n->vf, n->mac) < 0)
		return snprintf(err, errlen, "slot %u pf %u vf %u has no default MAC", n->slot, n->pf, n->vf),
		       -EINVAL;
	rc = cmc_blades_mac_not_granted(d->blades, n->mac, n->slot, n->pf, (int)n->vf, err, errlen);
	if (rc < 0)
		return rc;
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	rc = cmc_blades_change_finish(d->blades, old, cmc_intent_assign(cmc_blades_intent(d->blades), n, err, errlen), "assign",
			err, errlen);
	/* Made (applied, or kept but not applied): the event says what was asked. */
	if ((!rc || rc == -EIO) && cmc_intent_assignment(cmc_blades_intent(d->blades), n->slot, n->pf, n->vf))
		cmc_events_post(d->events, "assigned", (int)n->slot, "pf %u vf %u to %s (mac %s vlan %u)", n->pf,
				n->vf, n->blade, vb_mac_str(n->mac, mac),
				cmc_intent_vlan_of(cmc_blades_intent(d->blades), n));
	return rc;
}

int cmc_assign_remove(struct cmcd *d, unsigned slot, unsigned pf, unsigned vf, char *err, size_t errlen)
{
	const struct cmc_assignment *a;
	char blade[CMC_CONFIG_NAME_MAX + 1];
	struct cmc_intent *old;
	int rc;

	if (!d->blades)
		return snprintf(err, errlen, "blades are not available"), -ENODEV;
	a = cmc_intent_assignment(cmc_blades_intent(d->blades), slot, pf, vf);
	snprintf(blade, sizeof(blade), "%s", a ? a->blade : "");
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	rc = cmc_blades_change_finish(d->blades, old, cmc_intent_unassign(cmc_blades_intent(d->blades), slot, pf, vf, false, err,
						    errlen), "unassign", err, errlen);
	if (!rc)
		cmc_events_post(d->events, "unassigned", (int)slot, "pf %u vf %u from %s", pf, vf, blade);
	return rc;
}

int cmc_assign_update(struct cmcd *d, const struct cmc_assignment *n, char *err, size_t errlen)
{
	const struct cmc_assignment *a;
	struct cmc_intent *old;
	char mac[VB_MAC_STRLEN];
	int rc;

	if (!d->blades)
		return snprintf(err, errlen, "blades are not available"), -ENODEV;
	a = cmc_intent_assignment(cmc_blades_intent(d->blades), n->slot, n->pf, n->vf);
	if (!a)
		return snprintf(err, errlen, "slot %u pf %u vf %u is not assigned", n->slot, n->pf, n->vf), -ENOENT;
	if (memcmp(a->mac, n->mac, 6) != 0 &&
	    (rc = cmc_blades_mac_not_granted(d->blades, n->mac, n->slot, n->pf, (int)n->vf, err, errlen)) < 0)
		return rc;
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	rc = cmc_blades_change_finish(d->blades, old, cmc_intent_update(cmc_blades_intent(d->blades), n, err, errlen), "update",
			err, errlen);
	if (!rc || rc == -EIO)
		cmc_events_post(d->events, "assignment-changed", (int)n->slot,
				"pf %u vf %u of %s: mac %s vlan %u rate %u%s", n->pf, n->vf, n->blade,
				vb_mac_str(n->mac, mac), cmc_intent_vlan_of(cmc_blades_intent(d->blades), n),
				n->rate, n->trusted ? " trusted" : "");
	return rc;
}

/* assign slot N [pf P] vf V blade B [mac M] [vlan X] [rate MBPS] [trusted] */
enum cmc_status cmc_cmd_assign(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] =
		"usage: assign slot N [pf P] vf V blade B [mac M] [vlan X] [rate MBPS] [trusted]";
	struct cmcd *d = ctx;
	struct cmc_assignment n = { 0 };
	unsigned vlan = 0;
	struct cmc_arg args[] = {
		{ "slot", CMC_ARG_UINT, 0, 255, true, &n.slot, "a slot number (0-255)", false },
		{ "pf", CMC_ARG_UINT, 0, 7, false, &n.pf, "a PF number (0-7)", false },
		{ "vf", CMC_ARG_UINT, 0, 7, true, &n.vf, "a VF number (0-7)", false },
		{ "blade", CMC_ARG_WORD, 0, CMC_CONFIG_NAME_MAX, true, n.blade, NULL, false },
		{ "mac", CMC_ARG_MAC, 0, 0, false, n.mac, "a unicast MAC address (like 02:00:00:00:01:01)", false },
		{ "vlan", CMC_ARG_UINT, 1, 4094, false, &vlan, "a VLAN id (1-4094)", false },
		{ "rate", CMC_ARG_UINT, 0, CMC_RATE_MAX_MBPS, false, &n.rate, "a rate in Mbit/s (0-1000)", false },
		{ "trusted", CMC_ARG_FLAG, 0, 0, false, &n.trusted, NULL, false },
	};
	enum cmc_status st;
	char err[256];

	if (!d->blades)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	st = cmc_args_parse(req, 1, args, sizeof(args) / sizeof(args[0]), usage);
	if (st != CMC_OK)
		return st;
	n.vlan = (uint16_t)vlan;
	return cmc_blades_reply(d->blades, req, cmc_assign_add(d, &n, args[4].seen, err, sizeof(err)), err);
}

/* unassign slot N [pf P] vf V */
enum cmc_status cmc_cmd_unassign(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] = "usage: unassign slot N [pf P] vf V";
	struct cmcd *d = ctx;
	unsigned slot = 0, pf = 0, vf = 0;
	struct cmc_arg args[] = {
		{ "slot", CMC_ARG_UINT, 0, 255, true, &slot, "a slot number (0-255)", false },
		{ "pf", CMC_ARG_UINT, 0, 7, false, &pf, "a PF number (0-7)", false },
		{ "vf", CMC_ARG_UINT, 0, 7, true, &vf, "a VF number (0-7)", false },
	};
	char err[256];
	enum cmc_status st = cmc_args_parse(req, 1, args, sizeof(args) / sizeof(args[0]), usage);

	if (st != CMC_OK)
		return st;
	return cmc_blades_reply(d->blades, req, cmc_assign_remove(d, slot, pf, vf, err, sizeof(err)), err);
}

enum cmc_status cmc_cmd_assignments(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	const struct cmc_intent *in = cmc_blades_intent(d->blades);

	for (unsigned i = 0; in && i < cmc_intent_assignment_count(in); i++) {
		const struct cmc_assignment *a = cmc_intent_assignment_nth(in, i);
		struct cmc_vf_state vs;
		char mac[VB_MAC_STRLEN], ifname[16];

		cmc_blades_vf_state(d->blades, a->slot, a->pf, a->vf, &vs);
		cmc_blades_ifname(a, ifname);
		cmc_rec_begin(req->body, "assignment");
		cmc_rec_int(req->body, "slot", a->slot);
		cmc_rec_int(req->body, "pf", a->pf);
		cmc_rec_int(req->body, "vf", a->vf);
		cmc_rec_str(req->body, "blade", a->blade);
		cmc_rec_str(req->body, "netdev", ifname);
		cmc_rec_str(req->body, "mac", vb_mac_str(a->mac, mac));
		cmc_rec_int(req->body, "vlan", cmc_intent_vlan_of(in, a));
		cmc_rec_int(req->body, "rate", a->rate);
		cmc_rec_bool(req->body, "trusted", a->trusted);
		cmc_rec_str(req->body, "lane", a->lane[0] ? a->lane : "-");
		cmc_rec_str(req->body, "template", a->tmpl[0] ? a->tmpl : "-");
		cmc_rec_str(req->body, "vm", a->vm[0] ? a->vm : "-");
		cmc_rec_bool(req->body, "placed", vs.placed);
		cmc_rec_bool(req->body, "applied", vs.applied);
		cmc_rec_str(req->body, "reason", vs.applied ? "-" : vs.reason);
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}
