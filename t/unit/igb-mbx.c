/* SPDX-License-Identifier: MIT */
/*
 * The igb PF mailbox engine, driven with the messages igbvf really sends (the order
 * recorded by reference/pf-userspace-experiment) and with the hostile ones DESIGN.md
 * lists under "What the stock PF driver gets wrong".
 */
#include "igb_mbx.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

static const uint8_t MAC0[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x10 };
static const uint8_t MAC1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x11 };
static const uint8_t MACX[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
static const uint8_t MACY[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xef };
static const uint8_t MACZ[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xf0 };
static const uint8_t MAC_PF[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static struct igb_mbx_result R;
static uint64_t now = 1000;

#define ACK_CTS(id) (IGB_MBX_ACK | IGB_MBX_CTS | (id))
#define NACK_CTS(id) (IGB_MBX_NACK | IGB_MBX_CTS | (id))

static uint32_t mac_w1(const uint8_t *m)
{
	return (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
}

static uint32_t mac_w2(const uint8_t *m)
{
	return (uint32_t)m[4] | (uint32_t)m[5] << 8;
}

/* One message of up to 3 meaningful words, the rest of the 16 zero (as VMBMEM reads). */
static int tx_at(struct igb_mbx *m, unsigned vf, uint64_t t, uint32_t w0, uint32_t w1, uint32_t w2)
{
	uint32_t msg[IGB_MBX_MSG_WORDS] = { w0, w1, w2 };

	return igb_mbx_process(m, vf, msg, IGB_MBX_MSG_WORDS, t, &R);
}

/* Time moves on by 100 ms per message, so ordinary tests never hit the rate limit. */
static int tx(struct igb_mbx *m, unsigned vf, uint32_t w0, uint32_t w1, uint32_t w2)
{
	now += 100;
	return tx_at(m, vf, now, w0, w1, w2);
}

static int tx_mac(struct igb_mbx *m, unsigned vf, uint32_t info, const uint8_t *mac)
{
	return tx(m, vf, IGB_MBX_VF_SET_MAC | info << IGB_MBX_INFO_SHIFT, mac_w1(mac), mac_w2(mac));
}

static const struct igb_mbx_action *find_act(enum igb_mbx_action_type t)
{
	for (unsigned i = 0; i < R.n_actions; i++)
		if (R.actions[i].type == t)
			return &R.actions[i];
	return NULL;
}

static struct igb_mbx *new_engine(unsigned num_vfs)
{
	struct igb_mbx_config cfg;
	struct igb_mbx *m = NULL;

	igb_mbx_config_init(&cfg, num_vfs);
	if (igb_mbx_new(&cfg, &m))
		return NULL;
	return m;
}

static void set_policy(struct igb_mbx *m, unsigned vf, const uint8_t *mac, bool trusted)
{
	struct igb_mbx_policy p;

	igb_mbx_policy_init(&p);
	if (mac)
		memcpy(p.mac, mac, 6);
	p.trusted = trusted;
	if (igb_mbx_set_policy(m, vf, &p, &R))
		tap_diag("set_policy(vf %u) failed", vf);
}

static struct igb_mbx_vf_state state(struct igb_mbx *m, unsigned vf)
{
	struct igb_mbx_vf_state st;

	memset(&st, 0, sizeof(st));
	if (igb_mbx_get_state(m, vf, &st))
		tap_diag("get_state(vf %u) failed", vf);
	return st;
}

static struct igb_mbx_stats stats(struct igb_mbx *m, unsigned vf)
{
	struct igb_mbx_stats s;

	memset(&s, 0, sizeof(s));
	if (igb_mbx_get_stats(m, vf, &s))
		tap_diag("get_stats(vf %u) failed", vf);
	return s;
}

/* Field by field: struct copies need not preserve padding. */
static bool policy_eq(const struct igb_mbx_policy *a, const struct igb_mbx_policy *b)
{
	return memcmp(a->mac, b->mac, 6) == 0 && a->trusted == b->trusted &&
	       a->port_vlan == b->port_vlan && a->n_vlans == b->n_vlans &&
	       memcmp(a->vlans, b->vlans, sizeof(a->vlans)) == 0 && a->max_vlans == b->max_vlans &&
	       a->max_mc == b->max_mc && a->max_extra_macs == b->max_extra_macs;
}

static bool state_eq(const struct igb_mbx_vf_state *a, const struct igb_mbx_vf_state *b)
{
	return a->cts == b->cts && memcmp(a->mac, b->mac, 6) == 0 && a->n_extra == b->n_extra &&
	       memcmp(a->extra, b->extra, sizeof(a->extra)) == 0 && a->n_mc == b->n_mc &&
	       memcmp(a->mc, b->mc, sizeof(a->mc)) == 0 && a->n_vlans == b->n_vlans &&
	       memcmp(a->vlans, b->vlans, sizeof(a->vlans)) == 0 && a->max_frame == b->max_frame &&
	       a->promisc_unicast == b->promisc_unicast &&
	       a->promisc_multicast == b->promisc_multicast;
}

/* A VF with an assigned MAC that has completed VF_RESET. */
static struct igb_mbx *ready_engine(bool trusted0)
{
	struct igb_mbx *m = new_engine(2);

	set_policy(m, 0, MAC0, trusted0);
	set_policy(m, 1, MAC1, false);
	if (tx(m, 0, IGB_MBX_VF_RESET, 0, 0) || R.reply[0] != (IGB_MBX_ACK | IGB_MBX_VF_RESET))
		tap_diag("VF 0 reset failed");
	return m;
}

static void test_bringup(void)
{
	struct igb_mbx *m = new_engine(2);
	const struct igb_mbx_action *a;
	struct igb_mbx_stats s;

	set_policy(m, 0, MAC0, false);

	tap_is_int(tx(m, 0, IGB_MBX_VF_RESET, 0, 0), 0, "bring-up: RESET processed");
	tap_is_int(R.reply_len, 3, "RESET reply is 3 words");
	tap_is_int(R.reply[0], IGB_MBX_ACK | IGB_MBX_VF_RESET, "RESET reply word 0 is exactly ACK|RESET (no CTS)");
	tap_is_int(R.reply[1], 0x00000002, "RESET reply word 1 = MAC bytes 0-3");
	tap_is_int(R.reply[2], 0x00001000, "RESET reply word 2 = MAC bytes 4-5");
	a = find_act(IGB_MBX_ACT_SET_MAC);
	tap_ok(a && a->vf == 0 && memcmp(a->mac, MAC0, 6) == 0, "RESET programs the assigned MAC");
	tap_ok(find_act(IGB_MBX_ACT_ENABLE_RXTX) != NULL, "RESET enables the VF's rx/tx");
	tap_ok(find_act(IGB_MBX_ACT_CLEAR_VLANS) && find_act(IGB_MBX_ACT_CLEAR_MAC_FILTERS),
	       "RESET clears the VF's VLAN and extra MAC filters");

	tx_mac(m, 0, 0, MAC0);
	tap_is_int(R.reply[0], ACK_CTS(IGB_MBX_VF_SET_MAC), "SET_MAC with the assigned MAC: ACK|CTS");
	a = find_act(IGB_MBX_ACT_SET_MAC);
	tap_ok(a && memcmp(a->mac, MAC0, 6) == 0 && R.n_actions == 1, "... one SET_MAC action");

	tx(m, 0, IGB_MBX_VF_SET_MULTICAST | 1u << 16, 0x0123, 0);
	a = find_act(IGB_MBX_ACT_SET_MULTICAST);
	tap_ok(R.reply[0] == ACK_CTS(0x00010003) && a && a->mc.count == 1 && a->mc.hash[0] == 0x123,
	       "SET_MULTICAST with 1 hash: ACK and the hash list");
	tx(m, 0, IGB_MBX_VF_SET_MULTICAST | 2u << 16, 0x0fff0123, 0);
	a = find_act(IGB_MBX_ACT_SET_MULTICAST);
	tap_ok(R.reply[0] == ACK_CTS(0x00020003) && a && a->mc.count == 2 && a->mc.hash[0] == 0x123 &&
	       a->mc.hash[1] == 0xfff, "SET_MULTICAST with 2 hashes replaces the list");

	tx(m, 0, 0x00010002, 0, 0);
	tap_ok(R.reply[0] == ACK_CTS(0x00010002) && find_act(IGB_MBX_ACT_CLEAR_MAC_FILTERS),
	       "SET_MAC info 1 (filter clear, zero payload as igbvf sends it): ACK");

	tx(m, 0, IGB_MBX_VF_SET_LPE, 1518, 0);
	a = find_act(IGB_MBX_ACT_SET_MAX_FRAME);
	tap_ok(R.reply[0] == ACK_CTS(IGB_MBX_VF_SET_LPE) && a && a->max_frame == 1518, "SET_LPE 1518: ACK");
	tx(m, 0, IGB_MBX_VF_SET_LPE, 1522, 0);
	a = find_act(IGB_MBX_ACT_SET_MAX_FRAME);
	tap_ok(R.reply[0] == ACK_CTS(IGB_MBX_VF_SET_LPE) && a && a->max_frame == 1522, "SET_LPE 1522: ACK");

	s = stats(m, 0);
	tap_ok(s.messages == 7 && s.acks == 7 && s.nacks == 0 && s.resets == 1,
	       "stats: 7 messages, 7 ACKs, 1 reset");
	tap_is_int(state(m, 0).max_frame, 1522, "state keeps the last max frame");
	igb_mbx_free(m);
}

static void test_mac_change(void)
{
	struct igb_mbx *m = ready_engine(false);
	const struct igb_mbx_action *a;

	tx_mac(m, 0, 0, MACX);
	tap_is_int(R.reply[0], NACK_CTS(IGB_MBX_VF_SET_MAC), "untrusted MAC change: NACK|CTS");
	tap_is_int(R.reason, IGB_MBX_E_MAC_NOT_ASSIGNED, "... reason: not the assigned MAC");
	tap_ok(R.n_actions == 0 && memcmp(state(m, 0).mac, MAC0, 6) == 0, "... and nothing changes");

	set_policy(m, 0, MAC0, true);
	tap_ok(!state(m, 0).cts && find_act(IGB_MBX_ACT_DISABLE_RXTX), "a policy change revokes CTS");
	tx_mac(m, 0, 0, MACX);
	tap_is_int(R.reason, IGB_MBX_E_NOT_CTS, "... so the next message needs a reset first");
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx_mac(m, 0, 0, MACX);
	a = find_act(IGB_MBX_ACT_SET_MAC);
	tap_ok(R.reply[0] == ACK_CTS(IGB_MBX_VF_SET_MAC) && a && memcmp(a->mac, MACX, 6) == 0,
	       "trusted MAC change: ACK and SET_MAC with the new MAC");

	tx_mac(m, 0, 0, MAC1);
	tap_is_int(R.reason, IGB_MBX_E_MAC_IN_USE, "trusted VF cannot take another VF's assigned MAC");
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MAC1);
	tap_is_int(R.reason, IGB_MBX_E_MAC_IN_USE, "... nor add it as an extra filter");
	tap_ok(R.n_actions == 0 && memcmp(state(m, 0).mac, MACX, 6) == 0, "... and keeps its MAC");

	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6] = { 0 };
	tx_mac(m, 0, 0, mcast);
	tap_is_int(R.reason, IGB_MBX_E_MAC_INVALID, "multicast MAC as unicast: refused");
	tx_mac(m, 0, 0, bcast);
	tap_is_int(R.reason, IGB_MBX_E_MAC_INVALID, "broadcast MAC: refused");
	tx_mac(m, 0, 0, zero);
	tap_is_int(R.reason, IGB_MBX_E_MAC_INVALID, "zero MAC: refused");
	igb_mbx_free(m);
}

/* Granting trust takes effect at once, without a reset; withdrawing it resets the VF. */
static void test_grant_trust(void)
{
	struct igb_mbx *m = ready_engine(false);
	struct igb_mbx_policy p;

	tap_ok(igb_mbx_grant_trust(m, 0) == 0, "grant trust to VF 0");
	tap_ok(state(m, 0).cts, "... it keeps clear-to-send");
	tap_ok(igb_mbx_get_policy(m, 0, &p) == 0 && p.trusted && memcmp(p.mac, MAC0, 6) == 0,
	       "... policy trusted, same assigned MAC");
	tx_mac(m, 0, 0, MACX);
	tap_is_int(R.reply[0], ACK_CTS(IGB_MBX_VF_SET_MAC), "... and may change its MAC right away");
	tx_mac(m, 0, 0, MAC1);
	tap_is_int(R.reason, IGB_MBX_E_MAC_IN_USE, "... but not to another VF's");
	tap_ok(igb_mbx_grant_trust(m, 5) == -EINVAL, "grant trust to a VF out of range: -EINVAL");
	set_policy(m, 0, MAC0, false);
	tap_ok(!state(m, 0).cts && find_act(IGB_MBX_ACT_DISABLE_RXTX), "withdrawing trust resets the VF");
	igb_mbx_free(m);
}

/* A MAC another VF is using now (not merely assigned) is refused too. */
static void test_mac_duplicate_in_use(void)
{
	struct igb_mbx *m = ready_engine(true);
	struct igb_mbx_policy p;

	set_policy(m, 1, MAC1, true);
	tx(m, 1, IGB_MBX_VF_RESET, 0, 0);
	tx_mac(m, 1, 0, MACY);
	tap_is_int(R.reason, IGB_MBX_OK, "trusted VF 1 switches to MAC Y");
	tx_mac(m, 0, 0, MACY);
	tap_is_int(R.reason, IGB_MBX_E_MAC_IN_USE, "trusted VF 0 cannot take VF 1's current MAC");

	igb_mbx_policy_init(&p);
	memcpy(p.mac, MACY, 6);
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), -EADDRINUSE,
		   "the chassis cannot assign VF 1's current MAC to VF 0");
	memcpy(p.mac, MAC1, 6);
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), -EADDRINUSE, "nor VF 1's assigned MAC");
	p.mac[0] = 0x03;
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), -EINVAL, "a multicast MAC is not assignable");
	tap_ok(state(m, 0).cts, "failed policy changes leave the VF alone");
	igb_mbx_free(m);
}

static bool pf_mac_in_use(void *ctx, unsigned vf, const uint8_t mac[6])
{
	(void)vf;
	(*(int *)ctx)++;
	return memcmp(mac, MAC_PF, 6) == 0;
}

static void test_mac_callback(void)
{
	struct igb_mbx_config cfg;
	struct igb_mbx *m = NULL;
	int calls = 0;

	igb_mbx_config_init(&cfg, 2);
	cfg.mac_in_use = pf_mac_in_use;
	cfg.ctx = &calls;
	if (igb_mbx_new(&cfg, &m))
		return;
	set_policy(m, 0, MAC0, true);
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx_mac(m, 0, 0, MAC_PF);
	tap_is_int(R.reason, IGB_MBX_E_MAC_IN_USE, "MAC reported in use by the caller's check: refused");
	tx_mac(m, 0, 0, MACX);
	tap_ok(R.reason == IGB_MBX_OK && calls >= 2, "a free MAC passes the caller's check");
	igb_mbx_free(m);
}

static void test_extra_macs(void)
{
	struct igb_mbx *m = ready_engine(false);
	struct igb_mbx_config cfg;

	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MACX);
	tap_is_int(R.reason, IGB_MBX_E_NOT_TRUSTED, "untrusted VF cannot add extra MAC filters");
	set_policy(m, 0, MAC0, true);
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MACX);
	tap_ok(R.reason == IGB_MBX_OK && find_act(IGB_MBX_ACT_ADD_MAC_FILTER), "trusted: first extra MAC");
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MACY);
	tap_is_int(R.reason, IGB_MBX_OK, "second extra MAC (default quota 2)");
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MACZ);
	tap_is_int(R.reason, IGB_MBX_E_MAC_QUOTA, "third extra MAC: quota");
	tx_mac(m, 0, 3, MACZ);
	tap_is_int(R.reason, IGB_MBX_E_BAD_INFO, "SET_MAC with an unknown sub-command: refused");
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tap_is_int(state(m, 0).n_extra, 0, "reset frees the extra MACs");
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MACZ);
	tap_is_int(R.reason, IGB_MBX_OK, "... so the quota is available again");
	igb_mbx_free(m);

	/* The card-wide table: one extra entry for everybody. */
	igb_mbx_config_init(&cfg, 2);
	cfg.extra_mac_filters = 1;
	if (igb_mbx_new(&cfg, &m))
		return;
	set_policy(m, 0, MAC0, true);
	set_policy(m, 1, MAC1, true);
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx(m, 1, IGB_MBX_VF_RESET, 0, 0);
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MACX);
	tx_mac(m, 1, IGB_MBX_MAC_FILTER_ADD, MACY);
	tap_is_int(R.reason, IGB_MBX_E_MAC_TABLE_FULL, "one VF cannot exhaust the shared address table");
	igb_mbx_free(m);
}

static void test_vlans(void)
{
	struct igb_mbx *m = ready_engine(false);
	struct igb_mbx_policy p;
	const struct igb_mbx_action *a;

	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 4095, 0);
	tap_is_int(R.reason, IGB_MBX_E_VLAN_RANGE, "VLAN 4095: out of range");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 4096, 0);
	tap_is_int(R.reason, IGB_MBX_E_VLAN_RANGE, "VLAN 4096: out of range");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 0xffffffff, 0);
	tap_is_int(R.reason, IGB_MBX_E_VLAN_RANGE, "VLAN 0xffffffff: out of range (not masked)");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 100, 0);
	tap_is_int(R.reason, IGB_MBX_E_VLAN_NOT_ALLOWED, "VLAN outside the policy: refused");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 0, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "VLAN 0 (priority tags) is always allowed");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 2u << 16, 0, 0);
	tap_is_int(R.reason, IGB_MBX_E_BAD_INFO, "SET_VLAN info 2: refused");

	igb_mbx_policy_init(&p);
	memcpy(p.mac, MAC0, 6);
	p.n_vlans = 3;
	p.vlans[0] = 100, p.vlans[1] = 200, p.vlans[2] = 300;
	p.max_vlans = 2;
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), 0, "policy: VLANs 100, 200, 300, quota 2");
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 100, 0);
	a = find_act(IGB_MBX_ACT_ADD_VLAN);
	tap_ok(R.reply[0] == ACK_CTS(0x00010004) && a && a->vid == 100, "allowed VLAN 100: ACK, ADD_VLAN");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 100, 0);
	tap_ok(R.reason == IGB_MBX_OK && R.n_actions == 0, "adding it again: ACK, nothing to do");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 200, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "VLAN 200: ACK");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 300, 0);
	tap_is_int(R.reason, IGB_MBX_E_VLAN_QUOTA, "VLAN 300: over the VF's quota");
	tx(m, 0, IGB_MBX_VF_SET_VLAN, 100, 0);
	a = find_act(IGB_MBX_ACT_DEL_VLAN);
	tap_ok(R.reason == IGB_MBX_OK && a && a->vid == 100, "removing VLAN 100: DEL_VLAN");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 300, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "... which frees quota for VLAN 300");

	p.port_vlan = 42;
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), 0, "policy: port VLAN 42");
	a = find_act(IGB_MBX_ACT_SET_PORT_VLAN);
	tap_ok(a && a->vid == 42, "... applied as a SET_PORT_VLAN action");
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	a = find_act(IGB_MBX_ACT_SET_PORT_VLAN);
	tap_ok(a && a->vid == 42, "RESET re-applies the port VLAN");
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 100, 0);
	tap_is_int(R.reason, IGB_MBX_E_VLAN_PORT, "with a port VLAN the VF may not add VLANs");
	p.port_vlan = 4095;
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), -EINVAL, "port VLAN 4095 is not a policy");
	igb_mbx_free(m);
}

static void test_vlan_table(void)
{
	struct igb_mbx_config cfg;
	struct igb_mbx_policy p;
	struct igb_mbx *m = NULL;

	igb_mbx_config_init(&cfg, 2);
	cfg.vlan_filters = 2;
	if (igb_mbx_new(&cfg, &m))
		return;
	igb_mbx_policy_init(&p);
	p.n_vlans = 3;
	p.vlans[0] = 10, p.vlans[1] = 20, p.vlans[2] = 30;
	memcpy(p.mac, MAC0, 6);
	if (igb_mbx_set_policy(m, 0, &p, &R))
		return;
	memcpy(p.mac, MAC1, 6);
	if (igb_mbx_set_policy(m, 1, &p, &R))
		return;
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx(m, 1, IGB_MBX_VF_RESET, 0, 0);
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 10, 0);
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 20, 0);
	tx(m, 1, IGB_MBX_VF_SET_VLAN | 1u << 16, 30, 0);
	tap_is_int(R.reason, IGB_MBX_E_VLAN_TABLE_FULL, "a third distinct VLAN with 2 entries: table full");
	tx(m, 1, IGB_MBX_VF_SET_VLAN | 1u << 16, 20, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "joining a VLAN already in the table still works");
	p.port_vlan = 30;
	tap_is_int(igb_mbx_set_policy(m, 1, &p, &R), -ENOSPC, "a port VLAN needing a full table: -ENOSPC");
	memcpy(p.mac, MAC0, 6);
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), 0,
		   "the same port VLAN for VF 0, whose own VLANs it replaces: fits");
	igb_mbx_free(m);
}

static void test_frame_sizes(void)
{
	struct igb_mbx *m = ready_engine(false);
	static const uint32_t bad[] = { 0, 63, 9729, 0x10000, 0xffffffff };
	int refused = 0;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tx(m, 0, IGB_MBX_VF_SET_LPE, bad[i], 0);
		refused += R.reason == IGB_MBX_E_FRAME_SIZE && R.n_actions == 0 &&
			   R.reply[0] == NACK_CTS(IGB_MBX_VF_SET_LPE);
	}
	tap_is_int(refused, 5, "frame sizes 0, 63, 9729, 65536, 0xffffffff: NACK, no action");
	tap_is_int(state(m, 0).max_frame, IGB_MBX_DEFAULT_FRAME, "... max frame unchanged");
	tx(m, 0, IGB_MBX_VF_SET_LPE, 64, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "64 accepted");
	tx(m, 0, IGB_MBX_VF_SET_LPE, 9728, 0);
	tap_ok(R.reason == IGB_MBX_OK && find_act(IGB_MBX_ACT_SET_MAX_FRAME)->max_frame == 9728,
	       "9728 (82576 maximum) accepted");
	tx(m, 0, IGB_MBX_VF_SET_LPE | 1u << 16, 1518, 0);
	tap_is_int(R.reason, IGB_MBX_E_BAD_INFO, "SET_LPE with info bits: refused");
	igb_mbx_free(m);
}

static void test_order_and_format(void)
{
	struct igb_mbx *m = new_engine(2);
	uint32_t msg[IGB_MBX_MSG_WORDS + 1] = { IGB_MBX_VF_SET_MAC };

	set_policy(m, 0, MAC0, false);
	tx_mac(m, 0, 0, MAC0);
	tap_is_int(R.reply[0], IGB_MBX_NACK | IGB_MBX_VF_SET_MAC, "SET_MAC before RESET: NACK without CTS");
	tap_ok(R.reason == IGB_MBX_E_NOT_CTS && R.n_actions == 0, "... reason not-CTS, no action");
	tx(m, 0, IGB_MBX_VF_SET_LPE, 1518, 0);
	tap_is_int(R.reason, IGB_MBX_E_NOT_CTS, "SET_LPE before RESET: refused");

	tx(m, 0, IGB_MBX_VF_RESET | 1u << 16, 0, 0);
	tap_ok(R.reason == IGB_MBX_E_BAD_INFO && !state(m, 0).cts, "RESET with info bits: refused, no CTS");
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tap_ok(state(m, 0).cts, "RESET grants CTS");

	static const uint32_t unknown[] = { 0x0000, 0x0007, 0x0008, 0x0009, 0x0100, 0xffff };
	int nacked = 0;
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		tx(m, 0, unknown[i], 0, 0);
		nacked += R.reason == IGB_MBX_E_UNKNOWN_ID && R.reply[0] == NACK_CTS(unknown[i]);
	}
	tap_is_int(nacked, 6, "ids 0, 7, 8, 9, 0x100, 0xffff: NACK|CTS, unknown id");

	tx(m, 0, IGB_MBX_ACK | IGB_MBX_VF_SET_LPE, 1518, 0);
	tap_is_int(R.reason, IGB_MBX_E_NOT_REQUEST, "a message with ACK set is not a request");
	tx(m, 0, IGB_MBX_CTS | IGB_MBX_VF_SET_LPE, 1518, 0);
	tap_is_int(R.reason, IGB_MBX_E_RESERVED, "a message with CTS set: reserved bits");
	tx(m, 0, 0x01000000 | IGB_MBX_VF_SET_LPE, 1518, 0);
	tap_is_int(R.reason, IGB_MBX_E_RESERVED, "bit 24 set: reserved bits");

	tap_is_int(igb_mbx_process(m, 0, msg, 1, now, &R), 0, "SET_MAC of 1 word: processed");
	tap_ok(R.reason == IGB_MBX_E_SHORT && R.reply[0] == NACK_CTS(IGB_MBX_VF_SET_MAC), "... NACK, too short");
	msg[0] = IGB_MBX_VF_SET_MULTICAST | 5u << 16;
	tap_ok(igb_mbx_process(m, 0, msg, 3, now, &R) == 0 && R.reason == IGB_MBX_E_SHORT,
	       "5 hashes in 3 words: too short");
	tap_ok(igb_mbx_process(m, 0, msg, 0, now, &R) == 0 && R.reason == IGB_MBX_E_SHORT,
	       "an empty message: too short");
	tap_is_int(igb_mbx_process(m, 0, msg, 17, now, &R), -EINVAL, "17 words: -EINVAL");
	tap_is_int(igb_mbx_process(m, 2, msg, 1, now, &R), -EINVAL, "VF index beyond num_vfs: -EINVAL");
	tap_is_int(igb_mbx_process(m, 0, NULL, 1, now, &R), -EINVAL, "NULL message: -EINVAL");
	igb_mbx_free(m);
}

static void test_no_mac(void)
{
	struct igb_mbx *m = new_engine(1);

	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tap_ok(R.reply_len == 3 && R.reply[0] == (IGB_MBX_NACK | IGB_MBX_VF_RESET) &&
	       R.reason == IGB_MBX_E_NO_MAC, "RESET with no assigned MAC: NACK|RESET");
	tap_ok(find_act(IGB_MBX_ACT_DISABLE_RXTX) && !find_act(IGB_MBX_ACT_ENABLE_RXTX),
	       "... and an untrusted VF with no MAC gets no rx/tx");
	tx_mac(m, 0, 0, MACX);
	tap_is_int(R.reason, IGB_MBX_E_MAC_NOT_ASSIGNED, "... nor may it pick a MAC");
	igb_mbx_free(m);
}

static void test_rate_limit(void)
{
	struct igb_mbx *m = ready_engine(false);
	struct igb_mbx_stats before, after;
	uint64_t t = 1000000;
	int ok = 0, limited = 0, unheard = 0;

	before = stats(m, 0);
	for (int i = 0; i < 100; i++) {
		tx_at(m, 0, t, IGB_MBX_VF_SET_LPE, 1518, 0);
		ok += R.reason == IGB_MBX_OK;
		limited += R.reason == IGB_MBX_E_RATE_LIMITED;
		unheard += R.reason == IGB_MBX_E_PENALIZED && R.reply_len == 0 && R.n_actions == 0;
	}
	tap_ok(ok == 32 && limited == 1 && unheard == 67,
	       "flood of 100 in one instant: 32 served, 1 rate-limited, then 67 not heard (muted)");
	after = stats(m, 0);
	tap_ok(after.rate_limited - before.rate_limited == 1 &&
	       after.refused[IGB_MBX_E_PENALIZED] - before.refused[IGB_MBX_E_PENALIZED] == 67 &&
	       after.messages - before.messages == 100 && after.offences[IGB_MBX_OFF_FLOOD] == 1,
	       "each counted: 1 rate-limited, 67 unheard, 1 flood");
	tx_at(m, 0, t + 199, IGB_MBX_VF_SET_LPE, 9000, 0);
	tap_ok(R.reason == IGB_MBX_E_PENALIZED && R.reply_len == 0 && state(m, 0).max_frame == 1518,
	       "199 ms later: still muted, no reply, not acted on");
	tx_at(m, 0, 5, IGB_MBX_VF_SET_LPE, 1518, 0);
	tap_is_int(R.reason, IGB_MBX_E_PENALIZED, "clock stepped back: the mute holds");
	tx_at(m, 0, t + 200, IGB_MBX_VF_SET_LPE, 1518, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "200 ms later: heard, with the tokens of that time");
	ok = 0;
	for (int i = 0; i < 20 && R.reason != IGB_MBX_E_RATE_LIMITED; i++) {
		tx_at(m, 0, t + 200, IGB_MBX_VF_RESET, 0, 0);
		ok += R.reason == IGB_MBX_OK;
	}
	tap_ok(ok == 9 && R.reason == IGB_MBX_E_RATE_LIMITED && R.n_actions == 0 &&
	       R.penalty.offence == IGB_MBX_OFF_FLOOD && R.penalty.mute_ms == 400,
	       "a RESET flood is limited too, and a second flood is muted twice as long");
	ok = 0;
	for (int i = 0; i < 40; i++) {
		tx_at(m, 0, t + 60000, IGB_MBX_VF_SET_LPE, 1518, 0);
		ok += R.reason == IGB_MBX_OK;
	}
	tap_is_int(ok, 32, "after a quiet minute the burst is back, not more");
	tap_is_int(stats(m, 0).level, 1, "and the levels were forgiven: that flood is a first one");
	tx_at(m, 1, t + 60000, IGB_MBX_VF_RESET, 0, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "VF 1 is not limited by VF 0's flood");
	igb_mbx_free(m);
}

/* The mailbox lock held (reported by the hardware layer): 200, 400 ... 3200 ms, then ignored. */
static void test_escalation(void)
{
	struct igb_mbx *m = ready_engine(false);
	uint64_t t = 2000000;
	unsigned left = 0;
	bool all = true;

	for (unsigned level = 1; level <= 5; level++) {
		unsigned ms = 200u << (level - 1);

		all &= igb_mbx_offend(m, 0, IGB_MBX_OFF_LOCK_HOLD, t, &R) == 0 &&
		       R.penalty.offence == IGB_MBX_OFF_LOCK_HOLD && R.penalty.verdict == IGB_MBX_MUTED &&
		       R.penalty.mute_ms == ms && R.penalty.level == level && R.reply_len == 0 &&
		       R.n_actions == 0;
		all &= igb_mbx_verdict(m, 0, t, &left) == IGB_MBX_MUTED && left == ms;
		/* Held again while muted: counted, not escalated. */
		all &= igb_mbx_offend(m, 0, IGB_MBX_OFF_LOCK_HOLD, t + 1, &R) == 0 &&
		       R.penalty.offence == IGB_MBX_OFF_NONE;
		t += ms;
		all &= igb_mbx_verdict(m, 0, t, &left) == IGB_MBX_HEARD && left == 0;
	}
	tap_ok(all, "five offences: muted 200, 400, 800, 1600, 3200 ms; none added while muted");
	tap_ok(igb_mbx_offend(m, 0, IGB_MBX_OFF_LOCK_HOLD, t, &R) == 0 &&
	       R.penalty.verdict == IGB_MBX_IGNORED && R.penalty.level == 6,
	       "the sixth: ignored");
	tap_is_int(igb_mbx_verdict(m, 0, t + 3600000, NULL), IGB_MBX_IGNORED, "an hour later: still ignored");
	tx_at(m, 0, t + 3600000, IGB_MBX_VF_RESET, 0, 0);
	tap_ok(R.reason == IGB_MBX_E_PENALIZED && R.reply_len == 0 && R.n_actions == 0,
	       "its messages are not heard: no reply, nothing done");
	tap_ok(stats(m, 0).penalties == 6 && stats(m, 0).offences[IGB_MBX_OFF_LOCK_HOLD] == 11 &&
	       stats(m, 0).ignored, "counted: 6 penalties, 11 offences, ignored");
	tx_at(m, 1, t, IGB_MBX_VF_RESET, 0, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "VF 1 is heard all along");
	tap_ok(igb_mbx_vf_flr(m, 0, t + 3600000, &R) == 0 && R.penalty.forgiven &&
	       igb_mbx_verdict(m, 0, t + 3600000, NULL) == IGB_MBX_HEARD && stats(m, 0).forgiven == 1 &&
	       stats(m, 0).level == 0 && !stats(m, 0).ignored,
	       "a VF reset (FLR, no storm) forgives it");
	tx_at(m, 0, t + 3600001, IGB_MBX_VF_RESET, 0, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "and it is served again");
	tap_ok(igb_mbx_offend(m, 0, IGB_MBX_OFF_NONE, t, &R) == -EINVAL &&
	       igb_mbx_offend(m, 9, IGB_MBX_OFF_LOCK_HOLD, t, &R) == -EINVAL, "offend: bad offence or VF");
	igb_mbx_free(m);
}

static void test_forgiven_over_time(void)
{
	struct igb_mbx *m = ready_engine(false);
	uint64_t t = 3000000;

	if (igb_mbx_offend(m, 0, IGB_MBX_OFF_LOCK_HOLD, t, &R) ||
	    igb_mbx_offend(m, 0, IGB_MBX_OFF_LOCK_HOLD, t + 1000, &R))
		tap_diag("offend failed");
	tap_is_int(R.penalty.mute_ms, 400, "a second offence 1 s after the first: 400 ms");
	tap_ok(igb_mbx_offend(m, 0, IGB_MBX_OFF_LOCK_HOLD, t + 11000, &R) == 0 && R.penalty.level == 2 &&
	       R.penalty.mute_ms == 400, "10 s of good behaviour forgive one level");
	tap_ok(igb_mbx_offend(m, 0, IGB_MBX_OFF_LOCK_HOLD, t + 41000, &R) == 0 && R.penalty.level == 1 &&
	       R.penalty.mute_ms == 200, "30 s forgive them all");
	igb_mbx_free(m);
}

/* Malformed words are an offence beyond a few; refusals igbvf may meet are not. */
static void test_bad_messages(void)
{
	struct igb_mbx *m = ready_engine(false);
	bool quiet = true;

	for (int i = 0; i < 16; i++) {
		tx_at(m, 0, now, 0x0042, 0, 0);
		quiet &= R.reason == IGB_MBX_E_UNKNOWN_ID && R.penalty.offence == IGB_MBX_OFF_NONE;
	}
	tap_ok(quiet, "16 unknown ids at once: refused, no penalty");
	tx_at(m, 0, now + 199, IGB_MBX_VF_SET_LPE, 0xffffffffu, 0);
	tap_ok(R.reason == IGB_MBX_E_FRAME_SIZE && R.reply[0] == NACK_CTS(IGB_MBX_VF_SET_LPE) &&
	       R.penalty.offence == IGB_MBX_OFF_BAD_MESSAGES && R.penalty.mute_ms == 200,
	       "the 17th within 200 ms (frame size 0xffffffff): NACKed and muted 200 ms");
	tap_is_int(stats(m, 0).offences[IGB_MBX_OFF_BAD_MESSAGES], 1, "counted as bad messages");
	tx(m, 1, IGB_MBX_VF_RESET, 0, 0);
	quiet = R.reason == IGB_MBX_OK;
	for (int i = 0; i < 40; i++) {
		tx_mac(m, 1, 0, MACX);
		quiet &= R.reason == IGB_MBX_E_MAC_NOT_ASSIGNED && R.penalty.offence == IGB_MBX_OFF_NONE;
	}
	tap_ok(quiet, "40 refused MAC changes (an untrusted igbvf may try): no penalty");
	igb_mbx_free(m);
}

static void test_reset_storm(void)
{
	struct igb_mbx *m = ready_engine(false);
	struct igb_mbx_policy p;
	uint64_t t = 4000000;
	unsigned with_actions = 0, penalties = 0, forgiven = 0;

	for (int i = 0; i < 8; i++) {
		if (igb_mbx_vf_flr(m, 0, t, &R))
			tap_diag("flr failed");
		with_actions += R.n_actions > 0;
		penalties += R.penalty.offence != IGB_MBX_OFF_NONE;
	}
	tap_ok(with_actions == 1 && penalties == 0,
	       "8 FLRs at once: only the first has actions (then the VF is as an FLR leaves it)");
	tap_ok(igb_mbx_vf_flr(m, 0, t, &R) == 0 && R.penalty.offence == IGB_MBX_OFF_RESET_STORM &&
	       R.penalty.mute_ms == 200, "the 9th: a reset storm, muted 200 ms");
	/* One FLR a millisecond for 20 s: escalated, never forgiven by the storm's own FLRs. */
	for (unsigned i = 1; i <= 20000; i++) {
		if (igb_mbx_vf_flr(m, 0, t + i, &R))
			tap_diag("flr failed");
		penalties += R.penalty.offence != IGB_MBX_OFF_NONE;
		forgiven += R.penalty.forgiven;
		with_actions += R.n_actions > 0;
	}
	tap_ok(penalties == 5 && forgiven == 0 && with_actions == 1,
	       "20 s of storm: 5 more penalties (ignored after ~6 s), never forgiven, no action");
	tap_ok(igb_mbx_verdict(m, 0, t + 20000, NULL) == IGB_MBX_IGNORED && stats(m, 0).flrs == 20009 &&
	       stats(m, 0).offences[IGB_MBX_OFF_RESET_STORM] > 19000, "ignored; every FLR counted");
	tap_ok(igb_mbx_vf_flr(m, 0, t + 21000, &R) == 0 && !R.penalty.forgiven,
	       "an FLR 1 s after the storm does not forgive");
	tap_ok(igb_mbx_vf_flr(m, 0, t + 30000, &R) == 0 && R.penalty.forgiven &&
	       igb_mbx_verdict(m, 0, t + 30000, NULL) == IGB_MBX_HEARD, "one after 10 quiet seconds does");
	for (int i = 0; i < 20; i++)
		if (igb_mbx_vf_flr(m, 0, t + 40000, &R))
			tap_diag("flr failed");
	tap_is_int(igb_mbx_verdict(m, 0, t + 40000, NULL), IGB_MBX_MUTED, "storm again: muted");
	igb_mbx_policy_init(&p);
	memcpy(p.mac, MAC0, 6);
	tap_ok(igb_mbx_set_policy(m, 0, &p, &R) == 0 && R.penalty.forgiven &&
	       igb_mbx_verdict(m, 0, t + 40000, NULL) == IGB_MBX_HEARD,
	       "a new policy from the chassis forgives it too");
	igb_mbx_free(m);
}

static void test_multicast(void)
{
	struct igb_mbx *m = ready_engine(false);
	struct igb_mbx_policy p;
	uint32_t msg[IGB_MBX_MSG_WORDS] = { 0 };
	uint32_t mta[IGB_MBX_MTA_WORDS];

	msg[0] = IGB_MBX_VF_SET_MULTICAST | 30u << 16;
	for (int i = 1; i <= 15; i++)
		msg[i] = (uint32_t)(2 * i) << 16 | (uint32_t)(2 * i - 1);
	tap_ok(igb_mbx_process(m, 0, msg, 16, now += 100, &R) == 0 && R.reason == IGB_MBX_OK &&
	       state(m, 0).n_mc == 30, "30 hashes (a full message): accepted");
	msg[0] = IGB_MBX_VF_SET_MULTICAST | 31u << 16;
	tap_ok(igb_mbx_process(m, 0, msg, 16, now += 100, &R) == 0 && R.reason == IGB_MBX_E_BAD_INFO &&
	       state(m, 0).n_mc == 30, "31 hashes cannot fit a message: refused, list kept");
	msg[0] = IGB_MBX_VF_SET_MULTICAST | 0x80u << 16;
	tap_ok(igb_mbx_process(m, 0, msg, 16, now += 100, &R) == 0 && R.reason == IGB_MBX_E_BAD_INFO,
	       "overflow flag in the count: refused");

	igb_mbx_policy_init(&p);
	memcpy(p.mac, MAC0, 6);
	p.max_mc = 5;
	tap_is_int(igb_mbx_set_policy(m, 0, &p, &R), 0, "policy: multicast quota 5");
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	msg[0] = IGB_MBX_VF_SET_MULTICAST | 6u << 16;
	tap_ok(igb_mbx_process(m, 0, msg, 16, now += 100, &R) == 0 && R.reason == IGB_MBX_E_MC_QUOTA &&
	       state(m, 0).n_mc == 0, "6 hashes over a quota of 5: refused");
	msg[0] = IGB_MBX_VF_SET_MULTICAST | 5u << 16;
	tap_ok(igb_mbx_process(m, 0, msg, 16, now += 100, &R) == 0 && R.reason == IGB_MBX_OK &&
	       state(m, 0).n_mc == 5, "5 hashes: accepted");
	tx(m, 0, IGB_MBX_VF_SET_MULTICAST | 1u << 16, 0x1000, 0);
	tap_ok(R.reason == IGB_MBX_E_MC_HASH && state(m, 0).n_mc == 5, "hash 0x1000: out of range");

	tx(m, 0, IGB_MBX_VF_SET_MULTICAST | 1u << 16, 0x0123, 0);
	tx(m, 1, IGB_MBX_VF_RESET, 0, 0);
	tx(m, 1, IGB_MBX_VF_SET_MULTICAST | 1u << 16, 0x0fff, 0);
	igb_mbx_mta(m, mta);
	tap_ok(mta[0x123 >> 5] == 1u << (0x123 & 31) && mta[127] == 1u << 31 && mta[0] == 0,
	       "igb_mbx_mta: the union of both VFs' hashes");
	igb_mbx_free(m);
}

static void test_promisc(void)
{
	struct igb_mbx *m = ready_engine(false);
	const struct igb_mbx_action *a;

	tx(m, 0, IGB_MBX_VF_SET_PROMISC | IGB_MBX_PROMISC_MULTICAST << 16, 0, 0);
	tap_is_int(R.reason, IGB_MBX_E_NOT_TRUSTED, "untrusted allmulti: refused");
	tx(m, 0, IGB_MBX_VF_SET_PROMISC | IGB_MBX_PROMISC_UNICAST << 16, 0, 0);
	tap_is_int(R.reason, IGB_MBX_E_NOT_TRUSTED, "untrusted unicast promisc: refused");
	tx(m, 0, IGB_MBX_VF_SET_PROMISC, 0, 0);
	tap_is_int(R.reason, IGB_MBX_OK, "turning promisc off is always allowed");
	set_policy(m, 0, MAC0, true);
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx(m, 0, IGB_MBX_VF_SET_PROMISC | 3u << 16, 0, 0);
	a = find_act(IGB_MBX_ACT_SET_PROMISC);
	tap_ok(R.reason == IGB_MBX_OK && a && a->promisc.unicast && a->promisc.multicast,
	       "trusted promisc: ACK and SET_PROMISC");
	tx(m, 0, IGB_MBX_VF_SET_PROMISC | 4u << 16, 0, 0);
	tap_is_int(R.reason, IGB_MBX_E_BAD_INFO, "unknown promisc flag: refused");
	igb_mbx_free(m);
}

static void test_reset_keeps_policy(void)
{
	struct igb_mbx *m = new_engine(2);
	struct igb_mbx_policy p, got;
	struct igb_mbx_vf_state st;

	igb_mbx_policy_init(&p);
	memcpy(p.mac, MAC0, 6);
	p.trusted = true;
	p.n_vlans = 1;
	p.vlans[0] = 7;
	if (igb_mbx_set_policy(m, 0, &p, &R))
		return;
	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx_mac(m, 0, 0, MACX);
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MACY);
	tx(m, 0, IGB_MBX_VF_SET_MULTICAST | 1u << 16, 0x55, 0);
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 7, 0);
	tx(m, 0, IGB_MBX_VF_SET_LPE, 9000, 0);
	tx(m, 0, IGB_MBX_VF_SET_PROMISC | 2u << 16, 0, 0);
	st = state(m, 0);
	tap_ok(st.n_extra == 1 && st.n_mc == 1 && st.n_vlans == 1 && st.max_frame == 9000 &&
	       st.promisc_multicast && memcmp(st.mac, MACX, 6) == 0, "VF 0 configured everything");

	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	st = state(m, 0);
	tap_ok(st.n_extra == 0 && st.n_mc == 0 && st.n_vlans == 0 && st.max_frame == 1522 &&
	       !st.promisc_multicast && memcmp(st.mac, MAC0, 6) == 0 && st.cts,
	       "VF_RESET: dynamic state cleared, back to the assigned MAC, CTS");
	tap_ok(igb_mbx_get_policy(m, 0, &got) == 0 && policy_eq(&got, &p),
	       "... and the policy untouched");

	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 7, 0);
	tap_is_int(igb_mbx_vf_flr(m, 0, now, &R), 0, "FLR processed");
	st = state(m, 0);
	tap_ok(st.n_vlans == 0 && !st.cts && find_act(IGB_MBX_ACT_DISABLE_RXTX) &&
	       find_act(IGB_MBX_ACT_CLEAR_VLANS) && R.reply_len == 0,
	       "FLR: dynamic state cleared, CTS revoked, rx/tx off, no reply");
	tap_ok(igb_mbx_get_policy(m, 0, &got) == 0 && policy_eq(&got, &p),
	       "FLR keeps the policy");
	tap_is_int(stats(m, 0).flrs, 1, "FLR counted");
	igb_mbx_free(m);
}

static void test_ping_and_ack(void)
{
	struct igb_mbx *m = ready_engine(false);
	uint32_t w = 0;

	tap_ok(igb_mbx_ping(m, 0, &w) == 0 && w == (IGB_MBX_PF_CONTROL | IGB_MBX_CTS),
	       "ping a CTS VF: PF_CONTROL|CTS");
	tap_ok(igb_mbx_ping(m, 1, &w) == 0 && w == (IGB_MBX_PF_CONTROL | IGB_MBX_NACK),
	       "ping a VF that has not reset: PF_CONTROL|NACK");
	tap_is_int(igb_mbx_vf_ack(m, 0, 10000, &w), 0, "VF ack from a CTS VF: nothing to send");
	tap_ok(igb_mbx_vf_ack(m, 1, 10000, &w) == 1 && w == IGB_MBX_NACK, "from a non-CTS VF: NACK");
	tap_is_int(igb_mbx_vf_ack(m, 1, 11999, &w), 0, "... at most once per 2 s");
	tap_is_int(igb_mbx_vf_ack(m, 1, 12000, &w), 1, "... then again");
	igb_mbx_free(m);
}

/* Nothing VF 0 sends may change VF 1. */
static void test_isolation(void)
{
	struct igb_mbx *m = new_engine(2);
	struct igb_mbx_vf_state st1, st1b;
	struct igb_mbx_stats s1, s1b;
	struct igb_mbx_policy p1, got;
	uint32_t msg[IGB_MBX_MSG_WORDS];
	uint32_t seed = 12345;

	set_policy(m, 0, MAC0, true);
	set_policy(m, 1, MAC1, false);
	tx(m, 1, IGB_MBX_VF_RESET, 0, 0);
	tx(m, 1, IGB_MBX_VF_SET_MULTICAST | 1u << 16, 0x42, 0);
	tx(m, 1, IGB_MBX_VF_SET_LPE, 1522, 0);
	st1 = state(m, 1);
	s1 = stats(m, 1);
	if (igb_mbx_get_policy(m, 1, &p1))
		return;

	tx(m, 0, IGB_MBX_VF_RESET, 0, 0);
	tx_mac(m, 0, 0, MAC1);
	tx_mac(m, 0, IGB_MBX_MAC_FILTER_ADD, MAC1);
	tx(m, 0, IGB_MBX_VF_SET_MULTICAST | 3u << 16, 0x00010002, 3);
	tx(m, 0, IGB_MBX_VF_SET_VLAN | 1u << 16, 0, 0);
	for (int i = 0; i < 2000; i++) {	/* random words, all at one instant */
		for (int j = 0; j < IGB_MBX_MSG_WORDS; j++) {
			seed = seed * 1103515245u + 12345u;
			msg[j] = seed;
		}
		msg[0] = (msg[0] & 0x00ff0007) | (i & 1 ? 0 : 0x20000000);
		if (igb_mbx_process(m, 0, msg, IGB_MBX_MSG_WORDS, now, &R))
			break;
	}
	if (igb_mbx_vf_flr(m, 0, now, &R))
		tap_diag("flr failed");

	st1b = state(m, 1);
	s1b = stats(m, 1);
	tap_ok(state_eq(&st1, &st1b), "VF 1's state is unchanged by everything VF 0 sent");
	tap_ok(memcmp(&s1, &s1b, sizeof(s1)) == 0, "VF 1's counters are unchanged");
	tap_ok(igb_mbx_get_policy(m, 1, &got) == 0 && policy_eq(&got, &p1),
	       "VF 1's policy is unchanged");
	tap_ok(stats(m, 0).messages >= 2000, "VF 0's messages were all counted");
	igb_mbx_free(m);
}

static void test_api_edges(void)
{
	struct igb_mbx_config cfg;
	struct igb_mbx *m = (struct igb_mbx *)&cfg;
	const char *seen[IGB_MBX_REASON_COUNT];
	int distinct = 1;

	igb_mbx_config_init(&cfg, 9);
	tap_is_int(cfg.num_vfs, 8, "config_init clamps num_vfs to 8");
	cfg.rate_burst = 0;
	tap_ok(igb_mbx_new(&cfg, &m) == -EINVAL && m == NULL, "rate_burst 0: -EINVAL, *out NULL");
	cfg.rate_burst = 1;
	cfg.num_vfs = 0;
	tap_is_int(igb_mbx_new(&cfg, &m), -EINVAL, "0 VFs: -EINVAL");
	for (int r = 0; r < IGB_MBX_REASON_COUNT; r++) {
		seen[r] = igb_mbx_reason_str((enum igb_mbx_reason)r);
		for (int q = 0; q < r; q++)
			if (!seen[r] || strcmp(seen[q], seen[r]) == 0)
				distinct = 0;
	}
	tap_ok(distinct, "every reason has its own description");
}

int main(void)
{
	test_bringup();
	test_mac_change();
	test_grant_trust();
	test_mac_duplicate_in_use();
	test_mac_callback();
	test_extra_macs();
	test_vlans();
	test_vlan_table();
	test_frame_sizes();
	test_order_and_format();
	test_no_mac();
	test_rate_limit();
	test_escalation();
	test_forgiven_over_time();
	test_bad_messages();
	test_reset_storm();
	test_multicast();
	test_promisc();
	test_reset_keeps_policy();
	test_ping_and_ack();
	test_isolation();
	test_api_edges();
	return tap_done();
}
