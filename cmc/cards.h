/* SPDX-License-Identifier: MIT */
/* The cards cmcd drives through its own PF driver (cards.c). */
#ifndef CMC_CARDS_H
#define CMC_CARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nic.h"
#include "proto.h"

struct cmcd;
struct cmc_cards;

int cmc_cards_start(struct cmcd *d, struct cmc_cards **out) __attribute__((warn_unused_result));
void cmc_cards_stop(struct cmcd *d, struct cmc_cards *cards);
/*
 * After a rescan: every card cmcd drove that was pulled out and is back in its slot is
 * taken again (VFIO, VFs with their defaults, VFs bound); `back` is then called for it so
 * that the owner of the chassis' intent re-applies what belongs there (assignments, lanes,
 * the port's role, static entries). Returns how many cards were taken again.
 */
/* A MAC someone in the chassis owns: VF vf of slot/pf (its assigned MAC), or vf -1 for an
 * owner that is no VF (a static entry: a VM behind a VF). */
struct cmc_owned_mac {
	uint8_t mac[6];
	unsigned slot, pf;
	int vf;
};
/*
 * Publishes the MACs the intent owns (replacing what was published), for the cards' VF
 * mailboxes: no VF may take one that is not its own, nor a PF's address (the cards add
 * those), nor another VF's default. Copied: safe to call from the main thread at any time.
 * 0 or -ENOMEM (the previous list stays).
 */
int cmc_cards_set_owned_macs(struct cmc_cards *cards, const struct cmc_owned_mac *macs, size_t n);
/* Whether a VF holds mac through its mailbox (runtime: a trusted VF's own MAC or an extra
 * unicast filter), and which. 0, or -ENOENT. */
int cmc_cards_mac_granted(struct cmc_cards *cards, const uint8_t mac[6], unsigned *slot, unsigned *pf,
			  unsigned *vf);
typedef void (*cmc_cards_back_fn)(void *arg, unsigned slot, unsigned pf);
int cmc_cards_retake(struct cmc_cards *cards, cmc_cards_back_fn back, void *arg);
/* `gone` is called (on the main loop) for each card cmcd drives that disappears, after
 * its "card-gone" event; NULL: nobody. */
void cmc_cards_set_gone_fn(struct cmc_cards *cards, cmc_cards_back_fn gone, void *arg);
/* Per-VF records: MAC, packet and byte counters, mailbox messages. */
void cmc_cards_records(struct cmc_cards *cards, struct cmc_buf *b);
/* Per-port records: the PF's packet and byte counters (running totals). */
void cmc_cards_port_records(struct cmc_cards *cards, struct cmc_buf *b);
/* Mark a VF trusted (it may change its MAC, go promiscuous) or not; the VF resets. */
int cmc_cards_set_trust(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
			bool trusted, char *err, size_t errlen) __attribute__((warn_unused_result));
/* A VF's link: follow the port (auto), forced up or down. */
int cmc_cards_set_link_state(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
			     enum nic_link_state state, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* A VF's default MAC in chassis `id` (macs.h); all zero (none) beyond the rule's ranges. */
void cmc_cards_vf_mac(uint32_t id, unsigned slot, unsigned pf, unsigned vf, uint8_t mac[6]);
/* What a VF nobody is assigned to gets: its default MAC, untagged, anti-spoof on. */
void cmc_cards_vf_default(uint32_t id, unsigned slot, unsigned pf, unsigned vf, struct nic_vf_config *out);
/* True if cmcd drives slot/pf and its port has not reported its link down. */
bool cmc_cards_port_link_up(struct cmc_cards *cards, unsigned slot, unsigned pf);
/* The PF's own address of slot/pf (read from the card when it was opened). -ENOENT if
 * cmcd does not drive it or the address is not known. */
int cmc_cards_pf_mac(struct cmc_cards *cards, unsigned slot, unsigned pf, uint8_t mac[6]);
/* What the driver of slot/pf can do beyond VF settings (0 if cmcd does not drive it). */
#define CMC_CARD_CAN_LOOPBACK 1u	/* set_port_mode: a midplane port */
#define CMC_CARD_CAN_FDB 2u		/* static forwarding entries */
unsigned cmc_cards_port_caps(struct cmc_cards *cards, unsigned slot, unsigned pf);
/* Why cmcd does not drive slot/pf, for an admin: no such slot, empty, no link, not
 * answering, unreadable, no VFs configured, no such PF, or the card could not be taken.
 * Main thread (reads the inventory). */
void cmc_cards_why_not_driven(const struct cmcd *d, unsigned slot, unsigned pf, char *err, size_t errlen);
/* True if cmcd drives slot/pf (and how many VFs it enabled there). */
bool cmc_cards_port(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned *num_vfs);
/* A VF's settings: checked against the model of the card's bridge (vbridge), then
 * applied; on any error neither the model nor the card changes. */
int cmc_cards_vf_set(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		     const struct nic_vf_config *vc, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int cmc_cards_vf_get(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		     struct nic_vf_config *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Normal or internal loopback (a midplane port). */
int cmc_cards_set_port_mode(struct cmc_cards *cards, unsigned slot, unsigned pf,
			    enum nic_port_mode mode, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* A static forwarding entry: frames to mac land in VF vf's pool. */
int cmc_cards_fdb_set(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		      const uint8_t mac[6], bool add, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* The static entry of mac moves from VF `from` to VF `to` of the same port: the model
 * first, then one register write on the card (never a moment where the card does not
 * know the MAC: it would flood its frames, out of the cable too). -ENOENT: no such
 * entry or card; -EOPNOTSUPP; the model's or the driver's -errno (nothing changed). */
int cmc_cards_fdb_move(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned from, unsigned to,
		       const uint8_t mac[6], char *err, size_t errlen) __attribute__((warn_unused_result));
/* Frames the card counted for a VF, received plus sent (its PVFGPRC + PVFGPTC, 82576
 * datasheet 8.19). -ENODEV: no such card or it is gone; the backend's -errno. */
int cmc_cards_vf_frames(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf, uint64_t *frames)
	__attribute__((warn_unused_result));
/* The VEBs' forwarding tables (slot < 0: every card), as "veb" and "fdb" records. */
void cmc_cards_fdb_records(struct cmc_cards *cards, int slot, struct cmc_buf *b);

#endif
