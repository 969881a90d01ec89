/* SPDX-License-Identifier: MIT */
/*
 * lane, lanes: a private domain between two blades on a midplane port, for their
 * hypervisors (migrations run over it). The rules and the allocation of port, VFs,
 * VLAN and addresses are the intent's (intent.h).
 */
#include "blades.h"
#include "daemon.h"
#include "intent.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: lane create NAME BLADE BLADE [slot N [pf P]] | delete NAME";

static enum cmc_status lane_create(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	struct cmc_lane l;
	struct cmc_assignment ends[2];
	int slot = -1, pf = -1, rc;
	unsigned v;
	enum cmc_status st;
	char err[256];

	if (req->argc != 5 && req->argc != 7 && req->argc != 9)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (req->argc >= 7) {
		if (strcmp(req->argv[5], "slot") || cmc_api_parse_uint(req->argv[6], 255, &v))
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		slot = (int)v;
		pf = 0;
	}
	if (req->argc == 9) {
		if (strcmp(req->argv[7], "pf") || cmc_api_parse_uint(req->argv[8], 7, &v))
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		pf = (int)v;
	}
	rc = cmc_intent_lane_plan(in, req->argv[2], req->argv[3], req->argv[4], slot, pf, &l, ends, err, sizeof(err));
	if (rc)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	/* One commit holds the lane and both its VFs. */
	rc = cmc_intent_lane_add(in, &l, ends, err, sizeof(err));
	st = cmc_blades_command_end(d->blades, req, old, rc, "lane", err, sizeof(err));
	if (!rc && cmc_intent_lane(in, l.name))
		cmc_events_post(d->events, "lane", (int)l.slot, "%s created: pf %u vf %u (%s, 169.254.%u.1) and vf %u "
				"(%s, 169.254.%u.2), vlan %u", l.name, l.pf, ends[0].vf, ends[0].blade, l.net,
				ends[1].vf, ends[1].blade, l.net, l.vlan);
	return st;
}

static enum cmc_status lane_delete(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	const struct cmc_lane *l = cmc_intent_lane(in, req->argv[2]);
	unsigned slot = l ? l->slot : 0;
	char err[256];
	enum cmc_status st;

	if (req->argc != 3)
		return cmc_api_refuse(req, CMC_USAGE, "usage: lane delete NAME");
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	st = cmc_blades_command_end(d->blades, req, old, cmc_intent_lane_delete(in, req->argv[2], err, sizeof(err)),
				    "lane", err, sizeof(err));
	if (st != CMC_OK)
		return st;
	cmc_events_post(d->events, "lane", (int)slot, "%.16s deleted", req->argv[2]);
	return CMC_OK;
}

/* lane create NAME BLADE BLADE [slot N [pf P]] | delete NAME */
enum cmc_status cmc_cmd_lane(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	if (!d->blades)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (req->argc >= 3 && strcmp(req->argv[1], "create") == 0)
		return lane_create(d, req);
	if (req->argc >= 3 && strcmp(req->argv[1], "delete") == 0)
		return lane_delete(d, req);
	return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
}

enum cmc_status cmc_cmd_lanes(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	const struct cmc_intent *in = cmc_blades_intent(d->blades);

	for (unsigned i = 0; in && i < cmc_intent_lane_count(in); i++) {
		const struct cmc_lane *l = cmc_intent_lane_nth(in, i);
		const struct cmc_assignment *ends[2] = { NULL, NULL };

		(void)cmc_intent_lane_ends(in, l->name, ends);
		cmc_rec_begin(req->body, "lane");
		cmc_rec_str(req->body, "lane", l->name);
		cmc_rec_int(req->body, "slot", l->slot);
		cmc_rec_int(req->body, "pf", l->pf);
		cmc_rec_int(req->body, "vlan", l->vlan);
		for (unsigned k = 0; k < 2; k++) {
			char addr[20];

			snprintf(addr, sizeof(addr), "169.254.%u.%u", l->net, k + 1);
			cmc_rec_str(req->body, k ? "blade_b" : "blade_a", ends[k] ? ends[k]->blade : "-");
			cmc_rec_int(req->body, k ? "vf_b" : "vf_a", ends[k] ? (long long)ends[k]->vf : -1);
			cmc_rec_str(req->body, k ? "addr_b" : "addr_a", addr);
		}
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}
