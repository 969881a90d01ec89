/* SPDX-License-Identifier: MIT */
/*
 * kernel: the PF stays with its kernel driver (igb, or any SR-IOV NIC driver) and cmcd
 * configures its VFs the way `ip link set DEV vf N ...` does: RTM_SETLINK with
 * IFLA_VFINFO_LIST on the PF's netdev (rtnetlink, include/uapi/linux/if_link.h), and
 * sriov_numvfs in sysfs.
 *
 * Each VF setting goes in a request of its own, so that a refusal names the setting
 * the driver refused (igb has no link-state control: EOPNOTSUPP). Settings are not
 * transactional: those the driver accepted stay applied when another is refused, and
 * vf_configure then returns the first refusal (every refusal is also reported as
 * NIC_EV_VF_REFUSED). MAC, VLAN, spoof check and trust are always sent; the rate and
 * the link state only when the policy or the VF's current value is not the default,
 * so a driver lacking those controls is not asked to set what it cannot.
 *
 * Unlike igb-vfio, bind_vfs is synchronous: the kernel PF driver answers a VF driver's
 * probe itself, so binding here cannot wait on this process. No event fd; every
 * netlink exchange uses its own socket with a receive timeout (KNL_RECV_TIMEOUT_MS).
 * The libnl rtnl_link_vf_* helpers are not used: messages are built here, and libnl's
 * NLE_* codes are converted back to errno (the kernel's own errno where it answered).
 */
#include "kernel_nl.h"

#include "pci_sysfs.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/attr.h>

#include "rtnl.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

extern const struct nic_ops kernel_nl_ops;

struct knl_pf {
	struct nic nic;
	struct nic_params params;
	char vf_driver[32];
	char pf_driver[64];		/* "igb": named in refusals */
	char netdev[IF_NAMESIZE];
	int ifindex;
};


/* --- Errors ------------------------------------------------------------------------ */

static const char *const setting_names[KNL_SET_COUNT] = {
	[KNL_SET_MAC] = "mac",
	[KNL_SET_VLAN] = "vlan",
	[KNL_SET_RATE] = "rate",
	[KNL_SET_SPOOFCHK] = "spoofchk",
	[KNL_SET_TRUST] = "trust",
	[KNL_SET_LINK_STATE] = "link-state",
};

const char *knl_setting_name(enum knl_setting s)
{
	return (unsigned)s < KNL_SET_COUNT ? setting_names[s] : "?";
}

/* --- Messages ---------------------------------------------------------------------- */

static int begin_link_msg(int type, int ifindex, unsigned flags, unsigned change, struct nl_msg **out)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = flags, .ifi_change = change,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, 0);
	int rc;

	if (!msg)
		return -ENOMEM;
	rc = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (rc < 0) {
		nlmsg_free(msg);
		return cmc_rtnl_errno(rc);
	}
	*out = msg;
	return 0;
}

union vf_payload {
	struct ifla_vf_mac mac;
	struct ifla_vf_vlan vlan;
	struct ifla_vf_rate rate;
	struct ifla_vf_spoofchk spoofchk;
	struct ifla_vf_trust trust;
	struct ifla_vf_link_state link_state;
};

static int link_state_uapi(enum nic_link_state s, uint32_t *out)
{
	switch (s) {
	case NIC_LINK_AUTO: *out = IFLA_VF_LINK_STATE_AUTO; return 0;
	case NIC_LINK_ENABLE: *out = IFLA_VF_LINK_STATE_ENABLE; return 0;
	case NIC_LINK_DISABLE: *out = IFLA_VF_LINK_STATE_DISABLE; return 0;
	}
	return -EINVAL;
}

/* The attribute carrying setting s of VF vf: its type, payload and length. */
static int vf_payload(unsigned vf, enum knl_setting s, const struct nic_vf_config *c,
		      union vf_payload *p, int *type, size_t *len)
{
	memset(p, 0, sizeof(*p));
	switch (s) {
	case KNL_SET_MAC:
		p->mac.vf = vf;
		memcpy(p->mac.mac, c->mac, sizeof(c->mac));
		*type = IFLA_VF_MAC, *len = sizeof(p->mac);
		return 0;
	case KNL_SET_VLAN:
		p->vlan = (struct ifla_vf_vlan){ .vf = vf, .vlan = c->vlan, .qos = 0 };
		*type = IFLA_VF_VLAN, *len = sizeof(p->vlan);
		return c->vlan > 4095 ? -EINVAL : 0;
	case KNL_SET_RATE:
		p->rate = (struct ifla_vf_rate){ .vf = vf, .min_tx_rate = 0, .max_tx_rate = c->max_tx_rate_mbps };
		*type = IFLA_VF_RATE, *len = sizeof(p->rate);
		return 0;
	case KNL_SET_SPOOFCHK:
		p->spoofchk = (struct ifla_vf_spoofchk){ .vf = vf, .setting = c->spoofchk };
		*type = IFLA_VF_SPOOFCHK, *len = sizeof(p->spoofchk);
		return 0;
	case KNL_SET_TRUST:
		p->trust = (struct ifla_vf_trust){ .vf = vf, .setting = c->trusted };
		*type = IFLA_VF_TRUST, *len = sizeof(p->trust);
		return 0;
	case KNL_SET_LINK_STATE:
		p->link_state.vf = vf;
		*type = IFLA_VF_LINK_STATE, *len = sizeof(p->link_state);
		return link_state_uapi(c->link_state, &p->link_state.link_state);
	case KNL_SET_COUNT:
		break;
	}
	return -EINVAL;
}

int knl_build_vf_setting(int ifindex, unsigned vf, enum knl_setting s,
			 const struct nic_vf_config *cfg, struct nl_msg **out)
{
	union vf_payload p;
	struct nlattr *list, *info;
	struct nl_msg *msg;
	size_t len;
	int type, rc;

	rc = vf_payload(vf, s, cfg, &p, &type, &len);
	if (!rc)
		rc = begin_link_msg(RTM_SETLINK, ifindex, 0, 0, &msg);
	if (rc)
		return rc;
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	info = list ? nla_nest_start(msg, IFLA_VF_INFO) : NULL;
	rc = info ? cmc_rtnl_errno(nla_put(msg, type, (int)len, &p)) : -EMSGSIZE;
	if (rc) {
		nlmsg_free(msg);
		return rc;
	}
	nla_nest_end(msg, info);
	nla_nest_end(msg, list);
	*out = msg;
	return 0;
}

int knl_build_getlink(int ifindex, struct nl_msg **out)
{
	int rc = begin_link_msg(RTM_GETLINK, ifindex, 0, 0, out);

	if (rc)
		return rc;
	/* Without RTEXT_FILTER_VF the kernel leaves IFLA_VFINFO_LIST out. */
	rc = cmc_rtnl_errno(nla_put_u32(*out, IFLA_EXT_MASK, RTEXT_FILTER_VF));
	if (rc) {
		nlmsg_free(*out);
		*out = NULL;
	}
	return rc;
}

int knl_build_set_up(int ifindex, struct nl_msg **out)
{
	return begin_link_msg(RTM_SETLINK, ifindex, IFF_UP, IFF_UP, out);
}

/* --- Parsing RTM_NEWLINK ------------------------------------------------------------- */

/* The payload of a if it holds at least size bytes, else NULL. */
static const void *attr_struct(const struct nlattr *a, size_t size)
{
	return a && nla_len(a) >= (int)size ? nla_data(a) : NULL;
}

static uint64_t attr_u64(const struct nlattr *a)
{
	const void *p = attr_struct(a, sizeof(uint64_t));
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

static int parse_vf_stats(struct nlattr *a, struct nic_stats *st)
{
	struct nlattr *tb[IFLA_VF_STATS_MAX + 1];

	if (nla_parse_nested(tb, IFLA_VF_STATS_MAX, a, NULL) < 0)
		return -EINVAL;
	st->rx_packets = attr_u64(tb[IFLA_VF_STATS_RX_PACKETS]);
	st->tx_packets = attr_u64(tb[IFLA_VF_STATS_TX_PACKETS]);
	st->rx_bytes = attr_u64(tb[IFLA_VF_STATS_RX_BYTES]);
	st->tx_bytes = attr_u64(tb[IFLA_VF_STATS_TX_BYTES]);
	return 0;
}

/* One IFLA_VF_INFO; VFs beyond NIC_MAX_VFS and entries without an index are skipped. */
static void parse_vf_info(struct nlattr *info, struct knl_link *out)
{
	struct nlattr *tb[IFLA_VF_MAX + 1];
	const struct ifla_vf_mac *mac;
	const struct ifla_vf_rate *rate;
	const struct ifla_vf_link_state *ls;
	struct knl_vf_state *st;

	if (nla_type(info) != IFLA_VF_INFO || nla_parse_nested(tb, IFLA_VF_MAX, info, NULL) < 0)
		return;
	mac = attr_struct(tb[IFLA_VF_MAC], sizeof(*mac));
	if (!mac || mac->vf >= NIC_MAX_VFS)
		return;
	st = &out->vf[mac->vf];
	st->present = true;
	rate = attr_struct(tb[IFLA_VF_RATE], sizeof(*rate));
	if (rate) {
		st->has_rate = true;
		st->max_tx_rate = rate->max_tx_rate;
	}
	ls = attr_struct(tb[IFLA_VF_LINK_STATE], sizeof(*ls));
	if (ls) {
		st->has_link_state = true;
		st->link_state = ls->link_state;
	}
	if (tb[IFLA_VF_STATS])
		st->has_stats = parse_vf_stats(tb[IFLA_VF_STATS], &st->stats) == 0;
}

int knl_parse_link(struct nlmsghdr *nlh, struct knl_link *out)
{
	struct nlattr *tb[IFLA_MAX + 1], *info;
	struct rtnl_link_stats64 s64 = { 0 };
	const struct ifinfomsg *ifi;
	int rem;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(nlh, sizeof(*ifi)) ||
	    nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return -EINVAL;
	ifi = nlmsg_data(nlh);
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	/* Older kernels may send a shorter struct: the first four counters suffice. */
	if (attr_struct(tb[IFLA_STATS64], 4 * sizeof(uint64_t))) {
		size_t n = (size_t)nla_len(tb[IFLA_STATS64]);
		memcpy(&s64, nla_data(tb[IFLA_STATS64]), n < sizeof(s64) ? n : sizeof(s64));
		out->has_stats64 = true;
		out->port = (struct nic_stats){ .rx_packets = s64.rx_packets, .tx_packets = s64.tx_packets,
						.rx_bytes = s64.rx_bytes, .tx_bytes = s64.tx_bytes };
	}
	if (tb[IFLA_VFINFO_LIST])
		nla_for_each_nested(info, tb[IFLA_VFINFO_LIST], rem)
			parse_vf_info(info, out);
	return 0;
}

/* --- Transport ------------------------------------------------------------------- */

struct reply {
	int kernel_error;		/* the kernel's NLMSG_ERROR, as -errno */
	struct knl_link *link;		/* where an RTM_NEWLINK goes, or NULL: ack only */
	bool seen;
	int parsed;
};

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct reply *r = arg;

	(void)who;
	r->kernel_error = e->error < 0 ? e->error : -e->error;
	return NL_STOP;
}

static int on_link(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;

	if (r->seen)
		return NL_SKIP;
	r->seen = true;
	r->parsed = knl_parse_link(nlmsg_hdr(msg), r->link);
	return NL_STOP;
}

static int sock_open(struct nl_sock **out)
{
	return cmc_rtnl_open(KNL_RECV_TIMEOUT_MS, out);
}

static int transact(struct nl_msg *msg, struct reply *r, bool *refused)
{
	struct nl_sock *sk = NULL;
	int rc = sock_open(&sk);

	*refused = false;
	if (rc)
		return rc;
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, r);
	if (r->link) {
		/* The RTM_NEWLINK is the answer; an error still comes as NLMSG_ERROR. */
		nl_socket_disable_auto_ack(sk);
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link, r);
	}
	rc = nl_send_auto(sk, msg);
	if (rc >= 0)
		rc = r->link ? nl_recvmsgs_default(sk) : nl_wait_for_ack(sk);
	nl_socket_free(sk);
	if (r->kernel_error) {
		*refused = true;
		return r->kernel_error;
	}
	if (rc < 0)
		return cmc_rtnl_errno(rc);
	if (r->link)
		return r->seen ? r->parsed : -EPROTO;
	return 0;
}

int knl_request(struct nl_msg *msg, bool *refused)
{
	struct reply r = { 0 };

	return transact(msg, &r, refused);
}

int knl_get_link(int ifindex, struct knl_link *out, bool *refused)
{
	struct reply r = { .link = out };
	struct nl_msg *msg;
	int rc;

	memset(out, 0, sizeof(*out));
	*refused = false;
	rc = knl_build_getlink(ifindex, &msg);
	if (rc)
		return rc;
	rc = transact(msg, &r, refused);
	nlmsg_free(msg);
	return rc;
}

/* --- VFs ------------------------------------------------------------------------- */

static int knl_set_num_vfs(struct nic *nic, unsigned n, char *err, size_t errlen)
{
	struct knl_pf *pf = (struct knl_pf *)nic;
	unsigned now;
	int rc;

	if (n > NIC_MAX_VFS) {
		snprintf(err, errlen, "at most %u VFs per card, not %u", NIC_MAX_VFS, n);
		return -ERANGE;
	}
	rc = pci_sysfs_set_numvfs(nic->pf_bdf, n);
	/* Going m -> n passes through 0: whatever happened, record what the kernel has. */
	if (pci_sysfs_numvfs(nic->pf_bdf, &now) == 0)
		nic->num_vfs = now < NIC_MAX_VFS ? now : NIC_MAX_VFS;
	if (rc)
		snprintf(err, errlen, "sriov_numvfs=%u on %s (driver %s): %s", n, nic->pf_bdf,
			 pf->pf_driver, strerror(-rc));
	return rc;
}

/* VF vf to the configured driver unless it holds it already; msg says what failed. */
static int bind_vf(struct knl_pf *pf, unsigned vf, char *msg, size_t len)
{
	char bdf[32], cur[64];
	int rc = pci_sysfs_vf_bdf(pf->nic.pf_bdf, vf, bdf, sizeof(bdf));

	if (rc) {
		snprintf(msg, len, "VF %u of %s not found: %s", vf, pf->nic.pf_bdf, strerror(-rc));
		return rc;
	}
	rc = pci_sysfs_driver(bdf, cur, sizeof(cur));
	if (!rc && strcmp(cur, pf->vf_driver) == 0)
		return 0;
	if (!rc)
		rc = pci_sysfs_bind(bdf, pf->vf_driver);
	if (rc) {
		snprintf(msg, len, "VF %s: binding %s failed: %s", bdf, pf->vf_driver, strerror(-rc));
		return rc;
	}
	nic_report(&pf->params, NIC_EV_INFO, (int)vf, "VF %s bound to %s (was %s)", bdf, pf->vf_driver,
	       *cur ? cur : "unbound");
	return 0;
}

/* Synchronous (see the top of the file); every VF is tried, the first failure returned. */
static int knl_bind_vfs(struct nic *nic, char *err, size_t errlen)
{
	struct knl_pf *pf = (struct knl_pf *)nic;
	char msg[256];
	int first = 0;

	if (!*pf->vf_driver)
		return 0;
	for (unsigned vf = 0; vf < nic->num_vfs; vf++) {
		int rc = bind_vf(pf, vf, msg, sizeof(msg));
		if (!rc)
			continue;
		nic_report(&pf->params, NIC_EV_INFO, (int)vf, "%s", msg);
		if (!first) {
			first = rc;
			snprintf(err, errlen, "%s", msg);
		}
	}
	return first;
}

bool knl_setting_wanted(const struct knl_vf_state *now, enum knl_setting s,
			const struct nic_vf_config *c)
{
	switch (s) {
	case KNL_SET_RATE:
		return c->max_tx_rate_mbps || (now->has_rate && now->max_tx_rate);
	case KNL_SET_LINK_STATE:
		return c->link_state != NIC_LINK_AUTO ||
		       (now->has_link_state && now->link_state != IFLA_VF_LINK_STATE_AUTO);
	default:
		return true;
	}
}

/* One setting, one request. A refusal by the driver is reported; msg describes any failure. */
static int apply_setting(struct knl_pf *pf, unsigned vf, enum knl_setting s,
			 const struct nic_vf_config *c, bool *refused, char *msg, size_t len)
{
	struct nl_msg *nlm;
	int rc = knl_build_vf_setting(pf->ifindex, vf, s, c, &nlm);

	*refused = false;
	if (rc) {
		snprintf(msg, len, "VF %u %s: %s", vf, knl_setting_name(s), strerror(-rc));
		return rc;
	}
	rc = knl_request(nlm, refused);
	nlmsg_free(nlm);
	if (!rc)
		return 0;
	if (!*refused) {
		snprintf(msg, len, "VF %u %s: netlink request on %s failed (%s)", vf,
			 knl_setting_name(s), pf->netdev, strerror(-rc));
		return rc;
	}
	snprintf(msg, len, "VF %u %s: refused by driver %s (%s)", vf, knl_setting_name(s),
		 pf->pf_driver, strerror(-rc));
	nic_report(&pf->params, NIC_EV_VF_REFUSED, (int)vf, "%s", msg);
	return rc;
}

static int knl_vf_configure(struct nic *nic, unsigned vf, const struct nic_vf_config *c,
			    char *err, size_t errlen)
{
	struct knl_pf *pf = (struct knl_pf *)nic;
	struct knl_link now;
	char msg[256];
	bool refused;
	int first = 0, n_refused = 0;

	if (vf >= nic->num_vfs) {
		snprintf(err, errlen, "no VF %u on %s (%u enabled)", vf, nic->pf_bdf, nic->num_vfs);
		return -ENOENT;
	}
	/* Current rate and link state; unknown (all default) if the query fails. */
	if (knl_get_link(pf->ifindex, &now, &refused))
		memset(&now, 0, sizeof(now));
	for (enum knl_setting s = 0; s < KNL_SET_COUNT; s++) {
		if (!knl_setting_wanted(&now.vf[vf], s, c))
			continue;
		int rc = apply_setting(pf, vf, s, c, &refused, msg, sizeof(msg));
		if (!rc)
			continue;
		if (!refused) {
			snprintf(err, errlen, "%s", msg);
			return rc;	/* not the driver's answer: the next would fail alike */
		}
		if (!n_refused++) {
			first = rc;
			snprintf(err, errlen, "%s", msg);
		}
	}
	if (n_refused > 1) {
		size_t used = strlen(err);
		snprintf(err + used, errlen - used, "; %d more settings refused", n_refused - 1);
	}
	return first;
}

static int knl_vf_stats(struct nic *nic, unsigned vf, struct nic_stats *out)
{
	struct knl_pf *pf = (struct knl_pf *)nic;
	struct knl_link l;
	bool refused;
	int rc;

	if (vf >= nic->num_vfs)
		return -ENOENT;
	rc = knl_get_link(pf->ifindex, &l, &refused);
	if (rc)
		return rc;
	if (!l.vf[vf].has_stats)
		return -EOPNOTSUPP;
	*out = l.vf[vf].stats;
	return 0;
}

/* Totals since the driver loaded (not cleared on read, unlike igb-vfio's registers). */
static int knl_port_stats(struct nic *nic, struct nic_stats *out)
{
	struct knl_pf *pf = (struct knl_pf *)nic;
	struct knl_link l;
	bool refused;
	int rc = knl_get_link(pf->ifindex, &l, &refused);

	if (rc)
		return rc;
	if (!l.has_stats64)
		return -EOPNOTSUPP;
	*out = l.port;
	return 0;
}

static int knl_event_fd(struct nic *nic)
{
	(void)nic;
	return -1;
}

static int knl_service(struct nic *nic)
{
	(void)nic;
	return 0;
}

/* --- Open, close --------------------------------------------------------------------- */

/* The PF's driver and netdev: the kernel backend needs both. */
static int find_netdev(struct knl_pf *pf, char *err, size_t errlen)
{
	const char *bdf = pf->nic.pf_bdf;
	char path[96];
	struct stat st;
	int rc;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (stat(path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "no PCI function %s: %s", bdf, strerror(-rc));
		return rc;
	}
	rc = pci_sysfs_driver(bdf, pf->pf_driver, sizeof(pf->pf_driver));
	if (!rc && !*pf->pf_driver)
		rc = -ENODEV;
	if (rc) {
		snprintf(err, errlen, "PF %s has no kernel driver: %s", bdf, strerror(-rc));
		return rc;
	}
	rc = pci_sysfs_netdev(bdf, pf->netdev, sizeof(pf->netdev));
	if (!rc && !*pf->netdev)
		rc = -ENODEV;
	if (!rc && !(pf->ifindex = (int)if_nametoindex(pf->netdev)))
		rc = -errno;
	if (rc)
		snprintf(err, errlen, "PF %s (driver %s) has no usable network interface: %s", bdf,
			 pf->pf_driver, strerror(-rc));
	return rc;
}

/* VFs of igb get a link only while their PF is up. */
static int pf_bring_up(struct knl_pf *pf, char *err, size_t errlen)
{
	struct knl_link l;
	struct nl_msg *msg;
	bool refused;
	int rc = knl_get_link(pf->ifindex, &l, &refused);

	if (rc) {
		snprintf(err, errlen, "%s (PF %s): %s", pf->netdev, pf->nic.pf_bdf, strerror(-rc));
		return rc;
	}
	if (l.flags & IFF_UP)
		return 0;
	rc = knl_build_set_up(pf->ifindex, &msg);
	if (!rc) {
		rc = knl_request(msg, &refused);
		nlmsg_free(msg);
	}
	if (rc) {
		snprintf(err, errlen, "cannot bring %s (PF %s) up: %s", pf->netdev, pf->nic.pf_bdf,
			 strerror(-rc));
		return rc;
	}
	nic_report(&pf->params, NIC_EV_INFO, -1, "PF %s: brought %s up (its VFs have no link while it is down)",
	       pf->nic.pf_bdf, pf->netdev);
	return 0;
}

static void knl_close(struct nic *nic)
{
	struct knl_pf *pf = (struct knl_pf *)nic;

	if (!pf)
		return;
	if (!pf->params.keep_vfs && nic->num_vfs)
		(void)!pci_sysfs_set_numvfs(nic->pf_bdf, 0);
	free(pf);
}

static int knl_open(const struct nic_params *p, struct nic **out, char *err, size_t errlen)
{
	struct knl_pf *pf = calloc(1, sizeof(*pf));
	int rc;

	if (!pf)
		return -ENOMEM;
	pf->nic.ops = &kernel_nl_ops;
	pf->params = *p;
	snprintf(pf->nic.pf_bdf, sizeof(pf->nic.pf_bdf), "%s", p->pf_bdf);
	snprintf(pf->vf_driver, sizeof(pf->vf_driver), "%s", p->vf_driver ? p->vf_driver : "");
	/* The caller's strings need not outlive open. */
	pf->params.pf_bdf = pf->nic.pf_bdf;
	pf->params.vf_driver = *pf->vf_driver ? pf->vf_driver : NULL;
	rc = find_netdev(pf, err, errlen);
	if (rc)
		goto err_free;
	rc = pf_bring_up(pf, err, errlen);
	if (rc)
		goto err_free;
	rc = knl_set_num_vfs(&pf->nic, p->num_vfs, err, errlen);
	if (rc)
		goto err_close;
	*out = &pf->nic;
	return 0;
err_close:
	knl_close(&pf->nic);	/* VFs back to 0 unless keep_vfs */
	return rc;
err_free:
	free(pf);
	return rc;
}

const struct nic_ops kernel_nl_ops = {
	.name = "kernel",
	.open = knl_open,
	.close = knl_close,
	.set_num_vfs = knl_set_num_vfs,
	.bind_vfs = knl_bind_vfs,
	.vf_configure = knl_vf_configure,
	.vf_stats = knl_vf_stats,
	.port_stats = knl_port_stats,
	.event_fd = knl_event_fd,
	.service = knl_service,
};
