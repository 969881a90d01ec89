/* SPDX-License-Identifier: MIT */
/*
 * The daemon's configuration file (libconfig syntax), loaded and validated in one go.
 *
 *   chassis = { name = "emulated"; };
 *   daemon  = { socket = "/run/cmc/cmcd.sock"; group = "cmc"; store = "/var/lib/cmc/state"; };
 *   blades  = ( { name = "blade1"; id = 1; }, ...,
 *               { name = "blade3"; id = 3; hypervisor = { args = ( "-device", "virtio-rng-pci" ); }; } );
 *   slots   = ( { slot = 1; policy = "shared"; vfs = 4; driver = "igb-vfio";
 *                 ports = ( { pf = 0; role = "midplane"; } ); },
 *               { slot = 2; policy = "dedicated"; blade = "blade2"; } );
 *   redfish = { address = "0.0.0.0"; port = 443; certificate = "/etc/cmc/rf.pem"; key = "..."; };
 *   templates = ( { name = "web"; id = 7; vlan = 100; rate = 50; trusted = false;
 *                   allow = ( "10.9.0.0/24", "02:cc:00:00:00:01" ); } );
 *
 * Every setting is checked: types, ranges, uniqueness, references, and unknown names at
 * every level (a typo such as `polcy` must stop the daemon, not be ignored). An error
 * names where it is and what was expected, in the form editors and grep understand:
 *
 *   conf/bad.conf:7: blades.[1].id: 0 is out of range 1..64
 *
 * The result is a plain read-only struct: configuration is data the whole daemon reads,
 * and accessor functions for each field would add nothing. Arrays are fixed-size because
 * the semantics bound them (64 blade ids, 256 slot numbers, 8 PFs per card).
 */
#ifndef CMC_CONFIG_H
#define CMC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "template.h"

#define CMC_CONFIG_NAME_MAX 32		/* chassis and blade names, group names */
#define CMC_CONFIG_BLADES_MAX 64	/* blade ids are 1..64 */
#define CMC_CONFIG_BLADE_ID_MAX 64
#define CMC_CONFIG_SLOTS_MAX 256	/* slot numbers are 0..255 */
#define CMC_CONFIG_SLOT_MAX 255
#define CMC_CONFIG_PORTS_MAX 8		/* pf 0..7 */
#define CMC_CONFIG_VFS_MAX 7		/* Linux igb enables at most 7 VFs per PF */
#define CMC_CONFIG_SOCKET_MAX 108	/* sizeof(sockaddr_un.sun_path), with the NUL */
#define CMC_CONFIG_PATH_MAX 4096
#define CMC_CONFIG_HV_PATH_MAX 256	/* a hypervisor's binary, with the NUL */
#define CMC_CONFIG_HV_ARGS_MAX 16	/* extra arguments of a blade's hypervisor */
#define CMC_CONFIG_HV_ARG_MAX 127	/* characters of one */

#define CMC_CONFIG_DEFAULT_SOCKET "/run/cmc/cmcd.sock"
#define CMC_CONFIG_DEFAULT_GROUP "cmc"
#define CMC_CONFIG_DEFAULT_STORE "/var/lib/cmc/state"

enum cmc_slot_policy {
	CMC_SLOT_SHARED,	/* the card's VFs are handed to blades */
	CMC_SLOT_DEDICATED,	/* the whole card belongs to one blade */
};

enum cmc_slot_driver {
	CMC_DRIVER_KERNEL,	/* the kernel's PF driver, driven over netlink (default) */
	CMC_DRIVER_IGB_VFIO,	/* cmc's own user-space PF driver over VFIO */
};

enum cmc_port_role {
	CMC_PORT_UPLINK,	/* cabled to the outside (default) */
	CMC_PORT_MIDPLANE,	/* internal loopback, link up whatever the cables do */
};

/*
 * How the VMs of a blade are run (vms.c): cmcd's own QEMU command line, from `binary`
 * (else $CMC_QEMU, else /usr/bin/qemu-system-x86_64), followed by `args`. The options
 * cmcd sets to drive the VM (-name, -m, -kernel, -qmp, -pidfile, -incoming, -S, -accel,
 * ...) are refused in args; anything else goes, such as the devices the blade's VMs get.
 */
struct cmc_config_hypervisor {
	char binary[CMC_CONFIG_HV_PATH_MAX];	/* "" = the default */
	unsigned argc;
	char args[CMC_CONFIG_HV_ARGS_MAX][CMC_CONFIG_HV_ARG_MAX + 1];
};

struct cmc_config_blade {
	char name[CMC_CONFIG_NAME_MAX + 1];
	unsigned id;			/* 1..64 */
	unsigned line;			/* where it is defined, for later messages */
	struct cmc_config_hypervisor hv;	/* optional: hypervisor = { binary; args; } */
	char spare[CMC_CONFIG_NAME_MAX + 1];	/* spare = "NAME": fails over there; "" = none */
};

struct cmc_config_port {
	unsigned pf;			/* 0..7 */
	enum cmc_port_role role;
};

struct cmc_config_slot {
	unsigned number;		/* 0..255 */
	enum cmc_slot_policy policy;
	unsigned vfs;			/* shared: VFs to enable per PF, 0..7; dedicated: 0 */
	enum cmc_slot_driver driver;
	const struct cmc_config_blade *blade;	/* dedicated: the owner; shared: NULL */
	bool keep_vfs;			/* leave the VFs enabled when cmcd stops (kernel driver) */
	unsigned port_count;
	struct cmc_config_port ports[CMC_CONFIG_PORTS_MAX];
	unsigned line;
};

/*
 * The Redfish service (redfish.h): enabled by a `redfish` group. HTTPS on address:port with
 * certificate and key (PEM files; both "" = a self-signed pair cmcd makes at the first
 * start and keeps beside the store). http_port: plain HTTP as well, on 127.0.0.1 only
 * (tests, a local proxy); 0 = none.
 */
#define CMC_CONFIG_ADDR_MAX 46			/* INET6_ADDRSTRLEN */
#define CMC_CONFIG_REDFISH_PORT 443
#define CMC_CONFIG_SESSION_TIMEOUT 1800		/* s */
#define CMC_CONFIG_EVENT_KEEPALIVE 15		/* s */
#define CMC_CONFIG_EVENT_RETRY_ATTEMPTS 3
#define CMC_CONFIG_EVENT_RETRY_INTERVAL 30	/* s */
struct cmc_config_redfish {
	bool enabled;
	char address[CMC_CONFIG_ADDR_MAX];	/* numeric IPv4 or IPv6; default 0.0.0.0 */
	unsigned port;				/* 1..65535 */
	char certificate[CMC_CONFIG_PATH_MAX];	/* "" = self-signed, kept in the state dir */
	char key[CMC_CONFIG_PATH_MAX];
	unsigned http_port;			/* 0 = no plain HTTP */
	unsigned session_timeout;		/* s of idleness that end a session, 30..86400 */
	unsigned event_keepalive;		/* s of silence before an SSE keep-alive, 1..300 */
	unsigned event_retry_attempts;		/* retries of a push event, 0..10 */
	unsigned event_retry_interval;		/* s before the first retry (then doubling), 1..3600 */
};

/*
 * A network template of the configuration (template.h): name, id (1..255, optional: the
 * lowest one no other template of the file has), vlan (1..3999, optional), rate (Mbit/s
 * 0..1000, optional), trusted (optional, false), allow (optional: a list of MACs and
 * IPv4 prefixes; absent or empty = every peer). The library the intent starts from;
 * `cmcctl template` changes it at run time (intent.h).
 */
#define CMC_CONFIG_TEMPLATES_MAX 64
struct cmc_config_template {
	struct cmc_template t;
	unsigned line;
};

struct cmc_config {
	char path[CMC_CONFIG_PATH_MAX];		/* the file it was loaded from */
	char chassis_name[CMC_CONFIG_NAME_MAX + 1];
	uint32_t chassis_id;			/* chassis.id; 0 = not configured (macs.h) */
	unsigned failover_grace;		/* chassis.failover_grace: s down before failed */
	char socket_path[CMC_CONFIG_SOCKET_MAX];
	char run_dir[CMC_CONFIG_SOCKET_MAX];	/* the socket's directory: run-time files */
	char socket_group[CMC_CONFIG_NAME_MAX + 1];	/* "" = leave the socket's group alone */
	char store_path[CMC_CONFIG_PATH_MAX];
	unsigned vm_port_idle_s;		/* daemon.vm_port_idle: a live VM port whose VF moved no
						 * frame this long (s) is deprovisioned; 0 = never */
	unsigned blade_count;			/* >= 1 */
	struct cmc_config_blade blades[CMC_CONFIG_BLADES_MAX];
	unsigned slot_count;
	struct cmc_config_slot slots[CMC_CONFIG_SLOTS_MAX];
	struct cmc_config_redfish redfish;
	unsigned template_count;
	struct cmc_config_template templates[CMC_CONFIG_TEMPLATES_MAX];
};

/*
 * Load and validate `path`. On success *out is a new config (free with cmc_config_free).
 * On failure *out is NULL, err holds one line ("file:line: setting: what was expected")
 * and the result is -EINVAL (bad content), -ENOMEM or the -errno of opening the file.
 */
int cmc_config_load(const char *path, struct cmc_config **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void cmc_config_free(struct cmc_config *cfg);

/* Lookups; NULL when there is no such blade or slot. */
const struct cmc_config_blade *cmc_config_blade_by_name(const struct cmc_config *cfg,
							const char *name);
const struct cmc_config_blade *cmc_config_blade_by_id(const struct cmc_config *cfg, unsigned id);
const struct cmc_config_slot *cmc_config_slot_by_number(const struct cmc_config *cfg,
							unsigned number);

/* The spelling used in the file ("shared", "igb-vfio", "midplane", ...). */
const char *cmc_slot_policy_name(enum cmc_slot_policy policy);
const char *cmc_slot_driver_name(enum cmc_slot_driver driver);
const char *cmc_port_role_name(enum cmc_port_role role);

/*
 * Write the effective configuration (defaults filled in) into buf in the file's own
 * syntax, so that `cmcd --check-config` can show it and loading it gives the same config.
 * Returns the length it needed, as snprintf does: >= len means buf was too small.
 */
size_t cmc_config_format(const struct cmc_config *cfg, char *buf, size_t len);

#endif
