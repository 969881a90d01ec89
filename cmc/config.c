/* SPDX-License-Identifier: MIT */
/*
 * Loading cmcd's configuration with libconfig. libconfig parses; everything it does not
 * know (types we expect, ranges, unknown names, cross references) is checked here, one
 * function per section. Each check that fails writes one message naming the file, the
 * line, the setting path in libconfig's own lookup syntax ("slots.[0].ports.[1].pf"),
 * and what was expected, then returns -EINVAL; the first error stops the load, because
 * later messages after a structural mistake tend to be noise.
 */
#include "config.h"
#include "macs.h"

#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct loader {
	const char *path;
	char *err;
	size_t errlen;
	struct cmc_config *cfg;
};

static const char *const policy_names[] = { [CMC_SLOT_SHARED] = "shared",
					     [CMC_SLOT_DEDICATED] = "dedicated" };
static const char *const driver_names[] = { [CMC_DRIVER_KERNEL] = "kernel",
					     [CMC_DRIVER_IGB_VFIO] = "igb-vfio" };
static const char *const role_names[] = { [CMC_PORT_UPLINK] = "uplink",
					   [CMC_PORT_MIDPLANE] = "midplane" };

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* --- Error messages ---------------------------------------------------------------- */

/* The lookup path of s, as config_lookup() spells it: "slots.[0].ports.[1].pf". */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	char here[48];

	if (!parent) {
		buf[0] = '\0';
		return;
	}
	setting_path(parent, buf, len);
	if (config_setting_name(s))
		snprintf(here, sizeof(here), "%s", config_setting_name(s));
	else
		snprintf(here, sizeof(here), "[%d]", config_setting_index(s));
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", used ? "." : "", here);
}

/*
 * "file:line: path[.child]: message". `where` is the setting at fault, or the group in
 * which `child` is missing; the root has no line, so a missing top-level section is
 * reported against the file alone.
 */
static __attribute__((format(printf, 4, 5))) int fail(struct loader *ld,
						      const config_setting_t *where,
						      const char *child, const char *fmt, ...)
{
	char path[256], msg[256], loc[64] = "";
	const char *file = config_setting_source_file(where);
	va_list ap;

	setting_path(where, path, sizeof(path));
	if (child) {
		size_t used = strlen(path);
		snprintf(path + used, sizeof(path) - used, "%s%s", used ? "." : "", child);
	}
	if (config_setting_source_line(where))
		snprintf(loc, sizeof(loc), ":%u", config_setting_source_line(where));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->errlen)
		snprintf(ld->err, ld->errlen, "%s%s: %s: %s", file ? file : ld->path, loc, path, msg);
	return -EINVAL;
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ]";
	case CONFIG_TYPE_LIST: return "a list ( )";
	default: return "nothing";
	}
}

/* "\"a\", \"b\" or \"c\"" for the choices of an enumerated setting. */
static void choice_list(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(buf + used, len - used, "%s\"%s\"", sep, names[i]);
		used += w > 0 ? (size_t)w : 0;
	}
}

/* --- Typed getters: 0 = read, 1 = absent and optional, -EINVAL = reported --------- */

/* Every child of `group` must be one of `known` (NULL-terminated). */
static int check_known(struct loader *ld, const config_setting_t *group, const char *const *known)
{
	char expected[160] = "";

	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *child = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(child);
		size_t k;

		for (k = 0; known[k] && strcmp(known[k], name) != 0; k++)
			;
		if (known[k])
			continue;
		for (k = 0; known[k]; k++) {
			size_t used = strlen(expected);
			snprintf(expected + used, sizeof(expected) - used, "%s%s", k ? ", " : "",
				 known[k]);
		}
		return fail(ld, child, NULL, "unknown setting (expected one of: %s)", expected);
	}
	return 0;
}

static int get_member(struct loader *ld, const config_setting_t *group, const char *name,
		      int type, const char *what, bool required, const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	int t;

	*out = s;
	if (!s)
		return required ? fail(ld, group, name, "missing (expected %s)", what) : 1;
	t = config_setting_type(s);
	if (t == type || (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64))
		return 0;
	return fail(ld, s, NULL, "expected %s, not %s", what, type_name(s));
}

static int get_uint(struct loader *ld, const config_setting_t *group, const char *name,
		    unsigned min, unsigned max, bool required, unsigned *out)
{
	const config_setting_t *s;
	char what[48];
	long long v;
	int rc;

	snprintf(what, sizeof(what), "an integer %u..%u", min, max);
	rc = get_member(ld, group, name, CONFIG_TYPE_INT, what, required, &s);
	if (rc)
		return rc;
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(ld, s, NULL, "%lld is out of range %u..%u", v, min, max);
	*out = (unsigned)v;
	return 0;
}

static int get_string(struct loader *ld, const config_setting_t *group, const char *name,
		      const char *what, bool required, const config_setting_t **s, const char **out)
{
	int rc = get_member(ld, group, name, CONFIG_TYPE_STRING, what, required, s);

	if (rc == 0)
		*out = config_setting_get_string(*s);
	return rc;
}

/* A boolean setting (true/false); *out keeps its default when absent. */
static int get_bool(struct loader *ld, const config_setting_t *group, const char *name,
		    const config_setting_t **s, bool *out)
{
	int rc = get_member(ld, group, name, CONFIG_TYPE_BOOL, "true or false", false, s);

	if (rc == 0)
		*out = config_setting_get_bool(*s) != 0;
	return rc < 0 ? rc : 0;
}

/* An enumerated string setting: *out is the index of the choice, or keeps its default. */
static int get_choice(struct loader *ld, const config_setting_t *group, const char *name,
		      const char *const *names, size_t n, bool required, int *out)
{
	const config_setting_t *s;
	const char *v;
	char choices[96];
	int rc;

	choice_list(names, n, choices, sizeof(choices));
	rc = get_string(ld, group, name, choices, required, &s, &v);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return fail(ld, s, NULL, "must be %s, not \"%s\"", choices, v);
}

/* 1..max characters of [a-z0-9_-], plus [A-Z.] unless lower_only (blade names). */
static bool name_ok(const char *v, size_t max, bool lower_only)
{
	size_t n = strlen(v);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			  (!lower_only && ((c >= 'A' && c <= 'Z') || c == '.'));
		if (!ok)
			return false;
	}
	return true;
}

/* --- Sections ------------------------------------------------------------------------ */

static int get_group(struct loader *ld, const config_setting_t *parent, const char *name,
		     bool required, const char *const *known, const config_setting_t **out)
{
	int rc = get_member(ld, parent, name, CONFIG_TYPE_GROUP, "a group { ... }", required, out);

	if (rc)
		return rc;
	return check_known(ld, *out, known);
}

static int parse_chassis(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = { "name", "id", "failover_grace", NULL };
	const config_setting_t *chassis, *s;
	const char *name;
	unsigned id = 0;
	int rc;

	rc = get_group(ld, root, "chassis", true, known, &chassis);
	if (rc)
		return rc;
	rc = get_string(ld, chassis, "name", "a name of 1..32 characters [A-Za-z0-9_.-]", true, &s,
			&name);
	if (rc)
		return rc;
	if (!name_ok(name, CMC_CONFIG_NAME_MAX, false))
		return fail(ld, s, NULL, "\"%s\" must be 1..%d characters of A-Z a-z 0-9 _ . -",
			    name, CMC_CONFIG_NAME_MAX);
	snprintf(ld->cfg->chassis_name, sizeof(ld->cfg->chassis_name), "%s", name);
	/* The identity of the VFs' default MACs (macs.h); absent: drawn at the first start. */
	rc = get_uint(ld, chassis, "id", 1, CMC_CHASSIS_ID_MAX, false, &id);
	if (rc < 0)
		return rc;
	ld->cfg->chassis_id = id;
	/* Seconds a blade may be down before it is failed (health.h); 1..3600, default 30. */
	ld->cfg->failover_grace = 30;
	rc = get_uint(ld, chassis, "failover_grace", 1, 3600, false, &ld->cfg->failover_grace);
	return rc < 0 ? rc : 0;
}

static int get_abs_path(struct loader *ld, const config_setting_t *group, const char *name,
			char *dst, size_t dstlen)
{
	const config_setting_t *s;
	const char *v;
	int rc = get_string(ld, group, name, "an absolute path", false, &s, &v);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (v[0] != '/')
		return fail(ld, s, NULL, "\"%s\" must be an absolute path", v);
	/* Quotes and control characters would not survive cmc_config_format() or a log line. */
	for (const char *c = v; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
			return fail(ld, s, NULL, "the path contains a quote, backslash or control"
				    " character");
	if (strlen(v) >= dstlen)
		return fail(ld, s, NULL, "path is longer than %zu characters", dstlen - 1);
	snprintf(dst, dstlen, "%s", v);
	return 0;
}

/* What cmcd sets on every hypervisor's command line (vms.c spawn_qemu) or relies on not
 * being there (-daemonize: cmcd follows the QEMU it started). -accel too: QEMU takes a
 * second one as a fallback it never reaches, a setting that would do nothing. */
static const char *const hv_own_options[] = { "-name", "-m", "-kernel", "-qmp", "-pidfile", "-incoming",
					      "-S", "-daemonize", "-nodefaults", "-display", "-accel", NULL };

/* One extra argument: printable, no quote or backslash (cmc_config_format writes it back),
 * and none of cmcd's own options. */
static int parse_hv_arg(struct loader *ld, const config_setting_t *s, char *dst, size_t dstlen)
{
	const char *v = config_setting_get_string(s);

	if (!v)
		return fail(ld, s, NULL, "expected a string, not %s", type_name(s));
	if (!*v || strlen(v) >= dstlen)
		return fail(ld, s, NULL, "an argument is 1..%zu characters", dstlen - 1);
	for (const char *c = v; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
			return fail(ld, s, NULL, "the argument contains a quote, backslash or control character");
	for (size_t i = 0; hv_own_options[i]; i++)
		if (strcmp(v, hv_own_options[i]) == 0 ||
		    (v[0] == '-' && v[1] == '-' && strcmp(v + 1, hv_own_options[i]) == 0))
			return fail(ld, s, NULL, "\"%s\" is set by cmcd itself (-name, -m, -kernel, -qmp, -pidfile,"
				    " -incoming, -S, -daemonize, -nodefaults, -display, -accel)", v);
	snprintf(dst, dstlen, "%s", v);
	return 0;
}

/* hypervisor = { binary = "/abs/path"; args = ( "-device", "..." ); } (both optional) */
static int parse_hypervisor(struct loader *ld, const config_setting_t *blade,
			    struct cmc_config_hypervisor *hv)
{
	static const char *const known[] = { "binary", "args", NULL };
	const config_setting_t *group, *list;
	int rc;

	rc = get_group(ld, blade, "hypervisor", false, known, &group);
	if (rc)
		return rc > 0 ? 0 : rc;
	rc = get_abs_path(ld, group, "binary", hv->binary, sizeof(hv->binary));
	if (rc)
		return rc;
	rc = get_member(ld, group, "args", CONFIG_TYPE_LIST, "a list ( \"-device\", \"...\", ... ) of strings",
			false, &list);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (config_setting_length(list) > CMC_CONFIG_HV_ARGS_MAX)
		return fail(ld, list, NULL, "%d arguments, at most %d", config_setting_length(list),
			    CMC_CONFIG_HV_ARGS_MAX);
	for (int i = 0; i < config_setting_length(list); i++) {
		rc = parse_hv_arg(ld, config_setting_get_elem(list, (unsigned)i), hv->args[i],
				  sizeof(hv->args[i]));
		if (rc)
			return rc;
		hv->argc = (unsigned)i + 1;
	}
	return 0;
}

static int parse_daemon(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = { "socket", "group", "store", "vm_port_idle", NULL };
	struct cmc_config *cfg = ld->cfg;
	const config_setting_t *daemon, *s;
	const char *group;
	int rc;

	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", CMC_CONFIG_DEFAULT_SOCKET);
	snprintf(cfg->socket_group, sizeof(cfg->socket_group), "%s", CMC_CONFIG_DEFAULT_GROUP);
	snprintf(cfg->store_path, sizeof(cfg->store_path), "%s", CMC_CONFIG_DEFAULT_STORE);
	rc = get_group(ld, root, "daemon", false, known, &daemon);
	if (rc)
		return rc > 0 ? 0 : rc;
	rc = get_abs_path(ld, daemon, "socket", cfg->socket_path, sizeof(cfg->socket_path));
	if (rc)
		return rc;
	rc = get_abs_path(ld, daemon, "store", cfg->store_path, sizeof(cfg->store_path));
	if (rc)
		return rc;
	rc = get_uint(ld, daemon, "vm_port_idle", 0, 86400, false, &cfg->vm_port_idle_s);
	if (rc < 0)
		return rc;
	rc = get_string(ld, daemon, "group", "a group name or \"\"", false, &s, &group);
	if (rc)
		return rc > 0 ? 0 : rc;
	/* "" is allowed: leave the socket's group to the daemon's own. */
	if (*group && !name_ok(group, CMC_CONFIG_NAME_MAX, false))
		return fail(ld, s, NULL, "\"%s\" must be \"\" or a group name of 1..%d characters"
			    " of A-Z a-z 0-9 _ . -", group, CMC_CONFIG_NAME_MAX);
	snprintf(cfg->socket_group, sizeof(cfg->socket_group), "%s", group);
	return 0;
}

/* The socket's directory holds cmcd's other run-time files too. */
static void set_run_dir(struct cmc_config *cfg)
{
	const char *slash = strrchr(cfg->socket_path, '/');
	int len = slash && slash != cfg->socket_path ? (int)(slash - cfg->socket_path) : 1;

	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "%.*s", len, cfg->socket_path);
}

/* spare = "NAME": the blade its server profile fails over to (checked once all are read). */
static int parse_spare(struct loader *ld, const config_setting_t *s, struct cmc_config_blade *b)
{
	const config_setting_t *sp;
	const char *name = NULL;
	int rc = get_string(ld, s, "spare", "the name of a configured blade", false, &sp, &name);

	if (rc < 0)
		return rc;
	if (!name)
		return 0;
	if (!name_ok(name, CMC_CONFIG_NAME_MAX, true) || strcmp(name, b->name) == 0)
		return fail(ld, sp, NULL, "\"%s\" cannot be the spare of %s", name, b->name);
	snprintf(b->spare, sizeof(b->spare), "%s", name);
	return 0;
}

static int check_spares(struct loader *ld, const config_setting_t *list)
{
	for (unsigned i = 0; i < ld->cfg->blade_count; i++) {
		const struct cmc_config_blade *b = &ld->cfg->blades[i];

		if (b->spare[0] && !cmc_config_blade_by_name(ld->cfg, b->spare))
			return fail(ld, config_setting_get_member(config_setting_get_elem(list, i), "spare"), NULL,
				    "\"%s\" is not a configured blade", b->spare);
	}
	return 0;
}

static int parse_blade(struct loader *ld, const config_setting_t *s, struct cmc_config_blade *b)
{
	static const char *const known[] = { "name", "id", "hypervisor", "spare", NULL };
	const config_setting_t *name_s;
	const char *name;
	int rc;

	if (!config_setting_is_group(s))
		return fail(ld, s, NULL, "expected a group { name = ...; id = ...; }, not %s",
			    type_name(s));
	rc = check_known(ld, s, known);
	if (rc)
		return rc;
	rc = get_string(ld, s, "name", "a name of 1..32 characters [a-z0-9_-]", true, &name_s,
			&name);
	if (rc)
		return rc;
	if (!name_ok(name, CMC_CONFIG_NAME_MAX, true))
		return fail(ld, name_s, NULL, "\"%s\" must be 1..%d characters of a-z 0-9 _ -",
			    name, CMC_CONFIG_NAME_MAX);
	for (const struct cmc_config_blade *o = ld->cfg->blades; o < b; o++)
		if (strcmp(o->name, name) == 0)
			return fail(ld, name_s, NULL, "\"%s\" is already the name of the blade"
				    " at line %u", name, o->line);
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->line = config_setting_source_line(s);
	rc = get_uint(ld, s, "id", 1, CMC_CONFIG_BLADE_ID_MAX, true, &b->id);
	if (rc)
		return rc;
	for (const struct cmc_config_blade *o = ld->cfg->blades; o < b; o++)
		if (o->id == b->id)
			return fail(ld, config_setting_get_member(s, "id"), NULL,
				    "%u is already the id of blade \"%s\" (line %u)", b->id, o->name,
				    o->line);
	rc = parse_spare(ld, s, b);
	if (rc)
		return rc;
	return parse_hypervisor(ld, s, &b->hv);
}

static int get_list(struct loader *ld, const config_setting_t *parent, const char *name,
		    bool required, const char *what, const config_setting_t **out)
{
	return get_member(ld, parent, name, CONFIG_TYPE_LIST, what, required, out);
}

static int parse_blades(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *list;
	int rc = get_list(ld, root, "blades", true, "a list ( { name = ...; id = ...; }, ... )",
			  &list);

	if (rc)
		return rc;
	if (config_setting_length(list) == 0)
		return fail(ld, list, NULL, "at least one blade is required");
	/* Ids are unique in 1..64, so more than 64 entries cannot all be valid. */
	if (config_setting_length(list) > CMC_CONFIG_BLADES_MAX)
		return fail(ld, list, NULL, "%d blades, at most %d", config_setting_length(list),
			    CMC_CONFIG_BLADES_MAX);
	for (int i = 0; i < config_setting_length(list); i++) {
		rc = parse_blade(ld, config_setting_get_elem(list, (unsigned)i),
				 &ld->cfg->blades[i]);
		if (rc)
			return rc;
		ld->cfg->blade_count = (unsigned)i + 1;
	}
	return check_spares(ld, list);
}

static int parse_port(struct loader *ld, const config_setting_t *s, struct cmc_config_slot *slot)
{
	static const char *const known[] = { "pf", "role", NULL };
	struct cmc_config_port *p = &slot->ports[slot->port_count];
	int role = CMC_PORT_UPLINK;
	int rc;

	if (!config_setting_is_group(s))
		return fail(ld, s, NULL, "expected a group { pf = ...; role = ...; }, not %s",
			    type_name(s));
	rc = check_known(ld, s, known);
	if (rc)
		return rc;
	rc = get_uint(ld, s, "pf", 0, CMC_CONFIG_PORTS_MAX - 1, true, &p->pf);
	if (rc)
		return rc;
	for (unsigned i = 0; i < slot->port_count; i++)
		if (slot->ports[i].pf == p->pf)
			return fail(ld, config_setting_get_member(s, "pf"), NULL,
				    "pf %u is already configured in this slot (ports.[%u])", p->pf, i);
	rc = get_choice(ld, s, "role", role_names, ARRAY_LEN(role_names), false, &role);
	if (rc < 0)
		return rc;
	p->role = (enum cmc_port_role)role;
	slot->port_count++;
	return 0;
}

static int parse_ports(struct loader *ld, const config_setting_t *s, struct cmc_config_slot *slot)
{
	const config_setting_t *list;
	int rc = get_list(ld, s, "ports", false, "a list ( { pf = ...; role = ...; }, ... )", &list);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (config_setting_length(list) > CMC_CONFIG_PORTS_MAX)
		return fail(ld, list, NULL, "%d ports, a card has at most %d PFs",
			    config_setting_length(list), CMC_CONFIG_PORTS_MAX);
	for (int i = 0; i < config_setting_length(list); i++) {
		rc = parse_port(ld, config_setting_get_elem(list, (unsigned)i), slot);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * shared: its VFs are handed out (cmcctl assign); a blade is refused. dedicated: every
 * VF of the card is the named blade's (the intent assigns them; nobody else may have
 * one). Both: vfs, 0..7 per PF, default 0.
 */
static int parse_slot_policy(struct loader *ld, const config_setting_t *s,
			     struct cmc_config_slot *slot)
{
	const config_setting_t *blade_s;
	const char *blade;
	int policy = CMC_SLOT_SHARED;
	int rc;

	rc = get_choice(ld, s, "policy", policy_names, ARRAY_LEN(policy_names), true, &policy);
	if (rc)
		return rc;
	slot->policy = (enum cmc_slot_policy)policy;
	rc = get_uint(ld, s, "vfs", 0, CMC_CONFIG_VFS_MAX, false, &slot->vfs);
	if (rc < 0)
		return rc;
	if (slot->policy == CMC_SLOT_SHARED) {
		if (config_setting_get_member(s, "blade"))
			return fail(ld, config_setting_get_member(s, "blade"), NULL,
				    "only a dedicated slot has an owning blade (this one is shared)");
		return 0;
	}
	rc = get_member(ld, s, "blade", CONFIG_TYPE_STRING,
			"the name of the blade a dedicated slot belongs to", true, &blade_s);
	if (rc)
		return rc;
	blade = config_setting_get_string(blade_s);
	slot->blade = cmc_config_blade_by_name(ld->cfg, blade);
	if (!slot->blade)
		return fail(ld, blade_s, NULL, "\"%s\" is not a configured blade", blade);
	return 0;
}

static int parse_slot(struct loader *ld, const config_setting_t *s, struct cmc_config_slot *slot)
{
	static const char *const known[] = { "slot", "policy", "vfs", "driver", "blade", "ports",
					     "keep_vfs", NULL };
	const config_setting_t *keep_s = NULL;
	int driver = CMC_DRIVER_KERNEL;
	int rc;

	if (!config_setting_is_group(s))
		return fail(ld, s, NULL, "expected a group { slot = ...; policy = ...; }, not %s",
			    type_name(s));
	rc = check_known(ld, s, known);
	if (rc)
		return rc;
	slot->line = config_setting_source_line(s);
	rc = get_uint(ld, s, "slot", 0, CMC_CONFIG_SLOT_MAX, true, &slot->number);
	if (rc)
		return rc;
	for (const struct cmc_config_slot *o = ld->cfg->slots; o < slot; o++)
		if (o->number == slot->number)
			return fail(ld, config_setting_get_member(s, "slot"), NULL,
				    "slot %u is already configured at line %u", slot->number, o->line);
	rc = parse_slot_policy(ld, s, slot);
	if (rc)
		return rc;
	rc = get_choice(ld, s, "driver", driver_names, ARRAY_LEN(driver_names), false, &driver);
	if (rc < 0)
		return rc;
	slot->driver = (enum cmc_slot_driver)driver;
	rc = get_bool(ld, s, "keep_vfs", &keep_s, &slot->keep_vfs);
	if (rc)
		return rc;
	/* Closing a VFIO device resets the PF, and its VFs with it: nothing to keep. */
	if (slot->keep_vfs && slot->driver == CMC_DRIVER_IGB_VFIO)
		return fail(ld, keep_s, NULL,
			    "igb-vfio cannot keep VFs when cmcd stops (closing VFIO resets the PF)");
	return parse_ports(ld, s, slot);
}

static int parse_slots(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *list;
	int rc = get_list(ld, root, "slots", false, "a list ( { slot = ...; policy = ...; }, ... )",
			  &list);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (config_setting_length(list) > CMC_CONFIG_SLOTS_MAX)
		return fail(ld, list, NULL, "%d slots, at most %d", config_setting_length(list),
			    CMC_CONFIG_SLOTS_MAX);
	for (int i = 0; i < config_setting_length(list); i++) {
		rc = parse_slot(ld, config_setting_get_elem(list, (unsigned)i), &ld->cfg->slots[i]);
		if (rc)
			return rc;
		ld->cfg->slot_count = (unsigned)i + 1;
	}
	return 0;
}

/* address: a numeric IPv4 or IPv6 address (no name lookups in a daemon's start). */
static int parse_redfish_address(struct loader *ld, const config_setting_t *group,
				 struct cmc_config_redfish *rf)
{
	const config_setting_t *s;
	const char *v;
	unsigned char buf[sizeof(struct in6_addr)];
	int rc = get_string(ld, group, "address", "a numeric IPv4 or IPv6 address", false, &s, &v);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (strlen(v) >= sizeof(rf->address) ||
	    (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1))
		return fail(ld, s, NULL, "\"%s\" is not a numeric IPv4 or IPv6 address", v);
	snprintf(rf->address, sizeof(rf->address), "%s", v);
	return 0;
}

static int parse_redfish(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = { "enable", "address", "port", "certificate", "key",
					     "http_port", "session_timeout", "event_keepalive",
					     "event_retry_attempts", "event_retry_interval", NULL };
	struct cmc_config_redfish *rf = &ld->cfg->redfish;
	const config_setting_t *group, *s;
	int rc;

	*rf = (struct cmc_config_redfish){ .port = CMC_CONFIG_REDFISH_PORT,
					   .session_timeout = CMC_CONFIG_SESSION_TIMEOUT,
					   .event_keepalive = CMC_CONFIG_EVENT_KEEPALIVE,
					   .event_retry_attempts = CMC_CONFIG_EVENT_RETRY_ATTEMPTS,
					   .event_retry_interval = CMC_CONFIG_EVENT_RETRY_INTERVAL };
	snprintf(rf->address, sizeof(rf->address), "0.0.0.0");
	rc = get_group(ld, root, "redfish", false, known, &group);
	if (rc)
		return rc > 0 ? 0 : rc;
	rf->enabled = true;
	if ((rc = get_bool(ld, group, "enable", &s, &rf->enabled)) ||
	    (rc = parse_redfish_address(ld, group, rf)) ||
	    (rc = get_uint(ld, group, "port", 1, 65535, false, &rf->port)) < 0 ||
	    (rc = get_uint(ld, group, "http_port", 1, 65535, false, &rf->http_port)) < 0 ||
	    (rc = get_uint(ld, group, "session_timeout", 30, 86400, false, &rf->session_timeout)) < 0 ||
	    (rc = get_uint(ld, group, "event_keepalive", 1, 300, false, &rf->event_keepalive)) < 0 ||
	    (rc = get_uint(ld, group, "event_retry_attempts", 0, 10, false, &rf->event_retry_attempts)) < 0 ||
	    (rc = get_uint(ld, group, "event_retry_interval", 1, 3600, false, &rf->event_retry_interval)) < 0 ||
	    (rc = get_abs_path(ld, group, "certificate", rf->certificate, sizeof(rf->certificate))) ||
	    (rc = get_abs_path(ld, group, "key", rf->key, sizeof(rf->key))))
		return rc;
	if (!*rf->certificate != !*rf->key)
		return fail(ld, group, NULL, "certificate and key go together (neither: a self-signed pair)");
	if (rf->http_port && rf->http_port == rf->port)
		return fail(ld, group, "http_port", "%u is the HTTPS port too", rf->port);
	return 0;
}

/* --- Network templates ------------------------------------------------------------- */

/* allow = ( "10.9.0.0/24", "02:cc:00:00:00:01" ): each entry checked where it is. */
static int parse_allow(struct loader *ld, const config_setting_t *s, struct cmc_template *t)
{
	const config_setting_t *list;
	char why[160];
	int rc = get_list(ld, s, "allow", false, "a list ( \"10.9.0.0/24\", \"02:cc:00:00:00:01\", ... ) of strings",
			  &list);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (config_setting_length(list) > CMC_TEMPLATE_ALLOW_MAX)
		return fail(ld, list, NULL, "%d peers, at most %d", config_setting_length(list), CMC_TEMPLATE_ALLOW_MAX);
	for (int i = 0; i < config_setting_length(list); i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (!v)
			return fail(ld, e, NULL, "expected a string (a MAC or an IPv4 prefix), not %s", type_name(e));
		if (cmc_allow_parse(v, &t->allow[t->n_allow], why, sizeof(why)) < 0)
			return fail(ld, e, NULL, "%s", why);
		for (unsigned k = 0; k < t->n_allow; k++) {
			char a[CMC_ALLOW_STRLEN], z[CMC_ALLOW_STRLEN];

			if (strcmp(cmc_allow_str(&t->allow[k], a), cmc_allow_str(&t->allow[t->n_allow], z)) == 0)
				return fail(ld, e, NULL, "\"%s\" is in the list twice (allow.[%u])", v, k);
		}
		t->n_allow++;
	}
	return 0;
}

static int parse_template(struct loader *ld, const config_setting_t *s, struct cmc_config_template *ct)
{
	static const char *const known[] = { "name", "id", "vlan", "rate", "trusted", "allow", NULL };
	struct cmc_template *t = &ct->t;
	const config_setting_t *name_s, *b;
	const char *name;
	unsigned vlan = 0;
	int rc;

	if (!config_setting_is_group(s))
		return fail(ld, s, NULL, "expected a group { name = ...; vlan = ...; }, not %s", type_name(s));
	if ((rc = check_known(ld, s, known)) ||
	    (rc = get_string(ld, s, "name", "a name of 1..16 characters [A-Za-z0-9_-]", true, &name_s, &name)))
		return rc;
	if (!cmc_template_name_ok(name))
		return fail(ld, name_s, NULL, "\"%s\" must be 1..%d characters of A-Z a-z 0-9 _ -", name,
			    CMC_TEMPLATE_NAME_MAX);
	for (const struct cmc_config_template *o = ld->cfg->templates; o < ct; o++)
		if (strcmp(o->t.name, name) == 0)
			return fail(ld, name_s, NULL, "\"%s\" is already the name of the template at line %u", name,
				    o->line);
	snprintf(t->name, sizeof(t->name), "%s", name);
	ct->line = config_setting_source_line(s);
	if ((rc = get_uint(ld, s, "id", 1, CMC_TEMPLATE_ID_MAX, false, &t->id)) < 0 ||
	    (rc = get_uint(ld, s, "vlan", 1, CMC_TEMPLATE_VLAN_MAX, false, &vlan)) < 0 ||
	    (rc = get_uint(ld, s, "rate", 0, CMC_TEMPLATE_RATE_MAX, false, &t->rate)) < 0 ||
	    (rc = get_bool(ld, s, "trusted", &b, &t->trusted)))
		return rc;
	t->vlan = (uint16_t)vlan;
	for (const struct cmc_config_template *o = ld->cfg->templates; t->id && o < ct; o++)
		if (o->t.id == t->id)
			return fail(ld, config_setting_get_member(s, "id"), NULL,
				    "%u is already the id of template \"%s\" (line %u)", t->id, o->t.name, o->line);
	return parse_allow(ld, s, t);
}

/* Templates without an id get the lowest one the file leaves free, in order. */
static void template_ids(struct cmc_config *cfg)
{
	for (unsigned i = 0; i < cfg->template_count; i++) {
		for (unsigned id = 1; !cfg->templates[i].t.id && id <= CMC_TEMPLATE_ID_MAX; id++) {
			bool used = false;

			for (unsigned k = 0; k < cfg->template_count; k++)
				used |= cfg->templates[k].t.id == id;
			if (!used)
				cfg->templates[i].t.id = id;
		}
	}
}

static int parse_templates(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *list;
	int rc = get_list(ld, root, "templates", false, "a list ( { name = ...; vlan = ...; }, ... )", &list);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (config_setting_length(list) > CMC_CONFIG_TEMPLATES_MAX)
		return fail(ld, list, NULL, "%d templates, at most %d", config_setting_length(list),
			    CMC_CONFIG_TEMPLATES_MAX);
	for (int i = 0; i < config_setting_length(list); i++) {
		rc = parse_template(ld, config_setting_get_elem(list, (unsigned)i), &ld->cfg->templates[i]);
		if (rc)
			return rc;
		ld->cfg->template_count = (unsigned)i + 1;
	}
	template_ids(ld->cfg);
	return 0;
}

static int parse_root(struct loader *ld, const config_setting_t *root)
{
	static const char *const known[] = { "chassis", "daemon", "blades", "slots", "redfish", "templates", NULL };
	int rc;

	rc = check_known(ld, root, known);
	if (rc)
		return rc;
	rc = parse_chassis(ld, root);
	if (rc)
		return rc;
	rc = parse_daemon(ld, root);
	if (rc)
		return rc;
	set_run_dir(ld->cfg);
	/* Blades before slots: a dedicated slot refers to a blade by name. */
	rc = parse_blades(ld, root);
	if (rc)
		return rc;
	rc = parse_redfish(ld, root);
	if (rc)
		return rc;
	rc = parse_templates(ld, root);
	if (rc)
		return rc;
	return parse_slots(ld, root);
}

/* --- Public ------------------------------------------------------------------------ */

/* libconfig reports a missing file only as "file I/O error": open it first for errno. */
static int read_file(struct loader *ld, config_t *lc)
{
	FILE *f = fopen(ld->path, "r");

	if (!f) {
		int err = errno;
		if (ld->errlen)
			snprintf(ld->err, ld->errlen, "%s: cannot open: %s", ld->path, strerror(err));
		return -err;
	}
	fclose(f);
	if (config_read_file(lc, ld->path) == CONFIG_TRUE)
		return 0;
	if (config_error_type(lc) == CONFIG_ERR_FILE_IO) {
		if (ld->errlen)
			snprintf(ld->err, ld->errlen, "%s: cannot read", ld->path);
		return -EIO;
	}
	if (ld->errlen)
		snprintf(ld->err, ld->errlen, "%s:%d: %s", config_error_file(lc) ?
			 config_error_file(lc) : ld->path, config_error_line(lc), config_error_text(lc));
	return -EINVAL;
}

int cmc_config_load(const char *path, struct cmc_config **out, char *err, size_t errlen)
{
	struct loader ld = { .path = path, .err = err, .errlen = errlen };
	config_t lc;
	int rc;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	ld.cfg = calloc(1, sizeof(*ld.cfg));
	if (!ld.cfg) {
		if (errlen)
			snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (strlen(path) >= sizeof(ld.cfg->path)) {
		rc = -ENAMETOOLONG;
		if (errlen)
			snprintf(err, errlen, "%.64s...: path too long", path);
		goto free_cfg;
	}
	snprintf(ld.cfg->path, sizeof(ld.cfg->path), "%s", path);
	config_init(&lc);
	rc = read_file(&ld, &lc);
	if (rc)
		goto destroy_lc;
	rc = parse_root(&ld, config_root_setting(&lc));
	if (rc)
		goto destroy_lc;
	config_destroy(&lc);
	*out = ld.cfg;
	return 0;

destroy_lc:
	config_destroy(&lc);
free_cfg:
	free(ld.cfg);
	return rc;
}

void cmc_config_free(struct cmc_config *cfg)
{
	free(cfg);
}

const struct cmc_config_blade *cmc_config_blade_by_name(const struct cmc_config *cfg,
							const char *name)
{
	for (unsigned i = 0; i < cfg->blade_count; i++)
		if (strcmp(cfg->blades[i].name, name) == 0)
			return &cfg->blades[i];
	return NULL;
}

const struct cmc_config_blade *cmc_config_blade_by_id(const struct cmc_config *cfg, unsigned id)
{
	for (unsigned i = 0; i < cfg->blade_count; i++)
		if (cfg->blades[i].id == id)
			return &cfg->blades[i];
	return NULL;
}

const struct cmc_config_slot *cmc_config_slot_by_number(const struct cmc_config *cfg,
							unsigned number)
{
	for (unsigned i = 0; i < cfg->slot_count; i++)
		if (cfg->slots[i].number == number)
			return &cfg->slots[i];
	return NULL;
}

const char *cmc_slot_policy_name(enum cmc_slot_policy policy)
{
	return (size_t)policy < ARRAY_LEN(policy_names) ? policy_names[policy] : "?";
}

const char *cmc_slot_driver_name(enum cmc_slot_driver driver)
{
	return (size_t)driver < ARRAY_LEN(driver_names) ? driver_names[driver] : "?";
}

const char *cmc_port_role_name(enum cmc_port_role role)
{
	return (size_t)role < ARRAY_LEN(role_names) ? role_names[role] : "?";
}

/* --- Formatting --------------------------------------------------------------------- */

static void format_blade(struct cmc_out *o, const struct cmc_config_blade *b, bool last)
{
	const struct cmc_config_hypervisor *hv = &b->hv;

	cmc_out_printf(o, "  { name = \"%s\"; id = %u;", b->name, b->id);
	if (b->spare[0])
		cmc_out_printf(o, " spare = \"%s\";", b->spare);
	if (hv->binary[0] || hv->argc) {
		cmc_out_printf(o, "\n    hypervisor = {");
		if (hv->binary[0])
			cmc_out_printf(o, " binary = \"%s\";", hv->binary);
		if (hv->argc) {
			cmc_out_printf(o, " args = (");
			for (unsigned i = 0; i < hv->argc; i++)
				cmc_out_printf(o, " \"%s\"%s", hv->args[i], i + 1 < hv->argc ? "," : "");
			cmc_out_printf(o, " );");
		}
		cmc_out_printf(o, " };");
	}
	cmc_out_printf(o, " }%s\n", last ? "" : ",");
}

static void format_slot(struct cmc_out *o, const struct cmc_config_slot *s, bool last)
{
	cmc_out_printf(o, "  { slot = %u; policy = \"%s\"; ", s->number, cmc_slot_policy_name(s->policy));
	if (s->policy == CMC_SLOT_SHARED)
		cmc_out_printf(o, "vfs = %u; ", s->vfs);
	else
		cmc_out_printf(o, "blade = \"%s\"; ", s->blade->name);
	cmc_out_printf(o, "driver = \"%s\";", cmc_slot_driver_name(s->driver));
	if (s->keep_vfs)
		cmc_out_printf(o, " keep_vfs = true;");
	if (s->port_count) {
		cmc_out_printf(o, "\n    ports = (");
		for (unsigned p = 0; p < s->port_count; p++)
			cmc_out_printf(o, " { pf = %u; role = \"%s\"; }%s", s->ports[p].pf,
			    cmc_port_role_name(s->ports[p].role), p + 1 < s->port_count ? "," : "");
		cmc_out_printf(o, " );");
	}
	cmc_out_printf(o, " }%s\n", last ? "" : ",");
}

static void format_template(struct cmc_out *o, const struct cmc_config_template *ct, bool last)
{
	const struct cmc_template *t = &ct->t;

	cmc_out_printf(o, "  { name = \"%s\"; id = %u;", t->name, t->id);
	if (t->vlan)
		cmc_out_printf(o, " vlan = %u;", t->vlan);
	cmc_out_printf(o, " rate = %u; trusted = %s;", t->rate, t->trusted ? "true" : "false");
	if (t->n_allow) {
		cmc_out_printf(o, "\n    allow = (");
		for (unsigned i = 0; i < t->n_allow; i++) {
			char one[CMC_ALLOW_STRLEN];

			cmc_out_printf(o, " \"%s\"%s", cmc_allow_str(&t->allow[i], one), i + 1 < t->n_allow ? "," : "");
		}
		cmc_out_printf(o, " );");
	}
	cmc_out_printf(o, " }%s\n", last ? "" : ",");
}

size_t cmc_config_format(const struct cmc_config *cfg, char *buf, size_t len)
{
	struct cmc_out o = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	cmc_out_printf(&o, "chassis = { name = \"%s\";", cfg->chassis_name);
	if (cfg->chassis_id)
		cmc_out_printf(&o, " id = 0x%08x;", cfg->chassis_id);
	if (cfg->failover_grace != 30)
		cmc_out_printf(&o, " failover_grace = %u;", cfg->failover_grace);
	cmc_out_printf(&o, " };\n");
	cmc_out_printf(&o, "daemon = {\n  socket = \"%s\";\n  group = \"%s\";\n  store = \"%s\";\n};\n",
	    cfg->socket_path, cfg->socket_group, cfg->store_path);
	cmc_out_printf(&o, "blades = (\n");
	for (unsigned i = 0; i < cfg->blade_count; i++)
		format_blade(&o, &cfg->blades[i], i + 1 == cfg->blade_count);
	cmc_out_printf(&o, ");\nslots = (\n");
	for (unsigned i = 0; i < cfg->slot_count; i++)
		format_slot(&o, &cfg->slots[i], i + 1 == cfg->slot_count);
	cmc_out_printf(&o, ");\n");
	if (cfg->redfish.enabled) {
		const struct cmc_config_redfish *rf = &cfg->redfish;
		cmc_out_printf(&o, "redfish = {\n  address = \"%s\";\n  port = %u;\n", rf->address, rf->port);
		if (*rf->certificate)
			cmc_out_printf(&o, "  certificate = \"%s\";\n  key = \"%s\";\n", rf->certificate, rf->key);
		if (rf->http_port)
			cmc_out_printf(&o, "  http_port = %u;\n", rf->http_port);
		cmc_out_printf(&o, "  session_timeout = %u;\n", rf->session_timeout);
		cmc_out_printf(&o, "  event_keepalive = %u;\n  event_retry_attempts = %u;\n  event_retry_interval = %u;\n};\n",
		    rf->event_keepalive, rf->event_retry_attempts, rf->event_retry_interval);
	}
	if (cfg->template_count) {
		cmc_out_printf(&o, "templates = (\n");
		for (unsigned i = 0; i < cfg->template_count; i++)
			format_template(&o, &cfg->templates[i], i + 1 == cfg->template_count);
		cmc_out_printf(&o, ");\n");
	}
	return o.used;
}
