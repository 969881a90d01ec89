/* SPDX-License-Identifier: MIT */
/*
 * The kernel NIC backend without hardware: the rtnetlink messages it builds are parsed
 * back attribute by attribute, a generated RTM_NEWLINK is parsed, libnl's NLE_* codes
 * go back to errno. Live checks against this kernel's rtnetlink use the loopback
 * device, which has no VFs: every VF setting must come back as the kernel's
 * EOPNOTSUPP (EPERM without CAP_NET_ADMIN), never as EINVAL from a malformed message.
 */
#include "kernel_nl.h"
#include "rtnl.h"
#include "nic.h"
#include "tap.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <unistd.h>

extern const struct nic_ops kernel_nl_ops;

static const struct nic_vf_config cfg = {
	.mac = { 0x02, 0xcc, 0x00, 0x03, 0x01, 0x05 },
	.vlan = 100,
	.trusted = true,
	.spoofchk = false,
	.max_tx_rate_mbps = 250,
	.link_state = NIC_LINK_DISABLE,
};

/* Count of attributes in a stream (nested or top level). */
static int count_attrs(struct nlattr *head, int len)
{
	struct nlattr *a;
	int rem, n = 0;

	nla_for_each_attr(a, head, len, rem)
		n++;
	return n;
}

/*
 * Checks that msg is RTM_SETLINK on ifindex with nothing but IFLA_VFINFO_LIST >
 * IFLA_VF_INFO > one attribute, and returns that attribute (NULL if malformed).
 */
static struct nlattr *the_setting(struct nl_msg *msg, int ifindex)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *list, *info;
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_SETLINK || nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NULL;
	ifi = nlmsg_data(nlh);
	if (ifi->ifi_index != ifindex || ifi->ifi_change != 0 || !tb[IFLA_VFINFO_LIST] ||
	    count_attrs(nlmsg_attrdata(nlh, sizeof(*ifi)), nlmsg_attrlen(nlh, sizeof(*ifi))) != 1)
		return NULL;
	list = tb[IFLA_VFINFO_LIST];
	if (count_attrs(nla_data(list), nla_len(list)) != 1)
		return NULL;
	info = nla_data(list);
	if (nla_type(info) != IFLA_VF_INFO || count_attrs(nla_data(info), nla_len(info)) != 1)
		return NULL;
	return nla_data(info);
}

/* Builds setting s of VF vf and returns its single attribute, checked for type and size. */
static struct nlattr *build(struct nl_msg **msg, unsigned vf, enum knl_setting s,
			    const struct nic_vf_config *c, int type, size_t size)
{
	struct nlattr *a;

	*msg = NULL;
	if (knl_build_vf_setting(7, vf, s, c, msg) != 0)
		return NULL;
	a = the_setting(*msg, 7);
	return a && nla_type(a) == type && nla_len(a) == (int)size ? a : NULL;
}

static void test_backend(void)
{
	const struct nic_ops *ops = nic_backend("kernel");

	tap_ok(ops == &kernel_nl_ops, "nic_backend(\"kernel\") is the kernel backend");
	tap_ok(ops && ops->open && ops->close && ops->set_num_vfs && ops->bind_vfs &&
	       ops->vf_configure && ops->vf_stats && ops->port_stats && ops->event_fd && ops->service,
	       "every op is filled in");
	tap_ok(nic_backend("igb-vfio") && nic_backend("igb-vfio") != ops, "igb-vfio is still there");
	tap_ok(ops && ops->event_fd(NULL) == -1 && ops->service(NULL) == 0,
	       "no event fd, nothing to service");
}

static void test_mac_vlan(void)
{
	struct nl_msg *msg;
	struct nlattr *a;
	static const uint8_t zeros[32];

	a = build(&msg, 3, KNL_SET_MAC, &cfg, IFLA_VF_MAC, sizeof(struct ifla_vf_mac));
	if (tap_ok(a != NULL, "mac: one IFLA_VF_MAC in VFINFO_LIST/VF_INFO of RTM_SETLINK on ifindex 7")) {
		const struct ifla_vf_mac *m = nla_data(a);
		tap_is_int(m->vf, 3, "mac: VF index");
		tap_ok(memcmp(m->mac, cfg.mac, 6) == 0, "mac: the six bytes");
		tap_ok(memcmp(m->mac + 6, zeros, sizeof(m->mac) - 6) == 0, "mac: the rest of MAX_ADDR_LEN is zero");
	}
	nlmsg_free(msg);

	a = build(&msg, 5, KNL_SET_VLAN, &cfg, IFLA_VF_VLAN, sizeof(struct ifla_vf_vlan));
	if (tap_ok(a != NULL, "vlan: one IFLA_VF_VLAN")) {
		const struct ifla_vf_vlan *v = nla_data(a);
		tap_ok(v->vf == 5 && v->vlan == 100 && v->qos == 0, "vlan: VF 5, VLAN 100, qos 0");
	}
	nlmsg_free(msg);

	struct nic_vf_config bad = cfg;
	bad.vlan = 4096;
	tap_is_int(knl_build_vf_setting(7, 0, KNL_SET_VLAN, &bad, &msg), -EINVAL, "vlan 4096 is refused");
}

static void test_rate_flags(void)
{
	struct nl_msg *msg;
	struct nlattr *a;
	struct nic_vf_config c = cfg;

	a = build(&msg, 1, KNL_SET_RATE, &cfg, IFLA_VF_RATE, sizeof(struct ifla_vf_rate));
	if (tap_ok(a != NULL, "rate: one IFLA_VF_RATE")) {
		const struct ifla_vf_rate *r = nla_data(a);
		tap_ok(r->vf == 1 && r->min_tx_rate == 0 && r->max_tx_rate == 250, "rate: VF 1, min 0, max 250");
	}
	nlmsg_free(msg);

	for (int on = 0; on <= 1; on++) {
		c.spoofchk = on, c.trusted = !on;
		a = build(&msg, 2, KNL_SET_SPOOFCHK, &c, IFLA_VF_SPOOFCHK, sizeof(struct ifla_vf_spoofchk));
		tap_ok(a && ((struct ifla_vf_spoofchk *)nla_data(a))->vf == 2 &&
		       ((struct ifla_vf_spoofchk *)nla_data(a))->setting == (unsigned)on,
		       "spoofchk %s: IFLA_VF_SPOOFCHK, VF 2, setting %d", on ? "on" : "off", on);
		nlmsg_free(msg);
		a = build(&msg, 2, KNL_SET_TRUST, &c, IFLA_VF_TRUST, sizeof(struct ifla_vf_trust));
		tap_ok(a && ((struct ifla_vf_trust *)nla_data(a))->vf == 2 &&
		       ((struct ifla_vf_trust *)nla_data(a))->setting == (unsigned)!on,
		       "trust %s: IFLA_VF_TRUST, VF 2, setting %d", !on ? "on" : "off", !on);
		nlmsg_free(msg);
	}
}

static void test_link_state(void)
{
	static const struct { enum nic_link_state s; uint32_t uapi; const char *name; } map[] = {
		{ NIC_LINK_AUTO, IFLA_VF_LINK_STATE_AUTO, "auto" },
		{ NIC_LINK_ENABLE, IFLA_VF_LINK_STATE_ENABLE, "enable" },
		{ NIC_LINK_DISABLE, IFLA_VF_LINK_STATE_DISABLE, "disable" },
	};
	struct nic_vf_config c = cfg;
	struct nl_msg *msg;
	struct nlattr *a;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		c.link_state = map[i].s;
		a = build(&msg, 6, KNL_SET_LINK_STATE, &c, IFLA_VF_LINK_STATE, sizeof(struct ifla_vf_link_state));
		tap_ok(a && ((struct ifla_vf_link_state *)nla_data(a))->vf == 6 &&
		       ((struct ifla_vf_link_state *)nla_data(a))->link_state == map[i].uapi,
		       "link-state %s: IFLA_VF_LINK_STATE, VF 6, value %u", map[i].name, map[i].uapi);
		nlmsg_free(msg);
	}
	c.link_state = (enum nic_link_state)7;
	tap_is_int(knl_build_vf_setting(7, 0, KNL_SET_LINK_STATE, &c, &msg), -EINVAL, "an unknown link state is refused");
	tap_is_int(knl_build_vf_setting(7, 0, KNL_SET_COUNT, &cfg, &msg), -EINVAL, "an unknown setting is refused");
	tap_is_str(knl_setting_name(KNL_SET_LINK_STATE), "link-state", "setting names as errors show them");
	tap_is_str(knl_setting_name(KNL_SET_MAC), "mac", "... mac");
	tap_is_str(knl_setting_name(KNL_SET_COUNT), "?", "... out of range");
}

static void test_getlink_setup(void)
{
	struct nl_msg *msg;
	struct nlmsghdr *nlh;
	struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;

	tap_is_int(knl_build_getlink(9, &msg), 0, "getlink builds");
	nlh = nlmsg_hdr(msg);
	ifi = nlmsg_data(nlh);
	tap_ok(nlh->nlmsg_type == RTM_GETLINK && ifi->ifi_index == 9, "RTM_GETLINK of ifindex 9");
	tap_ok(nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) == 0 && tb[IFLA_EXT_MASK] &&
	       nla_get_u32(tb[IFLA_EXT_MASK]) == RTEXT_FILTER_VF, "asks for the VF list (IFLA_EXT_MASK RTEXT_FILTER_VF)");
	nlmsg_free(msg);

	tap_is_int(knl_build_set_up(9, &msg), 0, "set-up builds");
	nlh = nlmsg_hdr(msg);
	ifi = nlmsg_data(nlh);
	tap_ok(nlh->nlmsg_type == RTM_SETLINK && ifi->ifi_index == 9 && ifi->ifi_flags == IFF_UP &&
	       ifi->ifi_change == IFF_UP && nlmsg_attrlen(nlh, sizeof(*ifi)) == 0,
	       "RTM_SETLINK changing IFF_UP only, no attributes");
	nlmsg_free(msg);
}

/* One IFLA_VF_INFO as the kernel's rtnl_fill_vfinfo lays it out. */
static void put_vf(struct nl_msg *msg, uint32_t vf, uint32_t rate, uint32_t link, uint64_t base, int mac_len)
{
	struct ifla_vf_mac mac = { .vf = vf };
	struct ifla_vf_rate r = { .vf = vf, .max_tx_rate = rate };
	struct ifla_vf_link_state ls = { .vf = vf, .link_state = link };
	struct nlattr *info = nla_nest_start(msg, IFLA_VF_INFO), *st;

	(void)!nla_put(msg, IFLA_VF_MAC, mac_len, &mac);
	(void)!nla_put(msg, IFLA_VF_RATE, sizeof(r), &r);
	(void)!nla_put(msg, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
	st = nla_nest_start(msg, IFLA_VF_STATS);
	(void)!nla_put_u64(msg, IFLA_VF_STATS_RX_PACKETS, base + 1);
	(void)!nla_put_u64(msg, IFLA_VF_STATS_TX_PACKETS, base + 2);
	(void)!nla_put_u64(msg, IFLA_VF_STATS_RX_BYTES, base + 3);
	(void)!nla_put_u64(msg, IFLA_VF_STATS_TX_BYTES, base + 4);
	(void)!nla_put_u64(msg, IFLA_VF_STATS_BROADCAST, 99);
	nla_nest_end(msg, st);
	nla_nest_end(msg, info);
}

static struct nl_msg *newlink(void)
{
	struct ifinfomsg ifi = { .ifi_index = 4, .ifi_flags = IFF_UP | IFF_BROADCAST };
	struct rtnl_link_stats64 s64 = { .rx_packets = 10, .tx_packets = 20, .rx_bytes = 1ull << 40, .tx_bytes = 40 };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *list;

	(void)!nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	(void)!nla_put_string(msg, IFLA_IFNAME, "eth7");
	(void)!nla_put(msg, IFLA_STATS64, sizeof(s64), &s64);
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	put_vf(msg, 0, 0, IFLA_VF_LINK_STATE_AUTO, 1000, sizeof(struct ifla_vf_mac));
	put_vf(msg, 3, 300, IFLA_VF_LINK_STATE_DISABLE, 3000, sizeof(struct ifla_vf_mac));
	put_vf(msg, 9, 0, 0, 9000, sizeof(struct ifla_vf_mac));		/* beyond NIC_MAX_VFS */
	put_vf(msg, 5, 0, 0, 5000, 2);					/* truncated VF_MAC */
	nla_nest_end(msg, list);
	return msg;
}

static void test_parse(void)
{
	struct nl_msg *msg = newlink();
	struct knl_link l;
	const struct knl_vf_state *v3 = &l.vf[3];
	int present = 0;

	tap_is_int(knl_parse_link(nlmsg_hdr(msg), &l), 0, "a generated RTM_NEWLINK parses");
	tap_ok(l.ifindex == 4 && l.flags == (IFF_UP | IFF_BROADCAST), "ifindex and IFF_* flags");
	tap_ok(l.has_stats64 && l.port.rx_packets == 10 && l.port.tx_packets == 20 &&
	       l.port.rx_bytes == 1ull << 40 && l.port.tx_bytes == 40, "port counters from IFLA_STATS64 (64-bit)");
	tap_ok(l.vf[0].present && l.vf[0].has_stats && l.vf[0].stats.rx_packets == 1001 &&
	       l.vf[0].stats.tx_packets == 1002 && l.vf[0].stats.rx_bytes == 1003 &&
	       l.vf[0].stats.tx_bytes == 1004, "VF 0 counters from IFLA_VF_STATS");
	tap_ok(v3->present && v3->stats.rx_packets == 3001 && v3->stats.tx_bytes == 3004 &&
	       v3->has_rate && v3->max_tx_rate == 300 && v3->has_link_state &&
	       v3->link_state == IFLA_VF_LINK_STATE_DISABLE, "VF 3 by its index: counters, rate, link state");
	for (unsigned i = 0; i < NIC_MAX_VFS; i++)
		present += l.vf[i].present;
	tap_is_int(present, 2, "VF 9 (beyond NIC_MAX_VFS) and a truncated VF_MAC are skipped");
	nlmsg_free(msg);

	msg = nlmsg_alloc_simple(RTM_NEWADDR, 0);
	(void)!nlmsg_append(msg, &(struct ifinfomsg){ 0 }, sizeof(struct ifinfomsg), NLMSG_ALIGNTO);
	tap_is_int(knl_parse_link(nlmsg_hdr(msg), &l), -EINVAL, "not an RTM_NEWLINK: -EINVAL");
	nlmsg_free(msg);
	msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	tap_is_int(knl_parse_link(nlmsg_hdr(msg), &l), -EINVAL, "no ifinfomsg: -EINVAL");
	nlmsg_free(msg);
}

static void test_wanted(void)
{
	struct knl_vf_state now = { .present = true, .has_rate = true, .has_link_state = true };
	struct nic_vf_config c = { 0 };

	tap_ok(knl_setting_wanted(&now, KNL_SET_MAC, &c) && knl_setting_wanted(&now, KNL_SET_VLAN, &c) &&
	       knl_setting_wanted(&now, KNL_SET_SPOOFCHK, &c) && knl_setting_wanted(&now, KNL_SET_TRUST, &c),
	       "mac, vlan, spoofchk and trust are always sent");
	tap_ok(!knl_setting_wanted(&now, KNL_SET_RATE, &c) && !knl_setting_wanted(&now, KNL_SET_LINK_STATE, &c),
	       "rate 0 and link auto are not sent when the VF has them already");
	c.max_tx_rate_mbps = 100, c.link_state = NIC_LINK_ENABLE;
	tap_ok(knl_setting_wanted(&now, KNL_SET_RATE, &c) && knl_setting_wanted(&now, KNL_SET_LINK_STATE, &c),
	       "a rate and a forced link state are sent");
	c.max_tx_rate_mbps = 0, c.link_state = NIC_LINK_AUTO;
	now.max_tx_rate = 100, now.link_state = IFLA_VF_LINK_STATE_DISABLE;
	tap_ok(knl_setting_wanted(&now, KNL_SET_RATE, &c) && knl_setting_wanted(&now, KNL_SET_LINK_STATE, &c),
	       "back to unlimited / auto is sent when the VF has another value");
}

static void test_errno(void)
{
	static const int sys[] = { EOPNOTSUPP, EINVAL, EPERM, ENODEV, EBUSY, ERANGE, ENOMEM,
				   EEXIST, EACCES, EAFNOSUPPORT, EADDRNOTAVAIL, ENOENT };
	int bad = 0;

	tap_is_int(cmc_rtnl_errno(NLE_OPNOTSUPP), -EOPNOTSUPP, "NLE_OPNOTSUPP -> -EOPNOTSUPP");
	tap_is_int(cmc_rtnl_errno(-NLE_INVAL), -EINVAL, "-NLE_INVAL -> -EINVAL (either sign)");
	tap_is_int(cmc_rtnl_errno(-NLE_PERM), -EPERM, "NLE_PERM -> -EPERM");
	tap_is_int(cmc_rtnl_errno(-NLE_NODEV), -ENODEV, "NLE_NODEV -> -ENODEV");
	tap_is_int(cmc_rtnl_errno(-NLE_AGAIN), -ETIMEDOUT, "NLE_AGAIN (SO_RCVTIMEO expired) -> -ETIMEDOUT");
	tap_is_int(cmc_rtnl_errno(-NLE_SEQ_MISMATCH), -EPROTO, "NLE_SEQ_MISMATCH -> -EPROTO");
	tap_is_int(cmc_rtnl_errno(0), 0, "NLE_SUCCESS -> 0");
	tap_is_int(cmc_rtnl_errno(-1000), -EIO, "an unknown NLE -> -EIO");
	tap_is_int(cmc_rtnl_errno(-NLE_PKTLOC_FILE), -EIO, "an NLE without an errno -> -EIO");
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		int got = cmc_rtnl_errno(-nl_syserr2nlerr(sys[i]));
		if (got != -sys[i]) {
			tap_diag("  errno %d -> NLE %d -> %d", sys[i], nl_syserr2nlerr(sys[i]), got);
			bad++;
		}
	}
	tap_is_int(bad, 0, "errnos through libnl's own nl_syserr2nlerr come back unchanged");
}

/* The kernel answers for lo, which has no VFs; sizes its policy refuses would be EINVAL. */
static void test_live_netlink(void)
{
	int lo = (int)if_nametoindex("lo"), want = geteuid() == 0 ? -EOPNOTSUPP : -EPERM;
	struct knl_link l;
	struct nl_msg *msg;
	bool refused;

	if (!lo) {
		tap_ok(1, "# SKIP no loopback device");
		return;
	}
	tap_is_int(knl_get_link(lo, &l, &refused), 0, "RTM_GETLINK of lo through the kernel");
	tap_ok(l.ifindex == lo && l.has_stats64, "the reply is lo's, with IFLA_STATS64");
	tap_is_int(knl_get_link(0x7ffffff0, &l, &refused), -ENODEV, "a missing ifindex: the kernel's -ENODEV");
	tap_ok(refused, "... reported as the kernel's answer");
	for (enum knl_setting s = 0; s < KNL_SET_COUNT; s++) {
		if (knl_build_vf_setting(lo, 0, s, &cfg, &msg) != 0) {
			tap_ok(0, "build %s", knl_setting_name(s));
			continue;
		}
		int rc = knl_request(msg, &refused);
		nlmsg_free(msg);
		tap_ok(rc == want && refused, "lo vf 0 %s: the kernel's %s (got %d)", knl_setting_name(s),
		       want == -EPERM ? "EPERM" : "EOPNOTSUPP", rc);
	}
}

static void test_open_missing(void)
{
	struct nic_params p = { .pf_bdf = "0000:ff:1f.7", .num_vfs = 2 };
	struct nic *nic = NULL;
	char err[256] = "";
	int rc = nic_open("kernel", &p, &nic, err, sizeof(err));

	tap_is_int(rc, -ENOENT, "open of a BDF that does not exist fails with -ENOENT");
	tap_ok(nic == NULL && strstr(err, "no PCI function 0000:ff:1f.7") != NULL, "... saying so: %s", err);
}

int main(void)
{
	test_backend();
	test_mac_vlan();
	test_rate_flags();
	test_link_state();
	test_getlink_setup();
	test_parse();
	test_wanted();
	test_errno();
	test_live_netlink();
	test_open_missing();
	return tap_done();
}
