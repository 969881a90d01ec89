/* SPDX-License-Identifier: MIT */
#include "vfio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define VFIO_MAX_BARS 6

struct vfio_bar {
	void *base;
	size_t size;
};

struct vfio_dev {
	int container, group_fd, fd;
	int group;
	uint64_t cfg_offset;
	struct vfio_bar bars[VFIO_MAX_BARS];
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ": %s", strerror(-rc));
	return rc;
}

static int iommu_group_of(const char *bdf, int *group)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	const char *slash = strrchr(link, '/');
	*group = atoi(slash ? slash + 1 : link);
	return 0;
}

static int open_container(struct vfio_dev *dev, char *err, size_t errlen)
{
	dev->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container < 0)
		return fail(err, errlen, -errno, "open /dev/vfio/vfio (is vfio loaded?)");
	if (ioctl(dev->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return fail(err, errlen, -EPROTO, "unexpected VFIO API version");
	if (ioctl(dev->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1)
		return fail(err, errlen, -ENOTSUP, "VFIO has no type1v2 IOMMU");
	return 0;
}

static int open_group(struct vfio_dev *dev, char *err, size_t errlen)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", dev->group);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0)
		return fail(err, errlen, -errno, "open %s", path);
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status) < 0)
		return fail(err, errlen, -errno, "VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return fail(err, errlen, -EBUSY,
			    "IOMMU group %d is not viable (another device in it is bound to a host driver)",
			    dev->group);
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container) < 0)
		return fail(err, errlen, -errno, "VFIO_GROUP_SET_CONTAINER");
	if (ioctl(dev->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		return fail(err, errlen, -errno, "VFIO_SET_IOMMU");
	return 0;
}

static int find_config_region(struct vfio_dev *dev, char *err, size_t errlen)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };

	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
		return fail(err, errlen, -errno, "config region");
	dev->cfg_offset = ri.offset;
	return 0;
}

int vfio_dev_open(const char *bdf, const char *vf_token, struct vfio_dev **out, char *err,
		  size_t errlen)
{
	char name[128];
	struct vfio_dev *dev = calloc(1, sizeof(*dev));
	int rc;

	if (!dev)
		return fail(err, errlen, -ENOMEM, "vfio");
	dev->container = dev->group_fd = dev->fd = -1;
	rc = iommu_group_of(bdf, &dev->group);
	if (rc) {
		fail(err, errlen, rc, "%s has no IOMMU group (is the IOMMU on?)", bdf);
		goto err_close;
	}
	rc = open_container(dev, err, errlen);
	if (!rc)
		rc = open_group(dev, err, errlen);
	if (rc)
		goto err_close;
	if (vf_token)
		snprintf(name, sizeof(name), "%s vf_token=%s", bdf, vf_token);
	else
		snprintf(name, sizeof(name), "%s", bdf);
	dev->fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, name);
	if (dev->fd < 0) {
		rc = -errno;
		/* vfio-pci says EACCES for a VF whose PF is held with a token, and a wrong or
		 * missing one (the kernel log says which). */
		fail(err, errlen, rc, "VFIO_GROUP_GET_DEVICE_FD %s (%s)", bdf,
		     rc != -EACCES ? "bound to vfio-pci?" :
		     vf_token ? "VF token refused" : "a VF token is required");
		goto err_close;
	}
	rc = find_config_region(dev, err, errlen);
	if (rc)
		goto err_close;
	*out = dev;
	return 0;
err_close:
	vfio_dev_close(dev);
	return rc;
}

void vfio_dev_close(struct vfio_dev *dev)
{
	if (!dev)
		return;
	for (unsigned i = 0; i < VFIO_MAX_BARS; i++)
		if (dev->bars[i].base)
			munmap(dev->bars[i].base, dev->bars[i].size);
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	if (dev->container >= 0)
		close(dev->container);
	free(dev);
}

int vfio_dev_map_bar(struct vfio_dev *dev, unsigned bar, volatile uint8_t **base, size_t *size)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = bar };
	void *p;

	if (bar >= VFIO_MAX_BARS)
		return -EINVAL;
	if (!dev->bars[bar].base) {
		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
			return -errno;
		if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) || ri.size == 0)
			return -ENOTSUP;
		p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, (off_t)ri.offset);
		if (p == MAP_FAILED)
			return -errno;
		dev->bars[bar] = (struct vfio_bar){ .base = p, .size = ri.size };
	}
	*base = dev->bars[bar].base;
	*size = dev->bars[bar].size;
	return 0;
}

int vfio_dev_cfg_read(struct vfio_dev *dev, unsigned off, void *buf, size_t len)
{
	ssize_t n = pread(dev->fd, buf, len, (off_t)(dev->cfg_offset + off));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_dev_cfg_write(struct vfio_dev *dev, unsigned off, const void *buf, size_t len)
{
	ssize_t n = pwrite(dev->fd, buf, len, (off_t)(dev->cfg_offset + off));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_dev_set_vf_token(struct vfio_dev *dev, const uint8_t uuid[16])
{
	/* struct vfio_device_feature ends in a flexible array: the UUID follows it. */
	union {
		struct vfio_device_feature hdr;
		uint8_t bytes[sizeof(struct vfio_device_feature) + 16];
	} ft;

	memset(&ft, 0, sizeof(ft));
	ft.hdr.argsz = sizeof(ft);
	ft.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	memcpy(ft.bytes + sizeof(struct vfio_device_feature), uuid, 16);
	return ioctl(dev->fd, VFIO_DEVICE_FEATURE, &ft) < 0 ? -errno : 0;
}

int vfio_dev_set_msix(struct vfio_dev *dev, unsigned n, const int *eventfds)
{
	size_t sz = sizeof(struct vfio_irq_set) + n * sizeof(int);
	struct vfio_irq_set *set = calloc(1, sz);
	int rc = 0;

	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)sz;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = n;
	set->flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		     (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	if (n)
		memcpy(set->data, eventfds, n * sizeof(int));
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set) < 0)
		rc = -errno;
	free(set);
	return rc;
}

int vfio_dev_set_req_eventfd(struct vfio_dev *dev, int eventfd)
{
	union {
		struct vfio_irq_set set;
		uint8_t bytes[sizeof(struct vfio_irq_set) + sizeof(int)];
	} irq;

	memset(&irq, 0, sizeof(irq));
	irq.set.argsz = sizeof(irq);
	irq.set.index = VFIO_PCI_REQ_IRQ_INDEX;
	irq.set.count = eventfd >= 0 ? 1 : 0;
	irq.set.flags = VFIO_IRQ_SET_ACTION_TRIGGER |
			(eventfd >= 0 ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	memcpy(irq.bytes + sizeof(struct vfio_irq_set), &eventfd, sizeof(int));
	return ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &irq) < 0 ? -errno : 0;
}
