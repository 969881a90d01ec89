/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the igb PF mailbox engine: arbitrary sequences of VF messages,
 * FLRs, policy changes and pings, with the engine's security invariants checked after
 * every call (__builtin_trap() on a violation).
 *
 * Input: a 5-byte header (VF count, rate burst, rate interval, VLAN and extra-MAC table
 * sizes), then operations, each an opcode byte and its arguments. Messages come in two
 * flavours: "structured" (message id 0..7, MACs drawn from a small pool so VFs collide,
 * VIDs 0..15 so they meet the policies) and raw words.
 */
#include "fuzz.h"
#include "igb_mbx.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>


static const uint8_t mac_pool[8][6] = {
	{ 0x02, 0, 0, 0, 0, 0x10 },
	{ 0x02, 0, 0, 0, 0, 0x11 },
	{ 0x02, 0, 0, 0, 0, 0x12 },
	{ 0x02, 0, 0, 0, 0, 0x13 },
	{ 0x02, 0, 0, 0, 0, 0x01 },		/* the PF's own: mac_in_use() says so */
	{ 0x01, 0x00, 0x5e, 0, 0, 1 },		/* multicast */
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },	/* broadcast */
	{ 0 },
};
#define PF_MAC mac_pool[4]

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint32_t word(struct input *in)
{
	uint32_t w = 0;

	for (int i = 0; i < 4; i++)
		w |= (uint32_t)byte(in) << (8 * i);
	return w;
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

static bool mac_zero(const uint8_t *a)
{
	static const uint8_t z[6];

	return mac_eq(a, z);
}

static bool mac_unicast(const uint8_t *a)
{
	return !mac_zero(a) && !(a[0] & 1);
}

static bool pf_mac_in_use(void *ctx, unsigned vf, const uint8_t mac[6])
{
	(void)ctx;
	(void)vf;
	return mac_eq(mac, PF_MAC);
}

/* What the fuzzer remembers to bound each VF's served messages. */
struct tracker {
	uint64_t t0, t;
	uint64_t served[IGB_MBX_MAX_VFS];
	struct igb_mbx_config cfg;
};

static bool vid_allowed(const struct igb_mbx_policy *p, uint16_t vid)
{
	if (vid == 0)
		return true;
	for (unsigned i = 0; i < p->n_vlans; i++)
		if (p->vlans[i] == vid)
			return true;
	return false;
}

/* Every action must be something the VF's policy allows. */
static void check_action(const struct igb_mbx_action *a, const struct igb_mbx_policy *p)
{
	switch (a->type) {
	case IGB_MBX_ACT_SET_MAC:
		CHECK(mac_unicast(a->mac));
		CHECK(p->trusted || mac_eq(a->mac, p->mac));
		CHECK(!mac_eq(a->mac, PF_MAC));
		break;
	case IGB_MBX_ACT_ADD_MAC_FILTER:
		CHECK(p->trusted && mac_unicast(a->mac) && !mac_eq(a->mac, PF_MAC));
		break;
	case IGB_MBX_ACT_SET_MULTICAST:
		CHECK(a->mc.count <= p->max_mc);
		for (unsigned i = 0; i < a->mc.count; i++)
			CHECK(a->mc.hash[i] <= IGB_MBX_MC_HASH_MAX);
		break;
	case IGB_MBX_ACT_ADD_VLAN:
		CHECK(a->vid <= IGB_MBX_VID_MAX && !p->port_vlan && vid_allowed(p, a->vid));
		break;
	case IGB_MBX_ACT_SET_PORT_VLAN:
		CHECK(a->vid == p->port_vlan);
		break;
	case IGB_MBX_ACT_SET_MAX_FRAME:
		CHECK(a->max_frame >= IGB_MBX_MIN_FRAME && a->max_frame <= IGB_MBX_MAX_FRAME);
		break;
	case IGB_MBX_ACT_SET_PROMISC:
		CHECK(p->trusted || (!a->promisc.unicast && !a->promisc.multicast));
		break;
	case IGB_MBX_ACT_ENABLE_RXTX:
		CHECK(p->trusted || !mac_zero(p->mac));
		break;
	default:
		CHECK(a->type >= IGB_MBX_ACT_SET_MAC && a->type <= IGB_MBX_ACT_DISABLE_RXTX);
		break;
	}
}

static void check_result(struct igb_mbx *m, unsigned vf, const struct igb_mbx_result *r)
{
	struct igb_mbx_policy p;

	CHECK(r->n_actions <= IGB_MBX_MAX_ACTIONS);
	if (vf >= igb_mbx_num_vfs(m))
		return;
	CHECK(igb_mbx_get_policy(m, vf, &p) == 0);
	for (unsigned i = 0; i < r->n_actions; i++) {
		CHECK(r->actions[i].vf == vf);
		check_action(&r->actions[i], &p);
	}
}

/* Values that must be refused whatever the VF's state or policy. */
static void check_refusals(const uint32_t *msg, unsigned nwords, const struct igb_mbx_result *r)
{
	uint32_t id = msg[0] & IGB_MBX_ID_MASK;
	uint32_t info = (msg[0] & IGB_MBX_INFO_MASK) >> IGB_MBX_INFO_SHIFT;

	if (nwords == 0 || (msg[0] & (IGB_MBX_ACK | IGB_MBX_NACK | IGB_MBX_CTS | IGB_MBX_RSVD_MASK)) ||
	    id < IGB_MBX_VF_RESET || id > IGB_MBX_VF_SET_PROMISC) {
		CHECK(r->reason != IGB_MBX_OK);
		return;
	}
	if (nwords >= 2 && id == IGB_MBX_VF_SET_VLAN && msg[1] > IGB_MBX_VID_MAX)
		CHECK(r->reason != IGB_MBX_OK);
	if (nwords >= 2 && id == IGB_MBX_VF_SET_LPE &&
	    (msg[1] < IGB_MBX_MIN_FRAME || msg[1] > IGB_MBX_MAX_FRAME))
		CHECK(r->reason != IGB_MBX_OK);
	if (id == IGB_MBX_VF_SET_MULTICAST && info > IGB_MBX_MAX_MC)
		CHECK(r->reason != IGB_MBX_OK);
}

static void check_reply(const uint32_t *msg, unsigned nwords, const struct igb_mbx_result *r)
{
	bool ack = r->reply[0] & IGB_MBX_ACK, nack = r->reply[0] & IGB_MBX_NACK;
	bool reset = nwords && msg[0] == IGB_MBX_VF_RESET;

	CHECK(ack != nack);
	CHECK(ack == (r->reason == IGB_MBX_OK));
	CHECK(r->reply_len == 1 || (r->reply_len == 3 && reset));
	/* A refused message changes nothing, except a reset for a VF with no MAC. */
	CHECK(ack || r->n_actions == 0 || (reset && r->reason == IGB_MBX_E_NO_MAC));
	CHECK(!(r->reply[0] & IGB_MBX_RSVD_MASK));
	if (reset && r->reply_len == 3)
		CHECK(!(r->reply[0] & IGB_MBX_CTS));	/* igbvf compares it exactly */
	if (nwords)
		CHECK((r->reply[0] & IGB_MBX_ID_MASK) == (msg[0] & IGB_MBX_ID_MASK));
	check_refusals(msg, nwords, r);
}

static bool claims(const struct igb_mbx_policy *p, const struct igb_mbx_vf_state *s,
		   const uint8_t *mac)
{
	if (mac_zero(mac))
		return false;
	if (mac_eq(p->mac, mac) || mac_eq(s->mac, mac))
		return true;
	for (unsigned i = 0; i < s->n_extra; i++)
		if (mac_eq(s->extra[i], mac))
			return true;
	return false;
}

static void check_vf(const struct igb_mbx_policy *p, const struct igb_mbx_vf_state *s)
{
	CHECK(s->n_mc <= p->max_mc && s->n_vlans <= p->max_vlans &&
	      s->n_extra <= p->max_extra_macs);
	CHECK(s->max_frame >= IGB_MBX_MIN_FRAME && s->max_frame <= IGB_MBX_MAX_FRAME);
	CHECK(!p->port_vlan || s->n_vlans == 0);
	if (!p->trusted) {
		CHECK(mac_zero(s->mac) || mac_eq(s->mac, p->mac));
		CHECK(s->n_extra == 0 && !s->promisc_unicast && !s->promisc_multicast);
	}
	CHECK(mac_zero(s->mac) || mac_unicast(s->mac));
	CHECK(!claims(p, s, PF_MAC));
	for (unsigned i = 0; i < s->n_vlans; i++) {
		CHECK(s->vlans[i] <= IGB_MBX_VID_MAX && vid_allowed(p, s->vlans[i]));
		for (unsigned j = 0; j < i; j++)
			CHECK(s->vlans[i] != s->vlans[j]);
	}
	for (unsigned i = 0; i < s->n_mc; i++)
		CHECK(s->mc[i] <= IGB_MBX_MC_HASH_MAX);
}

/* No MAC claimed by two VFs; shared tables within their sizes; counters add up. */
static void check_all(struct igb_mbx *m, const struct tracker *tr)
{
	struct igb_mbx_policy p[IGB_MBX_MAX_VFS];
	struct igb_mbx_vf_state s[IGB_MBX_MAX_VFS];
	struct igb_mbx_stats st;
	unsigned n = igb_mbx_num_vfs(m), extras = 0, vlans = 0;
	uint8_t seen[4096] = { 0 };

	for (unsigned v = 0; v < n; v++) {
		CHECK(igb_mbx_get_policy(m, v, &p[v]) == 0 && igb_mbx_get_state(m, v, &s[v]) == 0);
		CHECK(igb_mbx_get_stats(m, v, &st) == 0);
		CHECK(st.acks + st.nacks == st.messages && st.rate_limited <= st.nacks);
		CHECK(tr->served[v] <= tr->cfg.rate_burst + (tr->t - tr->t0) / tr->cfg.rate_interval_ms);
		check_vf(&p[v], &s[v]);
		extras += s[v].n_extra;
		if (p[v].port_vlan && !seen[p[v].port_vlan]++)
			vlans++;
		for (unsigned i = 0; i < s[v].n_vlans; i++)
			if (!seen[s[v].vlans[i]]++)
				vlans++;
	}
	CHECK(extras <= tr->cfg.extra_mac_filters);
	CHECK(vlans <= tr->cfg.vlan_filters);
	for (unsigned a = 0; a < n; a++) {
		for (unsigned b = 0; b < n; b++) {
			if (a == b)
				continue;
			CHECK(!claims(&p[b], &s[b], p[a].mac) && !claims(&p[b], &s[b], s[a].mac));
			for (unsigned i = 0; i < s[a].n_extra; i++)
				CHECK(!claims(&p[b], &s[b], s[a].extra[i]));
		}
	}
}

/* A new penalty leaves the VF unheard, within the escalation's bounds. */
static void check_penalty(struct igb_mbx *m, unsigned vf, const struct tracker *tr,
			  const struct igb_mbx_penalty *pen)
{
	unsigned left;
	enum igb_mbx_verdict v = igb_mbx_verdict(m, vf, tr->t, &left);

	if (pen->offence == IGB_MBX_OFF_NONE)
		return;
	CHECK(pen->offence < IGB_MBX_OFF_COUNT && pen->level >= 1);
	CHECK(pen->level <= tr->cfg.mute_levels + 1);
	CHECK(v == pen->verdict);
	CHECK(v == IGB_MBX_IGNORED ? pen->level == tr->cfg.mute_levels + 1
				   : v == IGB_MBX_MUTED && left == pen->mute_ms && left > 0);
}

/* A message: structured (ids 0..7, pooled MACs, small VIDs) or raw words. */
static unsigned build_msg(struct input *in, bool structured, uint32_t *msg)
{
	uint8_t b = byte(in);
	/* The hardware layer always reads 16 words; other counts test the API. */
	unsigned nwords = structured && b < 200 ? IGB_MBX_MSG_WORDS : b % (IGB_MBX_MSG_WORDS + 2);
	uint32_t id, info;

	memset(msg, 0, sizeof(uint32_t) * (IGB_MBX_MSG_WORDS + 1));
	for (unsigned i = 0; i < 4 && i < nwords; i++)
		msg[i] = word(in);
	if (!structured)
		return nwords;
	id = byte(in) % 8;
	info = byte(in);
	info = info >= 64 ? info : info % 4;	/* mostly the small sub-commands */
	msg[0] = id | info << IGB_MBX_INFO_SHIFT;
	if (id == IGB_MBX_VF_SET_MAC) {
		const uint8_t *mac = mac_pool[byte(in) % 8];

		msg[1] = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
			 (uint32_t)mac[3] << 24;
		msg[2] = (uint32_t)mac[4] | (uint32_t)mac[5] << 8;
	} else if (id == IGB_MBX_VF_SET_VLAN) {
		uint8_t v = byte(in);

		/* Mostly VIDs the policies name; sometimes beyond 12 bits or 4094. */
		msg[1] = v < 224 ? v % 16u : v < 240 ? 0x1000u + v % 16u : 4080u + v % 16u;
	}
	return nwords;
}

static void op_message(struct igb_mbx *m, struct tracker *tr, struct input *in, bool structured)
{
	uint32_t msg[IGB_MBX_MSG_WORDS + 1];
	struct igb_mbx_result r;
	unsigned vf = byte(in) % (igb_mbx_num_vfs(m) + 1);	/* sometimes out of range */
	uint8_t dt = byte(in);
	unsigned nwords = build_msg(in, structured, msg);
	int err;

	tr->t += dt == 255 ? 100000 : dt;
	err = igb_mbx_process(m, vf, msg, nwords, tr->t, &r);
	if (vf >= igb_mbx_num_vfs(m) || nwords > IGB_MBX_MSG_WORDS) {
		CHECK(err == -EINVAL);
		return;
	}
	CHECK(err == 0);
	if (r.reason == IGB_MBX_E_PENALIZED) {
		/* A muted or ignored VF is not heard: no reply, nothing done. */
		CHECK(r.reply_len == 0 && r.n_actions == 0 && r.penalty.offence == IGB_MBX_OFF_NONE);
		CHECK(igb_mbx_verdict(m, vf, tr->t, NULL) != IGB_MBX_HEARD);
		return;
	}
	check_reply(msg, nwords, &r);
	check_result(m, vf, &r);
	check_penalty(m, vf, tr, &r.penalty);
	if (r.reason != IGB_MBX_E_RATE_LIMITED)
		tr->served[vf]++;
}

static void op_policy(struct igb_mbx *m, struct input *in)
{
	struct igb_mbx_policy p;
	struct igb_mbx_result r;
	unsigned vf = byte(in) % igb_mbx_num_vfs(m);

	igb_mbx_policy_init(&p);
	memcpy(p.mac, mac_pool[byte(in) % 8], 6);
	p.trusted = byte(in) & 1;
	p.port_vlan = byte(in) % 24;
	p.port_vlan = p.port_vlan >= 16 ? 0 : p.port_vlan;
	p.n_vlans = byte(in) % (IGB_MBX_MAX_VLANS + 2);
	for (unsigned i = 0; i < IGB_MBX_MAX_VLANS; i++)
		p.vlans[i] = byte(in) % 16;
	p.max_vlans = byte(in) % (IGB_MBX_MAX_VLANS + 2);
	p.max_mc = byte(in) % (IGB_MBX_MAX_MC + 2);
	p.max_extra_macs = byte(in) % (IGB_MBX_MAX_EXTRA_MACS + 2);
	if (igb_mbx_set_policy(m, vf, &p, &r) == 0)
		check_result(m, vf, &r);
}

static void op_misc(struct igb_mbx *m, struct tracker *tr, struct input *in, uint8_t op)
{
	struct igb_mbx_result r;
	unsigned vf = byte(in) % igb_mbx_num_vfs(m);
	uint32_t w = 0, mta[IGB_MBX_MTA_WORDS];
	struct igb_mbx_vf_state s;

	switch (op) {
	case 5:
		CHECK(igb_mbx_vf_flr(m, vf, tr->t, &r) == 0 && r.reply_len == 0);
		check_result(m, vf, &r);
		check_penalty(m, vf, tr, &r.penalty);
		CHECK(igb_mbx_get_state(m, vf, &s) == 0 && !s.cts && s.n_vlans == 0);
		/* Forgiven: heard again at once. */
		CHECK(!r.penalty.forgiven || igb_mbx_verdict(m, vf, tr->t, NULL) == IGB_MBX_HEARD);
		break;
	case 6:
		CHECK(igb_mbx_ping(m, vf, &w) == 0);
		CHECK((w & IGB_MBX_ID_MASK) == IGB_MBX_PF_CONTROL);
		CHECK(igb_mbx_vf_ack(m, vf, tr->t, &w) >= 0);
		break;
	case 7:
		/* The hardware layer saw the VF hold its lock. */
		CHECK(igb_mbx_offend(m, vf, IGB_MBX_OFF_LOCK_HOLD, tr->t, &r) == 0);
		CHECK(r.reply_len == 0 && r.n_actions == 0);
		check_penalty(m, vf, tr, &r.penalty);
		CHECK(igb_mbx_verdict(m, vf, tr->t, NULL) != IGB_MBX_HEARD);
		break;
	default:
		igb_mbx_mta(m, mta);
		for (unsigned v = 0; v < igb_mbx_num_vfs(m); v++) {
			CHECK(igb_mbx_get_state(m, v, &s) == 0);
			for (unsigned i = 0; i < s.n_mc; i++)
				CHECK(mta[s.mc[i] >> 5] & (1u << (s.mc[i] & 31)));
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct tracker tr = { .t0 = 1000, .t = 1000 };
	struct igb_mbx *m = NULL;

	igb_mbx_config_init(&tr.cfg, 1 + byte(&in) % IGB_MBX_MAX_VFS);
	tr.cfg.rate_burst = 1 + byte(&in) % 64;
	tr.cfg.rate_interval_ms = 1 + byte(&in) % 50;
	tr.cfg.vlan_filters = byte(&in) % 33;
	tr.cfg.extra_mac_filters = byte(&in) % 24;
	tr.cfg.mac_in_use = pf_mac_in_use;
	if (igb_mbx_new(&tr.cfg, &m))
		__builtin_trap();	/* the header only makes valid configs */

	for (unsigned steps = 0; in.n && steps < 4096; steps++) {
		uint8_t op = byte(&in) % 9;

		if (op <= 2)
			op_message(m, &tr, &in, true);
		else if (op == 3)
			op_message(m, &tr, &in, false);
		else if (op == 4)
			op_policy(m, &in);
		else
			op_misc(m, &tr, &in, op);
		check_all(m, &tr);
	}
	igb_mbx_free(m);
	return 0;
}
