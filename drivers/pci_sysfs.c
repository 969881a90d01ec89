/* SPDX-License-Identifier: MIT */
#include "pci_sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCI_DEVICES "/sys/bus/pci/devices"

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int link_basename(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	const char *slash = strrchr(target, '/');
	snprintf(buf, len, "%s", slash ? slash + 1 : target);
	return 0;
}

int pci_sysfs_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	rc = link_basename(path, buf, len);
	if (rc == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return rc;
}

int pci_sysfs_bind(const char *bdf, const char *driver)
{
	char path[PATH_MAX], current[64];
	int rc = pci_sysfs_driver(bdf, current, sizeof(current));

	if (rc)
		return rc;
	if (strcmp(current, driver) == 0)
		return 0;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", bdf);
	rc = write_file(path, driver);
	if (rc)
		return rc;
	if (*current) {
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver/unbind", bdf);
		rc = write_file(path, bdf);
		if (rc && rc != -ENODEV)
			return rc;
	}
	/* drivers_probe binds synchronously: the driver holds it when the write returns. */
	rc = write_file("/sys/bus/pci/drivers_probe", bdf);
	if (rc)
		return rc;
	rc = pci_sysfs_driver(bdf, current, sizeof(current));
	if (rc)
		return rc;
	return strcmp(current, driver) == 0 ? 0 : -ENXIO;
}

int pci_sysfs_numvfs(const char *bdf, unsigned *out)
{
	char path[PATH_MAX], buf[32];
	int rc;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/sriov_numvfs", bdf);
	rc = read_file(path, buf, sizeof(buf));
	if (rc)
		return rc;
	*out = (unsigned)strtoul(buf, NULL, 10);
	return 0;
}

int pci_sysfs_set_numvfs(const char *bdf, unsigned n)
{
	char path[PATH_MAX], value[16];
	unsigned now;
	int rc = pci_sysfs_numvfs(bdf, &now);

	if (rc)
		return rc;
	if (now == n)
		return 0;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/sriov_numvfs", bdf);
	/* The kernel refuses m -> n with EBUSY unless one of them is 0. */
	if (now && n) {
		rc = write_file(path, "0");
		if (rc)
			return rc;
	}
	snprintf(value, sizeof(value), "%u", n);
	return write_file(path, value);
}

int pci_sysfs_vf_bdf(const char *pf, unsigned n, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/virtfn%u", pf, n);
	return link_basename(path, buf, len);
}

int pci_sysfs_pf_bdf(const char *vf, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/physfn", vf);
	return link_basename(path, buf, len);
}

int pci_sysfs_netdev(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;

	buf[0] = '\0';
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/net", bdf);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(buf, len, "%s", e->d_name);
		break;
	}
	closedir(d);
	return 0;
}
