/* SPDX-License-Identifier: MIT */
/*
 * port, ports, vbridge: a port's role (uplink, or midplane: internal loopback whatever
 * the cables do) and the static entries of its bridge. The rules are the intent's
 * (intent.h); the change is made as blades.h says (check, commit, apply).
 */
#include "args.h"
#include "assign.h"
#include "blades.h"
#include "cards.h"
#include "daemon.h"
#include "intent.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cmc_port_role_change(struct cmcd *d, unsigned slot, unsigned pf, enum cmc_port_role role,
			 char *err, size_t errlen)
{
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	int rc;

	if (!in)
		return snprintf(err, errlen, "blades are not available"), -ENODEV;
	if (!cmc_intent_port(in, slot, pf, NULL))
		return cmc_cards_why_not_driven(d, slot, pf, err, errlen), -ENOENT;
	if (cmc_intent_role(in, slot, pf) == role)
		return 0;
	if (role == CMC_PORT_MIDPLANE && cmc_cards_port(d->cards, slot, pf, NULL) &&
	    !(cmc_cards_port_caps(d->cards, slot, pf) & CMC_CARD_CAN_LOOPBACK))
		return snprintf(err, errlen, "slot %u pf %u: its driver cannot hold the port in loopback "
				"(a midplane port needs igb-vfio)", slot, pf), -EOPNOTSUPP;
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	rc = cmc_blades_change_finish(d->blades, old, cmc_intent_role_set(in, slot, pf, role, err, errlen), "port", err, errlen);
	if (rc)
		return rc;
	cmc_events_post(d->events, "port-role", (int)slot, "pf %u is now %s", pf, cmc_port_role_name(role));
	return 0;
}

/* port S/P role uplink|midplane */
enum cmc_status cmc_cmd_port(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] = "usage: port SLOT/PF role uplink|midplane";
	struct cmcd *d = ctx;
	unsigned slot, pf;
	char sbuf[8], err[256];
	const char *slash = strchr(req->argv[1], '/');
	enum cmc_port_role role;

	if (!cmc_blades_intent(d->blades))
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (req->argc != 4 || strcmp(req->argv[2], "role") != 0 || !slash ||
	    (size_t)(slash - req->argv[1]) >= sizeof(sbuf))
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	memcpy(sbuf, req->argv[1], (size_t)(slash - req->argv[1]));
	sbuf[slash - req->argv[1]] = '\0';
	if (cmc_api_parse_uint(sbuf, 255, &slot) || cmc_api_parse_uint(slash + 1, 7, &pf))
		return cmc_api_refuse(req, CMC_USAGE, "%s (bad port '%.16s')", usage, req->argv[1]);
	if (strcmp(req->argv[3], "uplink") == 0)
		role = CMC_PORT_UPLINK;
	else if (strcmp(req->argv[3], "midplane") == 0)
		role = CMC_PORT_MIDPLANE;
	else
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	return cmc_blades_reply(d->blades, req, cmc_port_role_change(d, slot, pf, role, err, sizeof(err)), err);
}

enum cmc_status cmc_cmd_ports(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	const struct cmc_intent *in = cmc_blades_intent(d->blades);
	unsigned slot, pf, n;

	for (unsigned i = 0; in && cmc_intent_port_nth(in, i, &slot, &pf, &n) == 0; i++) {
		if (!cmc_cards_port(d->cards, slot, pf, &n))
			continue;
		cmc_rec_begin(req->body, "port");
		cmc_rec_int(req->body, "slot", slot);
		cmc_rec_int(req->body, "pf", pf);
		cmc_rec_str(req->body, "role", cmc_port_role_name(cmc_intent_role(in, slot, pf)));
		cmc_rec_int(req->body, "vfs", n);
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

static enum cmc_status vbridge_show(struct cmcd *d, struct cmc_api_request *req, const char *usage)
{
	unsigned slot;

	if (req->argc == 2) {
		cmc_cards_fdb_records(d->cards, -1, req->body);
		return CMC_OK;
	}
	if (req->argc != 4 || strcmp(req->argv[2], "slot") || cmc_api_parse_uint(req->argv[3], 255, &slot))
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (!cmc_cards_port(d->cards, slot, 0, NULL) && !cmc_cards_port(d->cards, slot, 1, NULL))
		return cmc_api_refuse(req, CMC_REFUSED, "slot %u holds no card cmcd drives", slot);
	cmc_cards_fdb_records(d->cards, (int)slot, req->body);
	return CMC_OK;
}

/* vbridge show [slot N] | add slot N [pf P] vf V mac M | del slot N [pf P] mac M */
enum cmc_status cmc_cmd_vbridge(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] =
		"usage: vbridge show [slot N] | add slot N [pf P] vf V mac M | del slot N [pf P] mac M";
	struct cmcd *d = ctx;
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	struct cmc_fdb f = { 0 };
	struct cmc_arg args[] = {
		{ "slot", CMC_ARG_UINT, 0, 255, true, &f.slot, NULL, false },
		{ "pf", CMC_ARG_UINT, 0, 7, false, &f.pf, NULL, false },
		{ "mac", CMC_ARG_MAC, 0, 0, true, f.mac, "a unicast MAC address", false },
		{ "vf", CMC_ARG_UINT, 0, 7, false, &f.vf, NULL, false },
	};
	bool add = strcmp(req->argv[1], "add") == 0;
	char err[256], macs[VB_MAC_STRLEN];
	enum cmc_status st;
	int rc;

	if (strcmp(req->argv[1], "show") == 0)
		return vbridge_show(d, req, usage);
	if (!add && strcmp(req->argv[1], "del") != 0)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	/* del takes no vf: the entry is known by its MAC. */
	st = cmc_args_parse(req, 2, args, add ? 4 : 3, usage);
	if (st != CMC_OK)
		return st;
	if (add && !args[3].seen)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (!in)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (add && cmc_cards_port(d->cards, f.slot, f.pf, NULL) &&
	    !(cmc_cards_port_caps(d->cards, f.slot, f.pf) & CMC_CARD_CAN_FDB))
		return cmc_api_refuse(req, CMC_REFUSED, "slot %u pf %u: its driver has no static entries "
				      "(they need igb-vfio)", f.slot, f.pf);
	if (add && cmc_blades_mac_not_granted(d->blades, f.mac, f.slot, f.pf, -1, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	if (add) {
		rc = cmc_intent_fdb_add(in, &f, err, sizeof(err));
	} else {
		const struct cmc_fdb *cur = cmc_intent_fdb(in, f.slot, f.pf, f.mac);

		f.vf = cur ? cur->vf : 0;
		rc = cmc_intent_fdb_del(in, f.slot, f.pf, f.mac, err, sizeof(err));
	}
	st = cmc_blades_command_end(d->blades, req, old, rc, "vbridge", err, sizeof(err));
	if (st != CMC_OK)
		return st;
	vb_mac_str(f.mac, macs);
	if (add)
		cmc_events_post(d->events, "vbridge", (int)f.slot, "pf %u: static entry %s to vf %u", f.pf, macs, f.vf);
	else
		cmc_events_post(d->events, "vbridge", (int)f.slot, "pf %u: static entry %s removed", f.pf, macs);
	return CMC_OK;
}
