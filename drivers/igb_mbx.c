/* SPDX-License-Identifier: MIT */
/*
 * The PF side of the 82576 mailbox protocol: validation, per-VF state and policy,
 * rate limiting. See igb_mbx.h for the contract; protocol facts are cited there.
 *
 * Why the engine is strict where Linux igb is lenient (DESIGN.md, "What the stock PF
 * driver gets wrong"): every value a VF sends is range-checked before it becomes an
 * action, every VF has quotas that a reset or FLR returns, MACs are unique across
 * VFs, and a flooding VF is answered with NACKs at a bounded cost.
 */
#include "igb_mbx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VF_ACK_NACK_INTERVAL_MS 2000	/* Linux igb waits 2 s between such NACKs */

/* A token bucket: burst tokens, one more per interval. */
struct bucket {
	unsigned tokens;
	uint64_t last_ms;
	bool started;
};

struct vf {
	struct igb_mbx_policy pol;
	struct igb_mbx_vf_state st;
	struct igb_mbx_stats stats;
	struct bucket rate;		/* messages */
	struct bucket bad;		/* bad messages */
	struct bucket flr;		/* FLRs */
	bool revoked;			/* as an FLR leaves it, since the last VF_RESET */
	unsigned level;			/* penalty escalation */
	uint64_t last_offence_ms;
	uint64_t muted_until;
	bool ignored;
	bool nack_sent;			/* igb_mbx_vf_ack() */
	uint64_t last_nack_ms;
};

struct igb_mbx {
	struct igb_mbx_config cfg;
	struct vf vf[IGB_MBX_MAX_VFS];
};

/* One incoming message, decoded once. */
struct msg {
	const uint32_t *w;
	unsigned n;
	uint32_t id, info;
};

static const char *const reason_str[IGB_MBX_REASON_COUNT] = {
	[IGB_MBX_OK] = "ok",
	[IGB_MBX_E_SHORT] = "message too short",
	[IGB_MBX_E_NOT_REQUEST] = "ACK/NACK set in a request",
	[IGB_MBX_E_RESERVED] = "reserved bits set",
	[IGB_MBX_E_UNKNOWN_ID] = "unknown message id",
	[IGB_MBX_E_BAD_INFO] = "invalid info field",
	[IGB_MBX_E_NOT_CTS] = "message before VF reset",
	[IGB_MBX_E_RATE_LIMITED] = "rate limited",
	[IGB_MBX_E_NO_MAC] = "no MAC assigned to the VF",
	[IGB_MBX_E_MAC_INVALID] = "invalid unicast MAC",
	[IGB_MBX_E_MAC_NOT_ASSIGNED] = "MAC differs from the assigned one (VF not trusted)",
	[IGB_MBX_E_MAC_IN_USE] = "MAC owned elsewhere in the chassis (a VF, a static entry, a PF)",
	[IGB_MBX_E_MAC_QUOTA] = "extra MAC quota reached",
	[IGB_MBX_E_MAC_TABLE_FULL] = "no free receive address entry",
	[IGB_MBX_E_NOT_TRUSTED] = "VF not trusted",
	[IGB_MBX_E_MC_QUOTA] = "multicast quota exceeded",
	[IGB_MBX_E_MC_HASH] = "multicast hash out of range",
	[IGB_MBX_E_VLAN_RANGE] = "VLAN id out of range",
	[IGB_MBX_E_VLAN_NOT_ALLOWED] = "VLAN not allowed for the VF",
	[IGB_MBX_E_VLAN_PORT] = "port VLAN set by the chassis",
	[IGB_MBX_E_VLAN_QUOTA] = "VLAN quota reached",
	[IGB_MBX_E_VLAN_TABLE_FULL] = "no free VLAN filter entry",
	[IGB_MBX_E_FRAME_SIZE] = "max frame size out of range",
	[IGB_MBX_E_PENALIZED] = "VF muted or ignored",
};

static const char *const offence_str[IGB_MBX_OFF_COUNT] = {
	[IGB_MBX_OFF_NONE] = "none",
	[IGB_MBX_OFF_FLOOD] = "mailbox flood",
	[IGB_MBX_OFF_BAD_MESSAGES] = "bad messages",
	[IGB_MBX_OFF_LOCK_HOLD] = "mailbox lock held",
	[IGB_MBX_OFF_RESET_STORM] = "reset storm",
};

const char *igb_mbx_offence_str(enum igb_mbx_offence o)
{
	if ((unsigned)o >= IGB_MBX_OFF_COUNT)
		return "unknown offence";
	return offence_str[o];
}

const char *igb_mbx_verdict_str(enum igb_mbx_verdict v)
{
	switch (v) {
	case IGB_MBX_HEARD: return "heard";
	case IGB_MBX_MUTED: return "muted";
	case IGB_MBX_IGNORED: return "ignored";
	}
	return "unknown";
}

const char *igb_mbx_reason_str(enum igb_mbx_reason r)
{
	if ((unsigned)r >= IGB_MBX_REASON_COUNT)
		return "unknown reason";
	return reason_str[r];
}

const char *igb_mbx_action_str(enum igb_mbx_action_type t)
{
	switch (t) {
	case IGB_MBX_ACT_SET_MAC: return "set-mac";
	case IGB_MBX_ACT_CLEAR_MAC: return "clear-mac";
	case IGB_MBX_ACT_ADD_MAC_FILTER: return "add-mac-filter";
	case IGB_MBX_ACT_CLEAR_MAC_FILTERS: return "clear-mac-filters";
	case IGB_MBX_ACT_SET_MULTICAST: return "set-multicast";
	case IGB_MBX_ACT_ADD_VLAN: return "add-vlan";
	case IGB_MBX_ACT_DEL_VLAN: return "del-vlan";
	case IGB_MBX_ACT_CLEAR_VLANS: return "clear-vlans";
	case IGB_MBX_ACT_SET_PORT_VLAN: return "set-port-vlan";
	case IGB_MBX_ACT_SET_MAX_FRAME: return "set-max-frame";
	case IGB_MBX_ACT_SET_PROMISC: return "set-promisc";
	case IGB_MBX_ACT_ENABLE_RXTX: return "enable-rxtx";
	case IGB_MBX_ACT_DISABLE_RXTX: return "disable-rxtx";
	}
	return "unknown action";
}

/* --- MAC helpers ------------------------------------------------------------------ */

static bool mac_is_zero(const uint8_t *mac)
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/* A station address: not zero, group bit clear (so not broadcast either). */
static bool mac_is_unicast(const uint8_t *mac)
{
	return !mac_is_zero(mac) && !(mac[0] & 1);
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

/* Words 1-2 as the VF wrote them: byte 0 in bits 7:0 of word 1 (igbvf memcpy, LE). */
static void mac_from_words(uint8_t *mac, uint32_t w1, uint32_t w2)
{
	for (int i = 0; i < 4; i++)
		mac[i] = (uint8_t)(w1 >> (8 * i));
	mac[4] = (uint8_t)w2;
	mac[5] = (uint8_t)(w2 >> 8);
}

static void mac_to_words(const uint8_t *mac, uint32_t *w1, uint32_t *w2)
{
	*w1 = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
	      (uint32_t)mac[3] << 24;
	*w2 = (uint32_t)mac[4] | (uint32_t)mac[5] << 8;
}

/* Does VF v claim mac: as its assigned, its current primary or an extra filter? */
static bool vf_claims_mac(const struct vf *v, const uint8_t *mac)
{
	if (!mac_is_zero(v->pol.mac) && mac_eq(v->pol.mac, mac))
		return true;
	if (!mac_is_zero(v->st.mac) && mac_eq(v->st.mac, mac))
		return true;
	for (unsigned i = 0; i < v->st.n_extra; i++)
		if (mac_eq(v->st.extra[i], mac))
			return true;
	return false;
}

static bool mac_taken(const struct igb_mbx *m, unsigned self, const uint8_t *mac)
{
	for (unsigned i = 0; i < m->cfg.num_vfs; i++)
		if (i != self && vf_claims_mac(&m->vf[i], mac))
			return true;
	return m->cfg.mac_in_use && m->cfg.mac_in_use(m->cfg.ctx, self, mac);
}

/* --- VLAN helpers ----------------------------------------------------------------- */

static bool vlan_held(const struct vf *v, uint16_t vid)
{
	for (unsigned i = 0; i < v->st.n_vlans; i++)
		if (v->st.vlans[i] == vid)
			return true;
	return false;
}

static bool vlan_allowed(const struct igb_mbx_policy *p, uint16_t vid)
{
	if (vid == 0)
		return true;
	for (unsigned i = 0; i < p->n_vlans; i++)
		if (p->vlans[i] == vid)
			return true;
	return false;
}

static void bit_set(uint32_t *map, unsigned bit)
{
	map[bit >> 5] |= 1u << (bit & 31);
}

static bool bit_test(const uint32_t *map, unsigned bit)
{
	return map[bit >> 5] & (1u << (bit & 31));
}

/* Distinct VLANs in use (VF filters and port VLANs), leaving out VF skip if < num_vfs. */
static unsigned vlans_in_use(const struct igb_mbx *m, unsigned skip, uint32_t *map)
{
	unsigned n = 0;

	memset(map, 0, 4096 / 8);
	for (unsigned i = 0; i < m->cfg.num_vfs; i++) {
		const struct vf *v = &m->vf[i];

		if (i == skip)
			continue;
		if (v->pol.port_vlan && !bit_test(map, v->pol.port_vlan)) {
			bit_set(map, v->pol.port_vlan);
			n++;
		}
		for (unsigned j = 0; j < v->st.n_vlans; j++) {
			if (bit_test(map, v->st.vlans[j]))
				continue;
			bit_set(map, v->st.vlans[j]);
			n++;
		}
	}
	return n;
}

static unsigned extra_macs_in_use(const struct igb_mbx *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->cfg.num_vfs; i++)
		n += m->vf[i].st.n_extra;
	return n;
}

/* --- Results ------------------------------------------------------------------------ */

static struct igb_mbx_action *act_push(struct igb_mbx_result *res, unsigned vf,
				       enum igb_mbx_action_type type)
{
	struct igb_mbx_action *a;

	/* Every path emits at most IGB_MBX_MAX_ACTIONS; a miscount is a bug, not input. */
	if (res->n_actions >= IGB_MBX_MAX_ACTIONS)
		return &res->actions[IGB_MBX_MAX_ACTIONS - 1];
	a = &res->actions[res->n_actions++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->vf = vf;
	return a;
}

static void act_mac(struct igb_mbx_result *res, unsigned vf, enum igb_mbx_action_type t,
		    const uint8_t *mac)
{
	memcpy(act_push(res, vf, t)->mac, mac, 6);
}

static void act_vid(struct igb_mbx_result *res, unsigned vf, enum igb_mbx_action_type t,
		    uint16_t vid)
{
	act_push(res, vf, t)->vid = vid;
}

static void act_mc(struct igb_mbx_result *res, unsigned vf, const struct vf *v)
{
	struct igb_mbx_action *a = act_push(res, vf, IGB_MBX_ACT_SET_MULTICAST);

	a->mc.count = v->st.n_mc;
	memcpy(a->mc.hash, v->st.mc, sizeof(v->st.mc[0]) * v->st.n_mc);
}

static void act_promisc(struct igb_mbx_result *res, unsigned vf, const struct vf *v)
{
	struct igb_mbx_action *a = act_push(res, vf, IGB_MBX_ACT_SET_PROMISC);

	a->promisc.unicast = v->st.promisc_unicast;
	a->promisc.multicast = v->st.promisc_multicast;
}

static void result_init(struct igb_mbx_result *res)
{
	memset(res, 0, sizeof(*res));
}

/*
 * The one-word reply to a request: the request's id and info echoed, ACK or NACK,
 * and CTS while the VF is clear to send (Linux igb: the VF_RESET reply is built
 * elsewhere and never carries CTS).
 */
static void reply_word(struct igb_mbx_result *res, const struct vf *v, uint32_t w0,
		       enum igb_mbx_reason r)
{
	res->reply[0] = (w0 & (IGB_MBX_ID_MASK | IGB_MBX_INFO_MASK)) |
			(r == IGB_MBX_OK ? IGB_MBX_ACK : IGB_MBX_NACK) |
			(v->st.cts ? IGB_MBX_CTS : 0);
	res->reply_len = 1;
	res->reason = r;
}

static void count_reply(struct vf *v, enum igb_mbx_reason r)
{
	if (r == IGB_MBX_OK) {
		v->stats.acks++;
		return;
	}
	v->stats.nacks++;
	v->stats.refused[r]++;
	if (r == IGB_MBX_E_RATE_LIMITED)
		v->stats.rate_limited++;
}

/* --- Token buckets: messages, bad messages, FLRs ---------------------------------- */

static bool bucket_take(struct bucket *b, unsigned burst, unsigned interval_ms, uint64_t now)
{
	uint64_t add;

	if (!b->started) {
		b->started = true;
		b->tokens = burst;
		b->last_ms = now;
	} else if (now < b->last_ms) {
		b->last_ms = now;	/* clock stepped back: new origin, no refill */
	} else {
		add = (now - b->last_ms) / interval_ms;
		if (add >= burst - b->tokens) {
			b->tokens = burst;
			b->last_ms = now;
		} else if (add) {
			b->tokens += (unsigned)add;
			b->last_ms += add * interval_ms;
		}
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

/* --- Penalties ------------------------------------------------------------------------ */

static enum igb_mbx_verdict verdict_at(const struct vf *v, uint64_t now, unsigned *left)
{
	if (left)
		*left = 0;
	if (v->ignored)
		return IGB_MBX_IGNORED;
	if (now >= v->muted_until)
		return IGB_MBX_HEARD;
	if (left)
		*left = (unsigned)(v->muted_until - now);
	return IGB_MBX_MUTED;
}

/* Levels forgiven for the time since the last offence (one per forgive_ms). */
static void decay(struct vf *v, const struct igb_mbx_config *cfg, uint64_t now)
{
	uint64_t quiet;

	if (!v->level || now < v->last_offence_ms)
		return;
	quiet = (now - v->last_offence_ms) / cfg->forgive_ms;
	v->level = quiet >= v->level ? 0 : v->level - (unsigned)quiet;
}

/* One offence: counted always, penalized (and escalated) only while the VF is heard. */
static void offend(struct vf *v, const struct igb_mbx_config *cfg, enum igb_mbx_offence o,
		   uint64_t now, struct igb_mbx_penalty *pen)
{
	v->stats.offences[o]++;
	if (verdict_at(v, now, NULL) != IGB_MBX_HEARD)
		return;
	decay(v, cfg, now);
	v->last_offence_ms = now;
	v->level++;
	v->stats.penalties++;
	pen->offence = o;
	pen->level = v->level;
	if (v->level > cfg->mute_levels) {
		v->ignored = true;
		pen->verdict = IGB_MBX_IGNORED;
		return;
	}
	pen->mute_ms = cfg->mute_ms << (v->level - 1);
	pen->verdict = IGB_MBX_MUTED;
	v->muted_until = now + pen->mute_ms;
}

/* A reset within its rate, or the chassis: the VF starts again with a clean record. */
static void forgive(struct vf *v, struct igb_mbx_penalty *pen)
{
	if (!v->ignored && !v->level && !v->muted_until)
		return;
	if (v->ignored || v->level)
		v->stats.forgiven++;
	v->ignored = false;
	v->level = 0;
	v->muted_until = 0;
	pen->forgiven = true;
}

/* Words no igbvf sends: malformed, or values out of any range. */
static bool reason_is_bad(enum igb_mbx_reason r)
{
	switch (r) {
	case IGB_MBX_E_SHORT:
	case IGB_MBX_E_NOT_REQUEST:
	case IGB_MBX_E_RESERVED:
	case IGB_MBX_E_UNKNOWN_ID:
	case IGB_MBX_E_BAD_INFO:
	case IGB_MBX_E_MAC_INVALID:
	case IGB_MBX_E_MC_HASH:
	case IGB_MBX_E_VLAN_RANGE:
	case IGB_MBX_E_FRAME_SIZE:
		return true;
	default:
		return false;
	}
}

/* --- Resetting a VF's dynamic state ---------------------------------------------- */

/* Back to what a freshly reset VF has; its policy stays. */
static void vf_clear_dynamic(struct vf *v)
{
	struct igb_mbx_vf_state *st = &v->st;

	memset(st, 0, sizeof(*st));
	memcpy(st->mac, v->pol.mac, 6);
	st->max_frame = IGB_MBX_DEFAULT_FRAME;
}

/* The actions that make the hardware match a just-cleared VF (exactly 7). */
static void vf_reset_actions(struct igb_mbx_result *res, unsigned vf, const struct vf *v)
{
	act_push(res, vf, IGB_MBX_ACT_CLEAR_MAC_FILTERS);
	act_push(res, vf, IGB_MBX_ACT_CLEAR_VLANS);
	act_mc(res, vf, v);
	act_promisc(res, vf, v);
	act_push(res, vf, IGB_MBX_ACT_SET_MAX_FRAME)->max_frame = v->st.max_frame;
	act_vid(res, vf, IGB_MBX_ACT_SET_PORT_VLAN, v->pol.port_vlan);
	if (mac_is_zero(v->st.mac))
		act_push(res, vf, IGB_MBX_ACT_CLEAR_MAC);
	else
		act_mac(res, vf, IGB_MBX_ACT_SET_MAC, v->st.mac);
}

/* FLR or policy change: the VF must send VF_RESET again before anything else. */
static void vf_revoke(struct igb_mbx_result *res, unsigned vf, struct vf *v)
{
	v->revoked = true;
	vf_clear_dynamic(v);
	vf_reset_actions(res, vf, v);
	act_push(res, vf, IGB_MBX_ACT_DISABLE_RXTX);
}

/* --- Message handlers: each returns the reason for the reply ------------------------- */

static enum igb_mbx_reason msg_reset(struct igb_mbx *m, unsigned vf, const struct msg *msg,
				     struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];
	bool has_mac;

	/* igbvf sends exactly VF_RESET; anything in the info field is not igbvf. */
	if (msg->info)
		return IGB_MBX_E_BAD_INFO;
	vf_clear_dynamic(v);
	v->revoked = false;
	v->st.cts = true;
	v->stats.resets++;
	vf_reset_actions(res, vf, v);
	has_mac = !mac_is_zero(v->st.mac);
	/* An untrusted VF with no MAC gets no queues: it could only send as someone else. */
	act_push(res, vf, has_mac || v->pol.trusted ? IGB_MBX_ACT_ENABLE_RXTX
						   : IGB_MBX_ACT_DISABLE_RXTX);

	res->reply_len = 3;
	res->reply[0] = IGB_MBX_VF_RESET | (has_mac ? IGB_MBX_ACK : IGB_MBX_NACK);
	if (has_mac)
		mac_to_words(v->st.mac, &res->reply[1], &res->reply[2]);
	res->reason = has_mac ? IGB_MBX_OK : IGB_MBX_E_NO_MAC;
	return res->reason;
}

static enum igb_mbx_reason mac_set_primary(struct igb_mbx *m, unsigned vf, const uint8_t *mac,
					   struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];

	bool assigned = !mac_is_zero(v->pol.mac) && mac_eq(mac, v->pol.mac);

	if (!mac_is_unicast(mac))
		return IGB_MBX_E_MAC_INVALID;
	if (!assigned && !v->pol.trusted)
		return IGB_MBX_E_MAC_NOT_ASSIGNED;
	/* The assigned MAC was checked when the chassis set it and stays reserved. */
	if (!assigned && mac_taken(m, vf, mac))
		return IGB_MBX_E_MAC_IN_USE;
	memcpy(v->st.mac, mac, 6);
	act_mac(res, vf, IGB_MBX_ACT_SET_MAC, mac);
	return IGB_MBX_OK;
}

static enum igb_mbx_reason mac_add_filter(struct igb_mbx *m, unsigned vf, const uint8_t *mac,
					  struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];

	if (!v->pol.trusted)
		return IGB_MBX_E_NOT_TRUSTED;
	if (!mac_is_unicast(mac))
		return IGB_MBX_E_MAC_INVALID;
	if (vf_claims_mac(v, mac))
		return IGB_MBX_OK;	/* already its own: nothing to program */
	if (mac_taken(m, vf, mac))
		return IGB_MBX_E_MAC_IN_USE;
	if (v->st.n_extra >= v->pol.max_extra_macs)
		return IGB_MBX_E_MAC_QUOTA;
	if (extra_macs_in_use(m) >= m->cfg.extra_mac_filters)
		return IGB_MBX_E_MAC_TABLE_FULL;
	memcpy(v->st.extra[v->st.n_extra++], mac, 6);
	act_mac(res, vf, IGB_MBX_ACT_ADD_MAC_FILTER, mac);
	return IGB_MBX_OK;
}

static enum igb_mbx_reason msg_set_mac(struct igb_mbx *m, unsigned vf, const struct msg *msg,
				       struct igb_mbx_result *res)
{
	uint8_t mac[6];

	if (msg->n < 3)
		return IGB_MBX_E_SHORT;
	mac_from_words(mac, msg->w[1], msg->w[2]);
	switch (msg->info) {
	case 0:
		return mac_set_primary(m, vf, mac, res);
	case IGB_MBX_MAC_FILTER_CLR:
		/* igbvf sends a zero address with CLR: the payload means nothing. */
		m->vf[vf].st.n_extra = 0;
		act_push(res, vf, IGB_MBX_ACT_CLEAR_MAC_FILTERS);
		return IGB_MBX_OK;
	case IGB_MBX_MAC_FILTER_ADD:
		return mac_add_filter(m, vf, mac, res);
	default:
		return IGB_MBX_E_BAD_INFO;
	}
}

static enum igb_mbx_reason msg_set_multicast(struct igb_mbx *m, unsigned vf,
					     const struct msg *msg, struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];
	uint16_t hash[IGB_MBX_MAX_MC];
	unsigned count = msg->info;

	if (count > IGB_MBX_MAX_MC)
		return IGB_MBX_E_BAD_INFO;
	if (msg->n < 1 + (count + 1) / 2)
		return IGB_MBX_E_SHORT;
	if (count > v->pol.max_mc)
		return IGB_MBX_E_MC_QUOTA;
	/* Hash 2k is the low half of word 1+k (igbvf packs a u16 array, LE). */
	for (unsigned i = 0; i < count; i++) {
		hash[i] = (uint16_t)(msg->w[1 + i / 2] >> (16 * (i & 1)));
		if (hash[i] > IGB_MBX_MC_HASH_MAX)
			return IGB_MBX_E_MC_HASH;
	}
	memcpy(v->st.mc, hash, sizeof(hash[0]) * count);
	v->st.n_mc = (uint8_t)count;
	act_mc(res, vf, v);
	return IGB_MBX_OK;
}

static enum igb_mbx_reason vlan_add(struct igb_mbx *m, unsigned vf, uint16_t vid,
				    struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];
	uint32_t map[4096 / 32];

	if (vlan_held(v, vid))
		return IGB_MBX_OK;
	if (!vlan_allowed(&v->pol, vid))
		return IGB_MBX_E_VLAN_NOT_ALLOWED;
	if (v->st.n_vlans >= v->pol.max_vlans)
		return IGB_MBX_E_VLAN_QUOTA;
	if (vlans_in_use(m, IGB_MBX_MAX_VFS, map) >= m->cfg.vlan_filters && !bit_test(map, vid))
		return IGB_MBX_E_VLAN_TABLE_FULL;
	v->st.vlans[v->st.n_vlans++] = vid;
	act_vid(res, vf, IGB_MBX_ACT_ADD_VLAN, vid);
	return IGB_MBX_OK;
}

static enum igb_mbx_reason vlan_del(struct vf *v, unsigned vf, uint16_t vid,
				    struct igb_mbx_result *res)
{
	for (unsigned i = 0; i < v->st.n_vlans; i++) {
		if (v->st.vlans[i] != vid)
			continue;
		v->st.vlans[i] = v->st.vlans[--v->st.n_vlans];
		act_vid(res, vf, IGB_MBX_ACT_DEL_VLAN, vid);
		return IGB_MBX_OK;
	}
	return IGB_MBX_OK;	/* not held: already what the VF wants */
}

static enum igb_mbx_reason msg_set_vlan(struct igb_mbx *m, unsigned vf, const struct msg *msg,
					struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];

	if (msg->n < 2)
		return IGB_MBX_E_SHORT;
	if (msg->info > IGB_MBX_VLAN_ADD)
		return IGB_MBX_E_BAD_INFO;
	if (msg->w[1] > IGB_MBX_VID_MAX)
		return IGB_MBX_E_VLAN_RANGE;
	/* As Linux igb: with a port VLAN the chassis owns the VF's VLANs. */
	if (v->pol.port_vlan)
		return IGB_MBX_E_VLAN_PORT;
	if (msg->info == IGB_MBX_VLAN_ADD)
		return vlan_add(m, vf, (uint16_t)msg->w[1], res);
	return vlan_del(v, vf, (uint16_t)msg->w[1], res);
}

static enum igb_mbx_reason msg_set_lpe(struct igb_mbx *m, unsigned vf, const struct msg *msg,
				       struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];

	if (msg->n < 2)
		return IGB_MBX_E_SHORT;
	if (msg->info)
		return IGB_MBX_E_BAD_INFO;
	if (msg->w[1] < IGB_MBX_MIN_FRAME || msg->w[1] > IGB_MBX_MAX_FRAME)
		return IGB_MBX_E_FRAME_SIZE;
	v->st.max_frame = (uint16_t)msg->w[1];
	act_push(res, vf, IGB_MBX_ACT_SET_MAX_FRAME)->max_frame = v->st.max_frame;
	return IGB_MBX_OK;
}

static enum igb_mbx_reason msg_set_promisc(struct igb_mbx *m, unsigned vf,
					   const struct msg *msg, struct igb_mbx_result *res)
{
	struct vf *v = &m->vf[vf];

	if (msg->info & ~(uint32_t)(IGB_MBX_PROMISC_UNICAST | IGB_MBX_PROMISC_MULTICAST))
		return IGB_MBX_E_BAD_INFO;
	/* Turning promiscuous modes off is always allowed. */
	if (msg->info && !v->pol.trusted)
		return IGB_MBX_E_NOT_TRUSTED;
	v->st.promisc_unicast = msg->info & IGB_MBX_PROMISC_UNICAST;
	v->st.promisc_multicast = msg->info & IGB_MBX_PROMISC_MULTICAST;
	act_promisc(res, vf, v);
	return IGB_MBX_OK;
}

/* Checks every message passes before its handler runs. */
static enum igb_mbx_reason check_header(const struct vf *v, const struct msg *msg)
{
	if (msg->n == 0)
		return IGB_MBX_E_SHORT;
	if (msg->w[0] & (IGB_MBX_ACK | IGB_MBX_NACK))
		return IGB_MBX_E_NOT_REQUEST;
	if (msg->w[0] & (IGB_MBX_CTS | IGB_MBX_RSVD_MASK))
		return IGB_MBX_E_RESERVED;
	if (msg->id < IGB_MBX_VF_RESET || msg->id > IGB_MBX_VF_SET_PROMISC)
		return IGB_MBX_E_UNKNOWN_ID;
	/* Until the VF completes a reset it may not configure anything (Linux igb too). */
	if (msg->id != IGB_MBX_VF_RESET && !v->st.cts)
		return IGB_MBX_E_NOT_CTS;
	return IGB_MBX_OK;
}

static enum igb_mbx_reason dispatch(struct igb_mbx *m, unsigned vf, const struct msg *msg,
				    struct igb_mbx_result *res)
{
	switch (msg->id) {
	case IGB_MBX_VF_SET_MAC:
		return msg_set_mac(m, vf, msg, res);
	case IGB_MBX_VF_SET_MULTICAST:
		return msg_set_multicast(m, vf, msg, res);
	case IGB_MBX_VF_SET_VLAN:
		return msg_set_vlan(m, vf, msg, res);
	case IGB_MBX_VF_SET_LPE:
		return msg_set_lpe(m, vf, msg, res);
	case IGB_MBX_VF_SET_PROMISC:
		return msg_set_promisc(m, vf, msg, res);
	default:
		return IGB_MBX_E_UNKNOWN_ID;
	}
}

int igb_mbx_process(struct igb_mbx *m, unsigned vf, const uint32_t *msg, unsigned nwords,
		    uint64_t now_ms, struct igb_mbx_result *res)
{
	struct msg in = { .w = msg, .n = nwords };
	enum igb_mbx_reason r;
	struct vf *v;

	if (!m || !res)
		return -EINVAL;
	result_init(res);
	if (vf >= m->cfg.num_vfs)
		return -EINVAL;
	v = &m->vf[vf];
	if ((!msg && nwords) || nwords > IGB_MBX_MSG_WORDS) {
		reply_word(res, v, 0, IGB_MBX_E_SHORT);
		return -EINVAL;
	}
	v->stats.messages++;
	in.id = nwords ? msg[0] & IGB_MBX_ID_MASK : 0;
	in.info = nwords ? (msg[0] & IGB_MBX_INFO_MASK) >> IGB_MBX_INFO_SHIFT : 0;

	/* A VF being penalized is not heard: no reply, nothing changes. */
	if (verdict_at(v, now_ms, NULL) != IGB_MBX_HEARD) {
		res->reason = IGB_MBX_E_PENALIZED;
		count_reply(v, res->reason);
		return 0;
	}
	/* First, before any parsing: a flooding VF costs a NACK and nothing else. */
	r = bucket_take(&v->rate, m->cfg.rate_burst, m->cfg.rate_interval_ms, now_ms)
		    ? check_header(v, &in)
		    : IGB_MBX_E_RATE_LIMITED;
	if (r == IGB_MBX_E_RATE_LIMITED)
		offend(v, &m->cfg, IGB_MBX_OFF_FLOOD, now_ms, &res->penalty);
	if (r == IGB_MBX_OK && in.id == IGB_MBX_VF_RESET) {
		r = msg_reset(m, vf, &in, res);
		if (r != IGB_MBX_E_BAD_INFO) {
			count_reply(v, r);
			return 0;
		}
	} else if (r == IGB_MBX_OK) {
		r = dispatch(m, vf, &in, res);
	}
	if (r != IGB_MBX_OK)
		res->n_actions = 0;	/* a refused message changes nothing */
	if (reason_is_bad(r) &&
	    !bucket_take(&v->bad, m->cfg.bad_burst, m->cfg.bad_interval_ms, now_ms))
		offend(v, &m->cfg, IGB_MBX_OFF_BAD_MESSAGES, now_ms, &res->penalty);
	reply_word(res, v, nwords ? msg[0] : 0, r);
	count_reply(v, r);
	return 0;
}

/* --- Chassis-side entry points --------------------------------------------------- */

int igb_mbx_vf_flr(struct igb_mbx *m, unsigned vf, uint64_t now_ms, struct igb_mbx_result *res)
{
	struct vf *v;

	if (!m || !res || vf >= m->cfg.num_vfs)
		return -EINVAL;
	result_init(res);
	v = &m->vf[vf];
	v->stats.flrs++;
	/* Over the rate it is a storm; well within it (half the burst still left, so after
	 * a quiet spell) a reset the VF's owner made on purpose, which forgives it. */
	if (!bucket_take(&v->flr, m->cfg.flr_burst, m->cfg.flr_interval_ms, now_ms))
		offend(v, &m->cfg, IGB_MBX_OFF_RESET_STORM, now_ms, &res->penalty);
	else if (v->flr.tokens >= m->cfg.flr_burst / 2)
		forgive(v, &res->penalty);
	/* Already as an FLR leaves it: a storm of them costs no register write. */
	if (!v->revoked)
		vf_revoke(res, vf, v);
	return 0;
}

int igb_mbx_offend(struct igb_mbx *m, unsigned vf, enum igb_mbx_offence o, uint64_t now_ms,
		   struct igb_mbx_result *res)
{
	if (!m || !res || vf >= m->cfg.num_vfs || o <= IGB_MBX_OFF_NONE || o >= IGB_MBX_OFF_COUNT)
		return -EINVAL;
	result_init(res);
	offend(&m->vf[vf], &m->cfg, o, now_ms, &res->penalty);
	return 0;
}

enum igb_mbx_verdict igb_mbx_verdict(const struct igb_mbx *m, unsigned vf, uint64_t now_ms,
				     unsigned *left_ms)
{
	if (left_ms)
		*left_ms = 0;
	if (!m || vf >= m->cfg.num_vfs)
		return IGB_MBX_HEARD;
	return verdict_at(&m->vf[vf], now_ms, left_ms);
}

static int policy_check(const struct igb_mbx_policy *p)
{
	if (!mac_is_zero(p->mac) && !mac_is_unicast(p->mac))
		return -EINVAL;
	if (p->port_vlan > IGB_MBX_VID_MAX || p->n_vlans > IGB_MBX_MAX_VLANS)
		return -EINVAL;
	if (p->max_vlans > IGB_MBX_MAX_VLANS || p->max_mc > IGB_MBX_MAX_MC ||
	    p->max_extra_macs > IGB_MBX_MAX_EXTRA_MACS)
		return -EINVAL;
	for (unsigned i = 0; i < p->n_vlans; i++)
		if (p->vlans[i] == 0 || p->vlans[i] > IGB_MBX_VID_MAX)
			return -EINVAL;
	return 0;
}

int igb_mbx_set_policy(struct igb_mbx *m, unsigned vf, const struct igb_mbx_policy *p,
		       struct igb_mbx_result *res)
{
	uint32_t map[4096 / 32];
	unsigned used;
	int err;

	if (!m || !p || !res || vf >= m->cfg.num_vfs)
		return -EINVAL;
	result_init(res);
	err = policy_check(p);
	if (err)
		return err;
	if (!mac_is_zero(p->mac) && mac_taken(m, vf, p->mac))
		return -EADDRINUSE;
	/* This VF's own VLANs go away with the revoke below: count everyone else's. */
	used = vlans_in_use(m, vf, map);
	if (p->port_vlan && !bit_test(map, p->port_vlan) && used >= m->cfg.vlan_filters)
		return -ENOSPC;
	m->vf[vf].pol = *p;
	forgive(&m->vf[vf], &res->penalty);	/* the chassis took the VF in hand */
	vf_revoke(res, vf, &m->vf[vf]);
	return 0;
}

int igb_mbx_grant_trust(struct igb_mbx *m, unsigned vf)
{
	if (!m || vf >= m->cfg.num_vfs)
		return -EINVAL;
	/* Trust only widens what the VF may ask for: nothing it holds needs undoing. */
	m->vf[vf].pol.trusted = true;
	return 0;
}

int igb_mbx_get_policy(const struct igb_mbx *m, unsigned vf, struct igb_mbx_policy *out)
{
	if (!m || !out || vf >= m->cfg.num_vfs)
		return -EINVAL;
	*out = m->vf[vf].pol;
	return 0;
}

int igb_mbx_ping(const struct igb_mbx *m, unsigned vf, uint32_t *word)
{
	if (!m || !word || vf >= m->cfg.num_vfs)
		return -EINVAL;
	*word = IGB_MBX_PF_CONTROL | (m->vf[vf].st.cts ? IGB_MBX_CTS : IGB_MBX_NACK);
	return 0;
}

int igb_mbx_vf_ack(struct igb_mbx *m, unsigned vf, uint64_t now_ms, uint32_t *word)
{
	struct vf *v;

	if (!m || !word || vf >= m->cfg.num_vfs)
		return -EINVAL;
	v = &m->vf[vf];
	if (v->st.cts)
		return 0;
	if (v->nack_sent && now_ms >= v->last_nack_ms &&
	    now_ms - v->last_nack_ms < VF_ACK_NACK_INTERVAL_MS)
		return 0;
	v->nack_sent = true;
	v->last_nack_ms = now_ms;
	*word = IGB_MBX_NACK;
	return 1;
}

int igb_mbx_get_state(const struct igb_mbx *m, unsigned vf, struct igb_mbx_vf_state *out)
{
	if (!m || !out || vf >= m->cfg.num_vfs)
		return -EINVAL;
	*out = m->vf[vf].st;
	return 0;
}

int igb_mbx_get_stats(const struct igb_mbx *m, unsigned vf, struct igb_mbx_stats *out)
{
	if (!m || !out || vf >= m->cfg.num_vfs)
		return -EINVAL;
	*out = m->vf[vf].stats;
	out->level = m->vf[vf].level;
	out->ignored = m->vf[vf].ignored;
	return 0;
}

void igb_mbx_mta(const struct igb_mbx *m, uint32_t mta[IGB_MBX_MTA_WORDS])
{
	memset(mta, 0, sizeof(uint32_t) * IGB_MBX_MTA_WORDS);
	for (unsigned i = 0; m && i < m->cfg.num_vfs; i++)
		for (unsigned j = 0; j < m->vf[i].st.n_mc; j++)
			bit_set(mta, m->vf[i].st.mc[j] & IGB_MBX_MC_HASH_MAX);
}

/* --- Lifetime ------------------------------------------------------------------------ */

void igb_mbx_config_init(struct igb_mbx_config *cfg, unsigned num_vfs)
{
	if (num_vfs < 1)
		num_vfs = 1;
	if (num_vfs > IGB_MBX_MAX_VFS)
		num_vfs = IGB_MBX_MAX_VFS;
	memset(cfg, 0, sizeof(*cfg));
	cfg->num_vfs = num_vfs;
	cfg->rate_burst = 32;
	cfg->rate_interval_ms = 20;
	cfg->vlan_filters = 32 - num_vfs;
	cfg->extra_mac_filters = 24 - 1 - num_vfs;
	cfg->mute_ms = 200;
	cfg->mute_levels = 5;
	cfg->forgive_ms = 10000;
	cfg->bad_burst = 16;
	cfg->bad_interval_ms = 200;
	cfg->flr_burst = 8;
	cfg->flr_interval_ms = 1000;
}

void igb_mbx_policy_init(struct igb_mbx_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_vlans = 4;
	p->max_mc = IGB_MBX_MAX_MC;
	p->max_extra_macs = 2;
}

int igb_mbx_new(const struct igb_mbx_config *cfg, struct igb_mbx **out)
{
	struct igb_mbx *m;

	if (!cfg || !out)
		return -EINVAL;
	*out = NULL;
	if (cfg->num_vfs < 1 || cfg->num_vfs > IGB_MBX_MAX_VFS || cfg->rate_burst < 1 ||
	    cfg->rate_interval_ms < 1 || cfg->mute_ms < 1 || cfg->mute_levels < 1 ||
	    cfg->mute_levels > 16 || cfg->forgive_ms < 1 || cfg->bad_burst < 1 ||
	    cfg->bad_interval_ms < 1 || cfg->flr_burst < 1 || cfg->flr_interval_ms < 1)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	for (unsigned i = 0; i < IGB_MBX_MAX_VFS; i++) {
		igb_mbx_policy_init(&m->vf[i].pol);
		vf_clear_dynamic(&m->vf[i]);
		m->vf[i].revoked = true;	/* nothing programmed for it yet */
	}
	*out = m;
	return 0;
}

void igb_mbx_free(struct igb_mbx *m)
{
	free(m);
}

unsigned igb_mbx_num_vfs(const struct igb_mbx *m)
{
	return m ? m->cfg.num_vfs : 0;
}
