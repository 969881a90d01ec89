/* SPDX-License-Identifier: MIT */
/*
 * mp-blade: the blade mapping API from a shell, for tests and people.
 *
 *   mp-blade [-k KIND] create BLADE
 *   mp-blade [-k KIND] map VF_BDF BLADE IFNAME
 *   mp-blade [-k KIND] unmap VF_BDF BLADE IFNAME
 *   mp-blade [-k KIND] show BLADE IFNAME
 *   mp-blade [-k KIND] addr BLADE IFNAME A.B.C.D/LEN
 *   mp-blade [-k KIND] vmport BLADE VF_IFNAME BRIDGE TAP MAC
 *   mp-blade [-k KIND] vmport-del BLADE BRIDGE TAP
 *
 * KIND is the backend, "netns" by default. Exit 0 on success, 1 on failure (the error
 * on stderr; `show` of an interface the blade does not have is a failure), 2 on usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blade.h"

struct cmd {
	const char *name;
	int argc;	/* operands after the command name */
	int (*run)(struct mp_blade_backend *be, char **argv, char *err, size_t errlen);
	const char *usage;
};

static int do_create(struct mp_blade_backend *be, char **argv, char *err, size_t errlen)
{
	return mp_blade_create(be, argv[0], err, errlen);
}

static int do_map(struct mp_blade_backend *be, char **argv, char *err, size_t errlen)
{
	return mp_blade_map(be, argv[0], argv[1], argv[2], err, errlen);
}

static int do_unmap(struct mp_blade_backend *be, char **argv, char *err, size_t errlen)
{
	return mp_blade_unmap(be, argv[0], argv[1], argv[2], err, errlen);
}

static int do_show(struct mp_blade_backend *be, char **argv, char *err, size_t errlen)
{
	struct mp_blade_netdev nd;
	const uint8_t *m = nd.mac;
	int rc = mp_blade_netdev(be, argv[0], argv[1], &nd, err, errlen);

	if (rc)
		return rc;
	if (!nd.present) {
		snprintf(err, errlen, "blade %s has no %s", argv[0], argv[1]);
		return -ENODEV;
	}
	printf("%s ifindex=%u mac=%02x:%02x:%02x:%02x:%02x:%02x bdf=%s %s %s\n", argv[1], nd.ifindex,
	       m[0], m[1], m[2], m[3], m[4], m[5], *nd.bdf ? nd.bdf : "-", nd.up ? "up" : "down",
	       nd.carrier ? "carrier" : "no-carrier");
	return 0;
}

static int do_addr(struct mp_blade_backend *be, char **argv, char *err, size_t errlen)
{
	return mp_blade_set_addr(be, argv[0], argv[1], argv[2], err, errlen);
}

static int do_vmport(struct mp_blade_backend *be, char **argv, char *err, size_t errlen)
{
	unsigned m[6];
	uint8_t mac[6];

	if (sscanf(argv[4], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		snprintf(err, errlen, "'%s' is not a MAC address", argv[4]);
		return -EINVAL;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return mp_blade_vmport_add(be, argv[0], argv[1], argv[2], argv[3], mac, err, errlen);
}

static int do_vmport_del(struct mp_blade_backend *be, char **argv, char *err, size_t errlen)
{
	return mp_blade_vmport_del(be, argv[0], argv[1], argv[2], err, errlen);
}

static const struct cmd cmds[] = {
	{ "vmport", 5, do_vmport, "vmport BLADE VF_IFNAME BRIDGE TAP MAC" },
	{ "vmport-del", 3, do_vmport_del, "vmport-del BLADE BRIDGE TAP" },
	{ "create", 1, do_create, "create BLADE" },
	{ "map", 3, do_map, "map VF_BDF BLADE IFNAME" },
	{ "unmap", 3, do_unmap, "unmap VF_BDF BLADE IFNAME" },
	{ "show", 2, do_show, "show BLADE IFNAME" },
	{ "addr", 3, do_addr, "addr BLADE IFNAME A.B.C.D/LEN" },
};

static int usage(void)
{
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  mp-blade [-k KIND] %s\n", cmds[i].usage);
	return 2;
}

int main(int argc, char **argv)
{
	const char *kind = "netns";
	struct mp_blade_backend *be;
	const struct cmd *c = NULL;
	char err[512] = "";
	int opt, rc;

	while ((opt = getopt(argc, argv, "k:h")) != -1) {
		if (opt != 'k')
			return usage();
		kind = optarg;
	}
	argv += optind;
	argc -= optind;
	for (size_t i = 0; argc > 0 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name))
			c = &cmds[i];
	if (!c || argc - 1 != c->argc)
		return usage();
	rc = mp_blade_backend_open(kind, &be, err, sizeof(err));
	if (!rc) {
		rc = c->run(be, argv + 1, err, sizeof(err));
		mp_blade_backend_close(be);
	}
	if (rc) {
		fprintf(stderr, "mp-blade %s: %s\n", c->name, *err ? err : strerror(-rc));
		return 1;
	}
	return 0;
}
