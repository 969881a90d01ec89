/* SPDX-License-Identifier: MIT */
/*
 * mgmt-proc: blade mapping. Puts a PCI function (an SR-IOV VF) into a blade's
 * hierarchy and takes it out again, behind one ops table so that real switch firmware
 * (a Switchtec-style bind/unbind of a function to a host port) can be added later.
 *
 *   netns   the emulated chassis: a blade is a network namespace bound at
 *           /run/netns/<blade> (where `ip netns` keeps them: `ip -n blade1 link` works).
 *           Mapping moves the VF's netdev into it under the name the chassis chose.
 *
 * Functions return 0 or a negative errno and never print, exit or abort; when they
 * fail they write what went wrong into (err, errlen) if err is not NULL. Every kernel
 * exchange is bounded (MP_BLADE_TIMEOUT_MS per answer). A backend is used from one
 * thread at a time; the netns backend never moves the calling thread out of its own
 * network namespace (it works in other namespaces from short-lived helper threads).
 *
 * Names: a blade is [A-Za-z0-9_-], 1..MP_BLADE_NAME_MAX characters; an interface is
 * [A-Za-z0-9_.-], 1..MP_BLADE_IFNAME_MAX characters and not "." or "..". PCI addresses
 * as mp_bdf_parse() takes them ("0000:05:10.0" or "05:10.0").
 */
#ifndef CMC_MP_BLADE_H
#define CMC_MP_BLADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mp.h"

#define MP_BLADE_NAME_MAX 32
#define MP_BLADE_IFNAME_MAX 15	/* IFNAMSIZ - 1 */
#define MP_BLADE_TIMEOUT_MS 2000

struct mp_blade_backend;

/* kind: "netns". -ENOENT for an unknown kind, -ENOMEM. */
int mp_blade_backend_open(const char *kind, struct mp_blade_backend **out, char *err,
			  size_t errlen) MP_WUR;
void mp_blade_backend_close(struct mp_blade_backend *be);
const char *mp_blade_backend_kind(const struct mp_blade_backend *be);

/*
 * Makes the blade exist; idempotent. netns: creates /run/netns/<blade> unless it is
 * there already (a stale empty file from a crash is reused) and brings its loopback up.
 * -EINVAL for a bad name.
 */
int mp_blade_create(struct mp_blade_backend *be, const char *blade, char *err,
		    size_t errlen) MP_WUR;

/*
 * Maps the VF at bdf into the blade as ifname, up. netns: the VF must be bound to its
 * netdev driver (igbvf); its netdev is found by its parent device, wherever it is
 * named, moved into the blade, renamed and set up. Idempotent: already there as ifname
 * -> 0 (set up if it was down). Errors:
 *   -EINVAL  bad name or address, or bdf is not a VF
 *   -ENODEV  no PCI function at bdf
 *   -ENOENT  no such blade (mp_blade_create first)
 *   -EAGAIN  the VF has no netdev yet (its driver is still probing, or it has none):
 *            retry when one appears
 *   -EEXIST  the blade has another interface called ifname
 *   -EBUSY   the VF is mapped into another blade
 */
int mp_blade_map(struct mp_blade_backend *be, const char *bdf, const char *blade,
		 const char *ifname, char *err, size_t errlen) MP_WUR;

/*
 * The reverse: takes the VF out of the blade, down, back to the daemon's own network
 * namespace under its name (or, if that name is taken there, a free ethN). 0 when the
 * VF is not in the blade at all or the blade does not exist. netns: the VF is found in
 * the blade by its parent device, whatever it is called there; ifname is not checked.
 */
int mp_blade_unmap(struct mp_blade_backend *be, const char *bdf, const char *blade,
		   const char *ifname, char *err, size_t errlen) MP_WUR;

struct mp_blade_netdev {
	bool present;		/* the blade has an interface called ifname */
	bool up, carrier;	/* IFF_UP, IFF_LOWER_UP */
	uint8_t mac[6];
	unsigned ifindex;	/* in the blade's namespace */
	char bdf[MP_BDF_STRLEN];	/* its PCI function, "" if it has none */
};

/* What the blade's ifname is. 0 with present false if there is none; -ENOENT: no blade. */
int mp_blade_netdev(struct mp_blade_backend *be, const char *blade, const char *ifname,
		    struct mp_blade_netdev *out, char *err, size_t errlen) MP_WUR;

/*
 * Sets the one IPv4 address of ifname in the blade to cidr ("a.b.c.d/len", len 1..32),
 * removing any other IPv4 address it has; for the lanes between blades' hypervisors.
 * -ENODEV: the blade has no ifname. -EOPNOTSUPP for a backend that cannot reach into
 * the blade (real firmware: the blade's own OS sets its addresses).
 */
int mp_blade_set_addr(struct mp_blade_backend *be, const char *blade, const char *ifname,
		      const char *cidr, char *err, size_t errlen) MP_WUR;

/*
 * Takes ifname in the blade down or up (its addresses stay). The daemon brackets a VF
 * policy change with it: a VF driver that is down does not race the reset the change
 * causes, and bringing it up makes it ask the PF for its configuration afresh.
 * -ENODEV: the blade has no ifname. -EOPNOTSUPP: the backend cannot reach into blades.
 */
int mp_blade_set_up(struct mp_blade_backend *be, const char *blade, const char *ifname, bool up,
		    char *err, size_t errlen) MP_WUR;

/*
 * A VM's port on the blade (US 9,218,303's virtual bridge, one per VM): a bridge
 * `bridge` joining the VF's netdev `vf_ifname` (mapped already) and a persistent tap
 * `tap` that the VM's hypervisor opens by name; everything up, no IPv6 address on the
 * bridge or the tap (they must not speak on the VF themselves). Learning is off on the
 * VF's port and `mac` (the VM's, unicast) is a static, sticky entry on the tap: the
 * emulated card hands a VF its own broadcasts back (QEMU's VEB), and a learning bridge
 * would then move the VM's MAC onto the VF's port. With one VF per bridge, frames cannot
 * loop between a blade's VFs. Idempotent (what is there already is kept and completed).
 * -ENODEV: the blade has no vf_ifname; -ENOENT: no such blade; -EOPNOTSUPP: the backend
 * cannot reach into blades (switch firmware: the blade's own OS builds its bridge).
 */
int mp_blade_vmport_add(struct mp_blade_backend *be, const char *blade, const char *vf_ifname,
			const char *bridge, const char *tap, const uint8_t mac[6], char *err,
			size_t errlen) MP_WUR;
/* Removes a VM's port: the bridge and the tap (the VF's netdev stays in the blade, out of
 * the bridge). 0 when neither is there or the blade does not exist. */
int mp_blade_vmport_del(struct mp_blade_backend *be, const char *blade, const char *bridge,
			const char *tap, char *err, size_t errlen) MP_WUR;

/*
 * Runs a program on the blade and waits for it, at most timeout_ms (1..60000): netns runs
 * argv[0] (a full path) inside the blade's namespace with `input` (may be NULL) on its
 * stdin, e.g. `nft -f -` with a ruleset. 0 when it exited 0; -EIO when it exited
 * otherwise or was killed (err holds what it printed, its first 200 bytes, else its exit
 * status); -ETIMEDOUT when it ran longer (killed, reaped); -ENOENT: no such blade (or
 * program: err says which); -EOPNOTSUPP: the backend cannot run programs on a blade.
 */
#define MP_BLADE_RUN_TIMEOUT_MAX 60000
int mp_blade_run(struct mp_blade_backend *be, const char *blade, const char *const argv[], const char *input,
		 unsigned timeout_ms, char *err, size_t errlen) MP_WUR;

/*
 * Link changes inside a blade, for an event loop: *fd (non-blocking, close-on-exec) is
 * readable when an interface of the blade changed; mp_blade_watch_read() then takes
 * what is pending without waiting and calls fn once per interface reported, with its
 * state now (present false: it left or was deleted). fn gets ifname NULL when changes
 * were lost (the kernel's queue overflowed): the caller must look at every interface
 * again. Close *fd with close(2). -EOPNOTSUPP: the backend has no such stream (switch
 * firmware may not); -ENOENT: no such blade.
 */
typedef void (*mp_blade_link_fn)(void *arg, const char *ifname, bool present, bool up, bool carrier);
int mp_blade_watch_open(struct mp_blade_backend *be, const char *blade, int *fd, char *err,
			size_t errlen) MP_WUR;
/* 0 when everything pending was read (EAGAIN), or -errno (the fd is then useless). */
int mp_blade_watch_read(struct mp_blade_backend *be, int fd, mp_blade_link_fn fn, void *arg) MP_WUR;

/*
 * Starts a program on the blade (the blade's hypervisor, a VM): netns runs argv[0] (a
 * full path) inside the blade's namespace, detached (its own session, reparented to
 * init, stdin from /dev/null, stdout and stderr appended to log_path), so it outlives
 * the caller. Returns once it is exec'd or has failed to; the program reports its own
 * pid (a pidfile) if the caller needs it. -ENOENT: no such blade.
 */
int mp_blade_spawn(struct mp_blade_backend *be, const char *blade, const char *const argv[],
		   const char *log_path, char *err, size_t errlen) MP_WUR;

/*
 * Starts a program on the blade as the caller's child, for a supervisor that watches it
 * (a pidfd, SIGCHLD) and reaps it: netns runs argv[0] (a full path) in the blade's
 * namespace in a session of its own, stdin from /dev/null, stdout and stderr appended to
 * log_path, every signal unblocked, and SIGTERM sent to it when the calling thread ends
 * (PR_SET_PDEATHSIG: a supervisor that dies leaves no orphan to clash with the next).
 * Returns once it is exec'd (*pid set) or has failed to. -ENOENT: no such blade or program.
 */
int mp_blade_spawn_child(struct mp_blade_backend *be, const char *blade, const char *const argv[],
			 const char *log_path, int *pid, char *err, size_t errlen) MP_WUR;

/*
 * A blade's health: *up false when the blade is down. netns: the blade is down when
 * /run/netns/<blade> no longer names a network namespace (`ip netns del`: a test kills a
 * blade that way), or when its heartbeat is older than MP_HEARTBEAT_STALE_MS (its OS hung:
 * the namespace is still there). The heartbeat is the emulated blade OS's: a shell loop in
 * the blade's namespace that touches MP_HEARTBEAT_DIR/<blade>.<namespace inode> once a
 * second and writes its pid to MP_HEARTBEAT_DIR/<blade>.pid (SIGSTOP it to hang the
 * blade, SIGCONT to bring it back); the backend starts it with the namespace
 * (mp_blade_create) or when it first sees a namespace without one (one made again by
 * `ip netns add`: the blade booted). A namespace whose heartbeat cannot be started (no
 * /bin/sh) is judged by the namespace alone. When the name is gone the backend lets go of
 * the namespace it held, so the namespace can end and its VFs' netdevs come back to the
 * root namespace. Never blocks beyond a stat, an open and (once per namespace) starting
 * the heartbeat. -EOPNOTSUPP for a backend that cannot tell. doc/emulator.md.
 */
#define MP_HEARTBEAT_DIR "/run/cmc/heartbeat"
#define MP_HEARTBEAT_STALE_MS 5000
int mp_blade_health(struct mp_blade_backend *be, const char *blade, bool *up, char *err,
		    size_t errlen) MP_WUR;

/*
 * Powers the blade off: netns removes /run/netns/<blade> (what `ip netns del` does), so
 * the namespace ends once nothing else holds it (the caller closes its link watch first).
 * 0 also when the blade was off. Power on is mp_blade_create(). -EOPNOTSUPP as above.
 */
int mp_blade_power_off(struct mp_blade_backend *be, const char *blade, char *err,
		       size_t errlen) MP_WUR;

#endif
