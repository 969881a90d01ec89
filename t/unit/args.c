/* SPDX-License-Identifier: MIT */
/*
 * The commands' keyword grammar (cmc/args.h): values taken, a repeated keyword refused
 * (as iproute2's duparg), unknown words and missing values refused with the usage, a
 * value that is no value refused saying what was expected, required keywords enforced.
 */
#include "args.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: t slot N [vf V] [mac M] [vlan X] [on]";

struct parsed {
	unsigned slot, vf, vlan;
	uint8_t mac[6];
	bool on;
	char ip[16];
};

/* Parses "t " + words (split at spaces) into *p. */
static enum cmc_status parse(struct cmc_api_request *req, struct parsed *p, const char *words)
{
	static char line[256];
	static char *argv[32];
	int argc = 0;
	struct cmc_arg args[] = {
		{ "slot", CMC_ARG_UINT, 0, 255, true, &p->slot, NULL, false },
		{ "vf", CMC_ARG_UINT, 0, 7, false, &p->vf, NULL, false },
		{ "mac", CMC_ARG_MAC, 0, 0, false, p->mac, "a unicast MAC address", false },
		{ "vlan", CMC_ARG_UINT, 1, 4094, false, &p->vlan, "a VLAN id (1-4094)", false },
		{ "on", CMC_ARG_FLAG, 0, 0, false, &p->on, NULL, false },
		{ "ip", CMC_ARG_IPV4, 0, 0, false, p->ip, "a host's IPv4 address", false },
	};

	snprintf(line, sizeof(line), "t %s", words);
	for (char *save = NULL, *w = strtok_r(line, " ", &save); w && argc < 32; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	*req = (struct cmc_api_request){ .argc = argc, .argv = argv };
	*p = (struct parsed){ 0 };
	return cmc_args_parse(req, 1, args, sizeof(args) / sizeof(args[0]), usage);
}

static void check(const char *name, enum cmc_status want, const char *msg, const char *words)
{
	struct cmc_api_request req;
	struct parsed p;
	enum cmc_status st = parse(&req, &p, words);

	tap_is_int(st, want, "%s", name);
	tap_ok(strstr(req.message, msg) != NULL, "%s: says \"%s\" (%s)", name, msg, req.message);
}

int main(void)
{
	struct cmc_api_request req;
	struct parsed p;

	tap_is_int(parse(&req, &p, "slot 3 vf 2 mac 02:00:00:00:00:01 vlan 10 on"),
		   CMC_OK, "every keyword, once");
	tap_ok(p.slot == 3 && p.vf == 2 && p.vlan == 10 && p.on && p.mac[0] == 2 && p.mac[5] == 1,
	       "  each value where it belongs");
	tap_is_int(parse(&req, &p, "vf 1 slot 0"), CMC_OK, "any order");
	check("a repeated keyword", CMC_USAGE, "'vf' given twice", "slot 1 vf 1 vf 2");
	check("a repeated flag", CMC_USAGE, "'on' given twice", "slot 1 on on");
	check("an unknown word", CMC_USAGE, "unknown 'blade'", "slot 1 blade b1");
	check("a keyword without its value", CMC_USAGE, "'vf' needs a value", "slot 1 vf");
	check("a required keyword missing", CMC_USAGE, usage, "vf 1");
	check("a number out of range, no `what`", CMC_USAGE, "bad 'slot 256'", "slot 256");
	check("not a number", CMC_USAGE, "bad 'vf x'", "slot 1 vf x");
	check("a VLAN below its minimum", CMC_USAGE, "'0' is not a VLAN id (1-4094)", "slot 1 vlan 0");
	check("a multicast MAC", CMC_USAGE, "is not a unicast MAC address",
	      "slot 1 mac 01:00:5e:00:00:01");
	check("a malformed MAC", CMC_USAGE, "'zz' is not a unicast MAC address", "slot 1 mac zz");
	tap_is_int(parse(&req, &p, "slot 1 ip 10.9.0.5"), CMC_OK, "an IPv4 address");
	tap_ok(strcmp(p.ip, "10.9.0.5") == 0, "  kept as written");
	check("a multicast IPv4 address", CMC_USAGE, "'224.0.0.1' is not a host's IPv4 address", "slot 1 ip 224.0.0.1");
	check("a loopback address", CMC_USAGE, "is not a host's IPv4 address", "slot 1 ip 127.0.0.1");
	check("0.0.0.0", CMC_USAGE, "is not a host's IPv4 address", "slot 1 ip 0.0.0.0");
	check("not a dotted quad", CMC_USAGE, "'10.9.5' is not a host's IPv4 address", "slot 1 ip 10.9.5");
	return tap_done();
}
