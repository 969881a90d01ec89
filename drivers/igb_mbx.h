/* SPDX-License-Identifier: MIT */
/*
 * igb_mbx: the PF side of the Intel 82576 PF<->VF mailbox protocol, as pure logic.
 *
 * The hardware layer reads a VF's 16 mailbox words (VMBMEM) when MBVFICR says the VF
 * sent a message, hands them to igb_mbx_process() and gets back the reply words to
 * write to the same mailbox and a short list of validated actions (program this VF's
 * MAC filter, its multicast hashes, a VLAN filter, its maximum frame...). Actions are
 * derived from the engine's own checked state, never register values copied from the
 * VF. The engine keeps, per VF, the chassis policy (assigned MAC, trust, VLANs,
 * quotas) and the VF's dynamic state, rate-limits each VF's messages, penalizes a VF
 * that keeps misbehaving (muted, then ignored: see "Misbehaviour" below) and counts it all.
 * It does no I/O, never blocks, never prints: every refusal comes back as an
 * enum igb_mbx_reason the caller may log (rate-limited per VF, lib/log.h).
 *
 * Wire format (DPDK e1000_mbx.h, BSD-3; behaviour checked against Linux igb/igbvf):
 *   word 0: bits 15:0 message id, 23:16 "info", 31 ACK, 30 NACK, 29 CTS.
 *   A reply echoes the request's id and info with ACK or NACK set; CTS ("clear to
 *   send") is set once the VF has completed a VF_RESET exchange. The VF_RESET reply is
 *   exactly ACK|VF_RESET (igbvf compares it without masking CTS) followed by the MAC in
 *   words 1-2 (byte 0 in bits 7:0 of word 1), three words in all.
 *
 * Functions return 0 or a negative errno. One engine must not be used from two
 * threads at once.
 */
#ifndef CMC_IGB_MBX_H
#define CMC_IGB_MBX_H

#include <stdbool.h>
#include <stdint.h>

#define IGB_WUR __attribute__((warn_unused_result))

/* --- Wire format ------------------------------------------------------------- */

#define IGB_MBX_MSG_WORDS	16		/* VMBMEM words per VF */
#define IGB_MBX_ID_MASK		0x0000FFFFu
#define IGB_MBX_INFO_SHIFT	16
#define IGB_MBX_INFO_MASK	0x00FF0000u
#define IGB_MBX_ACK		0x80000000u
#define IGB_MBX_NACK		0x40000000u
#define IGB_MBX_CTS		0x20000000u
#define IGB_MBX_RSVD_MASK	0x1F000000u	/* never set by a VF */

/* Message ids a VF sends (igbvf sends all but SET_PROMISC) */
#define IGB_MBX_VF_RESET	0x0001		/* reply: ACK + MAC, 3 words */
#define IGB_MBX_VF_SET_MAC	0x0002		/* words 1-2: MAC; info: sub-command */
#define IGB_MBX_MAC_FILTER_CLR	0x01		/*   info 1: drop all extra unicast filters */
#define IGB_MBX_MAC_FILTER_ADD	0x02		/*   info 2: add an extra unicast filter */
#define IGB_MBX_VF_SET_MULTICAST 0x0003		/* info: hash count; 16-bit hashes from word 1 */
#define IGB_MBX_VF_SET_VLAN	0x0004		/* word 1: VID; info 1 add, 0 remove */
#define IGB_MBX_VLAN_ADD	0x01
#define IGB_MBX_VF_SET_LPE	0x0005		/* word 1: max frame incl. CRC and one tag */
#define IGB_MBX_VF_SET_PROMISC	0x0006		/* info: the two flags below, 0 = off */
#define IGB_MBX_PROMISC_UNICAST	0x01
#define IGB_MBX_PROMISC_MULTICAST 0x02
/* Sent by the PF (igb_mbx_ping) */
#define IGB_MBX_PF_CONTROL	0x0100

/* --- Limits ---------------------------------------------------------------------- */

#define IGB_MBX_MAX_VFS		8
#define IGB_MBX_MAX_MC		30		/* hashes that fit in one message (igbvf's cap) */
#define IGB_MBX_MC_HASH_MAX	0x0FFFu		/* 4096-bit MTA */
#define IGB_MBX_MTA_WORDS	128
#define IGB_MBX_MAX_VLANS	8		/* VLAN filters one VF may ever hold */
#define IGB_MBX_MAX_EXTRA_MACS	4		/* extra unicast filters one VF may ever hold */
#define IGB_MBX_VID_MAX		4094		/* 4095 is reserved by 802.1Q */
#define IGB_MBX_MIN_FRAME	64
#define IGB_MBX_MAX_FRAME	9728		/* 82576 jumbo limit, 9.5 KB */
#define IGB_MBX_DEFAULT_FRAME	1522		/* set on every reset */
#define IGB_MBX_MAX_ACTIONS	8

/* --- Why a message was refused ----------------------------------------------------- */

enum igb_mbx_reason {
	IGB_MBX_OK = 0,
	IGB_MBX_E_SHORT,		/* fewer words than the message id needs */
	IGB_MBX_E_NOT_REQUEST,		/* ACK or NACK set: a reply, not a request */
	IGB_MBX_E_RESERVED,		/* CTS or reserved bits 28:24 set */
	IGB_MBX_E_UNKNOWN_ID,
	IGB_MBX_E_BAD_INFO,		/* info field not valid for this id */
	IGB_MBX_E_NOT_CTS,		/* message before a completed VF_RESET */
	IGB_MBX_E_RATE_LIMITED,
	IGB_MBX_E_NO_MAC,		/* the chassis assigned this VF no MAC */
	IGB_MBX_E_MAC_INVALID,		/* zero, multicast or broadcast as a unicast MAC */
	IGB_MBX_E_MAC_NOT_ASSIGNED,	/* untrusted VF asked for a MAC other than its own */
	IGB_MBX_E_MAC_IN_USE,		/* another VF (or the caller's check) owns that MAC */
	IGB_MBX_E_MAC_QUOTA,		/* VF's extra-MAC quota reached */
	IGB_MBX_E_MAC_TABLE_FULL,	/* all extra receive-address entries in use */
	IGB_MBX_E_NOT_TRUSTED,		/* extra MACs and promiscuous modes need trust */
	IGB_MBX_E_MC_QUOTA,		/* more multicast hashes than the VF's quota */
	IGB_MBX_E_MC_HASH,		/* hash beyond the 4096-bit table */
	IGB_MBX_E_VLAN_RANGE,		/* VID above 4094 */
	IGB_MBX_E_VLAN_NOT_ALLOWED,	/* VID not in the VF's policy */
	IGB_MBX_E_VLAN_PORT,		/* the chassis set a port VLAN: VF may not filter */
	IGB_MBX_E_VLAN_QUOTA,		/* VF's VLAN quota reached */
	IGB_MBX_E_VLAN_TABLE_FULL,	/* all VLAN filter entries in use */
	IGB_MBX_E_FRAME_SIZE,		/* max frame outside [64, 9728] */
	IGB_MBX_E_PENALIZED,		/* the VF is muted or ignored (no reply is sent) */
	IGB_MBX_REASON_COUNT
};

/* A short constant description ("rate limited", "MAC owned elsewhere in the chassis ...", ...). */
const char *igb_mbx_reason_str(enum igb_mbx_reason r);

/* --- What the hardware layer must do ----------------------------------------------- */

enum igb_mbx_action_type {
	IGB_MBX_ACT_SET_MAC = 1,	/* program the VF's primary address filter: .mac */
	IGB_MBX_ACT_CLEAR_MAC,		/* remove the VF's primary address filter */
	IGB_MBX_ACT_ADD_MAC_FILTER,	/* an extra unicast filter for the VF: .mac */
	IGB_MBX_ACT_CLEAR_MAC_FILTERS,	/* remove all the VF's extra unicast filters */
	IGB_MBX_ACT_SET_MULTICAST,	/* the VF's whole hash list: .mc; rebuild MTA (igb_mbx_mta) */
	IGB_MBX_ACT_ADD_VLAN,		/* add the VF's pool to VLAN .vid (VLVF/VFTA) */
	IGB_MBX_ACT_DEL_VLAN,		/* remove the VF's pool from VLAN .vid */
	IGB_MBX_ACT_CLEAR_VLANS,	/* remove the VF's pool from every VLAN it requested */
	IGB_MBX_ACT_SET_PORT_VLAN,	/* .vid inserted/required for the VF (VMVIR); 0 = none */
	IGB_MBX_ACT_SET_MAX_FRAME,	/* VMOLR.RLPML = .max_frame, LPE on */
	IGB_MBX_ACT_SET_PROMISC,	/* .promisc: unicast (ROPE) and multicast (MPME) */
	IGB_MBX_ACT_ENABLE_RXTX,	/* set the VF's VFRE and VFTE bits */
	IGB_MBX_ACT_DISABLE_RXTX,	/* clear them */
};

struct igb_mbx_action {
	enum igb_mbx_action_type type;
	unsigned vf;
	union {
		uint8_t mac[6];
		uint16_t vid;
		uint16_t max_frame;
		struct {
			bool unicast, multicast;
		} promisc;
		struct {
			uint8_t count;
			uint16_t hash[IGB_MBX_MAX_MC];
		} mc;
	};
};

const char *igb_mbx_action_str(enum igb_mbx_action_type t);

/* --- Misbehaviour and its penalty ---------------------------------------------------- */

/*
 * What a VF did wrong. The engine sees floods (a message over the rate), bad messages
 * (malformed or out-of-range words, over their own small rate) and reset storms (FLRs
 * over their rate); the hardware layer reports the lock holding (igb_mbx_offend).
 */
enum igb_mbx_offence {
	IGB_MBX_OFF_NONE = 0,
	IGB_MBX_OFF_FLOOD,
	IGB_MBX_OFF_BAD_MESSAGES,
	IGB_MBX_OFF_LOCK_HOLD,
	IGB_MBX_OFF_RESET_STORM,
	IGB_MBX_OFF_COUNT
};

const char *igb_mbx_offence_str(enum igb_mbx_offence o);

/*
 * How the PF treats a VF. HEARD: served. MUTED: not served until a time (its requests
 * wait; the hardware layer stops the interrupts they raise). IGNORED: not served at all
 * until a VF reset (an FLR that is not itself part of a storm) or the chassis (a new
 * policy) forgives it. The PF cannot stop a VF's register writes: it can only stop
 * paying for them.
 *
 * Escalation: each offence while heard raises the VF's level by one: levels 1..mute_levels
 * mute it for mute_ms << (level - 1), the next ignores it. One level is forgiven per
 * forgive_ms without an offence. Offences while muted or ignored are counted, nothing more.
 */
enum igb_mbx_verdict { IGB_MBX_HEARD, IGB_MBX_MUTED, IGB_MBX_IGNORED };

const char *igb_mbx_verdict_str(enum igb_mbx_verdict v);

/* A change of one VF's penalty, made by the call that returned it. */
struct igb_mbx_penalty {
	enum igb_mbx_offence offence;	/* NONE: no new penalty */
	enum igb_mbx_verdict verdict;	/* MUTED (for mute_ms) or IGNORED */
	unsigned mute_ms;
	unsigned level;
	bool forgiven;			/* a penalty or a level was cleared (reset, policy) */
};

/*
 * The outcome of one call. reply_len words of reply[] go back to the VF's mailbox
 * (0 when there is nothing to send). reply[0] has exactly one of ACK and NACK; reason
 * is IGB_MBX_OK for an ACK and says why for a NACK. Actions are to be applied in order,
 * whatever the reply: a VF_RESET for a VF with no assigned MAC is NACKed but still
 * resets the VF's filters.
 */
struct igb_mbx_result {
	uint32_t reply[IGB_MBX_MSG_WORDS];
	unsigned reply_len;
	enum igb_mbx_reason reason;
	unsigned n_actions;
	struct igb_mbx_action actions[IGB_MBX_MAX_ACTIONS];
	struct igb_mbx_penalty penalty;	/* what this call did to the VF's standing */
};

/* --- Configuration and policy --------------------------------------------------- */

struct igb_mbx_config {
	unsigned num_vfs;		/* 1..IGB_MBX_MAX_VFS */
	unsigned rate_burst;		/* messages a VF may send back to back (>= 1) */
	unsigned rate_interval_ms;	/* then one more per interval (>= 1) */
	unsigned vlan_filters;		/* distinct VLANs all VFs may use together (VLVF) */
	unsigned extra_mac_filters;	/* extra unicast filters all VFs may use together */
	unsigned mute_ms;		/* first mute (>= 1); doubles with each level */
	unsigned mute_levels;		/* mutes before a VF is ignored (>= 1, <= 16) */
	unsigned forgive_ms;		/* one level forgiven per this long without offence (>= 1) */
	unsigned bad_burst, bad_interval_ms;	/* bad messages tolerated: burst, then one per interval */
	unsigned flr_burst, flr_interval_ms;	/* FLRs tolerated the same way (>= 1 each) */
	/*
	 * Optional: true if mac is in use outside this engine (the PF's own address,
	 * another card on the same segment). Asked before a VF may take a MAC that is
	 * not its assigned one and when the chassis assigns one. Must not call back in.
	 */
	bool (*mac_in_use)(void *ctx, unsigned vf, const uint8_t mac[6]);
	void *ctx;
};

/* Defaults: burst 32, 1 message per 20 ms, 32 - num_vfs VLAN entries for VFs (one
 * per VF left for the PF), 24 - 1 - num_vfs extra MACs (RAR 0 is the PF's, one per
 * VF is its primary); mutes of 200, 400 ... 3200 ms, then ignored; a level forgiven per
 * 10 s; 16 bad messages, then 5 per s; 8 FLRs, then 1 per s. num_vfs is clamped to
 * 1..IGB_MBX_MAX_VFS. */
void igb_mbx_config_init(struct igb_mbx_config *cfg, unsigned num_vfs);

/* Chassis policy for one VF; the engine copies it. */
struct igb_mbx_policy {
	uint8_t mac[6];			/* assigned MAC; all zero = none */
	bool trusted;			/* may change its MAC, add extra MACs, go promiscuous */
	uint16_t port_vlan;		/* 0 = none; else 1..4094 and VF VLAN requests refused */
	uint8_t n_vlans;		/* entries in vlans[] */
	uint16_t vlans[IGB_MBX_MAX_VLANS]; /* VIDs (1..4094) the VF may add; VID 0 always */
	uint8_t max_vlans;		/* VLAN filters the VF may hold (<= IGB_MBX_MAX_VLANS) */
	uint8_t max_mc;			/* multicast hashes (<= IGB_MBX_MAX_MC) */
	uint8_t max_extra_macs;		/* extra unicast filters (<= IGB_MBX_MAX_EXTRA_MACS) */
};

/* No MAC, untrusted, no VLANs, quotas: 30 hashes, 4 VLANs, 2 extra MACs. */
void igb_mbx_policy_init(struct igb_mbx_policy *p);

/* --- The engine -------------------------------------------------------------------- */

struct igb_mbx;

/* -EINVAL on a bad config, -ENOMEM. Every VF starts with igb_mbx_policy_init(). */
int igb_mbx_new(const struct igb_mbx_config *cfg, struct igb_mbx **out) IGB_WUR;
void igb_mbx_free(struct igb_mbx *m);
unsigned igb_mbx_num_vfs(const struct igb_mbx *m);

/*
 * One message from VF vf: nwords (0..16) words read from its VMBMEM. now_ms is any
 * monotonic millisecond clock (rate limiting). Returns 0 with *res filled (an ACK or
 * a NACK), or -EINVAL (vf out of range, nwords > 16, NULL pointers) with *res a NACK
 * to send if vf is valid.
 */
int igb_mbx_process(struct igb_mbx *m, unsigned vf, const uint32_t *msg, unsigned nwords,
		    uint64_t now_ms, struct igb_mbx_result *res) IGB_WUR;

/*
 * VF vf went through a function level reset (VFLRE) or vanished: drop its dynamic
 * state and clear-to-send, keep its policy. *res holds the actions, no reply; none when
 * the VF has not reset (VF_RESET) since its last FLR or policy change: the hardware is
 * already as an FLR leaves it. An FLR over its rate is an offence (a reset storm); one
 * well within it (half of flr_burst left: not part of a storm) forgives the VF's
 * penalty and level (res->penalty).
 */
int igb_mbx_vf_flr(struct igb_mbx *m, unsigned vf, uint64_t now_ms, struct igb_mbx_result *res) IGB_WUR;

/*
 * Replace VF vf's policy. The VF loses its dynamic state and clear-to-send (it must
 * reset to learn the new MAC; igb_mbx_ping() tells it), *res holds the actions.
 * -EINVAL for out-of-range values, -EADDRINUSE if the MAC is another VF's (assigned
 * or in use) or mac_in_use() says so, -ENOSPC if the port VLAN needs a VLAN entry
 * and none is left. On error nothing changes.
 */
int igb_mbx_set_policy(struct igb_mbx *m, unsigned vf, const struct igb_mbx_policy *p,
		       struct igb_mbx_result *res) IGB_WUR;
int igb_mbx_get_policy(const struct igb_mbx *m, unsigned vf, struct igb_mbx_policy *out) IGB_WUR;
/*
 * Trust a VF without resetting it: it keeps its state and clear-to-send and may change
 * its MAC from its next message on. (Withdrawing trust goes through set_policy, which
 * resets the VF back to its assigned MAC.) -EINVAL.
 */
int igb_mbx_grant_trust(struct igb_mbx *m, unsigned vf) IGB_WUR;

/*
 * The word to write to VF vf's mailbox to tell it the PF changed something (link,
 * PF reset, policy): PF_CONTROL|CTS while the VF is clear to send, else
 * PF_CONTROL|NACK, which makes igbvf reset and send VF_RESET.
 */
int igb_mbx_ping(const struct igb_mbx *m, unsigned vf, uint32_t *word) IGB_WUR;

/*
 * VF vf acknowledged a PF message (MBVFICR.VFACK). Returns 1 and sets *word to a
 * NACK to send if the VF is not clear to send (so it resets), at most once per 2 s;
 * 0 if nothing is to be sent; -EINVAL.
 */
int igb_mbx_vf_ack(struct igb_mbx *m, unsigned vf, uint64_t now_ms, uint32_t *word) IGB_WUR;

/*
 * The hardware layer saw VF vf misbehave (IGB_MBX_OFF_LOCK_HOLD: it kept its mailbox
 * locked until the PF took it back). *res holds no reply and no action, only
 * res->penalty. -EINVAL.
 */
int igb_mbx_offend(struct igb_mbx *m, unsigned vf, enum igb_mbx_offence o, uint64_t now_ms,
		   struct igb_mbx_result *res) IGB_WUR;

/*
 * How VF vf stands at now_ms; *left_ms (may be NULL): ms until a mute ends (0 when not
 * muted). A VF that is not HEARD must not be served: igb_mbx_process() refuses its
 * messages (IGB_MBX_E_PENALIZED, no reply). IGB_MBX_HEARD for a bad vf.
 */
enum igb_mbx_verdict igb_mbx_verdict(const struct igb_mbx *m, unsigned vf, uint64_t now_ms,
				     unsigned *left_ms);

/* The dynamic state of one VF, for display and tests. */
struct igb_mbx_vf_state {
	bool cts;			/* completed VF_RESET since the last FLR/policy change */
	uint8_t mac[6];			/* primary MAC (zero = none) */
	uint8_t n_extra;
	uint8_t extra[IGB_MBX_MAX_EXTRA_MACS][6];
	uint8_t n_mc;
	uint16_t mc[IGB_MBX_MAX_MC];
	uint8_t n_vlans;
	uint16_t vlans[IGB_MBX_MAX_VLANS];
	uint16_t max_frame;
	bool promisc_unicast, promisc_multicast;
};
int igb_mbx_get_state(const struct igb_mbx *m, unsigned vf, struct igb_mbx_vf_state *out) IGB_WUR;

struct igb_mbx_stats {
	uint64_t messages;		/* every igb_mbx_process() call for the VF */
	uint64_t acks, nacks;
	uint64_t rate_limited;		/* also counted in nacks */
	uint64_t resets;		/* VF_RESET messages acted on */
	uint64_t flrs;			/* igb_mbx_vf_flr() calls */
	uint64_t refused[IGB_MBX_REASON_COUNT]; /* NACKs by reason */
	uint64_t offences[IGB_MBX_OFF_COUNT];	/* by kind, penalized or not */
	uint64_t penalties;		/* mutes and ignores imposed */
	uint64_t forgiven;		/* penalties cleared by a reset or the chassis */
	unsigned level;			/* current escalation level (before any decay) */
	bool ignored;			/* IGNORED now (a mute's end: igb_mbx_verdict) */
};
int igb_mbx_get_stats(const struct igb_mbx *m, unsigned vf, struct igb_mbx_stats *out) IGB_WUR;

/* The multicast table all VFs' hashes need together (MTA[0..127]). */
void igb_mbx_mta(const struct igb_mbx *m, uint32_t mta[IGB_MBX_MTA_WORDS]);

#endif
