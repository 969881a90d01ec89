/* SPDX-License-Identifier: MIT */
/*
 * The OS view of a function from sysfs (Documentation/ABI/testing/sysfs-bus-pci):
 * iommu_group and driver are symlinks whose last component is the answer, net/ holds
 * the netdev names, driver_override reads "(null)" when unset. Best effort: whatever
 * cannot be read stays unknown.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp-priv.h"

/* Copies s into out, cut to fit (sysfs names are far shorter than out). */
static void set_name(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

static void link_name(const char *dir, const char *entry, char *out, size_t outlen)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	out[0] = 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, entry) >= (int)sizeof(path))
		return;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	set_name(out, outlen, base);
}

static void first_netdev(const char *dir, char *out, size_t outlen)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	out[0] = 0;
	if (snprintf(path, sizeof(path), "%s/net", dir) >= (int)sizeof(path))
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		/* The smallest name, so that the answer does not depend on readdir order. */
		if (!out[0] || strcmp(e->d_name, out) < 0)
			set_name(out, outlen, e->d_name);
	}
	closedir(d);
}

static void read_override(const char *dir, char *out, size_t outlen)
{
	char path[PATH_MAX], buf[MP_OSNAME_LEN];
	ssize_t n;
	int fd;

	out[0] = 0;
	if (snprintf(path, sizeof(path), "%s/driver_override", dir) >= (int)sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (strcmp(buf, "(null)") != 0)
		set_name(out, outlen, buf);
}

void mp_os_read(const char *devices_dir, const struct mp_bdf *bdf, struct mp_os *os,
		struct mp_names *pool)
{
	char dir[PATH_MAX], group[32], bdfs[MP_BDF_STRLEN], name[MP_OSNAME_LEN];
	char *end;
	long g;

	*os = (struct mp_os){ .iommu_group = -1, .driver = "", .netdev = "", .driver_override = "" };
	if (snprintf(dir, sizeof(dir), "%s/%s", devices_dir, mp_bdf_str(bdf, bdfs)) >=
	    (int)sizeof(dir))
		return;
	link_name(dir, "iommu_group", group, sizeof(group));
	g = strtol(group, &end, 10);
	if (group[0] && !*end && g >= 0 && g <= INT_MAX)
		os->iommu_group = (int)g;
	link_name(dir, "driver", name, sizeof(name));
	os->driver = mp_names_add(pool, name);
	first_netdev(dir, name, sizeof(name));
	os->netdev = mp_names_add(pool, name);
	read_override(dir, name, sizeof(name));
	os->driver_override = mp_names_add(pool, name);
}

void mp_sysfs_fill(struct mp_snapshot *s, const char *devices_dir)
{
	for (size_t i = 0; i < s->nslots; i++)
		mp_os_read(devices_dir, &s->slots[i].port.bdf, &s->slots[i].port.os, &s->names);
	for (size_t i = 0; i < s->nfns; i++)
		mp_os_read(devices_dir, &s->fns[i].bdf, &s->fns[i].os, &s->names);
	for (size_t i = 0; i < s->nvfs; i++) {
		if (s->vfs[i].present)
			mp_os_read(devices_dir, &s->vfs[i].bdf, &s->vfs[i].os, &s->names);
	}
}
