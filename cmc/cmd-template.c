/* SPDX-License-Identifier: MIT */
/*
 * template list | add | set | del: the library of network templates (template.h). The
 * rules are the intent's (intent.h); a change is made as blades.h says (check, one store
 * transaction, apply): a template set reaches every VF that names it, on its card, in
 * that one change.
 */
#include "args.h"
#include "blades.h"
#include "daemon.h"
#include "intent.h"
#include "template.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: template list | add NAME [id N] [vlan X] [rate MBPS] [trusted on|off] "
			    "[allow PEER,PEER...|-] | set NAME [same] | del NAME";

/* How many VFs (VM profiles) name the template. */
static unsigned users(const struct cmc_intent *in, const char *name)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cmc_intent_assignment_count(in); i++)
		n += strcmp(cmc_intent_assignment_nth(in, i)->tmpl, name) == 0;
	return n;
}

static enum cmc_status list(struct cmc_api_request *req, const struct cmc_intent *in)
{
	for (unsigned i = 0; i < cmc_intent_template_count(in); i++) {
		bool from_cfg;
		const struct cmc_template *t = cmc_intent_template_nth(in, i, &from_cfg);
		char allow[CMC_ALLOW_LIST_STRLEN];

		cmc_rec_begin(req->body, "template");
		cmc_rec_str(req->body, "template", t->name);
		cmc_rec_int(req->body, "id", t->id);
		cmc_rec_int(req->body, "vlan", t->vlan);
		cmc_rec_int(req->body, "rate", t->rate);
		cmc_rec_bool(req->body, "trusted", t->trusted);
		cmc_rec_str(req->body, "allow", cmc_allow_list_str(t, allow));
		cmc_rec_int(req->body, "vms", users(in, t->name));
		cmc_rec_str(req->body, "source", from_cfg ? "config" : "admin");
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

/* The keywords of add and set onto *t (set: over the template as it is). */
static enum cmc_status parse(struct cmc_api_request *req, struct cmc_template *t, char *err, size_t errlen)
{
	char trusted[8] = "", allow[CMC_ALLOW_LIST_STRLEN] = "";
	unsigned vlan = t->vlan;
	struct cmc_arg args[] = {
		{ "id", CMC_ARG_UINT, 1, CMC_TEMPLATE_ID_MAX, false, &t->id, "a template id (1-255)", false },
		{ "vlan", CMC_ARG_UINT, 0, CMC_TEMPLATE_VLAN_MAX, false, &vlan, "a VLAN id (1-3999, 0 = none)", false },
		{ "rate", CMC_ARG_UINT, 0, CMC_TEMPLATE_RATE_MAX, false, &t->rate, "a rate in Mbit/s (0-1000)", false },
		{ "trusted", CMC_ARG_WORD, 0, sizeof(trusted) - 1, false, trusted, "on or off", false },
		{ "allow", CMC_ARG_WORD, 0, sizeof(allow) - 1, false, allow, "a list of peers", false },
	};
	enum cmc_status st = cmc_args_parse(req, 3, args, sizeof(args) / sizeof(args[0]), usage);

	if (st != CMC_OK)
		return st;
	t->vlan = (uint16_t)vlan;
	if (args[3].seen && strcmp(trusted, "on") != 0 && strcmp(trusted, "off") != 0)
		return cmc_api_refuse(req, CMC_USAGE, "'%s' is not on or off", trusted);
	if (args[3].seen)
		t->trusted = trusted[1] == 'n';
	if (args[4].seen && cmc_allow_list_parse(allow, t, err, errlen) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "template %s: %s", t->name, err);
	return CMC_OK;
}

/* The lowest id no template has, or 0. */
static unsigned free_id(const struct cmc_intent *in)
{
	for (unsigned id = 1; id <= CMC_TEMPLATE_ID_MAX; id++)
		if (!cmc_intent_template_by_id(in, id))
			return id;
	return 0;
}

/* template list | add NAME ... | set NAME ... | del NAME */
enum cmc_status cmc_cmd_template(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct cmc_intent *in = cmc_blades_intent(d->blades), *old;
	const char *op = req->argv[1], *name = req->argc > 2 ? req->argv[2] : "";
	struct cmc_template t = { 0 };
	char err[256] = "";
	enum cmc_status st;
	int rc;

	if (!in)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (strcmp(op, "list") == 0 && req->argc == 2)
		return list(req, in);
	if (req->argc < 3 || (strcmp(op, "add") != 0 && strcmp(op, "set") != 0 && strcmp(op, "del") != 0) ||
	    (op[0] == 'd' && req->argc != 3))
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (!cmc_template_name_ok(name))
		return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a template name (1-%d of a-z A-Z 0-9 - _)", name,
				      CMC_TEMPLATE_NAME_MAX);
	if (op[0] == 's') {
		if (!cmc_intent_template(in, name))
			return cmc_api_refuse(req, CMC_REFUSED, "no template '%s'", name);
		t = *cmc_intent_template(in, name);
	} else if (op[0] == 'a') {
		snprintf(t.name, sizeof(t.name), "%s", name);
		t.id = free_id(in);
	}
	if (op[0] != 'd' && (st = parse(req, &t, err, sizeof(err))) != CMC_OK)
		return st;
	if (cmc_blades_change_begin(d->blades, &old) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "out of memory");
	if (op[0] == 'a')
		rc = cmc_intent_template_add(in, &t, err, sizeof(err));
	else if (op[0] == 's')
		rc = cmc_intent_template_set(in, &t, err, sizeof(err));
	else
		rc = cmc_intent_template_del(in, name, err, sizeof(err));
	rc = cmc_blades_change_finish(d->blades, old, rc, "template", err, sizeof(err));
	/* Its VMs' access lists on their ports, before the answer (which waits for the blade
	 * worker): the VF settings went to the cards in the change itself. */
	if (!rc && op[0] == 's')
		(void)cmc_blades_acl_refresh(d->blades, name);
	st = cmc_blades_reply(d->blades, req, rc, err);
	if (st != CMC_OK)
		return st;
	if (op[0] == 'd')
		cmc_events_post(d->events, "template", -1, "%s deleted", name);
	else
		cmc_events_post(d->events, "template", -1, "%s %s: id %u vlan %u rate %u trusted %s, %u peers%s", name,
				op[0] == 'a' ? "added" : "set", t.id, t.vlan, t.rate, t.trusted ? "on" : "off", t.n_allow,
				t.n_allow ? "" : " (all allowed)");
	return CMC_OK;
}
