/* SPDX-License-Identifier: MIT */
/*
 * A domain's configuration service (cmc/dhcp.h, cmc/intent.h): the settings' grammar and
 * rules, the dnsmasq configuration generated from them, and the intent's rules for the
 * service's VF, without a card or a daemon.
 *
 * The chassis: two blades; slot 1 (one port, 2 VFs, midplane), slot 2 (one port, 3 VFs,
 * uplink). Each test builds a fresh intent.
 */
#include "dhcp.h"
#include "intent.h"
#include "macs.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID 0x1234567u

static struct cmc_config cfg;

static void make_config(void)
{
	cfg.blade_count = 2;
	snprintf(cfg.blades[0].name, sizeof(cfg.blades[0].name), "blade1");
	snprintf(cfg.blades[1].name, sizeof(cfg.blades[1].name), "blade2");
	cfg.blades[0].id = 1;
	cfg.blades[1].id = 2;
	cfg.slot_count = 2;
	cfg.slots[0] = (struct cmc_config_slot){ .number = 1, .vfs = 2, .port_count = 1,
						 .ports = { { .pf = 0, .role = CMC_PORT_MIDPLANE } } };
	cfg.slots[1] = (struct cmc_config_slot){ .number = 2, .vfs = 3 };
}

static struct cmc_intent *fresh(void)
{
	struct cmc_intent *in;
	char err[256];

	if (cmc_intent_new(&cfg, ID, &in) < 0 || cmc_intent_port_add(in, 1, 0, 2, NULL) < 0 ||
	    cmc_intent_port_add(in, 2, 0, 3, NULL) < 0 ||
	    cmc_intent_domain_create(in, "red", 10, NULL, err, sizeof(err)) < 0 ||
	    cmc_intent_domain_create(in, "blue", 20, NULL, err, sizeof(err)) < 0) {
		tap_diag("cannot build the test chassis");
		exit(1);
	}
	return in;
}

/* Settings from one line of words, as `cmcctl domain dhcp NAME ...` gives them. */
static int parse(const char *line, struct cmc_dhcp_settings *s, char *err)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 32; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return cmc_dhcp_parse(argc, (const char *const *)argv, s, err, 256);
}

/* Parsed and checked: the rules as the command applies them. */
static int rules(const char *line, char *err)
{
	struct cmc_dhcp_settings s;
	int rc = parse(line, &s, err);

	return rc ? rc : cmc_dhcp_check(&s, err, 256);
}

#define RED "subnet 10.1.0.0/24 server 10.1.0.254 pool 10.1.0.100-10.1.0.199"

static void test_grammar(void)
{
	struct cmc_dhcp_settings s;
	char err[256] = "";

	tap_is_int(parse(RED " router 10.1.0.1 dns 10.1.0.53 lease 600", &s, err), 0, "a full set of settings");
	tap_ok(s.on && s.subnet == 0x0a010000u && s.prefix == 24 && s.server == 0x0a0100feu &&
	       s.pool_lo == 0x0a010064u && s.pool_hi == 0x0a0100c7u && s.router == 0x0a010001u &&
	       s.dns == 0x0a010035u && s.lease == 600 && !s.relay, "  read as given");
	tap_is_int(parse(RED, &s, err), 0, "the least: subnet, server, pool");
	tap_is_int(s.lease, CMC_DHCP_LEASE_DEFAULT, "  lease defaults to an hour");
	tap_is_int(parse(RED " pool 10.1.0.2-10.1.0.3", &s, err), -EINVAL, "a keyword twice");
	tap_ok(strstr(err, "twice") != NULL, "  said (%s)", err);
	tap_is_int(parse("subnet 10.1.0.0/24 server 10.1.0.254", &s, err), -EINVAL, "neither pool nor relay");
	tap_is_int(parse(RED " relay 10.1.0.9", &s, err), -EINVAL, "both pool and relay");
	tap_is_int(parse("server 10.1.0.254 pool 10.1.0.100-10.1.0.199", &s, err), -EINVAL, "no subnet");
	tap_is_int(parse(RED " router", &s, err), -EINVAL, "a keyword without its value");
	tap_is_int(parse(RED " gateway 10.1.0.1", &s, err), -EINVAL, "an unknown keyword");
	tap_is_int(parse("subnet 10.1.0/24 server 10.1.0.254 pool 10.1.0.100-10.1.0.199", &s, err), -EINVAL,
		   "an address of three parts");
	tap_is_int(parse("subnet 10.1.0.0/33 server 10.1.0.254 pool 10.1.0.100-10.1.0.199", &s, err), -EINVAL,
		   "a prefix of 33");
	tap_is_int(parse(RED " lease 1e3", &s, err), -EINVAL, "a lease that is no number");
}

static void test_rules(void)
{
	char err[256] = "";

	tap_is_int(rules(RED " router 10.1.0.1 dns 8.8.8.8", err), 0, "good settings pass");
	tap_is_int(rules("subnet 169.254.0.0/24 server 169.254.0.254 pool 169.254.0.10-169.254.0.20", err), -EINVAL,
		   "a subnet inside the lanes' 169.254.0.0/16");
	tap_ok(strstr(err, "lanes") != NULL, "  names the lanes (%s)", err);
	tap_is_int(rules("subnet 169.0.0.0/8 server 169.0.0.1 pool 169.0.0.10-169.0.0.20", err), -EINVAL,
		   "a subnet holding the lanes' block");
	tap_is_int(rules("subnet 10.1.0.5/24 server 10.1.0.254 pool 10.1.0.100-10.1.0.199", err), -EINVAL,
		   "host bits in the subnet");
	tap_is_int(rules("subnet 10.0.0.0/6 server 10.0.0.254 pool 10.0.0.100-10.0.0.199", err), -EINVAL,
		   "a prefix shorter than /8");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.1.254 pool 10.1.0.100-10.1.0.199", err), -EINVAL,
		   "the server outside the subnet");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.255 pool 10.1.0.100-10.1.0.199", err), -EINVAL,
		   "the server on the broadcast address");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.150 pool 10.1.0.100-10.1.0.199", err), -EINVAL,
		   "the pool holds the server");
	tap_ok(strstr(err, "server") != NULL, "  said (%s)", err);
	tap_is_int(rules(RED " router 10.1.0.120", err), -EINVAL, "the pool holds the router");
	tap_is_int(rules(RED " dns 10.1.0.199", err), -EINVAL, "the pool holds the DNS server");
	tap_is_int(rules(RED " router 10.1.0.254", err), -EINVAL, "the router is the server");
	tap_is_int(rules(RED " router 10.2.0.1", err), -EINVAL, "a router outside the subnet");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 pool 10.1.0.199-10.1.0.100", err), -EINVAL,
		   "a pool in the wrong order");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 pool 10.1.0.100-10.1.1.10", err), -EINVAL,
		   "a pool running out of the subnet");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 pool 10.1.0.0-10.1.0.10", err), -EINVAL,
		   "a pool from the network address");
	tap_is_int(rules(RED " lease 60", err), -EINVAL, "a lease under 120 s");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 relay 10.1.0.9", err), 0, "a relay in the subnet");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 relay 192.0.2.9", err), -EINVAL,
		   "a relay outside it without a router");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 relay 192.0.2.9 router 10.1.0.1", err), 0,
		   "  with one");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 relay 10.1.0.254", err), -EINVAL,
		   "a relay to itself");
	tap_is_int(rules("subnet 10.1.0.0/24 server 10.1.0.254 relay 169.254.1.1 router 10.1.0.1", err), -EINVAL,
		   "a relay to a lane's address");
}

static void test_fields(void)
{
	struct cmc_dhcp_settings s, back;
	char err[256], text[256];

	(void)!parse(RED " router 10.1.0.1 lease 900", &s, err);
	cmc_dhcp_format(&s, text, sizeof(text));
	tap_is_str(text, "dhcp=on subnet=10.1.0.0/24 server=10.1.0.254 pool=10.1.0.100-10.1.0.199 router=10.1.0.1 "
		   "dns=- lease=900 relay=-", "stored as fields");
	tap_is_int(cmc_dhcp_from_fields(text, &back), 0, "read back");
	tap_ok(memcmp(&s, &back, sizeof(s)) == 0, "  the same settings");
	tap_is_int(cmc_dhcp_from_fields("vlan=10 blades=-", &back), 0, "a record of before services");
	tap_ok(!back.on, "  has none");
	tap_is_int(cmc_dhcp_from_fields("dhcp=on subnet=10.1.0.0/24", &back), -EINVAL, "a torn record");
}

static void test_generator(void)
{
	struct cmc_dhcp_settings s;
	char err[256], conf[2048], small[16];
	size_t need;

	(void)!parse(RED " router 10.1.0.1 lease 900", &s, err);
	need = cmc_dhcp_conf(&s, "red", "s2v0", "/var/lib/cmc/dhcp/red.leases", conf, sizeof(conf));
	tap_ok(need < sizeof(conf) && strlen(conf) == need, "the configuration fits (%zu bytes)", need);
	tap_ok(strstr(conf, "\nport=0\n") != NULL, "  DHCP only: no DNS");
	tap_ok(strstr(conf, "\ninterface=s2v0\n") && strstr(conf, "\nbind-interfaces\n"), "  on the VF alone");
	tap_ok(strstr(conf, "\ndhcp-range=10.1.0.100,10.1.0.199,255.255.255.0,900\n") != NULL, "  the pool and lease");
	tap_ok(strstr(conf, "\ndhcp-option=option:router,10.1.0.1\n") != NULL, "  the router");
	tap_ok(strstr(conf, "\ndhcp-option=option:dns-server\n") != NULL, "  no DNS server offered (none set)");
	tap_ok(strstr(conf, "\ndhcp-leasefile=/var/lib/cmc/dhcp/red.leases\n") != NULL, "  leases where asked");
	tap_ok(strstr(conf, "\ndhcp-authoritative\n") != NULL, "  the domain's one server");
	tap_ok(!strstr(conf, "dhcp-relay"), "  no relay");
	tap_is_int(cmc_dhcp_conf(&s, "red", "s2v0", "/x", small, sizeof(small)) > sizeof(small), 1,
		   "a small buffer: the length needed");
	tap_is_int(strlen(small), sizeof(small) - 1, "  and what fits, terminated");
	(void)!parse("subnet 10.1.0.0/24 server 10.1.0.254 relay 10.1.0.9", &s, err);
	cmc_dhcp_conf(&s, "blue", "s2v1", "/x", conf, sizeof(conf));
	tap_ok(strstr(conf, "\ndhcp-relay=10.1.0.254,10.1.0.9\n") && !strstr(conf, "dhcp-range"),
	       "relaying: the relay line, no pool");
}

static int dhcp_on(struct cmc_intent *in, const char *domain, const char *line, char *err)
{
	struct cmc_dhcp_settings s;
	int rc = parse(line, &s, err);

	return rc ? rc : cmc_intent_domain_dhcp(in, domain, &s, err, 256);
}

static void test_intent(void)
{
	struct cmc_intent *in = fresh();
	const struct cmc_assignment *a;
	struct cmc_dhcp_settings off = { .on = false };
	struct cmc_vf_settings vs;
	uint8_t mac[6];
	char err[256] = "";
	unsigned n;

	tap_is_int(dhcp_on(in, "red", RED, err), 0, "red gets a service");
	a = cmc_intent_service(in, "red");
	tap_ok(a && a->slot == 2 && a->vf == 0 && !strcmp(a->blade, "dhcp-red"),
	       "  on the first free VF of an uplink (slot 2, not the midplane's slot 1), as dhcp-red");
	(void)!cmc_mac_vf_default(ID, 2, 0, 0, mac);
	tap_ok(a && !memcmp(a->mac, mac, 6), "  with that VF's default MAC");
	cmc_intent_vf_settings(in, 2, 0, 0, &vs);
	tap_is_int(vs.vlan, 10, "  on red's VLAN");
	tap_is_int(dhcp_on(in, "blue", RED, err), 0, "blue may use the same prefix");
	tap_ok(cmc_intent_service(in, "blue") && cmc_intent_service(in, "blue")->vf == 1, "  on the next VF");
	n = cmc_intent_assignment_count(in);
	tap_is_int(dhcp_on(in, "red", RED " router 10.1.0.1", err), 0, "red's settings change");
	tap_ok(cmc_intent_assignment_count(in) == n && cmc_intent_service(in, "red")->vf == 0, "  on the same VF");
	tap_is_int(dhcp_on(in, "red", "subnet 169.254.0.0/16 server 169.254.0.254 pool 169.254.0.10-169.254.0.20",
			   err), -EINVAL, "a pool in the lanes' addresses is refused");
	tap_ok(cmc_intent_domain(in, "red")->dhcp.router == 0x0a010001u, "  and red keeps what it had");
	tap_is_int(dhcp_on(in, "green", RED, err), -ENOENT, "no such domain");
	tap_is_int(cmc_intent_unassign(in, 2, 0, 0, false, err, sizeof(err)), -EPERM,
		   "the service's VF is not unassigned by hand");
	tap_ok(strstr(err, "red") != NULL, "  says whose it is (%s)", err);
	{
		struct cmc_assignment b = { .slot = 2, .pf = 0, .vf = 2 };

		snprintf(b.blade, sizeof(b.blade), "blade1");
		(void)!cmc_mac_vf_default(ID, 2, 0, 2, b.mac);
		tap_is_int(cmc_intent_assign(in, &b, err, sizeof(err)), 0, "blade1 takes the last uplink VF");
	}
	(void)!cmc_intent_domain_create(in, "green", 30, NULL, err, sizeof(err));
	n = cmc_intent_assignment_count(in);
	tap_is_int(dhcp_on(in, "green", "subnet 10.3.0.0/24 server 10.3.0.1 pool 10.3.0.10-10.3.0.20", err), -ENOSPC,
		   "a domain without a free VF for its service is refused");
	tap_ok(strstr(err, "free VF") != NULL, "  said (%s)", err);
	tap_ok(!cmc_intent_domain(in, "green")->dhcp.on && cmc_intent_assignment_count(in) == n,
	       "  nothing half-applied: no settings, no VF");
	tap_is_int(cmc_intent_domain_dhcp(in, "blue", &off, err, sizeof(err)), 0, "blue's service off");
	tap_ok(!cmc_intent_service(in, "blue") && !cmc_intent_assignment(in, 2, 0, 1), "  its VF released");
	tap_is_int(cmc_intent_domain_dhcp(in, "blue", &off, err, sizeof(err)), -ENOENT, "  off again: none");
	tap_is_int(cmc_intent_domain_delete(in, "red", err, sizeof(err)), 0, "red deleted");
	tap_ok(!cmc_intent_assignment(in, 2, 0, 0), "  its service's VF with it");
	cmc_intent_free(in);
}

static void test_blade_name_taken(void)
{
	struct cmc_intent *in;
	char err[256] = "";

	snprintf(cfg.blades[1].name, sizeof(cfg.blades[1].name), "dhcp-red");
	in = fresh();
	tap_is_int(dhcp_on(in, "red", RED, err), -EEXIST, "a blade named like the service's namespace");
	cmc_intent_free(in);
	snprintf(cfg.blades[1].name, sizeof(cfg.blades[1].name), "blade2");
}

static void test_store(void)
{
	struct cmc_intent *in = fresh(), *back;
	char err[256] = "", key[CMC_INTENT_KEY_MAX], val[CMC_INTENT_VALUE_MAX];
	unsigned failed = 0;

	(void)!dhcp_on(in, "red", RED " dns 10.1.0.53", err);
	if (cmc_intent_new(&cfg, ID, &back) < 0 || cmc_intent_port_add(back, 1, 0, 2, NULL) < 0 ||
	    cmc_intent_port_add(back, 2, 0, 3, NULL) < 0)
		exit(1);
	for (unsigned i = 0; i < cmc_intent_domain_count(in); i++) {
		cmc_intent_domain_record(in, cmc_intent_domain_nth(in, i), key, val);
		failed += cmc_intent_load_record(back, key, val, err, sizeof(err)) != 0;
	}
	cmc_intent_assignment_record(cmc_intent_service(in, "red"), key, val);
	tap_ok(strstr(val, "service=red") != NULL, "the service's VF is stored as the service's (%s)", val);
	failed += cmc_intent_load_record(back, key, val, err, sizeof(err)) != 0;
	tap_is_int(failed, 0, "domains and the service's VF read back (%s)", failed ? err : "");
	tap_ok(cmc_intent_service(back, "red") && !memcmp(&cmc_intent_domain(back, "red")->dhcp,
							 &cmc_intent_domain(in, "red")->dhcp, sizeof(struct cmc_dhcp_settings)),
	       "  the same service");
	tap_is_int(cmc_intent_load_record(back, "assign/2/0/2", "blade=dhcp-blue mac=02:00:00:00:00:07 vlan=0 rate=0 "
					  "trusted=0 lane=- vm=- service=blue", err, sizeof(err)), -ENOENT,
		   "a service VF of a domain without a service is dropped");
	tap_is_int(cmc_intent_load_record(back, "domain/green", "vlan=30 blades=- dhcp=on subnet=169.254.0.0/24 "
					  "server=169.254.0.1 pool=169.254.0.10-169.254.0.20 router=- dns=- lease=600 "
					  "relay=-", err, sizeof(err)), -EINVAL,
		   "a stored service that breaks the rules is dropped");
	cmc_intent_free(in);
	cmc_intent_free(back);
}

int main(void)
{
	make_config();
	test_grammar();
	test_rules();
	test_fields();
	test_generator();
	test_intent();
	test_blade_name_taken();
	test_store();
	return tap_done();
}
