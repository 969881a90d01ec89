/* SPDX-License-Identifier: MIT */
/*
 * A PCI function held through VFIO (private to drivers/): its IOMMU group and container,
 * its device fd, BAR mappings, config space and MSI-X eventfds. Linux
 * Documentation/driver-api/vfio.rst describes the sequence.
 */
#ifndef CMC_DRV_VFIO_H
#define CMC_DRV_VFIO_H

#include <stddef.h>
#include <stdint.h>

struct vfio_dev;

/* err (errlen bytes) says what failed, in words for an admin. vf_token: the UUID
 * string a VF of a VFIO-owned PF must be opened with, or NULL. */
int vfio_dev_open(const char *bdf, const char *vf_token, struct vfio_dev **out, char *err,
		  size_t errlen)
	__attribute__((warn_unused_result));
void vfio_dev_close(struct vfio_dev *dev);

/* Map a memory BAR read/write; the mapping lives until close. */
int vfio_dev_map_bar(struct vfio_dev *dev, unsigned bar, volatile uint8_t **base, size_t *size)
	__attribute__((warn_unused_result));

int vfio_dev_cfg_read(struct vfio_dev *dev, unsigned off, void *buf, size_t len)
	__attribute__((warn_unused_result));
int vfio_dev_cfg_write(struct vfio_dev *dev, unsigned off, const void *buf, size_t len)
	__attribute__((warn_unused_result));

/* Tell vfio-pci the VF token (a UUID) that users of this PF's VFs must present. */
int vfio_dev_set_vf_token(struct vfio_dev *dev, const uint8_t uuid[16])
	__attribute__((warn_unused_result));

/* Route MSI-X vectors 0..n-1 to the given eventfds; n = 0 disables MSI-X. */
int vfio_dev_set_msix(struct vfio_dev *dev, unsigned n, const int *eventfds)
	__attribute__((warn_unused_result));

/*
 * An eventfd vfio-pci signals when the kernel wants the device back (hot-unplug): the
 * removal waits until the user closes the device. -1 stops the notifications.
 */
int vfio_dev_set_req_eventfd(struct vfio_dev *dev, int eventfd) __attribute__((warn_unused_result));

#endif
