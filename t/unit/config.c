/* SPDX-License-Identifier: MIT */
/*
 * cmcd's configuration loader: the shipped and sample configs load with the right values
 * (defaults filled in), and each class of mistake is refused with a message that names
 * file:line, the setting and what was expected. Run from the top of the tree.
 */
#include "config.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA "t/data/conf/"

/* A message ending in ": " is matched as a prefix: the text of a parse error belongs to
 * libconfig and may change between its versions; ours are matched whole. */
struct bad_case {
	const char *name;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ "bad-syntax", DATA "bad-syntax.conf:4: " },
	{ "bad-dup-setting", DATA "bad-dup-setting.conf:3: " },
	{ "bad-unknown-top",
	  DATA "bad-unknown-top.conf:3: slot: unknown setting (expected one of: chassis, daemon,"
	  " blades, slots, redfish, templates)" },
	{ "bad-redfish-address",
	  DATA "bad-redfish-address.conf:3: redfish.address: \"localhost\" is not a numeric IPv4 or"
	  " IPv6 address" },
	{ "bad-redfish-key-alone",
	  DATA "bad-redfish-key-alone.conf:3: redfish: certificate and key go together (neither: a"
	  " self-signed pair)" },
	{ "bad-redfish-same-port",
	  DATA "bad-redfish-same-port.conf:3: redfish.http_port: 8443 is the HTTPS port too" },
	{ "bad-unknown-daemon",
	  DATA "bad-unknown-daemon.conf:4: daemon.sotre: unknown setting (expected one of: socket,"
	  " group, store, vm_port_idle)" },
	{ "bad-unknown-nested",
	  DATA "bad-unknown-nested.conf:5: slots.[1].polcy: unknown setting (expected one of: slot,"
	  " policy, vfs, driver, blade, ports, keep_vfs)" },
	{ "bad-keep-vfs-type",
	  DATA "bad-keep-vfs-type.conf:3: slots.[0].keep_vfs: expected true or false, not a string" },
	{ "bad-keep-vfs-igb-vfio",
	  DATA "bad-keep-vfs-igb-vfio.conf:3: slots.[0].keep_vfs: igb-vfio cannot keep VFs when cmcd"
	  " stops (closing VFIO resets the PF)" },
	{ "bad-unknown-port",
	  DATA "bad-unknown-port.conf:4: slots.[0].ports.[0].rol: unknown setting (expected one of:"
	  " pf, role)" },
	{ "bad-no-chassis",
	  DATA "bad-no-chassis.conf: chassis: missing (expected a group { ... })" },
	{ "bad-no-chassis-name",
	  DATA "bad-no-chassis-name.conf:1: chassis.name: missing (expected a name of 1..32"
	  " characters [A-Za-z0-9_.-])" },
	{ "bad-chassis-name",
	  DATA "bad-chassis-name.conf:2: chassis.name: \"rack 4/chassis\" must be 1..32 characters"
	  " of A-Z a-z 0-9 _ . -" },
	{ "bad-blade-name",
	  DATA "bad-blade-name.conf:3: blades.[0].name: \"Blade1\" must be 1..32 characters of"
	  " a-z 0-9 _ -" },
	{ "bad-dup-blade-name",
	  DATA "bad-dup-blade-name.conf:5: blades.[2].name: \"blade1\" is already the name of the"
	  " blade at line 3" },
	{ "bad-dup-blade-id",
	  DATA "bad-dup-blade-id.conf:5: blades.[1].id: 1 is already the id of blade \"blade1\""
	  " (line 3)" },
	{ "bad-blade-id-range",
	  DATA "bad-blade-id-range.conf:5: blades.[1].id: 0 is out of range 1..64" },
	{ "bad-blade-id-high",
	  DATA "bad-blade-id-high.conf:2: blades.[0].id: 65 is out of range 1..64" },
	{ "bad-no-blades", DATA "bad-no-blades.conf:2: blades: at least one blade is required" },
	{ "bad-blades-missing",
	  DATA "bad-blades-missing.conf: blades: missing (expected a list ( { name = ...; id ="
	  " ...; }, ... ))" },
	{ "bad-blade-not-group",
	  DATA "bad-blade-not-group.conf:2: blades.[0]: expected a group { name = ...; id = ...; },"
	  " not a string" },
	{ "bad-slot-number",
	  DATA "bad-slot-number.conf:4: slots.[0].slot: 256 is out of range 0..255" },
	{ "bad-slot-negative",
	  DATA "bad-slot-negative.conf:4: slots.[0].slot: -1 is out of range 0..255" },
	{ "bad-dup-slot",
	  DATA "bad-dup-slot.conf:6: slots.[2].slot: slot 3 is already configured at line 4" },
	{ "bad-policy",
	  DATA "bad-policy.conf:5: slots.[0].policy: must be \"shared\" or \"dedicated\", not"
	  " \"share\"" },
	{ "bad-no-policy",
	  DATA "bad-no-policy.conf:4: slots.[0].policy: missing (expected \"shared\" or"
	  " \"dedicated\")" },
	{ "bad-dedicated-no-blade",
	  DATA "bad-dedicated-no-blade.conf:5: slots.[1].blade: missing (expected the name of the"
	  " blade a dedicated slot belongs to)" },
	{ "bad-dedicated-unknown-blade",
	  DATA "bad-dedicated-unknown-blade.conf:5: slots.[0].blade: \"blade9\" is not a configured"
	  " blade" },
	{ "bad-spare-unknown", DATA "bad-spare-unknown.conf:3: blades.[0].spare: \"blade9\" is not a configured blade" },
	{ "bad-spare-self", DATA "bad-spare-self.conf:2: blades.[0].spare: \"blade1\" cannot be the spare of blade1" },
	{ "bad-grace-range", DATA "bad-grace-range.conf:1: chassis.failover_grace: 0 is out of range 1..3600" },
	{ "bad-shared-blade",
	  DATA "bad-shared-blade.conf:4: slots.[0].blade: only a dedicated slot has an owning blade"
	  " (this one is shared)" },
	{ "bad-vfs-range", DATA "bad-vfs-range.conf:5: slots.[0].vfs: 8 is out of range 0..7" },
	{ "bad-driver",
	  DATA "bad-driver.conf:4: slots.[0].driver: must be \"kernel\" or \"igb-vfio\", not"
	  " \"ixgbe\"" },
	{ "bad-port-role",
	  DATA "bad-port-role.conf:6: slots.[0].ports.[1].role: must be \"uplink\" or \"midplane\","
	  " not \"backplane\"" },
	{ "bad-dup-pf",
	  DATA "bad-dup-pf.conf:6: slots.[0].ports.[1].pf: pf 0 is already configured in this slot"
	  " (ports.[0])" },
	{ "bad-pf-range", DATA "bad-pf-range.conf:4: slots.[0].ports.[0].pf: 8 is out of range 0..7" },
	{ "bad-type-string",
	  DATA "bad-type-string.conf:3: blades.[0].id: expected an integer 1..64, not a string" },
	{ "bad-type-float",
	  DATA "bad-type-float.conf:3: slots.[0].vfs: expected an integer 0..7, not a float" },
	{ "bad-type-name",
	  DATA "bad-type-name.conf:1: chassis.name: expected a name of 1..32 characters"
	  " [A-Za-z0-9_.-], not an integer" },
	{ "bad-type-group",
	  DATA "bad-type-group.conf:2: blades: expected a list ( { name = ...; id = ...; }, ... ),"
	  " not a group { }" },
	{ "bad-socket-relative",
	  DATA "bad-socket-relative.conf:2: daemon.socket: \"cmcd.sock\" must be an absolute path" },
	{ "bad-socket-long",
	  DATA "bad-socket-long.conf:2: daemon.socket: path is longer than 107 characters" },
	{ "bad-path-quote",
	  DATA "bad-path-quote.conf:2: daemon.store: the path contains a quote, backslash or"
	  " control character" },
	{ "bad-blade-unknown",
	  DATA "bad-blade-unknown.conf:3: blades.[0].qemu: unknown setting (expected one of: name, id,"
	  " hypervisor, spare)" },
	{ "bad-hv-unknown",
	  DATA "bad-hv-unknown.conf:4: blades.[0].hypervisor.arg: unknown setting (expected one of:"
	  " binary, args)" },
	{ "bad-hv-binary",
	  DATA "bad-hv-binary.conf:3: blades.[0].hypervisor.binary: \"qemu-system-x86_64\" must be an"
	  " absolute path" },
	{ "bad-hv-args-list",
	  DATA "bad-hv-args-list.conf:3: blades.[0].hypervisor.args: expected a list ( \"-device\","
	  " \"...\", ... ) of strings, not a string" },
	{ "bad-hv-arg-type",
	  DATA "bad-hv-arg-type.conf:4: blades.[1].hypervisor.args.[1]: expected a string, not an"
	  " integer" },
	{ "bad-hv-own-option",
	  DATA "bad-hv-own-option.conf:5: blades.[0].hypervisor.args.[2]: \"-qmp\" is set by cmcd"
	  " itself (-name, -m, -kernel, -qmp, -pidfile, -incoming, -S, -daemonize, -nodefaults,"
	  " -display, -accel)" },
	{ "bad-group",
	  DATA "bad-group.conf:2: daemon.group: \"cmc admins\" must be \"\" or a group name of 1..32"
	  " characters of A-Z a-z 0-9 _ . -" },
	{ "bad-tmpl-prefix",
	  DATA "bad-tmpl-prefix.conf:3: templates.[0].allow.[1]: '10.8.0.300' is neither a MAC nor an IPv4 prefix" },
	{ "bad-tmpl-hostbits",
	  DATA "bad-tmpl-hostbits.conf:3: templates.[0].allow.[0]: '10.9.0.1/24' has host bits set (the prefix is 10.9.0.0/24)" },
	{ "bad-tmpl-mac",
	  DATA "bad-tmpl-mac.conf:4: templates.[0].allow.[1]: 01:00:5e:00:00:01 is not a unicast MAC (a peer is one host)" },
	{ "bad-tmpl-vlan",
	  DATA "bad-tmpl-vlan.conf:3: templates.[0].vlan: 4001 is out of range 1..3999" },
	{ "bad-tmpl-rate",
	  DATA "bad-tmpl-rate.conf:3: templates.[0].rate: 1001 is out of range 0..1000" },
	{ "bad-tmpl-dup-id",
	  DATA "bad-tmpl-dup-id.conf:4: templates.[1].id: 3 is already the id of template \"web\" (line 3)" },
	{ "bad-tmpl-dup-name",
	  DATA "bad-tmpl-dup-name.conf:4: templates.[1].name: \"web\" is already the name of the template at line 3" },
	{ "bad-tmpl-dup-peer",
	  DATA "bad-tmpl-dup-peer.conf:3: templates.[0].allow.[1]: \"10.9.0.0/24\" is in the list twice (allow.[0])" },
	{ "bad-tmpl-unknown",
	  DATA "bad-tmpl-unknown.conf:3: templates.[0].trust: unknown setting (expected one of: name, id, vlan, rate, trusted, allow)" },
	{ "bad-tmpl-name",
	  DATA "bad-tmpl-name.conf:3: templates.[0].name: \"web server\" must be 1..16 characters of A-Z a-z 0-9 _ -" },
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void test_bad(const struct bad_case *c)
{
	char path[256], err[512] = "untouched";
	struct cmc_config *cfg = (struct cmc_config *)1;
	size_t n = strlen(c->message);
	int rc;

	snprintf(path, sizeof(path), DATA "%s.conf", c->name);
	rc = cmc_config_load(path, &cfg, err, sizeof(err));
	if (n >= 2 && strcmp(c->message + n - 2, ": ") == 0) {
		bool ok = rc == -EINVAL && !cfg && strncmp(err, c->message, n) == 0 && err[n];
		if (!tap_ok(ok, "%s: refused with %s<libconfig's text>", c->name, c->message))
			tap_diag("  rc %d, got '%s'", rc, err);
		return;
	}
	if (!tap_ok(rc == -EINVAL && !cfg, "%s: refused with -EINVAL and no config", c->name))
		tap_diag("  rc %d", rc);
	tap_is_str(err, c->message, "%s: the message names file:line, setting, expectation",
		   c->name);
}

static void test_good_full(void)
{
	struct cmc_config *cfg = NULL;
	char err[512] = "";
	const struct cmc_config_slot *s;
	int rc = cmc_config_load(DATA "good-full.conf", &cfg, err, sizeof(err));

	if (!tap_ok(rc == 0 && cfg, "good-full.conf loads")) {
		tap_diag("  rc %d: %s", rc, err);
		exit(tap_done());
	}
	tap_is_str(cfg->path, DATA "good-full.conf", "the config remembers its file");
	tap_is_str(cfg->chassis_name, "Rack-4.chassis_2", "chassis.name (upper case, dot, dash)");
	tap_is_str(cfg->socket_path, "/tmp/cmc-test/cmcd.sock", "daemon.socket");
	tap_is_str(cfg->run_dir, "/tmp/cmc-test", "the run directory is the socket's");
	tap_is_str(cfg->socket_group, "", "daemon.group \"\" means no group");
	tap_is_str(cfg->store_path, "/tmp/cmc-test/state", "daemon.store");
	tap_is_int(cfg->blade_count, 3, "three blades");
	tap_is_str(cfg->blades[1].name, "blade_2", "blades.[1].name");
	tap_is_int(cfg->blades[2].id, 9, "blades.[2].id");
	tap_is_int(cfg->blades[1].line, 10, "blades.[1] remembers its line");
	tap_ok(cmc_config_blade_by_name(cfg, "spare-9") == &cfg->blades[2], "blade by name");
	tap_ok(cmc_config_blade_by_id(cfg, 2) == &cfg->blades[1], "blade by id");
	tap_ok(!cmc_config_blade_by_id(cfg, 3) && !cmc_config_blade_by_name(cfg, "blade3"),
	       "no such blade: NULL");
	tap_ok(!cfg->blades[0].hv.binary[0] && cfg->blades[0].hv.argc == 0 &&
	       !cfg->blades[1].hv.binary[0] && cfg->blades[1].hv.argc == 0,
	       "no hypervisor, or an empty one: the default command, no extra argument");
	tap_is_str(cfg->blades[2].hv.binary, "/opt/qemu/bin/qemu-system-x86_64", "blades.[2].hypervisor.binary");
	tap_ok(cfg->blades[2].hv.argc == 4 && strcmp(cfg->blades[2].hv.args[0], "-device") == 0 &&
	       strcmp(cfg->blades[2].hv.args[1], "virtio-rng-pci") == 0 &&
	       strcmp(cfg->blades[2].hv.args[3], "q35") == 0, "blades.[2].hypervisor.args, in order");
	tap_is_int(cfg->slot_count, 3, "three slots");

	s = cmc_config_slot_by_number(cfg, 0);
	tap_ok(s == &cfg->slots[0], "slot 0 is allowed and found by number");
	tap_ok(s && s->policy == CMC_SLOT_SHARED && s->vfs == 7 && s->driver == CMC_DRIVER_IGB_VFIO
	       && !s->blade, "slot 0: shared, 7 VFs, igb-vfio, no owner");
	tap_ok(s && s->port_count == 3 && s->ports[0].pf == 0 && s->ports[0].role == CMC_PORT_UPLINK
	       && s->ports[1].pf == 1 && s->ports[1].role == CMC_PORT_MIDPLANE,
	       "slot 0: ports pf0 uplink, pf1 midplane");
	tap_ok(s && s->ports[2].pf == 7 && s->ports[2].role == CMC_PORT_UPLINK,
	       "a port without a role is an uplink");

	s = cmc_config_slot_by_number(cfg, 255);
	tap_ok(s && s->policy == CMC_SLOT_DEDICATED && s->blade == &cfg->blades[2] && s->vfs == 0,
	       "slot 255: dedicated to spare-9");
	tap_ok(s && s->driver == CMC_DRIVER_KERNEL && s->port_count == 0,
	       "the default driver is kernel; no ports listed");
	s = cmc_config_slot_by_number(cfg, 3);
	tap_ok(s && s->policy == CMC_SLOT_SHARED && s->vfs == 0, "slot 3: shared, vfs defaults to 0");
	tap_ok(!cmc_config_slot_by_number(cfg, 1), "unconfigured slot: NULL");
	tap_ok(cfg->redfish.enabled && strcmp(cfg->redfish.address, "::1") == 0 &&
	       cfg->redfish.port == 8443 && cfg->redfish.http_port == 8080 &&
	       cfg->redfish.session_timeout == 600 &&
	       strcmp(cfg->redfish.certificate, "/etc/cmc/rf-cert.pem") == 0 &&
	       strcmp(cfg->redfish.key, "/etc/cmc/rf-key.pem") == 0, "redfish: every setting read");
	cmc_config_free(cfg);
	rc = cmc_config_load(DATA "good-dedicated-vfs.conf", &cfg, err, sizeof(err));
	s = rc ? NULL : cmc_config_slot_by_number(cfg, 2);
	tap_ok(s && s->policy == CMC_SLOT_DEDICATED && s->vfs == 2 && s->blade == &cfg->blades[0],
	       "a dedicated slot with 2 VFs, all blade1's (%s)", rc ? err : "loaded");
	cmc_config_free(cfg);
}

/* The templates section: defaults, the ids the file leaves free, the access lists, and
 * the effective configuration written back loads the same. */
static void test_templates(void)
{
	struct cmc_config *cfg = NULL, *again = NULL;
	char err[512] = "", buf[8192], path[] = "/tmp/cmc-config-tmpl-XXXXXX";
	const struct cmc_template *web, *db, *open;
	char list[CMC_ALLOW_LIST_STRLEN];
	int rc = cmc_config_load(DATA "good-templates.conf", &cfg, err, sizeof(err)), fd;

	if (!tap_ok(rc == 0 && cfg && cfg->template_count == 3, "good-templates.conf loads, three templates")) {
		tap_diag("  rc %d: %s", rc, err);
		return;
	}
	web = &cfg->templates[0].t;
	db = &cfg->templates[1].t;
	open = &cfg->templates[2].t;
	tap_ok(strcmp(web->name, "web") == 0 && web->vlan == 100 && web->rate == 50 && !web->trusted,
	       "web: vlan 100, 50 Mbit/s, not trusted");
	tap_is_str(cmc_allow_list_str(web, list), "10.9.0.0/24,02:cc:00:00:00:01,10.8.0.7/32",
		   "web's access list, in order (an address alone is a /32)");
	tap_is_int(cfg->templates[0].line, 5, "a template remembers its line");
	tap_is_int(db->id, 1, "db asked for id 1");
	tap_is_int(web->id, 2, "web, with no id, has the lowest id the file leaves free (2)");
	tap_ok(open->id == 3 && open->trusted && open->n_allow == 0 && open->vlan == 0 && open->rate == 0,
	       "open: id 3, trusted, every peer allowed, no VLAN, no limit");
	cmc_config_format(cfg, buf, sizeof(buf));
	fd = mkstemp(path);
	if (fd >= 0) {
		(void)!write(fd, buf, strlen(buf));
		close(fd);
	}
	rc = cmc_config_load(path, &again, err, sizeof(err));
	tap_ok(rc == 0 && again && again->template_count == 3 &&
	       memcmp(&again->templates[0].t, web, sizeof(*web)) == 0 &&
	       memcmp(&again->templates[2].t, open, sizeof(*open)) == 0,
	       "the effective configuration, written back, loads the same templates (%s)", rc ? err : "loaded");
	unlink(path);
	cmc_config_free(again);
	cmc_config_free(cfg);
}

static void test_good_minimal(void)
{
	struct cmc_config *cfg = NULL;
	char err[512] = "";
	int rc = cmc_config_load(DATA "good-minimal.conf", &cfg, err, sizeof(err));

	if (!tap_ok(rc == 0 && cfg, "good-minimal.conf loads"))
		tap_diag("  rc %d: %s", rc, err);
	if (!cfg)
		return;
	tap_is_str(cfg->socket_path, "/run/cmc/cmcd.sock", "default socket");
	tap_is_str(cfg->run_dir, "/run/cmc", "default run directory");
	tap_is_str(cfg->socket_group, "cmc", "default group");
	tap_is_str(cfg->store_path, "/var/lib/cmc/state", "default store");
	tap_ok(cfg->blade_count == 1 && cfg->blades[0].id == 64, "one blade, id 64 is in range");
	tap_is_int(cfg->slot_count, 0, "slots are optional");
	tap_ok(!cfg->redfish.enabled, "no redfish group: the service is off");
	cmc_config_free(cfg);
}

static void test_emulated(void)
{
	struct cmc_config *cfg = NULL;
	char err[512] = "";
	const struct cmc_config_slot *s1, *s2;
	int rc = cmc_config_load("conf/emulated.conf", &cfg, err, sizeof(err));

	if (!tap_ok(rc == 0 && cfg, "conf/emulated.conf loads"))
		tap_diag("  rc %d: %s", rc, err);
	if (!cfg)
		return;
	tap_is_str(cfg->chassis_name, "emulated", "emulated: chassis name");
	tap_ok(cfg->blade_count == 3 && strcmp(cfg->blades[2].name, "blade3") == 0 &&
	       cfg->blades[2].id == 3, "emulated: blade1..blade3");
	s1 = cmc_config_slot_by_number(cfg, 1);
	s2 = cmc_config_slot_by_number(cfg, 2);
	tap_ok(s1 && s1->policy == CMC_SLOT_SHARED && s1->vfs == 4 &&
	       s1->driver == CMC_DRIVER_IGB_VFIO && s1->port_count == 1 && s1->ports[0].pf == 0 &&
	       s1->ports[0].role == CMC_PORT_UPLINK, "emulated: slot 1 shared, 4 VFs, pf0 uplink");
	tap_ok(s2 && s2->policy == CMC_SLOT_SHARED && s2->vfs == 4 &&
	       s2->driver == CMC_DRIVER_IGB_VFIO && s2->port_count == 1 && s2->ports[0].pf == 0 &&
	       s2->ports[0].role == CMC_PORT_MIDPLANE, "emulated: slot 2 shared, 4 VFs, pf0 midplane");
	tap_ok(strcmp(cfg->socket_path, "/run/cmc/cmcd.sock") == 0 &&
	       strcmp(cfg->store_path, "/var/lib/cmc/state") == 0, "emulated: socket and store");
	cmc_config_free(cfg);

	rc = cmc_config_load("conf/example.conf", &cfg, err, sizeof(err));
	if (!tap_ok(rc == 0 && cfg, "conf/example.conf loads"))
		tap_diag("  rc %d: %s", rc, err);
	tap_ok(cfg && cfg->template_count == 2 && cfg->templates[0].t.n_allow == 2 && cfg->templates[1].t.id == 1,
	       "conf/example.conf: its two templates, the second with the lowest free id");
	tap_ok(cfg && cfg->failover_grace == 30 && strcmp(cfg->blades[2].spare, "spare1") == 0 && !cfg->blades[0].spare[0],
	       "example: db1's spare is spare1; the grace time 30 s by default");
	cmc_config_free(cfg);
	rc = cmc_config_load("conf/emulated-failover.conf", &cfg, err, sizeof(err));
	tap_ok(rc == 0 && cfg && cfg->failover_grace == 5 && strcmp(cfg->blades[0].spare, "blade3") == 0,
	       "emulated-failover: blade1's spare is blade3, 5 s of grace");
	cmc_config_free(cfg);
}

/* cmc_config_format() writes what cmc_config_load() reads back to the same config. */
static void test_format_round_trip(void)
{
	static char text[65536], again[65536];
	char path[] = "/tmp/cmc-config-XXXXXX", err[512] = "";
	struct cmc_config *cfg = NULL, *back = NULL;
	size_t need;
	FILE *f;
	int fd, rc;

	rc = cmc_config_load(DATA "good-full.conf", &cfg, err, sizeof(err));
	need = cfg ? cmc_config_format(cfg, text, sizeof(text)) : 0;
	tap_ok(rc == 0 && need > 0 && need < sizeof(text), "format the full config (%zu bytes)", need);
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	rc = cmc_config_load(path, &back, err, sizeof(err));
	if (!tap_ok(rc == 0 && back, "the formatted text loads again"))
		tap_diag("  %s\n%s", err, text);
	if (back)
		cmc_config_format(back, again, sizeof(again));
	tap_is_str(again, text, "and formats to the same text");
	tap_ok(back && back->slots[1].blade && strcmp(back->slots[1].blade->name, "spare-9") == 0,
	       "the dedicated slot still points at its blade");
	tap_ok(back && back->failover_grace == 12 && strcmp(back->blades[0].spare, "spare-9") == 0,
	       "the grace time and blade1's spare come back");

	char small[16];
	tap_is_int(cmc_config_format(cfg, small, sizeof(small)), need,
		   "a small buffer: returns the length needed");
	tap_is_int(strlen(small), sizeof(small) - 1, "and holds a terminated prefix");
	unlink(path);
	cmc_config_free(back);
	cmc_config_free(cfg);
}

static void test_edge_cases(void)
{
	struct cmc_config *cfg = (struct cmc_config *)1;
	char err[512] = "", tiny[8];
	int rc;

	rc = cmc_config_load(DATA "no-such-file.conf", &cfg, err, sizeof(err));
	tap_ok(rc == -ENOENT && !cfg, "a missing file: -ENOENT");
	tap_is_str(err, DATA "no-such-file.conf: cannot open: No such file or directory",
		   "and the message names the file");
	rc = cmc_config_load(DATA "bad-policy.conf", &cfg, NULL, 0);
	tap_ok(rc == -EINVAL && !cfg, "no error buffer: still refused, nothing written");
	rc = cmc_config_load(DATA "bad-policy.conf", &cfg, tiny, sizeof(tiny));
	tap_ok(rc == -EINVAL && strlen(tiny) == sizeof(tiny) - 1, "a small error buffer is cut, not overrun");
	rc = cmc_config_load("t/data/conf", &cfg, err, sizeof(err));
	tap_ok(rc < 0 && !cfg && strncmp(err, "t/data/conf", 11) == 0, "a directory is refused (%d: %s)",
	       rc, err);
	cmc_config_free(NULL);
	tap_is_str(cmc_slot_policy_name(CMC_SLOT_DEDICATED), "dedicated", "policy name");
	tap_is_str(cmc_slot_driver_name(CMC_DRIVER_IGB_VFIO), "igb-vfio", "driver name");
	tap_is_str(cmc_port_role_name(CMC_PORT_MIDPLANE), "midplane", "role name");
}

int main(void)
{
	for (size_t i = 0; i < N_BAD; i++)
		test_bad(&bad_cases[i]);
	test_good_full();
	test_good_minimal();
	test_templates();
	test_emulated();
	test_format_round_trip();
	test_edge_cases();
	return tap_done();
}
