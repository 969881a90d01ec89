/* SPDX-License-Identifier: MIT */
/*
 * kernel backend internals (private to drivers/ and its unit test): the rtnetlink
 * messages it builds and parses, the NLE_* -> errno conversion, and the transport.
 * Everything here returns 0 or a negative errno.
 */
#ifndef CMC_DRV_KERNEL_NL_H
#define CMC_DRV_KERNEL_NL_H

#include "nic.h"

#include <netlink/msg.h>
#include <stdbool.h>
#include <stdint.h>

#define KNL_WUR __attribute__((warn_unused_result))
#define KNL_RECV_TIMEOUT_MS 2000	/* a wedged kernel must not hang the daemon */

/* The VF settings, one RTM_SETLINK each, in the order vf_configure sends them. */
enum knl_setting {
	KNL_SET_MAC,		/* IFLA_VF_MAC */
	KNL_SET_VLAN,		/* IFLA_VF_VLAN (port VLAN, qos 0) */
	KNL_SET_RATE,		/* IFLA_VF_RATE (max; min 0) */
	KNL_SET_SPOOFCHK,	/* IFLA_VF_SPOOFCHK */
	KNL_SET_TRUST,		/* IFLA_VF_TRUST */
	KNL_SET_LINK_STATE,	/* IFLA_VF_LINK_STATE */
	KNL_SET_COUNT
};

/* "mac", "vlan", "rate", "spoofchk", "trust", "link-state"; "?" if out of range. */
const char *knl_setting_name(enum knl_setting s);


/*
 * RTM_SETLINK on ifindex carrying IFLA_VFINFO_LIST > IFLA_VF_INFO > one setting of
 * VF vf taken from cfg. The caller frees *out with nlmsg_free.
 */
int knl_build_vf_setting(int ifindex, unsigned vf, enum knl_setting s,
			 const struct nic_vf_config *cfg, struct nl_msg **out) KNL_WUR;
/* RTM_GETLINK of ifindex asking for the VF list (IFLA_EXT_MASK RTEXT_FILTER_VF). */
int knl_build_getlink(int ifindex, struct nl_msg **out) KNL_WUR;
/* RTM_SETLINK setting IFF_UP (only that flag) on ifindex. */
int knl_build_set_up(int ifindex, struct nl_msg **out) KNL_WUR;

/* What the kernel says about one VF (present: it was in IFLA_VFINFO_LIST). */
struct knl_vf_state {
	bool present, has_stats, has_rate, has_link_state;
	uint32_t max_tx_rate;
	uint32_t link_state;		/* IFLA_VF_LINK_STATE_* */
	struct nic_stats stats;
};

/*
 * Whether vf_configure sends setting s, given the VF's state now: MAC, VLAN, spoof
 * check and trust always; the rate and the link state only when the policy or the
 * current value is not the default (unlimited, auto).
 */
bool knl_setting_wanted(const struct knl_vf_state *now, enum knl_setting s,
			const struct nic_vf_config *c);

/* A parsed RTM_NEWLINK. */
struct knl_link {
	int ifindex;
	unsigned flags;			/* IFF_* */
	bool has_stats64;
	struct nic_stats port;		/* IFLA_STATS64: totals, not cleared on read */
	struct knl_vf_state vf[NIC_MAX_VFS];
};

/* Parses an RTM_NEWLINK; -EINVAL if it is not one or is truncated. */
int knl_parse_link(struct nlmsghdr *nlh, struct knl_link *out) KNL_WUR;

/*
 * Sends msg on a fresh NETLINK_ROUTE socket and waits (at most KNL_RECV_TIMEOUT_MS per
 * receive) for the kernel's answer. *refused says whether an error is the kernel's
 * answer (its errno, unchanged) rather than a transport failure.
 */
int knl_request(struct nl_msg *msg, bool *refused) KNL_WUR;
/* RTM_GETLINK of ifindex, parsed. */
int knl_get_link(int ifindex, struct knl_link *out, bool *refused) KNL_WUR;

#endif
