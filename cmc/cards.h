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
void cmc_cards_vf_mac(unsigned slot, unsigned pf, unsigned vf, uint8_t mac[6]);

#endif
