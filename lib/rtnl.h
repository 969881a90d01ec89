/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libnl-3's core, as every layer of cmc speaks it (drivers/kernel_nl.c:
 * the kernel PF's VF settings; mgmt-proc/mp-blade-netns.c: the blades' namespaces): one
 * way to open the socket, with every answer waited for at most a bound, and one way back
 * from libnl's NLE_* codes to errnos.
 */
#ifndef CMC_RTNL_H
#define CMC_RTNL_H

#include <netlink/netlink.h>
#include <netlink/socket.h>

/*
 * A NETLINK_ROUTE socket of the caller's network namespace on which each receive waits
 * at most timeout_ms (SO_RCVTIMEO; expiry reads as -ETIMEDOUT). 0 or -errno.
 */
int cmc_rtnl_open(unsigned timeout_ms, struct nl_sock **out);
/* libnl's error (NLE_*, either sign) as a negative errno; 0 for NLE_SUCCESS, -EIO for
 * one without a likely errno. */
int cmc_rtnl_errno(int nle);

#endif
