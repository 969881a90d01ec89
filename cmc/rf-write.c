/* SPDX-License-Identifier: MIT */
/*
 * Redfish writes (rf-priv.h): which privilege each needs (DSP0266 §13.2 and the
 * Privilege registry's mapping: components are changed with ConfigureComponents, the
 * service with ConfigureManager, accounts with ConfigureUsers), the Base registry's
 * messages that refuse them (DSP0266 §9.6.4), and the routing of POST actions and PATCH
 * to the resource files.
 */
#include "rf-tree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RF_BASE_ID "Base.1.22."

/* --- privileges ------------------------------------------------------------------------- */

bool rf_role_has(enum cmc_role role, enum rf_priv p)
{
	switch (role) {
	case CMC_ROLE_ADMINISTRATOR:
		return true;
	case CMC_ROLE_OPERATOR:
		return p == RF_PRIV_LOGIN || p == RF_PRIV_CONFIGURE_SELF || p == RF_PRIV_CONFIGURE_COMPONENTS;
	case CMC_ROLE_READONLY:
		return p == RF_PRIV_LOGIN || p == RF_PRIV_CONFIGURE_SELF;
	default:
		return false;
	}
}

const char *rf_priv_name(enum rf_priv p)
{
	static const char *const names[] = { "Login", "ConfigureComponents", "ConfigureManager",
					     "ConfigureUsers", "ConfigureSelf" };

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "ConfigureManager";
}

enum rf_priv rf_write_priv(const char *path, const char *action)
{
	static const struct { const char *prefix; enum rf_priv priv; } map[] = {
		{ RF_ROOT "/Chassis/", RF_PRIV_CONFIGURE_COMPONENTS },
		{ RF_ROOT "/Fabrics/", RF_PRIV_CONFIGURE_COMPONENTS },
		{ RF_ROOT "/Systems/", RF_PRIV_CONFIGURE_COMPONENTS },
		{ RF_ROOT "/AccountService", RF_PRIV_CONFIGURE_USERS },
	};

	(void)action;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(path, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].priv;
	/* The manager, its services and anything else: the service's own settings. */
	return RF_PRIV_CONFIGURE_MANAGER;
}

/* --- messages ---------------------------------------------------------------------------- */

static json_t *base_messages;	/* the Base registry's "Messages", parsed at first use */

void rf_messages_free(void)
{
	json_decref(base_messages);
	base_messages = NULL;
}

static const json_t *base_entry(const char *id)
{
	if (!base_messages) {
		for (size_t i = 0; i < rf_registry_count(); i++) {
			const char *rid, *prefix, *text;
			size_t len;
			rf_registry_at(i, &rid, &prefix, &text, &len);
			if (strcmp(prefix, "Base") != 0)
				continue;
			json_t *reg = json_loadb(text, len, 0, NULL);
			base_messages = json_incref(json_object_get(reg, "Messages"));
			json_decref(reg);
			break;
		}
	}
	return json_object_get(base_messages, id);
}

/* text with %1..%9 replaced by args[0..8]. */
static json_t *fill(const char *text, unsigned nargs, const char *const *args)
{
	char out[512];
	size_t o = 0;

	for (const char *t = text; *t && o + 1 < sizeof(out); t++) {
		unsigned k = t[0] == '%' && t[1] >= '1' && t[1] <= '9' ? (unsigned)(t[1] - '1') : 99;
		if (k < nargs) {
			int w = snprintf(out + o, sizeof(out) - o, "%s", args[k]);
			o = w < 0 ? o : o + (size_t)w >= sizeof(out) ? sizeof(out) - 1 : o + (size_t)w;
			t++;
		} else {
			out[o++] = *t;
		}
	}
	out[o] = '\0';
	return json_string(out);
}

json_t *rf_message(const char *id, const char *related, unsigned nargs, ...)
{
	const json_t *e = base_entry(id);
	const char *args[9], *sev = json_string_value(json_object_get(e, "MessageSeverity"));
	const char *text = json_string_value(json_object_get(e, "Message"));
	const char *res = json_string_value(json_object_get(e, "Resolution"));
	char full[64];
	json_t *m, *margs = json_array();
	va_list ap;

	va_start(ap, nargs);
	for (unsigned i = 0; i < nargs && i < 9; i++) {
		args[i] = va_arg(ap, const char *);
		json_array_append_new(margs, json_string(args[i]));
	}
	va_end(ap);
	nargs = nargs > 9 ? 9 : nargs;
	snprintf(full, sizeof(full), RF_BASE_ID "%s", id);
	m = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:o}", "@odata.type", "#Message.v1_3_0.Message",
		      "MessageId", full,
		      "Message", strcmp(id, "GeneralError") == 0 && nargs ? json_string(args[0])
		      : fill(text ? text : id, nargs, args),
		      "Severity", sev ? sev : "Warning", "MessageSeverity", sev ? sev : "Warning",
		      "Resolution", res ? res : "See the message.", "MessageArgs", margs);
	/* GeneralError's registry entry takes no arguments: the reason is its Message. */
	if (m && strcmp(id, "GeneralError") == 0)
		json_object_set_new(m, "MessageArgs", json_array());
	if (m && related)
		json_object_set_new(m, "RelatedProperties", json_pack("[s]", related));
	return m;
}

void rf_fail(struct rf_write *w, unsigned code, json_t *msg)
{
	if (!w->messages)
		w->messages = json_array();
	if (!w->code || w->code < 300)
		w->code = code;
	json_array_append_new(w->messages, msg);
}

void rf_refuse(struct rf_write *w, int rc, const char *err)
{
	unsigned code = rc == -EBUSY || rc == -EADDRINUSE ? 409 : rc == -ENODEV || rc == -ENOMEM ? 503 :
			rc == -EIO ? 500 : 400;

	rf_fail(w, code, rf_message("GeneralError", NULL, 1, err));
}

/* --- PATCH ----------------------------------------------------------------------------- */

static bool is_writable(const char *path, const char *const *writable, size_t n, bool *under)
{
	size_t len = strlen(path);

	*under = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(writable[i], path) == 0)
			return true;
		if (strncmp(writable[i], path, len) == 0 && writable[i][len] == '/')
			*under = true;
	}
	return false;
}

static void patch_walk(struct rf_write *w, json_t *body, json_t *current, const char *prefix,
		       const char *const *writable, size_t n)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v) {
		char path[256], rel[260];
		bool under;

		snprintf(path, sizeof(path), "%s/%s", prefix, key);
		snprintf(rel, sizeof(rel), "#%s", path);
		if (is_writable(path, writable, n, &under))
			continue;
		if (under && json_is_object(v))
			patch_walk(w, v, json_object_get(current, key), path, writable, n);
		else if (json_object_get(current, key))
			rf_fail(w, 400, rf_message("PropertyNotWritable", rel, 1, key));
		else
			rf_fail(w, 400, rf_message("PropertyUnknown", rel, 1, key));
	}
}

void rf_patch_check(struct rf_write *w, const char *const *writable, size_t n)
{
	patch_walk(w, w->body, w->current, "", writable, n);
}

/* --- routing ------------------------------------------------------------------------------ */

/* Chassis/<enclosure>/NetworkAdapters/slotN/{NetworkDeviceFunctions,Ports}/<id> */
static int chassis_patch(struct rf_write *w, const struct rf_path *p)
{
	unsigned slot;
	char tail;

	if (p->n != 6 || strcmp(p->seg[1], rf_enclosure(w->c)) != 0 || strcmp(p->seg[2], "NetworkAdapters") != 0 ||
	    sscanf(p->seg[3], "slot%u%c", &slot, &tail) != 1)
		return -EOPNOTSUPP;
	if (strcmp(p->seg[4], "NetworkDeviceFunctions") == 0)
		return rf_ndf_patch(w, slot, p->seg[5]);
	if (strcmp(p->seg[4], "Ports") == 0)
		return rf_port_patch(w, slot, p->seg[5]);
	return -EOPNOTSUPP;
}

int rf_tree_patch(struct rf_write *w)
{
	char buf[512];
	struct rf_path p;

	if (strncmp(w->path, RF_ROOT "/", sizeof(RF_ROOT)) != 0 ||
	    rf_path_split(w->path + sizeof(RF_ROOT), buf, sizeof(buf), &p) < 0 || p.n == 0)
		return -ENOENT;
	if (strcmp(p.seg[0], "Chassis") == 0)
		return chassis_patch(w, &p);
	return -EOPNOTSUPP;
}

int rf_tree_post(struct rf_write *w)
{
	char buf[512];
	struct rf_path p;

	if (!w->action || strncmp(w->path, RF_ROOT "/", sizeof(RF_ROOT)) != 0 ||
	    rf_path_split(w->path + sizeof(RF_ROOT), buf, sizeof(buf), &p) < 0)
		return -ENOENT;
	if (p.n == 4 && strcmp(p.seg[0], "Fabrics") == 0 && strcmp(p.seg[1], "PCIe") == 0 &&
	    strcmp(p.seg[2], "Zones") == 0)
		return rf_zone_action(w, p.seg[3]);
	if (p.n == 2 && strcmp(p.seg[0], "Systems") == 0)
		return rf_vm_migrate(w, p.seg[1]);
	return -ENOENT;
}
