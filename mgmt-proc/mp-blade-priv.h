/* SPDX-License-Identifier: MIT */
/*
 * Blade mapping internals: the ops table a backend fills in. mp-blade.c checks every
 * name and address before a backend sees it, so backends get canonical, valid input.
 */
#ifndef CMC_MP_BLADE_PRIV_H
#define CMC_MP_BLADE_PRIV_H

#include <netinet/in.h>
#include <stddef.h>

#include "blade.h"

struct mp_blade_cidr {
	struct in_addr addr;
	unsigned prefix;	/* 1..32 */
};

/* bdf is canonical ("dddd:bb:dd.f", as sysfs and the kernel name the function). */
struct mp_blade_ops {
	const char *kind;
	int (*open)(struct mp_blade_backend **out, char *err, size_t errlen);
	void (*close)(struct mp_blade_backend *be);
	int (*create)(struct mp_blade_backend *be, const char *blade, char *err, size_t errlen);
	int (*map)(struct mp_blade_backend *be, const char *bdf, const char *blade,
		   const char *ifname, char *err, size_t errlen);
	int (*unmap)(struct mp_blade_backend *be, const char *bdf, const char *blade,
		     const char *ifname, char *err, size_t errlen);
	int (*netdev)(struct mp_blade_backend *be, const char *blade, const char *ifname,
		      struct mp_blade_netdev *out, char *err, size_t errlen);
	/* NULL: the backend cannot reach into a blade (-EOPNOTSUPP). */
	int (*set_addr)(struct mp_blade_backend *be, const char *blade, const char *ifname,
			const struct mp_blade_cidr *cidr, char *err, size_t errlen);
	/* NULL: the backend cannot start programs on a blade. */
	int (*spawn)(struct mp_blade_backend *be, const char *blade, const char *const argv[],
		     const char *log_path, char *err, size_t errlen);
	int (*spawn_child)(struct mp_blade_backend *be, const char *blade, const char *const argv[],
			   const char *log_path, int *pid, char *err, size_t errlen);
	/* NULL: the backend cannot run programs on a blade. */
	int (*run)(struct mp_blade_backend *be, const char *blade, const char *const argv[], const char *input,
		   unsigned timeout_ms, char *err, size_t errlen);
	/* NULL: as for set_addr. */
	int (*set_up)(struct mp_blade_backend *be, const char *blade, const char *ifname, bool up,
		      char *err, size_t errlen);
	/* NULL: as for set_addr. */
	int (*vmport_add)(struct mp_blade_backend *be, const char *blade, const char *vf_ifname,
			  const char *bridge, const char *tap, const uint8_t mac[6], char *err, size_t errlen);
	int (*vmport_del)(struct mp_blade_backend *be, const char *blade, const char *bridge,
			  const char *tap, char *err, size_t errlen);
	/* NULL: no stream of link changes (-EOPNOTSUPP). */
	int (*watch_open)(struct mp_blade_backend *be, const char *blade, int *fd, char *err,
			  size_t errlen);
	int (*watch_read)(struct mp_blade_backend *be, int fd, mp_blade_link_fn fn, void *arg);
	/* NULL: the backend cannot tell a blade's health, or power it (-EOPNOTSUPP). */
	int (*health)(struct mp_blade_backend *be, const char *blade, bool *up, char *err, size_t errlen);
	int (*power_off)(struct mp_blade_backend *be, const char *blade, char *err, size_t errlen);
};

/* Embedded in each backend's own state, which it recovers with offsetof. */
struct mp_blade_backend {
	const struct mp_blade_ops *ops;
};

extern const struct mp_blade_ops mp_blade_netns_ops;

/* snprintf into err unless err is NULL; returns rc so a failure reads `return mp_blade_fail(...)`. */
int mp_blade_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
