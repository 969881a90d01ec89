/* SPDX-License-Identifier: MIT */
/*
 * Blade mapping: the backend table, and the checks every backend relies on. Names are
 * checked here, strictly, because they end up in paths (/run/netns/<blade>) and in
 * interface names, where the kernel would accept more than is safe: "../x" as a blade,
 * or "lane%d" as an interface, which the kernel treats as a pattern to fill in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp-blade-priv.h"
#include "errf.h"

static const struct mp_blade_ops *const backends[] = {
	&mp_blade_netns_ops,
};

int mp_blade_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = cmc_verrf(err, errlen, rc, fmt, ap);
	va_end(ap);
	return rc;
}

static bool name_ok(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (n >= max || (!alnum && !strchr(extra, c)))
			return false;
	}
	return n > 0;
}

static int check_blade(const char *blade, char *err, size_t errlen)
{
	if (!blade || !name_ok(blade, MP_BLADE_NAME_MAX, "_-"))
		return mp_blade_fail(err, errlen, -EINVAL,
				     "bad blade name \"%s\": 1..%d of A-Z a-z 0-9 _ -",
				     blade ? blade : "(null)", MP_BLADE_NAME_MAX);
	return 0;
}

static int check_ifname(const char *ifname, char *err, size_t errlen)
{
	if (!ifname || !name_ok(ifname, MP_BLADE_IFNAME_MAX, "_.-") ||
	    !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return mp_blade_fail(err, errlen, -EINVAL,
				     "bad interface name \"%s\": 1..%d of A-Z a-z 0-9 _ . -",
				     ifname ? ifname : "(null)", MP_BLADE_IFNAME_MAX);
	return 0;
}

/* Canonical form into out (MP_BDF_STRLEN), so backends compare it with sysfs names. */
static int check_bdf(const char *bdf, char *out, char *err, size_t errlen)
{
	struct mp_bdf b;

	if (!bdf || mp_bdf_parse(bdf, &b))
		return mp_blade_fail(err, errlen, -EINVAL,
				     "bad PCI address \"%s\": want dddd:bb:dd.f or bb:dd.f",
				     bdf ? bdf : "(null)");
	mp_bdf_str(&b, out);
	return 0;
}

/* "a.b.c.d/len", len 1..32, nothing else: inet_pton alone takes no prefix. */
static int check_cidr(const char *cidr, struct mp_blade_cidr *out, char *err, size_t errlen)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = cidr ? strchr(cidr, '/') : NULL;
	char *end;
	unsigned long len;

	if (!slash || (size_t)(slash - cidr) >= sizeof(ip))
		goto bad;
	memcpy(ip, cidr, (size_t)(slash - cidr));
	ip[slash - cidr] = 0;
	if (inet_pton(AF_INET, ip, &out->addr) != 1 || slash[1] < '0' || slash[1] > '9')
		goto bad;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len < 1 || len > 32)
		goto bad;
	out->prefix = (unsigned)len;
	return 0;
bad:
	return mp_blade_fail(err, errlen, -EINVAL, "bad address \"%s\": want a.b.c.d/len (len 1..32)",
			     cidr ? cidr : "(null)");
}

int mp_blade_backend_open(const char *kind, struct mp_blade_backend **out, char *err, size_t errlen)
{
	*out = NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (kind && !strcmp(kind, backends[i]->kind))
			return backends[i]->open(out, err, errlen);
	return mp_blade_fail(err, errlen, -ENOENT, "no blade backend \"%s\" (have: netns)",
			     kind ? kind : "(null)");
}

void mp_blade_backend_close(struct mp_blade_backend *be)
{
	if (be)
		be->ops->close(be);
}

const char *mp_blade_backend_kind(const struct mp_blade_backend *be)
{
	return be->ops->kind;
}

int mp_blade_create(struct mp_blade_backend *be, const char *blade, char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	return rc ? rc : be->ops->create(be, blade, err, errlen);
}

int mp_blade_map(struct mp_blade_backend *be, const char *bdf, const char *blade,
		 const char *ifname, char *err, size_t errlen)
{
	char canon[MP_BDF_STRLEN];
	int rc = check_bdf(bdf, canon, err, errlen);

	if (!rc)
		rc = check_blade(blade, err, errlen);
	if (!rc)
		rc = check_ifname(ifname, err, errlen);
	return rc ? rc : be->ops->map(be, canon, blade, ifname, err, errlen);
}

int mp_blade_unmap(struct mp_blade_backend *be, const char *bdf, const char *blade,
		   const char *ifname, char *err, size_t errlen)
{
	char canon[MP_BDF_STRLEN];
	int rc = check_bdf(bdf, canon, err, errlen);

	if (!rc)
		rc = check_blade(blade, err, errlen);
	if (!rc)
		rc = check_ifname(ifname, err, errlen);
	return rc ? rc : be->ops->unmap(be, canon, blade, ifname, err, errlen);
}

int mp_blade_netdev(struct mp_blade_backend *be, const char *blade, const char *ifname,
		    struct mp_blade_netdev *out, char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = check_ifname(ifname, err, errlen);
	return rc ? rc : be->ops->netdev(be, blade, ifname, out, err, errlen);
}

int mp_blade_spawn(struct mp_blade_backend *be, const char *blade, const char *const argv[],
		   const char *log_path, char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	if (rc)
		return rc;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return mp_blade_fail(err, errlen, -EINVAL, "a program to start needs a full path");
	if (!be->ops->spawn)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP,
				     "the %s backend cannot start programs on a blade", be->ops->kind);
	return be->ops->spawn(be, blade, argv, log_path, err, errlen);
}

int mp_blade_spawn_child(struct mp_blade_backend *be, const char *blade, const char *const argv[],
			 const char *log_path, int *pid, char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	*pid = 0;
	if (rc)
		return rc;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return mp_blade_fail(err, errlen, -EINVAL, "a program to start needs a full path");
	if (!be->ops->spawn_child)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP,
				     "the %s backend cannot start programs on a blade", be->ops->kind);
	return be->ops->spawn_child(be, blade, argv, log_path, pid, err, errlen);
}

int mp_blade_run(struct mp_blade_backend *be, const char *blade, const char *const argv[], const char *input,
		 unsigned timeout_ms, char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	if (rc)
		return rc;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return mp_blade_fail(err, errlen, -EINVAL, "a program to run needs a full path");
	if (timeout_ms < 1 || timeout_ms > MP_BLADE_RUN_TIMEOUT_MAX)
		return mp_blade_fail(err, errlen, -EINVAL, "a run is bounded by 1..%d ms", MP_BLADE_RUN_TIMEOUT_MAX);
	if (!be->ops->run)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP, "the %s backend cannot run programs on a blade",
				     be->ops->kind);
	return be->ops->run(be, blade, argv, input, timeout_ms, err, errlen);
}

int mp_blade_watch_open(struct mp_blade_backend *be, const char *blade, int *fd, char *err,
			size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	*fd = -1;
	if (rc)
		return rc;
	if (!be->ops->watch_open)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP, "the %s backend reports no link changes",
				     be->ops->kind);
	return be->ops->watch_open(be, blade, fd, err, errlen);
}

int mp_blade_watch_read(struct mp_blade_backend *be, int fd, mp_blade_link_fn fn, void *arg)
{
	if (!be->ops->watch_read)
		return -EOPNOTSUPP;
	return be->ops->watch_read(be, fd, fn, arg);
}

int mp_blade_set_up(struct mp_blade_backend *be, const char *blade, const char *ifname, bool up,
		    char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	if (!rc)
		rc = check_ifname(ifname, err, errlen);
	if (rc)
		return rc;
	if (!be->ops->set_up)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP,
				     "the %s backend cannot reach into a blade", be->ops->kind);
	return be->ops->set_up(be, blade, ifname, up, err, errlen);
}

int mp_blade_set_addr(struct mp_blade_backend *be, const char *blade, const char *ifname,
		      const char *cidr, char *err, size_t errlen)
{
	struct mp_blade_cidr c;
	int rc = check_blade(blade, err, errlen);

	if (!rc)
		rc = check_ifname(ifname, err, errlen);
	if (!rc)
		rc = check_cidr(cidr, &c, err, errlen);
	if (rc)
		return rc;
	if (!be->ops->set_addr)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP,
				     "the %s backend cannot set addresses inside a blade", be->ops->kind);
	return be->ops->set_addr(be, blade, ifname, &c, err, errlen);
}

int mp_blade_vmport_add(struct mp_blade_backend *be, const char *blade, const char *vf_ifname,
			const char *bridge, const char *tap, const uint8_t mac[6], char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	if (!rc)
		rc = check_ifname(vf_ifname, err, errlen);
	if (!rc)
		rc = check_ifname(bridge, err, errlen);
	if (!rc)
		rc = check_ifname(tap, err, errlen);
	if (!rc && (!mac || (mac[0] & 1)))
		rc = mp_blade_fail(err, errlen, -EINVAL, "a VM's port needs the VM's unicast MAC");
	if (rc)
		return rc;
	if (!be->ops->vmport_add)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP,
				     "the %s backend cannot build bridges inside a blade", be->ops->kind);
	return be->ops->vmport_add(be, blade, vf_ifname, bridge, tap, mac, err, errlen);
}

int mp_blade_vmport_del(struct mp_blade_backend *be, const char *blade, const char *bridge, const char *tap,
			char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	if (!rc)
		rc = check_ifname(bridge, err, errlen);
	if (!rc)
		rc = check_ifname(tap, err, errlen);
	if (rc)
		return rc;
	if (!be->ops->vmport_del)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP,
				     "the %s backend cannot build bridges inside a blade", be->ops->kind);
	return be->ops->vmport_del(be, blade, bridge, tap, err, errlen);
}

int mp_blade_health(struct mp_blade_backend *be, const char *blade, bool *up, char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	if (rc)
		return rc;
	if (!be->ops->health)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP, "%s blades: no health", be->ops->kind);
	return be->ops->health(be, blade, up, err, errlen);
}

int mp_blade_power_off(struct mp_blade_backend *be, const char *blade, char *err, size_t errlen)
{
	int rc = check_blade(blade, err, errlen);

	if (rc)
		return rc;
	if (!be->ops->power_off)
		return mp_blade_fail(err, errlen, -EOPNOTSUPP, "%s blades: no power control", be->ops->kind);
	return be->ops->power_off(be, blade, err, errlen);
}
