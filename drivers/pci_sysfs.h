/* SPDX-License-Identifier: MIT */
/*
 * PCI functions through sysfs (private to drivers/): which driver holds a function,
 * handing it to another (driver_override), and the SR-IOV VF count with the kernel's
 * rules hidden: a count changes only through 0, and VFs appear asynchronously.
 */
#ifndef CMC_DRV_PCI_SYSFS_H
#define CMC_DRV_PCI_SYSFS_H

#include <stddef.h>

/* The driver bound to bdf ("" when none). */
int pci_sysfs_driver(const char *bdf, char *buf, size_t len) __attribute__((warn_unused_result));

/* Bind bdf to `driver` (e.g. "vfio-pci", "igbvf"), unbinding whatever holds it. */
int pci_sysfs_bind(const char *bdf, const char *driver) __attribute__((warn_unused_result));

/* sriov_numvfs, read and written (0 first when going from m to n, both non-zero). */
int pci_sysfs_numvfs(const char *bdf, unsigned *out) __attribute__((warn_unused_result));
int pci_sysfs_set_numvfs(const char *bdf, unsigned n) __attribute__((warn_unused_result));

/* The BDF of VF n of PF bdf (virtfnN), into buf. -ENOENT if there is none. */
int pci_sysfs_vf_bdf(const char *pf, unsigned n, char *buf, size_t len)
	__attribute__((warn_unused_result));

/* The BDF of the PF of VF vf (physfn), into buf. -ENOENT if vf is no VF. */
int pci_sysfs_pf_bdf(const char *vf, char *buf, size_t len) __attribute__((warn_unused_result));

/* The netdev of a function ("" when none). */
int pci_sysfs_netdev(const char *bdf, char *buf, size_t len) __attribute__((warn_unused_result));

#endif
