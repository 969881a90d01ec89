/* SPDX-License-Identifier: MIT */
/*
 * domain, domains: a VLAN inside the chassis per group of blades. The rules are the
 * intent's (intent.h); the change is made as blades.h says (check, commit, apply).
 */
#include "blades.h"
#include "daemon.h"
#include "dhcp.h"
#include "intent.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: domain create NAME [vlan X] | delete NAME | add NAME BLADE | remove NAME BLADE"
			    " | dhcp NAME SETTINGS | dhcp NAME off";

/*
 * domain dhcp NAME SETTINGS | off: the domain's configuration service (dhcp.h). Refused
 * before anything changes: settings that break the rules, no free VF for the service, or
 * no dnsmasq to run. Then the intent's change (one store transaction), and the services
 * follow it (cmc_dhcp_sync).
 */
static enum cmc_status domain_dhcp(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	const char *name = req->argv[2];
	struct cmc_dhcp_settings s = { .on = false };
	char err[256], text[256];
	enum cmc_status st;
	int rc;

	if (req->argc == 4 && strcmp(req->argv[3], "off") == 0)
		rc = 0;
	else
		rc = cmc_dhcp_parse(req->argc - 3, (const char *const *)req->argv + 3, &s, err, sizeof(err));
	if (rc)
		return cmc_api_refuse(req, CMC_USAGE, "%s", err);
	if (s.on && (!d->dhcp || cmc_dhcp_usable(d->dhcp, err, sizeof(err)) < 0))
		return cmc_api_refuse(req, CMC_REFUSED, "%s", d->dhcp ? err : "DHCP services are not available");
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	rc = cmc_intent_domain_dhcp(in, name, &s, err, sizeof(err));
	st = cmc_blades_command_end(d->blades, req, old, rc, "domain", err, sizeof(err));
	if (rc)
		return st;
	cmc_dhcp_format(&s, text, sizeof(text));
	cmc_events_post(d->events, "domain", -1, "%s: configuration service %s", name, text);
	cmc_dhcp_sync(d->dhcp);
	return st;
}

/* domain create NAME [vlan X] | delete NAME | add NAME BLADE | remove NAME BLADE */
enum cmc_status cmc_cmd_domain(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	const char *op = req->argv[1], *name = req->argc > 2 ? req->argv[2] : "";
	char err[256];
	unsigned v = 0;
	uint16_t vlan = 0;
	enum cmc_status st;
	int rc;

	if (!in)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (req->argc < 3)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (strcmp(op, "dhcp") == 0)
		return req->argc < 4 ? cmc_api_refuse(req, CMC_USAGE, "%s", usage) : domain_dhcp(d, req);
	if (strcmp(op, "create") == 0) {
		if (req->argc == 5 && strcmp(req->argv[3], "vlan") == 0) {
			if (cmc_api_parse_uint(req->argv[4], CMC_DOMAIN_VLAN_MAX, &v) || v < CMC_DOMAIN_VLAN_MIN)
				return cmc_api_refuse(req, CMC_USAGE, "'%.32s' is not a domain VLAN (%d-%d)", req->argv[4],
						      CMC_DOMAIN_VLAN_MIN, CMC_DOMAIN_VLAN_MAX);
		} else if (req->argc != 3) {
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		}
	} else if (!((strcmp(op, "delete") == 0 && req->argc == 3) ||
		     ((strcmp(op, "add") == 0 || strcmp(op, "remove") == 0) && req->argc == 4))) {
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	}
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	if (op[0] == 'c')
		rc = cmc_intent_domain_create(in, name, (uint16_t)v, &vlan, err, sizeof(err));
	else if (op[0] == 'd')
		rc = cmc_intent_domain_delete(in, name, err, sizeof(err));
	else
		rc = cmc_intent_domain_member(in, name, req->argv[3], op[0] == 'a', err, sizeof(err));
	st = cmc_blades_command_end(d->blades, req, old, rc, "domain", err, sizeof(err));
	if (st != CMC_OK)
		return st;
	if (op[0] == 'c') {
		cmc_events_post(d->events, "domain", -1, "%s created (vlan %u)", name, vlan);
	} else if (op[0] == 'd') {
		cmc_events_post(d->events, "domain", -1, "%s deleted", name);
		cmc_dhcp_sync(d->dhcp);	/* its service, if it had one, stops */
	} else {
		cmc_events_post(d->events, "domain", -1, "%s %s %s", req->argv[3], op[0] == 'a' ? "joined" : "left",
				name);
	}
	return CMC_OK;
}

/* The service's fields of a domain's record: settings, VF, dnsmasq's state. */
static void domain_service(struct cmcd *d, const struct cmc_intent *in, const struct cmc_domain *dm,
			   struct cmc_api_request *req)
{
	const struct cmc_assignment *a = cmc_intent_service(in, dm->name);
	struct cmc_dhcp_state ds;
	char text[256], vf[48];

	cmc_dhcp_format(&dm->dhcp, text, sizeof(text));
	cmc_rec_str(req->body, "dhcp", text + strlen("dhcp="));
	if (!dm->dhcp.on)
		return;
	snprintf(vf, sizeof(vf), "%u/%u/%u", a ? a->slot : 0, a ? a->pf : 0, a ? a->vf : 0);
	cmc_rec_str(req->body, "service_vf", a ? vf : "-");
	cmc_dhcp_state(d->dhcp, dm->name, &ds);
	cmc_rec_int(req->body, "dnsmasq_pid", ds.pid);
	cmc_rec_int(req->body, "restarts", ds.restarts);
	cmc_rec_str(req->body, "service_state", ds.pid ? "running" : ds.why[0] ? ds.why : "-");
}

enum cmc_status cmc_cmd_domains(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	const struct cmc_intent *in = cmc_blades_intent(d->blades);

	for (unsigned i = 0; in && i < cmc_intent_domain_count(in); i++) {
		const struct cmc_domain *dm = cmc_intent_domain_nth(in, i);
		char blades[1024];
		size_t off = 0;

		blades[0] = '\0';
		for (unsigned k = 0; k < d->config->blade_count && off < sizeof(blades); k++)
			if (dm->members & (1ull << k))
				off += (size_t)snprintf(blades + off, sizeof(blades) - off, "%s%s", off ? "," : "",
							d->config->blades[k].name);
		cmc_rec_begin(req->body, "domain");
		cmc_rec_str(req->body, "domain", dm->name);
		cmc_rec_int(req->body, "vlan", dm->vlan);
		cmc_rec_str(req->body, "blades", off ? blades : "-");
		domain_service(d, in, dm, req);
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}
