/* SPDX-License-Identifier: MIT */
/* Records and pictures of the inventory for the daemon (inventory.c). */
#ifndef CMC_INVENTORY_H
#define CMC_INVENTORY_H

#include "mp.h"
#include "proto.h"

void cmc_inventory_slot_record(const struct mp_slot *s, struct cmc_buf *b);
void cmc_inventory_function_records(const struct mp_slot *s, struct cmc_buf *b);

#define CMC_SLOT_PICTURE_LEN 64
void cmc_inventory_slot_picture(const struct mp_slot *s, char *buf, size_t len);
/*
 * now (a picture of len bytes) gets " last=VVVV:DDDD" when the slot is between occupied
 * and empty (link-down, not-responding) and was (the stored picture, or NULL) had a card
 * or a last card: a pulled card's identity lasts until the slot is empty.
 */
void cmc_inventory_carry_card(const char *was, char *now, size_t len);
void cmc_inventory_describe_change(const char *was, const char *now, char *buf, size_t len);

struct cmc_config_slot;
/*
 * Why cmcd does not drive slot/pf, one sentence for an admin into err, from the slot as
 * the inventory saw it (s; NULL: no such slot) and as configured (cs; NULL: not in the
 * configuration); dead: cmcd drove its card and it stopped answering. In order: no such
 * slot, empty, no link, not answering, port unreadable, no VFs configured, no such PF,
 * else the card could not be taken.
 */
void cmc_inventory_why_not_driven(const struct mp_slot *s, const struct cmc_config_slot *cs, bool dead,
				  unsigned slot, unsigned pf, char *err, size_t errlen);

struct cmc_store;
struct cmc_events;
/*
 * Posts a "problem" event and logs each problem of the inventory not reported yet, and
 * remembers it in the store ("problem/BDF/HASH") so that it is reported once, across
 * rescans and restarts; forgets those no longer seen. Returns the store changes made.
 */
int cmc_inventory_report_problems(const struct mp_inventory *inv, struct cmc_store *store,
				  struct cmc_events *events);

#endif
